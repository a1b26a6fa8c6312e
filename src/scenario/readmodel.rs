//! Scenario block for a CQRS read model (issue #24): a consumer group that projects its
//! topic (the event log) into a read model. Kept apart from `spec.rs`, like `Stream`.

use serde::{Deserialize, Serialize};

/// `ReadModel(snapshot_every: Some(10000), replay_per_event: "50us", read_after: "100ms")`
/// on a `Consume`: the group applies each event to a read model, rebuilt from the log
/// after a crash (see `mech::projection`), and each writer reads it back after its write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ReadModel", deny_unknown_fields)]
pub struct ReadModelSpec {
    /// Committed events between snapshots of the model. Default `None`: a rebuild
    /// replays the log from offset 0.
    #[serde(default)]
    pub snapshot_every: Option<u64>,
    /// Time to replay one event in a rebuild. Default "50us" (20,000 events a second,
    /// the order of a single-threaded projection into a local store).
    #[serde(default = "fifty_us")]
    pub replay_per_event: String,
    /// When each writer reads its own write back, after the append. Default "100ms":
    /// the next page after a form's POST (post-redirect-get).
    #[serde(default = "hundred_ms")]
    pub read_after: String,
}

fn fifty_us() -> String {
    "50us".to_string()
}

fn hundred_ms() -> String {
    "100ms".to_string()
}
