//! The summary: the one contract between a simulation and everything that presents it
//! (the table, summary.json, timeseries.csv, sweeps, charts). Plain data, `BTreeMap`-keyed
//! so that its JSON is byte-identical run after run; units are in the field names.

use super::histogram::Latency;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// Virtual time simulated.
    pub duration_s: f64,
    /// Leading time left out of the statistics.
    pub warmup_s: f64,
    /// Width of one time-series row (the scenario's window, widened for very long runs).
    pub window_s: f64,
    /// Events the engine processed.
    pub events: u64,
    pub services: BTreeMap<String, ServiceSummary>,
    /// End-to-end, as the clients of each workload saw it.
    pub workloads: BTreeMap<String, WorkloadSummary>,
    /// Per call edge (`caller->callee`): attempts, retries, breaker, bulkhead.
    pub calls: BTreeMap<String, CallSummary>,
    /// One verdict per fault, in scenario order.
    pub faults: Vec<FaultVerdict>,
    /// One entry per outage: how the platform came back, layer by layer.
    pub outages: Vec<OutageSummary>,
    /// SLOs, burn-rate alerts, reliability, cost and governance per service: filled by
    /// `crate::health::report` right after the run (the zero report until then).
    pub health: super::health::HealthReport,
    /// The order ledger, when the scenario defines orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders: Option<OrdersSummary>,
    /// Job queues by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub queues: BTreeMap<String, QueueSummary>,
    /// Kubernetes rolling updates, in the order they started.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<DeploymentSummary>,
    /// Topics by name (consumer groups, lag, DLQ).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub topics: BTreeMap<String, TopicSummary>,
    /// Partitioned services by name: load per partition and per node.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub partitioned: BTreeMap<String, super::partition::PartitionedSummary>,
    /// Stream jobs by consumer service: windowed counts checked against the events.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub streams: BTreeMap<String, super::stream::StreamSummary>,
    /// CQRS read models by consumer service: lag, rebuilds, read-your-writes misses.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub read_models: BTreeMap<String, super::readmodel::ReadModelSummary>,
    /// The service that limits the run, named by measurement (`metrics::bottleneck`):
    /// filled right after the run, like `health`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<super::bottleneck::Bottleneck>,
    /// Incidents of CPU throttling: windows in which a service's CFS quota was the
    /// bottleneck (`metrics::bottleneck::throttling`), by start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub throttling: Vec<super::bottleneck::Throttling>,
    /// Where time went on the critical paths of the traced requests: only when the run
    /// wrote a trace of spans (`--trace-format otlp|chrome`); filled from the spans
    /// kept (`crate::trace::analyze`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<TracesSummary>,
    /// One row per window; written to timeseries.csv, not to summary.json.
    #[serde(skip)]
    pub timeseries: TimeSeries,
    /// The latency distributions at the end of the run (each service's sojourn, each
    /// workload's successful requests); written to latency.csv, not to summary.json.
    #[serde(skip)]
    pub latency_buckets: Vec<LatencyBuckets>,
    /// Each service's SLI events on a fixed grid, in the platform's service order: what
    /// alerts and incidents are computed from (`metrics::events`). Not written out.
    #[serde(skip)]
    pub slo_events: Vec<super::events::SloEvents>,
}

/// One latency histogram's non-empty buckets, `(from_ms, to_ms, count)`.
#[derive(Debug, Clone, Default)]
pub struct LatencyBuckets {
    /// `service` or `workload`.
    pub kind: &'static str,
    pub name: String,
    pub buckets: Vec<(f64, f64, u64)>,
}

/// What happened at one service. Every request that arrived after the warmup is in exactly
/// one of: `ok`, `errors`, `dependency_failed`, `timeouts`, `shed`, `crashed`, `rejected`,
/// `in_flight`.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub arrivals: u64,
    /// Ended after admission: `ok + errors + dependency_failed + timeouts + shed + crashed`.
    pub completed: u64,
    pub ok: u64,
    /// Failed by the service itself (its `error_rate`).
    pub errors: u64,
    /// Failed because a hard dependency failed.
    pub dependency_failed: u64,
    /// Refused on arrival, for one of the four reasons below.
    pub rejected: u64,
    pub rejected_queue_full: u64,
    pub rejected_rate_limited: u64,
    pub rejected_concurrency_limited: u64,
    /// No replica was up (crash, outage).
    pub rejected_unavailable: u64,
    /// Admitted, then dropped unserved (queue timeout, expired deadline).
    pub shed: u64,
    /// Lost when their replica crashed.
    pub crashed: u64,
    /// Answered after the caller had stopped waiting: wasted work.
    pub timeouts: u64,
    /// Of `ok`: answered while a soft dependency failed.
    pub degraded: u64,
    /// Side-effect services: successes that changed the world once for their key...
    pub side_effects: u64,
    /// ...again for the same key (a retried charge)...
    pub duplicate_side_effects: u64,
    /// ...or again for the same key, absorbed by idempotency.
    pub deduplicated: u64,
    /// Still in the service when the run ended.
    pub in_flight: u64,
    pub throughput_rps: f64,
    /// Busy server time / (servers x measured time).
    pub utilization: f64,
    /// Time-average number of requests at the service (waiting and in service).
    pub mean_in_system: f64,
    /// Time-average number waiting for a server.
    pub mean_in_queue: f64,
    /// Share of the measured time with at least one replica up and ready.
    pub uptime_ratio: f64,
    /// Replica-hours up and ready over the measured time (what it costs to run).
    pub replica_hours: f64,
    /// Every period with no replica up and ready, over the whole run.
    pub downtime: Vec<Downtime>,
    /// Successful requests within the latency objective's threshold (0 without one).
    pub latency_good: u64,
    /// Arrival until a server takes the request (its waiting room only).
    pub wait_ms: Latency,
    /// Arrival until the answer (wait + service + calls). For work pulled from a job
    /// queue or a topic, arrival is when a worker or consumer took it: neither figure
    /// includes the time in the queue, which `pulled` adds.
    pub sojourn_ms: Latency,
    /// For a service whose workers pull jobs or whose consumers read a topic: the time
    /// that work spent in the queue before it, and its sojourn including it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled: Option<PulledSummary>,
    /// Its Horizontal Pod Autoscaler, if it has one.
    pub autoscale: Option<AutoscaleSummary>,
    /// What happened to its pods, if it runs as Kubernetes pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodSummary>,
    /// A database's write path, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes: Option<WritesSummary>,
}

/// Work a service pulled from job queues or topics, first deliveries of items enqueued
/// after the warmup (a synchronous caller's wait is the service's own `wait_ms`; here the
/// queue is the waiting room).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PulledSummary {
    /// Where from: `queue NAME` or `topic NAME`.
    pub from: Vec<String>,
    /// Enqueued (published) until taken by a worker (delivered to a consumer): the
    /// queue's wait, as `queues.NAME.wait_ms` counts it.
    pub queue_wait_ms: Latency,
    /// Enqueued (published) until processed: `queue_wait_ms` plus the service's own
    /// `sojourn_ms`, per item.
    pub sojourn_with_queue_ms: Latency,
}

/// One rolling update: `outcome` is "completed", "rolled_back" or "in_progress" (at the
/// end of the run); `end_s` is when its rollout, or its rollback, finished.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentSummary {
    pub service: String,
    pub version: String,
    pub start_s: f64,
    pub end_s: Option<f64>,
    pub outcome: String,
    /// When its rollback began, and whether an SLO alert triggered it.
    pub rollback_s: Option<f64>,
    pub rolled_back_by_alert: bool,
}

/// What happened to a service's Kubernetes pods.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PodSummary {
    /// Container restarts (OOM kills and liveness failures), with CrashLoopBackOff.
    pub restarts: u64,
    pub oom_kills: u64,
    pub liveness_restarts: u64,
    /// Containers killed because their startup probe failed `failure_threshold` times.
    pub startup_failures: u64,
    /// Times a readiness probe took a pod out of the endpoints.
    pub readiness_failures: u64,
    /// Pods deleted (scale-down, `DeletePods`) and lost with their node.
    pub deleted: u64,
    pub lost: u64,
    /// On-CPU time its containers used (not waiting for IO or calls), in seconds.
    pub cpu_s: f64,
    /// CFS periods in which a container's threads waited for CPU quota (the kernel's
    /// `nr_throttled`, summed over containers), and the time requests spent so.
    pub cpu_throttled_periods: u64,
    pub cpu_throttled_s: f64,
    /// A StatefulSet's pods, by ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stateful: Option<Vec<StatefulPodSummary>>,
}

/// One StatefulSet pod identity (`name-N`) across the pods that bore it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatefulPodSummary {
    pub name: String,
    /// When a pod of this name became ready (0 for the pods the run starts with), and
    /// when one was gone after its deletion; the first 100 of each.
    pub ready_s: Vec<f64>,
    pub gone_s: Vec<f64>,
    /// Times its volume was lost with its node (a `Local` volume), and the orders'
    /// acknowledged writes it held then.
    pub volumes_lost: u64,
    pub writes_lost: u64,
}

/// The writes a database served (of `completed`), and those that failed on their own.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WritesSummary {
    pub writes: u64,
    pub write_errors: u64,
    /// When a crash can take acknowledged writes back (`synchronous_commit` off, or
    /// followers): what it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<DurabilitySummary>,
    /// With `reads: Followers`: what the reads served by followers saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follower_reads: Option<FollowerReadsSummary>,
}

/// Reads served by a replicated database's followers (see `mech::replication`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowerReadsSummary {
    pub reads: u64,
    /// Reads that missed a write the leader had acknowledged before them.
    pub stale_reads: u64,
    /// Reads that missed their own order's acknowledged write (read-your-writes broken).
    pub read_your_writes_violations: u64,
}

/// What a database's crashes and failovers took back of its acknowledged writes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DurabilitySummary {
    /// Leader crashes long enough to promote a follower.
    pub failovers: u64,
    /// Acknowledged writes no follower had when the leader crashed (asynchronous
    /// replication, or `synchronous_commit` off).
    pub lost_in_failover: u64,
    /// Acknowledged commits not yet flushed when the server crashed without a failover
    /// (`synchronous_commit` off).
    pub lost_in_crash: u64,
    /// Time commits waited for followers, summed over writes (`Sync` and `SemiSync`).
    pub commit_wait_ms_total: f64,
}

/// What a service's Horizontal Pod Autoscaler did.
#[derive(Debug, Clone, Serialize)]
pub struct AutoscaleSummary {
    pub min: u32,
    pub max: u32,
    /// Most pods ready at once.
    pub peak_replicas: u32,
    pub scale_ups: u64,
    pub scale_downs: u64,
    /// Its changes of the desired pod count (the first 1000).
    pub events: Vec<ScaleEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleEvent {
    pub t_s: f64,
    pub from: u32,
    pub to: u32,
}

/// A period a service was down; `end_s` null if it never came back.
#[derive(Debug, Clone, Serialize)]
pub struct Downtime {
    pub start_s: f64,
    pub end_s: Option<f64>,
}

/// What the clients of one workload saw.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSummary {
    pub target: String,
    /// Logical requests (a request and its retries count once).
    pub arrivals: u64,
    /// Attempts sent, retries included.
    pub attempts: u64,
    pub retries: u64,
    /// attempts / arrivals.
    pub amplification: f64,
    /// Retries not made because a budget or throttle said no.
    pub retries_denied: u64,
    /// Attempts refused by the client-side breaker.
    pub breaker_rejected: u64,
    pub breaker: Option<BreakerSummary>,
    pub ok: u64,
    /// Answered with an error (the service's own or a failed dependency).
    pub errors: u64,
    pub rejected: u64,
    /// The client gave up waiting (its own `timeout`).
    pub timeouts: u64,
    pub in_flight: u64,
    /// Successful requests finished per second.
    pub goodput_rps: f64,
    /// Latency of successful requests.
    pub latency_ms: Latency,
}

/// One call edge, counted for calls whose caller arrived after the warmup.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallSummary {
    pub from: String,
    pub to: String,
    /// Logical calls (a call and its retries count once).
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    /// attempts / calls.
    pub amplification: f64,
    /// Logical calls that succeeded / failed in the end.
    pub ok: u64,
    pub failed: u64,
    /// Attempts that ended each way.
    pub attempt_timeouts: u64,
    pub attempt_errors: u64,
    pub attempt_rejected: u64,
    /// Attempts refused locally by the open breaker or the full bulkhead.
    pub breaker_rejected: u64,
    pub bulkhead_rejected: u64,
    /// Attempts refused by the edge's rate limiter (`RequestNotPermitted`, a 429).
    pub rate_limited: u64,
    /// Retries not made because a budget or throttle said no.
    pub retries_denied: u64,
    pub breaker: Option<BreakerSummary>,
    /// The caller's connection pools, if the call has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolSummary>,
    /// Cache-aside in front of the call, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSummary>,
    /// What its fallback served, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<FallbackSummary>,
    /// Its adaptive timeout, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive_timeout: Option<AdaptiveTimeoutSummary>,
}

/// An adaptive call timeout (all of the run, warmup included: it adapts from time zero).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AdaptiveTimeoutSummary {
    /// The timeout at the end of the run, and the lowest and highest it took.
    pub current_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Attempts it learned from (answered or timed out; refusals say nothing of latency).
    pub samples: u64,
    /// Of those, the ones that raised or lowered it.
    pub raised: u64,
    pub lowered: u64,
}

/// Connection pools of one call edge (all caller replicas together).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PoolSummary {
    pub max_size: u32,
    /// Attempts that found every connection taken and waited for one...
    pub waited: u64,
    /// ...and of those, the ones that gave up after `connection_timeout`.
    pub timeouts: u64,
    /// Longest wait for a connection.
    pub wait_ms_max: f64,
}

/// Cache-aside on one call edge. `lookups = hits + misses`; the backing store is called
/// once per miss that did not join another's (`coalesced`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheSummary {
    pub lookups: u64,
    pub hits: u64,
    pub misses: u64,
    /// Of `misses`: the lookup itself failed (cache down, slow or erring).
    pub lookup_failures: u64,
    /// Of `misses`: waited for another miss of the same key (single flight).
    pub coalesced: u64,
    /// Keys written back after a backing call.
    pub fills: u64,
    /// hits / lookups.
    pub hit_ratio: f64,
}

/// What a call's fallback did for calls that failed in the end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FallbackSummary {
    /// Answered with the default value.
    pub served_default: u64,
    /// Answered by the fallback service / not even that.
    pub served_by_service: u64,
    pub service_failed: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BreakerSummary {
    /// Times it opened.
    pub opened: u64,
    /// Time spent OPEN.
    pub open_s: f64,
    /// State at the end of the run.
    pub state: String,
    /// Every state change (at most the first 1000).
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    pub t_s: f64,
    pub state: String,
}

/// Did the platform come back after a fault? See `RecoveryCheck`.
#[derive(Debug, Clone, Serialize)]
pub struct FaultVerdict {
    pub kind: String,
    /// The service hit, or null for the whole platform.
    pub target: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    /// From the fault's end until goodput and p99 were back; null unless recovered.
    pub recovered_after_s: Option<f64>,
    /// `recovered`, `metastable`, or `not_applicable` (no baseline, or the run ended first).
    pub verdict: String,
    pub baseline_goodput_rps: f64,
    pub baseline_p99_ms: f64,
    /// Goodput over the last `metastable_after` of the check, as a share of the baseline.
    pub goodput_after_ratio: Option<f64>,
    /// The goodput ratio (span / baseline) of the span the verdict rests on (the one that
    /// recovered, or the last judged) and its interval at `confidence`; null when no span
    /// was judged. See `metrics::verdict`.
    pub goodput_ratio: Option<f64>,
    pub goodput_ratio_low: Option<f64>,
    pub goodput_ratio_high: Option<f64>,
    /// Two-sided confidence of the interval (0.98).
    pub confidence: f64,
    /// Length of the judged span: long enough to hold 200 requests at the baseline rate.
    pub span_s: Option<f64>,
}

/// How the platform came back after an outage. Times in seconds of virtual time since the
/// start of the run, except `full_recovery_s` and `goodput_recovered_s`, which count
/// from power back.
#[derive(Debug, Clone, Serialize)]
pub struct OutageSummary {
    pub start_s: f64,
    /// Null if the run ended before power returned.
    pub power_back_s: Option<f64>,
    /// Until every service hit was ready again; null if any never was.
    pub full_recovery_s: Option<f64>,
    /// Services that never became ready again...
    pub never_recovered: Vec<String>,
    /// ...and the circles of hard dependencies that hold them.
    pub never_recovered_circles: Vec<Vec<String>>,
    /// Until goodput was back within 5% of its level before the outage; null if never.
    pub goodput_recovered_s: Option<f64>,
    /// The services the outage hit.
    pub services: BTreeMap<String, ServiceRecovery>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecovery {
    /// Its layer (`platsim layers`), null on or behind a circle.
    pub layer: Option<u32>,
    /// When it was ready again; null if never.
    pub ready_at_s: Option<f64>,
    /// Crash-loop restarts over the run.
    pub restarts: u64,
}

/// Every order's fate: `accepted = completed + lost + in_dlq + in_flight + compensated +
/// inconsistent`, and
/// `placed = accepted + refused + unanswered`. Orders placed during the warmup count too.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrdersSummary {
    pub placed: u64,
    /// The client got a success.
    pub accepted: u64,
    /// The client got an error or gave up (not a loss: it knows).
    pub refused: u64,
    /// The client was still waiting when the run ended.
    pub unanswered: u64,
    /// Accepted, and every step done.
    pub completed: u64,
    /// Accepted, not completed, and nothing carries it any more.
    pub lost: u64,
    /// Accepted orders with some step's side effect done more than once: a repeat that
    /// an idempotent step deduplicated by the order's key is not a duplicate.
    pub duplicated: u64,
    /// Accepted, not completed, parked in a dead letter queue.
    pub in_dlq: u64,
    /// Accepted, not completed, still moving after the drain.
    pub in_flight: u64,
    /// Accepted orders that a saga undid: every done step reversed (0 without sagas).
    pub compensated: u64,
    /// Accepted orders a saga gave up on with some done step never reversed at the end of
    /// the drain: half done (0 without sagas).
    pub inconsistent: u64,
    /// Lost orders by the cause of their last carrier's end.
    pub lost_causes: BTreeMap<String, u64>,
    /// Inconsistent orders with a named cause (out-of-order updates; a saga's are not
    /// listed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inconsistent_causes: BTreeMap<String, u64>,
    /// Refused or unanswered orders on which some step's side effect happened anyway
    /// (charged, yet refused or never confirmed), each counted once.
    pub side_effects_unacknowledged: u64,
    /// Of them, by how the client was answered: `error`, `rejected`, `timeout` (it gave
    /// up), `unanswered` (still waiting at the end).
    pub unacknowledged_causes: BTreeMap<String, u64>,
    /// Per step, over accepted orders: done at least once, and more than once.
    pub steps: BTreeMap<String, StepSummary>,
    /// Of `completed` orders placed after the warmup: from placed (the client's request
    /// sent) until the last step was first done, queues and topics included.
    pub latency_ms: Latency,
    /// Of `in_dlq` orders placed after the warmup: from placed until first parked.
    pub dlq_latency_ms: Latency,
    /// Two-phase commit of the steps, when the scenario runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_phase: Option<TwoPhaseSummary>,
}

/// Two-phase commit, counted per participant (an order's step at its service).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TwoPhaseSummary {
    /// Participants that prepared, each holding one of its service's servers.
    pub prepared: u64,
    /// Prepared participants the coordinator committed.
    pub committed: u64,
    /// Participants aborted: prepared and rolled back, or prepared after their
    /// coordinator gave up on them.
    pub aborted: u64,
    /// Prepared participants whose coordinator crashed before deciding: in doubt, each
    /// holding its server until the coordinator was back.
    pub blocked_participants: u64,
    /// Their time blocked, summed over them (seconds).
    pub blocked_s: f64,
    /// Of the blocked, those the coordinator committed once back, by the decision it had
    /// logged before it crashed (inside `commit_delay`).
    pub committed_after_recovery: u64,
    /// Of the blocked, those it aborted once back: no decision in its log (presumed abort).
    pub aborted_after_recovery: u64,
    /// Orders whose steps were committed by a coordinator back from its crash. Its client
    /// was told the order failed (the coordinator died under its request), so each is
    /// also in `side_effects_unacknowledged` unless a retry was answered.
    pub orders_committed_after_recovery: u64,
    /// Each prepared participant's time in doubt, from its prepare until the decision
    /// reached it: how long it held its server and locks.
    pub in_doubt_ms: Latency,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StepSummary {
    /// Accepted orders whose step was done.
    pub done: u64,
    /// Of them, those whose step's side effect happened more than once.
    pub duplicated: u64,
    /// Repeats of the step that its idempotency key turned away (no side effect).
    pub deduplicated: u64,
    /// From placed until this step was first done, for orders placed after the warmup
    /// whatever their fate.
    pub latency_ms: Latency,
    /// Refused or unanswered orders on which this step was done anyway.
    pub unacknowledged: u64,
}

/// A job queue over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueSummary {
    pub reliable: bool,
    /// Most jobs waiting at once.
    pub depth_max: u64,
    /// Jobs waiting / in workers' hands at the end.
    pub depth_end: u64,
    pub processing_end: u64,
    /// Jobs pushed by producers.
    pub enqueued: u64,
    /// Jobs handed to workers (every delivery).
    pub delivered: u64,
    /// Deliveries after the first: failed jobs retried, and (reliable) jobs re-queued
    /// after their visibility timeout.
    pub redelivered: u64,
    /// Of `redelivered`: re-queued by the visibility timeout.
    pub expired: u64,
    /// Jobs processed successfully (acknowledged).
    pub acked: u64,
    /// Parked in the dead letter queue after `max_deliveries`.
    pub dlq: u64,
    /// Dropped after `max_deliveries` without a dead letter queue.
    pub dropped: u64,
    /// Lost in the hands of workers that died (plain queue).
    pub lost: u64,
    /// Waiting in the list when its store crashed, and not persisted.
    pub store_lost: u64,
    /// Pushes refused while its store was down (their requests failed).
    pub push_failed: u64,
    /// Time in the queue: from a job's push until a worker first took it, for jobs
    /// pushed after the warmup (a redelivered job's second wait is not in it).
    pub wait_ms: Latency,
    /// The largest age of the oldest job waiting, over the run and at its end (the
    /// queue's alert signal: work stuck or falling behind shows here first).
    pub oldest_age_s_max: f64,
    pub oldest_age_s_end: f64,
}

/// A topic and its consumer groups over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicSummary {
    pub partitions: u32,
    /// Messages appended (duplicates included).
    pub appended: u64,
    /// Appends that were duplicates (producer retries without idempotence).
    pub duplicate_appends: u64,
    /// Publishes lost before reaching the log (acks=None while the broker was down,
    /// crash before publish).
    pub publish_lost: u64,
    /// Publishes refused to the producer (broker down with acks).
    pub publish_failed: u64,
    /// Messages held in memory that a broker restart lost.
    pub restart_lost: u64,
    /// Messages deleted by retention (`retention`) before every group committed them.
    pub retention_deleted: u64,
    /// Messages acknowledged by the leader (acks=Leader) or not awaited (acks=None) and
    /// lost in a failover before they were replicated.
    pub failover_lost: u64,
    /// Messages lost in a failover before they were replicated whose producer waited
    /// for all replicas (acks=All): it got an error, not an ack.
    pub failover_unacked: u64,
    /// Messages still in the log, not committed by every group, at the end.
    pub held_end: u64,
    /// What its producers' send buffers did (`buffer` on a `Publish`); left out when no
    /// producer to it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_buffer: Option<ProducerBufferSummary>,
    /// Per-key order (issue #22 item 4), on topics with status updates or produce retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering: Option<OrderingSummary>,
    /// Consumer groups by consuming service.
    pub groups: BTreeMap<String, GroupSummary>,
}

/// How a topic kept the order of each key's records (`topics.<t>.ordering`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OrderingSummary {
    /// Records whose produce failed retriably and was sent again after `retry.backoff.ms`.
    pub produce_retries: u64,
    /// Records of a key first delivered after a later record of that key (counted by
    /// the topic's first consumer group: every group reads the same partition order).
    pub out_of_order: u64,
    /// Orders whose status update reached the consumer before their own record.
    pub update_before_create: u64,
}

/// A topic's producer send buffers (`mech::producer`), summed over its producers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProducerBufferSummary {
    /// Records that waited in a buffer because the broker could not take them at once.
    pub buffered: u64,
    /// The most records one buffer held at once.
    pub held_max: u64,
    /// Sends that found the buffer full and blocked their request's thread (or threw at
    /// once with `max_block` 0).
    pub blocked: u64,
    /// Of those, sends that threw after `max_block`: the request failed, nothing sent.
    pub block_timeouts: u64,
    /// Records dropped because the buffer was full (`on_full: Shed`); counted in
    /// `publish_lost` too.
    pub shed: u64,
    /// Buffered records not delivered within `delivery_timeout`; in `publish_lost` too.
    pub expired: u64,
    /// Records still in a buffer at the end.
    pub held_end: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupSummary {
    pub delivered: u64,
    /// Deliveries of an offset delivered before (retries after failures and replays
    /// after a consumer died).
    pub redelivered: u64,
    pub processed: u64,
    pub failed: u64,
    /// Skipped by the idempotent consumer: already processed.
    pub deduplicated: u64,
    pub dlq: u64,
    pub dropped: u64,
    /// Fetches whose request or response a `LinkLoss` dropped: the consumer waited out
    /// the fetch timeout and fetched the same offset again.
    #[serde(skip_serializing_if = "is_zero")]
    pub refetched: u64,
    /// Times the group stopped to move partitions (a consumer died, left or joined).
    pub rebalances: u64,
    /// Messages deleted by retention before this group read them: it skipped them.
    pub retention_skipped: u64,
    /// Largest and final lag (messages appended and not yet committed).
    pub lag_max: u64,
    pub lag_end: u64,
    /// The same lag in seconds: the age of the oldest message appended and not yet
    /// committed by the group, largest over the run and at its end.
    pub lag_s_max: f64,
    pub lag_s_end: f64,
    /// Time in the topic: from a message's append until the group first delivered it to
    /// a consumer, for messages appended after the warmup.
    pub wait_ms: Latency,
}

/// A table of numbers: named columns, one row per window.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    pub columns: Vec<String>,
    /// Row-major: `rows.len() == row_count * columns.len()`.
    pub values: Vec<f64>,
}

/// Column positions of a [`TimeSeries`] by name (first of repeats, as a search would find).
pub struct ColumnIndex<'a>(std::collections::BTreeMap<&'a str, usize>);

impl ColumnIndex<'_> {
    pub fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }
}

impl TimeSeries {
    pub fn row_count(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.values.len() / self.columns.len()
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.values.chunks(self.columns.len().max(1))
    }

    /// Every column's position by name, for reading many columns of a wide series: a
    /// search of the names per lookup is quadratic in the services.
    pub fn index(&self) -> ColumnIndex<'_> {
        ColumnIndex(
            self.columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect(),
        )
    }

    /// The values of one column, by name.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows().map(|r| r[i]).collect())
    }
}

/// The figures `platsim trace FILE` prints, for the traces a run kept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TracesSummary {
    /// Traces kept (a request's tree, with the pieces its messages started).
    pub traces: u64,
    /// Of which a span failed on the critical path.
    pub failed: u64,
    /// End-to-end time of the critical paths.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The service with the most time on the critical paths at or above the p99.
    pub who_made_p99: Option<String>,
    /// Those paths' time, summed per service.
    pub p99_paths: BTreeMap<String, PathParts>,
    /// The slowest traces, slowest first.
    pub slowest: Vec<SlowTrace>,
}

/// Time on critical paths, split by what it was spent on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathParts {
    pub total_ms: f64,
    pub own_work_ms: f64,
    /// For a server, or for a bulkhead slot, a rate limiter's permit or a connection.
    pub queueing_ms: f64,
    /// In a call not explained by the callee (link delays, lost answers).
    pub calls_wait_ms: f64,
    pub backoff_ms: f64,
    /// Of all the paths' time.
    pub share: f64,
}

/// One slow trace: its id (as in the trace file), time and critical path.
#[derive(Debug, Clone, Serialize)]
pub struct SlowTrace {
    pub trace: String,
    pub total_ms: f64,
    pub failed: bool,
    pub path: Vec<String>,
}

/// Serde's test for counters that only fault scenarios fill (absent elsewhere).
fn is_zero(n: &u64) -> bool {
    *n == 0
}
