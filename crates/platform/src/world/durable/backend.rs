//! Durable storage backends: how a message reaches an orchestration or activity, how an
//! episode's history is loaded and how its outcome is committed.
//!
//! **Models.** The Durable driver asks its [`Backend`] three things, whatever the backend:
//! * *deliver*: the latency of a message and how a host finds it. `azure-storage`: a storage
//!   queue put (`az-storage` put latency), found by polls with randomized exponential backoff
//!   (every poll, put and delete a billed queue transaction; partitions leased through blob
//!   leases). `netherite`: an Event Hubs send, pushed to the host that owns the partition
//!   (long polling: no backoff, no poll transactions; partitions still leased through blobs).
//!   `mssql`: a row inserted by a SQL round trip, found by polls with DTFx-SQL's own backoff
//!   (50 ms to 3 s), not billed per operation (the database is billed by capacity).
//!   `dts`: the scheduler streams work items to connected workers over gRPC (push).
//!   On `azure-storage` each task-hub queue passes at most its scalability target of messages
//!   per second (a token bucket of one second; a put that finds it empty waits its turn).
//! * *load*: the episode's history. `azure-storage`: a History-table query (one transaction
//!   per 1,000 rows) with the payloads' bytes and blobs; `netherite`: the partition keeps
//!   its instances' state in memory (FASTER), no load; `mssql`: one round trip (the work item
//!   is locked and returned with its history by one stored procedure); `dts`: streamed with
//!   the work item, no load. The runtime's replay CPU per event applies to all.
//! * *commit*: the episode's new history, state and outgoing messages. `azure-storage`: a
//!   table batch write (one transaction per 100 rows, plus the Instances row) on the critical
//!   path; `netherite`: appended to the partition's log, persisted in batches: one page-blob
//!   write per partition per `commit_interval_s` whatever the number of commits in it, off the
//!   critical path (messages are sent speculatively); `mssql` and `dts`: one round trip.
//! * *host CPU*: a backend request (a storage REST call, an Event Hubs send, a SQL or gRPC
//!   call) costs the host `request_cpu_s` of the runtime (the Python model folds it into its
//!   episode cost). An episode issues `load + commit + deletes of its messages + one send` on
//!   Azure Storage, none on Netherite (receives, commits and sends are batched per partition:
//!   `PackPartitionTaskMessages`; their CPU is in the background share below), two calls on
//!   MSSQL, one on DTS; an activity three (get, delete, put), none, two and one.
//! * *Netherite's partition machinery*: (1) the partition caches each orchestration's cursor
//!   (`CacheOrchestrationCursors`), so an episode on its partition's host does not replay its
//!   history. (2) Each Netherite host gives `host_background_vcpu` of its cores to the
//!   partition machinery whatever the load (Event Hubs receivers and senders, FASTER log
//!   commits and checkpoints, the load monitor): the functions get `vcpus - share`, so one
//!   host's throughput grows like `cores - share`, faster than its cores (Microsoft's
//!   "hyperlinear benefits from scaling up"). (3) An activity that runs on another host than its
//!   orchestration's partition host (the shared work-item queue places it on any host) costs
//!   that host `remote_activity_cpu_s` more (the task and its result cross Event Hubs between
//!   hosts): with H hosts about (H-1)/H of the activities, so throughput grows less than the
//!   hosts.
//!
//! **Parameters.** `models/az-durable.toml`: `[netherite]` (partition count, Event Hubs
//! latency, commit interval; `cache_cursors` 0/1, from NETH test/PerformanceTests/host.json;
//! `host_background_vcpu` in vCPUs and `remote_activity_cpu_s` in s at one vCPU, both fitted to
//! the HelloCities5 rows by `calibration/fit-netherite.toml`: no document gives them; sources
//! of the mechanisms: NETH docs/throughput.md, docs/scenarios.md "Multi-Worker Scale-Out",
//! docs/settings.md partition-count guidance), `[mssql]` (polling, round trip), `[dts]` (round trip, price per
//! action), `[dotnet] request_cpu_s` / `[replay] request_cpu_s`; `models/az-storage.toml` for
//! Azure Storage. Every value carries its source there; the assumed ones say so.
//!
//! **Scope and limits.** One work-item queue shared by all hosts on every backend (Netherite
//! places activities on partitions and offloads them between partitions; not modelled).
//! Netherite's instance cache is unbounded; its commit latency and recovery are not modelled.
//! Netherite's background share is per host, not per partition hosted (the documents do not
//! say how it splits), and does not grow with the load; Event Hubs throughput units are not a
//! cap (one TU sufficed for every single-node run, NETH docs/throughput.md).
//! MSSQL and DTS have no partitions: their orchestrations are spread over up to
//! [`UNPARTITIONED`] virtual partitions, one owner host each, so that any host may run any
//! orchestration. DTS throughput limits per capacity unit (2,000 actions/s dedicated, 500/s
//! consumption) are not enforced; its action price is not sourced yet (0).
//!
//! **Validation.** `tests/durable_backends.rs`: Netherite's per-hop gap on an idle app is
//! below Azure Storage's backoff polling; partitions cap the hosts owning orchestrations;
//! storage transactions per execution by backend; Durable slots per hosting plan; Netherite's
//! growth with instances and the work-item queue's bound on Azure Storage; Netherite's faster-
//! than-cores scale-up and less-than-hosts scale-out (values and tolerances);
//! `calibration/targets/netherite-throughput.toml` (Microsoft's HelloCities5 throughput on 1-12
//! Elastic Premium instances of EP1-EP3, with its known deviations).

use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::DurableBackend;

use super::super::{AppId, ExecId, Phase, World};
use super::HistoryBytes;
use crate::billing::Cost;
use crate::deployment::ConfigError;
use crate::params::Models;
use crate::queue_polling::Backoff;
use crate::record::Component;

/// Virtual partitions of the backends without partitions (MSSQL, DTS): enough that no host
/// count the scale controller reaches is left without orchestrations to own.
pub const UNPARTITIONED: u32 = 64;

/// The most partitions a backend allows.
fn max_partitions(kind: DurableBackend) -> Option<u32> {
    match kind {
        DurableBackend::AzureStorage => Some(16),
        DurableBackend::Netherite => Some(32),
        DurableBackend::Mssql | DurableBackend::Dts => None,
    }
}

/// A Durable storage backend with its parameters.
#[derive(Clone, Debug)]
pub struct Backend {
    /// Which backend.
    pub kind: DurableBackend,
    /// Median and sigma of a load or commit round trip (MSSQL, DTS), s.
    pub round_trip: (f64, f64),
    /// Netherite: commits of a partition within this window share one page-blob write.
    pub commit_interval: SimDuration,
    /// $ per dispatched work item (DTS).
    pub price_usd_per_action: f64,
}

/// How an episode's history reaches the host.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Load {
    /// Queried from the History table (and blobs).
    Table,
    /// One round trip returns the work item with its history.
    RoundTrip,
    /// Already in the host's memory (partition state or a streamed work item).
    InMemory,
}

impl Backend {
    /// The backend `kind` from the models.
    pub fn from_models(kind: DurableBackend, models: &Models) -> Self {
        let d = &models.durable;
        let round_trip = match kind {
            DurableBackend::Mssql => (d.mssql.round_trip_s_median.value, d.mssql.latency_sigma.value),
            DurableBackend::Dts => (d.dts.round_trip_s_median.value, d.dts.latency_sigma.value),
            _ => (0.0, 0.0),
        };
        Backend {
            kind,
            round_trip,
            commit_interval: SimDuration::from_secs_f64(d.netherite.commit_interval_s.value),
            price_usd_per_action: if kind == DurableBackend::Dts { d.dts.price_usd_per_action.value } else { 0.0 },
        }
    }

    /// The partition count: the scenario's (checked against the backend's range) or the
    /// backend's default.
    pub fn partitions(&self, models: &Models, asked: Option<u32>, owner: &str) -> Result<u32, ConfigError> {
        let key = format!("deployment.{owner}.partitions");
        match (asked, max_partitions(self.kind)) {
            (None, _) => Ok(match self.kind {
                DurableBackend::AzureStorage => models.durable.task_hub.partition_count.value as u32,
                DurableBackend::Netherite => models.durable.netherite.partition_count.value as u32,
                DurableBackend::Mssql | DurableBackend::Dts => UNPARTITIONED,
            }),
            (Some(n), Some(max)) if (1..=max).contains(&n) => Ok(n),
            (Some(n), Some(max)) => {
                Err(ConfigError { key, message: format!("the {} backend takes 1-{max} partitions, got {n}", self.kind.name()) })
            }
            (Some(_), None) => Err(ConfigError {
                key,
                message: format!("the {} backend has no partitions (azure-storage and netherite have)", self.kind.name()),
            }),
        }
    }

    /// Messages are pushed to hosts instead of polled.
    pub fn push(&self) -> bool {
        matches!(self.kind, DurableBackend::Netherite | DurableBackend::Dts)
    }

    /// Messages are storage-queue messages (billed transactions).
    pub fn storage_queues(&self) -> bool {
        self.kind == DurableBackend::AzureStorage
    }

    /// Partitions are leased through blob leases.
    pub fn leases(&self) -> bool {
        matches!(self.kind, DurableBackend::AzureStorage | DurableBackend::Netherite)
    }

    /// A message's latency (median s, sigma), given the storage queue's put latency.
    pub fn message_latency(&self, models: &Models, queue_put: (f64, f64)) -> (f64, f64) {
        match self.kind {
            DurableBackend::AzureStorage => queue_put,
            DurableBackend::Netherite => {
                (models.durable.netherite.message_latency_s_median.value, models.durable.netherite.latency_sigma.value)
            }
            DurableBackend::Mssql | DurableBackend::Dts => self.round_trip,
        }
    }

    /// The pollers' backoff (push backends: none is used).
    pub fn backoff(&self, models: &Models, storage: Backoff) -> Backoff {
        match self.kind {
            DurableBackend::Mssql => {
                let m = &models.durable.mssql;
                let min = SimDuration::from_secs_f64(m.min_interval_s.value);
                Backoff { min, found: min, max: SimDuration::from_secs_f64(m.max_interval_s.value), randomization: 0.0 }
            }
            _ => storage,
        }
    }

    /// How an episode loads its history.
    pub(crate) fn load(&self) -> Load {
        match self.kind {
            DurableBackend::AzureStorage => Load::Table,
            DurableBackend::Mssql => Load::RoundTrip,
            DurableBackend::Netherite | DurableBackend::Dts => Load::InMemory,
        }
    }

    /// Backend requests an orchestrator episode that took `taken` messages issues.
    pub fn episode_requests(&self, taken: u32) -> u32 {
        match self.kind {
            DurableBackend::AzureStorage => 3 + taken,
            // Netherite packs a partition's outgoing messages into Event Hubs batches
            // (PackPartitionTaskMessages); their CPU is part of the host background share.
            DurableBackend::Netherite => 0,
            DurableBackend::Dts => 1,
            DurableBackend::Mssql => 2,
        }
    }

    /// Backend requests an activity issues (fetch, acknowledge, send its result).
    pub fn activity_requests(&self) -> u32 {
        match self.kind {
            DurableBackend::AzureStorage => 3,
            DurableBackend::Netherite => 0,
            DurableBackend::Dts => 1,
            DurableBackend::Mssql => 2,
        }
    }
}

impl World<'_> {
    fn backend(&self) -> &Backend {
        &self.du_setup().backend
    }

    /// The phases that load an episode's history of `history` events and `stored` payloads
    /// (none when the backend holds it in memory); counts the load's transactions.
    pub(super) fn backend_load(&mut self, e: ExecId, history: u32, stored: HistoryBytes, mem: f64, comp: Component) -> Vec<Phase> {
        let mut phases = Vec::new();
        match self.backend().load() {
            Load::Table => {
                let (m, sg) = self.du_setup().azure.table_read;
                let bandwidth = self.plan.apps[AppId(0)].platform.storage.bandwidth_bytes_per_s;
                // The query returns every row with its payloads; payloads over the table's
                // property limit are blobs, each read in turn.
                let read = self.lognormal(m, sg) + SimDuration::from_secs_f64(stored.table as f64 / bandwidth);
                phases.push(Phase::wait(read, mem, comp).on_host());
                if stored.blobs > 0 {
                    let blobs = self.blob_reads(stored.blobs, stored.blob_bytes);
                    phases.push(Phase::wait(blobs, mem, comp).on_host());
                }
                // One query per 1,000 history rows.
                self.count_tx(Some(e), 0, 1 + u64::from(history) / 1000, u64::from(stored.blobs), 0);
            }
            Load::RoundTrip => {
                let (m, sg) = self.backend().round_trip;
                let d = self.lognormal(m, sg);
                phases.push(Phase::wait(d, mem, comp).on_host());
            }
            Load::InMemory => {}
        }
        phases
    }

    /// The phase that commits an episode's outcome on the critical path, if any.
    pub(super) fn backend_commit_phase(&mut self, mem: f64) -> Option<Phase> {
        let (m, sg) = match self.backend().kind {
            DurableBackend::AzureStorage => self.du_setup().azure.table_write,
            DurableBackend::Mssql | DurableBackend::Dts => self.backend().round_trip,
            DurableBackend::Netherite => return None,
        };
        let write = self.lognormal(m, sg);
        Some(Phase::wait(write, mem, Component::Transfer).on_host())
    }

    /// The host CPU of `requests` backend requests, as a phase on the host.
    pub(super) fn backend_request_phase(&self, requests: u32, mem: f64) -> Option<Phase> {
        let cpu = self.du_setup().request_cpu_s * f64::from(requests);
        (cpu > 0.0).then(|| Phase::cpu(cpu, mem, Component::Execution).on_host())
    }

    /// An episode of execution `e` on `partition` committed `rows` new history rows: the
    /// storage transactions it costs.
    pub(super) fn backend_committed(&mut self, now: SimTime, e: ExecId, partition: u32, rows: u64) {
        match self.backend().kind {
            DurableBackend::AzureStorage => {
                let rows_per_batch = u64::from(self.du_setup().azure.rows_per_batch);
                self.count_tx(Some(e), 0, rows.div_ceil(rows_per_batch) + 1, 0, 0);
            }
            DurableBackend::Netherite => {
                // One page-blob write per partition per commit interval, charged to the
                // execution whose commit opened the batch.
                let interval = self.backend().commit_interval;
                let last = &mut self.du.last_commit[partition as usize];
                if last.is_none_or(|t| now.saturating_since(t) >= interval) {
                    *last = Some(now);
                    self.count_tx(Some(e), 0, 0, 0, 1);
                }
            }
            DurableBackend::Mssql | DurableBackend::Dts => {}
        }
    }

    /// A work item dispatched to the app for execution `e` (an action of the DTS bill).
    pub(super) fn backend_dispatched(&mut self, e: ExecId) {
        let usd = self.backend().price_usd_per_action;
        if usd > 0.0 {
            self.acc(e).cost.add(&Cost { transactions: usd, ..Cost::default() });
        }
    }
}
