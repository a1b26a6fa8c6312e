//! Getting a sweep folder ready: `--resume` keeps the runs of an interrupted sweep (after
//! checking, through the manifest's fingerprint, that they are from this very sweep and
//! shard, and cutting a line torn by the kill); a fresh start clears the sweep's own files
//! so no stale row or failure survives.

use super::plan::{Definition, Manifest, Shard};
use super::record::{self, Record, RUNS_FILE};
use super::{io_error, MANIFEST_FILE, RESULTS_FILE, SWEEP_FILE};
use crate::Error;
use std::collections::HashSet;
use std::path::Path;

/// Gets the sweep folder ready: with `--resume`, keeps the runs already recorded there
/// (after checking they are from this very sweep and shard) and returns them; otherwise
/// clears the sweep's own files.
pub fn prepare_dir(
    dir: &Path,
    def: &Definition,
    fingerprint: &str,
    shard: Option<Shard>,
    resume: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<Record>, Error> {
    let runs_path = dir.join(RUNS_FILE);
    let manifest_path = dir.join(MANIFEST_FILE);
    let previous: Option<Manifest> = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut done = Vec::new();
    match (&previous, resume) {
        (Some(m), true) => {
            if m.fingerprint != fingerprint || m.shard != shard {
                return Err(Error::BadInput(format!(
                    "--resume: {} holds another sweep ({}); resume it with the flags it was \
                     started with, or start over without --resume",
                    dir.display(),
                    describe_difference(m, def, shard)
                )));
            }
            let log = record::read(&runs_path).map_err(Error::BadInput)?;
            if log.torn {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&runs_path)
                    .map_err(io_error(&runs_path))?;
                f.set_len(log.good_len).map_err(io_error(&runs_path))?;
                notes.push(format!(
                    "dropped the last line of {} (cut off when the sweep was stopped)",
                    runs_path.display()
                ));
            }
            let slice = shard.unwrap_or(Shard::WHOLE);
            let mut seen = HashSet::new();
            for r in log.records {
                match def.run_index(r.point, r.seed) {
                    Some(k) if slice.has(k) => {
                        if seen.insert((r.point, r.seed)) {
                            done.push(r);
                        }
                    }
                    _ => {
                        let (file, p, s) = (runs_path.display(), r.point, r.seed);
                        let why = format!("has a run (point {p}, seed {s}) not of this sweep");
                        return Err(Error::BadInput(format!("--resume: {file} {why}")));
                    }
                }
            }
        }
        (None, true) => notes.push(format!(
            "--resume: nothing to resume in {}; starting from the beginning",
            dir.display()
        )),
        (Some(m), false) => {
            if m.done > 0 || runs_path.exists() {
                notes.push(format!(
                    "started over in {} (use --resume to keep the runs of an interrupted sweep)",
                    dir.display()
                ));
            }
        }
        (None, false) => {}
    }
    if done.is_empty() {
        for name in [RUNS_FILE, RESULTS_FILE, SWEEP_FILE, MANIFEST_FILE] {
            let path = dir.join(name);
            if path.exists() {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        let failures = dir.join("failures");
        if failures.exists() {
            std::fs::remove_dir_all(&failures).map_err(io_error(&failures))?;
        }
    }
    let failures = dir.join("failures");
    std::fs::create_dir_all(&failures).map_err(io_error(&failures))?;
    Ok(done)
}

/// Why a manifest is not the one of this sweep, in words.
fn describe_difference(m: &Manifest, def: &Definition, shard: Option<Shard>) -> String {
    let mut diffs = Vec::new();
    if m.shard != shard {
        let name = |s: Option<Shard>| s.map_or("unsharded".to_string(), |s| format!("shard {s}"));
        diffs.push(format!("{} there, {} now", name(m.shard), name(shard)));
    }
    if m.sweep.scenario_file != def.scenario_file || m.sweep.scenario != def.scenario {
        diffs.push("another scenario".into());
    }
    if m.sweep.axes != def.axes {
        diffs.push("other --set values".into());
    }
    if m.sweep.seeds != def.seeds {
        diffs.push("other --seeds".into());
    }
    if m.sweep.fail_if != def.fail_if {
        diffs.push("other --fail-if".into());
    }
    if m.platsim != env!("CARGO_PKG_VERSION") {
        diffs.push(format!("platsim {}", m.platsim));
    }
    if diffs.is_empty() {
        diffs.push("the scenario file changed since".into());
    }
    diffs.join(", ")
}
