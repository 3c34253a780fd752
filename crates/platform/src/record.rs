//! What a simulated execution leaves behind: outcome, latency breakdown, bill.

use sfsim_engine::{SimDuration, SimTime};

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
    /// measure: Durable Pending -> Running, Step Functions start -> first Lambda).
    pub start_delay: SimDuration,
    /// Durable Functions only: from the instance's creation by the starter (runtime status
    /// Pending) to the first episode's checkpoint (status Running), the study's Durable
    /// cold-start measure (paper.md "How things were measured").
    pub pending_to_running: Option<SimDuration>,
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

/// What one replication of one deployment produced.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    /// One record per arrival, in arrival order.
    pub executions: Vec<ExecRecord>,
    /// Instances (or hosts) created.
    pub instances_started: u32,
    /// Most instances alive at once.
    pub instances_peak: u32,
    /// Events handled.
    pub events: u64,
    /// When the last event happened.
    pub end_time: SimTime,
    /// Timeline for `--trace` (empty unless asked for).
    pub trace: Vec<crate::trace::TraceEvent>,
    /// Fan-out workers (stateful deployments): seconds from being scheduled to starting.
    pub worker_scheduling_delay_s: Vec<f64>,
    /// Fan-out workers: seconds from being scheduled to finishing.
    pub worker_latency_s: Vec<f64>,
    /// Transactions that accrue without any execution (idle polling, scale-controller peeks,
    /// lease renewals) over the run, by kind.
    pub idle: StatefulCounts,
    /// What those idle transactions cost over the run, dollars.
    pub idle_cost_usd: f64,
}
