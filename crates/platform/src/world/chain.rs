//! `az-queue`, `az-blob` and `aws-sqs`: isolated functions chained through Azure Storage
//! queues, through blobs with blob triggers, or (Lambda) through SQS queues.
//!
//! The driver is one: each top-level flow element is one function, the first invoked by the
//! request, each next one by the hop ([`Hop`]) its predecessor's output takes. A fan-out is
//! refused (a plain queue has no fan-in).
//!
//! **Models.** Each top-level element of the workflow's flow is one function of one function
//! app. The first is HTTP-triggered (front-end routing, one new host per second); each later one
//! is triggered by its own storage queue, to which the previous function puts its output when it
//! ends. Every host polls every chain queue with the queue trigger's backoff (100 ms up to
//! `maxPollingInterval`, 60 s by default), so a message put while the hosts are idle waits up to
//! a minute (unless `local_enqueue_wakeup`: an output binding's SharedQueueWatcher wakes the same
//! host's listener at once); new hosts come from the scale controller at the non-HTTP pace
//! (30 s) when the queue trigger's scale monitor sees a message age growing over five samples,
//! each adding a poller, and leave when the queues stay empty (see [`super::azure`]). A payload
//! above the 64 KB queue-message limit goes through Blob storage. Parallel branches inside one
//! element run one after another in that function (a plain queue has no fan-in); a fan-out is
//! refused, as the study built no Az-Queue video pipeline.
//!
//! `az-blob` chains the same functions through Blob storage: each function writes its output as
//! a blob (an output binding, inside the function: billed, charged as transfer); the blob
//! trigger finds it at the next scan of its container (every host lists each watched container
//! every 10 s, so with H live hosts at spread phases a blob waits for the next of H scans in
//! 10 s; charged as queue time) and hands it to the app's internal blob-trigger queue, on which
//! the scanning host's listener wakes at once; the next function reads the blob first. Each
//! triggered blob writes a receipt blob; every scan is a List Blobs operation, billed while any
//! host lives, like the pollers' empty polls. With no live host the blob waits in the internal
//! queue for the scale controller's first host (which scans on start).
//!
//! `aws-sqs` chains Lambda functions (one function, and so one pool of execution environments,
//! per flow element, as `aws-step` has per step; the first invoked synchronously by the request)
//! through SQS standard queues, each polled by the next function's event source mapping: see
//! [`super::sqs`] for sending, receiving in batches, the pollers' ramp and the idle polls.
//!
//! **Parameters.** `[sqs]` of `models/aws-lambda.toml` (aws-sqs); `models/az-queue.toml` (polling, batch; `[blob_trigger]` scan interval), `models/az-storage.toml` (queue
//! latency, message limit, prices), `models/az-func.toml` (hosts).
//!
//! **Scope and limitations.** The queue trigger's batch (16) and new-batch threshold are reduced
//! to the host's free slots (one for the study's synchronous Python); poison-queue handling and
//! retries are not modelled. This is a simplification with a measurable effect: WebJobs'
//! `QueueListener` counts only its own in-flight messages against `newBatchThreshold` and hands
//! the invocations to the language worker, where they wait for its thread, so a real listener
//! keeps polling while the host's one Python thread is busy. Here a poll that falls while the
//! slot is taken waits for it and is made when it frees; a chain's next message is put only after
//! that, so that poll finds nothing and the next hop waits about a whole polling interval rather
//! than the rest of one (uniform over the interval). With the study's fitted cap (11.32 s,
//! models/profiles/iiswc21.toml) Az-Queue's three hops give a p99 queue time of about 34 s
//! (ml-train-large-azqueue-queue-time, 24-36 s) and the large overhead 1.19x; the documented
//! behaviour (tried in session 17 with the slots raised to 64) needs a cap of about 22-30 s for
//! that overhead and then puts the p99 queue time at 51-75 s. The study's low-variance queue
//! times are what this simplification reproduces; which real mechanism gives them is not known. az-blob: the
//! scan lists one container of fewer than 10,000 blobs in one page (larger containers take
//! several polls, and the log-scan path is not modelled); the Event Grid blob trigger (the only
//! one on Flex Consumption) is not modelled.
//!
//! **Validation.** `tests/stateful_mechanisms.rs` (the chain's queue wait is bounded by the
//! polling cap; cold chains wait for the scale controller; a blob hop waits at most one scan
//! interval on a warm host and scans are billed while idle; the SQS checks listed in
//! [`super::sqs`]); `tests/golden/az-queue.txt`, `tests/golden/az-blob.txt`,
//! `tests/golden/aws-sqs.txt`.

use crate::workload::Item;
use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::{DeploymentConfig, Node, Workflow};

use super::azure::{AzureSetup, Msg, MsgKind, QueueKind};
use super::sqs::SqsSetup;
use super::{AppDef, AppId, Class, Cont, DeploymentPlan, Driver, Ev, ExecId, InstId, InvId, Phase, QueueId, StrandId, Timer, World};
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::error::PlatformError;
use crate::params::Models;
use crate::queue_polling::Backoff;

/// How the output of one chain function reaches the next.
// Built once per plan, not per event: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Hop {
    /// az-queue and az-blob: Azure Storage queues (with `blob_scan`, blobs found by container
    /// scans), polled by the function app's hosts.
    Azure(ChainSetup),
    /// aws-sqs: SQS standard queues, each polled by the next Lambda's event source mapping.
    Sqs(SqsSetup),
}

/// The Azure chains' settings (az-queue, az-blob).
#[derive(Clone, Debug)]
pub struct ChainSetup {
    /// The storage account.
    pub azure: AzureSetup,
    /// The queue trigger's polling backoff.
    pub trigger: Backoff,
    /// Messages per poll.
    pub batch: u32,
    /// A function's enqueue wakes its own host's listener of that queue.
    pub local_enqueue_wakeup: bool,
    /// az-blob: hops go through blobs found by container scans this often on each host.
    pub blob_scan: Option<SimDuration>,
}

/// The blob reference the blob trigger's internal queue carries, bytes (assumed: a JSON message
/// naming the function, container and blob, as the WebJobs BlobTriggerMessage).
const BLOB_TRIGGER_MESSAGE_BYTES: u64 = 512;

/// Builds the az-queue, az-blob or aws-sqs plan.
pub fn plan(deployment: Deployment, models: &Models, cfg: &DeploymentConfig, workflow: &Workflow) -> Result<DeploymentPlan, ConfigError> {
    let name = deployment.name();
    for (i, n) in workflow.flow.iter().enumerate() {
        if contains_fan_out(n) {
            return Err(ConfigError {
                key: format!("workflow.flow.{i}"),
                message: format!(
                    "{name} cannot run a fan-out: plain storage queues and blobs have no fan-in (the study built no Az-Queue video pipeline); use az-dorch"
                ),
            });
        }
    }
    if deployment == Deployment::AzBlob && cfg.plan == Some(sfsim_workflow::HostingPlan::Flex) {
        // AZD functions-bindings-storage-blob-trigger (2026): Flex Consumption supports only the
        // event-based blob trigger (Event Grid source), which is not modelled here.
        return Err(ConfigError {
            key: "deployment.az-blob.plan".into(),
            message: "Flex Consumption runs only the Event Grid blob trigger, and az-blob models the polling one (container scans); use plan = \"consumption\" or \"premium\"".into(),
        });
    }
    if deployment == Deployment::AwsSqs {
        // One Lambda function per flow element.
        let mut apps = Vec::with_capacity(workflow.flow.len());
        for i in 0..workflow.flow.len() {
            let platform = FunctionPlatform::build_for(Deployment::AwsLambda, name, models, cfg)?;
            apps.push(AppDef {
                name: format!("lambda {i}"),
                slots: [platform.slots_per_instance, 0, 0],
                lambda: true,
                http_interval: SimDuration::ZERO,
                queue_interval: SimDuration::ZERO,
                max_hosts: u32::MAX,
                platform,
            });
        }
        return Ok(DeploymentPlan { deployment, apps, driver: Driver::Chain(Hop::Sqs(SqsSetup::from_models(models))), chunk_bytes: 0 });
    }
    let platform = FunctionPlatform::build_for(Deployment::AzFunc, name, models, cfg)?;
    let slots = platform.slots_per_instance;
    let app = AppDef {
        name: format!("{name} app"),
        slots: [slots, 0, 0],
        lambda: false,
        http_interval: platform.http_interval(),
        queue_interval: platform.queue_interval,
        max_hosts: platform.max_hosts(),
        platform,
    };
    // The queue trigger base64-encodes messages: 64 KB of queue message carries 48 KB of payload
    // (platform-facts.md §5); above that the functions pass a blob reference.
    let msg_limit_kb = models.storage.queue.message_max_kb.value * 0.75;
    let setup = ChainSetup {
        // A scale-in retires an idle host: the messages a queue-trigger host has fetched and
        // not run are not modelled, so taking a busy one would lose nothing.
        azure: AzureSetup { scale_in_busy_hosts: false, ..AzureSetup::from_models(models, msg_limit_kb, 0) },
        trigger: Backoff {
            min: SimDuration::from_secs_f64(models.queue_trigger.polling.min_interval_s.value),
            found: SimDuration::from_secs_f64(models.queue_trigger.polling.min_interval_s.value),
            max: SimDuration::from_secs_f64(models.queue_trigger.polling.max_interval_s.value),
            randomization: models.queue_trigger.polling.randomization.value,
        },
        batch: models.queue_trigger.polling.batch_size.value as u32,
        local_enqueue_wakeup: models.queue_trigger.polling.local_enqueue_wakeup.value >= 0.5,
        blob_scan: (deployment == Deployment::AzBlob)
            .then(|| SimDuration::from_secs_f64(models.queue_trigger.blob_trigger.scan_interval_s.value)),
    };
    Ok(DeploymentPlan { deployment, apps: vec![app], driver: Driver::Chain(Hop::Azure(setup)), chunk_bytes: 0 })
}

pub(crate) fn contains_fan_out(n: &Node) -> bool {
    match n {
        Node::Step(_) | Node::CallEntity(_) | Node::SignalEntity(_) => false,
        Node::FanOut(_) => true,
        Node::Parallel(bs) => bs.iter().flatten().any(contains_fan_out),
        Node::Lock(_, body) => body.iter().any(contains_fan_out),
    }
}

impl<'a> World<'a> {
    /// The chain's hop (its code runs only for an az-queue, az-blob or aws-sqs plan).
    fn chain_hop(&self) -> &'a Hop {
        let plan: &'a DeploymentPlan = self.plan;
        match &plan.driver {
            Driver::Chain(h) => h,
            _ => unreachable!("chain driver code runs only for az-queue, az-blob and aws-sqs"),
        }
    }

    /// The Azure chains' settings (their code runs only for an az-queue or az-blob plan).
    fn chain_setup(&self) -> &'a ChainSetup {
        match self.chain_hop() {
            Hop::Azure(c) => c,
            Hop::Sqs(_) => unreachable!("Azure chain code runs only for az-queue and az-blob"),
        }
    }

    pub(crate) fn chain_init(&mut self, c: &ChainSetup) {
        for node in 1..self.wf.flow.len() {
            self.add_queue(QueueKind::Chain(node as u32), c.trigger, c.batch, Class::Function);
        }
    }

    /// Output payload of a flow node (the last step's output; for parallel nodes the sum).
    pub(crate) fn node_output(&self, node: &Node) -> u64 {
        match node {
            Node::Step(s) => self.wf.steps[s.0 as usize].output_bytes,
            Node::Parallel(bs) => bs.iter().filter_map(|b| b.last()).map(|n| self.node_output(n)).sum(),
            Node::FanOut(_) | Node::SignalEntity(_) => 0,
            Node::CallEntity(op) => self.wf.state[self.wf.entity_ops[op.0 as usize].target.state.0 as usize].size_bytes,
            Node::Lock(_, body) => body.last().map_or(0, |n| self.node_output(n)),
        }
    }

    /// The phases of flow node `node` for execution `e`, appended to `out`: the payload read
    /// first when it came through storage (`large_input`), the node's steps, and the hand-off
    /// to the next function that happens inside the function (az-blob's output blob, aws-sqs's
    /// SendMessage).
    pub(crate) fn chain_phases(&mut self, e: ExecId, node: u32, large_input: bool, out: &mut Vec<Phase>) {
        let sqs = matches!(self.chain_hop(), Hop::Sqs(_));
        // aws-sqs: one Lambda function per node; the Azure chains: one app.
        let app = if sqs { AppId(node as u16) } else { AppId(0) };
        if large_input {
            // The message referenced a blob or an S3 object: read it first.
            let size = self.node_output(&self.wf.flow[node as usize - 1]);
            if sqs {
                self.sqs_fetch_phases(app, size, 64.0, out);
            } else {
                let d = self.plan.apps[AppId(0)].platform.storage.transfer_time(crate::storage::StorageOp::Get, size, &mut self.rng);
                out.push(Phase::wait(d, 64.0, crate::record::Component::Transfer));
            }
        }
        let n = self.wf.flow[node as usize].clone();
        self.nodes_phases(e, std::slice::from_ref(&n), Item::ZERO, 1.0, true, app, out);
        if node as usize + 1 == self.wf.flow.len() {
            return;
        }
        let size = self.node_output(&n);
        let mem = out.last().map_or(64.0, |p| f64::from(p.memory_mb));
        match self.chain_hop() {
            Hop::Sqs(_) => self.sqs_send_phases(app, size, mem, out),
            Hop::Azure(c) if c.blob_scan.is_some() => {
                // az-blob: the output binding writes the output blob before the function returns.
                let d = self.plan.apps[AppId(0)].platform.storage.transfer_time(crate::storage::StorageOp::Put, size, &mut self.rng);
                out.push(Phase::wait(d, 64.0, crate::record::Component::Transfer));
                self.count_tx(Some(e), 0, 0, 0, 1);
            }
            Hop::Azure(_) => {}
        }
    }

    fn chain_inv(&mut self, now: SimTime, e: ExecId, node: u32, strand: Option<StrandId>, large_input: bool) -> InvId {
        let mut phases = Vec::new();
        self.chain_phases(e, node, large_input, &mut phases);
        let app = if matches!(self.chain_hop(), Hop::Sqs(_)) { AppId(node as u16) } else { AppId(0) };
        self.new_inv(app, Class::Function, e, strand.into_iter().collect(), phases, Cont::Chain { node }, now)
    }

    pub(crate) fn chain_start(&mut self, now: SimTime, e: ExecId) {
        let strand = self.main_strand(e);
        let v = self.chain_inv(now, e, 0, Some(strand), false);
        self.invoke(now, v);
    }

    pub(crate) fn chain_done(&mut self, now: SimTime, v: InvId, node: u32) {
        if matches!(self.chain_hop(), Hop::Sqs(_)) {
            // Every message of the batch goes on (or its execution completes), then the
            // batch's poller deletes it and polls again.
            let last = node as usize + 1 == self.wf.flow.len();
            let size = if last { 0 } else { self.node_output(&self.wf.flow[node as usize]) };
            self.sqs_batch_deleted(v, node);
            for strand in self.invs[v].strands.clone() {
                if self.exec_done(strand.exec) {
                    continue;
                }
                if last {
                    self.complete_exec(now, strand.exec);
                } else {
                    self.sqs_sent(now, node, strand.exec, strand, size);
                }
            }
            if node > 0 {
                self.sqs_release(now, node - 1);
            }
            return;
        }
        let e = self.invs[v].exec;
        let strand = self.main_strand(e);
        let host = self.host_of(v);
        if node as usize + 1 == self.wf.flow.len() {
            self.complete_exec(now, e);
            return;
        }
        let setup = self.chain_setup();
        if let Some(scan) = setup.blob_scan {
            // The output blob is written: the next scan finds it (at once when written through
            // an output binding on this host, which notifies its own listener).
            let found = if setup.local_enqueue_wakeup { now } else { self.next_blob_scan(now, scan) };
            self.q.schedule(found, Ev::Timer(Timer::BlobFound { exec: e, node: node + 1, host }));
            return;
        }
        let size = self.node_output(&self.wf.flow[node as usize]);
        // Queue `node` (0-based among chain queues) triggers flow node `node + 1`. With the
        // local wake-up (an output binding: WebJobs SharedQueueWatcher) this host's listener polls
        // at once; without it (an SDK enqueue, the default) the next function waits for a poll.
        let wake = setup.local_enqueue_wakeup.then_some(host);
        self.put_message(now, QueueId(node), MsgKind::Chain { node: node + 1 }, e, Some(strand), size, wake);
    }

    /// When the blob trigger next lists the container after `now`: each of the app's H live
    /// hosts scans every `scan`, at phases spread over it since the first of them started; with
    /// none alive, the blob waits for the first host, which scans as it starts.
    fn next_blob_scan(&self, now: SimTime, scan: SimDuration) -> SimTime {
        let hosts = u64::from(self.apps[AppId(0)].alive);
        match self.az_hosts_since() {
            Some(since) if hosts > 0 => {
                let spacing = (scan.as_nanos() / hosts).max(1);
                let k = now.saturating_since(since).as_nanos().div_ceil(spacing);
                since + SimDuration::from_nanos(k * spacing)
            }
            _ => now,
        }
    }

    /// A scan found the blob that triggers flow node `node`: the scanning host enqueues it to
    /// the app's blob-trigger queue, on which its own listener wakes; the receipt is written.
    pub(crate) fn chain_blob_found(&mut self, now: SimTime, e: ExecId, node: u32, host: InstId) {
        if self.exec_done(e) {
            return;
        }
        let strand = self.main_strand(e);
        self.charge(strand, now, crate::record::Component::Queue);
        self.count_tx(Some(e), 0, 0, 0, 1);
        let wake = self.insts[host].alive.then_some(host);
        self.put_message(now, QueueId(node - 1), MsgKind::Chain { node }, e, Some(strand), BLOB_TRIGGER_MESSAGE_BYTES, wake);
    }

    /// Chain function `node`'s invocation `v` failed: its execution fails (aws-sqs: every
    /// execution of the batch, whose poller is free again), except that a throttled SQS batch
    /// returns to its queue.
    pub(crate) fn chain_failed(&mut self, now: SimTime, v: InvId, node: u32, error: PlatformError) {
        if !matches!(self.chain_hop(), Hop::Sqs(_)) {
            let e = self.invs[v].exec;
            self.fail_exec(now, e, error);
            return;
        }
        if node > 0 && error.is_throttle() {
            self.sqs_batch_throttled(now, v, node);
            return;
        }
        for strand in self.invs[v].strands.clone() {
            self.fail_exec(now, strand.exec, error.clone());
        }
        if node > 0 {
            self.sqs_release(now, node - 1);
        }
    }

    pub(crate) fn chain_message(&mut self, now: SimTime, h: InstId, msg: Msg, node: u32) {
        // A blob hop's message names the blob: the function reads it first.
        let blob_hop = self.chain_setup().blob_scan.is_some();
        if blob_hop {
            self.count_tx(Some(msg.exec), 0, 0, 1, 0);
        }
        let read_blob = msg.large || blob_hop;
        let v = self.chain_inv(now, msg.exec, node, msg.strand, read_blob);
        self.start_on(now, v, h, false);
    }
}
