//! The human-readable table printed by `sfsim run` (the default format).

use sfsim_experiment::ScenarioResult;
use std::fmt::Write;

const COLUMNS: [&str; 19] = [
    "deployment",
    "ok",
    "fail",
    "mean_s",
    "p50_s",
    "p95_s",
    "p99_s",
    "colds",
    "cold_avg_s",
    "b.cold",
    "b.queue",
    "b.sched",
    "b.exec",
    "b.replay",
    "b.xfer",
    "b.entity",
    "gb_s",
    "usd/exec",
    "usd/1M",
];

/// Renders a fixed-width table: one row per deployment, platform errors below their row.
pub fn render_table(r: &ScenarioResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario {} (seed {}, {} executions x {} replications, hash {})",
        r.scenario, r.seed, r.iterations, r.replications, r.scenario_hash
    );
    let _ = write!(s, "{:<11}", COLUMNS[0]);
    for c in &COLUMNS[1..] {
        let _ = write!(s, " {c:>9}");
    }
    s.push('\n');
    for d in &r.results {
        let cells = [
            d.completed.to_string(),
            (d.failed + d.throttled).to_string(),
            format!("{:.3}", d.latency_s.mean),
            format!("{:.3}", d.latency_s.p50),
            format!("{:.3}", d.latency_s.p95),
            format!("{:.3}", d.latency_s.p99),
            d.cold_starts.to_string(),
            format!("{:.3}", d.cold_start_s.mean),
            format!("{:.3}", d.breakdown_s.cold_start),
            format!("{:.3}", d.breakdown_s.queue),
            format!("{:.3}", d.breakdown_s.scheduling),
            format!("{:.3}", d.breakdown_s.execution),
            format!("{:.3}", d.breakdown_s.replay),
            format!("{:.3}", d.breakdown_s.transfer),
            format!("{:.3}", d.breakdown_s.entity),
            format!("{:.3}", d.gb_s),
            format!("{:.7}", d.cost_usd.total),
            format!("{:.2}", d.cost_usd.total * 1e6),
        ];
        let _ = write!(s, "{:<11}", d.deployment);
        for c in &cells {
            let _ = write!(s, " {c:>9}");
        }
        s.push('\n');
        for (err, n) in &d.errors {
            let _ = writeln!(s, "{:<11} {n} x {err}", "");
        }
    }
    s.push_str("colds: executions that waited for a new instance; cold_avg_s: their mean wait;\n");
    s.push_str("b.*: mean latency breakdown per completed execution (sums to mean_s); usd/1M: dollars per million executions\n");
    s
}
