//! Before a sweep runs: every point is built and run for one nanosecond of virtual time.
//!
//! Why: a bad `--set` value at point 37 or a misspelt `--fail-if` path should stop the
//! sweep at once (exit 2), not after hours of runs. A zero-length run costs microseconds
//! and its summary has the shape of the real ones (the same services, workloads, call
//! edges, faults and breakers), so it shows which predicate paths exist.

use super::parallel::Runner;
use super::plan::Definition;
use super::predicate::{lookup, Lookup};
use crate::engine::SimTime;
use crate::{Error, Limits};
use rayon::prelude::*;
use serde_json::Value;

/// Builds every point and runs it for one nanosecond, so that bad values and misspelt
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
    let per_point: Vec<Result<Vec<Hit>, Error>> = (0..def.points())
        .into_par_iter()
        .map(|point| {
            let context = |e: Error| {
                let sets: Vec<String> = runner
                    .grid
                    .overrides(point)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                Error::BadInput(format!("sweep point {point} ({}): {e}", sets.join(" ")))
            };
            let mut platform = runner.platform(point, seed).map_err(context)?;
            platform.duration = SimTime(1);
            platform.warmup = SimTime::ZERO;
            let summary =
                crate::run(&platform, Limits::default()).map_err(|e| context(e.into()))?;
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
