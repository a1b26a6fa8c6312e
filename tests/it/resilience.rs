//! Resilience features end to end: three scenarios of `scenarios/resilience/` (the fourth,
//! `partition.ron`, is in `links.rs`) and hand-worked mechanism checks on tiny platforms.
//!
//! - The metastable retry storm stays down without a mitigation and comes back with each
//!   of them, in every one of 20 seeds (semantics.md §4.4).
//! - The thundering herd: jitter flattens the waves of retries after an outage (§2.1).
//! - Payment phase one: duplicates without idempotency, none with it, and the breaker.
//! - Mechanisms on platforms small enough to work out by hand: with `Constant` service
//!   times and a single closed user, latencies, counts and breaker transitions are exact,
//!   so the expected numbers are derived here, independently of the simulator.
//! - The summary's shape for faults, calls and the time series (contract.md).
//!
//! Why: these are the behaviours the resilience features exist for; a regression in any
//! of them would make the scenarios tell the wrong story while every count still adds up.

use platsim::metrics::{Outcome, ServiceSummary};
use platsim::model::ServiceId;
use platsim::report::summary_json;
use platsim::run::{run_observed, Observer};
use platsim::{model, scenario, simulate, Limits, Summary};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

// ---- helpers -----------------------------------------------------------------------------

use super::common::overrides;

#[track_caller]
fn run(text: &str, sets: &[&str]) -> Summary {
    super::common::run_scenario(text, sets)
}

fn scenario_file(name: &str) -> String {
    let path = format!("{}/scenarios/resilience/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[track_caller]
fn column(s: &Summary, name: &str) -> Vec<f64> {
    s.timeseries
        .column(name)
        .unwrap_or_else(|| panic!("no column {name:?} in {:?}", s.timeseries.columns))
}

/// Sum of `name` over the windows starting in `[from, to)`, times the window: a count.
fn count_in(s: &Summary, name: &str, from: f64, to: f64) -> f64 {
    let t = column(s, "t_s");
    let v = column(s, name);
    t.iter()
        .zip(&v)
        .filter(|(t, _)| **t >= from - 1e-9 && **t < to - 1e-9)
        .map(|(_, v)| v * s.window_s)
        .sum()
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// `arrivals = completed + rejected + in_flight` and the breakdowns, for every service.
#[track_caller]
fn books_balance(s: &Summary) {
    for (name, v) in &s.services {
        assert_eq!(
            v.arrivals,
            v.completed + v.rejected + v.in_flight,
            "{name}: arrivals"
        );
        assert_eq!(
            v.completed,
            v.ok + v.errors + v.dependency_failed + v.timeouts + v.shed + v.crashed,
            "{name}: completed"
        );
        assert_eq!(
            v.rejected,
            v.rejected_queue_full
                + v.rejected_rate_limited
                + v.rejected_concurrency_limited
                + v.rejected_unavailable,
            "{name}: rejected"
        );
    }
    for (name, w) in &s.workloads {
        assert_eq!(
            w.arrivals,
            w.ok + w.errors + w.rejected + w.timeouts + w.in_flight,
            "workload {name}"
        );
    }
}

// ---- 1. the metastable retry storm ---------------------------------------------------------

/// Goodput numbers of one run of the retry storm.
struct Storm {
    seed: u64,
    baseline: f64,
    /// Mean goodput in the last third of the run, as a share of the baseline.
    last_third: f64,
    /// Seconds after the trigger's end when the 5-window rolling mean first reaches 90% of
    /// the baseline (searched up to 60 s after the end).
    back_after: Option<f64>,
    verdict: String,
    recovered_after_s: Option<f64>,
}

fn storm(text: &str, seed: u64, mitigation: Option<&str>) -> Storm {
    let seed_set = format!("seed={seed}");
    let mut sets = vec![seed_set.as_str()];
    sets.extend(mitigation);
    let s = run(text, &sets);
    books_balance(&s);
    let fault = &s.faults[0];
    let (start, end) = (fault.start_s, fault.end_s);
    let t = column(&s, "t_s");
    let g = column(&s, "goodput_rps");
    let w = s.window_s;
    let base: Vec<f64> = (0..t.len())
        .filter(|&i| t[i] >= s.warmup_s - 1e-9 && t[i] + w <= start + 1e-9)
        .map(|i| g[i])
        .collect();
    let baseline = mean(&base);
    let tail: Vec<f64> = (0..t.len())
        .filter(|&i| t[i] >= s.duration_s * 2.0 / 3.0 - 1e-9)
        .map(|i| g[i])
        .collect();
    let back_after = (0..t.len().saturating_sub(4))
        .filter(|&i| t[i] >= end - 1e-9 && t[i] <= end + 60.0 + 1e-9)
        .find(|&i| mean(&g[i..i + 5]) >= 0.9 * baseline)
        .map(|i| t[i] - end);
    Storm {
        seed,
        baseline,
        last_third: mean(&tail) / baseline,
        back_after,
        verdict: fault.verdict.clone(),
        recovered_after_s: fault.recovered_after_s,
    }
}

fn storm_table(title: &str, rows: &[Storm]) -> String {
    let mut out = format!("{title}\nseed  baseline  last-third  back-after  verdict (after)\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{:>4}  {:>8.1}  {:>10.3}  {:>10}  {} ({:?})",
            r.seed,
            r.baseline,
            r.last_third,
            r.back_after.map_or("never".into(), |b| format!("{b:.0}s")),
            r.verdict,
            r.recovered_after_s
        );
    }
    out
}

#[test]
fn the_naive_retry_storm_is_metastable_in_every_seed() {
    let text = scenario_file("metastable-retry-storm.ron");
    let rows: Vec<Storm> = (1..=20).map(|seed| storm(&text, seed, None)).collect();
    let bad: Vec<u64> = rows
        .iter()
        .filter(|r| !(r.baseline > 70.0 && r.last_third < 0.3 && r.verdict == "metastable"))
        .map(|r| r.seed)
        .collect();
    assert!(
        bad.is_empty(),
        "seeds {bad:?} are not metastable (want last third < 30% of the baseline, verdict metastable)\n{}",
        storm_table("naive retries", &rows)
    );
}

#[test]
fn every_mitigation_ends_the_retry_storm_in_every_seed() {
    let text = scenario_file("metastable-retry-storm.ron");
    let mitigations = [
        (
            "retry budget",
            "workload.0.retry.budget=Budget(percent: 10.0, min_concurrency: 1)",
        ),
        (
            "retry throttle",
            "workload.0.retry.throttle=Throttle(max_tokens: 10.0, token_ratio: 0.1)",
        ),
        (
            "client breaker",
            r#"workload.0.breaker=Breaker(window: Count(50), min_calls: 20, wait_open: "5s", half_open_calls: 10)"#,
        ),
        ("load shedding", "services.server.queue_timeout=500ms"),
        ("no retries", "workload.0.retry.max_attempts=1"),
        // The scenario's header promises this one too.
        ("LIFO", "services.server.discipline=Lifo"),
    ];
    let mut failures = String::new();
    for (name, set) in mitigations {
        let rows: Vec<Storm> = (1..=20).map(|seed| storm(&text, seed, Some(set))).collect();
        let bad: Vec<u64> = rows
            .iter()
            .filter(|r| {
                !(r.back_after.is_some()
                    && r.verdict == "recovered"
                    && r.recovered_after_s.is_some_and(|a| a <= 60.0))
            })
            .map(|r| r.seed)
            .collect();
        if !bad.is_empty() {
            failures += &format!("{name}: seeds {bad:?} did not recover within 60 s\n");
            failures += &storm_table(&format!("{name} ({set})"), &rows);
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

// ---- 2. the thundering herd ----------------------------------------------------------------

#[test]
fn jitter_flattens_the_thundering_herd() {
    let text = scenario_file("thundering-herd.ron");
    let peak = |seed: u64, jitter: &str| -> (f64, f64) {
        let sets = [
            format!("seed={seed}"),
            format!("services.api.calls.0.retry.jitter={jitter}"),
        ];
        let s = run(&text, &[sets[0].as_str(), sets[1].as_str()]);
        let t = column(&s, "t_s");
        let db = column(&s, "db.arrivals_rps");
        t.iter()
            .zip(&db)
            .filter(|(t, _)| **t >= 70.0 - 1e-9)
            .map(|(t, r)| (*r, *t))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
    };
    let mut table = String::from("seed  none (at)        full      equal     decorrelated\n");
    let mut ok = true;
    for seed in 1..=5 {
        let none = peak(seed, "None");
        let full = peak(seed, "Full");
        let equal = peak(seed, "Equal");
        let decorrelated = peak(seed, "Decorrelated");
        let _ = writeln!(
            table,
            "{seed:>4}  {:>6.0} ({:>5.1})  {:>8.0}  {:>8.0}  {:>8.0}",
            none.0, none.1, full.0, equal.0, decorrelated.0
        );
        ok &= full.0 <= none.0 / 2.0 && equal.0 < none.0 && decorrelated.0 < none.0;
        // The herd is there to flatten: its peak is far above the database's capacity.
        ok &= none.0 > 1_000.0;
    }
    assert!(
        ok,
        "peak db arrivals/s after the outage (t >= 70 s): full jitter must halve the no-jitter peak, equal and decorrelated stay below it\n{table}"
    );
    // The numbers the scenario's header quotes for seed 1.
    let (none, full) = (peak(1, "None"), peak(1, "Full"));
    assert!(
        none.0 == 4190.0 && (none.1 - 75.4).abs() < 1e-9 && full.0 == 1230.0 && full.0 < none.0 / 3.0,
        "thundering-herd.ron says seed 1 peaks at 4190/s (t = 75.4 s) without jitter and 1230/s with full jitter (under a third); the run gives {none:?} and {full:?}: update the header"
    );
}

// ---- 3. payment phase one ------------------------------------------------------------------

#[test]
fn payment_phase_one_duplicates_without_idempotency_and_the_breaker_opens() {
    let text = scenario_file("payment-phase1.ron");
    let plain = run(&text, &[]);
    let keyed = run(&text, &["services.payment.idempotent=true"]);
    books_balance(&plain);
    books_balance(&keyed);
    let (p, k) = (&plain.services["payment"], &keyed.services["payment"]);
    assert!(
        p.duplicate_side_effects > 0 && p.deduplicated == 0,
        "without idempotency: duplicates {} deduplicated {}",
        p.duplicate_side_effects,
        p.deduplicated
    );
    assert_eq!(k.duplicate_side_effects, 0, "idempotent: no duplicates");
    assert_eq!(
        k.deduplicated, p.duplicate_side_effects,
        "idempotent: what were duplicates are deduplicated"
    );
    assert_eq!(
        k.side_effects, p.side_effects,
        "same seed, same draws: the same first charges"
    );
    // Idempotency changes the bookkeeping of charges, not the run.
    assert_eq!(
        (p.arrivals, p.ok, p.errors, p.timeouts),
        (k.arrivals, k.ok, k.errors, k.timeouts)
    );

    let call = &plain.calls["checkout->payment"];
    let breaker = call.breaker.as_ref().expect("the edge has a breaker");
    assert!(
        breaker.opened >= 1 && breaker.open_s > 0.0 && call.breaker_rejected > 0,
        "breaker: opened {} open_s {} rejected {}",
        breaker.opened,
        breaker.open_s,
        call.breaker_rejected
    );
    // It opens during the error fault (5 min to 6 min), not before.
    let first_open = breaker
        .transitions
        .iter()
        .find(|t| t.state == "OPEN")
        .expect("an OPEN transition");
    assert!(
        (300.0..360.0).contains(&first_open.t_s),
        "first opened at {} s",
        first_open.t_s
    );
    assert_eq!(plain.faults.len(), 1);
    assert!(
        ["recovered", "metastable", "not_applicable"].contains(&plain.faults[0].verdict.as_str()),
        "verdict {:?}",
        plain.faults[0].verdict
    );
    assert!(call.retries > 0 && call.attempts == call.calls + call.retries);
    close(
        call.amplification,
        call.attempts as f64 / call.calls as f64,
        "amplification = attempts / calls",
    );
    assert!(
        call.amplification > 1.0,
        "amplification {}",
        call.amplification
    );
    assert!(call.ok + call.failed <= call.calls);
}

// ---- 4. mechanisms, by hand ----------------------------------------------------------------

/// `front` (Constant 1 ms, plenty of servers) calls `back` (Constant 10 ms, always failing)
/// with `retry`; clients stop sending at 8 s so every call has ended by 10 s.
fn failing_backend(retry: &str) -> String {
    format!(
        r#"Scenario(name: "retry", seed: 3, duration: "10s", window: "1s",
    services: [
        Service(name: "front", concurrency: 100, service_time: Constant("1ms"),
                calls: [Call(to: "back", retry: Some({retry}))]),
        Service(name: "back", concurrency: 100, service_time: Constant("10ms"), error_rate: 1.0),
    ],
    workload: [Open(target: "front", rate: 5.0, schedule: [Step(at: "8s", rate: 0.0)])],
)"#
    )
}

#[test]
fn constant_backoff_makes_exactly_max_attempts_at_fixed_times() {
    let s = run(
        &failing_backend(r#"Retry(max_attempts: 3, backoff: Constant("100ms"))"#),
        &[],
    );
    books_balance(&s);
    let call = &s.calls["front->back"];
    let (front, back) = (&s.services["front"], &s.services["back"]);
    let n = front.arrivals;
    assert!(n > 20, "only {n} requests");
    assert_eq!(front.in_flight, 0);
    assert_eq!(call.calls, n);
    assert_eq!(call.attempts, 3 * call.calls, "every call makes 3 attempts");
    assert_eq!(call.retries, 2 * n);
    assert_eq!(call.attempt_errors, 3 * n);
    assert_eq!(call.failed, n);
    close(call.amplification, 3.0, "amplification");
    assert_eq!((back.arrivals, back.errors), (3 * n, 3 * n));
    assert_eq!(front.dependency_failed, n);
    // 1 ms own work, then 10 + 100 + 10 + 100 + 10 ms of attempts and backoffs.
    let want = 1.0 + 10.0 + 100.0 + 10.0 + 100.0 + 10.0;
    close(front.sojourn_ms.max, want, "front sojourn max");
    close(front.sojourn_ms.mean, want, "front sojourn mean");
    assert_eq!(s.workloads["front"].errors, n);
}

#[test]
fn exponential_backoff_without_jitter_follows_the_capped_formula() {
    // base × multiplier^(k-1), capped, before retry k.
    for (backoff, base, mult, cap) in [
        (
            r#"Exponential(base: "50ms", multiplier: 2.0, cap: "300ms")"#,
            50.0,
            2.0,
            300.0,
        ),
        (
            r#"Exponential(base: "20ms", multiplier: 3.0, cap: "500ms")"#,
            20.0,
            3.0,
            500.0,
        ),
    ] {
        let text = failing_backend(&format!("Retry(max_attempts: 1, backoff: {backoff})"));
        for attempts in 1..=7u32 {
            let set = format!("services.front.calls.0.retry.max_attempts={attempts}");
            let s = run(&text, &[set.as_str()]);
            let sleeps: f64 = (1..attempts)
                .map(|k| (base * f64::powi(mult, k as i32 - 1)).min(cap))
                .sum();
            let want = 1.0 + 10.0 * attempts as f64 + sleeps;
            let front = &s.services["front"];
            close(
                front.sojourn_ms.max,
                want,
                &format!("{backoff}, {attempts} attempts: sojourn max"),
            );
            close(
                front.sojourn_ms.mean,
                want,
                &format!("{backoff}, {attempts} attempts: sojourn mean"),
            );
            let call = &s.calls["front->back"];
            assert_eq!(call.attempts, attempts as u64 * call.calls);
        }
    }
}

#[test]
fn a_call_timeout_fails_the_caller_but_the_callee_works_on() {
    let text = r#"Scenario(name: "timeout", seed: 5, duration: "20s", window: "1s",
    services: [
        Service(name: "front", concurrency: 1000, service_time: Constant("1ms"),
                calls: [Call(to: "back", timeout: Some("500ms"))]),
        Service(name: "back", concurrency: 1000, service_time: Constant("2s")),
    ],
    workload: [Open(target: "front", rate: 2.0, schedule: [Step(at: "15s", rate: 0.0)])],
)"#;
    let with = run(text, &[]);
    let without = run(text, &["services.front.calls.0.timeout=None"]);
    books_balance(&with);
    let (front, back) = (&with.services["front"], &with.services["back"]);
    let n = front.arrivals;
    assert!(n > 10, "only {n} requests");
    assert_eq!(front.dependency_failed, n, "every caller fails");
    close(
        front.sojourn_ms.max,
        501.0,
        "caller waits 1 ms + the 500 ms timeout",
    );
    close(front.sojourn_ms.mean, 501.0, "caller sojourn mean");
    assert_eq!(with.calls["front->back"].attempt_timeouts, n);
    assert_eq!(back.arrivals, n);
    assert_eq!(
        back.timeouts, n,
        "the callee finished every request for nobody"
    );
    assert_eq!(back.ok, 0);
    close(back.sojourn_ms.max, 2000.0, "the callee still takes 2 s");
    // Wasted work: the callee was exactly as busy as when the caller waits for it.
    let b0 = &without.services["back"];
    assert_eq!(b0.ok, n);
    close(back.utilization, b0.utilization, "callee utilization");
    close(
        back.utilization,
        n as f64 * 2.0 / (1000.0 * 20.0),
        "callee utilization by hand",
    );
}

/// `front` calls `back` (Constant 100 ms, 10 servers) through a bulkhead of 2 at 100/s.
const BULKHEAD: &str = r#"Scenario(name: "bulkhead", seed: 9, duration: "20s", window: "100ms",
    services: [
        Service(name: "front", concurrency: 500, service_time: Constant("1ms"),
                calls: [Call(to: "back", bulkhead: Some(Bulkhead(max_concurrent: 2, max_wait: "0s")))]),
        Service(name: "back", concurrency: 10, service_time: Constant("100ms")),
    ],
    workload: [Open(target: "front", rate: 100.0)],
)"#;

/// Never more than `max_concurrent` calls at the callee, and the books of the edge.
#[track_caller]
fn bulkhead_holds(s: &Summary, what: &str) {
    books_balance(s);
    let call = &s.calls["front->back"];
    let back = &s.services["back"];
    assert!(call.bulkhead_rejected > 0, "{what}: nothing rejected");
    assert_eq!(call.attempt_rejected, call.bulkhead_rejected, "{what}");
    // Attempts still waiting for a permit when the run ends are neither.
    let settled = back.arrivals + call.bulkhead_rejected;
    assert!(
        call.attempts >= settled && call.attempts - settled <= s.services["front"].in_flight,
        "{what}: attempts {} vs arrivals {} + rejected {}",
        call.attempts,
        back.arrivals,
        call.bulkhead_rejected
    );
    assert!(
        back.mean_in_system <= 2.0 + 1e-9,
        "{what}: {}",
        back.mean_in_system
    );
    assert!(back.mean_in_system > 1.5, "{what}: {}", back.mean_in_system);
    for col in ["back.in_system", "back.busy"] {
        let most = column(s, col).into_iter().fold(0.0, f64::max);
        assert!(most <= 2.0 + 1e-9, "{what}: {col} reached {most}");
    }
    assert_eq!(
        back.wait_ms.max, 0.0,
        "{what}: back never queues with 10 servers"
    );
}

#[test]
fn a_bulkhead_bounds_calls_in_flight_on_its_edge() {
    let s = run(BULKHEAD, &[]);
    bulkhead_holds(&s, "max_wait 0s");
    close(
        s.services["front"].sojourn_ms.max,
        101.0,
        "no waiting for a permit: 1 + 100 ms at most",
    );
}

/// A caller that waits for a permit and gets one before `max_wait` must not be timed out
/// by its (stale) bulkhead timer while its call is in flight.
#[test]
fn a_bulkhead_waiter_that_gets_a_permit_keeps_it() {
    let set = r#"services.front.calls.0.bulkhead.max_wait="50ms""#;
    let result = std::panic::catch_unwind(|| {
        simulate(BULKHEAD, "bulkhead", &overrides(&[set]), Limits::default())
    });
    let s = match result {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => panic!("the run failed: {e}"),
        Err(_) => panic!("the run panicked (see above)"),
    };
    bulkhead_holds(&s, "max_wait 50ms");
    // A caller waits at most 50 ms for a permit, then holds it for the 100 ms call.
    let front = &s.services["front"];
    assert!(
        front.sojourn_ms.max <= 151.0 + 1e-9 && front.sojourn_ms.max > 101.0,
        "front sojourn max {}",
        front.sojourn_ms.max
    );
}

#[test]
fn a_rate_limit_passes_its_rate_and_counts_the_rest() {
    let text = r#"Scenario(name: "ratelimit", seed: 2, duration: "60s", window: "1s",
    services: [
        Service(name: "s", concurrency: 10, service_time: Constant("1ms"),
                rate_limit: Some(RateLimit(rate: 10.0, burst: 1))),
    ],
    workload: [Open(target: "s", rate: 100.0)],
)"#;
    let s = run(text, &[]);
    books_balance(&s);
    let v = &s.services["s"];
    assert_eq!(v.arrivals, v.ok + v.rejected + v.in_flight);
    assert_eq!(v.rejected, v.rejected_rate_limited);
    assert!(v.ok <= 1 + 10 * 60, "ok {} above burst + rate x time", v.ok);
    // With a bucket of one token, a token waits for the next arrival (1/100 s on average)
    // before it is spent and the bucket refills again: 1 / (1/10 + 1/100) per second.
    let want = 1.0 / (1.0 / 10.0 + 1.0 / 100.0);
    let got = v.ok as f64 / 60.0;
    assert!(
        (got - want).abs() < 0.05 * want,
        "accepted {got}/s, want about {want}/s"
    );
    assert_eq!(s.workloads["s"].rejected, v.rejected);

    // A bucket of 20 never fills up under this load: every token is used.
    let s = run(
        text,
        &["services.s.rate_limit=RateLimit(rate: 10.0, burst: 20)"],
    );
    let v = &s.services["s"];
    assert!(
        (615..=620).contains(&v.ok),
        "burst 20 + 10/s x 60 s: accepted {}",
        v.ok
    );
    assert_eq!(v.rejected, v.rejected_rate_limited);
    assert_eq!(v.arrivals, v.ok + v.rejected + v.in_flight);
}

#[test]
fn a_queue_timeout_sheds_and_nobody_served_waited_longer() {
    let text = r#"Scenario(name: "shed", seed: 4, duration: "30s", window: "1s",
    services: [
        Service(name: "s", service_time: Constant("10ms"), queue_timeout: Some("50ms")),
    ],
    workload: [Open(target: "s", rate: 150.0)],
)"#;
    let s = run(text, &[]);
    books_balance(&s);
    let v = &s.services["s"];
    assert!(v.shed > 0);
    assert!(
        v.wait_ms.max <= 50.0 + 1e-9,
        "a served request waited {} ms",
        v.wait_ms.max
    );
    assert!(v.wait_ms.max > 40.0, "the timeout is reached");
    assert!(v.sojourn_ms.max <= 60.0 + 1e-9);
    // The server never idles while requests wait: it serves its capacity.
    let rate = v.ok as f64 / 30.0;
    assert!((97.0..=100.5).contains(&rate), "served {rate}/s");
    let wl = &s.workloads["s"];
    assert_eq!(
        wl.rejected, v.shed,
        "a shed request is a rejection to its client"
    );
}

#[test]
fn lifo_keeps_goodput_through_an_overload_fifo_does_not() {
    let text = r#"Scenario(name: "lifo", seed: 6, duration: "60s", window: "1s",
    services: [Service(name: "s", service_time: Constant("10ms"))],
    workload: [Open(target: "s", rate: 150.0, timeout: Some("200ms"),
                    schedule: [Step(at: "20s", rate: 50.0)])],
)"#;
    let goodput =
        |s: &Summary, from: f64, to: f64| count_in(s, "goodput_rps", from, to) / (to - from);
    let fifo = run(text, &[]);
    let lifo = run(text, &["services.s.discipline=Lifo"]);
    let adaptive = run(text, &["services.s.discipline=AdaptiveLifo"]);
    let table = format!(
        "goodput/s      overload [2,20)  drain [20,40)  after [45,60)  ok\nFIFO           {:>15.1}  {:>13.1}  {:>13.1}  {}\nLIFO           {:>15.1}  {:>13.1}  {:>13.1}  {}\nAdaptiveLIFO   {:>15.1}  {:>13.1}  {:>13.1}  {}",
        goodput(&fifo, 2.0, 20.0), goodput(&fifo, 20.0, 40.0), goodput(&fifo, 45.0, 60.0), fifo.workloads["s"].ok,
        goodput(&lifo, 2.0, 20.0), goodput(&lifo, 20.0, 40.0), goodput(&lifo, 45.0, 60.0), lifo.workloads["s"].ok,
        goodput(&adaptive, 2.0, 20.0), goodput(&adaptive, 20.0, 40.0), goodput(&adaptive, 45.0, 60.0), adaptive.workloads["s"].ok,
    );
    // FIFO: everyone waits behind the backlog, so every answer comes too late.
    assert!(goodput(&fifo, 2.0, 20.0) < 5.0, "{table}");
    // LIFO: the newest requests, whose clients still wait, are served at capacity.
    assert!(goodput(&lifo, 2.0, 20.0) > 90.0, "{table}");
    assert!(goodput(&adaptive, 2.0, 20.0) > 90.0, "{table}");
    // Afterwards, the backlog keeps FIFO down while LIFO serves the new load at once.
    assert!(goodput(&lifo, 20.0, 40.0) > 45.0, "{table}");
    assert!(
        goodput(&fifo, 20.0, 40.0) < goodput(&lifo, 20.0, 40.0) / 2.0,
        "{table}"
    );
    assert!(
        lifo.workloads["s"].ok > 2 * fifo.workloads["s"].ok,
        "{table}"
    );
    // Same arrivals in every run: only which requests time out changed.
    assert_eq!(fifo.workloads["s"].arrivals, lifo.workloads["s"].arrivals);
    assert_eq!(fifo.services["s"].arrivals, lifo.services["s"].arrivals);
}

/// One service `s`, Constant 1 s, 100 servers per replica, 20 arrivals per second; a crash
/// at 5 s for 2 s.
fn crash_platform(replicas: u32, crashed: &str) -> String {
    format!(
        r#"Scenario(name: "crash", seed: 8, duration: "20s", window: "1s",
    services: [Service(name: "s", replicas: {replicas}, concurrency: 100, service_time: Constant("1s"))],
    workload: [Open(target: "s", rate: 20.0)],
    faults: [Crash(target: "s", at: "5s", duration: "2s"{crashed})],
)"#
    )
}

#[test]
fn a_crash_loses_what_the_replica_holds_and_refuses_arrivals_until_it_ends() {
    let s = run(&crash_platform(1, ""), &[]);
    books_balance(&s);
    let v = &s.services["s"];
    let arrivals = column(&s, "s.arrivals_rps");
    let ok = column(&s, "s.ok_rps");
    // With a constant 1 s and no waiting, the requests held at 5 s arrived in [4, 5).
    assert!(v.crashed > 0);
    assert_eq!(
        v.crashed as f64, arrivals[4],
        "crashed = arrivals in [4 s, 5 s)"
    );
    let during = arrivals[5] + arrivals[6];
    assert!(during > 0.0);
    assert_eq!(
        v.rejected_unavailable as f64, during,
        "arrivals in [5 s, 7 s) are refused"
    );
    assert_eq!(v.rejected, v.rejected_unavailable);
    let wl = &s.workloads["s"];
    assert_eq!(wl.errors, v.crashed, "a crash is an error to the client");
    assert_eq!(wl.rejected, v.rejected_unavailable);
    // Nothing is answered while it is down; afterwards every window answers what arrived
    // one window earlier.
    assert_eq!((ok[5], ok[6], ok[7]), (0.0, 0.0, 0.0));
    for t in 8..20 {
        assert_eq!(
            ok[t],
            arrivals[t - 1],
            "window {t}: ok vs arrivals a second earlier"
        );
    }
    assert_eq!(v.in_flight as f64, arrivals[19]);
}

#[test]
fn a_crash_of_one_replica_moves_its_traffic_to_the_other() {
    let s = run(&crash_platform(2, ", replicas: Some(1)"), &[]);
    books_balance(&s);
    let v = &s.services["s"];
    let arrivals = column(&s, "s.arrivals_rps");
    let ok = column(&s, "s.ok_rps");
    assert_eq!(v.rejected, 0, "the other replica is up");
    assert_eq!(v.rejected_unavailable, 0);
    assert!(
        v.crashed > 0 && (v.crashed as f64) < arrivals[4],
        "about half of [4 s, 5 s) is lost"
    );
    assert_eq!(ok[5] + v.crashed as f64, arrivals[4]);
    for t in 6..20 {
        assert_eq!(
            ok[t],
            arrivals[t - 1],
            "window {t}: ok vs arrivals a second earlier"
        );
    }
    assert_eq!(v.ok + v.crashed + v.in_flight, v.arrivals);
}

/// A single closed user with a constant think time against a single service with a constant
/// service time, worked out by hand: `service(start)` gives when a request started at
/// `start` finishes and whether it fails. Times in microseconds. Returns the (start, end,
/// failed) of every request that ended before `duration`, and the number sent.
fn one_user(
    think: u64,
    duration: u64,
    service: impl Fn(u64) -> (u64, bool),
) -> (Vec<(u64, u64, bool)>, u64) {
    let (mut done, mut sent, mut t) = (Vec::new(), 0, think);
    while t < duration {
        sent += 1;
        let (end, failed) = service(t);
        if end >= duration {
            break;
        }
        done.push((t, end, failed));
        t = end + think;
    }
    (done, sent)
}

/// The single-user platform: think 1 s, service Constant 300 ms, 20 s, and `fault`.
fn one_user_platform(fault: &str) -> String {
    format!(
        r#"Scenario(name: "one-user", seed: 1, duration: "20s", window: "1s",
    services: [Service(name: "s", service_time: Constant("300ms"))],
    workload: [Closed(target: "s", users: 1, think_time: Constant("1s"))],
    faults: [{fault}],
)"#
    )
}

const MS: u64 = 1_000;
const S: u64 = 1_000_000;

/// The run matches the hand-worked timeline: counts, and the latency of successes.
#[track_caller]
fn matches_timeline(s: &Summary, timeline: &(Vec<(u64, u64, bool)>, u64), what: &str) {
    let (done, sent) = timeline;
    let wl = &s.workloads["s"];
    let ok: Vec<u64> = done.iter().filter(|d| !d.2).map(|d| d.1 - d.0).collect();
    let errors = done.iter().filter(|d| d.2).count() as u64;
    assert_eq!(wl.arrivals, *sent, "{what}: sent");
    assert_eq!(wl.ok, ok.len() as u64, "{what}: ok");
    assert_eq!(wl.errors, errors, "{what}: errors");
    assert_eq!(wl.in_flight, sent - done.len() as u64, "{what}: in flight");
    let max = ok.iter().copied().max().unwrap_or(0) as f64 / 1e3;
    let mean_ms = ok.iter().sum::<u64>() as f64 / ok.len() as f64 / 1e3;
    close(wl.latency_ms.max, max, &format!("{what}: latency max"));
    close(
        wl.latency_ms.mean,
        mean_ms,
        &format!("{what}: latency mean"),
    );
}

#[test]
fn a_pause_delays_the_request_in_service_by_exactly_its_length() {
    // Sends at 1.0, 2.3, 3.6 s...; the one started at 3.6 s is in service when the pause
    // starts at 3.7 s, and finishes 500 ms late, at 4.4 s.
    let s = run(
        &one_user_platform(r#"Pause(target: "s", at: "3.7s", duration: "500ms")"#),
        &[],
    );
    let (p0, p1) = (3_700 * MS, 4_200 * MS);
    let timeline = one_user(S, 20 * S, |t| {
        let end = t + 300 * MS;
        if t < p0 && end > p0 {
            (end + (p1 - p0), false)
        } else if (p0..p1).contains(&t) {
            (p1 + 300 * MS, false)
        } else {
            (end, false)
        }
    });
    assert!(timeline
        .0
        .iter()
        .any(|d| d.0 == 3_600 * MS && d.1 == 4_400 * MS));
    matches_timeline(&s, &timeline, "pause");
    close(
        s.workloads["s"].latency_ms.max,
        800.0,
        "300 ms + the 500 ms pause",
    );
    close(s.services["s"].sojourn_ms.max, 800.0, "service sojourn max");
    // A pause that starts while the user thinks changes nothing: 1.3 s to 2.2 s.
    let s = run(
        &one_user_platform(r#"Pause(target: "s", at: "1.35s", duration: "500ms")"#),
        &[],
    );
    close(s.workloads["s"].latency_ms.max, 300.0, "pause while idle");
}

#[test]
fn latency_errors_and_capacity_faults_act_on_their_window_exactly() {
    let (a, b) = (3 * S, 7 * S);
    let during = |t: u64| (a..b).contains(&t);

    let s = run(
        &one_user_platform(
            r#"Latency(target: "s", at: "3s", duration: "4s", add: Constant("50ms"))"#,
        ),
        &[],
    );
    let timeline = one_user(S, 20 * S, |t| {
        (t + 300 * MS + if during(t) { 50 * MS } else { 0 }, false)
    });
    assert!(timeline.0.iter().filter(|d| during(d.0)).count() >= 3);
    matches_timeline(&s, &timeline, "latency +50ms");
    close(s.workloads["s"].latency_ms.max, 350.0, "latency fault");

    let s = run(
        &one_user_platform(r#"Capacity(target: "s", at: "3s", duration: "4s", factor: 0.5)"#),
        &[],
    );
    let timeline = one_user(S, 20 * S, |t| {
        (t + if during(t) { 600 * MS } else { 300 * MS }, false)
    });
    matches_timeline(&s, &timeline, "capacity x0.5");
    close(
        s.workloads["s"].latency_ms.max,
        600.0,
        "half speed doubles 300 ms",
    );

    // Errors are drawn when the service time ends: requests finishing in the window fail.
    let s = run(
        &one_user_platform(r#"Errors(target: "s", at: "3s", duration: "4s", rate: 1.0)"#),
        &[],
    );
    let timeline = one_user(S, 20 * S, |t| (t + 300 * MS, during(t + 300 * MS)));
    assert!(timeline.0.iter().filter(|d| d.2).count() >= 3);
    matches_timeline(&s, &timeline, "errors 100%");
    assert_eq!(s.services["s"].errors, s.workloads["s"].errors);
}

#[test]
fn a_spike_adds_its_arrivals_in_its_window_only() {
    let text = r#"Scenario(name: "spike", seed: 12, duration: "30s", window: "1s",
    services: [Service(name: "s", concurrency: 100, service_time: Constant("1ms"))],
    workload: [Open(target: "s", rate: 10.0)],
    faults: [Spike(target: "s", at: "10s", duration: "10s", rate: 50.0)],
)"#;
    let spiked = run(text, &[]);
    let calm = run(text, &["faults=[]"]);
    let extra = spiked.workloads["s"].arrivals as f64 - calm.workloads["s"].arrivals as f64;
    // Poisson(500): 4.5 standard deviations either way.
    assert!((400.0..=600.0).contains(&extra), "{extra} extra arrivals");
    let (a, b) = (
        column(&spiked, "arrivals_rps"),
        column(&calm, "arrivals_rps"),
    );
    for t in 0..30 {
        if !(10..20).contains(&t) && t < 29 {
            assert_eq!(a[t], b[t], "window {t}: arrivals outside the spike");
        }
    }
    let inside: f64 = (10..20).map(|t| a[t] - b[t]).sum();
    assert_eq!(inside, extra);
    assert_eq!(
        spiked.services["s"].arrivals,
        spiked.workloads["s"].arrivals
    );
}

/// A spike adds open arrivals to a closed workload for its duration; when it ends, the
/// closed population is what it was.
#[test]
fn a_spike_at_a_closed_workload_ends_with_the_spike() {
    let text = r#"Scenario(name: "spike-closed", seed: 1, duration: "20s", window: "1s",
    services: [Service(name: "s", concurrency: 100, service_time: Constant("1ms"))],
    workload: [Closed(target: "s", users: 2, think_time: Constant("1s"))],
    faults: [Spike(target: "s", at: "2s", duration: "1s", rate: 20.0)],
)"#;
    let s = run(text, &[]);
    let during = count_in(&s, "arrivals_rps", 2.0, 3.0);
    assert!(during > 10.0, "{during} arrivals during the spike");
    // Two users, each sending about once per 1.001 s.
    let after = count_in(&s, "arrivals_rps", 5.0, 20.0) / 15.0;
    assert!(
        after <= 2.5,
        "{after} arrivals/s after the spike; 2 users send about 2/s"
    );
    assert!(
        s.workloads["s"].in_flight <= 2,
        "in flight {}",
        s.workloads["s"].in_flight
    );
}

#[test]
fn an_outage_crashes_every_service_then_traffic_flows_again() {
    let text = r#"Scenario(name: "outage", seed: 14, duration: "20s", window: "1s",
    services: [
        Service(name: "front", concurrency: 100, service_time: Constant("10ms"),
                calls: [Call(to: "back")]),
        Service(name: "back", concurrency: 100, service_time: Constant("1s")),
    ],
    workload: [Open(target: "front", rate: 20.0)],
    faults: [Outage(at: "5s", duration: "2s")],
)"#;
    let s = run(text, &[]);
    books_balance(&s);
    let (front, back) = (&s.services["front"], &s.services["back"]);
    assert!(front.crashed > 0, "front held requests at 5 s");
    assert!(back.crashed > 0, "back held requests at 5 s");
    let refused = count_in(&s, "front.arrivals_rps", 5.0, 7.0);
    assert!(refused > 0.0);
    assert_eq!(front.rejected_unavailable as f64, refused);
    assert_eq!(count_in(&s, "back.arrivals_rps", 5.0, 7.0), 0.0);
    assert_eq!(count_in(&s, "goodput_rps", 5.0, 7.0), 0.0);
    let after = count_in(&s, "goodput_rps", 9.0, 20.0) / 11.0;
    assert!(
        (14.0..=26.0).contains(&after),
        "goodput {after}/s after the outage"
    );
    assert_eq!(s.faults[0].target, None);
}

/// A single user calling, through `front`, a `back` that always fails, behind a breaker:
/// the hand-worked Resilience4j state machine.
#[test]
fn a_breaker_opens_at_the_tenth_failure_and_probes_after_wait_open() {
    let text = r#"Scenario(name: "breaker", seed: 1, duration: "10s", window: "1s",
    services: [
        Service(name: "front", service_time: Constant("1ms"),
                calls: [Call(to: "back", breaker: Some(Breaker(window: Count(10), failure_rate: 50.0,
                        min_calls: 10, wait_open: "1s", half_open_calls: 2)))]),
        Service(name: "back", service_time: Constant("10ms"), error_rate: 1.0),
    ],
    workload: [Closed(target: "front", users: 1, think_time: Constant("100ms"))],
)"#;
    let s = run(text, &[]);
    // By hand, in microseconds: the user sends, front works 1 ms, then calls; a permitted
    // call fails 10 ms later, a rejected one at once; the user thinks 100 ms and sends again.
    #[derive(PartialEq, Debug, Clone, Copy)]
    enum St {
        Closed,
        Open,
        HalfOpen,
    }
    let (end, think, front_t, back_t, wait) = (10 * S, 100 * MS, MS, 10 * MS, S);
    let (mut state, mut failures, mut opened_at, mut trials_sent, mut trial_results) =
        (St::Closed, 0, 0, 0, 0);
    let (mut transitions, mut rejected, mut calls, mut t) = (Vec::new(), 0u64, 0u64, think);
    while t < end {
        let call_at = t + front_t;
        if call_at >= end {
            break;
        }
        calls += 1;
        if state == St::Open && call_at > opened_at + wait {
            state = St::HalfOpen;
            transitions.push((call_at, "HALF_OPEN"));
            (trials_sent, trial_results) = (0, 0);
        }
        let permitted = match state {
            St::Closed => true,
            St::Open => false,
            St::HalfOpen => {
                trials_sent += 1;
                trials_sent <= 2
            }
        };
        let answer = if permitted { call_at + back_t } else { call_at };
        if !permitted {
            rejected += 1;
        } else if answer < end {
            match state {
                St::Closed => {
                    failures += 1;
                    if failures >= 10 {
                        state = St::Open;
                        opened_at = answer;
                        transitions.push((answer, "OPEN"));
                    }
                }
                St::HalfOpen => {
                    trial_results += 1;
                    if trial_results == 2 {
                        state = St::Open;
                        opened_at = answer;
                        transitions.push((answer, "OPEN"));
                    }
                }
                St::Open => {}
            }
        }
        t = answer + think;
    }
    let call = &s.calls["front->back"];
    let b = call.breaker.as_ref().expect("breaker summary");
    let got: Vec<(f64, &str)> = b
        .transitions
        .iter()
        .map(|t| (t.t_s, t.state.as_str()))
        .collect();
    let want: Vec<(f64, &str)> = transitions
        .iter()
        .map(|(t, s)| (*t as f64 / 1e6, *s))
        .collect();
    assert_eq!(
        got.len(),
        want.len(),
        "transitions\n got {got:?}\nwant {want:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g.0 - w.0).abs() < 1e-9 && g.1 == w.1,
            "transitions\n got {got:?}\nwant {want:?}"
        );
    }
    // The 10th call fails at 0.1 + 9 x 0.111 + 0.011 s.
    assert_eq!(want[0], (1.110, "OPEN"));
    assert_eq!(call.calls, calls);
    assert_eq!(call.breaker_rejected, rejected, "calls made while open");
    assert_eq!(
        b.opened,
        transitions.iter().filter(|t| t.1 == "OPEN").count() as u64
    );
    // Open from each OPEN to the next HALF_OPEN, and from the last OPEN to the end.
    let mut open_us = 0;
    for pair in transitions.windows(2) {
        if pair[0].1 == "OPEN" {
            open_us += pair[1].0 - pair[0].0;
        }
    }
    if let Some(last) = transitions.last().filter(|t| t.1 == "OPEN") {
        open_us += end - last.0;
    }
    close(b.open_s, open_us as f64 / 1e6, "open_s");
    // Open all the time after 1.11 s but for the half-open probes (two calls of 11 ms
    // plus a 100 ms think between them, each time).
    let probes = transitions.iter().filter(|t| t.1 == "HALF_OPEN").count() as f64;
    assert!(
        b.open_s >= 10.0 - 1.110 - probes * 0.123 - 1e-9,
        "open_s {} with {probes} probes",
        b.open_s
    );
}

#[test]
fn client_retries_with_a_client_timeout_double_the_attempts() {
    let text = r#"Scenario(name: "client-retry", seed: 21, duration: "20s", window: "1s",
    services: [Service(name: "s", concurrency: 1000, service_time: Constant("1s"))],
    workload: [Open(target: "s", rate: 10.0, timeout: Some("100ms"),
                    retry: Some(Retry(max_attempts: 2, backoff: None)),
                    schedule: [Step(at: "15s", rate: 0.0)])],
)"#;
    let s = run(text, &[]);
    books_balance(&s);
    let (wl, v) = (&s.workloads["s"], &s.services["s"]);
    let n = wl.arrivals;
    assert!(n > 50);
    assert_eq!(wl.attempts, 2 * n);
    assert_eq!(wl.retries, n);
    close(wl.amplification, 2.0, "amplification");
    assert_eq!((wl.timeouts, wl.ok, wl.in_flight), (n, 0, 0));
    close(wl.latency_ms.max, 0.0, "no successes");
    assert_eq!(v.arrivals, 2 * n);
    assert_eq!(v.timeouts, 2 * n, "every attempt finished for nobody");
}

// ---- observed outcomes agree with the summary ------------------------------------------------

/// Counts the outcomes the run reports through its observer, per service.
#[derive(Default)]
struct Outcomes(HashMap<(u32, Outcome), u64>);

impl Observer for Outcomes {
    fn outcome(&mut self, _now: platsim::engine::SimTime, s: ServiceId, _uid: u64, o: Outcome) {
        *self.0.entry((s.0, o)).or_default() += 1;
    }
}

fn observed(text: &str) -> (Summary, Outcomes, Vec<String>) {
    let spec = scenario::parse(text, "obs").expect("parses");
    let platform = model::validate(&spec, "obs").expect("valid");
    let mut o = Outcomes::default();
    let s = run_observed(&platform, Limits::default(), &mut o).expect("runs");
    let names = platform.services.iter().map(|s| s.name.clone()).collect();
    (s, o, names)
}

fn mismatches(s: &Summary, o: &Outcomes, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let v: &ServiceSummary = &s.services[name];
        let get = |k: Outcome| o.0.get(&(i as u32, k)).copied().unwrap_or(0);
        for (k, want) in [
            (Outcome::Ok, v.ok),
            (Outcome::Error, v.errors),
            (Outcome::DependencyFailed, v.dependency_failed),
            (Outcome::Timeout, v.timeouts),
            (Outcome::Shed, v.shed),
            (Outcome::Crashed, v.crashed),
            (Outcome::Rejected, v.rejected),
        ] {
            if get(k) != want {
                out.push(format!(
                    "{name}: observer saw {} {k:?}, summary counts {want}",
                    get(k)
                ));
            }
        }
    }
    out
}

/// A request whose client gave up while it waited, then shed by the queue timeout: the
/// summary counts it `shed`, and the observer must be told the same.
#[test]
fn abandoned_requests_that_are_shed_or_crashed_are_reported_as_counted() {
    let shed = r#"Scenario(name: "shed-abandoned", seed: 1, duration: "20s",
    services: [Service(name: "s", service_time: Constant("1s"), queue_timeout: Some("500ms"))],
    workload: [Open(target: "s", rate: 5.0, timeout: Some("100ms"))],
)"#;
    let crash = r#"Scenario(name: "crash-abandoned", seed: 1, duration: "20s",
    services: [Service(name: "s", concurrency: 100, service_time: Constant("1s"))],
    workload: [Open(target: "s", rate: 20.0, timeout: Some("100ms"))],
    faults: [Crash(target: "s", at: "5s", duration: "1s")],
)"#;
    let mut problems = Vec::new();
    for text in [shed, crash] {
        let (s, o, names) = observed(text);
        problems.extend(mismatches(&s, &o, &names));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- 5. the summary's shape ----------------------------------------------------------------

#[test]
fn summary_json_has_the_pinned_fault_call_and_series_shapes() {
    let storm = scenario_file("metastable-retry-storm.ron");
    let runs = [
        run(&storm, &[]),
        run(
            &storm,
            &[
                r#"workload.0.breaker=Breaker(window: Count(50), min_calls: 20, wait_open: "5s", half_open_calls: 10)"#,
            ],
        ),
        run(&scenario_file("payment-phase1.ron"), &[]),
        // A fault that ends with the run: nothing to judge.
        run(
            &crash_platform(1, ""),
            &[r#"faults=[Outage(at: "15s", duration: "5s")]"#],
        ),
    ];
    let mut verdicts = Vec::new();
    for s in &runs {
        let json: Value = serde_json::from_str(&summary_json(s)).expect("summary.json parses");
        let faults = json["faults"].as_array().expect("faults is a list");
        assert_eq!(faults.len(), 1);
        for f in faults {
            for key in [
                "kind",
                "target",
                "start_s",
                "end_s",
                "recovered_after_s",
                "verdict",
            ] {
                assert!(f.get(key).is_some(), "fault lacks {key}: {f}");
            }
            assert!(f["kind"].is_string() && f["start_s"].is_f64() && f["end_s"].is_f64());
            assert!(f["target"].is_string() || f["target"].is_null());
            let verdict = f["verdict"].as_str().expect("verdict is a string");
            assert!(
                ["recovered", "metastable", "not_applicable"].contains(&verdict),
                "verdict {verdict}"
            );
            assert_eq!(
                f["recovered_after_s"].is_number(),
                verdict == "recovered",
                "recovered_after_s is a number exactly when recovered: {f}"
            );
            verdicts.push(verdict.to_string());
        }
        for (name, c) in json["calls"].as_object().expect("calls is a map") {
            for key in ["attempts", "retries", "amplification", "calls"] {
                assert!(c[key].is_number(), "call {name} lacks {key}: {c}");
            }
            let (calls, attempts) = (
                c["calls"].as_f64().unwrap(),
                c["attempts"].as_f64().unwrap(),
            );
            if calls > 0.0 {
                close(c["amplification"].as_f64().unwrap(), attempts / calls, name);
            }
            assert!(
                c["breaker"].is_null() || c["breaker"]["open_s"].is_f64(),
                "{c}"
            );
        }
        for col in ["t_s", "goodput_rps", "throughput_rps"] {
            assert!(s.timeseries.column(col).is_some(), "no {col} column");
        }
        assert!(
            json.get("timeseries").is_none(),
            "the series goes to the csv only"
        );
    }
    assert_eq!(
        verdicts,
        ["metastable", "recovered", "recovered", "not_applicable"]
    );
    let json: Value = serde_json::from_str(&summary_json(&runs[2])).unwrap();
    assert!(
        json["calls"]["checkout->payment"]["breaker"]["open_s"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(json["faults"][0]["target"] == "payment");
    let json: Value = serde_json::from_str(&summary_json(&runs[3])).unwrap();
    assert!(
        json["faults"][0]["target"].is_null(),
        "an outage hits every service"
    );
}

/// The breaker options of issue 15 end to end, on the single-user scenario above: the
/// tenth failure (100 ms think + 1 ms front + 10 ms back, then 111 ms per cycle: 1.110 s)
/// opens the breaker. With `automatic_transition` Resilience4j's timer half-opens it at
/// exactly 1.110 + 1 s; with every error ignored (or only timeouts recorded) it never opens.
#[test]
fn breaker_options_automatic_half_open_and_ignored_errors() {
    let text = |opts: &str| {
        format!(
            r#"Scenario(name: "breaker", seed: 1, duration: "10s", window: "1s",
    services: [
        Service(name: "front", service_time: Constant("1ms"),
                calls: [Call(to: "back", breaker: Some(Breaker(window: Count(10), failure_rate: 50.0,
                        min_calls: 10, wait_open: "1s", half_open_calls: 2{opts})))]),
        Service(name: "back", service_time: Constant("10ms"), error_rate: 1.0),
    ],
    workload: [Closed(target: "front", users: 1, think_time: Constant("100ms"))],
)"#
        )
    };
    let s = run(&text(", automatic_transition: true"), &[]);
    let call = &s.calls["front->back"];
    let got: Vec<(f64, &str)> = call.breaker.as_ref().unwrap().transitions[..2]
        .iter()
        .map(|t| (t.t_s, t.state.as_str()))
        .collect();
    assert!(
        (got[0].0 - 1.110).abs() < 1e-9 && got[0].1 == "OPEN",
        "{got:?}"
    );
    assert!(
        (got[1].0 - 2.110).abs() < 1e-9 && got[1].1 == "HALF_OPEN",
        "{got:?}"
    );
    for opts in [", ignore_on: [Error]", ", record_on: [Timeout]"] {
        let s = run(&text(opts), &[]);
        let call = &s.calls["front->back"];
        let b = call.breaker.as_ref().unwrap();
        assert_eq!((b.opened, call.breaker_rejected), (0, 0), "{opts}");
        assert!(b.transitions.is_empty(), "{opts}");
    }
}
