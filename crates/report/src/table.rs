//! The human-readable table printed by `sfsim run` (the default format).

use sfsim_experiment::ScenarioResult;
use std::fmt::Write;

/// Renders a fixed-width table: one block of rows per deployment.
pub fn render_table(r: &ScenarioResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario {} (seed {}, {} executions x {} replications, hash {})",
        r.scenario, r.seed, r.iterations, r.replications, r.scenario_hash
    );
    let _ = writeln!(
        s,
        "{:<11} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "deployment",
        "ok",
        "fail",
        "mean_s",
        "p50_s",
        "p95_s",
        "p99_s",
        "cold",
        "cold_s",
        "queue_s",
        "exec_s",
        "xfer_s",
        "gb_s",
        "usd/exec",
        "usd/1M"
    );
    for d in &r.results {
        let _ = writeln!(
            s,
            "{:<11} {:>6} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>11.7} {:>11.2}",
            d.deployment,
            d.completed,
            d.failed + d.throttled,
            d.latency_s.mean,
            d.latency_s.p50,
            d.latency_s.p95,
            d.latency_s.p99,
            d.cold_starts,
            d.breakdown_s.cold_start,
            d.breakdown_s.queue,
            d.breakdown_s.execution,
            d.breakdown_s.transfer,
            d.gb_s,
            d.cost_usd.total,
            d.cost_usd.total * 1e6,
        );
        for (err, n) in &d.errors {
            let _ = writeln!(s, "{:<11} {n} x {err}", "");
        }
    }
    s
}
