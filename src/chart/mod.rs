//! Charts and the report page, from a finished run's output folder or a sweep's.
//!
//! Like every presentation, charts read only files a run or a sweep wrote (summary.json,
//! timeseries.csv, latency.csv, command.txt; results.csv and sweep.json), never the
//! engine: `platsim chart DIR` redraws any old output folder.
//!
//! The pipeline is three pure steps, so the SVG and the PNG of a chart cannot disagree:
//! 1. [`data`]: the folder's files become plain tables ([`data::RunData`], [`data::SweepData`]);
//! 2. [`figures`]: the tables become [`Figure`]s, a description of what to draw (panels,
//!    series with their points, bands, shaded fault periods, legend entries);
//! 3. [`draw`]: one figure is drawn by one function, generic over the plotters backend,
//!    once into SVG and once into a pixel buffer encoded as PNG. Text in PNGs uses the
//!    DejaVu Sans font embedded in the binary, so no system font is needed.
//!
//! [`html`] builds `report.html`: one self-contained page (inline SVG, inline CSS, no
//! scripts, nothing fetched) with the tables of summary.json and the charts.
//!
//! Output is deterministic: the same folder gives the same bytes.

mod canvas;
pub mod data;
pub mod draw;
pub mod figures;
pub mod html;

use crate::Error;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub use data::{RunData, SweepData};
pub use draw::{render_png, render_svg};

/// Where charts go inside an output folder.
pub const CHARTS_DIR: &str = "charts";
/// The report page of a run or sweep folder.
pub const REPORT_FILE: &str = "report.html";
/// The command that reproduces a run, written by `platsim run` next to summary.json.
pub const COMMAND_FILE: &str = "command.txt";

/// A picture to draw: a title above one or more panels sharing one legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name without extension (`latency`, `recovery`, `sweep-...`).
    pub name: String,
    pub title: String,
    /// A smaller line under the title (scenario, seed, what the numbers are).
    pub subtitle: String,
    pub panels: Vec<Panel>,
    /// Legend entries, in order, drawn once above the panels.
    pub legend: Vec<LegendEntry>,
    /// Panels side by side (1 or 2).
    pub columns: usize,
}

/// One plot area with its own axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Drawn above the plot area (a service's name in small multiples).
    pub caption: Option<String>,
    pub x: Axis,
    pub y: Axis,
    /// Shaded x intervals behind the data (fault periods, the warmup).
    pub shades: Vec<Shade>,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// With its unit: `time (s)`, `latency (ms)`.
    pub label: String,
    pub min: f64,
    pub max: f64,
    /// Values are drawn on a log10 scale (all drawn values must be positive).
    pub log: bool,
    /// Category names: tick `i` sits at `i` and reads `categories[i]` (swept values that
    /// are not numbers, timeline rows).
    pub categories: Option<Vec<String>>,
    /// Tick positions, when not the automatic round numbers.
    pub ticks: Option<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shade {
    pub from: f64,
    pub to: f64,
    /// Written at the top of the shaded area.
    pub label: String,
    pub kind: ShadeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShadeKind {
    Warmup,
    Fault,
    /// Requests came but none succeeded: a latency line has no value there.
    NoSuccess,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Lines over x; NaN breaks a line.
    Lines {
        series: Vec<Series>,
        /// Filled bands between a low and a high line (confidence intervals).
        bands: Vec<Band>,
    },
    /// Horizontal bars on categorical rows (breaker states, recovery), top row first.
    Timeline { rows: Vec<TimelineRow> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its legend entry.
    pub name: String,
    pub color: Color,
    pub points: Vec<(f64, f64)>,
    /// Mark each point with a dot (few points, as in sweeps).
    pub markers: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    pub color: Color,
    /// `(x, low, high)`.
    pub points: Vec<(f64, f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub label: String,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub from: f64,
    pub to: f64,
    pub color: Color,
    /// Written just right of the segment's end (`+40s`, `never ready`).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub name: String,
    pub color: Color,
    pub mark: Mark,
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Line,
    Box,
    /// A pale box: a shaded period or a confidence band.
    Shade,
}

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

/// A chart drawn both ways.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub title: String,
    pub svg: String,
    pub png: Vec<u8>,
    /// Legend entries as drawn into the SVG and into the PNG (always the same: both come
    /// from one figure through one drawing function; kept for tests to check).
    pub svg_legend: Vec<String>,
    pub png_legend: Vec<String>,
}

/// Draws `figure` as SVG and as PNG.
pub fn render(figure: &Figure) -> Result<Rendered, String> {
    let (svg, svg_legend) = render_svg(figure)?;
    let (png, png_legend) = render_png(figure)?;
    Ok(Rendered {
        name: figure.name.clone(),
        title: figure.title.clone(),
        svg,
        png,
        svg_legend,
        png_legend,
    })
}

/// Draws every figure, in parallel, keeping their order.
pub fn render_all(figures: &[Figure]) -> Result<Vec<Rendered>, String> {
    figures.par_iter().map(render).collect()
}

/// What `platsim chart DIR` (and `platsim run --charts`) wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub charts: Vec<Rendered>,
    pub files: Vec<PathBuf>,
    pub report: PathBuf,
}

/// Charts and report.html for an output folder: a run's (it has summary.json) or a
/// sweep's (it has results.csv). `metrics` adds sweep metrics to chart (summary.json
/// paths) to the default ones.
pub fn write_dir(dir: &Path, metrics: &[String]) -> Result<Written, Error> {
    if dir.join("summary.json").is_file() {
        let run = RunData::load(dir)?;
        let figures = figures::run_figures(&run);
        let charts = render_all(&figures).map_err(|e| output_error(dir, e))?;
        let page = html::run_page(&run, &charts);
        write_outputs(dir, charts, &page)
    } else if dir.join(crate::sweep::RESULTS_FILE).is_file() {
        let sweep = SweepData::load(dir)?;
        let figures = figures::sweep_figures(&sweep, metrics)?;
        let charts = render_all(&figures).map_err(|e| output_error(dir, e))?;
        let page = html::sweep_page(&sweep, &charts);
        write_outputs(dir, charts, &page)
    } else {
        Err(Error::BadInput(format!(
            "{} holds neither a run (summary.json) nor a sweep (results.csv)",
            dir.display()
        )))
    }
}

fn output_error(path: &Path, reason: impl ToString) -> Error {
    Error::Output {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Replaces a file whole: a kill while drawing never leaves a cut chart or page.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::report::files::write_atomic(path, bytes)
}

fn write_outputs(dir: &Path, charts: Vec<Rendered>, page: &str) -> Result<Written, Error> {
    let chart_dir = dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&chart_dir).map_err(|e| Error::io(&chart_dir, e))?;
    let mut files = Vec::new();
    for c in &charts {
        for (ext, bytes) in [("svg", c.svg.as_bytes()), ("png", c.png.as_slice())] {
            let path = chart_dir.join(format!("{}.{ext}", c.name));
            write_file(&path, bytes)?;
            files.push(path);
        }
    }
    let report = dir.join(REPORT_FILE);
    write_file(&report, page.as_bytes())?;
    Ok(Written {
        charts,
        files,
        report,
    })
}
