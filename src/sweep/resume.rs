//! Getting a sweep folder ready: `--resume` keeps the runs of an interrupted sweep (after
//! checking, through the manifest's fingerprint, that they are from this very sweep and
//! shard, and cutting a line torn by the kill); a fresh start clears the sweep's own files
//! so no stale row or failure survives.

use super::plan::{Definition, Manifest, Shard};
use super::record::{Record, RUNS_FILE};
use super::rows::Rows;
use super::{io_error, MANIFEST_FILE, RESULTS_FILE, SWEEP_FILE};
use crate::Error;
use std::path::Path;

/// Gets the sweep folder ready: with `--resume`, keeps the runs already recorded there
/// (after checking they are from this very sweep and shard) and returns where they are;
/// otherwise clears the sweep's own files.
pub fn prepare_dir(
    dir: &Path,
    def: &Definition,
    fingerprint: &str,
    shard: Option<Shard>,
    resume: bool,
    notes: &mut Vec<String>,
) -> Result<Rows, Error> {
    let runs_path = dir.join(RUNS_FILE);
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest_text = std::fs::read_to_string(&manifest_path).ok();
    let previous: Option<Manifest> = manifest_text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let mut done = Rows::new(def.runs());
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
            done = keep_finished(&runs_path, def, shard, false, notes)?;
        }
        (None, true) if runs_path.is_file() => {
            // The manifest was lost or cut (a kill while it was written by an older
            // platsim, a copy that left it out): the runs are the truth, so rebuild from
            // them, checking each one's swept values against this sweep.
            done = keep_finished(&runs_path, def, shard, true, notes)?;
            let what = if manifest_text.is_some() {
                "is damaged"
            } else {
                "is missing"
            };
            notes.push(format!(
                "--resume: {} {what}; rebuilt the sweep's state from {} ({} finished runs kept; \
                 their --set values match this sweep, but without the manifest platsim cannot \
                 tell whether the scenario file changed since)",
                manifest_path.display(),
                runs_path.display(),
                done.len()
            ));
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

/// The finished runs in `runs_path` that belong to this sweep's `shard`, cutting a line
/// torn by a kill. With `check_params` (no manifest vouches for the file) each run's
/// recorded `--set` values must be its point's.
fn keep_finished(
    runs_path: &Path,
    def: &Definition,
    shard: Option<Shard>,
    check_params: bool,
    notes: &mut Vec<String>,
) -> Result<Rows, Error> {
    let slice = shard.unwrap_or(Shard::WHOLE);
    let grid = def.grid();
    let mut done = Rows::new(def.runs());
    let (_, good_len, torn) = done.add_log(runs_path, |r| {
        def.run_index(r.point, r.seed)
            .filter(|&k| slice.has(k) && (!check_params || params_match(r, &grid)))
            .ok_or_else(|| {
                let (file, p, s) = (runs_path.display(), r.point, r.seed);
                format!(
                    "--resume: {file} has a run (point {p}, seed {s}) not of this sweep; \
                     resume with the flags the sweep was started with, or start over without \
                     --resume"
                )
            })
    })?;
    if torn {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(runs_path)
            .map_err(io_error(runs_path))?;
        f.set_len(good_len).map_err(io_error(runs_path))?;
        notes.push(format!(
            "dropped the last line of {} (cut off when the sweep was stopped)",
            runs_path.display()
        ));
    }
    Ok(done)
}

/// The record's swept values are those of its point in `grid`.
fn params_match(r: &Record, grid: &super::Grid) -> bool {
    let want = grid.overrides(r.point);
    r.params.0.len() == want.len()
        && r.params
            .0
            .iter()
            .zip(&want)
            .all(|((path, value), o)| *path == o.path && *value == o.value)
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
