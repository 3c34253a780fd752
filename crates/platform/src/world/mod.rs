//! The one simulation world: every deployment, one event loop.
//!
//! **Models.** A replication is one world of *apps* (a Lambda function, one per Step Functions
//! task, or one Azure function app whose hosts run every function of the deployment),
//! *invocations* (one billed execution of a function body on an instance: the whole workflow
//! in a single function, a Lambda task, a queue-triggered function, a Durable orchestrator
//! episode, an activity, an entity operation batch) and the *driver* of the deployment
//! ([`Driver`]), which decides what runs next when an invocation ends or a message arrives:
//!
//! ```text
//!   arrival ─► driver ─► invoke(app, body) ─► instance slot ─► phases (CPU/IO/storage) ─► driver
//!                 ▲            │ Azure: put message ─► storage queue ─► host poller ─┘
//!                 └── timers (Step transitions, token bucket) ◄───────────────────────┘
//! ```
//!
//! | driver | deployments | module |
//! |---|---|---|
//! | single function | `aws-lambda`, `az-func` | [`single`] |
//! | chain | `az-queue`, `az-blob`, `aws-sqs` | [`chain`] (Azure queues and polling in [`azure`], SQS and its event source mappings in [`sqs`]) |
//! | Durable Functions | `az-dorch`, `az-dent` | [`durable`] |
//! | Step Functions | `aws-step` | [`step`]: generated machines and machines given in ASL |
//!
//! Every driver runs its invocations through the same instance pool (this module: instances,
//! cold starts, keep-alive, execution slots per class, the Python worker's threads, scale-out,
//! Lambda throttling, CPU sharing, the memory meter and billing), built from the mechanism
//! modules ([`crate::cpu`], [`crate::coldstart`], [`crate::scaling`], [`crate::billing`]). Azure
//! hosts have execution slots per class of function (HTTP/queue functions, orchestrators and
//! entities, activities: `maxConcurrent*` of Durable Functions) and every invocation on a host
//! shares its one CPU. An Azure host's Python worker runs `python_thread_pool` invocations at
//! once (PYTHON_THREADPOOL_THREAD_COUNT, 1 before Python 3.9, over every kind of function): an
//! invocation that got a slot but no thread waits in the worker, FIFO. The platform has
//! dispatched it, so the wait counts as execution in the breakdown (as Application Insights
//! reports it), but the function timeout runs only from the worker's start of its code (it
//! cannot time out while it waits; assumed, consistent with SeBS-Flow's 1000-genome Azure run,
//! calibration/README.md session 18), a fan-out worker's scheduling delay runs to its code's
//! start, and the memory meter does not run for it.
//!
//! **Latency breakdown.** Every execution owns *strands*, threads of control whose every
//! nanosecond is charged to one [`Component`]. A fork creates child strands; at the join the
//! child that finished last lends its breakdown to the parent for the time since the fork, so an
//! execution's parts sum exactly to its latency along the critical path.
//!
//! **Cost.** Work per event is bounded by what is in flight: the count of ended executions is
//! kept, not recounted; an app's free instances are a most-recently-used stack with lazy
//! removal; Durable work waiting for its partition's host is queued per partition.
//!
//! **Scope and limitations.** See each driver; [`azure`] for queues, polling and the scale
//! controller. Per-execution driver state (orchestrations, Step sequences, strands) is kept
//! until the run ends.
//!
//! **Validation.** `crates/platform/tests/stateless_lifecycle.rs` (warm reuse, keep-alive,
//! throttling, payload and timeout failures, processor sharing), `tests/stateful_mechanisms.rs`
//! (hand-computed replay counts, transitions of a Map, polling backoff, entity serialization,
//! payload limits, scale-out pace), the queueing oracles of `tests/queueing_oracle.rs` and the
//! seed sweeps in `tests/invariants.rs`.

pub mod arrivals;
pub mod azure;
pub mod chain;
pub mod durable;
mod pool;
pub mod single;
pub mod sqs;
pub mod step;

use std::collections::VecDeque;

use crate::workload::Item;
use rand_distr::{Distribution, LogNormal};
use sfsim_engine::{EventKey, EventQueue, RngStreams, SimDuration, SimRng, SimTime};
use sfsim_workflow::{Arrivals, DeploymentConfig, Node, Step, StepId, Workflow};

use crate::billing::Cost;
use crate::cpu::CpuShare;
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::error::PlatformError;
use crate::params::Models;
use crate::record::{Breakdown, Component, ExecRecord, Outcome, RunOutput, StatefulCounts};
use crate::scaling::{HostScaler, LambdaScaler};
use crate::storage::{FunctionTransfer, StorageOp};
use crate::trace::{TraceEvent, TraceSink};
use crate::workload::Work;

/// Trace track of execution `e` is `EXEC_TRACK_BASE + e` (instance tracks are below it).
pub(crate) const EXEC_TRACK_BASE: u32 = 0x4000_0000;

/// After the last arrival, an execution still running this long is declared stuck.
const STUCK_AFTER: SimDuration = SimDuration::from_secs(30 * 86_400);

/// Classes of execution slots on an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// HTTP- or queue-triggered functions, Lambda tasks.
    Function = 0,
    /// Durable orchestrator episodes and entity batches (the orchestration dispatcher).
    Orchestrator = 1,
    /// Durable activities (the work-item dispatcher).
    Activity = 2,
}

/// One function app (Azure) or function (Lambda) of a deployment.
#[derive(Clone, Debug)]
pub struct AppDef {
    /// Name in traces.
    pub name: String,
    /// Instances, cold start, billing.
    pub platform: FunctionPlatform,
    /// Execution slots per instance, by [`Class`].
    pub slots: [u32; 3],
    /// Lambda semantics (new instance per request, throttle) instead of Azure hosts.
    pub lambda: bool,
    /// Azure: pace of host additions for HTTP demand.
    pub http_interval: SimDuration,
    /// Azure: pace of host additions for queue demand.
    pub queue_interval: SimDuration,
    /// Azure: host cap.
    pub max_hosts: u32,
}

/// What decides, per kind of deployment, what runs next (each variant holds its settings).
// Built once per plan, not per event: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Driver {
    /// `aws-lambda`, `az-func`: the whole workflow in one invocation of one function.
    Single,
    /// `az-queue`, `az-blob`, `aws-sqs`: functions chained through queues or blobs.
    Chain(chain::Hop),
    /// `az-dorch`, `az-dent`: a Durable orchestrator calling activities or entities.
    Durable(Box<durable::DurableSetup>),
    /// `aws-step`: a Step Functions state machine calling Lambda tasks.
    Step(Box<step::StepSetup>),
}

/// A deployment assembled for one workflow: its apps and its driver, built once per run from
/// models and scenario.
#[derive(Clone, Debug)]
pub struct DeploymentPlan {
    /// Which deployment.
    pub deployment: Deployment,
    /// Its apps.
    pub apps: Vec<AppDef>,
    /// Its driver.
    pub driver: Driver,
    /// The payload limit its workflow's chunks are cut to, bytes
    /// ([`Deployment::chunk_payload_bytes`]).
    pub chunk_bytes: u64,
}

impl DeploymentPlan {
    /// Assembles `deployment` for `workflow` from the models and the scenario's settings.
    pub fn build(
        deployment: Deployment,
        models: &Models,
        cfg: &DeploymentConfig,
        workflow: &Workflow,
    ) -> Result<DeploymentPlan, ConfigError> {
        refuse_entity_elements(deployment, workflow)?;
        let mut plan = match deployment {
            Deployment::AwsLambda | Deployment::AzFunc => single::plan(deployment, models, cfg),
            Deployment::AzQueue | Deployment::AzBlob | Deployment::AwsSqs => chain::plan(deployment, models, cfg, workflow),
            Deployment::AzDorch | Deployment::AzDent => durable::plan(deployment, models, cfg, workflow),
            Deployment::AwsStep => step::plan(models, cfg, workflow),
        }?;
        plan.chunk_bytes = deployment.chunk_payload_bytes(models);
        Ok(plan)
    }

    /// The deployment's name.
    pub fn name(&self) -> &'static str {
        self.deployment.name()
    }

    /// Most executions the deployment can run at once, and what sets it: Lambda's account
    /// concurrency, or an Azure app's most hosts times the executions a host runs at once (the
    /// Python worker's threads, else its slots).
    pub fn capacity(&self) -> (f64, String) {
        let Some(app) = self.apps.first() else { return (0.0, "no function".into()) };
        match app.platform.scaling {
            crate::deployment::ScalePolicy::LambdaBurst { limit, .. } => {
                (f64::from(limit), format!("the account's Lambda concurrency of {limit}"))
            }
            _ => {
                let (per_host, what) = match app.platform.code_threads {
                    0 => (app.slots[0], "execution slot(s)"),
                    t => (t, "Python worker thread(s)"),
                };
                (f64::from(app.max_hosts) * f64::from(per_host), format!("at most {} hosts x {per_host} {what}", app.max_hosts))
            }
        }
    }

    /// Simulates one replication, keeping every execution's record (tests, small runs).
    pub fn run(&self, workflow: &Workflow, arrivals: &Arrivals, iterations: u64, streams: RngStreams, trace: bool) -> RunOutput {
        simulate(&RunSpec { plan: self, workflow, arrivals, iterations, streams, trace, keep_records: true, measure_after: SimTime::ZERO })
    }

    /// Simulates one replication, folding executions as they end, with its timeline and its
    /// executions streamed to `sinks`.
    pub fn run_streamed(&self, workflow: &Workflow, arrivals: &Arrivals, iterations: u64, streams: RngStreams, sinks: Sinks) -> RunOutput {
        let trace = sinks.trace.is_some();
        simulate_into(
            &RunSpec { plan: self, workflow, arrivals, iterations, streams, trace, keep_records: false, measure_after: SimTime::ZERO },
            sinks,
        )
    }

    /// Simulates one replication, folding executions as they end ([`RunOutput::fold`]) without
    /// keeping their records: memory bounded by what is in flight.
    pub fn run_folded(&self, workflow: &Workflow, arrivals: &Arrivals, iterations: u64, streams: RngStreams, trace: bool) -> RunOutput {
        simulate(&RunSpec { plan: self, workflow, arrivals, iterations, streams, trace, keep_records: false, measure_after: SimTime::ZERO })
    }
}

/// Where a replication streams what it produces instead of keeping it.
#[derive(Default)]
pub struct Sinks {
    /// The timeline ([`RunSpec::trace`] must be set for events to be recorded).
    pub trace: Option<Box<dyn TraceSink>>,
    /// Every execution as it ends, with its invocations.
    pub executions: Option<Box<dyn crate::record::ExecSink>>,
}

/// What to simulate: one replication of one deployment.
pub struct RunSpec<'a> {
    /// The deployment plan.
    pub plan: &'a DeploymentPlan,
    /// The workflow.
    pub workflow: &'a Workflow,
    /// Arrivals.
    pub arrivals: &'a Arrivals,
    /// Executions.
    pub iterations: u64,
    /// Random streams.
    pub streams: RngStreams,
    /// Record a timeline.
    pub trace: bool,
    /// Keep every execution's record in [`RunOutput::executions`] (else only the fold).
    pub keep_records: bool,
    /// Executions arriving before this are simulated (they warm the platform up) but left out
    /// of the statistics: the fold, the records, the per-worker and per-hop samples.
    pub measure_after: SimTime,
}

// ---------------------------------------------------------------------------------------------
// Work: phases of an invocation body
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum PhaseKind {
    /// CPU work in vCPU-seconds.
    Cpu(f64),
    /// A fixed wait (non-CPU I/O, storage latency).
    Wait(SimDuration),
    /// CPU work (vCPU-seconds) that the code of function `function` (a [`StepId`]'s index) does
    /// on its first call on an instance (a step's `first_call_cpu_s`): when the invocation is
    /// dispatched, it stays for the instance's first call of the function and is dropped for
    /// every later one ([`World::resolve_first_calls`]).
    FirstCallCpu { function: u32, work: f64 },
    /// A wait that, as [`PhaseKind::FirstCallCpu`], only an instance's first call of `function`
    /// has (the store's connection: `function` is [`STORE_CONNECTION`]).
    FirstCallWait { function: u32, wait: SimDuration },
    /// The rest of a storage operation's network time after its client's CPU phase (the phase
    /// before it): a wait of `max(0, network - that phase's duration)` ([`crate::storage`]).
    NetworkRest(SimDuration),
}

/// The first-call id of the object store's connection, apart from every function's (a step's
/// index): an instance opens it once, whichever function makes its first request.
pub(crate) const STORE_CONNECTION: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Phase {
    pub kind: PhaseKind,
    pub memory_mb: f32,
    pub comp: Component,
    /// Object-storage operation this phase performs, if any (counted and billed).
    pub storage: Option<StorageOp>,
    /// Done by the Functions host itself, not by the language worker: it does not hold a
    /// worker thread ([`crate::world::pool`]). Only leading and trailing phases count.
    pub host: bool,
    /// Threads a CPU phase computes on (a step's own `threads`); 0: the platform's default.
    pub threads: u8,
}

// An invocation's phases are stored per invocation: keep a phase in 24 bytes.
const _: () = assert!(std::mem::size_of::<Phase>() <= 24);

impl Phase {
    pub fn cpu(work: f64, memory_mb: f64, comp: Component) -> Phase {
        Phase { kind: PhaseKind::Cpu(work), memory_mb: memory_mb as f32, comp, storage: None, host: false, threads: 0 }
    }
    /// An object-storage transfer taking `d` (counted and billed as operation `op`).
    pub fn transfer(d: SimDuration, memory_mb: f64, op: StorageOp) -> Phase {
        Phase { storage: Some(op), ..Phase::wait(d, memory_mb, Component::Transfer) }
    }
    /// A function's storage operation `op` ([`crate::storage::ObjectStore::function_transfer`]):
    /// the store's connection (its wait and client CPU, kept by the pool for an instance's first
    /// request only: [`STORE_CONNECTION`]), the first byte's latency (counted and billed as
    /// `op`), then its client's CPU on one thread overlapped with the body's network time: the
    /// CPU phase, then the network's rest.
    pub fn push_function_transfer(out: &mut Vec<Phase>, t: FunctionTransfer, memory_mb: f64, op: StorageOp) {
        if t.connect > SimDuration::ZERO {
            let kind = PhaseKind::FirstCallWait { function: STORE_CONNECTION, wait: t.connect };
            out.push(Phase { kind, ..Phase::wait(t.connect, memory_mb, Component::Transfer) });
        }
        if t.connect_cpu_s > 0.0 {
            let kind = PhaseKind::FirstCallCpu { function: STORE_CONNECTION, work: t.connect_cpu_s };
            out.push(Phase { kind, threads: 1, ..Phase::cpu(t.connect_cpu_s, memory_mb, Component::Transfer) });
        }
        if t.cpu_s <= 0.0 {
            out.push(Phase::transfer(t.latency + t.network, memory_mb, op));
            return;
        }
        out.push(Phase::transfer(t.latency, memory_mb, op));
        out.push(Phase { threads: 1, ..Phase::cpu(t.cpu_s, memory_mb, Component::Transfer) });
        out.push(Phase { kind: PhaseKind::NetworkRest(t.network), ..Phase::wait(SimDuration::ZERO, memory_mb, Component::Transfer) });
    }
    pub fn wait(d: SimDuration, memory_mb: f64, comp: Component) -> Phase {
        Phase { kind: PhaseKind::Wait(d), memory_mb: memory_mb as f32, comp, storage: None, host: false, threads: 0 }
    }
    /// The same work, done by the host (no worker thread).
    pub fn on_host(mut self) -> Phase {
        self.host = true;
        self
    }
}

fn step_name(wf: &Workflow, s: StepId) -> &str {
    wf.steps.get(s.0 as usize).map_or("?", |x| x.name.as_str())
}

/// Appends the phases of one step ([`crate::workload::step_work`]): object reads (and state
/// reads when `state_via_storage`), CPU, I/O, writes. `state_via_storage` says whether state
/// objects live in remote storage (AWS, az-queue) or in entities (Durable: the driver reads them
/// from entities instead).
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_phases(
    s: &Step,
    work: &mut sfsim_engine::WorkRng,
    share: f64,
    fetch: bool,
    p: &FunctionPlatform,
    w: &Workflow,
    state_via_storage: bool,
    rng: &mut crate::workload::StorageRng<'_>,
    out: &mut Vec<Phase>,
) {
    let mem = s.memory_mb;
    crate::workload::step_work(s, w, p, share, fetch, state_via_storage, work, rng, |x| match x {
        Work::FirstCall(c) => out.push(Phase {
            kind: PhaseKind::FirstCallCpu { function: s.function.0, work: c },
            threads: 1,
            ..Phase::cpu(c, mem, Component::Execution)
        }),
        Work::Get(t) => Phase::push_function_transfer(out, t, mem, StorageOp::Get),
        Work::Cpu(c) => out.push(Phase { threads: s.threads.unwrap_or(0), ..Phase::cpu(c, mem, Component::Execution) }),
        Work::Io(d) => out.push(Phase::wait(d, mem, Component::Execution)),
        Work::Put(t) => Phase::push_function_transfer(out, t, mem, StorageOp::Put),
    });
}

/// A log-normal latency of median `median_s` and log-sd `sigma`, drawn from `rng`.
pub(crate) fn lognormal_from(median_s: f64, sigma: f64, rng: &mut SimRng) -> SimDuration {
    let l = LogNormal::new(median_s.max(1e-9).ln(), sigma).expect("validated latency parameters");
    SimDuration::from_secs_f64(l.sample(rng))
}

/// Payload of a step scaled by a split fan-out's share, bytes.
pub(crate) fn scaled(bytes: u64, share: f64) -> u64 {
    (bytes as f64 * share).round() as u64
}

// ---------------------------------------------------------------------------------------------
// World state
// ---------------------------------------------------------------------------------------------

/// What happens when an invocation ends (interpreted by the driver).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cont {
    /// az-queue: function `node` of the chain finished.
    Chain { node: u32 },
    /// Durable: the HTTP starter finished; start orchestration `orch`.
    Starter { orch: durable::OrchId },
    /// Durable: an activity of task `task` of orchestration `orch` finished.
    Activity { orch: durable::OrchId, task: u32 },
    /// Durable: an episode of orchestration `orch` finished.
    Episode { orch: durable::OrchId },
    /// Durable: a batch of entity `entity` finished.
    EntityBatch { entity: durable::EntityId },
    /// Step Functions: the Lambda of the Task state of run `run` finished.
    StepTask { run: step::RunId },
    /// aws-lambda, az-func: the function that runs the whole workflow finished.
    Single,
}

impl Cont {
    /// A function of the workflow (not a starter, an orchestrator episode, nor the single
    /// function that runs all of it).
    pub(crate) fn is_workflow_function(self) -> bool {
        matches!(self, Cont::StepTask { .. } | Cont::Activity { .. } | Cont::Chain { .. } | Cont::EntityBatch { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InvStatus {
    Waiting,
    Starting,
    Running,
    Done,
}

pub(crate) struct Inv {
    pub app: AppId,
    pub class: Class,
    pub exec: ExecId,
    /// Strands charged with this invocation's time (one, or several for an entity batch).
    pub strands: Vec<StrandId>,
    pub phases: Vec<Phase>,
    next: usize,
    /// The instance it was dispatched to (none while it waits at the front end).
    pub instance: Option<InstId>,
    slot: u32,
    status: InvStatus,
    wait_since: SimTime,
    assigned_at: SimTime,
    start: SimTime,
    phase_start: SimTime,
    pub cold: bool,
    mem_mb_s: f64,
    /// Generation of its pending timeout (see [`DelayLine`]); 0: none.
    timeout_gen: u32,
    pub cont: Cont,
    /// Breakdown of the time from dispatch to the end, added to every strand at the end.
    bd: Breakdown,
    gets: u32,
    puts: u32,
    /// Memory of the current phase, MiB (Azure meter).
    cur_mem_mb: f64,
    /// The pending end of the current wait phase.
    phase_key: Option<EventKey>,
    /// Its share of the host's observed memory so far, MB-s (Azure).
    metered_mb_s: f64,
    /// Leading and trailing phases done by the host without a worker thread.
    host_prefix: u16,
    host_suffix: u16,
    /// It holds one of the worker's threads.
    holds_thread: bool,
    /// Its first phase has started (the memory meter runs for it).
    code_started: bool,
    /// Time it waited for a worker thread after the host's part: not billed, as the wait
    /// before a function's code is not.
    thread_waited: SimDuration,
    /// When the host dispatched it (the meter's start when it bills the wait for a thread).
    dispatched: SimTime,
    /// Durable: the partition whose orchestration session (episode, entity batch) it is.
    pub session: Option<u32>,
}

pub(crate) struct Inst {
    pub app: AppId,
    pub alive: bool,
    pub ready: bool,
    busy: [u32; 3],
    slots_used: u64,
    cpu: CpuShare,
    cpu_token: u64,
    keep_alive_gen: u32,
    idle_since: Option<SimTime>,
    assigned: Vec<InvId>,
    created: SimTime,
    poisoned: bool,
    /// The functions (a [`StepId`]'s index) whose first call it has run (`first_call_cpu_s`).
    first_calls: Vec<u32>,
    /// Its language worker restarts after a function timeout (a count of restarts, odd while
    /// one is under way): no invocation takes a worker thread until it is back.
    worker_restarts: u32,
    /// Scaled in while holding work: takes nothing new and leaves when its running work ends.
    draining: bool,
    /// The scale controller decided to remove it; it works on, uncounted, until the removal
    /// (`task_hub.scale_in_lag_s` later).
    leaving: bool,
    /// On its app's free stack.
    in_free: bool,
    /// Azure: pollers of the queues this host listens to.
    pub pollers: Vec<azure::HostPoller>,
    /// Azure memory meter: the invocations running on the host, their summed current memory,
    /// and when the meter last advanced.
    meter_running: Vec<InvId>,
    meter_mem_mb: f64,
    meter_last: SimTime,
    /// Durable: whether the extension has dispatched work on this host yet.
    pub durable_warm: bool,
    /// Invocations running code (holding one of the worker's threads).
    threads_busy: u32,
    /// Invocations dispatched to the host, waiting for a worker thread (FIFO).
    thread_wait: VecDeque<InvId>,
    /// Azure Flex and Premium: an always-ready instance (never reclaimed, billed as such).
    pub always_ready: bool,
    /// When it was reclaimed.
    gone: Option<SimTime>,
    /// Flex: when its current executing period began (the meter's running set became non-empty).
    active_since: SimTime,
}

impl Inst {
    fn busy_total(&self) -> u32 {
        self.busy.iter().sum()
    }

    /// Its language worker is restarting after a function timeout.
    fn worker_restarting(&self) -> bool {
        self.worker_restarts % 2 == 1
    }
}

/// Timers of one constant delay (an app's function timeout, its keep-alive). Every timer is set
/// `delay` after the moment it is set, so they fall due in the order they were set: one FIFO
/// and one pending event serve them all, instead of one heap entry each (a heap of every
/// running invocation's timeout and every idle instance's expiry grows with the load, and so
/// does the cost of each of its operations). A timer is cancelled by changing its target's
/// generation; a stale entry is dropped when it falls due.
#[derive(Default)]
pub(crate) struct DelayLine {
    fifo: VecDeque<(SimTime, u32, u32)>,
    armed: bool,
}

impl DelayLine {
    /// Adds a timer of target `id`, generation `gen`, due at `at` (never before the last one's
    /// due time). Returns whether the line's event must be scheduled (at `at`).
    fn push(&mut self, at: SimTime, id: u32, generation: u32) -> bool {
        debug_assert!(self.fifo.back().is_none_or(|b| b.0 <= at), "a delay line's timers fall due in order");
        self.fifo.push_back((at, id, generation));
        !std::mem::replace(&mut self.armed, true)
    }

    /// The next timer due at or before `now`.
    fn pop_due(&mut self, now: SimTime) -> Option<(u32, u32)> {
        match self.fifo.front() {
            Some(&(at, id, generation)) if at <= now => {
                self.fifo.pop_front();
                Some((id, generation))
            }
            _ => None,
        }
    }

    /// After the due timers were handled: when the line's event must fire next, if at all.
    fn rearm(&mut self) -> Option<SimTime> {
        let next = self.fifo.front().map(|f| f.0);
        self.armed = next.is_some();
        next
    }
}

pub(crate) struct AppState {
    /// Function timeouts of the app's invocations.
    timeouts: DelayLine,
    /// Keep-alive expiries of the app's idle instances.
    expiries: DelayLine,
    pub instances: Vec<InstId>,
    free: Vec<InstId>,
    starting: Vec<InstId>,
    waiting: VecDeque<InvId>,
    pub hosts: Option<HostScaler>,
    tick_pending: bool,
    pub alive: u32,
    in_flight: u32,
    pub peak: u32,
    pub started: u32,
}

/// An execution: its index in arrival order within the replication (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ExecId(pub u32);

impl std::fmt::Display for ExecId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A typed index into the world's vector of `$item`s (and, listed after it, vectors kept in
/// step with it, one element per id): `$id` indexes those vectors and no other.
macro_rules! typed_index {
    ($(#[$doc:meta])* $id:ident => $item:ty) => {
        typed_index!($(#[$doc])* $id(u32) => $item);
    };
    ($(#[$doc:meta])* $id:ident($repr:ty) => $($item:ty),+) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $id(pub $repr);

        $(
            impl std::ops::Index<$id> for Vec<$item> {
                type Output = $item;
                fn index(&self, i: $id) -> &$item {
                    &self[i.0 as usize]
                }
            }

            impl std::ops::IndexMut<$id> for Vec<$item> {
                fn index_mut(&mut self, i: $id) -> &mut $item {
                    &mut self[i.0 as usize]
                }
            }
        )+
    };
}

/// A typed id of a driver's slab objects: `$id` indexes `Slab<$item>` and no other.
macro_rules! slab_id {
    ($(#[$doc:meta])* $id:ident => $item:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) struct $id(u32);

        impl std::ops::Index<$id> for $crate::world::Slab<$item> {
            type Output = $item;
            fn index(&self, i: $id) -> &$item {
                &self[i.0 as usize]
            }
        }

        impl std::ops::IndexMut<$id> for $crate::world::Slab<$item> {
            fn index_mut(&mut self, i: $id) -> &mut $item {
                &mut self[i.0 as usize]
            }
        }
    };
}
pub(crate) use slab_id;

typed_index!(
    /// An app of the deployment (a function app, a Lambda function): its definition in the
    /// plan and its state in the world.
    AppId(u16) => AppDef, AppState
);
typed_index!(
    /// An instance of an app: a Lambda execution environment or an Azure host.
    InstId => Inst
);
typed_index!(
    /// An invocation (slots are reused once it ended).
    InvId => Inv
);
typed_index!(
    /// A storage queue of an Azure deployment.
    QueueId => azure::SQueue
);

/// A strand (thread of control) of an execution: the execution and the strand's index among
/// its strands. Strands live with their execution and go with it; charging a strand of an
/// ended execution does nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StrandId {
    pub exec: ExecId,
    idx: u32,
}

/// A fork of an execution, waiting for its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JoinId {
    exec: ExecId,
    idx: u32,
}

/// A thread of control of an execution; see the module docs.
#[derive(Clone, Debug)]
struct Strand {
    mark: SimTime,
    bd: Breakdown,
    /// When the strand's last workflow function ended (for the gap to the next one's start).
    fn_end: Option<SimTime>,
    /// Gaps recorded along the path so far: the next gap's position (`chain_gap_by_hop_s`).
    hops: u16,
}

/// A fork waiting for `remaining` child strands.
#[derive(Clone, Debug)]
struct Join {
    parent: u32,
    remaining: u32,
    /// The most hops any child arrived with (the parent's position after the join).
    hops: u16,
    /// The latest end of a function among the children arrived so far (SeBS-Flow's hop after a
    /// map or parallel state runs from the last branch's end, whichever branch arrives last).
    fn_end: Option<SimTime>,
}

/// What an execution has been billed and has done so far.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ExecAcc {
    pub cost: Cost,
    pub gb_s: f64,
    pub executed: SimDuration,
    pub billed: SimDuration,
    pub gets: u32,
    pub puts: u32,
    pub counts: StatefulCounts,
}

impl ExecAcc {
    fn totals(&self) -> crate::record::ExecTotals {
        crate::record::ExecTotals {
            cost: self.cost,
            gb_s: self.gb_s,
            executed_s: self.executed.as_secs_f64(),
            billed_s: self.billed.as_secs_f64(),
            storage_gets: u64::from(self.gets),
            storage_puts: u64::from(self.puts),
            counts: self.counts,
            invocations_at_least_one: self.counts.invocations,
        }
    }
}

/// A live execution: everything the world keeps about it until it ends.
pub(crate) struct ExecSt {
    pub arrival: SimTime,
    pub acc: ExecAcc,
    pub cold: bool,
    /// When the workflow's first function started (not the HTTP starter of Durable).
    pub first_start: Option<SimTime>,
    /// The first workflow function's code start (`SimTime::MAX` before one started) and the
    /// last one's end so far (the functions [`World::function_hop`] sees: Tasks, activities,
    /// queue functions, entity batches); events come in time order, so the latest end is the
    /// last.
    pub fn_first: SimTime,
    pub fn_last: SimTime,
    /// Durable: when the starter created the instance (runtime status Pending).
    pub pending: Option<SimTime>,
    /// Durable: when the first episode's checkpoint recorded runtime status Running.
    pub running: Option<SimTime>,
    /// Step Functions: events in the execution's history.
    pub history_events: u32,
    /// Driver objects to free when the execution ends.
    pub owned: Vec<Owned>,
    /// Strand 0 (the main one) inline: most executions never fork.
    main_strand: Strand,
    /// Strands 1.. (forks).
    forks: Vec<Strand>,
    joins: Vec<Join>,
    /// Its invocations so far, when executions are streamed out ([`crate::record::ExecSink`]).
    pub spans: Vec<crate::record::FunctionSpan>,
}

impl ExecSt {
    /// An execution arriving at `now`, its main strand (strand 0) starting then.
    fn new(now: SimTime) -> ExecSt {
        ExecSt {
            arrival: now,
            acc: ExecAcc::default(),
            cold: false,
            first_start: None,
            fn_first: SimTime::MAX,
            fn_last: SimTime::ZERO,
            pending: None,
            running: None,
            history_events: 0,
            owned: Vec::new(),
            main_strand: Strand { mark: now, bd: Breakdown::default(), fn_end: None, hops: 0 },
            forks: Vec::new(),
            joins: Vec::new(),
            spans: Vec::new(),
        }
    }

    fn strand(&self, idx: u32) -> &Strand {
        if idx == 0 { &self.main_strand } else { &self.forks[idx as usize - 1] }
    }

    fn strand_mut(&mut self, idx: u32) -> &mut Strand {
        if idx == 0 { &mut self.main_strand } else { &mut self.forks[idx as usize - 1] }
    }
}

/// Driver objects (orchestrations, Step sequences and groups, ...) by id, with the ids of
/// freed objects reused: a driver frees an execution's objects when the execution ends, so the
/// slab holds what is in flight. A freed id may be handed to another execution's object, so a
/// handler reached by an event about a freed object must first check that the event's own
/// execution is live ([`World::exec_done`]) and only then touch the object.
pub(crate) struct Slab<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { items: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slab<T> {
    /// Stores `x`; returns its id.
    pub fn insert(&mut self, x: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.items[id as usize] = x;
                id
            }
            None => {
                self.items.push(x);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Frees `id` for reuse; `clear` drops what the object holds on the heap.
    pub fn remove(&mut self, id: u32, clear: impl FnOnce(&mut T)) {
        clear(&mut self.items[id as usize]);
        self.free.push(id);
    }

    /// Objects stored and not freed.
    pub fn live(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// A slot by id.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.items.get(id as usize)
    }

    /// A slot by id.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.items.get_mut(id as usize)
    }
}

impl<T> std::ops::Index<usize> for Slab<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.items[i]
    }
}

impl<T> std::ops::IndexMut<usize> for Slab<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.items[i]
    }
}

/// What a driver keeps for an execution and frees when it ends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owned {
    /// A Durable orchestration (the execution's or a sub-orchestration).
    Orch(durable::OrchId),
    /// A Step Functions run (the machine, a branch, a Map iteration).
    StepRun(step::RunId),
    /// A Step Functions Parallel or Map state waiting for its children.
    StepGroup(step::GroupId),
}

/// The live executions, by id. Ids are given in arrival order and never reused; an execution
/// leaves when it ends, and the table drops its front while the front has ended, so it holds
/// what is in flight (plus ended executions behind a long-running older one).
#[derive(Default)]
pub(crate) struct ExecTable {
    base: u32,
    live: VecDeque<Option<ExecSt>>,
}

impl ExecTable {
    pub fn get(&self, e: ExecId) -> Option<&ExecSt> {
        self.live.get(e.0.checked_sub(self.base)? as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, e: ExecId) -> Option<&mut ExecSt> {
        self.live.get_mut(e.0.checked_sub(self.base)? as usize)?.as_mut()
    }

    fn push(&mut self, e: ExecId, x: ExecSt) {
        debug_assert_eq!(u64::from(self.base) + self.live.len() as u64, u64::from(e.0), "executions arrive in id order");
        self.live.push_back(Some(x));
    }

    fn remove(&mut self, e: ExecId) -> Option<ExecSt> {
        let x = self.live.get_mut(e.0.checked_sub(self.base)? as usize)?.take();
        while matches!(self.live.front(), Some(None)) {
            self.live.pop_front();
            self.base += 1;
        }
        x
    }

    /// Ids of the executions still live.
    fn live_ids(&self) -> Vec<ExecId> {
        self.live.iter().enumerate().filter(|(_, x)| x.is_some()).map(|(i, _)| ExecId(self.base + i as u32)).collect()
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    Arrival(ExecId),
    Ready(InstId),
    PhaseDone(InvId, u32),
    CpuDone(InstId, u64),
    /// Keep-alive expiries of app `.0` fell due (its [`DelayLine`]).
    ExpiriesDue(AppId),
    ScaleTick(AppId),
    /// Function timeouts of app `.0` fell due (its [`DelayLine`]).
    TimeoutsDue(AppId),
    /// Azure: host polls queue.
    Poll(InstId, QueueId, u32),
    /// Azure: a message becomes visible in its queue.
    Visible(u32),
    /// Azure: the scale controller's periodic look at an app's queues.
    Peek(AppId),
    /// Driver timer.
    Timer(Timer),
}

/// Delayed driver actions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timer {
    /// Step Functions: strand `strand` of run `run` enters its state after the transition.
    StepEnter { run: step::RunId, strand: StrandId },
    /// Step Functions: transition tokens fell due ([`World::enter_after_token`]).
    StepTokens,
    /// Step Functions: the service has taken the response of run `run`'s last Task.
    StepResult { run: step::RunId, strand: StrandId },
    /// Step Functions: a Wait state of run `run` of execution `exec` ended.
    StepWaited { exec: ExecId, run: step::RunId },
    /// Step Functions: a retry's backoff of run `run` of execution `exec` ended.
    StepRetry { exec: ExecId, run: step::RunId },
    /// Step Functions Express: the 5-minute limit of execution `exec`.
    ExpressDeadline { exec: ExecId },
    /// Step Functions: the 5-minute limit of an Express child execution (root run `run`) of a
    /// Distributed Map.
    ExpressChildDeadline { run: step::RunId, strand: StrandId },
    /// az-blob: a container scan found the blob that triggers flow node `node` of `exec`,
    /// written by host `host`.
    BlobFound { exec: ExecId, node: u32, host: InstId },
    /// aws-sqs: a poller's receive of queue `queue` returns.
    SqsReceive { queue: u32 },
    /// aws-sqs: the event source mapping of queue `queue` adjusts its concurrent batches.
    SqsRamp { queue: u32 },
    /// aws-sqs: a message of a throttled batch is visible on queue `queue` again.
    SqsReturn { queue: u32, msg: sqs::SqsMsg },
    /// Durable (Safe partition manager): the old owner of partition `part` sees its intent
    /// lease taken and stops dequeuing its control queue (`gen`: the handover's generation).
    LeaseStop { part: u32, generation: u32 },
    /// Durable: the partition's new holder takes the expired or released ownership lease.
    LeaseStart { part: u32, generation: u32 },
    /// Durable (Table partition manager): the old owner's drain of partition `part`, begun at
    /// `since`, reaches its cap.
    DrainTimeout { part: u32, since: SimTime },
    /// Durable: the lock of the `messages` control messages of an orchestration or entity, held
    /// by a host that was scaled in, ran out.
    HeldWork { work: durable::Work, part: u32, messages: u32 },
    /// Azure: the removal the scale controller decided for host `host` takes effect.
    ScaleInDue { host: InstId },
    /// Host `host`'s language worker, restarted after a function timeout, is back (`generation`:
    /// the host's restart it ends).
    WorkerBack { host: InstId, generation: u32 },
}

pub(crate) struct World<'a> {
    /// Where ended executions stream, with their invocations (`--executions`).
    pub exec_sink: Option<Box<dyn crate::record::ExecSink>>,
    pub spec: &'a RunSpec<'a>,
    pub plan: &'a DeploymentPlan,
    pub wf: &'a Workflow,
    pub q: EventQueue<Ev>,
    pub apps: Vec<AppState>,
    pub insts: Vec<Inst>,
    pub invs: Vec<Inv>,
    inv_free: Vec<InvId>,
    pub execs: ExecTable,
    /// What executions were charged after they had ended (entity signals still processed,
    /// invocations still running when a failure ended their execution).
    late: ExecAcc,
    /// Every ended execution, folded.
    fold: crate::record::RunFold,
    /// Records of ended executions, when the run keeps them.
    records: Vec<ExecRecord>,
    pub cold_rng: SimRng,
    /// Draws of the partition lease handover (a stream of its own, so that turning the
    /// handover off leaves every other draw unchanged).
    pub lease_rng: SimRng,
    /// Draws of the Durable start deduplication's race (a stream of its own, so that turning
    /// it on leaves every other draw unchanged).
    pub dedupe_rng: SimRng,
    /// Draws of a language worker's reload after a function timeout (a stream of its own, so
    /// that a timeout, or turning the restart off, leaves every other draw unchanged).
    pub restart_rng: SimRng,
    pub rng: SimRng,
    /// Streams of each step's work (common random numbers, [`crate::workload`]).
    work: sfsim_engine::WorkStreams,
    /// Streams of the hosts' CPU-time factors ([`crate::workload::noise_streams`]).
    noise: sfsim_engine::WorkStreams,
    arrivals_gen: arrivals::ArrivalGen,
    pub trace: Trace,
    pub az: azure::AzureState,
    pub du: durable::DurableState,
    pub sf: step::StepState,
    pub sqs: sqs::SqsState,
    pub worker_delay_s: sfsim_engine::Sample,
    pub worker_latency_s: sfsim_engine::Sample,
    /// Gaps between consecutive workflow functions of a strand ([`World::function_hop`]).
    pub chain_gap_s: sfsim_engine::Sample,
    /// The same gaps by their position along the path (the first hop, the second, ...), for
    /// the first [`crate::record::CHAIN_GAP_POSITIONS`] positions.
    pub chain_gap_by_hop_s: Vec<sfsim_engine::Sample>,
    /// Completed executions: first workflow function's start to the last one's end.
    pub function_span_s: sfsim_engine::Sample,
    pub idle: StatefulCounts,
    pub idle_cost: Cost,
    /// The account's Lambda concurrency allowance (shared by all Lambda apps).
    lambda_account: Option<LambdaScaler>,
    /// Invocations in flight on Lambda apps (the account's concurrency).
    lambda_in_flight: u32,
    /// Executions that have arrived.
    arrived: u64,
    /// Last timer generation given (see [`DelayLine`]).
    timer_gen: u32,
    /// Executions that have ended (completed or failed).
    ended: u64,
}

/// The timeline being recorded: streamed to a sink, or kept for [`RunOutput::trace`].
pub(crate) struct Trace {
    sink: Option<Box<dyn TraceSink>>,
    kept: Vec<TraceEvent>,
}

impl Trace {
    pub fn push(&mut self, e: TraceEvent) {
        match &mut self.sink {
            Some(s) => s.record(e),
            None => self.kept.push(e),
        }
    }
}

/// Simulates one replication of a deployment (a timeline, when asked, is kept in memory).
pub fn simulate(spec: &RunSpec<'_>) -> RunOutput {
    simulate_into(spec, Sinks::default())
}

/// Simulates one replication of a deployment, streaming its timeline (when `spec.trace`) to
/// `sink` instead of keeping it; the sink's first error is in [`RunOutput::trace_error`].
pub fn simulate_into(spec: &RunSpec<'_>, sinks: Sinks) -> RunOutput {
    let Sinks { trace: sink, executions: exec_sink } = sinks;
    // A trace's arrivals: opened here, per replication, with the replication's own seed.
    let mut open_error = None;
    let trace = match spec.arrivals {
        Arrivals::Trace { file, app } => {
            let seed = rand::RngExt::random::<u64>(&mut spec.streams.stream("arrivals/trace"));
            match arrivals::open_trace(file, *app, seed) {
                Ok(t) => Some(t),
                Err(e) => {
                    open_error = Some(e.to_string());
                    Some(Box::new(std::iter::empty()) as arrivals::TraceIter)
                }
            }
        }
        _ => None,
    };
    // Records kept for a run of known length are reserved up front (a trace's length is not known).
    let reserve = if spec.keep_records && trace.is_none() { spec.iterations.min(arrivals::MAX_EXECUTIONS) as usize } else { 0 };
    let apps = spec
        .plan
        .apps
        .iter()
        .map(|a| AppState {
            timeouts: DelayLine::default(),
            expiries: DelayLine::default(),
            instances: Vec::new(),
            free: Vec::new(),
            starting: Vec::new(),
            waiting: VecDeque::new(),
            hosts: (!a.lambda).then(|| HostScaler::new(a.http_interval, a.max_hosts)),
            tick_pending: false,
            alive: 0,
            in_flight: 0,
            peak: 0,
            started: 0,
        })
        .collect();
    let mut w = World {
        spec,
        plan: spec.plan,
        wf: spec.workflow,
        q: EventQueue::with_capacity(1024),
        apps,
        insts: Vec::new(),
        invs: Vec::new(),
        inv_free: Vec::new(),
        execs: ExecTable::default(),
        late: ExecAcc::default(),
        fold: crate::record::RunFold::default(),
        records: Vec::with_capacity(reserve),
        cold_rng: spec.streams.stream("cold_start"),
        lease_rng: spec.streams.stream("partition_leases"),
        dedupe_rng: spec.streams.stream("start_dedupe"),
        restart_rng: spec.streams.stream("worker_restart"),
        rng: spec.streams.stream("platform"),
        work: crate::workload::work_streams(&spec.streams),
        noise: crate::workload::noise_streams(&spec.streams),
        arrivals_gen: arrivals::ArrivalGen::new(spec.streams.stream("arrivals"), trace),
        trace: Trace { sink, kept: Vec::new() },
        exec_sink,
        az: azure::AzureState::default(),
        du: durable::DurableState::default(),
        sf: step::StepState::default(),
        sqs: sqs::SqsState::default(),
        worker_delay_s: sfsim_engine::Sample::new(),
        worker_latency_s: sfsim_engine::Sample::new(),
        chain_gap_s: sfsim_engine::Sample::new(),
        chain_gap_by_hop_s: vec![sfsim_engine::Sample::new(); crate::record::CHAIN_GAP_POSITIONS],
        function_span_s: sfsim_engine::Sample::new(),
        idle: StatefulCounts::default(),
        idle_cost: Cost::default(),
        lambda_account: spec.plan.apps.iter().find_map(|a| match a.platform.scaling {
            crate::deployment::ScalePolicy::LambdaBurst { burst, increase_per_min, limit } if a.lambda => {
                Some(LambdaScaler::new(burst, increase_per_min, limit))
            }
            _ => None,
        }),
        lambda_in_flight: 0,
        timer_gen: 0,
        arrived: 0,
        ended: 0,
    };
    if spec.trace {
        w.trace.push(TraceEvent::TrackName { track: 0, name: "arrivals".into() });
    }
    w.init_always_ready();
    w.init_driver();
    w.arrivals_gen.error = open_error;
    w.first_arrival();
    while let Some((now, ev)) = w.q.pop() {
        match ev {
            Ev::Arrival(e) => w.on_arrival(now, e),
            Ev::Ready(i) => w.on_ready(now, i),
            Ev::PhaseDone(v, p) => w.on_phase_done(now, v, p),
            Ev::CpuDone(i, t) => w.on_cpu_done(now, i, t),
            Ev::ExpiriesDue(a) => w.on_expiries_due(now, a),
            Ev::ScaleTick(a) => {
                w.apps[a].tick_pending = false;
                w.scale_http(now, a);
            }
            Ev::TimeoutsDue(a) => w.on_timeouts_due(now, a),
            Ev::Poll(h, qid, g) => w.on_poll(now, h, qid, g),
            Ev::Visible(m) => w.on_visible(now, m),
            Ev::Peek(a) => w.on_peek(now, a),
            Ev::Timer(t) => w.on_timer(now, t),
        }
        if w.all_done() && w.quiescent() {
            break;
        }
        if w.arrivals_gen.done && now.saturating_since(w.arrivals_gen.last()) > STUCK_AFTER {
            // Nothing real takes this long after the last arrival: end what is still running
            // with an explicit error rather than loop on housekeeping events forever.
            for e in w.execs.live_ids() {
                w.fail_exec(now, e, PlatformError::NotFinished);
            }
            break;
        }
    }
    let end_time = w.q.now();
    let trace_error = w.trace.sink.as_mut().and_then(|s| s.finish().err());
    w.account_idle(end_time);
    if matches!(w.plan.driver, Driver::Chain(chain::Hop::Sqs(_))) {
        w.sqs_account_idle(end_time);
    }
    let (instance_cost_usd, instance_s) = w.instance_time(end_time);
    assert_eq!(w.ended, w.arrived, "every arrival ends exactly once ({:?})", spec.streams);
    let arrival_error = w.arrivals_gen.error.take();
    let mut fold = std::mem::take(&mut w.fold);
    fold.totals.add(&w.late.totals());
    let mut executions = std::mem::take(&mut w.records);
    executions.sort_by_key(|r| r.id);
    RunOutput {
        fold,
        executions,
        instances_started: w.apps.iter().map(|a| a.started).sum(),
        instances_peak: w.apps.iter().map(|a| a.peak).sum(),
        events: w.q.popped(),
        end_time,
        trace: w.trace.kept,
        trace_error,
        executions_error: w.exec_sink.as_mut().and_then(|s| s.finish()),
        arrival_error,
        worker_scheduling_delay_s: w.worker_delay_s,
        worker_latency_s: w.worker_latency_s,
        chain_gap_s: w.chain_gap_s,
        chain_gap_by_hop_s: w.chain_gap_by_hop_s,
        function_span_s: w.function_span_s,
        idle: w.idle,
        idle_cost_usd: w.idle_cost.total(),
        instance_cost_usd,
        instance_s,
        driver_objects_left: w.sf.live() + w.du.live(),
    }
}

impl World<'_> {
    // ---- driver dispatch ---------------------------------------------------------------------

    fn init_driver(&mut self) {
        match &self.plan.driver {
            Driver::Chain(chain::Hop::Azure(c)) => {
                self.chain_init(c);
                self.azure_init();
            }
            Driver::Chain(chain::Hop::Sqs(_)) => self.sqs_init(),
            Driver::Durable(_) => {
                self.durable_init();
                self.azure_init();
            }
            Driver::Single | Driver::Step(_) => {}
        }
    }

    fn on_arrival(&mut self, now: SimTime, e: ExecId) {
        self.arrived += 1;
        self.arrived_schedule_next(now, e);
        self.execs.push(e, ExecSt::new(now));
        if self.spec.trace {
            self.trace.push(TraceEvent::Instant { track: 0, name: format!("arrival {e}"), at: now });
        }
        // The workflow's request goes to its first app (the function, the HTTP starter, the
        // first chain function, the first Lambda task behind StartExecution).
        if let Some(err) = self.plan.apps[AppId(0)].platform.request.failure(self.wf.input_bytes) {
            self.fail_exec(now, e, err);
            return;
        }
        match &self.plan.driver {
            Driver::Single => self.single_start(now, e),
            Driver::Chain(_) => self.chain_start(now, e),
            Driver::Durable(_) => self.durable_start(now, e),
            Driver::Step(_) => self.step_start(now, e),
        }
    }

    fn on_inv_done(&mut self, now: SimTime, v: InvId) {
        let cont = self.invs[v].cont;
        match cont {
            Cont::Single => {
                let e = self.invs[v].exec;
                self.complete_exec(now, e);
            }
            Cont::Chain { node } => self.chain_done(now, v, node),
            Cont::Starter { orch } => self.durable_starter_done(now, v, orch),
            Cont::Activity { orch, task } => self.durable_activity_done(now, v, orch, task),
            Cont::Episode { orch } => self.durable_episode_done(now, v, orch),
            Cont::EntityBatch { entity } => self.durable_entity_done(now, v, entity),
            Cont::StepTask { run } => self.step_task_done(now, v, run),
        }
        self.free_inv(v);
    }

    /// An invocation failed with a platform error (timeout, out of memory, throttled).
    fn on_inv_failed(&mut self, now: SimTime, v: InvId, error: PlatformError) {
        let cont = self.invs[v].cont;
        let exec = self.invs[v].exec;
        match cont {
            Cont::StepTask { run } => self.step_task_failed(now, v, run, error),
            Cont::EntityBatch { entity } => self.durable_entity_failed(now, entity, error),
            Cont::Episode { orch } => self.durable_episode_failed(now, exec, orch, error),
            Cont::Chain { node } => self.chain_failed(now, v, node, error),
            Cont::Single | Cont::Starter { .. } | Cont::Activity { .. } => self.fail_exec(now, exec, error),
        }
        self.free_inv(v);
    }

    fn on_timer(&mut self, now: SimTime, t: Timer) {
        match t {
            Timer::StepEnter { run, strand } => self.step_enter(now, run, strand),
            Timer::StepTokens => self.step_tokens(now),
            Timer::StepResult { run, strand } => self.step_result(now, run, strand),
            Timer::StepWaited { exec, run } => self.step_waited(now, exec, run),
            Timer::StepRetry { exec, run } => self.step_retry(now, exec, run),
            Timer::ExpressDeadline { exec } => self.express_deadline(now, exec),
            Timer::ExpressChildDeadline { run, strand } => self.express_child_deadline(now, run, strand),
            Timer::BlobFound { exec, node, host } => self.chain_blob_found(now, exec, node, host),
            Timer::SqsReceive { queue } => self.sqs_receive(now, queue),
            Timer::SqsRamp { queue } => self.sqs_ramp(now, queue),
            Timer::SqsReturn { queue, msg } => self.sqs_returned(now, queue, msg),
            Timer::LeaseStop { part, generation } => self.lease_stop(now, part, generation),
            Timer::LeaseStart { part, generation } => self.lease_start(now, part, generation),
            Timer::DrainTimeout { part, since } => self.drain_timeout(now, part, since),
            Timer::HeldWork { work, part, messages } => self.durable_control_visible(now, work, part, messages),
            Timer::ScaleInDue { host } => self.scale_in_due(now, host),
            Timer::WorkerBack { host, generation } => self.worker_back(now, host, generation),
        }
    }

    /// Whether the driver works through Azure Storage queues (hosts poll them).
    fn uses_queues(&self) -> bool {
        matches!(self.plan.driver, Driver::Chain(chain::Hop::Azure(_)) | Driver::Durable(_))
    }

    fn all_done(&self) -> bool {
        self.arrivals_gen.done && self.ended == self.arrived
    }

    /// True when nothing but idle housekeeping (polls, peeks, keep-alive) is pending: no live
    /// invocation, no message in flight or queued, no buffered Durable work.
    fn quiescent(&self) -> bool {
        self.invs.len() == self.inv_free.len() && self.az.live_messages() == 0 && self.sqs.live_messages() == 0 && self.du.is_idle()
    }

    // ---- strands -----------------------------------------------------------------------------

    /// Charges the time since the strand's mark to `c` (nothing once its execution ended).
    pub(crate) fn charge(&mut self, strand: StrandId, now: SimTime, c: Component) {
        if let Some(x) = self.execs.get_mut(strand.exec) {
            let s = x.strand_mut(strand.idx);
            let d = now.saturating_since(s.mark);
            s.bd.add(c, d);
            s.mark = now;
        }
    }

    /// When the strand was last charged up to (None once its execution ended).
    pub(crate) fn strand_mark(&self, strand: StrandId) -> Option<SimTime> {
        self.execs.get(strand.exec).map(|x| x.strand(strand.idx).mark)
    }

    /// Adds `bd` to the strand and marks it charged up to `now`.
    fn charge_all(&mut self, strand: StrandId, now: SimTime, bd: &Breakdown) {
        if let Some(x) = self.execs.get_mut(strand.exec) {
            let s = x.strand_mut(strand.idx);
            s.bd.add_all(bd);
            s.mark = now;
        }
    }

    /// Forks `n` children off `parent` at `now`; returns the join and the children. A fork of
    /// an ended execution gives strands that charge nothing.
    pub(crate) fn fork(&mut self, parent: StrandId, n: u32, now: SimTime) -> (JoinId, Vec<StrandId>) {
        let exec = parent.exec;
        let Some(x) = self.execs.get_mut(exec) else {
            return (JoinId { exec, idx: 0 }, vec![parent; n as usize]);
        };
        let first = x.forks.len() as u32 + 1;
        // Each child's first function follows the parent's last (a hop into the fan-out).
        let (fn_end, hops) = (x.strand(parent.idx).fn_end, x.strand(parent.idx).hops);
        x.forks.extend((0..n).map(|_| Strand { mark: now, bd: Breakdown::default(), fn_end, hops }));
        x.joins.push(Join { parent: parent.idx, remaining: n, fn_end: None, hops });
        let join = JoinId { exec, idx: (x.joins.len() - 1) as u32 };
        (join, (first..first + n).map(|idx| StrandId { exec, idx }).collect())
    }

    /// A child strand reached its join at `now`. Returns the parent strand when it was the last.
    pub(crate) fn arrive_join(&mut self, join: JoinId, child: StrandId, now: SimTime) -> Option<StrandId> {
        let x = self.execs.get_mut(join.exec)?;
        let (child_fn_end, child_hops) = (x.strand(child.idx).fn_end, x.strand(child.idx).hops);
        let j = &mut x.joins[join.idx as usize];
        debug_assert!(j.remaining > 0, "join arrived at more often than forked");
        j.remaining -= 1;
        j.fn_end = j.fn_end.max(child_fn_end);
        j.hops = j.hops.max(child_hops);
        if j.remaining > 0 {
            return None;
        }
        let (parent, fn_end, hops) = (j.parent, j.fn_end, j.hops);
        let bd = x.strand(child.idx).bd;
        let p = x.strand_mut(parent);
        debug_assert_eq!(p.mark + bd.total(), now, "the last child's breakdown covers the time since the fork");
        p.bd.add_all(&bd);
        p.mark = now;
        // The next function follows the last branch to end, at the longest branch's position.
        p.fn_end = fn_end;
        p.hops = hops;
        Some(StrandId { exec: join.exec, idx: parent })
    }

    /// Execution `e`'s first function code start (`started`) or latest end: the bounds of
    /// `function_span_s`.
    pub(crate) fn function_span_mark(&mut self, e: ExecId, now: SimTime, started: bool) {
        if let Some(x) = self.execs.get_mut(e) {
            if started {
                x.fn_first = x.fn_first.min(now);
            } else {
                x.fn_last = now;
            }
        }
    }

    /// A workflow function (a Step Task's Lambda, an activity, a queue function, an entity
    /// operation batch) riding on `strands` started its code (`started`) or ended: the gap
    /// since the strand's previous function ended is one hop of `chain_gap_s`.
    pub(crate) fn function_hop(&mut self, strands: &[StrandId], now: SimTime, started: bool) {
        for s in strands {
            let Some(x) = self.execs.get_mut(s.exec) else { continue };
            let measured = x.arrival >= self.spec.measure_after;
            if started {
                x.fn_first = x.fn_first.min(now);
            } else {
                x.fn_last = now;
            }
            let st = x.strand_mut(s.idx);
            if started {
                if let Some(t) = st.fn_end.take()
                    && measured
                {
                    let gap_s = now.saturating_since(t).as_secs_f64();
                    self.chain_gap_s.push(gap_s);
                    if let Some(at) = self.chain_gap_by_hop_s.get_mut(usize::from(st.hops)) {
                        at.push(gap_s);
                    }
                    st.hops = st.hops.saturating_add(1);
                }
            } else {
                st.fn_end = Some(now);
            }
        }
    }

    /// Whether execution `e` counts in the statistics (it arrived after the warm-up).
    pub(crate) fn measured(&self, e: ExecId) -> bool {
        self.execs.get(e).is_some_and(|x| x.arrival >= self.spec.measure_after)
    }

    /// A fan-out worker of execution `e` started `d_s` seconds after it was scheduled.
    pub(crate) fn worker_delay(&mut self, e: ExecId, d_s: f64) {
        if self.measured(e) {
            self.worker_delay_s.push(d_s);
        }
    }

    /// A fan-out worker of execution `e` finished `d_s` seconds after it was scheduled.
    pub(crate) fn worker_latency(&mut self, e: ExecId, d_s: f64) {
        if self.measured(e) {
            self.worker_latency_s.push(d_s);
        }
    }

    /// Records that execution `e` owns driver object `o` (freed when it ends).
    pub(crate) fn own(&mut self, e: ExecId, o: Owned) {
        if let Some(x) = self.execs.get_mut(e) {
            x.owned.push(o);
        }
    }

    fn free_owned(&mut self, now: SimTime, o: Owned) {
        match o {
            Owned::Orch(id) => self.durable_orch_ended(now, id),
            Owned::StepRun(id) => self.sf.free_run(id),
            Owned::StepGroup(id) => self.sf.free_group(id),
        }
    }

    /// The instance invocation `v` runs on. Every caller handles an invocation that has been
    /// dispatched (started, starting or waiting for a thread); one still at the front end has
    /// none, and asking for it is a bug.
    pub(crate) fn host_of(&self, v: InvId) -> InstId {
        self.invs[v].instance.unwrap_or_else(|| unreachable!("invocation {v:?} has not been dispatched"))
    }

    /// Whether execution `e` has ended.
    pub(crate) fn exec_done(&self, e: ExecId) -> bool {
        self.execs.get(e).is_none()
    }

    /// The main strand of live execution `e`.
    pub(crate) fn main_strand(&self, e: ExecId) -> StrandId {
        StrandId { exec: e, idx: 0 }
    }

    /// Where execution `e`'s charges go: its own account while it runs, the run's account of
    /// charges after the end once it has ended.
    pub(crate) fn acc(&mut self, e: ExecId) -> &mut ExecAcc {
        match self.execs.get_mut(e) {
            Some(x) => &mut x.acc,
            None => &mut self.late,
        }
    }

    // ---- executions --------------------------------------------------------------------------

    /// Ends execution `e` successfully at `now` (its main strand charged up to now).
    pub(crate) fn complete_exec(&mut self, now: SimTime, e: ExecId) {
        let mut outcome = Outcome::Completed;
        if let Some(error) = self.plan.apps[AppId(0)].platform.response.failure(self.wf.output_bytes) {
            outcome = Outcome::Failed { error };
        }
        self.end_exec(now, e, outcome);
    }

    pub(crate) fn fail_exec(&mut self, now: SimTime, e: ExecId, error: PlatformError) {
        self.end_exec(now, e, Outcome::Failed { error });
    }

    fn end_exec(&mut self, now: SimTime, e: ExecId, outcome: Outcome) {
        let Some(x) = self.execs.remove(e) else {
            return;
        };
        self.ended += 1;
        let arrival = x.arrival;
        // Whatever the main strand has not been charged with (a failure mid-flight) is queueing.
        let mut breakdown = x.main_strand.bd;
        let charged = breakdown.total();
        let latency = now.saturating_since(arrival);
        if outcome == Outcome::Completed {
            // A completed execution's main strand was charged up to now: a gap or an excess is
            // an accounting bug, not something to paper over.
            assert_eq!(charged, latency, "exec {e}: breakdown {breakdown:?} must sum to the latency ({:?})", self.spec.streams);
        } else if charged <= latency {
            // A failure can end an execution while its work is elsewhere (another strand, a
            // queue): the uncharged rest counts as waiting.
            breakdown.queue += latency.saturating_sub(charged);
        } else {
            breakdown = Breakdown { queue: latency, ..Breakdown::default() };
        }
        if self.spec.trace {
            let name = match &outcome {
                Outcome::Completed => format!("exec {e} completed"),
                Outcome::Failed { error } if error.is_throttle() => format!("exec {e} throttled"),
                Outcome::Failed { error } => format!("exec {e} failed: {error}"),
            };
            self.trace.push(TraceEvent::Instant { track: 0, name, at: now });
        }
        if self.spec.trace {
            // One track per execution shows its whole span above the invocations it caused.
            let track = EXEC_TRACK_BASE + e.0;
            self.trace.push(TraceEvent::TrackName { track, name: format!("execution {e}") });
            let name = match &outcome {
                Outcome::Completed => format!("exec {e}"),
                Outcome::Failed { error } if error.is_throttle() => format!("exec {e} throttled"),
                Outcome::Failed { error } => format!("exec {e} failed: {error}"),
            };
            self.trace.push(TraceEvent::Slice { track, name, cat: "execution", start: arrival, end: now, exec: Some(e.0) });
        }
        let a = &x.acc;
        let record = ExecRecord {
            id: e.0,
            arrival,
            end: now,
            outcome,
            breakdown,
            cold_start: x.cold,
            gb_s: a.gb_s,
            executed: a.executed,
            billed: a.billed,
            cost: a.cost,
            storage_gets: a.gets,
            storage_puts: a.puts,
            stateful: a.counts,
            start_delay: x.first_start.map(|t| t.saturating_since(arrival)),
            pending_to_running: x.pending.zip(x.running).map(|(p, r)| r.saturating_since(p)),
        };
        let measured = arrival >= self.spec.measure_after;
        if measured {
            self.fold.add(&record);
            if record.outcome == Outcome::Completed && x.fn_first != SimTime::MAX {
                self.function_span_s.push(x.fn_last.saturating_since(x.fn_first).as_secs_f64());
            }
        }
        if let Some(sink) = self.exec_sink.as_mut() {
            sink.execution(&record, &x.spans);
        }
        for o in x.owned {
            self.free_owned(now, o);
        }
        if self.spec.keep_records && measured {
            self.records.push(record);
        }
        self.ended_schedule_next(now, e);
    }

    /// What an invocation is, for the timeline.
    fn describe(&self, cont: Cont) -> String {
        let step = |i: u32| self.wf.steps.get(i as usize).map_or("?", |s| s.name.as_str()).to_string();
        match cont {
            Cont::Single => "function".into(),
            Cont::Chain { node } => format!("queue function {node}"),
            Cont::Starter { .. } => "HTTP starter".into(),
            Cont::Activity { orch, task } => {
                // Its step is found through its orchestration, which its execution's end freed.
                self.durable_activity_step(orch, task)
                    .map_or_else(|| "activity (of an ended execution)".into(), |s| format!("activity {}", step_name(self.wf, s)))
            }
            Cont::Episode { .. } => "orchestrator episode".into(),
            Cont::EntityBatch { entity } => format!("entity {entity} operations"),
            Cont::StepTask { run } => format!("task {}", step(u32::from(self.step_task_app(run).0))),
        }
    }

    /// Records an invocation of execution `e` that instance `host` ran from `start` to `now`
    /// (`span`), for the execution's output.
    pub(crate) fn record_span(&mut self, e: ExecId, host: InstId, (start, now): (SimTime, SimTime), cont: Cont, cold: bool, failed: bool) {
        if self.exec_sink.is_none() || self.exec_done(e) {
            return;
        }
        let name = self.describe(cont);
        if let Some(x) = self.execs.get_mut(e) {
            x.spans.push(crate::record::FunctionSpan { name, start, end: now, cold, failed, instance: host.0 });
        }
    }

    /// Samples a log-normal latency (from the `platform` stream).
    pub(crate) fn lognormal(&mut self, median_s: f64, sigma: f64) -> SimDuration {
        lognormal_from(median_s, sigma, &mut self.rng)
    }

    /// The phases of flow nodes run inside one function of app `app` (the single function of
    /// `aws-lambda` and `az-func`, a chain function, a per-flow-element Lambda): steps in order,
    /// parallel branches one after another, fan-out items one after another (plain Python), a
    /// `split` fan-out giving each item its share of one draw of the work. One process runs
    /// every item, so objects a fan-out body reads are fetched by the first item only and then
    /// served from memory.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn nodes_phases(&self, e: ExecId, nodes: &[Node], item: Item, share: f64, fetch: bool, app: AppId, out: &mut Vec<Phase>) {
        for n in nodes {
            match n {
                Node::Step(s) => self.step_phases_into(e, *s, item, share, fetch, app, true, out),
                Node::Parallel(branches) => {
                    for b in branches {
                        self.nodes_phases(e, b, item, share, fetch, app, out);
                    }
                }
                Node::FanOut(f) => {
                    let f = &self.wf.fan_outs[f.0 as usize];
                    let cb = self.plan.chunk_bytes;
                    for k in 0..f.item_count(cb) {
                        self.nodes_phases(e, &f.body, Item::of(k, f.split), share * f.item_share(k, cb), fetch && k == 0, app, out);
                    }
                }
                Node::CallEntity(op) | Node::SignalEntity(op) => self.storage_entity_op(e, *op, item, app, out),
                // Refused when the plan is built (`refuse_entity_elements`): no entities to lock.
                Node::Lock(_, body) => self.nodes_phases(e, body, item, share, fetch, app, out),
            }
        }
    }

    /// An entity operation where the state lives in remote storage (every deployment without
    /// Durable entities): the function reads the object, runs the operation's CPU and, for an
    /// operation that writes, puts the object back. A signal is done the same way in line: a
    /// function has no one-way channel to storage that outlives it. The phases keep the memory
    /// of the function's previous phase.
    fn storage_entity_op(&self, e: ExecId, op: sfsim_workflow::EntityOpId, item: Item, app: AppId, out: &mut Vec<Phase>) {
        let o = &self.wf.entity_ops[op.0 as usize];
        let size = self.wf.state[o.target.state.0 as usize].size_bytes;
        let p = &self.plan.apps[app].platform;
        let mem = out.last().map_or(0.0, |x| f64::from(x.memory_mb));
        // The storage stream of the operation, apart from the steps' (step index above them).
        let mut rng = crate::workload::StorageRng::new(&self.spec.streams, self.noise, e.0, self.wf.steps.len() as u32 + op.0, item);
        Phase::push_function_transfer(out, p.storage.function_transfer(StorageOp::Get, size, rng.get()), mem, StorageOp::Get);
        let cpu = crate::workload::entity_op_cpu_s(&self.spec.streams, &self.noise, self.wf, e.0, op, item, p.cpu_noise_sigma);
        if cpu > 0.0 {
            out.push(Phase::cpu(cpu, mem, Component::Execution));
        }
        if o.writes {
            Phase::push_function_transfer(out, p.storage.function_transfer(StorageOp::Put, size, rng.get()), mem, StorageOp::Put);
        }
    }

    /// The phases of step `step` of execution `e`, fan-out item `item` (the same work on every
    /// deployment: [`crate::workload`]), as a new vector.
    pub(crate) fn phases_of(&self, e: ExecId, step: StepId, item: Item, share: f64, app: AppId, state_via_storage: bool) -> Vec<Phase> {
        let mut out = Vec::new();
        self.step_phases_into(e, step, item, share, true, app, state_via_storage, &mut out);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn step_phases_into(
        &self,
        e: ExecId,
        step: StepId,
        item: Item,
        share: f64,
        fetch: bool,
        app: AppId,
        state_via_storage: bool,
        out: &mut Vec<Phase>,
    ) {
        // Work from the shared per-(execution, step, item) stream; storage latencies apart.
        let mut work = crate::workload::work_rng(&self.work, e.0, step.0, item.draw);
        let mut rng = crate::workload::StorageRng::new(&self.spec.streams, self.noise, e.0, step.0, item);
        let s = &self.wf.steps[step.0 as usize];
        let p = &self.plan.apps[app].platform;
        step_phases(s, &mut work, share, fetch, p, self.wf, state_via_storage, &mut rng, out);
    }
}

/// Refuses flow elements a deployment has no mechanism for, at the element's key: a critical
/// section (`lock`) needs Durable entities (`az-dorch`, `az-dent`); on `aws-step`, whose steps
/// are Lambda tasks, an entity operation is not a state of its own either (its storage access
/// belongs in a step's `state_reads` / `state_updates`).
fn refuse_entity_elements(deployment: Deployment, w: &Workflow) -> Result<(), ConfigError> {
    fn walk(nodes: &[Node], key: &str, step: bool, out: &mut Option<(String, &'static str)>) {
        for (i, n) in nodes.iter().enumerate() {
            if out.is_some() {
                return;
            }
            let k = format!("{key}.{i}");
            match n {
                Node::Lock(..) => *out = Some((format!("{k}.lock"), "a critical section (`lock`)")),
                Node::CallEntity(_) if step => *out = Some((format!("{k}.call_entity"), "`call_entity`")),
                Node::SignalEntity(_) if step => *out = Some((format!("{k}.signal_entity"), "`signal_entity`")),
                Node::Parallel(bs) => {
                    for (b, br) in bs.iter().enumerate() {
                        walk(br, &format!("{k}.parallel.{b}"), step, out);
                    }
                }
                _ => {}
            }
        }
    }
    if matches!(deployment, Deployment::AzDorch | Deployment::AzDent) {
        return Ok(());
    }
    let step = deployment == Deployment::AwsStep;
    let mut found = None;
    walk(&w.flow, "workflow.flow", step, &mut found);
    for f in &w.fan_outs {
        walk(&f.body, &format!("workflow.fan_out.{}.body", f.name), step, &mut found);
    }
    match found {
        None => Ok(()),
        Some((key, what)) => Err(ConfigError {
            key,
            message: if step {
                format!(
                    "{what} runs on az-dorch and az-dent (Durable entities); on aws-step a state object is read and written \
                     by a step's Lambda through S3: use the step's state_reads / state_updates"
                )
            } else {
                format!(
                    "{what} locks Durable entities (LockAsync) and runs on az-dorch and az-dent only: {} keeps state objects \
                     in remote storage, which has no lock in this model",
                    deployment.name()
                )
            },
        }),
    }
}

/// The first step of a flow node sequence, when the node is a single step.
pub(crate) fn single_step(nodes: &[Node]) -> Option<StepId> {
    match nodes {
        [Node::Step(s)] => Some(*s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_line_fires_in_order_and_arms_once() {
        let mut d = DelayLine::default();
        let t = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        assert!(d.push(t(10), 1, 7), "the first timer arms the line");
        assert!(!d.push(t(10), 2, 8), "later timers ride on the armed event");
        assert!(!d.push(t(12), 3, 9));
        assert_eq!(d.pop_due(t(9)), None, "nothing is due early");
        assert_eq!((d.pop_due(t(10)), d.pop_due(t(10)), d.pop_due(t(10))), (Some((1, 7)), Some((2, 8)), None));
        assert_eq!(d.rearm(), Some(t(12)), "the line fires next for the third timer");
        assert_eq!(d.pop_due(t(12)), Some((3, 9)));
        assert_eq!(d.rearm(), None);
        assert!(d.push(t(20), 4, 10), "an empty line arms again");
    }

    #[test]
    fn the_execution_table_drops_ended_executions_from_its_front() {
        let mut x = ExecTable::default();
        let exec = |t: u64| ExecSt::new(SimTime::ZERO + SimDuration::from_secs(t));
        for e in 0..3 {
            x.push(ExecId(e), exec(u64::from(e)));
        }
        // The middle one ends first: it is gone, but the table cannot shrink past the first.
        assert!(x.remove(ExecId(1)).is_some());
        assert!(x.get(ExecId(1)).is_none() && x.get(ExecId(0)).is_some());
        assert_eq!(x.live.len(), 3);
        // The first ends: the table drops both from its front; ids are never reused.
        assert!(x.remove(ExecId(0)).is_some());
        assert_eq!((x.base, x.live.len()), (2, 1));
        assert_eq!(x.live_ids(), vec![ExecId(2)]);
        assert!(x.remove(ExecId(0)).is_none(), "an ended execution ends once");
        x.push(ExecId(3), exec(3));
        assert_eq!(x.get(ExecId(3)).map(|s| s.arrival), Some(SimTime::ZERO + SimDuration::from_secs(3)));
    }

    #[test]
    fn a_slab_reuses_freed_ids() {
        let mut s: Slab<Vec<u32>> = Slab::default();
        let (a, b) = (s.insert(vec![1]), s.insert(vec![2]));
        s.remove(a, |v| v.clear());
        assert_eq!(s.live(), 1);
        let c = s.insert(vec![3]);
        assert_eq!(c, a, "a freed id is handed out again");
        assert_eq!((s[c as usize].clone(), s[b as usize].clone()), (vec![3], vec![2]));
    }
}
