//! Regression tests for issue #12 ("answers a user can trust"): every reproducer of the issue
//! through the real binary, with the behaviour a user relies on.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sfsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfsim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[allow(dead_code)]
fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sfsim-issue12-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Video at 10/s overloads every deployment: the bill says so (counts, `stable`, a warning),
/// `--strict` fails, and throttled executions are not hidden in a smaller bill.
#[test]
fn an_overloaded_bill_reports_failures_and_instability() {
    let args = [
        "cost",
        "scenarios/paper/video.toml",
        "--rate",
        "10/s",
        "--period",
        "1d",
        "-d",
        "aws-lambda",
        "-d",
        "aws-step",
        "-d",
        "az-func",
        "-d",
        "az-dorch",
    ];
    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let o = sfsim(&json);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["stable"], false);
    for b in v["bills"].as_array().expect("bills") {
        let d = b["deployment"].as_str().expect("name");
        assert_eq!(b["stable"], false, "{d} is overloaded at 10/s");
        assert!(!b["instability"].as_array().expect("reasons").is_empty());
        let n = |k: &str| b[k].as_u64().unwrap_or_else(|| panic!("{d}: {k} is an integer"));
        assert_eq!(n("completed") + n("failed") + n("throttled"), b["executions"].as_f64().expect("n") as u64, "{d}: counts add up");
        let w = &b["window"];
        let wn = |k: &str| w[k].as_u64().unwrap_or_else(|| panic!("{d}: window.{k}"));
        assert_eq!(wn("completed") + wn("failed") + wn("throttled"), wn("arrived"));
        if d == "aws-lambda" || d == "aws-step" {
            assert!(n("throttled") > 0, "{d} throttles at 10/s");
        }
    }
    let e = stderr(&o);
    for d in ["aws-lambda", "aws-step", "az-func", "az-dorch"] {
        assert!(e.contains(&format!("warning: {d}: not a steady state")), "no warning for {d}: {e}");
    }
    // The table shows the counts and the verdict.
    let o = sfsim(&args);
    let t = stdout(&o);
    assert!(t.contains("throttled") && t.contains("UNSTABLE"), "{t}");
    // --strict fails with exit 1 and names the deployments.
    let mut strict = args.to_vec();
    strict.push("--strict");
    let o = sfsim(&strict);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--strict") && stderr(&o).contains("aws-lambda"), "{}", stderr(&o));
    // A rate the platforms sustain is stable, and --strict passes.
    let o = sfsim(&[
        "cost",
        "scenarios/paper/ml-training-small.toml",
        "--rate",
        "1/min",
        "--period",
        "1d",
        "-d",
        "aws-lambda",
        "--strict",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["bills"][0]["stable"], true);
    assert_eq!(v["bills"][0]["failed"], 0);
}

#[test]
fn cost_rates_and_periods_are_checked_and_printed_readably() {
    for rate in ["1e308/s", "inf/s", "NaN/s", "0/s", "-1/s", "1e-300/s"] {
        let o = sfsim(&["cost", "scenarios/paper/video.toml", "--rate", rate]);
        assert_eq!(o.status.code(), Some(2), "{rate}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{rate}: no bill printed");
    }
    let o = sfsim(&["cost", "scenarios/paper/video.toml", "--rate", "1/min", "--period", "1h", "-d", "aws-lambda"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("over 1 h"), "{t}");
    assert!(!t.contains("0.0 days") && !t.contains("inf") && !t.contains("NaN"), "{t}");
    // --out writes the file, not stdout.
    let dir = tmpdir("cost-out");
    let f = dir.join("bill.json");
    let o = sfsim(&[
        "cost",
        "scenarios/paper/video.toml",
        "--rate",
        "1/h",
        "-d",
        "aws-lambda",
        "--format",
        "json",
        "--out",
        f.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("written")).expect("JSON");
    assert_eq!(v["bills"][0]["deployment"], "aws-lambda");
}

/// A statistic of nothing is null, not 0.0.
#[test]
fn empty_quantiles_are_null_in_json() {
    // A Step Functions payload over its 256 KB limit fails every execution.
    let o = sfsim(&[
        "run",
        "scenarios/paper/video.toml",
        "-d",
        "aws-step",
        "--iterations",
        "3",
        "--set",
        "workflow.steps.split.output_kb=7000",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let r = &v["results"][0];
    assert_eq!(r["completed"], 0, "every execution fails: {r}");
    assert_eq!(r["latency_s"]["n"], 0);
    assert!(r["latency_s"]["p99"].is_null() && r["latency_s"]["mean"].is_null(), "{}", r["latency_s"]);
}
