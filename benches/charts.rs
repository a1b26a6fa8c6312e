//! Chart generation for a one-hour run at 1,000 requests per second (3,600 time-series
//! windows of 1 s, two services, a fault): reading the output folder, building the
//! figures, and drawing each as SVG and PNG. The issue's budget is one second; it takes
//! a few tens of milliseconds.
//!
//! Run: `cargo bench --bench charts`

use criterion::{criterion_group, criterion_main, Criterion};
use platsim::{chart, report, Limits};
use std::hint::black_box;

const HOUR: &str = r#"Scenario(
    name: "hour-1000rps", seed: 1, duration: "1h", warmup: "1m", window: "1s",
    services: [
        Service(name: "api", replicas: 2, concurrency: 16, service_time: Exponential(mean: "5ms"),
            calls: [Call(to: "db", dependency: Hard, timeout: Some("1s"))]),
        Service(name: "db", concurrency: 16, service_time: Exponential(mean: "8ms"), error_rate: 0.01),
    ],
    workload: [Open(name: "users", target: "api", rate: 1000.0)],
    faults: [Latency(target: "db", at: "20m", duration: "5m", add: Constant("20ms"))],
)"#;

fn charts(c: &mut Criterion) {
    let summary = platsim::simulate(HOUR, "bench", &[], Limits::default()).expect("bench run");
    let dir = tempfile::tempdir().expect("temp dir");
    report::write_run(dir.path(), &summary).expect("write run");
    let mut g = c.benchmark_group("charts");
    g.sample_size(20);
    g.bench_function("hour_1000rps_figures_svg_png", |b| {
        b.iter(|| {
            let run = chart::RunData::load(dir.path()).expect("load");
            let figures = chart::figures::run_figures(&run);
            black_box(chart::render_all(&figures).expect("render"))
        })
    });
    g.bench_function("hour_1000rps_write_dir", |b| {
        b.iter(|| black_box(chart::write_dir(dir.path(), &[]).expect("write")))
    });
    g.finish();
}

criterion_group!(benches, charts);
criterion_main!(benches);
