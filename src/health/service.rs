//! One service's health: count its issues from the subsystems' results, never recompute
//! them.
//!
//! | issue | points |
//! |---|---|
//! | any objective (availability or latency) not met | 2 |
//! | reliability score < 50 | 2 |
//! | reliability score < 70 (and >= 50) | 1 |
//! | any governance check failed | 1 |
//! | over budget | 1 |
//!
//! 4 points or more: CRITICAL; 2 or 3: DEGRADED; 0 or 1: HEALTHY. A missing runbook alone
//! or a cost overrun alone does not make a service unhealthy; a breached objective does.

use crate::metrics::health::{
    AlertEpisode, CostReport, GovernanceReport, HealthStatus, ReliabilityMetrics, ServiceHealth,
    SloStatus,
};

/// The issue points of a service (see the module docs).
pub fn issue_points(
    slo_breached: bool,
    score: f64,
    governance_failed: bool,
    over_budget: bool,
) -> u32 {
    let mut n = 0;
    if slo_breached {
        n += 2;
    }
    if score < 50.0 {
        n += 2;
    } else if score < 70.0 {
        n += 1;
    }
    n + governance_failed as u32 + over_budget as u32
}

pub fn status(issues: u32) -> HealthStatus {
    match issues {
        n if n >= 4 => HealthStatus::Critical,
        n if n >= 2 => HealthStatus::Degraded,
        _ => HealthStatus::Healthy,
    }
}

/// Why the service has its points, one line per issue.
fn reasons(
    slos: &[SloStatus],
    reliability: &ReliabilityMetrics,
    cost: &CostReport,
    governance: &GovernanceReport,
) -> Vec<String> {
    let mut out = Vec::new();
    for s in slos.iter().filter(|s| !s.met) {
        out.push(format!(
            "{} SLO breached: {:.3}% measured, target {}% (+2)",
            s.name, s.measured_pct, s.target_pct
        ));
    }
    let score = reliability.score;
    if score < 70.0 {
        let (cut, points) = if score < 50.0 { (50, 2) } else { (70, 1) };
        out.push(format!("reliability score {score} below {cut} (+{points})"));
    }
    if governance.failed > 0 {
        let names: Vec<&str> = governance
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        let none = if governance.declared {
            ""
        } else {
            "none declared, "
        };
        out.push(format!(
            "governance: {none}{} of {} checks failed ({}) (+1)",
            governance.failed,
            governance.checks.len(),
            names.join(", ")
        ));
    }
    if cost.over_budget {
        out.push(format!(
            "over budget: {:.2} a month against {:.2} (+1)",
            cost.monthly_cost, cost.monthly_budget
        ));
    }
    out
}

/// A service's health row from its subsystem results.
pub fn assess(
    name: &str,
    tier: &str,
    slos: Vec<SloStatus>,
    alerts: Vec<AlertEpisode>,
    reliability: ReliabilityMetrics,
    cost: CostReport,
    governance: GovernanceReport,
) -> ServiceHealth {
    let issues = issue_points(
        slos.iter().any(|s| !s.met),
        reliability.score,
        governance.failed > 0,
        cost.over_budget,
    );
    ServiceHealth {
        name: name.to_string(),
        status: status(issues),
        reliability_score: reliability.score,
        issues,
        reasons: reasons(&slos, &reliability, &cost, &governance),
        tier: tier.to_string(),
        slos,
        alerts,
        reliability,
        cost,
        governance,
        budget: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breach_and_score_60_is_degraded_with_3_issues() {
        let n = issue_points(true, 60.0, false, false);
        assert_eq!(n, 3);
        assert_eq!(status(n), HealthStatus::Degraded);
    }

    #[test]
    fn breach_and_score_40_is_critical() {
        let n = issue_points(true, 40.0, false, false);
        assert_eq!(n, 4);
        assert_eq!(status(n), HealthStatus::Critical);
    }

    #[test]
    fn thresholds() {
        assert_eq!(issue_points(false, 100.0, false, false), 0);
        assert_eq!(
            status(issue_points(false, 100.0, true, false)),
            HealthStatus::Healthy
        );
        assert_eq!(
            status(issue_points(false, 100.0, true, true)),
            HealthStatus::Degraded
        );
        assert_eq!(issue_points(false, 70.0, false, false), 0);
        assert_eq!(issue_points(false, 69.9, false, false), 1);
        assert_eq!(issue_points(false, 50.0, false, false), 1);
        assert_eq!(issue_points(false, 49.9, false, false), 2);
        assert_eq!(issue_points(true, 0.0, true, true), 6);
        assert_eq!(status(1), HealthStatus::Healthy);
        assert_eq!(status(2), HealthStatus::Degraded);
        assert_eq!(status(3), HealthStatus::Degraded);
        assert_eq!(status(4), HealthStatus::Critical);
    }
}
