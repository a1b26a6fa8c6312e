//! Coverage: a cheap signature of what a run reached, so the search can prefer schedules
//! that reach states no earlier run did (the idea of coverage-guided fuzzers such as AFL,
//! with the platform's states as the "edges").
//!
//! A run's signature is a set of features read from its summary: each counter of trouble
//! (errors, rejections, timeouts, crashes, sheds, lost or duplicated orders, consumer lag,
//! lost publishes, ...) that is non-zero, bucketed by powers of four; each breaker state
//! reached; each fault verdict; each service an outage left down. List indices are
//! written `*`, so "fault 3 was metastable" and "fault 0 was metastable" are one feature.

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
    fn features_are_nonzero_counters_in_buckets_verdicts_and_states() {
        let s = json!({
            "services": {"api": {"errors": 17, "rejected": 0, "sojourn_ms": {"max": 3.0}}},
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
            ]
        );
    }
}
