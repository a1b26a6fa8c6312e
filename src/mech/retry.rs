//! Retries: how long to sleep before each retry, and what may stop a retry from starting.
//!
//! Three independent mechanisms (semantics.md §2):
//!
//! - [`RetryPolicy`]: attempts, capped exponential backoff and the AWS jitter formulas
//!   (§2.1). "Attempt" counts the first call: `max_attempts = 3` is one call and two retries.
//! - [`RetryBudget`]: Envoy's retry budget (§2.3), a cap on *concurrent* retries relative to
//!   the requests in flight.
//! - [`RetryThrottle`]: gRPC retry throttling (§2.4, proposal A6), a token bucket that stops
//!   retries while failures dominate.
//!
//! Everything here is pure arithmetic on integer nanoseconds plus, for jitter, draws from a
//! seeded [`Stream`], so a run is reproducible bit for bit.

use rand::Rng;

use crate::engine::{SimTime, Stream};
use crate::metrics::{Outcome, Refusal};

/// The un-jittered sleep before each retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Retry at once.
    None,
    /// The same sleep before every retry.
    Constant(SimTime),
    /// Capped exponential: the sleep before retry `k` (1 = before the 2nd attempt) is
    /// `min(cap, base × multiplier^(k−1))`.
    ///
    /// With `multiplier = 2` this is the AWS blog's `min(cap, base × 2^n)` with `n` counted
    /// from 0 at the first retry (so the first retry sleeps `base`, the second `2 × base`, ...),
    /// and it is gRPC A6's `min(initialBackoff × backoffMultiplier^(n−1), maxBackoff)`.
    ///
    /// `first_power` says how the first retry is indexed: 0 (the default, as gRPC and
    /// Resilience4j: the first sleep is `base`) or 1 (as the AWS blog's simulator, which
    /// calls its formula with `n = 1` after the first failure: the first sleep is
    /// `base × multiplier`, i.e. `2 × base` for `min(cap, base × 2^n)`). The sleep before
    /// retry `k` is `min(cap, base × multiplier^(k − 1 + first_power))`.
    Exponential {
        base: SimTime,
        multiplier: f64,
        cap: SimTime,
        first_power: u32,
    },
    /// Envoy's router backoff (`JitteredExponentialBackOffStrategy::nextBackOffMs` in
    /// `source/common/common/backoff_strategy.cc`): the `k`-th retry draws
    /// `min(random % ((2^k − 1) × base), max)`, where `k` stops growing once
    /// `(2^k − 1) × base` exceeds `max` (so past that point the sleep is `max` with
    /// probability `1 − max / ((2^k − 1) × base)`: the quirk is kept). Always jittered; the
    /// retry's `jitter` does not apply. Envoy's defaults: 25 ms base, max 10 × base.
    Envoy { base: SimTime, max: SimTime },
}

/// How the un-jittered sleep `t` is randomised (AWS Architecture Blog, "Exponential Backoff
/// And Jitter", §2.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Sleep exactly `t`; draws no randomness.
    None,
    /// Resilience4j's `randomizationFactor` `f` (`IntervalFunction.randomize`):
    /// `U(t(1 − f), t(1 + f))`, at least 1 ns.
    Randomized(f64),
    /// `U(0, t)`.
    Full,
    /// `t/2 + U(0, t/2)`.
    Equal,
    /// `min(cap, U(base, 3 × previous))`, with `previous = base` before the first retry.
    Decorrelated,
}

/// Which failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOn {
    /// The caller gave up waiting (client-side timeout).
    pub timeout: bool,
    /// The callee answered with an error.
    pub error: bool,
    /// The request was refused before any work (full queue, open breaker, rate or
    /// concurrency limit, bulkhead).
    pub rejected: bool,
    /// Failed attempts with one of these HTTP statuses, whatever their kind (Resilience4j
    /// `retryOnResult`, Envoy `retriable-status-codes`); unused places are 0.
    pub statuses: [u16; RetryOn::MAX_STATUSES],
}

/// The HTTP status of an injected or a service's own error, unless a fault sets another.
pub const STATUS_ERROR: u16 = 500;
/// A refusal by a rate limiter: Resilience4j's `RequestNotPermitted` and Envoy's local
/// rate limit both surface as 429 Too Many Requests.
pub const STATUS_RATE_LIMITED: u16 = 429;
/// A refusal for want of capacity (full queue, concurrency limit, open breaker, full
/// bulkhead, no replica up, shed, reset by a crash): Envoy answers 503 for each (an
/// overflow, `no_healthy_upstream`, an upstream reset).
pub const STATUS_UNAVAILABLE: u16 = 503;
/// The caller's time limit passed: Envoy's `upstream_rq_timeout` answers 504.
pub const STATUS_TIMEOUT: u16 = 504;

/// The HTTP status an outcome carries unless something more precise is known (a rate
/// limiter's 429, an `Errors` fault's own status). The one place this mapping lives.
pub fn status_of(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Ok => 200,
        Outcome::Error | Outcome::DependencyFailed => STATUS_ERROR,
        Outcome::Timeout => STATUS_TIMEOUT,
        Outcome::Rejected | Outcome::Shed | Outcome::Crashed => STATUS_UNAVAILABLE,
    }
}

/// The HTTP status of a refusal on arrival at a service.
pub fn status_of_refusal(why: Refusal) -> u16 {
    match why {
        Refusal::RateLimited => STATUS_RATE_LIMITED,
        Refusal::QueueFull | Refusal::ConcurrencyLimited | Refusal::Unavailable => {
            STATUS_UNAVAILABLE
        }
    }
}

impl RetryOn {
    /// Most statuses one `retry_on` lists.
    pub const MAX_STATUSES: usize = 8;

    /// Whether a failed attempt that ended with `outcome` (as its caller sees it) and
    /// HTTP status `status` is retried.
    pub fn covers(&self, outcome: Outcome, status: u16) -> bool {
        let kind = match outcome {
            Outcome::Ok => return false,
            Outcome::Timeout => self.timeout,
            Outcome::Rejected => self.rejected,
            _ => self.error,
        };
        kind || (self.statuses[0] != 0 && self.statuses.contains(&status))
    }
}

/// Attempts, backoff, jitter and the outcomes worth retrying.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts including the first (so at most `max_attempts − 1` retries).
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub jitter: Jitter,
    pub retry_on: RetryOn,
}

impl RetryPolicy {
    /// The sleep before retry number `retry` (1 = before the 2nd attempt; 0 is treated as 1).
    ///
    /// `previous` is the sleep returned for the previous retry of the same request (only
    /// [`Jitter::Decorrelated`] uses it; pass [`SimTime::ZERO`] before the first retry, which
    /// then starts from `base`).
    ///
    /// With `t` the un-jittered sleep of [`Backoff`] (`Constant(d)` → `d`, `None` → 0):
    ///
    /// | Jitter | Sleep |
    /// |---|---|
    /// | `None` | `t` |
    /// | `Full` | `U(0, t)` |
    /// | `Equal` | `U(⌊t/2⌋, t)` = `t/2 + U(0, t/2)` |
    /// | `Decorrelated` | `min(cap, U(base, max(base, 3 × previous_or_base)))` |
    ///
    /// For `Decorrelated`, `Constant(d)` has `base = cap = d` and `None` has `base = cap = 0`;
    /// the multiplier plays no part (the AWS formula always uses 3).
    ///
    /// Randomness: `Jitter::None` draws nothing, so a policy without jitter never disturbs the
    /// stream; every other jitter draws exactly one `u64` per call (uniforms are inclusive
    /// integer nanoseconds). Huge retry numbers and multipliers saturate at `cap` instead of
    /// overflowing.
    pub fn delay(&self, retry: u32, previous: SimTime, rng: &mut Stream) -> SimTime {
        if let Backoff::Envoy { base, max } = self.backoff {
            return envoy_backoff(base, max, retry, rng);
        }
        match self.jitter {
            Jitter::None => self.backoff.nominal(retry),
            Jitter::Full => {
                let t = self.backoff.nominal(retry);
                SimTime(uniform_inclusive(rng, 0, t.0))
            }
            Jitter::Equal => {
                let t = self.backoff.nominal(retry);
                SimTime(uniform_inclusive(rng, t.0 / 2, t.0))
            }
            Jitter::Randomized(f) => {
                let t = self.backoff.nominal(retry).0 as f64;
                let f = f.clamp(0.0, 1.0);
                let (lo, hi) = ((t * (1.0 - f)) as u64, (t * (1.0 + f)) as u64);
                SimTime(uniform_inclusive(rng, lo, hi.max(lo)).max(1))
            }
            Jitter::Decorrelated => {
                let (base, cap) = self.backoff.base_and_cap();
                let prev = if previous == SimTime::ZERO {
                    base
                } else {
                    previous
                };
                let hi = prev.0.saturating_mul(3).max(base.0);
                SimTime(uniform_inclusive(rng, base.0, hi)).min(cap)
            }
        }
    }
}

impl Backoff {
    /// The un-jittered sleep before retry `retry` (1-based; 0 is treated as 1).
    pub fn nominal(&self, retry: u32) -> SimTime {
        match *self {
            Backoff::None => SimTime::ZERO,
            Backoff::Constant(d) => d,
            Backoff::Exponential {
                base,
                multiplier,
                cap,
                first_power,
            } => capped_exponential(
                base,
                multiplier,
                cap,
                retry.saturating_sub(1).saturating_add(first_power),
            ),
            // The upper end of Envoy's draw.
            Backoff::Envoy { base, max } => SimTime(envoy_span(base, max, retry)).min(max),
        }
    }

    /// `(base, cap)` as the decorrelated-jitter formula sees them.
    fn base_and_cap(&self) -> (SimTime, SimTime) {
        match *self {
            Backoff::None => (SimTime::ZERO, SimTime::ZERO),
            Backoff::Constant(d) => (d, d),
            Backoff::Exponential { base, cap, .. } => (base, cap),
            Backoff::Envoy { base, max } => (base, max),
        }
    }
}

/// `(2^k − 1) × base` for Envoy's `k`-th retry, `k` frozen at the first value whose span
/// exceeds `max` (`current_retry_` only grows while the span is within `max`).
fn envoy_span(base: SimTime, max: SimTime, retry: u32) -> u64 {
    let mut span = base.0;
    for k in 2..=retry.clamp(1, 64) {
        if span > max.0 {
            break;
        }
        span = ((1u128 << k) - 1)
            .saturating_mul(base.0 as u128)
            .min(u64::MAX as u128) as u64;
    }
    span
}

/// Envoy's sleep before retry `retry`: `min(random % span, max)`, one draw.
fn envoy_backoff(base: SimTime, max: SimTime, retry: u32, rng: &mut Stream) -> SimTime {
    let span = envoy_span(base, max, retry);
    if span == 0 {
        return SimTime::ZERO;
    }
    SimTime(uniform_inclusive(rng, 0, span - 1).min(max.0))
}

/// `min(cap, base × multiplier^n)` in nanoseconds, rounded to the nearest nanosecond.
///
/// Computed in `f64`: with an integer multiplier and `base × multiplier^n < 2^53` ns
/// (104 days) the product is exact. Anything that is not a finite number below `cap`
/// (overflow to infinity, a NaN multiplier) gives `cap`; a negative product (negative
/// multiplier, which validation should reject) gives 0.
fn capped_exponential(base: SimTime, multiplier: f64, cap: SimTime, n: u32) -> SimTime {
    if n == 0 || base == SimTime::ZERO {
        return base.min(cap);
    }
    // `powi` takes an i32; beyond i32::MAX the power is already 0, 1 or infinite.
    let factor = multiplier.powi(n.min(i32::MAX as u32) as i32);
    let t = base.0 as f64 * factor;
    if t.is_nan() || t >= cap.0 as f64 {
        return cap;
    }
    if t <= 0.0 {
        return SimTime::ZERO;
    }
    // t < cap ≤ u64::MAX here, so the cast cannot saturate past cap.
    SimTime((t.round() as u64).min(cap.0))
}

/// A uniform integer on `[lo, hi]` (inclusive) from exactly one 64-bit draw, by Lemire's
/// multiply-shift. The bias is below `(hi − lo + 1) / 2^64`, far under anything a run can
/// observe, and the single draw keeps the stream position independent of the values.
fn uniform_inclusive(rng: &mut Stream, lo: u64, hi: u64) -> u64 {
    debug_assert!(lo <= hi);
    let span = (hi - lo) as u128 + 1;
    let x: u64 = rng.random();
    lo + ((x as u128 * span) >> 64) as u64
}

/// Envoy's retry budget: a retry may start iff
/// `active_retries < max(min_concurrency, ⌊percent/100 × active_requests⌋)`.
///
/// `active_requests` is what Envoy counts: requests in flight plus pending (queued) ones.
/// Envoy truncates the budget to an integer before comparing, so the retries in flight can
/// never exceed `max(min_concurrency, percent/100 × active_requests)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    pub percent: f64,
    pub min_concurrency: u32,
}

impl Default for RetryBudget {
    /// Envoy's defaults: 20 %, at least 3 concurrent retries.
    fn default() -> Self {
        RetryBudget {
            percent: 20.0,
            min_concurrency: 3,
        }
    }
}

impl RetryBudget {
    /// The most retries that may be in flight with `active_requests` requests active.
    pub fn max_retries(&self, active_requests: u64) -> u64 {
        // percent × active first, then /100: exact for integer percents (Envoy computes
        // percent/100 first, whose rounding can make e.g. 35 % of 20 come out as 6.999…).
        let share = (self.percent * active_requests as f64 / 100.0).floor();
        // `as` saturates: NaN or negative → 0, huge → u64::MAX.
        (share as u64).max(self.min_concurrency as u64)
    }

    /// Whether one more retry may start now.
    pub fn allows(&self, active_requests: u64, active_retries: u64) -> bool {
        active_retries < self.max_retries(active_requests)
    }
}

/// gRPC retry throttling (proposal A6): `tokens` starts at `max_tokens`; every failed RPC
/// costs 1, every success earns `token_ratio`, clamped to `[0, max_tokens]`; retries (and
/// hedges) are allowed only while `tokens > max_tokens / 2`.
///
/// Kept in integer thousandths of a token, as grpc-core does: A6 gives `token_ratio` three
/// decimals, so a long run of successes and failures never drifts. Record the failure of an
/// attempt with [`on_failure`](Self::on_failure) *before* asking
/// [`allows_retry`](Self::allows_retry) for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryThrottle {
    max_milli: u64,
    ratio_milli: u64,
    milli: u64,
}

impl RetryThrottle {
    /// A full bucket. Both values are rounded to thousandths (A6: `max_tokens` in (0, 1000],
    /// `token_ratio` > 0 with at most 3 decimals); NaN or negative values count as 0.
    pub fn new(max_tokens: f64, token_ratio: f64) -> Self {
        let max_milli = to_milli(max_tokens);
        RetryThrottle {
            max_milli,
            ratio_milli: to_milli(token_ratio),
            milli: max_milli,
        }
    }

    /// A successful RPC: `tokens += token_ratio`, at most `max_tokens`.
    pub fn on_success(&mut self) {
        self.milli = self
            .milli
            .saturating_add(self.ratio_milli)
            .min(self.max_milli);
    }

    /// A failed RPC (a retryable failure, or server pushback): `tokens −= 1`, at least 0.
    pub fn on_failure(&mut self) {
        self.milli = self.milli.saturating_sub(1000);
    }

    /// Whether a retry may be sent: strictly more than half the bucket is left.
    pub fn allows_retry(&self) -> bool {
        // tokens > max/2  ⇔  2 × tokens > max, exactly, in integers.
        self.milli as u128 * 2 > self.max_milli as u128
    }

    /// The current token count.
    pub fn tokens(&self) -> f64 {
        self.milli as f64 / 1000.0
    }
}

fn to_milli(x: f64) -> u64 {
    // `as` saturates: NaN and negatives → 0.
    (x * 1000.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;
    use proptest::prelude::*;
    // Named explicitly: proptest's prelude re-exports its own `Rng`.
    use rand::Rng;

    const MS: u64 = 1_000_000;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    fn policy(backoff: Backoff, jitter: Jitter) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            backoff,
            jitter,
            retry_on: RetryOn {
                timeout: true,
                error: true,
                rejected: true,
                statuses: [0; RetryOn::MAX_STATUSES],
            },
        }
    }

    fn exp(base: u64, multiplier: f64, cap: u64) -> Backoff {
        Backoff::Exponential {
            base: ms(base),
            multiplier,
            cap: ms(cap),
            first_power: 0,
        }
    }

    fn rng() -> Stream {
        stream(42, "test/retry")
    }

    #[test]
    fn exponential_without_jitter_doubles_then_caps() {
        let p = policy(exp(100, 2.0, 5000), Jitter::None);
        let mut r = rng();
        let got: Vec<u64> = (1..=9)
            .map(|k| p.delay(k, SimTime::ZERO, &mut r).0 / MS)
            .collect();
        assert_eq!(got, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn exponential_with_a_fractional_multiplier_matches_resilience4j_numbers() {
        // 500 ms × 1.5^(k−1): 500, 750, 1125, 1687.5, 2531.25 ms (exact in f64).
        let b = exp(500, 1.5, 60_000);
        let got: Vec<u64> = (1..=5).map(|k| b.nominal(k).0).collect();
        assert_eq!(
            got,
            [500 * MS, 750 * MS, 1125 * MS, 1_687_500_000, 2_531_250_000]
        );
    }

    #[test]
    fn first_power_one_is_the_aws_blogs_indexing() {
        // The AWS simulator calls min(cap, base × 2^n) with n = 1 after the first failure:
        // the first sleep is 2 × base. first_power 0 (gRPC, Resilience4j) starts at base.
        let aws = Backoff::Exponential {
            base: ms(100),
            multiplier: 2.0,
            cap: ms(5000),
            first_power: 1,
        };
        let got: Vec<u64> = (1..=7).map(|k| aws.nominal(k).0 / MS).collect();
        assert_eq!(got, [200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(exp(100, 2.0, 5000).nominal(1), ms(100));
    }

    #[test]
    fn resilience4j_randomization_factor_spreads_half_either_side() {
        // IntervalFunction.randomize(500 ms, 0.5): U(250 ms, 750 ms), mean 500 ms.
        let p = policy(Backoff::Constant(ms(500)), Jitter::Randomized(0.5));
        let mut r = rng();
        let (mut lo, mut hi, mut sum) = (u64::MAX, 0, 0.0);
        for _ in 0..10_000 {
            let d = p.delay(1, SimTime::ZERO, &mut r).0;
            assert!((250 * MS..=750 * MS).contains(&d), "{d}");
            lo = lo.min(d);
            hi = hi.max(d);
            sum += d as f64;
        }
        assert!(lo < 255 * MS && hi > 745 * MS, "{lo}..{hi}");
        assert!((sum / 10_000.0 / (500 * MS) as f64 - 1.0).abs() < 0.01);
        // Factor 0 is the plain interval; one draw either way.
        let p0 = policy(Backoff::Constant(ms(500)), Jitter::Randomized(0.0));
        assert_eq!(p0.delay(1, SimTime::ZERO, &mut r), ms(500));
    }

    #[test]
    fn envoy_backoff_draws_below_2_to_the_k_minus_1_times_base() {
        // Envoy's defaults: base 25 ms, max 250 ms. Retries 1-3 draw from [0, 25), [0, 75),
        // [0, 175) ms; retry 4's span (375 ms) passes max, so min(r % 375, 250): 250 ms a
        // third of the time; and the span stops growing there (retry 9 is the same).
        let p = policy(
            Backoff::Envoy {
                base: ms(25),
                max: ms(250),
            },
            Jitter::None,
        );
        let mut r = rng();
        for (k, span) in [(1, 25), (2, 75), (3, 175)] {
            let mut hi = 0;
            for _ in 0..5_000 {
                let d = p.delay(k, SimTime::ZERO, &mut r);
                assert!(d < ms(span), "retry {k}: {d}");
                hi = hi.max(d.0);
            }
            assert!(hi > (span - 1) * MS, "retry {k} reaches near {span} ms");
        }
        for k in [4, 9] {
            let at_max = (0..30_000)
                .filter(|_| p.delay(k, SimTime::ZERO, &mut r) == ms(250))
                .count() as f64;
            assert!(
                (at_max / 30_000.0 - 1.0 / 3.0).abs() < 0.02,
                "retry {k}: {at_max}"
            );
        }
        assert_eq!(p.backoff.nominal(2), ms(75));
        assert_eq!(p.backoff.nominal(4), ms(250));
    }

    #[test]
    fn retry_zero_is_treated_as_the_first_retry() {
        assert_eq!(exp(100, 2.0, 5000).nominal(0), ms(100));
    }

    #[test]
    fn huge_retry_numbers_saturate_at_cap() {
        let p = policy(exp(100, 2.0, 5000), Jitter::None);
        let mut r = rng();
        for k in [64, 65, 1023, 1024, 1025, 100_000, i32::MAX as u32, u32::MAX] {
            assert_eq!(p.delay(k, SimTime::ZERO, &mut r), ms(5000), "retry {k}");
        }
        // A cap at the end of time is reached without overflow too.
        let b = Backoff::Exponential {
            base: SimTime(1),
            multiplier: 10.0,
            cap: SimTime::MAX,
            first_power: 0,
        };
        assert_eq!(b.nominal(u32::MAX), SimTime::MAX);
        assert_eq!(b.nominal(400), SimTime::MAX); // 10^399 = inf
    }

    #[test]
    fn odd_multipliers_never_give_nan() {
        let nan = Backoff::Exponential {
            base: ms(100),
            multiplier: f64::NAN,
            cap: ms(5000),
            first_power: 0,
        };
        assert_eq!(nan.nominal(3), ms(5000));
        // A shrinking multiplier underflows to zero, not to garbage.
        assert_eq!(exp(100, 0.5, 5000).nominal(2), ms(50));
        assert_eq!(exp(100, 0.5, 5000).nominal(u32::MAX), SimTime::ZERO);
        // multiplier 1 = constant.
        assert_eq!(exp(100, 1.0, 5000).nominal(u32::MAX), ms(100));
        // base above cap: cap wins from the first retry.
        assert_eq!(exp(800, 2.0, 500).nominal(1), ms(500));
        // base 0 stays 0 even when the power overflows (0 × inf would be NaN).
        assert_eq!(exp(0, 2.0, 500).nominal(5000), SimTime::ZERO);
    }

    #[test]
    fn constant_and_none() {
        let mut r = rng();
        let c = policy(Backoff::Constant(ms(250)), Jitter::None);
        let n = policy(Backoff::None, Jitter::None);
        for k in [1, 2, 10, u32::MAX] {
            assert_eq!(c.delay(k, ms(999), &mut r), ms(250));
            assert_eq!(n.delay(k, ms(999), &mut r), SimTime::ZERO);
        }
    }

    #[test]
    fn no_jitter_consumes_no_randomness() {
        let mut a = rng();
        let mut b = rng();
        for backoff in [Backoff::None, Backoff::Constant(ms(5)), exp(100, 2.0, 5000)] {
            let p = policy(backoff, Jitter::None);
            for k in 1..50 {
                p.delay(k, ms(7), &mut a);
            }
        }
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }

    #[test]
    fn each_jitter_consumes_exactly_one_draw() {
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let p = policy(exp(100, 2.0, 5000), jitter);
            let mut a = rng();
            let mut b = rng();
            p.delay(3, ms(300), &mut a);
            let _: u64 = b.random();
            assert_eq!(a.random::<u64>(), b.random::<u64>(), "{jitter:?}");
        }
    }

    #[test]
    fn jitter_is_reproducible() {
        let p = policy(exp(100, 2.0, 5000), Jitter::Full);
        let run = || {
            let mut r = rng();
            (1..20)
                .map(|k| p.delay(k, SimTime::ZERO, &mut r))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn full_jitter_stays_in_zero_to_t_with_mean_half_t() {
        let p = policy(exp(100, 2.0, 5000), Jitter::Full);
        let mut r = rng();
        let t = 400 * MS; // retry 3
        let n = 10_000;
        let mut sum = 0.0;
        let (mut lo, mut hi) = (u64::MAX, 0);
        for _ in 0..n {
            let d = p.delay(3, SimTime::ZERO, &mut r).0;
            assert!(d <= t);
            sum += d as f64;
            lo = lo.min(d);
            hi = hi.max(d);
        }
        let mean = sum / n as f64;
        let half = t as f64 / 2.0;
        assert!((mean - half).abs() / half < 0.02, "mean {mean} vs {half}");
        // It really spreads over the range.
        assert!(lo < t / 100 && hi > t - t / 100, "{lo}..{hi}");
    }

    #[test]
    fn equal_jitter_stays_in_half_t_to_t() {
        let p = policy(exp(100, 2.0, 5000), Jitter::Equal);
        let mut r = rng();
        for k in 1..=8 {
            let t = p.backoff.nominal(k).0;
            let mut sum = 0.0;
            for _ in 0..10_000 {
                let d = p.delay(k, SimTime::ZERO, &mut r).0;
                assert!(
                    t / 2 <= d && d <= t,
                    "retry {k}: {d} not in [{}, {t}]",
                    t / 2
                );
                sum += d as f64;
            }
            let mean = sum / 10_000.0;
            let expect = 0.75 * t as f64;
            assert!((mean - expect).abs() / expect < 0.02, "{mean} vs {expect}");
        }
    }

    #[test]
    fn decorrelated_starts_from_base_and_stays_in_base_to_cap() {
        let p = policy(exp(100, 2.0, 2000), Jitter::Decorrelated);
        let mut r = rng();
        // First retry: U(base, 3 × base).
        for _ in 0..10_000 {
            let d = p.delay(1, SimTime::ZERO, &mut r);
            assert!(ms(100) <= d && d <= ms(300), "{d}");
        }
        // Chains of retries: each in [base, min(cap, 3 × previous)].
        let mut capped = 0;
        for _ in 0..1_000 {
            let mut prev = SimTime::ZERO;
            for k in 1..=10 {
                let d = p.delay(k, prev, &mut r);
                let upper = if prev == SimTime::ZERO {
                    ms(300)
                } else {
                    SimTime(prev.0 * 3).min(ms(2000))
                };
                assert!(ms(100) <= d && d <= upper, "{d} after {prev}");
                if d == ms(2000) {
                    capped += 1;
                }
                prev = d;
            }
        }
        assert!(capped > 0, "long chains should reach the cap");
    }

    #[test]
    fn decorrelated_hand_checked_bounds() {
        // previous 150 ms → U(100, 450); previous 1 s → U(100, 3000) capped at 2 s.
        let p = policy(exp(100, 2.0, 2000), Jitter::Decorrelated);
        let mut r = rng();
        let mut saw_cap = false;
        for _ in 0..10_000 {
            let d = p.delay(2, ms(150), &mut r);
            assert!(ms(100) <= d && d <= ms(450));
            let e = p.delay(2, ms(1000), &mut r);
            assert!(ms(100) <= e && e <= ms(2000));
            saw_cap |= e == ms(2000);
        }
        assert!(saw_cap, "a third of U(100, 3000) lies above the cap");
        // A previous sleep below base/3 cannot make the range empty.
        let d = p.delay(2, ms(10), &mut r);
        assert_eq!(d, ms(100));
    }

    #[test]
    fn decorrelated_with_constant_and_none() {
        let mut r = rng();
        let c = policy(Backoff::Constant(ms(250)), Jitter::Decorrelated);
        let n = policy(Backoff::None, Jitter::Decorrelated);
        for k in 1..100 {
            assert_eq!(c.delay(k, ms(250), &mut r), ms(250));
            assert_eq!(n.delay(k, SimTime::ZERO, &mut r), SimTime::ZERO);
        }
    }

    #[test]
    fn full_and_equal_jitter_of_zero_are_zero() {
        let mut r = rng();
        for j in [Jitter::Full, Jitter::Equal] {
            assert_eq!(
                policy(Backoff::None, j).delay(4, SimTime::ZERO, &mut r),
                SimTime::ZERO
            );
        }
    }

    #[test]
    fn uniform_covers_both_ends_of_a_small_range() {
        let mut r = rng();
        let mut seen = [false; 4];
        for _ in 0..1_000 {
            seen[uniform_inclusive(&mut r, 10, 13) as usize - 10] = true;
        }
        assert_eq!(seen, [true; 4]);
        // The widest range does not overflow.
        let _ = uniform_inclusive(&mut r, 0, u64::MAX);
        assert_eq!(uniform_inclusive(&mut r, 7, 7), 7);
    }

    #[test]
    fn budget_defaults_are_envoys() {
        let b = RetryBudget::default();
        assert_eq!(b.percent, 20.0);
        assert_eq!(b.min_concurrency, 3);
    }

    #[test]
    fn budget_hand_checked() {
        let b = RetryBudget::default();
        // 20 % of 10 = 2 < 3 → the minimum rules: retries 0, 1, 2 may start, the 4th may not.
        assert!(b.allows(10, 0));
        assert!(b.allows(10, 2));
        assert!(!b.allows(10, 3));
        // 20 % of 100 = 20.
        assert!(b.allows(100, 19));
        assert!(!b.allows(100, 20));
        // 20 % of 17 = 3.4 → truncated to 3, as Envoy does.
        assert_eq!(b.max_retries(17), 3);
        assert!(!b.allows(17, 3));
        // No requests at all still leaves the minimum.
        assert!(b.allows(0, 2));
        assert!(!b.allows(0, 3));
        // Exact for integer percents where percent/100 would round badly.
        let b35 = RetryBudget {
            percent: 35.0,
            min_concurrency: 0,
        };
        assert_eq!(b35.max_retries(20), 7);
        let b0 = RetryBudget {
            percent: 0.0,
            min_concurrency: 0,
        };
        assert!(!b0.allows(1_000, 0));
    }

    #[test]
    fn throttle_hand_checked() {
        let mut t = RetryThrottle::new(10.0, 0.1);
        assert_eq!(t.tokens(), 10.0);
        assert!(t.allows_retry());
        for i in 1..=4 {
            t.on_failure();
            assert_eq!(t.tokens(), 10.0 - i as f64);
            assert!(t.allows_retry());
        }
        t.on_failure();
        assert_eq!(t.tokens(), 5.0);
        assert!(!t.allows_retry(), "exactly half is not enough");
        t.on_success();
        assert_eq!(t.tokens(), 5.1);
        assert!(t.allows_retry());
    }

    #[test]
    fn throttle_clamps_and_does_not_drift() {
        let mut t = RetryThrottle::new(10.0, 0.1);
        for _ in 0..100 {
            t.on_success();
        }
        assert_eq!(t.tokens(), 10.0);
        for _ in 0..100 {
            t.on_failure();
        }
        assert_eq!(t.tokens(), 0.0);
        assert!(!t.allows_retry());
        // 51 successes of 0.1 from zero: 5.1 exactly (floats would give 5.099999…).
        for _ in 0..51 {
            t.on_success();
        }
        assert_eq!(t.tokens(), 5.1);
        assert!(t.allows_retry());
    }

    #[test]
    fn throttle_with_an_odd_number_of_thousandths() {
        // max 0.001: allowed only while the bucket holds its single thousandth.
        let mut t = RetryThrottle::new(0.001, 0.001);
        assert!(t.allows_retry());
        t.on_failure();
        assert!(!t.allows_retry());
        t.on_success();
        assert!(t.allows_retry());
    }

    proptest! {
        #[test]
        fn budget_never_lets_retries_exceed_its_share(
            percent in 0.0f64..=100.0,
            min in 0u32..50,
            active in 0u64..100_000,
        ) {
            let b = RetryBudget { percent, min_concurrency: min };
            // Start retries one by one while the budget allows; count them.
            let mut retries = 0u64;
            while b.allows(active, retries) {
                retries += 1;
            }
            let bound = (min as f64).max(percent / 100.0 * active as f64);
            prop_assert!(retries as f64 <= bound + 1e-9, "{retries} > {bound}");
            // And it is not stingier than the truncated bound.
            prop_assert!(retries as f64 > bound - 1.0 - 1e-9);
        }

        #[test]
        fn throttle_tokens_stay_in_zero_to_max(
            max in 1u32..=1000,
            ratio_milli in 1u32..=5000,
            ops in proptest::collection::vec(any::<bool>(), 0..400),
        ) {
            let max = max as f64;
            let mut t = RetryThrottle::new(max, ratio_milli as f64 / 1000.0);
            for ok in ops {
                if ok { t.on_success() } else { t.on_failure() }
                prop_assert!(t.tokens() >= 0.0 && t.tokens() <= max);
                prop_assert_eq!(t.allows_retry(), t.tokens() > max / 2.0);
            }
        }

        #[test]
        fn jittered_delays_respect_their_bounds(
            base_ms in 1u64..1_000,
            multiplier in 1.0f64..4.0,
            cap_ms in 1u64..100_000,
            retry in 1u32..200,
            prev_ms in 0u64..200_000,
            seed in any::<u64>(),
        ) {
            let b = exp(base_ms, multiplier, cap_ms);
            let t = b.nominal(retry);
            prop_assert!(t <= ms(cap_ms));
            let mut r = stream(seed, "prop");
            let full = policy(b, Jitter::Full).delay(retry, SimTime::ZERO, &mut r);
            prop_assert!(full <= t);
            let equal = policy(b, Jitter::Equal).delay(retry, SimTime::ZERO, &mut r);
            prop_assert!(SimTime(t.0 / 2) <= equal && equal <= t);
            let dec = policy(b, Jitter::Decorrelated).delay(retry, ms(prev_ms), &mut r);
            prop_assert!(dec <= ms(cap_ms));
            if cap_ms >= base_ms {
                prop_assert!(dec >= ms(base_ms));
            }
        }
    }
}
