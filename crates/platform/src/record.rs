//! What a simulated execution leaves behind: outcome, latency breakdown, bill.

use sfsim_engine::{Sample, SimDuration, SimTime};

use crate::billing::Cost;
use crate::error::PlatformError;

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It finished.
    Completed,
    /// The platform refused, rejected or aborted it with its own error (throttle, payload,
    /// timeout, history limit, ...).
    Failed {
        /// What the platform reported.
        error: PlatformError,
    },
}

impl Outcome {
    /// Refused for lack of concurrency (`TooManyRequestsException`).
    pub fn is_throttled(&self) -> bool {
        matches!(self, Outcome::Failed { error } if error.is_throttle())
    }

    /// Failed for any other reason than a throttle.
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { error } if !error.is_throttle())
    }
}

/// Where an execution's end-to-end time went. The parts sum exactly to `end - arrival`.
///
/// For workflows with parallel branches the time is attributed along the critical path: at a
/// join, the branch that finished last lends its breakdown to the time since the fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Waiting for an instance to be created.
    pub cold_start: SimDuration,
    /// Waiting in a queue: front-end queue, storage-queue polling, a free slot.
    pub queue: SimDuration,
    /// Orchestration overhead: Step Functions transitions, throttled transitions.
    pub scheduling: SimDuration,
    /// Running: CPU and non-storage I/O.
    pub execution: SimDuration,
    /// Durable replay: loading the history and re-running the orchestrator from the start.
    pub replay: SimDuration,
    /// Reading and writing remote storage (objects, large messages, history, entity state).
    pub transfer: SimDuration,
    /// Waiting for an entity busy with other operations.
    pub entity: SimDuration,
}

/// One component of a [`Breakdown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// See [`Breakdown::cold_start`].
    ColdStart,
    /// See [`Breakdown::queue`].
    Queue,
    /// See [`Breakdown::scheduling`].
    Scheduling,
    /// See [`Breakdown::execution`].
    Execution,
    /// See [`Breakdown::replay`].
    Replay,
    /// See [`Breakdown::transfer`].
    Transfer,
    /// See [`Breakdown::entity`].
    Entity,
}

impl Breakdown {
    /// Names of the components, in output order.
    pub const NAMES: [&'static str; 7] = ["cold_start", "queue", "scheduling", "execution", "replay", "transfer", "entity"];

    /// The components in [`Breakdown::NAMES`] order.
    pub fn parts(&self) -> [SimDuration; 7] {
        [self.cold_start, self.queue, self.scheduling, self.execution, self.replay, self.transfer, self.entity]
    }

    /// Their sum.
    pub fn total(&self) -> SimDuration {
        self.parts().into_iter().sum()
    }

    /// Adds `d` to component `c`.
    pub fn add(&mut self, c: Component, d: SimDuration) {
        match c {
            Component::ColdStart => self.cold_start += d,
            Component::Queue => self.queue += d,
            Component::Scheduling => self.scheduling += d,
            Component::Execution => self.execution += d,
            Component::Replay => self.replay += d,
            Component::Transfer => self.transfer += d,
            Component::Entity => self.entity += d,
        }
    }

    /// Adds every component of `o`.
    pub fn add_all(&mut self, o: &Breakdown) {
        for (c, d) in Component::ALL.into_iter().zip(o.parts()) {
            self.add(c, d);
        }
    }
}

impl Component {
    /// All components in [`Breakdown::NAMES`] order.
    pub const ALL: [Component; 7] = [
        Component::ColdStart,
        Component::Queue,
        Component::Scheduling,
        Component::Execution,
        Component::Replay,
        Component::Transfer,
        Component::Entity,
    ];
}

/// One execution's record.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecRecord {
    /// Index in arrival order within its replication.
    pub id: u32,
    /// When it arrived.
    pub arrival: SimTime,
    /// When it ended (completed, failed or was throttled).
    pub end: SimTime,
    /// How it ended.
    pub outcome: Outcome,
    /// Where the time went.
    pub breakdown: Breakdown,
    /// Whether it waited for a new instance.
    pub cold_start: bool,
    /// Billed GB-s.
    pub gb_s: f64,
    /// Executed (unrounded) duration on the instance.
    pub executed: SimDuration,
    /// Billed duration.
    pub billed: SimDuration,
    /// Its bill.
    pub cost: Cost,
    /// Object-storage GETs.
    pub storage_gets: u32,
    /// Object-storage PUTs.
    pub storage_puts: u32,
    /// Stateful-platform counters (zero for stateless deployments).
    pub stateful: StatefulCounts,
    /// From arrival to the start of the workflow's first function (the study's cold-start
    /// measure: Durable Pending -> Running, Step Functions start -> first Lambda); `None` when
    /// no workflow function started (the execution failed or was throttled before one did).
    pub start_delay: Option<SimDuration>,
    /// Durable Functions only: from the instance's creation by the starter (runtime status
    /// Pending) to the first episode's checkpoint (status Running), the study's Durable
    /// cold-start measure (paper.md "How things were measured").
    pub pending_to_running: Option<SimDuration>,
}

/// One invocation an execution ran (for per-execution output): a workflow function, an
/// orchestrator episode, an HTTP starter, an entity batch.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSpan {
    /// What it was (`task train`, `activity reduce`, `orchestrator episode`, `function`, ...).
    pub name: String,
    /// When its code started (after any cold start and wait for a worker thread).
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// It waited for a new instance.
    pub cold: bool,
    /// It failed.
    pub failed: bool,
    /// The instance (Azure host, Lambda sandbox) that ran it: an index unique within one
    /// deployment's replication, the `N` of the timeline's `instance N` tracks.
    pub instance: u32,
}

/// Receives every execution as it ends, with the invocations it ran (`--executions`).
pub trait ExecSink: Send {
    /// Execution `r` ended; `spans` are its invocations in the order they ended.
    fn execution(&mut self, r: &ExecRecord, spans: &[FunctionSpan]);
    /// The run is over: flush, and return the first error met writing, if any.
    fn finish(&mut self) -> Option<String>;
}

/// What a stateful deployment did for one execution.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StatefulCounts {
    /// Storage-queue transactions (put, get, delete, poll, peek) attributed to the execution.
    pub queue_transactions: u64,
    /// Table transactions (history, instances, entity state).
    pub table_transactions: u64,
    /// Blob transactions (large messages, large state, leases).
    pub blob_transactions: u64,
    /// Step Functions state transitions.
    pub transitions: u64,
    /// Orchestrator episodes that replayed history.
    pub replays: u64,
    /// Billed function executions (invocations, episodes, entity batches).
    pub invocations: u64,
}

impl ExecRecord {
    /// End-to-end latency.
    pub fn latency(&self) -> SimDuration {
        self.end.saturating_since(self.arrival)
    }
}

/// What executions cost and did, summed: their bills, billed time, storage operations and
/// stateful counters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExecTotals {
    /// Dollars by kind.
    pub cost: Cost,
    /// Billed GB-s.
    pub gb_s: f64,
    /// Executed seconds.
    pub executed_s: f64,
    /// Billed seconds.
    pub billed_s: f64,
    /// Object-storage GETs.
    pub storage_gets: u64,
    /// Object-storage PUTs.
    pub storage_puts: u64,
    /// Stateful counters.
    pub counts: StatefulCounts,
    /// Billed function executions, counting at least one per execution (a request refused at
    /// the door still was a request).
    pub invocations_at_least_one: u64,
}

impl ExecTotals {
    /// Adds `o`.
    pub fn add(&mut self, o: &ExecTotals) {
        self.cost.add(&o.cost);
        self.gb_s += o.gb_s;
        self.executed_s += o.executed_s;
        self.billed_s += o.billed_s;
        self.storage_gets += o.storage_gets;
        self.storage_puts += o.storage_puts;
        self.counts.add(&o.counts);
        self.invocations_at_least_one += o.invocations_at_least_one;
    }
}

impl StatefulCounts {
    /// Adds `o`.
    pub fn add(&mut self, o: &StatefulCounts) {
        self.queue_transactions += o.queue_transactions;
        self.table_transactions += o.table_transactions;
        self.blob_transactions += o.blob_transactions;
        self.transitions += o.transitions;
        self.replays += o.replays;
        self.invocations += o.invocations;
    }
}

/// Every execution of a run folded as it ends: counts, errors by name, bounded-memory samples
/// of the latency, its parts and the cold-start measures, and summed bills. This is what the
/// summaries are made of, so a run's memory does not grow with its executions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFold {
    /// Executions that arrived.
    pub arrived: u64,
    /// Executions that completed.
    pub completed: u64,
    /// Executions that failed with a platform error other than a throttle.
    pub failed: u64,
    /// Executions refused for lack of concurrency.
    pub throttled: u64,
    /// Failures and throttles by the platform's error name.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// End-to-end latency of completed executions, s.
    pub latency_s: Sample,
    /// Each breakdown component of completed executions ([`Breakdown::NAMES`] order), s.
    pub parts_s: [Sample; 7],
    /// Cold-start component of the completed executions that waited for a new instance, s.
    pub cold_start_s: Sample,
    /// Arrival to the first function's start, completed executions, s.
    pub start_delay_s: Sample,
    /// The study's cold-start measure over completed cold executions (Durable Pending ->
    /// Running, else the start delay), s.
    pub cold_start_delay_s: Sample,
    /// The start delay of completed cold executions, s.
    pub request_cold_start_delay_s: Sample,
    /// What every execution cost, including what was charged after it ended.
    pub totals: ExecTotals,
    /// When the last completed execution ended, s since the run's start (for its throughput).
    pub last_end_s: f64,
    /// When the first execution arrived, s since the run's start.
    pub first_arrival_s: Option<f64>,
}

impl RunFold {
    /// Folds one execution's record in.
    pub fn add(&mut self, r: &ExecRecord) {
        self.arrived += 1;
        let arrival = r.arrival.as_secs_f64();
        self.first_arrival_s = Some(self.first_arrival_s.map_or(arrival, |a| a.min(arrival)));
        match &r.outcome {
            Outcome::Completed => {
                self.completed += 1;
                self.latency_s.push(r.latency().as_secs_f64());
                self.last_end_s = self.last_end_s.max(r.end.as_secs_f64());
                for (s, d) in self.parts_s.iter_mut().zip(r.breakdown.parts()) {
                    s.push(d.as_secs_f64());
                }
                // A completed execution ran code other than its starter (an orchestrator
                // episode at least), which set its start.
                let start_delay = r.start_delay.unwrap_or_else(|| panic!("completed execution {} has no start", r.id));
                self.start_delay_s.push(start_delay.as_secs_f64());
                if r.cold_start {
                    self.cold_start_s.push(r.breakdown.cold_start.as_secs_f64());
                    self.cold_start_delay_s.push(r.pending_to_running.unwrap_or(start_delay).as_secs_f64());
                    self.request_cold_start_delay_s.push(start_delay.as_secs_f64());
                }
            }
            Outcome::Failed { error } => {
                if error.is_throttle() {
                    self.throttled += 1;
                } else {
                    self.failed += 1;
                }
                *self.errors.entry(error.name()).or_insert(0) += 1;
            }
        }
        self.totals.add(&ExecTotals {
            cost: r.cost,
            gb_s: r.gb_s,
            executed_s: r.executed.as_secs_f64(),
            billed_s: r.billed.as_secs_f64(),
            storage_gets: u64::from(r.storage_gets),
            storage_puts: u64::from(r.storage_puts),
            counts: r.stateful,
            invocations_at_least_one: r.stateful.invocations.max(1),
        });
    }

    /// Completed executions per second from the first arrival to the last completion: under
    /// a load the platform keeps up with, the offered rate; under a saturating one (a burst, as
    /// Microsoft's Durable throughput tests start), what the platform sustains. `None` under 10
    /// completions.
    pub fn throughput_per_s(&self) -> Option<f64> {
        let span = self.last_end_s - self.first_arrival_s?;
        (self.completed >= 10 && span > 0.0).then(|| self.completed as f64 / span)
    }

    /// Adds another run's fold (as if its executions ended after this run's).
    pub fn merge(&mut self, o: &RunFold) {
        self.arrived += o.arrived;
        self.completed += o.completed;
        self.failed += o.failed;
        self.throttled += o.throttled;
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_insert(0) += v;
        }
        self.latency_s.merge(&o.latency_s);
        for (a, b) in self.parts_s.iter_mut().zip(&o.parts_s) {
            a.merge(b);
        }
        self.cold_start_s.merge(&o.cold_start_s);
        self.start_delay_s.merge(&o.start_delay_s);
        self.cold_start_delay_s.merge(&o.cold_start_delay_s);
        self.request_cold_start_delay_s.merge(&o.request_cold_start_delay_s);
        self.totals.add(&o.totals);
        self.last_end_s = self.last_end_s.max(o.last_end_s);
        self.first_arrival_s = match (self.first_arrival_s, o.first_arrival_s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Positions along a strand for which `RunOutput::chain_gap_by_hop_s` keeps gaps apart.
pub const CHAIN_GAP_POSITIONS: usize = 16;

/// What one replication of one deployment produced.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    /// Every execution, folded as it ended (what the summaries use).
    pub fold: RunFold,
    /// Step Functions runs and groups, Durable orchestrations and entity operations still
    /// stored when the run ended: 0 when every execution ended (each frees what it owns), so a
    /// test can catch an object no execution owns (a leak).
    pub driver_objects_left: usize,
    /// One record per arrival, in arrival order, when the run was asked to keep them
    /// ([`crate::world::RunSpec::keep_records`]); empty otherwise.
    pub executions: Vec<ExecRecord>,
    /// Instances (or hosts) created.
    pub instances_started: u32,
    /// Most instances alive at once.
    pub instances_peak: u32,
    /// Events handled.
    pub events: u64,
    /// When the last event happened.
    pub end_time: SimTime,
    /// Timeline for `--trace` (empty unless asked for, or when it was streamed to a sink).
    pub trace: Vec<crate::trace::TraceEvent>,
    /// The trace sink's first error (a streamed timeline that could not be written).
    pub trace_error: Option<String>,
    /// The execution sink's first error (executions that could not be written).
    pub executions_error: Option<String>,
    /// A trace of arrivals that could not be read (file:line: message); the run then holds
    /// the executions that arrived before it.
    pub arrival_error: Option<String>,
    /// Fan-out workers (stateful deployments): seconds from being scheduled to starting.
    pub worker_scheduling_delay_s: Sample,
    /// Fan-out workers: seconds from being scheduled to finishing.
    pub worker_latency_s: Sample,
    /// Seconds from the end of one workflow function to the start of the next one's code on
    /// the same strand (SeBS-Flow's per-hop overhead), pooled over hops; a fan-out's workers
    /// follow the function before it, and the function after a join follows the last branch.
    pub chain_gap_s: Sample,
    /// The same gaps by position along the strand: element `k` holds the `k + 1`-th hop of
    /// every strand (a fan-out's workers continue their parent's count; after a join the count
    /// is the longest branch's), for the first [`CHAIN_GAP_POSITIONS`] positions. How the gap
    /// grows along a chain measures what grows with the history (replay: calibration/README.md,
    /// session 24). Only for chains: a fan-out's W gaps share one position and the gap after a
    /// join takes the longest branch's, so for fan-out workflows the positions mix kinds of hop
    /// and their slope says nothing about the history (ExCamera's is negative).
    pub chain_gap_by_hop_s: Vec<Sample>,
    /// Completed executions: seconds from the start of the first workflow function's code to
    /// the end of the last one (SeBS-Flow's end-to-end, which leaves out the client's start
    /// and a Durable orchestrator's first and last episodes); for a single function (aws-lambda,
    /// az-func), its code's span.
    pub function_span_s: Sample,
    /// Transactions that accrue without any execution (idle polling, scale-controller peeks,
    /// lease renewals) over the run, by kind.
    pub idle: StatefulCounts,
    /// What those idle transactions cost over the run, dollars.
    pub idle_cost_usd: f64,
    /// Instance time billed whatever the load (Premium instances, Flex always-ready baselines)
    /// over the run, dollars.
    pub instance_cost_usd: f64,
    /// Seconds instances of plans billed by instance time existed, summed over instances.
    pub instance_s: f64,
}
