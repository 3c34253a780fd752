//! `sfsim validate` checks a baseline or deviations file against the targets file that names it
//! (the SeBS-Flow baseline against the SeBS-Flow targets), not always against the study's.

use std::process::Command;

use crate::common;

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

/// Issue #10: every remaining deviation of the study is shown, by a test that sweeps the
/// parameters involved, to conflict with another target. The deviations file names those targets
/// (`conflicts_with`) and tests (`shown_by`); this holds the names to the code: each test exists
/// as a `#[test]` function whose body names the deviation, and together they name every target
/// it is said to conflict with.
#[test]
fn every_study_deviation_names_the_tests_that_show_its_conflict() {
    use sfsim_calibration::{PAPER_DEVIATIONS, PAPER_TARGETS, load_deviations, load_targets};
    use sfsim_workflow::SourceFile;
    let targets = load_targets(&SourceFile::from_text("paper.toml", PAPER_TARGETS)).expect("targets");
    let deviations = load_deviations(&SourceFile::from_text("deviations.toml", PAPER_DEVIATIONS), &targets).expect("deviations");
    assert!(!deviations.is_empty());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut checked, mut seed_dependent) = (0, 0);
    for t in &targets {
        if deviations.get(&t.id).is_none() {
            continue;
        }
        // A target met on some seeds and not others has no conflict to show.
        if deviations.is_seed_dependent(&t.id) {
            seed_dependent += 1;
            continue;
        }
        let c = deviations.conflict(&t.id).unwrap_or_else(|| panic!("{}: no conflicts_with / shown_by", t.id));
        assert!(!c.conflicts_with.is_empty() && !c.shown_by.is_empty(), "{}: {c:?}", t.id);
        let mut named = String::new();
        for test in &c.shown_by {
            let (file, name) = test.split_once("::").expect("file::function");
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{}: {file}: {e}", t.id));
            let signature = format!("#[test]\nfn {name}()");
            let start = text.find(&signature).unwrap_or_else(|| panic!("{}: no #[test] fn {name}() in {file}", t.id));
            // The body: up to the next top-level item.
            let rest = &text[start + signature.len()..];
            let body = &rest[..rest.find("\n#[").or_else(|| rest.find("\nfn ")).unwrap_or(rest.len())];
            assert!(body.contains(&format!("\"{}\"", t.id)), "{test} does not name {}", t.id);
            named.push_str(body);
        }
        for other in &c.conflicts_with {
            assert!(named.contains(&format!("\"{other}\"")), "{}: no test of {:?} names {other}", t.id, c.shown_by);
        }
        checked += 1;
    }
    assert_eq!(checked + seed_dependent, deviations.len(), "every listed study deviation is checked");
    // What the conflicts allow at most (README, calibration/README.md "Status" quote it): 26 of
    // 37, as many as are met since session 16. Eleven must be given up: the five met in no swept
    // setting, one of each pair that remains, two of the GB-s triangle, and Table III or Fig. 12's
    // parity (until session 16 the parity blocked AWS-Step beating Azure as well, and the cover
    // gave it up for both; the CPU speeds by code class broke that conflict: tests/cpu_classes.rs).
    let bound = sfsim_calibration::conflict_bound(targets.len(), &deviations);
    assert_eq!((bound.max_met, bound.targets), (26, 37), "{bound:?}");
    assert!(bound.given_up.iter().any(|id| id == "video-azure-80-worker-latency"), "{bound:?}");
    assert!(!bound.given_up.iter().any(|id| id == "video-azfunc-eq-awslambda"), "{bound:?}");
}

/// A deviation naming an unknown target or something that is not a test is refused at its key.
#[test]
fn a_deviation_with_a_bad_conflict_or_test_is_refused() {
    use sfsim_calibration::{PAPER_TARGETS, load_deviations, load_targets};
    use sfsim_workflow::SourceFile;
    let targets = load_targets(&SourceFile::from_text("paper.toml", PAPER_TARGETS)).expect("targets");
    let load = |extra: &str| {
        let text = format!("[[deviation]]\nid = \"video-coldstart-aws\"\nreason = \"r\"\n{extra}\n");
        load_deviations(&SourceFile::from_text("d.toml", &text), &targets).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(load("conflicts_with = [\"video-awsstep-speedup\"]\nshown_by = [\"tests/x.rs::f\"]").is_ok());
    let e = load("conflicts_with = [\"video-awsstep-speedpu\"]").expect_err("unknown id");
    assert!(e.contains("d.toml:4") && e.contains("conflicts_with") && e.contains("video-awsstep-speedpu"), "{e}");
    assert!(e.contains("video-awsstep-speedup"), "the nearest id is suggested: {e}");
    let e = load("conflicts_with = [\"video-coldstart-aws\"]").expect_err("itself");
    assert!(e.contains("does not conflict with itself"), "{e}");
    let e = load("shown_by = [\"the ML sweep\"]").expect_err("not a test");
    assert!(e.contains("shown_by") && e.contains("file.rs::function_name"), "{e}");
    let e = load("met_in_no_setting = true").expect_err("unshown");
    assert!(e.contains("met_in_no_setting") && e.contains("shown_by"), "{e}");
}
