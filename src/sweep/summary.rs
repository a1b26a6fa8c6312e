//! What `platsim sweep` and `platsim merge` print after the runs: each point's mean and
//! 95% interval of the metrics the predicates (and `--metric`) name, and which predicates
//! held and which failed, in how many runs. A pure function of the records in table
//! order, like the tables, so a sweep, a resumed one and merged shards print the same.

use super::plan::Definition;
use super::predicate::{broke, sig4, Predicate};
use super::record::Ordered;
use super::rows::Rows;
use super::stats::MetricStats;
use super::table::{metric_stats, point_counts, point_runs};
use crate::Error;

/// One point of the grid, across its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSummary {
    pub point: usize,
    /// The swept values (`path`, value).
    pub params: Ordered<String>,
    pub runs: usize,
    pub failed: usize,
    /// Each watched metric, in the order asked; stats of no value where a run lacks it.
    pub metrics: Vec<(String, MetricStats)>,
}

/// One `--fail-if` predicate, as written, and the runs that failed it.
#[derive(Debug, Clone, PartialEq)]
pub struct PredicateCount {
    pub predicate: String,
    pub failed: usize,
    pub runs: usize,
}

/// The metrics a sweep's summary shows: each predicate's path, then `extra`, once each.
pub fn watched(def: &Definition, extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let paths = def
        .fail_if
        .iter()
        .filter_map(|p| p.parse::<Predicate>().ok());
    for path in paths.map(|p| p.path).chain(extra.iter().cloned()) {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// Per point, in order: runs, failures and the stats of each `watched` metric, read
/// back from the record logs.
pub fn points(
    def: &Definition,
    rows: &Rows,
    watched: &[String],
) -> Result<Vec<PointSummary>, Error> {
    let grid = def.grid();
    let mut out = Vec::new();
    for point in 0..def.points() {
        let runs = point_runs(def, point);
        let (count, failed) = point_counts(rows, runs.clone())?;
        if count == 0 {
            continue;
        }
        let metrics = watched
            .iter()
            .cloned()
            .zip(metric_stats(rows, runs, watched)?)
            .collect();
        out.push(PointSummary {
            point,
            params: Ordered(
                grid.overrides(point)
                    .into_iter()
                    .map(|o| (o.path, o.value))
                    .collect(),
            ),
            runs: count,
            failed,
            metrics,
        });
    }
    Ok(out)
}

/// Each predicate and how many of the records failed it.
pub fn predicates(def: &Definition, rows: &Rows) -> Result<Vec<PredicateCount>, Error> {
    let mut failed = vec![0; def.fail_if.len()];
    if rows.failed() > 0 {
        rows.each(0..def.runs(), |r| {
            for (p, n) in def.fail_if.iter().zip(&mut failed) {
                *n += usize::from(r.failed.iter().any(|why| broke(p, why)));
            }
            Ok(())
        })?;
    }
    Ok(def
        .fail_if
        .iter()
        .zip(failed)
        .map(|(p, failed)| PredicateCount {
            predicate: p.clone(),
            failed,
            runs: rows.len(),
        })
        .collect())
}

/// A metric's cell: `mean [low, high]`, the mean alone with one seed, text values with
/// their counts, `-` when no run had it.
fn cell(s: &MetricStats) -> String {
    match (s.mean, s.ci95) {
        (Some(m), Some([lo, hi])) => format!("{} [{}, {}]", sig4(m), sig4(lo), sig4(hi)),
        (Some(m), None) => sig4(m),
        (None, _) if !s.counts.is_empty() => s
            .counts
            .iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        (None, _) => "-".into(),
    }
}

/// The per-point table as text, columns aligned: point, swept values, runs, failed, then
/// each watched metric as `mean [95% interval]`.
pub fn table(points: &[PointSummary]) -> String {
    let Some(first) = points.first() else {
        return String::new();
    };
    let mut head = vec!["point".to_string()];
    head.extend(first.params.0.iter().map(|(k, _)| k.clone()));
    head.extend(["runs".to_string(), "failed".to_string()]);
    head.extend(first.metrics.iter().map(|(k, _)| k.clone()));
    let mut rows = vec![head];
    for p in points {
        let mut row = vec![p.point.to_string()];
        row.extend(p.params.0.iter().map(|(_, v)| v.clone()));
        row.extend([p.runs.to_string(), p.failed.to_string()]);
        row.extend(p.metrics.iter().map(|(_, s)| cell(s)));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        out.push_str("  ");
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Seeds;
    use crate::sweep::record::Record;

    fn record(point: usize, seed: u64, p99: &str, failed: &[&str]) -> Record {
        Record {
            point,
            seed,
            params: Ordered(Vec::new()),
            cells: Ordered(vec![("m.p99".into(), p99.into())]),
            failed: failed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn per_point_means_intervals_and_predicate_counts() {
        let def = Definition {
            scenario: "s".into(),
            scenario_file: None,
            axes: vec!["x=1,2".parse().unwrap()],
            seeds: Seeds(vec![1, 2, 3]),
            fail_if: vec!["m.p99 > 5".into(), "m.p99 > 100".into()],
        };
        let records = vec![
            record(0, 1, "1", &[]),
            record(0, 2, "2", &[]),
            record(0, 3, "3", &[]),
            record(1, 1, "10", &["m.p99 > 5 (was 10)"]),
            record(1, 2, "", &[]),
            record(1, 3, "6", &["m.p99 > 5 (was 6)"]),
        ];
        let watched = watched(&def, &["m.p99".into(), "other".into()]);
        assert_eq!(watched, ["m.p99", "other"]);
        let (_dir, rows) = Rows::in_temp(&def, &records);
        let points = points(&def, &rows, &watched).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!((points[1].runs, points[1].failed), (3, 2));
        // Point 0: mean 2, sd 1, t(2) = 4.303: 2 +- 4.303 / sqrt(3) = [-0.4841, 4.484].
        let s = &points[0].metrics[0].1;
        assert_eq!(cell(s), "2 [-0.4841, 4.484]");
        // Point 1: one seed lacks it; the mean is of the other two.
        assert_eq!(points[1].metrics[0].1.missing, 1);
        assert_eq!(points[1].metrics[0].1.mean, Some(8.0));
        assert_eq!(cell(&points[1].metrics[1].1), "-");
        let text = table(&points);
        assert!(
            text.starts_with("  point  x  runs  failed  m.p99"),
            "{text}"
        );
        assert!(text.contains("2 [-0.4841, 4.484]"), "{text}");
        let counts = predicates(&def, &rows).unwrap();
        assert_eq!((counts[0].failed, counts[0].runs), (2, 6));
        assert_eq!(counts[1].failed, 0);
    }
}
