//! Cold starts: creating a function instance before it can run an execution.
//!
//! **Models.** `delay = runtime start + package_mb × load rate + initialization`, where runtime
//! start is log-normal (median, sigma), load time grows linearly with the code package (what a
//! cold start loads, paper.md Table II), and initialization is the function's own import/setup
//! time (a distribution per deployment, `init_s` in the scenario, default zero).
//!
//! **Parameters.** `runtime_s_median`, `runtime_sigma`, `package_load_s_per_mb` per platform in
//! `models/*.toml` (MS cold-start data for Python; the load rate is an assumption bounded by the
//! study's cold-start figures, see the model files).
//!
//! **Scope and limitations.** No placement or image-cache effects, no dependence on memory size
//! (MS found none for Lambda); Lambda's boosted CPU during init is not modelled separately
//! (initialization is given as wall time). Cold starts of Azure hosts load the whole app.
//!
//! **Validation.** Unit test: the deterministic part equals the hand-computed load time; the
//! median of the random part matches the model median.

use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use sfsim_engine::SimDuration;
use sfsim_workflow::Dist;

/// A platform's cold-start model for one deployment's code package.
#[derive(Clone, Debug)]
pub struct ColdStart {
    runtime: LogNormal<f64>,
    /// Code package loaded, MiB.
    pub package_mb: f64,
    /// Load rate, seconds per MiB.
    pub load_s_per_mb: f64,
    /// Function initialization time.
    pub init: Dist,
}

impl ColdStart {
    /// A model with runtime start `lognormal(median, sigma)`.
    pub fn new(runtime_s_median: f64, runtime_sigma: f64, package_mb: f64, load_s_per_mb: f64, init: Dist) -> Self {
        let runtime = LogNormal::new(runtime_s_median.max(1e-9).ln(), runtime_sigma).expect("validated cold-start parameters");
        ColdStart { runtime, package_mb, load_s_per_mb, init }
    }

    /// The deterministic package-load part, seconds.
    pub fn package_load_s(&self) -> f64 {
        self.package_mb * self.load_s_per_mb
    }

    /// Samples one cold-start delay.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        SimDuration::from_secs_f64(self.runtime.sample(rng) + self.package_load_s() + self.init.sample(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn delay_is_runtime_plus_package_load_plus_init() {
        let c = ColdStart::new(0.22, 0.0, 70.8, 0.018, Dist::fixed(0.5));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        // sigma 0: runtime start is exactly the median.
        assert_eq!(c.sample(&mut rng), SimDuration::from_secs_f64(0.22 + 70.8 * 0.018 + 0.5));
        let c = ColdStart::new(1.3, 0.5, 0.0, 0.0, Dist::fixed(0.0));
        let mut v: Vec<f64> = (0..20_001).map(|_| c.sample(&mut rng).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        assert!((v[10_000] - 1.3).abs() < 0.03, "median {}", v[10_000]);
    }
}
