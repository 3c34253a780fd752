//! Scenario files: the workflow, its arrivals, and the deployments to run it on.
//!
//! ```toml
//! [scenario]
//! name = "ml-training-large"
//! deployments = ["aws-lambda", "az-func"]   # default when --deployment is not given
//! iterations = 100                           # executions per replication
//! replications = 1                           # independent worlds (run in parallel)
//! seed = 1
//!
//! [arrivals]                                 # kind = interval | poisson | burst | sequential
//! kind = "sequential"
//! gap_s = 5
//!
//! [deployment.aws-lambda]                    # per-deployment settings of this workflow
//! memory_mb = 1536
//! package_mb = 63.1
//!
//! [deployment.az-dent]                        # Durable only: its own program, the same steps each
//! flow = [                                    #   as often; an entity operation may run a step
//!   { step = "prepare" },
//!   { parallel = [[{ call_entity = "model", op = "fit", step = "a" }], [{ step = "b" }]] },
//!   { fan_out = "workers" },
//! ]
//!
//! [workflow]
//! input_kb = 1
//! flow = [{ step = "prepare" }, { parallel = [[{ step = "a" }], [{ step = "b" }]] }, { fan_out = "workers" }]
//!
//! [workflow.steps.prepare]
//! cpu_s = { dist = "lognormal", median_s = 2.0, sigma = 0.05 }
//! memory_mb = 300
//! reads = [{ object = "dataset", size_mb = 3.5 }]
//!
//! [workflow.fan_out.workers]
//! items = 80            # --set workflow.fan_out.workers.items=160
//! split = true          # the body's CPU/I/O times and payloads are totals shared by the items
//! body = [{ step = "detect" }]
//! ```
//!
//! Sizes: `_kb` is KiB (1,024 bytes, as the platforms' payload limits are written: 256 KB =
//! 262,144 bytes), `_mb` is MiB.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::dist::{Dist, RawDist};
pub use crate::entities::{EntityOp, EntityOpId, EntityRef, KeyChoice, Keying, RawKeyChoice, StateId};
use crate::overrides::{Override, apply_overrides};
use crate::source::{KeyError, LoadError, SourceFile, parse_toml};

/// Bytes per KiB.
pub const BYTES_PER_KB: f64 = 1024.0;
/// Bytes per MiB.
pub const BYTES_PER_MB: f64 = 1024.0 * 1024.0;

// ---------------------------------------------------------------------------------------------
// Raw (serde) types
// ---------------------------------------------------------------------------------------------

/// A scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `[scenario]`
    pub scenario: RawMeta,
    /// `[arrivals]`
    pub arrivals: RawArrivals,
    /// `[deployment.<name>]`
    #[serde(default)]
    pub deployment: BTreeMap<String, RawDeploymentConfig>,
    /// `[workflow]`
    pub workflow: RawWorkflow,
    /// `[models.<model>]`: platform parameters replaced for this scenario.
    #[serde(default)]
    pub models: BTreeMap<String, toml::Table>,
}

/// `[scenario]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    /// Scenario name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Default deployments.
    #[serde(default)]
    pub deployments: Vec<String>,
    /// Executions per replication.
    #[serde(default = "default_iterations")]
    pub iterations: u64,
    /// Independent replications.
    #[serde(default = "default_replications")]
    pub replications: u64,
    /// Root seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Executions arriving before this many seconds warm the platform up and are left out of
    /// the statistics.
    #[serde(default)]
    pub measure_after_s: f64,
    /// The platforms' era: `study-2021` (default, the built-in models) or `2026`
    /// (`models/profiles/2026.toml`); a bare year (`--set scenario.profile=2026`) is its name.
    pub profile: Option<toml::Value>,
}

fn default_iterations() -> u64 {
    100
}
fn default_replications() -> u64 {
    1
}

/// `[arrivals]`
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawArrivals {
    /// One execution every `interval_s` (the study's one request per hour).
    Interval {
        /// Seconds between arrivals.
        interval_s: f64,
    },
    /// Poisson arrivals.
    Poisson {
        /// Mean arrivals per second.
        rate_per_s: f64,
    },
    /// Bursts of `size` arrivals at once, every `interval_s`.
    Burst {
        /// Arrivals per burst.
        size: u64,
        /// Seconds between bursts.
        #[serde(default)]
        interval_s: f64,
    },
    /// A closed loop: the next execution starts `gap_s` after the previous one ended.
    Sequential {
        /// Think time between executions, seconds.
        #[serde(default)]
        gap_s: f64,
    },
    /// A closed loop of batches: `size` executions at once; `pause_s` after the last of them
    /// ended, the next batch (a benchmark harness that waits for each batch).
    Batches {
        /// Executions per batch.
        size: u64,
        /// Seconds between a batch's last end and the next batch.
        #[serde(default)]
        pause_s: f64,
        /// Executions of a first, smaller batch before the regular ones (a harness's warm-up;
        /// 0: none). The pause follows it as it follows every batch.
        #[serde(default)]
        warmup: u64,
    },
    /// Phases of load one after another: Poisson at a rate, a linear ramp of the rate, a pause.
    Phases {
        /// The phases, in order.
        phases: Vec<RawLoadPhase>,
    },
    /// The invocations of one day of the Azure Functions 2019 trace.
    #[serde(rename = "azure-2019")]
    Azure2019 {
        /// Directory of the day's files, relative to the scenario file.
        dir: String,
        /// Day (the NN of dNN).
        #[serde(default = "default_day")]
        day: u32,
        /// Only this app (dense index in order of first appearance); all apps when absent.
        app: Option<u32>,
        /// Where a minute's invocations start in it: `random` (default) or `even` (a string,
        /// checked in validation so that an error names `arrivals.placement`: a tagged enum's
        /// own errors only name the table).
        placement: Option<String>,
    },
    /// The invocations of the Azure Functions 2021 trace.
    #[serde(rename = "azure-2021")]
    Azure2021 {
        /// The trace file, relative to the scenario file.
        file: String,
        /// Only this app; all apps when absent.
        app: Option<u32>,
    },
}

/// One phase of `kind = "phases"` arrivals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadPhase {
    /// `poisson`, `ramp` or `pause`.
    pub kind: String,
    /// How long it lasts, seconds.
    pub duration_s: f64,
    /// Poisson: arrivals per second.
    pub rate_per_s: Option<f64>,
    /// Ramp: the rate at its start and at its end, per second.
    pub from_per_s: Option<f64>,
    /// Ramp: the rate at its end.
    pub to_per_s: Option<f64>,
}

/// One phase of load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadPhase {
    /// How long it lasts, seconds.
    pub duration_s: f64,
    /// Poisson arrival rate at the phase's start and end, per second (equal for a steady phase,
    /// both 0 for a pause); the rate changes linearly in between.
    pub from_per_s: f64,
    /// Rate at the phase's end.
    pub to_per_s: f64,
}

fn default_day() -> u32 {
    1
}

/// Where the invocations a 2019 trace counts in a minute start within it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TracePlacement {
    /// Uniformly at random (seeded).
    #[default]
    Random,
    /// Evenly spaced (understates concurrency).
    Even,
}

/// An Azure Functions public trace whose invocations are a scenario's arrivals.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceFile {
    /// One day of the 2019 release.
    Azure2019 {
        /// Directory of the day's files.
        dir: std::path::PathBuf,
        /// Day.
        day: u32,
        /// Placement within a minute.
        placement: TracePlacement,
    },
    /// The 2021 release.
    Azure2021 {
        /// The file.
        file: std::path::PathBuf,
    },
}

/// `[deployment.<name>]`: how this workflow is packaged on one deployment.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDeploymentConfig {
    /// Configured memory (Lambda); Azure Consumption memory is not configurable.
    pub memory_mb: Option<f64>,
    /// Code package size loaded at cold start.
    pub package_mb: Option<f64>,
    /// Function initialization (imports) at cold start, CPU-bound.
    pub init_s: Option<RawDist>,
    /// Lambda billing granularity: 100 (2020-21) or 1 (since Dec 2020).
    pub billing_granularity_ms: Option<u64>,
    /// Durable: `"compress"` payloads over the limit into blobs (DTFx) or `"fail"` the call.
    pub payload_limit_mode: Option<PayloadLimitMode>,
    /// Durable: keep orchestrations in memory between episodes (no replay).
    pub extended_sessions: Option<bool>,
    /// Step Functions: `"standard"` or `"express"` workflow.
    pub workflow_type: Option<StepWorkflowType>,
    /// Step Functions: one Lambda function `"per-step"` (default) or `"per-flow-element"`.
    pub functions: Option<FunctionSplit>,
    /// Step Functions: how a generated machine's Map states run (`"inline"` by default).
    pub map_mode: Option<MapMode>,
    /// Durable: the storage provider (default `"azure-storage"`).
    pub backend: Option<DurableBackend>,
    /// Durable: partitions (Azure Storage 1-16, default 4; Netherite 1-32, default 12).
    pub partitions: Option<u32>,
    /// Azure: the hosting plan, `"consumption"` (default), `"flex"` or `"premium"`.
    pub plan: Option<HostingPlan>,
    /// Azure Flex Consumption: instance memory, 512, 2048 (default) or 4096 MB.
    pub instance_memory_mb: Option<u32>,
    /// Azure Elastic Premium: the instance size, `"EP1"` (default), `"EP2"` or `"EP3"`.
    pub sku: Option<PremiumSku>,
    /// Azure Flex and Premium: instances kept running whatever the load (no cold start).
    pub always_ready: Option<u32>,
    /// Azure: the most instances the app scales out to.
    pub max_instances: Option<u32>,
    /// Azure: HTTP executions one instance runs at once (Flex `perInstanceConcurrency`).
    pub http_concurrency: Option<u32>,
    /// Azure, Python: threads of the language worker (`PYTHON_THREADPOOL_THREAD_COUNT`).
    pub python_threads: Option<u32>,
    /// Azure: the language worker (default: the model's, Python).
    pub runtime: Option<Runtime>,
    /// Durable: this deployment's own orchestrator program (default: `[workflow] flow`).
    pub flow: Option<Vec<RawNode>>,
    /// The function timeout, s (Lambda's configured timeout, Azure's host.json
    /// `functionTimeout`); default: the plan's documented default in the models.
    pub timeout_s: Option<f64>,
}

/// How a generated Step Functions machine maps the workflow onto Lambda functions.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FunctionSplit {
    /// Every step is a Task with its own function; parallel nodes are Parallel states.
    PerStep,
    /// Every top-level flow element is one Task whose function runs the element's steps in
    /// order (parallel branches one after another); a fan-out stays a Map state whose
    /// iterations each run the body in one function. This is how the study's AWS-Step ML
    /// pipeline has 4 functions (paper.md Table II), like Az-Queue's chain.
    PerFlowElement,
}

/// What Durable Functions does with a payload over its limit.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PayloadLimitMode {
    /// Compress into the large-message blob container (DTFx behaviour).
    Compress,
    /// Fail the call (the study's experience with the 64 KB limit).
    Fail,
}

/// Step Functions workflow type.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StepWorkflowType {
    /// Standard: billed per state transition.
    Standard,
    /// Express: billed per request and duration.
    Express,
}

/// How a Step Functions Map state runs its iterations (`[deployment.aws-step] map_mode`, or an
/// ASL Map's `ProcessorConfig`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MapMode {
    /// Inline: iterations run inside the execution, in its history, at most 40 at once.
    #[default]
    Inline,
    /// Distributed: each iteration is a Standard child workflow execution with its own history.
    Distributed,
    /// Distributed with Express child workflow executions (billed per request and duration).
    DistributedExpress,
}

/// `[deployment.<name>] runtime`: the language worker that runs the functions.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// The out-of-process Python worker (the study's Python 3.7).
    Python,
    /// .NET (in-process or isolated): no Python thread pool.
    Dotnet,
}

/// `[deployment.<name>] backend`: the Durable Functions storage provider.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DurableBackend {
    /// Azure Storage queues, tables and blobs (the default, and the study's).
    AzureStorage,
    /// Netherite: partitions on Event Hubs, state in FASTER on page blobs.
    Netherite,
    /// Microsoft SQL Server (durabletask-mssql).
    Mssql,
    /// The Durable Task Scheduler (managed, gRPC).
    Dts,
}

impl DurableBackend {
    /// The name a scenario spells.
    pub fn name(self) -> &'static str {
        match self {
            DurableBackend::AzureStorage => "azure-storage",
            DurableBackend::Netherite => "netherite",
            DurableBackend::Mssql => "mssql",
            DurableBackend::Dts => "dts",
        }
    }
}

/// `[deployment.<name>] plan`: the Azure Functions hosting plan.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HostingPlan {
    /// The (Linux) Consumption plan of the study: 1 vCPU, 1.5 GB hosts, observed-memory billing.
    Consumption,
    /// Flex Consumption (GA 2024): chosen instance memory, per-instance concurrency,
    /// always-ready instances, billed on instance memory while executing.
    Flex,
    /// Elastic Premium: EP1-EP3 instances billed per instance-second, busy or idle.
    Premium,
}

/// `[deployment.<name>] sku`: the Elastic Premium instance size.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum PremiumSku {
    /// 1 vCPU, 3.5 GB.
    EP1,
    /// 2 vCPU, 7 GB.
    EP2,
    /// 4 vCPU, 14 GB.
    EP3,
}

/// `[workflow]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkflow {
    /// Request payload.
    #[serde(default = "default_payload_kb")]
    pub input_kb: f64,
    /// Response payload.
    #[serde(default = "default_payload_kb")]
    pub output_kb: f64,
    /// The top-level sequence (derived from `asl` when absent).
    pub flow: Option<Vec<RawNode>>,
    /// A Step Functions machine in Amazon States Language.
    pub asl: Option<crate::asl::RawAsl>,
    /// Named steps.
    pub steps: BTreeMap<String, RawStep>,
    /// Named fan-outs.
    #[serde(default)]
    pub fan_out: BTreeMap<String, RawFanOut>,
    /// Named state objects.
    #[serde(default)]
    pub state: BTreeMap<String, RawState>,
}

fn default_payload_kb() -> f64 {
    1.0
}

/// One element of a flow.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawNodeTable")]
pub enum RawNode {
    /// `{ step = "name" }`
    Step(String),
    /// `{ parallel = [[...], [...]] }`: branches run concurrently, each a sequence.
    Parallel(Vec<Vec<RawNode>>),
    /// `{ fan_out = "name" }`
    FanOut(String),
    /// `{ call_entity = "account[1]", op = "get", op_cpu_s = {...} }`: an awaited entity operation;
    /// `{ call_entity = "kneighbors", op = "fit", step = "train_kneighbors" }` runs the step's work
    /// inside the entity (a Durable deployment's own flow only).
    CallEntity(RawEntityOp),
    /// `{ signal_entity = "audit", op = "add" }`: a one-way entity operation (`step` as for a call).
    SignalEntity(RawEntityOp),
    /// `{ lock = ["account[0]", "account[1]"], body = [...] }`: a critical section.
    Lock {
        /// The entities locked.
        entities: Vec<String>,
        /// What runs while they are locked.
        body: Vec<RawNode>,
    },
}

/// The fields of an entity-operation element.
#[derive(Debug)]
pub struct RawEntityOp {
    /// `"name"` or `"name[i]"`.
    pub entity: String,
    /// Operation name (default `get` for a call, `set` for a signal).
    pub op: Option<String>,
    /// The operation's CPU-seconds.
    pub op_cpu_s: Option<RawDist>,
    /// A step whose work the operation runs inside the entity (a deployment's own flow only).
    pub step: Option<String>,
}

/// A flow element as a table, before its kind is chosen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeTable {
    step: Option<String>,
    parallel: Option<Vec<Vec<RawNode>>>,
    fan_out: Option<String>,
    call_entity: Option<String>,
    signal_entity: Option<String>,
    lock: Option<Vec<String>>,
    op: Option<String>,
    op_cpu_s: Option<RawDist>,
    body: Option<Vec<RawNode>>,
}

impl TryFrom<RawNodeTable> for RawNode {
    type Error = String;

    fn try_from(t: RawNodeTable) -> Result<RawNode, String> {
        const KINDS: &str = "`step`, `parallel`, `fan_out`, `call_entity`, `signal_entity` or `lock`";
        let entity_op = t.call_entity.is_some() || t.signal_entity.is_some();
        let kinds = [
            // `step` beside `call_entity` / `signal_entity` is the operation's work, not a kind.
            t.step.is_some() && !entity_op,
            t.parallel.is_some(),
            t.fan_out.is_some(),
            t.call_entity.is_some(),
            t.signal_entity.is_some(),
            t.lock.is_some(),
        ];
        match kinds.iter().filter(|x| **x).count() {
            0 => return Err(format!("this element is empty: it must hold exactly one of {KINDS}")),
            1 => {}
            _ => {
                return Err(format!(
                    "this element has more than one kind: it must hold exactly one of {KINDS}; put each in an element of its own \
                     (e.g. `[{{ step = \"a\" }}, {{ parallel = [...] }}]`)"
                ));
            }
        }
        if !entity_op && (t.op.is_some() || t.op_cpu_s.is_some()) {
            return Err("`op` and `op_cpu_s` belong to a `call_entity` or `signal_entity` element".into());
        }
        if t.lock.is_none() && t.body.is_some() {
            return Err("`body` belongs to a `lock` element (a fan-out's body is in [workflow.fan_out.<name>])".into());
        }
        let op = |entity| RawEntityOp { entity, op: t.op.clone(), op_cpu_s: t.op_cpu_s.clone(), step: t.step.clone() };
        Ok(if let Some(s) = t.step.clone().filter(|_| !entity_op) {
            RawNode::Step(s)
        } else if let Some(p) = t.parallel {
            RawNode::Parallel(p)
        } else if let Some(f) = t.fan_out {
            RawNode::FanOut(f)
        } else if let Some(e) = t.call_entity.clone() {
            RawNode::CallEntity(op(e))
        } else if let Some(e) = t.signal_entity.clone() {
            RawNode::SignalEntity(op(e))
        } else {
            let body = t.body.ok_or("a `lock` element needs `body`, the flow run while the entities are locked")?;
            RawNode::Lock { entities: t.lock.unwrap_or_default(), body }
        })
    }
}

/// `[workflow.fan_out.<name>]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFanOut {
    /// Number of items.
    pub items: i64,
    /// CPU and I/O times and payload sizes in the body are totals to divide among the items
    /// (remote-storage objects are not divided).
    #[serde(default)]
    pub split: bool,
    /// The input, KiB, that the flow cuts into chunks of the deployment's payload limit
    /// (paper.md "Workflow 2": 256 KB on AWS, 64 KB on Azure); the `items` workers take the
    /// chunks in turn, each doing its chunks' share of the body's totals. Needs `split`.
    pub chunks_of_kb: Option<f64>,
    /// What each item runs.
    pub body: Vec<RawNode>,
}

/// `[workflow.steps.<name>]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// CPU-bound time on one reference core (a platform runs it at its `function.cpu_speed`, the
    /// `vector_share` at its `function.vector_speed`).
    pub cpu_s: RawDist,
    /// Share of `cpu_s` spent in vectorized (SIMD) kernels such as a DNN's convolutions or BLAS,
    /// 0-1 (default 0: scalar code). A platform runs that share at its `function.vector_speed`.
    pub vector_share: Option<f64>,
    /// Threads the step's code computes on (default: the platform's `function.worker_threads`):
    /// it uses at most that many cores, or vCPUs of Lambda's credit.
    pub threads: Option<i64>,
    /// CPU-bound time on one reference core that the function's code spends on its first call
    /// on an instance, inside the call (imports and SDK clients made by the handler rather than
    /// at the instance's initialization): it runs at the instance's share, before the step's
    /// reads, and only once per instance (default 0).
    pub first_call_cpu_s: Option<f64>,
    /// Wall time not bound by the CPU (waiting on a service other than modelled storage).
    pub io_s: Option<RawDist>,
    /// Observed memory while the step runs.
    pub memory_mb: f64,
    /// Payload in.
    #[serde(default)]
    pub input_kb: f64,
    /// Payload out.
    #[serde(default)]
    pub output_kb: f64,
    /// Remote objects read.
    #[serde(default)]
    pub reads: Vec<RawObjectIo>,
    /// Remote objects written.
    #[serde(default)]
    pub writes: Vec<RawObjectIo>,
    /// State objects read.
    #[serde(default)]
    pub state_reads: Vec<String>,
    /// State objects updated.
    #[serde(default)]
    pub state_updates: Vec<String>,
}

/// A remote-storage object access.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjectIo {
    /// Object name (informational).
    pub object: String,
    /// Object size.
    pub size_mb: f64,
}

/// `[workflow.state.<name>]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// Serialized size.
    pub size_kb: f64,
    /// Number of instances (keys); default 1, one object shared by every execution.
    pub keys: Option<i64>,
    /// How an execution picks a key: `{ dist = "uniform" }` (default) or `{ dist = "zipf", exponent = 1.1 }`.
    pub key: Option<crate::entities::RawKeyChoice>,
    /// Keys each execution draws (`"name[0]"`, `"name[1]"`, ...); default 1.
    pub refs: Option<i64>,
    /// The keys an execution draws are all different.
    #[serde(default)]
    pub distinct: bool,
}

// ---------------------------------------------------------------------------------------------
// Validated types
// ---------------------------------------------------------------------------------------------

/// Index of a step in [`Workflow::steps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StepId(pub u32);
/// Index of a fan-out in [`Workflow::fan_outs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FanOutId(pub u32);

/// A validated workflow.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// Request payload, bytes.
    pub input_bytes: u64,
    /// Response payload, bytes.
    pub output_bytes: u64,
    /// The steps, in name order, then the later occurrences of steps that appear more than once
    /// in the flows (their `function` is the first occurrence): each occurrence is keyed apart
    /// by the draws of its work.
    pub steps: Vec<Step>,
    /// The top-level sequence.
    pub flow: Vec<Node>,
    /// The fan-outs, in name order.
    pub fan_outs: Vec<FanOut>,
    /// State objects, in name order.
    pub state: Vec<StateObject>,
    /// The `call_entity` and `signal_entity` elements, in flow order (fan-out bodies first, then
    /// `[workflow] flow`, then the Durable deployments' own flows by deployment name).
    pub entity_ops: Vec<EntityOp>,
    /// The Step Functions machine when the scenario gives ASL (aws-step runs it).
    pub asl: Option<crate::asl::AslMachine>,
}

/// A flow element.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Run one step.
    Step(StepId),
    /// Run branches concurrently; each branch is a sequence.
    Parallel(Vec<Vec<Node>>),
    /// Run a fan-out.
    FanOut(FanOutId),
    /// Call an entity and wait for its answer.
    CallEntity(EntityOpId),
    /// Signal an entity (one-way).
    SignalEntity(EntityOpId),
    /// Lock entities (sorted, duplicates dropped at run time), run the body, release them.
    Lock(Vec<EntityRef>, Vec<Node>),
}

/// A validated fan-out.
#[derive(Clone, Debug)]
pub struct FanOut {
    /// Its name.
    pub name: String,
    /// Number of items (>= 1).
    pub items: u32,
    /// Body durations and sizes are totals divided among the items.
    pub split: bool,
    /// Bytes cut into chunks of the deployment's payload limit and dealt to the items (workers)
    /// in turn; `None`: the items share the totals equally.
    pub chunks_of_bytes: Option<u64>,
    /// The sequence each item runs.
    pub body: Vec<Node>,
}

impl FanOut {
    /// The factor applied to body durations and sizes per item (an equal split).
    pub fn share(&self) -> f64 {
        if self.split { 1.0 / f64::from(self.items) } else { 1.0 }
    }

    /// Chunks of at most `chunk_bytes` (the deployment's payload limit) the input is cut into;
    /// `None` for a fan-out without chunks.
    pub fn chunks(&self, chunk_bytes: u64) -> Option<u32> {
        self.chunks_of_bytes.map(|total| total.div_ceil(chunk_bytes.max(1)).clamp(1, u64::from(u32::MAX)) as u32)
    }

    /// Items that run on a deployment whose payload limit is `chunk_bytes`: the workers, or
    /// fewer when there are fewer chunks than workers (a worker with no chunk is not started).
    pub fn item_count(&self, chunk_bytes: u64) -> u32 {
        self.chunks(chunk_bytes).map_or(self.items, |c| c.min(self.items))
    }

    /// Item `k`'s factor on the body's durations and sizes: with chunks, the chunks it takes
    /// (chunk j goes to worker j mod n, so the first `c mod n` workers take one more) over all
    /// chunks; else the equal split of [`FanOut::share`].
    pub fn item_share(&self, k: u32, chunk_bytes: u64) -> f64 {
        match self.chunks(chunk_bytes) {
            Some(c) => {
                let n = c.min(self.items);
                let mine = c / n + u32::from(k < c % n);
                f64::from(mine) / f64::from(c)
            }
            None => self.share(),
        }
    }
}

/// A validated step.
#[derive(Clone, Debug)]
pub struct Step {
    /// Its name.
    pub name: String,
    /// CPU-bound seconds on one reference core.
    pub cpu: Dist,
    /// Share of `cpu` spent in vectorized (SIMD) kernels, 0-1 (the rest is scalar code): each
    /// platform runs the two at its own speeds (`function.cpu_speed`, `function.vector_speed`).
    pub vector_share: f64,
    /// Threads its code computes on; `None`: the platform's `function.worker_threads`.
    pub threads: Option<u8>,
    /// Reference-core seconds its function spends on its first call on an instance, inside the
    /// call (imports and clients made by the handler): once per (instance, function).
    pub first_call_cpu_s: f64,
    /// Wall seconds not bound by the CPU.
    pub io: Dist,
    /// Observed memory, MiB.
    pub memory_mb: f64,
    /// Payload in, bytes.
    pub input_bytes: u64,
    /// Payload out, bytes.
    pub output_bytes: u64,
    /// Remote objects read, bytes each.
    pub reads_bytes: Vec<u64>,
    /// Remote objects written, bytes each.
    pub writes_bytes: Vec<u64>,
    /// State objects read (the execution's key of each).
    pub state_reads: Vec<EntityRef>,
    /// State objects updated.
    pub state_updates: Vec<EntityRef>,
    /// The step whose function runs this one: itself, or, for the second and later occurrences
    /// of a step in the flows (each a step of its own, so that its draws are its own), the first
    /// occurrence, whose name and definition it shares ([`Workflow::steps`]).
    pub function: StepId,
}

/// A named state object.
#[derive(Clone, Debug)]
pub struct StateObject {
    /// Its name.
    pub name: String,
    /// Serialized size, bytes.
    pub size_bytes: u64,
    /// Its keys and how an execution draws them.
    pub keying: Keying,
}

/// How executions arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// One every `interval_s`.
    Interval {
        /// Seconds between arrivals.
        interval_s: f64,
    },
    /// Poisson.
    Poisson {
        /// Arrivals per second.
        rate_per_s: f64,
    },
    /// `size` at once every `interval_s`.
    Burst {
        /// Arrivals per burst.
        size: u64,
        /// Seconds between bursts.
        interval_s: f64,
    },
    /// Closed loop with think time.
    Sequential {
        /// Seconds between one execution's end and the next one's start.
        gap_s: f64,
    },
    /// Poisson arrivals whose rate follows phases (steady, ramps, pauses); none after the last.
    Phases(Vec<LoadPhase>),
    /// Closed loop of batches: `size` at once, the next batch `pause_s` after the last of a
    /// batch ended.
    Batches {
        /// Executions per batch.
        size: u64,
        /// Seconds between a batch's last end and the next batch.
        pause_s: f64,
        /// Executions of a first batch before the regular ones (a harness's warm-up; 0: none).
        warmup: u64,
    },
    /// Every invocation of a public trace (of one app, or all) is an execution, at the
    /// invocation's start.
    Trace {
        /// The trace.
        file: TraceFile,
        /// Only this app.
        app: Option<u32>,
    },
}

impl Arrivals {
    /// Batches: the executions `[first, end)` of the batch execution `e` (0-based) belongs to:
    /// the warm-up batch (`warmup` executions, when there is one), then batches of `size`.
    /// `None` for the other kinds.
    pub fn batch_of(&self, e: u64) -> Option<(u64, u64)> {
        match *self {
            Arrivals::Batches { size, warmup, .. } => Some(if e < warmup {
                (0, warmup)
            } else {
                let first = warmup + (e - warmup) / size * size;
                (first, first + size)
            }),
            _ => None,
        }
    }

    /// Batches: how many batches `iterations` executions make (the warm-up counting as one).
    /// `None` for the other kinds.
    pub fn batch_count(&self, iterations: u64) -> Option<u64> {
        match *self {
            Arrivals::Batches { size, warmup, .. } => {
                Some(u64::from(warmup > 0 && iterations > 0) + iterations.saturating_sub(warmup).div_ceil(size))
            }
            _ => None,
        }
    }

    /// The time of the last arrival of `iterations` when it is known in advance (interval and
    /// burst arrivals), seconds.
    pub fn last_arrival_s(&self, iterations: u64) -> Option<f64> {
        let last = iterations.saturating_sub(1);
        match *self {
            Arrivals::Interval { interval_s } => Some(interval_s * last as f64),
            Arrivals::Burst { size, interval_s } => Some(interval_s * (last / size) as f64),
            Arrivals::Poisson { .. }
            | Arrivals::Sequential { .. }
            | Arrivals::Batches { .. }
            | Arrivals::Phases(_)
            | Arrivals::Trace { .. } => None,
        }
    }
}

/// Per-deployment settings of this workflow (all optional: the platform model has defaults).
#[derive(Clone, Debug, Default)]
pub struct DeploymentConfig {
    /// Configured memory, MiB.
    pub memory_mb: Option<f64>,
    /// Code package, MiB.
    pub package_mb: Option<f64>,
    /// Initialization time at cold start (CPU-bound seconds at one vCPU).
    pub init: Option<Dist>,
    /// Billing granularity, ms.
    pub billing_granularity_ms: Option<u64>,
    /// Durable payload-limit behaviour.
    pub payload_limit_mode: Option<PayloadLimitMode>,
    /// Durable extended sessions.
    pub extended_sessions: Option<bool>,
    /// Step Functions workflow type.
    pub workflow_type: Option<StepWorkflowType>,
    /// Step Functions: how steps map onto Lambda functions.
    pub functions: Option<FunctionSplit>,
    /// Step Functions: how a generated machine's Map states run.
    pub map_mode: Option<MapMode>,
    /// Durable storage provider.
    pub backend: Option<DurableBackend>,
    /// Durable partitions.
    pub partitions: Option<u32>,
    /// Azure hosting plan.
    pub plan: Option<HostingPlan>,
    /// Azure Flex instance memory, MiB.
    pub instance_memory_mb: Option<u32>,
    /// Azure Premium instance size.
    pub sku: Option<PremiumSku>,
    /// Azure always-ready instances.
    pub always_ready: Option<u32>,
    /// Azure instance cap.
    pub max_instances: Option<u32>,
    /// Azure HTTP executions per instance.
    pub http_concurrency: Option<u32>,
    /// Azure Python worker threads.
    pub python_threads: Option<u32>,
    /// Azure: the language worker (default: the model's, Python).
    pub runtime: Option<Runtime>,
    /// Durable: the deployment's own program (`[deployment.<name>] flow`), validated against the
    /// workflow's steps and state objects; its entity operations are in `Workflow::entity_ops`.
    pub flow: Option<Vec<Node>>,
    /// Function timeout, s.
    pub timeout_s: Option<f64>,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The source, kept to report later errors (e.g. an unknown deployment) at their key.
    pub source: SourceFile,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Default deployments, with their key path index.
    pub deployments: Vec<String>,
    /// Executions per replication.
    pub iterations: u64,
    /// Replications.
    pub replications: u64,
    /// Root seed.
    pub seed: u64,
    /// Executions arriving before this (seconds) are simulated but left out of the statistics.
    pub measure_after_s: f64,
    /// The platforms' era (`[scenario] profile`), when the scenario names one.
    pub profile: Option<String>,
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Per-deployment settings.
    pub deployment: BTreeMap<String, DeploymentConfig>,
    /// The workflow.
    pub workflow: Workflow,
    /// Platform parameters this scenario replaces (`[models.<model>]`), in key order.
    pub model_overrides: Vec<ModelOverride>,
}

/// One platform parameter a scenario replaces: `[models.az-durable] replay.episode_cpu_s = 0.03`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelOverride {
    /// The model (`az-durable`, the file `models/az-durable.toml`).
    pub model: String,
    /// The parameter's key in that file (`replay.episode_cpu_s`).
    pub key: String,
    /// Its value for this scenario.
    pub value: ModelValue,
}

/// A model parameter's value: a number, or a name (`account.kind = "gpv2"`).
#[derive(Clone, Debug, PartialEq)]
pub enum ModelValue {
    /// A number in the parameter's unit.
    Number(f64),
    /// A named choice, checked by the model's schema when the models are loaded.
    Name(String),
}

impl ModelValue {
    /// The value as `--set` override text (a name stays a bare string).
    pub fn text(&self) -> String {
        match self {
            ModelValue::Number(x) => format!("{x:e}"),
            ModelValue::Name(n) => format!("{n:?}"),
        }
    }
}

impl ModelOverride {
    /// The model names a scenario may override.
    pub const MODELS: [&'static str; 6] = ["aws-lambda", "aws-step", "az-func", "az-queue", "az-durable", "az-storage"];

    /// Where it stands in the scenario file.
    pub fn scenario_key(&self) -> String {
        format!("models.{}.{}", self.model, self.key)
    }
}

fn flatten_model_table(model: &str, prefix: &str, t: &toml::Table, out: &mut Vec<ModelOverride>) -> Result<(), KeyError> {
    for (k, v) in t {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(inner) => flatten_model_table(model, &key, inner, out)?,
            toml::Value::Float(x) if x.is_finite() => {
                out.push(ModelOverride { model: model.to_string(), key, value: ModelValue::Number(*x) })
            }
            toml::Value::Integer(i) => out.push(ModelOverride { model: model.to_string(), key, value: ModelValue::Number(*i as f64) }),
            toml::Value::String(n) => out.push(ModelOverride { model: model.to_string(), key, value: ModelValue::Name(n.clone()) }),
            _ => {
                return Err(KeyError::new(
                    format!("models.{model}.{key}"),
                    "a model parameter override is a finite number or a name (the parameter's new value)",
                ));
            }
        }
    }
    Ok(())
}

/// The default root seed when neither the file nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 1;

/// Upper bound of every number in a scenario (seconds, KiB, MiB, MB of memory): keeps sampled
/// times inside the `u64` nanosecond horizon and sizes inside `u64` bytes.
const MAX_VALUE: f64 = crate::dist::MAX_SECONDS;
/// Most executions per replication: records are kept for exact quantiles.
pub const MAX_ITERATIONS: u64 = 10_000_000;
/// Most replications.
pub const MAX_REPLICATIONS: u64 = 10_000;
/// Most executions one command may simulate: iterations x replications x deployments (about
/// 9 hours of one core at 30,000 executions per second).
pub const MAX_TOTAL_EXECUTIONS: u64 = 1_000_000_000;
/// Most items in one fan-out.
pub const MAX_FAN_OUT_ITEMS: i64 = 100_000;

fn nonneg(key: &str, v: f64) -> Result<f64, KeyError> {
    if v.is_finite() && (0.0..=MAX_VALUE).contains(&v) {
        Ok(v)
    } else {
        Err(KeyError::new(key, format!("must be a finite number in [0, {MAX_VALUE:e}], got {}", crate::short_number(v))))
    }
}

/// Most threads a step may declare.
pub const MAX_STEP_THREADS: u8 = u8::MAX;

fn thread_count(key: &str, n: i64) -> Result<u8, KeyError> {
    match u8::try_from(n) {
        Ok(t) if t >= 1 => Ok(t),
        _ => Err(KeyError::new(key, format!("must be a whole number of threads in [1, {MAX_STEP_THREADS}], got {n}"))),
    }
}

fn fraction(key: &str, v: f64) -> Result<f64, KeyError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(KeyError::new(key, format!("must be a share in [0, 1], got {}", crate::short_number(v))))
    }
}

fn positive(key: &str, v: f64) -> Result<f64, KeyError> {
    if v.is_finite() && v > 0.0 && v <= MAX_VALUE {
        Ok(v)
    } else {
        Err(KeyError::new(key, format!("must be a finite number in (0, {MAX_VALUE:e}], got {}", crate::short_number(v))))
    }
}

fn kb_to_bytes(key: &str, kb: f64) -> Result<u64, KeyError> {
    Ok((nonneg(key, kb)? * BYTES_PER_KB).round() as u64)
}

fn mb_to_bytes(key: &str, mb: f64) -> Result<u64, KeyError> {
    Ok((nonneg(key, mb)? * BYTES_PER_MB).round() as u64)
}

impl Scenario {
    /// Reads, overrides, parses and validates a scenario file.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, LoadError> {
        let file = SourceFile::read(path)?;
        Self::from_source(file, overrides)
    }

    /// Parses and validates a scenario from a source in memory.
    pub fn from_source(mut file: SourceFile, overrides: &[Override]) -> Result<Scenario, LoadError> {
        if !overrides.is_empty() {
            let text = apply_overrides(&file.text, overrides).map_err(|m| LoadError::whole_file(&file.name, m))?;
            file.original = Some(std::mem::replace(&mut file.text, text));
            file.overrides = overrides.iter().map(|o| (o.path.clone(), o.value.clone())).collect();
        }
        let raw: RawScenario = parse_toml(&file)?;
        Self::validate(raw, file.clone()).map_err(|e| file.key_error(e))
    }

    fn validate(raw: RawScenario, source: SourceFile) -> Result<Scenario, KeyError> {
        if raw.scenario.name.trim().is_empty() {
            return Err(KeyError::new("scenario.name", "must not be empty"));
        }
        if raw.scenario.iterations > MAX_ITERATIONS {
            return Err(KeyError::new(
                "scenario.iterations",
                format!("at most {MAX_ITERATIONS} executions per replication (use replications for more), got {}", raw.scenario.iterations),
            ));
        }
        if raw.scenario.replications > MAX_REPLICATIONS {
            return Err(KeyError::new("scenario.replications", format!("at most {MAX_REPLICATIONS}, got {}", raw.scenario.replications)));
        }
        if raw.scenario.iterations == 0 {
            return Err(KeyError::new("scenario.iterations", "must be at least 1"));
        }
        if raw.scenario.replications == 0 {
            return Err(KeyError::new("scenario.replications", "must be at least 1"));
        }
        let runs = raw.scenario.replications.saturating_mul(raw.scenario.deployments.len().max(1) as u64);
        let total = raw.scenario.iterations.saturating_mul(runs);
        if total > MAX_TOTAL_EXECUTIONS {
            return Err(KeyError::new(
                "scenario.iterations",
                format!(
                    "{} iterations x {} replications x {} deployment(s) = {total} executions (~{:.0} hours of one core, {:.1} GB of \
                     summaries), over the limit of {MAX_TOTAL_EXECUTIONS} per command; use fewer, or a sweep split into shards",
                    raw.scenario.iterations,
                    raw.scenario.replications,
                    raw.scenario.deployments.len().max(1),
                    total as f64 / 30_000.0 / 3600.0,
                    runs as f64 * (96.0 * raw.scenario.iterations.min(262_144) as f64 + 4096.0) / 1e9
                ),
            ));
        }
        let base_dir = std::path::Path::new(&source.name).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let arrivals = match raw.arrivals {
            RawArrivals::Interval { interval_s } => Arrivals::Interval { interval_s: nonneg("arrivals.interval_s", interval_s)? },
            RawArrivals::Poisson { rate_per_s } => Arrivals::Poisson { rate_per_s: positive("arrivals.rate_per_s", rate_per_s)? },
            RawArrivals::Burst { size, interval_s } => {
                if size == 0 {
                    return Err(KeyError::new("arrivals.size", "must be at least 1"));
                }
                Arrivals::Burst { size, interval_s: nonneg("arrivals.interval_s", interval_s)? }
            }
            RawArrivals::Sequential { gap_s } => Arrivals::Sequential { gap_s: nonneg("arrivals.gap_s", gap_s)? },
            RawArrivals::Batches { size, pause_s, warmup } => {
                if size == 0 {
                    return Err(KeyError::new("arrivals.size", "must be at least 1"));
                }
                Arrivals::Batches { size, pause_s: nonneg("arrivals.pause_s", pause_s)?, warmup }
            }
            RawArrivals::Phases { phases } => {
                if phases.is_empty() {
                    return Err(KeyError::new("arrivals.phases", "needs at least one phase"));
                }
                let mut out = Vec::with_capacity(phases.len());
                for (i, p) in phases.iter().enumerate() {
                    let key = |k: &str| format!("arrivals.phases.{i}.{k}");
                    let duration_s = positive(&key("duration_s"), p.duration_s)?;
                    let rate = |k: &str, v: Option<f64>| match v {
                        Some(v) => nonneg(&key(k), v),
                        None => Err(KeyError::new(key(k), format!("a `{}` phase needs `{k}`", p.kind))),
                    };
                    let (from_per_s, to_per_s) = match p.kind.as_str() {
                        "poisson" => {
                            let r = rate("rate_per_s", p.rate_per_s)?;
                            (r, r)
                        }
                        "ramp" => (rate("from_per_s", p.from_per_s)?, rate("to_per_s", p.to_per_s)?),
                        "pause" => (0.0, 0.0),
                        other => {
                            return Err(KeyError::new(key("kind"), format!("`{other}`: expected \"poisson\", \"ramp\" or \"pause\"")));
                        }
                    };
                    out.push(LoadPhase { duration_s, from_per_s, to_per_s });
                }
                Arrivals::Phases(out)
            }
            RawArrivals::Azure2019 { dir, day, app, placement } => {
                if !(1..=99).contains(&day) {
                    return Err(KeyError::new("arrivals.day", format!("must be within 1-99 (the NN of dNN), got {day}")));
                }
                let placement = match placement.as_deref() {
                    None | Some("random") => TracePlacement::Random,
                    Some("even") => TracePlacement::Even,
                    Some(other) => {
                        return Err(KeyError::new("arrivals.placement", format!("`{other}`: expected \"random\" or \"even\"")));
                    }
                };
                Arrivals::Trace { file: TraceFile::Azure2019 { dir: base_dir.join(dir), day, placement }, app }
            }
            RawArrivals::Azure2021 { file, app } => Arrivals::Trace { file: TraceFile::Azure2021 { file: base_dir.join(file) }, app },
        };
        let mut model_overrides = Vec::new();
        for (model, table) in &raw.models {
            if !ModelOverride::MODELS.contains(&model.as_str()) {
                return Err(KeyError::new(
                    format!("models.{model}"),
                    format!("unknown model `{model}`{}", crate::suggest(model, &ModelOverride::MODELS)),
                ));
            }
            flatten_model_table(model, "", table, &mut model_overrides)?;
        }
        let dir = std::path::Path::new(&source.name).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let own_flows: Vec<(&str, &[RawNode])> =
            raw.deployment.iter().filter_map(|(n, d)| d.flow.as_deref().map(|f| (n.as_str(), f))).collect();
        let (workflow, mut programs) = validate_workflow(raw.workflow, &dir, &own_flows)?;
        let mut deployment = BTreeMap::new();
        for (name, d) in &raw.deployment {
            let k = format!("deployment.{name}");
            let cfg = DeploymentConfig {
                memory_mb: d.memory_mb.map(|m| positive(&format!("{k}.memory_mb"), m)).transpose()?,
                package_mb: d.package_mb.map(|m| nonneg(&format!("{k}.package_mb"), m)).transpose()?,
                init: d.init_s.as_ref().map(|r| Dist::from_raw(r, &format!("{k}.init_s"))).transpose()?,
                billing_granularity_ms: d.billing_granularity_ms,
                payload_limit_mode: d.payload_limit_mode,
                extended_sessions: d.extended_sessions,
                workflow_type: d.workflow_type,
                functions: d.functions,
                map_mode: d.map_mode,
                backend: d.backend,
                partitions: d.partitions,
                plan: d.plan,
                instance_memory_mb: d.instance_memory_mb,
                sku: d.sku,
                always_ready: d.always_ready,
                max_instances: d.max_instances,
                http_concurrency: d.http_concurrency,
                python_threads: d.python_threads,
                runtime: d.runtime,
                flow: programs.remove(name),
                timeout_s: d.timeout_s.map(|t| positive(&format!("{k}.timeout_s"), t)).transpose()?,
            };
            deployment.insert(name.clone(), cfg);
        }
        Ok(Scenario {
            source,
            name: raw.scenario.name,
            description: raw.scenario.description,
            deployments: raw.scenario.deployments,
            iterations: raw.scenario.iterations,
            replications: raw.scenario.replications,
            seed: raw.scenario.seed.unwrap_or(DEFAULT_SEED),
            measure_after_s: nonneg("scenario.measure_after_s", raw.scenario.measure_after_s)?,
            profile: match raw.scenario.profile {
                None => None,
                Some(toml::Value::String(p)) => Some(p),
                Some(toml::Value::Integer(y)) => Some(y.to_string()),
                Some(_) => return Err(KeyError::new("scenario.profile", "a profile's name: \"study-2021\" or \"2026\"")),
            },
            arrivals,
            deployment,
            workflow,
            model_overrides,
        })
    }

    /// A positioned error at `key` of this scenario's file.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> LoadError {
        self.source.key_error(KeyError::new(key, message))
    }
}

struct Names<'a> {
    steps: Vec<&'a str>,
    fan_outs: Vec<&'a str>,
    states: Vec<&'a str>,
    state_refs: Vec<u32>,
    /// Each step's state reads and updates (checked against a critical section's locks).
    step_state: Vec<(Vec<EntityRef>, Vec<EntityRef>)>,
}

/// Where a flow sits: inside a fan-out body, inside a critical section (holding these locks).
#[derive(Clone, Copy)]
struct Ctx<'a> {
    in_fan_out: bool,
    locked: Option<&'a [EntityRef]>,
    /// A Durable deployment's own flow: entity operations may run a step's work.
    own_program: bool,
}

/// Reads and parses the ASL file of `[workflow.asl]`, and derives the flow from it when the
/// workflow gives none.
fn load_asl(w: &mut RawWorkflow, dir: &std::path::Path) -> Result<Option<crate::asl::AslMachine>, KeyError> {
    let Some(raw) = &w.asl else {
        if w.flow.is_none() {
            return Err(KeyError::new("workflow", "a workflow needs `flow` (or `asl` to derive it from a state machine)"));
        }
        return Ok(None);
    };
    let path = dir.join(&raw.file);
    let text =
        std::fs::read_to_string(&path).map_err(|e| KeyError::new("workflow.asl.file", format!("cannot read {}: {e}", path.display())))?;
    let steps: Vec<&str> = w.steps.keys().map(String::as_str).collect();
    let m = crate::asl::parse_asl(&text, raw, &steps, "workflow.asl.file")?;
    if w.flow.is_none() {
        let names: Vec<String> = w.steps.keys().cloned().collect();
        let mut fan_outs = BTreeMap::new();
        let flow = asl_flow(&m, &names, &mut fan_outs).map_err(|cycle| {
            KeyError::new(
                "workflow.asl.file",
                format!(
                    "{} loops ({cycle}): aws-step would run it until the loop ends or the 25,000-event history limit, but the \
                     flow the other deployments run is derived without loops; remove the loop, or give [workflow] flow \
                     explicitly (what the other deployments run)",
                    raw.file
                ),
            )
        })?;
        w.fan_out.extend(fan_outs);
        w.flow = Some(flow);
    }
    Ok(Some(m))
}

/// The platform-neutral flow of an ASL machine: Task states are steps, Parallel a parallel
/// node, Map a fan-out named after the state; Pass, Wait and Choice (the chosen branch) are
/// followed without a node; the walk stops at Succeed, Fail or End. A machine that comes back
/// to a state (a Next cycle, or a Choice whose chosen branch leads back) has no loop-free
/// flow: the error names the cycle (`A -> B -> A`).
fn asl_flow(m: &crate::asl::AslMachine, steps: &[String], fan_outs: &mut BTreeMap<String, RawFanOut>) -> Result<Vec<RawNode>, String> {
    use crate::asl::{AslNext, AslState};
    let mut out = Vec::new();
    let mut at = Some(m.start);
    let mut path: Vec<usize> = Vec::new();
    while let Some(i) = at {
        if let Some(k) = path.iter().position(|&j| j == i) {
            let mut names: Vec<&str> = path[k..].iter().map(|&j| m.names[j].as_str()).collect();
            names.push(m.names[i].as_str());
            return Err(names.join(" -> "));
        }
        path.push(i);
        let next = |n: &AslNext| match n {
            AslNext::State(j) => Some(*j),
            AslNext::End => None,
        };
        at = match &m.states[i] {
            AslState::Task { step, next: n, .. } => {
                out.push(RawNode::Step(steps[*step as usize].clone()));
                next(n)
            }
            AslState::Pass { next: n } | AslState::Wait { next: n, .. } => next(n),
            AslState::Choice { next: j } => Some(*j),
            AslState::Parallel { branches, next: n } => {
                out.push(RawNode::Parallel(branches.iter().map(|b| asl_flow(b, steps, fan_outs)).collect::<Result<_, _>>()?));
                next(n)
            }
            AslState::Map { iterator, items, next: n, .. } => {
                let body = asl_flow(iterator, steps, fan_outs)?;
                fan_outs.insert(m.names[i].clone(), RawFanOut { items: i64::from(*items), split: false, chunks_of_kb: None, body });
                out.push(RawNode::FanOut(m.names[i].clone()));
                next(n)
            }
            AslState::Succeed | AslState::Fail { .. } => None,
        };
    }
    Ok(out)
}

/// Validates the workflow and the Durable deployments' own flows (`own_flows`: deployment name
/// and its raw flow), which are returned by deployment name.
fn validate_workflow(
    mut w: RawWorkflow,
    dir: &std::path::Path,
    own_flows: &[(&str, &[RawNode])],
) -> Result<(Workflow, BTreeMap<String, Vec<Node>>), KeyError> {
    let asl = load_asl(&mut w, dir)?;
    let w = &w;
    let state_names: Vec<&str> = w.state.keys().map(String::as_str).collect();
    let state = w
        .state
        .iter()
        .map(|(name, s)| {
            let k = format!("workflow.state.{name}");
            Ok(StateObject {
                name: name.clone(),
                size_bytes: kb_to_bytes(&format!("{k}.size_kb"), s.size_kb)?,
                keying: Keying::from_raw(s.keys, s.key.as_ref(), s.refs, s.distinct, &k)?,
            })
        })
        .collect::<Result<Vec<_>, KeyError>>()?;
    let state_refs: Vec<u32> = state.iter().map(|s| s.keying.refs).collect();
    let mut steps = Vec::with_capacity(w.steps.len());
    for (name, s) in &w.steps {
        let k = format!("workflow.steps.{name}");
        let lookup_state = |list: &[String], field: &str| -> Result<Vec<EntityRef>, KeyError> {
            list.iter()
                .enumerate()
                .map(|(i, n)| crate::entities::parse_ref(n, &format!("{k}.{field}.{i}"), &state_names, &state_refs))
                .collect()
        };
        let io = |list: &[RawObjectIo], field: &str| -> Result<Vec<u64>, KeyError> {
            list.iter().enumerate().map(|(i, o)| mb_to_bytes(&format!("{k}.{field}.{i}.size_mb"), o.size_mb)).collect()
        };
        steps.push(Step {
            name: name.clone(),
            cpu: Dist::from_raw(&s.cpu_s, &format!("{k}.cpu_s"))?,
            vector_share: fraction(&format!("{k}.vector_share"), s.vector_share.unwrap_or(0.0))?,
            threads: s.threads.map(|n| thread_count(&format!("{k}.threads"), n)).transpose()?,
            first_call_cpu_s: nonneg(&format!("{k}.first_call_cpu_s"), s.first_call_cpu_s.unwrap_or(0.0))?,
            io: s.io_s.as_ref().map(|r| Dist::from_raw(r, &format!("{k}.io_s"))).transpose()?.unwrap_or(Dist::fixed(0.0)),
            memory_mb: positive(&format!("{k}.memory_mb"), s.memory_mb)?,
            input_bytes: kb_to_bytes(&format!("{k}.input_kb"), s.input_kb)?,
            output_bytes: kb_to_bytes(&format!("{k}.output_kb"), s.output_kb)?,
            reads_bytes: io(&s.reads, "reads")?,
            writes_bytes: io(&s.writes, "writes")?,
            state_reads: lookup_state(&s.state_reads, "state_reads")?,
            state_updates: lookup_state(&s.state_updates, "state_updates")?,
            function: StepId(steps.len() as u32),
        });
    }
    let names = Names {
        steps: w.steps.keys().map(String::as_str).collect(),
        fan_outs: w.fan_out.keys().map(String::as_str).collect(),
        states: state_names.clone(),
        state_refs: state_refs.clone(),
        step_state: steps.iter().map(|s| (s.state_reads.clone(), s.state_updates.clone())).collect(),
    };
    let mut entity_ops = Vec::new();
    let mut fan_outs = Vec::with_capacity(w.fan_out.len());
    for (name, f) in &w.fan_out {
        let k = format!("workflow.fan_out.{name}");
        if f.items < 1 {
            return Err(KeyError::new(format!("{k}.items"), format!("a fan-out needs at least 1 item, got {}", f.items)));
        }
        if f.items > MAX_FAN_OUT_ITEMS {
            return Err(KeyError::new(format!("{k}.items"), format!("at most {MAX_FAN_OUT_ITEMS} items, got {}", f.items)));
        }
        let items = f.items as u32;
        let chunks_of_bytes = match f.chunks_of_kb {
            None => None,
            Some(_) if !f.split => {
                return Err(KeyError::new(format!("{k}.chunks_of_kb"), "chunks share the body's totals: set `split = true`"));
            }
            Some(kb) => {
                let key = format!("{k}.chunks_of_kb");
                let bytes = (positive(&key, kb)? * BYTES_PER_KB).round() as u64;
                if bytes == 0 {
                    return Err(KeyError::new(key, format!("must be at least 1 byte (0.0005 KiB), got {}", crate::short_number(kb))));
                }
                Some(bytes)
            }
        };
        let body = validate_flow(
            &f.body,
            &format!("{k}.body"),
            &names,
            Ctx { in_fan_out: true, locked: None, own_program: false },
            &mut entity_ops,
        )?;
        fan_outs.push(FanOut { name: name.clone(), items, split: f.split, chunks_of_bytes, body });
    }
    let mut flow = validate_flow(
        w.flow.as_deref().unwrap_or_default(),
        "workflow.flow",
        &names,
        Ctx { in_fan_out: false, locked: None, own_program: false },
        &mut entity_ops,
    )?;
    // A deployment's own program: the same steps, each as often as in the workflow's flow, so
    // every deployment does the same work.
    let runs = |nodes: &[Node], ops: &[EntityOp]| {
        let mut n = vec![0u32; steps.len()];
        count_steps(nodes, &fan_outs, ops, &mut n);
        n
    };
    let reference = runs(&flow, &entity_ops);
    let mut programs = BTreeMap::new();
    for (name, raw) in own_flows {
        let k = format!("deployment.{name}.flow");
        let f = validate_flow(raw, &k, &names, Ctx { in_fan_out: false, locked: None, own_program: true }, &mut entity_ops)?;
        let here = runs(&f, &entity_ops);
        if let Some(i) = (0..steps.len()).find(|&i| here[i] != reference[i]) {
            return Err(KeyError::new(
                k,
                format!(
                    "step `{}` runs {} time(s) here and {} time(s) in [workflow] flow: a deployment's own program runs the \
                     workflow's steps (as steps or as entity operations' work), each as often, so that every deployment does \
                     the same work",
                    steps[i].name, here[i], reference[i]
                ),
            ));
        }
        programs.insert(name.to_string(), f);
    }
    // An ASL machine names its Task states' steps itself (aws-step runs it as given): its
    // repeated steps stay one step, so that every deployment keeps drawing the same work.
    if asl.is_none() {
        split_occurrences(&mut steps, &mut flow, &mut fan_outs, &mut entity_ops, &mut programs);
    }
    let wf = Workflow {
        input_bytes: kb_to_bytes("workflow.input_kb", w.input_kb)?,
        output_bytes: kb_to_bytes("workflow.output_kb", w.output_kb)?,
        steps,
        flow,
        fan_outs,
        state,
        entity_ops,
        asl,
    };
    Ok((wf, programs))
}

/// Makes each occurrence of a step in the flows a step of its own, so that the draws of its
/// work (keyed by step) are its own: a step used once keeps its id; each further occurrence gets
/// a copy of the step appended to `steps` (same name and definition, `function` the original).
/// Fan-out bodies are shared by the flows that name the fan-out, so their occurrences are taken
/// first, once; then the k-th occurrence of a step outside fan-out bodies is the same step in
/// `[workflow] flow` and in every deployment's own program (which run each step as often), so
/// that every deployment draws the same work for it. An entity operation's step counts as an
/// occurrence where the operation is. Not split: the two uses of a fan-out named twice (they
/// share its body's steps, so they draw the same work), and the steps of a workflow given as an
/// ASL machine (whose Task states name the steps aws-step runs).
fn split_occurrences(
    steps: &mut Vec<Step>,
    flow: &mut [Node],
    fan_outs: &mut [FanOut],
    ops: &mut [EntityOp],
    programs: &mut BTreeMap<String, Vec<Node>>,
) {
    struct Alloc<'a> {
        steps: &'a mut Vec<Step>,
        taken: Vec<bool>,
        /// The ids of each original step's occurrences outside fan-out bodies, in order.
        outside: Vec<Vec<StepId>>,
    }
    impl Alloc<'_> {
        fn fresh(&mut self, s: StepId) -> StepId {
            if !self.taken[s.0 as usize] {
                self.taken[s.0 as usize] = true;
                return s;
            }
            let mut copy = self.steps[s.0 as usize].clone();
            copy.function = s;
            self.steps.push(copy);
            StepId(self.steps.len() as u32 - 1)
        }
        fn outside(&mut self, s: StepId, k: usize) -> StepId {
            while self.outside[s.0 as usize].len() <= k {
                let id = self.fresh(s);
                self.outside[s.0 as usize].push(id);
            }
            self.outside[s.0 as usize][k]
        }
    }
    fn take(s: &mut StepId, seen: &mut [usize], a: &mut Alloc<'_>, in_body: bool) {
        *s = if in_body {
            a.fresh(*s)
        } else {
            let k = seen[s.0 as usize];
            seen[s.0 as usize] += 1;
            a.outside(*s, k)
        };
    }
    fn walk(nodes: &mut [Node], ops: &mut [EntityOp], seen: &mut [usize], a: &mut Alloc<'_>, in_body: bool) {
        for n in nodes {
            match n {
                Node::Step(s) => take(s, seen, a, in_body),
                Node::Parallel(bs) => bs.iter_mut().for_each(|b| walk(b, ops, seen, a, in_body)),
                // Its body is taken once, before the flows.
                Node::FanOut(_) => {}
                Node::CallEntity(o) | Node::SignalEntity(o) => {
                    if let Some(s) = ops[o.0 as usize].step.as_mut() {
                        take(s, seen, a, in_body);
                    }
                }
                Node::Lock(_, body) => walk(body, ops, seen, a, in_body),
            }
        }
    }
    let n = steps.len();
    let mut a = Alloc { steps, taken: vec![false; n], outside: vec![Vec::new(); n] };
    let mut seen = vec![0usize; n];
    for f in fan_outs.iter_mut() {
        walk(&mut f.body, ops, &mut seen, &mut a, true);
    }
    walk(flow, ops, &mut vec![0usize; n], &mut a, false);
    for p in programs.values_mut() {
        walk(p, ops, &mut vec![0usize; n], &mut a, false);
    }
}

/// How often each step runs in `nodes` (a fan-out's body once per element; an entity
/// operation's work counts as its step).
fn count_steps(nodes: &[Node], fan_outs: &[FanOut], ops: &[EntityOp], out: &mut [u32]) {
    for n in nodes {
        match n {
            Node::Step(s) => out[s.0 as usize] += 1,
            Node::Parallel(bs) => bs.iter().for_each(|b| count_steps(b, fan_outs, ops, out)),
            Node::FanOut(f) => count_steps(&fan_outs[f.0 as usize].body, fan_outs, ops, out),
            Node::CallEntity(o) | Node::SignalEntity(o) => {
                if let Some(s) = ops[o.0 as usize].step {
                    out[s.0 as usize] += 1;
                }
            }
            Node::Lock(_, body) => count_steps(body, fan_outs, ops, out),
        }
    }
}

fn validate_flow(nodes: &[RawNode], key: &str, names: &Names<'_>, ctx: Ctx<'_>, ops: &mut Vec<EntityOp>) -> Result<Vec<Node>, KeyError> {
    if nodes.is_empty() {
        return Err(KeyError::new(key, "a flow needs at least one element"));
    }
    // Durable Functions' critical-section rules (AZD durable-functions-entities.md).
    let in_section = |k: &str, what: &str| {
        KeyError::new(
            k,
            format!(
                "{what} inside a critical section: Durable Functions forbids it (critical-section rules: no nested sections, no \
                 sub-orchestrations; call only locked entities, signal only entities not locked)"
            ),
        )
    };
    let mut out = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let k = format!("{key}.{i}");
        let node = match n {
            RawNode::Step(s) => {
                let p = names
                    .steps
                    .iter()
                    .position(|x| x == s)
                    .ok_or_else(|| KeyError::new(format!("{k}.step"), format!("unknown step `{s}`{}", suggest(s, &names.steps))))?;
                if let Some(locked) = ctx.locked {
                    let (reads, updates) = &names.step_state[p];
                    if reads.iter().any(|r| !locked.contains(r)) {
                        return Err(in_section(&format!("{k}.step"), &format!("step `{s}` reads a state object it has not locked")));
                    }
                    if updates.iter().any(|r| locked.contains(r)) {
                        return Err(in_section(&format!("{k}.step"), &format!("step `{s}` signals (state_updates) a locked entity")));
                    }
                }
                Node::Step(StepId(p as u32))
            }
            RawNode::FanOut(f) => {
                if ctx.in_fan_out {
                    return Err(KeyError::new(format!("{k}.fan_out"), "a fan-out inside a fan-out is not supported"));
                }
                if ctx.locked.is_some() {
                    return Err(in_section(&format!("{k}.fan_out"), "a fan-out"));
                }
                names
                    .fan_outs
                    .iter()
                    .position(|x| x == f)
                    .map(|p| Node::FanOut(FanOutId(p as u32)))
                    .ok_or_else(|| KeyError::new(format!("{k}.fan_out"), format!("unknown fan-out `{f}`{}", suggest(f, &names.fan_outs))))?
            }
            RawNode::Parallel(branches) => {
                if ctx.locked.is_some() {
                    return Err(in_section(&format!("{k}.parallel"), "a parallel element"));
                }
                if branches.is_empty() {
                    return Err(KeyError::new(format!("{k}.parallel"), "needs at least one branch"));
                }
                let mut bs = Vec::with_capacity(branches.len());
                for (b, br) in branches.iter().enumerate() {
                    bs.push(validate_flow(br, &format!("{k}.parallel.{b}"), names, ctx, ops)?);
                }
                Node::Parallel(bs)
            }
            RawNode::CallEntity(o) | RawNode::SignalEntity(o) => {
                let call = matches!(n, RawNode::CallEntity(_));
                let field = if call { "call_entity" } else { "signal_entity" };
                let target = crate::entities::parse_ref(&o.entity, &format!("{k}.{field}"), &names.states, &names.state_refs)?;
                if let Some(locked) = ctx.locked {
                    if call && !locked.contains(&target) {
                        return Err(in_section(&format!("{k}.{field}"), &format!("a call to `{}`, which is not locked", o.entity)));
                    }
                    if !call && locked.contains(&target) {
                        return Err(in_section(&format!("{k}.{field}"), &format!("a signal to `{}`, which is locked", o.entity)));
                    }
                }
                let step =
                    match &o.step {
                        None => None,
                        Some(_) if !ctx.own_program => {
                            return Err(KeyError::new(
                                format!("{k}.step"),
                                "an entity operation runs a step's work only in a Durable deployment's own program \
                                 ([deployment.az-dorch] or [deployment.az-dent] flow): only Durable entities run code",
                            ));
                        }
                        Some(s) => Some(names.steps.iter().position(|x| x == s).map(|p| StepId(p as u32)).ok_or_else(|| {
                            KeyError::new(format!("{k}.step"), format!("unknown step `{s}`{}", suggest(s, &names.steps)))
                        })?),
                    };
                // In a critical section the operation's step follows a step's rules: its other
                // state reads are awaited calls (locked entities only), its other state updates
                // signals (entities not locked only).
                if let (Some(locked), Some(s)) = (ctx.locked, step) {
                    let (reads, updates) = &names.step_state[s.0 as usize];
                    let name = names.steps[s.0 as usize];
                    if reads.iter().any(|r| *r != target && !locked.contains(r)) {
                        return Err(in_section(&format!("{k}.step"), &format!("step `{name}` reads a state object it has not locked")));
                    }
                    if updates.iter().any(|r| *r != target && locked.contains(r)) {
                        return Err(in_section(&format!("{k}.step"), &format!("step `{name}` signals (state_updates) a locked entity")));
                    }
                }
                let op =
                    crate::entities::entity_op(target, o.op.as_deref(), if call { "get" } else { "set" }, o.op_cpu_s.as_ref(), step, &k)?;
                ops.push(op);
                let id = EntityOpId(ops.len() as u32 - 1);
                if call { Node::CallEntity(id) } else { Node::SignalEntity(id) }
            }
            RawNode::Lock { entities, body } => {
                if ctx.locked.is_some() {
                    return Err(in_section(&format!("{k}.lock"), "a critical section"));
                }
                if entities.is_empty() {
                    return Err(KeyError::new(format!("{k}.lock"), "lock at least one entity"));
                }
                let refs = entities
                    .iter()
                    .enumerate()
                    .map(|(j, e)| crate::entities::parse_ref(e, &format!("{k}.lock.{j}"), &names.states, &names.state_refs))
                    .collect::<Result<Vec<_>, _>>()?;
                let body = validate_flow(body, &format!("{k}.body"), names, Ctx { locked: Some(&refs), ..ctx }, ops)?;
                Node::Lock(refs, body)
            }
        };
        out.push(node);
    }
    Ok(out)
}

/// ", did you mean `x`?" for the closest known name, or a list of the known names.
pub fn suggest(name: &str, known: &[&str]) -> String {
    let best = known.iter().map(|k| (edit_distance(name, k), *k)).min();
    match best {
        Some((d, k)) if d <= 2.max(name.len() / 3) => format!(", did you mean `{k}`?"),
        _ if known.is_empty() => String::new(),
        _ => format!(" (known: {})", known.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A warm-up batch comes first and counts as a batch; without one, batches of `size` from 0.
    #[test]
    fn batches_are_the_warm_up_then_batches_of_their_size() {
        let b = |warmup| Arrivals::Batches { size: 30, pause_s: 15.0, warmup };
        assert_eq!([0, 29, 30, 59].map(|e| b(0).batch_of(e)), [Some((0, 30)), Some((0, 30)), Some((30, 60)), Some((30, 60))]);
        assert_eq!([0, 1, 30, 31].map(|e| b(1).batch_of(e)), [Some((0, 1)), Some((1, 31)), Some((1, 31)), Some((31, 61))]);
        assert_eq!(
            [(0, 60), (0, 61), (1, 61), (1, 62), (1, 1), (1, 0), (50, 20)].map(|(w, n)| b(w).batch_count(n)).map(Option::unwrap),
            [2, 3, 3, 4, 1, 0, 1]
        );
        assert_eq!(Arrivals::Sequential { gap_s: 1.0 }.batch_of(3), None);
        assert_eq!(Arrivals::Sequential { gap_s: 1.0 }.batch_count(3), None);
    }

    const GOOD: &str = r#"
[scenario]
name = "t"
deployments = ["aws-lambda"]
iterations = 3

[arrivals]
kind = "interval"
interval_s = 3600

[deployment.aws-lambda]
memory_mb = 1536

[workflow]
flow = [{ step = "a" }, { parallel = [[{ step = "b" }], [{ step = "a" }]] }, { fan_out = "w" }]

[workflow.steps.a]
cpu_s = { dist = "fixed", value_s = 1.0 }
memory_mb = 100
state_reads = ["model"]

[workflow.steps.b]
cpu_s = { dist = "lognormal", median_s = 1.0, sigma = 0.1 }
memory_mb = 100
reads = [{ object = "data", size_mb = 2 }]

[workflow.fan_out.w]
items = 4
split = true
body = [{ step = "b" }]

[workflow.state.model]
size_kb = 100
"#;

    fn load(text: &str, o: &[&str]) -> Result<Scenario, LoadError> {
        let o: Vec<Override> = o.iter().map(|x| x.parse().expect("override")).collect();
        Scenario::from_source(SourceFile::from_text("s.toml", text), &o)
    }

    #[test]
    fn a_good_scenario_validates() {
        let s = load(GOOD, &[]).expect("valid");
        // `a` twice in the flow, `b` in the fan-out's body and in a branch: each occurrence is a
        // step of its own (its draws its own), the later ones copies run by the first's function.
        let w = &s.workflow;
        assert_eq!(w.steps.len(), 4);
        let names: Vec<(&str, u32)> = w.steps.iter().map(|x| (x.name.as_str(), x.function.0)).collect();
        assert_eq!(names, [("a", 0), ("b", 1), ("b", 1), ("a", 0)]);
        assert_eq!(w.fan_outs[0].body, [Node::Step(StepId(1))], "the body's occurrence is taken first");
        assert_eq!(w.flow[0], Node::Step(StepId(0)));
        assert_eq!(w.flow[1], Node::Parallel(vec![vec![Node::Step(StepId(2))], vec![Node::Step(StepId(3))]]));
        assert_eq!(s.workflow.fan_outs[0].items, 4);
        assert_eq!(s.workflow.steps[1].reads_bytes, vec![2 * 1024 * 1024]);
        assert_eq!(s.workflow.flow.len(), 3);
        assert_eq!(s.seed, DEFAULT_SEED);
    }

    /// A step's vectorized share defaults to scalar code and must be a share.
    #[test]
    fn first_call_cpu_is_a_nonnegative_time_defaulting_to_zero() {
        let s = load(GOOD, &[]).expect("valid");
        assert!(s.workflow.steps.iter().all(|x| x.first_call_cpu_s == 0.0));
        let s = load(GOOD, &["workflow.steps.b.first_call_cpu_s=0.47"]).expect("valid");
        assert_eq!(s.workflow.steps[1].first_call_cpu_s, 0.47);
        for bad in ["-0.1", "nan", "inf"] {
            let e = load(GOOD, &[&format!("workflow.steps.b.first_call_cpu_s={bad}")]).expect_err("out of range");
            let text = e.to_string();
            assert!(text.contains("workflow.steps.b.first_call_cpu_s") && text.contains("finite number"), "{text}");
        }
    }

    #[test]
    fn vector_share_is_a_share() {
        let s = load(GOOD, &[]).expect("valid");
        assert!(s.workflow.steps.iter().all(|x| x.vector_share == 0.0));
        let s = load(GOOD, &["workflow.steps.b.vector_share=0.75"]).expect("valid");
        assert_eq!(s.workflow.steps[1].vector_share, 0.75);
        for bad in ["1.5", "-0.1", "nan"] {
            let e = load(GOOD, &[&format!("workflow.steps.b.vector_share={bad}")]).expect_err("out of range");
            let text = e.to_string();
            assert!(text.contains("workflow.steps.b.vector_share") && text.contains("share in [0, 1]"), "{text}");
        }
    }

    /// A step's own thread count is optional and a whole number from 1.
    #[test]
    fn step_threads_are_a_whole_number_from_one() {
        let s = load(GOOD, &[]).expect("valid");
        assert!(s.workflow.steps.iter().all(|x| x.threads.is_none()));
        let s = load(GOOD, &["workflow.steps.b.threads=2"]).expect("valid");
        assert_eq!(s.workflow.steps[1].threads, Some(2));
        for bad in ["0", "-1", "256"] {
            let e = load(GOOD, &[&format!("workflow.steps.b.threads={bad}")]).expect_err("out of range");
            let text = e.to_string();
            assert!(text.contains("workflow.steps.b.threads") && text.contains("whole number of threads"), "{text}");
        }
        assert!(load(GOOD, &["workflow.steps.b.threads=1.5"]).is_err(), "a fraction of a thread");
    }

    #[test]
    fn fan_out_width_is_settable() {
        let s = load(GOOD, &["workflow.fan_out.w.items=80"]).expect("valid");
        assert_eq!(s.workflow.fan_outs[0].items, 80);
    }

    /// The video's chunks: 100 MB in 256 KB chunks is 400, in 64 KB chunks 1,600; the workers
    /// take them in turn, so 160 workers over 400 chunks split 80 x 3 and 80 x 2, and a worker
    /// without a chunk is not started.
    #[test]
    fn chunks_are_dealt_to_the_workers_by_the_payload_limit() {
        let s = load(GOOD, &["workflow.fan_out.w.chunks_of_kb=102400", "workflow.fan_out.w.items=160"]).expect("valid");
        let f = &s.workflow.fan_outs[0];
        assert_eq!((f.chunks(256 * 1024), f.chunks(64 * 1024)), (Some(400), Some(1600)));
        assert_eq!(f.item_count(256 * 1024), 160);
        let shares: Vec<f64> = (0..160).map(|k| f.item_share(k, 256 * 1024)).collect();
        assert_eq!(shares.iter().filter(|&&x| x == 3.0 / 400.0).count(), 80);
        assert_eq!(shares.iter().filter(|&&x| x == 2.0 / 400.0).count(), 80);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((0..160).all(|k| f.item_share(k, 64 * 1024) == 10.0 / 1600.0));
        // 1 MB in 256 KB chunks: 4 chunks for 160 workers, so 4 workers run.
        let s = load(GOOD, &["workflow.fan_out.w.chunks_of_kb=1024", "workflow.fan_out.w.items=160"]).expect("valid");
        assert_eq!(s.workflow.fan_outs[0].item_count(256 * 1024), 4);
        assert_eq!(s.workflow.fan_outs[0].item_share(3, 256 * 1024), 0.25);
        // Without chunks: the equal split.
        let s = load(GOOD, &[]).expect("valid");
        assert_eq!((s.workflow.fan_outs[0].item_count(256 * 1024), s.workflow.fan_outs[0].item_share(2, 1024)), (4, 0.25));
        // Chunks share totals: they need `split`, and a positive size.
        let e = load(GOOD, &["workflow.fan_out.w.chunks_of_kb=1024", "workflow.fan_out.w.split=false"]).unwrap_err();
        assert_eq!(e.key, "workflow.fan_out.w.chunks_of_kb");
        let e = load(GOOD, &["workflow.fan_out.w.chunks_of_kb=0"]).unwrap_err();
        assert_eq!(e.key, "workflow.fan_out.w.chunks_of_kb");
    }

    #[test]
    fn errors_name_line_col_and_key() {
        let e = load(GOOD, &["workflow.fan_out.w.items=0"]).unwrap_err();
        assert_eq!(e.key, "workflow.fan_out.w.items");
        assert!(e.message.contains("at least 1 item"), "{e}");
        assert!(e.message.contains("--set workflow.fan_out.w.items=0"), "{e}");
        assert_eq!(e.line, 0, "a value written by --set has no line in the file");

        let bad = GOOD.replace("value_s = 1.0", "value_s = -1.0");
        let e = load(&bad, &[]).unwrap_err();
        assert_eq!(e.key, "workflow.steps.a.cpu_s.value_s");
        assert_eq!(e.line, 18);
        // Overrides that add lines elsewhere do not shift the reported line.
        let e = load(&bad, &["scenario.replications=2", "workflow.state.extra.size_kb=1"]).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("workflow.steps.a.cpu_s.value_s", 18), "{e}");
        let e = load(GOOD, &["workflow.fan_out.w.itmes=3"]).unwrap_err();
        assert!(e.message.contains("unknown field `itmes`") && e.message.contains("--set"), "{e}");

        let bad = GOOD.replace("memory_mb = 1536", "memory_mb = 1536\ncolour = 3");
        let e = load(&bad, &[]).unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.line, 13);

        let bad = GOOD.replace("dist = \"lognormal\"", "dist = \"weibull\"");
        let e = load(&bad, &[]).unwrap_err();
        assert!(e.message.contains("weibull"), "{e}");
        assert!(e.key.starts_with("workflow.steps.b.cpu_s"), "{e}");

        let bad = GOOD.replace("{ step = \"b\" }], [", "{ step = \"bb\" }], [");
        let e = load(&bad, &[]).unwrap_err();
        assert!(e.message.contains("did you mean `b`"), "{e}");
        assert_eq!(e.key, "workflow.flow.1.parallel.0.0.step");

        let bad = GOOD.replace("memory_mb = 100\nstate", "memory_mb = \"lots\"\nstate");
        let e = load(&bad, &[]).unwrap_err();
        assert_eq!(e.key, "workflow.steps.a.memory_mb");
        assert!(e.message.contains("invalid type"), "{e}");

        let e = load("[scenario\nname=1", &[]).unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn a_wrong_type_inside_a_kind_named_table_is_placed_at_its_field() {
        // `[arrivals]` and `cpu_s` name their kind, so serde reads them whole and blames the
        // table; the error names the field and points at its value.
        let bad = GOOD.replace("interval_s = 3600", "interval_s = \"hourly\"");
        let e = load(&bad, &[]).unwrap_err();
        assert_eq!(e.key, "arrivals.interval_s", "{e}");
        assert_eq!((e.line, e.col), (9, 14), "{e}");
        assert!(e.message.contains("invalid type: string \"hourly\""), "{e}");
        let bad = GOOD.replace("median_s = 1.0, sigma = 0.1", "median_s = true, sigma = 0.1");
        let e = load(&bad, &[]).unwrap_err();
        assert_eq!(e.key, "workflow.steps.b.cpu_s.median_s", "{e}");
        assert_eq!((e.line, e.col), (23, 42), "{e}");
        // Two fields holding the quoted value: the table is blamed, as before, not a guess.
        let bad = GOOD.replace("median_s = 1.0, sigma = 0.1", "median_s = \"x\", sigma = \"x\"");
        let e = load(&bad, &[]).unwrap_err();
        assert_eq!(e.key, "workflow.steps.b.cpu_s", "{e}");
        assert_eq!(e.line, 23, "{e}");
    }

    const BANK: &str = r#"
[scenario]
name = "bank"
[arrivals]
kind = "poisson"
rate_per_s = 1
[workflow]
flow = [
  { lock = ["account[0]", "account[1]"], body = [{ call_entity = "account[1]", op = "deposit" }] },
  { signal_entity = "audit", op = "add" },
]
[workflow.steps.s]
cpu_s = { dist = "fixed", value_s = 0.0 }
memory_mb = 64
[workflow.state.account]
size_kb = 1
keys = 1000
refs = 2
distinct = true
[workflow.state.audit]
size_kb = 1
"#;

    #[test]
    fn entity_elements_validate_with_positions() {
        let s = load(BANK, &[]).expect("valid");
        assert_eq!(s.workflow.state[0].keying.keys, 1000);
        assert_eq!(s.workflow.entity_ops.len(), 2);
        assert!(matches!(&s.workflow.flow[0], Node::Lock(refs, body) if refs.len() == 2 && body.len() == 1));
        let cases: [(&str, &str, &str, &str); 8] = [
            ("keys = 1000", "keys = 0", "workflow.state.account.keys", "within 1-"),
            ("keys = 1000", "keys = 1", "workflow.state.account.refs", "2 distinct keys cannot be drawn from 1"),
            ("\"account[0]\", \"account[1]\"]", "\"acount[0]\"]", "workflow.flow.0.lock.0", "unknown state object `acount`"),
            ("\"account[1]\", op = \"deposit\"", "\"account[2]\", op = \"deposit\"", "workflow.flow.0.body.0.call_entity", "below 2"),
            ("\"account[0]\", \"account[1]\"]", "\"account[0]\"]", "workflow.flow.0.body.0.call_entity", "not locked"),
            ("signal_entity = \"audit\", op", "signal_entity = \"audit\", body = [], op", "workflow.flow", "`body` belongs to a `lock`"),
            (
                "{ call_entity = \"account[1]\", op = \"deposit\" }",
                "{ lock = [\"audit\"], body = [{ step = \"s\" }] }",
                "workflow.flow.0.body.0.lock",
                "critical section",
            ),
            (
                "distinct = true",
                "distinct = true\nkey = { dist = \"zipf\", exponent = -1 }",
                "workflow.state.account.key.exponent",
                "[0, 100]",
            ),
        ];
        for (from, to, key, msg) in cases {
            let text = BANK.replacen(from, to, 1);
            assert_ne!(text, BANK, "{from}");
            let e = load(&text, &[]).unwrap_err();
            assert!(e.key.starts_with(key) && e.message.contains(msg), "{to}: {e}");
            assert!(e.line > 0, "{to}: positioned: {e}");
        }
    }

    /// A Durable deployment's own program (`[deployment.az-dent] flow`), as the paper's Az-Dent
    /// training: an entity operation that runs a step, a collector signal that runs another.
    const OWN: &str = r#"
[scenario]
name = "own"
[arrivals]
kind = "poisson"
rate_per_s = 1
[deployment.az-dent]
flow = [
  { step = "prep" },
  { parallel = [[{ call_entity = "model", op = "fit", step = "train" }], [{ step = "other" }]] },
  { signal_entity = "best", op = "collect", step = "pick" },
]
[workflow]
flow = [{ step = "prep" }, { parallel = [[{ step = "train" }], [{ step = "other" }]] }, { step = "pick" }]
[workflow.steps.prep]
cpu_s = { dist = "fixed", value_s = 1.0 }
memory_mb = 64
[workflow.steps.train]
cpu_s = { dist = "fixed", value_s = 1.0 }
memory_mb = 64
state_reads = ["data"]
state_updates = ["best"]
[workflow.steps.other]
cpu_s = { dist = "fixed", value_s = 1.0 }
memory_mb = 64
[workflow.steps.pick]
cpu_s = { dist = "fixed", value_s = 1.0 }
memory_mb = 64
state_updates = ["best"]
[workflow.state.model]
size_kb = 1
[workflow.state.data]
size_kb = 1
[workflow.state.best]
size_kb = 1
"#;

    #[test]
    fn a_deployments_own_flow_validates_into_its_config() {
        let s = load(OWN, &[]).expect("valid");
        let flow = s.deployment["az-dent"].flow.as_ref().expect("az-dent has its own program");
        assert_eq!(flow.len(), 3);
        let step = |name: &str| StepId(s.workflow.steps.iter().position(|x| x.name == name).expect("step") as u32);
        // The workflow's flow has no entity operations; the program's two are appended.
        assert_eq!(s.workflow.entity_ops.len(), 2);
        assert_eq!(s.workflow.entity_ops[0].step, Some(step("train")));
        assert!(s.workflow.entity_ops[0].writes && s.workflow.entity_ops[0].op == "fit");
        assert_eq!(s.workflow.entity_ops[1].step, Some(step("pick")));
        assert!(matches!(&flow[1], Node::Parallel(b) if matches!(b[0][..], [Node::CallEntity(EntityOpId(0))])));
        assert!(matches!(flow[2], Node::SignalEntity(EntityOpId(1))));
        assert_eq!(s.workflow.flow[2], Node::Step(step("pick")));
        // A fan-out runs its body once per element, in both flows alike.
        let fan = OWN
            .replace("[workflow]\n", "[workflow.fan_out.w]\nitems = 3\nbody = [{ step = \"other\" }]\n[workflow]\n")
            .replace("[{ step = \"other\" }]] }", "[{ fan_out = \"w\" }]] }");
        let s = load(&fan, &[]).expect("a fan-out in both flows");
        assert!(
            matches!(&s.deployment["az-dent"].flow.as_ref().expect("flow")[1], Node::Parallel(b) if b[1] == [Node::FanOut(FanOutId(0))])
        );
        // Without a program of its own a deployment runs `[workflow] flow`.
        let s = load(&OWN.replace("[deployment.az-dent]\nflow", "[deployment.az-dorch]\nflow"), &[]).expect("az-dorch too");
        assert!(s.deployment["az-dorch"].flow.is_some() && !s.deployment.contains_key("az-dent"));
    }

    #[test]
    fn a_deployments_own_flow_must_run_every_step_as_often() {
        // Skipped: `prep` is not in the program.
        let skip = OWN.replacen("  { step = \"prep\" },\n", "", 1);
        let e = load(&skip, &[]).unwrap_err();
        assert_eq!((e.key.as_str(), e.line, e.col), ("deployment.az-dent.flow", 8, 8), "{e}");
        assert!(
            e.message.contains("step `prep` runs 0 time(s) here and 1 time(s) in [workflow] flow") && e.message.contains("each as often"),
            "{e}"
        );
        // Repeated: `other` twice.
        let twice = OWN.replacen("[{ step = \"other\" }]] },", "[{ step = \"other\" }]] },\n  { step = \"other\" },", 1);
        let e = load(&twice, &[]).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("deployment.az-dent.flow", 8), "{e}");
        assert!(e.message.contains("step `other` runs 2 time(s) here and 1 time(s) in [workflow] flow"), "{e}");
        // An entity operation's step counts: the same step as an operation and as a step is twice.
        let both = OWN.replacen("{ step = \"prep\" },\n  { parallel", "{ step = \"prep\" },\n  { step = \"train\" },\n  { parallel", 1);
        let e = load(&both, &[]).unwrap_err();
        assert!(e.key == "deployment.az-dent.flow" && e.message.contains("step `train` runs 2 time(s) here"), "{e}");
        // Set on the command line: the key, without a line.
        let e = load(OWN, &["deployment.az-dent.flow=[{ step = \"prep\" }]"]).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("deployment.az-dent.flow", 0), "{e}");
        assert!(e.message.contains("step `other` runs 0 time(s)"), "{e}");
    }

    #[test]
    fn an_entity_operations_step_validates_with_positions() {
        // (from, to, key, line:col, message): each in the program unless said.
        let cases: [(&str, &str, &str, (usize, usize), &str); 6] = [
            // A step on an entity operation of `[workflow] flow`: only a Durable deployment's program runs code in entities.
            (
                "[[{ step = \"train\" }], [{ step = \"other\" }]] }, { step = \"pick\" }]",
                "[[{ step = \"train\" }], [{ step = \"other\" }]] }, { signal_entity = \"best\", op = \"collect\", step = \"pick\" }]",
                "workflow.flow.2.step",
                (14, 138),
                "an entity operation runs a step's work only in a Durable deployment's own program",
            ),
            // ... nor one of a fan-out's body (the workflow's, on every deployment).
            (
                "[workflow]\n",
                "[workflow.fan_out.w]\nitems = 2\nbody = [{ call_entity = \"model\", step = \"other\" }]\n[workflow]\n",
                "workflow.fan_out.w.body.0.step",
                (15, 41),
                "only Durable entities run code",
            ),
            // An unknown step, with a suggestion.
            (
                "op = \"fit\", step = \"train\"",
                "op = \"fit\", step = \"trian\"",
                "deployment.az-dent.flow.1.parallel.0.0.step",
                (10, 62),
                "unknown step `trian`",
            ),
            ("step = \"pick\" },\n]", "step = \"pik\" },\n]", "deployment.az-dent.flow.2.step", (11, 52), "did you mean `pick`"),
            // In a critical section the operation's step follows a step's rules: `train` reads
            // `data`, which is not locked ...
            (
                "[{ call_entity = \"model\", op = \"fit\", step = \"train\" }]",
                "[{ lock = [\"model\"], body = [{ call_entity = \"model\", op = \"fit\", step = \"train\" }] }]",
                "deployment.az-dent.flow.1.parallel.0.0.body.0.step",
                (10, 90),
                "step `train` reads a state object it has not locked",
            ),
            // ... and signals `best`, which is.
            (
                "[{ call_entity = \"model\", op = \"fit\", step = \"train\" }]",
                "[{ lock = [\"model\", \"data\", \"best\"], body = [{ call_entity = \"model\", op = \"fit\", step = \"train\" }] }]",
                "deployment.az-dent.flow.1.parallel.0.0.body.0.step",
                (10, 106),
                "step `train` signals (state_updates) a locked entity",
            ),
        ];
        for (from, to, key, (line, col), msg) in cases {
            let text = OWN.replacen(from, to, 1);
            assert_ne!(text, OWN, "{from}");
            let e = load(&text, &[]).unwrap_err();
            assert_eq!((e.key.as_str(), e.line, e.col), (key, line, col), "{to}: {e}");
            assert!(e.message.contains(msg), "{to}: {e}");
        }
        // The section that locks what `train` reads, and not what it signals, is valid.
        let locked = OWN.replacen(
            "[{ call_entity = \"model\", op = \"fit\", step = \"train\" }]",
            "[{ lock = [\"model\", \"data\"], body = [{ call_entity = \"model\", op = \"fit\", step = \"train\" }] }]",
            1,
        );
        load(&locked, &[]).expect("train's reads locked, its update not");
        // `step` beside `lock` or `parallel` is two kinds; `op` without an entity is refused.
        let e = load(&OWN.replacen("{ step = \"prep\" }", "{ step = \"prep\", lock = [\"model\"], body = [] }", 1), &[]).unwrap_err();
        assert!(e.key.starts_with("deployment.az-dent.flow") && e.message.contains("more than one kind"), "{e}");
        let e = load(&OWN.replacen("{ step = \"prep\" }", "{ step = \"prep\", op = \"fit\" }", 1), &[]).unwrap_err();
        assert!(e.message.contains("`op` and `op_cpu_s` belong to"), "{e}");
    }
}
