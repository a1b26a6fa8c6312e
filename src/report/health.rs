//! The health report as text (the end of `platsim run`'s table, and `platsim report`) and
//! as JSON (`platsim report --json`: the `health` object of summary.json alone).

use crate::metrics::health::{HealthReport, Severity};
use std::fmt::Write;

/// Alert episodes listed per service before "... and N more".
const MAX_ALERT_LINES: usize = 5;

/// Pretty JSON of the report with a trailing newline.
pub fn json(h: &HealthReport) -> String {
    let mut s = serde_json::to_string_pretty(h).expect("a health report always serializes");
    s.push('\n');
    s
}

/// The platform line, a row per service, then alerts, detections and the reasons.
pub fn render(h: &HealthReport) -> String {
    let mut out = String::new();
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let _ = writeln!(
        out,
        "health: {}: {} healthy, {} degraded, {} critical; {}; {:.2} a month; average reliability {:.1}",
        plural(h.total_services, "service", "services"),
        h.healthy,
        h.degraded,
        h.critical,
        plural(h.slo_breaches, "SLO breach", "SLO breaches"),
        h.total_monthly_cost,
        h.avg_reliability_score
    );
    if h.services.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{:<16} {:<9} {:>5} {:>6} {:>9} {:>7} {:>7} {:>9} {:>8} {:>7} {:>8} {:>11} {:<11} {:>4}",
        "service",
        "status",
        "score",
        "issues",
        "avail",
        "target",
        "budget",
        "latency",
        "uptime",
        "MTTR m",
        "inc/30d",
        "cost/month",
        "trend",
        "gov"
    );
    for s in &h.services {
        let avail = s.slos.iter().find(|o| o.name == "availability");
        let latency = s.slos.iter().find(|o| o.name == "latency");
        let mark = |met: bool| if met { " " } else { "!" };
        let _ = writeln!(
            out,
            "{:<16} {:<9} {:>5.1} {:>6} {:>9} {:>7} {:>7} {:>9} {:>7.3}% {:>7.1} {:>8.1} {:>11.2} {:<11} {:>4}",
            clip(&s.name, 16),
            s.status.as_str(),
            s.reliability_score,
            s.issues,
            avail.map_or("-".to_string(), |o| format!("{:.3}%{}", o.measured_pct, mark(o.met))),
            avail.map_or("-".to_string(), |o| format!("{}%", o.target_pct)),
            avail.map_or("-".to_string(), |o| format!("{:.1}%", o.budget_remaining_pct)),
            latency.map_or("-".to_string(), |o| format!("{:.2}%{}", o.measured_pct, mark(o.met))),
            s.reliability.uptime_pct,
            s.reliability.mttr_minutes,
            s.reliability.incidents_30d,
            s.cost.monthly_cost,
            if s.cost.declared { s.cost.trend.as_str() } else { "-" },
            format!("{}/{}", s.governance.passed, s.governance.checks.len())
        );
    }
    if h.services
        .iter()
        .any(|s| s.reliability.incidents_30d_extrapolated)
    {
        let _ = writeln!(out, "{}", extrapolation_note(h));
    }
    let alerting: Vec<_> = h.services.iter().filter(|s| !s.alerts.is_empty()).collect();
    if !alerting.is_empty() {
        out.push_str("\nburn-rate alerts");
        let rules: Vec<String> = h
            .alert_rules
            .iter()
            .map(|r| {
                format!(
                    "{} {}x over {} and {}",
                    r.name,
                    r.burn_rate,
                    secs(r.long_window_s),
                    secs(r.short_window_s)
                )
            })
            .collect();
        let _ = writeln!(out, " ({}):", rules.join("; "));
        for s in alerting {
            for e in s.alerts.iter().take(MAX_ALERT_LINES) {
                let _ = writeln!(
                    out,
                    "  {:<16} {:<10} {:<8} fired at {:.1} s, {}",
                    clip(&s.name, 16),
                    e.rule,
                    format!("({})", severity(e.severity)),
                    e.fired_s,
                    e.resolved_s
                        .map_or("still firing at the end".to_string(), |r| format!(
                            "resolved at {r:.1} s"
                        ))
                );
            }
            if s.alerts.len() > MAX_ALERT_LINES {
                let _ = writeln!(
                    out,
                    "  {:<16} ... and {} more",
                    "",
                    s.alerts.len() - MAX_ALERT_LINES
                );
            }
        }
    }
    if !h.detections.is_empty() {
        out.push_str("\ndetection:\n");
        for d in &h.detections {
            let what = format!(
                "{} {} at {:.1} s",
                d.kind,
                d.target.as_deref().unwrap_or("(platform)"),
                d.start_s
            );
            match (d.time_to_detect_s, &d.service, &d.rule) {
                (Some(t), Some(svc), Some(rule)) => {
                    let _ = writeln!(
                        out,
                        "  {what}: detected after {t:.1} s by {svc} {rule} ({})",
                        d.severity.map_or("", severity)
                    );
                }
                _ => {
                    let _ = writeln!(out, "  {what}: no alert fired");
                }
            }
        }
    }
    let reasons: Vec<_> = h
        .services
        .iter()
        .filter(|s| !s.reasons.is_empty())
        .collect();
    if !reasons.is_empty() {
        out.push_str("\nissues:\n");
        for s in reasons {
            let _ = writeln!(out, "  {}: {}", s.name, s.reasons.join("; "));
        }
    }
    out
}

/// Says that `inc/30d` was extrapolated from a short run, with each figure's 95% interval
/// (one for all the services without incidents, which share it).
fn extrapolation_note(h: &HealthReport) -> String {
    let range = |s: &crate::metrics::health::ServiceHealth| {
        format!(
            "{:.1}-{:.1}",
            s.reliability.incidents_30d_low, s.reliability.incidents_30d_high
        )
    };
    let mut parts: Vec<String> = h
        .services
        .iter()
        .filter(|s| s.reliability.incidents > 0)
        .map(|s| format!("{} {}", s.name, range(s)))
        .collect();
    if let Some(quiet) = h.services.iter().find(|s| s.reliability.incidents == 0) {
        parts.push(format!("0 incidents {}", range(quiet)));
    }
    format!(
        "inc/30d extrapolated from {} measured (95% interval: {})",
        secs(h.slo_period_s),
        parts.join(", ")
    )
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Page => "page",
        Severity::Ticket => "ticket",
    }
}

fn secs(s: f64) -> String {
    if s >= 7200.0 {
        format!("{}h", trim(s / 3600.0))
    } else if s >= 120.0 {
        format!("{}m", trim(s / 60.0))
    } else {
        format!("{}s", trim(s))
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zero_report_renders() {
        let h = HealthReport::default();
        assert_eq!(
            render(&h),
            "health: 0 services: 0 healthy, 0 degraded, 0 critical; 0 SLO breaches; 0.00 a month; average reliability 0.0\n"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&h)).unwrap();
        assert_eq!(v["total_services"], 0);
        assert_eq!(v["services"], serde_json::json!([]));
    }

    #[test]
    fn window_lengths() {
        assert_eq!(secs(12.0), "12s");
        assert_eq!(secs(300.0), "5m");
        assert_eq!(secs(21600.0), "6h");
        assert_eq!(secs(2.5), "2.5s");
    }
}
