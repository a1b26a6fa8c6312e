//! When a run of a search counts as failed: the user's `--fail-if` predicates, then the
//! built-in invariants, in that order. The first check a run fails names its failure
//! (what a shrink must keep failing).

use crate::sweep::predicate::{lookup, Lookup};
use crate::sweep::Predicate;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A property every platform should keep whatever the faults: switchable with
/// `--invariants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// No accepted order is lost (`orders.lost > 0` fails).
    Lost,
    /// No order's side effect happens twice (`orders.duplicated > 0` fails).
    Duplicated,
    /// Every fault's verdict is not `metastable` (the platform came back after it).
    Metastable,
    /// Every outage ends with every service ready again (`outages.*.never_recovered`
    /// empty): a circle of hard dependencies that never starts fails it.
    Unrecovered,
    /// No SLO is breached (`health.slo_breaches > 0` fails). Off by default: almost every
    /// fault burns some error budget, so it fails nearly every schedule.
    Slo,
}

impl Invariant {
    pub const ALL: [Invariant; 5] = [
        Invariant::Lost,
        Invariant::Duplicated,
        Invariant::Metastable,
        Invariant::Unrecovered,
        Invariant::Slo,
    ];
    /// On unless `--invariants` says otherwise.
    pub const DEFAULT: [Invariant; 4] = [
        Invariant::Lost,
        Invariant::Duplicated,
        Invariant::Metastable,
        Invariant::Unrecovered,
    ];

    fn name(self) -> &'static str {
        match self {
            Invariant::Lost => "lost",
            Invariant::Duplicated => "duplicated",
            Invariant::Metastable => "metastable",
            Invariant::Unrecovered => "unrecovered",
            Invariant::Slo => "slo",
        }
    }

    /// Why `summary` breaks the invariant, if it does.
    fn broken(self, summary: &Value) -> Option<String> {
        let positive = |path: &str| match lookup(summary, path) {
            Lookup::Leaf(Value::Number(n)) if n.as_f64().is_some_and(|v| v > 0.0) => {
                Some(format!("{path} > 0 (was {n})"))
            }
            _ => None,
        };
        match self {
            Invariant::Lost => positive("orders.lost"),
            Invariant::Duplicated => positive("orders.duplicated"),
            Invariant::Slo => positive("health.slo_breaches"),
            Invariant::Metastable => {
                let faults = summary.get("faults")?.as_array()?;
                let i = faults
                    .iter()
                    .position(|f| f.get("verdict").and_then(Value::as_str) == Some("metastable"))?;
                Some(format!("faults.{i}.verdict == \"metastable\""))
            }
            Invariant::Unrecovered => {
                let outages = summary.get("outages")?.as_array()?;
                outages.iter().enumerate().find_map(|(i, o)| {
                    let never = o.get("never_recovered")?.as_array()?;
                    let names: Vec<&str> = never.iter().filter_map(Value::as_str).collect();
                    (!names.is_empty())
                        .then(|| format!("outages.{i}.never_recovered: {}", names.join(", ")))
                })
            }
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Invariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let names = Invariant::ALL.map(Invariant::name);
        Invariant::ALL
            .into_iter()
            .find(|i| i.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "`{s}` is not an invariant{}; write a list of {} or `none`",
                    crate::scenario::error::did_you_mean(s.trim(), names),
                    names.join(", ")
                )
            })
    }
}

/// `--invariants lost,metastable` or `none`.
pub fn parse_invariants(s: &str) -> Result<Vec<Invariant>, String> {
    if s.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut list: Vec<Invariant> = s.split(',').map(str::parse).collect::<Result<_, _>>()?;
    list.sort();
    list.dedup();
    Ok(list)
}

/// One check of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Predicate(Predicate),
    Invariant(Invariant),
}

impl fmt::Display for Check {
    /// The failure's name in tables: the predicate as written, or `invariant NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Predicate(p) => write!(f, "{p}"),
            Check::Invariant(i) => write!(f, "invariant {i}"),
        }
    }
}

impl Check {
    /// Whether the check is about lost orders: its failures are told apart by the
    /// ledger's causes of the loss (a broker restart and a consumer kill are two bugs).
    pub fn about_lost_orders(&self) -> bool {
        match self {
            Check::Predicate(p) => p.path.starts_with("orders.lost"),
            Check::Invariant(i) => *i == Invariant::Lost,
        }
    }

    /// The summary path the check reads (an invariant's list index written `*`).
    pub fn path(&self) -> &str {
        match self {
            Check::Predicate(p) => &p.path,
            Check::Invariant(Invariant::Lost) => "orders.lost",
            Check::Invariant(Invariant::Duplicated) => "orders.duplicated",
            Check::Invariant(Invariant::Slo) => "health.slo_breaches",
            Check::Invariant(Invariant::Metastable) => "faults.*.verdict",
            Check::Invariant(Invariant::Unrecovered) => "outages.*.never_recovered",
        }
    }

    /// Why `summary` fails the check, if it does. A predicate path this run lacks passes
    /// (the baseline run has already refused misspelt paths).
    pub fn failed(&self, summary: &Value) -> Option<String> {
        match self {
            Check::Predicate(p) => p.check(summary).ok().flatten(),
            Check::Invariant(i) => i.broken(summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invariants_parse_as_a_list_and_suggest_on_typos() {
        assert_eq!(
            parse_invariants("metastable,lost,lost").unwrap(),
            vec![Invariant::Lost, Invariant::Metastable]
        );
        assert_eq!(parse_invariants("none").unwrap(), vec![]);
        let err = parse_invariants("lsot").unwrap_err();
        assert!(err.contains("did you mean \"lost\""), "{err}");
    }

    #[test]
    fn each_invariant_reads_its_part_of_the_summary() {
        let s = json!({
            "orders": {"lost": 3, "duplicated": 0},
            "faults": [{"verdict": "recovered"}, {"verdict": "metastable"}],
            "outages": [{"never_recovered": ["a", "b"]}],
            "health": {"slo_breaches": 0}
        });
        assert_eq!(
            Invariant::Lost.broken(&s).unwrap(),
            "orders.lost > 0 (was 3)"
        );
        assert_eq!(Invariant::Duplicated.broken(&s), None);
        assert_eq!(
            Invariant::Metastable.broken(&s).unwrap(),
            "faults.1.verdict == \"metastable\""
        );
        assert_eq!(
            Invariant::Unrecovered.broken(&s).unwrap(),
            "outages.0.never_recovered: a, b"
        );
        assert_eq!(Invariant::Slo.broken(&s), None);
        assert_eq!(Invariant::Lost.broken(&json!({})), None);
    }
}
