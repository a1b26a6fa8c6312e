//! Coverage: a cheap signature of what a run reached, so the search can prefer schedules
//! that reach states no earlier run did (the idea of coverage-guided fuzzers such as AFL,
//! with the platform's states as the "edges").
//!
//! A run's signature is a set of features read from its summary: each counter of trouble
//! (errors, rejections, timeouts, crashes, sheds, lost or duplicated orders, consumer lag,
//! lost publishes, ...) that is non-zero, bucketed by powers of four; each breaker state
//! reached; each fault verdict; each service an outage left down; and which services were
//! in trouble in the same run (`together=a+b`: components down together). List indices
//! are written `*`, so "fault 3 was metastable" and "fault 0 was metastable" are one
//! feature.

use serde_json::Value;
use std::collections::BTreeSet;

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
                    ("never_recovered", Value::Array(names)) => {
                        for n in names.iter().filter_map(Value::as_str) {
                            out.insert(format!("{path}={n}"));
                        }
                    }
                    ("to" | "state", Value::String(s)) => {
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
