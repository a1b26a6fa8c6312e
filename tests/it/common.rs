//! Helpers every test module needs: the binary, its output, and a scenario run in-process.

use platsim::engine::SimTime;
use platsim::metrics::{OrdersSummary, Outcome};
use platsim::model::ServiceId;
use platsim::run::Observer;
use platsim::scenario::Override;
use platsim::{simulate, Limits, Summary};
use std::collections::BTreeMap;
use std::process::{Command, Output};

/// The `platsim` binary under test.
pub fn platsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_platsim"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code; prints both streams when it differs.
#[track_caller]
pub fn assert_code(out: &Output, want: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(want),
        "{what}: exit code {:?}, expected {want}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `PATH=VALUE` strings as overrides; a malformed one fails the test with its text.
pub fn overrides(sets: &[&str]) -> Vec<Override> {
    sets.iter()
        .map(|s| s.parse().unwrap_or_else(|e| panic!("override {s:?}: {e}")))
        .collect()
}

/// Runs scenario `text` with `sets` applied, as `platsim run` would; fails the test on error.
#[track_caller]
pub fn run_scenario(text: &str, sets: &[&str]) -> Summary {
    simulate(text, "test", &overrides(sets), Limits::default())
        .unwrap_or_else(|e| panic!("{e}\nsets: {sets:?}\n{text}"))
}

/// Every request at the first service (`api` in the fault tests): when it arrived, and
/// when and how it ended. Each test module adds the readings it needs.
#[derive(Default)]
pub struct Answers {
    pub arrived: BTreeMap<u64, SimTime>,
    pub ended: BTreeMap<u64, (SimTime, Outcome)>,
}

impl Observer for Answers {
    fn arrival(&mut self, now: SimTime, s: ServiceId, uid: u64) {
        if s.0 == 0 {
            self.arrived.insert(uid, now);
        }
    }
    fn outcome(&mut self, now: SimTime, s: ServiceId, uid: u64, o: Outcome) {
        if s.0 == 0 {
            self.ended.insert(uid, (now, o));
        }
    }
}

/// The run's order ledger.
pub fn orders(s: &Summary) -> &OrdersSummary {
    s.orders.as_ref().expect("the scenario defines orders")
}

/// The ledger's equations: every accepted order in exactly one fate, every placed one
/// answered or not, every lost one with a cause.
#[track_caller]
pub fn balanced(o: &OrdersSummary) {
    assert_eq!(
        o.accepted,
        o.completed + o.lost + o.in_dlq + o.in_flight + o.compensated + o.inconsistent,
        "ledger equation: {o:?}"
    );
    assert_eq!(o.placed, o.accepted + o.refused + o.unanswered, "{o:?}");
    assert_eq!(o.lost_causes.values().sum::<u64>(), o.lost, "{o:?}");
}

/// Every `.ron` file under `dir`, recursively, added to `found`.
pub fn ron_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            ron_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "ron") {
            found.push(path);
        }
    }
}
