//! Data stores on tiny platforms whose numbers can be worked out by hand: connection pools
//! (one per caller replica, HikariCP's wait and timeout), cache-aside (the hit ratio of a
//! TTL cache under Poisson reads, single flight, the stampede of a cache outage and the
//! warm-up after it), fallbacks, and a database's write path; then validation.
//!
//! Why: the reference platforms (`scenarios/atlas.ron` and friends) tell their stories
//! with these mechanisms; each must first be right on its own.

use super::common::run_scenario as run;
use platsim::Summary;

fn column(s: &Summary, name: &str) -> Vec<f64> {
    s.timeseries
        .column(name)
        .unwrap_or_else(|| panic!("no column {name:?}"))
}

/// Mean of column `name` over the windows starting in `[from, to)` seconds.
fn mean_in(s: &Summary, name: &str, from: f64, to: f64) -> f64 {
    let t = column(s, "t_s");
    let v = column(s, name);
    let xs: Vec<f64> = t
        .iter()
        .zip(&v)
        .filter(|(t, _)| **t >= from - 1e-9 && **t < to - 1e-9)
        .map(|(_, v)| *v)
        .collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[track_caller]
fn near(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want} ± {tol}"
    );
}

/// Two api replicas, each with a pool of one connection to a database whose queries take
/// exactly 100 ms: 2 connections x 10 queries/s = 20 queries/s, whatever is offered.
const POOL: &str = r#"Scenario(
    name: "pool", duration: "10m",
    services: [
        Service(name: "api", replicas: 2, concurrency: 200, service_time: Constant("1ms"),
                calls: [Call(to: "db", pool: Some(Pool(max_size: 1, connection_timeout: "200ms")))]),
        Service(name: "db", concurrency: 100, service_time: Constant("100ms")),
    ],
    workload: [Open(target: "api", rate: 40.0)],
)"#;

#[test]
fn a_pool_per_caller_replica_bounds_the_database_load() {
    let s = run(POOL, &[]);
    let db = &s.services["db"];
    let edge = &s.calls["api->db"];
    let pool = edge.pool.as_ref().expect("pool summary");
    // Per replica: a shared pool of one would allow 10/s, not 20/s. The pool idles only
    // when no attempt waits, which at twice its capacity is rare: within 2%.
    let rate = db.arrivals as f64 / 600.0;
    near(
        rate,
        20.0,
        0.4,
        "queries per second through 2 pools of 1 x 100 ms",
    );
    // Every call got a connection (and reached the db) or timed out waiting for one.
    // (Up to 8 + 2 were still waiting or querying when the run ended.)
    let settled = db.arrivals + pool.timeouts;
    assert!(edge.calls - settled <= 20, "{edge:?} {db:?}");
    assert!(
        pool.waited >= pool.timeouts && pool.timeouts > 0,
        "{pool:?}"
    );
    assert!(
        pool.wait_ms_max <= 200.0,
        "waits end at the timeout: {pool:?}"
    );
    assert_eq!(
        db.rejected, 0,
        "the pool, not the database, turns calls away"
    );
    // HikariCP's defaults: 10 connections, 30 s: here nothing waits that long.
    let s = run(POOL, &["services.api.calls.0.pool=Pool()"]);
    let pool = s.calls["api->db"].pool.clone().expect("pool summary");
    assert_eq!((pool.max_size, pool.timeouts), (10, 0), "{pool:?}");
    // A zero timeout fails at once when the pool is empty: nothing waits.
    let s = run(
        POOL,
        &["services.api.calls.0.pool.connection_timeout=\"0s\""],
    );
    let pool = s.calls["api->db"].pool.clone().expect("pool summary");
    assert_eq!(pool.waited, pool.timeouts, "{pool:?}");
}

/// 100 equally popular keys read at 1000/s (10/s each) with a 1 s TTL; a lookup takes
/// 1 ms and a query 9 ms, so a key is written back 10 ms after the miss.
const CACHE: &str = r#"Scenario(
    name: "cache", duration: "2m", warmup: "10s", window: "5s",
    services: [
        Service(name: "api", replicas: 2, concurrency: 500, service_time: Constant("0s"),
                calls: [Call(to: "db", cache: Some(Cache(service: "redis", keys: 100, zipf: 0.0, ttl: Some("1s"))))]),
        Service(name: "redis", concurrency: 500, service_time: Constant("1ms")),
        Service(name: "db", concurrency: 500, service_time: Constant("9ms")),
    ],
    workload: [Open(target: "api", rate: 1000.0)],
)"#;

#[test]
fn a_ttl_cache_hits_as_poisson_reads_predict() {
    // Per key: a miss, the ~0.1 further misses of the 10 ms before the write-back
    // (10/s x 10 ms), then the 10 reads of the TTL's second hit: 10 / 11.1 = 0.9009.
    let s = run(CACHE, &[]);
    let c = s.calls["api->db"].cache.clone().expect("cache summary");
    near(c.hit_ratio, 10.0 / 11.1, 0.005, "hit ratio");
    // (A lookup or two are still in flight at the end.)
    assert!(c.lookups - (c.hits + c.misses) <= 5, "{c:?}");
    assert_eq!((c.lookup_failures, c.coalesced), (0, 0), "{c:?}");
    // The database sees the misses and nothing else; the cache sees lookups and fills.
    let db = s.services["db"].arrivals as f64;
    near(db / c.misses as f64, 1.0, 0.002, "db arrivals per miss");
    let redis = s.services["redis"].arrivals as f64;
    near(
        redis / (c.lookups + c.fills) as f64,
        1.0,
        0.002,
        "redis arrivals",
    );
}

#[test]
fn single_flight_shares_one_backing_call_per_key() {
    // A 100 ms query: a miss is followed by 10/s x 101 ms = 1.01 more before the
    // write-back. Without coalescing each is a query; with it they wait for the first.
    let slow = ["services.db.service_time=Constant(\"100ms\")"];
    let plain = run(CACHE, &slow);
    let coalesce = [slow[0], "services.api.calls.0.cache.coalesce=true"];
    let single = run(CACHE, &coalesce);
    let c = single.calls["api->db"]
        .cache
        .clone()
        .expect("cache summary");
    near(
        c.coalesced as f64 / c.misses as f64,
        1.01 / 2.01,
        0.02,
        "coalesced share of misses",
    );
    // Only the leaders query: one per TTL cycle.
    let db = single.services["db"].arrivals as f64;
    near(
        db / (c.misses - c.coalesced) as f64,
        1.0,
        0.005,
        "queries per leader",
    );
    // Hits per cycle: the TTL's 10 reads; misses per cycle 2.01.
    near(
        c.hit_ratio,
        10.0 / 12.01,
        0.01,
        "hit ratio with single flight",
    );
    let p = plain.calls["api->db"].cache.clone().expect("cache summary");
    assert_eq!(p.coalesced, 0);
    let ratio = plain.services["db"].arrivals as f64 / db;
    near(ratio, 2.01, 0.1, "queries without / with single flight");
}

#[test]
fn a_cache_outage_turns_every_read_onto_the_database_then_warms_up() {
    // The cache dies for 30 s at 60 s and comes back empty.
    let crash = ["faults=[Crash(target: \"redis\", at: \"60s\", duration: \"30s\")]"];
    let s = run(CACHE, &crash);
    let hit = 10.0 / 11.1;
    let before = mean_in(&s, "db.arrivals_rps", 30.0, 60.0);
    let during = mean_in(&s, "db.arrivals_rps", 60.0, 90.0);
    near(before, 1000.0 * (1.0 - hit), 8.0, "db load with the cache");
    // The whole load: 1 / (1 - hit ratio) = 11.1 times as much.
    near(during, 1000.0, 20.0, "db load without the cache");
    near(during / before, 1.0 / (1.0 - hit), 1.0, "stampede factor");
    let c = s.calls["api->db"].cache.clone().expect("cache summary");
    assert!(c.lookup_failures > 25_000, "{c:?}");
    // Back, empty: 100 keys read 10 times a second each are all refilled within a
    // fraction of a second (the warm-up of a long Zipf tail is slower: atlas.ron).
    near(
        mean_in(&s, "db.arrivals_rps", 90.0, 120.0),
        before,
        10.0,
        "warm again",
    );
    // Every read was answered: a cache outage costs the database, not the clients.
    let api = &s.services["api"];
    assert_eq!(api.ok + api.in_flight, api.arrivals, "{api:?}");
}

#[test]
fn zipf_popularity_makes_a_small_cache_key_space_hot() {
    // Zipf(1) over 10,000 keys: the top 100 keys carry 5.19 / 9.79 = 53% of reads. With
    // a 1 s TTL at 1000 reads/s, the hot keys hit, the long tail mostly misses.
    let text = CACHE.replace("keys: 100, zipf: 0.0", "keys: 10000, zipf: 1.0");
    let s = run(&text, &[]);
    let c = s.calls["api->db"].cache.clone().expect("cache summary");
    // Sum over keys k of p_k h_k, with p_k = 1/(k H) and, per key read at l = 1000 p_k
    // per second, h_k = l T / (l T + 1 + l d) (T = 1 s, fill delay d = 10 ms): 0.527.
    let h = 9.787_606; // H(10000)
    let want: f64 = (1..=10_000)
        .map(|k| {
            let p = 1.0 / (k as f64 * h);
            let l = 1000.0 * p;
            p * l / (1.0 + l * 1.01)
        })
        .sum();
    near(c.hit_ratio, want, 0.01, "Zipf hit ratio");
}

const FALLBACK: &str = r#"Scenario(
    name: "fallback", duration: "2m",
    services: [
        Service(name: "web", concurrency: 100, service_time: Constant("1ms"),
                calls: [Call(to: "recs", timeout: Some("100ms"), fallback: Some(Default))]),
        Service(name: "recs", concurrency: 100, service_time: Constant("5ms"), error_rate: 0.3),
        Service(name: "popular", concurrency: 100, service_time: Constant("1ms"), error_rate: 0.5),
    ],
    workload: [Open(target: "web", rate: 100.0)],
)"#;

#[test]
fn a_fallback_serves_a_default_or_asks_another_service() {
    let s = run(FALLBACK, &[]);
    let web = &s.services["web"];
    let edge = &s.calls["web->recs"];
    let fb = edge.fallback.clone().expect("fallback summary");
    // Every failed call is answered with the default: degraded, never failed.
    assert_eq!(web.ok + web.in_flight, web.arrivals, "{web:?}");
    assert_eq!(web.degraded, edge.failed);
    assert_eq!(fb.served_default, edge.failed);
    near(
        edge.failed as f64 / edge.calls as f64,
        0.3,
        0.02,
        "failed share",
    );
    // A fallback service answers half of them; the other half fail the (hard) call.
    let s = run(
        FALLBACK,
        &["services.web.calls.0.fallback=Service(\"popular\")"],
    );
    let web = &s.services["web"];
    let edge = &s.calls["web->recs"];
    let fb = edge.fallback.clone().expect("fallback summary");
    assert_eq!(fb.served_by_service + fb.service_failed, edge.failed);
    assert_eq!(web.degraded, fb.served_by_service);
    assert_eq!(web.dependency_failed, fb.service_failed);
    near(
        fb.service_failed as f64 / edge.calls as f64,
        0.15,
        0.015,
        "30% x 50% fail",
    );
    assert_eq!(s.services["popular"].arrivals, edge.failed);
}

#[test]
fn a_database_write_path_has_its_own_latency_and_errors() {
    let text = r#"Scenario(
        name: "writes", duration: "10m",
        services: [
            Service(name: "db", concurrency: 100, service_time: Constant("2ms"),
                    writes: Some(Writes(share: 0.25, service_time: Constant("10ms"), error_rate: 0.2))),
        ],
        workload: [Open(target: "db", rate: 200.0)],
    )"#;
    let s = run(text, &[]);
    let db = &s.services["db"];
    let w = db.writes.clone().expect("writes summary");
    near(
        w.writes as f64 / db.completed as f64,
        0.25,
        0.01,
        "write share",
    );
    near(
        w.write_errors as f64 / w.writes as f64,
        0.2,
        0.01,
        "write errors",
    );
    assert_eq!(db.errors, w.write_errors, "reads never fail here");
    // Mean sojourn: 0.75 x 2 ms + 0.25 x 10 ms = 4 ms (no queueing at 100 servers).
    near(db.sojourn_ms.mean, 4.0, 0.1, "mean of reads and writes");
    // Writes by caller: everything the orders service sends is a write, nothing else.
    let text = r#"Scenario(
        name: "writers", duration: "5m",
        services: [
            Service(name: "shop", concurrency: 100, service_time: Constant("1ms"),
                    calls: [Call(to: "db")]),
            Service(name: "orders", concurrency: 100, service_time: Constant("1ms"),
                    calls: [Call(to: "db")]),
            Service(name: "db", concurrency: 100, service_time: Constant("2ms"),
                    writes: Some(Writes(from: ["orders"], service_time: Constant("10ms")))),
        ],
        workload: [Open(target: "shop", rate: 100.0), Open(target: "orders", rate: 20.0)],
    )"#;
    let s = run(text, &[]);
    let w = s.services["db"].writes.clone().expect("writes summary");
    let orders = &s.calls["orders->db"];
    assert!(orders.calls - w.writes <= 2, "{w:?} {orders:?}");
    assert_eq!(w.write_errors, 0);
}

#[test]
fn bad_data_store_settings_are_named_with_their_paths() {
    let text = r#"Scenario(
        name: "bad", duration: "1m",
        services: [
            Service(name: "api", service_time: Constant("1ms"),
                    calls: [Call(to: "db",
                                 pool: Some(Pool(max_size: 0, connection_timeout: "soon")),
                                 bulkhead: Some(Bulkhead()),
                                 cache: Some(Cache(service: "rediss", keys: 0, zipf: -1.0, ttl: Some("0s"))),
                                 fallback: Some(Service("api")))]),
            Service(name: "redis", service_time: Constant("1ms")),
            Service(name: "db", service_time: Constant("1ms"),
                    writes: Some(Writes(share: 1.5, service_time: Constant("1ms"), error_rate: -0.1))),
        ],
        workload: [Open(target: "api", rate: 1.0)],
    )"#;
    let err = platsim::simulate(text, "bad.ron", &[], platsim::Limits::default())
        .expect_err("refused")
        .to_string();
    for want in [
        "services[0].calls[0].pool: a connection pool already bounds",
        "services[0].calls[0].pool.max_size: must be at least 1",
        "services[0].calls[0].pool.connection_timeout:",
        "services[0].calls[0].cache.service: unknown service \"rediss\" (did you mean \"redis\"?)",
        "services[0].calls[0].cache.keys: 0 is not 1 to",
        "services[0].calls[0].cache.zipf: -1 is not a Zipf exponent",
        "services[0].calls[0].cache.ttl: must be longer than 0s",
        "services[0].calls[0].fallback.Service: \"api\" cannot be the fallback",
        "services[2].writes.share: 1.5 is not a probability",
        "services[2].writes.error_rate: -0.1 is not a probability",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn a_flush_empties_the_cache_without_downtime_and_the_hit_ratio_warms_up() {
    // Zipf(1) over 10,000 keys with a 60 s TTL, flushed at 120 s: the hot keys are back
    // within a second, the tail over tens of seconds.
    let text = CACHE
        .replace("keys: 100, zipf: 0.0", "keys: 10000, zipf: 1.0")
        .replace("ttl: Some(\"1s\")", "ttl: Some(\"60s\")")
        .replace("duration: \"2m\"", "duration: \"4m\"");
    let s = run(&text, &["faults=[Flush(target: \"redis\", at: \"120s\")]"]);
    let db = |from: f64| mean_in(&s, "db.arrivals_rps", from, from + 5.0);
    let before = mean_in(&s, "db.arrivals_rps", 100.0, 120.0);
    assert!(
        db(120.0) > 3.0 * before,
        "the flush: {} vs {before}",
        db(120.0)
    );
    assert!(db(140.0) < 1.5 * before, "warm again: {}", db(140.0));
    // The keys refilled together after the flush expire together a TTL later: a second,
    // smaller wave at 180 s (and one at 60 s after the cold start).
    assert!(
        db(180.0) > 2.0 * db(170.0),
        "expiry wave: {} vs {}",
        db(180.0),
        db(170.0)
    );
    // The cache never went down: no lookup failed.
    let c = s.calls["api->db"].cache.clone().expect("cache summary");
    assert_eq!(c.lookup_failures, 0);
    // A flush must name a cache.
    let err = platsim::simulate(
        &text,
        "t",
        &super::common::overrides(&["faults=[Flush(target: \"db\", at: \"60s\")]"]),
        platsim::Limits::default(),
    )
    .expect_err("db caches nothing")
    .to_string();
    assert!(
        err.contains("faults[0].target: no call caches in \"db\""),
        "{err}"
    );
}

#[test]
fn single_flight_waiters_do_not_hang_when_their_leader_dies() {
    // The callers crash while leaders wait on slow queries: their waiters (on the other
    // replica) fail with them instead of waiting for an answer that never comes.
    let sets = [
        "services.db.service_time=Constant(\"100ms\")",
        "services.api.calls.0.cache.coalesce=true",
        "faults=[Crash(target: \"api\", at: \"30s\", duration: \"5s\", replicas: 1), Crash(target: \"api\", at: \"60s\", duration: \"5s\", replicas: 2)]",
    ];
    let s = run(CACHE, &sets);
    let api = &s.services["api"];
    let c = s.calls["api->db"].cache.clone().expect("cache summary");
    assert!(c.coalesced > 1000, "{c:?}");
    // In flight at the end: only what arrived in its last ~100 ms.
    assert!(api.in_flight < 200, "{api:?}");
    assert!(api.crashed > 0 && api.dependency_failed > 0, "{api:?}");
}
