//! `report.html`: one page per run (or sweep) that a person would rather look at than
//! read. Self-contained: the charts are inline SVG, the style is inline CSS, there is no
//! script and nothing is fetched, so it opens anywhere, offline, as one file.

use super::data::{RunData, SweepData};
use super::figures::seconds;
use super::Rendered;
use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Verdana, system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1e1e1e; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 2px solid #dde1e6; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
p.meta { color: #555; margin: 0 0 16px; }
pre.cmd { background: #1e2430; color: #e8edf5; padding: 10px 14px; border-radius: 6px; overflow-x: auto; font-size: 14px; }
figure { background: #fff; margin: 16px auto; padding: 8px; border: 1px solid #e1e4e8; border-radius: 6px; max-width: 1000px; }
details.charts > summary { cursor: pointer; font-weight: 600; margin: 12px 0; color: #1f5fa8; }
figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #e1e4e8; padding: 4px 8px; }
th { background: #eef1f5; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.ok { background: #d8f0d8; color: #1d6b1d; }
.bad { background: #f8d6d6; color: #9b1c1c; }
.na { background: #e8e8e8; color: #555; }
nav a { margin-right: 12px; color: #1f5fa8; text-decoration: none; }
.note { color: #666; font-size: 13px; }
table th:first-child { white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; margin: 12px 0; }
.card { background: #fff; border: 1px solid #e1e4e8; border-left: 6px solid #9aa4b1; border-radius: 6px; padding: 10px 14px; }
.card.HEALTHY { border-left-color: #2ca02c; } .card.DEGRADED { border-left-color: #f0b428; } .card.CRITICAL { border-left-color: #d62728; }
.card h3 { margin: 0 0 6px; font-size: 16px; display: flex; justify-content: space-between; gap: 8px; }
.card ul { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
.bar { background: #eef1f5; border-radius: 4px; height: 10px; overflow: hidden; margin: 4px 0 2px; }
.bar span { display: block; height: 100%; background: #2ca02c; }
.bar.low span { background: #d62728; } .bar.mid span { background: #f0b428; }
.HEALTHY-badge { background: #d8f0d8; color: #1d6b1d; } .DEGRADED-badge { background: #fbeccb; color: #7a5200; } .CRITICAL-badge { background: #f8d6d6; color: #9b1c1c; }
details { margin: 8px 0 16px; } summary { cursor: pointer; color: #1f5fa8; }
"#;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for a table: whole numbers with thousands separators, others with a few
/// significant digits.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let digits = (v.abs() as u64).to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        return if v < 0.0 { format!("-{out}") } else { out };
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "<td class=\"na\">–</td>".into(),
        Value::Number(n) => format!("<td class=\"num\">{}</td>", num(n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => format!("<td>{b}</td>"),
        Value::String(s) => format!("<td>{}</td>", verdict_or_text(s)),
        Value::Array(items) => format!(
            "<td>{}</td>",
            esc(&items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "))
        ),
        Value::Object(_) => format!("<td>{}</td>", esc(&v.to_string())),
    }
}

/// A cell in the terminal table's units: a heading ending in `%` shows a 0..1 ratio as a
/// percentage with one decimal (`0.68%`, not `0.0068`); one ending in `ms`, three
/// significant digits.
fn unit_cell(heading: &str, v: &Value) -> String {
    match v.as_f64() {
        Some(x) if heading.ends_with('%') => format!("<td class=\"num\">{:.1}%</td>", x * 100.0),
        Some(x) if heading.ends_with(" ms") => {
            format!("<td class=\"num\">{}</td>", crate::report::table::ms(x))
        }
        _ => cell(v),
    }
}

fn verdict_or_text(s: &str) -> String {
    let class = match s {
        "recovered" | "ok" | "pass" | "met" | "CLOSED" => "ok",
        "metastable" | "fail" | "failed" | "violated" | "OPEN" => "bad",
        "not_applicable" | "HALF_OPEN" => "na",
        _ => return esc(s),
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(s))
}

/// A table with a header row: `columns` are `(heading, path in each row)`.
fn table(out: &mut String, first: &str, rows: &[(String, &Value)], columns: &[(&str, &str)]) {
    out.push_str("<div class=\"scroll\"><table><tr>");
    let _ = write!(out, "<th>{}</th>", esc(first));
    for (h, _) in columns {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for (name, row) in rows {
        let _ = write!(out, "<tr><th>{}</th>", esc(name));
        for (heading, path) in columns {
            let mut v = *row;
            for key in path.split('.') {
                v = &v[key];
            }
            out.push_str(&unit_cell(heading, v));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
}

/// Most rows of one generic table; the rest are counted, not shown.
const MAX_ROWS: usize = 40;

/// A leaf for a table cell: a scalar, or a list of scalars.
fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().all(|i| !i.is_object() && !i.is_array()),
        _ => true,
    }
}

/// An object whose values are all leaves (its keys become `key.sub` columns).
fn is_flat(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.values().all(is_leaf))
}

/// Any JSON as tables, for the sections other issues add to the summary (health,
/// orders): a record is a two-column table; a map or list of records is one table with a
/// row per entry (named by its `name` field when it has one), whose simple fields are
/// columns and whose nested lists and records follow as sections of their own.
pub fn json_tables(out: &mut String, v: &Value, depth: usize) {
    let h = (depth + 3).min(6);
    let rows: Option<Vec<(String, &Value)>> = match v {
        Value::Object(map) if !map.is_empty() && map.values().all(Value::is_object) => {
            Some(map.iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = v["name"].as_str().map_or(i.to_string(), str::to_string);
                    (name, v)
                })
                .collect(),
        ),
        _ => None,
    };
    if let Some(rows) = rows {
        let shown = &rows[..rows.len().min(MAX_ROWS)];
        let mut cols: Vec<String> = Vec::new();
        for (_, r) in shown {
            for (k, v) in r.as_object().into_iter().flatten() {
                let names: Vec<String> = if is_leaf(v) {
                    vec![k.clone()]
                } else if is_flat(v) {
                    v.as_object()
                        .into_iter()
                        .flatten()
                        .map(|(sub, _)| format!("{k}.{sub}"))
                        .collect()
                } else {
                    vec![]
                };
                for n in names {
                    if n != "name" && !cols.contains(&n) {
                        cols.push(n);
                    }
                }
            }
        }
        let refs: Vec<(&str, &str)> = cols.iter().map(|c| (c.as_str(), c.as_str())).collect();
        table(out, "", shown, &refs);
        if rows.len() > shown.len() {
            let _ = writeln!(
                out,
                "<p class=\"note\">… and {} more</p>",
                rows.len() - shown.len()
            );
        }
        for (name, r) in shown {
            for (k, v) in r.as_object().into_iter().flatten() {
                let empty = v.as_array().is_some_and(Vec::is_empty);
                if !is_leaf(v) && !is_flat(v) && !empty {
                    let _ = writeln!(out, "<h{h}>{} › {}</h{h}>", esc(name), esc(k));
                    json_tables(out, v, depth + 1);
                }
            }
        }
        return;
    }
    match v {
        Value::Object(map) => {
            let (simple, nested): (Vec<_>, Vec<_>) = map.iter().partition(|(_, v)| is_leaf(v));
            if !simple.is_empty() {
                out.push_str("<table>");
                for (k, v) in simple {
                    let _ = write!(out, "<tr><th>{}</th>{}</tr>", esc(k), cell(v));
                }
                out.push_str("</table>\n");
            }
            for (k, v) in nested {
                if v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(|o| o.is_empty())
                {
                    continue;
                }
                let _ = writeln!(out, "<h{h}>{}</h{h}>", esc(k));
                json_tables(out, v, depth + 1);
            }
        }
        Value::Array(items) => {
            // A list of lists, or of mixed values: one row each.
            out.push_str("<table>");
            for item in items.iter().take(MAX_ROWS) {
                let _ = write!(out, "<tr>{}</tr>", cell(item));
            }
            out.push_str("</table>\n");
        }
        other => {
            let _ = writeln!(out, "<table><tr>{}</tr></table>", cell(other));
        }
    }
}

/// The inline SVG of a chart (without any XML prolog).
/// Charts under a closed `<details>`, its summary naming them.
fn folded(out: &mut String, what: &str, charts: &[&Rendered]) {
    if charts.is_empty() {
        return;
    }
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    let _ = writeln!(
        out,
        "<details class=\"charts\"><summary>{} ({})</summary>",
        esc(what),
        esc(&names.join(", "))
    );
    for c in charts {
        svg(out, c);
    }
    out.push_str("</details>\n");
}

fn svg(out: &mut String, chart: &Rendered) {
    let body = match chart.svg.find("<svg") {
        Some(i) => &chart.svg[i..],
        None => &chart.svg,
    };
    let _ = write!(
        out,
        "<figure id=\"chart-{}\" aria-label=\"{}\">\n{}\n</figure>\n",
        esc(&chart.name),
        esc(&chart.title),
        body.trim_end()
    );
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(title)
    );
}

fn entries(v: &Value) -> Vec<(String, &Value)> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
        .unwrap_or_default()
}

/// The report page of one run.
pub fn run_page(run: &RunData, charts: &[Rendered]) -> String {
    let s = &run.summary;
    let chart = |name: &str| charts.iter().find(|c| c.name == name);
    let mut out = String::new();
    head(
        &mut out,
        &format!("platsim: {} (seed {})", run.scenario(), run.seed()),
    );
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"meta\">seed {} · {} of virtual time, {} warmup, {} windows · {} events</p>\n",
        esc(run.scenario()),
        run.seed(),
        seconds(run.number("duration_s")),
        seconds(run.number("warmup_s")),
        seconds(run.number("window_s")),
        num(run.number("events")),
    );
    header_verdicts(&mut out, s);
    out.push_str("<nav><a href=\"#reproduce\">reproduce</a><a href=\"#clients\">clients</a><a href=\"#services\">services</a>");
    if !entries(&s["calls"]).is_empty() {
        out.push_str("<a href=\"#calls\">calls</a>");
    }
    if s["faults"].as_array().is_some_and(|f| !f.is_empty()) {
        out.push_str("<a href=\"#faults\">faults</a>");
    }
    if s["outages"].as_array().is_some_and(|f| !f.is_empty()) {
        out.push_str("<a href=\"#recovery\">recovery</a>");
    }
    if !s["health"].is_null() {
        out.push_str("<a href=\"#health\">health</a>");
    }
    if !s["orders"].is_null() {
        out.push_str("<a href=\"#orders\">orders</a>");
    }
    // The charts placed in their sections; the rest go under "More charts".
    let placed = [
        "latency",
        "throughput",
        "latency-services",
        "throughput-services",
        "queues",
        "breakers",
        "recovery",
        "budget",
    ];
    if charts.iter().any(|c| !placed.contains(&c.name.as_str())) {
        out.push_str("<a href=\"#charts\">more charts</a>");
    }
    out.push_str("</nav>\n");

    out.push_str("<h2 id=\"reproduce\">Reproduce</h2>\n");
    match &run.command {
        Some(cmd) => {
            let _ = writeln!(out, "<pre class=\"cmd\"><code>{}</code></pre>", esc(cmd));
        }
        None => out.push_str(
            "<p class=\"note\">No command.txt in this folder (it was not written by \
             <code>platsim run</code>).</p>\n",
        ),
    }
    out.push_str("<p class=\"note\">Same scenario, same seed, same binary: the same summary.json, byte for byte.</p>\n");

    out.push_str("<h2 id=\"clients\">What the clients saw</h2>\n");
    let workloads = entries(&s["workloads"]);
    table(
        &mut out,
        "workload",
        &workloads,
        &[
            ("target", "target"),
            ("sent", "arrivals"),
            ("ok", "ok"),
            ("errors", "errors"),
            ("rejected", "rejected"),
            ("timeouts", "timeouts"),
            ("in flight", "in_flight"),
            ("goodput/s", "goodput_rps"),
            ("attempts", "attempts"),
            ("amplification", "amplification"),
            ("p50 ms", "latency_ms.p50"),
            ("p99 ms", "latency_ms.p99"),
            ("max ms", "latency_ms.max"),
        ],
    );
    for name in ["latency", "throughput"] {
        if let Some(c) = chart(name) {
            svg(&mut out, c);
        }
    }

    out.push_str("<h2 id=\"services\">Services</h2>\n");
    let services = entries(&s["services"]);
    table(
        &mut out,
        "service",
        &services,
        &[
            ("arrivals", "arrivals"),
            ("ok", "ok"),
            ("errors", "errors"),
            ("dep fail", "dependency_failed"),
            ("rejected", "rejected"),
            ("timeouts", "timeouts"),
            ("shed", "shed"),
            ("crashed", "crashed"),
            ("util %", "utilization"),
            ("in system", "mean_in_system"),
            ("uptime %", "uptime_ratio"),
            ("wait p99 ms", "wait_ms.p99"),
            ("p50 ms", "sojourn_ms.p50"),
            ("p99 ms", "sojourn_ms.p99"),
        ],
    );
    // The small multiples are a deep dive: folded, so the page reads as a dashboard.
    let per_service: Vec<&Rendered> = ["latency-services", "throughput-services", "queues"]
        .into_iter()
        .filter_map(chart)
        .collect();
    folded(
        &mut out,
        "Per-service charts: latency, throughput and queues at each service",
        &per_service,
    );

    let calls = entries(&s["calls"]);
    if !calls.is_empty() {
        out.push_str("<h2 id=\"calls\">Calls</h2>\n");
        table(
            &mut out,
            "call",
            &calls,
            &[
                ("calls", "calls"),
                ("attempts", "attempts"),
                ("retries", "retries"),
                ("amplification", "amplification"),
                ("ok", "ok"),
                ("failed", "failed"),
                ("timeouts", "attempt_timeouts"),
                ("errors", "attempt_errors"),
                ("rejected", "attempt_rejected"),
                ("breaker rejected", "breaker_rejected"),
                ("bulkhead rejected", "bulkhead_rejected"),
                ("breaker opened", "breaker.opened"),
                ("open s", "breaker.open_s"),
                ("breaker state", "breaker.state"),
            ],
        );
        if let Some(c) = chart("breakers") {
            svg(&mut out, c);
        }
    } else if let Some(c) = chart("breakers") {
        out.push_str("<h2 id=\"calls\">Breakers</h2>\n");
        svg(&mut out, c);
    }

    let faults: Vec<(String, &Value)> = s["faults"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, f)| (i.to_string(), f))
        .collect();
    if !faults.is_empty() {
        out.push_str("<h2 id=\"faults\">Faults and recovery verdicts</h2>\n");
        out.push_str(
            "<p class=\"note\">Did goodput and p99 come back to the minute before the fault? \
             <span class=\"badge ok\">recovered</span> (after how long), \
             <span class=\"badge bad\">metastable</span> (not within the check), or \
             <span class=\"badge na\">not_applicable</span>.</p>\n",
        );
        table(
            &mut out,
            "#",
            &faults,
            &[
                ("kind", "kind"),
                ("target", "target"),
                ("start s", "start_s"),
                ("end s", "end_s"),
                ("verdict", "verdict"),
                ("recovered after s", "recovered_after_s"),
                ("baseline goodput/s", "baseline_goodput_rps"),
                ("baseline p99 ms", "baseline_p99_ms"),
                ("goodput after / baseline", "goodput_after_ratio"),
            ],
        );
    }

    let outages: Vec<(String, &Value)> = s["outages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, f)| (i.to_string(), f))
        .collect();
    if !outages.is_empty() {
        out.push_str("<h2 id=\"recovery\">Recovery after outages</h2>\n");
        if let Some(c) = chart("recovery") {
            svg(&mut out, c);
        }
        table(
            &mut out,
            "outage",
            &outages,
            &[
                ("start s", "start_s"),
                ("power back s", "power_back_s"),
                ("all ready after s", "full_recovery_s"),
                ("goodput back after s", "goodput_recovered_s"),
                ("never recovered", "never_recovered"),
            ],
        );
        for (i, o) in &outages {
            let mut rows: Vec<(String, &Value)> = entries(&o["services"]);
            rows.sort_by(|a, b| {
                let key = |v: &Value| {
                    (
                        v["layer"].is_null(),
                        v["layer"].as_u64(),
                        v["ready_at_s"].as_f64().map(|x| (x * 1e6) as i64),
                    )
                };
                key(a.1).cmp(&key(b.1)).then(a.0.cmp(&b.0))
            });
            let _ = writeln!(out, "<h3>Outage {i}: services by layer</h3>");
            table(
                &mut out,
                "service",
                &rows,
                &[
                    ("layer", "layer"),
                    ("ready at s", "ready_at_s"),
                    ("restarts", "restarts"),
                ],
            );
            if let Some(circles) = o["never_recovered_circles"]
                .as_array()
                .filter(|c| !c.is_empty())
            {
                out.push_str("<p>Held down by circles of hard dependencies: ");
                let text: Vec<String> = circles
                    .iter()
                    .map(|c| {
                        let names: Vec<&str> = c
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        format!("<b>{}</b>", esc(&names.join(" → ")))
                    })
                    .collect();
                out.push_str(&text.join("; "));
                out.push_str("</p>\n");
            }
        }
    }

    if !s["health"].is_null() {
        out.push_str("<h2 id=\"health\">Health</h2>\n");
        health_cards(&mut out, &s["health"]);
        if let Some(c) = chart("budget") {
            svg(&mut out, c);
        }
        // The budget series are drawn above, not listed as columns of numbers.
        let mut health = s["health"].clone();
        for svc in health["services"].as_array_mut().into_iter().flatten() {
            if let Some(o) = svc.as_object_mut() {
                o.remove("budget");
            }
        }
        out.push_str(
            "<details><summary>All health data (summary.json <code>health</code>)</summary>\n",
        );
        json_tables(&mut out, &health, 0);
        out.push_str("</details>\n");
    }
    if !s["orders"].is_null() {
        out.push_str("<h2 id=\"orders\">Orders ledger</h2>\n");
        json_tables(&mut out, &s["orders"], 0);
    }

    let more: Vec<&Rendered> = charts
        .iter()
        .filter(|c| !placed.contains(&c.name.as_str()))
        .collect();
    if !more.is_empty() {
        out.push_str("<h2 id=\"charts\">More charts</h2>\n");
        folded(&mut out, "Show them", &more);
    }
    out.push_str(
        "<p class=\"note\">Every chart is also in <code>charts/</code> as SVG and PNG. \
         Data: summary.json, timeseries.csv, latency.csv.</p>\n</main>\n</body>\n</html>\n",
    );
    out
}

/// Health as a person reads it: one card per service (status, score, error budget left
/// as a bar, the reasons in words), then one compact table of every service.
fn health_cards(out: &mut String, h: &Value) {
    let services = h["services"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} services: {} healthy, {} degraded, {} critical · {} SLO breaches · \
         average reliability score {}</p>",
        num(h["total_services"].as_f64().unwrap_or(0.0)),
        num(h["healthy"].as_f64().unwrap_or(0.0)),
        num(h["degraded"].as_f64().unwrap_or(0.0)),
        num(h["critical"].as_f64().unwrap_or(0.0)),
        num(h["slo_breaches"].as_f64().unwrap_or(0.0)),
        num(h["avg_reliability_score"].as_f64().unwrap_or(0.0)),
    );
    out.push_str("<div class=\"cards\">\n");
    for svc in services {
        let status = svc["status"].as_str().unwrap_or("UNKNOWN");
        let _ = write!(
            out,
            "<div class=\"card {s}\"><h3><span>{}</span><span class=\"badge {s}-badge\">{s}</span></h3>\
             <div>reliability score <b>{}</b> / 100</div>",
            esc(svc["name"].as_str().unwrap_or("?")),
            num(svc["reliability_score"].as_f64().unwrap_or(0.0)),
            s = esc(status),
        );
        if let Some(left) = budget_left(svc) {
            let class = if left < 25.0 {
                "low"
            } else if left < 75.0 {
                "mid"
            } else {
                "high"
            };
            let _ = write!(
                out,
                "<div class=\"bar {class}\" title=\"error budget left\"><span style=\"width: {:.1}%\"></span></div>\
                 <div class=\"note\">error budget left: {left:.1}%</div>",
                left.clamp(0.0, 100.0)
            );
        }
        let reasons: Vec<&str> = svc["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if reasons.is_empty() {
            out.push_str("<ul><li>no issues</li></ul>");
        } else {
            out.push_str("<ul>");
            for r in reasons {
                let _ = write!(out, "<li>{}</li>", esc(r));
            }
            out.push_str("</ul>");
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
    let rows: Vec<(String, &Value)> = services
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or("?").to_string(), v))
        .collect();
    table(
        out,
        "service",
        &rows,
        &[
            ("status", "status"),
            ("score", "reliability_score"),
            ("issues", "issues"),
            ("uptime (%)", "reliability.uptime_pct"),
            ("MTTR min", "reliability.mttr_minutes"),
            ("incidents", "reliability.incidents"),
            ("monthly cost", "cost.monthly_cost"),
            ("governance", "governance.status"),
        ],
    );
}

/// The verdicts at the top of the page: each fault's recovery verdict, the health counts
/// and the orders lost or duplicated, so the page answers "did it survive?" first.
fn header_verdicts(out: &mut String, s: &Value) {
    let mut parts: Vec<String> = Vec::new();
    for f in s["faults"].as_array().into_iter().flatten() {
        let what = [f["kind"].as_str(), f["target"].as_str()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('_', " ");
        let verdict = f["verdict"].as_str().unwrap_or("-");
        parts.push(format!("{} {}", esc(&what), verdict_or_text(verdict)));
    }
    let h = &s["health"];
    if !h.is_null() {
        parts.push(format!(
            "health: {} healthy, {} degraded, {} critical",
            num(h["healthy"].as_f64().unwrap_or(0.0)),
            num(h["degraded"].as_f64().unwrap_or(0.0)),
            num(h["critical"].as_f64().unwrap_or(0.0)),
        ));
    }
    let o = &s["orders"];
    if !o.is_null() {
        parts.push(format!(
            "orders: {} lost, {} duplicated",
            num(o["lost"].as_f64().unwrap_or(0.0)),
            num(o["duplicated"].as_f64().unwrap_or(0.0)),
        ));
    }
    // The service that limits the run, named by measurement (`metrics::bottleneck`).
    let b = &s["bottleneck"];
    if let Some(service) = b["service"].as_str() {
        let f = |k: &str| b[k].as_f64().unwrap_or(0.0);
        parts.push(esc(&crate::metrics::bottleneck::describe(
            service,
            [
                f("utilization"),
                f("queue_share"),
                f("refused_share"),
                f("throttled_share"),
            ],
            b["oom_kills"].as_u64().unwrap_or(0),
        )));
    } else if s["services"].as_object().is_some_and(|m| !m.is_empty()) {
        parts.push(esc(crate::metrics::bottleneck::NONE));
    }
    // The incidents in which a CPU limit was the bottleneck.
    let throttling: Vec<crate::metrics::bottleneck::Throttling> =
        serde_json::from_value(s["throttling"].clone()).unwrap_or_default();
    for l in crate::metrics::bottleneck::throttling_lines(&throttling) {
        parts.push(esc(&l));
    }
    if !parts.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"verdicts\">{}</p>",
            parts.join(" &nbsp;·&nbsp; ")
        );
    }
}

/// The smallest error budget left over a service's SLOs, in percent.
fn budget_left(svc: &Value) -> Option<f64> {
    svc["slos"]
        .as_array()?
        .iter()
        .filter_map(|s| s["budget_remaining_pct"].as_f64())
        .reduce(f64::min)
}

/// The report page of a sweep: its charts and its failing runs.
/// What the terminal prints after a sweep, from sweep.json: each `--fail-if` with `held`
/// or `failed` and in how many runs, and per point the mean and 95% interval over the
/// seeds of each predicate's metric (four significant digits).
fn sweep_verdicts(out: &mut String, doc: &Value) {
    let predicates: Vec<&str> = doc["fail_if"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let runs = doc["runs"].as_u64().unwrap_or(0);
    let failures = doc["failures"].as_array().cloned().unwrap_or_default();
    if !predicates.is_empty() {
        out.push_str("<h2 id=\"predicates\">Predicates</h2>\n<table>\n<tr><th>--fail-if</th><th>verdict</th><th>runs that failed it</th></tr>\n");
        for p in &predicates {
            let failed = failures
                .iter()
                .filter(|f| {
                    f["reasons"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .any(|r| r.starts_with(&format!("{p} (")) || r == *p)
                })
                .count();
            let (class, verdict) = if failed == 0 {
                ("ok", "held")
            } else {
                ("bad", "failed")
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td><span class=\"badge {class}\">{verdict}</span></td><td class=\"num\">{failed} of {runs}</td></tr>",
                esc(p)
            );
        }
        out.push_str("</table>\n");
    }
    let paths: Vec<String> = predicates
        .iter()
        .filter_map(|p| p.split_whitespace().next().map(String::from))
        .fold(Vec::new(), |mut v, p| {
            if !v.contains(&p) {
                v.push(p);
            }
            v
        });
    let points = doc["points"].as_array().cloned().unwrap_or_default();
    let Some(first) = points.first() else {
        return;
    };
    let params: Vec<String> = first["params"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    out.push_str("<h2 id=\"points\">Per point</h2>\n<p class=\"note\">mean [95% interval] over the seeds</p>\n<div class=\"scroll\"><table>\n<tr><th>point</th>");
    for h in params
        .iter()
        .chain(["runs".to_string(), "failed".to_string()].iter())
        .chain(&paths)
    {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    let sig = crate::sweep::predicate::sig4;
    for pt in &points {
        let _ = write!(out, "<tr><td class=\"num\">{}</td>", pt["point"]);
        for k in &params {
            let v = &pt["params"][k];
            let _ = write!(
                out,
                "<td>{}</td>",
                esc(v.as_str().unwrap_or(&v.to_string()))
            );
        }
        let _ = write!(
            out,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td>",
            pt["runs"], pt["failed"]
        );
        for path in &paths {
            let m = &pt["metrics"][path];
            let cell = match (
                m["mean"].as_f64(),
                m["ci95"][0].as_f64(),
                m["ci95"][1].as_f64(),
            ) {
                (Some(mean), Some(lo), Some(hi)) => {
                    format!("{} [{}, {}]", sig(mean), sig(lo), sig(hi))
                }
                (Some(mean), _, _) => sig(mean),
                _ => "-".to_string(),
            };
            let _ = write!(out, "<td class=\"num\">{}</td>", esc(&cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
}

pub fn sweep_page(sweep: &SweepData, charts: &[Rendered]) -> String {
    let mut out = String::new();
    let scenario = sweep.scenario();
    head(&mut out, &format!("platsim sweep: {scenario}"));
    let _ = write!(
        out,
        "<h1>Sweep of {}</h1>\n<p class=\"meta\">{} runs · {} seeds per point · swept: {}</p>\n",
        esc(&scenario),
        sweep.rows.len(),
        sweep.seeds(),
        esc(&sweep.params.join(", "))
    );
    if let Some(doc) = &sweep.sweep {
        sweep_verdicts(&mut out, doc);
    }
    for c in charts {
        svg(&mut out, c);
    }
    if let Some(doc) = &sweep.sweep {
        let failures: Vec<(String, &Value)> = doc["failures"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, f)| (i.to_string(), f))
            .collect();
        if !failures.is_empty() {
            out.push_str("<h2>Failing runs</h2>\n");
            table(
                &mut out,
                "#",
                &failures,
                &[("point", "point"), ("seed", "seed"), ("reasons", "reasons")],
            );
            out.push_str("<h3>Reproduce</h3>\n");
            for (_, f) in &failures {
                if let Some(cmd) = f["repro"].as_str() {
                    let _ = writeln!(out, "<pre class=\"cmd\"><code>{}</code></pre>", esc(cmd));
                }
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
