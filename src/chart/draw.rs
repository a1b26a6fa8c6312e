//! Drawing a [`Figure`] with plotters: one function, generic over the backend, used for
//! the SVG and for the PNG, so both carry the same series.
//!
//! Text is set in DejaVu Sans, embedded in the binary (`assets/fonts/`, Bitstream Vera
//! licence) and given to plotters through its ab_glyph support: a PNG renders the same on
//! a machine without a single font installed. SVGs name the font family
//! (`DejaVu Sans, Verdana, sans-serif`) and let the viewer draw the text.

use super::{Color, Content, Figure, Mark, Panel, ShadeKind};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color as _;
use plotters::style::{register_font, FontDesc, FontFamily, FontStyle};
use std::sync::Once;

/// The family name the embedded font is registered under; also the SVG `font-family`.
pub const FONT: &str = "DejaVu Sans, Verdana, sans-serif";
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the embedded DejaVu Sans font does not parse");
        }
    });
}

/// Figure width in pixels.
const WIDTH: u32 = 1000;
const MARGIN: i32 = 16;
const TITLE_SIZE: f64 = 21.0;
const SUBTITLE_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 14.0;
const LEGEND_ROW: i32 = 22;
const LABEL_SIZE: f64 = 12.5;
const DESC_SIZE: f64 = 14.0;
const CAPTION_SIZE: f64 = 15.0;

type DrawResult<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing failed: {e:?}")
}

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

fn text_width(text: &str, size: f64) -> i32 {
    font(size)
        .box_size(text)
        .map_or(text.len() as i32 * 8, |b| b.0 as i32)
}

fn rgb(c: Color) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn rgba(c: Color, alpha: f64) -> RGBAColor {
    RGBColor(c.0, c.1, c.2).mix(alpha)
}

/// Where the legend entries go: `(x, y)` of each entry's mark, relative to the figure.
fn legend_layout(fig: &Figure) -> (Vec<(i32, i32)>, i32) {
    let mut at = Vec::new();
    let (mut x, mut y) = (MARGIN, 0);
    for e in &fig.legend {
        let w = 30 + text_width(&e.name, LEGEND_SIZE) + 22;
        if x + w > WIDTH as i32 - MARGIN && x > MARGIN {
            x = MARGIN;
            y += LEGEND_ROW;
        }
        at.push((x, y));
        x += w;
    }
    let height = if fig.legend.is_empty() {
        0
    } else {
        y + LEGEND_ROW
    };
    (at, height)
}

const HEAD: i32 = 64;

/// The figure's size in pixels.
pub fn size(fig: &Figure) -> (u32, u32) {
    let (_, legend) = legend_layout(fig);
    let cols = fig.columns.clamp(1, 2);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let panel = panel_height(fig, rows);
    (WIDTH, (HEAD + legend + 8) as u32 + rows as u32 * panel)
}

fn panel_height(fig: &Figure, rows: usize) -> u32 {
    let timeline_rows = fig
        .panels
        .iter()
        .map(|p| match &p.content {
            Content::Timeline { rows } => rows.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    if timeline_rows > 0 {
        (110 + 34 * timeline_rows as u32).max(200)
    } else if rows == 1 {
        380
    } else {
        250
    }
}

/// What [`draw_figure`] drew where, in pixels of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// Legend entries drawn, in order.
    pub legend: Vec<String>,
    /// Each panel's plot area `(left, top, right, bottom)`, exclusive of the far edges;
    /// every series and shade of that panel is clipped to it.
    pub plots: Vec<(i32, i32, i32, i32)>,
    /// Where the panels start (below title and legend).
    pub body_top: i32,
}

/// Draws `fig` on `root`: the one drawing path behind the SVG and the PNG.
pub fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> DrawResult<Drawn> {
    register_fonts();
    root.fill(&WHITE).map_err(err)?;
    let ink = RGBColor(30, 30, 30);
    root.draw_text(&fig.title, &font(TITLE_SIZE).color(&ink), (MARGIN, 12))
        .map_err(err)?;
    root.draw_text(
        &fig.subtitle,
        &font(SUBTITLE_SIZE).color(&RGBColor(100, 100, 100)),
        (MARGIN, 40),
    )
    .map_err(err)?;

    let (places, legend_h) = legend_layout(fig);
    let mut drawn = Vec::new();
    for (e, &(x, y)) in fig.legend.iter().zip(&places) {
        let y = HEAD + y;
        let mid = y + LEGEND_ROW / 2 - 2;
        match e.mark {
            Mark::Line => root
                .draw(&PathElement::new(
                    vec![(x, mid), (x + 24, mid)],
                    rgb(e.color).stroke_width(3),
                ))
                .map_err(err)?,
            Mark::Box => root
                .draw(&Rectangle::new(
                    [(x + 4, mid - 7), (x + 20, mid + 7)],
                    rgb(e.color).filled(),
                ))
                .map_err(err)?,
            Mark::Shade => {
                root.draw(&Rectangle::new(
                    [(x + 2, mid - 8), (x + 22, mid + 8)],
                    rgba(e.color, 0.18).filled(),
                ))
                .map_err(err)?;
                root.draw(&Rectangle::new(
                    [(x + 2, mid - 8), (x + 22, mid + 8)],
                    rgba(e.color, 0.5).stroke_width(1),
                ))
                .map_err(err)?;
            }
        }
        root.draw_text(
            &e.name,
            &font(LEGEND_SIZE)
                .color(&ink)
                .pos(Pos::new(HPos::Left, VPos::Center)),
            (x + 30, mid),
        )
        .map_err(err)?;
        drawn.push(e.name.clone());
    }

    let (_, body) = root.split_vertically(HEAD + legend_h + 8);
    let cols = fig.columns.clamp(1, 2);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let areas = body.split_evenly((rows, cols));
    // One label width for all panels, so their plot areas line up.
    let label_width = fig.panels.iter().map(y_label_width).max().unwrap_or(50);
    let mut plots = Vec::new();
    for (panel, area) in fig.panels.iter().zip(&areas) {
        plots.push(draw_panel(area, panel, label_width)?);
    }
    root.present().map_err(err)?;
    Ok(Drawn {
        legend: drawn,
        plots,
        body_top: HEAD + legend_h + 8,
    })
}

/// The part of the segment `a`-`b` inside the box `lo`..`hi` (Liang-Barsky), or None.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - lo.0),
        (dx, hi.0 - a.0),
        (-dy, a.1 - lo.1),
        (dy, hi.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// A polyline in drawn coordinates cut to the box: the runs of it that lie inside.
/// Non-finite points break the line (a gap in the data stays a gap).
fn clip_polyline(points: &[(f64, f64)], lo: (f64, f64), hi: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let inside = |p: (f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for &p in points {
        let finite = p.0.is_finite() && p.1.is_finite();
        match (prev, finite) {
            (_, false) => {
                runs.push(std::mem::take(&mut run));
                prev = None;
                continue;
            }
            (None, true) => {
                if inside(p) {
                    run.push(p);
                }
            }
            (Some(q), true) => match clip_segment(q, p, lo, hi) {
                Some((a, b)) => {
                    if run.last() != Some(&a) {
                        runs.push(std::mem::take(&mut run));
                        run.push(a);
                    }
                    run.push(b);
                    if b != p {
                        runs.push(std::mem::take(&mut run));
                    }
                }
                None => runs.push(std::mem::take(&mut run)),
            },
        }
        prev = Some(p);
    }
    runs.push(run);
    runs.retain(|r| !r.is_empty());
    runs
}

/// An axis as plotters sees it: the drawn range (log10 of the values on log axes), the
/// tick positions and how a tick reads.
struct AxisSpec {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    log: bool,
    categories: Option<Vec<String>>,
    /// Categories top-down (timeline rows): category `i` is drawn at `n - 1 - i`.
    reversed: bool,
}

impl AxisSpec {
    fn new(axis: &super::Axis, reversed: bool, target: usize) -> AxisSpec {
        if let Some(c) = &axis.categories {
            return AxisSpec {
                lo: axis.min,
                hi: axis.max,
                ticks: (0..c.len()).map(|i| i as f64).collect(),
                log: false,
                categories: Some(c.clone()),
                reversed,
            };
        }
        if axis.log && axis.min > 0.0 && axis.max > axis.min {
            let (lo, hi) = (axis.min.log10(), axis.max.log10());
            let decades = (hi - lo).round().max(1.0) as i64;
            let mut ticks = Vec::new();
            for k in lo.floor() as i64..=hi.ceil() as i64 {
                let steps: &[f64] = if hi - lo < 1.0 {
                    &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
                } else if decades <= 2 {
                    &[1.0, 2.0, 5.0]
                } else {
                    &[1.0]
                };
                for &m in steps {
                    let t = k as f64 + m.log10();
                    if t >= lo - 1e-9 && t <= hi + 1e-9 {
                        ticks.push(t);
                    }
                }
            }
            return AxisSpec {
                lo,
                hi,
                ticks,
                log: true,
                categories: None,
                reversed: false,
            };
        }
        AxisSpec {
            lo: axis.min,
            hi: axis.max,
            ticks: match &axis.ticks {
                Some(t) => t.clone(),
                None => super::figures::nice_ticks(axis.min, axis.max, target),
            },
            log: false,
            categories: None,
            reversed: false,
        }
    }

    /// A value to the drawn coordinate.
    fn map(&self, v: f64) -> f64 {
        if self.log {
            if v > 0.0 {
                v.log10()
            } else {
                f64::NAN
            }
        } else {
            v
        }
    }

    fn label(&self, v: f64) -> String {
        if let Some(c) = &self.categories {
            let i = v.round() as i64;
            let i = if self.reversed {
                c.len() as i64 - 1 - i
            } else {
                i
            };
            return usize::try_from(i)
                .ok()
                .and_then(|i| c.get(i))
                .cloned()
                .unwrap_or_default();
        }
        if self.log {
            return number(10f64.powf(v));
        }
        let step = if self.ticks.len() >= 2 {
            (self.ticks[1] - self.ticks[0]).abs()
        } else {
            1.0
        };
        tick_number(v, step)
    }
}

/// A linear coordinate with our own tick positions (plotters' `WithKeyPoints` cannot be
/// given a label formatter).
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Scale {
    fn of(a: &AxisSpec) -> Scale {
        Scale {
            lo: a.lo,
            hi: a.hi,
            ticks: a.ticks.clone(),
        }
    }
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format(v: &f64) -> String {
        format!("{v}")
    }
}

/// A tick value with as many decimals as its step needs; `12k`, `1.5M` for large ones.
fn tick_number(v: f64, step: f64) -> String {
    let (v, step, suffix) = if v.abs() >= 1e7 && step >= 1e5 {
        (v / 1e6, step / 1e6, "M")
    } else if v.abs() >= 1e5 && step >= 1e3 {
        (v / 1e3, step / 1e3, "k")
    } else {
        (v, step, "")
    };
    // The fewest decimals that spell the step exactly (0.25 needs two, 2.5 one).
    let decimals = (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6);
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    format!("{v:.decimals$}{suffix}")
}

/// A round number (a log-axis tick): `0.001`, `20`, `5000`, `20k`.
fn number(v: f64) -> String {
    let r = (v * 1e9).round() / 1e9;
    if r >= 1e6 {
        format!("{}M", r / 1e6)
    } else if r >= 1e4 {
        format!("{}k", r / 1e3)
    } else {
        format!("{r}")
    }
}

/// Room for the y axis's tick labels (and its description).
fn y_label_width(panel: &Panel) -> i32 {
    let timeline = matches!(panel.content, Content::Timeline { .. });
    let y = AxisSpec::new(&panel.y, timeline, 6);
    let w = match &y.categories {
        Some(c) => {
            c.iter()
                .map(|l| text_width(l, LABEL_SIZE))
                .max()
                .unwrap_or(0)
                + 16
        }
        None => {
            y.ticks
                .iter()
                .map(|t| text_width(&y.label(*t), LABEL_SIZE))
                .max()
                .unwrap_or(0)
                + 40
        }
    };
    w.max(50)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    y_labels_w: i32,
) -> DrawResult<(i32, i32, i32, i32)> {
    let timeline = matches!(panel.content, Content::Timeline { .. });
    let x = AxisSpec::new(&panel.x, false, 10);
    let y = AxisSpec::new(&panel.y, timeline, 6);
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_left(MARGIN as u32)
        .margin_right(28)
        .margin_top(6)
        .margin_bottom(6)
        .x_label_area_size(46)
        .y_label_area_size(y_labels_w as u32);
    if let Some(c) = &panel.caption {
        builder.caption(c, font(CAPTION_SIZE).color(&RGBColor(40, 40, 40)));
    }
    let mut chart = builder
        .build_cartesian_2d(Scale::of(&x), Scale::of(&y))
        .map_err(err)?;
    let x_fmt = |v: &f64| x.label(*v);
    let y_fmt = |v: &f64| y.label(*v);
    let grid = RGBColor(228, 228, 228);
    let label_style = font(LABEL_SIZE).color(&RGBColor(70, 70, 70));
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(panel.x.label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(label_style)
        .axis_desc_style(font(DESC_SIZE).color(&RGBColor(50, 50, 50)))
        .bold_line_style(grid)
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(150, 150, 150));
    if !panel.y.label.is_empty() {
        mesh.y_desc(panel.y.label.as_str());
    }
    if timeline {
        mesh.disable_y_mesh();
    }
    mesh.draw().map_err(err)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let plot = (px.start, py.start, px.end, py.end);
    let (lo, hi) = ((x.lo, y.lo), (x.hi, y.hi));

    // Shaded periods behind the data, their names along the top; an instant fault (no
    // duration) is a dashed line. Labels that would run into the one before move down a
    // row, so neighbouring faults stay readable.
    let (top, bottom) = (y.hi, y.lo);
    let to_px = |v: f64| plot.0 + ((v - x.lo) / (x.hi - x.lo) * (plot.2 - plot.0) as f64) as i32;
    let mut row_ends: Vec<i32> = Vec::new();
    for s in &panel.shades {
        let (a, b) = (x.map(s.from).max(x.lo), x.map(s.to).min(x.hi));
        if !(a.is_finite() && b.is_finite()) || a > x.hi || b < x.lo {
            continue;
        }
        let (c, alpha) = match s.kind {
            ShadeKind::Warmup => (super::figures::WARMUP, 0.10),
            ShadeKind::Fault => (super::figures::FAULT, 0.13),
            ShadeKind::NoSuccess => (super::figures::NO_SUCCESS, 0.12),
        };
        if b > a {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, bottom), (b, top)],
                    rgba(c, alpha).filled(),
                )))
                .map_err(err)?;
        } else {
            let steps = 24;
            let dashes = (0..steps).step_by(2).map(|i| {
                let at = |k: i32| bottom + (top - bottom) * k as f64 / steps as f64;
                PathElement::new(
                    vec![(a, at(i)), (a, at(i + 1))],
                    rgba(c, 0.8).stroke_width(2),
                )
            });
            chart.draw_series(dashes).map_err(err)?;
        }
        let label_color = match s.kind {
            ShadeKind::Warmup => RGBColor(90, 90, 90),
            ShadeKind::Fault => RGBColor(160, 30, 30),
            ShadeKind::NoSuccess => RGBColor(50, 50, 140),
        };
        if s.label.is_empty() {
            continue;
        }
        let left = to_px(a) + 3;
        let row = row_ends
            .iter()
            .position(|&end| end + 6 <= left)
            .unwrap_or(row_ends.len());
        let end = left + text_width(&s.label, 11.5);
        match row_ends.get_mut(row) {
            Some(e) => *e = end,
            None => row_ends.push(end),
        }
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((a, top))
                    + Text::new(
                        s.label.clone(),
                        (3, 3 + 14 * row as i32),
                        font(11.5).color(&label_color),
                    ),
            ))
            .map_err(err)?;
    }

    match &panel.content {
        Content::Lines { series, bands } => {
            for band in bands {
                let upper = band.points.iter().map(|p| (x.map(p.0), y.map(p.2)));
                let lower = band.points.iter().rev().map(|p| (x.map(p.0), y.map(p.1)));
                let poly: Vec<(f64, f64)> = upper
                    .chain(lower)
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        rgba(band.color, 0.18).filled(),
                    )))
                    .map_err(err)?;
            }
            for s in series {
                let style = rgb(s.color).stroke_width(2);
                let mapped: Vec<(f64, f64)> =
                    s.points.iter().map(|p| (x.map(p.0), y.map(p.1))).collect();
                for run in clip_polyline(&mapped, lo, hi) {
                    if run.len() == 1 && !s.markers {
                        chart
                            .draw_series(std::iter::once(Circle::new(run[0], 1, style.filled())))
                            .map_err(err)?;
                    } else if run.len() > 1 {
                        chart
                            .draw_series(LineSeries::new(run, style))
                            .map_err(err)?;
                    }
                }
                if s.markers {
                    let inside =
                        |p: &(f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
                    let dots = mapped
                        .iter()
                        .copied()
                        .filter(inside)
                        .map(|p| Circle::new(p, 4, rgb(s.color).filled()));
                    chart.draw_series(dots).map_err(err)?;
                }
            }
        }
        Content::Timeline { rows } => {
            let n = rows.len();
            for (i, row) in rows.iter().enumerate() {
                let yc = (n - 1 - i) as f64;
                for seg in &row.segments {
                    let (a, b) = (x.map(seg.from).max(x.lo), x.map(seg.to).min(x.hi));
                    if b > a {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(a, yc - 0.3), (b, yc + 0.3)],
                                rgb(seg.color).filled(),
                            )))
                            .map_err(err)?;
                    }
                    if let Some(note) = &seg.note {
                        // Right of the bar, or inside it when the bar reaches the edge.
                        let inside = b >= x.hi - (x.hi - x.lo) * 0.02 && b > a;
                        let (at, dx, ink) = if inside {
                            (a, 8, RGBColor(255, 255, 255))
                        } else {
                            (b.max(a), 6, RGBColor(40, 40, 40))
                        };
                        chart
                            .draw_series(std::iter::once(
                                EmptyElement::at((at, yc))
                                    + Text::new(
                                        note.clone(),
                                        (dx, 0),
                                        font(12.5)
                                            .color(&ink)
                                            .pos(Pos::new(HPos::Left, VPos::Center)),
                                    ),
                            ))
                            .map_err(err)?;
                    }
                }
            }
        }
    }
    Ok(plot)
}

/// The figure as SVG text, and the legend entries drawn.
pub fn render_svg(fig: &Figure) -> DrawResult<(String, Vec<String>)> {
    let mut svg = String::new();
    let legend = {
        let root = SVGBackend::with_string(&mut svg, size(fig)).into_drawing_area();
        draw_figure(&root, fig)?.legend
    };
    Ok((svg, legend))
}

/// The figure as PNG bytes, and the legend entries drawn.
pub fn render_png(fig: &Figure) -> DrawResult<(Vec<u8>, Vec<String>)> {
    let (w, h) = size(fig);
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    let legend = {
        let root = super::canvas::Canvas(BitMapBackend::with_buffer(&mut pixels, (w, h)))
            .into_drawing_area();
        draw_figure(&root, fig)?.legend
    };
    Ok((encode_png(&pixels, w, h)?, legend))
}

/// Where `fig`'s panels and plot areas fall, in pixels (the same for SVG and PNG).
pub fn layout(fig: &Figure) -> DrawResult<Drawn> {
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, size(fig)).into_drawing_area();
    draw_figure(&root, fig)
}

/// RGB pixels to PNG bytes (fixed settings: the same pixels give the same bytes).
pub fn encode_png(rgb: &[u8], w: u32, h: u32) -> DrawResult<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_at_the_plot_area() {
        let (lo, hi) = ((0.0, 0.0), (10.0, 10.0));
        // Inside: unchanged.
        let inside = [(1.0, 1.0), (5.0, 9.0), (9.0, 2.0)];
        assert_eq!(clip_polyline(&inside, lo, hi), vec![inside.to_vec()]);
        // Out through the top and back: two runs, each ending on the edge.
        let up = [(0.0, 5.0), (2.0, 15.0), (4.0, 5.0)];
        assert_eq!(
            clip_polyline(&up, lo, hi),
            vec![vec![(0.0, 5.0), (1.0, 10.0)], vec![(3.0, 10.0), (4.0, 5.0)]]
        );
        // A NaN breaks the line; a segment wholly outside draws nothing.
        let gap = [
            (1.0, 1.0),
            (2.0, 2.0),
            (f64::NAN, 1.0),
            (3.0, -5.0),
            (4.0, -6.0),
        ];
        assert_eq!(
            clip_polyline(&gap, lo, hi),
            vec![vec![(1.0, 1.0), (2.0, 2.0)]]
        );
    }

    #[test]
    fn tick_numbers_read_well() {
        assert_eq!(tick_number(0.0, 100.0), "0");
        assert_eq!(tick_number(300.0, 100.0), "300");
        assert_eq!(tick_number(0.25, 0.25), "0.25");
        assert_eq!(tick_number(0.4, 0.2), "0.4");
        assert_eq!(tick_number(20_000.0, 5_000.0), "20000");
        assert_eq!(tick_number(200_000.0, 50_000.0), "200k");
        assert_eq!(tick_number(7.5, 2.5), "7.5");
        assert_eq!(number(0.001), "0.001");
        assert_eq!(number(1000.0), "1000");
        assert_eq!(number(100_000.0), "100k");
    }
}
