//! # sfsim-platform
//!
//! Platform mechanisms, one module each, and the one simulation world that composes them for
//! all six deployments. No I/O except reading model files.
//!
//! ```text
//!  models/*.toml ─► params ─┐
//!                           ├─► deployment::FunctionPlatform ─► world::DeploymentPlan ─► world::simulate ─► RunOutput
//!  scenario settings ───────┘   (what a function platform is)    (apps + a driver)         (one replication)
//! ```
//!
//! | module | models |
//! |---|---|
//! | [`cpu`] | memory-proportional CPU share, processor sharing on a host |
//! | [`coldstart`] | runtime start + package load + init |
//! | [`scaling`] | Lambda burst-then-linear, Azure one-host-per-interval |
//! | [`storage`] | S3 / Blob latency, bandwidth, request prices |
//! | [`billing`] | Lambda configured-memory and Azure observed-memory bills |
//! | [`queue_polling`] | randomized exponential backoff of storage-queue pollers |
//! | [`payload`] | payload limits: inline, through storage, or the platform's failure |
//! | [`error`] | every platform failure, with the platform's own error name |
//! | [`workload`] | a step's work, drawn the same on every deployment |
//! | [`world`] | the event loop, the instance pool, and one driver per kind of deployment |
#![warn(missing_docs)]

pub mod billing;
pub mod coldstart;
pub mod cpu;
pub mod deployment;
pub mod error;
pub mod params;
pub mod payload;
pub mod queue_polling;
pub mod record;
pub mod scaling;
pub mod storage;
pub mod trace;
pub mod workload;
pub mod world;

pub use billing::Cost;
pub use deployment::{ConfigError, Deployment, FunctionPlatform};
pub use error::PlatformError;
pub use params::{Models, OverrideError};
pub use record::{Breakdown, ExecRecord, ExecSink, FunctionSpan, Outcome, RunOutput};
pub use trace::{TraceEvent, TraceSink};
pub use world::{DeploymentPlan, Driver, RunSpec, Sinks, simulate};
