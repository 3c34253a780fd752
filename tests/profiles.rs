//! Profiles with dates: `[scenario] profile = "2026"` applies today's documented platform
//! parameters (models/profiles/2026.toml) over the study-era models; the scenario's own
//! `[models.*]` entries apply on top; an unknown profile is an input error at its key.

mod common;
use common::sfsim;

fn run(set: &[&str]) -> serde_json::Value {
    common::run_json(
        &[
            "run",
            "scenarios/paper/ml-training-small.toml",
            "--iterations",
            "5",
            "-d",
            "aws-lambda",
            "-d",
            "az-dorch",
            "--format",
            "json",
            "-q",
        ],
        set,
    )
}

#[test]
fn the_2026_profile_bills_lambda_by_the_millisecond_and_queues_at_gpv2_prices() {
    let study = run(&[]);
    let today = run(&["scenario.profile=\"2026\""]);
    let again = run(&["scenario.profile=2026"]);
    assert_eq!(today["models_hash"], again["models_hash"], "a bare year names the profile");
    assert_ne!(study["models_hash"], today["models_hash"]);
    let r = |v: &serde_json::Value, d: usize, k: &str| v["results"][d][k].as_f64().unwrap();
    // Lambda: 100 ms rounding in the study's era, 1 ms today (5 executions: under 5 ms more).
    assert!(r(&study, 0, "billed_s") - r(&study, 0, "executed_s") > 0.01);
    assert!(r(&today, 0, "billed_s") - r(&today, 0, "executed_s") < 0.001);
    // Durable's queue transactions at GPv2 prices (about 11x GPv1's).
    let tx = |v: &serde_json::Value| v["results"][1]["cost_usd"]["transactions"].as_f64().unwrap();
    assert!(tx(&today) > 1.5 * tx(&study), "{} vs {}", tx(&today), tx(&study));
    // The scenario's own parameters apply over the profile's.
    let mixed = run(&["scenario.profile=2026", "models.aws-lambda.billing.granularity_ms=100"]);
    assert_eq!(r(&mixed, 0, "billed_s"), r(&study, 0, "billed_s"));
}

#[test]
fn an_unknown_profile_is_an_input_error_at_its_key() {
    let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--set", "scenario.profile=2030", "-q"]);
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("scenario.profile") && e.contains("unknown profile `2030`") && e.contains("study-2021, 2026"), "{e}");
}
