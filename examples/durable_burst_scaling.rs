//! Question: how does a Durable Functions app on the Azure Storage backend take a burst of 30
//! executions, in the study's era and today, and what does a partition changing hands cost?
//!
//! SeBS-Flow's map-reduce (`scenarios/validation/sebs-mapred.toml`: a task, a map of 3, a task, a
//! map of 5, each function a ~0.1 s storage round trip), in bursts of 30 on Azure:
//! * the study's era (2020-21): the scale controller adds a host at most every 30 s when DTFx's
//!   scale recommendation asks (the work-item queue's latency over 1 s over five samples);
//! * today (Functions 4.19+, Durable Functions 2.12+): target-based scaling asks for
//!   `max(work items / 10, min(busy control queues, control messages / 5))` workers and adds up
//!   to 4 at a decision;
//! * today without the Safe partition manager's handover gap: a partition moves to a joining
//!   host at once, instead of going 5-30 s undequeued while the old owner's ownership lease
//!   expires. Those stalls are the long tail of the measured spans (p95 43 s against a median of
//!   8.6 s in the artifact).
//!
//! Every host runs one Python body at a time, so more hosts shorten the burst; every partition
//! that changes hands mid-burst stalls the orchestrations hashed to it.
//!
//! Run: cargo run --release --example durable_burst_scaling

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

/// The map-reduce scenario (profile 2024) with its Durable scale rule and lease gap set.
fn scenario(target_based: bool, ownership_lease_s: f64) -> Scenario {
    let text = std::fs::read_to_string("scenarios/validation/sebs-mapred.toml").expect("scenario file");
    assert!(!text.contains("[models.az-durable]"), "the scenario leaves the Durable model to its profile");
    let text = format!(
        "{text}\n[models.az-durable]\ntask_hub.target_based_scaling = {}\ntask_hub.ownership_lease_duration_s = {ownership_lease_s}\n",
        u8::from(target_based)
    );
    Scenario::from_source(SourceFile::from_text("durable_burst_scaling", text), &[]).expect("valid scenario")
}

fn main() {
    let models = Models::builtin().expect("built-in models");
    println!("{:<44} {:>10} {:>14} {:>14} {:>13}", "az-dorch, 6 bursts of 30", "peak hosts", "span p50 (s)", "span p95 (s)", "hop p50 (s)");
    let mut rows = Vec::new();
    for (name, target_based, lease_s) in [
        ("study era: incremental, handover gap", false, 15.0),
        ("today: target-based, handover gap", true, 15.0),
        ("today: target-based, no handover gap", true, 0.0),
    ] {
        let r = run_scenario(&scenario(target_based, lease_s), &[Deployment::AzDorch], &models, &RunOptions::default()).expect("runs");
        let d = &r.results[0];
        println!(
            "{name:<44} {:>10} {:>14.2} {:>14.2} {:>13.2}",
            d.instances_peak, d.function_span_s.p50, d.function_span_s.p95, d.chain_gap_s.p50
        );
        rows.push((d.instances_peak, d.function_span_s.p50, d.function_span_s.p95));
    }
    let (era, today, no_gap) = (rows[0], rows[1], rows[2]);
    assert!(today.0 > era.0, "target-based scaling takes more hosts for the burst: {} vs {}", today.0, era.0);
    assert!(today.1 < era.1, "and the burst's median execution is shorter: {:.2} vs {:.2} s", today.1, era.1);
    assert!(today.2 > no_gap.2 + 10.0, "partitions changing hands mid-burst make the tail: p95 {:.1} vs {:.1} s", today.2, no_gap.2);
    println!(
        "measured (SeBS-Flow 2024, azure/2024/burst_256.csv): span p50 8.64 s, p95 43.2 s; hops p50 2.32 s; about 6 containers per burst"
    );
}
