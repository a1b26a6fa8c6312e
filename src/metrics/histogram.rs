//! Latency histograms: percentiles from an HDR histogram (bounded memory, at most 0.1%
//! relative error), with the mean and the maximum kept exact alongside.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies recorded in nanoseconds.
///
/// Recording is on the hot path (a few times per request), reading happens once at the
/// end: values are counted in buckets indexed exactly as the HDR histogram indexes them
/// (1 ns to `highest`, 3 significant digits), and the HDR histogram that recording them
/// one by one would have made is built from those counts when read.
///
/// The full range has about 42,000 buckets (328 KiB of counts): held whole by every
/// service, a 10,000-service platform needed gigabytes. Counts live in chunks of
/// [`CHUNK`] buckets allocated when first touched, so a histogram costs what its values
/// spread over (an idle service: nothing), and the HDR histogram is built only for a read
/// and dropped after it. A chunk counts in bytes until one of its counts would pass 255,
/// then in `u64`: a minute of 1 ms latencies spreads over about 13,000 buckets holding a
/// few values each, 13 KiB instead of 104 (and a few pages, not 26, for the cache to miss).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    /// Non-zero values per HDR bucket index, in chunks of [`CHUNK`] buckets.
    chunks: Vec<Option<Chunk>>,
    /// The HDR histogram's highest trackable value, and the largest value with a bucket of
    /// its own: larger ones are recorded as `high`, as `saturating_record` clamps them.
    high: u64,
    in_range: u64,
    /// Non-zero values recorded, and the smallest (as recorded, after clamping).
    nonzero: u64,
    min_ns: u64,
    /// Zeros are counted apart: most waits at a lightly loaded station are zero, and a
    /// counter is much cheaper than a bucket.
    zeros: u64,
    sum_ns: u128,
    max_ns: u64,
}

/// Buckets per chunk of [`LatencyHistogram`] counts (256 B narrow, 2 KiB wide).
const CHUNK_BITS: u32 = 8;
const CHUNK: usize = 1 << CHUNK_BITS;

/// One chunk of counts: bytes while every count fits, `u64` after.
#[derive(Debug, Clone)]
enum Chunk {
    Narrow(Box<[u8; CHUNK]>),
    Wide(Box<[u64; CHUNK]>),
}

impl Chunk {
    fn get(&self, o: usize) -> u64 {
        match self {
            Chunk::Narrow(c) => c[o] as u64,
            Chunk::Wide(c) => c[o],
        }
    }
}

/// Latencies up to about 12 days are told apart in percentiles (longer ones share the top
/// bucket; the mean and maximum stay exact). A fixed range keeps memory the same for a
/// ten-minute run and a ten-week one.
pub const LATENCY_RANGE_NS: u64 = 1 << 50;

/// HDR layout for a lowest value of 1 and 3 significant digits: 2048 sub-buckets per
/// bucket, of which buckets after the first use the upper half.
const HDR_SUB_BITS: u32 = 11;
const HDR_HALF_BITS: u32 = HDR_SUB_BITS - 1;
const HDR_HALF: usize = 1 << HDR_HALF_BITS;

/// The HDR histogram's bucket index of `v` (its `index_for`).
#[inline]
fn hdr_index(v: u64) -> usize {
    let bucket = (64 - HDR_SUB_BITS) - (v | ((1 << HDR_SUB_BITS) - 1)).leading_zeros();
    ((bucket as usize + 1) << HDR_HALF_BITS) + (v >> bucket) as usize - HDR_HALF
}

/// The lowest value of HDR bucket index `i` (its `value_for`), and the bucket's width.
fn hdr_value(i: usize) -> (u64, u64) {
    let bucket = (i >> HDR_HALF_BITS) as i64 - 1;
    let sub = (i & (HDR_HALF - 1)) as u64;
    if bucket < 0 {
        (sub, 1)
    } else {
        ((sub + HDR_HALF as u64) << bucket, 1 << bucket)
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new(LATENCY_RANGE_NS)
    }
}

impl LatencyHistogram {
    /// A histogram for values up to `highest_ns` (larger ones are clamped for percentiles;
    /// the mean and the maximum stay exact).
    pub fn new(highest_ns: u64) -> Self {
        let hist = Self::empty_hdr(highest_ns);
        let len = hist.distinct_values();
        let (last, width) = hdr_value(len - 1);
        LatencyHistogram {
            chunks: Vec::new(),
            high: hist.high(),
            in_range: last.saturating_add(width - 1),
            nonzero: 0,
            min_ns: u64::MAX,
            zeros: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    fn empty_hdr(highest_ns: u64) -> Histogram<u64> {
        Histogram::new_with_bounds(1, highest_ns.max(2), 3)
            .expect("bounds are valid: 1 <= 2 <= highest")
    }

    #[inline]
    pub fn record(&mut self, ns: u64) {
        if ns == 0 {
            self.zeros += 1;
            return;
        }
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
        let v = if ns > self.in_range { self.high } else { ns };
        self.min_ns = self.min_ns.min(v);
        self.nonzero += 1;
        let i = hdr_index(v);
        let o = i & (CHUNK - 1);
        match self.chunks.get_mut(i >> CHUNK_BITS) {
            Some(Some(Chunk::Narrow(c))) if c[o] < u8::MAX => c[o] += 1,
            Some(Some(Chunk::Wide(c))) => c[o] += 1,
            _ => self.count_slowly(i),
        }
    }

    /// Counts bucket `i` whose chunk does not exist yet or is narrow and full there.
    #[cold]
    #[inline(never)]
    fn count_slowly(&mut self, i: usize) {
        let (c, o) = (i >> CHUNK_BITS, i & (CHUNK - 1));
        if self.chunks.len() <= c {
            self.chunks.resize_with(c + 1, || None);
        }
        let chunk = self.chunks[c].get_or_insert_with(|| Chunk::Narrow(Box::new([0; CHUNK])));
        if let Chunk::Narrow(n) = chunk {
            if n[o] < u8::MAX {
                n[o] += 1;
                return;
            }
            *chunk = Chunk::Wide(Box::new(n.map(u64::from)));
        }
        if let Chunk::Wide(w) = chunk {
            w[o] += 1;
        }
    }

    /// The non-empty buckets, as `(HDR index, count)` in index order.
    fn counts(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.chunks.iter().enumerate().flat_map(|(c, chunk)| {
            chunk.iter().flat_map(move |chunk| {
                (0..CHUNK)
                    .map(move |o| ((c << CHUNK_BITS) + o, chunk.get(o)))
                    .filter(|&(_, n)| n > 0)
            })
        })
    }

    /// The HDR histogram of the non-zero values: the counts, recorded at a value of their
    /// bucket, with the smallest and the largest value recorded as themselves so that its
    /// minimum and maximum are those of one-by-one recording too. Built for one read.
    fn hdr(&self) -> Histogram<u64> {
        {
            let mut h = Self::empty_hdr(self.high);
            if self.nonzero == 0 {
                return h;
            }
            let max = if self.max_ns > self.in_range {
                self.high
            } else {
                self.max_ns
            };
            let (lo, hi) = (hdr_index(self.min_ns), hdr_index(max));
            for (i, n) in self.counts() {
                let mut record = |v: u64, n: u64| {
                    if n > 0 {
                        h.record_n(v, n).expect("a value of a bucket in range");
                    }
                };
                if i == lo && i == hi {
                    record(self.min_ns, n - (max != self.min_ns) as u64);
                    record(max, (max != self.min_ns) as u64);
                } else if i == lo {
                    record(self.min_ns, n);
                } else if i == hi {
                    record(max, n);
                } else {
                    record(hdr_value(i).0, n);
                }
            }
            h
        }
    }

    pub fn count(&self) -> u64 {
        self.nonzero + self.zeros
    }

    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    pub fn quantile_ns(&self, q: f64) -> f64 {
        self.quantiles_ns([q])[0]
    }

    /// Several quantiles from one build of the HDR histogram.
    pub fn quantiles_ns<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        if self.count() == 0 {
            return [0.0; N];
        }
        let hdr = (self.nonzero > 0).then(|| self.hdr());
        qs.map(|q| self.quantile_in(hdr.as_ref(), q))
    }

    fn quantile_in(&self, hdr: Option<&Histogram<u64>>, q: f64) -> f64 {
        // The zeros come first; the rest is the HDR histogram's quantile, rescaled.
        let total = self.count() as f64;
        let below = q * total;
        if below <= self.zeros as f64 {
            return 0.0;
        }
        let rest = ((below - self.zeros as f64) / self.nonzero as f64).clamp(0.0, 1.0);
        // HDR reports the top of the bucket; the true maximum caps it.
        let hdr = hdr.expect("values above zero have a histogram");
        hdr.value_at_quantile(rest).min(self.max_ns) as f64
    }

    /// The summary in milliseconds.
    pub fn summary_ms(&self) -> Latency {
        let ms = |ns: f64| ns / 1e6;
        let [p50, p95, p99, p999] = self.quantiles_ns([0.50, 0.95, 0.99, 0.999]);
        Latency {
            mean: ms(self.mean_ns()),
            p50: ms(p50),
            p95: ms(p95),
            p99: ms(p99),
            p999: ms(p999),
            max: ms(self.max_ns as f64),
        }
    }

    /// The non-empty buckets, twenty per decade from 1 us, as `(from_ms, to_ms, count)`
    /// (zeros as `(0, 0, n)`): the shape of the distribution, for latency.csv and charts.
    pub fn buckets_ms(&self) -> Vec<(f64, f64, u64)> {
        let mut out = Vec::new();
        if self.zeros > 0 {
            out.push((0.0, 0.0, self.zeros));
        }
        if self.nonzero == 0 {
            return out;
        }
        let mut from = 0.0;
        let hdr = self.hdr();
        for v in hdr.iter_log(1_000, 10f64.powf(0.05)) {
            let to = v.value_iterated_to() as f64 / 1e6;
            if v.count_since_last_iteration() > 0 {
                out.push((from, to, v.count_since_last_iteration()));
            }
            from = to;
        }
        out
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

/// Sub-buckets per power of two in a window histogram: with each bucket read as its
/// middle, 64 keep every value within 0.8%. 64 is also the width of the occupancy mask.
const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS;
/// Values up to 2^42 ns (about 73 minutes) are told apart; longer ones share the top bucket.
const TOP_SHIFT: usize = 42 - SUB_BITS as usize;
const OCTAVES: usize = TOP_SHIFT + 2;

/// A log-linear histogram for one time-series window, reset every window.
///
/// Windows are many and often hold few values, so reading and resetting must cost what
/// the window used, not the size of the range (an HDR histogram clears and scans all of
/// its buckets). Each octave keeps a total and a 64-bit mask of its non-empty buckets:
/// a quantile skips whole octaves by their totals and walks only set bits.
#[derive(Debug, Clone)]
pub struct WindowHistogram {
    counts: Vec<u32>,
    octave_total: [u32; OCTAVES],
    occupied: [u64; OCTAVES],
    total: u64,
}

impl Default for WindowHistogram {
    fn default() -> Self {
        WindowHistogram {
            counts: vec![0; OCTAVES * SUB],
            octave_total: [0; OCTAVES],
            occupied: [0; OCTAVES],
            total: 0,
        }
    }
}

impl WindowHistogram {
    #[inline]
    fn index(ns: u64) -> usize {
        if ns < SUB as u64 {
            return ns as usize;
        }
        let shift = (63 - ns.leading_zeros() - SUB_BITS) as usize;
        if shift > TOP_SHIFT {
            return OCTAVES * SUB - 1;
        }
        (shift + 1) * SUB + ((ns >> shift) as usize & (SUB - 1))
    }

    /// The middle of bucket `i`, in nanoseconds.
    fn value(i: usize) -> f64 {
        if i < SUB {
            return i as f64;
        }
        let shift = i / SUB - 1;
        let low = ((SUB + i % SUB) as u64) << shift;
        low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
    }

    #[inline]
    pub fn record(&mut self, ns: u64) {
        let i = Self::index(ns);
        let octave = i / SUB;
        self.counts[i] = self.counts[i].saturating_add(1);
        self.octave_total[octave] = self.octave_total[octave].saturating_add(1);
        self.occupied[octave] |= 1 << (i % SUB);
        self.total += 1;
    }

    /// Quantile in milliseconds, 0 when the window saw nothing.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.quantiles_ms([q])[0]
    }

    /// Several quantiles (in increasing order) in one pass, in milliseconds.
    pub fn quantiles_ms<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        let mut out = [0.0; N];
        if self.total == 0 {
            return out;
        }
        let ranks = qs.map(|q| ((q * self.total as f64).ceil() as u64).clamp(1, self.total));
        let mut k = 0;
        let mut seen = 0u64;
        for octave in 0..OCTAVES {
            if k == N {
                break;
            }
            let total = self.octave_total[octave] as u64;
            if seen + total < ranks[k] {
                seen += total;
                continue;
            }
            let mut bits = self.occupied[octave];
            while bits != 0 && k < N {
                let i = octave * SUB + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                seen += self.counts[i] as u64;
                while k < N && seen >= ranks[k] {
                    out[k] = Self::value(i) / 1e6;
                    k += 1;
                }
            }
        }
        out
    }

    pub fn reset(&mut self) {
        if self.total == 0 {
            return;
        }
        for octave in 0..OCTAVES {
            let mut bits = self.occupied[octave];
            while bits != 0 {
                self.counts[octave * SUB + bits.trailing_zeros() as usize] = 0;
                bits &= bits - 1;
            }
        }
        self.octave_total = [0; OCTAVES];
        self.occupied = [0; OCTAVES];
        self.total = 0;
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
    fn window_histogram_is_within_one_percent_and_resets() {
        let mut h = WindowHistogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 10_000); // 10us .. 1s
        }
        for (q, want_ms) in [(0.5, 500.0), (0.99, 990.0), (0.01, 10.0)] {
            let got = h.quantile_ms(q);
            assert!(
                (got / want_ms - 1.0).abs() < 0.01,
                "q{q}: {got} vs {want_ms}"
            );
        }
        h.reset();
        assert_eq!(h.quantile_ms(0.5), 0.0);
        h.record(3);
        assert_eq!(h.quantile_ms(0.99), 3e-6);
        h.record(u64::MAX);
        assert!(h.quantile_ms(1.0) > 4e6);
    }

    #[test]
    fn zeros_are_counted_apart_but_shape_the_quantiles() {
        let mut h = LatencyHistogram::new(1_000_000_000);
        for _ in 0..600 {
            h.record(0);
        }
        for v in 1..=400u64 {
            h.record(v * 1_000_000); // 1..400 ms
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.quantile_ns(0.5), 0.0);
        assert_eq!(h.quantile_ns(0.6), 0.0);
        let p80 = h.quantile_ns(0.8) / 1e6; // the 200th of the 400 non-zero values
        assert!((p80 / 200.0 - 1.0).abs() < 0.002, "{p80}");
        let p99 = h.quantile_ns(0.99) / 1e6; // the 390th
        assert!((p99 / 390.0 - 1.0).abs() < 0.002, "{p99}");
        assert_eq!(h.mean_ns(), (1..=400u64).sum::<u64>() as f64 * 1e6 / 1000.0);
    }

    /// The buckets give exactly the HDR histogram of recording each value, clamping included.
    #[test]
    fn same_hdr_histogram_as_recording_one_by_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (highest, n) in [(LATENCY_RANGE_NS, 20_000), (1_000_000_000, 5_000), (10, 50)] {
            for spread in [4u32, 20, 40, 64] {
                let mut ours = LatencyHistogram::new(highest);
                let mut hdr = LatencyHistogram::empty_hdr(highest);
                for _ in 0..n {
                    let v = rng.random::<u64>() >> rng.random_range(64 - spread..64);
                    ours.record(v);
                    if v > 0 {
                        hdr.saturating_record(v);
                    }
                }
                assert!(ours.hdr() == hdr, "highest {highest}, spread {spread}");
                assert_eq!(ours.hdr().max(), hdr.max());
                assert_eq!(ours.hdr().min_nz(), hdr.min_nz());
                assert_eq!(ours.count(), hdr.len() + ours.zeros);
            }
        }
        for i in [0, 1, 1023, 1024, 2047, 2048, 3071, 3072, 40_000] {
            let (v, width) = hdr_value(i);
            assert_eq!((hdr_index(v), hdr_index(v + width - 1)), (i, i));
            assert_eq!(hdr_index(v + width), i + 1);
        }
    }

    /// A bucket counted past a byte's 255 keeps every count (its chunk widens).
    #[test]
    fn counts_past_a_byte_are_kept() {
        let mut h = LatencyHistogram::default();
        for _ in 0..1_000 {
            h.record(5_000);
        }
        h.record(6_000);
        h.record(7_000);
        let hdr = h.hdr();
        assert_eq!(hdr.count_at(5_000), 1_000);
        assert_eq!((hdr.count_at(6_000), hdr.count_at(7_000)), (1, 1));
        assert_eq!((h.count(), hdr.len()), (1_002, 1_002));
    }

    #[test]
    fn empty_is_zero_not_nan() {
        let h = LatencyHistogram::new(10);
        assert_eq!(h.summary_ms(), Latency::default());
    }
}
