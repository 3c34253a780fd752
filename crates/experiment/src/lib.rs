//! # sfsim-experiment
//!
//! Runs a scenario: builds each deployment's platform, simulates every (deployment,
//! replication) pair in parallel with rayon, and summarizes them.
//!
//! ```text
//!  Scenario + Models ─► [(deployment, replication)] ─par_iter─► simulate ─► collect (in order)
//!                                                                            │
//!                                 ScenarioResult { results: [DeploymentSummary] } ◄─ summarize
//! ```
//!
//! **Invariant: results do not depend on the thread count.** Each replication draws from
//! streams derived from `(seed, replication, name)` only, `collect` keeps job order, and
//! summaries are computed sequentially afterwards.
#![warn(missing_docs)]

pub mod budget;
pub mod cost;
mod summary;
pub mod sweep;

pub use summary::*;

use rayon::prelude::*;
use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, ExecSink, Models, RunOutput, Sinks, TraceSink};
use sfsim_workflow::{Arrivals, LoadError, Scenario};

/// Simulations (one deployment x replication each) queued by this process so far: with
/// [`SIMULATIONS_DONE`], what a progress bar shows. Only counters: no effect on results.
pub static SIMULATIONS_QUEUED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Simulations finished by this process so far.
pub static SIMULATIONS_DONE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Options that the command line may override.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Executions per replication (default: the scenario's).
    pub iterations: Option<u64>,
    /// Replications (default: the scenario's).
    pub replications: Option<u64>,
    /// Root seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Stream a timeline of every replication of every deployment to the sinks this makes
    /// (one per deployment and replication).
    pub trace: Option<TraceFactory>,
    /// Stream every execution of every replication to the sink this makes.
    pub executions: Option<ExecFactory>,
    /// Latency quantiles to report beside p50, p95 and p99 (each in [0, 1]).
    pub quantiles: Vec<f64>,
}

/// Makes the execution sink of one replication of a deployment: called with the deployment's
/// index in the run, the replication and the deployment's name, from the worker thread that
/// simulates it.
#[derive(Clone)]
pub struct ExecFactory(pub std::sync::Arc<dyn Fn(usize, u64, &str) -> Box<dyn ExecSink> + Send + Sync>);

impl std::fmt::Debug for ExecFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExecFactory")
    }
}

/// Makes the trace sink of one replication of a deployment: called with the deployment's index
/// in the run, the replication and the deployment's name, once per (deployment, replication),
/// from the worker thread that simulates it.
#[derive(Clone)]
pub struct TraceFactory(pub std::sync::Arc<dyn Fn(usize, u64, &str) -> Box<dyn TraceSink> + Send + Sync>);

impl std::fmt::Debug for TraceFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceFactory")
    }
}

/// The result of running a scenario.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// Scenario name.
    pub scenario: String,
    /// Root seed used.
    pub seed: u64,
    /// Executions per replication.
    pub iterations: u64,
    /// Replications.
    pub replications: u64,
    /// FNV-1a hash of the scenario text (after overrides), hex.
    pub scenario_hash: String,
    /// FNV-1a hash of the platform model files the run used (after the scenario's
    /// `[models.*]` overrides), hex.
    pub models_hash: String,
    /// One summary per deployment, in the order asked.
    pub results: Vec<DeploymentSummary>,
    /// Errors of the trace sinks (a timeline that could not be written), in deployment order.
    pub trace_errors: Vec<String>,
}

/// Counts a simulation as done when dropped (also when it unwinds).
struct Finished;

impl Drop for Finished {
    fn drop(&mut self) {
        SIMULATIONS_DONE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Hash of a scenario's text, to tie outputs to their input.
pub fn text_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    format!("{h:016x}")
}

/// Resolves deployment names (from the command line or the scenario) to deployments.
/// Unknown or not-yet-simulated names are errors at `scenario.deployments` when they come from
/// the file.
pub fn resolve_deployments(scenario: &Scenario, names: &[String]) -> Result<Vec<Deployment>, LoadError> {
    let from_file = names.is_empty();
    let list: Vec<String> = if from_file { scenario.deployments.clone() } else { names.to_vec() };
    if list.is_empty() {
        return Err(
            scenario.error_at("scenario.deployments", "no deployment given: list them in [scenario] deployments or pass --deployment")
        );
    }
    let mut out = Vec::new();
    for (i, n) in list.iter().enumerate() {
        let key = if from_file { format!("scenario.deployments.{i}") } else { "--deployment".to_string() };
        let known: Vec<&str> = Deployment::ALL.iter().map(|d| d.name()).collect();
        let d = Deployment::from_name(n)
            .ok_or_else(|| scenario.error_at(&key, format!("unknown deployment `{n}`{}", sfsim_workflow::suggest(n, &known))))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// The platform models a scenario runs with: its dated profile's parameters (`[scenario]
/// profile`), then its own (`[models.<model>]`, `--set models.<model>.<key>=v`), over `models`.
/// A bad profile or parameter is an error at its key.
///
/// # Panics
///
/// If `models` were changed in memory after loading and the scenario has a profile or
/// overrides ([`sfsim_platform::OverrideError::ChangedInMemory`]): the overrides are made to the
/// models' texts and would drop those changes. Change models with `Models::with_overrides`.
pub fn scenario_models<'m>(scenario: &Scenario, models: &'m Models) -> Result<std::borrow::Cow<'m, Models>, LoadError> {
    let profile = match &scenario.profile {
        None => Vec::new(),
        Some(name) => match models.profile_changes(name) {
            Some(Ok(c)) => c,
            // The profile's own file, at the key (checked when the models loaded).
            Some(Err(e)) => return Err(e),
            None => {
                let known = Models::profile_names();
                return Err(scenario.error_at("scenario.profile", format!("unknown profile `{name}` (known: {})", known.join(", "))));
            }
        },
    };
    if scenario.model_overrides.is_empty() && profile.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(models));
    }
    let mut changes = profile.clone();
    changes.extend(scenario.model_overrides.iter().map(|o| (o.model.clone(), o.key.clone(), o.value.clone())));
    let overridden = models.with_overrides(&changes).map_err(|e| match e {
        sfsim_platform::OverrideError::Change { index, message } => match index.checked_sub(profile.len()) {
            Some(j) => scenario.error_at(&scenario.model_overrides[j].scenario_key(), message),
            None => scenario.error_at("scenario.profile", message),
        },
        // Not the scenario's fault: the caller changed `models` in memory, which the profile and
        // overrides (made to the models' texts) would silently drop. A bug in the calling code.
        e @ sfsim_platform::OverrideError::ChangedInMemory => panic!("sfsim internal error: {e}"),
    })?;
    Ok(std::borrow::Cow::Owned(overridden))
}

/// Builds the plan of every deployment the scenario configures (`[deployment.<name>]`, in
/// name order) or lists (`[scenario] deployments`), then of any other of `deployments`, and
/// returns the plans of `deployments`, in their order. `models` are the scenario's
/// ([`scenario_models`]).
///
/// This is the one check of a scenario's deployments, shared by `sfsim validate` and every
/// command that runs a scenario ([`run_scenario`]): a key that a deployment does not take
/// (`flow` or `backend` on a non-Durable deployment, `map_mode` off aws-step, an Azure memory
/// on Lambda, ...) or an unknown deployment is an error at its key, whether or not that
/// deployment is among those run.
pub fn build_deployments(scenario: &Scenario, models: &Models, deployments: &[Deployment]) -> Result<Vec<DeploymentPlan>, LoadError> {
    let known: Vec<&str> = Deployment::ALL.iter().map(|d| d.name()).collect();
    let configured = scenario.deployment.keys().map(|n| (format!("deployment.{n}"), n));
    let listed = scenario.deployments.iter().enumerate().map(|(i, n)| (format!("scenario.deployments.{i}"), n));
    let mut order: Vec<Deployment> = Vec::new();
    for (key, name) in configured.chain(listed) {
        let d = Deployment::from_name(name)
            .ok_or_else(|| scenario.error_at(&key, format!("unknown deployment `{name}`{}", sfsim_workflow::suggest(name, &known))))?;
        if !order.contains(&d) {
            order.push(d);
        }
    }
    for d in deployments {
        if !order.contains(d) {
            order.push(*d);
        }
    }
    let plans = order
        .iter()
        .map(|d| {
            let cfg = scenario.deployment.get(d.name()).cloned().unwrap_or_default();
            DeploymentPlan::build(*d, models, &cfg, &scenario.workflow).map_err(|e| scenario.error_at(&e.key, e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(deployments.iter().map(|d| plans[order.iter().position(|o| o == d).expect("every deployment is built")].clone()).collect())
}

/// Runs `scenario` on `deployments`.
pub fn run_scenario(
    scenario: &Scenario,
    deployments: &[Deployment],
    models: &Models,
    opts: &RunOptions,
) -> Result<ScenarioResult, LoadError> {
    run_scenario_keeping(scenario, deployments, models, opts, false).map(|(r, _)| r)
}

/// Runs `scenario` on `deployments`; with `keep_records`, also returns every execution record
/// of replication 0 of each deployment, in arrival order (memory grows with the iterations:
/// for bounded windows such as `cost`'s).
pub fn run_scenario_keeping(
    scenario: &Scenario,
    deployments: &[Deployment],
    models: &Models,
    opts: &RunOptions,
    keep_records: bool,
) -> Result<(ScenarioResult, Vec<Vec<sfsim_platform::ExecRecord>>), LoadError> {
    let resolved = scenario_models(scenario, models)?;
    let models: &Models = &resolved;
    let models_hash = text_hash(&models.texts().iter().map(|(n, t)| format!("{n}\n{t}")).collect::<Vec<_>>().join("\n"));
    let platforms = build_deployments(scenario, models, deployments)?;
    // With a trace's arrivals every invocation is an execution (`--iterations N`: the first N).
    let trace = matches!(scenario.arrivals, Arrivals::Trace { .. });
    let iterations = if trace {
        opts.iterations.unwrap_or(sfsim_platform::world::arrivals::MAX_EXECUTIONS)
    } else {
        opts.iterations.unwrap_or(scenario.iterations)
    };
    let replications = opts.replications.unwrap_or(scenario.replications);
    if (!trace && iterations > sfsim_workflow::MAX_ITERATIONS) || replications > sfsim_workflow::MAX_REPLICATIONS {
        return Err(scenario.error_at(
            "scenario.iterations",
            format!(
                "at most {} executions per replication and {} replications, got {iterations} x {replications}",
                sfsim_workflow::MAX_ITERATIONS,
                sfsim_workflow::MAX_REPLICATIONS
            ),
        ));
    }
    if !trace {
        let estimate = budget::Estimate::of((platforms.len() as u64).saturating_mul(replications), iterations);
        let key = if opts.iterations.is_some() || opts.replications.is_some() { "scenario" } else { "scenario.iterations" };
        let what = format!(
            "{} deployment(s) x {replications} replication(s) x {iterations} iterations{}",
            platforms.len(),
            if key == "scenario" { " (with --iterations/--replications)" } else { "" }
        );
        estimate.check(&what).map_err(|m| scenario.error_at(key, m))?;
    }
    let span_s = match scenario.arrivals {
        Arrivals::Poisson { rate_per_s } => iterations as f64 / rate_per_s,
        Arrivals::Sequential { gap_s } => gap_s * iterations as f64,
        Arrivals::Batches { pause_s, .. } => pause_s * scenario.arrivals.batch_count(iterations).unwrap_or(0) as f64,
        Arrivals::Phases(ref phases) => phases.iter().map(|p| p.duration_s).sum(),
        _ => scenario.arrivals.last_arrival_s(iterations).unwrap_or(0.0),
    };
    if span_s > sfsim_workflow::MAX_SECONDS {
        return Err(scenario.error_at(
            "arrivals",
            format!(
                "{iterations} arrivals span about {span_s:.3e} s of simulated time, beyond the {:.0e} s horizon; use fewer iterations or more frequent arrivals",
                sfsim_workflow::MAX_SECONDS
            ),
        ));
    }
    let seed = opts.seed.unwrap_or(scenario.seed);
    let jobs: Vec<(usize, u64)> = (0..platforms.len()).flat_map(|d| (0..replications).map(move |r| (d, r))).collect();
    SIMULATIONS_QUEUED.fetch_add(jobs.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let outputs: Vec<RunOutput> = jobs
        .par_iter()
        .map(|&(d, r)| {
            let streams = RngStreams::new(seed, r);
            let _done = Finished;
            let sinks = Sinks {
                trace: opts.trace.as_ref().map(|f| (f.0)(d, r, platforms[d].name())),
                executions: opts.executions.as_ref().map(|f| (f.0)(d, r, platforms[d].name())),
            };
            let spec = sfsim_platform::RunSpec {
                plan: &platforms[d],
                workflow: &scenario.workflow,
                arrivals: &scenario.arrivals,
                iterations,
                streams,
                trace: sinks.trace.is_some(),
                keep_records: keep_records && r == 0,
                measure_after: sfsim_engine::SimTime::from_secs_f64(scenario.measure_after_s),
            };
            sfsim_platform::world::simulate_into(&spec, sinks)
        })
        .collect();
    // A trace that cannot be opened or read (each replication opens it) is an input error.
    if let Some(e) = outputs.iter().find_map(|o| o.arrival_error.clone()) {
        let key = match &scenario.arrivals {
            Arrivals::Trace { file: sfsim_workflow::TraceFile::Azure2019 { .. }, .. } => "arrivals.dir",
            _ => "arrivals.file",
        };
        return Err(scenario.error_at(key, e));
    }
    // A trace gives as many executions as it has invocations.
    let iterations = if trace { outputs.first().map_or(0, |o| o.fold.arrived) } else { iterations };
    let mut results = Vec::with_capacity(platforms.len());
    let mut trace_errors = Vec::new();
    let mut records = Vec::new();
    let mut it = outputs.into_iter();
    for p in &platforms {
        let mut runs: Vec<RunOutput> = it.by_ref().take(replications as usize).collect();
        let mut summary = summarize(p.name(), &runs);
        summary.fan_out_chunks = FanOutChunks::of(&scenario.workflow, p.chunk_bytes);
        if !opts.quantiles.is_empty() {
            let mut lat = sfsim_engine::Sample::new();
            for r in &runs {
                lat.merge(&r.fold.latency_s);
            }
            summary.latency_quantiles_s =
                opts.quantiles.iter().map(|&q| (format!("{q}"), (!lat.is_empty()).then(|| lat.quantile(q)))).collect();
        }
        results.push(summary);
        trace_errors.extend(runs.iter().filter_map(|r| r.trace_error.clone()));
        trace_errors.extend(runs.iter().filter_map(|r| r.executions_error.clone()));
        records.push(runs.first_mut().map(|r| std::mem::take(&mut r.executions)).unwrap_or_default());
    }
    let result = ScenarioResult {
        scenario: scenario.name.clone(),
        seed,
        iterations,
        replications,
        scenario_hash: text_hash(&scenario.source.text),
        models_hash,
        results,
        trace_errors,
    };
    Ok((result, records))
}
