//! # platsim
//!
//! A deterministic discrete-event simulator of whole software platforms: services with
//! replicas, servers and waiting rooms, calls between them with timeouts, and the clients
//! that load them, all in virtual time.
//!
//! Data flows one way:
//!
//! 1. [`scenario`]: a RON file becomes a raw [`scenario::Spec`], exactly as written
//!    (syntax errors at `file:line:column`), and `--set` overrides change it.
//! 2. [`model`]: the spec is validated into a [`model::Platform`] (every problem reported
//!    at once with its field path); after this, nothing the user wrote can fail the run.
//! 3. [`run`]: the event loop runs the platform on the [`engine`] (integer virtual time,
//!    a (time, sequence) event queue, seeded ChaCha streams per component).
//! 4. [`metrics`]: histograms, time averages and windows reduce the run to a
//!    [`metrics::Summary`].
//! 5. [`report`]: the summary becomes a table, `summary.json` and `timeseries.csv`.
//! 6. [`health`]: right after the run, the summary and the platform's objectives, cost
//!    and governance become `summary.health` (SLOs, burn-rate alerts, reliability).
//!
//! Around the pipeline: [`sweep`] runs it over a grid of `--set` values and seeds in
//! parallel (with failure predicates, repro commands, shards and resume), and [`trace`]
//! writes a run's event log, or each request as an OpenTelemetry trace, through the run's
//! observer. [`chart`] draws a finished run's
//! or sweep's output folder (never the engine) as SVG and PNG charts and report.html.
//!
//! Same scenario, same seed, same binary: byte-identical output.

pub mod chart;
pub mod cli;
pub mod engine;
pub mod explore;
pub mod health;
pub mod mech;
pub mod metrics;
pub mod model;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod trace;

pub use metrics::Summary;
pub use model::Platform;
pub use run::{run, Limits, RunError};

/// Parses, overrides, validates and runs scenario text: the whole pipeline in one call.
pub fn simulate(
    text: &str,
    origin: &str,
    sets: &[scenario::Override],
    limits: Limits,
) -> Result<Summary, Error> {
    let spec = scenario::parse(text, origin)?;
    let spec = scenario::apply_overrides(&spec, sets)?;
    let platform = model::validate(&spec, origin)?;
    Ok(run(&platform, limits)?)
}

/// Anything that can stop platsim, sorted by whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario or the flags are wrong (exit code 2).
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// The run hit one of its limits (exit code 2: the input asks for too much).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Writing output failed (exit code 1).
    #[error("cannot write {path}: {reason}")]
    Output { path: String, reason: String },
    /// A flag of `sweep`, `merge` or `--trace` is wrong, or sweep folders do not fit
    /// together (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// Runs of a sweep failed their `--fail-if` predicates or could not finish (exit
    /// code 3).
    #[error("{failed} of {runs} runs failed (listed above)")]
    Failed { failed: usize, runs: usize },
}

impl Error {
    /// A failed file operation on `path`: bad input (exit 2) when the user can fix it by
    /// choosing another path (no permission, a file in the way, a name too long, a
    /// read-only disk), an output failure (exit 1) when the machine failed (disk full,
    /// I/O error).
    pub fn io(path: &std::path::Path, e: std::io::Error) -> Error {
        use std::io::ErrorKind as K;
        let reason = match e.kind() {
            K::PermissionDenied => Some("permission denied; choose a folder you can write"),
            K::NotADirectory | K::AlreadyExists => {
                Some("a file is in the way where a folder is needed")
            }
            K::InvalidFilename => Some("a name in the path is too long or not allowed"),
            K::ReadOnlyFilesystem => Some("the file system is read-only"),
            K::NotFound => Some("a folder on the way does not exist"),
            _ => None,
        };
        let path = path.display().to_string();
        match reason {
            Some(reason) => Error::BadInput(format!("cannot write {path}: {reason}")),
            None => Error::Output {
                path,
                reason: e.to_string(),
            },
        }
    }

    /// The process exit code for this error: 2 for bad input, 3 for failed sweep runs,
    /// 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario(_) | Error::Run(_) | Error::BadInput(_) => 2,
            Error::Failed { .. } => 3,
            Error::Output { .. } => 1,
        }
    }
}
