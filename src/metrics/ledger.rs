//! The order ledger: every order's life, from placed to completed, lost, parked or still
//! moving, and why the lost ones were lost.
//!
//! An order is placed when a client sends a request to the scenario's order entry
//! service; it is *accepted* when that client gets a success in the end and *refused*
//! when it gets an error or gives up (not a loss: the client knows). Each step service
//! that succeeds on the order marks its step done; a step done again is a duplicate side
//! effect unless the step is idempotent: then the repeat carries the order's idempotency
//! key (its id: the client's retries and every job and message of the order carry it)
//! and is deduplicated, with no side effect. This is the one place that tells a repeat
//! from a duplicate, for the synchronous and the asynchronous paths alike.
//!
//! Whatever may still move an order forward *carries* it: a live request, a job in a
//! queue or in a worker's hands, a message not yet committed by a consumer group, an
//! outbox row. The run loop counts carriers up and down; when the last one goes, the
//! ledger remembers why. At the end, an accepted order is exactly one of:
//! `completed` (every step done), `in_flight` (still carried), `in_dlq` (parked in a dead
//! letter queue), `compensated` or `inconsistent` (a saga gave up on it: every done step
//! reversed, or some left done), or `lost` (nowhere any more, with the cause of its last
//! carrier's end). So `accepted = completed + lost + in_dlq + in_flight + compensated +
//! inconsistent` by construction.
//!
//! A step's side effect can also be taken back without anyone asking: a database write
//! acknowledged and then lost (a failover to a follower that never had it). Then the step
//! is no longer done, and if nothing else carries the order it is lost with that cause,
//! whatever its carriers' ends said.
//!
//! Side effects nobody was told about: an order refused (an error, a 429, its client gave
//! up) or still unanswered at the end is not a loss (its client knows it did not go
//! through), but if a step succeeded on it anyway the customer was charged for an order
//! the platform refused or never confirmed: a monolith that crashes between the charge and
//! its answer, a client that times out while the charge completes. Such an order counts
//! once in `side_effects_unacknowledged`, by how its client was answered (`error`,
//! `rejected`, `timeout`, or `unanswered` at the end) and per step done on it. A client
//! retry with the order's idempotency key heals it: the retry is answered, and the step's
//! repeat is deduplicated.
//!
//! Time as users feel it: each order keeps when it was placed and when it was done (its
//! last step done for the first time, or else first parked in a dead letter queue). Order
//! latency is read at the end, by fate, so that it covers exactly the orders counted
//! `completed` (placed to completed) and `in_dlq` (placed to parked), whatever their
//! client was told in between. The time to each step is recorded as the step is first
//! done, whatever the order's fate. Orders placed during the warmup are left out of
//! every latency, as requests are at services.

use super::histogram::LatencyHistogram;
use super::summary::OrdersSummary;
use super::Outcome;
use crate::engine::SimTime;
use std::collections::BTreeMap;

/// No order: a request that carries none.
pub const NO_ORDER: u32 = u32::MAX;

/// Index into the ledger's cause names. Causes are interned per service (about ten each),
/// so 16 bits would wrap at some 6,500 services and name the wrong cause.
pub type Cause = u32;

/// No cause.
pub const NO_CAUSE: Cause = Cause::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Waiting,
    Accepted,
    /// With what the client saw: `Error`, `Rejected` or `Timeout`.
    Refused(Outcome),
}

#[derive(Debug, Clone, Copy)]
struct Order {
    carriers: u32,
    parked: u32,
    answer: Answer,
    cause: Cause,
    placed_at: SimTime,
    /// Completed, or else first parked; `SimTime::MAX` until either.
    done_at: SimTime,
    /// A saga gave up on the order: its done steps are to be compensated.
    aborted: bool,
    /// Why a done step was taken back (a lost write), or `NO_CAUSE`; wins over `cause`.
    undone_cause: Cause,
    /// Why its state ended wrong though its steps were done (a status update applied
    /// before its create), or `NO_CAUSE`.
    stale: Cause,
}

/// How an order ended up, as the ledger sees it at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// The client has no answer yet.
    Unanswered,
    Refused,
    Completed,
    InFlight,
    InDlq,
    /// A saga gave up on it and every done step was reversed.
    Compensated,
    /// A saga gave up on it and some done step was never reversed.
    Inconsistent,
    Lost,
}

/// The ledger of one run.
#[derive(Debug, Clone)]
pub struct Ledger {
    steps: usize,
    step_names: Vec<String>,
    orders: Vec<Order>,
    /// `orders.len() x steps` counts of each step's side effect.
    done: Vec<u8>,
    /// Per step: repeats an idempotency key deduplicated.
    deduplicated: Vec<u64>,
    causes: Vec<String>,
    /// `causes` by name, for interning in O(log n) (a search was quadratic in services).
    cause_ids: std::collections::BTreeMap<String, Cause>,
    /// Orders placed before this are left out of latencies.
    warmup: SimTime,
    /// Per step: placed until first done.
    step_latency: Vec<LatencyHistogram>,
    /// `orders.len() x steps`: the step was compensated. Empty until the first
    /// compensation, so runs without sagas keep no second table.
    compensated: Vec<bool>,
}

impl Ledger {
    pub fn new(step_names: Vec<String>, warmup: SimTime) -> Self {
        Ledger {
            steps: step_names.len(),
            deduplicated: vec![0; step_names.len()],
            step_latency: vec![LatencyHistogram::default(); step_names.len()],
            step_names,
            orders: Vec::new(),
            done: Vec::new(),
            causes: vec!["unknown".to_string()],
            cause_ids: [("unknown".to_string(), 0)].into(),
            warmup,
            compensated: Vec::new(),
        }
    }

    /// The id of a cause named `name` (interned: call at set-up, not per event).
    pub fn cause(&mut self, name: &str) -> Cause {
        if let Some(&c) = self.cause_ids.get(name) {
            return c;
        }
        let c = Cause::try_from(self.causes.len()).expect("fewer than 4 billion causes");
        self.causes.push(name.to_string());
        self.cause_ids.insert(name.to_string(), c);
        c
    }

    pub fn cause_name(&self, c: Cause) -> &str {
        &self.causes[c as usize]
    }

    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// A new order placed at `now`; its client's request carries it from now on (one
    /// carrier, the client still waiting, until [`Ledger::answered`]).
    pub fn place(&mut self, now: SimTime) -> u32 {
        self.orders.push(Order {
            carriers: 0,
            parked: 0,
            answer: Answer::Waiting,
            cause: 0,
            placed_at: now,
            done_at: SimTime::MAX,
            aborted: false,
            undone_cause: NO_CAUSE,
            stale: NO_CAUSE,
        });
        self.done.extend(std::iter::repeat_n(0, self.steps));
        (self.orders.len() - 1) as u32
    }

    /// The order's client has its final answer.
    pub fn answered(&mut self, o: u32, ok: bool) {
        self.answered_as(o, if ok { Outcome::Ok } else { Outcome::Error });
    }

    /// The order's client has its final answer, `seen` as a caller sees an outcome
    /// ([`Outcome::seen_by_caller`]): anything but `Ok` refuses the order.
    pub fn answered_as(&mut self, o: u32, seen: Outcome) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            debug_assert_eq!(order.answer, Answer::Waiting, "an order is answered once");
            order.answer = match seen {
                Outcome::Ok => Answer::Accepted,
                other => Answer::Refused(other.seen_by_caller()),
            };
        }
    }

    /// One more thing carries the order.
    #[inline]
    pub fn carry(&mut self, o: u32) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            order.carriers += 1;
        }
    }

    /// One thing that carried the order no longer does, because of `cause`.
    #[inline]
    pub fn drop_carrier(&mut self, o: u32, cause: Cause) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            debug_assert!(
                order.carriers > 0,
                "order {o} dropped more carriers than it had"
            );
            order.carriers = order.carriers.saturating_sub(1);
            if order.carriers == 0 {
                order.cause = cause;
            }
        }
    }

    /// The order was parked in a dead letter queue at `now` (its carrier is dropped
    /// separately).
    pub fn parked(&mut self, o: u32, now: SimTime) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            order.parked += 1;
            order.done_at = order.done_at.min(now);
        }
    }

    /// Step `step` succeeded on the order at `now`; an `idempotent` step does its side
    /// effect once per order and deduplicates repeats. Returns how long after its placing
    /// that completed the order (its last step done for the first time), if it did.
    #[inline]
    pub fn step_done(
        &mut self,
        o: u32,
        step: usize,
        idempotent: bool,
        now: SimTime,
    ) -> Option<SimTime> {
        if (o as usize) >= self.orders.len() {
            return None;
        }
        let d = &mut self.done[o as usize * self.steps + step];
        if idempotent && *d > 0 {
            self.deduplicated[step] += 1;
            return None;
        }
        *d = d.saturating_add(1);
        if *d != 1 {
            return None;
        }
        let placed_at = self.orders[o as usize].placed_at;
        if placed_at >= self.warmup {
            self.step_latency[step].record(now.since(placed_at).0);
        }
        if !self.complete(o as usize) {
            return None;
        }
        // Completion wins over an earlier parking: the order is done after all.
        self.orders[o as usize].done_at = now;
        Some(now.since(placed_at))
    }

    /// A saga gave up on order `o`: from now on its done steps are to be compensated, and
    /// it ends `compensated` or `inconsistent` rather than `lost`.
    pub fn aborted(&mut self, o: u32) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            order.aborted = true;
        }
    }

    /// A saga gave up on order `o` already.
    pub fn is_aborted(&self, o: u32) -> bool {
        self.orders
            .get(o as usize)
            .is_some_and(|order| order.aborted)
    }

    /// Order `o`'s state ended wrong for `cause` (a status update applied before its
    /// create, so the create overwrote the newer status): once nothing carries it any
    /// more it is `inconsistent` instead of completed.
    pub fn stale(&mut self, o: u32, cause: Cause) {
        if let Some(order) = self.orders.get_mut(o as usize) {
            order.stale = cause;
        }
    }

    /// Step `step`'s compensation succeeded on order `o` (a repeat changes nothing: a
    /// refund is keyed by the order).
    pub fn compensated(&mut self, o: u32, step: usize) {
        if (o as usize) >= self.orders.len() {
            return;
        }
        self.compensated.resize(self.done.len(), false);
        self.compensated[o as usize * self.steps + step] = true;
    }

    /// One side effect of step `step` on order `o` is gone (an acknowledged write lost):
    /// the step counts one execution fewer, and if the order ends up lost, `cause` is why.
    pub fn step_lost(&mut self, o: u32, step: usize, cause: Cause) {
        if (o as usize) >= self.orders.len() {
            return;
        }
        let d = &mut self.done[o as usize * self.steps + step];
        *d = d.saturating_sub(1);
        if *d == 0 {
            self.orders[o as usize].undone_cause = cause;
        }
    }

    /// Times step `step` was done on order `o`.
    pub fn step_count(&self, o: u32, step: usize) -> u8 {
        self.done[o as usize * self.steps + step]
    }

    /// Still carried by something.
    pub fn carriers(&self, o: u32) -> u32 {
        self.orders[o as usize].carriers
    }

    fn complete(&self, o: usize) -> bool {
        self.done[o * self.steps..(o + 1) * self.steps]
            .iter()
            .all(|&d| d > 0)
    }

    /// Every done step of order `o` was compensated.
    fn all_compensated(&self, o: usize) -> bool {
        let range = o * self.steps..(o + 1) * self.steps;
        self.done[range.clone()].iter().enumerate().all(|(k, &d)| {
            d == 0
                || self
                    .compensated
                    .get(range.start + k)
                    .copied()
                    .unwrap_or(false)
        })
    }

    fn duplicated(&self, o: usize) -> bool {
        self.done[o * self.steps..(o + 1) * self.steps]
            .iter()
            .any(|&d| d > 1)
    }

    /// Where order `o` is at the end of the run: exactly one fate.
    pub fn fate(&self, o: u32) -> Fate {
        let order = &self.orders[o as usize];
        match order.answer {
            Answer::Waiting => Fate::Unanswered,
            Answer::Refused(_) => Fate::Refused,
            // An aborted saga is over whatever its steps did afterwards.
            Answer::Accepted if order.aborted && order.carriers > 0 => Fate::InFlight,
            Answer::Accepted if order.aborted && self.all_compensated(o as usize) => {
                Fate::Compensated
            }
            Answer::Accepted if order.aborted => Fate::Inconsistent,
            Answer::Accepted if order.stale != NO_CAUSE && order.carriers == 0 => {
                Fate::Inconsistent
            }
            Answer::Accepted if self.complete(o as usize) => Fate::Completed,
            Answer::Accepted if order.carriers > 0 => Fate::InFlight,
            Answer::Accepted if order.parked > 0 => Fate::InDlq,
            Answer::Accepted => Fate::Lost,
        }
    }

    /// For a refused or unanswered order on which some step was done anyway, how its
    /// client was answered (`error`, `rejected`, `timeout`, `unanswered`); else `None`.
    pub fn unacknowledged(&self, o: u32) -> Option<&'static str> {
        let any_done = self.done[o as usize * self.steps..(o as usize + 1) * self.steps]
            .iter()
            .any(|&d| d > 0);
        match self.orders[o as usize].answer {
            _ if !any_done => None,
            Answer::Accepted => None,
            Answer::Waiting => Some("unanswered"),
            Answer::Refused(Outcome::Rejected) => Some("rejected"),
            Answer::Refused(Outcome::Timeout) => Some("timeout"),
            Answer::Refused(_) => Some("error"),
        }
    }

    /// The cause recorded for a lost order.
    pub fn lost_cause(&self, o: u32) -> &str {
        let order = &self.orders[o as usize];
        if order.undone_cause != NO_CAUSE {
            return self.cause_name(order.undone_cause);
        }
        self.cause_name(order.cause)
    }

    pub fn summary(&self) -> OrdersSummary {
        let mut s = OrdersSummary {
            placed: self.orders.len() as u64,
            ..OrdersSummary::default()
        };
        let mut causes: BTreeMap<String, u64> = BTreeMap::new();
        let mut steps: Vec<(u64, u64)> = vec![(0, 0); self.steps];
        let mut unacknowledged: Vec<u64> = vec![0; self.steps];
        let (mut completed, mut parked) =
            (LatencyHistogram::default(), LatencyHistogram::default());
        for o in 0..self.orders.len() {
            let fate = self.fate(o as u32);
            let order = &self.orders[o];
            if order.placed_at >= self.warmup {
                let took = order.done_at.since(order.placed_at).0;
                match fate {
                    Fate::Completed => completed.record(took),
                    Fate::InDlq => parked.record(took),
                    _ => {}
                }
            }
            match fate {
                Fate::Unanswered => s.unanswered += 1,
                Fate::Refused => s.refused += 1,
                _ => s.accepted += 1,
            }
            match fate {
                Fate::Completed => s.completed += 1,
                Fate::InFlight => s.in_flight += 1,
                Fate::InDlq => s.in_dlq += 1,
                Fate::Compensated => s.compensated += 1,
                Fate::Inconsistent => {
                    s.inconsistent += 1;
                    if order.stale != NO_CAUSE {
                        *s.inconsistent_causes
                            .entry(self.cause_name(order.stale).to_string())
                            .or_default() += 1;
                    }
                }
                Fate::Lost => {
                    s.lost += 1;
                    *causes
                        .entry(self.lost_cause(o as u32).to_string())
                        .or_default() += 1;
                }
                _ => {}
            }
            if let Some(how) = self.unacknowledged(o as u32) {
                s.side_effects_unacknowledged += 1;
                *s.unacknowledged_causes.entry(how.to_string()).or_default() += 1;
                for (k, n) in unacknowledged.iter_mut().enumerate() {
                    *n += (self.done[o * self.steps + k] > 0) as u64;
                }
            }
            if matches!(fate, Fate::Unanswered | Fate::Refused) {
                continue;
            }
            if self.duplicated(o) {
                s.duplicated += 1;
            }
            for (k, st) in steps.iter_mut().enumerate() {
                let d = self.done[o * self.steps + k];
                st.0 += (d > 0) as u64;
                st.1 += (d > 1) as u64;
            }
        }
        debug_assert_eq!(
            s.accepted,
            s.completed + s.lost + s.in_dlq + s.in_flight + s.compensated + s.inconsistent,
            "the ledger equation"
        );
        s.lost_causes = causes;
        s.latency_ms = completed.summary_ms();
        s.dlq_latency_ms = parked.summary_ms();
        s.steps = self
            .step_names
            .iter()
            .zip(steps)
            .zip(&self.deduplicated)
            .zip(&self.step_latency)
            .zip(unacknowledged)
            .map(|((((n, (done, dup)), &dedup), latency), unack)| {
                (
                    n.clone(),
                    super::summary::StepSummary {
                        done,
                        duplicated: dup,
                        deduplicated: dedup,
                        latency_ms: latency.summary_ms(),
                        unacknowledged: unack,
                    },
                )
            })
            .collect();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten thousand services intern some 90,000 causes: each keeps its own id and name.
    #[test]
    fn causes_past_sixteen_bits_keep_their_names() {
        let mut l = Ledger::new(vec![], SimTime::ZERO);
        let ids: Vec<Cause> = (0..90_000).map(|i| l.cause(&format!("s{i}: x"))).collect();
        assert_eq!(ids[89_999], 90_000);
        assert_eq!(l.cause("s70000: x"), ids[70_000]);
        assert_eq!(l.cause_name(ids[70_000]), "s70000: x");
        assert_eq!(l.cause("unknown"), 0);
    }

    #[test]
    fn every_accepted_order_has_one_fate() {
        let mut l = Ledger::new(vec!["pay".into(), "notify".into()], SimTime::ZERO);
        let t0 = SimTime::ZERO;
        let crash = l.cause("crash");
        let a = l.place(t0); // completed, paid twice
        let b = l.place(t0); // lost
        let c = l.place(t0); // in flight
        let d = l.place(t0); // parked
        let e = l.place(t0); // refused
        let f = l.place(t0); // unanswered
        for o in [a, b, c, d, e, f] {
            l.carry(o);
        }
        l.step_done(a, 0, false, t0);
        l.step_done(a, 0, false, t0);
        l.step_done(a, 1, false, t0);
        l.drop_carrier(a, 0);
        l.drop_carrier(b, crash);
        l.parked(d, t0);
        l.drop_carrier(d, 0);
        l.drop_carrier(e, crash);
        for (o, ok) in [(a, true), (b, true), (c, true), (d, true), (e, false)] {
            l.answered(o, ok);
        }
        let s = l.summary();
        assert_eq!(
            (s.placed, s.accepted, s.refused, s.unanswered),
            (6, 4, 1, 1)
        );
        assert_eq!((s.completed, s.lost, s.in_flight, s.in_dlq), (1, 1, 1, 1));
        assert_eq!(s.duplicated, 1);
        assert_eq!(s.lost_causes.get("crash"), Some(&1));
        assert_eq!(s.steps["pay"].duplicated, 1);
        assert_eq!(l.fate(b), Fate::Lost);
    }

    /// An idempotent step done twice on one order did its side effect once: the repeat
    /// is deduplicated, not a duplicate; a non-idempotent one is a duplicate.
    #[test]
    fn an_idempotent_repeat_is_not_a_duplicate() {
        let mut l = Ledger::new(vec!["pay".into(), "notify".into()], SimTime::ZERO);
        let a = l.place(SimTime::ZERO);
        l.carry(a);
        assert!(l.step_done(a, 0, true, SimTime::ZERO).is_none());
        assert!(l.step_done(a, 0, true, SimTime::ZERO).is_none());
        assert!(l.step_done(a, 1, false, SimTime::ZERO).is_some());
        assert!(l.step_done(a, 1, false, SimTime::ZERO).is_none());
        l.drop_carrier(a, 0);
        l.answered(a, true);
        let s = l.summary();
        assert_eq!((s.completed, s.duplicated), (1, 1));
        assert_eq!(
            (s.steps["pay"].duplicated, s.steps["pay"].deduplicated),
            (0, 1)
        );
        assert_eq!(
            (s.steps["notify"].duplicated, s.steps["notify"].deduplicated),
            (1, 0)
        );
    }

    /// Hand-computed: placed at 1 s after a 1 s warmup, paid at 3 s, notified at 6 s
    /// (5 s end to end); one parked 2 s after placing; one placed in the warmup left out.
    #[test]
    fn latency_runs_from_placed_to_done_by_fate() {
        let s = SimTime::from_secs;
        let mut l = Ledger::new(vec!["pay".into(), "notify".into()], s(1));
        let early = l.place(SimTime::ZERO);
        let a = l.place(s(1));
        let d = l.place(s(2));
        for o in [early, a, d] {
            l.carry(o);
            l.answered(o, true);
        }
        assert_eq!(l.step_done(early, 0, false, s(2)), None);
        assert_eq!(l.step_done(early, 1, false, s(2)), Some(s(2)));
        assert_eq!(l.step_done(a, 0, false, s(3)), None);
        assert_eq!(
            l.step_done(a, 0, false, s(4)),
            None,
            "a duplicate does not move the clock"
        );
        assert_eq!(l.step_done(a, 1, false, s(6)), Some(s(5)));
        l.step_done(d, 0, false, s(3));
        l.parked(d, s(4));
        l.parked(d, s(9));
        l.drop_carrier(d, 0);
        let sum = l.summary();
        assert_eq!((sum.latency_ms.mean, sum.latency_ms.max), (5000.0, 5000.0));
        assert_eq!(
            sum.dlq_latency_ms.max, 2000.0,
            "placed at 2 s, first parked at 4 s"
        );
        assert_eq!(
            sum.steps["pay"].latency_ms.mean, 1500.0,
            "2 s and 1 s, first done"
        );
        assert_eq!(sum.steps["notify"].latency_ms.max, 5000.0);
    }

    /// Hand-computed: of five orders, one charged then refused with an error (a crash
    /// after the charge), one charged while its client timed out, one charged and still
    /// waiting at the end, one refused before any charge, and one charged twice by its
    /// retry and accepted. Three side effects nobody acknowledged, once each, however
    /// often the step ran; the accepted one is not among them.
    #[test]
    fn a_side_effect_of_a_refused_or_unanswered_order_counts_once() {
        let mut l = Ledger::new(vec!["pay".into(), "notify".into()], SimTime::ZERO);
        let t0 = SimTime::ZERO;
        let orders: Vec<u32> = (0..5).map(|_| l.place(t0)).collect();
        let [crashed, gave_up, waiting, early, healed] = orders[..] else {
            unreachable!()
        };
        for &o in &orders {
            l.carry(o);
        }
        l.step_done(crashed, 0, false, t0);
        l.step_done(crashed, 0, false, t0);
        l.step_done(gave_up, 0, true, t0);
        l.step_done(waiting, 0, true, t0);
        l.step_done(waiting, 1, true, t0);
        l.step_done(healed, 0, true, t0);
        l.step_done(healed, 0, true, t0);
        l.answered_as(crashed, Outcome::Crashed);
        l.answered_as(gave_up, Outcome::Timeout);
        l.answered_as(early, Outcome::Shed);
        l.answered_as(healed, Outcome::Ok);
        let s = l.summary();
        assert_eq!((s.refused, s.unanswered, s.accepted), (3, 1, 1));
        assert_eq!(s.side_effects_unacknowledged, 3);
        let causes: Vec<(&str, u64)> = s
            .unacknowledged_causes
            .iter()
            .map(|(k, &v)| (k.as_str(), v))
            .collect();
        assert_eq!(causes, [("error", 1), ("timeout", 1), ("unanswered", 1)]);
        assert_eq!(
            (
                s.steps["pay"].unacknowledged,
                s.steps["notify"].unacknowledged
            ),
            (3, 1)
        );
        assert_eq!(l.unacknowledged(early), None, "refused before any charge");
        assert_eq!(
            l.unacknowledged(healed),
            None,
            "accepted: the retry healed it"
        );
        assert_eq!(s.steps["pay"].deduplicated, 1);
    }

    /// A saga's orders, hand-made: one gave up after paying and refunded (compensated),
    /// one gave up with its refund never done (inconsistent), one still compensating (in
    /// flight), one compensated twice (a repeat refund changes nothing).
    #[test]
    fn a_saga_ends_compensated_or_inconsistent() {
        let t0 = SimTime::ZERO;
        let mut l = Ledger::new(vec!["order".into(), "pay".into()], t0);
        let orders: Vec<u32> = (0..4).map(|_| l.place(t0)).collect();
        for &o in &orders {
            l.carry(o);
            l.answered(o, true);
            l.step_done(o, 0, false, t0);
            l.aborted(o);
        }
        l.compensated(orders[0], 0);
        l.compensated(orders[3], 0);
        l.compensated(orders[3], 0);
        for o in [orders[0], orders[1], orders[3]] {
            l.drop_carrier(o, 0);
        }
        let fates: Vec<Fate> = orders.iter().map(|&o| l.fate(o)).collect();
        assert_eq!(
            fates,
            [
                Fate::Compensated,
                Fate::Inconsistent,
                Fate::InFlight,
                Fate::Compensated
            ]
        );
        let s = l.summary();
        assert_eq!(
            (
                s.accepted,
                s.compensated,
                s.inconsistent,
                s.in_flight,
                s.lost
            ),
            (4, 2, 1, 1, 0)
        );
    }

    /// A completed order whose write is lost afterwards is lost with the write's cause,
    /// not its carrier's; written twice and lost once, it stays completed.
    #[test]
    fn a_lost_write_loses_a_completed_order_with_its_cause() {
        let t0 = SimTime::ZERO;
        let mut l = Ledger::new(vec!["db".into()], t0);
        let done = l.cause("done");
        let failover = l.cause("db: failover");
        let (a, b) = (l.place(t0), l.place(t0));
        for o in [a, b] {
            l.carry(o);
            l.answered(o, true);
            l.step_done(o, 0, false, t0);
        }
        l.step_done(b, 0, false, t0);
        l.drop_carrier(a, done);
        l.drop_carrier(b, done);
        l.step_lost(a, 0, failover);
        l.step_lost(b, 0, failover);
        assert_eq!((l.fate(a), l.fate(b)), (Fate::Lost, Fate::Completed));
        let s = l.summary();
        assert_eq!((s.lost, s.completed), (1, 1));
        assert_eq!(s.lost_causes.get("db: failover"), Some(&1));
    }
}
