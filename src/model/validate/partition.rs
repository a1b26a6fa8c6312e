//! Checks of a partitioned service's key space (issue #24).

use super::Check;
use crate::engine::SimTime;
use crate::mech::partition::{Directory, KeyMove, NodeChange, Partitioning, Rebalance, Scheme};
use crate::mech::rebalance::Strategy;
use crate::model::Service;
use crate::scenario::{
    FaultSpec, KeyMoveSpec, OutageSpec, PartitioningSpec, RebalanceSpec, SchemeSpec, ServiceSpec,
    StaleSpec, StrategySpec,
};
use std::collections::BTreeMap;

impl FaultSpec {
    /// `NodeAdd` / `NodeRemove`: a change of a partitioned service's nodes, kept with its
    /// partitioning (`Check::node_changes`) rather than as a fault with a duration.
    pub(super) fn is_node_change(&self) -> bool {
        matches!(
            self,
            FaultSpec::NodeAdd { .. } | FaultSpec::NodeRemove { .. }
        )
    }
}

/// The fields of `SchemeSpec::Directory`.
struct DirectoryFields<'a> {
    lookup: &'a str,
    ttl: &'a str,
    outage: Option<&'a OutageSpec>,
    moves: &'a [KeyMoveSpec],
}

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
        let mut directory = None;
        let scheme = match &k.scheme {
            SchemeSpec::Hash => Scheme::Hash,
            SchemeSpec::Range => Scheme::Range,
            SchemeSpec::Directory {
                lookup,
                ttl,
                outage,
                moves,
            } => {
                let d = DirectoryFields {
                    lookup,
                    ttl,
                    outage: outage.as_ref(),
                    moves,
                };
                directory = self.directory(&format!("{p}.scheme"), d, k, s.replicas);
                Scheme::Directory
            }
            &SchemeSpec::Ring { vnodes } => {
                if vnodes == 0 || vnodes > MAX_VNODES {
                    self.fail(
                        format!("{p}.scheme.vnodes"),
                        format!("{vnodes} is not between 1 and {MAX_VNODES}"),
                    );
                }
                Scheme::Ring { vnodes }
            }
        };
        let initial_nodes = k.initial_nodes.unwrap_or(s.replicas);
        // Proportional partitioning starts with `per_node` partitions on each node.
        let per_node = match k.rebalance.as_ref().map(|r| &r.strategy) {
            Some(&StrategySpec::Proportional { per_node }) => Some(per_node),
            _ => None,
        };
        let partitions = match (k.partitions, per_node) {
            (Some(n), _) => n,
            (None, Some(per)) => per.saturating_mul(initial_nodes),
            (None, None) => s.replicas,
        };
        if partitions == 0 || partitions > MAX_PARTITIONS {
            self.fail(
                format!("{p}.partitions"),
                format!("{partitions} is not between 1 and {MAX_PARTITIONS}"),
            );
        }
        self.node_count(&format!("{p}.initial_nodes"), initial_nodes, s.replicas);
        let rebalance = self.rebalance(
            &format!("{p}.rebalance"),
            &k.rebalance.clone().unwrap_or_default(),
            s.replicas,
        );
        if let Some((
            Rebalance {
                strategy: Strategy::Dynamic { .. },
                ..
            },
            _,
        )) = &rebalance
        {
            let path = format!("{p}.rebalance.strategy");
            if scheme != Scheme::Range {
                self.fail(
                    path.clone(),
                    "dynamic partitioning splits key ranges; use `scheme: Range`",
                );
            }
            if k.salt > 1 {
                self.fail(
                    path,
                    "a salted key's forms are placed by their salt, not by a key range that can split; use `salt: 1` with dynamic partitioning",
                );
            }
        }
        if let (Some(per), Some(n)) = (per_node, k.partitions) {
            let want = per.saturating_mul(initial_nodes);
            if n != want && (1..=MAX_VNODES).contains(&per) {
                self.fail(
                    format!("{p}.partitions"),
                    format!("{n} is not `per_node` ({per}) x the initial nodes ({initial_nodes}) = {want}: proportional partitioning starts with `per_node` partitions on each node; set {want} or leave `partitions` out"),
                );
            }
        }
        if per_node.is_some() {
            let path = format!("{p}.rebalance.strategy");
            if !matches!(scheme, Scheme::Hash | Scheme::Ring { .. }) {
                self.fail(
                    path.clone(),
                    "proportional partitioning splits partitions at points of the hash range, so it needs hash partitioning (DDIA ch. 6); use `scheme: Hash` or `scheme: Ring(...)`",
                );
            }
            if k.salt > 1 {
                self.fail(
                    path,
                    "a salted key's forms are placed by their salt, not split with a partition; use `salt: 1` with proportional partitioning",
                );
            }
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
        if self.problems.len() != before {
            return None;
        }
        let out = Partitioning {
            keys: k.keys,
            zipf: k.zipf,
            hot_share: k.hot_share,
            salt: k.salt,
            scheme,
            partitions,
            initial_nodes,
            changes: rebalance.iter().flat_map(|r| r.1).collect(),
            rebalance: rebalance.map(|r| r.0),
            directory,
        };
        self.proportional_growth(&p, &out);
        Some(out)
    }

    /// Under proportional partitioning each joining node adds `per_node` partitions: the
    /// count they reach over `k.changes` must stay within `MAX_PARTITIONS`.
    fn proportional_growth(&mut self, p: &str, k: &Partitioning) {
        let Some(Rebalance {
            strategy: Strategy::Proportional { per_node },
            ..
        }) = k.rebalance
        else {
            return;
        };
        let mut before = k.initial_nodes;
        let joins: u64 = (k.changes.iter())
            .map(|c| {
                let joined = c.nodes.saturating_sub(before);
                before = c.nodes;
                joined as u64
            })
            .sum();
        let most = k.partitions as u64 + joins * per_node as u64;
        if most > MAX_PARTITIONS as u64 {
            self.fail(
                format!("{p}.rebalance.strategy.per_node"),
                format!("{per_node} per node over {joins} joining nodes makes {most} partitions, more than {MAX_PARTITIONS}; lower `per_node`"),
            );
        }
    }

    /// The directory's settings (at path `p`, the scheme's path).
    fn directory(
        &mut self,
        p: &str,
        d: DirectoryFields,
        k: &PartitioningSpec,
        replicas: u32,
    ) -> Option<Directory> {
        let before = self.problems.len();
        let lookup = self.duration(&format!("{p}.lookup"), d.lookup);
        let ttl = self.duration(&format!("{p}.ttl"), d.ttl);
        let outage = d.outage.and_then(|o| {
            let at = self.duration(&format!("{p}.outage.at"), &o.at)?;
            let len = self.duration(&format!("{p}.outage.duration"), &o.duration)?;
            Some((at, at.after(len)))
        });
        if k.salt > 1 {
            self.fail(
                p,
                "the directory lists whole keys; use `salt: 1` with `Directory` (or move the hot key alone with a `KeyMove`)",
            );
        }
        let mut moves = Vec::new();
        for (i, m) in d.moves.iter().enumerate() {
            let q = format!("{p}.moves[{i}]");
            if m.key >= k.keys {
                self.fail(
                    format!("{q}.key"),
                    format!(
                        "{} is not a key: keys are 0 to {}",
                        m.key,
                        k.keys.saturating_sub(1)
                    ),
                );
            }
            if m.to_node >= replicas {
                self.fail(
                    format!("{q}.to_node"),
                    format!(
                        "{} is not a node: the service's replicas are nodes 0 to {}",
                        m.to_node,
                        replicas - 1
                    ),
                );
            }
            if let Some(at) = self.duration(&format!("{q}.at"), &m.at) {
                moves.push(KeyMove {
                    at,
                    key: m.key,
                    to_node: m.to_node,
                });
            }
        }
        if self.problems.len() != before {
            return None;
        }
        Some(Directory {
            lookup: lookup?,
            ttl: ttl?,
            outage,
            moves,
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

    /// The rebalance settings, and the scheduled change if `at` and `to_nodes` are given.
    fn rebalance(
        &mut self,
        p: &str,
        r: &RebalanceSpec,
        replicas: u32,
    ) -> Option<(Rebalance, Option<NodeChange>)> {
        let before = self.problems.len();
        let scheduled = match (&r.at, r.to_nodes) {
            (Some(at), Some(to_nodes)) => {
                self.node_count(&format!("{p}.to_nodes"), to_nodes, replicas);
                let at = self.duration(&format!("{p}.at"), at);
                at.map(|at| NodeChange {
                    at,
                    nodes: to_nodes,
                })
            }
            (None, None) => None,
            (at, _) => {
                let (field, other) = match at {
                    Some(_) => ("at", "to_nodes"),
                    None => ("to_nodes", "at"),
                };
                self.fail(
                    format!("{p}.{field}"),
                    format!("a scheduled rebalance needs `{other}` too; leave both out to only set how `NodeAdd` / `NodeRemove` faults move data"),
                );
                None
            }
        };
        let strategy = match r.strategy {
            StrategySpec::Fixed => Strategy::Fixed,
            StrategySpec::Dynamic { split_mb, write_kb } => {
                if !(split_mb.is_finite() && split_mb > 0.0 && split_mb <= 1e12) {
                    self.fail(
                        format!("{p}.strategy.split_mb"),
                        format!("{split_mb} is not a positive size"),
                    );
                }
                if !(write_kb.is_finite() && (0.0..=1e9).contains(&write_kb)) {
                    self.fail(
                        format!("{p}.strategy.write_kb"),
                        format!("{write_kb} is not a size of 0 or more"),
                    );
                }
                Strategy::Dynamic {
                    split_mb,
                    write_mb: write_kb / 1024.0,
                }
            }
            StrategySpec::Proportional { per_node } => {
                if per_node == 0 || per_node > MAX_VNODES {
                    self.fail(
                        format!("{p}.strategy.per_node"),
                        format!("{per_node} is not between 1 and {MAX_VNODES}"),
                    );
                }
                Strategy::Proportional { per_node }
            }
        };
        // A dynamic store may start empty; a fixed one's partitions hold data to move.
        let empty_ok = matches!(strategy, Strategy::Dynamic { .. });
        let mb = r.partition_mb;
        if !(mb.is_finite() && (mb > 0.0 || empty_ok && mb == 0.0) && mb <= 1e12) {
            let what = if empty_ok {
                "a size of 0 or more"
            } else {
                "a positive amount"
            };
            self.fail(format!("{p}.partition_mb"), format!("{mb} is not {what}"));
        }
        let bw = r.bandwidth_mb_s;
        if !(bw.is_finite() && bw > 0.0 && bw <= 1e12) {
            self.fail(
                format!("{p}.bandwidth_mb_s"),
                format!("{bw} is not a positive amount"),
            );
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
        let biggest = match strategy {
            Strategy::Dynamic { split_mb, .. } => split_mb.max(r.partition_mb),
            Strategy::Fixed | Strategy::Proportional { .. } => r.partition_mb,
        };
        let copy_s = biggest / r.bandwidth_mb_s;
        if copy_s > 1e9 {
            self.fail(
                format!("{p}.bandwidth_mb_s"),
                format!(
                    "a move would take {copy_s:.0} s; raise the bandwidth or shrink the partitions"
                ),
            );
            return None;
        }
        let settings = Rebalance {
            partition_mb: r.partition_mb,
            bandwidth_mb_s: r.bandwidth_mb_s,
            strategy,
            concurrent: r.concurrent,
            copy_cost: r.copy_cost,
            routing_lag: routing_lag?,
            redirect: match redirect {
                Some(hop) => Some(hop?),
                None => None,
            },
        };
        Some((settings, scheduled))
    }

    /// Adds the `NodeAdd` / `NodeRemove` faults to their services' node changes, checking
    /// that the node count stays between 1 and the service's replicas at every step.
    /// Changes apply in time order; at the same instant, a scheduled rebalance first,
    /// then the faults in list order.
    pub(super) fn node_changes(
        &mut self,
        faults: &[FaultSpec],
        names: &BTreeMap<String, usize>,
        specs: &[ServiceSpec],
        services: &mut [Option<Service>],
        run: Option<SimTime>,
    ) {
        // Per service: (at, position, signed change, fault index).
        let mut deltas: BTreeMap<usize, Vec<(SimTime, usize, i64, usize)>> = BTreeMap::new();
        for (i, f) in faults.iter().enumerate() {
            let (target, at, nodes, sign) = match f {
                FaultSpec::NodeAdd { target, at, nodes } => (target, at, *nodes, 1),
                FaultSpec::NodeRemove { target, at, nodes } => (target, at, *nodes, -1),
                _ => continue,
            };
            let p = format!("faults[{i}]");
            let start = self.duration(&format!("{p}.at"), at);
            let t = self.lookup(&format!("{p}.target"), target, names);
            if nodes == 0 {
                self.fail(
                    format!("{p}.nodes"),
                    "0 nodes change nothing; use 1 or more",
                );
            }
            let (Some(t), Some(start)) = (t, start) else {
                continue;
            };
            if specs[t].partitioning.is_none() {
                self.fail(
                    format!("{p}.target"),
                    format!("\"{target}\" is not partitioned: nodes join or leave a service with `partitioning`, whose replicas are its nodes"),
                );
                continue;
            }
            if self.starts_before_end(&p, Some(start), run).is_none() || nodes == 0 {
                continue;
            }
            deltas
                .entry(t)
                .or_default()
                .push((start, i + 1, sign * nodes as i64, i));
        }
        for (t, mut list) in deltas {
            let Some(k) = services[t].as_mut().and_then(|s| s.partitioning.as_mut()) else {
                continue;
            };
            let replicas = specs[t].replicas as i64;
            for c in &k.changes {
                list.push((c.at, 0, c.nodes as i64, usize::MAX));
            }
            list.sort();
            let mut nodes = k.initial_nodes as i64;
            let mut changes = Vec::new();
            for (at, _, change, i) in list {
                let scheduled = i == usize::MAX;
                let after = if scheduled { change } else { nodes + change };
                if !scheduled && !(1..=replicas).contains(&after) {
                    self.fail(
                        format!("faults[{i}].nodes"),
                        format!(
                            "at {at} \"{}\" would go from {nodes} to {after} nodes; it can have 1 to its replicas ({replicas}), which are its nodes",
                            specs[t].name
                        ),
                    );
                    break;
                }
                nodes = after;
                changes.push(NodeChange {
                    at,
                    nodes: after as u32,
                });
            }
            k.changes = changes;
            self.proportional_growth(&format!("services[{t}].partitioning"), k);
        }
    }
}
