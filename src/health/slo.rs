//! Service level objectives: the SLIs of a service, measured over the run and per
//! time-series window, and the error budget left.
//!
//! **Availability SLI** = good / valid, request-based (SRE workbook):
//! - *good*: requests answered `ok` (degraded answers, served while a soft dependency
//!   failed, are good: the caller got its answer);
//! - *valid*: every request that ended or was refused after the warmup:
//!   `ok + errors + dependency_failed + timeouts + shed + crashed + rejected`. Requests
//!   still in flight when the run ends are not valid yet.
//! - So *bad* = its own errors, failed hard dependencies, answers after the caller gave
//!   up (`timeouts`), requests shed unserved, requests lost in a crash, and every
//!   refusal: a full waiting room, a rate or concurrency limit, and no replica up.
//!
//! Time a service was down counts through its traffic: every request that arrives while
//! no replica is up is refused as unavailable (bad), and those in its hands when it
//! crashed are lost (bad). Downtime without traffic costs no budget here; it shows in
//! the reliability's time-based uptime instead.
//!
//! **Latency SLI** = `latency_good / ok`: successful requests answered within the
//! objective's threshold (from arrival at the service to its answer), among successful
//! requests. Failures count against availability only.
//!
//! With no valid events an SLI is 100% (nothing went wrong that could be seen).
//!
//! The per-window SLI uses the time series, which counts requests in the window they
//! ended in (warmup arrivals that end later are in it, unlike the run's counts).

use crate::metrics::events::SloEvents;
use crate::metrics::health::SloStatus;
use crate::metrics::summary::ColumnIndex;
use crate::metrics::{ServiceSummary, TimeSeries};
use crate::model::{LatencySlo, Slo};

/// Error budget left, in percent of the budget: for target `T` and measured `M` (both
/// percentages), budget = 100 - T, consumed = 100 - M, remaining = max(0, budget -
/// consumed) / budget x 100, rounded to one decimal; 0 when the budget is 0 or less.
pub fn budget_remaining_pct(target: f64, measured: f64) -> f64 {
    let budget = 100.0 - target;
    if budget <= 0.0 {
        return 0.0;
    }
    let consumed = 100.0 - measured;
    let remaining = (budget - consumed).max(0.0);
    round1(remaining / budget * 100.0)
}

/// An objective is met when the measured percentage reaches the target.
pub fn is_met(target: f64, measured: f64) -> bool {
    measured >= target
}

/// good / valid in percent; 100 with no valid events.
pub fn ratio_pct(good: u64, valid: u64) -> f64 {
    if valid == 0 {
        100.0
    } else {
        good as f64 * 100.0 / valid as f64
    }
}

/// `(good, valid)` of the availability SLI over the run (see the module docs).
pub fn availability_counts(s: &ServiceSummary) -> (u64, u64) {
    let valid =
        s.ok + s.errors + s.dependency_failed + s.timeouts + s.shed + s.crashed + s.rejected;
    (s.ok, valid)
}

/// `(good, valid)` of the latency SLI over the run: within the threshold, of `ok`.
pub fn latency_counts(s: &ServiceSummary) -> (u64, u64) {
    (s.latency_good.min(s.ok), s.ok)
}

/// Availability counts of one time-series window of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowCounts {
    pub start_s: f64,
    pub end_s: f64,
    /// Whole requests (rates x width, rounded), kept as floats for sums and ratios.
    pub bad: f64,
    pub valid: f64,
}

/// The availability counts of `service` per window of `series`, for windows that start
/// at or after `from_s` (the warmup's end); the last window ends at `end_s`. Empty if the
/// series has no columns for the service. `index` is `series.index()`, built once for all
/// services.
pub fn windows(
    series: &TimeSeries,
    index: &ColumnIndex,
    service: &str,
    from_s: f64,
    end_s: f64,
) -> Vec<WindowCounts> {
    let col = |c: &str| index.get(&format!("{service}.{c}"));
    let (Some(t), Some(ok), Some(err), Some(rej), Some(tmo), Some(shed)) = (
        index.get("t_s"),
        col("ok_rps"),
        col("errors_rps"),
        col("rejected_rps"),
        col("timeouts_rps"),
        col("shed_rps"),
    ) else {
        return Vec::new();
    };
    let rows: Vec<&[f64]> = series.rows().collect();
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let start = r[t];
        let end = rows.get(i + 1).map_or(end_s, |n| n[t]);
        // A small tolerance: window starts are sums of float seconds.
        if start + 1e-9 < from_s || end <= start {
            continue;
        }
        // The series holds rates (count / width): back to whole requests.
        let w = end - start;
        let count = |c: usize| (r[c] * w).round();
        let bad = count(err) + count(rej) + count(tmo) + count(shed);
        out.push(WindowCounts {
            start_s: start,
            end_s: end,
            bad,
            valid: count(ok) + bad,
        });
    }
    out
}

/// The SLI events of one objective per bucket of the event grid, for buckets that end
/// after `from_s` (the warmup's end) and start before `end_s`: availability's
/// `(bad, valid)`, or with `latency` the slow and all successful requests.
pub fn event_windows(
    events: &SloEvents,
    latency: bool,
    from_s: f64,
    end_s: f64,
) -> Vec<WindowCounts> {
    let w = events.width.as_secs_f64();
    events
        .buckets
        .iter()
        .enumerate()
        .map(|(i, c)| (i as f64 * w, c))
        .filter(|&(start, _)| start + w > from_s + 1e-9 && start < end_s - 1e-9)
        .map(|(start, c)| {
            let (bad, valid) = if latency {
                (c.slow, c.ok)
            } else {
                (c.bad, c.valid)
            };
            WindowCounts {
                start_s: start,
                end_s: (start + w).min(end_s),
                bad: bad as f64,
                valid: valid as f64,
            }
        })
        .collect()
}

/// The lowest availability of any window with valid events, in percent.
pub fn worst_window_pct(windows: &[WindowCounts]) -> Option<f64> {
    windows
        .iter()
        .filter(|w| w.valid > 0.5)
        .map(|w| (1.0 - w.bad / w.valid).clamp(0.0, 1.0) * 100.0)
        .min_by(|a, b| a.total_cmp(b))
}

/// The service's objectives, measured: availability always, latency if it has one.
pub fn objectives(slo: &Slo, s: &ServiceSummary, windows: &[WindowCounts]) -> Vec<SloStatus> {
    let (good, valid) = availability_counts(s);
    let measured = ratio_pct(good, valid);
    let mut out = vec![SloStatus {
        name: "availability".to_string(),
        target_pct: slo.availability,
        measured_pct: measured,
        good,
        valid,
        budget_remaining_pct: budget_remaining_pct(slo.availability, measured),
        met: is_met(slo.availability, measured),
        threshold_ms: None,
        worst_window_pct: worst_window_pct(windows),
    }];
    if let Some(l) = &slo.latency {
        let (good, valid) = latency_counts(s);
        let measured = ratio_pct(good, valid);
        out.push(SloStatus {
            name: "latency".to_string(),
            target_pct: l.target,
            measured_pct: measured,
            good,
            valid,
            budget_remaining_pct: budget_remaining_pct(l.target, measured),
            met: is_met(l.target, measured),
            threshold_ms: Some(l.threshold.0 as f64 / 1e6),
            worst_window_pct: None,
        });
    }
    out
}

/// The queue-age objective: of the windows after the warmup (`ages`: each window's
/// largest age, in seconds, of the oldest item waiting for the service), the share whose
/// age stayed within the objective's `max_age`.
pub fn queue_age(objective: &LatencySlo, ages: &[f64]) -> SloStatus {
    let max_age_s = objective.threshold.as_secs_f64();
    let good = ages.iter().filter(|&&a| a <= max_age_s).count() as u64;
    let valid = ages.len() as u64;
    let measured = ratio_pct(good, valid);
    SloStatus {
        name: "queue_age".to_string(),
        target_pct: objective.target,
        measured_pct: measured,
        good,
        valid,
        budget_remaining_pct: budget_remaining_pct(objective.target, measured),
        met: is_met(objective.target, measured),
        threshold_ms: Some(max_age_s * 1e3),
        worst_window_pct: None,
    }
}

/// The values of `column` in the windows that start at or after `from_s`.
pub fn column_after(series: &TimeSeries, column: &str, from_s: f64) -> Vec<f64> {
    let (Some(t), Some(c)) = (series.column("t_s"), series.column(column)) else {
        return Vec::new();
    };
    t.iter()
        .zip(c)
        .filter(|(t, _)| **t + 1e-9 >= from_s)
        .map(|(_, v)| v)
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_age_counts_windows_within_the_max_age() {
        let objective = LatencySlo {
            threshold: crate::engine::SimTime::from_secs(30),
            target: 75.0,
        };
        let s = queue_age(&objective, &[0.0, 12.5, 30.0, 31.0]);
        assert_eq!((s.good, s.valid, s.measured_pct, s.met), (3, 4, 75.0, true));
        assert_eq!(s.threshold_ms, Some(30_000.0));
        assert_eq!(queue_age(&objective, &[]).measured_pct, 100.0);
    }

    #[test]
    fn half_the_budget_left() {
        // Target 99.9, measured 99.95: budget 0.1, consumed 0.05.
        assert_eq!(budget_remaining_pct(99.9, 99.95), 50.0);
        assert!(is_met(99.9, 99.95));
    }

    #[test]
    fn overspent_budget_is_zero_and_not_met() {
        assert_eq!(budget_remaining_pct(99.99, 99.8), 0.0);
        assert!(!is_met(99.99, 99.8));
    }

    #[test]
    fn edge_cases() {
        // A target of 100 has no budget at all.
        assert_eq!(budget_remaining_pct(100.0, 100.0), 0.0);
        assert_eq!(budget_remaining_pct(99.0, 100.0), 100.0);
        assert_eq!(ratio_pct(0, 0), 100.0);
        assert_eq!(ratio_pct(999, 1000), 99.9);
        assert!(is_met(99.0, 99.0));
    }

    #[test]
    fn windows_from_the_series() {
        let series = TimeSeries {
            columns: [
                "t_s",
                "a.ok_rps",
                "a.errors_rps",
                "a.rejected_rps",
                "a.timeouts_rps",
                "a.shed_rps",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
            values: vec![
                0.0, 10.0, 0.0, 0.0, 0.0, 0.0, //
                2.0, 8.0, 1.0, 1.0, 0.0, 0.0, //
                4.0, 5.0, 1.0, 1.0, 1.0, 2.0,
            ],
        };
        let w = windows(&series, &series.index(), "a", 2.0, 5.0);
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].start_s, w[0].end_s, w[0].bad, w[0].valid),
            (2.0, 4.0, 4.0, 20.0)
        );
        // The last window is cut at the end of the run: 1 s wide.
        assert_eq!((w[1].end_s, w[1].bad, w[1].valid), (5.0, 5.0, 10.0));
        assert_eq!(worst_window_pct(&w), Some(50.0));
        assert!(windows(&series, &series.index(), "b", 0.0, 5.0).is_empty());
    }
}
