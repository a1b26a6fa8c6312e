//! The dependency graph between services, and its circles.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// Every circle among `n` nodes joined by directed `edges`, one per strongly connected
/// component, each listed as a path in edge order starting from its lowest node; the
/// circles themselves are ordered by that lowest node. Deterministic for any input order.
pub fn circles(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut g = DiGraph::<(), ()>::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in edges {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    let mut out: Vec<Vec<usize>> = tarjan_scc(&g)
        .into_iter()
        .filter(|scc| scc.len() > 1 || edges.contains(&(scc[0].index(), scc[0].index())))
        .map(|scc| {
            let mut members: Vec<usize> = scc.iter().map(|n| n.index()).collect();
            members.sort_unstable();
            path_within(&members, edges)
        })
        .collect();
    out.sort();
    out
}

/// A circle through the lowest member: depth-first along sorted edges, inside the component.
fn path_within(members: &[usize], edges: &[(usize, usize)]) -> Vec<usize> {
    let start = members[0];
    let mut sorted: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|(a, b)| members.binary_search(a).is_ok() && members.binary_search(b).is_ok())
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut path = vec![start];
    let mut seen = vec![start];
    fn dfs(
        at: usize,
        start: usize,
        edges: &[(usize, usize)],
        path: &mut Vec<usize>,
        seen: &mut Vec<usize>,
    ) -> bool {
        for &(a, b) in edges.iter().filter(|(a, _)| *a == at) {
            let _ = a;
            if b == start {
                return true;
            }
            if !seen.contains(&b) {
                seen.push(b);
                path.push(b);
                if dfs(b, start, edges, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    dfs(start, start, &sorted, &mut path, &mut seen);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

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
