//! Latency histograms: percentiles from an HDR histogram (bounded memory, at most 0.1%
//! relative error), with the mean and the maximum kept exact alongside.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies recorded in nanoseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_ns: u128,
    max_ns: u64,
}

impl LatencyHistogram {
    /// A histogram for values up to `highest_ns` (larger ones are clamped for percentiles;
    /// the mean and the maximum stay exact).
    pub fn new(highest_ns: u64) -> Self {
        let hist = Histogram::new_with_bounds(1, highest_ns.max(2), 3)
            .expect("bounds are valid: 1 <= 2 <= highest");
        LatencyHistogram {
            hist,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns);
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    pub fn quantile_ns(&self, q: f64) -> f64 {
        if self.count() == 0 {
            return 0.0;
        }
        // HDR reports the top of the bucket; the true maximum caps it.
        self.hist.value_at_quantile(q).min(self.max_ns) as f64
    }

    /// The summary in milliseconds.
    pub fn summary_ms(&self) -> Latency {
        let ms = |ns: f64| ns / 1e6;
        Latency {
            mean: ms(self.mean_ns()),
            p50: ms(self.quantile_ns(0.50)),
            p95: ms(self.quantile_ns(0.95)),
            p99: ms(self.quantile_ns(0.99)),
            p999: ms(self.quantile_ns(0.999)),
            max: ms(self.max_ns as f64),
        }
    }
}

/// A latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// A small histogram for one time-series window: 1% precision, reset every window.
#[derive(Debug, Clone)]
pub struct WindowHistogram {
    hist: Histogram<u32>,
}

impl WindowHistogram {
    pub fn new(highest_ns: u64) -> Self {
        // Microsecond resolution is plenty for a chart and keeps the reset cheap.
        let hist = Histogram::new_with_bounds(1_000, highest_ns.max(2_000), 2)
            .expect("bounds are valid");
        WindowHistogram { hist }
    }

    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns);
    }

    /// Quantile in milliseconds, 0 when the window saw nothing.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            0.0
        } else {
            self.hist.value_at_quantile(q) as f64 / 1e6
        }
    }

    pub fn reset(&mut self) {
        if !self.hist.is_empty() {
            self.hist.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mean_and_max_close_percentiles() {
        let mut h = LatencyHistogram::new(1_000_000_000_000);
        for v in 1..=10_000u64 {
            h.record(v * 1_000); // 1us .. 10ms
        }
        let s = h.summary_ms();
        assert_eq!(s.mean, 5.0005);
        assert_eq!(s.max, 10.0);
        assert!((s.p50 / 5.0 - 1.0).abs() < 0.001, "{}", s.p50);
        assert!((s.p99 / 9.9 - 1.0).abs() < 0.001, "{}", s.p99);
    }

    #[test]
    fn empty_is_zero_not_nan() {
        let h = LatencyHistogram::new(10);
        assert_eq!(h.summary_ms(), Latency::default());
    }
}
