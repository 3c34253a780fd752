//! `sfsim calibrate`: fitting the assumed parameters to the study's targets.
//!
//! **Method.** Coordinate search: each parameter in turn is optimized by golden-section search
//! over its range (on a log scale when the range spans more than a decade), the others held,
//! for a few passes. The loss is the sum of the targets' distances outside their bands
//! ([`crate::TargetOutcome::distance`]). Every evaluation runs the experiments the targets need
//! with the same seeds (common random numbers), so a change in loss comes from the parameters,
//! not from sampling noise; the experiments' deployments and replications run in parallel.
//!
//! **Rules.** Only a parameter whose source says `assumed:` or `fitted:` may be fitted; the
//! plan (`calibration/fit.toml`) names the targets each one serves.

use std::path::Path;

use serde::Deserialize;
use sfsim_platform::Models;
use sfsim_workflow::{KeyError, LoadError, SourceFile, parse_toml};

use crate::evaluate::{TargetOutcome, evaluate_all};
use crate::experiments::{Experiment, run_experiments};
use crate::targets::Target;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    parameter: Vec<FitParam>,
}

/// One parameter to fit.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FitParam {
    /// Model file name (`az-durable.toml`).
    pub model: String,
    /// Parameter key (`replay.episode_cpu_s`).
    pub key: String,
    /// Search range.
    pub low: f64,
    /// Search range.
    pub high: f64,
    /// Targets it serves.
    pub targets: Vec<String>,
}

/// Loads a fit plan, checking each parameter exists, may be fitted and serves known targets.
pub fn load_fit_plan(path: &Path, texts: &[(String, String)], targets: &[Target]) -> Result<Vec<FitParam>, LoadError> {
    let src = SourceFile::read(path)?;
    let plan: RawPlan = parse_toml(&src)?;
    for (i, p) in plan.parameter.iter().enumerate() {
        let key = |k: &str| format!("parameter.{i}.{k}");
        let text = texts
            .iter()
            .find(|(n, _)| *n == p.model)
            .map(|(_, t)| t)
            .ok_or_else(|| src.key_error(KeyError::new(key("model"), format!("no model file `{}`", p.model))))?;
        let (_, source) = Models::param_in(text, &p.key)
            .ok_or_else(|| src.key_error(KeyError::new(key("key"), format!("`{}` has no parameter `{}`", p.model, p.key))))?;
        if !(source.starts_with("assumed:") || source.starts_with("fitted:")) {
            return Err(src.key_error(KeyError::new(
                key("key"),
                format!("`{}` is a documented platform fact (source: {source}); only assumed parameters can be fitted", p.key),
            )));
        }
        if !(p.low.is_finite() && p.high.is_finite() && 0.0 <= p.low && p.low < p.high) {
            return Err(src.key_error(KeyError::new(key("low"), "needs 0 <= low < high")));
        }
        for t in &p.targets {
            if !targets.iter().any(|x| &x.id == t) {
                return Err(src.key_error(KeyError::new(key("targets"), format!("unknown target `{t}`"))));
            }
        }
    }
    Ok(plan.parameter)
}

/// What calibration found.
#[derive(Clone, Debug)]
pub struct FitResult {
    /// (parameter, value before, value after).
    pub values: Vec<(FitParam, f64, f64)>,
    /// Targets before.
    pub before: Vec<TargetOutcome>,
    /// Targets after.
    pub after: Vec<TargetOutcome>,
    /// Loss before and after.
    pub loss: (f64, f64),
    /// Simulator evaluations.
    pub evaluations: usize,
}

struct Evaluator<'a> {
    texts: &'a [(String, String)],
    experiments: Vec<&'a Experiment>,
    targets: Vec<&'a Target>,
    iterations: Option<u64>,
    seed: Option<u64>,
    count: usize,
}

impl Evaluator<'_> {
    fn outcomes(&mut self, changes: &[(String, String, f64)]) -> Result<Vec<TargetOutcome>, LoadError> {
        self.count += 1;
        let models = Models::with_changes(self.texts, changes)?;
        let results = run_experiments(self.experiments.iter().copied(), &models, self.iterations, self.seed, |_, _| {})?;
        let owned: Vec<Target> = self.targets.iter().map(|t| (*t).clone()).collect();
        Ok(evaluate_all(&owned, &results))
    }

    fn loss(&mut self, changes: &[(String, String, f64)]) -> Result<f64, LoadError> {
        Ok(self.outcomes(changes)?.iter().map(|o| o.distance).sum())
    }
}

/// Fits `plan` to its targets. `progress` is told each pass's loss.
pub fn calibrate(
    plan: &[FitParam],
    texts: &[(String, String)],
    experiments: &[Experiment],
    targets: &[Target],
    iterations: Option<u64>,
    seed: Option<u64>,
    passes: usize,
    mut progress: impl FnMut(&str),
) -> Result<FitResult, LoadError> {
    let ids: std::collections::BTreeSet<&str> = plan.iter().flat_map(|p| p.targets.iter().map(String::as_str)).collect();
    let targets: Vec<&Target> = targets.iter().filter(|t| ids.contains(t.id.as_str())).collect();
    let needed: std::collections::BTreeSet<&str> = targets.iter().flat_map(|t| t.experiments.iter().map(String::as_str)).collect();
    let experiments: Vec<&Experiment> = experiments.iter().filter(|x| needed.contains(x.id.as_str())).collect();
    let mut ev = Evaluator { texts, experiments, targets, iterations, seed, count: 0 };
    let start: Vec<f64> = plan
        .iter()
        .map(|p| {
            let text = &texts.iter().find(|(n, _)| *n == p.model).expect("checked when loading the plan").1;
            Models::param_in(text, &p.key).expect("checked when loading the plan").0.clamp(p.low, p.high)
        })
        .collect();
    let changes =
        |v: &[f64]| -> Vec<(String, String, f64)> { plan.iter().zip(v).map(|(p, x)| (p.model.clone(), p.key.clone(), *x)).collect() };
    let before = ev.outcomes(&changes(&start))?;
    let loss0: f64 = before.iter().map(|o| o.distance).sum();
    let mut best = start.clone();
    let mut best_loss = loss0;
    progress(&format!("start: loss {loss0:.4}"));
    for pass in 0..passes {
        for (i, p) in plan.iter().enumerate() {
            let log = p.low > 0.0 && p.high / p.low > 10.0;
            let (to, from) = (move |x: f64| if log { x.ln() } else { x }, move |u: f64| if log { u.exp() } else { u });
            let (mut a, mut b) = (to(p.low), to(p.high));
            let g = (5f64.sqrt() - 1.0) / 2.0;
            let eval_at = |u: f64, ev: &mut Evaluator| -> Result<f64, LoadError> {
                let mut v = best.clone();
                v[i] = from(u);
                ev.loss(&changes(&v))
            };
            let mut c = b - g * (b - a);
            let mut d = a + g * (b - a);
            let mut fc = eval_at(c, &mut ev)?;
            let mut fd = eval_at(d, &mut ev)?;
            for _ in 0..10 {
                if fc <= fd {
                    b = d;
                    d = c;
                    fd = fc;
                    c = b - g * (b - a);
                    fc = eval_at(c, &mut ev)?;
                } else {
                    a = c;
                    c = d;
                    fc = fd;
                    d = a + g * (b - a);
                    fd = eval_at(d, &mut ev)?;
                }
            }
            let (u, f) = if fc <= fd { (c, fc) } else { (d, fd) };
            if f < best_loss {
                best[i] = from(u);
                best_loss = f;
            }
        }
        progress(&format!("pass {}: loss {best_loss:.4}", pass + 1));
    }
    let after = ev.outcomes(&changes(&best))?;
    let loss1: f64 = after.iter().map(|o| o.distance).sum();
    Ok(FitResult {
        values: plan.iter().cloned().zip(start).zip(best).map(|((p, s), b)| (p, s, b)).collect(),
        before,
        after,
        loss: (loss0, loss1),
        evaluations: ev.count,
    })
}
