//! What the CLI tests share: running the real binary from the repository root.

use std::process::{Command, Output};

pub mod conflicts;

/// Runs `sfsim` with `args` from the repository root.
pub fn sfsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfsim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("binary runs")
}

/// Runs `sfsim` with `args` and each of `sets` as `--set`; it must succeed; its stdout as JSON.
#[allow(dead_code)] // not every test file runs JSON
pub fn run_json(args: &[&str], sets: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    for s in sets {
        all.extend(["--set", s]);
    }
    let o = sfsim(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The durations, s, of an execution's functions named `name` (an `--executions` line's
/// `functions`), in order.
#[allow(dead_code)] // not every test file reads executions
pub fn spans_s(e: &serde_json::Value, name: &str) -> Vec<f64> {
    e["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter(|f| f["name"] == name)
        .map(|f| f["end_s"].as_f64().expect("end_s") - f["start_s"].as_f64().expect("start_s"))
        .collect()
}
