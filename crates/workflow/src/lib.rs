//! # sfsim-workflow
//!
//! The platform-neutral description of what runs: a scenario file holds the workflow (steps,
//! sequences, parallel branches, fan-outs, state objects), the arrival process, the deployments to
//! compare and per-deployment settings (memory, code package size). Nothing here knows how a
//! platform runs it; `sfsim-platform` does.
//!
//! ```text
//!  scenario.toml ──(--set overrides)──► text ──serde (Raw*, deny_unknown_fields)──► RawScenario
//!                                                                    │ validate
//!                                                                    ▼
//!                               Scenario { workflow: Workflow, arrivals: Arrivals, ... }
//! ```
//!
//! Every error is a [`LoadError`] naming the file, line:column and dotted key path.
#![warn(missing_docs)]

pub mod asl;
mod dist;
mod entities;
mod overrides;
mod scenario;
mod source;

pub use dist::{Dist, MAX_SECONDS, RawDist};
pub use overrides::{Override, apply_overrides};
pub use scenario::*;
pub use source::{KeyError, LoadError, SourceFile, parse_toml};

/// A number for messages: as written below 10^15, in scientific notation above (`1e308`,
/// not 309 digits).
pub fn short_number(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e15 { format!("{v}") } else { format!("{v:e}") }
}
