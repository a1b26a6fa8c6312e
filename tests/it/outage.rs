//! Whole-platform outages and the stores that live through them (issue 14 items 2-4).
//!
//! - `scenarios/events/power-outage.ron` tells its story with hand-computed numbers: an
//!   in-memory broker loses exactly its backlog at the outage, a durable one nothing.
//! - One table per component kind (brokers, job queues per persistence, caches): the
//!   same outage, each row asserting what a power loss costs, measured on outputs. The
//!   rows are meant to fold into the fault x instance x component matrix.
//!
//! Why: an outage that silently spares the broker or the queue makes a design with no
//! durability look as safe as one with it: the worst kind of plausible wrong number.

use super::common::run_scenario;
use platsim::{simulate, Limits, Summary};

fn shipped(rel: &str) -> String {
    let path = format!("{}/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn lost_to(s: &Summary, cause: &str) -> u64 {
    let o = s.orders.as_ref().expect("orders");
    o.lost_causes.get(cause).copied().unwrap_or(0)
}

const POWER: &str = "topic orders: held in memory by its broker when the power went (outage)";

#[test]
fn power_outage_scenario_loses_the_in_memory_backlog_and_nothing_when_durable() {
    let text = shipped("events/power-outage.ron");
    // Published at 1, 11, ..., 10,001 ms: 1,001. Processed at 21, ..., 10,001 ms: 500,
    // the 501st in fulfilment's hands, 500 waiting in the topic.
    let s = run_scenario(&text, &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.accepted, o.refused), (2_499, 556), "{o:?}");
    assert_eq!((o.lost, o.completed, o.in_flight), (501, 1_998, 0), "{o:?}");
    assert_eq!(lost_to(&s, POWER), 500, "{o:?}");
    assert_eq!(lost_to(&s, "fulfilment: request ended (crash)"), 1, "{o:?}");
    assert_eq!(s.topics["orders"].restart_lost, 500);
    let s = run_scenario(&text, &["brokers.kafka.durability=Durable"]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.accepted, o.refused), (2_499, 556), "{o:?}");
    assert_eq!((o.lost, o.completed, o.in_flight), (0, 2_499, 0), "{o:?}");
    assert_eq!(s.topics["orders"].groups["fulfilment"].redelivered, 1);
}

#[test]
fn an_outage_filter_names_brokers_with_suggestions() {
    let text = shipped("events/power-outage.ron").replace(
        r#"Outage(at: "10.005s", duration: "5s")"#,
        r#"Outage(at: "10.005s", duration: "5s", brokers: ["kafak"])"#,
    );
    let err = simulate(&text, "t", &[], Limits::default())
        .expect_err("unknown broker")
        .to_string();
    assert!(err.contains("faults[0].brokers[0]"), "{err}");
    assert!(err.contains(r#"did you mean "kafka""#), "{err}");
    // Only the broker: the backlog goes, fulfilment finishes the order in its hands,
    // and the api's 500 publishes (acks=All) while the broker is down fail: refused.
    let only = text.replace("kafak", "kafka");
    let s = run_scenario(&only, &[]);
    let o = s.orders.as_ref().expect("orders");
    assert_eq!((o.lost, o.refused), (500, 500), "{o:?}");
    assert_eq!(lost_to(&s, POWER), 500);
}
