//! What a sweep is, which runs it has, which of them a shard does, and the manifest that
//! lets `--resume` and `merge` tell whether outputs belong to the same sweep.
//!
//! The runs of a sweep are the (point, seed) pairs in order: point 0 with every seed in
//! ascending order, then point 1, ... Run `k` is point `k / seeds` with the `k % seeds`-th
//! seed. `--shard I/N` (I from 0, as `JOB_COMPLETION_INDEX` and Slurm arrays count) takes
//! the runs with `k % N == I`: round robin, so that a slow corner of the grid is spread
//! over all shards instead of landing on one.

use super::grid::{Grid, Seeds};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Everything that decides a sweep's rows, its failures and its repro commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario file as given on the command line; null for the embedded default.
    pub scenario_file: Option<String>,
    pub axes: Vec<super::grid::Axis>,
    pub seeds: Seeds,
    /// The `--fail-if` predicates, as written back by `Predicate`'s `Display`.
    pub fail_if: Vec<String>,
}

impl Definition {
    pub fn grid(&self) -> Grid {
        Grid {
            axes: self.axes.clone(),
        }
    }

    /// Points of the grid.
    pub fn points(&self) -> usize {
        self.grid().points().unwrap_or(0)
    }

    /// Runs of the whole sweep (points x seeds).
    pub fn runs(&self) -> usize {
        self.points().saturating_mul(self.seeds.0.len())
    }

    /// Point and seed of run `k`.
    pub fn run(&self, k: usize) -> (usize, u64) {
        let n = self.seeds.0.len();
        (k / n, self.seeds.0[k % n])
    }

    /// Run number of (point, seed), if the seed is one of the sweep's.
    pub fn run_index(&self, point: usize, seed: u64) -> Option<usize> {
        let s = self.seeds.0.binary_search(&seed).ok()?;
        (point < self.points()).then(|| point * self.seeds.0.len() + s)
    }

    /// An id of this sweep: the definition, the scenario text and platsim's version, so a
    /// shard run from an edited scenario file or another platsim is never merged in.
    pub fn fingerprint(&self, scenario_text: &str) -> String {
        let def = serde_json::to_string(self).expect("a definition serializes");
        let mut h = Fnv::default();
        for part in [env!("CARGO_PKG_VERSION"), scenario_text, &def] {
            h.write(part.as_bytes());
            h.write(&[0xff]);
        }
        format!("{:016x}", h.0)
    }
}

/// FNV-1a, 64 bits: stable across platforms and Rust versions (unlike `DefaultHasher`).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `--shard I/N`: the I-th (from 0) of N slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Does this shard do run `k`?
    pub fn has(&self, k: usize) -> bool {
        k % self.count == self.index
    }

    /// The folder a shard writes to, inside the sweep's folder.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a shard: write I/N with I from 0 to N-1, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("`{s}`: the number of shards must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: shard indices run from 0 to {} (they count from 0, like JOB_COMPLETION_INDEX)",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `manifest.json` of a sweep folder: written when the sweep starts, rewritten with
/// `complete: true` when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The platsim version that ran it.
    pub platsim: String,
    pub fingerprint: String,
    pub sweep: Definition,
    /// Null for an unsharded sweep.
    pub shard: Option<Shard>,
    /// Runs of the whole sweep, and of this shard.
    pub runs_total: usize,
    pub runs: usize,
    /// Runs recorded in `runs.jsonl` when this manifest was written.
    pub done: usize,
    pub complete: bool,
}

impl Manifest {
    pub fn new(def: &Definition, fingerprint: String, shard: Option<Shard>) -> Manifest {
        let s = shard.unwrap_or(Shard::WHOLE);
        let runs_total = def.runs();
        Manifest {
            platsim: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint,
            sweep: def.clone(),
            shard,
            runs_total,
            runs: (0..runs_total).filter(|&k| s.has(k)).count(),
            done: 0,
            complete: false,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest serializes");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> Definition {
        Definition {
            scenario: "s".into(),
            scenario_file: None,
            axes: vec!["a=1,2,3".parse().unwrap()],
            seeds: "1..4".parse().unwrap(),
            fail_if: vec![],
        }
    }

    #[test]
    fn runs_are_points_times_seeds_in_order() {
        let d = def();
        assert_eq!(d.runs(), 12);
        assert_eq!(d.run(0), (0, 1));
        assert_eq!(d.run(5), (1, 2));
        assert_eq!(d.run_index(1, 2), Some(5));
        assert_eq!(d.run_index(1, 9), None);
        assert_eq!(d.run_index(3, 1), None);
    }

    #[test]
    fn shards_are_disjoint_and_cover_every_run() {
        let n = 3;
        let shards: Vec<Shard> = (0..n)
            .map(|i| format!("{i}/{n}").parse().unwrap())
            .collect();
        for k in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.has(k)).count(), 1);
        }
        assert!("3/3".parse::<Shard>().unwrap_err().contains("from 0 to 2"));
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn the_fingerprint_changes_with_the_sweep_and_the_scenario() {
        let d = def();
        let f = d.fingerprint("text");
        assert_eq!(f, d.fingerprint("text"));
        assert_ne!(f, d.fingerprint("other text"));
        let mut e = def();
        e.seeds = "1..5".parse().unwrap();
        assert_ne!(f, e.fingerprint("text"));
    }
}
