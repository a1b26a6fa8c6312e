//! The recorder: what the run loop tells about requests, turned into counts, histograms,
//! time averages and time-series rows. Requests that arrived during the warmup are left
//! out of the counts and histograms (`counted == false`) but not out of the time series,
//! which covers the whole run.

use super::events::{bucket_count, bucket_width, SliCounts, SloEvents};
use super::histogram::{LatencyHistogram, WindowHistogram};
use super::level::{per, Level};
use super::summary::{
    Downtime, LatencyBuckets, ServiceSummary, Summary, TimeSeries, WorkloadSummary,
};
use crate::engine::SimTime;
use crate::model::Platform;
use std::collections::BTreeMap;

/// How a request ended, at a service or for a client. Exactly one per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Ok,
    /// The service's own error.
    Error,
    /// A hard dependency failed.
    DependencyFailed,
    /// Whoever waited for the answer gave up first.
    Timeout,
    /// Refused on arrival.
    Rejected,
    /// Admitted, then dropped before service: it waited too long or its deadline passed.
    Shed,
    /// Its replica crashed while holding it.
    Crashed,
}

impl Outcome {
    /// What a caller or client sees: a failed dependency, a crash and an error are all
    /// errors; a shed request is a rejection (503).
    #[inline]
    pub fn seen_by_caller(self) -> Outcome {
        // A table, not a match: this runs at every answer and compiled to a jump table.
        const SEEN: [Outcome; 7] = [
            Outcome::Ok,
            Outcome::Error,
            Outcome::Error,
            Outcome::Timeout,
            Outcome::Rejected,
            Outcome::Rejected,
            Outcome::Error,
        ];
        SEEN[self as usize]
    }
}

/// Why an arrival was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    QueueFull,
    RateLimited,
    ConcurrencyLimited,
    /// No replica was up.
    Unavailable,
}

#[derive(Debug, Clone, Default)]
struct Counts {
    arrivals: u64,
    ok: u64,
    errors: u64,
    dependency_failed: u64,
    timeouts: u64,
    rejected: u64,
    shed: u64,
    crashed: u64,
}

impl Counts {
    #[inline]
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Ok => self.ok += 1,
            Outcome::Error => self.errors += 1,
            Outcome::DependencyFailed => self.dependency_failed += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Shed => self.shed += 1,
            Outcome::Crashed => self.crashed += 1,
        }
    }
    /// Ended after being admitted.
    fn answered(&self) -> u64 {
        self.ok + self.errors + self.dependency_failed + self.timeouts + self.shed + self.crashed
    }
    fn in_flight(&self) -> u64 {
        self.arrivals - self.answered() - self.rejected
    }
    fn failed(&self) -> u64 {
        self.errors + self.dependency_failed + self.crashed
    }
}

/// How a successful request at a side-effect service counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The first for its idempotency key.
    First,
    /// Another one for the same key: the world changed twice.
    Duplicate,
    /// Another one for the same key, absorbed by the service's idempotency.
    Deduplicated,
}

/// Counts and latencies of the current time-series window.
/// `counts` first: a service's are written at every arrival and answer, next to its
/// run-wide counts (`ServiceStats`).
#[derive(Debug, Clone)]
#[repr(C)]
struct Window {
    counts: Counts,
    latency: WindowHistogram,
}

impl Window {
    fn new() -> Self {
        Window {
            counts: Counts::default(),
            latency: WindowHistogram::default(),
        }
    }
    fn reset(&mut self) {
        self.counts = Counts::default();
        self.latency.reset();
    }
}

// What every arrival and answer writes comes first, in as few cache lines as it fits
// (`counts`, the window's counts, `busy`, then the scalars): with a thousand services
// they are not in the cache when a request comes, and each line is a miss.
#[repr(C, align(64))]
struct ServiceStats {
    counts: Counts,
    window: Window,
    /// Requests in the system are `busy + queued` (every change moves one of those with
    /// it), so only the two are kept: one level update less per arrival and per answer.
    busy: Level,
    /// SLI events on the fixed grid (see `metrics::events`): those of bucket `slot`, and
    /// the earlier buckets that saw any.
    slot: u32,
    sli: SliCounts,
    degraded: u64,
    /// Successful requests within the latency objective's threshold, if it has one.
    latency_threshold: Option<SimTime>,
    latency_good: u64,
    wait: LatencyHistogram,
    queued: Level,
    refused: [u64; 4],
    effects: [u64; 3],
    sojourn: LatencyHistogram,
    /// Replicas up and ready (replica-hours), and whether any is (uptime).
    replicas_up: Level,
    up: Level,
    /// Periods with no replica up and ready: `(start, end)`, `end` None while down.
    downtime: Vec<(SimTime, Option<SimTime>)>,
    events: Vec<(u32, SliCounts)>,
}

impl ServiceStats {
    /// The SLI counts of grid bucket `b` (buckets never go back).
    #[inline(always)]
    fn sli(&mut self, b: u32) -> &mut SliCounts {
        if self.slot != b {
            self.next_slot(b);
        }
        &mut self.sli
    }

    /// Keeps the current bucket's counts if it saw an event, and starts bucket `b`.
    #[cold]
    #[inline(never)]
    fn next_slot(&mut self, b: u32) {
        if self.sli != SliCounts::default() {
            self.events.push((self.slot, self.sli));
        }
        self.slot = b;
        self.sli = SliCounts::default();
    }
}

struct WorkloadStats {
    counts: Counts,
    attempts: u64,
    retries_denied: u64,
    latency: LatencyHistogram,
}

/// Collects a run's measurements.
pub struct Recorder {
    warmup: SimTime,
    services: Vec<ServiceStats>,
    workloads: Vec<WorkloadStats>,
    /// End-to-end counts of the current window, over all workloads.
    clients: Window,
    clients_in_flight: u64,
    window_start: SimTime,
    series: TimeSeries,
    /// The SLI event grid: bucket width and count, the current bucket and where it ends.
    grid: SimTime,
    buckets: usize,
    bucket: u32,
    bucket_end: SimTime,
    /// Sojourns not yet counted into the histograms, as `(service, ns)`, the service with
    /// [`COUNTED`] when the run's histogram takes it (the window's always does). A count
    /// lands in buckets spread over kilobytes per service: with a thousand services nearly
    /// every one missed the cache and stalled the loop. Counted [`PENDING`] at a time,
    /// grouped by service, each service's histograms are loaded once for all of its
    /// sojourns in the batch. Platforms of fewer than [`BATCH_FROM`] services, whose
    /// histograms stay in the cache, count at once (`batched` false).
    pending: Vec<(u32, u64)>,
    /// `pending` grouped by service (a counting sort), and where each service's group
    /// starts: kept between batches so counting allocates nothing.
    grouped: Vec<(u32, u64)>,
    starts: Vec<u32>,
    batched: bool,
    /// Extra columns after the services' (queue depths, consumer lag, orders, processing
    /// times, failures, DLQ sizes), in column order.
    extras: Vec<Extra>,
}

/// Sojourns logged before they are counted (1 MiB, and as much grouped: a thousand
/// services get about 64 each, which share more of the cache lines they load; 16 each
/// cost 5% more time on the 1,023-service tree, see docs/internals.md), and the log's
/// mark of a counted one.
const PENDING: usize = 65_536;
const COUNTED: u32 = 1 << 31;
const BATCH_FROM: usize = 64;

/// An extra time-series column (or two, for quantiles).
#[derive(Debug, Clone)]
enum Extra {
    /// Time average over the window.
    Level(Level),
    /// The value at the window's end.
    Gauge(u64),
    /// Events per second over the window.
    Rate(u64),
    /// p50 and p99 (ms) of the durations recorded in the window: two columns.
    Quantiles(Box<WindowHistogram>),
    /// The largest age (s) over the window of the oldest item waiting somewhere, given
    /// when that item arrived. Ages grow between changes of the oldest item, so the
    /// largest is the age just before a change or at the window's end: exact.
    Oldest {
        since: Option<SimTime>,
        max: SimTime,
    },
}

/// Columns for the whole platform, then `SERVICE.COLUMN` for each service.
const PLATFORM_COLUMNS: [&str; 10] = [
    "t_s",
    "arrivals_rps",
    "throughput_rps",
    "goodput_rps",
    "errors_rps",
    "rejected_rps",
    "timeouts_rps",
    "latency_p50_ms",
    "latency_p99_ms",
    "in_flight",
];
const SERVICE_COLUMNS: [&str; 12] = [
    "arrivals_rps",
    "ok_rps",
    "errors_rps",
    "rejected_rps",
    "timeouts_rps",
    "shed_rps",
    "replicas_up",
    "sojourn_p50_ms",
    "sojourn_p99_ms",
    "in_system",
    "queue_len",
    "busy",
];

impl Recorder {
    pub fn new(p: &Platform, expected_rows: usize) -> Self {
        let run = p.duration.after(p.drain);
        let grid = bucket_width(run);
        let buckets = bucket_count(run, grid);
        let services = p
            .services
            .iter()
            .map(|s| ServiceStats {
                replicas_up: Level::starting_at(s.replicas as u64),
                up: Level::starting_at(1),
                downtime: Vec::new(),
                latency_threshold: s.slo.latency.map(|l| l.threshold),
                latency_good: 0,
                counts: Counts::default(),
                refused: [0; 4],
                effects: [0; 3],
                degraded: 0,
                wait: LatencyHistogram::default(),
                sojourn: LatencyHistogram::default(),
                busy: Level::default(),
                queued: Level::default(),
                window: Window::new(),
                slot: 0,
                sli: SliCounts::default(),
                events: Vec::new(),
            })
            .collect();
        let workloads = p
            .workloads
            .iter()
            .map(|_| WorkloadStats {
                counts: Counts::default(),
                attempts: 0,
                retries_denied: 0,
                latency: LatencyHistogram::default(),
            })
            .collect();
        let mut columns: Vec<String> = PLATFORM_COLUMNS.iter().map(|c| c.to_string()).collect();
        for s in &p.services {
            columns.extend(SERVICE_COLUMNS.iter().map(|c| format!("{}.{c}", s.name)));
        }
        let values = Vec::with_capacity(expected_rows * columns.len());
        let batched = p.services.len() >= BATCH_FROM;
        Recorder {
            warmup: p.warmup,
            services,
            workloads,
            clients: Window::new(),
            clients_in_flight: 0,
            window_start: SimTime::ZERO,
            series: TimeSeries { columns, values },
            grid,
            buckets,
            bucket: 0,
            bucket_end: grid,
            pending: Vec::with_capacity(if batched { PENDING } else { 0 }),
            grouped: Vec::with_capacity(if batched { PENDING } else { 0 }),
            starts: Vec::with_capacity(if batched { p.services.len() + 1 } else { 0 }),
            batched,
            extras: Vec::new(),
        }
    }

    fn add_extra(&mut self, names: &[String], extra: Extra) -> usize {
        debug_assert!(
            self.series.values.is_empty(),
            "columns are added before rows"
        );
        self.series.columns.extend_from_slice(names);
        self.extras.push(extra);
        self.extras.len() - 1
    }

    /// Adds a time-averaged column named `name` (before the first row); returns its index
    /// for [`Recorder::set_level`].
    pub fn add_level(&mut self, name: String) -> usize {
        self.add_extra(&[name], Extra::Level(Level::default()))
    }

    /// Adds a column with the value at each window's end ([`Recorder::set_gauge`]).
    pub fn add_gauge(&mut self, name: String) -> usize {
        self.add_extra(&[name], Extra::Gauge(0))
    }

    /// Adds a column of events per second ([`Recorder::count`]).
    pub fn add_rate(&mut self, name: String) -> usize {
        self.add_extra(&[name], Extra::Rate(0))
    }

    /// Adds the columns `PREFIX_p50_ms` and `PREFIX_p99_ms` of durations recorded in
    /// each window ([`Recorder::duration`]).
    pub fn add_quantiles(&mut self, prefix: &str) -> usize {
        self.add_extra(
            &[format!("{prefix}_p50_ms"), format!("{prefix}_p99_ms")],
            Extra::Quantiles(Box::default()),
        )
    }

    /// Adds a column of the largest age, in seconds, of the oldest item waiting in each
    /// window ([`Recorder::set_oldest`]).
    pub fn add_oldest(&mut self, name: String) -> usize {
        self.add_extra(
            &[name],
            Extra::Oldest {
                since: None,
                max: SimTime::ZERO,
            },
        )
    }

    /// The oldest item waiting for the extra column `i` arrived at `since` (None: none
    /// waits), as of `now`.
    #[inline]
    pub fn set_oldest(&mut self, i: usize, now: SimTime, since: Option<SimTime>) {
        if let Extra::Oldest { since: s, max } = &mut self.extras[i] {
            if let Some(old) = *s {
                *max = (*max).max(now.since(old));
            }
            *s = since;
        }
    }

    /// The extra level column `i` now has the value `value`.
    #[inline]
    pub fn set_level(&mut self, i: usize, now: SimTime, value: u64) {
        if let Extra::Level(l) = &mut self.extras[i] {
            l.set(now, value);
        }
    }

    /// The extra gauge column `i` now has the value `value`.
    #[inline]
    pub fn set_gauge(&mut self, i: usize, value: u64) {
        if let Extra::Gauge(g) = &mut self.extras[i] {
            *g = value;
        }
    }

    /// One more event for the extra rate column `i`.
    #[inline]
    pub fn count(&mut self, i: usize) {
        if let Extra::Rate(n) = &mut self.extras[i] {
            *n += 1;
        }
    }

    /// A duration for the extra quantile columns `i`.
    #[inline]
    pub fn duration(&mut self, i: usize, d: SimTime) {
        if let Extra::Quantiles(h) = &mut self.extras[i] {
            h.record(d.0);
        }
    }

    /// A request arrived at service `s` (accepted or not).
    #[inline]
    pub fn arrival(&mut self, s: usize, counted: bool) {
        let st = &mut self.services[s];
        st.counts.arrivals += counted as u64;
        st.window.counts.arrivals += 1;
    }

    /// The arrival was refused.
    #[inline]
    pub fn rejected(&mut self, s: usize, now: SimTime, counted: bool, why: Refusal) {
        let b = self.bucket(now);
        let st = &mut self.services[s];
        let e = st.sli(b);
        e.valid += 1;
        e.bad += 1;
        if counted {
            st.counts.rejected += 1;
            st.refused[why as usize] += 1;
        }
        st.window.counts.rejected += 1;
    }

    /// A waiting request left the waiting room without service (shed, or its replica crashed).
    #[inline]
    pub fn dropped_waiting(
        &mut self,
        s: usize,
        now: SimTime,
        outcome: Outcome,
        sojourn: SimTime,
        counted: bool,
    ) {
        let b = self.bucket(now);
        let st = &mut self.services[s];
        let e = st.sli(b);
        e.valid += 1;
        e.bad += 1;
        st.queued.down(now);
        if counted {
            st.counts.add(outcome);
            st.sojourn.record(sojourn.0);
        }
        st.window.counts.add(outcome);
    }

    /// A successful request at a side-effect service: the first for its key, a duplicate,
    /// or one the service deduplicated.
    #[inline]
    pub fn side_effect(&mut self, s: usize, counted: bool, kind: Effect) {
        if counted {
            self.services[s].effects[kind as usize] += 1;
        }
    }

    /// A client attempt was sent (the first or a retry).
    #[inline]
    pub fn client_attempt(&mut self, w: usize, counted: bool) {
        self.workloads[w].attempts += counted as u64;
    }

    /// A client retry was not made: its budget or throttle said no.
    #[inline]
    pub fn client_retry_denied(&mut self, w: usize, counted: bool) {
        self.workloads[w].retries_denied += counted as u64;
    }

    /// The arrival was accepted, into a server (`queued == false`) or the waiting room.
    #[inline]
    pub fn admitted(&mut self, s: usize, now: SimTime, queued: bool, counted: bool) {
        let st = &mut self.services[s];
        if queued {
            st.queued.up(now);
        } else {
            st.busy.up(now);
            if counted {
                st.wait.record(0);
            }
        }
    }

    /// A waiting request got a server after waiting `wait`.
    #[inline]
    pub fn dequeued(&mut self, s: usize, now: SimTime, wait: SimTime, counted: bool) {
        let st = &mut self.services[s];
        st.queued.down(now);
        st.busy.up(now);
        if counted {
            st.wait.record(wait.0);
        }
    }

    /// A request left service `s` with `outcome` after `sojourn`.
    #[inline(always)]
    pub fn answered(
        &mut self,
        s: usize,
        now: SimTime,
        outcome: Outcome,
        sojourn: SimTime,
        counted: bool,
        degraded: bool,
    ) {
        let b = self.bucket(now);
        let st = &mut self.services[s];
        let ok = outcome == Outcome::Ok;
        let slow = ok && st.latency_threshold.is_some_and(|t| sojourn > t);
        let e = st.sli(b);
        e.valid += 1;
        e.bad += !ok as u32;
        e.slow += slow as u32;
        st.busy.down(now);
        if counted {
            st.counts.add(outcome);
            st.degraded += (degraded && outcome == Outcome::Ok) as u64;
            if outcome == Outcome::Ok && st.latency_threshold.is_some_and(|t| sojourn <= t) {
                st.latency_good += 1;
            }
        }
        st.window.counts.add(outcome);
        if !self.batched {
            if counted {
                st.sojourn.record(sojourn.0);
            }
            st.window.latency.record(sojourn.0);
            return;
        }
        if self.pending.len() == PENDING {
            self.count_pending();
        }
        let mark = if counted { COUNTED } else { 0 };
        self.pending.push((s as u32 | mark, sojourn.0));
    }

    /// Counts the logged sojourns into the histograms (see `pending`).
    #[inline(never)]
    fn count_pending(&mut self) {
        // Counts commute (sums, minima, maxima, saturating totals), so the grouping changes
        // no output; it only turns a miss per sojourn into a few per service and batch.
        if self.pending.is_empty() {
            return;
        }
        let service = |s: u32| (s & !COUNTED) as usize;
        self.starts.clear();
        self.starts.resize(self.services.len() + 1, 0);
        for &(s, _) in &self.pending {
            self.starts[service(s) + 1] += 1;
        }
        for i in 1..self.starts.len() {
            self.starts[i] += self.starts[i - 1];
        }
        self.grouped.clear();
        self.grouped.resize(self.pending.len(), (0, 0));
        for &(s, ns) in &self.pending {
            let at = &mut self.starts[service(s)];
            self.grouped[*at as usize] = (s, ns);
            *at += 1;
        }
        for &(s, ns) in &self.grouped {
            let st = &mut self.services[service(s)];
            if s & COUNTED != 0 {
                st.sojourn.record(ns);
            }
            st.window.latency.record(ns);
        }
        self.pending.clear();
    }

    /// The SLI grid's bucket that `now` falls in (time never goes back).
    #[inline(always)]
    fn bucket(&mut self, now: SimTime) -> u32 {
        if now >= self.bucket_end {
            self.roll(now);
        }
        self.bucket
    }

    #[cold]
    fn roll(&mut self, now: SimTime) {
        let last = self.buckets.max(1) as u64 - 1;
        self.bucket = (now.0 / self.grid.0).min(last) as u32;
        self.bucket_end = SimTime((self.bucket as u64 + 1) * self.grid.0);
        if self.bucket as u64 == last {
            self.bucket_end = SimTime(u64::MAX);
        }
    }

    /// A client of workload `w` sent a request.
    #[inline]
    pub fn client_sent(&mut self, w: usize, counted: bool) {
        self.workloads[w].counts.arrivals += counted as u64;
        self.clients.counts.arrivals += 1;
        self.clients_in_flight += 1;
    }

    /// A client of workload `w` got its answer (or gave up) after `latency`.
    #[inline(always)]
    pub fn client_done(&mut self, w: usize, outcome: Outcome, latency: SimTime, counted: bool) {
        let wl = &mut self.workloads[w];
        let seen = outcome.seen_by_caller();
        if counted {
            wl.counts.add(seen);
            if seen == Outcome::Ok {
                wl.latency.record(latency.0);
            }
        }
        self.clients.counts.add(seen);
        if seen == Outcome::Ok {
            self.clients.latency.record(latency.0);
        }
        self.clients_in_flight -= 1;
    }

    /// Service `s` now has `replicas` replicas up and ready (0: it is down).
    pub fn availability(&mut self, s: usize, now: SimTime, replicas: u32) {
        let st = &mut self.services[s];
        let was_up = st.up.value() > 0;
        st.replicas_up.set(now, replicas as u64);
        st.up.set(now, (replicas > 0) as u64);
        match (was_up, replicas > 0) {
            (true, false) => st.downtime.push((now, None)),
            (false, true) => {
                if let Some(last) = st.downtime.last_mut() {
                    last.1 = Some(now);
                }
            }
            _ => {}
        }
    }

    /// Areas (value x ns since time zero) of service `s`'s busy servers and of its
    /// replicas up and ready: the autoscaler's utilisation over a sync period.
    /// `(bad, valid)` requests of service `s` so far, as its availability objective
    /// counts them (see `health::slo`): the online view a rollback alert reads.
    pub fn slo_counts(&self, s: usize) -> (u64, u64) {
        let c = &self.services[s].counts;
        let bad = c.errors + c.dependency_failed + c.crashed + c.timeouts + c.rejected + c.shed;
        (bad, bad + c.ok)
    }

    pub fn busy_and_ready_area(&mut self, s: usize, now: SimTime) -> (u128, u128) {
        let st = &mut self.services[s];
        (st.busy.area(now), st.replicas_up.area(now))
    }

    /// The warmup is over: time averages start now.
    pub fn end_warmup(&mut self, now: SimTime) {
        for st in &mut self.services {
            st.busy.restart(now);
            st.queued.restart(now);
            st.replicas_up.restart(now);
            st.up.restart(now);
        }
    }

    /// Closes the window that ends at `now` and appends its row.
    pub fn close_window(&mut self, now: SimTime) {
        let width = now.since(self.window_start);
        if width == SimTime::ZERO {
            return;
        }
        self.count_pending();
        let per_s = 1.0 / width.as_secs_f64();
        let v = &mut self.series.values;
        let c = &self.clients.counts;
        let [p50, p99] = self.clients.latency.quantiles_ms([0.5, 0.99]);
        v.extend_from_slice(&[
            self.window_start.as_secs_f64(),
            c.arrivals as f64 * per_s,
            (c.answered() + c.rejected) as f64 * per_s,
            c.ok as f64 * per_s,
            c.failed() as f64 * per_s,
            c.rejected as f64 * per_s,
            c.timeouts as f64 * per_s,
            p50,
            p99,
            self.clients_in_flight as f64,
        ]);
        self.clients.reset();
        for st in &mut self.services {
            let c = &st.window.counts;
            let [p50, p99] = st.window.latency.quantiles_ms([0.5, 0.99]);
            let queued = st.queued.take_window_area(now);
            let busy = st.busy.take_window_area(now);
            v.extend_from_slice(&[
                c.arrivals as f64 * per_s,
                c.ok as f64 * per_s,
                c.failed() as f64 * per_s,
                c.rejected as f64 * per_s,
                c.timeouts as f64 * per_s,
                c.shed as f64 * per_s,
                st.replicas_up.take_window(now, width),
                p50,
                p99,
                per(queued + busy, width.0),
                per(queued, width.0),
                per(busy, width.0),
            ]);
            st.window.reset();
        }
        for e in &mut self.extras {
            match e {
                Extra::Level(l) => v.push(l.take_window(now, width)),
                Extra::Gauge(g) => v.push(*g as f64),
                Extra::Rate(n) => {
                    v.push(*n as f64 * per_s);
                    *n = 0;
                }
                Extra::Quantiles(h) => {
                    v.extend_from_slice(&h.quantiles_ms([0.5, 0.99]));
                    h.reset();
                }
                Extra::Oldest { since, max } => {
                    let age = since.map_or(SimTime::ZERO, |s| now.since(s));
                    v.push((*max).max(age).as_secs_f64());
                    *max = SimTime::ZERO;
                }
            }
        }
        self.window_start = now;
    }

    /// Reduces everything to the summary of a run that ended at `end`.
    pub fn finish(mut self, p: &Platform, end: SimTime, events: u64) -> Summary {
        self.close_window(end);
        self.count_pending();
        let measured = end.since(self.warmup);
        let secs = measured.as_secs_f64().max(f64::MIN_POSITIVE);
        let mut services = BTreeMap::new();
        for (spec, st) in p.services.iter().zip(&mut self.services) {
            let servers = match spec.autoscale {
                // Pods come and go: the servers of the ready pods, on average.
                Some(_) => st.replicas_up.mean(end, self.warmup) * spec.concurrency as f64,
                None => (spec.replicas as u64 * spec.concurrency as u64) as f64,
            };
            let c = &st.counts;
            services.insert(
                spec.name.clone(),
                ServiceSummary {
                    arrivals: c.arrivals,
                    completed: c.answered(),
                    ok: c.ok,
                    errors: c.errors,
                    dependency_failed: c.dependency_failed,
                    rejected: c.rejected,
                    rejected_queue_full: st.refused[Refusal::QueueFull as usize],
                    rejected_rate_limited: st.refused[Refusal::RateLimited as usize],
                    rejected_concurrency_limited: st.refused[Refusal::ConcurrencyLimited as usize],
                    rejected_unavailable: st.refused[Refusal::Unavailable as usize],
                    shed: c.shed,
                    crashed: c.crashed,
                    timeouts: c.timeouts,
                    degraded: st.degraded,
                    side_effects: st.effects[Effect::First as usize],
                    duplicate_side_effects: st.effects[Effect::Duplicate as usize],
                    deduplicated: st.effects[Effect::Deduplicated as usize],
                    in_flight: c.in_flight(),
                    throughput_rps: c.answered() as f64 / secs,
                    utilization: st.busy.mean(end, self.warmup) / servers,
                    mean_in_system: per(
                        st.busy.stats_area(end) + st.queued.stats_area(end),
                        end.since(self.warmup).0,
                    ),
                    mean_in_queue: st.queued.mean(end, self.warmup),
                    uptime_ratio: st.up.mean(end, self.warmup),
                    replica_hours: st.replicas_up.mean(end, self.warmup) * secs / 3600.0,
                    downtime: st
                        .downtime
                        .iter()
                        .map(|&(a, b)| Downtime {
                            start_s: a.as_secs_f64(),
                            end_s: b.map(SimTime::as_secs_f64),
                        })
                        .collect(),
                    latency_good: st.latency_good,
                    wait_ms: st.wait.summary_ms(),
                    sojourn_ms: st.sojourn.summary_ms(),
                    pulled: None,
                    autoscale: None,
                    pods: None,
                    writes: None,
                },
            );
        }
        let slo_events = self
            .services
            .iter_mut()
            .map(|st| {
                st.next_slot(u32::MAX);
                SloEvents {
                    width: self.grid,
                    len: self.buckets,
                    buckets: std::mem::take(&mut st.events),
                }
            })
            .collect();
        let mut workloads = BTreeMap::new();
        for (spec, wl) in p.workloads.iter().zip(&self.workloads) {
            let c = &wl.counts;
            workloads.insert(
                spec.name.clone(),
                WorkloadSummary {
                    target: p.service(spec.target).name.clone(),
                    arrivals: c.arrivals,
                    attempts: wl.attempts,
                    retries: wl.attempts.saturating_sub(c.arrivals),
                    amplification: if c.arrivals == 0 {
                        0.0
                    } else {
                        wl.attempts as f64 / c.arrivals as f64
                    },
                    retries_denied: wl.retries_denied,
                    breaker_rejected: 0,
                    breaker: None,
                    ok: c.ok,
                    errors: c.failed(),
                    rejected: c.rejected,
                    timeouts: c.timeouts,
                    in_flight: c.in_flight(),
                    goodput_rps: c.ok as f64 / secs,
                    latency_ms: wl.latency.summary_ms(),
                },
            );
        }
        Summary {
            orders: None,
            queues: BTreeMap::new(),
            deployments: Vec::new(),
            topics: BTreeMap::new(),
            partitioned: BTreeMap::new(),
            streams: BTreeMap::new(),
            read_models: BTreeMap::new(),
            bottleneck: None,
            throttling: Vec::new(),
            traces: None,
            calls: BTreeMap::new(),
            faults: Vec::new(),
            outages: Vec::new(),
            health: Default::default(),
            slo_events,
            scenario: p.name.clone(),
            seed: p.seed,
            duration_s: end.as_secs_f64(),
            warmup_s: self.warmup.as_secs_f64(),
            window_s: 0.0,
            events,
            services,
            workloads,
            timeseries: self.series,
            latency_buckets: p
                .services
                .iter()
                .zip(&self.services)
                .map(|(s, st)| ("service", &s.name, &st.sojourn))
                .chain(
                    (p.workloads.iter().zip(&self.workloads))
                        .map(|(w, wl)| ("workload", &w.name, &wl.latency)),
                )
                .map(|(kind, name, h)| LatencyBuckets {
                    kind,
                    name: name.clone(),
                    buckets: h.buckets_ms(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_see_errors_and_rejections() {
        use Outcome::*;
        let seen: Vec<Outcome> = [
            Ok,
            Error,
            DependencyFailed,
            Timeout,
            Rejected,
            Shed,
            Crashed,
        ]
        .map(Outcome::seen_by_caller)
        .to_vec();
        assert_eq!(seen, [Ok, Error, Error, Timeout, Rejected, Rejected, Error]);
    }
}
