//! What a CQRS read model saw (issue #24), as summary.json reports it under
//! `read_models.<service>`: how far it trailed its event log, its rebuilds after crashes,
//! and the writers' read-backs that missed their own event.

use serde::Serialize;

/// One read model (a consumer group with a `read_model` block).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadModelSummary {
    /// Distinct events the group received, and those in the model at the end.
    pub events: u64,
    pub applied: u64,
    /// Lag of each applied event: from its append to the log to its application for
    /// good (the staleness a read sees). p99 is exact (nearest rank).
    pub lag_mean_ms: f64,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
    /// Rebuilds after a consumer crash, events they replayed (from the last snapshot to
    /// the committed offset), and their replay times.
    pub rebuilds: u64,
    pub replayed_events: u64,
    pub replay_total_s: f64,
    pub replay_max_s: f64,
    /// Each writer reads the model back `read_after` its event's append: the reads that
    /// missed their own event, and those of them that fell in a rebuild.
    pub read_backs: u64,
    pub read_your_writes_misses: u64,
    pub misses_rebuilding: u64,
}
