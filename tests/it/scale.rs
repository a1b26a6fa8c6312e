//! Platform size (issue 17): what runs at 10,000 services. Speed and memory are measured
//! by `benches/scale.rs`; these tests hold the outputs that a quadratic step or a narrow
//! id once broke, at a size where such a step would not finish.

use crate::common::run_scenario;

/// 10,000 independent services, each receiving Poisson arrivals at 0.01/s for 30 s: every
/// service is in the summary and the health report, and the counts add up.
#[test]
fn ten_thousand_idle_services_run_and_are_all_reported() {
    let n = 10_000;
    let services: String = (0..n)
        .map(|i| format!(r#"Service(name: "s{i}", service_time: Exponential(mean: "1ms")),"#))
        .collect();
    let workload: String = (0..n)
        .map(|i| format!(r#"Open(target: "s{i}", rate: 0.01),"#))
        .collect();
    let text = format!(
        r#"Scenario(name: "idle", duration: "30s", services: [{services}], workload: [{workload}])"#
    );
    let s = run_scenario(&text, &[]);
    assert_eq!(s.services.len(), n);
    assert_eq!(s.health.total_services, n as u64);
    let arrivals: u64 = s.services.values().map(|x| x.arrivals).sum();
    let ok: u64 = s.services.values().map(|x| x.ok).sum();
    // 10,000 x 0.01/s x 30 s = 3,000 expected; Poisson sd about 55.
    assert!((2_700..=3_300).contains(&arrivals), "{arrivals}");
    assert_eq!(ok, arrivals);
}
