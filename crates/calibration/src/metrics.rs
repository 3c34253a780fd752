//! Named metrics of a deployment's summary, as the targets spell them.

use sfsim_experiment::DeploymentSummary;

/// Every metric a target may name, with how it is read from a deployment's summary. Costs are
/// dollars per execution; shares are taken of these.
const METRICS: &[(&str, fn(&DeploymentSummary) -> f64)] = &[
    ("latency_mean", |d| sampled(&d.latency_s, d.latency_s.mean)),
    ("latency_p50", |d| sampled(&d.latency_s, d.latency_s.p50)),
    ("latency_p99", |d| sampled(&d.latency_s, d.latency_s.p99)),
    ("latency_p99_over_p50", |d| if d.latency_s.n > 0 && d.latency_s.p50 > 0.0 { d.latency_s.p99 / d.latency_s.p50 } else { f64::NAN }),
    ("breakdown_p99_queue_s", |d| d.breakdown_p99_s.queue),
    ("breakdown_p99_execution_s", |d| d.breakdown_p99_s.execution),
    ("breakdown_p99_replay_s", |d| d.breakdown_p99_s.replay),
    // The study's cold start over the executions that found no warm instance: Durable
    // Pending -> Running, otherwise the request to the first function's start.
    ("cold_start_p50_s", |d| sampled(&d.cold_start_delay_s, d.cold_start_delay_s.p50)),
    ("cold_start_mean_s", |d| sampled(&d.cold_start_delay_s, d.cold_start_delay_s.mean)),
    // From the request to the first workflow function's start on every deployment (for
    // Durable this includes the starter's host start; calibration/README.md, Fig. 13).
    ("request_cold_start_p50_s", |d| sampled(&d.request_cold_start_delay_s, d.request_cold_start_delay_s.p50)),
    ("request_cold_start_mean_s", |d| sampled(&d.request_cold_start_delay_s, d.request_cold_start_delay_s.mean)),
    ("gb_s", |d| d.gb_s),
    ("queue_transactions", |d| d.transactions.queue),
    ("cost_compute_usd", |d| d.cost_usd.compute),
    ("cost_transactions_usd", |d| d.cost_usd.transactions),
    ("cost_transitions_usd", |d| d.cost_usd.transitions),
    ("cost_total_usd", |d| d.cost_usd.total),
    ("worker_scheduling_delay_p50_s", |d| sampled(&d.worker_scheduling_delay_s, d.worker_scheduling_delay_s.p50)),
    ("worker_scheduling_delay_p95_s", |d| sampled(&d.worker_scheduling_delay_s, d.worker_scheduling_delay_s.p95)),
    ("worker_latency_p50_s", |d| sampled(&d.worker_latency_s, d.worker_latency_s.p50)),
    ("worker_latency_p95_s", |d| sampled(&d.worker_latency_s, d.worker_latency_s.p95)),
    ("worker_latency_p99_s", |d| sampled(&d.worker_latency_s, d.worker_latency_s.p99)),
    // SeBS-Flow's per-hop overhead: next function's start minus the previous one's end.
    ("chain_gap_p50_s", |d| sampled(&d.chain_gap_s, d.chain_gap_s.p50)),
    ("chain_gap_p95_s", |d| sampled(&d.chain_gap_s, d.chain_gap_s.p95)),
    ("chain_gap_mean_s", |d| sampled(&d.chain_gap_s, d.chain_gap_s.mean)),
    // How the gap grows along the path: s per hop (NaN without 3 positions of 10 gaps).
    ("chain_gap_slope_s_per_hop", |d| d.chain_gap_slope_s_per_hop.unwrap_or(f64::NAN)),
    // SeBS-Flow's end-to-end: the last function's end minus the first one's start.
    ("function_span_p50_s", |d| sampled(&d.function_span_s, d.function_span_s.p50)),
    ("function_span_p95_s", |d| sampled(&d.function_span_s, d.function_span_s.p95)),
    ("function_span_mean_s", |d| sampled(&d.function_span_s, d.function_span_s.mean)),
    // Completed executions per second, first arrival to last completion (NaN under 10).
    ("throughput_per_s", |d| d.throughput_per_s.unwrap_or(f64::NAN)),
];

/// `x`, a statistic of `s`, or NaN when `s` has no samples (no cold start, no workflow function
/// hop, no fan-out worker): the target shows `n/a` and fails, instead of a 0 no run produced.
fn sampled(s: &sfsim_experiment::Stats, x: f64) -> f64 {
    if s.n == 0 { f64::NAN } else { x }
}

/// The value of metric `name` for one deployment, or `None` for an unknown name.
pub fn metric(d: &DeploymentSummary, name: &str) -> Option<f64> {
    METRICS.iter().find(|(n, _)| *n == name).map(|(_, f)| f(d))
}

/// The metric a `quantiles` target reads for quantile `q` (`p50`) of `metric`
/// (`worker_latency_s` -> `worker_latency_p50_s`).
pub(crate) fn quantile_metric(metric: &str, q: &str) -> String {
    format!("{}_{q}_s", metric.trim_end_matches("_s"))
}

/// Whether `name` is a metric a target may name.
pub fn is_metric(name: &str) -> bool {
    METRICS.iter().any(|(n, _)| *n == name)
}
