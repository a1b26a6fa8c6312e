//! The sweep's grid: which values each swept path takes, and which seeds each point runs.
//!
//! Every `--set PATH=VALUES` of a sweep is one axis; the grid is the cartesian product of
//! the axes, first axis outermost (it changes slowest), like nested loops written in the
//! order of the flags. A point is addressed by its index in that order, so a row of
//! `results.csv`, a shard's slice and a resumed run all name the same point the same way.
//!
//! VALUES is a comma-separated list whose items are single values or ranges:
//! - `0.1,0.3,0.5`: a list; a single value is a one-point axis;
//! - `0.1..0.5:5`: five points spaced evenly from 0.1 to 0.5 inclusive;
//! - `1..1000:4:log`: four points spaced evenly on a log scale (1, 10, 100, 1000);
//! - `100ms..500ms:5`: ranges keep a unit suffix shared by both ends.
//!
//! Commas inside parentheses, brackets, braces or double quotes do not split, so RON
//! values such as `Budget(percent: 10.0, min_concurrency: 1)` are one item.

use crate::scenario::Override;
use std::fmt;
use std::str::FromStr;

/// The most values one axis, or the seed list, may expand to.
const MAX_VALUES: usize = 1_000_000;

/// One swept path and the values it takes, as text exactly as `--set` would receive it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    pub path: String,
    pub values: Vec<String>,
}

impl FromStr for Axis {
    type Err = String;
    /// Parses `PATH=V1,V2,...` (lists, ranges, a single value).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The same split and trimming as `--set` of `platsim run`, so that the repro
        // command's `--set PATH=VALUE` is parsed into exactly the override the sweep used.
        let set: Override = s.parse()?;
        let mut values = Vec::new();
        for item in split_list(&set.value)? {
            match parse_range(&item)? {
                Some(range) => values.extend(range),
                None => values.push(item),
            }
            if values.len() > MAX_VALUES {
                return Err(format!("`{}` has more than {MAX_VALUES} values", set.path));
            }
        }
        // An ordered set finds the first repeat in O(n log n): a million-value list
        // starts at once (a pairwise scan took 15.9 s at 100,000 values).
        let mut seen = std::collections::BTreeSet::new();
        if let Some(v) = values.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(format!("`{}` lists the value `{v}` twice", set.path));
        }
        Ok(Axis {
            path: set.path,
            values,
        })
    }
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.values.join(","))
    }
}

/// Splits a list at commas that are not inside `()`, `[]`, `{}` or `"..."`; trims items.
pub fn split_list(text: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut depth: i32 = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut current = String::new();
    for c in text.chars() {
        if in_string {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("`{text}` has an unmatched `{c}`"));
                }
            }
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if in_string || depth != 0 {
        return Err(format!("`{text}` has an unclosed quote or bracket"));
    }
    items.push(current);
    let items: Vec<String> = items.into_iter().map(|s| s.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(format!(
            "`{text}` has an empty item (values are separated by single commas)"
        ));
    }
    Ok(items)
}

/// `A..B:N` or `A..B:N:log` (or `:lin`) expanded to its values; `None` when `item` is not
/// a range at all (a plain value, RON structure, string...).
fn parse_range(item: &str) -> Result<Option<Vec<String>>, String> {
    let looks_numeric = item.starts_with(|c: char| c.is_ascii_digit() || "-+.".contains(c));
    let Some((a, rest)) = item.split_once("..") else {
        return Ok(None);
    };
    if !looks_numeric {
        return Ok(None);
    }
    let bad = |why: &str| {
        Err(format!(
            "`{item}` is not a range: {why} (write FROM..TO:COUNT, e.g. 0.1..0.5:5, or 1..1000:4:log)"
        ))
    };
    let mut parts = rest.split(':');
    let b = parts.next().unwrap_or_default();
    let Some(count) = parts.next() else {
        return bad("the number of points is missing");
    };
    let log = match parts.next() {
        None | Some("lin") => false,
        Some("log") => true,
        Some(other) => return bad(&format!("unknown scale `{other}`, expected `log` or `lin`")),
    };
    if parts.next().is_some() {
        return bad("too many `:`");
    }
    let (Some((a, unit_a)), Some((b, unit_b))) = (number_unit(a), number_unit(b)) else {
        return bad("both ends must be numbers");
    };
    if unit_a != unit_b {
        return bad(&format!(
            "both ends must have the same unit (`{unit_a}` and `{unit_b}`)"
        ));
    }
    let Ok(n) = count.trim().parse::<usize>() else {
        return bad(&format!("`{count}` is not a whole number of points"));
    };
    if n == 0 || n > MAX_VALUES {
        return bad(&format!("the number of points must be 1 to {MAX_VALUES}"));
    }
    if n == 1 && a != b {
        return bad("one point cannot span two different ends");
    }
    if log && (a <= 0.0 || b <= 0.0) {
        return bad("a log range needs both ends above zero");
    }
    let values = (0..n)
        .map(|i| {
            let f = if n == 1 {
                0.0
            } else {
                i as f64 / (n - 1) as f64
            };
            let v = match (i, log) {
                (0, _) => a,
                (i, _) if i == n - 1 => b,
                (_, false) => a + (b - a) * f,
                (_, true) => (a.ln() + (b.ln() - a.ln()) * f).exp(),
            };
            format!("{}{unit_a}", tidy(v))
        })
        .collect();
    Ok(Some(values))
}

/// Splits `2.5ms` into `(2.5, "ms")`; `None` unless it starts with a finite number.
fn number_unit(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(s.len());
    // An exponent's `e` is part of the number only when digits follow it.
    let (mut num, mut unit) = s.split_at(split);
    if num.ends_with(['e', 'E']) {
        (num, unit) = s.split_at(split - 1);
    }
    let v: f64 = num.parse().ok()?;
    v.is_finite().then_some((v, unit.trim()))
}

/// A computed grid value written as a person would: 12 significant digits (so that
/// 0.1 + 0.2 reads 0.3), whole numbers without a fraction.
fn tidy(v: f64) -> String {
    let rounded: f64 = format!("{v:.11e}").parse().unwrap_or(v);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        ryu::Buffer::new().format(rounded).to_string()
    }
}

/// The cartesian product of the axes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Checks that no path is swept twice and that the seed is not swept with `--set`.
    pub fn new(axes: Vec<Axis>) -> Result<Grid, String> {
        for (i, a) in axes.iter().enumerate() {
            if a.path == "seed" {
                return Err("sweep seeds with --seeds, not --set seed=...".to_string());
            }
            if axes[..i].iter().any(|b| b.path == a.path) {
                return Err(format!(
                    "`{}` is given with --set twice; list all its values in one --set",
                    a.path
                ));
            }
        }
        let grid = Grid { axes };
        grid.points()
            .ok_or_else(|| "the grid has too many points".to_string())?;
        Ok(grid)
    }

    /// The number of points (1 without axes); `None` if it overflows.
    pub fn points(&self) -> Option<usize> {
        self.axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
    }

    /// The value index on each axis of point `index` (first axis outermost).
    pub fn coordinates(&self, index: usize) -> Vec<usize> {
        let mut rest = index;
        let mut coords = vec![0; self.axes.len()];
        for (k, axis) in self.axes.iter().enumerate().rev() {
            coords[k] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        coords
    }

    /// The overrides of point `index`, in axis order: the order `platsim run` applies them.
    pub fn overrides(&self, index: usize) -> Vec<Override> {
        self.axes
            .iter()
            .zip(self.coordinates(index))
            .map(|(axis, i)| Override {
                path: axis.path.clone(),
                value: axis.values[i].clone(),
            })
            .collect()
    }
}

/// The seeds of a sweep, ascending, each once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seeds(pub Vec<u64>);

impl FromStr for Seeds {
    type Err = String;
    /// `A..B` (inclusive), `N`, or a list of either: `1,5,9`, `1..10,20`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut seeds = Vec::new();
        for item in split_list(s)? {
            let num = |t: &str| {
                t.trim().parse::<u64>().map_err(|_| {
                    format!("`{t}` is not a seed (seeds are whole numbers: 7, 1..20, 1,5,9)")
                })
            };
            match item.split_once("..") {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if b < a {
                        return Err(format!("`{item}` is empty: the range goes down"));
                    }
                    if b - a >= MAX_VALUES as u64 || seeds.len() > MAX_VALUES {
                        return Err(format!("`{s}` has more than {MAX_VALUES} seeds"));
                    }
                    seeds.extend(a..=b);
                }
                None => seeds.push(num(&item)?),
            }
        }
        seeds.sort_unstable();
        seeds.dedup();
        Ok(Seeds(seeds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(s: &str) -> Vec<String> {
        s.parse::<Axis>().unwrap().values
    }

    #[test]
    fn lists_and_single_values() {
        assert_eq!(axis("a.b=0.1,0.3,0.5"), ["0.1", "0.3", "0.5"]);
        assert_eq!(axis("duration=60s"), ["60s"]);
        assert_eq!(axis(" a = 1 , 2 "), ["1", "2"]);
    }

    #[test]
    fn ron_structures_are_not_split() {
        let v = axis("x.budget=Budget(percent: 10.0, min_concurrency: 1),None");
        assert_eq!(v, ["Budget(percent: 10.0, min_concurrency: 1)", "None"]);
        let v = axis(r#"x.retry_on=[Timeout, Error],[Rejected]"#);
        assert_eq!(v, ["[Timeout, Error]", "[Rejected]"]);
        let v = axis(r#"x.s=Constant("1,5ms"),Constant("2ms")"#);
        assert_eq!(v, [r#"Constant("1,5ms")"#, r#"Constant("2ms")"#]);
    }

    #[test]
    fn linear_log_and_unit_ranges() {
        assert_eq!(axis("a=0.1..0.5:5"), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(axis("a=1..1000:4:log"), ["1", "10", "100", "1000"]);
        assert_eq!(axis("a=1..4:4"), ["1", "2", "3", "4"]);
        assert_eq!(axis("a=100ms..500ms:3"), ["100ms", "300ms", "500ms"]);
        assert_eq!(axis("a=0,0.5..1:2"), ["0", "0.5", "1"]);
        assert_eq!(axis("a=2..2:1"), ["2"]);
    }

    #[test]
    fn bad_lists_and_ranges_say_why() {
        for (bad, why) in [
            ("a=1,,2", "empty item"),
            ("a=1..2", "number of points is missing"),
            ("a=0..10:3:log", "above zero"),
            ("a=1ms..2s:3", "same unit"),
            ("a=1..2:x", "whole number"),
            ("a=1,1", "twice"),
            ("a=Foo(1", "unclosed"),
            ("noequals", "PATH=VALUE"),
        ] {
            let err = bad.parse::<Axis>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn points_are_numbered_first_axis_outermost() {
        let grid = Grid::new(vec!["a=1,2".parse().unwrap(), "b=x,y,z".parse().unwrap()]).unwrap();
        assert_eq!(grid.points(), Some(6));
        let pairs: Vec<String> = (0..6)
            .map(|i| {
                let o = grid.overrides(i);
                format!("{}{}", o[0].value, o[1].value)
            })
            .collect();
        assert_eq!(pairs, ["1x", "1y", "1z", "2x", "2y", "2z"]);
        assert_eq!(Grid::new(vec![]).unwrap().points(), Some(1));
    }

    #[test]
    fn a_path_twice_or_the_seed_is_refused() {
        let twice = Grid::new(vec!["a=1".parse().unwrap(), "a=2".parse().unwrap()]);
        assert!(twice.unwrap_err().contains("twice"));
        let seed = Grid::new(vec!["seed=1,2".parse().unwrap()]);
        assert!(seed.unwrap_err().contains("--seeds"));
    }

    /// Issue 17: a 100,000-value list took 15.9 s to start (a pairwise repeat check).
    #[test]
    fn a_million_value_list_is_checked_for_repeats_at_once() {
        let list: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
        let axis: Axis = format!("services.api.concurrency={}", list.join(","))
            .parse()
            .unwrap();
        assert_eq!(axis.values.len(), 1_000_000);
        let repeat = format!("a={},17", list[..1000].join(","));
        let err = repeat.parse::<Axis>().unwrap_err();
        assert_eq!(err, "`a` lists the value `17` twice");
    }

    #[test]
    fn seeds_ranges_lists_and_single() {
        assert_eq!("1..4".parse::<Seeds>().unwrap().0, [1, 2, 3, 4]);
        assert_eq!("7".parse::<Seeds>().unwrap().0, [7]);
        assert_eq!("9,1,5,1".parse::<Seeds>().unwrap().0, [1, 5, 9]);
        assert_eq!("1..3,10".parse::<Seeds>().unwrap().0, [1, 2, 3, 10]);
        assert!("5..1".parse::<Seeds>().is_err());
        assert!("x".parse::<Seeds>().is_err());
        assert!("-1".parse::<Seeds>().is_err());
    }
}
