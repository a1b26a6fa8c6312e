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
//!    schedule that reached new states in an earlier round ([`coverage`]), in shares
//!    set by what each way yielded in the rounds before ([`allot`]). A round's runs
//!    go in parallel; their results are taken in run order, so the corpus, and every
//!    schedule after it, is the same with any `--jobs`.
//! 3. Each run is checked ([`check`]); every failing one is kept (`failures.jsonl`).
//! 4. Failing runs are grouped into distinct failures ([`Distinct`]: the first check a
//!    run fails and, for a check on lost orders, each cause the ledger names). Each
//!    distinct failure's first run is shrunk ([`shrink`]) so that it keeps failing that
//!    way, and written as `minimal.ron` (the first) or `minimal-<k>.ron` ([`text`]), each
//!    run once more as written to confirm that it reproduces its failure. The shrinks run
//!    in parallel, one per failure, each on its own: the same with any `--jobs`.
//!
//! With `--shard I/N` a search runs only the runs k with k mod N = I, without guidance (a
//! shard cannot see the others' coverage), so run k is the same schedule in any shard.

pub mod allot;
pub mod budget;
pub mod check;
pub mod coverage;
pub mod output;
pub mod schedule;
pub mod shrink;
pub mod text;
pub mod vocab;

pub use budget::{Budget, BudgetFlags};
pub use check::{Check, Invariant};
pub use output::{minimal_file, EXPLORE_FILE, FAILURES_FILE, MINIMAL_FILE, PAGE_FILE};

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
    /// Stop after the round in which the first failure was found.
    pub stop_at_first: bool,
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
    /// Services that took over the load while its faults were on ([`coverage::absorbers`]).
    pub absorbers: Vec<String>,
}

/// One distinct failure's first run, shrunk.
#[derive(Debug, Clone)]
pub struct Minimal {
    pub run: usize,
    pub check: String,
    /// Its file in the search's folder: `minimal.ron`, `minimal-2.ron`, ...
    pub file: String,
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

/// What tells failures apart: the first check a run fails and, when that check is about
/// lost orders, one cause of the loss as the ledger names it (a run losing orders for two
/// causes is an instance of two failures).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailureKey {
    pub check: usize,
    pub cause: Option<String>,
}

impl FailureKey {
    /// The distinct failures `r` is an instance of (none when it passed).
    fn of(r: &RunResult, checks: &[Check]) -> Vec<FailureKey> {
        let Some(&(check, _)) = r.failed.first() else {
            return Vec::new();
        };
        let by_cause = checks.get(check).is_some_and(Check::about_lost_orders);
        if by_cause && !r.causes.is_empty() {
            r.causes
                .keys()
                .map(|c| FailureKey {
                    check,
                    cause: Some(c.clone()),
                })
                .collect()
        } else {
            vec![FailureKey { check, cause: None }]
        }
    }

    /// Whether `r` still shows this failure: it fails the check (first or not), with the
    /// cause among its losses'.
    fn shown_by(&self, r: &RunResult) -> bool {
        r.failed.iter().any(|(c, _)| *c == self.check)
            && self.cause.as_ref().is_none_or(|c| r.causes.contains_key(c))
    }
}

/// A distinct failure of a search, with its minimal schedule.
#[derive(Debug, Clone)]
pub struct Distinct {
    pub key: FailureKey,
    /// The check's name as the tables write it.
    pub check: String,
    /// Failing runs that show it, and the first of them.
    pub runs: usize,
    pub first_run: usize,
    pub minimal: Minimal,
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
    /// Distinct failures in the order they were first found.
    pub distinct: Vec<Distinct>,
    /// Feature -> (first run that reached it, runs that reached it).
    pub coverage: BTreeMap<String, (usize, usize)>,
    /// How each way of making a schedule did under guidance: (way, runs, runs that
    /// yielded), counted from the second round ([`allot`]); empty without guidance.
    pub operators: Vec<(schedule::Op, u64, u64)>,
    pub notes: Vec<String>,
    pub threads: usize,
}

impl Report {
    pub fn failures(&self) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(|r| !r.failed.is_empty())
    }

    /// The first distinct failure's minimal schedule (`minimal.ron`).
    pub fn minimal(&self) -> Option<&Minimal> {
        self.distinct.first().map(|d| &d.minimal)
    }
}

/// The check's name as tables write it.
fn check_name(checks: &[Check], i: usize) -> String {
    checks
        .get(i)
        .map_or("could not finish".to_string(), ToString::to_string)
}

/// The distinct failures among `runs` (in run order), ordered by the first run showing
/// each: (key, runs showing it, its first run's index in `runs`).
fn distinct_failures(runs: &[RunResult], checks: &[Check]) -> Vec<(FailureKey, usize, usize)> {
    let mut seen: BTreeMap<FailureKey, (usize, usize)> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        for key in FailureKey::of(r, checks) {
            seen.entry(key).or_insert((0, i)).0 += 1;
        }
    }
    let mut out: Vec<(FailureKey, usize, usize)> =
        seen.into_iter().map(|(k, (n, i))| (k, n, i)).collect();
    out.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    out
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
        Ok(self
            .run_spec(spec)?
            .map(|s| serde_json::to_value(&s).expect("a summary serializes")))
    }

    fn run_spec(&self, spec: &Spec) -> Result<Result<crate::Summary, String>, Error> {
        let platform = model::validate(spec, self.origin).map_err(|e| Error::Output {
            path: "a drawn fault schedule".into(),
            reason: format!("platsim drew faults its own validation refuses (a bug): {e}"),
        })?;
        Ok(crate::run(&platform, Limits::default()).map_err(|e| format!("could not finish: {e}")))
    }

    fn run(&self, k: usize, faults: Vec<Fault>) -> Result<RunResult, Error> {
        let mut result = RunResult {
            run: k,
            faults,
            failed: Vec::new(),
            causes: BTreeMap::new(),
            features: Vec::new(),
            absorbers: Vec::new(),
        };
        let summary = match self.run_spec(&self.spec(&result.faults))? {
            Ok(s) => s,
            Err(why) => {
                result.failed.push((self.checks.len(), why));
                return Ok(result);
            }
        };
        let services = || summary.services.keys().map(String::as_str);
        let mut features = coverage::at_once(&summary.timeseries, services());
        let window_ms = (summary.window_s * 1000.0).round() as u64;
        result.absorbers =
            coverage::absorbers(&summary.timeseries, window_ms, services(), &result.faults);
        let summary = serde_json::to_value(&summary).expect("a summary serializes");
        for (i, c) in self.checks.iter().enumerate() {
            if let Some(why) = c.failed(&summary) {
                result.failed.push((i, why));
            }
        }
        result.causes = causes(&summary);
        features.extend(coverage::signature(&summary));
        result.features = features.into_iter().collect();
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
        stop_at_first: opts.stop_at_first,
    };
    let Searched {
        runs,
        coverage,
        allot,
    } = pool.install(|| search.run(opts.runs))?;
    let found = distinct_failures(&runs, &checks);
    let distinct = pool.install(|| {
        found
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .map(|(k, (key, n, first))| {
                let minimal = search.minimize(&runs[*first], key, k, &text, &origin, opts, &dir)?;
                Ok(Distinct {
                    key: key.clone(),
                    check: check_name(&checks, key.check),
                    runs: *n,
                    first_run: runs[*first].run,
                    minimal,
                })
            })
            .collect::<Result<Vec<Distinct>, Error>>()
    })?;
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
        distinct,
        coverage,
        operators: if search.guide {
            allot.table().collect()
        } else {
            Vec::new()
        },
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
    stop_at_first: bool,
}

/// What guidance has learnt between rounds: the schedules that reached a state first or
/// with fewer faults than any before, and for each state the smallest schedule (fewest
/// faults, the earliest of equals) that reached it: AFL's favoured entry per edge, the
/// smallest input that covers it, so a mutation works on the faults that matter.
#[derive(Default)]
struct Corpus {
    schedules: Vec<Vec<Fault>>,
    /// Each schedule's services that took over while its faults were on.
    absorbers: Vec<Vec<String>>,
    /// Feature -> (index in `schedules`, its affinity to the checks).
    parents: BTreeMap<String, (usize, u32)>,
}

/// Weight of a feature reached by one run; one reached by n runs weighs 1/n of it.
const RARE: u64 = 1 << 20;

impl Corpus {
    /// A parent for a mutation: a state drawn with weight 1/(runs that reached it) times
    /// 4^(its affinity to the checks), then the schedule that reached it first. Rare
    /// states are where the search has barely been (AFLFast's and libFuzzer's preference
    /// for rarely hit edges); states near the path a check reads are nearer its failure
    /// (AFLGo's directed fuzzing): a schedule that made the payment call fall back is
    /// half of "the fallback failed too".
    fn parent(
        &self,
        rng: &mut crate::engine::Stream,
        coverage: &BTreeMap<String, (usize, usize)>,
    ) -> Option<usize> {
        let weight = |f: &String, affinity: u32| {
            (RARE / coverage.get(f).map_or(1, |c| c.1.max(1)) as u64) << (2 * affinity.min(8))
        };
        let total: u64 = self.parents.iter().map(|(f, p)| weight(f, p.1)).sum();
        if total == 0 {
            return None;
        }
        let mut x = rng.random_range(0..total);
        for (f, &(i, affinity)) in &self.parents {
            let w = weight(f, affinity);
            if x < w {
                return Some(i);
            }
            x -= w;
        }
        None
    }
}

/// What the search loop did: every run in run order, the coverage it reached and each
/// way's yield.
struct Searched {
    runs: Vec<RunResult>,
    coverage: BTreeMap<String, (usize, usize)>,
    allot: allot::Allot,
}

impl Search<'_> {
    /// Runs `runs` schedules in rounds.
    fn run(&self, runs: usize) -> Result<Searched, Error> {
        let mut corpus = Corpus::default();
        let mut coverage: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut results: Vec<RunResult> = Vec::new();
        let mut allot = allot::Allot::default();
        let mut found: std::collections::BTreeSet<FailureKey> = Default::default();
        let mut failing = 0;
        // Times each vocabulary option was in a schedule run so far.
        let mut tried = vec![0u64; self.runner.vocab.options.len()];
        for start in (0..runs).step_by(ROUND) {
            if self.stop_at_first && failing > 0 {
                break;
            }
            let ks: Vec<usize> = (start..(start + ROUND).min(runs))
                .filter(|&k| self.shard.has(k))
                .collect();
            // Operators are measured only where all of them could be drawn.
            let measured = self.guide && !corpus.schedules.is_empty();
            let shares = allot.shares();
            // Fresh faults spread over the fault space once guidance is on.
            let pick = if measured {
                schedule::Pick::spread(&tried)
            } else {
                schedule::Pick::default()
            };
            let schedules: Vec<(usize, schedule::Op, Vec<Fault>)> = ks
                .iter()
                .map(|&k| {
                    let (op, faults) = self.schedule(k, &corpus, &coverage, &shares, &pick);
                    (k, op, faults)
                })
                .collect();
            let ops: Vec<schedule::Op> = schedules.iter().map(|s| s.1).collect();
            let round: Vec<Result<RunResult, Error>> = schedules
                .into_par_iter()
                .with_max_len(1)
                .map(|(k, _, faults)| {
                    let r = self.runner.run(k, faults);
                    if let Ok(r) = &r {
                        self.progress.ran(!r.failed.is_empty());
                    }
                    r
                })
                .collect();
            for (r, op) in round.into_iter().zip(ops) {
                let r = r?;
                for f in &r.faults {
                    if let Some(o) = self.runner.vocab.option_of(f) {
                        tried[o] += 1;
                    }
                }
                let index = corpus.schedules.len();
                let mut new = false;
                let mut reached_new = false;
                let mut new_failure = false;
                for key in FailureKey::of(&r, self.runner.checks) {
                    new_failure |= found.insert(key);
                }
                failing += usize::from(!r.failed.is_empty());
                for f in &r.features {
                    let c = coverage.entry(f.clone()).or_insert((r.run, 0));
                    reached_new |= c.1 == 0;
                    c.1 += 1;
                    if r.faults.is_empty() {
                        continue;
                    }
                    match corpus.parents.get_mut(f) {
                        Some(p) if corpus.schedules[p.0].len() > r.faults.len() => {
                            p.0 = index;
                            new = true;
                        }
                        Some(_) => {}
                        None => {
                            let affinity = self
                                .runner
                                .checks
                                .iter()
                                .map(|c| coverage::affinity(f, c.path()))
                                .max()
                                .unwrap_or(0);
                            corpus.parents.insert(f.clone(), (index, affinity));
                            new = true;
                        }
                    }
                }
                if new {
                    corpus.schedules.push(r.faults.clone());
                    corpus.absorbers.push(r.absorbers.clone());
                }
                if measured {
                    let most_fail = 2 * failing > results.len() + 1;
                    allot.record(op, new_failure || (reached_new && !most_fail));
                }
                results.push(r);
            }
        }
        Ok(Searched {
            runs: results,
            coverage,
            allot,
        })
    }

    /// Run k's schedule and how it was made: with guidance and a corpus, an operator
    /// drawn from the round's `shares` (chosen by the run's own stream): a fresh draw or
    /// a mutation of a schedule that reached a rare state, with up to
    /// [`schedule::STACK`] operators stacked (the run is counted as its first's); else a
    /// fresh draw.
    fn schedule(
        &self,
        k: usize,
        corpus: &Corpus,
        coverage: &BTreeMap<String, (usize, usize)>,
        shares: &[u64; schedule::Op::ALL.len()],
        pick: &schedule::Pick,
    ) -> (schedule::Op, Vec<Fault>) {
        let vocab = self.runner.vocab;
        let mut rng = schedule::rng(self.seed, k);
        if vocab.options.is_empty() {
            return (schedule::Op::Fresh, Vec::new());
        }
        if self.guide && !corpus.schedules.is_empty() {
            let op = allot::Allot::draw(shares, &mut rng);
            if op != schedule::Op::Fresh {
                if let Some(parent) = corpus.parent(&mut rng, coverage) {
                    let donor = corpus
                        .parent(&mut rng, coverage)
                        .map(|d| &corpus.schedules[d][..]);
                    let absorbers = &corpus.absorbers[parent];
                    let mutate = |rng: &mut crate::engine::Stream, op, faults: &[Fault]| {
                        schedule::mutate(
                            rng,
                            op,
                            pick,
                            faults,
                            donor,
                            absorbers,
                            vocab,
                            self.budget,
                        )
                    };
                    let mut faults = mutate(&mut rng, op, &corpus.schedules[parent]);
                    // Stacked, as AFL's havoc stacks its tweaks.
                    for _ in 1..rng.random_range(1..=schedule::STACK) {
                        let more = allot::Allot::draw_mutation(shares, &mut rng);
                        faults = mutate(&mut rng, more, &faults);
                    }
                    return (op, faults);
                }
            }
        }
        let faults = schedule::random(&mut rng, pick, vocab, self.budget);
        (schedule::Op::Fresh, faults)
    }

    /// Shrinks `first` so that it keeps showing the failure `key`, and writes nothing
    /// yet: the minimal schedule (the `k`-th distinct failure's), confirmed by a run of
    /// the rewritten text exactly as `platsim run` would read it.
    #[allow(clippy::too_many_arguments)]
    fn minimize(
        &self,
        first: &RunResult,
        key: &FailureKey,
        k: usize,
        text: &str,
        origin: &str,
        opts: &Options,
        dir: &std::path::Path,
    ) -> Result<Minimal, Error> {
        let check = key.check;
        let mut error = None;
        let mut test = |faults: &[Fault]| {
            self.progress.shrink_step();
            match self.runner.run(first.run, faults.to_vec()) {
                Ok(r) => key.shown_by(&r),
                Err(e) => {
                    error.get_or_insert(e);
                    false
                }
            }
        };
        let until_ms = self.budget.until_ms();
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
            Ok(summary) => {
                let causes = causes(&summary);
                let cause_kept = key.cause.as_ref().is_none_or(|c| causes.contains_key(c));
                self.runner
                    .checks
                    .get(check)
                    .and_then(|c| c.failed(&summary))
                    .filter(|_| cause_kept)
                    .map(|why| (why, causes))
            }
            Err(why) => Some((why, BTreeMap::new())),
        };
        let (why, causes) = again.unwrap_or_else(|| {
            let before = first.failed.iter().find(|(c, _)| *c == check);
            (
                format!(
                    "{} (the minimal schedule did not fail again: please report this)",
                    before.map_or("", |(_, w)| w.as_str())
                ),
                BTreeMap::new(),
            )
        });
        let name = minimal_file(k);
        let file = dir.join(&name);
        Ok(Minimal {
            run: first.run,
            check: check_name(self.runner.checks, check),
            file: name,
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
