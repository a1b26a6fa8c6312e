//! `platsim layers`: the layers, the circles and how to break them, as text, JSON or DOT.

use crate::model::graph::{DependencyGraph, DependencyKind, Layering};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

fn kind_of(g: &DependencyGraph, a: usize, b: usize) -> DependencyKind {
    // Edges are sorted: the ones from a to b are one run, found by binary search.
    let from = g.edges.partition_point(|&(x, y, _)| (x, y) < (a, b));
    g.edges[from..]
        .iter()
        .take_while(|&&(x, y, _)| (x, y) == (a, b))
        .filter(|&&(_, _, k)| k.is_hard())
        .map(|&(_, _, k)| k)
        .min()
        .unwrap_or(DependencyKind::HardCall)
}

/// Words for breaking one hard edge.
fn advice(g: &DependencyGraph, a: usize, b: usize) -> String {
    let (x, y) = (&g.names[a], &g.names[b]);
    match kind_of(g, a, b) {
        DependencyKind::Startup => format!(
            "drop {x}'s startup dependency on {y} (let {x} start from a local copy and catch up later)"
        ),
        DependencyKind::Messaging { .. } => format!(
            "decouple {x} from {y} (an outbox, or a local buffer that it drains when {y} is back)"
        ),
        _ => format!(
            "make the call {x} -> {y} Soft (let {x} serve a cached or degraded answer while {y} is down)"
        ),
    }
}

/// The human report.
pub fn text(name: &str, g: &DependencyGraph, l: &Layering) -> String {
    let mut out = String::new();
    let hard = g.hard_edges().len();
    let infra = g.names.len() - g.services;
    let _ = writeln!(
        out,
        "layers of \"{name}\": {} services{}, {hard} hard dependencies",
        g.services,
        if infra > 0 {
            format!(" and {infra} brokers or queues")
        } else {
            String::new()
        }
    );
    let mut by_layer: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    let mut stuck = Vec::new();
    for (i, layer) in l.layers.iter().enumerate() {
        match layer {
            Some(n) => by_layer.entry(*n).or_default().push(&g.names[i]),
            None => stuck.push(g.names[i].as_str()),
        }
    }
    for (n, names) in &by_layer {
        let _ = writeln!(out, "  layer {n}: {}", names.join(", "));
    }
    if !stuck.is_empty() {
        let _ = writeln!(
            out,
            "  no layer (on or behind a circle, cannot cold start): {}",
            stuck.join(", ")
        );
    }
    if l.circles.is_empty() {
        let _ = writeln!(
            out,
            "no circles of hard dependencies: the platform can be restored bottom up"
        );
    }
    for (k, (circle, cut)) in l.circles.iter().zip(&l.breaks).enumerate() {
        let mut path: Vec<&str> = circle.iter().map(|&i| g.names[i].as_str()).collect();
        path.push(path[0]);
        let _ = writeln!(out, "circle {}: {}", k + 1, path.join(" -> "));
        let _ = writeln!(
            out,
            "  to break it, {} dependenc{} must go{}:",
            cut.len(),
            if cut.len() == 1 { "y" } else { "ies" },
            if l.exact[k] {
                String::new()
            } else {
                format!(
                    " (found greedily, maybe not the fewest: exact search covers circles of up to {} dependencies)",
                    crate::model::graph::EXACT_EDGES
                )
            }
        );
        for &(a, b) in cut {
            let _ = writeln!(out, "  - {}", advice(g, a, b));
        }
    }
    out
}

/// `{"layers": {"svc": 0 | null}, "cycles": [["a", "b"]], "breaks": [[["a", "b"]]],
/// "breaks_exact": [true]}`: per cycle, whether its breaks are proven the fewest.
pub fn json(g: &DependencyGraph, l: &Layering) -> String {
    let layers: BTreeMap<&str, Option<u32>> = g
        .names
        .iter()
        .zip(&l.layers)
        .map(|(n, l)| (n.as_str(), *l))
        .collect();
    let name = |i: &usize| g.names[*i].clone();
    let cycles: Vec<Vec<String>> = l
        .circles
        .iter()
        .map(|c| c.iter().map(name).collect())
        .collect();
    let breaks: Vec<Vec<[String; 2]>> = l
        .breaks
        .iter()
        .map(|b| b.iter().map(|(a, c)| [name(a), name(c)]).collect())
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({
        "layers": layers,
        "cycles": cycles,
        "breaks": breaks,
        "breaks_exact": l.exact,
    }))
    .expect("plain data serializes");
    s.push('\n');
    s
}

/// Graphviz DOT: layers as ranks (layer 0 at the bottom), circle edges red, soft calls
/// dashed, startup dependencies dotted.
pub fn dot(name: &str, g: &DependencyGraph, l: &Layering) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", q(name));
    let _ = writeln!(out, "  rankdir=BT;\n  node [shape=box, style=rounded];");
    let mut by_layer: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, layer) in l.layers.iter().enumerate() {
        match layer {
            Some(n) => by_layer.entry(*n).or_default().push(i),
            None => {
                let on_circle = l.circles.iter().any(|c| c.contains(&i));
                let color = if on_circle { "red" } else { "orange" };
                let _ = writeln!(out, "  {} [color={color}];", q(&g.names[i]));
            }
        }
    }
    for (n, members) in &by_layer {
        let names: Vec<String> = members.iter().map(|&i| q(&g.names[i])).collect();
        let _ = writeln!(
            out,
            "  subgraph {} {{ rank=same; label=\"layer {n}\"; {}; }}",
            q(&format!("layer{n}")),
            names.join("; ")
        );
    }
    let on_circle = |a: usize, b: usize| l.circles.iter().any(|c| c.contains(&a) && c.contains(&b));
    for &(a, b, kind) in &g.edges {
        let mut attrs = Vec::new();
        match kind {
            DependencyKind::SoftCall => attrs.push("style=dashed"),
            DependencyKind::Startup => attrs.push("style=dotted"),
            DependencyKind::Messaging { hard } => attrs.push(if hard {
                "arrowhead=diamond"
            } else {
                "arrowhead=odiamond"
            }),
            DependencyKind::HardCall => {}
        }
        if kind.is_hard() && on_circle(a, b) {
            attrs.push("color=red");
        }
        let _ = writeln!(
            out,
            "  {} -> {}{};",
            q(&g.names[a]),
            q(&g.names[b]),
            if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            }
        );
    }
    out.push_str("}\n");
    out
}
