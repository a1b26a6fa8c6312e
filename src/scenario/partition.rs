//! Scenario blocks for partitioned data (issue #24): a service's key space and how it is
//! partitioned. Kept apart from `spec.rs` so the block reads on its own.

use serde::{Deserialize, Serialize};

/// `Partitioning(partitions: 16, keys: 100000, zipf: 0.99, scheme: Hash)`: the service's
/// replicas are nodes holding partitions of a key space; each request touches one key,
/// drawn by popularity, and is served by the node that owns its partition (see
/// `mech::partition`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Partitioning", deny_unknown_fields, default)]
pub struct PartitioningSpec {
    /// Partitions of the key space, placed round-robin on the replicas (nodes); default:
    /// one per replica.
    pub partitions: Option<u32>,
    /// Distinct keys.
    pub keys: u32,
    /// Zipf exponent of key popularity; 0 is uniform. Default 0.99, YCSB's Zipfian
    /// constant (`ZipfianGenerator.ZIPFIAN_CONSTANT`).
    pub zipf: f64,
    /// Share of requests that touch the one hot key (key 0) on top of the Zipf draw: a
    /// hot-key spike. Default 0.
    pub hot_share: f64,
    /// Spread the hottest key over this many salted keys (a random suffix per request);
    /// 1 (the default) leaves it whole.
    pub salt: u32,
    /// How keys map to partitions.
    pub scheme: SchemeSpec,
    /// Nodes (replicas `0..initial_nodes`) that hold partitions at the start; the others
    /// stand by for a rebalance. Default: every replica.
    pub initial_nodes: Option<u32>,
    /// A scheduled change of the node count, and how partitions move.
    pub rebalance: Option<RebalanceSpec>,
}

impl Default for PartitioningSpec {
    fn default() -> Self {
        PartitioningSpec {
            keys: 100_000,
            zipf: 0.99,
            hot_share: 0.0,
            salt: 1,
            scheme: SchemeSpec::Hash,
            partitions: None,
            initial_nodes: None,
            rebalance: None,
        }
    }
}

/// `Hash`, `Ring(vnodes: 16)` or `Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SchemeSpec {
    /// Hash of the key modulo the partition count.
    #[default]
    Hash,
    /// Consistent hashing with `vnodes` tokens per partition (Cassandra's `num_tokens`,
    /// 16 since 4.0).
    Ring {
        #[serde(default = "sixteen")]
        vnodes: u32,
    },
    /// Contiguous key ranges of equal size, keys in popularity order.
    Range,
}

fn sixteen() -> u32 {
    16
}

/// `Rebalance(at: "60s", to_nodes: 4)`: at `at`, the partitions are rebalanced over nodes
/// `0..to_nodes` (a node joins or leaves) with a fixed partition count (see
/// `mech::rebalance`). Defaults are Elasticsearch's where it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Rebalance", deny_unknown_fields)]
pub struct RebalanceSpec {
    pub at: String,
    pub to_nodes: u32,
    /// Data per partition, in MB. Default 1024.
    #[serde(default = "gigabyte")]
    pub partition_mb: f64,
    /// Copy rate of one move, MB/s. Default 40 (`indices.recovery.max_bytes_per_sec`).
    #[serde(default = "forty")]
    pub bandwidth_mb_s: f64,
    /// Moves at a time. Default 2 (`node_concurrent_recoveries`).
    #[serde(default = "two")]
    pub concurrent: u32,
    /// Share of a node's capacity a copy takes while it runs, at both ends. Default 0.1.
    #[serde(default = "a_tenth")]
    pub copy_cost: f64,
    /// How long after a move clients still route to the old owner. Default "1s".
    #[serde(default = "one_second")]
    pub routing_lag: String,
    /// What the old owner does with a request for a partition it gave away.
    #[serde(default)]
    pub stale: StaleSpec,
}

/// `Redirect(hop: "1ms")`: the old owner forwards the request, which costs a hop;
/// `Refuse`: it fails it (the client sees the node unavailable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaleSpec {
    Redirect {
        #[serde(default = "one_ms")]
        hop: String,
    },
    Refuse,
}

impl Default for StaleSpec {
    fn default() -> Self {
        StaleSpec::Redirect { hop: one_ms() }
    }
}

fn gigabyte() -> f64 {
    1024.0
}
fn forty() -> f64 {
    40.0
}
fn two() -> u32 {
    2
}
fn a_tenth() -> f64 {
    0.1
}
fn one_second() -> String {
    "1s".to_string()
}
fn one_ms() -> String {
    "1ms".to_string()
}
