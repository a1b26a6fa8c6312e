//! Reproducibility: the same scenario and seed give the same bytes, a different seed gives
//! different numbers, and random streams belong to component *names*, so adding an
//! unrelated service (even at the front of the list, with its own traffic) changes
//! nothing for the others.
//!
//! Why: "same scenario + same seed + same binary => byte-identical summary.json" is a
//! pinned promise (contract.md); it is what makes a reported problem reproducible with
//! the printed `reproduce:` command, and what lets a user compare two variants of a
//! platform without the noise of reshuffled random draws.

use super::common::platsim;
use platsim::report::{summary_json, timeseries_csv};
use platsim::scenario::Override;
use platsim::{simulate, Limits, Summary};

/// A small but busy platform: replicas, every balancer, hard and soft calls with
/// timeouts, errors, a bounded queue, open (with a schedule) and closed workloads.
const PLATFORM: &str = r#"Scenario(
    name: "det",
    seed: 11,
    duration: "40s",
    warmup: "5s",
    window: "1s",
    services: [
        Service(
            name: "api",
            replicas: 3,
            concurrency: 8,
            queue_capacity: Some(10),
            service_time: LogNormal(median: "3ms", p99: "40ms"),
            balancer: LeastOutstanding,
            calls: [
                Call(to: "orders", dependency: Hard, timeout: Some("250ms")),
                Call(to: "recs", dependency: Soft, timeout: Some("30ms")),
            ],
        ),
        Service(
            name: "orders",
            replicas: 2,
            concurrency: 6,
            service_time: Exponential(mean: "12ms"),
            error_rate: 0.05,
            balancer: Random,
            calls: [Call(to: "db")],
        ),
        Service(
            name: "recs",
            concurrency: 4,
            queue_capacity: Some(2),
            service_time: Uniform(min: "5ms", max: "40ms"),
        ),
        Service(
            name: "db",
            concurrency: 4,
            service_time: Erlang(k: 3, mean: "6ms"),
        ),
    ],
    workload: [
        Open(name: "web", target: "api", rate: 300.0, timeout: Some("200ms"),
             schedule: [Ramp(at: "10s", to: 600.0, over: "10s"), Step(at: "30s", rate: 200.0)]),
        Closed(name: "app", target: "api", users: 20, think_time: Exponential(mean: "100ms")),
    ],
)"#;

fn run(text: &str, sets: &[Override]) -> Summary {
    simulate(text, "det", sets, Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn seed(n: u64) -> Vec<Override> {
    vec![format!("seed={n}").parse().expect("a valid override")]
}

/// The first line where two texts differ, for assertion messages.
fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: {x:?} vs {y:?}", i + 1);
        }
    }
    format!("lengths {} vs {} bytes", a.len(), b.len())
}

#[test]
fn same_seed_gives_byte_identical_output() {
    let a = run(PLATFORM, &[]);
    let b = run(PLATFORM, &[]);
    let (ja, jb) = (summary_json(&a), summary_json(&b));
    assert!(
        ja == jb,
        "summary.json differs between two runs: {}",
        first_difference(&ja, &jb)
    );
    let (ca, cb) = (timeseries_csv(&a.timeseries), timeseries_csv(&b.timeseries));
    assert!(
        ca == cb,
        "timeseries.csv differs between two runs: {}",
        first_difference(&ca, &cb)
    );
    // Bit-for-bit, not just after printing.
    let bits = |s: &Summary| {
        s.timeseries
            .values
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b), "time-series values differ bit for bit");
    assert_eq!(
        a.events, b.events,
        "event counts differ: {} vs {}",
        a.events, b.events
    );
    // The run did real work (otherwise identical output proves nothing).
    let api = &a.services["api"];
    assert!(
        api.arrivals > 5_000,
        "api saw only {} arrivals",
        api.arrivals
    );
    assert!(
        a.timeseries.row_count() >= 40,
        "only {} rows",
        a.timeseries.row_count()
    );
}

#[test]
fn another_seed_gives_other_numbers() {
    let a = run(PLATFORM, &seed(11));
    let b = run(PLATFORM, &seed(12));
    assert_eq!(a.seed, 11, "summary seed {} after --set seed=11", a.seed);
    assert_eq!(b.seed, 12, "summary seed {} after --set seed=12", b.seed);
    assert_ne!(
        summary_json(&a),
        summary_json(&b),
        "seeds 11 and 12 gave the same summary.json"
    );
    for (name, sa) in &a.services {
        let sb = &b.services[name];
        assert!(
            sa.arrivals != sb.arrivals || sa.sojourn_ms.mean != sb.sojourn_ms.mean,
            "{name}: seeds 11 and 12 gave the same arrivals ({}) and mean sojourn ({} ms)",
            sa.arrivals,
            sa.sojourn_ms.mean
        );
    }
    // Seed 11 given by --set equals seed 11 written in the file.
    let c = run(PLATFORM, &[]);
    assert_eq!(
        summary_json(&a),
        summary_json(&c),
        "--set seed=11 differs from seed: 11 in the file"
    );
}

/// Serializes one service's or workload's numbers for comparison.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serializes")
}

/// Compares every service and workload of `base` with the same-named one in `other`, and
/// the per-service time-series columns.
fn assert_unchanged(base: &Summary, other: &Summary, what: &str) {
    for (name, s) in &base.services {
        let o = other
            .services
            .get(name)
            .unwrap_or_else(|| panic!("{what}: service {name} missing"));
        assert_eq!(
            json(s),
            json(o),
            "{what}: service {name} changed:\nwithout: {}\nwith:    {}",
            json(s),
            json(o)
        );
    }
    for (name, w) in &base.workloads {
        let o = &other.workloads[name];
        assert_eq!(json(w), json(o), "{what}: workload {name} changed");
    }
    for col in &base.timeseries.columns {
        let service_column = base
            .services
            .keys()
            .any(|s| col.starts_with(&format!("{s}.")));
        if service_column || col == "t_s" {
            let (x, y) = (base.timeseries.column(col), other.timeseries.column(col));
            assert!(y.is_some(), "{what}: column {col} missing");
            assert!(x == y, "{what}: time-series column {col} changed");
        }
    }
}

#[test]
fn an_unrelated_service_changes_nothing_else() {
    let base = run(PLATFORM, &[]);

    // An idle extra service, at the front of the list (so every index shifts).
    let idle = PLATFORM.replace(
        "services: [\n",
        "services: [\n        Service(name: \"audit\", concurrency: 2, service_time: Exponential(mean: \"7ms\")),\n",
    );
    assert_ne!(idle, PLATFORM, "the replacement did not apply");
    let with_idle = run(&idle, &[]);
    assert!(
        with_idle.services.contains_key("audit"),
        "the extra service is missing"
    );
    assert_unchanged(&base, &with_idle, "idle extra service");
    assert_eq!(
        base.events, with_idle.events,
        "an idle service changed the event count"
    );

    // The same service with its own traffic: its events interleave with everyone else's,
    // but its draws come from its own streams.
    let busy = idle.replace(
        "workload: [\n",
        "workload: [\n        Open(name: \"batch\", target: \"audit\", rate: 150.0),\n",
    );
    assert_ne!(busy, idle, "the replacement did not apply");
    let with_busy = run(&busy, &[]);
    let audit = &with_busy.services["audit"];
    assert!(
        audit.arrivals > 1_000,
        "the extra service saw only {} arrivals",
        audit.arrivals
    );
    assert_unchanged(&base, &with_busy, "busy extra service");
    assert!(
        with_busy.events > base.events,
        "the extra workload added no events"
    );
}

#[test]
fn cli_run_twice_writes_identical_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("det.ron");
    std::fs::write(&scenario, PLATFORM).expect("write scenario");
    let mut outputs = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let result = platsim()
            .arg("run")
            .arg(&scenario)
            .args(["--seed", "5", "--quiet", "--out"])
            .arg(&out)
            .output()
            .expect("run platsim");
        assert_eq!(
            result.status.code(),
            Some(0),
            "platsim run failed: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let read =
            |f: &str| std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{name}/{f}: {e}"));
        outputs.push((read("summary.json"), read("timeseries.csv")));
    }
    let (a, b) = (&outputs[0], &outputs[1]);
    assert!(!a.0.is_empty() && !a.1.is_empty(), "empty output files");
    assert!(
        a.0 == b.0,
        "summary.json differs: {}",
        first_difference(
            &String::from_utf8_lossy(&a.0),
            &String::from_utf8_lossy(&b.0)
        )
    );
    assert!(
        a.1 == b.1,
        "timeseries.csv differs: {}",
        first_difference(
            &String::from_utf8_lossy(&a.1),
            &String::from_utf8_lossy(&b.1)
        )
    );
    // The CLI's file is the library's summary for the same seed.
    let lib = run(PLATFORM, &seed(5));
    assert!(
        summary_json(&lib).as_bytes() == a.0.as_slice(),
        "the CLI's summary.json differs from the library's: {}",
        first_difference(&summary_json(&lib), &String::from_utf8_lossy(&a.0))
    );
    assert!(
        timeseries_csv(&lib.timeseries).as_bytes() == a.1.as_slice(),
        "the CLI's timeseries.csv differs from the library's"
    );
}
