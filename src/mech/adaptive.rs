//! An adaptive call timeout (issue #24): one that follows a percentile of the call's
//! recent latencies, times a multiplier, smoothed, between a floor and a ceiling.
//!
//! What it imitates: the adaptive timeout of Facebook's LogDevice, as the
//! `adaptive-timeout` crate documents it (a high quantile of recent round trips times a
//! safety factor, clamped between a floor and a ceiling), percentile-driven deadlines such as Cassandra's
//! `speculative_retry = '99p'` (the coordinator re-reads once a read takes longer than
//! the table's p99) and the request-timeout advice of "The Tail at Scale" (Dean and
//! Barroso, 2013), with the floor, ceiling and smoothing that client libraries put around
//! such a rule. The rule, in order, after every attempt that ends:
//! 1. Its latency enters a ring of the last `window` samples. A timed-out attempt enters
//!    as the timeout it waited: the caller never learns how long it would have taken.
//! 2. `target = clamp(multiplier x pXX(ring), floor, ceiling)`, pXX by nearest rank.
//! 3. `timeout += smoothing x (target - timeout)` (an exponentially weighted average).
//!
//! It adapts from the first attempt: with one sample the percentile is that sample, so a
//! fast first answer takes it straight toward the floor (the crate instead keeps a
//! fallback until it has enough data; here the starting value holds until the first
//! attempt ends).
//!
//! Its failure modes are the point of modelling it: a slowdown raises the timeout with
//! it (riding out what a fixed timeout turns into retries), and a dependency that stays
//! slow drags it up to the ceiling, so callers hold their threads that much longer.

use crate::engine::SimTime;

/// `AdaptiveTimeout(...)` as validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveConfig {
    /// In (0, 100].
    pub percentile: f64,
    pub multiplier: f64,
    pub floor: SimTime,
    pub ceiling: SimTime,
    /// Samples the percentile is taken over.
    pub window: u32,
    /// Weight of each new target, in (0, 1].
    pub smoothing: f64,
}

/// One call edge's timeout.
#[derive(Debug, Clone)]
pub struct AdaptiveTimeout {
    cfg: AdaptiveConfig,
    ring: Vec<SimTime>,
    next: usize,
    /// A copy of the ring to select in, kept to stay allocation-free.
    scratch: Vec<SimTime>,
    current_ns: f64,
    min: SimTime,
    max: SimTime,
    /// Attempts observed, and how many of them moved the timeout up or down.
    samples: u64,
    raised: u64,
    lowered: u64,
}

impl AdaptiveTimeout {
    /// Starts at `initial` (the call's fixed timeout, or the ceiling), clamped.
    pub fn new(cfg: AdaptiveConfig, initial: SimTime) -> Self {
        let start = initial.clamp(cfg.floor, cfg.ceiling);
        AdaptiveTimeout {
            ring: Vec::with_capacity(cfg.window as usize),
            scratch: Vec::with_capacity(cfg.window as usize),
            next: 0,
            current_ns: start.0 as f64,
            min: start,
            max: start,
            samples: 0,
            raised: 0,
            lowered: 0,
            cfg,
        }
    }

    /// The timeout for the next attempt.
    pub fn current(&self) -> SimTime {
        SimTime(self.current_ns.round() as u64)
    }

    /// The lowest and highest timeout it has used.
    pub fn range(&self) -> (SimTime, SimTime) {
        (self.min, self.max)
    }

    /// Attempts observed, and how many raised and lowered the timeout.
    pub fn adjustments(&self) -> (u64, u64, u64) {
        (self.samples, self.raised, self.lowered)
    }

    /// An attempt ended after `latency` (a timed-out one: after the timeout it waited).
    pub fn observe(&mut self, latency: SimTime) {
        if self.ring.len() < self.cfg.window as usize {
            self.ring.push(latency);
        } else {
            self.ring[self.next] = latency;
        }
        self.next = (self.next + 1) % self.cfg.window as usize;
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.ring);
        // Nearest rank: the smallest sample with at least pXX% of samples at or below it.
        let n = self.scratch.len();
        let rank = ((self.cfg.percentile / 100.0 * n as f64).ceil() as usize).clamp(1, n);
        let (_, p, _) = self.scratch.select_nth_unstable(rank - 1);
        let target = (p.0 as f64 * self.cfg.multiplier)
            .clamp(self.cfg.floor.0 as f64, self.cfg.ceiling.0 as f64);
        let before = self.current();
        self.current_ns += self.cfg.smoothing * (target - self.current_ns);
        let now = self.current();
        self.samples += 1;
        if now > before {
            self.raised += 1;
        } else if now < before {
            self.lowered += 1;
        }
        self.min = self.min.min(now);
        self.max = self.max.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimTime {
        SimTime::from_millis(x)
    }

    fn cfg(smoothing: f64) -> AdaptiveConfig {
        AdaptiveConfig {
            percentile: 90.0,
            multiplier: 2.0,
            floor: ms(20),
            ceiling: ms(1000),
            window: 10,
            smoothing,
        }
    }

    /// Without smoothing the timeout is 2 x the p90 of the last 10 samples: samples
    /// 10, 20, ..., 100 ms have p90 = 90 ms (rank 9), so 180 ms; one more sample of
    /// 500 ms pushes out the 10 ms one, and the p90 of 20..100, 500 is 100 ms: 200 ms.
    #[test]
    fn follows_the_percentile_of_the_window() {
        let mut t = AdaptiveTimeout::new(cfg(1.0), ms(100));
        for i in 1..=10 {
            t.observe(ms(10 * i));
        }
        assert_eq!(t.current(), ms(180));
        t.observe(ms(500));
        assert_eq!(t.current(), ms(200));
        // Two more slow samples: p90 of 40..100, 500, 500, 500 is 500 ms: the ceiling.
        t.observe(ms(500));
        t.observe(ms(500));
        assert_eq!(t.current(), ms(1000));
        assert_eq!(t.range(), (ms(20), ms(1000)));
        // From 100 ms the first sample lowers it to the 20 ms floor, the next eight raise
        // it step by step to 180 ms, the tenth keeps 180 ms (rank 9 again), the 11th and
        // 12th raise it to 200 ms and the ceiling, the 13th keeps the ceiling.
        assert_eq!(t.adjustments(), (13, 10, 1));
    }

    /// Smoothing 0.5 moves halfway to each target: from 100 ms, a first sample of 5 ms
    /// (target clamped to the 20 ms floor) gives 60 ms, a second 40 ms.
    #[test]
    fn smoothing_and_floor() {
        let mut t = AdaptiveTimeout::new(cfg(0.5), ms(100));
        t.observe(ms(5));
        assert_eq!(t.current(), ms(60));
        t.observe(ms(5));
        assert_eq!(t.current(), ms(40));
        assert_eq!(t.range(), (ms(40), ms(100)));
    }
}
