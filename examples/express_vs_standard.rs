//! Question: when does an Express Step Functions workflow cost less than a Standard one?
//!
//! Standard bills $25 per million state transitions; Express bills $1 per million requests plus
//! the workflow's duration at its memory (64 MB chunks), about $1.04 per million seconds. So
//! Express is cheaper while states take less than about 24 s each on average, and it cannot run
//! past 5 minutes at all. This example checks both on the study's pipelines.
//!
//! Run: cargo run --release --example express_vs_standard

use sfsim_experiment::{DeploymentSummary, RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

fn run(path: &str, sets: &[&str]) -> DeploymentSummary {
    let models = Models::builtin().expect("built-in models");
    let o: Vec<Override> = sets.iter().map(|s| s.parse().expect("override")).collect();
    let s = Scenario::load(std::path::Path::new(path), &o).expect("scenario");
    let r = run_scenario(&s, &[Deployment::AwsStep], &models, &RunOptions { iterations: Some(20), ..Default::default() }).expect("runs");
    r.results.into_iter().next().expect("one deployment")
}

/// What the workflow engine bills per execution: transitions (Standard) or requests plus
/// duration (Express). The Lambda bill is the same either way and is taken out.
fn engine_usd(path: &str, sets: &[&str]) -> (f64, f64, u64) {
    let standard = run(path, sets);
    let mut x = sets.to_vec();
    x.push("deployment.aws-step.workflow_type=express");
    let express = run(path, &x);
    let express_engine = (express.cost_usd.compute - standard.cost_usd.compute) + (express.cost_usd.requests - standard.cost_usd.requests);
    (standard.cost_usd.transitions, express_engine, express.failed)
}

fn main() {
    let (inf_std, inf_exp, inf_failed) = engine_usd("scenarios/paper/ml-inference-large.toml", &[]);
    println!("inference (about 6 s, 4 states): standard ${inf_std:.7}, express ${inf_exp:.7} per execution");
    assert_eq!(inf_failed, 0);
    assert!(inf_exp < inf_std / 5.0, "a short machine with several states is far cheaper as Express");

    let (tr_std, tr_exp, tr_failed) = engine_usd("scenarios/paper/ml-training-large.toml", &[]);
    println!("training (about 135 s, 8 states): standard ${tr_std:.7}, express ${tr_exp:.7} per execution");
    assert_eq!(tr_failed, 0);
    assert!(tr_exp > inf_exp * 10.0, "Express's bill grows with the duration");

    // A longer model search pushes the execution past Express's 5-minute limit (450 CPU-s of the
    // reference core: about 350 s on a 2020 Lambda core at 1.5 GB, rated 1.49x on this code).
    let slow = ["workflow.steps.train_random_forest.cpu_s.median_s=450"];
    let (_, _, slow_failed) = engine_usd("scenarios/paper/ml-training-large.toml", &slow);
    println!("training with a 450 s forest search: {slow_failed} of 20 Express executions time out");
    assert_eq!(slow_failed, 20, "Express cannot run a workflow longer than 5 minutes");
}
