//! `platsim trace FILE`: what a trace of spans (OTLP/JSON, as `run --trace-format otlp`
//! writes it) says about where the time went.
//!
//! For each trace, the critical path: from the root, back from its end, the child that
//! ended last explains the time up to its end, and the parent's own time is what no child
//! explains (Jaeger's critical path). Retries add the backoff slept before them; a visit's
//! `queue` child is its wait for a server. Through messages the path goes on: from the
//! latest consumer back through its producer, the time between a publish and its
//! processing is queueing at the consumer (the topic's or queue's lag). Each piece of the
//! path is counted against a service as one of: own work, queueing (for a server, or for
//! a bulkhead slot, a rate limiter's permit or a pooled connection before a call is
//! sent), waiting on calls (an attempt's time its callee does not explain: link delays,
//! lost answers), and backoff.

use super::export::{with_queue, Names};
use super::span::{Span, SpanSink};
use crate::metrics::summary::{PathParts, SlowTrace, TracesSummary};
use crate::metrics::Outcome;
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

impl ReadSpan {
    /// The span as an OTLP file gives it back, without the round trip (times are
    /// virtual: only their differences matter here).
    pub fn from_span(s: &Span, names: &Names) -> ReadSpan {
        ReadSpan {
            trace: format!("{:016x}{:016x}", s.trace.0, s.trace.1),
            id: format!("{:016x}", s.id),
            parent: (s.parent != 0).then(|| format!("{:016x}", s.parent)),
            service: names.resources[s.resource as usize].clone(),
            name: names.span_name(s),
            kind: s.role.kind() as u64,
            start: s.start.0,
            end: s.end.0,
            failed: s.outcome.is_some_and(|o| o != Outcome::Ok),
            backoff_ns: s.backoff.0,
        }
    }
}

/// A sink that hands spans on to `inner` and keeps them, read back, for the run's own
/// analysis (summary.json's `traces`): bounded by `--trace-max-spans` as the file is.
pub struct Kept<S> {
    pub inner: S,
    names: Names,
    pub spans: Vec<ReadSpan>,
}

impl<S: SpanSink> Kept<S> {
    pub fn new(inner: S, names: Names) -> Self {
        Kept {
            inner,
            names,
            spans: Vec::new(),
        }
    }
}

impl<S: SpanSink> SpanSink for Kept<S> {
    fn write(&mut self, spans: &[Span]) {
        self.inner.write(spans);
        for s in spans {
            for s in with_queue(s) {
                self.spans.push(ReadSpan::from_span(&s, &self.names));
            }
        }
    }
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
    /// The visits on the path as the walk finds them (backwards): (start, service).
    visits: Vec<(u64, String)>,
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
        if matches!(s.kind, 2 | 5) {
            acc.visits.push((s.start, s.service.clone()));
        }
        let own = match (s.kind, s.name.as_str()) {
            // A visit's wait for a server, an attempt's for a permit (bulkhead, rate
            // limiter, pool): both queueing where they happen.
            (1, n) if n == "queue" || n.ends_with(" wait") => Part::Queueing,
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
        visits: Vec::new(),
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
    // The walk goes backwards from the end: the path is in order of start, a parent
    // before its child at the same instant (the stable sort keeps the walk's order), a
    // service once per stretch.
    let mut visits = std::mem::take(&mut acc.visits);
    visits.sort_by_key(|v| v.0);
    for (_, service) in visits {
        if acc.path.last() != Some(&service) {
            acc.path.push(service);
        }
    }
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
    let mut parts = BTreeMap::new();
    let mut sum = 0;
    let Some(p99) = quantile(paths, 0.99) else {
        return (None, parts, 0);
    };
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

/// The nearest-rank `q` quantile of the paths' end-to-end times.
fn quantile(paths: &[PathTimes], q: f64) -> Option<u64> {
    let mut t: Vec<u64> = paths.iter().map(|p| p.total_ns).collect();
    t.sort_unstable();
    let n = t.len();
    (n > 0).then(|| t[((n as f64 * q).ceil() as usize).clamp(1, n) - 1])
}

fn slowest_first(paths: &[PathTimes]) -> Vec<&PathTimes> {
    let mut slowest: Vec<&PathTimes> = paths.iter().collect();
    slowest.sort_by_key(|p| (std::cmp::Reverse(p.total_ns), p.trace.clone()));
    slowest
}

/// summary.json's `traces`: the figures of [`report`], for the run's kept traces.
pub fn summarize(spans: &[ReadSpan]) -> TracesSummary {
    let paths = critical_paths(spans);
    let ms = |ns: u64| ns as f64 / 1e6;
    let (top, parts, sum) = who_made_p99(&paths);
    let mut p99_paths: BTreeMap<String, PathParts> = BTreeMap::new();
    for ((service, part), ns) in parts {
        let row = p99_paths.entry(service).or_default();
        row.total_ms += ms(ns);
        *match part {
            Part::Work => &mut row.own_work_ms,
            Part::Queueing => &mut row.queueing_ms,
            Part::Calls => &mut row.calls_wait_ms,
            Part::Backoff => &mut row.backoff_ms,
        } += ms(ns);
    }
    for row in p99_paths.values_mut() {
        row.share = row.total_ms / ms(sum).max(f64::MIN_POSITIVE);
    }
    TracesSummary {
        traces: paths.len() as u64,
        failed: paths.iter().filter(|p| p.failed).count() as u64,
        p50_ms: quantile(&paths, 0.5).map_or(0.0, ms),
        p99_ms: quantile(&paths, 0.99).map_or(0.0, ms),
        who_made_p99: top,
        p99_paths,
        slowest: slowest_first(&paths)
            .into_iter()
            .take(5)
            .map(|p| SlowTrace {
                trace: p.trace.clone(),
                total_ms: ms(p.total_ns),
                failed: p.failed,
                path: p.path.clone(),
            })
            .collect(),
    }
}

/// The report `platsim trace FILE` prints: the `top` slowest and failed traces, then who
/// made the p99.
pub fn report(paths: &[PathTimes], top: usize) -> String {
    let mut out = String::new();
    let slowest = slowest_first(paths);
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
    if let (Some(s), Some(p99)) = (top_service, quantile(paths, 0.99)) {
        let n = paths.iter().filter(|p| p.total_ns >= p99).count();
        let _ = writeln!(
            out,
            "\nwho made the p99: the {n} traces at or above {} ms, their critical paths summed",
            ms(p99)
        );
        parts_table(&mut out, &parts, sum);
        let _ = writeln!(out, "  the slowest part: {s}");
    }
    out
}
