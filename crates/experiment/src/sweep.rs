//! Sweeps: a scenario run over the cartesian product of `--set` values, deployments and
//! replications, as independent *trials* that can be split into shards.
//!
//! Trial `i` has its own seed, `seed_of(master, i)`, so a trial gives the same result wherever
//! and whenever it runs: on one machine or in shard 5 of 7, with 1 thread or 2. Trials are
//! numbered axis by axis (the first axis slowest), then deployment, then replication; shard
//! `k` of `n` runs the trials with `i % n == k`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sfsim_platform::Models;
use sfsim_workflow::{KeyError, LoadError, Override, Scenario, SourceFile, parse_toml};

use crate::{DeploymentSummary, RunOptions, resolve_deployments, run_scenario, text_hash};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sweep: RawSweep,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: String,
    scenario: String,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "one")]
    replications: u64,
    iterations: Option<u64>,
    #[serde(default)]
    deployments: Vec<String>,
    #[serde(default)]
    axis: Vec<RawAxis>,
}

fn default_seed() -> u64 {
    1
}
fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    key: String,
    values: Vec<toml::Value>,
}

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Name.
    pub name: String,
    /// Scenario file.
    pub scenario: PathBuf,
    /// Master seed.
    pub seed: u64,
    /// Replications per combination.
    pub replications: u64,
    /// Executions per trial (default: the scenario's).
    pub iterations: Option<u64>,
    /// Deployments (default: the scenario's).
    pub deployments: Vec<String>,
    /// (key path, values as TOML text).
    pub axes: Vec<(String, Vec<String>)>,
    /// Hash of the sweep and scenario texts: shards of different inputs never merge.
    pub hash: String,
}

/// One trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Index in the whole sweep.
    pub index: u64,
    /// (key, value) per axis.
    pub params: Vec<(String, String)>,
    /// Deployment.
    pub deployment: String,
    /// Replication of this combination.
    pub replication: u64,
    /// Its seed.
    pub seed: u64,
}

/// The seed of trial `i` under `master` (SplitMix64 of both).
pub fn seed_of(master: u64, i: u64) -> u64 {
    let mut z = master ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Above this many combinations a sweep's values are checked one by one, not every
/// combination (which would take minutes before the first trial).
pub const MAX_CHECKED_COMBINATIONS: u64 = 1_000;

/// Bytes of one trial's output line (kept until the shard is written), measured.
const TRIAL_LINE_BYTES: u64 = 2_600;

/// A scenario error without the caret display, for a message that quotes it (the value comes
/// from this sweep, not from a `--set` the user typed).
fn plain(e: &LoadError) -> String {
    let message = match e.message.find(" (set by --set") {
        Some(i) => &e.message[..i],
        None => &e.message,
    };
    let e = LoadError { message: message.to_string(), ..e.clone() };
    let mut at = e.file.clone();
    if e.line > 0 {
        at += &format!(":{}:{}", e.line, e.col);
    }
    if e.key.is_empty() { format!("{} ({at})", e.message) } else { format!("{} (key `{}`, {at})", e.message, e.key) }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

impl Sweep {
    /// Loads a sweep file; the scenario path is relative to it.
    pub fn load(path: &Path) -> Result<Sweep, LoadError> {
        let src = SourceFile::read(path)?;
        let raw: RawFile = parse_toml(&src)?;
        let s = raw.sweep;
        let err = |k: &str, m: String| src.key_error(KeyError::new(k, m));
        if s.replications == 0 {
            return Err(err("sweep.replications", "must be at least 1".into()));
        }
        if s.replications > sfsim_workflow::MAX_REPLICATIONS {
            return Err(err("sweep.replications", format!("at most {}, got {}", sfsim_workflow::MAX_REPLICATIONS, s.replications)));
        }
        match s.iterations {
            Some(0) => return Err(err("sweep.iterations", "must be at least 1 (every trial would simulate nothing)".into())),
            Some(n) if n > sfsim_workflow::MAX_ITERATIONS => {
                return Err(err("sweep.iterations", format!("at most {} per trial, got {n}", sfsim_workflow::MAX_ITERATIONS)));
            }
            _ => {}
        }
        for (i, a) in s.axis.iter().enumerate() {
            if a.values.is_empty() {
                return Err(err(&format!("sweep.axis.{i}.values"), "an axis needs at least one value".into()));
            }
            if a.key.parse::<Override>().is_err() && format!("{}=0", a.key).parse::<Override>().is_err() {
                return Err(err(&format!("sweep.axis.{i}.key"), format!("invalid key path `{}`", a.key)));
            }
            if let Some(j) = s.axis[..i].iter().position(|b| b.key == a.key) {
                return Err(err(
                    &format!("sweep.axis.{i}.key"),
                    format!("duplicate axis `{}` (also axis {}): merge their values into one axis", a.key, j + 1),
                ));
            }
            let texts: Vec<String> = a.values.iter().map(value_text).collect();
            for (k, t) in texts.iter().enumerate() {
                if let Some(j) = texts[..k].iter().position(|u| u == t) {
                    return Err(err(
                        &format!("sweep.axis.{i}.values.{k}"),
                        format!("duplicate value {t} (also value {}) of axis `{}`: its trials would repeat", j + 1, a.key),
                    ));
                }
            }
        }
        let scenario = path.parent().unwrap_or(Path::new(".")).join(&s.scenario);
        let scenario_text = SourceFile::read(&scenario).map_err(|e| err("sweep.scenario", e.to_string()))?.text;
        let hash = text_hash(&format!("{}\n{}", src.text, scenario_text));
        let sweep = Sweep {
            name: s.name,
            scenario,
            seed: s.seed,
            replications: s.replications,
            iterations: s.iterations,
            deployments: s.deployments,
            axes: s.axis.iter().map(|a| (a.key.clone(), a.values.iter().map(value_text).collect())).collect(),
            hash,
        };
        // The scenario as the sweep names it (its own errors point into it).
        let base = Scenario::load(&sweep.scenario, &[]).map_err(|e| err("sweep.scenario", e.to_string()))?;
        let deps = resolve_deployments(&base, &sweep.deployments).map_err(|e| err("sweep.deployments", e.message))?;
        // Size first, by multiplication: refuse a sweep too big before any work.
        let combos = sweep.axes.iter().fold(1u128, |a, (_, v)| a.saturating_mul(v.len() as u128));
        let trials = combos.saturating_mul(deps.len() as u128).saturating_mul(u128::from(sweep.replications));
        if trials > u128::from(crate::budget::MAX_TRIALS) {
            let axes: Vec<String> = sweep.axes.iter().map(|(_, v)| v.len().to_string()).collect();
            let iterations = sweep.iterations.unwrap_or(base.iterations);
            let mut e = crate::budget::Estimate::of(u64::try_from(trials).unwrap_or(u64::MAX), iterations);
            e.memory_bytes = u64::try_from(trials).unwrap_or(u64::MAX).saturating_mul(TRIAL_LINE_BYTES);
            return Err(err(
                "sweep.axis",
                format!(
                    "{} values x {} deployment(s) x {} replication(s) = {trials} trials, over the limit of {}; they would take {}",
                    axes.join(" x "),
                    deps.len(),
                    sweep.replications,
                    crate::budget::grouped(crate::budget::MAX_TRIALS),
                    e.describe()
                ),
            ));
        }
        // Every value must make a valid scenario: find out now, not in trial 4,000 of a cluster
        // job. Each value is tried alone (its error points at it in this file), then every
        // combination when there are few enough to try.
        for (i, (key, values)) in sweep.axes.iter().enumerate() {
            for (k, v) in values.iter().enumerate() {
                let set = [Override { path: key.clone(), value: v.clone() }];
                Scenario::load(&sweep.scenario, &set).and_then(|sc| resolve_deployments(&sc, &sweep.deployments).map(|_| ())).map_err(
                    |e| err(&format!("sweep.axis.{i}.values.{k}"), format!("{key} = {v} makes an invalid scenario: {}", plain(&e))),
                )?;
            }
        }
        if sweep.combinations() <= MAX_CHECKED_COMBINATIONS {
            for combo in 0..sweep.combinations() {
                let params = sweep.params_of(combo);
                let set = sweep.overrides(&params);
                Scenario::load(&sweep.scenario, &set).and_then(|sc| resolve_deployments(&sc, &sweep.deployments).map(|_| ())).map_err(
                    |e| {
                        let combo: Vec<String> = params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                        err("sweep.axis", format!("the combination {} makes an invalid scenario: {}", combo.join(", "), plain(&e)))
                    },
                )?;
            }
        }
        Ok(sweep)
    }

    /// Trials in the whole sweep, by multiplication (without enumerating them).
    pub fn count(&self) -> Result<u64, LoadError> {
        Ok(self.combinations() * self.deployment_names()?.len() as u64 * self.replications)
    }

    /// Executions the trials of shard `shard.0` of `shard.1` simulate.
    pub fn estimate(&self, shard: (u64, u64)) -> Result<crate::budget::Estimate, LoadError> {
        let n = self.count()?;
        let mine = n / shard.1 + u64::from(shard.0 < n % shard.1);
        let iterations = match self.iterations {
            Some(i) => i,
            None => Scenario::load(&self.scenario, &self.overrides(&self.params_of(0)))?.iterations,
        };
        let mut e = crate::budget::Estimate::of(mine, iterations);
        // Each trial's output line (about 2.5 KB) is kept until the shard is written.
        e.memory_bytes = mine.saturating_mul(TRIAL_LINE_BYTES);
        Ok(e)
    }

    fn combinations(&self) -> u64 {
        self.axes.iter().map(|(_, v)| v.len() as u64).product()
    }

    fn params_of(&self, mut combo: u64) -> Vec<(String, String)> {
        let mut out = vec![(String::new(), String::new()); self.axes.len()];
        for (k, (key, values)) in self.axes.iter().enumerate().rev() {
            let n = values.len() as u64;
            out[k] = (key.clone(), values[(combo % n) as usize].clone());
            combo /= n;
        }
        out
    }

    fn overrides(&self, params: &[(String, String)]) -> Vec<Override> {
        params.iter().map(|(k, v)| Override { path: k.clone(), value: v.clone() }).collect()
    }

    /// The deployments every trial combination runs (from the sweep or the scenario).
    fn deployment_names(&self) -> Result<Vec<String>, LoadError> {
        let sc = Scenario::load(&self.scenario, &self.overrides(&self.params_of(0)))?;
        Ok(resolve_deployments(&sc, &self.deployments)?.iter().map(|d| d.name().to_string()).collect())
    }

    /// Every trial, in index order.
    pub fn trials(&self) -> Result<Vec<Trial>, LoadError> {
        let deps = self.deployment_names()?;
        let mut out = Vec::new();
        for combo in 0..self.combinations() {
            let params = self.params_of(combo);
            for d in &deps {
                for r in 0..self.replications {
                    let index = out.len() as u64;
                    out.push(Trial {
                        index,
                        params: params.clone(),
                        deployment: d.clone(),
                        replication: r,
                        seed: seed_of(self.seed, index),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Runs one trial.
    pub fn run_trial(&self, t: &Trial, models: &Models) -> Result<DeploymentSummary, LoadError> {
        let sc = Scenario::load(&self.scenario, &self.overrides(&t.params))?;
        let deps = resolve_deployments(&sc, std::slice::from_ref(&t.deployment))?;
        let opts = RunOptions { iterations: self.iterations, replications: Some(1), seed: Some(t.seed), ..RunOptions::default() };
        let mut r = run_scenario(&sc, &deps, models, &opts)?;
        Ok(r.results.remove(0))
    }
}
