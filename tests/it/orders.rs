//! Brokers, job queues and the order ledger, end to end.
//!
//! - Delivery guarantees over 50 seeds each: at-most-once with consumer kills loses orders
//!   and duplicates none; at-least-once without idempotency loses none and duplicates
//!   some; at-least-once with idempotent consumers and an outbox loses none and duplicates
//!   none, across a durable broker restart too.
//! - Exact counts, checked against what an observer saw independently of the ledger: an
//!   in-memory broker restart loses exactly the messages it held and had not delivered;
//!   a plain job queue loses exactly the jobs in the crashed workers' hands; a reliable
//!   one loses none.
//! - Property: for random messaging platforms, faults and seeds, the ledger's equations
//!   hold (`accepted = completed + lost + in_dlq + in_flight + compensated +
//!   inconsistent`, `placed = accepted + refused + unanswered`) and every lost order has
//!   a cause.
//!
//! Why: "how many orders are lost or duplicated, and why" is what these features answer;
//! each guarantee is the textbook one (semantics.md §5), so a regression here means the
//! simulator tells users the wrong story about their delivery settings.

use crate::common::{balanced, orders};
use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::ServiceId;
use platsim::run::{run_observed, Observer};
use platsim::scenario::Override;
use platsim::{model, scenario, simulate, Limits, Summary};
use proptest::prelude::*;

fn sim(text: &str, seed: u64) -> Summary {
    let sets: Vec<Override> = vec![format!("seed={seed}").parse().expect("a seed override")];
    simulate(text, "orders", &sets, Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Counts outcomes per service, and arrivals and outcomes before an instant.
struct Watch {
    before: SimTime,
    crashed: Vec<u64>,
    ok_before: Vec<u64>,
    arrivals_before: Vec<u64>,
}

impl Watch {
    fn new(services: usize, before: SimTime) -> Self {
        Watch {
            before,
            crashed: vec![0; services],
            ok_before: vec![0; services],
            arrivals_before: vec![0; services],
        }
    }
}

impl Observer for Watch {
    fn arrival(&mut self, now: SimTime, s: ServiceId, _uid: u64) {
        if now < self.before {
            self.arrivals_before[s.0 as usize] += 1;
        }
    }
    fn outcome(&mut self, now: SimTime, s: ServiceId, _uid: u64, outcome: Outcome) {
        match outcome {
            Outcome::Crashed => self.crashed[s.0 as usize] += 1,
            // Timeouts are successes nobody waited for (no caller times out here).
            Outcome::Ok | Outcome::Timeout if now < self.before => {
                self.ok_before[s.0 as usize] += 1
            }
            _ => {}
        }
    }
}

fn observed(text: &str, seed: u64, before: SimTime) -> (Summary, Watch) {
    let spec = scenario::parse(text, "orders").expect("parses");
    let mut p = model::validate(&spec, "orders").expect("valid");
    p.seed = seed;
    let mut w = Watch::new(p.services.len(), before);
    let s = run_observed(&p, Limits::default(), &mut w).expect("runs");
    (s, w)
}

// ---- the event-driven platform under delivery settings ------------------------------

/// api -> orders topic -> payment -> payments topic -> notification, busy consumers
/// (6 partitions, each about 60% busy), killed twice; `{..}` are the delivery settings.
fn events(acks: &str, outbox: bool, commit: &str, auto: &str, idem: bool, faults: &str) -> String {
    format!(
        r#"Scenario(
    name: "events", duration: "60s", drain: "60s",
    orders: Orders(entry: "api", steps: ["payment", "notification"]),
    brokers: [Broker(name: "kafka", durability: Durable, topics: [
        Topic(name: "orders", partitions: 6), Topic(name: "payments", partitions: 6)])],
    services: [
        Service(name: "api", replicas: 2, concurrency: 32, service_time: Exponential(mean: "2ms"),
                publish: [Publish(topic: "orders", acks: {acks}, outbox: {outbox})]),
        Service(name: "payment", replicas: 3, concurrency: 2, service_time: Exponential(mean: "20ms"),
                consume: Some(Consume(topic: "orders", commit: {commit}, auto_commit: {auto},
                                      idempotent: {idem}, rebalance: "3s")),
                publish: [Publish(topic: "payments", acks: {acks}, outbox: {outbox})]),
        Service(name: "notification", replicas: 2, concurrency: 2, service_time: Exponential(mean: "15ms"),
                consume: Some(Consume(topic: "payments", commit: {commit}, auto_commit: {auto},
                                      idempotent: {idem}, rebalance: "3s"))),
    ],
    workload: [Open(target: "api", rate: 180.0)],
    faults: [
        KillConsumer(target: "payment", at: "20s"),
        KillConsumer(target: "notification", at: "30s"),
        KillConsumer(target: "payment", at: "40s"),
        {faults}
    ],
)"#
    )
}

const SEEDS: u64 = 50;

#[test]
fn at_most_once_with_consumer_kills_loses_orders_and_duplicates_none() {
    let text = events("None", false, "BeforeProcessing", "None", false, "");
    let p = model::validate(&scenario::parse(&text, "t").unwrap(), "t").unwrap();
    let (payment, notification) = (
        p.service_id("payment").unwrap(),
        p.service_id("notification").unwrap(),
    );
    for seed in 1..=SEEDS {
        let (s, w) = observed(&text, seed, SimTime::MAX);
        let o = orders(&s);
        balanced(o);
        assert!(o.lost > 0, "seed {seed}: {o:?}");
        assert_eq!(o.duplicated, 0, "seed {seed}: {o:?}");
        assert_eq!(
            o.in_flight, 0,
            "seed {seed}: the drain lets everything finish"
        );
        // Exactly the messages in the killed consumers' hands, each named.
        let killed = w.crashed[payment.0 as usize] + w.crashed[notification.0 as usize];
        assert_eq!(o.lost, killed, "seed {seed}: {o:?}");
        for cause in o.lost_causes.keys() {
            assert!(cause.ends_with("consumer killed mid-processing"), "{cause}");
        }
    }
}

#[test]
fn at_least_once_without_idempotency_loses_none_and_duplicates_some() {
    let dup = r#"DuplicateDelivery(topic: "orders", at: "45s", duration: "5s", rate: 0.2),"#;
    for (auto, faults) in [(r#"Some("5s")"#, ""), ("None", dup)] {
        let text = events("All", false, "AfterProcessing", auto, false, faults);
        for seed in 1..=SEEDS {
            let s = sim(&text, seed);
            let o = orders(&s);
            balanced(o);
            assert_eq!(
                (o.lost, o.in_dlq, o.in_flight),
                (0, 0, 0),
                "seed {seed} {auto}: {o:?}"
            );
            assert_eq!(o.completed, o.accepted, "seed {seed}");
            assert!(o.duplicated > 0, "seed {seed} {auto}: {o:?}");
        }
    }
}

/// The asynchronous path counts side effects, not executions, as the synchronous one
/// does: redelivered orders reach step services that deduplicate by the order's key
/// (`idempotent: true` on the service, not on the consumer), so they are processed again
/// but charge once: no order is duplicated, and the repeats show as deduplicated.
#[test]
fn at_least_once_into_idempotent_step_services_duplicates_none() {
    let text = events("All", false, "AfterProcessing", r#"Some("5s")"#, false, "")
        .replace(
            r#"service_time: Exponential(mean: "20ms"),"#,
            r#"service_time: Exponential(mean: "20ms"), idempotent: true,"#,
        )
        .replace(
            r#"service_time: Exponential(mean: "15ms"),"#,
            r#"service_time: Exponential(mean: "15ms"), idempotent: true,"#,
        );
    for seed in 1..=10 {
        let s = sim(&text, seed);
        let o = orders(&s);
        balanced(o);
        assert_eq!((o.lost, o.duplicated), (0, 0), "seed {seed}: {o:?}");
        let dedup: u64 = o.steps.values().map(|st| st.deduplicated).sum();
        assert!(dedup > 0, "seed {seed}: replays reached the steps: {o:?}");
    }
}

#[test]
fn idempotent_consumers_and_an_outbox_lose_none_and_duplicate_none() {
    let chaos = r#"DuplicateDelivery(topic: "orders", at: "10s", duration: "20s", rate: 0.3),
        BrokerRestart(broker: "kafka", at: "25s", duration: "5s"),
        CrashBeforePublish(target: "api", at: "35s", duration: "10s", rate: 0.5),"#;
    let text = events("All", true, "AfterProcessing", r#"Some("5s")"#, true, chaos);
    // Also with followers 20 ms behind: the restart truncates what they lack, and the
    // relay (acks=All) publishes it again.
    let lagging = text.replace(
        "durability: Durable,",
        r#"durability: Durable, replication_lag: "20ms","#,
    );
    for (seed, text) in (1..=SEEDS)
        .map(|seed| (seed, &text))
        .chain((1..=10).map(|seed| (seed, &lagging)))
    {
        let s = sim(text, seed);
        let o = orders(&s);
        balanced(o);
        assert_eq!(
            (o.lost, o.duplicated, o.in_dlq),
            (0, 0, 0),
            "seed {seed}: {o:?}"
        );
        assert_eq!(o.completed, o.accepted, "seed {seed}: {o:?}");
        assert_eq!(
            o.refused, 0,
            "seed {seed}: the outbox hides the restart from clients"
        );
        let dedup: u64 = s
            .topics
            .values()
            .flat_map(|t| t.groups.values())
            .map(|g| g.deduplicated)
            .sum();
        assert!(
            dedup > 0,
            "seed {seed}: replays and duplicates were skipped"
        );
        if std::ptr::eq(text, &lagging) {
            let truncated: u64 = s.topics.values().map(|t| t.failover_unacked).sum();
            assert!(
                truncated > 0,
                "seed {seed}: the failover truncated unreplicated rows"
            );
        }
    }
    // The same chaos without the outbox: the crash before publish loses orders, and the
    // broker restart refuses them (acks=All: the clients know, so not lost).
    let text = events(
        "All",
        false,
        "AfterProcessing",
        r#"Some("5s")"#,
        true,
        chaos,
    );
    let s = sim(&text, 1);
    let o = orders(&s);
    balanced(o);
    assert!(o.lost > 0 && o.refused > 0, "{o:?}");
    assert_eq!(o.lost, s.topics["orders"].publish_lost, "{o:?}");
    assert!(o
        .lost_causes
        .keys()
        .all(|c| c == "api: crashed between its write and its publish"));
}

/// One topic, one consumer group, nothing else failing: what an in-memory restart
/// loses can be counted from outside.
fn one_topic(durability: &str) -> String {
    format!(
        r#"Scenario(
    name: "restart", duration: "40s", drain: "30s",
    orders: Orders(entry: "api", steps: ["payment"]),
    brokers: [Broker(name: "kafka", durability: {durability}, topics: [Topic(name: "orders", partitions: 4)])],
    services: [
        Service(name: "api", replicas: 2, concurrency: 32, service_time: Exponential(mean: "2ms"),
                publish: [Publish(topic: "orders", acks: All)]),
        Service(name: "payment", replicas: 2, concurrency: 2, service_time: Exponential(mean: "25ms"),
                consume: Some(Consume(topic: "orders", commit: AfterProcessing))),
    ],
    workload: [Open(target: "api", rate: 150.0)],
    faults: [
        Latency(target: "payment", at: "10s", duration: "10s", add: Constant("40ms")),
        BrokerRestart(broker: "kafka", at: "20s", duration: "3s"),
    ],
)"#
    )
}

#[test]
fn an_in_memory_broker_restart_loses_exactly_the_messages_it_held() {
    let text = one_topic("InMemory");
    let p = model::validate(&scenario::parse(&text, "t").unwrap(), "t").unwrap();
    let (api, payment) = (
        p.service_id("api").unwrap(),
        p.service_id("payment").unwrap(),
    );
    let restart = SimTime::from_secs(20);
    for seed in 1..=SEEDS {
        let (s, w) = observed(&text, seed, restart);
        let o = orders(&s);
        balanced(o);
        // Held and not yet delivered: published before the restart, minus taken by a
        // consumer before it (one delivery per message: nothing fails or dies here).
        let held = w.ok_before[api.0 as usize] - w.arrivals_before[payment.0 as usize];
        let t = &s.topics["orders"];
        assert!(held > 0, "seed {seed}: the latency fault builds a backlog");
        assert_eq!(t.restart_lost, held, "seed {seed}");
        assert_eq!(o.lost, held, "seed {seed}: {o:?}");
        assert_eq!(
            o.lost_causes
                .get("topic orders: held in memory by a restarting broker"),
            Some(&held)
        );
        assert_eq!(o.duplicated, 0);
        // Durable: the same run loses nothing.
        let s = sim(&one_topic("Durable"), seed);
        let o = orders(&s);
        balanced(o);
        assert_eq!((o.lost, o.in_flight), (0, 0), "seed {seed}: {o:?}");
        assert_eq!(o.completed, o.accepted);
    }
}

// ---- the job queue ----------------------------------------------------------------

fn job_queue(reliable: bool) -> String {
    format!(
        r#"Scenario(
    name: "jobs", duration: "60s", drain: "60s",
    orders: Orders(entry: "api", steps: ["worker"]),
    queues: [JobQueue(name: "jobs", reliable: {reliable}, visibility_timeout: "10s")],
    services: [
        Service(name: "api", replicas: 2, concurrency: 32, service_time: Exponential(mean: "2ms"),
                push: Some("jobs")),
        Service(name: "worker", replicas: 3, concurrency: 4, service_time: Exponential(mean: "60ms"),
                error_rate: 0.05, workers: Some(Workers(queue: "jobs", count: 4))),
    ],
    workload: [Open(target: "api", rate: 120.0)],
    faults: [
        Crash(target: "worker", at: "15s", duration: "5s", replicas: Some(2)),
        KillConsumer(target: "worker", at: "40s"),
    ],
)"#
    )
}

#[test]
fn a_plain_job_queue_loses_exactly_the_jobs_in_dying_workers_hands() {
    let text = job_queue(false);
    let p = model::validate(&scenario::parse(&text, "t").unwrap(), "t").unwrap();
    let worker = p.service_id("worker").unwrap();
    for seed in 1..=SEEDS {
        let (s, w) = observed(&text, seed, SimTime::MAX);
        let o = orders(&s);
        balanced(o);
        let q = &s.queues["jobs"];
        let in_hands = w.crashed[worker.0 as usize];
        assert!(in_hands > 0, "seed {seed}");
        assert_eq!(q.lost, in_hands, "seed {seed}: {q:?}");
        assert_eq!(o.lost, in_hands, "seed {seed}: {o:?}");
        assert_eq!(
            o.lost_causes
                .get("queue jobs: job lost with its worker (plain queue)"),
            Some(&in_hands)
        );
        assert_eq!(o.in_flight, 0);
        assert_eq!(o.duplicated, 0);
    }
}

#[test]
fn a_reliable_job_queue_loses_no_job_when_workers_die() {
    let text = job_queue(true);
    for seed in 1..=SEEDS {
        let s = sim(&text, seed);
        let o = orders(&s);
        balanced(o);
        let q = &s.queues["jobs"];
        assert_eq!(
            (o.lost, q.lost, o.in_flight),
            (0, 0, 0),
            "seed {seed}: {o:?} {q:?}"
        );
        assert!(
            q.expired > 0,
            "seed {seed}: the reaper re-queued the dead workers' jobs"
        );
        assert_eq!(o.completed + o.in_dlq, o.accepted, "seed {seed}");
        assert_eq!(q.dlq, o.in_dlq, "seed {seed}");
    }
}

#[test]
fn the_summary_and_time_series_show_queues_topics_and_orders() {
    let s = sim(&job_queue(true), 3);
    let json = serde_json::to_value(&s).unwrap();
    for key in [
        "placed",
        "accepted",
        "refused",
        "completed",
        "lost",
        "duplicated",
        "in_dlq",
        "in_flight",
        "lost_causes",
    ] {
        assert!(json["orders"].get(key).is_some(), "orders.{key}");
    }
    for key in [
        "depth_max",
        "enqueued",
        "delivered",
        "redelivered",
        "dlq",
        "lost",
    ] {
        assert!(
            json["queues"]["jobs"].get(key).is_some(),
            "queues.jobs.{key}"
        );
    }
    assert_eq!(s.duration_s, 120.0, "the run includes the drain");
    let depth = s
        .timeseries
        .column("queue.jobs.depth")
        .expect("a depth column");
    assert!(depth.iter().any(|&d| d > 0.0));
    let s = sim(
        &events("All", false, "AfterProcessing", "None", false, ""),
        1,
    );
    assert!(s.timeseries.column("topic.orders.payment.lag").is_some());
    // A scenario without messaging has no such keys, and no drain.
    let plain = r#"Scenario(name: "x", duration: "10s", services: [Service(name: "a", service_time: Constant("1ms"))],
                   workload: [Open(target: "a", rate: 10.0)])"#;
    let s = sim(plain, 1);
    let json = serde_json::to_value(&s).unwrap();
    assert!(json.get("orders").is_none() && json.get("queues").is_none());
    assert_eq!(s.duration_s, 10.0);
}

// ---- property: the books balance ----------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    reliable: bool,
    commit_before: bool,
    auto: bool,
    idem: bool,
    outbox: bool,
    acks: u8,
    in_memory: bool,
    partitions: u32,
    error: f64,
    faults: Vec<(u8, u32)>,
    replication_lag: bool,
    short_retention: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            any::<u64>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            0u8..3,
            any::<bool>(),
            1u32..5,
            prop_oneof![Just(0.0), 0.0..0.5f64],
            any::<bool>(),
            any::<bool>(),
        ),
        prop::collection::vec((0u8..8, 1u32..25), 0..5),
    )
        .prop_map(
            |(
                (seed, reliable, commit_before, auto, idem, outbox),
                (acks, in_memory, partitions, error, replication_lag, short_retention),
                faults,
            )| Case {
                seed,
                reliable,
                commit_before,
                auto,
                idem,
                outbox,
                acks,
                in_memory,
                partitions,
                error,
                faults,
                replication_lag,
                short_retention,
            },
        )
}

impl Case {
    fn ron(&self) -> String {
        let acks = ["None", "Leader", "All"][self.acks as usize];
        let commit = if self.commit_before {
            "BeforeProcessing"
        } else {
            "AfterProcessing"
        };
        let auto = if self.auto { r#"Some("2s")"# } else { "None" };
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|&(k, at)| match k {
                0 => format!(r#"KillConsumer(target: "pay", at: "{at}s")"#),
                1 => format!(r#"KillConsumer(target: "worker", at: "{at}s")"#),
                2 => format!(r#"Crash(target: "worker", at: "{at}s", duration: "2s")"#),
                3 => format!(
                    r#"Crash(target: "pay", at: "{at}s", duration: "2s", replicas: Some(1))"#
                ),
                4 => format!(r#"BrokerRestart(broker: "k", at: "{at}s", duration: "2s")"#),
                5 => format!(
                    r#"DuplicateDelivery(topic: "t", at: "{at}s", duration: "3s", rate: 0.5)"#
                ),
                6 => format!(r#"Partition(from: "pay", to: "k", at: "{at}s", duration: "3s")"#),
                _ => format!(
                    r#"CrashBeforePublish(target: "api", at: "{at}s", duration: "3s", rate: 0.5)"#
                ),
            })
            .collect();
        format!(
            r#"Scenario(name: "p", seed: {seed}, duration: "25s", drain: "5s",
    orders: Orders(entry: "api", steps: ["pay", "worker"]),
    queues: [JobQueue(name: "q", reliable: {reliable}, visibility_timeout: "3s", max_deliveries: 2)],
    brokers: [Broker(name: "k", durability: {dur}, replication_lag: "{lag}",
                     topics: [Topic(name: "t", partitions: {parts}, retention: "{retention}")])],
    services: [
        Service(name: "api", replicas: 2, concurrency: 8, service_time: Exponential(mean: "3ms"),
                publish: [Publish(topic: "t", acks: {acks}, outbox: {outbox})]),
        Service(name: "pay", replicas: 2, concurrency: 2, service_time: Exponential(mean: "30ms"),
                error_rate: {error}, push: Some("q"),
                consume: Some(Consume(topic: "t", commit: {commit}, auto_commit: {auto},
                                      idempotent: {idem}, max_deliveries: 2, rebalance: "1s",
                                      retry_delay: "{delay}"))),
        Service(name: "worker", replicas: 2, concurrency: 2, service_time: Exponential(mean: "20ms"),
                error_rate: {error}, workers: Some(Workers(queue: "q", count: 2))),
    ],
    workload: [Open(target: "api", rate: 60.0, timeout: Some("1s"),
                    retry: Some(Retry(max_attempts: 2, backoff: Constant("100ms"))))],
    faults: [{faults}],
)"#,
            seed = self.seed,
            reliable = self.reliable,
            dur = if self.in_memory {
                "InMemory"
            } else {
                "Durable"
            },
            parts = self.partitions,
            outbox = self.outbox,
            idem = self.idem,
            error = self.error,
            faults = faults.join(", "),
            delay = if self.seed.is_multiple_of(2) {
                "200ms"
            } else {
                "0s"
            },
            lag = if self.replication_lag { "30ms" } else { "0s" },
            retention = if self.short_retention { "3s" } else { "7d" },
        )
    }
}

proptest! {
    // PROPTEST_CASES=1000 for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// Random messaging platforms and faults: every accepted order is in exactly one of
    /// completed, lost, in_dlq, in_flight, and every lost one has a cause.
    #[test]
    fn the_ledger_always_balances(case in case()) {
        let text = case.ron();
        let s = simulate(&text, "prop", &[], Limits::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let o = orders(&s);
        prop_assert_eq!(o.accepted, o.completed + o.lost + o.in_dlq + o.in_flight + o.compensated + o.inconsistent, "{:?}\n{}", o, text);
        prop_assert_eq!((o.compensated, o.inconsistent), (0, 0), "no sagas here");
        prop_assert_eq!(o.placed, o.accepted + o.refused + o.unanswered);
        prop_assert_eq!(o.lost_causes.values().sum::<u64>(), o.lost);
        for st in o.steps.values() {
            prop_assert!(st.done >= o.completed && st.duplicated <= o.duplicated);
        }
        let q = &s.queues["q"];
        prop_assert!(q.acked + q.dlq + q.dropped + q.lost + q.depth_end + q.processing_end >= q.enqueued);
        if case.reliable {
            prop_assert_eq!(q.lost, 0);
        }
        // Time in queues (issue 25): a job is the oldest waiting when it is taken (FIFO),
        // and a message is not committed when delivered, so no wait is longer than the
        // largest age of the oldest item; an order is never done before it is placed.
        let ms = 1e-6;
        prop_assert!(q.wait_ms.max <= q.oldest_age_s_max * 1e3 + ms, "{:?}", q);
        for t in s.topics.values() {
            for g in t.groups.values() {
                prop_assert!(g.wait_ms.max <= g.lag_s_max * 1e3 + ms, "{:?}", g);
            }
        }
        for l in [&o.latency_ms, &o.dlq_latency_ms] {
            prop_assert!(0.0 <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max + ms && l.mean <= l.max + ms, "{:?}", l);
        }
        prop_assert!(o.completed == 0 || o.latency_ms.max > 0.0);
    }
}

// ---- retention -----------------------------------------------------------------------

/// One order every 10 ms exactly (one client: 9 ms of thought, 1 ms at the api, so the
/// k-th message is appended at k x 10 ms, k = 1..=2000), one consumer taking 20 ms per
/// message, and a retention of 5.005 s (expiries fall between the 10 ms ticks, so no
/// event ties).
fn retention(retention: &str) -> String {
    format!(
        r#"Scenario(
    name: "retention", duration: "20s", drain: "40s",
    orders: Orders(entry: "api", steps: ["payment"]),
    brokers: [Broker(name: "kafka", topics: [Topic(name: "orders", partitions: 1, retention: "{retention}")])],
    services: [
        Service(name: "api", replicas: 1, concurrency: 1, service_time: Constant("1ms"),
                publish: [Publish(topic: "orders")]),
        Service(name: "payment", replicas: 1, concurrency: 1, service_time: Constant("20ms"),
                consume: Some(Consume(topic: "orders"))),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("9ms"))],
)"#
    )
}

#[test]
fn a_lagging_consumer_loses_exactly_the_messages_that_expired() {
    // Message j is delivered at 20j - 10 ms and expires at 10j + 5005 ms: the first 501
    // are read in time (500 and 501 expire in the consumer's hands, which is no loss:
    // its request carries the order on). From then on the consumer, every 20 ms, finds
    // the oldest message left 5000 ms old (j = 503, 505, ...): the even ones from 502
    // expire before it gets there. It reads up to j = 1999 and 2000 expires unread.
    let s = sim(&retention("5005ms"), 1);
    let o = orders(&s);
    balanced(o);
    let expired = (502..=2000).step_by(2).count() as u64;
    assert_eq!(expired, 750);
    assert_eq!((o.placed, o.accepted), (2000, 2000), "{o:?}");
    assert_eq!((o.lost, o.completed, o.in_flight), (750, 1250, 0), "{o:?}");
    assert_eq!(
        o.lost_causes
            .get("topic orders: deleted by retention before it was consumed"),
        Some(&750)
    );
    let t = &s.topics["orders"];
    let g = &t.groups["payment"];
    assert_eq!(g.retention_skipped, 750);
    assert_eq!(g.processed, 1250);
    // Deleted: the 750 skipped, 500 and 501, and the 749 odd ones from 503 to 1999, all
    // three kinds in the consumer's hands or unread when their time came.
    assert_eq!(t.retention_deleted, 750 + 2 + 749);
    assert_eq!((t.held_end, g.lag_end), (0, 0));
    // The default retention (7 days) deletes nothing: the same consumer catches up late.
    let s = sim(&retention("7d"), 1);
    let o = orders(&s);
    assert_eq!((o.lost, o.completed), (0, 2000), "{o:?}");
    assert_eq!(s.topics["orders"].retention_deleted, 0);
}

#[test]
fn retention_is_validated() {
    let text = retention("0s").replace(
        r#"Broker(name: "kafka""#,
        r#"Broker(name: "kafka", replication_lag: "soon""#,
    );
    let err = simulate(&text, "t", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    assert!(err.contains("brokers[0].topics[0].retention"), "{err}");
    assert!(err.contains("brokers[0].replication_lag"), "{err}");
}

// ---- acks and replication ------------------------------------------------------------

/// api (acks `{acks}`) -> orders (replication lag 50 ms, durable) -> payment; the broker
/// restarts (its leader fails over) at 20 s for 3 s.
fn replicated(acks: &str, workload: &str) -> String {
    format!(
        r#"Scenario(
    name: "acks", duration: "40s", drain: "30s",
    orders: Orders(entry: "api", steps: ["payment"]),
    brokers: [Broker(name: "kafka", durability: Durable, replication_lag: "50ms",
                     topics: [Topic(name: "orders", partitions: 4)])],
    services: [
        Service(name: "api", replicas: 2, concurrency: 32, service_time: Constant("1ms"),
                publish: [Publish(topic: "orders", acks: {acks})]),
        Service(name: "payment", replicas: 2, concurrency: 2, service_time: Exponential(mean: "10ms"),
                consume: Some(Consume(topic: "orders"))),
    ],
    workload: [{workload}],
    faults: [BrokerRestart(broker: "kafka", at: "20s", duration: "3s")],
)"#
    )
}

#[test]
fn a_failover_loses_exactly_the_acknowledged_unreplicated_messages_under_acks_leader() {
    // Deterministic: appends at every 10 ms; those at 19960..19990 ms are not replicated
    // at 20 s (19950 just is); the one due at 20000 ms meets a broker that is down.
    let every_10ms = r#"Closed(target: "api", users: 1, think_time: Constant("9ms"))"#;
    let s = sim(&replicated("Leader", every_10ms), 1);
    let o = orders(&s);
    balanced(o);
    assert_eq!(o.lost, 4, "{o:?}");
    assert_eq!(s.topics["orders"].failover_lost, 4);
    assert_eq!(
        o.lost_causes
            .get("topic orders: acknowledged by the leader, lost in a failover before replication"),
        Some(&4)
    );
    // Poisson arrivals over many seeds: lost = the api's successes in the last 50 ms
    // before the restart (acks=Leader answers at the append), counted from outside.
    let text = replicated("Leader", r#"Open(target: "api", rate: 400.0)"#);
    let p = model::validate(&scenario::parse(&text, "t").unwrap(), "t").unwrap();
    let api = p.service_id("api").unwrap();
    let (from, to) = (SimTime::from_millis(19_950), SimTime::from_secs(20));
    for seed in 1..=SEEDS {
        let spec = scenario::parse(&text, "t").unwrap();
        let mut p = model::validate(&spec, "t").unwrap();
        p.seed = seed;
        let mut w = Window {
            api,
            from,
            to,
            ok: 0,
        };
        let s = run_observed(&p, Limits::default(), &mut w).expect("runs");
        let o = orders(&s);
        balanced(o);
        assert!(w.ok > 0, "seed {seed}");
        assert_eq!(o.lost, w.ok, "seed {seed}: {o:?}");
        assert_eq!(s.topics["orders"].failover_lost, w.ok, "seed {seed}");
        assert_eq!((o.in_flight, o.duplicated), (0, 0), "seed {seed}");
        // acks=All: the same messages are truncated, but their producers were still
        // waiting for the replicas: the clients get errors, nothing is lost.
        let s = sim(&text.replace("acks: Leader", "acks: All"), seed);
        let o = orders(&s);
        balanced(o);
        assert_eq!(o.lost, 0, "seed {seed}: {o:?}");
        assert_eq!(o.completed, o.accepted, "seed {seed}");
        let t = &s.topics["orders"];
        assert_eq!(
            (t.failover_lost, t.failover_unacked > 0),
            (0, true),
            "seed {seed}"
        );
        // acks=None: loses the same in-flight messages as Leader, and whatever is
        // published while the broker is down.
        let s = sim(&text.replace("acks: Leader", "acks: None"), seed);
        let o = orders(&s);
        balanced(o);
        let t = &s.topics["orders"];
        assert_eq!(t.failover_lost, w.ok, "seed {seed}");
        assert_eq!(o.lost, w.ok + t.publish_lost, "seed {seed}: {o:?}");
        assert!(t.publish_lost > 0 && o.refused == 0, "seed {seed}: {o:?}");
    }
}

#[test]
fn acks_all_adds_the_replication_lag_to_the_produce() {
    let every_10ms = r#"Closed(target: "api", users: 1, think_time: Constant("9ms"))"#;
    let no_fault = |t: String| {
        t.replace(
            r#"BrokerRestart(broker: "kafka", at: "20s", duration: "3s")"#,
            "",
        )
    };
    let leader = sim(&no_fault(replicated("Leader", every_10ms)), 1);
    let all = sim(&no_fault(replicated("All", every_10ms)), 1);
    let sojourn = |s: &Summary| s.services["api"].sojourn_ms.mean;
    assert!(
        (sojourn(&leader) - 1.0).abs() < 1e-6,
        "{}",
        sojourn(&leader)
    );
    assert!((sojourn(&all) - 51.0).abs() < 1e-6, "{}", sojourn(&all));
    for s in [&leader, &all] {
        let o = orders(s);
        assert_eq!((o.lost, o.completed), (0, o.accepted));
    }
}

/// Counts service `api`'s successes in `(from, to)`.
struct Window {
    api: ServiceId,
    from: SimTime,
    to: SimTime,
    ok: u64,
}

impl Observer for Window {
    fn outcome(&mut self, now: SimTime, s: ServiceId, _uid: u64, outcome: Outcome) {
        if s == self.api && outcome == Outcome::Ok && self.from < now && now < self.to {
            self.ok += 1;
        }
    }
}

// ---- time series ---------------------------------------------------------------------

#[test]
fn the_time_series_has_orders_processing_failures_and_dlq_per_window() {
    let s = sim(&job_queue(true), 3);
    let ts = &s.timeseries;
    let o = orders(&s);
    let names = [
        "queue.jobs.depth",
        "queue.jobs.processing",
        "orders.placed_rps",
        "orders.completed_rps",
        "queue.jobs.processing_p50_ms",
        "queue.jobs.processing_p99_ms",
        "queue.jobs.failed_rps",
        "queue.jobs.dlq",
        "queue.jobs.wait_p50_ms",
        "queue.jobs.wait_p99_ms",
        "queue.jobs.oldest_age_s",
        "orders.latency_p50_ms",
        "orders.latency_p99_ms",
    ];
    let at = |n: &str| {
        ts.columns
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let pos: Vec<usize> = names.iter().map(|n| at(n)).collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "appended in this order: {pos:?}"
    );
    assert_eq!(pos[12], ts.columns.len() - 1);
    // Windows of 1 s: per-second rates sum to counts.
    let sum = |n: &str| ts.column(n).unwrap().iter().sum::<f64>().round() as u64;
    assert_eq!(sum("orders.placed_rps"), o.placed);
    assert_eq!(sum("orders.completed_rps"), o.completed);
    let q = &s.queues["jobs"];
    // Failed deliveries: errors (5%) and the dead workers' jobs.
    assert!(sum("queue.jobs.failed_rps") > q.lost, "{q:?}");
    let dlq = ts.column("queue.jobs.dlq").unwrap();
    assert_eq!(*dlq.last().unwrap() as u64, q.dlq);
    assert!(
        dlq.windows(2).all(|w| w[0] <= w[1]),
        "a level that only grows"
    );
    let p50 = ts.column("queue.jobs.processing_p50_ms").unwrap();
    let busy: Vec<f64> = p50.into_iter().filter(|&v| v > 0.0).collect();
    let median = busy[busy.len() / 2];
    assert!(
        (30.0..70.0).contains(&median),
        "exponential, mean 60 ms: median ~42 ms, {median}"
    );
    // Consumer groups get the same columns.
    let s = sim(
        &events("All", false, "AfterProcessing", "None", false, ""),
        1,
    );
    for c in [
        "processing_p50_ms",
        "processing_p99_ms",
        "failed_rps",
        "dlq",
    ] {
        assert!(
            s.timeseries
                .column(&format!("topic.orders.payment.{c}"))
                .is_some(),
            "{c}"
        );
    }
}

/// Time in queues and topics, end to end (issue 25): the largest age of the oldest waiting
/// item per window peaks where the summary says it does, time in the queue is at least
/// zero and at most the order's latency, and a worker pool's `pulled` adds the queue's
/// wait to its own sojourn.
#[test]
fn time_in_queues_and_topics_shows_in_the_summary_and_per_window() {
    let s = sim(&job_queue(true), 3);
    let (q, o, ts) = (&s.queues["jobs"], orders(&s), &s.timeseries);
    let col_max = |n: &str| {
        let c = ts.column(n).unwrap_or_else(|| panic!("{n}"));
        c.into_iter().fold(0.0, f64::max)
    };
    assert!(
        q.wait_ms.mean > 0.0 && q.wait_ms.max >= q.wait_ms.p99,
        "{q:?}"
    );
    assert!((col_max("queue.jobs.oldest_age_s") - q.oldest_age_s_max).abs() < 1e-9);
    assert!(
        q.oldest_age_s_max * 1000.0 >= q.wait_ms.max,
        "the oldest job waited longest"
    );
    assert!(
        o.latency_ms.mean > q.wait_ms.mean,
        "an order waits in the queue on its way"
    );
    assert!(col_max("orders.latency_p99_ms") > 0.0);
    let worker = &s.services["worker"];
    let pulled = worker.pulled.as_ref().expect("workers pull from jobs");
    assert_eq!(pulled.from, ["queue jobs"]);
    assert_eq!(pulled.queue_wait_ms, q.wait_ms);
    assert!(pulled.sojourn_with_queue_ms.mean > worker.sojourn_ms.mean);
    assert!(
        s.services["api"].pulled.is_none(),
        "a synchronous service pulls nothing"
    );

    let s = sim(
        &events("All", false, "AfterProcessing", "None", false, ""),
        1,
    );
    let g = &s.topics["orders"].groups["payment"];
    assert!(g.wait_ms.mean >= 0.0 && g.wait_ms.max > 0.0, "{g:?}");
    let lag_s = s.timeseries.column("topic.orders.payment.lag_s").unwrap();
    assert!((lag_s.iter().fold(0.0, |a: f64, &b| a.max(b)) - g.lag_s_max).abs() < 1e-9);
    assert!(
        g.lag_s_max > 0.0 && (g.lag_end == 0) == (g.lag_s_end == 0.0),
        "{g:?}"
    );
    let payment = s.services["payment"]
        .pulled
        .as_ref()
        .expect("a consumer pulls");
    assert_eq!(payment.from, ["topic orders"]);
}

/// The queue-age objective (issue 25): in sre-job-queue the surge keeps jobs waiting over
/// 30 s for about a minute, so a 30 s objective at 99% of windows breaks; its counts are
/// exactly the windows after the warmup and those within 30 s. Only a pulling service
/// may have one.
#[test]
fn a_queue_age_objective_counts_the_windows_with_old_jobs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/sre-job-queue.ron");
    let text = std::fs::read_to_string(path).expect("sre-job-queue.ron");
    let plain = "slo: Some(Slo(tier: NonCritical)),";
    assert_eq!(text.matches(plain).count(), 1);
    let aged = text.replace(
        plain,
        r#"slo: Some(Slo(tier: NonCritical, queue_age: Some(QueueAgeSlo(max_age: "30s", target: 99.0)))),"#,
    );
    let s = sim(&aged, 1);
    let worker = s
        .health
        .services
        .iter()
        .find(|h| h.name == "worker-service")
        .unwrap();
    let age = worker
        .slos
        .iter()
        .find(|o| o.name == "queue_age")
        .expect("the objective");
    let t = s.timeseries.column("t_s").unwrap();
    let ages = s.timeseries.column("queue.jobs.oldest_age_s").unwrap();
    let after: Vec<f64> = t
        .iter()
        .zip(&ages)
        .filter(|(t, _)| **t >= s.warmup_s)
        .map(|(_, a)| *a)
        .collect();
    let within = after.iter().filter(|&&a| a <= 30.0).count() as u64;
    assert_eq!(
        (age.good, age.valid),
        (within, after.len() as u64),
        "{age:?}"
    );
    assert!(
        age.valid - age.good >= 3 && !age.met,
        "the surge breaks it: {age:?}"
    );
    assert_eq!(age.threshold_ms, Some(30_000.0));

    let wrong = text.replace(
        r#"slo: Some(Slo(tier: Default, availability: Some(99.9))),"#,
        r#"slo: Some(Slo(tier: Default, queue_age: Some(QueueAgeSlo(max_age: "0s")))),"#,
    );
    let err = simulate(&wrong, "t", &[], Limits::default())
        .expect_err("invalid")
        .to_string();
    assert!(
        err.contains("services[0].slo.queue_age: the service pulls from no job queue"),
        "{err}"
    );
    assert!(err.contains("services[0].slo.queue_age.max_age"), "{err}");
}
