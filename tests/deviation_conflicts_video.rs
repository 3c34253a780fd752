//! The video deviation shown to be a conflict (calibration/deviations.toml): the test sweeps
//! the detection work of scenarios/paper/video.toml (the assumption every per-worker figure
//! rests on) and shows that no amount meets the deviating target together with another target
//! of the study. (Fig. 14's delay quantiles, a deviation until session 11, are met:
//! tests/video_scheduling_delay.rs.)

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::conflicts::{copy_with, reproduce};

/// A copy of scenarios/paper with the detector's total CPU time set to `detect_s`.
fn scenarios_with(tag: &str, detect_s: f64) -> common::TempDir {
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

/// Each target's (values by label, met) with the scenarios in `scenarios`.
fn targets(scenarios: &Path, models: Option<&Path>, ids: &[&str]) -> Vec<(BTreeMap<String, f64>, bool)> {
    let mut r = reproduce(models, Some(&scenarios.join("experiments.toml")), ids, 1);
    ids.iter().map(|id| r.remove(*id).expect("target")).map(|o| (o.values, o.pass)).collect()
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
