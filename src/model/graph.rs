//! The dependency graph between services, and its circles.
//!
//! Everything here is near-linear in the size of the graph, so `platsim layers` answers at
//! once on 10,000 services: strongly connected components by Tarjan's algorithm (O(V + E)),
//! each component's own edges bucketed in one pass, and the edges to make soft found in
//! local indices (exact search up to [`EXACT_EDGES`] edges, else a greedy order in
//! O((V + E) log V)).

use std::collections::BTreeSet;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// The largest circle (counted in its own edges) whose fewest breaking edges are searched
/// exactly; beyond it the search would try up to 2^edges subsets, so a greedy order answers.
pub const EXACT_EDGES: usize = 16;

/// A strongly connected set holding a circle: its members sorted, its own edges (both
/// ends inside) sorted and without repeats.
struct Knot {
    members: Vec<usize>,
    edges: Vec<(usize, usize)>,
}

/// Every knot among `n` nodes joined by `edges`, ordered by lowest member.
fn knots(n: usize, edges: &[(usize, usize)]) -> Vec<Knot> {
    let mut g = DiGraph::<(), ()>::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    let mut self_loop = vec![false; n];
    for &(a, b) in edges {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        self_loop[a] |= a == b;
    }
    const NONE: usize = usize::MAX;
    let mut knot_of = vec![NONE; n];
    let mut out: Vec<Knot> = Vec::new();
    for scc in tarjan_scc(&g) {
        if scc.len() == 1 && !self_loop[scc[0].index()] {
            continue;
        }
        let mut members: Vec<usize> = scc.iter().map(|x| x.index()).collect();
        members.sort_unstable();
        for &m in &members {
            knot_of[m] = out.len();
        }
        out.push(Knot {
            members,
            edges: Vec::new(),
        });
    }
    for &(a, b) in edges {
        if knot_of[a] != NONE && knot_of[a] == knot_of[b] {
            out[knot_of[a]].edges.push((a, b));
        }
    }
    for k in &mut out {
        k.edges.sort_unstable();
        k.edges.dedup();
    }
    out.sort_unstable_by_key(|k| k.members[0]);
    out
}

/// Every circle among `n` nodes joined by directed `edges`, one per strongly connected
/// component, each listed as a path in edge order starting from its lowest node; the
/// circles themselves are ordered by that lowest node. Deterministic for any input order.
pub fn circles(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    knots(n, edges).iter().map(path_within).collect()
}

/// The members of a knot in the order a depth-first walk along its edges meets them,
/// from its lowest member, lowest successor first: for a simple circle, its order.
fn path_within(knot: &Knot) -> Vec<usize> {
    let local = |x: usize| knot.members.binary_search(&x).expect("a member");
    let mut seen = vec![false; knot.members.len()];
    let mut order = Vec::with_capacity(knot.members.len());
    let mut stack = vec![knot.members[0]];
    while let Some(at) = stack.pop() {
        if std::mem::replace(&mut seen[local(at)], true) {
            continue;
        }
        order.push(at);
        // Push successors in reverse so the lowest is visited first.
        let from = knot.edges.partition_point(|&(a, _)| a < at);
        let to = knot.edges.partition_point(|&(a, _)| a <= at);
        for &(_, b) in knot.edges[from..to].iter().rev() {
            if !seen[local(b)] {
                stack.push(b);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_of_several_circles_is_listed_whole() {
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 1)];
        assert_eq!(circles(4, &edges), vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn finds_each_circle_once_in_order() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 -> 0 (not on a circle)
        let edges = [(2, 0), (0, 1), (1, 2), (3, 3), (4, 0)];
        assert_eq!(circles(5, &edges), vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn a_dag_has_none() {
        assert!(circles(3, &[(0, 1), (1, 2), (0, 2)]).is_empty());
    }
}

/// Layers of a dependency graph: a service in layer N hard-depends only on layers below N,
/// so a platform can be restored bottom up. Services on a circle of hard dependencies (and
/// those that hard-depend on one) get no layer: they cannot cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layering {
    /// Per node: its layer, or `None` on or behind a circle.
    pub layers: Vec<Option<u32>>,
    /// Every circle of hard dependencies, as from [`circles`].
    pub circles: Vec<Vec<usize>>,
    /// Per circle: the fewest edges that, made soft, break it (exact up to
    /// [`EXACT_EDGES`] edges inside the circle, a small set found greedily beyond).
    pub breaks: Vec<Vec<(usize, usize)>>,
    /// Per circle: whether its breaks were searched exactly (else greedily: a set that
    /// works, not always the smallest).
    pub exact: Vec<bool>,
}

/// Layers `n` nodes by their hard dependency `edges` (`(a, b)`: a needs b), in O(V + E)
/// plus the break search inside each circle.
pub fn layering(n: usize, edges: &[(usize, usize)]) -> Layering {
    let mut g = DiGraph::<(), ()>::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in edges {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        deps[a].push(b);
    }
    let mut layers: Vec<Option<u32>> = vec![None; n];
    // Tarjan yields components dependencies-first (reverse topological order).
    for scc in tarjan_scc(&g) {
        let a = scc[0].index();
        let on_circle = scc.len() > 1 || deps[a].contains(&a);
        if on_circle {
            continue;
        }
        layers[a] = deps[a]
            .iter()
            .try_fold(0u32, |top, &d| layers[d].map(|l| top.max(l + 1)));
    }
    let knots = knots(n, edges);
    Layering {
        layers,
        circles: knots.iter().map(path_within).collect(),
        breaks: knots.iter().map(fewest_breaking_edges).collect(),
        exact: knots.iter().map(|k| k.edges.len() <= EXACT_EDGES).collect(),
    }
}

/// The fewest edges of a knot whose removal leaves it acyclic: exact by increasing subset
/// size up to [`EXACT_EDGES`] edges, the Eades-Lin-Smyth greedy order beyond. Works in
/// local indices (position in `members`), so its cost does not depend on the platform.
fn fewest_breaking_edges(knot: &Knot) -> Vec<(usize, usize)> {
    let local = |x: usize| knot.members.binary_search(&x).expect("a member");
    let own: Vec<(usize, usize)> = knot
        .edges
        .iter()
        .map(|&(a, b)| (local(a), local(b)))
        .collect();
    let k = knot.members.len();
    let cut = if own.len() <= EXACT_EDGES {
        exact_feedback_edges(k, &own)
    } else {
        greedy_feedback_edges(k, &own)
    };
    cut.into_iter()
        .map(|(a, b)| (knot.members[a], knot.members[b]))
        .collect()
}

/// The first smallest set of edges (in lexicographic order of their indices) whose removal
/// leaves `k` nodes acyclic.
fn exact_feedback_edges(k: usize, own: &[(usize, usize)]) -> Vec<(usize, usize)> {
    for size in 1..=own.len() {
        let mut pick: Vec<usize> = (0..size).collect();
        loop {
            let kept = own
                .iter()
                .enumerate()
                .filter(|(i, _)| !pick.contains(i))
                .map(|(_, e)| *e);
            if acyclic(k, kept) {
                return pick.iter().map(|&i| own[i]).collect();
            }
            if !next_combination(&mut pick, own.len()) {
                break;
            }
        }
    }
    own.to_vec()
}

/// Whether `k` nodes joined by `edges` have no circle (Kahn's algorithm).
fn acyclic(k: usize, edges: impl Iterator<Item = (usize, usize)> + Clone) -> bool {
    let mut indegree = vec![0u32; k];
    for (_, b) in edges.clone() {
        indegree[b] += 1;
    }
    let mut ready: Vec<usize> = (0..k).filter(|&x| indegree[x] == 0).collect();
    let mut done = 0;
    while let Some(x) = ready.pop() {
        done += 1;
        for (_, b) in edges.clone().filter(|&(a, _)| a == x) {
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push(b);
            }
        }
    }
    done == k
}

/// Advances `pick` (sorted indices) to the next k-combination of `0..n`.
fn next_combination(pick: &mut [usize], n: usize) -> bool {
    let k = pick.len();
    for i in (0..k).rev() {
        if pick[i] < n - k + i {
            pick[i] += 1;
            for j in i + 1..k {
                pick[j] = pick[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Eades, Lin and Smyth (1993): order the nodes greedily (sinks last, sources first, else
/// the node with the most surplus of outgoing over incoming edges, lowest first on ties);
/// the edges pointing backwards in that order form a small feedback set. Degrees are kept
/// current as nodes leave, with ordered sets for the three choices: O((V + E) log V).
fn greedy_feedback_edges(k: usize, own: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let (mut outs, mut ins) = (vec![Vec::new(); k], vec![Vec::new(); k]);
    let (mut out_deg, mut in_deg) = (vec![0i64; k], vec![0i64; k]);
    for &(a, b) in own {
        outs[a].push(b);
        ins[b].push(a);
        out_deg[a] += 1;
        in_deg[b] += 1;
    }
    let surplus = |x: usize, o: &[i64], i: &[i64]| (std::cmp::Reverse(o[x] - i[x]), x);
    let mut sinks: BTreeSet<usize> = (0..k).filter(|&x| out_deg[x] == 0).collect();
    let mut sources: BTreeSet<usize> = (0..k).filter(|&x| in_deg[x] == 0).collect();
    let mut by_surplus: BTreeSet<_> = (0..k).map(|x| surplus(x, &out_deg, &in_deg)).collect();
    let mut left = vec![true; k];
    let (mut front, mut back) = (Vec::with_capacity(k), Vec::new());
    for _ in 0..k {
        let x = if let Some(&x) = sinks.first() {
            back.push(x);
            x
        } else if let Some(&x) = sources.first() {
            front.push(x);
            x
        } else {
            let (_, x) = *by_surplus.first().expect("a node is left");
            front.push(x);
            x
        };
        left[x] = false;
        sinks.remove(&x);
        sources.remove(&x);
        by_surplus.remove(&surplus(x, &out_deg, &in_deg));
        // Each neighbour still left loses one edge (a self-loop leaves with x).
        for &b in &outs[x] {
            if left[b] {
                by_surplus.remove(&surplus(b, &out_deg, &in_deg));
                in_deg[b] -= 1;
                by_surplus.insert(surplus(b, &out_deg, &in_deg));
                if in_deg[b] == 0 {
                    sources.insert(b);
                }
            }
        }
        for &a in &ins[x] {
            if left[a] {
                by_surplus.remove(&surplus(a, &out_deg, &in_deg));
                out_deg[a] -= 1;
                by_surplus.insert(surplus(a, &out_deg, &in_deg));
                if out_deg[a] == 0 {
                    sinks.insert(a);
                }
            }
        }
    }
    back.reverse();
    front.extend(back);
    let mut pos = vec![0usize; k];
    for (i, &x) in front.iter().enumerate() {
        pos[x] = i;
    }
    own.iter()
        .copied()
        .filter(|&(a, b)| pos[a] >= pos[b])
        .collect()
}

#[cfg(test)]
mod layering_tests {
    use super::*;

    #[test]
    fn longest_path_layers() {
        // 0 needs 1 and 2; 1 needs 2; 3 needs nothing.
        let l = layering(4, &[(0, 1), (0, 2), (1, 2)]);
        assert_eq!(l.layers, vec![Some(2), Some(1), Some(0), Some(0)]);
        assert!(l.circles.is_empty());
    }

    #[test]
    fn circles_and_what_hangs_on_them_get_no_layer() {
        // 0 <-> 1 circle; 2 needs 0; 3 free.
        let l = layering(4, &[(0, 1), (1, 0), (2, 0)]);
        assert_eq!(l.layers, vec![None, None, None, Some(0)]);
        assert_eq!(l.circles, vec![vec![0, 1]]);
        assert_eq!(l.breaks[0].len(), 1);
    }

    #[test]
    fn the_fewest_breaking_edges_are_found() {
        // Two circles sharing the edge 1 -> 2: 0->1->2->0 and 1->2->3->1. Cutting 1->2 breaks both.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 1)];
        let l = layering(4, &edges);
        assert_eq!(l.circles.len(), 1);
        assert_eq!(l.breaks[0], vec![(1, 2)]);
    }

    #[test]
    fn greedy_order_breaks_large_circles() {
        // A complete digraph on 20 nodes: exact search is skipped; the greedy set must work.
        let n = 20;
        let edges: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
            .collect();
        let l = layering(n, &edges);
        assert_eq!(l.exact, vec![false]);
        let cut = &l.breaks[0];
        let kept: Vec<(usize, usize)> =
            edges.iter().copied().filter(|e| !cut.contains(e)).collect();
        assert!(circles(n, &kept).is_empty());
        assert_eq!(cut.len(), n * (n - 1) / 2);
    }

    /// The greedy order as Eades, Lin and Smyth state it, written the slow obvious way
    /// (degrees recounted over every edge at every step): the oracle for the fast one.
    fn greedy_by_recounting(k: usize, own: &[(usize, usize)]) -> Vec<(usize, usize)> {
        let mut left: Vec<usize> = (0..k).collect();
        let (mut front, mut back) = (Vec::new(), Vec::new());
        let degree = |x: usize, left: &[usize], out: bool| {
            own.iter()
                .filter(|&&(a, b)| {
                    let (me, other) = if out { (a, b) } else { (b, a) };
                    me == x && left.contains(&other)
                })
                .count() as i64
        };
        while !left.is_empty() {
            let i = if let Some(i) = left.iter().position(|&x| degree(x, &left, true) == 0) {
                back.push(left[i]);
                i
            } else if let Some(i) = left.iter().position(|&x| degree(x, &left, false) == 0) {
                front.push(left[i]);
                i
            } else {
                let i = (0..left.len())
                    .max_by_key(|&i| {
                        let x = left[i];
                        let surplus = degree(x, &left, true) - degree(x, &left, false);
                        (surplus, std::cmp::Reverse(x))
                    })
                    .unwrap();
                front.push(left[i]);
                i
            };
            left.remove(i);
        }
        back.reverse();
        front.extend(back);
        let pos = |x: usize| front.iter().position(|&y| y == x).unwrap();
        own.iter()
            .copied()
            .filter(|&(a, b)| pos(a) >= pos(b))
            .collect()
    }

    #[test]
    fn greedy_order_equals_the_recounting_definition() {
        let mut x: u64 = 3;
        let mut next = |m: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % m
        };
        for case in 0..200 {
            let k = 2 + case % 30;
            let mut own: Vec<(usize, usize)> = (0..k).map(|a| (a, (a + 1) % k)).collect();
            for _ in 0..next(3 * k) {
                own.push((next(k), next(k)));
            }
            own.sort_unstable();
            own.dedup();
            assert_eq!(
                greedy_feedback_edges(k, &own),
                greedy_by_recounting(k, &own),
                "case {case}: {own:?}"
            );
        }
    }

    #[test]
    fn a_ten_thousand_service_circle_is_found_and_broken() {
        // One ring through every service plus chords backwards: one knot, greedy breaks.
        let n = 10_000;
        let mut edges: Vec<(usize, usize)> = (0..n).map(|a| (a, (a + 1) % n)).collect();
        edges.extend((10..n).step_by(7).map(|a| (a, a - 10)));
        let l = layering(n, &edges);
        assert_eq!(l.circles.len(), 1);
        assert_eq!(l.circles[0].len(), n);
        assert!(l.layers.iter().all(Option::is_none));
        let kept: Vec<(usize, usize)> = edges
            .iter()
            .copied()
            .filter(|e| !l.breaks[0].contains(e))
            .collect();
        assert!(circles(n, &kept).is_empty());
    }

    #[test]
    fn ten_thousand_services_layer_quickly() {
        // A random acyclic platform (edges to higher indices only), deterministic.
        let n = 10_000;
        let mut x: u64 = 7;
        let mut edges = Vec::new();
        for a in 0..n - 1 {
            for _ in 0..3 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let b = a + 1 + (x >> 33) as usize % (n - a - 1);
                edges.push((a, b));
            }
        }
        let l = layering(n, &edges);
        assert!(l.layers.iter().all(Option::is_some));
        assert_eq!(l.layers[n - 1], Some(0));
    }
}

/// Why one service depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DependencyKind {
    /// A `Hard` call: the caller fails without it, and cannot start without it.
    HardCall,
    /// A `Soft` call: the caller degrades; it never blocks a start.
    SoftCall,
    /// A `startup_deps` entry: needed to start, not called.
    Startup,
    /// Produces to, or consumes from, a broker or a job queue. Hard for consumers, workers,
    /// job pushers and producers that wait for acks; soft behind an outbox or with
    /// `acks: None` (fire and forget).
    Messaging { hard: bool },
}

impl DependencyKind {
    pub fn is_hard(self) -> bool {
        match self {
            DependencyKind::SoftCall => false,
            DependencyKind::Messaging { hard } => hard,
            DependencyKind::HardCall | DependencyKind::Startup => true,
        }
    }
}

/// Who depends on whom in a scenario, straight from the raw spec: `platsim layers` must
/// analyse platforms that cannot run (a circle of certain calls never ends).
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    /// Services first, then brokers, then job queues.
    pub names: Vec<String>,
    /// How many of `names` are services.
    pub services: usize,
    /// `(from, to, kind)`: `from` depends on `to`. Sorted, without repeats.
    pub edges: Vec<(usize, usize, DependencyKind)>,
}

impl DependencyGraph {
    /// The graph of `spec`, or every unknown or repeated service name.
    pub fn from_spec(spec: &crate::scenario::Spec) -> Result<Self, Vec<crate::scenario::Problem>> {
        use crate::scenario::error::did_you_mean;
        use crate::scenario::{DependencySpec, Problem};
        // Brokers and job queues are nodes too: platform parts that must be up.
        let names: Vec<String> = spec
            .services
            .iter()
            .map(|s| s.name.clone())
            .chain(spec.brokers.iter().map(|b| b.name.clone()))
            .chain(spec.queues.iter().map(|q| q.name.clone()))
            .collect();
        let broker_of = |topic: &str| -> Option<&str> {
            spec.brokers
                .iter()
                .find(|b| b.topics.iter().any(|t| t.name == topic))
                .map(|b| b.name.as_str())
        };
        let mut index = std::collections::BTreeMap::new();
        let mut problems = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if index.insert(n.as_str(), i).is_some() {
                problems.push(Problem::new(
                    format!("services[{i}].name"),
                    format!("duplicate service \"{n}\""),
                ));
            }
        }
        let mut lookup = |path: String, name: &str| -> Option<usize> {
            let found = index.get(name).copied();
            if found.is_none() {
                problems.push(Problem::new(
                    path,
                    format!(
                        "unknown service \"{name}\"{}",
                        did_you_mean(name, names.iter().map(String::as_str))
                    ),
                ));
            }
            found
        };
        let mut edges = Vec::new();
        let mut messaging: Vec<(usize, String, Option<&str>, bool)> = Vec::new();
        for (i, s) in spec.services.iter().enumerate() {
            for (j, c) in s.calls.iter().enumerate() {
                if let Some(to) = lookup(format!("services[{i}].calls[{j}].to"), &c.to) {
                    let kind = match c.dependency {
                        DependencySpec::Hard => DependencyKind::HardCall,
                        DependencySpec::Soft => DependencyKind::SoftCall,
                    };
                    edges.push((i, to, kind));
                }
            }
            for (j, d) in s.startup_deps.iter().enumerate() {
                if let Some(to) = lookup(format!("services[{i}].startup_deps[{j}]"), d) {
                    edges.push((i, to, DependencyKind::Startup));
                }
            }
            for (j, p) in s.publish.iter().enumerate() {
                let hard = !p.outbox && p.acks != crate::scenario::AcksSpec::None;
                let path = format!("services[{i}].publish[{j}].topic");
                messaging.push((i, path, broker_of(&p.topic), hard));
            }
            if let Some(c) = &s.consume {
                let path = format!("services[{i}].consume.topic");
                messaging.push((i, path, broker_of(&c.topic), true));
            }
            if let Some(q) = &s.push {
                messaging.push((i, format!("services[{i}].push"), Some(q.as_str()), true));
            }
            if let Some(w) = &s.workers {
                let path = format!("services[{i}].workers.queue");
                messaging.push((i, path, Some(w.queue.as_str()), true));
            }
        }
        for (i, path, target, hard) in messaging {
            match target.and_then(|t| index.get(t).copied()) {
                Some(to) => edges.push((i, to, DependencyKind::Messaging { hard })),
                None => problems.push(Problem::new(path, "unknown topic or queue")),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        edges.sort_unstable();
        edges.dedup();
        Ok(DependencyGraph {
            names,
            services: spec.services.len(),
            edges,
        })
    }

    /// Hard dependencies only (hard calls and startup deps), without repeats.
    pub fn hard_edges(&self) -> Vec<(usize, usize)> {
        let mut e: Vec<(usize, usize)> = self
            .edges
            .iter()
            .filter(|(_, _, k)| k.is_hard())
            .map(|&(a, b, _)| (a, b))
            .collect();
        e.dedup();
        e
    }

    pub fn layering(&self) -> Layering {
        layering(self.names.len(), &self.hard_edges())
    }
}
