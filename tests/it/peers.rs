//! Resilience mechanisms against their peers' own rules, case by case: Envoy's retry
//! budget, Resilience4j's decorator order, and cases rebuilt from Resilience4j's and
//! Envoy's test suites. Every expected number is worked out by hand in the test, with the
//! source it follows.

use super::common::run_scenario as run;
use platsim::Summary;

/// `users` clients that all send at 1 s (a constant think time starts them together; the
/// arrivals stop at 1.5 s, so nobody sends twice, and the drain lets every retry finish)
/// to a backend that fails every request after `service` (never short of servers).
fn all_fail_at_once(users: u32, service: &str, retry: &str) -> String {
    format!(
        r#"Scenario(name: "budget", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [Service(name: "backend", concurrency: 100000, service_time: Constant("{service}"),
                       error_rate: 1.0)],
    workload: [Closed(target: "backend", users: {users}, think_time: Constant("1s"),
                      retry: Some({retry}))],
)"#
    )
}

fn budget_retry(attempts: u32, backoff: &str) -> String {
    format!(
        "Retry(max_attempts: {attempts}, backoff: {backoff}, \
         budget: Some(Budget(percent: 20.0, min_concurrency: 3)))"
    )
}

/// Envoy `source/common/router/retry_state_impl.cc`, `RetryStateImpl::shouldRetry`:
/// `resetRetry()` (the failing attempt, if it was a retry, leaves the count), then
/// `retries().canCreate()`, then `retries().inc()` *before* the backoff timer is armed.
/// `canCreate` is `count < max()`, with `max()` =
/// `max(budget_percent / 100 × (rq_active + rq_pending), min_retry_concurrency)` truncated
/// to an integer (`source/common/upstream/resource_manager_impl.h`, `RetryBudgetImpl`).
///
/// 100 attempts fail at the same instant, 20 % / min 3, 1 s backoff. When the k-th failure
/// is judged, 100 − k attempts are still active and k − 1 retries (all still in their
/// backoff) hold the budget: admitted iff k − 1 < max(3, ⌊0.2 × (100 − k)⌋). k = 16:
/// 15 < ⌊16.8⌋ = 16, admitted; k = 17: 16 < ⌊16.6⌋ = 16 fails, and the bound only falls
/// from there. So 16 retries, 84 denied.
#[test]
fn envoy_budget_counts_retries_in_their_backoff_100_failures_give_16_retries() {
    let s = run(
        &all_fail_at_once(100, "100ms", &budget_retry(2, r#"Constant("1s")"#)),
        &[],
    );
    let w = &s.workloads["backend"];
    assert_eq!(w.arrivals, 100);
    assert_eq!((w.retries, w.retries_denied), (16, 84));
    assert_eq!(s.services["backend"].arrivals, 116);
}

/// The same burst on a call edge (api → backend): the edge's budget counts the same way.
#[test]
fn envoy_budget_on_a_call_edge_gives_the_same_16() {
    let text = r#"Scenario(name: "budget-edge", seed: 1, duration: "1500ms", drain: Some("1m"),
    window: "100ms",
    services: [
        Service(name: "api", concurrency: 1000, service_time: Constant("0s"),
                calls: [Call(to: "backend", retry: Some(Retry(max_attempts: 2,
                        backoff: Constant("1s"),
                        budget: Some(Budget(percent: 20.0, min_concurrency: 3)))))]),
        Service(name: "backend", concurrency: 1000, service_time: Constant("100ms"),
                error_rate: 1.0),
    ],
    workload: [Closed(target: "api", users: 100, think_time: Constant("1s"))],
)"#;
    let s = run(text, &[]);
    let c = call(&s, "api", "backend");
    assert_eq!((c.calls, c.retries, c.retries_denied), (100, 16, 84));
}

/// Without backoff the retries are in flight at once, and the count is the same: a
/// retry is active from scheduling until its own outcome, wherever it is meanwhile.
#[test]
fn envoy_budget_without_backoff_gives_the_same_16() {
    let s = run(
        &all_fail_at_once(100, "100ms", &budget_retry(2, "None")),
        &[],
    );
    let w = &s.workloads["backend"];
    assert_eq!((w.retries, w.retries_denied), (16, 84));
}

/// A small burst stays under the minimum: 10 failures, min 3. k-th failure: admitted iff
/// k − 1 < max(3, ⌊0.2 × (10 − k)⌋) = 3, so exactly 3 retries (Envoy's
/// `min_retry_concurrency` is a floor on concurrency, not on the share).
#[test]
fn envoy_budget_min_retry_concurrency_floors_a_small_burst() {
    let s = run(
        &all_fail_at_once(10, "100ms", &budget_retry(2, r#"Constant("1s")"#)),
        &[],
    );
    let w = &s.workloads["backend"];
    assert_eq!((w.retries, w.retries_denied), (3, 7));
}

/// A retry that fails asks again: Envoy's `shouldRetry` first frees its place
/// (`resetRetry()`), then asks `canCreate()`. With 4 attempts: round 1 (first attempts fail
/// at 1.1 s) admits 16 as above. Round 2 (those 16 fail at 2.2 s): the k-th finds the 16 − k
/// not yet judged still active and holding places, plus the retries admitted earlier in
/// the round; the limit is max(3, ⌊0.2 × (16 − k)⌋) = 3. Denied while 16 − k ≥ 3 (k ≤ 13);
/// k = 14, 15, 16 each find 2 places held and are admitted: 3 retries, 13 denied. Round 3
/// (3 fail at 3.3 s): k-th finds 3 − k in flight plus k − 1 admitted = 2 < 3: all 3
/// admitted. Round 4 is the 4th attempt: no retry left, nothing denied. In all 16 + 3 + 3 =
/// 22 retries, 84 + 13 = 97 denied.
#[test]
fn envoy_budget_frees_a_place_before_judging_the_next_retry() {
    let s = run(
        &all_fail_at_once(100, "100ms", &budget_retry(4, r#"Constant("1s")"#)),
        &[],
    );
    let w = &s.workloads["backend"];
    assert_eq!((w.retries, w.retries_denied), (22, 97));
}

/// Steady failure: 100 new requests a second all fail after 100 ms; a retry waits 1 s.
/// Active requests ≈ 100/s × 0.1 s = 10, so 20 % gives 2 and the floor of 3 rules. Each
/// of the 3 places is held by a retry for its 1 s backoff plus its 100 ms attempt, then
/// freed when that retry's failure is judged (a second retry is not allowed: 2
/// attempts), and taken again by the next failure ≈ 5 ms later (Poisson, 200 failures a
/// second in all). So ≈ 3 / 1.105 s = 2.71 retries a second, ≈ 1,629 in 600 s. Counting
/// retries only once sent (the old rule) let ≈ 29,000 through.
#[test]
fn envoy_budget_in_steady_failure_allows_about_three_per_backoff() {
    let text = r#"Scenario(name: "steady", seed: 3, duration: "10m", window: "1s",
    services: [Service(name: "backend", concurrency: 100000, service_time: Constant("100ms"),
                       error_rate: 1.0)],
    workload: [Open(target: "backend", rate: 100.0,
                    retry: Some(Retry(max_attempts: 2, backoff: Constant("1s"),
                                      budget: Some(Budget(percent: 20.0, min_concurrency: 3)))))],
)"#;
    let s = run(text, &[]);
    let w = &s.workloads["backend"];
    let want = 600.0 * 3.0 / 1.105;
    let got = w.retries as f64;
    assert!(
        (got - want).abs() / want < 0.02,
        "{got} retries, want ≈ {want:.0}"
    );
    assert_eq!(w.retries, 1_636, "the figure README.md gives (seed 3)");
    // Every failed first attempt was judged, but for the last ~100 ms of arrivals.
    let judged = w.retries + w.retries_denied;
    assert!(
        judged <= w.arrivals && judged + 30 >= w.arrivals,
        "{judged} of {}",
        w.arrivals
    );
    eprintln!(
        "steady failure: {} retries of {} requests",
        w.retries, w.arrivals
    );
}

fn call<'a>(s: &'a Summary, from: &str, to: &str) -> &'a platsim::metrics::summary::CallSummary {
    s.calls
        .values()
        .find(|c| c.from == from && c.to == to)
        .unwrap_or_else(|| panic!("no call {from} -> {to}"))
}

// ---- decorator order ---------------------------------------------------------------------

/// One client request at 1 s to a backend that always fails in 10 ms, through a client
/// breaker that opens after 2 calls (`Count(2)`, `min_calls: 2`, 50 %) and stays open, with
/// 4 attempts 100 ms apart.
fn one_request_through_an_opening_breaker(order: &str) -> Summary {
    let text = format!(
        r#"Scenario(name: "order", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [Service(name: "backend", concurrency: 10, service_time: Constant("10ms"),
                       error_rate: 1.0)],
    workload: [Closed(target: "backend", users: 1, think_time: Constant("1s"), order: {order},
                      retry: Some(Retry(max_attempts: 4, backoff: Constant("100ms"),
                                        retry_on: [Error, Rejected])),
                      breaker: Some(Breaker(window: Count(2), min_calls: 2, wait_open: "1h")))],
)"#
    );
    run(&text, &[])
}

/// Resilience4j's Spring Boot aspect order puts Retry outside CircuitBreaker
/// (`RetryConfigurationProperties.retryAspectOrder` = `Ordered.LOWEST_PRECEDENCE - 5`,
/// `CircuitBreakerConfigurationProperties.circuitBreakerAspectOrder` =
/// `LOWEST_PRECEDENCE - 4`: the lower order is the outer aspect), and the retry's default
/// `retryOnException` retries every exception, `CallNotPermittedException` included.
/// Attempts 1 (1.01 s) and 2 (1.12 s) fail and open the breaker; attempts 3 and 4 are
/// rejected by it and both still count as attempts the retry made.
#[test]
fn resilience4j_order_retries_an_open_breakers_rejection() {
    let s = one_request_through_an_opening_breaker("Resilience4j");
    let w = &s.workloads["backend"];
    assert_eq!((w.arrivals, w.attempts, w.retries), (1, 4, 3));
    assert_eq!(w.breaker_rejected, 2);
    assert_eq!(
        (w.rejected, w.errors),
        (1, 0),
        "the last outcome is the rejection"
    );
    assert_eq!(s.services["backend"].arrivals, 2);
}

/// Envoy never retries an overflow: `RetryStateImpl::wouldRetryFromReset` returns
/// `NoRetry` for `StreamResetReason::Overflow` before looking at `retry_on`. The first
/// rejection (attempt 3) ends the request.
#[test]
fn envoy_order_does_not_retry_an_open_breakers_rejection() {
    let s = one_request_through_an_opening_breaker("Envoy");
    let w = &s.workloads["backend"];
    assert_eq!((w.arrivals, w.attempts, w.retries), (1, 3, 2));
    assert_eq!((w.breaker_rejected, w.rejected), (1, 1));
}

/// Two calls at once through a 1-permit bulkhead (waits up to 2 s) to a backend that
/// answers in 900 ms, behind a breaker for which a call is slow above 1 s and that opens
/// at 50 % slow calls of 2. In Resilience4j's order the breaker wraps the bulkhead, so
/// the second call takes 0.9 s waiting + 0.9 s running = 1.8 s: slow, and the breaker
/// opens at 2.8 s. In Envoy's order each try is timed from when it is sent: 0.9 s twice,
/// never slow.
fn bulkhead_behind_breaker(order: &str) -> Summary {
    let text = format!(
        r#"Scenario(name: "slow", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend", order: {order},
                             bulkhead: Some(Bulkhead(max_concurrent: 1, max_wait: "2s")),
                             breaker: Some(Breaker(window: Count(2), min_calls: 2,
                                                   slow_call_rate: 50.0,
                                                   slow_call_duration: "1s")))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("900ms")),
    ],
    workload: [Closed(target: "api", users: 2, think_time: Constant("1s"))],
)"#
    );
    run(&text, &[])
}

#[test]
fn resilience4j_order_times_the_bulkhead_wait_inside_the_breaker() {
    let s = bulkhead_behind_breaker("Resilience4j");
    let b = s.calls["api->backend"].breaker.as_ref().expect("a breaker");
    assert_eq!(b.opened, 1);
    assert_eq!(b.transitions[0].state, "OPEN");
    assert!(
        (b.transitions[0].t_s - 2.8).abs() < 1e-9,
        "{}",
        b.transitions[0].t_s
    );
    assert_eq!(s.workloads["api"].ok, 2, "both calls succeeded, one slowly");
}

#[test]
fn envoy_order_times_each_try_from_when_it_is_sent() {
    let s = bulkhead_behind_breaker("Envoy");
    let b = s.calls["api->backend"].breaker.as_ref().expect("a breaker");
    assert_eq!((b.opened, b.state.as_str()), (0, "CLOSED"));
}

// ---- the metastable retry storm under Envoy's budget ---------------------------------------

fn storm(seed: u64, sets: &[&str]) -> Summary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/resilience/metastable-retry-storm.ron"
    );
    let text = std::fs::read_to_string(path).expect("the storm scenario");
    let seed = format!("seed={seed}");
    let mut all = vec![seed.as_str()];
    all.extend(sets);
    run(&text, &all)
}

const ENVOY_BUDGET: &str = "workload.0.retry.budget=Budget(percent: 20.0, min_concurrency: 3)";
const ONE_SECOND_BACKOFF: &str = r#"workload.0.retry.backoff=Constant("1s")"#;

/// The figures scenarios/README.md and the storm's header give for Envoy's default budget.
#[test]
fn envoy_default_budget_needs_a_backoff_to_end_the_storm() {
    let verdicts = |sets: &[&str]| -> Vec<String> {
        (1..=20)
            .map(|seed| storm(seed, sets).faults[0].verdict.clone())
            .collect()
    };
    let immediate = verdicts(&[ENVOY_BUDGET]);
    assert!(immediate.iter().all(|v| v == "metastable"), "{immediate:?}");
    let backoff = verdicts(&[ENVOY_BUDGET, ONE_SECOND_BACKOFF]);
    let recovered = backoff.iter().filter(|v| *v == "recovered").count();
    assert_eq!(recovered, 20, "{backoff:?}");

    // Seed 1, as the README's figures.
    let figures = |s: &Summary| {
        let f = &s.faults[0];
        let w = &s.workloads["clients"];
        (
            f.verdict.clone(),
            f.recovered_after_s,
            (f.goodput_after_ratio.unwrap_or(0.0) * 100.0).round(),
            (w.amplification * 100.0).round() / 100.0,
        )
    };
    let m = "metastable".to_string();
    assert_eq!(
        figures(&storm(1, &[ENVOY_BUDGET])),
        (m.clone(), None, 6.0, 1.20)
    );
    assert_eq!(
        figures(&storm(1, &[ENVOY_BUDGET, ONE_SECOND_BACKOFF])),
        ("recovered".to_string(), Some(30.0), 80.0, 1.02)
    );
    assert_eq!(
        figures(&storm(1, &[ONE_SECOND_BACKOFF])),
        (m, None, 0.0, 3.57)
    );
    // The budget variant of the scenario's own table is unchanged by the corrected count:
    // with no backoff a retry is sent the instant it is scheduled.
    assert_eq!(
        figures(&storm(
            1,
            &["workload.0.retry.budget=Budget(percent: 10.0, min_concurrency: 1)"]
        )),
        ("recovered".to_string(), Some(29.0), 81.0, 1.02)
    );
}

// ---- Resilience4j's rate limiter on a call -------------------------------------------------

/// Six calls at 1 s through `RateLimiter(limit_for_period: 2, refresh_period: "1s",
/// timeout: "1500ms")` (Resilience4j `AtomicRateLimiter`, cycles counted from time zero).
/// At 1 s (cycle 1) the quota is 2: calls 1 and 2 pass. Call 3 waits for cycle 2 (1 s,
/// within the timeout) and reserves (permissions −1); call 4 also fits in cycle 2's quota
/// (−2). Calls 5 and 6 would wait 2 s > 1.5 s: they reserve nothing, sleep their 1.5 s
/// timeout (`waitForPermissionIfNecessary`) and fail with `RequestNotPermitted`.
#[test]
fn resilience4j_rate_limiter_reserves_in_order_and_refuses_after_its_timeout() {
    let text = r#"Scenario(name: "r4j-limiter", seed: 1, duration: "1500ms", drain: Some("1m"),
    window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend",
                             rate_limiter: Some(RateLimiter(limit_for_period: 2,
                                                            refresh_period: "1s",
                                                            timeout: "1500ms")))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("10ms")),
    ],
    workload: [Closed(target: "api", users: 6, think_time: Constant("1s"))],
)"#;
    let s = run(text, &[]);
    let c = call(&s, "api", "backend");
    assert_eq!(
        (c.calls, c.ok, c.rate_limited, c.attempt_rejected),
        (6, 4, 2, 2)
    );
    assert_eq!(s.services["backend"].arrivals, 4);
    let w = &s.workloads["api"];
    assert_eq!((w.ok, w.errors), (4, 2));
    // The two that waited a cycle answer at 2.01 s: 1,010 ms after they were sent.
    assert!(
        (w.latency_ms.max - 1010.0).abs() < 11.0,
        "{}",
        w.latency_ms.max
    );
    // The refused ones gave up 1.5 s after they came.
    let api = &s.services["api"];
    assert!(
        (api.sojourn_ms.max - 1500.0).abs() < 16.0,
        "{}",
        api.sojourn_ms.max
    );
}

// ---- Envoy's local rate limit at a service ---------------------------------------------------

/// `LocalRateLimit(max_tokens: 10, tokens_per_fill: 10, fill_interval: "1s")` in front of a
/// service that 50 requests a second reach (Envoy's local rate limit filter, timer-filled
/// token bucket: full at start, +10 at every whole second, capped at 10). Each second's
/// ~50 arrivals spend its 10 tokens (a second with fewer than 10 arrivals has probability
/// ~1e-12), so over [0 s, 100 s) exactly 100 × 10 pass and the rest are refused with 429.
#[test]
fn envoy_local_rate_limit_passes_its_tokens_per_fill_and_refuses_the_rest() {
    let text = r#"Scenario(name: "local-rl", seed: 5, duration: "100s", window: "1s",
    services: [Service(name: "s", concurrency: 100, service_time: Constant("0s"),
                       local_rate_limit: Some(LocalRateLimit(max_tokens: 10,
                                                             tokens_per_fill: 10,
                                                             fill_interval: "1s")))],
    workload: [Open(target: "s", rate: 50.0)],
)"#;
    let s = run(text, &[]);
    let v = &s.services["s"];
    assert_eq!(v.ok, 1_000);
    assert_eq!(v.rejected_rate_limited, v.arrivals - 1_000);
    assert_eq!(v.rejected, v.rejected_rate_limited);
}

/// Five requests at 1 s against `max_tokens: 2` filled 1 per 100 ms: the bucket is full
/// (2), so 2 pass and 3 are refused; the next fill is at 1.1 s.
#[test]
fn envoy_local_rate_limit_refuses_a_burst_beyond_its_bucket() {
    let text = r#"Scenario(name: "local-burst", seed: 1, duration: "1500ms", drain: Some("10s"),
    window: "100ms",
    services: [Service(name: "s", concurrency: 10, service_time: Constant("10ms"),
                       local_rate_limit: Some(LocalRateLimit(max_tokens: 2,
                                                             fill_interval: "100ms")))],
    workload: [Closed(target: "s", users: 5, think_time: Constant("1s"))],
)"#;
    let s = run(text, &[]);
    let v = &s.services["s"];
    assert_eq!((v.arrivals, v.ok, v.rejected_rate_limited), (5, 2, 3));
}

// ---- deadlines ---------------------------------------------------------------------------

/// One request at 1 s, 1 s per attempt, 5 attempts at once, an overall deadline of 2.5 s
/// (gRPC A6: "the deadline covers all attempts"; Envoy's route timeout around
/// `per_try_timeout`). Attempts go at 1 s and 2 s and time out; the third, at 3 s, is cut
/// at the deadline, 3.5 s, and no fourth is made. The backend (one server, 10 s per
/// request) takes the first at once and, with `drop_expired`, sheds the other two when
/// its server frees at 11 s: their propagated deadlines (3 s, 3.5 s) have passed.
#[test]
fn an_overall_deadline_bounds_all_attempts_and_reaches_the_callee() {
    let text = r#"Scenario(name: "deadline", seed: 1, duration: "1500ms", drain: Some("1m"),
    window: "100ms",
    services: [Service(name: "backend", concurrency: 1, service_time: Constant("10s"),
                       drop_expired: true)],
    workload: [Closed(target: "backend", users: 1, think_time: Constant("1s"),
                      timeout: Some("1s"), deadline: Some("2500ms"),
                      retry: Some(Retry(max_attempts: 5, backoff: None)))],
)"#;
    let s = run(text, &[]);
    let w = &s.workloads["backend"];
    assert_eq!((w.attempts, w.retries, w.timeouts), (3, 2, 1));
    let b = &s.services["backend"];
    assert_eq!((b.arrivals, b.shed, b.timeouts), (3, 2, 1));
    // Without the deadline all 5 attempts go out.
    let s = run(text, &["workload.0.deadline=None"]);
    assert_eq!(s.workloads["backend"].attempts, 5);
}

/// The retry storm with an overall deadline of 2 s over its 1 s attempts: the deadline
/// alone caps the retries (amplification 1.87 instead of 3.6) but the server still works
/// for nobody and the storm stays; propagated to the server, which drops work whose
/// deadline has passed (`drop_expired`), it ends the storm in every seed.
#[test]
fn deadline_propagation_ends_the_retry_storm_that_the_deadline_alone_does_not() {
    const DEADLINE: &str = "workload.0.deadline=2s";
    const DROP: &str = "services.server.drop_expired=true";
    let runs = |sets: &[&str]| -> Vec<Summary> { (1..=20).map(|seed| storm(seed, sets)).collect() };
    let alone = runs(&[DEADLINE]);
    let v: Vec<&str> = alone.iter().map(|s| s.faults[0].verdict.as_str()).collect();
    assert!(v.iter().all(|v| *v == "metastable"), "{v:?}");
    let dropped = runs(&[DEADLINE, DROP]);
    let v: Vec<&str> = dropped
        .iter()
        .map(|s| s.faults[0].verdict.as_str())
        .collect();
    assert!(v.iter().all(|v| *v == "recovered"), "{v:?}");
    // Seed 1's figures, as the storm's header and scenarios/README.md give them.
    let amp = |s: &Summary| (s.workloads["clients"].amplification * 100.0).round() / 100.0;
    assert_eq!(amp(&alone[0]), 1.87);
    let f = &dropped[0].faults[0];
    assert_eq!(f.recovered_after_s, Some(10.0));
    assert_eq!((f.goodput_after_ratio.unwrap_or(0.0) * 100.0).round(), 98.0);
    assert_eq!(amp(&dropped[0]), 1.04);
}

// ---- breaker states forced from a scenario -------------------------------------------------

/// One user sends every 100 ms (constant think time, answers take no time) through api,
/// whose call to backend has a breaker; `faults` are added to the scenario.
fn forced_breaker(error_rate: f64, breaker: &str, faults: &str) -> Summary {
    let text = format!(
        r#"Scenario(name: "forced", seed: 1, duration: "9950ms", window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend", breaker: Some({breaker}))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("0s"),
                error_rate: {error_rate}),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("100ms"),
                      breaker: Some(Breaker(failure_rate: 100.0)))],
    faults: [{faults}],
)"#
    );
    run(&text, &[])
}

fn transitions(b: &platsim::metrics::summary::BreakerSummary) -> Vec<(f64, &str)> {
    b.transitions
        .iter()
        .map(|t| ((t.t_s * 1e3).round() / 1e3, t.state.as_str()))
        .collect()
}

/// Resilience4j `CircuitBreakerStateMachine.transitionToForcedOpenState()`: FORCED_OPEN
/// refuses every call (`CallNotPermittedException`, counted as not permitted) and records
/// nothing; `transitionToClosedState()` at the fault's end starts CLOSED afresh. The user
/// sends at 0.1 s, 0.2 s, ..., 9.9 s (99 requests); forced open over [2.05 s, 5.05 s), the
/// 30 sent at 2.1 s ... 5.0 s are refused at the breaker and never reach backend.
#[test]
fn a_forced_open_breaker_refuses_every_call_until_the_fault_ends() {
    let s = forced_breaker(
        0.0,
        "Breaker()",
        r#"ForceOpenBreaker(from: "api", to: "backend", at: "2050ms", duration: "3s")"#,
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.calls, c.breaker_rejected, c.ok), (99, 30, 69));
    assert_eq!(s.services["backend"].arrivals, 69);
    assert_eq!(s.workloads["api"].ok, 69);
    let b = c.breaker.as_ref().expect("a breaker");
    assert_eq!(
        transitions(b),
        vec![(2.05, "FORCED_OPEN"), (5.05, "CLOSED")]
    );
    assert_eq!(
        (b.opened, b.open_s),
        (0, 3.0),
        "forced open time counts as open"
    );
    let f = &s.faults[0];
    assert_eq!(
        (f.kind.as_str(), f.target.as_deref()),
        ("force_open_breaker", Some("api"))
    );
}

/// `transitionToDisabledState()`: every call permitted, nothing recorded, the breaker
/// never opens however the calls fail. Backend fails everything; the breaker opens at 50 %
/// of 2 calls. Disabled over [0.05 s, 3.05 s): the 30 calls at 0.1 s ... 3.0 s all reach
/// backend. Then CLOSED with an empty window: the calls at 3.1 s and 3.2 s fail and are
/// recorded, it opens at 3.2 s (for an hour) and refuses the 67 calls from 3.3 s to 9.9 s.
/// Without the fault it opens at 0.2 s and backend sees 2 calls.
#[test]
fn a_disabled_breaker_permits_and_records_nothing_until_the_fault_ends() {
    let breaker = r#"Breaker(window: Count(2), min_calls: 2, wait_open: "1h")"#;
    let s = forced_breaker(
        1.0,
        breaker,
        r#"DisableBreaker(from: "api", to: "backend", at: "50ms", duration: "3s")"#,
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.calls, c.breaker_rejected), (99, 67));
    assert_eq!(s.services["backend"].arrivals, 32);
    let b = c.breaker.as_ref().expect("a breaker");
    assert_eq!(
        transitions(b),
        vec![(0.05, "DISABLED"), (3.05, "CLOSED"), (3.2, "OPEN")]
    );
    let s = forced_breaker(1.0, breaker, "");
    assert_eq!(s.services["backend"].arrivals, 2);
}

/// A workload's client-side breaker is named by the workload: forced open over
/// [1.05 s, 2.05 s), the 10 requests at 1.1 s ... 2.0 s never leave the client.
#[test]
fn a_workloads_breaker_can_be_forced_open() {
    let s = forced_breaker(
        0.0,
        "Breaker()",
        r#"ForceOpenBreaker(workload: "api", at: "1050ms", duration: "1s")"#,
    );
    let w = &s.workloads["api"];
    assert_eq!((w.arrivals, w.breaker_rejected, w.ok), (99, 10, 89));
    assert_eq!(s.services["api"].arrivals, 89);
}

/// Mistakes name the field and the fix.
#[test]
fn breaker_overrides_are_checked_with_their_field_paths() {
    let text = |fault: &str| {
        format!(
            r#"Scenario(name: "bad", duration: "10s",
    services: [Service(name: "api", service_time: Constant("0s"),
                       calls: [Call(to: "backend", breaker: Some(Breaker())), Call(to: "db")]),
               Service(name: "backend", service_time: Constant("0s")),
               Service(name: "db", service_time: Constant("0s"))],
    workload: [Open(target: "api", rate: 1.0)],
    faults: [{fault}],
)"#
        )
    };
    let err = |fault: &str| {
        platsim::simulate(&text(fault), "bad.ron", &[], platsim::Limits::default())
            .expect_err("refused")
            .to_string()
    };
    for (fault, want) in [
        (
            r#"ForceOpenBreaker(from: "api", to: "bakend", at: "1s", duration: "1s")"#,
            r#"faults[0].to: unknown service "bakend" (did you mean "backend"?)"#,
        ),
        (
            r#"ForceOpenBreaker(from: "api", to: "db", at: "1s", duration: "1s")"#,
            "faults[0].to: the call from \"api\" to \"db\" has no breaker to override",
        ),
        (
            r#"DisableBreaker(from: "backend", to: "db", at: "1s", duration: "1s")"#,
            r#"faults[0].to: "backend" does not call "db""#,
        ),
        (
            r#"DisableBreaker(workload: "api", at: "1s", duration: "1s")"#,
            r#"faults[0].workload: workload "api" has no breaker to override"#,
        ),
        (
            r#"DisableBreaker(workload: "apj", at: "1s", duration: "1s")"#,
            r#"faults[0].workload: unknown workload "apj" (did you mean "api"?)"#,
        ),
        (
            r#"DisableBreaker(from: "api", at: "1s", duration: "1s")"#,
            "faults[0]: names no breaker: give `from` and `to`",
        ),
        (
            r#"ForceOpenBreaker(from: "api", to: "backend", at: "1s", duration: "0s")"#,
            "faults[0].duration",
        ),
        (
            r#"ForceOpenBreaker(from: "api", to: "backend", at: "1s", duration: "2s"),
               DisableBreaker(from: "api", to: "backend", at: "2s", duration: "1s")"#,
            "faults[1].at: overlaps faults[0], which overrides the same breaker",
        ),
    ] {
        let e = err(fault);
        assert!(e.contains(want), "{fault}\n{e}");
    }
}

// ---- Resilience4j's TimeLimiter outside the bulkhead ---------------------------------------

/// `users` calls at 1 s through a 1-permit bulkhead (waits up to 2 s) with a 1 s call
/// timeout to a backend that takes 0.6 s. In Resilience4j's order `TimeLimiter(Bulkhead(call))`
/// the time limit covers the wait.
fn time_limit_around_bulkhead(order: &str, users: u32) -> Summary {
    let text = format!(
        r#"Scenario(name: "time-limit", seed: 1, duration: "1500ms", drain: Some("1m"),
    window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend", order: {order}, timeout: Some("1s"),
                             bulkhead: Some(Bulkhead(max_concurrent: 1, max_wait: "2s")))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("600ms")),
    ],
    workload: [Closed(target: "api", users: {users}, think_time: Constant("1s"))],
)"#
    );
    run(&text, &[])
}

/// Two calls. The second waits 0.6 s for the permit and runs 0.6 s: in
/// Resilience4j's order its TimeLimiter (started before the bulkhead) fires at 2.0 s, 1.0 s
/// after the call began, with 0.2 s of work left; in Envoy's order the per-try timeout
/// starts at 1.6 s, when the try is sent, and the answer at 2.2 s is in time.
#[test]
fn resilience4j_time_limit_includes_the_bulkhead_wait_envoys_does_not() {
    let s = time_limit_around_bulkhead("Resilience4j", 2);
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.attempt_timeouts, c.bulkhead_rejected), (1, 1, 0));
    assert_eq!(s.services["backend"].arrivals, 2);
    // api answered after 0.6 s and 1.0 s.
    assert!((s.services["api"].sojourn_ms.mean - 800.0).abs() < 1e-6);
    let s = time_limit_around_bulkhead("Envoy", 2);
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.attempt_timeouts), (2, 0));
    assert!((s.services["api"].sojourn_ms.mean - 900.0).abs() < 1e-6);
}

/// Three calls. Resilience4j's order: A runs 1.0-1.6 s; B waits to 1.6 s and times out at
/// 2.0 s; C, still waiting for the permit at 2.0 s, times out there without reaching
/// backend (its limit fires before B's, armed earlier). Answers after 0.6, 1.0 and 1.0 s.
/// Envoy's order: B runs 1.6-2.2 s, C (its bulkhead wait is 2 s) gets the permit at 2.2 s
/// and runs to 2.8 s, each try well inside its own 1 s: answers after 0.6, 1.2, 1.8 s.
#[test]
fn resilience4j_time_limit_can_fire_inside_the_bulkhead_wait() {
    let s = time_limit_around_bulkhead("Resilience4j", 3);
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.attempt_timeouts, c.bulkhead_rejected), (1, 2, 0));
    assert_eq!(s.services["backend"].arrivals, 2);
    assert!((s.services["api"].sojourn_ms.mean - 2600.0 / 3.0).abs() < 1e-6);
    let s = time_limit_around_bulkhead("Envoy", 3);
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.attempt_timeouts), (3, 0));
    assert_eq!(s.services["backend"].arrivals, 3);
    assert!((s.services["api"].sojourn_ms.mean - 1200.0).abs() < 1e-6);
}

// ---- Resilience4j SemaphoreBulkheadTest ----------------------------------------------------

/// `users` calls at 1 s from api to backend through `bulkhead`; backend answers in
/// `backend` and never runs short of servers. `more` adds workloads.
fn through_bulkhead(users: u32, bulkhead: &str, backend: &str, more: &str) -> Summary {
    let text = format!(
        r#"Scenario(name: "bulkhead", seed: 1, duration: "1500ms", drain: Some("1h"),
    window: "100ms",
    services: [
        Service(name: "api", concurrency: 1000, service_time: Constant("0s"),
                calls: [Call(to: "backend", bulkhead: Some({bulkhead}))]),
        Service(name: "backend", concurrency: 1000, service_time: Constant("{backend}")),
    ],
    workload: [Closed(target: "api", users: {users}, think_time: Constant("1s")){more}],
)"#
    );
    run(&text, &[])
}

/// `SemaphoreBulkheadTest.testBulkhead` (2 permits, no wait): two calls take the permits,
/// the third is refused (CALL_PERMITTED ×2, CALL_REJECTED); both finish at 1.1 s
/// (CALL_FINISHED ×2) and a call at 1.2 s is permitted again.
#[test]
fn semaphore_bulkhead_test_bulkhead_permits_two_refuses_the_third_then_permits_again() {
    let s = through_bulkhead(
        3,
        "Bulkhead(max_concurrent: 2)",
        "100ms",
        r#", Closed(target: "api", users: 1, think_time: Constant("1200ms"))"#,
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.calls, c.ok, c.bulkhead_rejected), (4, 3, 1));
    assert_eq!(s.services["backend"].arrivals, 3);
}

/// `SemaphoreBulkheadTest.testTryEnterWithTimeout` (1 permit, 50 ms wait): with the permit
/// held, the second caller waits its 50 ms and is refused. Client latencies: 100 ms and
/// 50 ms, mean 75 ms.
#[test]
fn semaphore_bulkhead_test_try_enter_with_timeout_refuses_after_the_wait() {
    let s = through_bulkhead(
        2,
        r#"Bulkhead(max_concurrent: 1, max_wait: "50ms")"#,
        "100ms",
        "",
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.bulkhead_rejected), (1, 1));
    assert!((s.services["api"].sojourn_ms.mean - 75.0).abs() < 1e-6);
}

/// `SemaphoreBulkheadTest.testEntryTimeout` (1 permit consumed, 10 ms wait): not entered,
/// 10 ms after asking, while the holder runs for 1 s.
#[test]
fn semaphore_bulkhead_test_entry_timeout_is_not_entered() {
    let s = through_bulkhead(
        2,
        r#"Bulkhead(max_concurrent: 1, max_wait: "10ms")"#,
        "1s",
        "",
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.bulkhead_rejected), (1, 1));
    assert_eq!(s.services["backend"].arrivals, 1);
    assert!((s.services["api"].sojourn_ms.mean - 505.0).abs() < 1e-6);
}

/// `SemaphoreBulkheadTest.testZeroMaxConcurrentCalls`: `maxConcurrentCalls(0)` never
/// permits.
#[test]
fn semaphore_bulkhead_test_zero_max_concurrent_calls_never_permits() {
    let s = through_bulkhead(3, "Bulkhead(max_concurrent: 0)", "100ms", "");
    let c = call(&s, "api", "backend");
    assert_eq!((c.calls, c.ok, c.bulkhead_rejected), (3, 0, 3));
    assert_eq!(s.services["backend"].arrivals, 0);
}

/// `SemaphoreBulkheadTest.testCreateWithDefaults`: `DEFAULT_MAX_CONCURRENT_CALLS` is 25
/// and the default wait 0: of 26 calls at once, 25 enter and one is refused.
#[test]
fn semaphore_bulkhead_test_create_with_defaults_permits_25() {
    let s = through_bulkhead(26, "Bulkhead()", "100ms", "");
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.bulkhead_rejected), (25, 1));
}

/// `SemaphoreBulkheadTest.changePermissionsCountWhileOneThreadIsWaitingForPermission`, its
/// first half (a 500 s wait, the permit held): the waiter is not refused but takes the
/// permit the moment the holder completes (1.1 s) and finishes at 1.2 s. Latencies 100 ms
/// and 200 ms.
#[test]
fn semaphore_bulkhead_test_a_waiter_takes_the_permit_when_it_is_released() {
    let s = through_bulkhead(
        2,
        r#"Bulkhead(max_concurrent: 1, max_wait: "500s")"#,
        "100ms",
        "",
    );
    let c = call(&s, "api", "backend");
    assert_eq!((c.ok, c.bulkhead_rejected), (2, 0));
    assert!((s.services["api"].sojourn_ms.mean - 150.0).abs() < 1e-6);
}

// ---- Resilience4j's RetryImpl (SupplierRetryTest) -------------------------------------------
//
// Resilience4j has no `RetryImplTest` class: `RetryImpl`, its retry, is tested through the
// decorators, and these cases come from `SupplierRetryTest`
// (`resilience4j-retry/src/test/java/io/github/resilience4j/retry/internal/`), whose
// `sleepFunction` records the waits we measure as latency.

/// One request at 1 s to api, whose call to backend (answering in 10 ms) has `retry`,
/// with `faults`.
fn one_retried_request(retry: &str, faults: &str) -> Summary {
    let text = format!(
        r#"Scenario(name: "retry", seed: 1, duration: "1500ms", drain: Some("1h"), window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend", retry: Some({retry}))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("10ms")),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("1s"))],
    faults: [{faults}],
)"#
    );
    run(&text, &[])
}

const ALWAYS_FAILS: &str = r#"Errors(target: "backend", at: "0s", duration: "1h", rate: 1.0)"#;

/// The call's attempts, successes and failures, and how long api took to answer (ms).
fn attempts_and_latency(s: &Summary) -> (u64, u64, u64, f64) {
    let c = call(s, "api", "backend");
    (
        c.attempts,
        c.ok,
        c.failed,
        s.services["api"].sojourn_ms.mean,
    )
}

/// `SupplierRetryTest.shouldNotRetry`: a success is called once, nothing slept.
#[test]
fn retry_impl_should_not_retry_a_success() {
    let s = one_retried_request("Retry()", "");
    assert_eq!(attempts_and_latency(&s), (1, 1, 0, 10.0));
}

/// `SupplierRetryTest.testDecorateSupplier`: fails once, then succeeds; `Retry.ofDefaults`
/// sleeps `DEFAULT_WAIT_DURATION` (500 ms) once. The first attempt fails at 1.01 s (errors
/// until 1.05 s), the retry at 1.51 s succeeds: 2 calls, 520 ms.
#[test]
fn retry_impl_decorate_supplier_fails_once_then_succeeds_after_one_wait() {
    let s = one_retried_request(
        "Retry()",
        r#"Errors(target: "backend", at: "0s", duration: "1050ms", rate: 1.0)"#,
    );
    assert_eq!(attempts_and_latency(&s), (2, 1, 0, 520.0));
}

/// `SupplierRetryTest.shouldReturnAfterThreeAttempts`: defaults (3 attempts), always
/// failing: 3 calls, 2 × 500 ms slept, the error returned: 3 × 10 + 1,000 = 1,030 ms.
#[test]
fn retry_impl_should_return_after_three_attempts() {
    let s = one_retried_request("Retry()", ALWAYS_FAILS);
    assert_eq!(attempts_and_latency(&s), (3, 0, 1, 1030.0));
}

/// `SupplierRetryTest.shouldReturnAfterOneAttempt`: `maxAttempts(1)`: one call, no sleep.
#[test]
fn retry_impl_should_return_after_one_attempt() {
    let s = one_retried_request("Retry(max_attempts: 1)", ALWAYS_FAILS);
    assert_eq!(attempts_and_latency(&s), (1, 0, 1, 10.0));
}

/// `SupplierRetryTest.shouldReturnAfterOneAttemptAndIgnoreException`: the exception is not
/// one `retryOnException` accepts (here `retry_on` leaves out `Error`): rethrown at once.
#[test]
fn retry_impl_should_not_retry_an_outcome_it_does_not_retry_on() {
    let s = one_retried_request("Retry(retry_on: [Timeout, Rejected])", ALWAYS_FAILS);
    assert_eq!(attempts_and_latency(&s), (1, 0, 1, 10.0));
}

/// `SupplierRetryTest.shouldTakeIntoAccountBackoffFunction`:
/// `IntervalFunction.ofExponentialBackoff(500, 2.0)` sleeps 500 ms then 1,000 ms: 3 calls
/// in 3 × 10 + 1,500 = 1,530 ms.
#[test]
fn retry_impl_should_take_into_account_backoff_function() {
    let s = one_retried_request(
        r#"Retry(backoff: Exponential(base: "500ms", multiplier: 2.0, cap: "1h"))"#,
        ALWAYS_FAILS,
    );
    assert_eq!(attempts_and_latency(&s), (3, 0, 1, 1530.0));
}

/// `SupplierRetryTest.shouldRetryWithResult` / `shouldNotRetryWithResult`
/// (`retryOnResult`, `maxAttempts(2)`), with the result an HTTP status: the backend's
/// injected errors carry 503; `retry_on: [Status(503)]` calls twice, `[Status(500)]`
/// once. Unset, an `Errors` fault's status is 500.
#[test]
fn retry_impl_retries_on_a_result_it_matches_and_not_on_others() {
    let fails_503 = r#"Errors(target: "backend", at: "0s", duration: "1h", rate: 1.0,
                             status: Some(503))"#;
    let twice = |on: &str, fault: &str| {
        let s = one_retried_request(
            &format!(r#"Retry(max_attempts: 2, backoff: Constant("100ms"), retry_on: [{on}])"#),
            fault,
        );
        call(&s, "api", "backend").attempts
    };
    assert_eq!(twice("Status(503)", fails_503), 2);
    assert_eq!(twice("Status(500)", fails_503), 1);
    assert_eq!(twice("Status(500)", ALWAYS_FAILS), 2);
    assert_eq!(twice("Status(503)", ALWAYS_FAILS), 1);
    assert_eq!(
        twice("Error", fails_503),
        2,
        "an error is an error whatever its status"
    );
}

// ---- retry on status: 503 but not 429 ------------------------------------------------------

/// Three requests at 1 s to a service behind Envoy's local rate limit with one token that
/// never refills: one passes, two are refused with 429. Retrying 503 only leaves them;
/// retrying 429 (or, as before, every rejection) tries each twice more, refused again.
#[test]
fn retry_503_but_not_429_leaves_rate_limited_requests_alone() {
    let text = |on: &str| {
        format!(
            r#"Scenario(name: "429", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [Service(name: "s", concurrency: 10, service_time: Constant("10ms"),
                       local_rate_limit: Some(LocalRateLimit(max_tokens: 1,
                                                             fill_interval: "1h")))],
    workload: [Closed(target: "s", users: 3, think_time: Constant("1s"),
                      retry: Some(Retry(backoff: Constant("100ms"){on})))],
)"#
        )
    };
    let retries = |on: &str| {
        let s = run(&text(on), &[]);
        let w = &s.workloads["s"];
        assert_eq!((w.ok, w.rejected), (1, 2));
        (w.retries, s.services["s"].arrivals)
    };
    assert_eq!(retries(", retry_on: [Status(503)]"), (0, 3));
    assert_eq!(retries(", retry_on: [Status(429)]"), (4, 7));
    assert_eq!(
        retries(""),
        (4, 7),
        "the default retries every rejection, as before"
    );
}

/// A full waiting room refuses with 503: one server, room for one; three requests at once
/// at 1 s: one runs, one waits, one is refused and retried under `[Status(503)]` after
/// 100 ms (the room is still full: refused again, twice), not under `[Status(429)]`.
#[test]
fn a_full_queue_refuses_with_503() {
    let text = |on: &str| {
        format!(
            r#"Scenario(name: "503", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [Service(name: "s", concurrency: 1, queue_capacity: Some(1),
                       service_time: Constant("1s"))],
    workload: [Closed(target: "s", users: 3, think_time: Constant("1s"),
                      retry: Some(Retry(backoff: Constant("100ms"), retry_on: [{on}])))],
)"#
        )
    };
    assert_eq!(run(&text("Status(503)"), &[]).workloads["s"].retries, 2);
    assert_eq!(run(&text("Status(429)"), &[]).workloads["s"].retries, 0);
}

/// A timeout is a 504: a 2 s backend behind a 1 s client timeout is retried under
/// `[Status(504)]` (3 attempts), not under `[Status(503)]`.
#[test]
fn a_timeout_is_a_504() {
    let text = |on: &str| {
        format!(
            r#"Scenario(name: "504", seed: 1, duration: "1500ms", drain: Some("1m"), window: "100ms",
    services: [Service(name: "s", concurrency: 10, service_time: Constant("2s"))],
    workload: [Closed(target: "s", users: 1, think_time: Constant("1s"), timeout: Some("1s"),
                      retry: Some(Retry(backoff: Constant("100ms"), retry_on: [{on}])))],
)"#
        )
    };
    assert_eq!(run(&text("Status(504)"), &[]).workloads["s"].attempts, 3);
    assert_eq!(run(&text("Status(503)"), &[]).workloads["s"].attempts, 1);
}

/// On a call edge: Resilience4j's rate limiter refuses with `RequestNotPermitted` (429).
/// One permit per hour, no wait; two calls at 1 s: the second is refused, and retried
/// after 100 ms (refused again) only under `[Status(429)]`.
#[test]
fn a_call_edges_rate_limiter_refuses_with_429() {
    let text = |on: &str| {
        format!(
            r#"Scenario(name: "429-edge", seed: 1, duration: "1500ms", drain: Some("1m"),
    window: "100ms",
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "backend",
                             retry: Some(Retry(max_attempts: 2, backoff: Constant("100ms"),
                                               retry_on: [{on}])),
                             rate_limiter: Some(RateLimiter(limit_for_period: 1,
                                                            refresh_period: "1h",
                                                            timeout: "0s")))]),
        Service(name: "backend", concurrency: 10, service_time: Constant("10ms")),
    ],
    workload: [Closed(target: "api", users: 2, think_time: Constant("1s"))],
)"#
        )
    };
    let s = run(&text("Status(429)"), &[]);
    let c = call(&s, "api", "backend");
    assert_eq!((c.retries, c.rate_limited, c.ok), (1, 2, 1));
    let s = run(&text("Status(503)"), &[]);
    let c = call(&s, "api", "backend");
    assert_eq!((c.retries, c.rate_limited, c.ok), (0, 1, 1));
}

/// Statuses are checked with their paths.
#[test]
fn statuses_are_checked_with_their_field_paths() {
    let text = |retry_on: &str, record_on: &str, status: &str| {
        format!(
            r#"Scenario(name: "bad", duration: "10s",
    services: [Service(name: "s", service_time: Constant("0s"))],
    workload: [Open(target: "s", rate: 1.0,
                    retry: Some(Retry(retry_on: [{retry_on}])),
                    breaker: Some(Breaker(record_on: [{record_on}])))],
    faults: [Errors(target: "s", at: "1s", duration: "1s", rate: 0.5, status: {status})],
)"#
        )
    };
    let err = |t: String| {
        platsim::simulate(&t, "bad.ron", &[], platsim::Limits::default())
            .expect_err("refused")
            .to_string()
    };
    let e = err(text("Error, Status(200)", "Error", "None"));
    assert!(
        e.contains("workload[0].retry.retry_on[1]: Status(200) is not an HTTP error status"),
        "{e}"
    );
    let e = err(text("Error", "Error, Status(503)", "None"));
    assert!(
        e.contains("workload[0].breaker.record_on[1]: Status(503) is for `retry_on`"),
        "{e}"
    );
    let e = err(text("Error", "Error", "Some(99)"));
    assert!(
        e.contains("faults[0].status: 99 is not an HTTP error status"),
        "{e}"
    );
    let nine = "Status(500), Status(501), Status(502), Status(503), Status(504), \
                Status(505), Status(506), Status(507), Status(508)";
    let e = err(text(nine, "Error", "None"));
    assert!(
        e.contains("workload[0].retry.retry_on[8]: more than 8 statuses"),
        "{e}"
    );
}
