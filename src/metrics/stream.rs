//! What a stream job counted (issue #24), as summary.json reports it under
//! `streams.<service>`: the job's windowed counts checked against the events it received.

use serde::Serialize;

/// One stream job (a consumer group with a `stream` block).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamSummary {
    /// `at_least_once` or `exactly_once`.
    pub guarantee: String,
    pub window_s: f64,
    pub slide_s: f64,
    /// Distinct events the job received (delivered at least once).
    pub events: u64,
    /// Events processed, replays included.
    pub processed: u64,
    /// Events in the committed counts at least once.
    pub counted: u64,
    /// Events in the committed counts more than once (a replay after a crash), and the
    /// extra counts they added.
    pub double_counted: u64,
    pub extra_counts: u64,
    /// Events received but in no committed count and not dropped as late: lost to a
    /// crash (at-most-once commits), parked, or still in an open transaction at the end.
    pub missing: u64,
    /// Events behind the watermark by more than the allowed lateness: in none of their
    /// windows (Flink's `numLateRecordsDropped`).
    pub late_dropped: u64,
    /// Events that joined a window after it fired (within the allowed lateness): its
    /// result was updated.
    pub late_updates: u64,
    /// Processed events whose transaction aborted (a crash before the commit): replayed,
    /// not counted twice.
    pub aborted: u64,
    /// Windows holding any received event, and those whose committed count is above or
    /// below the number of received events in them.
    pub windows: u64,
    pub windows_overcounted: u64,
    pub windows_undercounted: u64,
}
