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
//!
//! Rolling deploys (`deployments`) are left out: a deploy needs a version to go to, which
//! a search cannot invent. A kind a scenario has nothing for is not in its vocabulary.

use crate::engine::SimTime;
use crate::scenario::{DistSpec, FaultSpec, Spec};
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
}

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
        )
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
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Service(s) | Target::Broker(s) => f.write_str(s),
            Target::Link(a, b) => write!(f, "{a}->{b}"),
            Target::Node(n) => write!(f, "node {n}"),
            Target::Platform(None) => f.write_str("platform"),
            Target::Platform(Some(names)) => f.write_str(&names.join("+")),
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
    /// Replicas of each service, by name (for `Crash` severity).
    replicas: Vec<(String, u32)>,
    /// Services and brokers: the platform's size for the share budget.
    pub components: Vec<String>,
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
        if whole_platform {
            options.push((Kind::Outage, Target::Platform(None)));
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
            components,
        }
    }

    fn replicas(&self, service: &str) -> u32 {
        self.replicas
            .iter()
            .find(|(n, _)| n == service)
            .map_or(1, |(_, r)| *r)
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
            Target::Service(s) | Target::Broker(s) => (s.clone(), (String::new(), String::new())),
            Target::Link(a, b) => (String::new(), (a.clone(), b.clone())),
            _ => (String::new(), (String::new(), String::new())),
        };
        let (from, to) = link;
        match (fault.kind, &fault.target) {
            (Kind::Crash, _) => {
                let all = self.replicas(&service);
                let some = (u64::from(all) * u64::from(fault.severity)).div_ceil(1000) as u32;
                FaultSpec::Crash {
                    target: service,
                    at,
                    duration,
                    replicas: (some.max(1) < all).then_some(some.max(1)),
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
            (Kind::Partition, _) => FaultSpec::Partition {
                from,
                to,
                at,
                duration,
                one_way: false,
            },
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
        }
    }

    fn is_broker(&self, name: &str) -> bool {
        !self.replicas.iter().any(|(n, _)| n == name)
    }
}

/// The brokers service `s` publishes to or consumes from, each once, in broker order.
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
