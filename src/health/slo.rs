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
use crate::metrics::health::{BudgetSeries, SloStatus};
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
        .dense()
        .enumerate()
        .map(|(i, c)| (i as f64 * w, c))
        .filter(|&(start, _)| start + w > from_s + 1e-9 && start < end_s - 1e-9)
        .map(|(start, c)| {
            let (bad, valid) = if latency {
                (c.slow, c.ok())
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

/// Points a budget series holds at most, besides its start: the event grid is thinned
/// to every k-th bucket so a 30-day run's series stays as small as a minute's.
pub const BUDGET_POINTS: usize = 100;

/// The error budget left over time for one objective: `status` is the objective measured
/// over the run, `windows` its events on the grid (`event_windows`), `from_s` the end of
/// the warmup. The budget is the run's: (100 - target)% of its valid events. The grid
/// says *when* bad events happened, the run's counts *how many*: after each bucket the
/// bad events so far are the run's bad ones x the grid's share of bad events up to it
/// (rounded to whole events), and the budget left is [`budget_remaining_pct`] of that.
/// So the series starts at 100% (0 with a target of 100), never rises, and its last
/// point is exactly `status.budget_remaining_pct`. At most [`BUDGET_POINTS`] + 1 points.
pub fn budget_series(status: &SloStatus, windows: &[WindowCounts], from_s: f64) -> BudgetSeries {
    let valid = status.valid;
    let run_bad = valid.saturating_sub(status.good);
    let grid_bad: f64 = windows.iter().map(|w| w.bad).sum();
    let left = |bad: u64| {
        let bad = bad.min(run_bad);
        budget_remaining_pct(status.target_pct, ratio_pct(valid - bad, valid))
    };
    let mut out = BudgetSeries {
        objective: status.name.clone(),
        t_s: vec![from_s],
        remaining_pct: vec![left(0)],
    };
    let n = windows.len();
    let stride = n.div_ceil(BUDGET_POINTS).max(1);
    let mut bad_so_far = 0.0;
    for (i, w) in windows.iter().enumerate() {
        bad_so_far += w.bad;
        let last = i + 1 == n;
        if !last && (i + 1) % stride != 0 {
            continue;
        }
        // Grid events the run's counts lack (warmup arrivals ending later) are
        // spread like the rest; with no bad event on the grid, all burn at the end.
        let share = if grid_bad > 0.0 {
            bad_so_far / grid_bad
        } else if last {
            1.0
        } else {
            0.0
        };
        out.t_s.push(w.end_s);
        out.remaining_pct
            .push(left((run_bad as f64 * share).round() as u64));
    }
    out
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

    fn grid(bad: &[f64]) -> Vec<WindowCounts> {
        bad.iter()
            .enumerate()
            .map(|(i, &b)| WindowCounts {
                start_s: 10.0 + i as f64,
                end_s: 11.0 + i as f64,
                bad: b,
                valid: 100.0,
            })
            .collect()
    }

    fn status(good: u64, valid: u64, target: f64) -> SloStatus {
        let measured = ratio_pct(good, valid);
        SloStatus {
            name: "availability".into(),
            target_pct: target,
            measured_pct: measured,
            good,
            valid,
            budget_remaining_pct: budget_remaining_pct(target, measured),
            met: is_met(target, measured),
            threshold_ms: None,
            worst_window_pct: None,
        }
    }

    #[test]
    fn the_budget_burns_when_the_grid_says_and_ends_at_the_run_figure() {
        // 10,000 valid against 99%: a budget of 100 bad events. 60 bad, in the third
        // and fourth of five buckets (20 then 40): 100, 100, 100, 80, 40, 40 left.
        let s = status(9_940, 10_000, 99.0);
        let b = budget_series(&s, &grid(&[0.0, 0.0, 20.0, 40.0, 0.0]), 10.0);
        assert_eq!(b.objective, "availability");
        assert_eq!(b.t_s, [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]);
        assert_eq!(b.remaining_pct, [100.0, 100.0, 100.0, 80.0, 40.0, 40.0]);
        assert_eq!(*b.remaining_pct.last().unwrap(), s.budget_remaining_pct);
        // The grid saw 61 where the run counted 60: shares, so still ending at 40.
        let b = budget_series(&s, &grid(&[1.0, 0.0, 20.0, 40.0, 0.0]), 10.0);
        assert_eq!(*b.remaining_pct.last().unwrap(), 40.0);
        // Overspent: 0 from the bucket that spends it on.
        let s = status(9_800, 10_000, 99.0);
        let b = budget_series(&s, &grid(&[0.0, 150.0, 50.0]), 10.0);
        assert_eq!(b.remaining_pct, [100.0, 100.0, 0.0, 0.0]);
        // No budget at all with a target of 100.
        let b = budget_series(&status(10, 10, 100.0), &grid(&[0.0]), 10.0);
        assert_eq!(b.remaining_pct, [0.0, 0.0]);
    }

    #[test]
    fn a_long_grid_is_thinned_to_the_bound_and_keeps_its_end() {
        let mut bad = vec![0.0; 43_200];
        bad[43_199] = 10.0;
        let s = status(99_990, 100_000, 99.9);
        let b = budget_series(&s, &grid(&bad), 10.0);
        assert!(b.t_s.len() <= BUDGET_POINTS + 2, "{}", b.t_s.len());
        assert_eq!(b.t_s.len(), b.remaining_pct.len());
        assert_eq!(*b.t_s.last().unwrap(), 43_210.0);
        assert_eq!(*b.remaining_pct.last().unwrap(), 90.0);
        assert_eq!(b.remaining_pct[b.remaining_pct.len() - 2], 100.0);
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
