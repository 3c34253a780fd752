//! # sfsim-replay
//!
//! Sizing a function app from real traffic: the invocations of the Azure Functions public traces
//! (Azure/AzurePublicDataset, 2019 and 2021 releases) are replayed through a stateless instance
//! pool with a keep-alive policy, and the replay reports cold starts and idle (kept-alive but not
//! running) instance and memory time.
//!
//! ```text
//!   trace files ──► Azure2019 / Azure2021 ──► Invocation{app, start, duration} (start order)
//!                   (streaming csv readers)          │ one at a time
//!                                                    ▼
//!                           Replayer (one per policy): per-app pool, warm reuse, cold starts,
//!                           keep-alive (fixed T | hybrid histogram) ──► PolicyReport
//! ```
//!
//! * [`trace`]: the two trace formats, streamed (memory does not grow with the number of
//!   invocations), with errors naming file and line.
//! * [`pool`]: the fast replay loop and the policies (not the general event engine: arrivals are
//!   already in time order, and an app's state is a heap of busy instances and a deque of idle
//!   ones).
//! * [`generate`]: writes synthetic traces in exactly the public formats, for tests and benches.
//!
//! Time is integer nanoseconds ([`sfsim_engine::SimTime`]); durations of the 2019 trace are drawn
//! from the named stream `replay/durations` of [`sfsim_engine::RngStreams`], so a replay is a pure
//! function of (trace files, seed, policies).
#![warn(missing_docs)]

pub mod generate;
pub mod pool;
pub mod trace;

use std::fmt;

pub use generate::{generate_2019, generate_2021};
pub use pool::{Policy, PolicyReport, Replayer, replay};
pub use trace::{Azure2019, Azure2021, Invocation, Placement, Trace};

/// Memory assumed for an app whose memory the trace does not give (every app of the 2021 trace,
/// apps missing from the 2019 memory file), MB. Assumed: about the median allocated memory of an
/// app in Shahrad et al., ATC'20 ("50 % of the applications allocate at most 170 MB", Fig. 8).
pub const DEFAULT_APP_MEMORY_MB: f64 = 170.0;

/// A bad trace file: which file, which line (1-based, 0 for the whole file) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, 0 when the error is about the whole file (unreadable, missing).
    pub line: u64,
    /// What is wrong, in words.
    pub message: String,
}

impl TraceError {
    /// An error about line `line` of `file`.
    pub fn at(file: &str, line: u64, message: impl Into<String>) -> Self {
        TraceError { file: file.to_string(), line, message: message.into() }
    }
    /// An error about the whole of `file`.
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        TraceError::at(file, 0, message)
    }
    pub(crate) fn csv(file: &str, e: &csv::Error) -> Self {
        let line = e.position().map_or(0, csv::Position::line);
        TraceError::at(file, line, format!("{e}"))
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for TraceError {}
