//! `az-queue`: isolated Azure functions chained through Azure Storage queues.
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
//! **Parameters.** `models/az-queue.toml` (polling, batch), `models/az-storage.toml` (queue
//! latency, message limit, prices), `models/az-func.toml` (hosts).
//!
//! **Scope and limitations.** The queue trigger's batch (16) and new-batch threshold are reduced
//! to the host's free slots; poison-queue handling and retries are not modelled.
//!
//! **Validation.** `tests/stateful_mechanisms.rs` (the chain's queue wait is bounded by the
//! polling cap; cold chains wait for the scale controller).

use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::{DeploymentConfig, Node, Workflow};

use super::azure::{AzureSetup, Msg, MsgKind, QueueKind};
use super::{AppDef, Class, Cont, DeploymentPlan, Driver, ExecId, InstId, InvId, Phase, QueueId, StrandId, World};
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::params::Models;
use crate::queue_polling::Backoff;

/// The az-queue driver's settings.
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
}

/// Builds the az-queue plan.
pub fn plan(models: &Models, cfg: &DeploymentConfig, workflow: &Workflow) -> Result<DeploymentPlan, ConfigError> {
    for (i, n) in workflow.flow.iter().enumerate() {
        if contains_fan_out(n) {
            return Err(ConfigError {
                key: format!("workflow.flow.{i}"),
                message: "az-queue cannot run a fan-out: plain storage queues have no fan-in (the study built no Az-Queue video pipeline); use az-dorch".into(),
            });
        }
    }
    let platform = FunctionPlatform::build_for(Deployment::AzFunc, "az-queue", models, cfg)?;
    let slots = platform.slots_per_instance;
    let app = AppDef {
        name: "az-queue app".into(),
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
        azure: AzureSetup::from_models(models, msg_limit_kb, 0),
        trigger: Backoff {
            min: SimDuration::from_secs_f64(models.queue_trigger.polling.min_interval_s.value),
            max: SimDuration::from_secs_f64(models.queue_trigger.polling.max_interval_s.value),
            randomization: models.queue_trigger.polling.randomization.value,
        },
        batch: models.queue_trigger.polling.batch_size.value as u32,
        local_enqueue_wakeup: models.queue_trigger.polling.local_enqueue_wakeup.value >= 0.5,
    };
    Ok(DeploymentPlan { deployment: Deployment::AzQueue, apps: vec![app], driver: Driver::Chain(setup) })
}

pub(crate) fn contains_fan_out(n: &Node) -> bool {
    match n {
        Node::Step(_) => false,
        Node::FanOut(_) => true,
        Node::Parallel(bs) => bs.iter().flatten().any(contains_fan_out),
    }
}

impl World<'_> {
    pub(crate) fn chain_init(&mut self, c: &ChainSetup) {
        for node in 1..self.wf.flow.len() {
            self.add_queue(QueueKind::Chain(node as u32), c.trigger, c.batch, Class::Function);
        }
    }

    /// Output payload of a flow node (the last step's output; for parallel nodes the sum).
    fn node_output(&self, node: &Node) -> u64 {
        match node {
            Node::Step(s) => self.wf.steps[s.0 as usize].output_bytes,
            Node::Parallel(bs) => bs.iter().filter_map(|b| b.last()).map(|n| self.node_output(n)).sum(),
            Node::FanOut(_) => 0,
        }
    }

    fn chain_inv(&mut self, now: SimTime, e: ExecId, node: u32, strand: Option<StrandId>, large_input: bool) -> InvId {
        let mut phases = Vec::new();
        if large_input {
            // The message referenced a blob: read it first.
            let size = self.node_output(&self.wf.flow[node as usize - 1]);
            let d = self.plan.apps[0].platform.storage.transfer_time(crate::storage::StorageOp::Get, size, &mut self.rng);
            phases.push(Phase::wait(d, 64.0, crate::record::Component::Transfer));
        }
        let n = self.wf.flow[node as usize].clone();
        self.nodes_phases(e, std::slice::from_ref(&n), 0, 1.0, true, 0, &mut phases);
        self.new_inv(0, Class::Function, e, strand.into_iter().collect(), phases, Cont::Chain { node }, now)
    }

    pub(crate) fn chain_start(&mut self, now: SimTime, e: ExecId) {
        let strand = self.main_strand(e);
        let v = self.chain_inv(now, e, 0, Some(strand), false);
        self.invoke(now, v);
    }

    pub(crate) fn chain_done(&mut self, now: SimTime, v: InvId, node: u32) {
        let e = self.invs[v].exec;
        let strand = self.main_strand(e);
        let host = self.host_of(v);
        if node as usize + 1 == self.wf.flow.len() {
            self.complete_exec(now, e);
            return;
        }
        let size = self.node_output(&self.wf.flow[node as usize]);
        // Queue `node` (0-based among chain queues) triggers flow node `node + 1`. With the
        // local wake-up (an output binding: WebJobs SharedQueueWatcher) this host's listener polls
        // at once; without it (an SDK enqueue, the default) the next function waits for a poll.
        let wake = match &self.plan.driver {
            Driver::Chain(c) if c.local_enqueue_wakeup => Some(host),
            _ => None,
        };
        self.put_message(now, QueueId(node), MsgKind::Chain { node: node + 1 }, e, Some(strand), size, wake);
    }

    pub(crate) fn chain_message(&mut self, now: SimTime, h: InstId, msg: Msg, node: u32) {
        let v = self.chain_inv(now, msg.exec, node, msg.strand, msg.large);
        self.start_on(now, v, h, false);
    }
}
