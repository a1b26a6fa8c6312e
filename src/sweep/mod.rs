//! Parameter sweeps: one scenario over a grid of `--set` values times a list of seeds,
//! in parallel, with failure predicates, a repro command for every failing run, shards for
//! running one sweep on many machines, and a record log that survives interruption.
//!
//! How a sweep goes (`sweep`):
//! 1. [`grid`]: the `--set PATH=V1,V2` axes and the seeds define the runs, (point, seed)
//!    pairs numbered in order ([`plan`]); `--shard I/N` keeps every N-th.
//! 2. One point of each shape of value is built before anything runs, and run for one
//!    nanosecond of virtual time ([`probe`]): a bad `--set` value and a misspelt
//!    `--fail-if` path are reported (exit 2) before hours are spent, and the zero-length
//!    summaries show which paths exist.
//! 3. [`parallel`]: the runs go over a rayon pool; each is built exactly as `platsim run
//!    --seed S --set ...` builds it ([`repro`]), flattened into table cells ([`flatten`]),
//!    checked against the predicates ([`predicate`]) and appended to `runs.jsonl`
//!    ([`record`]) the moment it ends.
//! 4. [`table`]: `results.csv` and `sweep.json` (with [`stats`] across seeds) are written
//!    from the records read back from `runs.jsonl` in table order ([`rows`]), so they are
//!    the same bytes whatever the thread count, an interruption and `--resume`, or a split
//!    into shards and [`merge`]; and memory stays flat in the number of runs (8 bytes a
//!    run for the index: a million runs fit).
//!
//! A sweep folder holds `manifest.json` (what sweep this is), `runs.jsonl`, `results.csv`,
//! `sweep.json` (unsharded sweeps and merges) and `failures/` (the summary.json of every
//! failing run). A shard writes into `<DIR>/shard-I-of-N/`.

pub mod flatten;
pub mod grid;
pub mod merge;
pub mod parallel;
pub mod plan;
pub mod predicate;
mod probe;
pub mod record;
pub mod repro;
mod resume;
pub mod rows;
pub mod stats;
pub mod summary;
pub mod table;

pub use grid::{Axis, Grid, Seeds};
pub use merge::merge;
pub use plan::{Definition, Manifest, Shard};
pub use predicate::Predicate;
pub use table::Failure;

use crate::scenario;
use crate::{report, Error};
use parallel::{Progress, Runner};
use record::{Appender, RUNS_FILE};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The results table of a sweep folder.
pub const RESULTS_FILE: &str = "results.csv";
/// Per-point statistics and the failing runs.
pub const SWEEP_FILE: &str = "sweep.json";
/// What sweep (and which shard) a folder holds.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What `platsim sweep` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Scenario file; `None` for the embedded default.
    pub scenario: Option<PathBuf>,
    pub axes: Vec<Axis>,
    /// `None`: the scenario's own seed.
    pub seeds: Option<Seeds>,
    /// Threads; 0 for one per core.
    pub jobs: usize,
    /// Sweep folder; `None` for `output/<scenario>/sweep`.
    pub out: Option<PathBuf>,
    pub fail_if: Vec<Predicate>,
    pub shard: Option<Shard>,
    pub resume: bool,
    /// Show a progress bar (only ever on a terminal).
    pub progress: bool,
    /// Metrics (summary.json paths) to summarise per point besides the predicates' own.
    pub metrics: Vec<String>,
}

/// What a sweep or a merge did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where its files are.
    pub dir: PathBuf,
    pub definition: Definition,
    pub shard: Option<Shard>,
    /// Runs in the tables (this shard's, or all).
    pub runs: usize,
    /// Of those, run now, and found already done (`--resume`, merge).
    pub ran: usize,
    pub resumed: usize,
    pub failures: Vec<Failure>,
    /// Things worth telling the user (a torn line dropped, a sweep started over).
    pub notes: Vec<String>,
    pub threads: usize,
    pub wall: Duration,
    /// Each point's runs, failures and watched metrics (mean and 95% interval).
    pub points: Vec<summary::PointSummary>,
    /// Each `--fail-if` predicate and the runs that failed it.
    pub predicates: Vec<summary::PredicateCount>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Writes `body` to `dir/name`, replacing the file whole (a kill never leaves it cut).
fn write(dir: &Path, name: &str, body: &str) -> Result<(), Error> {
    report::files::write_atomic(&dir.join(name), body.as_bytes())
}

/// What to do with a sweep folder a kill left incomplete.
const REDO: &str = "run the same sweep command again with --resume (finished runs are kept)";

/// The default folder of a scenario's sweep: `output/<scenario>/sweep`.
pub fn default_dir(scenario: &str) -> PathBuf {
    report::default_dir(scenario, 0).with_file_name("sweep")
}

/// Runs a sweep (or one shard of it) and writes its folder.
pub fn sweep(opts: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let (text, origin) = scenario::read_source(opts.scenario.as_deref())?;
    let base = scenario::parse(&text, &origin)?;
    let grid = Grid::new(opts.axes.clone()).map_err(Error::BadInput)?;
    let seeds = opts.seeds.clone().unwrap_or(Seeds(vec![base.seed]));
    if seeds.0.is_empty() {
        return Err(Error::BadInput("--seeds lists no seed".into()));
    }
    let def = Definition {
        scenario: base.name.clone(),
        scenario_file: opts.scenario.as_ref().map(|p| p.display().to_string()),
        axes: grid.axes.clone(),
        seeds,
        fail_if: opts.fail_if.iter().map(ToString::to_string).collect(),
    };
    if grid
        .points()
        .and_then(|p| p.checked_mul(def.seeds.0.len()))
        .is_none_or(|n| n > 100_000_000)
    {
        return Err(Error::BadInput(
            "the sweep has more than 100 million runs; shrink the grid or the seeds".into(),
        ));
    }
    let fingerprint = def.fingerprint(&text);
    let shard = opts.shard;
    let slice = shard.unwrap_or(Shard::WHOLE);
    let mut dir = opts.out.clone().unwrap_or_else(|| default_dir(&base.name));
    if let Some(s) = shard {
        dir = dir.join(s.dir_name());
    }
    let lock = report::files::Lock::take(&dir, "platsim sweep")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.min(def.runs().div_ceil(slice.count)))
        .build()
        .map_err(|e| Error::Output {
            path: "thread pool".into(),
            reason: e.to_string(),
        })?;
    let runner = Runner {
        base: &base,
        origin: &origin,
        grid: &grid,
        predicates: &opts.fail_if,
        dir: &dir,
    };
    let absent = pool.install(|| probe::probe(&runner, &def))?;

    let mut notes = Vec::new();
    lock.begin(REDO)?;
    let done = resume::prepare_dir(&dir, &def, &fingerprint, shard, opts.resume, &mut notes)?;
    let mut manifest = Manifest::new(&def, fingerprint, shard);
    manifest.done = done.len();
    write(&dir, MANIFEST_FILE, &manifest.to_json())?;

    let mut left = vec![0; def.points()];
    let mut in_shard = vec![false; def.points()];
    for k in (0..def.runs()).filter(|&k| slice.has(k)) {
        let point = k / def.seeds.0.len();
        in_shard[point] = true;
        left[point] += usize::from(!done.has(k));
    }
    let progress = Progress::new(
        opts.progress,
        manifest.runs,
        done.len(),
        left,
        in_shard.iter().filter(|&&b| b).count(),
        done.failed(),
    );
    let runs_path = dir.join(RUNS_FILE);
    let log = Mutex::new(Appender::open(&runs_path).map_err(io_error(&dir))?);
    let wanted = |k: usize| slice.has(k) && !done.has(k);
    let outcomes = parallel::run_all(&runner, &def, &wanted, &pool, &log, &progress);
    progress.finish();
    let (ran, resolved) = outcomes?;
    drop(log);
    let resumed = done.len();
    drop(done);

    // The tables, from the log read back in table order: nothing of a run stays in memory.
    let mut rows = rows::Rows::new(def.runs());
    rows.add_log(&runs_path, |r| {
        def.run_index(r.point, r.seed)
            .filter(|&k| slice.has(k))
            .ok_or_else(|| format!("{} changed during the sweep", runs_path.display()))
    })?;
    report::files::write_atomic_with(&dir.join(RESULTS_FILE), &mut |w| {
        table::write_results_csv(&def, &rows, w)
    })?;
    if shard.is_none() {
        write(&dir, SWEEP_FILE, &table::sweep_json(&def, &rows)?)?;
    }
    manifest.done = rows.len();
    manifest.complete = rows.len() == manifest.runs;
    write(&dir, MANIFEST_FILE, &manifest.to_json())?;
    lock.finish()?;

    if ran > 0 {
        let never: Vec<String> = opts
            .fail_if
            .iter()
            .zip(&resolved)
            .zip(&absent)
            .filter(|((_, hit), _)| !**hit)
            .map(|((p, _), why)| {
                format!(
                    "--fail-if '{p}': {}",
                    why.as_deref().unwrap_or("no run had it")
                )
            })
            .collect();
        if !never.is_empty() {
            return Err(Error::BadInput(format!(
                "{} (no run of the sweep has this path; results are in {})",
                never.join("\n"),
                dir.display()
            )));
        }
    }
    let watched = summary::watched(&def, &opts.metrics);
    Ok(Report {
        dir,
        points: summary::points(&def, &rows, &watched)?,
        predicates: summary::predicates(&def, &rows)?,
        failures: table::failures(&def, &rows)?,
        definition: def,
        shard,
        runs: rows.len(),
        ran,
        resumed,
        notes,
        threads: pool.current_num_threads(),
        wall: started.elapsed(),
    })
}
