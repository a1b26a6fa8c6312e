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
