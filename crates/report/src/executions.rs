//! Per-execution output (`sfsim run --executions FILE.jsonl`): one JSON line per execution, with
//! the invocations it ran, streamed as executions end (memory does not grow with the run).
//!
//! Each replication of each deployment writes its own fragment file; [`assemble_lines`] joins
//! them in (deployment, replication) order, so the file is the same whatever the thread count.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sfsim_platform::{ExecRecord, ExecSink, FunctionSpan, Outcome, record::Breakdown};

/// Writes the executions of one replication of one deployment as JSON lines.
pub struct ExecutionsFragment {
    deployment: String,
    replication: u64,
    out: Option<std::io::BufWriter<std::fs::File>>,
    error: Option<String>,
}

impl ExecutionsFragment {
    /// Starts the fragment at `path`.
    pub fn create(path: &Path, deployment: &str, replication: u64) -> ExecutionsFragment {
        let mut f = ExecutionsFragment { deployment: deployment.to_string(), replication, out: None, error: None };
        match std::fs::File::create(path) {
            Ok(file) => f.out = Some(std::io::BufWriter::new(file)),
            Err(e) => f.error = Some(format!("cannot write {}: {e}", path.display())),
        }
        f
    }
}

fn breakdown_json(b: &Breakdown) -> Value {
    let mut m = serde_json::Map::new();
    for (name, d) in Breakdown::NAMES.iter().zip(b.parts()) {
        m.insert((*name).to_string(), json!(d.as_secs_f64()));
    }
    Value::Object(m)
}

/// The JSON line of one execution.
pub fn execution_json(deployment: &str, replication: u64, r: &ExecRecord, spans: &[FunctionSpan]) -> Value {
    let (outcome, error) = match &r.outcome {
        Outcome::Completed => ("completed", Value::Null),
        Outcome::Failed { error } if error.is_throttle() => ("throttled", json!(error.name())),
        Outcome::Failed { error } => ("failed", json!(error.name())),
    };
    let functions: Vec<Value> = spans
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "start_s": s.start.as_secs_f64(),
                "end_s": s.end.as_secs_f64(),
                "cold": s.cold,
                "failed": s.failed,
                "instance": s.instance,
            })
        })
        .collect();
    json!({
        "deployment": deployment,
        "replication": replication,
        "id": r.id,
        "arrival_s": r.arrival.as_secs_f64(),
        "end_s": r.end.as_secs_f64(),
        "latency_s": r.end.saturating_since(r.arrival).as_secs_f64(),
        "outcome": outcome,
        "error": error,
        "cold_start": r.cold_start,
        "start_delay_s": r.start_delay.map(|d| d.as_secs_f64()),
        "cost_usd": r.cost.total(),
        "gb_s": r.gb_s,
        "breakdown_s": breakdown_json(&r.breakdown),
        "functions": functions,
    })
}

impl ExecSink for ExecutionsFragment {
    fn execution(&mut self, r: &ExecRecord, spans: &[FunctionSpan]) {
        let Some(out) = &mut self.out else { return };
        let v = execution_json(&self.deployment, self.replication, r, spans);
        let res = serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::other).and_then(|()| out.write_all(b"\n"));
        if let Err(e) = res {
            self.error.get_or_insert(e.to_string());
            self.out = None;
        }
    }

    fn finish(&mut self) -> Option<String> {
        if let Some(mut out) = self.out.take()
            && let Err(e) = out.flush()
        {
            self.error.get_or_insert(e.to_string());
        }
        self.error.clone()
    }
}

/// Joins line fragments, in order, into `out`.
pub fn assemble_lines(fragments: &[PathBuf], out: &Path) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    for f in fragments {
        let mut r = std::fs::File::open(f)?;
        std::io::copy(&mut r, &mut w)?;
    }
    w.flush()
}
