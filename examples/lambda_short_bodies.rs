//! Question: does a small Lambda slow a short handler down as much as a long job?
//!
//! Lambda gives CPU in proportion to memory (1,769 MB = 1 vCPU), but it enforces that share as
//! Linux CFS bandwidth control does: a quota of CPU time per 20 ms period (at 256 MB, 2.9 ms),
//! the thread running at full speed until the quota is used and then waiting for the next
//! period (models/aws-lambda.toml `function.cpu_period_ms`, crates/platform/src/cpu.rs). So a
//! handler that needs less CPU than one quota runs at full speed at any memory size, while a
//! long job runs at the share. This example runs a 2 ms handler and a 300 ms job at 128 to
//! 1,769 MB, under the share as a quota per period and as a steady rate, and asserts the
//! difference. SeBS-Flow's 620.func-invo rows show the short end: at 256 MB Lambda ran bodies of
//! 0.11-0.87 ms median (32 B-1 KiB payloads), which a steady 0.145 vCPU would stretch 6.9 times.
//!
//! Run: cargo run --release --example lambda_short_bodies

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

/// One warm Lambda function of `cpu_ms` of work at `memory_mb`, called once a second (profile
/// 2024: 1 ms billing), its CPU share a quota per 20 ms period or (`steady`) a steady rate.
fn scenario(memory_mb: u32, cpu_ms: f64, steady: bool) -> Scenario {
    let mut text = format!(
        "[scenario]\nname = \"short\"\nprofile = \"2024\"\niterations = 200\nmeasure_after_s = 5\n\
         [arrivals]\nkind = \"interval\"\ninterval_s = 1.0\n\
         [deployment.aws-lambda]\nmemory_mb = {memory_mb}\npackage_mb = 1\n\
         [workflow]\nflow = [{{ step = \"handle\" }}]\n\
         [workflow.steps.handle]\ncpu_s = {{ dist = \"fixed\", value_s = {} }}\nmemory_mb = 60\n",
        cpu_ms / 1000.0
    );
    if steady {
        text.push_str("[models.aws-lambda]\nfunction.cpu_period_ms = 0\n");
    }
    Scenario::from_source(SourceFile::from_text("lambda_short_bodies", text), &[]).expect("valid scenario")
}

/// Mean execution time, ms, and compute dollars per million calls.
fn run(models: &Models, memory_mb: u32, cpu_ms: f64, steady: bool) -> (f64, f64) {
    let r = run_scenario(&scenario(memory_mb, cpu_ms, steady), &[Deployment::AwsLambda], models, &RunOptions::default()).expect("runs");
    let d = &r.results[0];
    (d.executed_s * 1000.0, d.cost_usd.compute * 1e6)
}

fn main() {
    // Profile 2024 rates Lambda's core 1.70x the reference core: the handler's 2 ms of work are
    // 1.18 ms on Lambda's core, the job's 300 ms are 176 ms.
    let models = Models::builtin().expect("built-in models");
    println!("{:>8} {:>24} {:>24}", "", "2 ms handler: ms, $/1M", "300 ms job: ms, $/1M");
    println!("{:>8} {:>12} {:>11} {:>12} {:>11}", "memory", "quota/20ms", "steady", "quota/20ms", "steady");
    for memory_mb in [128u32, 256, 512, 1024, 1769] {
        let (h_quota, h_steady) = (run(&models, memory_mb, 2.0, false), run(&models, memory_mb, 2.0, true));
        let (j_quota, j_steady) = (run(&models, memory_mb, 300.0, false), run(&models, memory_mb, 300.0, true));
        println!(
            "{memory_mb:>5} MB {:>7.2} ms {:>7.2} ms {:>7.1} ms {:>7.1} ms   (${:.3} / ${:.3} per million handlers)",
            h_quota.0, h_steady.0, j_quota.0, j_steady.0, h_quota.1, h_steady.1
        );
        let share = f64::from(memory_mb) / 1769.0;
        let lambda_ms = |work_ms: f64| work_ms / 1.70;
        // The handler's 1.18 ms fit in one quota from 128 MB up (1.45 ms there): full speed, as
        // the steady share is only at one vCPU.
        {
            assert!((h_quota.0 - lambda_ms(2.0)).abs() < 0.01, "{memory_mb} MB: the handler runs at full speed ({:.3} ms)", h_quota.0);
        }
        assert!((h_steady.0 - lambda_ms(2.0) / share.min(1.0)).abs() < 0.01, "{memory_mb} MB: steady share");
        if memory_mb < 1769 {
            assert!(h_quota.1 < h_steady.1, "{memory_mb} MB: the quota bills the short handler less");
        }
        // The long job runs at the share either way, within one period.
        assert!((j_quota.0 - j_steady.0).abs() <= 20.0, "{memory_mb} MB: {:.1} vs {:.1} ms", j_quota.0, j_steady.0);
    }
}
