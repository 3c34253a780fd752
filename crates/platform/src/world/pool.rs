//! The instance pool every driver's invocations go through.
//!
//! **Models.** Per app: instances with a CPU share and execution slots per class of function
//! (HTTP/queue functions and Lambda tasks, Durable orchestrators and entities, activities),
//! cold starts ([`crate::coldstart`]: runtime start, package load, init), warm reuse of the most
//! recently freed instance, keep-alive expiry, and the Python worker's thread pool on Azure
//! hosts (an invocation with a slot but no thread waits FIFO; the wait is execution in the
//! breakdown; the timeout does not run, nor the memory meter unless
//! `billing.meter_worker_wait`). Scale-out: Lambda creates an instance per request while the
//! account's concurrency allows ([`crate::scaling::LambdaScaler`], burst then linear) and
//! otherwise refuses it (`PlatformError::Throttled`, whichever driver invoked); Azure queues HTTP requests at the
//! front end and adds hosts at the HTTP pace ([`crate::scaling::HostScaler`]; queue-driven
//! scale-out is the scale controller's, in [`super::azure`]). An invocation runs its phases:
//! CPU work on the instance's shared CPU ([`crate::cpu`], processor sharing) and fixed waits
//! (I/O, storage transfers). A step's `first_call_cpu_s` (the imports and clients a handler
//! makes on its first call) is CPU work its function does on an instance only once: when an
//! invocation is dispatched the pool keeps it for the instance's first call of that function and
//! drops it otherwise (`resolve_first_calls`; on Azure hosts once per function, on Lambda once
//! per sandbox; a restarted language worker keeps its imports, a limit). Failures: a timeout or an out-of-memory step aborts the invocation
//! with the platform's error and recycles the instance once it is idle. Billing
//! ([`crate::billing`]): Lambda bills each invocation's configured memory and rounded duration;
//! Azure meters the host's observed memory, shared among the invocations running at once.
//!
//! **Parameters.** Each app's [`crate::FunctionPlatform`] (from `models/aws-lambda.toml`,
//! `models/az-func.toml` and the scenario's `[deployment.<name>]`) and its slots per class.
//!
//! **Scope and limits.** Requests go to the most recently freed instance; no network latency
//! between client and platform; throttled calls are not retried by the pool (a Step Functions
//! Retry may).
//!
//! **Validation.** `crates/platform/tests/stateless_lifecycle.rs` (warm reuse, keep-alive,
//! throttling, payload and timeout failures, processor sharing, the thread pool), the queueing
//! oracles of `tests/queueing_oracle.rs`, the golden timelines of `tests/golden/`,
//! `tests/first_call.rs` (a first call paid once per instance and function, at the share).

use sfsim_engine::{SimDuration, SimTime};

use super::*;
use crate::billing::Cost;
use crate::cpu::CpuShare;
use crate::error::PlatformError;
use crate::record::Component;
use crate::scaling::HostDecision;
use crate::storage::StorageOp;
use crate::trace::TraceEvent;

impl World<'_> {
    /// Creates an invocation (not yet dispatched).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_inv(
        &mut self,
        app: AppId,
        class: Class,
        exec: ExecId,
        strands: Vec<StrandId>,
        phases: Vec<Phase>,
        cont: Cont,
        now: SimTime,
    ) -> InvId {
        let inv = Inv {
            app,
            class,
            exec,
            strands,
            phases,
            next: 0,
            instance: None,
            slot: 0,
            status: InvStatus::Waiting,
            wait_since: now,
            assigned_at: now,
            start: now,
            phase_start: now,
            cold: false,
            mem_mb_s: 0.0,
            timeout_gen: 0,
            cont,
            bd: Breakdown::default(),
            gets: 0,
            puts: 0,
            cur_mem_mb: 0.0,
            metered_mb_s: 0.0,
            phase_key: None,
            host_prefix: 0,
            host_suffix: 0,
            holds_thread: false,
            code_started: false,
            thread_waited: SimDuration::ZERO,
            dispatched: now,
            session: None,
        };
        if let Some(id) = self.inv_free.pop() {
            self.invs[id] = inv;
            id
        } else {
            self.invs.push(inv);
            InvId((self.invs.len() - 1) as u32)
        }
    }

    pub(crate) fn free_inv(&mut self, v: InvId) {
        let inv = &mut self.invs[v];
        inv.phases = Vec::new();
        inv.strands = Vec::new();
        inv.status = InvStatus::Done;
        self.inv_free.push(v);
    }

    /// Sends an invocation to its app the way an HTTP request or a synchronous Lambda invoke
    /// arrives: a free slot, else a new instance (Lambda) or the front-end queue (Azure).
    pub(crate) fn invoke(&mut self, now: SimTime, v: InvId) {
        let app = self.invs[v].app;
        let class = self.invs[v].class;
        if let Some(i) = self.take_free_slot(app, class) {
            self.start_on(now, v, i, false);
            return;
        }
        if self.plan.apps[app].lambda {
            // Concurrency is an account limit, shared by every function of the deployment.
            let in_flight = self.lambda_in_flight;
            // The account's allowance exists whenever a Lambda app does.
            let allowed = self.lambda_account.as_mut().map_or(0, |s| s.allowed(now, in_flight));
            if in_flight < allowed {
                let i = self.new_instance(now, app);
                self.assign_to_starting(now, v, i);
            } else {
                let err = PlatformError::Throttled(self.plan.apps[app].platform.throttle_error);
                self.on_inv_failed(now, v, err);
            }
            return;
        }
        let inv = &mut self.invs[v];
        inv.status = InvStatus::Waiting;
        inv.wait_since = now;
        self.apps[app].waiting.push_back(v);
        self.scale_http(now, app);
    }

    /// The most recently freed instance of `app` with a free slot of `class`. The free list
    /// is a stack: instances that can take nothing (gone, recycled, every slot busy) are
    /// dropped from its top as they are met and pushed again when a slot frees.
    pub(crate) fn take_free_slot(&mut self, app: AppId, class: Class) -> Option<InstId> {
        let slots = self.plan.apps[app].slots;
        while let Some(&i) = self.apps[app].free.last() {
            let inst = &self.insts[i];
            let full = (0..3).all(|c| inst.busy[c] >= slots[c]);
            if inst.alive && inst.ready && !inst.poisoned && !inst.draining && !full {
                break;
            }
            self.apps[app].free.pop();
            self.insts[i].in_free = false;
        }
        let a = &self.apps[app];
        a.free.iter().rev().copied().find(|&i| self.has_room(i, class))
    }

    /// Whether host `i` can start one more invocation of `class` now.
    pub(crate) fn has_room(&self, i: InstId, class: Class) -> bool {
        let inst = &self.insts[i];
        self.has_room_ignoring_slots(i) && inst.busy[class as usize] < self.plan.apps[inst.app].slots[class as usize]
    }

    /// Whether host `i` takes work at all (alive, ready, not poisoned, not scaled in), whatever
    /// its slots.
    #[inline]
    pub(crate) fn has_room_ignoring_slots(&self, i: InstId) -> bool {
        let inst = &self.insts[i];
        inst.alive && inst.ready && !inst.poisoned && !inst.draining
    }

    pub(crate) fn starting_room(&self, app: AppId) -> usize {
        let slots = self.plan.apps[app].slots[Class::Function as usize] as usize;
        self.apps[app].starting.iter().map(|&i| slots.saturating_sub(self.insts[i].busy[0] as usize)).sum()
    }

    /// Azure HTTP demand: while more requests wait than starting hosts can take, add hosts at
    /// the HTTP pace.
    pub(crate) fn scale_http(&mut self, now: SimTime, app: AppId) {
        let interval = self.plan.apps[app].http_interval;
        while self.apps[app].waiting.len() > self.starting_room(app) {
            let alive = self.apps[app].alive;
            let Some(s) = self.apps[app].hosts.as_mut() else {
                return;
            };
            match s.request_with(now, alive, interval) {
                HostDecision::Add => {
                    self.new_instance(now, app);
                }
                HostDecision::RetryAt(t) => {
                    if !self.apps[app].tick_pending {
                        self.apps[app].tick_pending = true;
                        self.q.schedule(t, Ev::ScaleTick(app));
                    }
                    return;
                }
                HostDecision::AtCap => return,
            }
        }
    }

    /// Azure Flex and Premium: the always-ready instances of every app exist from the start,
    /// warm (no cold start; no random draw, so other draws are unchanged), and are never
    /// reclaimed.
    pub(crate) fn init_always_ready(&mut self) {
        for app in (0..self.plan.apps.len() as u16).map(AppId) {
            for _ in 0..self.plan.apps[app].platform.always_ready {
                let i = self.create_instance(SimTime::ZERO, app, SimDuration::ZERO);
                self.insts[i].always_ready = true;
            }
        }
    }

    /// Instance time billed whatever the load over the run (dollars) and the seconds those
    /// instances existed.
    pub(crate) fn instance_time(&self, end: SimTime) -> (f64, f64) {
        let (mut usd, mut secs) = (0.0, 0.0);
        for inst in &self.insts {
            let billing = &self.plan.apps[inst.app].platform.billing;
            let alive = inst.gone.unwrap_or(end).saturating_since(inst.created);
            let c = billing.instance_usd(alive, inst.always_ready);
            if c > 0.0 {
                usd += c;
                secs += alive.as_secs_f64();
            }
        }
        (usd, secs)
    }

    /// Creates an instance of `app` (cold start begins now).
    pub(crate) fn new_instance(&mut self, now: SimTime, app: AppId) -> InstId {
        let delay = self.plan.apps[app].platform.cold_start.sample(&mut self.cold_rng);
        self.create_instance(now, app, delay)
    }

    /// Creates an instance of `app` that is ready `delay` from now.
    fn create_instance(&mut self, now: SimTime, app: AppId, delay: SimDuration) -> InstId {
        let p = &self.plan.apps[app].platform;
        let id = InstId(self.insts.len() as u32);
        self.insts.push(Inst {
            app,
            alive: true,
            ready: false,
            busy: [0; 3],
            slots_used: 0,
            cpu: CpuShare::with_speed(p.cpu_capacity_vcpu, p.task_max_vcpu, p.cpu_speed).with_bandwidth(
                p.cpu_period_s,
                now,
                p.visible_vcpus,
            ),
            cpu_token: 0,
            keep_alive_gen: 0,
            idle_since: None,
            assigned: Vec::new(),
            created: now,
            poisoned: false,
            first_calls: Vec::new(),
            worker_restarts: 0,
            draining: false,
            leaving: false,
            in_free: false,
            pollers: Vec::new(),
            meter_running: Vec::new(),
            meter_mem_mb: 0.0,
            meter_last: now,
            durable_warm: false,
            threads_busy: 0,
            thread_wait: VecDeque::new(),
            always_ready: false,
            gone: None,
            active_since: now,
        });
        let lambda = self.plan.apps[app].lambda;
        let a = &mut self.apps[app];
        if !lambda {
            // Lambda needs neither list: an instance is created for the request it serves.
            a.instances.push(id);
            a.starting.push(id);
        }
        a.alive += 1;
        a.started += 1;
        a.peak = a.peak.max(a.alive);
        self.q.schedule(now + delay, Ev::Ready(id));
        if self.spec.trace {
            let name = &self.plan.apps[app].name;
            for slot in 0..self.total_slots(app).min(64) {
                let track = self.track(id, slot);
                self.trace.push(TraceEvent::TrackName { track, name: format!("{name} instance {} slot {slot}", id.0) });
            }
            let track = self.track(id, 0);
            self.trace.push(TraceEvent::Slice {
                track,
                name: "cold start".into(),
                cat: "cold_start",
                start: now,
                end: now + delay,
                exec: None,
            });
            let alive = self.apps[app].alive;
            self.trace.push(TraceEvent::Counter { name: "instances", at: now, value: f64::from(alive) });
        }
        id
    }

    pub(crate) fn claim_in_flight(&mut self, app: AppId) {
        self.apps[app].in_flight += 1;
        if self.plan.apps[app].lambda {
            self.lambda_in_flight += 1;
        }
    }

    pub(crate) fn total_slots(&self, app: AppId) -> u32 {
        self.plan.apps[app].slots.iter().sum()
    }

    pub(crate) fn track(&self, inst: InstId, slot: u32) -> u32 {
        1 + inst.0 * 64 + slot
    }

    /// When tracing, an instant named `name()` on host `inst`'s first track (the name is built
    /// only then).
    pub(crate) fn host_instant(&mut self, inst: InstId, now: SimTime, name: impl FnOnce() -> String) {
        if self.spec.trace {
            let track = self.track(inst, 0);
            self.trace.push(TraceEvent::Instant { track, name: name(), at: now });
        }
    }

    pub(crate) fn claim_slot(&mut self, i: InstId, class: Class) -> u32 {
        let inst = &mut self.insts[i];
        let slot = (!inst.slots_used).trailing_zeros().min(63);
        inst.slots_used |= 1 << slot;
        inst.busy[class as usize] += 1;
        if inst.idle_since.take().is_some() {
            inst.keep_alive_gen += 1;
        }
        slot
    }

    pub(crate) fn assign_to_starting(&mut self, now: SimTime, v: InvId, i: InstId) {
        let class = self.invs[v].class;
        let slot = self.claim_slot(i, class);
        let app = self.insts[i].app;
        self.claim_in_flight(app);
        self.insts[i].assigned.push(v);
        let inv = &mut self.invs[v];
        inv.bd.add(Component::Queue, now.saturating_since(inv.wait_since));
        inv.status = InvStatus::Starting;
        inv.instance = Some(i);
        inv.slot = slot;
        inv.cold = true;
        inv.assigned_at = now;
    }

    /// Starts invocation `v` on a free slot of ready instance `i`. `fresh`: the instance just
    /// finished its cold start, so the part of the wait that overlapped it is cold start.
    pub(crate) fn start_on(&mut self, now: SimTime, v: InvId, i: InstId, fresh: bool) {
        if let Some(since) = self.insts[i].idle_since {
            self.trace_idle(i, since, now);
        }
        let class = self.invs[v].class;
        let slot = self.claim_slot(i, class);
        let app = self.insts[i].app;
        self.claim_in_flight(app);
        let created = self.insts[i].created;
        let inv = &mut self.invs[v];
        let waited = now.saturating_since(inv.wait_since);
        if fresh {
            let cold = waited.min(now.saturating_since(created));
            inv.bd.add(Component::ColdStart, cold);
            inv.bd.add(Component::Queue, waited.saturating_sub(cold));
            inv.cold = true;
        } else {
            inv.bd.add(Component::Queue, waited);
        }
        inv.instance = Some(i);
        inv.slot = slot;
        self.begin(now, v);
    }

    pub(crate) fn on_ready(&mut self, now: SimTime, i: InstId) {
        let app = self.insts[i].app;
        if !self.plan.apps[app].lambda {
            self.apps[app].starting.retain(|&s| s != i);
        }
        let assigned = std::mem::take(&mut self.insts[i].assigned);
        self.insts[i].ready = true;
        for v in assigned {
            let inv = &mut self.invs[v];
            inv.bd.add(Component::ColdStart, now.saturating_since(inv.assigned_at));
            self.begin(now, v);
        }
        if self.uses_queues() {
            self.azure_host_ready(now, i);
        }
        self.release_capacity(now, i, true);
    }

    /// The invocation is on its instance: it runs now if the worker has a free thread, else it
    /// waits for one (Azure's Python worker runs `python_thread_pool` invocations at once; the
    /// host's execution slot stays taken). The host has dispatched it, so the platform reports
    /// the wait as execution time (the study's breakdowns come from Application Insights), but
    /// the process memory meter does not run for it: its code has not started.
    pub(crate) fn begin(&mut self, now: SimTime, v: InvId) {
        let i = self.host_of(v);
        let app = self.insts[i].app;
        let threads = self.plan.apps[app].platform.code_threads;
        // The host's own leading and trailing phases (history load, message blobs, checkpoint)
        // run without a worker thread; the language worker's part holds one.
        self.invs[v].dispatched = now;
        if self.plan.apps[app].platform.meter_worker_wait {
            // The meter runs from the dispatch: the execution's start and end are the host's.
            let i = self.host_of(v);
            self.meter(i, now);
            self.insts[i].meter_running.push(v);
        }
        self.resolve_first_calls(v, i);
        let inv = &mut self.invs[v];
        if threads > 0 {
            let n = inv.phases.len();
            let prefix = inv.phases.iter().take_while(|p| p.host).count();
            let suffix = if prefix == n { 0 } else { inv.phases.iter().rev().take_while(|p| p.host).count() };
            inv.host_prefix = prefix as u16;
            inv.host_suffix = suffix as u16;
            if prefix > 0 {
                self.run_code(now, v);
                return;
            }
        }
        self.host_dispatched(now, v);
        if !self.take_thread(now, v) {
            return;
        }
        self.run_code(now, v);
    }

    /// Keeps invocation `v`'s first-call work (`PhaseKind::FirstCallCpu`) for the functions
    /// instance `i` has not yet run, and records them as run; drops it for the others. Called
    /// when `v` is dispatched to `i`, before any of its phases starts.
    fn resolve_first_calls(&mut self, v: InvId, i: InstId) {
        let inst = &mut self.insts[i];
        if !self.invs[v].phases.iter().any(|p| first_call_of(p).is_some()) {
            return;
        }
        // A first call's phases come in a run (the connection's wait, then its CPU): a phase
        // continuing the run of the phase before it shares its fate.
        let mut kept: Vec<u32> = Vec::new();
        let mut last: Option<(u32, bool)> = None;
        self.invs[v].phases.retain(|p| match first_call_of(p) {
            Some(f) => {
                let keep = match last {
                    Some((g, k)) if g == f => k,
                    _ => !inst.first_calls.contains(&f) && !kept.contains(&f),
                };
                if keep && !kept.contains(&f) {
                    kept.push(f);
                }
                last = Some((f, keep));
                keep
            }
            None => {
                last = None;
                true
            }
        });
        inst.first_calls.extend(kept);
    }

    /// Takes a worker thread for invocation `v` on its host, or queues it (FIFO) for one.
    /// Returns whether it has the thread now.
    fn take_thread(&mut self, now: SimTime, v: InvId) -> bool {
        let i = self.host_of(v);
        let p = &self.plan.apps[self.insts[i].app].platform;
        let (threads, wait_billed) = (p.code_threads, p.meter_worker_wait);
        let inst = &mut self.insts[i];
        // A worker restarting after a function timeout runs nothing until it is back.
        if threads > 0 && (inst.threads_busy >= threads || inst.worker_restarting()) {
            inst.thread_wait.push_back(v);
            let inv = &mut self.invs[v];
            inv.wait_since = now;
            inv.status = InvStatus::Waiting;
            if inv.code_started {
                // The memory meter stops for it while it waits, as before its code started.
                // (Its own memory leaves the process; a meter that bills the wait runs on.)
                let mem = std::mem::take(&mut inv.cur_mem_mb);
                self.meter(i, now);
                let inst = &mut self.insts[i];
                if !wait_billed {
                    inst.meter_running.retain(|&x| x != v);
                }
                inst.meter_mem_mb -= mem;
            }
            return false;
        }
        inst.threads_busy += 1;
        self.invs[v].holds_thread = true;
        true
    }

    /// Drops invocation `v`, dispatched to its host and waiting there for a worker thread, as
    /// if the host had never taken it: its slot is freed and nothing is billed (its code never
    /// ran). Returns its strands and when the host took it, for the caller to put the work
    /// back.
    pub(crate) fn drop_waiting(&mut self, now: SimTime, v: InvId) -> (Vec<StrandId>, SimTime) {
        let i = self.host_of(v);
        debug_assert_eq!(self.invs[v].status, InvStatus::Waiting);
        self.insts[i].thread_wait.retain(|&x| x != v);
        if self.plan.apps[self.insts[i].app].platform.meter_worker_wait {
            self.meter(i, now);
            let mem = self.invs[v].cur_mem_mb;
            let inst = &mut self.insts[i];
            inst.meter_running.retain(|&x| x != v);
            inst.meter_mem_mb -= mem;
        }
        let inv = &mut self.invs[v];
        inv.timeout_gen = 0;
        let (class, slot, app, taken) = (inv.class, inv.slot, inv.app, inv.dispatched);
        let strands = std::mem::take(&mut inv.strands);
        if self.spec.trace {
            let track = self.track(i, slot);
            let name = format!(
                "{} (exec {}) waits for the Python thread; dropped: its host was scaled in",
                self.describe(self.invs[v].cont),
                self.invs[v].exec
            );
            let since = self.invs[v].wait_since;
            self.trace.push(TraceEvent::Slice { track, name, cat: "thread wait", start: since, end: now, exec: Some(self.invs[v].exec.0) });
        }
        let inst = &mut self.insts[i];
        inst.busy[class as usize] -= 1;
        inst.slots_used &= !(1u64 << slot);
        self.apps[app].in_flight -= 1;
        self.session_end(now, v, i);
        self.free_inv(v);
        (strands, taken)
    }

    /// A worker thread freed on instance `i`: the next waiting invocation takes it.
    pub(crate) fn thread_freed(&mut self, now: SimTime, i: InstId) {
        let inst = &mut self.insts[i];
        inst.threads_busy -= 1;
        if inst.worker_restarting() {
            return;
        }
        if let Some(v) = inst.thread_wait.pop_front() {
            inst.threads_busy += 1;
            let inv = &mut self.invs[v];
            inv.holds_thread = true;
            let since = inv.wait_since;
            inv.bd.add(Component::Execution, now.saturating_since(since));
            if self.spec.trace {
                // On the timeline: the invocation held its slot but waited for the thread.
                let (slot, exec, cont) = (inv.slot, inv.exec, inv.cont);
                let track = self.track(i, slot);
                let name = format!("{} (exec {exec}) waits for the Python thread", self.describe(cont));
                self.trace.push(TraceEvent::Slice { track, name, cat: "thread wait", start: since, end: now, exec: Some(exec.0) });
            }
            if self.invs[v].code_started {
                // The host's part ran; the worker's part starts.
                let inv = &mut self.invs[v];
                inv.status = InvStatus::Running;
                inv.thread_waited += now.saturating_since(since);
                if !self.plan.apps[self.insts[i].app].platform.meter_worker_wait {
                    self.meter(i, now);
                    self.insts[i].meter_running.push(v);
                }
                self.worker_started(now, v);
                self.start_phase(now, v);
            } else {
                self.run_code(now, v);
            }
        }
    }

    pub(crate) fn run_code(&mut self, now: SimTime, v: InvId) {
        let inv = &mut self.invs[v];
        inv.status = InvStatus::Running;
        inv.start = now;
        if inv.cold {
            let e = inv.exec;
            if let Some(x) = self.execs.get_mut(e) {
                x.cold = true;
            }
        }
        inv.code_started = true;
        if inv.host_prefix == 0 {
            self.worker_started(now, v);
        } else if usize::from(inv.host_prefix) == inv.phases.len() {
            // Every phase on the host: no worker part to wait for.
            self.arm_timeout(now, v);
        }
        let (e, cont) = (self.invs[v].exec, self.invs[v].cont);
        if !matches!(cont, Cont::Starter { .. })
            && let Some(x) = self.execs.get_mut(e)
        {
            x.first_start.get_or_insert(now);
        }
        let i = self.host_of(v);
        if !self.plan.apps[self.insts[i].app].platform.meter_worker_wait {
            self.meter(i, now);
            self.insts[i].meter_running.push(v);
        }
        self.start_phase(now, v);
    }

    /// The host hands the invocation to the language worker (its own leading part, such as a
    /// Durable message's blob, is done): the Durable extension logs the activity's
    /// `FunctionStarting` here (DFX `TaskActivityShim.RunAsync` traces it before calling the
    /// function executor, which sends the invocation to the out-of-process worker), so a Durable
    /// fan-out worker's scheduling delay, as Application Insights shows it, ends here, before
    /// any wait for the Python worker's thread.
    fn host_dispatched(&mut self, now: SimTime, v: InvId) {
        if self.plan.apps[self.invs[v].app].platform.timeout_from_dispatch {
            self.arm_timeout(now, v);
        }
        if let c @ Cont::Activity { .. } = self.invs[v].cont {
            let exec = self.invs[v].exec;
            self.durable_activity_dispatched(now, exec, c);
        }
    }

    /// Starts invocation `v`'s function timeout, once. By default it runs from the worker's
    /// start of the code, not while a dispatched invocation waits for the Python worker's
    /// thread (before its code, or after its host's leading phases, as an orchestrator episode
    /// does after loading its history); with `function.timeout_from_dispatch` (the documented
    /// behaviour, azure-functions-host #8720) it runs from the host's dispatch to the worker
    /// (`host_dispatched`). An invocation whose phases all run on the host (a Python app's
    /// Durable HTTP starter) and one on a runtime without a worker to wait for (.NET) are timed
    /// from their start. The default is assumed, against the documents, because a timeout from
    /// the dispatch fails every one of SeBS-Flow's 32 1000-genome Azure executions, which all
    /// completed (models/az-func.toml; calibration/README.md, sessions 18 and 24).
    fn arm_timeout(&mut self, now: SimTime, v: InvId) {
        if self.invs[v].timeout_gen != 0 {
            return;
        }
        let app = self.invs[v].app;
        let timeout = self.plan.apps[app].platform.timeout;
        self.timer_gen = self.timer_gen.wrapping_add(1).max(1);
        self.invs[v].timeout_gen = self.timer_gen;
        if self.apps[app].timeouts.push(now + timeout, v.0, self.timer_gen) {
            self.q.schedule(now + timeout, Ev::TimeoutsDue(app));
        }
    }

    /// The function's own code starts (the worker's part of the invocation): a workflow
    /// function's hop ends here, and a fan-out worker's scheduling delay (apart from Durable
    /// activities, whose delay ends at the host's dispatch, `host_dispatched`).
    fn worker_started(&mut self, now: SimTime, v: InvId) {
        self.arm_timeout(now, v);
        let inv = &mut self.invs[v];
        let exec = inv.exec;
        if inv.cont.is_workflow_function() {
            let strands = std::mem::take(&mut inv.strands);
            self.function_hop(&strands, now, true);
            self.invs[v].strands = strands;
        } else if inv.cont == Cont::Single {
            // The whole workflow in one function: its code's span is the execution's function
            // span (no hop, so no chain gap).
            self.function_span_mark(exec, now, true);
        }
        match self.invs[v].cont {
            Cont::StepTask { run } => self.step_worker_started(now, exec, run),
            c @ Cont::Episode { .. } => self.durable_code_started(now, exec, c),
            _ => {}
        }
    }

    pub(crate) fn start_phase(&mut self, now: SimTime, v: InvId) {
        let host = self.host_of(v);
        let inv = &mut self.invs[v];
        let n = inv.phases.len();
        if inv.host_prefix > 0 && inv.next == usize::from(inv.host_prefix) && !inv.holds_thread && inv.next < n {
            // The host's part is done: the worker's part needs a thread.
            inv.host_prefix = 0;
            self.host_dispatched(now, v);
            if !self.take_thread(now, v) {
                return;
            }
            self.worker_started(now, v);
        }
        let inv = &mut self.invs[v];
        if inv.holds_thread && inv.host_suffix > 0 && inv.next == n - usize::from(inv.host_suffix) {
            // The worker's part is done: its thread goes to the next invocation waiting.
            inv.holds_thread = false;
            inv.host_suffix = 0;
            self.thread_freed(now, host);
        }
        let inv = &mut self.invs[v];
        if inv.next == inv.phases.len() {
            self.finish_inv(now, v, None);
            return;
        }
        let previous_start = inv.phase_start;
        inv.phase_start = now;
        let idx = inv.next as u32;
        let ph = inv.phases[inv.next];
        let p = &self.plan.apps[inv.app].platform;
        if p.runtime_memory_mb + f64::from(ph.memory_mb) > p.memory_limit_mb {
            let err = PlatformError::OutOfMemory(p.oom_error);
            self.abort(now, v, err, false);
            return;
        }
        let i = host;
        let delta = f64::from(ph.memory_mb) - inv.cur_mem_mb;
        inv.cur_mem_mb = f64::from(ph.memory_mb);
        self.meter(i, now);
        self.insts[i].meter_mem_mb += delta;
        match ph.kind {
            PhaseKind::Cpu(work) | PhaseKind::FirstCallCpu { work, .. } => {
                self.insts[i].cpu.add_threads(now, v.0, work, (ph.threads > 0).then_some(ph.threads));
                self.reschedule_cpu(i);
            }
            PhaseKind::Wait(d) | PhaseKind::FirstCallWait { wait: d, .. } => {
                let key = self.q.schedule(now + d, Ev::PhaseDone(v, idx));
                self.invs[v].phase_key = Some(key);
            }
            PhaseKind::NetworkRest(network) => {
                // The client's CPU phase, just done, overlapped the network's time.
                let d = network.saturating_sub(now.saturating_since(previous_start));
                let key = self.q.schedule(now + d, Ev::PhaseDone(v, idx));
                self.invs[v].phase_key = Some(key);
            }
        }
    }

    pub(crate) fn reschedule_cpu(&mut self, i: InstId) {
        let inst = &mut self.insts[i];
        inst.cpu_token += 1;
        if let Some((t, _)) = inst.cpu.next_completion() {
            let token = inst.cpu_token;
            self.q.schedule(t, Ev::CpuDone(i, token));
        }
    }

    pub(crate) fn on_cpu_done(&mut self, now: SimTime, i: InstId, token: u64) {
        let inst = &mut self.insts[i];
        if inst.cpu_token != token {
            return;
        }
        let owner = inst.cpu.completing_owner().expect("a CPU completion event implies a computing invocation");
        inst.cpu.remove(now, owner);
        self.reschedule_cpu(i);
        let owner = InvId(owner);
        let idx = self.invs[owner].next as u32;
        self.on_phase_done(now, owner, idx);
    }

    pub(crate) fn account_phase(&mut self, now: SimTime, v: InvId) {
        let host = self.host_of(v);
        let inv = &mut self.invs[v];
        let ph = inv.phases[inv.next];
        let runtime_mb = self.plan.apps[inv.app].platform.runtime_memory_mb;
        let d = now.saturating_since(inv.phase_start);
        inv.mem_mb_s += d.as_secs_f64() * (runtime_mb + f64::from(ph.memory_mb));
        inv.bd.add(ph.comp, d);
        match ph.storage {
            Some(StorageOp::Get) => inv.gets += 1,
            Some(StorageOp::Put) => inv.puts += 1,
            None => {}
        }
        if self.spec.trace {
            let name = match (ph.kind, ph.storage, ph.comp) {
                (_, Some(StorageOp::Get), _) => "storage read",
                (_, Some(StorageOp::Put), _) => "storage write",
                (_, None, Component::Replay) => "replay",
                (PhaseKind::FirstCallCpu { function: STORE_CONNECTION, .. } | PhaseKind::FirstCallWait { .. }, _, _) => {
                    "storage connection (first request)"
                }
                (PhaseKind::FirstCallCpu { .. }, _, _) => "first call (imports, clients)",
                (PhaseKind::Cpu(_), _, Component::Transfer) => "storage client cpu",
                (PhaseKind::NetworkRest(_), _, _) => "storage network (rest)",
                (PhaseKind::Cpu(_), _, _) => "cpu",
                (PhaseKind::Wait(_), _, Component::Transfer) => "state / history I/O",
                (PhaseKind::Wait(_), _, _) => "io",
            };
            let (start, inst, slot, exec) = (inv.phase_start, host, inv.slot, inv.exec);
            let track = self.track(inst, slot);
            self.trace.push(TraceEvent::Slice { track, name: name.into(), cat: "phase", start, end: now, exec: Some(exec.0) });
        }
    }

    pub(crate) fn on_phase_done(&mut self, now: SimTime, v: InvId, idx: u32) {
        let inv = &self.invs[v];
        if inv.status != InvStatus::Running || inv.next as u32 != idx {
            return;
        }
        self.account_phase(now, v);
        let inv = &mut self.invs[v];
        inv.phase_key = None;
        inv.next += 1;
        self.start_phase(now, v);
    }

    pub(crate) fn on_timeout(&mut self, now: SimTime, v: InvId) {
        let app = self.invs[v].app;
        let err = PlatformError::Timeout(self.plan.apps[app].platform.timeout_error);
        if self.plan.apps[app].platform.timeout_restarts_worker {
            match self.invs[v].status {
                // At the worker (running on its thread, or waiting for one): the worker restarts.
                InvStatus::Waiting => self.restart_worker(now, self.host_of(v), err),
                InvStatus::Running if self.invs[v].holds_thread => self.restart_worker(now, self.host_of(v), err),
                // In the host's own phases: it fails alone (the host finds no worker running it,
                // azure-functions-host PR #6072).
                InvStatus::Running => self.terminate(now, v, err, true),
                _ => {}
            }
            return;
        }
        match self.invs[v].status {
            InvStatus::Running => self.abort(now, v, err, true),
            // Timed out while waiting for the worker's thread (the timer runs from the dispatch,
            // `function.timeout_from_dispatch`): the host is recycled all the same.
            InvStatus::Waiting => {
                let i = self.host_of(v);
                self.insts[i].poisoned = true;
                self.end_waiting(now, v, err, None);
            }
            _ => {}
        }
    }

    /// Ends invocation `v`, waiting for its host's worker thread, with `error`. Its wait shows
    /// as its run, as Application Insights shows it and as for an invocation that got the
    /// thread (`thread_freed`); its code's phase never started, and the wait is billed only
    /// where the meter bills it.
    ///
    /// `what`: its description for the timeline, when the caller took it before ending other
    /// invocations (an activity's step is looked up through its orchestration, which the first
    /// failure of its execution frees).
    fn end_waiting(&mut self, now: SimTime, v: InvId, error: PlatformError, what: Option<String>) {
        if self.spec.trace {
            let inv = &self.invs[v];
            let (slot, exec, cont, since) = (inv.slot, inv.exec, inv.cont, inv.wait_since);
            let track = self.track(self.host_of(v), slot);
            let what = what.unwrap_or_else(|| self.describe(cont));
            let name = format!("{what} (exec {exec}) waits for the Python thread; ended: {error}");
            self.trace.push(TraceEvent::Slice { track, name, cat: "thread wait", start: since, end: now, exec: Some(exec.0) });
        }
        let inv = &mut self.invs[v];
        debug_assert_eq!(inv.status, InvStatus::Waiting);
        inv.timeout_gen = 0;
        let waited = now.saturating_since(inv.wait_since);
        inv.bd.add(Component::Execution, waited);
        if inv.code_started {
            // After the host's part (an episode after its history load).
            inv.thread_waited += waited;
            self.terminate(now, v, error, false);
        } else {
            inv.start = now;
            self.finish_inv(now, v, Some(error));
        }
    }

    pub(crate) fn abort(&mut self, now: SimTime, v: InvId, error: PlatformError, phase_started: bool) {
        let i = self.host_of(v);
        self.insts[i].poisoned = true;
        self.terminate(now, v, error, phase_started);
    }

    /// Ends invocation `v` with `error` where it stands (its pending phase cancelled, its CPU
    /// share given back), without judging its host.
    fn terminate(&mut self, now: SimTime, v: InvId, error: PlatformError, phase_started: bool) {
        // The invocation slot will be reused: its pending phase event must not end a phase of
        // the next invocation there.
        if let Some(k) = self.invs[v].phase_key.take() {
            self.q.cancel(k);
        }
        let inv = &self.invs[v];
        let i = self.host_of(v);
        if let PhaseKind::Cpu(_) | PhaseKind::FirstCallCpu { .. } = inv.phases[inv.next].kind
            && self.insts[i].cpu.remove(now, v.0)
        {
            self.reschedule_cpu(i);
        }
        if phase_started {
            self.account_phase(now, v);
        }
        self.finish_inv(now, v, Some(error));
    }

    /// A function timeout on host `i` restarts its language worker (Azure, out-of-process:
    /// azure-functions-host PR #5794; #8720): every invocation dispatched to the worker, the one
    /// running on each of its threads and those waiting for one, ends with `error`; work the
    /// host has not handed to the worker yet (a history load, a checkpoint) goes on. The
    /// worker's threads stay taken until it is back (`worker_back`), after the app's cold start
    /// (runtime start, package load, init: assumed, the worker reloads what a cold start loads);
    /// invocations dispatched meanwhile wait for it. The host stays in the pool while its worker
    /// restarts: requests are routed to it and its Durable pollers go on dequeuing, as a live
    /// Functions host takes work whatever its worker's state (assumed; #9180 reports such work
    /// failing with "Did not find any initialized language workers" where sfsim has it wait).
    pub(crate) fn restart_worker(&mut self, now: SimTime, i: InstId, error: PlatformError) {
        // Restarting from here: a thread the killed invocations free goes to nobody, and work
        // dispatched meanwhile (also while they end) waits for the worker.
        let inst = &mut self.insts[i];
        inst.worker_restarts = inst.worker_restarts.wrapping_add(1) | 1;
        let generation = inst.worker_restarts;
        let waiting: Vec<InvId> = std::mem::take(&mut self.insts[i].thread_wait).into_iter().collect();
        // A timeout is rare: the invocations holding the worker's threads are looked up among all.
        let running: Vec<InvId> = (0..self.invs.len() as u32)
            .map(InvId)
            .filter(|&v| {
                let inv = &self.invs[v];
                inv.status == InvStatus::Running && inv.holds_thread && inv.instance == Some(i)
            })
            .collect();
        let ended = waiting.len() + running.len();
        let described: Vec<(InvId, Option<String>)> =
            waiting.into_iter().map(|v| (v, self.spec.trace.then(|| self.describe(self.invs[v].cont)))).collect();
        for (v, what) in described {
            self.end_waiting(now, v, error.clone(), what);
        }
        for v in running {
            self.invs[v].timeout_gen = 0;
            self.terminate(now, v, error.clone(), true);
        }
        debug_assert_eq!(self.insts[i].threads_busy, 0, "every thread of a restarting worker is freed");
        let app = self.insts[i].app;
        let back = self.plan.apps[app].platform.cold_start.sample(&mut self.restart_rng);
        self.q.schedule(now + back, super::Ev::Timer(super::Timer::WorkerBack { host: i, generation }));
        if self.spec.trace {
            let name = format!("function timeout: the language worker restarts, {ended} invocation(s) dispatched to it end");
            self.trace.push(TraceEvent::Instant { track: self.track(i, 0), name, at: now });
        }
    }

    /// Host `i`'s language worker is back after a restart: its threads go to the invocations
    /// that waited for it.
    pub(crate) fn worker_back(&mut self, now: SimTime, i: InstId, generation: u32) {
        if self.insts[i].worker_restarts != generation {
            return;
        }
        self.insts[i].worker_restarts = generation.wrapping_add(1);
        if !self.insts[i].alive {
            return;
        }
        // Each thread goes to the next invocation that waited (`thread_freed` hands one on).
        let threads = self.plan.apps[self.insts[i].app].platform.code_threads;
        for _ in self.insts[i].threads_busy..threads {
            self.insts[i].threads_busy += 1;
            self.thread_freed(now, i);
        }
    }

    /// Advances host `i`'s memory meter to `now`. Azure observes the app process's memory over
    /// the time it runs executions, *shared* by the executions running at once (platform-facts.md
    /// §3: "the sampled integral over the app process, covering concurrent executions"): each
    /// running invocation is metered an equal share. With `billing.meter_instant_buckets` (the
    /// host's `CalculateFunctionExecutionUnits`) the share is rounded up to 128 MB (at least
    /// 128 MB, at most 1,536) at every instant and billed as metered; else its bill is its
    /// average observed memory, rounded up once and capped, times its duration (the pricing
    /// page's "average memory size ... by the time it takes to execute"), on every Azure
    /// deployment alike. Lambda instances bill configured memory per invocation instead.
    pub(crate) fn meter(&mut self, i: InstId, now: SimTime) {
        let app = self.insts[i].app;
        let p = &self.plan.apps[app].platform;
        let inst = &mut self.insts[i];
        let dt = now.saturating_since(inst.meter_last).as_secs_f64();
        inst.meter_last = now;
        let n = inst.meter_running.len();
        if n == 0 {
            // A run of executing begins with the next invocation the meter takes (Flex periods).
            inst.active_since = now;
            return;
        }
        if dt == 0.0 {
            return;
        }
        // Azure Consumption meters the process's observed memory; Flex its instance memory.
        let mem = match p.billing {
            crate::billing::BillingPolicy::ObservedMemory { .. } => p.runtime_memory_mb + inst.meter_mem_mb,
            crate::billing::BillingPolicy::InstanceMemory { memory_mb, .. } => memory_mb,
            _ => return,
        };
        // Concurrency factored in: the process's memory is shared by the executions it runs;
        // else each execution bills the whole process over its span.
        let share = match (p.meter_shared, p.meter_instant_buckets, &p.billing) {
            // The host's meter: at every instant each active execution is billed the memory over
            // the active count, rounded up to the step, clamped to the minimum and maximum.
            (true, true, b @ crate::billing::BillingPolicy::ObservedMemory { .. }) => dt * b.bucket_mb(mem / n as f64),
            (true, ..) => dt * mem / n as f64,
            (false, ..) => dt * mem,
        };
        for &v in &inst.meter_running {
            self.invs[v].metered_mb_s += share;
        }
    }

    pub(crate) fn finish_inv(&mut self, now: SimTime, v: InvId, error: Option<PlatformError>) {
        let host = self.host_of(v);
        let i = self.host_of(v);
        let held_thread = self.invs[v].holds_thread;
        self.invs[v].holds_thread = false;
        let wait_billed = self.plan.apps[self.insts[i].app].platform.meter_worker_wait;
        let waiting = self.invs[v].status == InvStatus::Waiting;
        if waiting {
            self.insts[i].thread_wait.retain(|&x| x != v);
        }
        if (wait_billed && self.invs[v].status != InvStatus::Starting) || (!waiting && self.invs[v].code_started) {
            self.meter(i, now);
            let inst = &mut self.insts[i];
            inst.meter_running.retain(|&x| x != v);
            inst.meter_mem_mb -= self.invs[v].cur_mem_mb;
            if inst.meter_running.is_empty()
                && let crate::billing::BillingPolicy::InstanceMemory { memory_mb, .. } = self.plan.apps[inst.app].platform.billing
            {
                // Flex: the instance's executing period ends; its rounding goes to this invocation.
                let period = now.saturating_since(inst.active_since);
                let billed = self.plan.apps[inst.app].platform.billing.billed_period(period);
                self.invs[v].metered_mb_s += billed.saturating_sub(period).as_secs_f64() * memory_mb;
            }
        }
        let inv = &mut self.invs[v];
        inv.status = InvStatus::Done;
        inv.timeout_gen = 0;
        let app = inv.app;
        let p = &self.plan.apps[app].platform;
        // The billed span: from the host's dispatch when the meter bills the wait for the
        // worker's thread, else the code's own time.
        let executed = if p.meter_worker_wait {
            now.saturating_since(inv.dispatched)
        } else {
            now.saturating_since(inv.start).saturating_sub(inv.thread_waited)
        };
        // Azure: the invocation's share of the host's observed memory; Lambda: its own.
        let observed_mb_s =
            if matches!(p.billing, crate::billing::BillingPolicy::ObservedMemory { .. }) { inv.metered_mb_s } else { inv.mem_mb_s };
        let avg_mb = if executed > SimDuration::ZERO {
            observed_mb_s / executed.as_secs_f64()
        } else {
            p.runtime_memory_mb + inv.phases.first().map_or(0.0, |ph| f64::from(ph.memory_mb))
        };
        let bill = match p.billing {
            crate::billing::BillingPolicy::InstanceMemory { .. } => {
                p.billing.bill_share(executed, inv.metered_mb_s, self.insts[i].always_ready)
            }
            // Per-instant buckets are already rounded: the execution bills what was metered.
            crate::billing::BillingPolicy::ObservedMemory { .. } if p.meter_shared && p.meter_instant_buckets => {
                p.billing.bill_metered(executed, inv.metered_mb_s)
            }
            _ => p.billing.bill(executed, avg_mb),
        };
        let storage_usd =
            f64::from(inv.gets) * p.storage.price_usd(StorageOp::Get) + f64::from(inv.puts) * p.storage.price_usd(StorageOp::Put);
        let (i, slot, start, class, exec, cold, cont) = (host, inv.slot, inv.start, inv.class, inv.exec, inv.cold, inv.cont);
        let bd = inv.bd;
        let strands = std::mem::take(&mut inv.strands);
        let (gets, puts) = (inv.gets, inv.puts);
        let x = self.acc(exec);
        x.cost.add(&Cost { compute: bill.compute_usd, requests: bill.request_usd, storage: storage_usd, ..Cost::default() });
        x.gb_s += bill.gb_s;
        x.executed += executed;
        x.billed += bill.billed;
        x.gets += gets;
        x.puts += puts;
        x.counts.invocations += 1;
        // Every strand riding on this invocation is charged its time since dispatch.
        for &s in &strands {
            self.charge_all(s, now, &bd);
        }
        if cont.is_workflow_function() {
            self.function_hop(&strands, now, false);
        } else if cont == Cont::Single {
            self.function_span_mark(exec, now, false);
        }
        self.record_span(exec, i, (start, now), cont, cold, error.is_some());
        self.invs[v].strands = strands;
        if self.spec.trace {
            let track = self.track(i, slot);
            let what = self.describe(self.invs[v].cont);
            let name = match &error {
                None => format!("{what} (exec {exec})"),
                Some(e) => format!("{what} (exec {exec}) failed: {e}"),
            };
            self.trace.push(TraceEvent::Slice { track, name, cat: "invocation", start, end: now, exec: Some(exec.0) });
        }
        let inst = &mut self.insts[i];
        inst.busy[class as usize] -= 1;
        inst.slots_used &= !(1u64 << slot);
        self.apps[app].in_flight -= 1;
        self.session_end(now, v, i);
        if self.plan.apps[app].lambda {
            self.lambda_in_flight -= 1;
        }
        if held_thread {
            self.thread_freed(now, i);
        }
        match error {
            None => self.on_inv_done(now, v),
            Some(e) => self.on_inv_failed(now, v, e),
        }
        self.release_capacity(now, i, false);
    }

    /// A slot freed or an instance became ready: serve waiting HTTP work and pollers, else park.
    pub(crate) fn release_capacity(&mut self, now: SimTime, i: InstId, fresh: bool) {
        let app = self.insts[i].app;
        if self.insts[i].poisoned || self.insts[i].draining {
            if self.insts[i].busy_total() == 0 && self.insts[i].alive {
                let why = if self.insts[i].poisoned { "recycled after a failure" } else { "scaled in (drained)" };
                self.reclaim(now, i, why);
            }
            return;
        }
        let slots = self.plan.apps[app].slots;
        while self.insts[i].busy[0] < slots[0] {
            let Some(v) = self.apps[app].waiting.pop_front() else {
                break;
            };
            self.start_on(now, v, i, fresh);
        }
        if self.uses_queues() {
            self.azure_slot_freed(now, i);
        }
        if !self.insts[i].in_free {
            self.insts[i].in_free = true;
            self.apps[app].free.push(i);
        }
        let inst = &mut self.insts[i];
        if inst.busy_total() == 0 && inst.idle_since.is_none() {
            inst.keep_alive_gen += 1;
            inst.idle_since = Some(now);
            let g = inst.keep_alive_gen;
            let keep = self.plan.apps[app].platform.keep_alive;
            if self.apps[app].expiries.push(now + keep, i.0, g) {
                self.q.schedule(now + keep, Ev::ExpiriesDue(app));
            }
        }
    }

    /// An app's function timeouts fell due.
    pub(crate) fn on_timeouts_due(&mut self, now: SimTime, app: AppId) {
        while let Some((v, g)) = self.apps[app].timeouts.pop_due(now) {
            let v = InvId(v);
            if self.invs[v].timeout_gen == g {
                self.on_timeout(now, v);
            }
        }
        if let Some(t) = self.apps[app].timeouts.rearm() {
            self.q.schedule(t, Ev::TimeoutsDue(app));
        }
    }

    /// An app's keep-alive expiries fell due.
    pub(crate) fn on_expiries_due(&mut self, now: SimTime, app: AppId) {
        while let Some((i, g)) = self.apps[app].expiries.pop_due(now) {
            self.on_expire(now, InstId(i), g);
        }
        if let Some(t) = self.apps[app].expiries.rearm() {
            self.q.schedule(t, Ev::ExpiriesDue(app));
        }
    }

    pub(crate) fn on_expire(&mut self, now: SimTime, i: InstId, g: u32) {
        let inst = &self.insts[i];
        if !inst.alive || inst.busy_total() > 0 || inst.keep_alive_gen != g || inst.always_ready {
            return;
        }
        self.reclaim(now, i, "reclaimed");
    }

    pub(crate) fn reclaim(&mut self, now: SimTime, i: InstId, why: &str) {
        let inst = &mut self.insts[i];
        inst.alive = false;
        inst.gone = Some(now);
        inst.keep_alive_gen += 1;
        let since = inst.idle_since.take();
        let app = inst.app;
        let lambda = self.plan.apps[app].lambda;
        let a = &mut self.apps[app];
        a.alive -= 1;
        if !lambda {
            // Azure hosts (at most a few hundred) stay listed in id order for partition
            // ownership and scale-in; the free stack drops the host lazily.
            a.instances.retain(|&x| x != i);
        }
        if let Some(since) = since {
            self.trace_idle(i, since, now);
        }
        self.host_instant(i, now, || why.into());
        if self.spec.trace {
            let alive = self.apps[app].alive;
            self.trace.push(TraceEvent::Counter { name: "instances", at: now, value: f64::from(alive) });
        }
        if self.uses_queues() {
            self.azure_host_gone(now, i);
        }
        if !self.plan.apps[app].lambda && !self.apps[app].waiting.is_empty() {
            self.scale_http(now, app);
        }
    }

    /// A keep-alive idle span of instance `i` on its first track.
    pub(crate) fn trace_idle(&mut self, i: InstId, since: SimTime, now: SimTime) {
        if self.spec.trace {
            let track = self.track(i, 0);
            self.trace.push(TraceEvent::keep_alive(track, since, now));
        }
    }
}

/// The first-call id of a phase that only an instance's first call of it keeps.
fn first_call_of(p: &Phase) -> Option<u32> {
    match p.kind {
        PhaseKind::FirstCallCpu { function, .. } | PhaseKind::FirstCallWait { function, .. } => Some(function),
        _ => None,
    }
}
