//! Issue 24: partitioned data. A hot key saturates its partition while the others idle,
//! salting fixes it, and each partition's utilization is its popularity share x the
//! arrival rate x the service time, worked out here from the Zipf weights by hand.

use super::common::run_scenario as run;
use platsim::mech::partition::{KeyRouter, Partitioning, Scheme};

fn hot_partition() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/hot-partition.ron"),
    )
    .expect("the scenario is readable")
}

#[track_caller]
fn near(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want} ± {tol}"
    );
}

/// The numbers in the header of `scenarios/data/hot-partition.ron`.
#[test]
fn a_hot_key_saturates_its_partition_and_salting_spreads_it() {
    let text = hot_partition();
    let s = run(&text, &[]);
    let kv = &s.partitioned["kv"];
    let hot = kv.hot_key_partition as usize;
    assert_eq!(hot, 7);
    near(
        kv.partitions[hot].utilization,
        0.971,
        0.0005,
        "hot partition",
    );
    near(kv.partitions[hot].sojourn_ms.p99, 94.9, 0.5, "hot p99 ms");
    for (i, p) in kv.partitions.iter().enumerate() {
        if i != hot {
            assert!(p.utilization < 0.13, "partition {i}: {p:?}");
            assert!(p.sojourn_ms.p99 < 2.1, "partition {i}: {p:?}");
        }
    }
    // One partition per node: the hot partition's node is as loaded as it.
    assert_eq!(kv.nodes[hot].partitions, vec![hot as u32]);
    near(kv.nodes[hot].utilization, 0.971, 0.0005, "hot node");
    near(kv.max_utilization, 0.971, 0.0005, "max");
    near(kv.mean_utilization, 0.200, 0.001, "mean");

    let salted = run(&text, &["services.kv.partitioning.salt=8"]);
    let kv = &salted.partitioned["kv"];
    near(kv.max_utilization, 0.346, 0.0005, "salted max");
    near(kv.mean_utilization, 0.200, 0.001, "salted mean");
    let p99 = kv.partitions.iter().map(|p| p.sojourn_ms.p99);
    assert!(p99.fold(0.0, f64::max) < 3.3);
}

/// Utilization of each partition = (hot share on key 0 + (1 - hot share) x the Zipf
/// weights 1/k^s / H of the keys it owns) x 1600/s x 1 ms (one server), within the
/// sampling noise of 110 s (about 176,000 requests).
#[test]
fn partition_utilization_is_its_zipf_share_times_rate_times_service_time() {
    let s = run(&hot_partition(), &[]);
    let kv = &s.partitioned["kv"];
    let cfg = Partitioning {
        keys: 10_000,
        zipf: 0.99,
        hot_share: 0.5,
        salt: 1,
        scheme: Scheme::Hash,
        partitions: 8,
        initial_nodes: 8,
        rebalance: None,
    };
    let router = KeyRouter::new(&cfg);
    let h: f64 = (1..=10_000).map(|k| 1.0 / (k as f64).powf(0.99)).sum();
    let mut share = [0.0; 8];
    share[router.owner(0, 0) as usize] += 0.5;
    for k in 0..10_000u32 {
        share[router.owner(k, 0) as usize] += 0.5 / ((k + 1) as f64).powf(0.99) / h;
    }
    for (i, p) in kv.partitions.iter().enumerate() {
        near(p.expected_share, share[i], 1e-9, "table share");
        let want = share[i] * 1600.0 * 0.001;
        near(
            p.utilization,
            want,
            0.01 + 0.02 * want,
            &format!("partition {i}"),
        );
    }
}

#[test]
fn partitioning_problems_name_their_fields() {
    let text = hot_partition()
        .replace("zipf: 0.99", "zipf: -1.0")
        .replace("hot_share: 0.5", "hot_share: 1.0")
        .replace(
            "scheme: Hash",
            "partitions: Some(0), salt: 0, scheme: Ring(vnodes: 0)",
        );
    let err = platsim::scenario::parse(&text, "t")
        .map_err(|e| e.to_string())
        .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
        .expect_err("refused");
    for want in [
        "services[0].partitioning.zipf: -1 is not an exponent",
        "services[0].partitioning.partitions: 0 is not between 1",
        "services[0].partitioning.salt: 0 is not between 1",
        "services[0].partitioning.hot_share: 1 is not a share",
        "services[0].partitioning.scheme.vnodes: 0 is not between 1",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    let typo = hot_partition().replace("hot_share:", "hot_shares:");
    let err = platsim::scenario::parse(&typo, "t")
        .expect_err("unknown field")
        .to_string();
    assert!(
        err.contains("hot_shares") && err.contains("hot_share"),
        "{err}"
    );
}

fn scenario(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/data")
            .join(name),
    )
    .expect("the scenario is readable")
}

/// Mean of `column` over the windows starting in `[from, to)` seconds.
fn mean_in(s: &platsim::Summary, column: &str, from: f64, to: f64) -> f64 {
    let t = s.timeseries.column("t_s").expect("t_s");
    let v = s.timeseries.column(column).expect("column");
    let xs: Vec<f64> = (t.iter().zip(&v))
        .filter(|(t, _)| **t >= from - 1e-9 && **t < to - 1e-9)
        .map(|(_, v)| *v)
        .collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The header of `scenarios/data/rebalance.ron`: 3 moves of 1024 MB at 40 MB/s, 2 at a
/// time, take 2 x 25.6 s from 60 s (hand-computed: `mech::rebalance::duration`); latency
/// rises while the busiest nodes copy and falls below the start once the 4th node serves.
#[test]
fn adding_a_node_under_load_bumps_latency_for_as_long_as_the_copies() {
    let s = run(&scenario("rebalance.ron"), &[]);
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.as_ref().expect("a rebalance");
    assert_eq!((r.start_s, r.end_s, r.moves), (60.0, Some(111.2), 3));
    assert_eq!((r.moved_mb, r.redirected, r.refused), (3072.0, 1227, 0));
    let mut moved: Vec<&[u32]> = kv.nodes.iter().map(|n| n.partitions.as_slice()).collect();
    moved.sort();
    assert_eq!(moved[0], &[0, 3, 6][..]);
    assert_eq!(kv.nodes[3].partitions, vec![9, 10, 11]);
    let p99 = "kv.sojourn_p99_ms";
    near(mean_in(&s, p99, 10.0, 60.0), 13.75, 0.01, "before");
    near(mean_in(&s, p99, 60.0, 86.0), 20.23, 0.01, "first copies");
    near(mean_in(&s, p99, 86.0, 111.0), 14.85, 0.01, "last copy");
    near(mean_in(&s, p99, 112.0, 180.0), 10.06, 0.01, "after");
    // Refusing instead of redirecting: the same requests fail.
    let refused = run(
        &scenario("rebalance.ron"),
        &["services.kv.partitioning.rebalance.stale=Refuse"],
    );
    let r = refused.partitioned["kv"]
        .rebalance
        .clone()
        .expect("a rebalance");
    assert_eq!(r.redirected, 0);
    assert!((1100..1350).contains(&r.refused), "{r:?}");
    assert_eq!(refused.services["kv"].rejected_unavailable, r.refused);
}

#[test]
fn rebalance_problems_name_their_fields() {
    let text = scenario("rebalance.ron").replace(
        "Rebalance(at: \"60s\", to_nodes: 4)",
        "Rebalance(at: \"6o\", to_nodes: 5, copy_cost: 1.0, bandwidth_mb_s: 0.0, concurrent: 0)",
    );
    let err = platsim::scenario::parse(&text, "t")
        .map_err(|e| e.to_string())
        .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
        .expect_err("refused");
    for want in [
        "services[0].partitioning.rebalance.at:",
        "services[0].partitioning.rebalance.to_nodes: 5 is not between 1 and the service's replicas (4)",
        "services[0].partitioning.rebalance.copy_cost: 1 is not a share",
        "services[0].partitioning.rebalance.bandwidth_mb_s: 0 is not a positive amount",
        "services[0].partitioning.rebalance.concurrent: 0 is not between 1",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
}
