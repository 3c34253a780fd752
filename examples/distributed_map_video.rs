//! Question: the study's video pipeline with 1,000 workers on today's Step Functions: what does a
//! Distributed Map change against the inline Map the study used, and what do Express children
//! cost? The video is 250 MB here, so that the split cuts 1,000 payload-sized chunks (256 KB on
//! AWS; the study's 100 MB video gives 400, and a worker without a chunk is not started).
//!
//! An inline Map runs at most 40 iterations at once inside the execution, writing every
//! iteration's events into its one history (25,000 events at most). A Distributed Map (since
//! December 2022) starts each iteration as a child workflow execution with its own history, up
//! to 10,000 at once; Standard children bill their transitions as inline iterations do, Express
//! children a request each plus their duration. With 1,000 workers, the inline Map runs 25 waves
//! of detectors one after another; the distributed one runs them all in the first wave that
//! Lambda's scaling allows (2023 rule: 1,000 new environments per 10 s per function).
//!
//! Run: cargo run --release --example distributed_map_video

use sfsim_experiment::{DeploymentSummary, RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

fn run(map_mode: &str) -> DeploymentSummary {
    let models = Models::builtin().expect("built-in models");
    let sets = [
        "scenario.profile=\"2026\"".to_string(),
        "workflow.fan_out.workers.items=1000".to_string(),
        "workflow.fan_out.workers.chunks_of_kb=256000".to_string(),
        format!("deployment.aws-step.map_mode=\"{map_mode}\""),
    ];
    let o: Vec<Override> = sets.iter().map(|s| s.parse().expect("override")).collect();
    let s = Scenario::load(std::path::Path::new("scenarios/paper/video.toml"), &o).expect("scenario");
    let r = run_scenario(&s, &[Deployment::AwsStep], &models, &RunOptions { iterations: Some(20), ..Default::default() }).expect("runs");
    r.results.into_iter().next().expect("one deployment")
}

fn main() {
    let mut rows = Vec::new();
    for mode in ["inline", "distributed", "distributed-express"] {
        let d = run(mode);
        println!(
            "{mode:>20}: {} of 20 completed, latency mean {:.1} s p99 {:.1} s, scheduling {:.1} s, {:.0} transitions, \
             engine ${:.4} + Lambda ${:.4} per execution",
            d.completed,
            d.latency_s.mean,
            d.latency_s.p99,
            d.breakdown_s.scheduling,
            d.transitions,
            d.cost_usd.transitions + d.cost_usd.requests,
            d.cost_usd.compute,
        );
        assert_eq!(d.completed, 20, "{mode}: every execution completes");
        rows.push(d);
    }
    let (inline, standard, express) = (&rows[0], &rows[1], &rows[2]);
    let speedup = inline.latency_s.mean / standard.latency_s.mean;
    println!("a Distributed Map is {speedup:.1}x faster: the inline Map's 40-at-a-time waves are gone");
    assert!(speedup > 1.3, "1,000 workers at 40 at a time wait in waves");
    assert!(inline.breakdown_s.scheduling > 5.0 * standard.breakdown_s.scheduling, "the waiting is Map scheduling");
    // Standard children bill the same transitions as inline iterations.
    assert!((inline.cost_usd.transitions / standard.cost_usd.transitions - 1.0).abs() < 1e-9);
    // Express children bill 1,000 requests and short durations instead of 1,000 transitions.
    assert!(express.cost_usd.transitions < standard.cost_usd.transitions / 100.0);
    assert!(
        express.cost_usd.total < standard.cost_usd.total,
        "sub-second detectors are cheaper as Express children: ${:.4} against ${:.4}",
        express.cost_usd.total,
        standard.cost_usd.total
    );
}
