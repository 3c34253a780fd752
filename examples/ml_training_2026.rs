//! Question: what changes when the study's ML training pipeline (`ml-training-small`, Azure
//! Functions Consumption plan, Python 3.7) moves to a 2026 deployment: Flex Consumption with
//! 2,048 MB instances and Python 3.11?
//!
//! The load is bursts of 8 requests at once, every 10 minutes (a team retraining models
//! together). Four deployments of the same workflow, on the same work (common random numbers):
//!
//! * *study*: Consumption, Python 3.7 (one worker thread, one execution per 1-vCPU host), hosts
//!   added at most once per second;
//! * *flex*: Flex Consumption 2,048 MB (1 vCPU), Python 3.11 under the 2026 profile, HTTP
//!   concurrency 1 per instance (Microsoft's default for Python), instances added as demand asks;
//! * *flex x4*: the same with `http_concurrency = 4`, so Python 3.11's thread pool (min(32, 1 + 4)
//!   = 5 threads) runs 4 executions per instance, sharing its vCPU;
//! * *flex ready*: *flex* with 8 always-ready instances.
//!
//! It prints latency, cold starts, GB-s and cost per execution and per 30-day month (at one
//! request per minute), and asserts what follows from the mechanisms: Flex bills the instance's
//! 2 GB while executing where Consumption bills observed memory, so its GB-s per billed second is
//! 2 and higher; more threads and a higher per-instance concurrency put more executions on each
//! instance (fewer instances); always-ready instances remove every cold start and bill a baseline
//! of 8 x 2 GB x $0.000004 per second of the month.
//!
//! Run: cargo run --release --example ml_training_2026

use sfsim_experiment::{DeploymentSummary, RunOptions, cost::project_bills, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

const SCENARIO: &str = "scenarios/paper/ml-training-small.toml";
const SECONDS_PER_MONTH: f64 = 30.0 * 86_400.0;

fn scenario(sets: &[&str]) -> Scenario {
    let burst = ["arrivals={ kind = \"burst\", size = 8, interval_s = 600 }"];
    let overrides: Vec<Override> = burst
        .iter()
        .chain(sets)
        .map(|s| {
            let (path, value) = s.split_once('=').expect("key=value");
            Override { path: path.into(), value: value.into() }
        })
        .collect();
    Scenario::load(std::path::Path::new(SCENARIO), &overrides).expect("scenario loads")
}

fn main() {
    let models = Models::builtin().expect("built-in models");
    let flex = ["scenario.profile=\"2026\"", "deployment.az-func.plan=\"flex\"", "deployment.az-func.instance_memory_mb=2048"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { flex.iter().chain(extra).copied().collect() };
    let variants: Vec<(&str, Vec<&str>)> = vec![
        ("study", vec![]),
        ("flex", with(&[])),
        ("flex x4", with(&["deployment.az-func.http_concurrency=4"])),
        ("flex ready", with(&["deployment.az-func.always_ready=8"])),
    ];
    let opts = RunOptions { iterations: Some(48), ..Default::default() };
    println!(
        "{:<11} {:>9} {:>9} {:>6} {:>6} {:>11} {:>12} {:>14} {:>14}",
        "deployment", "mean s", "p95 s", "cold", "peak", "GB-s/exec", "$/exec", "$/month 1/min", "of it baseline"
    );
    let mut out: Vec<(DeploymentSummary, f64, f64)> = Vec::new();
    for (name, sets) in &variants {
        let s = scenario(sets);
        let r = run_scenario(&s, &[Deployment::AzFunc], &models, &opts).expect("runs");
        let d = r.results.into_iter().next().expect("one deployment");
        let bill = project_bills(&s, &[Deployment::AzFunc], &models, 1.0 / 60.0, SECONDS_PER_MONTH, 2000, None, false).expect("bill");
        let (month, baseline) = (bill[0].cost_usd.total, bill[0].cost_usd.instances);
        println!(
            "{:<11} {:>9.2} {:>9.2} {:>6} {:>6} {:>11.3} {:>12.6} {:>14.2} {:>14.2}",
            name, d.latency_s.mean, d.latency_s.p95, d.cold_starts, d.instances_peak, d.gb_s, d.cost_usd.total, month, baseline
        );
        assert_eq!(d.completed, 48, "{name}: every execution completes");
        out.push((d, month, baseline));
    }
    let [study, flex, flex4, ready] = [&out[0], &out[1], &out[2], &out[3]];

    // Flex bills the instance's memory (2 GB) over the billed time; Consumption the observed
    // memory, rounded to 128 MB and capped at 1.5 GB: more GB-s per execution on Flex.
    // (Each instance's executing period is rounded up to 100 ms: at most 0.2 GB-s more each.)
    let flex_gb = flex.0.gb_s / flex.0.billed_s;
    assert!((2.0..=2.0 + 0.2 / flex.0.billed_s).contains(&flex_gb), "Flex bills 2 GB per billed second, got {flex_gb}");
    assert!(study.0.gb_s / study.0.billed_s <= 1.5 + 1e-9, "Consumption bills at most 1.5 GB");
    assert!(flex.0.gb_s > study.0.gb_s, "Flex bills more GB-s: {} vs {}", flex.0.gb_s, study.0.gb_s);

    // One execution per instance on Flex by default: a burst of 8 needs 8 instances; with 4 per
    // instance and Python 3.11's 5 threads, 2 (never more than needed for the burst).
    assert_eq!(flex.0.instances_peak, 8, "Flex Python: one HTTP execution per instance");
    assert!(flex4.0.instances_peak <= 2, "4 executions per instance: at most 2 instances, got {}", flex4.0.instances_peak);
    // Sharing one vCPU four ways makes each execution slower than alone.
    assert!(flex4.0.latency_s.p95 > 2.0 * flex.0.executed_s, "4 executions share one vCPU");
    // Fewer instances started (each cold start is shared by the 4 executions waiting for it).
    assert!(flex4.0.instances_started < flex.0.instances_started, "{} vs {}", flex4.0.instances_started, flex.0.instances_started);

    // Always-ready instances: no cold start at all, and a baseline billed all month.
    assert_eq!(ready.0.cold_starts, 0, "8 always-ready instances serve every burst warm");
    assert!(flex.0.cold_starts >= 8, "on demand, the first burst starts 8 instances cold");
    let expected = 8.0 * 2.0 * 0.000004 * SECONDS_PER_MONTH;
    assert!((ready.2 / expected - 1.0).abs() < 1e-6, "baseline {} vs {expected}", ready.2);
    assert!(ready.0.latency_s.mean < flex.0.latency_s.mean, "warm instances answer faster");
    // The study's Consumption plan has no baseline.
    assert_eq!(study.2, 0.0);
    println!(
        "Flex bills the instance's 2 GB while executing (Consumption the observed memory); 4 executions per \
instance need a quarter of the instances but share the vCPU; always-ready instances remove the cold starts for ${:.2} a month.",
        ready.2
    );
}
