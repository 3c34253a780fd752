//! Durable orchestrator replay: what an orchestrator episode costs.
//!
//! **Models.** An orchestrator function is re-run from its start at every episode (each
//! `await` ends one; the next message for the instance starts another): the episode loads the
//! instance's history from the History table (one query per 1,000 rows), then replays it, CPU
//! per history event (so the cost grows with the history: k sequential awaits give k + 1
//! episodes whose replays cover 0, 2, 4, ... events), runs the new decisions (a fixed CPU
//! cost), and writes its new history rows. With extended sessions an instance that ran on the
//! same host in the last 30 s keeps its state in memory and skips the load and the replay. The
//! first Durable dispatch on a new host warms the extension up (a one-time CPU phase counted
//! as cold start).
//!
//! **Parameters.** `models/az-durable.toml` `[replay]`: `episode_cpu_s` and
//! `per_history_event_cpu_s` (fitted together, calibration/fit-durable-episode.toml: the
//! per-event part to how SeBS-Flow's Durable chain gap grows along the chain, the fixed part to
//! its pooled gap and two apps' spans), `per_history_kb_cpu_s` (fitted: the 64 and 256 KiB
//! chain rows), `orchestrator_memory_mb`, `extended_sessions`, `first_dispatch_cpu_s` (fitted:
//! ml-coldstart-durable); `models/az-storage.toml` table latencies and blob transfers.
//!
//! **Scope and limits.** The load is one table query plus the history's large payloads read
//! from blobs one after another (DTAS `AzureTableTrackingStore.GetHistoryEventsAsync` awaits
//! each row's `DecompressLargeEntityProperties` in turn); the history's bytes are parsed at a
//! per-KB rate. Out-of-process Python worker round trips are not modelled apart from the CPU.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: hand-computed episode and replay counts for k
//! sequential awaits; tests/issue12.rs bills one execution's episodes by hand;
//! calibration/targets/sebs-flow-chain-growth.toml (the gap's growth at five payload sizes, two
//! held out of the fit).

use sfsim_engine::SimDuration;

use super::super::{AppId, ExecId, InstId, Phase, World};
use super::HistoryBytes;
use crate::record::Component;

impl World<'_> {
    /// The phases of an orchestrator episode of execution `e` whose instance has `history`
    /// events: load and replay (unless `warm_session`), decide, checkpoint.
    pub(super) fn episode_phases(
        &mut self,
        e: ExecId,
        history: u32,
        stored: HistoryBytes,
        new: HistoryBytes,
        taken: u32,
        warm_session: bool,
    ) -> Vec<Phase> {
        let s = self.du_setup();
        let (mem, per_event_cpu_s, episode_cpu_s, per_kb_cpu_s) =
            (s.episode_memory_mb, s.per_event_cpu_s, s.episode_cpu_s, s.per_history_kb_cpu_s);
        let mut phases = Vec::new();
        // The new messages' payloads in the large-message container are read first.
        if new.large_messages > 0 {
            let read = self.blob_reads(new.large_messages, new.large_message_bytes);
            // (counted as blob reads where the poll dequeued them)
            phases.push(Phase::wait(read, mem, Component::Transfer).on_host());
        }
        let mut handed_bytes = new.total();
        if !warm_session {
            let comp = if history > 0 { Component::Replay } else { Component::Transfer };
            let load = self.backend_load(e, history, stored, mem, comp);
            phases.extend(load);
            handed_bytes += stored.total();
            if history > 0 {
                phases.push(Phase::cpu(per_event_cpu_s * f64::from(history), mem, Component::Replay));
                self.acc(e).counts.replays += 1;
            }
        }
        // The history (all of it, or only the new events in a warm session) is deserialized
        // by the host and handed to the out-of-process worker, which parses it again.
        if handed_bytes > 0 && per_kb_cpu_s > 0.0 {
            phases.push(Phase::cpu(per_kb_cpu_s * handed_bytes as f64 / 1024.0, mem, Component::Replay));
        }
        phases.push(Phase::cpu(episode_cpu_s, mem, Component::Execution));
        phases.extend(self.backend_commit_phase(mem));
        let requests = self.du_setup().backend.episode_requests(taken);
        phases.extend(self.backend_request_phase(requests, mem));
        phases
    }

    /// `n` blob reads of `bytes` in all, one after another.
    pub(super) fn blob_reads(&mut self, n: u32, bytes: u64) -> SimDuration {
        let storage = &self.plan.apps[AppId(0)].platform.storage;
        let mut d = SimDuration::from_secs_f64(bytes as f64 / storage.bandwidth_bytes_per_s);
        for _ in 0..n {
            d += storage.transfer_time(crate::storage::StorageOp::Get, 0, &mut self.rng);
        }
        d
    }

    /// The first Durable dispatch on a new host warms the extension up (connections to the
    /// task hub's storage, first-call code paths): a one-time CPU phase counted as cold start.
    pub(super) fn warm_up_host(&mut self, h: InstId, mem_mb: f64, phases: &mut Vec<Phase>) {
        let inst = &mut self.insts[h];
        if !inst.durable_warm {
            inst.durable_warm = true;
            let cpu_s = self.du_setup().first_dispatch_cpu_s;
            if cpu_s > 0.0 {
                phases.insert(0, Phase::cpu(cpu_s, mem_mb, Component::ColdStart).on_host());
            }
        }
    }
}
