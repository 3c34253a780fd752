//! Question: how long does a Lambda take to read a 64 MiB object from S3 at each memory size, and
//! which size reads it cheapest?
//!
//! A read from a function's code streams the body through the network while the storage client
//! (boto3's HTTP and TLS code, the copies into memory) spends CPU on every MiB; the two overlap
//! and the slower sets the pace (crates/platform/src/storage.rs). The client's CPU runs at the
//! function's share (memory / 1,769 MB of a vCPU), so below about 1 GB the read is CPU-bound and
//! halves in time as the memory doubles, which leaves its GB-s cost unchanged; above it the network
//! (80 MB/s single stream, assumed) paces the read, the time stops falling and each extra MB is paid
//! for nothing. The client's CPU per MiB is fitted to SeBS's 2020 downloads at 128-512 MB
//! (calibration/targets/sebs2020-storage.toml). This example reads 64 MiB at 128 MB to 3,008 MB
//! (the study's era) and asserts both regimes.
//!
//! Run: cargo run --release --example s3_download_memory

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

/// One warm Lambda function at `memory_mb` reading one object of 64 MiB, called once a second.
fn scenario(memory_mb: u32) -> Scenario {
    let text = format!(
        "[scenario]\nname = \"read\"\niterations = 50\nmeasure_after_s = 5\n\
         [arrivals]\nkind = \"interval\"\ninterval_s = 10.0\n\
         [deployment.aws-lambda]\nmemory_mb = {memory_mb}\npackage_mb = 1\n\
         [workflow]\nflow = [{{ step = \"read\" }}]\n\
         [workflow.steps.read]\ncpu_s = {{ dist = \"fixed\", value_s = 0.0 }}\nmemory_mb = 100\n\
         reads = [{{ object = \"data\", size_mb = 64 }}]\n"
    );
    Scenario::from_source(SourceFile::from_text("s3_download_memory", text), &[]).expect("valid scenario")
}

/// Mean execution time, s, and compute dollars per million reads.
fn run(models: &Models, memory_mb: u32) -> (f64, f64) {
    let r = run_scenario(&scenario(memory_mb), &[Deployment::AwsLambda], models, &RunOptions::default()).expect("runs");
    let d = &r.results[0];
    (d.executed_s, d.cost_usd.compute * 1e6)
}

fn main() {
    let models = Models::builtin().expect("built-in models");
    let st = &models.lambda.storage;
    let network_s = 64.0 / st.bandwidth_mb_per_s.value;
    println!("64 MiB from S3; the network alone: {network_s:.2} s plus the first byte's latency");
    println!("{:>9} {:>10} {:>14}", "memory", "read, s", "$ per 1M reads");
    let sizes = [128u32, 256, 512, 1024, 2048, 3008];
    let results: Vec<(f64, f64)> = sizes.iter().map(|&m| run(&models, m)).collect();
    for (m, (t, usd)) in sizes.iter().zip(&results) {
        println!("{m:>6} MB {t:>10.2} {usd:>14.2}");
    }
    // CPU-bound below 1 GB: the time halves as the memory doubles, the compute cost stays.
    for k in 0..2 {
        let (t_small, t_big) = (results[k].0, results[k + 1].0);
        assert!((t_small / t_big - 2.0).abs() < 0.15, "{} -> {} MB: {t_small:.2} -> {t_big:.2} s", sizes[k], sizes[k + 1]);
        assert!((results[k].1 / results[k + 1].1 - 1.0).abs() < 0.1, "{} -> {} MB: the cost stays", sizes[k], sizes[k + 1]);
    }
    // Network-bound from 2 GB: the time is the network's, and more memory only costs more.
    for k in 4..6 {
        assert!((results[k].0 - network_s).abs() < 0.1, "{} MB: {:.2} s against the network's {network_s:.2} s", sizes[k], results[k].0);
    }
    assert!(results[5].1 > 1.3 * results[4].1, "3,008 MB costs more than 2,048 MB for the same read");
    let cheapest = sizes[results.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|(i, _)| i).expect("sizes")];
    println!("cheapest: {cheapest} MB (the CPU-bound sizes tie; from about 1 GB the network paces the read)");
    assert!(cheapest <= 1024, "a CPU-bound size is cheapest, not {cheapest} MB");
}
