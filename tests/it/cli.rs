//! The `platsim` binary against the pinned CLI contract (contract.md): what `run` and
//! `check` print and write, the exit codes (0 ok, 2 bad input, 1 internal), and error
//! messages that say where to fix the input (`file:line:col` for syntax, suggestions for
//! typos, field paths for meaning, every problem at once).
//!
//! Why: these are what users and outside scripts rely on; a scenario typo must never be
//! silently ignored, and no input, however broken, may crash platsim (a panic is exit
//! code 101, or 1 through platsim's own panic handler; bad input must be exit code 2).

use super::common::{assert_code, platsim, text};
use crate::common::ron_files;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs platsim with `args` in `dir` (so default output folders land there).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    platsim()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("platsim starts")
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str, what: &str) {
    assert!(
        haystack.contains(needle),
        "{what}: expected to find {needle:?} in:\n{haystack}"
    );
}

/// A valid two-service scenario that runs in milliseconds.
const SMALL: &str = r#"Scenario(
    name: "small",
    duration: "20s",
    services: [
        Service(name: "front", concurrency: 4, service_time: Exponential(mean: "5ms"),
                calls: [Call(to: "payment", dependency: Hard, timeout: Some("1s"))]),
        Service(name: "payment", concurrency: 4, service_time: Exponential(mean: "10ms"),
                error_rate: 0.2),
    ],
    workload: [Open(target: "front", rate: 100.0)],
)"#;

/// A temp dir holding `name` with `contents`.
fn scenario_file(contents: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write scenario");
    (dir, path)
}

#[test]
fn run_without_a_scenario_runs_the_embedded_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["run"]);
    assert_code(&out, 0, "platsim run");
    let stdout = text(&out.stdout);
    for name in [
        "food-ordering",
        "checkout",
        "api",
        "orders",
        "payment",
        "reproduce:",
    ] {
        assert_contains(&stdout, name, "the table of the default run");
    }
    // Without --out, the files go to output/<scenario>/seed-<seed>/.
    let default_dir = dir.path().join("output/food-ordering/seed-1");
    for f in ["summary.json", "timeseries.csv"] {
        assert!(
            default_dir.join(f).is_file(),
            "{f} not written under {}; stdout:\n{stdout}",
            default_dir.display()
        );
    }
}

/// `value[path...]`, failing with the path when a key is missing.
fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for (i, key) in path.iter().enumerate() {
        cur = cur
            .get(*key)
            .unwrap_or_else(|| panic!("summary.json has no key {}", path[..=i].join(".")));
    }
    cur
}

#[test]
fn json_output_has_the_pinned_keys() {
    let (dir, path) = scenario_file(SMALL.as_bytes(), "small.ron");
    let out = run_in(
        dir.path(),
        &["run", path.to_str().unwrap(), "--json", "--seed", "4"],
    );
    assert_code(&out, 0, "platsim run --json");
    let stdout = text(&out.stdout);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("--json printed invalid JSON ({e}):\n{stdout}"));
    assert_eq!(at(&v, &["scenario"]), "small", "scenario key");
    assert_eq!(
        at(&v, &["seed"]).as_u64(),
        Some(4),
        "seed key (given by --seed 4)"
    );
    assert_eq!(
        at(&v, &["duration_s"]).as_f64(),
        Some(20.0),
        "duration_s key"
    );
    for service in ["front", "payment"] {
        let s = ["services", service];
        for key in [
            "arrivals",
            "completed",
            "ok",
            "errors",
            "rejected",
            "timeouts",
            "utilization",
            "mean_in_system",
        ] {
            let x = at(&v, &[s[0], s[1], key]);
            assert!(
                x.is_number(),
                "services.{service}.{key} is not a number: {x}"
            );
        }
        for (hist, keys) in [
            ("wait_ms", &["mean", "p50", "p95", "p99", "max"][..]),
            (
                "sojourn_ms",
                &["mean", "p50", "p95", "p99", "p999", "max"][..],
            ),
        ] {
            for key in keys {
                let x = at(&v, &[s[0], s[1], hist, key]);
                assert!(
                    x.is_number(),
                    "services.{service}.{hist}.{key} is not a number: {x}"
                );
            }
        }
        let arrivals = at(&v, &[s[0], s[1], "arrivals"]).as_u64().unwrap();
        assert!(
            arrivals > 1000,
            "services.{service}.arrivals = {arrivals}, expected about 2000"
        );
        let u = at(&v, &[s[0], s[1], "utilization"]).as_f64().unwrap();
        assert!(
            (0.0..=1.0).contains(&u),
            "services.{service}.utilization = {u}, not in 0..1"
        );
    }
    // The JSON on stdout is the summary.json written to the output folder.
    let written = dir.path().join("output/small/seed-4/summary.json");
    let file =
        std::fs::read_to_string(&written).unwrap_or_else(|e| panic!("{}: {e}", written.display()));
    assert!(
        file == stdout,
        "--json stdout differs from {}",
        written.display()
    );
}

#[test]
fn out_writes_summary_and_timeseries() {
    let (dir, path) = scenario_file(SMALL.as_bytes(), "small.ron");
    let target = dir.path().join("results/here");
    let out = run_in(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--out",
            target.to_str().unwrap(),
        ],
    );
    assert_code(&out, 0, "platsim run --out");
    assert!(
        out.stdout.is_empty(),
        "--quiet printed:\n{}",
        text(&out.stdout)
    );
    let summary = std::fs::read_to_string(target.join("summary.json")).expect("summary.json");
    let v: Value = serde_json::from_str(&summary).expect("summary.json is JSON");
    assert_eq!(at(&v, &["scenario"]), "small");
    let csv = std::fs::read_to_string(target.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split(',').collect();
    for col in ["t_s", "goodput_rps"] {
        assert!(
            header.contains(&col),
            "timeseries.csv header lacks {col}: {header:?}"
        );
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len(),
        20,
        "20 s in 1 s windows should give 20 rows, got {}",
        rows.len()
    );
    let t = header.iter().position(|c| *c == "t_s").unwrap();
    let g = header.iter().position(|c| *c == "goodput_rps").unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.len(),
            header.len(),
            "row {i} has {} fields, header {}",
            row.len(),
            header.len()
        );
        let ts: f64 = row[t]
            .parse()
            .unwrap_or_else(|e| panic!("row {i} t_s {:?}: {e}", row[t]));
        assert_eq!(ts, i as f64, "row {i} starts at t_s = {ts}, expected {i}");
        let goodput: f64 = row[g].parse().expect("goodput_rps is a number");
        assert!(
            (0.0..1000.0).contains(&goodput),
            "row {i}: goodput_rps = {goodput}"
        );
    }
    // ~100/s offered, 20% of payment calls fail: ~80/s of goodput on average.
    let mean: f64 = rows
        .iter()
        .map(|r| r[g].parse::<f64>().unwrap())
        .sum::<f64>()
        / 20.0;
    assert!(
        (60.0..100.0).contains(&mean),
        "mean goodput_rps = {mean}, expected about 80"
    );
}

/// `payment`'s error fraction in a `--json` run of the default scenario.
fn payment_error_fraction(extra: &[&str]) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["run", "--json", "--set", "duration=2m"];
    args.extend_from_slice(extra);
    let out = run_in(dir.path(), &args);
    assert_code(&out, 0, &format!("platsim {}", args.join(" ")));
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let errors = at(&v, &["services", "payment", "errors"]).as_f64().unwrap();
    let arrivals = at(&v, &["services", "payment", "arrivals"])
        .as_f64()
        .unwrap();
    assert_eq!(
        at(&v, &["duration_s"]).as_f64(),
        Some(120.0),
        "--set duration=2m ignored"
    );
    errors / arrivals
}

#[test]
fn set_changes_the_results() {
    let base = payment_error_fraction(&[]);
    let changed = payment_error_fraction(&["--set", "services.payment.error_rate=0.05"]);
    // payment's errors are drawn with its error_rate, for requests that finish (timeouts
    // are counted apart), so the fractions sit a little below 0.3 and 0.05.
    assert!(
        (0.2..0.3).contains(&base),
        "default payment error fraction {base}, expected about 0.25"
    );
    assert!(
        (0.02..0.05).contains(&changed),
        "with error_rate=0.05 the payment error fraction is {changed}, expected about 0.04"
    );
}

#[test]
fn bad_set_paths_exit_2_with_a_suggestion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("services.paymnt.error_rate=0.1", "did you mean \"payment\""),
        (
            "services.payment.eror_rate=0.1",
            "did you mean \"error_rate\"",
        ),
        ("services.payment.error_rate=lots", "not a finite number"),
        ("services.9.error_rate=0.1", "out of range"),
        ("no_equals_sign", "PATH=VALUE"),
    ];
    for (set, message) in cases {
        let out = run_in(dir.path(), &["run", "--quiet", "--set", set]);
        assert_code(&out, 2, &format!("--set {set}"));
        assert_contains(
            &text(&out.stderr),
            message,
            &format!("stderr of --set {set}"),
        );
        let out = run_in(dir.path(), &["check", "--set", set]);
        assert_code(&out, 2, &format!("check --set {set}"));
    }
    assert!(
        !dir.path().join("output").exists(),
        "a failed run wrote output files"
    );
}

/// (line, column range) of `needle` in `text`, 1-based, columns in characters.
fn locate(text: &str, needle: &str) -> (usize, std::ops::RangeInclusive<usize>) {
    for (i, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let col = line[..byte].chars().count() + 1;
            return (i + 1, col..=col + needle.chars().count());
        }
    }
    panic!("{needle:?} not in the test scenario");
}

/// Checks that stderr starts with `error: FILE:LINE:COL:` pointing at `token`.
#[track_caller]
fn assert_points_at(stderr: &str, path: &Path, scenario: &str, token: &str) {
    let (line, cols) = locate(scenario, token);
    let prefix = format!("{}:{line}:", path.display());
    let rest = stderr
        .split_once(&prefix)
        .unwrap_or_else(|| {
            panic!("expected the location {prefix}COL (line of {token:?}) in:\n{stderr}")
        })
        .1;
    let col: usize = rest
        .split(':')
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no column after {prefix} in:\n{stderr}"));
    assert!(
        cols.contains(&col),
        "column {col} does not point at {token:?} (columns {cols:?}) in:\n{stderr}"
    );
}

#[test]
fn syntax_errors_give_file_line_and_column() {
    let scenario = "Scenario(\n    name: \"x\",\n    duration: 10s,\n    services: [],\n)\n";
    let (_dir, path) = scenario_file(scenario.as_bytes(), "syntax.ron");
    for cmd in ["run", "check"] {
        let out = platsim()
            .arg(cmd)
            .arg(&path)
            .output()
            .expect("platsim starts");
        assert_code(&out, 2, &format!("{cmd} on an unquoted duration"));
        let stderr = text(&out.stderr);
        assert_points_at(&stderr, &path, scenario, "10s");
        assert_contains(&stderr, "durations are strings", "syntax error message");
    }
}

#[test]
fn unknown_fields_and_variants_get_suggestions() {
    let cases = [
        (
            "servce_time",
            "service_time",
            "did you mean \"service_time\"",
        ),
        ("workloads", "workload", "did you mean \"workload\""),
        ("Exponental", "Exponential", "did you mean \"Exponential\""),
        (
            "LeastOutstandng",
            "LeastOutstanding",
            "did you mean \"LeastOutstanding\"",
        ),
    ];
    let base = r#"Scenario(
    name: "typo",
    duration: "10s",
    services: [
        Service(
            name: "a",
            service_time: Exponential(mean: "1ms"),
            balancer: LeastOutstanding,
        ),
    ],
    workload: [Open(target: "a", rate: 1.0)],
)
"#;
    for (typo, right, message) in cases {
        let scenario = base.replacen(right, typo, 1);
        assert_ne!(scenario, base, "{right} is not in the scenario");
        let (_dir, path) = scenario_file(scenario.as_bytes(), "typo.ron");
        let out = platsim()
            .arg("check")
            .arg(&path)
            .output()
            .expect("platsim starts");
        assert_code(&out, 2, &format!("check with the typo {typo}"));
        let stderr = text(&out.stderr);
        assert_contains(&stderr, &format!("`{typo}`"), "the typo is named");
        assert_contains(&stderr, message, "the suggestion");
        let (line, _) = locate(&scenario, typo);
        assert_contains(
            &stderr,
            &format!("{}:{line}:", path.display()),
            "the typo's line",
        );
    }
}

#[test]
fn semantic_errors_name_field_paths_all_at_once() {
    let scenario = r#"Scenario(
    name: "bad",
    duration: "10 sec",
    services: [
        Service(name: "api", replicas: 0, service_time: Exponential(mean: "5ms"),
                calls: [Call(to: "paymnt", dependency: Hard, timeout: Some("1s"))]),
        Service(name: "payment", service_time: Uniform(min: "5s", max: "2s"), error_rate: 1.5),
    ],
    workload: [Open(target: "apii", rate: -3.0)],
)
"#;
    let (_dir, path) = scenario_file(scenario.as_bytes(), "bad.ron");
    let want = [
        r#"services[0].calls[0].to: unknown service "paymnt" (did you mean "payment"?)"#,
        "services[0].replicas: must be at least 1",
        "services[1].service_time.min: min 5s is above max 2s",
        "services[1].error_rate: 1.5 is not a probability",
        r#"workload[0].target: unknown service "apii" (did you mean "api"?)"#,
        "workload[0].rate: -3 is not a rate per second",
        "duration: \"10 sec\"",
    ];
    for cmd in ["check", "run"] {
        let out = platsim()
            .arg(cmd)
            .arg(&path)
            .output()
            .expect("platsim starts");
        assert_code(
            &out,
            2,
            &format!("{cmd} on a scenario with {} problems", want.len()),
        );
        let stderr = text(&out.stderr);
        for w in want {
            assert_contains(&stderr, w, &format!("{cmd}: every problem is reported"));
        }
        assert_contains(
            &stderr,
            &format!("{}: {} problems found", path.display(), want.len()),
            "the problem count",
        );
    }
}

#[test]
fn a_missing_file_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    for cmd in ["run", "check"] {
        let out = run_in(dir.path(), &[cmd, "no/such/scenario.ron"]);
        assert_code(&out, 2, &format!("{cmd} on a missing file"));
        assert_contains(
            &text(&out.stderr),
            "no/such/scenario.ron",
            "the missing path is named",
        );
    }
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let mut files = Vec::new();
    ron_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut files,
    );
    files.sort();
    assert!(
        files.len() >= 4,
        "only {} scenarios found: {files:?}",
        files.len()
    );
    for f in &files {
        let out = platsim()
            .arg("check")
            .arg(f)
            .output()
            .expect("platsim starts");
        assert_code(&out, 0, &format!("check {}", f.display()));
        assert_contains(&text(&out.stdout), "ok", &format!("check {}", f.display()));
    }
    // The default needs no file.
    let out = platsim().arg("check").output().expect("platsim starts");
    assert_code(&out, 0, "check without a scenario");
}

#[test]
fn check_rejects_a_bad_scenario() {
    let bad = SMALL.replace("\"payment\", dependency", "\"paymnt\", dependency");
    let (_dir, path) = scenario_file(bad.as_bytes(), "bad.ron");
    let out = platsim()
        .arg("check")
        .arg(&path)
        .output()
        .expect("platsim starts");
    assert_code(&out, 2, "check on an unknown callee");
    assert_contains(
        &text(&out.stderr),
        r#"services[0].calls[0].to: unknown service "paymnt" (did you mean "payment"?)"#,
        "check's message",
    );
}

#[test]
fn help_version_and_bad_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [&["--help"][..], &["run", "--help"], &["help", "run"]] {
        let out = run_in(dir.path(), args);
        assert_code(&out, 0, &format!("platsim {}", args.join(" ")));
        let stdout = text(&out.stdout);
        assert_contains(&stdout, "Examples:", "help shows examples");
        assert_contains(&stdout, "platsim run", "help shows examples");
    }
    let out = run_in(dir.path(), &["--version"]);
    assert_code(&out, 0, "platsim --version");
    assert_contains(&text(&out.stdout), env!("CARGO_PKG_VERSION"), "--version");
    for args in [
        &["run", "--bogus"][..],
        &["frobnicate"],
        &[],
        &["run", "--seed", "minus-one"],
        &["run", "--max-rows", "0"],
        &["check", "a.ron", "b.ron"],
    ] {
        let out = run_in(dir.path(), args);
        assert_code(&out, 2, &format!("platsim {}", args.join(" ")));
    }
    assert!(
        !dir.path().join("output").exists(),
        "a refused command wrote output"
    );
}

#[test]
fn the_examples_in_help_work() {
    // Every `platsim ...` line under "Examples:" in `--help` runs and exits 0 (scenario
    // paths resolved against the repository, output redirections dropped).
    let dir = tempfile::tempdir().expect("temp dir");
    let help = text(&run_in(dir.path(), &["--help"]).stdout);
    let examples = help
        .split_once("Examples:")
        .unwrap_or_else(|| panic!("no Examples: in --help:\n{help}"))
        .1;
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut ran = 0;
    for line in examples
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("platsim "))
    {
        // The command ends at a redirection or at the run of spaces before its comment.
        let command = line.split(" >").next().unwrap().split("  ").next().unwrap();
        let args: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(|a| match a.strip_prefix("scenarios/") {
                Some(rest) => scenarios.join(rest).display().to_string(),
                None => a.to_string(),
            })
            .collect();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if args[0] == "run" && !args.contains(&"--json") {
            args.push("--quiet");
        }
        let out = run_in(dir.path(), &args);
        assert_code(&out, 0, &format!("the --help example `{line}`"));
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} examples found in --help:\n{help}");
}

/// Deterministic junk bytes (xorshift), so the test needs no randomness of its own.
fn junk(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// Inputs that must be refused cleanly (exit 2), never crash.
fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    let wrap = |services: &str| {
        format!(
            r#"Scenario(name: "g", duration: "1s", services: [{services}], workload: [Open(target: "a", rate: 5.0)])"#
        )
    };
    let svc = |fields: &str| wrap(&format!(r#"Service(name: "a", {fields})"#));
    let st = r#"service_time: Constant("1ms")"#;
    let deep = 100_000;
    vec![
        ("empty file", Vec::new()),
        ("only whitespace", b" \n\t\n ".to_vec()),
        ("random bytes", junk(4096, 0x9e37_79b9_7f4a_7c15)),
        ("invalid UTF-8", b"Scenario(name: \"\xff\xfe\", duration: \"1s\")".to_vec()),
        ("NUL and control bytes", b"Scenario(\0\x01\x02name: \"x\"\x1b)".to_vec()),
        ("unterminated string", b"Scenario(name: \"x".to_vec()),
        ("a different top value", b"[1, 2, 3]".to_vec()),
        ("nested brackets", "[".repeat(deep).into_bytes()),
        ("balanced nested brackets", format!("{}{}", "[".repeat(deep), "]".repeat(deep)).into_bytes()),
        ("nested parentheses", format!("Scenario{}", "(".repeat(deep)).into_bytes()),
        (
            "nested lists in services",
            wrap(&format!("{}{}", "[".repeat(deep), "]".repeat(deep))).into_bytes(),
        ),
        (
            "nested Some",
            svc(&format!("queue_capacity: {}1{}, {st}", "Some(".repeat(deep), ")".repeat(deep))).into_bytes(),
        ),
        (
            "nested comments around nothing",
            format!("{}{}", "/*".repeat(deep), "*/".repeat(deep)).into_bytes(),
        ),
        ("seed beyond u64", wrap(&format!("Service(name: \"a\", {st})")).replace("name: \"g\"", "name: \"g\", seed: 99999999999999999999999").into_bytes()),
        ("replicas beyond u32", svc(&format!("replicas: 99999999999, {st}")).into_bytes()),
        ("too many replicas", svc(&format!("replicas: 4000000000, {st}")).into_bytes()),
        ("duration beyond u64", wrap(&format!("Service(name: \"a\", {st})")).replace("\"1s\"", "\"99999999999999999999999d\"").into_bytes()),
        ("huge fractional duration", wrap(&format!("Service(name: \"a\", {st})")).replace("\"1s\"", "\"1e300s\"").into_bytes()),
        ("huge service time", svc(r#"service_time: Exponential(mean: "99999999999999999999h")"#).into_bytes()),
        ("rate 1e400", wrap(&format!("Service(name: \"a\", {st})")).replace("5.0", "1e400").into_bytes()),
        ("error rate 1e308", svc(&format!("error_rate: 1e308, {st}")).into_bytes()),
        ("negative replicas", svc(&format!("replicas: -3, {st}")).into_bytes()),
        ("negative concurrency", svc(&format!("concurrency: -1, {st}")).into_bytes()),
        ("negative queue capacity", svc(&format!("queue_capacity: Some(-1), {st}")).into_bytes()),
        ("negative seed", wrap(&format!("Service(name: \"a\", {st})")).replace("name: \"g\"", "name: \"g\", seed: -5").into_bytes()),
        ("negative Erlang k", svc(r#"service_time: Erlang(k: -2, mean: "1ms")"#).into_bytes()),
        ("zero Erlang k", svc(r#"service_time: Erlang(k: 0, mean: "1ms")"#).into_bytes()),
        ("negative duration", svc(r#"service_time: Constant("-1ms")"#).into_bytes()),
        ("negative rate", wrap(&format!("Service(name: \"a\", {st})")).replace("5.0", "-5.0").into_bytes()),
        ("NaN rate", wrap(&format!("Service(name: \"a\", {st})")).replace("5.0", "NaN").into_bytes()),
        ("inf rate", wrap(&format!("Service(name: \"a\", {st})")).replace("5.0", "inf").into_bytes()),
        ("-inf rate", wrap(&format!("Service(name: \"a\", {st})")).replace("5.0", "-inf").into_bytes()),
        ("NaN error rate", svc(&format!("error_rate: NaN, {st}")).into_bytes()),
        (
            "NaN in a schedule",
            wrap(&format!("Service(name: \"a\", {st})"))
                .replace("rate: 5.0", "rate: 5.0, schedule: [Step(at: \"1s\", rate: NaN), Ramp(at: \"2s\", to: inf, over: \"1s\")]")
                .into_bytes(),
        ),
        ("zero users", wrap(&format!("Service(name: \"a\", {st})")).replace("Open(target: \"a\", rate: 5.0)", "Closed(target: \"a\", users: 0, think_time: Constant(\"1s\"))").into_bytes()),
        ("zero duration", wrap(&format!("Service(name: \"a\", {st})")).replace("\"1s\"", "\"0s\"").into_bytes()),
        ("zero window", wrap(&format!("Service(name: \"a\", {st})")).replace("duration: \"1s\"", "duration: \"1s\", window: \"0s\"").into_bytes()),
        ("no services", br#"Scenario(name: "g", duration: "1s", services: [])"#.to_vec()),
        ("calls in a circle", wrap(&format!(r#"Service(name: "a", {st}, calls: [Call(to: "b")]), Service(name: "b", {st}, calls: [Call(to: "a")])"#)).into_bytes()),
        ("a service calling itself", svc(&format!(r#"{st}, calls: [Call(to: "a", dependency: Soft)]"#)).into_bytes()),
        ("faults (not simulated yet)", wrap(&format!("Service(name: \"a\", {st})")).replace("workload:", "faults: [Crash(target: \"a\", at: \"1s\", duration: \"1s\")], workload:").into_bytes()),
    ]
}

fn assert_no_panic(out: &Output, what: &str) {
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{what}: platsim panicked (exit {:?}):\n{stderr}",
        out.status.code()
    );
}

#[test]
fn garbage_input_is_refused_without_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garbage.ron");
    let out_dir = dir.path().join("out");
    for (what, bytes) in garbage() {
        std::fs::write(&path, &bytes).expect("write garbage");
        for args in [
            vec!["check", path.to_str().unwrap()],
            vec![
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--max-events",
                "1000000",
                "--out",
                out_dir.to_str().unwrap(),
            ],
        ] {
            let out = run_in(dir.path(), &args);
            let label = format!("{} on {what}", args[0]);
            assert_no_panic(&out, &label);
            assert_code(&out, 2, &label);
            assert_contains(&text(&out.stderr), "error", &label);
        }
    }
    assert!(!out_dir.exists(), "refused input wrote output files");
}

#[test]
fn runs_that_ask_too_much_stop_with_exit_2() {
    // Valid scenarios whose runs hit a limit: an arrival rate far beyond what can be
    // simulated, and a closed loop with neither think time nor service time (an endless
    // stream of events at one instant).
    let cases = [
        (
            // Rates above 1e9 are refused by validation; this one is refused before
            // time zero, its arrivals alone being beyond --max-events.
            "rate 1e8",
            r#"Scenario(name: "g", duration: "1s",
                services: [Service(name: "a", queue_capacity: Some(1), service_time: Constant("1ms"))],
                workload: [Open(target: "a", rate: 1e8)])"#,
        ),
        (
            "zero-time closed loop",
            r#"Scenario(name: "g", duration: "1s",
                services: [Service(name: "a", service_time: Constant("0s"))],
                workload: [Closed(target: "a", users: 1, think_time: Constant("0s"))])"#,
        ),
    ];
    for (what, scenario) in cases {
        let (dir, path) = scenario_file(scenario.as_bytes(), "limit.ron");
        let out = run_in(
            dir.path(),
            &[
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--max-events",
                "200000",
            ],
        );
        assert_no_panic(&out, what);
        assert_code(&out, 2, what);
        assert_contains(&text(&out.stderr), "--max-events", what);
    }
    // Unbounded queues under overload stop at --max-in-flight instead of eating memory.
    let overload = r#"Scenario(name: "g", duration: "1h",
        services: [Service(name: "a", service_time: Constant("1s"))],
        workload: [Open(target: "a", rate: 1000.0)])"#;
    let (dir, path) = scenario_file(overload.as_bytes(), "overload.ron");
    let out = run_in(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--max-in-flight",
            "10000",
        ],
    );
    assert_no_panic(&out, "overload");
    assert_code(&out, 2, "overload with unbounded queues");
    assert_contains(&text(&out.stderr), "--max-in-flight", "overload");
}

#[test]
fn odd_but_valid_input_runs() {
    // Extreme values that are still valid must run, not crash.
    let cases = [
        (
            "u32::MAX servers and Erlang phases",
            r#"Scenario(name: "g", duration: "1s", services: [Service(name: "a", concurrency: 4294967295,
                service_time: Erlang(k: 4294967295, mean: "1ms"))], workload: [Open(target: "a", rate: 50.0)])"#,
        ),
        (
            "100000 replicas and a zero waiting room",
            r#"Scenario(name: "g", duration: "1s", services: [Service(name: "a", replicas: 100000, queue_capacity: Some(0),
                balancer: LeastOutstanding, service_time: Constant("0s"))], workload: [Open(target: "a", rate: 50.0)])"#,
        ),
        (
            "unicode names and µs",
            r#"Scenario(name: "plätt 🚀/..", duration: "500ms", window: "7µs",
                services: [Service(name: "zahlung ✓", service_time: Exponential(mean: "250µs"))],
                workload: [Open(target: "zahlung ✓", rate: 10.0)])"#,
        ),
        (
            "a window longer than the run and a zero rate step",
            r#"Scenario(name: "g", duration: "2s", window: "1h",
                services: [Service(name: "a", service_time: Uniform(min: "0s", max: "0s"))],
                workload: [Open(target: "a", rate: 5.0, schedule: [Step(at: "1s", rate: 0.0)])])"#,
        ),
        (
            "u64::MAX seed",
            r#"Scenario(name: "g", seed: 18446744073709551615, duration: "1s",
                services: [Service(name: "a", service_time: LogNormal(median: "1ms", p99: "1ms"))],
                workload: [Open(target: "a", rate: 5.0)])"#,
        ),
    ];
    for (what, scenario) in cases {
        let (dir, path) = scenario_file(scenario.as_bytes(), "odd.ron");
        let out = run_in(
            dir.path(),
            &["run", path.to_str().unwrap(), "--json", "--out", "o"],
        );
        assert_no_panic(&out, what);
        assert_code(&out, 0, what);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{what}: invalid JSON ({e}):\n{}", text(&out.stdout)));
        assert!(
            at(&v, &["services"]).is_object(),
            "{what}: no services in the summary"
        );
    }
}

#[test]
fn an_absurd_user_count_is_refused_not_an_abort() {
    // Runs under a 1 GB address-space limit so the failure is an allocation failure, not
    // the whole machine's memory.
    let scenario = r#"Scenario(name: "g", duration: "1s",
        services: [Service(name: "a", service_time: Constant("1ms"))],
        workload: [Closed(target: "a", users: 4294967295, think_time: Constant("1s"))])"#;
    let (dir, path) = scenario_file(scenario.as_bytes(), "users.ron");
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 1000000; exec "$0" run "$1" --quiet --out "$2""#)
        .arg(env!("CARGO_BIN_EXE_platsim"))
        .arg(&path)
        .arg(dir.path().join("o"))
        .output()
        .expect("sh starts");
    assert_code(&out, 2, "a run with 4294967295 closed users");
}

#[test]
fn the_library_refuses_garbage_without_panicking() {
    // The same garbage through `platsim::simulate`, for callers of the library.
    for (what, bytes) in garbage() {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let limits = platsim::Limits {
            max_events: 1_000_000,
            ..platsim::Limits::default()
        };
        let result = std::panic::catch_unwind(|| platsim::simulate(text, "garbage", &[], limits));
        match result {
            Err(_) => panic!("simulate panicked on {what}"),
            Ok(Ok(_)) => panic!("simulate accepted {what}"),
            Ok(Err(e)) => assert_eq!(
                e.exit_code(),
                2,
                "{what}: {e} maps to exit code {}",
                e.exit_code()
            ),
        }
    }
}
