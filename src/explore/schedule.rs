//! Fault schedules: run k's random draw, and the mutations that coverage guidance asks for.
//!
//! Every draw comes from the ChaCha stream `explore/run/<k>` of the exploration seed, so
//! run k's schedule is a function of (seed, k, budget, vocabulary, and for a mutation the
//! parent chosen before the round began): the same with any `--jobs`.

use super::budget::Budget;
use super::vocab::{Fault, Vocabulary};
use crate::engine::{stream, Stream};
use rand::Rng;

/// How often a drawn fault that breaks the share budget is drawn again before it is
/// dropped: a bound, so a tight budget cannot loop.
const REDRAWS: usize = 8;

/// The stream of run `k` of a search seeded `seed`.
pub fn rng(seed: u64, k: usize) -> Stream {
    stream(seed, &format!("explore/run/{k}"))
}

/// A fresh schedule: 1..=max_faults faults, each a uniform (kind, target), start,
/// length and severity within the budget; sorted by start.
pub fn random(rng: &mut Stream, vocab: &Vocabulary, budget: &Budget) -> Vec<Fault> {
    let n = rng.random_range(1..=budget.max_faults) as usize;
    let mut faults: Vec<Fault> = Vec::with_capacity(n);
    for _ in 0..n {
        for _ in 0..REDRAWS {
            let f = draw(rng, vocab, budget);
            if fits(&faults, &f, vocab, budget) {
                faults.push(f);
                break;
            }
        }
    }
    faults.sort();
    faults
}

/// One fault, uniform over the vocabulary and the budget's window.
fn draw(rng: &mut Stream, vocab: &Vocabulary, budget: &Budget) -> Fault {
    let (kind, target) = vocab.options[rng.random_range(0..vocab.options.len())].clone();
    let window_ms = (budget.window().0 / 1_000_000).max(1);
    let longest_ms = (budget.max_duration.0 / 1_000_000).clamp(1, window_ms);
    let duration_ms = if kind.instant() {
        1
    } else {
        rng.random_range(1..=longest_ms)
    };
    let from_ms = budget.from.0.div_ceil(1_000_000);
    let at_ms = from_ms + rng.random_range(0..=window_ms - duration_ms.min(window_ms));
    let severity = if kind.has_severity() {
        rng.random_range(1..=1000)
    } else {
        1000
    };
    Fault {
        at_ms,
        duration_ms,
        kind,
        target,
        severity,
    }
}

/// Whether adding `f` keeps the platform share under faults within the budget at every
/// instant (faults overlap only where their spans do).
pub fn fits(faults: &[Fault], f: &Fault, vocab: &Vocabulary, budget: &Budget) -> bool {
    let total = vocab.components.len().max(1);
    let limit = (total * budget.max_share_permille as usize / 1000).max(1);
    let end = |g: &Fault| g.at_ms + g.duration_ms.max(1);
    // The share peaks at some fault's start; check f's start and every start inside f.
    let starts = std::iter::once(f.at_ms).chain(
        faults
            .iter()
            .map(|g| g.at_ms)
            .filter(|&t| t >= f.at_ms && t < end(f)),
    );
    for t in starts {
        let reach: usize = faults
            .iter()
            .chain(std::iter::once(f))
            .filter(|g| g.at_ms <= t && t < end(g))
            .map(|g| vocab.reach(g))
            .sum();
        if reach > limit {
            return false;
        }
    }
    true
}

/// A schedule near `parent`: a fault added at a moment when one of the parent's is
/// active (two components down together), or anywhere; one dropped, moved, or redrawn;
/// chosen by `rng`.
pub fn mutate(
    rng: &mut Stream,
    parent: &[Fault],
    vocab: &Vocabulary,
    budget: &Budget,
) -> Vec<Fault> {
    let mut faults = parent.to_vec();
    // Adding a fault beside one of the parent's is drawn most often: a failure that needs
    // two faults together is one fault added, at the right moment, to a schedule that
    // reached half of it.
    let choice = rng.random_range(0..6);
    let i = rng.random_range(0..faults.len().max(1));
    let room = faults.len() < budget.max_faults as usize;
    match choice {
        0..=2 if !faults.is_empty() => {
            let f = beside(rng, &faults[i], vocab, budget);
            if room {
                if fits(&faults, &f, vocab, budget) {
                    faults.push(f);
                }
            } else if faults.len() > 1 {
                // Full: it takes the place of another fault.
                let j = (i + 1 + rng.random_range(0..faults.len() - 1)) % faults.len();
                if fits(&without(&faults, j), &f, vocab, budget) {
                    faults[j] = f;
                }
            }
        }
        3 if room => {
            let f = draw(rng, vocab, budget);
            if fits(&faults, &f, vocab, budget) {
                faults.push(f);
            }
        }
        4 if faults.len() > 1 => {
            faults.remove(i);
        }
        5 if !faults.is_empty() => {
            // The same fault at another moment: does the timing matter?
            let mut f = faults[i].clone();
            let window_ms = (budget.window().0 / 1_000_000).max(1);
            let from_ms = budget.from.0.div_ceil(1_000_000);
            f.at_ms = from_ms + rng.random_range(0..=window_ms.saturating_sub(f.duration_ms));
            let rest = without(&faults, i);
            if fits(&rest, &f, vocab, budget) {
                faults[i] = f;
            }
        }
        _ => {
            let f = draw(rng, vocab, budget);
            if !faults.is_empty() && fits(&without(&faults, i), &f, vocab, budget) {
                faults[i] = f;
            }
        }
    }
    faults.sort();
    faults
}

/// A fresh fault that starts while `anchor` is active (or, when that is too late for
/// its length, ends after `anchor` started): the two overlap.
fn beside(rng: &mut Stream, anchor: &Fault, vocab: &Vocabulary, budget: &Budget) -> Fault {
    let mut f = draw(rng, vocab, budget);
    let window_ms = (budget.window().0 / 1_000_000).max(1);
    let from_ms = budget.from.0.div_ceil(1_000_000);
    let latest = from_ms + window_ms - f.duration_ms.min(window_ms);
    let start = anchor.at_ms + rng.random_range(0..anchor.duration_ms.max(1));
    f.at_ms = start.min(latest).max(from_ms);
    f
}

/// `faults` without its i-th.
fn without(faults: &[Fault], i: usize) -> Vec<Fault> {
    let mut rest = faults.to_vec();
    rest.remove(i);
    rest
}
