//! Presentation: pure functions from a finished run's summary to bytes, and the one place
//! that writes them to disk.

pub mod health;
pub mod layers;
pub mod table;

use crate::metrics::{LatencyBuckets, Summary, TimeSeries};
use std::path::{Path, PathBuf};

/// `summary.json`: pretty JSON with a trailing newline, byte-identical for equal summaries.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).expect("a summary always serializes");
    s.push('\n');
    s
}

/// `timeseries.csv`: a header of column names, then one row per window.
pub fn timeseries_csv(series: &TimeSeries) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&series.columns).expect("writing to memory");
    let mut buf = ryu::Buffer::new();
    for row in series.rows() {
        w.write_record(row.iter().map(|v| number(&mut buf, *v)))
            .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv is utf-8")
}

/// `latency.csv`: the latency distributions, one row per non-empty bucket:
/// `kind` (`service` or `workload`), `name`, `from_ms`, `to_ms`, `count`.
pub fn latency_csv(histograms: &[LatencyBuckets]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["kind", "name", "from_ms", "to_ms", "count"])
        .expect("writing to memory");
    let mut buf = ryu::Buffer::new();
    for h in histograms {
        for &(from, to, count) in &h.buckets {
            let (from, to) = (number(&mut buf, from), number(&mut buf, to));
            w.write_record([h.kind, &h.name, &from, &to, &count.to_string()])
                .expect("writing to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv is utf-8")
}

/// Shortest round-trip spelling; whole numbers without a fraction.
fn number(buf: &mut ryu::Buffer, v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        buf.format(v).to_string()
    }
}

/// The default output folder of a run: `output/<scenario>/seed-<seed>`.
pub fn default_dir(scenario: &str, seed: u64) -> PathBuf {
    let safe: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new("output").join(safe).join(format!("seed-{seed}"))
}

/// Writes `command.txt`: the command that reproduces the run (kept out of summary.json,
/// which must be the same bytes whichever command produced it).
pub fn write_command(dir: &Path, command: &str) -> Result<(), crate::Error> {
    let path = dir.join("command.txt");
    std::fs::write(&path, format!("{command}\n")).map_err(|e| crate::Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Writes `summary.json`, `timeseries.csv` and `latency.csv` into `dir`, creating it.
pub fn write_run(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>, crate::Error> {
    let fail = |path: &Path, e: std::io::Error| crate::Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let files = [
        ("summary.json", summary_json(summary)),
        ("timeseries.csv", timeseries_csv(&summary.timeseries)),
        ("latency.csv", latency_csv(&summary.latency_buckets)),
    ];
    let mut written = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| fail(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
