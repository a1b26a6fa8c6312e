//! Arrival-rate schedules: a piecewise-linear rate over time, and exact non-homogeneous
//! Poisson arrivals from it by thinning (Lewis and Shedler, 1979).

use crate::engine::{SimTime, Stream};
use rand::Rng;
use rand_distr::{Distribution, Exp1};

/// Rate in requests per second as a function of time: linear between breakpoints,
/// constant after the last. Two breakpoints at the same time make a step.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSchedule {
    points: Vec<(SimTime, f64)>,
}

impl RateSchedule {
    /// A constant rate.
    pub fn constant(rate: f64) -> Self {
        RateSchedule {
            points: vec![(SimTime::ZERO, rate)],
        }
    }

    /// From breakpoints in time order, starting at time zero (validated by the caller).
    pub fn from_points(points: Vec<(SimTime, f64)>) -> Self {
        debug_assert!(points.windows(2).all(|w| w[0].0 <= w[1].0));
        debug_assert!(!points.is_empty() && points[0].0 == SimTime::ZERO);
        RateSchedule { points }
    }

    /// The rate at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let i = self.segment(t, 0);
        self.rate_in(i, t)
    }

    /// The highest rate anywhere.
    pub fn peak(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }

    /// Expected number of arrivals from time zero to `end`: the integral of the rate
    /// (exact for a piecewise-linear rate). Lets a run refuse an impossible load up front.
    pub fn expected_count(&self, end: SimTime) -> f64 {
        let mut total = 0.0;
        for (i, &(t0, r0)) in self.points.iter().enumerate() {
            if t0 >= end {
                break;
            }
            let t1 = self.points.get(i + 1).map_or(end, |p| p.0.min(end));
            let r1 = self.rate_in(i, t1);
            total += (r0 + r1) / 2.0 * t1.since(t0).as_secs_f64();
        }
        total
    }

    /// Index of the last breakpoint at or before `t`, searching forward from `from`.
    fn segment(&self, t: SimTime, from: usize) -> usize {
        let mut i = from.min(self.points.len() - 1);
        while i + 1 < self.points.len() && self.points[i + 1].0 <= t {
            i += 1;
        }
        i
    }

    fn rate_in(&self, i: usize, t: SimTime) -> f64 {
        let (t0, r0) = self.points[i];
        match self.points.get(i + 1) {
            Some(&(t1, r1)) if t1 > t0 => {
                r0 + (r1 - r0) * (t.0 - t0.0) as f64 / (t1.0 - t0.0) as f64
            }
            _ => r0,
        }
    }
}

/// Where an open workload is in its schedule, so that each arrival costs O(1): the
/// current segment's end and peak are kept until time passes the end.
#[derive(Debug, Clone, Default)]
pub struct ArrivalCursor {
    segment: usize,
    entered: bool,
    end: SimTime,
    peak: f64,
    mean_gap_ns: f64,
    flat: bool,
    /// Entered, flat and with a positive rate: the next arrival is one draw away.
    steady: bool,
}

impl ArrivalCursor {
    fn enter(&mut self, s: &RateSchedule, t: SimTime) {
        self.segment = s.segment(t, self.segment);
        let (_, r0) = s.points[self.segment];
        let (end, r1) = match s.points.get(self.segment + 1) {
            Some(&p) => p,
            None => (SimTime::MAX, r0),
        };
        self.entered = true;
        self.end = end;
        self.peak = r0.max(r1);
        self.mean_gap_ns = 1e9 / self.peak;
        self.flat = r0 == r1;
        self.steady = self.flat && self.peak > 0.0;
    }

    /// `t` plus an exponential gap at the segment's peak rate.
    #[inline]
    fn after_gap(&self, t: SimTime, rng: &mut Stream) -> SimTime {
        let e: f64 = Exp1.sample(rng);
        // `+ 0.5` then truncation rounds (the gap is positive) without a libm call.
        let gap_ns = (e * self.mean_gap_ns + 0.5).clamp(1.0, 1e18);
        t.after(SimTime(gap_ns as u64))
    }

    /// The first arrival strictly after `now`, or `None` if the rate stays zero forever.
    #[inline(always)]
    pub fn next(&mut self, s: &RateSchedule, now: SimTime, rng: &mut Stream) -> Option<SimTime> {
        // A constant rate (every arrival of a plain open workload) in a few instructions;
        // the same draws as `next_from`, which handles everything else.
        if self.steady && now < self.end {
            let candidate = self.after_gap(now, rng);
            if candidate < self.end {
                return Some(candidate);
            }
            return self.next_from(s, self.end, rng);
        }
        self.next_from(s, now, rng)
    }

    #[inline(never)]
    fn next_from(&mut self, s: &RateSchedule, now: SimTime, rng: &mut Stream) -> Option<SimTime> {
        let mut t = now;
        loop {
            if !self.entered || t >= self.end {
                self.enter(s, t);
            }
            if self.peak <= 0.0 {
                if self.end == SimTime::MAX {
                    return None;
                }
                t = self.end;
                continue;
            }
            let candidate = self.after_gap(t, rng);
            if candidate >= self.end {
                // Memoryless: restart the draw at the next breakpoint.
                t = self.end;
                continue;
            }
            t = candidate;
            if self.flat || rng.random::<f64>() * self.peak < s.rate_in(self.segment, t) {
                return Some(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn count(s: &RateSchedule, from: SimTime, to: SimTime) -> usize {
        let mut rng = stream(5, "arrivals");
        let mut c = ArrivalCursor::default();
        let mut t = SimTime::ZERO;
        let mut n = 0;
        while let Some(next) = c.next(s, t, &mut rng) {
            if next >= to {
                break;
            }
            if next >= from {
                n += 1;
            }
            t = next;
        }
        n
    }

    #[test]
    fn constant_rate_gives_poisson_counts() {
        let n = count(
            &RateSchedule::constant(100.0),
            SimTime::ZERO,
            SimTime::from_secs(1000),
        );
        assert!((n as f64 / 100_000.0 - 1.0).abs() < 0.01, "{n}");
    }

    #[test]
    fn ramps_and_steps_follow_the_schedule() {
        let s = RateSchedule::from_points(vec![
            (SimTime::ZERO, 100.0),
            (SimTime::from_secs(100), 100.0),
            (SimTime::from_secs(200), 300.0), // ramp 100 -> 300: mean 200/s
            (SimTime::from_secs(300), 300.0),
            (SimTime::from_secs(300), 0.0), // step to zero
        ]);
        assert_eq!(s.rate_at(SimTime::from_secs(150)), 200.0);
        let ramp = count(&s, SimTime::from_secs(100), SimTime::from_secs(200));
        assert!((ramp as f64 / 20_000.0 - 1.0).abs() < 0.03, "{ramp}");
        assert_eq!(
            count(&s, SimTime::from_secs(300), SimTime::from_secs(400)),
            0
        );
        assert_eq!(s.peak(), 300.0);
    }
}
