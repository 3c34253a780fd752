//! Question: how often does a request pay a cold start, as a function of how often requests
//! come, on Lambda (10-minute keep-alive) and Azure Functions (20-minute keep-alive)?
//!
//! The study's cold-start experiment sent one request per hour for four days precisely so that
//! every request found its instances reclaimed. This example sweeps the interval and asserts
//! that requests are warm below each platform's keep-alive and cold above it.
//!
//! Run: cargo run --release --example keep_alive

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Arrivals, Scenario};

fn main() {
    let models = Models::builtin().expect("built-in models");
    println!("interval   aws-lambda cold   az-func cold");
    for interval_min in [5u32, 9, 15, 19, 30, 60] {
        let mut s = Scenario::load(std::path::Path::new("scenarios/paper/ml-inference-large.toml"), &[]).expect("scenario");
        s.arrivals = Arrivals::Interval { interval_s: f64::from(interval_min * 60) };
        let r = run_scenario(
            &s,
            &[Deployment::AwsLambda, Deployment::AzFunc],
            &models,
            &RunOptions { iterations: Some(20), ..Default::default() },
        )
        .expect("runs");
        let (aws, az) = (r.results[0].cold_starts, r.results[1].cold_starts);
        println!("{interval_min:>5} min   {aws:>15}   {az:>12}");
        // The first request is always cold; the rest depend on the keep-alive.
        let expect = |keep_alive_min: u32| if interval_min < keep_alive_min { 1 } else { 20 };
        assert_eq!(aws, expect(10), "Lambda keeps idle instances 10 minutes");
        assert_eq!(az, expect(20), "Azure keeps idle hosts 20 minutes");
    }
}
