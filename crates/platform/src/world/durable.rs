//! `az-dorch` and `az-dent`: Durable Functions on the Azure Storage provider.
//!
//! **Models.**
//! * *Task hub*: P control queues (partitions, default 4) and one work-item queue on the app's
//!   storage account; orchestrations and entities live on the control queue of their partition,
//!   which one host owns; activities go through the work-item queue to any host.
//! * *Orchestrations*: the workflow's flow becomes the orchestrator's program. Each `await`
//!   ends an *episode*; the next message for the instance (a task completion) starts another.
//!   Every episode is a billed execution on an orchestrator slot of the owning host: it loads the
//!   history from the History table, **replays the orchestrator from the start** (CPU per history
//!   event, so replay work grows with history length), runs the new decisions, writes the new
//!   history rows and sends its messages. With extended sessions an instance that ran on the same
//!   host in the last 30 s skips the load and the replay. Completions that arrive while an
//!   episode runs are handled by the next episode (one episode at a time per instance).
//! * *Program*: the deployment's own flow (`[deployment.<name>] flow`) when the scenario gives
//!   one, else the workflow's flow. A step is `call_activity`, except on az-dent without a
//!   program of its own, where it is `call_entity(step entity, "run")`; the step's `state_reads`
//!   are `call_entity(state, "get")` awaited before it and its `state_updates` are
//!   `signal_entity(state, "set")` sent after it (inference reads the trained objects from
//!   entities, training reports to a collector entity). In a program of its own an entity
//!   operation may run a step's work inside the entity (`{ call_entity = "kneighbors", op =
//!   "fit", step = "train_kneighbors" }`: the study's Az-Dent); that step's other state reads
//!   are awaited `get`s before it, its other state updates `set` signals after it (sent by the
//!   orchestration once a `call_entity` answered, by the entity after a `signal_entity`'s work
//!   ran: [`entity`]). A parallel node whose branches are single steps or single entity calls
//!   (without such reads) is a `task_all` over tasks; longer branches, and fan-out bodies of
//!   more than one step, become sub-orchestrations. A fan-out schedules its N items at once, and the fan-in happens in the
//!   one orchestrator instance.
//! * *Entities*: one operation batch at a time per entity (up to 50 operations): load the state
//!   (table row, or blob above 60 KB), run the operations one after another, save the state,
//!   answer the callers. Operations behind a busy entity wait (`entity` in the breakdown). An
//!   entity is a (state object, key): keyed objects' entities exist while they have work or a
//!   lock ([`entity`]). `call_entity` elements are awaited operations, `signal_entity` elements
//!   one-way ones sent by the episode that reaches them; a `lock` element is a critical section
//!   (`LockAsync`: a lock request travels the sorted entities one after another, the last
//!   answers the orchestration; the body runs; release signals are sent when it ends).
//! * *Payloads*: a message over 45 KB is compressed to Blob storage (extra latency and blob
//!   transactions); with `payload.large_message_fail = 1` a call whose payload exceeds 64 KB fails
//!   the execution instead, as the study experienced.
//! * *Concurrency*: `maxConcurrentActivityFunctions` and `maxConcurrentOrchestratorFunctions`
//!   slots per host, by hosting plan ([`durable_slots`]: 10 each on Consumption in the study's
//!   era, 10 x vCPUs on Premium); all of a host's invocations share its CPU.
//! * *Start deduplication* (`task_hub.execution_started_dedupe`, profiles 2024 and 2026): the
//!   client sends a start message and then writes the instance's Instances row; the host reads
//!   the row (a table transaction) before it takes the message, and a message read first is
//!   abandoned, visible again 2 s later (DTAS `DedupeExecutionStartedMessagesAsync`, durabletask
//!   PR #528/#541, 2021). A host woken by its own send can lose that race; it is drawn from the
//!   queue and table latencies (`defer_unwritten_start`). Azure Storage provider only.
//!
//! **Parameters.** `models/az-durable.toml` (task hub, polling, concurrency, replay, payload),
//! `models/az-storage.toml`, `models/az-func.toml`.
//!
//! **Scope and limitations.** Partition leases change hands through the Safe partition
//! manager's intent and ownership leases (`azure.rs`), with its 5-30 s gap on Azure Storage; the
//! History table is read whole on each replay (no paging cost beyond one transaction per 1,000
//! rows); durable timers, external events, eternal orchestrations, `continue_as_new` and
//! retries are not modelled.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: k sequential awaits give k+1 episodes whose
//! replays cover histories of growing length; two concurrent operations on one entity run one
//! after another; a 50 KB message takes the blob path; a start read before its Instances row is
//! taken 2 s and a poll later, with one Instances read per start taken.

use std::collections::{HashMap, VecDeque};

use crate::workload::Item;
use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::{DeploymentConfig, DurableBackend, EntityOpId, EntityRef, HostingPlan, Node, Runtime, StepId, Workflow};

use super::azure::{AzureSetup, Msg, MsgKind, QueueKind, Tx};
use super::{
    AppDef, AppId, Class, Cont, DeploymentPlan, Driver, ExecId, InstId, InvId, JoinId, Owned, Phase, QueueId, Slab, StrandId, World,
    scaled, single_step, slab_id,
};
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::error::PlatformError;
use crate::params::Models;
use crate::queue_polling::Backoff;
use crate::record::Component;

mod backend;
mod entity;
mod replay;

pub use backend::Backend;

/// Durable Functions settings of a run.
#[derive(Clone, Debug)]
pub struct DurableSetup {
    /// The task hub's storage account.
    pub azure: AzureSetup,
    /// az-dent without a program of its own: every step runs as an operation of its own entity.
    pub entities_for_steps: bool,
    /// The deployment's own orchestrator program (`[deployment.<name>] flow`), else the
    /// workflow's flow.
    pub flow: Option<Vec<Node>>,
    /// CPU per episode, s.
    pub episode_cpu_s: f64,
    /// CPU per replayed history event, s.
    pub per_event_cpu_s: f64,
    /// CPU per KiB of history loaded and handed to the worker, s.
    pub per_history_kb_cpu_s: f64,
    /// Extended sessions.
    pub extended_sessions: bool,
    /// Netherite: the partition caches orchestration cursors (no replay on the owner host).
    pub cursor_cache: bool,
    /// Netherite: host CPU of an activity run away from its orchestration's host, s.
    pub remote_activity_cpu_s: f64,
    /// Memory of an orchestrator episode or entity batch, MiB.
    pub episode_memory_mb: f64,
    /// CPU per entity operation dispatch, s.
    pub entity_op_cpu_s: f64,
    /// CPU of the orchestration client starting an instance, s.
    pub client_cpu_s: f64,
    /// CPU of the first Durable dispatch on a new host, s.
    pub first_dispatch_cpu_s: f64,
    /// Operations per entity batch.
    pub max_entity_batch: u32,
    /// Entity state above this goes to a blob, bytes.
    pub table_property_max_bytes: u64,
    /// Control queues.
    pub partitions: u32,
    /// Messages per control-queue poll.
    pub control_batch: u32,
    /// Polling backoff.
    pub backoff: Backoff,
    /// The storage backend.
    pub backend: Backend,
    /// Host CPU per backend request, s.
    pub request_cpu_s: f64,
}

/// How long an abandoned start message stays invisible on its first deferral (DTAS
/// `TaskHubQueue.AbandonMessageAsync`: 2^DequeueCount seconds, DequeueCount 1).
const START_DEDUPE_ABANDON: SimDuration = SimDuration::from_secs(2);

/// `maxConcurrentOrchestratorFunctions` and `maxConcurrentActivityFunctions` per host on the
/// platform's hosting plan: the Consumption plan's own values (`[concurrency]`: 10 and 10 in the
/// study's era, orchestrators 5 since DF v2.4.2, `profile = "2026"`); Premium (and dedicated)
/// instances 10 x their vCPUs (DF `DurableTaskOptions`: 10 x the processor count), so an EP2
/// host takes 20 of each. Flex Consumption is treated as Consumption (assumed: DF picks the
/// Consumption defaults from the plan's consumption SKU).
pub fn durable_slots(models: &Models, platform: &FunctionPlatform) -> (u32, u32) {
    let c = &models.durable.concurrency;
    match platform.plan {
        Some(HostingPlan::Premium) => {
            let n = (c.dedicated_per_vcpu.value * platform.cpu_capacity_vcpu).round().max(1.0) as u32;
            (n, n)
        }
        _ => (c.max_concurrent_orchestrators_per_host.value as u32, c.max_concurrent_activities_per_host.value as u32),
    }
}

/// HTTP client (starter) executions a host runs at once. The Durable client is asynchronous in
/// every language (Python: `DurableOrchestrationClient.start_new` is a coroutine, so the starter
/// is an `async def`, which the worker runs on its event loop, outside the thread pool), so on
/// Consumption and Premium the host takes up to `maxConcurrentRequests` of them
/// (`function.http_max_concurrent_requests`), not the one-at-a-time of the study's synchronous
/// Python HTTP functions. Flex's per-instance HTTP concurrency is the platform's own limit and
/// applies to every HTTP function; a scenario's `http_concurrency` overrides both.
fn client_slots(models: &Models, platform: &FunctionPlatform, cfg: &DeploymentConfig) -> u32 {
    match (cfg.http_concurrency, platform.plan) {
        (Some(n), _) => n,
        (None, Some(HostingPlan::Flex)) => platform.slots_per_instance,
        (None, _) => models.azure.function.http_max_concurrent_requests.value as u32,
    }
}

/// Builds the az-dorch or az-dent plan.
pub fn plan(deployment: Deployment, models: &Models, cfg: &DeploymentConfig, _workflow: &Workflow) -> Result<DeploymentPlan, ConfigError> {
    let platform = FunctionPlatform::build_for(Deployment::AzFunc, deployment.name(), models, cfg)?;
    let d = &models.durable;
    let dotnet = cfg.runtime == Some(Runtime::Dotnet);
    let (orchestrators, activities) = durable_slots(models, &platform);
    let app = AppDef {
        name: format!("{} app", deployment.name()),
        slots: [client_slots(models, &platform, cfg), orchestrators, activities],
        lambda: false,
        http_interval: platform.http_interval(),
        queue_interval: platform.queue_interval,
        max_hosts: platform.max_hosts(),
        platform,
    };
    let backend = Backend::from_models(cfg.backend.unwrap_or(DurableBackend::AzureStorage), models);
    let partitions = backend.partitions(models, cfg.partitions, deployment.name())?;
    let mut azure = AzureSetup::from_models(models, d.payload.large_message_kb.value, partitions);
    azure.put_latency = backend.message_latency(models, azure.put_latency);
    azure.storage_queues = backend.storage_queues();
    // Only the Azure Storage provider checks start messages against its Instances table.
    azure.start_dedupe &= azure.storage_queues;
    if azure.storage_queues {
        // Each message is put and got: two of the queue's messages per second.
        azure.queue_rate = (d.task_hub.queue_max_messages_per_s.value / 2.0, d.task_hub.queue_burst_s.value);
    }
    azure.leases = backend.leases();
    let fail_large = match cfg.payload_limit_mode {
        Some(m) => m == sfsim_workflow::PayloadLimitMode::Fail,
        None => d.payload.large_message_fail.value >= 0.5,
    };
    // The fail mode: a call whose payload exceeds 64 KB fails instead of going through a blob.
    azure.messages.fail_above_bytes = fail_large.then_some((d.payload.limit_kb.value * 1024.0) as u64);
    let (episode_cpu_s, per_event_cpu_s, per_history_kb_cpu_s, request_cpu_s) = if dotnet {
        let n = &d.dotnet;
        (n.episode_cpu_s.value, n.per_history_event_cpu_s.value, n.per_history_kb_cpu_s.value, n.request_cpu_s.value)
    } else {
        let r = &d.replay;
        (r.episode_cpu_s.value, r.per_history_event_cpu_s.value, r.per_history_kb_cpu_s.value, r.request_cpu_s.value)
    };
    let storage_backoff = Backoff {
        min: SimDuration::from_secs_f64(d.polling.min_interval_s.value),
        found: SimDuration::from_secs_f64(d.polling.found_interval_s.value),
        max: SimDuration::from_secs_f64(d.polling.max_interval_s.value),
        randomization: d.polling.randomization.value,
    };
    let setup = DurableSetup {
        azure,
        // The study's Az-Dent is a program of its own (paper.md: activities, entities and a
        // sub-orchestrator); a scenario that gives none runs every step on an entity.
        entities_for_steps: deployment == Deployment::AzDent && cfg.flow.is_none(),
        flow: cfg.flow.clone(),
        episode_cpu_s,
        per_event_cpu_s,
        per_history_kb_cpu_s,
        extended_sessions: cfg.extended_sessions.unwrap_or(d.replay.extended_sessions.value >= 0.5),
        cursor_cache: backend.kind == DurableBackend::Netherite && d.netherite.cache_cursors.value >= 0.5,
        remote_activity_cpu_s: if backend.kind == DurableBackend::Netherite { d.netherite.remote_activity_cpu_s.value } else { 0.0 },
        episode_memory_mb: d.replay.orchestrator_memory_mb.value,
        entity_op_cpu_s: d.entities.operation_cpu_s.value,
        // The client function: its own cost in Python, an episode's dispatch in .NET.
        client_cpu_s: if dotnet { d.dotnet.episode_cpu_s.value } else { d.replay.client_cpu_s.value },
        first_dispatch_cpu_s: d.replay.first_dispatch_cpu_s.value,
        max_entity_batch: d.concurrency.max_entity_operation_batch.value as u32,
        table_property_max_bytes: (d.payload.table_property_max_kb.value * 1024.0) as u64,
        partitions,
        control_batch: d.task_hub.control_queue_batch.value as u32,
        backoff: backend.backoff(models, storage_backoff),
        backend,
        request_cpu_s,
    };
    Ok(DeploymentPlan { deployment, apps: vec![app], driver: Driver::Durable(Box::new(setup)), chunk_bytes: 0 })
}

/// An entity operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum OpKind {
    /// Return the state.
    Get,
    /// Replace the state (a signal).
    Set(u64),
    /// Run a step's work inside the entity (az-dent).
    Run { step: StepId, share: f64, item: Item },
    /// A `call_entity` / `signal_entity` element's operation (with its step's work, if any, at
    /// `share` of the step).
    Call { op: EntityOpId, share: f64, item: Item },
    /// Orchestration `orch`'s lock request at position `pos` of its sorted lock set.
    Lock { orch: OrchId, pos: u32 },
    /// Orchestration `orch` releases its lock.
    Release { orch: OrchId },
}

/// The entity a task addresses.
#[derive(Clone, Copy, Debug)]
enum EntTarget {
    /// A new step entity (az-dent).
    NewStep,
    /// The execution's key of a state object.
    State(EntityRef),
}

/// A one-way message sent when an await completes.
#[derive(Clone, Copy, Debug)]
enum Signal {
    /// An operation on the execution's key of a state object.
    Op(EntityRef, OpKind),
    /// Release every entity the orchestration locked.
    ReleaseLocks,
}

#[derive(Clone, Debug)]
enum TaskSpec {
    Activity {
        step: StepId,
        share: f64,
        item: Item,
    },
    Entity {
        target: EntTarget,
        op: OpKind,
    },
    /// Acquire locks on these entities (a critical section's start).
    Lock(Vec<EntityRef>),
    Sub {
        nodes: Vec<Node>,
        share: f64,
        item: Item,
    },
}

#[derive(Clone, Debug)]
struct Await {
    tasks: Vec<TaskSpec>,
    /// Signals sent when the await completes.
    signals: Vec<Signal>,
    workers: bool,
}

#[derive(Clone, Debug)]
struct TaskRt {
    strand: StrandId,
    scheduled: SimTime,
    worker: bool,
    output: u64,
    /// A fan-out activity's scheduling delay, to its last dispatch (recorded when it
    /// completes: a dispatch whose host was scaled in before running it does not count).
    dispatch_delay_s: Option<f64>,
}

/// Payload bytes held in an orchestration's history (or waiting to be added to it).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HistoryBytes {
    /// Bytes in table properties.
    pub table: u64,
    /// Payloads over the table's property limit, kept in blobs: count and bytes.
    pub blobs: u32,
    pub blob_bytes: u64,
    /// Messages in the large-message container (inbox only): count and bytes.
    pub large_messages: u32,
    pub large_message_bytes: u64,
}

impl HistoryBytes {
    /// A row of `size` payload bytes; above `limit` it is stored as a blob.
    fn add_row(&mut self, size: u64, limit: u64) {
        if size > limit {
            self.blobs += 1;
            self.blob_bytes += size;
        } else {
            self.table += size;
        }
    }

    /// A message that arrived: its payload becomes a row at the next episode; a large one is
    /// first read from the large-message container.
    fn add_message(&mut self, size: u64, large: bool, limit: u64) {
        self.add_row(size, limit);
        if large {
            self.large_messages += 1;
            self.large_message_bytes += size;
        }
    }

    /// Messages an episode took and gave back (its host was scaled in before it ran).
    fn add_buffered(&mut self, taken: &HistoryBytes) {
        self.add_rows(taken);
        self.large_messages += taken.large_messages;
        self.large_message_bytes += taken.large_message_bytes;
    }

    /// The rows an episode took from its messages.
    fn add_rows(&mut self, taken: &HistoryBytes) {
        self.table += taken.table;
        self.blobs += taken.blobs;
        self.blob_bytes += taken.blob_bytes;
    }

    /// All payload bytes.
    pub fn total(&self) -> u64 {
        self.table + self.blob_bytes
    }
}

slab_id!(
    /// An orchestration instance (an execution's or a sub-orchestration).
    OrchId => Orch
);
slab_id!(
    /// An entity: a step entity, or a (state object, key).
    EntityId => EntitySt
);
slab_id!(
    /// An entity operation, from its sending to the end of its batch.
    OpId => Op
);

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

struct Orch {
    exec: ExecId,
    awaits: Vec<Await>,
    next_await: usize,
    history: u32,
    /// What the history holds (payloads of inputs, scheduled calls and results).
    history_bytes: HistoryBytes,
    /// Payloads of the messages waiting for the next episode, and of those it took.
    inbox_bytes: HistoryBytes,
    taken_bytes: HistoryBytes,
    outstanding: u32,
    inbox: u32,
    start_pending: bool,
    running: bool,
    ready: bool,
    partition: u32,
    strand: StrandId,
    strand_active: bool,
    join: Option<JoinId>,
    tasks: Vec<TaskRt>,
    parent: Option<(OrchId, u32)>,
    last_host: Option<InstId>,
    last_end: SimTime,
    taken: (u32, bool),
    /// The entities of the critical section it is in or entering, sorted, as references
    /// (state object and ref): each is resolved to its entity when the request reaches it, since
    /// an idle keyed entity is freed and its slot reused before a later lock of the set is taken.
    locks: Vec<EntityRef>,
    /// When its host last took a control message for it (the buffer's lock runs from there).
    dequeued_at: SimTime,
    /// Its messages were in the buffer of a host that was scaled in: invisible until their
    /// lock runs out ([`World::durable_control_visible`]).
    invisible: bool,
    /// Its current episode counted a replay (undone if the episode is dropped unrun).
    replayed: bool,
    /// The client's Instances-row write (drawn for the HTTP starter), and when the row is in the
    /// table (a top-level orchestration under the start deduplication: its send's visibility plus
    /// half that write, the write following the send as in DTAS).
    row_write: SimDuration,
    row_at: SimTime,
}

#[derive(Clone, Copy)]
struct Op {
    kind: OpKind,
    exec: ExecId,
    reply: Option<(OrchId, u32)>,
    strand: Option<StrandId>,
}

struct EntitySt {
    partition: u32,
    queue: VecDeque<OpId>,
    running: bool,
    ready: bool,
    state_bytes: u64,
    batch: Vec<OpId>,
    /// What the entity is: it decides its name and when it is freed.
    kind: EntityKind,
    /// The critical section holding it: (execution, orchestration).
    lock: Option<(ExecId, OrchId)>,
    /// Operations of others deferred while it is locked, in arrival order.
    held: VecDeque<OpId>,
    /// Messages on their way to it (it is kept until they arrive).
    inflight: u32,
    /// When its host last took an operation message for it.
    dequeued_at: SimTime,
    /// Its operations were in the buffer of a host that was scaled in (as [`Orch`]'s).
    invisible: bool,
}

/// What an entity stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntityKind {
    /// An az-dent step entity: one per task, freed after its operation.
    Step,
    /// A single-key state object's entity, shared by every execution for the whole run.
    Pinned { state: u32 },
    /// Key `key` of a keyed state object: in `DurableState::keyed`, freed when idle.
    Keyed { state: u32, key: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// Orchestration `.1` of execution `.0`.
    Orch(ExecId, OrchId),
    Entity(EntityId),
}

/// Durable state of a world.
#[derive(Default)]
pub struct DurableState {
    orchs: Slab<Orch>,
    entities: Slab<EntitySt>,
    /// The entities of keyed state objects that exist now, by (state object, key).
    keyed: HashMap<(u32, u64), EntityId>,
    /// The one entity of each single-key state object.
    pinned: Vec<Option<EntityId>>,
    /// Step entities created so far (their partition hashes the count: ids are reused).
    step_entities_made: u64,
    ops: Slab<Op>,
    /// Work waiting for its partition's host to have room, per partition, with a global
    /// sequence number (started in arrival order among the hosts with room).
    pending: Vec<VecDeque<(u64, Work)>>,
    /// Per partition, the work its draining old owner had dequeued into its buffer before it
    /// lost the partition: started on that host only (`task_hub.drain_buffered`; DTAS
    /// `OrchestrationSessionManager.GetNextSessionAsync`), in the same sequence as `pending`.
    left: Vec<VecDeque<(u64, Work)>>,
    pending_seq: u64,
    work_item_queue: QueueId,
    /// Netherite: each partition's last persisted commit batch.
    last_commit: Vec<Option<SimTime>>,
}

impl DurableState {
    /// Orchestrations and entity operations still stored (none once every execution ended).
    pub(crate) fn live(&self) -> usize {
        self.orchs.live() + self.ops.live()
    }

    /// No orchestration or entity waits for a slot and no entity has queued operations.
    pub fn is_idle(&self) -> bool {
        self.is_idle_pending() && self.ops.live() == 0
    }

    /// No work waits for a host.
    fn is_idle_pending(&self) -> bool {
        self.pending.iter().chain(&self.left).all(VecDeque::is_empty)
    }

    /// Frees an orchestration of an ended execution.
    pub(crate) fn free_orch(&mut self, id: OrchId) {
        self.orchs.remove(id.0, |o| {
            o.awaits = Vec::new();
            o.tasks = Vec::new();
        });
    }
}

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<'a> World<'a> {
    /// The Durable driver's settings (its code runs only for a Durable plan).
    fn du_setup(&self) -> &'a DurableSetup {
        let plan: &'a DeploymentPlan = self.plan;
        match &plan.driver {
            Driver::Durable(d) => d,
            _ => unreachable!("Durable driver code runs only for az-dorch and az-dent"),
        }
    }

    pub(crate) fn durable_init(&mut self) {
        let s = self.du_setup();
        let push = s.backend.push();
        for p in 0..s.partitions {
            let q = self.add_queue(QueueKind::Control(p), s.backoff, s.control_batch, Class::Orchestrator);
            self.az.queues[q].push = push;
        }
        self.du.pending = vec![VecDeque::new(); s.partitions as usize];
        self.du.left = vec![VecDeque::new(); s.partitions as usize];
        self.du.last_commit = vec![None; s.partitions as usize];
        self.du.work_item_queue = self.add_queue(QueueKind::WorkItem, s.backoff, 1, Class::Activity);
        let q = self.du.work_item_queue;
        self.az.queues[q].push = push;
        // One entity per single-key state object, shared by all executions; keyed objects'
        // entities come and go with their work (`entity_for`).
        for (i, st) in self.wf.state.iter().enumerate() {
            let id = (st.keying.keys == 1).then(|| {
                let partition = (mix(0xE17 + i as u64) % u64::from(s.partitions)) as u32;
                EntityId(self.du.entities.insert(EntitySt::new(partition, st.size_bytes, EntityKind::Pinned { state: i as u32 })))
            });
            self.du.pinned.push(id);
        }
    }

    /// Turns flow nodes into the orchestrator's awaits.
    fn expand(&self, nodes: &[Node], share: f64, item: Item, out: &mut Vec<Await>) {
        let dent = self.du_setup().entities_for_steps;
        let task_of = |s: StepId, share: f64, item: Item| {
            if dent {
                TaskSpec::Entity { target: EntTarget::NewStep, op: OpKind::Run { step: s, share, item } }
            } else {
                TaskSpec::Activity { step: s, share, item }
            }
        };
        let plain = |s: StepId| self.wf.steps[s.0 as usize].state_reads.is_empty();
        for n in nodes {
            match n {
                Node::Step(s) => {
                    let step = &self.wf.steps[s.0 as usize];
                    for r in &step.state_reads {
                        out.push(Await {
                            tasks: vec![TaskSpec::Entity { target: EntTarget::State(*r), op: OpKind::Get }],
                            signals: vec![],
                            workers: false,
                        });
                    }
                    out.push(Await { tasks: vec![task_of(*s, share, item)], signals: self.update_signals(*s), workers: false });
                }
                Node::Parallel(branches) => {
                    // Branches of one plain step or one plain entity call (no state reads of its
                    // step's to await first) are tasks of one `task_all`.
                    let single = |b: &[Node]| match b {
                        [Node::CallEntity(op)] if self.op_reads(*op).is_empty() => {
                            Some((self.call_task(*op, share, item), self.op_signals(*op)))
                        }
                        _ => single_step(b).filter(|s| plain(*s)).map(|s| (task_of(s, share, item), self.update_signals(s))),
                    };
                    let singles: Option<Vec<(TaskSpec, Vec<Signal>)>> = branches.iter().map(|b| single(b)).collect();
                    match singles {
                        Some(tasks) => out.push(Await {
                            signals: tasks.iter().flat_map(|t| t.1.iter().copied()).collect(),
                            tasks: tasks.into_iter().map(|t| t.0).collect(),
                            workers: false,
                        }),
                        None => out.push(Await {
                            tasks: branches.iter().map(|b| TaskSpec::Sub { nodes: b.clone(), share, item }).collect(),
                            signals: vec![],
                            workers: false,
                        }),
                    }
                }
                Node::FanOut(f) => {
                    let f = &self.wf.fan_outs[f.0 as usize];
                    let cb = self.plan.chunk_bytes;
                    let s2 = |k: u32| share * f.item_share(k, cb);
                    // A split fan-out shares one draw of the total work (item 0); otherwise each
                    // item draws its own. Each is its own invocation either way.
                    let it = |k: u32| Item::of(k, f.split);
                    match single_step(&f.body).filter(|s| plain(*s)) {
                        Some(s) => out.push(Await {
                            tasks: (0..f.item_count(cb)).map(|k| task_of(s, s2(k), it(k))).collect(),
                            signals: self.update_signals(s),
                            workers: true,
                        }),
                        None => out.push(Await {
                            tasks: (0..f.item_count(cb))
                                .map(|k| TaskSpec::Sub { nodes: f.body.clone(), share: s2(k), item: it(k) })
                                .collect(),
                            signals: vec![],
                            workers: true,
                        }),
                    }
                }
                Node::CallEntity(op) => {
                    out.extend(self.op_reads(*op));
                    out.push(Await { tasks: vec![self.call_task(*op, share, item)], signals: self.op_signals(*op), workers: false });
                }
                Node::SignalEntity(op) => {
                    out.extend(self.op_reads(*op));
                    let sig = Signal::Op(self.wf.entity_ops[op.0 as usize].target, OpKind::Call { op: *op, share, item });
                    // The step's other state updates: the entity signals them after the work
                    // (`durable_entity_done`).
                    after_last_await(out, sig);
                }
                Node::Lock(refs, body) => {
                    out.push(Await { tasks: vec![TaskSpec::Lock(refs.clone())], signals: vec![], workers: false });
                    self.expand(body, share, item, out);
                    after_last_await(out, Signal::ReleaseLocks);
                }
            }
        }
    }

    /// An awaited `call_entity` element.
    fn call_task(&self, op: EntityOpId, share: f64, item: Item) -> TaskSpec {
        TaskSpec::Entity { target: EntTarget::State(self.wf.entity_ops[op.0 as usize].target), op: OpKind::Call { op, share, item } }
    }

    /// The `get`s awaited before an entity operation that runs a step: the step's state reads
    /// other than the entity's own state (which the operation has).
    fn op_reads(&self, op: EntityOpId) -> Vec<Await> {
        let o = &self.wf.entity_ops[op.0 as usize];
        let Some(s) = o.step else { return vec![] };
        let reads = &self.wf.steps[s.0 as usize].state_reads;
        reads
            .iter()
            .filter(|r| **r != o.target)
            .map(|r| Await {
                tasks: vec![TaskSpec::Entity { target: EntTarget::State(*r), op: OpKind::Get }],
                signals: vec![],
                workers: false,
            })
            .collect()
    }

    /// The `set` signals after an entity operation that runs a step: the step's state updates
    /// other than the entity's own state (which the operation writes).
    fn op_signals(&self, op: EntityOpId) -> Vec<Signal> {
        let o = &self.wf.entity_ops[op.0 as usize];
        let Some(s) = o.step else { return vec![] };
        self.update_signals(s).into_iter().filter(|sig| !matches!(sig, Signal::Op(r, _) if *r == o.target)).collect()
    }

    /// The `set` signals of a step's state updates.
    fn update_signals(&self, s: StepId) -> Vec<Signal> {
        let st = &self.wf.steps[s.0 as usize];
        st.state_updates.iter().map(|r| Signal::Op(*r, OpKind::Set(self.wf.state[r.state.0 as usize].size_bytes))).collect()
    }

    fn new_orch(
        &mut self,
        exec: ExecId,
        nodes: &[Node],
        share: f64,
        item: Item,
        strand: StrandId,
        parent: Option<(OrchId, u32)>,
    ) -> OrchId {
        let mut awaits = Vec::new();
        self.expand(nodes, share, item, &mut awaits);
        // The partition hashes the execution and its n-th orchestration (ids are reused).
        let nth = self.execs.get(exec).map_or(0, |x| x.owned.len() as u32);
        let partition = (mix(u64::from(exec.0) << 24 | u64::from(nth)) % u64::from(self.du_setup().partitions)) as u32;
        let id = OrchId(self.du.orchs.insert(Orch {
            exec,
            awaits,
            next_await: 0,
            history: 0,
            history_bytes: HistoryBytes::default(),
            inbox_bytes: HistoryBytes::default(),
            taken_bytes: HistoryBytes::default(),
            outstanding: 0,
            inbox: 0,
            start_pending: false,
            running: false,
            ready: false,
            partition,
            strand,
            strand_active: false,
            join: None,
            tasks: Vec::new(),
            parent,
            last_host: None,
            last_end: SimTime::ZERO,
            taken: (0, false),
            locks: Vec::new(),
            dequeued_at: SimTime::ZERO,
            invisible: false,
            replayed: false,
            row_write: SimDuration::ZERO,
            row_at: SimTime::ZERO,
        }));
        self.own(exec, Owned::Orch(id));
        id
    }

    pub(crate) fn durable_start(&mut self, now: SimTime, e: ExecId) {
        let strand = self.main_strand(e);
        let flow = self.du_setup().flow.clone().unwrap_or_else(|| self.wf.flow.clone());
        let orch = self.new_orch(e, &flow, 1.0, Item::ZERO, strand, None);
        // The HTTP client function: start the instance (one Instances-table write).
        let s = self.du_setup();
        let (m, sg) = self.az_table_write();
        let write = self.lognormal(m, sg);
        self.du.orchs[orch].row_write = write;
        // An async function: the worker runs it on its event loop, holding no pool thread.
        let phases = vec![
            Phase::cpu(s.client_cpu_s, s.episode_memory_mb, Component::Execution).on_host(),
            Phase::wait(write, s.episode_memory_mb, Component::Transfer).on_host(),
        ];
        self.count_tx(Some(e), 0, 1, 0, 0);
        let v = self.new_inv(AppId(0), Class::Function, e, vec![strand], phases, Cont::Starter { orch }, now);
        self.invoke(now, v);
    }

    fn az_table_write(&self) -> (f64, f64) {
        self.du_setup().azure.table_write
    }

    fn az_table_read(&self) -> (f64, f64) {
        self.du_setup().azure.table_read
    }

    /// The control queue of a partition (added first, in partition order).
    fn control_queue(&self, partition: u32) -> QueueId {
        QueueId(partition)
    }

    pub(crate) fn durable_starter_done(&mut self, now: SimTime, v: InvId, orch: OrchId) {
        let host = self.host_of(v);
        if self.exec_done(self.invs[v].exec) {
            return; // the orchestration went with its execution
        }
        let (e, strand, part) = {
            let o = &self.du.orchs[orch];
            (o.exec, o.strand, o.partition)
        };
        let size = self.wf.input_bytes;
        if !self.check_payload(now, e, size) {
            return;
        }
        let q = self.control_queue(part);
        let visible_at = self.put_message(now, q, MsgKind::Orch { orch, task: None }, e, Some(strand), size, Some(host));
        if self.az().start_dedupe && self.du.orchs[orch].parent.is_none() {
            // The client sends the start message, then writes the Instances row (DTAS
            // CreateTaskOrchestrationAsync: SetNewExecutionAsync after the send). The starter's
            // write phase stands for that write (the client pays it before it answers); the row
            // is in the table about half its round trip after the send's visibility.
            let o = &mut self.du.orchs[orch];
            o.row_at = visible_at + o.row_write.half();
        }
        if self.du.orchs[orch].parent.is_none()
            && let Some(x) = self.execs.get_mut(e)
        {
            x.pending.get_or_insert(now);
        }
    }

    /// Fails the execution when `size` breaks the payload limit in fail mode.
    fn check_payload(&mut self, now: SimTime, e: ExecId, size: u64) -> bool {
        if let Some(err) = self.du_setup().azure.messages.failure(size) {
            self.fail_exec(now, e, err);
            return false;
        }
        true
    }

    pub(crate) fn durable_message(&mut self, now: SimTime, h: InstId, msg: Msg) {
        let limit = self.du_setup().table_property_max_bytes;
        if !self.exec_done(msg.exec) {
            self.backend_dispatched(msg.exec);
        }
        match msg.kind {
            MsgKind::Orch { orch, task } => {
                if self.exec_done(msg.exec) {
                    return;
                }
                if task.is_none() && self.az().start_dedupe && self.defer_unwritten_start(now, orch, msg) {
                    return;
                }
                self.du.orchs[orch].dequeued_at = now;
                match task {
                    None => {
                        let o = &mut self.du.orchs[orch];
                        o.start_pending = true;
                        o.strand_active = true;
                        o.inbox_bytes.add_message(msg.size, msg.large, limit);
                    }
                    Some(task) => {
                        let o = &mut self.du.orchs[orch];
                        o.tasks[task as usize].output = msg.size;
                        o.inbox_bytes.add_message(msg.size, msg.large, limit);
                        o.inbox += 1;
                        match (o.join, msg.strand) {
                            (Some(j), Some(child)) => {
                                if let Some(parent) = self.arrive_join(j, child, now) {
                                    let o = &mut self.du.orchs[orch];
                                    debug_assert_eq!(parent, o.strand);
                                    o.strand_active = true;
                                    o.join = None;
                                }
                            }
                            _ => o.strand_active = true,
                        }
                    }
                }
                self.make_ready(now, Work::Orch(msg.exec, orch));
            }
            MsgKind::Activity { orch, task } => {
                if self.exec_done(msg.exec) {
                    return;
                }
                let (step, share, item) = match self.current_task_spec(orch, task) {
                    TaskSpec::Activity { step, share, item } => (step, share, item),
                    _ => unreachable!("activity messages carry activity tasks"),
                };
                let mut phases = Vec::new();
                let requests = self.du_setup().backend.activity_requests();
                phases.extend(self.backend_request_phase(requests, 64.0));
                // Netherite: an activity away from its orchestration's partition host costs
                // the Event Hubs hops of its task and result.
                let remote = self.du_setup().remote_activity_cpu_s;
                if remote > 0.0 && self.du.orchs[orch].last_host != Some(h) {
                    phases.push(Phase::cpu(remote, 64.0, Component::Execution).on_host());
                }
                if msg.large {
                    let d =
                        self.plan.apps[AppId(0)].platform.storage.transfer_time(crate::storage::StorageOp::Get, msg.size, &mut self.rng);
                    phases.push(Phase::wait(d, 64.0, Component::Transfer).on_host());
                }
                phases.extend(self.phases_of(msg.exec, step, item, share, AppId(0), false));
                self.warm_up_host(h, 64.0, &mut phases);
                let v = self.new_inv(
                    AppId(0),
                    Class::Activity,
                    msg.exec,
                    msg.strand.into_iter().collect(),
                    phases,
                    Cont::Activity { orch, task },
                    now,
                );
                self.start_on(now, v, h, false);
            }
            MsgKind::EntityOp { entity, op } => {
                let ent = &mut self.du.entities[entity];
                ent.inflight -= 1;
                ent.dequeued_at = now;
                ent.queue.push_back(op);
                self.make_ready(now, Work::Entity(entity));
            }
            MsgKind::Chain { .. } => unreachable!("chain messages go to az-queue"),
        }
    }

    /// The step an activity of `orch` runs (for the output), if `orch` is still live.
    pub(crate) fn durable_activity_step(&self, orch: OrchId, task: u32) -> Option<sfsim_workflow::StepId> {
        let o = self.du.orchs.get(orch.0)?;
        match o.awaits.get(o.next_await.checked_sub(1)?)?.tasks.get(task as usize)? {
            TaskSpec::Activity { step, .. } => Some(*step),
            _ => None,
        }
    }

    /// DTAS `DedupeExecutionStartedMessagesAsync`: the host reads a top-level instance's
    /// Instances row (a point query) before it buffers its start message; a row not yet written
    /// means the message is abandoned, visible again 2 s later (TaskHubQueue.AbandonMessageAsync:
    /// 2^DequeueCount s; a later take finds the row). The host has the message one Get Messages
    /// round trip after the poll, and its read reaches the table about half a read round trip
    /// after that: the race with the client's write is decided there (both drawn from the
    /// stream `start_dedupe`, so that the check leaves every other draw unchanged). Not modelled:
    /// the read holding back the other messages of its fetch (DTAS awaits it). Returns whether
    /// the message was deferred. Out of line: start messages are few, and the message handler
    /// is on the hot path.
    #[cold]
    #[inline(never)]
    fn defer_unwritten_start(&mut self, now: SimTime, orch: OrchId, msg: Msg) -> bool {
        if self.du.orchs[orch].parent.is_some() {
            return false;
        }
        self.count_tx(Some(msg.exec), 0, 1, 0, 0);
        let (get_median_s, get_sigma) = self.az().get_latency;
        let (read_median_s, read_sigma) = self.az().table_read;
        let get = super::lognormal_from(get_median_s, get_sigma, &mut self.dedupe_rng);
        let read = super::lognormal_from(read_median_s, read_sigma, &mut self.dedupe_rng);
        if now + get + read.half() >= self.du.orchs[orch].row_at {
            return false;
        }
        self.trace_exec(now, msg.exec, || "start message deferred: its Instances row is not written yet".into());
        self.redeliver_message(now, msg, now + START_DEDUPE_ABANDON);
        true
    }

    fn current_task_spec(&self, orch: OrchId, task: u32) -> TaskSpec {
        let o = &self.du.orchs[orch];
        o.awaits[o.next_await - 1].tasks[task as usize].clone()
    }

    fn make_ready(&mut self, now: SimTime, w: Work) {
        let (running, ready, invisible) = match w {
            Work::Orch(_, o) => (self.du.orchs[o].running, self.du.orchs[o].ready, self.du.orchs[o].invisible),
            Work::Entity(x) => (self.du.entities[x].running, self.du.entities[x].ready, self.du.entities[x].invisible),
        };
        // Held work waits for its lock; messages arriving meanwhile join it.
        if running || ready || invisible {
            return;
        }
        match w {
            Work::Orch(_, o) => self.du.orchs[o].ready = true,
            Work::Entity(x) => self.du.entities[x].ready = true,
        }
        let part = match w {
            Work::Orch(_, o) => self.du.orchs[o].partition,
            Work::Entity(x) => self.du.entities[x].partition,
        };
        self.du.pending_seq += 1;
        let seq = self.du.pending_seq;
        self.du.pending[part as usize].push_back((seq, w));
        self.try_start_pending(now);
    }

    /// Starts waiting work, earliest first, while its partition's host has room: the same
    /// order as one pass over a single arrival-ordered list, at a cost per start of the number of
    /// partitions rather than of the waiting work.
    ///
    /// A partition's draining old owner runs the work it had buffered (`left`) besides its
    /// owner's (`pending`): each on its own host, in the one sequence.
    fn try_start_pending(&mut self, now: SimTime) {
        loop {
            let mut best: Option<(u64, usize, InstId, bool)> = None;
            for p in 0..self.du.pending.len() {
                // Work of an execution that ended (and freed its orchestration) is dropped.
                self.drop_ended_front(p, false);
                if self.drop_ended_front(p, true) {
                    self.drain_check(now, p as u32);
                }
                let candidates = [
                    (self.du.pending[p].front().map(|&(seq, _)| seq), self.az.owner.get(p).copied().flatten(), false),
                    (self.du.left[p].front().map(|&(seq, _)| seq), self.az.draining_host(p), true),
                ];
                for (seq, host, left) in candidates {
                    let (Some(seq), Some(h)) = (seq, host) else { continue };
                    if self.has_room(h, Class::Orchestrator) && best.is_none_or(|(s, ..)| seq < s) {
                        best = Some((seq, p, h, left));
                    }
                }
            }
            let Some((_, p, h, left)) = best else { return };
            let item = if left { self.du.left[p].pop_front() } else { self.du.pending[p].pop_front() };
            match item {
                Some((_, Work::Orch(_, o))) => self.start_episode(now, o, h),
                Some((_, Work::Entity(x))) => self.start_entity_batch(now, x, h),
                None => return,
            }
        }
    }

    /// Drops the front work of partition `p`'s owner buffer (or, with `left`, its draining old
    /// owner's) while its execution has ended; returns whether any was dropped.
    fn drop_ended_front(&mut self, p: usize, left: bool) -> bool {
        let mut dropped = false;
        while let Some(&(_, w)) = self.buffer(p, left).front()
            && self.work_ended(w)
        {
            self.buffer(p, left).pop_front();
            dropped = true;
        }
        dropped
    }

    /// Partition `p`'s owner buffer, or with `left` its draining old owner's.
    fn buffer(&mut self, p: usize, left: bool) -> &mut VecDeque<(u64, Work)> {
        if left { &mut self.du.left[p] } else { &mut self.du.pending[p] }
    }

    /// Whether buffered work `w` belongs to an execution that ended (an entity never does).
    fn work_ended(&self, w: Work) -> bool {
        matches!(w, Work::Orch(e, _) if self.exec_done(e))
    }

    /// Holds every live piece of work in partition `p`'s buffer (with `left`, its draining old
    /// owner's) until its lock runs out ([`World::hold_control`]); returns how many.
    fn hold_buffer(&mut self, now: SimTime, p: usize, left: bool) -> usize {
        let mut held = 0;
        while let Some((_, w)) = self.buffer(p, left).pop_front() {
            if !self.work_ended(w) {
                self.hold_control(now, w);
                held += 1;
            }
        }
        held
    }

    /// Partition `part`'s owner stopped dequeuing and drains (`task_hub.drain_buffered`): the
    /// work it had buffered stays its own. Returns whether there was any.
    pub(crate) fn durable_keep_buffered(&mut self, part: u32) -> bool {
        let i = part as usize;
        if !matches!(self.plan.driver, Driver::Durable(_)) || self.du.pending.get(i).is_none_or(VecDeque::is_empty) {
            return false;
        }
        // Work of executions that ended is dropped, not kept: it would hold the partition for
        // nothing.
        let taken = std::mem::take(&mut self.du.pending[i]);
        let live: Vec<(u64, Work)> = taken.into_iter().filter(|&(_, w)| !self.work_ended(w)).collect();
        let any = !live.is_empty();
        self.du.left[i].extend(live);
        any
    }

    /// Work of partition `part` its old owner had buffered and not started, when its drain
    /// ends otherwise (a cap, or its host stopping): back in sequence for the next owner.
    pub(crate) fn durable_return_buffered(&mut self, part: u32) {
        let i = part as usize;
        if self.du.left.get(i).is_none_or(VecDeque::is_empty) {
            return;
        }
        let mut all: Vec<(u64, Work)> = std::mem::take(&mut self.du.left[i]).into_iter().collect();
        all.extend(std::mem::take(&mut self.du.pending[i]));
        all.sort_by_key(|&(seq, _)| seq);
        self.du.pending[i] = all.into();
    }

    /// Control work host `h` has dequeued and not started, of executions still running: its
    /// partitions' buffers and what it drains. Approximates DTAS's count of pending messages
    /// (`PendingOrchestratorMessages`): this counts orchestrations and entities waiting, not
    /// their messages, nor those of sessions in progress.
    pub(crate) fn durable_buffered_on(&self, h: InstId) -> usize {
        let live = |buf: &VecDeque<(u64, Work)>| buf.iter().filter(|&&(_, w)| !self.work_ended(w)).count();
        (0..self.du.pending.len())
            .map(|p| {
                let own = if self.az.owner.get(p).copied().flatten() == Some(h) { live(&self.du.pending[p]) } else { 0 };
                let left = if self.az.draining_host(p) == Some(h) { live(&self.du.left[p]) } else { 0 };
                own + left
            })
            .sum()
    }

    /// How much buffered work of partition `part` its draining old owner still holds.
    pub(crate) fn durable_left_in(&self, part: usize) -> usize {
        self.du.left.get(part).map_or(0, VecDeque::len)
    }

    pub(crate) fn durable_slot_freed(&mut self, now: SimTime, _h: InstId) {
        if matches!(self.plan.driver, Driver::Durable(_)) && !self.du.is_idle_pending() {
            self.try_start_pending(now);
        }
    }

    /// A fan-out activity was handed to the language worker on its host (the extension's
    /// `FunctionStarting` trace, which is what Application Insights shows as the activity's
    /// start): its scheduling delay runs from the orchestrator's schedule to here, so it
    /// includes the work-item queue and the wait for a host with a free activity slot, not the
    /// wait for the host's Python thread (which is part of the worker's latency).
    pub(crate) fn durable_activity_dispatched(&mut self, now: SimTime, e: ExecId, cont: Cont) {
        if self.exec_done(e) {
            return;
        }
        let Cont::Activity { orch, task } = cont else { return };
        let rt = &mut self.du.orchs[orch].tasks[task as usize];
        if rt.worker {
            rt.dispatch_delay_s = Some(now.saturating_since(rt.scheduled).as_secs_f64());
        }
    }

    /// A fan-out sub-orchestration's first episode started: its scheduling delay runs from the
    /// parent's schedule to here (control queue, a host with a free orchestrator slot).
    pub(crate) fn durable_code_started(&mut self, now: SimTime, e: ExecId, cont: Cont) {
        if self.exec_done(e) {
            return;
        }
        let (parent, task) = match cont {
            Cont::Episode { orch } => {
                let o = &self.du.orchs[orch];
                match o.parent {
                    Some((p, task)) if o.history == 0 => (p, task),
                    _ => return,
                }
            }
            _ => return,
        };
        let rt = &self.du.orchs[parent].tasks[task as usize];
        if rt.worker {
            let d = now.saturating_since(rt.scheduled).as_secs_f64();
            self.worker_delay(e, d);
        }
    }

    /// Messages of partition `p` its host took from the control queue and has not started
    /// (waiting for a slot, or for the partition's next owner).
    pub(crate) fn durable_pending_in(&self, p: usize) -> usize {
        self.du.pending.get(p).map_or(0, VecDeque::len) + self.durable_left_in(p)
    }

    /// Whether dequeued orchestrator or entity work waits for a host with room.
    pub(crate) fn durable_work_waiting(&self) -> bool {
        self.du.pending.iter().chain(&self.du.left).flatten().any(|&(_, w)| !self.work_ended(w))
    }

    /// A scale-in took host `h` while it held Durable work (models/az-durable.toml
    /// `task_hub.scale_in_busy_hosts`): it takes nothing new and its partitions change hands;
    /// the work it had dequeued and not started is nobody's until its lock runs out:
    /// * activities waiting for the worker's thread go back to the work-item queue, visible
    ///   `work_item_visibility_timeout_s` after their lock's last renewal;
    /// * orchestrations and entities of its partitions whose messages wait in its buffer (for an
    ///   orchestrator slot, or as an episode or entity batch waiting for the worker's thread) are held,
    ///   visible `control_queue_visibility_timeout_s` after their last dequeue (never renewed),
    ///   then taken by their partition's next owner; messages arriving for them meanwhile join
    ///   them (DTAS would run an episode for those first, which would find the awaited results
    ///   still missing).
    ///
    /// Entity batches waiting for the thread are dropped and their entities held the same way:
    /// their callers' wait so far is entity time, the hold queue time. Simplifications: the
    /// batch's state write, counted when it was dispatched, stays billed though it never
    /// happens, and the timeline shows its operations as dispatched. The host leaves when its
    /// running invocations end (their completions are sent as usual; assumed).
    pub(crate) fn durable_drain_host(&mut self, now: SimTime, h: InstId) {
        // Its partitions' buffered work (before they change hands below); other backends (Netherite,
        // MSSQL, DTS) keep no storage-queue buffer, their work moves with the partition.
        let buffered: Vec<usize> =
            if self.az().storage_queues { (0..self.az.owner.len()).filter(|&p| self.az.owner[p] == Some(h)).collect() } else { Vec::new() };
        // And what it had buffered of partitions it drains: its own too.
        // It is held before its partitions change hands below, so that it does not go to their
        // next owners.
        let mut held = 0usize;
        for p in 0..self.du.left.len() {
            if self.az.draining_host(p) == Some(h) {
                held += self.hold_buffer(now, p, true);
            }
        }
        self.insts[h].draining = true;
        self.insts[h].pollers.clear();
        // It stops its partition manager too: its leases go to the hosts that stay.
        self.rebalance(now);
        let waiting: Vec<InvId> = self.insts[h].thread_wait.iter().copied().collect();
        let (lock, renew) = (self.az().work_item_visibility, self.az().work_item_lock_renewal);
        let queue = self.du.work_item_queue;
        let mut activities = 0usize;
        for v in waiting {
            let e = self.invs[v].exec;
            match self.invs[v].cont {
                Cont::Activity { orch, task } => {
                    let (strands, taken) = self.drop_waiting(now, v);
                    if self.exec_done(e) {
                        continue;
                    }
                    let size = match self.current_task_spec(orch, task) {
                        TaskSpec::Activity { step, share, .. } => scaled(self.wf.steps[step.0 as usize].input_bytes, share),
                        _ => unreachable!("activity invocations belong to activity tasks"),
                    };
                    let large = self.az().messages.offloads(size);
                    let msg = Msg {
                        kind: MsgKind::Activity { orch, task },
                        exec: e,
                        strand: strands.first().copied(),
                        size,
                        large,
                        queue,
                        visible_at: now,
                        redelivered: true,
                    };
                    self.redeliver_message(now, msg, super::azure::lock_expiry(taken, now, lock, renew));
                    activities += 1;
                }
                // Other backends (Netherite, MSSQL, DTS) keep no storage-queue buffer: their
                // episodes run on and their partitions' work moves with the partition.
                Cont::Episode { orch } if self.az().storage_queues => {
                    self.drop_waiting(now, v);
                    if self.exec_done(e) {
                        continue;
                    }
                    // The episode never ran: its messages are the orchestration's again, and its
                    // replay did not happen.
                    if std::mem::take(&mut self.du.orchs[orch].replayed) {
                        self.acc(e).counts.replays -= 1;
                    }
                    let o = &mut self.du.orchs[orch];
                    o.running = false;
                    o.inbox += o.taken.0;
                    o.start_pending |= o.taken.1;
                    o.taken = (0, false);
                    let taken = std::mem::take(&mut o.taken_bytes);
                    o.inbox_bytes.add_buffered(&taken);
                    self.hold_control(now, Work::Orch(e, orch));
                    held += 1;
                }
                // An entity batch waiting for the thread never ran either: its operations are
                // the entity's again, first in its queue, and the entity is held as an
                // orchestration is (its messages were in the same buffer).
                Cont::EntityBatch { entity } if self.az().storage_queues => {
                    self.drop_waiting(now, v);
                    let ent = &mut self.du.entities[entity];
                    ent.running = false;
                    for op in std::mem::take(&mut ent.batch).into_iter().rev() {
                        ent.queue.push_front(op);
                    }
                    self.hold_control(now, Work::Entity(entity));
                    held += 1;
                }
                _ => {}
            }
        }
        for p in buffered {
            held += self.hold_buffer(now, p, false);
        }
        self.host_instant(h, now, || {
            format!("scaled in: {activities} dequeued activities and {held} buffered orchestrations or entities wait out their locks")
        });
        if self.insts[h].busy_total() == 0 {
            self.reclaim(now, h, "scaled in");
        }
    }

    /// Work whose control messages were in a stopped host's buffer: held, its messages counted
    /// by Get Queue Metadata, until the first expiry of their lock ([`World::durable_control_visible`]).
    fn hold_control(&mut self, now: SimTime, w: Work) {
        let (dequeued, part, messages, strand) = match w {
            Work::Orch(_, o) => {
                let o = &mut self.du.orchs[o];
                o.invisible = true;
                o.ready = false;
                (o.dequeued_at, o.partition, o.inbox + u32::from(o.start_pending), o.strand_active.then_some(o.strand))
            }
            Work::Entity(x) => {
                let x = &mut self.du.entities[x];
                x.invisible = true;
                x.ready = false;
                (x.dequeued_at, x.partition, x.queue.len() as u32, None)
            }
        };
        if let Some(s) = strand {
            self.charge(s, now, Component::Queue);
        }
        if let Work::Entity(x) = w {
            // Its callers waited for the entity until now; the hold is queue time.
            for s in self.entity_queue_strands(x) {
                self.charge(s, now, Component::Entity);
            }
        }
        let q = self.control_queue(part);
        self.az.queues[q].invisible += messages as usize;
        let at = super::azure::lock_expiry(dequeued, now, self.az().control_visibility, SimDuration::ZERO);
        self.q.schedule(at, super::Ev::Timer(super::Timer::HeldWork { work: w, part, messages }));
    }

    /// The strands waiting on operations queued at entity `x`.
    fn entity_queue_strands(&self, x: EntityId) -> Vec<StrandId> {
        self.du.entities[x].queue.iter().filter_map(|&op| self.du.ops[op].strand).collect()
    }

    /// Held work's lock ran out: its messages are visible again, and its partition's owner
    /// takes them (one more Get Messages; the deletes were billed at the first dequeue).
    pub(crate) fn durable_control_visible(&mut self, now: SimTime, w: Work, part: u32, messages: u32) {
        let q = self.control_queue(part);
        self.az.queues[q].invisible -= messages as usize;
        // Released unless its execution ended (an entity has no execution of its own: its Get
        // is billed to the idle account).
        let (exec, work) = match w {
            Work::Orch(e, orch) => {
                if self.exec_done(e) || self.du.orchs[orch].exec != e || !self.du.orchs[orch].invisible {
                    return;
                }
                let o = &mut self.du.orchs[orch];
                o.invisible = false;
                o.dequeued_at = now;
                if o.strand_active {
                    let s = o.strand;
                    self.charge(s, now, Component::Queue);
                }
                let o = &self.du.orchs[orch];
                (Some(e), o.inbox > 0 || o.start_pending)
            }
            Work::Entity(x) => {
                let Some(ent) = self.du.entities.get_mut(x.0).filter(|ent| ent.invisible) else {
                    return;
                };
                ent.invisible = false;
                ent.dequeued_at = now;
                let work = !ent.queue.is_empty();
                for s in self.entity_queue_strands(x) {
                    self.charge(s, now, Component::Queue);
                }
                (None, work)
            }
        };
        let billed = u64::from(self.az().storage_queues);
        self.count(exec, Tx { queue_class2: billed, ..Tx::default() });
        if work {
            self.make_ready(now, w);
        }
    }

    pub(crate) fn durable_host_gone(&mut self, now: SimTime) {
        if matches!(self.plan.driver, Driver::Durable(_)) && !self.du.is_idle_pending() {
            self.try_start_pending(now);
        }
    }

    fn start_episode(&mut self, now: SimTime, orch: OrchId, h: InstId) {
        let s = self.du_setup();
        let o = &mut self.du.orchs[orch];
        o.ready = false;
        o.running = true;
        o.taken = (o.inbox, o.start_pending);
        o.taken_bytes = std::mem::take(&mut o.inbox_bytes);
        o.inbox = 0;
        o.start_pending = false;
        let (e, history, strand, active) = (o.exec, o.history, o.strand, o.strand_active);
        let (stored, new) = (o.history_bytes, o.taken_bytes);
        let warm_session = (s.cursor_cache && o.last_host == Some(h))
            || (s.extended_sessions && o.last_host == Some(h) && now.saturating_since(o.last_end) < SimDuration::from_secs(30));
        let mem = s.episode_memory_mb;
        let taken = o.taken.0 + u32::from(o.taken.1);
        let mut phases = self.episode_phases(e, history, stored, new, taken, warm_session);
        self.du.orchs[orch].replayed = !warm_session && history > 0;
        let strands = if active {
            self.charge(strand, now, Component::Queue);
            vec![strand]
        } else {
            vec![]
        };
        self.warm_up_host(h, mem, &mut phases);
        let v = self.new_inv(AppId(0), Class::Orchestrator, e, strands, phases, Cont::Episode { orch }, now);
        let part = self.du.orchs[orch].partition;
        self.start_session(now, v, part, h);
    }

    pub(crate) fn durable_episode_done(&mut self, now: SimTime, v: InvId, orch: OrchId) {
        let host = self.host_of(v);
        if self.exec_done(self.invs[v].exec) {
            return; // the orchestration went with its execution
        }
        let o = &mut self.du.orchs[orch];
        o.running = false;
        o.last_host = Some(host);
        o.last_end = now;
        let (e, root) = (o.exec, o.parent.is_none());
        let Some(x) = self.execs.get_mut(e) else {
            return;
        };
        if root {
            x.running.get_or_insert(now);
        }
        let o = &mut self.du.orchs[orch];
        let (taken, started) = o.taken;
        let mut new_events = 2 + taken + u32::from(started);
        o.outstanding -= taken;
        let mut signals = Vec::new();
        let mut schedule = None;
        let mut finished = false;
        if o.outstanding == 0 && (started || taken > 0) {
            if o.next_await > 0 {
                signals = o.awaits[o.next_await - 1].signals.clone();
            }
            // An await without tasks (signals before the first call) completes at once.
            while o.next_await < o.awaits.len() && o.awaits[o.next_await].tasks.is_empty() {
                signals.extend_from_slice(&o.awaits[o.next_await].signals);
                o.next_await += 1;
            }
            if o.next_await < o.awaits.len() {
                schedule = Some(o.next_await);
                o.next_await += 1;
            } else {
                finished = true;
                new_events += 1;
            }
        }
        // Signals: fire-and-forget operations on entities (state updates, signal_entity
        // elements, the release of a critical section's locks).
        for sig in signals {
            new_events += self.send_signal(now, orch, e, sig, host);
        }
        if let Some(k) = schedule {
            new_events += self.schedule_await(now, orch, k, host);
        }
        let o = &mut self.du.orchs[orch];
        o.history += new_events;
        let taken = std::mem::take(&mut o.taken_bytes);
        o.history_bytes.add_rows(&taken);
        let partition = o.partition;
        self.backend_committed(now, e, partition, u64::from(new_events));
        if finished {
            let o = &self.du.orchs[orch];
            match o.parent {
                None => self.complete_exec(now, e),
                Some((p, task)) => {
                    let strand = o.strand;
                    let rt = &self.du.orchs[p].tasks[task as usize];
                    if rt.worker {
                        let d = now.saturating_since(rt.scheduled).as_secs_f64();
                        self.worker_latency(e, d);
                    }
                    let size = self.orch_output(orch);
                    if self.check_payload(now, e, size) {
                        let q = self.control_queue(self.du.orchs[p].partition);
                        self.put_message(now, q, MsgKind::Orch { orch: p, task: Some(task) }, e, Some(strand), size, Some(host));
                    }
                }
            }
            return;
        }
        if self.du.orchs[orch].inbox > 0 {
            self.make_ready(now, Work::Orch(e, orch));
        }
    }

    /// A payload recorded in `orch`'s history (a scheduled call's input): a table property,
    /// or a blob above the table's property limit.
    fn history_row(&mut self, orch: OrchId, size: u64) {
        let limit = self.du_setup().table_property_max_bytes;
        self.du.orchs[orch].history_bytes.add_row(size, limit);
    }

    fn orch_output(&self, orch: OrchId) -> u64 {
        self.du.orchs[orch].tasks.last().map_or(0, |t| t.output)
    }

    fn new_op(&mut self, kind: OpKind, exec: ExecId, reply: Option<(OrchId, u32)>, strand: Option<StrandId>) -> OpId {
        OpId(self.du.ops.insert(Op { kind, exec, reply, strand }))
    }

    #[allow(clippy::too_many_arguments)]
    fn send_entity_op(
        &mut self,
        now: SimTime,
        entity: EntityId,
        op: OpId,
        e: ExecId,
        strand: Option<StrandId>,
        size: u64,
        from: Option<InstId>,
    ) {
        self.du.entities[entity].inflight += 1;
        let q = self.control_queue(self.du.entities[entity].partition);
        self.put_message(now, q, MsgKind::EntityOp { entity, op }, e, strand, size, from);
    }

    /// Schedules await `k` of `orch`; returns the history events it adds.
    fn schedule_await(&mut self, now: SimTime, orch: OrchId, k: usize, host: InstId) -> u32 {
        let aw = self.du.orchs[orch].awaits[k].clone();
        let (e, strand) = (self.du.orchs[orch].exec, self.du.orchs[orch].strand);
        let n = aw.tasks.len() as u32;
        let strands = if n > 1 {
            let (join, children) = self.fork(strand, n, now);
            self.du.orchs[orch].join = Some(join);
            children
        } else {
            self.du.orchs[orch].join = None;
            vec![strand]
        };
        let o = &mut self.du.orchs[orch];
        o.strand_active = false;
        o.outstanding = n;
        o.tasks =
            strands.iter().map(|&s| TaskRt { strand: s, scheduled: now, worker: aw.workers, output: 0, dispatch_delay_s: None }).collect();
        for (t, spec) in aw.tasks.iter().enumerate() {
            let child = strands[t];
            let t = t as u32;
            match spec {
                TaskSpec::Activity { step, share, .. } => {
                    let size = scaled(self.wf.steps[step.0 as usize].input_bytes, *share);
                    if !self.check_payload(now, e, size) {
                        return n;
                    }
                    self.history_row(orch, size);
                    let q = self.du.work_item_queue;
                    self.put_message(now, q, MsgKind::Activity { orch, task: t }, e, Some(child), size, Some(host));
                }
                TaskSpec::Entity { target, op } => {
                    let entity = match *target {
                        EntTarget::State(r) => self.entity_for(e, r),
                        EntTarget::NewStep => self.new_step_entity(e),
                    };
                    let size = match op {
                        OpKind::Run { step, share, .. } => scaled(self.wf.steps[step.0 as usize].input_bytes, *share),
                        OpKind::Call { op, share, .. } => {
                            self.wf.entity_ops[op.0 as usize].step.map_or(256, |s| scaled(self.wf.steps[s.0 as usize].input_bytes, *share))
                        }
                        _ => 256,
                    };
                    if !self.check_payload(now, e, size) {
                        return n;
                    }
                    self.history_row(orch, size);
                    let id = self.new_op(*op, e, Some((orch, t)), Some(child));
                    self.send_entity_op(now, entity, id, e, Some(child), size, Some(host));
                }
                TaskSpec::Lock(refs) => {
                    let size = 256;
                    self.history_row(orch, size);
                    self.request_locks(now, orch, t, refs, child, host);
                }
                TaskSpec::Sub { nodes, share, item } => {
                    let sub = self.new_orch(e, nodes, *share, *item, child, Some((orch, t)));
                    let size = nodes
                        .first()
                        .and_then(|n| if let Node::Step(s) = n { Some(self.wf.steps[s.0 as usize].input_bytes) } else { None })
                        .unwrap_or(256);
                    let q = self.control_queue(self.du.orchs[sub].partition);
                    self.put_message(now, q, MsgKind::Orch { orch: sub, task: None }, e, Some(child), scaled(size, *share), Some(host));
                }
            }
        }
        n
    }

    pub(crate) fn durable_activity_done(&mut self, now: SimTime, v: InvId, orch: OrchId, task: u32) {
        let host = self.host_of(v);
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return; // the orchestration went with its execution
        }
        let (step, share) = match self.current_task_spec(orch, task) {
            TaskSpec::Activity { step, share, .. } => (step, share),
            _ => unreachable!("activity completions belong to activity tasks"),
        };
        let rt = self.du.orchs[orch].tasks[task as usize].clone();
        if rt.worker {
            if let Some(d) = rt.dispatch_delay_s {
                self.worker_delay(e, d);
            }
            self.worker_latency(e, now.saturating_since(rt.scheduled).as_secs_f64());
        }
        let size = scaled(self.wf.steps[step.0 as usize].output_bytes, share);
        if !self.check_payload(now, e, size) {
            return;
        }
        let q = self.control_queue(self.du.orchs[orch].partition);
        self.put_message(now, q, MsgKind::Orch { orch, task: Some(task) }, e, Some(rt.strand), size, Some(host));
    }

    /// An orchestrator episode failed: the orchestration (and its execution) fails.
    pub(crate) fn durable_episode_failed(&mut self, now: SimTime, e: ExecId, orch: OrchId, error: PlatformError) {
        if self.exec_done(e) {
            return;
        }
        self.du.orchs[orch].running = false;
        self.fail_exec(now, e, error);
    }
}

/// Adds a one-way signal after the last await so far, or, before the first, as an await without
/// tasks (it completes at once and sends its signals).
fn after_last_await(out: &mut Vec<Await>, sig: Signal) {
    match out.last_mut() {
        Some(a) => a.signals.push(sig),
        None => out.push(Await { tasks: vec![], signals: vec![sig], workers: false }),
    }
}

impl EntitySt {
    fn new(partition: u32, state_bytes: u64, kind: EntityKind) -> EntitySt {
        EntitySt {
            partition,
            queue: VecDeque::new(),
            running: false,
            ready: false,
            state_bytes,
            batch: Vec::new(),
            kind,
            lock: None,
            held: VecDeque::new(),
            inflight: 0,
            dequeued_at: SimTime::ZERO,
            invisible: false,
        }
    }
}
