//! The facade: the platform health report from a validated platform (objectives, cost,
//! governance) and its finished run's summary. It only gathers inputs, calls the
//! subsystems and counts their results; every formula lives in a subsystem.

use super::alerts::{self, FaultWindow};
use super::reliability::Deployments;
use super::{cost, governance, reliability, service, slo};
use crate::metrics::health::{HealthReport, HealthStatus, ServiceHealth, Severity};
use crate::metrics::Summary;
use crate::model::{FaultKind, Platform};
use crate::scenario::TierSpec;

/// The time-series column of the oldest item waiting for `svc`: its workers' job queue's
/// oldest job, or else its consumer group's lag in seconds.
fn oldest_column(platform: &Platform, svc: &crate::model::Service) -> String {
    match (&svc.workers, &svc.consume) {
        (Some(w), _) => format!(
            "queue.{}.oldest_age_s",
            platform.queues[w.queue as usize].name
        ),
        (None, Some(c)) => format!(
            "topic.{}.{}.lag_s",
            platform.topics[c.topic as usize].name, svc.name
        ),
        (None, None) => String::new(),
    }
}

/// The health of every service of `platform` after the run that produced `summary`.
pub fn report(platform: &Platform, summary: &Summary) -> HealthReport {
    let from = summary.warmup_s;
    let end = summary.duration_s;
    let period = (end - from).max(0.0);
    let no_events = Default::default();
    let grid_s = summary
        .slo_events
        .first()
        .map_or(1.0, |e| e.width.as_secs_f64());
    let rules = alerts::rules(grid_s);
    let mut rows = Vec::with_capacity(platform.services.len());
    let columns = summary.timeseries.index();
    for (i, svc) in platform.services.iter().enumerate() {
        let Some(s) = summary.services.get(&svc.name) else {
            continue;
        };
        let windows = slo::windows(&summary.timeseries, &columns, &svc.name, from, end);
        let mut slos = slo::objectives(&svc.slo, s, &windows);
        if let Some(a) = &svc.slo.queue_age {
            let ages = slo::column_after(&summary.timeseries, &oldest_column(platform, svc), from);
            slos.push(slo::queue_age(a, &ages));
        }
        let events = summary.slo_events.get(i).unwrap_or(&no_events);
        let availability = slo::event_windows(events, false, from, end);
        let mut episodes =
            alerts::evaluate(&rules, &availability, "availability", svc.slo.availability);
        let mut budget = vec![slo::budget_series(&slos[0], &availability, from)];
        if let Some(l) = &svc.slo.latency {
            let latency = slo::event_windows(events, true, from, end);
            episodes.extend(alerts::evaluate(&rules, &latency, "latency", l.target));
            episodes.sort_by(|a, b| a.fired_s.total_cmp(&b.fired_s));
            budget.push(slo::budget_series(&slos[1], &latency, from));
        }
        let pages: Vec<reliability::Span> = episodes
            .iter()
            .filter(|e| e.severity == Severity::Page)
            .map(|e| (e.fired_s, e.resolved_s))
            .collect();
        let downtime: Vec<reliability::Span> =
            s.downtime.iter().map(|d| (d.start_s, d.end_s)).collect();
        let rel = reliability::measure(
            s.uptime_ratio,
            &downtime,
            &pages,
            from,
            end,
            deployments(svc, summary),
        );
        let cost = cost::report(svc.cost.as_ref(), s.replica_hours, s.arrivals, period);
        let gov = governance::checks(&svc.name, svc.governance.as_ref());
        rows.push(ServiceHealth {
            budget,
            ..service::assess(
                &svc.name,
                tier_name(svc.slo.tier),
                slos,
                episodes,
                rel,
                cost,
                gov,
            )
        });
    }
    let faults = fault_windows(platform);
    let alerting: Vec<(&str, &[_])> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.alerts.as_slice()))
        .collect();
    let detections = alerts::detections(&faults, &alerting);
    HealthReport {
        slo_period_s: period,
        alert_rules: rules.iter().map(|r| r.describe()).collect(),
        detections,
        ..aggregate(rows)
    }
}

/// The platform totals over the service rows; no rows give the zero report.
pub fn aggregate(services: Vec<ServiceHealth>) -> HealthReport {
    if services.is_empty() {
        return HealthReport::default();
    }
    let count = |st: HealthStatus| services.iter().filter(|s| s.status == st).count() as u64;
    let n = services.len() as f64;
    let cost: f64 = services.iter().map(|s| s.cost.monthly_cost).sum();
    let score: f64 = services.iter().map(|s| s.reliability_score).sum();
    HealthReport {
        total_services: services.len() as u64,
        healthy: count(HealthStatus::Healthy),
        degraded: count(HealthStatus::Degraded),
        critical: count(HealthStatus::Critical),
        slo_breaches: services
            .iter()
            .map(|s| s.slos.iter().filter(|o| !o.met).count() as u64)
            .sum(),
        total_monthly_cost: (cost * 100.0).round() / 100.0,
        avg_reliability_score: (score / n * 10.0).round() / 10.0,
        governance_failures: services.iter().map(|s| s.governance.failed as u64).sum(),
        over_budget: services.iter().filter(|s| s.cost.over_budget).count() as u64,
        services,
        ..HealthReport::default()
    }
}

/// A service's rolling updates, and the failed ones: those rolled back.
fn deployments(service: &crate::model::Service, summary: &Summary) -> Deployments {
    let mine = summary
        .deployments
        .iter()
        .filter(|d| d.service == service.name);
    Deployments {
        total: mine.clone().count() as u64,
        failed: mine.filter(|d| d.outcome == "rolled_back").count() as u64,
    }
}

fn tier_name(t: TierSpec) -> &'static str {
    match t {
        TierSpec::Critical => "critical",
        TierSpec::Default => "default",
        TierSpec::NonCritical => "non_critical",
    }
}

/// Each fault with the services that may notice it: the ones it hits and, transitively,
/// their callers (a failure travels up the calls, never down or sideways).
fn fault_windows(p: &Platform) -> Vec<FaultWindow> {
    let n = p.services.len();
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, s) in p.services.iter().enumerate() {
        for c in &s.calls {
            callers[c.to.0 as usize].push(i);
            // A cache's caller notices the cache's faults too.
            if let Some(cache) = c.cache {
                callers[cache.service.0 as usize].push(i);
            }
        }
    }
    p.faults
        .iter()
        .map(|f| {
            let hit: Vec<usize> = match &f.kind {
                FaultKind::Outage { services, .. } => {
                    services.iter().map(|s| s.0 as usize).collect()
                }
                // A fault with no single target (a node's loss hits whichever pods ran
                // there): any service may notice it.
                k => match k.target() {
                    Some(t) => vec![t.0 as usize],
                    None => (0..n).collect(),
                },
            };
            let mut seen = vec![false; n];
            let mut stack = hit;
            let mut affected = Vec::new();
            while let Some(s) = stack.pop() {
                if std::mem::replace(&mut seen[s], true) {
                    continue;
                }
                affected.push(s);
                stack.extend(callers[s].iter().copied());
            }
            affected.sort_unstable();
            FaultWindow {
                kind: f.kind.name().to_string(),
                target: f.kind.target().map(|t| p.service(t).name.clone()),
                start_s: f.start.as_secs_f64(),
                end_s: f.end.as_secs_f64(),
                affected,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_services_give_the_zero_report() {
        let r = aggregate(Vec::new());
        assert_eq!(r, HealthReport::default());
        assert_eq!(r.total_services, 0);
        assert_eq!(r.avg_reliability_score, 0.0);
        assert_eq!(r.total_monthly_cost, 0.0);
        assert!(r.services.is_empty());
    }

    fn row(name: &str, score: f64, met: bool, monthly: f64) -> ServiceHealth {
        let slos = vec![crate::metrics::health::SloStatus {
            name: "availability".into(),
            target_pct: 99.9,
            measured_pct: if met { 100.0 } else { 99.0 },
            good: 0,
            valid: 0,
            budget_remaining_pct: 0.0,
            met,
            threshold_ms: None,
            worst_window_pct: None,
        }];
        let mut rel = reliability::measure(1.0, &[], &[], 0.0, 60.0, Deployments::default());
        rel.score = score;
        let mut c = cost::report(None, 0.0, 0, 60.0);
        c.monthly_cost = monthly;
        let g = governance::checks(
            name,
            Some(&crate::scenario::GovernanceSpec {
                owner: Some("team".into()),
                runbook: Some("r".into()),
                monitoring: true,
                documentation: Some("d".into()),
                incident_response: Some("i".into()),
            }),
        );
        service::assess(name, "default", slos, Vec::new(), rel, c, g)
    }

    #[test]
    fn totals() {
        let r = aggregate(vec![
            row("a", 100.0, true, 10.006),
            row("b", 60.0, false, 20.0),
            row("c", 40.0, false, 0.0),
        ]);
        assert_eq!(r.total_services, 3);
        assert_eq!((r.healthy, r.degraded, r.critical), (1, 1, 1));
        assert_eq!(r.services[1].issues, 3);
        assert_eq!(r.slo_breaches, 2);
        assert_eq!(r.total_monthly_cost, 30.01);
        assert_eq!(r.avg_reliability_score, 66.7);
        assert_eq!(r.governance_failures, 0);
    }
}
