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
//!   hold (`accepted = completed + lost + in_dlq + in_flight`, `placed = accepted +
//!   refused + unanswered`) and every lost order has a cause.
//!
//! Why: "how many orders are lost or duplicated, and why" is what these features answer;
//! each guarantee is the textbook one (semantics.md §5), so a regression here means the
//! simulator tells users the wrong story about their delivery settings.

use platsim::engine::SimTime;
use platsim::metrics::{OrdersSummary, Outcome};
use platsim::model::ServiceId;
use platsim::run::{run_observed, Observer};
use platsim::scenario::Override;
use platsim::{model, scenario, simulate, Limits, Summary};
use proptest::prelude::*;

fn sim(text: &str, seed: u64) -> Summary {
    let sets: Vec<Override> = vec![format!("seed={seed}").parse().expect("a seed override")];
    simulate(text, "orders", &sets, Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn orders(s: &Summary) -> &OrdersSummary {
    s.orders.as_ref().expect("the scenario defines orders")
}

#[track_caller]
fn balanced(o: &OrdersSummary) {
    assert_eq!(
        o.accepted,
        o.completed + o.lost + o.in_dlq + o.in_flight,
        "ledger equation: {o:?}"
    );
    assert_eq!(o.placed, o.accepted + o.refused + o.unanswered, "{o:?}");
    assert_eq!(o.lost_causes.values().sum::<u64>(), o.lost, "{o:?}");
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

#[test]
fn idempotent_consumers_and_an_outbox_lose_none_and_duplicate_none() {
    let chaos = r#"DuplicateDelivery(topic: "orders", at: "10s", duration: "20s", rate: 0.3),
        BrokerRestart(broker: "kafka", at: "25s", duration: "5s"),
        CrashBeforePublish(target: "api", at: "35s", duration: "10s", rate: 0.5),"#;
    let text = events("All", true, "AfterProcessing", r#"Some("5s")"#, true, chaos);
    for seed in 1..=SEEDS {
        let s = sim(&text, seed);
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
        ),
        prop::collection::vec((0u8..8, 1u32..25), 0..5),
    )
        .prop_map(
            |(
                (seed, reliable, commit_before, auto, idem, outbox),
                (acks, in_memory, partitions, error),
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
    brokers: [Broker(name: "k", durability: {dur}, topics: [Topic(name: "t", partitions: {parts})])],
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
            delay = if self.seed % 2 == 0 { "200ms" } else { "0s" },
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
        prop_assert_eq!(o.accepted, o.completed + o.lost + o.in_dlq + o.in_flight, "{:?}\n{}", o, text);
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
    }
}
