//! Question: which fan-out width minimizes the video pipeline's latency on each platform?
//!
//! More workers split the face detection finer, but every worker costs a scheduling round:
//! Step Functions runs at most 40 inline Map iterations at once and pays a transition and
//! possibly a cold start per worker; Durable Functions lets a host take 10 activities, runs them
//! one at a time on the Python worker's single thread, and adds hosts at most one per 30 s (so
//! 5 or 10 workers land on one host and take as long as the single function). Worse, the scale
//! controller removes hosts whatever they hold, a decision carried out some 90 s later
//! (`scale_in_lag_s`), often in the next execution's fan-out: the activities the host held wait
//! out their 5-minute lock. So a wide Durable fan-out can be slower than the single function, as
//! the study's Table III has it (80 workers: a worker's latency p99 744 s, the single function
//! about 390 s). This example sweeps the width with common random numbers and asserts that Step
//! Functions beats the single function more than 5x at its best width, and that Durable gains
//! far less and loses at some widths.
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
    // Fanning out wide pays on Step Functions.
    assert!(step_l < 0.2 * single, "aws-step at its best width is more than 5x faster than one Lambda");
    assert!(step_w >= 20, "its best width is wide");
    // Durable gains far less (hosts arrive one per 30 s and leave holding work), and some widths
    // are slower than the single function.
    assert!(dorch_l > 3.0 * step_l, "az-dorch's best {dorch_l:.1} s against aws-step's {step_l:.1} s");
    let slowest = table.iter().map(|(_, l)| l[2]).fold(0.0_f64, f64::max);
    assert!(slowest > single, "at some width az-dorch is slower than one function: {slowest:.1} s against {single:.1} s");
}
