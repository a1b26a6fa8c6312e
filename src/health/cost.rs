//! Cost: what a service cost over the run, projected to a month, against its budget and
//! its history.
//!
//! - period cost = replica-hours x `replica_hour` + requests / 1e6 x
//!   `per_million_requests`, where replica-hours are those up and ready in the measured
//!   time (they drop while replicas are crashed) and requests are every arrival in the
//!   measured time (refused ones too: a gateway bills what it receives);
//! - monthly cost = period cost x 30 days / measured time, rounded to cents (0 for an
//!   empty period);
//! - trend: the scenario's `history` with the simulated month appended as the latest
//!   entry; change = (latest - previous) / previous x 100: > 20% SPIKING, > 5%
//!   INCREASING, < -5% DECREASING, else STABLE; STABLE with fewer than two entries or a
//!   previous entry of 0;
//! - over budget only when latest > budget > 0 (a budget of 0 means "none set").
//!
//! A service without a `cost` costs 0, has no budget and a STABLE trend.

use crate::metrics::health::{CostReport, CostTrend};
use crate::scenario::CostSpec;

/// Seconds in the month costs are projected to: 30 days.
pub const MONTH_S: f64 = 30.0 * 24.0 * 3600.0;

pub fn period_cost(replica_hours: f64, requests: u64, spec: &CostSpec) -> f64 {
    replica_hours * spec.replica_hour + requests as f64 / 1e6 * spec.per_million_requests
}

/// `cost` over `period_s`, scaled to 30 days and rounded to cents.
pub fn monthly(cost: f64, period_s: f64) -> f64 {
    if period_s > 0.0 {
        round2(cost * MONTH_S / period_s)
    } else {
        0.0
    }
}

/// The trend of a cost history (oldest first) and the last change in percent.
pub fn trend(history: &[f64]) -> (CostTrend, Option<f64>) {
    let [.., prev, latest] = history else {
        return (CostTrend::Stable, None);
    };
    if *prev == 0.0 {
        return (CostTrend::Stable, None);
    }
    let change = (latest - prev) / prev * 100.0;
    let t = if change > 20.0 {
        CostTrend::Spiking
    } else if change > 5.0 {
        CostTrend::Increasing
    } else if change < -5.0 {
        CostTrend::Decreasing
    } else {
        CostTrend::Stable
    };
    (t, Some(change))
}

/// latest > budget > 0.
pub fn over_budget(latest: f64, budget: f64) -> bool {
    latest > budget && budget > 0.0
}

/// The cost of a service with `spec` (or none) that ran `replica_hours` and received
/// `requests` over a measured period of `period_s`.
pub fn report(
    spec: Option<&CostSpec>,
    replica_hours: f64,
    requests: u64,
    period_s: f64,
) -> CostReport {
    let Some(spec) = spec else {
        return CostReport {
            declared: false,
            replica_hours,
            requests,
            ..CostReport::default()
        };
    };
    let cost = period_cost(replica_hours, requests, spec);
    let month = monthly(cost, period_s);
    let mut history = spec.history.clone();
    history.push(month);
    let (trend, change_pct) = trend(&history);
    CostReport {
        declared: true,
        replica_hours,
        requests,
        period_cost: cost,
        monthly_cost: month,
        monthly_budget: spec.monthly_budget,
        history,
        trend,
        change_pct,
        over_budget: over_budget(month, spec.monthly_budget),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(replica_hour: f64, per_million: f64, budget: f64, history: &[f64]) -> CostSpec {
        CostSpec {
            replica_hour,
            per_million_requests: per_million,
            monthly_budget: budget,
            history: history.to_vec(),
        }
    }

    #[test]
    fn a_quarter_more_is_spiking() {
        let (t, change) = trend(&[2800.0, 3500.0]);
        assert_eq!(t, CostTrend::Spiking);
        assert_eq!(change, Some(25.0));
    }

    #[test]
    fn trend_tiers() {
        assert_eq!(trend(&[100.0, 110.0]).0, CostTrend::Increasing);
        assert_eq!(trend(&[100.0, 120.0]).0, CostTrend::Increasing);
        assert_eq!(trend(&[100.0, 105.0]).0, CostTrend::Stable);
        assert_eq!(trend(&[100.0, 90.0]).0, CostTrend::Decreasing);
        assert_eq!(trend(&[100.0, 95.0]).0, CostTrend::Stable);
        assert_eq!(trend(&[500.0]), (CostTrend::Stable, None));
        assert_eq!(trend(&[]), (CostTrend::Stable, None));
        assert_eq!(trend(&[0.0, 500.0]), (CostTrend::Stable, None));
        // Only the last two entries count.
        assert_eq!(trend(&[1.0, 100.0, 100.0]).0, CostTrend::Stable);
    }

    #[test]
    fn a_budget_of_zero_is_never_exceeded() {
        assert!(!over_budget(1e9, 0.0));
        assert!(over_budget(101.0, 100.0));
        assert!(!over_budget(100.0, 100.0));
    }

    #[test]
    fn projected_to_a_month() {
        // 4 replicas for a day at 0.05 per hour, 1e6 requests at 0.2 per million.
        let s = spec(0.05, 0.2, 150.0, &[4.0]);
        let r = report(Some(&s), 96.0, 1_000_000, 86_400.0);
        assert!((r.period_cost - 5.0).abs() < 1e-12);
        assert_eq!(r.monthly_cost, 150.0);
        assert_eq!(r.history, vec![4.0, 150.0]);
        assert_eq!(r.trend, CostTrend::Spiking);
        assert!(!r.over_budget);
        let r = report(
            Some(&spec(0.05, 0.2, 100.0, &[])),
            96.0,
            1_000_000,
            86_400.0,
        );
        assert!(r.over_budget);
        assert_eq!(r.trend, CostTrend::Stable);
        // No cost declared: free.
        let r = report(None, 96.0, 1_000_000, 86_400.0);
        assert!(!r.declared && r.monthly_cost == 0.0 && !r.over_budget);
        assert_eq!(monthly(5.0, 0.0), 0.0);
    }
}
