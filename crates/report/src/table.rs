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

/// The compact table (the default): at most 120 columns, one row per deployment with its
/// outcomes, latency, cold starts, GB-s and cost, a line with where the time went, platform
/// errors below, and a legend. `--wide` prints [`render_table_wide`].
pub fn render_table(r: &ScenarioResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario {} (seed {}, {} executions x {} replications, hash {})",
        r.scenario, r.seed, r.iterations, r.replications, r.scenario_hash
    );
    let _ = writeln!(
        s,
        "{:<11} {:>9} {:>7} {:>9} {:>10} {:>10} {:>10} {:>6} {:>8} {:>10} {:>10} {:>9}",
        "deployment", "completed", "failed", "throttled", "mean s", "p50 s", "p99 s", "colds", "cold s", "GB-s", "$/exec", "$/1M"
    );
    let secs = |n: u64, v: f64| if n == 0 { "-".to_string() } else { format!("{v:.3}") };
    for d in &r.results {
        let l = &d.latency_s;
        let _ = writeln!(
            s,
            "{:<11} {:>9} {:>7} {:>9} {:>10} {:>10} {:>10} {:>6} {:>8} {:>10.3} {:>10.7} {:>9.2}",
            d.deployment,
            d.completed,
            d.failed,
            d.throttled,
            secs(l.n, l.mean),
            secs(l.n, l.p50),
            secs(l.n, l.p99),
            d.cold_starts,
            secs(d.cold_start_s.n, d.cold_start_s.mean),
            d.gb_s,
            d.cost_usd.total,
            d.cost_usd.total * 1e6
        );
        let b = &d.breakdown_s;
        let mut parts: Vec<(&str, f64)> = vec![
            ("execution", b.execution),
            ("transfer", b.transfer),
            ("cold start", b.cold_start),
            ("queue", b.queue),
            ("scheduling", b.scheduling),
            ("replay", b.replay),
            ("entity", b.entity),
        ];
        parts.retain(|p| p.1 > 0.0);
        parts.sort_by(|x, y| y.1.total_cmp(&x.1));
        if l.n > 0 && !parts.is_empty() {
            let words: Vec<String> = parts.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
            let _ = writeln!(s, "{:<11} mean s by part: {}", "", words.join(", "));
        }
        if !d.latency_quantiles_s.is_empty() {
            let words: Vec<String> =
                d.latency_quantiles_s.iter().map(|(q, v)| format!("q{q} {}", v.map_or("-".to_string(), |v| format!("{v:.3}")))).collect();
            let _ = writeln!(s, "{:<11} latency s at quantiles: {}", "", words.join(", "));
        }
        for (err, n) in &d.errors {
            let _ = writeln!(s, "{:<11} {n} x {err}", "");
        }
    }
    s.push_str("completed/failed/throttled: executions; mean, p50, p99: end-to-end latency of completed ones (- if none);\n");
    s.push_str("colds: executions that waited for a new instance, cold s their mean wait; GB-s and $ per execution;\n");
    s.push_str("mean s by part: the breakdown of mean latency (sums to it). All columns: --wide; every field: --format json\n");
    s
}

/// Renders the wide table: every column, one row per deployment, platform errors below.
pub fn render_table_wide(r: &ScenarioResult) -> String {
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
