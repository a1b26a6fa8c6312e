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
        line(&b),
        "bottleneck: payment (utilization 98%, 90% of its latency queueing)"
    );
    // Busier refusals make notification the bottleneck, by refusals.
    s.services.get_mut("notification").unwrap().shed = 90;
    let b = find(&s).expect("a bottleneck");
    assert_eq!((b.service.as_str(), b.why), ("notification", "refusals"));
    let want =
        "bottleneck: notification (utilization 30%, 5% of its latency queueing, 99.0% refused)";
    assert_eq!(line(&b), want);
    // `platsim report` says the same, read from summary.json.
    s.bottleneck = Some(b);
    let run = platsim::chart::RunData {
        dir: std::path::PathBuf::from("run"),
        summary: serde_json::from_str(&platsim::report::summary_json(&s)).unwrap(),
        series: Default::default(),
        latency: Vec::new(),
        command: None,
    };
    let html = platsim::chart::html::run_page(&run, &[]);
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
