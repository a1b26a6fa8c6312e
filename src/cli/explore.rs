//! `platsim explore`: flags, one call into [`crate::explore`], then what to tell the user.
//! Exit code 3 when a failure was found, 0 when none was.

use crate::explore::{self, check::parse_invariants, BudgetFlags, Invariant, Report};
use crate::sweep::{Predicate, Shard};
use crate::Error;
use clap::Args;
use std::path::PathBuf;

pub const EXPLORE_EXAMPLES: &str = "\
Examples:
  platsim explore scenarios/explore/at-most-once.ron --fail-if 'orders.lost > 0' --runs 20
  platsim explore scenarios/explore/backup-payment.ron --fail-if 'orders.refused > 0' --runs 200
  platsim explore S.ron --invariants lost,metastable --max-faults 2 --max-share 0.5
  platsim explore S.ron --runs 10000 --shard 3/8 --out /data/explore     (shard 3 of 8)

Invariants (--invariants, a list or `none`): lost (orders.lost > 0), duplicated
(orders.duplicated > 0), metastable (a fault's verdict is metastable), unrecovered (an
outage left services down) are on by default; slo (health.slo_breaches > 0) is off. One the
scenario already breaks without added faults is switched off with a note.

Failing runs are grouped into distinct failures (the first check failed and, for lost
orders, each cause the ledger names); each is shrunk to its own minimal schedule.
Writes DIR/failures.jsonl, DIR/explore.json, DIR/explore.html and, when a run failed,
DIR/minimal.ron (the first failure's scenario with only its minimal faults: `platsim run
DIR/minimal.ron`), then DIR/minimal-2.ron, DIR/minimal-3.ron, ... for the others.
Exit codes: 0 no failure found, 3 a failure found, 2 bad input, 1 internal.";

/// Most threads a search may ask for (as for sweeps).
const MAX_JOBS: i64 = 1024;

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// Scenario file (RON). Without it, the embedded food-ordering platform.
    pub scenario: Option<PathBuf>,
    /// A run fails when this holds of its summary.json, e.g. 'orders.lost > 0'
    /// (ops > >= < <= == !=; repeatable).
    #[arg(long = "fail-if", value_name = "PATH OP VALUE", value_parser = parse_predicate)]
    pub fail_if: Vec<Predicate>,
    /// Built-in invariants to check: a list of lost, duplicated, metastable, unrecovered,
    /// slo, or `none` [default: lost,duplicated,metastable,unrecovered].
    #[arg(long, value_name = "LIST", value_parser = parse_list)]
    pub invariants: Option<Invariants>,
    /// Fault schedules to try.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=explore::MAX_RUNS as u64))]
    pub runs: u64,
    /// Exploration seed: run k's schedule is drawn from (seed, k) [default: the scenario's seed].
    #[arg(long, allow_hyphen_values = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Runs at once; 0 for one per core [default: one per core].
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=MAX_JOBS))]
    pub jobs: Option<u32>,
    /// Run only the I-th (from 0) of N slices of the runs, into DIR/shard-I-of-N
    /// (without coverage guidance, so run k is the same schedule in every shard).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Output folder [default: output/<scenario>/explore].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Most faults in one schedule [default: the scenario's explore.max_faults, else 3].
    #[arg(long, value_name = "N")]
    pub max_faults: Option<u32>,
    /// Longest fault, e.g. 30s [default: explore.max_duration, else a quarter of the run].
    #[arg(long, value_name = "DURATION")]
    pub max_duration: Option<String>,
    /// Most of the platform (services and brokers) under faults at once, in (0, 1]
    /// [default: explore.max_share, else 1.0].
    #[arg(long, value_name = "SHARE")]
    pub max_share: Option<f64>,
    /// Faults start at or after this [default: explore.from, else the warmup].
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Faults end by this [default: explore.until, else the run's duration].
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Most runs the shrink of the first failure may make.
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub shrink_steps: u64,
    /// Pure random schedules: no preference for those that reached new states.
    #[arg(long)]
    pub no_guide: bool,
    /// Stop after the round of 16 runs in which the first failure was found.
    #[arg(long)]
    pub stop_at_first: bool,
    /// Print nothing but the failure and errors (no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A list of invariants (one flag value; clap would take a bare `Vec` as repeated values).
#[derive(Debug, Clone)]
pub struct Invariants(pub Vec<Invariant>);

fn parse_list(s: &str) -> Result<Invariants, String> {
    parse_invariants(s).map(Invariants)
}

fn parse_predicate(s: &str) -> Result<Predicate, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

pub fn explore(args: ExploreArgs) -> Result<(), Error> {
    let report = explore::explore(&explore::Options {
        scenario: args.scenario,
        fail_if: args.fail_if,
        invariants: args
            .invariants
            .map_or_else(|| Invariant::DEFAULT.to_vec(), |i| i.0),
        runs: args.runs as usize,
        seed: args.seed,
        jobs: args.jobs.unwrap_or(0) as usize,
        shard: args.shard,
        out: args.out,
        budget: BudgetFlags {
            max_faults: args.max_faults,
            max_duration: args.max_duration,
            max_share: args.max_share,
            from: args.from,
            until: args.until,
        },
        shrink_steps: args.shrink_steps as usize,
        guide: !args.no_guide,
        stop_at_first: args.stop_at_first,
        progress: !args.quiet,
    })?;
    tell(&report, args.quiet);
    match report.failures().count() {
        0 => Ok(()),
        failed => Err(Error::Failed {
            failed,
            runs: report.runs.len(),
        }),
    }
}

/// Prints the search, its distinct failures, the minimal schedule and its repro.
fn tell(r: &Report, quiet: bool) {
    for note in r.notes.iter().filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    let failed = r.failures().count();
    if !quiet {
        println!(
            "platsim explore: {}: {} runs (seed {}), {} fault kinds x targets, checking: {}",
            r.scenario,
            r.runs.len(),
            r.seed,
            r.vocabulary,
            r.checks.join("; ")
        );
        println!("coverage: {} states reached", r.coverage.len());
    }
    if failed == 0 {
        if !quiet {
            println!("no failure found");
        }
        return;
    }
    println!(
        "\nfailed: {failed} of {} runs; {} distinct failure{}:",
        r.runs.len(),
        r.distinct.len(),
        if r.distinct.len() == 1 { "" } else { "s" }
    );
    for d in &r.distinct {
        println!(
            "  {}: {} run(s), first run {} -> {}",
            explore::output::label(d),
            d.runs,
            d.first_run,
            d.minimal.file
        );
    }
    for (k, d) in r.distinct.iter().enumerate() {
        let m = &d.minimal;
        let which = if k == 0 {
            String::new()
        } else {
            format!(" of failure {} ({})", k + 1, explore::output::label(d))
        };
        println!(
            "\nminimal schedule{which} (run {} shrunk in {} steps): {} fault{}",
            m.run,
            m.steps,
            m.faults.len(),
            if m.faults.len() == 1 { "" } else { "s" }
        );
        for f in &m.faults {
            println!("  {}", f.label());
        }
        println!("it shows: {}", m.why);
        for (cause, n) in &m.causes {
            println!("  lost {n}: {cause}");
        }
        println!("reproduce: {}", m.repro);
    }
    if !quiet {
        println!(
            "\nfailures:  {}",
            r.dir.join(explore::FAILURES_FILE).display()
        );
        println!("report:    {}", r.dir.join(explore::PAGE_FILE).display());
    }
}
