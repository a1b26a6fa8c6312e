//! Partitioned services at run time (issue #24): each request to one draws a key from the
//! service's own stream and goes to the partition that owns it (`mech::partition`), and
//! each partition's load is measured on its own.
//!
//! The service's replicas are its nodes, so a node's queue, servers, crashes and answers
//! are the ordinary replica's; only the choice of replica differs. A request whose node is
//! down is refused (`Unavailable`): its partition lives there, no other node can serve it.
//! Each request's partition is kept per request slot, so busy servers and latency are
//! measured per partition as well as per node.
//!
//! A rebalance (`mech::rebalance`) runs as three kinds of events: `Nodes` changes the node
//! count (a scheduled rebalance, a `NodeAdd` or `NodeRemove` fault), plans the moves and
//! starts the first copies; `CopyDone` hands a partition to its new owner and starts the
//! next copy; `Learned` updates the clients' routing table `routing_lag` later. Requests
//! routed by a stale entry are redirected (a hop) or refused. Under dynamic partitioning
//! every request adds its write to its partition's data, and a partition past the split
//! size splits at once (a metadata change, as an HBase region split is), then the moves
//! are planned. Under proportional partitioning a change's plan splits partitions first
//! (`plan_proportional`: each split halves a partition's data and its keys in hash order,
//! a metadata change), then copies the halves that go to a joining node. A change that
//! comes while
//! copies run waits for them: the plan is made again from where the partitions are once
//! the last one is done, as Elasticsearch's allocator does with one recovery queue.

use super::{Event, Observer, Sim, NONE};
use crate::engine::{stream, SimTime, Stream};
use crate::mech::partition::{initial_node, key_hash, Directory, KeyRouter, Partitioning, Scheme};
use crate::mech::rebalance::{plan, plan_proportional, split_point, Move, Split, Strategy};
use crate::metrics::partition::{
    DirectorySummary, KeyMoveSummary, NodeLoadSummary, PartitionSummary, PartitionedSummary,
    RebalanceSummary,
};
use crate::metrics::{LatencyHistogram, Level, Outcome};
use crate::model::Platform;
use std::collections::BTreeMap;

/// Load of one partition (or one node).
#[derive(Default)]
struct Load {
    arrivals: u64,
    ok: u64,
    busy: Level,
    sojourn: LatencyHistogram,
}

/// Dynamic partitioning's state: each partition's key range, and the writes per key.
struct Growth {
    split_mb: f64,
    write_mb: f64,
    /// Data per key at the start.
    base_mb: f64,
    bounds: Vec<(u32, u32)>,
    writes: Vec<u32>,
}

impl Growth {
    fn key_mb(&self, k: u32) -> f64 {
        self.base_mb + self.writes[k as usize] as f64 * self.write_mb
    }
}

/// The directory of `Scheme::Directory` and the clients' cache of it, per key.
struct Lookups {
    cfg: Directory,
    /// The partition the directory lists for each key.
    listed: Vec<u32>,
    /// The clients' cached answer for each key, and until when it holds.
    cached: Vec<u32>,
    expires: Vec<SimTime>,
    /// Per key move: the node it leaves.
    from: Vec<u32>,
    stats: DirectorySummary,
}

struct Table {
    service: u32,
    /// `Some` for `scheme: Directory`.
    dir: Option<Lookups>,
    cfg: Partitioning,
    router: KeyRouter,
    rng: Stream,
    /// Proportional partitioning: the partitions a joining node picks to split.
    join_rng: Stream,
    /// Proportional partitioning: each partition's keys in hash order (empty otherwise).
    keys_of: Vec<Vec<u32>>,
    /// The node each partition is on.
    owner: Vec<u32>,
    /// The clients' routing table: where they send each partition's requests.
    view: Vec<u32>,
    /// Per node: copies under way to or from it.
    copying: Vec<u32>,
    /// The node count the partitions should be spread over now.
    nodes_wanted: u32,
    /// Data per partition, MB: what a move copies.
    size_mb: Vec<f64>,
    growth: Option<Growth>,
    /// The rebalance's moves, the next to start, and how many are done.
    moves: Vec<Move>,
    next_move: usize,
    done_moves: usize,
    rebalance: Option<RebalanceSummary>,
    parts: Vec<Load>,
    nodes: Vec<Load>,
}

impl Table {
    /// Makes split `s` of a proportional plan: partition `s.new` (numbered next) takes the
    /// upper half of `s.partition`'s keys in hash order and half its data, on its node.
    fn split_half(&mut self, s: Split) {
        let i = s.partition as usize;
        debug_assert_eq!(s.new as usize, self.owner.len());
        let keys = &mut self.keys_of[i];
        let upper = keys.split_off(keys.len() - keys.len() / 2);
        for &k in &upper {
            self.router.reassign(k..k + 1, s.new);
        }
        self.keys_of.push(upper);
        self.size_mb[i] /= 2.0;
        self.size_mb.push(self.size_mb[i]);
        // Clients find the new partition where it is until its move (as a dynamic split).
        self.owner.push(self.owner[i]);
        self.view.push(self.owner[i]);
        self.parts.push(Load::default());
    }

    /// The rebalance's summary, started at `now` if this is its first step.
    fn stats(&mut self, now: SimTime) -> &mut RebalanceSummary {
        self.rebalance.get_or_insert(RebalanceSummary {
            start_s: now.as_secs_f64(),
            end_s: Some(now.as_secs_f64()),
            moves: 0,
            moved_mb: 0.0,
            redirected: 0,
            refused: 0,
            splits: 0,
        })
    }
}

/// A step of a rebalance (`Event::Rebalance`).
#[derive(Debug, Clone, Copy)]
pub(super) enum RebalanceStep {
    /// The partitions belong on this many nodes from now on.
    Nodes(u32),
    /// Move `i` finished copying.
    CopyDone(u32),
    /// The clients learned where move `i` took its partition.
    Learned(u32),
    /// Key move `i` of the directory starts copying, its copy is done, the directory
    /// lists it.
    KeyMove(u32),
    KeyCopied(u32),
    KeyListed(u32),
}

/// Every partitioned service's router and load.
#[derive(Default)]
pub(super) struct Partitions {
    /// Per service: its index in `tables`, or `NONE`.
    of: Vec<u32>,
    tables: Vec<Table>,
    /// Per request slot: the partition its request touches (set for partitioned services).
    part_of: Vec<u32>,
    /// Per request slot: the hop it paid for being redirected.
    hop_of: Vec<SimTime>,
    /// A partition that passed its split size on the last `route`: (table, partition).
    split_due: Option<(u32, u32)>,
    /// The partition and hop of the request being admitted (`route`, then `assign`).
    routed: u32,
    routed_hop: SimTime,
}

impl Partitions {
    pub fn new(p: &Platform) -> Self {
        let mut of = vec![NONE; p.services.len()];
        let mut tables = Vec::new();
        for (i, s) in p.services.iter().enumerate() {
            let Some(cfg) = &s.partitioning else { continue };
            of[i] = tables.len() as u32;
            let router = KeyRouter::new(cfg);
            let dir = cfg.directory.as_ref().map(|d| {
                let listed: Vec<u32> = (0..cfg.keys).map(|k| router.owner(k, 0)).collect();
                Lookups {
                    cfg: d.clone(),
                    cached: listed.clone(),
                    listed,
                    expires: vec![SimTime::ZERO; cfg.keys as usize],
                    from: Vec::new(),
                    stats: DirectorySummary::default(),
                }
            });
            tables.push(Table {
                service: i as u32,
                dir,
                cfg: cfg.clone(),
                router,
                rng: stream(p.seed, &format!("service/{}/partition_key", s.name)),
                join_rng: stream(p.seed, &format!("service/{}/partition_join", s.name)),
                keys_of: Vec::new(),
                owner: (0..cfg.partitions)
                    .map(|k| initial_node(k, cfg.initial_nodes))
                    .collect(),
                view: (0..cfg.partitions)
                    .map(|k| initial_node(k, cfg.initial_nodes))
                    .collect(),
                copying: vec![0; s.replicas as usize],
                nodes_wanted: cfg.initial_nodes,
                size_mb: Vec::new(),
                growth: None,
                moves: Vec::new(),
                next_move: 0,
                done_moves: 0,
                rebalance: None,
                parts: (0..cfg.partitions).map(|_| Load::default()).collect(),
                nodes: (0..s.replicas).map(|_| Load::default()).collect(),
            });
        }
        for t in &mut tables {
            let (mb, strategy) = match &t.cfg.rebalance {
                Some(r) => (r.partition_mb, r.strategy),
                None => (0.0, Strategy::Fixed),
            };
            t.size_mb = vec![mb; t.cfg.partitions as usize];
            if let Strategy::Proportional { .. } = strategy {
                t.keys_of = vec![Vec::new(); t.cfg.partitions as usize];
                for k in 0..t.cfg.keys {
                    t.keys_of[t.router.owner(k, 0) as usize].push(k);
                }
                for keys in &mut t.keys_of {
                    keys.sort_unstable_by_key(|&k| (key_hash(k, 0), k));
                }
            }
            if let Strategy::Dynamic { split_mb, write_mb } = strategy {
                let mut bounds = vec![(u32::MAX, 0); t.cfg.partitions as usize];
                for k in 0..t.cfg.keys {
                    let b = &mut bounds[t.router.owner(k, 0) as usize];
                    b.0 = b.0.min(k);
                    b.1 = k + 1;
                }
                let base_mb = mb * t.cfg.partitions as f64 / t.cfg.keys as f64;
                for (b, size) in bounds.iter_mut().zip(&mut t.size_mb) {
                    if b.0 == u32::MAX {
                        *b = (0, 0);
                    }
                    *size = base_mb * (b.1 - b.0) as f64;
                }
                t.growth = Some(Growth {
                    split_mb,
                    write_mb,
                    base_mb,
                    bounds,
                    writes: vec![0; t.cfg.keys as usize],
                });
            }
        }
        Partitions {
            split_due: None,
            of,
            tables,
            part_of: Vec::new(),
            hop_of: Vec::new(),
            routed: NONE,
            routed_hop: SimTime::ZERO,
        }
    }

    fn table(&mut self, s: usize) -> Option<&mut Table> {
        match self.of.get(s) {
            Some(&t) if t != NONE => Some(&mut self.tables[t as usize]),
            _ => None,
        }
    }

    /// The node a new request at service `s` goes to (`NONE`: refused by the old owner
    /// of its partition), or `None` if `s` is not partitioned.
    pub fn route(&mut self, s: usize, counted: bool, now: SimTime) -> Option<u32> {
        let table = match self.of.get(s) {
            Some(&t) if t != NONE => t,
            _ => return None,
        };
        let t = &mut self.tables[table as usize];
        let (key, salt) = t.router.draw(&mut t.rng);
        let part = t.router.owner(key, salt);
        if let Some(g) = &mut t.growth {
            g.writes[key as usize] = g.writes[key as usize].saturating_add(1);
            let size = &mut t.size_mb[part as usize];
            *size += g.write_mb;
            if *size > g.split_mb {
                self.split_due = Some((table, part));
            }
        }
        let node = t.owner[part as usize];
        let mut hop = SimTime::ZERO;
        if let Some(d) = &mut t.dir {
            let k = key as usize;
            if now < d.expires[k] {
                d.stats.cache_hits += counted as u64;
            } else if d.cfg.outage.is_some_and(|(a, b)| a <= now && now < b) {
                d.stats.failed += counted as u64;
                return Some(NONE);
            } else {
                d.stats.lookups += counted as u64;
                d.cached[k] = d.listed[k];
                d.expires[k] = now.after(d.cfg.ttl);
                hop = d.cfg.lookup;
            }
            if d.cached[k] != part {
                // A moved key, sent where it was: the old owner says so (MongoDB's
                // `StaleConfig`), and the clients drop the entry, so the next request
                // asks the directory again (which may still list the old owner).
                d.expires[k] = SimTime::ZERO;
                match t.cfg.rebalance.as_ref().and_then(|r| r.redirect) {
                    Some(h) => {
                        d.stats.redirected += counted as u64;
                        hop = hop.after(h);
                    }
                    None => {
                        d.stats.refused += counted as u64;
                        return Some(NONE);
                    }
                }
            }
        }
        if t.view[part as usize] != node {
            // Sent to the old owner by a stale table.
            let redirect = t.cfg.rebalance.as_ref().and_then(|r| r.redirect);
            let stats = t
                .rebalance
                .as_mut()
                .expect("a stale entry means a rebalance");
            match redirect {
                Some(h) => {
                    stats.redirected += counted as u64;
                    hop = h;
                }
                None => {
                    stats.refused += counted as u64;
                    return Some(NONE);
                }
            }
        }
        if counted {
            t.parts[part as usize].arrivals += 1;
            t.nodes[node as usize].arrivals += 1;
        }
        self.routed = part;
        self.routed_hop = hop;
        Some(node)
    }

    /// The request admitted in slot `req` is the one just routed.
    pub fn assign(&mut self, req: u32) {
        let i = req as usize;
        if self.part_of.len() <= i {
            self.part_of.resize(i + 1, NONE);
            self.hop_of.resize(i + 1, SimTime::ZERO);
        }
        self.part_of[i] = self.routed;
        self.hop_of[i] = self.routed_hop;
    }

    /// A server of node `node` of `s` was taken by request `req`: how much slower its
    /// work runs (a copy under way at the node) and the redirect hop it pays.
    pub fn started(&mut self, s: usize, node: u32, req: u32, now: SimTime) -> (f64, SimTime) {
        let i = req as usize;
        let (part, hop) = match self.part_of.get(i) {
            Some(&p) => (p, self.hop_of[i]),
            None => return (1.0, SimTime::ZERO),
        };
        let Some(t) = self.table(s) else {
            return (1.0, SimTime::ZERO);
        };
        t.parts[part as usize].busy.up(now);
        t.nodes[node as usize].busy.up(now);
        let slow = match &t.cfg.rebalance {
            Some(r) if t.copying[node as usize] > 0 => 1.0 / (1.0 - r.copy_cost),
            _ => 1.0,
        };
        (slow, hop)
    }

    /// Request `req` at node `node` of `s` answered after `sojourn`, freeing its server.
    #[allow(clippy::too_many_arguments)]
    pub fn answered(
        &mut self,
        s: usize,
        node: u32,
        req: u32,
        now: SimTime,
        sojourn: SimTime,
        outcome: Outcome,
        counted: bool,
    ) {
        let part = self.part_of.get(req as usize).copied();
        if let (Some(t), Some(part)) = (self.table(s), part) {
            for load in [&mut t.parts[part as usize], &mut t.nodes[node as usize]] {
                load.busy.down(now);
                if counted {
                    load.sojourn.record(sojourn.0);
                    load.ok += (outcome == Outcome::Ok) as u64;
                }
            }
        }
    }

    pub fn end_warmup(&mut self, now: SimTime) {
        for t in &mut self.tables {
            for load in t.parts.iter_mut().chain(&mut t.nodes) {
                load.busy.restart(now);
            }
        }
    }

    /// The per-partition and per-node summaries, by service name.
    pub fn summaries(
        &mut self,
        p: &Platform,
        end: SimTime,
    ) -> BTreeMap<String, PartitionedSummary> {
        let mut out = BTreeMap::new();
        for t in &mut self.tables {
            let spec = &p.services[t.service as usize];
            let servers = spec.concurrency as f64;
            let shares = t.router.expected_shares(t.owner.len() as u32);
            let growth = t.growth.as_ref();
            // Data per partition is reported where it changes: dynamic and proportional.
            let proportional = !t.keys_of.is_empty();
            let sized = growth.is_some() || proportional;
            let partitions: Vec<PartitionSummary> = (t.parts.iter_mut().zip(&shares))
                .zip(&t.owner)
                .enumerate()
                .map(|(i, ((load, &share), &node))| PartitionSummary {
                    key_range: growth.map(|g| [g.bounds[i].0, g.bounds[i].1]),
                    size_mb: sized.then(|| t.size_mb[i]),
                    node,
                    arrivals: load.arrivals,
                    ok: load.ok,
                    expected_share: share,
                    utilization: load.busy.mean(end, p.warmup) / servers,
                    sojourn_ms: load.sojourn.summary_ms(),
                })
                .collect();
            // Each node's partitions and data, in one pass over the partitions.
            let mut held = vec![(Vec::new(), 0.0); t.nodes.len()];
            for (k, &o) in t.owner.iter().enumerate() {
                let (list, data) = &mut held[o as usize];
                list.push(k as u32);
                if proportional {
                    *data += t.size_mb[k];
                }
            }
            let nodes: Vec<NodeLoadSummary> = (t.nodes.iter_mut().zip(held))
                .map(|(load, (partitions, data))| NodeLoadSummary {
                    utilization: load.busy.mean(end, p.warmup) / servers,
                    partitions,
                    arrivals: load.arrivals,
                    sojourn_ms: load.sojourn.summary_ms(),
                    data_mb: proportional.then_some(data),
                })
                .collect();
            // Skew is a node's load against the others': nodes carry the servers.
            let utils = nodes.iter().map(|x| x.utilization);
            let max_utilization = utils.clone().fold(0.0, f64::max);
            let mean_utilization = utils.sum::<f64>() / nodes.len() as f64;
            let scheme = match t.cfg.scheme {
                Scheme::Hash => "Hash",
                Scheme::Ring { .. } => "Ring",
                Scheme::Range => "Range",
                Scheme::Directory => "Directory",
            };
            out.insert(
                spec.name.clone(),
                PartitionedSummary {
                    scheme: scheme.to_string(),
                    keys: t.cfg.keys,
                    zipf: t.cfg.zipf,
                    hot_share: t.cfg.hot_share,
                    salt: t.cfg.salt,
                    hot_key_partition: t.router.owner(0, 0),
                    max_utilization,
                    mean_utilization,
                    partitions,
                    nodes,
                    rebalance: t.rebalance.clone(),
                    directory: t.dir.as_ref().map(|d| {
                        let mut stats = d.stats.clone();
                        let asked = stats.cache_hits + stats.lookups + stats.failed;
                        stats.lookup_share = stats.lookups as f64 / asked.max(1) as f64;
                        stats
                    }),
                },
            );
        }
        out
    }
}

impl<O: Observer> Sim<'_, O> {
    /// The node of a partitioned service `s` that holds a new request's partition, if it
    /// is up: `Some(None)` when it is down, `None` when `s` is not partitioned.
    pub(super) fn partition_pick(&mut self, s: u32, now: SimTime) -> Option<Option<u32>> {
        let counted = now >= self.p.warmup;
        let node = self.parts.route(s as usize, counted, now)?;
        if let Some((table, part)) = self.parts.split_due.take() {
            self.split(now, table, part);
        }
        if node == NONE {
            return Some(None);
        }
        let r = &self.services[s as usize].replicas[node as usize];
        Some((self.hot[s as usize].ready && r.down == 0 && r.listed).then_some(node))
    }
}

impl<O: Observer> Sim<'_, O> {
    /// Schedules every partitioned service's node changes.
    pub(super) fn rebalance_start(&mut self) {
        for (i, t) in self.parts.tables.iter().enumerate() {
            let moves = t.dir.iter().flat_map(|d| &d.cfg.moves);
            for (m, km) in moves.enumerate() {
                let step = RebalanceStep::KeyMove(m as u32);
                self.queue.push(
                    km.at,
                    Event::Rebalance {
                        table: i as u32,
                        step,
                    },
                );
            }
            for c in &t.cfg.changes {
                let step = RebalanceStep::Nodes(c.nodes);
                self.queue.push(
                    c.at,
                    Event::Rebalance {
                        table: i as u32,
                        step,
                    },
                );
            }
        }
    }

    pub(super) fn rebalance_event(&mut self, now: SimTime, table: u32, step: RebalanceStep) {
        let t = &mut self.parts.tables[table as usize];
        let r = t.cfg.rebalance.clone().expect("scheduled for a rebalance");
        match step {
            RebalanceStep::Nodes(n) => {
                t.nodes_wanted = n;
                if t.done_moves == t.moves.len() {
                    self.replan(now, table);
                }
            }
            RebalanceStep::CopyDone(i) => {
                let m = t.moves[i as usize];
                t.owner[m.partition as usize] = m.to;
                t.copying[m.from as usize] -= 1;
                t.copying[m.to as usize] -= 1;
                t.done_moves += 1;
                let step = RebalanceStep::Learned(i);
                self.queue
                    .push(now.after(r.routing_lag), Event::Rebalance { table, step });
                if t.done_moves == t.moves.len() {
                    let stats = t.rebalance.as_mut().expect("started");
                    stats.end_s = Some(now.as_secs_f64());
                    // A change that came while copying.
                    self.replan(now, table);
                } else {
                    self.next_copy(now, table);
                }
            }
            RebalanceStep::Learned(i) => {
                let m = t.moves[i as usize];
                t.view[m.partition as usize] = m.to;
            }
            RebalanceStep::KeyMove(i) => {
                let d = t.dir.as_mut().expect("a key move has a directory");
                let km = d.cfg.moves[i as usize];
                let old = t.router.owner(km.key, 0) as usize;
                let from = t.owner[old];
                // Keys hold equal shares of the data placed at the start.
                let mb = r.partition_mb * t.cfg.partitions as f64 / t.cfg.keys as f64;
                let new = t.owner.len() as u32;
                d.from.push(from);
                d.stats.key_moves.push(KeyMoveSummary {
                    key: km.key,
                    partition: new,
                    node: km.to_node,
                    copied_mb: mb,
                    start_s: now.as_secs_f64(),
                    copied_s: None,
                    listed_s: None,
                });
                t.owner.push(km.to_node);
                t.view.push(km.to_node);
                t.parts.push(Load::default());
                t.size_mb.push(0.0);
                t.copying[from as usize] += 1;
                t.copying[km.to_node as usize] += 1;
                let step = RebalanceStep::KeyCopied(i);
                self.queue
                    .push(now.after(r.copy_time(mb)), Event::Rebalance { table, step });
            }
            RebalanceStep::KeyCopied(i) => {
                let d = t.dir.as_mut().expect("a key move has a directory");
                let km = d.cfg.moves[i as usize];
                let stats = &mut d.stats.key_moves[i as usize];
                stats.copied_s = Some(now.as_secs_f64());
                let (new, mb) = (stats.partition, stats.copied_mb);
                let old = t.router.owner(km.key, 0) as usize;
                t.size_mb[old] -= mb;
                t.size_mb[new as usize] += mb;
                t.copying[d.from[i as usize] as usize] -= 1;
                t.copying[km.to_node as usize] -= 1;
                t.router.reassign(km.key..km.key + 1, new);
                let step = RebalanceStep::KeyListed(i);
                self.queue
                    .push(now.after(r.routing_lag), Event::Rebalance { table, step });
            }
            RebalanceStep::KeyListed(i) => {
                let d = t.dir.as_mut().expect("a key move has a directory");
                let key = d.cfg.moves[i as usize].key;
                let stats = &mut d.stats.key_moves[i as usize];
                stats.listed_s = Some(now.as_secs_f64());
                d.listed[key as usize] = stats.partition;
            }
        }
    }

    /// Plans the moves from where the partitions are to the nodes wanted, and starts the
    /// first copies. The summary adds them up: it spans from the first plan with moves to
    /// the end of the last copy.
    fn replan(&mut self, now: SimTime, table: u32) {
        let t = &mut self.parts.tables[table as usize];
        let r = t
            .cfg
            .rebalance
            .as_ref()
            .expect("a node change has its settings");
        let moves = if let Strategy::Proportional { per_node } = r.strategy {
            let keys: Vec<u32> = t.keys_of.iter().map(|k| k.len() as u32).collect();
            let (owner, size, n) = (&t.owner, &t.size_mb, t.nodes_wanted);
            let p = plan_proportional(owner, size, &keys, n, per_node, &mut t.join_rng);
            for &s in &p.splits {
                t.split_half(s);
            }
            if !p.splits.is_empty() {
                t.stats(now).splits += p.splits.len() as u32;
            }
            p.moves
        } else {
            let mut after = t.owner.clone();
            plan(&mut after, t.nodes_wanted)
        };
        let r = t.cfg.rebalance.as_ref().expect("checked above");
        let concurrent = r.concurrent;
        let moved_mb: f64 = moves.iter().map(|m| t.size_mb[m.partition as usize]).sum();
        let stats = t.stats(now);
        if moves.is_empty() {
            return;
        }
        if stats.moves == 0 {
            stats.start_s = now.as_secs_f64();
        }
        stats.end_s = None;
        stats.moves += moves.len() as u32;
        stats.moved_mb += moved_mb;
        t.moves.extend(moves);
        for _ in 0..concurrent {
            self.next_copy(now, table);
        }
    }

    /// Splits partition `part` of `table` at the middle of its data, if it holds more than
    /// one key: the upper half becomes a new partition on the same node, then the moves
    /// are planned unless copies run.
    fn split(&mut self, now: SimTime, table: u32, part: u32) {
        let t = &mut self.parts.tables[table as usize];
        let Some(g) = &mut t.growth else { return };
        let i = part as usize;
        let (lo, hi) = g.bounds[i];
        let Some(mid) = split_point(lo, hi, |k| g.key_mb(k)) else {
            return;
        };
        let lower: f64 = (lo..mid).map(|k| g.key_mb(k)).sum();
        let new = t.owner.len() as u32;
        g.bounds[i] = (lo, mid);
        g.bounds.push((mid, hi));
        let upper = t.size_mb[i] - lower;
        t.size_mb[i] = lower;
        t.size_mb.push(upper);
        // Clients look the new range up where it is (a stale entry would never be
        // corrected: only moves send `Learned`).
        t.owner.push(t.owner[i]);
        t.view.push(t.owner[i]);
        t.parts.push(Load::default());
        t.router.reassign(mid..hi, new);
        t.stats(now).splits += 1;
        if t.done_moves == t.moves.len() {
            self.replan(now, table);
        }
    }

    /// Starts the next planned copy of `table`'s rebalance, if one is left.
    fn next_copy(&mut self, now: SimTime, table: u32) {
        let t = &mut self.parts.tables[table as usize];
        let Some(&m) = t.moves.get(t.next_move) else {
            return;
        };
        let i = t.next_move as u32;
        t.next_move += 1;
        t.copying[m.from as usize] += 1;
        t.copying[m.to as usize] += 1;
        let size = t.size_mb[m.partition as usize];
        let copy = t
            .cfg
            .rebalance
            .as_ref()
            .expect("rebalancing")
            .copy_time(size);
        let step = RebalanceStep::CopyDone(i);
        self.queue
            .push(now.after(copy), Event::Rebalance { table, step });
    }
}
