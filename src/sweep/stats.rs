//! Across-seed statistics of one metric at one point: mean, min, max and a 95% confidence
//! interval of the mean (Student t, since a sweep has few seeds per point: with 5 seeds the
//! interval is 2.8 standard errors wide each side, not the normal 1.96).
//!
//! Values are summed in seed order, so the same rows give the same bits however the runs
//! were scheduled, sharded or resumed.

use serde::Serialize;
use std::collections::BTreeMap;

/// Two-sided 95% critical values of Student's t for 1 to 30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom: exact to 9 digits up to
/// 30, then the Cornish-Fisher expansion around the normal quantile (error below 1e-5).
pub fn t_975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= T_975.len() {
        return T_975[df - 1];
    }
    let z: f64 = 1.959_963_985;
    let n = df as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
}

/// One metric at one point, across its seeds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricStats {
    /// Seeds with a numeric value.
    pub n: usize,
    /// Seeds where the value was missing or null (e.g. a fault that never recovered).
    #[serde(skip_serializing_if = "is_zero")]
    pub missing: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `[low, high]` of the 95% confidence interval of the mean; null with fewer than two
    /// values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
    /// For text metrics (a fault's `verdict`): how many seeds gave each value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Statistics of the cells of one column, in seed order. `numeric` reads a cell as a
/// number; cells that are not numbers are counted by value.
pub fn describe<'a>(
    cells: impl IntoIterator<Item = Option<&'a str>>,
    numeric: impl Fn(&str) -> Option<f64>,
) -> MetricStats {
    let cells: Vec<Option<&str>> = cells.into_iter().collect();
    let mut acc = Acc::default();
    for &c in &cells {
        acc.first(c, &numeric);
    }
    acc.middle();
    for &c in &cells {
        acc.second(c, &numeric);
    }
    acc.finish()
}

/// [`describe`] as two passes over cells that are read back rather than held (a sweep
/// point may have a million seeds): [`Acc::first`] on every cell, [`Acc::middle`], then
/// [`Acc::second`] on the same cells in the same order, then [`Acc::finish`]. The sums
/// are the same folds in the same order as summing a list, so the bits are the same.
#[derive(Debug, Clone)]
pub struct Acc {
    stats: MetricStats,
    sum: f64,
    squares: f64,
}

impl Default for Acc {
    fn default() -> Acc {
        Acc {
            stats: MetricStats {
                n: 0,
                missing: 0,
                mean: None,
                min: None,
                max: None,
                ci95: None,
                counts: BTreeMap::new(),
            },
            // What summing nothing gives, so the folds start where `Iterator::sum` does.
            sum: std::iter::empty::<f64>().sum(),
            squares: std::iter::empty::<f64>().sum(),
        }
    }
}

impl Acc {
    /// The first pass: counts, sum, min and max.
    pub fn first(&mut self, cell: Option<&str>, numeric: impl Fn(&str) -> Option<f64>) {
        let s = &mut self.stats;
        match cell {
            None | Some("") => s.missing += 1,
            Some(c) => match numeric(c) {
                Some(v) => {
                    s.n += 1;
                    self.sum += v;
                    s.min = Some(s.min.map_or(v, |m| f64::min(m, v)));
                    s.max = Some(s.max.map_or(v, |m| f64::max(m, v)));
                }
                None => *s.counts.entry(c.to_string()).or_insert(0) += 1,
            },
        }
    }

    /// Between the passes: the mean.
    pub fn middle(&mut self) {
        if self.stats.n > 0 {
            self.stats.mean = Some(self.sum / self.stats.n as f64);
        }
    }

    /// The second pass: squared distances from the mean.
    pub fn second(&mut self, cell: Option<&str>, numeric: impl Fn(&str) -> Option<f64>) {
        if let (Some(mean), Some(v)) = (self.stats.mean, cell.and_then(&numeric)) {
            self.squares += (v - mean).powi(2);
        }
    }

    pub fn finish(self) -> MetricStats {
        let mut stats = self.stats;
        let n = stats.n;
        if let (Some(mean), true) = (stats.mean, n >= 2) {
            let var = self.squares / (n - 1) as f64;
            let half = t_975(n - 1) * (var / n as f64).sqrt();
            stats.ci95 = Some([mean - half, mean + half]);
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_975(1) - 12.706).abs() < 1e-3);
        assert!((t_975(9) - 2.262).abs() < 1e-3);
        assert!((t_975(40) - 2.021_075).abs() < 1e-5);
        assert!((t_975(60) - 2.000_298).abs() < 1e-5);
        assert!((t_975(120) - 1.979_930).abs() < 1e-5);
        assert!((t_975(1_000_000) - 1.959_966).abs() < 1e-5);
    }

    #[test]
    fn mean_min_max_and_interval() {
        let cells = ["1", "2", "3", "4", "5"];
        let s = describe(cells.iter().map(|c| Some(*c)), |c| c.parse().ok());
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, Some(3.0));
        assert_eq!((s.min, s.max), (Some(1.0), Some(5.0)));
        // sd = 1.5811, se = 0.7071, t(4) = 2.7764
        let [lo, hi] = s.ci95.unwrap();
        assert!((hi - 3.0 - 2.776_445 * 0.5f64.sqrt()).abs() < 1e-5);
        assert!((3.0 - lo - (hi - 3.0)).abs() < 1e-12);
    }

    #[test]
    fn text_and_missing_cells_are_counted() {
        let cells = [
            Some("recovered"),
            Some(""),
            None,
            Some("recovered"),
            Some("metastable"),
        ];
        let s = describe(cells, |c| c.parse().ok());
        assert_eq!(s.n, 0);
        assert_eq!(s.missing, 2);
        assert_eq!(s.counts["recovered"], 2);
        assert_eq!(s.mean, None);
        let one = describe([Some("7")], |c| c.parse().ok());
        assert_eq!((one.mean, one.ci95), (Some(7.0), None));
    }
}
