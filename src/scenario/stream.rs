//! Scenario block for a stream job (issue #24): a consumer group that counts its topic's
//! events over event-time windows. Kept apart from `spec.rs` so the block reads on its own.

use super::spec::DistSpec;
use serde::{Deserialize, Serialize};

/// `Stream(window: Tumbling("10s"), event_delay: Exponential(mean: "500ms"),
/// out_of_orderness: "1s", allowed_lateness: "0s", guarantee: ExactlyOnce)` on a
/// `Consume`: the group counts events per window (see `mech::window`). Offsets and
/// transactions commit at the group's `auto_commit` interval (Kafka Streams'
/// `commit.interval.ms`), or after each event without one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Stream", deny_unknown_fields)]
pub struct StreamSpec {
    pub window: WindowSpec,
    /// How long before its append each event happened (mobile clients buffering, clock
    /// skew): what puts events out of order. Default `Constant("0s")`: in order.
    #[serde(default = "no_delay")]
    pub event_delay: DistSpec,
    /// The watermark's bound: it trails the largest event time seen by this much
    /// (Flink's `forBoundedOutOfOrderness`). Default "0s".
    #[serde(default = "zero")]
    pub out_of_orderness: String,
    /// How long after its end a fired window still takes late events, as updates
    /// (Flink's `allowedLateness`, default 0); later ones are dropped.
    #[serde(default = "zero")]
    pub allowed_lateness: String,
    /// Default `AtLeastOnce`, Kafka Streams' default `processing.guarantee`.
    #[serde(default)]
    pub guarantee: GuaranteeSpec,
}

/// `Tumbling("10s")` or `Sliding(size: "10s", slide: "5s")` (Kafka Streams calls the
/// latter hopping windows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WindowSpec {
    Tumbling(String),
    Sliding { size: String, slide: String },
}

/// `AtLeastOnce` or `ExactlyOnce` (transactions: outputs and offsets committed together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GuaranteeSpec {
    #[default]
    AtLeastOnce,
    ExactlyOnce,
}

fn no_delay() -> DistSpec {
    DistSpec::Constant("0s".to_string())
}

fn zero() -> String {
    "0s".to_string()
}
