//! What to draw: a run's or a sweep's tables turned into [`Figure`]s. No drawing here,
//! only choices (which series, which colours, which scale), so they can be tested and so
//! the SVG and the PNG of a figure show the same thing.

use super::data::{RunData, SweepData};
use super::{
    Axis, Band, Color, Content, Figure, LegendEntry, Mark, Panel, Segment, Series, Shade,
    ShadeKind, TimelineRow,
};
use crate::sweep::flatten::numeric;
use crate::sweep::stats::describe;
use crate::Error;
use serde_json::Value;

/// Tableau 10: distinct, and readable by most colour-blind readers.
pub const PALETTE: [Color; 10] = [
    Color(31, 119, 180),
    Color(255, 127, 14),
    Color(44, 160, 44),
    Color(214, 39, 40),
    Color(148, 103, 189),
    Color(140, 86, 75),
    Color(227, 119, 194),
    Color(127, 127, 127),
    Color(188, 189, 34),
    Color(23, 190, 207),
];
const BLUE: Color = PALETTE[0];
const ORANGE: Color = PALETTE[1];
const GREEN: Color = PALETTE[2];
const RED: Color = PALETTE[3];
const PURPLE: Color = PALETTE[4];
const BROWN: Color = PALETTE[5];
const GRAY: Color = PALETTE[7];
const AMBER: Color = Color(240, 180, 40);
/// Fault periods in legends (the shade itself is a pale version).
pub const FAULT: Color = Color(214, 39, 40);
pub const WARMUP: Color = Color(120, 120, 120);
/// Windows in which nothing succeeded (latency charts).
pub const NO_SUCCESS: Color = Color(60, 60, 160);

/// Lines keep at most this many x buckets (each keeps its minimum and maximum, so spikes
/// survive): a plot is about 900 pixels wide.
const MAX_BUCKETS: usize = 600;

fn color(i: usize) -> Color {
    PALETTE[i % PALETTE.len()]
}

/// Seconds, minutes or hours, whichever keeps the time axis's numbers short.
#[derive(Debug, Clone, Copy)]
struct TimeUnit {
    div: f64,
    name: &'static str,
}

fn time_unit(span_s: f64) -> TimeUnit {
    if span_s <= 900.0 {
        TimeUnit {
            div: 1.0,
            name: "s",
        }
    } else if span_s <= 36_000.0 {
        TimeUnit {
            div: 60.0,
            name: "min",
        }
    } else {
        TimeUnit {
            div: 3600.0,
            name: "h",
        }
    }
}

/// A duration in seconds, short: `90s`, `5m`, `2.5h`.
pub fn seconds(s: f64) -> String {
    let trim = |v: f64| {
        let t = format!("{v:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if s < 120.0 {
        format!("{}s", trim(s))
    } else if s < 7200.0 {
        format!("{}m", trim(s / 60.0))
    } else {
        format!("{}h", trim(s / 3600.0))
    }
}

/// Splits `points` at NaN values and keeps, per x bucket, the lowest and highest point,
/// in their order: a 3,600-window line becomes at most 2 x [`MAX_BUCKETS`] points that
/// draw the same picture.
pub fn decimate(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= 2 * MAX_BUCKETS {
        return points.to_vec();
    }
    let xs = points.iter().map(|p| p.0).filter(|x| x.is_finite());
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let width = ((hi - lo) / MAX_BUCKETS as f64).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(2 * MAX_BUCKETS + 16);
    let mut bucket: Option<(i64, usize, usize)> = None; // (bucket, index of min, index of max)
    let flush = |b: Option<(i64, usize, usize)>, out: &mut Vec<(f64, f64)>| {
        if let Some((_, a, b)) = b {
            let (first, second) = if a <= b { (a, b) } else { (b, a) };
            out.push(points[first]);
            if second != first {
                out.push(points[second]);
            }
        }
    };
    for (i, &(x, y)) in points.iter().enumerate() {
        if !y.is_finite() {
            flush(bucket.take(), &mut out);
            if out.last().is_some_and(|p| p.1.is_finite()) {
                out.push((x, f64::NAN));
            }
            continue;
        }
        let k = ((x - lo) / width) as i64;
        match &mut bucket {
            Some((kb, a, b)) if *kb == k => {
                if y < points[*a].1 {
                    *a = i;
                }
                if y > points[*b].1 {
                    *b = i;
                }
            }
            _ => {
                flush(bucket.take(), &mut out);
                bucket = Some((k, i, i));
            }
        }
    }
    flush(bucket, &mut out);
    out
}

/// Nice round tick positions covering `[lo, hi]`, about `target` of them.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater)
        || !lo.is_finite()
        || !hi.is_finite()
    {
        return vec![lo];
    }
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

pub fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A linear axis from 0 (or the lowest value, if negative) to a bit above the highest.
fn linear_axis(label: &str, values: impl Iterator<Item = f64>) -> Axis {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let hi = if hi <= lo {
        lo + 1.0
    } else {
        hi + (hi - lo) * 0.05
    };
    Axis {
        label: label.to_string(),
        min: lo,
        max: hi,
        log: false,
        categories: None,
        ticks: None,
    }
}

/// A y axis for positive values spanning orders of magnitude (latencies): log10 when the
/// highest is more than 100 times the lowest, whole decades at the ends.
/// `measured` decides (the warmup's first, nearly empty windows should not); the range
/// covers all `values`.
fn latency_axis(label: &str, values: &[f64], measured: &[f64]) -> Axis {
    let positive = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect()
    };
    let (vals, decide) = (positive(values), positive(measured));
    let decide = if decide.is_empty() { &vals } else { &decide };
    let lo_m = decide.iter().copied().fold(f64::INFINITY, f64::min);
    let hi_m = decide.iter().copied().fold(0.0, f64::max);
    if vals.is_empty() || hi_m <= lo_m * 100.0 {
        return linear_axis(label, vals.into_iter());
    }
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(0.0, f64::max);
    Axis {
        label: label.to_string(),
        min: 10f64.powf(lo.log10().floor()),
        max: 10f64.powf(hi.log10().ceil()),
        log: true,
        categories: None,
        ticks: None,
    }
}

fn legend_line(name: &str, color: Color) -> LegendEntry {
    LegendEntry {
        name: name.to_string(),
        color,
        mark: Mark::Line,
    }
}

fn legend_box(name: &str, color: Color) -> LegendEntry {
    LegendEntry {
        name: name.to_string(),
        color,
        mark: Mark::Box,
    }
}

/// The legend of a figure: each series and band name once, in order, then the shades.
fn legend_of(panels: &[Panel]) -> Vec<LegendEntry> {
    let mut out: Vec<LegendEntry> = Vec::new();
    let mut push = |e: LegendEntry| {
        if !out.iter().any(|o| o.name == e.name) {
            out.push(e);
        }
    };
    for p in panels {
        if let Content::Lines { series, bands } = &p.content {
            for s in series {
                push(legend_line(&s.name, s.color));
            }
            for b in bands {
                push(LegendEntry {
                    name: b.name.clone(),
                    color: b.color,
                    mark: Mark::Shade,
                });
            }
        }
    }
    for p in panels {
        for s in &p.shades {
            let (name, color) = match s.kind {
                ShadeKind::Warmup => ("warmup", WARMUP),
                ShadeKind::Fault => ("fault", FAULT),
                ShadeKind::NoSuccess => ("nothing succeeded", NO_SUCCESS),
            };
            push(LegendEntry {
                name: name.to_string(),
                color,
                mark: Mark::Shade,
            });
        }
    }
    out
}

/// The run's time series, its time axis and its shaded periods.
struct Timeline<'a> {
    run: &'a RunData,
    unit: TimeUnit,
    /// Window midpoints, in `unit`.
    x: Vec<f64>,
    end: f64,
}

impl<'a> Timeline<'a> {
    fn new(run: &'a RunData) -> Self {
        let duration = run.number("duration_s");
        let unit = time_unit(duration);
        let half = run.number("window_s") / 2.0;
        let x = run
            .series
            .get("t_s")
            .map(|t| t.iter().map(|t| (t + half) / unit.div).collect())
            .unwrap_or_default();
        Timeline {
            run,
            unit,
            x,
            end: duration / unit.div,
        }
    }

    fn axis(&self) -> Axis {
        Axis {
            label: format!("time ({})", self.unit.name),
            min: 0.0,
            max: self.end.max(f64::MIN_POSITIVE),
            log: false,
            categories: None,
            ticks: None,
        }
    }

    /// A column as points; `positive` drops zeros (a window with no answers has no
    /// latency, not a latency of zero).
    fn points(&self, column: &str, positive: bool) -> Option<Vec<(f64, f64)>> {
        let ys = self.run.series.get(column)?;
        let pts: Vec<(f64, f64)> = self
            .x
            .iter()
            .zip(ys)
            .map(|(&x, &y)| (x, if positive && y <= 0.0 { f64::NAN } else { y }))
            .collect();
        Some(decimate(&pts))
    }

    /// The values of `series` after the warmup.
    fn measured<'s>(&self, series: impl IntoIterator<Item = &'s Vec<Series>>) -> Vec<f64> {
        let from = self.run.number("warmup_s") / self.unit.div;
        series
            .into_iter()
            .flatten()
            .flat_map(|s| s.points.iter().filter(|p| p.0 >= from).map(|p| p.1))
            .collect()
    }

    /// The warmup and every fault, as shaded periods.
    fn shades(&self) -> Vec<Shade> {
        let mut out = Vec::new();
        let warmup = self.run.number("warmup_s");
        if warmup > 0.0 {
            out.push(Shade {
                from: 0.0,
                to: warmup / self.unit.div,
                label: "warmup".into(),
                kind: ShadeKind::Warmup,
            });
        }
        for f in self.run.summary["faults"].as_array().into_iter().flatten() {
            let (Some(a), Some(b)) = (f["start_s"].as_f64(), f["end_s"].as_f64()) else {
                continue;
            };
            let kind = human(f["kind"].as_str().unwrap_or("fault"));
            let label = match f["target"].as_str() {
                Some(t) => format!("{kind} {t}"),
                None => kind.to_string(),
            };
            out.push(Shade {
                from: a / self.unit.div,
                to: b / self.unit.div,
                label,
                kind: ShadeKind::Fault,
            });
        }
        out
    }

    fn panel(&self, caption: Option<String>, y: Axis, series: Vec<Series>) -> Panel {
        Panel {
            caption,
            x: self.axis(),
            y,
            shades: self.shades(),
            content: Content::Lines {
                series,
                bands: vec![],
            },
        }
    }
}

fn series(name: &str, color: Color, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.to_string(),
        color,
        points,
        markers: false,
    }
}

fn all_values<'a>(panels: impl IntoIterator<Item = &'a Vec<Series>>) -> Vec<f64> {
    panels
        .into_iter()
        .flatten()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect()
}

fn subtitle(run: &RunData) -> String {
    format!(
        "{}, seed {}: {} simulated, {} warmup, {} windows",
        run.scenario(),
        run.seed(),
        seconds(run.number("duration_s")),
        seconds(run.number("warmup_s")),
        seconds(run.number("window_s")),
    )
}

/// A fault kind as words: `kill_consumer` reads `kill consumer`.
fn human(kind: &str) -> String {
    kind.replace('_', " ")
}

fn figure(
    name: &str,
    title: &str,
    run: &RunData,
    mut panels: Vec<Panel>,
    columns: usize,
) -> Figure {
    merge_coincident(&mut panels);
    unique_colors(&mut panels);
    Figure {
        name: name.to_string(),
        title: title.to_string(),
        subtitle: subtitle(run),
        legend: legend_of(&panels),
        panels,
        columns,
    }
}

/// Two lines of a panel that lie within half a percent of the panel's height of each
/// other everywhere would be drawn one on top of the other, the lower one hidden ("sent"
/// under "goodput" when nothing fails): they become one line named for both (`sent =
/// goodput`).
fn merge_coincident(panels: &mut [Panel]) {
    for p in panels.iter_mut() {
        let (lo, hi, log) = (p.y.min, p.y.max, p.y.log);
        let Content::Lines { series, .. } = &mut p.content else {
            continue;
        };
        let scale = |v: f64| {
            if log {
                v.max(f64::MIN_POSITIVE).log10()
            } else {
                v
            }
        };
        let tolerance = 0.005 * (scale(hi) - scale(lo)).abs();
        let same = |a: &Series, b: &Series| {
            a.points.len() == b.points.len()
                && a.points.iter().any(|q| q.1.is_finite())
                && a.points.iter().zip(&b.points).all(|(q, r)| {
                    q.0 == r.0
                        && match (q.1.is_finite(), r.1.is_finite()) {
                            (true, true) => (scale(q.1) - scale(r.1)).abs() <= tolerance,
                            (false, false) => true,
                            _ => false,
                        }
                })
        };
        let mut i = 0;
        while i < series.len() {
            let mut j = i + 1;
            while j < series.len() {
                if same(&series[i], &series[j]) {
                    let gone = series.remove(j);
                    series[i].name = format!("{} = {}", series[i].name, gone.name);
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }
}

/// One colour per legend name across the figure: a series keeps its colour (goodput
/// green, errors red) unless a different name already has it, then it takes the first
/// colour no name uses; the same name gets the same colour in every panel.
fn unique_colors(panels: &mut [Panel]) {
    let mut taken: Vec<(String, Color)> = Vec::new();
    let mut next = 0usize;
    for p in panels.iter_mut() {
        let Content::Lines { series, bands } = &mut p.content else {
            continue;
        };
        // A band is drawn in its line's colour and follows it.
        let mut moved: Vec<(Color, Color)> = Vec::new();
        for s in series.iter_mut() {
            let was = s.color;
            if let Some((_, c)) = taken.iter().find(|(n, _)| *n == s.name) {
                s.color = *c;
            } else {
                if taken.iter().any(|(_, c)| *c == s.color) {
                    s.color = loop {
                        let c = distinct_color(next);
                        next += 1;
                        if !taken.iter().any(|(_, t)| *t == c) {
                            break c;
                        }
                    };
                }
                taken.push((s.name.clone(), s.color));
            }
            moved.push((was, s.color));
        }
        for b in bands.iter_mut() {
            if let Some((_, now)) = moved.iter().find(|(was, _)| *was == b.color) {
                b.color = *now;
            }
        }
    }
}

/// The palette, then hues spread by the golden angle once it runs out.
fn distinct_color(i: usize) -> Color {
    if i < PALETTE.len() {
        return PALETTE[i];
    }
    let h = ((i - PALETTE.len()) as f64 * 137.508) % 360.0;
    let (s, l) = (0.65, 0.45);
    let c = (1.0 - (2.0 * l - 1.0f64).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round() as u8;
    Color(byte(r), byte(g), byte(b))
}

/// A figure of counts by kind (rates, queue lengths), where a kind that never happened is
/// named in the subtitle instead of drawn.
fn counts_figure(
    name: &str,
    title: &str,
    run: &RunData,
    mut panels: Vec<Panel>,
    columns: usize,
) -> Figure {
    let zero = drop_all_zero(&mut panels);
    let mut fig = figure(name, title, run, panels, columns);
    if !zero.is_empty() {
        fig.subtitle.push_str(&format!(
            " · zero throughout, not drawn: {}",
            zero.join(", ")
        ));
    }
    fig
}

/// Takes the series that are zero in every window out of the line panels (piled on the
/// x axis they read as one thick baseline, hiding each other) and names them, with the
/// panel's caption: `api rejected`.
fn drop_all_zero(panels: &mut [Panel]) -> Vec<String> {
    let mut names = Vec::new();
    for p in panels.iter_mut() {
        let Content::Lines { series, .. } = &mut p.content else {
            continue;
        };
        if series.len() < 2 || p.y.log {
            continue;
        }
        let caption = p.caption.clone();
        series.retain(|s| {
            let finite = s.points.iter().filter(|q| q.1.is_finite());
            let zero = finite.clone().count() > 0 && finite.clone().all(|q| q.1 == 0.0);
            if zero {
                names.push(match &caption {
                    Some(c) => format!("{c} {}", s.name),
                    None => s.name.clone(),
                });
            }
            !zero
        });
    }
    names
}

/// Every chart of a run, in the order the report shows them. Charts with nothing to show
/// (breakers without breakers, recovery without outages) are left out.
pub fn run_figures(run: &RunData) -> Vec<Figure> {
    let t = Timeline::new(run);
    let mut out = Vec::new();
    if !t.x.is_empty() {
        out.push(latency(run, &t));
        out.push(throughput(run, &t));
        let services = run.services();
        if !services.is_empty() {
            out.push(latency_services(run, &t, &services));
            out.push(throughput_services(run, &t, &services));
            out.push(queues(run, &t, &services));
        }
    }
    if let Some(f) = budget(run, &t) {
        out.push(f);
    }
    if let Some(f) = messaging(run, &t) {
        out.push(f);
    }
    if let Some(f) = breakers(run, &t) {
        out.push(f);
    }
    if let Some(f) = recovery(run) {
        out.push(f);
    }
    if let Some(f) = latency_distribution(run) {
        out.push(f);
    }
    out
}

fn latency(run: &RunData, t: &Timeline) -> Figure {
    let s = vec![
        series(
            "p50",
            BLUE,
            t.points("latency_p50_ms", true).unwrap_or_default(),
        ),
        series(
            "p99",
            ORANGE,
            t.points("latency_p99_ms", true).unwrap_or_default(),
        ),
    ];
    let y = latency_axis("latency (ms)", &all_values([&s]), &t.measured([&s]));
    let mut panel = t.panel(None, y, s);
    panel.shades.extend(no_success(run, t));
    figure(
        "latency",
        "End-to-end latency of successful requests, per window",
        run,
        vec![panel],
        1,
    )
}

fn throughput(run: &RunData, t: &Timeline) -> Figure {
    // A kind that stayed zero is named in the subtitle by `counts_figure`.
    let kinds = [
        ("sent", "arrivals_rps", GRAY),
        ("goodput", "goodput_rps", GREEN),
        ("errors", "errors_rps", RED),
        ("rejected", "rejected_rps", ORANGE),
        ("timeouts", "timeouts_rps", PURPLE),
    ];
    let mut s: Vec<Series> = kinds
        .iter()
        .filter_map(|&(name, col, c)| t.points(col, false).map(|pts| series(name, c, pts)))
        .collect();
    s.extend(attempts(run, t));
    let y = linear_axis("requests per second", all_values([&s]).into_iter());
    counts_figure(
        "throughput",
        "What the clients got: goodput and failures by kind, per second",
        run,
        vec![t.panel(None, y, s)],
        1,
    )
}

/// Where clients retry, what their targets received: the attempts beside the logical
/// requests ("sent"), so a retry storm's amplification shows as the gap between the two.
/// A target's arrivals count every caller's attempts, which the series' name says.
fn attempts(run: &RunData, t: &Timeline) -> Option<Series> {
    let mut targets: Vec<&str> = run.summary["workloads"]
        .as_object()?
        .values()
        .filter(|w| w["retries"].as_u64().is_some_and(|r| r > 0))
        .filter_map(|w| w["target"].as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let mut sum: Option<Vec<f64>> = None;
    for target in &targets {
        let ys = run.series.get(&format!("{target}.arrivals_rps"))?;
        sum = Some(match sum {
            None => ys.to_vec(),
            Some(acc) => acc.iter().zip(ys).map(|(a, b)| a + b).collect(),
        });
    }
    let pts: Vec<(f64, f64)> = t.x.iter().copied().zip(sum?).collect();
    let name = format!("attempts at {}", targets.join(", "));
    Some(series(&name, BROWN, decimate(&pts)))
}

/// The windows where requests came but none succeeded, as shaded periods: there the
/// latency of successful requests has no value, and the gap in its lines means "nothing
/// succeeded", not missing data.
fn no_success(run: &RunData, t: &Timeline) -> Vec<Shade> {
    let (Some(sent), Some(good)) = (
        run.series.get("arrivals_rps"),
        run.series.get("goodput_rps"),
    ) else {
        return Vec::new();
    };
    let half = run.number("window_s") / 2.0 / t.unit.div;
    let mut out: Vec<Shade> = Vec::new();
    for ((&x, &s), &g) in t.x.iter().zip(sent).zip(good) {
        if !(s > 0.0 && g == 0.0) {
            continue;
        }
        match out.last_mut() {
            Some(last) if (last.to - (x - half)).abs() < half * 1e-6 => last.to = x + half,
            _ => out.push(Shade {
                from: x - half,
                to: x + half,
                label: String::new(),
                kind: ShadeKind::NoSuccess,
            }),
        }
    }
    if let Some(first) = out.first_mut() {
        first.label = "nothing succeeded".into();
    }
    out
}

/// `y` of the polyline `xs`/`ys` at `x`: linear between points, flat beyond the ends,
/// so a mark sits on the line as drawn.
fn on_line(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let i = xs.partition_point(|&t| t <= x);
    match (i.checked_sub(1), xs.get(i)) {
        (None, _) => ys.first().copied().unwrap_or(f64::NAN),
        (Some(j), None) => ys[j],
        (Some(j), Some(&x1)) => {
            let f = if x1 > xs[j] {
                (x - xs[j]) / (x1 - xs[j])
            } else {
                0.0
            };
            ys[j] + (ys[i] - ys[j]) * f
        }
    }
}

/// The error budget left over time of every service with an objective (summary.json's
/// `health.services[].budget`), one panel each, with a dot where each alert fired on the
/// objective whose budget it burnt (pages red, tickets amber). None without health.
fn budget(run: &RunData, t: &Timeline) -> Option<Figure> {
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    let div = t.unit.div;
    let mut panels = Vec::new();
    for svc in run.summary["health"]["services"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let series_of = svc["budget"].as_array().into_iter().flatten();
        let mut lines = Vec::new();
        let mut pages = Vec::new();
        let mut tickets = Vec::new();
        for b in series_of {
            let objective = b["objective"].as_str().unwrap_or("availability");
            let (xs, ys) = (numbers(&b["t_s"]), numbers(&b["remaining_pct"]));
            if xs.is_empty() || xs.len() != ys.len() {
                continue;
            }
            for a in svc["alerts"].as_array().into_iter().flatten() {
                let Some(fired) = a["fired_s"].as_f64() else {
                    continue;
                };
                if a["objective"].as_str() != Some(objective) {
                    continue;
                }
                let mark = (fired / div, on_line(&xs, &ys, fired));
                let to = if a["severity"] == "page" {
                    &mut pages
                } else {
                    &mut tickets
                };
                // NaN between marks: dots, not a line joining them.
                to.extend([mark, (f64::NAN, f64::NAN)]);
            }
            let color = if objective == "latency" { PURPLE } else { BLUE };
            let points = xs.iter().zip(&ys).map(|(x, y)| (x / div, *y)).collect();
            lines.push(series(&format!("{objective} budget"), color, points));
        }
        if lines.is_empty() {
            continue;
        }
        // Tickets first, so a page fired at the same instant is drawn over them.
        for (name, color, marks) in [("ticket fired", AMBER, tickets), ("page fired", RED, pages)] {
            if !marks.is_empty() {
                lines.push(Series {
                    markers: true,
                    ..series(name, color, marks)
                });
            }
        }
        let y = Axis {
            label: "budget left (%)".into(),
            min: 0.0,
            max: 105.0,
            log: false,
            categories: None,
            ticks: Some(vec![0.0, 25.0, 50.0, 75.0, 100.0]),
        };
        let name = svc["name"].as_str().unwrap_or("?").to_string();
        panels.push(t.panel(Some(name), y, lines));
    }
    if panels.is_empty() {
        return None;
    }
    let columns = if panels.len() > 3 { 2 } else { 1 };
    Some(figure(
        "budget",
        "Error budget left over the run, per service and objective, with the alerts that fired",
        run,
        panels,
        columns,
    ))
}

fn columns_for(services: &[String]) -> usize {
    if services.len() > 3 {
        2
    } else {
        1
    }
}

fn latency_services(run: &RunData, t: &Timeline, services: &[String]) -> Figure {
    let per: Vec<Vec<Series>> = services
        .iter()
        .map(|svc| {
            vec![
                series(
                    "p50",
                    BLUE,
                    t.points(&format!("{svc}.sojourn_p50_ms"), true)
                        .unwrap_or_default(),
                ),
                series(
                    "p99",
                    ORANGE,
                    t.points(&format!("{svc}.sojourn_p99_ms"), true)
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    let y = latency_axis("sojourn (ms)", &all_values(&per), &t.measured(&per));
    let panels = services
        .iter()
        .zip(per)
        .map(|(svc, s)| t.panel(Some(svc.clone()), y.clone(), s))
        .collect();
    figure(
        "latency-services",
        "Latency at each service: arrival to answer (sojourn), per window",
        run,
        panels,
        columns_for(services),
    )
}

fn throughput_services(run: &RunData, t: &Timeline, services: &[String]) -> Figure {
    let kinds = [
        ("arrivals", "arrivals_rps", GRAY),
        ("ok", "ok_rps", GREEN),
        ("errors", "errors_rps", RED),
        ("rejected", "rejected_rps", ORANGE),
        ("timeouts", "timeouts_rps", PURPLE),
        ("shed", "shed_rps", BROWN),
    ];
    // A kind that no service ever has only clutters the legend.
    let shown: Vec<_> = kinds
        .iter()
        .filter(|&&(name, col, _)| {
            name == "arrivals"
                || name == "ok"
                || services.iter().any(|s| {
                    run.series
                        .get(&format!("{s}.{col}"))
                        .is_some_and(|v| v.iter().any(|x| *x > 0.0))
                })
        })
        .collect();
    let per: Vec<Vec<Series>> = services
        .iter()
        .map(|svc| {
            shown
                .iter()
                .filter_map(|&&(name, col, c)| {
                    Some(series(name, c, t.points(&format!("{svc}.{col}"), false)?))
                })
                .collect()
        })
        .collect();
    let y = linear_axis("requests per second", all_values(&per).into_iter());
    let panels = services
        .iter()
        .zip(per)
        .map(|(svc, s)| t.panel(Some(svc.clone()), y.clone(), s))
        .collect();
    counts_figure(
        "throughput-services",
        "Requests per second at each service, by how they ended",
        run,
        panels,
        columns_for(services),
    )
}

fn queues(run: &RunData, t: &Timeline, services: &[String]) -> Figure {
    let lines = |suffix: &str| -> Vec<Series> {
        services
            .iter()
            .enumerate()
            .filter_map(|(i, svc)| {
                Some(series(
                    svc,
                    color(i),
                    t.points(&format!("{svc}.{suffix}"), false)?,
                ))
            })
            .collect()
    };
    let waiting = lines("queue_len");
    let busy = lines("busy");
    let panels = vec![
        t.panel(
            Some("waiting for a server (queue length)".into()),
            linear_axis("requests waiting", all_values([&waiting]).into_iter()),
            waiting,
        ),
        t.panel(
            Some("being served or waiting on calls (busy servers)".into()),
            linear_axis("busy servers", all_values([&busy]).into_iter()),
            busy,
        ),
    ];
    counts_figure(
        "queues",
        "Queues: requests waiting and servers busy at each service (time average per window)",
        run,
        panels,
        1,
    )
}

/// Brokers and job queues (when the run has them): orders per second and their latency,
/// consumer lag and queue depth with the time items waited beside them, processing
/// time p99 and DLQ size per consumer group or worker pool.
fn messaging(run: &RunData, t: &Timeline) -> Option<Figure> {
    let cols: Vec<&String> = run.series.columns.iter().collect();
    // `positive`: a window without a value (no processing) is a gap, not a zero.
    let lines_of = |pick: &dyn Fn(&str) -> Option<String>, positive: bool| -> Vec<Series> {
        cols.iter()
            .filter_map(|c| Some((pick(c)?, c)))
            .enumerate()
            .filter_map(|(i, (name, c))| Some(series(&name, color(i), t.points(c, positive)?)))
            .collect()
    };
    let lines = |pick: &dyn Fn(&str) -> Option<String>| lines_of(pick, false);
    let orders = lines(&|c| match c {
        "orders.placed_rps" => Some("placed".into()),
        "orders.completed_rps" => Some("completed".into()),
        _ => None,
    });
    let backlog = lines(&|c| {
        if let Some(g) = c.strip_suffix(".lag") {
            return Some(g.trim_start_matches("topic.").to_string());
        }
        let q = c.strip_prefix("queue.")?.strip_suffix(".depth")?;
        Some(format!("queue {q}"))
    });
    if backlog.is_empty() {
        return None;
    }
    let short = |suffix: &'static str| {
        move |c: &str| {
            c.strip_suffix(suffix)
                .map(|c| c.trim_start_matches("topic.").to_string())
        }
    };
    let processing = lines_of(&short(".processing_p99_ms"), true);
    let dlq = lines(&short(".dlq"));
    let order_latency = lines_of(
        &|c| match c {
            "orders.latency_p50_ms" => Some("order latency p50".into()),
            "orders.latency_p99_ms" => Some("order latency p99".into()),
            _ => None,
        },
        true,
    );
    // Time in the queue, in seconds like the age of the oldest waiting item beside it.
    let mut waiting = lines_of(&short(".wait_p99_ms"), true);
    for w in &mut waiting {
        w.name = format!("{} wait p99", w.name);
        w.points.iter_mut().for_each(|p| p.1 /= 1000.0);
    }
    let oldest = lines(&|c| {
        if let Some(g) = c.strip_suffix(".lag_s") {
            return Some(format!("{} lag", g.trim_start_matches("topic.")));
        }
        let q = c.strip_prefix("queue.")?.strip_suffix(".oldest_age_s")?;
        Some(format!("queue {q} oldest"))
    });
    waiting.extend(oldest);
    for (i, w) in waiting.iter_mut().enumerate() {
        w.color = color(i);
    }
    let mut panels = Vec::new();
    if !orders.is_empty() {
        panels.push(t.panel(
            Some("orders placed and completed".into()),
            linear_axis("orders per second", all_values([&orders]).into_iter()),
            orders,
        ));
    }
    if !order_latency.is_empty() {
        let y = latency_axis(
            "ms",
            &all_values([&order_latency]),
            &t.measured([&order_latency]),
        );
        panels.push(t.panel(
            Some("order latency, placed to completed (orders completed in the window)".into()),
            y,
            order_latency,
        ));
    }
    panels.push(t.panel(
        Some("consumer lag (appended, not committed) and job queue depth".into()),
        linear_axis("messages or jobs", all_values([&backlog]).into_iter()),
        backlog,
    ));
    if !waiting.is_empty() {
        panels.push(
            t.panel(
                Some(
                    "time in queue: wait p99 of items first delivered, and largest age of the \
                 oldest job waiting (oldest) or message not committed (lag)"
                        .into(),
                ),
                linear_axis("seconds", all_values([&waiting]).into_iter()),
                waiting,
            ),
        );
    }
    panels.push(t.panel(
        Some("processing time p99, per consumer group and worker pool".into()),
        linear_axis("ms", all_values([&processing]).into_iter()),
        processing,
    ));
    panels.push(t.panel(
        Some("parked in the dead letter queue".into()),
        linear_axis("messages or jobs", all_values([&dlq]).into_iter()),
        dlq,
    ));
    Some(figure(
        "messaging",
        "Messaging: orders and their latency, backlog and time in queue, processing time \
         and DLQ size, per window",
        run,
        panels,
        1,
    ))
}

/// Breaker state colours, and their legend names.
const BREAKER_STATES: [(&str, &str, Color); 3] = [
    ("CLOSED", "closed", GREEN),
    ("HALF_OPEN", "half-open", AMBER),
    ("OPEN", "open", RED),
];

fn breaker_color(state: &str) -> Color {
    BREAKER_STATES
        .iter()
        .find(|s| s.0 == state)
        .map_or(GRAY, |s| s.2)
}

fn breakers(run: &RunData, t: &Timeline) -> Option<Figure> {
    let mut rows = Vec::new();
    let end = run.number("duration_s");
    let mut add = |label: String, breaker: &Value| {
        if breaker.is_null() {
            return;
        }
        let transitions = breaker["transitions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut segments = Vec::new();
        let (mut from, mut state) = (0.0, "CLOSED".to_string());
        for tr in &transitions {
            let at = tr["t_s"].as_f64().unwrap_or(from);
            segments.push(Segment {
                from: from / t.unit.div,
                to: at / t.unit.div,
                color: breaker_color(&state),
                note: None,
            });
            from = at;
            state = tr["state"].as_str().unwrap_or("?").to_string();
        }
        segments.push(Segment {
            from: from / t.unit.div,
            to: end / t.unit.div,
            color: breaker_color(&state),
            note: None,
        });
        segments.retain(|s| s.to > s.from);
        let opened = breaker["opened"].as_u64().unwrap_or(0);
        rows.push(TimelineRow {
            label: format!("{label} ({opened}x open)"),
            segments,
        });
    };
    for (name, call) in run.summary["calls"].as_object().into_iter().flatten() {
        add(name.replace("->", " → "), &call["breaker"]);
    }
    for (name, w) in run.summary["workloads"].as_object().into_iter().flatten() {
        add(format!("client {name}"), &w["breaker"]);
    }
    if rows.is_empty() {
        return None;
    }
    let panel = Panel {
        caption: None,
        x: t.axis(),
        y: rows_axis(&rows),
        shades: t.shades(),
        content: Content::Timeline { rows },
    };
    let mut legend: Vec<LegendEntry> = BREAKER_STATES
        .iter()
        .map(|&(_, name, c)| legend_box(name, c))
        .collect();
    legend.extend(legend_of(std::slice::from_ref(&panel)));
    Some(Figure {
        name: "breakers".into(),
        title: "Circuit breakers: state of each breaker over time".into(),
        subtitle: subtitle(run),
        panels: vec![panel],
        legend,
        columns: 1,
    })
}

fn rows_axis(rows: &[TimelineRow]) -> Axis {
    Axis {
        label: String::new(),
        min: -0.5,
        max: rows.len() as f64 - 0.5,
        log: false,
        categories: Some(rows.iter().map(|r| r.label.clone()).collect()),
        ticks: None,
    }
}

fn recovery(run: &RunData) -> Option<Figure> {
    let outages = run.summary["outages"].as_array()?;
    if outages.is_empty() {
        return None;
    }
    let end = run.number("duration_s");
    let mut panels = Vec::new();
    let mut layers_seen: Vec<Option<u64>> = Vec::new();
    let mut never_seen = false;
    for o in outages {
        let start = o["start_s"].as_f64().unwrap_or(0.0);
        let back = o["power_back_s"].as_f64();
        let mut services: Vec<(Option<u64>, Option<f64>, String)> = o["services"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, s)| (s["layer"].as_u64(), s["ready_at_s"].as_f64(), name.clone()))
            .collect();
        // Bottom layer first, the circle (no layer) last; then by time ready, then name.
        services.sort_by(|a, b| {
            (a.0.is_none(), a.0, a.1.is_none())
                .cmp(&(b.0.is_none(), b.0, b.1.is_none()))
                .then(
                    a.1.unwrap_or(f64::INFINITY)
                        .total_cmp(&b.1.unwrap_or(f64::INFINITY)),
                )
                .then(a.2.cmp(&b.2))
        });
        let from = back.unwrap_or(end);
        let last = services
            .iter()
            .map(|s| s.1.unwrap_or(end))
            .fold(from, f64::max);
        let span = (last - start).max(1.0);
        let unit = time_unit(span);
        let rows: Vec<TimelineRow> = services
            .iter()
            .map(|(layer, ready, name)| {
                let segment = match ready {
                    Some(r) => {
                        if !layers_seen.contains(layer) {
                            layers_seen.push(*layer);
                        }
                        Segment {
                            from: from / unit.div,
                            to: r / unit.div,
                            color: layer_color(*layer),
                            note: Some(format!("ready +{}", seconds(r - from))),
                        }
                    }
                    None => {
                        never_seen = true;
                        Segment {
                            from: from / unit.div,
                            to: end / unit.div,
                            color: RED,
                            note: Some("never ready".into()),
                        }
                    }
                };
                let layer = layer.map_or("no layer".to_string(), |l| format!("layer {l}"));
                TimelineRow {
                    label: format!("{layer}: {name}"),
                    segments: vec![segment],
                }
            })
            .collect();
        let x = Axis {
            label: format!("time ({})", unit.name),
            min: (start - span * 0.05) / unit.div,
            // Bars of services that never came back end at the run's end: the right edge.
            max: if services.iter().any(|s| s.1.is_none()) {
                (end + span * 0.01) / unit.div
            } else {
                (last + span * 0.25) / unit.div
            },
            log: false,
            categories: None,
            ticks: None,
        };
        let caption = match back {
            Some(b) => {
                format!(
                    "outage at {}: power back at {}, {}",
                    seconds(start),
                    seconds(b),
                    match o["full_recovery_s"].as_f64() {
                        Some(r) => format!("every service ready {} later", seconds(r)),
                        None => "not every service came back".to_string(),
                    }
                ) + &circles(o)
            }
            None => format!("outage at {}: power never came back", seconds(start)),
        };
        panels.push(Panel {
            caption: Some(caption),
            y: rows_axis(&rows),
            x,
            shades: vec![Shade {
                from: start / unit.div,
                to: from / unit.div,
                label: "power off".into(),
                kind: ShadeKind::Fault,
            }],
            content: Content::Timeline { rows },
        });
    }
    layers_seen.sort_by_key(|l| (l.is_none(), *l));
    let mut legend: Vec<LegendEntry> = layers_seen
        .iter()
        .map(|l| {
            let name = l.map_or("no layer (behind a circle)".to_string(), |l| {
                format!("layer {l}")
            });
            legend_box(&name, layer_color(*l))
        })
        .collect();
    if never_seen {
        legend.push(legend_box("never ready", RED));
    }
    legend.push(LegendEntry {
        name: "power off".into(),
        color: FAULT,
        mark: Mark::Shade,
    });
    Some(Figure {
        name: "recovery".into(),
        title: "Recovery after outages: power back to ready, bottom layer first".into(),
        subtitle: subtitle(run),
        panels,
        legend,
        columns: 1,
    })
}

/// `; held down by the circle a → b → c` when circles kept services down.
fn circles(outage: &Value) -> String {
    let list: Vec<String> = outage["never_recovered_circles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let names: Vec<&str> = c
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            names.join(" → ")
        })
        .filter(|c| !c.is_empty())
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!("; held down by the circle {}", list.join(", "))
    }
}

/// Layers in blues and greens (not red: red is for services that never came back).
fn layer_color(layer: Option<u64>) -> Color {
    const LAYERS: [Color; 6] = [BLUE, GREEN, PURPLE, Color(23, 190, 207), BROWN, AMBER];
    match layer {
        Some(l) => LAYERS[l as usize % LAYERS.len()],
        None => GRAY,
    }
}

fn latency_distribution(run: &RunData) -> Option<Figure> {
    let services = run.services();
    let mut lines: Vec<Series> = Vec::new();
    let mut has_markers = false;
    if !run.latency.is_empty() {
        let mut i = 0;
        for kind in ["service", "workload"] {
            for h in run.latency.iter().filter(|h| h.kind == kind) {
                let total: u64 = h.buckets.iter().map(|b| b.2).sum();
                if total == 0 {
                    continue;
                }
                let mut cum = 0u64;
                let mut pts = Vec::new();
                for &(from, to, n) in &h.buckets {
                    if to <= 0.0 {
                        cum += n;
                        continue;
                    }
                    // Flat across empty buckets, rising within each full one.
                    pts.push((from.max(to / 1.26), cum as f64 / total as f64 * 100.0));
                    cum += n;
                    pts.push((to, cum as f64 / total as f64 * 100.0));
                }
                let name = if kind == "service" {
                    h.name.clone()
                } else {
                    format!("{} (client, ok only)", h.name)
                };
                let c = if kind == "service" {
                    let at = services.iter().position(|s| *s == h.name).unwrap_or(i);
                    color(at)
                } else {
                    Color(40, 40, 40)
                };
                lines.push(series(&name, c, pts));
                i += 1;
            }
        }
    } else {
        // An output folder from before latency.csv: the summary's percentiles.
        for (i, svc) in services.iter().enumerate() {
            let l = &run.summary["services"][svc]["sojourn_ms"];
            let pts: Vec<(f64, f64)> = [
                ("p50", 50.0),
                ("p95", 95.0),
                ("p99", 99.0),
                ("p999", 99.9),
                ("max", 100.0),
            ]
            .iter()
            .filter_map(|&(k, q)| Some((l[k].as_f64()?, q)))
            .filter(|p| p.0 > 0.0)
            .collect();
            if !pts.is_empty() {
                lines.push(Series {
                    name: svc.clone(),
                    color: color(i),
                    points: pts,
                    markers: true,
                });
                has_markers = true;
            }
        }
    }
    if lines.is_empty() {
        return None;
    }
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| *x > 0.0)
        .collect();
    // Start where the first series passes 0.5%: a handful of very fast requests should
    // not squeeze the rest of the picture into a corner.
    let lo = lines
        .iter()
        .filter_map(|s| s.points.iter().find(|p| p.1 > 0.5).map(|p| p.0))
        .filter(|x| *x > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(xs.iter().copied().fold(f64::INFINITY, f64::max))
        / 1.26;
    for s in &mut lines {
        if let Some(i) = s.points.iter().position(|p| p.0 >= lo) {
            if i > 0 {
                let before = s.points[i - 1].1;
                s.points.drain(..i);
                s.points.insert(0, (lo, before));
            }
        }
    }
    let hi = xs.iter().copied().fold(0.0, f64::max);
    let x = Axis {
        label: "latency (ms, log scale)".into(),
        min: lo,
        max: (hi * 1.05).max(lo * 2.0),
        log: true,
        categories: None,
        ticks: None,
    };
    let y = Axis {
        label: "requests at or below (%)".into(),
        min: 0.0,
        max: 100.0,
        log: false,
        categories: None,
        ticks: None,
    };
    let panel = Panel {
        caption: None,
        x,
        y,
        shades: vec![],
        content: Content::Lines {
            series: lines,
            bands: vec![],
        },
    };
    let title = if has_markers {
        "Latency distribution at each service (from the summary's percentiles)"
    } else {
        "Latency distribution: share of requests answered within a time (after the warmup)"
    };
    Some(figure("latency-distribution", title, run, vec![panel], 1))
}

/// A swept value as a number: plain, or a duration with a unit (in seconds).
fn swept_number(v: &str) -> Option<(f64, Option<&'static str>)> {
    if let Ok(x) = v.trim().parse::<f64>() {
        return x.is_finite().then_some((x, None));
    }
    let v = v.trim().trim_matches('"');
    for (suffix, mult) in [
        ("us", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("d", 86400.0),
    ] {
        if let Some(n) = v.strip_suffix(suffix) {
            if let Ok(x) = n.parse::<f64>() {
                return Some((x * mult, Some("s")));
            }
        }
    }
    None
}

/// A summary.json path as an axis label with its unit.
pub fn metric_label(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    let last = parts.last().copied().unwrap_or(path);
    let parent = if parts.len() >= 2 {
        parts[parts.len() - 2]
    } else {
        ""
    };
    let owner = if parts.len() >= 3 {
        parts[parts.len() - 3]
    } else {
        ""
    };
    let unit = |name: &str| -> Option<(String, &'static str)> {
        for (suffix, unit) in [("_rps", "req/s"), ("_ms", "ms"), ("_s", "s")] {
            if let Some(base) = name.strip_suffix(suffix) {
                return Some((base.replace('_', " "), unit));
            }
        }
        None
    };
    if let Some((base, u)) = unit(parent) {
        // services.api.sojourn_ms.p99
        return format!("{owner} {base} {last} ({u})");
    }
    // faults.0.recovered_after_s: "fault 0"
    let parent = if !parent.is_empty() && parent.chars().all(|c| c.is_ascii_digit()) {
        format!("{} {parent}", owner.trim_end_matches('s'))
    } else {
        parent.to_string()
    };
    match unit(last) {
        Some((base, u)) => format!("{parent} {base} ({u})"),
        None => format!("{parent} {}", last.replace('_', " ")),
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The metrics a sweep's charts show: the `--fail-if` paths, the ones asked for, then each
/// workload's goodput and p99 and each fault's recovery time.
pub fn sweep_metrics(sweep: &SweepData, asked: &[String]) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for m in asked {
        if sweep.column(m).is_none() {
            let near = sweep
                .columns
                .iter()
                .min_by_key(|c| strsim::levenshtein(c, m))
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(Error::BadInput(format!(
                "--metric `{m}` is not a column of {}{near}",
                sweep.dir.join(crate::sweep::RESULTS_FILE).display()
            )));
        }
        out.push(m.clone());
    }
    let defaults = sweep.columns.iter().filter(|c| {
        let p: Vec<&str> = c.split('.').collect();
        matches!(
            p.as_slice(),
            ["workloads", _, "goodput_rps"]
                | ["workloads", _, "latency_ms", "p99"]
                | ["faults", _, "recovered_after_s"]
        )
    });
    let mut extra: Vec<String> = sweep.predicate_paths();
    extra.extend(defaults.take(8).cloned());
    for m in extra {
        if sweep.column(&m).is_some() && !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// One chart per metric: its mean across seeds against a swept parameter that takes more
/// than one value (the first numeric one, else the first), with the 95% confidence band; one line per combination of
/// the other parameters.
pub fn sweep_figures(sweep: &SweepData, asked: &[String]) -> Result<Vec<Figure>, Error> {
    if sweep.params.is_empty() || sweep.rows.is_empty() {
        return Ok(Vec::new());
    }
    let distinct = |j: usize| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &sweep.rows {
            if !v.contains(&r[j]) {
                v.push(r[j].clone());
            }
        }
        v
    };
    // x: the first swept parameter with several values that are all numbers (a line
    // over numbers reads best), else the first with several values.
    let varied: Vec<usize> = (0..sweep.params.len())
        .filter(|&j| distinct(j).len() > 1)
        .collect();
    let xj = varied
        .iter()
        .copied()
        .find(|&j| distinct(j).iter().all(|v| swept_number(v).is_some()))
        .or(varied.first().copied())
        .unwrap_or(0);
    let x_values = distinct(xj);
    let numbers: Option<Vec<(f64, Option<&str>)>> =
        x_values.iter().map(|v| swept_number(v)).collect();
    let (positions, categories, unit): (Vec<f64>, Option<Vec<String>>, Option<&str>) =
        match &numbers {
            Some(n) => (
                n.iter().map(|p| p.0).collect(),
                None,
                n.first().and_then(|p| p.1),
            ),
            None => (
                (0..x_values.len()).map(|i| i as f64).collect(),
                Some(x_values.iter().map(|v| shorten(v, 28)).collect()),
                None,
            ),
        };
    let others: Vec<usize> = (0..sweep.params.len())
        .filter(|&j| j != xj && distinct(j).len() > 1)
        .collect();
    let key = |r: &Vec<String>| -> String {
        others
            .iter()
            .map(|&j| format!("{}={}", short_path(&sweep.params[j]), shorten(&r[j], 24)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut keys: Vec<String> = Vec::new();
    for r in &sweep.rows {
        let k = key(r);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let (xmin, xmax) = positions
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let log_x = categories.is_none() && xmin > 0.0 && xmax >= xmin * 100.0;
    let pad = if categories.is_some() || xmax <= xmin {
        0.5
    } else {
        (xmax - xmin) * 0.04
    };
    let x_axis = Axis {
        label: match unit {
            Some(u) => format!("{} ({u})", sweep.params[xj]),
            None => sweep.params[xj].clone(),
        },
        min: if log_x { xmin / 1.2 } else { xmin - pad },
        max: if log_x { xmax * 1.2 } else { xmax + pad },
        log: log_x,
        // Ticks at the swept values themselves, when they are few and numbers.
        ticks: (categories.is_none() && !log_x && positions.len() <= 12).then(|| positions.clone()),
        categories,
    };
    let seeds = sweep.seeds();
    let mut figures = Vec::new();
    for metric in sweep_metrics(sweep, asked)? {
        let m = sweep.column(&metric).expect("checked by sweep_metrics");
        let mut series_list = Vec::new();
        let mut bands = Vec::new();
        let mut missing = 0;
        for (ki, k) in keys.iter().enumerate() {
            let mut pts = Vec::new();
            let mut band = Vec::new();
            for (xi, xv) in x_values.iter().enumerate() {
                let cells = sweep
                    .rows
                    .iter()
                    .filter(|r| &r[xj] == xv && &key(r) == k)
                    .map(|r| Some(r[m].as_str()));
                let s = describe(cells, numeric);
                missing += s.missing;
                if let Some(mean) = s.mean {
                    pts.push((positions[xi], mean));
                    if let Some([lo, hi]) = s.ci95 {
                        band.push((positions[xi], lo, hi));
                    }
                }
            }
            if pts.is_empty() {
                continue;
            }
            let name = if k.is_empty() {
                "mean".to_string()
            } else {
                k.clone()
            };
            let c = color(ki);
            if band.len() > 1 {
                bands.push(Band {
                    name: if keys.len() > 1 {
                        format!("95% CI ({name})")
                    } else {
                        "95% CI".into()
                    },
                    color: c,
                    points: band,
                });
            }
            series_list.push(Series {
                name,
                color: c,
                points: pts,
                markers: true,
            });
        }
        if series_list.is_empty() {
            continue;
        }
        let values = series_list
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(
                bands
                    .iter()
                    .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
            );
        let y = linear_axis(&metric_label(&metric), values);
        let panel = Panel {
            caption: None,
            x: x_axis.clone(),
            y,
            shades: vec![],
            content: Content::Lines {
                series: series_list,
                bands,
            },
        };
        let mut sub = format!(
            "{}: mean of {seeds} seeds per point, 95% confidence band (Student t)",
            sweep.scenario()
        );
        if missing > 0 {
            sub.push_str(&format!("; {missing} runs without a value (null) left out"));
        }
        figures.push(Figure {
            name: format!("sweep-{}", sanitize(&metric)),
            title: format!("{metric} against {}", sweep.params[xj]),
            subtitle: sub,
            legend: legend_of(std::slice::from_ref(&panel)),
            panels: vec![panel],
            columns: 1,
        });
    }
    Ok(figures)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The last two segments of a path (`payment.replicas`).
fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retry storm in four 1 s windows: 10 requests sent per second, the target sees
    /// 10, 20, 40, 40 attempts; nothing succeeds in windows 2 and 3; nothing is rejected.
    fn storm() -> RunData {
        let summary = serde_json::json!({
            "scenario": "s", "seed": 1, "duration_s": 4.0, "warmup_s": 0.0,
            "window_s": 1.0,
            "workloads": {"clients": {"target": "server", "retries": 70}},
        });
        let col = |name: &str| name.to_string();
        RunData {
            dir: std::path::PathBuf::new(),
            summary,
            series: super::super::data::Table {
                columns: vec![
                    col("t_s"),
                    col("arrivals_rps"),
                    col("goodput_rps"),
                    col("rejected_rps"),
                    col("server.arrivals_rps"),
                ],
                data: vec![
                    vec![0.0, 1.0, 2.0, 3.0],
                    vec![10.0; 4],
                    vec![10.0, 5.0, 0.0, 0.0],
                    vec![0.0; 4],
                    vec![10.0, 20.0, 40.0, 40.0],
                ],
            },
            latency: Vec::new(),
            command: None,
        }
    }

    #[test]
    fn storm_charts_show_attempts_and_where_nothing_succeeded() {
        let run = storm();
        let t = Timeline::new(&run);
        let fig = throughput(&run, &t);
        let Content::Lines { series, .. } = &fig.panels[0].content else {
            panic!("lines");
        };
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        // "rejected" stayed zero: named in the subtitle, not drawn.
        assert_eq!(names, ["sent", "goodput", "attempts at server"]);
        assert!(fig
            .subtitle
            .ends_with("zero throughout, not drawn: rejected"));
        let ys: Vec<f64> = series[2].points.iter().map(|p| p.1).collect();
        assert_eq!(ys, [10.0, 20.0, 40.0, 40.0]);
        let colors: Vec<Color> = fig.legend.iter().map(|e| e.color).collect();
        let mut unique = colors.clone();
        unique.sort_by_key(|c| (c.0, c.1, c.2));
        unique.dedup();
        assert_eq!(unique.len(), colors.len(), "colours unique in the legend");
        // Windows 2 and 3 (2 s to 4 s): one shaded period, labelled once.
        let shades = no_success(&run, &t);
        assert_eq!(shades.len(), 1);
        assert_eq!((shades[0].from, shades[0].to), (2.0, 4.0));
        assert_eq!(shades[0].label, "nothing succeeded");
        let lat = latency(&run, &t);
        assert!(lat.legend.iter().any(|e| e.name == "nothing succeeded"));
        crate::chart::render(&lat).expect("it renders");
    }

    fn lines_panel(series: Vec<Series>) -> Panel {
        Panel {
            caption: None,
            x: linear_axis("t", [0.0, 3.0].into_iter()),
            y: linear_axis("y", [0.0, 100.0].into_iter()),
            shades: vec![],
            content: Content::Lines {
                series,
                bands: vec![],
            },
        }
    }

    #[test]
    fn coincident_lines_become_one_named_for_both() {
        // "sent" and "goodput" 0.3 apart on a 0-100 axis (under half a percent): one line;
        // "errors" 1 apart at one point: its own.
        let mut panels = vec![lines_panel(vec![
            series(
                "sent",
                GRAY,
                vec![(0.0, 50.0), (1.0, 60.0), (2.0, f64::NAN)],
            ),
            series(
                "goodput",
                GREEN,
                vec![(0.0, 50.3), (1.0, 60.0), (2.0, f64::NAN)],
            ),
            series(
                "errors",
                RED,
                vec![(0.0, 50.0), (1.0, 61.0), (2.0, f64::NAN)],
            ),
        ])];
        merge_coincident(&mut panels);
        let Content::Lines { series, .. } = &panels[0].content else {
            panic!("lines")
        };
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sent = goodput", "errors"]);
    }

    #[test]
    fn every_name_has_one_colour_and_no_two_names_share_one() {
        // The messaging figure's old defect: each panel coloured its lines from the start
        // of the palette, so "placed" and "orders.payment" were both blue.
        let pts = vec![(0.0, 1.0)];
        let mut panels = vec![
            lines_panel(vec![
                series("placed", color(0), pts.clone()),
                series("completed", color(1), pts.clone()),
            ]),
            lines_panel(vec![
                series("orders.payment", color(0), pts.clone()),
                series("payments.notification", color(1), pts.clone()),
            ]),
            lines_panel(vec![series("orders.payment", color(5), pts.clone())]),
        ];
        unique_colors(&mut panels);
        let fig_colors: Vec<(String, Color)> = panels
            .iter()
            .flat_map(|p| match &p.content {
                Content::Lines { series, .. } => {
                    series.iter().map(|s| (s.name.clone(), s.color)).collect()
                }
                _ => vec![],
            })
            .collect();
        assert_eq!(fig_colors[0].1, color(0), "the first keeps its colour");
        assert_eq!(fig_colors[1].1, color(1));
        assert_eq!(fig_colors[2].1, fig_colors[4].1, "one name, one colour");
        let mut distinct: Vec<Color> = fig_colors[..4].iter().map(|c| c.1).collect();
        distinct.sort_by_key(|c| (c.0, c.1, c.2));
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "{fig_colors:?}");
        // Past the palette, hues stay distinct.
        let many: Vec<Color> = (0..40).map(distinct_color).collect();
        let mut d = many.clone();
        d.sort_by_key(|c| (c.0, c.1, c.2));
        d.dedup();
        assert_eq!(d.len(), 40);
    }

    #[test]
    fn the_budget_chart_marks_alerts_on_the_line_and_renders() {
        // One service: availability budget 100% until 60 s, 20% at 120 s; a page at 90 s
        // sits halfway down that segment, at 60%; a latency ticket has no latency line.
        let summary = serde_json::json!({
            "scenario": "s", "seed": 1, "duration_s": 120.0, "warmup_s": 0.0,
            "window_s": 1.0,
            "health": {"services": [{
                "name": "api",
                "budget": [{"objective": "availability", "t_s": [0.0, 60.0, 120.0],
                            "remaining_pct": [100.0, 100.0, 20.0]}],
                "alerts": [
                    {"rule": "page-fast", "objective": "availability", "severity": "page",
                     "fired_s": 90.0, "resolved_s": null},
                    {"rule": "ticket", "objective": "latency", "severity": "ticket",
                     "fired_s": 30.0, "resolved_s": null}
                ]
            }]}
        });
        let run = RunData {
            dir: std::path::PathBuf::new(),
            summary,
            series: super::super::data::Table {
                columns: vec!["t_s".into()],
                data: vec![vec![0.0, 60.0]],
            },
            latency: Vec::new(),
            command: None,
        };
        let fig = budget(&run, &Timeline::new(&run)).expect("a budget figure");
        assert_eq!(fig.panels.len(), 1);
        let Content::Lines { series, .. } = &fig.panels[0].content else {
            panic!("lines");
        };
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["availability budget", "page fired"]);
        assert_eq!(series[1].points[0], (90.0, 60.0));
        assert!(series[1].markers);
        let r = crate::chart::render(&fig).expect("it renders");
        assert!(
            r.svg.contains("page fired"),
            "the legend names the alert marks"
        );
        assert_eq!(r.svg_legend, r.png_legend);
        // No health, no figure.
        let bare = RunData {
            summary: serde_json::json!({"duration_s": 1.0}),
            ..run
        };
        assert!(budget(&bare, &Timeline::new(&bare)).is_none());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(
            nice_ticks(0.0, 600.0, 6),
            vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
        );
        assert_eq!(nice_step(0.23), 0.25);
    }

    #[test]
    fn decimation_keeps_spikes_and_gaps() {
        let mut pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
        pts[5_000].1 = 99.0;
        pts[7_000].1 = f64::NAN;
        let d = decimate(&pts);
        assert!(d.len() <= 2 * MAX_BUCKETS + 4, "{}", d.len());
        assert!(d.iter().any(|p| p.1 == 99.0));
        assert!(d.iter().any(|p| p.1.is_nan()));
        assert_eq!(d.first(), Some(&(0.0, 1.0)));
    }

    #[test]
    fn labels_carry_units() {
        assert_eq!(
            metric_label("workloads.checkout.goodput_rps"),
            "checkout goodput (req/s)"
        );
        assert_eq!(
            metric_label("services.api.sojourn_ms.p99"),
            "api sojourn p99 (ms)"
        );
        assert_eq!(
            metric_label("faults.0.recovered_after_s"),
            "fault 0 recovered after (s)"
        );
        assert_eq!(swept_number("250ms"), Some((0.25, Some("s"))));
        assert_eq!(swept_number("0.3"), Some((0.3, None)));
        assert_eq!(swept_number("None"), None);
        assert_eq!(seconds(65.0), "65s");
        assert_eq!(seconds(300.0), "5m");
    }
}
