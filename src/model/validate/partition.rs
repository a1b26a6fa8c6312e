//! Checks of a partitioned service's key space (issue #24).

use super::Check;
use crate::engine::SimTime;
use crate::mech::partition::{Partitioning, Rebalance, Scheme};
use crate::scenario::{PartitioningSpec, RebalanceSpec, SchemeSpec, ServiceSpec, StaleSpec};

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
        let initial_nodes = k.initial_nodes.unwrap_or(s.replicas);
        self.node_count(&format!("{p}.initial_nodes"), initial_nodes, s.replicas);
        let rebalance = k
            .rebalance
            .as_ref()
            .map(|r| self.rebalance(&format!("{p}.rebalance"), r, s.replicas));
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
            initial_nodes,
            rebalance: rebalance.flatten(),
        })
    }

    /// A node count at `path`: 1 to the service's `replicas`.
    fn node_count(&mut self, path: &str, n: u32, replicas: u32) {
        if n == 0 || n > replicas {
            self.fail(
                path,
                format!("{n} is not between 1 and the service's replicas ({replicas}): the replicas are the nodes"),
            );
        }
    }

    fn rebalance(&mut self, p: &str, r: &RebalanceSpec, replicas: u32) -> Option<Rebalance> {
        let before = self.problems.len();
        let at = self.duration(&format!("{p}.at"), &r.at);
        self.node_count(&format!("{p}.to_nodes"), r.to_nodes, replicas);
        for (field, x) in [
            ("partition_mb", r.partition_mb),
            ("bandwidth_mb_s", r.bandwidth_mb_s),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 1e12) {
                self.fail(
                    format!("{p}.{field}"),
                    format!("{x} is not a positive amount"),
                );
            }
        }
        if r.concurrent == 0 || r.concurrent > 1_000 {
            self.fail(
                format!("{p}.concurrent"),
                format!("{} is not between 1 and 1000", r.concurrent),
            );
        }
        if !(0.0..1.0).contains(&r.copy_cost) {
            self.fail(
                format!("{p}.copy_cost"),
                format!(
                    "{} is not a share of capacity from 0.0 up to (not including) 1.0",
                    r.copy_cost
                ),
            );
        }
        let routing_lag = self.duration(&format!("{p}.routing_lag"), &r.routing_lag);
        let redirect = match &r.stale {
            StaleSpec::Redirect { hop } => Some(self.duration(&format!("{p}.stale.hop"), hop)),
            StaleSpec::Refuse => None,
        };
        if self.problems.len() != before {
            return None;
        }
        let copy_s = r.partition_mb / r.bandwidth_mb_s;
        if copy_s > 1e9 {
            self.fail(
                format!("{p}.bandwidth_mb_s"),
                format!(
                    "a move would take {copy_s:.0} s; raise the bandwidth or shrink the partitions"
                ),
            );
            return None;
        }
        Some(Rebalance {
            at: at?,
            to_nodes: r.to_nodes,
            partition_mb: r.partition_mb,
            copy: SimTime((copy_s * 1e9).round() as u64),
            concurrent: r.concurrent,
            copy_cost: r.copy_cost,
            routing_lag: routing_lag?,
            redirect: match redirect {
                Some(hop) => Some(hop?),
                None => None,
            },
        })
    }
}
