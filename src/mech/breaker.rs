//! A circuit breaker with the exact semantics of Resilience4j's `CircuitBreaker`
//! (`CircuitBreakerStateMachine`, `CircuitBreakerMetrics`, `FixedSizeSlidingWindowMetrics`,
//! `SlidingTimeWindowMetrics`; see `semantics.md` §1.1), driven by virtual time.
//!
//! The simulator has to reproduce what a real Resilience4j client would do, including its
//! quirks (the lazy OPEN → HALF_OPEN check, the single-precision rate arithmetic, results
//! that arrive after a transition), so nothing here is "improved" on the original.
//!
//! Lifecycle:
//!
//! 1. **CLOSED** (initial state, at time 0): every call is permitted. Each completed call is
//!    classified (failed or not, slow if its duration is *strictly* greater than
//!    `slow_call_duration`) and recorded in the sliding window, then the window is evaluated.
//! 2. **Evaluation**: with `n` calls in the window, nothing happens while `n == 0` or
//!    `n < min_calls` (for a count window `min_calls` is capped at the window size, for a
//!    time window it is not). Otherwise the verdict is ABOVE when
//!    `failed·100/n >= failure_rate` or `slow·100/n >= slow_call_rate`, BELOW otherwise.
//! 3. **CLOSED → OPEN** on an ABOVE verdict, at the time of the result that caused it.
//! 4. **OPEN**: every permission request is rejected (and counted) until a request arrives
//!    *strictly after* `opened_at + wait_open`. There is no timer: the breaker changes state
//!    only when asked. Results of calls admitted earlier are still recorded in the window
//!    the breaker opened with, but never cause a transition.
//! 5. **OPEN → HALF_OPEN** on that first late request, which gets the first trial permit.
//! 6. **HALF_OPEN**: exactly `half_open_calls` permits are handed out, then every request is
//!    rejected until a verdict. Results are recorded in a fresh count window of size
//!    `half_open_calls` with minimum `min(min_calls, half_open_calls)`.
//! 7. **HALF_OPEN → OPEN** on ABOVE (a new open period, waiting `wait_open` again);
//!    **HALF_OPEN → CLOSED** on BELOW, with a new empty sliding window (old failures are
//!    forgotten), and the cycle starts again at 1.
//!
//! Only completed calls count: in-flight calls are invisible to the breaker.
//!
//! Options users set (all off by default, as in Resilience4j):
//!
//! - `automatic_transition` (`automaticTransitionFromOpenToHalfOpenEnabled`): a timer moves
//!   OPEN to HALF_OPEN at exactly `opened_at + wait`, calls or not.
//! - `max_wait_half_open` (`maxWaitDurationInHalfOpenState`, zero = forever): a timer moves
//!   HALF_OPEN back to OPEN when the trial calls have not decided in time.
//! - `open_multiplier` / `open_cap` (`waitIntervalFunctionInOpenState` =
//!   `IntervalFunction.ofExponentialBackoff`): the n-th consecutive open period waits
//!   `wait_open · multiplier^(n-1)`, at most `open_cap`; `n` counts opens since the last
//!   CLOSED (CLOSED → OPEN is attempt 1, each HALF_OPEN → OPEN adds one).
//! - `record` / `ignore` (`recordExceptions` / `ignoreExceptions`): which failed outcomes
//!   count as failures; an ignored outcome records nothing and gives its HALF_OPEN permit
//!   back (`releasePermission`), an outcome neither recorded nor ignored counts as a success.
//!   Ignore is checked first, as in `CircuitBreakerStateMachine.onError`.
//! - [`Breaker::force_open`], [`Breaker::disable`], [`Breaker::reset`]
//!   (`transitionToForcedOpenState`, `transitionToDisabledState`, `reset`) for chaos
//!   experiments: FORCED_OPEN rejects everything, DISABLED permits everything and records
//!   nothing; both stay until reset.
//!
//! Timers are not events: the breaker catches up on them (at their exact due times) whenever
//! it is asked anything at a later or equal instant, so a timer due at `t` fires before a
//! call at `t`. [`Breaker::settle`] catches up without a call (e.g. at the end of a run).
//!
//! Nothing is allocated per call: both windows are allocated in [`Breaker::new`] and
//! cleared in place on transitions; only the transition log grows, once per state change.

use crate::engine::SimTime;
use crate::metrics::Outcome;

/// The sliding window the CLOSED state evaluates (`slidingWindowType` + `slidingWindowSize`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakerWindow {
    /// The last N completed calls (`COUNT_BASED`).
    Count(u32),
    /// The calls completed in the last N whole seconds of virtual time (`TIME_BASED`).
    Time(u32 /* seconds */),
}

/// Breaker settings, named after their Resilience4j counterparts. Rates are in percent.
///
/// Sizes of zero (window, `half_open_calls`) are invalid in Resilience4j and should be
/// rejected by validation; [`Breaker::new`] treats them as 1 so that it can never panic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// `slidingWindowType` and `slidingWindowSize`.
    pub window: BreakerWindow,
    /// `failureRateThreshold`, percent: open when the failure rate is `>=` this.
    pub failure_rate: f64,
    /// `slowCallRateThreshold`, percent: open when the slow-call rate is `>=` this.
    pub slow_call_rate: f64,
    /// `slowCallDurationThreshold`: a call is slow if its duration is strictly greater.
    pub slow_call_duration: SimTime,
    /// `minimumNumberOfCalls` before the window is evaluated at all.
    pub min_calls: u32,
    /// `waitDurationInOpenState`: the first open period (see `open_multiplier`).
    pub wait_open: SimTime,
    /// `permittedNumberOfCallsInHalfOpenState`.
    pub half_open_calls: u32,
    /// `automaticTransitionFromOpenToHalfOpenEnabled`.
    pub automatic_transition: bool,
    /// `maxWaitDurationInHalfOpenState`; zero waits for the trial calls forever.
    pub max_wait_half_open: SimTime,
    /// Exponential `waitIntervalFunctionInOpenState`; 1.0 is the fixed wait.
    pub open_multiplier: f64,
    /// Longest open wait the multiplier can reach (`maxIntervalMillis`; default unbounded).
    pub open_cap: SimTime,
    /// Failed outcomes recorded as failures (`recordExceptions`; default all).
    pub record: FailureKinds,
    /// Failed outcomes ignored altogether (`ignoreExceptions`; default none).
    pub ignore: FailureKinds,
}

/// How a permitted call ended, as the breaker classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Success,
    /// The caller gave up waiting (`TimeoutException`).
    Timeout,
    /// An error answer (5xx, a failed dependency, a crash).
    Error,
    /// Refused: 429 from a rate limiter, 503 from a full queue or bulkhead, a downstream
    /// breaker's fail-fast.
    Rejected,
}

impl From<Outcome> for CallOutcome {
    /// What the caller saw (`Outcome::seen_by_caller`), in the breaker's terms.
    fn from(o: Outcome) -> Self {
        match o.seen_by_caller() {
            Outcome::Ok => CallOutcome::Success,
            Outcome::Timeout => CallOutcome::Timeout,
            Outcome::Rejected | Outcome::Shed => CallOutcome::Rejected,
            Outcome::Error | Outcome::DependencyFailed | Outcome::Crashed => CallOutcome::Error,
        }
    }
}

impl CallOutcome {
    fn bit(self) -> u8 {
        match self {
            CallOutcome::Success => 0,
            CallOutcome::Timeout => 1,
            CallOutcome::Error => 2,
            CallOutcome::Rejected => 4,
        }
    }
}

/// A set of failed [`CallOutcome`]s (a bit set, so the config stays `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureKinds(u8);

impl FailureKinds {
    pub const NONE: FailureKinds = FailureKinds(0);
    pub const ALL: FailureKinds = FailureKinds(1 | 2 | 4);

    pub fn with(self, o: CallOutcome) -> FailureKinds {
        FailureKinds(self.0 | o.bit())
    }

    pub fn contains(self, o: CallOutcome) -> bool {
        self.0 & o.bit() != 0
    }
}

impl Default for BreakerConfig {
    /// Resilience4j's defaults: a 100-call window, 50 % failures or 100 % slow calls (over
    /// 60 s) open the breaker once 100 calls were seen; it waits 60 s, then tries 10 calls.
    fn default() -> Self {
        BreakerConfig {
            window: BreakerWindow::Count(100),
            failure_rate: 50.0,
            slow_call_rate: 100.0,
            slow_call_duration: SimTime::from_secs(60),
            min_calls: 100,
            wait_open: SimTime::from_secs(60),
            half_open_calls: 10,
            automatic_transition: false,
            max_wait_half_open: SimTime::ZERO,
            open_multiplier: 1.0,
            open_cap: SimTime::MAX,
            record: FailureKinds::ALL,
            ignore: FailureKinds::NONE,
        }
    }
}

impl BreakerConfig {
    /// The wait of the `attempt`-th consecutive open period (1-based), as
    /// `IntervalFunction.ofExponentialBackoff(wait_open, multiplier, cap)` computes it; a
    /// multiplier of 1 is the fixed `waitDurationInOpenState` (the cap does not apply).
    pub fn open_wait(&self, attempt: u32) -> SimTime {
        if self.open_multiplier == 1.0 || attempt <= 1 {
            return self.wait_open;
        }
        let grown = self.wait_open.ns() as f64 * self.open_multiplier.powi(attempt as i32 - 1);
        SimTime(grown.min(self.open_cap.ns() as f64) as u64).max(self.wait_open.min(self.open_cap))
    }
}

/// The breaker's state, serialized as Resilience4j spells it (`CLOSED`, `OPEN`, `HALF_OPEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
    /// `transitionToForcedOpenState`: every call rejected until reset.
    ForcedOpen,
    /// `transitionToDisabledState`: every call permitted, nothing recorded, until reset.
    Disabled,
}

/// Integer counts of recorded outcomes. Rates are derived from these only when a window is
/// evaluated, so long runs accumulate no floating-point error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    calls: u64,
    failed: u64,
    slow: u64,
}

impl Tally {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failed += u64::from(failed);
        self.slow += u64::from(slow);
    }

    fn remove(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failed -= other.failed;
        self.slow -= other.slow;
    }
}

/// Outcome bits stored in a count window's ring (one byte per call).
const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// `FixedSizeSlidingWindowMetrics`: a ring of the last `capacity` outcomes plus their running
/// total (subtract on evict).
#[derive(Debug, Clone)]
struct CountWindow {
    outcomes: Vec<u8>,
    /// Slot the next outcome goes into.
    next: usize,
    len: usize,
    total: Tally,
}

impl CountWindow {
    fn new(capacity: usize) -> Self {
        CountWindow {
            outcomes: vec![0; capacity.max(1)],
            next: 0,
            len: 0,
            total: Tally::default(),
        }
    }

    fn clear(&mut self) {
        self.outcomes.fill(0);
        self.next = 0;
        self.len = 0;
        self.total = Tally::default();
    }

    fn record(&mut self, failed: bool, slow: bool) -> Tally {
        let capacity = self.outcomes.len();
        if self.len == capacity {
            let old = self.outcomes[self.next];
            self.total.remove(Tally {
                calls: 1,
                failed: u64::from(old & FAILED != 0),
                slow: u64::from(old & SLOW != 0),
            });
        } else {
            self.len += 1;
        }
        self.outcomes[self.next] =
            (if failed { FAILED } else { 0 }) | (if slow { SLOW } else { 0 });
        self.next = (self.next + 1) % capacity;
        self.total.add(failed, slow);
        self.total
    }
}

/// `SlidingTimeWindowMetrics`: one bucket per whole second of virtual time (epoch second =
/// `now / 1 s`), the head bucket holding the latest second seen. The window moves only when
/// a call is recorded, by whole seconds, resetting the buckets it passes over, so a call
/// recorded in second `s` is counted up to and including second `s + N - 1`.
#[derive(Debug, Clone)]
struct TimeWindow {
    buckets: Vec<Tally>,
    head: usize,
    head_second: u64,
    total: Tally,
}

impl TimeWindow {
    fn new(seconds: usize) -> Self {
        TimeWindow {
            buckets: vec![Tally::default(); seconds.max(1)],
            head: 0,
            head_second: 0,
            total: Tally::default(),
        }
    }

    fn clear(&mut self, now: SimTime) {
        self.buckets.fill(Tally::default());
        self.head = 0;
        self.head_second = now.ns() / SimTime::NS_PER_S;
        self.total = Tally::default();
    }

    fn record(&mut self, now: SimTime, failed: bool, slow: bool) -> Tally {
        let second = now.ns() / SimTime::NS_PER_S;
        // Virtual time never goes back; if a caller ever did, the call would land in the
        // latest bucket rather than corrupt the ring.
        if second > self.head_second {
            let size = self.buckets.len();
            let steps = (second - self.head_second).min(size as u64) as usize;
            for _ in 0..steps {
                self.head = (self.head + 1) % size;
                let expired = std::mem::take(&mut self.buckets[self.head]);
                self.total.remove(expired);
            }
            self.head_second = second;
        }
        self.buckets[self.head].add(failed, slow);
        self.total.add(failed, slow);
        self.total
    }
}

#[derive(Debug, Clone)]
enum SlidingWindow {
    Count(CountWindow),
    Time(TimeWindow),
}

/// A window with its minimum number of calls (`CircuitBreakerMetrics`).
#[derive(Debug, Clone)]
struct Metrics {
    window: SlidingWindow,
    min_calls: u64,
}

impl Metrics {
    fn record(&mut self, now: SimTime, failed: bool, slow: bool) -> Tally {
        match &mut self.window {
            SlidingWindow::Count(w) => w.record(failed, slow),
            SlidingWindow::Time(w) => w.record(now, failed, slow),
        }
    }

    fn clear(&mut self, now: SimTime) {
        match &mut self.window {
            SlidingWindow::Count(w) => w.clear(),
            SlidingWindow::Time(w) => w.clear(now),
        }
    }

    #[cfg(test)]
    fn total(&self) -> Tally {
        match &self.window {
            SlidingWindow::Count(w) => w.total,
            SlidingWindow::Time(w) => w.total,
        }
    }
}

/// What an evaluation of a window concluded (`CircuitBreakerMetrics.Result`, with the two
/// "above" kinds merged: the breaker reacts to both the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    BelowMinimumCalls,
    Below,
    Above,
}

/// Resilience4j computes `count * 100.0f / total` in single precision and compares it with
/// a `float` threshold; doing the same here keeps borderline thresholds (e.g. 100/3 %)
/// deciding exactly as the real breaker does.
fn evaluate(total: Tally, min_calls: u64, failure_rate: f32, slow_call_rate: f32) -> Verdict {
    if total.calls == 0 || total.calls < min_calls {
        return Verdict::BelowMinimumCalls;
    }
    let n = total.calls as f32;
    let failure = total.failed as f32 * 100.0 / n;
    let slow = total.slow as f32 * 100.0 / n;
    if failure >= failure_rate || slow >= slow_call_rate {
        Verdict::Above
    } else {
        Verdict::Below
    }
}

/// States in which every call is rejected: their time is "time open".
fn rejecting(s: BreakerState) -> bool {
    matches!(s, BreakerState::Open | BreakerState::ForcedOpen)
}

/// One Resilience4j circuit breaker in virtual time. See the module documentation for the
/// lifecycle.
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    failure_rate: f32,
    slow_call_rate: f32,
    state: BreakerState,
    /// The CLOSED state's sliding window.
    closed: Metrics,
    /// The HALF_OPEN state's count window of `half_open_calls`.
    half_open: Metrics,
    /// While OPEN: whether late results go to `half_open` (opened from HALF_OPEN) rather
    /// than `closed` (opened from CLOSED). Resilience4j's OPEN state keeps the metrics of
    /// the state it came from.
    open_from_half_open: bool,
    opened_at: SimTime,
    /// The wait of the current open period (`open_wait(open_attempts)`).
    open_wait: SimTime,
    /// Consecutive opens since the last CLOSED (Resilience4j's `attempts`).
    open_attempts: u32,
    half_opened_at: SimTime,
    permits_left: u32,
    transitions: Vec<(SimTime, BreakerState)>,
    /// Sum of the open periods that have ended.
    finished_open: SimTime,
    rejected: u64,
}

impl Breaker {
    /// Builds a CLOSED breaker and allocates both windows up front.
    pub fn new(config: BreakerConfig) -> Self {
        let half_open_calls = config.half_open_calls.max(1);
        let closed = match config.window {
            BreakerWindow::Count(n) => {
                let n = n.max(1);
                Metrics {
                    window: SlidingWindow::Count(CountWindow::new(n as usize)),
                    min_calls: u64::from(config.min_calls.min(n)),
                }
            }
            BreakerWindow::Time(seconds) => Metrics {
                window: SlidingWindow::Time(TimeWindow::new(seconds.max(1) as usize)),
                min_calls: u64::from(config.min_calls),
            },
        };
        let half_open = Metrics {
            window: SlidingWindow::Count(CountWindow::new(half_open_calls as usize)),
            min_calls: u64::from(config.min_calls.min(half_open_calls)),
        };
        Breaker {
            config: BreakerConfig {
                half_open_calls,
                ..config
            },
            failure_rate: config.failure_rate as f32,
            slow_call_rate: config.slow_call_rate as f32,
            state: BreakerState::Closed,
            closed,
            half_open,
            open_from_half_open: false,
            opened_at: SimTime::ZERO,
            open_wait: config.wait_open,
            open_attempts: 0,
            half_opened_at: SimTime::ZERO,
            permits_left: 0,
            transitions: Vec::with_capacity(16),
            finished_open: SimTime::ZERO,
            rejected: 0,
        }
    }

    /// Asks to make a call at `now`; false = rejected (fail fast, counted in `rejected()`).
    ///
    /// This is also where OPEN turns into HALF_OPEN: Resilience4j (without the automatic
    /// transition timer) checks the wait only when a call asks, and only strictly after it.
    pub fn try_acquire(&mut self, now: SimTime) -> bool {
        self.settle(now);
        let permitted = match self.state {
            BreakerState::Closed | BreakerState::Disabled => true,
            BreakerState::ForcedOpen => false,
            BreakerState::Open => {
                if now > self.opened_at.after(self.open_wait) {
                    self.enter(now, BreakerState::HalfOpen);
                    self.take_trial_permit()
                } else {
                    false
                }
            }
            BreakerState::HalfOpen => self.take_trial_permit(),
        };
        if !permitted {
            self.rejected += 1;
        }
        permitted
    }

    /// A permitted call completed at `now` after `duration`; `failed` = error/timeout/rejection downstream.
    ///
    /// The result goes to the current state's window whatever state admitted the call, as
    /// in Resilience4j: a call admitted while CLOSED that completes during HALF_OPEN counts
    /// as a trial result.
    pub fn on_result(&mut self, now: SimTime, failed: bool, duration: SimTime) {
        self.settle(now);
        let slow = duration > self.config.slow_call_duration;
        match self.state {
            BreakerState::Disabled | BreakerState::ForcedOpen => {}
            BreakerState::Closed => {
                let total = self.closed.record(now, failed, slow);
                if self.verdict(total, self.closed.min_calls) == Verdict::Above {
                    self.open_from_half_open = false;
                    self.enter(now, BreakerState::Open);
                }
            }
            BreakerState::HalfOpen => {
                let total = self.half_open.record(now, failed, slow);
                match self.verdict(total, self.half_open.min_calls) {
                    Verdict::Above => {
                        self.open_from_half_open = true;
                        self.enter(now, BreakerState::Open);
                    }
                    Verdict::Below => {
                        self.closed.clear(now);
                        self.enter(now, BreakerState::Closed);
                    }
                    Verdict::BelowMinimumCalls => {}
                }
            }
            BreakerState::Open => {
                // Recorded, never evaluated: an OPEN breaker leaves only by waiting.
                if self.open_from_half_open {
                    self.half_open.record(now, failed, slow);
                } else {
                    self.closed.record(now, failed, slow);
                }
            }
        }
    }

    /// A permitted call ended with `outcome`: classified by `ignore` and `record`, then
    /// recorded like [`Breaker::on_result`], or, if ignored, its permit given back.
    pub fn on_outcome(&mut self, now: SimTime, outcome: CallOutcome, duration: SimTime) {
        if outcome != CallOutcome::Success && self.config.ignore.contains(outcome) {
            self.settle(now);
            if self.state == BreakerState::HalfOpen {
                self.permits_left += 1;
            }
            return;
        }
        self.on_result(now, self.config.record.contains(outcome), duration);
    }

    /// Fires the timers (automatic OPEN → HALF_OPEN, HALF_OPEN max wait) due at or before
    /// `now`, each at its own due time.
    pub fn settle(&mut self, now: SimTime) {
        loop {
            match self.state {
                BreakerState::Open if self.config.automatic_transition => {
                    let due = self.opened_at.after(self.open_wait);
                    if due > now {
                        return;
                    }
                    self.enter(due, BreakerState::HalfOpen);
                }
                BreakerState::HalfOpen if self.config.max_wait_half_open > SimTime::ZERO => {
                    let due = self.half_opened_at.after(self.config.max_wait_half_open);
                    if due > now {
                        return;
                    }
                    self.open_from_half_open = true;
                    self.enter(due, BreakerState::Open);
                }
                _ => return,
            }
        }
    }

    /// `transitionToForcedOpenState` at `now`: rejects every call until [`Breaker::reset`].
    pub fn force_open(&mut self, now: SimTime) {
        self.settle(now);
        if self.state != BreakerState::ForcedOpen {
            self.enter(now, BreakerState::ForcedOpen);
        }
    }

    /// `transitionToDisabledState` at `now`: permits every call and records nothing until
    /// [`Breaker::reset`].
    pub fn disable(&mut self, now: SimTime) {
        self.settle(now);
        if self.state != BreakerState::Disabled {
            self.enter(now, BreakerState::Disabled);
        }
    }

    /// `reset` at `now`: CLOSED with an empty window, as at the start.
    pub fn reset(&mut self, now: SimTime) {
        self.settle(now);
        self.closed.clear(now);
        self.enter(now, BreakerState::Closed);
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Every state change with its time, in order (starts empty; the initial state is Closed at 0).
    pub fn transitions(&self) -> &[(SimTime, BreakerState)] {
        &self.transitions
    }

    /// Total time spent OPEN or FORCED_OPEN up to `end` (HALF_OPEN not included). Timers
    /// due before `end` count only once [`Breaker::settle`] has fired them.
    ///
    /// O(1) for an `end` at or after the last transition (the usual end-of-run question);
    /// an earlier `end` replays the transition log.
    pub fn time_open(&self, end: SimTime) -> SimTime {
        match self.transitions.last() {
            None => SimTime::ZERO,
            Some(&(last, _)) if end >= last => {
                let current = if rejecting(self.state) {
                    end.since(self.opened_at)
                } else {
                    SimTime::ZERO
                };
                self.finished_open.after(current)
            }
            Some(_) => {
                let mut sum = SimTime::ZERO;
                for (i, &(start, state)) in self.transitions.iter().enumerate() {
                    if start >= end {
                        break;
                    }
                    if rejecting(state) {
                        let stop = self
                            .transitions
                            .get(i + 1)
                            .map_or(end, |&(t, _)| t.min(end));
                        sum = sum.after(stop.since(start));
                    }
                }
                sum
            }
        }
    }

    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    fn verdict(&self, total: Tally, min_calls: u64) -> Verdict {
        evaluate(total, min_calls, self.failure_rate, self.slow_call_rate)
    }

    fn take_trial_permit(&mut self) -> bool {
        if self.permits_left > 0 {
            self.permits_left -= 1;
            true
        } else {
            false
        }
    }

    /// Moves to `to` at `now`, keeping the open-time bookkeeping and setting up the state
    /// being entered (fresh trial permits and window for HALF_OPEN).
    fn enter(&mut self, now: SimTime, to: BreakerState) {
        if rejecting(self.state) {
            self.finished_open = self.finished_open.after(now.since(self.opened_at));
        }
        match to {
            BreakerState::Open => {
                self.opened_at = now;
                self.open_attempts = self.open_attempts.saturating_add(1);
                self.open_wait = self.config.open_wait(self.open_attempts);
            }
            BreakerState::ForcedOpen => self.opened_at = now,
            BreakerState::HalfOpen => {
                self.half_opened_at = now;
                self.permits_left = self.config.half_open_calls;
                self.half_open.clear(now);
            }
            BreakerState::Closed | BreakerState::Disabled => self.open_attempts = 0,
        }
        self.state = to;
        self.transitions.push((now, to));
    }

    /// The counts in the window results currently go to (test inspection only).
    #[cfg(test)]
    fn window_tally(&self) -> Tally {
        let half = match self.state {
            BreakerState::Closed | BreakerState::ForcedOpen | BreakerState::Disabled => false,
            BreakerState::HalfOpen => true,
            BreakerState::Open => self.open_from_half_open,
        };
        if half {
            self.half_open.total()
        } else {
            self.closed.total()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use BreakerState::{Closed, Disabled, ForcedOpen, HalfOpen, Open};

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    fn fast() -> SimTime {
        t(10)
    }

    fn config(window: BreakerWindow, min_calls: u32) -> BreakerConfig {
        BreakerConfig {
            window,
            min_calls,
            ..BreakerConfig::default()
        }
    }

    /// Admits and completes one call at `now` (duration `fast()`).
    fn call(b: &mut Breaker, now: SimTime, failed: bool) {
        assert!(b.try_acquire(now), "call at {now} was rejected");
        b.on_result(now, failed, fast());
    }

    /// Opens a Count(n) breaker with n failures ending at `now`.
    fn opened(cfg: BreakerConfig, now: SimTime) -> Breaker {
        let mut b = Breaker::new(cfg);
        let BreakerWindow::Count(n) = cfg.window else {
            panic!("count windows only")
        };
        for _ in 0..n.min(cfg.min_calls).max(1) {
            call(&mut b, now, true);
        }
        assert_eq!(b.state(), Open);
        b
    }

    #[test]
    fn defaults_are_resilience4j_defaults() {
        let c = BreakerConfig::default();
        assert_eq!(c.window, BreakerWindow::Count(100));
        assert_eq!(c.failure_rate, 50.0);
        assert_eq!(c.slow_call_rate, 100.0);
        assert_eq!(c.slow_call_duration, SimTime::from_secs(60));
        assert_eq!(c.min_calls, 100);
        assert_eq!(c.wait_open, SimTime::from_secs(60));
        assert_eq!(c.half_open_calls, 10);
        let b = Breaker::new(c);
        assert_eq!(b.state(), Closed);
        assert!(b.transitions().is_empty());
        assert_eq!(b.rejected(), 0);
        assert_eq!(b.time_open(SimTime::from_secs(100)), SimTime::ZERO);
    }

    #[test]
    fn states_serialize_as_resilience4j_spells_them() {
        let json = serde_json::to_string(&[Closed, Open, HalfOpen]).unwrap();
        assert_eq!(json, r#"["CLOSED","OPEN","HALF_OPEN"]"#);
    }

    #[test]
    fn default_breaker_cannot_open_before_100_calls() {
        let mut b = Breaker::new(BreakerConfig::default());
        for i in 0..99 {
            call(&mut b, t(i), true);
        }
        assert_eq!(b.state(), Closed);
        call(&mut b, t(99), true);
        assert_eq!(b.transitions(), &[(t(99), Open)]);
    }

    #[test]
    fn opens_on_exactly_the_result_that_reaches_the_threshold() {
        // Count(10), 50 %, min 10: five failures then four successes is 9 calls, below the
        // minimum; the 10th result (a success) makes 5/10 = 50 % >= 50 %: open, right then.
        let mut b = Breaker::new(config(BreakerWindow::Count(10), 10));
        for i in 0..5 {
            call(&mut b, t(i), true);
        }
        for i in 5..9 {
            call(&mut b, t(i), false);
            assert_eq!(b.state(), Closed, "opened early at call {}", i + 1);
        }
        call(&mut b, t(9), false);
        assert_eq!(b.state(), Open);
        assert_eq!(b.transitions(), &[(t(9), Open)]);
    }

    #[test]
    fn four_failures_in_ten_stay_closed_until_the_ring_slides() {
        // 4/10 = 40 % < 50 %: closed. The ring then keeps the last 10 outcomes only.
        let mut b = Breaker::new(config(BreakerWindow::Count(10), 10));
        let first = [
            true, false, false, false, false, false, true, true, true, false,
        ];
        for (i, &f) in first.iter().enumerate() {
            call(&mut b, t(i as u64), f);
        }
        assert_eq!(b.state(), Closed);
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 10,
                failed: 4,
                slow: 0
            }
        );
        // An 11th failure evicts the 1st outcome, a failure: still 4/10.
        call(&mut b, t(10), true);
        assert_eq!(b.state(), Closed);
        assert_eq!(b.window_tally().failed, 4);
        // A 12th failure evicts the 2nd outcome, a success: 5/10, open.
        call(&mut b, t(11), true);
        assert_eq!(b.transitions(), &[(t(11), Open)]);
    }

    #[test]
    fn never_opens_below_the_minimum_number_of_calls() {
        let mut b = Breaker::new(config(BreakerWindow::Count(10), 10));
        for i in 0..9 {
            call(&mut b, t(i), true);
        }
        assert_eq!(b.state(), Closed);
        assert!(b.transitions().is_empty());

        // Time window: 9 failures per second forever, min 10, window of 1 s: never 10 calls.
        let mut b = Breaker::new(config(BreakerWindow::Time(1), 10));
        for s in 0..20 {
            for i in 0..9 {
                call(&mut b, SimTime::from_secs(s).after(t(i)), true);
            }
        }
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn count_window_caps_the_minimum_at_its_size() {
        // min_calls 100 with a window of 5: the effective minimum is 5.
        let mut b = Breaker::new(config(BreakerWindow::Count(5), 100));
        for i in 0..4 {
            call(&mut b, t(i), true);
        }
        assert_eq!(b.state(), Closed);
        call(&mut b, t(4), true);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn time_window_does_not_cap_the_minimum() {
        // Time(2) with min 5: a capped minimum would be 2; the real one is 5.
        let mut b = Breaker::new(config(BreakerWindow::Time(2), 5));
        for i in 0..4 {
            call(&mut b, t(i), true);
            assert_eq!(b.state(), Closed);
        }
        call(&mut b, t(4), true);
        assert_eq!(b.transitions(), &[(t(4), Open)]);
    }

    #[test]
    fn open_rejects_until_strictly_after_the_wait() {
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(60),
            half_open_calls: 3,
            ..config(BreakerWindow::Count(4), 4)
        };
        let t0 = SimTime::from_secs(5);
        let mut b = opened(cfg, t0);
        let ready = t0.after(SimTime::from_secs(60));
        assert!(!b.try_acquire(t0));
        assert!(!b.try_acquire(SimTime(ready.ns() - 1)));
        assert!(
            !b.try_acquire(ready),
            "exactly opened_at + wait is still OPEN"
        );
        assert_eq!(b.state(), Open);
        assert_eq!(b.rejected(), 3);
        let later = SimTime(ready.ns() + 1);
        assert!(
            b.try_acquire(later),
            "one nanosecond later: first trial call"
        );
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.transitions(), &[(t0, Open), (later, HalfOpen)]);
        assert_eq!(b.rejected(), 3);
    }

    #[test]
    fn half_open_admits_exactly_the_permitted_calls() {
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(1),
            half_open_calls: 3,
            ..config(BreakerWindow::Count(4), 4)
        };
        let mut b = opened(cfg, SimTime::ZERO);
        let now = SimTime::from_secs(2);
        assert!(b.try_acquire(now));
        assert!(b.try_acquire(now));
        assert!(b.try_acquire(now));
        assert!(!b.try_acquire(now), "a 4th trial call is rejected");
        assert!(
            !b.try_acquire(SimTime::from_secs(500)),
            "no timer frees permits"
        );
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.rejected(), 2);
        // Two of three trial results are not a verdict (min = min(4, 3) = 3).
        b.on_result(now, false, fast());
        b.on_result(now, false, fast());
        assert_eq!(b.state(), HalfOpen);
        assert!(!b.try_acquire(now));
        b.on_result(now, true, fast());
        // 1/3 = 33 % < 50 %: closed.
        assert_eq!(b.state(), Closed);
        assert!(b.try_acquire(now));
    }

    #[test]
    fn half_open_success_closes_with_a_fresh_window() {
        // Count(4), min 4, 50 %. Opened by 4 failures; 2 trial successes close it.
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(1),
            half_open_calls: 2,
            ..config(BreakerWindow::Count(4), 4)
        };
        let mut b = opened(cfg, SimTime::ZERO);
        let t1 = SimTime::from_secs(2);
        call(&mut b, t1, false);
        assert_eq!(b.state(), HalfOpen);
        call(&mut b, t1, false);
        assert_eq!(b.state(), Closed);
        assert_eq!(
            b.transitions(),
            &[(SimTime::ZERO, Open), (t1, HalfOpen), (t1, Closed)]
        );
        assert_eq!(b.window_tally(), Tally::default());
        // Old failures are forgotten: one failure now is 1 call, below the minimum (with
        // the old ring it would have been 4/4 failures).
        call(&mut b, t1, true);
        call(&mut b, t1, false);
        call(&mut b, t1, false);
        assert_eq!(b.state(), Closed);
        call(&mut b, t1, false);
        // 1/4 = 25 %.
        assert_eq!(b.state(), Closed);
        assert_eq!(b.transitions().len(), 3);
    }

    #[test]
    fn half_open_verdict_comes_after_min_calls_when_fewer_than_permits() {
        // half_open_calls 5, min_calls 2: the verdict comes after 2 trial results.
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(1),
            half_open_calls: 5,
            min_calls: 2,
            ..config(BreakerWindow::Count(2), 2)
        };
        let mut b = opened(cfg, SimTime::ZERO);
        let now = SimTime::from_secs(3);
        for _ in 0..5 {
            assert!(b.try_acquire(now));
        }
        b.on_result(now, true, fast());
        assert_eq!(b.state(), HalfOpen);
        b.on_result(now, false, fast());
        // 1/2 = 50 % >= 50 %: open again.
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn half_open_failure_reopens_for_a_second_wait() {
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(10),
            half_open_calls: 2,
            ..config(BreakerWindow::Count(4), 4)
        };
        let mut b = opened(cfg, SimTime::ZERO);
        let t1 = SimTime::from_secs(11);
        call(&mut b, t1, true);
        let t2 = SimTime::from_secs(12);
        call(&mut b, t2, false);
        // 1/2 = 50 %: open again at t2, waiting from t2.
        assert_eq!(b.state(), Open);
        assert_eq!(
            b.transitions(),
            &[(SimTime::ZERO, Open), (t1, HalfOpen), (t2, Open)]
        );
        assert!(!b.try_acquire(SimTime::from_secs(21)));
        assert!(!b.try_acquire(SimTime::from_secs(22)));
        assert!(b.try_acquire(SimTime(SimTime::from_secs(22).ns() + 1)));
        assert_eq!(b.state(), HalfOpen);
        // Open 0..11 s, then 12 s..22 s + 1 ns.
        assert_eq!(
            b.time_open(SimTime::from_secs(30)),
            SimTime(SimTime::from_secs(21).ns() + 1)
        );
    }

    #[test]
    fn slow_means_strictly_longer_than_the_threshold() {
        // Only the slow-call rate can open this breaker: failures never happen.
        let cfg = BreakerConfig {
            slow_call_rate: 50.0,
            slow_call_duration: SimTime::from_secs(1),
            ..config(BreakerWindow::Count(4), 4)
        };
        let exactly = SimTime::from_secs(1);
        let over = SimTime(exactly.ns() + 1);

        let mut b = Breaker::new(cfg);
        for i in 0..8 {
            assert!(b.try_acquire(t(i)));
            b.on_result(t(i), false, exactly);
        }
        assert_eq!(
            b.state(),
            Closed,
            "a duration equal to the threshold is not slow"
        );
        assert_eq!(b.window_tally().slow, 0);

        let mut b = Breaker::new(cfg);
        for (i, d) in [over, exactly, exactly].into_iter().enumerate() {
            assert!(b.try_acquire(t(i as u64)));
            b.on_result(t(i as u64), false, d);
        }
        assert_eq!(b.state(), Closed);
        assert!(b.try_acquire(t(3)));
        b.on_result(t(3), false, over);
        // 2/4 slow = 50 % >= 50 %.
        assert_eq!(b.transitions(), &[(t(3), Open)]);
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 4,
                failed: 0,
                slow: 2
            }
        );
    }

    #[test]
    fn slow_failures_count_as_both_failed_and_slow() {
        let cfg = BreakerConfig {
            failure_rate: 100.0,
            slow_call_rate: 100.0,
            slow_call_duration: t(100),
            ..config(BreakerWindow::Count(2), 2)
        };
        let mut b = Breaker::new(cfg);
        assert!(b.try_acquire(t(0)));
        b.on_result(t(0), true, t(101));
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 1,
                failed: 1,
                slow: 1
            }
        );
        assert!(b.try_acquire(t(1)));
        b.on_result(t(1), false, t(101));
        // failures 50 % < 100 %, slow 100 % >= 100 %.
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn time_window_forgets_whole_seconds() {
        // Time(3), min 3, 50 %. Failures at 0.1 s and 0.9 s (both second 0).
        let cfg = config(BreakerWindow::Time(3), 3);
        let start = |b: &mut Breaker| {
            call(b, t(100), true);
            call(b, t(900), true);
        };
        // A success in second 2 still sees second 0: 2/3 failed, open.
        let mut b = Breaker::new(cfg);
        start(&mut b);
        let last_ns = SimTime(3 * SimTime::NS_PER_S - 1);
        call(&mut b, last_ns, false);
        assert_eq!(b.transitions(), &[(last_ns, Open)]);
        // A success at 3.0 s: the window covers seconds 1..=3, both failures are gone
        // (the one at 0.9 s only 2.1 s ago: buckets are whole seconds), 1 call < 3.
        let mut b = Breaker::new(cfg);
        start(&mut b);
        call(&mut b, t(3000), false);
        assert_eq!(b.state(), Closed);
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 1,
                failed: 0,
                slow: 0
            }
        );
        // Two more failures in second 4: window 2..=4 holds 3 calls, 2 failed: open.
        call(&mut b, t(4000), true);
        assert_eq!(b.state(), Closed);
        call(&mut b, t(4999), true);
        assert_eq!(b.transitions(), &[(t(4999), Open)]);
    }

    #[test]
    fn time_window_long_gap_resets_everything() {
        let cfg = config(BreakerWindow::Time(5), 4);
        let mut b = Breaker::new(cfg);
        for i in 0..3 {
            call(&mut b, SimTime::from_secs(i), true);
        }
        assert_eq!(b.window_tally().calls, 3);
        call(&mut b, SimTime::from_secs(1_000), false);
        assert_eq!(b.window_tally().calls, 1);
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn time_open_sums_open_periods_and_counts_one_still_open() {
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(10),
            half_open_calls: 1,
            ..config(BreakerWindow::Count(1), 1)
        };
        let s = SimTime::from_secs;
        let mut b = Breaker::new(cfg);
        call(&mut b, s(5), true); // OPEN at 5
        assert!(b.try_acquire(s(20))); // HALF_OPEN at 20 (open 15 s)
        b.on_result(s(21), true, fast()); // OPEN at 21
        assert!(b.try_acquire(s(40))); // HALF_OPEN at 40 (open 19 s)
        b.on_result(s(41), false, fast()); // CLOSED at 41
        call(&mut b, s(50), true); // OPEN at 50, still open
        assert_eq!(
            b.transitions(),
            &[
                (s(5), Open),
                (s(20), HalfOpen),
                (s(21), Open),
                (s(40), HalfOpen),
                (s(41), Closed),
                (s(50), Open),
            ]
        );
        assert_eq!(b.time_open(s(100)), s(15 + 19 + 50));
        assert_eq!(b.time_open(s(50)), s(34));
        // Earlier ends replay the log.
        assert_eq!(b.time_open(s(0)), SimTime::ZERO);
        assert_eq!(b.time_open(s(5)), SimTime::ZERO);
        assert_eq!(b.time_open(s(12)), s(7));
        assert_eq!(b.time_open(s(20)), s(15));
        assert_eq!(b.time_open(s(30)), s(24));
        assert_eq!(b.time_open(s(45)), s(34));
    }

    #[test]
    fn results_while_open_are_recorded_without_transition() {
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(10),
            ..config(BreakerWindow::Count(4), 4)
        };
        let mut b = Breaker::new(cfg);
        // Six calls in flight while CLOSED.
        for _ in 0..6 {
            assert!(b.try_acquire(t(0)));
        }
        for f in [true, true, false, false] {
            b.on_result(t(1), f, fast());
        }
        assert_eq!(b.state(), Open);
        // The last two complete while OPEN: recorded (the ring slides to S,S,F,F), and no
        // transition although the window is still at 50 %.
        b.on_result(t(2), true, fast());
        b.on_result(t(3), true, fast());
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 4,
                failed: 2,
                slow: 0
            }
        );
        assert_eq!(b.transitions(), &[(t(1), Open)]);

        // Same after a failed trial: late trial results land in the half-open window.
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(1),
            half_open_calls: 3,
            min_calls: 1,
            ..config(BreakerWindow::Count(1), 1)
        };
        let mut b = Breaker::new(cfg);
        call(&mut b, t(0), true);
        let now = SimTime::from_secs(2);
        for _ in 0..3 {
            assert!(b.try_acquire(now));
        }
        b.on_result(now, true, fast()); // verdict after min(1, 3) = 1 result: open
        assert_eq!(b.state(), Open);
        b.on_result(now, false, fast());
        b.on_result(now, false, fast());
        assert_eq!(b.state(), Open);
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 3,
                failed: 1,
                slow: 0
            }
        );
        assert_eq!(b.transitions().len(), 3);
    }

    #[test]
    fn late_results_from_closed_calls_count_as_trial_results() {
        // Resilience4j records a result in the current state, whoever admitted the call.
        let cfg = BreakerConfig {
            wait_open: SimTime::from_secs(1),
            half_open_calls: 2,
            ..config(BreakerWindow::Count(2), 2)
        };
        let mut b = Breaker::new(cfg);
        for _ in 0..3 {
            assert!(b.try_acquire(t(0)));
        }
        b.on_result(t(10), true, fast());
        b.on_result(t(10), true, fast());
        assert_eq!(b.state(), Open);
        let now = SimTime::from_secs(2);
        assert!(b.try_acquire(now));
        // The third CLOSED-era call completes now, a success, and is a trial result.
        b.on_result(now, false, fast());
        assert_eq!(b.state(), HalfOpen);
        b.on_result(now, false, fast());
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn rates_use_resilience4j_single_precision() {
        // 1/3 in f32 is 33.333332; the threshold 100/3 (f64) rounds to that same f32, so
        // Resilience4j opens; exact arithmetic would say 33.33.. < 33.333333333333336.
        let cfg = BreakerConfig {
            failure_rate: 100.0 / 3.0,
            ..config(BreakerWindow::Count(3), 3)
        };
        let mut b = Breaker::new(cfg);
        call(&mut b, t(0), true);
        call(&mut b, t(1), false);
        call(&mut b, t(2), false);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn zero_sizes_are_treated_as_one() {
        let cfg = BreakerConfig {
            half_open_calls: 0,
            wait_open: SimTime::ZERO,
            ..config(BreakerWindow::Count(0), 0)
        };
        let mut b = Breaker::new(cfg);
        call(&mut b, t(0), true);
        assert_eq!(b.state(), Open);
        assert!(b.try_acquire(SimTime(t(0).ns() + 1)));
        assert!(!b.try_acquire(SimTime(t(0).ns() + 1)));
        let mut b = Breaker::new(config(BreakerWindow::Time(0), 1));
        call(&mut b, t(0), false);
        assert_eq!(b.state(), Closed);
    }

    // ---- options users set (issue 15, item 4) ----------------------------------------

    /// One-call windows and one trial call, so each result decides (times in ms).
    fn single(wait_ms: u64) -> BreakerConfig {
        BreakerConfig {
            window: BreakerWindow::Count(1),
            min_calls: 1,
            half_open_calls: 1,
            wait_open: t(wait_ms),
            ..BreakerConfig::default()
        }
    }

    /// `automaticTransitionFromOpenToHalfOpenEnabled`: the timer fires at exactly
    /// `opened_at + wait`, so a call at that instant is already a trial call; without it the
    /// breaker is still OPEN then and only a later call moves it.
    #[test]
    fn automatic_transition_half_opens_at_exactly_the_wait() {
        let cfg = BreakerConfig {
            automatic_transition: true,
            ..single(1000)
        };
        let mut b = opened(cfg, t(0));
        b.settle(t(999));
        assert_eq!(b.state(), Open);
        b.settle(t(5000));
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.transitions(), &[(t(0), Open), (t(1000), HalfOpen)]);
        assert_eq!(b.time_open(t(5000)), t(1000));
        assert!(b.try_acquire(t(5000)));

        let mut auto = opened(cfg, t(0));
        assert!(
            auto.try_acquire(t(1000)),
            "timer at 1000 fires before the call"
        );
        let mut lazy = opened(single(1000), t(0));
        lazy.settle(t(5000));
        assert_eq!(lazy.state(), Open, "no timer: nothing moves without a call");
        assert!(!lazy.try_acquire(t(1000)));
        assert_eq!(lazy.time_open(t(5000)), t(5000));
    }

    /// `maxWaitDurationInHalfOpenState`: a trial that has not decided within the max wait
    /// sends the breaker back to OPEN at exactly the expiry, for a fresh wait; its late
    /// result is recorded without a transition.
    #[test]
    fn half_open_max_wait_reopens_when_trials_do_not_decide() {
        let cfg = BreakerConfig {
            max_wait_half_open: t(500),
            ..single(1000)
        };
        let mut b = opened(cfg, t(0));
        assert!(b.try_acquire(t(1001)));
        assert!(!b.try_acquire(t(1500)));
        assert_eq!(b.state(), HalfOpen);
        assert!(!b.try_acquire(t(1501)));
        assert_eq!(b.state(), Open);
        b.on_result(t(1600), false, fast());
        assert_eq!(b.state(), Open);
        assert!(!b.try_acquire(t(2501)), "the new wait runs from 1501");
        assert!(b.try_acquire(SimTime(t(2501).ns() + 1)));
        assert_eq!(
            b.transitions(),
            &[
                (t(0), Open),
                (t(1001), HalfOpen),
                (t(1501), Open),
                (SimTime(t(2501).ns() + 1), HalfOpen)
            ]
        );
        assert_eq!(b.rejected(), 3);
    }

    /// Both timers with no calls at all: OPEN 1 s, HALF_OPEN 0.5 s, over and over; at
    /// 3.2 s the breaker has been open 0-1, 1.5-2.5 and 3.0-3.2 = 2.2 s.
    #[test]
    fn both_timers_cycle_without_calls() {
        let cfg = BreakerConfig {
            automatic_transition: true,
            max_wait_half_open: t(500),
            ..single(1000)
        };
        let mut b = opened(cfg, t(0));
        b.settle(t(3200));
        assert_eq!(
            b.transitions(),
            &[
                (t(0), Open),
                (t(1000), HalfOpen),
                (t(1500), Open),
                (t(2500), HalfOpen),
                (t(3000), Open)
            ]
        );
        assert_eq!(b.time_open(t(3200)), t(2200));
    }

    /// `IntervalFunction.ofExponentialBackoff(1 s, 2.0, 3 s)`: attempt n waits
    /// min(1 s · 2^(n-1), 3 s).
    #[test]
    fn open_wait_grows_exponentially_to_its_cap() {
        let cfg = BreakerConfig {
            open_multiplier: 2.0,
            open_cap: t(3000),
            ..single(1000)
        };
        let waits: Vec<u64> = (1..=5).map(|n| cfg.open_wait(n).ns() / MS).collect();
        assert_eq!(waits, [1000, 2000, 3000, 3000, 3000]);
        assert_eq!(
            single(1000).open_wait(7),
            t(1000),
            "multiplier 1 = fixed wait"
        );
    }

    /// Consecutive opens (CLOSED → OPEN is attempt 1, each failed trial adds one) wait
    /// 1 s, 2 s, 3 s (capped); a successful trial closes and resets the count, so the next
    /// open waits 1 s again.
    #[test]
    fn failed_trials_lengthen_the_open_wait_and_closing_resets_it() {
        let cfg = BreakerConfig {
            automatic_transition: true,
            open_multiplier: 2.0,
            open_cap: t(3000),
            ..single(1000)
        };
        let mut b = opened(cfg, t(0));
        call(&mut b, t(1000), true);
        call(&mut b, t(3000), true);
        assert!(!b.try_acquire(t(5999)));
        call(&mut b, t(6000), false);
        assert_eq!(b.state(), Closed);
        call(&mut b, t(6000), true);
        b.settle(t(7000));
        assert_eq!(
            b.transitions(),
            &[
                (t(0), Open),
                (t(1000), HalfOpen),
                (t(1000), Open),
                (t(3000), HalfOpen),
                (t(3000), Open),
                (t(6000), HalfOpen),
                (t(6000), Closed),
                (t(6000), Open),
                (t(7000), HalfOpen)
            ]
        );
        assert_eq!(b.time_open(t(7000)), t(1000 + 2000 + 3000 + 1000));
    }

    /// `recordExceptions = [Error]`, `ignoreExceptions = [Rejected]`: a timeout is neither,
    /// so it counts as a success; a rejection records nothing. Four recorded calls, two
    /// failed: 50 % opens on the fourth.
    #[test]
    fn record_and_ignore_classify_outcomes() {
        let cfg = BreakerConfig {
            record: FailureKinds::NONE.with(CallOutcome::Error),
            ignore: FailureKinds::NONE.with(CallOutcome::Rejected),
            ..config(BreakerWindow::Count(4), 4)
        };
        let mut b = Breaker::new(cfg);
        let steps = [
            (CallOutcome::Timeout, 1, 0),
            (CallOutcome::Rejected, 1, 0),
            (CallOutcome::Error, 2, 1),
            (CallOutcome::Error, 3, 2),
        ];
        for (i, (o, calls, failed)) in steps.into_iter().enumerate() {
            assert!(b.try_acquire(t(i as u64)));
            b.on_outcome(t(i as u64), o, fast());
            let w = b.window_tally();
            assert_eq!((w.calls, w.failed), (calls, failed), "after {o:?}");
        }
        assert_eq!(b.state(), Closed);
        assert!(b.try_acquire(t(9)));
        b.on_outcome(t(9), CallOutcome::Timeout, fast());
        assert_eq!(b.state(), Open);
        assert_eq!(b.transitions(), &[(t(9), Open)]);
    }

    /// An ignored outcome gives its HALF_OPEN permit back (`releasePermission`).
    #[test]
    fn ignored_trial_result_returns_its_permit() {
        let cfg = BreakerConfig {
            ignore: FailureKinds::NONE.with(CallOutcome::Rejected),
            ..single(1000)
        };
        let mut b = opened(cfg, t(0));
        assert!(b.try_acquire(t(1001)));
        assert!(!b.try_acquire(t(1002)));
        b.on_outcome(t(1003), CallOutcome::Rejected, fast());
        assert_eq!(b.state(), HalfOpen);
        assert!(b.try_acquire(t(1004)));
        b.on_outcome(t(1005), CallOutcome::Success, fast());
        assert_eq!(b.state(), Closed);
    }

    /// By default every failed outcome is a failure, as `on_result(failed = true)`.
    #[test]
    fn default_records_every_failure_and_maps_platsim_outcomes() {
        let c = BreakerConfig::default();
        for o in [
            CallOutcome::Timeout,
            CallOutcome::Error,
            CallOutcome::Rejected,
        ] {
            assert!(c.record.contains(o) && !c.ignore.contains(o));
        }
        assert!(!c.automatic_transition);
        assert_eq!(c.max_wait_half_open, SimTime::ZERO);
        assert_eq!(c.open_multiplier, 1.0);
        let seen: Vec<CallOutcome> = [
            Outcome::Ok,
            Outcome::Error,
            Outcome::DependencyFailed,
            Outcome::Timeout,
            Outcome::Rejected,
            Outcome::Shed,
            Outcome::Crashed,
        ]
        .into_iter()
        .map(CallOutcome::from)
        .collect();
        use CallOutcome::*;
        assert_eq!(
            seen,
            [Success, Error, Error, Timeout, Rejected, Rejected, Error]
        );
    }

    /// `transitionToForcedOpenState` rejects every call, even past any wait and with the
    /// automatic timer; `transitionToDisabledState` permits everything and never opens;
    /// `reset` closes with an empty window.
    #[test]
    fn forced_open_and_disabled_hold_until_reset() {
        let cfg = BreakerConfig {
            automatic_transition: true,
            ..single(1000)
        };
        let mut b = Breaker::new(cfg);
        b.force_open(t(100));
        assert!(!b.try_acquire(t(100)));
        assert!(!b.try_acquire(t(3_600_000)));
        b.on_result(t(3_600_000), false, fast());
        assert_eq!(b.state(), ForcedOpen);
        b.reset(t(3_600_100));
        assert!(b.try_acquire(t(3_600_100)));
        b.disable(t(3_600_200));
        for i in 0..100 {
            call(&mut b, t(3_600_200 + i), true);
        }
        assert_eq!(b.state(), Disabled);
        b.reset(t(3_600_400));
        assert_eq!(b.window_tally(), Tally::default());
        assert_eq!(
            b.transitions(),
            &[
                (t(100), ForcedOpen),
                (t(3_600_100), Closed),
                (t(3_600_200), Disabled),
                (t(3_600_400), Closed)
            ]
        );
        assert_eq!(b.rejected(), 2);
        assert_eq!(b.time_open(t(3_600_400)), t(3_600_000));
        assert_eq!(
            serde_json::to_string(&[ForcedOpen, Disabled]).unwrap(),
            r#"["FORCED_OPEN","DISABLED"]"#
        );
    }

    // ---- Resilience4j's CircuitBreakerStateMachineTest, options cases (issue 15, item 7) --
    //
    // Rebuilt from resilience4j-circuitbreaker's `CircuitBreakerStateMachineTest` (setup:
    // failure and slow-call thresholds 50 %, 4 trial calls, slow above 4 s, a 5 s time
    // window with 5 calls minimum, a 5 s open wait, `NumberFormatException` ignored, which
    // platsim spells as an ignored `Rejected`). Where the original calls
    // `transitionToOpenState()` / `transitionToHalfOpenState()` by hand, these open the
    // breaker with five failures at 0 and let the lazy check half-open it at 5.001 s with
    // the first trial call.

    fn r4j_setup() -> BreakerConfig {
        BreakerConfig {
            window: BreakerWindow::Time(5),
            min_calls: 5,
            failure_rate: 50.0,
            slow_call_rate: 50.0,
            slow_call_duration: SimTime::from_secs(4),
            half_open_calls: 4,
            wait_open: SimTime::from_secs(5),
            ignore: FailureKinds::NONE.with(CallOutcome::Rejected),
            ..BreakerConfig::default()
        }
    }

    /// OPEN at 0 after five failures, then HALF_OPEN at 5.001 s with trial permit 1 taken.
    fn r4j_half_open(cfg: BreakerConfig) -> Breaker {
        let mut b = Breaker::new(cfg);
        for _ in 0..5 {
            call(&mut b, t(0), true);
        }
        assert_eq!(b.state(), Open);
        assert!(b.try_acquire(t(5001)));
        assert_eq!(b.state(), HalfOpen);
        b
    }

    /// `shouldIncreaseCounterOnReleasePermission`: four permits, then rejections; an
    /// ignored result gives one back.
    #[test]
    fn r4j_should_increase_counter_on_release_permission() {
        let mut b = r4j_half_open(r4j_setup());
        let got: Vec<bool> = (0..5).map(|_| b.try_acquire(t(5001))).collect();
        assert_eq!(got, [true, true, true, false, false]);
        b.on_outcome(t(5002), CallOutcome::Rejected, fast());
        assert!(b.try_acquire(t(5003)));
        assert!(!b.try_acquire(t(5003)));
    }

    /// `shouldReleasePermissionWhenExceptionIgnored`: three successes, an ignored error
    /// (nothing recorded, permit back), then a recorded error: 1 failure in 4 = 25 % < 50 %,
    /// so CLOSED with a fresh window.
    #[test]
    fn r4j_should_release_permission_when_exception_ignored() {
        let mut b = r4j_half_open(r4j_setup());
        for (i, o) in [
            CallOutcome::Success,
            CallOutcome::Success,
            CallOutcome::Success,
            CallOutcome::Rejected,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                assert!(b.try_acquire(t(5001)));
            }
            b.on_outcome(t(5002), o, fast());
            assert_eq!(b.state(), HalfOpen);
        }
        assert_eq!(
            b.window_tally(),
            Tally {
                calls: 3,
                failed: 0,
                slow: 0
            }
        );
        assert!(b.try_acquire(t(5003)));
        b.on_outcome(t(5004), CallOutcome::Error, fast());
        assert_eq!(b.state(), Closed);
        assert_eq!(b.window_tally(), Tally::default());
    }

    /// `shouldIgnoreExceptionsAndThenTransitionToClosed`: four ignored results leave the
    /// trial window empty and every permit available; four successes then close it.
    #[test]
    fn r4j_should_ignore_exceptions_and_then_transition_to_closed() {
        let mut b = r4j_half_open(r4j_setup());
        for i in 0..4 {
            if i > 0 {
                assert!(b.try_acquire(t(5001)));
            }
            b.on_outcome(t(5002), CallOutcome::Rejected, fast());
            assert_eq!(b.state(), HalfOpen);
        }
        assert_eq!(b.window_tally(), Tally::default());
        for i in 0..4 {
            assert!(b.try_acquire(t(5003)));
            b.on_outcome(t(5004), CallOutcome::Success, fast());
            assert_eq!(b.state(), if i < 3 { HalfOpen } else { Closed });
        }
    }

    /// `shouldTransitionToHalfOpenAfterWaitInterval`:
    /// `IntervalFunction.ofExponentialBackoff(5000)` (multiplier 1.5): the first open waits
    /// 5 s, the next (after a failed trial) 7.5 s, so 6 s into it the breaker is still OPEN
    /// and 11 s into it HALF_OPEN.
    #[test]
    fn r4j_should_transition_to_half_open_after_wait_interval() {
        let cfg = BreakerConfig {
            window: BreakerWindow::Count(5),
            half_open_calls: 1,
            open_multiplier: 1.5,
            ..r4j_setup()
        };
        let mut b = Breaker::new(cfg);
        for _ in 0..5 {
            call(&mut b, t(0), true);
        }
        assert!(!b.try_acquire(t(0)));
        assert!(!b.try_acquire(t(3000)));
        assert!(b.try_acquire(t(6000)));
        b.on_result(t(6000), true, fast());
        assert_eq!(b.state(), Open);
        assert!(!b.try_acquire(t(12_000)));
        assert!(
            !b.try_acquire(t(13_500)),
            "7.5 s from 6 s: not strictly after yet"
        );
        assert!(b.try_acquire(t(17_000)));
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.rejected(), 4);
    }

    /// `shouldForceOpenCircuitBreaker`: rejected at once and still 6 s later (past the 5 s
    /// wait): two not-permitted calls, no HALF_OPEN.
    #[test]
    fn r4j_should_force_open_circuit_breaker() {
        let mut b = Breaker::new(r4j_setup());
        b.force_open(t(0));
        assert!(!b.try_acquire(t(0)));
        assert!(!b.try_acquire(t(6000)));
        assert_eq!(b.state(), ForcedOpen);
        assert_eq!(b.rejected(), 2);
        assert_eq!(b.transitions(), &[(t(0), ForcedOpen)]);
    }

    /// `shouldDisableCircuitBreaker`: one success and four errors, all permitted, none
    /// recorded.
    #[test]
    fn r4j_should_disable_circuit_breaker() {
        let mut b = Breaker::new(r4j_setup());
        b.disable(t(0));
        call(&mut b, t(0), false);
        for _ in 0..4 {
            call(&mut b, t(0), true);
        }
        assert_eq!(b.state(), Disabled);
        assert_eq!(b.window_tally(), Tally::default());
        assert_eq!(b.rejected(), 0);
    }

    // ---- property tests -------------------------------------------------------------

    /// A deliberately naive re-implementation: every outcome kept in a `Vec` with its
    /// second, windows recomputed by filtering, rates compared in exact integers (the
    /// generated thresholds are whole percents, where f32 and exact arithmetic agree).
    struct Model {
        cfg: BreakerConfig,
        state: BreakerState,
        closed: Vec<(u64, bool, bool)>,
        closed_since_second: u64,
        half: Vec<(bool, bool)>,
        open_from_half: bool,
        opened_at: SimTime,
        permits: u32,
        transitions: Vec<(SimTime, BreakerState)>,
        rejected: u64,
    }

    impl Model {
        fn new(cfg: BreakerConfig) -> Self {
            Model {
                cfg,
                state: Closed,
                closed: Vec::new(),
                closed_since_second: 0,
                half: Vec::new(),
                open_from_half: false,
                opened_at: SimTime::ZERO,
                permits: 0,
                transitions: Vec::new(),
                rejected: 0,
            }
        }

        fn above(&self, outcomes: &[(bool, bool)], min: u64) -> Option<bool> {
            let n = outcomes.len() as u64;
            if n == 0 || n < min {
                return None;
            }
            let failed = outcomes.iter().filter(|o| o.0).count() as u64;
            let slow = outcomes.iter().filter(|o| o.1).count() as u64;
            let f = self.cfg.failure_rate as u64;
            let s = self.cfg.slow_call_rate as u64;
            Some(failed * 100 >= f * n || slow * 100 >= s * n)
        }

        fn closed_window(&self, now_second: u64) -> Vec<(bool, bool)> {
            let current = now_second.max(self.closed_since_second);
            match self.cfg.window {
                BreakerWindow::Count(n) => {
                    let skip = self.closed.len().saturating_sub(n as usize);
                    self.closed[skip..].iter().map(|o| (o.1, o.2)).collect()
                }
                BreakerWindow::Time(n) => self
                    .closed
                    .iter()
                    .filter(|o| o.0 + u64::from(n) > current)
                    .map(|o| (o.1, o.2))
                    .collect(),
            }
        }

        fn half_window(&self) -> Vec<(bool, bool)> {
            let skip = self
                .half
                .len()
                .saturating_sub(self.cfg.half_open_calls as usize);
            self.half[skip..].to_vec()
        }

        fn go(&mut self, now: SimTime, to: BreakerState) {
            self.state = to;
            self.transitions.push((now, to));
        }

        fn try_acquire(&mut self, now: SimTime) -> bool {
            if self.state == Open && now.ns() > self.opened_at.ns() + self.cfg.wait_open.ns() {
                self.go(now, HalfOpen);
                self.permits = self.cfg.half_open_calls;
                self.half.clear();
            }
            let ok = match self.state {
                Closed | BreakerState::Disabled => true,
                Open | BreakerState::ForcedOpen => false,
                HalfOpen => {
                    let ok = self.permits > 0;
                    self.permits = self.permits.saturating_sub(1);
                    ok
                }
            };
            if !ok {
                self.rejected += 1;
            }
            ok
        }

        fn on_result(&mut self, now: SimTime, failed: bool, duration: SimTime) {
            let slow = duration.ns() > self.cfg.slow_call_duration.ns();
            let second = now.ns() / SimTime::NS_PER_S;
            let half_min = u64::from(self.cfg.min_calls.min(self.cfg.half_open_calls));
            match (self.state, self.open_from_half) {
                (Closed, _) | (Open, false) => {
                    self.closed.push((second, failed, slow));
                    if self.state == Closed {
                        let min = match self.cfg.window {
                            BreakerWindow::Count(n) => self.cfg.min_calls.min(n),
                            BreakerWindow::Time(_) => self.cfg.min_calls,
                        };
                        let w = self.closed_window(second);
                        if self.above(&w, u64::from(min)) == Some(true) {
                            self.open_from_half = false;
                            self.opened_at = now;
                            self.go(now, Open);
                        }
                    }
                }
                (BreakerState::ForcedOpen | BreakerState::Disabled, _) => {}
                (HalfOpen, _) | (Open, true) => {
                    self.half.push((failed, slow));
                    if self.state == HalfOpen {
                        match self.above(&self.half_window(), half_min) {
                            Some(true) => {
                                self.open_from_half = true;
                                self.opened_at = now;
                                self.go(now, Open);
                            }
                            Some(false) => {
                                self.closed.clear();
                                self.closed_since_second = second;
                                self.go(now, Closed);
                            }
                            None => {}
                        }
                    }
                }
            }
        }

        fn window(&self) -> Tally {
            let outcomes = match (self.state, self.open_from_half) {
                // The real window moves only when a call is recorded.
                (Closed, _) | (Open, false) => {
                    self.closed_window(self.closed.last().map_or(0, |o| o.0))
                }
                _ => self.half_window(),
            };
            Tally {
                calls: outcomes.len() as u64,
                failed: outcomes.iter().filter(|o| o.0).count() as u64,
                slow: outcomes.iter().filter(|o| o.1).count() as u64,
            }
        }
    }

    /// Sum of open periods up to `end`, computed from the log alone.
    fn open_time_from_log(log: &[(SimTime, BreakerState)], end: SimTime) -> u64 {
        let mut sum = 0;
        for (i, &(start, state)) in log.iter().enumerate() {
            if state != Open || start >= end {
                continue;
            }
            let stop = log.get(i + 1).map_or(end, |&(t, _)| t.min(end));
            sum += stop.ns() - start.ns();
        }
        sum
    }

    fn valid_step(from: BreakerState, to: BreakerState) -> bool {
        matches!(
            (from, to),
            (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Open) | (HalfOpen, Closed)
        )
    }

    fn arb_config() -> impl Strategy<Value = BreakerConfig> {
        (
            prop_oneof![
                (1u32..12).prop_map(BreakerWindow::Count),
                (1u32..6).prop_map(BreakerWindow::Time)
            ],
            prop::sample::select(vec![1.0, 20.0, 50.0, 75.0, 100.0]),
            prop::sample::select(vec![1.0, 50.0, 100.0]),
            0u64..1500,
            1u32..14,
            0u64..4000,
            1u32..5,
        )
            .prop_map(
                |(window, failure_rate, slow_call_rate, slow_ms, min_calls, wait_ms, half)| {
                    BreakerConfig {
                        window,
                        failure_rate,
                        slow_call_rate,
                        slow_call_duration: SimTime(slow_ms * MS),
                        min_calls,
                        wait_open: SimTime(wait_ms * MS),
                        half_open_calls: half,
                        ..BreakerConfig::default()
                    }
                },
            )
    }

    /// (advance in ns, complete instead of acquire, failed, which in-flight call)
    fn arb_ops() -> impl Strategy<Value = Vec<(u64, bool, bool, usize)>> {
        prop::collection::vec(
            (
                prop_oneof![
                    3 => Just(0u64),
                    1 => 1u64..3,
                    6 => (0u64..800).prop_map(|ms| ms * MS),
                    1 => (0u64..5).prop_map(|s| s * SimTime::NS_PER_S),
                ],
                any::<bool>(),
                prop::bool::weighted(0.4),
                any::<usize>(),
            ),
            0..400,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn breaker_matches_model_and_invariants(cfg in arb_config(), ops in arb_ops()) {
            let mut b = Breaker::new(cfg);
            let mut m = Model::new(cfg);
            let mut now = SimTime::ZERO;
            let mut in_flight: Vec<SimTime> = Vec::new();
            let mut rejections = 0u64;
            // (index of the HALF_OPEN transition, permits granted in that period)
            let mut period = (usize::MAX, 0u32);
            for (advance, complete, failed, pick) in ops {
                now = now.after(SimTime(advance));
                if complete && !in_flight.is_empty() {
                    let start = in_flight.swap_remove(pick % in_flight.len());
                    let duration = now.since(start);
                    b.on_result(now, failed, duration);
                    m.on_result(now, failed, duration);
                } else {
                    let before = b.state();
                    let ok = b.try_acquire(now);
                    prop_assert_eq!(ok, m.try_acquire(now));
                    if before == Closed {
                        prop_assert!(ok, "CLOSED never rejects");
                    }
                    if ok {
                        in_flight.push(now);
                        if b.state() == HalfOpen {
                            let key = b.transitions().len();
                            if period.0 != key {
                                period = (key, 0);
                            }
                            period.1 += 1;
                            prop_assert!(period.1 <= cfg.half_open_calls);
                        }
                    } else {
                        rejections += 1;
                    }
                }
                prop_assert_eq!(b.state(), m.state);
                prop_assert_eq!(b.window_tally(), m.window());
                prop_assert_eq!(
                    b.state(),
                    b.transitions().last().map_or(Closed, |&(_, s)| s)
                );
            }
            prop_assert_eq!(b.transitions(), &m.transitions[..]);
            prop_assert_eq!(b.rejected(), rejections);
            prop_assert_eq!(b.rejected(), m.rejected);

            let log = b.transitions();
            let mut prev = Closed;
            let mut prev_t = SimTime::ZERO;
            for &(time, state) in log {
                prop_assert!(valid_step(prev, state), "{:?} -> {:?}", prev, state);
                prop_assert!(time >= prev_t);
                prev = state;
                prev_t = time;
            }
            let end = now.after(SimTime(7));
            prop_assert!(b.time_open(end) <= end);
            prop_assert_eq!(b.time_open(end).ns(), open_time_from_log(log, end));
            // Earlier ends (the replay path) agree with the log too, and never decrease.
            let mut probes: Vec<SimTime> = log
                .iter()
                .flat_map(|&(time, _)| [SimTime(time.ns().saturating_sub(1)), time, time.after(SimTime(1))])
                .collect();
            probes.sort();
            let mut last = SimTime::ZERO;
            for probe in probes {
                let open = b.time_open(probe);
                prop_assert!(open <= probe);
                prop_assert_eq!(open.ns(), open_time_from_log(log, probe));
                prop_assert!(open >= last);
                last = open;
            }
        }
    }
}
