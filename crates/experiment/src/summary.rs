//! Summaries of many executions: latency quantiles, breakdown, cold starts, GB-s and bills.
//!
//! Quantiles use linear interpolation between closest ranks (Hyndman-Fan type 7, the default of
//! NumPy and R), computed on the sorted sample. Means are over completed executions for latency
//! and breakdown, and over all arrivals for GB-s and cost ("per execution" = total / arrivals).
//! The breakdown means add up to the mean latency because each execution's parts add up to its
//! latency exactly.
//!
//! Sums are written `fold(0.0, ..)`: `Iterator::sum` of no `f64` is -0.0, which would print as
//! `-0.000` when nothing completed.

use std::collections::BTreeMap;

use serde::Serialize;
use sfsim_engine::Sample;
use sfsim_platform::record::RunFold;
use sfsim_platform::{Cost, RunOutput};
use statrs::distribution::{ContinuousCDF, StudentsT};

pub use sfsim_engine::quantile_sorted;

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom. Above 10^4 degrees of
/// freedom it is the normal quantile (they differ by under 0.02 %): statrs' inverse
/// regularized beta function slows to minutes for tens of millions of degrees of freedom.
fn t_975(dof: f64) -> f64 {
    const NORMAL_975: f64 = 1.959_963_984_540_054;
    if dof > 1e4 {
        return NORMAL_975;
    }
    StudentsT::new(0.0, 1.0, dof).map(|d| d.inverse_cdf(0.975)).unwrap_or(NORMAL_975)
}

/// Mean and quantiles of a sample, seconds. In JSON, an empty sample (`n` = 0) has null
/// statistics: no value was observed, which 0.0 would hide.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Sample size.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Half-width of the 95 % confidence interval of the mean (Student t), 0 for n < 2.
    pub mean_ci95: f64,
}

impl Serialize for Stats {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let some = |v: f64| (self.n > 0).then_some(v);
        let mut st = ser.serialize_struct("Stats", 8)?;
        st.serialize_field("n", &self.n)?;
        st.serialize_field("mean", &some(self.mean))?;
        st.serialize_field("p50", &some(self.p50))?;
        st.serialize_field("p95", &some(self.p95))?;
        st.serialize_field("p99", &some(self.p99))?;
        st.serialize_field("min", &some(self.min))?;
        st.serialize_field("max", &some(self.max))?;
        st.serialize_field("mean_ci95", &some(self.mean_ci95))?;
        st.end()
    }
}

impl Stats {
    /// Summarizes a bounded-memory sample: exactly (as [`Stats::of`]) while it holds every
    /// value, else from its histogram (quantiles within 0.05 %) and its exact running sums.
    pub fn of_sample(sample: &Sample) -> Stats {
        if let Some(mut v) = sample.sorted_exact() {
            return Stats::of(&mut v);
        }
        let n = sample.len();
        let (sum, sum_sq) = sample.sums();
        let mean = sum / n as f64;
        let var = ((sum_sq - sum * mean) / (n - 1) as f64).max(0.0);
        let t = t_975((n - 1) as f64);
        let (min, max) = sample.min_max();
        Stats {
            n,
            mean,
            p50: sample.quantile(0.50),
            p95: sample.quantile(0.95),
            p99: sample.quantile(0.99),
            min,
            max,
            mean_ci95: t * (var / n as f64).sqrt(),
        }
    }

    /// Summarizes a bounded-memory sample as [`Stats::of_sample`] does, with its CDF values
    /// ([`Sample::cdf_values`]), sorting its exact values once for both.
    pub fn of_sample_with_cdf(sample: &Sample, points: usize) -> (Stats, Vec<f64>) {
        match sample.sorted_exact() {
            Some(mut v) => {
                let stats = Stats::of(&mut v);
                (stats, v)
            }
            None => (Stats::of_sample(sample), sample.cdf_values(points)),
        }
    }

    /// Summarizes a sample (sorted in place). An empty sample gives all zeros.
    pub fn of(values: &mut [f64]) -> Stats {
        if values.is_empty() {
            return Stats::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let mean = values.iter().fold(0.0, |a, b| a + b) / n as f64;
        let mean_ci95 = if n >= 2 {
            let var = values.iter().map(|v| (v - mean) * (v - mean)).fold(0.0, |a, b| a + b) / (n - 1) as f64;
            let t = t_975((n - 1) as f64);
            t * (var / n as f64).sqrt()
        } else {
            0.0
        };
        Stats {
            n: n as u64,
            mean,
            p50: quantile_sorted(values, 0.50),
            p95: quantile_sorted(values, 0.95),
            p99: quantile_sorted(values, 0.99),
            min: values[0],
            max: values[n - 1],
            mean_ci95,
        }
    }
}

/// Seconds per latency component (see `sfsim_platform::Breakdown`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BreakdownSummary {
    /// Waiting for a new instance.
    pub cold_start: f64,
    /// Waiting in a queue or for a free instance, host or slot.
    pub queue: f64,
    /// Step Functions transitions and Map concurrency waits.
    pub scheduling: f64,
    /// CPU and non-storage I/O.
    pub execution: f64,
    /// Durable history load and replay.
    pub replay: f64,
    /// Storage transfers (objects, large messages, history, entity state).
    pub transfer: f64,
    /// Waiting for a busy entity.
    pub entity: f64,
}

impl BreakdownSummary {
    fn from_fn(f: impl Fn(usize) -> f64) -> Self {
        BreakdownSummary { cold_start: f(0), queue: f(1), scheduling: f(2), execution: f(3), replay: f(4), transfer: f(5), entity: f(6) }
    }
    /// The sum of the parts.
    pub fn total(&self) -> f64 {
        self.cold_start + self.queue + self.scheduling + self.execution + self.replay + self.transfer + self.entity
    }
}

/// Dollars per execution, by kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CostSummary {
    /// GB-s.
    pub compute: f64,
    /// Requests / executions.
    pub requests: f64,
    /// Storage-account transactions.
    pub transactions: f64,
    /// State transitions.
    pub transitions: f64,
    /// Object-storage requests.
    pub storage: f64,
    /// Instance time billed whatever the load (Premium instance-seconds, Flex always-ready
    /// baselines); absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub instances: f64,
    /// Sum.
    pub total: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl From<Cost> for CostSummary {
    fn from(c: Cost) -> Self {
        CostSummary {
            compute: c.compute,
            requests: c.requests,
            transactions: c.transactions,
            transitions: c.transitions,
            storage: c.storage,
            instances: c.instances,
            total: c.total(),
        }
    }
}

/// Everything reported for one deployment of a scenario.
#[derive(Clone, Debug, Serialize)]
pub struct DeploymentSummary {
    /// Deployment name.
    pub deployment: String,
    /// Executions that arrived (all replications).
    pub iterations: u64,
    /// Executions that completed.
    pub completed: u64,
    /// Executions that failed with a platform error.
    pub failed: u64,
    /// Executions rejected for lack of concurrency.
    pub throttled: u64,
    /// Failures by the platform's error name.
    pub errors: BTreeMap<String, u64>,
    /// End-to-end latency of completed executions, s.
    pub latency_s: Stats,
    /// Further latency quantiles asked for (`--quantiles`), by quantile (`"0.999"`); null when
    /// no execution completed.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub latency_quantiles_s: BTreeMap<String, Option<f64>>,
    /// Mean seconds per component (completed executions); sums to `latency_s.mean`.
    pub breakdown_s: BreakdownSummary,
    /// 99th percentile of each component, s.
    pub breakdown_p99_s: BreakdownSummary,
    /// Executions that waited for a new instance.
    pub cold_starts: u64,
    /// Cold-start delay of those executions (their cold-start component), s.
    pub cold_start_s: Stats,
    /// From arrival to the start of the workflow's first function, completed executions, s.
    pub start_delay_s: Stats,
    /// The study's cold-start measure over the executions that waited for a new instance:
    /// Durable Pending -> Running (instance created by the starter to the first checkpoint),
    /// every other deployment the request (Step: start state) to the first function's start, s.
    pub cold_start_delay_s: Stats,
    /// From the request to the start of the first workflow function (for Durable, the
    /// orchestrator: this includes the HTTP starter's host start), over cold executions, s.
    pub request_cold_start_delay_s: Stats,
    /// Billed GB-s per execution.
    pub gb_s: f64,
    /// Executed (unrounded) seconds on an instance per execution.
    pub executed_s: f64,
    /// Billed seconds per execution.
    pub billed_s: f64,
    /// Dollars per execution.
    pub cost_usd: CostSummary,
    /// Object-storage GETs per execution.
    pub storage_gets: f64,
    /// Object-storage PUTs per execution.
    pub storage_puts: f64,
    /// Instances (hosts) created, all replications.
    pub instances_started: u64,
    /// Most instances alive at once in any replication.
    pub instances_peak: u64,
    /// Simulation events handled.
    pub events: u64,
    /// Storage-account transactions per execution by kind, including the execution's share of
    /// the idle transactions (stateful Azure deployments).
    pub transactions: TransactionSummary,
    /// Step Functions state transitions per execution.
    pub transitions: f64,
    /// Durable orchestrator episodes that replayed, per execution.
    pub replays: f64,
    /// Billed function executions (invocations, episodes, entity batches) per execution.
    pub invocations: f64,
    /// Transactions that accrue whatever the load (idle polling, peeks, lease renewals).
    pub idle: IdleSummary,
    /// Fan-out workers: seconds from being scheduled to starting.
    pub worker_scheduling_delay_s: Stats,
    /// Fan-out workers: seconds from being scheduled to finishing.
    pub worker_latency_s: Stats,
    /// The fan-outs whose input is cut into payload-sized chunks (`chunks_of_kb`) on this
    /// deployment, in the workflow's fan-out order: chunks, and workers asked for and started
    /// per execution (a worker without a chunk is not started). `None` (JSON `null`) when no
    /// fan-out of the workflow has `chunks_of_kb`.
    pub fan_out_chunks: Option<Vec<FanOutChunks>>,
    /// Completed executions per second from the first arrival to the last completion, the mean
    /// over replications; null under 10 completions.
    pub throughput_per_s: Option<f64>,
    /// Seconds from the end of one workflow function to the start of the next on the same
    /// path, pooled over hops (SeBS-Flow's `chain_gap_s`; none for single-function deployments).
    pub chain_gap_s: Stats,
    /// How the gap grows along the path, s per hop: the least-squares slope of the gap's median
    /// at each position (first hop, second, ...) against the position, over the positions with
    /// at least 10 gaps; null with fewer than 3 such positions. A Durable chain's gap grows
    /// with the history each episode replays (calibration/README.md, session 24). Meaningful
    /// for chains only: a fan-out's gaps share a position (`RunOutput::chain_gap_by_hop_s`).
    pub chain_gap_slope_s_per_hop: Option<f64>,
    /// Completed executions: seconds from the first workflow function's start to the last one's
    /// end (SeBS-Flow's end-to-end; none for single-function deployments).
    pub function_span_s: Stats,
    /// The raw per-worker samples (scheduling delay, latency), sorted, for pooling across runs;
    /// not part of the JSON output.
    #[serde(skip)]
    pub worker_samples_s: (Vec<f64>, Vec<f64>),
    /// End-to-end latencies of the completed executions, sorted (for CDFs); not in the JSON.
    #[serde(skip)]
    pub latency_samples_s: Vec<f64>,
}

/// A fan-out whose input is cut into chunks of the deployment's payload limit (`chunks_of_kb`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FanOutChunks {
    /// The fan-out (`[workflow.fan_out.<name>]`).
    pub fan_out: String,
    /// The size of a chunk: the deployment's payload limit, bytes.
    pub chunk_bytes: u64,
    /// Chunks the fan-out's input (`chunks_of_kb`) is cut into, per execution.
    pub chunks: u32,
    /// Workers the fan-out asks for (`items`), per execution.
    pub workers_requested: u32,
    /// Workers started per execution: the smaller of `chunks` and `workers_requested`.
    pub workers_started: u32,
}

impl FanOutChunks {
    /// The chunked fan-outs of `workflow` on a deployment whose payload limit is `chunk_bytes`;
    /// `None` when no fan-out has chunks.
    pub fn of(workflow: &sfsim_workflow::Workflow, chunk_bytes: u64) -> Option<Vec<FanOutChunks>> {
        let v: Vec<FanOutChunks> = workflow
            .fan_outs
            .iter()
            .filter_map(|f| {
                f.chunks(chunk_bytes).map(|chunks| FanOutChunks {
                    fan_out: f.name.clone(),
                    chunk_bytes,
                    chunks,
                    workers_requested: f.items,
                    workers_started: f.item_count(chunk_bytes),
                })
            })
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

impl DeploymentSummary {
    /// A sentence per chunked fan-out that starts fewer workers than it asks for on this
    /// deployment (`aws-step: fan-out `workers` cuts its input into 400 chunks of 256 KiB (the
    /// payload limit), so 400 of its 1000 workers run`); empty when every worker starts.
    pub fn fan_out_notes(&self) -> Vec<String> {
        self.fan_out_chunks
            .iter()
            .flatten()
            .filter(|c| c.workers_started < c.workers_requested)
            .map(|c| {
                format!(
                    "{}: fan-out `{}` cuts its input into {} chunks of {} KiB (the payload limit), so {} of its {} workers run",
                    self.deployment,
                    c.fan_out,
                    c.chunks,
                    c.chunk_bytes / 1024,
                    c.workers_started,
                    c.workers_requested
                )
            })
            .collect()
    }
}

/// The fan-outs that start fewer workers than they ask for, gathered over many runs (a
/// sweep's trials, a reproduction's experiments) to be said once per deployment and fan-out.
#[derive(Clone, Debug, Default)]
pub struct FanOutNotes {
    /// (deployment, fan-out, chunk bytes, chunks) -> (workers asked for, where).
    seen: BTreeMap<(String, String, u64, u32), (std::collections::BTreeSet<u32>, std::collections::BTreeSet<String>)>,
}

impl FanOutNotes {
    /// Notes the short-started fan-outs of `s`, run in `context` (a trial, an experiment).
    pub fn add(&mut self, s: &DeploymentSummary, context: &str) {
        for c in s.fan_out_chunks.iter().flatten().filter(|c| c.workers_started < c.workers_requested) {
            let e = self.seen.entry((s.deployment.clone(), c.fan_out.clone(), c.chunk_bytes, c.chunks)).or_default();
            e.0.insert(c.workers_requested);
            e.1.insert(context.to_string());
        }
    }

    /// Adds the notes of `other`.
    pub fn merge(&mut self, other: &FanOutNotes) {
        for (k, (asked, contexts)) in &other.seen {
            let e = self.seen.entry(k.clone()).or_default();
            e.0.extend(asked.iter().copied());
            e.1.extend(contexts.iter().cloned());
        }
    }

    /// One sentence per deployment and fan-out, with the contexts it was seen in.
    pub fn sentences(&self) -> Vec<(String, Vec<String>)> {
        self.seen
            .iter()
            .map(|((d, f, bytes, chunks), (asked, contexts))| {
                let asked: Vec<String> = asked.iter().map(u32::to_string).collect();
                (
                    format!(
                        "{d}: fan-out `{f}` cuts its input into {chunks} chunks of {} KiB (the payload limit), so {chunks} workers run where {} are asked for",
                        bytes / 1024,
                        asked.join(", ")
                    ),
                    contexts.iter().cloned().collect(),
                )
            })
            .collect()
    }
}

/// Storage transactions per execution, by kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TransactionSummary {
    /// Queue: put, get, delete, polls, peeks.
    pub queue: f64,
    /// Table: history, instances, entity state.
    pub table: f64,
    /// Blob: large messages, large state, leases.
    pub blob: f64,
}

/// Idle transactions over the whole run (all replications).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IdleSummary {
    /// Queue transactions (empty polls, scale-controller peeks).
    pub queue_transactions: u64,
    /// Blob transactions (lease renewals).
    pub blob_transactions: u64,
    /// Their cost, dollars.
    pub cost_usd: f64,
    /// Simulated time covered, seconds (all replications).
    pub simulated_s: f64,
    /// Instance time billed whatever the load (Premium instances, Flex always-ready
    /// baselines), dollars over the run; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub instances_usd: f64,
    /// Seconds those instances existed, summed over instances; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub instance_s: f64,
}

/// Summarizes the replications of one deployment (their folds combined in replication order).
pub fn summarize(deployment: &str, runs: &[RunOutput]) -> DeploymentSummary {
    let mut f = RunFold::default();
    for r in runs {
        f.merge(&r.fold);
    }
    let nd = f.completed.max(1) as f64;
    let breakdown_s = BreakdownSummary::from_fn(|k| f.parts_s[k].sums().0 / nd);
    let breakdown_p99_s = BreakdownSummary::from_fn(|k| f.parts_s[k].quantile(0.99));
    let na = f.arrived.max(1) as f64;
    let t = &f.totals;
    let mut cost = t.cost;
    let idle_cost: f64 = runs.iter().map(|r| r.idle_cost_usd).fold(0.0, |a, b| a + b);
    cost.transactions += idle_cost;
    let instances_usd: f64 = runs.iter().map(|r| r.instance_cost_usd).fold(0.0, |a, b| a + b);
    cost.instances += instances_usd;
    let idle = IdleSummary {
        queue_transactions: runs.iter().map(|r| r.idle.queue_transactions).sum(),
        blob_transactions: runs.iter().map(|r| r.idle.blob_transactions).sum(),
        cost_usd: idle_cost,
        simulated_s: runs.iter().map(|r| r.end_time.as_secs_f64()).fold(0.0, |a, b| a + b),
        instances_usd,
        instance_s: runs.iter().map(|r| r.instance_s).fold(0.0, |a, b| a + b),
    };
    let transactions = TransactionSummary {
        queue: t.counts.queue_transactions as f64 / na + idle.queue_transactions as f64 / na,
        table: t.counts.table_transactions as f64 / na,
        blob: t.counts.blob_transactions as f64 / na + idle.blob_transactions as f64 / na,
    };
    let (mut delays, mut worker_lat, mut gaps, mut spans) = (Sample::new(), Sample::new(), Sample::new(), Sample::new());
    let mut gaps_by_hop: Vec<Sample> = Vec::new();
    for r in runs {
        delays.merge(&r.worker_scheduling_delay_s);
        worker_lat.merge(&r.worker_latency_s);
        gaps.merge(&r.chain_gap_s);
        spans.merge(&r.function_span_s);
        if gaps_by_hop.len() < r.chain_gap_by_hop_s.len() {
            gaps_by_hop.resize_with(r.chain_gap_by_hop_s.len(), Sample::new);
        }
        for (m, s) in gaps_by_hop.iter_mut().zip(&r.chain_gap_by_hop_s) {
            m.merge(s);
        }
    }
    const CDF_POINTS: usize = 10_000;
    let (latency_s, latency_samples_s) = Stats::of_sample_with_cdf(&f.latency_s, CDF_POINTS);
    let (worker_scheduling_delay_s, delay_samples_s) = Stats::of_sample_with_cdf(&delays, CDF_POINTS);
    let (worker_latency_s, worker_latency_samples_s) = Stats::of_sample_with_cdf(&worker_lat, CDF_POINTS);
    DeploymentSummary {
        deployment: deployment.to_string(),
        iterations: f.arrived,
        completed: f.completed,
        failed: f.failed,
        throttled: f.throttled,
        errors: f.errors.clone(),
        latency_s,
        latency_quantiles_s: BTreeMap::new(),
        latency_samples_s,
        breakdown_s,
        breakdown_p99_s,
        cold_starts: f.cold_start_s.len(),
        start_delay_s: Stats::of_sample(&f.start_delay_s),
        cold_start_delay_s: Stats::of_sample(&f.cold_start_delay_s),
        request_cold_start_delay_s: Stats::of_sample(&f.request_cold_start_delay_s),
        cold_start_s: Stats::of_sample(&f.cold_start_s),
        gb_s: t.gb_s / na,
        executed_s: t.executed_s / na,
        billed_s: t.billed_s / na,
        cost_usd: cost.scaled(1.0 / na).into(),
        storage_gets: t.storage_gets as f64 / na,
        storage_puts: t.storage_puts as f64 / na,
        instances_started: runs.iter().map(|r| u64::from(r.instances_started)).sum(),
        instances_peak: runs.iter().map(|r| u64::from(r.instances_peak)).max().unwrap_or(0),
        events: runs.iter().map(|r| r.events).sum(),
        transitions: t.counts.transitions as f64 / na,
        replays: t.counts.replays as f64 / na,
        invocations: t.invocations_at_least_one as f64 / na,
        transactions,
        idle,
        worker_scheduling_delay_s,
        worker_latency_s,
        fan_out_chunks: None,
        chain_gap_s: Stats::of_sample(&gaps),
        chain_gap_slope_s_per_hop: median_slope(&gaps_by_hop),
        function_span_s: Stats::of_sample(&spans),
        throughput_per_s: {
            let per_run: Vec<f64> = runs.iter().filter_map(|r| r.fold.throughput_per_s()).collect();
            (!per_run.is_empty()).then(|| per_run.iter().sum::<f64>() / per_run.len() as f64)
        },
        worker_samples_s: (delay_samples_s, worker_latency_samples_s),
    }
}

/// Least-squares slope of the medians of `by_position` (element `k` at `x = k`) against the
/// position, over the positions with at least 10 values; `None` under 3 such positions.
fn median_slope(by_position: &[Sample]) -> Option<f64> {
    const MIN_PER_POSITION: u64 = 10;
    let points: Vec<(f64, f64)> =
        by_position.iter().enumerate().filter(|(_, s)| s.len() >= MIN_PER_POSITION).map(|(k, s)| (k as f64, s.quantile(0.5))).collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    Some(sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_slope_is_the_least_squares_slope_of_the_medians_by_position() {
        let sample = |vals: &[f64]| {
            let mut s = Sample::new();
            for &v in vals {
                s.push(v);
            }
            s
        };
        // Medians 1, 3, 5 at positions 0, 1, 2 (outliers do not move a median): slope 2.
        let ten = |m: f64| sample(&[m - 1.0, m, m, m, m, m, m, m, m + 1.0, m + 50.0]);
        let slope = median_slope(&[ten(1.0), ten(3.0), ten(5.0)]).expect("three positions");
        assert!((slope - 2.0).abs() < 1e-12, "{slope}");
        // A position with fewer than 10 gaps is left out; two positions are too few.
        assert_eq!(median_slope(&[ten(1.0), ten(3.0), sample(&[100.0])]), None);
        let slope = median_slope(&[ten(1.0), sample(&[100.0]), ten(3.0), ten(4.0)]).expect("three positions");
        // Points (0, 1), (2, 3), (3, 4): slope 1.
        assert!((slope - 1.0).abs() < 1e-12, "{slope}");
    }

    #[test]
    fn type7_quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert!((quantile_sorted(&v, 0.95) - 8.8).abs() < 1e-12); // numpy.percentile(v, 95)
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 10.0);
        let s = Stats::of(&mut [2.0, 4.0]);
        assert_eq!(s.mean, 3.0);
        // t(0.975, 1 dof) = 12.706; sd = sqrt(2); half-width = 12.706 * sqrt(2) / sqrt(2).
        assert!((s.mean_ci95 - 12.7062).abs() < 1e-3, "{}", s.mean_ci95);
        // Many degrees of freedom: the normal quantile, at once.
        assert!((t_975(3e7) - 1.95996).abs() < 1e-5);
        assert!((t_975(1e4) - 1.96020).abs() < 1e-4);
    }
}
