//! `sfsim run --executions FILE.jsonl`: one line per execution of every replication, the same
//! bytes whatever the thread count, consistent with the summary, failures named.

use std::process::{Command, Output};

use crate::common;
use common::TempDir;

fn sfsim(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfsim"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs")
}

fn tmp(dir: &TempDir, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// Runs the scenario `text` (written to a fresh directory named after `label`) with
/// `--executions` and returns its lines.
fn executions_of(label: &str, text: &str) -> Vec<serde_json::Value> {
    let dir = TempDir::new(label);
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, text).expect("write");
    let out = tmp(&dir, "executions.jsonl");
    let o = sfsim(&["run", &scenario.to_string_lossy(), "-q", "--executions", &out], "2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&out).expect("file").lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn every_execution_is_one_line_consistent_with_the_summary_and_deterministic() {
    let dir = TempDir::new("executions");
    let (a, b) = (tmp(&dir, "a.jsonl"), tmp(&dir, "b.jsonl"));
    let args = |f: &str| {
        vec![
            "run".to_string(),
            "scenarios/paper/ml-training-small.toml".into(),
            "--iterations".into(),
            "7".into(),
            "--replications".into(),
            "3".into(),
            "--deployment".into(),
            "az-dorch".into(),
            "--deployment".into(),
            "aws-step".into(),
            "--format".into(),
            "json".into(),
            "-q".into(),
            "--executions".into(),
            f.to_string(),
        ]
    };
    let run = |f: &str, threads: &str| {
        let v = args(f);
        let o = sfsim(&v.iter().map(String::as_str).collect::<Vec<_>>(), threads);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")
    };
    let summary = run(&a, "1");
    run(&b, "2");
    let text = std::fs::read_to_string(&a).expect("file");
    assert_eq!(text, std::fs::read_to_string(&b).expect("file"), "same bytes with 1 and 2 threads");
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 2 * 3 * 7);
    for (d, name) in ["az-dorch", "aws-step"].iter().enumerate() {
        let mine: Vec<&serde_json::Value> = lines.iter().filter(|l| l["deployment"] == *name).collect();
        assert_eq!(mine.len(), 21, "{name}");
        let mut lat = 0.0;
        for l in &mine {
            let (arrival, end) = (l["arrival_s"].as_f64().unwrap(), l["end_s"].as_f64().unwrap());
            assert!((l["latency_s"].as_f64().unwrap() - (end - arrival)).abs() < 1e-9);
            assert_eq!(l["outcome"], "completed");
            let functions = l["functions"].as_array().unwrap();
            // 4 Lambdas (per-flow-element) on aws-step; starter, episodes, activities, entity batches on az-dorch.
            assert!(functions.len() >= 4, "{name}: {} invocations", functions.len());
            for f in functions {
                let (s, e) = (f["start_s"].as_f64().unwrap(), f["end_s"].as_f64().unwrap());
                assert!(arrival <= s && s <= e && e <= end + 1e-9, "{name}: {f} outside [{arrival}, {end}]");
            }
            lat += l["latency_s"].as_f64().unwrap();
        }
        let mean = summary["results"][d]["latency_s"]["mean"].as_f64().unwrap();
        assert!((lat / 21.0 - mean).abs() < 1e-6, "{name}: mean of the lines {} against the summary's {mean}", lat / 21.0);
    }
}

#[test]
fn a_failed_execution_names_the_platform_error() {
    let lines = executions_of(
        "executions-fail",
        "[scenario]\nname = \"big\"\ndeployments = [\"aws-step\"]\niterations = 2\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n[workflow]\nflow = [{ step = \"a\" }, { step = \"b\" }]\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 0.1 }\nmemory_mb = 64\noutput_kb = 300\n[workflow.steps.b]\ncpu_s = { dist = \"fixed\", value_s = 0.1 }\nmemory_mb = 64\ninput_kb = 300\n",
    );
    for v in &lines {
        assert_eq!(v["outcome"], "failed");
        assert!(v["error"].as_str().unwrap().starts_with("States.DataLimitExceeded"), "{v}");
    }
    assert_eq!(lines.len(), 2);
}

#[test]
fn asked_quantiles_agree_with_the_standard_ones_and_bad_ones_are_refused() {
    let o = sfsim(
        &[
            "run",
            "scenarios/paper/ml-training-small.toml",
            "--iterations",
            "40",
            "-d",
            "az-func",
            "--quantiles",
            "0.5,0.99,0.999",
            "--format",
            "json",
            "-q",
        ],
        "2",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let r = &v["results"][0];
    let q = |k: &str| r["latency_quantiles_s"][k].as_f64().unwrap_or_else(|| panic!("quantile {k}: {r}"));
    assert_eq!(q("0.5"), r["latency_s"]["p50"].as_f64().unwrap());
    assert_eq!(q("0.99"), r["latency_s"]["p99"].as_f64().unwrap());
    assert!(q("0.999") >= q("0.99") && q("0.999") <= r["latency_s"]["max"].as_f64().unwrap());
    let bad = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--quantiles", "1.5"], "2");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("within [0, 1]"));
}

/// Each invocation names the instance that ran it, the same one the timeline draws it on: a
/// user reading which host ran which activity (how a burst spreads over hosts) gets the
/// timeline's `instance N`, whichever output they read.
#[test]
fn every_invocation_names_the_instance_the_timeline_draws_it_on() {
    let dir = TempDir::new("executions-instance");
    let (ex, tr) = (tmp(&dir, "e.jsonl"), tmp(&dir, "t.json"));
    let o = sfsim(
        &["run", "scenarios/validation/sebs-ml.toml", "-d", "az-dorch", "--iterations", "60", "-q", "--executions", &ex, "--trace", &tr],
        "2",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&tr).expect("trace")).expect("json");
    let events = trace["traceEvents"].as_array().expect("events");
    // Track names: "<app> instance N slot k".
    let mut track_instance = std::collections::HashMap::new();
    for e in events.iter().filter(|e| e["ph"] == "M" && e["name"] == "thread_name") {
        let name = e["args"]["name"].as_str().unwrap_or("");
        if let Some(rest) = name.split(" instance ").nth(1) {
            let n: u64 = rest.split(' ').next().and_then(|s| s.parse().ok()).expect("instance number");
            track_instance.insert((e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid")), n);
        }
    }
    // Each invocation's slice: (execution, start in microseconds) -> instance.
    let mut slice_instance = std::collections::HashMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X" && e["cat"] == "invocation") {
        let key = (e["args"]["exec"].as_u64().expect("exec"), e["ts"].as_f64().expect("ts").round() as i64);
        let inst = track_instance[&(e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid"))];
        slice_instance.insert(key, inst);
    }
    let (mut matched, mut instances) = (0, std::collections::BTreeSet::new());
    for line in std::fs::read_to_string(&ex).expect("executions").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        for f in v["functions"].as_array().expect("functions") {
            let inst = f["instance"].as_u64().unwrap_or_else(|| panic!("no instance: {f}"));
            instances.insert(inst);
            let key = (v["id"].as_u64().expect("id"), (f["start_s"].as_f64().expect("start_s") * 1e6).round() as i64);
            if let Some(&drawn) = slice_instance.get(&key) {
                assert_eq!(inst, drawn, "{f} of execution {} is drawn on instance {drawn}", v["id"]);
                matched += 1;
            }
        }
    }
    // Every activity has its slice (2 batches x 30 x 3 activities); the starters and episodes too.
    assert!(matched >= 180, "only {matched} invocations found in the timeline");
    assert!(instances.len() >= 2, "a cold burst of 30 runs on more than one host: {instances:?}");
}

/// An execution whose first function never started has no start delay: its line says `null`,
/// not 0 s (which would read as an instant start). A throttled Lambda request never runs.
#[test]
fn an_execution_that_never_started_has_no_start_delay() {
    let lines = executions_of(
        "executions-throttled",
        "[scenario]\nname = \"burst\"\ndeployments = [\"aws-lambda\"]\niterations = 6\n[arrivals]\nkind = \"batches\"\nsize = 6\npause_s = 60\n[models.aws-lambda]\nscaling.account_concurrency = 2\n[workflow]\nflow = [{ step = \"a\" }]\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 1.0 }\nmemory_mb = 128\n",
    );
    let (throttled, completed): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l["outcome"] == "throttled");
    assert_eq!((throttled.len(), completed.len()), (4, 2), "2 of 6 at once under a concurrency of 2");
    for l in throttled {
        assert!(l["start_delay_s"].is_null(), "{l}");
        assert!(l["functions"].as_array().expect("functions").is_empty(), "{l}");
    }
    for l in completed {
        assert!(l["start_delay_s"].as_f64().is_some_and(|d| d > 0.0), "a cold start before the code: {l}");
    }
}
