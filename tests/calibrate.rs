//! `sfsim calibrate` across target sets and its cross-validation, through the real binary.

use std::path::PathBuf;
use std::process::Output;

use crate::common;
use common::sfsim;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("calibrate-{name}"))
}

/// Two synthetic targets on the SeBS-Flow chain, measured in different experiments, that pull
/// one parameter (Step Functions' per-KB result cost) in opposite directions: the 64 KB gap
/// wants it low, the 256 KB gap wants it high.
fn synthetic_targets(dir: &std::path::Path) -> PathBuf {
    let experiments = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/experiments.toml");
    let text = format!(
        r#"experiments = "{}"
[[target]]
id = "low-one"
source = "synthetic"
experiment = "sebs-chain-64kb"
kind = "range"
metric = "chain_gap_p50_s"
deployment = "aws-step"
low = 0.12
high = 0.16

[[target]]
id = "high-one"
source = "synthetic"
experiment = "sebs-chain-256kb"
kind = "range"
metric = "chain_gap_p50_s"
deployment = "aws-step"
low = 0.7
high = 0.8
"#,
        experiments.display().to_string().replace('\\', "/")
    );
    let p = dir.join("targets.toml");
    std::fs::write(&p, text).expect("write targets");
    p
}

const ONE_PARAMETER: &str = r#"[[parameter]]
model = "aws-step.toml"
key = "tasks.result_s_per_kb"
low = 0.0
high = 0.004
targets = ["low-one", "high-one"]
"#;

/// `sfsim calibrate --cross-validate` on the synthetic set with a short search, plus `extra`.
fn cv_run(targets: &std::path::Path, plan: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let (t, p) = (targets.to_string_lossy(), plan.to_string_lossy());
    let mut args =
        vec!["calibrate", "--targets", &t, "--plan", &p, "--cross-validate", "--iterations", "90", "--passes", "1", "--steps", "8", "-q"];
    args.extend(extra);
    sfsim(&args)
}

fn cv_json(targets: &std::path::Path, plan: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let o = cv_run(targets, plan, &args);
    assert_eq!(o.status.code(), Some(0), "a report exits 0 even when targets are missed: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

/// A temporary directory holding the synthetic targets and a plan of `plan_text`: (dir,
/// targets, plan).
fn synthetic_setup(name: &str, plan_text: &str) -> (common::TempDir, PathBuf, PathBuf) {
    let dir = tmpdir(name);
    let targets = synthetic_targets(&dir);
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, plan_text).expect("write plan");
    (dir, targets, plan)
}

#[test]
fn leaving_a_target_out_moves_the_fit_and_shows_in_its_distance() {
    let (_dir, targets, plan) = synthetic_setup("cv", ONE_PARAMETER);
    let j = cv_json(&targets, &plan, &[]);
    let full = j["full_fit"]["parameters"][0]["value"].as_f64().expect("full value");
    let folds = j["folds"].as_array().expect("folds");
    let names: Vec<&str> = folds.iter().map(|f| f["group"].as_str().expect("group")).collect();
    assert_eq!(names, ["sebs-chain-64kb", "sebs-chain-256kb"], "one group per experiment, in file order");
    let value = |g: usize| folds[g]["parameters"][0]["value"].as_f64().expect("fold value");
    // Without the 256 KB target only the 64 KB one pulls: the per-KB cost falls well below the
    // compromise; without the 64 KB one it rises.
    assert!(value(1) < 0.5 * full, "leaving high-one out lowers the fit: {} vs {full}", value(1));
    assert!(value(0) > full, "leaving low-one out raises the fit: {} vs {full}", value(0));
    let left = &folds[1]["left_out"][0];
    assert_eq!(left["id"], "high-one");
    let (d_full, d_held) =
        (left["full_fit"]["band_distance"].as_f64().expect("full distance"), left["held_out"]["band_distance"].as_f64().expect("distance"));
    assert!(d_held > d_full + 0.2, "the held-out fit misses high-one by much more: {d_held} vs {d_full}");
    let v = left["held_out"]["values"]["value"].as_f64().expect("held-out value");
    assert!((d_held - (0.7 - v) / 0.7).abs() < 1e-9, "relative distance below the low edge: {d_held} for {v}");
    // The table says the same, with the search used.
    let o = cv_run(&targets, &plan, &[]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("from the centres of the ranges") && table.contains("90 executions per configuration"), "{table}");
    assert!(table.contains("left-out targets") && table.contains("high-one"), "{table}");
}

/// `--starts N`: each fit searches from N points and keeps the best, so it is never worse than
/// the one search from the centres (which is the first of them), and the report says so.
#[test]
fn more_starts_search_more_and_never_fit_worse() {
    let (_dir, targets, plan) = synthetic_setup("cv-starts", ONE_PARAMETER);
    let (one, three) = (cv_json(&targets, &plan, &[]), cv_json(&targets, &plan, &["--starts", "3"]));
    let objective = |j: &serde_json::Value| j["full_fit"]["objective"]["after"].as_f64().expect("objective");
    let evaluations = |j: &serde_json::Value| j["full_fit"]["evaluations"].as_u64().expect("evaluations");
    assert!(objective(&three) <= objective(&one) + 1e-12, "{} vs {}", objective(&three), objective(&one));
    assert!(evaluations(&three) > 2 * evaluations(&one), "{} vs {}", evaluations(&three), evaluations(&one));
    assert!(three["search"].as_str().expect("search").contains("from 3 starting points each"), "{}", three["search"]);
    assert!(!one["search"].as_str().expect("search").contains("starting points"), "{}", one["search"]);
}

#[test]
fn a_declared_group_is_left_out_whole() {
    let (_dir, targets, plan) =
        synthetic_setup("groups", &format!("{ONE_PARAMETER}\n[[group]]\nname = \"both\"\ntargets = [\"low-one\", \"high-one\"]\n"));
    let j = cv_json(&targets, &plan, &[]);
    let folds = j["folds"].as_array().expect("folds");
    assert_eq!(folds.len(), 1, "{j}");
    assert_eq!(folds[0]["group"], "both");
    assert_eq!(folds[0]["left_out"].as_array().map(Vec::len), Some(2));
    // Nothing left to fit: the refit stays where every fit starts, the centre of the range.
    assert_eq!(folds[0]["parameters"][0]["value"].as_f64(), Some(0.002));
}

#[test]
fn unknown_target_ids_are_rejected_at_their_position_across_sets() {
    let dir = tmpdir("unknown");
    let plan = dir.join("plan.toml");
    let bad = "[[parameter]]\nmodel = \"aws-step.toml\"\nkey = \"tasks.request_s_per_kb\"\nlow = 0.0\nhigh = 0.002\n\
               targets = [\"ml-coldstart-azqueue\", \"sebs-chain-step-64k\"]\n";
    std::fs::write(&plan, bad).expect("write");
    let p = plan.to_string_lossy().into_owned();
    let both = ["--targets", "calibration/targets/paper.toml", "--targets", "calibration/targets/sebs-flow-chain.toml"];
    let mut args = vec!["calibrate", "--plan", p.as_str(), "-q"];
    args.extend_from_slice(&both);
    let o = sfsim(&args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(&format!("{p}:6:36")), "file:line:col of the second id: {e}");
    assert!(e.contains("did you mean `sebs-chain-step-64kb`"), "{e}");
    // Ids of both sets are known together; a SeBS id is unknown when only the study is loaded.
    std::fs::write(&plan, bad.replace("64k\"", "64kb\"")).expect("write");
    let o = sfsim(&["calibrate", "--plan", p.as_str(), "-q", "--passes", "1", "--steps", "1", "--iterations", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown target `sebs-chain-step-64kb`"), "{}", stderr(&o));
    // A group naming an unknown target, at its position.
    std::fs::write(&plan, format!("{}\n[[group]]\nname = \"g\"\ntargets = [\"sebs-chain-step-32\"]\n", bad.replace("64k\"", "64kb\"")))
        .expect("write");
    let o = sfsim(&args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{p}:10:")) && stderr(&o).contains("did you mean `sebs-chain-step-32b`"), "{}", stderr(&o));
}

#[test]
fn the_sebs_plan_loads_beside_the_study_plan() {
    // Both plans, both sets: one fit (a single cheap step, to check that everything loads and
    // the targets of both sets are reported).
    let o = sfsim(&[
        "calibrate",
        "--targets",
        "calibration/targets/paper.toml",
        "--targets",
        "calibration/targets/sebs-flow-chain.toml",
        "--plan",
        "calibration/fit.toml",
        "--plan",
        "calibration/fit-sebs.toml",
        "--passes",
        "1",
        "--steps",
        "1",
        "--iterations",
        "30",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let ids: Vec<&str> = j["fit"]["targets"].as_array().expect("targets").iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&"ml-coldstart-azqueue") && ids.contains(&"sebs-chain-durable-256kb"), "{ids:?}");
    assert_eq!(j["fit"]["parameters"].as_array().map(Vec::len), Some(6));
    // The same parameter in two plans is refused.
    let o = sfsim(&[
        "calibrate",
        "--targets",
        "calibration/targets/sebs-flow-chain.toml",
        "--plan",
        "calibration/fit-sebs.toml",
        "--plan",
        "calibration/fit-sebs.toml",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is in two plans"), "{}", stderr(&o));
}

/// `--seeds N`: the objective is the mean over the seeds `reproduce --seeds N` runs, so what the
/// fit writes holds on each of them. The study's Az-Dent-above-Az-Dorch order is fitted from
/// the entity operation's assumed 10 ms (met on 1 or 2 seeds of 10 there) over 10 seeds, and
/// `reproduce --seeds 10` with the written models meets it on all 10.
#[test]
fn a_fit_over_ten_seeds_holds_on_each_of_them() {
    let dir = tmpdir("seeds");
    let models = dir.join("models");
    std::fs::create_dir_all(models.join("profiles")).expect("models dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["models", "models/profiles"] {
        for e in std::fs::read_dir(root.join(sub)).expect("models").flatten() {
            if e.path().extension().is_some_and(|x| x == "toml") {
                let to = models.join(e.path().strip_prefix(root.join("models")).expect("inside"));
                let mut text = std::fs::read_to_string(e.path()).expect("read");
                if to.ends_with("az-durable.toml") {
                    let start = text.find("operation_cpu_s = { value = ").expect("key");
                    let end = start + text[start..].find(',').expect("value");
                    text.replace_range(start..end, "operation_cpu_s = { value = 0.01");
                }
                std::fs::write(to, text).expect("write");
            }
        }
    }
    let plan = dir.join("plan.toml");
    let id = "ml-train-large-durable-exec-above-stateless";
    std::fs::write(
        &plan,
        format!(
            "[[parameter]]\nmodel = \"az-durable.toml\"\nkey = \"entities.operation_cpu_s\"\nlow = 0.01\nhigh = 1.0\ntargets = [\"{id}\"]\n"
        ),
    )
    .expect("plan");
    let m = models.to_string_lossy().into_owned();
    let seeds_met = || {
        let o = sfsim(&[
            "reproduce",
            "--models",
            &m,
            "--only",
            id,
            "--seeds",
            "10",
            "--format",
            "json",
            "-q",
            "--out",
            &dir.join("out").to_string_lossy(),
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        v["sets"][0]["targets"][0]["seeds_met"].as_u64().expect("seeds_met")
    };
    let before = seeds_met();
    assert!(before < 10, "the assumed 10 ms already meets it on every seed ({before})");
    let o = sfsim(&["calibrate", "--plan", &plan.to_string_lossy(), "--seeds", "10", "--passes", "1", "--steps", "6", "--write", &m, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(models.join("az-durable.toml")).expect("written");
    assert!(written.contains("(sfsim calibrate --seeds 10); assumed before:"), "the source says how it was fitted");
    assert_eq!(seeds_met(), 10, "met on {before} of 10 seeds before the fit");
}
