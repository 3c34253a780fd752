//! `aws-lambda` and `az-func`: the whole workflow in one stateless function.
//!
//! **Models.** Each execution is one invocation of one function that runs the workflow's steps
//! in order inside the function ([`World::nodes_phases`]): parallel branches and fan-out items
//! run one after another (the study's single-function implementations are plain Python), a
//! fan-out marked `split` gives each item its share of the CPU and I/O time, and objects read by
//! a fan-out body are fetched once, by the first item. The invocation goes through the instance
//! pool like every other invocation of the world: a free slot on a warm instance (most recently
//! used first); otherwise Lambda creates an instance if the account's concurrency allows it or
//! refuses the call (`TooManyRequestsException`), and Azure queues the request at the front end
//! while the scale controller adds a host (one per second for HTTP); instances idle for the
//! keep-alive time are reclaimed; an Azure host's Python worker runs one invocation's code at a
//! time.
//!
//! Limits: a request payload over the platform's limit fails at arrival with the platform's
//! error; a response over the limit fails at the end (billed); an execution running past the
//! timeout is aborted (billed for the time it ran); a step whose memory (plus the language
//! runtime's) exceeds the instance's is killed when it starts. A killed process takes its
//! instance with it: the instance is recycled once idle, so the next request there is cold.
//!
//! **Latency breakdown.** `queue` (front-end queue, waiting for a slot) + `cold_start` (waiting
//! for the instance created for it) + `execution` (CPU and I/O) + `transfer` (object storage)
//! equals the end-to-end latency exactly.
//!
//! **Parameters.** `models/aws-lambda.toml`, `models/az-func.toml` and the scenario's
//! `[deployment.<name>]` (memory, package size, init time).
//!
//! **Scope and limitations.** No network latency between client and platform; throttled calls
//! are not retried (a synchronous caller sees the error); Azure's 230 s HTTP front-end timeout
//! is not applied (the study timed completions from logs).
//!
//! **Validation.** `crates/platform/tests/stateless_lifecycle.rs` (warm reuse, keep-alive
//! expiry, throttling, payload and timeout failures, processor sharing, the breakdown sum);
//! `tests/queueing_oracle.rs` (M/M/1, Erlang B and C, Little's law through this driver).

use sfsim_engine::SimTime;
use sfsim_workflow::DeploymentConfig;

use super::{AppDef, AppId, Class, Cont, DeploymentPlan, Driver, ExecId, World};
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::params::Models;

/// Builds the plan of `aws-lambda` or `az-func`: one app, one function.
pub fn plan(deployment: Deployment, models: &Models, cfg: &DeploymentConfig) -> Result<DeploymentPlan, ConfigError> {
    let platform = FunctionPlatform::build(deployment, models, cfg)?;
    let lambda = deployment == Deployment::AwsLambda;
    let (http_interval, queue_interval, max_hosts) = (platform.http_interval(), platform.queue_interval, platform.max_hosts());
    let app = AppDef {
        name: format!("{} function", deployment.name()),
        slots: [platform.slots_per_instance, 0, 0],
        lambda,
        http_interval,
        queue_interval,
        max_hosts,
        platform,
    };
    Ok(DeploymentPlan { deployment, apps: vec![app], driver: Driver::Single, chunk_bytes: 0 })
}

impl World<'_> {
    /// Execution `e` arrived: invoke the function with the whole workflow as its body.
    pub(crate) fn single_start(&mut self, now: SimTime, e: ExecId) {
        let strand = self.main_strand(e);
        let mut phases = Vec::new();
        self.nodes_phases(e, &self.wf.flow, crate::workload::Item::ZERO, 1.0, true, AppId(0), &mut phases);
        let v = self.new_inv(AppId(0), Class::Function, e, vec![strand], phases, Cont::Single, now);
        self.invoke(now, v);
    }
}
