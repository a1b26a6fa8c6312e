//! What a search leaves: `failures.jsonl` (every failing run), `explore.json` (the search,
//! its distinct failures each with its minimal schedule, and the coverage table),
//! `minimal.ron` (the first distinct failure's minimal scenario), `minimal-2.ron`,
//! `minimal-3.ron`, ... (the others', in the order they were found) and `explore.html`
//! (the minimal schedules on a time line). Nothing in them depends on the thread count or
//! the wall clock, so a folder is the same bytes with any `--jobs`.

use super::vocab::{Fault, Vocabulary};
use super::{Minimal, Report, RunResult};
use crate::report::files::write_atomic;
use crate::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const FAILURES_FILE: &str = "failures.jsonl";
pub const EXPLORE_FILE: &str = "explore.json";
pub const MINIMAL_FILE: &str = "minimal.ron";
pub const PAGE_FILE: &str = "explore.html";

/// The file of the `k`-th distinct failure (from 0): `minimal.ron`, then `minimal-2.ron`.
pub fn minimal_file(k: usize) -> String {
    if k == 0 {
        MINIMAL_FILE.to_string()
    } else {
        format!("minimal-{}.ron", k + 1)
    }
}

/// Whether `name` is a file [`minimal_file`] names.
fn is_minimal_file(name: &str) -> bool {
    name == MINIMAL_FILE
        || name
            .strip_prefix("minimal-")
            .and_then(|n| n.strip_suffix(".ron"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Runs, failures and shrink steps on a terminal; hidden elsewhere.
pub struct Progress {
    bar: ProgressBar,
    failed: AtomicUsize,
    shrink: AtomicUsize,
}

impl Progress {
    pub fn new(show: bool, runs: usize) -> Progress {
        use std::io::IsTerminal;
        let bar = if show && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(
                Some(runs as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:20}] {pos}/{len} runs {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            failed: AtomicUsize::new(0),
            shrink: AtomicUsize::new(0),
        }
    }

    pub fn ran(&self, failed: bool) {
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.bar.inc(1);
        self.message();
    }

    pub fn shrink_step(&self) {
        self.shrink.fetch_add(1, Ordering::Relaxed);
        self.message();
    }

    fn message(&self) {
        let shrink = self.shrink.load(Ordering::Relaxed);
        let shrink = if shrink > 0 {
            format!(" | shrinking: {shrink} steps")
        } else {
            String::new()
        };
        self.bar.set_message(format!(
            "| {} failed{shrink}",
            self.failed.load(Ordering::Relaxed)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn fault_json(f: &Fault, vocab: &Vocabulary) -> Value {
    json!({
        "kind": format!("{:?}", f.kind),
        "target": f.target.to_string(),
        "at_s": f.at_ms as f64 / 1000.0,
        "duration_s": f.duration_ms as f64 / 1000.0,
        "severity": f64::from(f.severity) / 1000.0,
        "ron": vocab.ron(f),
    })
}

fn minimal_json(m: &Minimal, vocab: &Vocabulary) -> Value {
    json!({
        "file": m.file,
        "run": m.run,
        "check": m.check,
        "shows": m.why,
        "lost_causes": m.causes,
        "shrink_steps": m.steps,
        "faults": m.faults.iter().map(|f| fault_json(f, vocab)).collect::<Vec<_>>(),
        // Relative to the folder, so the folder is the same bytes wherever it is.
        "reproduce": super::repro(std::path::Path::new(&m.file), m.seed),
    })
}

fn run_line(r: &RunResult, vocab: &Vocabulary) -> String {
    let line = json!({
        "run": r.run,
        "failed": r.failed.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>(),
        "lost_causes": r.causes,
        "faults": r.faults.iter().map(|f| fault_json(f, vocab)).collect::<Vec<_>>(),
    });
    line.to_string() + "\n"
}

pub fn write(report: &Report, vocab: &Vocabulary) -> Result<(), Error> {
    let dir = &report.dir;
    let lines: String = report.failures().map(|r| run_line(r, vocab)).collect();
    write_atomic(&dir.join(FAILURES_FILE), lines.as_bytes())?;
    // A minimal file of an earlier search in this folder that this one did not write
    // would pass for one of its results.
    let wrote: Vec<&str> = report
        .distinct
        .iter()
        .map(|d| d.minimal.file.as_str())
        .collect();
    let old = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in old.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_minimal_file(&name) && !wrote.contains(&name.as_str()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    for d in &report.distinct {
        write_atomic(&dir.join(&d.minimal.file), d.minimal.ron.as_bytes())?;
    }
    let b = &report.budget;
    let doc = json!({
        "scenario": report.scenario,
        "seed": report.seed,
        "scenario_seed": report.sim_seed,
        "runs": report.runs.len(),
        "failed": report.failures().count(),
        "checks": report.checks,
        "budget": {
            "max_faults": b.max_faults,
            "max_duration_s": b.max_duration.as_secs_f64(),
            "max_share": f64::from(b.max_share_permille) / 1000.0,
            "from_s": b.from.as_secs_f64(),
            "until_s": b.until.as_secs_f64(),
        },
        "vocabulary": vocab.options.iter().map(|(k, t)| format!("{k:?} {t}")).collect::<Vec<_>>(),
        "distinct_failures": report.distinct.iter().map(|d| json!({
            "check": d.check,
            "cause": d.key.cause,
            "runs": d.runs,
            "first_run": d.first_run,
            "minimal": minimal_json(&d.minimal, vocab),
        })).collect::<Vec<_>>(),
        "minimal": report.minimal().map(|m| minimal_json(m, vocab)),
        "coverage": report.coverage.iter().map(|(f, (first, runs))| json!({
            "feature": f, "first_run": first, "runs": runs,
        })).collect::<Vec<_>>(),
        "operators": report.operators.iter().map(|(op, runs, yielded)| json!({
            "operator": op.name(), "runs": runs, "yielded": yielded,
        })).collect::<Vec<_>>(),
        "notes": report.notes,
    });
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    write_atomic(&dir.join(EXPLORE_FILE), text.as_bytes())?;
    write_atomic(&dir.join(PAGE_FILE), page(report).as_bytes())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A plain page: the minimal schedule as bars on the run's time line, then the distinct
/// failures and the coverage table.
fn page(report: &Report) -> String {
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>platsim explore: {0}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}\
         .bar{{fill:#c0392b}}</style></head><body><h1>Failure search: {0}</h1>\
         <p>{1} runs, {2} failed (seed {3}).</p>",
        escape(&report.scenario),
        report.runs.len(),
        report.failures().count(),
        report.seed
    );
    for (k, d) in report.distinct.iter().enumerate() {
        h += &format!("<h2>Failure {}: {}</h2>", k + 1, escape(&label(d)));
        h += &timeline(&d.minimal, report);
    }
    h += "<h2>Distinct failures</h2><table><tr><th>check</th><th>cause of the loss</th>\
          <th>runs</th><th>first run</th><th>minimal scenario</th></tr>";
    for d in &report.distinct {
        h += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.check),
            escape(d.key.cause.as_deref().unwrap_or("")),
            d.runs,
            d.first_run,
            escape(&d.minimal.file)
        );
    }
    h += "</table>";
    if !report.operators.is_empty() {
        h += "<h2>How schedules were made</h2><p>From the second round on: a fresh draw or a \
              mutation of a schedule that reached a rare state (a stacked one counted as its \
              first operator), and the runs of each that reached a new state or a new \
              failure.</p><table><tr><th>way</th><th>runs</th>\
              <th>yielded</th></tr>";
        for (op, runs, yielded) in &report.operators {
            h += &format!(
                "<tr><td>{}</td><td>{runs}</td><td>{yielded}</td></tr>",
                op.name()
            );
        }
        h += "</table>";
    }
    h += "<h2>Coverage</h2><table><tr><th>state reached</th><th>first run</th><th>runs</th></tr>";
    for (f, (first, runs)) in &report.coverage {
        h += &format!(
            "<tr><td>{}</td><td>{first}</td><td>{runs}</td></tr>",
            escape(f)
        );
    }
    h + "</table></body></html>\n"
}

/// `orders.lost > 0 (lost: consumer kill)`: a distinct failure in one line.
pub fn label(d: &super::Distinct) -> String {
    match &d.key.cause {
        Some(c) => format!("{} (lost: {c})", d.check),
        None => d.check.clone(),
    }
}

/// A minimal schedule as bars on the run's time line, with what it shows and its repro.
fn timeline(m: &Minimal, report: &Report) -> String {
    let (w, row) = (800.0, 24.0);
    let end_ms = report.budget.until_ms().max(1) as f64;
    let mut h = format!(
        "<p>{} fault{}; {}: {}<br><code>{}</code></p><svg width=\"{}\" height=\"{}\">",
        m.faults.len(),
        if m.faults.len() == 1 { "" } else { "s" },
        escape(&m.check),
        escape(&m.why),
        escape(&super::repro(std::path::Path::new(&m.file), m.seed)),
        w + 300.0,
        row * (m.faults.len() as f64 + 1.0)
    );
    for (i, f) in m.faults.iter().enumerate() {
        let x = f.at_ms as f64 / end_ms * w;
        let bw = (f.duration_ms as f64 / end_ms * w).max(2.0);
        let y = i as f64 * row;
        h += &format!(
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            row - 6.0,
            w + 8.0,
            y + 13.0,
            escape(&f.label())
        );
    }
    h + &format!(
        "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">0s</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text></svg>",
        row * (m.faults.len() as f64 + 0.8),
        w - 30.0,
        row * (m.faults.len() as f64 + 0.8),
        report.budget.until
    )
}
