//! Rate limiters that count permits per period, as two real libraries do it.
//!
//! - [`FixedWindowLimiter`]: Resilience4j's `AtomicRateLimiter`
//!   (`resilience4j-ratelimiter/src/main/java/io/github/resilience4j/ratelimiter/internal/AtomicRateLimiter.java`).
//!   Time since the limiter was made is cut into cycles of `limitRefreshPeriod`; at the first
//!   call in a new cycle the permissions become `min(permissions + elapsed cycles ×
//!   limitForPeriod, limitForPeriod)`. A caller that finds none *reserves* one anyway
//!   (permissions go negative) if the wait until the cycle that covers it is at most
//!   `timeoutDuration`, and sleeps until then: waiters are served in the order they came,
//!   because each reservation pushes the next one a permit later. A caller whose wait would
//!   exceed the timeout reserves nothing, yet `acquirePermission` still parks it for the
//!   whole timeout before it fails with `RequestNotPermitted` (`waitForPermissionIfNecessary`):
//!   kept here, nothing improved on the original.
//! - [`LocalRateLimit`]: Envoy's local rate limit filter
//!   (`source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc`, the
//!   timer-based token bucket): the bucket starts full with `max_tokens`, a timer adds
//!   `tokens_per_fill` every `fill_interval` (never above `max_tokens`), and a request passes
//!   iff a token is left; otherwise it is answered 429 at once.
//!
//! Both are exact integer arithmetic on virtual nanoseconds and draw no randomness.

use crate::engine::SimTime;

/// Resilience4j's `AtomicRateLimiter`, one permit per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedWindowLimiter {
    /// `limitRefreshPeriod` in nanoseconds (at least 1).
    period: u64,
    /// `limitForPeriod`.
    limit: i64,
    /// `timeoutDuration`.
    timeout: SimTime,
    /// `activeCycle` and `activePermissions` of the last state written.
    cycle: u64,
    permissions: i64,
}

/// What a caller of [`FixedWindowLimiter::acquire`] gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// A permit now.
    Now,
    /// A permit reserved: the caller sleeps this long, then goes on.
    After(SimTime),
    /// No permit: the caller sleeps this long (its whole timeout), then fails (429).
    Rejected(SimTime),
}

impl FixedWindowLimiter {
    /// A limiter made at time zero, with the full quota of its first cycle.
    pub fn new(limit_for_period: u32, refresh_period: SimTime, timeout: SimTime) -> Self {
        FixedWindowLimiter {
            period: refresh_period.0.max(1),
            limit: limit_for_period as i64,
            timeout,
            cycle: 0,
            permissions: limit_for_period as i64,
        }
    }

    /// `calculateNextState` without a reservation: the cycle and permissions at `now`.
    fn refreshed(&self, now: SimTime) -> (u64, i64) {
        let current = now.0 / self.period;
        if current == self.cycle {
            return (self.cycle, self.permissions);
        }
        let elapsed = (current - self.cycle) as i128;
        let accumulated = (self.permissions as i128 + elapsed * self.limit as i128)
            .min(self.limit as i128) as i64;
        (current, accumulated)
    }

    /// `nanosToWaitForPermission`: how long until the cycle whose quota covers one more
    /// permit, with `available` permissions left in cycle `cycle` at `now`.
    fn wait_for(&self, available: i64, cycle: u64, now: SimTime) -> u64 {
        if available >= 1 {
            return 0;
        }
        let to_next_cycle = (cycle + 1) * self.period - now.0;
        let at_next_cycle = available + self.limit;
        // divCeil(-(at_next_cycle - 1), limit): whole cycles more to wait.
        let short = 1 - at_next_cycle;
        let full_cycles = if short <= 0 {
            0
        } else if self.limit == 0 {
            return u64::MAX;
        } else {
            (short + self.limit - 1) / self.limit
        };
        (full_cycles as u64)
            .saturating_mul(self.period)
            .saturating_add(to_next_cycle)
    }

    /// `acquirePermission()` at `now`: refresh, compute the wait, reserve if it fits in the
    /// timeout (`timeoutInNanos >= nanosToWait`).
    pub fn acquire(&mut self, now: SimTime) -> Permit {
        let (cycle, permissions) = self.refreshed(now);
        let wait = self.wait_for(permissions, cycle, now);
        self.cycle = cycle;
        if self.timeout.0 >= wait {
            self.permissions = permissions - 1;
            if wait == 0 {
                Permit::Now
            } else {
                Permit::After(SimTime(wait))
            }
        } else {
            self.permissions = permissions;
            Permit::Rejected(self.timeout)
        }
    }

    /// `getAvailablePermissions()` at `now` (negative while callers hold reservations).
    pub fn available_permissions(&self, now: SimTime) -> i64 {
        self.refreshed(now).1
    }

    /// `getNanosToWait()` at `now`: how long a caller arriving now would wait.
    pub fn nanos_to_wait(&self, now: SimTime) -> u64 {
        let (cycle, permissions) = self.refreshed(now);
        self.wait_for(permissions, cycle, now)
    }
}

/// Envoy's local rate limit: a timer-filled token bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRateLimit {
    max_tokens: u64,
    tokens_per_fill: u64,
    /// `fill_interval` in nanoseconds (at least 1).
    interval: u64,
    tokens: u64,
    /// Fill timers that have fired by the last call (`⌊t / interval⌋`).
    fills: u64,
}

impl LocalRateLimit {
    /// A full bucket at time zero; its fill timer fires at every multiple of `fill_interval`.
    pub fn new(max_tokens: u32, tokens_per_fill: u32, fill_interval: SimTime) -> Self {
        LocalRateLimit {
            max_tokens: max_tokens as u64,
            tokens_per_fill: tokens_per_fill as u64,
            interval: fill_interval.0.max(1),
            tokens: max_tokens as u64,
            fills: 0,
        }
    }

    /// Spends a token at `now` if one is left (after the fills due by `now`).
    pub fn try_acquire(&mut self, now: SimTime) -> bool {
        let fills = now.0 / self.interval;
        if fills > self.fills {
            let added = (fills - self.fills).saturating_mul(self.tokens_per_fill);
            self.tokens = self.tokens.saturating_add(added).min(self.max_tokens);
            self.fills = fills;
        }
        if self.tokens >= 1 {
            self.tokens -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    //! Cases rebuilt from Resilience4j's
    //! `resilience4j-ratelimiter/src/test/java/io/github/resilience4j/ratelimiter/internal/AtomicRateLimiterTest.java`:
    //! its constants are a cycle of 250 ms (`CYCLE_IN_NANOS`) and one permission per cycle,
    //! and its mocked `currentNanoTime` is our virtual time. Expected values worked by hand
    //! from the formulas in the module doc.
    use super::*;
    use proptest::prelude::*;

    const CYCLE: u64 = 250_000_000;

    fn limiter(timeout: u64) -> FixedWindowLimiter {
        FixedWindowLimiter::new(1, SimTime(CYCLE), SimTime(timeout))
    }

    /// `permissionsInFirstCycle`: just before the first cycle ends, the full quota is there.
    #[test]
    fn permissions_in_first_cycle() {
        let l = limiter(0);
        assert_eq!(l.available_permissions(SimTime(CYCLE - 10)), 1);
    }

    /// `acquireAndRefreshWithEventPublishing`: timeout 0; at one cycle a permit, then none
    /// (and the next would wait a whole cycle); at two cycles a permit again, then none.
    #[test]
    fn acquire_and_refresh() {
        let mut l = limiter(0);
        let t = SimTime(CYCLE);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.available_permissions(t), 0);
        assert_eq!(l.nanos_to_wait(t), CYCLE);
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime::ZERO));
        assert_eq!(l.available_permissions(t), 0);
        assert_eq!(l.nanos_to_wait(t), CYCLE);
        let t = SimTime(2 * CYCLE);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.available_permissions(t), 0);
        assert_eq!(l.nanos_to_wait(t), CYCLE);
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime::ZERO));
    }

    /// `reserveAndRefresh`: timeout one cycle. The second caller reserves (permissions −1)
    /// and sleeps to the next cycle; a third would wait two cycles. At 2 cycles + 10 ns the
    /// reservation is used up: 0 left, the next waits a cycle minus 10 ns.
    #[test]
    fn reserve_and_refresh() {
        let mut l = limiter(CYCLE);
        let t = SimTime(CYCLE);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::After(SimTime(CYCLE)));
        assert_eq!(l.available_permissions(t), -1);
        assert_eq!(l.nanos_to_wait(t), 2 * CYCLE);
        let t = SimTime(2 * CYCLE + 10);
        assert_eq!(l.available_permissions(t), 0);
        assert_eq!(l.nanos_to_wait(t), CYCLE - 10);
    }

    /// `reserveFewThenSkipCyclesBeforeRefresh`: timeout one cycle. The first waiter
    /// reserves; the second would wait two cycles, more than its timeout: it reserves
    /// nothing but sleeps its whole timeout before failing. Skipping to 6 cycles + 10 ns
    /// leaves exactly one permission (no carry-over beyond one quota) and no wait.
    #[test]
    fn reserve_few_then_skip_cycles_before_refresh() {
        let mut l = limiter(CYCLE);
        let t = SimTime(CYCLE);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::After(SimTime(CYCLE)));
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime(CYCLE)));
        assert_eq!(l.available_permissions(t), -1);
        assert_eq!(l.nanos_to_wait(t), 2 * CYCLE);
        let t = SimTime(6 * CYCLE + 10);
        assert_eq!(l.available_permissions(t), 1);
        assert_eq!(l.nanos_to_wait(t), 0);
    }

    /// `reserveManyCyclesIfWeightGreaterThanLimitPerPeriod`'s situation with one permit a
    /// call: a 5-cycle period and a timeout of 10 cycles. Three callers at the start of the
    /// second period: now, after one period, after two; a fourth would wait three periods.
    #[test]
    fn waiters_are_served_one_period_apart_in_arrival_order() {
        let period = 5 * CYCLE;
        let mut l = FixedWindowLimiter::new(1, SimTime(period), SimTime(10 * CYCLE));
        let t = SimTime(period);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::After(SimTime(period)));
        assert_eq!(l.acquire(t), Permit::After(SimTime(2 * period)));
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime(10 * CYCLE)));
        assert_eq!(l.available_permissions(t), -2);
    }

    /// `notSpyRawNonBlockingTest`'s rule with `limitForPeriod` 2: two permits per cycle,
    /// the third of a cycle is refused at timeout 0, and the quota comes back whole.
    #[test]
    fn two_per_cycle_then_refused_then_renewed() {
        let mut l = FixedWindowLimiter::new(2, SimTime(CYCLE), SimTime::ZERO);
        let t = SimTime(CYCLE + 5);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime::ZERO));
        assert_eq!(l.nanos_to_wait(t), CYCLE - 5);
        let t = SimTime(2 * CYCLE);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime::ZERO));
    }

    /// The timeout comparison is `timeoutInNanos >= nanosToWait`: a wait of exactly the
    /// timeout is granted.
    #[test]
    fn a_wait_of_exactly_the_timeout_is_granted() {
        let mut l = limiter(CYCLE - 100);
        let t = SimTime(100);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::After(SimTime(CYCLE - 100)));
        let mut l = limiter(CYCLE - 101);
        assert_eq!(l.acquire(t), Permit::Now);
        assert_eq!(l.acquire(t), Permit::Rejected(SimTime(CYCLE - 101)));
    }

    /// Envoy's local rate limit: 2 tokens, 1 per 100 ms. Two pass at once, the third is
    /// refused; the timer at 100 ms gives one; after 1 s of silence the bucket holds its
    /// maximum of 2, not 10.
    #[test]
    fn envoy_local_rate_limit_fills_on_its_timer() {
        let ms = SimTime::from_millis;
        let mut l = LocalRateLimit::new(2, 1, ms(100));
        assert!(l.try_acquire(ms(0)));
        assert!(l.try_acquire(ms(0)));
        assert!(!l.try_acquire(ms(99)));
        assert!(l.try_acquire(ms(100)));
        assert!(!l.try_acquire(ms(150)));
        assert!(l.try_acquire(ms(1200)));
        assert!(l.try_acquire(ms(1200)));
        assert!(!l.try_acquire(ms(1200)));
    }

    proptest! {
        /// Over any stretch of whole cycles, at most the first cycle's quota plus one quota
        /// per later cycle is granted, and every granted wait ends within the timeout.
        #[test]
        fn grants_never_outrun_the_quota(
            limit in 1u32..5,
            period in 1u64..1_000,
            timeout in 0u64..3_000,
            gaps in proptest::collection::vec(0u64..400, 1..200),
        ) {
            let mut l = FixedWindowLimiter::new(limit, SimTime(period), SimTime(timeout));
            let mut now = 0u64;
            let mut served_by: Vec<u64> = Vec::new();
            for g in gaps {
                now += g;
                match l.acquire(SimTime(now)) {
                    Permit::Now => served_by.push(now),
                    Permit::After(w) => {
                        prop_assert!(w.0 <= timeout);
                        served_by.push(now + w.0);
                    }
                    Permit::Rejected(w) => prop_assert_eq!(w.0, timeout),
                }
            }
            // Permits used by the end of cycle c: at most limit × (c + 1).
            served_by.sort_unstable();
            for (i, t) in served_by.iter().enumerate() {
                let cycle = t / period;
                prop_assert!((i as u64) < limit as u64 * (cycle + 1), "{i} permits by cycle {cycle}");
            }
        }
    }
}
