//! Kubernetes pods: their lifecycle (pending, starting, ready, terminating), deletion
//! during traffic (graceful, abrupt, the endpoint-removal race), and nodes.
//!
//! - Abrupt termination fails exactly the requests the deleted pods held at that instant
//!   (counted by an observer, not by the run itself).
//! - Graceful termination with a preStop sleep longer than the endpoint delay fails
//!   nothing; without the sleep, the requests sent during the endpoint delay are refused.
//! - Replacement pods pass through pending and starting before they take traffic.
//!
//! Why: pod termination during traffic is where Kubernetes deployments lose requests.

use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::ServiceId;
use platsim::run::{run_observed, Observer};
use platsim::{model, scenario, Limits, Summary};
use std::collections::BTreeMap;

/// 3 pods of 8 servers, 200 ms a request at 60 rps (~12 in flight); all 3 pods are
/// deleted at 60 s and replaced by pods that take `scheduling` + `startup`.
fn term(termination: &str, endpoint_delay: &str, startup: &str) -> String {
    format!(
        r#"Scenario(
    name: "termination",
    seed: 5,
    duration: "2m",
    window: "1s",
    services: [
        Service(
            name: "api",
            replicas: 3,
            concurrency: 8,
            queue_capacity: Some(100),
            service_time: Exponential(mean: "200ms"),
            kubernetes: Some(Kube(
                scheduling: "0s",
                pod_startup: Constant("{startup}"),
                termination: {termination},
                endpoint_delay: "{endpoint_delay}",
            )),
        ),
    ],
    workload: [Open(name: "users", target: "api", rate: 60.0)],
    faults: [DeletePods(target: "api", at: "60s")],
)"#
    )
}

/// In flight at the deletion instant, and every outcome with its time.
#[derive(Default)]
struct Watch {
    at: SimTime,
    arrived: BTreeMap<u64, SimTime>,
    ended: BTreeMap<u64, (SimTime, Outcome)>,
}

impl Observer for Watch {
    fn arrival(&mut self, now: SimTime, _s: ServiceId, uid: u64) {
        self.arrived.insert(uid, now);
    }
    fn outcome(&mut self, now: SimTime, _s: ServiceId, uid: u64, o: Outcome) {
        self.ended.insert(uid, (now, o));
    }
}

impl Watch {
    /// Requests admitted before `at` and not ended before it.
    fn in_flight_at(&self) -> usize {
        self.arrived
            .iter()
            .filter(|&(_, &t)| t < self.at)
            .filter(|(u, _)| {
                self.ended
                    .get(u)
                    .is_none_or(|&(t, o)| t >= self.at && o != Outcome::Rejected)
            })
            .count()
    }
    fn crashed(&self) -> Vec<SimTime> {
        self.ended
            .values()
            .filter(|(_, o)| *o == Outcome::Crashed)
            .map(|&(t, _)| t)
            .collect()
    }
}

fn observed(text: &str) -> (Summary, Watch) {
    let spec = scenario::parse(text, "pods").expect("parses");
    let p = model::validate(&spec, "pods").expect("valid");
    let mut w = Watch {
        at: SimTime::from_secs(60),
        ..Watch::default()
    };
    let s = run_observed(&p, Limits::default(), &mut w).expect("runs");
    (s, w)
}

#[test]
fn abrupt_termination_fails_exactly_what_the_pods_held() {
    let (s, w) = observed(&term("Abrupt", "0s", "0s"));
    let crashed = w.crashed();
    let held = w.in_flight_at();
    assert!(held >= 5, "too little in flight to mean anything: {held}");
    assert_eq!(crashed.len(), held, "crashed {crashed:?}");
    assert!(crashed.iter().all(|&t| t == SimTime::from_secs(60)));
    let api = &s.services["api"];
    assert_eq!(api.crashed as usize, held);
    // The replacements were there at once: nothing else refused.
    assert_eq!(api.rejected, 0);
}

#[test]
fn graceful_termination_with_a_long_enough_grace_fails_none() {
    // preStop sleep 2 s > endpoint delay 1 s: the pods leave the load balancers while
    // still serving, then finish what they hold (200 ms requests, 30 s of grace).
    let graceful = r#"Graceful(grace_period: "30s", pre_stop: "2s")"#;
    let (s, w) = observed(&term(graceful, "1s", "0s"));
    let api = &s.services["api"];
    assert!(w.in_flight_at() >= 5);
    assert_eq!(api.crashed, 0);
    assert_eq!(api.rejected, 0);
    assert_eq!(api.arrivals, api.ok + api.in_flight);
}

#[test]
fn without_a_pre_stop_sleep_the_endpoint_race_refuses_requests() {
    // SIGTERM at once; the load balancers keep sending for 1 s: ~60 rps x 1 s refused.
    let (s, _) = observed(&term("Graceful()", "1s", "0s"));
    let api = &s.services["api"];
    assert_eq!(api.crashed, 0, "the in-flight ones still finish");
    assert!(
        (35..=90).contains(&api.rejected_unavailable),
        "refused during the race: {}",
        api.rejected_unavailable
    );
    assert_eq!(api.rejected, api.rejected_unavailable);
}

#[test]
fn a_short_grace_period_kills_what_is_left() {
    // 1 ms of grace: SIGKILL fails what the pods still hold, like an abrupt stop.
    let (s, w) = observed(&term(r#"Graceful(grace_period: "1ms")"#, "0s", "0s"));
    assert!(s.services["api"].crashed > 0);
    assert!(w
        .crashed()
        .iter()
        .all(|&t| t == SimTime::from_secs(60).after(SimTime::from_millis(1))));
}

#[test]
fn replacements_take_traffic_only_once_started() {
    // Abrupt, no endpoint delay, replacements need 5 s: for 5 s nothing takes traffic.
    let (s, _) = observed(&term("Abrupt", "0s", "5s"));
    let api = &s.services["api"];
    let refused = api.rejected_unavailable;
    assert!(
        (220..=380).contains(&refused),
        "refused {refused}, ~60 rps x 5 s expected"
    );
    let up = s.timeseries.column("api.replicas_up").expect("column");
    let t = s.timeseries.column("t_s").expect("t");
    let at = |x: f64| up[t.iter().position(|&v| (v - x).abs() < 1e-9).unwrap()];
    assert_eq!(at(58.0), 3.0);
    assert_eq!(at(62.0), 0.0);
    assert_eq!(at(66.0), 3.0);
}

#[test]
fn kubernetes_settings_are_validated_with_paths() {
    let bad = term(r#"Graceful(grace_period: "soon")"#, "-1s", "0s")
        .replace(r#"scheduling: "0s""#, r#"scheduling: "x""#)
        .replace(r#"DeletePods(target: "api", at: "60s")"#, r#"DeletePods(target: "apj", at: "60s"), DeletePods(target: "api", at: "1s", pods: Some(7)), NodeKill(node: 0, at: "1s")"#);
    let err = platsim::simulate(&bad, "pods", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    for path in [
        "services[0].kubernetes.scheduling",
        "services[0].kubernetes.endpoint_delay",
        "services[0].kubernetes.termination.grace_period",
        "faults[0].target",
        "did you mean \"api\"",
        "faults[1].pods",
        "faults[2].node",
    ] {
        assert!(err.contains(path), "{path} missing from: {err}");
    }
}

#[track_caller]
fn level(s: &Summary, column: &str, t: f64) -> f64 {
    let ts = s.timeseries.column("t_s").expect("t_s");
    let c = s
        .timeseries
        .column(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    c[ts.iter()
        .position(|&x| (x - t).abs() < 1e-9)
        .expect("window")]
}

/// 6 pods of "a" over `nodes` nodes; `faults` kill some.
fn cluster(nodes: u32, faults: &str) -> Summary {
    let text = format!(
        r#"Scenario(
    name: "nodes",
    duration: "90s",
    nodes: Some(Nodes(count: {nodes}, not_ready_after: "0s", evict_after: "5s")),
    services: [
        Service(name: "a", replicas: 6, concurrency: 4, service_time: Constant("10ms"),
                kubernetes: Some(Kube(pod_startup: Constant("2s")))),
    ],
    workload: [Open(target: "a", rate: 50.0)],
    faults: [{faults}],
)"#
    );
    super::common::run_scenario(&text, &[])
}

#[test]
fn pods_spread_over_nodes_and_a_dead_nodes_pods_are_replaced_elsewhere() {
    // 6 pods over 3 nodes: 2 each. Node 0 dies at 30 s: 2 pods gone at once (not ready
    // after 0 s); evicted 5 s later, replaced on nodes 1 and 2, ready 2 s after that.
    let s = cluster(3, r#"NodeKill(node: 0, at: "30s")"#);
    assert_eq!(level(&s, "a.replicas_up", 29.0), 6.0);
    assert_eq!(level(&s, "a.replicas_up", 31.0), 4.0);
    assert_eq!(level(&s, "a.replicas_up", 36.0), 4.0);
    assert_eq!(level(&s, "a.replicas_up", 38.0), 6.0);
}

#[test]
fn with_every_node_down_replacements_wait_for_a_node() {
    // 2 nodes, both die at 30 s; node 0 is back at 50 s. The evicted pods' replacements
    // (35 s) have nowhere to go until then: pending; then 2 s to start.
    let s = cluster(
        2,
        r#"NodeKill(node: 0, at: "30s", duration: "20s"), NodeKill(node: 1, at: "30s")"#,
    );
    assert_eq!(level(&s, "a.replicas_up", 31.0), 0.0);
    assert_eq!(level(&s, "a.replicas_up", 45.0), 0.0);
    assert_eq!(level(&s, "a.replicas_up", 51.0), 0.0);
    assert_eq!(level(&s, "a.replicas_up", 53.0), 6.0);
}

#[test]
fn node_kill_under_load_recovers_with_no_lost_orders() {
    let path = format!(
        "{}/scenarios/kubernetes/node-kill.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let s = super::common::run_scenario(&text, &[]);
    let o = s.orders.as_ref().expect("orders");
    // At-least-once delivery with idempotent consumers: nothing lost, nothing twice.
    assert_eq!(o.lost, 0, "{o:?}");
    assert_eq!(o.duplicated, 0, "{o:?}");
    assert_eq!(o.in_dlq, 0, "{o:?}");
    assert_eq!(o.in_flight, 0, "{o:?}");
    assert_eq!(o.completed, o.accepted, "{o:?}");
    // Clients were refused only when all their retries hit the dead api pod.
    assert!(o.accepted as f64 >= 0.99 * o.placed as f64, "{o:?}");
    // The dead payment pod stays in the endpoints for 40 s (120 s -> 160 s), is evicted
    // 30 s later and its replacement is ready 5 s after that (195 s).
    assert_eq!(level(&s, "payment.replicas_up", 150.0), 3.0);
    assert_eq!(level(&s, "payment.replicas_up", 170.0), 2.0);
    assert_eq!(level(&s, "payment.replicas_up", 200.0), 3.0);
    assert_eq!(level(&s, "api.replicas_up", 170.0), 1.0);
    assert_eq!(level(&s, "api.replicas_up", 200.0), 2.0);
    assert!(
        s.services["payment"].crashed > 0,
        "the dead consumer held messages"
    );
}

#[test]
fn the_termination_scenario_compares_three_ways_to_stop() {
    let path = format!(
        "{}/scenarios/kubernetes/termination.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let s = super::common::run_scenario(&text, &[]);
    let (abrupt, race, prestop) = (
        &s.services["abrupt"],
        &s.services["no-prestop"],
        &s.services["prestop"],
    );
    assert!(abrupt.crashed > 0 && abrupt.rejected_unavailable > 0);
    assert_eq!(race.crashed, 0);
    // ~100 rps x 1 s x 2 of 4 pods sent into the race.
    assert!(
        (25..=80).contains(&race.rejected_unavailable),
        "{}",
        race.rejected_unavailable
    );
    assert_eq!(prestop.crashed + prestop.rejected, 0);
}

// ---- resources and probes ------------------------------------------------------------

/// One pod of 4 servers at 100 ms a request, kept busy by 4 users who never think.
fn throttled(cpu_limit: &str) -> Summary {
    let text = format!(
        r#"Scenario(
    name: "cfs",
    duration: "60s",
    services: [
        Service(name: "a", replicas: 1, concurrency: 4, service_time: Constant("100ms"),
                kubernetes: Some(Kube(cpu_limit: {cpu_limit}))),
    ],
    workload: [Closed(target: "a", users: 4, think_time: Constant("1ns"))],
)"#
    );
    super::common::run_scenario(&text, &[])
}

#[test]
fn a_cpu_limit_caps_a_pods_throughput_at_the_limit_in_cores() {
    // 4 busy servers burn 4 cores: 40 rps. Limited to L cores, CFS gives them L cores
    // between them: each request takes 4 / L x 100 ms, so 10 x L rps.
    let rate = |s: &Summary| s.services["a"].ok as f64 / 60.0;
    let free = rate(&throttled("None"));
    let two = rate(&throttled("Some(2.0)"));
    let one = rate(&throttled("Some(1.0)"));
    assert!((free - 40.0).abs() < 1.0, "{free}");
    assert!((two - 20.0).abs() < 1.0, "{two}");
    assert!((one - 10.0).abs() < 1.0, "{one}");
    // Not throttled below the limit: 4 servers under a 4-core limit run free.
    assert!((rate(&throttled("Some(4.0)")) - 40.0).abs() < 1.0);
}

/// 2 pods at 100 MB, limit 500 MB, a leak of 10 MB/s from 30 s: each container reaches
/// its limit 40 s after it starts leaking.
const LEAK: &str = r#"Scenario(
    name: "leak",
    duration: "5m",
    services: [
        Service(name: "a", replicas: 2, concurrency: 4, service_time: Constant("50ms"),
                kubernetes: Some(Kube(memory: 100.0, memory_limit: Some(500.0)))),
    ],
    workload: [Open(target: "a", rate: 40.0)],
    faults: [Leak(target: "a", at: "30s", duration: "10m", rate: 10.0)],
)"#;

#[test]
fn a_leak_gets_containers_oom_killed_and_restarted_with_crash_loop_back_off() {
    let s = super::common::run_scenario(LEAK, &[]);
    let a = &s.services["a"];
    let pods = a.pods.as_ref().expect("pods");
    // OOM at 70 s; back-off 10 s -> restart at 80, OOM at 120; 20 s -> 140, OOM 180;
    // 40 s -> 220, OOM 260; 80 s -> 340 (after the end). 4 kills per pod.
    assert_eq!(pods.oom_kills, 8, "{pods:?}");
    assert_eq!(pods.restarts, 8);
    assert!(
        a.crashed > 0,
        "the requests in the killed containers' hands fail"
    );
    let up = |t| level(&s, "a.replicas_up", t);
    assert_eq!(up(69.0), 2.0);
    assert_eq!(up(75.0), 0.0);
    assert_eq!(up(85.0), 2.0);
    assert_eq!(up(130.0), 0.0);
    assert_eq!(up(145.0), 2.0);
    assert_eq!(up(200.0), 0.0);
    assert_eq!(up(225.0), 2.0);
    assert_eq!(up(290.0), 0.0);
}

fn hung(probes: &str) -> Summary {
    let text = format!(
        r#"Scenario(
    name: "hang",
    duration: "3m",
    services: [
        Service(name: "a", replicas: 2, concurrency: 4, service_time: Constant("20ms"),
                kubernetes: Some(Kube({probes}))),
    ],
    workload: [Open(target: "a", rate: 20.0)],
    faults: [Hang(target: "a", at: "30s", duration: "2m")],
)"#
    );
    super::common::run_scenario(&text, &[])
}

#[test]
fn liveness_restarts_a_hung_pod_after_failure_threshold_x_period() {
    // Probes every 10 s from 0: those at 30, 40, 50 s fail -> restart at 50 s, the
    // stuck requests fail; back 10 s later (CrashLoopBackOff), no longer hung.
    let s = hung("liveness: Some(Probe())");
    let a = &s.services["a"];
    let pods = a.pods.as_ref().expect("pods");
    assert_eq!(pods.liveness_restarts, 1, "{pods:?}");
    assert!(
        a.crashed > 50,
        "20 s of half the traffic stuck: {}",
        a.crashed
    );
    assert_eq!(level(&s, "a.replicas_up", 55.0), 1.0);
    assert_eq!(level(&s, "a.replicas_up", 65.0), 2.0);
    // Without probes the pod stays hung for the 2 minutes, taking half the traffic.
    let s = hung("");
    assert_eq!(s.services["a"].pods.as_ref().unwrap().restarts, 0);
    assert!(s.services["a"].sojourn_ms.max > 60_000.0);
}

#[test]
fn readiness_takes_a_hung_pod_out_of_the_endpoints() {
    // Readiness every 5 s from 1 s, failing at the first failure: out at 31 s, back at
    // the first probe after the hang (151 s).
    let s =
        hung(r#"readiness: Some(Probe(initial_delay: "1s", period: "5s", failure_threshold: 1))"#);
    let a = &s.services["a"];
    assert_eq!(a.pods.as_ref().unwrap().readiness_failures, 1);
    assert_eq!(level(&s, "a.replicas_up", 30.0), 2.0);
    assert_eq!(level(&s, "a.replicas_up", 32.0), 1.0);
    assert_eq!(level(&s, "a.replicas_up", 149.0), 1.0);
    assert_eq!(level(&s, "a.replicas_up", 153.0), 2.0);
    // Only what it took in the second before the probe caught it waits for the hang's
    // end (no liveness probe: nothing is killed).
    assert_eq!(a.crashed, 0);
    assert!(a.sojourn_ms.max > 100_000.0);
    assert!(a.sojourn_ms.max < 121_000.0);
}

#[track_caller]
fn scenario(name: &str) -> Summary {
    let path = format!(
        "{}/scenarios/kubernetes/{name}.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    super::common::run_scenario(&text, &[])
}

#[test]
fn a_too_low_cpu_limit_costs_latency_and_pods() {
    let free = scenario("autoscaling");
    let limited = scenario("autoscaling-throttled");
    let (f, l) = (&free.services["api"], &limited.services["api"]);
    let (fa, la) = (f.autoscale.as_ref().unwrap(), l.autoscale.as_ref().unwrap());
    assert!(la.peak_replicas > fa.peak_replicas, "{la:?}");
    assert!(l.replica_hours > 1.3 * f.replica_hours);
    let p99 = |s: &Summary| s.workloads["users"].latency_ms.p99;
    assert!(p99(&limited) > 1.5 * p99(&free));
    // The figures of scenarios/README.md.
    assert_eq!((la.peak_replicas, l.rejected), (20, 13_883));
    assert!(
        (1087.0..1089.0).contains(&p99(&limited)),
        "{}",
        p99(&limited)
    );
    let pods = l.pods.as_ref().unwrap();
    assert_eq!(pods.cpu_throttled_periods, 4628);
    assert!((4.6..4.7).contains(&l.replica_hours));
}

#[test]
fn the_memory_leak_scenario_crash_loops() {
    let s = scenario("memory-leak");
    let api = &s.services["api"];
    let pods = api.pods.as_ref().unwrap();
    // 3 containers die at 248 s, 382 s, 530 s, 698 s (128 s of leak after each start,
    // back-offs 10, 20, 40 s + 5 s to start); the next, 80 s later, is after the fix.
    assert_eq!(pods.oom_kills, 12, "{pods:?}");
    assert_eq!(pods.liveness_restarts, 0);
    assert_eq!(api.downtime.len(), 4, "{:?}", api.downtime);
    assert!(api.crashed > 0);
}

// ---- rolling updates -------------------------------------------------------------------

#[test]
fn a_bad_rollout_is_rolled_back_by_its_alert_or_by_hand() {
    let s = scenario("bad-rollout");
    let d = &s.deployments;
    assert_eq!(d.len(), 2);
    let (api, pay) = (&d[0], &d[1]);
    assert_eq!(
        (api.service.as_str(), api.outcome.as_str()),
        ("api", "rolled_back")
    );
    assert!(api.rolled_back_by_alert);
    // The first new pods are ready at 125 s; the page-fast alert fires once 1.44% of
    // everything measured so far (its 1 h window) has failed: within seconds.
    let rb = api.rollback_s.expect("rolled back");
    assert!((125.0..=145.0).contains(&rb), "{api:?}");
    // The offline evaluation of the same rule agrees on when it fired.
    let offline = s.health.services.iter().find(|x| x.name == "api").unwrap();
    let fired = offline
        .alerts
        .iter()
        .find(|a| a.rule == "page-fast")
        .expect("page-fast fired")
        .fired_s;
    assert!((fired - rb).abs() <= 1.0, "online {rb} vs offline {fired}");
    assert_eq!(
        (pay.outcome.as_str(), pay.rollback_s),
        ("rolled_back", Some(360.0))
    );
    assert!(!pay.rolled_back_by_alert);
    assert!(
        pay.end_s.unwrap() > 360.0 && pay.end_s.unwrap() < 400.0,
        "{pay:?}"
    );
    // Errors only while v2 pods served: far fewer where the alert rolled back.
    let (ea, ep) = (s.services["api"].errors, s.services["payments"].errors);
    assert!(ea > 0 && ep > 10 * ea, "{ea} vs {ep}");
    // Deployments feed the change failure rate.
    let rel = &offline.reliability;
    assert_eq!((rel.deployments, rel.failed_deployments), (1, 1));
    assert_eq!(rel.change_failure_rate_pct, 100.0);
    // maxUnavailable 25% of 8 = 2: at least 6 pods in the endpoints throughout.
    let up = s.timeseries.column("api.replicas_up").unwrap();
    assert!(up.iter().all(|&x| x >= 6.0 - 1e-9), "{up:?}");
}

#[test]
fn a_good_rollout_completes_within_its_bounds() {
    // 4 pods, maxSurge 1, maxUnavailable 0: one new pod at a time, ready before an old
    // one goes (5 s each, acted on within 1 s): 4 rounds. A preStop sleep longer than
    // the endpoint delay: no request lost (without it, each old pod refuses for 1 s).
    let text = r#"Scenario(
    name: "roll",
    duration: "2m",
    services: [
        Service(name: "a", replicas: 4, concurrency: 4, service_time: Constant("10ms"),
                kubernetes: Some(Kube(pod_startup: Constant("5s"),
                                      termination: Graceful(pre_stop: "2s")))),
    ],
    workload: [Open(target: "a", rate: 100.0)],
    deployments: [
        Deploy(service: "a", at: "30s", version: Version(service_time: Some(Constant("5ms"))),
               max_surge: "1", max_unavailable: "0"),
    ],
)"#;
    let s = super::common::run_scenario(text, &[]);
    let d = &s.deployments[0];
    assert_eq!(d.outcome, "completed");
    let took = d.end_s.unwrap() - d.start_s;
    assert!((20.0..=25.0).contains(&took), "{d:?}");
    let up = s.timeseries.column("a.replicas_up").unwrap();
    assert!(up.iter().all(|&x| x >= 4.0 - 1e-9), "never below 4: {up:?}");
    assert_eq!(s.services["a"].errors + s.services["a"].rejected, 0);
    assert_eq!(
        s.health.services[0].reliability.change_failure_rate_pct,
        0.0
    );
}

#[test]
fn deployments_are_validated_with_paths() {
    let text = r#"Scenario(
    name: "roll",
    duration: "2m",
    services: [Service(name: "a", replicas: 4, service_time: Constant("10ms"))],
    workload: [Open(target: "a", rate: 100.0)],
    deployments: [
        Deploy(service: "a", at: "30s", version: Version(error_rate: Some(2.0)),
               max_surge: "0", max_unavailable: "0%"),
        Deploy(service: "b", at: "3m", version: Version(), max_surge: "lots"),
    ],
)"#;
    let err = platsim::simulate(text, "roll", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    for path in [
        "deployments[0].service",
        "deployments[0].version.error_rate",
        "deployments[0].max_unavailable",
        "deployments[1].service",
        "deployments[1].at",
        "deployments[1].max_surge",
    ] {
        assert!(err.contains(path), "{path} missing from: {err}");
    }
}

/// 2 pods of "a"; one is deleted at 60 s and its replacement needs `start` to start.
fn replaced(start: &str, startup_probe: &str) -> Summary {
    let text = format!(
        r#"Scenario(
    name: "startup",
    duration: "3m",
    services: [
        Service(name: "a", replicas: 2, concurrency: 4, service_time: Constant("20ms"),
                kubernetes: Some(Kube(pod_startup: Constant("{start}"), {startup_probe}))),
    ],
    workload: [Open(target: "a", rate: 20.0)],
    faults: [DeletePods(target: "a", at: "60s", pods: Some(1))],
)"#
    );
    super::common::run_scenario(&text, &[])
}

#[test]
fn a_startup_probe_lets_a_pod_in_on_its_tick_or_kills_it_after_failure_threshold() {
    let probe = r#"startup: Some(Probe(period: "10s", failure_threshold: 3))"#;
    // Without the probe the replacement is ready when it has started: 60 + 15 s.
    let s = replaced("15s", "");
    assert_eq!(level(&s, "a.replicas_up", 74.0), 1.0);
    assert_eq!(level(&s, "a.replicas_up", 75.0), 2.0);
    // Probed at 60, 70, 80 s: the one at 80 s finds it started.
    let s = replaced("15s", probe);
    assert_eq!(level(&s, "a.replicas_up", 79.0), 1.0);
    assert_eq!(level(&s, "a.replicas_up", 80.0), 2.0);
    assert_eq!(s.services["a"].pods.as_ref().unwrap().startup_failures, 0);
    // A 35 s start never makes it: killed at the third failure (80 s), restarted after
    // 10 s, killed at 110 s, after 20 s more at 150 s: CrashLoopBackOff, never ready.
    let s = replaced("35s", probe);
    let pods = s.services["a"].pods.as_ref().unwrap();
    assert_eq!(pods.startup_failures, 3, "{pods:?}");
    assert_eq!(pods.restarts, 3);
    assert_eq!(level(&s, "a.replicas_up", 175.0), 1.0);
}

#[test]
fn a_startup_probe_is_validated_like_kubernetes() {
    let text = r#"Scenario(name: "t", duration: "1m",
    services: [Service(name: "a", service_time: Constant("1ms"),
        kubernetes: Some(Kube(startup: Some(Probe(period: "0s", success_threshold: 2)))))],
    workload: [Open(target: "a", rate: 1.0)])"#;
    let err = platsim::simulate(text, "t", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    assert!(
        err.contains("services[0].kubernetes.startup.period"),
        "{err}"
    );
    assert!(
        err.contains("services[0].kubernetes.startup.success_threshold"),
        "{err}"
    );
}
