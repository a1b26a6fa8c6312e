//! Docs that cannot drift (issue 20): every `platsim` command shown in README.md,
//! `docs/*.md` and `scenarios/README.md` runs with the exit code the text gives, every
//! output shown after `$ platsim ...` is what that command prints, and every figure the
//! text quotes beside a `<!-- check: ... -->` comment is what the run measures.
//!
//! The conventions (written for people first, the test reads them as they are):
//! - A command is a line `platsim SUBCOMMAND ...` (or `$ platsim ...`, or `cargo run
//!   --release -- ...`) in a fenced block; a trailing `\` continues it. A trailing
//!   `# comment` is for the reader, except `exit N` inside it: the exit code the command
//!   must end with (default 0). A pipe (`| jq ...`) is the reader's: only the part before
//!   it runs. A line with a placeholder in capitals (`[SCENARIO]`, `DIR`) is a synopsis,
//!   not a command.
//! - A fenced block starting with `$ platsim ...` shows what the command prints: the rest
//!   of the block must equal its stdout line for line (trailing spaces aside), where a
//!   line `...` stands for any number of lines.
//! - `<!-- check: PATH = TEXT; PATH * 100 = TEXT -->` pins figures of the prose around it
//!   (its paragraph, up to blank lines): TEXT must appear in that paragraph as a number of
//!   its own, and the summary.json value at PATH (times or divided by a factor, if given)
//!   must round to it at the precision it is written with (`66,689`, `58.3`, `95.29`),
//!   or lie within `~N%` of it when the text says "about" (`2,450 ~2%`). Text values
//!   (`faults.0.verdict = metastable`) must be equal. The summary is the last `platsim run`
//!   shown above in the same section (after a `platsim sweep`, its first point's run with
//!   the lowest seed, as its `runs.jsonl` records it), or the run given in the comment:
//!   ``<!-- check `platsim run scenarios/x.ron --seed 3`: orders.lost = 12 -->``. A PATH
//!   `COLUMN@T` is the run's timeseries.csv at the window whose `t_s` is T, `max(COLUMN)`
//!   that column's largest value (`db.arrivals_rps@75.4`, `max(topic.orders.payment.lag)`).
//!   A run already made in the section (shown, or named by an earlier check) is not run
//!   again.
//! - Every number the prose quotes after a run in its section is pinned so, or listed in
//!   `tests/docs-unpinned.txt` as not coming from a run (an input, a default, a formula)
//!   or, with the reason, as not pinnable (a figure of timeseries.csv, a difference of
//!   two times): `every_number_after_a_run_is_pinned_or_listed`.
//!
//! Each `##` or `###` section runs in a fresh folder (with `scenarios/` and `deploy/` linked in),
//! commands in order; sections run in parallel. `PLATSIM_BLESS=1` rewrites the output
//! blocks with what the commands print now (in a block that shows parts, line by line:
//! each shown line becomes the printed line with the same first word); checks are never
//! rewritten, since a changed figure needs its prose read again.
//! `PLATSIM_DOCS_ONLY=TEXT` runs only the sections whose heading (or file name) holds TEXT.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The documents whose commands and figures are held.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut docs = vec![root.join("README.md"), root.join("scenarios/README.md")];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        let mut pages: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        pages.sort();
        docs.extend(pages);
    }
    docs
}

#[derive(Debug)]
enum Item {
    Command {
        line: usize,
        shell: String,
        exit: i32,
        /// Expected stdout, and the lines it occupies (0-based, to the closing fence)
        /// for blessing.
        output: Option<(Vec<String>, usize, usize)>,
    },
    Check {
        line: usize,
        command: Option<String>,
        pins: Vec<Pin>,
        paragraph: String,
    },
}

#[derive(Debug)]
struct Pin {
    path: String,
    factor: f64,
    text: String,
    tolerance_pct: Option<f64>,
}

#[derive(Debug)]
struct Section {
    file: PathBuf,
    heading: String,
    items: Vec<Item>,
}

const SUBCOMMANDS: [&str; 9] = [
    "run", "check", "sweep", "merge", "layers", "report", "chart", "trace", "explore",
];

/// `platsim run ...` from a documented line, or None when the line is not a command.
fn command_of(line: &str) -> Option<String> {
    let l = line.trim();
    let l = l.strip_prefix("$ ").unwrap_or(l);
    let rest = l
        .strip_prefix("platsim ")
        .or_else(|| l.strip_prefix("cargo run --release -- "))?;
    let sub = rest.split_whitespace().next()?;
    SUBCOMMANDS
        .contains(&sub)
        .then(|| format!("platsim {rest}"))
}

/// The command without its trailing comment, and the comment.
fn split_comment(cmd: &str) -> (String, String) {
    let (mut single, mut double) = (false, false);
    let b = cmd.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && i > 0 && b[i - 1].is_ascii_whitespace() => {
                return (cmd[..i].trim().to_string(), cmd[i + 1..].trim().to_string());
            }
            _ => {}
        }
    }
    (cmd.trim().to_string(), String::new())
}

/// A synopsis line has placeholders: words in capitals (`SCENARIO`, `DIR`, `FILE.jsonl`).
fn is_synopsis(cmd: &str) -> bool {
    cmd.split_whitespace().skip(2).any(|w| {
        let w = w.trim_matches(|c: char| "[]|.,'".contains(c));
        let head: String = w.split(['.', '=']).next().unwrap_or("").to_string();
        head.len() >= 3 && head.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

fn expected_exit(comment: &str) -> i32 {
    let words: Vec<&str> = comment.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "exit" || w[0] == "exits")
        .and_then(|w| {
            w[1].trim_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn parse_pins(body: &str) -> Vec<Pin> {
    body.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let (lhs, rhs) = s
                .rsplit_once('=') // a path may hold `=` (a cause's text), a figure not
                .unwrap_or_else(|| panic!("bad check `{s}`"));
            let lhs = lhs.trim();
            let (path, factor) = if let Some((p, k)) = lhs.split_once(" * ") {
                (p, k.trim().parse::<f64>().expect("factor"))
            } else if let Some((p, k)) = lhs.split_once(" / ") {
                (p, 1.0 / k.trim().parse::<f64>().expect("divisor"))
            } else {
                (lhs, 1.0)
            };
            let rhs = rhs.trim();
            let (text, tolerance_pct) = match rhs.split_once(" ~") {
                Some((t, tol)) => (
                    t.trim(),
                    Some(tol.trim_end_matches('%').parse::<f64>().expect("tolerance")),
                ),
                None => (rhs, None),
            };
            Pin {
                path: path.trim().to_string(),
                factor,
                text: text.to_string(),
                tolerance_pct,
            }
        })
        .collect()
}

fn paragraph_around(lines: &[&str], at: usize) -> String {
    let mut start = at;
    while start > 0 && !lines[start - 1].trim().is_empty() && !lines[start - 1].starts_with("```") {
        start -= 1;
    }
    let mut end = at + 1;
    while end < lines.len() && !lines[end].trim().is_empty() && !lines[end].starts_with("```") {
        end += 1;
    }
    // The checks themselves are not the prose they pin.
    let prose: Vec<&str> = lines[start..end]
        .iter()
        .filter(|l| !l.trim_start().starts_with("<!--"))
        .copied()
        .collect();
    prose.join("\n")
}

fn parse(file: &Path) -> Vec<Section> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut sections = vec![Section {
        file: file.to_path_buf(),
        heading: String::from("(top)"),
        items: vec![],
    }];
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(h) = l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")) {
            sections.push(Section {
                file: file.to_path_buf(),
                heading: h.to_string(),
                items: vec![],
            });
        } else if l.trim_start().starts_with("<!-- check") {
            let mut body = l.trim().to_string();
            let start = i;
            while !body.ends_with("-->") {
                i += 1;
                body.push(' ');
                body.push_str(lines[i].trim());
            }
            let body = body
                .trim_start_matches("<!-- check")
                .trim_end_matches("-->")
                .trim();
            let (command, pins) = match body.strip_prefix('`') {
                Some(rest) => {
                    let (cmd, rest) = rest.split_once('`').expect("closing backtick");
                    (Some(cmd.to_string()), rest.trim_start_matches(':'))
                }
                None => (None, body.trim_start_matches(':')),
            };
            sections.last_mut().unwrap().items.push(Item::Check {
                line: start + 1,
                command,
                pins: parse_pins(pins),
                paragraph: paragraph_around(&lines, start),
            });
        } else if l.starts_with("```") {
            let open = i;
            let mut close = i + 1;
            while close < lines.len() && !lines[close].starts_with("```") {
                close += 1;
            }
            let block = &lines[open + 1..close];
            let shows_output = block.first().is_some_and(|f| f.starts_with("$ platsim "));
            let mut j = 0;
            while j < block.len() {
                if let Some(mut cmd) = command_of(block[j]) {
                    let line = open + j + 2;
                    while cmd.ends_with('\\') && j + 1 < block.len() {
                        j += 1;
                        cmd = format!(
                            "{} {}",
                            cmd.trim_end_matches('\\').trim_end(),
                            block[j].trim()
                        );
                    }
                    let (shell, comment) = split_comment(&cmd);
                    if !is_synopsis(&shell) {
                        let output = (shows_output && j == 0).then(|| {
                            let expected = block[1..].iter().map(|s| s.to_string()).collect();
                            (expected, open + 2, close)
                        });
                        sections.last_mut().unwrap().items.push(Item::Command {
                            line,
                            shell: shell.split(" | ").next().unwrap().trim().to_string(),
                            exit: expected_exit(&comment),
                            output,
                        });
                    }
                }
                j += 1;
            }
            i = close;
        }
        i += 1;
    }
    sections.retain(|s| !s.items.is_empty());
    sections
}

/// A folder for one section: `scenarios/` and `deploy/` linked in, `platsim` on the PATH.
struct Sandbox {
    dir: tempfile::TempDir,
    path_var: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["scenarios", "deploy"] {
            let target = Path::new(ROOT).join(sub);
            if target.exists() {
                std::os::unix::fs::symlink(&target, dir.path().join(sub)).unwrap();
            }
        }
        let bin = dir.path().join(".bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_platsim"), bin.join("platsim")).unwrap();
        let path_var = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Sandbox { dir, path_var }
    }

    fn run(&self, shell: &str) -> (i32, String, String) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(shell)
            .current_dir(self.dir.path())
            .env("PATH", &self.path_var)
            .env_remove("PLATSIM_BLESS")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The summary a `platsim run` wrote: stdout itself with `--json`, else the folder
    /// its `output:` line names.
    fn summary(&self, stdout: &str) -> Option<Value> {
        if let Ok(v) = serde_json::from_str::<Value>(stdout) {
            return Some(v);
        }
        let dir = stdout
            .lines()
            .find_map(|l| l.strip_prefix("output:"))?
            .trim();
        let text = std::fs::read_to_string(self.dir.path().join(dir).join("summary.json")).ok()?;
        let mut summary: Value = serde_json::from_str(&text).ok()?;
        // timeseries.csv rides along, for `COLUMN@T` and `max(COLUMN)` pins.
        if let Ok(csv) = std::fs::read_to_string(self.dir.path().join(dir).join("timeseries.csv")) {
            if let Value::Object(m) = &mut summary {
                m.insert(TIMESERIES.into(), Value::String(csv));
            }
        }
        Some(summary)
    }

    /// A `platsim sweep`'s first run (first point, lowest seed), from the `runs.jsonl`
    /// beside the `results:` file its output names: summary.json's figures, flattened to
    /// dotted paths.
    fn sweep_first_run(&self, stdout: &str) -> Option<Value> {
        let results = stdout
            .lines()
            .find_map(|l| l.strip_prefix("results:"))?
            .trim();
        let runs = self.dir.path().join(results).with_file_name("runs.jsonl");
        let text = std::fs::read_to_string(runs).ok()?;
        let first = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .min_by_key(|r| (r["point"].as_u64(), r["seed"].as_u64()))?;
        let cells = first.get("cells")?.as_object()?;
        let flat = cells
            .iter()
            .map(|(k, v)| {
                let s = v.as_str().unwrap_or_default();
                let value = match s.parse::<f64>() {
                    Ok(x) => serde_json::json!(x),
                    Err(_) => Value::String(s.to_string()),
                };
                (k.clone(), value)
            })
            .collect();
        Some(Value::Object(flat))
    }
}

/// Expected lines against actual, `...` matching any run of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.iter().all(|l| l.trim().is_empty()),
        Some((e, rest)) if e.trim() == "..." => {
            (0..=actual.len()).any(|k| matches(rest, &actual[k..]))
        }
        Some((e, rest)) => match actual.split_first() {
            Some((a, arest)) => a.trim_end() == e.trim_end() && matches(rest, arest),
            None => false,
        },
    }
}

/// The value at a summary path: map keys and list indices, dot-separated (keys may hold
/// `->`, as call names do).
/// Where a run's timeseries.csv is kept beside its summary (a key no summary has).
const TIMESERIES: &str = "(timeseries.csv)";

/// A timeseries.csv figure: `COLUMN@T` (the window at `t_s` T) or `max(COLUMN)`.
fn timeseries_value(summary: &Value, path: &str) -> Option<Value> {
    let csv = summary.get(TIMESERIES)?.as_str()?;
    let mut rows = csv.lines().map(|l| l.split(',').collect::<Vec<_>>());
    let header = rows.next()?;
    let (column, at) = match path.strip_prefix("max(") {
        Some(rest) => (rest.strip_suffix(')')?, None),
        None => {
            let (c, t) = path.rsplit_once('@')?;
            (c, Some(t.parse::<f64>().ok()?))
        }
    };
    let k = header.iter().position(|h| *h == column)?;
    let cell = |r: &Vec<&str>, i: usize| r.get(i).and_then(|v| v.parse::<f64>().ok());
    let value = match at {
        Some(t) => rows
            .find(|r| cell(r, 0).is_some_and(|x| (x - t).abs() < 1e-6))
            .and_then(|r| cell(&r, k))?,
        None => rows
            .filter_map(|r| cell(&r, k))
            .fold(f64::NEG_INFINITY, f64::max),
    };
    Some(serde_json::json!(value))
}

fn lookup<'a>(summary: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = summary.get(path) {
        return Some(v); // a sweep's run, flattened
    }
    path.split('.').try_fold(summary, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => a.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Does the paragraph quote `text` as a number (or word) of its own?
fn quoted_in(paragraph: &str, text: &str) -> bool {
    let p = paragraph.as_bytes();
    paragraph.match_indices(text).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| p[i]);
        let after = p.get(at + text.len()).copied();
        let digitish = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
        let continues = after == Some(b'.')
            && p.get(at + text.len() + 1).is_some_and(u8::is_ascii_digit)
            || after == Some(b',') && p.get(at + text.len() + 1).is_some_and(u8::is_ascii_digit);
        !digitish(before) && before != Some(b'.') && !digitish(after) && !continues
    })
}

fn pin_holds(pin: &Pin, value: &Value) -> Result<(), String> {
    let number = pin.text.trim_end_matches('%').replace(',', "");
    match (number.parse::<f64>(), value) {
        (Ok(quoted), Value::Number(n)) => {
            let measured = n.as_f64().unwrap() * pin.factor;
            let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
            let ok = match pin.tolerance_pct {
                Some(pct) => (measured - quoted).abs() <= quoted.abs() * pct / 100.0,
                None => (measured - quoted).abs() <= 0.5 * 10f64.powi(-decimals) * (1.0 + 1e-9),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("measured {measured}"))
            }
        }
        (_, Value::String(s)) if *s == pin.text => Ok(()),
        (_, Value::Bool(b)) if b.to_string() == pin.text => Ok(()),
        _ => Err(format!("measured {value}")),
    }
}

struct Outcome {
    failures: Vec<String>,
    /// (file, first line, end line exclusive, new lines) for blessing.
    rewrites: Vec<(PathBuf, usize, usize, Vec<String>)>,
    commands: usize,
    pins: usize,
}

fn run_section(section: &Section) -> Outcome {
    let sandbox = Sandbox::new();
    let name = |line: usize| {
        format!(
            "{}:{line} ({})",
            section
                .file
                .strip_prefix(ROOT)
                .unwrap_or(&section.file)
                .display(),
            section.heading
        )
    };
    let mut out = Outcome {
        failures: vec![],
        rewrites: vec![],
        commands: 0,
        pins: 0,
    };
    let mut last_summary: Option<Value> = None;
    // Each run's summary by command, so a check naming a run shown above reuses it.
    let mut summaries: BTreeMap<String, Value> = BTreeMap::new();
    for item in &section.items {
        match item {
            Item::Command {
                line,
                shell,
                exit,
                output,
            } => {
                out.commands += 1;
                let (code, stdout, stderr) = sandbox.run(shell);
                if code != *exit {
                    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
                    out.failures.push(format!(
                        "{}: `{shell}` exited {code}, the text says {exit}:\n    {}",
                        name(*line),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
                    ));
                }
                if shell.starts_with("platsim sweep") {
                    last_summary = sandbox.sweep_first_run(&stdout);
                }
                if shell.starts_with("platsim run") {
                    last_summary = sandbox.summary(&stdout);
                    if let Some(s) = &last_summary {
                        summaries.insert(normalized(shell), s.clone());
                    }
                }
                if let Some((expected, from, to)) = output {
                    let actual: Vec<&str> = stdout.lines().collect();
                    if !matches(expected, &actual) {
                        out.rewrites.push((
                            section.file.clone(),
                            *from,
                            *to,
                            blessed(expected, &actual),
                        ));
                        let first = expected
                            .iter()
                            .zip(actual.iter().chain(std::iter::repeat(&"<end>")))
                            .position(|(e, a)| e.trim() != "..." && e.trim_end() != a.trim_end());
                        out.failures.push(format!(
                            "{}: the output shown for `{shell}` differs from what it prints{}",
                            name(*line),
                            first.map_or(String::new(), |k| format!(
                                " (block line {}: shown `{}`, printed `{}`)",
                                k + 1,
                                expected[k],
                                actual.get(k).unwrap_or(&"<end>")
                            ))
                        ));
                    }
                }
            }
            Item::Check {
                line,
                command,
                pins,
                paragraph,
            } => {
                let summary = match command {
                    Some(cmd) if summaries.contains_key(&normalized(cmd)) => {
                        summaries.get(&normalized(cmd)).cloned()
                    }
                    Some(cmd) => {
                        let (code, stdout, _) = sandbox.run(cmd);
                        if code != 0 {
                            out.failures
                                .push(format!("{}: `{cmd}` exited {code}", name(*line)));
                        }
                        let s = sandbox.summary(&stdout);
                        if let Some(s) = &s {
                            summaries.insert(normalized(cmd), s.clone());
                        }
                        s
                    }
                    None => last_summary.clone(),
                };
                let Some(summary) = summary else {
                    out.failures.push(format!(
                        "{}: a check with no `platsim run` above it in its section",
                        name(*line)
                    ));
                    continue;
                };
                for pin in pins {
                    out.pins += 1;
                    if !quoted_in(paragraph, &pin.text) {
                        out.failures.push(format!(
                            "{}: `{}` is not quoted in the paragraph it pins",
                            name(*line),
                            pin.text
                        ));
                    }
                    let from_timeseries = timeseries_value(&summary, &pin.path);
                    match from_timeseries
                        .as_ref()
                        .or_else(|| lookup(&summary, &pin.path))
                    {
                        None => out.failures.push(format!(
                            "{}: no `{}` in the run's summary.json",
                            name(*line),
                            pin.path
                        )),
                        Some(v) => {
                            if let Err(why) = pin_holds(pin, v) {
                                out.failures.push(format!(
                                    "{}: the text says {} = {}, {why}",
                                    name(*line),
                                    pin.path,
                                    pin.text
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A command with its words single-spaced, to find a run already made.
fn normalized(cmd: &str) -> String {
    cmd.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What an output block should now say: all of the output, or for a block that shows
/// parts of it (`...`), each shown line replaced by the printed line with the same first
/// word (a table's row), searching on from the last one replaced.
fn blessed(expected: &[String], actual: &[&str]) -> Vec<String> {
    if !expected.iter().any(|e| e.trim() == "...") {
        return actual.iter().map(|s| s.trim_end().to_string()).collect();
    }
    let mut at = 0;
    expected
        .iter()
        .map(|e| {
            let key = e.split_whitespace().next();
            if e.trim() == "..." || key.is_none() {
                return e.clone();
            }
            match (at..actual.len()).find(|&k| actual[k].split_whitespace().next() == key) {
                Some(k) => {
                    at = k + 1;
                    actual[k].trim_end().to_string()
                }
                None => e.clone(),
            }
        })
        .collect()
}

fn bless(rewrites: &[(PathBuf, usize, usize, Vec<String>)]) {
    let mut by_file: BTreeMap<&PathBuf, Vec<_>> = BTreeMap::new();
    for r in rewrites {
        by_file.entry(&r.0).or_default().push(r);
    }
    for (file, mut edits) in by_file {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.1));
        for (_, from, to, new) in edits {
            // 0-based: `from` is the line after `$ platsim ...`, `to` the closing fence.
            lines.splice(*from..*to, new.iter().cloned());
        }
        std::fs::write(file, lines.join("\n") + "\n").unwrap();
    }
}

#[test]
fn every_documented_command_runs_and_every_pinned_figure_holds() {
    let mut sections: Vec<Section> = documents().iter().flat_map(|d| parse(d)).collect();
    // `PLATSIM_DOCS_ONLY=TEXT`: only the sections whose file or heading holds TEXT.
    let only = std::env::var("PLATSIM_DOCS_ONLY").ok();
    if let Some(only) = &only {
        sections.retain(|s| s.heading.contains(only.as_str()) || s.file.ends_with(only));
    }
    let queue = Mutex::new(sections.iter().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some(section) = queue.lock().unwrap().pop() else {
                    break;
                };
                let outcome = run_section(section);
                results.lock().unwrap().push(outcome);
            });
        }
    });
    let results = results.into_inner().unwrap();
    let commands: usize = results.iter().map(|o| o.commands).sum();
    let pins: usize = results.iter().map(|o| o.pins).sum();
    let mut failures: Vec<String> = results.iter().flat_map(|o| o.failures.clone()).collect();
    failures.sort();
    eprintln!("docs: {commands} commands and {pins} pinned figures checked");
    if std::env::var_os("PLATSIM_BLESS").is_some() {
        let rewrites: Vec<_> = results.into_iter().flat_map(|o| o.rewrites).collect();
        bless(&rewrites);
    }
    assert!(
        commands > 50 || only.is_some(),
        "too few documented commands found: {commands}"
    );
    assert!(
        failures.is_empty(),
        "{} documented commands or figures do not hold (PLATSIM_BLESS=1 rewrites output \
         blocks):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_conventions_parse_as_documented() {
    assert_eq!(
        command_of("$ platsim layers scenarios/x.ron").as_deref(),
        Some("platsim layers scenarios/x.ron")
    );
    assert_eq!(
        command_of("cargo run --release -- run   # build").as_deref(),
        Some("platsim run   # build")
    );
    assert_eq!(command_of("platsim: food-ordering (seed 1)"), None);
    let (cmd, comment) = split_comment("platsim run --set 'a=\"#x\"'   # exit 3: found");
    assert_eq!(cmd, "platsim run --set 'a=\"#x\"'");
    assert_eq!(expected_exit(&comment), 3);
    assert!(is_synopsis("platsim run [SCENARIO] [--seed N]"));
    assert!(is_synopsis("platsim trace FILE [--top N]"));
    assert!(!is_synopsis(
        "platsim run --set services.api.calls.0.breaker=None --trace trace.jsonl"
    ));
    let pins = parse_pins(" services.api.x * 100 = 58.3; orders.lost = 2,450 ~2%");
    assert_eq!(pins[0].factor, 100.0);
    assert_eq!(pins[1].tolerance_pct, Some(2.0));
    assert!(quoted_in("lost 2,450 orders", "2,450"));
    assert!(!quoted_in("lost 12,450 orders", "2,450"));
    assert!(!quoted_in("lost 2,4501 orders", "2,450"));
    assert!(!quoted_in("p99 58.31 ms", "58.3"));
    let v = serde_json::json!(58.276);
    let pin = |text: &str| Pin {
        path: String::new(),
        factor: 1.0,
        text: text.into(),
        tolerance_pct: None,
    };
    assert!(pin_holds(&pin("58.3"), &v).is_ok());
    assert!(pin_holds(&pin("58.28"), &v).is_ok());
    assert!(pin_holds(&pin("58.2"), &v).is_err());
    let run = serde_json::json!({ TIMESERIES: "t_s,db.x\n0.1,4\n0.2,9.5\n0.3,2\n" });
    assert_eq!(
        timeseries_value(&run, "db.x@0.2"),
        Some(serde_json::json!(9.5))
    );
    assert_eq!(
        timeseries_value(&run, "max(db.x)"),
        Some(serde_json::json!(9.5))
    );
    assert_eq!(timeseries_value(&run, "db.y@0.2"), None);
    assert_eq!(timeseries_value(&run, "services.db.x"), None);
    assert!(matches(
        &["a".into(), "...".into(), "d".into()],
        &["a", "b", "c", "d"]
    ));
    assert!(!matches(&["a".into(), "d".into()], &["a", "b", "d"]));
    assert_eq!(
        blessed(
            &["...".into(), "api 1 2".into(), "...".into()],
            &["x", "api 1 3", "y"]
        ),
        ["...", "api 1 3", "..."]
    );
}

/// Numbers quoted in prose as figures: a digit run (with `,` or `.` between digits, a
/// trailing `%` or `x`) that is not part of a word, outside inline code and link targets.
fn numbers_in(line: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut in_code = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            if let Some(after) = rest.strip_prefix("](") {
                rest = after.split_once(')').map_or("", |(_, r)| r);
                prose.push(' ');
                continue;
            }
            prose.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    let b = prose.as_bytes();
    let wordish = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut found = vec![];
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || i > 0 && (wordish(b[i - 1]) || b[i - 1] == b'.') {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len()
            && (b[i].is_ascii_digit()
                || matches!(b[i], b',' | b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
        }
        let mut end = i;
        if b.get(end) == Some(&b'%')
            || b.get(end) == Some(&b'x') && !b.get(end + 1).is_some_and(|&c| wordish(c))
        {
            end += 1;
        }
        if !b.get(end).is_some_and(|&c| wordish(c)) {
            found.push(prose[start..end].to_string());
        }
        i = end.max(i);
    }
    found
}

/// Per section (`file | heading`), the numbers its prose quotes after a run (a command
/// other than `platsim check`, or a check with its own run) that no check pins: each is
/// a figure to pin, or a number that does not come from a run (an input, a default, a
/// formula's constant), listed in `tests/docs-unpinned.txt`.
fn unpinned(file: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let rel = file
        .strip_prefix(ROOT)
        .unwrap_or(file)
        .display()
        .to_string();
    let mut heading = String::from("(top)");
    let mut ran = false;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(h) = l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")) {
            heading = h.to_string();
            ran = false;
            i += 1;
        } else if l.starts_with("```") {
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                let cmd = command_of(lines[i]);
                if cmd.is_some_and(|c| !c.starts_with("platsim check") && !is_synopsis(&c)) {
                    ran = true;
                }
                i += 1;
            }
            i += 1;
        } else if l.trim().is_empty() || l.starts_with('#') {
            i += 1;
        } else {
            let start = i;
            while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].starts_with("```") {
                i += 1;
            }
            let para = &lines[start..i];
            let mut pinned = vec![];
            let mut numbers = vec![];
            for l in para {
                let t = l.trim();
                if let Some(body) = t.strip_prefix("<!-- check") {
                    ran |= body.trim_start().starts_with('`');
                    let body = body.trim_end_matches("-->");
                    let pins = body.rsplit_once("`:").map_or(body, |(_, p)| p);
                    for s in pins.trim_start_matches(':').split(';') {
                        if let Some((_, rhs)) = s.rsplit_once('=') {
                            let v = rhs.split(" ~").next().unwrap().trim();
                            pinned.push(v.to_string());
                        }
                    }
                } else if !t.starts_with("<!--") {
                    numbers.extend(numbers_in(l));
                }
            }
            if ran {
                let key = format!("{rel} | {heading}");
                for n in numbers {
                    let entry = out.entry(key.clone()).or_default();
                    let bare = |t: &str| t.trim_end_matches(['%', 'x']).to_string();
                    let is_pinned = pinned.iter().any(|p| bare(p) == bare(&n));
                    if !is_pinned && !entry.contains(&n) {
                        entry.push(n);
                    }
                }
            }
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

const UNPINNED: &str = "tests/docs-unpinned.txt";

/// Every number quoted after a run is pinned by a check, or listed in
/// `tests/docs-unpinned.txt` as one that does not come from a run (or is not pinned yet,
/// with the reason there). `PLATSIM_DOCS_AUDIT=1` prints the unpinned ones;
/// `PLATSIM_DOCS_AUDIT=bless` rewrites the list with them.
#[test]
fn every_number_after_a_run_is_pinned_or_listed() {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for doc in documents() {
        found.extend(unpinned(&doc));
    }
    let total: usize = found.values().map(Vec::len).sum();
    let audit = std::env::var("PLATSIM_DOCS_AUDIT").ok();
    let path = Path::new(ROOT).join(UNPINNED);
    let listed_text = std::fs::read_to_string(&path).unwrap_or_default();
    let header: String = listed_text
        .lines()
        .take_while(|l| l.starts_with("//") || l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    // `file | heading | numbers // why they are not pinned`
    let entries: Vec<(String, Vec<String>, String)> = listed_text
        .lines()
        .filter(|l| !l.starts_with("//") && !l.trim().is_empty())
        .filter_map(|l| {
            let (l, why) = l.split_once(" // ").unwrap_or((l, ""));
            let (k, v) = l.rsplit_once(" | ")?;
            let numbers = v.split_whitespace().map(String::from).collect();
            Some((k.to_string(), numbers, why.trim().to_string()))
        })
        .collect();
    if audit.as_deref() == Some("bless") {
        let body: String = found
            .iter()
            .map(|(k, v)| {
                let why = entries
                    .iter()
                    .find(|e| e.0 == *k && !e.2.is_empty())
                    .map_or(String::new(), |e| format!(" // {}", e.2));
                format!("{k} | {}{why}\n", v.join(" "))
            })
            .collect();
        std::fs::write(&path, header + &body).unwrap();
        return;
    }
    if audit.is_some() {
        for (k, v) in &found {
            eprintln!("{k}: {}", v.join(" "));
        }
        eprintln!("docs: {total} numbers after a run are not pinned");
    }
    let listed: BTreeMap<String, Vec<String>> =
        entries.into_iter().map(|(k, v, _)| (k, v)).collect();
    let mut problems = vec![];
    for (k, v) in &found {
        let allowed = listed.get(k).cloned().unwrap_or_default();
        let new: Vec<&String> = v.iter().filter(|n| !allowed.contains(n)).collect();
        if !new.is_empty() {
            problems.push(format!(
                "{k}: {} not pinned",
                new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
            ));
        }
    }
    for (k, v) in &listed {
        let now = found.get(k).cloned().unwrap_or_default();
        let gone: Vec<&String> = v.iter().filter(|n| !now.contains(n)).collect();
        if !gone.is_empty() {
            problems.push(format!(
                "{k}: {} listed in {UNPINNED} but no longer unpinned there",
                gone.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "a figure from a run needs a `<!-- check: PATH = TEXT -->` pin (tests/docs.rs); a \
         number that is not from a run goes in {UNPINNED} (PLATSIM_DOCS_AUDIT=bless rewrites \
         it with every unpinned number, PLATSIM_DOCS_AUDIT=1 lists them):\n{}",
        problems.join("\n")
    );
}

#[test]
fn numbers_are_found_as_the_prose_quotes_them() {
    assert_eq!(
        numbers_in(
            "p99 58.3 ms, 2,450 of 3.6x at 80%; phase1 `--seed 7` [a](b/2.md) 5m 1,265-1,279"
        ),
        ["58.3", "2,450", "3.6x", "80%", "1,265", "1,279"]
    );
}
