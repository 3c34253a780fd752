//! Durable entities: one operation batch at a time per entity; keyed entities; critical sections.
//!
//! **Models.** An entity (a state object of the workflow shared by every execution, or, on
//! az-dent without a program of its own, one entity per step call) lives on the control queue
//! of its partition and runs its operations one batch at a time (up to `max_entity_batch`
//! operations): the batch loads the state (a table row, or a blob above the table-property
//! limit), runs the operations one after another (CPU per operation dispatch; a step entity's
//! `run` operation, and an operation given a step in a deployment's own program, does the
//! step's work), saves the state (every batch: DFX `TaskEntityShim` ends each with a
//! `ContinueAsNew`), and answers the callers through their orchestrations' control queues. A
//! signalled operation that ran a step then signals the step's other state updates (`set`)
//! itself, as a plain step's updates follow its work.
//! Operations that arrive while a batch runs wait for the next one: that wait is `entity` time
//! in the breakdown, which is how entity serialization shows. A step entity that has served its
//! one operation is freed.
//!
//! *Keys.* An entity is (state object, key). The execution's key of a reference
//! (`account[1]`) is drawn by [`crate::workload::entity_keys`], the same on every deployment. A
//! single-key object's entity lives for the whole run; a keyed object's entity is made when an
//! operation is sent to it and freed when it has no queued, running, deferred or in-flight
//! operation and no lock, so memory follows the entities in use, not the key space.
//!
//! *Critical sections* (`lock = [...]`, Durable Functions' `LockAsync`; AZD
//! `durable-functions-entities.md`, "Entity coordination"): the orchestration sorts the
//! entities it locks ((state object, key) order; a key drawn twice is locked once) and sends a
//! lock request to the first; an entity that is not locked takes the lock and forwards the
//! request to the next, and the last answers the orchestration (DFX `LockAsync`: the request
//! carries the sorted lock set and its position). So each lock is one message hop on a control
//! queue and one entity batch, and two sections over the same entities in any written order
//! acquire them in the same order: no deadlock. While locked, an entity runs only its holder's
//! operations; everyone else's (lock requests too) are deferred in arrival order and run after
//! the release, a one-way message the orchestration sends when its section's body ends. The
//! wait behind a lock is `entity` time in the breakdown. An execution that ends inside a section
//! (a failure) releases its locks at once (the runtime releases a failed orchestration's locks;
//! the release messages' latency is not modelled then). Lock and release are operations like
//! any other: dispatch CPU, and a state save (the lock owner is part of the entity's stored
//! state: assumed, as DFX persists its scheduler state with the entity).
//!
//! **Parameters.** `models/az-durable.toml`: `entities.operation_cpu_s` (fitted to the study's Az-Dent-above-Az-Dorch order), the
//! Python worker's per-KB JSON rate `per_history_kb_cpu_s` (fitted to SeBS-Flow's Durable chain),
//! charged for the state it deserializes with every batch and serializes back with its results,
//! `concurrency.max_entity_operation_batch`, `payload.table_property_max_kb`;
//! `models/az-storage.toml`: table latencies, blob bandwidth.
//!
//! **Scope and limits.** An entity's batch fails as a whole (every operation's execution fails).
//! A deferred operation costs nothing until it runs (DF reads it in a batch and puts it aside).
//! Lock timeouts do not exist (DF has none either).
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: two concurrent operations on one entity run
//! one after the other, the second charged entity time. `crates/platform/tests/entities.rs`: one key serializes
//! every execution (mean latency against the serial sum and the M/D/1 waiting time), 1,000 keys
//! do not; a locked entity holds another execution's operation until the release (timeline
//! order); sections locking two entities in opposite written orders all end; the keys drawn
//! are the same on every deployment.

use std::collections::VecDeque;

use sfsim_engine::SimTime;
use sfsim_workflow::EntityRef;

use super::super::{AppId, Class, Cont, EXEC_TRACK_BASE, ExecId, InvId, Phase, StrandId, World, scaled};
use super::{EntityId, EntityKind, EntitySt, InstId, Op, OpId, OpKind, OrchId, Signal, Work, mix};
use crate::error::PlatformError;
use crate::record::Component;
use crate::trace::TraceEvent;

use super::super::azure::MsgKind;

impl World<'_> {
    pub(super) fn new_step_entity(&mut self, e: ExecId) -> EntityId {
        self.du.step_entities_made += 1;
        let partition = (mix(u64::from(e.0) << 32 ^ self.du.step_entities_made) % u64::from(self.du_setup().partitions)) as u32;
        EntityId(self.du.entities.insert(EntitySt::new(partition, 1024, EntityKind::Step)))
    }

    /// The entity of execution `e`'s key of reference `r`, made if it does not exist.
    pub(super) fn entity_for(&mut self, e: ExecId, r: EntityRef) -> EntityId {
        let k = match self.entity_lookup(e, r) {
            Ok(id) => return id,
            Err(k) => k,
        };
        let parts = u64::from(self.du_setup().partitions);
        let partition = (mix((0xE17 + u64::from(k.0)) ^ ((k.1 + 1) << 32)) % parts) as u32;
        let size = self.wf.state[k.0 as usize].size_bytes;
        let id = EntityId(self.du.entities.insert(EntitySt::new(partition, size, EntityKind::Keyed { state: k.0, key: k.1 })));
        self.du.keyed.insert(k, id);
        id
    }

    /// The entity `r` of execution `e` refers to, if it exists now (a keyed entity is freed
    /// while idle and unlocked).
    fn entity_if_exists(&self, e: ExecId, r: EntityRef) -> Option<EntityId> {
        self.entity_lookup(e, r).ok()
    }

    /// The existing entity `r` of execution `e` refers to, else its (state object, key).
    fn entity_lookup(&self, e: ExecId, r: EntityRef) -> Result<EntityId, (u32, u64)> {
        if let Some(id) = self.du.pinned[r.state.0 as usize] {
            return Ok(id);
        }
        let k = (r.state.0, crate::workload::entity_key(&self.spec.streams, self.wf, e.0, r));
        self.du.keyed.get(&k).copied().ok_or(k)
    }

    /// `account[17]`: an entity's name on the timeline.
    fn entity_name(&self, entity: EntityId) -> String {
        let (st, key) = match self.du.entities[entity].kind {
            EntityKind::Step => return format!("entity {entity}"),
            EntityKind::Pinned { state } => (state, 0),
            EntityKind::Keyed { state, key } => (state, key),
        };
        format!("{}[{key}]", self.wf.state[st as usize].name)
    }

    /// A point on execution `e`'s track of the timeline.
    pub(super) fn trace_exec(&mut self, now: SimTime, e: ExecId, name: impl FnOnce() -> String) {
        if self.spec.trace {
            self.trace.push(TraceEvent::Instant { track: EXEC_TRACK_BASE + e.0, name: name(), at: now });
        }
    }

    /// Starts a critical section of `orch` (its task `task`, strand `strand`): the lock request
    /// goes to the first of the sorted entities.
    pub(super) fn request_locks(&mut self, now: SimTime, orch: OrchId, task: u32, refs: &[EntityRef], strand: StrandId, host: InstId) {
        let e = self.du.orchs[orch].exec;
        let mut keyed: Vec<((u32, u64), EntityRef)> =
            refs.iter().map(|r| ((r.state.0, crate::workload::entity_key(&self.spec.streams, self.wf, e.0, *r)), *r)).collect();
        keyed.sort_by_key(|x| x.0);
        keyed.dedup_by_key(|x| x.0);
        let locks: Vec<EntityRef> = keyed.iter().map(|(_, r)| *r).collect();
        let first = self.entity_for(e, locks[0]);
        self.du.orchs[orch].locks = locks;
        self.trace_exec(now, e, || "lock requested".into());
        let op = self.new_op(OpKind::Lock { orch, pos: 0 }, e, Some((orch, task)), Some(strand));
        self.send_entity_op(now, first, op, e, Some(strand), 256, Some(host));
    }

    /// Sends one signal of `orch`; returns the history events it adds.
    pub(super) fn send_signal(&mut self, now: SimTime, orch: OrchId, e: ExecId, sig: Signal, host: InstId) -> u32 {
        match sig {
            Signal::Op(r, kind) => {
                let entity = self.entity_for(e, r);
                let size = match kind {
                    OpKind::Set(size) => size,
                    _ => 256,
                };
                let op = self.new_op(kind, e, None, None);
                self.send_entity_op(now, entity, op, e, None, size, Some(host));
                1
            }
            Signal::ReleaseLocks => {
                let locks = std::mem::take(&mut self.du.orchs[orch].locks);
                for &r in &locks {
                    // A locked entity is never freed: the reference finds the one it holds.
                    let entity = self.entity_for(e, r);
                    let op = self.new_op(OpKind::Release { orch }, e, None, None);
                    self.send_entity_op(now, entity, op, e, None, 256, Some(host));
                }
                self.trace_exec(now, e, || "locks released".into());
                locks.len() as u32
            }
        }
    }

    /// An orchestration whose execution ended: the locks its section holds are released at once.
    pub(crate) fn durable_orch_ended(&mut self, now: SimTime, orch: OrchId) {
        let o = &mut self.du.orchs[orch];
        let (e, locks) = (o.exec, std::mem::take(&mut o.locks));
        for r in locks {
            // Entities of the set it had not reached yet may not exist (or be another's now).
            let Some(entity) = self.entity_if_exists(e, r) else { continue };
            let Some(ent) = self.du.entities.get_mut(entity.0) else { continue };
            if ent.lock == Some((e, orch)) {
                ent.lock = None;
                let held = std::mem::take(&mut ent.held);
                for op in held.into_iter().rev() {
                    ent.queue.push_front(op);
                }
                if !ent.queue.is_empty() {
                    self.make_ready(now, Work::Entity(entity));
                }
            }
        }
        self.du.free_orch(orch);
    }

    /// Takes the next batch from an entity's queue: up to `max` operations that may run now.
    /// A lock request takes the lock; a release gives it back and puts the deferred operations
    /// first in the queue again; while locked, others' operations are deferred.
    fn take_batch(&mut self, now: SimTime, entity: EntityId, max: usize) -> Vec<OpId> {
        let mut batch = Vec::new();
        while batch.len() < max {
            let Some(op) = self.du.entities[entity].queue.pop_front() else { break };
            let Op { kind, exec, reply, .. } = self.du.ops[op];
            let lock = self.du.entities[entity].lock;
            let holder = |orch: OrchId| lock == Some((exec, orch));
            let own = match kind {
                OpKind::Release { orch } | OpKind::Lock { orch, .. } => holder(orch),
                _ => reply.is_some_and(|(orch, _)| holder(orch)),
            };
            if matches!(kind, OpKind::Release { .. }) {
                if own {
                    let ent = &mut self.du.entities[entity];
                    ent.lock = None;
                    for h in std::mem::take(&mut ent.held).into_iter().rev() {
                        ent.queue.push_front(h);
                    }
                }
                batch.push(op);
                continue;
            }
            if lock.is_some() && !own {
                self.du.entities[entity].held.push_back(op);
                let name = self.entity_name(entity);
                self.trace_exec(now, exec, || format!("{name} locked: operation deferred"));
                continue;
            }
            if let OpKind::Lock { orch, .. } = kind {
                if self.exec_done(exec) {
                    self.du.ops.remove(op.0, |_| {});
                    continue; // a section whose execution ended takes no lock
                }
                self.du.entities[entity].lock = Some((exec, orch));
            }
            batch.push(op);
        }
        batch
    }

    /// An entity's batch ended: it runs its queue next, or, a step entity (az-dent) that has
    /// served its one operation, it is freed.
    ///
    /// Ending a batch can fail an execution (a payload over the limit, every operation of a
    /// batch that timed out), which releases that execution's locks and may start the entity's
    /// next batch at once: an entity that is running or waiting for a host again is not freed.
    pub(super) fn entity_batch_ended(&mut self, now: SimTime, entity: EntityId) {
        let ent = &self.du.entities[entity];
        if ent.running || ent.ready {
            return;
        }
        if !ent.queue.is_empty() {
            self.make_ready(now, Work::Entity(entity));
        } else if ent.kind == EntityKind::Step {
            self.du.entities.remove(entity.0, |x| x.queue = VecDeque::new());
        } else if let EntityKind::Keyed { state, key } = ent.kind
            && ent.lock.is_none()
            && ent.held.is_empty()
            && ent.inflight == 0
        {
            debug_assert_eq!(self.du.keyed.get(&(state, key)), Some(&entity), "a keyed entity's key maps to it");
            self.du.keyed.remove(&(state, key));
            self.du.entities.remove(entity.0, |x| {
                x.queue = VecDeque::new();
                x.held = VecDeque::new();
            });
        }
    }

    pub(super) fn start_entity_batch(&mut self, now: SimTime, entity: EntityId, h: InstId) {
        let s = self.du_setup();
        let max = s.max_entity_batch as usize;
        self.du.entities[entity].ready = false;
        let batch = self.take_batch(now, entity, max);
        if batch.is_empty() {
            // Everything waiting was deferred behind a lock (or its section ended).
            self.entity_batch_ended(now, entity);
            return;
        }
        let ent = &mut self.du.entities[entity];
        ent.running = true;
        ent.batch = batch.clone();
        let state = ent.state_bytes;
        let big_state = state > s.table_property_max_bytes;
        let mut mem = s.episode_memory_mb;
        let e = self.du.ops[batch[0]].exec;
        let mut phases = Vec::new();
        let (m, sg) = self.az_table_read();
        let mut load = self.lognormal(m, sg);
        if big_state {
            load += self.plan.apps[AppId(0)].platform.storage.transfer_time(crate::storage::StorageOp::Get, state, &mut self.rng);
        }
        let mut work = Vec::new();
        for &op in &batch {
            let o = *self.du.ops.get(op.0).expect("a batch's operations are live");
            work.push(Phase::cpu(s.entity_op_cpu_s, mem, Component::Execution));
            match o.kind {
                OpKind::Get | OpKind::Set(_) | OpKind::Lock { .. } | OpKind::Release { .. } => {}
                OpKind::Call { op, share, item } => {
                    let sigma = self.plan.apps[AppId(0)].platform.cpu_noise_sigma;
                    let cpu = crate::workload::entity_op_cpu_s(&self.spec.streams, &self.noise, self.wf, o.exec.0, op, item, sigma);
                    if cpu > 0.0 {
                        work.push(Phase::cpu(cpu, mem, Component::Execution));
                    }
                    // An operation that runs a step does the step's work inside the entity.
                    if let Some(step) = self.wf.entity_ops[op.0 as usize].step {
                        mem = mem.max(self.wf.steps[step.0 as usize].memory_mb);
                        work.extend(self.phases_of(o.exec, step, item, share, AppId(0), false));
                    }
                }
                OpKind::Run { step, share, item } => {
                    mem = mem.max(self.wf.steps[step.0 as usize].memory_mb);
                    work.extend(self.phases_of(o.exec, step, item, share, AppId(0), false));
                }
            }
        }
        phases.push(Phase::wait(load, mem, Component::Transfer).on_host());
        // The host hands the entity's serialized state to the language worker with the batch,
        // which deserializes it (azure-functions-durable-python DurableEntityContext.from_json:
        // json.loads of the state) and returns it serialized with the batch's results
        // (entity.py Entity.handle: `response.state = context._state`), whether or not an
        // operation wrote it, at the worker's per-KB JSON rate, the one its history parse is
        // charged.
        let state_cpu = state as f64 / 1024.0 * s.per_history_kb_cpu_s;
        if state_cpu > 0.0 {
            phases.push(Phase::cpu(state_cpu, mem, Component::Execution));
        }
        phases.extend(work);
        if state_cpu > 0.0 {
            phases.push(Phase::cpu(state_cpu, mem, Component::Execution));
        }
        self.count_tx(Some(e), 0, 1, u64::from(big_state), 0);
        // Every batch persists the entity: DFX TaskEntityShim.Execute ends each batch with a
        // ContinueAsNew carrying the scheduler state and the entity's state, a history write
        // (the state in a blob above the table's property limit).
        let (m, sg) = self.az_table_write();
        let mut save = self.lognormal(m, sg);
        if big_state {
            save += self.plan.apps[AppId(0)].platform.storage.transfer_time(crate::storage::StorageOp::Put, state, &mut self.rng);
        }
        phases.push(Phase::wait(save, mem, Component::Transfer).on_host());
        self.count_tx(Some(e), 0, 1, 0, u64::from(big_state));
        // Operations that waited behind a busy (or locked) entity: that wait is entity time.
        let mut strands = Vec::new();
        for &op in &batch {
            let Op { kind, exec, .. } = self.du.ops[op];
            if matches!(kind, OpKind::Call { .. } | OpKind::Lock { .. } | OpKind::Release { .. }) {
                let name = self.entity_name(entity);
                self.trace_exec(now, exec, || match kind {
                    OpKind::Call { op, .. } => format!("{name} {}", self.wf.entity_ops[op.0 as usize].op),
                    OpKind::Lock { .. } => format!("{name} lock taken"),
                    _ => format!("{name} lock released"),
                });
            }
            let st = self.du.ops[op].strand;
            if let Some(st) = st {
                self.charge(st, now, Component::Entity);
                strands.push(st);
            }
        }
        self.warm_up_host(h, mem, &mut phases);
        let v = self.new_inv(AppId(0), Class::Orchestrator, e, strands, phases, Cont::EntityBatch { entity }, now);
        let part = self.du.entities[entity].partition;
        self.start_session(now, v, part, h);
    }

    pub(crate) fn durable_entity_done(&mut self, now: SimTime, v: InvId, entity: EntityId) {
        let host = self.host_of(v);
        let batch = std::mem::take(&mut self.du.entities[entity].batch);
        self.du.entities[entity].running = false;
        for op in batch {
            let Op { kind, exec, reply, strand } = self.du.ops[op];
            self.du.ops.remove(op.0, |_| {});
            let reply_size = match kind {
                OpKind::Get => self.du.entities[entity].state_bytes,
                OpKind::Set(size) => {
                    self.du.entities[entity].state_bytes = size;
                    0
                }
                OpKind::Run { step, share, .. } => scaled(self.wf.steps[step.0 as usize].output_bytes, share),
                OpKind::Call { op, share, .. } if self.wf.entity_ops[op.0 as usize].step.is_some() => {
                    let step = self.wf.entity_ops[op.0 as usize].step.expect("checked");
                    scaled(self.wf.steps[step.0 as usize].output_bytes, share)
                }
                OpKind::Call { op, .. } if !self.wf.entity_ops[op.0 as usize].writes => self.du.entities[entity].state_bytes,
                OpKind::Call { .. } | OpKind::Release { .. } => 0,
                OpKind::Lock { orch, pos } => {
                    // Forward the request to the next entity of the sorted set, if any.
                    let next =
                        self.du.orchs.get(orch.0).filter(|_| !self.exec_done(exec)).and_then(|o| o.locks.get(pos as usize + 1)).copied();
                    if let Some(r) = next {
                        let next = self.entity_for(exec, r);
                        let id = self.new_op(OpKind::Lock { orch, pos: pos + 1 }, exec, reply, strand);
                        self.send_entity_op(now, next, id, exec, strand, 256, Some(host));
                        continue;
                    }
                    self.trace_exec(now, exec, || "locks granted".into());
                    0
                }
            };
            // A signalled operation that ran a step sends the step's other state updates
            // itself, now that its work has run (an awaited one's follow from its orchestration
            // once it has the answer): the entity's own signals, sent when its batch ends
            // (DFX TaskEntityShim sends an entity's outgoing messages with the batch's results).
            if reply.is_none()
                && let OpKind::Call { op: id, .. } = kind
            {
                self.signal_step_updates(now, exec, id, host);
            }
            if let Some((orch, task)) = reply {
                if self.exec_done(exec) || !self.check_payload(now, exec, reply_size) {
                    continue;
                }
                let rt = self.du.orchs[orch].tasks[task as usize].clone();
                if rt.worker {
                    self.worker_latency(exec, now.saturating_since(rt.scheduled).as_secs_f64());
                }
                let q = self.control_queue(self.du.orchs[orch].partition);
                self.put_message(now, q, MsgKind::Orch { orch, task: Some(task) }, exec, strand, reply_size, Some(host));
            }
        }
        self.entity_batch_ended(now, entity);
    }

    /// The `set` signals of signalled operation `op`'s step: its state updates other than the
    /// entity's own state (which the operation writes), sent from `host`.
    fn signal_step_updates(&mut self, now: SimTime, e: ExecId, op: sfsim_workflow::EntityOpId, host: InstId) {
        let o = &self.wf.entity_ops[op.0 as usize];
        let Some(s) = o.step else { return };
        let target = o.target;
        for &r in self.wf.steps[s.0 as usize].state_updates.iter().filter(|r| **r != target) {
            let size = self.wf.state[r.state.0 as usize].size_bytes;
            let entity = self.entity_for(e, r);
            let id = self.new_op(OpKind::Set(size), e, None, None);
            self.send_entity_op(now, entity, id, e, None, size, Some(host));
        }
    }

    /// An entity batch failed (timeout, out of memory): every operation in it fails its
    /// execution, and the entity goes on with its queue.
    pub(crate) fn durable_entity_failed(&mut self, now: SimTime, entity: EntityId, error: PlatformError) {
        let batch = std::mem::take(&mut self.du.entities[entity].batch);
        self.du.entities[entity].running = false;
        for op in batch {
            let exec = self.du.ops[op].exec;
            self.du.ops.remove(op.0, |_| {});
            self.fail_exec(now, exec, error.clone());
        }
        self.entity_batch_ended(now, entity);
    }
}
