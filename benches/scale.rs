//! Platform size: the cost per event and the memory per service as the platform grows.
//!
//! Two generated shapes, each at several sizes, measured in one process so the ratios
//! hold whatever else the machine is doing:
//! - `tree`: a binary tree of hard calls (2 replicas x 64 threads per service,
//!   exponential 1 ms), 200 requests per second at the root for one minute, so every
//!   service sees the same load whatever the size; the cost per event should stay flat.
//! - `idle`: independent services that receive one request each every 100 s over 30 s:
//!   what a platform costs just for being big (set-up, time series, summary).
//!
//! Memory is the peak of live heap bytes during the run (a counting allocator), divided by
//! the number of services. Time per event is the best of three runs of the whole `run`
//! (set-up, loop, summary).
//!
//! Run: `cargo bench --bench scale` (about a minute; prints a table at the end).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use platsim::{run, Limits};
use std::hint::black_box;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::{idle, platform, run_counted, tree};

#[global_allocator]
static ALLOCATOR: common::Counting = common::Counting;

/// One run's events, best seconds of three, and peak heap bytes above what was live before.
fn measure(p: &platsim::Platform) -> (u64, f64, usize) {
    let mut best = f64::MAX;
    let mut events = 0;
    let mut peak = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (summary, bytes) = run_counted(p);
        best = best.min(t.elapsed().as_secs_f64());
        events = summary.events;
        peak = bytes;
    }
    (events, best, peak)
}

fn scale(c: &mut Criterion) {
    let mut rows = Vec::new();
    let mut g = c.benchmark_group("scale");
    g.sample_size(10);
    for (shape, n) in [
        ("tree", 15),
        ("tree", 127),
        ("tree", 1023),
        ("idle", 10),
        ("idle", 1_000),
        ("idle", 10_000),
    ] {
        let p = platform(&if shape == "tree" { tree(n) } else { idle(n) });
        let (events, secs, peak) = measure(&p);
        rows.push((shape, n, events, secs, peak));
        if n <= 127 {
            g.throughput(Throughput::Elements(events));
            g.bench_function(BenchmarkId::new(shape, n), |b| {
                b.iter(|| black_box(run(&p, Limits::default()).unwrap().events))
            });
        }
    }
    g.finish();
    eprintln!("shape  services      events   ns/event  vs smallest   KiB/service   seconds");
    for &(shape, n, events, secs, peak) in &rows {
        let smallest = rows
            .iter()
            .find(|r| r.0 == shape)
            .expect("a row of this shape");
        let per_event = |events: u64, secs: f64| secs * 1e9 / events.max(1) as f64;
        eprintln!(
            "{shape:<6} {n:>8} {events:>11} {:>10.0} {:>11.2}x {:>13.1} {secs:>9.2}",
            per_event(events, secs),
            per_event(events, secs) / per_event(smallest.2, smallest.3),
            peak as f64 / 1024.0 / n as f64,
        );
    }
}

criterion_group!(benches, scale);
criterion_main!(benches);
