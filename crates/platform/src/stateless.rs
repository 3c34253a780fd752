//! Stateless deployments (`aws-lambda`, `az-func`): the whole workflow in one function.
//!
//! **Models.** Each execution is one invocation of one function that runs the workflow's steps
//! in order inside the function: parallel branches and fan-out items run one after another (the
//! study's single-function implementations are plain Python), with a fan-out marked `split`
//! giving each item its share of the CPU and I/O time (storage objects are whole objects and are
//! not split). Objects read by a fan-out body are fetched once, by the first item, and then
//! served from the process's memory. Every step becomes phases: object-storage reads
//! (including state objects), CPU work on the instance's CPU share, non-CPU waiting, then writes.
//!
//! The invocation needs an execution slot on an instance:
//! * a free slot on a warm instance is taken at once (most recently used first);
//! * otherwise Lambda creates a new instance if its concurrency allowance permits, or throttles
//!   the call (`TooManyRequestsException`); Azure queues the request at the front end and asks
//!   the scale controller for a host (one per second for HTTP), which takes waiting requests when
//!   its cold start ends;
//! * an instance idle for the keep-alive time is reclaimed.
//!
//! Limits: a request payload over the platform limit fails at arrival with the platform's error;
//! a response over the limit fails at the end (billed); an execution running longer than the
//! timeout is aborted at the timeout (billed for the timeout); a step whose memory (plus the
//! language runtime's) exceeds the instance's memory is killed when it starts (out of memory).
//! A killed process takes its instance with it: the instance is recycled once idle, so the next
//! request there pays a cold start.
//!
//! **Latency breakdown.** `queue` (waiting without an instance) + `cold_start` (waiting for the
//! instance created for it) + `execution` (CPU and I/O) + `transfer` (object storage) equals the
//! end-to-end latency exactly, in integer nanoseconds.
//!
//! **Scope and limitations.** Requests are routed to the most recently used free instance; no
//! network latency between client and platform; no retries of throttled calls (a synchronous
//! caller sees the error); Azure's 230 s HTTP front-end timeout is not applied (the study timed
//! completions from logs).
//!
//! **Validation.** Lifecycle tests at the bottom of this file: warm reuse, keep-alive expiry,
//! throttling, payload and timeout failures, processor sharing on a host, the breakdown sum; the
//! M/M/1 oracle and determinism checks are in `tests/` of the workspace.

use std::collections::VecDeque;

use rand::RngExt;
use sfsim_engine::{EventKey, EventQueue, RngStreams, SimDuration, SimRng, SimTime};
use sfsim_workflow::{Arrivals, Node, Step, Workflow};

use crate::billing::Cost;
use crate::cpu::CpuShare;
use crate::deployment::{FunctionPlatform, ScalePolicy};
use crate::record::{Breakdown, ExecRecord, Outcome, RunOutput};
use crate::scaling::{HostDecision, HostScaler, LambdaScaler};
use crate::storage::StorageOp;
use crate::trace::TraceEvent;
use crate::workload::Work;

/// What to simulate: one replication of one deployment.
pub struct RunSpec<'a> {
    /// The assembled platform.
    pub platform: &'a FunctionPlatform,
    /// The workflow.
    pub workflow: &'a Workflow,
    /// How executions arrive.
    pub arrivals: &'a Arrivals,
    /// How many executions.
    pub iterations: u64,
    /// Random streams of this replication.
    pub streams: RngStreams,
    /// Record a timeline.
    pub trace: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum PhaseKind {
    Cpu(f64),
    Io(SimDuration),
    Get(SimDuration),
    Put(SimDuration),
}

#[derive(Clone, Copy, Debug)]
struct Phase {
    kind: PhaseKind,
    memory_mb: f32,
}

/// Where a step's work is drawn: the execution's streams and its id.
struct Draw {
    work: sfsim_engine::WorkStreams,
    exec: u32,
}

/// Builds one execution's phases. CPU and I/O come from the per-(execution, step, item) work
/// streams of [`crate::workload`], so execution `i` does the same work on every deployment
/// (common random numbers); storage latencies come from the execution's own stream `rng`.
fn build_phases(w: &Workflow, p: &FunctionPlatform, draw: &Draw, rng: &mut SimRng, out: &mut Vec<Phase>) {
    #[allow(clippy::too_many_arguments)]
    fn step(
        s: &Step,
        work: &mut sfsim_engine::WorkRng,
        share: f64,
        reads: bool,
        p: &FunctionPlatform,
        w: &Workflow,
        rng: &mut SimRng,
        out: &mut Vec<Phase>,
    ) {
        let memory_mb = s.memory_mb as f32;
        crate::workload::step_work(s, w, p, share, reads, true, work, rng, |x| {
            let kind = match x {
                Work::Get(d) => PhaseKind::Get(d),
                Work::Cpu(c) => PhaseKind::Cpu(c),
                Work::Io(d) => PhaseKind::Io(d),
                Work::Put(d) => PhaseKind::Put(d),
            };
            out.push(Phase { kind, memory_mb });
        });
    }
    #[allow(clippy::too_many_arguments)]
    fn nodes(
        ns: &[Node],
        item: u32,
        share: f64,
        reads: bool,
        p: &FunctionPlatform,
        w: &Workflow,
        draw: &Draw,
        rng: &mut SimRng,
        out: &mut Vec<Phase>,
    ) {
        for n in ns {
            match n {
                Node::Step(id) => {
                    let mut work = crate::workload::work_rng(&draw.work, draw.exec, id.0, item);
                    step(&w.steps[id.0 as usize], &mut work, share, reads, p, w, rng, out)
                }
                Node::Parallel(branches) => {
                    for b in branches {
                        nodes(b, item, share, reads, p, w, draw, rng, out);
                    }
                }
                Node::FanOut(id) if w.fan_outs[id.0 as usize].split => {
                    // The body's work is a total divided among the items: draw it once and give
                    // every item its share. Objects are fetched by the first item only.
                    let f = &w.fan_outs[id.0 as usize];
                    let first = out.len();
                    nodes(&f.body, 0, share * f.share(), reads, p, w, draw, rng, out);
                    let one: Vec<Phase> = out[first..].iter().copied().filter(|ph| !matches!(ph.kind, PhaseKind::Get(_))).collect();
                    for _ in 1..f.items {
                        out.extend_from_slice(&one);
                    }
                }
                Node::FanOut(id) => {
                    let f = &w.fan_outs[id.0 as usize];
                    for k in 0..f.items {
                        // One process runs every item: objects the body reads are fetched by the
                        // first item and then served from memory.
                        nodes(&f.body, k, share * f.share(), reads && k == 0, p, w, draw, rng, out);
                    }
                }
            }
        }
    }
    nodes(&w.flow, 0, 1.0, true, p, w, draw, rng, out);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    NotArrived,
    Waiting,
    Starting,
    Running,
    Done,
}

struct Exec {
    status: Status,
    arrival: SimTime,
    phases: Vec<Phase>,
    next_phase: usize,
    instance: u32,
    slot: u32,
    wait_since: SimTime,
    assigned_at: SimTime,
    start: SimTime,
    phase_start: SimTime,
    cold: bool,
    breakdown: Breakdown,
    mem_mb_s: f64,
    gets: u32,
    puts: u32,
    timeout_key: Option<EventKey>,
}

struct Instance {
    alive: bool,
    ready: bool,
    busy: u32,
    slots_used: u64,
    cpu: CpuShare,
    cpu_token: u64,
    keep_alive_gen: u32,
    idle_since: Option<SimTime>,
    assigned: Vec<u32>,
    in_free: bool,
    created: SimTime,
    /// Killed by a timeout or out-of-memory: reclaimed as soon as it is idle.
    poisoned: bool,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival(u32),
    Ready(u32),
    PhaseDone(u32, u32),
    CpuDone(u32, u64),
    Expire(u32, u32),
    ScaleTick,
    Timeout(u32),
}

enum Scaler {
    Lambda(LambdaScaler),
    Hosts(HostScaler),
}

struct Sim<'a> {
    spec: &'a RunSpec<'a>,
    q: EventQueue<Ev>,
    execs: Vec<Exec>,
    records: Vec<Option<ExecRecord>>,
    instances: Vec<Instance>,
    free: Vec<u32>,
    starting: Vec<u32>,
    waiting: VecDeque<u32>,
    scaler: Scaler,
    tick_pending: bool,
    alive: u32,
    in_flight: u32,
    peak: u32,
    arrivals_rng: SimRng,
    cold_rng: SimRng,
    /// Streams of each step's work (common random numbers, [`crate::workload`]).
    work: sfsim_engine::WorkStreams,
    last_arrival: SimTime,
    trace: Vec<TraceEvent>,
}

/// Simulates one replication of a stateless deployment.
pub fn simulate(spec: &RunSpec<'_>) -> RunOutput {
    assert!(spec.iterations <= u64::from(u32::MAX), "at most 2^32 - 1 executions per replication");
    let n = spec.iterations as usize;
    let scaler = match spec.platform.scaling {
        ScalePolicy::LambdaBurst { burst, increase_per_min, limit } => Scaler::Lambda(LambdaScaler::new(burst, increase_per_min, limit)),
        ScalePolicy::HostRate { interval, max_hosts } => Scaler::Hosts(HostScaler::new(interval, max_hosts)),
    };
    let mut sim = Sim {
        spec,
        q: EventQueue::with_capacity(1024),
        execs: Vec::with_capacity(n),
        records: vec![None; n],
        instances: Vec::new(),
        free: Vec::new(),
        starting: Vec::new(),
        waiting: VecDeque::new(),
        scaler,
        tick_pending: false,
        alive: 0,
        in_flight: 0,
        peak: 0,
        arrivals_rng: spec.streams.stream("arrivals"),
        cold_rng: spec.streams.stream("cold_start"),
        work: crate::workload::work_streams(&spec.streams),
        last_arrival: SimTime::ZERO,
        trace: Vec::new(),
    };
    if spec.trace {
        sim.trace.push(TraceEvent::TrackName { track: 0, name: "arrivals".into() });
    }
    if n > 0 {
        sim.q.schedule(SimTime::ZERO, Ev::Arrival(0));
    }
    while let Some((now, ev)) = sim.q.pop() {
        match ev {
            Ev::Arrival(e) => sim.on_arrival(now, e),
            Ev::Ready(i) => sim.on_ready(now, i),
            Ev::PhaseDone(e, p) => sim.on_phase_done(now, e, p),
            Ev::CpuDone(i, token) => sim.on_cpu_done(now, i, token),
            Ev::Expire(i, g) => sim.on_expire(now, i, g),
            Ev::ScaleTick => {
                sim.tick_pending = false;
                sim.scale_hosts(now);
            }
            Ev::Timeout(e) => sim.on_timeout(now, e),
        }
    }
    let end_time = sim.q.now();
    let executions: Vec<ExecRecord> = sim
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| panic!("execution {i} never ended (seed {:?})", spec.streams)))
        .collect();
    RunOutput {
        executions,
        instances_started: sim.instances.len() as u32,
        instances_peak: sim.peak,
        events: sim.q.popped(),
        end_time,
        trace: sim.trace,
        ..RunOutput::default()
    }
}

impl Sim<'_> {
    fn track(&self, inst: u32, slot: u32) -> u32 {
        1 + inst * self.spec.platform.slots_per_instance + slot
    }

    fn next_arrival_time(&mut self, i: u32) -> SimTime {
        let t = match *self.spec.arrivals {
            Arrivals::Interval { interval_s } => SimTime::from_secs_f64(interval_s * f64::from(i)),
            Arrivals::Poisson { rate_per_s } => {
                let u: f64 = self.arrivals_rng.random();
                // Inverse-CDF exponential gap; 1 - u is in (0, 1].
                self.last_arrival + SimDuration::from_secs_f64(-(1.0 - u).ln() / rate_per_s)
            }
            Arrivals::Burst { size, interval_s } => SimTime::from_secs_f64(interval_s * (u64::from(i) / size) as f64),
            Arrivals::Sequential { .. } => {
                unreachable!("sequential arrivals are scheduled at completion")
            }
        };
        t.max(self.q.now())
    }

    fn on_arrival(&mut self, now: SimTime, e: u32) {
        self.last_arrival = now;
        let next = e + 1;
        if u64::from(next) < self.spec.iterations && !matches!(self.spec.arrivals, Arrivals::Sequential { .. }) {
            let t = self.next_arrival_time(next);
            self.q.schedule(t, Ev::Arrival(next));
        }
        let mut rng = self.spec.streams.indexed("workload", u64::from(e));
        let mut phases = Vec::new();
        let draw = Draw { work: self.work, exec: e };
        build_phases(self.spec.workflow, self.spec.platform, &draw, &mut rng, &mut phases);
        debug_assert_eq!(self.execs.len(), e as usize, "executions arrive in id order");
        self.execs.push(Exec {
            status: Status::NotArrived,
            arrival: now,
            phases,
            next_phase: 0,
            instance: u32::MAX,
            slot: 0,
            wait_since: now,
            assigned_at: now,
            start: now,
            phase_start: now,
            cold: false,
            breakdown: Breakdown::default(),
            mem_mb_s: 0.0,
            gets: 0,
            puts: 0,
            timeout_key: None,
        });
        if self.spec.trace {
            self.trace.push(TraceEvent::Instant { track: 0, name: format!("arrival {e}"), at: now });
        }
        let p = self.spec.platform;
        if self.spec.workflow.input_bytes > p.request_limit_bytes {
            self.reject(now, e, Outcome::Failed { error: p.request_error.to_string() });
            return;
        }
        self.dispatch(now, e);
    }

    /// Ends an execution that never ran (throttled or rejected at the door).
    fn reject(&mut self, now: SimTime, e: u32, outcome: Outcome) {
        let x = &mut self.execs[e as usize];
        x.status = Status::Done;
        x.phases = Vec::new();
        if self.spec.trace {
            let what = match &outcome {
                Outcome::Throttled => "throttled".to_string(),
                Outcome::Failed { error } => format!("failed: {error}"),
                Outcome::Completed => unreachable!("a rejected execution cannot complete"),
            };
            self.trace.push(TraceEvent::Instant { track: 0, name: format!("exec {e} {what}"), at: now });
        }
        let breakdown = Breakdown { queue: now.saturating_since(x.arrival), ..Breakdown::default() };
        self.records[e as usize] = Some(ExecRecord {
            id: e,
            arrival: x.arrival,
            end: now,
            outcome,
            breakdown,
            cold_start: false,
            gb_s: 0.0,
            executed: SimDuration::ZERO,
            billed: SimDuration::ZERO,
            cost: Cost::default(),
            storage_gets: 0,
            storage_puts: 0,
            stateful: Default::default(),
            start_delay: SimDuration::ZERO,
            pending_to_running: None,
        });
        self.schedule_next_sequential(now, e);
    }

    fn schedule_next_sequential(&mut self, now: SimTime, e: u32) {
        if let Arrivals::Sequential { gap_s } = *self.spec.arrivals {
            let next = e + 1;
            if u64::from(next) < self.spec.iterations {
                self.q.schedule(now + SimDuration::from_secs_f64(gap_s), Ev::Arrival(next));
            }
        }
    }

    fn take_free_slot(&mut self) -> Option<u32> {
        while let Some(&i) = self.free.last() {
            let inst = &self.instances[i as usize];
            if inst.alive && inst.ready && !inst.poisoned && inst.busy < self.spec.platform.slots_per_instance {
                return Some(i);
            }
            self.free.pop();
            self.instances[i as usize].in_free = false;
        }
        None
    }

    fn dispatch(&mut self, now: SimTime, e: u32) {
        if let Some(i) = self.take_free_slot() {
            self.start_warm(now, e, i, false);
            return;
        }
        match &mut self.scaler {
            Scaler::Lambda(s) => {
                if self.in_flight < s.allowed(now, self.in_flight) {
                    let i = self.new_instance(now);
                    self.assign_to_starting(now, e, i);
                } else {
                    self.reject(now, e, Outcome::Throttled);
                }
            }
            Scaler::Hosts(_) => {
                let x = &mut self.execs[e as usize];
                x.status = Status::Waiting;
                x.wait_since = now;
                self.waiting.push_back(e);
                self.count_waiting(now);
                self.scale_hosts(now);
            }
        }
    }

    /// Slots of hosts still starting: waiting requests they will take when ready.
    fn starting_room(&self) -> usize {
        let slots = self.spec.platform.slots_per_instance as usize;
        self.starting.iter().map(|&i| slots.saturating_sub(self.instances[i as usize].busy as usize)).sum()
    }

    fn count_waiting(&mut self, now: SimTime) {
        if self.spec.trace {
            self.trace.push(TraceEvent::Counter { name: "waiting", at: now, value: self.waiting.len() as f64 });
        }
    }

    /// Azure: while more requests wait than the hosts being started can take, ask the scale
    /// controller for another host. Waiting requests stay in the front-end queue and go to
    /// whichever host frees a slot or finishes starting first.
    fn scale_hosts(&mut self, now: SimTime) {
        while self.waiting.len() > self.starting_room() {
            let Scaler::Hosts(s) = &mut self.scaler else {
                return;
            };
            match s.request(now, self.alive) {
                HostDecision::Add => {
                    self.new_instance(now);
                }
                HostDecision::RetryAt(t) => {
                    if !self.tick_pending {
                        self.tick_pending = true;
                        self.q.schedule(t, Ev::ScaleTick);
                    }
                    return;
                }
                HostDecision::AtCap => return,
            }
        }
    }

    fn new_instance(&mut self, now: SimTime) -> u32 {
        let p = self.spec.platform;
        let id = self.instances.len() as u32;
        let delay = p.cold_start.sample(&mut self.cold_rng);
        self.instances.push(Instance {
            alive: true,
            ready: false,
            busy: 0,
            slots_used: 0,
            cpu: CpuShare::new(p.cpu_capacity_vcpu, p.task_max_vcpu),
            cpu_token: 0,
            keep_alive_gen: 0,
            idle_since: None,
            assigned: Vec::new(),
            in_free: false,
            created: now,
            poisoned: false,
        });
        self.alive += 1;
        self.peak = self.peak.max(self.alive);
        self.starting.push(id);
        self.q.schedule(now + delay, Ev::Ready(id));
        if self.spec.trace {
            for slot in 0..p.slots_per_instance.min(64) {
                let track = self.track(id, slot);
                self.trace.push(TraceEvent::TrackName { track, name: format!("{} instance {id} slot {slot}", p.name) });
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
            self.trace.push(TraceEvent::Counter { name: "instances", at: now, value: f64::from(self.alive) });
        }
        id
    }

    fn claim_slot(&mut self, i: u32) -> u32 {
        let inst = &mut self.instances[i as usize];
        let slot = (!inst.slots_used).trailing_zeros().min(63);
        inst.slots_used |= 1 << slot;
        inst.busy += 1;
        if inst.idle_since.take().is_some() {
            inst.keep_alive_gen += 1;
        }
        slot
    }

    fn assign_to_starting(&mut self, now: SimTime, e: u32, i: u32) {
        let slot = self.claim_slot(i);
        self.in_flight += 1;
        self.instances[i as usize].assigned.push(e);
        let x = &mut self.execs[e as usize];
        x.breakdown.queue += now.saturating_since(x.wait_since);
        x.status = Status::Starting;
        x.instance = i;
        x.slot = slot;
        x.cold = true;
        x.assigned_at = now;
    }

    /// Starts `e` on a free slot of ready instance `i`. `fresh` means the instance has just
    /// finished its cold start: the part of the request's wait that overlapped the host's start
    /// is cold start, the rest queueing.
    fn start_warm(&mut self, now: SimTime, e: u32, i: u32, fresh: bool) {
        if self.spec.trace
            && let Some(since) = self.instances[i as usize].idle_since
        {
            let track = self.track(i, 0);
            self.trace.push(TraceEvent::keep_alive(track, since, now));
        }
        let slot = self.claim_slot(i);
        self.in_flight += 1;
        let created = self.instances[i as usize].created;
        let x = &mut self.execs[e as usize];
        let waited = now.saturating_since(x.wait_since);
        if fresh {
            let cold = waited.min(now.saturating_since(created));
            x.breakdown.cold_start += cold;
            x.breakdown.queue += waited.saturating_sub(cold);
            x.cold = true;
        } else {
            x.breakdown.queue += waited;
        }
        x.instance = i;
        x.slot = slot;
        self.begin(now, e);
    }

    fn on_ready(&mut self, now: SimTime, i: u32) {
        self.starting.retain(|&s| s != i);
        let assigned = std::mem::take(&mut self.instances[i as usize].assigned);
        self.instances[i as usize].ready = true;
        for e in assigned {
            let x = &mut self.execs[e as usize];
            x.breakdown.cold_start += now.saturating_since(x.assigned_at);
            self.begin(now, e);
        }
        self.release_capacity(now, i, true);
    }

    fn begin(&mut self, now: SimTime, e: u32) {
        let timeout = self.spec.platform.timeout;
        let key = self.q.schedule(now + timeout, Ev::Timeout(e));
        let x = &mut self.execs[e as usize];
        x.status = Status::Running;
        x.start = now;
        x.timeout_key = Some(key);
        self.start_phase(now, e);
    }

    fn start_phase(&mut self, now: SimTime, e: u32) {
        let x = &mut self.execs[e as usize];
        if x.next_phase == x.phases.len() {
            self.finish(now, e, Outcome::Completed);
            return;
        }
        x.phase_start = now;
        let idx = x.next_phase as u32;
        let p = self.spec.platform;
        if p.runtime_memory_mb + f64::from(x.phases[x.next_phase].memory_mb) > p.memory_limit_mb {
            self.abort(now, e, p.oom_error, false);
            return;
        }
        match x.phases[x.next_phase].kind {
            PhaseKind::Cpu(work) => {
                let i = x.instance;
                self.instances[i as usize].cpu.add(now, e, work);
                self.reschedule_cpu(i);
            }
            PhaseKind::Io(d) | PhaseKind::Get(d) | PhaseKind::Put(d) => {
                self.q.schedule(now + d, Ev::PhaseDone(e, idx));
            }
        }
    }

    fn reschedule_cpu(&mut self, i: u32) {
        let inst = &mut self.instances[i as usize];
        inst.cpu_token += 1;
        if let Some((t, _)) = inst.cpu.next_completion() {
            let token = inst.cpu_token;
            self.q.schedule(t, Ev::CpuDone(i, token));
        }
    }

    fn on_cpu_done(&mut self, now: SimTime, i: u32, token: u64) {
        let inst = &mut self.instances[i as usize];
        if inst.cpu_token != token {
            return; // superseded by a later change in the set of computing executions
        }
        let (_, owner) = inst.cpu.next_completion().expect("a CPU completion event implies a computing execution");
        inst.cpu.remove(now, owner);
        self.reschedule_cpu(i);
        let idx = self.execs[owner as usize].next_phase as u32;
        self.on_phase_done(now, owner, idx);
    }

    /// Accounts the time of the current phase up to `now`.
    fn account_phase(&mut self, now: SimTime, e: u32) {
        let runtime_mb = self.spec.platform.runtime_memory_mb;
        let trace = self.spec.trace;
        let x = &mut self.execs[e as usize];
        let ph = x.phases[x.next_phase];
        let d = now.saturating_since(x.phase_start);
        x.mem_mb_s += d.as_secs_f64() * (runtime_mb + f64::from(ph.memory_mb));
        let name = match ph.kind {
            PhaseKind::Cpu(_) => "cpu",
            PhaseKind::Io(_) => "io",
            PhaseKind::Get(_) => {
                x.breakdown.transfer += d;
                x.gets += 1;
                "storage read"
            }
            PhaseKind::Put(_) => {
                x.breakdown.transfer += d;
                x.puts += 1;
                "storage write"
            }
        };
        if trace {
            let (start, inst, slot) = (x.phase_start, x.instance, x.slot);
            let track = self.track(inst, slot);
            self.trace.push(TraceEvent::Slice { track, name: name.into(), cat: "phase", start, end: now, exec: Some(e) });
        }
    }

    fn on_phase_done(&mut self, now: SimTime, e: u32, idx: u32) {
        let x = &self.execs[e as usize];
        if x.status != Status::Running || x.next_phase as u32 != idx {
            return; // the execution timed out meanwhile
        }
        self.account_phase(now, e);
        self.execs[e as usize].next_phase += 1;
        self.start_phase(now, e);
    }

    fn on_timeout(&mut self, now: SimTime, e: u32) {
        if self.execs[e as usize].status != Status::Running {
            return;
        }
        let error = self.spec.platform.timeout_error;
        self.abort(now, e, error, true);
    }

    /// Ends a running execution with a platform error (timeout, out of memory). The platform
    /// kills the process, so the instance is recycled once its other executions end: the next
    /// request there pays a cold start.
    fn abort(&mut self, now: SimTime, e: u32, error: &str, phase_started: bool) {
        let x = &self.execs[e as usize];
        let i = x.instance;
        if let PhaseKind::Cpu(_) = x.phases[x.next_phase].kind
            && self.instances[i as usize].cpu.remove(now, e)
        {
            self.reschedule_cpu(i);
        }
        if phase_started {
            self.account_phase(now, e);
        }
        self.instances[i as usize].poisoned = true;
        self.finish(now, e, Outcome::Failed { error: error.to_string() });
    }

    fn finish(&mut self, now: SimTime, e: u32, mut outcome: Outcome) {
        let p = self.spec.platform;
        if outcome == Outcome::Completed && self.spec.workflow.output_bytes > p.response_limit_bytes {
            outcome = Outcome::Failed { error: p.response_error.to_string() };
        }
        let x = &mut self.execs[e as usize];
        x.status = Status::Done;
        if let Some(k) = x.timeout_key.take() {
            self.q.cancel(k);
        }
        let executed = now.saturating_since(x.start);
        let avg_mb = if executed > SimDuration::ZERO {
            x.mem_mb_s / executed.as_secs_f64()
        } else {
            p.runtime_memory_mb + x.phases.first().map_or(0.0, |ph| f64::from(ph.memory_mb))
        };
        let bill = p.billing.bill(executed, avg_mb);
        let mut breakdown = x.breakdown;
        // Execution is what remains of the time on the instance after storage transfers, so the
        // parts sum exactly to the end-to-end latency.
        breakdown.execution = executed.saturating_sub(breakdown.transfer);
        let storage_usd = f64::from(x.gets) * p.storage.price_usd(StorageOp::Get) + f64::from(x.puts) * p.storage.price_usd(StorageOp::Put);
        let record = ExecRecord {
            id: e,
            arrival: x.arrival,
            end: now,
            outcome,
            breakdown,
            cold_start: x.cold,
            gb_s: bill.gb_s,
            executed,
            billed: bill.billed,
            cost: Cost { compute: bill.compute_usd, requests: bill.request_usd, storage: storage_usd, ..Cost::default() },
            storage_gets: x.gets,
            storage_puts: x.puts,
            stateful: Default::default(),
            start_delay: x.start.saturating_since(x.arrival),
            pending_to_running: None,
        };
        debug_assert_eq!(record.breakdown.total(), record.latency(), "breakdown must sum to the latency");
        let (i, slot, start) = (x.instance, x.slot, x.start);
        x.phases = Vec::new();
        if self.spec.trace {
            let track = self.track(i, slot);
            let name = match &record.outcome {
                Outcome::Completed => format!("exec {e}"),
                Outcome::Failed { error } => format!("exec {e} failed: {error}"),
                Outcome::Throttled => unreachable!("a running execution is never throttled"),
            };
            self.trace.push(TraceEvent::Slice { track, name, cat: "execution", start, end: now, exec: Some(e) });
        }
        self.records[e as usize] = Some(record);
        self.in_flight -= 1;
        let inst = &mut self.instances[i as usize];
        inst.busy -= 1;
        inst.slots_used &= !(1u64 << slot);
        self.release_capacity(now, i, false);
        self.schedule_next_sequential(now, e);
    }

    /// A slot freed (or an instance became ready): serve waiting work, else park the instance.
    fn release_capacity(&mut self, now: SimTime, i: u32, fresh: bool) {
        let slots = self.spec.platform.slots_per_instance;
        if self.instances[i as usize].poisoned {
            if self.instances[i as usize].busy == 0 {
                self.reclaim(now, i, "recycled after a failure");
            }
            return;
        }
        while self.instances[i as usize].busy < slots {
            let Some(e) = self.waiting.pop_front() else {
                break;
            };
            self.count_waiting(now);
            self.start_warm(now, e, i, fresh);
        }
        let inst = &mut self.instances[i as usize];
        if inst.busy < slots && !inst.in_free {
            inst.in_free = true;
            self.free.push(i);
        }
        if inst.busy == 0 {
            inst.keep_alive_gen += 1;
            inst.idle_since = Some(now);
            let g = inst.keep_alive_gen;
            self.q.schedule(now + self.spec.platform.keep_alive, Ev::Expire(i, g));
        }
    }

    fn on_expire(&mut self, now: SimTime, i: u32, g: u32) {
        let inst = &self.instances[i as usize];
        if !inst.alive || inst.busy > 0 || inst.keep_alive_gen != g {
            return;
        }
        self.reclaim(now, i, "reclaimed");
    }

    /// Removes an idle instance: its keep-alive ran out, or it was killed by a failure.
    fn reclaim(&mut self, now: SimTime, i: u32, why: &str) {
        let inst = &mut self.instances[i as usize];
        debug_assert!(inst.alive && inst.busy == 0, "only idle live instances are reclaimed");
        inst.alive = false;
        inst.keep_alive_gen += 1;
        let since = inst.idle_since.take();
        self.alive -= 1;
        if self.spec.trace {
            let track = self.track(i, 0);
            if let Some(since) = since {
                self.trace.push(TraceEvent::keep_alive(track, since, now));
            }
            self.trace.push(TraceEvent::Instant { track, name: why.into(), at: now });
            self.trace.push(TraceEvent::Counter { name: "instances", at: now, value: f64::from(self.alive) });
        }
        // A removed host frees room under the host cap for waiting work.
        if !self.waiting.is_empty() {
            self.scale_hosts(now);
        }
    }
}
