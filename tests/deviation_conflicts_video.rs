//! The video deviations shown to be conflicts (calibration/deviations.toml): each test sweeps
//! the detection work of scenarios/paper/video.toml (the assumption every per-worker figure
//! rests on) and shows that no amount meets the deviating target together with another target
//! of the study.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of scenarios/paper with the detector's total CPU time set to `detect_s`.
fn scenarios_with(tag: &str, detect_s: f64) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("sfsim-video-conflicts-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for entry in std::fs::read_dir(root.join("scenarios/paper")).expect("scenarios") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "toml") {
            let mut text = std::fs::read_to_string(&p).expect("scenario");
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            if name == "video.toml" {
                let detect = text.find("[workflow.steps.detect]").expect("detect step");
                let at = detect + text[detect..].find("median_s = ").expect("cpu_s") + "median_s = ".len();
                let end = at + text[at..].find(',').expect("value end");
                text.replace_range(at..end, &format!("{detect_s:.1}"));
            }
            std::fs::write(dir.join(&name), text).expect("write");
        }
    }
    dir
}

/// The built-in models with the study's reading of the Azure time limit (Table I: 30 minutes),
/// so that only Lambda's 15 minutes bound the single functions.
fn models_30_min() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("sfsim-video-conflicts-{}-models", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for entry in std::fs::read_dir(root.join("models")).expect("models") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "toml") {
            let mut text = std::fs::read_to_string(&p).expect("model");
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            if name == "az-func.toml" {
                let prefix = "timeout_s = { value = 600,";
                assert!(text.contains(prefix), "az-func timeout");
                text = text.replacen(prefix, "timeout_s = { value = 1800,", 1);
            }
            std::fs::write(dir.join(&name), text).expect("write");
        }
    }
    dir
}

/// Each target's (values by label, met).
fn targets(scenarios: &Path, models: Option<&Path>, ids: &[&str]) -> Vec<(std::collections::BTreeMap<String, f64>, bool)> {
    let mut args = vec!["reproduce".to_string(), "--format".into(), "json".into(), "-q".into()];
    args.extend(["--experiments".to_string(), scenarios.join("experiments.toml").to_string_lossy().into_owned()]);
    if let Some(m) = models {
        args.extend(["--models".to_string(), m.to_string_lossy().into_owned()]);
    }
    args.extend(["--out".to_string(), scenarios.join("report").to_string_lossy().into_owned()]);
    for id in ids {
        args.extend(["--only".to_string(), id.to_string()]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_sfsim")).args(&args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("runs");
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let all = v["sets"][0]["targets"].as_array().expect("targets");
    ids.iter()
        .map(|id| {
            let t = all.iter().find(|t| t["id"] == *id).expect("target");
            let values = match t["values"].as_object() {
                Some(m) => m.iter().filter_map(|(k, x)| Some((k.clone(), x.as_f64()?))).collect(),
                None => Default::default(),
            };
            (values, t["pass"].as_bool().unwrap_or(false))
        })
        .collect()
}

/// Fig. 14: about half of the workers wait 40 s, 5 % 270 s or more. The delay grows with how
/// long the hosts stay busy, so more detection work raises the median with the tail: every
/// amount that lifts the p95 towards the band puts the median above it.
#[test]
fn no_detection_work_meets_both_scheduling_delay_quantiles() {
    for detect_s in [200.0, 360.0, 600.0, 1000.0, 2000.0, 4000.0] {
        let dir = scenarios_with(&format!("delay{detect_s}"), detect_s);
        let t = targets(&dir, None, &["video-azure-scheduling-delay-p50", "video-azure-scheduling-delay-p95"]);
        assert!(!(t[0].1 && t[1].1), "detection {detect_s} CPU-s meets both: p50 {:?}, p95 {:?}", t[0].0, t[1].0);
        if t[1].1 || t[1].0.values().any(|&p95| p95 >= 150.0) {
            assert!(!t[0].1, "detection {detect_s} CPU-s: a p95 near the band with the median met: {:?} {:?}", t[0].0, t[1].0);
        }
    }
}

/// Table III (80 workers: p50 244 s, p95 476 s, p99 744 s) against Fig. 12 (Az-Func equals
/// AWS-Lambda): the single functions run the same detection, so Lambda's 15 minutes bound it
/// (Azure's limit read as the study's 30 minutes), and with that much work the 80 workers'
/// latencies stay far below Table III; more work than Lambda's limit allows fails AWS-Lambda.
#[test]
fn no_detection_work_meets_table_iii_and_equal_single_functions() {
    let models = models_30_min();
    for detect_s in [360.0, 600.0, 850.0, 1200.0, 2000.0, 3000.0] {
        let dir = scenarios_with(&format!("t3-{detect_s}"), detect_s);
        let t = targets(&dir, Some(&models), &["video-azure-80-worker-latency", "video-azfunc-eq-awslambda"]);
        assert!(!(t[0].1 && t[1].1), "detection {detect_s} CPU-s meets both: Table III {:?}, Fig. 12 {:?}", t[0].0, t[1].0);
    }
}
