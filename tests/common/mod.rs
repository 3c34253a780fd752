//! What the CLI tests share: running the real binary from the repository root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

pub mod conflicts;

/// A fresh directory under the system temporary directory, removed with everything in it when
/// dropped: a test run leaves nothing behind (before, each run left its copies of the models,
/// its reports and its scenarios in /tmp, about 100 MB a run, until CI's disk filled). When the
/// test is failing the directory is kept and its path printed, so its files can be looked at.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `sfsim-<tag>-<process>-<n>`: unique within a run (n counts the directories it made) and
    /// between concurrent runs (the process id).
    pub fn new(tag: &str) -> Self {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("sfsim-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for the failing test: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

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

/// `f` of each execution (`--executions` lines), grouped by deployment (in order of first
/// appearance), each group in execution order (`id`).
#[allow(dead_code)] // not every test file reads executions
pub fn by_deployment<T>(execs: &[serde_json::Value], f: impl Fn(&serde_json::Value) -> T) -> Vec<(String, Vec<T>)> {
    let mut by: Vec<(String, Vec<(u64, T)>)> = Vec::new();
    for v in execs {
        let (d, x) = (v["deployment"].as_str().expect("deployment").to_string(), (v["id"].as_u64().expect("id"), f(v)));
        match by.iter_mut().find(|(n, _)| *n == d) {
            Some((_, xs)) => xs.push(x),
            None => by.push((d, vec![x])),
        }
    }
    by.into_iter()
        .map(|(d, mut xs)| {
            xs.sort_by_key(|x| x.0);
            (d, xs.into_iter().map(|x| x.1).collect())
        })
        .collect()
}
