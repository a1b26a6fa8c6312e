//! `platsim chart DIR` and `platsim run --charts`: charts (SVG and PNG) and report.html
//! from a run's or a sweep's output folder.

use crate::{chart, report, Error};
use clap::Args;
use std::path::{Path, PathBuf};

pub const CHART_EXAMPLES: &str = "\
Examples:
  platsim chart output/food-ordering/seed-1          a run: charts/*.svg, charts/*.png, report.html
  platsim run scenarios/layer-cake/untangled.ron --charts      the same, right after the run
  platsim chart output/food-ordering/sweep --metric services.api.sojourn_ms.p99";

#[derive(Debug, Args)]
pub struct ChartArgs {
    /// A run's output folder (summary.json) or a sweep's (results.csv).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Sweeps: also chart this summary.json path against the swept parameter (repeatable;
    /// the defaults are the --fail-if paths, goodput, p99 and recovery times).
    #[arg(long = "metric", value_name = "PATH")]
    pub metrics: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Draws a finished folder's charts, holding its lock so no run rewrites it meanwhile.
pub fn chart(args: ChartArgs) -> Result<(), Error> {
    if !args.dir.is_dir() {
        return Err(Error::BadInput(format!(
            "{} is not a folder; give a run's or a sweep's output folder",
            args.dir.display()
        )));
    }
    // Only an output folder is locked: no lock file is left in any other folder.
    let marks = [
        "summary.json",
        crate::sweep::RESULTS_FILE,
        crate::sweep::MANIFEST_FILE,
        report::files::INCOMPLETE_FILE,
    ];
    if !marks.iter().any(|m| args.dir.join(m).exists()) {
        return Err(Error::BadInput(format!(
            "{} holds neither a run (summary.json) nor a sweep (results.csv)",
            args.dir.display()
        )));
    }
    let lock = report::files::Lock::take(&args.dir, "platsim chart")?;
    report::files::check_complete(&args.dir)?;
    write_unchecked(&args.dir, &args.metrics, args.quiet)?;
    drop(lock);
    Ok(())
}

/// Draws the charts of `dir` and says where they went; the caller holds its lock.
pub fn write_unchecked(dir: &Path, metrics: &[String], quiet: bool) -> Result<(), Error> {
    let written = chart::write_dir(dir, metrics)?;
    if !quiet {
        println!(
            "charts:    {} ({} charts, SVG and PNG)",
            dir.join(chart::CHARTS_DIR).display(),
            written.charts.len()
        );
        println!("report:    {}", written.report.display());
    }
    Ok(())
}
