//! Event-time windows of a stream job (issue #24): which windows an event belongs to, the
//! watermark, and which of its windows are late. Pure functions; `run::stream` keeps the
//! per-partition state and the transactional bookkeeping.
//!
//! Semantics are Apache Flink's, kept as the source has them:
//! - Windows start at multiples of `slide` (epoch 0, no offset) and last `size`:
//!   `TumblingEventTimeWindows` when `slide == size`, `SlidingEventTimeWindows` otherwise
//!   (`TimeWindow.getWindowStartWithOffset`). An event at `t` is in every window with
//!   `start <= t < start + size`, negative starts included, as Flink assigns them.
//! - Watermark: `BoundedOutOfOrdernessWatermarks` emits `max event time seen -
//!   outOfOrderness - 1`. A window fires once the watermark reaches its `maxTimestamp()`
//!   (`end - 1`, `EventTimeTrigger`): once an event at `end + out_of_orderness` or later
//!   has been seen.
//! - Lateness (`WindowOperator.isWindowLate`): a window is late once `maxTimestamp() +
//!   allowedLateness <= watermark`; an event skips its late windows and is dropped (the
//!   `numLateRecordsDropped` metric) when all of them are late. An event into a window
//!   that already fired but is not late fires it again: an update of its result.
//!
//! Here the watermark is per input partition (one task per partition, as Kafka Streams
//! keeps stream time per task) and is taken before the event itself moves it.

use crate::engine::SimTime;
use crate::model::Dist;

/// What a stream job's output guarantees after a crash (Kafka Streams'
/// `processing.guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// Outputs (window counts) are written as events are processed; offsets are committed
    /// later. A crash between the two replays the uncommitted events into outputs that
    /// already hold them: double counts.
    AtLeastOnce,
    /// Outputs and offsets are committed in one transaction (`sendOffsetsToTransaction`,
    /// read by `read_committed` consumers); a crash aborts the open transaction, so the
    /// replayed events are counted once.
    ExactlyOnce,
}

/// A windowed count over a consumer group's topic.
#[derive(Debug, Clone)]
pub struct StreamJob {
    pub size: SimTime,
    /// Equal to `size` for tumbling windows.
    pub slide: SimTime,
    /// How long before its append to the topic each event happened.
    pub event_delay: Dist,
    pub out_of_orderness: SimTime,
    pub allowed_lateness: SimTime,
    pub guarantee: Guarantee,
}

/// Where one event lands: windows `live..=last` take it (none when `live > last`, a
/// dropped event), windows `first..live` were late; `update` when a window it joins has
/// already fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landing {
    pub first: i64,
    pub live: i64,
    pub last: i64,
    pub update: bool,
}

impl Landing {
    pub fn dropped(&self) -> bool {
        self.live > self.last
    }
}

impl StreamJob {
    /// Index `k` of the windows holding event time `t`: window `k` is
    /// `[k * slide, k * slide + size)`.
    pub fn windows(&self, t: SimTime) -> (i64, i64) {
        let (t, size, slide) = (t.0 as i64, self.size.0 as i64, self.slide.0 as i64);
        let last = t.div_euclid(slide);
        let first = (t - size).div_euclid(slide) + 1;
        (first, last)
    }

    /// Window `k`'s end, in nanoseconds (may be negative).
    pub fn end_ns(&self, k: i64) -> i64 {
        k * self.slide.0 as i64 + self.size.0 as i64
    }

    /// Where an event at `t` lands, given the largest event time its partition has seen
    /// before it (`None`: nothing yet, the watermark is at its minimum).
    pub fn land(&self, t: SimTime, max_seen: Option<SimTime>) -> Landing {
        let (first, last) = self.windows(t);
        let Some(max) = max_seen else {
            return Landing {
                first,
                live: first,
                last,
                update: false,
            };
        };
        // Flink's watermark is max - bound - 1; "end - 1 + lateness <= watermark" is
        // "end + lateness <= max - bound", which keeps the arithmetic exact.
        let mark = max.0 as i64 - self.out_of_orderness.0 as i64;
        let lateness = self.allowed_lateness.0 as i64;
        let mut live = first;
        while live <= last && self.end_ns(live) + lateness <= mark {
            live += 1;
        }
        let update = live <= last && self.end_ns(live) <= mark;
        Landing {
            first,
            live,
            last,
            update,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(size: u64, slide: u64, bound: u64, lateness: u64) -> StreamJob {
        StreamJob {
            size: SimTime::from_secs(size),
            slide: SimTime::from_secs(slide),
            event_delay: Dist::Constant(SimTime::ZERO),
            out_of_orderness: SimTime::from_secs(bound),
            allowed_lateness: SimTime::from_secs(lateness),
            guarantee: Guarantee::AtLeastOnce,
        }
    }

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    #[test]
    fn tumbling_and_sliding_assignment_match_flink() {
        // Tumbling 10 s: 9 s is in [0, 10); 10 s in [10, 20).
        assert_eq!(job(10, 10, 0, 0).windows(s(9)), (0, 0));
        assert_eq!(job(10, 10, 0, 0).windows(s(10)), (1, 1));
        // Sliding 10 s every 5 s: 12 s is in [5, 15) and [10, 20).
        assert_eq!(job(10, 5, 0, 0).windows(s(12)), (1, 2));
        // Near zero Flink assigns windows with a negative start: 3 s is in [-5, 5), [0, 10).
        assert_eq!(job(10, 5, 0, 0).windows(s(3)), (-1, 0));
        // Sliding 10 s every 3 s (slide does not divide size): 10 s is in [3, 13), [6, 16),
        // [9, 19); not [0, 10).
        assert_eq!(job(10, 3, 0, 0).windows(s(10)), (1, 3));
    }

    /// Hand-worked sequence on one partition, tumbling 10 s, bound 2 s, lateness 3 s:
    /// events at 5, 13, 11, 12 (watermark max 13 - 2 = 11 -> [0, 10) fired), then 8 (an
    /// update: fired, 10 + 3 > 11), then 16 (mark 14), then 7 (late: 10 + 3 <= 14, dropped).
    #[test]
    fn watermark_fires_updates_then_drops() {
        let j = job(10, 10, 2, 3);
        let mut max = None;
        let mut out = Vec::new();
        for t in [5, 13, 11, 12, 8, 16, 7] {
            let l = j.land(s(t), max);
            out.push((l.live - l.first, l.dropped(), l.update));
            max = Some(max.map_or(s(t), |m: SimTime| m.max(s(t))));
        }
        let f = (0, false, false);
        assert_eq!(out, [f, f, f, f, (0, false, true), f, (1, true, false)]);
    }

    /// Without lateness an event behind the watermark is dropped, never an update;
    /// sliding windows drop only the late ones: 12 s is in [5, 15) and [10, 20); with the
    /// partition at 17 and no bound, [5, 15) is late and [10, 20) takes it.
    #[test]
    fn late_windows_are_skipped_one_by_one() {
        let j = job(10, 10, 0, 0);
        assert!(j.land(s(9), Some(s(10))).dropped());
        assert!(!j.land(s(9), Some(s(9))).dropped());
        let l = job(10, 5, 0, 0).land(s(12), Some(s(17)));
        assert_eq!((l.first, l.live, l.last, l.update), (1, 2, 2, false));
    }
}
