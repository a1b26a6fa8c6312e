//! A sweep's memory does not grow with its number of runs (issue 17: a 1,000,000-run
//! sweep must fit, and used to grow about 25 KB per finished run until it was killed).
//!
//! Measured with a counting allocator (this test binary's own, so nothing else runs in
//! it): the peak of live heap bytes during a sweep of 300 runs and of 3,000 runs of a
//! one-second M/M/1 scenario. Rows go to `runs.jsonl` as runs finish and the tables are
//! written from it, so the larger sweep may only add its index (8 bytes a run) and its
//! seed list; keeping the records would add several KB a run.

#[path = "../benches/common/mod.rs"]
mod common;

use platsim::sweep::{self, Options, Seeds};

#[global_allocator]
static ALLOCATOR: common::Counting = common::Counting;

const TINY: &str = r#"Scenario(
    name: "tiny",
    seed: 1,
    duration: "1s",
    warmup: "0s",
    window: "1s",
    services: [Service(name: "station", replicas: 1, concurrency: 1, queue_capacity: None,
                       service_time: Exponential(mean: "10ms"))],
    workload: [Open(target: "station", rate: 10.0)],
)"#;

/// Peak live heap bytes above those live before, during a sweep of `runs` seeds.
fn sweep_peak(dir: &std::path::Path, runs: u64) -> usize {
    let scenario = dir.join("tiny.ron");
    std::fs::write(&scenario, TINY).unwrap();
    let (report, peak) = common::peak_during(|| {
        sweep::sweep(&Options {
            scenario: Some(scenario),
            seeds: Some(Seeds((1..=runs).collect())),
            jobs: 1,
            out: Some(dir.join(format!("sweep-{runs}"))),
            ..Options::default()
        })
        .unwrap()
    });
    assert_eq!(report.runs as u64, runs);
    let rows = std::fs::read_to_string(dir.join(format!("sweep-{runs}/results.csv"))).unwrap();
    assert_eq!(rows.lines().count() as u64, runs + 1);
    peak
}

#[test]
fn sweep_memory_is_flat_in_the_number_of_runs() {
    let dir = tempfile::tempdir().unwrap();
    let small = sweep_peak(dir.path(), 300);
    let large = sweep_peak(dir.path(), 3_000);
    let per_run = large.saturating_sub(small) as f64 / 2_700.0;
    eprintln!("peak heap: {small} bytes at 300 runs, {large} at 3,000: {per_run:.0} bytes a run");
    assert!(
        per_run < 256.0,
        "memory grows {per_run:.0} bytes per run ({small} at 300 runs, {large} at 3,000)"
    );
}
