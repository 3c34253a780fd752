//! Amazon SQS standard queues and the Lambda event source mappings that poll them: the hops of
//! `aws-sqs` (a chain of Lambda functions, [`super::chain`]).
//!
//! **Models.**
//! * *Send*: a function ends by sending its output to the next function's queue: SendMessage is
//!   the last phase of the function (billed Lambda time, charged as transfer), the message is
//!   visible when the function ends. A payload above the message limit (256 KiB; 1 MiB since
//!   2025-08) goes through S3 as the SQS Extended Client Library does: the sender puts the
//!   object first (an S3 PUT at storage speed, counted and billed), the message carries the
//!   reference, and the receiving function gets the object first (an S3 GET). Each 64 KiB chunk
//!   of a request's payload is one billed request.
//! * *Receive*: each queue's event source mapping (ESM) keeps pollers long-polling it
//!   (WaitTimeSeconds 20): a message is received as soon as it is visible and a poller is free,
//!   after the receive latency (which includes the ESM's synchronous invoke) and the batching
//!   window; a receive takes up to `batch_size` visible messages and their batch is one
//!   synchronous invocation of the next function (a free execution environment, else a cold
//!   start, else a throttle). There is no backoff (unlike Azure's queue trigger). The poller stays
//!   with its batch until the invocation ends, then deletes the batch (one DeleteMessageBatch)
//!   and polls again. The messages of a batch are processed one after another in that
//!   invocation, whose time every message's execution waits; the invocation is billed to the
//!   batch's first execution, as the receive and the delete are.
//! * *Throttles*: a throttled batch returns to the queue when its visibility timeout expires
//!   (30 s by default) and is received again then; a batch that fails otherwise (timeout, out of
//!   memory) fails its executions (redrive and dead-letter queues are not modelled).
//! * *Poller scaling*: the ESM starts with `pollers_min` (5) concurrent batches; while messages
//!   wait for a poller it adds one more every `60 s / pollers_increase_per_min` (60 a minute;
//!   300 a minute since 2023-11), up to `pollers_max` (1,000; 1,250 today), and drops back by the
//!   same step while none waits. Invocations from one queue never exceed its pollers. The ramp
//!   is one timer per queue, pending only while the limit is above the minimum or messages
//!   wait: no event scans the executions.
//! * *Idle cost*: the minimum pollers long-poll every queue whether or not messages come; each
//!   empty ReceiveMessage returns after 20 s and is a billed request (5 pollers x 3 a minute per
//!   queue), counted as idle transactions over the time a poller of the minimum was not busy.
//!
//! **Parameters.** `[sqs]` of `models/aws-lambda.toml` (latencies, limits, prices, the ESM's
//! batch, window, visibility timeout and scaling; 2026 values in `models/profiles/2026.toml`);
//! the functions are Lambda functions (`models/aws-lambda.toml`), S3 its `[storage]`.
//!
//! **Scope and limitations.** Standard queues only (no FIFO ordering or message groups); no
//! duplicate delivery; the batching window is waited in full even when the batch fills; a
//! batch's 6 MB invoke payload limit and the ESM's own backoff after throttles (it lowers its
//! pollers) are not modelled; the messages of a batch are sent on when the whole batch's
//! invocation ends; the ESM's optimisation to 2 pollers at very low traffic and the
//! maximum-concurrency setting are not modelled; an execution counts as cold when its batch's
//! first execution's invocation was.
//!
//! **Validation.** `crates/platform/tests/stateful_mechanisms.rs`: a warm hop waits only the
//! receive latency (no polling backoff, against az-queue on the same chain); a burst of 100
//! executions is served by 5 concurrent batches at first, one more per second; empty receives
//! are billed over the run; a payload over 256 KiB goes through S3; `tests/golden/aws-sqs.txt`.

use std::collections::VecDeque;

use sfsim_engine::{SimDuration, SimTime};

use super::chain::Hop;
use super::{AppId, Class, Cont, Driver, ExecId, InvId, Phase, StrandId, Timer, World};
use crate::billing::Cost;
use crate::params::Models;
use crate::payload::{PayloadError, PayloadLimit};
use crate::record::Component;
use crate::storage::StorageOp;

/// SQS and event source mapping settings of an `aws-sqs` plan.
#[derive(Clone, Debug)]
pub struct SqsSetup {
    /// SendMessage latency (median s, sigma).
    pub send_latency: (f64, f64),
    /// Receive and invoke latency (median s, sigma).
    pub receive_latency: (f64, f64),
    /// Messages above the limit go through S3 (the Extended Client Library).
    pub messages: PayloadLimit,
    /// Payload per billed request, bytes.
    pub chunk_bytes: u64,
    /// $ per request.
    pub usd_per_request: f64,
    /// An empty long poll returns after this.
    pub long_poll_wait: SimDuration,
    /// Messages per batch.
    pub batch_size: u32,
    /// Batching window.
    pub batching_window: SimDuration,
    /// A throttled batch is visible again after this.
    pub visibility_timeout: SimDuration,
    /// Concurrent batches the ESM starts with.
    pub pollers_min: u32,
    /// Time to add (or drop) one concurrent batch; none: no ramp.
    pub ramp_step: Option<SimDuration>,
    /// Most concurrent batches.
    pub pollers_max: u32,
}

/// The size of the reference the Extended Client Library sends instead of a large payload,
/// bytes (assumed: a JSON pointer naming the bucket and key, well under one 64 KiB chunk).
const S3_POINTER_BYTES: u64 = 512;

impl SqsSetup {
    /// Builds the setup from `[sqs]` of the Lambda model.
    pub fn from_models(m: &Models) -> SqsSetup {
        let q = &m.lambda.sqs;
        let per_min = q.pollers_increase_per_min.value;
        SqsSetup {
            send_latency: (q.send_latency_s_median.value, q.latency_sigma.value),
            receive_latency: (q.receive_latency_s_median.value, q.latency_sigma.value),
            messages: PayloadLimit {
                offload_above_bytes: Some((q.message_max_kb.value * 1024.0) as u64),
                fail_above_bytes: None,
                error: PayloadError::Request("SQS"),
            },
            chunk_bytes: ((q.request_chunk_kb.value * 1024.0) as u64).max(1),
            usd_per_request: q.price_usd_per_request.value,
            long_poll_wait: SimDuration::from_secs_f64(q.long_poll_wait_s.value),
            batch_size: q.batch_size.value as u32,
            batching_window: SimDuration::from_secs_f64(q.batching_window_s.value),
            visibility_timeout: SimDuration::from_secs_f64(q.visibility_timeout_s.value),
            pollers_min: q.pollers_min.value as u32,
            ramp_step: (per_min > 0.0).then(|| SimDuration::from_secs_f64(60.0 / per_min)),
            pollers_max: q.pollers_max.value as u32,
        }
    }

    /// Billed requests for a payload of `bytes` (at least one).
    fn requests(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.chunk_bytes).max(1)
    }
}

/// A message: the execution and strand waiting on it, and whether its payload is in S3.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SqsMsg {
    pub exec: ExecId,
    pub strand: StrandId,
    pub via_s3: bool,
}

/// One queue with its event source mapping.
#[derive(Clone, Debug, Default)]
struct EsmQueue {
    /// Visible messages, oldest first.
    visible: VecDeque<SqsMsg>,
    /// Concurrent batches allowed now.
    limit: u32,
    /// Pollers receiving or waiting for their batch's invocation.
    busy: u32,
    /// Messages the pending receives may take.
    claimed: u32,
    /// The ramp timer is pending.
    ramping: bool,
    /// Time the minimum pollers spent long-polling empty, poller-nanoseconds.
    idle_ns: u128,
    /// Up to when `idle_ns` is counted.
    since: SimTime,
}

/// SQS state of a world.
#[derive(Default)]
pub struct SqsState {
    queues: Vec<EsmQueue>,
    /// Messages sent and not yet received (visible or returning after a throttle).
    live: usize,
}

impl SqsState {
    /// Messages sent and not yet received.
    pub fn live_messages(&self) -> usize {
        self.live
    }
}

impl<'a> World<'a> {
    /// The SQS settings (SQS code runs only for an aws-sqs plan).
    pub(crate) fn sqs(&self) -> &'a SqsSetup {
        let plan: &'a super::DeploymentPlan = self.plan;
        match &plan.driver {
            Driver::Chain(Hop::Sqs(s)) => s,
            _ => unreachable!("SQS code runs only for aws-sqs"),
        }
    }

    /// One queue (and mapping) per hop of the chain.
    pub(crate) fn sqs_init(&mut self) {
        let min = self.sqs().pollers_min;
        let hops = self.wf.flow.len().saturating_sub(1);
        self.sqs.queues = vec![EsmQueue { limit: min, ..EsmQueue::default() }; hops];
    }

    /// Counts `requests` SQS requests against execution `exec`, or the idle account (`None`).
    fn sqs_count(&mut self, exec: Option<ExecId>, requests: u64) {
        let usd = requests as f64 * self.sqs().usd_per_request;
        let (counts, cost) = match exec {
            None => (&mut self.idle, &mut self.idle_cost),
            Some(e) => {
                let x = self.acc(e);
                (&mut x.counts, &mut x.cost)
            }
        };
        counts.queue_transactions += requests;
        cost.add(&Cost { transactions: usd, ..Cost::default() });
    }

    /// The sending function's last phases: the payload to S3 when it is over the message limit,
    /// then SendMessage.
    pub(crate) fn sqs_send_phases(&mut self, app: AppId, size: u64, memory_mb: f64, out: &mut Vec<Phase>) {
        if self.sqs().messages.offloads(size) {
            let p = &self.plan.apps[app].platform;
            let t = p.storage.function_transfer(StorageOp::Put, size, &mut self.rng);
            Phase::push_function_transfer(out, t, memory_mb, StorageOp::Put);
        }
        let (m, s) = self.sqs().send_latency;
        let d = self.lognormal(m, s);
        out.push(Phase::wait(d, memory_mb, Component::Transfer));
    }

    /// The receiving function's first phases for a message whose payload is in S3: the GET.
    pub(crate) fn sqs_fetch_phases(&mut self, app: AppId, size: u64, memory_mb: f64, out: &mut Vec<Phase>) {
        let p = &self.plan.apps[app].platform;
        let t = p.storage.function_transfer(StorageOp::Get, size, &mut self.rng);
        Phase::push_function_transfer(out, t, memory_mb, StorageOp::Get);
    }

    /// Execution `exec`'s function has sent its output of `size` bytes to queue `queue`.
    pub(crate) fn sqs_sent(&mut self, now: SimTime, queue: u32, exec: ExecId, strand: StrandId, size: u64) {
        let via_s3 = self.sqs().messages.offloads(size);
        let body = if via_s3 { S3_POINTER_BYTES } else { size };
        let n = self.sqs().requests(body);
        self.sqs_count(Some(exec), n);
        self.sqs.live += 1;
        self.sqs_visible(now, queue, SqsMsg { exec, strand, via_s3 });
    }

    /// A message is visible on `queue` (sent, or back after a throttled batch's visibility
    /// timeout).
    pub(crate) fn sqs_visible(&mut self, now: SimTime, queue: u32, msg: SqsMsg) {
        self.sqs.queues[queue as usize].visible.push_back(msg);
        self.sqs_poll(now, queue);
    }

    /// Counts the idle long polls of `queue`'s minimum pollers up to `now`.
    fn esm_advance(&mut self, queue: u32, now: SimTime) {
        let min = self.sqs().pollers_min;
        let q = &mut self.sqs.queues[queue as usize];
        let idle = u128::from(min.saturating_sub(q.busy));
        q.idle_ns += idle * u128::from(now.saturating_since(q.since).as_nanos());
        q.since = now;
    }

    /// Free pollers of `queue` take the messages no pending receive covers; while messages still
    /// wait, the ramp runs.
    fn sqs_poll(&mut self, now: SimTime, queue: u32) {
        let s = self.sqs();
        loop {
            let q = &self.sqs.queues[queue as usize];
            if q.busy >= q.limit || q.visible.len() as u64 <= u64::from(q.claimed) {
                break;
            }
            self.esm_advance(queue, now);
            let q = &mut self.sqs.queues[queue as usize];
            q.busy += 1;
            q.claimed += s.batch_size;
            let (m, sigma) = s.receive_latency;
            let at = now + self.lognormal(m, sigma) + s.batching_window;
            self.q.schedule(at, super::Ev::Timer(Timer::SqsReceive { queue }));
        }
        self.sqs_ramp_arm(now, queue);
    }

    /// Arms the ramp timer of `queue` when messages wait or the limit is above the minimum.
    fn sqs_ramp_arm(&mut self, now: SimTime, queue: u32) {
        let s = self.sqs();
        let Some(step) = s.ramp_step else { return };
        let q = &mut self.sqs.queues[queue as usize];
        let waiting = q.visible.len() as u64 > u64::from(q.claimed);
        if !q.ramping && ((waiting && q.limit < s.pollers_max) || q.limit > s.pollers_min) {
            q.ramping = true;
            self.q.schedule(now + step, super::Ev::Timer(Timer::SqsRamp { queue }));
        }
    }

    /// The ramp's step: one more concurrent batch while messages wait, one fewer while none
    /// does.
    pub(crate) fn sqs_ramp(&mut self, now: SimTime, queue: u32) {
        let s = self.sqs();
        let q = &mut self.sqs.queues[queue as usize];
        q.ramping = false;
        let waiting = q.visible.len() as u64 > u64::from(q.claimed);
        if waiting {
            q.limit = (q.limit + 1).min(s.pollers_max);
        } else if q.limit > s.pollers_min {
            q.limit -= 1;
        }
        self.sqs_poll(now, queue);
    }

    /// A poller's receive returns: up to a batch of visible messages, invoked as one
    /// synchronous invocation of the next function.
    pub(crate) fn sqs_receive(&mut self, now: SimTime, queue: u32) {
        let s = self.sqs();
        let q = &mut self.sqs.queues[queue as usize];
        q.claimed = q.claimed.saturating_sub(s.batch_size);
        let take = (s.batch_size as usize).min(q.visible.len());
        let batch: Vec<SqsMsg> = q.visible.drain(..take).filter(|m| self.execs.get(m.exec).is_some()).collect();
        self.sqs.live -= take;
        let Some(first) = batch.first().map(|m| m.exec) else {
            // Another poller took them: this one long-polls on.
            self.sqs_release(now, queue);
            return;
        };
        // One ReceiveMessage for the batch (its payload in 64 KiB chunks).
        let size = self.node_output(&self.wf.flow[queue as usize]);
        let bytes: u64 = batch.iter().map(|m| if m.via_s3 { S3_POINTER_BYTES } else { size }).sum();
        let n = s.requests(bytes);
        self.sqs_count(Some(first), n);
        let node = queue + 1;
        let mut phases = Vec::new();
        let mut strands = Vec::with_capacity(batch.len());
        for m in &batch {
            self.charge(m.strand, now, Component::Queue);
            if self.spec.trace {
                let track = super::EXEC_TRACK_BASE + m.exec.0;
                let name = format!("received from queue {queue} ({} in batch)", batch.len());
                self.trace.push(crate::trace::TraceEvent::Instant { track, name, at: now });
            }
            self.chain_phases(m.exec, node, m.via_s3, &mut phases);
            strands.push(m.strand);
        }
        let v = self.new_inv(AppId(node as u16), Class::Function, first, strands, phases, Cont::Chain { node }, now);
        self.invoke(now, v);
    }

    /// The poller of `queue` is free again.
    pub(crate) fn sqs_release(&mut self, now: SimTime, queue: u32) {
        self.esm_advance(queue, now);
        let q = &mut self.sqs.queues[queue as usize];
        q.busy = q.busy.saturating_sub(1);
        self.sqs_poll(now, queue);
    }

    /// Batch invocation `v` of function `node` ended: its poller deletes the batch (one
    /// DeleteMessageBatch, counted before the batch's executions go on or end).
    pub(crate) fn sqs_batch_deleted(&mut self, v: InvId, node: u32) {
        if node > 0 {
            let first = self.invs[v].exec;
            self.sqs_count(Some(first), 1);
        }
    }

    /// Batch invocation `v` of function `node` was throttled: its messages are visible again
    /// when their visibility timeout expires.
    pub(crate) fn sqs_batch_throttled(&mut self, now: SimTime, v: InvId, node: u32) {
        let queue = node - 1;
        let size = self.node_output(&self.wf.flow[queue as usize]);
        let at = now + self.sqs().visibility_timeout;
        for &strand in &self.invs[v].strands {
            let msg = SqsMsg { exec: strand.exec, strand, via_s3: self.sqs().messages.offloads(size) };
            self.q.schedule(at, super::Ev::Timer(Timer::SqsReturn { queue, msg }));
        }
        self.sqs.live += self.invs[v].strands.len();
        self.sqs_release(now, queue);
    }

    /// Returned messages of a throttled batch are visible again.
    pub(crate) fn sqs_returned(&mut self, now: SimTime, queue: u32, msg: SqsMsg) {
        // A live message either way (on its way back, then visible): it leaves the count only
        // when its execution has ended. (Until session 24 it left it here too, and its next
        // receive counted it out again: an underflow that debug builds caught.)
        if self.exec_done(msg.exec) {
            self.sqs.live -= 1;
            return;
        }
        self.sqs_visible(now, queue, msg);
    }

    /// The run's empty long polls: the minimum pollers of every queue, over the time they were
    /// not busy, one ReceiveMessage per long-poll wait.
    pub(crate) fn sqs_account_idle(&mut self, end: SimTime) {
        let wait = u128::from(self.sqs().long_poll_wait.as_nanos().max(1));
        let mut polls = 0u64;
        for queue in 0..self.sqs.queues.len() as u32 {
            self.esm_advance(queue, end);
            polls += (self.sqs.queues[queue as usize].idle_ns / wait) as u64;
        }
        self.sqs_count(None, polls);
    }
}
