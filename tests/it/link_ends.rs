//! Links to nodes, pods and brokers (issue 14, item 4), worked out by hand.
//!
//! `api` (1 ms, one pod) calls `db` (10 ms, two pods) with a 200 ms timeout and no
//! retry, on two Kubernetes nodes; every service has servers to spare, so a request's
//! sojourn at `api` is 1 + 10 = 11 ms. A link fault from `api` to a node reaches exactly
//! the calls served by pods on that node (a node stands for the pods running on it), and
//! one to a pod (`db/0`, replica slot 0) the calls that pod serves; both only during the
//! fault (10 s to 20 s). As over TCP (`tc netem`, `iptables`): a lost request is never
//! seen and the caller's timeout fires; a partition refuses the connection.

use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::model::ServiceId;
use platsim::run::{run_observed, Observer, Parent};
use platsim::{model, scenario, Limits, Summary};
use std::collections::BTreeMap;

const MS: u64 = 1_000_000;

fn platform(nodes_faults: &str, faults: &str) -> String {
    format!(
        r#"Scenario(name: "link-ends", seed: 5, duration: "30s", drain: "2s",
    nodes: Some(Nodes(count: 2, not_ready_after: "0s", evict_after: "1s")),
    services: [
        Service(name: "api", concurrency: 1000, service_time: Constant("1ms"),
                calls: [Call(to: "db", timeout: Some("200ms"))]),
        Service(name: "db", replicas: 2, concurrency: 1000, service_time: Constant("10ms"),
                kubernetes: Some(Kube(pod_startup: Constant("1s")))),
    ],
    workload: [Open(target: "api", rate: 100.0)],
    faults: [{nodes_faults}{faults}],
)"#
    )
}

/// Per root request at `api`: when it arrived, how it ended, and where its `db` call was
/// served (replica slot, node), if it reached `db`.
#[derive(Default)]
struct Seen {
    service: BTreeMap<u64, u32>,
    arrived: BTreeMap<u64, SimTime>,
    ended: BTreeMap<u64, (SimTime, Outcome)>,
    child: BTreeMap<u64, u64>,
    placed: BTreeMap<u64, (u32, u32)>,
}

impl Observer for Seen {
    fn arrival(&mut self, now: SimTime, s: ServiceId, uid: u64) {
        self.service.insert(uid, s.0);
        if s.0 == 0 {
            self.arrived.insert(uid, now);
        }
    }
    fn visit(&mut self, _now: SimTime, uid: u64, parent: Parent) {
        if let Parent::Call { caller } = parent {
            self.child.insert(caller, uid);
        }
    }
    fn placed(&mut self, uid: u64, replica: u32, node: u32) {
        self.placed.insert(uid, (replica, node));
    }
    fn outcome(&mut self, now: SimTime, s: ServiceId, uid: u64, o: Outcome) {
        if s.0 == 0 {
            self.ended.insert(uid, (now, o));
        }
    }
}

/// One root request: arrival, sojourn, outcome, and where its db call was served.
struct Root {
    arrived: SimTime,
    sojourn: SimTime,
    outcome: Outcome,
    served: Option<(u32, u32)>,
}

impl Seen {
    fn roots(&self) -> Vec<Root> {
        self.arrived
            .iter()
            .filter_map(|(u, &t)| {
                let &(e, o) = self.ended.get(u)?;
                let served = self
                    .child
                    .get(u)
                    .filter(|c| self.service.get(c) == Some(&1))
                    .and_then(|c| self.placed.get(c).copied());
                Some(Root {
                    arrived: t,
                    sojourn: e.since(t),
                    outcome: o,
                    served,
                })
            })
            .collect()
    }
}

fn observe(text: &str) -> (Summary, Seen) {
    let spec = scenario::parse(text, "links").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = model::validate(&spec, "links").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut a = Seen::default();
    let s = run_observed(&p, Limits::default(), &mut a).expect("runs");
    (s, a)
}

/// Whether the api's call (sent 1 ms after arrival) falls in the fault's window.
fn in_window(arrived: SimTime) -> bool {
    let sent = arrived.0 + MS;
    (SimTime::from_secs(10).0..SimTime::from_secs(20).0).contains(&sent)
}

#[test]
fn a_link_to_a_node_slows_exactly_the_calls_served_on_it() {
    let (s, a) = observe(&platform(
        "",
        r#"LinkLatency(from: "api", to: "node/1", at: "10s", duration: "10s", add: Constant("100ms"))"#,
    ));
    let (mut on1, mut on0) = (0, 0);
    for r in a.roots() {
        let (_, node) = r.served.expect("every call is served");
        let slowed = in_window(r.arrived) && node == 1;
        let want = if slowed { 111 } else { 11 };
        assert_eq!((r.sojourn, r.outcome), (SimTime(want * MS), Outcome::Ok));
        if in_window(r.arrived) {
            *if node == 1 { &mut on1 } else { &mut on0 } += 1;
        }
    }
    // Round robin over the two db pods, one per node: half the window's calls each.
    assert!(on1 > 450 && on0 > 450, "{on1} {on0}");
    assert_eq!(s.services["db"].ok, s.services["api"].ok);
}

#[test]
fn a_partition_from_a_node_refuses_the_calls_to_its_pods_only() {
    let (s, a) = observe(&platform(
        "",
        r#"Partition(from: "node/1", to: "api", at: "10s", duration: "10s")"#,
    ));
    let mut refused = 0;
    for r in a.roots() {
        // A call sent just before the partition, answered from node 1 after it began,
        // loses its answer: the caller's timeout fires.
        let answer = SimTime(r.arrived.0 + 11 * MS);
        match (in_window(r.arrived), r.outcome) {
            (_, Outcome::Ok) => {
                assert_eq!(r.sojourn, SimTime(11 * MS));
                let (_, node) = r.served.expect("served");
                assert!(!in_window(r.arrived) || node == 0, "served on node 1");
            }
            (true, _) => {
                // Refused at once: the api fails after its own 1 ms.
                assert_eq!(r.sojourn, SimTime(MS));
                assert!(r.served.is_none());
                refused += 1;
            }
            (false, o) => {
                assert!(
                    in_window(SimTime(answer.0 - MS)),
                    "{o:?} outside the window"
                );
                assert_eq!(r.served.map(|(_, n)| n), Some(1));
                assert_eq!(r.sojourn, SimTime(201 * MS));
            }
        }
    }
    assert!((450..=550).contains(&refused), "{refused}");
    // Plus the one or two answers in flight at 10 s.
    let failed = s.services["api"].dependency_failed;
    assert!(
        (refused..=refused + 2).contains(&failed),
        "{failed} {refused}"
    );
}

#[test]
fn a_lossy_link_to_a_pod_times_out_the_calls_to_that_pod() {
    let (_, a) = observe(&platform(
        "",
        r#"LinkLoss(from: "api", to: "db/0", at: "10s", duration: "10s", rate: 1.0)"#,
    ));
    let (mut lost, mut fine) = (0, 0);
    for r in a.roots() {
        if r.outcome == Outcome::Ok {
            assert_eq!(r.sojourn, SimTime(11 * MS));
            let (slot, _) = r.served.expect("served");
            assert!(!in_window(r.arrived) || slot != 0, "db/0 reached");
            fine += in_window(r.arrived) as u32;
        } else {
            // Never received: the 200 ms timeout fires, 1 ms after arrival.
            assert!(in_window(r.arrived));
            assert_eq!(r.sojourn, SimTime(201 * MS));
            assert!(r.served.is_none());
            lost += 1;
        }
    }
    assert!(lost > 450 && fine > 450, "{lost} {fine}");
}

#[test]
fn pods_created_on_a_node_while_its_link_fault_lasts_are_reached() {
    // Node 0 dies at 2 s; its db pod is evicted at 3 s and replaced on node 1 (ready at
    // 4 s): from then on both db pods run on node 1, and every call in the window is slow.
    let (_, a) = observe(&platform(
        r#"NodeKill(node: 0, at: "2s"), "#,
        r#"LinkLatency(from: "api", to: "node/1", at: "10s", duration: "10s", add: Constant("100ms"))"#,
    ));
    let mut slowed = 0;
    for r in a.roots().iter().filter(|r| in_window(r.arrived)) {
        assert_eq!(r.served.map(|(_, n)| n), Some(1));
        assert_eq!((r.sojourn, r.outcome), (SimTime(111 * MS), Outcome::Ok));
        slowed += 1;
    }
    assert!(slowed > 900, "{slowed}");
}

#[test]
fn a_base_latency_to_a_node_adds_to_every_call_served_there() {
    let text = platform("", "").replace(
        "faults: [],",
        r#"faults: [], links: [Link(from: "api", to: "node/0", latency: Constant("4ms"))],"#,
    );
    let (_, a) = observe(&text);
    for r in a.roots() {
        let (_, node) = r.served.expect("served");
        let want = if node == 0 { 15 } else { 11 };
        assert_eq!((r.sojourn, r.outcome), (SimTime(want * MS), Outcome::Ok));
    }
}

/// The matrix of instance ends x link fault kinds: for every call sent in the window, a
/// call to the instance on the link (the pod on node 1, or the pod in slot 0) is slowed
/// by exactly 100 ms, times out (lost: 1 + 200 ms) or is refused (1 ms), and no other
/// call is touched; about half the window's calls reach that instance (round robin).
#[test]
fn every_instance_end_by_every_link_fault_kind() {
    let kinds = [
        (
            "latency",
            r#"LinkLatency(from: "api", to: "{end}", at: "10s", duration: "10s", add: Constant("100ms"))"#,
        ),
        (
            "loss",
            r#"LinkLoss(from: "api", to: "{end}", at: "10s", duration: "10s", rate: 1.0)"#,
        ),
        (
            "one-way",
            r#"Partition(from: "api", to: "{end}", at: "10s", duration: "10s", one_way: true)"#,
        ),
        (
            "one-way back",
            r#"Partition(from: "{end}", to: "api", at: "10s", duration: "10s", one_way: true)"#,
        ),
        (
            "partition",
            r#"Partition(from: "{end}", to: "api", at: "10s", duration: "10s")"#,
        ),
    ];
    for end in ["node/1", "db/0"] {
        let on = |served: (u32, u32)| match end {
            "node/1" => served.1 == 1,
            _ => served.0 == 0,
        };
        for (kind, fault) in kinds {
            let (s, a) = observe(&platform("", &fault.replace("{end}", end)));
            let mut hit = 0;
            for r in a.roots() {
                // A call is sent 1 ms after its root arrives and answered 10 ms later: a
                // fault on the way back acts on the answers sent in its window, and a
                // partition also on answers of calls sent just before it.
                let answer = SimTime(r.arrived.0 + 10 * MS);
                let back = in_window(answer);
                let window = match kind {
                    "one-way back" => back,
                    "partition" => in_window(r.arrived) || back,
                    _ => in_window(r.arrived),
                };
                let got = (r.sojourn, r.outcome);
                let ok11 = (SimTime(11 * MS), Outcome::Ok);
                match r.served {
                    _ if !window => assert_eq!(got, ok11, "{end} {kind}"),
                    Some(at) if on(at) => {
                        hit += 1;
                        let want = match kind {
                            "latency" => (SimTime(111 * MS), Outcome::Ok),
                            // Served (the work is done), its answer lost.
                            "one-way back" | "partition" => {
                                (SimTime(201 * MS), Outcome::DependencyFailed)
                            }
                            _ => panic!("{end} {kind}: a call reached the instance"),
                        };
                        assert_eq!(got, want, "{end} {kind}");
                    }
                    Some(_) => assert_eq!(got, ok11, "{end} {kind}"),
                    None => {
                        hit += 1;
                        let want = match kind {
                            "loss" | "one-way" => SimTime(201 * MS),
                            "partition" => SimTime(MS),
                            _ => panic!("{end} {kind}: a call was not served"),
                        };
                        assert_eq!(got, (want, Outcome::DependencyFailed), "{end} {kind}");
                    }
                }
            }
            assert!((450..=550).contains(&hit), "{end} {kind}: {hit}");
            let failed = s.services["api"].dependency_failed;
            let want = if kind == "latency" { 0 } else { hit };
            assert_eq!(failed, want, "{end} {kind}");
        }
    }
}

fn rejected(text: &str) -> String {
    let spec = scenario::parse(text, "links").unwrap_or_else(|e| panic!("{e}\n{text}"));
    format!(
        "{:?}",
        model::validate(&spec, "links").expect_err("rejected")
    )
}

#[test]
fn link_ends_are_validated_with_field_paths_and_suggestions() {
    let fault = |f: &str| rejected(&platform("", f));
    let e = fault(
        r#"LinkLatency(from: "api", to: "node/2", at: "1s", duration: "1s", add: Constant("1ms"))"#,
    );
    assert!(
        e.contains("faults[0].to") && e.contains("node 2 does not exist (nodes 0..2)"),
        "{e}"
    );
    let e = fault(r#"LinkLoss(from: "dbb/0", to: "api", at: "1s", duration: "1s")"#);
    assert!(
        e.contains("faults[0].from") && e.contains(r#"did you mean \"db\""#),
        "{e}"
    );
    let e = fault(r#"Partition(from: "db/2", to: "api", at: "1s", duration: "1s")"#);
    assert!(
        e.contains("faults[0].from") && e.contains("pod 2 of \\\"db\\\" does not exist"),
        "{e}"
    );
    let e = fault(r#"Partition(from: "node/x", to: "api", at: "1s", duration: "1s")"#);
    assert!(
        e.contains("faults[0].from") && e.contains("node's number"),
        "{e}"
    );
    let e = fault(r#"Partition(from: "apu", to: "api", at: "1s", duration: "1s")"#);
    assert!(
        e.contains("faults[0].from") && e.contains(r#"did you mean \"api\""#),
        "{e}"
    );
    let e = fault(r#"Partition(from: "node/1", to: "node/1", at: "1s", duration: "1s")"#);
    assert!(
        e.contains("faults[0].to") && e.contains("two different ends"),
        "{e}"
    );
    // Without nodes, a node is not an end; a service without pods has no pod ends.
    let plain = platform(
        "",
        r#"Partition(from: "api", to: "node/0", at: "1s", duration: "1s")"#,
    )
    .replace(
        r#"nodes: Some(Nodes(count: 2, not_ready_after: "0s", evict_after: "1s")),"#,
        "",
    )
    .replace(r#"kubernetes: Some(Kube(pod_startup: Constant("1s")))"#, "");
    let e = rejected(&plain);
    assert!(e.contains("faults[0].to") && e.contains("no nodes"), "{e}");
    let e = rejected(&plain.replace("node/0", "db/0"));
    assert!(
        e.contains("faults[0].to") && e.contains("does not run as pods"),
        "{e}"
    );
    let link = platform("", "").replace(
        "faults: [],",
        r#"faults: [], links: [Link(from: "api", to: "nod/0", latency: Constant("4ms"))],"#,
    );
    let e = rejected(&link);
    assert!(
        e.contains("links[0].to") && e.contains("unknown service \\\"nod\\\""),
        "{e}"
    );
}

// ---- brokers --------------------------------------------------------------------------

/// `api` (1 ms) publishes each request to `orders` on `kafka` with `acks`; `worker`
/// consumes it (5 ms). 50 requests a second for 30 s; faults from 10 s to 20 s.
fn events(acks: &str, faults: &str) -> String {
    format!(
        r#"Scenario(name: "broker-links", seed: 3, duration: "30s", drain: "10s",
    orders: Orders(entry: "api", steps: ["worker"]),
    brokers: [Broker(name: "kafka", durability: Durable, topics: [Topic(name: "orders", partitions: 2)])],
    services: [
        Service(name: "api", concurrency: 1000, service_time: Constant("1ms"),
                publish: [Publish(topic: "orders", acks: {acks})]),
        Service(name: "worker", replicas: 2, concurrency: 4, service_time: Constant("5ms"),
                consume: Some(Consume(topic: "orders", commit: AfterProcessing, auto_commit: None))),
    ],
    workload: [Open(target: "api", rate: 50.0)],
    faults: [{faults}],
)"#
    )
}

fn observe_events(text: &str) -> (Summary, super::common::Answers) {
    let spec = scenario::parse(text, "links").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = model::validate(&spec, "links").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut a = super::common::Answers::default();
    let s = run_observed(&p, Limits::default(), &mut a).expect("runs");
    (s, a)
}

/// Requests at `api` that ended `Ok` and not, whose publish fell in [10 s, 20 s).
fn window_outcomes(a: &super::common::Answers) -> (u64, u64, u64) {
    let (mut ok, mut failed, mut outside_failed) = (0, 0, 0);
    for (u, &t) in &a.arrived {
        let Some(&(_, o)) = a.ended.get(u) else {
            continue;
        };
        match (in_window(t), o == Outcome::Ok) {
            (true, true) => ok += 1,
            (true, false) => failed += 1,
            (false, false) => outside_failed += 1,
            _ => {}
        }
    }
    (ok, failed, outside_failed)
}

#[test]
fn a_one_way_partition_to_the_broker_fails_or_loses_publishes_per_acks() {
    let cut = r#"Partition(from: "api", to: "kafka", at: "10s", duration: "10s", one_way: true)"#;
    // acks=Leader: the produce request never arrives, no ack: the request fails, and
    // nothing of the window reaches the worker.
    let (s, a) = observe_events(&events("Leader", cut));
    let (ok, failed, outside) = window_outcomes(&a);
    assert_eq!((ok, outside), (0, 0));
    assert!((480..=520).contains(&failed), "{failed}");
    let t = &s.topics["orders"];
    assert_eq!(t.publish_failed, failed);
    assert_eq!(s.services["worker"].ok, s.services["api"].ok);
    // acks=None: fire and forget: every request succeeds, the window's messages are lost.
    let (s, a) = observe_events(&events("None", cut));
    let (ok, failed, _) = window_outcomes(&a);
    assert_eq!(failed, 0);
    assert_eq!(s.topics["orders"].publish_lost, ok);
    assert_eq!(s.services["worker"].ok + ok, s.services["api"].ok);
}

#[test]
fn a_one_way_partition_from_the_broker_loses_only_the_acks() {
    // The broker appends (the worker processes every message) but its answers are
    // dropped: with acks=Leader the producer fails the request all the same.
    let cut = r#"Partition(from: "kafka", to: "api", at: "10s", duration: "10s", one_way: true)"#;
    let (s, a) = observe_events(&events("Leader", cut));
    let (ok, failed, _) = window_outcomes(&a);
    assert_eq!(ok, 0);
    assert!((480..=520).contains(&failed), "{failed}");
    assert_eq!(s.services["worker"].ok, s.services["api"].arrivals);
    // Fire and forget does not wait for an ack: nothing changes.
    let (s, a) = observe_events(&events("None", cut));
    assert_eq!(window_outcomes(&a).1, 0);
    assert_eq!(s.services["worker"].ok, s.services["api"].arrivals);
}

#[test]
fn a_partition_from_the_broker_to_a_consumer_stops_deliveries_until_it_heals() {
    let cut =
        r#"Partition(from: "kafka", to: "worker", at: "10s", duration: "10s", one_way: true)"#;
    let (s, a) = observe_events(&events("Leader", cut));
    // Publishing is untouched; the worker takes nothing in the window and catches up
    // after: everything is processed by the end.
    assert_eq!(window_outcomes(&a).1, 0);
    assert_eq!(s.services["worker"].ok, s.services["api"].arrivals);
    let ts = s.timeseries.column("t_s").expect("t_s");
    let lag = s
        .timeseries
        .column("topic.orders.worker.lag")
        .expect("lag column");
    let at = |t: f64| {
        lag[ts
            .iter()
            .position(|&x| (x - t).abs() < 1e-9)
            .expect("window")]
    };
    // 10 s of 50 a second held back, then drained by two workers in well under 5 s.
    assert!(
        at(19.0) > 400.0 && at(25.0) < 5.0,
        "{} {}",
        at(19.0),
        at(25.0)
    );
}

#[test]
fn link_latency_to_the_broker_delays_the_produce_ack() {
    let slow = r#"LinkLatency(from: "api", to: "kafka", at: "10s", duration: "10s", add: Constant("50ms"))"#;
    let (_, a) = observe_events(&events("Leader", slow));
    for (u, &t) in &a.arrived {
        let (e, o) = a.ended[u];
        let want = if in_window(t) { 51 } else { 1 };
        assert_eq!((e.since(t), o), (SimTime(want * MS), Outcome::Ok));
    }
    // A link latency or loss with a broker is on a producer's or a consumer's path: a
    // service that does neither with that broker is refused.
    let with_pay = events(
        "Leader",
        r#"LinkLoss(from: "kafka", to: "pay", at: "1s", duration: "1s")"#,
    )
    .replace(
        "    ],\n    workload",
        "        Service(name: \"pay\", service_time: Constant(\"1ms\")),\n    ],\n    workload",
    );
    let e = rejected(&with_pay);
    assert!(
        e.contains("faults[0].to") && e.contains("neither publishes to nor consumes from"),
        "{e}"
    );
    let e = rejected(&events(
        "Leader",
        r#"Partition(from: "kafka", to: "kafka", at: "1s", duration: "1s")"#,
    ));
    assert!(e.contains("faults[0].to"), "{e}");
    let e = rejected(&events(
        "Leader",
        r#"Partition(from: "api", to: "kafak", at: "1s", duration: "1s", one_way: true)"#,
    ));
    assert!(
        e.contains("faults[0].to") && e.contains(r#"did you mean \"kafka\""#),
        "{e}"
    );
}

/// One client publishes a message every 1 s + 1 ms (`api`, 1 ms, think 1 s) to a topic
/// of one partition; `worker` processes each in 5 ms, so it is idle when the next one
/// comes: a message's time from publish to processed is exactly 5 ms plus what the
/// link adds to its fetch.
fn fetches(duration: &str, faults: &str, links: &str) -> String {
    format!(
        r#"Scenario(name: "fetch-links", seed: 5, duration: "{duration}", drain: "300s",
    brokers: [Broker(name: "kafka", durability: Durable, topics: [Topic(name: "orders", partitions: 1)])],
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("1ms"),
                publish: [Publish(topic: "orders", acks: Leader)]),
        Service(name: "worker", concurrency: 1, service_time: Constant("5ms"),
                consume: Some(Consume(topic: "orders", commit: AfterProcessing, auto_commit: None))),
    ],
    links: [{links}],
    workload: [Closed(target: "api", users: 1, think_time: Constant("1s"))],
    faults: [{faults}],
)"#
    )
}

/// Per message: when it was published and when `worker` processed it.
#[derive(Default)]
struct Messages {
    published: BTreeMap<u64, SimTime>,
    handled_by: BTreeMap<u64, u64>,
    processed: BTreeMap<u64, SimTime>,
}

impl Observer for Messages {
    fn produced(&mut self, now: SimTime, _uid: u64, _to: platsim::run::Destination, id: u64) {
        self.published.insert(id, now);
    }
    fn visit(&mut self, _now: SimTime, uid: u64, parent: Parent) {
        if let Parent::Message { id, .. } = parent {
            self.handled_by.insert(uid, id);
        }
    }
    fn outcome(&mut self, now: SimTime, s: ServiceId, uid: u64, o: Outcome) {
        if s.0 == 1 && o == Outcome::Ok {
            self.processed.insert(self.handled_by[&uid], now);
        }
    }
}

fn observe_messages(text: &str) -> (Summary, Messages) {
    let spec = scenario::parse(text, "links").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = model::validate(&spec, "links").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut m = Messages::default();
    let s = run_observed(&p, Limits::default(), &mut m).expect("runs");
    (s, m)
}

/// Each message's time from publish to processed, in ms, by publish time.
fn publish_to_processed(m: &Messages) -> Vec<(SimTime, u64)> {
    m.published
        .iter()
        .map(|(id, &t)| (t, m.processed[id].since(t).0 / MS))
        .collect()
}

#[test]
fn link_latency_from_the_broker_delays_each_fetch_by_exactly_the_link() {
    // A fetch's response crosses the link before the consumer can process it: 5 ms
    // becomes 105 ms for the messages published while the fault lasts, and the time in
    // the topic (append to delivery) is the 100 ms.
    let slow = r#"LinkLatency(from: "kafka", to: "worker", at: "10s", duration: "10s", add: Constant("100ms"))"#;
    let (s, m) = observe_messages(&fetches("30s", slow, ""));
    let times = publish_to_processed(&m);
    assert!(times.len() >= 29, "{}", times.len());
    for &(t, ms) in &times {
        let inside = t >= SimTime(10_000 * MS) && t < SimTime(20_000 * MS);
        assert_eq!(ms, if inside { 105 } else { 5 }, "published at {t:?}");
    }
    // A fetch is a round trip: a base link either way adds to every fetch, both ways add.
    let base = r#"Link(from: "worker", to: "kafka", latency: Constant("30ms"))"#;
    let (_, m) = observe_messages(&fetches("30s", slow, base));
    for (t, ms) in publish_to_processed(&m) {
        let inside = t >= SimTime(10_000 * MS) && t < SimTime(20_000 * MS);
        assert_eq!(ms, if inside { 135 } else { 35 }, "published at {t:?}");
    }
    let g = &s.topics["orders"].groups["worker"];
    assert_eq!(
        (g.processed, g.redelivered, g.refetched),
        (times.len() as u64, 0, 0)
    );
}

#[test]
fn link_loss_from_the_broker_refetches_after_the_fetch_timeout_and_loses_nothing() {
    // Each fetch is lost with p = 0.01; a lost one is sent again after Kafka's
    // `request.timeout.ms` (30 s) from the same offset. Of F fetches, the lost ones are
    // Binomial(F, 0.01); every message is still processed, once.
    let lossy = r#"LinkLoss(from: "kafka", to: "worker", at: "0s", duration: "4000s", rate: 0.01)"#;
    let (s, m) = observe_messages(&fetches("3600s", lossy, ""));
    let g = &s.topics["orders"].groups["worker"];
    let n = m.published.len() as u64;
    assert_eq!(
        (g.processed, g.redelivered, m.processed.len() as u64),
        (n, 0, n)
    );
    let fetched = (n + g.refetched) as f64;
    let (mean, sd) = (fetched * 0.01, (fetched * 0.01 * 0.99).sqrt());
    assert!(
        (g.refetched as f64 - mean).abs() < 4.0 * sd,
        "{} re-fetches of {fetched} fetches, expected {mean} +- {sd}",
        g.refetched
    );
    // A message waits 30 s per lost fetch: the times from publish to processed are
    // 5 ms plus multiples of 30 s, less the queueing behind a lost fetch.
    let times = publish_to_processed(&m);
    let slow = times.iter().filter(|&&(_, ms)| ms > 5).count() as u64;
    assert!(slow >= g.refetched, "{slow} {}", g.refetched);
    assert!(times.iter().map(|&(_, ms)| ms).max() >= Some(30_000));
    assert!(g.lag_s_max >= 30.0, "{}", g.lag_s_max);
}

/// The figures in `scenarios/resilience/network-links.ron`'s header and
/// scenarios/README.md.
#[test]
fn the_network_links_scenario_repeats_its_header() {
    let text = include_str!("../../scenarios/resilience/network-links.ron");
    let s = super::common::run_scenario(text, &[]);
    let c = &s.calls["checkout->payment"];
    assert_eq!(
        (c.calls, c.attempt_timeouts, c.retries, c.failed),
        (9000, 854, 798, 56)
    );
    let t = &s.topics["orders"];
    assert_eq!(
        (
            t.publish_failed,
            t.groups["shipping"].lag_max,
            t.groups["shipping"].lag_end
        ),
        (899, 945, 0)
    );
    let o = super::common::orders(&s);
    super::common::balanced(o);
    assert_eq!((o.accepted, o.completed, o.lost), (8045, 8045, 0));
    assert_eq!(s.services["checkout"].dependency_failed, 899 + 56);
}

// ---- metamorphic -------------------------------------------------------------------------

mod properties {
    use super::{observe, platform};
    use proptest::prelude::*;

    const ENDS: [&str; 6] = ["api", "db", "node/0", "node/1", "db/0", "db/1"];

    fn fault(kind: u8, from: &str, to: &str, at: u32, secs: u32, x: u32) -> String {
        let w = format!(r#"from: "{from}", to: "{to}", at: "{at}s", duration: "{secs}s""#);
        match kind {
            0 => format!("LinkLatency({w}, add: Constant(\"{x}ms\"))"),
            1 => format!("LinkLoss({w}, rate: {})", f64::from(x % 101) / 100.0),
            2 => format!("Partition({w}, one_way: true)"),
            _ => format!("Partition({w})"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Adding a link fault between any two ends (services, nodes, pods) never
        /// increases goodput: the api's successful answers.
        #[test]
        fn adding_a_link_fault_never_increases_goodput(
            kind in 0u8..4,
            a in 0usize..6,
            b in 0usize..6,
            at in 0u32..25,
            secs in 1u32..10,
            x in 1u32..400,
        ) {
            prop_assume!(a != b);
            let (without, _) = observe(&platform("", ""));
            let text = platform("", &fault(kind, ENDS[a], ENDS[b], at, secs, x));
            let (with, _) = observe(&text);
            let (n, m) = (without.services["api"].ok, with.services["api"].ok);
            prop_assert!(m <= n, "with the fault {} > {} without\n{}", m, n, text);
        }
    }
}
