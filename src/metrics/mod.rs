//! Measurements: histograms, time averages, the per-window time series, and the summary
//! they are reduced to at the end of a run.

pub mod bottleneck;
pub mod events;
pub mod health;
pub mod histogram;
pub mod ledger;
pub mod level;
pub mod partition;
pub mod readmodel;
pub mod record;
pub mod stream;
pub mod summary;
pub mod verdict;

pub use health::HealthReport;
pub use histogram::{Latency, LatencyHistogram, WindowHistogram};
pub use level::Level;
pub use record::{Effect, Outcome, Recorder, Refusal};
pub use summary::{
    AutoscaleSummary, BreakerSummary, CallSummary, DeploymentSummary, Downtime, FaultVerdict,
    GroupSummary, LatencyBuckets, OrderingSummary, OrdersSummary, OutageSummary, PodSummary,
    ProducerBufferSummary, PulledSummary, QueueSummary, ScaleEvent, ServiceRecovery,
    ServiceSummary, StepSummary, Summary, TimeSeries, TopicSummary, Transition, WorkloadSummary,
};
