//! The command line: clap definitions and one short function per subcommand. Everything
//! real happens in the library; this layer parses flags, calls it, prints, and maps
//! errors to exit codes (0 ok, 1 internal failure, 2 bad input, 3 runs of a sweep failed).

use crate::run::Limits;
use crate::scenario::{self, Override, Spec};
use crate::{model, report, Error};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

mod chart;
mod explore;
mod health;
mod progress;
mod sweep;
mod trace;

const EXAMPLES: &str = "\
Examples:
  platsim run                                   run the embedded food-ordering platform
  platsim run scenarios/textbook/mmc.ron --seed 7
  platsim run --set services.payment.error_rate=0.5 --set services.payment.replicas=6
  platsim run scenarios/resilience/thundering-herd.ron --seed 3
  platsim layers scenarios/layer-cake/tangled.ron
  platsim run scenarios/textbook/mm1.ron --json > summary.json
  platsim check scenarios/food-ordering.ron";

#[derive(Debug, Parser)]
#[command(
    name = "platsim",
    version,
    about = "Deterministic discrete-event simulator of whole software platforms",
    long_about = "platsim runs a platform of services, calls and clients in virtual time \
                  and reports what it did: latencies, errors, rejections and timeouts, \
                  per service and end to end. Same scenario + same seed = same output.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write summary.json and timeseries.csv.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Check a scenario without running it: every problem, at once.
    #[command(after_help = "Example:\n  platsim check scenarios/food-ordering.ron")]
    Check(CheckArgs),
    /// Layers of the dependency graph, its circles, and how to break them.
    #[command(
        after_help = "Examples:\n  platsim layers scenarios/layer-cake/tangled.ron\n  platsim layers scenarios/layer-cake/untangled.ron --dot | dot -Tsvg > layers.svg"
    )]
    Layers(LayersArgs),
    /// Run a scenario over a grid of --set values and seeds, in parallel; exit 3 when a
    /// run fails a --fail-if predicate.
    #[command(after_help = sweep::SWEEP_EXAMPLES)]
    Sweep(sweep::SweepArgs),
    /// Combine the shards of a sweep (--shard I/N) into one results.csv and sweep.json.
    #[command(after_help = "Example:\n  platsim merge output/food-ordering/sweep")]
    Merge(sweep::MergeArgs),
    /// Run a scenario and print its platform health report alone: SLOs, error budgets,
    /// burn-rate alerts, reliability, cost and governance per service.
    #[command(after_help = health::REPORT_EXAMPLES)]
    Report(health::ReportArgs),
    /// Charts (SVG and PNG) and report.html from a run's or a sweep's output folder.
    #[command(after_help = chart::CHART_EXAMPLES)]
    Chart(chart::ChartArgs),
    /// Where the time went in a trace written by `run --trace-format otlp`: the critical
    /// path of the slowest and failed requests, per service, and who made the p99.
    #[command(after_help = trace::TRACE_EXAMPLES)]
    Trace(trace::TraceFileArgs),
    /// Search fault schedules that break the scenario and shrink the first to a minimal
    /// one (DIR/minimal.ron); exit 3 when a failure was found.
    #[command(after_help = explore::EXPLORE_EXAMPLES)]
    Explore(explore::ExploreArgs),
}

/// Where the scenario comes from, and how to change it.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Scenario file (RON). Without it, the embedded food-ordering platform.
    pub scenario: Option<PathBuf>,
    /// Override one field, e.g. services.payment.error_rate=0.3 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub sets: Vec<Override>,
}

/// Most rows `--max-rows` may ask for: the series is held in memory (rows x columns x 8
/// bytes) and written as one CSV, so 100,000 rows of a ten-service platform is already
/// about a hundred megabytes.
const MAX_ROWS: u64 = 100_000;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// Seed of every random stream (overrides the scenario's `seed`).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Output folder [default: output/<scenario>/seed-<seed>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print summary.json to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Stop with an error after this many events.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_events)]
    pub max_events: u64,
    /// Stop with an error when this many requests are in the platform at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_in_flight)]
    pub max_in_flight: u32,
    /// Most rows in timeseries.csv; longer runs get wider windows.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_rows,
          value_parser = clap::value_parser!(u64).range(1..=MAX_ROWS))]
    pub max_rows: u64,
    #[command(flatten)]
    pub trace: trace::TraceArgs,
    /// Also draw charts (DIR/charts/*.svg, *.png) and DIR/report.html.
    #[arg(long)]
    pub charts: bool,
}

#[derive(Debug, Args)]
pub struct LayersArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// Print `{"layers": {...}, "cycles": [...]}` as JSON.
    #[arg(long, conflicts_with = "dot")]
    pub json: bool,
    /// Print Graphviz DOT: layers as ranks, circle edges in red.
    #[arg(long)]
    pub dot: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
}

fn parse_override(s: &str) -> Result<Override, String> {
    s.parse()
}

/// A seed: a whole number from 0 to 2^64-1 (a negative one is a mistake to say so, not
/// a flag to suggest `--` for).
pub fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "`{}` is not a seed: seeds are whole numbers from 0 to {}",
            crate::scenario::error::clip(s),
            u64::MAX
        )
    })
}

/// Most lines of one error message, and most characters per line: a message that names
/// every problem must still fit a terminal, whatever the input holds.
const MAX_MESSAGE_LINES: usize = 200;
const MAX_LINE_CHARS: usize = 400;

/// `message` with over-long lines cut and too many lines summed up.
fn bounded(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    let mut out = String::new();
    for line in lines.iter().take(MAX_MESSAGE_LINES) {
        let n = line.chars().count();
        if n > MAX_LINE_CHARS {
            out.extend(line.chars().take(MAX_LINE_CHARS - 40));
            out.push_str(&format!("... ({n} characters in all)"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if lines.len() > MAX_MESSAGE_LINES {
        let more = lines.len() - MAX_MESSAGE_LINES;
        out.push_str(&format!("... and {more} more lines\n"));
    }
    out
}

/// Runs the command line `args`; returns the process exit code.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprint!("{}", bounded(&e.render().to_string()));
            return 2;
        }
        Err(e) => {
            let _ = e.print();
            return 0;
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Check(args) => check(args),
        Command::Layers(args) => layers(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Report(args) => health::report(args),
        Command::Chart(args) => chart::chart(args),
        Command::Trace(args) => trace::trace_file(args),
        Command::Explore(args) => explore::explore(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprint!("{}", bounded(&format!("error: {e}")));
            e.exit_code()
        }
    }
}

/// Reads the scenario (file or embedded default) and applies `--set`.
fn load(input: &ScenarioArgs) -> Result<(Spec, String), Error> {
    let (spec, origin) = match &input.scenario {
        Some(path) => {
            let origin = path.display().to_string();
            (scenario::load_file(&origin)?, origin)
        }
        None => (
            scenario::parse(scenario::DEFAULT_SCENARIO, scenario::DEFAULT_ORIGIN)?,
            scenario::DEFAULT_ORIGIN.to_string(),
        ),
    };
    Ok((scenario::apply_overrides(&spec, &input.sets)?, origin))
}

fn run(args: RunArgs) -> Result<(), Error> {
    let (mut spec, origin) = load(&args.input)?;
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    let platform = model::validate(&spec, &origin)?;
    let limits = Limits {
        max_events: args.max_events,
        max_in_flight: args.max_in_flight,
        max_rows: args.max_rows,
    };
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| report::default_dir(&platform.name, platform.seed));
    // Locked before the run, so a second writer of the folder is refused at once.
    let lock = report::files::Lock::take(&dir, "platsim run")?;
    let estimate = model::estimate::estimate(&platform);
    let warning = size_warning(&estimate, limits.max_events);
    if let (Some(warning), false) = (&warning, args.quiet) {
        eprintln!("note: {}\nwarning: {warning}", estimate.describe());
    }
    let summary = if warning.is_some() && show_bar(&args) {
        let mut bar = progress::RunBar::stderr(platform.end());
        let summary = crate::run::run_observed(&platform, limits, &mut bar);
        bar.finish();
        summary?
    } else {
        trace::run(&platform, limits, &args.trace)?
    };
    let repro = repro_command(&args, platform.seed);
    lock.begin(&repro)?;
    clear_charts(&dir)?;
    report::write_run(&dir, &summary)?;
    report::write_command(&dir, &repro)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let _ = stdout.write_all(report::summary_json(&summary).as_bytes());
    } else if !args.quiet {
        let _ = write!(stdout, "{}", report::table::render(&summary));
        let _ = writeln!(stdout, "\nreproduce: {repro}");
        let _ = writeln!(stdout, "output:    {}", dir.display());
    }
    drop(stdout);
    if args.charts {
        chart::write_unchecked(&dir, &[], args.quiet || args.json)?;
    }
    lock.finish()?;
    if !args.quiet && summary.window_s > platform.window.as_secs_f64() {
        eprintln!(
            "note: time-series window widened from {} to {} to keep timeseries.csv within {} rows (--max-rows)",
            platform.window,
            crate::engine::SimTime((summary.window_s * 1e9).round() as u64),
            args.max_rows
        );
    }
    Ok(())
}

/// A progress bar on a long run: only on a terminal, never with `--quiet` or `--json`, and
/// not with a trace or log (their observer carries the run).
fn show_bar(args: &RunArgs) -> bool {
    use std::io::IsTerminal;
    !args.quiet
        && !args.json
        && args.trace.trace.is_none()
        && args.trace.log.is_none()
        && std::io::stderr().is_terminal()
}

/// Removes the charts of an earlier run of the folder, which would not match the new one.
fn clear_charts(dir: &std::path::Path) -> Result<(), Error> {
    let charts = dir.join(crate::chart::CHARTS_DIR);
    if charts.is_dir() {
        std::fs::remove_dir_all(&charts).map_err(|e| Error::io(&charts, e))?;
    }
    let page = dir.join(crate::chart::REPORT_FILE);
    if page.is_file() {
        std::fs::remove_file(&page).map_err(|e| Error::io(&page, e))?;
    }
    Ok(())
}

/// The exact command that reproduces this run.
fn repro_command(args: &RunArgs, seed: u64) -> String {
    let mut cmd = String::from("platsim run");
    if let Some(path) = &args.input.scenario {
        cmd.push(' ');
        cmd.push_str(&shell_quote(&path.display().to_string()));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    for set in &args.input.sets {
        cmd.push_str(" --set ");
        cmd.push_str(&shell_quote(&set.to_string()));
    }
    cmd
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn check(args: CheckArgs) -> Result<(), Error> {
    let (spec, origin) = load(&args.input)?;
    let p = model::validate(&spec, &origin)?;
    let calls: usize = p.services.iter().map(|s| s.calls.len()).sum();
    println!(
        "{origin}: ok: scenario \"{}\": {}, {}, {}, {} simulated",
        p.name,
        count(p.services.len(), "service"),
        count(calls, "call"),
        count(p.workloads.len(), "workload"),
        p.duration
    );
    let estimate = model::estimate::estimate(&p);
    println!("estimate: {}", estimate.describe());
    if let Some(warning) = size_warning(&estimate, Limits::default().max_events) {
        println!("warning: {warning}");
    }
    Ok(())
}

/// What to say about a run this large, if anything: above `max_events` it will stop
/// with an error; above [`model::estimate::LONG_RUN_S`] it is long.
fn size_warning(e: &model::estimate::Estimate, max_events: u64) -> Option<String> {
    if e.events > max_events as f64 {
        Some(format!(
            "the run would stop at --max-events {max_events} before its horizon; shorten \
             `duration`, lower the rates, or raise --max-events"
        ))
    } else if e.is_long() {
        Some(
            "a long run; check a shorter `duration` first (--set duration=1m), or run it \
             in the background"
                .into(),
        )
    } else {
        None
    }
}

/// `1 service`, `3 services`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn layers(args: LayersArgs) -> Result<(), Error> {
    let (spec, origin) = load(&args.input)?;
    // Exactly what `check` accepts: advice about a scenario that cannot run misleads.
    model::validate(&spec, &origin)?;
    let graph = model::graph::DependencyGraph::from_spec(&spec).map_err(|problems| {
        crate::scenario::ScenarioError::Invalid {
            origin: origin.clone(),
            problems,
        }
    })?;
    let layering = graph.layering();
    let out = if args.json {
        report::layers::json(&graph, &layering)
    } else if args.dot {
        report::layers::dot(&spec.name, &graph, &layering)
    } else {
        report::layers::text(&spec.name, &graph, &layering)
    };
    print!("{out}");
    Ok(())
}
