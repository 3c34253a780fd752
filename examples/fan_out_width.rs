//! Question: which fan-out width minimizes the video pipeline's latency on each platform?
//!
//! More workers split the face detection finer, but every worker costs a scheduling round:
//! Step Functions runs at most 40 inline Map iterations at once and pays a transition and
//! possibly a cold start per worker; Durable Functions lets a host take 10 activities, runs them
//! one at a time on the Python worker's single thread, and adds hosts at most one per 30 s (so
//! 5 or 10 workers land on one host and take as long as the single function). This example
//! sweeps the width with common random numbers and asserts that both stateful platforms beat
//! the single function at their best width and that the returns flatten out.
//!
//! Run: cargo run --release --example fan_out_width

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

fn main() {
    let models = Models::builtin().expect("built-in models");
    let widths = [1u32, 5, 10, 20, 40, 80, 160];
    let deployments = [Deployment::AwsLambda, Deployment::AwsStep, Deployment::AzDorch];
    let mut table: Vec<(u32, Vec<f64>)> = Vec::new();
    println!("{:>6} {:>12} {:>12} {:>12}", "width", "aws-lambda", "aws-step", "az-dorch");
    for w in widths {
        let set: Override = format!("workflow.fan_out.workers.items={w}").parse().expect("override");
        let s = Scenario::load(std::path::Path::new("scenarios/paper/video.toml"), &[set]).expect("scenario");
        let r = run_scenario(&s, &deployments, &models, &RunOptions { iterations: Some(20), ..Default::default() }).expect("runs");
        let lat: Vec<f64> = r.results.iter().map(|d| d.latency_s.mean).collect();
        println!("{w:>6} {:>12.1} {:>12.1} {:>12.1}", lat[0], lat[1], lat[2]);
        table.push((w, lat));
    }
    let best = |k: usize| table.iter().min_by(|a, b| a.1[k].total_cmp(&b.1[k])).map(|(w, l)| (*w, l[k])).expect("rows");
    let (step_w, step_l) = best(1);
    let (dorch_w, dorch_l) = best(2);
    println!("fastest width: aws-step {step_w} ({step_l:.1} s), az-dorch {dorch_w} ({dorch_l:.1} s)");
    let single = table[0].1[0];
    // A single Lambda does not care about the width: all the work runs in one function.
    assert!(table.iter().all(|(_, l)| (l[0] - single).abs() / single < 0.05), "aws-lambda is flat in the width");
    // Fanning out wide pays on both stateful platforms.
    assert!(step_l < 0.2 * single, "aws-step at its best width is more than 5x faster than one Lambda");
    assert!(dorch_l < 0.5 * single, "az-dorch at its best width is at least 2x faster than one function");
    assert!(step_w >= 20 && dorch_w >= 40, "the best widths are wide");
    // Durable gains less from width than Step Functions: hosts arrive one per 30 s.
    assert!(dorch_l > step_l);
}
