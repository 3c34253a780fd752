//! What a simulated execution leaves behind: outcome, latency breakdown, bill.

use sfsim_engine::{SimDuration, SimTime};

use crate::billing::Cost;

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It finished.
    Completed,
    /// The platform rejected or aborted it with its own error (payload, timeout).
    Failed {
        /// The platform's error name, e.g. `RequestEntityTooLargeException`.
        error: String,
    },
    /// Rejected for lack of concurrency (`TooManyRequestsException`).
    Throttled,
}

/// Where an execution's end-to-end time went. The parts sum exactly to `end - arrival`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Waiting for an instance to be created.
    pub cold_start: SimDuration,
    /// Waiting for a free instance or host (front-end or queue wait).
    pub queue: SimDuration,
    /// Running: CPU and non-storage I/O.
    pub execution: SimDuration,
    /// Reading and writing remote storage.
    pub transfer: SimDuration,
}

impl Breakdown {
    /// Names of the components, in output order.
    pub const NAMES: [&'static str; 4] = ["cold_start", "queue", "execution", "transfer"];

    /// The components in [`Breakdown::NAMES`] order.
    pub fn parts(&self) -> [SimDuration; 4] {
        [self.cold_start, self.queue, self.execution, self.transfer]
    }

    /// Their sum.
    pub fn total(&self) -> SimDuration {
        self.parts().into_iter().sum()
    }
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
}
