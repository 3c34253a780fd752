//! Durable entities: one operation batch at a time per entity.
//!
//! **Models.** An entity (a state object of the workflow shared by every execution, or, on
//! az-dent, one entity per step call) lives on the control queue of its partition and runs
//! its operations one batch at a time (up to `max_entity_batch` operations): the batch loads
//! the state (a table row, or a blob above the table-property limit), runs the operations one
//! after another (CPU per operation dispatch; a `run` operation does the step's work), saves
//! the state when an operation wrote it, and answers the callers through their orchestrations'
//! control queues. Operations that arrive while a batch runs wait for the next one: that wait
//! is `entity` time in the breakdown, which is how entity serialization shows. A step entity
//! that has served its one operation is freed.
//!
//! **Parameters.** `models/az-durable.toml`: `entities.operation_cpu_s` (assumed),
//! `concurrency.max_entity_operation_batch`, `payload.table_property_max_kb`;
//! `models/az-storage.toml`: table latencies, blob bandwidth.
//!
//! **Scope and limits.** No critical sections (locks over several entities); an entity's
//! batch fails as a whole (every operation's execution fails).
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: two concurrent operations on one entity run
//! one after the other, the second charged entity time.

use std::collections::VecDeque;

use sfsim_engine::SimTime;

use super::super::{Class, Cont, ExecId, InvId, Phase, World, scaled};
use super::{EntitySt, InstId, Op, OpKind, Work, mix};
use crate::error::PlatformError;
use crate::record::Component;

use super::super::azure::MsgKind;

impl World<'_> {
    pub(super) fn new_step_entity(&mut self, e: ExecId) -> u32 {
        self.du.step_entities_made += 1;
        let partition = (mix(u64::from(e.0) << 32 ^ self.du.step_entities_made) % u64::from(self.du_setup().partitions)) as u32;
        self.du.entities.insert(EntitySt {
            partition,
            queue: VecDeque::new(),
            running: false,
            ready: false,
            state_bytes: 1024,
            batch: Vec::new(),
            step: true,
        })
    }

    /// An entity's batch ended: it runs its queue next, or, a step entity (az-dent) that has
    /// served its one operation, it is freed.
    pub(super) fn entity_batch_ended(&mut self, now: SimTime, entity: u32) {
        let ent = &self.du.entities[entity as usize];
        if !ent.queue.is_empty() {
            self.make_ready(now, Work::Entity(entity));
        } else if ent.step {
            self.du.entities.remove(entity, |x| x.queue = VecDeque::new());
        }
    }

    pub(super) fn start_entity_batch(&mut self, now: SimTime, entity: u32, h: InstId) {
        let s = self.du_setup();
        let max = s.max_entity_batch as usize;
        let ent = &mut self.du.entities[entity as usize];
        ent.ready = false;
        if ent.queue.is_empty() {
            return;
        }
        ent.running = true;
        let n = ent.queue.len().min(max);
        let batch: Vec<u32> = ent.queue.drain(..n).collect();
        ent.batch = batch.clone();
        let state = ent.state_bytes;
        let big_state = state > s.table_property_max_bytes;
        let mut mem = s.episode_memory_mb;
        let e = self.du.ops[batch[0] as usize].exec;
        let mut phases = Vec::new();
        let (m, sg) = self.az_table_read();
        let mut load = self.lognormal(m, sg);
        if big_state {
            load += self.plan.apps[0].platform.storage.transfer_time(crate::storage::StorageOp::Get, state, &mut self.rng);
        }
        let mut writes = false;
        let mut work = Vec::new();
        for &op in &batch {
            let o = &self.du.ops[op as usize];
            work.push(Phase::cpu(s.entity_op_cpu_s, mem, Component::Execution));
            match o.kind {
                OpKind::Get => {}
                OpKind::Set(_) => writes = true,
                OpKind::Run { step, share, item } => {
                    writes = true;
                    mem = mem.max(self.wf.steps[step.0 as usize].memory_mb);
                    work.extend(self.phases_of(o.exec, step, item, share, 0, false));
                }
            }
        }
        phases.push(Phase::wait(load, mem, Component::Transfer).on_host());
        phases.extend(work);
        self.count_tx(Some(e), 0, 1, u64::from(big_state), 0);
        if writes {
            let (m, sg) = self.az_table_write();
            let mut save = self.lognormal(m, sg);
            if big_state {
                save += self.plan.apps[0].platform.storage.transfer_time(crate::storage::StorageOp::Put, state, &mut self.rng);
            }
            phases.push(Phase::wait(save, mem, Component::Transfer).on_host());
            self.count_tx(Some(e), 0, 1, 0, u64::from(big_state));
        }
        // Operations that waited behind a busy entity: that wait is entity time.
        let mut strands = Vec::new();
        for &op in &batch {
            let st = self.du.ops[op as usize].strand;
            if let Some(st) = st {
                self.charge(st, now, Component::Entity);
                strands.push(st);
            }
        }
        self.warm_up_host(h, mem, &mut phases);
        let v = self.new_inv(0, Class::Orchestrator, e, strands, phases, Cont::EntityBatch { entity }, now);
        self.start_on(now, v, h, false);
    }

    pub(crate) fn durable_entity_done(&mut self, now: SimTime, v: InvId, entity: u32) {
        let host = self.host_of(v);
        let batch = std::mem::take(&mut self.du.entities[entity as usize].batch);
        self.du.entities[entity as usize].running = false;
        for op in batch {
            let Op { kind, exec, reply, strand } = self.du.ops[op as usize];
            self.du.ops.remove(op, |_| {});
            let reply_size = match kind {
                OpKind::Get => self.du.entities[entity as usize].state_bytes,
                OpKind::Set(size) => {
                    self.du.entities[entity as usize].state_bytes = size;
                    0
                }
                OpKind::Run { step, share, .. } => scaled(self.wf.steps[step.0 as usize].output_bytes, share),
            };
            if let Some((orch, task)) = reply {
                if self.exec_done(exec) || !self.check_payload(now, exec, reply_size) {
                    continue;
                }
                let rt = self.du.orchs[orch as usize].tasks[task as usize].clone();
                if rt.worker {
                    self.worker_latency(exec, now.saturating_since(rt.scheduled).as_secs_f64());
                }
                let q = self.control_queue(self.du.orchs[orch as usize].partition);
                self.put_message(now, q, MsgKind::Orch { orch, task: Some(task) }, exec, strand, reply_size, Some(host));
            }
        }
        self.entity_batch_ended(now, entity);
    }

    /// An entity batch failed (timeout, out of memory): every operation in it fails its
    /// execution, and the entity goes on with its queue.
    pub(crate) fn durable_entity_failed(&mut self, now: SimTime, entity: u32, error: PlatformError) {
        let batch = std::mem::take(&mut self.du.entities[entity as usize].batch);
        self.du.entities[entity as usize].running = false;
        for op in batch {
            let exec = self.du.ops[op as usize].exec;
            self.du.ops.remove(op, |_| {});
            self.fail_exec(now, exec, error.clone());
        }
        self.entity_batch_ended(now, entity);
    }
}
