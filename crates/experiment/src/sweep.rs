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
        for (i, a) in s.axis.iter().enumerate() {
            if a.values.is_empty() {
                return Err(err(&format!("sweep.axis.{i}.values"), "an axis needs at least one value".into()));
            }
            if a.key.parse::<Override>().is_err() && format!("{}=0", a.key).parse::<Override>().is_err() {
                return Err(err(&format!("sweep.axis.{i}.key"), format!("invalid key path `{}`", a.key)));
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
        // Every combination must make a valid scenario with known deployments: find out now,
        // not in trial 4,000 of a cluster job.
        for combo in 0..sweep.combinations() {
            let set = sweep.overrides(&sweep.params_of(combo));
            let sc = Scenario::load(&sweep.scenario, &set)?;
            resolve_deployments(&sc, &sweep.deployments)?;
        }
        Ok(sweep)
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
