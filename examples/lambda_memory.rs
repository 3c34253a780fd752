//! Question: which Lambda memory size makes the study's ML training (small dataset) cheapest,
//! and which makes it fastest?
//!
//! Lambda gives CPU in proportion to memory (1,769 MB = 1 vCPU) and bills configured memory.
//! The study's Python code uses one thread, so below 1,769 MB more memory buys speed at about
//! the same GB-s, and above it buys nothing but a bigger bill. This example sweeps the memory
//! setting with common random numbers and asserts that shape.
//!
//! Run: cargo run --release --example lambda_memory

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

fn main() {
    let models = Models::builtin().expect("built-in models");
    let mut rows = Vec::new();
    for memory_mb in [512u32, 1024, 1536, 1769, 2048, 3008] {
        let set: Override = format!("deployment.aws-lambda.memory_mb={memory_mb}").parse().expect("override");
        let s = Scenario::load(std::path::Path::new("scenarios/paper/ml-training-small.toml"), &[set]).expect("scenario");
        let r = run_scenario(&s, &[Deployment::AwsLambda], &models, &RunOptions { iterations: Some(50), ..RunOptions::default() })
            .expect("runs");
        let d = &r.results[0];
        println!("{memory_mb:>5} MB: latency {:>7.2} s, {:>7.2} GB-s, ${:.6} per execution", d.latency_s.mean, d.gb_s, d.cost_usd.total);
        rows.push((memory_mb, d.latency_s.mean, d.cost_usd.total));
    }
    let fastest = rows.iter().min_by(|a, b| a.1.total_cmp(&b.1)).expect("rows");
    let cheapest = rows.iter().min_by(|a, b| a.2.total_cmp(&b.2)).expect("rows");
    println!("fastest at {} MB, cheapest at {} MB", fastest.0, cheapest.0);
    // Latency falls until one full vCPU, then stays flat (within sampling noise of the cold start).
    assert!(rows[0].1 > rows[1].1 && rows[1].1 > rows[2].1 && rows[2].1 > rows[3].1, "more memory is faster below 1,769 MB");
    assert!((rows[5].1 - rows[3].1).abs() / rows[3].1 < 0.01, "no speed-up above one vCPU for single-threaded code");
    // Above one vCPU the bill only grows.
    assert!(rows[5].2 > rows[4].2 && rows[4].2 > rows[3].2, "memory above 1,769 MB only costs more");
    assert!(cheapest.0 <= 1769, "the cheapest setting is at most one vCPU");
}
