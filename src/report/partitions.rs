//! The terminal table's section on partitioned services: load per partition and per node.

use crate::metrics::Summary;
use std::fmt::Write;

/// Most partition rows printed per service; summary.json has them all.
const MAX_ROWS: usize = 32;

/// One block per partitioned service, or nothing.
pub fn render(out: &mut String, s: &Summary) {
    for (name, k) in &s.partitioned {
        out.push('\n');
        let _ = writeln!(
            out,
            "partitioned {name}: {} keys, zipf {}, hot share {}, salt {}, {} scheme; hot key on partition {}; utilization max {:.3}, mean {:.3}",
            k.keys, k.zipf, k.hot_share, k.salt, k.scheme, k.hot_key_partition, k.max_utilization, k.mean_utilization
        );
        let _ = writeln!(
            out,
            "{:<12} {:>5} {:>10} {:>8} {:>8} {:>10} {:>10}",
            "partition", "node", "arrivals", "share", "util", "mean ms", "p99 ms"
        );
        for (i, p) in k.partitions.iter().enumerate().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "{:<12} {:>5} {:>10} {:>8.3} {:>8.3} {:>10.2} {:>10.2}",
                i,
                p.node,
                p.arrivals,
                p.expected_share,
                p.utilization,
                p.sojourn_ms.mean,
                p.sojourn_ms.p99
            );
        }
        if k.partitions.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "({} more in summary.json)",
                k.partitions.len() - MAX_ROWS
            );
        }
        if let Some(d) = &k.directory {
            let _ = writeln!(
                out,
                "directory: {} lookups ({:.3} of requests), {} cache hits, {} failed while it was down, {} redirected and {} refused by a moved key's old owner",
                d.lookups, d.lookup_share, d.cache_hits, d.failed, d.redirected, d.refused
            );
            for m in &d.key_moves {
                let at = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t:.3} s"));
                let _ = writeln!(
                    out,
                    "key {} moved alone to partition {} on node {}: from {:.3} s, copied {}, listed {}",
                    m.key, m.partition, m.node, m.start_s, at(m.copied_s), at(m.listed_s)
                );
            }
        }
        if k.nodes.len() < k.partitions.len() {
            for (n, node) in k.nodes.iter().enumerate().take(MAX_ROWS) {
                let _ = writeln!(
                    out,
                    "node {:<7} {:>5} {:>10} {:>8} {:>8.3} {:>10.2} {:>10.2}",
                    n,
                    node.partitions.len(),
                    node.arrivals,
                    "",
                    node.utilization,
                    node.sojourn_ms.mean,
                    node.sojourn_ms.p99
                );
            }
        }
    }
}
