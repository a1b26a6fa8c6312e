//! `platsim report [SCENARIO] [--seed N] [--set PATH=VALUE]... [--json]`: runs the
//! scenario and prints its platform health report alone (the `health` of summary.json).

use super::{load, ScenarioArgs};
use crate::run::Limits;
use crate::{model, report, Error};
use clap::Args;
use std::io::Write;

pub const REPORT_EXAMPLES: &str = "\
Examples:
  platsim report scenarios/health/one-crash.ron
  platsim report scenarios/health/one-crash.ron --json | jq '.services[] | {name, status}'
  platsim report --set services.payment.error_rate=0.01";

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// Seed of every random stream (overrides the scenario's `seed`).
    #[arg(long, allow_hyphen_values = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Print the report as JSON (summary.json's `health`) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn report(args: ReportArgs) -> Result<(), Error> {
    let (mut spec, origin) = load(&args.input)?;
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    let platform = model::validate(&spec, &origin)?;
    let summary = crate::run(&platform, Limits::default())?;
    let text = if args.json {
        report::health::json(&summary.health)
    } else {
        // The service that limits the run, as the run table names it.
        let mut bottleneck = format!(
            "{}\n",
            crate::metrics::bottleneck::line(summary.bottleneck.as_ref())
        );
        // The incidents in which a CPU limit was the bottleneck.
        for l in crate::metrics::bottleneck::throttling_lines(&summary.throttling) {
            bottleneck.push_str(&l);
            bottleneck.push('\n');
        }
        format!(
            "platsim report: {} (seed {}), {:.1} s measured\n{bottleneck}\n{}",
            summary.scenario,
            summary.seed,
            summary.health.slo_period_s,
            report::health::render(&summary.health)
        )
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}
