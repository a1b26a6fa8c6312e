//! Per-fault recovery verdicts, read off the time series after the run.
//!
//! 1. Baseline: the mean goodput and mean per-window p99 of the windows in the
//!    `baseline` span just before the fault (after the warmup).
//! 2. Recovery: the first window, starting at or after the fault's end, from which
//!    `windows` consecutive windows all have goodput within `goodput_tolerance` of the
//!    baseline and p99 at most `1 + latency_tolerance` times it.
//! 3. Verdict: `recovered` if that happens within `metastable_after` of the fault's end;
//!    `metastable` if it does not although the run went on that long; `not_applicable`
//!    when there is no baseline (no goodput before the fault) or the run ended too soon
//!    to tell.

use super::summary::{FaultVerdict, TimeSeries};
use crate::model::RecoveryCheck;

/// A fault as the verdict sees it.
#[derive(Debug, Clone)]
pub struct FaultSpan {
    pub kind: String,
    pub target: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    /// Extra time the platform needs by design before it can be back (an outage's cold
    /// start): the metastable deadline moves by it.
    pub grace_s: f64,
}

/// Verdicts for `faults` from `series` (columns `t_s`, `goodput_rps`, `latency_p99_ms`).
/// `run_end_s` is when the arrivals stop (the scenario's `duration`, before any drain).
pub fn verdicts(
    series: &TimeSeries,
    window_s: f64,
    warmup_s: f64,
    run_end_s: f64,
    check: &RecoveryCheck,
    faults: &[FaultSpan],
) -> Vec<FaultVerdict> {
    let (Some(t), Some(goodput), Some(p99)) = (
        series.column("t_s"),
        series.column("goodput_rps"),
        series.column("latency_p99_ms"),
    ) else {
        return Vec::new();
    };
    faults
        .iter()
        .map(|f| one(&t, &goodput, &p99, window_s, warmup_s, run_end_s, check, f))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn one(
    t: &[f64],
    goodput: &[f64],
    p99: &[f64],
    window_s: f64,
    warmup_s: f64,
    run_end_s: f64,
    check: &RecoveryCheck,
    f: &FaultSpan,
) -> FaultVerdict {
    let mut v = FaultVerdict {
        kind: f.kind.clone(),
        target: f.target.clone(),
        start_s: f.start_s,
        end_s: f.end_s,
        recovered_after_s: None,
        verdict: "not_applicable".to_string(),
        baseline_goodput_rps: 0.0,
        baseline_p99_ms: 0.0,
        goodput_after_ratio: None,
    };
    let from = warmup_s.max(f.start_s - check.baseline.as_secs_f64());
    let base: Vec<usize> = (0..t.len())
        .filter(|&i| t[i] >= from && t[i] + window_s <= f.start_s + 1e-9)
        .collect();
    if base.is_empty() {
        return v;
    }
    let mean =
        |xs: &[f64], idx: &[usize]| idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64;
    let base_goodput = mean(goodput, &base);
    let base_p99 = mean(p99, &base);
    v.baseline_goodput_rps = base_goodput;
    v.baseline_p99_ms = base_p99;
    if base_goodput <= 0.0 || f.end_s >= run_end_s {
        return v;
    }
    // Only windows before the arrivals stop: a drain's goodput is zero by design.
    let after: Vec<usize> = (0..t.len())
        .filter(|&i| t[i] >= f.end_s - 1e-9 && t[i] < run_end_s - 1e-9)
        .collect();
    if !after.is_empty() {
        v.goodput_after_ratio = Some(mean(goodput, &after) / base_goodput);
    }
    let good = |i: usize| {
        goodput[i] >= (1.0 - check.goodput_tolerance) * base_goodput
            && (base_p99 <= 0.0 || p99[i] <= (1.0 + check.latency_tolerance) * base_p99)
    };
    let need = check.windows as usize;
    let limit_s = check.metastable_after.as_secs_f64();
    let recovered = after.windows(need).find(|run| run.iter().all(|&i| good(i)));
    match recovered {
        Some(run) if t[run[0]] - f.end_s <= f.grace_s + limit_s + 1e-9 => {
            v.recovered_after_s = Some((t[run[0]] - f.end_s).max(0.0));
            v.verdict = "recovered".to_string();
        }
        _ if run_end_s - f.end_s >= f.grace_s + limit_s + need as f64 * window_s => {
            v.verdict = "metastable".to_string();
        }
        _ => {}
    }
    v
}

/// Seconds from `from_s` until goodput is back within `tolerance` of its mean over the
/// `baseline_s` before `before_s` (after the warmup), for `windows` windows in a row.
#[allow(clippy::too_many_arguments)]
pub fn goodput_recovered(
    series: &TimeSeries,
    window_s: f64,
    warmup_s: f64,
    before_s: f64,
    from_s: f64,
    baseline_s: f64,
    tolerance: f64,
    windows: usize,
) -> Option<f64> {
    let (t, goodput) = (series.column("t_s")?, series.column("goodput_rps")?);
    let start = warmup_s.max(before_s - baseline_s);
    let base: Vec<f64> = (0..t.len())
        .filter(|&i| t[i] >= start && t[i] + window_s <= before_s + 1e-9)
        .map(|i| goodput[i])
        .collect();
    if base.is_empty() {
        return None;
    }
    let level = base.iter().sum::<f64>() / base.len() as f64;
    let after: Vec<usize> = (0..t.len()).filter(|&i| t[i] >= from_s - 1e-9).collect();
    after
        .windows(windows.max(1))
        .find(|run| run.iter().all(|&i| goodput[i] >= (1.0 - tolerance) * level))
        .map(|run| (t[run[0]] - from_s).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    fn series(goodput: &[f64]) -> TimeSeries {
        let columns = vec!["t_s".into(), "goodput_rps".into(), "latency_p99_ms".into()];
        let values = goodput
            .iter()
            .enumerate()
            .flat_map(|(i, g)| [i as f64, *g, 10.0])
            .collect();
        TimeSeries { columns, values }
    }

    fn check() -> RecoveryCheck {
        RecoveryCheck {
            goodput_tolerance: 0.1,
            latency_tolerance: 0.5,
            windows: 3,
            metastable_after: SimTime::from_secs(5),
            baseline: SimTime::from_secs(4),
        }
    }

    fn fault(start: f64, end: f64) -> FaultSpan {
        FaultSpan {
            kind: "crash".into(),
            target: Some("a".into()),
            start_s: start,
            end_s: end,
            grace_s: 0.0,
        }
    }

    #[test]
    fn recovered_after_the_first_good_run_of_windows() {
        //            0    1    2    3   |4  5 |6   7    8    9    10   11   12   13   14   15
        let g = [
            100., 100., 100., 100., 0., 0., 50., 95., 92., 99., 100., 100., 100., 100., 100., 100.,
        ];
        let v = &verdicts(&series(&g), 1.0, 0.0, 16.0, &check(), &[fault(4.0, 6.0)])[0];
        assert_eq!(v.verdict, "recovered");
        assert_eq!(v.recovered_after_s, Some(1.0));
        assert_eq!(v.baseline_goodput_rps, 100.0);
    }

    #[test]
    fn metastable_when_goodput_stays_down() {
        let mut g = vec![100.0; 4];
        g.extend(vec![5.0; 20]);
        let v = &verdicts(&series(&g), 1.0, 0.0, 24.0, &check(), &[fault(4.0, 6.0)])[0];
        assert_eq!(v.verdict, "metastable");
        assert_eq!(v.recovered_after_s, None);
        assert!(v.goodput_after_ratio.unwrap() < 0.1);
    }

    #[test]
    fn not_applicable_without_a_baseline_or_enough_run() {
        let g = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 100.0];
        let v = &verdicts(&series(&g), 1.0, 0.0, 8.0, &check(), &[fault(4.0, 6.0)])[0];
        assert_eq!(v.verdict, "not_applicable");
        let g = [100.0; 8];
        let v = &verdicts(&series(&g), 1.0, 0.0, 8.0, &check(), &[fault(4.0, 7.0)])[0];
        assert_eq!(
            v.verdict, "not_applicable",
            "too little run after the fault"
        );
    }

    #[test]
    fn the_drain_after_the_arrivals_stop_is_not_read_as_a_collapse() {
        // Arrivals stop at 12 s; the series goes on through a drain with no goodput.
        let mut g = vec![100.0; 12];
        g.extend(vec![0.0; 10]);
        // A fault lasting to the end of the arrivals cannot be judged.
        let v = &verdicts(&series(&g), 1.0, 0.0, 12.0, &check(), &[fault(4.0, 12.0)])[0];
        assert_eq!(v.verdict, "not_applicable");
        assert_eq!(v.goodput_after_ratio, None);
        // One that ended before recovers, and its goodput after ignores the drain.
        let v = &verdicts(&series(&g), 1.0, 0.0, 12.0, &check(), &[fault(4.0, 6.0)])[0];
        assert_eq!(v.verdict, "recovered");
        assert_eq!(v.goodput_after_ratio, Some(1.0));
    }
}
