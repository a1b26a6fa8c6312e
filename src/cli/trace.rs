//! `platsim run --trace FILE [--trace-format jsonl|otlp|chrome] [--trace-filter
//! KEY=VALUE]... [--trace-from T] [--trace-to T] [--trace-sample P] [--trace-keep
//! RULES] [--trace-max-spans N]`: the flags, and the run through a [`Tracer`] (the event
//! log) or a [`SpanTracer`] (traces) when they ask for one.

use crate::model::Platform;
use crate::trace::analyze::{summarize, Kept};
use crate::trace::export::{Chrome, Names, Otlp};
use crate::trace::log::Log;
use crate::trace::span::{SpanOptions, SpanSink, SpanTracer};
use crate::trace::{SpanFlags, TraceFilter, Tracer};
use crate::{Error, Limits, Summary};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What `--trace` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// One JSON object per event (arrival and end of each visit).
    Jsonl,
    /// OpenTelemetry OTLP/JSON, one ExportTraceServiceRequest per line (Jaeger, Tempo,
    /// the Collector's otlpjsonfile receiver).
    Otlp,
    /// Chrome Trace Event format (Perfetto, chrome://tracing).
    Chrome,
}

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
    /// What to write: the event log (jsonl), or each request as a trace of spans (otlp,
    /// chrome).
    #[arg(long = "trace-format", value_enum, default_value_t = TraceFormat::Jsonl, requires = "trace")]
    pub format: TraceFormat,
    /// otlp/chrome: trace this share of client requests, decided at the root and
    /// inherited by every span below it, through messages too (head sampling).
    #[arg(long = "trace-sample", value_name = "P", requires = "trace")]
    pub sample: Option<f64>,
    /// otlp/chrome: keep only traces with an error, a timeout, a retry or a root slower
    /// than a percentile or a duration (tail sampling), e.g. errors,timeouts,slow:p99.
    #[arg(long = "trace-keep", value_name = "RULES", requires = "trace")]
    pub keep: Option<String>,
    /// otlp/chrome: stop writing after this many spans (a note says so).
    #[arg(long = "trace-max-spans", value_name = "N", requires = "trace")]
    pub max_spans: Option<u64>,
    /// Write a JSON log to FILE: one line per traced client request (with its trace_id
    /// and span_id) and per fault starting or ending.
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Spans written by default: a full trace of a busy run is gigabytes; this is about
/// 100 MB of OTLP.
pub const DEFAULT_MAX_SPANS: u64 = 200_000;

/// Runs `platform`, traced if `--trace` says so (the untraced run is the plain one).
pub fn run(platform: &Platform, limits: Limits, args: &TraceArgs) -> Result<Summary, Error> {
    let log = args
        .log
        .as_ref()
        .map(|p| open_log(p, platform))
        .transpose()?;
    let Some(path) = &args.trace else {
        return match log {
            Some(log) => {
                let opts = SpanOptions::default();
                Ok(spans(platform, limits, Discard, opts, Some(log))?.0)
            }
            None => Ok(crate::run(platform, limits)?),
        };
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
    if args.format == TraceFormat::Jsonl {
        for (flag, given) in [
            ("--log", args.log.is_some()),
            ("--trace-sample", args.sample.is_some()),
            ("--trace-keep", args.keep.is_some()),
            ("--trace-max-spans", args.max_spans.is_some()),
        ] {
            if given {
                return Err(Error::BadInput(format!(
                    "{flag} samples traces of spans: add --trace-format otlp (or chrome)"
                )));
            }
        }
    }
    let flags = SpanFlags {
        sample: args.sample,
        keep: args.keep.as_deref(),
        max_spans: args.max_spans.unwrap_or(DEFAULT_MAX_SPANS),
    };
    // Checked before the file is created: bad flags leave no empty trace behind.
    let opts = match args.format {
        TraceFormat::Jsonl => None,
        _ => Some(
            filter
                .span_options(platform, &flags)
                .map_err(Error::BadInput)?,
        ),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(output)?;
    }
    let file = std::fs::File::create(path).map_err(output)?;
    let names = Names::new(platform);
    match (args.format, opts) {
        (TraceFormat::Otlp, Some(opts)) => {
            let sink = Kept::new(Otlp::new(file, names.clone()), names);
            let (mut summary, sink) = spans(platform, limits, sink, opts, log)?;
            summary.traces = Some(summarize(&sink.spans));
            sink.inner.finish().map_err(output)?;
            Ok(summary)
        }
        (TraceFormat::Chrome, Some(opts)) => {
            let sink = Kept::new(Chrome::new(file, names.clone()), names);
            let (mut summary, sink) = spans(platform, limits, sink, opts, log)?;
            summary.traces = Some(summarize(&sink.spans));
            sink.inner.finish().map_err(output)?;
            Ok(summary)
        }
        _ => {
            let mut tracer = Tracer::new(file, platform, &filter).map_err(Error::BadInput)?;
            let summary = crate::run::run_observed(platform, limits, &mut tracer)?;
            tracer.finish().map_err(output)?;
            Ok(summary)
        }
    }
}

/// The run through a [`SpanTracer`] writing to `sink`; notes a full trace file.
fn spans<S: SpanSink>(
    platform: &Platform,
    limits: Limits,
    sink: S,
    opts: SpanOptions,
    log: Option<(Log, PathBuf)>,
) -> Result<(Summary, S), Error> {
    let max = opts.max_spans;
    let mut tracer = SpanTracer::new(sink, platform, opts);
    let log_path = log.as_ref().map(|(_, p)| p.clone());
    if let Some((log, _)) = log {
        tracer = tracer.with_log(log);
    }
    let summary = crate::run::run_observed(platform, limits, &mut tracer)?;
    if let (Some(log), Some(path)) = (tracer.take_log(), log_path) {
        log.finish().map_err(|e| Error::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    let (sink, written, dropped) = tracer.finish(platform.end());
    if dropped > 0 {
        eprintln!(
            "note: the trace stopped at {written} spans (--trace-max-spans {max}); later traces are left out: raise it, or keep fewer with --trace-sample or --trace-keep"
        );
    }
    Ok((summary, sink))
}

/// A sink that keeps nothing: `--log` without `--trace`.
struct Discard;

impl SpanSink for Discard {
    fn write(&mut self, _spans: &[crate::trace::span::Span]) {}
}

/// Creates the log file (and its folder).
fn open_log(path: &std::path::Path, platform: &Platform) -> Result<(Log, PathBuf), Error> {
    let output = |e: std::io::Error| Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(output)?;
    }
    let file = std::fs::File::create(path).map_err(output)?;
    Ok((Log::new(Box::new(file), platform), path.to_path_buf()))
}

pub const TRACE_EXAMPLES: &str = "Examples:
  platsim run scenarios/food-ordering/phase3.ron --trace t.otlp.jsonl --trace-format otlp \\
      --trace-sample 0.05 --trace-from 5m --trace-to 10m
  platsim trace t.otlp.jsonl";

#[derive(Debug, Args)]
pub struct TraceFileArgs {
    /// A trace written by `platsim run --trace FILE --trace-format otlp`.
    pub file: PathBuf,
    /// How many of the slowest and of the failed requests to show.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub top: usize,
}

/// `platsim trace FILE`.
pub fn trace_file(args: TraceFileArgs) -> Result<(), Error> {
    let origin = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::BadInput(format!("cannot read the trace {origin}: {e}")))?;
    let spans = crate::trace::analyze::read_otlp(&text, &origin).map_err(Error::BadInput)?;
    let paths = crate::trace::analyze::critical_paths(&spans);
    print!("{}", crate::trace::analyze::report(&paths, args.top));
    Ok(())
}
