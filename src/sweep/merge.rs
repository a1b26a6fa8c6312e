//! `platsim merge DIR...`: the shards of one sweep, run anywhere, back into the
//! `results.csv` and `sweep.json` that the sweep would have written in one piece.
//!
//! Merging reads each shard's `manifest.json` and `runs.jsonl` (not its `results.csv`:
//! the records keep each run's own columns, so the combined table is built exactly as an
//! unsharded sweep builds it). It refuses, with the reason, shards of different sweeps
//! (their fingerprints differ: another scenario text, grid, seeds, predicates or platsim
//! version), a shard given twice, missing shards, and shards that did not finish.

use super::plan::{Definition, Manifest, Shard};
use super::record::RUNS_FILE;
use super::rows::Rows;
use super::{table, write, Report, MANIFEST_FILE, RESULTS_FILE, SWEEP_FILE};
use crate::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One shard found on disk.
struct Part {
    dir: PathBuf,
    manifest: Manifest,
}

fn bad(msg: String) -> Error {
    Error::BadInput(msg)
}

/// The shard folders named by `args`: each is a shard (it has a manifest) or holds shards
/// (`shard-I-of-N` folders with manifests), as `--shard` lays them out.
fn find_parts(args: &[PathBuf]) -> Result<(Vec<Part>, Option<PathBuf>), Error> {
    let mut parts = Vec::new();
    let mut parent_of_all = None;
    for arg in args {
        let mut shard_dirs: Vec<PathBuf> = std::fs::read_dir(arg)
            .map_err(|e| bad(format!("cannot read {}: {e}", arg.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("shard-"))
                    && p.join(MANIFEST_FILE).is_file()
            })
            .collect();
        shard_dirs.sort();
        if !shard_dirs.is_empty() {
            if args.len() == 1 {
                parent_of_all = Some(arg.clone());
            }
        } else if arg.join(MANIFEST_FILE).is_file() {
            shard_dirs.push(arg.clone());
        } else {
            return Err(bad(format!(
                "{} is not a sweep folder: it has no {MANIFEST_FILE} and no shard-I-of-N folders",
                arg.display()
            )));
        }
        for dir in shard_dirs {
            let path = dir.join(MANIFEST_FILE);
            let manifest: Manifest = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            parts.push(Part { dir, manifest });
        }
    }
    Ok((parts, parent_of_all))
}

/// Merges shard folders into `out` (default: the folder holding them).
pub fn merge(args: &[PathBuf], out: Option<&Path>) -> Result<Report, Error> {
    let started = Instant::now();
    if args.is_empty() {
        return Err(bad(
            "merge needs the shard folders (or the folder holding them)".into(),
        ));
    }
    let (parts, parent_of_all) = find_parts(args)?;
    let first = &parts[0];
    for p in &parts[1..] {
        if p.manifest.fingerprint != first.manifest.fingerprint {
            return Err(bad(format!(
                "{} and {} are from different sweeps (another scenario, --set, --seeds, \
                 --fail-if or platsim version); merge only the shards of one sweep",
                first.dir.display(),
                p.dir.display()
            )));
        }
    }
    let def: Definition = first.manifest.sweep.clone();
    let count = first.manifest.shard.unwrap_or(Shard::WHOLE).count;
    let mut by_index: BTreeMap<usize, &Part> = BTreeMap::new();
    for p in &parts {
        let s = p.manifest.shard.unwrap_or(Shard::WHOLE);
        if s.count != count {
            return Err(bad(format!(
                "{} is shard {s} but {} is one of {count} shards; a sweep's shards must all \
                 use the same N",
                p.dir.display(),
                first.dir.display()
            )));
        }
        if let Some(other) = by_index.insert(s.index, p) {
            return Err(bad(format!(
                "shard {s} is given twice: {} and {}",
                other.dir.display(),
                p.dir.display()
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "missing shard{} {} (found {} of {count}); run {} with --shard, or pass {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            by_index.len(),
            if missing.len() == 1 { "it" } else { "them" },
            if missing.len() == 1 {
                "its folder"
            } else {
                "their folders"
            },
        )));
    }

    // Indexed, not read: the tables read the records back one at a time.
    let mut rows = Rows::new(def.runs());
    for (&index, part) in &by_index {
        let shard = Shard { index, count };
        let path = part.dir.join(RUNS_FILE);
        let (added, _, _) = rows.add_log(&path, |r| {
            def.run_index(r.point, r.seed)
                .filter(|&k| shard.has(k))
                .ok_or_else(|| {
                    format!(
                        "{} has a run (point {}, seed {}) that is not part of shard {shard}",
                        path.display(),
                        r.point,
                        r.seed
                    )
                })
        })?;
        if added != part.manifest.runs {
            return Err(bad(format!(
                "shard {shard} in {} is incomplete: {added} of its {} runs are done; finish it \
                 with the same command and --resume",
                part.dir.display(),
                part.manifest.runs
            )));
        }
    }
    if rows.len() != def.runs() {
        return Err(bad(format!(
            "the shards hold {} runs but the sweep has {}",
            rows.len(),
            def.runs()
        )));
    }

    let out = match (out, parent_of_all) {
        (Some(out), _) => out.to_path_buf(),
        (None, Some(parent)) => parent,
        (None, None) if parts.len() == 1 && parts[0].manifest.shard.is_none() => {
            parts[0].dir.clone()
        }
        (None, None) => common_parent(&parts)?,
    };
    let lock = crate::report::files::Lock::take(&out, "platsim merge")?;
    lock.begin("run the same merge command again")?;
    let failures_dir = out.join("failures");
    std::fs::create_dir_all(&failures_dir).map_err(|e| Error::io(&failures_dir, e))?;
    crate::report::files::write_atomic_with(&out.join(RESULTS_FILE), &mut |w| {
        table::write_results_csv(&def, &rows, w)
    })?;
    write(&out, SWEEP_FILE, &table::sweep_json(&def, &rows)?)?;
    let failures = table::failures(&def, &rows)?;
    for f in &failures {
        let Some(file) = &f.summary else { continue };
        let shard = def.run_index(f.point, f.seed).map_or(0, |k| k % count);
        let from = by_index[&shard].dir.join(file);
        let to = out.join(file);
        if from != to {
            let bytes = std::fs::read(&from).map_err(|e| {
                bad(format!(
                    "cannot read {} (a shard's failing run): {e}",
                    from.display()
                ))
            })?;
            crate::report::files::write_atomic(&to, &bytes)?;
        }
    }
    lock.finish()?;
    let watched = super::summary::watched(&def, &[]);
    Ok(Report {
        dir: out,
        points: super::summary::points(&def, &rows, &watched)?,
        predicates: super::summary::predicates(&def, &rows)?,
        runs: rows.len(),
        ran: 0,
        resumed: rows.len(),
        failures,
        definition: def,
        shard: None,
        notes: Vec::new(),
        threads: 1,
        wall: started.elapsed(),
    })
}

/// The folder that holds every shard folder, where the merged files go by default.
fn common_parent(parts: &[Part]) -> Result<PathBuf, Error> {
    let parent = |p: &Part| {
        p.dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let first = parent(&parts[0]);
    if parts.iter().all(|p| parent(p) == first) {
        Ok(if first.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            first
        })
    } else {
        Err(bad(
            "the shard folders are in different places; say where to write with --out DIR".into(),
        ))
    }
}
