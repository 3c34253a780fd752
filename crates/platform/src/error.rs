//! Every way a platform ends an execution with an error, with the platform's own error name.
//!
//! **Models.** One enum for the failures of all six deployments, so that a throttle, a payload
//! limit, a timeout or a history limit is reported the same way whichever driver met it: the
//! record's [`crate::Outcome::Failed`] carries a [`PlatformError`], the summary counts it under
//! [`PlatformError::name`] (the string the platform itself reports), and
//! [`PlatformError::is_throttle`] separates the executions the platform refused for lack of
//! concurrency from those that failed.
//!
//! | variant | platform's error | where |
//! |---|---|---|
//! | `Throttled` | `TooManyRequestsException` (Lambda invoke), `Lambda.TooManyRequestsException` (a Step Functions task) | instance pool |
//! | `RequestTooLarge` | `RequestEntityTooLargeException`, `HTTP 413 Request Entity Too Large` | arrival |
//! | `ResponseTooLarge` | `Function.ResponseSizeTooLarge`, `HTTP 500 response too large` | completion |
//! | `Timeout` | `Lambda.Timeout: Task timed out`, `Microsoft.Azure.WebJobs.Host.FunctionTimeoutException` | instance pool |
//! | `OutOfMemory` | `Runtime.ExitError ...`, `Python worker exited with code 137 ...` | instance pool |
//! | `StepDataLimit` | `States.DataLimitExceeded` (256 KB state payload) | payload limits |
//! | `StepHistoryLimit` | `States.Runtime` (25,000 history events) | Step transitions |
//! | `StepExpressTimeout` | `States.Timeout` (Express, 5 minutes) | Step driver |
//! | `StepFail` | `States.Fail: <Error>` (an ASL Fail state) | ASL driver |
//! | `DurablePayload` | the Durable Functions message-size failure (64 KB) | payload limits |
//! | `NotFinished` | sfsim's own: an execution still running 30 days after the last arrival | world |
//!
//! **Validation.** `tests/invariants.rs` and `crates/platform/tests/*` assert the names that
//! each path produces; `tests/queueing_oracle.rs` counts throttles against Erlang B.

use std::fmt;

use sfsim_engine::SimDuration;

/// A platform failure that ends an execution (or fails one task of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlatformError {
    /// No concurrency left: the platform refused the invocation.
    Throttled(&'static str),
    /// The request payload is over the platform's limit.
    RequestTooLarge(&'static str),
    /// The response payload is over the platform's limit.
    ResponseTooLarge(&'static str),
    /// The function ran past its timeout.
    Timeout(&'static str),
    /// The function's memory exceeded the instance's.
    OutOfMemory(&'static str),
    /// Step Functions: a state's input or output is over the payload limit.
    StepDataLimit {
        /// Payload, KiB.
        payload_kb: u64,
        /// Limit, KiB.
        limit_kb: u64,
    },
    /// Step Functions: the execution history is over its event limit.
    StepHistoryLimit {
        /// The limit, events.
        max_events: u32,
    },
    /// Step Functions Express: the execution ran past the Express limit.
    StepExpressTimeout {
        /// The limit.
        limit: SimDuration,
    },
    /// Step Functions: an ASL Fail state with this `Error`.
    StepFail {
        /// The state's `Error` field.
        error: String,
    },
    /// Durable Functions with `payload_limit_mode = "fail"`: a message over the limit.
    DurablePayload {
        /// Payload, KiB.
        payload_kb: u64,
        /// Limit, KiB.
        limit_kb: u64,
    },
    /// sfsim's guard: still running 30 days of simulated time after the last arrival.
    NotFinished,
}

impl PlatformError {
    /// The error as the platform reports it (the key of the summary's `errors`).
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// Whether the platform refused the work for lack of concurrency.
    pub fn is_throttle(&self) -> bool {
        matches!(self, PlatformError::Throttled(_))
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::Throttled(s)
            | PlatformError::RequestTooLarge(s)
            | PlatformError::ResponseTooLarge(s)
            | PlatformError::Timeout(s)
            | PlatformError::OutOfMemory(s) => f.write_str(s),
            PlatformError::StepDataLimit { payload_kb, limit_kb } => {
                write!(f, "States.DataLimitExceeded: state payload of {payload_kb} KB exceeds {limit_kb} KB")
            }
            PlatformError::StepHistoryLimit { max_events } => write!(f, "States.Runtime: execution history exceeds {max_events} events"),
            PlatformError::StepExpressTimeout { limit } => {
                write!(f, "States.Timeout: Express executions last at most {} s", limit.as_secs_f64())
            }
            PlatformError::StepFail { error } => write!(f, "States.Fail: {error}"),
            PlatformError::DurablePayload { payload_kb, limit_kb } => {
                write!(f, "payload of {payload_kb} KB exceeds the Durable Functions limit of {limit_kb} KB")
            }
            PlatformError::NotFinished => {
                f.write_str("sfsim: execution did not finish within 30 days of simulated time after the last arrival")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_platforms_own() {
        assert_eq!(PlatformError::Throttled("TooManyRequestsException").name(), "TooManyRequestsException");
        assert_eq!(
            PlatformError::StepDataLimit { payload_kb: 300, limit_kb: 256 }.name(),
            "States.DataLimitExceeded: state payload of 300 KB exceeds 256 KB"
        );
        assert_eq!(
            PlatformError::StepExpressTimeout { limit: SimDuration::from_secs(300) }.name(),
            "States.Timeout: Express executions last at most 300 s"
        );
        assert!(PlatformError::Throttled("Lambda.TooManyRequestsException").is_throttle());
        assert!(!PlatformError::Timeout("Lambda.Timeout: Task timed out").is_throttle());
    }
}
