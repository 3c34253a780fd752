//! `aws-step`: an AWS Step Functions state machine whose Task states invoke Lambda functions.
//!
//! **Models.** The state machine is generated from the platform-neutral workflow: a step is a
//! Task state invoking the step's own Lambda function (one function, and so one pool of
//! execution environments, per step); a parallel node is a Parallel state; a fan-out is an
//! inline Map state over the items with `MaxConcurrency` at most 40. Entering a state is a
//! *state transition*: it waits for a token of the account's transition bucket (5,000, refilled
//! at 1,500 per s), then takes the scheduling latency (log-normal plus a per-KB term for the
//! payload recorded in the history), and is counted and billed (Standard: $0.025 per 1,000).
//! Task input and output over 256 KB fail the execution with `States.DataLimitExceeded`; a
//! history over 25,000 events fails it with `States.Runtime`. Lambda tasks go through the Lambda
//! instance pool (cold starts, keep-alive, burst scaling; a throttled invoke fails the task with
//! `Lambda.TooManyRequestsException`). State objects travel through S3. Express workflows bill
//! requests and duration instead of transitions.
//!
//! Transitions counted: one per state entered (Task, Parallel, Map, and each state inside every
//! branch and iteration); a generated machine ends with `End: true` on its last state, so it
//! has no Succeed state (SFDG: "a state transition is counted each time a step in your
//! execution is completed"; platform-facts.md §2 notes the practitioner reading for Map and
//! Parallel). Express workflows have no transition throttle and no history limit, bill requests
//! and duration, and time out after 5 minutes.
//!
//! **Parameters.** `models/aws-step.toml`, `models/aws-lambda.toml`.
//!
//! **Scope and limitations.** Retry/Catch, Wait and Choice states, Distributed Map and the
//! StartExecution throttle are not modelled in generated machines; Amazon States Language import
//! is separate work.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: transitions of a Map over n items, the 300 KB
//! payload failure, the concurrency cap of a Map.

use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::{DeploymentConfig, Node, Workflow};

use super::{AppDef, Class, Cont, DeploymentPlan, Driver, ExecId, InvId, JoinId, Owned, Slab, StrandId, Timer, World, scaled};
use crate::billing::Cost;
use crate::deployment::{ConfigError, Deployment, FunctionPlatform};
use crate::error::PlatformError;
use crate::params::Models;
use crate::record::Component;

mod transitions;

/// Step Functions settings of a run.
#[derive(Clone, Debug)]
pub struct StepSetup {
    /// Transition latency (median s, sigma).
    pub latency: (f64, f64),
    /// Extra latency per KiB of payload, s.
    pub latency_s_per_kb: f64,
    /// Transition token bucket.
    pub bucket: f64,
    /// Refill per second.
    pub refill_per_s: f64,
    /// A state's data limit.
    pub payload: crate::payload::PayloadLimit,
    /// History events limit.
    pub history_max: u32,
    /// Map concurrency cap.
    pub map_max_concurrency: u32,
    /// History events per Task state.
    pub events_per_task: u32,
    /// $ per transition (Standard).
    pub price_usd_per_transition: f64,
    /// Express workflow.
    pub express: bool,
    /// Express $ per request.
    pub express_usd_per_request: f64,
    /// Express $ per GB-s.
    pub express_usd_per_gb_s: f64,
    /// Express base memory, MiB.
    pub express_memory_mb: f64,
    /// Express maximum duration.
    pub express_max_duration: SimDuration,
    /// A top-level parallel element is one Task (per-flow-element functions).
    pub per_flow_element: bool,
}

/// Builds the aws-step plan: one Lambda app per step.
pub fn plan(models: &Models, cfg: &DeploymentConfig, workflow: &Workflow) -> Result<DeploymentPlan, ConfigError> {
    for (key, set) in [("payload_limit_mode", cfg.payload_limit_mode.is_some()), ("extended_sessions", cfg.extended_sessions.is_some())] {
        if set {
            return Err(ConfigError {
                key: format!("deployment.aws-step.{key}"),
                message: format!("{key} applies to az-dorch and az-dent only"),
            });
        }
    }
    if cfg.functions == Some(sfsim_workflow::FunctionSplit::PerFlowElement) {
        for (i, n) in workflow.flow.iter().enumerate() {
            if matches!(n, Node::Parallel(_)) && super::chain::contains_fan_out(n) {
                return Err(ConfigError {
                    key: format!("workflow.flow.{i}"),
                    message: "functions = \"per-flow-element\" runs a parallel element in one Lambda, which cannot hold a fan-out".into(),
                });
            }
        }
    }
    let mut apps = Vec::new();
    for s in &workflow.steps {
        let platform = FunctionPlatform::build_for(Deployment::AwsLambda, "aws-step", models, cfg)?;
        apps.push(AppDef {
            name: format!("lambda {}", s.name),
            slots: [platform.slots_per_instance, 0, 0],
            lambda: true,
            http_interval: SimDuration::ZERO,
            queue_interval: SimDuration::ZERO,
            max_hosts: u32::MAX,
            platform,
        });
    }
    let m = &models.step;
    Ok(DeploymentPlan {
        deployment: Deployment::AwsStep,
        apps,
        driver: Driver::Step(Box::new(StepSetup {
            latency: (m.transitions.latency_s_median.value, m.transitions.latency_sigma.value),
            latency_s_per_kb: m.transitions.latency_s_per_kb.value,
            bucket: m.transitions.token_bucket.value,
            refill_per_s: m.transitions.refill_per_s.value,
            payload: crate::payload::PayloadLimit::failing(
                (m.limits.payload_max_kb.value * 1024.0) as u64,
                crate::payload::PayloadError::StepData,
            ),
            history_max: m.limits.history_max_events.value as u32,
            map_max_concurrency: m.limits.map_max_concurrency.value as u32,
            events_per_task: m.limits.events_per_task.value as u32,
            price_usd_per_transition: m.billing.price_usd_per_transition.value,
            express: match cfg.workflow_type {
                Some(t) => t == sfsim_workflow::StepWorkflowType::Express,
                None => m.billing.express.value >= 0.5,
            },
            express_usd_per_request: m.billing.express_price_usd_per_request.value,
            express_usd_per_gb_s: m.billing.express_price_usd_per_gb_s.value,
            express_memory_mb: m.billing.express_memory_mb_base.value,
            express_max_duration: SimDuration::from_secs_f64(m.billing.express_max_duration_s.value),
            per_flow_element: cfg.functions == Some(sfsim_workflow::FunctionSplit::PerFlowElement),
        })),
    })
}

/// A running sequence of states (the machine itself, a branch, or a Map iteration).
struct Seq {
    exec: ExecId,
    nodes: Vec<Node>,
    pc: usize,
    share: f64,
    item: u32,
    strand: StrandId,
    parent: Option<(u32, u32)>,
    /// Map iteration: when it was scheduled (for the per-worker figures).
    worker_since: Option<SimTime>,
    /// Its first Lambda has started (the scheduling delay is recorded once).
    worker_started: bool,
}

/// A Parallel or Map state waiting for its children.
struct Group {
    seq: u32,
    join: JoinId,
    /// Map: iterations not yet started (their strands, waiting for a concurrency slot).
    waiting: Vec<(StrandId, u32)>,
    body: Vec<Node>,
    share: f64,
}

impl StepState {
    /// Frees a sequence of an ended execution.
    pub(crate) fn free_seq(&mut self, id: u32) {
        self.seqs.remove(id, |s| s.nodes = Vec::new());
    }

    /// Frees a Parallel or Map group of an ended execution.
    pub(crate) fn free_group(&mut self, id: u32) {
        self.groups.remove(id, |g| {
            g.waiting = Vec::new();
            g.body = Vec::new();
        });
    }
}

/// Step Functions state of a world.
#[derive(Default)]
pub struct StepState {
    seqs: Slab<Seq>,
    groups: Slab<Group>,
    tokens: f64,
    tokens_at: SimTime,
    started: bool,
    /// Machines given in ASL.
    pub(crate) asl: super::asl_run::AslState2,
}

impl World<'_> {
    /// The Step Functions driver's settings (its code runs only for an aws-step plan).
    fn sf_setup(&self) -> &StepSetup {
        match &self.plan.driver {
            Driver::Step(s) => s,
            _ => unreachable!("Step Functions driver code runs only for aws-step"),
        }
    }

    pub(crate) fn step_start(&mut self, now: SimTime, e: ExecId) {
        self.step_start_common(now, e);
        if self.wf.asl.is_some() {
            self.asl_start(now, e);
            return;
        }
        let strand = self.main_strand(e);
        let flow = self.wf.flow.clone();
        let seq = self.new_seq(e, flow, 1.0, 0, strand, None, None);
        self.transition(now, seq, self.wf.input_bytes);
    }

    fn step_start_common(&mut self, now: SimTime, e: ExecId) {
        if !self.sf.started {
            self.sf.started = true;
            self.sf.tokens = self.sf_setup().bucket;
            self.sf.tokens_at = now;
        }
        if let Some(x) = self.execs.get_mut(e) {
            x.history_events = 2; // ExecutionStarted, ExecutionSucceeded
        }
        if self.sf_setup().express {
            let s = self.sf_setup().express_usd_per_request;
            self.acc(e).cost.add(&Cost { requests: s, ..Cost::default() });
            let limit = self.sf_setup().express_max_duration;
            self.q.schedule(now + limit, super::Ev::Timer(Timer::ExpressDeadline { exec: e }));
        }
    }

    /// An Express execution still running at its 5-minute limit times out.
    pub(crate) fn express_deadline(&mut self, now: SimTime, e: ExecId) {
        if !self.exec_done(e) {
            let limit = self.sf_setup().express_max_duration;
            self.fail_exec(now, e, PlatformError::StepExpressTimeout { limit });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_seq(
        &mut self,
        exec: ExecId,
        nodes: Vec<Node>,
        share: f64,
        item: u32,
        strand: StrandId,
        parent: Option<(u32, u32)>,
        worker_since: Option<SimTime>,
    ) -> u32 {
        let id = self.sf.seqs.insert(Seq { exec, nodes, pc: 0, share, item, strand, parent, worker_since, worker_started: false });
        self.own(exec, Owned::Seq(id));
        id
    }

    /// Starts the transition into state `pc` of `seq` (or into Succeed when past the end).
    fn transition(&mut self, now: SimTime, seq: u32, payload: u64) {
        let (e, strand, pc) = {
            let s = &self.sf.seqs[seq as usize];
            (s.exec, s.strand, s.pc)
        };
        if self.exec_done(e) {
            return;
        }
        if pc >= self.sf.seqs[seq as usize].nodes.len() {
            // A generated machine's last state has `End: true`: ending the machine, a branch or
            // an iteration is not a state of its own, so there is no transition.
            self.seq_finished(now, seq);
            return;
        }
        if let Some(at) = self.step_transition_time(now, e, payload) {
            self.q.schedule(at, super::Ev::Timer(Timer::StepEnter { run: seq, state: pc as u32, strand }));
        }
    }

    /// A state transition on the execution's timeline track.
    pub(crate) fn trace_transition(&mut self, now: SimTime, e: ExecId, what: impl FnOnce() -> String) {
        if self.spec.trace {
            let track = super::EXEC_TRACK_BASE + e.0;
            self.trace.push(crate::trace::TraceEvent::Instant { track, name: format!("transition into {}", what()), at: now });
        }
    }

    pub(crate) fn sf_setup_events_per_task(&self) -> u32 {
        self.sf_setup().events_per_task
    }

    pub(crate) fn step_map_cap(&self) -> u32 {
        self.sf_setup().map_max_concurrency
    }

    /// The machine entered Succeed: the execution ends (Express bills its duration).
    pub(crate) fn step_machine_succeeded(&mut self, now: SimTime, e: ExecId) {
        if self.sf_setup().express {
            let setup = self.sf_setup().clone();
            let arrival = self.execs.get(e).map_or(now, |x| x.arrival);
            let dur = now.saturating_since(arrival).round_up_to(SimDuration::from_millis(100));
            let mem_mb = ((setup.express_memory_mb + self.wf.input_bytes as f64 / 1_048_576.0) / 64.0).ceil() * 64.0;
            let usd = dur.as_secs_f64() * mem_mb / 1024.0 * setup.express_usd_per_gb_s;
            self.acc(e).cost.add(&Cost { compute: usd, ..Cost::default() });
        }
        self.complete_exec(now, e);
    }

    pub(crate) fn step_enter(&mut self, now: SimTime, seq: u32, state: u32, strand: StrandId) {
        if self.exec_done(strand.exec) {
            return; // the sequence went with its execution
        }
        let (e, share, item) = {
            let s = &self.sf.seqs[seq as usize];
            (s.exec, s.share, s.item)
        };
        if self.exec_done(e) {
            return;
        }
        self.charge(strand, now, Component::Scheduling);
        self.trace_transition(now, e, || format!("state {state}"));
        let nodes_len = self.sf.seqs[seq as usize].nodes.len();
        if state as usize >= nodes_len {
            self.seq_finished(now, seq);
            return;
        }
        let node = self.sf.seqs[seq as usize].nodes[state as usize].clone();
        match node {
            Node::Step(s) => {
                let per_task = self.sf_setup().events_per_task;
                if !self.add_history(now, e, per_task) {
                    return;
                }
                let phases = self.phases_of(e, s, item, share, s.0 as u16, true);
                let v = self.new_inv(
                    s.0 as u16,
                    Class::Function,
                    e,
                    vec![strand],
                    phases,
                    Cont::StepTask { run: seq, task: s.0, grouped: false },
                    now,
                );
                self.invoke(now, v);
            }
            Node::Parallel(branches) if self.sf_setup().per_flow_element && self.sf.seqs[seq as usize].parent.is_none() => {
                // One Task whose function (the app of the element's first step) runs every
                // branch in turn.
                if !self.add_history(now, e, self.sf_setup().events_per_task) {
                    return;
                }
                let first = first_step(&branches).expect("a parallel node has steps");
                let mut phases = Vec::new();
                self.nodes_phases(e, &[Node::Parallel(branches)], item, share, true, first.0 as u16, &mut phases);
                let cont = Cont::StepTask { run: seq, task: first.0, grouped: true };
                let v = self.new_inv(first.0 as u16, Class::Function, e, vec![strand], phases, cont, now);
                self.invoke(now, v);
            }
            Node::Parallel(branches) => {
                if !self.add_history(now, e, 2 + 2 * branches.len() as u32) {
                    return;
                }
                let (join, children) = self.fork(strand, branches.len() as u32, now);
                let g = self.new_group(seq, join, Vec::new(), share);
                for (b, child) in branches.into_iter().zip(children) {
                    let input = first_input(self.wf, &b, share);
                    let c = self.new_seq(e, b, share, item, child, Some((g, 0)), None);
                    self.transition(now, c, input);
                }
            }
            Node::FanOut(f) => {
                let f = self.wf.fan_outs[f.0 as usize].clone();
                if !self.add_history(now, e, 2 + 2 * f.items) {
                    return;
                }
                let (join, children) = self.fork(strand, f.items, now);
                let share2 = share * f.share();
                let waiting: Vec<(StrandId, u32)> =
                    children.into_iter().enumerate().map(|(k, c)| (c, if f.split { 0 } else { k as u32 })).rev().collect();
                let g = self.new_group(seq, join, waiting, share2);
                self.sf.groups[g as usize].body = f.body.clone();
                let cap = self.sf_setup().map_max_concurrency.min(f.items);
                for _ in 0..cap {
                    self.start_iteration(now, g);
                }
            }
        }
    }

    fn new_group(&mut self, seq: u32, join: JoinId, waiting: Vec<(StrandId, u32)>, share: f64) -> u32 {
        let exec = self.sf.seqs[seq as usize].exec;
        let id = self.sf.groups.insert(Group { seq, join, waiting, body: Vec::new(), share });
        self.own(exec, Owned::Group(id));
        id
    }

    fn start_iteration(&mut self, now: SimTime, g: u32) {
        let Some((child, item)) = self.sf.groups[g as usize].waiting.pop() else {
            return;
        };
        let seq = self.sf.groups[g as usize].seq;
        let e = self.sf.seqs[seq as usize].exec;
        // Time spent waiting for a Map concurrency slot is scheduling.
        self.charge(child, now, Component::Scheduling);
        let body = self.sf.groups[g as usize].body.clone();
        let share = self.sf.groups[g as usize].share;
        let input = first_input(self.wf, &body, share);
        let since = self.strand_mark(child);
        let c = self.new_seq(e, body, share, item, child, Some((g, 1)), since);
        self.transition(now, c, input);
    }

    /// A sequence ran past its last state.
    fn seq_finished(&mut self, now: SimTime, seq: u32) {
        let (e, strand, parent, since) = {
            let s = &self.sf.seqs[seq as usize];
            (s.exec, s.strand, s.parent, s.worker_since)
        };
        match parent {
            None => self.step_machine_succeeded(now, e),
            Some((g, kind)) => {
                if let Some(t) = since {
                    self.worker_latency_s.push(now.saturating_since(t).as_secs_f64());
                }
                let join = self.sf.groups[g as usize].join;
                if kind == 1 {
                    self.start_iteration(now, g);
                }
                if let Some(parent_strand) = self.arrive_join(join, strand, now) {
                    let pseq = self.sf.groups[g as usize].seq;
                    debug_assert_eq!(self.sf.seqs[pseq as usize].strand, parent_strand);
                    let out = self.group_output(pseq);
                    self.sf.seqs[pseq as usize].pc += 1;
                    self.transition(now, pseq, out);
                }
            }
        }
    }

    fn group_output(&self, seq: u32) -> u64 {
        let s = &self.sf.seqs[seq as usize];
        match &s.nodes[s.pc] {
            Node::Parallel(bs) => bs.iter().map(|b| last_output(self.wf, b, s.share)).sum(),
            Node::FanOut(f) => {
                let f = &self.wf.fan_outs[f.0 as usize];
                (last_output_f(self.wf, &f.body, s.share * f.share()) * f64::from(f.items)).round() as u64
            }
            Node::Step(st) => scaled(self.wf.steps[st.0 as usize].output_bytes, s.share),
        }
    }

    pub(crate) fn step_task_done(&mut self, now: SimTime, v: InvId, seq: u32, step: u32, grouped: bool) {
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return;
        }
        let share = self.sf.seqs[seq as usize].share;
        let out = if grouped { self.group_output(seq) } else { scaled(self.wf.steps[step as usize].output_bytes, share) };
        self.sf.seqs[seq as usize].pc += 1;
        self.transition(now, seq, out);
    }

    pub(crate) fn step_task_failed(&mut self, now: SimTime, v: InvId, error: PlatformError) {
        let e = self.invs[v].exec;
        self.fail_exec(now, e, error);
    }

    /// Iteration start times for the per-worker scheduling delay: the Lambda handler start.
    pub(crate) fn step_worker_started(&mut self, now: SimTime, e: ExecId, seq: u32) {
        if self.exec_done(e) {
            return;
        }
        if let Some(sq) = self.sf.seqs.get_mut(seq)
            && let Some(t) = sq.worker_since
            && !sq.worker_started
        {
            sq.worker_started = true;
            self.worker_delay_s.push(now.saturating_since(t).as_secs_f64());
        }
    }
}

/// The first step of the first branch that has one.
fn first_step(branches: &[Vec<Node>]) -> Option<sfsim_workflow::StepId> {
    branches.iter().flatten().find_map(|n| match n {
        Node::Step(s) => Some(*s),
        Node::Parallel(bs) => first_step(bs),
        Node::FanOut(_) => None,
    })
}

fn first_input(wf: &Workflow, nodes: &[Node], share: f64) -> u64 {
    first_input_f(wf, nodes, share).round() as u64
}

fn last_output(wf: &Workflow, nodes: &[Node], share: f64) -> u64 {
    last_output_f(wf, nodes, share).round() as u64
}

// Sizes are computed in f64 and rounded once, so that N items of a split fan-out add up to
// exactly the total (rounding each item up would push a 256 KB total over the limit).
fn first_input_f(wf: &Workflow, nodes: &[Node], share: f64) -> f64 {
    match nodes.first() {
        Some(Node::Step(s)) => wf.steps[s.0 as usize].input_bytes as f64 * share,
        Some(Node::Parallel(bs)) => bs.iter().map(|b| first_input_f(wf, b, share)).fold(0.0, f64::max),
        Some(Node::FanOut(f)) => {
            let f = &wf.fan_outs[f.0 as usize];
            first_input_f(wf, &f.body, share * f.share()) * f64::from(f.items)
        }
        None => 0.0,
    }
}

fn last_output_f(wf: &Workflow, nodes: &[Node], share: f64) -> f64 {
    match nodes.last() {
        Some(Node::Step(s)) => wf.steps[s.0 as usize].output_bytes as f64 * share,
        Some(Node::Parallel(bs)) => bs.iter().map(|b| last_output_f(wf, b, share)).sum(),
        Some(Node::FanOut(f)) => {
            let f = &wf.fan_outs[f.0 as usize];
            last_output_f(wf, &f.body, share * f.share()) * f64::from(f.items)
        }
        None => 0.0,
    }
}
