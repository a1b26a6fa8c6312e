//! Measurements: histograms, time averages, the per-window time series, and the summary
//! they are reduced to at the end of a run.

pub mod histogram;
pub mod level;
pub mod record;
pub mod summary;
pub mod verdict;

pub use histogram::{Latency, LatencyHistogram, WindowHistogram};
pub use level::Level;
pub use record::{Effect, Outcome, Recorder, Refusal};
pub use summary::{
    BreakerSummary, CallSummary, Downtime, FaultVerdict, OutageSummary, ServiceRecovery,
    ServiceSummary, Summary, TimeSeries, Transition, WorkloadSummary,
};
