//! Issue 24, adaptive timeouts: a call's timeout that follows a percentile of its recent
//! attempts (`adaptive_timeout`, `mech::adaptive`), by hand, in its two shipped scenarios,
//! and its validation.
//!
//! The rule followed is LogDevice's adaptive timeout as the `adaptive-timeout` crate
//! documents it: a high quantile of recent round trips times a safety factor, clamped
//! between a floor and a ceiling; a timed-out attempt counts as the time it waited.

use super::common::run_scenario as run;
use platsim::model::validate;
use platsim::scenario;

/// One user, one request at a time: the api (1 ms) calls a backend that takes exactly
/// 30 ms, 130 ms while a `Latency` fault adds 100 ms from 5 s to 8 s. The timeout is
/// 2 x the latest attempt (window 1, p100), starting at 100 ms, between 10 ms and 1 s.
const HAND: &str = r#"Scenario(
    name: "adaptive-hand", duration: "10s",
    services: [
        Service(name: "api", concurrency: 4, service_time: Constant("1ms"),
            calls: [Call(to: "backend", timeout: Some("100ms"),
                retry: Some(Retry(max_attempts: 4, backoff: None, retry_on: [Timeout])),
                adaptive_timeout: Some(AdaptiveTimeout(percentile: 100.0, multiplier: 2.0,
                    floor: "10ms", ceiling: "1s", window: 1)))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("30ms")),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("1s"))],
    faults: [Latency(target: "backend", at: "5s", duration: "3s", add: Constant("100ms"))],
)"#;

/// Worked out by hand. Before the fault each attempt takes 30 ms: the timeout drops from
/// 100 ms to 60 ms after the first and stays there. The request of 5.16 s meets a 130 ms
/// backend: it times out at 60 ms (the timeout becomes 120 ms), its retry times out at
/// 120 ms (240 ms), its second retry answers in 130 ms (260 ms). The two requests after
/// it in the fault answer in 130 ms; the first after it (8.7 s) in 30 ms: back to 60 ms.
/// So 2 timed-out attempts, no failed call, the range 60..260 ms, 3 raises, 2 lowerings.
#[test]
fn the_timeout_doubles_through_a_slowdown_by_hand() {
    let s = run(HAND, &[]);
    let edge = &s.calls["api->backend"];
    let a = edge.adaptive_timeout.as_ref().expect("adaptive summary");
    assert_eq!(edge.attempt_timeouts, 2, "{edge:?}");
    assert_eq!(edge.failed, 0, "{edge:?}");
    assert_eq!(edge.attempts, edge.calls + 2, "{edge:?}");
    assert_eq!(
        (a.min_ms, a.max_ms, a.current_ms),
        (60.0, 260.0, 60.0),
        "{a:?}"
    );
    assert_eq!(
        (a.samples, a.raised, a.lowered),
        (edge.attempts, 3, 2),
        "{a:?}"
    );
    // The same call with its fixed 100 ms: every attempt started in the fault times out.
    // The requests of 5.16 s and 6.56 s fail after 4 attempts (401 ms each, then 1 s of
    // thinking); the one of 7.96 s times out once and its retry, at 8.06 s, is served
    // in 30 ms: 2 failed calls, 9 timed-out attempts.
    let fixed = run(HAND, &["services.api.calls.0.adaptive_timeout=None"]);
    let edge = &fixed.calls["api->backend"];
    assert!(edge.adaptive_timeout.is_none());
    assert_eq!((edge.failed, edge.attempt_timeouts), (2, 9), "{edge:?}");
}

fn shipped(name: &str) -> String {
    let path = format!(
        "{}/scenarios/mechanisms/{name}.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `adaptive-timeout.ron`: the backend slows from ~13 ms to ~133 ms for 60 s, within its
/// capacity (64 threads: 481/s against 200/s) but past the fixed 100 ms timeout.
#[test]
fn an_adaptive_timeout_rides_out_a_slowdown_that_a_fixed_one_turns_into_a_retry_storm() {
    let s = run(&shipped("adaptive-timeout"), &[]);
    let fixed = &s.calls["fixed->fixed-backend"];
    let adaptive = &s.calls["adaptive->adaptive-backend"];
    // 60 s x 200/s = 12,000 calls start in the slowdown; all of them fail after 4
    // attempts, offering 800/s against 481/s, and the queue left behind fails more.
    assert!(fixed.failed >= 12_000, "{fixed:?}");
    assert!(fixed.attempts >= fixed.calls + 3 * 12_000, "{fixed:?}");
    assert_eq!(adaptive.failed, 0, "{adaptive:?}");
    assert!(adaptive.attempt_timeouts < 100, "{adaptive:?}");
    let a = adaptive
        .adaptive_timeout
        .as_ref()
        .expect("adaptive summary");
    // It must end above the slowed latency (130 ms and more) to ride it out, and it
    // stays under its 1 s ceiling.
    assert!(a.max_ms > 260.0 && a.max_ms < 1000.0, "{a:?}");
    assert_eq!(s.workloads["adaptive"].errors, 0);
    assert!(s.workloads["fixed"].errors >= 12_000);
}

/// `adaptive-timeout-hang.ron`: the recommendations hang for 5 s from 60 s to 120 s.
#[test]
fn an_adaptive_timeout_adapts_into_a_hang_and_holds_the_callers_threads() {
    let s = run(&shipped("adaptive-timeout-hang"), &[]);
    let fixed = &s.workloads["fixed"];
    let adaptive = &s.workloads["adaptive"];
    // The fixed 50 ms timeout: every call in the hang (60 s x 100/s = 6,000) times out
    // and its page is served degraded; a page holds a thread for at most 55 ms.
    assert!(fixed.ok + 3 >= fixed.arrivals, "{fixed:?}");
    let calls = &s.calls["fixed->fixed-recs"];
    assert!(
        (calls.attempt_timeouts as f64 - 6_000.0).abs() < 200.0,
        "{calls:?}"
    );
    // The adaptive one doubles up to its 10 s ceiling, and 20 threads held for 5 s serve
    // 4 pages a second against 100 offered: the rest is refused or times out.
    let a = s.calls["adaptive->adaptive-recs"]
        .adaptive_timeout
        .as_ref()
        .expect("adaptive summary");
    assert_eq!(a.max_ms, 10_000.0, "{a:?}");
    assert!(adaptive.ok < fixed.ok * 2 / 3, "{adaptive:?}");
    assert!(
        adaptive.rejected + adaptive.timeouts > 5_000,
        "{adaptive:?}"
    );
}

#[test]
fn bad_adaptive_timeouts_are_reported_with_their_paths() {
    let bad = HAND
        .replace("percentile: 100.0", "percentile: 0.0")
        .replace("multiplier: 2.0", "multiplier: -1.0")
        .replace(r#"ceiling: "1s""#, r#"ceiling: "5ms""#)
        .replace("window: 1", "window: 0, smoothing: 1.5");
    let spec = scenario::parse(&bad, "bad.ron").expect("parses");
    let err = validate(&spec, "bad.ron").expect_err("invalid").to_string();
    let p = "services[0].calls[0].adaptive_timeout";
    for (field, says) in [
        ("percentile", "not a percentile"),
        ("multiplier", "must be above 0"),
        ("ceiling", "below the floor"),
        ("window", "must be 1 to 10000"),
        ("smoothing", "at most 1"),
    ] {
        assert!(err.contains(&format!("{p}.{field}: ")), "{field}: {err}");
        assert!(err.contains(says), "{says}: {err}");
    }
    let typo = HAND.replace("percentile:", "percentil:");
    let err = scenario::parse(&typo, "typo.ron")
        .expect_err("unknown field")
        .to_string();
    assert!(err.contains("percentile"), "{err}");
}
