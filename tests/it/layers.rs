//! Layers, circles and bottom-up recovery after an outage (issue 5): the layering agrees
//! with an independent longest-path computation, orchestrated recovery is exactly the
//! longest startup path, planted circles are reported and never recover, and a crash loop
//! costs a hand-worked back-off.

use platsim::model::graph::DependencyGraph;
use platsim::scenario;
use platsim::Summary;
use std::collections::BTreeMap;
use std::process::Command;

/// A tiny deterministic generator, so cases are reproducible without proptest shrinking.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A random platform: services `s0..`, hard calls only to higher indices (acyclic), soft
/// calls anywhere, startup deps to higher indices, constant startups of whole seconds,
/// plus optional planted circles of startup deps (`circles`: lists of indices).
#[allow(clippy::needless_range_loop)]
fn platform(seed: u64, n: usize, circles: &[Vec<usize>]) -> (String, Vec<u64>, Vec<Vec<usize>>) {
    let mut g = Lcg(seed);
    let mut startup = Vec::new();
    let mut hard: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut services = String::new();
    for i in 0..n {
        let secs = 1 + g.next(20);
        startup.push(secs);
        let mut calls = Vec::new();
        let mut deps = Vec::new();
        for j in i + 1..n {
            match g.next(10) {
                0 | 1 => {
                    calls.push(format!(r#"Call(to: "s{j}", dependency: Hard)"#));
                    hard[i].push(j);
                }
                2 => calls.push(format!(
                    r#"Call(to: "s{j}", dependency: Soft, probability: 0.5)"#
                )),
                3 => {
                    deps.push(format!(r#""s{j}""#));
                    hard[i].push(j);
                }
                _ => {}
            }
        }
        // A soft call backwards never blocks a start.
        if i > 0 && g.next(4) == 0 {
            calls.push(format!(
                r#"Call(to: "s{}", dependency: Soft, probability: 0.3)"#,
                g.next(i as u64)
            ));
        }
        for c in circles {
            if let Some(k) = c.iter().position(|&x| x == i) {
                let next = c[(k + 1) % c.len()];
                deps.push(format!(r#""s{next}""#));
                hard[i].push(next);
            }
        }
        services.push_str(&format!(
            r#"Service(name: "s{i}", concurrency: 50, service_time: Constant("1ms"), startup: Constant("{secs}s"), calls: [{}], startup_deps: [{}]),
"#,
            calls.join(", "),
            deps.join(", ")
        ));
    }
    let text = format!(
        r#"Scenario(name: "random-layers", duration: "30m", warmup: "1m",
  services: [{services}],
  workload: [Open(target: "s0", rate: 20.0)],
  faults: [Outage(at: "5m", duration: "1m")])"#
    );
    (text, startup, hard)
}

/// Longest path in seconds from `i` down through its hard deps, including its own startup.
fn longest(i: usize, hard: &[Vec<usize>], startup: &[u64], memo: &mut BTreeMap<usize, u64>) -> u64 {
    if let Some(&v) = memo.get(&i) {
        return v;
    }
    let below = hard[i]
        .iter()
        .map(|&d| longest(d, hard, startup, memo))
        .max()
        .unwrap_or(0);
    let v = below + startup[i];
    memo.insert(i, v);
    v
}

fn layer(i: usize, hard: &[Vec<usize>], memo: &mut BTreeMap<usize, u32>) -> u32 {
    if let Some(&v) = memo.get(&i) {
        return v;
    }
    let v = hard[i]
        .iter()
        .map(|&d| 1 + layer(d, hard, memo))
        .max()
        .unwrap_or(0);
    memo.insert(i, v);
    v
}

fn run(text: &str, sets: &[&str]) -> Summary {
    super::common::run_scenario(text, sets)
}

#[test]
fn orchestrated_recovery_is_the_longest_startup_path_exactly() {
    for seed in 1..=12 {
        let n = 3 + (seed as usize * 7) % 12;
        let (text, startup, hard) = platform(seed, n, &[]);
        let summary = run(&text, &[]);
        let o = &summary.outages[0];
        let back = o.power_back_s.expect("power comes back");
        assert_eq!(back, 360.0);
        let mut memo = BTreeMap::new();
        let mut layers = BTreeMap::new();
        for i in 0..n {
            let r = &o.services[&format!("s{i}")];
            let want = back + longest(i, &hard, &startup, &mut memo) as f64;
            assert_eq!(r.ready_at_s, Some(want), "seed {seed} s{i}\n{text}");
            assert_eq!(
                r.layer,
                Some(layer(i, &hard, &mut layers)),
                "seed {seed} s{i}"
            );
        }
        let full = (0..n)
            .map(|i| longest(i, &hard, &startup, &mut memo))
            .max()
            .unwrap();
        assert_eq!(o.full_recovery_s, Some(full as f64));
        assert!(o.never_recovered.is_empty());
    }
}

#[test]
fn the_layers_command_agrees_with_longest_path_layering() {
    for seed in 20..=30 {
        let n = 4 + seed as usize % 9;
        let (text, _, hard) = platform(seed, n, &[]);
        let spec = scenario::parse(&text, "t").unwrap();
        let l = DependencyGraph::from_spec(&spec).unwrap().layering();
        let mut memo = BTreeMap::new();
        for i in 0..n {
            assert_eq!(
                l.layers[i],
                Some(layer(i, &hard, &mut memo)),
                "seed {seed} s{i}"
            );
        }
        assert!(l.circles.is_empty());
    }
}

#[test]
fn planted_circles_are_reported_and_never_recover() {
    for seed in 40..=45 {
        let n = 10;
        let planted = vec![vec![2, 5, 7], vec![8, 9]];
        let (text, _, _) = platform(seed, n, &planted);
        let spec = scenario::parse(&text, "t").unwrap();
        let l = DependencyGraph::from_spec(&spec).unwrap().layering();
        for c in &planted {
            assert!(
                l.circles
                    .iter()
                    .any(|found| c.iter().all(|m| found.contains(m))),
                "seed {seed}: circle {c:?} not among {:?}",
                l.circles
            );
            for &m in c {
                assert_eq!(l.layers[m], None, "seed {seed}: s{m} is on a circle");
            }
        }
        let summary = run(&text, &[]);
        let o = &summary.outages[0];
        for &m in planted.iter().flatten() {
            assert!(
                o.never_recovered.contains(&format!("s{m}")),
                "seed {seed}: s{m} recovered"
            );
            assert_eq!(o.services[&format!("s{m}")].ready_at_s, None);
        }
        assert_eq!(o.full_recovery_s, None);
        assert!(!o.never_recovered_circles.is_empty());
    }
}

const CHAIN: &str = r#"Scenario(name: "chain", duration: "10m",
  recovery: CrashLoop(initial: "10s", cap: "5m"),
  services: [
    Service(name: "a", service_time: Constant("1ms"), startup: Constant("30s")),
    Service(name: "b", service_time: Constant("1ms"), startup: Constant("10s"), calls: [Call(to: "a")]),
    Service(name: "c", service_time: Constant("1ms"), startup: Constant("5s"), calls: [Call(to: "b")]),
  ],
  workload: [Open(target: "c", rate: 10.0)],
  faults: [Outage(at: "1m", duration: "1m")])"#;

#[test]
fn a_crash_loop_costs_the_chain_its_back_off() {
    // Power back at 120 s. Orchestrated: a 150, b 160, c 165.
    // Crash loop (10 s doubling): b fails at 120 and 130, boots at 150 (a just ready),
    // ready at 160. c fails at 120, 130, 150 (b still starting), waits 40 s, boots at
    // 190, ready at 195: 30 s of back-off over the orchestrated 165.
    let ready = |s: &Summary| -> Vec<(Option<f64>, u64)> {
        ["a", "b", "c"]
            .iter()
            .map(|n| {
                let r = &s.outages[0].services[*n];
                (r.ready_at_s, r.restarts)
            })
            .collect()
    };
    let crash_loop = run(CHAIN, &[]);
    assert_eq!(
        ready(&crash_loop),
        vec![(Some(150.0), 0), (Some(160.0), 2), (Some(195.0), 3)]
    );
    assert_eq!(crash_loop.outages[0].full_recovery_s, Some(75.0));
    let orchestrated = run(CHAIN, &["recovery=Orchestrated"]);
    assert_eq!(
        ready(&orchestrated),
        vec![(Some(150.0), 0), (Some(160.0), 0), (Some(165.0), 0)]
    );
    assert_eq!(orchestrated.outages[0].full_recovery_s, Some(45.0));
}

fn platsim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_platsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("platsim runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_layers_command_prints_json_dot_and_advice() {
    let (code, json) = platsim(&["layers", "scenarios/layer-cake/tangled.ron", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["layers"]["api"], serde_json::Value::Null);
    let cycles = v["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 1);
    let members: Vec<&str> = cycles[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(members, ["identity", "db", "config"]);

    let (code, json) = platsim(&["layers", "scenarios/layer-cake/untangled.ron", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let layers: BTreeMap<String, u64> = ["api", "config", "db", "identity", "orders"]
        .iter()
        .map(|s| (s.to_string(), v["layers"][s].as_u64().unwrap()))
        .collect();
    let want: BTreeMap<String, u64> = [
        ("api", 3),
        ("config", 0),
        ("db", 1),
        ("identity", 2),
        ("orders", 2),
    ]
    .iter()
    .map(|(s, l)| (s.to_string(), *l))
    .collect();
    assert_eq!(layers, want);
    assert_eq!(v["cycles"].as_array().unwrap().len(), 0);

    let (code, dot) = platsim(&["layers", "scenarios/layer-cake/tangled.ron", "--dot"]);
    assert_eq!(code, 0);
    assert!(
        dot.starts_with("digraph") && dot.contains("color=red"),
        "{dot}"
    );
    let (code, text) = platsim(&["layers", "scenarios/layer-cake/tangled.ron"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("circle 1: identity -> db -> config -> identity"),
        "{text}"
    );
    assert!(
        text.contains("Soft") || text.contains("startup dependency"),
        "{text}"
    );
    let (code, _) = platsim(&["layers", "scenarios/no-such-file.ron"]);
    assert_eq!(code, 2);
}

#[test]
fn the_layer_cake_scenarios_show_their_stories() {
    let read = |f: &str| {
        std::fs::read_to_string(format!(
            "{}/scenarios/layer-cake/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let tangled = run(&read("tangled.ron"), &[]);
    let o = &tangled.outages[0];
    assert_eq!(o.full_recovery_s, None);
    assert_eq!(o.never_recovered.len(), 5);
    assert!(tangled.workloads["users"].goodput_rps < 100.0);
    let untangled = run(&read("untangled.ron"), &[]);
    let o = &untangled.outages[0];
    assert_eq!(o.full_recovery_s, Some(65.0));
    assert!(o.goodput_recovered_s.is_some());
    assert_eq!(untangled.faults[0].verdict, "recovered");
    let soft = run(&read("soft-circle.ron"), &[]);
    assert!(soft.outages[0].never_recovered.is_empty());
    assert_eq!(soft.faults[0].verdict, "recovered");
}

#[test]
fn brokers_and_queues_are_nodes_of_the_graph() {
    let (code, json) = platsim(&["layers", "scenarios/events/job-queue.ron", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["layers"]["jobs"], 0, "{json}");
    assert_eq!(v["layers"]["worker"], 1, "{json}");
    let (code, json) = platsim(&["layers", "scenarios/events/food-ordering.ron", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["layers"]["kafka"], 0, "{json}");
    assert_eq!(v["layers"]["payment"], 1, "{json}");
}

/// Issue 17: `layers` took cubic time in the size of a circle (60 s at 5,000 services).
/// A 10,000-service circle of startup dependencies with backward chords is found whole
/// and broken by the greedy order, which the output says is not proven the fewest.
#[test]
fn a_ten_thousand_service_circle_is_reported_with_its_breaks() {
    let n = 10_000;
    let mut services = String::new();
    for i in 0..n {
        let mut deps = format!(r#""s{}""#, (i + 1) % n);
        if i >= 10 && i % 7 == 3 {
            deps += &format!(r#", "s{}""#, i - 10);
        }
        services += &format!(
            "Service(name: \"s{i}\", service_time: Constant(\"1ms\"), startup_deps: [{deps}]),\n"
        );
    }
    let text = format!(
        "Scenario(name: \"ring\", duration: \"1s\", services: [{services}], workload: [Open(target: \"s0\", rate: 1.0)])"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.ron");
    std::fs::write(&path, text).unwrap();
    let (code, json) = platsim(&["layers", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["cycles"].as_array().unwrap().len(), 1);
    assert_eq!(v["cycles"][0].as_array().unwrap().len(), n);
    assert_eq!(v["breaks_exact"], serde_json::json!([false]));
    let cut = v["breaks"][0].as_array().unwrap();
    assert!(!cut.is_empty() && cut.len() < n / 2, "{} edges", cut.len());
    let (code, text) = platsim(&["layers", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        text.contains("found greedily, maybe not the fewest"),
        "{text:.500}"
    );
}
