//! Every integration test of the `sfsim` package, built as one test binary.
//!
//! Each file under tests/ stays a module of its own (named after the file), so a test is
//! selected with its file name: `cargo test --release --test suite golden::` runs
//! tests/golden.rs. One binary instead of one per file: the 32 binaries took 125 s of CPU in a
//! clean 2-core build (`cargo build --timings`), this one 51 s; a clean CI run took 591 s
//! against 616 s (one run each, 2026-12-01).

#[path = "common/mod.rs"]
mod common;

#[path = "calibrate.rs"]
mod calibrate;
#[path = "cli.rs"]
mod cli;
#[path = "cluster_doc.rs"]
mod cluster_doc;
#[path = "cost.rs"]
mod cost;
#[path = "cpu_classes.rs"]
mod cpu_classes;
#[path = "cpu_noise.rs"]
mod cpu_noise;
#[path = "deviation_conflicts.rs"]
mod deviation_conflicts;
#[path = "deviation_conflicts_aws.rs"]
mod deviation_conflicts_aws;
#[path = "deviation_conflicts_azure.rs"]
mod deviation_conflicts_azure;
#[path = "deviation_conflicts_ml.rs"]
mod deviation_conflicts_ml;
#[path = "deviation_conflicts_video.rs"]
mod deviation_conflicts_video;
#[path = "durable_backends.rs"]
mod durable_backends;
#[path = "entity_lifetime.rs"]
mod entity_lifetime;
#[path = "executions_output.rs"]
mod executions_output;
#[path = "first_call.rs"]
mod first_call;
#[path = "function_span.rs"]
mod function_span;
#[path = "golden.rs"]
mod golden;
#[path = "hosting_plans.rs"]
mod hosting_plans;
#[path = "invariants.rs"]
mod invariants;
#[path = "issue12.rs"]
mod issue12;
#[path = "load_phases.rs"]
mod load_phases;
#[path = "loaders_fuzz.rs"]
mod loaders_fuzz;
#[path = "model_overrides.rs"]
mod model_overrides;
#[path = "object_downloads.rs"]
mod object_downloads;
#[path = "profiles.rs"]
mod profiles;
#[path = "queueing_oracle.rs"]
mod queueing_oracle;
#[path = "repeated_steps.rs"]
mod repeated_steps;
#[path = "reproduce.rs"]
mod reproduce;
#[path = "reproduce_drift.rs"]
mod reproduce_drift;
#[path = "trace_arrivals.rs"]
mod trace_arrivals;
#[path = "validate_calibration.rs"]
mod validate_calibration;
#[path = "video_chunks.rs"]
mod video_chunks;
#[path = "video_scheduling_delay.rs"]
mod video_scheduling_delay;
#[path = "warm_up.rs"]
mod warm_up;

/// A file added to tests/ runs only once it is declared above (the package sets
/// `autotests = false`): this fails for a file that is not, instead of letting it never run.
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = std::fs::read_to_string(root.join("tests/suite.rs")).expect("tests/suite.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).expect("tests/") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs")
            && stem != "suite"
            && !suite.contains(&format!("#[path = \"{name}\"]\nmod {stem};"))
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "tests/ files not declared in tests/suite.rs (they would never run): {missing:?}");
}
