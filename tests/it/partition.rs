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
        directory: None,
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

/// `directory.ron` with uniform keys, no hot key and no key move: the renewal-theory case.
fn uniform_directory(ttl: &str, outage: &str) -> platsim::Summary {
    let ttl = format!("services.kv.partitioning.scheme.ttl={ttl}");
    let outage = format!("services.kv.partitioning.scheme.outage={outage}");
    run(
        &scenario("directory.ron"),
        &[
            "services.kv.partitioning.zipf=0",
            "services.kv.partitioning.hot_share=0",
            "services.kv.partitioning.scheme.moves=[]",
            "warmup=60s",
            &ttl,
            &outage,
        ],
    )
}

/// A cached entry lives `ttl` and is renewed by the first request after it expires, so
/// each key's renewal cycle is `ttl + K/λ` long and holds one lookup among `1 + λ ttl / K`
/// requests (Poisson arrivals, K keys): with λ = 1800/s, K = 10,000 and ttl = 5 s the
/// share of requests that ask the directory is 1 / 1.9 = 0.526; with ttl = 0 it is 1.
#[test]
fn the_lookup_share_is_one_over_one_plus_rate_times_ttl_per_key() {
    let s = uniform_directory("5s", "None");
    let d = s.partitioned["kv"].directory.clone().expect("a directory");
    near(d.lookup_share, 1.0 / 1.9, 0.005, "lookup share, ttl 5 s");
    assert_eq!((d.failed, d.redirected, d.refused), (0, 0, 0));
    let s = uniform_directory("0s", "None");
    let d = s.partitioned["kv"].directory.clone().expect("a directory");
    assert_eq!((d.cache_hits, d.lookup_share), (0, 1.0));
}

/// During an outage of D <= ttl, a key fails while its entry is expired: at time τ into
/// it, the keys that were uncached already (p0 = 1 / (1 + λ ttl / K)) and the cached ones
/// whose entry's remaining life (uniform on [0, ttl]) is under τ. Failed requests:
/// λ (p0 D + (1 - p0) D² / (2 ttl)); ttl = 20 s, D = 20 s: p0 = 1 / 4.6 and
/// 1800 x (4.348 + 7.826) = 21,913. Each one is refused as unavailable.
#[test]
fn a_directory_outage_fails_the_keys_whose_entries_expire_during_it() {
    let s = uniform_directory("20s", "Some(Outage(at: \"120s\", duration: \"20s\"))");
    let d = s.partitioned["kv"].directory.clone().expect("a directory");
    let p0 = 1.0 / 4.6;
    let want = 1800.0 * (p0 * 20.0 + (1.0 - p0) * 400.0 / 40.0);
    near(d.failed as f64, want, 0.03 * want, "failed in the outage");
    assert_eq!(s.services["kv"].rejected_unavailable, d.failed);
}

#[test]
fn directory_problems_name_their_fields() {
    let text = scenario("directory.ron")
        .replace("ttl: \"60s\"", "ttl: \"6o\"")
        .replace("key: 0, to_node: 4", "key: 10000, to_node: 5")
        .replace("hot_share: 0.2,", "hot_share: 0.2, salt: 4,");
    let err = platsim::scenario::parse(&text, "t")
        .map_err(|e| e.to_string())
        .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
        .expect_err("refused");
    for want in [
        "services[0].partitioning.scheme.ttl:",
        "services[0].partitioning.scheme.moves[0].key: 10000 is not a key: keys are 0 to 9999",
        "services[0].partitioning.scheme.moves[0].to_node: 5 is not a node",
        "services[0].partitioning.scheme: the directory lists whole keys",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    let typo = scenario("directory.ron").replace("lookup:", "lookups:");
    let err = platsim::scenario::parse(&typo, "t")
        .expect_err("unknown field")
        .to_string();
    assert!(err.contains("lookups") && err.contains("lookup"), "{err}");
}

/// The header of `scenarios/data/directory.ron`: moving key 0 alone takes load off its
/// node; the directory's lag, lookups and outage are what it costs.
#[test]
fn a_directory_moves_one_hot_key_alone_at_the_price_of_lookups() {
    let text = scenario("directory.ron");
    let s = run(&text, &[]);
    let kv = &s.partitioned["kv"];
    let d = kv.directory.clone().expect("a directory");
    let m = &d.key_moves[0];
    assert_eq!((m.key, m.partition, m.node), (0, 4, 4));
    // 1024 MB x 4 partitions / 10,000 keys at 40 MB/s: 10.24 ms; listed 1 s later.
    assert_eq!((m.copied_s, m.listed_s), (Some(60.01024), Some(61.01024)));
    near(m.copied_mb, 0.4096, 1e-9, "key 0's data");
    near(
        kv.nodes[3].utilization,
        0.484,
        0.0005,
        "node 3 with the move",
    );
    near(
        kv.nodes[4].utilization,
        0.303,
        0.0005,
        "node 4: key 0 alone",
    );
    near(
        kv.partitions[4].sojourn_ms.p99,
        282.9,
        0.1,
        "partition 4 p99",
    );
    // Key 0's share 0.2 + 0.8 / H of 1800/s, for the 1 s lag: 500 by hand.
    let h: f64 = (1..=10_000).map(|k| 1.0 / (k as f64).powf(0.99)).sum();
    let hot = 0.2 + 0.8 / h;
    near(
        d.redirected as f64,
        hot * 1800.0,
        70.0,
        "redirected in the lag",
    );
    assert_eq!((d.redirected, d.refused, d.failed), (521, 0, 28_820));
    assert_eq!(s.services["kv"].rejected_unavailable, d.failed);
    near(d.lookup_share, 0.0617, 0.00005, "lookup share");
    // By hand: each key's share p over 1 + its requests in a TTL (stationary; the run
    // starts with an empty cache and counts the lag's extra lookups).
    let expected: f64 = (1..=10_000)
        .map(|k| {
            let p = 0.8 / (k as f64).powf(0.99) / h + if k == 1 { 0.2 } else { 0.0 };
            p / (1.0 + 1800.0 * p * 60.0)
        })
        .sum();
    near(d.lookup_share, expected, 0.003, "lookup share by hand");

    let unmoved = run(&text, &["services.kv.partitioning.scheme.moves=[]"]);
    let kv = &unmoved.partitioned["kv"];
    near(
        kv.nodes[3].utilization,
        0.779,
        0.0005,
        "node 3 without the move",
    );
    near(
        kv.nodes[3].sojourn_ms.p99,
        19.46,
        0.01,
        "node 3 p99 without the move",
    );
    let short = run(&text, &["services.kv.partitioning.scheme.ttl=10s"]);
    let d = short.partitioned["kv"]
        .directory
        .clone()
        .expect("a directory");
    near(d.lookup_share, 0.1555, 0.0001, "lookup share, ttl 10 s");
    assert_eq!(d.failed, 31_972);
}

/// `proportional.ron` with only its `NodeAdd` (at 60 s), measured from `warmup` on.
fn proportional_join(warmup: &str) -> platsim::Summary {
    let text = scenario("proportional.ron")
        .replace("        NodeRemove(target: \"kv\", at: \"150s\"),\n", "");
    run(&text, &[&format!("warmup={warmup}")])
}

/// DDIA ch. 6, "Partitioning proportionally to nodes": "When a new node joins the
/// cluster, it randomly chooses a fixed number of existing partitions to split, and then
/// takes ownership of one half of each". 12 partitions of 1024 MB, 4 per node on 3 nodes;
/// the 4th node (`per_node: 4`) splits 4 and copies 4 halves of 512 MB = 2048 MB, 1/6 of
/// the data (1 / (2n), n = 3), two at a time at 40 MB/s: 12.8 s a round, done at 85.6 s.
/// Each old node keeps 4 partitions and loses 512 MB per split of its own. The load
/// follows the keys: a split gives the new partition the upper half (rounded down) of
/// its parent's keys in hash order, so with uniform keys each node's utilization after
/// the copies is its keys / 100,000 x 3600/s x 2 ms / 4 servers.
#[test]
fn a_proportional_join_splits_per_node_partitions_and_takes_half_of_each() {
    let s = proportional_join("90s");
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.clone().expect("a rebalance");
    assert_eq!(
        (r.start_s, r.splits, r.moves, r.moved_mb),
        (60.0, 4, 4, 2048.0)
    );
    assert!((r.end_s.expect("done") - 85.6).abs() < 1e-9, "{r:?}");
    assert_eq!(kv.partitions.len(), 16);
    assert_eq!(kv.nodes[3].partitions, vec![12, 13, 14, 15]);
    assert_eq!(kv.nodes[3].data_mb, Some(2048.0));
    let size = |p: &platsim::metrics::partition::PartitionSummary| p.size_mb.expect("sized");
    let parents: Vec<usize> = (0..12)
        .filter(|&i| size(&kv.partitions[i]) == 512.0)
        .collect();
    assert_eq!(parents.len(), 4, "{parents:?}");
    for n in 0..3 {
        let node = &kv.nodes[n];
        assert_eq!(node.partitions.len(), 4);
        let split = parents.iter().filter(|&&q| q % 3 == n).count() as f64;
        assert_eq!(node.data_mb, Some(4096.0 - 512.0 * split), "node {n}");
    }
    // Key counts by hand: the partitions' keys from the router as it starts.
    let router = KeyRouter::new(&Partitioning {
        keys: 100_000,
        zipf: 0.0,
        hot_share: 0.0,
        salt: 1,
        scheme: Scheme::Hash,
        partitions: 12,
        initial_nodes: 3,
        rebalance: None,
        changes: Vec::new(),
        directory: None,
    });
    let mut keys = [0u32; 12];
    for k in 0..100_000 {
        keys[router.owner(k, 0) as usize] += 1;
    }
    let mut node_keys = [0u32; 4];
    for (q, &m) in keys.iter().enumerate() {
        let moved = if parents.contains(&q) { m / 2 } else { 0 };
        node_keys[q % 3] += m - moved;
        node_keys[3] += moved;
    }
    for (n, &k) in node_keys.iter().enumerate() {
        let share = k as f64 / 100_000.0;
        let expected: f64 = (kv.nodes[n].partitions.iter())
            .map(|&p| kv.partitions[p as usize].expected_share)
            .sum();
        near(expected, share, 1e-9, &format!("node {n}'s key share"));
        near(
            kv.nodes[n].utilization,
            share * 3600.0 * 0.002 / 4.0,
            0.01,
            &format!("node {n}'s utilization"),
        );
    }
    // The new node holds about 1/6 of the keys: half a fair share.
    near(node_keys[3] as f64 / 100_000.0, 1.0 / 6.0, 0.01, "new node");
}

/// The header of `scenarios/data/proportional.ron`: the join as above, then at 150 s the
/// 4th node leaves and each of its four 512 MB halves goes whole to the node holding the
/// least data at that point (ties to the lowest number): worked out here from the data
/// per node after the join. The leave copies 2048 MB in two rounds of 12.8 s (done at
/// 175.6 s) and splits nothing.
#[test]
fn a_proportional_leave_hands_its_halves_to_the_least_loaded_nodes() {
    let joined = proportional_join("10s");
    let mut data: Vec<f64> = joined.partitioned["kv"].nodes[..3]
        .iter()
        .map(|n| n.data_mb.expect("data"))
        .collect();
    for _ in 0..4 {
        let to = (0..3)
            .min_by(|&a, &b| data[a].total_cmp(&data[b]).then(a.cmp(&b)))
            .expect("nodes");
        data[to] += 512.0;
    }
    let s = run(&scenario("proportional.ron"), &[]);
    let kv = &s.partitioned["kv"];
    let r = kv.rebalance.clone().expect("a rebalance");
    assert_eq!(
        (r.start_s, r.splits, r.moves, r.moved_mb),
        (60.0, 4, 8, 4096.0)
    );
    assert!((r.end_s.expect("done") - 175.6).abs() < 1e-9, "{r:?}");
    assert!(kv.nodes[3].partitions.is_empty());
    assert_eq!(kv.nodes[3].data_mb, Some(0.0));
    let after: Vec<f64> = kv.nodes[..3].iter().map(|n| n.data_mb.unwrap()).collect();
    assert_eq!(after, data);
    assert_eq!(after.iter().sum::<f64>(), 12.0 * 1024.0);
    assert_eq!(kv.partitions.len(), 16);
    // The seed-1 figures of the header.
    let held: Vec<&[u32]> = kv.nodes.iter().map(|n| n.partitions.as_slice()).collect();
    assert_eq!(
        held,
        vec![
            &[0, 3, 6, 9, 14][..],
            &[1, 4, 7, 10, 12, 13, 15],
            &[2, 5, 8, 11],
            &[]
        ]
    );
    assert_eq!(r.redirected, 1233);
    let p99 = "kv.sojourn_p99_ms";
    near(mean_in(&s, p99, 10.0, 60.0), 9.97, 0.01, "3 nodes");
    near(mean_in(&s, p99, 60.0, 86.0), 10.88, 0.01, "joining");
    near(mean_in(&s, p99, 112.0, 150.0), 9.58, 0.01, "4 uneven nodes");
    near(mean_in(&s, p99, 150.0, 176.0), 10.23, 0.01, "leaving");
    near(mean_in(&s, p99, 177.0, 240.0), 10.05, 0.01, "after");
    let joined = proportional_join("90s");
    let util: Vec<f64> = joined.partitioned["kv"]
        .nodes
        .iter()
        .map(|n| n.utilization)
        .collect();
    for (got, want) in util.iter().zip([0.527, 0.376, 0.592, 0.306]) {
        near(*got, want, 0.0005, "utilization after the join");
    }
    let data: Vec<Option<f64>> = joined.partitioned["kv"]
        .nodes
        .iter()
        .map(|n| n.data_mb)
        .collect();
    assert_eq!(
        data,
        vec![Some(3584.0), Some(2560.0), Some(4096.0), Some(2048.0)]
    );
}

/// The same seed gives the same picks and the same run; the join's picks come from their
/// own stream (`service/kv/partition_join`), so the requests' keys are unchanged.
#[test]
fn proportional_rebalancing_is_deterministic() {
    let text = scenario("proportional.ron");
    let a = serde_json::to_string(&run(&text, &[])).expect("json");
    let b = serde_json::to_string(&run(&text, &[])).expect("json");
    assert_eq!(a, b);
    let fixed = run(
        &text,
        &["services.kv.partitioning.rebalance.strategy=Fixed"],
    );
    let node_changes = run(&scenario("node-changes.ron"), &[]);
    let total = |s: &platsim::Summary| {
        s.partitioned["kv"]
            .nodes
            .iter()
            .map(|n| n.arrivals)
            .sum::<u64>()
    };
    assert_eq!(total(&fixed), total(&node_changes));
    // Flipped to a fixed count it is node-changes.ron: 6 whole partitions move.
    let r = fixed.partitioned["kv"]
        .rebalance
        .clone()
        .expect("a rebalance");
    assert_eq!((r.moves, r.moved_mb, r.redirected), (6, 6144.0, 1848));
    // The fixed column of the windows table in scenarios/README.md.
    let p99 = "kv.sojourn_p99_ms";
    near(
        mean_in(&fixed, p99, 60.0, 86.0),
        11.30,
        0.01,
        "fixed, joining",
    );
    near(
        mean_in(&fixed, p99, 112.0, 150.0),
        9.40,
        0.01,
        "fixed, 4 nodes",
    );
    near(
        mean_in(&fixed, p99, 150.0, 176.0),
        10.28,
        0.01,
        "fixed, leaving",
    );
    near(
        mean_in(&fixed, p99, 177.0, 240.0),
        10.08,
        0.01,
        "fixed, after",
    );
}

#[test]
fn proportional_partitioning_problems_name_their_fields() {
    let err = |text: &str| -> String {
        platsim::scenario::parse(text, "t")
            .map_err(|e| e.to_string())
            .and_then(|spec| platsim::model::validate(&spec, "t").map_err(|e| e.to_string()))
            .expect_err("refused")
    };
    let text = scenario("proportional.ron");
    let e = err(&text.replace("zipf: 0.0,", "zipf: 0.0, scheme: Range, salt: 2,"));
    for want in [
        "services[0].partitioning.rebalance.strategy: proportional partitioning splits partitions at points of the hash range",
        "services[0].partitioning.rebalance.strategy: a salted key's forms",
    ] {
        assert!(e.contains(want), "{want:?} not in:\n{e}");
    }
    let e = err(&text.replace("per_node: 4", "per_node: 0"));
    assert!(
        e.contains(
            "services[0].partitioning.rebalance.strategy.per_node: 0 is not between 1 and 4096"
        ),
        "{e}"
    );
    let e = err(&text.replace("partitions: Some(12)", "partitions: Some(10)"));
    assert!(
        e.contains("services[0].partitioning.partitions: 10 is not `per_node` (4) x the initial nodes (3) = 12"),
        "{e}"
    );
    let e = err(&text
        .replace("replicas: 4,", "replicas: 40,")
        .replace("partitions: Some(12),", "")
        .replace("per_node: 4", "per_node: 4096")
        .replace("at: \"60s\")", "at: \"60s\", nodes: 30)"));
    assert!(
        e.contains("services[0].partitioning.rebalance.strategy.per_node: 4096 per node over 30 joining nodes makes 135168 partitions, more than 100000"),
        "{e}"
    );
    // Without `partitions` the store starts with per_node x initial nodes.
    let s = run(
        &text
            .replace("partitions: Some(12),", "")
            .replace("per_node: 4", "per_node: 2"),
        &["duration=20s", "faults=[]"],
    );
    assert_eq!(s.partitioned["kv"].partitions.len(), 6);
    // Misspelt, from the command line: exit 2 with the name it meant.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/proportional.ron");
    for (set, want) in [
        (
            "services.kv.partitioning.rebalance.strategy=Proportinal(per_node: 4)",
            "Proportional",
        ),
        (
            "services.kv.partitioning.rebalance.strategy=Proportional(per_nodes: 4)",
            "per_node",
        ),
        (
            "services.kv.partitioning.rebalance.strategy.per_node=0",
            "strategy.per_node",
        ),
    ] {
        let out = super::common::platsim()
            .args(["run", path.to_str().expect("utf-8"), "--set", set])
            .output()
            .expect("runs");
        super::common::assert_code(&out, 2, set);
        let stderr = super::common::text(&out.stderr);
        assert!(stderr.contains(want), "{set}: {want:?} not in:\n{stderr}");
    }
}

/// A scheduled change (`Rebalance(at, to_nodes)`) joins as a `NodeAdd` does: the same
/// picks from the same stream, the same 4 halves copied in 2 x 12.8 s. Under `scheme:
/// Ring` (Cassandra's own layout, a partition a token range) the join moves the same
/// data, since a split halves a partition's data whatever its keys.
#[test]
fn a_scheduled_proportional_join_is_the_node_add() {
    let by_fault = proportional_join("90s");
    let text = scenario("proportional.ron")
        .replace(
            "Rebalance(strategy:",
            "Rebalance(at: \"60s\", to_nodes: 4, strategy:",
        )
        .replace("        NodeAdd(target: \"kv\", at: \"60s\"),\n", "")
        .replace("        NodeRemove(target: \"kv\", at: \"150s\"),\n", "");
    let scheduled = run(&text, &["warmup=90s"]);
    let (a, b) = (&by_fault.partitioned["kv"], &scheduled.partitioned["kv"]);
    let ra = a.rebalance.clone().expect("a rebalance");
    let rb = b.rebalance.clone().expect("a rebalance");
    assert_eq!(
        (ra.start_s, ra.end_s, ra.moves, ra.moved_mb, ra.splits),
        (rb.start_s, rb.end_s, rb.moves, rb.moved_mb, rb.splits)
    );
    let data = |k: &platsim::metrics::partition::PartitionedSummary| -> Vec<Option<f64>> {
        k.nodes.iter().map(|n| n.data_mb).collect()
    };
    assert_eq!(data(a), data(b));
    let ring = run(
        &scenario("proportional.ron").replace("zipf: 0.0,", "zipf: 0.0, scheme: Ring(vnodes: 1),"),
        &[],
    );
    let r = ring.partitioned["kv"]
        .rebalance
        .clone()
        .expect("a rebalance");
    assert_eq!((r.splits, r.moves, r.moved_mb), (4, 8, 4096.0));
    assert!((r.end_s.expect("done") - 175.6).abs() < 1e-9, "{r:?}");
}
