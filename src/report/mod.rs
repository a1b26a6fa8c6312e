//! Presentation: pure functions from a finished run's summary to bytes, and the one place
//! that writes them to disk.

pub mod files;
pub mod health;
pub mod layers;
pub mod partitions;
pub mod streams;
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

/// The default output folder of a run: `output/<scenario>/seed-<seed>`, with the
/// scenario's name made safe as one folder name ([`safe_name`]), so that no name leads
/// outside `output/`.
pub fn default_dir(scenario: &str, seed: u64) -> PathBuf {
    Path::new("output")
        .join(safe_name(scenario))
        .join(format!("seed-{seed}"))
}

/// Longest folder name made from user text: well within every file system's 255 bytes.
const MAX_NAME_CHARS: usize = 100;

/// User text (a scenario's name) as one folder name: letters, digits, `-`, `_` and `.`
/// kept, anything else `_`, at most [`MAX_NAME_CHARS`] characters, and never empty, `.`
/// or `..` (a name of dots alone becomes underscores), so the folder stays where it is put.
pub fn safe_name(text: &str) -> String {
    let mut safe: String = text
        .chars()
        .take(MAX_NAME_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.chars().all(|c| c == '.') {
        safe = "_".repeat(safe.len().max(1));
    }
    safe
}

/// Writes `command.txt`: the command that reproduces the run (kept out of summary.json,
/// which must be the same bytes whichever command produced it).
pub fn write_command(dir: &Path, command: &str) -> Result<(), crate::Error> {
    files::write_atomic(&dir.join("command.txt"), format!("{command}\n").as_bytes())
}

/// Writes `summary.json`, `timeseries.csv` and `latency.csv` into `dir`, creating it; each
/// file is replaced whole ([`files::write_atomic`]). The caller holds the folder's
/// [`files::Lock`] and marks it incomplete around the writes.
pub fn write_run(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>, crate::Error> {
    files::create_dir(dir)?;
    let files = [
        ("summary.json", summary_json(summary)),
        ("timeseries.csv", timeseries_csv(&summary.timeseries)),
        ("latency.csv", latency_csv(&summary.latency_buckets)),
    ];
    let mut written = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        files::write_atomic(&path, body.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a scenario named ".." wrote to `./seed-1`, outside `output/`.
    #[test]
    fn scenario_named_dot_dot_stays_under_output() {
        for name in ["..", ".", "", "../../etc", "a/../../b", "...."] {
            let dir = default_dir(name, 1);
            assert!(
                dir.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{name:?} -> {}",
                dir.display()
            );
            assert_eq!(dir.components().count(), 3, "{name:?}");
        }
        assert_eq!(safe_name("food-ordering"), "food-ordering");
        assert_eq!(safe_name(&"n".repeat(300)).len(), MAX_NAME_CHARS);
    }
}
