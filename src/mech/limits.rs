//! Admission limits: a token-bucket rate limiter and adaptive concurrency limits.
//!
//! - [`RateLimiter`]: Envoy's token bucket (semantics.md §3.3), in exact integer nanotokens.
//! - [`AimdLimit`], [`Gradient2Limit`]: Netflix concurrency-limits (§3.4). A request is
//!   admitted iff in-flight < [`limit`](ConcurrencyLimit::limit); the owner feeds every
//!   completion back through [`on_sample`](ConcurrencyLimit::on_sample) with its round-trip
//!   time, the in-flight count and whether it was dropped.
//!
//! None of these draw randomness; all of them are deterministic functions of their inputs.

use crate::engine::SimTime;

/// Nanotokens in one token.
const NANO: u64 = 1_000_000_000;

/// Token-bucket rate limiter (Envoy `token_bucket.proto`): the bucket starts full with
/// `burst` tokens and refills continuously at `rate` tokens per second, never above `burst`.
/// A request passes iff at least one whole token is in the bucket, and then spends it.
///
/// Kept in integer nanotokens (10⁻⁹ token) with the rate in nanotokens per second and the
/// sub-nanotoken remainder of every refill carried over, so the refill is exact: over any
/// run the tokens added are `⌊rate × elapsed⌋` no matter how often the bucket is looked at
/// (a full bucket discards its remainder, like any overflow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimiter {
    /// Tokens per second × 10⁹ (nanotokens per second).
    rate_nano: u64,
    /// Bucket size in nanotokens.
    burst_nano: u64,
    /// Tokens in the bucket at `last`, in nanotokens.
    nano: u64,
    /// Refill owed but not yet a whole nanotoken, in units of 10⁻⁹ nanotoken (< 10⁹).
    frac: u64,
    /// When the bucket was last refilled.
    last: SimTime,
}

impl RateLimiter {
    /// A full bucket. `rate_per_s` is rounded to the nearest 10⁻⁹ token per second; a NaN,
    /// negative or zero rate never refills (only the initial burst passes).
    pub fn new(rate_per_s: f64, burst: u32) -> Self {
        // `as` saturates: NaN and negatives → 0.
        let rate_nano = (rate_per_s * NANO as f64).round() as u64;
        let burst_nano = burst as u64 * NANO;
        RateLimiter {
            rate_nano,
            burst_nano,
            nano: burst_nano,
            frac: 0,
            last: SimTime::ZERO,
        }
    }

    /// Spends one token at `now` if the bucket holds one. Times must not go backwards; an
    /// earlier `now` than a previous call refills nothing.
    pub fn try_acquire(&mut self, now: SimTime) -> bool {
        self.refill(now);
        if self.nano >= NANO {
            self.nano -= NANO;
            true
        } else {
            false
        }
    }

    /// Tokens in the bucket as of the last call (whole and fractional).
    pub fn tokens(&self) -> f64 {
        self.nano as f64 / NANO as f64
    }

    fn refill(&mut self, now: SimTime) {
        if now <= self.last {
            return;
        }
        let elapsed = now.since(self.last).0;
        self.last = now;
        if self.nano >= self.burst_nano {
            self.frac = 0;
            return;
        }
        // nanotokens owed = rate_nano [nanotoken/s] × elapsed [ns] / 10⁹ [ns/s].
        let owed = self.rate_nano as u128 * elapsed as u128 + self.frac as u128;
        let add = owed / NANO as u128;
        let room = (self.burst_nano - self.nano) as u128;
        if add >= room {
            self.nano = self.burst_nano;
            self.frac = 0;
        } else {
            self.nano += add as u64;
            self.frac = (owed % NANO as u128) as u64;
        }
    }
}

/// Clamps `x` to `[min, max]` (`max` wins if they cross, like `Math.min(max, Math.max(min, x))`).
fn clamp_u32(x: u32, min: u32, max: u32) -> u32 {
    x.max(min).min(max)
}

/// Netflix concurrency-limits `AIMDLimit`: additive increase while the limit is in use,
/// multiplicative decrease on a drop or a too-slow response.
///
/// On each sample: if `dropped` or `rtt > timeout`, `limit = ⌊limit × backoff_ratio⌋`;
/// else if `inflight × 2 ≥ limit`, `limit + 1`; else unchanged; then clamp to `[min, max]`.
/// Defaults (Netflix): initial 20, min 20, max 200, backoff_ratio 0.9, timeout 5 s. The
/// limit is an integer, as in the Java class.
#[derive(Debug, Clone, PartialEq)]
pub struct AimdLimit {
    limit: u32,
    min: u32,
    max: u32,
    backoff_ratio: f64,
    timeout: SimTime,
}

impl AimdLimit {
    /// `initial` is clamped to `[min, max]` at once (the Java class only warns).
    pub fn new(initial: u32, min: u32, max: u32, backoff_ratio: f64, timeout: SimTime) -> Self {
        AimdLimit {
            limit: clamp_u32(initial, min, max),
            min,
            max,
            backoff_ratio,
            timeout,
        }
    }

    /// The current limit (at least 1).
    pub fn limit(&self) -> u32 {
        self.limit.max(1)
    }

    pub fn on_sample(&mut self, rtt: SimTime, inflight: u32, dropped: bool) {
        let next = if dropped || rtt > self.timeout {
            // `as` truncates toward zero (= floor here) and saturates NaN/negatives to 0.
            (self.limit as f64 * self.backoff_ratio) as u32
        } else if inflight as u64 * 2 >= self.limit as u64 {
            self.limit.saturating_add(1)
        } else {
            self.limit
        };
        self.limit = clamp_u32(next, self.min, self.max);
    }
}

impl Default for AimdLimit {
    /// Netflix defaults: initial 20, min 20, max 200, backoff 0.9, timeout 5 s.
    fn default() -> Self {
        AimdLimit::new(20, 20, 200, 0.9, SimTime::from_secs(5))
    }
}

/// Warm-up samples of the long RTT average: a plain mean of the first 10 samples, as in
/// the Java class.
const WARMUP: u32 = 10;

/// Netflix concurrency-limits `Gradient2Limit`: compares the latest RTT with a long-term
/// average RTT and shrinks the limit when the latest one is much slower.
///
/// On each sample (`rtt`, `inflight`; `dropped` is ignored, as in the Java class):
///
/// 1. `short = rtt`; `long` = exponential average of the RTTs: the plain mean of the first
///    10 samples (warm-up), then `long += (rtt − long) × 2/(long_window + 1)`.
/// 2. If `long / short > 2` (latency fell after a long slow spell), the stored average is
///    decayed `× 0.95` (this sample's gradient still uses the undecayed `long`).
/// 3. If `inflight < limit / 2` the limit holds (app-limited: no evidence either way).
/// 4. Otherwise `gradient = clamp(rtt_tolerance × long / short, 0.5, 1.0)`,
///    `new = limit × gradient + queue_size`, `limit = limit × (1 − smoothing) + new × smoothing`,
///    clamped to `[min, max]`.
///
/// At a steady RTT the gradient is 1, so a fully used limit creeps up by
/// `smoothing × queue_size` (0.8 with defaults) per sample until `max`. The limit is a double,
/// as in Java; [`limit`](Self::limit) is its floor (at least 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient2Limit {
    estimate: f64,
    min: u32,
    max: u32,
    smoothing: f64,
    queue_size: u32,
    rtt_tolerance: f64,
    long_window: u32,
    /// Long RTT average in nanoseconds.
    long_rtt: f64,
    /// Warm-up: samples seen (up to [`WARMUP`]) and their sum in nanoseconds.
    warm_count: u32,
    warm_sum: f64,
}

impl Gradient2Limit {
    /// `initial` is clamped to `[min, max]` at once (the Java class only warns).
    pub fn new(
        initial: u32,
        min: u32,
        max: u32,
        smoothing: f64,
        queue_size: u32,
        rtt_tolerance: f64,
        long_window: u32,
    ) -> Self {
        Gradient2Limit {
            // Java's order: max(min, min(max, x)), so `min` wins if they cross.
            estimate: (initial.min(max).max(min)) as f64,
            min,
            max,
            smoothing,
            queue_size,
            rtt_tolerance,
            long_window,
            long_rtt: 0.0,
            warm_count: 0,
            warm_sum: 0.0,
        }
    }

    /// The current limit: the floor of the estimate, at least 1.
    pub fn limit(&self) -> u32 {
        // `as` saturates; the estimate stays within [min, max] anyway.
        (self.estimate.floor() as u32).max(1)
    }

    /// The long-term RTT average the gradient compares against.
    pub fn long_rtt(&self) -> SimTime {
        SimTime(self.long_rtt.round() as u64)
    }

    pub fn on_sample(&mut self, rtt: SimTime, inflight: u32, _dropped: bool) {
        let short = rtt.0 as f64;
        let long = self.add_long_sample(short);

        // long/short > 2, written without dividing so that a zero RTT cannot make a NaN
        // (a zero short RTT decays any positive long RTT, as Java's `x/0 = ∞ > 2` would).
        if long > 2.0 * short {
            self.long_rtt *= 0.95;
        }

        if (inflight as f64) < self.estimate / 2.0 {
            return;
        }

        // A zero RTT shows no queueing: gradient 1 (Java would divide by zero).
        let gradient = if short > 0.0 {
            (self.rtt_tolerance * long / short).clamp(0.5, 1.0)
        } else {
            1.0
        };
        // Guard against a NaN from a NaN tolerance: no change rather than poison.
        let gradient = if gradient.is_nan() { 1.0 } else { gradient };
        let target = self.estimate * gradient + self.queue_size as f64;
        let next = self.estimate * (1.0 - self.smoothing) + target * self.smoothing;
        let next = if next.is_nan() { self.estimate } else { next };
        self.estimate = next.min(self.max as f64).max(self.min as f64);
    }

    /// Adds one RTT to the long average and returns the new average.
    fn add_long_sample(&mut self, sample: f64) -> f64 {
        if self.warm_count < WARMUP {
            self.warm_count += 1;
            self.warm_sum += sample;
            self.long_rtt = self.warm_sum / self.warm_count as f64;
        } else {
            let factor = 2.0 / (self.long_window as f64 + 1.0);
            self.long_rtt = self.long_rtt * (1.0 - factor) + sample * factor;
        }
        self.long_rtt
    }
}

impl Default for Gradient2Limit {
    /// Netflix defaults: initial 20, min 20, max 200, smoothing 0.2, queue 4, tolerance 1.5,
    /// long window 600.
    fn default() -> Self {
        Gradient2Limit::new(20, 20, 200, 0.2, 4, 1.5, 600)
    }
}

/// One adaptive concurrency limit, whichever algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum ConcurrencyLimit {
    Aimd(AimdLimit),
    Gradient2(Gradient2Limit),
}

impl ConcurrencyLimit {
    /// Admit a request iff the requests in flight are fewer than this.
    pub fn limit(&self) -> u32 {
        match self {
            ConcurrencyLimit::Aimd(l) => l.limit(),
            ConcurrencyLimit::Gradient2(l) => l.limit(),
        }
    }

    /// Feeds one completion: its round-trip time, the requests in flight when it completed
    /// and whether it was dropped (rejected, timed out, failed by overload).
    pub fn on_sample(&mut self, rtt: SimTime, inflight: u32, dropped: bool) {
        match self {
            ConcurrencyLimit::Aimd(l) => l.on_sample(rtt, inflight, dropped),
            ConcurrencyLimit::Gradient2(l) => l.on_sample(rtt, inflight, dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    // ---- RateLimiter ----

    #[test]
    fn bucket_starts_full_then_refills_one_token_per_100ms() {
        let mut l = RateLimiter::new(10.0, 5);
        for _ in 0..5 {
            assert!(l.try_acquire(SimTime::ZERO));
        }
        assert!(!l.try_acquire(SimTime::ZERO));
        for k in 1..=50u64 {
            let due = ms(100 * k);
            assert!(!l.try_acquire(SimTime(due.0 - 1)), "early at {k}");
            assert!(l.try_acquire(due), "due at {k}");
            assert!(!l.try_acquire(due), "only one at {k}");
        }
    }

    #[test]
    fn bucket_never_holds_more_than_burst() {
        let mut l = RateLimiter::new(10.0, 5);
        // An hour idle refills to 5, not 36 000.
        let t = SimTime::from_secs(3600);
        let passed = (0..100).filter(|_| l.try_acquire(t)).count();
        assert_eq!(passed, 5);
        assert_eq!(l.tokens(), 0.0);
    }

    #[test]
    fn fractional_rates_refill_exactly() {
        // 3 tokens per second: one every 333 333 333.33… ns. With the remainder carried,
        // the 3rd token is due at exactly 1 s, however often the bucket is polled. (Burst 2
        // so the bucket never overflows between polls, which would rightly lose tokens.)
        let mut l = RateLimiter::new(3.0, 2);
        assert!(l.try_acquire(SimTime::ZERO));
        assert!(l.try_acquire(SimTime::ZERO));
        let mut passed = 0;
        let mut t = SimTime::ZERO;
        let mut third = SimTime::ZERO;
        while passed < 3 {
            t = t.after(SimTime(7_777)); // an awkward polling step
            if l.try_acquire(t) {
                passed += 1;
                third = t;
            }
        }
        // The first poll at or after 1 s: 128 585 × 7 777 ns.
        assert_eq!(third, SimTime(128_585 * 7_777));
        assert!(third >= SimTime::from_secs(1) && third.since(SimTime::from_secs(1)).0 < 7_777);
        // Slow rates: 0.5 per second → one token per 2 s.
        let mut slow = RateLimiter::new(0.5, 1);
        assert!(slow.try_acquire(SimTime::ZERO));
        assert!(!slow.try_acquire(SimTime(1_999_999_999)));
        assert!(slow.try_acquire(SimTime::from_secs(2)));
        assert!(!slow.try_acquire(SimTime(3_999_999_999)));
        assert!(slow.try_acquire(SimTime::from_secs(4)));
    }

    #[test]
    fn a_full_bucket_wastes_the_refill() {
        // Burst 1 at 10/s: the token due at 100 ms is not banked if nobody takes it, so
        // three requests at 250 ms find one token, not 2.5.
        let mut l = RateLimiter::new(10.0, 1);
        assert!(l.try_acquire(SimTime::ZERO));
        assert!(l.try_acquire(ms(250)));
        assert!(!l.try_acquire(ms(250)));
        // The next one is due 100 ms after the bucket emptied at 250 ms.
        assert!(!l.try_acquire(SimTime(ms(350).0 - 1)));
        assert!(l.try_acquire(ms(350)));
    }

    #[test]
    fn degenerate_limiters() {
        let mut none = RateLimiter::new(100.0, 0);
        assert!(!none.try_acquire(SimTime::from_secs(10)));
        let mut burst_only = RateLimiter::new(0.0, 2);
        assert!(burst_only.try_acquire(SimTime::ZERO));
        assert!(burst_only.try_acquire(SimTime::ZERO));
        assert!(!burst_only.try_acquire(SimTime::from_secs(1_000_000)));
        let mut nan = RateLimiter::new(f64::NAN, 1);
        assert!(nan.try_acquire(SimTime::ZERO));
        assert!(!nan.try_acquire(SimTime::from_secs(5)));
        // Time going backwards refills nothing and breaks nothing.
        let mut l = RateLimiter::new(10.0, 1);
        assert!(l.try_acquire(SimTime::from_secs(5)));
        assert!(!l.try_acquire(SimTime::from_secs(1)));
        assert!(l.try_acquire(SimTime(5_100_000_000)));
        // The end of time and a huge rate do not overflow.
        let mut fast = RateLimiter::new(1e9, u32::MAX);
        assert!(fast.try_acquire(SimTime::MAX));
    }

    // ---- AIMD ----

    #[test]
    fn aimd_defaults() {
        let l = AimdLimit::default();
        assert_eq!(l, AimdLimit::new(20, 20, 200, 0.9, SimTime::from_secs(5)));
        assert_eq!(l.limit(), 20);
    }

    #[test]
    fn aimd_hand_computed_trajectory() {
        let mut l = AimdLimit::new(10, 5, 15, 0.9, SimTime::from_secs(5));
        let fast = ms(10);
        let mut step = |rtt: SimTime, inflight: u32, dropped: bool| {
            l.on_sample(rtt, inflight, dropped);
            l.limit()
        };
        assert_eq!(step(fast, 5, false), 11); // 5×2 ≥ 10 → +1
        assert_eq!(step(fast, 5, false), 11); // 10 < 11 → hold
        assert_eq!(step(fast, 6, false), 12); // 12 ≥ 11 → +1
        assert_eq!(step(fast, 6, true), 10); // drop: ⌊12 × 0.9⌋ = ⌊10.8⌋
        assert_eq!(step(SimTime(5_000_000_001), 9, false), 9); // rtt > 5 s: ⌊9.0⌋
        assert_eq!(step(SimTime::from_secs(5), 9, false), 10); // rtt = timeout is fine
        assert_eq!(step(fast, 0, true), 9); // ⌊9.0⌋
        assert_eq!(step(fast, 0, true), 8); // ⌊8.1⌋
        assert_eq!(step(fast, 0, true), 7); // ⌊7.2⌋
        assert_eq!(step(fast, 0, true), 6); // ⌊6.3⌋
        assert_eq!(step(fast, 0, true), 5); // ⌊5.4⌋
        assert_eq!(step(fast, 0, true), 5); // ⌊4.5⌋ = 4 → min 5
        for _ in 0..20 {
            step(fast, 100, false);
        }
        assert_eq!(step(fast, 100, false), 15); // capped at max
    }

    #[test]
    fn aimd_clamps_its_initial_limit() {
        assert_eq!(AimdLimit::new(500, 20, 200, 0.9, ms(5)).limit(), 200);
        assert_eq!(AimdLimit::new(1, 20, 200, 0.9, ms(5)).limit(), 20);
        assert_eq!(AimdLimit::new(0, 0, 0, 0.9, ms(5)).limit(), 1);
    }

    // ---- Gradient2 ----

    #[test]
    fn gradient2_defaults() {
        let l = Gradient2Limit::default();
        assert_eq!(l, Gradient2Limit::new(20, 20, 200, 0.2, 4, 1.5, 600));
        assert_eq!(l.limit(), 20);
    }

    #[test]
    fn gradient2_holds_while_app_limited() {
        let mut l = Gradient2Limit::new(100, 20, 200, 0.2, 4, 1.5, 600);
        for _ in 0..1_000 {
            l.on_sample(ms(10), 49, false); // 49 < 100/2
        }
        assert_eq!(l.limit(), 100);
        // Even a huge RTT does not move a limit nobody is using.
        l.on_sample(SimTime::from_secs(10), 10, true);
        assert_eq!(l.limit(), 100);
    }

    #[test]
    fn gradient2_at_constant_rtt_never_shrinks_and_creeps_to_max() {
        let mut l = Gradient2Limit::default();
        // gradient = min(1, 1.5 × 1) = 1: new = 20 + 4; limit = 0.8 × 20 + 0.2 × 24 = 20.8.
        l.on_sample(ms(10), 20, false);
        assert!((l.estimate - 20.8).abs() < 1e-12);
        assert_eq!(l.limit(), 20);
        l.on_sample(ms(10), 20, false);
        assert!((l.estimate - 21.6).abs() < 1e-12);
        assert_eq!(l.limit(), 21);
        let mut prev = l.estimate;
        for _ in 0..1_000 {
            l.on_sample(ms(10), l.limit(), false);
            assert!(l.estimate >= prev);
            prev = l.estimate;
        }
        assert_eq!(l.limit(), 200);
        assert_eq!(l.long_rtt(), ms(10));
    }

    #[test]
    fn gradient2_shrinks_when_rtt_rises_hand_computed() {
        let mut l = Gradient2Limit::new(100, 20, 200, 0.2, 4, 1.5, 600);
        // Warm-up: 10 samples at 10 ms while app-limited (the limit holds at 100).
        for _ in 0..10 {
            l.on_sample(ms(10), 0, false);
        }
        assert_eq!(l.limit(), 100);
        assert_eq!(l.long_rtt(), ms(10));
        // One sample at 30 ms under load:
        //   long = 10 + (30 − 10) × 2/601 = 10.066556 ms
        //   gradient = 1.5 × 10.066556 / 30 = 0.503328
        //   new = 100 × 0.503328 + 4 = 54.332779
        //   limit = 0.8 × 100 + 0.2 × 54.332779 = 90.866556
        l.on_sample(ms(30), 100, false);
        let long = 10e6 + 20e6 * 2.0 / 601.0;
        let gradient = 1.5 * long / 30e6;
        let expect = 0.8 * 100.0 + 0.2 * (100.0 * gradient + 4.0);
        assert!(
            (l.estimate - expect).abs() < 1e-9,
            "{} vs {expect}",
            l.estimate
        );
        assert!((l.estimate - 90.866556).abs() < 1e-6);
        assert_eq!(l.limit(), 90);
        // Keep it slow: the gradient is floored at 0.5, so each step is at least
        // 0.8 L + 0.2 (0.5 L + 4) = 0.9 L + 0.8 and the limit falls to the minimum.
        let mut prev = l.estimate;
        for _ in 0..30 {
            l.on_sample(ms(30), 100, false);
            assert!(l.estimate <= prev);
            assert!(l.estimate >= 0.9 * prev + 0.8 - 1e-9);
            prev = l.estimate;
        }
        assert_eq!(l.limit(), 20);
    }

    #[test]
    fn gradient2_tolerates_rtt_within_tolerance() {
        // RTT up 1.4× with tolerance 1.5: gradient = min(1, 1.5/1.4 × …) = 1, no shrink.
        let mut l = Gradient2Limit::new(100, 20, 200, 0.2, 4, 1.5, 600);
        for _ in 0..10 {
            l.on_sample(ms(10), 0, false);
        }
        l.on_sample(ms(14), 100, false);
        assert!((l.estimate - 100.8).abs() < 1e-9);
    }

    #[test]
    fn gradient2_warmup_and_decay() {
        let mut l = Gradient2Limit::new(50, 20, 200, 0.2, 4, 1.5, 600);
        // Warm-up is a plain mean: 10, 20, 30 ms → 20 ms.
        for r in [10, 20, 30] {
            l.on_sample(ms(r), 0, false);
        }
        assert_eq!(l.long_rtt(), ms(20));
        // Fill the warm-up at 100 ms: mean of (10+20+30+7×100)/10 = 76 ms.
        for _ in 0..7 {
            l.on_sample(ms(100), 0, false);
        }
        assert_eq!(l.long_rtt(), ms(76));
        // Latency falls to 10 ms: long = 76 − 66 × 2/601 = 75.780366 ms > 2 × 10 → × 0.95.
        l.on_sample(ms(10), 0, false);
        let expect: f64 = (76e6 - 66e6 * 2.0 / 601.0) * 0.95;
        assert!((l.long_rtt.round() - expect.round()).abs() <= 1.0);
        // Repeated fast samples pull the long RTT down until long ≤ 2 × short.
        for _ in 0..200 {
            l.on_sample(ms(10), 0, false);
        }
        assert!(l.long_rtt() <= ms(20), "{}", l.long_rtt());
    }

    #[test]
    fn gradient2_survives_zero_rtt() {
        let mut l = Gradient2Limit::default();
        for _ in 0..20 {
            l.on_sample(SimTime::ZERO, 200, false);
        }
        assert!(l.estimate.is_finite());
        assert_eq!(l.long_rtt(), SimTime::ZERO);
        assert!(l.limit() > 20);
        l.on_sample(ms(10), 200, false);
        assert!(l.estimate.is_finite());
    }

    #[test]
    fn gradient2_ignores_drops() {
        let mut a = Gradient2Limit::default();
        let mut b = Gradient2Limit::default();
        for i in 0..100 {
            a.on_sample(ms(10 + i % 7), 30, true);
            b.on_sample(ms(10 + i % 7), 30, false);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn enum_delegates() {
        let mut a = ConcurrencyLimit::Aimd(AimdLimit::new(10, 5, 15, 0.9, ms(100)));
        a.on_sample(ms(1), 10, false);
        assert_eq!(a.limit(), 11);
        a.on_sample(ms(200), 10, false);
        assert_eq!(a.limit(), 9);
        let mut g = ConcurrencyLimit::Gradient2(Gradient2Limit::default());
        g.on_sample(ms(10), 20, false);
        g.on_sample(ms(10), 20, false);
        assert_eq!(g.limit(), 21);
    }

    proptest! {
        #[test]
        fn limiter_never_beats_burst_plus_rate_times_t(
            rate_milli in 0u64..100_000,
            burst in 0u32..50,
            gaps in proptest::collection::vec(0u64..200_000_000, 1..300),
        ) {
            let rate = rate_milli as f64 / 1000.0;
            let mut l = RateLimiter::new(rate, burst);
            let mut t = SimTime::ZERO;
            let mut passed = 0u64;
            for gap in gaps {
                t = t.after(SimTime(gap));
                if l.try_acquire(t) {
                    passed += 1;
                }
                // Exact: burst + ⌊rate_milli × t_ns / 10¹²⌋.
                let bound = burst as u128 + rate_milli as u128 * t.0 as u128 / 1_000_000_000_000;
                prop_assert!(passed as u128 <= bound, "{passed} > {bound} at {t}");
            }
        }

        #[test]
        fn limiter_passes_everything_it_can_when_polled_often(
            rate in 1u64..1_000,
            burst in 2u32..20,
            secs in 1u64..5,
        ) {
            // Polled four times per token and drained each time (so a bucket of at least 2
            // never overflows), it lets through exactly burst + rate × t.
            let mut l = RateLimiter::new(rate as f64, burst);
            let end = SimTime::from_secs(secs);
            let step = SimTime::NS_PER_S / rate / 4;
            let mut t = SimTime::ZERO;
            let mut passed = 0u64;
            while t < end {
                while l.try_acquire(t) {
                    passed += 1;
                }
                t = t.after(SimTime(step.max(1)));
            }
            while l.try_acquire(end) {
                passed += 1;
            }
            prop_assert_eq!(passed, burst as u64 + rate * secs);
        }

        #[test]
        fn aimd_stays_within_min_max(
            min in 1u32..100,
            span in 0u32..200,
            initial in 0u32..400,
            ratio in 0.5f64..1.0,
            samples in proptest::collection::vec((0u64..10_000, 0u32..500, any::<bool>()), 0..300),
        ) {
            let max = min + span;
            let mut l = AimdLimit::new(initial, min, max, ratio, ms(5_000));
            prop_assert!(l.limit() >= min && l.limit() <= max);
            for (rtt_ms, inflight, dropped) in samples {
                l.on_sample(ms(rtt_ms), inflight, dropped);
                prop_assert!(l.limit() >= min && l.limit() <= max, "{}", l.limit());
            }
        }

        #[test]
        fn gradient2_stays_within_min_max(
            min in 1u32..100,
            span in 0u32..200,
            initial in 0u32..400,
            smoothing in 0.0f64..=1.0,
            queue in 0u32..20,
            tolerance in 1.0f64..3.0,
            window in 1u32..1000,
            samples in proptest::collection::vec((0u64..10_000_000_000, 0u32..500), 0..300),
        ) {
            let max = min + span;
            let mut l = Gradient2Limit::new(initial, min, max, smoothing, queue, tolerance, window);
            prop_assert!(l.limit() >= min && l.limit() <= max);
            for (rtt, inflight) in samples {
                l.on_sample(SimTime(rtt), inflight, false);
                prop_assert!(l.estimate.is_finite());
                prop_assert!(l.limit() >= min && l.limit() <= max, "{}", l.limit());
            }
        }
    }
}
