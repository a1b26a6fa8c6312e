//! Fault schedules: run k's random draw, and the mutations that coverage guidance asks for.
//!
//! Every draw comes from the ChaCha stream `explore/run/<k>` of the exploration seed, so
//! run k's schedule is a function of (seed, k, budget, vocabulary, and for a mutation the
//! parent chosen before the round began): the same with any `--jobs`.

use super::budget::Budget;
use super::vocab::{Fault, Kind, Target, Vocabulary};
use crate::engine::{stream, Stream};
use rand::Rng;

/// How often a drawn fault that breaks the share budget is drawn again before it is
/// dropped: a bound, so a tight budget cannot loop.
const REDRAWS: usize = 8;

/// How often a fault added beside a parent's goes to a service that took over while the
/// parent's faults were on, when it has one: that service is what kept the platform up.
const ABSORB: f64 = 0.8;

/// The stream of run `k` of a search seeded `seed`.
pub fn rng(seed: u64, k: usize) -> Stream {
    stream(seed, &format!("explore/run/{k}"))
}

/// How a fault's (kind, target) is chosen: uniformly, or spread over the fault space.
#[derive(Debug, Clone, Default)]
pub struct Pick {
    /// Each option's weight and their sum; `None`: uniform.
    weights: Option<(Vec<u64>, u64)>,
}

impl Pick {
    /// Weight 1/(1 + times `tried`) for each option (by index): the fault space covered
    /// evenly, the way FATE (Gunawi et al., NSDI 2011) prefers failures not yet
    /// exercised. Where each distinct failure needs its own kind of fault on its own
    /// target, a search spread this way meets them all sooner than uniform draws, which
    /// come back to options drawn before.
    pub fn spread(tried: &[u64]) -> Pick {
        let weights: Vec<u64> = tried.iter().map(|&n| (1 << 20) / (1 + n)).collect();
        let total = weights.iter().sum();
        Pick {
            weights: Some((weights, total)),
        }
    }

    /// An option of `len`.
    fn option(&self, rng: &mut Stream, len: usize) -> usize {
        let Some((weights, total)) = &self.weights else {
            return rng.random_range(0..len);
        };
        let mut x = rng.random_range(0..(*total).max(1));
        for (o, &w) in weights.iter().enumerate() {
            if x < w {
                return o;
            }
            x -= w;
        }
        0
    }
}

/// A fresh schedule: 1..=max_faults faults, each a (kind, target) chosen by `pick`, a
/// start, length and severity uniform within the budget; sorted by start.
pub fn random(rng: &mut Stream, pick: &Pick, vocab: &Vocabulary, budget: &Budget) -> Vec<Fault> {
    let n = rng.random_range(1..=budget.max_faults) as usize;
    let mut faults: Vec<Fault> = Vec::with_capacity(n);
    for _ in 0..n {
        for _ in 0..REDRAWS {
            let f = draw(rng, pick, vocab, budget);
            if fits(&faults, &f, vocab, budget) {
                faults.push(f);
                break;
            }
        }
    }
    faults.sort();
    faults
}

/// One fault, its option chosen by `pick`, uniform over the budget's window.
fn draw(rng: &mut Stream, pick: &Pick, vocab: &Vocabulary, budget: &Budget) -> Fault {
    let option = pick.option(rng, vocab.options.len());
    draw_of(rng, option, vocab, budget)
}

/// A fault of the vocabulary's `option`, uniform over the budget's window.
fn draw_of(rng: &mut Stream, option: usize, vocab: &Vocabulary, budget: &Budget) -> Fault {
    let (kind, target) = vocab.options[option].clone();
    let window_ms = budget.window_ms();
    let longest_ms = (budget.max_duration.0 / 1_000_000).clamp(1, window_ms);
    let duration_ms = if kind.instant() {
        1
    } else {
        rng.random_range(1..=longest_ms)
    };
    let at_ms = budget.from_ms() + rng.random_range(0..=window_ms - duration_ms.min(window_ms));
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

/// Most operators one mutation stacks. AFL's havoc stage applies several random tweaks to
/// an input at once, and so does a mutation here: its operator, then 0 to `STACK - 1`
/// more (uniformly), each drawn from the round's shares and applied to what the last one
/// made. One small change to a schedule that passed is one new chance to fail, where a
/// fresh draw of n faults is n of them: on `data/saga.ron`, whose failures are single
/// long faults, single mutations failed half as often as fresh draws.
pub const STACK: u64 = 4;

/// How a run's schedule is made: a fresh draw or one of the mutations of a corpus
/// schedule. Guidance measures each one's yield and shares the next round among them
/// (MOpt's per-operator yield).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A fresh draw ([`random`]).
    Fresh,
    /// A fault added while one of the parent's is active, beside it.
    Beside,
    /// A fault of another corpus schedule spliced in beside one of the parent's.
    Splice,
    Drop,
    Move,
    /// Twice as long, halfway to full severity.
    Widen,
    /// Another target of its kind.
    Retarget,
    /// Another kind on its target.
    Rekind,
    /// One fault redrawn (or added).
    Redraw,
}

impl Op {
    /// Every way, fresh first.
    pub const ALL: [Op; 9] = [
        Op::Fresh,
        Op::Beside,
        Op::Splice,
        Op::Drop,
        Op::Move,
        Op::Widen,
        Op::Retarget,
        Op::Rekind,
        Op::Redraw,
    ];

    /// Its share of the runs before any yield is measured: half fresh, half mutations
    /// (nothing is known yet of either), of which 3/10 add a fault beside one of the
    /// parent's and 1/10 each of the others.
    pub fn prior(self) -> f64 {
        match self {
            Op::Fresh => 0.5,
            Op::Beside => 0.5 * 0.3,
            _ => 0.5 * 0.1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Fresh => "fresh",
            Op::Beside => "beside",
            Op::Splice => "splice",
            Op::Drop => "drop",
            Op::Move => "move",
            Op::Widen => "widen",
            Op::Retarget => "retarget",
            Op::Rekind => "rekind",
            Op::Redraw => "redraw",
        }
    }
}

/// A schedule near `parent`, as a coverage-guided fuzzer mutates an input (AFL's
/// deterministic and havoc stages, reduced to what a schedule is), by `op`: a fault added
/// while one of the parent's is active, on a component the parent leaves alone, most
/// often one of its `absorbers` (components down together); a fault of `donor` (another
/// schedule of the corpus) spliced in beside one of the parent's (AFL's splice); one
/// fault dropped, moved, widened (longer, more severe), aimed at another target of its
/// kind, made another kind on the same target (a slow payment service made an erring
/// one); or one redrawn (also what an `op` that does not apply does).
#[allow(clippy::too_many_arguments)]
pub fn mutate(
    rng: &mut Stream,
    op: Op,
    pick: &Pick,
    parent: &[Fault],
    donor: Option<&[Fault]>,
    absorbers: &[String],
    vocab: &Vocabulary,
    budget: &Budget,
) -> Vec<Fault> {
    let mut faults = parent.to_vec();
    let i = rng.random_range(0..faults.len().max(1));
    match op {
        Op::Beside if !faults.is_empty() => {
            let f = beside(rng, pick, &faults[i], parent, absorbers, vocab, budget);
            add_or_replace(rng, &mut faults, i, f, vocab, budget);
        }
        Op::Splice if !faults.is_empty() && donor.is_some_and(|d| !d.is_empty()) => {
            let donor = donor.unwrap_or_default();
            let mut f = donor[rng.random_range(0..donor.len())].clone();
            f.at_ms = overlapping(rng, &faults[i], f.duration_ms, budget);
            add_or_replace(rng, &mut faults, i, f, vocab, budget);
        }
        Op::Drop if faults.len() > 1 => {
            faults.remove(i);
        }
        Op::Move if !faults.is_empty() => {
            // The same fault at another moment: does the timing matter?
            let mut f = faults[i].clone();
            let spare_ms = budget.window_ms().saturating_sub(f.duration_ms);
            f.at_ms = budget.from_ms() + rng.random_range(0..=spare_ms);
            replace(&mut faults, i, f, vocab, budget);
        }
        Op::Widen if !faults.is_empty() => {
            // Wider: twice as long (within the budget and the window), halfway to full
            // severity.
            let mut f = faults[i].clone();
            let longest_ms = (budget.max_duration.0 / 1_000_000).max(1);
            if !f.kind.instant() {
                f.duration_ms = (f.duration_ms * 2).min(longest_ms);
                f = within(f, budget);
            }
            if f.kind.has_severity() {
                f.severity += (1000 - f.severity).div_ceil(2);
            }
            replace(&mut faults, i, f, vocab, budget);
        }
        Op::Retarget if !faults.is_empty() => {
            // The same kind, timing and severity on another target of that kind.
            let kind = faults[i].kind;
            let targets: Vec<_> = vocab.options.iter().filter(|(k, _)| *k == kind).collect();
            let mut f = faults[i].clone();
            f.target = targets[rng.random_range(0..targets.len())].1.clone();
            replace(&mut faults, i, f, vocab, budget);
        }
        Op::Rekind if !faults.is_empty() => {
            // Another kind on the same target: a slow payment made an erring one.
            let target = &faults[i].target;
            let kinds: Vec<Kind> = vocab
                .options
                .iter()
                .filter(|(_, t)| t == target)
                .map(|(k, _)| *k)
                .collect();
            let fresh = draw(rng, pick, vocab, budget);
            if !kinds.is_empty() {
                let kind = kinds[rng.random_range(0..kinds.len())];
                // An instant made a lasting kind takes the fresh draw's length.
                let f = within(with_kind(faults[i].clone(), kind, &fresh), budget);
                replace(&mut faults, i, f, vocab, budget);
            }
        }
        _ => {
            let f = draw(rng, pick, vocab, budget);
            if faults.len() < budget.max_faults as usize {
                if fits(&faults, &f, vocab, budget) {
                    faults.push(f);
                }
            } else {
                replace(&mut faults, i, f, vocab, budget);
            }
        }
    }
    faults.sort();
    faults
}

/// Adds `f` (kept beside fault `i`); when the schedule is full, `f` takes the place of
/// another fault than `i`.
fn add_or_replace(
    rng: &mut Stream,
    faults: &mut Vec<Fault>,
    i: usize,
    f: Fault,
    vocab: &Vocabulary,
    budget: &Budget,
) {
    if faults.len() < budget.max_faults as usize {
        if fits(faults, &f, vocab, budget) {
            faults.push(f);
        }
    } else if faults.len() > 1 {
        let j = (i + 1 + rng.random_range(0..faults.len() - 1)) % faults.len();
        replace(faults, j, f, vocab, budget);
    }
}

/// Puts `f` in place of fault `i` when the budget allows it.
fn replace(faults: &mut [Fault], i: usize, f: Fault, vocab: &Vocabulary, budget: &Budget) {
    if fits(&without(faults, i), &f, vocab, budget) {
        faults[i] = f;
    }
}

/// A fresh fault that starts while `anchor` is active: the two overlap. Most often
/// ([`ABSORB`]) on one of `absorbers` (the services that took over while the parent's
/// faults were on), else on a target no fault of `parent` strikes when a few draws find
/// one.
fn beside(
    rng: &mut Stream,
    pick: &Pick,
    anchor: &Fault,
    parent: &[Fault],
    absorbers: &[String],
    vocab: &Vocabulary,
    budget: &Budget,
) -> Fault {
    if !absorbers.is_empty() && rng.random_bool(ABSORB) {
        let on: Vec<usize> = (0..vocab.options.len())
            .filter(|&o| match &vocab.options[o].1 {
                Target::Service(s) | Target::Link(_, s) => absorbers.contains(s),
                _ => false,
            })
            .collect();
        if !on.is_empty() {
            let option = on[rng.random_range(0..on.len())];
            let mut f = draw_of(rng, option, vocab, budget);
            f.at_ms = overlapping(rng, anchor, f.duration_ms, budget);
            return f;
        }
    }
    let mut f = draw(rng, pick, vocab, budget);
    for _ in 0..REDRAWS {
        if parent.iter().all(|p| p.target != f.target) {
            break;
        }
        f = draw(rng, pick, vocab, budget);
    }
    f.at_ms = overlapping(rng, anchor, f.duration_ms, budget);
    f
}

/// A start for a fault `duration_ms` long that falls while `anchor` is active (or, when
/// that is too late for its length, ends after `anchor` started).
fn overlapping(rng: &mut Stream, anchor: &Fault, duration_ms: u64, budget: &Budget) -> u64 {
    let (window_ms, from_ms) = (budget.window_ms(), budget.from_ms());
    let latest = from_ms + window_ms - duration_ms.min(window_ms);
    let start = anchor.at_ms + rng.random_range(0..anchor.duration_ms.max(1));
    start.min(latest).max(from_ms)
}

/// `f` made a fault of `kind`: its span and severity kept where the kind has them, else
/// taken from `fresh` (a draw) or fixed (an instant lasts 1 ms; a kind without severity
/// is at 1000).
fn with_kind(mut f: Fault, kind: Kind, fresh: &Fault) -> Fault {
    if kind.instant() {
        f.duration_ms = 1;
    } else if f.kind.instant() {
        f.duration_ms = fresh.duration_ms;
    }
    f.severity = match (kind.has_severity(), f.kind.has_severity()) {
        (false, _) => 1000,
        (true, true) => f.severity,
        (true, false) => fresh.severity,
    };
    f.kind = kind;
    f
}

/// `f` started early enough to end by the budget's `until` (never before its `from`).
fn within(mut f: Fault, budget: &Budget) -> Fault {
    f.at_ms = f
        .at_ms
        .min(budget.until_ms().saturating_sub(f.duration_ms))
        .max(budget.from_ms());
    f
}

/// `faults` without its i-th.
fn without(faults: &[Fault], i: usize) -> Vec<Fault> {
    let mut rest = faults.to_vec();
    rest.remove(i);
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Options tried 0, 1 and 3 times weigh 1, 1/2 and 1/4: of 7,000 picks about
    /// 4,000, 2,000 and 1,000 (binomial, 3 standard deviations at most ~125).
    #[test]
    fn a_spread_pick_prefers_the_options_tried_least() {
        let pick = Pick::spread(&[0, 1, 3]);
        let (weights, _) = pick.weights.as_ref().unwrap();
        assert_eq!((weights[1] * 2, weights[2] * 4), (weights[0], weights[0]));
        let mut rng = crate::engine::stream(3, "t");
        let mut seen = [0u32; 3];
        for _ in 0..7000 {
            seen[pick.option(&mut rng, 3)] += 1;
        }
        for (got, want) in seen.iter().zip([4000, 2000, 1000]) {
            assert!(got.abs_diff(want) < 130, "{seen:?}");
        }
    }
}
