//! Kubernetes: pods driven by the Horizontal Pod Autoscaler, end to end.
//!
//! - Pods follow a load step up within a sync period plus a pod startup.
//! - They do not scale down before the 5-minute stabilization window has passed after the
//!   load drops, then do; scale-down is graceful (no request lost).
//! - `max` is never exceeded; replica-hours are the integral of the ready pods.
//! - Same seed, same summary; the scenario of `scenarios/kubernetes/` tells its story.
//!
//! Why: the autoscaler's lateness and its stabilization are what the Kubernetes scenarios
//! are about; cost follows pod-hours.

use platsim::report::summary_json;
use platsim::{simulate, Limits, Summary};

/// One api autoscaled on CPU at 50%: a pod has 4 servers at 10 ms a request (400 rps
/// flat out, 200 rps at the target). 300 rps (2 pods) steps to 1100 rps (6 pods) at 60 s
/// and back to 300 rps at 180 s.
const STEP: &str = r#"Scenario(
    name: "hpa-step",
    seed: 3,
    duration: "10m",
    window: "5s",
    services: [
        Service(
            name: "api",
            replicas: 2,
            concurrency: 4,
            queue_capacity: Some(20),
            service_time: Exponential(mean: "10ms"),
            autoscale: Some(Autoscale(
                min: 2,
                max: 10,
                metric: Cpu(target: 0.5),
                pod_startup: Constant("20s"),
            )),
        ),
    ],
    workload: [
        Open(
            name: "users",
            target: "api",
            rate: 300.0,
            schedule: [Step(at: "60s", rate: 1100.0), Step(at: "180s", rate: 300.0)],
        ),
    ],
)"#;

#[track_caller]
fn run(text: &str) -> Summary {
    super::common::run_scenario(text, &[])
}

#[track_caller]
fn column(s: &Summary, name: &str) -> Vec<f64> {
    s.timeseries
        .column(name)
        .unwrap_or_else(|| panic!("no column {name:?} in {:?}", s.timeseries.columns))
}

/// Ready pods in the window starting at `t`.
fn replicas_at(s: &Summary, t: f64) -> f64 {
    let ts = column(s, "t_s");
    let r = column(s, "api.replicas_up");
    let i = ts
        .iter()
        .position(|&x| (x - t).abs() < 1e-9)
        .unwrap_or_else(|| panic!("no window at {t}"));
    r[i]
}

#[test]
fn pods_follow_a_step_up_within_sync_and_startup() {
    let s = run(STEP);
    let a = s.services["api"].autoscale.as_ref().expect("autoscale");
    // The first sync after the step (75 s) sees the overload; its pods are ready 20 s
    // later: by 95 s (+ one sync for rounding) there are more than 2.
    assert_eq!(replicas_at(&s, 55.0), 2.0);
    assert!(
        replicas_at(&s, 110.0) > 2.0,
        "no new pod within sync + startup: {:?}",
        a.events
    );
    assert!(a
        .events
        .iter()
        .any(|e| e.t_s > 60.0 && e.t_s <= 75.0 && e.to > e.from));
    // Then they settle at what the load needs: 1100 rps / 200 rps per pod = 5.5, so 6.
    assert_eq!(replicas_at(&s, 170.0), 6.0, "{:?}", a.events);
    assert_eq!(a.peak_replicas, 6);
}

#[test]
fn pods_scale_down_only_after_the_stabilization_window() {
    let s = run(STEP);
    let a = s.services["api"].autoscale.as_ref().expect("autoscale");
    let downs: Vec<_> = a.events.iter().filter(|e| e.to < e.from).collect();
    assert!(!downs.is_empty(), "never scaled down: {:?}", a.events);
    // The load drops at 180 s; the high recommendations (6 pods) stay in the window
    // for 300 s. (A scale-up's overshoot may be taken back before, but not below 6.)
    assert!(
        downs.iter().all(|e| e.t_s >= 180.0 + 300.0 || e.to >= 6),
        "scaled down inside the stabilization window: {:?}",
        a.events
    );
    let drop = downs.iter().find(|e| e.to < 6).expect("scales below 6");
    assert!(drop.t_s <= 180.0 + 300.0 + 30.0, "{:?}", a.events);
    assert!(replicas_at(&s, 400.0) >= 6.0);
    assert!(replicas_at(&s, 470.0) >= 6.0);
    assert_eq!(replicas_at(&s, 560.0), 2.0);
    assert_eq!(a.scale_downs as usize, downs.len());
}

#[test]
fn scale_down_loses_no_request() {
    // Slow requests and a long waiting room: terminating pods still hold work.
    let text = STEP
        .replace(r#"mean: "10ms""#, r#"mean: "40ms""#)
        .replace("concurrency: 4", "concurrency: 16")
        .replace("Some(20)", "Some(500)");
    let s = run(&text);
    let api = &s.services["api"];
    assert!(api.autoscale.as_ref().unwrap().scale_downs >= 1);
    assert_eq!(api.crashed, 0);
    assert_eq!(api.shed, 0);
    assert_eq!(api.arrivals, api.completed + api.rejected + api.in_flight);
    assert_eq!(api.completed, api.ok);
}

#[test]
fn max_replicas_is_never_exceeded() {
    let text = STEP
        .replace("rate: 1100.0", "rate: 8000.0")
        .replace("max: 10", "max: 5");
    let s = run(&text);
    let a = s.services["api"].autoscale.as_ref().expect("autoscale");
    assert_eq!(a.max, 5);
    assert_eq!(a.peak_replicas, 5);
    assert!(a.events.iter().all(|e| e.to <= 5 && e.to >= 2));
    let r = column(&s, "api.replicas_up");
    assert!(r.iter().all(|&x| x <= 5.0 + 1e-9), "{r:?}");
    assert!(r.contains(&5.0));
}

#[test]
fn replica_hours_are_pod_hours() {
    let s = run(STEP);
    let r = column(&s, "api.replicas_up");
    let integral: f64 = r.iter().map(|x| x * s.window_s).sum::<f64>() / 3600.0;
    let hours = s.services["api"].replica_hours;
    assert!(
        (hours - integral).abs() < 1e-9 * hours.max(1.0),
        "replica_hours {hours} vs the series' {integral}"
    );
    // Fewer than the 10 pods of the maximum, more than the 2 of the minimum.
    assert!(hours > 2.0 * 600.0 / 3600.0 && hours < 10.0 * 600.0 / 3600.0);
}

#[test]
fn same_seed_same_summary() {
    let a = summary_json(&run(STEP));
    let b = summary_json(&run(STEP));
    assert_eq!(a, b);
}

#[test]
fn without_autoscale_the_summary_says_null() {
    let plain = r#"Scenario(name: "plain", duration: "1m",
        services: [Service(name: "api", service_time: Constant("1ms"))],
        workload: [Open(target: "api", rate: 10.0)])"#;
    let s = run(plain);
    assert!(s.services["api"].autoscale.is_none());
    assert!(summary_json(&s).contains("\"autoscale\": null"));
}

#[test]
fn invalid_autoscalers_are_reported_with_paths() {
    let bad = STEP
        .replace("replicas: 2,", "replicas: 12,")
        .replace("target: 0.5", "target: 1.5")
        .replace(r#"pod_startup: Constant("20s")"#, r#"sync_period: "0s""#);
    let err = simulate(&bad, "kubernetes", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    for path in [
        "services[0].replicas",
        "services[0].autoscale.metric.target",
        "services[0].autoscale.sync_period",
    ] {
        assert!(err.contains(path), "{path} missing from: {err}");
    }
    let bad = STEP.replace("max: 10", "max: 1");
    let err = simulate(&bad, "kubernetes", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    assert!(err.contains("services[0].autoscale.max"), "{err}");
}

#[test]
fn the_autoscaling_scenario_tells_its_story() {
    let path = format!(
        "{}/scenarios/kubernetes/autoscaling.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let s = run(&text);
    let api = &s.services["api"];
    let a = api.autoscale.as_ref().expect("autoscale");
    assert_eq!(api.crashed, 0);
    assert_eq!(api.arrivals, api.completed + api.rejected + api.in_flight);
    // Up late for the ramp (3m to 3m30s), down 5 minutes after the drop (10m).
    assert!(a.peak_replicas >= 8 && a.peak_replicas <= 20, "{a:?}");
    let first_down_after_drop = a
        .events
        .iter()
        .find(|e| e.to < e.from && e.t_s >= 600.0)
        .expect("scales down after the drop");
    assert!(first_down_after_drop.t_s >= 900.0, "{a:?}");
    assert!(first_down_after_drop.t_s <= 930.0, "{a:?}");
}
