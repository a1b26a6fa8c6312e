//! Time averages of a level (requests in system, busy servers, queue length): the area
//! under the level, accumulated whenever it changes, so memory is constant however long
//! the run.

use crate::engine::SimTime;

#[derive(Debug, Clone, Default)]
pub struct Level {
    value: u64,
    last: SimTime,
    /// Area (value x ns) since time zero: one addition per change.
    area: u128,
    /// `area` when the statistics started (the end of the warmup).
    stats_mark: u128,
    /// `area` when the current time-series window started.
    window_mark: u128,
}

impl Level {
    /// A level that starts at `value` at time zero.
    pub fn starting_at(value: u64) -> Self {
        Level {
            value,
            ..Level::default()
        }
    }

    /// Moves the level to `value` at `now`.
    pub fn set(&mut self, now: SimTime, value: u64) {
        self.advance(now);
        self.value = value;
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        let dt = now.since(self.last).0 as u128;
        self.area += self.value as u128 * dt;
        self.last = now;
    }

    #[inline]
    pub fn up(&mut self, now: SimTime) {
        self.advance(now);
        self.value += 1;
    }

    #[inline]
    pub fn down(&mut self, now: SimTime) {
        self.advance(now);
        debug_assert!(self.value > 0, "level below zero");
        self.value -= 1;
    }

    /// Area (value x ns) since time zero, up to `now`.
    pub fn area(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        self.area
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    /// Statistics start now: the area so far is left out of `mean`.
    pub fn restart(&mut self, now: SimTime) {
        self.advance(now);
        self.stats_mark = self.area;
    }

    /// Average over `[start, now)`, where `start` is when the statistics started.
    pub fn mean(&mut self, now: SimTime, start: SimTime) -> f64 {
        per(self.stats_area(now), now.since(start).0)
    }

    /// Average over the window `[now - width, now)`, then starts the next window.
    pub fn take_window(&mut self, now: SimTime, width: SimTime) -> f64 {
        per(self.take_window_area(now), width.0)
    }

    /// Area of the window that ends at `now`; starts the next window.
    pub fn take_window_area(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        let window_area = self.area - self.window_mark;
        self.window_mark = self.area;
        window_area
    }

    /// Area since the statistics started, up to `now`.
    pub fn stats_area(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        self.area - self.stats_mark
    }
}

/// An area over a span of `ns` nanoseconds as an average (0 for an empty span). Areas
/// are exact integers, so the average of a sum of levels is the sum of their areas over
/// the span: a level that is the sum of others need not be kept.
pub fn per(area: u128, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        area as f64 / ns as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_over_time() {
        let mut l = Level::default();
        l.up(SimTime(0));
        l.up(SimTime(10)); // 1 for 10ns
        l.down(SimTime(20)); // 2 for 10ns
        assert_eq!(l.mean(SimTime(40), SimTime(0)), (10.0 + 20.0 + 20.0) / 40.0);
        assert_eq!(l.take_window(SimTime(40), SimTime(40)), 50.0 / 40.0);
        l.restart(SimTime(40));
        assert_eq!(l.mean(SimTime(50), SimTime(40)), 1.0);
        // A sum of levels averages as the sum of their areas.
        let mut m = Level::default();
        m.up(SimTime(45));
        let both = l.stats_area(SimTime(50)) + m.stats_area(SimTime(50));
        assert_eq!(per(both, 10), 1.5);
        assert_eq!(per(both, 0), 0.0);
    }
}
