//! The fault vocabulary: every fault `explore` may add, drawn from what the scenario has.
//!
//! | kind            | applies to                                   | severity (1..=1000 ‰) means  |
//! |-----------------|----------------------------------------------|------------------------------|
//! | `Crash`         | each service                                 | share of its replicas        |
//! | `Pause`         | each service (a stop-the-world freeze)       | (none)                       |
//! | `Latency`       | each service                                 | added service time, 2 ms/‰   |
//! | `Errors`        | each service                                 | error rate                   |
//! | `Capacity`      | each service                                 | speed lost, up to 90 %       |
//! | `Partition`     | each call edge, each service-broker link     | (none)                       |
//! | `LinkLatency`   | each call edge                               | added latency, 2 ms/‰        |
//! | `LinkLoss`      | each call edge                               | loss rate                    |
//! | `BrokerRestart` | each broker                                  | (none)                       |
//! | `KillConsumer`  | each service with a consumer group or workers| (none)                       |
//! | `NodeKill`      | each Kubernetes node                         | (none)                       |
//! | `Outage`        | the whole platform (when the budget's share allows all of it) | (none)  |
//! | `OneWayPartition` | each direction between two services that call each other | (none)    |
//! | `ForceOpenBreaker`, `DisableBreaker` | each call edge and each workload with a breaker | (none) |
//! | `Deploy`        | each service run as pods without an autoscaler | error rate of the new version |
//! | `Flush`         | each service a call caches in                | (none)                       |
//! | `DeletePods`    | each service run as pods                     | share of its pods            |
//! | `Hang`          | each service run as pods                     | share of its replicas        |
//! | `Leak`          | each service with a Kubernetes memory limit  | limit leaked per second      |
//! | `CrashBeforePublish` | each service that publishes or pushes   | share of its requests        |
//! | `NodeAdd`, `NodeRemove` | each partitioned store with room for one more (one fewer) node and no scheduled change; a join only where its `Proportional` partitions stay within the cap | (none) |
//! | `DuplicateDelivery` | each topic                               | share of publishes doubled   |
//! | `ProduceRetry`  | each topic a publisher sends per-key updates to (where a retry can reorder) | share of produce requests retried |
//!
//! `Flush`, `DeletePods`, `KillConsumer`, `NodeAdd` and `NodeRemove` happen at one
//! moment. Every scenario fault kind is here but those in [`EXCLUDED`], each with its
//! reason (a test holds it). Failovers, database leader and 2PC coordinator crashes are
//! `Crash` of the database or coordinator service.
//! A `Deploy` is a rolling update (Kubernetes' 25 % surge and unavailable) to a version
//! that fails `severity` ‰ of requests, rolled back `duration` later (unless the run has
//! ended): its duration and severity shrink as a fault's do. The kinds from `OneWayPartition`
//! on come after the others, so a scenario without what they need keeps its options and
//! its schedules.
//! A kind a scenario has nothing for is not in its vocabulary.

use crate::engine::time::parse_duration;
use crate::engine::SimTime;
use crate::scenario::{DeploymentSpec, DistSpec, FaultSpec, Spec, VersionSpec};
use std::fmt;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Crash,
    Pause,
    Latency,
    Errors,
    Capacity,
    Partition,
    LinkLatency,
    LinkLoss,
    BrokerRestart,
    KillConsumer,
    NodeKill,
    Outage,
    /// `Partition` with `one_way`: packets from the link's first end to its second dropped.
    OneWayPartition,
    ForceOpenBreaker,
    DisableBreaker,
    /// A rolling update to a version failing `severity` ‰ of requests, rolled back after
    /// `duration` (when that is before the end of the run).
    Deploy,
    /// A cache service loses every key (FLUSHALL).
    Flush,
    /// Kubernetes: a share of a service's pods deleted (an eviction).
    DeletePods,
    /// Kubernetes: a share of a service's pods hang (a deadlock).
    Hang,
    /// Kubernetes: containers' memory grows towards their limit.
    Leak,
    /// A topic's publishes appended twice (a producer retry after a lost ack).
    DuplicateDelivery,
    /// A service dies between its write and its publish (the dual-write gap).
    CrashBeforePublish,
    /// A partitioned store gains a node for good (a scale-out).
    NodeAdd,
    /// A partitioned store loses its highest node for good (a decommission).
    NodeRemove,
    /// A topic's produce requests fail retriably and are sent again (Kafka
    /// `NOT_LEADER_OR_FOLLOWER`): with several requests in flight and no idempotence,
    /// a key's updates can overtake each other.
    ProduceRetry,
}

/// Scenario fault kinds the vocabulary never draws, and why.
pub const EXCLUDED: &[(&str, &str)] = &[(
    "Spike",
    "extra load, not a component failing: which load breaks a platform is a sweep over \
     the workload's rate",
)];

impl Kind {
    /// Whether severity changes what the fault does (else it stays at 1000 ‰).
    pub fn has_severity(self) -> bool {
        matches!(
            self,
            Kind::Crash
                | Kind::Latency
                | Kind::Errors
                | Kind::Capacity
                | Kind::LinkLatency
                | Kind::LinkLoss
                | Kind::Deploy
                | Kind::DeletePods
                | Kind::Hang
                | Kind::Leak
                | Kind::DuplicateDelivery
                | Kind::CrashBeforePublish
                | Kind::ProduceRetry
        )
    }

    /// Whether the fault happens at one moment (its length means nothing and is 1 ms).
    pub fn instant(self) -> bool {
        matches!(
            self,
            Kind::KillConsumer | Kind::Flush | Kind::DeletePods | Kind::NodeAdd | Kind::NodeRemove
        )
    }

    /// The scenario fault kind (`FaultSpec` variant) it is written as; `None` for a
    /// deploy, which is a deployment.
    pub fn fault_kind(self) -> Option<&'static str> {
        Some(match self {
            Kind::Crash => "Crash",
            Kind::Pause => "Pause",
            Kind::Latency => "Latency",
            Kind::Errors => "Errors",
            Kind::Capacity => "Capacity",
            Kind::Partition | Kind::OneWayPartition => "Partition",
            Kind::LinkLatency => "LinkLatency",
            Kind::LinkLoss => "LinkLoss",
            Kind::BrokerRestart => "BrokerRestart",
            Kind::KillConsumer => "KillConsumer",
            Kind::NodeKill => "NodeKill",
            Kind::Outage => "Outage",
            Kind::ForceOpenBreaker => "ForceOpenBreaker",
            Kind::DisableBreaker => "DisableBreaker",
            Kind::Deploy => return None,
            Kind::Flush => "Flush",
            Kind::DeletePods => "DeletePods",
            Kind::Hang => "Hang",
            Kind::Leak => "Leak",
            Kind::DuplicateDelivery => "DuplicateDelivery",
            Kind::CrashBeforePublish => "CrashBeforePublish",
            Kind::NodeAdd => "NodeAdd",
            Kind::NodeRemove => "NodeRemove",
            Kind::ProduceRetry => "ProduceRetry",
        })
    }
}

/// Where a fault strikes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Service(String),
    /// A call edge (caller, callee), or a service and a broker.
    Link(String, String),
    Broker(String),
    Node(u32),
    /// The named services and brokers; `None`: the whole platform.
    Platform(Option<Vec<String>>),
    /// A workload's client (its breaker), by the workload's name.
    Workload(String),
    /// A topic, by name.
    Topic(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Service(s) | Target::Broker(s) => f.write_str(s),
            Target::Link(a, b) => write!(f, "{a}->{b}"),
            Target::Node(n) => write!(f, "node {n}"),
            Target::Platform(None) => f.write_str("platform"),
            Target::Platform(Some(names)) => f.write_str(&names.join("+")),
            Target::Workload(w) => write!(f, "workload {w}"),
            Target::Topic(t) => write!(f, "topic {t}"),
        }
    }
}

/// One fault of a schedule, in whole milliseconds so that its RON reads cleanly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fault {
    pub at_ms: u64,
    pub duration_ms: u64,
    pub kind: Kind,
    pub target: Target,
    /// 1..=1000 per mille; see the module table.
    pub severity: u32,
}

/// The faults one scenario admits, and what the share budget needs to know.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Every (kind, target) the search may draw, in a fixed order.
    pub options: Vec<(Kind, Target)>,
    /// Replicas of each service, by name (for `Crash` and `Hang` severity).
    replicas: Vec<(String, u32)>,
    /// The most pods each service run as pods can have (its autoscaler's `max`, else
    /// its replicas), for `DeletePods` severity.
    pods: Vec<(String, u32)>,
    /// Each Kubernetes memory limit in MB, for `Leak` severity.
    memory_limits: Vec<(String, f64)>,
    /// Services and brokers: the platform's size for the share budget.
    pub components: Vec<String>,
    /// The run's length in ms: a deploy's rollback at or after it is left out.
    run_ms: u64,
}

impl Vocabulary {
    /// The vocabulary of `spec`; `whole_platform` admits `Outage` (the budget allows it).
    pub fn of(spec: &Spec, whole_platform: bool) -> Vocabulary {
        let mut options = Vec::new();
        for s in &spec.services {
            for kind in [
                Kind::Crash,
                Kind::Pause,
                Kind::Latency,
                Kind::Errors,
                Kind::Capacity,
            ] {
                options.push((kind, Target::Service(s.name.clone())));
            }
            if s.consume.is_some() || s.workers.is_some() {
                options.push((Kind::KillConsumer, Target::Service(s.name.clone())));
            }
        }
        for s in &spec.services {
            for c in &s.calls {
                let link = Target::Link(s.name.clone(), c.to.clone());
                for kind in [Kind::Partition, Kind::LinkLatency, Kind::LinkLoss] {
                    options.push((kind, link.clone()));
                }
            }
        }
        for s in &spec.services {
            for b in brokers_of(spec, s) {
                options.push((Kind::Partition, Target::Link(s.name.clone(), b)));
            }
        }
        for b in &spec.brokers {
            options.push((Kind::BrokerRestart, Target::Broker(b.name.clone())));
        }
        for n in 0..spec.nodes.as_ref().map_or(0, |n| n.count) {
            options.push((Kind::NodeKill, Target::Node(n)));
        }
        // The kinds added since: each only where the scenario has what it needs, after the
        // older ones, so a scenario without them keeps its options and schedules.
        for s in &spec.services {
            for c in &s.calls {
                let back = spec
                    .services
                    .iter()
                    .any(|t| t.name == c.to && t.calls.iter().any(|b| b.to == s.name));
                if back {
                    options.push((
                        Kind::OneWayPartition,
                        Target::Link(s.name.clone(), c.to.clone()),
                    ));
                }
            }
        }
        for s in &spec.services {
            for c in s.calls.iter().filter(|c| c.breaker.is_some()) {
                for kind in [Kind::ForceOpenBreaker, Kind::DisableBreaker] {
                    options.push((kind, Target::Link(s.name.clone(), c.to.clone())));
                }
            }
        }
        for s in &spec.services {
            let stateful = s.kubernetes.as_ref().is_some_and(|k| k.stateful.is_some());
            if s.kubernetes.is_some() && s.autoscale.is_none() && !stateful {
                options.push((Kind::Deploy, Target::Service(s.name.clone())));
            }
        }
        // Workloads by the names validation gives them (unnamed ones after their target).
        if let Ok(platform) = crate::model::build(spec) {
            for w in platform.workloads.iter().filter(|w| w.breaker.is_some()) {
                for kind in [Kind::ForceOpenBreaker, Kind::DisableBreaker] {
                    options.push((kind, Target::Workload(w.name.clone())));
                }
            }
        }
        if whole_platform {
            options.push((Kind::Outage, Target::Platform(None)));
        }
        // The kinds added last (caches, pods, dual writes, partitioned stores, topics),
        // each only where the scenario has what it needs.
        for s in &spec.services {
            let service = || Target::Service(s.name.clone());
            let cached = spec
                .services
                .iter()
                .flat_map(|c| &c.calls)
                .any(|c| c.cache.as_ref().is_some_and(|c| c.service == s.name));
            if cached {
                options.push((Kind::Flush, service()));
            }
            if s.kubernetes.is_some() || s.autoscale.is_some() {
                options.push((Kind::DeletePods, service()));
                options.push((Kind::Hang, service()));
            }
            if s.kubernetes
                .as_ref()
                .is_some_and(|k| k.memory_limit.is_some())
            {
                options.push((Kind::Leak, service()));
            }
            if s.push.is_some() || !s.publish.is_empty() {
                options.push((Kind::CrashBeforePublish, service()));
            }
            // A store whose node count the scenario changes on a schedule is left alone:
            // a drawn change on top could take it past its replicas or below one node.
            let store = s.partitioning.as_ref().filter(|p| {
                p.rebalance
                    .as_ref()
                    .is_none_or(|r| r.at.is_none() && r.to_nodes.is_none())
            });
            if let Some(p) = store {
                let nodes = p.initial_nodes.unwrap_or(s.replicas);
                if nodes < s.replicas && room_to_join(p, nodes) {
                    options.push((Kind::NodeAdd, service()));
                }
                if nodes > 1 {
                    options.push((Kind::NodeRemove, service()));
                }
            }
        }
        for b in &spec.brokers {
            for t in &b.topics {
                options.push((Kind::DuplicateDelivery, Target::Topic(t.name.clone())));
            }
        }
        // Only where ordering can break: a topic some publisher sends a key's updates to.
        for b in &spec.brokers {
            for t in &b.topics {
                let updated = spec
                    .services
                    .iter()
                    .flat_map(|s| &s.publish)
                    .any(|p| p.topic == t.name && p.updates > 0);
                if updated {
                    options.push((Kind::ProduceRetry, Target::Topic(t.name.clone())));
                }
            }
        }
        let mut components: Vec<String> = spec.services.iter().map(|s| s.name.clone()).collect();
        components.extend(spec.brokers.iter().map(|b| b.name.clone()));
        Vocabulary {
            options,
            replicas: spec
                .services
                .iter()
                .map(|s| (s.name.clone(), s.replicas))
                .collect(),
            pods: spec
                .services
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        s.autoscale.as_ref().map_or(s.replicas, |a| a.max),
                    )
                })
                .collect(),
            memory_limits: spec
                .services
                .iter()
                .filter_map(|s| Some((s.name.clone(), s.kubernetes.as_ref()?.memory_limit?)))
                .collect(),
            components,
            run_ms: parse_duration(&spec.duration).map_or(u64::MAX, |d| d.0 / 1_000_000),
        }
    }

    /// Adds `fault` to `spec`: to its faults, or a deploy (and its rollback) to its
    /// deployments.
    /// The index in `options` of `fault`'s (kind, target).
    pub fn option_of(&self, fault: &Fault) -> Option<usize> {
        self.options
            .iter()
            .position(|(k, t)| *k == fault.kind && *t == fault.target)
    }

    pub fn add_to(&self, fault: &Fault, spec: &mut Spec) {
        match self.deploy(fault) {
            Some(d) => spec.deployments.extend(d),
            None if self.overrides_overridden(fault, spec) => {}
            None if self.changes_nodes_again(fault, spec) => {}
            None => spec.faults.push(self.to_spec(fault)),
        }
    }

    /// Whether `fault` overrides a breaker that a fault of `spec` already overrides at
    /// some moment of it: validation refuses two overrides of one breaker at once, and
    /// the breaker is forced or disabled then anyway, so the later one is left out.
    fn overrides_overridden(&self, fault: &Fault, spec: &Spec) -> bool {
        if !matches!(fault.kind, Kind::ForceOpenBreaker | Kind::DisableBreaker) {
            return false;
        }
        let (FaultSpec::ForceOpenBreaker {
            from: a,
            to: b,
            workload: w,
            ..
        }
        | FaultSpec::DisableBreaker {
            from: a,
            to: b,
            workload: w,
            ..
        }) = self.to_spec(fault)
        else {
            return false;
        };
        let ms = |t: &str| parse_duration(t).map_or(0, |d| d.0 / 1_000_000);
        let (start, end) = (fault.at_ms, fault.at_ms + fault.duration_ms.max(1));
        spec.faults.iter().any(|f| match f {
            FaultSpec::ForceOpenBreaker {
                from: x,
                to: y,
                workload: v,
                at,
                duration,
            }
            | FaultSpec::DisableBreaker {
                from: x,
                to: y,
                workload: v,
                at,
                duration,
            } => (x, y, v) == (&a, &b, &w) && ms(at) < end && start < ms(at) + ms(duration).max(1),
            _ => false,
        })
    }

    /// Whether `fault` is a second `NodeAdd` (or `NodeRemove`) of one store: two could
    /// take it past its replicas (or below one node), which validation refuses. One of
    /// each stays within them, as the vocabulary offers them only with room for one.
    fn changes_nodes_again(&self, fault: &Fault, spec: &Spec) -> bool {
        let Target::Service(name) = &fault.target else {
            return false;
        };
        spec.faults.iter().any(|f| match (fault.kind, f) {
            (Kind::NodeAdd, FaultSpec::NodeAdd { target, .. })
            | (Kind::NodeRemove, FaultSpec::NodeRemove { target, .. }) => target == name,
            _ => false,
        })
    }

    /// `fault` as one line of RON, as the scenario would hold it.
    pub fn ron(&self, fault: &Fault) -> String {
        match self.deploy(fault) {
            Some(d) => d
                .iter()
                .map(super::text::one_line)
                .collect::<Vec<_>>()
                .join(", "),
            None => super::text::one_line(&self.to_spec(fault)),
        }
    }

    /// A `Deploy` fault as the scenario's rolling update of a version that fails
    /// `severity` ‰ of its requests, then its rollback `duration` later unless the run
    /// has ended by then (`Deploy`'s defaults: 25 % surge, 25 % unavailable).
    fn deploy(&self, fault: &Fault) -> Option<Vec<DeploymentSpec>> {
        let Target::Service(service) = &fault.target else {
            return None;
        };
        if fault.kind != Kind::Deploy {
            return None;
        }
        let mut out = vec![DeploymentSpec::Deploy {
            service: service.clone(),
            at: SimTime::from_millis(fault.at_ms).to_string(),
            version: VersionSpec {
                name: Some("explore-bad".into()),
                error_rate: Some(f64::from(fault.severity) / 1000.0),
                service_time: None,
            },
            max_surge: "25%".into(),
            max_unavailable: "25%".into(),
            rollback_on_alert: false,
        }];
        let back = fault.at_ms + fault.duration_ms.max(1);
        if back < self.run_ms {
            out.push(DeploymentSpec::Rollback {
                service: service.clone(),
                at: SimTime::from_millis(back).to_string(),
            });
        }
        Some(out)
    }

    fn replicas(&self, service: &str) -> u32 {
        self.replicas
            .iter()
            .find(|(n, _)| n == service)
            .map_or(1, |(_, r)| *r)
    }

    /// `severity` ‰ of `all`, rounded up, at least 1.
    fn share(all: u32, severity: u32) -> u32 {
        ((u64::from(all) * u64::from(severity)).div_ceil(1000) as u32).max(1)
    }

    /// How many components `fault` puts under a fault (for the share budget).
    pub fn reach(&self, fault: &Fault) -> usize {
        match &fault.target {
            Target::Platform(None) => self.components.len(),
            Target::Platform(Some(names)) => names.len(),
            _ => 1,
        }
    }

    /// The scenario fault that `fault` stands for.
    pub fn to_spec(&self, fault: &Fault) -> FaultSpec {
        let at = SimTime::from_millis(fault.at_ms).to_string();
        let duration = SimTime::from_millis(fault.duration_ms.max(1)).to_string();
        let rate = f64::from(fault.severity) / 1000.0;
        let added =
            || DistSpec::Constant(SimTime::from_millis(2 * u64::from(fault.severity)).to_string());
        let (service, link) = match &fault.target {
            Target::Service(s) | Target::Broker(s) | Target::Workload(s) | Target::Topic(s) => {
                (s.clone(), (String::new(), String::new()))
            }
            Target::Link(a, b) => (String::new(), (a.clone(), b.clone())),
            _ => (String::new(), (String::new(), String::new())),
        };
        let (from, to) = link;
        match (fault.kind, &fault.target) {
            (Kind::Crash, _) => {
                let all = self.replicas(&service);
                let some = Self::share(all, fault.severity);
                FaultSpec::Crash {
                    target: service,
                    at,
                    duration,
                    replicas: (some < all).then_some(some),
                }
            }
            (Kind::Pause, _) => FaultSpec::Pause {
                target: service,
                at,
                duration,
            },
            (Kind::Latency, _) => FaultSpec::Latency {
                target: service,
                at,
                duration,
                add: added(),
            },
            (Kind::Errors, _) => FaultSpec::Errors {
                target: service,
                at,
                duration,
                rate,
                status: None,
            },
            (Kind::Capacity, _) => FaultSpec::Capacity {
                target: service,
                at,
                duration,
                factor: f64::from(1000 - fault.severity * 9 / 10) / 1000.0,
            },
            (Kind::Partition | Kind::OneWayPartition, _) => FaultSpec::Partition {
                from,
                to,
                at,
                duration,
                one_way: fault.kind == Kind::OneWayPartition,
            },
            (Kind::ForceOpenBreaker, Target::Workload(_)) => FaultSpec::ForceOpenBreaker {
                from: None,
                to: None,
                workload: Some(service),
                at,
                duration,
            },
            (Kind::DisableBreaker, Target::Workload(_)) => FaultSpec::DisableBreaker {
                from: None,
                to: None,
                workload: Some(service),
                at,
                duration,
            },
            (Kind::ForceOpenBreaker, _) => FaultSpec::ForceOpenBreaker {
                from: Some(from),
                to: Some(to),
                workload: None,
                at,
                duration,
            },
            (Kind::DisableBreaker, _) => FaultSpec::DisableBreaker {
                from: Some(from),
                to: Some(to),
                workload: None,
                at,
                duration,
            },
            (Kind::Deploy, _) => unreachable!("a deploy is a deployment, not a fault (see add_to)"),
            (Kind::LinkLatency, _) => FaultSpec::LinkLatency {
                from,
                to,
                at,
                duration,
                add: added(),
            },
            (Kind::LinkLoss, _) => FaultSpec::LinkLoss {
                from,
                to,
                at,
                duration,
                rate,
            },
            (Kind::BrokerRestart, _) => FaultSpec::BrokerRestart {
                broker: service,
                at,
                duration,
            },
            (Kind::KillConsumer, _) => FaultSpec::KillConsumer {
                target: service,
                at,
                duration: "1ns".into(),
            },
            (Kind::NodeKill, Target::Node(n)) => FaultSpec::NodeKill {
                node: *n,
                at,
                duration: Some(duration),
            },
            (Kind::NodeKill, _) => unreachable!("a node kill always targets a node"),
            (Kind::Outage, Target::Platform(names)) => FaultSpec::Outage {
                at,
                duration,
                services: names
                    .as_ref()
                    .map(|n| {
                        n.iter()
                            .filter(|n| !self.is_broker(n))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .filter(|v| !v.is_empty()),
                layers: None,
                brokers: names
                    .as_ref()
                    .map(|n| {
                        n.iter()
                            .filter(|n| self.is_broker(n))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .filter(|v| !v.is_empty()),
            },
            (Kind::Outage, _) => unreachable!("an outage always targets the platform"),
            (Kind::Flush, _) => FaultSpec::Flush {
                target: service,
                at,
                duration: "1ns".into(),
            },
            (Kind::DeletePods, _) => {
                let most = self
                    .pods
                    .iter()
                    .find(|(n, _)| *n == service)
                    .map_or(1, |(_, m)| *m);
                FaultSpec::DeletePods {
                    target: service,
                    at,
                    pods: Some(Self::share(most, fault.severity)),
                }
            }
            (Kind::Hang, _) => FaultSpec::Hang {
                pods: Some(Self::share(self.replicas(&service), fault.severity)),
                target: service,
                at,
                duration,
            },
            (Kind::Leak, _) => {
                let limit = self
                    .memory_limits
                    .iter()
                    .find(|(n, _)| *n == service)
                    .map_or(1000.0, |(_, m)| *m);
                // Severity 1000 ‰ leaks the whole limit each second.
                FaultSpec::Leak {
                    target: service,
                    at,
                    duration,
                    rate: limit * rate,
                }
            }
            (Kind::DuplicateDelivery, _) => FaultSpec::DuplicateDelivery {
                topic: service,
                at,
                duration,
                rate,
            },
            (Kind::ProduceRetry, _) => FaultSpec::ProduceRetry {
                topic: service,
                at,
                duration,
                rate,
            },
            (Kind::CrashBeforePublish, _) => FaultSpec::CrashBeforePublish {
                target: service,
                at,
                duration,
                rate,
            },
            (Kind::NodeAdd, _) => FaultSpec::NodeAdd {
                target: service,
                at,
                nodes: 1,
            },
            (Kind::NodeRemove, _) => FaultSpec::NodeRemove {
                target: service,
                at,
                nodes: 1,
            },
        }
    }

    fn is_broker(&self, name: &str) -> bool {
        !self.replicas.iter().any(|(n, _)| n == name)
    }
}

/// The brokers service `s` publishes to or consumes from, each once, in broker order.
/// Whether one more of `nodes` keeps `p` within the partition cap: under `Proportional`
/// each joining node adds `per_node` partitions, and validation refuses a store that
/// could reach more than [`MAX_PARTITIONS`](crate::model::validate::MAX_PARTITIONS). The
/// vocabulary adds one node at most (a second `NodeAdd` of a store is never drawn).
fn room_to_join(p: &crate::scenario::partition::PartitioningSpec, nodes: u32) -> bool {
    use crate::scenario::partition::StrategySpec;
    let Some(StrategySpec::Proportional { per_node }) = p.rebalance.as_ref().map(|r| &r.strategy)
    else {
        return true;
    };
    let partitions = p
        .partitions
        .map_or(u64::from(*per_node) * u64::from(nodes), u64::from);
    partitions + u64::from(*per_node) <= u64::from(crate::model::validate::MAX_PARTITIONS)
}

fn brokers_of(spec: &Spec, s: &crate::scenario::ServiceSpec) -> Vec<String> {
    let mut topics: Vec<&str> = s.publish.iter().map(|p| p.topic.as_str()).collect();
    topics.extend(s.consume.iter().map(|c| c.topic.as_str()));
    spec.brokers
        .iter()
        .filter(|b| b.topics.iter().any(|t| topics.contains(&t.name.as_str())))
        .map(|b| b.name.clone())
        .collect()
}

impl Fault {
    /// `Crash payment 12s+3s 40%`: one line for tables and the progress of a shrink.
    pub fn label(&self) -> String {
        let sev = if self.kind.has_severity() && self.severity < 1000 {
            format!(" {}‰", self.severity)
        } else {
            String::new()
        };
        format!(
            "{:?} {} at {} for {}{sev}",
            self.kind,
            self.target,
            SimTime::from_millis(self.at_ms),
            SimTime::from_millis(self.duration_ms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Kubernetes api whose call to stock has a breaker; stock calls the api back.
    const SCENARIO: &str = r#"Scenario(name: "v", duration: "60s",
        services: [
            Service(name: "api", replicas: 4, service_time: Constant("5ms"),
                    kubernetes: Some(Kube()),
                    calls: [Call(to: "stock", breaker: Some(Breaker()))]),
            Service(name: "stock", service_time: Constant("5ms"),
                    calls: [Call(to: "api", probability: 0.0)]),
        ],
        workload: [Open(target: "api", rate: 10.0, breaker: Some(Breaker()))])"#;

    #[test]
    fn the_vocabulary_lists_each_kind_where_the_scenario_has_what_it_needs() {
        let spec = crate::scenario::parse(SCENARIO, "test").unwrap();
        let vocab = Vocabulary::of(&spec, true);
        let got: Vec<String> = vocab
            .options
            .iter()
            .map(|(k, t)| format!("{k:?} {t}"))
            .collect();
        let mut want = Vec::new();
        for s in ["api", "stock"] {
            for k in ["Crash", "Pause", "Latency", "Errors", "Capacity"] {
                want.push(format!("{k} {s}"));
            }
        }
        for l in ["api->stock", "stock->api"] {
            for k in ["Partition", "LinkLatency", "LinkLoss"] {
                want.push(format!("{k} {l}"));
            }
        }
        want.extend(
            [
                // Both directions, as the two services call each other.
                "OneWayPartition api->stock",
                "OneWayPartition stock->api",
                // Only api->stock has a breaker.
                "ForceOpenBreaker api->stock",
                "DisableBreaker api->stock",
                // Only the api runs as pods.
                "Deploy api",
                // The workload (named after its target) has a client breaker.
                "ForceOpenBreaker workload api",
                "DisableBreaker workload api",
                "Outage platform",
                // The api runs as pods.
                "DeletePods api",
                "Hang api",
            ]
            .map(String::from),
        );
        assert_eq!(got, want);
    }

    /// The scenario fault kinds, as serde names them (the variants of `FaultSpec`).
    fn fault_kinds() -> Vec<String> {
        let err = serde_json::from_str::<FaultSpec>("\"NoSuchKind\"")
            .unwrap_err()
            .to_string();
        let expected = err.split("expected").nth(1).unwrap_or("");
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    const ALL: [Kind; 25] = [
        Kind::Crash,
        Kind::Pause,
        Kind::Latency,
        Kind::Errors,
        Kind::Capacity,
        Kind::Partition,
        Kind::LinkLatency,
        Kind::LinkLoss,
        Kind::BrokerRestart,
        Kind::KillConsumer,
        Kind::NodeKill,
        Kind::Outage,
        Kind::OneWayPartition,
        Kind::ForceOpenBreaker,
        Kind::DisableBreaker,
        Kind::Deploy,
        Kind::Flush,
        Kind::DeletePods,
        Kind::Hang,
        Kind::Leak,
        Kind::DuplicateDelivery,
        Kind::CrashBeforePublish,
        Kind::NodeAdd,
        Kind::NodeRemove,
        Kind::ProduceRetry,
    ];

    #[test]
    fn every_scenario_fault_kind_is_drawn_or_excluded_with_its_reason() {
        let drawn: Vec<&str> = ALL.iter().filter_map(|k| k.fault_kind()).collect();
        let kinds = fault_kinds();
        assert!(kinds.len() >= 23, "{kinds:?}");
        for k in &kinds {
            let excluded = EXCLUDED.iter().find(|(name, _)| name == k);
            assert!(
                drawn.contains(&k.as_str()) != excluded.is_some(),
                "fault kind {k}: either in the vocabulary or in EXCLUDED with a reason, not both"
            );
        }
        for (name, why) in EXCLUDED {
            assert!(kinds.iter().any(|k| k == name) && !why.is_empty(), "{name}");
        }
    }

    /// One of each: a cache, pods with a memory limit, a publisher, a partitioned store
    /// with a standby node, a topic.
    const EVERYTHING: &str = r#"Scenario(name: "all", duration: "60s",
        services: [
            Service(name: "api", replicas: 3, service_time: Constant("2ms"),
                    kubernetes: Some(Kube(memory_limit: Some(512.0))),
                    calls: [Call(to: "db", cache: Some(Cache(service: "redis"))),
                            Call(to: "store")],
                    publish: [Publish(topic: "orders", updates: 2)]),
            Service(name: "redis", service_time: Constant("1ms")),
            Service(name: "db", service_time: Constant("2ms")),
            Service(name: "store", replicas: 3, service_time: Constant("2ms"),
                    partitioning: Some(Partitioning(initial_nodes: Some(2)))),
            Service(name: "worker", service_time: Constant("2ms"),
                    consume: Some(Consume(topic: "orders"))),
        ],
        brokers: [Broker(name: "kafka", topics: [Topic(name: "orders")])],
        workload: [Open(target: "api", rate: 20.0)])"#;

    #[test]
    fn each_newer_kind_is_drawn_where_the_scenario_has_what_it_needs_and_validates() {
        let spec = crate::scenario::parse(EVERYTHING, "test").unwrap();
        let vocab = Vocabulary::of(&spec, true);
        let got: Vec<String> = vocab
            .options
            .iter()
            .filter(|(k, _)| *k >= Kind::Flush)
            .map(|(k, t)| format!("{k:?} {t}"))
            .collect();
        assert_eq!(
            got,
            [
                "DeletePods api",
                "Hang api",
                "Leak api",
                "CrashBeforePublish api",
                "Flush redis",
                "NodeAdd store",
                "NodeRemove store",
                "DuplicateDelivery topic orders",
                "ProduceRetry topic orders",
            ]
        );
        // Every option, alone and twice over (two node changes of one store included),
        // at full and at the least severity, is a scenario validation accepts.
        for (kind, target) in &vocab.options {
            for severity in [1, 1000] {
                let f = |at_ms| Fault {
                    at_ms,
                    duration_ms: if kind.instant() { 1 } else { 5_000 },
                    kind: *kind,
                    target: target.clone(),
                    severity,
                };
                let mut s = spec.clone();
                vocab.add_to(&f(10_000), &mut s);
                vocab.add_to(&f(20_000), &mut s);
                if let Err(e) = crate::model::validate(&s, "test") {
                    panic!("{kind:?} {target} at {severity}: {e}");
                }
            }
        }
    }

    #[test]
    fn a_deploy_is_a_bad_version_rolled_back_after_its_duration_unless_the_run_ends_first() {
        let spec = crate::scenario::parse(SCENARIO, "test").unwrap();
        let vocab = Vocabulary::of(&spec, false);
        let deploy = |at_ms, duration_ms| Fault {
            at_ms,
            duration_ms,
            kind: Kind::Deploy,
            target: Target::Service("api".into()),
            severity: 250,
        };
        assert_eq!(
            vocab.ron(&deploy(10_000, 5_000)),
            "Deploy(service: \"api\", at: \"10s\", version: (name: Some(\"explore-bad\"), \
             error_rate: Some(0.25), service_time: None), max_surge: \"25%\", \
             max_unavailable: \"25%\", rollback_on_alert: false), \
             Rollback(service: \"api\", at: \"15s\")"
        );
        let mut s = spec.clone();
        vocab.add_to(&deploy(50_000, 10_000), &mut s);
        assert_eq!(s.deployments.len(), 1, "no rollback at the run's end");
        assert!(crate::model::validate(&s, "test").is_ok());
    }

    /// Under `Proportional(per_node: 4096)` a store of n nodes holds 4096 n partitions
    /// and a join adds 4096 more: from 23 nodes that makes 98,304, within the 100,000
    /// cap, so `NodeAdd` is offered and validates; from 24 it would make 102,400, which
    /// validation refuses, so it is not offered (`NodeRemove` still is).
    #[test]
    fn a_node_add_is_offered_only_within_the_partition_cap() {
        let spec = |nodes: u32| {
            crate::scenario::parse(
                &format!(
                    r#"Scenario(name: "p", duration: "60s",
                    services: [Service(name: "store", replicas: 30,
                        service_time: Constant("2ms"),
                        partitioning: Some(Partitioning(initial_nodes: Some({nodes}),
                            rebalance: Some(Rebalance(
                                strategy: Proportional(per_node: 4096))))))],
                    workload: [Open(target: "store", rate: 10.0)])"#
                ),
                "test",
            )
            .unwrap()
        };
        let kinds = |nodes| -> Vec<Kind> {
            Vocabulary::of(&spec(nodes), true)
                .options
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| matches!(k, Kind::NodeAdd | Kind::NodeRemove))
                .collect()
        };
        assert_eq!(kinds(23), [Kind::NodeAdd, Kind::NodeRemove]);
        assert_eq!(kinds(24), [Kind::NodeRemove]);
        let (mut s, vocab) = (spec(23), Vocabulary::of(&spec(23), true));
        let add = Fault {
            at_ms: 10_000,
            duration_ms: 1,
            kind: Kind::NodeAdd,
            target: Target::Service("store".into()),
            severity: 1000,
        };
        vocab.add_to(&add, &mut s);
        assert!(crate::model::validate(&s, "test").is_ok());
        let mut over = spec(24);
        vocab.add_to(&add, &mut over);
        let err = crate::model::validate(&over, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("102400 partitions"), "{err}");
    }
}
