//! Question: what do `partitionCount` and `maxConcurrentActivityFunctions` do to a Durable
//! fan-out's latency?
//!
//! An 80-worker video fan-out goes through the work-item queue: each host takes at most
//! `maxConcurrentActivityFunctions` activities and its Python worker runs them one at a time
//! (PYTHON_THREADPOOL_THREAD_COUNT = 1 before Python 3.9), and the scale controller adds a host
//! (at most one per 30 s) while the work-item queue's latency stays over 1 s (DTFx's scale
//! recommendation). Fewer slots per host leave more messages in the queue, so hosts come sooner
//! (more CPUs); with many slots the first hosts drain the queue and work through their backlog
//! alone. The number of control-queue partitions matters through scale-in: the scale controller
//! takes the oldest host whatever it holds (DFX #2651), and with one partition that host owns
//! the orchestration, so the completions in its buffer wait out their 5-minute lock
//! (`control_queue_visibility_timeout_s`) before the fan-in goes on; with more partitions the
//! orchestration is often on a newer host. This example varies both and asserts that.
//!
//! Run: cargo run --release --example durable_concurrency

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Override, Scenario};

fn latency(models: &Models) -> f64 {
    let set: Override = "workflow.fan_out.workers.items=80".parse().expect("override");
    let s = Scenario::load(std::path::Path::new("scenarios/paper/video.toml"), &[set]).expect("scenario");
    let r = run_scenario(&s, &[Deployment::AzDorch], models, &RunOptions { iterations: Some(20), ..Default::default() }).expect("runs");
    r.results[0].latency_s.mean
}

fn main() {
    let base = Models::builtin().expect("built-in models");
    println!("{:>10} {:>10} {:>12}", "activities", "partitions", "latency_s");
    let mut by_slots = Vec::new();
    // Parameters are changed through the models' texts, so that the study's profile
    // (`profile = "iiswc21"` in the scenario) applies over them.
    let with = |key: &str, v: f64| {
        base.with_overrides(&[("az-durable".to_string(), key.to_string(), sfsim_workflow::ModelValue::Number(v))])
            .expect("a valid override")
    };
    for slots in [2.0, 5.0, 10.0, 20.0] {
        let l = latency(&with("concurrency.max_concurrent_activities_per_host", slots));
        println!("{slots:>10} {:>10} {l:>12.1}", 4);
        by_slots.push(l);
    }
    let mut by_partitions = Vec::new();
    for p in [1.0, 4.0, 16.0] {
        let l = latency(&with("task_hub.partition_count", p));
        println!("{:>10} {p:>10} {l:>12.1}", 10);
        by_partitions.push(l);
    }
    // Fewer activity slots per host fill hosts sooner, so the scale controller adds CPUs.
    assert!(by_slots[0] < by_slots[3], "2 slots per host beat 20: {by_slots:?}");
    // One partition puts the orchestration on the oldest host, the first a scale-in takes:
    // its buffered completions are held for their lock, which the default 4 partitions avoid
    // more often.
    assert!(by_partitions[0] > 1.2 * by_partitions[1], "one partition is held on the oldest host: {by_partitions:?}");
}
