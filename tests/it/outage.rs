//! Whole-platform outages and the stores that live through them (issue 14 items 2-4).
//!
//! - `scenarios/events/power-outage.ron` tells its story with hand-computed numbers: an
//!   in-memory broker loses exactly its backlog at the outage, a durable one nothing.
//! - One table per component kind (brokers, job queues per persistence, caches): the
//!   same outage, each row asserting what a power loss costs, measured on outputs. The
//!   rows are meant to fold into the fault x instance x component matrix.
//!
//! Why: an outage that silently spares the broker or the queue makes a design with no
//! durability look as safe as one with it: the worst kind of plausible wrong number.

use super::common::run_scenario;
use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::ServiceId;
use platsim::run::{run_observed, Observer};
use platsim::{model, scenario, simulate, Limits, Summary};

fn shipped(rel: &str) -> String {
    let path = format!("{}/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn lost_to(s: &Summary, cause: &str) -> u64 {
    let o = s.orders.as_ref().expect("orders");
    o.lost_causes.get(cause).copied().unwrap_or(0)
}

const POWER: &str = "topic orders: held in memory by its broker when the power went (outage)";

#[test]
fn power_outage_scenario_loses_the_in_memory_backlog_and_nothing_when_durable() {
    let text = shipped("events/power-outage.ron");
    // Published at 1, 11, ..., 10,001 ms: 1,001. Processed at 21, ..., 10,001 ms: 500,
    // the 501st in fulfilment's hands, 500 waiting in the topic.
    let s = run_scenario(&text, &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.accepted, o.refused), (2_499, 556), "{o:?}");
    assert_eq!((o.lost, o.completed, o.in_flight), (501, 1_998, 0), "{o:?}");
    assert_eq!(lost_to(&s, POWER), 500, "{o:?}");
    assert_eq!(lost_to(&s, "fulfilment: request ended (crash)"), 1, "{o:?}");
    assert_eq!(s.topics["orders"].restart_lost, 500);
    let s = run_scenario(&text, &["brokers.kafka.durability=Durable"]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.accepted, o.refused), (2_499, 556), "{o:?}");
    assert_eq!((o.lost, o.completed, o.in_flight), (0, 2_499, 0), "{o:?}");
    assert_eq!(s.topics["orders"].groups["fulfilment"].redelivered, 1);
}

#[test]
fn an_outage_filter_names_brokers_with_suggestions() {
    let text = shipped("events/power-outage.ron").replace(
        r#"Outage(at: "10.005s", duration: "5s")"#,
        r#"Outage(at: "10.005s", duration: "5s", brokers: ["kafak"])"#,
    );
    let err = simulate(&text, "t", &[], Limits::default())
        .expect_err("unknown broker")
        .to_string();
    assert!(err.contains("faults[0].brokers[0]"), "{err}");
    assert!(err.contains(r#"did you mean "kafka""#), "{err}");
    // Only the broker: the backlog goes, fulfilment finishes the order in its hands,
    // and the api's 500 publishes (acks=All) while the broker is down fail: refused.
    let only = text.replace("kafak", "kafka");
    let s = run_scenario(&only, &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.lost, o.refused), (500, 500), "{o:?}");
    assert_eq!(lost_to(&s, POWER), 500);
    let outage = &s.outages[0];
    assert!(outage.services.is_empty(), "{outage:?}");
    assert_eq!(
        outage.full_recovery_s,
        Some(0.0),
        "the broker is back with the power"
    );
}

// ---- job queues held by a store ---------------------------------------------------------

/// One client pushes a job every 10 ms through the api onto `jobs`, held by `redis`
/// (`{store}` is the queue's store and persistence fields); one worker takes 20 ms a job,
/// so the list grows by 50 a second. `{fault}` at 10.505 s for 5 s.
fn held_queue(store: &str, fault: &str) -> String {
    format!(
        r#"Scenario(
    name: "held-queue", duration: "30s", drain: "2m",
    orders: Orders(entry: "api", steps: ["worker"]),
    queues: [JobQueue(name: "jobs", {store})],
    services: [
        Service(name: "api", service_time: Constant("1ms"), push: Some("jobs")),
        Service(name: "redis", service_time: Constant("100us")),
        Service(name: "worker", service_time: Constant("20ms"),
                workers: Some(Workers(queue: "jobs", count: 1))),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("9ms"))],
    faults: [{fault}],
)"#
    )
}

/// By hand: at 10.505 s, 1,051 jobs were pushed (at 1, 11, ..., 10,501 ms; ids 0..1050)
/// and 526 taken (at 1, 21, ..., 10,501 ms), so ids 526..1050 wait in the list. Each
/// persistence keeps the pushes before its last durable point:
/// - in memory: none (525 lost);
/// - RDB every 4 s: the snapshot at 8 s has the pushes before it (ids below 800): the
///   251 pushed from 8,001 ms on are lost;
/// - AOF everysec: the fsync at 10 s has ids below 1,000: the 51 pushed from 10,001 ms
///   on are lost (at most a second's worth);
/// - AOF always: nothing.
///
/// While redis is down (10.505 s to 15.505 s) the 500 pushes fail, and those clients
/// are refused; the job in the worker's hands is finished either way.
#[test]
fn a_store_crash_loses_what_its_persistence_did_not_keep() {
    let crash = r#"Crash(target: "redis", at: "10.505s", duration: "5s")"#;
    let cause =
        |p: &str| format!("queue jobs: waiting in redis when it crashed, not persisted ({p})");
    for (persistence, lost, name) in [
        ("InMemory", 525, "in memory"),
        (r#"Rdb(save: [("4s", 1)])"#, 251, "RDB snapshots"),
        ("AofEverysec", 51, "AOF everysec"),
        ("AofAlways", 0, "AOF always"),
    ] {
        for reliable in [false, true] {
            let store = format!(
                r#"reliable: {reliable}, store: Some("redis"), persistence: Some({persistence})"#
            );
            let s = run_scenario(&held_queue(&store, crash), &[]);
            let o = s.orders.as_ref().expect("orders");
            let q = &s.queues["jobs"];
            assert_eq!((o.lost, q.store_lost), (lost, lost), "{persistence}: {o:?}");
            assert_eq!(lost_to(&s, &cause(name)), lost, "{persistence}: {o:?}");
            assert_eq!(
                (o.refused, q.push_failed),
                (500, 500),
                "{persistence}: {o:?}"
            );
            assert_eq!(o.completed + lost, o.accepted, "{persistence}: {o:?}");
            assert_eq!(o.in_flight, 0, "{persistence}: the drain finishes the list");
        }
    }
    // A queue held by nothing the scenario crashes loses nothing and refuses nothing.
    let s = run_scenario(&held_queue("reliable: false", crash), &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!(
        (o.lost, o.refused, o.completed),
        (0, 0, o.accepted),
        "{o:?}"
    );
}

#[test]
fn a_queue_store_is_validated_with_suggestions() {
    let crash = r#"Crash(target: "redis", at: "10.505s", duration: "5s")"#;
    let bad = [
        (
            r#"store: Some("rediss")"#,
            r#"queues[0].store: unknown service "rediss" (did you mean "redis"?)"#,
        ),
        (
            "persistence: Some(AofAlways)",
            "queues[0].persistence: only a queue with a `store`",
        ),
        (
            r#"store: Some("redis"), persistence: Some(Rdb(save: []))"#,
            "queues[0].persistence.save: needs 1 to 16 rules",
        ),
        (
            r#"store: Some("redis"), persistence: Some(Rdb(save: [("0s", 1)]))"#,
            "queues[0].persistence.save[0].0",
        ),
        (
            r#"store: Some("redis"), persistence: Some(Rdb(save: [("1s", 0)]))"#,
            "queues[0].persistence.save[0].1",
        ),
    ];
    for (fields, want) in bad {
        let err = simulate(&held_queue(fields, crash), "t", &[], Limits::default())
            .expect_err(fields)
            .to_string();
        assert!(err.contains(want), "{fields}: {err}");
    }
}

/// Counts a service's successes in `[from, to)`: each is one LPUSH when it pushes.
struct Pushes {
    service: ServiceId,
    from: SimTime,
    to: SimTime,
    ok: u64,
}

impl Observer for Pushes {
    fn outcome(&mut self, now: SimTime, s: ServiceId, _uid: u64, outcome: Outcome) {
        if s == self.service && outcome == Outcome::Ok && self.from <= now && now < self.to {
            self.ok += 1;
        }
    }
}

/// `scenarios/sre-job-queue.ron`: redis crashes at 990.5 s with ~4,800 jobs waiting.
/// With AOF everysec it loses exactly the jobs pushed since the fsync at 990 s (counted
/// from outside, as api-service's successes in that half second), with AOF always none,
/// and without persistence the whole list.
#[test]
fn sre_job_queue_redis_crash_loses_half_a_second_with_aof_everysec_and_all_in_memory() {
    let text = shipped("sre-job-queue.ron");
    let spec = scenario::parse(&text, "sre").expect("parses");
    let p = model::validate(&spec, "sre").expect("valid");
    let mut w = Pushes {
        service: p.service_id("api-service").expect("api-service"),
        from: SimTime::from_secs(990),
        to: SimTime::from_millis(990_500),
        ok: 0,
    };
    let s = run_observed(&p, Limits::default(), &mut w).expect("runs");
    let o = s.orders.as_ref().expect("orders");
    assert!(w.ok > 0);
    assert_eq!((o.lost, s.queues["jobs"].store_lost), (w.ok, w.ok), "{o:?}");
    assert_eq!(
        (o.accepted, o.refused, o.lost),
        (84_047, 2_964, 82),
        "{o:?}"
    );
    let s = run_scenario(&text, &["queues.jobs.persistence=AofAlways"]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.lost, o.completed), (0, o.accepted), "{o:?}");
    let s = run_scenario(&text, &["queues.jobs.persistence=InMemory"]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.accepted, o.lost), (84_047, 4_906), "{o:?}");
    assert_eq!(
        lost_to(
            &s,
            "queue jobs: waiting in redis when it crashed, not persisted (in memory)"
        ),
        4_906
    );
}

/// One row per component kind the power reaches: the same outage at 10.505 s (10.005 s
/// for the broker platform), what each loses, counted by hand (see the tests above for
/// the arithmetic). For the lead's fault x instance x component matrix.
#[test]
fn an_outage_reaches_every_component_kind() {
    let outage = r#"Outage(at: "10.505s", duration: "5s")"#;
    let queue = |reliable: bool, persistence: &str| {
        held_queue(
            &format!(
                r#"reliable: {reliable}, store: Some("redis"), persistence: Some({persistence})"#
            ),
            outage,
        )
    };
    let broker = shipped("events/power-outage.ron");
    let durable = broker.replace("durability: InMemory", "durability: Durable");
    let with_worker = "queue jobs: job lost with its worker (plain queue)";
    // (component, scenario, orders lost, lost with the store's power, lost in hand)
    let rows: Vec<(&str, String, u64, u64, u64)> = vec![
        ("in-memory broker", broker, 501, 500, 1),
        ("durable broker", durable, 0, 0, 0),
        // The outage also kills the worker: a plain queue loses the job in its hands;
        // a reliable one re-queues it after the visibility timeout.
        (
            "plain queue, redis in memory",
            queue(false, "InMemory"),
            526,
            525,
            1,
        ),
        (
            "plain queue, redis AOF everysec",
            queue(false, "AofEverysec"),
            52,
            51,
            1,
        ),
        (
            "plain queue, redis AOF always",
            queue(false, "AofAlways"),
            1,
            0,
            1,
        ),
        (
            "reliable queue, redis in memory",
            queue(true, "InMemory"),
            525,
            525,
            0,
        ),
        (
            "reliable queue, redis RDB every 4 s",
            queue(true, r#"Rdb(save: [("4s", 1)])"#),
            251,
            251,
            0,
        ),
        (
            "reliable queue, redis AOF everysec",
            queue(true, "AofEverysec"),
            51,
            51,
            0,
        ),
        (
            "reliable queue, redis AOF always",
            queue(true, "AofAlways"),
            0,
            0,
            0,
        ),
        // Held by nothing the outage reaches: the list is not lost.
        (
            "reliable queue, no store",
            held_queue("reliable: true", outage),
            0,
            0,
            0,
        ),
    ];
    for (what, text, lost, store, in_hand) in rows {
        let s = run_scenario(&text, &[]);
        let o = s.orders.as_ref().expect("orders");
        assert_eq!(o.lost, lost, "{what}: {o:?}");
        assert_eq!(o.lost_causes.values().sum::<u64>(), lost, "{what}: {o:?}");
        assert_eq!(o.completed + o.lost, o.accepted, "{what}: {o:?}");
        let by_power: u64 = s.queues.values().map(|q| q.store_lost).sum::<u64>()
            + s.topics.values().map(|t| t.restart_lost).sum::<u64>();
        assert_eq!(by_power, store, "{what}");
        let held = lost_to(&s, with_worker) + lost_to(&s, "fulfilment: request ended (crash)");
        assert_eq!(held, in_hand, "{what}: {o:?}");
    }
}

/// A cache without persistence comes back empty after an outage: with 10 equally popular
/// keys and one client at a time, each key misses once when cold and once more after the
/// power returns, and hits otherwise.
#[test]
fn an_outage_empties_a_cache() {
    let text = |faults: &str| {
        format!(
            r#"Scenario(
    name: "cache-outage", duration: "20s",
    services: [
        Service(name: "api", service_time: Constant("1ms"),
                calls: [Call(to: "db", cache: Some(Cache(service: "cache", keys: 10, zipf: 0.0)))]),
        Service(name: "cache", service_time: Constant("100us")),
        Service(name: "db", service_time: Constant("2ms")),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("10ms"))],
    faults: [{faults}],
)"#
        )
    };
    let cache = |s: &Summary| {
        s.calls
            .values()
            .find_map(|c| c.cache.clone())
            .expect("a cached call")
    };
    let calm = cache(&run_scenario(&text(""), &[]));
    assert_eq!((calm.misses, calm.fills), (10, 10), "{calm:?}");
    assert!(calm.lookups > 1_000, "{calm:?}");
    let out = cache(&run_scenario(
        &text(r#"Outage(at: "10.0005s", duration: "2s")"#),
        &[],
    ));
    assert_eq!(
        (out.misses, out.fills, out.lookup_failures),
        (20, 20, 0),
        "{out:?}"
    );
}

/// A database with `synchronous_commit` off loses power (issue 14, item 2): the rule of
/// `mech::replication` for what it keeps, as for a crash, under a cause that names the
/// power loss. One closed user, one 1 ms write per order: commits are acknowledged at
/// 0.1 s, 0.2 s, ... and the WAL writer flushes each at the next 200 ms cycle
/// (PostgreSQL's `wal_writer_delay`). Power goes at 10.15 s: the commits of 10.0 s and
/// 10.1 s (flushed at 10.2 s) are lost, the one of 9.9 s (flushed at 10.0 s) is kept.
/// With `synchronous_commit` on (PostgreSQL's default), none.
#[test]
fn an_outage_loses_the_commits_the_wal_writer_had_not_flushed() {
    let text = r#"Scenario(
    name: "power-wal", duration: "30s", seed: 1,
    orders: Orders(entry: "api", steps: ["db"]),
    services: [
        Service(name: "api", concurrency: 100, service_time: Constant("0s"),
                calls: [Call(to: "db", timeout: Some("5s"))]),
        Service(name: "db", concurrency: 100, service_time: Constant("1ms"),
                writes: Some(Writes(from: ["api"], service_time: Constant("1ms"),
                                    synchronous_commit: false))),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("99ms"))],
    faults: [Outage(at: "10.15s", duration: "1s")],
)"#;
    let s = run_scenario(text, &[]);
    let o = crate::common::orders(&s);
    crate::common::balanced(o);
    let d = s.services["db"].writes.clone().unwrap().durability.unwrap();
    assert_eq!((d.failovers, d.lost_in_crash), (0, 2), "{d:?}");
    assert_eq!(
        lost_to(
            &s,
            "db: acknowledged commit lost in power loss (synchronous_commit off)"
        ),
        2,
        "{o:?}"
    );
    let s = run_scenario(text, &["services.db.writes.synchronous_commit=true"]);
    assert_eq!(
        lost_to(
            &s,
            "db: acknowledged commit lost in power loss (synchronous_commit off)"
        ),
        0
    );
}
