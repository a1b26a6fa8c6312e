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
use platsim::{model, run, scenario, Limits};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator, counting live and peak bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn tree(n: usize) -> String {
    let services: String = (0..n)
        .map(|i| {
            let calls: Vec<String> = [2 * i + 1, 2 * i + 2]
                .iter()
                .filter(|&&c| c < n)
                .map(|c| format!(r#"Call(to: "s{c}", dependency: Hard)"#))
                .collect();
            format!(
                r#"Service(name: "s{i}", replicas: 2, concurrency: 64, service_time: Exponential(mean: "1ms"), calls: [{}]),"#,
                calls.join(", ")
            )
        })
        .collect();
    format!(
        r#"Scenario(name: "tree{n}", duration: "1m", services: [{services}], workload: [Open(target: "s0", rate: 200.0)])"#
    )
}

fn idle(n: usize) -> String {
    let services: String = (0..n)
        .map(|i| format!(r#"Service(name: "s{i}", service_time: Exponential(mean: "1ms")),"#))
        .collect();
    let workload: String = (0..n)
        .map(|i| format!(r#"Open(target: "s{i}", rate: 0.01),"#))
        .collect();
    format!(
        r#"Scenario(name: "idle{n}", duration: "30s", services: [{services}], workload: [{workload}])"#
    )
}

fn platform(text: &str) -> model::Platform {
    let spec = scenario::parse(text, "bench").expect("bench scenario parses");
    model::validate(&spec, "bench").expect("bench scenario is valid")
}

/// One run's events, best seconds of three, and peak heap bytes above what was live before.
fn measure(p: &model::Platform) -> (u64, f64, usize) {
    let mut best = f64::MAX;
    let mut events = 0;
    let mut peak = 0;
    for _ in 0..3 {
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let t = Instant::now();
        let summary = run(p, Limits::default()).expect("bench runs");
        best = best.min(t.elapsed().as_secs_f64());
        events = summary.events;
        drop(summary);
        peak = PEAK.load(Relaxed) - before;
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
