//! Network faults on a link between two services (issue 14, item 4), worked out by hand.
//!
//! `api` (1 ms) calls `db` (10 ms) and then `auth` (5 ms), which calls `db` too; every
//! call has a 200 ms timeout and no retry, every service has servers to spare, so a
//! request's sojourn at `api` is fixed: 1 + 10 + (5 + 10) = 26 ms. A fault on the link
//! `api -> db` must change only the attempts on that link (not `auth -> db`), and only
//! those sent during its window (10 s to 20 s).
//!
//! As over TCP (Linux `tc netem` on the link): a lost request or a lost answer is never
//! seen by the caller, whose call timeout fires; a one-way partition drops the packets of
//! one direction, so a call along it is never received, and a call against it is served
//! (its side effects happen) but its answer is lost.

use crate::common::Answers;
use platsim::engine::SimTime;
use platsim::metrics::Outcome;
use platsim::run::run_observed;
use platsim::{model, scenario, Limits, Summary};

fn platform(faults: &str) -> String {
    with_links(faults, "")
}

fn with_links(faults: &str, links: &str) -> String {
    format!(
        r#"Scenario(name: "links", seed: 11, duration: "30s", drain: "2s",
    services: [
        Service(name: "api", concurrency: 1000, service_time: Constant("1ms"),
                calls: [Call(to: "db", timeout: Some("200ms")),
                        Call(to: "auth", timeout: Some("200ms"))]),
        Service(name: "db", concurrency: 1000, service_time: Constant("10ms")),
        Service(name: "auth", concurrency: 1000, service_time: Constant("5ms"),
                calls: [Call(to: "db", timeout: Some("200ms"))]),
    ],
    workload: [Open(target: "api", rate: 100.0)],
    faults: [{faults}],
    links: [{links}],
)"#
    )
}

impl Answers {
    /// `(arrived, sojourn, outcome)` of every request that ended.
    fn requests(&self) -> Vec<(SimTime, SimTime, Outcome)> {
        self.arrived
            .iter()
            .filter_map(|(u, &t)| self.ended.get(u).map(|&(e, o)| (t, e.since(t), o)))
            .collect()
    }
}

fn observe(faults: &str) -> (Summary, Answers) {
    observe_text(platform(faults))
}

fn observe_text(text: String) -> (Summary, Answers) {
    let spec = scenario::parse(&text, "links").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = model::validate(&spec, "links").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut a = Answers::default();
    let s = run_observed(&p, Limits::default(), &mut a).expect("runs");
    (s, a)
}

const MS: u64 = 1_000_000;

/// Where the api's request is when it sends its call to `db`: 1 ms after arrival.
fn sends_in_window(arrived: SimTime) -> bool {
    let sent = arrived.0 + MS;
    (SimTime::from_secs(10).0..SimTime::from_secs(20).0).contains(&sent)
}

#[test]
fn without_faults_every_request_takes_26_ms() {
    let (_, a) = observe("");
    let r = a.requests();
    assert!(r.len() > 2_500, "{}", r.len());
    for (t, soj, o) in r {
        assert_eq!((soj, o), (SimTime(26 * MS), Outcome::Ok), "arrived {t:?}");
    }
}

#[test]
fn link_latency_adds_exactly_its_delay_on_that_link_only_during_its_window() {
    let (s, a) = observe(
        r#"LinkLatency(from: "api", to: "db", at: "10s", duration: "10s", add: Constant("100ms"))"#,
    );
    let (mut slowed, mut plain) = (0, 0);
    for (t, soj, o) in a.requests() {
        // `auth -> db` is another link: +100 ms once, never twice.
        let want = if sends_in_window(t) { 126 } else { 26 };
        assert_eq!((soj, o), (SimTime(want * MS), Outcome::Ok), "arrived {t:?}");
        if want == 126 {
            slowed += 1;
        } else {
            plain += 1;
        }
    }
    assert!(slowed > 800 && plain > 1_500, "{slowed} {plain}");
    // Every call reached the db: the delay is on the wire, nothing is lost.
    assert_eq!(s.services["db"].ok, 2 * (slowed + plain));
}

#[test]
fn a_links_base_latency_adds_to_every_attempt_on_it_and_a_fault_adds_on_top() {
    let link = r#"Link(from: "api", to: "db", latency: Constant("3ms"))"#;
    let fault =
        r#"LinkLatency(from: "api", to: "db", at: "10s", duration: "10s", add: Constant("100ms"))"#;
    let (_, a) = observe_text(with_links(fault, link));
    for (t, soj, o) in a.requests() {
        // 26 ms + 3 ms on `api -> db`, not on `auth -> db`; + 100 ms in the window.
        let want = if sends_in_window(t) { 129 } else { 29 };
        assert_eq!((soj, o), (SimTime(want * MS), Outcome::Ok), "arrived {t:?}");
    }
}

#[test]
fn links_name_two_services_once() {
    let bad = |links: &str| {
        let text = with_links("", links);
        let spec = scenario::parse(&text, "links").expect("parses");
        format!(
            "{:?}",
            model::validate(&spec, "links").expect_err("rejected")
        )
    };
    let e = bad(r#"Link(from: "api", to: "auht", latency: Constant("1ms"))"#);
    assert!(
        e.contains("links[0].to") && e.contains(r#"did you mean \"auth\""#),
        "{e}"
    );
    let twice = r#"Link(from: "api", to: "db", latency: Constant("1ms")),
                   Link(from: "api", to: "db", latency: Constant("2ms"))"#;
    let e = bad(twice);
    assert!(
        e.contains("links[1].to") && e.contains("a second link"),
        "{e}"
    );
}

#[test]
fn a_one_way_partition_along_the_call_loses_the_requests_and_the_caller_times_out() {
    let (s, a) =
        observe(r#"Partition(from: "api", to: "db", at: "10s", duration: "10s", one_way: true)"#);
    let mut lost = 0;
    for (t, soj, o) in a.requests() {
        if sends_in_window(t) {
            // Sent at 1 ms, never answered: the 200 ms timeout fails the request.
            assert_eq!(soj, SimTime(201 * MS), "arrived {t:?}");
            assert_ne!(o, Outcome::Ok);
            lost += 1;
        } else {
            assert_eq!((soj, o), (SimTime(26 * MS), Outcome::Ok), "arrived {t:?}");
        }
    }
    assert!(lost > 800, "{lost}");
    let edge = &s.calls["api->db"];
    assert_eq!(edge.attempt_timeouts, lost);
    // Those requests never reached the db: only auth's calls and the others did.
    let db = &s.services["db"];
    // (A request whose db call failed never calls auth.)
    assert_eq!(db.arrivals, 2 * (a.requests().len() as u64 - lost));
}

#[test]
fn a_one_way_partition_against_the_call_loses_only_the_answers() {
    let (s, a) =
        observe(r#"Partition(from: "db", to: "api", at: "10s", duration: "10s", one_way: true)"#);
    let mut lost = 0;
    for (t, soj, o) in a.requests() {
        // The answer leaves db at 1 + 10 ms: its fate depends on when it is sent.
        let answered = t.0 + 11 * MS;
        let cut = (SimTime::from_secs(10).0..SimTime::from_secs(20).0).contains(&answered);
        if cut {
            assert_eq!(soj, SimTime(201 * MS), "arrived {t:?}");
            assert_ne!(o, Outcome::Ok);
            lost += 1;
        } else {
            assert_eq!((soj, o), (SimTime(26 * MS), Outcome::Ok), "arrived {t:?}");
        }
    }
    assert!(lost > 800, "{lost}");
    // The db did the work of every call (its side effects happened), answered or not;
    // `auth -> db` went on as usual.
    let n = a.requests().len() as u64;
    let db = &s.services["db"];
    assert_eq!(db.ok, n + (n - lost));
    assert_eq!(s.calls["api->db"].attempt_timeouts, lost);
    assert_eq!(s.calls["auth->db"].attempt_timeouts, 0);
}

#[test]
fn link_loss_fails_about_its_rate_of_attempts() {
    let (s, a) =
        observe(r#"LinkLoss(from: "api", to: "db", at: "0s", duration: "40s", rate: 0.3)"#);
    let r = a.requests();
    let n = r.len() as f64;
    let failed = r.iter().filter(|x| x.2 != Outcome::Ok).count() as f64;
    for (t, soj, o) in &r {
        let want = if *o == Outcome::Ok { 26 } else { 201 };
        assert_eq!(*soj, SimTime(want * MS), "arrived {t:?}");
    }
    // Binomial(n, 0.3): within 4 standard deviations.
    let sd = (n * 0.3 * 0.7).sqrt();
    assert!(
        (failed - 0.3 * n).abs() < 4.0 * sd,
        "{failed} of {n} lost, expected {}",
        0.3 * n
    );
    assert_eq!(s.calls["api->db"].attempt_timeouts, failed as u64);
    assert_eq!(s.calls["auth->db"].attempt_timeouts, 0);
}

#[test]
fn link_faults_name_two_services_with_suggestions() {
    let bad = |fault: &str| {
        let text = platform(fault);
        let spec = scenario::parse(&text, "links").expect("parses");
        let e = model::validate(&spec, "links").expect_err("rejected");
        format!("{e:?}")
    };
    let e = bad(r#"LinkLoss(from: "apj", to: "db", at: "1s", duration: "1s", rate: 0.5)"#);
    assert!(
        e.contains("faults[0].from") && e.contains(r#"did you mean \"api\""#),
        "{e}"
    );
    let e = bad(
        r#"LinkLatency(from: "api", to: "dbb", at: "1s", duration: "1s", add: Constant("1ms"))"#,
    );
    assert!(
        e.contains("faults[0].to") && e.contains(r#"did you mean \"db\""#),
        "{e}"
    );
    let e = bad(r#"LinkLoss(from: "api", to: "db", at: "1s", duration: "1s", rate: 1.5)"#);
    assert!(e.contains("faults[0].rate"), "{e}");
    let e = bad(r#"LinkLoss(from: "db", to: "db", at: "1s", duration: "1s")"#);
    assert!(e.contains("faults[0].to"), "{e}");
}

/// The figures in `scenarios/resilience/partition.ron`'s header and scenarios/README.md.
#[test]
fn the_partition_scenario_repeats_its_header() {
    let text = include_str!("../../scenarios/resilience/partition.ron");
    let s = crate::common::run_scenario(text, &[]);
    let (c, p) = (&s.services["checkout"], &s.services["payment"]);
    assert_eq!((c.arrivals, c.dependency_failed), (3573, 585));
    assert_eq!(s.calls["checkout->payment"].attempt_timeouts, 1816);
    assert_eq!((p.side_effects, p.duplicate_side_effects), (3569, 1231));
    let s = crate::common::run_scenario(text, &["services.payment.idempotent=true"]);
    let p = &s.services["payment"];
    assert_eq!((p.duplicate_side_effects, p.deduplicated), (0, 1231));
    let s = crate::common::run_scenario(text, &["faults.0.from=checkout", "faults.0.to=payment"]);
    let p = &s.services["payment"];
    assert_eq!(s.services["checkout"].dependency_failed, 587);
    assert_eq!(
        (p.arrivals, p.ok, p.duplicate_side_effects),
        (2986, 2982, 0)
    );
}
