//! Platform size (issue 17): what runs at 10,000 services. Speed and memory are measured
//! by `benches/scale.rs`; these tests hold the outputs that a quadratic step or a narrow
//! id once broke, at a size where such a step would not finish.

use crate::common::run_scenario;

/// The generated platforms `benches/scale.rs` measures (the bench's counting allocator is
/// not installed here).
#[path = "../../benches/common/mod.rs"]
mod generated;

/// 10,000 independent services, each receiving Poisson arrivals at 0.01/s for 30 s: every
/// service is in the summary and the health report, and the counts add up.
#[test]
fn ten_thousand_idle_services_run_and_are_all_reported() {
    let n = 10_000;
    let s = run_scenario(&generated::idle(n), &[]);
    assert_eq!(s.services.len(), n);
    assert_eq!(s.health.total_services, n as u64);
    let arrivals: u64 = s.services.values().map(|x| x.arrivals).sum();
    let ok: u64 = s.services.values().map(|x| x.ok).sum();
    // 10,000 x 0.01/s x 30 s = 3,000 expected; Poisson sd about 55.
    assert!((2_700..=3_300).contains(&arrivals), "{arrivals}");
    assert_eq!(ok, arrivals);
}

/// Every field that sizes an allocation, set to `u32::MAX` in a shipped scenario, is
/// refused up front by `check` and `run` with its field path and bound (exit 2), never an
/// allocation abort or a run that never ends. (Breaker windows, half-open batches, rates
/// and `--max-rows` have their own reproducers in `robust.rs`.)
#[test]
fn sizes_at_u32_max_are_refused_with_their_field_path_not_an_abort() {
    use crate::common::{assert_code, platsim, text};
    let cases = [
        (
            "events/retention-and-acks.ron",
            "partitions: 6",
            "partitions: 4294967295",
            "brokers[0].topics[0].partitions: at most 10000",
        ),
        (
            "data/read-replicas.ron",
            "followers: 2",
            "followers: 4294967295",
            "services[2].writes.replication.followers: 4294967295 is not 1 to 16",
        ),
        (
            "data/read-replicas.ron",
            "replicas: 2",
            "replicas: 4294967295",
            "services[0].replicas: at most 100000",
        ),
        (
            "data/hot-partition.ron",
            "keys: 10000,",
            "keys: 4294967295,",
            "services[0].partitioning.keys: 4294967295 is not between 1 and 10000000",
        ),
        (
            "mechanisms/cache-flush.ron",
            "keys: 10000,",
            "keys: 4294967295,",
            "services[0].calls[0].cache.keys: 4294967295 is not 1 to 10000000",
        ),
        (
            "kubernetes/autoscaling.ron",
            "max: 20,",
            "max: 4294967295,",
            "services[0].autoscale.max: at most 100000",
        ),
        (
            "kubernetes/node-kill.ron",
            "count: 3,",
            "count: 4294967295,",
            "nodes.count: must be within 1..=10000",
        ),
        (
            "kubernetes/node-kill.ron",
            "max_attempts: 5",
            "max_attempts: 4294967295",
            "workload[0].retry.max_attempts: 4294967295 is not 1 to 100",
        ),
        (
            "events/job-queue.ron",
            "count: 8)",
            "count: 4294967295)",
            "services[1].workers.count: at most 100000",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (file, from, to, want) in cases {
        let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(original.contains(from), "{file} has no {from:?}");
        let scenario = dir.path().join("huge.ron");
        std::fs::write(&scenario, original.replacen(from, to, 1)).unwrap();
        for command in ["check", "run"] {
            let out = platsim()
                .arg(command)
                .arg(&scenario)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let what = format!("{command} {file} with {to}");
            assert_code(&out, 2, &what);
            let err = text(&out.stderr);
            assert!(err.contains(want), "{what}: expected {want:?} in:\n{err}");
        }
    }
}
