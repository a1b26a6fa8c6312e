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
        changes: Vec::new(),
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

/// `rebalance.ron` with its scheduled rebalance swapped for `faults`.
fn rebalance_with_faults(faults: &str) -> String {
    scenario("rebalance.ron")
        .replace("rebalance: Some(Rebalance(at: \"60s\", to_nodes: 4)),", "")
        .replace(
            "    workload: [",
            &format!("    faults: [{faults}],\n    workload: ["),
        )
}

/// A `NodeAdd` fault is the scheduled rebalance by another name: the same plan, the same
/// 51.2 s of copies, the same redirected requests.
#[test]
fn a_node_add_fault_moves_what_the_scheduled_rebalance_moves() {
    let s = run(
        &rebalance_with_faults("NodeAdd(target: \"kv\", at: \"60s\")"),
        &[],
    );
    let r = s.partitioned["kv"].rebalance.clone().expect("a rebalance");
    assert_eq!((r.start_s, r.end_s, r.moves), (60.0, Some(111.2), 3));
    assert_eq!((r.moved_mb, r.redirected, r.refused), (3072.0, 1227, 0));
    assert_eq!(s.partitioned["kv"].nodes[3].partitions, vec![9, 10, 11]);
}

/// A node leaves while the join's copies run (at 80 s): its change waits for them (done
/// at 111.2 s), then node 3 hands back its three partitions, each to the node holding
/// fewest (ties to the lowest number): 9 -> 0, 10 -> 1, 11 -> 2, two copies of 25.6 s
/// at a time, done at 111.2 + 51.2 = 162.4 s. Hand-computed with `mech::rebalance`.
#[test]
fn a_node_change_during_copies_waits_for_them() {
    let s = run(
        &rebalance_with_faults(
            "NodeAdd(target: \"kv\", at: \"60s\"), NodeRemove(target: \"kv\", at: \"80s\")",
        ),
        &[],
    );
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.clone().expect("a rebalance");
    assert_eq!((r.start_s, r.moves, r.moved_mb), (60.0, 6, 6144.0));
    let end = r.end_s.expect("done");
    assert!((end - 162.4).abs() < 1e-9, "{end}");
    let held: Vec<&[u32]> = kv.nodes.iter().map(|n| n.partitions.as_slice()).collect();
    assert_eq!(
        held,
        vec![&[0, 3, 6, 9][..], &[1, 4, 7, 10], &[2, 5, 8, 11], &[]]
    );
}

#[test]
fn node_change_problems_name_their_fields() {
    let err = |text: &str| -> String {
        platsim::scenario::parse(text, "t")
            .map_err(|e| e.to_string())
            .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
            .expect_err("refused")
    };
    let e = err(&rebalance_with_faults(
        "NodeAdd(target: \"kv\", at: \"60s\", nodes: 2), NodeRemove(target: \"kx\", at: \"1s\"), NodeRemove(target: \"kv\", at: \"9s\", nodes: 0)",
    ));
    for want in [
        "faults[0].nodes: at 1m \"kv\" would go from 3 to 5 nodes; it can have 1 to its replicas (4)",
        "faults[1].target: unknown service \"kx\"",
        "faults[2].nodes: 0 nodes change nothing",
    ] {
        assert!(e.contains(want), "{want:?} not in:\n{e}");
    }
    let e = err(&scenario("rebalance.ron").replace("to_nodes: 4", ""));
    assert!(
        e.contains(
            "services[0].partitioning.rebalance.at: a scheduled rebalance needs `to_nodes` too"
        ),
        "{e}"
    );
}

/// The header of `scenarios/data/node-changes.ron`: a `NodeAdd` at 60 s and a
/// `NodeRemove` at 150 s each move 3 partitions in 2 x 25.6 s.
#[test]
fn node_add_and_remove_faults_scale_out_and_back_in() {
    let s = run(&scenario("node-changes.ron"), &[]);
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.clone().expect("a rebalance");
    assert_eq!((r.start_s, r.moves, r.moved_mb), (60.0, 6, 6144.0));
    assert!((r.end_s.expect("done") - 201.2).abs() < 1e-9, "{r:?}");
    assert_eq!((r.redirected, r.refused), (1848, 0));
    assert!(kv.nodes[3].partitions.is_empty());
    let p99 = "kv.sojourn_p99_ms";
    near(mean_in(&s, p99, 10.0, 60.0), 9.97, 0.01, "3 nodes");
    near(mean_in(&s, p99, 60.0, 86.0), 11.30, 0.01, "joining");
    near(mean_in(&s, p99, 112.0, 150.0), 9.40, 0.01, "4 nodes");
    near(mean_in(&s, p99, 150.0, 176.0), 10.28, 0.01, "leaving");
    near(mean_in(&s, p99, 202.0, 240.0), 10.08, 0.01, "after");
}

#[test]
fn dynamic_partitioning_problems_name_their_fields() {
    let err = |text: &str| -> String {
        platsim::scenario::parse(text, "t")
            .map_err(|e| e.to_string())
            .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
            .expect_err("refused")
    };
    let e = err(&scenario("dynamic-splits.ron").replace("scheme: Range", "scheme: Hash"));
    assert!(
        e.contains("services[0].partitioning.rebalance.strategy: dynamic partitioning splits key ranges; use `scheme: Range`"),
        "{e}"
    );
    let err = err(&scenario("dynamic-splits.ron")
        .replace("split_mb: 1024.0", "split_mb: -1.0")
        .replace("partition_mb: 0.0", "partition_mb: -1.0"));
    for want in [
        "services[0].partitioning.rebalance.strategy.split_mb: -1 is not a positive size",
        "services[0].partitioning.rebalance.partition_mb: -1 is not a size of 0 or more",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
}

/// The header of `scenarios/data/dynamic-splits.ron`: an empty range table grows by
/// 1800/s x 16 KB and splits when a partition passes 1024 MB.
#[test]
fn an_empty_range_table_splits_as_it_grows_and_pre_splitting_spreads_it_at_once() {
    let s = run(&scenario("dynamic-splits.ron"), &[]);
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.clone().expect("splits");
    // Hand-computed: 1024 MB / (1800/s x 16/1024 MB) = 36.41 s, within Poisson noise.
    let first = 1024.0 / (1800.0 * 16.0 / 1024.0);
    near(r.start_s, first, 0.01 * first, "first split");
    assert_eq!(
        (r.splits, r.moves, r.redirected, r.refused),
        (7, 3, 1714, 0)
    );
    near(r.moved_mb, 1625.94, 0.01, "moved MB");
    near(r.end_s.expect("done"), 100.39, 0.01, "last copy");
    let p99 = "kv.sojourn_p99_ms";
    near(mean_in(&s, p99, 0.0, 36.0), 18.61, 0.01, "one node");
    near(mean_in(&s, p99, 37.0, 49.0), 48.02, 0.01, "copying");
    near(mean_in(&s, p99, 50.0, 72.0), 9.47, 0.01, "two nodes");
    near(kv.max_utilization, 0.466, 0.0005, "node 0");
    near(s.services["kv"].sojourn_ms.p99, 42.07, 0.01, "run p99");
    // The ranges cover the keys once, and the data is every request's 16 KB.
    let mut ranges: Vec<[u32; 2]> = kv.partitions.iter().map(|p| p.key_range.unwrap()).collect();
    ranges.sort();
    assert_eq!(ranges.first().unwrap()[0], 0);
    assert_eq!(ranges.last().unwrap()[1], 100_000);
    assert!(ranges.windows(2).all(|w| w[0][1] == w[1][0]), "{ranges:?}");
    let data: f64 = kv.partitions.iter().map(|p| p.size_mb.unwrap()).sum();
    let writes: u64 = kv.partitions.iter().map(|p| p.arrivals).sum();
    assert_eq!(data, writes as f64 * 16.0 / 1024.0);
    assert!(kv.partitions.iter().all(|p| p.size_mb.unwrap() <= 1024.0));

    let pre = run(
        &scenario("dynamic-splits.ron"),
        &["services.kv.partitioning.partitions=4"],
    );
    let kv = &pre.partitioned["kv"];
    let r = kv.rebalance.clone().expect("splits");
    assert_eq!((r.splits, r.moves), (4, 0));
    near(kv.max_utilization, 0.226, 0.0005, "pre-split max");
    near(
        pre.services["kv"].sojourn_ms.p99,
        9.28,
        0.01,
        "pre-split p99",
    );
}
