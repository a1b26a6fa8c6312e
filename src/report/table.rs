//! The human summary printed by `platsim run`.

use crate::metrics::Summary;
use std::fmt::Write;

/// A fixed-width table of the workloads (end to end) and the services.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let measured = s.duration_s - s.warmup_s;
    let _ = writeln!(
        out,
        "platsim: {} (seed {}): {} of virtual time, {} measured after a {} warmup, {} events\n",
        s.scenario,
        s.seed,
        human_secs(s.duration_s),
        human_secs(measured),
        human_secs(s.warmup_s),
        s.events
    );
    if !s.workloads.is_empty() {
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
            "workload",
            "sent",
            "ok",
            "errors",
            "rejected",
            "timeouts",
            "goodput/s",
            "p50 ms",
            "p99 ms",
            "max ms"
        );
        for (name, w) in &s.workloads {
            let _ = writeln!(
                out,
                "{:<16} {:>10} {:>10} {:>9} {:>9} {:>9} {:>10.1} {:>9} {:>9} {:>9}",
                clip(name, 16),
                w.arrivals,
                w.ok,
                w.errors,
                w.rejected,
                w.timeouts,
                w.goodput_rps,
                ms(w.latency_ms.p50),
                ms(w.latency_ms.p99),
                ms(w.latency_ms.max)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{:<16} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "service",
        "arrivals",
        "ok",
        "errors",
        "dep fail",
        "rejected",
        "timeouts",
        "util",
        "in sys",
        "wait p99",
        "p50 ms",
        "p99 ms"
    );
    for (name, v) in &s.services {
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>5.1}% {:>8.2} {:>9} {:>9} {:>9}",
            clip(name, 16),
            v.arrivals,
            v.ok,
            v.errors,
            v.dependency_failed,
            v.rejected,
            v.timeouts,
            v.utilization * 100.0,
            v.mean_in_system,
            ms(v.wait_ms.p99),
            ms(v.sojourn_ms.p50),
            ms(v.sojourn_ms.p99)
        );
    }
    if !s.services.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            crate::metrics::bottleneck::line(s.bottleneck.as_ref())
        );
    }
    if !s.calls.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8}",
            "call",
            "calls",
            "attempts",
            "ampl",
            "failed",
            "timeouts",
            "brk rej",
            "opened",
            "open s"
        );
        for (name, c) in &s.calls {
            let (opened, open_s) = c
                .breaker
                .as_ref()
                .map_or(("-".to_string(), "-".to_string()), |b| {
                    (b.opened.to_string(), format!("{:.1}", b.open_s))
                });
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>10} {:>7.2} {:>9} {:>9} {:>9} {:>8} {:>8}",
                clip(name, 24),
                c.calls,
                c.attempts,
                c.amplification,
                c.failed,
                c.attempt_timeouts,
                c.breaker_rejected,
                opened,
                open_s
            );
        }
    }
    let effects: Vec<_> = s
        .services
        .iter()
        .filter(|(_, v)| v.side_effects + v.duplicate_side_effects + v.deduplicated > 0)
        .collect();
    if !effects.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<16} {:>12} {:>12} {:>12}",
            "side effects", "once", "duplicated", "deduplicated"
        );
        for (name, v) in effects {
            let _ = writeln!(
                out,
                "{:<16} {:>12} {:>12} {:>12}",
                clip(name, 16),
                v.side_effects,
                v.duplicate_side_effects,
                v.deduplicated
            );
        }
    }
    for (k, o) in s.outages.iter().enumerate() {
        out.push('\n');
        let back = o
            .power_back_s
            .map_or("never".to_string(), |b| format!("{b:.1} s"));
        let _ = writeln!(
            out,
            "outage {}: power off at {:.1} s, back at {back}; every service ready after {}; goodput back after {}",
            k + 1,
            o.start_s,
            o.full_recovery_s.map_or("never".to_string(), |t| format!("{t:.1} s")),
            o.goodput_recovered_s.map_or("never".to_string(), |t| format!("{t:.1} s")),
        );
        let mut by_layer: std::collections::BTreeMap<Option<u32>, Vec<String>> =
            std::collections::BTreeMap::new();
        for (name, r) in &o.services {
            let when = match (r.ready_at_s, o.power_back_s) {
                (Some(t), Some(b)) => format!("+{:.1} s", t - b),
                _ => "never".to_string(),
            };
            let restarts = if r.restarts > 0 {
                format!(", {} restarts", r.restarts)
            } else {
                String::new()
            };
            by_layer
                .entry(r.layer)
                .or_default()
                .push(format!("{name} ({when}{restarts})"));
        }
        for (layer, names) in &by_layer {
            let label = layer.map_or("no layer".to_string(), |l| format!("layer {l}"));
            let _ = writeln!(out, "  {label:<9} {}", names.join(", "));
        }
        for c in &o.never_recovered_circles {
            let _ = writeln!(out, "  held by the circle {} -> {}", c.join(" -> "), c[0]);
        }
    }
    messaging(&mut out, s);
    super::partitions::render(&mut out, s);
    super::streams::render(&mut out, s);
    if !s.faults.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<18} {:<16} {:>9} {:>9} {:<15} {:>12} {:>12}  judged span: ratio [98% interval]",
            "fault", "target", "start s", "end s", "verdict", "back after s", "goodput after",
        );
        for f in &s.faults {
            let _ = writeln!(
                out,
                "{:<18} {:<16} {:>9.1} {:>9.1} {:<15} {:>12} {:>12}  {}",
                f.kind,
                clip(f.target.as_deref().unwrap_or("(platform)"), 16),
                f.start_s,
                f.end_s,
                f.verdict,
                f.recovered_after_s
                    .map_or("-".to_string(), |t| format!("{t:.1}")),
                f.goodput_after_ratio
                    .map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0)),
                judged(f)
            );
        }
    }
    if s.health.total_services > 0 {
        out.push('\n');
        out.push_str(&super::health::render(&s.health));
    }
    out
}

/// Orders (with the causes of the lost ones), job queues and topics.
fn messaging(out: &mut String, s: &Summary) {
    if let Some(o) = &s.orders {
        out.push('\n');
        let _ = writeln!(
            out,
            "orders: {} placed, {} accepted, {} refused; of the accepted: {} completed, {} lost, {} in DLQ, {} in flight; {} duplicated",
            o.placed, o.accepted, o.refused, o.completed, o.lost, o.in_dlq, o.in_flight, o.duplicated
        );
        if o.compensated + o.inconsistent > 0 {
            let _ = writeln!(
                out,
                "  sagas: {} compensated, {} inconsistent (half done)",
                o.compensated, o.inconsistent
            );
        }
        for (cause, n) in &o.lost_causes {
            let _ = writeln!(out, "  lost {n:>8}  {cause}");
        }
        if o.side_effects_unacknowledged > 0 {
            let _ = writeln!(
                out,
                "  side effects unacknowledged: {} refused or unanswered orders a step was done on anyway",
                o.side_effects_unacknowledged
            );
            for (how, n) in &o.unacknowledged_causes {
                let _ = writeln!(out, "    {n:>8}  answered {how}");
            }
        }
        let l = &o.latency_ms;
        let _ = writeln!(
            out,
            "  latency placed -> completed: mean {} ms, p50 {}, p99 {}, max {}",
            ms(l.mean),
            ms(l.p50),
            ms(l.p99),
            ms(l.max)
        );
        if o.in_dlq > 0 {
            let d = &o.dlq_latency_ms;
            let _ = writeln!(
                out,
                "  latency placed -> parked in a DLQ: mean {} ms, p99 {}",
                ms(d.mean),
                ms(d.p99)
            );
        }
    }
    if !s.queues.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9}",
            "queue", "enqueued", "delivered", "redelivered", "acked", "dlq", "lost", "depth max"
        );
        for (name, q) in &s.queues {
            let _ = writeln!(
                out,
                "{:<16} {:>10} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9}",
                clip(name, 16),
                q.enqueued,
                q.delivered,
                q.redelivered,
                q.acked,
                q.dlq,
                q.lost,
                q.depth_max
            );
        }
    }
    if !s.topics.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9}",
            "topic / group",
            "appended",
            "delivered",
            "redelivered",
            "dedup",
            "dlq",
            "lag max",
            "lost"
        );
        for (name, t) in &s.topics {
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9}",
                clip(name, 24),
                t.appended,
                "",
                "",
                "",
                "",
                "",
                t.restart_lost + t.publish_lost + t.failover_lost
            );
            for (g, st) in &t.groups {
                let _ = writeln!(
                    out,
                    "{:<24} {:>10} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9}",
                    clip(&format!("  {g}"), 24),
                    "",
                    st.delivered,
                    st.redelivered,
                    st.deduplicated,
                    st.dlq,
                    st.lag_max,
                    // Deleted by retention before the group read them.
                    if st.retention_skipped > 0 {
                        st.retention_skipped.to_string()
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    if !s.queues.is_empty() || !s.topics.is_empty() {
        out.push('\n');
        time_in_queue(out, s);
    }
}

/// Time in each job queue and topic, and what it adds to the services that pull from them.
fn time_in_queue(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "time in queue", "wait mean", "p50", "p99", "max", "oldest max s"
    );
    let mut row = |name: &str, w: &crate::metrics::Latency, oldest: f64| {
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10} {:>10} {:>10} {:>12.1}",
            clip(name, 24),
            ms(w.mean),
            ms(w.p50),
            ms(w.p99),
            ms(w.max),
            oldest
        );
    };
    for (name, q) in &s.queues {
        row(&format!("queue {name}"), &q.wait_ms, q.oldest_age_s_max);
    }
    for (name, t) in &s.topics {
        for (g, st) in &t.groups {
            row(&format!("{name} / {g}"), &st.wait_ms, st.lag_s_max);
        }
    }
    for (name, svc) in &s.services {
        if let Some(p) = &svc.pulled {
            let _ = writeln!(
                out,
                "  {name}: sojourn {} ms without the queue, {} ms with it (means)",
                ms(svc.sojourn_ms.mean),
                ms(p.sojourn_with_queue_ms.mean)
            );
        }
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Milliseconds with three significant digits where they matter.
pub(crate) fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn human_secs(s: f64) -> String {
    if s >= 7200.0 {
        format!("{:.1}h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.1}m", s / 60.0)
    } else {
        format!("{s}s")
    }
}

/// A verdict's evidence: the judged span's goodput ratio, its interval and length.
fn judged(f: &crate::metrics::FaultVerdict) -> String {
    match (
        f.goodput_ratio,
        f.goodput_ratio_low,
        f.goodput_ratio_high,
        f.span_s,
    ) {
        (Some(r), Some(low), Some(high), Some(span)) => {
            format!("{r:.2} [{low:.2}, {high:.2}] over {span:.0} s")
        }
        _ => "-".to_string(),
    }
}
