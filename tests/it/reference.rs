//! The reference platforms (`scenarios/atlas.ron`, `scenarios/sre-job-queue.ron`,
//! `scenarios/food-ordering/phase*.ron`) tell the stories their headers and
//! scenarios/README.md tell, and every shipped scenario still runs.
//!
//! - atlas: the cache outage multiplies the database's reads by 1 / (1 - hit ratio); the
//!   critical SLO breaks without the documented fix and holds with it.
//! - sre-job-queue: no job lost, the surge absorbed by the list, the Redis restart pages.
//! - food ordering: each phase's success criteria (phases 1 to 5), read from its own
//!   header as `--fail-if` predicates, hold over several seeds.
//! - every `.ron` under `scenarios/` (found on disk, so new ones are covered) runs,
//!   shortened, and conserves its requests.

use super::common::run_scenario as run;
use crate::common::ron_files;
use platsim::report::summary_json;
use platsim::sweep::Predicate;
use platsim::Summary;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn read(rel: &str) -> String {
    let path = scenarios().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Mean of column `name` over the windows starting in `[from, to)` seconds.
fn mean_in(s: &Summary, name: &str, from: f64, to: f64) -> f64 {
    let t = s.timeseries.column("t_s").expect("t_s");
    let v = s
        .timeseries
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let xs: Vec<f64> = t
        .iter()
        .zip(&v)
        .filter(|(t, _)| **t >= from - 1e-9 && **t < to - 1e-9)
        .map(|(_, v)| *v)
        .collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The values of every `FLAG 'VALUE'` or `FLAG VALUE` in `text` (comment lines included).
fn flag_values(text: &str, flag: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split(flag).skip(1) {
        let part = part.trim_start();
        let value = match part.strip_prefix('\'') {
            Some(rest) => rest.split('\'').next().unwrap_or(""),
            None => part.split_whitespace().next().unwrap_or(""),
        };
        out.push(value.to_string());
    }
    out
}

fn slo_met(s: &Summary, service: &str) -> (bool, f64) {
    let h = s
        .health
        .services
        .iter()
        .find(|h| h.name == service)
        .unwrap_or_else(|| panic!("no health for {service}"));
    let a = h
        .slos
        .iter()
        .find(|x| x.name == "availability")
        .expect("an availability SLO");
    (a.met, a.measured_pct)
}

// ---- atlas ------------------------------------------------------------------------------

/// The `--set` flags of atlas.ron's "Without the fix" command, as its header gives them.
fn atlas_without_fix(text: &str) -> Vec<String> {
    let block = text
        .split("// Without the fix:")
        .nth(1)
        .expect("atlas.ron documents the run without the fix")
        .split("Scenario(")
        .next()
        .unwrap();
    let sets = flag_values(block, "--set");
    assert_eq!(sets.len(), 4, "{sets:?}");
    sets
}

#[test]
fn atlas_cache_outage_multiplies_database_reads_by_one_over_one_minus_the_hit_ratio() {
    // Measured on the read path alone: single flight off (it would merge concurrent
    // misses of hot keys) and a database big enough that nothing queues or is refused,
    // so every miss is one query. Reads = postgres arrivals - orders-api's writes.
    let text = read("atlas.ron");
    let base = [
        "services.catalog-api.calls.0.cache.coalesce=false",
        "services.postgres.concurrency=64",
    ];
    // The hit ratio the cache reports over [5m, 10m), without any fault.
    let mut pre = base.to_vec();
    pre.extend(["duration=10m", "faults=[]"]);
    let before_run = run(&text, &pre);
    let hit = before_run.calls["catalog-api->postgres"]
        .cache
        .as_ref()
        .expect("cache summary")
        .hit_ratio;
    assert!((0.85..0.97).contains(&hit), "hit ratio {hit}");
    let mut crash = base.to_vec();
    crash.extend([
        "duration=12m",
        "faults=[Crash(target: \"redis\", at: \"10m\", duration: \"2m\")]",
    ]);
    let s = run(&text, &crash);
    assert_eq!(s.services["orders-api"].rejected, 0);
    let reads = |from, to| {
        mean_in(&s, "postgres.arrivals_rps", from, to)
            - mean_in(&s, "orders-api.arrivals_rps", from, to)
    };
    let (before, during) = (reads(300.0, 600.0), reads(600.0, 720.0));
    // During the outage every read is a miss: the whole 300/s.
    assert!(
        (during - 300.0).abs() < 10.0,
        "reads during the outage: {during}"
    );
    // Tolerance 5%: the reads before are ~22/s over 300 s (~6,700, Poisson: 1.2%), the
    // writes subtracted are as noisy (~50/s), and the outage's 36,000 reads add 0.5%;
    // 5% is above three standard deviations of the ratio.
    let want = 1.0 / (1.0 - hit);
    let got = during / before;
    assert!(
        (got / want - 1.0).abs() < 0.05,
        "database reads rose {got:.2}x; 1 / (1 - {hit:.4}) = {want:.2}x (before {before:.1}/s, during {during:.1}/s)"
    );
}

#[test]
fn atlas_critical_slo_breaks_without_the_fix_and_holds_with_it() {
    let text = read("atlas.ron");
    let with = run(&text, &[]);
    // Caches, pools and fallbacks draw from their own streams: same seed, same bytes.
    assert_eq!(summary_json(&with), summary_json(&run(&text, &[])));
    assert_eq!(
        slo_met(&with, "catalog-api"),
        (true, slo_met(&with, "catalog-api").1)
    );
    assert!(
        slo_met(&with, "catalog-api").1 >= 99.99,
        "{:?}",
        slo_met(&with, "catalog-api")
    );
    assert!(
        slo_met(&with, "orders-api").0,
        "{:?}",
        slo_met(&with, "orders-api")
    );
    // The fix degrades instead of failing: the fallback served the reads the breaker cut.
    let fb = with.calls["catalog-api->postgres"]
        .fallback
        .clone()
        .expect("fallback");
    assert!(fb.served_default > 0 && with.services["catalog-api"].degraded == fb.served_default);
    let sets = atlas_without_fix(&text);
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let without = run(&text, &sets);
    let (met, pct) = slo_met(&without, "catalog-api");
    assert!(!met && pct < 99.9, "catalog-api without the fix: {pct}");
    assert!(
        !slo_met(&without, "orders-api").0,
        "orders-api shares the database"
    );
    let catalog = &without.services["catalog-api"];
    assert!(catalog.rejected > 1000, "429s: {catalog:?}");
    assert!(
        catalog.dependency_failed + catalog.timeouts > 1000,
        "504s: {catalog:?}"
    );
    // The object store and its non-critical API are untouched either way.
    assert!(slo_met(&without, "media-api").0);
}

// ---- sre-job-queue ----------------------------------------------------------------------

#[test]
fn sre_job_queue_loses_nothing_absorbs_the_surge_and_pages_on_the_redis_restart() {
    let text = read("sre-job-queue.ron");
    let s = run(&text, &[]);
    let orders = s.orders.clone().expect("orders");
    let q = &s.queues["jobs"];
    // Only the jobs pushed since redis' last fsync (AOF everysec) before its crash at
    // 990.5 s are lost (tests/it/outage.rs counts them exactly).
    assert_eq!(
        (orders.lost, orders.in_flight, orders.in_dlq),
        (q.store_lost, 0, 0),
        "{orders:?}"
    );
    assert!((1..=150).contains(&q.store_lost), "{q:?}");
    assert!(q.expired > 0, "the crashed worker's jobs came back: {q:?}");
    // The surge: 150/s against ~94/s of workers for 2 minutes: ~56/s x 120 s piles up.
    assert!((4_000..9_000).contains(&q.depth_max), "{q:?}");
    assert_eq!(q.depth_end, 0);
    let depth_at = |t: f64| mean_in(&s, "queue.jobs.depth", t, t + 10.0);
    assert!(depth_at(1010.0) > 4_000.0 && depth_at(1200.0) < 10.0);
    // The Redis restart: 30 s of 503s at 50/s burn api-service's 99.9% budget and page.
    let (met, pct) = slo_met(&s, "api-service");
    assert!(!met && pct < 99.0, "{pct}");
    let api = s
        .health
        .services
        .iter()
        .find(|h| h.name == "api-service")
        .unwrap();
    let page = api
        .alerts
        .iter()
        .find(|a| a.rule == "page-fast")
        .expect("a fast-burn page");
    assert!((600.0..=630.0).contains(&page.fired_s), "{page:?}");
    // A plain list (BRPOP) loses the jobs in the crashed worker's hands.
    let plain = run(&text, &["queues.jobs.reliable=false"]);
    assert!(plain.orders.clone().unwrap().lost > 0);
}

// ---- time in queues (issue 25) -----------------------------------------------------------

/// Each `(summary.json path, quoted value, half its last digit)` matches the run.
#[track_caller]
fn quoted(rel: &str, figures: &[(&str, f64, f64)]) {
    let s = run(&read(rel), &[]);
    let json: Value = serde_json::from_str(&summary_json(&s)).expect("summary.json");
    for &(path, want, half) in figures {
        let got = json
            .pointer(path)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("{rel}: no number at {path}"));
        assert!(
            (got - want).abs() <= half,
            "{rel}: {path} is {got}, the header says {want}"
        );
    }
}

/// The time-in-queue and order-latency figures quoted in the headers of sre-job-queue and
/// the event platforms.
#[test]
fn headers_quote_time_in_queue_and_order_latency() {
    quoted(
        "sre-job-queue.ron",
        &[
            ("/queues/jobs/wait_ms/mean", 9_300.0, 50.0),
            ("/queues/jobs/wait_ms/p50", 0.0, 0.0),
            ("/queues/jobs/wait_ms/p99", 60_100.0, 50.0),
            ("/queues/jobs/oldest_age_s_max", 61.5, 0.05),
            ("/orders/latency_ms/mean", 9_600.0, 50.0),
            ("/orders/latency_ms/p50", 290.0, 5.0),
            ("/orders/latency_ms/p99", 60_300.0, 50.0),
            ("/services/worker-service/sojourn_ms/mean", 250.0, 5.0),
            (
                "/services/worker-service/pulled/sojourn_with_queue_ms/mean",
                9_600.0,
                50.0,
            ),
        ],
    );
    quoted(
        "events/job-queue.ron",
        &[
            ("/queues/jobs/wait_ms/mean", 1.2, 0.05),
            ("/queues/jobs/wait_ms/p99", 46.0, 0.5),
            ("/queues/jobs/wait_ms/max", 201.0, 0.5),
            ("/orders/latency_ms/mean", 114.0, 0.5),
            ("/orders/latency_ms/p50", 92.0, 0.5),
            ("/orders/latency_ms/p99", 425.0, 0.5),
            ("/services/worker/sojourn_ms/mean", 107.0, 0.5),
        ],
    );
    quoted(
        "events/food-ordering.ron",
        &[
            ("/topics/orders/groups/payment/wait_ms/mean", 2_620.0, 5.0),
            ("/topics/orders/groups/payment/wait_ms/p50", 25.0, 0.5),
            ("/topics/orders/groups/payment/wait_ms/p99", 26_800.0, 50.0),
            ("/topics/orders/groups/payment/lag_max", 6_603.0, 0.0),
            ("/topics/orders/groups/payment/lag_s_max", 33.4, 0.05),
            ("/orders/latency_ms/mean", 2_730.0, 5.0),
            ("/orders/latency_ms/p50", 74.0, 0.5),
            ("/orders/latency_ms/p99", 26_900.0, 50.0),
        ],
    );
    quoted(
        "events/at-most-once.ron",
        &[
            ("/orders/latency_ms/mean", 2_610.0, 5.0),
            ("/orders/latency_ms/p50", 70.0, 0.5),
            ("/orders/latency_ms/p99", 26_900.0, 50.0),
            ("/orders/in_dlq", 930.0, 0.0),
            ("/orders/dlq_latency_ms/mean", 2_410.0, 5.0),
        ],
    );
    quoted(
        "events/effectively-once.ron",
        &[
            ("/orders/latency_ms/mean", 3_070.0, 5.0),
            ("/orders/latency_ms/p50", 277.0, 0.5),
            ("/orders/latency_ms/p99", 27_000.0, 50.0),
            ("/topics/orders/groups/payment/wait_ms/mean", 2_670.0, 5.0),
        ],
    );
    quoted(
        "events/retention-and-acks.ron",
        &[
            ("/topics/orders/groups/payment/lag_s_max", 120.0, 0.05),
            ("/topics/orders/groups/payment/lag_max", 23_991.0, 0.0),
            ("/orders/latency_ms/mean", 31_700.0, 50.0),
            ("/orders/latency_ms/p50", 2_700.0, 5.0),
            ("/orders/latency_ms/p99", 118_000.0, 500.0),
        ],
    );
}

// ---- food ordering ----------------------------------------------------------------------

/// Runs `rel` over `seeds` and checks every `--fail-if` predicate of its header.
fn criteria_hold(rel: &str, seeds: std::ops::RangeInclusive<u64>) {
    let text = read(rel);
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let predicates: Vec<Predicate> = flag_values(&header, "--fail-if")
        .iter()
        .map(|p| p.parse().unwrap_or_else(|e| panic!("{rel}: {p}: {e}")))
        .collect();
    assert!(predicates.len() >= 3, "{rel}: {predicates:?}");
    for seed in seeds {
        let s = run(&text, &[&format!("seed={seed}")]);
        let json: Value = serde_json::from_str(&summary_json(&s)).expect("summary.json");
        for p in &predicates {
            match p.check(&json) {
                Ok(None) => {}
                Ok(Some(why)) => panic!("{rel} seed {seed}: {why}"),
                Err(e) => panic!("{rel}: {e}"),
            }
        }
    }
}

#[test]
fn food_ordering_phase1_criteria_hold() {
    criteria_hold("food-ordering/phase1.ron", 1..=5);
}

#[test]
fn food_ordering_phase1_collapses_without_its_breaker() {
    let text = read("food-ordering/phase1.ron");
    let s = run(&text, &["services.monolith.calls.0.breaker=None"]);
    assert!(
        s.services["monolith"].rejected > 0,
        "the slow minute fills the monolith"
    );
}

/// `orders.duplicated` counts double charges, not charge attempts: with the provider's
/// idempotency keys none (the repeats are deduplicated), without them some.
#[test]
fn food_ordering_phase1_duplicates_orders_only_without_idempotency() {
    let text = read("food-ordering/phase1.ron");
    let keyed = run(&text, &[]);
    let o = keyed.orders.as_ref().expect("orders");
    assert_eq!(o.duplicated, 0, "{o:?}");
    assert!(o.steps["payment"].deduplicated > 0, "{o:?}");
    let unkeyed = run(&text, &["services.payment.idempotent=false"]);
    let o = unkeyed.orders.as_ref().expect("orders");
    assert!(o.duplicated > 0, "{o:?}");
    assert_eq!(o.duplicated, o.steps["payment"].duplicated);
    assert!(unkeyed.services["payment"].duplicate_side_effects > 0);
}

/// The `--set` a header gives after `--set ` on the line containing `path=`, quotes
/// stripped.
fn header_set(text: &str, path: &str) -> String {
    let line = text
        .lines()
        .take_while(|l| l.starts_with("//"))
        .find(|l| l.contains(&format!("{path}=")))
        .unwrap_or_else(|| panic!("no --set {path}= in the header"));
    let from = line.find(&format!("'{path}=")).expect("quoted --set") + 1;
    let rest = &line[from..];
    rest[..rest.find('\'').expect("closing quote")].to_string()
}

/// Issue 23: a crash between the charge and the answer (and the slow minute's charges
/// that outlive their timeout, and the database's restart after the charge) leaves
/// customers charged for refused checkouts, counted once each: 293 + 23 + 1,000; the
/// header's idempotency-key retry answers every checkout and leaves none.
#[test]
fn food_ordering_phase1_counts_charges_of_refused_checkouts_and_the_keyed_retry_heals_them() {
    let text = read("food-ordering/phase1.ron");
    let s = run(&text, &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!(o.side_effects_unacknowledged, 1316, "{o:?}");
    assert_eq!(o.unacknowledged_causes.get("error"), Some(&1316));
    assert_eq!(o.steps["payment"].unacknowledged, 1316);
    assert_eq!(
        s.services["monolith"].crashed, 27,
        "checkouts the crash killed"
    );
    let retry = header_set(&text, "workload.checkout.retry");
    let healed = run(&text, &[&retry]);
    let o = healed.orders.as_ref().expect("orders");
    assert_eq!((o.refused, o.side_effects_unacknowledged), (0, 0), "{o:?}");
    assert_eq!((o.lost, o.duplicated), (0, 0), "{o:?}");
    assert!(
        o.steps["payment"].deduplicated > 0,
        "the retries' charges deduplicated"
    );
}

#[test]
fn food_ordering_phase2_criteria_hold() {
    criteria_hold("food-ordering/phase2.ron", 1..=5);
}

#[test]
fn food_ordering_phase3_criteria_hold() {
    criteria_hold("food-ordering/phase3.ron", 1..=5);
}

#[test]
fn food_ordering_phase4_criteria_hold() {
    criteria_hold("food-ordering/phase4.ron", 1..=5);
}

/// Issue 23: each `// variant: SET... => PREDICATE` line of phase 4's header switches one
/// defence off; the run then fails the criterion the line names (and the predicate is one
/// of the header's `--fail-if` criteria).
#[test]
fn food_ordering_phase4_fails_a_named_criterion_without_each_defence() {
    variants_fail_their_criteria(
        "food-ordering/phase4.ron",
        4,
        "limiter, breakers, backpressure, the producer buffer's shedding",
    );
}

/// Each `// variant: SET... => PREDICATE` line of a header switches one defence off; the
/// run then fails the criterion the line names, one of the header's `--fail-if`.
fn variants_fail_their_criteria(rel: &str, n: usize, what: &str) {
    let text = read(rel);
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//")).collect();
    let criteria = flag_values(&header.join("\n"), "--fail-if");
    let variants: Vec<&str> = header
        .iter()
        .filter_map(|l| l.strip_prefix("// variant: "))
        .collect();
    assert_eq!(variants.len(), n, "{rel}: {what}");
    for v in variants {
        let (sets, predicate) = v.split_once(" => ").expect("SET... => PREDICATE");
        assert!(
            criteria.iter().any(|c| c == predicate),
            "{predicate}: not a criterion"
        );
        let sets: Vec<&str> = sets.split_whitespace().collect();
        let s = run(&text, &sets);
        let json: Value = serde_json::from_str(&summary_json(&s)).expect("summary.json");
        let p: Predicate = predicate.parse().expect("predicate");
        assert!(
            matches!(p.check(&json), Ok(Some(_))),
            "{sets:?}: {predicate} holds"
        );
    }
}

/// Issue 23, phase 3's probes: a `Hang` of one of two api pods at 722 s, 200 checkouts/s
/// (100/s per pod by round robin). By hand: the pod's 64 threads and 200 queue slots hold
/// 264 requests; readiness (every 5 s, 2 failures) fails at 725 and 730 s and takes the pod
/// out of rotation (`replicas_up` 1 from 730 s); liveness (every 10 s, 3 failures) fails
/// at 730, 740 and 750 s and restarts it: the 264 held requests fail (`crashed`), the
/// oldest after 750 - 722 = 28 s; the pod is back after the 10 s CrashLoopBackOff delay
/// and 5 s to start. Each probe switched off fails the criterion the header names.
#[test]
fn food_ordering_phase3_probes_restart_the_hung_pod_and_take_it_out_of_rotation() {
    let s = run(&read("food-ordering/phase3.ron"), &[]);
    let api = &s.services["api"];
    let pods = api.pods.as_ref().expect("pods");
    assert_eq!((pods.liveness_restarts, pods.readiness_failures), (1, 1));
    assert_eq!(api.crashed, 64 + 200, "the hung pod's threads and queue");
    assert!(
        (27_990.0..=28_000.0).contains(&api.sojourn_ms.max),
        "{}",
        api.sojourn_ms.max
    );
    let t = s.timeseries.column("t_s").expect("t_s");
    let up = s.timeseries.column("api.replicas_up").expect("replicas_up");
    let at = |x: f64| up[t.iter().position(|&w| w == x).expect("window")];
    assert_eq!(
        (at(710.0), at(730.0), at(740.0), at(750.0), at(770.0)),
        (2.0, 1.0, 1.0, 1.0, 2.0),
        "out of rotation from 730 s, back after the restart"
    );
    let w = &s.workloads["checkout"];
    assert_eq!((w.rejected, w.timeouts, api.rejected), (189, 4, 1116));
    variants_fail_their_criteria(
        "food-ordering/phase3.ron",
        2,
        "without readiness, without liveness",
    );
}

#[test]
fn food_ordering_phase5_criteria_hold() {
    criteria_hold("food-ordering/phase5.ron", 1..=3);
}

/// CPU is CPU (`food-ordering/cpu-vs-io.ron`, the figures in its header): under the same
/// 1-core limit and CPU autoscaler, the CPU-bound menu is throttled and scaled, the
/// IO-bound orders (threads waiting on a database) is neither; each has its own fix.
#[test]
fn cpu_bound_is_throttled_and_scaled_io_bound_is_neither() {
    let text = read("food-ordering/cpu-vs-io.ron");
    let pods = |s: &Summary, n: &str| s.services[n].pods.clone().expect("pods");
    let peak = |s: &Summary, n: &str| {
        s.services[n]
            .autoscale
            .as_ref()
            .map_or(0, |a| a.peak_replicas)
    };
    let p99 = |s: &Summary, n: &str| s.services[n].sojourn_ms.p99;
    let s = run(&text, &[]);
    let (menu, orders) = (pods(&s, "menu"), pods(&s, "orders"));
    assert_eq!(
        (orders.cpu_throttled_periods, orders.cpu_throttled_s),
        (0, 0.0)
    );
    assert_eq!(peak(&s, "orders"), 2, "the autoscaler leaves orders alone");
    assert!(s.services["orders"]
        .autoscale
        .as_ref()
        .unwrap()
        .events
        .is_empty());
    // 40 then 140 rps x 2 ms of CPU: about 144 CPU-seconds in 10 minutes.
    assert!((140.0..150.0).contains(&orders.cpu_s), "{orders:?}");
    assert_eq!(menu.cpu_throttled_periods, 2242, "{menu:?}");
    assert!((270.0..272.0).contains(&menu.cpu_throttled_s), "{menu:?}");
    assert_eq!(peak(&s, "menu"), 4);
    assert!((201.0..202.0).contains(&p99(&s, "menu")));
    assert!((647.0..649.0).contains(&p99(&s, "orders")));
    // Fix orders with threads: down to its own IO time's p99 (100 ms x ln 100 = 460 ms).
    let more_threads = run(&text, &["services.orders.concurrency=32"]);
    assert!((463.0..465.0).contains(&p99(&more_threads, "orders")));
    assert_eq!(pods(&more_threads, "orders").cpu_throttled_s, 0.0);
    // Without its autoscaler, menu stays throttled.
    let fixed_pods = run(&text, &["services.menu.autoscale=None"]);
    let m = pods(&fixed_pods, "menu");
    assert!((2104.0..2106.0).contains(&m.cpu_throttled_s), "{m:?}");
    assert!((671.0..673.0).contains(&p99(&fixed_pods, "menu")));
}

// ---- every scenario ---------------------------------------------------------------------

/// The latest `at` of the scenario's faults, whatever their kind.
fn last_fault_s(spec: &platsim::scenario::Spec) -> f64 {
    // Deployments (rolling updates) are refused after the end too.
    let faults = serde_json::to_value(&spec.faults).expect("faults serialize");
    let deployments = serde_json::to_value(&spec.deployments).expect("deployments serialize");
    faults
        .as_array()
        .into_iter()
        .chain(deployments.as_array())
        .flatten()
        .filter_map(|f| {
            f.as_object()?
                .values()
                .next()?
                .get("at")?
                .as_str()
                .map(str::to_string)
        })
        .filter_map(|at| platsim::engine::parse_duration(&at).ok())
        .map(|t| t.as_secs_f64())
        .fold(0.0, f64::max)
}

#[test]
fn every_shipped_scenario_runs_shortened_and_conserves_its_requests() {
    let mut files = Vec::new();
    ron_files(&scenarios(), &mut files);
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        let spec = platsim::scenario::parse(&text, &f.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let full = platsim::engine::parse_duration(&spec.duration)
            .expect("duration")
            .as_secs_f64();
        let warmup = platsim::engine::parse_duration(&spec.warmup)
            .expect("warmup")
            .as_secs_f64();
        // Long enough for every fault to start (validation refuses a fault after the
        // end) and for a minute after the warmup; never longer than the file's own run.
        let short = (last_fault_s(&spec) + 30.0).max(warmup + 60.0).min(full);
        let s = run(&text, &[&format!("duration={short}s")]);
        assert!(s.events > 0, "{}: nothing happened", f.display());
        for (name, v) in &s.services {
            let ended = v.ok + v.errors + v.dependency_failed + v.timeouts + v.shed + v.crashed;
            assert_eq!(v.completed, ended, "{}: {name}", f.display());
            assert_eq!(
                v.arrivals,
                v.completed + v.rejected + v.in_flight,
                "{}: {name}",
                f.display()
            );
        }
    }
}
