//! Issue 20: no drawing errors. Every line of every chart stays inside its panel's plot
//! area and within the extent of the data it draws, in the SVG and in the PNG.
//!
//! Why: plotters' bitmap rasteriser once turned a jagged 2 px goodput line into a spike
//! through the legend (untangled `throughput.png` at t=178 s, data 198-234/s) while the
//! SVG was clean. Both files now come from one drawing path that clips to the plot area;
//! this test measures the result in both: the SVG's polylines and circles, and the PNG's
//! pixels of each series colour, against the data mapped to pixels independently.

use super::common::platsim;
use platsim::chart::{self, figures, Content, Figure, RunData};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Half the 2 px stroke, one pixel of rounding and one of the rasteriser's widening.
const TOL_PX: f64 = 3.0;
/// Sweep-style markers are 4 px circles.
const MARKER_TOL_PX: f64 = 6.0;

/// A run of `scenario`, shortened, drawn; its figures.
fn figures_of(scenario: &str, sets: &[&str]) -> Vec<Figure> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = vec!["run", scenario, "--quiet", "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let ran = platsim()
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "platsim {args:?}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let run = RunData::load(&PathBuf::from(&out)).unwrap();
    figures::run_figures(&run)
}

/// The pixel box `[x0, x1] x [y0, y1]` a panel's series of one colour may cover.
type Extent = (f64, f64, f64, f64);

/// Each Lines panel's allowed extent per series colour, mapped to pixels the way an axis
/// maps (linear or log10, top = max), with clamping to the axis range as the clip does.
fn allowed(fig: &Figure, plots: &[(i32, i32, i32, i32)]) -> Vec<BTreeMap<String, Extent>> {
    let mut out = Vec::new();
    for (panel, &(l, t, r, b)) in fig.panels.iter().zip(plots) {
        let mut per = BTreeMap::new();
        if let Content::Lines { series, .. } = &panel.content {
            let map = |axis: &chart::Axis, v: f64| -> f64 {
                let (lo, hi, v) = if axis.log {
                    (axis.min.log10(), axis.max.log10(), v.log10())
                } else {
                    (axis.min, axis.max, v)
                };
                ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
            };
            for s in series {
                let tol = if s.markers { MARKER_TOL_PX } else { TOL_PX };
                let pts: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite() && (!panel.y.log || p.1 > 0.0))
                    .map(|&(x, y)| {
                        (
                            l as f64 + (r - l) as f64 * map(&panel.x, x),
                            b as f64 - (b - t) as f64 * map(&panel.y, y),
                        )
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let e = pts.iter().fold(
                    (
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                    ),
                    |e, p| (e.0.min(p.0), e.1.max(p.0), e.2.min(p.1), e.3.max(p.1)),
                );
                let e = (e.0 - tol, e.1 + tol, e.2 - tol, e.3 + tol);
                let key = hex(s.color);
                let u = per.entry(key).or_insert(e);
                *u = (u.0.min(e.0), u.1.max(e.1), u.2.min(e.2), u.3.max(e.3));
            }
        }
        out.push(per);
    }
    out
}

fn hex(c: chart::Color) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Checks one point of colour `color` drawn in the body of `fig`; returns a complaint.
fn check_point(
    what: &str,
    (x, y): (f64, f64),
    color: &str,
    plots: &[(i32, i32, i32, i32)],
    extents: &[BTreeMap<String, Extent>],
) -> Option<String> {
    let pad = MARKER_TOL_PX;
    let panel = plots.iter().position(|&(l, t, r, b)| {
        x >= l as f64 - pad && x <= r as f64 + pad && y >= t as f64 - pad && y <= b as f64 + pad
    });
    let Some(i) = panel else {
        return Some(format!(
            "{what} {color} at ({x}, {y}) is outside every plot area"
        ));
    };
    let e = extents[i].get(color)?;
    let inside = x >= e.0 && x <= e.1 && y >= e.2 && y <= e.3;
    (!inside).then(|| {
        format!(
            "{what} {color} at ({x}, {y}) in panel {i} leaves the data's extent \
             x {:.0}..{:.0}, y {:.0}..{:.0}",
            e.0, e.1, e.2, e.3
        )
    })
}

/// Every `<polyline>` point and `<circle>` centre below the legend, by stroke or fill.
fn svg_marks(svg: &str) -> Vec<(String, (f64, f64))> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(tag[at..].split('"').next()?.to_string())
    };
    let mut out = Vec::new();
    for tag in svg.split('<').skip(1) {
        // Translucent strokes are marks (an instant fault's dashed line), not series.
        if tag.contains(" opacity=\"") && !tag.contains(" opacity=\"1\"") {
            continue;
        }
        if tag.starts_with("polyline") {
            let (Some(color), Some(points)) = (attr(tag, "stroke"), attr(tag, "points")) else {
                continue;
            };
            for p in points.split_whitespace() {
                let (x, y) = p.split_once(',').unwrap();
                out.push((color.clone(), (x.parse().unwrap(), y.parse().unwrap())));
            }
        } else if tag.starts_with("circle") {
            let (Some(color), Some(x), Some(y)) =
                (attr(tag, "fill"), attr(tag, "cx"), attr(tag, "cy"))
            else {
                continue;
            };
            out.push((color, (x.parse().unwrap(), y.parse().unwrap())));
        }
    }
    out
}

/// Every pixel of the PNG below the legend whose colour is exactly one of `colors`.
fn png_marks(png_bytes: &[u8], top: i32, colors: &[String]) -> Vec<(String, (f64, f64))> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut out = Vec::new();
    for y in top.max(0) as usize..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let c = format!("#{:02X}{:02X}{:02X}", buf[i], buf[i + 1], buf[i + 2]);
            // Antialiased text is grey in every shade: grey series are checked in the SVG.
            let grey = buf[i] == buf[i + 1] && buf[i + 1] == buf[i + 2];
            if !grey && colors.contains(&c) {
                out.push((c, (x as f64, y as f64)));
            }
        }
    }
    out
}

fn check_figure(scenario: &str, fig: &Figure) -> Vec<String> {
    let layout = chart::draw::layout(fig).unwrap();
    let extents = allowed(fig, &layout.plots);
    let (svg, _) = chart::render_svg(fig).unwrap();
    let (png, _) = chart::render_png(fig).unwrap();
    let series_colors: Vec<String> = extents
        .iter()
        .flat_map(|e| e.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut problems = Vec::new();
    let top = layout.body_top as f64;
    for (color, p) in svg_marks(&svg) {
        if p.1 < top || !series_colors.contains(&color) {
            continue;
        }
        problems.extend(check_point("svg", p, &color, &layout.plots, &extents));
    }
    for (color, p) in png_marks(&png, layout.body_top, &series_colors) {
        problems.extend(check_point("png", p, &color, &layout.plots, &extents));
    }
    problems.truncate(5);
    problems
        .into_iter()
        .map(|p| format!("{scenario} {}: {p}", fig.name))
        .collect()
}

/// The four scenarios issue 20 names, shortened.
const CASES: [(&str, &[&str]); 4] = [
    ("scenarios/layer-cake/untangled.ron", &["duration=9m"]),
    (
        "scenarios/resilience/metastable-retry-storm.ron",
        &["duration=4m"],
    ),
    ("scenarios/events/food-ordering.ron", &["duration=7m"]),
    ("scenarios/resilience/payment-phase1.ron", &["duration=7m"]),
];

/// No line leaves its panel or its data.
#[test]
fn lines_stay_inside_their_panels_in_svg_and_png() {
    let mut problems = Vec::new();
    let mut lines = 0;
    for (scenario, sets) in CASES {
        for fig in figures_of(scenario, sets) {
            lines += fig
                .panels
                .iter()
                .filter(|p| matches!(p.content, Content::Lines { .. }))
                .count();
            problems.extend(check_figure(scenario, &fig));
        }
    }
    assert!(lines >= 20, "the four scenarios draw line panels ({lines})");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 20: no series hides another. In every figure of the four scenarios a legend name
/// has one colour and no two names share one, and no two lines of a panel coincide (they
/// are drawn as one line named for both).
#[test]
fn no_series_hides_another() {
    let mut problems = Vec::new();
    for (scenario, sets) in CASES {
        for fig in figures_of(scenario, sets) {
            let mut seen: Vec<(String, chart::Color)> = Vec::new();
            for p in &fig.panels {
                let Content::Lines { series, .. } = &p.content else {
                    continue;
                };
                for s in series {
                    match seen.iter().find(|(n, _)| *n == s.name) {
                        Some((_, c)) if *c != s.color => problems.push(format!(
                            "{scenario} {}: `{}` in two colours",
                            fig.name, s.name
                        )),
                        Some(_) => {}
                        None => {
                            if let Some((other, _)) = seen.iter().find(|(_, c)| *c == s.color) {
                                problems.push(format!(
                                    "{scenario} {}: `{}` and `{other}` share a colour",
                                    fig.name, s.name
                                ));
                            }
                            seen.push((s.name.clone(), s.color));
                        }
                    }
                }
                for (i, a) in series.iter().enumerate() {
                    for b in &series[i + 1..] {
                        let span = p.y.max - p.y.min;
                        let coincide = a.points.len() == b.points.len()
                            && !p.y.log
                            && a.points.iter().any(|q| q.1.is_finite())
                            && a.points.iter().zip(&b.points).all(|(q, r)| {
                                (q.1 - r.1).abs() <= 0.005 * span || (q.1.is_nan() && r.1.is_nan())
                            });
                        if coincide {
                            problems.push(format!(
                                "{scenario} {}: `{}` hides `{}`",
                                fig.name, a.name, b.name
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
