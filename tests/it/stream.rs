//! Issue 24: stream processing. A windowed count over a topic double-counts the events a
//! crash replays under at-least-once, and counts each once with transactions (offsets and
//! outputs committed together); a hand-timed case pins the exact replay.

use super::common::{assert_code, platsim, run_scenario as run, text};
use platsim::metrics::stream::StreamSummary;

fn scenario() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/events/stream-exactly-once.ron"),
    )
    .expect("the scenario is readable")
}

const EXACTLY_ONCE: &str = "services.counter.consume.stream.guarantee=ExactlyOnce";

/// The numbers in the header of `scenarios/events/stream-exactly-once.ron` (seed 1).
#[test]
fn a_crash_double_counts_under_at_least_once_and_not_with_transactions() {
    let text = scenario();
    let alo = run(&text, &[]);
    let (s, g) = (
        &alo.streams["counter"],
        &alo.topics["clicks"].groups["counter"],
    );
    assert_eq!(s.guarantee, "at_least_once");
    assert_eq!((s.events, s.processed, s.counted), (71_875, 73_185, 71_875));
    assert_eq!(
        (s.double_counted, s.extra_counts, s.missing),
        (1_310, 1_310, 0)
    );
    assert_eq!(
        (s.windows, s.windows_overcounted, s.windows_undercounted),
        (36, 2, 0)
    );
    assert_eq!((s.late_updates, s.late_dropped), (52, 0));
    // Every replayed event that had been processed before the kill is counted twice: the
    // redeliveries are those plus the messages in hand when the consumers died.
    assert_eq!(g.redelivered, 1_315);
    assert_eq!(s.processed - s.events, s.extra_counts);

    let eos = run(&text, &[EXACTLY_ONCE]);
    let s = &eos.streams["counter"];
    assert_eq!(s.guarantee, "exactly_once");
    assert_eq!((s.events, s.processed, s.counted), (71_875, 73_185, 71_875));
    assert_eq!((s.double_counted, s.missing, s.aborted), (0, 0, 1_310));
    assert_eq!((s.windows_overcounted, s.windows_undercounted), (0, 0));
}

/// The claim holds beyond seed 1: double counts under at-least-once, none with
/// transactions, and every received event counted under both.
#[test]
fn transactions_never_double_count_over_seeds() {
    let text = scenario();
    for seed in 2..=4 {
        let seed = format!("seed={seed}");
        let alo = &run(&text, &[&seed]).streams["counter"];
        let eos = &run(&text, &[&seed, EXACTLY_ONCE]).streams["counter"];
        assert!(alo.double_counted > 0, "{seed}: {alo:?}");
        assert_eq!(eos.double_counted, 0, "{seed}: {eos:?}");
        assert_eq!(eos.aborted, alo.extra_counts, "{seed}");
        for s in [alo, eos] {
            assert_eq!(
                s.counted + s.missing + s.late_dropped,
                s.events,
                "{seed}: {s:?}"
            );
        }
    }
}

/// One user clicking every 70 ms exactly (1 ms at web, 69 ms thinking), so click `m`
/// reaches the single partition at 70 x m ms and the counter takes 10 ms on it; offsets
/// are committed every second. At 2.455 s the consumer is killed holding click 35
/// (2.450-2.460 s). The commit at 2 s covered clicks 1..28 (28 done at 1.970 s; 29 comes
/// at 2.030 s), so clicks 29..34 (6) were processed after it and replay, and 35 is
/// delivered again too: 7 redeliveries, 6 double counts, all in window [2 s, 3 s).
const HAND: &str = r#"Scenario(
    name: "stream-hand",
    duration: "10s",
    drain: "10s",
    brokers: [Broker(name: "kafka", topics: [Topic(name: "clicks", partitions: 1)])],
    services: [
        Service(name: "web", service_time: Constant("1ms"),
                publish: [Publish(topic: "clicks")]),
        Service(name: "counter", service_time: Constant("10ms"),
                consume: Some(Consume(topic: "clicks", auto_commit: Some("1s"),
                    stream: Some(Stream(window: Tumbling("1s")))))),
    ],
    workload: [Closed(target: "web", users: 1, think_time: Constant("69ms"))],
    faults: [KillConsumer(target: "counter", at: "2455ms")],
)"#;

fn hand(sets: &[&str]) -> (StreamSummary, u64) {
    let s = run(HAND, sets);
    let redelivered = s.topics["clicks"].groups["counter"].redelivered;
    (s.streams["counter"].clone(), redelivered)
}

#[test]
fn hand_timed_replay_double_counts_exactly_the_uncommitted_events() {
    // 142 clicks: the 142nd reaches the topic at 9.94 s, the next user request would
    // start after the 10 s horizon. Windows [0 s, 1 s) .. [9 s, 10 s): 10.
    let (s, redelivered) = hand(&[]);
    assert_eq!(redelivered, 7);
    assert_eq!((s.events, s.processed), (142, 148));
    assert_eq!((s.double_counted, s.extra_counts, s.missing), (6, 6, 0));
    assert_eq!((s.windows, s.windows_overcounted), (10, 1));

    let (s, _) = hand(&["services.counter.consume.stream.guarantee=ExactlyOnce"]);
    assert_eq!((s.double_counted, s.aborted, s.missing), (0, 6, 0));
    assert_eq!((s.counted, s.windows_overcounted), (142, 0));

    // At-most-once (commit at delivery, no auto-commit): click 35 was committed before
    // it was processed, so it is never counted; nothing replays.
    let (s, redelivered) = hand(&[
        "services.counter.consume.commit=BeforeProcessing",
        "services.counter.consume.auto_commit=None",
    ]);
    assert_eq!(redelivered, 0);
    assert_eq!((s.double_counted, s.missing, s.counted), (0, 1, 141));
    assert_eq!((s.windows_overcounted, s.windows_undercounted), (0, 1));
}

#[test]
fn bad_stream_blocks_name_the_field() {
    let dir = std::env::temp_dir().join(format!("platsim-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.ron");
    let bad = HAND
        .replace(r#"Tumbling("1s")"#, r#"Sliding(size: "1h", slide: "1ms")"#)
        .replace(
            "stream: Some(Stream(window",
            "stream: Some(Stream(allowed_lateness: \"2x\", window",
        );
    std::fs::write(&path, bad).expect("write");
    let out = platsim().arg("check").arg(&path).output().expect("runs");
    assert_code(&out, 2, "check");
    let err = text(&out.stderr);
    assert!(
        err.contains("services[1].consume.stream.window.slide")
            && err.contains("use a longer slide"),
        "{err}"
    );
    assert!(
        err.contains("services[1].consume.stream.allowed_lateness")
            && err.contains("2 problems found"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
