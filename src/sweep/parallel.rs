//! Running a sweep's runs: one run exactly as `platsim run` would do it, and many of them
//! in parallel on a rayon pool, each appended to `runs.jsonl` the moment it finishes.
//!
//! Runs share nothing but the parsed scenario (read only), the record log and the progress
//! bar (both behind locks taken once per run), so they scale with the cores: a run takes
//! milliseconds to seconds, the lock microseconds.

use super::flatten::flatten;
use super::grid::Grid;
use super::plan::Definition;
use super::predicate::{lookup, Lookup, Predicate};
use super::record::{Appender, Ordered, Record};
use super::table::failure_file;
use crate::model::{self, Platform};
use crate::scenario::{self, Spec};
use crate::{report, Error, Limits};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Builds and runs the sweep's runs.
pub struct Runner<'a> {
    pub base: &'a Spec,
    /// Names the scenario in messages, as `platsim run` does.
    pub origin: &'a str,
    pub grid: &'a Grid,
    pub predicates: &'a [Predicate],
    /// The sweep folder: failing runs' summaries go to its `failures/`.
    pub dir: &'a Path,
}

/// What one run left: its record, and which predicates found their path in its summary.
pub struct Outcome {
    pub record: Record,
    pub resolved: Vec<bool>,
}

impl Runner<'_> {
    /// The platform of (point, seed), built as `platsim run --seed S --set ...` builds it:
    /// the overrides in `--set` order, then the seed.
    /// An error names the point and its `--set` values.
    pub fn platform(&self, point: usize, seed: u64) -> Result<Platform, Error> {
        let sets = self.grid.overrides(point);
        let built = scenario::apply_overrides(self.base, &sets).and_then(|mut spec| {
            spec.seed = seed;
            model::validate(&spec, self.origin)
        });
        built.map_err(|e| self.point_error(point, e.into()))
    }

    /// `e`, said of point `point`: `sweep point 37 (a=1 b=x): ...`.
    pub fn point_error(&self, point: usize, e: Error) -> Error {
        let sets: Vec<String> = self
            .grid
            .overrides(point)
            .iter()
            .map(ToString::to_string)
            .collect();
        Error::BadInput(format!("sweep point {point} ({}): {e}", sets.join(" ")))
    }

    fn params(&self, point: usize) -> Ordered<String> {
        Ordered(
            self.grid
                .overrides(point)
                .into_iter()
                .map(|o| (o.path, o.value))
                .collect(),
        )
    }

    /// Runs (point, seed) with the default limits, checks the predicates, and saves the
    /// summary of a failing run. A run that hits a limit is a failed run, not an error
    /// of the sweep.
    pub fn run(&self, point: usize, seed: u64) -> Result<Outcome, Error> {
        let platform = self.platform(point, seed)?;
        let mut record = Record {
            point,
            seed,
            params: self.params(point),
            cells: Ordered::default(),
            failed: Vec::new(),
        };
        let mut resolved = vec![false; self.predicates.len()];
        let summary = match crate::run(&platform, Limits::default()) {
            Ok(summary) => summary,
            Err(e) => {
                record.failed.push(format!("could not finish: {e}"));
                return Ok(Outcome { record, resolved });
            }
        };
        let json = report::summary_json(&summary);
        record.cells = Ordered(flatten(&json).map_err(|e| Error::Output {
            path: "summary".into(),
            reason: e,
        })?);
        if !self.predicates.is_empty() {
            let value = serde_json::to_value(&summary).expect("a summary serializes");
            for (i, p) in self.predicates.iter().enumerate() {
                resolved[i] = matches!(lookup(&value, &p.path), Lookup::Leaf(_));
                if let Ok(Some(why)) = p.check(&value) {
                    record.failed.push(why);
                }
            }
        }
        if !record.failed.is_empty() {
            // Saved before the record is appended: a recorded failure has its summary.
            let path = self.dir.join(failure_file(point, seed));
            crate::report::files::write_atomic(&path, json.as_bytes())?;
        }
        Ok(Outcome { record, resolved })
    }
}

/// How far a sweep is, for the progress bar.
pub struct Progress {
    bar: ProgressBar,
    /// Runs still to do at each point (points outside this shard: 0).
    left: Vec<AtomicUsize>,
    points: usize,
    points_done: AtomicUsize,
    failed: AtomicUsize,
}

impl Progress {
    /// `left[p]`: runs of point p still to do; `points`: points this shard has runs of.
    pub fn new(
        show: bool,
        total_runs: usize,
        done_runs: usize,
        left: Vec<usize>,
        points: usize,
        failed: usize,
    ) -> Progress {
        use std::io::IsTerminal;
        let bar = if show && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(
                Some(total_runs as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:20}] {pos}/{len} runs, ETA {eta} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_position(done_runs as u64);
            bar
        } else {
            ProgressBar::hidden()
        };
        let points_done = points - left.iter().filter(|&&n| n > 0).count();
        let p = Progress {
            bar,
            left: left.into_iter().map(AtomicUsize::new).collect(),
            points,
            points_done: AtomicUsize::new(points_done),
            failed: AtomicUsize::new(failed),
        };
        p.message();
        p
    }

    fn finished(&self, record: &Record) {
        if !record.failed.is_empty() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if self.left[record.point].fetch_sub(1, Ordering::Relaxed) == 1 {
            self.points_done.fetch_add(1, Ordering::Relaxed);
        }
        self.message();
        self.bar.inc(1);
    }

    fn message(&self) {
        self.bar.set_message(format!(
            "| {}/{} points | {} failed",
            self.points_done.load(Ordering::Relaxed),
            self.points,
            self.failed.load(Ordering::Relaxed)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs every run `k` of `def` (in `0..def.runs()`) that `wanted(k)` on `pool`, appending
/// each record to `log` as it finishes and keeping nothing of it but which predicates
/// found their path. Returns how many ran, and for each predicate whether any run had
/// its path.
///
/// Each free thread takes the next run in table order (point by point), so points
/// finish one after another and the bar's points counter moves; rayon's splitting of the
/// list would start every thread in a different part of it, and no point would finish
/// before the end. Runs are numbered, not listed: a million-run sweep keeps no list.
pub fn run_all(
    runner: &Runner,
    def: &Definition,
    wanted: &(dyn Fn(usize) -> bool + Sync),
    pool: &rayon::ThreadPool,
    log: &Mutex<Appender>,
    progress: &Progress,
) -> Result<(usize, Vec<bool>), Error> {
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let resolved: Vec<AtomicBool> = runner
        .predicates
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    let runs = def.runs();
    let work = || loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if k >= runs || stop.load(Ordering::Relaxed) {
            return;
        }
        if !wanted(k) {
            continue;
        }
        let (point, seed) = def.run(k);
        let outcome = runner.run(point, seed).and_then(|o| {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&o.record)?;
            Ok(o)
        });
        match outcome {
            Ok(o) => {
                progress.finished(&o.record);
                ran.fetch_add(1, Ordering::Relaxed);
                for (r, hit) in resolved.iter().zip(o.resolved) {
                    if hit {
                        r.store(true, Ordering::Relaxed);
                    }
                }
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                first_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
        }
    };
    pool.scope(|scope| {
        for _ in 0..pool.current_num_threads() {
            scope.spawn(|_| work());
        }
    });
    match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok((
            ran.into_inner(),
            resolved.into_iter().map(AtomicBool::into_inner).collect(),
        )),
    }
}
