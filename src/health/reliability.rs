//! Reliability from the run: uptime, MTTR, incidents and change failure rate (the DORA
//! view), and a 0-100 score from them.
//!
//! - **Uptime %**: the share of the measured time (after the warmup) with at least one
//!   replica up and ready (`uptime_ratio` x 100).
//! - **MTTR**: the mean length of the service's downtime periods (no replica up and
//!   ready) that reach into the measured time, from failure to ready again. A period
//!   still open when the run ends counts until the end of the run: a lower bound, so a
//!   service that never comes back cannot look quick to repair. 0 without downtime.
//! - **Incidents**: spans of downtime (no replica up and ready) and of fast budget burn
//!   (page-severity alert episodes, on any objective), both measured on raw events (the
//!   instants replicas changed state, the SLI event grid), never on the time series'
//!   rows, so `window` and `--max-rows` do not change them. Spans that overlap or begin
//!   less than [`INCIDENT_MERGE_GAP_S`] (30 min) after the previous one ended are one
//!   incident: a crash that pages is one incident, a page that resolves and fires again
//!   ten minutes later too (the on-call engineer is still on it). Scaled to
//!   30 days: incidents x 30 d / measured time (one incident in a 10-minute run is 4,320
//!   a month: short runs are judged harshly, as they should be).
//! - **Extrapolation, said out loud**: a run measured over less than 30 days
//!   ([`MONTH_S`]) *extrapolates* its incidents to a month; the figure is then marked
//!   (`incidents_30d_extrapolated`) and carries the exact (Garwood) 95% Poisson interval
//!   on the incident count, scaled the same way (`incidents_30d_low`/`_high`): one
//!   incident in 10 minutes is 4,320 a month, somewhere between 109 and 24,069. The
//!   score still uses the point figure; `score_inputs_measured` and
//!   `score_inputs_extrapolated` say which of its inputs are which (uptime, MTTR and the
//!   change failure rate are always measured over the run itself).
//! - **Change failure rate**: failed deployments / deployments x 100, 0 without
//!   deployments. The simulator has no deployments yet: the facade passes
//!   [`Deployments::default()`]; the issue that adds rolling updates counts them there.
//!
//! **Score** (0-100), the sum of four parts in tiers (first tier that matches):
//!
//! | part | points |
//! |---|---|
//! | uptime % (40) | >= 99.99: 40, >= 99.9: 35, >= 99.5: 30, >= 99: 20, >= 95: 10, else 0 |
//! | MTTR minutes (25) | <= 5: 25, <= 15: 20, <= 30: 15, <= 60: 10, <= 240: 5, else 0 |
//! | incidents per 30 days (20) | 0: 20, <= 1: 15, <= 3: 10, <= 5: 5, else 0 |
//! | change failure rate % (15) | <= 5: 15, <= 10: 10, <= 15: 5, else 0 |
//!
//! The MTTR tiers put DORA's elite "under an hour" at 10 points or more; the change
//! failure rate tiers are DORA 2023's elite (5%), high (10%) and medium (15%) clusters.

use crate::metrics::health::ReliabilityMetrics;

/// Spans closer than this (from one's end to the next one's start) are one incident.
pub const INCIDENT_MERGE_GAP_S: f64 = 30.0 * 60.0;

/// Seconds in the 30 days incidents are scaled to.
pub const MONTH_S: f64 = 30.0 * 24.0 * 3600.0;

/// Deployments over the run: the extension point for rolling updates. Until the
/// simulator deploys, every service has none (change failure rate 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deployments {
    pub total: u64,
    /// Those that caused an incident.
    pub failed: u64,
}

/// A closed or open interval of virtual time, in seconds.
pub type Span = (f64, Option<f64>);

pub fn uptime_pct(uptime_ratio: f64) -> f64 {
    (uptime_ratio * 100.0).clamp(0.0, 100.0)
}

/// Spans that reach into `[from_s, end_s]`, with open ones closed at `end_s`.
fn measured(spans: &[Span], from_s: f64, end_s: f64) -> Vec<(f64, f64)> {
    spans
        .iter()
        .map(|&(a, b)| (a, b.unwrap_or(end_s).max(a)))
        .filter(|&(a, b)| b > from_s || a >= from_s)
        .collect()
}

/// Mean time to repair in minutes over the downtime periods that reach into the
/// measured time (open ones until `end_s`); with how many there were and how many
/// never ended.
pub fn mttr_minutes(downtime: &[Span], from_s: f64, end_s: f64) -> (f64, u64, u64) {
    let periods = measured(downtime, from_s, end_s);
    let open = downtime.iter().filter(|(_, b)| b.is_none()).count() as u64;
    if periods.is_empty() {
        return (0.0, 0, open);
    }
    let total: f64 = periods.iter().map(|(a, b)| b - a).sum();
    (
        total / periods.len() as f64 / 60.0,
        periods.len() as u64,
        open,
    )
}

/// Incidents: the downtime periods and page alert episodes that reach into the measured
/// time, merged when one begins less than [`INCIDENT_MERGE_GAP_S`] after the last ended.
pub fn incidents(downtime: &[Span], pages: &[Span], from_s: f64, end_s: f64) -> u64 {
    let mut spans = measured(downtime, from_s, end_s);
    spans.extend(measured(pages, from_s, end_s));
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut count = 0;
    let mut reach = f64::NEG_INFINITY;
    for (a, b) in spans {
        if a >= reach + INCIDENT_MERGE_GAP_S {
            count += 1;
            reach = b;
        } else {
            reach = reach.max(b);
        }
    }
    count
}

/// P(X <= k) for X ~ Poisson(lambda), summed in log space (no overflow for large k).
fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    let ln_l = lambda.ln();
    let mut ln_fact = 0.0;
    let mut sum = 0.0;
    for i in 0..=k {
        if i > 0 {
            ln_fact += (i as f64).ln();
        }
        sum += (i as f64 * ln_l - lambda - ln_fact).exp();
    }
    sum.min(1.0)
}

/// The lambda at which the decreasing `f(lambda)` crosses `target`, by bisection in
/// `[lo, hi]`.
fn solve(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The exact two-sided 95% confidence interval on the mean of a Poisson count `k`
/// (Garwood 1936): the lower end solves P(X >= k) = 2.5%, the upper P(X <= k) = 2.5%.
/// 0 gives (0, 3.689), 1 gives (0.0253, 5.572), 10 gives (4.795, 18.39).
pub fn poisson_interval_95(k: u64) -> (f64, f64) {
    const TAIL: f64 = 0.025;
    let kf = k as f64;
    let hi_bound = kf + 20.0 * (kf + 1.0).sqrt() + 20.0;
    let upper = solve(|l| poisson_cdf(k, l), TAIL, kf, hi_bound);
    let lower = if k == 0 {
        0.0
    } else {
        // P(X >= k) = 1 - P(X <= k - 1) increases with lambda.
        solve(|l| poisson_cdf(k - 1, l), 1.0 - TAIL, 0.0, kf)
    };
    (lower, upper)
}

/// `count` over `period_s`, scaled to 30 days; 0 for an empty period.
pub fn per_30_days(count: u64, period_s: f64) -> f64 {
    per_30_days_f(count as f64, period_s)
}

fn per_30_days_f(count: f64, period_s: f64) -> f64 {
    if period_s > 0.0 {
        count * MONTH_S / period_s
    } else {
        0.0
    }
}

pub fn change_failure_rate_pct(d: Deployments) -> f64 {
    if d.total == 0 {
        0.0
    } else {
        d.failed.min(d.total) as f64 / d.total as f64 * 100.0
    }
}

pub fn uptime_points(uptime_pct: f64) -> f64 {
    match uptime_pct {
        u if u >= 99.99 => 40.0,
        u if u >= 99.9 => 35.0,
        u if u >= 99.5 => 30.0,
        u if u >= 99.0 => 20.0,
        u if u >= 95.0 => 10.0,
        _ => 0.0,
    }
}

pub fn mttr_points(mttr_minutes: f64) -> f64 {
    match mttr_minutes {
        m if m <= 5.0 => 25.0,
        m if m <= 15.0 => 20.0,
        m if m <= 30.0 => 15.0,
        m if m <= 60.0 => 10.0,
        m if m <= 240.0 => 5.0,
        _ => 0.0,
    }
}

pub fn incident_points(incidents_30d: f64) -> f64 {
    match incidents_30d {
        n if n <= 0.0 => 20.0,
        n if n <= 1.0 => 15.0,
        n if n <= 3.0 => 10.0,
        n if n <= 5.0 => 5.0,
        _ => 0.0,
    }
}

pub fn change_failure_points(cfr_pct: f64) -> f64 {
    match cfr_pct {
        c if c <= 5.0 => 15.0,
        c if c <= 10.0 => 10.0,
        c if c <= 15.0 => 5.0,
        _ => 0.0,
    }
}

/// The 0-100 reliability score (see the module docs for the tiers).
pub fn score(uptime_pct: f64, mttr_minutes: f64, incidents_30d: f64, cfr_pct: f64) -> f64 {
    uptime_points(uptime_pct)
        + mttr_points(mttr_minutes)
        + incident_points(incidents_30d)
        + change_failure_points(cfr_pct)
}

/// Everything above for one service: `downtime` and page alert episodes `pages` over the
/// whole run; the measured time is `[from_s, end_s]`.
pub fn measure(
    uptime_ratio: f64,
    downtime: &[Span],
    pages: &[Span],
    from_s: f64,
    end_s: f64,
    deployments: Deployments,
) -> ReliabilityMetrics {
    let uptime = uptime_pct(uptime_ratio);
    let (mttr, periods, open) = mttr_minutes(downtime, from_s, end_s);
    let n = incidents(downtime, pages, from_s, end_s);
    let period = end_s - from_s;
    let n30 = per_30_days(n, period);
    let extrapolated = period < MONTH_S;
    let (low, high) = poisson_interval_95(n);
    let (measured_inputs, extrapolated_inputs) = if extrapolated {
        (MEASURED_INPUTS[..3].to_vec(), vec![MEASURED_INPUTS[3]])
    } else {
        (MEASURED_INPUTS.to_vec(), Vec::new())
    };
    let cfr = change_failure_rate_pct(deployments);
    let parts = [
        uptime_points(uptime),
        mttr_points(mttr),
        incident_points(n30),
        change_failure_points(cfr),
    ];
    ReliabilityMetrics {
        uptime_pct: uptime,
        mttr_minutes: mttr,
        downtime_periods: periods,
        unresolved_downtime: open,
        incidents: n,
        incidents_30d: n30,
        incidents_30d_extrapolated: extrapolated,
        incidents_30d_low: per_30_days_f(low, period),
        incidents_30d_high: per_30_days_f(high, period),
        deployments: deployments.total,
        failed_deployments: deployments.failed,
        change_failure_rate_pct: cfr,
        score_uptime: parts[0],
        score_mttr: parts[1],
        score_incidents: parts[2],
        score_change_failure_rate: parts[3],
        score: parts.iter().sum(),
        score_inputs_measured: measured_inputs,
        score_inputs_extrapolated: extrapolated_inputs,
    }
}

/// The score's inputs by their summary key; the last, incidents per 30 days, is
/// extrapolated when the run is shorter than 30 days.
const MEASURED_INPUTS: [&str; 4] = [
    "uptime_pct",
    "mttr_minutes",
    "change_failure_rate_pct",
    "incidents_30d",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_example_scores_85() {
        // 99.95% uptime (35), 8 min MTTR (20), 1 incident (15), 5% CFR (15).
        assert_eq!(score(99.95, 8.0, 1.0, 5.0), 85.0);
        assert_eq!(score(100.0, 0.0, 0.0, 0.0), 100.0);
        assert_eq!(score(50.0, 1e6, 1e6, 100.0), 0.0);
    }

    #[test]
    fn tier_edges() {
        assert_eq!(uptime_points(99.99), 40.0);
        assert_eq!(uptime_points(99.98), 35.0);
        assert_eq!(uptime_points(99.9), 35.0);
        assert_eq!(uptime_points(99.5), 30.0);
        assert_eq!(uptime_points(99.0), 20.0);
        assert_eq!(uptime_points(95.0), 10.0);
        assert_eq!(uptime_points(94.9), 0.0);
        assert_eq!(mttr_points(5.0), 25.0);
        assert_eq!(mttr_points(10.0), 20.0);
        assert_eq!(mttr_points(60.0), 10.0);
        assert_eq!(mttr_points(241.0), 0.0);
        assert_eq!(incident_points(0.0), 20.0);
        assert_eq!(incident_points(0.5), 15.0);
        assert_eq!(incident_points(3.0), 10.0);
        assert_eq!(incident_points(6.0), 0.0);
        assert_eq!(change_failure_points(10.0), 10.0);
        assert_eq!(change_failure_points(64.0), 0.0);
    }

    #[test]
    fn mttr_counts_open_periods_to_the_end() {
        let down = [(100.0, Some(160.0)), (200.0, Some(380.0))];
        assert_eq!(mttr_minutes(&down, 0.0, 1000.0), (2.0, 2, 0));
        // Never back: 600 s to the end of the run.
        let down = [(400.0, None)];
        assert_eq!(mttr_minutes(&down, 0.0, 1000.0), (10.0, 1, 1));
        // Periods over before the warmup ended are not measured.
        let down = [(10.0, Some(20.0)), (100.0, Some(160.0))];
        assert_eq!(mttr_minutes(&down, 30.0, 1000.0), (1.0, 1, 0));
        assert_eq!(mttr_minutes(&[], 0.0, 1000.0), (0.0, 0, 0));
    }

    #[test]
    fn a_crash_that_pages_is_one_incident() {
        let down = [(100.0, Some(700.0))];
        let pages = [(101.0, Some(701.0)), (102.0, Some(705.0)), (2600.0, None)];
        // The last page begins 31 min after the crash's page ended: a second incident.
        assert_eq!(incidents(&down, &pages, 0.0, 3000.0), 2);
        // A page 29 min after the last one resolved is the same incident.
        let pages = [(101.0, Some(701.0)), (705.0 + 29.0 * 60.0, None)];
        assert_eq!(incidents(&down, &pages, 0.0, 3000.0), 1);
        assert_eq!(incidents(&[], &[], 0.0, 1000.0), 0);
        // One incident in a day is 30 a month.
        assert_eq!(per_30_days(1, 86_400.0), 30.0);
        assert_eq!(per_30_days(3, 0.0), 0.0);
    }

    #[test]
    fn change_failure_rate_is_zero_without_deployments() {
        assert_eq!(change_failure_rate_pct(Deployments::default()), 0.0);
        let d = Deployments {
            total: 20,
            failed: 3,
        };
        assert_eq!(change_failure_rate_pct(d), 15.0);
    }

    #[test]
    fn measure_a_ten_minute_crash_in_a_day() {
        let m = measure(
            1.0 - 600.0 / 86_400.0,
            &[(3600.0, Some(4200.0))],
            &[(3601.0, Some(4210.0))],
            0.0,
            86_400.0,
            Deployments::default(),
        );
        assert!((m.uptime_pct - 99.3055).abs() < 1e-3);
        assert_eq!(m.mttr_minutes, 10.0);
        assert_eq!(m.incidents, 1);
        assert_eq!(m.incidents_30d, 30.0);
        // 20 (uptime >= 99) + 20 (MTTR <= 15) + 0 + 15.
        assert_eq!(m.score, 55.0);
        // A day is not a month: the 30 a month is extrapolated, 0.0253-5.572 x 30.
        assert!(m.incidents_30d_extrapolated);
        assert!((m.incidents_30d_low - 0.7595).abs() < 1e-3, "{m:?}");
        assert!((m.incidents_30d_high - 167.15).abs() < 1e-2, "{m:?}");
        assert_eq!(m.score_inputs_extrapolated, ["incidents_30d"]);
        assert_eq!(
            m.score_inputs_measured,
            ["uptime_pct", "mttr_minutes", "change_failure_rate_pct"]
        );
    }

    #[test]
    fn garwood_intervals_match_the_tables() {
        // Garwood (1936) / the exact Poisson table: 0 -> (0, 3.689), 1 -> (0.0253,
        // 5.572), 10 -> (4.795, 18.39), 100 -> (81.36, 121.63).
        let close = |k: u64, lo: f64, hi: f64| {
            let (l, h) = poisson_interval_95(k);
            assert!(
                (l - lo).abs() < 1e-3 && (h - hi).abs() < 1e-2,
                "{k}: {l} {h}"
            );
        };
        close(0, 0.0, 3.689);
        close(1, 0.0253, 5.572);
        close(10, 4.795, 18.390);
        close(100, 81.364, 121.627);
        // 0 is -ln(2.5%) exactly.
        assert!((poisson_interval_95(0).1 + 0.025f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn a_month_or_more_is_measured_not_extrapolated() {
        let m = measure(1.0, &[], &[], 0.0, MONTH_S, Deployments::default());
        assert!(!m.incidents_30d_extrapolated);
        assert_eq!(m.incidents_30d, 0.0);
        assert_eq!(m.incidents_30d_low, 0.0);
        assert!((m.incidents_30d_high - 3.689).abs() < 1e-3);
        assert!(m.score_inputs_extrapolated.is_empty());
        assert_eq!(m.score_inputs_measured.len(), 4);
    }
}
