//! The validated platform: what the engine runs.
//!
//! A `Platform` is built only by [`validate`] from a `Spec`, so every value in it is in
//! range: ids index their vectors, times are integers, defaults are applied. Once a
//! platform exists, nothing the user wrote can make the run fail.

pub mod dist;
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
}

impl Platform {
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.0 as usize]
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
    pub error_rate: f64,
    pub calls: Vec<Call>,
    pub balancer: Balancer,
}

pub use crate::scenario::BalancerSpec as Balancer;
pub use crate::scenario::DependencySpec as Dependency;

#[derive(Debug, Clone)]
pub struct Call {
    pub to: ServiceId,
    pub dependency: Dependency,
    pub timeout: Option<SimTime>,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub target: ServiceId,
    pub kind: WorkloadKind,
    /// The client's own timeout.
    pub timeout: Option<SimTime>,
}

#[derive(Debug, Clone)]
pub enum WorkloadKind {
    /// Poisson arrivals whose rate follows a schedule.
    Open(RateSchedule),
    /// A fixed population of users who send, wait for the answer, then think.
    Closed { users: u32, think_time: Dist },
}
