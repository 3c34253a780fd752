//! The video deviations shown to be conflicts (calibration/deviations.toml): each test sweeps
//! the detection work of scenarios/paper/video.toml (the assumption every per-worker figure
//! rests on) and shows that no amount meets the deviating target together with another target
//! of the study.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::conflicts::{copy_with, reproduce};

/// A copy of scenarios/paper with the detector's total CPU time set to `detect_s`.
fn scenarios_with(tag: &str, detect_s: f64) -> PathBuf {
    copy_with("scenarios/paper", tag, |name, mut text| {
        if name == "video.toml" {
            let detect = text.find("[workflow.steps.detect]").expect("detect step");
            let at = detect + text[detect..].find("median_s = ").expect("cpu_s") + "median_s = ".len();
            let end = at + text[at..].find(',').expect("value end");
            text.replace_range(at..end, &format!("{detect_s:.1}"));
        }
        text
    })
}

/// Each target's (values by label, met) with the scenarios in `scenarios` (removed afterwards).
fn targets(scenarios: &Path, models: Option<&Path>, ids: &[&str]) -> Vec<(BTreeMap<String, f64>, bool)> {
    let mut r = reproduce(models, Some(&scenarios.join("experiments.toml")), ids, 1);
    let _ = std::fs::remove_dir_all(scenarios);
    ids.iter().map(|id| r.remove(*id).expect("target")).map(|o| (o.values, o.pass)).collect()
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
/// (Azure's limit is the study's 30 minutes, `function.timeout_s` of its profile iiswc21), and with that much
/// work the 80 workers' latencies stay far below Table III; more work than Lambda's limit allows
/// fails AWS-Lambda.
#[test]
fn no_detection_work_meets_table_iii_and_equal_single_functions() {
    for detect_s in [360.0, 600.0, 850.0, 1200.0, 2000.0, 3000.0] {
        let dir = scenarios_with(&format!("t3-{detect_s}"), detect_s);
        let t = targets(&dir, None, &["video-azure-80-worker-latency", "video-azfunc-eq-awslambda"]);
        assert!(!(t[0].1 && t[1].1), "detection {detect_s} CPU-s meets both: Table III {:?}, Fig. 12 {:?}", t[0].0, t[1].0);
    }
}
