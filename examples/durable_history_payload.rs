//! Question: why does a Durable Functions chain slow down as its payloads grow, while a Step
//! Functions chain barely does?
//!
//! A Durable orchestrator is replayed at every await: each episode loads the instance's whole
//! history, payloads included (table rows, and blobs for payloads over 60 KB), and hands all of it
//! to the Python worker, which parses it before replaying. So the k-th hop of a chain pays for
//! every payload before it, and the 30 orchestrations of a SeBS-Flow batch contend for each host's
//! single Python thread while they do. Step Functions sends each Task's input to Lambda and takes
//! its output back, once per hop. This example runs SeBS-Flow's chain of 9 functions at three
//! payload sizes (scenarios/validation/) and prints the gap between consecutive functions beside
//! the published medians.
//!
//! Run: cargo run --release --example durable_history_payload

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::Scenario;

fn main() {
    let models = Models::builtin().expect("built-in models");
    // (payload, SeBS-Flow median gap on aws-step, on az-dorch), seconds.
    let measured = [("32b", 0.168, 0.790), ("64kb", 0.236, 2.703), ("256kb", 0.423, 6.543)];
    let mut gaps = Vec::new();
    for (size, step_s, durable_s) in measured {
        let path = format!("scenarios/validation/sebs-chain-{size}.toml");
        let s = Scenario::load(std::path::Path::new(&path), &[]).expect("scenario");
        let r = run_scenario(&s, &[Deployment::AwsStep, Deployment::AzDorch], &models, &RunOptions::default()).expect("runs");
        let (step, durable) = (r.results[0].chain_gap_s.p50, r.results[1].chain_gap_s.p50);
        println!("{size:>6}: gap p50 aws-step {step:.3} s (SeBS-Flow {step_s}), az-dorch {durable:.3} s (SeBS-Flow {durable_s})");
        gaps.push((step, durable));
    }
    let (step_growth, durable_growth) = (gaps[2].0 / gaps[0].0, gaps[2].1 / gaps[0].1);
    println!("from 32 B to 256 KB the gap grows {step_growth:.1}x on aws-step and {durable_growth:.1}x on az-dorch");
    assert!(durable_growth > 2.0 * step_growth, "replaying the history makes Durable's per-hop cost grow with the payloads");
    for ((step, durable), (size, step_s, durable_s)) in gaps.iter().zip(measured) {
        assert!((step / step_s - 1.0).abs() < 0.3 && (durable / durable_s - 1.0).abs() < 0.3, "{size}: within 30 % of SeBS-Flow");
    }
}
