//! Reading an output folder back: a run's summary.json, timeseries.csv, latency.csv and
//! command.txt, or a sweep's results.csv and sweep.json.

use crate::Error;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A finished run, as its output folder holds it.
#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    /// summary.json.
    pub summary: Value,
    /// timeseries.csv, column by column.
    pub series: Table,
    /// latency.csv (absent in folders written before it existed).
    pub latency: Vec<Histogram>,
    /// command.txt: the command that reproduces the run, if `platsim run` wrote it.
    pub command: Option<String>,
}

/// Named numeric columns of equal length; empty or unreadable cells are NaN.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub data: Vec<Vec<f64>>,
}

impl Table {
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(&self.data[i])
    }

    pub fn rows(&self) -> usize {
        self.data.first().map_or(0, Vec::len)
    }
}

/// One latency distribution of latency.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// `service` or `workload`.
    pub kind: String,
    pub name: String,
    /// `(from_ms, to_ms, count)`, in increasing order.
    pub buckets: Vec<(f64, f64, u64)>,
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))
}

fn bad(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{}: {why}", path.display()))
}

impl RunData {
    pub fn load(dir: &Path) -> Result<RunData, Error> {
        let path = dir.join("summary.json");
        let summary: Value = serde_json::from_str(&read(&path)?).map_err(|e| bad(&path, e))?;
        if !summary.is_object() {
            return Err(bad(&path, "not a platsim summary (expected a JSON object)"));
        }
        let path = dir.join("timeseries.csv");
        let series = if path.is_file() {
            parse_table(&read(&path)?).map_err(|e| bad(&path, e))?
        } else {
            Table::default()
        };
        let path = dir.join("latency.csv");
        let latency = if path.is_file() {
            parse_latency(&read(&path)?).map_err(|e| bad(&path, e))?
        } else {
            Vec::new()
        };
        let path = dir.join(super::COMMAND_FILE);
        let command = if path.is_file() {
            Some(read(&path)?.trim().to_string())
        } else {
            None
        };
        Ok(RunData {
            dir: dir.to_path_buf(),
            summary,
            series,
            latency,
            command,
        })
    }

    pub fn scenario(&self) -> &str {
        self.summary["scenario"].as_str().unwrap_or("?")
    }

    pub fn seed(&self) -> u64 {
        self.summary["seed"].as_u64().unwrap_or(0)
    }

    pub fn number(&self, key: &str) -> f64 {
        self.summary[key].as_f64().unwrap_or(0.0)
    }

    /// Service names, in the order of timeseries.csv (the scenario's order), else the
    /// summary's.
    pub fn services(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for c in &self.series.columns {
            if let Some(name) = c.strip_suffix(".arrivals_rps") {
                names.push(name.to_string());
            }
        }
        if names.is_empty() {
            if let Some(map) = self.summary["services"].as_object() {
                names.extend(map.keys().cloned());
            }
        }
        names
    }
}

/// Parses a CSV of numbers with a header.
pub fn parse_table(text: &str) -> Result<Table, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut data = vec![Vec::new(); columns.len()];
    for row in r.records() {
        let row = row.map_err(|e| e.to_string())?;
        for (i, col) in data.iter_mut().enumerate() {
            col.push(row.get(i).and_then(|c| c.parse().ok()).unwrap_or(f64::NAN));
        }
    }
    Ok(Table { columns, data })
}

/// Parses latency.csv (`kind,name,from_ms,to_ms,count`).
pub fn parse_latency(text: &str) -> Result<Vec<Histogram>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut out: Vec<Histogram> = Vec::new();
    for row in r.records() {
        let row = row.map_err(|e| e.to_string())?;
        let field = |i: usize| row.get(i).unwrap_or("");
        let num = |i: usize| -> Result<f64, String> {
            field(i).parse().map_err(|_| {
                format!(
                    "line {}: `{}` is not a number",
                    row.position().map_or(0, |p| p.line()),
                    field(i)
                )
            })
        };
        let (kind, name) = (field(0), field(1));
        let bucket = (num(2)?, num(3)?, num(4)? as u64);
        match out.last_mut() {
            Some(h) if h.kind == kind && h.name == name => h.buckets.push(bucket),
            _ => out.push(Histogram {
                kind: kind.to_string(),
                name: name.to_string(),
                buckets: vec![bucket],
            }),
        }
    }
    Ok(out)
}

/// A sweep, as its folder holds it.
#[derive(Debug, Clone)]
pub struct SweepData {
    pub dir: PathBuf,
    /// The swept paths (the columns before `seed`).
    pub params: Vec<String>,
    /// results.csv, as text cells: `rows[i][j]` is column `j` of run `i`.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// sweep.json, when there (an unsharded sweep or a merge).
    pub sweep: Option<Value>,
}

impl SweepData {
    pub fn load(dir: &Path) -> Result<SweepData, Error> {
        let path = dir.join(crate::sweep::RESULTS_FILE);
        let text = read(&path)?;
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let columns: Vec<String> = r
            .headers()
            .map_err(|e| bad(&path, e))?
            .iter()
            .map(str::to_string)
            .collect();
        let seed = columns
            .iter()
            .position(|c| c == "seed")
            .ok_or_else(|| bad(&path, "no `seed` column: not a platsim sweep's results"))?;
        let mut rows = Vec::new();
        for row in r.records() {
            let row = row.map_err(|e| bad(&path, e))?;
            rows.push(row.iter().map(str::to_string).collect());
        }
        let path = dir.join(crate::sweep::SWEEP_FILE);
        let sweep = if path.is_file() {
            Some(serde_json::from_str(&read(&path)?).map_err(|e| bad(&path, e))?)
        } else {
            None
        };
        Ok(SweepData {
            dir: dir.to_path_buf(),
            params: columns[..seed].to_vec(),
            columns,
            rows,
            sweep,
        })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn scenario(&self) -> String {
        self.sweep
            .as_ref()
            .and_then(|s| s["scenario"].as_str())
            .unwrap_or("sweep")
            .to_string()
    }

    /// The distinct seeds of the table.
    pub fn seeds(&self) -> usize {
        let Some(i) = self.column("seed") else {
            return 0;
        };
        let mut seeds: Vec<&str> = self.rows.iter().map(|r| r[i].as_str()).collect();
        seeds.sort_unstable();
        seeds.dedup();
        seeds.len()
    }

    /// The `--fail-if` predicates' paths, from sweep.json.
    pub fn predicate_paths(&self) -> Vec<String> {
        let Some(list) = self.sweep.as_ref().and_then(|s| s["fail_if"].as_array()) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(Value::as_str)
            .filter_map(|p| p.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }
}
