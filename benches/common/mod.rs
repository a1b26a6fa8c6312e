//! Generated platforms and a counting allocator, shared by `benches/scale.rs`,
//! `tests/memory.rs`, `tests/sweep_memory.rs` and `tests/it/scale.rs` (a bench cannot
//! import a test module, so each includes this file).
#![allow(dead_code)] // each includer takes what it needs

use platsim::{model, run, Limits, Summary};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting live and peak bytes.
pub struct Counting;
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

/// What `f` returns, with the peak of live heap bytes while it ran above what was live
/// before it.
pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - before)
}

/// Runs `p` and returns its summary with the peak of live heap bytes during the run.
pub fn run_counted(p: &model::Platform) -> (Summary, usize) {
    peak_during(|| run(p, Limits::default()).expect("generated platform runs"))
}

/// A binary tree of `n` services making hard calls to their children (2 replicas x 64
/// threads each, exponential 1 ms), 200 requests per second at the root for one minute,
/// so every service sees the same load whatever the size.
pub fn tree(n: usize) -> String {
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

/// `n` independent services that receive one request each every 100 s over 30 s.
pub fn idle(n: usize) -> String {
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

pub fn platform(text: &str) -> model::Platform {
    let spec = platsim::scenario::parse(text, "generated").expect("generated scenario parses");
    model::validate(&spec, "generated").expect("generated scenario is valid")
}
