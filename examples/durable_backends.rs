//! Question: how much Durable Functions load does one host take on the Netherite backend
//! against the Azure Storage backend, and where does each saturate?
//!
//! Microsoft's HelloCities5 (5 sequential trivial activities, .NET) on one 1-vCPU host, offered
//! as Poisson arrivals at 10, 100 and 1,000 orchestrations/s. On Azure Storage every episode
//! queries the History table and writes it back, and every message is a storage-queue put, get
//! and delete: the host spends CPU on about 40 storage requests per orchestration. On Netherite
//! the partition holds the history in memory, messages are Event Hubs sends pushed to the
//! owner, and commits are batched per partition: about 11 requests. So Netherite's host runs out
//! of CPU at a higher rate. Below saturation an orchestration takes its 11 hops' latencies only.
//!
//! Run: cargo run --release --example durable_backends

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

/// The validation scenario with Poisson arrivals at `rate` for `duration_s`, on `backend`.
fn scenario(rate: f64, duration_s: f64, backend: &str) -> Scenario {
    let text = std::fs::read_to_string("scenarios/validation/hello-cities-5.toml").expect("scenario file");
    let start = text.find("[arrivals]").expect("an [arrivals] table");
    let end = start + text[start..].find("\n\n").expect("end of [arrivals]");
    let n = (rate * duration_s).round() as u64;
    let text = format!(
        "{}[arrivals]\nkind = \"poisson\"\nrate_per_s = {rate}\n{}",
        &text[..start],
        &text[end..]
            .replace("iterations = 1000", &format!("iterations = {n}"))
            .replace("backend = \"azure-storage\"", &format!("backend = \"{backend}\""))
    )
    .replace("iterations = 1000", &format!("iterations = {n}"));
    Scenario::from_source(SourceFile::from_text("durable_backends", text), &[]).expect("valid scenario")
}

fn main() {
    let models = Models::builtin().expect("built-in models");
    let rates: [f64; 3] = [10.0, 100.0, 1000.0];
    let mut achieved = Vec::new();
    for backend in ["azure-storage", "netherite"] {
        let mut row = Vec::new();
        for rate in rates {
            // About 6,000 orchestrations at the high rates, 60 s of arrivals at 10/s.
            let duration = (6000.0 / rate).min(60.0);
            let s = scenario(rate, duration, backend);
            let r = run_scenario(&s, &[Deployment::AzDorch], &models, &RunOptions::default()).expect("runs");
            let d = &r.results[0];
            let tp = d.throughput_per_s.expect("completions");
            let saturated = tp < 0.9 * rate;
            println!(
                "{backend:>13} offered {rate:>6.0}/s: achieved {tp:>6.1}/s, latency p50 {:>7.2} s p99 {:>7.2} s, ${:.3e} per orchestration{}",
                d.latency_s.p50,
                d.latency_s.p99,
                d.cost_usd.total,
                if saturated { "  (saturated)" } else { "" }
            );
            row.push((tp, d.latency_s.p99, saturated));
        }
        achieved.push(row);
    }
    let (az, ne) = (&achieved[0], &achieved[1]);
    // At 10/s both keep up, and an orchestration waits only for its hops (well under a second
    // each), not in a growing backlog.
    for (name, row) in [("azure-storage", az), ("netherite", ne)] {
        assert!(!row[0].2, "{name} keeps up with 10 orchestrations/s on one host");
        assert!(row[0].1 < 5.0, "{name}: below saturation the p99 latency is bounded ({} s)", row[0].1);
        assert!(row[2].2, "{name} cannot take 1,000 orchestrations/s on one 1-vCPU host");
    }
    // Netherite's saturation throughput is higher: fewer requests per orchestration.
    for k in 1..3 {
        assert!(ne[k].0 > 1.3 * az[k].0, "Netherite sustains more than Azure Storage at {} /s", rates[k]);
    }
    // Past saturation the throughput stays at what the host sustains (within 25 %).
    for (name, row) in [("azure-storage", az), ("netherite", ne)] {
        assert!((row[2].0 / row[1].0 - 1.0).abs() < 0.25, "{name}: the saturated throughput is the host's, not the load's");
    }
    println!(
        "one host saturates at about {:.0}/s on Azure Storage and {:.0}/s on Netherite (published, 1 x EP1: 32 and 57)",
        az[2].0, ne[2].0
    );
}
