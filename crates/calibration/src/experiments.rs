//! The experiments the targets name (`scenarios/paper/experiments.toml`) and running them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sfsim_experiment::{DeploymentSummary, RunOptions, Stats, resolve_deployments, run_scenario};
use sfsim_platform::Models;
use sfsim_workflow::{KeyError, LoadError, Override, Scenario, SourceFile, parse_toml};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    experiment: Vec<RawExperiment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    id: String,
    #[serde(default)]
    description: String,
    scenario: String,
    iterations: Option<u64>,
    deployments: Option<Vec<String>>,
    #[serde(default)]
    set: Vec<String>,
    sweep: Option<RawSweep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    key: String,
    values: Vec<String>,
}

/// One experiment: a scenario with overrides, possibly swept over one key.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// Identifier used by targets.
    pub id: String,
    /// What it reproduces.
    pub description: String,
    /// Scenario file.
    pub scenario: PathBuf,
    /// Executions per configuration (default: the scenario's).
    pub iterations: Option<u64>,
    /// Deployments (default: the scenario's).
    pub deployments: Vec<String>,
    /// Overrides.
    pub set: Vec<Override>,
    /// A key and the values it takes; worker figures are pooled over the runs.
    pub sweep: Option<(String, Vec<String>)>,
}

/// An experiment's summaries, one per deployment.
#[derive(Clone, Debug)]
pub struct ExperimentResult {
    /// Experiment id.
    pub id: String,
    /// Summaries by deployment (for a sweep: the last value's, with pooled worker figures).
    pub results: Vec<DeploymentSummary>,
    /// For a sweep: (value, summaries) of every run.
    pub sweep: Vec<(String, Vec<DeploymentSummary>)>,
}

impl ExperimentResult {
    /// The summary of `deployment`.
    pub fn get(&self, deployment: &str) -> Option<&DeploymentSummary> {
        self.results.iter().find(|d| d.deployment == deployment)
    }
}

/// Loads the experiments file; scenario paths are relative to it.
pub fn load_experiments(path: &Path) -> Result<Vec<Experiment>, LoadError> {
    let src = SourceFile::read(path)?;
    let raw: RawFile = parse_toml(&src)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut seen = std::collections::BTreeSet::new();
    raw.experiment
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            if !seen.insert(x.id.clone()) {
                return Err(src.key_error(KeyError::new(format!("experiment.{i}.id"), format!("duplicate experiment id `{}`", x.id))));
            }
            let set = x
                .set
                .iter()
                .enumerate()
                .map(|(j, o)| o.parse::<Override>().map_err(|m| src.key_error(KeyError::new(format!("experiment.{i}.set.{j}"), m))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Experiment {
                id: x.id,
                description: x.description,
                scenario: dir.join(x.scenario),
                iterations: x.iterations,
                deployments: x.deployments.unwrap_or_default(),
                set,
                sweep: x.sweep.map(|s| (s.key, s.values)),
            })
        })
        .collect()
}

/// Runs experiments in turn, keyed by id; `progress` hears of each one as it ends, with its
/// wall time.
pub fn run_experiments<'a>(
    xs: impl IntoIterator<Item = &'a Experiment>,
    models: &Models,
    iterations: Option<u64>,
    seed: Option<u64>,
    mut progress: impl FnMut(&ExperimentResult, std::time::Duration),
) -> Result<BTreeMap<String, ExperimentResult>, LoadError> {
    let mut out = BTreeMap::new();
    for x in xs {
        let t0 = std::time::Instant::now();
        let r = run_experiment(x, models, iterations, seed)?;
        progress(&r, t0.elapsed());
        out.insert(x.id.clone(), r);
    }
    Ok(out)
}

/// Runs an experiment (every sweep value in turn; each run is parallel inside).
pub fn run_experiment(x: &Experiment, models: &Models, iterations: Option<u64>, seed: Option<u64>) -> Result<ExperimentResult, LoadError> {
    let values: Vec<Option<&String>> = match &x.sweep {
        None => vec![None],
        Some((_, vs)) => vs.iter().map(Some).collect(),
    };
    let mut runs = Vec::new();
    for v in values {
        let mut set = x.set.clone();
        if let (Some((key, _)), Some(v)) = (&x.sweep, v) {
            set.push(Override { path: key.clone(), value: v.clone() });
        }
        let scenario = Scenario::load(&x.scenario, &set)?;
        let deployments = resolve_deployments(&scenario, &x.deployments)?;
        let opts = RunOptions { iterations: iterations.or(x.iterations), seed, ..RunOptions::default() };
        let r = run_scenario(&scenario, &deployments, models, &opts)?;
        runs.push((v.cloned().unwrap_or_default(), r.results));
    }
    let mut results = runs.last().map(|(_, r)| r.clone()).unwrap_or_default();
    if runs.len() > 1 {
        for d in &mut results {
            let mut delays: Vec<f64> = Vec::new();
            let mut lat: Vec<f64> = Vec::new();
            for (_, r) in &runs {
                if let Some(s) = r.iter().find(|s| s.deployment == d.deployment) {
                    delays.extend_from_slice(&s.worker_samples_s.0);
                    lat.extend_from_slice(&s.worker_samples_s.1);
                }
            }
            d.worker_scheduling_delay_s = Stats::of(&mut delays);
            d.worker_latency_s = Stats::of(&mut lat);
            // The samples too, so that figures show the pooled distribution (Fig. 14).
            d.worker_samples_s = (delays, lat);
        }
    }
    Ok(ExperimentResult { id: x.id.clone(), results, sweep: if runs.len() > 1 { runs } else { Vec::new() } })
}
