//! Question: when a Durable app scales out in the middle of a burst, how long can a partition
//! stay with a busy host, and what does that cost the executions hashed to it?
//!
//! A partition (control queue) is dequeued by one host at a time. A joining host steals it
//! (DTAS's Safe partition manager: the intent lease), and the old owner stops dequeuing. But it
//! keeps renewing the ownership lease while orchestration sessions of that partition it already
//! dispatched are active, and on a Python app those episodes wait for the worker's single thread
//! behind the activities the host dequeued (DTAS `SafePartitionManager`, `OrchestrationSession
//! Manager.IsControlQueueProcessingMessages`; DFX #2373). Only when they have run does the lease
//! lapse (5-20 s more) and the new host take over. Durable Functions 3.x's Table partition
//! manager drains the same way but gives up after 60 s.
//!
//! 30 executions arriving 15 s apart, each a 60 s activity then a 1 s one, on a Consumption app
//! (profile 2024: target-based scaling, 5 orchestrators and 10 activities per host; only idle
//! hosts scaled in, so that no 5-minute lock of a removed host's work mixes in), three ways: the Safe
//! manager as documented; the Safe manager if the old owner let go as soon as it stopped
//! dequeuing; the Table manager, with its 60 s cap and without it. The trace (`--trace`) shows each hand-over as instants on the
//! old owner's track ("keeps the partition while N of its sessions run", "lets it go").
//!
//! Run: cargo run --release --example durable_partition_drain

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

fn scenario(drain_sessions: bool, table: bool, table_cap_s: f64) -> Scenario {
    let text = format!(
        "[scenario]\nname = \"partition-drain\"\nprofile = \"2024\"\niterations = 30\nseed = 1\n\
         [arrivals]\nkind = \"interval\"\ninterval_s = 15\n\
         [workflow]\nflow = [{{ step = \"a\" }}, {{ step = \"b\" }}]\n\
         [workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 60 }}\nmemory_mb = 100\n\
         [workflow.steps.b]\ncpu_s = {{ dist = \"fixed\", value_s = 1 }}\nmemory_mb = 100\n\
         [models.az-durable]\ntask_hub.drain_sessions = {}\ntask_hub.table_partition_manager = {}\ntask_hub.table_drain_timeout_s = {table_cap_s}\ntask_hub.scale_in_busy_hosts = 0\n",
        u8::from(drain_sessions),
        u8::from(table)
    );
    Scenario::from_source(SourceFile::from_text("durable_partition_drain", text), &[]).expect("valid scenario")
}

fn main() {
    let models = Models::builtin().expect("built-in models");
    println!(
        "{:<52} {:>10} {:>13} {:>13} {:>13}",
        "az-dorch, 30 executions 15 s apart", "peak hosts", "latency mean", "latency p50", "latency max"
    );
    let mut rows = Vec::new();
    for (name, drain, table, cap_s) in [
        ("Safe manager, old owner keeps it for its sessions", true, false, 60.0),
        ("Safe manager, old owner lets go when it stops", false, false, 60.0),
        ("Table manager (DF 3.x), drain capped at 60 s", true, true, 60.0),
        ("Table manager, drain uncapped", true, true, 86_400.0),
    ] {
        let r = run_scenario(&scenario(drain, table, cap_s), &[Deployment::AzDorch], &models, &RunOptions::default()).expect("runs");
        let d = &r.results[0];
        println!(
            "{name:<52} {:>10} {:>11.1} s {:>11.1} s {:>11.1} s",
            d.instances_peak, d.latency_s.mean, d.latency_s.p50, d.latency_s.max
        );
        rows.push(d.latency_s.mean);
    }
    let (keeps, lets_go, table, uncapped) = (rows[0], rows[1], rows[2], rows[3]);
    assert!(
        keeps > lets_go + 30.0,
        "partitions held for the old owner's queued episodes delay the executions hashed to them: mean {keeps:.1} vs {lets_go:.1} s"
    );
    assert!(table + 20.0 < uncapped, "the Table manager's 60 s cap lets go sooner: mean {table:.1} vs {uncapped:.1} s uncapped");
}
