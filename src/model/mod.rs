//! The validated platform: what the engine runs.
//!
//! A `Platform` is built only by [`validate`] from a `Spec`, so every value in it is in
//! range: ids index their vectors, times are integers, defaults are applied. Once a
//! platform exists, nothing the user wrote can make the run fail.

pub mod dist;
pub mod estimate;
pub mod graph;
pub mod schedule;
pub mod validate;

pub use dist::Dist;
pub use schedule::RateSchedule;
pub use validate::{build, validate};

use crate::engine::SimTime;

/// Index of a service in `Platform::services`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

/// Index of a workload in `Platform::workloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    pub seed: u64,
    pub duration: SimTime,
    pub warmup: SimTime,
    /// Time-series bucket width as written; the run may widen it (see `metrics::windows`).
    pub window: SimTime,
    pub services: Vec<Service>,
    pub workloads: Vec<Workload>,
    pub faults: Vec<Fault>,
    /// Base latencies of links between services (`scenario::LinkSpec`).
    pub links: Vec<Link>,
    pub recovery_check: RecoveryCheck,
    pub recovery: Recovery,
    /// After `duration` arrivals stop; the run goes on for `drain` (see `Spec::drain`).
    pub drain: SimTime,
    pub orders: Option<Orders>,
    pub queues: Vec<JobQueue>,
    pub brokers: Vec<Broker>,
    /// Every broker's topics, in scenario order.
    pub topics: Vec<Topic>,
    /// Kubernetes nodes, if the scenario has them.
    pub nodes: Option<Nodes>,
    /// Rolling updates and rollbacks, sorted by time.
    pub deployments: Vec<Deployment>,
}

/// A rolling update or a rollback (see `scenario::DeploymentSpec`).
#[derive(Debug, Clone)]
pub struct Deployment {
    pub service: ServiceId,
    pub at: SimTime,
    /// `None`: a rollback.
    pub deploy: Option<Deploy>,
}

#[derive(Debug, Clone)]
pub struct Deploy {
    pub name: String,
    pub error_rate: f64,
    pub service_time: Dist,
    pub max_surge: crate::mech::rollout::IntOrPercent,
    pub max_unavailable: crate::mech::rollout::IntOrPercent,
    pub rollback_on_alert: bool,
}

/// Kubernetes nodes (see `scenario::NodesSpec`).
#[derive(Debug, Clone, Copy)]
pub struct Nodes {
    pub count: u32,
    pub not_ready_after: SimTime,
    pub evict_after: SimTime,
}

/// How a service's pods live (see `scenario::KubeSpec`): set for every service with
/// `kubernetes` or `autoscale`, and for all when the scenario has nodes.
#[derive(Debug, Clone)]
pub struct Kube {
    pub scheduling: SimTime,
    pub pod_startup: Dist,
    pub termination: Termination,
    pub endpoint_delay: SimTime,
    pub cpu_limit: Option<f64>,
    /// Cores the autoscaler's CPU utilisation is measured against.
    pub cpu_request: f64,
    pub memory_limit: Option<f64>,
    pub memory: f64,
    pub liveness: Option<crate::mech::probe::ProbeConfig>,
    pub readiness: Option<crate::mech::probe::ProbeConfig>,
    pub startup: Option<crate::mech::probe::ProbeConfig>,
    /// Run as a StatefulSet (see `scenario::StatefulSetSpec`).
    pub stateful: Option<StatefulSet>,
}

/// A StatefulSet's policies (see `run::pods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatefulSet {
    /// `OrderedReady`: one pod at a time, each waiting for the ones before it.
    pub ordered: bool,
    /// Each pod's volume is on its node's disk.
    pub local_volume: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Termination {
    /// SIGTERM after `pre_stop`, SIGKILL at `grace_period` (both from the deletion).
    Graceful {
        grace_period: SimTime,
        pre_stop: SimTime,
    },
    Abrupt,
}

/// The order ledger's definition: client requests to `entry` are orders; an order is
/// complete when every step service has succeeded on it.
#[derive(Debug, Clone)]
pub struct Orders {
    pub entry: ServiceId,
    pub steps: Vec<ServiceId>,
    pub saga: Option<Saga>,
    /// Two-phase commit over the steps.
    pub two_phase: Option<TwoPhase>,
}

/// Two-phase commit (see `scenario::TwoPhaseSpec`).
#[derive(Debug, Clone, Copy)]
pub struct TwoPhase {
    pub coordinator: ServiceId,
    /// From the decision logged until the participants have committed.
    pub commit_delay: SimTime,
}

/// An orchestrated saga (see `scenario::SagaSpec`).
#[derive(Debug, Clone)]
pub struct Saga {
    pub orchestrator: ServiceId,
    pub compensate: bool,
    pub max_attempts: u32,
    pub backoff: SimTime,
}

/// A Redis list used as a job queue (see `scenario::JobQueueSpec`).
#[derive(Debug, Clone)]
pub struct JobQueue {
    pub name: String,
    pub reliable: bool,
    pub visibility_timeout: SimTime,
    pub max_deliveries: u32,
    pub dlq: bool,
    /// The service that holds the list, and what it keeps through a crash.
    pub store: Option<(ServiceId, Persistence)>,
}

/// What a store keeps through a crash (see `mech::persistence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persistence {
    InMemory,
    /// `save S N` rules: (S, N).
    Rdb {
        save: Vec<(SimTime, u64)>,
    },
    AofEverysec,
    AofAlways,
}

impl Persistence {
    pub fn name(&self) -> &'static str {
        match self {
            Persistence::InMemory => "in memory",
            Persistence::Rdb { .. } => "RDB snapshots",
            Persistence::AofEverysec => "AOF everysec",
            Persistence::AofAlways => "AOF always",
        }
    }

    /// Redis' default when it runs without a config file: `save 3600 1 300 100 60 10000`
    /// (`redis/redis:src/config.c`), and no AOF.
    pub fn redis_default() -> Self {
        Persistence::Rdb {
            save: vec![
                (SimTime::from_secs(3600), 1),
                (SimTime::from_secs(300), 100),
                (SimTime::from_secs(60), 10_000),
            ],
        }
    }
}

pub use crate::scenario::AcksSpec as Acks;
pub use crate::scenario::CommitSpec as Commit;
pub use crate::scenario::DurabilitySpec as Durability;

#[derive(Debug, Clone)]
pub struct Broker {
    pub name: String,
    pub durability: Durability,
    /// Leader to followers (see `scenario::BrokerSpec::replication_lag`).
    pub replication_lag: SimTime,
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    /// Index into `Platform::brokers`.
    pub broker: u32,
    pub partitions: u32,
    /// Messages older than this are deleted (Kafka `retention.ms`).
    pub retention: SimTime,
}

/// A service's producer for one topic.
#[derive(Debug, Clone)]
pub struct Publish {
    /// Index into `Platform::topics`.
    pub topic: u32,
    pub acks: Acks,
    pub idempotent: bool,
    /// Transactional outbox: the relay's delay, if the producer uses one.
    pub outbox: Option<SimTime>,
    /// The producer's send buffer, if it has one (`mech::producer`).
    pub buffer: Option<ProducerBuffer>,
    /// Kafka `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// Status updates published after the record, same key.
    pub updates: u32,
}

/// A producer's send buffer, validated (`ProducerBufferSpec`).
#[derive(Debug, Clone, Copy)]
pub struct ProducerBuffer {
    pub records: u32,
    pub max_block: SimTime,
    pub delivery_timeout: SimTime,
    pub shed: bool,
}

/// A service's consumer group.
#[derive(Debug, Clone)]
pub struct Consume {
    pub topic: u32,
    pub commit: Commit,
    pub auto_commit: Option<SimTime>,
    pub max_deliveries: u32,
    pub dlq: bool,
    pub idempotent: bool,
    pub rebalance: SimTime,
    pub retry_delay: SimTime,
    /// A windowed count over the topic (issue #24).
    pub stream: Option<crate::mech::window::StreamJob>,
    /// A CQRS read model projected from the topic (issue #24).
    pub read_model: Option<crate::mech::projection::ReadModel>,
}

/// A worker pool: `count` workers per replica pulling from queue `queue`.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub queue: u32,
    pub count: u32,
}

/// One end of a network link (a partition's side, a link fault's or base latency's end).
/// A service stands for all its instances; a node for the pods running on it while
/// they do; a pod for the instance in one replica slot of its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Service(ServiceId),
    Broker(u32),
    /// A Kubernetes node, by index.
    Node(u32),
    /// The pod in replica slot `slot` of `service`.
    Pod {
        service: ServiceId,
        slot: u32,
    },
}

impl Endpoint {
    /// Whether this end is the instance in slot `slot` of service `s`, running on `node`
    /// (`NONE`: unscheduled, or no nodes).
    #[inline]
    pub fn holds(self, s: u32, slot: u32, node: u32) -> bool {
        match self {
            Endpoint::Service(x) => x.0 == s,
            Endpoint::Pod { service, slot: k } => service.0 == s && k == slot,
            Endpoint::Node(n) => n == node,
            Endpoint::Broker(_) => false,
        }
    }

    /// A node or a pod: which instance serves a call decides whether the link is on it.
    pub fn is_instance(self) -> bool {
        matches!(self, Endpoint::Node(_) | Endpoint::Pod { .. })
    }
}

/// How services cold start after an outage (see `scenario::RecoverySpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    Orchestrated,
    CrashLoop { initial: SimTime, cap: SimTime },
}

impl Platform {
    /// When the run ends: `duration` plus the drain.
    pub fn end(&self) -> SimTime {
        self.duration.after(self.drain)
    }
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.0 as usize]
    }

    /// A link end as the scenario names it (`api`, `kafka`, `node/2`, `api/0`).
    pub fn end_name(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Service(s) => self.service(s).name.clone(),
            Endpoint::Broker(b) => self.brokers[b as usize].name.clone(),
            Endpoint::Node(n) => format!("node/{n}"),
            Endpoint::Pod { service, slot } => format!("{}/{slot}", self.service(service).name),
        }
    }
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.name == name)
            .map(|i| ServiceId(i as u32))
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub replicas: u32,
    pub concurrency: u32,
    pub queue_capacity: Option<u32>,
    pub service_time: Dist,
    /// Off-CPU wait after the service time (see `ServiceSpec::io_time`).
    pub io_time: Option<Dist>,
    pub error_rate: f64,
    pub calls: Vec<Call>,
    pub balancer: Balancer,
    pub discipline: Discipline,
    pub queue_timeout: Option<SimTime>,
    pub drop_expired: bool,
    /// Tokens per second and burst, per replica.
    pub rate_limit: Option<(f64, u32)>,
    /// Envoy's local rate limit per replica: max tokens, tokens per fill, fill interval.
    pub local_rate_limit: Option<(u32, u32, SimTime)>,
    /// Each replica starts with a copy of this limit.
    pub concurrency_limit: Option<ConcurrencyLimit>,
    pub side_effect: bool,
    pub idempotent: bool,
    /// Cold-start time after a crash or outage.
    pub startup: Dist,
    /// What must be ready before it can start: its hard calls and its `startup_deps`,
    /// sorted, without repeats.
    pub hard_deps: Vec<ServiceId>,
    /// Objectives, cost and governance, for the health facade (validated).
    pub slo: Slo,
    pub cost: Option<crate::scenario::CostSpec>,
    pub governance: Option<crate::scenario::GovernanceSpec>,
    /// Messaging: the queue it pushes a job to after a success, its worker pool, the
    /// topics it publishes to after a success, and its consumer group.
    pub push: Option<u32>,
    pub workers: Option<Workers>,
    pub publish: Vec<Publish>,
    pub consume: Option<Consume>,
    /// Pods scaled by a Horizontal Pod Autoscaler (`replicas` is the initial count).
    pub autoscale: Option<Autoscale>,
    /// Its replicas are Kubernetes pods with this lifecycle.
    pub kube: Option<Kube>,
    /// A database's write path.
    pub writes: Option<Writes>,
    /// Its replicas are partitions of a key space.
    pub partitioning: Option<crate::mech::partition::Partitioning>,
}

/// A validated Horizontal Pod Autoscaler.
#[derive(Debug, Clone)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    pub metric: AutoscaleMetric,
    pub sync_period: SimTime,
    pub scale_down_stabilization: SimTime,
    pub pod_startup: Dist,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AutoscaleMetric {
    /// Mean utilisation of the ready pods' servers, as a fraction.
    Cpu { target: f64 },
    /// Requests per second per ready pod.
    Rps { target: f64 },
}

impl AutoscaleMetric {
    pub fn target(self) -> f64 {
        match self {
            AutoscaleMetric::Cpu { target } | AutoscaleMetric::Rps { target } => target,
        }
    }
}

/// A service's objectives: availability always (its tier's target by default), latency
/// when asked for. Targets in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub tier: crate::scenario::TierSpec,
    pub availability: f64,
    pub latency: Option<LatencySlo>,
    /// Windows whose oldest waiting item stays within `threshold` (`max_age`).
    pub queue_age: Option<LatencySlo>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySlo {
    pub threshold: SimTime,
    pub target: f64,
}

pub use crate::mech::breaker::{BreakerConfig, BreakerWindow};
pub use crate::mech::limits::ConcurrencyLimit;
pub use crate::mech::retry::{Backoff, Jitter, RetryBudget, RetryOn, RetryPolicy};
pub use crate::scenario::DisciplineSpec as Discipline;

/// Retries of a call or of a client, with what may stop them.
#[derive(Debug, Clone)]
pub struct Retry {
    pub policy: RetryPolicy,
    pub budget: Option<RetryBudget>,
    /// gRPC retry throttling: max tokens and token ratio.
    pub throttle: Option<(f64, f64)>,
}

/// A semaphore bulkhead on a call edge.
#[derive(Debug, Clone, Copy)]
pub struct Bulkhead {
    pub max_concurrent: u32,
    pub max_wait: SimTime,
}

/// A link's base latency: attempts of calls from `from` to `to` (and publishes from a
/// producer `from` to a broker `to`) reach the other end `latency` later.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: Endpoint,
    pub to: Endpoint,
    pub latency: Dist,
}

/// A fault and when it is active: `[start, end)`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    pub start: SimTime,
    pub end: SimTime,
}

#[derive(Debug, Clone)]
pub enum FaultKind {
    Crash {
        target: ServiceId,
        replicas: u32,
    },
    Pause {
        target: ServiceId,
    },
    Latency {
        target: ServiceId,
        add: Dist,
    },
    Errors {
        target: ServiceId,
        rate: f64,
        /// The HTTP status the injected errors carry.
        status: u16,
    },
    Capacity {
        target: ServiceId,
        factor: f64,
    },
    Spike {
        target: ServiceId,
        workload: WorkloadId,
        rate: f64,
    },
    /// The cache service loses every key at the fault's start.
    Flush {
        target: ServiceId,
    },
    /// The listed services and brokers lose power (all of them for a whole-platform
    /// outage).
    Outage {
        services: Vec<ServiceId>,
        /// Indices into `Platform::brokers`.
        brokers: Vec<u32>,
    },
    /// The consumers and workers of the service die mid-processing.
    KillConsumer {
        target: ServiceId,
    },
    DuplicateDelivery {
        topic: u32,
        rate: f64,
    },
    /// A share of produce requests to `topic` fails retriably and is sent again.
    ProduceRetry {
        topic: u32,
        rate: f64,
    },
    BrokerRestart {
        broker: u32,
    },
    Partition {
        a: Endpoint,
        b: Endpoint,
        /// Only packets from `a` to `b` are dropped.
        one_way: bool,
    },
    /// Attempts of calls (and publishes) from `from` to `to` arrive `add` later.
    LinkLatency {
        from: Endpoint,
        to: Endpoint,
        add: Dist,
    },
    /// Attempts of calls (and publishes) from `from` to `to` are lost with probability
    /// `rate`.
    LinkLoss {
        from: Endpoint,
        to: Endpoint,
        rate: f64,
    },
    CrashBeforePublish {
        target: ServiceId,
        rate: f64,
    },
    /// Kubernetes: `pods` pods of the service are deleted and replaced.
    DeletePods {
        target: ServiceId,
        pods: u32,
    },
    /// Kubernetes: containers' memory grows by `rate` MB/s.
    Leak {
        target: ServiceId,
        rate: f64,
    },
    /// Kubernetes: `pods` pods hang.
    Hang {
        target: ServiceId,
        pods: u32,
    },
    /// Kubernetes: a node and its pods die.
    NodeKill {
        node: u32,
    },
    /// A breaker forced open (or disabled, `disable`) for the fault's length, then closed
    /// afresh (Resilience4j's manual state transitions, for chaos experiments).
    BreakerOverride {
        at: BreakerAt,
        disable: bool,
    },
}

/// Whose breaker a `ForceOpenBreaker` / `DisableBreaker` fault overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerAt {
    /// Every call from the service to the other that has a breaker.
    Call { from: ServiceId, to: ServiceId },
    /// The workload's client-side breaker.
    Workload {
        workload: WorkloadId,
        target: ServiceId,
    },
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash { .. } => "crash",
            FaultKind::Pause { .. } => "pause",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Errors { .. } => "errors",
            FaultKind::Capacity { .. } => "capacity",
            FaultKind::Spike { .. } => "spike",
            FaultKind::Flush { .. } => "flush",
            FaultKind::Outage { .. } => "outage",
            FaultKind::KillConsumer { .. } => "kill_consumer",
            FaultKind::DuplicateDelivery { .. } => "duplicate_delivery",
            FaultKind::ProduceRetry { .. } => "produce_retry",
            FaultKind::BrokerRestart { .. } => "broker_restart",
            FaultKind::Partition { .. } => "partition",
            FaultKind::LinkLatency { .. } => "link_latency",
            FaultKind::LinkLoss { .. } => "link_loss",
            FaultKind::CrashBeforePublish { .. } => "crash_before_publish",
            FaultKind::DeletePods { .. } => "delete_pods",
            FaultKind::NodeKill { .. } => "node_kill",
            FaultKind::Leak { .. } => "leak",
            FaultKind::Hang { .. } => "hang",
            FaultKind::BreakerOverride { disable: false, .. } => "force_open_breaker",
            FaultKind::BreakerOverride { disable: true, .. } => "disable_breaker",
        }
    }

    /// The service the fault hits, or `None` for the whole platform.
    pub fn target(&self) -> Option<ServiceId> {
        match self {
            FaultKind::Crash { target, .. }
            | FaultKind::Pause { target }
            | FaultKind::Latency { target, .. }
            | FaultKind::Errors { target, .. }
            | FaultKind::Capacity { target, .. }
            | FaultKind::Spike { target, .. }
            | FaultKind::Flush { target }
            | FaultKind::KillConsumer { target }
            | FaultKind::CrashBeforePublish { target, .. }
            | FaultKind::DeletePods { target, .. }
            | FaultKind::Leak { target, .. }
            | FaultKind::Hang { target, .. } => Some(*target),
            FaultKind::Partition {
                a:
                    Endpoint::Service(target)
                    | Endpoint::Pod {
                        service: target, ..
                    },
                ..
            }
            | FaultKind::LinkLatency {
                from:
                    Endpoint::Service(target)
                    | Endpoint::Pod {
                        service: target, ..
                    },
                ..
            }
            | FaultKind::LinkLoss {
                from:
                    Endpoint::Service(target)
                    | Endpoint::Pod {
                        service: target, ..
                    },
                ..
            } => Some(*target),
            FaultKind::BreakerOverride {
                at: BreakerAt::Call { from: target, .. } | BreakerAt::Workload { target, .. },
                ..
            } => Some(*target),
            FaultKind::Outage { .. }
            | FaultKind::DuplicateDelivery { .. }
            | FaultKind::ProduceRetry { .. }
            | FaultKind::BrokerRestart { .. }
            | FaultKind::Partition { .. }
            | FaultKind::LinkLatency { .. }
            | FaultKind::LinkLoss { .. }
            | FaultKind::NodeKill { .. } => None,
        }
    }
}

/// See `scenario::RecoveryCheckSpec`.
#[derive(Debug, Clone, Copy)]
pub struct RecoveryCheck {
    pub goodput_tolerance: f64,
    pub latency_tolerance: f64,
    pub windows: u32,
    pub metastable_after: SimTime,
    pub baseline: SimTime,
}

pub use crate::scenario::BalancerSpec as Balancer;
pub use crate::scenario::DependencySpec as Dependency;
pub use crate::scenario::OrderSpec as Order;

#[derive(Debug, Clone)]
pub struct Call {
    pub to: ServiceId,
    pub dependency: Dependency,
    pub timeout: Option<SimTime>,
    pub retry: Option<Retry>,
    pub breaker: Option<BreakerConfig>,
    pub bulkhead: Option<Bulkhead>,
    /// Share of requests that make the call.
    pub probability: f64,
    /// The caller's connection pool (per caller replica), cache-aside and fallback.
    pub pool: Option<Pool>,
    pub cache: Option<CacheAside>,
    pub fallback: Option<Fallback>,
    /// How retry, breaker and bulkhead nest.
    pub order: Order,
    /// Resilience4j's rate limiter on the edge.
    pub rate_limiter: Option<FixedWindow>,
    /// A timeout that follows the edge's recent latencies; `timeout` is where it starts.
    pub adaptive_timeout: Option<crate::mech::adaptive::AdaptiveConfig>,
}

/// Resilience4j's `RateLimiterConfig` (see `scenario::RateLimiterSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    pub limit_for_period: u32,
    pub refresh_period: SimTime,
    pub timeout: SimTime,
}

/// A connection pool per caller replica (see `scenario::PoolSpec`).
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    pub max_size: u32,
    pub connection_timeout: SimTime,
}

/// Cache-aside in front of a call (see `scenario::CacheSpec`).
#[derive(Debug, Clone, Copy)]
pub struct CacheAside {
    pub service: ServiceId,
    pub keys: u32,
    pub zipf: f64,
    pub ttl: Option<SimTime>,
    pub coalesce: bool,
    pub timeout: Option<SimTime>,
}

/// What a call that failed in the end falls back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// A default answer: the request carries on degraded.
    Default,
    /// One attempt at another service.
    Service(ServiceId),
}

/// A database's write path (see `scenario::WritesSpec`).
#[derive(Debug, Clone)]
pub struct Writes {
    /// Callers whose requests are all writes.
    pub from: Vec<ServiceId>,
    pub share: f64,
    pub service_time: Dist,
    pub error_rate: f64,
    /// Commits wait for their WAL flush (see `scenario::WritesSpec::synchronous_commit`).
    pub synchronous_commit: bool,
    pub replication: Option<Replication>,
}

pub use crate::scenario::{ReadsFrom, ReplicationMode};

/// Followers of a database's writes (see `scenario::ReplicationSpec`).
#[derive(Debug, Clone)]
pub struct Replication {
    pub mode: ReplicationMode,
    pub followers: u32,
    pub lag: Dist,
    pub failover_after: SimTime,
    pub reads: ReadsFrom,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub target: ServiceId,
    pub kind: WorkloadKind,
    /// The client's own timeout, per attempt.
    pub timeout: Option<SimTime>,
    pub retry: Option<Retry>,
    /// A client-side breaker in front of the target.
    pub breaker: Option<BreakerConfig>,
    /// How the client's retry and breaker nest.
    pub order: Order,
    /// Overall deadline across attempts, from the first send.
    pub deadline: Option<SimTime>,
}

#[derive(Debug, Clone)]
pub enum WorkloadKind {
    /// Poisson arrivals whose rate follows a schedule.
    Open(RateSchedule),
    /// A fixed population of users who send, wait for the answer, then think.
    Closed { users: u32, think_time: Dist },
}
