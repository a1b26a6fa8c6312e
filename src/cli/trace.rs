//! `platsim run --trace FILE.jsonl [--trace-filter KEY=VALUE]... [--trace-from T]
//! [--trace-to T]`: the flags, and the run through a [`Tracer`] when they ask for one.

use crate::model::Platform;
use crate::trace::{TraceFilter, Tracer};
use crate::{Error, Limits, Summary};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Write the run's event log to FILE, one JSON object per line (t_s, service, event,
    /// request).
    #[arg(long, value_name = "FILE.jsonl")]
    pub trace: Option<PathBuf>,
    /// Keep only matching events: service=NAME, event=arrival|ok|error|timeout|...,
    /// request=ID (repeatable).
    #[arg(long = "trace-filter", value_name = "KEY=VALUE", requires = "trace")]
    pub trace_filter: Vec<String>,
    /// Keep only events at or after this virtual time, e.g. 5m.
    #[arg(long = "trace-from", value_name = "DURATION", requires = "trace")]
    pub trace_from: Option<String>,
    /// Keep only events before this virtual time, e.g. 6m.
    #[arg(long = "trace-to", value_name = "DURATION", requires = "trace")]
    pub trace_to: Option<String>,
}

/// Runs `platform`, traced if `--trace` says so (the untraced run is the plain one).
pub fn run(platform: &Platform, limits: Limits, args: &TraceArgs) -> Result<Summary, Error> {
    let Some(path) = &args.trace else {
        return Ok(crate::run(platform, limits)?);
    };
    let filter = TraceFilter::parse(
        &args.trace_filter,
        args.trace_from.as_deref(),
        args.trace_to.as_deref(),
    )
    .map_err(Error::BadInput)?;
    filter.check(platform).map_err(Error::BadInput)?;
    let output = |e: std::io::Error| Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(output)?;
    }
    let file = std::fs::File::create(path).map_err(output)?;
    let mut tracer = Tracer::new(file, platform, &filter).map_err(Error::BadInput)?;
    let summary = crate::run::run_observed(platform, limits, &mut tracer)?;
    tracer.finish().map_err(output)?;
    Ok(summary)
}
