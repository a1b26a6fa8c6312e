//! `platsim sweep` and `platsim merge`: flags, then one call into [`crate::sweep`], then
//! what to tell the user. Exit code 3 when runs failed their `--fail-if` predicates.

use crate::sweep::{self, Axis, Predicate, Report, Seeds, Shard};
use crate::Error;
use clap::Args;
use std::path::PathBuf;

pub const SWEEP_EXAMPLES: &str = "\
Examples:
  platsim sweep --set services.payment.error_rate=0.1,0.3,0.5 --seeds 1..20
  platsim sweep --set workload.checkout.rate=200..1000:5 --set services.payment.replicas=2,4,8 \\
                --seeds 1..10 --fail-if 'workloads.checkout.goodput_rps < 300'
  platsim sweep scenarios/resilience/metastable-retry-storm.ron \\
                --set 'workload.0.retry.budget=None,Budget(percent: 10.0, min_concurrency: 1)' \\
                --seeds 1..20 --fail-if 'faults.0.verdict == metastable'
  platsim sweep ... --shard 2/8 --out /data/sweep     (shard 2 of 8)
  platsim merge /data/sweep                            (combine the 8 shards)

Values: V1,V2,V3 | FROM..TO:COUNT | FROM..TO:COUNT:log | one value; RON values with commas
inside parentheses stay whole. Exit codes: 0 ok, 2 bad input, 3 some run failed, 1 internal.";

/// Most threads a sweep may ask for: beyond this, threads only cost memory and time to
/// start (each run is single-threaded and CPU-bound).
const MAX_JOBS: i64 = 1024;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario file (RON). Without it, the embedded food-ordering platform.
    pub scenario: Option<PathBuf>,
    /// A swept field and its values: PATH=V1,V2,..., PATH=FROM..TO:COUNT[:log], or one
    /// value (repeatable; the grid is every combination, the first --set changing slowest).
    #[arg(long = "set", value_name = "PATH=VALUES", value_parser = parse_axis)]
    pub sets: Vec<Axis>,
    /// Seeds of every point: A..B (inclusive), N, or a list 1,5,9 [default: the scenario's seed].
    #[arg(long, value_name = "SEEDS", value_parser = parse_seeds)]
    pub seeds: Option<Seeds>,
    /// Runs at once; 0 for one per core [default: one per core].
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=MAX_JOBS))]
    pub jobs: Option<u32>,
    /// Output folder [default: output/<scenario>/sweep].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A run fails when this holds of its summary.json, e.g. 'services.api.sojourn_ms.p99 > 500'
    /// or 'faults.0.recovered_after_s > 30' (ops > >= < <= == !=; repeatable).
    #[arg(long = "fail-if", value_name = "PATH OP NUMBER", value_parser = parse_predicate)]
    pub fail_if: Vec<Predicate>,
    /// Run only the I-th (from 0) of N slices of the runs, into DIR/shard-I-of-N.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Keep the runs already in DIR (from an interrupted sweep) and do only the rest.
    #[arg(long)]
    pub resume: bool,
    /// Print nothing but failing runs and errors (no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
    /// A summary.json path to show per point (mean and 95% interval) besides the
    /// predicates' own, e.g. services.api.sojourn_ms.p99 (repeatable).
    #[arg(long = "metric", value_name = "PATH")]
    pub metrics: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders (DIR/shard-I-of-N), or the folder that holds them.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write results.csv and sweep.json [default: the folder holding the shards].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but failing runs and errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_axis(s: &str) -> Result<Axis, String> {
    s.parse()
}

fn parse_seeds(s: &str) -> Result<Seeds, String> {
    s.parse()
}

fn parse_predicate(s: &str) -> Result<Predicate, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

pub fn sweep(args: SweepArgs) -> Result<(), Error> {
    let report = sweep::sweep(&sweep::Options {
        scenario: args.scenario,
        axes: args.sets,
        seeds: args.seeds,
        jobs: args.jobs.unwrap_or(0) as usize,
        out: args.out,
        fail_if: args.fail_if,
        shard: args.shard,
        resume: args.resume,
        progress: !args.quiet,
        metrics: args.metrics,
    })?;
    tell(&report, args.quiet)
}

pub fn merge(args: MergeArgs) -> Result<(), Error> {
    let report = sweep::merge(&args.dirs, args.out.as_deref())?;
    tell(&report, args.quiet)
}

/// Prints what a sweep or merge did and every failing run with its repro command.
fn tell(r: &Report, quiet: bool) -> Result<(), Error> {
    for note in r.notes.iter().filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    let d = &r.definition;
    if !quiet {
        let shard = r.shard.map(|s| format!(", shard {s}")).unwrap_or_default();
        let done = if r.ran == r.runs {
            String::new()
        } else {
            format!(" ({} run now, {} already done)", r.ran, r.resumed)
        };
        println!(
            "platsim sweep: {}: {} point{} x {} seed{}{shard}: {} runs{done} in {:.1}s on {} thread{}",
            d.scenario,
            d.points(),
            plural(d.points()),
            d.seeds.0.len(),
            plural(d.seeds.0.len()),
            r.runs,
            r.wall.as_secs_f64(),
            r.threads,
            plural(r.threads)
        );
    }
    if !quiet {
        tell_points(r);
    }
    if !r.failures.is_empty() {
        println!("\nfailed: {} of {} runs", r.failures.len(), r.runs);
        for f in &r.failures {
            let params: Vec<String> = f.params.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "  point {} ({}) seed {}: {}",
                f.point,
                params.join(" "),
                f.seed,
                f.reasons.join("; ")
            );
            println!("    reproduce: {}", f.repro);
        }
    }
    if !quiet {
        println!("\nresults:   {}", r.dir.join(sweep::RESULTS_FILE).display());
        if r.shard.is_none() {
            println!("per point: {}", r.dir.join(sweep::SWEEP_FILE).display());
        }
    }
    if r.failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed {
            failed: r.failures.len(),
            runs: r.runs,
        })
    }
}

/// The per-point table and which predicates held.
fn tell_points(r: &Report) {
    let has_metrics = r.points.first().is_some_and(|p| !p.metrics.is_empty());
    if r.points.len() > 1 || has_metrics {
        println!("\nper point (mean [95% interval] over seeds):");
        print!("{}", sweep::summary::table(&r.points));
    }
    if !r.predicates.is_empty() {
        println!("\npredicates (--fail-if):");
        for p in &r.predicates {
            let verdict = if p.failed == 0 { "held  " } else { "failed" };
            println!(
                "  {verdict} {}: {} of {} run{} failed it",
                p.predicate,
                p.failed,
                p.runs,
                plural(p.runs)
            );
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
