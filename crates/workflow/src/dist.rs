//! Duration distributions of workflow steps.
//!
//! Written in TOML as a tagged table whose value keys carry the unit:
//!
//! ```toml
//! cpu_s = { dist = "fixed", value_s = 1.5 }
//! cpu_s = { dist = "uniform", low_s = 1.0, high_s = 2.0 }
//! cpu_s = { dist = "normal", mean_s = 1.5, std_s = 0.1 }        # truncated at zero
//! cpu_s = { dist = "lognormal", median_s = 1.5, sigma = 0.2 }   # sigma of ln(duration)
//! cpu_s = { dist = "exponential", mean_s = 1.5 }
//! cpu_s = { dist = "empirical", quantiles_s = [[0.0, 1.0], [0.5, 1.4], [0.99, 3.0], [1.0, 4.0]] }
//! ```
//!
//! Samples are seconds as `f64`, converted once to integer nanoseconds by the caller. The normal
//! distribution is truncated at zero by clamping (a duration cannot be negative); with a
//! coefficient of variation under 0.3 this moves less than 0.2 % of the mass.
//! `empirical` interpolates linearly between the given (probability, seconds) points, which must
//! start at probability 0, end at 1 and be non-decreasing in both coordinates.

use rand::Rng;
use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};
use serde::Deserialize;

use crate::source::KeyError;

/// A duration distribution as written in TOML.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDist {
    /// Always the same value.
    Fixed {
        /// The value in seconds.
        value_s: f64,
    },
    /// Uniform on `[low_s, high_s]`.
    Uniform {
        /// Lower bound, seconds.
        low_s: f64,
        /// Upper bound, seconds.
        high_s: f64,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean, seconds.
        mean_s: f64,
        /// Standard deviation, seconds.
        std_s: f64,
    },
    /// Log-normal given by its median and the standard deviation of the log.
    Lognormal {
        /// Median, seconds.
        median_s: f64,
        /// Standard deviation of ln(duration), dimensionless.
        sigma: f64,
    },
    /// Exponential with the given mean (memoryless service, for queueing checks).
    Exponential {
        /// Mean, seconds.
        mean_s: f64,
    },
    /// Piecewise-linear inverse CDF through (probability, seconds) points.
    Empirical {
        /// `[probability, seconds]` pairs.
        quantiles_s: Vec<[f64; 2]>,
    },
}

/// A validated duration distribution, ready to sample.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always `0` seconds.
    Fixed(f64),
    /// Uniform on `[low, high]` seconds.
    Uniform(f64, f64),
    /// Normal (clamped at zero).
    Normal(Normal<f64>),
    /// Log-normal, with its analytic mean in seconds.
    LogNormal(LogNormal<f64>, f64),
    /// Exponential with this mean, seconds.
    Exponential(f64),
    /// Piecewise-linear inverse CDF (probabilities, seconds).
    Empirical(Vec<f64>, Vec<f64>),
}

/// The longest duration a parameter may have, seconds (about 31.7 years): far beyond any
/// serverless horizon, and far inside the 584 years that `u64` nanoseconds can count.
pub const MAX_SECONDS: f64 = 1e9;

fn check_nonneg(key: &str, name: &str, v: f64) -> Result<(), KeyError> {
    if v.is_finite() && (0.0..=MAX_SECONDS).contains(&v) {
        Ok(())
    } else {
        Err(KeyError::new(
            format!("{key}.{name}"),
            format!("must be a finite number in [0, {MAX_SECONDS:e}], got {}", crate::short_number(v)),
        ))
    }
}

impl Dist {
    /// A distribution that always gives `secs`.
    pub fn fixed(secs: f64) -> Dist {
        Dist::Fixed(secs)
    }

    /// Validates a raw distribution found at key path `key`.
    pub fn from_raw(raw: &RawDist, key: &str) -> Result<Dist, KeyError> {
        match *raw {
            RawDist::Fixed { value_s } => {
                check_nonneg(key, "value_s", value_s)?;
                Ok(Dist::Fixed(value_s))
            }
            RawDist::Uniform { low_s, high_s } => {
                check_nonneg(key, "low_s", low_s)?;
                check_nonneg(key, "high_s", high_s)?;
                if high_s < low_s {
                    return Err(KeyError::new(format!("{key}.high_s"), format!("must be >= low_s ({low_s}), got {high_s}")));
                }
                Ok(Dist::Uniform(low_s, high_s))
            }
            RawDist::Normal { mean_s, std_s } => {
                check_nonneg(key, "mean_s", mean_s)?;
                check_nonneg(key, "std_s", std_s)?;
                Normal::new(mean_s, std_s).map(Dist::Normal).map_err(|e| KeyError::new(key, format!("invalid normal distribution: {e}")))
            }
            RawDist::Lognormal { median_s, sigma } => {
                check_nonneg(key, "median_s", median_s)?;
                check_nonneg(key, "sigma", sigma)?;
                if median_s == 0.0 {
                    return Err(KeyError::new(format!("{key}.median_s"), "must be > 0 (use dist = \"fixed\" for zero)"));
                }
                LogNormal::new(median_s.ln(), sigma)
                    .map(|l| Dist::LogNormal(l, median_s * (sigma * sigma / 2.0).exp()))
                    .map_err(|e| KeyError::new(key, format!("invalid lognormal distribution: {e}")))
            }
            RawDist::Exponential { mean_s } => {
                check_nonneg(key, "mean_s", mean_s)?;
                Ok(Dist::Exponential(mean_s))
            }
            RawDist::Empirical { ref quantiles_s } => {
                let k = format!("{key}.quantiles_s");
                if quantiles_s.len() < 2 {
                    return Err(KeyError::new(k, "needs at least two [probability, seconds] points"));
                }
                let mut ps = Vec::with_capacity(quantiles_s.len());
                let mut vs = Vec::with_capacity(quantiles_s.len());
                for (i, [p, v]) in quantiles_s.iter().copied().enumerate() {
                    let ki = format!("{k}.{i}");
                    if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                        return Err(KeyError::new(ki, format!("probability must be in [0, 1], got {p}")));
                    }
                    if !(v.is_finite() && (0.0..=MAX_SECONDS).contains(&v)) {
                        return Err(KeyError::new(
                            ki,
                            format!("seconds must be a finite number in [0, {MAX_SECONDS:e}], got {}", crate::short_number(v)),
                        ));
                    }
                    if let (Some(&lp), Some(&lv)) = (ps.last(), vs.last())
                        && (p < lp || v < lv)
                    {
                        return Err(KeyError::new(ki, "points must be non-decreasing in probability and in seconds"));
                    }
                    ps.push(p);
                    vs.push(v);
                }
                if ps[0] != 0.0 || ps[ps.len() - 1] != 1.0 {
                    return Err(KeyError::new(k, "the first point must have probability 0 and the last probability 1"));
                }
                Ok(Dist::Empirical(ps, vs))
            }
        }
    }

    /// Draws one value in seconds (never negative).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform(lo, hi) => {
                if hi > lo {
                    rng.random_range(*lo..=*hi)
                } else {
                    *lo
                }
            }
            Dist::Normal(n) => n.sample(rng).max(0.0),
            Dist::LogNormal(l, _) => l.sample(rng),
            Dist::Exponential(mean) => {
                let u: f64 = rng.random();
                -(1.0 - u).ln() * mean
            }
            Dist::Empirical(ps, vs) => {
                let u: f64 = rng.random();
                let i = ps.partition_point(|&p| p <= u).clamp(1, ps.len() - 1);
                let (p0, p1, v0, v1) = (ps[i - 1], ps[i], vs[i - 1], vs[i]);
                if p1 > p0 { v0 + (v1 - v0) * (u - p0) / (p1 - p0) } else { v1 }
            }
        }
    }

    /// The mean in seconds (exact for every kind; the normal ignores its truncation).
    pub fn mean_s(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform(lo, hi) => (lo + hi) / 2.0,
            Dist::Normal(n) => n.mean(),
            Dist::LogNormal(_, mean) => *mean,
            Dist::Exponential(mean) => *mean,
            Dist::Empirical(ps, vs) => ps.windows(2).zip(vs.windows(2)).map(|(p, v)| (p[1] - p[0]) * (v[0] + v[1]) / 2.0).sum(),
        }
    }

    /// True if every sample is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Fixed(v) if *v == 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn mean_of(d: &Dist, n: usize) -> f64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let cases = [
            RawDist::Fixed { value_s: 2.0 },
            RawDist::Uniform { low_s: 1.0, high_s: 3.0 },
            RawDist::Normal { mean_s: 5.0, std_s: 0.5 },
            RawDist::Lognormal { median_s: 1.0, sigma: 0.5 },
            RawDist::Empirical { quantiles_s: vec![[0.0, 1.0], [0.5, 2.0], [1.0, 10.0]] },
        ];
        for raw in &cases {
            let d = Dist::from_raw(raw, "k").expect("valid");
            let m = mean_of(&d, 200_000);
            assert!((m - d.mean_s()).abs() / d.mean_s() < 0.01, "{raw:?}: sample mean {m} vs {}", d.mean_s());
        }
    }

    #[test]
    fn invalid_parameters_name_the_key() {
        let e = Dist::from_raw(&RawDist::Lognormal { median_s: -1.0, sigma: 0.1 }, "steps.a.cpu_s").unwrap_err();
        assert_eq!(e.key, "steps.a.cpu_s.median_s");
        let e = Dist::from_raw(&RawDist::Fixed { value_s: f64::NAN }, "x").unwrap_err();
        assert_eq!(e.key, "x.value_s");
        let e = Dist::from_raw(&RawDist::Empirical { quantiles_s: vec![[0.0, 2.0], [1.0, 1.0]] }, "x").unwrap_err();
        assert_eq!(e.key, "x.quantiles_s.1");
        let e = Dist::from_raw(&RawDist::Uniform { low_s: 2.0, high_s: 1.0 }, "x").unwrap_err();
        assert_eq!(e.key, "x.high_s");
    }
}
