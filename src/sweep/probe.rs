//! Before a sweep runs: one point of each shape is built and run for one nanosecond of
//! virtual time.
//!
//! Why: a bad `--set` value at point 37 or a misspelt `--fail-if` path should stop the
//! sweep at once (exit 2), not after hours of runs. A zero-length run costs microseconds
//! and its summary has the shape of the real ones (the same services, workloads, call
//! edges, faults and breakers), so it shows which predicate paths exist.
//!
//! Which points: running every point took minutes before a million-value `--set` list
//! started, so each axis contributes its [`representatives`]: per shape of value (the text
//! with its numbers blanked, so `0.25` and `7` are one shape, `Retry(max_attempts: 2)` and
//! `None` two), the first value and the smallest and largest of each of its numbers. The
//! checks on a number are ranges (a probability, a rate up to 1e9, a size bound), so a
//! value out of range is an extreme of its shape; the probe runs the grid of the
//! representatives, at most a few points per shape and axis. Any other point that still
//! fails to build stops the sweep when its turn comes, named as here
//! ([`super::parallel::Runner::platform`]).

use super::grid::{Axis, Grid};
use super::parallel::Runner;
use super::plan::Definition;
use super::predicate::{lookup, Lookup};
use crate::engine::SimTime;
use crate::{Error, Limits};
use rayon::prelude::*;
use serde_json::Value;

/// Builds every probed point and runs it for one nanosecond, so that bad values and misspelt
/// predicate paths stop the sweep before it starts. Returns, per predicate, why its path
/// was absent from the zero-length runs, if it was (it may still appear in real runs:
/// a list that fills as the run goes).
pub fn probe(runner: &Runner, def: &Definition) -> Result<Vec<Option<String>>, Error> {
    #[derive(Clone)]
    enum Hit {
        Leaf,
        Absent(String),
        NoKey(String),
    }
    let seed = def.seeds.0[0];
    let per_point: Vec<Result<Vec<Hit>, Error>> = probed_points(runner.grid)
        .into_par_iter()
        .map(|point| {
            let mut platform = runner.platform(point, seed)?;
            platform.duration = SimTime(1);
            platform.warmup = SimTime::ZERO;
            let summary = crate::run(&platform, Limits::default())
                .map_err(|e| runner.point_error(point, e.into()))?;
            let value: Value = serde_json::to_value(&summary).expect("a summary serializes");
            runner
                .predicates
                .iter()
                .map(|p| match lookup(&value, &p.path) {
                    Lookup::Leaf(_) => p.check(&value).map(|_| Hit::Leaf),
                    Lookup::Absent(why) => Ok(Hit::Absent(why)),
                    Lookup::NoKey(why) => Ok(Hit::NoKey(why)),
                    Lookup::NotLeaf(why) => Err(format!("--fail-if '{p}': {why}")),
                })
                .collect::<Result<Vec<Hit>, String>>()
                .map_err(Error::BadInput)
        })
        .collect();
    let mut hits = Vec::with_capacity(per_point.len());
    for r in per_point {
        hits.push(r?);
    }
    let mut absent = Vec::new();
    for (i, p) in runner.predicates.iter().enumerate() {
        let column = || hits.iter().map(move |h| &h[i]);
        if column().any(|h| matches!(h, Hit::Leaf)) {
            absent.push(None);
            continue;
        }
        if let Some(Hit::Absent(why)) = column().find(|h| matches!(h, Hit::Absent(_))) {
            absent.push(Some(why.clone()));
            continue;
        }
        let why = column()
            .find_map(|h| match h {
                Hit::NoKey(why) => Some(why.clone()),
                _ => None,
            })
            .unwrap_or_default();
        return Err(Error::BadInput(format!("--fail-if '{p}': {why}")));
    }
    Ok(absent)
}

/// The points the probe runs, ascending: the grid of every axis's [`representatives`].
pub fn probed_points(grid: &Grid) -> Vec<usize> {
    let mut points = vec![0usize];
    for axis in &grid.axes {
        let reps = representatives(axis);
        points = points
            .iter()
            .flat_map(|&p| reps.iter().map(move |&i| p * axis.values.len() + i))
            .collect();
    }
    points
}

/// The value indices (ascending) that stand for one axis: for each shape of value, its
/// first value and the values holding the smallest and the largest of each of its numbers.
pub fn representatives(axis: &Axis) -> Vec<usize> {
    // Per number position of a shape: (smallest, its index), (largest, its index).
    type Extremes = Vec<[(f64, usize); 2]>;
    // shape -> its first value's index and its numbers' extremes.
    let mut shapes: std::collections::BTreeMap<String, (usize, Extremes)> = Default::default();
    for (i, value) in axis.values.iter().enumerate() {
        let (shape, numbers) = shape_of(value);
        let (_, extremes) = shapes.entry(shape).or_insert_with(|| {
            let at = numbers.iter().map(|&x| [(x, i), (x, i)]).collect();
            (i, at)
        });
        for (e, &x) in extremes.iter_mut().zip(&numbers) {
            if x < e[0].0 {
                e[0] = (x, i);
            }
            if x > e[1].0 {
                e[1] = (x, i);
            }
        }
    }
    let mut reps: Vec<usize> = shapes
        .values()
        .flat_map(|(first, extremes)| {
            std::iter::once(*first).chain(extremes.iter().flat_map(|e| [e[0].1, e[1].1]))
        })
        .collect();
    reps.sort_unstable();
    reps.dedup();
    reps
}

/// A value's shape (its text with every number replaced by `#`) and its numbers in order.
/// A number is a run of digits and points, with a `-` just before it.
fn shape_of(value: &str) -> (String, Vec<f64>) {
    let mut shape = String::with_capacity(value.len());
    let mut numbers = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit_at = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_digit);
        let starts = digit_at(i)
            || (bytes[i] == b'.' && digit_at(i + 1))
            || (bytes[i] == b'-' && (digit_at(i + 1) || (bytes.get(i + 1) == Some(&b'.'))));
        if !starts {
            let c = value[i..].chars().next().expect("i is a char boundary");
            shape.push(c);
            i += c.len_utf8();
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        shape.push('#');
        // Text such as `1.2.3` is no number: it keeps its shape and counts as 0.
        numbers.push(value[start..i].parse().unwrap_or(0.0));
    }
    (shape, numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reps(s: &str) -> Vec<usize> {
        representatives(&s.parse().unwrap())
    }

    #[test]
    fn numbers_are_blanked_into_shapes() {
        assert_eq!(shape_of("0.25"), ("#".into(), vec![0.25]));
        assert_eq!(shape_of("-3ms"), ("#ms".into(), vec![-3.0]));
        assert_eq!(
            shape_of("Budget(percent: 10.0, min_concurrency: 1)"),
            (
                "Budget(percent: #, min_concurrency: #)".into(),
                vec![10.0, 1.0]
            )
        );
        assert_eq!(shape_of("None"), ("None".into(), vec![]));
    }

    /// Issue 17: a million-value list probed every point (minutes before the sweep began).
    #[test]
    fn a_million_value_range_is_probed_at_its_two_ends() {
        let axis: Axis = "services.api.concurrency=1..1000000:1000000"
            .parse()
            .unwrap();
        assert_eq!(representatives(&axis), [0, 999_999]);
        let grid = Grid::new(vec![axis, "duration=5s,10s,20s".parse().unwrap()]).unwrap();
        // 2 x 2 of 3 million points: (1, 5s), (1, 20s), (1e6, 5s), (1e6, 20s).
        assert_eq!(probed_points(&grid), [0, 2, 2_999_997, 2_999_999]);
    }

    #[test]
    fn each_shape_gives_its_first_value_and_the_extremes_of_each_number() {
        // One shape: the largest (the bad 7) is probed though it is not at an end.
        assert_eq!(reps("a=0.2,0.1,7,0.3"), [0, 1, 2]);
        // Two shapes, `None` and `Retry(max_attempts: #)`: 5 is the largest, 2 the first and smallest.
        assert_eq!(
            reps("a=None,Retry(max_attempts: 2),Retry(max_attempts: 3),Retry(max_attempts: 5)"),
            [0, 1, 3]
        );
        // Two numbers in one shape: each one's extremes.
        assert_eq!(reps("a=B(1, 9),B(2, 8),B(3, 7),B(0, 8)"), [0, 2, 3]);
        assert_eq!(reps("a=1ms,5s,2ms"), [0, 1, 2]);
    }
}
