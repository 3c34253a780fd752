//! Per-scenario platform parameters: `[models.<model>]` in a scenario, or
//! `--set models.<model>.<key>=value`, replace a model parameter for that run only; the JSON
//! output records the models' hash beside the scenario's; a bad override is an input error at its
//! key.

use std::process::Output;

use crate::common;
use common::sfsim;

const SCENARIO: &str = r#"[scenario]
name = "override-probe"
deployments = ["az-dorch"]
iterations = 20

[arrivals]
kind = "sequential"
gap_s = 1

[workflow]
flow = [{ step = "a" }, { step = "b" }, { step = "c" }]

[workflow.steps.a]
cpu_s = { dist = "fixed", value_s = 0.1 }
memory_mb = 64
output_kb = 40

[workflow.steps.b]
cpu_s = { dist = "fixed", value_s = 0.1 }
memory_mb = 64
input_kb = 40
output_kb = 40

[workflow.steps.c]
cpu_s = { dist = "fixed", value_s = 0.1 }
memory_mb = 64
input_kb = 40
"#;

fn write(dir: &common::TempDir, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write scenario");
    p.to_string_lossy().into_owned()
}

/// (models_hash, mean replay seconds) of a JSON run.
fn replay_and_hash(o: &Output) -> (String, f64) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    (v["models_hash"].as_str().expect("models_hash").to_string(), v["results"][0]["breakdown_s"]["replay"].as_f64().expect("replay"))
}

#[test]
fn a_scenario_models_table_and_set_replace_a_parameter_alike() {
    let dir = common::TempDir::new("overrides");
    let plain = write(&dir, "plain.toml", SCENARIO);
    let with_table = write(&dir, "table.toml", &format!("{SCENARIO}\n[models.az-durable]\nreplay.per_history_kb_cpu_s = 0.01\n"));
    let (h0, r0) = replay_and_hash(&sfsim(&["run", &plain, "-q", "--format", "json"]));
    let (h1, r1) = replay_and_hash(&sfsim(&["run", &with_table, "-q", "--format", "json"]));
    let (h2, r2) =
        replay_and_hash(&sfsim(&["run", &plain, "-q", "--format", "json", "--set", "models.az-durable.replay.per_history_kb_cpu_s=0.01"]));
    // 10 ms per KB of history: the episodes after the first hand over 40-160 KB each.
    assert!(r1 > r0 + 1.0, "replay {r0} s -> {r1} s");
    assert_eq!((h1.as_str(), r1), (h2.as_str(), r2), "the table and --set are the same override");
    assert_ne!(h0, h1, "the models hash changes with an override");
}

#[test]
fn a_bad_override_is_an_input_error_at_its_key() {
    let dir = common::TempDir::new("overrides");
    let unknown_key = write(&dir, "key.toml", &format!("{SCENARIO}\n[models.az-durable]\nreplay.no_such = 1\n"));
    let o = sfsim(&["run", &unknown_key, "-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    // The key's own line: after the scenario, a blank line and the table header.
    let line = SCENARIO.lines().count() + 3;
    assert!(
        err.contains(&format!(":{line}:")) && err.contains("models.az-durable.replay.no_such") && err.contains("no parameter"),
        "{err}"
    );

    let unknown_model = write(&dir, "model.toml", &format!("{SCENARIO}\n[models.az-durble]\nreplay.episode_cpu_s = 1\n"));
    let err = String::from_utf8_lossy(&sfsim(&["run", &unknown_model, "-q"]).stderr).into_owned();
    assert!(err.contains("unknown model `az-durble`") && err.contains("az-durable"), "{err}");

    let out_of_range = write(&dir, "range.toml", &format!("{SCENARIO}\n[models.az-durable]\nreplay.extended_sessions = 7\n"));
    let err = String::from_utf8_lossy(&sfsim(&["run", &out_of_range, "-q"]).stderr).into_owned();
    assert!(err.contains("models.az-durable.replay.extended_sessions") && err.contains("within [0, 1]"), "{err}");

    // Lambda's CPU quota period: 0 (a steady share) to 1 s.
    let period = write(&dir, "period.toml", &format!("{SCENARIO}\n[models.aws-lambda]\nfunction.cpu_period_ms = 5000\n"));
    let out = sfsim(&["run", &period, "-q"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("models.aws-lambda.function.cpu_period_ms") && err.contains("within [0, 1000]"), "{err}");

    let not_a_number = write(&dir, "nan.toml", &format!("{SCENARIO}\n[models.az-durable]\nreplay.episode_cpu_s = \"fast\"\n"));
    let err = String::from_utf8_lossy(&sfsim(&["run", &not_a_number, "-q"]).stderr).into_owned();
    assert!(err.contains("models.az-durable.replay.episode_cpu_s") && err.contains("is a number"), "{err}");

    // A named parameter: the storage account's kind is one of its names.
    let kind = write(&dir, "kind.toml", &format!("{SCENARIO}\n[models.az-storage]\naccount.kind = \"gpv3\"\n"));
    let out = sfsim(&["run", &kind, "-q"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = SCENARIO.lines().count() + 3;
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(":{line}:")) && err.contains("models.az-storage.account.kind") && err.contains("`gpv1` or `gpv2`"),
        "{err}"
    );
}

/// A value of the wrong type is a type error, not a range error: a name for a number says the
/// key is a number; a number for the account kind lists its names. In the file (at its line)
/// and through `--set`, exit 3.
#[test]
fn a_wrong_type_override_names_the_type_not_a_range() {
    let dir = common::TempDir::new("overrides");
    let line = SCENARIO.lines().count() + 3;
    let name_for_number = write(&dir, "type-name.toml", &format!("{SCENARIO}\n[models.az-durable]\nreplay.episode_cpu_s = \"fast\"\n"));
    let number_for_name = write(&dir, "type-number.toml", &format!("{SCENARIO}\n[models.az-storage]\naccount.kind = 2\n"));
    for (file, key, says) in [
        (&name_for_number, "models.az-durable.replay.episode_cpu_s", "is a number"),
        (&number_for_name, "models.az-storage.account.kind", "`gpv1` or `gpv2`"),
    ] {
        let o = sfsim(&["run", file, "-q"]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(&format!("{file}:{line}:")) && err.contains(&format!("key `{key}`")) && err.contains(says), "{err}");
        assert!(!err.contains("range"), "a type error is not about a range: {err}");
    }
    for (set, says) in
        [("models.az-func.function.cpu_speed=\"fast\"", "is a number"), ("models.az-storage.account.kind=3", "`gpv1` or `gpv2`")]
    {
        let o = sfsim(&["run", "scenarios/paper/ml-training-small.toml", "-d", "az-func", "--iterations", "1", "-q", "--set", set]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(says) && err.contains(&format!("--set {set}")) && !err.contains("range"), "{err}");
    }
}

/// Models changed in memory cannot take a scenario's profile or overrides (made to the models'
/// texts, they would drop the change): `with_overrides` says so with an error of its own, not
/// one of a change's, and running a scenario with such models is a bug of the calling code,
/// not an input error at a scenario key.
#[test]
#[should_panic(expected = "sfsim internal error: the models were changed in memory")]
fn models_changed_in_memory_are_a_caller_bug_not_a_scenario_error() {
    let mut models = sfsim_platform::Models::builtin().expect("models");
    models.durable.task_hub.partition_count.value = 1.0;
    let change = ("az-durable".to_string(), "replay.per_history_kb_cpu_s".to_string(), sfsim_workflow::ModelValue::Number(0.01));
    assert_eq!(models.with_overrides(&[change]).unwrap_err(), sfsim_platform::OverrideError::ChangedInMemory);
    let text = format!("{SCENARIO}\n[models.az-durable]\nreplay.per_history_kb_cpu_s = 0.01\n");
    let scenario = sfsim_workflow::Scenario::from_source(sfsim_workflow::SourceFile::from_text("probe.toml", text), &[]).expect("valid");
    let _ = sfsim_experiment::scenario_models(&scenario, &models);
}
