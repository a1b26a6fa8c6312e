//! Distributions of durations, validated and ready to sample in nanoseconds.

use crate::engine::{SimTime, Stream};
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

/// z such that P(Z <= z) = 0.99 for a standard normal Z.
pub const Z_P99: f64 = 2.326_347_874_040_840_8;

/// A validated distribution of durations.
#[derive(Debug, Clone)]
pub enum Dist {
    Constant(SimTime),
    Exponential {
        mean_ns: f64,
    },
    Uniform {
        min_ns: f64,
        max_ns: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Erlang {
        k: u32,
        mean_ns: f64,
        gamma: Gamma<f64>,
    },
}

impl Dist {
    pub fn exponential(mean: SimTime) -> Dist {
        Dist::Exponential {
            mean_ns: mean.0 as f64,
        }
    }

    /// Log-normal with the given median and 99th percentile (`p99 >= median > 0`).
    pub fn lognormal(median: SimTime, p99: SimTime) -> Dist {
        let mu = (median.0 as f64).ln();
        let sigma = ((p99.0 as f64).ln() - mu) / Z_P99;
        Dist::LogNormal { mu, sigma }
    }

    /// Erlang-k with total mean `mean` (`k >= 1`, `mean > 0`).
    pub fn erlang(k: u32, mean: SimTime) -> Dist {
        let scale = mean.0 as f64 / k as f64;
        Dist::Erlang {
            k,
            mean_ns: mean.0 as f64,
            gamma: Gamma::new(k as f64, scale).expect("validated: k >= 1 and mean > 0"),
        }
    }

    /// One draw, rounded to the nanosecond. Constants and exponentials, the commonest,
    /// inline; the others through `sample_other`.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Stream) -> SimTime {
        match self {
            Dist::Constant(t) => *t,
            Dist::Exponential { mean_ns } => {
                // The draw is finite and non-negative: `to_time` without its checks.
                let e: f64 = Exp1.sample(rng);
                SimTime((e * mean_ns + 0.5).min(1e18) as u64)
            }
            _ => self.sample_other(rng),
        }
    }

    fn sample_other(&self, rng: &mut Stream) -> SimTime {
        let ns = match self {
            Dist::Constant(_) | Dist::Exponential { .. } => return self.sample(rng),
            Dist::Uniform { min_ns, max_ns } => min_ns + (max_ns - min_ns) * rng.random::<f64>(),
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                (mu + sigma * z).exp()
            }
            Dist::Erlang { gamma, .. } => gamma.sample(rng),
        };
        to_time(ns)
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Constant(t) => t.0 as f64,
            Dist::Exponential { mean_ns } => *mean_ns,
            Dist::Uniform { min_ns, max_ns } => (min_ns + max_ns) / 2.0,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Erlang { mean_ns, .. } => *mean_ns,
        }
    }

    /// The squared coefficient of variation, Var(S) / E[S]^2 (0 for constant, 1 for exponential).
    pub fn scv(&self) -> f64 {
        match self {
            Dist::Constant(_) => 0.0,
            Dist::Exponential { .. } => 1.0,
            Dist::Uniform { min_ns, max_ns } => {
                let m = (min_ns + max_ns) / 2.0;
                if m == 0.0 {
                    0.0
                } else {
                    (max_ns - min_ns).powi(2) / 12.0 / (m * m)
                }
            }
            Dist::LogNormal { sigma, .. } => (sigma * sigma).exp() - 1.0,
            Dist::Erlang { k, .. } => 1.0 / *k as f64,
        }
    }
}

/// Rounds a draw to whole nanoseconds, keeping it finite and non-negative.
#[inline]
fn to_time(ns: f64) -> SimTime {
    if ns.is_finite() && ns > 0.0 {
        // `x + 0.5` truncated is rounding for positive x, without a libm call per draw.
        SimTime((ns + 0.5).min(1e18) as u64)
    } else {
        SimTime::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn mean_of(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(3, "test");
        (0..n).map(|_| d.sample(&mut rng).0 as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match() {
        let ms = SimTime::from_millis;
        for d in [
            Dist::Constant(ms(10)),
            Dist::exponential(ms(10)),
            Dist::Uniform {
                min_ns: 2e6,
                max_ns: 18e6,
            },
            Dist::erlang(3, ms(10)),
            Dist::lognormal(ms(5), ms(50)),
        ] {
            let want = d.mean_ns();
            let got = mean_of(&d, 200_000);
            assert!((got / want - 1.0).abs() < 0.02, "{d:?}: {got} vs {want}");
        }
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let d = Dist::lognormal(SimTime::from_millis(5), SimTime::from_millis(50));
        let mut rng = stream(1, "ln");
        let mut xs: Vec<u64> = (0..100_000).map(|_| d.sample(&mut rng).0).collect();
        xs.sort_unstable();
        let med = xs[50_000] as f64 / 1e6;
        let p99 = xs[99_000] as f64 / 1e6;
        assert!((med / 5.0 - 1.0).abs() < 0.03, "median {med}");
        assert!((p99 / 50.0 - 1.0).abs() < 0.05, "p99 {p99}");
    }
}
