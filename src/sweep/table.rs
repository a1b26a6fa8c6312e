//! `results.csv` and `sweep.json` from a sweep's records: pure functions of the records
//! in table order and the sweep's definition, so one sweep, a resumed one and merged
//! shards write the same bytes. The records are read back from the record logs
//! ([`Rows`]) as the tables are written, never held together, so memory stays flat in the
//! number of runs.

use super::flatten::numeric;
use super::plan::Definition;
use super::record::{Ordered, Record};
use super::repro::repro_command;
use super::rows::Rows;
use super::stats::{Acc, MetricStats};
use crate::Error;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Write;

/// The metric columns: every column of every record, each record's columns kept in their
/// order. A column that only some runs have (a breaker only some points configure) goes
/// right after the column it follows in the first record that has it, so related columns
/// stay together whatever the order of the records.
pub fn columns(def: &Definition, rows: &Rows, swept: &[&str]) -> Result<Vec<String>, Error> {
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let skip = |name: &str| swept.contains(&name) || name == "seed";
    rows.each(0..def.runs(), |r| {
        // Usually every run has the same columns: nothing to place.
        if r.cells.0.iter().all(|(n, _)| skip(n) || seen.contains(n)) {
            return Ok(());
        }
        let mut after: Option<usize> = None;
        for (name, _) in &r.cells.0 {
            if skip(name) {
                continue;
            }
            if seen.contains(name) {
                after = order.iter().position(|c| c == name);
                continue;
            }
            let at = after.map_or(0, |i| i + 1);
            order.insert(at, name.clone());
            seen.insert(name.clone());
            after = Some(at);
        }
        Ok(())
    })?;
    Ok(order)
}

fn cells(r: &Record) -> HashMap<&str, &str> {
    r.cells
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Writes `results.csv` to `out`: the swept paths, `seed`, then the metric columns; one
/// row per record, in table order.
pub fn write_results_csv(def: &Definition, rows: &Rows, out: &mut dyn Write) -> Result<(), Error> {
    let swept: Vec<&str> = def.axes.iter().map(|a| a.path.as_str()).collect();
    let metrics = columns(def, rows, &swept)?;
    let grid = def.grid();
    let mut w = csv::Writer::from_writer(out);
    let failed = |e: csv::Error| Error::Output {
        path: super::RESULTS_FILE.into(),
        reason: e.to_string(),
    };
    let header = swept
        .iter()
        .copied()
        .chain(["seed"])
        .chain(metrics.iter().map(String::as_str));
    w.write_record(header).map_err(failed)?;
    rows.each(0..def.runs(), |r| {
        let cells = cells(r);
        let params = grid.overrides(r.point).into_iter().map(|o| o.value);
        let row = params.chain([r.seed.to_string()]).chain(
            metrics
                .iter()
                .map(|m| cells.get(m.as_str()).copied().unwrap_or("").to_string()),
        );
        w.write_record(row).map_err(failed)
    })?;
    w.flush().map_err(|e| Error::Output {
        path: super::RESULTS_FILE.into(),
        reason: e.to_string(),
    })
}

/// `results.csv` as text (tests and small tables).
pub fn results_csv(def: &Definition, rows: &Rows) -> Result<String, Error> {
    let mut out = Vec::new();
    write_results_csv(def, rows, &mut out)?;
    Ok(String::from_utf8(out).expect("csv is utf-8"))
}

/// The runs of one point found in the logs, and how many of them failed.
pub fn point_counts(rows: &Rows, runs: std::ops::Range<usize>) -> Result<(usize, usize), Error> {
    let (mut count, mut failed) = (0, 0);
    rows.each(runs, |r| {
        count += 1;
        failed += usize::from(!r.failed.is_empty());
        Ok(())
    })?;
    Ok((count, failed))
}

/// Runs of point `p`, as run numbers.
pub fn point_runs(def: &Definition, p: usize) -> std::ops::Range<usize> {
    let n = def.seeds.0.len();
    p * n..(p + 1) * n
}

/// Each of `metrics` across the records of runs `runs`: two passes over them (the mean,
/// then the spread), read back from disk each time.
pub fn metric_stats(
    rows: &Rows,
    runs: std::ops::Range<usize>,
    metrics: &[String],
) -> Result<Vec<MetricStats>, Error> {
    let mut accs = vec![Acc::default(); metrics.len()];
    let pass = |accs: &mut Vec<Acc>, second: bool| {
        rows.each(runs.clone(), |r| {
            let cells = cells(r);
            for (acc, m) in accs.iter_mut().zip(metrics) {
                let cell = cells.get(m.as_str()).copied();
                if second {
                    acc.second(cell, numeric);
                } else {
                    acc.first(cell, numeric);
                }
            }
            Ok(())
        })
    };
    pass(&mut accs, false)?;
    accs.iter_mut().for_each(Acc::middle);
    pass(&mut accs, true)?;
    Ok(accs.into_iter().map(Acc::finish).collect())
}

/// One failing run, with what reproduces it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Failure {
    pub point: usize,
    pub seed: u64,
    pub params: Ordered<String>,
    pub reasons: Vec<String>,
    /// `platsim run ...`: gives this run's summary.json byte for byte.
    pub repro: String,
    /// Its summary.json, relative to the sweep folder (absent when the run could not finish).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// The file a failing run's summary is saved to, relative to the sweep folder.
pub fn failure_file(point: usize, seed: u64) -> String {
    format!("failures/point-{point}-seed-{seed}.json")
}

/// The failing runs, in table order.
pub fn failures(def: &Definition, rows: &Rows) -> Result<Vec<Failure>, Error> {
    let grid = def.grid();
    let mut out = Vec::new();
    if rows.failed() == 0 {
        return Ok(out);
    }
    rows.each(0..def.runs(), |r| {
        if !r.failed.is_empty() {
            let sets = grid.overrides(r.point);
            out.push(Failure {
                point: r.point,
                seed: r.seed,
                params: params(def, r.point),
                reasons: r.failed.clone(),
                repro: repro_command(def.scenario_file.as_deref(), &sets, r.seed),
                summary: (!r.cells.0.is_empty()).then(|| failure_file(r.point, r.seed)),
            });
        }
        Ok(())
    })?;
    Ok(out)
}

fn params(def: &Definition, point: usize) -> Ordered<String> {
    Ordered(
        def.grid()
            .overrides(point)
            .into_iter()
            .map(|o| (o.path, o.value))
            .collect(),
    )
}

#[derive(Serialize)]
struct PointJson {
    point: usize,
    params: Ordered<String>,
    runs: usize,
    failed: usize,
    metrics: Ordered<MetricStats>,
}

#[derive(Serialize)]
struct SweepJson<'a> {
    scenario: &'a str,
    scenario_file: Option<&'a str>,
    axes: &'a [super::grid::Axis],
    seeds: &'a [u64],
    fail_if: &'a [String],
    runs: usize,
    failed: usize,
    points: Vec<PointJson>,
    failures: Vec<Failure>,
}

/// `sweep.json`: per point, its parameters and each metric's mean, min, max and 95%
/// confidence interval across seeds; then every failing run with its repro command.
pub fn sweep_json(def: &Definition, rows: &Rows) -> Result<String, Error> {
    let swept: Vec<&str> = def.axes.iter().map(|a| a.path.as_str()).collect();
    let metrics = columns(def, rows, &swept)?;
    let mut points = Vec::new();
    for point in 0..def.points() {
        let runs = point_runs(def, point);
        let (count, failed) = point_counts(rows, runs.clone())?;
        if count == 0 {
            continue;
        }
        let stats = metrics
            .iter()
            .cloned()
            .zip(metric_stats(rows, runs, &metrics)?)
            .filter(|(_, s)| s.n > 0 || !s.counts.is_empty())
            .collect();
        points.push(PointJson {
            point,
            params: params(def, point),
            runs: count,
            failed,
            metrics: Ordered(stats),
        });
    }
    let failures = failures(def, rows)?;
    let doc = SweepJson {
        scenario: &def.scenario,
        scenario_file: def.scenario_file.as_deref(),
        axes: &def.axes,
        seeds: &def.seeds.0,
        fail_if: &def.fail_if,
        runs: rows.len(),
        failed: failures.len(),
        points,
        failures,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("sweep.json serializes");
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(point: usize, seed: u64, cells: &[(&str, &str)]) -> Record {
        Record {
            point,
            seed,
            params: Ordered::default(),
            cells: Ordered(
                cells
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            failed: vec![],
        }
    }

    fn def() -> Definition {
        Definition {
            scenario: "s".into(),
            scenario_file: Some("s.ron".into()),
            axes: vec!["x.rate=1,2".parse().unwrap()],
            seeds: "1..2".parse().unwrap(),
            fail_if: vec![],
        }
    }

    #[test]
    fn columns_keep_related_fields_together() {
        let rows = [
            rec(0, 1, &[("a", "1"), ("c", "2")]),
            rec(
                1,
                1,
                &[("a", "1"), ("b.open_s", "3"), ("c", "2"), ("d", "4")],
            ),
        ];
        let (_dir, rows) = Rows::in_temp(&def(), &rows);
        assert_eq!(
            columns(&def(), &rows, &[]).unwrap(),
            ["a", "b.open_s", "c", "d"]
        );
    }

    #[test]
    fn results_have_params_seed_then_metrics_and_blank_missing_cells() {
        // Finished out of order, as parallel runs do.
        let rows = vec![
            rec(1, 2, &[("m", "4")]),
            rec(0, 1, &[("m", "1"), ("v", "recovered")]),
            rec(1, 1, &[("m", "3")]),
        ];
        let (_dir, rows) = Rows::in_temp(&def(), &rows);
        let csv = results_csv(&def(), &rows).unwrap();
        assert_eq!(csv, "x.rate,seed,m,v\n1,1,1,recovered\n2,1,3,\n2,2,4,\n");
        let json = sweep_json(&def(), &rows).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p1 = &json["points"][1];
        assert_eq!(p1["params"]["x.rate"], "2");
        assert_eq!(p1["metrics"]["m"]["mean"], 3.5);
        assert!(p1["metrics"].get("v").is_none());
        assert_eq!(json["points"][0]["metrics"]["v"]["counts"]["recovered"], 1);
    }

    #[test]
    fn failures_carry_their_repro_command() {
        let mut r = rec(1, 2, &[("m", "4")]);
        r.failed = vec!["m > 3 (was 4)".into()];
        let (_dir, rows) = Rows::in_temp(&def(), &[r]);
        let f = failures(&def(), &rows).unwrap();
        assert_eq!(f[0].repro, "platsim run s.ron --seed 2 --set x.rate=2");
        assert_eq!(
            f[0].summary.as_deref(),
            Some("failures/point-1-seed-2.json")
        );
    }
}
