//! Regression tests for issue #12 ("answers a user can trust"): every reproducer of the issue
//! through the real binary, with the behaviour a user relies on.

use std::process::{Command, Output};

use crate::common;
use common::sfsim;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[allow(dead_code)]
fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("issue12-{name}"))
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
        // Offered load against capacity: 10/s of a 6-minute video needs thousands at once.
        let (offered, capacity) = (w["offered_concurrency"].as_f64().unwrap(), w["capacity_concurrency"].as_f64().unwrap());
        let expected_capacity = if d.starts_with("aws") { 1000.0 } else { 200.0 };
        assert_eq!(capacity, expected_capacity, "{d}");
        assert!(offered > capacity, "{d}: offered {offered}");
        assert!(b["instability"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("capacity")), "{d}: {}", b["instability"]);
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

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

fn scenario_path() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/paper/video.toml").to_string_lossy().into_owned()
}

/// Three axes of 1,000 values: refused at once (by multiplication), with the estimate; `--count`
/// multiplies without enumerating.
#[test]
fn a_huge_sweep_is_refused_before_any_work() {
    let dir = tmpdir("huge-sweep");
    let v: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    let v = v.join(", ");
    let text = format!(
        "[sweep]\nname = \"big\"\nscenario = \"{}\"\niterations = 2\n\n[[sweep.axis]]\nkey = \"workflow.fan_out.workers.items\"\nvalues = [{v}]\n\n[[sweep.axis]]\nkey = \"seed\"\nvalues = [{v}]\n\n[[sweep.axis]]\nkey = \"scenario.seed\"\nvalues = [{v}]\n",
        scenario_path()
    );
    let f = write(&dir, "big.toml", &text);
    for args in [vec!["sweep", &f], vec!["sweep", &f, "--count"], vec!["validate", &f]] {
        let started = std::time::Instant::now();
        let o = sfsim(&args);
        assert!(started.elapsed().as_secs() < 5, "{args:?} took {:?}", started.elapsed());
        assert_eq!(o.status.code(), Some(3), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains("big.toml:6:1") && e.contains("4000000000 trials") && e.contains("executions") && e.contains("memory"), "{e}");
    }
    // Under the trial limit, but more combinations than are checked one by one: --count is a
    // product and quick.
    let w: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
    let w = w.join(", ");
    let text = format!(
        "[sweep]\nname = \"wide\"\nscenario = \"{}\"\niterations = 2\ndeployments = [\"aws-lambda\"]\n\n[[sweep.axis]]\nkey = \"workflow.fan_out.workers.items\"\nvalues = [{w}]\n\n[[sweep.axis]]\nkey = \"scenario.seed\"\nvalues = [{w}]\n",
        scenario_path()
    );
    let f = write(&dir, "wide.toml", &text);
    let started = std::time::Instant::now();
    let o = sfsim(&["sweep", &f, "--count"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "90000");
    assert!(started.elapsed().as_secs() < 10, "--count took {:?}", started.elapsed());
}

/// iterations = 10,000,000 with replications = 10,000: refused by validate and run, with the
/// estimate, instead of aborting on memory.
#[test]
fn iterations_times_replications_is_bounded() {
    let dir = tmpdir("huge-run");
    let text = std::fs::read_to_string(scenario_path()).expect("video");
    let text = text.replacen("[scenario]\n", "[scenario]\nreplications = 10000\n", 1).replace("iterations = 100", "iterations = 10000000");
    let f = write(&dir, "huge.toml", &text);
    for cmd in ["validate", "run"] {
        let o = sfsim(&[cmd, &f]);
        assert_eq!(o.status.code(), Some(3), "{cmd}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("key `scenario.iterations`") && e.contains("hours of one core") && e.contains("GB"), "{cmd}: {e}");
    }
    // The same through the flags: exit 3 naming them.
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--iterations", "10000000", "--replications", "10000"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("--iterations/--replications") && stderr(&o).contains("executions"), "{}", stderr(&o));
}

/// A 2019 trace whose row holds 10^9 invocations in a minute is refused at its row and column,
/// not expanded into gigabytes.
#[test]
fn an_absurd_trace_count_is_refused_at_its_cell() {
    let dir = tmpdir("absurd-trace");
    let minutes: Vec<String> = (1..=1440).map(|m| m.to_string()).collect();
    let mut row = vec!["0".to_string(); 1440];
    row[2] = "1000000000".into();
    let inv = format!("HashOwner,HashApp,HashFunction,Trigger,{}\no,a,f,http,{}\n", minutes.join(","), row.join(","));
    write(&dir, "invocations_per_function_md.anon.d01.csv", &inv);
    let pct: Vec<String> = [0, 1, 25, 50, 75, 99, 100].iter().map(|k| format!("percentile_Average_{k}")).collect();
    write(
        &dir,
        "function_durations_percentiles.anon.d01.csv",
        &format!(
            "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,{}\no,a,f,100,1,100,100,100,100,100,100,100,100,100\n",
            pct.join(",")
        ),
    );
    let d = dir.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let o = sfsim(&["replay", "--azure-2019", &d]);
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("invocations_per_function_md.anon.d01.csv:2") && e.contains("column `3`") && e.contains("GB"), "{e}");
}

/// The input edge cases of the point 4: each an error with file:line:col, or a stated
/// assumption.
#[test]
fn sweep_edge_cases_point_into_the_sweep_file() {
    let dir = tmpdir("sweep-edges");
    let head = |name: &str, extra: &str| format!("[sweep]\nname = \"{name}\"\nscenario = \"{}\"\n{extra}\n", scenario_path());
    let axis = |key: &str, values: &str| format!("\n[[sweep.axis]]\nkey = \"{key}\"\nvalues = [{values}]\n");
    let cases = [
        (
            "zero.toml",
            head("zero", "iterations = 0") + &axis("workflow.fan_out.workers.items", "1, 2"),
            "zero.toml:4:14",
            "sweep.iterations",
        ),
        (
            "dup.toml",
            head("dup", "iterations = 2")
                + &axis("workflow.fan_out.workers.items", "1, 2")
                + &axis("workflow.fan_out.workers.items", "3, 4"),
            "dup.toml:11:7",
            "duplicate axis",
        ),
        (
            "val.toml",
            head("val", "iterations = 2") + &axis("workflow.fan_out.workers.items", "1, -5, 2"),
            "val.toml:8:14",
            "sweep.axis.0.values.1",
        ),
    ];
    for (name, text, at, what) in cases {
        let f = write(&dir, name, &text);
        for cmd in ["validate", "sweep"] {
            let o = sfsim(&[cmd, &f]);
            assert_eq!(o.status.code(), Some(3), "{name} {cmd}");
            let e = stderr(&o);
            assert!(e.contains(at) && e.contains(what), "{name} {cmd}: {e}");
            assert!(!e.contains("set by --set"), "{name}: the user typed no --set: {e}");
        }
    }
}

#[test]
fn a_file_that_is_not_utf8_gets_a_position() {
    let dir = tmpdir("utf8");
    let p = dir.join("latin1.toml");
    std::fs::write(&p, b"[scenario]\nname = \"caf\xe9\"\n").expect("write");
    let o = sfsim(&["validate", p.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(e.contains("latin1.toml:2:12") && e.contains("UTF-8"), "{e}");
}

#[test]
fn replay_says_what_it_assumes_when_the_memory_file_is_missing() {
    let dir = tmpdir("no-memory");
    let d = dir.to_string_lossy().into_owned();
    assert_eq!(sfsim(&["replay", "--generate-test-trace", &d]).status.code(), Some(0));
    std::fs::remove_file(dir.join("app_memory_percentiles.anon.d01.csv")).expect("remove");
    let o = sfsim(&["replay", "--azure-2019", &d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("app_memory_percentiles.anon.d01.csv is missing") && e.contains("170 MB"), "{e}");
}

/// A table holding a step and a parallel gets words about the flow, not serde's; 1e308 s is
/// refused where it would have been clamped to the clock's range.
#[test]
fn flow_kinds_and_huge_durations_get_clear_errors() {
    let dir = tmpdir("edges");
    let head = "[scenario]\nname = \"e\"\ndeployments = [\"aws-lambda\"]\niterations = 2\n\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\n[workflow]\n";
    let step = "\n[workflow.steps.a]\nmemory_mb = 128\n";
    let both = write(
        &dir,
        "both.toml",
        &format!(
            "{head}flow = [{{ step = \"a\", parallel = [[{{ step = \"a\" }}]] }}]\n{step}cpu_s = {{ dist = \"fixed\", value_s = 0.1 }}\n"
        ),
    );
    let o = sfsim(&["validate", &both]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(
        e.contains("both.toml:11:9") && e.contains("exactly one of `step`, `parallel`, `fan_out`") && !e.contains("wanted exactly"),
        "{e}"
    );
    let huge = write(
        &dir,
        "huge.toml",
        &format!("{head}flow = [{{ step = \"a\" }}]\n{step}cpu_s = {{ dist = \"empirical\", quantiles_s = [[0, 1], [1, 1e308]] }}\n"),
    );
    let o = sfsim(&["validate", &huge]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(e.contains("huge.toml:15:54") && e.contains("got 1e308") && e.contains("1e9"), "{e}");
    let o = sfsim(&["replay", "--generate-test-trace", dir.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0));
    for bad in [["--policy", "fixed:1e308s"], ["--cold-start-s", "1e308"]] {
        let o = sfsim(&["replay", "--azure-2019", dir.to_str().expect("utf-8"), bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("1e9"), "{}", stderr(&o));
    }
}

/// `reproduce`, `list` and `calibrate` work from another directory: the repository's data
/// files are found by the documented rule; `list` tells scenarios from sweeps.
#[test]
fn works_from_any_directory() {
    let dir = tmpdir("elsewhere");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sfsim")).args(args).current_dir(&dir).env_remove("SFSIM_HOME").output().expect("runs")
    };
    let out = dir.join("rep");
    let o = run(&["reproduce", "--only", "ml-train-durable-beats-queue", "--iterations", "5", "-q", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ml-train-durable-beats-queue"));
    let o = run(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    let (scen, sweeps) = t.split_once("sweeps (").expect("a sweeps section");
    assert!(scen.contains("paper/video.toml") && !scen.contains("video-width.toml"), "{t}");
    assert!(sweeps.contains("sweeps/video-width.toml") && !sweeps.contains("paper/video.toml"), "{t}");
    let o = run(&["calibrate", "--iterations", "2", "--passes", "1", "-q"]);
    assert!(!stderr(&o).contains("cannot read file"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Each subcommand's --help has its own examples and exit codes.
#[test]
fn each_subcommand_has_its_own_help() {
    for (cmd, example) in [
        ("run", "sfsim run "),
        ("cost", "sfsim cost "),
        ("sweep", "sfsim sweep "),
        ("replay", "sfsim replay "),
        ("validate", "sfsim validate "),
        ("reproduce", "sfsim reproduce "),
        ("calibrate", "sfsim calibrate"),
        ("plot", "sfsim plot "),
        ("merge", "sfsim merge "),
    ] {
        let o = sfsim(&[cmd, "--help"]);
        let t = stdout(&o);
        assert!(t.contains("Exit codes:") && t.contains("Examples:"), "{cmd}: {t}");
        let examples = t.split("Examples:").nth(1).expect("examples");
        for line in examples.lines().filter(|l| !l.trim().is_empty()) {
            assert!(line.trim_start().starts_with(example.trim_end()), "{cmd} --help shows another command's example: {line}");
        }
    }
}

/// The run table fits 120 columns with a legend; --wide keeps every column; empty statistics
/// show as `-`, not 0.000.
#[test]
fn the_run_table_fits_120_columns() {
    let o = sfsim(&["run", "scenarios/paper/ml-training-large.toml", "--iterations", "3", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    for line in t.lines() {
        assert!(line.chars().count() <= 120, "{} columns: {line}", line.chars().count());
    }
    assert!(t.contains("completed") && t.contains("throttled") && t.contains("--wide"), "{t}");
    for d in ["aws-lambda", "aws-step", "az-func", "az-queue", "az-dorch", "az-dent"] {
        assert!(t.lines().any(|l| l.starts_with(d)), "{d}: {t}");
    }
    let o = sfsim(&["run", "scenarios/paper/ml-training-large.toml", "--iterations", "3", "-q", "--wide"]);
    assert!(stdout(&o).contains("b.entity"), "{}", stdout(&o));
    let o = sfsim(&[
        "run",
        "scenarios/paper/video.toml",
        "-d",
        "aws-step",
        "--iterations",
        "3",
        "-q",
        "--set",
        "workflow.steps.split.output_kb=7000",
    ]);
    let row = stdout(&o).lines().find(|l| l.starts_with("aws-step")).expect("row").to_string();
    assert!(row.contains(" - ") && !row.contains(" 0.000 "), "{row}");
}

/// Progress is for terminals: a run of over two seconds with stderr piped prints no bar.
#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-large.toml",
        "--iterations",
        "30000",
        "-d",
        "aws-lambda",
        "-d",
        "az-dorch",
        "--replications",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let e = stderr(&o);
    assert!(!e.contains("simulations,") && !e.contains('\r') && e.lines().count() == 1, "{e}");
}

/// Hybrid keep-alive where its win is computable: one function every 15 minutes exactly, 96
/// times. fixed:10m expires every instance 5 minutes before the next call: 96 cold starts and
/// 95 x 600 = 57,000 idle seconds (the last instance is counted up to the trace's end).
/// fixed:20m keeps it: 1 cold start. Hybrid learns the 15-minute idle time after
/// HYBRID_MIN_SAMPLES = 10 cold idle times and pre-warms from then on: 1 + 10 = 11 cold starts,
/// with less idle time than fixed:10m.
#[test]
fn hybrid_keep_alive_wins_where_its_win_is_computable() {
    let dir = tmpdir("hybrid");
    let mut rows = vec!["app,func,end_timestamp,duration".to_string()];
    rows.extend((0..96).map(|k| format!("a,f,{},1", 900 * k + 1)));
    let f = write(&dir, "periodic.txt", &(rows.join("\n") + "\n"));
    let o = sfsim(&[
        "replay",
        "--azure-2021",
        &f,
        "--policy",
        "fixed:10m",
        "--policy",
        "hybrid",
        "--policy",
        "fixed:20m",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let p = v["policies"].as_array().expect("policies");
    let cold = |i: usize| p[i]["cold_starts"].as_u64().expect("cold starts");
    let idle = |i: usize| p[i]["idle_instance_s"].as_f64().expect("idle");
    assert_eq!((cold(0), cold(1), cold(2)), (96, 11, 1), "{}", stdout(&o));
    assert!((idle(0) - 57_000.0).abs() < 1e-6, "fixed:10m idles 600 s after each of 95 calls: {}", idle(0));
    assert!(idle(1) < idle(0) && idle(1) < idle(2), "hybrid idles less: {} vs {} and {}", idle(1), idle(0), idle(2));
}

/// The bill of one execution, computed by hand from the published prices (models/*.toml), per
/// deployment: a single step of 1.2345 CPU-seconds using 300 MB.
/// * aws-lambda at 1,769 MB (one vCPU): runs 1.2345 s, billed 1.3 s (100 ms rounding, the
///   study's era) x 1,769/1,024 GB = 2.24580078125 GB-s x $0.0000166667, plus $0.0000002.
/// * az-func: runs 1.2345 s on one vCPU, billed 1.235 s (1 ms) x 384 MB (300 MB rounded up to
///   128 MB steps) = 0.375 GB -> 0.463125 GB-s x $0.000016, plus $0.0000002 per execution.
/// * aws-step (its Lambda at the default 1,536 MB: 1,536/1,769 of a vCPU): runs
///   1.2345 x 1,769/1,536 = 1.42176... s, billed 1.5 s x 1.5 GB = 2.25 GB-s x $0.0000166667,
///   one request, and one state transition at $0.000025.
#[test]
fn one_execution_is_billed_as_computed_by_hand() {
    let dir = tmpdir("bill");
    let f = write(
        &dir,
        "bill.toml",
        "[scenario]\nname = \"bill\"\ndeployments = [\"aws-lambda\", \"az-func\", \"aws-step\"]\niterations = 1\n\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\n[deployment.aws-lambda]\nmemory_mb = 1769\n\n[workflow]\nflow = [{ step = \"a\" }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 1.2345 }\nmemory_mb = 300\n",
    );
    // Computed by hand: Azure's CPU-time spread between invocations off, Lambda's cores at the
    // reference core's speed (the rating of Lambda's 2020 cores is tests/cpu_classes.rs's).
    let o = sfsim(&[
        "run",
        &f,
        "--format",
        "json",
        "-q",
        "--set",
        "models.az-func.function.cpu_noise_sigma=0",
        "--set",
        "models.aws-lambda.function.cpu_speed=1",
        "--set",
        "models.aws-lambda.function.vector_speed=1",
        // The share as a steady rate, as the hand computation takes it (no CFS periods).
        "--set",
        "models.aws-lambda.function.cpu_period_ms=0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-30);
    // (deployment, executed s, billed s, GB-s, compute $, requests $, transitions $)
    let lambda_gb_s = 1.3 * 1769.0 / 1024.0;
    let step_exec = 1.2345 * 1769.0 / 1536.0;
    let expected = [
        ("aws-lambda", 1.2345, 1.3, lambda_gb_s, lambda_gb_s * 0.0000166667, 0.0000002, 0.0_f64),
        ("az-func", 1.2345, 1.235, 1.235 * 0.375, 1.235 * 0.375 * 0.000016, 0.0000002, 0.0),
        ("aws-step", step_exec, 1.5, 2.25, 2.25 * 0.0000166667, 0.0000002, 0.000025),
    ];
    for (d, exec, billed, gb_s, compute, requests, transitions) in expected {
        let r = v["results"].as_array().expect("results").iter().find(|r| r["deployment"] == d).expect("deployment");
        let got = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{d}: {k}"));
        let cost = |k: &str| r["cost_usd"][k].as_f64().unwrap_or_else(|| panic!("{d}: cost_usd.{k}"));
        // The clock counts whole nanoseconds.
        assert!((got("executed_s") - exec).abs() <= 1e-9, "{d}: executed {} s, by hand {exec}", got("executed_s"));
        assert!(close(got("billed_s"), billed), "{d}: billed {} s, by hand {billed}", got("billed_s"));
        assert!(close(got("gb_s"), gb_s), "{d}: {} GB-s, by hand {gb_s}", got("gb_s"));
        assert!(close(cost("compute"), compute), "{d}: compute ${}, by hand {compute}", cost("compute"));
        assert!(close(cost("requests"), requests), "{d}: requests ${}", cost("requests"));
        assert!(close(cost("transitions").max(1e-300), transitions.max(1e-300)), "{d}: transitions ${}", cost("transitions"));
        assert!(close(cost("total"), compute + requests + transitions), "{d}: total ${}", cost("total"));
    }
}

/// The bill of one execution on the three stateful Azure deployments, computed by hand from
/// the models (latency spreads set to 0 in the scenario, so every duration is a sum of medians).
/// Two steps: a (1.2345 CPU-s, 300 MB) then b (0.4321 CPU-s, 200 MB), 1 KB payloads. Azure bills
/// each invocation max(100 ms, duration rounded up to 1 ms) x its observed memory (the Python
/// worker's 64 MB plus the phase's) rounded up to 128 MB, at $0.000016 per GB-s, plus $0.2 per
/// million executions; transactions at $0.00036 per 10,000.
/// * az-queue: a 1.235 s x 384 MB + b 0.433 s x 384 MB = 0.6255 GB-s; 2 executions; one queue
///   hop = put + GetMessages + delete = 3 transactions.
/// * az-dorch: the HTTP starter (10 ms CPU + 20 ms Instances write: billed 100 ms x 256 MB,
///   64 + 96 MB); episode 1 on the new host (the fitted first-dispatch warm-up + 15 ms History
///   read + 1 KB handed to the worker at the worker's JSON rate r + 50 ms + 20 ms checkpoint,
///   billed to the ms x 256 MB); activity a (1.235 s x 384 MB); episode 2 (15 ms read + 2 KB of
///   history rows at 60 MiB/s + 4 events x 2 ms + 3 KB x r + 50 ms + 20 ms, billed
///   100 ms); activity b (0.433 s x 384 MB); episode 3 (15 ms + 4 KB at 60 MiB/s + 8 events x
///   2 ms + 5 KB x r + 70 ms, billed to the ms, at least 100 ms): about 0.98 GB-s, 6 executions.
///   Transactions: 1 Instances write; per episode a History read and a 2-batch checkpoint (9);
///   five messages (start, two activities, two results) x (put + GetMessages + delete) = 15.
/// * az-dent: as az-dorch, but each step runs in an entity batch: its state read (15 ms) and save
///   (20 ms), the worker's deserialization of its 1 KB state and serialization back (r
///   each) at the step's memory and the operation's dispatch (`entities.operation_cpu_s`) at the entity's (96 MB) around the
///   step (a about 1.28 s, b about 0.478 s, each billed to the ms). The host's meter buckets
///   each instant (`billing.meter_instant_buckets`): 384 MB for the step's phases, 256 MB for the
///   dispatch; the 1 ms rounding bills the average bucket. 4 more table transactions.
#[test]
fn one_execution_on_the_stateful_azure_deployments_is_billed_as_computed_by_hand() {
    let dir = tmpdir("bill-stateful");
    let f = write(
        &dir,
        "bill.toml",
        "[scenario]\nname = \"bill\"\ndeployments = [\"az-queue\", \"az-dorch\", \"az-dent\"]\niterations = 1\n\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\n[models.az-storage]\nqueue.latency_sigma = 0\ntable.latency_sigma = 0\n[models.az-func]\nstorage.latency_sigma = 0\ncold_start.runtime_sigma = 0\nfunction.cpu_noise_sigma = 0\n\n[workflow]\ninput_kb = 1\noutput_kb = 1\nflow = [{ step = \"a\" }, { step = \"b\" }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 1.2345 }\nmemory_mb = 300\ninput_kb = 1\noutput_kb = 1\n\n[workflow.steps.b]\ncpu_s = { dist = \"fixed\", value_s = 0.4321 }\nmemory_mb = 200\ninput_kb = 1\noutput_kb = 1\n",
    );
    let lines = dir.join("executions.jsonl");
    let o = sfsim(&["run", &f, "-q", "--executions", &lines.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&lines).expect("executions");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
    let gb = |s: f64, mb: f64| s * mb / 1024.0;
    let queue_gb_s = gb(1.235, 384.0) + gb(0.433, 384.0);
    // The worker's per-KB JSON rate is fitted (models/az-durable.toml [replay]); the episodes'
    // billed milliseconds follow it.
    let models = std::fs::read_to_string("models/az-durable.toml").expect("model");
    let param = |table: &str, key: &str| -> f64 {
        let prefix = format!("{key} = {{ value = ");
        models
            .lines()
            .skip_while(|l| *l != format!("[{table}]"))
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{table}.{key}"))
    };
    let rate = param("replay", "per_history_kb_cpu_s");
    // The entity operation's dispatch (fitted, [entities]).
    let op = param("entities", "operation_cpu_s");
    let billed = |s: f64| f64::max(0.1, (s * 1000.0 - 1e-9).ceil() / 1000.0);
    let first_dispatch = param("replay", "first_dispatch_cpu_s");
    // The episode's own CPU and the replay's per event (fitted, [replay]).
    let (episode, per_event) = (param("replay", "episode_cpu_s"), param("replay", "per_history_event_cpu_s"));
    let ep1 = billed(first_dispatch + 0.015 + rate + episode + 0.02);
    let ep2 = billed(0.015 + 2.0 / 1024.0 / 60.0 + 4.0 * per_event + 3.0 * rate + episode + 0.02);
    let ep3 = billed(0.015 + 4.0 / 1024.0 / 60.0 + 8.0 * per_event + 5.0 * rate + episode + 0.02);
    let episodes = gb(0.1, 256.0) + gb(ep1, 256.0) + gb(ep2, 256.0) + gb(ep3, 256.0);
    let dorch_gb_s = episodes + gb(1.235, 384.0) + gb(0.433, 384.0);
    // Each batch: its duration at 384 MB but the dispatch at 256 MB, averaged over the
    // duration and billed over the duration rounded up to 1 ms.
    let batch = |step_s: f64| {
        let dur = 0.015 + 2.0 * rate + op + step_s + 0.020;
        gb(billed(dur), ((dur - op) * 384.0 + op * 256.0) / dur)
    };
    let dent_gb_s = episodes + batch(1.2345) + batch(0.4321);
    let tx = 0.000036 / 1000.0;
    // (deployment, GB-s, executions billed, transactions)
    for (d, gb_s, executions, transactions) in
        [("az-queue", queue_gb_s, 2.0, 3.0), ("az-dorch", dorch_gb_s, 6.0, 25.0), ("az-dent", dent_gb_s, 6.0, 29.0)]
    {
        let line = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")).find(|v| v["deployment"] == d);
        let v = line.unwrap_or_else(|| panic!("{d}: no line"));
        assert_eq!(v["outcome"], "completed", "{d}");
        let got = v["gb_s"].as_f64().expect("gb_s");
        assert!(close(got, gb_s), "{d}: {got} GB-s, by hand {gb_s}");
        let bill = gb_s * 0.000016 + executions * 0.0000002 + transactions * tx;
        let cost = v["cost_usd"].as_f64().expect("cost");
        assert!(close(cost, bill), "{d}: ${cost}, by hand ${bill}");
    }
}

/// A cyclic ASL machine (A -> B -> A, or a loop of Pass states) is refused for the derived
/// flow with the loop named, instead of aws-lambda and az-dorch silently running it once.
#[test]
fn asl_loops_are_named_not_run_once() {
    let dir = tmpdir("asl-loop");
    let task = |n: &str, next: &str| {
        format!(
            "\"{n}\": {{\"Type\": \"Task\", \"Resource\": \"arn:aws:lambda:us-east-1:1:function:{}\", \"Next\": \"{next}\"}}",
            n.to_lowercase()
        )
    };
    write(&dir, "tasks.asl.json", &format!("{{\"StartAt\": \"A\", \"States\": {{{}, {}}}}}", task("A", "B"), task("B", "A")));
    write(
        &dir,
        "pass.asl.json",
        "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"Next\": \"Q\"}, \"Q\": {\"Type\": \"Pass\", \"Next\": \"P\"}}}",
    );
    for (asl, cycle) in [("tasks.asl.json", "A -> B -> A"), ("pass.asl.json", "P -> Q -> P")] {
        let text = format!(
            "[scenario]\nname = \"loop\"\ndeployments = [\"aws-step\", \"aws-lambda\", \"az-dorch\"]\niterations = 2\n\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\n[workflow]\n[workflow.asl]\nfile = \"{asl}\"\ntasks = {{ \"arn:aws:lambda:us-east-1:1:function:a\" = \"a\", \"arn:aws:lambda:us-east-1:1:function:b\" = \"b\" }}\n\n[workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 0.1 }}\nmemory_mb = 128\n\n[workflow.steps.b]\ncpu_s = {{ dist = \"fixed\", value_s = 0.1 }}\nmemory_mb = 128\n"
        );
        let f = write(&dir, &format!("{asl}.toml"), &text);
        let o = sfsim(&["run", &f, "-q"]);
        assert_eq!(o.status.code(), Some(3), "{asl}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(e.contains(":12:8") && e.contains("workflow.asl.file") && e.contains(cycle), "{asl}: {e}");
        assert!(!e.contains("at least one element"), "{e}");
    }
}
