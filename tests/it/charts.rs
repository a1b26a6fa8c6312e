//! Charts and report.html: `platsim run --charts` and `platsim chart DIR` for the default
//! scenario and a scenario of every folder (shortened), and for a sweep.
//!
//! Why: the charts are how people read an outage; they must exist for every kind of
//! scenario, be valid files (PNG signature and header, well-formed SVG), show the same
//! series in SVG and PNG, be the same bytes for the same input, and the report page must
//! stand alone (no network) and carry the tables and the command that reproduces the run.

use super::common::platsim;
use platsim::chart::{self, figures, RunData};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_ok(args: &[&str]) -> Output {
    let out = platsim()
        .args(args)
        .current_dir(repo())
        .output()
        .expect("platsim starts");
    assert!(
        out.status.success(),
        "platsim {args:?}: exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "PNG too short");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!(be(8), 13, "IHDR length");
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        b"IEND",
        "ends with IEND"
    );
    (be(16), be(20))
}

/// Checks that `svg` is well-formed XML (balanced, properly nested tags; quoted
/// attributes; no stray `<`) and returns its root's `width` and `height`.
fn check_svg(svg: &str) -> (u32, u32) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    let mut root_size = None;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        assert!(!text.contains('>'), "stray '>' in text: {text:?}");
        rest = &rest[i..];
        if rest.starts_with("<?") {
            rest = &rest[rest.find("?>").expect("closed prolog") + 2..];
            continue;
        }
        if rest.starts_with("<!--") {
            rest = &rest[rest.find("-->").expect("closed comment") + 3..];
            continue;
        }
        // The tag ends at the first '>' outside quotes.
        let mut quote = None;
        let mut end = None;
        for (j, c) in rest.char_indices().skip(1) {
            match (quote, c) {
                (None, '"') | (None, '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '<') => panic!("'<' inside a tag: {}", &rest[..j.min(80)]),
                (None, '>') => {
                    end = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("tag closed");
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("closing tag without opening");
            assert_eq!(open, name.trim(), "tags nest");
        } else {
            let name = tag
                .split_whitespace()
                .next()
                .expect("tag name")
                .trim_end_matches('/');
            if name == "svg" && root_size.is_none() {
                let attr = |a: &str| -> u32 {
                    let key = format!(" {a}=\"");
                    let at = tag.find(&key).expect("svg has width and height") + key.len();
                    tag[at..]
                        .split('"')
                        .next()
                        .unwrap()
                        .parse()
                        .expect("integer size")
                };
                root_size = Some((attr("width"), attr("height")));
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    root_size.expect("an <svg> root")
}

/// The text of every `<text>` element, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim()
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">"),
            )
        })
        .collect()
}

/// Everything a run folder's charts and report must satisfy; returns the chart names.
fn check_run_dir(dir: &Path) -> Vec<String> {
    let run = RunData::load(dir).expect("the run folder loads");
    let figs = figures::run_figures(&run);
    assert!(!figs.is_empty());
    if let Some(m) = figs.iter().find(|f| f.name == "messaging") {
        // Issue 25: order latency, and time in queue beside the backlog.
        let captions: Vec<&str> = m
            .panels
            .iter()
            .filter_map(|p| p.caption.as_deref())
            .collect();
        let at = |what: &str| captions.iter().position(|c| c.starts_with(what));
        let (backlog, waited) = (at("consumer lag"), at("time in queue"));
        assert!(at("order latency").is_some(), "{captions:?}");
        assert_eq!(waited, backlog.map(|b| b + 1), "{captions:?}");
    }
    let mut names = Vec::new();
    for fig in &figs {
        let svg_path = dir.join("charts").join(format!("{}.svg", fig.name));
        let png_path = dir.join("charts").join(format!("{}.png", fig.name));
        let svg = std::fs::read_to_string(&svg_path).expect("svg written");
        let png = std::fs::read(&png_path).expect("png written");
        let (sw, sh) = check_svg(&svg);
        let (pw, ph) = png_size(&png);
        assert_eq!(
            (sw, sh),
            (pw, ph),
            "{}: SVG and PNG have the same size",
            fig.name
        );
        assert!(
            (600..=2000).contains(&pw) && (200..=3000).contains(&ph),
            "{}: {pw}x{ph}",
            fig.name
        );
        assert!(
            (3_000..3_000_000).contains(&png.len()),
            "{}: PNG of {} bytes",
            fig.name,
            png.len()
        );
        // The same figure drawn both ways draws the same legend, which is the figure's.
        let (svg_again, svg_legend) = chart::render_svg(fig).unwrap();
        let (png_again, png_legend) = chart::render_png(fig).unwrap();
        let want: Vec<String> = fig.legend.iter().map(|e| e.name.clone()).collect();
        assert_eq!(svg_legend, want, "{}: SVG legend", fig.name);
        assert_eq!(png_legend, want, "{}: PNG legend", fig.name);
        // ...and the files on disk are exactly those drawings (same data, deterministic).
        assert_eq!(svg_again, svg, "{}: SVG is deterministic", fig.name);
        assert_eq!(png_again, png, "{}: PNG is deterministic", fig.name);
        let texts = svg_texts(&svg);
        for name in &want {
            assert!(
                texts.contains(name),
                "{}: legend {name:?} in the SVG's texts {texts:?}",
                fig.name
            );
        }
        assert!(texts.contains(&fig.title), "{}: title in the SVG", fig.name);
        names.push(fig.name.clone());
    }

    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html written");
    let lower = html.to_lowercase();
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "<script",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(
            !lower.contains(bad),
            "report.html is self-contained, but has {bad:?}"
        );
    }
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(
        html.matches("<svg ").count(),
        figs.len(),
        "every chart inline"
    );
    let command = std::fs::read_to_string(dir.join("command.txt")).expect("command.txt written");
    let command = command.trim();
    assert!(command.starts_with("platsim run"), "{command}");
    assert!(
        html.contains(&platsim::chart::html::esc(command)),
        "report.html shows the repro command {command:?}"
    );
    assert!(html.contains(&format!("<h1>{}</h1>", run.scenario())));
    assert!(html.contains(&format!("seed {}", run.seed())));
    for section in [
        "What the clients saw",
        "Services",
        "<table",
        "<th>workload</th>",
        "<th>service</th>",
    ] {
        assert!(html.contains(section), "report.html has {section:?}");
    }
    for service in run.services() {
        assert!(
            html.contains(&format!("<th>{service}</th>")),
            "row for {service}"
        );
    }
    names
}

/// The default scenario and one scenario of each folder, shortened.
#[test]
fn charts_for_the_default_scenario_and_every_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str]); 5] = [
        ("default", &["--set", "duration=90s"], &[]),
        (
            "scenarios/textbook/mm1.ron",
            &["--set", "duration=3h", "--set", "warmup=10m"],
            &[],
        ),
        (
            "scenarios/layer-cake/untangled.ron",
            &["--set", "duration=9m"],
            &["recovery"],
        ),
        (
            "scenarios/resilience/payment-phase1.ron",
            &["--set", "duration=7m"],
            &["breakers"],
        ),
        (
            "scenarios/events/retention-and-acks.ron",
            &["--set", "duration=380s", "--set", "drain=10s"],
            &["messaging"],
        ),
    ];
    for (scenario, sets, extra) in cases {
        let out = tmp.path().join(scenario.replace('/', "_"));
        let out_s = out.to_str().unwrap();
        let mut args = vec!["run"];
        if scenario != "default" {
            args.push(scenario);
        }
        args.extend_from_slice(sets);
        args.extend_from_slice(&["--out", out_s, "--charts"]);
        let printed = run_ok(&args);
        let stdout = String::from_utf8_lossy(&printed.stdout);
        assert!(
            stdout.contains("report:"),
            "run --charts says where the report is:\n{stdout}"
        );
        let names = check_run_dir(&out);
        for want in [
            "latency",
            "throughput",
            "latency-services",
            "throughput-services",
            "queues",
            "latency-distribution",
            "budget",
        ]
        .iter()
        .chain(extra)
        {
            assert!(
                names.iter().any(|n| n == want),
                "{scenario}: chart {want} in {names:?}"
            );
        }
        // Issue 16: the budget chart sits in the health section of the report.
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        let (health, budget) = (page.find("id=\"health\""), page.find("id=\"chart-budget\""));
        assert!(
            health.is_some() && budget > health,
            "{scenario}: budget chart under health"
        );
        let command = std::fs::read_to_string(out.join("command.txt")).unwrap();
        for s in sets.iter().filter(|s| s.contains('=')) {
            assert!(command.contains(s), "{command} has {s}");
        }
        // `platsim chart DIR` redraws the same bytes.
        let before = std::fs::read(out.join("charts/latency.png")).unwrap();
        let report = std::fs::read(out.join("report.html")).unwrap();
        run_ok(&["chart", out_s, "--quiet"]);
        assert_eq!(
            std::fs::read(out.join("charts/latency.png")).unwrap(),
            before
        );
        assert_eq!(std::fs::read(out.join("report.html")).unwrap(), report);
    }
}

#[test]
fn latency_csv_holds_the_distributions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_ok(&[
        "run",
        "scenarios/resilience/metastable-retry-storm.ron",
        "--set",
        "duration=60s",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let text = std::fs::read_to_string(out.join("latency.csv")).unwrap();
    assert!(
        text.starts_with("kind,name,from_ms,to_ms,count\n"),
        "{text}"
    );
    let hists = chart::data::parse_latency(&text).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for h in &hists {
        let total: u64 = h.buckets.iter().map(|b| b.2).sum();
        let want = match h.kind.as_str() {
            // Every request counted at a service has a sojourn, whatever its outcome.
            "service" => {
                let s = &summary["services"][&h.name];
                s["completed"].as_u64().unwrap()
            }
            _ => summary["workloads"][&h.name]["ok"].as_u64().unwrap(),
        };
        assert_eq!(total, want, "{} {}", h.kind, h.name);
        assert!(
            h.buckets.windows(2).all(|w| w[0].1 <= w[1].0 + 1e-9),
            "buckets in order"
        );
    }
    assert!(
        hists.iter().any(|h| h.kind == "service") && hists.iter().any(|h| h.kind == "workload")
    );
}

#[test]
fn sweep_charts_show_the_confidence_band() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let out_s = out.to_str().unwrap();
    let status = platsim()
        .args([
            "sweep",
            "scenarios/resilience/metastable-retry-storm.ron",
            "--set",
            "workload.0.retry.max_attempts=1,2,4",
            "--set",
            "duration=90s",
            "--seeds",
            "1..3",
            "--jobs",
            "2",
            "--quiet",
            "--out",
            out_s,
        ])
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(
        status.success() || status.code() == Some(3),
        "sweep ran: {status:?}"
    );
    let printed = run_ok(&["chart", out_s, "--metric", "services.server.sojourn_ms.p99"]);
    assert!(String::from_utf8_lossy(&printed.stdout).contains("charts"));
    let sweep = chart::SweepData::load(&out).unwrap();
    assert_eq!(sweep.params, ["workload.0.retry.max_attempts", "duration"]);
    let figs = figures::sweep_figures(&sweep, &["services.server.sojourn_ms.p99".into()]).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"sweep-services-server-sojourn_ms-p99"),
        "{names:?}"
    );
    assert!(
        names.contains(&"sweep-workloads-clients-goodput_rps"),
        "{names:?}"
    );
    for f in &figs {
        let svg =
            std::fs::read_to_string(out.join("charts").join(format!("{}.svg", f.name))).unwrap();
        let png = std::fs::read(out.join("charts").join(format!("{}.png", f.name))).unwrap();
        assert_eq!(check_svg(&svg), png_size(&png));
        let legend: Vec<&str> = f.legend.iter().map(|e| e.name.as_str()).collect();
        if f.name.contains("goodput") {
            assert!(legend.contains(&"95% CI"), "{}: {legend:?}", f.name);
        }
        let (_, png_legend) = chart::render_png(f).unwrap();
        assert_eq!(png_legend, legend);
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg ").count(), figs.len());

    // A misspelt metric is bad input, with a suggestion.
    let bad = platsim()
        .args(["chart", out_s, "--metric", "services.server.sojourn_ms.p98"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean"));
}

#[test]
fn chart_of_a_folder_without_output_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = platsim()
        .args(["chart", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a run"));
}

fn chromium() -> Option<String> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .into_iter()
    .find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
    .map(str::to_string)
}

/// Chromium, or why the test cannot run: a failure under `PLATSIM_REQUIRE_CHROMIUM=1`
/// (`.ci/run` sets it once it has installed Chromium, so its absence then is a broken
/// set-up), a visible "SKIPPED" elsewhere.
fn chromium_or_skip(test: &str) -> Option<String> {
    let found = chromium();
    if found.is_none() {
        let why = format!("{test}: chromium is not installed (apt-get install chromium)");
        assert!(
            std::env::var("PLATSIM_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "{why}; PLATSIM_REQUIRE_CHROMIUM=1 says it was installed"
        );
        eprintln!("SKIPPED {why}");
    }
    found
}

/// Opens report.html in headless Chromium: the page parses (the DOM has the tables and
/// the inline charts) and a screenshot comes out. Skipped, saying so, where Chromium is
/// not installed; a failure then under `PLATSIM_REQUIRE_CHROMIUM=1`.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium_or_skip("report_renders_in_headless_chromium") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_ok(&[
        "run",
        "scenarios/layer-cake/untangled.ron",
        "--set",
        "duration=9m",
        "--out",
        out.to_str().unwrap(),
        "--charts",
        "--quiet",
    ]);
    let page = format!("file://{}", out.join("report.html").display());
    let profile = tmp.path().join("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
    ];
    let dom = Command::new(&browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &page])
        .output()
        .expect("chromium starts");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(dom_text.contains("<table"), "the DOM has the tables");
    assert!(
        dom_text.matches("<svg").count() >= 6,
        "the DOM has the charts"
    );
    assert!(dom_text.contains("Recovery after outages"));

    // Issue 20: health as cards and one compact table, the raw data folded away.
    assert!(dom_text.contains("class=\"cards\""), "health cards");
    assert!(
        dom_text.contains("<details>"),
        "raw health data behind details"
    );

    // Screenshots at two widths: a wide screen and a laptop.
    for width in [1400, 1024] {
        let shot = out.join(format!("report-{width}.png"));
        let status = Command::new(&browser)
            .args(common)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", shot.display()))
            .args([&format!("--window-size={width},2400"), &page])
            .output()
            .expect("chromium starts");
        assert!(
            status.status.success(),
            "chromium --screenshot failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let png = std::fs::read(&shot).expect("a screenshot");
        assert_eq!(png_size(&png), (width, 2400));
        // Keep it where a person (or a session) can look at it.
        if let Ok(keep) = std::env::var("PLATSIM_SCREENSHOT") {
            std::fs::copy(&shot, format!("{keep}-{width}.png")).unwrap();
        }
    }

    // Nothing scrolls sideways at 1,400 px: not the page, not a table in its box. A copy
    // of the page with a probe script (the report itself has none) writes what overflows
    // into the DOM that Chromium dumps. The raw health data folded under a closed
    // <details> is not on the page until asked for, and is left out.
    let probe = out.join("probe.html");
    let mut html = std::fs::read_to_string(out.join("report.html")).unwrap();
    html.push_str(
        "<script>var wide = [];\n\
         document.querySelectorAll('body *').forEach(function (e) {\n\
           if (e.closest('details:not([open])')) return;\n\
           if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {\n\
             var o = getComputedStyle(e).overflowX;\n\
             if (o === 'auto' || o === 'scroll' || o === 'hidden')\n\
               wide.push(e.tagName + ' ' + e.scrollWidth + ' > ' + e.clientWidth);\n\
           }\n\
         });\n\
         if (document.documentElement.scrollWidth > window.innerWidth)\n\
           wide.push('page ' + document.documentElement.scrollWidth);\n\
         document.body.setAttribute('data-overflow', wide.join('; ') || 'none');\n\
         document.body.setAttribute('data-height', document.documentElement.scrollHeight);</script>\n",
    );
    std::fs::write(&probe, html).unwrap();
    let dom = Command::new(&browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--window-size=1400,1000",
            "--dump-dom",
            &format!("file://{}", probe.display()),
        ])
        .output()
        .expect("chromium starts");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let overflow = dom_text
        .split("data-overflow=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the probe ran");
    assert_eq!(overflow, "none", "report.html scrolls sideways at 1,400 px");
    // A dashboard, not a dump: the key charts open, the small multiples and the rest
    // folded (issue 20: the page was 10,000-14,000 px tall; 7,561 before the folding,
    // 4,755 after).
    let height: u32 = dom_text
        .split("data-height=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|h| h.parse().ok())
        .expect("the probe measured the page");
    assert!(
        height <= 5000,
        "report.html is {height} px tall at 1,400 px"
    );
}

/// Issue 20: the sweep page says what the terminal says after a sweep: each predicate held
/// or failed, in how many runs, and per point the mean and 95% interval of its metric.
#[test]
fn sweep_page_has_the_predicates_and_the_per_point_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let out_s = out.to_str().unwrap();
    let printed = platsim()
        .args([
            "sweep",
            "scenarios/textbook/mm1.ron",
            "--set",
            "duration=3h",
            "--set",
            "services.station.concurrency=1,2",
            "--seeds",
            "1..3",
            "--fail-if",
            "services.station.sojourn_ms.p99 > 10000",
            "--out",
            out_s,
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(printed.status.code(), Some(3), "one point fails");
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(
        stdout.contains("failed services.station.sojourn_ms.p99 > 10000: 3 of 6 runs failed it"),
        "{stdout}"
    );
    run_ok(&["chart", out_s, "--quiet"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"predicates\""));
    assert!(html.contains(
        "<code>services.station.sojourn_ms.p99 &gt; 10000</code></td><td><span class=\"badge bad\">failed</span></td><td class=\"num\">3 of 6</td>"
    ));
    assert!(html.contains("id=\"points\""));
    // Per point: both concurrencies, the failing one with 3 failed runs and its p99.
    let table = html.split("id=\"points\"").nth(1).unwrap();
    assert!(table.contains("<th>services.station.sojourn_ms.p99</th>"));
    let rows: Vec<&str> = table.split("<tr>").skip(2).take(2).collect();
    assert!(
        rows[0].contains("<td class=\"num\">3</td><td class=\"num\">3</td>"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("<td class=\"num\">3</td><td class=\"num\">0</td>"),
        "{}",
        rows[1]
    );
    assert!(rows[0].contains(" ["), "mean [interval]: {}", rows[0]);
}
