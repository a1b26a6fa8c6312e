//! Issue 18: every reproducer found by fuzzing, each a regression test named after it,
//! and the guarantees that outputs are never torn: a `kill -9` at any point of `run`,
//! `sweep` or `merge` leaves the previous complete output or a folder every reader knows
//! is incomplete, `--resume` loses no finished run, and two writers never share a folder.

use super::common::{assert_code, platsim, text};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const FOOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/food-ordering.ron");

/// A valid scenario that runs in a few milliseconds.
const TINY: &str = r#"Scenario(
    name: "tiny",
    duration: "20s",
    services: [
        Service(name: "api", concurrency: 4, service_time: Exponential(mean: "5ms"),
                calls: [Call(to: "db", dependency: Hard, timeout: Some("1s"))]),
        Service(name: "db", concurrency: 4, service_time: Exponential(mean: "10ms")),
    ],
    workload: [Open(name: "w", target: "api", rate: 100.0)],
)"#;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    platsim()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("platsim starts")
}

/// A scratch folder with `tiny.ron` in it.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tiny.ron");
    std::fs::write(&file, TINY).unwrap();
    (dir, file)
}

/// Exit code 2 and stderr holding every one of `needles`.
#[track_caller]
fn refused(out: &Output, needles: &[&str], what: &str) {
    assert_code(out, 2, what);
    let err = text(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{what}: expected {n:?} in:\n{err}");
    }
}

fn food(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![args[0], FOOD];
    all.extend(&args[1..]);
    run_in(dir.path(), &all)
}

#[test]
fn breaker_time_window_40000d_is_refused_not_an_abort() {
    let out = food(&[
        "check",
        "--set",
        r#"services.api.calls.0.breaker=Some(Breaker(window: Time("40000d")))"#,
    ]);
    refused(
        &out,
        &[
            "services[0].calls[0].breaker.window",
            "40000d",
            "longest time window, 1d",
        ],
        "a 40000-day breaker window",
    );
}

#[test]
fn breaker_count_window_4294967295_is_refused_not_an_abort() {
    let out = food(&[
        "check",
        "--set",
        "services.api.calls.0.breaker=Some(Breaker(window: Count(4294967295)))",
    ]);
    refused(
        &out,
        &["breaker.window: 4294967295 calls is more than 1000000"],
        "a 2^32-1 call window",
    );
}

#[test]
fn half_open_calls_4294967295_is_refused_not_an_abort() {
    let out = food(&[
        "check",
        "--set",
        "services.api.calls.0.breaker=Some(Breaker(half_open_calls: 4294967295))",
    ]);
    refused(
        &out,
        &["breaker.half_open_calls: 4294967295 calls"],
        "half_open_calls",
    );
}

#[test]
fn max_rows_18446744073709551615_and_100000000_are_refused() {
    for rows in ["18446744073709551615", "100000000"] {
        let out = food(&["run", "--max-rows", rows]);
        refused(&out, &["--max-rows", "1..=100000"], rows);
    }
}

#[test]
fn check_refuses_rate_1e12_above_the_documented_1e9() {
    let out = food(&["check", "--set", "workload.checkout.rate=1e12"]);
    refused(
        &out,
        &["workload[0].rate", "above the most platsim simulates, 1e9"],
        "1e12",
    );
}

#[test]
fn rate_1e9_fails_at_once_not_after_15_minutes() {
    let started = Instant::now();
    let out = food(&["run", "--set", "workload.checkout.rate=1e9"]);
    refused(
        &out,
        &[
            "workload \"checkout\" alone brings about 2.4e11 arrivals in 10m",
            "--max-events",
        ],
        "1e9 per second",
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused up front"
    );
}

#[test]
fn layers_skips_no_validation_error_rate_2_and_self_calls() {
    let out = food(&["layers", "--set", "services.api.error_rate=2"]);
    refused(
        &out,
        &["services[0].error_rate: 2 is not a probability"],
        "error_rate 2",
    );
    let out = food(&[
        "layers",
        "--set",
        r#"services.api.calls=[Call(to: "api", dependency: Hard)]"#,
    ]);
    refused(&out, &["\"api\" calls itself"], "a self-call");
    assert!(!text(&out.stdout).contains("Soft"), "no advice about it");
}

#[test]
fn scenario_named_dot_dot_writes_under_output() {
    let (dir, file) = scratch();
    let text_dd = TINY.replace("\"tiny\"", "\"..\"");
    std::fs::write(&file, text_dd).unwrap();
    let out = run_in(dir.path(), &["run", "tiny.ron", "--quiet"]);
    assert_code(&out, 0, "a scenario named ..");
    assert!(
        !dir.path().join("seed-1").exists(),
        "nothing outside output/"
    );
    assert!(dir.path().join("output/__/seed-1/summary.json").is_file());
}

#[test]
fn utf8_bom_file_is_accepted() {
    let (dir, file) = scratch();
    std::fs::write(&file, format!("\u{feff}{TINY}")).unwrap();
    assert_code(&run_in(dir.path(), &["check", "tiny.ron"]), 0, "BOM");
}

#[test]
fn nan_in_the_file_is_blamed_on_the_file_not_on_the_set() {
    let (dir, file) = scratch();
    let nan = TINY.replace(
        "Exponential(mean: \"10ms\"))",
        "Exponential(mean: \"10ms\"), error_rate: NaN)",
    );
    std::fs::write(&file, nan).unwrap();
    let out = run_in(
        dir.path(),
        &["check", "tiny.ron", "--set", "services.api.replicas=2"],
    );
    refused(
        &out,
        &["services.1.error_rate: is NaN or infinite in the scenario file"],
        "NaN",
    );
    let err = text(&out.stderr);
    assert!(!err.contains("--set services.api.replicas"), "{err}");
    assert!(err.contains("1 problem found"), "only the NaN: {err}");
}

#[test]
fn a_huge_value_is_not_echoed_whole() {
    let (dir, _) = scratch();
    // 100,000 characters: about the most one argument may hold (MAX_ARG_STRLEN is 128 KiB).
    let set = format!("services.api.error_rate={}", "x".repeat(100_000));
    let out = run_in(dir.path(), &["check", "tiny.ron", "--set", &set]);
    refused(&out, &["(100000 characters)"], "a huge value");
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes of message",
        out.stderr.len()
    );
}

#[test]
fn limit_errors_print_human_durations_not_nanoseconds() {
    let (dir, _) = scratch();
    let out = run_in(
        dir.path(),
        &["run", "tiny.ron", "--max-events", "2345", "--quiet"],
    );
    refused(&out, &["more than 2345 events by "], "max-events");
    let err = text(&out.stderr);
    assert!(!err.contains("ns of virtual time"), "{err}");
    assert!(err.contains("s of virtual time"), "{err}");
}

#[test]
fn out_naming_a_file_says_so_not_os_error_17() {
    let (dir, _) = scratch();
    std::fs::write(dir.path().join("afile"), "").unwrap();
    let out = run_in(dir.path(), &["run", "tiny.ron", "--out", "afile"]);
    refused(&out, &["afile: it is a file, not a folder"], "--out a file");
    assert!(!text(&out.stderr).contains("os error"));
}

#[test]
fn jobs_100000_is_refused_at_once() {
    let (dir, _) = scratch();
    let started = Instant::now();
    let out = run_in(dir.path(), &["sweep", "tiny.ron", "--jobs", "100000"]);
    refused(&out, &["--jobs", "0..=1024"], "--jobs 100000");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn seed_minus_1_does_not_suggest_dash_dash() {
    let (dir, _) = scratch();
    let out = run_in(dir.path(), &["run", "tiny.ron", "--seed", "-1"]);
    refused(
        &out,
        &["`-1` is not a seed: seeds are whole numbers"],
        "--seed -1",
    );
    assert!(!text(&out.stderr).contains("-- -1"));
}

#[test]
fn unwritable_out_and_a_300_character_name_exit_2() {
    let (dir, _) = scratch();
    let long = "n".repeat(300);
    let out = run_in(dir.path(), &["run", "tiny.ron", "--quiet", "--out", &long]);
    refused(&out, &["too long"], "a 300-character --out");
    let name = format!("name=\"{long}\"");
    let out = run_in(dir.path(), &["run", "tiny.ron", "--quiet", "--set", &name]);
    assert_code(
        &out,
        0,
        "a 300-character scenario name is shortened for its folder",
    );
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o500);
    std::fs::set_permissions(&ro, perms).unwrap();
    let out = run_in(dir.path(), &["run", "tiny.ron", "--quiet", "--out", "ro/x"]);
    // Root may write anyway; anyone else gets exit 2, never 1.
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn compound_durations_1m30s_and_trace_to_5m1s_are_accepted() {
    let (dir, _) = scratch();
    let out = run_in(
        dir.path(),
        &["check", "tiny.ron", "--set", "duration=1m30s"],
    );
    assert_code(&out, 0, "1m30s");
    assert!(text(&out.stdout).contains("1m30s") || text(&out.stdout).contains("90s"));
    let out = run_in(
        dir.path(),
        &[
            "run",
            "tiny.ron",
            "--quiet",
            "--trace",
            "t.jsonl",
            "--trace-from",
            "1s",
            "--trace-to",
            "5m1s",
        ],
    );
    assert_code(&out, 0, "--trace-to 5m1s");
}

#[test]
fn two_writers_sharing_one_out_the_second_is_refused() {
    let (dir, _) = scratch();
    let out_dir = dir.path().join("shared");
    let held = platsim::report::files::Lock::take(&out_dir, "test").unwrap();
    let out = run_in(dir.path(), &["run", "tiny.ron", "--out", "shared"]);
    refused(
        &out,
        &["another platsim is writing there now"],
        "a second run",
    );
    let out = run_in(
        dir.path(),
        &["sweep", "tiny.ron", "--out", "shared", "--quiet"],
    );
    refused(
        &out,
        &["another platsim is writing there now"],
        "a second sweep",
    );
    drop(held);
    let out = run_in(
        dir.path(),
        &["run", "tiny.ron", "--out", "shared", "--quiet"],
    );
    assert_code(&out, 0, "the lock died with its holder");
}

/// `kill -9` at many points of a run that replaces an earlier run's folder: every time,
/// the folder is either whole (all files from one run) or marked INCOMPLETE, which
/// `chart` refuses with exit 2.
#[test]
fn run_killed_at_any_point_leaves_old_output_or_an_incomplete_folder() {
    let (dir, file) = scratch();
    std::fs::write(&file, TINY.replace("\"20s\"", "\"10m\"")).unwrap();
    let whole = |seed: &str| {
        let d = dir.path().join(format!("whole-{seed}"));
        let out = run_in(
            dir.path(),
            &[
                "run",
                "tiny.ron",
                "--seed",
                seed,
                "--quiet",
                "--out",
                d.to_str().unwrap(),
            ],
        );
        assert_code(&out, 0, "a whole run");
        d
    };
    let (one, two) = (whole("1"), whole("2"));
    let files = [
        "summary.json",
        "timeseries.csv",
        "latency.csv",
        "command.txt",
    ];
    let same = |a: &Path, b: &Path| {
        files
            .iter()
            .all(|f| std::fs::read(a.join(f)).ok() == std::fs::read(b.join(f)).ok())
    };
    let target = dir.path().join("out");
    let mut seen_incomplete = false;
    for step in 0..12u64 {
        // The folder starts as seed 1's whole output.
        let _ = std::fs::remove_dir_all(&target);
        let out = run_in(
            dir.path(),
            &["run", "tiny.ron", "--seed", "1", "--quiet", "--out", "out"],
        );
        assert_code(&out, 0, "seed 1");
        let mut child = platsim()
            .args(["run", "tiny.ron", "--seed", "2", "--quiet", "--out", "out"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(step * step * 3));
        child.kill().unwrap();
        child.wait().unwrap();
        if target
            .join(platsim::report::files::INCOMPLETE_FILE)
            .exists()
        {
            seen_incomplete = true;
            let out = run_in(dir.path(), &["chart", "out", "--quiet"]);
            refused(&out, &["is incomplete"], "chart of a torn folder");
        } else {
            assert!(
                same(&target, &one) || same(&target, &two),
                "step {step}: a folder without the marker is one whole run"
            );
        }
    }
    let _ = seen_incomplete;
}

/// A sweep of `n` seeds of the tiny scenario into `dir`.
fn tiny_sweep(root: &Path, out: &str, extra: &[&str]) -> Output {
    // Not --quiet: the notes on stderr say what --resume kept.
    let mut args = vec![
        "sweep", "tiny.ron", "--seeds", "1..12", "--jobs", "1", "--out", out,
    ];
    args.extend(extra);
    run_in(root, &args)
}

/// Kill a sweep after a few runs, then lose or cut its manifest: `--resume` rebuilds
/// from runs.jsonl, keeps every finished run, and ends byte-identical to an uninterrupted
/// sweep.
#[test]
fn resume_rebuilds_from_runs_jsonl_when_the_manifest_is_missing_or_torn() {
    let (dir, file) = scratch();
    std::fs::write(&file, TINY.replace("\"20s\"", "\"3m\"")).unwrap();
    assert_code(
        &tiny_sweep(dir.path(), "whole", &[]),
        0,
        "the uninterrupted sweep",
    );
    for damage in ["missing", "empty", "cut"] {
        let out_dir = dir.path().join(damage);
        let mut child = platsim()
            .args([
                "sweep", "tiny.ron", "--seeds", "1..12", "--jobs", "1", "--out", damage, "--quiet",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let log = out_dir.join("runs.jsonl");
        let started = Instant::now();
        while std::fs::read_to_string(&log).map_or(0, |t| t.lines().count()) < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the sweep makes progress"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Whole lines only: the kill may have cut the last one, which --resume drops.
        let kept = std::fs::read_to_string(&log).unwrap().matches('\n').count();
        let manifest = out_dir.join("manifest.json");
        match damage {
            "missing" => std::fs::remove_file(&manifest).unwrap(),
            "empty" => std::fs::write(&manifest, "").unwrap(),
            _ => std::fs::write(&manifest, "{\"platsim\": \"0.1").unwrap(),
        }
        if kept < 12 {
            let out = run_in(dir.path(), &["chart", damage, "--quiet"]);
            refused(&out, &["is incomplete"], "chart of a killed sweep");
        }
        let out = tiny_sweep(dir.path(), damage, &["--resume"]);
        assert_code(&out, 0, "the resumed sweep");
        let err = text(&out.stderr);
        assert!(err.contains("rebuilt the sweep's state"), "{damage}: {err}");
        assert!(
            err.contains(&format!("({kept} finished runs kept")),
            "{damage}: {err}"
        );
        for f in ["results.csv", "sweep.json"] {
            assert_eq!(
                std::fs::read(out_dir.join(f)).unwrap(),
                std::fs::read(dir.path().join("whole").join(f)).unwrap(),
                "{damage}: {f}"
            );
        }
        assert!(!out_dir
            .join(platsim::report::files::INCOMPLETE_FILE)
            .exists());
    }
}

#[test]
fn resume_without_a_manifest_refuses_runs_of_another_grid() {
    let (dir, _) = scratch();
    let args = ["--set", "services.db.error_rate=0.1,0.2", "--seeds", "1..2"];
    let out = run_in(
        dir.path(),
        &[&["sweep", "tiny.ron", "--out", "s", "--quiet"][..], &args].concat(),
    );
    assert_code(&out, 0, "a sweep");
    std::fs::remove_file(dir.path().join("s/manifest.json")).unwrap();
    let other = ["--set", "services.db.error_rate=0.3,0.2", "--seeds", "1..2"];
    let out = run_in(
        dir.path(),
        &[
            &["sweep", "tiny.ron", "--out", "s", "--quiet", "--resume"][..],
            &other,
        ]
        .concat(),
    );
    refused(&out, &["not of this sweep"], "another grid");
}

/// A merge stopped mid-write leaves its INCOMPLETE marker (simulated here: the marker is
/// what `merge` writes before its first file); `chart` refuses the folder and says to run
/// the merge again, and running it again makes the folder whole.
#[test]
fn merge_killed_mid_write_is_refused_until_merged_again() {
    let (dir, _) = scratch();
    for shard in ["0/2", "1/2"] {
        let out = run_in(
            dir.path(),
            &[
                "sweep", "tiny.ron", "--seeds", "1..4", "--jobs", "1", "--out", "m", "--shard",
                shard, "--quiet",
            ],
        );
        assert_code(&out, 0, shard);
    }
    assert_code(&run_in(dir.path(), &["merge", "m", "--quiet"]), 0, "merge");
    let marker = dir
        .path()
        .join("m")
        .join(platsim::report::files::INCOMPLETE_FILE);
    assert!(!marker.exists(), "a finished merge removes its marker");
    std::fs::write(&marker, "platsim was writing this folder and did not finish. To make it whole: run the same merge command again\n").unwrap();
    let out = run_in(dir.path(), &["chart", "m", "--quiet"]);
    refused(
        &out,
        &["is incomplete", "run the same merge command again"],
        "chart",
    );
    assert_code(
        &run_in(dir.path(), &["merge", "m", "--quiet"]),
        0,
        "merge again",
    );
    assert!(!marker.exists());
    assert_code(
        &run_in(dir.path(), &["chart", "m", "--quiet"]),
        0,
        "chart of the whole folder",
    );
}
