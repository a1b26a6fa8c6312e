//! The raw scenario, one-to-one with what the user wrote in RON.
//!
//! Nothing here is checked beyond its shape: durations are still strings, names are still
//! names. `crate::model` validates a `Spec` into a `Platform` and reports every problem
//! with its path. Every struct denies unknown fields, so a typo is an error, never a
//! silently ignored setting.

use serde::{Deserialize, Serialize};

fn one_u32() -> u32 {
    1
}
fn one_u64() -> u64 {
    1
}
fn zero_duration() -> String {
    "0s".to_string()
}
fn one_second() -> String {
    "1s".to_string()
}

/// A whole scenario: `Scenario(name: ..., duration: ..., services: [...], workload: [...])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Scenario", deny_unknown_fields)]
pub struct Spec {
    /// Names the run in reports and in the default output folder.
    pub name: String,
    /// Seed of every random stream; `--seed` overrides it.
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// Virtual time to simulate.
    pub duration: String,
    /// Requests arriving earlier are left out of the statistics.
    #[serde(default = "zero_duration")]
    pub warmup: String,
    /// Width of one time-series bucket.
    #[serde(default = "one_second")]
    pub window: String,
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub workload: Vec<WorkloadSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// The network between services: a link's base latency. Default none: a call
    /// reaches its callee at once, as on one host.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// How fault verdicts decide that the platform recovered.
    #[serde(default)]
    pub recovery_check: RecoveryCheckSpec,
    /// How services come back after an outage.
    #[serde(default)]
    pub recovery: RecoverySpec,
    /// After `duration`, arrivals stop and the run goes on this long so that work in
    /// flight can finish. Default: "30s" when the scenario has orders, queues or
    /// brokers, else "0s" (so plain queueing runs end exactly at `duration`).
    #[serde(default)]
    pub drain: Option<String>,
    /// The order ledger: which client requests are orders and which steps complete them.
    #[serde(default)]
    pub orders: Option<OrdersSpec>,
    /// Job queues (Redis lists) that services push to and worker pools pull from.
    #[serde(default)]
    pub queues: Vec<JobQueueSpec>,
    /// Kafka-like brokers with their topics.
    #[serde(default)]
    pub brokers: Vec<BrokerSpec>,
    /// Kubernetes nodes the pods run on (`NodeKill` faults take one down).
    #[serde(default)]
    pub nodes: Option<NodesSpec>,
    /// Kubernetes rolling updates and rollbacks, in time order.
    #[serde(default)]
    pub deployments: Vec<DeploymentSpec>,
    /// The budget of `platsim explore` (failure search); `platsim run` ignores it.
    #[serde(default)]
    pub explore: Option<ExploreSpec>,
}

/// `Explore(max_faults: 3, max_duration: "30s", max_share: 0.5, from: "10s", until: "50s")`:
/// what `platsim explore` may add to the scenario. Each field defaults as said below and
/// the command line overrides it (see `crate::explore::Budget`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename = "Explore", deny_unknown_fields)]
pub struct ExploreSpec {
    /// Most faults in one schedule (default 3).
    #[serde(default)]
    pub max_faults: Option<u32>,
    /// Longest fault (default a quarter of `duration`).
    #[serde(default)]
    pub max_duration: Option<String>,
    /// Most of the platform (services and brokers) under faults at once, in 0..1
    /// (default 1.0: a whole-platform outage is allowed).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// Faults start at or after this (default the warmup).
    #[serde(default)]
    pub from: Option<String>,
    /// Faults end by this (default `duration`).
    #[serde(default)]
    pub until: Option<String>,
}

/// A rolling update of a service's pods, or its rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DeploymentSpec {
    /// `Deploy(service: "api", at: "5m", version: Version(error_rate: Some(0.2)))`: new
    /// pods replace the old ones, at most `max_surge` above the replicas and at most
    /// `max_unavailable` below (counts, or percentages: surge rounds up, unavailable
    /// down; Kubernetes' defaults 25% and 25%). With `rollback_on_alert`, the page-fast
    /// burn-rate alert on the service's availability objective rolls it back.
    Deploy {
        service: String,
        at: String,
        version: VersionSpec,
        #[serde(default = "quarter")]
        max_surge: String,
        #[serde(default = "quarter")]
        max_unavailable: String,
        #[serde(default)]
        rollback_on_alert: bool,
    },
    /// Rolls the service back to the version before its last deployment.
    Rollback { service: String, at: String },
}

fn quarter() -> String {
    "25%".to_string()
}

/// What a version changes; unset fields keep the service's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Version", deny_unknown_fields)]
pub struct VersionSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub error_rate: Option<f64>,
    #[serde(default)]
    pub service_time: Option<DistSpec>,
}

/// `Orders(entry: "api", steps: ["payment", "notification"])`: every client request sent
/// to `entry` is an order; it is complete once every step service has succeeded on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Orders", deny_unknown_fields)]
pub struct OrdersSpec {
    pub entry: String,
    #[serde(default)]
    pub steps: Vec<String>,
    /// An orchestrated saga over the steps.
    #[serde(default)]
    pub saga: Option<SagaSpec>,
    /// Two-phase commit over the steps, run by a coordinator service.
    #[serde(default)]
    pub two_phase: Option<TwoPhaseSpec>,
}

/// `TwoPhase(coordinator: "order-coordinator")`: the coordinator's request for an order
/// prepares every step (its calls); each participant holds one of its servers (a
/// connection, the row locks) while prepared, until the coordinator commits (its request
/// succeeded) or aborts. A coordinator that crashes in between leaves its participants
/// blocked until it is back and reads its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "TwoPhase", deny_unknown_fields)]
pub struct TwoPhaseSpec {
    pub coordinator: String,
    /// The second phase: from the commit decision logged until every participant has
    /// committed (`COMMIT PREPARED` sent, done, acknowledged). Default 1 ms, one round trip
    /// and a participant's commit inside a data centre; a crash inside it leaves the
    /// participants in doubt, to be committed when the coordinator is back.
    #[serde(default = "one_ms")]
    pub commit_delay: String,
}

fn one_ms() -> String {
    "1ms".to_string()
}

/// `Saga(orchestrator: "order-saga", compensate: true, max_attempts: 5, backoff: "1s")`:
/// when the orchestrator's request for an order fails, every step done so far is
/// compensated by a command to its service, retried up to `max_attempts` times with
/// `backoff` between attempts (`compensate: false`: nothing is undone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Saga", deny_unknown_fields)]
pub struct SagaSpec {
    pub orchestrator: String,
    #[serde(default = "yes")]
    pub compensate: bool,
    #[serde(default = "three")]
    pub max_attempts: u32,
    #[serde(default = "one_second")]
    pub backoff: String,
}

/// `JobQueue(name: "jobs", reliable: false, visibility_timeout: "30s")`: a Redis list.
/// Plain (`reliable: false`): workers BRPOP, a job leaves the list when taken (a worker
/// that dies mid-job loses it). Reliable: workers BLMOVE it to a processing list, and a
/// job not acknowledged within `visibility_timeout` is put back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "JobQueue", deny_unknown_fields)]
pub struct JobQueueSpec {
    pub name: String,
    #[serde(default)]
    pub reliable: bool,
    #[serde(default = "thirty_seconds")]
    pub visibility_timeout: String,
    /// Deliveries of a failing job before it is parked (or dropped).
    #[serde(default = "five_u32")]
    pub max_deliveries: u32,
    /// Park jobs that failed `max_deliveries` times in a dead letter queue (else drop them).
    #[serde(default = "yes")]
    pub dlq: bool,
    /// The service that holds the list (a Redis). While none of its replicas is up, the
    /// queue is unavailable (a push fails its request, workers take nothing); when the
    /// last one dies, the list loses what `persistence` did not keep. Default: the list
    /// is held by nothing the scenario can crash.
    #[serde(default)]
    pub store: Option<String>,
    /// What the store keeps through a crash (only with a `store`). Default: Redis' own,
    /// `Rdb` snapshots by its default save rules.
    #[serde(default)]
    pub persistence: Option<PersistenceSpec>,
}

/// Redis persistence (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PersistenceSpec {
    /// No persistence: a crash loses everything.
    InMemory,
    /// Snapshots: `save: [("1h", 1)]` snapshots when an hour has passed since the last
    /// one and at least 1 write was made (Redis `save 3600 1`); a crash goes back to the
    /// last snapshot. Default rules: Redis' `save 3600 1 300 100 60 10000`.
    Rdb {
        #[serde(default = "redis_save_rules")]
        save: Vec<(String, u64)>,
    },
    /// Append-only file fsynced every second: a crash loses at most the last second.
    AofEverysec,
    /// Append-only file fsynced on every write: a crash loses nothing.
    AofAlways,
}

fn redis_save_rules() -> Vec<(String, u64)> {
    vec![
        ("1h".to_string(), 1),
        ("5m".to_string(), 100),
        ("1m".to_string(), 10_000),
    ]
}

fn thirty_seconds() -> String {
    "30s".to_string()
}
fn five_u32() -> u32 {
    5
}
fn yes() -> bool {
    true
}

/// `Broker(name: "kafka", durability: Durable, topics: [Topic(name: "orders", partitions: 6)])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Broker", deny_unknown_fields)]
pub struct BrokerSpec {
    pub name: String,
    #[serde(default)]
    pub durability: DurabilitySpec,
    /// How long a message takes to reach the followers after the leader appended it:
    /// consumers see it only then (the high watermark), acks=All producers wait for it,
    /// and a restart (leader failover) loses what was not replicated yet. Default "0s":
    /// followers keep up instantly.
    #[serde(default = "zero_duration")]
    pub replication_lag: String,
    pub topics: Vec<TopicSpec>,
}

/// Replicated and flushed (a restart loses nothing) or held in memory (a restart loses
/// every message it held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DurabilitySpec {
    #[default]
    Durable,
    InMemory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Topic", deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    #[serde(default = "one_u32")]
    pub partitions: u32,
    /// Kafka `retention.ms`: messages older than this are deleted, consumed or not
    /// (default 7 days, Kafka's `log.retention.hours = 168`).
    #[serde(default = "seven_days")]
    pub retention: String,
}

fn seven_days() -> String {
    "7d".to_string()
}

/// `Publish(topic: "orders", acks: All, idempotent: false, outbox: false)`: after a
/// successful request, the service publishes one message (key: the order id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Publish", deny_unknown_fields)]
pub struct PublishSpec {
    pub topic: String,
    #[serde(default)]
    pub acks: AcksSpec,
    /// The broker drops duplicate appends of the same message (Kafka idempotent producer).
    #[serde(default)]
    pub idempotent: bool,
    /// Transactional outbox: the message is written with the state change and a relay
    /// publishes it `relay_delay` later (and again after each failure).
    #[serde(default)]
    pub outbox: bool,
    #[serde(default = "hundred_ms")]
    pub relay_delay: String,
    /// The producer's send buffer (Kafka `buffer.memory`, `max.block.ms`); `None`: a
    /// send to an unreachable broker fails (or is lost) at once, as before buffers.
    #[serde(default)]
    pub buffer: Option<ProducerBufferSpec>,
    /// Kafka `max.in.flight.requests.per.connection` (Kafka's default 5): above 1, a
    /// record retried after a retriable error lands behind the later records sent
    /// meanwhile, unless the producer is idempotent.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Status updates of the order published after its record, with the same key (the
    /// order id), by the same producer; their consumers do not do the step again.
    #[serde(default)]
    pub updates: u32,
}

/// `ProducerBuffer(records: 5000, max_block: "60s", delivery_timeout: "120s", on_full:
/// Block)`: records wait here while the broker cannot take them (Kafka producer configs).
/// `records` stands for `buffer.memory` over the record size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ProducerBuffer", deny_unknown_fields)]
pub struct ProducerBufferSpec {
    pub records: u32,
    /// `max.block.ms`: how long `send` blocks for room before it throws (default 60 s).
    #[serde(default = "sixty_seconds")]
    pub max_block: String,
    /// `delivery.timeout.ms`: a buffered record not delivered this long after its send
    /// fails (default 120 s).
    #[serde(default = "two_minutes")]
    pub delivery_timeout: String,
    #[serde(default)]
    pub on_full: OnFullSpec,
}

fn two_minutes() -> String {
    "120s".to_string()
}

/// What a send does when the buffer is full: `Block` (Kafka: wait up to `max_block` for
/// room, then throw, failing the request) or `Shed` (drop the record at once and carry
/// on, as an application that catches the exception does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OnFullSpec {
    #[default]
    Block,
    Shed,
}

fn hundred_ms() -> String {
    "100ms".to_string()
}

/// Producer acknowledgements (semantics.md §5.1): `None` (fire and forget: a publish to a
/// broker that is down is silently lost, and so is one not yet replicated when the leader
/// fails), `Leader` (acknowledged once the leader has it: a failover before replication
/// loses it), `All` (acknowledged once every in-sync replica has it, `replication_lag`
/// later; a failed publish fails the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AcksSpec {
    None,
    Leader,
    #[default]
    All,
}

/// `Consume(topic: "orders", commit: AfterProcessing, auto_commit: None, max_deliveries: 5,
/// dlq: true, idempotent: false)`: the service is a consumer group on the topic, one
/// consumer per partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Consume", deny_unknown_fields)]
pub struct ConsumeSpec {
    pub topic: String,
    #[serde(default)]
    pub commit: CommitSpec,
    /// Commit positions every interval instead of after each message.
    #[serde(default)]
    pub auto_commit: Option<String>,
    #[serde(default = "five_u32")]
    pub max_deliveries: u32,
    #[serde(default = "yes")]
    pub dlq: bool,
    /// Skip messages whose id was already processed (recorded with the side effect).
    #[serde(default)]
    pub idempotent: bool,
    /// How long the group stops when a consumer dies, before its partitions move.
    #[serde(default = "three_seconds")]
    pub rebalance: String,
    /// Wait before delivering a failed message again (blocking retry with a fixed
    /// back-off, as Spring Kafka's `DefaultErrorHandler`; default none).
    #[serde(default = "zero_duration")]
    pub retry_delay: String,
    /// Count the topic's events over event-time windows (a stream job, issue #24).
    #[serde(default)]
    pub stream: Option<super::stream::StreamSpec>,
    /// Project the topic into a CQRS read model (issue #24).
    #[serde(default)]
    pub read_model: Option<super::readmodel::ReadModelSpec>,
}

fn three_seconds() -> String {
    "3s".to_string()
}

/// Commit the offset before processing (at-most-once) or after (at-least-once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CommitSpec {
    BeforeProcessing,
    #[default]
    AfterProcessing,
}

/// `Workers(queue: "jobs", count: 8)`: `count` workers per replica pull jobs from the queue
/// and process each as a request at this service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Workers", deny_unknown_fields)]
pub struct WorkersSpec {
    pub queue: String,
    #[serde(default = "one_u32")]
    pub count: u32,
}

/// How services cold start when power returns after an outage.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RecoverySpec {
    /// A service begins its startup once all its hard dependencies are ready.
    #[default]
    Orchestrated,
    /// All start at once; a service whose hard dependencies are not ready when its startup
    /// ends crashes and restarts after a back-off doubling from `initial` to `cap`
    /// (Kubernetes CrashLoopBackOff: 10s doubling to 5m).
    CrashLoop {
        #[serde(default = "ten_seconds")]
        initial: String,
        #[serde(default = "five_minutes")]
        cap: String,
    },
}

fn ten_seconds() -> String {
    "10s".to_string()
}
fn five_minutes() -> String {
    "5m".to_string()
}

/// When is a platform "back" after a fault: goodput within `goodput_tolerance` of the
/// pre-fault baseline and p99 latency at most `1 + latency_tolerance` times the baseline,
/// for `windows` consecutive time-series windows. Not back `metastable_after` the fault's
/// end: metastable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "RecoveryCheck", deny_unknown_fields, default)]
pub struct RecoveryCheckSpec {
    pub goodput_tolerance: f64,
    pub latency_tolerance: f64,
    pub windows: u32,
    pub metastable_after: String,
    /// Length of the baseline taken just before the fault.
    pub baseline: String,
}

impl Default for RecoveryCheckSpec {
    fn default() -> Self {
        RecoveryCheckSpec {
            goodput_tolerance: 0.1,
            latency_tolerance: 2.0,
            windows: 5,
            metastable_after: "60s".to_string(),
            baseline: "60s".to_string(),
        }
    }
}

/// One service: replicas of a station of `concurrency` servers with a waiting room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Service", deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    #[serde(default = "one_u32")]
    pub replicas: u32,
    /// Servers (threads, workers) per replica.
    #[serde(default = "one_u32")]
    pub concurrency: u32,
    /// Waiting room per replica; `None` is unbounded. A full room rejects arrivals.
    #[serde(default)]
    pub queue_capacity: Option<u32>,
    pub service_time: DistSpec,
    /// Time a request then waits off the CPU (disk, a blocking database driver, a sleep),
    /// still holding its server, before its calls. `service_time` is on-CPU work; waiting
    /// for calls and this are not: only on-CPU time counts toward a pod's CPU limit (CFS
    /// throttling) and the autoscaler's CPU utilisation. Default: none.
    #[serde(default)]
    pub io_time: Option<DistSpec>,
    /// Probability that a request ends in an error of the service's own.
    #[serde(default)]
    pub error_rate: f64,
    /// Downstream calls, made in order after the service time, holding the server.
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// How arrivals are spread over the replicas.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// Which waiting request a freed server takes.
    #[serde(default)]
    pub discipline: DisciplineSpec,
    /// Drop (shed) a request that waited longer than this for a server.
    #[serde(default)]
    pub queue_timeout: Option<String>,
    /// Drop a request whose propagated deadline has passed, instead of working for nobody.
    #[serde(default)]
    pub drop_expired: bool,
    /// Server-side token-bucket rate limit per replica; over it, requests are rejected (429).
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// Envoy's local rate limit filter in front of each replica: refused requests get 429.
    #[serde(default)]
    pub local_rate_limit: Option<LocalRateLimitSpec>,
    /// Adaptive limit on requests held per replica (Netflix concurrency-limits).
    #[serde(default)]
    pub concurrency_limit: Option<ConcurrencyLimitSpec>,
    /// A successful request changes the world (charges a card): retries may duplicate it.
    #[serde(default)]
    pub side_effect: bool,
    /// The service deduplicates by idempotency key: a side effect happens once per key.
    #[serde(default)]
    pub idempotent: bool,
    /// How long a cold start takes (after a crash or outage); default instant.
    #[serde(default)]
    pub startup: Option<DistSpec>,
    /// Services that must be ready before this one can start, besides its hard calls.
    #[serde(default)]
    pub startup_deps: Vec<String>,
    /// Its service level objectives (default: availability at the `Default` tier).
    #[serde(default)]
    pub slo: Option<SloSpec>,
    /// What it costs to run.
    #[serde(default)]
    pub cost: Option<CostSpec>,
    /// Who owns it and how it is run.
    #[serde(default)]
    pub governance: Option<GovernanceSpec>,
    /// After a successful request, push a job to this queue (LPUSH).
    #[serde(default)]
    pub push: Option<String>,
    /// A worker pool pulling jobs from a queue.
    #[serde(default)]
    pub workers: Option<WorkersSpec>,
    /// After a successful request, publish to these topics.
    #[serde(default)]
    pub publish: Vec<PublishSpec>,
    /// A consumer group on a topic.
    #[serde(default)]
    pub consume: Option<ConsumeSpec>,
    /// Kubernetes: its replicas are pods scaled by a Horizontal Pod Autoscaler;
    /// `replicas` is then the initial count.
    #[serde(default)]
    pub autoscale: Option<AutoscaleSpec>,
    /// Kubernetes: how its pods are scheduled, start, and stop (see `KubeSpec`).
    #[serde(default)]
    pub kubernetes: Option<KubeSpec>,
    /// A database's write path: a share of its requests are writes with their own
    /// service time and error rate.
    #[serde(default)]
    pub writes: Option<WritesSpec>,
    /// Its replicas are partitions of a key space (see `PartitioningSpec`).
    #[serde(default)]
    pub partitioning: Option<super::partition::PartitioningSpec>,
}

/// `Kube(scheduling: "2s", pod_startup: Constant("20s"), termination: Graceful(grace_period:
/// "30s", pre_stop: "5s"), endpoint_delay: "1s")`: a service's replicas are pods, each
/// pending (`scheduling`), then starting (`pod_startup`), then ready; a deleted pod
/// stops as `termination` says while the endpoint removal takes `endpoint_delay` to
/// reach the load balancers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Kube", deny_unknown_fields)]
pub struct KubeSpec {
    /// Pending: from creation until the pod is bound and its containers are created.
    #[serde(default = "zero_duration")]
    pub scheduling: String,
    /// Starting: from container start until the startup and readiness probes pass
    /// (overrides the autoscaler's `pod_startup`); default instant.
    #[serde(default)]
    pub pod_startup: Option<DistSpec>,
    #[serde(default)]
    pub termination: TerminationSpec,
    /// From a pod's deletion until load balancers stop sending to it (EndpointSlice
    /// update, kube-proxy sync); default 1 s.
    #[serde(default = "one_second")]
    pub endpoint_delay: String,
    /// CPU limit in cores: CFS bandwidth control gives the container `limit x 100 ms` of
    /// CPU time per 100 ms period, and throttles its threads once that is spent. Only
    /// on-CPU time counts (`service_time`; not `io_time`, not waiting for calls).
    /// Default: none.
    #[serde(default)]
    pub cpu_limit: Option<f64>,
    /// CPU request in cores: the autoscaler's CPU utilisation is on-CPU time over it.
    /// Default: the CPU limit if set (Kubernetes copies the limit), else one core per
    /// server (`concurrency`). At most the limit.
    #[serde(default)]
    pub cpu_request: Option<f64>,
    /// Memory limit in MB: a container above it is OOM-killed (what it holds fails) and
    /// restarted with CrashLoopBackOff. Default: none.
    #[serde(default)]
    pub memory_limit: Option<f64>,
    /// A fresh container's memory in MB (a `Leak` fault grows it).
    #[serde(default)]
    pub memory: f64,
    /// Liveness probe: after `failure_threshold` failures in a row the container is
    /// restarted. A probe fails while the pod is hung (`Hang`).
    #[serde(default)]
    pub liveness: Option<ProbeSpec>,
    /// Readiness probe: after `failure_threshold` failures in a row the pod leaves the
    /// endpoints until `success_threshold` successes in a row.
    #[serde(default)]
    pub readiness: Option<ProbeSpec>,
    /// Startup probe: probed every `period` from `initial_delay` until the container has
    /// started (`pod_startup`); `failure_threshold` failures first and the container is
    /// killed and restarted. Liveness and readiness wait for it.
    #[serde(default)]
    pub startup: Option<ProbeSpec>,
    /// Run the pods as a StatefulSet instead of a Deployment: stable names (`db-0`,
    /// `db-1`), ordered start and stop, one persistent volume per pod. Default: none.
    #[serde(default)]
    pub stateful: Option<StatefulSetSpec>,
}

/// `StatefulSet(pod_management: OrderedReady, volume: Local)`: Kubernetes' StatefulSet
/// (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/). Pod `name-N`
/// is created only once `name-0`..`name-(N-1)` are ready and a pod is replaced under its
/// own name only once the old one is gone; scale-down removes the highest ordinal first,
/// one at a time under `OrderedReady`. Each pod's volume (its PersistentVolumeClaim)
/// outlives its pod; a `Local` volume lives on its node's disk and dies with the node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename = "StatefulSet", deny_unknown_fields)]
pub struct StatefulSetSpec {
    /// `podManagementPolicy`: `OrderedReady` (Kubernetes' default) or `Parallel`.
    #[serde(default)]
    pub pod_management: PodManagementSpec,
    /// Where each pod's volume lives: `Network` (network-attached, the default
    /// StorageClass of the clouds: reattached wherever the pod runs) or `Local`.
    #[serde(default)]
    pub volume: VolumeSpec,
}

/// A StatefulSet's `podManagementPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodManagementSpec {
    #[default]
    OrderedReady,
    Parallel,
}

/// Where a StatefulSet pod's volume lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VolumeSpec {
    #[default]
    Network,
    /// A local PersistentVolume: the node's own disk, gone when the node is.
    Local,
}

/// `Probe(period: "10s", failure_threshold: 3)`: Kubernetes' probe fields and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Probe", deny_unknown_fields)]
pub struct ProbeSpec {
    #[serde(default = "zero_duration")]
    pub initial_delay: String,
    #[serde(default = "ten_seconds")]
    pub period: String,
    #[serde(default = "one_second")]
    pub timeout: String,
    #[serde(default = "one_u32")]
    pub success_threshold: u32,
    #[serde(default = "three")]
    pub failure_threshold: u32,
}

/// How a deleted pod stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TerminationSpec {
    /// preStop hook (a sleep), then SIGTERM: the pod refuses new requests and finishes
    /// what it holds; SIGKILL at `grace_period` (terminationGracePeriodSeconds, default
    /// 30 s, counted from the deletion) fails what is left.
    Graceful {
        #[serde(default = "thirty_seconds")]
        grace_period: String,
        #[serde(default = "zero_duration")]
        pre_stop: String,
    },
    /// Killed at once (`--grace-period=0 --force`, or a process that exits on SIGTERM):
    /// the requests in its hands fail.
    Abrupt,
}

impl Default for TerminationSpec {
    fn default() -> Self {
        TerminationSpec::Graceful {
            grace_period: thirty_seconds(),
            pre_stop: zero_duration(),
        }
    }
}

/// `Nodes(count: 3)`: the pods of every service are spread over `count` nodes (each new
/// pod goes to the live node with the fewest pods of its service, then the fewest pods).
/// A killed node's pods die at once; the node controller marks them not ready after
/// `not_ready_after` (node-monitor-grace-period, 40 s), and they are evicted and
/// replaced on the surviving nodes `evict_after` later (the default tolerationSeconds
/// of the unreachable taint, 300 s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Nodes", deny_unknown_fields)]
pub struct NodesSpec {
    pub count: u32,
    #[serde(default = "forty_seconds")]
    pub not_ready_after: String,
    #[serde(default = "five_minutes")]
    pub evict_after: String,
}

fn forty_seconds() -> String {
    "40s".to_string()
}

fn fifteen_seconds() -> String {
    "15s".to_string()
}
/// `Autoscale(min: 2, max: 20, metric: Cpu(target: 0.6))`: a Horizontal Pod Autoscaler
/// with Kubernetes' defaults (sync every 15 s, 5-minute scale-down stabilization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Autoscale", deny_unknown_fields)]
pub struct AutoscaleSpec {
    #[serde(default = "one_u32")]
    pub min: u32,
    pub max: u32,
    pub metric: AutoscaleMetricSpec,
    #[serde(default = "fifteen_seconds")]
    pub sync_period: String,
    #[serde(default = "five_minutes")]
    pub scale_down_stabilization: String,
    /// From pod creation to ready (scheduling, image pull, startup probe); default instant.
    #[serde(default)]
    pub pod_startup: Option<DistSpec>,
}

/// What the autoscaler keeps at its target, per ready pod.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum AutoscaleMetricSpec {
    /// Mean CPU utilisation (busy servers / servers), as a fraction: `Cpu(target: 0.6)`.
    Cpu { target: f64 },
    /// Requests per second per pod: `Rps(target: 100.0)`.
    Rps { target: f64 },
}

/// `Slo(tier: Critical, availability: Some(99.99), latency: Some(LatencySlo(threshold: "300ms", target: 99.0)))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Slo", deny_unknown_fields)]
pub struct SloSpec {
    #[serde(default)]
    pub tier: TierSpec,
    /// Target percentage of good requests; default the tier's.
    #[serde(default)]
    pub availability: Option<f64>,
    #[serde(default)]
    pub latency: Option<LatencySloSpec>,
    /// For a service that pulls work (workers or a consumer group): how old the oldest
    /// item waiting for it may get.
    #[serde(default)]
    pub queue_age: Option<QueueAgeSloSpec>,
}

/// `QueueAgeSlo(max_age: "30s", target: 99.0)`: the oldest job waiting in the service's
/// queue (or message its consumer group has not committed) is at most `max_age` old
/// throughout a window, in `target` percent of the windows after the warmup. The age of
/// the oldest message is the queue alert SREs set first (SQS
/// `ApproximateAgeOfOldestMessage`, Kafka lag in seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "QueueAgeSlo", deny_unknown_fields)]
pub struct QueueAgeSloSpec {
    pub max_age: String,
    /// Default: the tier's availability target.
    #[serde(default)]
    pub target: Option<f64>,
}

/// Service tiers with their default availability targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TierSpec {
    /// 99.99%.
    Critical,
    /// 99.9%.
    #[default]
    Default,
    /// 99%.
    NonCritical,
}

impl TierSpec {
    pub fn availability_target(self) -> f64 {
        match self {
            TierSpec::Critical => 99.99,
            TierSpec::Default => 99.9,
            TierSpec::NonCritical => 99.0,
        }
    }
}

/// Fraction of successful requests answered within `threshold`, in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "LatencySlo", deny_unknown_fields)]
pub struct LatencySloSpec {
    pub threshold: String,
    /// Default: the tier's availability target.
    #[serde(default)]
    pub target: Option<f64>,
}

/// `Cost(replica_hour: 0.05, per_million_requests: 0.2, monthly_budget: 100.0, history: [80.0, 95.0])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Cost", deny_unknown_fields)]
pub struct CostSpec {
    #[serde(default)]
    pub replica_hour: f64,
    #[serde(default)]
    pub per_million_requests: f64,
    /// 0: no budget.
    #[serde(default)]
    pub monthly_budget: f64,
    /// Earlier monthly costs, oldest first; the simulated month is appended as the latest.
    #[serde(default)]
    pub history: Vec<f64>,
}

/// `Governance(owner: Some("payments-team"), runbook: Some("https://..."), monitoring: true, ...)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename = "Governance", deny_unknown_fields, default)]
pub struct GovernanceSpec {
    pub owner: Option<String>,
    pub runbook: Option<String>,
    pub monitoring: bool,
    pub documentation: Option<String>,
    pub incident_response: Option<String>,
}

/// Order in which waiting requests are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DisciplineSpec {
    #[default]
    Fifo,
    /// Newest first: serves the requests whose clients are still waiting.
    Lifo,
    /// FIFO normally, LIFO while a standing queue exists (Facebook's adaptive LIFO).
    AdaptiveLifo,
}

/// `RateLimit(rate: 100.0, burst: 20)`: tokens per second and bucket size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "RateLimit", deny_unknown_fields)]
pub struct RateLimitSpec {
    pub rate: f64,
    #[serde(default = "one_u32")]
    pub burst: u32,
}

/// `LocalRateLimit(max_tokens: 100, tokens_per_fill: 100, fill_interval: "1s")`: Envoy's
/// local rate limit token bucket (`envoy.extensions.filters.http.local_ratelimit.v3`,
/// `type/v3/token_bucket.proto`): starts full, gains `tokens_per_fill` (default 1) every
/// `fill_interval`, never above `max_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "LocalRateLimit", deny_unknown_fields)]
pub struct LocalRateLimitSpec {
    pub max_tokens: u32,
    #[serde(default = "one_u32")]
    pub tokens_per_fill: u32,
    pub fill_interval: String,
}

/// Adaptive concurrency limit algorithms with the defaults of Netflix concurrency-limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ConcurrencyLimitSpec {
    Aimd {
        #[serde(default = "twenty")]
        initial: u32,
        #[serde(default = "twenty")]
        min: u32,
        #[serde(default = "two_hundred")]
        max: u32,
        #[serde(default = "backoff_ratio")]
        backoff_ratio: f64,
        #[serde(default = "five_seconds")]
        timeout: String,
    },
    Gradient2 {
        #[serde(default = "twenty")]
        initial: u32,
        #[serde(default = "twenty")]
        min: u32,
        #[serde(default = "two_hundred")]
        max: u32,
        #[serde(default = "smoothing")]
        smoothing: f64,
        #[serde(default = "four")]
        queue_size: u32,
        #[serde(default = "rtt_tolerance")]
        rtt_tolerance: f64,
        #[serde(default = "long_window")]
        long_window: u32,
    },
}

fn twenty() -> u32 {
    20
}
fn two_hundred() -> u32 {
    200
}
fn four() -> u32 {
    4
}
fn backoff_ratio() -> f64 {
    0.9
}
fn smoothing() -> f64 {
    0.2
}
fn rtt_tolerance() -> f64 {
    1.5
}
fn long_window() -> u32 {
    600
}

/// How a request picks one of a service's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BalancerSpec {
    /// Each replica in turn.
    #[default]
    RoundRobin,
    /// A uniformly random replica.
    Random,
    /// The less loaded of two random replicas (power of two choices), by requests held.
    LeastOutstanding,
}

/// A downstream call: `Call(to: "payment", dependency: Hard, timeout: Some("2s"))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Call", deny_unknown_fields)]
pub struct CallSpec {
    pub to: String,
    #[serde(default)]
    pub dependency: DependencySpec,
    /// How long the caller waits for the answer; the callee keeps working past it.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Retry failed attempts.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Fail fast while the callee keeps failing (Resilience4j semantics).
    #[serde(default)]
    pub breaker: Option<BreakerSpec>,
    /// Bound concurrent calls on this edge (Resilience4j semaphore bulkhead).
    #[serde(default)]
    pub bulkhead: Option<BulkheadSpec>,
    /// Share of requests that make this call (a call made only on some code paths).
    #[serde(default = "one_f64")]
    pub probability: f64,
    /// The caller's connection pool to the callee, one per caller replica (HikariCP).
    #[serde(default)]
    pub pool: Option<PoolSpec>,
    /// Cache-aside: look the answer up in a cache service first; call on a miss.
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    /// What to do when the call fails in the end: serve a default, or ask another service.
    #[serde(default)]
    pub fallback: Option<FallbackSpec>,
    /// How retry, breaker and bulkhead nest.
    #[serde(default)]
    pub order: OrderSpec,
    /// Resilience4j's rate limiter on this edge, inside the breaker, outside the bulkhead.
    #[serde(default)]
    pub rate_limiter: Option<RateLimiterSpec>,
    /// A timeout that follows the call's recent latencies (see `AdaptiveTimeoutSpec`).
    #[serde(default)]
    pub adaptive_timeout: Option<super::AdaptiveTimeoutSpec>,
}

/// `RateLimiter(limit_for_period: 50, refresh_period: "500ns", timeout: "5s")`:
/// Resilience4j's `AtomicRateLimiter` with its defaults (`RateLimiterConfig`). A call that
/// finds no permit waits for the cycle that covers it if that is at most `timeout` away;
/// otherwise it waits `timeout` and is refused (`RequestNotPermitted`, seen as a 429).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "RateLimiter", deny_unknown_fields)]
pub struct RateLimiterSpec {
    #[serde(default = "fifty_u32")]
    pub limit_for_period: u32,
    #[serde(default = "five_hundred_ns")]
    pub refresh_period: String,
    #[serde(default = "five_seconds")]
    pub timeout: String,
}

fn fifty_u32() -> u32 {
    50
}
fn five_hundred_ns() -> String {
    "500ns".to_string()
}
fn five_seconds() -> String {
    "5s".to_string()
}

/// How a call's decorators nest, outermost first.
///
/// - `Resilience4j` (default): Spring Boot's aspect order
///   `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call)))))`
///   (`resilience4j-spring-boot`'s `*AspectOrder` defaults). The breaker times the whole
///   inner chain, bulkhead wait included, and the retry sees the breaker's
///   `CallNotPermittedException` and the `BulkheadFullException` as failures it retries
///   when `retry_on` has `Rejected`. The call's `timeout` is the TimeLimiter: it runs
///   from the bulkhead wait on (the rate limiter's wait is outside it).
/// - `Envoy`: the router's order. Each try is timed from when it leaves for the upstream
///   (the per-try timeout leaves out any bulkhead wait), and a local overflow (open breaker, full bulkhead) is never retried: Envoy's
///   `RetryStateImpl::wouldRetryFromReset` answers `NoRetry` to an overflow reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OrderSpec {
    #[default]
    Resilience4j,
    Envoy,
}

fn thirty_seconds_pool() -> String {
    "30s".to_string()
}

/// `Pool(max_size: 10, connection_timeout: "30s")`: each replica of the caller holds its
/// own pool of connections to the callee (a database), with HikariCP's defaults
/// (`maximumPoolSize` 10, `connectionTimeout` 30 s). A call holds a connection for its
/// whole attempt; with none free it waits, and past `connection_timeout` it fails
/// (HikariCP's `SQLTransientConnectionException`) without reaching the callee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Pool", deny_unknown_fields)]
pub struct PoolSpec {
    #[serde(default = "ten_u32")]
    pub max_size: u32,
    #[serde(default = "thirty_seconds_pool")]
    pub connection_timeout: String,
}

fn hundred_thousand() -> u32 {
    100_000
}

/// `Cache(service: "redis", keys: 100000, zipf: 1.0, ttl: Some("5m"), coalesce: false)`:
/// cache-aside in front of the call. Each call reads one key, drawn from `keys` keys whose
/// popularity follows Zipf's law with exponent `zipf` (0: all equally popular). The
/// lookup is a request to `service`; a hit there answers the call. A miss, or a lookup
/// that fails (the cache is down, slow or erring), makes the call to the backing store,
/// and a success writes the key back (a request to `service` too) for `ttl` (None: no
/// expiry, Redis' default). A cache that crashes (all replicas) or goes through an outage
/// comes back empty, as caches run without persistence do; the hit ratio then warms up
/// again as keys are refilled. With `coalesce`, concurrent misses of one key wait for the
/// first one's backing call and share its answer (single flight).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Cache", deny_unknown_fields)]
pub struct CacheSpec {
    pub service: String,
    #[serde(default = "hundred_thousand")]
    pub keys: u32,
    #[serde(default = "one_f64")]
    pub zipf: f64,
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default)]
    pub coalesce: bool,
    /// How long a lookup may take before it counts as a miss (the client's command
    /// timeout); None: as long as it takes.
    #[serde(default)]
    pub timeout: Option<String>,
}

/// `Default`: a failed call is answered with a default value (the request is `degraded`,
/// not failed). `Service("name")`: a failed call asks that service instead (one attempt,
/// within the call's timeout); its success is degraded, its failure fails the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FallbackSpec {
    Default,
    Service(String),
}

/// `Writes(from: ["orders-api"], service_time: LogNormal(median: "8ms", p99: "60ms"), error_rate: 0.001)`:
/// a database's write path. Requests from the services in `from` are writes, and of the
/// others a `share`; writes have their own service time and error rate (the service's
/// own are the reads').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Writes", deny_unknown_fields)]
pub struct WritesSpec {
    #[serde(default)]
    pub from: Vec<String>,
    #[serde(default)]
    pub share: f64,
    pub service_time: DistSpec,
    #[serde(default)]
    pub error_rate: f64,
    /// PostgreSQL's `synchronous_commit`: on (the default), a commit waits for its WAL
    /// flush (and for the followers `replication` asks for); off, it returns at once and
    /// a crash loses the commits of the WAL writer's last cycle (200 ms).
    #[serde(default = "yes")]
    pub synchronous_commit: bool,
    /// Followers that the writes stream to, and the failover to one of them.
    #[serde(default)]
    pub replication: Option<ReplicationSpec>,
}

/// `Replication(mode: Async, followers: 2, lag: LogNormal(median: "20ms", p99: "400ms"),
/// failover_after: "30s")`: a leader and `followers` that apply its writes a `lag` after
/// each commit. A leader crash longer than `failover_after` promotes a follower; with
/// `Async` the writes it had not applied are lost though acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Replication", deny_unknown_fields)]
pub struct ReplicationSpec {
    #[serde(default)]
    pub mode: ReplicationMode,
    #[serde(default = "one_u32")]
    pub followers: u32,
    /// From a commit on the leader until a follower has applied it.
    pub lag: DistSpec,
    /// From the leader's crash until a follower takes over (detection and promotion;
    /// Patroni's leader key `ttl`, 30 s, by default).
    #[serde(default = "thirty_s")]
    pub failover_after: String,
    /// Where reads go: `Leader` (the default) or `Followers` (read replicas), where they
    /// can miss writes not applied yet (counted as stale reads and read-your-writes
    /// violations).
    #[serde(default)]
    pub reads: ReadsFrom,
}

/// Which servers a replicated database's reads go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReadsFrom {
    #[default]
    Leader,
    /// One follower per read, drawn uniformly (a load balancer over read replicas).
    Followers,
}

/// When a commit is acknowledged: `Async` at once (PostgreSQL's default), `SemiSync` when
/// one follower has it (MySQL semi-synchronous), `Sync` when every follower has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReplicationMode {
    #[default]
    Async,
    SemiSync,
    Sync,
}

fn thirty_s() -> String {
    "30s".to_string()
}

fn one_f64() -> f64 {
    1.0
}

/// `Retry(max_attempts: 4, backoff: Exponential(base: "100ms", multiplier: 2.0, cap: "5s"),
/// jitter: Full, retry_on: [Timeout, Error, Rejected])`. Defaults are Resilience4j's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Retry", deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts including the first.
    #[serde(default = "three")]
    pub max_attempts: u32,
    #[serde(default = "default_backoff")]
    pub backoff: BackoffSpec,
    #[serde(default)]
    pub jitter: JitterSpec,
    #[serde(default = "retry_on_all")]
    pub retry_on: Vec<RetryOnSpec>,
    /// Envoy retry budget: retries at most `percent` of active requests (at least `min_concurrency`).
    #[serde(default)]
    pub budget: Option<RetryBudgetSpec>,
    /// gRPC retry throttling: a token bucket that stops retries while failures dominate.
    #[serde(default)]
    pub throttle: Option<RetryThrottleSpec>,
}

fn three() -> u32 {
    3
}
fn default_backoff() -> BackoffSpec {
    BackoffSpec::Constant("500ms".to_string())
}
fn retry_on_all() -> Vec<RetryOnSpec> {
    vec![
        RetryOnSpec::Timeout,
        RetryOnSpec::Error,
        RetryOnSpec::Rejected,
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum BackoffSpec {
    /// Retry at once.
    None,
    Constant(String),
    Exponential {
        base: String,
        #[serde(default = "two")]
        multiplier: f64,
        cap: String,
        /// 0: the first retry sleeps `base`; 1: `base × multiplier` (the AWS blog's `n = 1`).
        #[serde(default)]
        first_power: u32,
    },
    /// Envoy's router backoff: retry `k` sleeps `min(random % ((2^k − 1) × base), max)`;
    /// `max` defaults to 10 × base.
    Envoy {
        #[serde(default = "twenty_five_ms")]
        base: String,
        #[serde(default)]
        max: Option<String>,
    },
}

fn twenty_five_ms() -> String {
    "25ms".to_string()
}

fn two() -> f64 {
    2.0
}

/// The AWS jitter formulas, and Resilience4j's randomization factor.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum JitterSpec {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
    /// `Randomized(0.5)`: `U(t(1 − f), t(1 + f))` (Resilience4j's `randomizationFactor`).
    Randomized(f64),
}

/// Which failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryOnSpec {
    Timeout,
    Error,
    Rejected,
    /// Any failed attempt that ended with this HTTP status, whatever its kind
    /// (Resilience4j `retryOnResult`, Envoy `retriable-status-codes`): see
    /// `mech::retry::status_of` for the status of each outcome.
    Status(u16),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Budget", deny_unknown_fields)]
pub struct RetryBudgetSpec {
    #[serde(default = "budget_percent")]
    pub percent: f64,
    #[serde(default = "three")]
    pub min_concurrency: u32,
}

fn budget_percent() -> f64 {
    20.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Throttle", deny_unknown_fields)]
pub struct RetryThrottleSpec {
    #[serde(default = "ten")]
    pub max_tokens: f64,
    #[serde(default = "token_ratio")]
    pub token_ratio: f64,
}

fn ten() -> f64 {
    10.0
}
fn token_ratio() -> f64 {
    0.1
}

/// `Breaker(window: Count(100), failure_rate: 50.0, ...)`, Resilience4j defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Breaker", deny_unknown_fields)]
pub struct BreakerSpec {
    #[serde(default = "default_window")]
    pub window: BreakerWindowSpec,
    #[serde(default = "fifty")]
    pub failure_rate: f64,
    #[serde(default = "hundred")]
    pub slow_call_rate: f64,
    #[serde(default = "sixty_seconds")]
    pub slow_call_duration: String,
    #[serde(default = "hundred_u32")]
    pub min_calls: u32,
    #[serde(default = "sixty_seconds")]
    pub wait_open: String,
    #[serde(default = "ten_u32")]
    pub half_open_calls: u32,
    /// `automaticTransitionFromOpenToHalfOpenEnabled`: HALF_OPEN at exactly the end of the
    /// wait, not at the first call after it.
    #[serde(default)]
    pub automatic_transition: bool,
    /// `maxWaitDurationInHalfOpenState`: back to OPEN if the trial calls have not decided
    /// by then; "0s" waits forever.
    #[serde(default = "zero_duration")]
    pub max_wait_half_open: String,
    /// `waitIntervalFunctionInOpenState` as exponential backoff: each consecutive open
    /// waits this many times longer (1.0 = fixed `wait_open`).
    #[serde(default = "one_f64")]
    pub wait_open_multiplier: f64,
    /// The longest open wait the multiplier reaches; None = unbounded.
    #[serde(default)]
    pub wait_open_cap: Option<String>,
    /// `recordExceptions`: failed outcomes that count as failures; the others count as
    /// successes.
    #[serde(default = "retry_on_all")]
    pub record_on: Vec<RetryOnSpec>,
    /// `ignoreExceptions`: failed outcomes recorded as nothing (checked before `record_on`).
    #[serde(default)]
    pub ignore_on: Vec<RetryOnSpec>,
}

fn default_window() -> BreakerWindowSpec {
    BreakerWindowSpec::Count(100)
}
fn fifty() -> f64 {
    50.0
}
fn hundred() -> f64 {
    100.0
}
fn hundred_u32() -> u32 {
    100
}
fn ten_u32() -> u32 {
    10
}
fn sixty_seconds() -> String {
    "60s".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BreakerWindowSpec {
    /// The last N calls.
    Count(u32),
    /// The calls of the last N whole seconds: `Time("60s")`.
    Time(String),
}

/// `Bulkhead(max_concurrent: 25, max_wait: "0s")`, Resilience4j defaults (`max_concurrent:
/// 0` refuses every call, as `maxConcurrentCalls(0)` does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Bulkhead", deny_unknown_fields)]
pub struct BulkheadSpec {
    #[serde(default = "twenty_five")]
    pub max_concurrent: u32,
    #[serde(default = "zero_duration")]
    pub max_wait: String,
}

fn twenty_five() -> u32 {
    25
}

/// Whether the caller fails (`Hard`) or carries on degraded (`Soft`) when the call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DependencySpec {
    #[default]
    Hard,
    Soft,
}

/// Every attempt of a call from `from` to `to` reaches the callee `latency` later (the
/// wire's one-way delay, plus the answer's, folded into one draw). Ends as for link
/// faults: services, `node/N`, pods (`api/0`), or a broker and a producer (its acks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Link", deny_unknown_fields)]
pub struct LinkSpec {
    pub from: String,
    pub to: String,
    pub latency: DistSpec,
}

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DistSpec {
    /// Always the same value: `Constant("10ms")`.
    Constant(String),
    /// Memoryless: `Exponential(mean: "10ms")`.
    Exponential { mean: String },
    /// Uniform on [min, max]: `Uniform(min: "2s", max: "5s")`.
    Uniform { min: String, max: String },
    /// Log-normal given by its median and 99th percentile: `LogNormal(median: "5ms", p99: "50ms")`.
    LogNormal { median: String, p99: String },
    /// Sum of `k` exponential phases with total mean `mean`: `Erlang(k: 3, mean: "30ms")`.
    Erlang { k: u32, mean: String },
}

/// A source of client requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum WorkloadSpec {
    /// Poisson arrivals at `rate` per second, optionally following a schedule.
    Open {
        target: String,
        rate: f64,
        #[serde(default)]
        name: Option<String>,
        /// Changes of rate over time: steps and linear ramps.
        #[serde(default)]
        schedule: Vec<RateChangeSpec>,
        /// The client's own timeout per attempt: it stops waiting (the platform does not).
        #[serde(default)]
        timeout: Option<String>,
        /// The client retries failed attempts.
        #[serde(default)]
        retry: Option<RetrySpec>,
        /// A client-side breaker: fail fast while the target keeps failing.
        #[serde(default)]
        breaker: Option<BreakerSpec>,
        /// How the client's retry and breaker nest.
        #[serde(default)]
        order: OrderSpec,
        /// An overall deadline across all attempts (gRPC deadline, Envoy route timeout),
        /// propagated with each attempt; `timeout` stays the per-attempt timeout.
        #[serde(default)]
        deadline: Option<String>,
    },
    /// `users` clients, each sending a request, waiting for the answer, then thinking.
    Closed {
        target: String,
        users: u32,
        think_time: DistSpec,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        timeout: Option<String>,
        #[serde(default)]
        retry: Option<RetrySpec>,
        #[serde(default)]
        breaker: Option<BreakerSpec>,
        #[serde(default)]
        order: OrderSpec,
        #[serde(default)]
        deadline: Option<String>,
    },
}

/// One change of an open workload's rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RateChangeSpec {
    /// From `at` on, the rate is `rate`.
    Step { at: String, rate: f64 },
    /// From `at`, the rate moves linearly to `to`, reaching it after `over`.
    Ramp { at: String, to: f64, over: String },
}

/// A fault injected at `at` for `duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// Replicas die (all, or the first `replicas`): requests in their hands fail, arrivals
    /// go to the others or are refused; they come back when the fault ends.
    Crash {
        target: String,
        at: String,
        duration: String,
        #[serde(default)]
        replicas: Option<u32>,
    },
    /// The service freezes (a long GC pause): no work progresses, the queue grows, then it
    /// resumes where it was.
    Pause {
        target: String,
        at: String,
        duration: String,
    },
    /// Service times started during the fault take `add` longer.
    Latency {
        target: String,
        at: String,
        duration: String,
        add: DistSpec,
    },
    /// Requests served during the fault also fail with probability `rate`.
    Errors {
        target: String,
        at: String,
        duration: String,
        rate: f64,
        /// The HTTP status of the injected errors (what `retry_on: [Status(..)]` sees);
        /// default 500.
        #[serde(default)]
        status: Option<u16>,
    },
    /// The service runs at `factor` of its speed (service times divided by it).
    Capacity {
        target: String,
        at: String,
        duration: String,
        factor: f64,
    },
    /// The cache service `target` loses every key at `at` (FLUSHALL, or an eviction storm)
    /// without going down: the calls that cache in it miss until their keys are refilled.
    Flush {
        target: String,
        at: String,
        #[serde(default = "one_ns")]
        duration: String,
    },
    /// `rate` extra client requests per second at the workload that targets `target`.
    Spike {
        target: String,
        at: String,
        duration: String,
        rate: f64,
    },
    /// The platform loses power: every service crashes and every broker goes down (an
    /// in-memory one empties; a durable one keeps what its followers had), and each comes
    /// back by its own rules when the fault ends. The filters narrow it to the union of
    /// what they name; with none, it is the whole platform.
    Outage {
        at: String,
        duration: String,
        /// Only these services (default: all).
        #[serde(default)]
        services: Option<Vec<String>>,
        /// Only the services in these layers (see `platsim layers`).
        #[serde(default)]
        layers: Option<Vec<u32>>,
        /// Only these brokers (default: all when no filter is given, else none).
        #[serde(default)]
        brokers: Option<Vec<String>>,
    },
    /// Kubernetes: `pods` of `target`'s pods (default all) are deleted (`kubectl delete
    /// pod`, an eviction): they stop as the service's `termination` says, and the
    /// ReplicaSet creates replacements at once.
    DeletePods {
        target: String,
        at: String,
        #[serde(default)]
        pods: Option<u32>,
    },
    /// Kubernetes: the memory of `target`'s containers grows by `rate` MB per second
    /// during the fault (until an OOM kill restarts them, and again after).
    Leak {
        target: String,
        at: String,
        duration: String,
        rate: f64,
    },
    /// Kubernetes: `pods` of `target`'s pods (default 1) hang (a deadlock): requests
    /// they start never finish, probes fail, until the fault ends or the liveness probe
    /// restarts the container.
    Hang {
        target: String,
        at: String,
        duration: String,
        #[serde(default)]
        pods: Option<u32>,
    },
    /// Kubernetes: node `node` (from 0) dies at `at`, and everything on it; it stays
    /// down for `duration` (default: the rest of the run).
    NodeKill {
        node: u32,
        at: String,
        #[serde(default)]
        duration: Option<String>,
    },
    /// The consumers (or workers) of `target` die mid-processing at `at`: what they held
    /// is lost or redelivered as their commit mode says; the group rebalances.
    KillConsumer {
        target: String,
        at: String,
        #[serde(default = "one_ns")]
        duration: String,
    },
    /// Messages published to `topic` during the fault are appended twice with a share of
    /// `rate` (a producer retry after a lost ack), unless the producer is idempotent.
    DuplicateDelivery {
        topic: String,
        at: String,
        duration: String,
        #[serde(default = "one_f64")]
        rate: f64,
    },
    /// Produce requests to `topic` during the fault fail with a retriable error with a
    /// share of `rate` (Kafka `NOT_LEADER_OR_FOLLOWER`, a request timeout) and the
    /// producer sends them again after `retry.backoff.ms`.
    ProduceRetry {
        topic: String,
        at: String,
        duration: String,
        #[serde(default = "one_f64")]
        rate: f64,
    },
    /// The broker is down for `duration`; in memory, it loses every message it held.
    BrokerRestart {
        broker: String,
        at: String,
        duration: String,
    },
    /// Calls and deliveries between `from` and `to` fail at once, as a refused
    /// connection. Each end is a service, a broker, a Kubernetes node (`"node/1"`: the
    /// pods on it) or a pod (`"api/0"`: replica slot 0 of `api`). With `one_way`, only
    /// packets from `from` to `to` are dropped: a call from `from` to `to` is never
    /// received, and a call from `to` to `from` is served but its answer is lost; either
    /// way the caller's timeout fires (see `run::call`). With a broker: a producer's
    /// publishes are lost one way, its acks the other; a consumer's deliveries stop.
    Partition {
        from: String,
        to: String,
        at: String,
        duration: String,
        #[serde(default)]
        one_way: bool,
    },
    /// Each attempt of a call from `from` to `to` sent during the fault reaches the callee
    /// `add` later (Linux `tc netem delay` on that link); ends as for `Partition`. With a
    /// broker, a producer's publishes are acknowledged `add` later.
    LinkLatency {
        from: String,
        to: String,
        at: String,
        duration: String,
        add: DistSpec,
    },
    /// Each attempt of a call from `from` to `to` sent during the fault is lost with
    /// probability `rate` (`tc netem loss`): the callee never sees it and the caller's
    /// timeout fires; ends as for `Partition`. With a broker, a producer's publish (to
    /// it) or its ack (from it) is lost.
    LinkLoss {
        from: String,
        to: String,
        at: String,
        duration: String,
        #[serde(default = "one_f64")]
        rate: f64,
    },
    /// The service dies between its database write and its publish, for a share `rate`
    /// of its successful requests (the client already has its answer).
    CrashBeforePublish {
        target: String,
        at: String,
        duration: String,
        #[serde(default = "one_f64")]
        rate: f64,
    },
    /// The breaker of the call from service `from` to service `to`, or of workload
    /// `workload`'s client, is forced open from `at` for `duration` (Resilience4j
    /// `transitionToForcedOpenState()`: every call refused with `CallNotPermitted`, nothing
    /// recorded), then closed with an empty window (`transitionToClosedState()`).
    ForceOpenBreaker {
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        to: Option<String>,
        #[serde(default)]
        workload: Option<String>,
        at: String,
        duration: String,
    },
    /// As `ForceOpenBreaker`, but the breaker is disabled (`transitionToDisabledState()`):
    /// every call permitted, nothing recorded, it never opens.
    DisableBreaker {
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        to: Option<String>,
        #[serde(default)]
        workload: Option<String>,
        at: String,
        duration: String,
    },
    /// Partitioned store `target` gets `nodes` more nodes (default 1) at `at`, for good:
    /// the next of its standby replicas join and partitions move to them as its
    /// `partitioning.rebalance` says (a scale-out; `nodetool bootstrap`).
    NodeAdd {
        target: String,
        at: String,
        #[serde(default = "one_u32")]
        nodes: u32,
    },
    /// Partitioned store `target` loses its `nodes` highest-numbered nodes (default 1) at
    /// `at`, for good: they hand their partitions over and keep serving them until each
    /// copy is done (a decommission; `nodetool decommission`).
    NodeRemove {
        target: String,
        at: String,
        #[serde(default = "one_u32")]
        nodes: u32,
    },
}

fn one_ns() -> String {
    "1ns".to_string()
}
