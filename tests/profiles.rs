//! Profiles with dates: `[scenario] profile = "2026"` applies today's documented platform
//! parameters (models/profiles/2026.toml) over the study-era models; the scenario's own
//! `[models.*]` entries apply on top; an unknown profile is an input error at its key.

use crate::common;
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
    // The scenario's own parameters apply over the profile's: the study era's billing step and
    // Lambda cores (rated 1.49x the reference on scalar code in models/aws-lambda.toml; the
    // profile keeps 1) give the study era's bill.
    let mixed =
        run(&["scenario.profile=2026", "models.aws-lambda.billing.granularity_ms=100", "models.aws-lambda.function.cpu_speed=1.49"]);
    assert_eq!(r(&mixed, 0, "billed_s"), r(&study, 0, "billed_s"));
}

#[test]
fn an_unknown_profile_is_an_input_error_at_its_key() {
    let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--set", "scenario.profile=2030", "-q"]);
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("scenario.profile") && e.contains("unknown profile `2030`") && e.contains("study-2021, 2024, 2026, iiswc21"), "{e}");
}

/// The study's apps' own settings live in the `iiswc21` profile, not in the models: without it
/// an Az-Queue chain on one host is woken by its output bindings and barely waits; with it (the
/// study's scenarios pick it) the hops wait for the fitted 11.32 s polling cap.
#[test]
fn the_study_profile_carries_the_study_apps_queue_settings() {
    let run = |profile: &str| {
        common::run_json(
            &[
                "run",
                "scenarios/paper/ml-training-large.toml",
                "--iterations",
                "10",
                "-d",
                "az-func",
                "-d",
                "az-queue",
                "--format",
                "json",
                "-q",
            ],
            &[&format!("scenario.profile={profile}")],
        )
    };
    let mean = |v: &serde_json::Value, d: usize| v["results"][d]["latency_s"]["mean"].as_f64().unwrap();
    let (study_apps, defaults) = (run("iiswc21"), run("study-2021"));
    let overhead = |v: &serde_json::Value| mean(v, 1) / mean(v, 0);
    assert!(overhead(&defaults) < 1.02, "woken hops: {}", overhead(&defaults));
    assert!((1.1..1.4).contains(&overhead(&study_apps)), "polled hops: {}", overhead(&study_apps));
}

/// `validate` checks a scenario with the models it runs with: a Distributed Map needs the 2026
/// profile, and a scenario that picks it is valid (it was refused against the study-era models).
#[test]
fn validate_uses_the_scenarios_profile() {
    let dir = common::TempDir::new("profile-validate");
    let text = |profile: &str| {
        format!(
            "[scenario]\nname = \"dm\"\n{profile}deployments = [\"aws-step\"]\n[arrivals]\nkind = \"sequential\"\ngap_s = 1\n\
             [deployment.aws-step]\nmap_mode = \"distributed\"\n[workflow]\nflow = [{{ fan_out = \"w\" }}]\n\
             [workflow.fan_out.w]\nitems = 3\nbody = [{{ step = \"a\" }}]\n[workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 1 }}\nmemory_mb = 128\n"
        )
    };
    let (today, study) = (dir.join("today.toml"), dir.join("study.toml"));
    std::fs::write(&today, text("profile = \"2026\"\n")).expect("write");
    std::fs::write(&study, text("")).expect("write");
    let o = sfsim(&["validate", today.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sfsim(&["validate", study.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("deployment.aws-step.map_mode"));
}

/// A profile's entry is a parameter `{ value, source }` with a non-empty source: a bare number,
/// a value without its source or with an empty one was silently dropped; each is an input error
/// at the profile's file, line and key when the models load (exit 3).
#[test]
fn a_profile_entry_without_its_source_is_refused_at_its_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let profile = std::fs::read_to_string(root.join("profiles/2026.toml")).expect("profile");
    let line = profile.lines().count() + 3;
    for (n, (entry, key, says)) in [
        ("polling.max_interval_s = 12", "models.az-queue.polling.max_interval_s", "a profile entry is a parameter"),
        ("polling.max_interval_s = { value = 12 }", "models.az-queue.polling.max_interval_s.source", "non-empty source"),
        ("polling.max_interval_s = { value = 12, source = \" \" }", "models.az-queue.polling.max_interval_s.source", "non-empty source"),
        ("polling.max_interval_s = { source = \"a reason\" }", "models.az-queue.polling.max_interval_s.value", "a number or a name"),
        (
            "polling.max_interval_s = { value = 12, source = \"r\", unit = \"s\" }",
            "models.az-queue.polling.max_interval_s.unit",
            "unknown key",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = common::TempDir::new(&format!("profile-entry-{n}"));
        std::fs::create_dir_all(dir.join("profiles")).expect("temp dir");
        for e in std::fs::read_dir(&root).expect("models") {
            let p = e.expect("entry").path();
            if p.is_file() {
                std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
            }
        }
        let file = dir.join("profiles/2026.toml");
        std::fs::write(&file, format!("{profile}\n[models.az-queue]\n{entry}\n")).expect("write");
        let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "--iterations", "1", "-q", "--models", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(3), "{entry}: {err}");
        let at = format!("{}:{line}:", file.display());
        assert!(err.contains(&at) && err.contains(&format!("key `{key}`")) && err.contains(says), "{entry}: {err}");
    }
}
