//! From a run's summary.json to the cells of one `results.csv` row.
//!
//! The flattener walks the summary's JSON generically, so every section a later issue
//! adds to the summary (orders, outages, health, ...) becomes columns without touching the
//! sweep. Each leaf (number, bool, string, null) is one column named by its summary.json
//! path (`services.api.sojourn_ms.p99`, `faults.0.recovered_after_s`). Left out:
//! - lists that grow with the run rather than with the scenario (breaker `transitions`,
//!   and any list longer than [`MAX_LIST`]): they would add thousands of sparse columns;
//! - `scenario` and `seed`: the same for every row, or already the row's `seed` column.
//!
//! Cells keep the exact spelling of summary.json (serde_json's shortest round-trip
//! numbers), so a sweep row and the repro run's summary.json agree digit for digit, and
//! a row read back from `runs.jsonl` (resume, merge) is byte-identical to the one written.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Lists longer than this are left out of the table (see the module docs).
pub const MAX_LIST: usize = 64;

/// Keys whose lists are event logs, not metrics.
const SKIPPED_LISTS: &[&str] = &["transitions"];

/// Top-level keys that are not metrics of the row.
const SKIPPED_TOP: &[&str] = &["scenario", "seed"];

/// `(column, cell)` pairs of summary.json text, in the summary's own field order (a
/// `serde_json::Value` would sort the keys alphabetically).
pub fn flatten(summary_json: &str) -> Result<Vec<(String, String)>, String> {
    let root: Node = serde_json::from_str(summary_json).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Node::Map(entries) = root {
        for (key, node) in &entries {
            if !SKIPPED_TOP.contains(&key.as_str()) {
                walk(key, key, node, &mut out);
            }
        }
    }
    Ok(out)
}

fn walk(path: &str, key: &str, node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                walk(&format!("{path}.{k}"), k, v, out);
            }
        }
        Node::List(items) => {
            if SKIPPED_LISTS.contains(&key) || items.len() > MAX_LIST {
                return;
            }
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{path}.{i}"), key, v, out);
            }
        }
        Node::Leaf(cell) => out.push((path.to_string(), cell.clone())),
    }
}

/// JSON as written, keys in order, leaves already spelt as cells.
enum Node {
    Leaf(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Leaf(cell(&Value::Bool(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Leaf(cell(&Value::from(v))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Leaf(cell(&Value::from(v))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Leaf(cell(&Value::from(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(String::new()))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(String::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

/// The CSV spelling of a leaf: numbers and bools as in JSON, text as is, null empty.
pub fn cell(leaf: &Value) -> String {
    match leaf {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A cell as a number for statistics: numbers, and bools as 1 or 0.
pub fn numeric(cell: &str) -> Option<f64> {
    match cell {
        "true" => Some(1.0),
        "false" => Some(0.0),
        _ => cell.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_is_a_column_named_by_its_path() {
        let s = r#"{
            "scenario": "x", "seed": 3, "duration_s": 60.0, "events": 12,
            "services": {"api": {"ok": 5, "sojourn_ms": {"p99": 12.5}}},
            "faults": [{"recovered_after_s": null, "verdict": "metastable"}],
            "calls": {"a->b": {"breaker": {"open_s": 1.5, "transitions": [{"t_s": 1.0}]}}},
            "orders": {"lost": 0, "ok": true}
        }"#;
        let cols = flatten(s).unwrap();
        let names: Vec<&str> = cols.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "duration_s",
                "events",
                "services.api.ok",
                "services.api.sojourn_ms.p99",
                "faults.0.recovered_after_s",
                "faults.0.verdict",
                "calls.a->b.breaker.open_s",
                "orders.lost",
                "orders.ok",
            ]
        );
        let cells: Vec<&str> = cols.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            cells,
            [
                "60.0",
                "12",
                "5",
                "12.5",
                "",
                "metastable",
                "1.5",
                "0",
                "true"
            ]
        );
    }

    #[test]
    fn cells_spell_numbers_exactly_as_summary_json() {
        let text = "{\"a\": [0.1, 1e-7, 123456.789012345, 4.0, 18446744073709551615, -3]}";
        let cells: Vec<String> = flatten(text).unwrap().into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            cells,
            [
                "0.1",
                "1e-7",
                "123456.789012345",
                "4.0",
                "18446744073709551615",
                "-3"
            ]
        );
    }

    #[test]
    fn cells_read_back_as_numbers() {
        assert_eq!(numeric("12.5"), Some(12.5));
        assert_eq!(numeric("true"), Some(1.0));
        assert_eq!(numeric(""), None);
        assert_eq!(numeric("metastable"), None);
    }
}
