//! One fault, every instance: every fault kind x every way an instance comes to exist x
//! every kind of component it applies to, each asserting the fault's effect on what the
//! run measures (the answers an observer sees), never on internal flags.
//!
//! A service `api` (Constant 50 ms, 8 servers a replica, 20 rps: one server busy) has its
//! instances made one way (`Origin`), before the fault or while it lasts (`When`); the
//! fault runs from 40 s to 100 s, and its effect is checked on the requests of 70..99 s,
//! when every instance made during the fault has been up for a while:
//! - `Crash` (of every replica) and `Outage`: no request succeeds.
//! - `Pause`: no request is answered (the instances are frozen).
//! - `Errors(rate: 1.0)`: no request succeeds.
//! - `Latency(add: 100ms)`: every success took at least 100 ms.
//! - `Capacity(factor: 0.25)`: every success took at least 4 x 50 ms.
//!
//! Each case also checks that its instances did come to exist that way (the autoscaler
//! scaled, the rollout completed, the pods restarted or were rescheduled), so that a case
//! cannot pass vacuously. Add a row to `cases()` for a new fault, origin or component.
//! Also, two metamorphic properties (proptest): adding a fault never increases goodput,
//! and a crash of every instance makes a service serve nothing while it lasts.
//!
//! Why: a fault applied where instances are created, per creation path, misses the paths
//! nobody thought of (issue 14: a crash after a rollout left a 4-pod service serving).

use crate::common::Answers;
use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::run::run_observed;
use platsim::{model, scenario, Limits, Summary};
use proptest::prelude::*;

const FAULT_AT: u64 = 40;
const FAULT_FOR: u64 = 60;
/// The requests checked: those arriving in this span (seconds).
const CHECK: (u64, u64) = (70, 99);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Plain replicas, there from the start (not pods).
    Initial,
    /// Pods there from the start.
    InitialPods,
    /// Pods the autoscaler added above `replicas`.
    Autoscaled,
    /// Pods of a new version, rolled out.
    RolledOut,
    /// Pods of the old version again, rolled back.
    RolledBack,
    /// Containers restarted after an OOM kill (CrashLoopBackOff).
    Restarted,
    /// Pods re-created on another node after theirs died.
    Rescheduled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// The instances exist when the fault starts.
    Before,
    /// They are created while it lasts.
    During,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Crash,
    Outage,
    Pause,
    Errors,
    Latency,
    Capacity,
}

impl Fault {
    fn ron(self) -> String {
        let (at, d) = (FAULT_AT, FAULT_FOR);
        match self {
            Fault::Crash => format!(r#"Crash(target: "api", at: "{at}s", duration: "{d}s")"#),
            Fault::Outage => format!(r#"Outage(at: "{at}s", duration: "{d}s")"#),
            Fault::Pause => format!(r#"Pause(target: "api", at: "{at}s", duration: "{d}s")"#),
            Fault::Errors => {
                format!(r#"Errors(target: "api", at: "{at}s", duration: "{d}s", rate: 1.0)"#)
            }
            Fault::Latency => format!(
                r#"Latency(target: "api", at: "{at}s", duration: "{d}s", add: Constant("100ms"))"#
            ),
            Fault::Capacity => {
                format!(r#"Capacity(target: "api", at: "{at}s", duration: "{d}s", factor: 0.25)"#)
            }
        }
    }
}

/// The scenario of one case: `api` made by `origin` at time `t` (seconds), and `fault`.
fn scenario(origin: Origin, when: When, fault: Fault) -> String {
    // The moment the origin's event happens: well before the fault, or inside it.
    let t = match when {
        When::Before => 5,
        When::During => FAULT_AT + 8,
    };
    let kube = |extra: &str| {
        format!(
            r#"kubernetes: Some(Kube(pod_startup: Constant("1s"), endpoint_delay: "0s"{extra})),"#
        )
    };
    let (mut replicas, mut service, mut nodes, mut deployments, mut faults) = (
        2,
        String::new(),
        String::new(),
        String::new(),
        vec![fault.ron()],
    );
    match origin {
        Origin::Initial => {}
        Origin::InitialPods => service = kube(""),
        Origin::Autoscaled => {
            // One server busy of 8: 12.5%; a 5% target wants 3 pods at the first sync.
            // During the fault, a 20% target: only a capacity fault's 4 busy servers
            // (50%) make it scale.
            replicas = 1;
            let target = if when == When::Before { 0.05 } else { 0.2 };
            service = format!(
                "{}\n autoscale: Some(Autoscale(min: 1, max: 4, metric: Cpu(target: {target}), sync_period: \"{}s\")),",
                kube(""),
                if when == When::Before { 15 } else { 10 }
            );
        }
        Origin::RolledOut => {
            service = kube("");
            deployments = format!(
                r#"Deploy(service: "api", at: "{t}s", version: Version(name: Some("v2"), service_time: Some(Constant("40ms"))))"#
            );
        }
        Origin::RolledBack => {
            service = kube("");
            let back = t + 5;
            deployments = format!(
                r#"Deploy(service: "api", at: "1s", version: Version(name: Some("v2"), service_time: Some(Constant("40ms")))),
                   Rollback(service: "api", at: "{back}s")"#
            );
        }
        Origin::Restarted => {
            // 100 MB/s for 1 s from 100 MB: the 150 MB limit is hit at t + 0.5 s; the
            // containers restart 10 s later (the first CrashLoopBackOff delay).
            service = kube(", memory: 100.0, memory_limit: Some(150.0)");
            faults.push(format!(
                r#"Leak(target: "api", at: "{t}s", duration: "1s", rate: 100.0)"#
            ));
        }
        Origin::Rescheduled => {
            // Node 0's pod is declared lost after 2 s and replaced 3 s later on node 1.
            service = kube("");
            nodes = r#"nodes: Some(Nodes(count: 2, not_ready_after: "2s", evict_after: "3s")),"#
                .to_string();
            faults.push(format!(r#"NodeKill(node: 0, at: "{t}s")"#));
        }
    }
    format!(
        r#"Scenario(
    name: "matrix",
    seed: 3,
    duration: "130s",
    {nodes}
    services: [
        Service(
            name: "api",
            replicas: {replicas},
            concurrency: 8,
            service_time: Constant("50ms"),
            {service}
        ),
    ],
    workload: [Open(name: "users", target: "api", rate: 20.0)],
    deployments: [{deployments}],
    faults: [{}],
)"#,
        faults.join(",\n        ")
    )
}

impl Answers {
    /// `(arrived, ended, outcome)` of the requests that arrived in `[from, to)` seconds
    /// (`ended` is `None` for those still in the platform at the end).
    fn arrived_in(&self, from: u64, to: u64) -> Vec<(SimTime, Option<(SimTime, Outcome)>)> {
        let (from, to) = (SimTime::from_secs(from), SimTime::from_secs(to));
        self.arrived
            .iter()
            .filter(|(_, &t)| from <= t && t < to)
            .map(|(u, &t)| (t, self.ended.get(u).copied()))
            .collect()
    }

    /// Outcomes of requests that ended in `(from, to)`.
    fn ended_in(&self, from: SimTime, to: SimTime) -> Vec<Outcome> {
        self.ended
            .values()
            .filter(|(t, _)| from < *t && *t < to)
            .map(|&(_, o)| o)
            .collect()
    }
}

fn observe(text: &str) -> (Summary, Answers) {
    let spec = scenario::parse(text, "matrix").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = model::validate(&spec, "matrix").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut a = Answers::default();
    let s = run_observed(&p, Limits::default(), &mut a).expect("runs");
    (s, a)
}

/// The instances did come to exist the way the case says.
fn check_origin(origin: Origin, s: &Summary) -> Result<(), String> {
    let api = &s.services["api"];
    let pods = api.pods.as_ref();
    let ok = match origin {
        Origin::Initial | Origin::InitialPods => true,
        Origin::Autoscaled => api.autoscale.as_ref().is_some_and(|a| a.peak_replicas > 1),
        Origin::RolledOut => s.deployments.iter().any(|d| d.outcome == "completed"),
        Origin::RolledBack => s.deployments.iter().any(|d| d.outcome == "rolled_back"),
        Origin::Restarted => pods.is_some_and(|p| p.oom_kills >= 2),
        Origin::Rescheduled => pods.is_some_and(|p| p.lost >= 1),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the instances did not come to exist as {origin:?}: {:?} {:?} {:?}",
            api.autoscale, s.deployments, pods
        ))
    }
}

/// The fault's effect on the requests of the checked span.
fn check_effect(fault: Fault, a: &Answers) -> Result<(), String> {
    let reqs = a.arrived_in(CHECK.0, CHECK.1);
    if reqs.len() < 300 {
        return Err(format!("too few requests to check: {}", reqs.len()));
    }
    let ok: Vec<SimTime> = reqs
        .iter()
        .filter_map(|&(t, e)| match e {
            Some((end, Outcome::Ok)) => Some(end.since(t)),
            _ => None,
        })
        .collect();
    let at_least = |d: SimTime| -> Result<(), String> {
        if ok.len() < reqs.len() / 2 {
            return Err(format!("only {} of {} succeeded", ok.len(), reqs.len()));
        }
        match ok.iter().min() {
            Some(&m) if m >= d => Ok(()),
            m => Err(format!("a success took {m:?} < {d:?}")),
        }
    };
    match fault {
        Fault::Crash | Fault::Outage | Fault::Errors => match ok.len() {
            0 => Ok(()),
            n => Err(format!("{n} of {} requests succeeded", reqs.len())),
        },
        Fault::Pause => {
            let from = SimTime::from_secs(CHECK.0);
            let answered = a.ended_in(from, SimTime::from_secs(CHECK.1));
            // Refusals and kills (a deleted pod's SIGKILL) are no answers.
            let n = answered
                .iter()
                .filter(|o| !matches!(o, Outcome::Rejected | Outcome::Crashed))
                .count();
            match n {
                0 => Ok(()),
                n => Err(format!("{n} answers while paused: {answered:?}")),
            }
        }
        Fault::Latency => at_least(SimTime::from_millis(100)),
        Fault::Capacity => at_least(SimTime::from_millis(160)),
    }
}

/// The matrix: every fault with every origin before the fault, and with the origins that
/// can happen while the fault lasts.
fn cases() -> Vec<(Origin, When, Fault)> {
    use Fault::*;
    use Origin::*;
    let faults = [Crash, Outage, Pause, Errors, Latency, Capacity];
    let mut v = Vec::new();
    for origin in [
        Initial,
        InitialPods,
        Autoscaled,
        RolledOut,
        RolledBack,
        Restarted,
        Rescheduled,
    ] {
        for fault in faults {
            v.push((origin, When::Before, fault));
        }
    }
    // Created while the fault lasts. The autoscaler adds pods only when a fault loads
    // the service (a capacity fault); the others happen whatever the fault.
    for origin in [RolledOut, RolledBack, Restarted, Rescheduled] {
        for fault in faults {
            v.push((origin, When::During, fault));
        }
    }
    v.push((Autoscaled, When::During, Capacity));
    v
}

#[test]
fn every_fault_reaches_every_instance_however_it_came_to_exist() {
    let mut failures = Vec::new();
    let cases = cases();
    for &(origin, when, fault) in &cases {
        let text = scenario(origin, when, fault);
        let (s, a) = observe(&text);
        if let Err(e) = check_origin(origin, &s).and_then(|_| check_effect(fault, &a)) {
            failures.push(format!("{fault:?} x {origin:?} ({when:?}): {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Without the fault, every case serves its requests quickly: the effects above are the
/// fault's, not the setup's.
#[test]
fn without_the_fault_the_cases_serve() {
    for origin in [
        Origin::Autoscaled,
        Origin::RolledOut,
        Origin::Restarted,
        Origin::Rescheduled,
    ] {
        let text = scenario(origin, When::Before, Fault::Latency).replace(
            &Fault::Latency.ron(),
            r#"Errors(target: "api", at: "129s", duration: "1s", rate: 0.0)"#,
        );
        let (_, a) = observe(&text);
        let reqs = a.arrived_in(CHECK.0, CHECK.1);
        let fast = reqs
            .iter()
            .filter(|(t, e)| matches!(e, Some((end, Outcome::Ok)) if end.since(*t) < SimTime::from_millis(100)))
            .count();
        assert_eq!(fast, reqs.len(), "{origin:?}");
    }
}

/// A crash of some replicas: the others serve on, with the crashed ones' share refused.
#[test]
fn a_partial_crash_holds_only_its_replicas() {
    let text = scenario(Origin::Initial, When::Before, Fault::Crash).replace(
        r#"duration: "60s")"#,
        r#"duration: "60s", replicas: Some(1))"#,
    );
    let (_, a) = observe(&text);
    let reqs = a.arrived_in(CHECK.0, CHECK.1);
    let ok = reqs
        .iter()
        .filter(|(_, e)| matches!(e, Some((_, Outcome::Ok))))
        .count();
    assert_eq!(
        ok,
        reqs.len(),
        "the balancer sends only to the live replica"
    );
}

// ---- metamorphic properties ----------------------------------------------------------

/// A small platform for the properties: `api` as a single FIFO station (so that delaying
/// or removing work can only delay the rest), optionally as pods of a rolled-out version.
#[derive(Debug, Clone)]
struct Small {
    concurrency: u32,
    service_ms: u32,
    rate: f64,
    pods: bool,
    deploy_s: Option<u32>,
    fault: Fault,
    at_s: u32,
    for_s: u32,
}

impl Small {
    fn ron(&self, with_fault: bool) -> String {
        let kube = if self.pods {
            r#"kubernetes: Some(Kube(pod_startup: Constant("1s"), endpoint_delay: "0s")),"#
        } else {
            ""
        };
        let deploy = match (self.pods, self.deploy_s) {
            (true, Some(t)) => format!(
                r#"Deploy(service: "api", at: "{t}s", version: Version(service_time: Some(Constant("{}ms"))))"#,
                self.service_ms
            ),
            _ => String::new(),
        };
        let fault = if with_fault {
            Fault::ron(self.fault)
                .replace(&format!("\"{FAULT_AT}s\""), &format!("\"{}s\"", self.at_s))
                .replace(
                    &format!("\"{FAULT_FOR}s\""),
                    &format!("\"{}s\"", self.for_s),
                )
        } else {
            String::new()
        };
        format!(
            r#"Scenario(
    name: "small",
    seed: 11,
    duration: "60s",
    services: [
        Service(name: "api", replicas: 1, concurrency: {}, service_time: Constant("{}ms"), {kube}),
    ],
    workload: [Open(name: "users", target: "api", rate: {})],
    deployments: [{deploy}],
    faults: [{fault}],
)"#,
            self.concurrency, self.service_ms, self.rate
        )
    }
}

fn small() -> impl Strategy<Value = Small> {
    (
        1u32..=4,
        5u32..=200,
        1.0f64..40.0,
        any::<bool>(),
        prop::option::of(1u32..50),
        prop::sample::select(vec![
            Fault::Crash,
            Fault::Outage,
            Fault::Pause,
            Fault::Errors,
            Fault::Latency,
            Fault::Capacity,
        ]),
        0u32..55,
        1u32..30,
    )
        .prop_map(
            |(concurrency, service_ms, rate, pods, deploy_s, fault, at_s, for_s)| Small {
                concurrency,
                service_ms,
                rate,
                pods,
                deploy_s,
                fault,
                at_s,
                for_s,
            },
        )
}

fn cases_n(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases_n(48)))]

    /// Adding a fault never increases goodput (the successful answers of the run).
    #[test]
    fn adding_a_fault_never_increases_goodput(mut case in small()) {
        // No rollout: while one runs, old and new pods share the traffic by round robin,
        // and a crash shifts who gets which request (not a monotone change).
        case.deploy_s = None;
        let (without, _) = observe(&case.ron(false));
        let (with, _) = observe(&case.ron(true));
        let (a, b) = (without.services["api"].ok, with.services["api"].ok);
        prop_assert!(b <= a, "with the fault {} > {} without\n{}", b, a, case.ron(true));
    }

    /// A crash of every instance: the service answers nothing successfully while it lasts,
    /// whatever its instances are and however they came to exist.
    #[test]
    fn a_crash_of_every_instance_serves_nothing(mut case in small()) {
        case.fault = Fault::Crash;
        let (_, a) = observe(&case.ron(true));
        let (from, to) = (
            SimTime::from_secs(case.at_s as u64),
            SimTime::from_secs((case.at_s + case.for_s) as u64),
        );
        let ok = a.ended_in(from, to).iter().filter(|&&o| o == Outcome::Ok).count();
        prop_assert_eq!(ok, 0, "{}", case.ron(true));
    }
}
