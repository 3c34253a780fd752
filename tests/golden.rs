//! Golden timelines (as SimGrid's tesh files): for each deployment, the coarse timeline of a
//! small workflow (two steps and a fan-out of three; the chains az-queue, az-blob and aws-sqs, which
//! refuse a fan-out, a chain of three) is checked in under `tests/golden/`. A change in behaviour shows
//! as a diff of function starts and ends, polls, episodes and transitions (times rounded to
//! 10 ms), to be read as a review. `UPDATE_GOLDEN=1 cargo test --release --test suite golden::`
//! rewrites the files.

use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models};
use sfsim_workflow::{Arrivals, Scenario, SourceFile};

/// The steps both golden workflows share.
const STEPS: &str = r#"
[scenario]
name = "golden"
[arrivals]
kind = "interval"
interval_s = 20
[workflow.steps.split]
cpu_s = { dist = "fixed", value_s = 0.5 }
memory_mb = 256
output_kb = 2
[workflow.steps.chunk]
cpu_s = { dist = "fixed", value_s = 2.0 }
memory_mb = 256
input_kb = 2
output_kb = 2
[workflow.steps.merge]
cpu_s = { dist = "fixed", value_s = 0.5 }
memory_mb = 256
input_kb = 6
"#;

/// Two steps around a fan-out of three.
const FAN_OUT: &str = r#"
[workflow]
input_kb = 1
output_kb = 1
flow = [{ step = "split" }, { fan_out = "work" }, { step = "merge" }]
[workflow.fan_out.work]
items = 3
body = [{ step = "chunk" }]
"#;

/// The chains refuse a fan-out (no fan-in on plain queues or blobs): a chain of the three steps.
const CHAIN: &str = r#"
[workflow]
input_kb = 1
output_kb = 1
flow = [{ step = "split" }, { step = "chunk" }, { step = "merge" }]
"#;

fn timeline(d: Deployment) -> String {
    let flow = if matches!(d, Deployment::AzQueue | Deployment::AzBlob | Deployment::AwsSqs) { CHAIN } else { FAN_OUT };
    let text = format!("{STEPS}{flow}");
    let s = Scenario::from_source(SourceFile::from_text("golden.toml", text), &[]).expect("valid golden scenario");
    let m = Models::builtin().expect("models");
    let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
    let plan = DeploymentPlan::build(d, &m, &cfg, &s.workflow).expect("plan builds");
    let out = plan.run(&s.workflow, &Arrivals::Interval { interval_s: 20.0 }, 2, RngStreams::new(1, 0), true);
    let mut text = format!("# {}: {} executions, seed 1; sfsim's coarse timeline (tests/golden.rs)\n", d.name(), out.executions.len());
    for r in &out.executions {
        text.push_str(&format!("# exec {}: {:?}, latency {:.2} s\n", r.id, r.outcome, r.latency().as_secs_f64()));
    }
    text.push_str(&sfsim_report::render_coarse_timeline(&out.trace));
    text
}

#[test]
fn timelines_match_the_checked_in_golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for d in Deployment::ALL {
        let got = timeline(d);
        let path = dir.join(format!("{}.txt", d.name()));
        if update {
            std::fs::write(&path, &got).expect("golden file written");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let first = got.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(got.lines().count().min(want.lines().count()));
            stale.push(format!(
                "{}: first difference at line {}:\n  got:  {}\n  want: {}",
                path.display(),
                first + 1,
                got.lines().nth(first).unwrap_or("<end>"),
                want.lines().nth(first).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "timelines changed (review, then UPDATE_GOLDEN=1 cargo test --release --test suite golden::):\n{}",
        stale.join("\n")
    );
}

#[test]
fn a_timeline_is_the_same_on_every_run() {
    assert_eq!(timeline(Deployment::AzDorch), timeline(Deployment::AzDorch));
}
