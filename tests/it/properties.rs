//! Invariants of random small platforms (proptest): 1–4 services calling only services
//! later in the list (so no circles), hard and soft calls with optional timeouts, every
//! distribution, bounded and unbounded waiting rooms, error rates, replicas behind every
//! balancer, open (with ramps and steps) and closed workloads with optional client
//! timeouts, warmups, and short durations so that each case runs in milliseconds.
//!
//! Checked through `run::Observer`, independently of the simulator's own counters:
//! - virtual time never goes backwards, and never reaches the horizon;
//! - every request that arrives gets exactly one outcome, at its own service, no earlier
//!   than its arrival, or is still in flight when the run ends;
//! - the observed arrivals and outcomes (after the warmup) are exactly the summary's
//!   counts, and the requests left without an outcome are its `in_flight`;
//! - the summary's own identities: per service `arrivals = completed + rejected +
//!   in_flight` and `completed = ok + errors + dependency_failed + timeouts`, per
//!   workload `arrivals = ok + errors + rejected + timeouts + in_flight`;
//! - outcomes that cannot happen do not (no rejections without a waiting-room limit, no
//!   errors without an error rate, no timeouts without timeouts);
//! - running the same case again (unobserved) gives a byte-identical summary.json.
//!
//! Why: these are the bookkeeping promises every report rests on, and random platforms
//! reach corners (zero service times, zero-capacity rooms, timeouts racing answers at the
//! same instant, slot reuse) that hand-written scenarios do not. A second property feeds
//! randomly damaged scenario text to the library, which must refuse it, never panic.

use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::ServiceId;
use platsim::report::{summary_json, timeseries_csv};
use platsim::run::{run_observed, Observer};
use platsim::{model, scenario, simulate, Limits, Summary};
use proptest::prelude::*;
use std::collections::HashMap;

/// A distribution of durations, in microseconds.
#[derive(Debug, Clone)]
enum Dist {
    Constant(u64),
    Exponential(u64),
    Uniform(u64, u64),
    LogNormal { median: u64, spread: u64 },
    Erlang { k: u32, mean: u64 },
}

impl Dist {
    fn ron(&self) -> String {
        match self {
            Dist::Constant(t) => format!(r#"Constant("{t}us")"#),
            Dist::Exponential(m) => format!(r#"Exponential(mean: "{m}us")"#),
            Dist::Uniform(lo, extra) => {
                format!(r#"Uniform(min: "{lo}us", max: "{}us")"#, lo + extra)
            }
            Dist::LogNormal { median, spread } => {
                format!(
                    r#"LogNormal(median: "{median}us", p99: "{}us")"#,
                    median + spread
                )
            }
            Dist::Erlang { k, mean } => format!(r#"Erlang(k: {k}, mean: "{mean}us")"#),
        }
    }
}

/// Durations from `min` to `max` microseconds (`min >= 1` keeps every draw's mean positive;
/// `max` is at least 1000).
fn dist(min: u64, max: u64) -> impl Strategy<Value = Dist> {
    let lo = min.max(1);
    prop_oneof![
        (min..=max).prop_map(Dist::Constant),
        // Whole milliseconds, to land exactly on timeouts (ties at the same instant).
        (min.div_ceil(1_000)..=max / 1_000).prop_map(|ms| Dist::Constant(ms * 1_000)),
        (lo..=max).prop_map(Dist::Exponential),
        (min..=max, 0..=max).prop_map(|(a, b)| Dist::Uniform(a, b)),
        (lo..=max, 0..=4 * max).prop_map(|(median, spread)| Dist::LogNormal { median, spread }),
        (1u32..=5, lo..=max).prop_map(|(k, mean)| Dist::Erlang { k, mean }),
    ]
}

#[derive(Debug, Clone)]
struct CallGen {
    /// Picks the callee among the services after the caller.
    pick: usize,
    hard: bool,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Clone)]
struct ServiceGen {
    replicas: u32,
    concurrency: u32,
    queue_capacity: Option<u32>,
    service_time: Dist,
    error_rate: f64,
    calls: Vec<CallGen>,
    balancer: &'static str,
}

#[derive(Debug, Clone)]
enum WorkloadGen {
    Open {
        pick: usize,
        rate: f64,
        timeout_ms: Option<u64>,
        /// Ramp to this rate over the second quarter, then step to the other at 3/4.
        schedule: Option<(f64, f64)>,
    },
    Closed {
        pick: usize,
        users: u32,
        think: Dist,
        timeout_ms: Option<u64>,
    },
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    duration_ms: u64,
    warmup_ms: u64,
    window_ms: u64,
    services: Vec<ServiceGen>,
    workloads: Vec<WorkloadGen>,
}

fn service() -> impl Strategy<Value = ServiceGen> {
    (
        1u32..=3,
        1u32..=4,
        prop::option::of(0u32..=6),
        dist(0, 20_000),
        prop_oneof![Just(0.0), 0.0..0.5],
        prop::collection::vec(
            (any::<usize>(), any::<bool>(), prop::option::of(1u64..=100)).prop_map(
                |(pick, hard, timeout_ms)| CallGen {
                    pick,
                    hard,
                    timeout_ms,
                },
            ),
            0..=3,
        ),
        prop::sample::select(vec!["RoundRobin", "Random", "LeastOutstanding"]),
    )
        .prop_map(
            |(replicas, concurrency, queue_capacity, service_time, error_rate, calls, balancer)| {
                ServiceGen {
                    replicas,
                    concurrency,
                    queue_capacity,
                    service_time,
                    error_rate,
                    calls,
                    balancer,
                }
            },
        )
}

fn workload() -> impl Strategy<Value = WorkloadGen> {
    prop_oneof![
        (
            any::<usize>(),
            0.5f64..300.0,
            prop::option::of(1u64..=300),
            prop::option::of((0.0f64..300.0, 0.0f64..300.0)),
        )
            .prop_map(|(pick, rate, timeout_ms, schedule)| WorkloadGen::Open {
                pick,
                rate,
                timeout_ms,
                schedule,
            }),
        (
            any::<usize>(),
            1u32..=15,
            dist(1_000, 50_000),
            prop::option::of(1u64..=300),
        )
            .prop_map(|(pick, users, think, timeout_ms)| WorkloadGen::Closed {
                pick,
                users,
                think,
                timeout_ms,
            }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        200u64..=3_000,
        prop_oneof![Just(0u64), 1u64..=100],
        prop::sample::select(vec![7u64, 100, 250, 1_000, 5_000]),
        prop::collection::vec(service(), 1..=4),
        prop::collection::vec(workload(), 0..=3),
    )
        .prop_map(
            |(seed, duration_ms, warmup_pct, window_ms, services, workloads)| Case {
                seed,
                duration_ms,
                // At most half the run.
                warmup_ms: duration_ms * warmup_pct / 200,
                window_ms,
                services,
                workloads,
            },
        )
}

fn opt_ms(t: Option<u64>) -> String {
    match t {
        Some(ms) => format!(r#"Some("{ms}ms")"#),
        None => "None".to_string(),
    }
}

impl Case {
    /// Service `i` calls only services after it, so calls never go round in a circle.
    fn callees(&self, i: usize) -> Vec<(usize, &CallGen)> {
        let later = self.services.len() - i - 1;
        if later == 0 {
            return Vec::new();
        }
        self.services[i]
            .calls
            .iter()
            .map(|c| (i + 1 + c.pick % later, c))
            .collect()
    }

    fn target(&self, pick: usize) -> usize {
        pick % self.services.len()
    }

    fn any_timeouts(&self) -> bool {
        let calls = (0..self.services.len())
            .any(|i| self.callees(i).iter().any(|(_, c)| c.timeout_ms.is_some()));
        let clients = self.workloads.iter().any(|w| match w {
            WorkloadGen::Open { timeout_ms, .. } | WorkloadGen::Closed { timeout_ms, .. } => {
                timeout_ms.is_some()
            }
        });
        calls || clients
    }

    fn ron(&self) -> String {
        let d = self.duration_ms;
        let mut out = format!(
            "Scenario(\n    name: \"prop\",\n    seed: {},\n    duration: \"{d}ms\",\n    warmup: \"{}ms\",\n    window: \"{}ms\",\n    services: [\n",
            self.seed, self.warmup_ms, self.window_ms
        );
        for (i, s) in self.services.iter().enumerate() {
            let calls: Vec<String> = self
                .callees(i)
                .into_iter()
                .map(|(to, c)| {
                    format!(
                        r#"Call(to: "s{to}", dependency: {}, timeout: {})"#,
                        if c.hard { "Hard" } else { "Soft" },
                        opt_ms(c.timeout_ms)
                    )
                })
                .collect();
            out += &format!(
                "        Service(name: \"s{i}\", replicas: {}, concurrency: {}, queue_capacity: {}, service_time: {}, error_rate: {:?}, balancer: {}, calls: [{}]),\n",
                s.replicas,
                s.concurrency,
                s.queue_capacity.map_or("None".to_string(), |k| format!("Some({k})")),
                s.service_time.ron(),
                s.error_rate,
                s.balancer,
                calls.join(", ")
            );
        }
        out += "    ],\n    workload: [\n";
        for (j, w) in self.workloads.iter().enumerate() {
            out += &match w {
                WorkloadGen::Open {
                    pick,
                    rate,
                    timeout_ms,
                    schedule,
                } => {
                    let schedule = match schedule {
                        Some((to, step)) => format!(
                            r#"[Ramp(at: "{}ms", to: {to:?}, over: "{}ms"), Step(at: "{}ms", rate: {step:?})]"#,
                            d / 4,
                            d / 4,
                            3 * d / 4
                        ),
                        None => "[]".to_string(),
                    };
                    format!(
                        "        Open(name: \"w{j}\", target: \"s{}\", rate: {rate:?}, timeout: {}, schedule: {schedule}),\n",
                        self.target(*pick),
                        opt_ms(*timeout_ms)
                    )
                }
                WorkloadGen::Closed {
                    pick,
                    users,
                    think,
                    timeout_ms,
                } => format!(
                    "        Closed(name: \"w{j}\", target: \"s{}\", users: {users}, think_time: {}, timeout: {}),\n",
                    self.target(*pick),
                    think.ron(),
                    opt_ms(*timeout_ms)
                ),
            };
        }
        out += "    ],\n)\n";
        out
    }
}

/// What the observer saw of one request.
struct Seen {
    service: ServiceId,
    arrived: SimTime,
    outcome: Option<Outcome>,
}

/// Watches a run and records every violation it sees (at most a few, to keep messages short).
struct Watch {
    horizon: SimTime,
    now: Option<SimTime>,
    events: u64,
    requests: HashMap<u64, Seen>,
    violations: Vec<String>,
}

impl Watch {
    fn new(horizon: SimTime) -> Self {
        Watch {
            horizon,
            now: None,
            events: 0,
            requests: HashMap::new(),
            violations: Vec::new(),
        }
    }

    fn violation(&mut self, v: String) {
        if self.violations.len() < 8 {
            self.violations.push(v);
        }
    }

    fn same_instant(&mut self, what: &str, now: SimTime) {
        if self.now != Some(now) {
            let current = self.now;
            self.violation(format!(
                "{what} at {now:?} outside the current event at {current:?}"
            ));
        }
    }
}

impl Observer for Watch {
    fn event(&mut self, now: SimTime) {
        self.events += 1;
        if let Some(before) = self.now {
            if now < before {
                self.violation(format!("time went back from {before:?} to {now:?}"));
            }
        }
        if now >= self.horizon {
            let h = self.horizon;
            self.violation(format!("event at {now:?}, at or past the horizon {h:?}"));
        }
        self.now = Some(now);
    }

    fn arrival(&mut self, now: SimTime, service: ServiceId, uid: u64) {
        self.same_instant("arrival", now);
        let seen = Seen {
            service,
            arrived: now,
            outcome: None,
        };
        if self.requests.insert(uid, seen).is_some() {
            self.violation(format!(
                "uid {uid} arrived twice (again at {service:?}, {now:?})"
            ));
        }
    }

    fn outcome(&mut self, now: SimTime, service: ServiceId, uid: u64, outcome: Outcome) {
        self.same_instant("outcome", now);
        let problem = match self.requests.get_mut(&uid) {
            None => Some(format!(
                "outcome {outcome:?} for uid {uid} that never arrived"
            )),
            Some(seen) => {
                let mut p = None;
                if seen.service != service {
                    p = Some(format!(
                        "uid {uid} arrived at {:?} but ended at {service:?}",
                        seen.service
                    ));
                } else if now < seen.arrived {
                    p = Some(format!(
                        "uid {uid} ended at {now:?} before arriving at {:?}",
                        seen.arrived
                    ));
                } else if let Some(first) = seen.outcome {
                    p = Some(format!(
                        "uid {uid} ended twice: {first:?}, then {outcome:?} at {now:?}"
                    ));
                } else if outcome == Outcome::Rejected && now != seen.arrived {
                    p = Some(format!(
                        "uid {uid} rejected at {now:?}, after arriving at {:?}",
                        seen.arrived
                    ));
                }
                seen.outcome.get_or_insert(outcome);
                p
            }
        };
        if let Some(p) = problem {
            self.violation(p);
        }
    }
}

/// Per service, what the observer counted for requests that arrived after the warmup.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    arrivals: u64,
    ok: u64,
    errors: u64,
    dependency_failed: u64,
    timeouts: u64,
    rejected: u64,
    shed: u64,
    crashed: u64,
    in_flight: u64,
}

fn tally(watch: &Watch, services: usize, warmup: SimTime) -> Vec<Tally> {
    let mut out: Vec<Tally> = (0..services).map(|_| Tally::default()).collect();
    for seen in watch.requests.values() {
        if seen.arrived < warmup {
            continue;
        }
        let t = &mut out[seen.service.0 as usize];
        t.arrivals += 1;
        match seen.outcome {
            None => t.in_flight += 1,
            Some(Outcome::Ok) => t.ok += 1,
            Some(Outcome::Error) => t.errors += 1,
            Some(Outcome::DependencyFailed) => t.dependency_failed += 1,
            Some(Outcome::Timeout) => t.timeouts += 1,
            Some(Outcome::Rejected) => t.rejected += 1,
            Some(Outcome::Shed) => t.shed += 1,
            Some(Outcome::Crashed) => t.crashed += 1,
        }
    }
    out
}

/// The sum, or `None` on overflow (a wrapped `in_flight` must fail, not panic).
fn sum(xs: &[u64]) -> Option<u64> {
    xs.iter().try_fold(0u64, |a, x| a.checked_add(*x))
}

/// Every invariant of one case; `Err` says which failed, with the numbers.
fn check_case(case: &Case) -> Result<(), String> {
    let text = case.ron();
    let spec = scenario::parse(&text, "prop").map_err(|e| format!("does not parse: {e}"))?;
    let platform = model::validate(&spec, "prop").map_err(|e| format!("invalid: {e}"))?;
    let mut watch = Watch::new(platform.duration);
    let summary = run_observed(&platform, Limits::default(), &mut watch)
        .map_err(|e| format!("run failed: {e}"))?;
    let mut problems = watch.violations.clone();
    let mut expect = |ok: bool, msg: String| {
        if !ok {
            problems.push(msg);
        }
    };

    expect(
        watch.events == summary.events,
        format!(
            "observer saw {} events, summary says {}",
            watch.events, summary.events
        ),
    );

    // Services: observed counts = summary counts; the summary's identities.
    let seen = tally(&watch, platform.services.len(), platform.warmup);
    let timeouts_possible = case.any_timeouts();
    for (i, spec) in platform.services.iter().enumerate() {
        let name = &spec.name;
        let s = &summary.services[name];
        let got = Tally {
            arrivals: s.arrivals,
            ok: s.ok,
            errors: s.errors,
            dependency_failed: s.dependency_failed,
            timeouts: s.timeouts,
            rejected: s.rejected,
            shed: s.shed,
            crashed: s.crashed,
            in_flight: s.in_flight,
        };
        expect(
            got == seen[i],
            format!("{name}: summary {got:?}\n  observed {:?}", seen[i]),
        );
        expect(
            s.in_flight <= s.arrivals,
            format!(
                "{name}: in_flight {} > arrivals {} (wrapped?)",
                s.in_flight, s.arrivals
            ),
        );
        expect(
            sum(&[s.completed, s.rejected, s.in_flight]) == Some(s.arrivals),
            format!(
                "{name}: arrivals {} != completed {} + rejected {} + in_flight {}",
                s.arrivals, s.completed, s.rejected, s.in_flight
            ),
        );
        expect(
            sum(&[s.ok, s.errors, s.dependency_failed, s.timeouts, s.shed, s.crashed])
                == Some(s.completed),
            format!(
                "{name}: completed {} != ok {} + errors {} + dependency_failed {} + timeouts {} + shed {} + crashed {}",
                s.completed, s.ok, s.errors, s.dependency_failed, s.timeouts, s.shed, s.crashed
            ),
        );
        expect(
            s.degraded <= s.ok,
            format!("{name}: degraded {} > ok {}", s.degraded, s.ok),
        );
        if spec.queue_capacity.is_none() {
            expect(
                s.rejected == 0,
                format!("{name}: {} rejected without a queue limit", s.rejected),
            );
        }
        if spec.error_rate == 0.0 {
            expect(
                s.errors == 0,
                format!("{name}: {} errors with error_rate 0", s.errors),
            );
        }
        if spec.calls.is_empty() {
            expect(
                s.dependency_failed == 0 && s.degraded == 0,
                format!(
                    "{name}: no calls, yet dependency_failed {} degraded {}",
                    s.dependency_failed, s.degraded
                ),
            );
        }
        if !timeouts_possible {
            expect(
                s.timeouts == 0,
                format!("{name}: {} timeouts with no timeouts set", s.timeouts),
            );
        }
        expect(
            (0.0..=1.0 + 1e-9).contains(&s.utilization),
            format!("{name}: utilization {} outside 0..1", s.utilization),
        );
        expect(
            s.mean_in_system >= s.mean_in_queue && s.mean_in_queue >= 0.0,
            format!(
                "{name}: mean_in_system {} < mean_in_queue {} (or negative)",
                s.mean_in_system, s.mean_in_queue
            ),
        );
        for (what, l) in [("wait_ms", &s.wait_ms), ("sojourn_ms", &s.sojourn_ms)] {
            let ordered = l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max;
            expect(
                ordered && l.mean <= l.max + 1e-9 && l.mean >= 0.0,
                format!("{name}.{what}: not ordered: {l:?}"),
            );
        }
    }

    // Workloads: the identity, and in-flight clients are in-flight requests at the target.
    let mut clients_at: HashMap<String, u64> = HashMap::new();
    for w in &platform.workloads {
        let s = &summary.workloads[&w.name];
        expect(
            s.in_flight <= s.arrivals,
            format!(
                "workload {}: in_flight {} > arrivals {} (wrapped?)",
                w.name, s.in_flight, s.arrivals
            ),
        );
        expect(
            sum(&[s.ok, s.errors, s.rejected, s.timeouts, s.in_flight]) == Some(s.arrivals),
            format!(
                "workload {}: arrivals {} != ok {} + errors {} + rejected {} + timeouts {} + in_flight {}",
                w.name, s.arrivals, s.ok, s.errors, s.rejected, s.timeouts, s.in_flight
            ),
        );
        if w.timeout.is_none() {
            expect(
                s.timeouts == 0,
                format!(
                    "workload {}: {} timeouts without a timeout",
                    w.name, s.timeouts
                ),
            );
        }
        if let model::WorkloadKind::Closed { users, .. } = &w.kind {
            expect(
                s.in_flight <= *users as u64,
                format!(
                    "workload {}: {} in flight with {users} users",
                    w.name, s.in_flight
                ),
            );
        }
        *clients_at.entry(s.target.clone()).or_default() += s.in_flight;
    }
    for (target, waiting) in &clients_at {
        let at = summary.services[target].in_flight;
        expect(
            *waiting <= at,
            format!("{waiting} clients wait on {target}, which has only {at} requests in flight"),
        );
    }

    // The time series: one row per window, in time order.
    let rows = summary.timeseries.row_count() as u64;
    let window_ms = (summary.window_s * 1000.0).round() as u64;
    expect(
        rows == case.duration_ms.div_ceil(window_ms),
        format!(
            "{rows} time-series rows for {} ms in windows of {window_ms} ms",
            case.duration_ms
        ),
    );
    let t = summary.timeseries.column("t_s").unwrap_or_default();
    expect(
        t.windows(2).all(|w| w[0] < w[1]) && t.first().is_none_or(|t0| *t0 == 0.0),
        format!("t_s not increasing from 0: {t:?}"),
    );

    // Again, unobserved: the same bytes.
    let again = simulate(&text, "prop", &[], Limits::default())
        .map_err(|e| format!("second run failed: {e}"))?;
    let (a, b) = (summary_json(&summary), summary_json(&again));
    expect(
        a == b,
        format!("summary.json differs between runs:\n{a}\nvs\n{b}"),
    );
    expect(
        timeseries_csv(&summary.timeseries) == timeseries_csv(&again.timeseries),
        "timeseries.csv differs between runs".to_string(),
    );

    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- scenario:\n{text}", problems.join("\n")))
    }
}

/// `default` cases, or `PROPTEST_CASES` from the environment for a longer soak.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn busy(summary: &Summary) -> bool {
    summary.services.values().any(|s| s.arrivals > 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn random_platforms_keep_their_books(case in case()) {
        if let Err(e) = check_case(&case) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The generator must produce cases with traffic, timeouts, rejections and closed loops;
/// otherwise the property above would pass vacuously.
#[test]
fn the_generator_reaches_the_interesting_corners() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = case();
    let (mut busy_runs, mut timeouts, mut rejected, mut dep_failed, mut closed) = (0, 0, 0, 0, 0);
    for _ in 0..64 {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        let summary = simulate(&case.ron(), "prop", &[], Limits::default())
            .unwrap_or_else(|e| panic!("{e}\n{}", case.ron()));
        busy_runs += busy(&summary) as u32;
        timeouts += summary.services.values().any(|s| s.timeouts > 0) as u32;
        rejected += summary.services.values().any(|s| s.rejected > 0) as u32;
        dep_failed += summary.services.values().any(|s| s.dependency_failed > 0) as u32;
        closed += case
            .workloads
            .iter()
            .any(|w| matches!(w, WorkloadGen::Closed { .. })) as u32;
    }
    let counts = format!(
        "of 64 cases: {busy_runs} with traffic, {timeouts} with timeouts, {rejected} with rejections, \
         {dep_failed} with failed dependencies, {closed} with closed workloads"
    );
    println!("{counts}");
    assert!(
        busy_runs >= 32 && timeouts >= 8 && rejected >= 8 && dep_failed >= 8 && closed >= 8,
        "the generator misses corners: {counts}"
    );
}

/// A valid scenario to damage.
const INTACT: &str = r#"Scenario(name: "fuzz", seed: 3, duration: "2s", warmup: "100ms", window: "250ms",
    services: [
        Service(name: "api", replicas: 2, concurrency: 2, queue_capacity: Some(3),
                service_time: LogNormal(median: "2ms", p99: "9ms"), balancer: Random,
                calls: [Call(to: "db", dependency: Soft, timeout: Some("5ms"))]),
        Service(name: "db", service_time: Erlang(k: 2, mean: "3ms"), error_rate: 0.1),
    ],
    workload: [
        Open(target: "api", rate: 50.0, timeout: Some("20ms"), schedule: [Step(at: "1s", rate: 80.0)]),
        Closed(target: "db", users: 3, think_time: Uniform(min: "1ms", max: "9ms")),
    ],
)"#;

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Duplicate { at: usize, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "0",
        "9",
        "-",
        ".",
        "e",
        "s",
        "ms",
        "h",
        "d",
        "NaN",
        "inf",
        "Some(",
        "None",
        "Hard",
        "Soft",
        "-1",
        "99999999999",
        "1e308",
        "\u{0}",
        "é",
        "/*",
        "//",
        "\n",
    ]);
    prop_oneof![
        (any::<usize>(), 1usize..=8).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), pieces).prop_map(|(at, text)| Edit::Insert {
            at,
            text: text.to_string()
        }),
        (any::<usize>(), 1usize..=40).prop_map(|(at, len)| Edit::Duplicate { at, len }),
    ]
}

fn damage(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let n = chars.len().max(1);
        match e {
            Edit::Delete { at, len } => {
                let a = at % n;
                let b = (a + len).min(chars.len());
                chars.drain(a.min(chars.len())..b);
            }
            Edit::Insert { at, text } => {
                let a = at % (chars.len() + 1);
                chars.splice(a..a, text.chars());
            }
            Edit::Duplicate { at, len } => {
                let a = at % n;
                let b = (a + len).min(chars.len());
                let copy: Vec<char> = chars[a.min(chars.len())..b].to_vec();
                chars.splice(b..b, copy);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn damaged_scenarios_are_refused_or_run_never_panic(edits in prop::collection::vec(edit(), 1..=3)) {
        let text = damage(INTACT, &edits);
        // Tight limits: a damaged number may ask for a very long or very busy run.
        let limits = Limits { max_events: 200_000, max_in_flight: 100_000, max_rows: 1_000 };
        let result = std::panic::catch_unwind(|| simulate(&text, "fuzz", &[], limits));
        match result {
            Err(_) => prop_assert!(false, "simulate panicked on:\n{}", text),
            Ok(Ok(summary)) => {
                // Accepted: the numbers must still add up.
                for (name, s) in &summary.services {
                    prop_assert!(
                        sum(&[s.completed, s.rejected, s.in_flight]) == Some(s.arrivals) && s.in_flight <= s.arrivals,
                        "{}: arrivals {} completed {} rejected {} in_flight {}\n{}",
                        name, s.arrivals, s.completed, s.rejected, s.in_flight, text
                    );
                }
            }
            Ok(Err(e)) => {
                prop_assert_eq!(e.exit_code(), 2, "{} maps to exit code {} for:\n{}", e, e.exit_code(), text);
                prop_assert!(!e.to_string().is_empty(), "empty error message for:\n{}", text);
            }
        }
    }
}

#[test]
fn the_intact_fuzz_scenario_runs() {
    let s = simulate(INTACT, "fuzz", &[], Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.services["api"].arrivals > 50 && s.services["db"].arrivals > 100,
        "the fuzz base scenario is too quiet: api {} db {} arrivals",
        s.services["api"].arrivals,
        s.services["db"].arrivals
    );
}
