//! `results.csv` and `sweep.json` from a sweep's records: pure functions of the sorted
//! records and the sweep's definition, so one sweep, a resumed one and merged shards write
//! the same bytes.

use super::flatten::numeric;
use super::plan::Definition;
use super::record::{Ordered, Record};
use super::repro::repro_command;
use super::stats::{describe, MetricStats};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Sorts records by point, then seed (the table's order), dropping repeats of a run.
pub fn sort(records: &mut Vec<Record>) {
    records.sort_by_key(|r| (r.point, r.seed));
    records.dedup_by_key(|r| (r.point, r.seed));
}

/// The metric columns: every column of every record, each record's columns kept in their
/// order. A column that only some runs have (a breaker only some points configure) goes
/// right after the column it follows in the first record that has it, so related columns
/// stay together whatever the order of the records.
pub fn columns(records: &[Record], swept: &[&str]) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let skip = |name: &str| swept.contains(&name) || name == "seed";
    for r in records {
        // Usually every run has the same columns: nothing to place.
        if r.cells
            .0
            .iter()
            .all(|(n, _)| skip(n) || seen.contains(n.as_str()))
        {
            continue;
        }
        let mut after: Option<usize> = None;
        for (name, _) in &r.cells.0 {
            if skip(name) {
                continue;
            }
            if seen.contains(name.as_str()) {
                after = order.iter().position(|c| c == name);
                continue;
            }
            let at = after.map_or(0, |i| i + 1);
            order.insert(at, name.clone());
            seen.insert(name);
            after = Some(at);
        }
    }
    order
}

/// `results.csv`: the swept paths, `seed`, then the metric columns; one row per record.
pub fn results_csv(def: &Definition, records: &[Record]) -> String {
    let swept: Vec<&str> = def.axes.iter().map(|a| a.path.as_str()).collect();
    let metrics = columns(records, &swept);
    let grid = def.grid();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = swept
        .iter()
        .copied()
        .chain(["seed"])
        .chain(metrics.iter().map(String::as_str));
    w.write_record(header).expect("writing to memory");
    for r in records {
        let cells: HashMap<&str, &str> = r
            .cells
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let params = grid.overrides(r.point).into_iter().map(|o| o.value);
        let row = params.chain([r.seed.to_string()]).chain(
            metrics
                .iter()
                .map(|m| cells.get(m.as_str()).copied().unwrap_or("").to_string()),
        );
        w.write_record(row).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv is utf-8")
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
pub fn failures(def: &Definition, records: &[Record]) -> Vec<Failure> {
    let grid = def.grid();
    records
        .iter()
        .filter(|r| !r.failed.is_empty())
        .map(|r| {
            let sets = grid.overrides(r.point);
            Failure {
                point: r.point,
                seed: r.seed,
                params: params(def, r.point),
                reasons: r.failed.clone(),
                repro: repro_command(def.scenario_file.as_deref(), &sets, r.seed),
                summary: (!r.cells.0.is_empty()).then(|| failure_file(r.point, r.seed)),
            }
        })
        .collect()
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
pub fn sweep_json(def: &Definition, records: &[Record]) -> String {
    let swept: Vec<&str> = def.axes.iter().map(|a| a.path.as_str()).collect();
    let metrics = columns(records, &swept);
    let mut points = Vec::new();
    let mut i = 0;
    while i < records.len() {
        let point = records[i].point;
        let j = i + records[i..].iter().take_while(|r| r.point == point).count();
        let rows = &records[i..j];
        let maps: Vec<HashMap<&str, &str>> = rows
            .iter()
            .map(|r| {
                r.cells
                    .0
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect()
            })
            .collect();
        let stats = metrics
            .iter()
            .filter_map(|m| {
                let cells = maps.iter().map(|c| c.get(m.as_str()).copied());
                let s = describe(cells, numeric);
                (s.n > 0 || !s.counts.is_empty()).then(|| (m.clone(), s))
            })
            .collect();
        points.push(PointJson {
            point,
            params: params(def, point),
            runs: rows.len(),
            failed: rows.iter().filter(|r| !r.failed.is_empty()).count(),
            metrics: Ordered(stats),
        });
        i = j;
    }
    let failures = failures(def, records);
    let doc = SweepJson {
        scenario: &def.scenario,
        scenario_file: def.scenario_file.as_deref(),
        axes: &def.axes,
        seeds: &def.seeds.0,
        fail_if: &def.fail_if,
        runs: records.len(),
        failed: failures.len(),
        points,
        failures,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("sweep.json serializes");
    s.push('\n');
    s
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
        assert_eq!(columns(&rows, &[]), ["a", "b.open_s", "c", "d"]);
    }

    #[test]
    fn results_have_params_seed_then_metrics_and_blank_missing_cells() {
        let mut rows = vec![
            rec(1, 2, &[("m", "4")]),
            rec(0, 1, &[("m", "1"), ("v", "recovered")]),
            rec(1, 1, &[("m", "3")]),
        ];
        sort(&mut rows);
        let csv = results_csv(&def(), &rows);
        assert_eq!(csv, "x.rate,seed,m,v\n1,1,1,recovered\n2,1,3,\n2,2,4,\n");
        let json: serde_json::Value = serde_json::from_str(&sweep_json(&def(), &rows)).unwrap();
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
        let f = failures(&def(), &[r]);
        assert_eq!(f[0].repro, "platsim run s.ron --seed 2 --set x.rate=2");
        assert_eq!(
            f[0].summary.as_deref(),
            Some("failures/point-1-seed-2.json")
        );
    }
}
