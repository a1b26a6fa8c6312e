//! Memory per service (issue 17): a test binary of its own, because it counts every heap
//! byte of the process through its global allocator and must be the only thing running.

#[path = "../benches/common/mod.rs"]
mod common;

#[global_allocator]
static ALLOCATOR: common::Counting = common::Counting;

/// The bench's 1,023-service tree (200 rps at the root for a minute) peaks at
/// most 64 KiB of live heap per service, summary included: latency histograms count in
/// bytes until a count passes 255, the SLI grid keeps non-empty buckets only. It peaked at
/// 125 KiB per service when histograms counted in `u64` and the grid was dense.
#[test]
fn a_thousand_service_tree_needs_at_most_64_kib_per_service() {
    let n = 1_023;
    let p = common::platform(&common::tree(n));
    let (summary, peak) = common::run_counted(&p);
    assert_eq!(summary.services.len(), n);
    assert!(summary.services.values().all(|s| s.ok > 0));
    let per_service = peak as f64 / n as f64 / 1024.0;
    eprintln!("{per_service:.1} KiB per service");
    assert!(per_service <= 64.0, "{per_service:.1} KiB per service");
}
