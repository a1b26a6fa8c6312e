//! Issue 22 item 5, StatefulSets, worked out by hand against Kubernetes' documented
//! guarantees (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/,
//! "Deployment and Scaling Guarantees" and "Pod Identity"):
//!
//! - `OrderedReady`: pods are created in order, `name-N` only once every lower ordinal
//!   is Running and Ready; a deleted pod comes back under its own name once the old one
//!   is gone. `Parallel` starts them together.
//! - Scale-down removes the highest ordinal first, one at a time (the next only once the
//!   last is completely shut down) under `OrderedReady`.
//! - A pod's volume survives restarts and rescheduling; a local volume is lost with its
//!   node, and a database pod on it loses its orders under a cause naming the pod.

use crate::common::{balanced, orders, run_scenario};
use platsim::metrics::summary::StatefulPodSummary;

/// Three database pods, each 10 s to start, terminated abruptly (gone when the 1 s
/// endpoint delay takes them out of the load balancers). All three are deleted at 60 s.
const THREE: &str = r#"Scenario(
    name: "sts", duration: "2m", seed: 1,
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("1ms"),
                calls: [Call(to: "db")]),
        Service(name: "db", replicas: 3, concurrency: 10, service_time: Constant("1ms"),
                kubernetes: Some(Kube(pod_startup: Constant("10s"), termination: Abrupt,
                                      stateful: Some(StatefulSet())))),
    ],
    workload: [Open(target: "api", rate: 1.0)],
    faults: [DeletePods(target: "db", at: "60s", pods: 3)],
)"#;

fn pods(s: &platsim::metrics::Summary, name: &str) -> Vec<StatefulPodSummary> {
    s.services[name]
        .pods
        .as_ref()
        .and_then(|p| p.stateful.clone())
        .expect("a StatefulSet")
}

/// Deleted at 60 s, gone at 61 s. `OrderedReady`: db-0 is created at 61 s and ready at
/// 71 s, db-1 then (ready 81 s), db-2 at 81 s (ready 91 s). `Parallel`: all at 71 s.
/// Each comes back under its own name.
#[test]
fn ordered_ready_starts_each_pod_after_the_one_before_is_ready() {
    let s = run_scenario(THREE, &[]);
    let p = pods(&s, "db");
    let names: Vec<&str> = p.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    for (k, x) in p.iter().enumerate() {
        assert_eq!(x.gone_s, [61.0], "{x:?}");
        assert_eq!(x.ready_s, [0.0, 71.0 + 10.0 * k as f64], "{x:?}");
    }
    let s = run_scenario(
        THREE,
        &["services.db.kubernetes.stateful.pod_management=Parallel"],
    );
    for x in pods(&s, "db") {
        assert_eq!(x.ready_s, [0.0, 71.0], "{x:?}");
    }
}

/// The same deletion of a Deployment's pods: the ReplicaSet replaces them at once, under
/// new names (no identities to report), ready at 70 s.
#[test]
fn a_deployment_replaces_its_pods_at_once() {
    let text = THREE.replace(
        ",\n                                      stateful: Some(StatefulSet())",
        "",
    );
    let s = run_scenario(&text, &[]);
    let pod = s.services["db"].pods.as_ref().unwrap();
    assert!(pod.stateful.is_none());
    assert_eq!(pod.deleted, 3);
}

/// An autoscaled StatefulSet with no load scales from 3 pods to its minimum of 1 (after
/// the 5-minute stabilization): `OrderedReady` deletes db-2 (gone 1 s later, the endpoint
/// delay), then db-1 (gone 1 s after that); `Parallel` both at once. db-0 stays.
#[test]
fn scale_down_stops_the_highest_ordinal_first_one_at_a_time() {
    let text = r#"Scenario(
        name: "sts-down", duration: "8m", seed: 1,
        services: [
            Service(name: "db", replicas: 3, concurrency: 10, service_time: Constant("1ms"),
                    autoscale: Some(Autoscale(min: 1, max: 3, metric: Rps(target: 100.0))),
                    kubernetes: Some(Kube(termination: Abrupt,
                                          stateful: Some(StatefulSet())))),
        ],
        workload: [Open(target: "db", rate: 0.01)],
    )"#;
    for (set, gap) in [("OrderedReady", 1.0), ("Parallel", 0.0)] {
        let s = run_scenario(
            text,
            &[&format!(
                "services.db.kubernetes.stateful.pod_management={set}"
            )],
        );
        let auto = s.services["db"].autoscale.clone().unwrap();
        let down = auto.events.iter().find(|e| e.to == 1).expect("scaled to 1");
        assert_eq!(down.from, 3, "{auto:?}");
        let p = pods(&s, "db");
        assert!(p[0].gone_s.is_empty(), "{:?}", p[0]);
        assert_eq!(p[2].gone_s, [down.t_s + 1.0], "{set}: {:?}", p[2]);
        assert_eq!(p[1].gone_s, [down.t_s + 1.0 + gap], "{set}: {:?}", p[1]);
    }
}

/// One closed user thinking 99 ms and a 1 ms write: an order is acknowledged every tenth
/// of a second from 0.1 s. With nodes every service runs as pods: the api's goes to
/// node 0, the database's only pod, db-0, to node 1 (the node with fewest pods). Node 1
/// dies at 120.05 s: with a local volume the
/// 1,200 orders acknowledged by then (0.1 s .. 120.0 s) are lost under db-0's cause; the
/// pod is replaced under its name after the eviction, with an empty volume. With a
/// network volume, or a restart instead of the node's death, none is lost.
const NODE: &str = r#"Scenario(
    name: "sts-volume", duration: "4m", seed: 1,
    nodes: Some(Nodes(count: 2, not_ready_after: "10s", evict_after: "10s")),
    orders: Orders(entry: "api", steps: ["db"]),
    services: [
        Service(name: "api", concurrency: 10, service_time: Constant("0s"),
                calls: [Call(to: "db", timeout: Some("1s"))]),
        Service(name: "db", concurrency: 10, service_time: Constant("1ms"),
                writes: Some(Writes(from: ["api"], service_time: Constant("1ms"))),
                kubernetes: Some(Kube(pod_startup: Constant("5s"),
                                      stateful: Some(StatefulSet(volume: Local))))),
    ],
    workload: [Closed(target: "api", users: 1, think_time: Constant("99ms"))],
    faults: [NodeKill(node: 1, at: "120.05s")],
)"#;

const VOLUME_CAUSE: &str = "db-0: volume lost with its node (local volume)";

#[test]
fn a_local_volume_dies_with_its_node_and_its_orders_with_it() {
    let s = run_scenario(NODE, &[]);
    let o = orders(&s);
    balanced(o);
    assert_eq!(o.lost, 1200, "{o:?}");
    assert_eq!(o.lost_causes.get(VOLUME_CAUSE), Some(&1200), "{o:?}");
    let p = pods(&s, "db");
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].volumes_lost, p[0].writes_lost),
        (1, 1200),
        "{:?}",
        p[0]
    );
    // Unlisted at 130.05 s, evicted (gone) at 140.05 s, the new db-0 ready at 145.05 s.
    assert_eq!(p[0].gone_s, [140.05], "{:?}", p[0]);
    assert_eq!(p[0].ready_s, [0.0, 145.05], "{:?}", p[0]);

    let s = run_scenario(NODE, &["services.db.kubernetes.stateful.volume=Network"]);
    let o = orders(&s);
    balanced(o);
    assert_eq!(o.lost, 0, "{o:?}");
    assert_eq!(pods(&s, "db")[0].ready_s, [0.0, 145.05]);
}

/// A restart keeps the volume: the pod deleted (not its node) comes back under its name
/// with its data.
#[test]
fn a_restarted_pod_keeps_its_volume() {
    let text = NODE.replace(
        r#"NodeKill(node: 1, at: "120.05s")"#,
        r#"DeletePods(target: "db", at: "120.05s")"#,
    );
    let s = run_scenario(&text, &[]);
    let o = orders(&s);
    balanced(o);
    assert_eq!(o.lost, 0, "{o:?}");
    let p = pods(&s, "db");
    assert_eq!(
        (p[0].volumes_lost, p[0].ready_s.len()),
        (0, 2),
        "{:?}",
        p[0]
    );
}

/// `scenarios/data/statefulset.ron` and its safe setting, with its header's figures.
#[test]
fn the_shipped_statefulset_scenario_loses_its_orders_with_the_local_volume() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/statefulset.ron"),
    )
    .expect("shipped");
    let s = run_scenario(&text, &[]);
    let o = orders(&s);
    balanced(o);
    assert_eq!(
        (o.placed, o.accepted, o.refused),
        (30_212, 22_124, 8_088),
        "{o:?}"
    );
    assert_eq!((o.lost, o.completed), (12_077, 10_047), "{o:?}");
    let cause = "orders-db-0: volume lost with its node (local volume)";
    assert_eq!(o.lost_causes.get(cause), Some(&12_077), "{o:?}");
    let p = pods(&s, "orders-db");
    assert_eq!(
        (p[0].gone_s.clone(), p[0].ready_s.clone()),
        (vec![190.0], vec![0.0, 200.0])
    );

    let s = run_scenario(
        &text,
        &["services.orders-db.kubernetes.stateful.volume=Network"],
    );
    let o = orders(&s);
    balanced(o);
    assert_eq!((o.lost, o.completed), (0, 22_124), "{o:?}");
}

/// A rolling update of a StatefulSet is not modelled: the deployment is refused with its
/// field path, and a typo in the pod management policy names the choices.
#[test]
fn a_statefulset_refuses_what_it_does_not_model() {
    let text = THREE.replace(
        "faults: [",
        r#"deployments: [Deploy(service: "db", at: "10s", version: Version())],
    faults: ["#,
    );
    let err = platsim::simulate(&text, "test", &[], platsim::Limits::default())
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("deployments[0].service") && err.contains("is a StatefulSet"),
        "{err}"
    );
    let err = platsim::simulate(
        THREE,
        "test",
        &crate::common::overrides(&["services.db.kubernetes.stateful.pod_management=Paralel"]),
        platsim::Limits::default(),
    )
    .expect_err("refused")
    .to_string();
    assert!(err.contains("Parallel"), "{err}");
}

mod property {
    use crate::common::balanced;
    use platsim::{simulate, Limits};
    use proptest::prelude::*;

    /// A random StatefulSet database (1-3 pods, either policy, either volume) over 2-4
    /// nodes, a node killed and some of its pods deleted at random times.
    fn platform() -> impl Strategy<Value = String> {
        (
            (1u32..4, any::<bool>(), any::<bool>(), 2u32..5),
            (0u32..4, 1u64..50, 1u64..50, 0u64..1000),
        )
            .prop_map(
                |((pods, ordered, local, nodes), (node, kill_at, delete_at, seed))| {
                    let policy = if ordered { "OrderedReady" } else { "Parallel" };
                    let volume = if local { "Local" } else { "Network" };
                    let node = node % nodes;
                    format!(
                        r#"Scenario(
    name: "prop", duration: "60s", drain: "10s", seed: {seed},
    nodes: Some(Nodes(count: {nodes}, not_ready_after: "5s", evict_after: "5s")),
    orders: Orders(entry: "api", steps: ["db"]),
    services: [
        Service(name: "api", concurrency: 50, service_time: Constant("1ms"),
                calls: [Call(to: "db", timeout: Some("2s"))]),
        Service(name: "db", replicas: {pods}, concurrency: 20,
                service_time: Exponential(mean: "2ms"),
                writes: Some(Writes(from: ["api"], service_time: Exponential(mean: "3ms"))),
                kubernetes: Some(Kube(pod_startup: Constant("2s"),
                    stateful: Some(StatefulSet(pod_management: {policy}, volume: {volume}))))),
    ],
    workload: [Open(target: "api", rate: 50.0)],
    faults: [NodeKill(node: {node}, at: "{kill_at}s", duration: "5s"),
             DeletePods(target: "db", at: "{delete_at}s", pods: 1)],
)"#
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// The ledger balances; every lost order is a write lost with a local volume (one
        /// write per order: the lost orders are the writes the volumes took), and a network
        /// volume loses nothing.
        #[test]
        fn orders_are_lost_only_with_local_volumes(text in platform()) {
            let s = simulate(&text, "prop", &[], Limits::default())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let o = s.orders.as_ref().expect("orders");
            balanced(o);
            let pods = s.services["db"].pods.clone().and_then(|p| p.stateful).expect("a set");
            let taken: u64 = pods.iter().map(|p| p.writes_lost).sum();
            prop_assert_eq!(o.lost, taken, "{:?}\n{}", o, text);
            if text.contains("volume: Network") {
                prop_assert_eq!(o.lost, 0);
            }
        }
    }
}
