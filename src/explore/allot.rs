//! How guidance shares a round among fresh draws and the mutations ([`Op`]): by each
//! one's measured yield, as MOpt (Lyu et al., USENIX Security 2019) schedules mutation
//! operators and AFL++'s power schedules balance exploring against exploiting. A fresh
//! draw is one more operator, so where mutating the corpus reaches nothing new (most runs
//! fail anyway, or the failure is a conjunction no corpus state leads to) the search
//! spends its runs on fresh draws and does no worse than a random one.
//!
//! A run yields when it shows a distinct failure no earlier run showed, or, while at most
//! half the runs so far failed, when it reaches a coverage feature no earlier run reached
//! (when most runs fail, coverage is everywhere and only new failures tell). Yields are
//! counted from the second round on, when every operator can be drawn: the first round
//! is all fresh and everything is new then. The shares are set at round boundaries from
//! the counts, so they are the same with any `--jobs`.

use super::schedule::Op;
use crate::engine::Stream;
use rand::Rng;

/// Runs and yielding runs of each operator ([`Op::ALL`] order).
#[derive(Debug, Default, Clone)]
pub struct Allot {
    runs: [u64; Op::ALL.len()],
    hits: [u64; Op::ALL.len()],
}

/// Shares are in parts of this.
const PARTS: u64 = 1 << 20;

impl Allot {
    pub fn record(&mut self, op: Op, hit: bool) {
        let i = index(op);
        self.runs[i] += 1;
        self.hits[i] += u64::from(hit);
    }

    /// The next round's shares (weights, drawn in proportion): each operator's prior
    /// share times its yield, (hits + 1) / (runs + 2) (Laplace's rule, so an operator
    /// barely tried counts as promising), normalized, and never under a quarter of its
    /// prior, so none is starved on a few unlucky runs.
    pub fn shares(&self) -> [u64; Op::ALL.len()] {
        let raw: Vec<f64> = Op::ALL
            .iter()
            .enumerate()
            .map(|(i, op)| op.prior() * (self.hits[i] as f64 + 1.0) / (self.runs[i] as f64 + 2.0))
            .collect();
        let total: f64 = raw.iter().sum();
        let mut out = [0; Op::ALL.len()];
        for (i, op) in Op::ALL.iter().enumerate() {
            let share = (raw[i] / total).max(op.prior() / 4.0);
            out[i] = (share * PARTS as f64).round() as u64;
        }
        out
    }

    /// An operator drawn from `shares`.
    pub fn draw(shares: &[u64; Op::ALL.len()], rng: &mut Stream) -> Op {
        draw_among(shares, &Op::ALL, rng)
    }

    /// A mutation (any operator but a fresh draw) drawn from `shares`: what a stacked
    /// mutation adds after its first operator ([`super::schedule::STACK`]).
    pub fn draw_mutation(shares: &[u64; Op::ALL.len()], rng: &mut Stream) -> Op {
        draw_among(&shares[1..], &Op::ALL[1..], rng)
    }

    /// (operator, runs, yielding runs), for the report.
    pub fn table(&self) -> impl Iterator<Item = (Op, u64, u64)> + '_ {
        Op::ALL
            .iter()
            .enumerate()
            .map(|(i, &op)| (op, self.runs[i], self.hits[i]))
    }
}

/// One of `ops` drawn in proportion to `shares` (theirs, in the same order).
fn draw_among(shares: &[u64], ops: &[Op], rng: &mut Stream) -> Op {
    let total: u64 = shares.iter().sum();
    let mut x = rng.random_range(0..total.max(1));
    for (&s, &op) in shares.iter().zip(ops) {
        if x < s {
            return op;
        }
        x -= s;
    }
    ops[0]
}

fn index(op: Op) -> usize {
    Op::ALL
        .iter()
        .position(|&o| o == op)
        .expect("every op is listed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(a: &Allot, op: Op) -> f64 {
        let s = a.shares();
        s[index(op)] as f64 / s.iter().sum::<u64>() as f64
    }

    /// Before anything is measured the shares are the priors: half fresh, 3/20 beside,
    /// 1/20 each other mutation.
    #[test]
    fn an_unmeasured_search_shares_by_the_priors() {
        let a = Allot::default();
        assert!((share(&a, Op::Fresh) - 0.5).abs() < 1e-6);
        assert!((share(&a, Op::Beside) - 0.15).abs() < 1e-6);
        assert!((share(&a, Op::Widen) - 0.05).abs() < 1e-6);
    }

    /// Fresh draws yielded 7 of 32, a yield of (7+1)/34; every mutation 0 of 8, 1/10.
    /// Fresh weighs 0.5 x 8/34 = 0.1176, the mutations together 0.5 x 1/10 = 0.05, so
    /// fresh gets 0.1176/0.1676 = 70.2% of the next round (half before), `Move`
    /// 0.005/0.1676 = 3.0% (above its floor, 1.25%).
    #[test]
    fn the_operator_that_yields_gets_more_of_the_next_round() {
        let mut a = Allot::default();
        for k in 0..32 {
            a.record(Op::Fresh, k < 7);
        }
        for &op in &Op::ALL[1..] {
            for _ in 0..8 {
                a.record(op, false);
            }
        }
        let fresh = 0.5 * 8.0 / 34.0;
        let mutations = 0.5 / 10.0;
        assert!((share(&a, Op::Fresh) - fresh / (fresh + mutations)).abs() < 1e-5);
        assert!((share(&a, Op::Move) - 0.05 / 10.0 / (fresh + mutations)).abs() < 1e-5);
    }

    /// However badly an operator does, its weight stays at a quarter of its prior,
    /// 0.0125, of weights that sum to at most 1.25: at least 1% of the draws.
    #[test]
    fn no_operator_is_starved() {
        let mut a = Allot::default();
        for _ in 0..10_000 {
            a.record(Op::Drop, false);
        }
        for _ in 0..100 {
            a.record(Op::Fresh, true);
        }
        let s = a.shares();
        assert_eq!(s[index(Op::Drop)], (0.0125 * PARTS as f64).round() as u64);
        assert!(share(&a, Op::Drop) >= 0.01);
    }

    /// Draws follow the shares: with all of them on one operator, it is drawn.
    #[test]
    fn a_draw_follows_the_shares() {
        let mut shares = [0; Op::ALL.len()];
        shares[index(Op::Splice)] = PARTS;
        let mut rng = crate::engine::stream(1, "t");
        assert!((0..100).all(|_| Allot::draw(&shares, &mut rng) == Op::Splice));
    }

    /// A stacked mutation never draws a fresh schedule, however large fresh's share:
    /// with fresh at 9/10 and `Widen` at 1/10, every draw is `Widen`.
    #[test]
    fn a_stacked_draw_is_always_a_mutation() {
        let mut shares = [0; Op::ALL.len()];
        shares[index(Op::Fresh)] = 9 * PARTS;
        shares[index(Op::Widen)] = PARTS;
        let mut rng = crate::engine::stream(1, "t");
        assert!((0..100).all(|_| Allot::draw_mutation(&shares, &mut rng) == Op::Widen));
    }
}
