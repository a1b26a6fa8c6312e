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
    /// One row per window; written to timeseries.csv, not to summary.json.
    #[serde(skip)]
    pub timeseries: TimeSeries,
}

/// What happened at one service. Every request that arrived after the warmup is in exactly
/// one of: `ok`, `errors`, `dependency_failed`, `timeouts`, `rejected`, `in_flight`.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub arrivals: u64,
    /// Answered: `ok + errors + dependency_failed + timeouts`.
    pub completed: u64,
    pub ok: u64,
    /// Failed by the service itself (its `error_rate`).
    pub errors: u64,
    /// Failed because a hard dependency failed.
    pub dependency_failed: u64,
    /// Refused on arrival (waiting room full).
    pub rejected: u64,
    /// Answered after the caller had stopped waiting: wasted work.
    pub timeouts: u64,
    /// Of `ok`: answered while a soft dependency failed.
    pub degraded: u64,
    /// Still in the service when the run ended.
    pub in_flight: u64,
    pub throughput_rps: f64,
    /// Busy server time / (servers x measured time).
    pub utilization: f64,
    /// Time-average number of requests at the service (waiting and in service).
    pub mean_in_system: f64,
    /// Time-average number waiting for a server.
    pub mean_in_queue: f64,
    /// Arrival until a server takes the request.
    pub wait_ms: Latency,
    /// Arrival until the answer (wait + service + calls).
    pub sojourn_ms: Latency,
}

/// What the clients of one workload saw.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSummary {
    pub target: String,
    pub arrivals: u64,
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

/// A table of numbers: named columns, one row per window.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    pub columns: Vec<String>,
    /// Row-major: `rows.len() == row_count * columns.len()`.
    pub values: Vec<f64>,
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

    /// The values of one column, by name.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows().map(|r| r[i]).collect())
    }
}
