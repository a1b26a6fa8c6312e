//! Burn-rate alerts on every objective (availability and latency): multiwindow,
//! multi-burn-rate, as in the Google SRE workbook ("Alerting on SLOs"), evaluated on the
//! services' SLI events (`metrics::events`), never on the time series' rows.
//!
//! burn rate = bad ratio over a window / (1 - target). A rule fires while the burn rate
//! over its long window AND over its short window are both above its threshold AND the
//! short window holds at least [`MIN_BAD_EVENTS`] bad events; it resolves at the first
//! evaluation where that is no longer so. The workbook's rules, for a 30-day objective:
//!
//! | rule | severity | burn rate | long window | short window | budget burnt at threshold |
//! |---|---|---|---|---|---|
//! | `page-fast` | page | 14.4 | 1 h | 5 min | 2% |
//! | `page-slow` | page | 6 | 6 h | 30 min | 5% |
//! | `ticket` | ticket | 1 | 3 d | 6 h | 10% |
//!
//! **Real windows, whatever the run's length.** The windows are the workbook's, never
//! scaled down: scaled to seconds, 1% error noise paged a hundred times in 8 minutes.
//! **Short-run rule**: while the run (after its warmup) is shorter than a rule's window,
//! the window holds what there is so far, as a range query over a freshly started series
//! does; so an 8-minute run pages when its budget burns 14.4 times too fast over the
//! last 5 minutes (or since the start) and over the run, with 10 bad events at least.
//!
//! **Minimum of bad events**: [`MIN_BAD_EVENTS`] (10) in the short window. A service
//! at 2 requests a minute does not page on its first failure.
//!
//! Evaluation happens at the end of every bucket of the event grid (100 ms for runs up
//! to 83 minutes, 1 min for 30 days), so a detection delay is quantized to it, and the
//! result does not depend on `window` or `--max-rows`.
//!
//! Latency objectives burn their own budget: bad events are successful requests slower
//! than the threshold, valid ones the successful requests; they page like availability.

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

/// Bad events a rule's short window must hold before it fires.
pub const MIN_BAD_EVENTS: f64 = 10.0;

/// A rule as evaluated on the event grid: its windows in whole buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub spec: RuleSpec,
    pub long_windows: usize,
    pub short_windows: usize,
    pub window_s: f64,
    /// The period the budget share refers to: 30 days.
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

/// The workbook rules on an event grid of `bucket_s` buckets (see the module docs).
pub fn rules(bucket_s: f64) -> Vec<Rule> {
    let bucket_s = if bucket_s > 0.0 { bucket_s } else { 1.0 };
    WORKBOOK_RULES
        .iter()
        .map(|&spec| Rule {
            spec,
            long_windows: ((spec.long_s / bucket_s).round() as usize).max(1),
            short_windows: ((spec.short_s / bucket_s).round() as usize).max(1),
            window_s: bucket_s,
            period_s: WORKBOOK_PERIOD_S,
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

/// Whether `rule` fires on `long` and `short` window counts `(bad, valid)` against an
/// error budget `budget` (a fraction): the one firing condition, for the report's alerts
/// and for a rollout's online rollback alike.
pub fn fires(rule: &Rule, long: (f64, f64), short: (f64, f64), budget: f64) -> bool {
    let threshold = rule.spec.burn_rate;
    burn_rate(long.0, long.1, budget) > threshold
        && burn_rate(short.0, short.1, budget) > threshold
        && short.0 >= MIN_BAD_EVENTS
}

/// Every episode of every rule over `windows`, for an objective (`availability` or
/// `latency`) with a target in percent; ordered by firing time, then by rule.
pub fn evaluate(
    rules: &[Rule],
    windows: &[WindowCounts],
    objective: &str,
    target_pct: f64,
) -> Vec<AlertEpisode> {
    let budget = (100.0 - target_pct) / 100.0;
    // Prefix sums of whole counts: exact in f64.
    let mut bad = vec![0.0; windows.len() + 1];
    let mut valid = vec![0.0; windows.len() + 1];
    for (i, w) in windows.iter().enumerate() {
        bad[i + 1] = bad[i] + w.bad;
        valid[i + 1] = valid[i] + w.valid;
    }
    let counts = |i: usize, k: usize| {
        let from = (i + 1).saturating_sub(k);
        (bad[i + 1] - bad[from], valid[i + 1] - valid[from])
    };
    let mut out = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let mut firing: Option<f64> = None;
        for (i, w) in windows.iter().enumerate() {
            let on = fires(
                rule,
                counts(i, rule.long_windows),
                counts(i, rule.short_windows),
                budget,
            );
            match (firing, on) {
                (None, true) => firing = Some(w.end_s),
                (Some(fired), false) => {
                    out.push((r, episode(rule, objective, fired, Some(w.end_s))));
                    firing = None;
                }
                _ => {}
            }
        }
        if let Some(fired) = firing {
            out.push((r, episode(rule, objective, fired, None)));
        }
    }
    out.sort_by(|(ra, a), (rb, b)| a.fired_s.total_cmp(&b.fired_s).then(ra.cmp(rb)));
    out.into_iter().map(|(_, e)| e).collect()
}

fn episode(rule: &Rule, objective: &str, fired_s: f64, resolved_s: Option<f64>) -> AlertEpisode {
    AlertEpisode {
        rule: rule.spec.name.to_string(),
        objective: objective.to_string(),
        short_window_s: rule.short_s(),
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

/// For each fault, the first alert episode (any rule, any objective) that fired at an
/// affected service at or after the fault's start and no later than the rule's short
/// window after its end, the longest a burn during the fault can drive it (an alert
/// already firing when the fault began does not count; one that first fires later is not
/// credited to it). `services` are `(name, episodes)`: the alerts the report shows.
pub fn detections(faults: &[FaultWindow], services: &[(&str, &[AlertEpisode])]) -> Vec<Detection> {
    faults
        .iter()
        .map(|f| {
            let first = f
                .affected
                .iter()
                .filter_map(|&s| services.get(s))
                .flat_map(|(name, eps)| eps.iter().map(move |e| (*name, e)))
                .filter(|(_, e)| {
                    e.fired_s >= f.start_s && e.fired_s <= f.end_s + e.short_window_s + 1e-9
                })
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
        // The workbook's windows on a 1 s grid: 2%, 5%, 10% of a 30-day budget.
        let r = rules(1.0);
        let pct: Vec<f64> = r.iter().map(|r| r.describe().budget_consumed_pct).collect();
        assert!((pct[0] - 2.0).abs() < 1e-9, "{pct:?}");
        assert!((pct[1] - 5.0).abs() < 1e-9);
        assert!((pct[2] - 10.0).abs() < 1e-9);
        assert_eq!((r[0].long_windows, r[0].short_windows), (3600, 300));
        // The same windows in minutes on a 1 min grid; never scaled to the run.
        let r = rules(60.0);
        assert_eq!((r[0].long_s(), r[0].short_s()), (3600.0, 300.0));
        assert_eq!((r[2].long_windows, r[2].short_windows), (4320, 360));
        assert_eq!(rules(0.0)[0].short_windows, 300);
    }

    #[test]
    fn burn_rates() {
        assert_eq!(burn_rate(0.0, 0.0, 0.001), 0.0);
        assert!((burn_rate(1.0, 100.0, 0.001) - 10.0).abs() < 1e-9);
        assert_eq!(burn_rate(1.0, 100.0, 0.0), f64::INFINITY);
        assert_eq!(burn_rate(0.0, 100.0, 0.0), 0.0);
    }

    #[test]
    fn a_full_outage_fires_at_once_and_resolves_when_the_short_window_is_clean() {
        let rules = rules(1.0); // page-fast: 3,600 s over 300 s
        let mut bad = vec![0.0; 400];
        for b in &mut bad[30..40] {
            *b = 100.0; // 10 s of total failure out of 100 requests per second
        }
        let eps = evaluate(&rules[..1], &series(&bad, 100.0), "availability", 99.9);
        assert_eq!(eps.len(), 1);
        // The windows hold what there is so far: 100 bad of 3,100 burns 32x at 31 s.
        assert_eq!(eps[0].fired_s, 31.0);
        // Once the last 5 minutes hold under 1.44% failures (400 of 30,000 at 336 s).
        assert_eq!(eps[0].resolved_s, Some(336.0));
        assert_eq!(eps[0].objective, "availability");
        let fault = |start_s: f64, end_s: f64| FaultWindow {
            kind: "crash".into(),
            target: Some("a".into()),
            start_s,
            end_s,
            affected: vec![0],
        };
        let d = detections(&[fault(30.0, 40.0)], &[("a", &eps)]);
        assert!(d[0].detected);
        assert_eq!(d[0].time_to_detect_s, Some(1.0));
        assert_eq!(d[0].rule.as_deref(), Some("page-fast"));
        // An alert firing more than its short window after a fault is not its detection.
        let d = detections(&[fault(0.0, 31.0 - 301.0)], &[("a", &eps)]);
        assert!(!d[0].detected);
    }

    #[test]
    fn noise_and_a_few_failures_do_not_page_and_alerts_before_a_fault_are_not_credited() {
        let rules = rules(1.0);
        // 0.9% errors against a 99% objective, bunched: burn 0.9, noise or not.
        let noisy: Vec<f64> = (0..600).map(|i| [0.0, 1.0, 3.0][i % 3]).collect();
        assert!(evaluate(&rules, &series(&noisy, 150.0), "availability", 99.0).is_empty());
        // Nine failures in a row at one request a second: below the minimum of 10.
        let mut few = vec![0.0; 100];
        few[50..59].iter_mut().for_each(|b| *b = 1.0);
        assert!(evaluate(&rules, &series(&few, 1.0), "availability", 99.9).is_empty());
        few[59] = 1.0;
        let eps = evaluate(&rules, &series(&few, 1.0), "availability", 99.9);
        assert_eq!(eps[0].fired_s, 60.0, "{eps:?}");
        // Constant 50% errors against 99.9: every rule fires once ten have failed and
        // never resolves.
        let eps = evaluate(&rules, &series(&[50.0; 50], 100.0), "latency", 99.9);
        assert_eq!(eps.len(), 3);
        assert!(eps
            .iter()
            .all(|e| e.fired_s == 1.0 && e.resolved_s.is_none() && e.objective == "latency"));
        let fault = FaultWindow {
            kind: "errors".into(),
            target: Some("a".into()),
            start_s: 10.0,
            end_s: 20.0,
            affected: vec![0],
        };
        let d = detections(&[fault], &[("a", &eps)]);
        assert!(!d[0].detected);
        assert_eq!(d[0].time_to_detect_s, None);
    }
}
