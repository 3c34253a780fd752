//! A sample of non-negative values (seconds) whose memory stays bounded however many values
//! arrive: exact up to [`EXACT_CAP`] values, then a log-bucketed histogram.
//!
//! **What it keeps.** Up to 2^18 values exactly (2 MiB): quantiles, mean and variance are then
//! computed from the sorted values, so runs of the size of the study's (hundreds of executions)
//! are summarized exactly. Past the cap the values move into a histogram of logarithmic
//! buckets, each at most 2^-10 (0.1 %) wide relative to its values, from 1 ns up (a value
//! below 1 ns counts as zero): a bucket is the value's binary exponent and the top 10 bits of
//! its mantissa (no logarithm per value), and a quantile is the middle of its bucket, within
//! 0.05 % of a value of that rank, clamped to the observed minimum and maximum; the count,
//! minimum, maximum, sum and sum of squares stay exact (in insertion order), so the mean is
//! exact and the variance is the one-pass estimate. A histogram takes at most about 500 KiB
//! (60 binary orders of magnitude of 1,024 buckets), whatever the number of values.
//!
//! **Determinism.** Pushing and merging in the same order give the same bytes; the switch to the
//! histogram depends only on the count.

/// Values kept exactly before the sample switches to the histogram.
pub const EXACT_CAP: usize = 1 << 18;

/// Mantissa bits a histogram bucket keeps (2^10 buckets per binary order of magnitude).
const MANTISSA_BITS: u32 = 10;
/// Smallest value with a bucket of its own (1 ns); smaller values count as zero.
const FLOOR: f64 = 1e-9;
const SHIFT: u32 = 52 - MANTISSA_BITS;

/// A bounded-memory sample; see the module docs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    exact: Vec<f64>,
    hist: Option<Hist>,
    n: u64,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Hist {
    zeros: u64,
    counts: Vec<u64>,
}

impl Hist {
    fn bucket(v: f64) -> Option<usize> {
        // Positive finite doubles order as their bits: the top bits are a log-linear bucket.
        if v < FLOOR { None } else { Some(((v.to_bits() >> SHIFT) - (FLOOR.to_bits() >> SHIFT)) as usize) }
    }

    fn add(&mut self, v: f64, count: u64) {
        match Hist::bucket(v) {
            None => self.zeros += count,
            Some(b) => {
                if b >= self.counts.len() {
                    self.counts.resize(b + 1, 0);
                }
                self.counts[b] += count;
            }
        }
    }

    /// The representative value of bucket `b`: its middle.
    fn value(b: usize) -> f64 {
        let lo = ((b as u64) + (FLOOR.to_bits() >> SHIFT)) << SHIFT;
        (f64::from_bits(lo) + f64::from_bits(lo + (1 << SHIFT))) / 2.0
    }

    /// [`Hist::at_rank`] of each of `ranks` (non-decreasing), in one sweep of the buckets.
    fn at_ranks(&self, ranks: impl Iterator<Item = u64>) -> Vec<f64> {
        let last = self.counts.len().checked_sub(1).map_or(0.0, Hist::value);
        let (mut b, mut below) = (0usize, self.zeros);
        ranks
            .map(|r| {
                if r < self.zeros {
                    return 0.0;
                }
                debug_assert!(r + 1 >= below, "ranks are non-decreasing");
                while b < self.counts.len() && r >= below + self.counts[b] {
                    below += self.counts[b];
                    b += 1;
                }
                if b < self.counts.len() { Hist::value(b) } else { last }
            })
            .collect()
    }

    /// The value of rank `r` (0-based) among `zeros + sum(counts)`.
    fn at_rank(&self, r: u64) -> f64 {
        if r < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if r < seen {
                return Hist::value(b);
            }
        }
        self.counts.len().checked_sub(1).map_or(0.0, Hist::value)
    }
}

impl Sample {
    /// An empty sample.
    pub fn new() -> Sample {
        Sample::default()
    }

    /// Adds a value (negative values are taken as zero).
    pub fn push(&mut self, v: f64) {
        let v = v.max(0.0);
        if self.n == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.n += 1;
        self.sum += v;
        self.sum_sq += v * v;
        match &mut self.hist {
            Some(h) => h.add(v, 1),
            None => {
                self.exact.push(v);
                if self.exact.len() > EXACT_CAP {
                    self.spill();
                }
            }
        }
    }

    /// Adds every value of `other` (as if pushed after this sample's values).
    pub fn merge(&mut self, other: &Sample) {
        if other.n == 0 {
            return;
        }
        match &other.hist {
            None => {
                for &v in &other.exact {
                    self.push(v);
                }
            }
            Some(oh) => {
                if self.hist.is_none() {
                    self.spill();
                }
                if self.n == 0 {
                    self.min = other.min;
                    self.max = other.max;
                } else {
                    self.min = self.min.min(other.min);
                    self.max = self.max.max(other.max);
                }
                self.n += other.n;
                self.sum += other.sum;
                self.sum_sq += other.sum_sq;
                let h = self.hist.get_or_insert_with(Hist::default);
                h.zeros += oh.zeros;
                if oh.counts.len() > h.counts.len() {
                    h.counts.resize(oh.counts.len(), 0);
                }
                for (a, b) in h.counts.iter_mut().zip(&oh.counts) {
                    *a += b;
                }
            }
        }
    }

    fn spill(&mut self) {
        let mut h = Hist::default();
        for &v in &self.exact {
            h.add(v, 1);
        }
        self.exact = Vec::new();
        self.hist = Some(h);
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether every value is still kept exactly.
    pub fn is_exact(&self) -> bool {
        self.hist.is_none()
    }

    /// The exact values, sorted, while the sample is exact.
    pub fn sorted_exact(&self) -> Option<Vec<f64>> {
        self.hist.is_none().then(|| {
            let mut v = self.exact.clone();
            v.sort_by(f64::total_cmp);
            v
        })
    }

    /// Smallest and largest value (0 when empty).
    pub fn min_max(&self) -> (f64, f64) {
        (self.min, self.max)
    }

    /// Sum and sum of squares, in insertion order.
    pub fn sums(&self) -> (f64, f64) {
        (self.sum, self.sum_sq)
    }

    /// Quantile `q` in [0, 1] (Hyndman-Fan type 7 on the exact values; the bucket of rank
    /// `floor((n - 1) q)` in the histogram). 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.hist {
            None => {
                let mut v = self.exact.clone();
                v.sort_by(f64::total_cmp);
                quantile_sorted(&v, q)
            }
            Some(h) => h.at_rank(self.rank_of(q)).clamp(self.min, self.max),
        }
    }

    /// The values for a CDF: every value, sorted, while exact; else `points` quantiles evenly
    /// spaced in rank (each as [`Sample::quantile`] gives it, in one sweep of the histogram).
    pub fn cdf_values(&self, points: usize) -> Vec<f64> {
        let Some(h) = &self.hist else {
            return self.sorted_exact().unwrap_or_default();
        };
        let points = points.max(2);
        let ranks = (0..points).map(|i| self.rank_of(i as f64 / (points - 1) as f64));
        h.at_ranks(ranks).into_iter().map(|v| v.clamp(self.min, self.max)).collect()
    }

    /// The 0-based rank whose value is quantile `q` of the histogram.
    fn rank_of(&self, q: f64) -> u64 {
        ((self.n - 1) as f64 * q.clamp(0.0, 1.0)).floor() as u64
    }
}

/// Quantile `q` in [0, 1] of a sorted, non-empty sample (Hyndman-Fan type 7, NumPy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_are_exact() {
        let mut s = Sample::new();
        for v in [1.0, 2.0, 3.0, 4.0, 10.0] {
            s.push(v);
        }
        assert!(s.is_exact());
        assert_eq!(s.quantile(0.5), 3.0);
        assert!((s.quantile(0.95) - 8.8).abs() < 1e-12);
    }

    #[test]
    fn a_histograms_cdf_takes_each_point_as_its_quantile() {
        // The CDF of a sample past the exact cap is swept once through the histogram; each of
        // its points must be what `quantile` gives at that point.
        let mut s = Sample::new();
        let n = EXACT_CAP as u64 + 1000;
        for i in 0..n {
            let k = (i * 2_654_435_761) % n;
            s.push(if k.is_multiple_of(97) { 0.0 } else { 1e-3 * (k + 1) as f64 });
        }
        assert!(!s.is_exact());
        let points = 1001;
        let cdf = s.cdf_values(points);
        assert_eq!(cdf.len(), points);
        for (i, &v) in cdf.iter().enumerate() {
            assert_eq!(v, s.quantile(i as f64 / (points - 1) as f64), "point {i}");
        }
    }

    #[test]
    fn large_samples_stay_bounded_and_close() {
        let mut s = Sample::new();
        let n = EXACT_CAP as u64 * 4;
        for i in 0..n {
            // Uniform on (0, 100] s, in a scrambled order.
            let k = (i * 2_654_435_761) % n;
            s.push(100.0 * (k + 1) as f64 / n as f64);
        }
        assert!(!s.is_exact());
        assert_eq!(s.len(), n);
        for q in [0.01, 0.5, 0.95, 0.99, 0.999] {
            let got = s.quantile(q);
            let want = 100.0 * q;
            assert!((got - want).abs() / want < 2e-3, "q {q}: {got} vs {want}");
        }
        let (sum, _) = s.sums();
        assert!((sum / n as f64 - 50.0 * (n + 1) as f64 / n as f64).abs() < 1e-6);
        // Memory: one histogram, no exact values.
        assert!(s.exact.is_empty() && s.hist.as_ref().is_some_and(|h| h.counts.len() < 70_000));
    }

    #[test]
    fn merging_equals_pushing_in_order() {
        let (mut a, mut b, mut all) = (Sample::new(), Sample::new(), Sample::new());
        for i in 0..1000 {
            let v = f64::from(i) * 0.37;
            if i < 600 {
                a.push(v)
            } else {
                b.push(v)
            }
            all.push(v);
        }
        a.merge(&b);
        assert_eq!(a, all);
        let mut z = Sample::new();
        z.push(0.0);
        z.push(1e-12);
        assert_eq!(z.quantile(1.0), 1e-12_f64.max(0.0));
    }
}
