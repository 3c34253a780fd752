//! Question: what do `partitionCount` and `maxConcurrentActivityFunctions` do to a Durable
//! fan-out's latency?
//!
//! An 80-worker video fan-out goes through the work-item queue: each host takes at most
//! `maxConcurrentActivityFunctions` activities and its Python worker runs them one at a time
//! (PYTHON_THREADPOOL_THREAD_COUNT = 1 before Python 3.9), and the scale controller adds a host
//! (at most one per 30 s) while the work-item queue's latency stays over 1 s (DTFx's scale
//! recommendation). Fewer slots per host leave more messages in the queue, so hosts come sooner
//! (more CPUs); with many slots the first hosts drain the queue and work through their backlog
//! alone (shown with scale-in retiring idle hosts only). The platform's own scale-in takes the
//! oldest host whatever it holds (DFX #2651), a decision carried out some 90 s later
//! (`scale_in_lag_s`), often during the next execution's fan-out: the activities the host held
//! wait out their 5-minute lock, and so do the control messages in its buffer
//! (`control_queue_visibility_timeout_s`) when it owns the orchestration's partition. With
//! removals reaching into the next execution, the partition count then changes little. This
//! example varies both and asserts that.
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
    // Parameters are changed through the models' texts, so that the study's profile
    // (`profile = "iiswc21"` in the scenario) applies over them.
    let with = |changes: &[(&str, f64)]| {
        let changes: Vec<_> =
            changes.iter().map(|(k, v)| ("az-durable".to_string(), k.to_string(), sfsim_workflow::ModelValue::Number(*v))).collect();
        base.with_overrides(&changes).expect("a valid override")
    };
    println!("{:>10} {:>10} {:>14} {:>12}", "activities", "partitions", "busy scale-in", "latency_s");
    // The slots alone: scale-in retires idle hosts only here, so that no held work waits out a
    // lock.
    let mut by_slots = Vec::new();
    for slots in [2.0, 5.0, 10.0, 20.0] {
        let l = latency(&with(&[("concurrency.max_concurrent_activities_per_host", slots), ("task_hub.scale_in_busy_hosts", 0.0)]));
        println!("{slots:>10} {:>10} {:>14} {l:>12.1}", 4, "no");
        by_slots.push(l);
    }
    // The platform's own scale-in takes busy hosts.
    let mut by_partitions = Vec::new();
    for p in [1.0, 4.0, 16.0] {
        let l = latency(&with(&[("task_hub.partition_count", p)]));
        println!("{:>10} {p:>10} {:>14} {l:>12.1}", 10, "yes");
        by_partitions.push(l);
    }
    // Fewer activity slots per host fill hosts sooner, so the scale controller adds CPUs.
    assert!(by_slots[0] < by_slots[3], "2 slots per host beat 20: {by_slots:?}");
    // Busy hosts taken away cost the work they held a 5-minute lock: far slower than the same
    // fan-out retiring idle hosts only.
    assert!(by_partitions[1] > 1.3 * by_slots[2], "busy scale-ins slow the fan-out: {} vs {} s", by_partitions[1], by_slots[2]);
    // With removals that reach into the next execution, most of them find held work whichever
    // partitions the host owned: the partition count changes the fan-out little.
    let (lo, hi) = by_partitions.iter().fold((f64::MAX, 0.0_f64), |(a, b), x| (a.min(*x), b.max(*x)));
    assert!(hi / lo < 1.25, "partitionCount changes the fan-out little: {by_partitions:?}");
}
