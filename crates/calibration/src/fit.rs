//! `sfsim calibrate`: fitting the assumed parameters to the targets of one or several sets, and
//! cross-validating the fit.
//!
//! **Method.** Coordinate search: each parameter in turn is optimized by golden-section search
//! over its range (on a log scale when the range spans more than a decade), the others held,
//! for a few passes. Every evaluation runs the experiments the targets need with the same seeds
//! (common random numbers), so a change in loss comes from the parameters, not from sampling
//! noise; the experiments' deployments and replications run in parallel.
//!
//! **Loss.** The search minimizes, over the targets the plan's parameters serve, each target's
//! distance outside its band ([`crate::TargetOutcome::distance`]: in band widths, 0 inside,
//! so meeting every band is loss 0) plus [`CENTRING_WEIGHT`] times its log-distance from the
//! band centre ([`centring`]: 0 at the centre, 1 at either edge). The second term only breaks
//! ties: without it the loss is flat inside a band, and where several values meet every band
//! the search stopped wherever it happened to be (its start, or a band edge). With it the fit
//! prefers the centre, which for a band of +-30 % around a measured median is the median
//! itself. A band that reaches down to 0 and the `order` kinds have no centre and add nothing.
//!
//! **Cross-validation** ([`cross_validate`]): targets fall into groups (by default the
//! experiment they are measured in, or the plan's `[[group]]`s). For each group that holds a
//! target the plan serves, the parameters are refitted with that group's targets left out of
//! the loss, and the left-out targets are evaluated with the refitted values: a fit that only
//! memorizes its targets shows as left-out targets far outside their bands. The full fit and
//! every refit start from the centres of the parameters' ranges, not from the models' values
//! (which may themselves have been fitted to the left-out targets), and use the same search.
//!
//! **Rules.** Only a parameter whose source says `assumed:` or `fitted:` may be fitted; the
//! plan (`calibration/fit.toml`, `calibration/fit-sebs.toml`) names the targets each one
//! serves, from any loaded target set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;
use sfsim_platform::Models;
use sfsim_workflow::{KeyError, LoadError, SourceFile, parse_toml, suggest};

use crate::evaluate::{TargetOutcome, evaluate_all};
use crate::experiments::{Experiment, run_experiments};
use crate::targets::{Target, TargetKind};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    parameter: Vec<FitParam>,
    #[serde(default)]
    group: Vec<FitGroup>,
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

impl FitParam {
    /// Whether the search runs on a log scale (the range spans more than a decade).
    pub fn log_scale(&self) -> bool {
        self.low > 0.0 && self.high / self.low > 10.0
    }

    /// The centre of the range (geometric on a log scale): where cross-validation starts.
    pub fn centre(&self) -> f64 {
        self.at(0.5)
    }

    /// The point a fraction `u` (0 to 1) of the way across the range, on the search's scale
    /// (geometric on a log scale).
    pub fn at(&self, u: f64) -> f64 {
        if self.log_scale() { self.low * (self.high / self.low).powf(u) } else { self.low + (self.high - self.low) * u }
    }
}

/// The `k`-th point (k >= 1) of the Halton sequence in base `base`: a low-discrepancy fraction
/// in (0, 1) (base 2: 1/2, 1/4, 3/4, 1/8, ...).
fn halton(mut k: usize, base: usize) -> f64 {
    let (mut f, mut r) = (1.0, 0.0);
    while k > 0 {
        f /= base as f64;
        r += f * (k % base) as f64;
        k /= base;
    }
    r
}

/// The starting points of a search: `first`, then `starts - 1` more spread over the ranges
/// (parameter j takes the Halton sequence in the j-th prime base, from its second point on, so
/// that none repeats the centre), for objectives with more than one minimum.
fn start_points(plan: &[FitParam], first: Vec<f64>, starts: usize) -> Vec<Vec<f64>> {
    const PRIMES: [usize; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    let mut points = vec![first];
    for k in 1..starts.max(1) {
        points.push(plan.iter().enumerate().map(|(j, p)| p.at(halton(k + 1, PRIMES[j % PRIMES.len()]))).collect());
    }
    points
}

/// Targets left out together in cross-validation (`[[group]]` in a plan).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FitGroup {
    /// Name shown in the report.
    pub name: String,
    /// Target ids.
    pub targets: Vec<String>,
}

/// A fit plan: the parameters, and optionally the cross-validation groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitPlan {
    /// Parameters, in file order.
    pub parameters: Vec<FitParam>,
    /// Declared groups; targets in none are grouped by their experiments.
    pub groups: Vec<FitGroup>,
}

impl FitPlan {
    /// Appends another plan (several `--plan` files fit together). A parameter or group named
    /// twice is an error.
    pub fn merge(&mut self, other: FitPlan) -> Result<(), String> {
        for p in other.parameters {
            if self.parameters.iter().any(|q| q.model == p.model && q.key == p.key) {
                return Err(format!("parameter {}:{} is in two plans", p.model, p.key));
            }
            self.parameters.push(p);
        }
        for g in other.groups {
            if self.groups.iter().any(|h| h.name == g.name) {
                return Err(format!("group `{}` is in two plans", g.name));
            }
            if let Some(t) = g.targets.iter().find(|t| self.groups.iter().any(|h| h.targets.contains(t))) {
                return Err(format!("target `{t}` is in two groups"));
            }
            self.groups.push(g);
        }
        Ok(())
    }

    /// The targets the parameters serve.
    pub fn target_ids(&self) -> BTreeSet<String> {
        self.parameters.iter().flat_map(|p| p.targets.iter().cloned()).collect()
    }
}

/// A target set to fit against: its targets and the experiments they name.
#[derive(Clone, Debug)]
pub struct FitSet {
    /// The targets file, as shown.
    pub name: String,
    /// Its targets.
    pub targets: Vec<Target>,
    /// Its experiments file's experiments.
    pub experiments: Vec<Experiment>,
}

/// Loads a fit plan, checking each parameter exists, may be fitted and serves targets of the
/// loaded sets, and that each group names known targets, each in one group only. An unknown
/// target id is reported at its position in the plan, with the nearest known id.
pub fn load_fit_plan(path: &Path, texts: &[(String, String)], sets: &[FitSet]) -> Result<FitPlan, LoadError> {
    let src = SourceFile::read(path)?;
    let plan: RawPlan = parse_toml(&src)?;
    let known: Vec<&str> = sets.iter().flat_map(|s| s.targets.iter().map(|t| t.id.as_str())).collect();
    let unknown = |key: String, t: &str| {
        let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
        src.key_error(KeyError::new(key, format!("unknown target `{t}` (not in {}){}", names.join(", "), suggest(t, &known))))
    };
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
        if p.targets.is_empty() {
            return Err(src.key_error(KeyError::new(key("targets"), "needs at least one target")));
        }
        for (j, t) in p.targets.iter().enumerate() {
            if !known.contains(&t.as_str()) {
                return Err(unknown(format!("parameter.{i}.targets.{j}"), t));
            }
        }
        if let Some(k) = plan.parameter[..i].iter().position(|q| q.model == p.model && q.key == p.key) {
            return Err(src.key_error(KeyError::new(key("key"), format!("`{}` is already fitted by parameter {k}", p.key))));
        }
    }
    let mut grouped = BTreeSet::new();
    for (i, g) in plan.group.iter().enumerate() {
        if g.name.trim().is_empty() || plan.group[..i].iter().any(|h| h.name == g.name) {
            return Err(src.key_error(KeyError::new(format!("group.{i}.name"), "needs a name no other group has")));
        }
        if g.targets.is_empty() {
            return Err(src.key_error(KeyError::new(format!("group.{i}.targets"), "needs at least one target")));
        }
        for (j, t) in g.targets.iter().enumerate() {
            if !known.contains(&t.as_str()) {
                return Err(unknown(format!("group.{i}.targets.{j}"), t));
            }
            if !grouped.insert(t.clone()) {
                return Err(src.key_error(KeyError::new(format!("group.{i}.targets.{j}"), format!("`{t}` is already in a group"))));
            }
        }
    }
    Ok(FitPlan { parameters: plan.parameter, groups: plan.group })
}

/// Weight of the centring term in the loss (see the module documentation).
pub const CENTRING_WEIGHT: f64 = 0.01;

/// The band a target's value with this label is judged against (`None` for `order` kinds).
fn band_for(t: &Target, label: &str) -> Option<(f64, f64)> {
    match &t.kind {
        TargetKind::Ratio { band, .. } | TargetKind::Range { band, .. } | TargetKind::Share { band, .. } => Some(*band),
        TargetKind::Quantiles { bands, .. } => bands.iter().find(|(q, _)| label == q || label.ends_with(&format!("/{q}"))).map(|(_, b)| *b),
        TargetKind::Order { .. } | TargetKind::LessThanAll { .. } => None,
    }
}

/// Log-distance of `v` from the centre c = (l + h) / 2 of [l, h]: ln(v / c) / ln(h / c) above
/// the centre, ln(c / v) / ln(c / l) below, so 0 at the centre and 1 at either edge. `None` for
/// a band that reaches 0 or has no width, or a value that is not positive.
fn centre_distance(v: f64, (l, h): (f64, f64)) -> Option<f64> {
    if !(l > 0.0 && h > l && v.is_finite() && v > 0.0) {
        return None;
    }
    let c = (l + h) / 2.0;
    Some(if v >= c { (v / c).ln() / (h / c).ln() } else { (c / v).ln() / (c / l).ln() })
}

/// A target's log-distance from its band centre, summed over its values (see
/// [`centre_distance`]): the tie-breaking term of the loss.
pub fn centring(t: &Target, o: &TargetOutcome) -> f64 {
    o.values.iter().filter_map(|(label, v)| band_for(t, label).and_then(|b| centre_distance(*v, b))).sum()
}

/// What the search minimizes for one target: its distance outside the band plus
/// [`CENTRING_WEIGHT`] times [`centring`].
pub fn objective(t: &Target, o: &TargetOutcome) -> f64 {
    o.distance + CENTRING_WEIGHT * centring(t, o)
}

/// How far a target's value is from its band, as cross-validation reports it: 0 inside, else
/// the relative distance to the nearest edge ((low - v) / low below, (v - high) / high above),
/// the worst of its values. For `order` and `less_than_all` targets: the number of violated
/// pairs. NaN when a value could not be computed.
pub fn band_distance(t: &Target, o: &TargetOutcome) -> f64 {
    if matches!(t.kind, TargetKind::Order { .. } | TargetKind::LessThanAll { .. }) {
        return o.distance;
    }
    if o.values.is_empty() {
        return f64::NAN;
    }
    let d = o
        .values
        .iter()
        .filter_map(|(label, v)| band_for(t, label).map(|(l, h)| (*v, l, h)))
        .map(|(v, l, h)| {
            if v < l {
                (l - v) / l.abs().max(1e-12)
            } else if v > h {
                (v - h) / h.abs().max(1e-12)
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max);
    // Failing with every value inside: a value is missing (or not a number).
    if d == 0.0 && !o.pass { f64::NAN } else { d }
}

/// What calibration found.
#[derive(Clone, Debug)]
pub struct FitResult {
    /// (parameter, value before, value after).
    pub values: Vec<(FitParam, f64, f64)>,
    /// The targets the plan serves, in set and file order (left-out ones included).
    pub targets: Vec<Target>,
    /// Their outcomes before.
    pub before: Vec<TargetOutcome>,
    /// Their outcomes after.
    pub after: Vec<TargetOutcome>,
    /// Distance outside the bands (0: every fitted target met), before and after, over the
    /// targets fitted to.
    pub loss: (f64, f64),
    /// The minimized objective (distance plus centring), before and after.
    pub objective: (f64, f64),
    /// Simulator evaluations.
    pub evaluations: usize,
}

/// How to search.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Executions per configuration (default: each experiment's).
    pub iterations: Option<u64>,
    /// Root seed (default: each scenario's).
    pub seed: Option<u64>,
    /// Seeds each evaluation runs, as `sfsim reproduce --seeds N` does (the root seed, then the
    /// default seed + 1 .. N - 1): the objective combines them ([`FitOptions::over_seeds`]), so a
    /// fit holds across seeds, not at one. 1: the root seed only.
    pub seeds: u64,
    /// How each target's objective is combined over the seeds.
    pub over_seeds: OverSeeds,
    /// Coordinate-search passes.
    pub passes: usize,
    /// Golden-section steps per parameter and pass (each one simulator evaluation).
    pub steps: usize,
    /// Start from the centres of the ranges instead of the models' values.
    pub from_centres: bool,
    /// Searches per fit: from the start above, then from `starts - 1` more points spread over
    /// the ranges; the best is kept (1: one search).
    pub starts: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            iterations: None,
            seed: None,
            seeds: 1,
            passes: 2,
            steps: 10,
            from_centres: false,
            starts: 1,
            over_seeds: OverSeeds::Mean,
        }
    }
}

/// How a target's objective is combined over the seeds of an evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverSeeds {
    /// The mean: a target out of its band on one seed in ten counts a tenth, so the search may
    /// trade that seed's verdict for a lower mean elsewhere.
    #[default]
    Mean,
    /// The worst seed, target by target: a target counts as far outside its band as on its
    /// worst seed, so the search prefers values that meet it on every seed (the criterion of
    /// `sfsim reproduce --seeds N`: met on each seed).
    Worst,
}

impl OverSeeds {
    /// Combines one target's objective on each seed.
    pub fn combine(self, per_seed: &[f64]) -> f64 {
        match self {
            OverSeeds::Mean => per_seed.iter().sum::<f64>() / per_seed.len().max(1) as f64,
            OverSeeds::Worst => per_seed.iter().copied().fold(0.0, f64::max),
        }
    }
}

struct Evaluator<'a> {
    texts: &'a [(String, String)],
    /// Per set: the experiments needed and the targets evaluated.
    parts: Vec<(Vec<&'a Experiment>, Vec<Target>)>,
    iterations: Option<u64>,
    seed: Option<u64>,
    /// Seeds of the objective (`FitOptions::seeds`, at least 1).
    seeds: u64,
    over_seeds: OverSeeds,
    count: usize,
}

impl<'a> Evaluator<'a> {
    fn new(texts: &'a [(String, String)], sets: &'a [FitSet], ids: &BTreeSet<String>, opts: &FitOptions) -> Self {
        let parts = sets
            .iter()
            .map(|s| {
                let targets: Vec<Target> = s.targets.iter().filter(|t| ids.contains(&t.id)).cloned().collect();
                let needed: BTreeSet<&str> = targets.iter().flat_map(|t| t.experiments.iter().map(String::as_str)).collect();
                (s.experiments.iter().filter(|x| needed.contains(x.id.as_str())).collect(), targets)
            })
            .filter(|(_, t): &(Vec<&Experiment>, Vec<Target>)| !t.is_empty())
            .collect();
        Evaluator {
            texts,
            parts,
            iterations: opts.iterations,
            seed: opts.seed,
            seeds: opts.seeds.max(1),
            over_seeds: opts.over_seeds,
            count: 0,
        }
    }

    fn targets(&self) -> Vec<Target> {
        self.parts.iter().flat_map(|(_, t)| t.iter().cloned()).collect()
    }

    /// The outcomes at the root seed.
    fn outcomes(&mut self, changes: &[(String, String, f64)]) -> Result<Vec<TargetOutcome>, LoadError> {
        self.count += 1;
        let models = Models::with_changes(self.texts, changes)?;
        self.outcomes_at(&models, self.seed)
    }

    fn outcomes_at(&self, models: &Models, seed: Option<u64>) -> Result<Vec<TargetOutcome>, LoadError> {
        let mut out = Vec::new();
        for (experiments, targets) in &self.parts {
            let results = run_experiments(experiments.iter().copied(), models, self.iterations, seed, |_, _| {})?;
            out.extend(evaluate_all(targets, &results));
        }
        Ok(out)
    }

    /// The objective over the seeds (`sfsim reproduce --seeds`' seeds: the root seed, then the
    /// default seed + k): each target's, combined over the seeds as `over_seeds` says, summed.
    fn objective(&mut self, changes: &[(String, String, f64)]) -> Result<f64, LoadError> {
        self.count += 1;
        let models = Models::with_changes(self.texts, changes)?;
        let targets = self.targets();
        let mut per_target = vec![Vec::with_capacity(self.seeds as usize); targets.len()];
        for k in 0..self.seeds {
            let seed = if k == 0 { self.seed } else { Some(self.seed.unwrap_or(sfsim_workflow::DEFAULT_SEED) + k) };
            for ((o, t), acc) in self.outcomes_at(&models, seed)?.iter().zip(&targets).zip(&mut per_target) {
                acc.push(objective(t, o));
            }
        }
        Ok(per_target.iter().map(|v| self.over_seeds.combine(v)).sum())
    }
}

fn changes(plan: &[FitParam], v: &[f64]) -> Vec<(String, String, f64)> {
    plan.iter().zip(v).map(|(p, x)| (p.model.clone(), p.key.clone(), *x)).collect()
}

/// Coordinate search from `start`; returns the best values and their objective.
fn search(
    plan: &[FitParam],
    ev: &mut Evaluator,
    start: Vec<f64>,
    opts: &FitOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<f64>, f64), LoadError> {
    let mut best = start;
    let mut best_loss = ev.objective(&changes(plan, &best))?;
    progress(&format!("start: objective {best_loss:.4}"));
    for pass in 0..opts.passes {
        for (i, p) in plan.iter().enumerate() {
            let log = p.log_scale();
            let (to, from) = (move |x: f64| if log { x.ln() } else { x }, move |u: f64| if log { u.exp() } else { u });
            let (mut a, mut b) = (to(p.low), to(p.high));
            let g = (5f64.sqrt() - 1.0) / 2.0;
            let eval_at = |u: f64, ev: &mut Evaluator| -> Result<f64, LoadError> {
                let mut v = best.clone();
                v[i] = from(u);
                ev.objective(&changes(plan, &v))
            };
            let mut c = b - g * (b - a);
            let mut d = a + g * (b - a);
            let mut fc = eval_at(c, ev)?;
            let mut fd = eval_at(d, ev)?;
            for _ in 0..opts.steps {
                if fc <= fd {
                    b = d;
                    d = c;
                    fd = fc;
                    c = b - g * (b - a);
                    fc = eval_at(c, ev)?;
                } else {
                    a = c;
                    c = d;
                    fc = fd;
                    d = a + g * (b - a);
                    fd = eval_at(d, ev)?;
                }
            }
            let (u, f) = if fc <= fd { (c, fc) } else { (d, fd) };
            if f < best_loss {
                best[i] = from(u);
                best_loss = f;
            }
        }
        progress(&format!("pass {}: objective {best_loss:.4}", pass + 1));
    }
    Ok((best, best_loss))
}

/// Fits the plan's parameters to the targets they serve minus `leave_out`; the outcomes cover
/// every target the plan serves.
fn fit_leaving_out(
    plan: &[FitParam],
    texts: &[(String, String)],
    sets: &[FitSet],
    opts: &FitOptions,
    leave_out: &BTreeSet<String>,
    progress: &mut dyn FnMut(&str),
) -> Result<FitResult, LoadError> {
    let all: BTreeSet<String> = plan.iter().flat_map(|p| p.targets.iter().cloned()).collect();
    let fitted: BTreeSet<String> = all.difference(leave_out).cloned().collect();
    let mut ev_all = Evaluator::new(texts, sets, &all, opts);
    let mut ev_fit = Evaluator::new(texts, sets, &fitted, opts);
    let start: Vec<f64> = plan
        .iter()
        .map(|p| {
            if opts.from_centres {
                return p.centre();
            }
            let text = &texts.iter().find(|(n, _)| *n == p.model).expect("checked when loading the plan").1;
            Models::param_in(text, &p.key).expect("checked when loading the plan").0.clamp(p.low, p.high)
        })
        .collect();
    let targets = ev_all.targets();
    let loss_of = |outs: &[TargetOutcome]| -> (f64, f64) {
        outs.iter()
            .zip(&targets)
            .filter(|(_, t)| fitted.contains(&t.id))
            .fold((0.0, 0.0), |(l, f), (o, t)| (l + o.distance, f + objective(t, o)))
    };
    let before = ev_all.outcomes(&changes(plan, &start))?;
    let points = start_points(plan, start.clone(), opts.starts);
    let n = points.len();
    let mut best: Option<(Vec<f64>, f64)> = None;
    for (i, from) in points.into_iter().enumerate() {
        let mut say = |m: &str| if n > 1 { progress(&format!("start {}/{n}: {m}", i + 1)) } else { progress(m) };
        let (v, f) = search(plan, &mut ev_fit, from, opts, &mut say)?;
        if best.as_ref().is_none_or(|(_, bf)| f < *bf) {
            best = Some((v, f));
        }
    }
    let (best, _) = best.expect("at least one start");
    let after = ev_all.outcomes(&changes(plan, &best))?;
    let (l0, o0) = loss_of(&before);
    let (l1, o1) = loss_of(&after);
    Ok(FitResult {
        values: plan.iter().cloned().zip(start).zip(best).map(|((p, s), b)| (p, s, b)).collect(),
        targets,
        before,
        after,
        loss: (l0, l1),
        objective: (o0, o1),
        evaluations: ev_all.count + ev_fit.count,
    })
}

/// Fits `plan` to the targets it serves, in any of `sets`. `progress` is told each pass's
/// objective.
pub fn calibrate(
    plan: &[FitParam],
    texts: &[(String, String)],
    sets: &[FitSet],
    opts: &FitOptions,
    mut progress: impl FnMut(&str),
) -> Result<FitResult, LoadError> {
    fit_leaving_out(plan, texts, sets, opts, &BTreeSet::new(), &mut progress)
}

/// The cross-validation groups: the plan's `[[group]]`s (restricted to the targets the plan
/// serves; a group left empty is dropped), then every other served target grouped by its
/// experiments (`a+b` for a target measured in several), in set and file order.
pub fn fit_groups(plan: &FitPlan, sets: &[FitSet]) -> Vec<(String, Vec<String>)> {
    let served = plan.target_ids();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for g in &plan.groups {
        let ids: Vec<String> = sets
            .iter()
            .flat_map(|s| s.targets.iter())
            .filter(|t| g.targets.contains(&t.id) && served.contains(&t.id))
            .map(|t| t.id.clone())
            .collect();
        if !ids.is_empty() {
            out.push((g.name.clone(), ids));
        }
    }
    let declared: BTreeSet<&String> = plan.groups.iter().flat_map(|g| g.targets.iter()).collect();
    let mut by_experiment: Vec<(String, Vec<String>)> = Vec::new();
    for t in sets.iter().flat_map(|s| s.targets.iter()) {
        if !served.contains(&t.id) || declared.contains(&t.id) {
            continue;
        }
        let key = t.experiments.join("+");
        match by_experiment.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(t.id.clone()),
            None => by_experiment.push((key, vec![t.id.clone()])),
        }
    }
    out.extend(by_experiment);
    out
}

/// One left-out target of a cross-validation fold.
#[derive(Clone, Debug)]
pub struct HeldOut {
    /// Target id.
    pub id: String,
    /// Its band, in words.
    pub band: String,
    /// Its outcome with the full fit.
    pub full: TargetOutcome,
    /// Its outcome with the fit that left its group out.
    pub held: TargetOutcome,
    /// [`band_distance`] with the full fit.
    pub full_distance: f64,
    /// [`band_distance`] with the held-out fit.
    pub held_distance: f64,
}

/// One refit with a group left out.
#[derive(Clone, Debug)]
pub struct Fold {
    /// Group name.
    pub group: String,
    /// The refitted values, in plan order.
    pub values: Vec<f64>,
    /// The left-out targets.
    pub targets: Vec<HeldOut>,
    /// Simulator evaluations of the refit.
    pub evaluations: usize,
}

/// A full fit and its folds.
#[derive(Clone, Debug)]
pub struct CrossValidation {
    /// The fit to every target, from the range centres.
    pub full: FitResult,
    /// One fold per group, in group order.
    pub folds: Vec<Fold>,
}

/// Fits the plan from the centres of its ranges, then refits it once per group (see
/// [`fit_groups`]) with the group's targets left out, in parallel, and evaluates the left-out
/// targets with the refitted values. `progress` hears of the full fit's passes and of each
/// fold as it ends.
pub fn cross_validate(
    plan: &FitPlan,
    texts: &[(String, String)],
    sets: &[FitSet],
    opts: &FitOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<CrossValidation, LoadError> {
    let opts = FitOptions { from_centres: true, ..opts.clone() };
    let mut say = |m: &str| progress(&format!("full fit: {m}"));
    let full = fit_leaving_out(&plan.parameters, texts, sets, &opts, &BTreeSet::new(), &mut say)?;
    let full_by_id: BTreeMap<&str, (&Target, &TargetOutcome)> =
        full.targets.iter().zip(&full.after).map(|(t, o)| (t.id.as_str(), (t, o))).collect();
    let groups = fit_groups(plan, sets);
    let folds = groups
        .par_iter()
        .map(|(name, ids)| -> Result<Fold, LoadError> {
            let t0 = std::time::Instant::now();
            let leave: BTreeSet<String> = ids.iter().cloned().collect();
            let fit = fit_leaving_out(&plan.parameters, texts, sets, &opts, &leave, &mut |_| {})?;
            let targets = fit
                .targets
                .iter()
                .zip(&fit.after)
                .filter(|(t, _)| leave.contains(&t.id))
                .map(|(t, held)| {
                    let (_, full) = full_by_id[t.id.as_str()];
                    HeldOut {
                        id: t.id.clone(),
                        band: held.band.clone(),
                        full: full.clone(),
                        held: held.clone(),
                        full_distance: band_distance(t, full),
                        held_distance: band_distance(t, held),
                    }
                })
                .collect();
            progress(&format!("fold `{name}` refitted in {:.1} s ({} evaluations)", t0.elapsed().as_secs_f64(), fit.evaluations));
            Ok(Fold { group: name.clone(), values: fit.values.iter().map(|(_, _, v)| *v).collect(), targets, evaluations: fit.evaluations })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CrossValidation { full, folds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::load_targets;

    fn param(low: f64, high: f64) -> FitParam {
        FitParam { model: "m.toml".into(), key: "k".into(), low, high, targets: vec![] }
    }

    /// `--starts N`: the first search starts where it always did; the others spread over every
    /// parameter's range on its own scale, none at the centre and no two alike.
    #[test]
    fn extra_starts_spread_over_the_ranges_without_repeating_the_first() {
        assert_eq!([1, 2, 3, 4].map(|k| halton(k, 2)), [0.5, 0.25, 0.75, 0.125]);
        assert!((halton(2, 3) - 2.0 / 3.0).abs() < 1e-12);
        let plan = [param(20.0, 600.0), param(0.0, 300.0)];
        assert!(plan[0].log_scale() && !plan[1].log_scale());
        let first = vec![plan[0].centre(), plan[1].centre()];
        assert!((first[0] - (20.0f64 * 600.0).sqrt()).abs() < 1e-9 && first[1] == 150.0);
        assert_eq!(start_points(&plan, first.clone(), 1), vec![first.clone()]);
        let points = start_points(&plan, first.clone(), 6);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0], first);
        for (i, p) in points.iter().enumerate().skip(1) {
            assert!(p[0] > 20.0 && p[0] < 600.0 && p[1] > 0.0 && p[1] < 300.0, "{p:?}");
            assert!(p != &first, "start {i} repeats the centre");
            assert!(points[..i].iter().all(|q| q != p), "start {i} repeats an earlier one");
        }
        // The first extra start: a quarter of the way on the log scale, two thirds on the linear one.
        assert!((points[1][0] - 20.0 * 30.0f64.powf(0.25)).abs() < 1e-9 && (points[1][1] - 200.0).abs() < 1e-9, "{:?}", points[1]);
    }

    /// A target out of its band on one seed in ten: the mean counts a tenth of that seed's
    /// distance, so a value meeting it on 9 seeds can beat one meeting it on all 10 with a little
    /// centring cost; the worst seed counts the whole distance.
    #[test]
    fn the_worst_seed_objective_counts_a_single_failing_seed_in_full() {
        let one_out = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5];
        assert!((OverSeeds::Mean.combine(&one_out) - 0.05).abs() < 1e-12);
        assert_eq!(OverSeeds::Worst.combine(&one_out), 0.5);
        // Met everywhere with some centring cost: the mean prefers one seed out, worst does not.
        let all_in = [0.1; 10];
        assert!(OverSeeds::Mean.combine(&one_out) < OverSeeds::Mean.combine(&all_in));
        assert!(OverSeeds::Worst.combine(&one_out) > OverSeeds::Worst.combine(&all_in));
        assert_eq!(OverSeeds::Worst.combine(&[]), 0.0);
        assert_eq!(OverSeeds::Mean.combine(&[]), 0.0);
    }

    fn range(low: f64, high: f64) -> Target {
        let text = format!(
            "[[target]]\nid = \"r\"\nsource = \"s\"\nexperiment = \"x\"\nkind = \"range\"\nmetric = \"gb_s\"\ndeployment = \"a\"\nlow = {low}\nhigh = {high}\n"
        );
        load_targets(&SourceFile::from_text("t.toml", text)).expect("target").remove(0)
    }

    fn outcome(v: f64, pass: bool, distance: f64) -> TargetOutcome {
        TargetOutcome {
            id: "r".into(),
            source: String::new(),
            band: String::new(),
            simulated: String::new(),
            values: vec![("value".into(), v)],
            pass,
            distance,
        }
    }

    #[test]
    fn the_loss_prefers_the_band_centre_and_the_report_measures_from_the_nearest_edge() {
        // A +-30 % band around a median of 1.
        let t = range(0.7, 1.3);
        assert!(centring(&t, &outcome(1.0, true, 0.0)).abs() < 1e-12, "0 at the centre (the median)");
        assert!((centring(&t, &outcome(1.3, true, 0.0)) - 1.0).abs() < 1e-12, "1 at the upper edge");
        assert!((centring(&t, &outcome(0.7, true, 0.0)) - 1.0).abs() < 1e-12, "1 at the lower edge");
        assert!(centring(&t, &outcome(1.1, true, 0.0)) < centring(&t, &outcome(1.25, true, 0.0)), "inside the band the loss is not flat");
        // Outside, the band distance dominates: one band width out costs more than any centring.
        assert!(objective(&t, &outcome(1.9, false, 1.0)) > 1.0);
        assert!(objective(&t, &outcome(1.29, true, 0.0)) < CENTRING_WEIGHT * 1.01);
        assert_eq!(band_distance(&t, &outcome(1.2, true, 0.0)), 0.0);
        assert!((band_distance(&t, &outcome(2.6, false, 2.17)) - 1.0).abs() < 1e-12, "(2.6 - 1.3) / 1.3");
        assert!((band_distance(&t, &outcome(0.35, false, 0.58)) - 0.5).abs() < 1e-12, "(0.7 - 0.35) / 0.7");
        assert!(band_distance(&t, &TargetOutcome { values: Vec::new(), ..outcome(0.0, false, 10.0) }).is_nan());
        // A band reaching 0 has no centre in log space.
        assert_eq!(centring(&range(0.0, 1.0), &outcome(0.5, true, 0.0)), 0.0);
    }
}
