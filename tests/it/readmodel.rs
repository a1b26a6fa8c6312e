//! Issue 24: event sourcing and CQRS. A read model projected from an event log trails it
//! (its lag is the staleness of reads), is rebuilt from the log after a crash (from the
//! last snapshot), and a writer reading it back right after its write can miss its own
//! event; a hand-timed case pins each number.

use super::common::{assert_code, platsim, run_scenario as run, text};
use platsim::metrics::readmodel::ReadModelSummary;

fn scenario() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/events/cqrs.ron"),
    )
    .expect("the scenario is readable")
}

const SNAPSHOTS: &str = "services.order-view.consume.read_model.snapshot_every=Some(1000)";

/// The numbers in the header of `scenarios/events/cqrs.ron` (seed 1).
#[test]
fn a_rebuild_from_the_log_stales_the_read_model_and_snapshots_shorten_it() {
    let text = scenario();
    let s = &run(&text, &[]).read_models["order-view"];
    assert_eq!((s.events, s.applied), (71_875, 71_875));
    assert_eq!((s.rebuilds, s.replayed_events), (5, 42_286));
    // 1 ms an event: the replay time is the replayed events in ms.
    assert!((s.replay_total_s - 42.286).abs() < 1e-9, "{s:?}");
    assert!((s.replay_max_s - 10.254).abs() < 1e-9, "{s:?}");
    assert_eq!(
        (s.read_backs, s.read_your_writes_misses, s.misses_rebuilding),
        (71_875, 3_654, 2_794)
    );
    assert_eq!(
        (
            s.lag_mean_ms.round(),
            s.lag_p99_ms.round(),
            s.lag_max_ms.round()
        ),
        (512.0, 13_650.0, 18_233.0)
    );

    let s = &run(&text, &[SNAPSHOTS]).read_models["order-view"];
    assert_eq!((s.rebuilds, s.replayed_events), (5, 2_286));
    assert!((s.replay_max_s - 0.763).abs() < 1e-9, "{s:?}");
    assert_eq!(
        (s.read_your_writes_misses, s.misses_rebuilding),
        (2_817, 878)
    );
    assert_eq!(
        (
            s.lag_mean_ms.round(),
            s.lag_p99_ms.round(),
            s.lag_max_ms.round()
        ),
        (217.0, 6_419.0, 8_776.0)
    );
}

/// The claim holds beyond seed 1: snapshots shorten every run's replays, and with them
/// the worst lag and the read-backs missed while rebuilding; every event ends applied.
#[test]
fn snapshots_shorten_rebuilds_over_seeds() {
    let text = scenario();
    for seed in 2..=4 {
        let seed = format!("seed={seed}");
        let full = &run(&text, &[&seed]).read_models["order-view"];
        let snap = &run(&text, &[&seed, SNAPSHOTS]).read_models["order-view"];
        assert!(full.rebuilds > 0, "{seed}: {full:?}");
        for s in [full, snap] {
            assert_eq!((s.applied, s.read_backs), (s.events, s.events), "{seed}");
            assert!(s.misses_rebuilding <= s.read_your_writes_misses, "{seed}");
        }
        // After a snapshot every 1,000 events a rebuild replays at most 999 (1 ms each).
        assert!(snap.replay_max_s <= 0.999 + 1e-9, "{seed}: {snap:?}");
        assert!(snap.replayed_events < full.replayed_events, "{seed}");
        assert!(snap.lag_max_ms < full.lag_max_ms, "{seed}");
        assert!(snap.misses_rebuilding < full.misses_rebuilding, "{seed}");
    }
}

/// One writer appending an order event every 70 ms exactly (1 ms at web, 69 ms thinking):
/// event `k` reaches the single partition at 70k ms, the view applies it 10 ms later
/// (lag 10 ms) and its writer reads it back at 70k + 20 ms. Offsets commit every second.
/// At 2.455 s the consumer dies holding event 35; the 2 s commit covered events 1..28.
/// - 29..34 were applied after the commit: lost, though their read-backs (before the
///   kill) saw them.
/// - The rebuild replays the 28 committed events at 10 ms each after the 3 s rebalance:
///   the view answers nothing over [2.455 s, 5.735 s).
/// - From 5.455 s the consumer works through the backlog from event 29, one per 10 ms
///   (event k done at 5,175 + 10k ms): 29..56 apply when the rebuild ends (5.735 s), 57..86
///   as they are done (86 at 6.035 s; 87 arrives after), the rest at 70k + 10 ms again.
///
/// Lags (ms): 84 events at 10, 5,735 - 70k for 29..56, 5,175 - 60k for 57..86: mean
/// 104,670 / 142 = 737.11, max 3,705 (event 29), p99 (141st of 142) 3,635 (event 30).
/// Read-backs that miss: 35..81 (70k + 20 < 5,735: in the rebuild, 47) and 82..85 (read
/// before the backlog reached them, 4): 51.
const HAND: &str = r#"Scenario(
    name: "read-model-hand",
    duration: "10s",
    drain: "10s",
    brokers: [Broker(name: "kafka", topics: [Topic(name: "orders", partitions: 1)])],
    services: [
        Service(name: "web", service_time: Constant("1ms"),
                publish: [Publish(topic: "orders")]),
        Service(name: "view", service_time: Constant("10ms"),
                consume: Some(Consume(topic: "orders", auto_commit: Some("1s"),
                    read_model: Some(ReadModel(replay_per_event: "10ms",
                                               read_after: "20ms"))))),
    ],
    workload: [Closed(target: "web", users: 1, think_time: Constant("69ms"))],
    faults: [KillConsumer(target: "view", at: "2455ms")],
)"#;

fn hand(sets: &[&str]) -> ReadModelSummary {
    run(HAND, sets).read_models["view"].clone()
}

#[test]
fn hand_timed_rebuild_gives_the_lags_and_misses_by_hand() {
    let s = hand(&[]);
    assert_eq!((s.events, s.applied, s.read_backs), (142, 142, 142));
    assert_eq!((s.rebuilds, s.replayed_events), (1, 28));
    assert!((s.replay_total_s - 0.28).abs() < 1e-9, "{s:?}");
    assert!((s.lag_mean_ms - 104_670.0 / 142.0).abs() < 1e-9, "{s:?}");
    assert_eq!((s.lag_p99_ms, s.lag_max_ms), (3_635.0, 3_705.0));
    assert_eq!((s.read_your_writes_misses, s.misses_rebuilding), (51, 47));

    // A snapshot every 10 committed events: the one at 20, then 8 events (80 ms); the
    // view is back at 5.535 s. 29..36 apply then, 37..86 as done: lags sum to
    // 840 + 26,080 + 74,250 = 101,170 ms; max 5,535 - 2,030. Misses: 35..78 in the
    // rebuild (44), 79..85 ahead of the backlog (7).
    let s = hand(&["services.view.consume.read_model.snapshot_every=Some(10)"]);
    assert_eq!((s.rebuilds, s.replayed_events), (1, 8));
    assert!((s.replay_total_s - 0.08).abs() < 1e-9, "{s:?}");
    assert!((s.lag_mean_ms - 101_170.0 / 142.0).abs() < 1e-9, "{s:?}");
    assert_eq!((s.lag_p99_ms, s.lag_max_ms), (3_435.0, 3_505.0));
    assert_eq!((s.read_your_writes_misses, s.misses_rebuilding), (51, 44));
}

#[test]
fn bad_read_model_blocks_name_the_field() {
    let dir = std::env::temp_dir().join(format!("platsim-readmodel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.ron");
    let bad = HAND.replace(
        r#"replay_per_event: "10ms""#,
        r#"snapshot_every: Some(0), replay_per_event: "10x""#,
    );
    std::fs::write(&path, bad).expect("write");
    let out = platsim().arg("check").arg(&path).output().expect("runs");
    assert_code(&out, 2, "check");
    let err = text(&out.stderr);
    assert!(
        err.contains("services[1].consume.read_model.snapshot_every")
            && err.contains("services[1].consume.read_model.replay_per_event")
            && err.contains("2 problems found"),
        "{err}"
    );
    let typo = HAND.replace("read_after", "read_afterr");
    std::fs::write(&path, typo).expect("write");
    let out = platsim().arg("check").arg(&path).output().expect("runs");
    assert_code(&out, 2, "check");
    let err = text(&out.stderr);
    assert!(err.contains("read_after"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
