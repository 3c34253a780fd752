//! `sfsim validate` checks a baseline or deviations file against the targets file that names it
//! (the SeBS-Flow baseline against the SeBS-Flow targets), not always against the study's.

use std::process::Command;

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
