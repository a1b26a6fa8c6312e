//! The run loop: gives the engine's events their meaning for services, calls and clients.
//!
//! A request's life at a service (`service.rs`):
//! 1. It arrives at a replica chosen by the service's balancer among the replicas that are
//!    up. The replica may refuse it: rate limit, concurrency limit, full waiting room.
//! 2. A free server takes it at once, or it waits. When a server frees up, the waiting
//!    room's discipline picks the next request; one that waited past `queue_timeout` or
//!    whose deadline passed (with `drop_expired`) is shed instead of served.
//! 3. It holds its server for a service time drawn from the service's distribution
//!    (stretched by pauses and capacity faults, lengthened by latency faults), then may
//!    fail with the service's `error_rate` (plus any error fault).
//! 4. Still holding the server (thread-per-request), it makes its calls in order
//!    (`call.rs`): each attempt passes the edge's breaker and bulkhead, waits for the
//!    callee's answer or the call's timeout, and failed attempts are retried as the
//!    edge's retry policy, budget and throttle allow. A call that fails in the end fails
//!    the request (`Hard`) or leaves it degraded (`Soft`).
//! 5. It answers, frees its server, and wakes its waiter: the calling request or the
//!    client (`client.rs`), which may retry too.
//!
//! A caller that times out stops waiting, but the callee does not know: it finishes the
//! abandoned request anyway (its outcome is then `Timeout`). That wasted work is what
//! makes real overloads worse, so it is simulated, not skipped. Faults (`fault.rs`) crash,
//! pause, slow down and overload services between their start and end events.
//!
//! Messaging (`messaging.rs`) adds what happens after a success: jobs pushed to queues
//! and pulled by worker pools, messages published to topics and processed by consumer
//! groups, and the order ledger's count of what still carries each order. A job or a
//! message is processed as an ordinary request at a worker's or consumer's own replica,
//! so crashes, kills and errors reach it the usual way. Arrivals stop at `duration`; the
//! run goes on for the scenario's `drain` (zero without messaging) so work can finish.
//!
//! The loop allocates nothing per event once the slabs, waiting rooms and the heap have
//! grown to the run's peak (crashes allocate a list of their victims).

mod call;
mod client;
mod datastore;
mod fault;
mod messaging;
mod partition;
mod pods;
mod readmodel;
mod saga;
mod service;
mod stream;
mod twopc;

use crate::engine::{stream, EventQueue, SimTime, Stream};
use crate::mech::adaptive::AdaptiveTimeout;
use crate::mech::breaker::Breaker;
use crate::mech::limits::{ConcurrencyLimit, RateLimiter};
use crate::mech::ratelimit::{FixedWindowLimiter, LocalRateLimit};
use crate::mech::retry::RetryThrottle;
use crate::metrics::ledger::Ledger;
use crate::metrics::summary::{AdaptiveTimeoutSummary, BreakerSummary, CallSummary, Transition};
use crate::metrics::verdict::{goodput_recovered, verdicts, FaultSpan};
use crate::metrics::{OutageSummary, ServiceRecovery};
use crate::metrics::{Outcome, Recorder, Refusal, Summary};
use crate::model::schedule::{ArrivalCursor, RateSchedule};
use crate::model::{Endpoint, FaultKind, Platform, ServiceId, WorkloadKind};
use std::collections::{BTreeMap, VecDeque};

/// Limits that keep a run bounded whatever the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop with an error after this many events.
    pub max_events: u64,
    /// Stop with an error when this many requests are in the platform at once (an
    /// overloaded platform with unbounded queues would otherwise eat all memory).
    pub max_in_flight: u32,
    /// Most rows in the time series; longer runs get proportionally wider windows.
    pub max_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 20_000_000_000,
            max_in_flight: 5_000_000,
            max_rows: 3_600,
        }
    }
}

/// Why a run could not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("cannot finish the run: more than {limit} events by {} of virtual time; shorten `duration` or raise --max-events", .at.human())]
    TooManyEvents { limit: u64, at: SimTime },
    #[error("cannot run: workload \"{workload}\" alone brings about {arrivals:.1e} arrivals in {}, more than --max-events {limit}; lower its rate, shorten `duration`, or raise --max-events", .duration.human())]
    TooManyArrivals {
        workload: String,
        arrivals: f64,
        duration: SimTime,
        limit: u64,
    },
    #[error("cannot finish the run: more than {limit} requests in the platform at once at {} (it is overloaded and its queues are unbounded); set `queue_capacity`, timeouts, or lower the load, or raise --max-in-flight", .at.human())]
    TooManyInFlight { limit: u32, at: SimTime },
    #[error("cannot finish the run: virtual time is stuck at {} ({events} events without time passing); something loops in zero time, e.g. a closed workload with zero think time against a zero service time", .at.human())]
    NoProgress { at: SimTime, events: u64 },
}

/// Events in a row at one instant before a run is declared stuck.
const MAX_EVENTS_AT_ONE_INSTANT: u64 = 100_000_000;

/// Watches a run from inside without changing it: the property tests check invariants
/// through it, and traces are written through it. Every method does nothing by default,
/// so the unobserved run pays nothing.
pub trait Observer {
    /// An event is about to be handled at `now`.
    #[inline]
    fn event(&mut self, _now: SimTime) {}
    /// Request `uid` arrived at `service`.
    #[inline]
    fn arrival(&mut self, _now: SimTime, _service: ServiceId, _uid: u64) {}
    /// Request `uid` ended at `service`.
    #[inline]
    fn outcome(&mut self, _now: SimTime, _service: ServiceId, _uid: u64, _outcome: Outcome) {}

    // Trace context (`crate::trace::span`): who sent each request, and the call attempts,
    // client attempts, backoffs and messages between requests.

    /// Request `uid` (just announced by `arrival`) was sent by `parent`.
    #[inline]
    fn visit(&mut self, _now: SimTime, _uid: u64, _parent: Parent) {}
    /// Request `uid` was admitted to `replica`, on Kubernetes node `node` (`u32::MAX`:
    /// none).
    #[inline]
    fn placed(&mut self, _uid: u64, _replica: u32, _node: u32) {}
    /// A server took request `uid`: its wait in the replica's queue is over.
    #[inline]
    fn served(&mut self, _now: SimTime, _uid: u64) {}
    /// Request `uid` is refused for `why` (its `Rejected` outcome follows).
    #[inline]
    fn refused(&mut self, _uid: u64, _why: Refusal) {}
    /// Request `caller` starts attempt `attempt` (from 1) of its call `call` (an index
    /// into its service's `calls`).
    #[inline]
    fn call_attempt(&mut self, _now: SimTime, _caller: u64, _call: u32, _attempt: u32) {}
    /// The current call attempt of `caller` ended as the caller sees it.
    #[inline]
    fn call_attempt_end(&mut self, _now: SimTime, _caller: u64, _outcome: Outcome) {}
    /// The current call attempt of `caller` starts waiting for a local permit (`Some`),
    /// or got the permit it waited for (`None`); a wait that ends in a refusal ends with
    /// the attempt.
    #[inline]
    fn call_wait(&mut self, _now: SimTime, _caller: u64, _wait: Option<Wait>) {}
    /// `caller` retries its call after sleeping `delay`.
    #[inline]
    fn call_backoff(&mut self, _now: SimTime, _caller: u64, _delay: SimTime) {}
    /// A client of `workload` in slot `key` sends a new logical request.
    #[inline]
    fn request(&mut self, _now: SimTime, _workload: u32, _key: u32) {}
    /// The client in slot `key` makes attempt `attempt` (from 1).
    #[inline]
    fn client_attempt(&mut self, _now: SimTime, _key: u32, _attempt: u32) {}
    /// The client in slot `key` saw its attempt end so.
    #[inline]
    fn client_attempt_end(&mut self, _now: SimTime, _key: u32, _outcome: Outcome) {}
    /// The client in slot `key` retries after sleeping `delay`.
    #[inline]
    fn client_backoff(&mut self, _now: SimTime, _key: u32, _delay: SimTime) {}
    /// The client in slot `key` has its final answer.
    #[inline]
    fn request_end(&mut self, _now: SimTime, _key: u32, _outcome: Outcome) {}
    /// Request `uid` pushed job or published message `id` (its context travels with it,
    /// as W3C `traceparent` does in a message's headers).
    #[inline]
    fn produced(&mut self, _now: SimTime, _uid: u64, _to: Destination, _id: u64) {}
    /// Fault `fault` (an index into `Platform::faults`) starts or ends.
    #[inline]
    fn fault(&mut self, _now: SimTime, _fault: u32, _starting: bool) {}
}

/// What a call attempt waits for before it is sent: a permit from its edge's rate
/// limiter (Resilience4j's `timeoutDuration`), a bulkhead slot (`maxWaitDuration`), or a
/// pooled connection (HikariCP's `connectionTimeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    RateLimiter,
    Bulkhead,
    Pool,
}

/// Who sent a request: its span's parent in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// The current attempt of the client in slot `key`.
    Client { key: u32 },
    /// A plain open workload's client, which keeps no slot: the request is its only
    /// attempt.
    Open { workload: u32 },
    /// The current call attempt of request `caller`.
    Call { caller: u64 },
    /// Job `id`, taken from `queue` for delivery `delivery` (from 1).
    Job { queue: u32, id: u64, delivery: u32 },
    /// Message `id` of `topic`, delivered to the service's consumer group for delivery
    /// `delivery`.
    Message { topic: u32, id: u64, delivery: u32 },
}

/// Where a produced job or message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Queue(u32),
    Topic(u32),
}

impl Observer for () {}

/// Runs `platform` to its horizon.
pub fn run(platform: &Platform, limits: Limits) -> Result<Summary, RunError> {
    run_observed(platform, limits, &mut ())
}

/// Runs `platform` to its horizon, telling `observer` what happens.
pub fn run_observed<O: Observer>(
    platform: &Platform,
    limits: Limits,
    observer: &mut O,
) -> Result<Summary, RunError> {
    refuse_impossible_load(platform, limits)?;
    let mut sim = Sim::new(platform, limits, observer);
    sim.start();
    sim.run_loop()?;
    let mut summary = sim.finish();
    // Health reads the finished summary; the run loop knows nothing of it.
    summary.health = crate::health::report(platform, &summary);
    summary.bottleneck = crate::metrics::bottleneck::find(&summary);
    Ok(summary)
}

/// Refuses, before time zero, an open workload whose arrivals alone exceed
/// `--max-events`: otherwise the run would work for a long time and fail anyway.
fn refuse_impossible_load(p: &Platform, limits: Limits) -> Result<(), RunError> {
    for w in &p.workloads {
        if let WorkloadKind::Open(schedule) = &w.kind {
            let arrivals = schedule.expected_count(p.duration);
            if arrivals > limits.max_events as f64 {
                return Err(RunError::TooManyArrivals {
                    workload: w.name.clone(),
                    arrivals,
                    duration: p.duration,
                    limit: limits.max_events,
                });
            }
        }
    }
    Ok(())
}

/// Width of a time-series row: the scenario's window, times the smallest whole factor
/// that keeps the series within `max_rows` rows.
pub fn effective_window(p: &Platform, max_rows: u64) -> SimTime {
    let rows = p.end().0.div_ceil(p.window.0);
    let factor = rows.div_ceil(max_rows.max(1)).max(1);
    SimTime(p.window.0.saturating_mul(factor))
}

#[derive(Debug, Clone, Copy)]
enum Event {
    /// The next arrival of an open workload.
    Arrival {
        workload: u32,
    },
    /// The next extra arrival of a spike fault.
    SpikeArrival {
        fault: u32,
    },
    /// A closed workload's user has finished thinking.
    Think {
        workload: u32,
        user: u32,
    },
    /// A request's service time is over; void unless `generation` matches.
    ServiceDone {
        req: u32,
        token: u32,
    },
    /// A call attempt's timeout; void unless the caller's `call_token` matches.
    CallTimeout {
        req: u32,
        token: u32,
    },
    /// A call attempt delayed on its link reaches the callee (same token rule); `sent` is
    /// when the caller sent it.
    LinkDelivered {
        req: u32,
        token: u32,
        sent: SimTime,
        /// The callee's replica slot chosen at the send (`NONE`: chosen on arrival).
        replica: u32,
    },
    /// A call's backoff is over: make the next attempt (same token rule).
    CallRetry {
        req: u32,
        token: u32,
    },
    /// A caller waited too long for a bulkhead permit (same token rule).
    BulkheadTimeout {
        req: u32,
        token: u32,
    },
    /// A caller's wait at the edge's rate limiter is over: with its reserved permit it
    /// goes on (`granted`), else it is refused (same token rule).
    LimiterWaited {
        req: u32,
        token: u32,
        granted: bool,
    },
    /// A client attempt's timeout; void unless the client's `token` matches.
    ClientTimeout {
        client: u32,
        token: u32,
    },
    /// A client's backoff is over (same token rule).
    ClientRetry {
        client: u32,
        token: u32,
    },
    FaultStart {
        fault: u32,
    },
    FaultEnd {
        fault: u32,
    },
    /// A saga's compensation of an order's step, attempt `attempt` (`saga.rs`).
    Compensate {
        order: u32,
        step: u32,
        attempt: u32,
    },
    /// The two-phase commit coordinator is back from its crash and finishes the commit
    /// of its request `coordinator` (a uid) by its log (`twopc.rs`).
    CoordinatorBack {
        coordinator: u64,
    },
    /// A two-phase commit coordinator's request `req` is through its second phase
    /// (void unless `token` is its generation; `twopc.rs`).
    CommitDue {
        req: u32,
        token: u32,
    },
    /// A follower takes over from the database that crash `fault` took down.
    Promoted {
        fault: u32,
    },
    /// A service's startup is over; void unless its `life_token` matches.
    Started {
        service: u32,
        token: u32,
    },
    /// A crash-looping service's back-off is over (same token rule).
    Restart {
        service: u32,
        token: u32,
    },
    /// A reliable queue's job reached its visibility timeout (void if acknowledged).
    JobVisibility {
        queue: u32,
        handle: u32,
        token: u32,
    },
    /// Broker, producer and consumer-group timers (`messaging.rs`).
    Broker(messaging::BrokerEvent),
    /// A Horizontal Pod Autoscaler's sync (`pods.rs`).
    HpaSync {
        service: u32,
    },
    /// A pod's lifecycle timer; void unless the pod's `pod_token` matches.
    Pod {
        service: u32,
        replica: u32,
        token: u32,
        step: pods::PodStep,
    },
    /// A deployment starts (`check` false), or a rollout's alert check (`pods.rs`).
    Deployment {
        index: u32,
        check: bool,
    },
    /// A partitioned service's rebalance step (`partition.rs`).
    Rebalance {
        table: u32,
        step: partition::RebalanceStep,
    },
    /// The end of a time-series window.
    Window,
    /// The end of the warmup.
    WarmupEnd,
}

/// Who waits for a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiter {
    /// Nobody: the waiter gave up.
    Nobody,
    /// The request in this slot, which called it.
    Caller(u32),
    /// The client in this slot.
    Client(u32),
    /// A client of this plain open workload, which keeps no slot (see `WorkloadState::plain`).
    Open(u32),
    /// The job-queue worker with this index.
    Worker(u32),
    /// The consumer of this (group, partition) index.
    Consumer(u32),
}

const NONE: u32 = u32::MAX;

/// One request at one service. Slots are reused; the tokens only ever grow, so a timer
/// that outlives its request (or its call attempt) can tell.
#[derive(Debug, Clone, Copy)]
struct Request {
    uid: u64,
    arrived: SimTime,
    /// The propagated deadline: the earliest moment a waiter up the chain gives up.
    deadline: SimTime,
    /// When the current call attempt was sent (breaker durations).
    attempt_sent: SimTime,
    /// When the current attempt's time limit started (adaptive timeouts learn from it).
    limit_from: SimTime,
    /// The last backoff slept (decorrelated jitter).
    prev_sleep: SimTime,
    service: u32,
    replica: u32,
    waiter: Waiter,
    /// The callee of the current attempt, or `NONE`.
    child: u32,
    /// The client whose idempotency key this request carries, or `NONE`.
    client: u32,
    /// Grows when a call attempt ends or the slot is freed.
    call_token: u32,
    /// Grows when the slot is freed.
    generation: u32,
    next_call: u32,
    /// Attempt number of the current call, from 1.
    attempt: u32,
    /// The order it carries (`ledger::NO_ORDER` if none) and the message it processes
    /// (consumers), or `u64::MAX`.
    order: u32,
    /// Why its order was dropped on the way out (a lost publish), or `NO_CAUSE`.
    lost_publish: crate::metrics::ledger::Cause,
    /// Calls between the client and this request.
    depth: u8,
    live: bool,
    counted: bool,
    degraded: bool,
    abandoned: bool,
    /// Holds a server (false while waiting for one).
    in_service: bool,
    /// The current attempt holds a breaker permit / a bulkhead permit / was sent / is a
    /// retry: what settling the attempt must undo.
    breaker_permit: bool,
    bulkhead_permit: bool,
    sent: bool,
    retrying: bool,
    /// The HTTP status it answers with when an `Errors` fault set one; 0: its outcome's
    /// (`retry::status_of`).
    status: u16,
}

/// One replica slot. Its first cache line holds all that admitting and answering a
/// request reads (the limits behind pointers, so that their absence is one word each);
/// the pod's bookkeeping follows (see `ServiceHot` for why lines matter).
#[derive(Debug, Default)]
#[repr(C, align(64))]
struct Replica {
    waiting: VecDeque<u32>,
    /// Crash faults holding this replica down (0 = up).
    down: u32,
    busy: u32,
    /// Requests held: waiting or in service (least-outstanding balancing, limits).
    held: u32,
    /// In the load balancers' endpoints: only a listed replica that is up gets traffic.
    listed: bool,
    /// Its pod's lifecycle (always `Ready` unless the service runs as pods).
    pod: pods::Pod,
    limit: Option<Box<ConcurrencyLimit>>,
    rate_limits: Option<Box<RateLimits>>,
    /// When the waiting room last went from empty to not empty (adaptive LIFO).
    nonempty_since: SimTime,
    /// The node its pod runs on (`NONE`: not scheduled; 0 without nodes).
    node: u32,
    /// Grows when a pod leaves the slot, voiding its timers.
    pod_token: u32,
    /// Its pod's version: 0 the scenario's, `d + 1` that of deployment `d`.
    version: u16,
}

/// A replica's rate limits: a token bucket, Envoy's local rate limit, or both.
#[derive(Debug)]
struct RateLimits {
    bucket: Option<RateLimiter>,
    local: Option<LocalRateLimit>,
}

// The request path's fields in one line each (`ServiceHot`, `Replica`).
const _: () = assert!(std::mem::size_of::<ServiceHot>() == 64);
const _: () = assert!(std::mem::size_of::<EdgeHot>() == 64);
const _: () = assert!(std::mem::offset_of!(Replica, rate_limits) + 8 <= 64);

/// What a request reads and writes of its service at every event, in one cache line: the
/// spec's scalars the request path needs, copied, and the state it changes. With a
/// thousand services the per-service structs (`ServiceState`, `model::Service`) no longer
/// stay in the caches, and their fields lie lines apart: each touch was a miss. Fields
/// that only faults, pods and messaging read stay in `ServiceState`.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct ServiceHot {
    /// The spec's `error_rate`, `concurrency` and `queue_capacity`.
    error_rate: f64,
    queue_capacity: Option<u32>,
    concurrency: u32,
    /// Arrivals since time zero (the autoscaler's requests per second).
    arrivals: u64,
    /// Replica slots up: listed in the endpoints and not held down by a crash.
    up: u32,
    next_rr: u32,
    /// Lifecycle: takes traffic (the rest is in `ServiceState`).
    ready: bool,
    /// Neither a data store's write path, nor Kubernetes pods, nor off-CPU `io_time`, nor
    /// partitions: service times, errors and answers skip their hooks with this one test.
    plain: bool,
    /// `ServiceState::faults` is not empty.
    faulted: bool,
    drop_expired: bool,
    discipline: crate::model::Discipline,
    balancer: crate::model::Balancer,
    /// How many calls it makes (its edges start at `Sim::edge_base`).
    calls: u32,
    /// A success does more than answer: it is an order's step, writes, pushes a job or
    /// publishes (`Sim::succeeded`).
    effects: bool,
}

/// What an attempt reads of its call edge, in one cache line (see `ServiceHot`): the
/// call's scalars copied from `model::Call`, which of the edge's mechanisms exist (so
/// that a plain call never loads `Edge`'s options), and the counts every call adds to,
/// added to its `CallSummary` when the run ends.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct EdgeHot {
    probability: f64,
    timeout: Option<SimTime>,
    calls: u64,
    attempts: u64,
    ok: u64,
    to: u32,
    order: crate::model::Order,
    /// It has a breaker or a rate limiter (`Edge::breaker`, `Edge::limiter`), an adaptive
    /// timeout, a retry throttle.
    guarded: bool,
    adaptive: bool,
    throttle: bool,
    /// A cache or a fallback (`datastore.rs`), a bulkhead, a connection pool.
    stored: bool,
    bulkhead: bool,
    pool: bool,
    /// Its retry policy has a budget: the one reader of `Edge::active`, so only then is
    /// it kept.
    budgeted: bool,
}

struct ServiceState {
    replicas: Vec<Replica>,
    rng_time: Stream,
    rng_error: Stream,
    rng_balance: Stream,
    rng_fault: Stream,
    /// Faults that change how this service works (indices into `Platform::faults`).
    faults: Vec<u32>,
    /// Its `Pause` faults as `(start, end)`, sorted by start.
    pauses: Vec<(SimTime, SimTime)>,
    /// Index among side-effect services, or `NONE`.
    tracked: u32,
    /// Lifecycle (with `ServiceHot::ready`): has power / a startup is under way.
    powered: bool,
    starting: bool,
    /// Grows when an outage voids pending startups.
    life_token: u32,
    /// The next crash-loop back-off (zero: the initial one).
    backoff: SimTime,
    restarts: u64,
    /// The outage it is recovering from (index into `outages`), or `NONE`.
    outage: u32,
    rng_startup: Stream,
    /// The Horizontal Pod Autoscaler and its records, if the service has one.
    auto: Option<Box<pods::AutoState>>,
}

/// Retry and protection state of one call edge, or of one workload's clients.
struct Edge {
    breaker: Option<Breaker>,
    /// Resilience4j's rate limiter (call edges only).
    limiter: Option<FixedWindowLimiter>,
    bulkhead_active: u32,
    /// `(request, generation, call token, since)` of each attempt waiting for a permit.
    bulkhead_waiting: VecDeque<(u32, u32, u32, SimTime)>,
    /// Attempts in flight, and those of them that are retries (retry budget; a call
    /// edge keeps `active` only if it has one, `EdgeHot::budgeted`).
    active: u64,
    active_retries: u64,
    throttle: Option<RetryThrottle>,
    /// The call's adaptive timeout, if it has one (call edges only).
    adaptive: Option<AdaptiveTimeout>,
    rng: Stream,
    stats: CallSummary,
}

/// A client's logical request: its attempts and the idempotency key they share.
#[derive(Debug, Clone, Copy)]
struct Client {
    workload: u32,
    user: u32,
    first_sent: SimTime,
    attempt: u32,
    prev_sleep: SimTime,
    /// The current attempt's request, or `NONE`.
    root: u32,
    /// Grows when an attempt ends or the slot is freed.
    token: u32,
    /// Live requests carrying this key, plus one while the client still waits.
    refs: u32,
    /// The order this logical request places (`ledger::NO_ORDER` if none).
    order: u32,
    /// When the current attempt was sent, and whether it holds a breaker permit.
    attempt_sent: SimTime,
    breaker_permit: bool,
    counted: bool,
    /// The current attempt was sent (counts in `Edge::active`); a retry is scheduled or
    /// under way (counts in `Edge::active_retries` until its outcome is judged).
    sent: bool,
    retrying: bool,
}

struct WorkloadState {
    cursor: ArrivalCursor,
    rng: Stream,
    /// Open, without client timeout, retries or breaker, placing no orders, and no service
    /// counts side effects per idempotency key: its client is the root request itself, so
    /// it needs no client slot (`Waiter::Open`), which spares the hot path of plain loads.
    plain: bool,
}

struct SpikeState {
    schedule: RateSchedule,
    cursor: ArrivalCursor,
    rng: Stream,
}

struct Sim<'a, O: Observer> {
    p: &'a Platform,
    limits: Limits,
    obs: &'a mut O,
    queue: EventQueue<Event>,
    reqs: Vec<Request>,
    free: Vec<u32>,
    live: u32,
    next_uid: u64,
    clients: Vec<Client>,
    free_clients: Vec<u32>,
    /// Side effects per client and tracked service: `clients.len() x tracked` counters.
    effects: Vec<u16>,
    tracked: usize,
    services: Vec<ServiceState>,
    /// Per service: what every event reads (`ServiceHot`).
    hot: Vec<ServiceHot>,
    /// Index of each service's first call edge in `edges`.
    edge_base: Vec<u32>,
    edges: Vec<Edge>,
    /// Per call edge: what every attempt reads (`EdgeHot`).
    edge_hot: Vec<EdgeHot>,
    client_edges: Vec<Edge>,
    /// The HTTP status of the last refusal on arrival (`arrive` returned `None`), for
    /// the caller that was refused.
    refused_status: u16,
    workloads: Vec<WorkloadState>,
    spikes: Vec<Option<SpikeState>>,
    /// Per service: the services that hard-depend on it.
    dependents: Vec<Vec<u32>>,
    outages: Vec<fault::OutageRecord>,
    /// Per fault: the replica slots a crash holds down while it lasts.
    crashed: Vec<Vec<u32>>,
    /// The link faults acting now (`call.rs`), in start order.
    links: Vec<u32>,
    /// Per fault: a lossy link's stream, named by the link.
    link_rng: Vec<Option<Stream>>,
    /// Per call edge: its link's index in `Platform::links`, or `NONE`.
    edge_link: Vec<u32>,
    /// The links of `Platform::links` with a node or pod end, matched per attempt.
    inst_links: Vec<u32>,
    /// Per link of `Platform::links`: its latency stream, named by the link.
    link_latency_rng: Vec<Stream>,
    rec: Recorder,
    window: SimTime,
    events: u64,
    /// Orders, job queues, brokers (`messaging.rs`).
    ledger: Ledger,
    /// The scenario's saga, if any (`saga.rs`).
    sagas: saga::Sagas,
    /// The scenario's two-phase commit, if any (`twopc.rs`).
    twopc: twopc::TwoPhase,
    msg: messaging::Messaging,
    /// Kubernetes nodes and where the pods are (`pods.rs`).
    cluster: pods::Cluster,
    /// Connection pools, caches, fallbacks and write paths (`datastore.rs`).
    ds: datastore::DataStores,
    /// Partitioned services' key routers and per-partition load (`partition.rs`).
    parts: partition::Partitions,
    /// Stream jobs' windowed counts (`stream.rs`).
    streams: stream::Streams,
    /// CQRS read models projected from topics (`readmodel.rs`).
    read_models: readmodel::ReadModels,
}

impl<'a, O: Observer> Sim<'a, O> {
    fn new(p: &'a Platform, limits: Limits, obs: &'a mut O) -> Self {
        let mut tracked = 0;
        let services: Vec<ServiceState> = p
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let faults = p
                    .faults
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.kind.target() == Some(ServiceId(i as u32)))
                    .filter(|(_, f)| {
                        !matches!(
                            f.kind,
                            FaultKind::Crash { .. }
                                | FaultKind::Spike { .. }
                                | FaultKind::DeletePods { .. }
                                | FaultKind::Leak { .. }
                                | FaultKind::Hang { .. }
                        )
                    })
                    .map(|(j, _)| j as u32)
                    .collect::<Vec<u32>>();
                let mut pauses: Vec<(SimTime, SimTime)> = faults
                    .iter()
                    .map(|&f| &p.faults[f as usize])
                    .filter(|f| matches!(f.kind, FaultKind::Pause { .. }))
                    .map(|f| (f.start, f.end))
                    .collect();
                pauses.sort_unstable();
                let replica = || Replica {
                    rate_limits: (s.rate_limit.is_some() || s.local_rate_limit.is_some()).then(
                        || {
                            Box::new(RateLimits {
                                bucket: s
                                    .rate_limit
                                    .map(|(rate, burst)| RateLimiter::new(rate, burst)),
                                local: s.local_rate_limit.map(|(max, fill, every)| {
                                    LocalRateLimit::new(max, fill, every)
                                }),
                            })
                        },
                    ),
                    limit: s.concurrency_limit.clone().map(Box::new),
                    ..Replica::default()
                };
                let slots = pods::slots(s);
                ServiceState {
                    replicas: (0..slots)
                        .map(|i| Replica {
                            pod: if i < s.replicas {
                                pods::Pod::Ready
                            } else {
                                pods::Pod::Absent
                            },
                            listed: i < s.replicas,
                            ..replica()
                        })
                        .collect(),
                    auto: pods::AutoState::new(s),
                    rng_time: stream(p.seed, &format!("service/{}/service_time", s.name)),
                    rng_error: stream(p.seed, &format!("service/{}/errors", s.name)),
                    rng_balance: stream(p.seed, &format!("service/{}/balancer", s.name)),
                    rng_fault: stream(p.seed, &format!("service/{}/faults", s.name)),
                    rng_startup: stream(p.seed, &format!("service/{}/startup", s.name)),
                    powered: true,
                    starting: false,
                    life_token: 0,
                    backoff: SimTime::ZERO,
                    restarts: 0,
                    outage: NONE,
                    faults,
                    pauses,
                    tracked: if s.side_effect {
                        tracked += 1;
                        tracked as u32 - 1
                    } else {
                        NONE
                    },
                }
            })
            .collect();
        let mut hot: Vec<ServiceHot> = p
            .services
            .iter()
            .zip(&services)
            .map(|(s, st)| ServiceHot {
                error_rate: s.error_rate,
                queue_capacity: s.queue_capacity,
                concurrency: s.concurrency,
                arrivals: 0,
                up: s.replicas,
                next_rr: 0,
                ready: true,
                plain: s.writes.is_none()
                    && s.kube.is_none()
                    && s.io_time.is_none()
                    && s.partitioning.is_none(),
                faulted: !st.faults.is_empty(),
                drop_expired: s.drop_expired,
                discipline: s.discipline,
                balancer: s.balancer,
                calls: s.calls.len() as u32,
                // Set below, once the order steps are known.
                effects: false,
            })
            .collect();
        let mut edge_base = Vec::with_capacity(p.services.len());
        let mut edges = Vec::new();
        let mut edge_hot = Vec::new();
        for s in &p.services {
            edge_base.push(edges.len() as u32);
            for (k, c) in s.calls.iter().enumerate() {
                let to = &p.service(c.to).name;
                let mut edge = Edge::new(
                    p.seed,
                    &format!("call/{}/{k}->{to}", s.name),
                    c.breaker.map(Breaker::new),
                    c.retry.as_ref().and_then(|r| r.throttle),
                    CallSummary {
                        from: s.name.clone(),
                        to: to.clone(),
                        ..CallSummary::default()
                    },
                );
                edge.limiter = c.rate_limiter.map(|l| {
                    FixedWindowLimiter::new(l.limit_for_period, l.refresh_period, l.timeout)
                });
                edge.adaptive = c.adaptive_timeout.clone().map(|a| {
                    let start = c.timeout.unwrap_or(a.ceiling);
                    AdaptiveTimeout::new(a, start)
                });
                edge_hot.push(EdgeHot {
                    probability: c.probability,
                    timeout: c.timeout,
                    calls: 0,
                    attempts: 0,
                    ok: 0,
                    to: c.to.0,
                    order: c.order,
                    guarded: edge.breaker.is_some() || edge.limiter.is_some(),
                    adaptive: edge.adaptive.is_some(),
                    throttle: edge.throttle.is_some(),
                    stored: c.cache.is_some() || c.fallback.is_some(),
                    bulkhead: c.bulkhead.is_some(),
                    pool: c.pool.is_some(),
                    budgeted: c.retry.as_ref().is_some_and(|r| r.budget.is_some()),
                });
                edges.push(edge);
            }
        }
        let client_edges = p
            .workloads
            .iter()
            .map(|w| {
                Edge::new(
                    p.seed,
                    &format!("client/{}", w.name),
                    w.breaker.map(Breaker::new),
                    w.retry.as_ref().and_then(|r| r.throttle),
                    CallSummary::default(),
                )
            })
            .collect();
        let workloads = p
            .workloads
            .iter()
            .map(|w| WorkloadState {
                cursor: ArrivalCursor::default(),
                rng: stream(p.seed, &format!("workload/{}", w.name)),
                plain: matches!(w.kind, WorkloadKind::Open(_))
                    && w.timeout.is_none()
                    && w.deadline.is_none()
                    && w.retry.is_none()
                    && w.breaker.is_none()
                    && p.orders.as_ref().is_none_or(|o| o.entry != w.target)
                    && tracked == 0,
            })
            .collect();
        let spikes = p
            .faults
            .iter()
            .enumerate()
            .map(|(i, f)| match f.kind {
                FaultKind::Spike { rate, .. } => Some(SpikeState {
                    schedule: RateSchedule::from_points(vec![
                        (SimTime::ZERO, 0.0),
                        (f.start, 0.0),
                        (f.start, rate),
                        (f.end, rate),
                        (f.end, 0.0),
                    ]),
                    cursor: ArrivalCursor::default(),
                    rng: stream(p.seed, &format!("fault/{i}/spike")),
                }),
                _ => None,
            })
            .collect();
        let window = effective_window(p, limits.max_rows);
        let rows = p.end().0.div_ceil(window.0) as usize;
        let mut dependents = vec![Vec::new(); p.services.len()];
        for (i, s) in p.services.iter().enumerate() {
            for d in &s.hard_deps {
                dependents[d.0 as usize].push(i as u32);
            }
        }
        let mut ledger = Ledger::new(
            p.orders
                .iter()
                .flat_map(|o| o.steps.iter().map(|&s| p.service(s).name.clone()))
                .collect(),
            p.warmup,
        );
        let msg = messaging::Messaging::new(p, &mut ledger);
        // What `succeeded` acts on: an order step, a write path, a push or a publish.
        for ((h, s), &step) in hot.iter_mut().zip(&p.services).zip(&msg.step_of) {
            h.effects =
                step != NONE || s.writes.is_some() || s.push.is_some() || !s.publish.is_empty();
        }
        let sagas = saga::Sagas::new(p, &mut ledger);
        Sim {
            sagas,
            twopc: twopc::TwoPhase::new(p),
            ds: datastore::DataStores::new(p),
            parts: partition::Partitions::new(p),
            streams: stream::Streams::new(p),
            read_models: readmodel::ReadModels::new(p),
            ledger,
            msg,
            p,
            limits,
            obs,
            queue: EventQueue::new(),
            reqs: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            live: 0,
            next_uid: 0,
            clients: Vec::with_capacity(256),
            free_clients: Vec::with_capacity(256),
            effects: Vec::new(),
            tracked,
            services,
            hot,
            edge_base,
            edges,
            edge_hot,
            client_edges,
            refused_status: crate::mech::retry::STATUS_UNAVAILABLE,
            workloads,
            spikes,
            dependents,
            outages: Vec::new(),
            crashed: vec![Vec::new(); p.faults.len()],
            links: Vec::new(),
            edge_link: p
                .services
                .iter()
                .enumerate()
                .flat_map(|(i, s)| {
                    s.calls.iter().map(move |c| {
                        p.links
                            .iter()
                            .position(|l| {
                                (l.from, l.to)
                                    == (
                                        Endpoint::Service(ServiceId(i as u32)),
                                        Endpoint::Service(c.to),
                                    )
                            })
                            .map_or(NONE, |k| k as u32)
                    })
                })
                .collect(),
            inst_links: (0..p.links.len() as u32)
                .filter(|&k| {
                    let l = &p.links[k as usize];
                    l.from.is_instance() || l.to.is_instance()
                })
                .collect(),
            link_latency_rng: p
                .links
                .iter()
                .map(|l| {
                    let (a, b) = (p.end_name(l.from), p.end_name(l.to));
                    stream(p.seed, &format!("link/{a}->{b}"))
                })
                .collect(),
            link_rng: p
                .faults
                .iter()
                .enumerate()
                .map(|(i, f)| match &f.kind {
                    FaultKind::LinkLatency { from, to, .. }
                    | FaultKind::LinkLoss { from, to, .. } => {
                        let (a, b) = (p.end_name(*from), p.end_name(*to));
                        Some(stream(p.seed, &format!("link/{a}->{b}/fault/{i}")))
                    }
                    _ => None,
                })
                .collect(),
            cluster: pods::Cluster::new(p),
            rec: Recorder::new(p, rows),
            window,
            events: 0,
        }
    }

    /// Schedules the first event of every source.
    fn start(&mut self) {
        let p = self.p;
        self.messaging_start();
        if p.warmup > SimTime::ZERO {
            self.queue.push(p.warmup, Event::WarmupEnd);
        }
        self.queue.push(self.window, Event::Window);
        self.pods_start();
        self.rebalance_start();
        for (i, d) in p.deployments.iter().enumerate() {
            self.queue.push(
                d.at,
                Event::Deployment {
                    index: i as u32,
                    check: false,
                },
            );
        }
        for (i, f) in p.faults.iter().enumerate() {
            self.queue
                .push(f.start, Event::FaultStart { fault: i as u32 });
            self.queue.push(f.end, Event::FaultEnd { fault: i as u32 });
        }
        for (i, spike) in self.spikes.iter_mut().enumerate() {
            if let Some(s) = spike {
                if let Some(t) = s.cursor.next(&s.schedule, SimTime::ZERO, &mut s.rng) {
                    self.queue.push(t, Event::SpikeArrival { fault: i as u32 });
                }
            }
        }
        for (w, wl) in p.workloads.iter().enumerate() {
            let state = &mut self.workloads[w];
            match &wl.kind {
                WorkloadKind::Open(schedule) => {
                    if let Some(t) = state.cursor.next(schedule, SimTime::ZERO, &mut state.rng) {
                        self.queue.push(t, Event::Arrival { workload: w as u32 });
                    }
                }
                WorkloadKind::Closed { users, think_time } => {
                    // Users start mid-thought, so they do not all send at time zero.
                    for user in 0..*users {
                        let t = think_time.sample(&mut state.rng);
                        self.queue.push(
                            t,
                            Event::Think {
                                workload: w as u32,
                                user,
                            },
                        );
                    }
                }
            }
        }
    }

    // Never inlined, so that callgrind can count the loop alone (benches/callgrind.sh).
    #[inline(never)]
    fn run_loop(&mut self) -> Result<(), RunError> {
        let horizon = self.p.end();
        // Locals, so they stay in registers: no handler changes them.
        let (max_events, max_in_flight) = (self.limits.max_events, self.limits.max_in_flight);
        let mut events = self.events;
        let (mut instant, mut at_instant) = (SimTime::ZERO, 0u64);
        let result = loop {
            let Some((now, event)) = self.queue.pop() else {
                break Ok(());
            };
            if now >= horizon {
                break Ok(());
            }
            if now == instant {
                at_instant += 1;
                if at_instant > MAX_EVENTS_AT_ONE_INSTANT {
                    break Err(RunError::NoProgress {
                        at: now,
                        events: at_instant,
                    });
                }
            } else {
                (instant, at_instant) = (now, 1);
            }
            events += 1;
            if events > max_events {
                break Err(RunError::TooManyEvents {
                    limit: max_events,
                    at: now,
                });
            }
            self.obs.event(now);
            self.handle(now, event);
            if self.live > max_in_flight {
                break Err(RunError::TooManyInFlight {
                    limit: max_in_flight,
                    at: now,
                });
            }
        };
        self.events = events;
        result
    }

    // Inlined into the run loop, its only caller: a call per event otherwise.
    #[inline(always)]
    fn handle(&mut self, now: SimTime, event: Event) {
        match event {
            // Arrivals stop at `duration`; the drain lets the work in flight finish.
            Event::Arrival { .. } | Event::SpikeArrival { .. } | Event::Think { .. }
                if now >= self.p.duration => {}
            Event::Arrival { workload } => self.open_arrival(now, workload),
            Event::SpikeArrival { fault } => self.spike_arrival(now, fault),
            Event::Think { workload, user } => self.send(now, workload, user),
            Event::JobVisibility {
                queue,
                handle,
                token,
            } => self.job_visibility(now, queue, handle, token),
            Event::Broker(e) => self.broker_event(now, e),
            Event::ServiceDone { req, token } => {
                if self.reqs[req as usize].generation == token {
                    self.service_done(now, req);
                }
            }
            Event::CallTimeout { req, token } => {
                if self.reqs[req as usize].call_token == token {
                    self.attempt_timed_out(now, req);
                }
            }
            Event::LinkDelivered {
                req,
                token,
                sent,
                replica,
            } => {
                if self.reqs[req as usize].call_token == token {
                    self.deliver(now, sent, req, false, replica);
                }
            }
            Event::CallRetry { req, token } => {
                if self.reqs[req as usize].call_token == token {
                    self.attempt(now, req);
                }
            }
            Event::LimiterWaited {
                req,
                token,
                granted,
            } => {
                if self.reqs[req as usize].call_token == token {
                    self.limiter_waited(now, req, granted);
                }
            }
            Event::BulkheadTimeout { req, token } => {
                if self.reqs[req as usize].call_token == token {
                    self.bulkhead_timed_out(now, req);
                }
            }
            Event::ClientTimeout { client, token } => {
                if self.clients[client as usize].token == token {
                    self.client_timed_out(now, client);
                }
            }
            Event::ClientRetry { client, token } => {
                if self.clients[client as usize].token == token {
                    self.client_attempt(now, client);
                }
            }
            Event::FaultStart { fault } => {
                self.obs.fault(now, fault, true);
                self.fault_start(now, fault)
            }
            Event::FaultEnd { fault } => {
                self.obs.fault(now, fault, false);
                self.fault_end(now, fault)
            }
            Event::Promoted { fault } => self.promoted(now, fault),
            Event::Compensate {
                order,
                step,
                attempt,
            } => self.compensate(now, order, step, attempt),
            Event::CoordinatorBack { coordinator } => self.coordinator_back(now, coordinator),
            Event::CommitDue { req, token } => self.commit_due(now, req, token),
            Event::Started { service, token } => {
                if self.services[service as usize].life_token == token {
                    self.started(now, service);
                }
            }
            Event::Restart { service, token } => {
                if self.services[service as usize].life_token == token {
                    self.restart(now, service);
                }
            }
            Event::HpaSync { service } => self.hpa_sync(now, service),
            Event::Rebalance { table, step } => self.rebalance_event(now, table, step),
            Event::Deployment { index, check } => self.deployment_event(now, index, check),
            Event::Pod {
                service,
                replica,
                token,
                step,
            } => {
                if self.services[service as usize].replicas[replica as usize].pod_token == token {
                    self.pod_event(now, service, replica, step);
                }
            }
            Event::Window => {
                self.rec.close_window(now);
                self.cluster.close_window();
                self.queue.push(now.after(self.window), Event::Window);
            }
            Event::WarmupEnd => {
                self.rec.end_warmup(now);
                self.parts.end_warmup(now);
            }
        }
    }

    fn finish(mut self) -> Summary {
        let p = self.p;
        let end = p.end();
        let queues = self.queue_summaries();
        let deployments = self.cluster.deployment_summaries(p);
        let pods: Vec<_> = (0..p.services.len())
            .map(|i| self.cluster.summary(i, end))
            .collect();
        let topics = self.topic_summaries();
        let pulled = self.pulled_summaries();
        let mut summary = self.rec.finish(p, end, self.events);
        for (spec, pulled) in p.services.iter().zip(pulled) {
            if let Some(sum) = summary.services.get_mut(&spec.name) {
                sum.pulled = pulled;
            }
        }
        summary.queues = queues;
        summary.deployments = deployments;
        summary.topics = topics;
        summary.partitioned = self.parts.summaries(p, end);
        summary.streams = self.streams.summaries(p);
        summary.read_models = self.read_models.summaries(p);
        if p.orders.is_some() {
            let mut orders = self.ledger.summary();
            orders.two_phase = self.twopc.summary();
            summary.orders = Some(orders);
        }
        summary.window_s = self.window.as_secs_f64();
        let first = (p.warmup.0 / self.window.0) as usize;
        for (spec, rows) in p.services.iter().zip(&self.cluster.cfs_rows) {
            summary
                .throttling
                .extend(crate::metrics::bottleneck::throttling(
                    &spec.name,
                    summary.window_s,
                    first,
                    rows,
                ));
        }
        summary
            .throttling
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        for (w, edge) in p.workloads.iter().zip(&self.client_edges) {
            let s = summary
                .workloads
                .get_mut(&w.name)
                .expect("every workload is summarized");
            s.breaker_rejected = edge.stats.breaker_rejected;
            s.breaker = edge.breaker.as_ref().map(|b| breaker_summary(b, end));
        }
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        let calls = p.services.iter().flat_map(|s| &s.calls);
        for (i, ((edge, hot), call)) in self.edges.iter().zip(&self.edge_hot).zip(calls).enumerate()
        {
            let mut stats = edge.stats.clone();
            stats.calls += hot.calls;
            stats.attempts += hot.attempts;
            stats.ok += hot.ok;
            self.ds.call_summary(i, call, &mut stats);
            stats.retries = stats.attempts.saturating_sub(stats.calls);
            stats.amplification = ratio(stats.attempts, stats.calls);
            stats.breaker = edge.breaker.as_ref().map(|b| breaker_summary(b, end));
            stats.adaptive_timeout = edge.adaptive.as_ref().map(adaptive_summary);
            let base = format!("{}->{}", stats.from, stats.to);
            let n = names.entry(base.clone()).or_insert(0);
            *n += 1;
            let key = if *n == 1 { base } else { format!("{base}#{n}") };
            summary.calls.insert(key, stats);
        }
        for (spec, st) in p.services.iter().zip(&self.services) {
            if let (Some(a), Some(sum)) = (&st.auto, summary.services.get_mut(&spec.name)) {
                sum.autoscale = Some(a.summary());
            }
        }
        for (spec, pods) in p.services.iter().zip(pods) {
            if let Some(sum) = summary.services.get_mut(&spec.name) {
                sum.pods = pods;
            }
        }
        self.ds.service_summaries(p, &mut summary);
        let restarts: Vec<u64> = self.services.iter().map(|s| s.restarts).collect();
        summary.outages = outage_summaries(p, &self.outages, &restarts, &summary);
        let spans: Vec<FaultSpan> = p
            .faults
            .iter()
            .enumerate()
            .map(|(i, f)| FaultSpan {
                kind: f.kind.name().to_string(),
                target: f.kind.target().map(|t| p.service(t).name.clone()),
                start_s: f.start.as_secs_f64(),
                end_s: f.end.as_secs_f64(),
                grace_s: self
                    .outages
                    .iter()
                    .position(|o| o.fault == i as u32)
                    .and_then(|o| summary.outages[o].full_recovery_s)
                    .unwrap_or(0.0),
            })
            .collect();
        summary.faults = verdicts(
            &summary.timeseries,
            summary.window_s,
            summary.warmup_s,
            // Arrivals stop at `duration`; the drain after it is no time to recover in.
            p.duration.as_secs_f64().min(summary.duration_s),
            &p.recovery_check,
            &spans,
        );
        summary
    }

    // ---- request slots ---------------------------------------------------------------

    #[inline]
    fn alloc(&mut self, mut r: Request) -> u32 {
        self.live += 1;
        self.ledger.carry(r.order);
        if r.client != NONE {
            self.clients[r.client as usize].refs += 1;
        }
        match self.free.pop() {
            Some(i) => {
                let old = &self.reqs[i as usize];
                r.call_token = old.call_token;
                r.generation = old.generation;
                self.reqs[i as usize] = r;
                i
            }
            None => {
                self.reqs.push(r);
                (self.reqs.len() - 1) as u32
            }
        }
    }

    // Always inlined: its one caller, `end`, is itself inlined into the plain answer.
    #[inline(always)]
    fn release(&mut self, req: u32) {
        let r = &mut self.reqs[req as usize];
        r.generation = r.generation.wrapping_add(1);
        r.call_token = r.call_token.wrapping_add(1);
        r.waiter = Waiter::Nobody;
        r.live = false;
        let client = r.client;
        self.live -= 1;
        self.free.push(req);
        if client != NONE {
            self.unref_client(client);
        }
    }
}

impl Edge {
    fn new(
        seed: u64,
        name: &str,
        breaker: Option<Breaker>,
        throttle: Option<(f64, f64)>,
        stats: CallSummary,
    ) -> Self {
        Edge {
            breaker,
            limiter: None,
            bulkhead_active: 0,
            bulkhead_waiting: VecDeque::new(),
            active: 0,
            active_retries: 0,
            throttle: throttle.map(|(max, ratio)| RetryThrottle::new(max, ratio)),
            adaptive: None,
            rng: stream(seed, name),
            stats,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn adaptive_summary(a: &AdaptiveTimeout) -> AdaptiveTimeoutSummary {
    let ((min, max), (samples, raised, lowered)) = (a.range(), a.adjustments());
    AdaptiveTimeoutSummary {
        current_ms: a.current().as_millis_f64(),
        min_ms: min.as_millis_f64(),
        max_ms: max.as_millis_f64(),
        samples,
        raised,
        lowered,
    }
}

fn state_name(s: crate::mech::breaker::BreakerState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn breaker_summary(b: &Breaker, end: SimTime) -> BreakerSummary {
    use crate::mech::breaker::BreakerState;
    // Timers due by the end fire in the report too (once per breaker, at the end).
    let mut b = b.clone();
    b.settle(end);
    let transitions = b.transitions();
    BreakerSummary {
        opened: transitions
            .iter()
            .filter(|(_, s)| *s == BreakerState::Open)
            .count() as u64,
        open_s: b.time_open(end).as_secs_f64(),
        state: state_name(b.state()),
        transitions: transitions
            .iter()
            .take(1000)
            .map(|(t, s)| Transition {
                t_s: t.as_secs_f64(),
                state: state_name(*s),
            })
            .collect(),
    }
}

/// How each outage unfolded, from the run's records and its time series.
fn outage_summaries(
    p: &Platform,
    outages: &[fault::OutageRecord],
    restarts: &[u64],
    summary: &Summary,
) -> Vec<OutageSummary> {
    let edges: Vec<(usize, usize)> = p
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.hard_deps.iter().map(move |d| (i, d.0 as usize)))
        .collect();
    let layering = crate::model::graph::layering(p.services.len(), &edges);
    let name = |s: usize| p.services[s].name.clone();
    outages
        .iter()
        .map(|o| {
            let back = o.power_back;
            let hit: Vec<usize> = o.services.iter().map(|&s| s as usize).collect();
            let never: Vec<usize> = hit
                .iter()
                .copied()
                .filter(|&s| o.ready_at[s].is_none())
                .collect();
            let full = match (back, never.is_empty()) {
                (Some(b), true) => hit
                    .iter()
                    .filter_map(|&s| o.ready_at[s])
                    .max()
                    .map(|t| t.since(b).as_secs_f64())
                    // Only brokers lost power: they are back with it.
                    .or(hit.is_empty().then_some(0.0)),
                _ => None,
            };
            let goodput = back.and_then(|b| {
                goodput_recovered(
                    &summary.timeseries,
                    summary.window_s,
                    summary.warmup_s,
                    o.start.as_secs_f64(),
                    b.as_secs_f64(),
                    p.recovery_check.baseline.as_secs_f64(),
                    0.05,
                    p.recovery_check.windows as usize,
                )
            });
            OutageSummary {
                start_s: o.start.as_secs_f64(),
                power_back_s: back.map(SimTime::as_secs_f64),
                full_recovery_s: full,
                never_recovered: never.iter().map(|&s| name(s)).collect(),
                never_recovered_circles: layering
                    .circles
                    .iter()
                    .filter(|c| c.iter().any(|s| never.contains(s)))
                    .map(|c| c.iter().map(|&s| name(s)).collect())
                    .collect(),
                goodput_recovered_s: goodput,
                services: hit
                    .iter()
                    .map(|&s| {
                        let r = ServiceRecovery {
                            layer: layering.layers[s],
                            ready_at_s: o.ready_at[s].map(SimTime::as_secs_f64),
                            restarts: restarts[s],
                        };
                        (name(s), r)
                    })
                    .collect(),
            }
        })
        .collect()
}
