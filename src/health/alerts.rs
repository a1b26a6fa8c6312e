//! Burn-rate alerts on the availability objective: multiwindow, multi-burn-rate, as in the
//! Google SRE workbook ("Alerting on SLOs"), evaluated on the run's time series.
//!
//! burn rate = error ratio over a window / (1 - target). A rule fires while the burn rate
//! over its long window AND over its short window are both above its threshold; it
//! resolves at the first evaluation where that is no longer so. The workbook's starting
//! rules, for an SLO period P = 30 days:
//!
//! | rule | severity | burn rate | long window | short window | budget burnt at threshold |
//! |---|---|---|---|---|---|
//! | `page-fast` | page | 14.4 | 1 h | 5 min | 2% |
//! | `page-slow` | page | 6 | 6 h | 30 min | 5% |
//! | `ticket` | ticket | 1 | 3 d | 6 h | 10% |
//!
//! **Scaled to the simulated period.** The objective is measured over the run after its
//! warmup (period T). When T is shorter than 30 days, every window is multiplied by
//! T / 30 d, so that each rule still means "this share of the period's budget burnt in
//! the long window" (a 1 h run pages on `page-fast` when 2% of that hour's budget goes
//! in 5 s). Windows are then whole time-series windows (the evaluation step): the short
//! window is rounded to whole windows with at least one, and the long window is at least
//! 12 short ones (the workbook's ratio), so on a coarse series a rule needs a larger
//! share of the budget than 2% / 5% / 10% to fire; `AlertRule::budget_consumed_pct` says
//! how much. Runs of 30 days or more use the workbook's windows as they are.
//!
//! Evaluation happens at the end of every time-series window after the warmup, so a
//! detection delay is quantized to the window. At the start of the measured period the
//! windows hold what there is so far (as a rate over a partial range would). A window
//! with no valid events burns nothing.
//!
//! Latency objectives are not alerted on (the time series has no per-window count of
//! fast requests); they count in the SLO and the health.

use super::slo::WindowCounts;
use crate::metrics::health::{AlertEpisode, AlertRule, Detection, Severity};

/// The SLO period the workbook's rules are written for: 30 days.
pub const WORKBOOK_PERIOD_S: f64 = 30.0 * 24.0 * 3600.0;

/// A workbook rule before scaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleSpec {
    pub name: &'static str,
    pub severity: Severity,
    pub burn_rate: f64,
    pub long_s: f64,
    pub short_s: f64,
}

/// The workbook's recommended starting rules.
pub const WORKBOOK_RULES: [RuleSpec; 3] = [
    RuleSpec {
        name: "page-fast",
        severity: Severity::Page,
        burn_rate: 14.4,
        long_s: 3600.0,
        short_s: 300.0,
    },
    RuleSpec {
        name: "page-slow",
        severity: Severity::Page,
        burn_rate: 6.0,
        long_s: 6.0 * 3600.0,
        short_s: 1800.0,
    },
    RuleSpec {
        name: "ticket",
        severity: Severity::Ticket,
        burn_rate: 1.0,
        long_s: 3.0 * 24.0 * 3600.0,
        short_s: 6.0 * 3600.0,
    },
];

/// A rule as evaluated on a series: its windows in whole time-series windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub spec: RuleSpec,
    pub long_windows: usize,
    pub short_windows: usize,
    pub window_s: f64,
    /// The period the budget share refers to: min(T, 30 d).
    pub period_s: f64,
}

impl Rule {
    pub fn long_s(&self) -> f64 {
        self.long_windows as f64 * self.window_s
    }
    pub fn short_s(&self) -> f64 {
        self.short_windows as f64 * self.window_s
    }
    /// The rule as reported.
    pub fn describe(&self) -> AlertRule {
        AlertRule {
            name: self.spec.name.to_string(),
            severity: self.spec.severity,
            burn_rate: self.spec.burn_rate,
            long_window_s: self.long_s(),
            short_window_s: self.short_s(),
            budget_consumed_pct: if self.period_s > 0.0 {
                self.spec.burn_rate * self.long_s() / self.period_s * 100.0
            } else {
                0.0
            },
        }
    }
}

/// The workbook rules scaled to a measured period of `period_s` on a series of
/// `window_s` windows (see the module docs).
pub fn rules(period_s: f64, window_s: f64) -> Vec<Rule> {
    let window_s = if window_s > 0.0 { window_s } else { 1.0 };
    let period_s = period_s.max(0.0);
    let scale = (period_s / WORKBOOK_PERIOD_S).min(1.0);
    WORKBOOK_RULES
        .iter()
        .map(|&spec| {
            let ratio = (spec.long_s / spec.short_s).round().max(1.0) as usize;
            let short_windows = ((spec.short_s * scale / window_s).round() as usize).max(1);
            let long_windows =
                ((spec.long_s * scale / window_s).round() as usize).max(ratio * short_windows);
            Rule {
                spec,
                long_windows,
                short_windows,
                window_s,
                period_s: period_s.min(WORKBOOK_PERIOD_S),
            }
        })
        .collect()
}

/// Burn rate of `bad` out of `valid` against an error budget `budget` (a fraction):
/// 0 without bad events, infinite when the budget is 0 and something went wrong.
pub fn burn_rate(bad: f64, valid: f64, budget: f64) -> f64 {
    if bad <= 0.0 || valid <= 0.0 {
        0.0
    } else if budget <= 0.0 {
        f64::INFINITY
    } else {
        bad / valid / budget
    }
}

/// Every episode of every rule over `windows`, for an availability target in percent;
/// ordered by firing time, then by rule.
pub fn evaluate(rules: &[Rule], windows: &[WindowCounts], target_pct: f64) -> Vec<AlertEpisode> {
    let budget = (100.0 - target_pct) / 100.0;
    // Prefix sums of whole counts: exact in f64.
    let mut bad = vec![0.0; windows.len() + 1];
    let mut valid = vec![0.0; windows.len() + 1];
    for (i, w) in windows.iter().enumerate() {
        bad[i + 1] = bad[i] + w.bad;
        valid[i + 1] = valid[i] + w.valid;
    }
    let burn = |i: usize, k: usize| {
        let from = (i + 1).saturating_sub(k);
        burn_rate(bad[i + 1] - bad[from], valid[i + 1] - valid[from], budget)
    };
    let mut out = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let mut firing: Option<f64> = None;
        for (i, w) in windows.iter().enumerate() {
            let threshold = rule.spec.burn_rate;
            let on =
                burn(i, rule.long_windows) > threshold && burn(i, rule.short_windows) > threshold;
            match (firing, on) {
                (None, true) => firing = Some(w.end_s),
                (Some(fired), false) => {
                    out.push((r, episode(rule, fired, Some(w.end_s))));
                    firing = None;
                }
                _ => {}
            }
        }
        if let Some(fired) = firing {
            out.push((r, episode(rule, fired, None)));
        }
    }
    out.sort_by(|(ra, a), (rb, b)| a.fired_s.total_cmp(&b.fired_s).then(ra.cmp(rb)));
    out.into_iter().map(|(_, e)| e).collect()
}

fn episode(rule: &Rule, fired_s: f64, resolved_s: Option<f64>) -> AlertEpisode {
    AlertEpisode {
        rule: rule.spec.name.to_string(),
        severity: rule.spec.severity,
        burn_rate: rule.spec.burn_rate,
        fired_s,
        resolved_s,
    }
}

/// A fault, and the services whose alerts may be credited with noticing it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub kind: String,
    pub target: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    /// Indexes into the services passed to [`detections`]: the services it hits and
    /// those upstream of them (their callers, transitively).
    pub affected: Vec<usize>,
}

/// For each fault, the first alert episode (any rule) that fired at an affected service
/// at or after the fault's start and no later than `grace_s` after its end (an alert
/// that was already firing when the fault began does not count; one that first fires
/// later is not credited to it). `services` are `(name, episodes)`.
pub fn detections(
    faults: &[FaultWindow],
    services: &[(&str, &[AlertEpisode])],
    grace_s: f64,
) -> Vec<Detection> {
    faults
        .iter()
        .map(|f| {
            let first = f
                .affected
                .iter()
                .filter_map(|&s| services.get(s))
                .flat_map(|(name, eps)| eps.iter().map(move |e| (*name, e)))
                .filter(|(_, e)| e.fired_s >= f.start_s && e.fired_s <= f.end_s + grace_s)
                .min_by(|(_, a), (_, b)| a.fired_s.total_cmp(&b.fired_s));
            Detection {
                kind: f.kind.clone(),
                target: f.target.clone(),
                start_s: f.start_s,
                end_s: f.end_s,
                detected: first.is_some(),
                fired_s: first.map(|(_, e)| e.fired_s),
                time_to_detect_s: first.map(|(_, e)| e.fired_s - f.start_s),
                service: first.map(|(n, _)| n.to_string()),
                rule: first.map(|(_, e)| e.rule.clone()),
                severity: first.map(|(_, e)| e.severity),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(bad: &[f64], valid: f64) -> Vec<WindowCounts> {
        bad.iter()
            .enumerate()
            .map(|(i, &b)| WindowCounts {
                start_s: i as f64,
                end_s: i as f64 + 1.0,
                bad: b,
                valid,
            })
            .collect()
    }

    #[test]
    fn workbook_rules_burn_their_budget_share() {
        // Unscaled (a 30-day run on 1 s windows): 2%, 5%, 10% of the budget.
        let r = rules(WORKBOOK_PERIOD_S, 1.0);
        let pct: Vec<f64> = r.iter().map(|r| r.describe().budget_consumed_pct).collect();
        assert!((pct[0] - 2.0).abs() < 1e-9, "{pct:?}");
        assert!((pct[1] - 5.0).abs() < 1e-9);
        assert!((pct[2] - 10.0).abs() < 1e-9);
        assert_eq!((r[0].long_windows, r[0].short_windows), (3600, 300));
        // Longer runs keep the workbook's windows.
        assert_eq!(rules(10.0 * WORKBOOK_PERIOD_S, 60.0)[0].long_s(), 3600.0);
    }

    #[test]
    fn short_runs_scale_the_windows() {
        // A 3-day run: windows / 10; page-fast 6 min over 30 s.
        let r = rules(3.0 * 24.0 * 3600.0, 1.0);
        assert_eq!((r[0].long_s(), r[0].short_s()), (360.0, 30.0));
        assert!((r[0].describe().budget_consumed_pct - 2.0).abs() < 1e-9);
        // A 1 h run on 1 s windows: the short window is one window, the long twelve.
        let r = rules(3600.0, 1.0);
        assert_eq!((r[0].long_windows, r[0].short_windows), (12, 1));
        assert!((r[0].describe().budget_consumed_pct - 4.8).abs() < 1e-9);
        // No period at all: still at least one window each.
        assert_eq!(rules(0.0, 0.0)[0].short_windows, 1);
    }

    #[test]
    fn burn_rates() {
        assert_eq!(burn_rate(0.0, 0.0, 0.001), 0.0);
        assert!((burn_rate(1.0, 100.0, 0.001) - 10.0).abs() < 1e-9);
        assert_eq!(burn_rate(1.0, 100.0, 0.0), f64::INFINITY);
        assert_eq!(burn_rate(0.0, 100.0, 0.0), 0.0);
    }

    #[test]
    fn a_full_outage_fires_at_once_and_resolves_after_the_short_window() {
        let rules = rules(3600.0, 1.0); // page-fast: 12 s over 1 s
        let mut bad = vec![0.0; 100];
        for b in &mut bad[30..40] {
            *b = 100.0; // 10 s of total failure out of 100 requests per second
        }
        let eps = evaluate(&rules[..1], &series(&bad, 100.0), 99.9);
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].fired_s, 31.0);
        // The short window clears at the first clean window.
        assert_eq!(eps[0].resolved_s, Some(41.0));
        let d = detections(
            &[FaultWindow {
                kind: "crash".into(),
                target: Some("a".into()),
                start_s: 30.0,
                end_s: 40.0,
                affected: vec![0],
            }],
            &[("a", &eps)],
            60.0,
        );
        assert!(d[0].detected);
        assert_eq!(d[0].time_to_detect_s, Some(1.0));
        assert_eq!(d[0].rule.as_deref(), Some("page-fast"));
    }

    #[test]
    fn small_error_rates_do_not_page_and_alerts_before_a_fault_are_not_credited() {
        let rules = rules(3600.0, 1.0);
        // 0.5% errors against a 99% objective: burn 0.5.
        let eps = evaluate(&rules, &series(&[1.0; 50], 200.0), 99.0);
        assert!(eps.is_empty());
        // Constant 50% errors against 99.9: every rule fires in the first window and
        // never resolves.
        let eps = evaluate(&rules, &series(&[50.0; 50], 100.0), 99.9);
        assert_eq!(eps.len(), 3);
        assert!(eps
            .iter()
            .all(|e| e.fired_s == 1.0 && e.resolved_s.is_none()));
        let fault = FaultWindow {
            kind: "errors".into(),
            target: Some("a".into()),
            start_s: 10.0,
            end_s: 20.0,
            affected: vec![0],
        };
        let d = detections(&[fault], &[("a", &eps)], 60.0);
        assert!(!d[0].detected);
        assert_eq!(d[0].time_to_detect_s, None);
    }
}
