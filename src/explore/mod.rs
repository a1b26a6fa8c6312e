//! Failure search (`platsim explore`): which fault schedule breaks this platform, and what
//! is the smallest one that still does? The question FoundationDB's simulator, Jepsen and
//! TigerBeetle's VOPR ask of databases, asked of a whole platform.
//!
//! How a search goes ([`explore`]):
//! 1. The scenario is read as `platsim run` reads it, its budget resolved ([`budget`]) and
//!    its fault vocabulary drawn from what it has ([`vocab`]). A baseline run without added
//!    faults must pass the `--fail-if` predicates (else nothing can be blamed on a fault);
//!    a built-in invariant it already breaks is switched off, with a note.
//! 2. Runs go in rounds of [`ROUND`]: run k's schedule is drawn from the stream of (seed,
//!    k) ([`schedule`]), either fresh or, under coverage guidance, a mutation of a
//!    schedule that reached new states in an earlier round ([`coverage`]). A round's runs
//!    go in parallel; their results are taken in run order, so the corpus, and every
//!    schedule after it, is the same with any `--jobs`.
//! 3. Each run is checked ([`check`]); every failing one is kept (`failures.jsonl`).
//! 4. The first failure is shrunk ([`shrink`]) and written as `minimal.ron` ([`text`]),
//!    which is run once more as written to confirm that it reproduces the failure.
//!
//! With `--shard I/N` a search runs only the runs k with k mod N = I, without guidance (a
//! shard cannot see the others' coverage), so run k is the same schedule in any shard.

pub mod budget;
pub mod check;
pub mod coverage;
mod output;
pub mod schedule;
pub mod shrink;
pub mod text;
pub mod vocab;

pub use budget::{Budget, BudgetFlags};
pub use check::{Check, Invariant};
pub use output::{groups as output_groups, EXPLORE_FILE, FAILURES_FILE, MINIMAL_FILE, PAGE_FILE};

use crate::model;
use crate::scenario::{self, Spec};
use crate::sweep::{Predicate, Shard};
use crate::{report, Error, Limits};
use rand::Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vocab::{Fault, Vocabulary};

/// Runs per round: guidance learns between rounds, never within one, so the schedules do
/// not depend on how many threads run a round.
pub const ROUND: usize = 16;
/// Lists longer than this are not walked for coverage features.
pub const MAX_LIST: usize = 64;
/// Most runs one search may ask for.
pub const MAX_RUNS: usize = 1_000_000;

/// What `platsim explore` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Option<PathBuf>,
    pub fail_if: Vec<Predicate>,
    /// Built-in invariants to check.
    pub invariants: Vec<Invariant>,
    pub runs: usize,
    /// Exploration seed; `None`: the scenario's seed.
    pub seed: Option<u64>,
    /// Threads; 0 for one per core.
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub out: Option<PathBuf>,
    pub budget: BudgetFlags,
    /// Most runs the shrink may make.
    pub shrink_steps: usize,
    /// Prefer mutations of schedules that reached new states.
    pub guide: bool,
    /// Show a progress bar (only ever on a terminal).
    pub progress: bool,
}

/// One run of the search.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub run: usize,
    pub faults: Vec<Fault>,
    /// (check index, why) of every check it failed, in check order.
    pub failed: Vec<(usize, String)>,
    /// The order ledger's causes of lost orders.
    pub causes: BTreeMap<String, u64>,
    pub features: Vec<String>,
}

/// The first failure, shrunk.
#[derive(Debug, Clone)]
pub struct Minimal {
    pub run: usize,
    pub check: String,
    pub faults: Vec<Fault>,
    /// Why the minimal schedule fails, as its own run shows.
    pub why: String,
    pub causes: BTreeMap<String, u64>,
    pub steps: usize,
    pub seed: u64,
    /// The text of `minimal.ron`.
    pub ron: String,
    pub repro: String,
}

/// What a search did.
#[derive(Debug, Clone)]
pub struct Report {
    pub dir: PathBuf,
    pub scenario: String,
    pub seed: u64,
    pub sim_seed: u64,
    pub budget: Budget,
    pub vocabulary: usize,
    pub checks: Vec<String>,
    pub runs: Vec<RunResult>,
    pub minimal: Option<Minimal>,
    /// Feature -> (first run that reached it, runs that reached it).
    pub coverage: BTreeMap<String, (usize, usize)>,
    pub notes: Vec<String>,
    pub threads: usize,
}

impl Report {
    pub fn failures(&self) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(|r| !r.failed.is_empty())
    }
}

/// Builds and runs one schedule on the scenario.
struct Runner<'a> {
    base: &'a Spec,
    origin: &'a str,
    vocab: &'a Vocabulary,
    checks: &'a [Check],
}

impl Runner<'_> {
    /// The scenario with `faults` added after its own.
    fn spec(&self, faults: &[Fault]) -> Spec {
        let mut spec = self.base.clone();
        for f in faults {
            self.vocab.add_to(f, &mut spec);
        }
        spec
    }

    fn summary(&self, spec: &Spec) -> Result<Result<serde_json::Value, String>, Error> {
        let platform = model::validate(spec, self.origin).map_err(|e| Error::Output {
            path: "a drawn fault schedule".into(),
            reason: format!("platsim drew faults its own validation refuses (a bug): {e}"),
        })?;
        Ok(match crate::run(&platform, Limits::default()) {
            Ok(s) => Ok(serde_json::to_value(&s).expect("a summary serializes")),
            Err(e) => Err(format!("could not finish: {e}")),
        })
    }

    fn run(&self, k: usize, faults: Vec<Fault>) -> Result<RunResult, Error> {
        let mut result = RunResult {
            run: k,
            faults,
            failed: Vec::new(),
            causes: BTreeMap::new(),
            features: Vec::new(),
        };
        let summary = match self.summary(&self.spec(&result.faults))? {
            Ok(s) => s,
            Err(why) => {
                result.failed.push((self.checks.len(), why));
                return Ok(result);
            }
        };
        for (i, c) in self.checks.iter().enumerate() {
            if let Some(why) = c.failed(&summary) {
                result.failed.push((i, why));
            }
        }
        result.causes = causes(&summary);
        result.features = coverage::signature(&summary).into_iter().collect();
        Ok(result)
    }
}

fn causes(summary: &serde_json::Value) -> BTreeMap<String, u64> {
    summary
        .pointer("/orders/lost_causes")
        .and_then(|c| c.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The scenario text and where it came from.
fn read(opts: &Options) -> Result<(String, String), Error> {
    Ok(scenario::read_source(opts.scenario.as_deref())?)
}

/// `platsim run FILE --seed S`, shell-quoted.
pub fn repro(file: &std::path::Path, seed: u64) -> String {
    format!(
        "platsim run {} --seed {seed}",
        crate::sweep::repro::shell_quote(&file.display().to_string())
    )
}

/// The default folder of a scenario's search: `output/<scenario>/explore`.
pub fn default_dir(scenario: &str) -> PathBuf {
    report::default_dir(scenario, 0).with_file_name("explore")
}

/// Runs a search and writes its folder.
pub fn explore(opts: &Options) -> Result<Report, Error> {
    let (text, origin) = read(opts)?;
    let base = scenario::parse(&text, &origin)?;
    model::validate(&base, &origin)?;
    let budget = Budget::resolve(&base, &opts.budget).map_err(|problems| {
        scenario::ScenarioError::Invalid {
            origin: origin.clone(),
            problems,
        }
    })?;
    if opts.runs == 0 || opts.runs > MAX_RUNS {
        return Err(Error::BadInput(format!(
            "--runs {}: a search makes 1 to {MAX_RUNS} runs",
            opts.runs
        )));
    }
    let vocab = Vocabulary::of(&base, budget.max_share_permille >= 1000);
    let seed = opts.seed.unwrap_or(base.seed);
    let mut checks: Vec<Check> = opts.fail_if.iter().cloned().map(Check::Predicate).collect();
    let mut notes = Vec::new();
    let runner = Runner {
        base: &base,
        origin: &origin,
        vocab: &vocab,
        checks: &[],
    };
    let baseline = runner.summary(&base)?.map_err(|why| {
        Error::BadInput(format!(
            "{origin}: the scenario {why} without any added fault; fix it before a search"
        ))
    })?;
    for p in &opts.fail_if {
        match p.check(&baseline) {
            Err(why) => return Err(Error::BadInput(why)),
            Ok(Some(why)) => {
                return Err(Error::BadInput(format!(
                    "--fail-if '{p}': the scenario fails it with no added fault ({why}); \
                     a search needs a passing start: loosen the predicate or remove faults"
                )))
            }
            Ok(None) => {}
        }
    }
    for &inv in &opts.invariants {
        let check = Check::Invariant(inv);
        match check.failed(&baseline) {
            Some(why) => notes.push(format!(
                "invariant {inv} is off: the scenario breaks it with no added fault ({why})"
            )),
            None => checks.push(check),
        }
    }
    if checks.is_empty() {
        return Err(Error::BadInput(
            "nothing to check: give --fail-if 'PATH OP VALUE' or --invariants".into(),
        ));
    }
    let runner = Runner {
        checks: &checks,
        ..runner
    };
    let dir = opts.out.clone().unwrap_or_else(|| default_dir(&base.name));
    let dir = match opts.shard {
        Some(s) => dir.join(s.dir_name()),
        None => dir,
    };
    let lock = report::files::Lock::take(&dir, "platsim explore")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| Error::Output {
            path: "thread pool".into(),
            reason: e.to_string(),
        })?;
    let progress = output::Progress::new(opts.progress, opts.runs);
    let search = Search {
        runner: &runner,
        budget: &budget,
        seed,
        guide: opts.guide && opts.shard.is_none(),
        shard: opts.shard.unwrap_or(Shard::WHOLE),
        progress: &progress,
    };
    let (runs, coverage) = pool.install(|| search.run(opts.runs))?;
    let minimal = runs
        .iter()
        .find(|r| !r.failed.is_empty())
        .map(|first| search.minimize(first, &text, &origin, opts, &dir))
        .transpose()?;
    progress.finish();
    let report = Report {
        dir,
        scenario: base.name.clone(),
        seed,
        sim_seed: base.seed,
        budget,
        vocabulary: vocab.options.len(),
        checks: checks.iter().map(ToString::to_string).collect(),
        runs,
        minimal,
        coverage,
        notes,
        threads: pool.current_num_threads(),
    };
    lock.begin("run the same platsim explore command again")?;
    output::write(&report, &vocab)?;
    lock.finish()?;
    Ok(report)
}

/// The search loop's fixed parts.
struct Search<'a> {
    runner: &'a Runner<'a>,
    budget: &'a Budget,
    seed: u64,
    guide: bool,
    shard: Shard,
    progress: &'a output::Progress,
}

impl Search<'_> {
    /// Runs `runs` schedules in rounds; returns them in run order, with the coverage.
    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        runs: usize,
    ) -> Result<(Vec<RunResult>, BTreeMap<String, (usize, usize)>), Error> {
        let mut corpus: Vec<Vec<Fault>> = Vec::new();
        let mut coverage: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut results = Vec::new();
        for start in (0..runs).step_by(ROUND) {
            let ks: Vec<usize> = (start..(start + ROUND).min(runs))
                .filter(|&k| self.shard.has(k))
                .collect();
            let schedules: Vec<(usize, Vec<Fault>)> =
                ks.iter().map(|&k| (k, self.schedule(k, &corpus))).collect();
            let round: Vec<Result<RunResult, Error>> = schedules
                .into_par_iter()
                .with_max_len(1)
                .map(|(k, faults)| {
                    let r = self.runner.run(k, faults);
                    if let Ok(r) = &r {
                        self.progress.ran(!r.failed.is_empty());
                    }
                    r
                })
                .collect();
            for r in round {
                let r = r?;
                let mut new = false;
                for f in &r.features {
                    let e = coverage.entry(f.clone()).or_insert_with(|| {
                        new = true;
                        (r.run, 0)
                    });
                    e.1 += 1;
                }
                if new && !r.faults.is_empty() {
                    corpus.push(r.faults.clone());
                }
                results.push(r);
            }
        }
        Ok((results, coverage))
    }

    /// Run k's schedule: with guidance and a corpus, half the time a mutation of a
    /// corpus member (chosen by the run's own stream), else a fresh draw.
    fn schedule(&self, k: usize, corpus: &[Vec<Fault>]) -> Vec<Fault> {
        let vocab = self.runner.vocab;
        let mut rng = schedule::rng(self.seed, k);
        if vocab.options.is_empty() {
            return Vec::new();
        }
        if self.guide && !corpus.is_empty() && rng.random_bool(0.5) {
            let parent = &corpus[rng.random_range(0..corpus.len())];
            schedule::mutate(&mut rng, parent, vocab, self.budget)
        } else {
            schedule::random(&mut rng, vocab, self.budget)
        }
    }

    /// Shrinks `first` and writes nothing yet: the minimal schedule, confirmed by a run
    /// of the rewritten text exactly as `platsim run` would read it.
    fn minimize(
        &self,
        first: &RunResult,
        text: &str,
        origin: &str,
        opts: &Options,
        dir: &std::path::Path,
    ) -> Result<Minimal, Error> {
        let (check, _) = first.failed[0];
        let mut error = None;
        let mut test = |faults: &[Fault]| {
            self.progress.shrink_step();
            match self.runner.run(first.run, faults.to_vec()) {
                Ok(r) => r.failed.iter().any(|(c, _)| *c == check),
                Err(e) => {
                    error.get_or_insert(e);
                    false
                }
            }
        };
        let until_ms = self.budget.until.0 / 1_000_000;
        let shrunk = shrink::shrink(
            &first.faults,
            &mut test,
            opts.shrink_steps,
            until_ms,
            &self.runner.vocab.components,
        );
        if let Some(e) = error {
            return Err(e);
        }
        let (ron, spec) = self.minimal_text(text, origin, &shrunk.faults)?;
        // Confirmed as written: the file itself, parsed and run as `platsim run` would.
        let again = match self.runner.summary(&spec)? {
            Ok(summary) => self
                .runner
                .checks
                .get(check)
                .and_then(|c| c.failed(&summary))
                .map(|why| (why, causes(&summary))),
            Err(why) => Some((why, BTreeMap::new())),
        };
        let (why, causes) = again.unwrap_or_else(|| {
            (
                format!(
                    "{} (the minimal schedule did not fail again: please report this)",
                    first.failed[0].1
                ),
                BTreeMap::new(),
            )
        });
        let file = dir.join(MINIMAL_FILE);
        Ok(Minimal {
            run: first.run,
            check: self
                .runner
                .checks
                .get(check)
                .map_or("could not finish".to_string(), ToString::to_string),
            faults: shrunk.faults,
            why,
            causes,
            steps: shrunk.steps,
            seed: self.runner.base.seed,
            ron,
            repro: repro(&file, self.runner.base.seed),
        })
    }

    /// `minimal.ron`'s text and the scenario it parses to: the user's text with the
    /// faults added, or the serialized scenario when the edit does not parse back to it.
    fn minimal_text(
        &self,
        text: &str,
        origin: &str,
        faults: &[Fault],
    ) -> Result<(String, Spec), Error> {
        let want = self.runner.spec(faults);
        let items: Vec<String> = faults.iter().map(|f| self.runner.vocab.ron(f)).collect();
        if let Some(edited) = text::add_faults(text, &items) {
            if scenario::parse(&edited, origin).is_ok_and(|s| s == want) {
                return Ok((edited, want));
            }
        }
        let ron = text::serialize(&want);
        let spec = scenario::parse(&ron, origin)?;
        Ok((ron, spec))
    }
}
