//! Coverage: a cheap signature of what a run reached, so the search can prefer schedules
//! that reach states no earlier run did (the idea of coverage-guided fuzzers such as AFL,
//! with the platform's states as the "edges").
//!
//! A run's signature is a set of features read from its summary: each counter of trouble
//! (errors, rejections, timeouts, crashes, sheds, lost or duplicated orders, consumer lag,
//! lost publishes, ...) that is non-zero, bucketed by powers of four; each breaker state
//! reached; each fault verdict; each service an outage left down; and which services were
//! in trouble in the same run (`together=a+b`); each cause of lost or unacknowledged
//! orders the ledger names. From the time series ([`at_once`]): which services were in
//! trouble in the same window (`at_once=a+b`: components down together, at the same
//! moment) and which had replicas down (`down=a`). List indices are written `*`, so
//! "fault 3 was metastable" and "fault 0 was metastable" are one feature.

use crate::metrics::TimeSeries;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Counters whose size is a state worth telling apart.
const COUNTERS: &[&str] = &[
    "errors",
    "rejected",
    "timeouts",
    "crashed",
    "shed",
    "degraded",
    "dependency_failed",
    "lost",
    "duplicated",
    "in_dlq",
    "refused",
    "lag_max",
    "publish_lost",
    "restart_lost",
    "failover_lost",
    "dropped",
    "redelivered",
    "depth_max",
    "failed",
    "attempt_errors",
    "attempt_rejected",
    "attempt_timeouts",
    "served_by_service",
    "service_failed",
    "breaker_rejected",
    // The order ledger's outcomes and the data layer's anomalies.
    "unanswered",
    "compensated",
    "inconsistent",
    "side_effects_unacknowledged",
    "unacknowledged",
    "duplicate_side_effects",
    "publish_failed",
    "failover_unacked",
    "lost_in_failover",
    "stale_reads",
    "read_your_writes_violations",
    "lag_s_max",
];

/// The features of one run's summary, sorted.
pub fn signature(summary: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(summary, &mut String::new(), &mut out);
    if let Some(services) = summary.get("services").and_then(Value::as_object) {
        let troubled: Vec<&str> = services
            .iter()
            .filter(|(_, s)| {
                COUNTERS
                    .iter()
                    .any(|c| s.get(*c).and_then(Value::as_f64).is_some_and(|x| x > 0.0))
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if troubled.len() >= 2 {
            out.insert(format!("together={}", troubled.join("+")));
        }
    }
    out
}

/// A service's columns in the time series: its name, where its failures per second are
/// (errors, rejections, timeouts, sheds) and where its replicas up are.
type Columns<'a> = (&'a str, [Option<usize>; 4], Option<usize>);

/// Services in trouble in the same window of the time series: `at_once=a+b~n` for each
/// pair, `n` the windows they shared (bucketed). Two faults that each left a trace but
/// never at the same moment are told apart from two that overlapped.
pub fn at_once<'a>(
    series: &TimeSeries,
    services: impl Iterator<Item = &'a str>,
) -> BTreeSet<String> {
    let index = series.index();
    let cols: Vec<Columns> = services
        .map(|name| {
            let c = |m: &str| index.get(&format!("{name}.{m}"));
            (
                name,
                [
                    c("errors_rps"),
                    c("rejected_rps"),
                    c("timeouts_rps"),
                    c("shed_rps"),
                ],
                c("replicas_up"),
            )
        })
        .collect();
    let first: Vec<f64> = match series.rows().next() {
        Some(row) => cols
            .iter()
            .map(|(_, _, up)| up.map_or(0.0, |u| row[u]))
            .collect(),
        None => return BTreeSet::new(),
    };
    let mut pairs: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut downs: BTreeMap<usize, u64> = BTreeMap::new();
    let mut troubled = Vec::new();
    for row in series.rows() {
        troubled.clear();
        for (i, (_, bad, up)) in cols.iter().enumerate() {
            let failing = bad.iter().flatten().any(|&c| row[c] > 0.0);
            let down = up.is_some_and(|u| row[u] < first[i]);
            if down {
                *downs.entry(i).or_default() += 1;
            }
            if failing || down {
                troubled.push(i);
            }
        }
        for (x, &a) in troubled.iter().enumerate() {
            for &b in &troubled[x + 1..] {
                *pairs.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut out: BTreeSet<String> = pairs
        .into_iter()
        .map(|((a, b), n)| format!("at_once={}+{}~{}", cols[a].0, cols[b].0, bucket(n as f64)))
        .collect();
    out.extend(
        downs
            .into_iter()
            .map(|(a, n)| format!("down={}~{}", cols[a].0, bucket(n as f64))),
    );
    out
}

/// The services that took over while the added faults were on: each whose arrivals in
/// the windows a fault overlapped are more than twice (and 1/s above) those in the
/// windows none did, as a fallback provider, a standby or a surviving consumer takes the
/// load a faulted component drops. Lineage-driven fault injection (Alvaro et al., SIGMOD
/// 2015) looks for the same thing, what made the outcome survive a fault, and faults it
/// next.
pub fn absorbers<'a>(
    series: &TimeSeries,
    window_ms: u64,
    services: impl Iterator<Item = &'a str>,
    faults: &[super::Fault],
) -> Vec<String> {
    let window_ms = window_ms.max(1);
    let index = series.index();
    let hit: Vec<bool> = (0..series.row_count() as u64)
        .map(|i| {
            let (start, end) = (i * window_ms, (i + 1) * window_ms);
            faults
                .iter()
                .any(|f| f.at_ms < end && f.at_ms + f.duration_ms.max(1) > start)
        })
        .collect();
    let mut out = Vec::new();
    for name in services {
        let Some(c) = index.get(&format!("{name}.arrivals_rps")) else {
            continue;
        };
        let (mut on, mut n_on, mut off, mut n_off) = (0.0, 0u32, 0.0, 0u32);
        for (row, &h) in series.rows().zip(&hit) {
            if h {
                on += row[c];
                n_on += 1;
            } else {
                off += row[c];
                n_off += 1;
            }
        }
        if n_on == 0 || n_off == 0 {
            continue;
        }
        let (on, off) = (on / f64::from(n_on), off / f64::from(n_off));
        if on > 2.0 * off + 1.0 {
            out.push(name.to_string());
        }
    }
    out
}

fn walk(v: &Value, path: &mut String, out: &mut BTreeSet<String>) {
    let len = path.len();
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "health" || k.ends_with("_ms") {
                    continue;
                }
                push(path, k);
                match (k.as_str(), child) {
                    ("verdict", Value::String(s)) => {
                        out.insert(format!("{path}={s}"));
                    }
                    ("lost_causes" | "unacknowledged_causes", Value::Object(causes)) => {
                        for cause in causes.keys() {
                            out.insert(format!("{path}={cause}"));
                        }
                    }
                    ("never_recovered", Value::Array(names)) => {
                        for n in names.iter().filter_map(Value::as_str) {
                            out.insert(format!("{path}={n}"));
                        }
                    }
                    // A breaker's state; a call's `to` is its callee, not a state.
                    ("to" | "state", Value::String(s)) if path.contains("breaker") => {
                        out.insert(format!("{path}={s}"));
                    }
                    (k, Value::Number(n)) if COUNTERS.contains(&k) => {
                        let x = n.as_f64().unwrap_or(0.0);
                        if x > 0.0 {
                            out.insert(format!("{path}~{}", bucket(x)));
                        }
                    }
                    _ => walk(child, path, out),
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            push(path, "*");
            for item in items.iter().take(super::MAX_LIST) {
                walk(item, path, out);
            }
            path.truncate(len);
        }
        _ => {}
    }
}

/// How near `feature` is to what a check reads: the leading path segments it shares
/// with `path` (a number in `path` matches the `*` of a list), e.g. 3 for
/// `calls.a->b.fallback.served_by_service~4` against `calls.a->b.fallback.service_failed`.
pub fn affinity(feature: &str, path: &str) -> u32 {
    let feature = feature.split(['~', '=']).next().unwrap_or("");
    feature
        .split('.')
        .zip(path.split('.'))
        .take_while(|(f, p)| f == p || (*f == "*" && p.bytes().all(|b| b.is_ascii_digit())))
        .count() as u32
}

fn push(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// 1, 4, 16, 64, ...: the power of four at or below `x` (at least 1).
fn bucket(x: f64) -> u64 {
    let mut b = 1u64;
    while (b * 4) as f64 <= x && b < 1 << 60 {
        b *= 4;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn series(columns: &[&str], rows: &[&[f64]]) -> TimeSeries {
        TimeSeries {
            columns: columns.iter().map(ToString::to_string).collect(),
            values: rows.iter().flat_map(|r| r.iter().copied()).collect(),
        }
    }

    /// Hand-made windows: a errs in 1 and 2; b has a replica down in 1 and 3; c errs in
    /// 2. So a and b were in trouble together once (window 1), a and c once (window 2),
    /// never b and c; b was down twice.
    #[test]
    fn services_in_trouble_in_the_same_window_are_together() {
        let s = series(
            &[
                "a.errors_rps",
                "a.replicas_up",
                "b.errors_rps",
                "b.replicas_up",
                "c.errors_rps",
            ],
            &[
                &[0.0, 2.0, 0.0, 2.0, 0.0],
                &[5.0, 2.0, 0.0, 1.0, 0.0],
                &[3.0, 2.0, 0.0, 2.0, 1.0],
                &[0.0, 2.0, 0.0, 1.0, 0.0],
            ],
        );
        let f: Vec<String> = at_once(&s, ["a", "b", "c"].into_iter())
            .into_iter()
            .collect();
        assert_eq!(f, ["at_once=a+b~1", "at_once=a+c~1", "down=b~1"]);
    }

    /// A fault from 1 s for 1.5 s overlaps the 1 s windows 1 and 2. q, idle otherwise,
    /// takes 32.5/s then (a fallback taking over): it absorbed the fault. p is steady;
    /// r rises from 10 to 15/s, less than twice.
    #[test]
    fn a_service_whose_load_rises_while_faults_are_on_absorbed_them() {
        let s = series(
            &["p.arrivals_rps", "q.arrivals_rps", "r.arrivals_rps"],
            &[
                &[40.0, 0.0, 10.0],
                &[40.0, 30.0, 15.0],
                &[40.0, 35.0, 15.0],
                &[40.0, 0.0, 10.0],
            ],
        );
        let fault = super::super::Fault {
            at_ms: 1000,
            duration_ms: 1500,
            kind: super::super::vocab::Kind::Errors,
            target: super::super::vocab::Target::Service("p".into()),
            severity: 500,
        };
        assert_eq!(
            absorbers(&s, 1000, ["p", "q", "r"].into_iter(), &[fault]),
            ["q"]
        );
    }

    #[test]
    fn affinity_counts_the_segments_shared_with_the_checked_path() {
        let path = "calls.api->payment.fallback.service_failed";
        assert_eq!(
            affinity("calls.api->payment.fallback.served_by_service~4", path),
            3
        );
        assert_eq!(affinity("calls.api->payment.attempt_errors~1", path), 2);
        assert_eq!(affinity("services.payment.errors~16", path), 0);
        assert_eq!(
            affinity("faults.*.verdict=metastable", "faults.0.verdict"),
            3
        );
        assert_eq!(affinity("together=api+db", "orders.lost"), 0);
    }

    #[test]
    fn features_are_nonzero_counters_in_buckets_verdicts_and_states() {
        let s = json!({
            "services": {"api": {"errors": 17, "rejected": 0, "sojourn_ms": {"max": 3.0}},
                         "db": {"timeouts": 1}, "idle": {"errors": 0}},
            "faults": [{"verdict": "metastable"}, {"verdict": "recovered"}],
            "calls": {"a->b": {"breaker": {"transitions": [{"to": "open"}]}}},
            "health": {"slo_breaches": 3}
        });
        let f: Vec<String> = signature(&s).into_iter().collect();
        assert_eq!(
            f,
            [
                "calls.a->b.breaker.transitions.*.to=open",
                "faults.*.verdict=metastable",
                "faults.*.verdict=recovered",
                "services.api.errors~16",
                "services.db.timeouts~1",
                "together=api+db",
            ]
        );
    }
}
