//! `platsim sweep`, `platsim merge` and `platsim run --trace` against issue 7's checks:
//! a 3-value x 20-seed sweep of the default scenario has 60 rows; every failing run's
//! repro command gives its summary.json byte for byte; `--jobs 1` equals `--jobs 2`; three
//! merged shards equal the unsharded sweep; a sweep killed midway and resumed equals an
//! uninterrupted one; exit code 3 when runs fail, 2 for bad predicates.
//!
//! Why: a sweep is only useful if its failures can be replayed exactly and its tables do
//! not depend on how (threads, machines, interruptions) it was run. One baseline sweep is
//! shared by the tests that compare against it (runs are shortened to 60 s of virtual time).

use super::common::{assert_code, platsim, text};
use platsim::sweep::flatten::flatten;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn run(args: &[&str]) -> Output {
    platsim().args(args).output().expect("platsim starts")
}

#[track_caller]
fn same_file(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(x == y, "{} and {} differ", a.display(), b.display());
}

/// A fresh folder under the test target dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sweep")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The sweep of the issue: payment error rate 0.1/0.3/0.5 over seeds 1..20, with a
/// predicate that fails every run at 0.5 (goodput about 185/s) and none at 0.1 (330/s).
const SWEEP: &[&str] = &[
    "sweep",
    "--set",
    "services.payment.error_rate=0.1,0.3,0.5",
    "--set",
    "duration=60s",
    "--seeds",
    "1..20",
    "--fail-if",
    "workloads.checkout.goodput_rps < 220",
    "--quiet",
];

fn sweep_into(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = SWEEP.to_vec();
    let dir = dir.to_str().unwrap();
    args.extend(["--out", dir]);
    args.extend(extra);
    run(&args)
}

struct Baseline {
    dir: PathBuf,
    out: Output,
}

/// The uninterrupted, unsharded sweep on two threads, run once for all tests.
fn baseline() -> &'static Baseline {
    static BASE: OnceLock<Baseline> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = scratch("baseline");
        let out = sweep_into(&dir, &["--jobs", "2"]);
        Baseline { dir, out }
    })
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut rows = vec![header];
    for rec in r.records() {
        rows.push(rec.unwrap().iter().map(String::from).collect());
    }
    rows
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_values_over_twenty_seeds_give_sixty_rows_and_exit_3() {
    let b = baseline();
    assert_code(&b.out, 3, "a sweep whose runs fail their predicate");
    assert!(text(&b.out.stderr).contains("20 of 60 runs failed"));
    let rows = csv_rows(&b.dir.join("results.csv"));
    assert_eq!(rows.len(), 61, "header + 60 rows");
    let header = &rows[0];
    assert_eq!(
        header[..3],
        ["services.payment.error_rate", "duration", "seed"]
    );
    for col in [
        "services.api.sojourn_ms.p99",
        "services.payment.arrivals",
        "services.payment.wait_ms.p99",
        "services.orders.dependency_failed",
        "services.api.utilization",
        "workloads.checkout.goodput_rps",
        "workloads.checkout.latency_ms.p99",
        "calls.api->orders.amplification",
        "calls.orders->payment.attempts",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "no column {col}: {header:?}"
        );
    }
    // Sorted by point, then seed.
    let keys: Vec<(String, u64)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[2].parse().unwrap()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| {
        (a.0.parse::<f64>().unwrap(), a.1)
            .partial_cmp(&(b.0.parse::<f64>().unwrap(), b.1))
            .unwrap()
    });
    assert_eq!(keys, sorted);

    let s = json(&b.dir.join("sweep.json"));
    assert_eq!(s["runs"], 60);
    assert_eq!(s["failed"], 20);
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for (p, failed) in points.iter().zip([0, 0, 20]) {
        assert_eq!(p["runs"], 20);
        assert_eq!(p["failed"], failed);
        let g = &p["metrics"]["workloads.checkout.goodput_rps"];
        let (mean, min, max) = (
            g["mean"].as_f64().unwrap(),
            g["min"].as_f64().unwrap(),
            g["max"].as_f64().unwrap(),
        );
        let (lo, hi) = (
            g["ci95"][0].as_f64().unwrap(),
            g["ci95"][1].as_f64().unwrap(),
        );
        assert!(min <= lo && lo < mean && mean < hi && hi <= max, "{g}");
    }
    assert_eq!(points[2]["params"]["services.payment.error_rate"], "0.5");
}

#[test]
fn every_failing_run_is_reproduced_byte_for_byte_by_its_command() {
    let b = baseline();
    let s = json(&b.dir.join("sweep.json"));
    let failures = s["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 20);
    let stdout = text(&b.out.stdout);
    let rows = csv_rows(&b.dir.join("results.csv"));
    let header = &rows[0];
    let scratch = scratch("repro");
    for (i, f) in failures.iter().enumerate() {
        let repro = f["repro"].as_str().unwrap();
        assert!(stdout.contains(repro), "the sweep prints {repro}");
        assert!(repro.starts_with("platsim run --seed "), "{repro}");
        // Run it as a user would paste it (with platsim being this binary).
        let out_dir = scratch.join(i.to_string());
        let cmd = format!(
            "'{}'{} --quiet --out '{}'",
            env!("CARGO_BIN_EXE_platsim"),
            repro.strip_prefix("platsim").unwrap(),
            out_dir.display()
        );
        let out = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
        assert_code(&out, 0, &cmd);
        let saved = b.dir.join(f["summary"].as_str().unwrap());
        same_file(&out_dir.join("summary.json"), &saved);
        // ...and its row of results.csv holds the same numbers as that summary.
        let seed = f["seed"].as_u64().unwrap().to_string();
        let rate = f["params"]["services.payment.error_rate"].as_str().unwrap();
        let row = rows[1..]
            .iter()
            .find(|r| r[0] == rate && r[2] == seed)
            .expect("the failing run has a row");
        let summary = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
        for (col, cell) in flatten(&summary).unwrap() {
            let at = header.iter().position(|h| *h == col).unwrap();
            assert_eq!(row[at], cell, "{col} of {repro}");
        }
    }
}

#[test]
fn jobs_1_writes_the_same_bytes_as_jobs_2() {
    let b = baseline();
    let dir = scratch("jobs1");
    let out = sweep_into(&dir, &["--jobs", "1"]);
    assert_code(&out, 3, "--jobs 1");
    same_file(&dir.join("results.csv"), &b.dir.join("results.csv"));
    same_file(&dir.join("sweep.json"), &b.dir.join("sweep.json"));
}

#[test]
fn three_merged_shards_equal_the_unsharded_sweep() {
    let b = baseline();
    let dir = scratch("shards");
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let mut args: Vec<String> = SWEEP.iter().map(|s| s.to_string()).collect();
            args.extend(["--out".into(), dir.display().to_string()]);
            args.extend([
                "--jobs".into(),
                "1".into(),
                "--shard".into(),
                format!("{i}/3"),
            ]);
            platsim()
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in shards {
        assert_eq!(
            child.wait().unwrap().code(),
            Some(3),
            "each shard has failing runs"
        );
    }
    for i in 0..3 {
        let m = json(&dir.join(format!("shard-{i}-of-3/manifest.json")));
        assert_eq!(m["runs"], 20);
        assert_eq!(m["complete"], true);
    }
    let out = run(&["merge", dir.to_str().unwrap(), "--quiet"]);
    assert_code(&out, 3, "merge of shards with failing runs");
    same_file(&dir.join("results.csv"), &b.dir.join("results.csv"));
    same_file(&dir.join("sweep.json"), &b.dir.join("sweep.json"));
    let failures = std::fs::read_dir(dir.join("failures")).unwrap().count();
    assert_eq!(failures, 20, "the failing runs' summaries are gathered");
}

#[test]
fn a_sweep_killed_midway_then_resumed_equals_an_uninterrupted_one() {
    let b = baseline();
    let dir = scratch("killed");
    let mut args: Vec<String> = SWEEP.iter().map(|s| s.to_string()).collect();
    args.extend([
        "--out".into(),
        dir.display().to_string(),
        "--jobs".into(),
        "1".into(),
    ]);
    let mut child = platsim()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = dir.join("runs.jsonl");
    let started = Instant::now();
    while std::fs::read_to_string(&log).map_or(0, |t| t.lines().count()) < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sweep makes progress"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(kept < 60, "killed midway ({kept} runs done)");
    assert!(!dir.join("results.csv").exists(), "killed before the end");
    // A kill can also cut the line being written.
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(br#"{"point":2,"seed":7,"params":{"services.pay"#)
        .unwrap();

    let mut resume = args.clone();
    resume.retain(|a| a != "--quiet");
    resume.push("--resume".into());
    let out = platsim().args(&resume).output().unwrap();
    assert_code(&out, 3, "the resumed sweep");
    assert!(
        text(&out.stdout).contains("already done"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("dropped the last line"),
        "{}",
        text(&out.stderr)
    );
    same_file(&dir.join("results.csv"), &b.dir.join("results.csv"));
    same_file(&dir.join("sweep.json"), &b.dir.join("sweep.json"));
}

const RATES: [&str; 2] = ["--set", "services.payment.error_rate=0.2,0.4"];

/// A small, fast sweep: `seeds` of 5 s runs.
fn small(dir: &Path, seeds: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        "--set",
        "duration=5s",
        "--set",
        "warmup=1s",
        "--seeds",
        seeds,
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ];
    args.extend(extra);
    run(&args)
}

#[test]
fn bad_predicates_are_bad_input_with_a_suggestion() {
    let dir = scratch("bad-predicates");
    for (predicate, message) in [
        (
            "services.api.sojurn_ms.p99 > 500",
            "did you mean \"sojourn_ms\"",
        ),
        ("service.api.ok > 5", "did you mean \"services\""),
        ("services.api.sojourn_ms > 500", "pick one of its fields"),
        ("services.api.ok = 5", "use `==`"),
        ("services.api.ok 5", "no comparison"),
        ("services.api.ok > lots", "only == and != compare text"),
        ("faults.0.verdict > 1", "no index 0"),
    ] {
        let out = small(&dir, "1..3", &[RATES[0], RATES[1], "--fail-if", predicate]);
        assert_code(&out, 2, predicate);
        assert!(
            text(&out.stderr).contains(message),
            "{predicate}: {}",
            text(&out.stderr)
        );
    }
    // Bad grids, seeds and shards too.
    for (flag, value, message) in [
        (
            "--set",
            "services.paymnt.error_rate=0.1",
            "did you mean \"payment\"",
        ),
        (
            "--set",
            "services.payment.error_rate=0.1,7",
            "not a probability",
        ),
        ("--shard", "3/3", "from 0 to 2"),
    ] {
        let out = small(&dir, "1..3", &[flag, value]);
        assert_code(&out, 2, value);
        assert!(
            text(&out.stderr).contains(message),
            "{value}: {}",
            text(&out.stderr)
        );
    }
    let out = small(&dir, "9..1", &[]);
    assert_code(&out, 2, "seeds 9..1");
    assert!(
        text(&out.stderr).contains("range goes down"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn passing_sweeps_exit_0_and_grids_take_ranges_and_ron_values() {
    let dir = scratch("grid");
    let out = run(&[
        "sweep",
        "--set",
        "services.payment.error_rate=0.1..0.3:3",
        "--set",
        "services.orders.calls.0.retry=None,Retry(max_attempts: 2, backoff: None)",
        "--set",
        "duration=5s",
        "--set",
        "warmup=1s",
        "--seeds",
        "4",
        "--fail-if",
        "services.api.sojourn_ms.p99 > 1e9",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_code(&out, 0, "a sweep where nothing fails");
    assert!(
        text(&out.stdout).contains("6 points x 1 seed"),
        "{}",
        text(&out.stdout)
    );
    let rows = csv_rows(&dir.join("results.csv"));
    assert_eq!(rows[0][4], "seed");
    let grid: Vec<(String, String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[4].clone()))
        .collect();
    let retry = "Retry(max_attempts: 2, backoff: None)";
    assert_eq!(
        grid.iter()
            .map(|(a, b, _)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
        [
            ("0.1", "None"),
            ("0.1", retry),
            ("0.2", "None"),
            ("0.2", retry),
            ("0.3", "None"),
            ("0.3", retry)
        ]
    );
    assert!(grid.iter().all(|(_, _, seed)| seed == "4"));
}

#[test]
fn merge_refuses_missing_repeated_foreign_and_unfinished_shards() {
    let a = scratch("merge-a");
    let b = scratch("merge-b");
    for i in 0..2 {
        let shard = format!("{i}/2");
        assert_code(
            &small(&a, "1..3", &[RATES[0], RATES[1], "--shard", &shard]),
            0,
            "shard",
        );
    }
    assert_code(
        &small(&b, "1..4", &[RATES[0], RATES[1], "--shard", "1/2"]),
        0,
        "other sweep",
    );
    let (a0, a1) = (a.join("shard-0-of-2"), a.join("shard-1-of-2"));
    let b1 = b.join("shard-1-of-2");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out_dir = scratch("merge-out");
    for (dirs, message) in [
        (vec![s(&a0)], "missing shard 1/2"),
        (vec![s(&a0), s(&a0)], "given twice"),
        (vec![s(&a0), s(&b1)], "different sweeps"),
        (vec![s(&out_dir)], "not a sweep folder"),
    ] {
        let mut args = vec!["merge".to_string()];
        args.extend(dirs.clone());
        args.extend(["--out".to_string(), s(&out_dir)]);
        let out = platsim().args(&args).output().unwrap();
        assert_code(&out, 2, &format!("merge {dirs:?}"));
        assert!(
            text(&out.stderr).contains(message),
            "{dirs:?}: {}",
            text(&out.stderr)
        );
    }
    assert_code(
        &run(&["merge", &s(&a0), &s(&a1), "--quiet"]),
        0,
        "the whole set",
    );
    assert!(a.join("results.csv").exists() && a.join("sweep.json").exists());
    // A shard cut short cannot be merged.
    let log = a1.join("runs.jsonl");
    let text_log = std::fs::read_to_string(&log).unwrap();
    let first = text_log.lines().next().unwrap();
    std::fs::write(&log, format!("{first}\n")).unwrap();
    let out = run(&["merge", &s(&a)]);
    assert_code(&out, 2, "an unfinished shard");
    assert!(
        text(&out.stderr).contains("incomplete"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn resume_refuses_a_folder_of_another_sweep() {
    let dir = scratch("resume-other");
    assert_code(&small(&dir, "1..3", &[]), 0, "first sweep");
    let out = small(&dir, "1..5", &["--resume"]);
    assert_code(&out, 2, "resume with other seeds");
    assert!(
        text(&out.stderr).contains("other --seeds"),
        "{}",
        text(&out.stderr)
    );
    // Resuming a finished sweep runs nothing and writes the same tables.
    let before = std::fs::read(dir.join("results.csv")).unwrap();
    let out = small(&dir, "1..3", &["--resume"]);
    assert_code(&out, 0, "resume of a finished sweep");
    assert_eq!(std::fs::read(dir.join("results.csv")).unwrap(), before);
}

#[test]
fn trace_writes_filtered_event_lines_without_changing_the_run() {
    let dir = scratch("trace");
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let base = [
        "run",
        "--set",
        "duration=20s",
        "--set",
        "warmup=1s",
        "--quiet",
    ];
    let plain = run(&[&base[..], &["--out", &d("plain")]].concat());
    assert_code(&plain, 0, "untraced run");
    let traced = run(&[
        &base[..],
        &[
            "--out",
            &d("traced"),
            "--trace",
            &d("t/trace.jsonl"),
            "--trace-filter",
            "service=payment",
            "--trace-from",
            "10s",
            "--trace-to",
            "10.5s",
        ],
    ]
    .concat());
    assert_code(&traced, 0, "traced run");
    same_file(
        &dir.join("plain/summary.json"),
        &dir.join("traced/summary.json"),
    );
    let trace = std::fs::read_to_string(dir.join("t/trace.jsonl")).unwrap();
    let mut events = std::collections::BTreeSet::new();
    let lines: Vec<&str> = trace.lines().collect();
    assert!(lines.len() > 100, "{} lines", lines.len());
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        let t = v["t_s"].as_f64().unwrap();
        assert!((10.0..10.5).contains(&t), "{line}");
        assert_eq!(v["service"], "payment", "{line}");
        assert!(v["request"].is_u64(), "{line}");
        events.insert(v["event"].as_str().unwrap().to_string());
    }
    assert!(
        events.contains("arrival") && events.contains("ok") && events.contains("error"),
        "{events:?}"
    );

    let out = run(&[
        &base[..],
        &[
            "--out",
            &d("bad"),
            "--trace",
            &d("bad.jsonl"),
            "--trace-filter",
            "service=paymnt",
        ],
    ]
    .concat());
    assert_code(&out, 2, "unknown service in a trace filter");
    assert!(
        text(&out.stderr).contains("did you mean \"payment\""),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 17: a million-value `--set` list starts at once. The probe runs one point per
/// shape of value and axis end instead of all million (it took minutes), so the value out
/// of range at the list's end is refused before any run, and a one-run shard of the
/// million points finishes.
#[test]
fn a_million_value_list_starts_at_once_and_its_bad_end_is_refused_before_any_run() {
    let dir = scratch("million");
    let out = small(
        &dir,
        "1",
        &["--set", "services.payment.error_rate=0..2:1000000"],
    );
    assert_code(&out, 2, "error rates up to 2");
    let err = text(&out.stderr);
    assert!(
        err.contains("sweep point 999999 (") && err.contains("not a probability"),
        "{err}"
    );
    assert!(!dir.join("runs.jsonl").exists(), "refused before any run");
    let out = small(
        &dir,
        "1",
        &[
            "--set",
            "services.payment.error_rate=0..0.5:1000000",
            "--shard",
            "0/1000000",
        ],
    );
    assert_code(&out, 0, "one run of a million points");
    let rows = csv_rows(&dir.join("shard-0-of-1000000").join("results.csv"));
    assert_eq!(rows.len(), 2, "a header and one run");
}
