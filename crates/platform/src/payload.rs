//! Payload limits: one check for every platform.
//!
//! **Models.** Every payload a platform carries (a function's request and response, a Step
//! Functions state's input and output, a storage-queue or Durable message) is checked the same
//! way against a [`PayloadLimit`]: above `offload_above_bytes` it travels through blob or
//! object storage (the platform writes it there and passes a reference: extra latency and blob
//! transactions, charged by the caller); above `fail_above_bytes` the platform fails with its
//! own error ([`crate::PlatformError`]). A limit may have either, both or neither.
//!
//! | payload | offload above | fail above | source |
//! |---|---|---|---|
//! | Lambda request / response | - | 6 MB (sync invoke) | `models/aws-lambda.toml` |
//! | Azure HTTP request / response | - | 100 MB | `models/az-func.toml` |
//! | Step Functions state input / output | - | 256 KB (`States.DataLimitExceeded`) | `models/aws-step.toml` |
//! | storage-queue message (az-queue) | 48 KB (64 KB base64-encoded) | - | `models/az-storage.toml` |
//! | Durable message | 45 KB (DTFx `MessageManager`) | 64 KB with `payload_limit_mode = "fail"` | `models/az-durable.toml` |
//!
//! **Validation.** Unit tests below; `tests/stateful_mechanisms.rs` (a 300 KB Step payload
//! fails, a 50 KB Durable message takes the blob path, the fail mode fails above 64 KB),
//! `crates/platform/tests/stateless_lifecycle.rs` (an oversized request fails at the door).

use crate::error::PlatformError;

/// What happens to a payload of a given size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadVerdict {
    /// Carried inline.
    Inline,
    /// Carried through blob or object storage.
    Offload,
    /// Refused: the platform fails with this error.
    Fail(PlatformError),
}

/// Which platform error a payload over the limit raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// A function's request (the platform's error name).
    Request(&'static str),
    /// A function's response.
    Response(&'static str),
    /// A Step Functions state's data.
    StepData,
    /// A Durable Functions message.
    Durable,
}

/// One payload limit; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadLimit {
    /// Payloads above this go through blob or object storage.
    pub offload_above_bytes: Option<u64>,
    /// Payloads above this fail.
    pub fail_above_bytes: Option<u64>,
    /// The error a failing payload raises.
    pub error: PayloadError,
}

impl PayloadLimit {
    /// A limit that only fails (no offload).
    pub fn failing(fail_above_bytes: u64, error: PayloadError) -> PayloadLimit {
        PayloadLimit { offload_above_bytes: None, fail_above_bytes: Some(fail_above_bytes), error }
    }

    /// What happens to a payload of `bytes`.
    pub fn check(&self, bytes: u64) -> PayloadVerdict {
        if let Some(limit) = self.fail_above_bytes
            && bytes > limit
        {
            let (payload_kb, limit_kb) = (bytes / 1024, limit / 1024);
            return PayloadVerdict::Fail(match self.error {
                PayloadError::Request(name) => PlatformError::RequestTooLarge(name),
                PayloadError::Response(name) => PlatformError::ResponseTooLarge(name),
                PayloadError::StepData => PlatformError::StepDataLimit { payload_kb, limit_kb },
                PayloadError::Durable => PlatformError::DurablePayload { payload_kb, limit_kb },
            });
        }
        match self.offload_above_bytes {
            Some(limit) if bytes > limit => PayloadVerdict::Offload,
            _ => PayloadVerdict::Inline,
        }
    }

    /// The error of a payload of `bytes`, if it fails.
    pub fn failure(&self, bytes: u64) -> Option<PlatformError> {
        match self.check(bytes) {
            PayloadVerdict::Fail(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a payload of `bytes` goes through storage.
    pub fn offloads(&self, bytes: u64) -> bool {
        self.check(bytes) == PayloadVerdict::Offload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_offloads_then_fails() {
        let durable =
            PayloadLimit { offload_above_bytes: Some(45 * 1024), fail_above_bytes: Some(64 * 1024), error: PayloadError::Durable };
        assert_eq!(durable.check(45 * 1024), PayloadVerdict::Inline);
        assert_eq!(durable.check(50 * 1024), PayloadVerdict::Offload);
        assert_eq!(durable.check(65 * 1024), PayloadVerdict::Fail(PlatformError::DurablePayload { payload_kb: 65, limit_kb: 64 }));
        let step = PayloadLimit::failing(256 * 1024, PayloadError::StepData);
        assert_eq!(step.failure(300 * 1024), Some(PlatformError::StepDataLimit { payload_kb: 300, limit_kb: 256 }));
        assert!(!step.offloads(300 * 1024));
        let request = PayloadLimit::failing(6 * 1024 * 1024, PayloadError::Request("RequestEntityTooLargeException"));
        assert_eq!(request.failure(7 * 1024 * 1024), Some(PlatformError::RequestTooLarge("RequestEntityTooLargeException")));
        assert_eq!(request.check(1024), PayloadVerdict::Inline);
    }
}
