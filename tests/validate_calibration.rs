//! `sfsim validate` checks a baseline or deviations file against the targets file that names it
//! (the SeBS-Flow baseline against the SeBS-Flow targets), not always against the study's.

use std::process::Command;

mod common;

#[test]
fn a_baseline_is_validated_against_the_targets_that_name_it() {
    let o = Command::new(env!("CARGO_BIN_EXE_sfsim"))
        .args(["validate", "calibration/sebs-flow-baseline.toml", "calibration/baseline.toml", "calibration/deviations.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("sebs-flow-baseline.toml (8 recorded targets)") && out.contains("baseline.toml (37 recorded targets)"), "{out}");
}

#[test]
fn fit_plans_are_validated_against_the_target_sets_beside_them() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sfsim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("runs")
    };
    // Every shipped plan: its parameters are fittable and its ids known (the SeBS-Flow plan names
    // ids of calibration/targets/sebs-flow-chain.toml, the Netherite plans of their own set).
    let plans: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/calibration"))
        .expect("calibration/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("fit") && n.ends_with(".toml"))
        .map(|n| format!("calibration/{n}"))
        .collect();
    assert!(plans.len() >= 6, "{plans:?}");
    let mut args = vec!["validate"];
    args.extend(plans.iter().map(String::as_str));
    let o = run(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("calibration/fit.toml (fit plan with 3 parameter(s), 0 group(s))"), "{out}");
    // A plan naming an unknown target is refused at its position (exit 3), with the nearest id
    // (no targets/ beside it: the study's built-in targets).
    let dir = common::TempDir::new("plan");
    let plan = dir.join("fit.toml");
    std::fs::write(
        &plan,
        "[[parameter]]\nmodel = \"az-durable.toml\"\nkey = \"entities.operation_cpu_s\"\nlow = 0.01\nhigh = 1.0\ntargets = [\"ml-train-large-durable-exec-above-stateles\"]\n",
    )
    .expect("plan");
    let o = run(&["validate", &plan.to_string_lossy()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("fit.toml:6:") && err.contains("did you mean `ml-train-large-durable-exec-above-stateless`"), "{err}");
}
