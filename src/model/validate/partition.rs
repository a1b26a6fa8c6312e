//! Checks of a partitioned service's key space (issue #24).

use super::Check;
use crate::mech::partition::{Partitioning, Scheme};
use crate::scenario::{PartitioningSpec, SchemeSpec, ServiceSpec};

/// Most keys of one partitioned service: the router keeps a popularity and an owner entry
/// per key (12 bytes each).
pub const MAX_PARTITION_KEYS: u32 = 10_000_000;
/// Most salted forms of the hot key, and most ring tokens per partition.
pub const MAX_SALT: u32 = 65_536;
pub const MAX_VNODES: u32 = 4_096;
/// Most partitions of one service (Elasticsearch caps shards per index at 1,024).
pub const MAX_PARTITIONS: u32 = 100_000;

impl Check {
    /// Checks `s.partitioning` (at path `p`, the service's path).
    pub(super) fn partitioning(
        &mut self,
        p: &str,
        s: &ServiceSpec,
        k: &PartitioningSpec,
    ) -> Option<Partitioning> {
        let before = self.problems.len();
        let p = format!("{p}.partitioning");
        if k.keys == 0 || k.keys > MAX_PARTITION_KEYS {
            self.fail(
                format!("{p}.keys"),
                format!("{} is not between 1 and {MAX_PARTITION_KEYS}", k.keys),
            );
        }
        if !(k.zipf.is_finite() && (0.0..=10.0).contains(&k.zipf)) {
            self.fail(
                format!("{p}.zipf"),
                format!("{} is not an exponent from 0 (uniform) to 10", k.zipf),
            );
        }
        if !(0.0..1.0).contains(&k.hot_share) {
            self.fail(
                format!("{p}.hot_share"),
                format!(
                    "{} is not a share from 0.0 up to (not including) 1.0",
                    k.hot_share
                ),
            );
        }
        if k.salt == 0 || k.salt > MAX_SALT {
            self.fail(
                format!("{p}.salt"),
                format!("{} is not between 1 (no salting) and {MAX_SALT}", k.salt),
            );
        }
        let scheme = match k.scheme {
            SchemeSpec::Hash => Scheme::Hash,
            SchemeSpec::Range => Scheme::Range,
            SchemeSpec::Ring { vnodes } => {
                if vnodes == 0 || vnodes > MAX_VNODES {
                    self.fail(
                        format!("{p}.scheme.vnodes"),
                        format!("{vnodes} is not between 1 and {MAX_VNODES}"),
                    );
                }
                Scheme::Ring { vnodes }
            }
        };
        let partitions = k.partitions.unwrap_or(s.replicas);
        if partitions == 0 || partitions > MAX_PARTITIONS {
            self.fail(
                format!("{p}.partitions"),
                format!("{partitions} is not between 1 and {MAX_PARTITIONS}"),
            );
        }
        let pinned = [
            ("autoscale", s.autoscale.is_some()),
            ("kubernetes", s.kubernetes.is_some()),
            ("workers", s.workers.is_some()),
            ("consume", s.consume.is_some()),
        ];
        for (field, set) in pinned {
            if set {
                self.fail(
                    p.clone(),
                    format!("a partitioned service's replicas are the nodes its partitions live on, a fixed set; remove `{field}` or the partitioning"),
                );
            }
        }
        (self.problems.len() == before).then_some(Partitioning {
            keys: k.keys,
            zipf: k.zipf,
            hot_share: k.hot_share,
            salt: k.salt,
            scheme,
            partitions,
        })
    }
}
