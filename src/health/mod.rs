//! Platform health: SLOs, error budgets, burn-rate alerts, reliability, cost and
//! governance for every simulated service, and the facade that turns them into one view.
//!
//! Data flows one way: this module reads a finished run's [`Summary`](crate::metrics::Summary)
//! and the [`Platform`](crate::model::Platform)'s objectives, cost and governance, and
//! returns a [`HealthReport`](crate::metrics::HealthReport) (plain data, defined with the
//! summary in `metrics::health` so the summary can carry it). The engine knows nothing of
//! it; `run::run` fills `summary.health` with [`report()`] right after the run.
//!
//! One module per subsystem, each independent of the others and made of pure functions:
//! - [`slo`]: availability and latency SLIs, error budget left, per-window SLIs;
//! - [`alerts`]: multiwindow multi-burn-rate alerts, scaled to the simulated period, and
//!   the time each fault took to be detected;
//! - [`reliability`]: uptime, MTTR, incidents per 30 days, change failure rate, score;
//! - [`cost`]: replica-hours and requests priced, projected to a month, trend, budget;
//! - [`governance`]: runbook, monitoring, owner, documentation, incident response.
//!
//! The facade: [`service`] counts one service's issues into HEALTHY / DEGRADED /
//! CRITICAL, and [`report`](report::report) gathers the inputs and the platform totals.

pub mod alerts;
pub mod cost;
pub mod governance;
pub mod reliability;
pub mod report;
pub mod service;
pub mod slo;

pub use report::report;
