//! Azure Storage queues, host pollers and the scale controller, shared by `az-queue`,
//! `az-dorch` and `az-dent`.
//!
//! **Models.**
//! * *Messages*: a put takes the queue's put latency; a message larger than the large-message
//!   threshold (Durable: 45 KB, DTAS `MessageManager`; plain queues: the 64 KB limit) is first
//!   written to Blob storage and the queue carries a reference (extra latency and a blob write;
//!   the consumer reads the blob). A message becomes visible when the put completes.
//! * *Pollers*: every live host polls every queue it listens to with the randomized exponential
//!   backoff of [`crate::queue_polling`]; a poll is one queue transaction whether or not it finds
//!   messages. A host polls only while it has a free slot of the queue's class; a slot freeing
//!   wakes its blocked pollers. A message put by the host that owns the target queue wakes that
//!   poller at once (DTFx local dispatch).
//! * *Control-queue ownership* (DTAS `SafePartitionManager`, `LeaseCollectionBalancer`: the
//!   Durable Functions default from 2.3.1, 2020-10, through 2.x): each of the P control queues is
//!   dequeued by the one host holding its ownership lease. A joining host steals intent leases
//!   from the busiest host, one per balancer round (10 s), until it has its share; the old owner
//!   dequeues until its next renewal (within 10 s) finds the intent lease gone. It renews the
//!   ownership lease on its own 10 s loop for as long as orchestration sessions of the partition
//!   it dispatched are active, a wait for the Python thread included (`task_hub.drain_sessions`;
//!   DTAS `SafePartitionManager`'s shouldRenewLeaseDelegate, `OrchestrationSessionManager.
//!   IsControlQueueProcessingMessages`; DFX #2373), then stops, so the lease expires 5-15 s
//!   after its last session ends (the ownership collection's 15 s lease, hard-coded in
//!   `SafePartitionManager`; the intent leases use the settings' 30 s); the new holder takes it
//!   at its next ownership round (within 5 s). So a moved partition goes 5-20 s undequeued after
//!   its old owner's sessions (5-30 s after the steal), and its orchestrations wait. A host the
//!   platform removes (scale-in, keep-alive) is stopped without releasing its leases
//!   (`task_hub.stop_releases_leases` 0, read from SeBS-Flow's 2024 stalls of 33-46 s): its
//!   intent lease runs out 20-30 s later (`task_hub.lease_duration_s`, 30 s), then a survivor
//!   takes it within its balancer and ownership rounds (10 + 5 s): 20-45 s; an old owner that
//!   leaves before its next renewal, or while it drains, lets its ownership lease run out (5-15 s,
//!   then the holder's 5 s round). With `stop_releases_leases` 1 (DTAS's graceful stop,
//!   `LeaseCollectionBalancer.ShutdownAsync`) they are taken within 10 + 5 s and 5 s; one that
//!   leaves while its lease lapses changes nothing (the lease runs out).
//!   A steal aimed at a partition still changing hands only changes its destination, and a
//!   new holder takes a draining partition only after the drain, a lapsing one no sooner than
//!   the lapse ends. Hosts that exist from the start find the leases settled. The control
//!   messages the old owner had already fetched into its buffer become sessions on it as its
//!   orchestrator slots free (`task_hub.drain_buffered`: DTAS `GetNextSessionAsync` does not
//!   check a released queue), and its drain lasts while any of them wait (approximated: DTAS
//!   checks only the active sessions at each 10 s renewal); they are held with its other
//!   buffered work if it is scaled in, and go to the next owner if a Table drain hits its cap.
//!   The Table partition manager (Durable Functions 3.x, `task_hub.table_partition_manager`, profile 2026): a joining host marks every partition
//!   it needs at once; the owner drains each at its next 10 s tick (waiting for its active
//!   sessions of it, at most `task_hub.table_drain_timeout_s`, 60 s: DTAS
//!   `DrainTablePartitionAsync`; a host that stops while it drains drains on,
//!   `TablePartitionManager.StopAsync`; not modelled: the drain of the partitions a stopping
//!   host still owns) and hands it over within the 1 s claim loop (about 1-2 s undequeued after
//!   the drain); its leases are partitions-table rows (a query per
//!   host per loop, an update per owned partition per renewal) instead of blob leases. With one
//!   lease set (the legacy manager), another backend or `ownership_lease_duration_s = 0`, partitions move
//!   at once (round-robin). (A scaled-in host's buffered control messages and dequeued
//!   activities wait out their locks: see the scale controller.)
//! * *Scale controller*: every peek interval (10 s) it samples each queue of the app (billed
//!   even while idle, see the accounting below), keeps the last five samples of each queue's
//!   length and oldest message's age, and adds a host at the non-HTTP pace (one per 30 s, up to
//!   the cap) or retires one (never the last: scaling to zero is the idle keep-alive's) as the
//!   trigger's own scale logic recommends. Which host leaves: for Durable the platform does not
//!   see the work the extension has dequeued, so it takes the oldest host whatever it holds
//!   (`task_hub.scale_in_busy_hosts`; DFX #2651: "VM can shutdown itself even when there is
//!   still work ongoing"): the host takes nothing more, its partitions go to the hosts that stay,
//!   the activities it had dequeued and not started go back to the work-item queue invisible
//!   until their lock runs out (`work_item_visibility_timeout_s`, 5 min after its last renewal,
//!   `work_item_lock_renewal_s`, 30 s: 270-300 s after the stop), the orchestrations and
//!   entities whose control messages it had buffered wait until those messages' lock runs out
//!   (`control_queue_visibility_timeout_s`, 5 min after their dequeue: DTAS renews nothing in
//!   the buffer and abandons nothing on a stop), all counted by Get Queue Metadata meanwhile,
//!   and it leaves when its running invocations end (assumed: the host's shutdown lets running
//!   code finish). A removal is carried out `task_hub.scale_in_lag_s` after the decision
//!   (fitted, 93.9 s since session 14: observed in SeBS-Flow's 680.excamera, not documented); meanwhile the host
//!   works on and the controller no longer counts it (`counted_hosts`). Queue-trigger hosts (az-queue) and `scale_in_busy_hosts
//!   = 0`: an idle host only. The rules:
//!   - queue triggers (az-queue), the WebJobs `QueueListener` scale monitor: out when a queue's
//!     length grew at every sample or its oldest message's age grew (never fell) over the five;
//!     in when every queue was empty at every sample;
//!   - Durable (az-dorch, az-dent), DTFx's `DisconnectedPerformanceMonitor.
//!     MakeScaleRecommendation`: out when the work-item queue's latest latency is over 1 s (over
//!     the 30 s polling maximum right after an idle sample, which may be a backoff poll's), or
//!     when fewer workers than busy control queues; in when the hub is idle, when there are more
//!     workers than partitions (or than busy control queues) and the work-item queue is idle, and
//!     in one vote out of ten when every queue is quiet (under 200 ms);
//!   - Durable on Azure Storage with target-based scaling (`task_hub.target_based_scaling`:
//!     Functions runtime 4.19+ with Durable Functions 2.12+, profiles 2024 and 2026, the SeBS-Flow
//!     scenarios; DFX `DurableTaskTargetScaler`): at every sample the workers asked for are
//!     [`durable_target_workers`] of the queues' lengths, where a length is Get Queue Metadata's
//!     approximate count and so includes the messages hosts have dequeued and not yet deleted
//!     (an activity's until it completes, a control message until its episode commits: counted
//!     by the host slots they hold); the controller adds up to `target_scale_out_max_instances`
//!     (4, AZD functions-target-based-scaling) at once, with no pace but the sampling, and
//!     retires one idle host once every target of `target_scale_in_window_s` (fitted: no
//!     document gives it) was below the hosts it counts.
//!
//!   A first host is added whenever messages wait and none is alive.
//! * *Idle transactions*: empty polls, peeks and the partition manager's blob traffic are
//!   counted apart from executions and shown as idle cost. While the app has no host and nothing
//!   is in flight, every peek sees the same empty queues and decides nothing: the peeks up to the
//!   run's next event are billed at once (`skip_idle_peeks`), the same transactions without an
//!   event every 10 s through a long gap (a day between arrivals is 8,640 peeks). Durable's
//!   partition manager (DTAS `SafePartitionManager`, two lease sets: intent and ownership): each lease renewed every
//!   10 s while a host is alive, the app lease every 25 s, and every live host's balancer
//!   listing each set's lease blobs (one List Blobs, at the write price) and downloading every
//!   lease blob (a read) every 10 s (`BlobLeaseManager.ListLeasesAsync`).
//!
//! * *Transaction accounting* (issue #10 audit; each operation priced by its class from the
//!   storage account kind's table, `models/az-storage.toml` `account.kind`, [`Tx`]):
//!
//!   | operation | count | class | source |
//!   |---|---|---|---|
//!   | control-queue poll (per owned partition) and work-item poll, every host | 1 per poll, found or empty, backoff 50 ms-30 s | queue class 2 | DTAS `TaskHubQueue`, `BackoffPollingHelper` |
//!   | message put / delete after processing | 1 each | queue class 1 | DTAS `MessageManager`, WebJobs `QueueProcessor` |
//!   | large message (> 45 KB) | 1 blob write at put, 1 read at get | blob write / read | DTAS `MessageManager.cs:36-38` |
//!   | scale-controller sample, every 10 s, hosts or not | Durable: Peek + Get Queue Metadata per queue; queue triggers: Get Queue Metadata, and a Peek when messages wait | queue class 2 | DTAS `DisconnectedPerformanceMonitor.GetQueueMetricsAsync`; WebJobs `QueueListener` scale monitor [U] |
//!   | partition lease renewals | partitions x lease sets per 10 s while a host lives | blob lease | DTAS `LeaseRenewInterval`, `SafePartitionManager` |
//!   | app lease renewal | 1 per 25 s | blob lease | DTAS `AppLeaseOptions` |
//!   | the Functions host's primary-host lock (every Azure app with storage accounting, whatever the Durable backend) | 1 renewal per 12 s while any host lives; 1 acquire attempt per 5 s by every other live host | blob lease | azure-functions-host `PrimaryHostCoordinator` |
//!   | lease balancer, every live host | per lease set per 10 s: 1 List Blobs + 1 Get Blob per partition | blob list / read | DTAS `BlobLeaseManager.ListLeasesAsync` |
//!   | History query (in `durable/backend.rs`) | 1 per 1,000 rows per episode (a query page), + 1 read per blob-stored payload | table / blob read | DTAS `AzureTableTrackingStore` |
//!   | episode commit | 1 per 100 history rows (entity-group batch) + 1 Instances-table update | table | DTAS `AzureTableTrackingStore.UpdateStateAsync` |
//!   | instance start (HTTP starter) | 1 Instances-table write + the ExecutionStarted put | table, queue class 1 | DTAS `CreateTaskOrchestrationAsync` |
//!   | start deduplication (`task_hub.execution_started_dedupe`) | 1 Instances read per start message taken; an abandoned one is taken again | table; queue class 2 + 1 | DTAS `OrchestrationSessionManager.DedupeExecutionStartedMessagesAsync` |
//!   | entity state (in `durable/entity.rs`) | 1 table read and 1 write per batch; a blob above 60 KB | table / blob | DTAS `AzureTableTrackingStore.cs:49` |
//!
//!   Not counted: the task hub's `taskhub.json` read by each scale-controller sample and by
//!   starting hosts, the primary-host lock of `az-func`'s stateless hosts (sfsim keeps no
//!   storage account for a single function), status queries by clients, instance purges and blob deletes (free on GPv2), storage capacity
//!   (GB-month of transient rows and blobs).
//!
//! **Scope and limitations.** Poison messages, dequeue counts and message ordering guarantees
//! are not modelled; a message is redelivered only when a scale-in stopped the host that held
//! it (its lock runs out) or when the start deduplication abandons it (2 s). Lease renewal is
//! counted, not simulated.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: the backoff sequence seen by an idle queue,
//! the reset after a message, the host count against the 30 s pace, DTFx's recommendation
//! adding hosts to a 100-activity fan-out, a burst of 30 Durable starts sharing a host and
//! sized to 4 hosts by the target rule; the queue trigger's scale votes and DFX's own table of
//! target worker counts (unit tests here); the SeBS-Flow Azure sets (hosts per burst against
//! the artifact's containers: calibration/README.md, session 9).

use std::collections::VecDeque;

use sfsim_engine::{SimDuration, SimTime};

use super::{AppId, Class, Driver, Ev, ExecId, InstId, QueueId, World};
use crate::billing::Cost;
use crate::params::Models;
use crate::queue_polling::{Backoff, Poller};
use crate::record::Component;

/// Storage-account parameters of an Azure deployment.
#[derive(Clone, Debug)]
pub struct AzureSetup {
    /// Queue put latency (median s, sigma).
    pub put_latency: (f64, f64),
    /// Queue Get Messages round trip (median s, sigma); only the start deduplication's race
    /// uses it (a poll otherwise hands its messages over at once).
    pub get_latency: (f64, f64),
    /// Table read latency (median s, sigma).
    pub table_read: (f64, f64),
    /// Table batch-write latency (median s, sigma).
    pub table_write: (f64, f64),
    /// Rows per table batch transaction.
    pub rows_per_batch: u32,
    /// $ per queue class-1 operation (Put Message, Delete Message).
    pub queue_class1_usd: f64,
    /// $ per queue class-2 operation (Get Messages, Peek Messages, Get Queue Metadata).
    pub queue_class2_usd: f64,
    /// $ per table transaction.
    pub table_tx_usd: f64,
    /// $ per blob read.
    pub blob_read_usd: f64,
    /// $ per blob write.
    pub blob_write_usd: f64,
    /// $ per List Blobs ("list and create container").
    pub blob_list_usd: f64,
    /// $ per lease operation.
    pub lease_usd: f64,
    /// Messages: larger ones go through Blob storage (Durable with the fail mode: fail).
    pub messages: crate::payload::PayloadLimit,
    /// Scale-controller peek interval.
    pub peek_interval: SimDuration,
    /// Lease renewal interval.
    pub lease_interval: SimDuration,
    /// Lease acquire interval of every host's partition manager (a List Blobs and a Get Blob
    /// per partition lease blob, for every lease set).
    pub lease_acquire_interval: SimDuration,
    /// Lease sets of the partition manager (intent and ownership: 2).
    pub lease_sets: u32,
    /// App lease renewal interval (zero: none).
    pub app_lease_interval: SimDuration,
    /// The Safe partition manager's ownership-lease duration (DTAS `SafePartitionManager`: 15 s,
    /// hard-coded); zero: partitions move at once.
    pub ownership_lease_duration: SimDuration,
    /// The Safe partition manager's ownership-lease acquire interval.
    pub ownership_acquire_interval: SimDuration,
    /// A partition's intent lease duration (DTAS `LeaseInterval`).
    pub intent_lease_duration: SimDuration,
    /// A host the platform removes releases its leases (else they lapse).
    pub stop_releases_leases: bool,
    /// The Table partition manager's claim loop (zero: blob-lease partition management).
    pub table_claim_interval: Option<SimDuration>,
    /// A partition's old owner keeps it while it runs sessions of it (`task_hub.drain_sessions`).
    pub drain_sessions: bool,
    /// The old owner's buffered control messages become sessions on it during its drain
    /// (`task_hub.drain_buffered`).
    pub drain_buffered: bool,
    /// DTAS's control-queue buffer: a host fetches batches while fewer orchestrations and
    /// entities it dequeued wait to start than this, whatever its orchestrator slots
    /// (`task_hub.control_queue_buffer_threshold`); 0: it fetches only with a free slot.
    pub control_buffer_threshold: usize,
    /// The Table partition manager's cap on that drain.
    pub table_drain_timeout: SimDuration,
    /// The Functions host's primary-host lock: renewal interval of its holder and acquire
    /// interval of every other live host (zero: not counted).
    pub host_lock_intervals: (SimDuration, SimDuration),
    /// Control queues (Durable); 0 for az-queue.
    pub partitions: u32,
    /// Messages travel through storage queues: puts, polls, deletes and the scale
    /// controller's peeks are billed queue transactions (false: another service carries them,
    /// priced by its own backend).
    pub storage_queues: bool,
    /// Partitions are leased through blob leases, renewed every `lease_interval`.
    pub leases: bool,
    /// A storage queue's throughput in task-hub messages per second (0: no limit), and the
    /// seconds of it a queue may take at once (a token bucket of `rate x burst` messages).
    pub queue_rate: (f64, f64),
    /// Durable on Azure Storage: the target-based scaler's largest step, hosts per decision
    /// (0: the incremental rule).
    pub target_scale_step: u32,
    /// Durable target-based scaling: consecutive samples whose targets must all be below the
    /// live hosts before one is retired.
    pub target_scale_in_samples: u32,
    /// A scale-in removes the oldest host whatever it holds (Durable; az-queue keeps false:
    /// only an idle one).
    pub scale_in_busy_hosts: bool,
    /// Durable: how long a dequeued work-item message stays invisible.
    pub work_item_visibility: SimDuration,
    /// Durable: how often a running activity's lock is renewed (zero: never).
    pub work_item_lock_renewal: SimDuration,
    /// Durable: how long a dequeued control-queue message stays invisible (never renewed
    /// while it waits in the host's buffer).
    pub control_visibility: SimDuration,
    /// From a scale-in decision to the host's removal (it works on meanwhile, uncounted).
    pub scale_in_lag: SimDuration,
    /// Durable on Azure Storage: a dequeued start message is checked against the Instances
    /// table, and one whose row the client has not yet written is abandoned for 2 s.
    pub start_dedupe: bool,
}

impl AzureSetup {
    /// Builds the setup from the storage model; `large_message_kb` is the blob threshold.
    pub fn from_models(m: &Models, large_message_kb: f64, partitions: u32) -> Self {
        let s = &m.storage;
        // Every price below is from the price table of the account's kind (`account.kind`).
        let p = s.prices();
        AzureSetup {
            put_latency: (s.queue.put_latency_s_median.value, s.queue.latency_sigma.value),
            get_latency: (s.queue.get_latency_s_median.value, s.queue.latency_sigma.value),
            table_read: (s.table.read_latency_s_median.value, s.table.latency_sigma.value),
            table_write: (s.table.write_latency_s_median.value, s.table.latency_sigma.value),
            rows_per_batch: s.table.rows_per_batch.value as u32,
            queue_class1_usd: p.queue_class1_usd_per_10k.value / 1e4,
            queue_class2_usd: p.queue_class2_usd_per_10k.value / 1e4,
            table_tx_usd: p.table_usd_per_10k.value / 1e4,
            blob_read_usd: p.blob_read_usd_per_10k.value / 1e4,
            blob_write_usd: p.blob_write_usd_per_10k.value / 1e4,
            blob_list_usd: p.blob_list_usd_per_10k.value / 1e4,
            lease_usd: p.blob_lease_usd_per_10k.value / 1e4,
            messages: crate::payload::PayloadLimit {
                offload_above_bytes: Some((large_message_kb * 1024.0) as u64),
                fail_above_bytes: None,
                error: crate::payload::PayloadError::Durable,
            },
            peek_interval: SimDuration::from_secs_f64(m.durable.task_hub.scale_controller_peek_interval_s.value),
            lease_interval: SimDuration::from_secs_f64(m.durable.task_hub.lease_renew_interval_s.value),
            lease_acquire_interval: SimDuration::from_secs_f64(m.durable.task_hub.lease_acquire_interval_s.value),
            lease_sets: m.durable.task_hub.lease_sets.value as u32,
            app_lease_interval: SimDuration::from_secs_f64(m.durable.task_hub.app_lease_renew_interval_s.value),
            ownership_lease_duration: SimDuration::from_secs_f64(m.durable.task_hub.ownership_lease_duration_s.value),
            ownership_acquire_interval: SimDuration::from_secs_f64(m.durable.task_hub.ownership_lease_acquire_interval_s.value),
            intent_lease_duration: SimDuration::from_secs_f64(m.durable.task_hub.lease_duration_s.value),
            stop_releases_leases: m.durable.task_hub.stop_releases_leases.value >= 0.5,
            table_claim_interval: (m.durable.task_hub.table_partition_manager.value >= 0.5)
                .then(|| SimDuration::from_secs_f64(m.durable.task_hub.table_claim_interval_s.value)),
            drain_sessions: m.durable.task_hub.drain_sessions.value >= 0.5,
            drain_buffered: m.durable.task_hub.drain_buffered.value >= 0.5,
            control_buffer_threshold: m.durable.task_hub.control_queue_buffer_threshold.value.round() as usize,
            table_drain_timeout: SimDuration::from_secs_f64(m.durable.task_hub.table_drain_timeout_s.value),
            host_lock_intervals: (
                SimDuration::from_secs_f64(m.azure.function.host_lock_renew_interval_s.value),
                SimDuration::from_secs_f64(m.azure.function.host_lock_acquire_interval_s.value),
            ),
            partitions,
            storage_queues: true,
            leases: true,
            queue_rate: (0.0, 0.0),
            target_scale_step: if m.durable.task_hub.target_based_scaling.value >= 0.5 {
                m.durable.task_hub.target_scale_out_max_instances.value as u32
            } else {
                0
            },
            target_scale_in_samples: (m.durable.task_hub.target_scale_in_window_s.value
                / m.durable.task_hub.scale_controller_peek_interval_s.value)
                .round()
                .max(1.0) as u32,
            scale_in_busy_hosts: m.durable.task_hub.scale_in_busy_hosts.value >= 0.5,
            work_item_visibility: SimDuration::from_secs_f64(m.durable.task_hub.work_item_visibility_timeout_s.value),
            work_item_lock_renewal: SimDuration::from_secs_f64(m.durable.task_hub.work_item_lock_renewal_s.value),
            control_visibility: SimDuration::from_secs_f64(m.durable.task_hub.control_queue_visibility_timeout_s.value),
            scale_in_lag: SimDuration::from_secs_f64(m.durable.task_hub.scale_in_lag_s.value),
            start_dedupe: m.durable.task_hub.execution_started_dedupe.value >= 0.5,
        }
    }
}

/// Storage-account operations by price class (the account's kind prices each class).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tx {
    /// Queue class 1: Put Message, Delete Message.
    pub queue_class1: u64,
    /// Queue class 2: Get Messages, Peek Messages, Get Queue Metadata.
    pub queue_class2: u64,
    /// Table transactions (a query page, an entity-group batch, an entity write).
    pub table: u64,
    /// Get Blob.
    pub blob_read: u64,
    /// Put Blob.
    pub blob_write: u64,
    /// List Blobs ("list and create container").
    pub blob_list: u64,
    /// Lease Blob (acquire, renew).
    pub blob_lease: u64,
}

/// What a queue is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// az-queue: the queue triggering flow node `n`.
    Chain(u32),
    /// Durable: control queue (partition) `p`.
    Control(u32),
    /// Durable: the work-item (activity) queue.
    WorkItem,
}

/// One storage queue.
#[derive(Clone, Debug)]
pub struct SQueue {
    /// Its role.
    pub kind: QueueKind,
    /// Visible messages, oldest first.
    pub msgs: VecDeque<u32>,
    /// Pollers' backoff.
    pub backoff: Backoff,
    /// Messages one poll may take.
    pub batch: u32,
    /// Slot class of the functions it triggers.
    pub class: Class,
    /// Scale-monitor samples (length, age of the oldest message), oldest first, at most
    /// [`SCALE_SAMPLES`] (queue triggers only).
    pub samples: VecDeque<(usize, SimDuration)>,
    /// Messages are pushed to the listening hosts (long polling, streaming) instead of found
    /// by polls with backoff: an idle listener is woken when a message becomes visible.
    pub push: bool,
    /// Its throughput limit's token bucket: the messages it may take now (negative: put
    /// messages still waiting for their turn), as of `tokens_at`.
    pub tokens: f64,
    /// When `tokens` was last brought up to date.
    pub tokens_at: SimTime,
    /// Messages dequeued by a host that was scaled in, invisible until their lock runs out.
    pub invisible: usize,
}

/// Samples a queue trigger's scale monitor considers (WebJobs storage extension QueueListener:
/// `NumberOfSamplesToConsider = 5`).
pub const SCALE_SAMPLES: usize = 5;

/// What a queue trigger's scale monitor votes, from its last samples (WebJobs
/// `QueueListener.GetScaleStatusCore`): out when the length grew at every sample, or the oldest
/// message's age was positive and never fell (and grew overall); in when the queue was empty at
/// every sample.
fn queue_vote(samples: &VecDeque<(usize, SimDuration)>) -> Option<bool> {
    if samples.len() < SCALE_SAMPLES {
        return None;
    }
    let pairs = || samples.iter().zip(samples.iter().skip(1));
    if samples.iter().all(|&(n, _)| n == 0) {
        return Some(false);
    }
    let (first, last) = (samples[0], samples[SCALE_SAMPLES - 1]);
    if first.0 > 0 && pairs().all(|(a, b)| a.0 < b.0) {
        return Some(true);
    }
    if first.1 > SimDuration::ZERO && first.1 < last.1 && pairs().all(|(a, b)| a.1 <= b.1) {
        return Some(true);
    }
    None
}

/// What a message carries (interpreted by the driver).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum MsgKind {
    /// az-queue: run flow node `node`.
    Chain {
        /// Flow node index.
        node: u32,
    },
    /// Durable: a message for orchestration `orch` (start or a task completion).
    Orch {
        /// Orchestration.
        orch: super::durable::OrchId,
        /// Task completed (none for ExecutionStarted).
        task: Option<u32>,
    },
    /// Durable: run task `task` of orchestration `orch` as an activity.
    Activity {
        /// Orchestration.
        orch: super::durable::OrchId,
        /// Task.
        task: u32,
    },
    /// Durable: an operation for entity `entity`; `reply` is the awaiting (orch, task).
    EntityOp {
        /// Entity.
        entity: super::durable::EntityId,
        /// The operation (index into the driver's table).
        op: super::durable::OpId,
    },
}

/// A queue message.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    /// Content.
    pub(crate) kind: MsgKind,
    /// Execution it belongs to.
    pub(crate) exec: ExecId,
    /// The strand waiting on it (none for fire-and-forget signals).
    pub(crate) strand: Option<super::StrandId>,
    /// Payload, bytes.
    pub size: u64,
    /// Went through Blob storage.
    pub large: bool,
    /// Target queue.
    pub(crate) queue: QueueId,
    /// When it became visible.
    pub visible_at: SimTime,
    /// Taken before and not deleted (a host scaled in before running it, or a start message
    /// abandoned by the start deduplication): it reappears when its lock runs out or its
    /// abandon delay ends, and its strand waited in the queue meanwhile.
    pub redelivered: bool,
}

/// One host's poller of one queue.
#[derive(Clone, Copy, Debug)]
pub struct HostPoller {
    /// Queue polled.
    pub(crate) queue: QueueId,
    /// Backoff state.
    pub poller: Poller,
    /// A poll event is pending.
    pub scheduled: bool,
    /// Waiting for a free slot.
    pub blocked: bool,
    /// Generation of the pending poll event; older events are stale (one chain per poller).
    pub poll_gen_id: u32,
}

/// Azure state of a world.
#[derive(Default)]
pub struct AzureState {
    /// The queues.
    pub queues: Vec<SQueue>,
    /// Messages (slots reused).
    pub msgs: Vec<Msg>,
    msg_free: Vec<u32>,
    /// Control-queue owner hosts: the host dequeuing each partition's control queue (none
    /// while no host is ready, or while the partition's lease changes hands).
    pub(crate) owner: Vec<Option<InstId>>,
    /// The host each partition is balanced to (its intent lease's holder): the owner, or the
    /// host taking it over.
    holder: Vec<Option<InstId>>,
    /// Generation of each partition's pending handover; older lease events are stale.
    lease_gen: Vec<u32>,
    /// Orchestration sessions (episodes, entity batches) of each partition in progress, per
    /// host, from their dispatch to their end (a wait for the worker's thread included).
    sessions: Vec<Vec<(InstId, u32)>>,
    /// Partitions whose old owner stopped dequeuing but keeps the partition while its sessions
    /// of it run (`drain_sessions`): the host, and since when.
    draining: Vec<Option<(InstId, SimTime)>>,
    /// When the holder of a partition whose old owner let go takes it (the lease's lapse): a
    /// holder that changes meanwhile takes it no sooner.
    lapse_until: Vec<Option<SimTime>>,
    any_host_since: Option<SimTime>,
    poll_gen: u32,
    any_host_time: SimDuration,
    /// Summed lifetimes of the hosts gone so far (az-blob's container scans run on each).
    host_time: SimDuration,
    peeking: bool,
    /// The target-based scaler's targets over the scale-in window (scale-in waits for them all).
    targets: VecDeque<u32>,
}

impl AzureState {
    /// Messages put but not yet consumed.
    pub fn live_messages(&self) -> usize {
        self.msgs.len() - self.msg_free.len()
    }

    /// The old owner draining partition `p`, if any.
    pub(crate) fn draining_host(&self, p: usize) -> Option<InstId> {
        self.draining.get(p).copied().flatten().map(|(h, _)| h)
    }
}

/// When a message dequeued at `dequeued` and held by a host that stops at `now` becomes visible
/// again. A lock renewed every `renew` (a running activity: DurableTask.Core renews it about
/// every 30 s) runs `lock` from its last renewal; an unrenewed one (a control message in a host's
/// buffer) runs `lock` from the dequeue and, while its host lived, was dequeued again by it at
/// each expiry (DTAS `DuplicateMessageDetected`): the first expiry after `now`.
pub(crate) fn lock_expiry(dequeued: SimTime, now: SimTime, lock: SimDuration, renew: SimDuration) -> SimTime {
    let held = now.saturating_since(dequeued).as_nanos();
    if renew > SimDuration::ZERO && renew < lock {
        let r = renew.as_nanos();
        return dequeued + SimDuration::from_nanos(held / r * r) + lock;
    }
    let l = lock.as_nanos().max(1);
    dequeued + SimDuration::from_nanos(l.saturating_mul(held / l + 1))
}

impl<'a> World<'a> {
    /// The storage account of the Azure driver running (queue code runs only for them).
    pub(crate) fn az(&self) -> &'a AzureSetup {
        let plan: &'a super::DeploymentPlan = self.plan;
        match &plan.driver {
            Driver::Chain(super::chain::Hop::Azure(c)) => &c.azure,
            Driver::Durable(d) => &d.azure,
            Driver::Chain(super::chain::Hop::Sqs(_)) | Driver::Single | Driver::Step(_) => {
                unreachable!("storage queues run only for az-queue, az-blob, az-dorch and az-dent")
            }
        }
    }

    /// Adds a queue; returns its id.
    pub(crate) fn add_queue(&mut self, kind: QueueKind, backoff: Backoff, batch: u32, class: Class) -> QueueId {
        self.az.queues.push(SQueue {
            kind,
            msgs: VecDeque::new(),
            backoff,
            batch,
            class,
            samples: VecDeque::new(),
            push: false,
            tokens: f64::INFINITY,
            tokens_at: SimTime::ZERO,
            invisible: 0,
        });
        QueueId((self.az.queues.len() - 1) as u32)
    }

    pub(crate) fn azure_init(&mut self) {
        self.az.owner = vec![None; self.az().partitions as usize];
        self.az.holder = vec![None; self.az().partitions as usize];
        self.az.lease_gen = vec![0; self.az().partitions as usize];
        self.az.sessions = vec![Vec::new(); self.az().partitions as usize];
        self.az.draining = vec![None; self.az().partitions as usize];
        self.az.lapse_until = vec![None; self.az().partitions as usize];
        // The scale controller runs for the app whether or not it has hosts.
        let peek = self.az().peek_interval;
        self.az.peeking = true;
        self.q.schedule(SimTime::ZERO + peek, Ev::Peek(AppId(0)));
    }

    /// Records transactions against execution `exec`, or against the idle account (`None`):
    /// `queue` class-1 queue operations (puts, deletes), table transactions, blob reads and
    /// writes.
    pub(crate) fn count_tx(&mut self, exec: Option<ExecId>, queue: u64, table: u64, blob_reads: u64, blob_writes: u64) {
        self.count(exec, Tx { queue_class1: queue, table, blob_read: blob_reads, blob_write: blob_writes, ..Tx::default() });
    }

    /// Records transactions `tx` against execution `exec`, or against the idle account
    /// (`None`), each priced from the storage account's kind.
    pub(crate) fn count(&mut self, exec: Option<ExecId>, tx: Tx) {
        let s = self.az();
        let usd = tx.queue_class1 as f64 * s.queue_class1_usd
            + tx.queue_class2 as f64 * s.queue_class2_usd
            + tx.table as f64 * s.table_tx_usd
            + tx.blob_read as f64 * s.blob_read_usd
            + tx.blob_write as f64 * s.blob_write_usd
            + tx.blob_list as f64 * s.blob_list_usd
            + tx.blob_lease as f64 * s.lease_usd;
        let (counts, cost) = match exec {
            None => (&mut self.idle, &mut self.idle_cost),
            Some(e) => {
                let x = self.acc(e);
                (&mut x.counts, &mut x.cost)
            }
        };
        counts.queue_transactions += tx.queue_class1 + tx.queue_class2;
        counts.table_transactions += tx.table;
        counts.blob_transactions += tx.blob_read + tx.blob_write + tx.blob_list + tx.blob_lease;
        cost.add(&Cost { transactions: usd, ..Cost::default() });
    }

    /// Puts a message on `queue`. `from_host` wakes the target's poller at once when it is the
    /// same host (local dispatch). The waiting strand is charged with the put (and blob) time as
    /// transfer when the message becomes visible, which is returned.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_message(
        &mut self,
        now: SimTime,
        queue: QueueId,
        kind: MsgKind,
        exec: ExecId,
        strand: Option<super::StrandId>,
        size: u64,
        from_host: Option<InstId>,
    ) -> SimTime {
        let large = self.az().messages.offloads(size);
        let (m, s) = self.az().put_latency;
        let mut lat = self.lognormal(m, s);
        if large {
            // Compressed to the -largemessages container first: a blob write at storage speed.
            let p = &self.plan.apps[AppId(0)].platform;
            lat += p.storage.transfer_time(crate::storage::StorageOp::Put, size, &mut self.rng);
        }
        let put = u64::from(self.az().storage_queues);
        self.count_tx(Some(exec), put, 0, 0, u64::from(large));
        let mut visible_at = now + lat;
        let (rate, burst) = self.az().queue_rate;
        if rate > 0.0 {
            // The queue passes messages at its scalability target, sustained: a token bucket
            // refilled at `rate`, holding `rate x burst`. A put that finds it empty waits its
            // turn (the service's 503 Server Busy and the client's retry, as one delay).
            let q = &mut self.az.queues[queue];
            let refill = now.saturating_since(q.tokens_at).as_secs_f64() * rate;
            q.tokens = (q.tokens + refill).min(rate * burst) - 1.0;
            q.tokens_at = now;
            if q.tokens < 0.0 {
                visible_at = visible_at.max(now + SimDuration::from_secs_f64(-q.tokens / rate));
            }
        }
        let lat = visible_at.saturating_since(now);
        let msg = Msg { kind, exec, strand, size, large, queue, visible_at, redelivered: false };
        self.schedule_visible(msg);
        if let Some(h) = from_host {
            self.wake_local(now + lat, h, queue);
        }
        now + lat
    }

    fn schedule_visible(&mut self, msg: Msg) {
        let at = msg.visible_at;
        let id = if let Some(id) = self.az.msg_free.pop() {
            self.az.msgs[id as usize] = msg;
            id
        } else {
            self.az.msgs.push(msg);
            (self.az.msgs.len() - 1) as u32
        };
        self.q.schedule(at, Ev::Visible(id));
    }

    /// A message a host had dequeued and did not delete (it was scaled in before running it, or
    /// abandoned it): it stays in its queue, invisible until `visible_at` (its lock runs out,
    /// [`lock_expiry`], or its abandon delay ends), then any host may take it. No new put is
    /// billed; the Get and Delete of its next taking are. Until then the scale controller's Get
    /// Queue Metadata still counts it.
    pub(crate) fn redeliver_message(&mut self, now: SimTime, msg: Msg, visible_at: SimTime) {
        if let Some(s) = msg.strand {
            self.charge(s, now, Component::Queue);
        }
        self.az.queues[msg.queue].invisible += 1;
        self.schedule_visible(Msg { visible_at, redelivered: true, ..msg });
    }

    fn wake_local(&mut self, at: SimTime, h: InstId, queue: QueueId) {
        let inst = &mut self.insts[h];
        if let Some(p) = inst.pollers.iter_mut().find(|p| p.queue == queue) {
            p.poller.wake();
            if !p.blocked {
                self.schedule_poll(at, h, queue);
            }
        }
    }

    /// Schedules host `h`'s next poll of `queue` at `at`, replacing any pending one.
    fn schedule_poll(&mut self, at: SimTime, h: InstId, queue: QueueId) {
        self.az.poll_gen = self.az.poll_gen.wrapping_add(1);
        let poll_gen_id = self.az.poll_gen;
        if let Some(p) = self.insts[h].pollers.iter_mut().find(|p| p.queue == queue) {
            p.poll_gen_id = poll_gen_id;
            p.scheduled = true;
            self.q.schedule(at, Ev::Poll(h, queue, poll_gen_id));
        }
    }

    pub(crate) fn on_visible(&mut self, now: SimTime, m: u32) {
        let msg = self.az.msgs[m as usize];
        if msg.redelivered {
            self.az.queues[msg.queue].invisible -= 1;
        }
        if let Some(s) = msg.strand {
            self.charge(s, now, if msg.redelivered { Component::Queue } else { Component::Transfer });
        }
        self.az.queues[msg.queue].msgs.push_back(m);
        if self.az.queues[msg.queue].push {
            self.push_wake(now, msg.queue);
        }
        if self.spec.trace {
            let depth = self.az.queues.iter().map(|q| q.msgs.len()).sum::<usize>();
            self.trace.push(crate::trace::TraceEvent::Counter { name: "queued messages", at: now, value: depth as f64 });
        }
    }

    /// A message became visible on a push queue: every idle listener (no poll pending, not
    /// waiting for a slot) takes it now.
    fn push_wake(&mut self, now: SimTime, queue: QueueId) {
        let app = &self.apps[AppId(0)];
        let idle: Vec<InstId> = app
            .instances
            .iter()
            .copied()
            .filter(|&h| self.insts[h].alive && self.insts[h].pollers.iter().any(|p| p.queue == queue && !p.scheduled && !p.blocked))
            .collect();
        for h in idle {
            self.schedule_poll(now, h, queue);
        }
    }

    /// The queues host `h` listens to.
    fn listened(&self, h: InstId) -> Vec<QueueId> {
        self.az
            .queues
            .iter()
            .enumerate()
            .filter(|(_, q)| match q.kind {
                QueueKind::Chain(_) | QueueKind::WorkItem => true,
                QueueKind::Control(p) => self.az.owner.get(p as usize) == Some(&Some(h)),
            })
            .map(|(i, _)| QueueId(i as u32))
            .collect()
    }

    /// Gives host `h` pollers for the queues it listens to and starts the new ones now.
    fn sync_pollers(&mut self, now: SimTime, h: InstId) {
        if !self.insts[h].alive || !self.insts[h].ready || self.insts[h].draining {
            return;
        }
        let want = self.listened(h);
        let inst = &mut self.insts[h];
        inst.pollers.retain(|p| want.contains(&p.queue));
        let mut start = Vec::new();
        for q in want {
            if !inst.pollers.iter().any(|p| p.queue == q) {
                inst.pollers.push(HostPoller { queue: q, poller: Poller::default(), scheduled: true, blocked: false, poll_gen_id: 0 });
                start.push(q);
            }
        }
        for q in start {
            self.schedule_poll(now, h, q);
        }
    }

    /// Whether partitions change hands through the Safe partition manager's leases (a gap in
    /// which nobody dequeues the partition) rather than at once.
    fn lease_handover(&self) -> bool {
        let a = self.az();
        a.storage_queues
            && a.leases
            && (a.table_claim_interval.is_some() || (a.lease_sets >= 2 && a.ownership_lease_duration > SimDuration::ZERO))
    }

    /// Balances the control queues over the live, ready hosts. Without lease handover (the
    /// legacy manager, other backends) they go round-robin at once (sorted by id). With the
    /// Safe partition manager (DTAS `LeaseCollectionBalancer`, `SafePartitionManager`):
    /// * a partition whose holder left goes to the least-loaded host, which takes the intent
    ///   lease at its next balancer round once it is released (a graceful stop) or has run out
    ///   (`intent_lease_duration` after its last renewal), and the ownership lease
    ///   at its next ownership round (up to `lease_acquire_interval` + `ownership_acquire_interval`
    ///   without a dequeuer); free leases (no host before) are taken at once;
    /// * a host below its share (`floor(P / hosts)`) steals intent leases from the busiest
    ///   host, one per balancer round (`lease_acquire_interval`); the old owner dequeues until
    ///   its next renewal finds the intent lease gone (within `lease_interval`), then stops
    ///   renewing the ownership lease, which expires `ownership_lease_duration - lease_interval`
    ///   to `ownership_lease_duration` later (its renewal loop's phase);
    ///   the new holder takes it at its next ownership round ([`World::lease_stop`],
    ///   [`World::lease_start`]).
    pub(crate) fn rebalance(&mut self, now: SimTime) {
        let p = self.az().partitions as usize;
        if p == 0 {
            return;
        }
        let hosts: Vec<InstId> = self.apps[AppId(0)]
            .instances
            .iter()
            .copied()
            .filter(|&i| self.insts[i].alive && self.insts[i].ready && !self.insts[i].draining)
            .collect();
        // A draining old owner that stops: on a graceful stop the Safe manager releases its
        // leases at once (LeaseCollectionBalancer.ShutdownAsync), so the holder takes the
        // partition at its next ownership round; stopped without that, its ownership lease runs
        // out first. The Table manager drains on a stop too (TablePartitionManager.StopAsync),
        // so its drain runs on to its sessions' end or its cap.
        let a = self.az();
        // The Table partition manager claims within its 1 s loop and marks every partition a
        // joining worker needs at once; the Safe manager takes ownership leases every 5 s and
        // steals one intent lease per balancer round.
        let (acquire, renew) = (a.lease_acquire_interval, a.lease_interval);
        let own_acquire = a.table_claim_interval.unwrap_or(a.ownership_acquire_interval);
        let table = a.table_claim_interval.is_some();
        // A host the platform stops without releasing its blob leases (`stop_releases_leases`
        // 0): each runs out its duration after its last renewal (within `renew` before the stop).
        let lapses = !table && !a.stop_releases_leases;
        let intent_dur = a.intent_lease_duration;
        for part in 0..p {
            let Some((o, _)) = self.az.draining[part].filter(|&(o, _)| !hosts.contains(&o)) else { continue };
            // A stopping Table-manager host drains on while it has something of the partition
            // to run (a scale-in has held its buffered work by now).
            if table && self.insts[o].alive && (self.sessions_on(part, o) > 0 || self.durable_left_in(part) > 0) {
                continue;
            }
            self.az.draining[part] = None;
            self.durable_return_buffered(part as u32);
            self.host_instant(o, now, || format!("partition {part}: lets it go, its host stops"));
            if self.lease_handover() && !hosts.is_empty() {
                self.az.lease_gen[part] = self.az.lease_gen[part].wrapping_add(1);
                // Released on a graceful stop; else the ownership lease it renewed while it
                // drained runs out.
                let gap = self.ownership_take_gap(lapses);
                self.schedule_take(now + gap, part as u32);
            }
        }
        // The last host stopped without releasing: a host that comes before the intent leases
        // ran out waits for them (below).
        if lapses && hosts.is_empty() && self.lease_handover() {
            for part in 0..p {
                if self.az.holder[part].is_some() {
                    let lapse = self.lapse(intent_dur, renew);
                    self.az.lapse_until[part] = Some(now + lapse);
                }
            }
        }
        // Hosts that exist from the start (always-ready instances) found their leases settled.
        if !self.lease_handover() || hosts.is_empty() || now == SimTime::ZERO {
            for part in 0..p {
                let h = if hosts.is_empty() { None } else { Some(hosts[part % hosts.len()]) };
                self.az.owner[part] = h;
                self.az.holder[part] = h;
                self.az.lease_gen[part] = self.az.lease_gen[part].wrapping_add(1);
            }
            for h in hosts {
                self.sync_pollers(now, h);
            }
            return;
        }
        let one_per_round = !table;
        let count = |holder: &[Option<InstId>], h: InstId| holder.iter().filter(|&&x| x == Some(h)).count();
        // Partitions whose old owner left mid-handover: the holder takes the ownership lease at
        // its next ownership round once it is released (a graceful stop) or has run out.
        for part in 0..p {
            let owner_gone = self.az.owner[part].is_some_and(|o| !hosts.contains(&o));
            if owner_gone && self.az.holder[part].is_some_and(|h| hosts.contains(&h)) {
                self.az.owner[part] = None;
                self.az.lease_gen[part] = self.az.lease_gen[part].wrapping_add(1);
                let gap = self.ownership_take_gap(lapses);
                self.schedule_take(now + gap, part as u32);
            }
        }
        // Partitions whose holder is gone.
        for part in 0..p {
            if self.az.holder[part].is_some_and(|h| hosts.contains(&h)) {
                continue;
            }
            self.az.lease_gen[part] = self.az.lease_gen[part].wrapping_add(1);
            if let Some(o) = self.az.owner[part].filter(|o| hosts.contains(o)) {
                // The old owner still dequeues: its handover is called off.
                self.az.holder[part] = Some(o);
                continue;
            }
            let released = self.az.holder[part].is_some();
            // Leases of a host gone without releasing them, still running out.
            let lapsing = self.az.lapse_until[part].filter(|&t| t > now);
            let h = *hosts.iter().min_by_key(|&&h| count(&self.az.holder, h)).expect("hosts is not empty");
            self.az.holder[part] = Some(h);
            if self.az.draining[part].is_some() {
                // Its old owner still keeps it: the drain's end schedules the take.
                continue;
            }
            if released || lapsing.is_some() {
                self.az.owner[part] = None;
                // The intent lease of a holder stopped without releasing it runs out first (its
                // ownership lease, shorter, has by then); then the new holder's balancer and
                // ownership rounds.
                let from = match (released, lapsing) {
                    (true, _) if lapses => now + self.lapse(intent_dur, renew),
                    (true, _) => now,
                    (false, until) => until.unwrap_or(now),
                };
                let gap = self.uniform(acquire) + self.uniform(own_acquire);
                // A lease still lapsing is taken no sooner than the lapse ends.
                let at = (from + gap).max(lapsing.unwrap_or(SimTime::ZERO));
                self.schedule_take(at, part as u32);
            } else {
                self.az.owner[part] = Some(h);
            }
        }
        // Steals toward an even share, one per balancer round of each stealing host.
        let share = p / hosts.len();
        for &h in &hosts {
            let mut round = 0u32;
            while count(&self.az.holder, h) < share {
                // The busiest host above its share gives up one of its intent leases. A
                // partition still on its way to it (the old owner dequeues, or nobody does) keeps
                // its handover under way and only changes destination; otherwise its owner stops
                // at its next renewal.
                let Some(busiest) = hosts
                    .iter()
                    .copied()
                    .filter(|&b| count(&self.az.holder, b) > share)
                    .max_by_key(|&b| (count(&self.az.holder, b), std::cmp::Reverse(b)))
                else {
                    break;
                };
                let held_by = |q: usize| self.az.holder[q] == Some(busiest);
                let part = (0..p)
                    .rev()
                    .find(|&q| held_by(q) && self.az.owner[q] != Some(busiest))
                    .or_else(|| (0..p).rev().find(|&q| held_by(q)))
                    .expect("the busiest host holds partitions");
                self.az.holder[part] = Some(h);
                if self.az.owner[part] == Some(busiest) {
                    self.az.lease_gen[part] = self.az.lease_gen[part].wrapping_add(1);
                    let stop = now + SimDuration(acquire.as_nanos() * u64::from(round)) + self.uniform(renew);
                    round += u32::from(one_per_round);
                    let generation = self.az.lease_gen[part];
                    self.q.schedule(stop, Ev::Timer(super::Timer::LeaseStop { part: part as u32, generation }));
                }
            }
        }
        for h in hosts {
            self.sync_pollers(now, h);
        }
    }

    /// How long after a stop that released nothing a lease of `duration`, renewed every
    /// `renew`, runs out: its last renewal was within `renew` before.
    fn lapse(&mut self, duration: SimDuration, renew: SimDuration) -> SimDuration {
        duration.saturating_sub(renew) + self.uniform(renew)
    }

    /// From the moment an ownership lease stops being renewed (`lapses`) or is released (not
    /// `lapses`) to its next holder's take: the lapse, if any, then the holder's next ownership
    /// round (the Table manager's claim loop).
    fn ownership_take_gap(&mut self, lapses: bool) -> SimDuration {
        let a = self.az();
        let own_acquire = a.table_claim_interval.unwrap_or(a.ownership_acquire_interval);
        let (duration, renew) = (a.ownership_lease_duration, a.lease_interval);
        let lapse = if lapses { self.lapse(duration, renew) } else { SimDuration::ZERO };
        lapse + self.uniform(own_acquire)
    }

    /// A uniform draw in `[0, d)` from the lease handover's own stream.
    fn uniform(&mut self, d: SimDuration) -> SimDuration {
        if d == SimDuration::ZERO {
            return SimDuration::ZERO;
        }
        SimDuration::from_secs_f64(rand::RngExt::random_range(&mut self.lease_rng, 0.0..d.as_secs_f64()))
    }

    /// The old owner of partition `part` found its intent lease taken at its renewal: it stops
    /// dequeuing the control queue. It keeps renewing the ownership lease while sessions of the
    /// partition it dispatched are in progress (`drain_sessions`; the Table manager for at most
    /// `table_drain_timeout`), then lets it go ([`World::lease_drained`]).
    pub(crate) fn lease_stop(&mut self, now: SimTime, part: u32, generation: u32) {
        let i = part as usize;
        if self.az.lease_gen.get(i) != Some(&generation) {
            return;
        }
        let old = self.az.owner[i].take();
        if let Some(o) = old {
            self.sync_pollers(now, o);
            let active = self.sessions_on(i, o);
            // Its buffered messages become sessions on it too (`drain_buffered`).
            let buffered = if self.az().drain_sessions && self.az().drain_buffered { self.durable_keep_buffered(part) } else { false };
            if self.az().drain_sessions && (active > 0 || buffered) {
                self.az.draining[i] = Some((o, now));
                if self.az().table_claim_interval.is_some() {
                    let at = now + self.az().table_drain_timeout;
                    self.q.schedule(at, Ev::Timer(super::Timer::DrainTimeout { part, since: now }));
                }
                let waiting = self.durable_left_in(i);
                self.host_instant(o, now, || {
                    format!(
                        "partition {part}: intent lease lost, stops dequeuing; keeps the partition while {active} of its sessions run and {waiting} it buffered wait"
                    )
                });
                return;
            }
            self.host_instant(o, now, || format!("partition {part}: intent lease lost, stops dequeuing"));
        }
        self.schedule_lease_start(now, part);
    }

    /// The new holder of partition `part` takes it once its old owner let go at `now`.
    fn schedule_lease_start(&mut self, now: SimTime, part: u32) {
        let start = match self.az().table_claim_interval {
            // Table: the old owner drains and releases the row at its next fast tick; the new
            // owner claims it at its own.
            Some(claim) => now + self.uniform(claim) + self.uniform(claim),
            // Safe: the ownership lease is renewed on its own loop: the first tick after this
            // stop (within its renewal interval) no longer renews it, so it runs out its
            // duration after the tick before; the new holder takes it at its next ownership
            // round.
            None => now + self.ownership_take_gap(true),
        };
        self.az.lapse_until[part as usize] = Some(start);
        self.schedule_take(start, part);
    }

    /// Partition `part`'s holder takes it at `at` (its current handover's generation).
    fn schedule_take(&mut self, at: SimTime, part: u32) {
        let generation = self.az.lease_gen[part as usize];
        self.q.schedule(at, Ev::Timer(super::Timer::LeaseStart { part, generation }));
    }

    /// Sessions of partition `part` in progress on host `h`.
    fn sessions_on(&self, part: usize, h: InstId) -> u32 {
        self.az.sessions.get(part).and_then(|l| l.iter().find(|&&(x, _)| x == h)).map_or(0, |&(_, n)| n)
    }

    /// Starts invocation `v`, an episode or entity batch of partition `part`, on host `h`,
    /// counted among the partition's sessions on `h` until it ends ([`World::session_end`]).
    pub(crate) fn start_session(&mut self, now: SimTime, v: super::InvId, part: u32, h: InstId) {
        self.invs[v].session = Some(part);
        if let Some(list) = self.az.sessions.get_mut(part as usize) {
            match list.iter_mut().find(|(x, _)| *x == h) {
                Some(entry) => entry.1 += 1,
                None => list.push((h, 1)),
            }
        }
        self.start_on(now, v, h, false);
    }

    /// Invocation `v` on host `h` ended or was dropped: if it was the last session a draining
    /// old owner ran of its partition, the partition goes.
    pub(crate) fn session_end(&mut self, now: SimTime, v: super::InvId, h: InstId) {
        let Some(part) = self.invs[v].session.take() else { return };
        let i = part as usize;
        let Some(list) = self.az.sessions.get_mut(i) else { return };
        if let Some(k) = list.iter().position(|&(x, _)| x == h) {
            list[k].1 -= 1;
            if list[k].1 == 0 {
                list.swap_remove(k);
            }
        }
        if self.az.draining_host(i) == Some(h) {
            self.drain_check(now, part);
        }
    }

    /// Partition `part`'s draining old owner has no session of it left and none of its
    /// buffered work (a session ended, or buffered work of an ended execution was dropped):
    /// the partition goes.
    pub(crate) fn drain_check(&mut self, now: SimTime, part: u32) {
        let i = part as usize;
        if let Some(o) = self.az.draining_host(i)
            && self.sessions_on(i, o) == 0
            && self.durable_left_in(i) == 0
        {
            self.lease_drained(now, part, "its last session of it ended");
        }
    }

    /// The Table manager's drain of partition `part` begun at `since` timed out.
    pub(crate) fn drain_timeout(&mut self, now: SimTime, part: u32, since: SimTime) {
        if self.az.draining.get(part as usize).copied().flatten().is_some_and(|(_, s)| s == since) {
            self.lease_drained(now, part, "its drain timed out");
        }
    }

    /// Partition `part`'s old owner lets it go: the holder takes it as after a stop (any take
    /// scheduled before is stale).
    fn lease_drained(&mut self, now: SimTime, part: u32, why: &str) {
        if let Some((o, _)) = self.az.draining[part as usize].take() {
            self.host_instant(o, now, || format!("partition {part}: lets it go, {why}"));
        }
        // What it had buffered and not started (a capped drain) is the next owner's.
        self.durable_return_buffered(part);
        self.az.lease_gen[part as usize] = self.az.lease_gen[part as usize].wrapping_add(1);
        self.schedule_lease_start(now, part);
    }

    /// Partition `part`'s holder takes its ownership lease and starts dequeuing.
    pub(crate) fn lease_start(&mut self, now: SimTime, part: u32, generation: u32) {
        let i = part as usize;
        if self.az.lease_gen.get(i) != Some(&generation) {
            return;
        }
        // The old owner still renews the ownership lease: the drain's end schedules the take.
        let drained = self.az.draining[i].is_none();
        match self.az.holder[i] {
            Some(h) if drained && self.insts[h].alive && self.insts[h].ready => {
                self.az.owner[i] = Some(h);
                self.az.lapse_until[i] = None;
                self.sync_pollers(now, h);
                self.host_instant(h, now, || format!("partition {part}: ownership lease taken, dequeues"));
                self.durable_host_gone(now);
            }
            _ => {}
        }
        // The balancer's next round: steals that waited for this handover go ahead.
        self.rebalance(now);
    }

    pub(crate) fn azure_host_ready(&mut self, now: SimTime, h: InstId) {
        if self.az.any_host_since.is_none() {
            self.az.any_host_since = Some(now);
        }
        self.rebalance(now);
        self.sync_pollers(now, h);
    }

    /// Host-seconds of the app's hosts up to `end`: those gone and those still alive.
    fn host_time_until(&self, end: SimTime) -> SimDuration {
        let mut host_time = self.az.host_time;
        for &i in &self.apps[AppId(0)].instances {
            if self.insts[i].alive {
                host_time += end.saturating_since(self.insts[i].created);
            }
        }
        host_time
    }

    /// Since when some host of the app has been alive without a break.
    pub(crate) fn az_hosts_since(&self) -> Option<SimTime> {
        self.az.any_host_since
    }

    pub(crate) fn azure_host_gone(&mut self, now: SimTime, h: InstId) {
        self.insts[h].pollers.clear();
        self.az.host_time += now.saturating_since(self.insts[h].created);
        if self.apps[AppId(0)].alive == 0
            && let Some(since) = self.az.any_host_since.take()
        {
            self.az.any_host_time += now.saturating_since(since);
        }
        self.rebalance(now);
        self.durable_host_gone(now);
    }

    /// A slot freed on host `h`: blocked pollers poll again now; the driver starts buffered work.
    pub(crate) fn azure_slot_freed(&mut self, now: SimTime, h: InstId) {
        let mut wake = Vec::new();
        for p in self.insts[h].pollers.iter_mut() {
            if p.blocked {
                p.blocked = false;
                p.scheduled = true;
                wake.push(p.queue);
            }
        }
        for q in wake {
            self.schedule_poll(now, h, q);
        }
        self.durable_slot_freed(now, h);
    }

    pub(crate) fn on_poll(&mut self, now: SimTime, h: InstId, queue: QueueId, poll_gen_id: u32) {
        let Some(pi) = self.insts[h].pollers.iter().position(|p| p.queue == queue) else {
            return;
        };
        if !self.insts[h].alive || self.insts[h].pollers[pi].poll_gen_id != poll_gen_id {
            return; // the host is gone, or this poll was replaced by a later one
        }
        self.insts[h].pollers[pi].scheduled = false;
        let class = self.az.queues[queue].class;
        // A control queue with DTAS's buffer fetches while the host's buffer is below its
        // threshold (a full one is looked at again when the host's work starts, at a slot's
        // freeing); otherwise a queue is fetched only with a free slot.
        let threshold = if class == Class::Orchestrator && self.az().storage_queues { self.az().control_buffer_threshold } else { 0 };
        let open = if threshold > 0 {
            self.has_room_ignoring_slots(h) && self.durable_buffered_on(h) < threshold
        } else {
            self.has_room(h, class)
        };
        if !open {
            self.insts[h].pollers[pi].blocked = true;
            return;
        }
        let batch = self.az.queues[queue].batch as usize;
        let app = self.insts[h].app;
        let room = (self.plan.apps[app].slots[class as usize] - self.insts_busy(h, class)) as usize;
        let take = if class == Class::Orchestrator { batch } else { batch.min(room) };
        let mut got = Vec::new();
        while got.len() < take {
            let Some(m) = self.az.queues[queue].msgs.pop_front() else {
                break;
            };
            got.push(m);
        }
        let found = !got.is_empty();
        // Polls show as instants on the host's first track: the gaps between them are the
        // polling waits a message can sit through.
        let n = got.len();
        self.host_instant(h, now, || {
            if found { format!("poll queue {}: {n} message(s)", queue.0) } else { format!("poll queue {}: empty", queue.0) }
        });
        // One Get Messages (class 2) per poll, billed to the first message's execution (or
        // idle); one Delete Message (class 1) per message, and a large message's blob read.
        let billed = u64::from(self.az().storage_queues);
        let first_exec = got.first().map(|&m| self.az.msgs[m as usize].exec);
        self.count(first_exec, Tx { queue_class2: billed, ..Tx::default() });
        for &m in &got {
            let msg = self.az.msgs[m as usize];
            self.count(Some(msg.exec), Tx { queue_class1: billed, blob_read: u64::from(msg.large), ..Tx::default() });
            if let Some(s) = msg.strand {
                self.charge(s, now, Component::Queue);
            }
            self.az.msg_free.push(m);
            self.on_message(now, h, msg);
        }
        let (backoff, push) = (self.az.queues[queue].backoff, self.az.queues[queue].push);
        if push {
            // A push listener asks again at once while messages wait, else it idles until
            // the next message wakes it.
            if !self.az.queues[queue].msgs.is_empty() {
                self.schedule_poll(now, h, queue);
            }
            return;
        }
        let inst = &mut self.insts[h];
        if let Some(p) = inst.pollers.iter_mut().find(|p| p.queue == queue)
            && p.poll_gen_id == poll_gen_id
        {
            // Not woken meanwhile: continue this chain after the backoff.
            let wait = p.poller.after_poll(found, &backoff, &mut self.rng);
            self.schedule_poll(now + wait, h, queue);
        }
    }

    fn insts_busy(&self, h: InstId, class: Class) -> u32 {
        self.insts[h].busy[class as usize]
    }

    fn on_message(&mut self, now: SimTime, h: InstId, msg: Msg) {
        match msg.kind {
            MsgKind::Chain { node } => self.chain_message(now, h, msg, node),
            MsgKind::Orch { .. } | MsgKind::Activity { .. } | MsgKind::EntityOp { .. } => self.durable_message(now, h, msg),
        }
    }

    /// A scale-in vote: one idle host leaves (never the last: scaling to zero is the idle
    /// keep-alive's business).
    fn scale_in_one(&mut self, now: SimTime, app: AppId) {
        let a = &self.apps[app];
        let staying = a.instances.iter().filter(|&&h| self.insts[h].alive && !self.insts[h].draining && !self.insts[h].leaving).count();
        if staying <= 1 {
            return;
        }
        let idle = |h: InstId| {
            let i = &self.insts[h];
            i.alive && i.ready && i.busy_total() == 0 && !i.always_ready
        };
        if self.az().scale_in_busy_hosts {
            // The platform takes a host away without seeing the Durable work it holds: the
            // oldest that can go (models/az-durable.toml `task_hub.scale_in_busy_hosts`).
            let victim = a.instances.iter().copied().find(|&h| {
                let i = &self.insts[h];
                i.alive && i.ready && !i.always_ready && !i.draining && !i.poisoned && !i.leaving
            });
            if let Some(h) = victim {
                let lag = self.az().scale_in_lag;
                if lag > SimDuration::ZERO {
                    // Decided now, carried out later: the host works on meanwhile, and the
                    // controller no longer counts it.
                    self.insts[h].leaving = true;
                    self.host_instant(h, now, || "scale-in decided: removal due".to_string());
                    self.q.schedule(now + lag, Ev::Timer(super::Timer::ScaleInDue { host: h }));
                } else {
                    self.remove_host(now, h);
                }
            }
            return;
        }
        if let Some(&h) = a.instances.iter().rev().find(|&&h| idle(h)) {
            self.reclaim(now, h, "scaled in");
        }
    }

    /// Host `h` leaves now: at once if idle, else it drains (Durable).
    fn remove_host(&mut self, now: SimTime, h: InstId) {
        let i = &self.insts[h];
        if i.ready && i.busy_total() == 0 {
            self.reclaim(now, h, "scaled in");
        } else {
            self.durable_drain_host(now, h);
        }
    }

    /// A decided removal falls due (unless the host is gone already).
    pub(crate) fn scale_in_due(&mut self, now: SimTime, h: InstId) {
        let i = &self.insts[h];
        if i.alive && i.leaving && !i.draining {
            self.remove_host(now, h);
        }
    }

    /// The app's hosts the scale controller counts: alive (starting ones too) and not being
    /// removed (decided, or draining).
    fn counted_hosts(&self, app: AppId) -> u32 {
        let a = &self.apps[app];
        let leaving =
            a.instances.iter().filter(|&&h| self.insts[h].alive && (self.insts[h].leaving || self.insts[h].draining)).count() as u32;
        a.alive - leaving
    }

    /// The scale controller's periodic look at the app's queues.
    pub(crate) fn on_peek(&mut self, now: SimTime, app: AppId) {
        if self.az().storage_queues {
            let ops = self.peek_ops();
            self.count(None, Tx { queue_class2: ops, ..Tx::default() });
        }
        // Every queue is sampled: its length and the age of its oldest visible message.
        for q in self.az.queues.iter_mut() {
            let age = q.msgs.front().map_or(SimDuration::ZERO, |&m| now.saturating_since(self.az.msgs[m as usize].visible_at));
            q.samples.push_back((q.msgs.len(), age));
            if q.samples.len() > SCALE_SAMPLES {
                q.samples.pop_front();
            }
        }
        // Durable work taken from a control queue but not started (its host died) is still a
        // message in that queue for the scale controller.
        let any_message = self.az.queues.iter().any(|q| !q.msgs.is_empty()) || self.durable_work_waiting();
        if self.target_based() {
            self.target_scale(now, app, self.az().target_scale_step, any_message);
        } else {
            // The hosts still starting count, those being removed do not.
            let workers = self.counted_hosts(app);
            let vote = match &self.plan.driver {
                Driver::Durable(d) => self.durable_vote(workers, d.backoff.max),
                _ => self.chain_vote(),
            };
            self.apply_vote(now, app, vote, workers, workers == 0 && any_message);
        }
        if !(self.all_done() && self.quiescent()) {
            let next = self.skip_idle_peeks(now, app);
            self.q.schedule(next, Ev::Peek(app));
        } else {
            self.az.peeking = false;
        }
    }

    /// When the next peek is due. While the app has no host and nothing is in flight, every
    /// peek sees the same empty queues and decides nothing, so the peeks before the next event
    /// of the run (an arrival) are billed here at once instead of simulated one by one: the
    /// same transactions and the same schedule, without 10-s events through a long idle gap.
    /// Steady only once every queue's sample window (and the target-based scaler's window)
    /// holds nothing but empty samples.
    fn skip_idle_peeks(&mut self, now: SimTime, app: AppId) -> SimTime {
        let peek = self.az().peek_interval;
        let empty = |q: &SQueue| {
            q.samples.len() == SCALE_SAMPLES && q.invisible == 0 && q.samples.iter().all(|&(n, age)| n == 0 && age == SimDuration::ZERO)
        };
        // The target-based scaler keeps a window of targets only where it runs.
        let window = self.az().target_scale_in_samples.max(1) as usize;
        let targets_steady = !self.target_based() || (self.az.targets.len() == window && self.az.targets.iter().all(|&t| t == 0));
        let steady = peek > SimDuration::ZERO
            && self.apps[app].alive == 0
            && self.quiescent()
            && !self.durable_work_waiting()
            && targets_steady
            && self.az.queues.iter().all(empty);
        if !steady {
            return now + peek;
        }
        let Some(next_event) = self.q.peek_time() else { return now + peek };
        if next_event <= now + peek {
            return now + peek;
        }
        // Peeks at now + j * peek for j = 1..=skipped come strictly before the next event.
        let skipped = (next_event.saturating_since(now).as_nanos() - 1) / peek.as_nanos();
        if self.az().storage_queues {
            let ops = self.peek_ops() * skipped;
            self.count(None, Tx { queue_class2: ops, ..Tx::default() });
        }
        now + SimDuration::from_nanos(peek.as_nanos().saturating_mul(skipped + 1))
    }

    /// Whether the scale controller applies the target-based rule (Durable on Azure Storage with
    /// `task_hub.target_based_scaling`), which keeps a window of targets; else each trigger's vote.
    fn target_based(&self) -> bool {
        self.az().target_scale_step > 0 && self.az().storage_queues && matches!(self.plan.driver, Driver::Durable(_))
    }

    /// Queue transactions of one scale-controller peek. Durable (DTAS
    /// DisconnectedPerformanceMonitor.GetQueueMetricsAsync): every queue's latency (Peek
    /// Messages) and length (Get Queue Metadata, FetchAttributes). Queue triggers (WebJobs
    /// QueueListener.GetMetricsAsync): the length, and a peek for the oldest message's age when
    /// there are messages [U].
    fn peek_ops(&self) -> u64 {
        match &self.plan.driver {
            Driver::Durable(_) => 2 * self.az.queues.len() as u64,
            _ => self.az.queues.iter().map(|q| 1 + u64::from(!q.msgs.is_empty())).sum(),
        }
    }

    /// The incremental rule: one host added at the non-HTTP pace when the vote says out (or
    /// when messages wait and no host is alive), one idle host retired when it says in.
    /// `workers`: the hosts the controller counts ([`World::counted_hosts`]).
    fn apply_vote(&mut self, now: SimTime, app: AppId, vote: Option<bool>, workers: u32, first: bool) {
        // The controller paces by the hosts it counts; the cap holds every live host, those
        // being removed too (they still run and bill).
        let all_alive = self.apps[app].alive;
        if first || vote == Some(true) {
            let interval = self.plan.apps[app].queue_interval;
            if let Some(s) = self.apps[app].hosts.as_mut()
                && all_alive < s.max_hosts
                && s.request_with(now, workers, interval) == crate::scaling::HostDecision::Add
            {
                self.new_instance(now, app);
            }
        } else if vote == Some(false) {
            self.scale_in_one(now, app);
        }
    }

    /// Durable's target-based scaling (DFX `DurableTaskTargetScaler`): the workers the queues
    /// ask for are `max(ceil(work items / activity slots), min(busy control queues,
    /// ceil(control messages / orchestrator slots)))`; the controller adds up to `step` hosts
    /// at one decision toward it (no pace between decisions but the sampling interval), and
    /// retires one idle host per decision once every target of the scale-in window was below
    /// the live hosts. At least one host while messages wait.
    fn target_scale(&mut self, now: SimTime, app: AppId, step: u32, any_message: bool) {
        let slots = self.plan.apps[app].slots;
        // A queue's length is Get Queue Metadata's approximate count, which counts every message
        // not yet deleted: those a host has dequeued and still works on (DTFx deletes an
        // activity's message when it completes, a control message when its episode commits)
        // as well as the visible ones. Held messages are counted by the host slots they occupy.
        let held = |class: Class, h: Option<InstId>| -> usize {
            let insts = &self.apps[app].instances;
            insts
                .iter()
                .filter(|&&i| self.insts[i].alive && h.is_none_or(|h| h == i))
                .map(|&i| self.insts[i].busy[class as usize] as usize)
                .sum()
        };
        let (mut work_items, mut control_messages, mut busy_controls) =
            (held(Class::Activity, None), held(Class::Orchestrator, None), 0usize);
        for q in &self.az.queues {
            match q.kind {
                QueueKind::WorkItem => work_items += q.msgs.len() + q.invisible,
                QueueKind::Control(p) => {
                    // Taken from the queue but not started (waiting for a slot, or for the
                    // partition's next owner): not yet deleted, so still counted.
                    // Held by a host that was scaled in: invisible, not deleted, still counted.
                    let taken = self.durable_pending_in(p as usize) + q.invisible;
                    control_messages += q.msgs.len() + taken;
                    // A partition whose owner runs an episode holds that message: busy even when
                    // nothing visible waits (approximated: any episode on the owner).
                    let owner_busy =
                        self.az.owner.get(p as usize).copied().flatten().is_some_and(|h| held(Class::Orchestrator, Some(h)) > 0)
                            || self.az.draining.get(p as usize).is_some_and(Option::is_some);
                    busy_controls += usize::from(!q.msgs.is_empty() || taken > 0 || owner_busy);
                }
                QueueKind::Chain(_) => {}
            }
        }
        let target = durable_target_workers(
            work_items,
            control_messages,
            busy_controls,
            slots[Class::Activity as usize],
            slots[Class::Orchestrator as usize],
        )
        .max(u32::from(any_message));
        // The hosts still starting count, those being removed do not (the cap counts them).
        let workers = self.counted_hosts(app);
        let all_alive = self.apps[app].alive;
        if target > workers {
            for k in 0..(target - workers).min(step) {
                let Some(s) = self.apps[app].hosts.as_mut() else {
                    return;
                };
                if all_alive + k >= s.max_hosts || s.request_with(now, workers + k, SimDuration::ZERO) != crate::scaling::HostDecision::Add
                {
                    break;
                }
                self.new_instance(now, app);
            }
        }
        // Scale-in is stabilized: one idle host leaves when every target of the last
        // `target_scale_in_window` was below the live hosts (no document gives the window; it
        // is fitted, models/az-durable.toml `task_hub.target_scale_in_window_s`).
        let window = self.az().target_scale_in_samples.max(1) as usize;
        let targets = &mut self.az.targets;
        targets.push_back(target);
        while targets.len() > window {
            targets.pop_front();
        }
        if targets.len() == window && targets.iter().all(|&t| t < workers) {
            self.scale_in_one(now, app);
        }
    }

    /// az-queue: every queue trigger's monitor votes; out if any votes out, in if all vote in.
    fn chain_vote(&self) -> Option<bool> {
        let votes: Vec<Option<bool>> = self.az.queues.iter().map(|q| queue_vote(&q.samples)).collect();
        if votes.contains(&Some(true)) {
            Some(true)
        } else if !votes.is_empty() && votes.iter().all(|v| *v == Some(false)) {
            Some(false)
        } else {
            None
        }
    }

    /// Durable: the task hub's scale recommendation (DTFx `DisconnectedPerformanceMonitor.
    /// MakeScaleRecommendation`, which the scale controller applies), from the last five
    /// latencies of the work-item queue and of each control queue. `Some(true)`: add a worker;
    /// `Some(false)`: remove one.
    fn durable_vote(&mut self, workers: u32, max_polling: SimDuration) -> Option<bool> {
        let high = max_polling.min(SimDuration::from_secs(1));
        let low = SimDuration::from_millis(200);
        let full = |q: &SQueue| q.samples.len() == SCALE_SAMPLES;
        let idle = |q: &SQueue| q.samples.iter().all(|&(_, age)| age == SimDuration::ZERO);
        let latest = |q: &SQueue| q.samples.back().map_or(SimDuration::ZERO, |s| s.1);
        let previous = |q: &SQueue| if q.samples.len() >= 2 { q.samples[q.samples.len() - 2].1 } else { SimDuration::ZERO };
        // After an idle sample the latency may be a backoff poll's: only the maximum counts.
        let is_high = |q: &SQueue| latest(q) >= if previous(q) == SimDuration::ZERO { max_polling } else { high };
        let is_low = |q: &SQueue| latest(q) <= low && previous(q) <= low;
        let work = self.az.queues.iter().find(|q| q.kind == QueueKind::WorkItem)?;
        let controls: Vec<&SQueue> = self.az.queues.iter().filter(|q| matches!(q.kind, QueueKind::Control(_))).collect();
        let hub_idle = idle(work) && controls.iter().all(|q| idle(q));
        if !full(work) || !controls.iter().all(|q| full(q)) {
            return None;
        }
        if hub_idle {
            return (workers > 0).then_some(false);
        }
        if is_high(work) {
            return Some(true);
        }
        let partitions = controls.len() as u32;
        if workers > partitions && idle(work) {
            return Some(false);
        }
        let busy_controls = controls.iter().filter(|q| is_high(q)).count() as u32;
        if workers < busy_controls {
            return Some(true);
        }
        if workers > controls.iter().filter(|q| !idle(q)).count() as u32 && idle(work) {
            return Some(false);
        }
        let quiet = controls.iter().all(|q| is_low(q)) && work.samples.iter().all(|&(_, age)| age < low);
        // A slow, random scale-in (one vote in ten) when every queue is quiet.
        if workers > 1 && quiet && rand::RngExt::random_range(&mut self.rng, 0..10) == 0 {
            return Some(false);
        }
        None
    }

    /// Adds the lease traffic of the run to the idle transactions: the Functions host's
    /// primary-host lock (renewed by its holder while any host lives, tried by every other live
    /// host), then the task hub's partition and app leases (partitions x host-alive time /
    /// interval) and every host's lease balancing.
    pub(crate) fn account_idle(&mut self, end: SimTime) {
        if !matches!(self.plan.driver, Driver::Chain(super::chain::Hop::Azure(_)) | Driver::Durable(_)) {
            return;
        }
        let mut t = self.az.any_host_time;
        if let Some(since) = self.az.any_host_since {
            t += end.saturating_since(since);
        }
        let host_time = self.host_time_until(end);
        let (renew, acquire) = self.az().host_lock_intervals;
        let per = |span: SimDuration, every: SimDuration| if every > SimDuration::ZERO { span.as_nanos() / every.as_nanos() } else { 0 };
        // Host time beyond the first host's is the time of hosts that do not hold the lock (host
        // time runs from a host's creation, the lock's from its readiness: a busy period's first
        // cold start counts a few acquire attempts, as a starting host does make).
        let lock = per(t, renew) + per(host_time.saturating_sub(t), acquire);
        self.count(None, Tx { blob_lease: lock, ..Tx::default() });
        if !self.az().leases {
            return;
        }
        let a = self.az();
        let partitions = u64::from(a.partitions);
        if a.table_claim_interval.is_some() && partitions > 0 {
            // The Table partition manager: every live host queries the partitions table each
            // loop, and each owner updates its partitions' rows each renewal; the app lease
            // stays a blob lease.
            let mut tx = Tx {
                table: host_time.as_nanos() / a.lease_acquire_interval.as_nanos().max(1)
                    + (t.as_nanos() / a.lease_interval.as_nanos().max(1)) * partitions,
                ..Tx::default()
            };
            if a.app_lease_interval > SimDuration::ZERO {
                tx.blob_lease += t.as_nanos() / a.app_lease_interval.as_nanos();
            }
            self.count(None, tx);
            return;
        }
        // Every partition lease of every lease set is renewed by its owner each interval, and
        // the app lease by the host holding it, while any host is alive.
        let mut renewals = (t.as_nanos() / a.lease_interval.as_nanos().max(1)) * partitions * u64::from(a.lease_sets);
        if partitions > 0 && a.app_lease_interval > SimDuration::ZERO {
            renewals += t.as_nanos() / a.app_lease_interval.as_nanos();
        }
        let mut tx = Tx { blob_lease: renewals, ..Tx::default() };
        if partitions > 0 {
            // Every live host's lease balancer lists each lease set's blobs (List Blobs, Azure's
            // "list and create container" class) and downloads every lease blob (Get Blob) each
            // acquire interval.
            let a = self.az();
            let rounds = (host_time.as_nanos() / a.lease_acquire_interval.as_nanos().max(1)) * u64::from(a.lease_sets);
            tx.blob_list += rounds;
            tx.blob_read += rounds * partitions;
        }
        self.count(None, tx);
        if let Driver::Chain(super::chain::Hop::Azure(c)) = &self.plan.driver
            && let Some(scan) = c.blob_scan
        {
            // Every live host lists the container every scan interval (List Blobs, Azure's
            // "list and create container" class).
            let scans = host_time.as_nanos() / scan.as_nanos().max(1);
            self.count(None, Tx { blob_list: scans, ..Tx::default() });
        }
    }
}

/// The workers DFX's target-based scaler asks for (`DurableTaskTargetScaler.GetScaleResultAsync`):
/// enough for every work item at `activity_slots` per worker, and for every control-queue
/// message at `orchestrator_slots` per worker but never more than the control queues holding
/// messages (a partition is leased by one worker).
pub fn durable_target_workers(
    work_items: usize,
    control_messages: usize,
    busy_control_queues: usize,
    activity_slots: u32,
    orchestrator_slots: u32,
) -> u32 {
    let activity_workers = work_items.div_ceil(activity_slots.max(1) as usize);
    let orchestrator_workers = busy_control_queues.min(control_messages.div_ceil(orchestrator_slots.max(1) as usize));
    activity_workers.max(orchestrator_workers).min(u32::MAX as usize) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(v: &[(usize, f64)]) -> VecDeque<(usize, SimDuration)> {
        v.iter().map(|&(n, s)| (n, SimDuration::from_secs_f64(s))).collect()
    }

    #[test]
    fn the_queue_scale_monitor_votes_as_the_webjobs_listener() {
        // Not enough samples yet: no vote.
        assert_eq!(queue_vote(&samples(&[(0, 0.0); 4])), None);
        // Empty at every sample: scale in.
        assert_eq!(queue_vote(&samples(&[(0, 0.0); 5])), Some(false));
        // Length growing at every sample: scale out.
        assert_eq!(queue_vote(&samples(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0)])), Some(true));
        // One message left waiting: its age grows, scale out.
        assert_eq!(queue_vote(&samples(&[(1, 2.0), (1, 12.0), (1, 22.0), (1, 32.0), (1, 42.0)])), Some(true));
        // Messages that come and go with a steady age: no vote.
        assert_eq!(queue_vote(&samples(&[(1, 2.0), (1, 2.0), (1, 2.0), (1, 2.0), (1, 2.0)])), None);
        // An age that fell once does not count as growing.
        assert_eq!(queue_vote(&samples(&[(1, 2.0), (1, 12.0), (1, 1.0), (1, 32.0), (1, 42.0)])), None);
    }

    #[test]
    fn the_target_based_scaler_asks_for_dfxs_worker_counts() {
        // DFX's own table (its unit test of DurableTaskTargetScaler, TestTargetScaler):
        // activity slots, orchestrator slots, work-item queue length, control-queue lengths,
        // expected workers.
        let rows: [(u32, u32, usize, [usize; 4], u32); 7] = [
            (1, 10, 10, [1, 1, 1, 1], 10),
            (1, 10, 0, [0, 0, 0, 0], 0),
            (1, 10, 0, [2, 2, 3, 3], 1),
            (1, 10, 0, [9999, 0, 0, 0], 1),
            (1, 10, 0, [9999, 0, 0, 1], 2),
            (10, 10, 10, [2, 2, 3, 3], 1),
            (10, 10, 30, [10, 10, 10, 1], 4),
        ];
        for (a, o, work, controls, want) in rows {
            let busy = controls.iter().filter(|&&n| n > 0).count();
            assert_eq!(durable_target_workers(work, controls.iter().sum(), busy, a, o), want, "{a} {o} {work} {controls:?}");
        }
    }
}
