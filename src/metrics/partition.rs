//! Load per partition and per node of partitioned services (issue #24), as summary.json
//! reports it under `partitioned.<service>`.

use super::histogram::Latency;
use serde::Serialize;

/// One partitioned service: how its key space was cut, and the load each part carried.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionedSummary {
    /// `Hash`, `Ring`, `Range` or `Directory`.
    pub scheme: String,
    pub keys: u32,
    pub zipf: f64,
    pub hot_share: f64,
    pub salt: u32,
    /// The partition that owns the hot key (key 0) unsalted.
    pub hot_key_partition: u32,
    /// Highest and mean node utilization: their ratio is the skew.
    pub max_utilization: f64,
    pub mean_utilization: f64,
    /// Indexed by partition.
    pub partitions: Vec<PartitionSummary>,
    /// Indexed by node.
    pub nodes: Vec<NodeLoadSummary>,
    /// The scheduled rebalance, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<RebalanceSummary>,
    /// `scheme: Directory`: how the lookups went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectorySummary>,
}

/// The directory of `scheme: Directory`, counted after the warmup.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DirectorySummary {
    /// Requests whose key the clients' cache held, and those that asked the directory.
    pub cache_hits: u64,
    pub lookups: u64,
    /// `lookups / (cache_hits + lookups + failed)`.
    pub lookup_share: f64,
    /// Requests whose key was not cached while the directory was down: failed.
    pub failed: u64,
    /// Requests sent to a moved key's old owner by a stale entry: forwarded or refused.
    pub redirected: u64,
    pub refused: u64,
    /// Keys moved alone, and when each was served at its new node (`null`: not yet), in
    /// the order of the moves.
    pub key_moves: Vec<KeyMoveSummary>,
}

/// One key's move.
#[derive(Debug, Clone, Serialize)]
pub struct KeyMoveSummary {
    pub key: u32,
    /// Its new partition, and that partition's node.
    pub partition: u32,
    pub node: u32,
    pub copied_mb: f64,
    pub start_s: f64,
    pub copied_s: Option<f64>,
    /// When the directory listed it there.
    pub listed_s: Option<f64>,
}

/// How a rebalance went.
#[derive(Debug, Clone, Serialize)]
pub struct RebalanceSummary {
    pub start_s: f64,
    /// When the last copy finished (`null`: still copying at the end of the run).
    pub end_s: Option<f64>,
    /// Partitions moved (or planned to), and their data.
    pub moves: u32,
    pub moved_mb: f64,
    /// Requests after the warmup sent to a partition's old owner: forwarded (a hop) or
    /// refused.
    pub redirected: u64,
    pub refused: u64,
    /// Partitions split by dynamic or proportional partitioning (left out when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub splits: u32,
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// One partition.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionSummary {
    /// The node (replica) that holds it at the end of the run.
    pub node: u32,
    /// Requests routed to it after the warmup, refused ones included.
    pub arrivals: u64,
    /// Of those, answered successfully.
    pub ok: u64,
    /// Its share of requests by the popularity table alone (what `arrivals` estimates).
    pub expected_share: f64,
    /// Busy server time of its requests / (its node's servers x measured time): its part
    /// of its node's utilization.
    pub utilization: f64,
    pub sojourn_ms: Latency,
    /// Dynamic partitioning: its keys (`[first, end)`); dynamic and proportional: its data,
    /// at the end of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_range: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_mb: Option<f64>,
}

/// One node (a replica of the service): the partitions it holds, together.
#[derive(Debug, Clone, Serialize)]
pub struct NodeLoadSummary {
    pub partitions: Vec<u32>,
    pub arrivals: u64,
    /// Busy server time / (servers x measured time).
    pub utilization: f64,
    pub sojourn_ms: Latency,
    /// Proportional partitioning: the data of its partitions at the end of the run, MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_mb: Option<f64>,
}
