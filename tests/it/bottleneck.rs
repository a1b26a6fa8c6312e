//! Issue 23, phase 3's analysis: the bottleneck named by measurement
//! (`platsim::metrics::bottleneck`). Windows of `scenarios/food-ordering/phase3.ron`
//! with one incident each (the header's claim), and a hand-computed case of the rule.

use crate::common::run_scenario;
use platsim::metrics::bottleneck::{find, line};
use platsim::Summary;

fn phase3(sets: &[&str]) -> Summary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/food-ordering/phase3.ron"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    run_scenario(&text, sets)
}

/// The payment slowdown alone (5m-10m, run to 14m): `orders` lags, so payment's work
/// waits in the topic: nearly all of its latency is queueing.
#[test]
fn phase3_slowdown_names_payment() {
    let s = phase3(&[
        "duration=14m",
        r#"faults=[Latency(target: "payment", at: "5m", duration: "5m", add: Constant("300ms"))]"#,
    ]);
    let b = s.bottleneck.as_ref().expect("a bottleneck");
    assert_eq!(
        (b.service.as_str(), b.why),
        ("payment", "queueing"),
        "{b:?}"
    );
    assert!(b.queue_share > 0.99, "{b:?}");
    assert!(b.saturation["notification"] < 0.9, "{b:?}");
}

/// The notification backlog alone (10% speed, 5m-9m, run to 20m): `payments` lags.
#[test]
fn phase3_backlog_names_notification() {
    let s = phase3(&[
        "duration=20m",
        r#"faults=[Capacity(target: "notification", at: "5m", duration: "4m", factor: 0.1)]"#,
    ]);
    let b = s.bottleneck.as_ref().expect("a bottleneck");
    assert_eq!(
        (b.service.as_str(), b.why),
        ("notification", "queueing"),
        "{b:?}"
    );
    assert!(b.queue_share > 0.99, "{b:?}");
    assert!(b.saturation["payment"] < 0.5, "{b:?}");
}

/// The rule by hand, on a finished summary with its figures replaced: api idle; payment
/// busy 98% with 9 of 10 ms waiting (queue share 0.9, saturation 0.98 by utilization);
/// notification 30% busy, waiting 1 of 20 ms, but refusing 950 of 1,000 arrivals
/// (saturation 0.95 by refusals). Payment is the bottleneck, by utilization.
#[test]
fn bottleneck_rule_by_hand() {
    let mut s = phase3(&["duration=2m", "faults=[]"]);
    for (name, v) in s.services.iter_mut() {
        v.pulled = None;
        v.shed = 0;
        v.rejected_queue_full = 0;
        v.rejected_rate_limited = 0;
        v.rejected_concurrency_limited = 0;
        let (util, wait, sojourn) = match name.as_str() {
            "api" => (0.01, 0.0, 3.0),
            "payment" => (0.98, 9.0, 10.0),
            _ => (0.3, 1.0, 20.0),
        };
        v.utilization = util;
        v.wait_ms.mean = wait;
        v.sojourn_ms.mean = sojourn;
        if name == "notification" {
            v.arrivals = 1000;
            v.rejected_queue_full = 900;
            v.shed = 50;
        }
    }
    let b = find(&s).expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("payment", "utilization"));
    assert!((b.queue_share - 0.9).abs() < 1e-12);
    assert!((b.saturation["notification"] - 0.95).abs() < 1e-12);
    assert!((b.saturation["api"] - 0.01).abs() < 1e-12);
    assert_eq!(
        line(Some(&b)),
        "bottleneck: payment (utilization 98%, 90% of its latency queueing)"
    );
    // Busier refusals make notification the bottleneck, by refusals.
    s.services.get_mut("notification").unwrap().shed = 90;
    let b = find(&s).expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("notification", "refusals"));
    let want =
        "bottleneck: notification (utilization 30%, 5% of its latency queueing, 99.0% refused)";
    assert_eq!(line(Some(&b)), want);
    // `platsim report` says the same, read from summary.json.
    s.bottleneck = Some(b);
    let html = report_html(&s);
    assert!(html.contains(want), "report.html lacks {want:?}");
}

/// `platsim report` names the bottleneck in the run table's words (M/M/1 at rho 0.8: the
/// one station, 80% busy, 80% of its sojourn queueing: W_q / W = rho).
#[test]
fn platsim_report_names_the_bottleneck_as_the_run_table_does() {
    use crate::common::{assert_code, platsim, text};
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/textbook/mm1.ron");
    let dir = tempfile::tempdir().unwrap();
    let run = platsim()
        .args(["run", scenario, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_code(&run, 0, "platsim run");
    let table = text(&run.stdout);
    let want = table
        .lines()
        .find(|l| l.starts_with("bottleneck:"))
        .expect("the run table names a bottleneck");
    assert_eq!(
        want,
        "bottleneck: station (utilization 80%, 80% of its latency queueing)"
    );
    let report = platsim().args(["report", scenario]).output().unwrap();
    assert_code(&report, 0, "platsim report");
    assert!(
        text(&report.stdout).lines().any(|l| l == want),
        "{}",
        text(&report.stdout)
    );
}

/// Issue 23: an idle platform has no bottleneck. `scenarios/health/one-crash.ron`'s
/// busiest service is 0.6% busy and never waits: `platsim report` and the run table say
/// there is none instead of naming it.
#[test]
fn an_idle_platform_names_no_bottleneck() {
    use crate::common::{assert_code, platsim, text};
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/health/one-crash.ron"
    );
    let report = platsim().args(["report", scenario]).output().unwrap();
    assert_code(&report, 0, "platsim report");
    let out = text(&report.stdout);
    assert!(
        out.lines()
            .any(|l| l == "bottleneck: none (no service is 25% saturated)"),
        "{out}"
    );
}

/// The rule by hand for CPU throttling and memory, and the threshold: every service at
/// 0.2 on every figure names none; api's requests spending 30 of their 100 s throttled
/// (1,000 requests of 100 ms mean) make it the bottleneck by `cpu throttling` (0.3);
/// payment's OOM kills (memory saturated: 1) then outrank it.
#[test]
fn bottleneck_rule_by_hand_throttling_memory_and_threshold() {
    let mut s = phase3(&["duration=2m", "faults=[]"]);
    for v in s.services.values_mut() {
        v.pulled = None;
        v.shed = 0;
        v.rejected_queue_full = 0;
        v.rejected_rate_limited = 0;
        v.rejected_concurrency_limited = 0;
        v.utilization = 0.2;
        v.wait_ms.mean = 2.0;
        v.sojourn_ms.mean = 10.0;
        v.pods = None;
    }
    assert!(
        find(&s).is_none(),
        "0.2 everywhere is under the 0.25 threshold"
    );
    assert_eq!(line(None), "bottleneck: none (no service is 25% saturated)");
    let api = s.services.get_mut("api").unwrap();
    api.completed = 1000;
    api.sojourn_ms.mean = 100.0;
    api.wait_ms.mean = 20.0;
    api.pods = Some(platsim::metrics::PodSummary {
        cpu_throttled_s: 30.0,
        ..Default::default()
    });
    let b = find(&s).expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("api", "cpu throttling"));
    assert!((b.throttled_share - 0.3).abs() < 1e-12, "{b:?}");
    assert_eq!(
        line(Some(&b)),
        "bottleneck: api (utilization 20%, 20% of its latency queueing, 30% CPU-throttled)"
    );
    s.services.get_mut("payment").unwrap().pods = Some(platsim::metrics::PodSummary {
        oom_kills: 3,
        ..Default::default()
    });
    let b = find(&s).expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("payment", "memory"));
    assert_eq!(
        line(Some(&b)),
        "bottleneck: payment (utilization 20%, 20% of its latency queueing, 3 OOM kills)"
    );
}

/// Phase 3's leak alone (20m-24m, run to 30m): payment's containers are OOM-killed, and
/// the rule names payment by memory.
#[test]
fn phase3_leak_names_payment_by_memory() {
    let s = phase3(&[
        "duration=30m",
        r#"faults=[Leak(target: "payment", at: "20m", duration: "4m", rate: 4.0)]"#,
    ]);
    let b = s.bottleneck.as_ref().expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("payment", "memory"), "{b:?}");
    assert!(b.oom_kills > 0, "{b:?}");
}

/// report.html of a run, built from its summary.json alone.
fn report_html(s: &Summary) -> String {
    let run = platsim::chart::RunData {
        dir: std::path::PathBuf::from("run"),
        summary: serde_json::from_str(&platsim::report::summary_json(s)).unwrap(),
        series: Default::default(),
        latency: Vec::new(),
        command: None,
    };
    platsim::chart::html::run_page(&run, &[])
}

const THROTTLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/kubernetes/autoscaling-throttled.ron"
);

/// `kubernetes/autoscaling-throttled.ron` as shipped.
fn throttled_run() -> Summary {
    run_scenario(&std::fs::read_to_string(THROTTLED).unwrap(), &[])
}

/// CFS throttling (`kubernetes/autoscaling-throttled.ron`): the api is named, and its
/// line says how much of its requests' time they spent throttled.
#[test]
fn throttled_api_line_shows_its_throttled_share() {
    let s = throttled_run();
    let b = s.bottleneck.as_ref().expect("a bottleneck");
    assert_eq!(b.service, "api", "{b:?}");
    let pods = s.services["api"].pods.as_ref().unwrap();
    let v = &s.services["api"];
    let want = pods.cpu_throttled_s / (v.sojourn_ms.mean / 1000.0 * v.completed as f64);
    assert!((b.throttled_share - want).abs() < 1e-12, "{b:?}");
    assert!(
        line(Some(b)).contains("% CPU-throttled"),
        "{}",
        line(Some(b))
    );
}

/// CFS throttling per incident (`kubernetes/autoscaling-throttled.ron`): over the whole
/// run the api's requests spend under 5% of their time throttled, yet at two moments its
/// CPU limit is the bottleneck, in kubernetes-mixin's `CPUThrottlingHigh` terms (over
/// 25% of CFS periods throttled). By hand: at the start, 500/s x 40 ms of CPU is 20
/// cores of demand on 2 pods of 4 cores (8 busy threads a pod, 4 cores of quota), and
/// still 5 a pod on the 4 pods ready at 35 s (the HPA acts at 15 s, pods take 20 s), so
/// every period runs throttled until the 7 pods of 65 s: 2 x 350 + 4 x 300 = 1,900
/// periods, of 2 x 350 + 4 x 300 + 7 x 50 = 2,250 by 70 s. The ramp to 1,000/s at 3m
/// (40 cores on 10 pods' 40) throttles most periods until the 15th pod is ready (the
/// HPA acts at 210 s).
#[test]
fn throttled_api_is_the_bottleneck_at_the_start_and_in_the_surge() {
    let s = throttled_run();
    let b = s.bottleneck.as_ref().expect("a bottleneck");
    assert!(b.throttled_share < 0.05, "{b:?}");
    let t = &s.throttling;
    assert!(
        t.iter().all(|t| t.service == "api" && t.share >= 0.25),
        "{t:?}"
    );
    assert_eq!((t[0].start_s, t[0].end_s), (0.0, 70.0), "{t:?}");
    assert!(t[0].throttled_periods >= 1_900, "{t:?}");
    assert!((2_230..=2_270).contains(&t[0].periods), "{t:?}");
    let surge: Vec<_> = t
        .iter()
        .filter(|t| (180.0..240.0).contains(&t.start_s))
        .collect();
    assert_eq!(surge.len(), 1, "{t:?}");
    assert!(surge[0].share > 0.5 && surge[0].end_s <= 265.0, "{t:?}");
    // `platsim report` and report.html give each incident the same line.
    let want = platsim::metrics::bottleneck::throttling_line(surge[0]);
    assert!(want.starts_with("bottleneck 200-230 s: api ("), "{want}");
    let report = crate::common::platsim()
        .args(["report", THROTTLED])
        .output()
        .unwrap();
    crate::common::assert_code(&report, 0, "platsim report");
    let report = crate::common::text(&report.stdout);
    assert!(report.lines().any(|l| l == want), "{report}");
    let html = report_html(&s);
    assert!(html.contains(&want), "report.html lacks {want:?}");
}
