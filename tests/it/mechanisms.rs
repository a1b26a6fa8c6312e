//! Issue 23: every mechanism and fault kind of the model is shown in a shipped scenario,
//! and the short scenarios of `scenarios/mechanisms/` say what a fresh run gives.
//!
//! - Each `scenarios/mechanisms/*.ron` header states its claims as machine-readable
//!   lines, `// expect: PATH OP NUMBER` (the `--fail-if` syntax, read as "this holds"),
//!   so a claim cannot drift from what the run measures.
//! - The kinds to cover are read from the spec's own enums (their variant names, as
//!   serde lists them), so a new fault kind or mechanism variant fails the coverage test
//!   until a scenario shows it.

use super::common::run_scenario as run;
use crate::common::ron_files;
use platsim::report::summary_json;
use platsim::scenario::{self, Spec};
use platsim::sweep::Predicate;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The variant names of enum `T`, from serde's "unknown variant" message.
fn variants<T: DeserializeOwned>() -> Vec<String> {
    let err = match serde_json::from_str::<T>("\"NoSuchVariant\"") {
        Ok(_) => panic!("NoSuchVariant parsed"),
        Err(e) => e.to_string(),
    };
    let expected = err.split("expected").nth(1).unwrap_or("");
    let names: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!names.is_empty(), "no variants in {err:?}");
    names
}

/// Every `(key, variant)` found in the spec's JSON: a unit variant is a string, a
/// tagged one a one-key object; `key` is the field (or list) that holds it.
fn collect(key: &str, v: &Value, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::String(s) => {
            out.insert((key.to_string(), s.clone()));
        }
        Value::Array(items) => items.iter().for_each(|i| collect(key, i, out)),
        Value::Object(map) => {
            if map.len() == 1 {
                let (tag, _) = map.iter().next().expect("one key");
                out.insert((key.to_string(), tag.clone()));
            }
            for (k, inner) in map {
                collect(k, inner, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_fault_kind_and_mechanism_appears_in_a_shipped_scenario() {
    let mut files = Vec::new();
    ron_files(&scenarios(), &mut files);
    let mut seen = BTreeSet::new();
    let mut fields = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        let spec: Spec =
            scenario::parse(&text, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_value(&spec).expect("spec serializes");
        collect("", &json, &mut seen);
        let mut stack = vec![json];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    for (k, inner) in map {
                        if !matches!(inner, Value::Null | Value::Bool(false)) {
                            fields.insert(k);
                        }
                        stack.push(inner);
                    }
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    // Where each enum is held in a scenario, and its variants.
    let enums: Vec<(&str, Vec<String>)> = vec![
        ("faults", variants::<scenario::FaultSpec>()),
        (
            "concurrency_limit",
            variants::<scenario::ConcurrencyLimitSpec>(),
        ),
        ("durability", variants::<scenario::DurabilitySpec>()),
        ("persistence", variants::<scenario::PersistenceSpec>()),
        ("backoff", variants::<scenario::BackoffSpec>()),
        ("jitter", variants::<scenario::JitterSpec>()),
        ("discipline", variants::<scenario::DisciplineSpec>()),
        ("balancer", variants::<scenario::BalancerSpec>()),
        ("recovery", variants::<scenario::RecoverySpec>()),
        ("fallback", variants::<scenario::FallbackSpec>()),
        ("order", variants::<scenario::OrderSpec>()),
        ("window", variants::<scenario::BreakerWindowSpec>()),
        ("commit", variants::<scenario::CommitSpec>()),
        ("acks", variants::<scenario::AcksSpec>()),
        ("retry_on", variants::<scenario::RetryOnSpec>()),
        ("workload", variants::<scenario::WorkloadSpec>()),
        ("schedule", variants::<scenario::RateChangeSpec>()),
        ("reads", variants::<scenario::ReadsFrom>()),
        ("strategy", variants::<scenario::StrategySpec>()),
        ("on_full", variants::<scenario::OnFullSpec>()),
    ];
    let mut missing: Vec<String> = enums
        .iter()
        .flat_map(|(key, names)| {
            names
                .iter()
                .filter(|n| !seen.contains(&(key.to_string(), n.to_string())))
                .map(move |n| format!("{key}: {n}"))
        })
        .collect();
    // Mechanisms that are optional fields: each set somewhere.
    for field in [
        "rate_limit",
        "local_rate_limit",
        "concurrency_limit",
        "rate_limiter",
        "bulkhead",
        "breaker",
        "retry",
        "budget",
        "throttle",
        "pool",
        "cache",
        "fallback",
        "queue_timeout",
        "drop_expired",
        "deadline",
        "outbox",
        "liveness",
        "readiness",
        "autoscale",
        "nodes",
        "adaptive_timeout",
        "stateful",
        "buffer",
        "read_model",
        "updates",
    ] {
        if !fields.contains(field) {
            missing.push(format!("field {field}"));
        }
    }
    assert!(
        missing.is_empty(),
        "shown in no shipped scenario (add one to scenarios/mechanisms/): {missing:?}"
    );
    // `retry_delay` defaults to "0s": it is shown only where it is not.
    assert!(
        files.iter().any(|f| std::fs::read_to_string(f)
            .expect("readable")
            .lines()
            .any(|l| !l.trim_start().starts_with("//") && l.contains("retry_delay:"))),
        "retry_delay is set in no shipped scenario"
    );
}

/// The `// expect:` claims of a header, parsed.
fn claims(text: &str, file: &str) -> Vec<Predicate> {
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| l.strip_prefix("// expect: "))
        .map(|c| c.parse().unwrap_or_else(|e| panic!("{file}: {c}: {e}")))
        .collect()
}

#[test]
fn every_mechanism_scenario_keeps_its_header_claims() {
    let mut files = Vec::new();
    ron_files(&scenarios().join("mechanisms"), &mut files);
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for f in &files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).expect("readable");
        let expected = claims(&text, &name);
        assert!(!expected.is_empty(), "{name}: no `// expect:` line");
        let s = run(&text, &[]);
        let json: Value = serde_json::from_str(&summary_json(&s)).expect("summary.json");
        for claim in &expected {
            match claim.check(&json) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("{name}: the header claims {claim}, the run disagrees"),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }
}
