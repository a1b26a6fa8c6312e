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
    /// A scheduled change of the node count, and how partitions move (for it and for
    /// `NodeAdd` / `NodeRemove` faults; default: the `Rebalance` defaults).
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

/// `Hash`, `Ring(vnodes: 16)`, `Range` or `Directory(...)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// A lookup service maps each key to its partition (placed by hash at the start), so
    /// one key can move alone (see `mech::partition::Directory`).
    /// `Directory(lookup: "1ms", ttl: "60s", outage: Some(Outage(at: "120s", duration:
    /// "20s")), moves: [KeyMove(at: "60s", key: 0, to_node: 8)])`.
    Directory {
        /// One lookup's round trip, paid by a request whose key is not cached. Default
        /// "1ms".
        #[serde(default = "one_ms")]
        lookup: String,
        /// How long the clients' cache keeps an answer; "0s" asks every time. Default
        /// "60s".
        #[serde(default = "sixty_s")]
        ttl: String,
        /// A window in which the directory answers nothing: requests whose key is not
        /// cached fail.
        #[serde(default)]
        outage: Option<OutageSpec>,
        /// Keys moved alone, each into a partition of its own on a node.
        #[serde(default)]
        moves: Vec<KeyMoveSpec>,
    },
}

/// `Outage(at: "120s", duration: "20s")`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Outage", deny_unknown_fields)]
pub struct OutageSpec {
    pub at: String,
    pub duration: String,
}

/// `KeyMove(at: "60s", key: 0, to_node: 8)`: from `at`, key `key` is copied into a new
/// partition on node `to_node`; the directory lists it there `routing_lag` after the copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "KeyMove", deny_unknown_fields)]
pub struct KeyMoveSpec {
    pub at: String,
    pub key: u32,
    pub to_node: u32,
}

fn sixty_s() -> String {
    "60s".to_string()
}

fn sixteen() -> u32 {
    16
}

/// `Rebalance(at: "60s", to_nodes: 4)`: at `at`, the partitions are rebalanced over nodes
/// `0..to_nodes` (a node joins or leaves) as `strategy` says (a fixed partition count by
/// default; see `mech::rebalance`). `at` and `to_nodes` go together; without them the block only says
/// how `NodeAdd` / `NodeRemove` faults move data. Defaults are Elasticsearch's where it
/// has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Rebalance", deny_unknown_fields)]
pub struct RebalanceSpec {
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub to_nodes: Option<u32>,
    /// Data per partition at the start, in MB. Default 1024.
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
    /// How the partitions themselves change (DDIA ch. 6, "Rebalancing Partitions").
    #[serde(default)]
    pub strategy: StrategySpec,
}

/// `Fixed`, `Dynamic(split_mb: 10240, write_kb: 1)` or `Proportional(per_node: 16)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum StrategySpec {
    /// A fixed number of partitions; whole partitions move (Riak, Elasticsearch).
    #[default]
    Fixed,
    /// Dynamic partitioning of key ranges (`scheme: Range`): a partition whose data passes
    /// `split_mb` splits in two at its middle by data (HBase's midkey), and the balancer
    /// moves one half if the node counts are uneven. Each request writes `write_kb` to its
    /// key. Starting from one partition on one node is an empty HBase table without
    /// pre-splitting.
    Dynamic {
        /// Default 10240: HBase's `hbase.hregion.max.filesize` (10 GiB); MongoDB's chunk
        /// size is 128 MB.
        #[serde(default = "ten_gigabytes")]
        split_mb: f64,
        /// Default 1 KB, a YCSB record (10 fields of 100 bytes).
        #[serde(default = "one_kb")]
        write_kb: f64,
    },
    /// Partitions proportional to nodes (Cassandra's `num_tokens`; `scheme: Hash` or
    /// `Ring`): each node starts with `per_node` partitions; a joining node splits
    /// `per_node` partitions picked at random and takes one half of each; a leaving node's
    /// partitions go to the others (see `mech::rebalance::plan_proportional`).
    Proportional {
        /// Default 16: Cassandra 4.0's `num_tokens` (256 before it, CASSANDRA-13701).
        #[serde(default = "sixteen")]
        per_node: u32,
    },
}

fn ten_gigabytes() -> f64 {
    10240.0
}
fn one_kb() -> f64 {
    1.0
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

impl Default for RebalanceSpec {
    fn default() -> Self {
        RebalanceSpec {
            at: None,
            to_nodes: None,
            partition_mb: gigabyte(),
            bandwidth_mb_s: forty(),
            concurrent: two(),
            copy_cost: a_tenth(),
            routing_lag: one_second(),
            stale: StaleSpec::default(),
            strategy: StrategySpec::default(),
        }
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
