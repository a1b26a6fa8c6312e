//! `platsim trace FILE`: what a trace of spans (OTLP/JSON, as `run --trace-format otlp`
//! writes it) says about where the time went.
//!
//! For each trace, the critical path: from the root, back from its end, the child that
//! ended last explains the time up to its end, and the parent's own time is what no child
//! explains (Jaeger's critical path). Retries add the backoff slept before them; a visit's
//! `queue` child is its wait for a server. Through messages the path goes on: from the
//! latest consumer back through its producer, the time between a publish and its
//! processing is queueing at the consumer (the topic's or queue's lag). Each piece of the
//! path is counted against a service as one of: own work, queueing, waiting on calls (an
//! attempt's time its callee does not explain: link delays, lost answers, a bulkhead),
//! and backoff.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where time went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Work,
    Queueing,
    Calls,
    Backoff,
}

pub const PARTS: [Part; 4] = [Part::Work, Part::Queueing, Part::Calls, Part::Backoff];

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Work => "own work",
            Part::Queueing => "queueing",
            Part::Calls => "waiting on calls",
            Part::Backoff => "backoff",
        }
    }
}

/// One span as read back from a file.
#[derive(Debug, Clone)]
pub struct ReadSpan {
    pub trace: String,
    pub id: String,
    pub parent: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: u64,
    pub start: u64,
    pub end: u64,
    pub failed: bool,
    pub backoff_ns: u64,
}

/// Reads an OTLP/JSON file: one `ExportTraceServiceRequest` per line.
pub fn read_otlp(text: &str, origin: &str) -> Result<Vec<ReadSpan>, String> {
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = |what: &str| format!("{origin}:{}: {what}", n + 1);
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            let hint = if line.starts_with("{\"t_s\"") {
                "; this is the jsonl event log, which has no parent links: write the trace with --trace-format otlp"
            } else {
                ""
            };
            at(&format!("not OTLP/JSON ({e}){hint}"))
        })?;
        let rs = v["resourceSpans"]
            .as_array()
            .ok_or_else(|| at("no `resourceSpans`: not an ExportTraceServiceRequest; write the trace with --trace-format otlp"))?;
        for r in rs {
            let service = r["resource"]["attributes"]
                .as_array()
                .and_then(|a| a.iter().find(|kv| kv["key"] == "service.name"))
                .and_then(|kv| kv["value"]["stringValue"].as_str())
                .unwrap_or("?")
                .to_string();
            for ss in r["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    out.push(
                        read_span(s, &service)
                            .ok_or_else(|| at("a span without its ids or times"))?,
                    );
                }
            }
        }
    }
    Ok(out)
}

fn read_span(s: &serde_json::Value, service: &str) -> Option<ReadSpan> {
    let num = |k: &str| s[k].as_str().and_then(|x| x.parse::<u64>().ok());
    let backoff_ms = s["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == "platsim.backoff_ms"))
        .and_then(|kv| kv["value"]["doubleValue"].as_f64())
        .unwrap_or(0.0);
    Some(ReadSpan {
        trace: s["traceId"].as_str()?.to_string(),
        id: s["spanId"].as_str()?.to_string(),
        parent: s["parentSpanId"]
            .as_str()
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        service: service.to_string(),
        name: s["name"].as_str().unwrap_or("").to_string(),
        kind: s["kind"].as_u64().unwrap_or(0),
        start: num("startTimeUnixNano")?,
        end: num("endTimeUnixNano")?,
        failed: s["status"]["code"].as_u64() == Some(2),
        backoff_ns: (backoff_ms * 1e6).round() as u64,
    })
}

/// A trace's critical path, summed per service and part.
#[derive(Debug, Clone)]
pub struct PathTimes {
    pub trace: String,
    /// From the root's start to the end of the path.
    pub total_ns: u64,
    pub failed: bool,
    /// The services on the path, in order.
    pub path: Vec<String>,
    pub parts: BTreeMap<(String, Part), u64>,
}

struct Tree<'a> {
    spans: &'a [&'a ReadSpan],
    children: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a> Tree<'a> {
    fn add(&self, acc: &mut PathTimes, service: &str, part: Part, ns: u64) {
        if ns > 0 {
            *acc.parts.entry((service.to_string(), part)).or_default() += ns;
        }
    }

    /// Attributes `[lo, hi]` of span `i` (Jaeger's critical path, backwards from `hi`).
    fn walk(&self, i: usize, lo: u64, hi: u64, acc: &mut PathTimes) {
        let s = self.spans[i];
        if matches!(s.kind, 2 | 5) && acc.path.last() != Some(&s.service) {
            acc.path.push(s.service.clone());
        }
        let own = match (s.kind, s.name.as_str()) {
            (1, "queue") => Part::Queueing,
            (3, _) => Part::Calls,
            _ => Part::Work,
        };
        let kids = self
            .children
            .get(s.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut t = hi;
        let mut used = vec![false; kids.len()];
        loop {
            // The child that ends last before `t` (sync children only: a consumer starts
            // after its producer's parent may have ended).
            let next = kids
                .iter()
                .enumerate()
                .filter(|&(k, &c)| !used[k] && self.spans[c].start < t && self.spans[c].kind != 5)
                .max_by_key(|&(_, &c)| (self.spans[c].end.min(t), c));
            let Some((k, &c)) = next else { break };
            used[k] = true;
            let child = self.spans[c];
            let end = child.end.min(t);
            self.add(acc, &s.service, own, t - end);
            let start = child.start.max(lo);
            self.walk(c, start, end, acc);
            t = start;
            if child.backoff_ns > 0 {
                let slept = child.backoff_ns.min(t - lo);
                self.add(acc, &s.service, Part::Backoff, slept);
                t -= slept;
            }
            if t <= lo {
                break;
            }
        }
        self.add(acc, &s.service, own, t.saturating_sub(lo));
    }
}

/// The critical path of each trace in `spans`.
pub fn critical_paths(spans: &[ReadSpan]) -> Vec<PathTimes> {
    let mut by_trace: BTreeMap<&str, Vec<&ReadSpan>> = BTreeMap::new();
    for s in spans {
        by_trace.entry(&s.trace).or_default().push(s);
    }
    by_trace
        .into_iter()
        .filter_map(|(id, t)| path_of(id, &t))
        .collect()
}

fn path_of(id: &str, spans: &[&ReadSpan]) -> Option<PathTimes> {
    let index: BTreeMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut children: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in spans.iter().enumerate() {
        if let Some(p) = &s.parent {
            children.entry(p.as_str()).or_default().push(i);
        }
    }
    let root = spans.iter().position(|s| s.parent.is_none())?;
    let tree = Tree { spans, children };
    let mut acc = PathTimes {
        trace: id.to_string(),
        total_ns: 0,
        failed: spans[root].failed,
        path: Vec::new(),
        parts: BTreeMap::new(),
    };
    // Through messages: the consumer that ended last, back to the root's piece.
    let last = spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == 5 && s.end > spans[root].end)
        .max_by_key(|(i, s)| (s.end, *i))
        .map(|(i, _)| i);
    let mut hops = Vec::new();
    let mut c = last;
    while let Some(ci) = c {
        let producer = spans[ci]
            .parent
            .as_deref()
            .and_then(|p| index.get(p))
            .copied();
        let Some(pi) = producer else { break };
        hops.push((ci, pi));
        // The visit that published: a consumer itself, or in the root's piece.
        c = std::iter::successors(spans[pi].parent.as_deref(), |p| {
            index.get(p).and_then(|&i| spans[i].parent.as_deref())
        })
        .filter_map(|p| index.get(p).copied())
        .find(|&i| spans[i].kind == 5);
    }
    hops.reverse();
    let root_end = match hops.first() {
        Some(&(_, p0)) => spans[p0].end.min(spans[root].end),
        None => spans[root].end,
    };
    tree.walk(root, spans[root].start, root_end, &mut acc);
    let mut end = root_end;
    for (k, &(ci, pi)) in hops.iter().enumerate() {
        let consumer = spans[ci];
        tree.add(
            &mut acc,
            &consumer.service,
            Part::Queueing,
            consumer.start.saturating_sub(spans[pi].end),
        );
        let hi = hops
            .get(k + 1)
            .map_or(consumer.end, |&(_, next)| spans[next].end);
        tree.walk(ci, consumer.start, hi, &mut acc);
        end = consumer.end;
        acc.failed |= consumer.failed;
    }
    acc.total_ns = end.saturating_sub(spans[root].start);
    Some(acc)
}

fn ms(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e6)
}

/// The table of one trace's or many traces' parts: services by time on the path.
fn parts_table(out: &mut String, parts: &BTreeMap<(String, Part), u64>, total: u64) {
    let mut services: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for ((s, p), ns) in parts {
        services.entry(s).or_default()[*p as usize] += ns;
    }
    let mut rows: Vec<(&str, [u64; 4])> = services.into_iter().collect();
    rows.sort_by_key(|(s, v)| (std::cmp::Reverse(v.iter().sum::<u64>()), *s));
    let _ = writeln!(
        out,
        "  {:<16} {:>10} {:>10} {:>10} {:>12} {:>10} {:>6}",
        "service", "total ms", "own work", "queueing", "calls wait", "backoff", "share"
    );
    for (s, v) in rows {
        let sum: u64 = v.iter().sum();
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>10} {:>10} {:>12} {:>10} {:>5.1}%",
            s,
            ms(sum),
            ms(v[0]),
            ms(v[1]),
            ms(v[2]),
            ms(v[3]),
            100.0 * sum as f64 / total.max(1) as f64
        );
    }
}

/// The service that spent the most time on the paths of the traces at or above the p99
/// of end-to-end time, and the table itself: "who made the p99".
pub fn who_made_p99(paths: &[PathTimes]) -> (Option<String>, BTreeMap<(String, Part), u64>, u64) {
    let mut totals: Vec<u64> = paths.iter().map(|p| p.total_ns).collect();
    totals.sort_unstable();
    let mut parts = BTreeMap::new();
    let mut sum = 0;
    if totals.is_empty() {
        return (None, parts, 0);
    }
    let p99 = totals[((totals.len() as f64 * 0.99).ceil() as usize).clamp(1, totals.len()) - 1];
    for p in paths.iter().filter(|p| p.total_ns >= p99) {
        sum += p.total_ns;
        for (k, v) in &p.parts {
            *parts.entry(k.clone()).or_insert(0) += v;
        }
    }
    let mut per: BTreeMap<&str, u64> = BTreeMap::new();
    for ((s, _), v) in &parts {
        *per.entry(s).or_default() += v;
    }
    let top = per
        .iter()
        .max_by_key(|(s, v)| (**v, std::cmp::Reverse(**s)))
        .map(|(s, _)| s.to_string());
    (top, parts, sum)
}

/// The report `platsim trace FILE` prints: the `top` slowest and failed traces, then who
/// made the p99.
pub fn report(paths: &[PathTimes], top: usize) -> String {
    let mut out = String::new();
    let mut slowest: Vec<&PathTimes> = paths.iter().collect();
    slowest.sort_by_key(|p| (std::cmp::Reverse(p.total_ns), p.trace.clone()));
    let failed: Vec<&PathTimes> = slowest.iter().filter(|p| p.failed).copied().collect();
    let _ = writeln!(out, "{} traces, {} failed", paths.len(), failed.len());
    for (title, list) in [("slowest", &slowest), ("failed", &failed)] {
        for p in list.iter().take(top) {
            let _ = writeln!(
                out,
                "\n{title}: trace {} {} ms{}\n  critical path: {}",
                p.trace,
                ms(p.total_ns),
                if p.failed { " (failed)" } else { "" },
                p.path.join(" -> ")
            );
            parts_table(&mut out, &p.parts, p.total_ns);
        }
    }
    let (top_service, parts, sum) = who_made_p99(paths);
    if let Some(s) = top_service {
        let n = {
            let mut t: Vec<u64> = paths.iter().map(|p| p.total_ns).collect();
            t.sort_unstable();
            let p99 = t[((t.len() as f64 * 0.99).ceil() as usize).clamp(1, t.len()) - 1];
            (t.iter().filter(|&&x| x >= p99).count(), p99)
        };
        let _ = writeln!(
            out,
            "\nwho made the p99: the {} traces at or above {} ms, their critical paths summed",
            n.0,
            ms(n.1)
        );
        parts_table(&mut out, &parts, sum);
        let _ = writeln!(out, "  the slowest part: {s}");
    }
    out
}
