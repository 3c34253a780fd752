//! # sfsim-platform
//!
//! Platform mechanisms, one module each, and the deployments that compose them. No I/O except
//! reading model files.
//!
//! ```text
//!  models/*.toml ─► params ─┐
//!                           ├─► deployment::FunctionPlatform ─► stateless::simulate ─► RunOutput
//!  scenario settings ───────┘     (cpu, coldstart, scaling,          (one replication)
//!                                  storage, billing, limits)
//! ```
//!
//! | module | models |
//! |---|---|
//! | [`cpu`] | memory-proportional CPU share, processor sharing on a host |
//! | [`coldstart`] | runtime start + package load + init |
//! | [`scaling`] | Lambda burst-then-linear, Azure one-host-per-interval |
//! | [`storage`] | S3 / Blob latency, bandwidth, request prices |
//! | [`billing`] | Lambda configured-memory and Azure observed-memory bills |
//! | [`stateless`] | instances, keep-alive, slots, queueing, limits: `aws-lambda`, `az-func` |
#![warn(missing_docs)]

pub mod billing;
pub mod coldstart;
pub mod cpu;
pub mod deployment;
pub mod params;
pub mod queue_polling;
pub mod record;
pub mod scaling;
pub mod stateful;
pub mod stateless;
pub mod storage;
pub mod trace;
pub mod workload;

pub use billing::Cost;
pub use deployment::{ConfigError, Deployment, DeploymentPlan, FunctionPlatform};
pub use params::Models;
pub use record::{Breakdown, ExecRecord, Outcome, RunOutput};
pub use stateless::{RunSpec, simulate};
pub use trace::TraceEvent;
