//! Issue 19, distributed tracing: the span tree of a hand-computed request, the OTLP/JSON
//! encoding checked field by field against the OpenTelemetry protocol's definitions
//! (`opentelemetry/proto/trace/v1/trace.proto`, `common/v1/common.proto`,
//! `resource/v1/resource.proto`, and the OTLP specification's "JSON Protobuf Encoding"),
//! determinism, and whole trees on the food-ordering platforms.

use crate::common::{assert_code, platsim, text};
use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::Platform;
use platsim::trace::span::{Role, Span, SpanOptions, SpanSink, SpanTracer};
use platsim::Limits;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Collects what a tracer writes.
#[derive(Default)]
struct Spans(Vec<Span>);

impl SpanSink for Spans {
    fn write(&mut self, spans: &[Span]) {
        self.0.extend_from_slice(spans);
    }
}

fn platform(text: &str) -> Platform {
    let spec = platsim::scenario::parse(text, "test").expect("the scenario parses");
    platsim::model::validate(&spec, "test").expect("the scenario is valid")
}

fn traced(p: &Platform, opts: SpanOptions) -> Vec<Span> {
    let mut tracer = SpanTracer::new(Spans::default(), p, opts);
    platsim::run::run_observed(p, Limits::default(), &mut tracer).expect("the run finishes");
    tracer.finish(p.end()).0 .0
}

/// One client request at 1 s. `api` works 10 ms, then calls `pay` with a 100 ms timeout
/// and three attempts 50 ms apart; `pay` works 20 ms, but a latency fault adds 300 ms to
/// every request it starts before 1.25 s. Then `api` publishes an event that `notify`
/// consumes in 5 ms.
///
/// By hand, in ms after 1 s:
/// - attempt 1 at 10: pay's visit would end at 10 + 320 = 330; the call times out at 110;
/// - backoff 50: attempt 2 at 160 (fault still on): visit ends at 480, timeout at 260;
/// - backoff 50: attempt 3 at 310 (fault over): visit ends at 330, ok;
/// - api answers at 330 and publishes; notify processes the message from 330 to 335.
///
/// The abandoned visits end as `timeout` at 330 and 480: the work behind a timeout goes
/// on, and its span shows it.
const RETRIES_AND_MESSAGE: &str = r#"Scenario(
    name: "trace-by-hand",
    duration: "2s",
    drain: "1s",
    brokers: [Broker(name: "kafka", topics: [Topic(name: "events", partitions: 1)])],
    services: [
        Service(name: "api", concurrency: 1, service_time: Constant("10ms"),
            calls: [Call(to: "pay", dependency: Hard, timeout: Some("100ms"),
                retry: Some(Retry(max_attempts: 3, backoff: Constant("50ms"), jitter: None,
                    retry_on: [Timeout])))],
            publish: [Publish(topic: "events")]),
        Service(name: "pay", concurrency: 10, service_time: Constant("20ms")),
        Service(name: "notify", service_time: Constant("5ms"),
            consume: Some(Consume(topic: "events"))),
    ],
    workload: [Closed(name: "shop", target: "api", users: 1, think_time: Constant("1s"))],
    faults: [Latency(target: "pay", at: "1s", duration: "250ms", add: Constant("300ms"))],
)"#;

fn ms(t: SimTime) -> u64 {
    assert_eq!(t.0 % 1_000_000, 0, "{t:?} is a whole millisecond");
    t.0 / 1_000_000
}

/// `(role, service, start ms, end ms, outcome, attempt, backoff ms)` of each span, as a
/// tree: children sorted by start under their parent.
fn tree(spans: &[Span], p: &Platform) -> Vec<String> {
    let mut children: BTreeMap<u64, Vec<&Span>> = BTreeMap::new();
    for s in spans {
        children.entry(s.parent).or_default().push(s);
    }
    for c in children.values_mut() {
        c.sort_by_key(|s| (s.start, s.role as u8, s.id));
    }
    let name = |r: u32| {
        p.services
            .get(r as usize)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| p.workloads[r as usize - p.services.len()].name.clone())
    };
    let mut out = Vec::new();
    fn walk(
        id: u64,
        depth: usize,
        children: &BTreeMap<u64, Vec<&Span>>,
        name: &dyn Fn(u32) -> String,
        out: &mut Vec<String>,
    ) {
        for s in children.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(format!(
                "{}{:?} {} {}-{} {:?} attempt={} backoff={}",
                "  ".repeat(depth),
                s.role,
                name(s.resource),
                ms(s.start),
                ms(s.end),
                s.outcome.expect("every span ended"),
                s.attempt,
                ms(s.backoff),
            ));
            walk(s.id, depth + 1, children, name, out);
        }
    }
    walk(0, 0, &children, &name, &mut out);
    out
}

/// Every span of a hand-computed scenario's run, and their tree.
fn hand_tree(text: &str) -> (Vec<Span>, Vec<String>) {
    let p = platform(text);
    let spans = traced(&p, SpanOptions::default());
    let got = tree(&spans, &p);
    (spans, got)
}

#[test]
fn retries_and_a_message_give_the_hand_computed_span_tree() {
    let (spans, got) = hand_tree(RETRIES_AND_MESSAGE);
    let want = [
        "Request shop 1000-1330 Ok attempt=0 backoff=0",
        "  ClientAttempt shop 1000-1330 Ok attempt=1 backoff=0",
        "    Visit api 1000-1330 Ok attempt=0 backoff=0",
        "      CallAttempt api 1010-1110 Timeout attempt=1 backoff=0",
        "        Visit pay 1010-1330 Timeout attempt=0 backoff=0",
        "      CallAttempt api 1160-1260 Timeout attempt=2 backoff=50",
        "        Visit pay 1160-1480 Timeout attempt=0 backoff=0",
        "      CallAttempt api 1310-1330 Ok attempt=3 backoff=50",
        "        Visit pay 1310-1330 Ok attempt=0 backoff=0",
        "      Produce api 1330-1330 Ok attempt=0 backoff=0",
        "        Consume notify 1330-1335 Ok attempt=1 backoff=0",
    ];
    assert_eq!(got, want, "\n{}", got.join("\n"));
    // One trace: every span carries the root's trace id, and the ids are distinct.
    let traces: BTreeSet<_> = spans.iter().map(|s| s.trace).collect();
    assert_eq!(traces.len(), 1);
    let ids: BTreeSet<_> = spans.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), spans.len());
}

/// Runs `platsim run SCENARIO --trace FILE --trace-format FORMAT ARGS` and returns the
/// file's text.
fn trace_file(scenario: &str, format: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.ron");
    let scenario_path = if scenario.starts_with("scenarios/") {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(scenario)
    } else {
        std::fs::write(&path, scenario).unwrap();
        path
    };
    let file = dir.path().join("trace.out");
    let out = platsim()
        .arg("run")
        .arg(&scenario_path)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("out"))
        .arg("--trace")
        .arg(&file)
        .args(["--trace-format", format])
        .args(args)
        .output()
        .unwrap();
    assert_code(&out, 0, "platsim run --trace");
    std::fs::read_to_string(&file).unwrap()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn keys_within(v: &Value, allowed: &[&str], what: &str) {
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is an object: {v}"));
    for k in o.keys() {
        assert!(
            allowed.contains(&k.as_str()),
            "{what}: no field `{k}` in the proto"
        );
    }
}

fn uint64_string(v: &Value, what: &str) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a 64-bit integer is a JSON string: {v}"));
    s.parse()
        .unwrap_or_else(|_| panic!("{what}: `{s}` is a decimal integer"))
}

/// An `AnyValue` (common.proto): exactly one of its value fields, 64-bit ints as strings.
fn check_any_value(v: &Value, what: &str) {
    keys_within(
        v,
        &[
            "stringValue",
            "boolValue",
            "intValue",
            "doubleValue",
            "arrayValue",
            "kvlistValue",
            "bytesValue",
        ],
        what,
    );
    let o = v.as_object().unwrap();
    assert_eq!(o.len(), 1, "{what}: one value: {v}");
    if let Some(i) = o.get("intValue") {
        uint64_string(
            &Value::String(i.as_str().unwrap_or("x").replace('-', "")),
            what,
        );
    }
    if let Some(s) = o.get("stringValue") {
        assert!(s.is_string(), "{what}");
    }
    if let Some(d) = o.get("doubleValue") {
        assert!(d.is_number(), "{what}");
    }
}

fn check_attributes(v: &Value, what: &str) -> BTreeMap<String, Value> {
    let list = v
        .as_array()
        .unwrap_or_else(|| panic!("{what}: attributes are a list"));
    let mut out = BTreeMap::new();
    for kv in list {
        keys_within(kv, &["key", "value"], what);
        let key = kv["key"].as_str().expect("a key is a string").to_string();
        check_any_value(&kv["value"], &format!("{what}.{key}"));
        assert!(
            out.insert(key.clone(), kv["value"].clone()).is_none(),
            "{what}: {key} twice"
        );
    }
    out
}

/// One span as the OTLP JSON encoding writes a `Span` message.
#[derive(Debug, Clone)]
struct OtlpSpan {
    service: String,
    trace: String,
    id: String,
    parent: Option<String>,
    name: String,
    kind: u64,
    start: u64,
    end: u64,
    status: u64,
    attrs: BTreeMap<String, Value>,
}

/// Checks each line against the proto's messages and returns its spans.
fn parse_otlp(text: &str) -> Vec<OtlpSpan> {
    let mut spans = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let req: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        keys_within(&req, &["resourceSpans"], "ExportTraceServiceRequest");
        for rs in req["resourceSpans"].as_array().expect("resourceSpans") {
            keys_within(
                rs,
                &["resource", "scopeSpans", "schemaUrl"],
                "ResourceSpans",
            );
            keys_within(
                &rs["resource"],
                &["attributes", "droppedAttributesCount", "entityRefs"],
                "Resource",
            );
            let res = check_attributes(&rs["resource"]["attributes"], "Resource.attributes");
            let service = res["service.name"]["stringValue"]
                .as_str()
                .expect("service.name")
                .to_string();
            for ss in rs["scopeSpans"].as_array().expect("scopeSpans") {
                keys_within(ss, &["scope", "spans", "schemaUrl"], "ScopeSpans");
                keys_within(
                    &ss["scope"],
                    &["name", "version", "attributes", "droppedAttributesCount"],
                    "InstrumentationScope",
                );
                for s in ss["spans"].as_array().expect("spans") {
                    spans.push(check_span(s, &service));
                }
            }
        }
    }
    spans
}

fn check_span(s: &Value, service: &str) -> OtlpSpan {
    keys_within(
        s,
        &[
            "traceId",
            "spanId",
            "traceState",
            "parentSpanId",
            "flags",
            "name",
            "kind",
            "startTimeUnixNano",
            "endTimeUnixNano",
            "attributes",
            "droppedAttributesCount",
            "events",
            "droppedEventsCount",
            "links",
            "droppedLinksCount",
            "status",
        ],
        "Span",
    );
    let trace = s["traceId"].as_str().expect("traceId").to_string();
    let id = s["spanId"].as_str().expect("spanId").to_string();
    assert!(
        is_hex(&trace, 32) && trace != "0".repeat(32),
        "traceId {trace}"
    );
    assert!(is_hex(&id, 16) && id != "0".repeat(16), "spanId {id}");
    let parent = s.get("parentSpanId").map(|p| {
        let p = p.as_str().expect("parentSpanId").to_string();
        assert!(is_hex(&p, 16), "parentSpanId {p}");
        p
    });
    let kind = s["kind"].as_u64().expect("an enum is an integer");
    assert!((1..=5).contains(&kind), "SpanKind {kind}");
    let start = uint64_string(&s["startTimeUnixNano"], "startTimeUnixNano");
    let end = uint64_string(&s["endTimeUnixNano"], "endTimeUnixNano");
    assert!(start <= end);
    let status = match s.get("status") {
        Some(st) => {
            keys_within(st, &["message", "code"], "Status");
            st["code"].as_u64().expect("a status code is an integer")
        }
        None => 0,
    };
    assert!(status <= 2);
    OtlpSpan {
        service: service.to_string(),
        trace,
        id,
        parent,
        name: s["name"].as_str().expect("name").to_string(),
        kind,
        start,
        end,
        status,
        attrs: check_attributes(&s["attributes"], "Span.attributes"),
    }
}

#[test]
fn otlp_lines_follow_the_protocol_and_keep_the_tree() {
    let text = trace_file(RETRIES_AND_MESSAGE, "otlp", &[]);
    let spans = parse_otlp(&text);
    // 11 spans and the `queue` span of none (no visit waited).
    assert_eq!(spans.len(), 11, "{text}");
    let by_id: BTreeMap<_, _> = spans.iter().map(|s| (s.id.clone(), s)).collect();
    for s in &spans {
        if let Some(p) = &s.parent {
            assert!(
                by_id.contains_key(p),
                "{} has its parent in the file",
                s.name
            );
            assert_eq!(by_id[p].trace, s.trace);
        }
    }
    let pay: Vec<_> = spans.iter().filter(|s| s.service == "pay").collect();
    assert_eq!(pay.len(), 3);
    assert!(pay.iter().all(|s| s.kind == 2 && s.name == "pay"));
    let timeouts = pay.iter().filter(|s| s.status == 2).count();
    assert_eq!(timeouts, 2, "two abandoned visits end as errors (timeout)");
    // Virtual 1 s is one second after the fixed epoch, 2026-01-01T00:00:00Z.
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(root.start, 1_767_225_601_000_000_000);
    assert_eq!(root.service, "shop");
    let attempts: Vec<_> = spans.iter().filter(|s| s.name == "call pay").collect();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|s| s.kind == 3));
    let third = attempts
        .iter()
        .find(|s| s.attrs["platsim.attempt"]["intValue"] == "3");
    let third = third.expect("attempt 3");
    assert_eq!(third.attrs["http.request.resend_count"]["intValue"], "2");
    assert_eq!(third.attrs["platsim.backoff_ms"]["doubleValue"], 50.0);
    let producer = spans.iter().find(|s| s.kind == 4).expect("a PRODUCER span");
    let consumer = spans.iter().find(|s| s.kind == 5).expect("a CONSUMER span");
    assert_eq!(consumer.parent.as_ref(), Some(&producer.id));
    assert_eq!(consumer.trace, producer.trace);
    assert_eq!(
        consumer.attrs["messaging.destination.name"]["stringValue"],
        "events"
    );
    assert_eq!(producer.name, "send events");
    assert_eq!(consumer.end - consumer.start, 5_000_000);
}

#[test]
fn traces_are_byte_identical_across_runs() {
    let args = [
        "--set",
        "duration=20s",
        "--set",
        "warmup=1s",
        "--trace-sample",
        "0.2",
    ];
    let a = trace_file("scenarios/food-ordering.ron", "otlp", &args);
    let b = trace_file("scenarios/food-ordering.ron", "otlp", &args);
    assert!(a == b, "two runs of one seed write the same trace");
    let c = trace_file("scenarios/food-ordering.ron", "chrome", &args);
    let d = trace_file("scenarios/food-ordering.ron", "chrome", &args);
    assert!(c == d);
    let e: Value = serde_json::from_str(&c).expect("the chrome trace is one JSON object");
    let events = e["traceEvents"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["ph"] == "X" && e["name"] == "payment"));
}

/// The default platform: every sampled request is one tree from the client through api
/// and orders to payment, whatever became of it.
#[test]
fn food_ordering_requests_are_one_tree_each() {
    let text = trace_file(
        "scenarios/food-ordering.ron",
        "otlp",
        &[
            "--set",
            "duration=30s",
            "--set",
            "warmup=1s",
            "--trace-sample",
            "0.05",
        ],
    );
    let spans = parse_otlp(&text);
    let mut traces: BTreeMap<&str, Vec<&OtlpSpan>> = BTreeMap::new();
    for s in &spans {
        traces.entry(&s.trace).or_default().push(s);
    }
    // 30 s at 500/s, 5% sampled: about 750 traces.
    assert!(
        (600..900).contains(&traces.len()),
        "{} traces",
        traces.len()
    );
    let mut reached_payment = 0;
    for (id, t) in &traces {
        let roots: Vec<_> = t.iter().filter(|s| s.parent.is_none()).collect();
        assert_eq!(roots.len(), 1, "trace {id} has one root");
        let ids: BTreeSet<_> = t.iter().map(|s| s.id.as_str()).collect();
        for s in t {
            if let Some(p) = &s.parent {
                assert!(ids.contains(p.as_str()), "trace {id}: {} is linked", s.name);
            }
        }
        let services: BTreeSet<_> = t.iter().map(|s| s.service.as_str()).collect();
        if services.contains("payment") {
            assert!(services.contains("api") && services.contains("orders"));
            reached_payment += 1;
        }
    }
    assert!(reached_payment * 10 > traces.len() * 9, "{reached_payment}");
}

/// Phase 3: orders go to payment through Kafka, and payment's event to notification.
/// Each message's trace reaches its consumer: one trace from the client to notification.
#[test]
fn messages_carry_their_trace_to_the_consumer() {
    let text = trace_file(
        "scenarios/food-ordering/phase3.ron",
        "otlp",
        &[
            "--trace-from",
            "4m",
            "--trace-to",
            "6m",
            "--trace-sample",
            "0.05",
        ],
    );
    let spans = parse_otlp(&text);
    let mut services: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &spans {
        services.entry(&s.trace).or_default().insert(&s.service);
    }
    let whole = services
        .values()
        .filter(|s| s.contains("api") && s.contains("payment") && s.contains("notification"))
        .count();
    assert!(
        whole * 10 > services.len() * 9,
        "{whole} of {}",
        services.len()
    );
    let consumers = spans.iter().filter(|s| s.kind == 5).count();
    assert!(consumers > 0);
    for s in spans.iter().filter(|s| s.kind == 5) {
        assert!(s.attrs.contains_key("messaging.consumer.group.name"));
    }
}

#[test]
fn sampling_flags_are_checked_with_a_hint() {
    let out = platsim()
        .args([
            "run",
            "--quiet",
            "--trace",
            "/dev/null",
            "--trace-sample",
            "0.5",
        ])
        .output()
        .unwrap();
    assert_code(&out, 2, "--trace-sample on the event log");
    assert!(
        text(&out.stderr).contains("--trace-format otlp"),
        "{}",
        text(&out.stderr)
    );
    let out = platsim()
        .args([
            "run",
            "--quiet",
            "--trace",
            "/dev/null",
            "--trace-format",
            "otlp",
        ])
        .args(["--trace-keep", "erors"])
        .output()
        .unwrap();
    assert_code(&out, 2, "a typo in --trace-keep");
    assert!(
        text(&out.stderr).contains("did you mean \"errors\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn tail_sampling_keeps_only_whole_traces_that_matter() {
    let p = platform(RETRIES_AND_MESSAGE);
    let keep = |rules: &str| {
        let flags = platsim::trace::SpanFlags {
            sample: None,
            keep: Some(rules),
            max_spans: u64::MAX,
        };
        let opts = platsim::trace::TraceFilter::default()
            .span_options(&p, &flags)
            .unwrap();
        traced(&p, opts)
    };
    // The request had retries (and timeouts): its whole piece is kept; the message's
    // piece had neither.
    assert_eq!(keep("retries").len(), 10);
    assert_eq!(keep("timeouts").len(), 10);
    assert_eq!(keep("errors").len(), 0);
    assert_eq!(keep("slow:300ms").len(), 10);
    assert_eq!(keep("slow:400ms").len(), 0);
    let all = traced(&p, SpanOptions::default());
    assert!(all.iter().all(|s| s.outcome.is_some()));
    assert_eq!(
        all.iter().filter(|s| s.role == Role::Visit).count(),
        4,
        "api and three pay visits"
    );
    assert!(all.iter().any(|s| s.outcome == Some(Outcome::Timeout)));
}

/// The critical path of the hand-computed request, by hand: api works 10 ms and sleeps
/// 2 x 50 ms between attempts; pay's three visits explain 100 + 100 + 20 ms (an abandoned
/// visit counts up to its caller's timeout); notify works 5 ms right after the publish.
#[test]
fn the_critical_path_of_the_hand_computed_request() {
    use platsim::trace::analyze::{critical_paths, read_otlp, Part};
    let text = trace_file(RETRIES_AND_MESSAGE, "otlp", &[]);
    let spans = read_otlp(&text, "trace").unwrap();
    let paths = critical_paths(&spans);
    assert_eq!(paths.len(), 1);
    let p = &paths[0];
    assert_eq!(p.total_ns, 335_000_000);
    assert_eq!(p.path, ["api", "pay", "notify"]);
    let ms =
        |s: &str, part: Part| p.parts.get(&(s.to_string(), part)).copied().unwrap_or(0) / 1_000_000;
    assert_eq!(ms("api", Part::Work), 10);
    assert_eq!(ms("api", Part::Backoff), 100);
    assert_eq!(ms("pay", Part::Work), 220);
    assert_eq!(ms("notify", Part::Work), 5);
    assert_eq!(p.parts.values().sum::<u64>(), p.total_ns);
}

/// `--log`: one line per traced request and per fault event; a request's line joins its
/// trace by `trace_id` and the root's `span_id`.
#[test]
fn logs_carry_the_trace_and_span_ids() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.ron");
    std::fs::write(&scenario, RETRIES_AND_MESSAGE).unwrap();
    let (trace, log) = (dir.path().join("t.jsonl"), dir.path().join("log.jsonl"));
    let out = platsim()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("out"))
        .arg("--trace")
        .arg(&trace)
        .args(["--trace-format", "otlp", "--log"])
        .arg(&log)
        .output()
        .unwrap();
    assert_code(&out, 0, "run --log");
    let spans = parse_otlp(&std::fs::read_to_string(&trace).unwrap());
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let req = lines.iter().find(|l| l["event"] == "request").unwrap();
    assert_eq!(req["trace_id"], root.trace.as_str());
    assert_eq!(req["span_id"], root.id.as_str());
    assert_eq!(req["outcome"], "ok");
    assert_eq!(req["latency_ms"], 330.0);
    let faults: Vec<_> = lines.iter().filter(|l| l["fault"] == "latency").collect();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0]["target"], "pay");
    assert_eq!(faults[1]["event"], "fault_end");
    assert_eq!(faults[1]["t_s"], 1.25);
}

/// Phase 3's slowdown (payment 300 ms slower from 5m to 10m): the orders placed then wait
/// in Kafka for the payment group, and the critical paths of the slowest say so. The
/// README's table comes from this command.
#[test]
fn phase3_slowdown_critical_paths_name_payment() {
    use platsim::trace::analyze::{critical_paths, read_otlp, who_made_p99, Part};
    let args = [
        "--trace-sample",
        "0.02",
        "--trace-from",
        "5m",
        "--trace-to",
        "10m",
    ];
    let trace = trace_file("scenarios/food-ordering/phase3.ron", "otlp", &args);
    let paths = critical_paths(&read_otlp(&trace, "trace").unwrap());
    assert_eq!(paths.len(), 1204);
    let (top, parts, sum) = who_made_p99(&paths);
    assert_eq!(top.as_deref(), Some("payment"));
    let queueing = parts[&("payment".to_string(), Part::Queueing)];
    assert!(queueing * 100 > sum * 99, "{queueing} of {sum}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.otlp.jsonl");
    std::fs::write(&file, &trace).unwrap();
    let out = platsim().arg("trace").arg(&file).output().unwrap();
    assert_code(&out, 0, "platsim trace");
    let report = text(&out.stdout);
    assert!(
        report.contains("who made the p99: the 13 traces at or above 243966.7 ms"),
        "{report}"
    );
    assert!(report.contains("the slowest part: payment"), "{report}");
}

#[test]
fn the_event_log_is_not_a_trace_of_spans() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.jsonl");
    std::fs::write(
        &file,
        "{\"t_s\":1.5,\"service\":\"api\",\"event\":\"arrival\",\"request\":0}\n",
    )
    .unwrap();
    let out = platsim().arg("trace").arg(&file).output().unwrap();
    assert_code(&out, 2, "platsim trace on the event log");
    assert!(
        text(&out.stderr).contains("--trace-format otlp"),
        "{}",
        text(&out.stderr)
    );
}

/// Drops what proto3 JSON may leave out (a field at its default: 0, "", false, [], {}),
/// so a line and the same message written back by the official types compare equal.
fn without_defaults(v: &Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::String(s) if s.is_empty() => None,
        // uint64/int64 fields are strings in proto3 JSON.
        Value::String(s) if s == "0" => None,
        Value::Array(a) => {
            let a: Vec<Value> = a
                .iter()
                .map(|x| without_defaults(x).unwrap_or(Value::Null))
                .collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(o) => {
            let o: serde_json::Map<String, Value> = o
                .iter()
                .filter_map(|(k, x)| without_defaults(x).map(|x| (k.clone(), x)))
                .collect();
            (!o.is_empty()).then_some(Value::Object(o))
        }
        _ => Some(v.clone()),
    }
}

/// Every line is an `ExportTraceServiceRequest` of the official protobuf definitions
/// (opentelemetry-proto, generated from open-telemetry/opentelemetry-proto's
/// `collector/trace/v1/trace_service.proto`): it reads into those types with nothing
/// lost (written back, it is the same JSON up to fields at their defaults), and it
/// survives the protobuf wire encoding the Collector's OTLP receivers speak.
#[test]
fn otlp_lines_parse_with_the_official_protobuf_definitions() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    let hand = trace_file(RETRIES_AND_MESSAGE, "otlp", &[]);
    let food = trace_file(
        "scenarios/food-ordering.ron",
        "otlp",
        &["--set", "duration=40s", "--trace-sample", "0.05"],
    );
    let mut spans = 0;
    for line in hand.lines().chain(food.lines()) {
        let request: ExportTraceServiceRequest = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not an ExportTraceServiceRequest ({e}): {line}"));
        let ours: Value = serde_json::from_str(line).unwrap();
        let theirs = serde_json::to_value(&request).unwrap();
        assert_eq!(
            without_defaults(&ours),
            without_defaults(&theirs),
            "the official types keep every field of {line}"
        );
        let wire = request.encode_to_vec();
        let back = ExportTraceServiceRequest::decode(wire.as_slice()).unwrap();
        assert_eq!(back, request);
        for rs in &request.resource_spans {
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    assert_eq!(s.trace_id.len(), 16);
                    assert_eq!(s.span_id.len(), 8);
                    assert!(s.parent_span_id.is_empty() || s.parent_span_id.len() == 8);
                    assert!(s.start_time_unix_nano <= s.end_time_unix_nano);
                    spans += 1;
                }
            }
        }
    }
    assert!(
        spans > 100,
        "food-ordering at 5% gives a real sample: {spans}"
    );
}

/// Two users at 1 s. `api` works 10 ms, calls `pay` through a bulkhead of one slot
/// (`maxWaitDuration` 1 s), then `mail` through a Resilience4j rate limiter of one permit
/// per 1 s period (`timeoutDuration` 1 s); pay works 100 ms, mail 10 ms.
///
/// By hand, in ms: both visits work 1000-1010. A takes the slot, pay 1010-1110; B waits
/// for it 1010-1110, pay 1110-1210. A takes the period's permit at 1110, mail 1110-1120;
/// B asks at 1210 and waits for the next period, 1210-2000, mail 2000-2010.
const WAITS: &str = r#"Scenario(
    name: "waits-by-hand",
    duration: "2100ms",
    drain: "1s",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("10ms"),
            calls: [
                Call(to: "pay", dependency: Hard,
                    bulkhead: Some(Bulkhead(max_concurrent: 1, max_wait: "1s"))),
                Call(to: "mail", dependency: Hard,
                    rate_limiter: Some(RateLimiter(limit_for_period: 1, refresh_period: "1s",
                        timeout: "1s"))),
            ]),
        Service(name: "pay", concurrency: 10, service_time: Constant("100ms")),
        Service(name: "mail", concurrency: 10, service_time: Constant("10ms")),
    ],
    workload: [Closed(name: "shop", target: "api", users: 2, think_time: Constant("1s"))],
)"#;

#[test]
fn bulkhead_and_rate_limiter_waits_are_spans_of_their_attempt() {
    let (_, got) = hand_tree(WAITS);
    // Roots at the same instant come in the order of their (seeded) ids.
    let want = [
        "Request shop 1000-2010 Ok attempt=0 backoff=0",
        "  ClientAttempt shop 1000-2010 Ok attempt=1 backoff=0",
        "    Visit api 1000-2010 Ok attempt=0 backoff=0",
        "      CallAttempt api 1010-1210 Ok attempt=1 backoff=0",
        "        BulkheadWait api 1010-1110 Ok attempt=0 backoff=0",
        "        Visit pay 1110-1210 Ok attempt=0 backoff=0",
        "      CallAttempt api 1210-2010 Ok attempt=1 backoff=0",
        "        RateLimiterWait api 1210-2000 Ok attempt=0 backoff=0",
        "        Visit mail 2000-2010 Ok attempt=0 backoff=0",
        "Request shop 1000-1120 Ok attempt=0 backoff=0",
        "  ClientAttempt shop 1000-1120 Ok attempt=1 backoff=0",
        "    Visit api 1000-1120 Ok attempt=0 backoff=0",
        "      CallAttempt api 1010-1110 Ok attempt=1 backoff=0",
        "        Visit pay 1010-1110 Ok attempt=0 backoff=0",
        "      CallAttempt api 1110-1120 Ok attempt=1 backoff=0",
        "        Visit mail 1110-1120 Ok attempt=0 backoff=0",
    ];
    assert_eq!(got, want, "\n{}", got.join("\n"));
}

/// summary.json's `traces`: the figures `platsim trace` prints, from the run's own spans.
/// By hand (see [`WAITS`]): two traces, 120 ms and 1010 ms; the slower one's critical
/// path is api's 10 ms of work and 890 ms of waits for permits (queueing), pay's 100 ms
/// and mail's 10 ms, so api made the p99.
#[test]
fn summary_json_says_who_made_the_p99_of_the_traced_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("waits.ron");
    std::fs::write(&scenario, WAITS).unwrap();
    let out = platsim()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("out"))
        .arg("--trace")
        .arg(dir.path().join("t.jsonl"))
        .args(["--trace-format", "otlp"])
        .output()
        .unwrap();
    assert_code(&out, 0, "platsim run --trace");
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let t = &summary["traces"];
    assert_eq!(t["traces"], 2);
    assert_eq!(t["failed"], 0);
    assert_eq!(t["p50_ms"], 120.0);
    assert_eq!(t["p99_ms"], 1010.0);
    assert_eq!(t["who_made_p99"], "api");
    let api = &t["p99_paths"]["api"];
    assert_eq!(api["own_work_ms"], 10.0);
    assert_eq!(api["queueing_ms"], 890.0);
    assert_eq!(t["p99_paths"]["pay"]["own_work_ms"], 100.0);
    assert_eq!(t["p99_paths"]["mail"]["total_ms"], 10.0);
    assert_eq!(
        t["slowest"][0]["path"],
        serde_json::json!(["api", "pay", "mail"])
    );
    // The same figures as `platsim trace` reads back from the file.
    let report = platsim()
        .arg("trace")
        .arg(dir.path().join("t.jsonl"))
        .output()
        .unwrap();
    assert_code(&report, 0, "platsim trace");
    assert!(text(&report.stdout).contains("the slowest part: api"));
    // An untraced run has no `traces`.
    let plain = platsim()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--json"])
        .output()
        .unwrap();
    let plain: Value = serde_json::from_str(&text(&plain.stdout)).unwrap();
    assert!(plain.get("traces").is_none());
}

/// An order's saga step by hand: `api` works 10 ms, writes the order to `db` (5 ms) and
/// pushes the saga's job; the orchestrator `saga` takes it at once, works 1 ms and charges
/// `pay`, which works 30 ms and refuses every charge; one retry after 200 ms, refused
/// too. In ms: the request 10000-10015, the job's visit 10015-10276 (attempts 10016-10046
/// and 10246-10276), failed: the saga is aborted and the order's write compensated.
const SAGA: &str = r#"Scenario(
    name: "saga-by-hand",
    duration: "11s",
    drain: "2s",
    orders: Orders(entry: "api", steps: ["db", "pay"],
        saga: Some(Saga(orchestrator: "saga", compensate: true, max_attempts: 1,
            backoff: "1s"))),
    queues: [JobQueue(name: "sagas", reliable: true, visibility_timeout: "30s")],
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("10ms"),
            calls: [Call(to: "db")], push: Some("sagas")),
        Service(name: "db", concurrency: 10, service_time: Constant("5ms")),
        Service(name: "saga", concurrency: 10, service_time: Constant("1ms"),
            workers: Some(Workers(queue: "sagas", count: 1)),
            calls: [Call(to: "pay", dependency: Hard,
                retry: Some(Retry(max_attempts: 2, backoff: Constant("200ms"),
                    jitter: None)))]),
        Service(name: "pay", concurrency: 10, service_time: Constant("30ms"),
            error_rate: 1.0),
    ],
    workload: [Closed(name: "shop", target: "api", users: 1, think_time: Constant("10s"))],
)"#;

#[test]
fn a_saga_step_gives_the_hand_computed_span_tree() {
    let (_, got) = hand_tree(SAGA);
    let want = [
        "Request shop 10000-10015 Ok attempt=0 backoff=0",
        "  ClientAttempt shop 10000-10015 Ok attempt=1 backoff=0",
        "    Visit api 10000-10015 Ok attempt=0 backoff=0",
        "      CallAttempt api 10010-10015 Ok attempt=1 backoff=0",
        "        Visit db 10010-10015 Ok attempt=0 backoff=0",
        "      Produce api 10015-10015 Ok attempt=0 backoff=0",
        "        Consume saga 10015-10276 DependencyFailed attempt=1 backoff=0",
        "          CallAttempt saga 10016-10046 Error attempt=1 backoff=0",
        "            Visit pay 10016-10046 Error attempt=0 backoff=0",
        "          CallAttempt saga 10246-10276 Error attempt=2 backoff=200",
        "            Visit pay 10246-10276 Error attempt=0 backoff=0",
    ];
    assert_eq!(got, want, "\n{}", got.join("\n"));
}
