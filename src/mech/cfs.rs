//! CFS bandwidth control: a container's CPU limit as the Linux kernel enforces it.
//!
//! Source: Linux `Documentation/scheduler/sched-bwc.rst`; Kubernetes
//! `manage-resources-containers` (semantics.md section 6.5). A limit of `L` cores gives
//! the container's cgroup a quota of `L x period` of CPU time per period (100 ms, the
//! kernel's and the kubelet's default), summed over all its threads. Threads run freely
//! until the period's quota is spent; then every thread of the container is throttled
//! until the next period starts, when the quota is refilled (no carry-over). A thread
//! that waits (IO, a downstream call, a sleep) uses no quota: only on-CPU time counts.
//!
//! Simplification: a request's CPU time is placed when its work starts, first come first
//! served: it takes what quota the period has left after the requests that started
//! before it, then the next periods'. So the CPU used per period never exceeds the quota
//! (the kernel's invariant), and the container's CPU throughput is the kernel's; but
//! where the kernel shares a period's quota fairly among the threads running in it, here
//! the earlier ones go first. Four threads of 100 ms at limit 1 end at 100, 200, 300 and
//! 400 ms here, and all at about 325 ms in the kernel: the same work per period, another
//! order. The node is assumed to have cores enough for the limit.

use crate::engine::SimTime;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The kernel's default CFS period (`cpu.cfs_period_us` = 100000).
pub const PERIOD: SimTime = SimTime::from_millis(100);

/// One container's CPU quota over the periods to come.
#[derive(Debug, Clone)]
pub struct CfsQuota {
    /// Quota per period, in nanoseconds of CPU time.
    quota: u64,
    /// Index of the period `used[0]` is for.
    first: u64,
    /// CPU time already placed in each period from `first` on, and whether a thread
    /// waited for quota in it.
    used: VecDeque<(u64, bool)>,
    /// Periods in which a thread waited for quota (the kernel's `nr_throttled`).
    pub throttled_periods: u64,
    /// Periods in which the container ran at all (the kernel's `nr_periods`: only
    /// periods with runnable threads count).
    pub periods: u64,
    /// Time requests spent throttled, in total (`throttled_time`, per request).
    pub throttled: SimTime,
}

impl CfsQuota {
    /// A container limited to `cores`.
    pub fn new(cores: f64) -> Self {
        CfsQuota {
            quota: ((cores * PERIOD.0 as f64).round() as u64).max(1),
            first: 0,
            used: VecDeque::new(),
            throttled_periods: 0,
            periods: 0,
            throttled: SimTime::ZERO,
        }
    }

    /// A new container (or none any more): no CPU time is placed; the counts stay.
    pub fn forget(&mut self) {
        self.used.clear();
    }

    /// A thread starts `work` of CPU time at `start`: when it is done, throttling
    /// included.
    pub fn run(&mut self, start: SimTime, work: SimTime) -> SimTime {
        let p = PERIOD.0;
        let mut k = start.0 / p;
        // Periods before this one are over: forget them.
        while self.first < k {
            if self.used.pop_front().is_none() {
                self.first = k;
                break;
            }
            self.first += 1;
        }
        let (mut at, mut left) = (start.0, work.0);
        loop {
            let i = (k - self.first) as usize;
            if self.used.len() <= i {
                self.used.resize(i + 1, (0, false));
            }
            let end = (k + 1) * p;
            let (used, waited) = &mut self.used[i];
            let quota_left = self.quota - *used;
            // One thread runs on one core: at most the rest of the period.
            let want = left.min(end - at);
            let take = want.min(quota_left);
            if *used == 0 && take > 0 {
                self.periods += 1;
            }
            *used += take;
            left -= take;
            if take < want && !*waited {
                *waited = true;
                self.throttled_periods += 1;
            }
            if left == 0 {
                let done = SimTime(at + take);
                self.throttled = self.throttled.after(SimTime(done.0 - start.0 - work.0));
                return done;
            }
            at = end;
            k += 1;
        }
    }
}

/// A service's CPU use over time (the autoscaler's metric, cAdvisor's
/// `container_cpu_usage_seconds_total`): each CPU phase adds its CPU time spread evenly
/// over the span it runs in (throttled, it runs slower), so the use up to any moment is
/// exact for unthrottled work and a close average for throttled work.
#[derive(Debug, Clone, Default)]
pub struct CpuMeter {
    /// Cores in use now, in nanocores.
    level: u64,
    since: SimTime,
    /// Use so far, in nanocore-nanoseconds.
    area: u128,
    /// When each running phase ends, and its rate in nanocores.
    ends: BinaryHeap<Reverse<(SimTime, u64)>>,
}

impl CpuMeter {
    fn advance(&mut self, now: SimTime) {
        while let Some(&Reverse((end, rate))) = self.ends.peek() {
            if end > now {
                break;
            }
            self.area += self.level as u128 * (end.0 - self.since.0) as u128;
            self.since = end;
            self.level -= rate;
            self.ends.pop();
        }
        self.area += self.level as u128 * now.0.saturating_sub(self.since.0) as u128;
        self.since = self.since.max(now);
    }

    /// A thread runs `cpu` of CPU time between `start` (now) and `start + span`.
    pub fn run(&mut self, start: SimTime, span: SimTime, cpu: SimTime) {
        self.advance(start);
        if span == SimTime::ZERO {
            self.area += cpu.0 as u128 * 1_000_000_000;
            return;
        }
        let rate = (cpu.0 as u128 * 1_000_000_000 / span.0 as u128) as u64;
        self.level += rate;
        self.ends.push(Reverse((start.after(span), rate)));
    }

    /// CPU time used up to `now`, in nanoseconds.
    pub fn used(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        self.area / 1_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    #[test]
    fn the_meter_spreads_each_phase_over_its_span() {
        let mut m = CpuMeter::default();
        // Two threads of 100 ms from 0; one throttled to half speed from 50 ms.
        m.run(SimTime::ZERO, ms(100), ms(100));
        m.run(ms(50), ms(200), ms(100));
        assert_eq!(m.used(ms(50)), ms(50).0 as u128);
        assert_eq!(m.used(ms(100)), ms(125).0 as u128);
        assert_eq!(m.used(ms(250)), ms(200).0 as u128);
        assert_eq!(m.used(ms(900)), ms(200).0 as u128);
    }

    #[test]
    fn below_the_quota_nothing_waits() {
        // Limit 2: 200 ms of CPU per 100 ms. Three threads of 50 ms at once use 150 ms.
        let mut q = CfsQuota::new(2.0);
        for _ in 0..3 {
            assert_eq!(q.run(ms(10), ms(50)), ms(60));
        }
        assert_eq!((q.throttled_periods, q.throttled), (0, SimTime::ZERO));
    }

    #[test]
    fn four_busy_threads_at_one_core_get_one_period_each() {
        // semantics.md 6.5: 4 threads at limit 1 exhaust the quota; 400 ms of CPU take 4
        // periods. First come first served: 100, 200, 300, 400 ms.
        let mut q = CfsQuota::new(1.0);
        let ends: Vec<SimTime> = (0..4).map(|_| q.run(SimTime::ZERO, ms(100))).collect();
        assert_eq!(ends, vec![ms(100), ms(200), ms(300), ms(400)]);
        assert_eq!(q.throttled_periods, 3, "the last period had quota enough");
        assert_eq!(q.periods, 4, "nr_periods: 3 of 4 throttled, 75%");
        assert_eq!(q.throttled, ms(100 + 200 + 300));
    }

    #[test]
    fn half_a_core_throttles_even_one_thread() {
        // 500m: 50 ms per period. 120 ms of work from 0: 50 + 50 + 20 -> done at 220 ms.
        let mut q = CfsQuota::new(0.5);
        assert_eq!(q.run(SimTime::ZERO, ms(120)), ms(220));
        assert_eq!(q.throttled_periods, 2);
    }

    #[test]
    fn the_quota_refills_each_period_without_carry_over() {
        let mut q = CfsQuota::new(1.0);
        // Spend period 0 entirely, then a request in period 3 runs at once.
        assert_eq!(q.run(SimTime::ZERO, ms(100)), ms(100));
        assert_eq!(q.run(ms(350), ms(30)), ms(380));
        // A request late in a period with quota left runs to the period's end, then on.
        assert_eq!(q.run(ms(390), ms(30)), ms(420));
    }

    #[test]
    fn cpu_per_period_never_exceeds_the_quota() {
        let mut q = CfsQuota::new(1.5);
        let mut placed = 0u64;
        for i in 0..200u64 {
            let end = q.run(
                SimTime::from_millis(i * 7),
                SimTime::from_millis(5 + i % 40),
            );
            assert!(end.0 >= i * 7_000_000);
            placed += 5 + i % 40;
        }
        assert!(q.used.iter().all(|&(u, _)| u <= q.quota));
        assert!(placed > 0);
    }
}
