//! The health report's data: plain serializable structs that [`crate::health`] fills from
//! a finished run's summary and the platform's objectives, cost and governance.
//!
//! They live here, next to the summary, so that the summary can carry them while data
//! still flows one way: `health` reads `metrics` (the summary), and nothing in `metrics`
//! knows how a report is computed. See `crate::health` for every formula.
//!
//! `summary.json` key `health` (pinned keys first): `total_services`, `healthy`,
//! `degraded`, `critical`, `slo_breaches`, `total_monthly_cost`, `avg_reliability_score`,
//! `services: [{"name", "status", "reliability_score", ...}]`.

use serde::Serialize;

/// Health of one service, from the number of issues it has (see `crate::health::service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthStatus {
    #[default]
    Healthy,
    Degraded,
    Critical,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Degraded => "DEGRADED",
            HealthStatus::Critical => "CRITICAL",
        }
    }
}

/// Month-over-month direction of a service's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CostTrend {
    #[default]
    Stable,
    Increasing,
    Spiking,
    Decreasing,
}

impl CostTrend {
    pub fn as_str(self) -> &'static str {
        match self {
            CostTrend::Stable => "STABLE",
            CostTrend::Increasing => "INCREASING",
            CostTrend::Spiking => "SPIKING",
            CostTrend::Decreasing => "DECREASING",
        }
    }
}

/// How many of the five governance checks a service passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GovernanceStatus {
    /// All of them.
    Compliant,
    /// Some of them.
    Partial,
    /// None.
    #[default]
    NonCompliant,
}

impl GovernanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GovernanceStatus::Compliant => "COMPLIANT",
            GovernanceStatus::Partial => "PARTIAL",
            GovernanceStatus::NonCompliant => "NON_COMPLIANT",
        }
    }
}

/// Who is told when a burn-rate alert fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Someone is woken up.
    Page,
    /// Someone looks at it in working hours.
    Ticket,
}

/// The platform health report. An empty platform gives the zero report (`Default`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthReport {
    pub total_services: u64,
    pub healthy: u64,
    pub degraded: u64,
    pub critical: u64,
    /// Objectives not met, over all services (a service may breach two).
    pub slo_breaches: u64,
    /// Sum of the services' costs projected to 30 days, rounded to cents.
    pub total_monthly_cost: f64,
    /// Mean of the services' reliability scores, one decimal; 0 without services.
    pub avg_reliability_score: f64,
    /// Governance checks failed, over all services.
    pub governance_failures: u64,
    /// Services whose projected monthly cost is over their budget.
    pub over_budget: u64,
    /// The period objectives and costs were measured over: the run after its warmup.
    pub slo_period_s: f64,
    /// The burn-rate alert rules as evaluated in this run (the workbook's windows).
    pub alert_rules: Vec<AlertRule>,
    /// One entry per fault, in scenario order: which alert noticed it, and how soon.
    pub detections: Vec<Detection>,
    /// One row per service, in scenario order.
    pub services: Vec<ServiceHealth>,
}

/// One service's health and the subsystem results it was judged on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceHealth {
    pub name: String,
    pub status: HealthStatus,
    /// 0-100, see `reliability`.
    pub reliability_score: f64,
    /// Issue points: SLO breach 2, score < 50 2 (< 70 1), governance 1, over budget 1.
    pub issues: u32,
    /// One line per issue, saying why.
    pub reasons: Vec<String>,
    /// `critical`, `default` or `non_critical`.
    pub tier: String,
    /// Availability always, latency when the service has a latency objective.
    pub slos: Vec<SloStatus>,
    /// Burn-rate alert episodes on every objective, in firing order.
    pub alerts: Vec<AlertEpisode>,
    pub reliability: ReliabilityMetrics,
    pub cost: CostReport,
    pub governance: GovernanceReport,
    /// Error budget left over time, per objective with events (availability, latency).
    pub budget: Vec<BudgetSeries>,
}

/// An objective's error budget left over the run (see `crate::health::slo::budget_series`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetSeries {
    /// `availability` or `latency`.
    pub objective: String,
    /// The warmup's end, then the end of every k-th bucket of the event grid, in seconds.
    pub t_s: Vec<f64>,
    /// Budget left at each `t_s`, in percent; the last is the objective's
    /// `budget_remaining_pct`.
    pub remaining_pct: Vec<f64>,
}

/// One objective, measured over the run after the warmup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloStatus {
    /// `availability` or `latency`.
    pub name: String,
    pub target_pct: f64,
    /// good / valid x 100; 100 when there were no valid events.
    pub measured_pct: f64,
    pub good: u64,
    pub valid: u64,
    /// max(0, (100 - target) - (100 - measured)) / (100 - target) x 100, one decimal;
    /// 0 when the target is 100.
    pub budget_remaining_pct: f64,
    /// measured >= target.
    pub met: bool,
    /// Latency objectives: the threshold a successful request must answer within.
    pub threshold_ms: Option<f64>,
    /// Availability: the lowest SLI of any time-series window after the warmup that had
    /// valid events (null if none had).
    pub worst_window_pct: Option<f64>,
}

/// A burn-rate rule (Google SRE workbook, multiwindow multi-burn-rate), as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    pub name: String,
    pub severity: Severity,
    /// Fires when the burn rate over both windows is above this.
    pub burn_rate: f64,
    pub long_window_s: f64,
    pub short_window_s: f64,
    /// Share of the period's error budget burnt in the long window at the threshold:
    /// burn_rate x long_window / period x 100 (2% for the fast page rule when unclamped).
    pub budget_consumed_pct: f64,
}

/// An alert from firing to resolving.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEpisode {
    pub rule: String,
    /// `availability` or `latency`: the objective whose budget burnt.
    pub objective: String,
    /// The rule's short window: a fault's alert fires no later than this after its end.
    pub short_window_s: f64,
    pub severity: Severity,
    /// The rule's threshold.
    pub burn_rate: f64,
    /// The end of the first window at which both burn rates were above the threshold.
    pub fired_s: f64,
    /// The end of the first window at which they no longer were; null if still firing at
    /// the end of the run.
    pub resolved_s: Option<f64>,
}

/// Which alert noticed a fault first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub kind: String,
    /// The service hit, or null for the whole platform.
    pub target: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    pub detected: bool,
    /// When the first alert fired at the target or a service upstream of it.
    pub fired_s: Option<f64>,
    /// fired_s - start_s.
    pub time_to_detect_s: Option<f64>,
    /// The service and rule that fired.
    pub service: Option<String>,
    pub rule: Option<String>,
    pub severity: Option<Severity>,
}

/// Reliability from the run (DORA-style), with its 0-100 score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityMetrics {
    /// Share of the measured time with at least one replica up and ready, in percent.
    pub uptime_pct: f64,
    /// Mean length of the downtime periods, in minutes (an unresolved one counts until
    /// the end of the run); 0 without downtime.
    pub mttr_minutes: f64,
    /// Downtime periods in the measured time, and how many never ended.
    pub downtime_periods: u64,
    pub unresolved_downtime: u64,
    /// Page alert episodes and downtime periods, overlapping ones merged into one.
    pub incidents: u64,
    /// incidents x 30 days / measured time.
    pub incidents_30d: f64,
    /// True when the measured time is under 30 days: `incidents_30d` is then a guess.
    pub incidents_30d_extrapolated: bool,
    /// The exact 95% Poisson interval on the incident count, scaled like `incidents_30d`.
    pub incidents_30d_low: f64,
    pub incidents_30d_high: f64,
    pub deployments: u64,
    pub failed_deployments: u64,
    /// failed / deployments x 100; 0 without deployments.
    pub change_failure_rate_pct: f64,
    /// The points of each part: uptime (of 40), MTTR (25), incidents (20), CFR (15).
    pub score_uptime: f64,
    pub score_mttr: f64,
    pub score_incidents: f64,
    pub score_change_failure_rate: f64,
    pub score: f64,
    /// The score's inputs (by key) measured over the run, and those extrapolated from
    /// it to 30 days (`incidents_30d` when the run is shorter).
    pub score_inputs_measured: Vec<&'static str>,
    pub score_inputs_extrapolated: Vec<&'static str>,
}

/// What a service costs, projected from the run to a month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostReport {
    /// False when the service has no `cost`: it then costs 0.
    pub declared: bool,
    pub replica_hours: f64,
    /// Requests that arrived in the measured time (refused ones too).
    pub requests: u64,
    /// replica_hours x replica_hour + requests / 1e6 x per_million_requests.
    pub period_cost: f64,
    /// period_cost x 30 days / measured time, rounded to cents.
    pub monthly_cost: f64,
    /// 0: no budget.
    pub monthly_budget: f64,
    /// The scenario's history with the simulated month appended as the latest entry.
    pub history: Vec<f64>,
    pub trend: CostTrend,
    /// Change from the previous entry to the latest, in percent; null when there is no
    /// previous entry or it is 0.
    pub change_pct: Option<f64>,
    /// latest > budget > 0.
    pub over_budget: bool,
}

/// The five governance checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GovernanceReport {
    pub status: GovernanceStatus,
    /// False when the service has no `governance` block (every check then fails).
    pub declared: bool,
    pub passed: u32,
    pub failed: u32,
    pub checks: Vec<GovernanceCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GovernanceCheck {
    /// `runbook`, `monitoring`, `owner`, `documentation` or `incident_response`.
    pub name: String,
    pub passed: bool,
    /// Empty when passed; otherwise names the service and what is missing.
    pub message: String,
}
