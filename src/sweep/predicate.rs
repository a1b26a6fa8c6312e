//! `--fail-if 'PATH OP VALUE'`: when a run of a sweep counts as failed.
//!
//! PATH is a summary.json path, dotted, with map keys and array indices
//! (`services.api.sojourn_ms.p99`, `faults.0.recovered_after_s`, `calls.api->orders.retries`;
//! `faults[0]` works too). OP is one of `>`, `>=`, `<`, `<=`, `==`, `!=`. VALUE is a
//! number, `true`/`false`, or a string for `==`/`!=` (`faults.0.verdict == metastable`).
//!
//! A `null` in the summary means "never" (a fault that never recovered has a null
//! `recovered_after_s`), so it compares as larger than every number:
//! `recovered_after_s > 30` fails the runs that never recovered. A run whose summary lacks
//! the path (a breaker this point does not configure) does not fail; a path that resolves
//! in no run at all is a mistake, reported as bad input.

use crate::scenario::error::did_you_mean;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
        }
    }
}

/// The right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Bool(bool),
    Text(String),
}

/// One `--fail-if` predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub path: String,
    pub op: Op,
    pub value: Operand,
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match &self.value {
            Operand::Number(n) => n.to_string(),
            Operand::Bool(b) => b.to_string(),
            Operand::Text(s) => format!("{s:?}"),
        };
        write!(f, "{} {} {}", self.path, self.op.symbol(), value)
    }
}

impl FromStr for Predicate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "write PATH OP VALUE, e.g. 'services.api.sojourn_ms.p99 > 500' \
                     (OP is one of > >= < <= == !=)";
        let text = s.trim();
        // The operator is the last run of comparison characters outside a quoted value;
        // searching from the right keeps `->` of call keys (`calls.api->orders.retries`)
        // in the path.
        let search_end = match text.strip_suffix('"') {
            Some(inner) => inner.rfind('"').ok_or(format!("`{s}`: unclosed quote"))?,
            None => text.len(),
        };
        let is_op = |c: char| "<>=!".contains(c);
        let end = text[..search_end]
            .rfind(is_op)
            .ok_or(format!("`{s}` has no comparison; {usage}"))?
            + 1;
        let start = text[..end].trim_end_matches(is_op).len();
        let op = match &text[start..end] {
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "=" => return Err(format!("`{s}`: use `==` to compare")),
            other => return Err(format!("`{s}`: unknown comparison `{other}`; {usage}")),
        };
        let path = text[..start].trim();
        let rhs = text[end..].trim();
        if path.is_empty() || path.contains(char::is_whitespace) {
            return Err(format!(
                "`{s}`: `{path}` is not a summary.json path; {usage}"
            ));
        }
        if rhs.is_empty() {
            return Err(format!("`{s}` has nothing to compare with; {usage}"));
        }
        let value = if let Ok(n) = rhs.parse::<f64>() {
            if !n.is_finite() {
                return Err(format!("`{s}`: `{rhs}` is not a finite number"));
            }
            Operand::Number(n)
        } else if let Ok(b) = rhs.parse::<bool>() {
            Operand::Bool(b)
        } else {
            if !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "`{s}`: `{rhs}` is not a number; only == and != compare text"
                ));
            }
            Operand::Text(rhs.trim_matches('"').to_string())
        };
        Ok(Predicate {
            path: path.to_string(),
            op,
            value,
        })
    }
}

/// Where following a path through a summary ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// A leaf value (number, bool, string or null).
    Leaf(&'a Value),
    /// A map key that does not exist: a misspelt path.
    NoKey(String),
    /// Not there in this run, though it may be in others: an index past the end of a
    /// list, or a `null` on the way (an optional section this run does not have).
    Absent(String),
    /// The path ends at a map or list, or steps into a number.
    NotLeaf(String),
}

/// The segments of a path: `a.b[0].c` and `a.b.0.c` are the same.
pub fn segments(path: &str) -> Vec<&str> {
    path.split(['.', '[', ']'])
        .filter(|s| !s.is_empty())
        .collect()
}

/// Follows `path` through `root`.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Lookup<'a> {
    let mut cur = root;
    let mut done = String::new();
    for seg in segments(path) {
        let here = if done.is_empty() {
            "the summary".to_string()
        } else {
            format!("`{done}`")
        };
        cur = match cur {
            Value::Object(map) => match map.get(seg) {
                Some(v) => v,
                None => {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Lookup::NoKey(format!(
                        "{here} has no `{seg}`{}; it has: {}",
                        did_you_mean(seg, keys.iter().copied()),
                        keys.join(", ")
                    ));
                }
            },
            Value::Array(items) => match seg.parse::<usize>() {
                Ok(i) => match items.get(i) {
                    Some(v) => v,
                    None => {
                        return Lookup::Absent(format!(
                            "{here} has {} item(s), so no index {i}",
                            items.len()
                        ))
                    }
                },
                Err(_) => {
                    return Lookup::NoKey(format!(
                        "{here} is a list: address its items by index ({done}.0)"
                    ))
                }
            },
            Value::Null => return Lookup::Absent(format!("{here} is null in this run")),
            _ => return Lookup::NotLeaf(format!("{here} is a value; `{seg}` cannot follow it")),
        };
        if !done.is_empty() {
            done.push('.');
        }
        done.push_str(seg);
    }
    match cur {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            Lookup::NotLeaf(format!(
                "`{path}` is a structure; pick one of its fields: {}",
                keys.join(", ")
            ))
        }
        Value::Array(_) => Lookup::NotLeaf(format!(
            "`{path}` is a list; address one item by index ({path}.0)"
        )),
        leaf => Lookup::Leaf(leaf),
    }
}

impl Predicate {
    /// Checks the predicate against a summary: `Ok(Some(why))` when the run fails it,
    /// `Ok(None)` when it passes or the path is absent from this run, `Err` when the path
    /// is wrong for any run (a misspelt key, a structure, a type mismatch).
    pub fn check(&self, summary: &Value) -> Result<Option<String>, String> {
        let leaf = match lookup(summary, &self.path) {
            Lookup::Leaf(v) => v,
            Lookup::Absent(_) => return Ok(None),
            Lookup::NoKey(why) | Lookup::NotLeaf(why) => {
                return Err(format!("--fail-if '{self}': {why}"))
            }
        };
        let ord = match (leaf, &self.value) {
            (Value::Null, Operand::Number(_)) => Some(std::cmp::Ordering::Greater),
            (Value::Null, _) => None,
            (Value::Number(n), Operand::Number(x)) => n.as_f64().and_then(|n| n.partial_cmp(x)),
            (Value::Bool(b), Operand::Bool(x)) => Some(b.cmp(x)),
            (Value::Bool(b), Operand::Number(x)) => (*b as u8 as f64).partial_cmp(x),
            (Value::String(s), Operand::Text(x)) => Some(s.as_str().cmp(x.as_str())),
            (found, _) => {
                return Err(format!(
                    "--fail-if '{self}': `{}` is {}, which cannot be compared with {}",
                    self.path,
                    describe(found),
                    match self.value {
                        Operand::Number(_) => "a number",
                        Operand::Bool(_) => "true or false",
                        Operand::Text(_) => "text",
                    }
                ))
            }
        };
        let fails = match ord {
            Some(ord) => self.op.holds(ord),
            // null against text or a bool: only "not equal" holds.
            None => self.op == Op::Ne,
        };
        Ok(fails.then(|| format!("{self} (was {})", shown(leaf))))
    }
}

/// Whether `reason`, why a run failed, is the predicate written as `written` failing:
/// [`Predicate::check`] writes the predicate first, then ` (was VALUE)`.
pub fn broke(written: &str, reason: &str) -> bool {
    reason
        .strip_prefix(written)
        .is_some_and(|rest| rest.starts_with(" (was "))
}

/// A summary value as a failure reason quotes it: whole numbers whole, others with four
/// significant digits (`4512`, `0.6843`, `3.6`), not the 16 of a JSON float.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), sig4),
        other => other.to_string(),
    }
}

/// `v` with four significant digits, trailing zeros dropped; tiny values in exponent form.
pub fn sig4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if !(1e-3..1e15).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        Value::String(s) => format!("the text {s:?}"),
        Value::Null => "null".to_string(),
        _ => "a structure".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Predicate {
        s.parse().unwrap()
    }

    fn summary() -> Value {
        json!({
            "services": {"api": {"sojourn_ms": {"p99": 600.0}, "ok": 10}},
            "calls": {"api->orders": {"retries": 3, "breaker": null}},
            "faults": [{"recovered_after_s": null, "verdict": "metastable"},
                       {"recovered_after_s": 12.5, "verdict": "recovered"}],
            "flag": true
        })
    }

    #[test]
    fn failure_values_read_like_numbers() {
        assert_eq!(sig4(4_512.345_678_9), "4512");
        assert_eq!(sig4(0.006_843_21), "0.006843");
        assert_eq!(sig4(3.6), "3.6");
        assert_eq!(sig4(-12.0), "-12");
        assert_eq!(sig4(123_456.7), "123457");
        assert_eq!(sig4(2.5e-7), "2.500e-7");
        assert_eq!(shown(&serde_json::json!(10)), "10");
        assert_eq!(shown(&serde_json::json!(612.345_678_901_234_5)), "612.3");
        let why = p("services.api.sojourn_ms.p99 > 500")
            .check(
                &serde_json::json!({"services": {"api": {"sojourn_ms": {"p99": 612.345_678_9}}}}),
            )
            .unwrap()
            .unwrap();
        assert_eq!(why, "services.api.sojourn_ms.p99 > 500 (was 612.3)");
        assert!(broke("services.api.sojourn_ms.p99 > 500", &why));
        assert!(!broke("services.api.sojourn_ms.p99 > 50", &why));
    }

    #[test]
    fn parses_every_operator_and_keeps_arrows_in_paths() {
        assert_eq!(p("a.b > 5").op, Op::Gt);
        assert_eq!(p("a.b>=5").op, Op::Ge);
        assert_eq!(p("a.b < 5").op, Op::Lt);
        assert_eq!(p("a.b <= 5").op, Op::Le);
        assert_eq!(p("a.b == 5").op, Op::Eq);
        assert_eq!(p("a.b != 5").op, Op::Ne);
        let q = p("calls.api->orders.retries > 2");
        assert_eq!(q.path, "calls.api->orders.retries");
        assert_eq!(q.value, Operand::Number(2.0));
        assert_eq!(
            p("faults.0.verdict == \"a>b\"").value,
            Operand::Text("a>b".into())
        );
    }

    #[test]
    fn bad_predicates_say_how_to_write_one() {
        for (bad, why) in [
            ("a.b 5", "no comparison"),
            ("a.b = 5", "use `==`"),
            ("a.b => 5", "unknown comparison"),
            ("a.b >", "nothing to compare"),
            ("> 5", "not a summary.json path"),
            ("a.b > fast", "only == and != compare text"),
        ] {
            let err = bad.parse::<Predicate>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn compares_numbers_nulls_bools_and_text() {
        let s = summary();
        assert!(p("services.api.sojourn_ms.p99 > 500")
            .check(&s)
            .unwrap()
            .is_some());
        assert!(p("services.api.sojourn_ms.p99 > 600")
            .check(&s)
            .unwrap()
            .is_none());
        assert!(p("services.api.ok >= 10").check(&s).unwrap().is_some());
        assert!(p("calls.api->orders.retries != 3")
            .check(&s)
            .unwrap()
            .is_none());
        // null is "never": larger than any number.
        assert!(p("faults.0.recovered_after_s > 30")
            .check(&s)
            .unwrap()
            .is_some());
        assert!(p("faults[1].recovered_after_s > 30")
            .check(&s)
            .unwrap()
            .is_none());
        assert!(p("faults.0.verdict == metastable")
            .check(&s)
            .unwrap()
            .is_some());
        assert!(p("flag == true").check(&s).unwrap().is_some());
        let why = p("services.api.ok > 5").check(&s).unwrap().unwrap();
        assert_eq!(why, "services.api.ok > 5 (was 10)");
    }

    #[test]
    fn absent_paths_pass_and_wrong_paths_are_errors() {
        let s = summary();
        assert_eq!(p("faults.5.verdict == x").check(&s), Ok(None));
        assert_eq!(
            p("calls.api->orders.breaker.open_s > 1").check(&s),
            Ok(None)
        );
        let err = p("services.apii.ok > 1").check(&s).unwrap_err();
        assert!(err.contains("did you mean \"api\""), "{err}");
        let err = p("services.api.sojourn_ms > 1").check(&s).unwrap_err();
        assert!(err.contains("pick one of its fields: p99"), "{err}");
        let err = p("faults.0.verdict > 1").check(&s).unwrap_err();
        assert!(err.contains("cannot be compared"), "{err}");
    }
}
