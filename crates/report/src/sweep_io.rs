//! Sweep result files (JSON Lines) and merging shards.
//!
//! A file is a header line `{"sfsim_sweep": {...}}` naming the sweep, its input hash, the sfsim
//! version, the master seed, the total trial count and the shard `[k, n]`, then one line per
//! trial in index order. Merging checks that the shards belong to the same sweep and cover it
//! exactly once, then writes the header of shard `[0, 1]` and the trial lines in index order,
//! so a merged file is byte-identical to the unsharded run.

use serde::Serialize;
use serde_json::{Value, json};
use sfsim_experiment::DeploymentSummary;
use sfsim_experiment::sweep::{Sweep, Trial};

/// The header line of a shard.
pub fn sweep_header(s: &Sweep, trials: u64, shard: (u64, u64)) -> String {
    let v = json!({"sfsim_sweep": {
        "name": s.name, "hash": s.hash, "version": crate::SFSIM_VERSION, "seed": s.seed,
        "trials": trials, "shard": [shard.0, shard.1],
    }});
    serde_json::to_string(&v).expect("header serializes")
}

#[derive(Serialize)]
struct TrialLine<'a> {
    trial: u64,
    deployment: &'a str,
    replication: u64,
    seed: u64,
    params: std::collections::BTreeMap<&'a str, &'a str>,
    summary: &'a DeploymentSummary,
}

/// One trial's line.
pub fn trial_line(t: &Trial, summary: &DeploymentSummary) -> String {
    let line = TrialLine {
        trial: t.index,
        deployment: &t.deployment,
        replication: t.replication,
        seed: t.seed,
        params: t.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        summary,
    };
    serde_json::to_string(&line).expect("trial serializes")
}

/// Why shards cannot be merged.
#[derive(Debug, PartialEq)]
pub struct MergeError(pub String);

struct Shard {
    name: String,
    header: Value,
    k: u64,
    n: u64,
    lines: Vec<(u64, String)>,
}

fn parse_shard(name: &str, text: &str) -> Result<Shard, MergeError> {
    let mut lines = text.lines();
    let first = lines.next().ok_or_else(|| MergeError(format!("{name}: empty file")))?;
    let header: Value = serde_json::from_str(first).map_err(|e| MergeError(format!("{name}:1: not a sweep header: {e}")))?;
    let h = header.get("sfsim_sweep").ok_or_else(|| MergeError(format!("{name}:1: not a sweep file (no sfsim_sweep header)")))?;
    let shard = h.get("shard").and_then(Value::as_array).ok_or_else(|| MergeError(format!("{name}:1: header without shard")))?;
    let (k, n) = match (shard.first().and_then(Value::as_u64), shard.get(1).and_then(Value::as_u64)) {
        (Some(k), Some(n)) if k < n => (k, n),
        _ => return Err(MergeError(format!("{name}:1: invalid shard {shard:?}"))),
    };
    let mut out = Vec::new();
    for (i, l) in lines.enumerate() {
        let v: Value = serde_json::from_str(l).map_err(|e| MergeError(format!("{name}:{}: {e}", i + 2)))?;
        let t =
            v.get("trial").and_then(Value::as_u64).ok_or_else(|| MergeError(format!("{name}:{}: line without a trial index", i + 2)))?;
        out.push((t, l.to_string()));
    }
    Ok(Shard { name: name.to_string(), header: h.clone(), k, n, lines: out })
}

fn identity(h: &Value) -> Value {
    let mut h = h.clone();
    if let Some(o) = h.as_object_mut() {
        o.remove("shard");
    }
    h
}

/// Merges shard files given as (name, text); returns the merged file.
pub fn merge_shards(files: &[(String, String)]) -> Result<String, MergeError> {
    if files.is_empty() {
        return Err(MergeError("no shard files given".into()));
    }
    let shards = files.iter().map(|(n, t)| parse_shard(n, t)).collect::<Result<Vec<_>, _>>()?;
    let first = &shards[0];
    for s in &shards[1..] {
        if identity(&s.header) != identity(&first.header) {
            return Err(MergeError(format!(
                "{} and {} are shards of different sweeps (name, inputs, version, seed or trial count differ)",
                first.name, s.name
            )));
        }
        if s.n != first.n {
            return Err(MergeError(format!("{} is shard of {} but {} of {}", s.name, s.n, first.name, first.n)));
        }
    }
    let n = first.n;
    let total = first
        .header
        .get("trials")
        .and_then(Value::as_u64)
        .ok_or_else(|| MergeError(format!("{}:1: header without a trial count", first.name)))?;
    let mut seen = vec![None::<&str>; n as usize];
    for s in &shards {
        if let Some(other) = seen[s.k as usize] {
            return Err(MergeError(format!("shard {}/{n} given twice ({other} and {})", s.k, s.name)));
        }
        seen[s.k as usize] = Some(&s.name);
        let expected = (0..total).filter(|i| i % n == s.k).count();
        if s.lines.len() != expected || s.lines.iter().any(|(i, _)| i % n != s.k || *i >= total) {
            return Err(MergeError(format!("{} does not hold exactly the trials of shard {}/{n} (an interrupted run?)", s.name, s.k)));
        }
    }
    let missing: Vec<u64> = (0..n).filter(|&k| seen[k as usize].is_none()).collect();
    if let Some(&first_missing) = missing.first() {
        let mut list: Vec<String> = missing.iter().take(10).map(|k| format!("{k}/{n}")).collect();
        if missing.len() > 10 {
            list.push(format!("and {} more", missing.len() - 10));
        }
        let what = match missing.len() {
            1 => format!("shard {} is missing", list[0]),
            _ => format!("shards {} are missing", list.join(", ")),
        };
        return Err(MergeError(format!(
            "{what} ({} of {n} shard files given); rerun each missing shard, e.g. `sfsim sweep SWEEP.toml --shard \
             {first_missing}/{n}` (or its array task, when the job script uses --shard-from-env --shards {n}), then merge again",
            shards.len()
        )));
    }
    let mut all: Vec<&(u64, String)> = shards.iter().flat_map(|s| s.lines.iter()).collect();
    all.sort_by_key(|(i, _)| *i);
    let mut header = first.header.clone();
    header["shard"] = json!([0, 1]);
    let mut out = serde_json::to_string(&json!({ "sfsim_sweep": header })).expect("header serializes");
    out.push('\n');
    for (_, l) in all {
        out.push_str(l);
        out.push('\n');
    }
    Ok(out)
}
