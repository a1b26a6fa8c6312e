//! `--set PATH=VALUE`: change one field of a scenario from the command line.
//!
//! Paths follow the scenario's own field names, with list items addressed by name (or by
//! index): `services.payment.error_rate=0.3`, `services.api.calls.0.timeout=2s`,
//! `workload.0.rate=900`, `duration=1h`. Inside a distribution the variant is skipped:
//! `services.api.service_time.mean=20ms`; a whole distribution is replaced in RON:
//! `services.api.service_time=Constant("5ms")`. Sweeps use the same paths.

use super::error::{clip, did_you_mean, Problem, ScenarioError};
use super::spec::RecoverySpec;
use super::spec::{
    AutoscaleSpec, ConsumeSpec, CostSpec, DeploymentSpec, GovernanceSpec, KubeSpec, NodesSpec,
    OrdersSpec, ProbeSpec, PublishSpec, SloSpec, TerminationSpec,
};
use super::spec::{
    BackoffSpec, BalancerSpec, BreakerSpec, BreakerWindowSpec, BulkheadSpec, CacheSpec, CallSpec,
    ConcurrencyLimitSpec, DependencySpec, DisciplineSpec, DistSpec, FallbackSpec, FaultSpec,
    JitterSpec, PoolSpec, RateChangeSpec, RateLimitSpec, RecoveryCheckSpec, RetryBudgetSpec,
    RetryOnSpec, RetrySpec, RetryThrottleSpec, Spec, WritesSpec,
};
use serde_json::Value;
use std::str::FromStr;

/// One `PATH=VALUE` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub path: String,
    pub value: String,
}

impl FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (path, value) = s.split_once('=').ok_or_else(|| {
            format!(
                "`{}` is not PATH=VALUE (e.g. services.payment.error_rate=0.3)",
                clip(s)
            )
        })?;
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("`{}` has no path before `=`", clip(s)));
        }
        Ok(Override {
            path: path.to_string(),
            value: value.trim().to_string(),
        })
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Applies every override to `spec`; reports all that fail at once.
pub fn apply(spec: &Spec, sets: &[Override]) -> Result<Spec, ScenarioError> {
    if sets.is_empty() {
        return Ok(spec.clone());
    }
    let mut doc = serde_json::to_value(spec).expect("a Spec always serializes");
    // JSON has no NaN or infinity: such a number in the file comes back as null, which
    // no --set is to blame for. Name the fields instead.
    if serde_json::from_value::<Spec>(doc.clone()).is_err() {
        return Err(ScenarioError::Invalid {
            origin: "scenario".to_string(),
            problems: non_finite_fields(&doc),
        });
    }
    let mut problems = Vec::new();
    for set in sets {
        let before = doc.clone();
        let result = apply_one(&mut doc, set).and_then(|()| {
            // Check the types now, so that a bad value is blamed on its own flag.
            serde_json::from_value::<Spec>(doc.clone())
                .map(drop)
                .map_err(|e| format!("invalid value `{}`: {e}", clip(&set.value)))
        });
        if let Err(message) = result {
            problems.push(Problem::new(format!("--set {}", set.path), message));
            doc = before;
        }
    }
    if problems.is_empty() {
        return Ok(serde_json::from_value::<Spec>(doc).expect("checked after every --set"));
    }
    Err(ScenarioError::Invalid {
        origin: "command line".to_string(),
        problems,
    })
}

/// The fields of `doc` whose null stands for a NaN or an infinity (setting it to a number
/// changes whether, or how, the spec reads back).
fn non_finite_fields(doc: &Value) -> Vec<Problem> {
    let mut nulls = Vec::new();
    collect_nulls(doc, String::new(), &mut nulls);
    let mut doc = doc.clone();
    let mut problems = Vec::new();
    for (path, pointer) in nulls {
        let mut fixed = doc.clone();
        if let Some(v) = fixed.pointer_mut(&pointer) {
            *v = Value::from(0.0);
        }
        // A number where the null was is read (or the error moves on): it was a number.
        // An absent option holding a struct refuses the number: it was a real null.
        let fits = match serde_json::from_value::<Spec>(fixed.clone()) {
            Ok(_) => true,
            Err(e) => !e.to_string().contains("floating point `0"),
        };
        if fits {
            doc = fixed;
            problems.push(Problem::new(
                path,
                "is NaN or infinite in the scenario file, which no --set can carry; write a finite number there",
            ));
        }
    }
    if problems.is_empty() {
        problems.push(Problem::new(
            "scenario",
            "holds a number that is NaN or infinite; write finite numbers",
        ));
    }
    problems
}

/// Every null in `v`: its `--set` path and its JSON pointer.
fn collect_nulls(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        Value::Null => {
            let pointer = path.split('.').map(|s| format!("/{s}")).collect::<String>();
            out.push((path.clone(), pointer));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_nulls(item, join(&i.to_string()), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_nulls(item, join(k), out);
            }
        }
        _ => {}
    }
}

fn segments(path: &str) -> Vec<String> {
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "workloads" => "workload".to_string(),
            other => other.to_string(),
        })
        .collect()
}

fn apply_one(doc: &mut Value, set: &Override) -> Result<(), String> {
    let segs = segments(&set.path);
    let (last, parents) = segs.split_last().ok_or("empty path")?;
    let mut cur = doc;
    for seg in parents {
        cur = step(cur, seg)?;
    }
    let obj = unwrap_variant_mut(cur, last);
    let Value::Object(map) = obj else {
        return Err(format!("cannot set `{last}` inside a {}", kind(obj)));
    };
    let Some(slot) = map.get_mut(last.as_str()) else {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        return Err(format!(
            "no field `{last}` here{}; fields: {}",
            did_you_mean(last, keys.iter().copied()),
            keys.join(", ")
        ));
    };
    *slot = leaf(last, &set.value, slot)?;
    Ok(())
}

/// Enum variants serialize as `{"Variant": {...}}`; paths skip the variant.
fn unwrap_variant_mut<'a>(v: &'a mut Value, want: &str) -> &'a mut Value {
    let is_wrapper = matches!(v, Value::Object(m) if m.len() == 1
        && !m.contains_key(want)
        && m.keys().all(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
        && m.values().all(Value::is_object));
    if is_wrapper {
        let Value::Object(m) = v else { unreachable!() };
        return m.values_mut().next().expect("one variant");
    }
    v
}

fn step<'a>(cur: &'a mut Value, seg: &str) -> Result<&'a mut Value, String> {
    let cur = unwrap_variant_mut(cur, seg);
    match cur {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            map.get_mut(seg).ok_or_else(|| {
                format!(
                    "no field `{seg}`{}",
                    did_you_mean(seg, keys.iter().map(String::as_str))
                )
            })
        }
        Value::Array(items) => {
            if let Ok(i) = seg.parse::<usize>() {
                let n = items.len();
                return items
                    .get_mut(i)
                    .ok_or_else(|| format!("index {i} is out of range (the list has {n})"));
            }
            find_named(items, seg)
        }
        other => Err(format!("cannot go into `{seg}`: it is a {}", kind(other))),
    }
}

/// The list item whose `name` is `seg` (or, for workloads without names, whose `target` is).
fn find_named<'a>(items: &'a mut [Value], seg: &str) -> Result<&'a mut Value, String> {
    let field = |v: &Value, f: &str| -> Option<String> {
        let inner = match v {
            Value::Object(m) if m.len() == 1 && !m.contains_key("name") => m.values().next()?,
            other => other,
        };
        inner.get(f)?.as_str().map(str::to_string)
    };
    let by = |f: &str| -> Vec<usize> {
        (0..items.len())
            .filter(|&i| field(&items[i], f).as_deref() == Some(seg))
            .collect()
    };
    let mut hits = by("name");
    if hits.is_empty() {
        hits = by("target");
    }
    match hits.as_slice() {
        [i] => Ok(&mut items[*i]),
        [] => {
            let names: Vec<String> = items.iter().filter_map(|v| field(v, "name")).collect();
            Err(format!(
                "nothing named \"{seg}\"{}",
                did_you_mean(seg, names.iter().map(String::as_str))
            ))
        }
        _ => Err(format!("\"{seg}\" matches several items; use an index")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "none",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "structure",
    }
}

/// Parses VALUE for the field `name`, guided by what the field holds now. Structured
/// fields (distributions, retry policies, breakers, ...) are written in RON, as in a
/// scenario file; `None` clears an optional field.
fn leaf(name: &str, text: &str, current: &Value) -> Result<Value, String> {
    // `None` is a variant of these, not an absent value.
    let none_is_variant = matches!(name, "jitter" | "backoff");
    if text.trim() == "None" && !none_is_variant {
        return Ok(Value::Null);
    }
    let text = strip_some(text.trim());
    let unquoted = text.trim_matches('"');
    let typed =
        |r: Result<Value, String>| r.map_err(|e| format!("invalid value `{}`: {e}", clip(text)));
    let structured = matches!(current, Value::Object(_) | Value::Null | Value::Array(_));
    match name {
        "service_time" | "think_time" | "add" => return typed(ron_to_json::<DistSpec>(text)),
        "dependency" => return typed(ron_to_json::<DependencySpec>(unquoted)),
        "balancer" => return typed(ron_to_json::<BalancerSpec>(unquoted)),
        "discipline" => return typed(ron_to_json::<DisciplineSpec>(unquoted)),
        "jitter" => return typed(ron_to_json::<JitterSpec>(unquoted)),
        "backoff" => return typed(ron_to_json::<BackoffSpec>(text)),
        "retry" => return typed(ron_to_json::<RetrySpec>(text)),
        "budget" => return typed(ron_to_json::<RetryBudgetSpec>(text)),
        "throttle" => return typed(ron_to_json::<RetryThrottleSpec>(text)),
        "breaker" => return typed(ron_to_json::<BreakerSpec>(text)),
        "bulkhead" => return typed(ron_to_json::<BulkheadSpec>(text)),
        "pool" => return typed(ron_to_json::<PoolSpec>(text)),
        "cache" => return typed(ron_to_json::<CacheSpec>(text)),
        "fallback" => return typed(ron_to_json::<FallbackSpec>(text)),
        "writes" => return typed(ron_to_json::<WritesSpec>(text)),
        "partitioning" => return typed(ron_to_json::<super::PartitioningSpec>(text)),
        "rebalance" => return typed(ron_to_json::<super::RebalanceSpec>(text)),
        "strategy" => return typed(ron_to_json::<super::StrategySpec>(unquoted)),
        "stale" => return typed(ron_to_json::<super::StaleSpec>(text)),
        "scheme" => return typed(ron_to_json::<super::SchemeSpec>(unquoted)),
        "outage" => return typed(ron_to_json::<super::OutageSpec>(text)),
        "moves" => return typed(ron_to_json::<Vec<super::KeyMoveSpec>>(text)),
        "rate_limit" => return typed(ron_to_json::<RateLimitSpec>(text)),
        "concurrency_limit" => return typed(ron_to_json::<ConcurrencyLimitSpec>(text)),
        "recovery_check" => return typed(ron_to_json::<RecoveryCheckSpec>(text)),
        "recovery" => return typed(ron_to_json::<RecoverySpec>(text)),
        "startup" => return typed(ron_to_json::<DistSpec>(text)),
        "startup_deps" => return typed(ron_to_json::<Vec<String>>(text)),
        "retry_on" | "record_on" | "ignore_on" => {
            return typed(ron_to_json::<Vec<RetryOnSpec>>(text))
        }
        "schedule" => return typed(ron_to_json::<Vec<RateChangeSpec>>(text)),
        "faults" => return typed(ron_to_json::<Vec<FaultSpec>>(text)),
        "links" => return typed(ron_to_json::<Vec<super::spec::LinkSpec>>(text)),
        "calls" => return typed(ron_to_json::<Vec<CallSpec>>(text)),
        "deployments" => return typed(ron_to_json::<Vec<DeploymentSpec>>(text)),
        "nodes" => return typed(ron_to_json::<NodesSpec>(text)),
        "orders" => return typed(ron_to_json::<OrdersSpec>(text)),
        "autoscale" => return typed(ron_to_json::<AutoscaleSpec>(text)),
        "kubernetes" => return typed(ron_to_json::<KubeSpec>(text)),
        "pod_startup" => return typed(ron_to_json::<DistSpec>(text)),
        "liveness" | "readiness" => return typed(ron_to_json::<ProbeSpec>(text)),
        "termination" => return typed(ron_to_json::<TerminationSpec>(text)),
        "slo" => return typed(ron_to_json::<SloSpec>(text)),
        "cost" => return typed(ron_to_json::<CostSpec>(text)),
        "governance" => return typed(ron_to_json::<GovernanceSpec>(text)),
        "publish" => return typed(ron_to_json::<Vec<PublishSpec>>(text)),
        "consume" => return typed(ron_to_json::<ConsumeSpec>(text)),
        "window" if structured => return typed(ron_to_json::<BreakerWindowSpec>(text)),
        _ => {}
    }
    match current {
        Value::Number(n) if n.is_u64() || n.is_i64() => unquoted
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| format!("`{}` is not a whole number of zero or more", clip(text))),
        Value::Number(_) => unquoted
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{}` is not a finite number", clip(text))),
        Value::Bool(_) => unquoted
            .parse::<bool>()
            .map(Value::Bool)
            .map_err(|_| format!("`{}` is not true or false", clip(text))),
        Value::Null => Ok(match unquoted.parse::<u64>() {
            Ok(n) if name != "timeout" && name != "queue_timeout" => Value::from(n),
            _ => Value::String(unquoted.to_string()),
        }),
        Value::String(_) => Ok(Value::String(unquoted.to_string())),
        other => Err(format!(
            "cannot set a whole {} from the command line; set one of its fields",
            kind(other)
        )),
    }
}

fn strip_some(text: &str) -> &str {
    text.strip_prefix("Some(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
}

fn ron_to_json<T: serde::de::DeserializeOwned + serde::Serialize>(
    text: &str,
) -> Result<Value, String> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let value: T = options
        .from_str(text)
        .map_err(|e| super::load::describe(&e.code))?;
    serde_json::to_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    fn spec() -> Spec {
        parse(
            r#"Scenario(name: "t", duration: "1m", services: [
                Service(name: "api", service_time: Exponential(mean: "5ms"),
                        calls: [Call(to: "payment")]),
                Service(name: "payment", service_time: Constant("1ms"))],
              workload: [Open(target: "api", rate: 10.0)])"#,
            "t",
        )
        .unwrap()
    }

    fn set(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn sets_fields_by_service_name() {
        let out = apply(&spec(), &[set("services.payment.error_rate=0.3")]).unwrap();
        assert_eq!(out.services[1].error_rate, 0.3);
        let out = apply(&spec(), &[set("services.api.calls.0.timeout=2s")]).unwrap();
        assert_eq!(out.services[0].calls[0].timeout.as_deref(), Some("2s"));
        let out = apply(&spec(), &[set("services[1].queue_capacity=10")]).unwrap();
        assert_eq!(out.services[1].queue_capacity, Some(10));
    }

    #[test]
    fn sets_inside_and_whole_distributions() {
        let out = apply(&spec(), &[set("services.api.service_time.mean=20ms")]).unwrap();
        assert_eq!(
            out.services[0].service_time,
            DistSpec::Exponential {
                mean: "20ms".into()
            }
        );
        let out = apply(
            &spec(),
            &[set(r#"services.api.service_time=Constant("2ms")"#)],
        )
        .unwrap();
        assert_eq!(
            out.services[0].service_time,
            DistSpec::Constant("2ms".into())
        );
    }

    #[test]
    fn sets_workloads_and_top_level_fields() {
        let out = apply(
            &spec(),
            &[set("workload.0.rate=90"), set("duration=1h"), set("seed=9")],
        )
        .unwrap();
        assert_eq!(out.duration, "1h");
        assert_eq!(out.seed, 9);
        match &out.workload[0] {
            crate::scenario::WorkloadSpec::Open { rate, .. } => assert_eq!(*rate, 90.0),
            other => panic!("{other:?}"),
        }
        let out = apply(&spec(), &[set("workload.api.rate=5")]).unwrap();
        assert!(
            matches!(out.workload[0], crate::scenario::WorkloadSpec::Open { rate, .. } if rate == 5.0)
        );
    }

    #[test]
    fn structured_fields_are_written_in_ron_and_none_clears() {
        let out = apply(
            &spec(),
            &[
                set("services.api.calls.0.retry=Retry(max_attempts: 3, backoff: None, retry_on: [Timeout])"),
                set("services.api.calls.0.breaker=Breaker(window: Count(10), min_calls: 5)"),
                set("services.payment.queue_capacity=5"),
            ],
        )
        .unwrap();
        let call = &out.services[0].calls[0];
        assert_eq!(call.retry.as_ref().unwrap().max_attempts, 3);
        assert_eq!(call.breaker.as_ref().unwrap().min_calls, 5);
        let out = apply(&out, &[set("services.payment.queue_capacity=None")]).unwrap();
        assert_eq!(out.services[1].queue_capacity, None);
        let out = apply(
            &out,
            &[set(
                "services.api.calls.0.retry.budget=Budget(percent: 10.0)",
            )],
        )
        .unwrap();
        assert_eq!(
            out.services[0].calls[0]
                .retry
                .as_ref()
                .unwrap()
                .budget
                .as_ref()
                .unwrap()
                .percent,
            10.0
        );
    }

    #[test]
    fn kubernetes_and_messaging_structures_are_written_in_ron() {
        let out = apply(
            &spec(),
            &[
                set("nodes=Some(Nodes(count: 3))"),
                set("services.api.kubernetes=Some(Kube(termination: Abrupt))"),
                set(r#"deployments=[Rollback(service: "api", at: "30s")]"#),
                set(r#"services.payment.slo=Some(Slo(availability: 99.9))"#),
            ],
        )
        .unwrap();
        assert_eq!(out.nodes.as_ref().map(|n| n.count), Some(3));
        assert!(out.services[0].kubernetes.is_some());
        assert_eq!(out.deployments.len(), 1);
        assert!(out.services[1].slo.is_some());
        let out = apply(&out, &[set("deployments=[]"), set("nodes=None")]).unwrap();
        assert!(out.deployments.is_empty() && out.nodes.is_none());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_blamed_on_its_flag() {
        let err = apply(&spec(), &[set("services.api.replicas=99999999999")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--set services.api.replicas: invalid value"),
            "{err}"
        );
    }

    #[test]
    fn reports_every_bad_path_with_a_suggestion() {
        let err = apply(
            &spec(),
            &[
                set("services.paymnt.error_rate=0.3"),
                set("services.api.eror_rate=0.3"),
                set("services.api.replicas=-1"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("3 problems"), "{err}");
        assert!(err.contains("did you mean \"payment\""), "{err}");
        assert!(err.contains("did you mean \"error_rate\""), "{err}");
        assert!(err.contains("whole number"), "{err}");
    }
}
