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
    /// Probability that a request ends in an error of the service's own.
    #[serde(default)]
    pub error_rate: f64,
    /// Downstream calls, made in order after the service time, holding the server.
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// How arrivals are spread over the replicas.
    #[serde(default)]
    pub balancer: BalancerSpec,
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
}

/// Whether the caller fails (`Hard`) or carries on degraded (`Soft`) when the call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DependencySpec {
    #[default]
    Hard,
    Soft,
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
        /// The client's own timeout: it stops waiting (the platform does not stop working).
        #[serde(default)]
        timeout: Option<String>,
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

/// A fault injected at a time, for a duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    Crash {
        target: String,
        at: String,
        duration: String,
    },
    Pause {
        target: String,
        at: String,
        duration: String,
    },
    Latency {
        target: String,
        at: String,
        duration: String,
        add: DistSpec,
    },
    Errors {
        target: String,
        at: String,
        duration: String,
        rate: f64,
    },
    Capacity {
        target: String,
        at: String,
        duration: String,
        factor: f64,
    },
    Spike {
        target: String,
        at: String,
        duration: String,
        rate: f64,
    },
    Outage {
        at: String,
        duration: String,
    },
}
