//! # sfsim-report
//!
//! Turns results into what people read: a table, JSON, CSV, and Chrome Trace Event JSON for
//! Perfetto. Output is a pure function of the results, so same results give the same bytes.
//! Files are written atomically ([`write_atomic`]): a temporary file next to the target,
//! renamed over it, so a failed run never leaves a half-written file.
#![warn(missing_docs)]

mod executions;
pub mod figures;
mod reproduce;
mod sweep_io;
mod table;
mod trace;

pub use executions::{ExecutionsFragment, assemble_lines, execution_json};
pub use reproduce::{
    Reproduction, TargetSet, render_reproduction_html, render_reproduction_json, render_reproduction_md, render_reproduction_table,
    reproduction_figures,
};
pub use sweep_io::{MergeError, merge_shards, sweep_header, trial_line};
pub use table::{render_table, render_table_wide};
pub use trace::{TraceFragment, assemble_trace, render_coarse_timeline, render_trace};

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sfsim_experiment::{DeploymentSummary, ScenarioResult};

/// The version stamped into every output.
pub const SFSIM_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize)]
struct JsonOut<'a> {
    scenario: &'a str,
    scenario_hash: &'a str,
    models_hash: &'a str,
    seed: u64,
    sfsim_version: &'a str,
    iterations_per_replication: u64,
    replications: u64,
    results: &'a [DeploymentSummary],
}

/// The JSON document of a run (pretty-printed, newline-terminated).
pub fn render_json(r: &ScenarioResult) -> String {
    let out = JsonOut {
        scenario: &r.scenario,
        scenario_hash: &r.scenario_hash,
        models_hash: &r.models_hash,
        seed: r.seed,
        sfsim_version: SFSIM_VERSION,
        iterations_per_replication: r.iterations,
        replications: r.replications,
        results: &r.results,
    };
    let mut s = serde_json::to_string_pretty(&out).expect("summaries serialize");
    s.push('\n');
    s
}

/// The CSV of a run: a header and one row per deployment.
pub fn render_csv(r: &ScenarioResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: [&str; 27] = [
        "scenario",
        "seed",
        "deployment",
        "iterations",
        "completed",
        "failed",
        "throttled",
        "latency_s_mean",
        "latency_s_p50",
        "latency_s_p95",
        "latency_s_p99",
        "breakdown_s_cold_start",
        "breakdown_s_queue",
        "breakdown_s_scheduling",
        "breakdown_s_execution",
        "breakdown_s_replay",
        "breakdown_s_transfer",
        "breakdown_s_entity",
        "cold_starts",
        "cold_start_s_mean",
        "gb_s",
        "cost_usd_compute",
        "cost_usd_requests",
        "cost_usd_transactions",
        "cost_usd_transitions",
        "cost_usd_storage",
        "cost_usd_total",
    ];
    w.write_record(header).expect("in-memory CSV");
    for d in &r.results {
        let row: [String; 27] = [
            r.scenario.clone(),
            r.seed.to_string(),
            d.deployment.clone(),
            d.iterations.to_string(),
            d.completed.to_string(),
            d.failed.to_string(),
            d.throttled.to_string(),
            d.latency_s.mean.to_string(),
            d.latency_s.p50.to_string(),
            d.latency_s.p95.to_string(),
            d.latency_s.p99.to_string(),
            d.breakdown_s.cold_start.to_string(),
            d.breakdown_s.queue.to_string(),
            d.breakdown_s.scheduling.to_string(),
            d.breakdown_s.execution.to_string(),
            d.breakdown_s.replay.to_string(),
            d.breakdown_s.transfer.to_string(),
            d.breakdown_s.entity.to_string(),
            d.cold_starts.to_string(),
            d.cold_start_s.mean.to_string(),
            d.gb_s.to_string(),
            d.cost_usd.compute.to_string(),
            d.cost_usd.requests.to_string(),
            d.cost_usd.transactions.to_string(),
            d.cost_usd.transitions.to_string(),
            d.cost_usd.storage.to_string(),
            d.cost_usd.total.to_string(),
        ];
        w.write_record(&row).expect("in-memory CSV");
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV is UTF-8")
}

/// Writes several files all-or-nothing: each goes to a temporary file beside its target, and
/// only when every one was written are they renamed into place. On failure the temporaries are
/// removed and the error names the file that failed.
pub fn write_all_atomic<'a>(files: &[(&'a Path, &[u8])]) -> Result<(), (&'a Path, std::io::Error)> {
    write_all_atomic_with(Vec::new(), files)
}

/// [`write_all_atomic`] with files already written to temporaries (`(temporary, target)`,
/// e.g. a streamed trace): they are renamed into place with the others, or removed.
pub fn write_all_atomic_with<'a>(ready: Vec<(PathBuf, &'a Path)>, files: &[(&'a Path, &[u8])]) -> Result<(), (&'a Path, std::io::Error)> {
    let mut staged: Vec<(PathBuf, &Path)> = ready;
    let cleanup = |staged: &[(PathBuf, &Path)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (path, contents) in files {
        match stage(path, contents) {
            Ok(tmp) => staged.push((tmp, path)),
            Err(e) => {
                cleanup(&staged);
                return Err((path, e));
            }
        }
    }
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&staged[i..]);
            return Err((path, e));
        }
    }
    Ok(())
}

fn stage(path: &Path, contents: &[u8]) -> std::io::Result<PathBuf> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `contents` to `path` atomically: nothing is left at `path` unless all was written.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_all_atomic(&[(path, contents)]).map_err(|(_, e)| e)
}
