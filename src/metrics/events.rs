//! The SLI events of every service on a fixed grid of virtual time: what burn-rate alerts
//! and incidents are computed from.
//!
//! Why not the time series: its rows widen with the run and with `--max-rows` (a 30-day
//! run gets 12-minute rows by default), and alerts evaluated on them fired late and
//! counted one crash as two incidents. The grid's width depends on the run's length
//! only, never on `window` or `--max-rows`: the finest of 100 ms, 1 s, 5 s, 10 s, 30 s and
//! 1 min that keeps the run within [`MAX_BUCKETS`] buckets (each of the SRE workbook's
//! windows is then a whole number of buckets); longer runs get whole minutes.
//!
//! Each request counts in the bucket it ended in (answered, refused, shed or lost), as
//! the availability and latency SLIs classify it (`health::slo`). A service counts into
//! its current bucket and keeps the buckets it has left only if they saw an event, so an
//! idle service costs nothing and recording is one comparison and a few increments.

use crate::engine::SimTime;

/// Buckets per service at most (except beyond 34 days, at one a minute).
pub const MAX_BUCKETS: u64 = 50_000;

/// One bucket's events of one service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SliCounts {
    /// Requests that ended or were refused (availability's valid events)...
    pub valid: u32,
    /// ...and those of them that were not answered `ok` (its bad events).
    pub bad: u32,
    /// Requests answered `ok` slower than the latency objective's threshold (latency's
    /// bad events; its valid ones are [`SliCounts::ok`]).
    pub slow: u32,
}

impl SliCounts {
    /// Requests answered `ok`: every valid event is either that or bad.
    pub fn ok(&self) -> u32 {
        self.valid - self.bad
    }
}

/// One service's events on the grid: `len` buckets of `width`, of which those that saw
/// an event are in `buckets` as `(index, counts)`, in index order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloEvents {
    pub width: SimTime,
    pub len: usize,
    pub buckets: Vec<(u32, SliCounts)>,
}

impl SloEvents {
    /// Every bucket's counts in index order, empty ones included.
    pub fn dense(&self) -> impl Iterator<Item = SliCounts> + '_ {
        let mut next = self.buckets.iter().peekable();
        (0..self.len).map(move |i| match next.next_if(|(b, _)| *b as usize == i) {
            Some(&(_, c)) => c,
            None => SliCounts::default(),
        })
    }
}

/// The grid's width for a run of `run` virtual time (see the module docs).
pub fn bucket_width(run: SimTime) -> SimTime {
    const WIDTHS_MS: [u64; 6] = [100, 1_000, 5_000, 10_000, 30_000, 60_000];
    let run_ms = run.0.div_ceil(1_000_000).max(1);
    let ms = WIDTHS_MS
        .iter()
        .copied()
        .find(|w| run_ms.div_ceil(*w) <= MAX_BUCKETS)
        .unwrap_or_else(|| run_ms.div_ceil(MAX_BUCKETS).div_ceil(60_000) * 60_000);
    SimTime(ms * 1_000_000)
}

/// Buckets needed to cover `run`, plus the one its end falls in.
pub fn bucket_count(run: SimTime, width: SimTime) -> usize {
    (run.0 / width.0.max(1) + 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_run_length_only() {
        let w = |s: u64| bucket_width(SimTime::from_secs(s)).as_secs_f64();
        assert_eq!(w(480), 0.1);
        assert_eq!(w(5_000), 0.1);
        assert_eq!(w(5_001), 1.0);
        assert_eq!(w(86_400), 5.0);
        // 30 days: one a minute, 43,200 buckets.
        assert_eq!(w(30 * 86_400), 60.0);
        assert_eq!(
            bucket_count(SimTime::from_secs(30 * 86_400), SimTime::from_secs(60)),
            43_201
        );
        // 90 days: whole minutes within the limit.
        assert_eq!(w(90 * 86_400), 180.0);
    }
}
