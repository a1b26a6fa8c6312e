//! Span writers: OpenTelemetry OTLP/JSON and the Chrome Trace Event format.
//!
//! **OTLP/JSON** follows the OpenTelemetry protocol's JSON encoding
//! (`opentelemetry/proto/collector/trace/v1/trace_service.proto`, "JSON Protobuf
//! Encoding" of the OTLP specification): one `ExportTraceServiceRequest` per line, as the
//! Collector's file exporter writes them and its `otlpjsonfile` receiver reads them;
//! field names in lowerCamelCase; `traceId`/`spanId` as lowercase hex (not base64);
//! 64-bit integers (`startTimeUnixNano`, `intValue`) as decimal strings; enums (`kind`,
//! `status.code`) as integers; one `resourceSpans` entry per service with
//! `service.name`. Virtual time 0 is [`EPOCH_UNIX_NANO`], 2026-01-01T00:00:00Z, so a
//! run opens at a fixed date in Jaeger or Tempo whatever day it ran.
//!
//! **Chrome Trace Event format** (the "JSON Object Format" that Perfetto and
//! chrome://tracing open): one `"ph":"X"` complete event per span, `ts`/`dur` in
//! microseconds of virtual time, `pid` per service (named by a `process_name` metadata
//! event) and `tid` per piece of a trace, so the spans on one row always nest.
//!
//! A visit that waited for a server gets a child span `queue` (`INTERNAL`) covering the
//! wait, so the time spent queueing shows as such in every viewer.

use super::span::{Role, Span, SpanSink};
use crate::engine::SimTime;
use crate::metrics::{Outcome, Refusal};
use crate::model::Platform;
use crate::run::Destination;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

/// Unix time of virtual time 0: 2026-01-01T00:00:00Z, in nanoseconds.
pub const EPOCH_UNIX_NANO: u64 = 1_767_225_600_000_000_000;

/// Spans per OTLP line: the Collector's default batch size is 8192; smaller lines stay
/// easy to read and to split.
const BATCH: usize = 1024;

/// The names a span's fields point to.
#[derive(Debug, Clone)]
pub struct Names {
    /// Services, then each workload's clients.
    pub resources: Vec<String>,
    pub services: usize,
    /// Per workload: its target service.
    pub targets: Vec<u32>,
    pub kube: Vec<bool>,
    pub nodes: bool,
    pub topics: Vec<String>,
    pub queues: Vec<String>,
}

impl Names {
    pub fn new(p: &Platform) -> Names {
        let mut resources: Vec<String> = p.services.iter().map(|s| s.name.clone()).collect();
        for w in &p.workloads {
            // A client is a service of its own in a trace viewer: keep the names apart.
            let clash = p.services.iter().any(|s| s.name == w.name);
            resources.push(if clash {
                format!("{} (client)", w.name)
            } else {
                w.name.clone()
            });
        }
        Names {
            resources,
            services: p.services.len(),
            targets: p.workloads.iter().map(|w| w.target.0).collect(),
            kube: p.services.iter().map(|s| s.kube.is_some()).collect(),
            nodes: p.nodes.is_some(),
            topics: p.topics.iter().map(|t| t.name.clone()).collect(),
            queues: p.queues.iter().map(|q| q.name.clone()).collect(),
        }
    }

    fn destination(&self, d: Destination) -> &str {
        match d {
            Destination::Topic(t) => &self.topics[t as usize],
            Destination::Queue(q) => &self.queues[q as usize],
        }
    }

    /// The span's name: low-cardinality, as the semantic conventions ask.
    pub fn span_name(&self, s: &Span) -> String {
        let res = &self.resources[s.resource as usize];
        match s.role {
            Role::Request => res.clone(),
            Role::ClientAttempt => {
                let w = s.resource as usize - self.services;
                format!("call {}", self.resources[self.targets[w] as usize])
            }
            Role::CallAttempt => format!("call {}", self.resources[s.peer as usize]),
            Role::Visit => res.clone(),
            Role::Queue => "queue".into(),
            Role::RateLimiterWait => "rate limiter wait".into(),
            Role::BulkheadWait => "bulkhead wait".into(),
            Role::PoolWait => "pool wait".into(),
            Role::Produce => match s.destination {
                Some(d) => format!("send {}", self.destination(d)),
                None => "send".into(),
            },
            Role::Consume => match s.destination {
                Some(d) => format!("process {}", self.destination(d)),
                None => "process".into(),
            },
        }
    }

    /// The callee of an attempt.
    fn callee(&self, s: &Span) -> Option<&str> {
        match s.role {
            Role::ClientAttempt => {
                let w = s.resource as usize - self.services;
                Some(&self.resources[self.targets[w] as usize])
            }
            Role::CallAttempt => Some(&self.resources[s.peer as usize]),
            _ => None,
        }
    }

    /// The span's attributes, by the semantic conventions where one fits (`rpc.*`,
    /// `server.address`, `http.request.resend_count`, `messaging.*`, `k8s.*`), else under
    /// `platsim.*`.
    pub fn attributes(&self, s: &Span) -> Vec<(&'static str, Value)> {
        let mut a = Vec::with_capacity(8);
        if s.role == Role::Queue {
            return a;
        }
        let str = |v: &str| Value::Str(v.to_string());
        if let Some(callee) = self.callee(s) {
            a.push(("rpc.system", str("platsim")));
            a.push(("rpc.service", str(callee)));
            a.push(("server.address", str(callee)));
            a.push(("platsim.attempt", Value::Int(s.attempt as i64)));
            if s.attempt > 1 {
                a.push((
                    "http.request.resend_count",
                    Value::Int(s.attempt as i64 - 1),
                ));
                a.push(("platsim.backoff_ms", Value::F64(s.backoff.as_millis_f64())));
            }
        }
        if matches!(s.role, Role::Visit | Role::Consume) {
            let service = &self.resources[s.resource as usize];
            if s.role == Role::Visit {
                a.push(("rpc.system", str("platsim")));
                a.push(("rpc.service", str(service)));
            }
            if s.replica != u32::MAX {
                if self.kube[s.resource as usize] {
                    a.push(("k8s.pod.name", str(&format!("{service}-{}", s.replica))));
                }
                a.push(("platsim.replica", Value::Int(s.replica as i64)));
            }
            if self.nodes && s.node != u32::MAX {
                a.push(("k8s.node.name", str(&format!("node-{}", s.node))));
            }
            if let Some(t) = s.served {
                a.push((
                    "platsim.queue_ms",
                    Value::F64(t.since(s.start).as_millis_f64()),
                ));
            }
        }
        if let Some(d) = s.destination {
            let system = match d {
                Destination::Topic(_) => "kafka",
                Destination::Queue(_) => "redis",
            };
            let op = if s.role == Role::Produce {
                "send"
            } else {
                "process"
            };
            a.push(("messaging.system", str(system)));
            a.push(("messaging.operation.type", str(op)));
            a.push(("messaging.destination.name", str(self.destination(d))));
            a.push(("messaging.message.id", Value::Str(s.message.to_string())));
            if s.role == Role::Consume {
                let group = &self.resources[s.resource as usize];
                if matches!(d, Destination::Topic(_)) {
                    a.push(("messaging.consumer.group.name", str(group)));
                }
                a.push(("platsim.delivery", Value::Int(s.attempt as i64)));
            }
        }
        if let Some(o) = s.outcome {
            a.push(("platsim.outcome", str(outcome_name(o))));
        }
        if let Some(r) = s.refusal {
            a.push(("platsim.refusal", str(refusal_name(r))));
        }
        a
    }
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    F64(f64),
}

pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Error => "error",
        Outcome::DependencyFailed => "dependency_failed",
        Outcome::Timeout => "timeout",
        Outcome::Rejected => "rejected",
        Outcome::Shed => "shed",
        Outcome::Crashed => "crashed",
    }
}

fn refusal_name(r: Refusal) -> &'static str {
    match r {
        Refusal::QueueFull => "queue_full",
        Refusal::RateLimited => "rate_limited",
        Refusal::ConcurrencyLimited => "concurrency_limited",
        Refusal::Unavailable => "unavailable",
    }
}

/// The span and, for a visit that waited for a server, its `queue` child.
pub(crate) fn with_queue(s: &Span) -> impl Iterator<Item = Span> + '_ {
    let queue = s.served.filter(|&t| t > s.start).map(|t| Span {
        id: super::span::mix(s.id ^ 0x7175_6575_6500),
        parent: s.id,
        role: Role::Queue,
        end: t,
        outcome: None,
        refusal: None,
        served: None,
        replica: u32::MAX,
        node: u32::MAX,
        ..s.clone()
    });
    std::iter::once(s.clone()).chain(queue)
}

fn hex(out: &mut String, x: u64) {
    let _ = write!(out, "{x:016x}");
}

fn json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string serializes"));
}

/// Writes OTLP/JSON lines.
pub struct Otlp<W: Write> {
    out: BufWriter<W>,
    names: Names,
    batch: Vec<Span>,
    line: String,
    pub lines: u64,
    error: Option<io::Error>,
}

impl<W: Write> Otlp<W> {
    pub fn new(out: W, names: Names) -> Self {
        Otlp {
            out: BufWriter::with_capacity(1 << 20, out),
            names,
            batch: Vec::with_capacity(BATCH),
            line: String::new(),
            lines: 0,
            error: None,
        }
    }

    /// Writes what is batched; returns the lines written, or the first write error.
    pub fn finish(mut self) -> io::Result<u64> {
        self.write_line();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.lines)
    }

    fn write_line(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        // Grouped by resource, in the order the spans came within each.
        let mut batch = std::mem::take(&mut self.batch);
        batch.sort_by_key(|s| s.resource);
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str(r#"{"resourceSpans":["#);
        for (k, group) in batch.chunk_by(|a, b| a.resource == b.resource).enumerate() {
            if k > 0 {
                line.push(',');
            }
            line.push_str(
                r#"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"#,
            );
            json_str(&mut line, &self.names.resources[group[0].resource as usize]);
            line.push_str(r#"}}]},"scopeSpans":[{"scope":{"name":"platsim","version":""#);
            line.push_str(env!("CARGO_PKG_VERSION"));
            line.push_str(r#""},"spans":["#);
            for (i, s) in group.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                self.span(&mut line, s);
            }
            line.push_str("]}]}");
        }
        line.push_str("]}\n");
        if self.error.is_none() {
            match self.out.write_all(line.as_bytes()) {
                Ok(()) => self.lines += 1,
                Err(e) => self.error = Some(e),
            }
        }
        batch.clear();
        self.batch = batch;
        self.line = line;
    }

    fn span(&self, out: &mut String, s: &Span) {
        out.push_str(r#"{"traceId":""#);
        hex(out, s.trace.0);
        hex(out, s.trace.1);
        out.push_str(r#"","spanId":""#);
        hex(out, s.id);
        out.push('"');
        if s.parent != 0 {
            out.push_str(r#","parentSpanId":""#);
            hex(out, s.parent);
            out.push('"');
        }
        out.push_str(r#","name":"#);
        json_str(out, &self.names.span_name(s));
        let _ = write!(
            out,
            r#","kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":["#,
            s.role.kind() as u8,
            EPOCH_UNIX_NANO + s.start.0,
            EPOCH_UNIX_NANO + s.end.0
        );
        for (i, (k, v)) in self.names.attributes(s).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"key":"#);
            json_str(out, k);
            out.push_str(r#","value":{"#);
            match v {
                Value::Str(x) => {
                    out.push_str(r#""stringValue":"#);
                    json_str(out, x);
                }
                Value::Int(x) => {
                    let _ = write!(out, r#""intValue":"{x}""#);
                }
                Value::F64(x) => {
                    let _ = write!(out, r#""doubleValue":{}"#, ryu::Buffer::new().format(*x));
                }
            }
            out.push_str("}}");
        }
        out.push(']');
        match s.outcome {
            // Unset: instrumentation leaves a success's status alone (the spec's advice).
            Some(Outcome::Ok) => {}
            Some(o) => {
                let _ = write!(
                    out,
                    r#","status":{{"code":2,"message":"{}"}}"#,
                    outcome_name(o)
                );
            }
            _ => {}
        }
        out.push('}');
    }
}

impl<W: Write> SpanSink for Otlp<W> {
    fn write(&mut self, spans: &[Span]) {
        for s in spans {
            self.batch.extend(with_queue(s));
        }
        if self.batch.len() >= BATCH {
            self.write_line();
        }
    }
}

/// Writes the Chrome Trace Event format.
pub struct Chrome<W: Write> {
    out: BufWriter<W>,
    names: Names,
    next_tid: u64,
    pub events: u64,
    error: Option<io::Error>,
}

/// Microseconds with three decimals, exactly.
fn micros(t: SimTime) -> String {
    format!("{}.{:03}", t.0 / 1000, t.0 % 1000)
}

impl<W: Write> Chrome<W> {
    pub fn new(out: W, names: Names) -> Self {
        let mut c = Chrome {
            out: BufWriter::with_capacity(1 << 20, out),
            names,
            next_tid: 0,
            events: 0,
            error: None,
        };
        let mut head = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        for (pid, name) in c.names.resources.iter().enumerate() {
            if pid > 0 {
                head.push_str(",\n");
            }
            let _ = write!(
                head,
                r#"{{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":{}}}}}"#,
                pid + 1,
                serde_json::to_string(name).expect("a string serializes")
            );
        }
        c.put(&head);
        c
    }

    fn put(&mut self, s: &str) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(s.as_bytes()) {
                self.error = Some(e);
            }
        }
    }

    pub fn finish(mut self) -> io::Result<u64> {
        self.put("\n]}\n");
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.events)
    }
}

impl<W: Write> SpanSink for Chrome<W> {
    fn write(&mut self, spans: &[Span]) {
        self.next_tid += 1;
        let tid = self.next_tid;
        let mut text = String::new();
        for s in spans.iter().flat_map(with_queue) {
            let name = self.names.span_name(&s);
            let _ = write!(
                text,
                r#",
{{"ph":"X","name":{},"cat":"{}","pid":{},"tid":{tid},"ts":{},"dur":{},"args":{{"trace_id":"{:016x}{:016x}","span_id":"{:016x}""#,
                serde_json::to_string(&name).expect("a string serializes"),
                format!("{:?}", s.role.kind()).to_lowercase(),
                s.resource + 1,
                micros(s.start),
                micros(s.end.since(s.start)),
                s.trace.0,
                s.trace.1,
                s.id,
            );
            for (k, v) in self.names.attributes(&s) {
                let v = match v {
                    Value::Str(x) => serde_json::to_string(&x).expect("a string serializes"),
                    Value::Int(x) => x.to_string(),
                    Value::F64(x) => ryu::Buffer::new().format(x).to_string(),
                };
                let _ = write!(text, r#","{k}":{v}"#);
            }
            text.push_str("}}");
            self.events += 1;
        }
        self.put(&text);
    }
}
