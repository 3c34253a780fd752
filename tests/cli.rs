//! CLI contract tests through the real binary: exit codes, output formats, determinism, and
//! every bad-input case of the foundation issue (never a panic, always file:line:col and key).

use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use common::sfsim;

fn sfsim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sfsim"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("cli-{name}"))
}

const GOOD: &str = r#"[scenario]
name = "bad-input-probe"
deployments = ["aws-lambda", "az-func"]
iterations = 5

[arrivals]
kind = "interval"
interval_s = 60

[workflow]
flow = [{ step = "a" }, { fan_out = "w" }]

[workflow.steps.a]
cpu_s = { dist = "lognormal", median_s = 1.0, sigma = 0.1 }
memory_mb = 128

[workflow.fan_out.w]
items = 4
split = true
body = [{ step = "a" }]
"#;

/// Runs `sfsim run` on a scenario text; returns the output.
fn run_text(name: &str, text: &str, extra: &[&str]) -> (Output, common::TempDir) {
    let dir = tmpdir(name);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).expect("write scenario");
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["run", p.as_str()];
    args.extend_from_slice(extra);
    (sfsim(&args), dir)
}

fn assert_input_error(name: &str, text: &str, line: usize, key: &str, words: &str) {
    let dir = tmpdir(name);
    let out_file = dir.join("result.json");
    let out_s = out_file.to_string_lossy().into_owned();
    let (o, _) = run_text(name, text, &["--format", "json", "--out", &out_s]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{name}: exit code 3 expected, stderr: {err}");
    assert!(!err.contains("panicked"), "{name}: panicked: {err}");
    assert!(err.contains(&format!("scenario.toml:{line}:")), "{name}: no line {line} in: {err}");
    assert!(err.contains(&format!("key `{key}`")), "{name}: no key {key} in: {err}");
    assert!(err.contains(words), "{name}: no `{words}` in: {err}");
    assert!(o.stdout.is_empty(), "{name}: nothing on stdout");
    assert!(!out_file.exists(), "{name}: no partial output file");
}

#[test]
fn malformed_toml_is_reported_at_its_line() {
    let bad = GOOD.replace("iterations = 5", "iterations = 5\nname2 = = 2");
    let (o, _) = run_text("malformed", &bad, &[]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("scenario.toml:5:"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn unknown_keys_wrong_types_and_bad_values_name_file_line_and_key() {
    assert_input_error(
        "unknown-key",
        &GOOD.replace("memory_mb = 128", "memory_mb = 128\nmemroy = 5"),
        16,
        "workflow.steps.a.memroy",
        "unknown field `memroy`",
    );
    assert_input_error(
        "wrong-type",
        &GOOD.replace("memory_mb = 128", "memory_mb = \"big\""),
        15,
        "workflow.steps.a.memory_mb",
        "invalid type",
    );
    assert_input_error(
        "negative",
        &GOOD.replace("median_s = 1.0", "median_s = -2.0"),
        14,
        "workflow.steps.a.cpu_s.median_s",
        "finite number in [0",
    );
    assert_input_error("nan", &GOOD.replace("sigma = 0.1", "sigma = nan"), 14, "workflow.steps.a.cpu_s.sigma", "finite");
    assert_input_error(
        "unknown-dist",
        &GOOD.replace("\"lognormal\"", "\"gamma\""),
        14,
        "workflow.steps.a.cpu_s.dist",
        "unknown variant `gamma`",
    );
    assert_input_error("empty-fan-out", &GOOD.replace("items = 4", "items = 0"), 18, "workflow.fan_out.w.items", "at least 1 item");
    assert_input_error(
        "unknown-deployment",
        &GOOD.replace("\"az-func\"]", "\"az-fucn\"]"),
        3,
        "scenario.deployments.1",
        "did you mean `az-func`",
    );
    assert_input_error(
        "unknown-step",
        &GOOD.replace("{ step = \"a\" }, { fan", "{ step = \"b\" }, { fan"),
        11,
        "workflow.flow.0.step",
        "unknown step `b`",
    );
    assert_input_error(
        "azure-memory",
        &GOOD.replace("[workflow]\n", "[deployment.az-func]\nmemory_mb = 2048\n\n[workflow]\n"),
        11,
        "deployment.az-func.memory_mb",
        "not configurable",
    );
}

#[test]
fn unreadable_file_is_an_input_error() {
    let o = sfsim(&["run", "no/such/scenario.toml"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("no/such/scenario.toml") && err.contains("cannot read file"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    assert_eq!(sfsim(&["run"]).status.code(), Some(2));
    assert_eq!(sfsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(sfsim(&["run", "scenarios/paper/video.toml", "--iterations", "0"]).status.code(), Some(2));
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--deployment", "aws-lamda"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `aws-lambda`"), "{}", stderr(&o));
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--set", "novalue"]);
    assert_eq!(o.status.code(), Some(2));
    let help = sfsim(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Exit codes:") && text.contains("3  invalid input file"), "{text}");
}

#[test]
fn json_output_has_the_documented_shape() {
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-large.toml",
        "--deployment",
        "aws-lambda",
        "--deployment",
        "az-func",
        "--format",
        "json",
        "--iterations",
        "20",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains('\u{1b}'), "no ANSI escapes when stderr is not a terminal");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["scenario"], "ml-training-large");
    assert_eq!(v["seed"], 1);
    assert!(v["sfsim_version"].is_string());
    let results = v["results"].as_array().expect("results array");
    assert_eq!(results.len(), 2);
    for r in results {
        for k in ["deployment", "iterations", "failed", "latency_s", "breakdown_s", "cold_starts", "gb_s", "cost_usd"] {
            assert!(!r[k].is_null(), "missing {k}");
        }
        for k in ["mean", "p50", "p95", "p99"] {
            assert!(r["latency_s"][k].as_f64().expect("number") > 0.0);
        }
        for k in ["compute", "requests", "transactions", "transitions", "storage", "total"] {
            assert!(r["cost_usd"][k].is_number(), "cost_usd.{k}");
        }
        let b = &r["breakdown_s"];
        let sum: f64 = ["cold_start", "queue", "execution", "transfer"].iter().map(|k| b[*k].as_f64().expect("number")).sum();
        let mean = r["latency_s"]["mean"].as_f64().expect("number");
        assert!((sum - mean).abs() < 1e-6 * mean, "breakdown {sum} vs mean {mean}");
        let c = &r["cost_usd"];
        let total: f64 = ["compute", "requests", "transactions", "transitions", "storage"].iter().map(|k| c[*k].as_f64().expect("n")).sum();
        assert!((total - c["total"].as_f64().expect("n")).abs() < 1e-15);
    }
    let csv = sfsim(&["run", "scenarios/paper/ml-training-large.toml", "--format", "csv", "--iterations", "5"]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert_eq!(text.lines().count(), 7, "a header and one row per deployment: {text}");
    assert!(text.starts_with("scenario,seed,deployment,"));
}

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() {
    let dir = tmpdir("determinism");
    let mut outputs = Vec::new();
    for (i, threads) in ["1", "2", "2"].iter().enumerate() {
        let trace = dir.join(format!("trace{i}.json"));
        let t = trace.to_string_lossy().into_owned();
        let o = sfsim_env(
            &[
                "run",
                "scenarios/paper/video.toml",
                "--format",
                "json",
                "--iterations",
                "30",
                "--replications",
                "4",
                "--seed",
                "42",
                "--trace",
                &t,
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        outputs.push((o.stdout, std::fs::read(&trace).expect("trace written")));
    }
    assert_eq!(outputs[0], outputs[1], "1 thread vs 2 threads");
    assert_eq!(outputs[1], outputs[2], "two runs with 2 threads");
    let other =
        sfsim(&["run", "scenarios/paper/video.toml", "--format", "json", "--iterations", "30", "--replications", "4", "--seed", "43"]);
    assert_ne!(outputs[0].0, other.stdout, "another seed gives other numbers");
}

#[test]
fn trace_parses_and_execution_slices_nest_per_track() {
    let dir = tmpdir("trace");
    let trace = dir.join("t.json");
    let t = trace.to_string_lossy().into_owned();
    let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--iterations", "12", "--trace", &t, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("trace is JSON");
    let events = v["traceEvents"].as_array().expect("events");
    let mut by_track: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64, String)>> = Default::default();
    let mut exec_slices = 0;
    for e in events {
        if e["ph"] == "X" {
            let key = (e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid"));
            let ts = e["ts"].as_f64().expect("ts");
            let dur = e["dur"].as_f64().expect("dur");
            assert!(dur >= 0.0);
            if e["cat"] == "execution" {
                exec_slices += 1;
            }
            by_track.entry(key).or_default().push((ts, ts + dur, e["cat"].as_str().expect("cat").to_string()));
        }
    }
    assert_eq!(exec_slices, 12 * 6, "one execution slice per execution (12 executions x 6 deployments)");
    assert_nested(by_track);
    // A Durable fan-out shows activities that hold a slot but wait for the host's Python thread.
    let o = sfsim(&["run", "scenarios/paper/video.toml", "-d", "az-dorch", "--iterations", "2", "--trace", &t, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("trace is JSON");
    let mut by_track: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64, String)>> = Default::default();
    let mut waits = 0;
    for e in v["traceEvents"].as_array().expect("events").iter().filter(|e| e["ph"] == "X") {
        let key = (e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid"));
        let (ts, dur) = (e["ts"].as_f64().expect("ts"), e["dur"].as_f64().expect("dur"));
        if e["cat"] == "thread wait" {
            waits += 1;
            assert!(e["name"].as_str().expect("name").contains("waits for the Python thread"));
        }
        by_track.entry(key).or_default().push((ts, ts + dur, e["cat"].as_str().expect("cat").to_string()));
    }
    assert!(waits > 0, "thread waits are on the timeline");
    assert_nested(by_track);
}

/// Slices on one track either nest or do not overlap.
fn assert_nested(by_track: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64, String)>>) {
    for (track, mut slices) in by_track {
        slices.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut stack: Vec<(f64, f64)> = Vec::new();
        for (s, e, cat) in slices {
            while stack.last().is_some_and(|top| top.1 <= s + 1e-6) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                assert!(e <= top.1 + 1e-3, "track {track:?}: {cat} slice [{s}, {e}] overlaps [{}, {}]", top.0, top.1);
            }
            stack.push((s, e));
        }
    }
}

#[test]
fn validate_and_list_work_on_the_built_in_files() {
    let mut args = vec!["validate".to_string()];
    for dir in ["scenarios/paper", "models"] {
        let mut files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .expect("dir")
            .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
            .filter(|p| p.ends_with(".toml"))
            .collect();
        files.sort();
        args.extend(files);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sfsim(&refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sfsim(&["list"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for d in ["aws-lambda", "aws-step", "az-func", "az-queue", "az-dorch", "az-dent", "scenarios/paper/video.toml"] {
        assert!(text.contains(d), "list misses {d}");
    }
    let dir = tmpdir("validate-bad");
    let bad = dir.join("bad-model.toml");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/aws-lambda.toml")).expect("model");
    std::fs::write(&bad, text.replace("idle_s = { value = 600,", "idle_s = { value = -600,")).expect("write");
    let o = sfsim(&["validate", &bad.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("key `keep_alive.idle_s.value`"), "{}", stderr(&o));
}

#[test]
fn validate_names_a_bad_deployment_flow_at_its_line_and_key() {
    let dir = tmpdir("validate-own-flow");
    let validate = |name: &str, table: &str| {
        let path = dir.join(name);
        std::fs::write(&path, GOOD.replace("[workflow]\n", &format!("{table}\n\n[workflow]\n"))).expect("write");
        let o = sfsim(&["validate", &path.to_string_lossy()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{name}: exit code 3 expected, stderr: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(o.stdout.is_empty(), "{name}: nothing valid: {}", String::from_utf8_lossy(&o.stdout));
        err
    };
    // az-dent's own program skips the fan-out: `a` runs once there, twice in [workflow] flow.
    let err = validate("skips.toml", "[deployment.az-dent]\nflow = [{ step = \"a\" }]");
    assert!(err.contains("skips.toml:11:8") && err.contains("key `deployment.az-dent.flow`"), "{err}");
    assert!(err.contains("step `a` runs 1 time(s) here and 2 time(s) in [workflow] flow"), "{err}");
    // An entity operation's step names a step that does not exist.
    let err = validate(
        "unknown-step.toml",
        "[deployment.az-dorch]\nflow = [{ call_entity = \"m\", op = \"fit\", step = \"b\" }, { fan_out = \"w\" }]\n\
         [workflow.state.m]\nsize_kb = 1",
    );
    assert!(err.contains("unknown-step.toml:11:49") && err.contains("key `deployment.az-dorch.flow.0.step`"), "{err}");
    assert!(err.contains("unknown step `b`"), "{err}");
    // A program of its own on a deployment that has no orchestrator, found when it is built.
    let err = validate("az-func.toml", "[deployment.az-func]\nflow = [{ step = \"a\" }, { fan_out = \"w\" }]");
    assert!(err.contains("az-func.toml:11:8") && err.contains("key `deployment.az-func.flow`"), "{err}");
    assert!(err.contains("flow applies to az-dorch and az-dent only"), "{err}");
}

#[test]
fn out_of_range_sizes_and_models_are_input_errors_not_crashes() {
    // Too many executions: a usage error on the flag, an input error in the file.
    assert_eq!(sfsim(&["run", "scenarios/paper/video.toml", "--iterations", "20000000"]).status.code(), Some(2));
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--set", "scenario.iterations=5000000000"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("scenario.iterations"), "{}", stderr(&o));
    // A fan-out too wide to expand.
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--set", "workflow.fan_out.workers.items=100000000"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // Arrivals beyond the time horizon.
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--set", "arrivals={kind=\"interval\",interval_s=1e300}", "--iterations", "3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--set", "arrivals={kind=\"interval\",interval_s=1e8}", "--iterations", "100"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("horizon"), "{}", stderr(&o));
    // A model whose host has no CPU.
    let dir = tmpdir("models-zero");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("models/aws-lambda.toml"), dir.join("aws-lambda.toml")).expect("copy");
    let az = std::fs::read_to_string(root.join("models/az-func.toml")).expect("model");
    std::fs::write(dir.join("az-func.toml"), az.replace("host_vcpus = { value = 1,", "host_vcpus = { value = 0,")).expect("write");
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--models", &dir.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("function.host_vcpus.value"), "{}", stderr(&o));
}

#[test]
fn a_failed_write_leaves_no_file_behind() {
    let dir = tmpdir("no-partial");
    let trace = dir.join("t.json");
    let o = sfsim(&[
        "run",
        "scenarios/paper/video.toml",
        "--iterations",
        "2",
        "--out",
        "/nonexistent-dir/x.json",
        "--trace",
        &trace.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!trace.exists(), "the trace must not be written when the output cannot be");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(leftovers.is_empty(), "no temporary files left: {leftovers:?}");
}

#[test]
fn an_unwritable_trace_writes_nothing() {
    // The timeline streams to fragments beside the trace's target: when they cannot be
    // written, the run fails with the trace's path and leaves no output behind.
    let dir = tmpdir("no-trace");
    let out = dir.join("x.json");
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-small.toml",
        "--iterations",
        "2",
        "--out",
        &out.to_string_lossy(),
        "--trace",
        "/nonexistent-dir/t.json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent-dir/"), "{}", stderr(&o));
    // Said once, with the path as typed, not once per fragment with their hidden names.
    assert!(stderr(&o).contains("cannot write /nonexistent-dir/t.json: directory /nonexistent-dir does not exist"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(".part-"), "{}", stderr(&o));
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(leftovers.is_empty(), "nothing written: {leftovers:?}");
}

#[test]
fn errors_in_set_values_point_at_the_override_not_a_wrong_line() {
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-large.toml",
        "--set",
        "scenario.replications=2",
        "--set",
        "workflow.steps.reduce.memory_mb=-1",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("--set workflow.steps.reduce.memory_mb=-1"), "{err}");
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-large.toml",
        "--set",
        "scenario.replications=2",
        "--set",
        "workflow.steps.reduce.cpu_s.sigma=-1",
    ]);
    let err = stderr(&o);
    assert!(err.contains("--set workflow.steps.reduce.cpu_s.sigma=-1"), "{err}");
}

#[test]
fn reproduce_writes_a_report_and_check_fails_on_changes_against_the_deviations() {
    let dir = tmpdir("reproduce");
    let out = dir.to_string_lossy().into_owned();
    let o = sfsim(&["reproduce", "--out", &out, "--iterations", "10", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    for id in ["ml-train-large-azqueue-vs-azfunc", "video-azure-80-worker-latency", "video-monthly-aws-transition-share"] {
        assert!(md.contains(id) && html.contains(id), "{id} in the report");
    }
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(table.lines().count(), 37 + 3, "a header, one line per target, a legend, the conflict bound");
    let last = table.lines().last().expect("bound");
    assert!(last.starts_with("Under the conflicts") && last.contains("at most 26 of 37 targets"), "{last}");
    assert!(md.contains("at most 26 of 37 targets can be met together"), "the bound in the report");
    assert!(md.contains("Met at no setting the tests sweep."), "a deviation met in no swept setting says so");
    let header = table.lines().next().expect("header");
    assert!(header.starts_with("result") && header.contains("drift") && header.contains("[study]"), "{header}");
    assert!(table.lines().nth(1).expect("row").contains("  [latency_mean("), "the study's band beside sfsim's value");
    // Figures: SVG files for the Markdown report, inlined in the self-contained HTML page.
    let svgs: Vec<_> = std::fs::read_dir(dir.join("figures")).expect("figures dir").filter_map(Result::ok).collect();
    assert!(svgs.len() >= 10, "{} figures", svgs.len());
    assert_eq!(html.matches("<svg").count(), svgs.len(), "every figure is inlined in the HTML");
    assert!(md.contains("](figures/"), "the Markdown report links its figures");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"), "the HTML page needs nothing from outside");
    // A target that passes today passes alone with --check; an unknown id is a usage error.
    let o = sfsim(&["reproduce", "--out", &out, "--only", "video-azfunc-eq-awslambda", "--check", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sfsim(&["reproduce", "--out", &out, "--only", "video-azfunc-eq-awslambada"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean"), "{}", stderr(&o));
    // The shipped reproduction passes --check: every target is met or a documented deviation,
    // and the report says why each unmet one is.
    let o = sfsim(&["reproduce", "--out", &out, "--check", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("## Targets not met, and why"), "the report lists the deviations");
    // Without the deviations list, every unmet target is a failure that --check names.
    let empty = dir.join("none.toml");
    std::fs::write(&empty, "# nothing known\n").expect("write");
    let o = sfsim(&["reproduce", "--out", &out, "--check", "-q", "--deviations", &empty.to_string_lossy()]);
    let failing = String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("FAIL")).count();
    assert!(failing > 0 && o.status.code() == Some(1), "{failing} failing, {:?}", o.status);
    assert!(stderr(&o).contains("(FAIL)"), "{}", stderr(&o));
    // Same seed, same bytes, whatever the thread count: the report and every figure.
    let (one, two) = (dir.join("t1"), dir.join("t2"));
    for (d, threads) in [(&one, "1"), (&two, "2")] {
        let o = sfsim_env(&["reproduce", "--out", &d.to_string_lossy(), "-q"], &[("RAYON_NUM_THREADS", threads)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(one.join("report.md")).expect("md"), std::fs::read(two.join("report.md")).expect("md"));
    assert_eq!(std::fs::read(one.join("report.html")).expect("html"), std::fs::read(two.join("report.html")).expect("html"));
    // --seeds: per target, in how many seeds it is met, on stdout and in the report.
    let o = sfsim(&["reproduce", "--out", &out, "--only", "video-azfunc-eq-awslambda", "--seeds", "3", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(" 3/3 "), "{}", String::from_utf8_lossy(&o.stdout));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("| met in seeds |") && md.contains("| 3/3 |"), "{md}");
    // A listed deviation that now passes makes --check fail too: the list must stay true.
    let stale = dir.join("stale.toml");
    std::fs::write(&stale, "[[deviation]]\nid = \"video-azfunc-eq-awslambda\"\nreason = \"listed while it passes\"\n").expect("write");
    let o = sfsim(&[
        "reproduce",
        "--out",
        &out,
        "--only",
        "video-azfunc-eq-awslambda",
        "--check",
        "-q",
        "--deviations",
        &stale.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("listed as deviation"), "{}", stderr(&o));
}

#[test]
fn calibrate_lowers_the_loss_refuses_documented_facts_and_writes_sourced_values() {
    let loss = |o: &Output| -> Vec<f64> {
        let text = String::from_utf8_lossy(&o.stdout);
        let line = text.lines().find(|l| l.starts_with("loss ")).expect("a loss line").to_string();
        line.split_whitespace().filter_map(|w| w.parse().ok()).collect()
    };
    // The shipped plan's values (models/) meet their targets: nothing left to lower.
    let o = sfsim(&["calibrate", "--iterations", "30", "--passes", "1", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(loss(&o)[..2], [0.0, 0.0], "{}", String::from_utf8_lossy(&o.stdout));
    // The exploratory plan starts outside its bands and the search lowers the loss.
    let costs = "calibration/fit-durable-costs.toml";
    let o = sfsim(&["calibrate", "--plan", costs, "--iterations", "5", "--passes", "1", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let l = loss(&o);
    assert!(l[1] < l[0], "the search lowers the loss: {l:?}");
    // A plan that tries to fit a documented platform fact is refused at its key.
    let dir = tmpdir("calibrate");
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, "[[parameter]]\nmodel = \"aws-lambda.toml\"\nkey = \"keep_alive.idle_s\"\nlow = 60\nhigh = 3600\ntargets = [\"ml-coldstart-awsstep\"]\n").expect("write");
    let o = sfsim(&["calibrate", "--plan", &plan.to_string_lossy(), "-q"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("documented platform fact"), "{}", stderr(&o));
    // --write rewrites the model files of a directory with the fitted value and its targets.
    let models = dir.join("models");
    std::fs::create_dir_all(&models).expect("dir");
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).expect("models") {
        let p = e.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, models.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    for _ in 0..2 {
        let o = sfsim(&["calibrate", "--plan", costs, "--iterations", "5", "--passes", "1", "-q", "--write", &models.to_string_lossy()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let durable = std::fs::read_to_string(models.join("az-durable.toml")).expect("model");
    assert!(durable.contains("fitted: ml-train-azdorch-vs-azfunc"), "{durable}");
    assert!(!durable.contains("assumed before: fitted"), "a second fit does not nest the first one's source: {durable}");
    let o = sfsim(&["validate", &models.join("az-durable.toml").to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "the rewritten model is valid: {}", stderr(&o));
}

/// `--write DIR` with a directory of model files only: the fitted profile parameter is read from
/// the built-in profile and written to DIR/profiles/, a folder made for it (it failed with "No
/// such file or directory"); the models then load from DIR with the fitted value.
#[test]
fn calibrate_write_makes_the_profiles_folder_of_a_models_directory() {
    let tmp = tmpdir("calibrate-profile");
    let models = tmp.join("models");
    std::fs::create_dir_all(&models).expect("dir");
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).expect("models") {
        let p = e.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, models.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    let dir = models.to_string_lossy().into_owned();
    let plan = "calibration/fit-queue-trigger.toml";
    let args =
        ["calibrate", "--plan", plan, "--iterations", "5", "--passes", "1", "--seeds", "2", "--over-seeds", "worst", "-q", "--write", &dir];
    let o = sfsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let profile = std::fs::read_to_string(models.join("profiles/iiswc21.toml")).expect("the profile is written under DIR/profiles");
    assert!(profile.contains("fitted: ml-train-large-azqueue-vs-azfunc"), "{profile}");
    // The source says how the value was fitted, the worst-seed objective included.
    assert!(profile.contains("(sfsim calibrate --seeds 2 --over-seeds worst)"), "{profile}");
    let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--iterations", "1", "-q", "--models", &dir]);
    assert_eq!(o.status.code(), Some(0), "the written models load: {}", stderr(&o));
}

/// Azure Blob's request prices come from the storage account's kind (models/az-storage.toml):
/// a price in az-func.toml's `[storage]` was accepted and ignored; it is refused at its key.
#[test]
fn a_blob_price_in_az_func_is_refused_at_its_key() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/az-func.toml")).expect("model");
    let at = "\nbandwidth_mb_per_s = ";
    let line = text[..text.find(at).expect("[storage] bandwidth")].lines().count() + 1;
    for key in ["price_usd_per_get", "price_usd_per_put"] {
        let edited = text.replacen(at, &format!("\n{key} = {{ value = 0.000001, source = \"a price\" }}{at}"), 1);
        let tmp = tmpdir("blob-price");
        let p = tmp.join(format!("{key}.toml"));
        std::fs::write(&p, edited).expect("write");
        let o = sfsim(&["validate", &p.to_string_lossy()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains(&format!("{}:{line}:", p.display()))
                && err.contains(&format!("key `storage.{key}`"))
                && err.contains("account.kind"),
            "{err}"
        );
    }
}

#[test]
fn sweeps_give_the_same_bytes_on_one_shard_or_seven_and_on_one_thread_or_two() {
    let dir = tmpdir("sweep");
    let sweep = "scenarios/sweeps/video-width.toml";
    let o = sfsim(&["sweep", sweep, "--count"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "42", "7 widths x 2 deployments x 3 replications");
    let full = dir.join("full.jsonl");
    let o = sfsim_env(&["sweep", sweep, "--out", &full.to_string_lossy(), "-q"], &[("RAYON_NUM_THREADS", "1")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let full_bytes = std::fs::read(&full).expect("sweep written");
    for n in [1u32, 3, 7] {
        let mut shards = Vec::new();
        for k in 0..n {
            let p = dir.join(format!("s{k}of{n}.jsonl"));
            let o = sfsim_env(
                &["sweep", sweep, "--shard", &format!("{k}/{n}"), "--out", &p.to_string_lossy(), "-q"],
                &[("RAYON_NUM_THREADS", "2")],
            );
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            shards.push(p.to_string_lossy().into_owned());
        }
        shards.reverse(); // order of arguments does not matter
        let mut args = vec!["merge".to_string()];
        args.extend(shards.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = sfsim(&refs);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(o.stdout, full_bytes, "merged {n} shards differ from the unsharded run");
    }
    // Missing, duplicate and mismatched shards are refused.
    let s = |k: u32, n: u32| dir.join(format!("s{k}of{n}.jsonl")).to_string_lossy().into_owned();
    let o = sfsim(&["merge", &s(0, 3), &s(1, 3)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("shard 2/3 is missing"), "{}", stderr(&o));
    let o = sfsim(&["merge", &s(0, 3), &s(1, 3), &s(1, 3), &s(2, 3)]);
    assert!(stderr(&o).contains("given twice"), "{}", stderr(&o));
    let o = sfsim(&["merge", &s(0, 3), &s(1, 7)]);
    assert_eq!(o.status.code(), Some(3));
    let other = dir.join("other.jsonl");
    let o = sfsim(&["sweep", sweep, "--shard", "1/3", "--out", &other.to_string_lossy(), "-q"]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&other).expect("shard").replacen("\"seed\":7", "\"seed\":8", 1);
    std::fs::write(&other, text).expect("write");
    let o = sfsim(&["merge", &s(0, 3), &other.to_string_lossy(), &s(2, 3)]);
    assert!(stderr(&o).contains("different sweeps"), "{}", stderr(&o));
    // Shards from the environment: Slurm arrays and Kubernetes indexed jobs.
    let o = sfsim_env(&["sweep", sweep, "--shard-from-env", "-q"], &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
    assert_eq!(o.stdout, std::fs::read(s(2, 3)).expect("shard"));
    let o = sfsim_env(&["sweep", sweep, "--shard-from-env", "-q"], &[("JOB_COMPLETION_INDEX", "0"), ("SFSIM_SHARD_COUNT", "7")]);
    assert_eq!(o.stdout, std::fs::read(s(0, 7)).expect("shard"));
    assert_eq!(sfsim(&["sweep", sweep, "--shard", "3/3"]).status.code(), Some(2));
    // A plot of the merged result is an SVG with one line per deployment.
    let svg = dir.join("width.svg");
    let o = sfsim(&[
        "plot",
        &full.to_string_lossy(),
        "--x",
        "workflow.fan_out.workers.items",
        "--y",
        "latency_s.mean",
        "--out",
        &svg.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).expect("svg");
    assert!(text.starts_with("<svg") && text.contains("aws-step") && text.contains("az-dorch"));
    let o = sfsim(&["plot", &full.to_string_lossy(), "--x", "workflow.fan_out.workers.items", "--y", "latency_s.nope"]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn cost_projects_a_month_and_rejects_bad_rates() {
    let o = sfsim(&["cost", "scenarios/paper/video.toml", "--rate", "1/h", "--period", "30d", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let bills = v["bills"].as_array().expect("bills");
    assert_eq!(bills.len(), 4);
    for b in bills {
        assert_eq!(b["executions"].as_f64(), Some(720.0), "a month at one per hour");
        let c = &b["cost_usd"];
        let sum: f64 = ["compute", "requests", "transactions", "transitions", "storage"].iter().map(|k| c[*k].as_f64().expect("n")).sum();
        assert!((sum - c["total"].as_f64().expect("n")).abs() < 1e-9);
    }
    let dorch = bills.iter().find(|b| b["deployment"] == "az-dorch").expect("az-dorch");
    assert!(dorch["idle_usd"].as_f64().expect("n") > 0.0, "Durable pays for idle polling");
    assert_eq!(sfsim(&["cost", "scenarios/paper/video.toml", "--rate", "10"]).status.code(), Some(2));
    assert_eq!(sfsim(&["cost", "scenarios/paper/video.toml", "--rate", "1/h", "--period", "30"]).status.code(), Some(2));
}

#[test]
fn replay_sizes_keep_alive_from_generated_azure_traces() {
    let dir = tmpdir("replay");
    let d = dir.to_string_lossy().into_owned();
    let o = sfsim(&["replay", "--generate-test-trace", &d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sfsim(&[
        "replay",
        "--azure-2019",
        &d,
        "--day",
        "1",
        "--policy",
        "fixed:0",
        "--policy",
        "fixed:10m",
        "--policy",
        "hybrid",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let text = v.to_string();
    assert!(text.contains("fixed") && text.contains("hybrid"), "{text}");
    // A bad cell is an input error naming its file and line; an unknown policy a usage error.
    let f = dir.join("invocations_per_function_md.anon.d01.csv");
    let csv = std::fs::read_to_string(&f).expect("trace");
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(",0", ",zz", 1);
    std::fs::write(&f, lines.join("\n") + "\n").expect("write");
    let o = sfsim(&["replay", "--azure-2019", &d, "--day", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("d01.csv:3"), "{}", stderr(&o));
    assert_eq!(sfsim(&["replay", "--azure-2019", &d, "--policy", "lru"]).status.code(), Some(2));
}

#[test]
fn generated_trace_size_follows_apps_and_functions() {
    // The README's 30-million-invocation day is `--apps 2600 --functions 4`; the invocation count
    // grows with the apps and functions asked for, and zero of either is a usage error.
    // Generates a trace with `args` and checks one row per function of `apps x functions`;
    // returns the invocation count the command reports.
    let count = |args: &[&str], apps: usize, functions: usize| -> u64 {
        let dir = tmpdir(&format!("gen-{apps}-{functions}"));
        let d = dir.to_string_lossy().into_owned();
        let mut a = vec!["replay", "--generate-test-trace", d.as_str()];
        a.extend_from_slice(args);
        let o = sfsim(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let csv = std::fs::read_to_string(dir.join("invocations_per_function_md.anon.d01.csv")).expect("trace");
        assert_eq!(csv.lines().count() - 1, apps * functions, "one row per function: {out}");
        let n = out.split('(').nth(1).and_then(|t| t.split(' ').next()).and_then(|t| t.parse().ok());
        n.unwrap_or_else(|| panic!("an invocation count in `{out}`"))
    };
    let small = count(&[], 20, 3);
    let large = count(&["--apps", "60", "--functions", "4"], 60, 4);
    assert!(large > 3 * small, "60 apps of 4 functions ({large}) against 20 of 3 ({small})");
    let tmp = tmpdir("gen-zero");
    let dir = tmp.to_string_lossy().into_owned();
    assert_eq!(sfsim(&["replay", "--generate-test-trace", &dir, "--apps", "0"]).status.code(), Some(2));
    assert_eq!(sfsim(&["replay", "--azure-2019", &dir, "--apps", "5"]).status.code(), Some(2));
}

/// Runs the binary with only the given scheduler variables (none inherited from a real job).
fn sfsim_sched(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sfsim"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SLURM_") || k == "JOB_COMPLETION_INDEX" || k == "SFSIM_SHARD_COUNT" {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

/// The variables Slurm 22.05 sets in task `id` of `sbatch --array=MIN-MAX:STEP` (recorded from a
/// real single-node cluster; see .ci/slurm-e2e.sh).
fn slurm_task(id: u64, count: u64, min: u64, max: u64, step: u64) -> Vec<(&'static str, String)> {
    vec![
        ("SLURM_ARRAY_JOB_ID", "1234".to_string()),
        ("SLURM_ARRAY_TASK_ID", id.to_string()),
        ("SLURM_ARRAY_TASK_COUNT", count.to_string()),
        ("SLURM_ARRAY_TASK_MIN", min.to_string()),
        ("SLURM_ARRAY_TASK_MAX", max.to_string()),
        ("SLURM_ARRAY_TASK_STEP", step.to_string()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

#[test]
fn shards_from_the_scheduler_survive_reruns_and_stepped_arrays_and_name_the_variables_on_error() {
    let dir = tmpdir("shard-env");
    let sweep = "scenarios/sweeps/video-width.toml";
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    for k in 0..7 {
        let o = sfsim_sched(&["sweep", sweep, "--shard", &format!("{k}/7"), "--out", &path(&format!("s{k}.jsonl")), "-q"], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let shard = |k: u32| std::fs::read(dir.join(format!("s{k}.jsonl"))).expect("shard");

    // Rerunning task 2 alone (`sbatch --array=2`) with --shards 7 runs shard 2/7, and merge
    // accepts it beside the other six.
    let rerun = path("rerun-2.jsonl");
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "--out", &rerun], &refs(&slurm_task(2, 1, 2, 2, 1)));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("shard 2/7") && stderr(&o).contains("SLURM_ARRAY_TASK_ID=2, --shards 7"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&rerun).expect("rerun written"), shard(2));
    let mut args = vec!["merge".to_string(), rerun.clone()];
    args.extend([0, 1, 3, 4, 5, 6].iter().map(|k| path(&format!("s{k}.jsonl"))));
    let o = sfsim_sched(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same rerun without --shards is refused (it would run the whole sweep as shard 0/1).
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "-q"], &refs(&slurm_task(2, 1, 2, 2, 1)));
    assert_eq!(o.status.code(), Some(2));
    for v in ["SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=1", "--shards N"] {
        assert!(stderr(&o).contains(v), "{v} missing from: {}", stderr(&o));
    }
    assert!(o.stdout.is_empty());
    assert_eq!(stderr(&o).lines().count(), 1, "one error line, no --help hint: {}", stderr(&o));

    // A stepped array (--array=0-12:2) without --shards: task 2k is shard k of 7.
    for (k, id) in [(0u32, 0u64), (4, 8), (6, 12)] {
        let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "-q"], &refs(&slurm_task(id, 7, 0, 12, 2)));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(o.stdout, shard(k), "task {id} of --array=0-12:2 is shard {k}/7");
    }
    // The same stepped array with --shards 7 is refused by every task, naming the variables.
    for id in [0u64, 8] {
        let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "-q"], &refs(&slurm_task(id, 7, 0, 12, 2)));
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        for v in [&format!("SLURM_ARRAY_TASK_ID={id}") as &str, "SLURM_ARRAY_TASK_MAX=12", "SLURM_ARRAY_TASK_STEP=2", "--array=0-6"] {
            assert!(e.contains(v), "{v} missing from: {e}");
        }
    }
    // A list (--array=1,3,10) is not a range: refused naming every variable read.
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "-q"], &refs(&slurm_task(3, 3, 1, 10, 1)));
    assert_eq!(o.status.code(), Some(2));
    for v in [
        "SLURM_ARRAY_TASK_ID=3",
        "SLURM_ARRAY_TASK_COUNT=3",
        "SLURM_ARRAY_TASK_MIN=1",
        "SLURM_ARRAY_TASK_MAX=10",
        "SLURM_ARRAY_TASK_STEP=1",
    ] {
        assert!(stderr(&o).contains(v), "{v} missing from: {}", stderr(&o));
    }
    // A bad value names its variable.
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "-q"], &[("SLURM_ARRAY_TASK_ID", "two")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SLURM_ARRAY_TASK_ID=`two`"), "{}", stderr(&o));
    // No array: the message says what was read.
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "-q"], &[("SLURM_JOB_ID", "99")]);
    assert_eq!(o.status.code(), Some(2));
    for v in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "SLURM_JOB_ID=99"] {
        assert!(stderr(&o).contains(v), "{v} missing from: {}", stderr(&o));
    }
    // --shards needs --shard-from-env.
    assert_eq!(sfsim_sched(&["sweep", sweep, "--shards", "7"], &[]).status.code(), Some(2));

    // A Kubernetes Indexed Job: the index with --shards (or SFSIM_SHARD_COUNT).
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "-q"], &[("JOB_COMPLETION_INDEX", "5")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, shard(5));
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "-q"], &[("JOB_COMPLETION_INDEX", "5")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("JOB_COMPLETION_INDEX=5") && stderr(&o).contains("SFSIM_SHARD_COUNT"), "{}", stderr(&o));
    let o = sfsim_sched(&["sweep", sweep, "--shard-from-env", "--shards", "7", "-q"], &[("JOB_COMPLETION_INDEX", "7")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("JOB_COMPLETION_INDEX=7"), "{}", stderr(&o));

    // Merge names every missing shard and how to rerun it.
    let o = sfsim_sched(&["merge", &path("s0.jsonl"), &path("s1.jsonl"), &path("s3.jsonl"), &path("s4.jsonl"), &path("s6.jsonl")], &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("shards 2/7, 5/7 are missing") && stderr(&o).contains("--shard 2/7"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_shard_that_cannot_write_its_output_prints_only_the_error() {
    let dir = tmpdir("shard-write");
    let out = dir.join("no-such-dir").join("shard-2.jsonl");
    let o = sfsim_sched(&["sweep", "scenarios/sweeps/video-width.toml", "--shard", "2/7", "--out", &out.to_string_lossy()], &[]);
    assert_eq!(o.status.code(), Some(1), "a write failure is a runtime failure");
    let e = stderr(&o);
    assert!(e.starts_with("error: cannot write") && e.contains("shard-2.jsonl"), "{e}");
    assert_eq!(e.lines().count(), 1, "only the error, no success line before it: {e}");
    assert!(!out.exists());
    // The same run with a writable path prints the success line, after writing.
    std::fs::create_dir_all(out.parent().expect("parent")).expect("dir");
    let o = sfsim_sched(&["sweep", "scenarios/sweeps/video-width.toml", "--shard", "2/7", "--out", &out.to_string_lossy()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 trials of shard 2/7 (42 in all)"), "{}", stderr(&o));
    assert!(out.exists());
}

/// A key a deployment does not take (`flow`, `backend`: Durable only) on a deployment the run
/// does not build is refused by `run`, `cost` and `sweep` as by `validate`: exit 3, the same
/// message at the same file:line:col and key (one check, `build_deployments`, shared by all).
#[test]
fn a_durable_only_key_on_another_deployment_is_refused_by_run_as_by_validate() {
    let dir = tmpdir("durable-only-key");
    let base = std::fs::read_to_string("scenarios/validation/hello-cities-5.toml").expect("scenario");
    assert!(base.contains("deployments = [\"az-dorch\"]"));
    for (key, value, col) in [
        ("backend", "\"netherite\"", 11),
        ("flow", "[{ step = \"c1\" }, { step = \"c2\" }, { step = \"c3\" }, { step = \"c4\" }, { step = \"c5\" }]", 8),
    ] {
        let text = format!("{base}\n[deployment.aws-step]\n{key} = {value}\n");
        let line = text.lines().count();
        let file = dir.join(format!("{key}.toml"));
        std::fs::write(&file, &text).expect("write");
        let f = file.to_string_lossy().into_owned();
        let at = format!("{f}:{line}:{col}: key `deployment.aws-step.{key}`: {key} applies to az-dorch and az-dent only");
        let first_error = |o: &Output| stderr(o).lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string();
        let v = sfsim(&["validate", &f]);
        assert_eq!(v.status.code(), Some(3), "{}", stderr(&v));
        assert!(first_error(&v).contains(&at), "validate: {}", stderr(&v));
        let sweep = dir.join(format!("{key}-sweep.toml"));
        std::fs::write(&sweep, format!("[sweep]\nname = \"s\"\nscenario = {:?}\niterations = 1\n", file.to_string_lossy())).expect("write");
        let runs: [Vec<&str>; 4] = [
            vec!["run", &f, "--iterations", "2", "-q"],
            vec!["run", &f, "-d", "az-dorch", "--iterations", "2", "-q", "--format", "json"],
            vec!["cost", &f, "--rate", "1/s", "--period", "1h"],
            vec!["sweep", sweep.to_str().expect("utf-8"), "-q"],
        ];
        for args in runs {
            let o = sfsim(&args);
            assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
            assert_eq!(first_error(&o), first_error(&v), "{args:?}: the same message as validate's");
            assert!(o.stdout.is_empty(), "{args:?}: no output");
        }
    }
    // Without the key the file runs (az-dorch only).
    let file = dir.join("ok.toml");
    std::fs::write(&file, std::fs::read_to_string("scenarios/validation/hello-cities-5.toml").expect("scenario")).expect("write");
    let o = sfsim(&["run", &file.to_string_lossy(), "--iterations", "2", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `--trace` covers every replication, as `--executions` does: each (deployment, replication)
/// is a process of its own (pid d x replications + r + 1, named `<deployment> replication r`),
/// with one execution slice per execution; one replication keeps the deployment's name.
#[test]
fn a_trace_covers_every_replication_each_its_own_process() {
    let dir = tmpdir("trace-replications");
    let trace = dir.join("t.json");
    let t = trace.to_string_lossy().into_owned();
    let args =
        ["run", "scenarios/paper/ml-training-small.toml", "-d", "aws-lambda", "-d", "az-dorch", "--iterations", "4", "--trace", &t, "-q"];
    let o = sfsim(&[&args[..], &["--replications", "3"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("trace is JSON");
    let events = v["traceEvents"].as_array().expect("events");
    let processes: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| (e["pid"].as_u64().expect("pid"), e["args"]["name"].as_str().expect("name").to_string()))
        .collect();
    let expected: Vec<(u64, String)> = ["aws-lambda", "az-dorch"]
        .iter()
        .enumerate()
        .flat_map(|(d, n)| (0..3).map(move |r| (d as u64 * 3 + r + 1, format!("{n} replication {r}"))))
        .collect();
    assert_eq!(processes, expected);
    let mut per_pid: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut by_track: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64, String)>> = Default::default();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let key = (e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid"));
        if e["cat"] == "execution" {
            *per_pid.entry(key.0).or_default() += 1;
        }
        let (ts, dur) = (e["ts"].as_f64().expect("ts"), e["dur"].as_f64().expect("dur"));
        by_track.entry(key).or_default().push((ts, ts + dur, e["cat"].as_str().expect("cat").to_string()));
    }
    assert_eq!(per_pid, (1..=6).map(|p| (p, 4)).collect(), "4 executions in each replication's process");
    assert_nested(by_track);
    // Replications differ (their own random streams): replication 1 is not a copy of 0.
    let slices = |pid: u64| -> Vec<String> {
        events.iter().filter(|e| e["pid"] == pid && e["ph"] == "X").map(|e| format!("{}{}", e["ts"], e["dur"])).collect()
    };
    assert_ne!(slices(1), slices(2));
    // One replication: one process per deployment, named after it.
    let o = sfsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("trace is JSON");
    let names: Vec<String> = v["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| format!("{} {}", e["pid"], e["args"]["name"].as_str().expect("name")))
        .collect();
    assert_eq!(names, ["1 aws-lambda", "2 az-dorch"]);
    // No fragment is left beside the trace.
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("t.json")]);
}

/// A deviations file with no deviation listed (only comments) is still a deviations file when
/// a targets file beside it names it: it was read as a scenario ("missing field `scenario`"),
/// which failed CI's validate step when the parallel set's last deviation was unlisted.
#[test]
fn an_empty_deviations_file_named_by_its_targets_file_validates() {
    let dir = tmpdir("empty-deviations");
    let targets = std::fs::read_to_string("calibration/targets/sebs-flow-parallel.toml").expect("targets");
    let targets = targets.replace("deviations = \"../sebs-flow-parallel-deviations.toml\"", "deviations = \"d.toml\"");
    assert!(targets.contains("deviations = \"d.toml\""));
    std::fs::write(dir.join("targets.toml"), targets).expect("write");
    let d = dir.join("d.toml");
    std::fs::write(&d, "# None today.\n").expect("write");
    let o = sfsim(&["validate", &d.to_string_lossy()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.contains("(0 known deviations)"), "{out}");
    // Not named by any targets file, the same text is an invalid file whose kind cannot be
    // told (it used to be checked as a scenario: "missing field `scenario`").
    let lone_dir = tmpdir("lone-file");
    let lone = lone_dir.join("d.toml");
    std::fs::write(&lone, "# None today.\n").expect("write");
    let o = sfsim(&["validate", &lone.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("d.toml") && err.contains("no key, so its kind cannot be told"), "{err}");
    assert!(!err.contains("missing field"), "{err}");
}

/// A target on a metric that the run has no samples of (the chain gap of a single function,
/// which has no hop between functions) shows `n/a` and fails; it used to show 0 and read as a
/// measured zero. A single function's code span is its function span.
#[test]
fn a_metric_without_samples_is_not_a_zero() {
    let dir = tmpdir("no-samples");
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/sebs2020-cpu-experiments.toml");
    let text = format!(
        "experiments = {experiments:?}\n\n[[target]]\nid = \"gap\"\nsource = \"test\"\nexperiment = \"sebs2020-bfs-2048\"\nkind = \"range\"\nmetric = \"chain_gap_p50_s\"\ndeployment = \"aws-lambda\"\nlow = 0.0\nhigh = 1.0\n\n[[target]]\nid = \"span\"\nsource = \"test\"\nexperiment = \"sebs2020-bfs-2048\"\nkind = \"range\"\nmetric = \"function_span_p50_s\"\ndeployment = \"aws-lambda\"\nlow = 0.059\nhigh = 0.061\n"
    );
    let targets = dir.join("t.toml");
    std::fs::write(&targets, text).unwrap();
    let out = dir.join("out");
    let o = sfsim(&["reproduce", "--targets", targets.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let table = String::from_utf8_lossy(&o.stdout);
    let row =
        |id: &str| table.lines().find(|l| l.split_whitespace().nth(1) == Some(id)).unwrap_or_else(|| panic!("{id} in {table}")).to_string();
    let gap = row("gap");
    assert!(gap.starts_with("FAIL") && gap.contains("n/a"), "{gap}");
    assert!(row("span").starts_with("pass"), "{}", row("span"));
}
