//! Structure-aware property tests of the loaders (issue #12): valid files with extreme values,
//! not random characters that never get past the TOML parser. For the scenario, sweep, model,
//! ASL and trace loaders, every case either loads and then runs within a time budget, or fails
//! with the promised position: the file, a line and column inside it, and the key. Runs in a
//! few seconds (64 cases per loader, from a fixed seed: see [`config`]).

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sfsim_experiment::{RunOptions, resolve_deployments, run_scenario};
use sfsim_platform::Models;
use sfsim_workflow::{LoadError, Scenario, SourceFile};

use crate::common;

/// The most a case may take to load and simulate.
const BUDGET: Duration = Duration::from_secs(10);

/// Extreme and ordinary numbers, as TOML.
fn num() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "3",
        "0.5",
        "1e-9",
        "1e9",
        "1e10",
        "-1",
        "1e308",
        "-0.0",
        "9223372036854775807",
        "nan",
        "inf",
        "128",
        "10240",
    ])
    .prop_map(str::to_string)
}

fn int() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["0", "1", "2", "5", "-1", "10000001", "9223372036854775807", "1.5", "40", "100000"]).prop_map(str::to_string)
}

/// An error must name its file and point inside it (line and column within the text), and
/// name a key unless it is about the whole file.
fn assert_positioned(e: &LoadError, file: &str, text: &str) {
    assert!(e.file.contains(file), "error names another file: {e}");
    if e.line == 0 {
        assert!(e.key.is_empty() || e.message.contains("limit"), "a key error without a position: {e}");
        return;
    }
    let line = text.lines().nth(e.line - 1).unwrap_or_else(|| panic!("line {} beyond the file: {e}", e.line));
    assert!(e.col >= 1 && e.col <= line.chars().count() + 1, "column {} outside line {}: {e}", e.col, e.line);
}

/// 64 cases per loader from a fixed seed, so that CI runs the same cases every time (a case
/// that fails is a defect to fix, not a flake to retry). To explore further, set
/// `PROPTEST_RNG_SEED` and `PROPTEST_CASES` (proptest's own variables), e.g.
/// `PROPTEST_RNG_SEED=$RANDOM PROPTEST_CASES=2000 cargo test --release --test suite loaders_fuzz::`.
fn config() -> ProptestConfig {
    let env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { env.cases } else { 64 },
        rng_seed: match env.rng_seed {
            proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(20_261_201),
            given => given,
        },
        failure_persistence: None,
        ..env
    }
}

fn run_bounded(s: &Scenario, models: &Models) {
    let Ok(deps) = resolve_deployments(s, &[]) else { return };
    let started = Instant::now();
    let opts = RunOptions { iterations: Some(s.iterations.min(5)), replications: Some(1), seed: Some(1), ..RunOptions::default() };
    match run_scenario(s, &deps, models, &opts) {
        Ok(r) => assert!(r.results.iter().all(|d| d.iterations <= 5)),
        Err(e) => assert_positioned(&e, "fuzz", &s.source.text),
    }
    assert!(started.elapsed() < BUDGET, "{} took {:?}:\n{}", s.name, started.elapsed(), s.source.text);
}

/// A scenario text (as `fuzz.toml`) loads and then runs within the budget, or fails positioned.
fn load_and_run(text: &str) {
    let models = Models::builtin().expect("models");
    match Scenario::from_source(SourceFile::from_text("fuzz.toml", text.to_string()), &[]) {
        Ok(s) => run_bounded(&s, &models),
        Err(e) => assert_positioned(&e, "fuzz.toml", text),
    }
}

fn scenario_text(it: &str, reps: &str, gap: &str, cpu: &str, mem: &str, items: &str, deps: &[&str]) -> String {
    let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        "[scenario]\nname = \"fuzz\"\ndeployments = [{}]\niterations = {it}\nreplications = {reps}\n\n[arrivals]\nkind = \"interval\"\ninterval_s = {gap}\n\n[workflow]\nflow = [{{ step = \"a\" }}, {{ fan_out = \"w\" }}]\n\n[workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = {cpu} }}\nmemory_mb = {mem}\noutput_kb = {cpu}\n\n[workflow.fan_out.w]\nitems = {items}\nbody = [{{ step = \"b\" }}]\n\n[workflow.steps.b]\ncpu_s = {{ dist = \"lognormal\", median_s = {cpu}, sigma = {gap} }}\nmemory_mb = 128\n",
        deps.join(", ")
    )
}

fn deployments() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(vec!["aws-lambda", "aws-step", "az-func", "az-dorch", "az-dent", "no-such"], 1..3)
}

/// The stateful and queue deployments on every Azure hosting plan and platform profile.
/// With `fan`, a fan-out between the steps, else a chain of three (az-queue and az-blob run no
/// fan-out: the caller asks for one only without them).
fn azure_plan_text(deps: &[&str], plan: &str, profile: &str, gap: &str, cpu: &str, items: &str, fan: bool) -> String {
    let list: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
    let profile = if profile.is_empty() { String::new() } else { format!("profile = \"{profile}\"\n") };
    let plans: String = deps.iter().map(|d| format!("\n[deployment.{d}]\nplan = \"{plan}\"\n")).collect();
    let (middle, fan_out) = if fan {
        ("{ fan_out = \"w\" }", format!("\n[workflow.fan_out.w]\nitems = {items}\nbody = [{{ step = \"b\" }}]\n"))
    } else {
        ("{ step = \"b\" }", String::new())
    };
    format!(
        "[scenario]\nname = \"fuzz\"\ndeployments = [{}]\niterations = 3\n{profile}\n[arrivals]\nkind = \"interval\"\ninterval_s = {gap}\n{plans}\n[workflow]\nflow = [{{ step = \"a\" }}, {middle}, {{ step = \"a\" }}]\n\n[workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = {cpu} }}\nmemory_mb = 128\noutput_kb = 100\n{fan_out}\n[workflow.steps.b]\ncpu_s = {{ dist = \"lognormal\", median_s = {cpu}, sigma = 0.5 }}\nmemory_mb = 128\n",
        list.join(", ")
    )
}

proptest! {
    #![proptest_config(config())]

    /// Every Azure plan and profile with the stateful and queue deployments: a run completes
    /// within the budget or fails positioned. The values are ones that load (a zero body or a
    /// zero-item fan-out is refused, and `scenarios_load_or_point_at_the_key` covers refusals), so
    /// most cases run. The gaps stop at 1e6 s (11 days): on Premium an always-ready host polls
    /// its queues through any gap, one event per poll, so two gaps of 1e8 s on three deployments
    /// take about 12 s (README, Speed, "Idle time"); Consumption's longest gaps are
    /// `scenarios_load_or_point_at_the_key`'s.
    #[test]
    fn azure_plans_and_profiles_run_or_point_at_the_key(
        deps in prop::sample::subsequence(vec!["az-func", "az-queue", "az-dorch", "az-dent", "az-blob"], 1..4),
        plan in prop::sample::select(vec!["consumption", "flex", "premium"]),
        profile in prop::sample::select(vec!["", "2024", "2026"]),
        gap in prop::sample::select(vec!["0", "1e-9", "0.5", "3", "40", "600", "1e6"]),
        cpu in prop::sample::select(vec!["1e-9", "0.5", "3", "700"]),
        items in prop::sample::select(vec!["1", "3", "40"]),
        fan in any::<bool>(),
    ) {
        let fan = fan && !deps.iter().any(|d| *d == "az-queue" || *d == "az-blob");
        let text = azure_plan_text(&deps, plan, profile, gap, cpu, items, fan);
        load_and_run(&text);
    }

    #[test]
    fn scenarios_load_or_point_at_the_key(it in int(), reps in int(), gap in num(), cpu in num(), mem in num(), items in int(), deps in deployments()) {
        let text = scenario_text(&it, &reps, &gap, &cpu, &mem, &items, &deps);
        load_and_run(&text);
    }

    #[test]
    fn sweeps_load_or_point_at_the_key(it in int(), reps in int(), values in prop::collection::vec(int(), 0..4), key in prop::sample::select(vec!["workflow.fan_out.w.items", "workflow.steps.a.memory_mb", "scenario.iterations", "no.such.key", "workflow.fan_out.w.items"]), twice in any::<bool>()) {
        let dir = common::TempDir::new("fuzz-sweep");
        let scenario = scenario_text("2", "1", "1", "0.5", "128", "2", &["aws-lambda"]);
        std::fs::write(dir.join("s.toml"), scenario).expect("write");
        let axis = format!("\n[[sweep.axis]]\nkey = \"{key}\"\nvalues = [{}]\n", values.join(", "));
        let text = format!("[sweep]\nname = \"fuzz\"\nscenario = \"s.toml\"\niterations = {it}\nreplications = {reps}\n{axis}{}", if twice { axis.clone() } else { String::new() });
        let path = dir.join("fuzz-sweep.toml");
        std::fs::write(&path, &text).expect("write");
        let started = Instant::now();
        match sfsim_experiment::sweep::Sweep::load(&path) {
            Ok(sw) => {
                let n = sw.count().expect("count");
                prop_assert!((1..=sfsim_experiment::budget::MAX_TRIALS).contains(&n));
                prop_assert!(!twice, "a duplicate axis was accepted");
            }
            Err(e) => assert_positioned(&e, "fuzz-sweep.toml", &text),
        }
        prop_assert!(started.elapsed() < BUDGET);
    }

    #[test]
    fn models_load_or_point_at_the_key(which in 0usize..6, nth in 0usize..40, v in num()) {
        let (name, text) = sfsim_platform::params::BUILTIN_MODELS[which];
        // Replace the nth `value = ...` of the model with an extreme value.
        let mut out = String::new();
        let mut k = 0;
        for line in text.lines() {
            match line.find("value = ") {
                Some(i) if k == nth % text.matches("value = ").count().max(1) => {
                    let rest = &line[i + 8..];
                    let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
                    out.push_str(&format!("{}value = {v}{}\n", &line[..i], &rest[end..]));
                    k += 1;
                }
                Some(_) => { out.push_str(line); out.push('\n'); k += 1; }
                None => { out.push_str(line); out.push('\n'); }
            }
        }
        if let Err(e) = Models::validate_file(&SourceFile::from_text(format!("fuzz/{name}"), out.clone())) {
            assert_positioned(&e, name, &out);
        }
    }

    #[test]
    fn asl_machines_load_or_point_at_the_key(seconds in num(), conc in int(), next in prop::sample::select(vec!["B", "A", "Nowhere"]), kind in prop::sample::select(vec!["Task", "Pass", "Wait", "Choice"])) {
        let dir = common::TempDir::new("fuzz-asl");
        let json = format!(
            r#"{{"StartAt": "A", "States": {{
  "A": {{"Type": "{kind}", "Resource": "arn:aws:lambda:us-east-1:1:function:a", "Seconds": {seconds}, "Next": "B", "Choices": [{{"Variable": "$.x", "NumericEquals": 1, "Next": "{next}"}}], "Default": "B"}},
  "B": {{"Type": "Map", "MaxConcurrency": {conc}, "Iterator": {{"StartAt": "C", "States": {{"C": {{"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:c", "End": true}}}}}}, "Next": "{next}"}},
  "Nowhere2": {{"Type": "Succeed"}}
}}}}"#
        );
        std::fs::write(dir.join("m.asl.json"), &json).expect("write");
        let text = "[scenario]\nname = \"fuzz\"\ndeployments = [\"aws-step\", \"aws-lambda\", \"az-dorch\"]\niterations = 2\n\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\n[workflow]\n[workflow.asl]\nfile = \"m.asl.json\"\ntasks = { \"arn:aws:lambda:us-east-1:1:function:a\" = \"a\", \"arn:aws:lambda:us-east-1:1:function:c\" = \"c\" }\nitems = { \"B\" = 3 }\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 0.1 }\nmemory_mb = 128\n\n[workflow.steps.c]\ncpu_s = { dist = \"fixed\", value_s = 0.1 }\nmemory_mb = 128\n";
        let path = dir.join("fuzz-asl.toml");
        std::fs::write(&path, text).expect("write");
        let models = Models::builtin().expect("models");
        match Scenario::load(&path, &[]) {
            Ok(s) => run_bounded(&s, &models),
            Err(e) => {
                // An error is in the scenario or in the machine; either way it is positioned.
                let in_json = e.file.ends_with(".json");
                let src = if in_json { json.as_str() } else { text };
                assert_positioned(&e, if in_json { "m.asl.json" } else { "fuzz-asl.toml" }, src);
            }
        }
    }

    #[test]
    fn traces_replay_or_point_at_the_line(rows in prop::collection::vec((num(), num()), 1..20)) {
        let dir = common::TempDir::new("fuzz-trace");
        let mut text = "app,func,end_timestamp,duration\n".to_string();
        for (end, dur) in &rows {
            text.push_str(&format!("a,f,{end},{dur}\n"));
        }
        let path = dir.join("fuzz-2021.txt");
        std::fs::write(&path, &text).expect("write");
        let started = Instant::now();
        let result = sfsim_replay::Azure2021::open(Path::new(&path)).and_then(|mut t| {
            sfsim_replay::replay(&mut t, &[sfsim_replay::Policy::parse("fixed:10m").expect("policy"), sfsim_replay::Policy::parse("hybrid").expect("policy")], sfsim_engine::SimDuration::ZERO)
        });
        if let Err(e) = result {
            prop_assert!(e.file.contains("fuzz-2021.txt"), "{e}");
            prop_assert!(e.line as usize <= rows.len() + 1, "line {} beyond the file: {e}", e.line);
        }
        prop_assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
    }
}
