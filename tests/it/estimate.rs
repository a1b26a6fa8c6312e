//! Issue 17, "know before you run": the estimate `check` prints and `run` warns with,
//! against the events real runs count, and the warnings themselves.
//!
//! The estimate is expected requests (the rate's integral over the horizon) x visits per
//! request (each call's probability x its expected attempts) x 2.4 events a visit. By
//! hand: M/M/1 at 0.8/s for 1 h is 2,880 requests, 1 visit each; the food-ordering path
//! api -> orders -> payment is 3 visits a request.

use super::common::{assert_code, platsim, text};
use platsim::model::{self, estimate::estimate};
use platsim::scenario;

fn platform(path: &str, sets: &[&str]) -> platsim::Platform {
    let spec = scenario::load_file(path).unwrap();
    let sets: Vec<scenario::Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    let spec = scenario::apply_overrides(&spec, &sets).unwrap();
    model::validate(&spec, path).unwrap()
}

#[test]
fn estimates_are_hand_computed_and_near_the_events_a_run_counts() {
    let mm1 = platform("scenarios/textbook/mm1.ron", &["duration=1h", "warmup=0s"]);
    let e = estimate(&mm1);
    assert!((e.requests - 2_880.0).abs() < 1e-6, "{e:?}");
    assert!((e.visits - 2_880.0).abs() < 1e-6, "{e:?}");
    let food = platform("scenarios/food-ordering.ron", &["duration=1m"]);
    let e = estimate(&food);
    assert!((e.visits / e.requests - 3.0).abs() < 1e-9, "{e:?}");
    // Measured: the estimate is within 30% of the events the run counted.
    for p in [&mm1, &food] {
        let events = platsim::run(p, platsim::Limits::default()).unwrap().events as f64;
        let ratio = estimate(p).events / events;
        assert!((0.7..1.3).contains(&ratio), "{}: {ratio}", p.name);
    }
}

#[test]
fn check_prints_the_estimate_and_warns_of_long_and_impossible_runs() {
    let out = platsim()
        .args(["check", "scenarios/textbook/mm1.ron"])
        .output()
        .unwrap();
    assert_code(&out, 0, "check mm1");
    let stdout = text(&out.stdout);
    // 0.8/s x 300 h = 864,000 requests, 2.1 million events: half a second.
    assert!(stdout.contains("estimate: about 2.1 million events (864 thousand requests, 1.0 visits each), about 0.5 s on one core"), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
    let long = [
        "check",
        "scenarios/textbook/mm1.ron",
        "--set",
        "workload.0.rate=1000",
        "--set",
        "services.station.concurrency=10000",
    ];
    let out = platsim().args(long).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("warning: a long run"), "{stdout}");
    let huge = [
        "check",
        "scenarios/textbook/mm1.ron",
        "--set",
        "workload.0.rate=10000000",
        "--set",
        "services.station.concurrency=100000",
    ];
    let stdout = text(&platsim().args(huge).output().unwrap().stdout);
    assert!(stdout.contains("would stop at --max-events"), "{stdout}");
}

#[test]
fn run_warns_before_a_run_that_cannot_reach_its_horizon() {
    let args = [
        "run",
        "scenarios/textbook/mm1.ron",
        "--max-events",
        "1000",
        "--out",
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = platsim().args(args).arg(dir.path()).output().unwrap();
    assert_code(&out, 2, "run past --max-events");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note: about 2.1 million events"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: the run would stop at --max-events 1000"),
        "{stderr}"
    );
}
