//! `aws-step`: an AWS Step Functions state machine whose Task states invoke Lambda functions.
//!
//! **Models.** One interpreter runs every machine. A machine is either given in Amazon States
//! Language ([`sfsim_workflow::asl`]) or generated from the platform-neutral workflow: a step is
//! a Task state invoking the step's own Lambda function (one function, and so one pool of
//! execution environments, per step); a parallel node is a Parallel state; a fan-out is an
//! inline Map state over the items. Both are compiled once per plan into the same [`Program`].
//!
//! Entering a state is a *state transition* ([`transitions`]: token bucket, scheduling latency,
//! count, price). Task states invoke their step's Lambda through the Lambda instance pool (cold
//! starts, keep-alive, burst scaling; a throttled invoke fails the task with
//! `Lambda.TooManyRequestsException`); Pass does nothing; Wait sleeps (charged to
//! `scheduling`); Choice goes where the scenario chose; Parallel forks its branches and joins
//! them; Map runs its iterator over the items, at most `MaxConcurrency` (never more than 40, the
//! inline limit) at a time; Succeed ends the machine; Fail fails the execution with its `Error`.
//! A *Distributed* Map (since 2022-12; `map_mode` or ASL `ProcessorConfig`) starts each iteration
//! as a child workflow execution: up to 10,000 at once, with its own history (the parent records
//! 4 Map events, not 2 per item), Standard children billed per transition and Express children
//! per request and duration, each Express child failing the execution at its 5-minute limit.
//! A child's start costs the transition into its first state (no other start latency is
//! documented: assumed); items come from the state input and results go to the next state as
//! for an inline Map (`ItemReader`/`ResultWriter` through S3 and failure tolerance are not
//! modelled).
//! A failed task is retried by the first matching `Retry` rule (`IntervalSeconds x
//! BackoffRate^attempt`, up to `MaxAttempts`; every retry is a billed transition) and otherwise
//! caught by the first matching `Catch` rule. State objects travel through S3.
//!
//! **Data.** Payloads are sizes, not values. A run carries the size of its current data: the
//! execution's input, then each Task's output; a Parallel or Map state's result is the sum of
//! its children's results. A branch or iteration starts with its first Task's input. Every
//! transition carries the current data (it sets the per-KB latency); a Task's input and output
//! and a Parallel or Map result over 256 KB fail the execution with `States.DataLimitExceeded`.
//! Sizes are kept in f64 and rounded where checked, so that N items of a split fan-out add up to
//! exactly the total (rounding each item up would push a 256 KB total over the limit).
//!
//! Transitions counted: one per state entered (Task, Parallel, Map, and each state inside every
//! branch and iteration); a generated machine ends with `End: true` on its last state, so it
//! has no Succeed state (SFDG: "a state transition is counted each time a step in your
//! execution is completed"; platform-facts.md §2 notes the practitioner reading for Map and
//! Parallel). Every state adds history events (Task: `events_per_task`; Parallel and Map:
//! 2 + 2 per child; any other state: StateEntered and StateExited), so even a loop of Pass or
//! Choice states reaches the 25,000-event limit and fails as on AWS. Express workflows have no
//! transition throttle and no history limit, bill requests and duration, and time out after 5
//! minutes.
//!
//! **Parameters.** `models/aws-step.toml`, `models/aws-lambda.toml`.
//!
//! **Scope and limitations.** Data is not simulated: Choice branches and Map item counts come
//! from the scenario; `Catch` on Parallel and Map states is not supported (rejected when
//! loading). The StartExecution throttle is not modelled.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: transitions of a Map over n items, the 300 KB
//! payload failure, the concurrency cap of a Map, a real ASL file end to end with its transition
//! count and retries; `tests/distributed_map.rs`: a Distributed Map's concurrency, children's
//! own histories, Express children's bill and 5-minute limit; `tests/golden/aws-step.txt`.

use crate::workload::Item;
use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::asl::{AslCatch, AslMachine, AslNext, AslRetry, AslState};
use sfsim_workflow::{DeploymentConfig, MapMode, Node, StepId, Workflow};

use super::{AppDef, AppId, Class, Cont, DeploymentPlan, Driver, Ev, ExecId, InvId, JoinId, Owned, Slab, StrandId, Timer, World, slab_id};
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
    /// Inline Map concurrency cap.
    pub map_max_concurrency: u32,
    /// Distributed Map concurrency cap (child executions at once).
    pub distributed_max_concurrency: u32,
    /// History events a Distributed Map adds to its parent.
    pub events_per_distributed_map: u32,
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
    /// A Task's Lambda integration: invoke latency (median s, sigma), s per KiB of request and
    /// of response.
    pub invoke_latency: (f64, f64),
    /// Extra invoke latency per KiB of request, s.
    pub request_s_per_kb: f64,
    /// Extra latency per KiB of response, s.
    pub result_s_per_kb: f64,
    /// The machine, compiled.
    program: Program,
}

/// The machines of a plan, flattened: index 0 is the top level; a Parallel state names its
/// branches and a Map state its iterator by index.
#[derive(Clone, Debug, Default)]
struct Program {
    machines: Vec<Machine>,
    /// The payload limit a chunked fan-out's chunks are cut to, bytes.
    chunk_bytes: u64,
}

/// A state list with its start: the top level, a Parallel branch or a Map iterator.
#[derive(Clone, Debug)]
struct Machine {
    names: Vec<String>,
    states: Vec<State>,
    start: AslNext,
    /// What a branch or iteration of this machine starts with: its first Task's input at
    /// share 1, bytes.
    input_bytes: f64,
}

/// A compiled state.
#[derive(Clone, Debug)]
enum State {
    Task {
        task: Task,
        next: AslNext,
        retry: Vec<AslRetry>,
        catch: Vec<AslCatch>,
    },
    Pass {
        next: AslNext,
    },
    Wait {
        seconds: f64,
        next: AslNext,
    },
    Choice {
        next: usize,
    },
    Parallel {
        branches: Vec<usize>,
        next: AslNext,
    },
    /// `item_shares`: the part of the work each item does (a split fan-out: equal, or the chunks
    /// each worker takes; empty: 1 each); `same_item`: every item draws item 0's work (a split
    /// fan-out divides one piece of work).
    Map {
        iterator: usize,
        items: u32,
        max_concurrency: u32,
        item_shares: Vec<f64>,
        same_item: bool,
        mode: MapMode,
        next: AslNext,
    },
    Succeed,
    Fail {
        error: String,
    },
}

/// What a Task's Lambda runs, with its sizes at share 1.
#[derive(Clone, Debug)]
struct Task {
    /// The app (one per step) whose function runs it.
    app: AppId,
    work: Work,
    input_bytes: f64,
    output_bytes: f64,
}

#[derive(Clone, Debug)]
enum Work {
    Step(StepId),
    /// A whole parallel flow element in one function (per-flow-element functions).
    Grouped(Vec<Node>),
}

impl Program {
    /// The machine generated from the workflow's flow.
    fn generated(wf: &Workflow, per_flow_element: bool, map_mode: MapMode, chunk_bytes: u64) -> Program {
        let mut p = Program { chunk_bytes, ..Program::default() };
        p.nodes(wf, &wf.flow, per_flow_element, map_mode);
        p
    }

    fn nodes(&mut self, wf: &Workflow, nodes: &[Node], per_flow_element: bool, map_mode: MapMode) -> usize {
        let id = self.reserve();
        let mut states = Vec::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            let next = if i + 1 < nodes.len() { AslNext::State(i + 1) } else { AslNext::End };
            let state = match node {
                Node::Step(s) => State::Task { task: step_task(wf, *s), next, retry: Vec::new(), catch: Vec::new() },
                Node::Parallel(branches) => match first_step(branches) {
                    // One Task whose function (the app of the element's first step) runs every
                    // branch in turn.
                    Some(first) if per_flow_element => {
                        let group = [node.clone()];
                        let task = Task {
                            app: AppId(wf.steps[first.0 as usize].function.0 as u16),
                            input_bytes: first_input(wf, &group),
                            output_bytes: last_output(wf, &group),
                            work: Work::Grouped(group.to_vec()),
                        };
                        State::Task { task, next, retry: Vec::new(), catch: Vec::new() }
                    }
                    _ => State::Parallel { branches: branches.iter().map(|b| self.nodes(wf, b, false, map_mode)).collect(), next },
                },
                Node::FanOut(f) => {
                    let f = &wf.fan_outs[f.0 as usize];
                    let iterator = self.nodes(wf, &f.body, false, map_mode);
                    let cb = self.chunk_bytes;
                    let items = f.item_count(cb);
                    State::Map {
                        iterator,
                        items,
                        max_concurrency: 0,
                        item_shares: (0..items).map(|k| f.item_share(k, cb)).collect(),
                        same_item: f.split,
                        mode: map_mode,
                        next,
                    }
                }
                // Refused when the plan is built (`refuse_entity_elements`).
                Node::CallEntity(_) | Node::SignalEntity(_) | Node::Lock(..) => State::Pass { next },
            };
            states.push(state);
        }
        let start = if nodes.is_empty() { AslNext::End } else { AslNext::State(0) };
        self.finish(id, (0..nodes.len()).map(|i| format!("state {i}")).collect(), states, start)
    }

    /// A machine given in ASL.
    fn asl(&mut self, wf: &Workflow, m: &AslMachine) -> usize {
        let id = self.reserve();
        let states = m
            .states
            .iter()
            .map(|s| match s {
                AslState::Task { step, next, retry, catch } => {
                    State::Task { task: step_task(wf, StepId(*step)), next: next.clone(), retry: retry.clone(), catch: catch.clone() }
                }
                AslState::Pass { next } => State::Pass { next: next.clone() },
                AslState::Wait { seconds, next } => State::Wait { seconds: *seconds, next: next.clone() },
                AslState::Choice { next } => State::Choice { next: *next },
                AslState::Parallel { branches, next } => {
                    State::Parallel { branches: branches.iter().map(|b| self.asl(wf, b)).collect(), next: next.clone() }
                }
                AslState::Map { iterator, items, max_concurrency, mode, next } => State::Map {
                    iterator: self.asl(wf, iterator),
                    items: *items,
                    max_concurrency: *max_concurrency,
                    item_shares: Vec::new(),
                    same_item: false,
                    mode: *mode,
                    next: next.clone(),
                },
                AslState::Succeed => State::Succeed,
                AslState::Fail { error } => State::Fail { error: error.clone() },
            })
            .collect();
        self.finish(id, m.names.clone(), states, AslNext::State(m.start))
    }

    fn reserve(&mut self) -> usize {
        self.machines.push(Machine { names: Vec::new(), states: Vec::new(), start: AslNext::End, input_bytes: 0.0 });
        self.machines.len() - 1
    }

    fn finish(&mut self, id: usize, names: Vec<String>, states: Vec<State>, start: AslNext) -> usize {
        let input_bytes = match start {
            AslNext::State(s) => match &states[s] {
                State::Task { task, .. } => task.input_bytes,
                State::Parallel { branches, .. } => branches.iter().map(|&b| self.machines[b].input_bytes).fold(0.0, f64::max),
                State::Map { iterator, items, item_shares, .. } => {
                    let total = if item_shares.is_empty() { f64::from(*items) } else { item_shares.iter().sum() };
                    self.machines[*iterator].input_bytes * total
                }
                _ => 0.0,
            },
            AslNext::End => 0.0,
        };
        self.machines[id] = Machine { names, states, start, input_bytes };
        id
    }
}

fn step_task(wf: &Workflow, s: StepId) -> Task {
    let st = &wf.steps[s.0 as usize];
    // A later occurrence of a repeated step runs in the first occurrence's function.
    Task { app: AppId(st.function.0 as u16), work: Work::Step(s), input_bytes: st.input_bytes as f64, output_bytes: st.output_bytes as f64 }
}

/// Builds the aws-step plan: one Lambda app per step, and the machine compiled.
pub fn plan(models: &Models, cfg: &DeploymentConfig, workflow: &Workflow) -> Result<DeploymentPlan, ConfigError> {
    for (key, set) in [("payload_limit_mode", cfg.payload_limit_mode.is_some()), ("extended_sessions", cfg.extended_sessions.is_some())] {
        if set {
            return Err(ConfigError {
                key: format!("deployment.aws-step.{key}"),
                message: format!("{key} applies to az-dorch and az-dent only"),
            });
        }
    }
    if cfg.map_mode.is_some() && workflow.asl.is_some() {
        return Err(ConfigError {
            key: "deployment.aws-step.map_mode".into(),
            message: "map_mode applies to a machine generated from the flow; an ASL machine sets each Map's ItemProcessor.ProcessorConfig"
                .into(),
        });
    }
    let per_flow_element = cfg.functions == Some(sfsim_workflow::FunctionSplit::PerFlowElement);
    if per_flow_element {
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
    // One Lambda function per step; a repeated step's later occurrences (appended after the
    // steps, `Step::function`) run in the first one's.
    for (i, s) in workflow.steps.iter().enumerate().filter(|(i, s)| s.function.0 as usize == *i) {
        debug_assert_eq!(i, apps.len(), "repeated occurrences come after every step");
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
    let program = match &workflow.asl {
        Some(m) => {
            let mut p = Program::default();
            p.asl(workflow, m);
            p
        }
        None => Program::generated(
            workflow,
            per_flow_element,
            cfg.map_mode.unwrap_or_default(),
            Deployment::AwsStep.chunk_payload_bytes(models),
        ),
    };
    let m = &models.step;
    let distributed =
        program.machines.iter().flat_map(|m| &m.states).any(|s| matches!(s, State::Map { mode, .. } if *mode != MapMode::Inline));
    if distributed && m.limits.distributed_map.value < 0.5 {
        return Err(ConfigError {
            key: if workflow.asl.is_some() { "workflow.asl".into() } else { "deployment.aws-step.map_mode".into() },
            message: "Distributed Map launched on 2022-12-01, after the study era of these models; set [scenario] profile = \"2026\" (or models.aws-step.limits.distributed_map = 1)".into(),
        });
    }
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
            distributed_max_concurrency: m.limits.distributed_map_max_concurrency.value as u32,
            events_per_distributed_map: m.limits.events_per_distributed_map.value as u32,
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
            invoke_latency: (m.tasks.invoke_latency_s_median.value, m.tasks.invoke_latency_sigma.value),
            request_s_per_kb: m.tasks.request_s_per_kb.value,
            result_s_per_kb: m.tasks.result_s_per_kb.value,
            program,
        })),
        chunk_bytes: 0,
    })
}

slab_id!(
    /// A running state list of an execution (the machine, a branch, a Map iteration).
    RunId => Run
);
slab_id!(
    /// A Parallel or Map state waiting for its children.
    GroupId => Group
);

/// One running state list: the machine, a Parallel branch, or a Map iteration.
struct Run {
    exec: ExecId,
    machine: usize,
    state: usize,
    share: f64,
    item: Item,
    strand: StrandId,
    parent: Option<GroupId>,
    /// Retries of the current Task so far.
    attempt: u32,
    /// Map iteration: when it was scheduled (for the per-worker figures).
    worker_since: Option<SimTime>,
    /// Its first Lambda has started (the scheduling delay is recorded once).
    worker_started: bool,
    /// The size of the run's current data (its input, then each result), bytes.
    data: f64,
    /// The service's time to take the last Task's response, added to what comes next.
    response: SimDuration,
    /// The child execution of a Distributed Map this run belongs to (the id of its root run),
    /// or `None` in the execution itself.
    child: Option<RunId>,
    /// Runs inside an Express workflow (no transition throttle, price or history).
    express: bool,
    /// A child execution's root: its history events so far.
    history_events: u32,
    /// When the run started.
    since: SimTime,
    /// Its machine has ended.
    finished: bool,
}

/// A Parallel or Map state waiting for its children.
struct Group {
    run: RunId,
    join: JoinId,
    /// Map: iterations not yet started (strand, item), and the iterator; Parallel: none.
    waiting: Vec<(StrandId, Item)>,
    iterator: Option<usize>,
    /// Sum of the children's results: the state's result, bytes.
    output: f64,
}

/// Step Functions state of a world.
#[derive(Default)]
pub struct StepState {
    runs: Slab<Run>,
    groups: Slab<Group>,
    tokens: f64,
    tokens_at: SimTime,
    /// Transitions waiting for their token, in grant order: (token time, latency after it,
    /// run, strand) ([`World::enter_after_token`]).
    token_line: std::collections::VecDeque<(SimTime, SimDuration, RunId, StrandId)>,
    /// Whether the token line's event is pending.
    token_line_armed: bool,
    started: bool,
}

impl StepState {
    /// Runs and groups still stored (none once every execution ended).
    pub(crate) fn live(&self) -> usize {
        self.runs.live() + self.groups.live()
    }

    /// Frees a run of an ended execution.
    pub(crate) fn free_run(&mut self, id: RunId) {
        self.runs.remove(id.0, |_| {});
    }

    /// Frees a Parallel or Map group of an ended execution.
    pub(crate) fn free_group(&mut self, id: GroupId) {
        self.groups.remove(id.0, |g| g.waiting = Vec::new());
    }
}

fn rounded(bytes: f64) -> u64 {
    bytes.round() as u64
}

impl<'a> World<'a> {
    /// The Step Functions driver's settings (its code runs only for an aws-step plan).
    fn sf_setup(&self) -> &'a StepSetup {
        let plan: &'a DeploymentPlan = self.plan;
        match &plan.driver {
            Driver::Step(s) => s,
            _ => unreachable!("Step Functions driver code runs only for aws-step"),
        }
    }

    fn machine(&self, m: usize) -> &'a Machine {
        &self.sf_setup().program.machines[m]
    }

    pub(crate) fn step_start(&mut self, now: SimTime, e: ExecId) {
        if !self.sf.started {
            self.sf.started = true;
            self.sf.tokens = self.sf_setup().bucket;
            self.sf.tokens_at = now;
        }
        if let Some(x) = self.execs.get_mut(e) {
            x.history_events = 2; // ExecutionStarted, ExecutionSucceeded
        }
        let setup = self.sf_setup();
        if setup.express {
            self.acc(e).cost.add(&Cost { requests: setup.express_usd_per_request, ..Cost::default() });
            self.q.schedule(now + setup.express_max_duration, Ev::Timer(Timer::ExpressDeadline { exec: e }));
        }
        let strand = self.main_strand(e);
        let run = self.new_run(now, e, 0, 1.0, Item::ZERO, strand, None, None);
        self.sf.runs[run].data = self.wf.input_bytes as f64;
        self.start_machine(now, run);
    }

    /// An Express execution still running at its 5-minute limit times out.
    pub(crate) fn express_deadline(&mut self, now: SimTime, e: ExecId) {
        if !self.exec_done(e) {
            let limit = self.sf_setup().express_max_duration;
            self.fail_exec(now, e, PlatformError::StepExpressTimeout { limit });
        }
    }

    /// A new run; it belongs to the child execution and workflow type of its parent group's run.
    #[allow(clippy::too_many_arguments)]
    fn new_run(
        &mut self,
        now: SimTime,
        exec: ExecId,
        machine: usize,
        share: f64,
        item: Item,
        strand: StrandId,
        parent: Option<GroupId>,
        worker_since: Option<SimTime>,
    ) -> RunId {
        let data = self.machine(machine).input_bytes * share;
        let (child, express) = match parent {
            Some(g) => {
                let pr = &self.sf.runs[self.sf.groups[g].run];
                (pr.child, pr.express)
            }
            None => (None, self.sf_setup().express),
        };
        let id = RunId(self.sf.runs.insert(Run {
            exec,
            machine,
            state: 0,
            share,
            item,
            strand,
            parent,
            attempt: 0,
            worker_since,
            worker_started: false,
            data,
            response: SimDuration::ZERO,
            child,
            express,
            history_events: 0,
            since: now,
            finished: false,
        }));
        self.own(exec, Owned::StepRun(id));
        id
    }

    fn start_machine(&mut self, now: SimTime, run: RunId) {
        let start = self.machine(self.sf.runs[run].machine).start.clone();
        self.go(now, run, start);
    }

    /// Moves `run` on: a transition into the next state, or the end of its machine (a
    /// generated machine's last state has `End: true`: ending is not a state of its own).
    fn go(&mut self, now: SimTime, run: RunId, next: AslNext) {
        match next {
            AslNext::State(j) => self.transition(now, run, j),
            AslNext::End => {
                let r = &mut self.sf.runs[run];
                match std::mem::take(&mut r.response) {
                    SimDuration::ZERO => self.run_finished(now, run),
                    d => {
                        let strand = r.strand;
                        self.q.schedule(now + d, Ev::Timer(Timer::StepResult { run, strand }));
                    }
                }
            }
        }
    }

    /// A transition of `run` into `state` (token, latency, count, price), carrying its data,
    /// after the service took the last Task's response; into a Task, the service then sends the
    /// Invoke request with the state's input (one event: the state is entered when the request
    /// reaches Lambda).
    fn transition(&mut self, now: SimTime, run: RunId, state: usize) {
        let r = &mut self.sf.runs[run];
        r.state = state;
        let response = std::mem::take(&mut r.response);
        let (e, strand, data, m, share, express) = (r.exec, r.strand, rounded(r.data), r.machine, r.share, r.express);
        if self.exec_done(e) {
            return;
        }
        if let Some((token, latency)) = self.step_transition_time(now, e, data, express) {
            let setup = self.sf_setup();
            let invoke = match &self.machine(m).states[state] {
                State::Task { task, .. } => {
                    let (median, sigma) = setup.invoke_latency;
                    let input = rounded(task.input_bytes * share);
                    self.lognormal(median, sigma) + SimDuration::from_secs_f64(setup.request_s_per_kb * input as f64 / 1024.0)
                }
                _ => SimDuration::ZERO,
            };
            self.enter_after_token(now, token, latency + response + invoke, run, strand);
        }
    }

    /// A state transition on the execution's timeline track.
    fn trace_transition(&mut self, now: SimTime, e: ExecId, name: &str) {
        if self.spec.trace {
            let track = super::EXEC_TRACK_BASE + e.0;
            self.trace.push(crate::trace::TraceEvent::Instant { track, name: format!("transition into {name}"), at: now });
        }
    }

    /// The machine entered Succeed: the execution ends (Express bills its duration).
    fn machine_succeeded(&mut self, now: SimTime, e: ExecId) {
        if self.sf_setup().express {
            let arrival = self.execs.get(e).map_or(now, |x| x.arrival);
            self.bill_express_duration(e, arrival, now, self.wf.input_bytes as f64);
        }
        self.complete_exec(now, e);
    }

    /// Bills an Express workflow's duration from `since` to `now`: rounded up to 100 ms, at
    /// its memory (base plus input) in 64 MB chunks.
    fn bill_express_duration(&mut self, e: ExecId, since: SimTime, now: SimTime, input_bytes: f64) {
        let setup = self.sf_setup();
        let dur = now.saturating_since(since).round_up_to(SimDuration::from_millis(100));
        let mem_mb = ((setup.express_memory_mb + input_bytes / 1_048_576.0) / 64.0).ceil() * 64.0;
        let usd = dur.as_secs_f64() * mem_mb / 1024.0 * setup.express_usd_per_gb_s;
        self.acc(e).cost.add(&Cost { compute: usd, ..Cost::default() });
    }

    /// The transition of `run` ended: it enters its state.
    pub(crate) fn step_enter(&mut self, now: SimTime, run: RunId, strand: StrandId) {
        if self.exec_done(strand.exec) {
            return; // the run went with its execution
        }
        let r = &self.sf.runs[run];
        let (e, m, s, share, item) = (r.exec, r.machine, r.state, r.share, r.item);
        self.charge(strand, now, Component::Scheduling);
        let machine = self.machine(m);
        self.trace_transition(now, e, &machine.names[s]);
        let setup = self.sf_setup();
        let events = match &machine.states[s] {
            State::Task { .. } => setup.events_per_task,
            State::Parallel { branches, .. } => 2 + 2 * branches.len() as u32,
            State::Map { items, mode: MapMode::Inline, .. } => 2 + 2 * items,
            State::Map { .. } => setup.events_per_distributed_map,
            _ => 2, // StateEntered, StateExited
        };
        if !self.add_history(now, run, events) {
            return;
        }
        match &machine.states[s] {
            State::Task { task, .. } => {
                let input = rounded(task.input_bytes * share);
                if !self.step_payload_ok(now, e, input) {
                    return;
                }
                let phases = match &task.work {
                    Work::Step(st) => self.phases_of(e, *st, item, share, task.app, true),
                    Work::Grouped(nodes) => {
                        let mut phases = Vec::new();
                        self.nodes_phases(e, nodes, item, share, true, task.app, &mut phases);
                        phases
                    }
                };
                let v = self.new_inv(task.app, Class::Function, e, vec![strand], phases, Cont::StepTask { run }, now);
                self.invoke(now, v);
            }
            State::Pass { next } => self.go(now, run, next.clone()),
            State::Wait { seconds, .. } => {
                self.q.schedule(now + SimDuration::from_secs_f64(*seconds), Ev::Timer(Timer::StepWaited { exec: e, run }));
            }
            State::Choice { next } => self.transition(now, run, *next),
            State::Succeed => self.run_finished(now, run),
            State::Fail { error } => self.fail_exec(now, e, PlatformError::StepFail { error: error.clone() }),
            State::Parallel { branches, .. } => {
                let (join, strands) = self.fork(strand, branches.len() as u32, now);
                let g = self.new_group(run, join, Vec::new(), None);
                for (&b, child) in branches.iter().zip(strands) {
                    // A branch that failed the execution at once (a data limit) ends it: the
                    // runs of the branches after it are not created (no execution would own them).
                    if self.exec_done(e) {
                        break;
                    }
                    let r = self.new_run(now, e, b, share, item, child, Some(g), None);
                    self.start_machine(now, r);
                }
            }
            State::Map { iterator, items, max_concurrency, same_item, mode, .. } => {
                let (join, strands) = self.fork(strand, *items, now);
                let waiting = strands.into_iter().enumerate().map(|(k, c)| (c, Item::of(k as u32, *same_item))).rev().collect();
                let g = self.new_group(run, join, waiting, Some(*iterator));
                let mode_cap = match mode {
                    MapMode::Inline => setup.map_max_concurrency,
                    MapMode::Distributed | MapMode::DistributedExpress => setup.distributed_max_concurrency,
                };
                let cap = if *max_concurrency == 0 { mode_cap } else { (*max_concurrency).min(mode_cap) };
                for _ in 0..cap.min(*items) {
                    if self.exec_done(e) {
                        break;
                    }
                    self.start_iteration(now, g);
                }
            }
        }
    }

    /// The service has taken the response of `run`'s last Task, which ended its machine.
    pub(crate) fn step_result(&mut self, now: SimTime, run: RunId, strand: StrandId) {
        if self.exec_done(strand.exec) {
            return;
        }
        self.charge(strand, now, Component::Scheduling);
        self.run_finished(now, run);
    }

    fn new_group(&mut self, run: RunId, join: JoinId, waiting: Vec<(StrandId, Item)>, iterator: Option<usize>) -> GroupId {
        let exec = self.sf.runs[run].exec;
        let id = GroupId(self.sf.groups.insert(Group { run, join, waiting, iterator, output: 0.0 }));
        self.own(exec, Owned::StepGroup(id));
        id
    }

    /// Starts the next waiting iteration of Map group `g`, if any.
    fn start_iteration(&mut self, now: SimTime, g: GroupId) {
        let group = &mut self.sf.groups[g];
        let left = group.waiting.len();
        let (Some((child, item)), Some(it)) = (group.waiting.pop(), group.iterator) else { return };
        let parent = &self.sf.runs[group.run];
        let (e, m, s) = (parent.exec, parent.machine, parent.state);
        let (item_share, mode) = match &self.machine(m).states[s] {
            State::Map { item_shares, items, mode, .. } => {
                // Iterations start in order: this one is iteration `items - left`.
                let k = (*items as usize).saturating_sub(left);
                (item_shares.get(k).copied().unwrap_or(1.0), *mode)
            }
            _ => (1.0, MapMode::Inline),
        };
        let share = parent.share * item_share;
        // Time spent waiting for a Map concurrency slot is scheduling.
        self.charge(child, now, Component::Scheduling);
        let since = self.strand_mark(child);
        let r = self.new_run(now, e, it, share, item, child, Some(g), since);
        if mode != MapMode::Inline {
            // A Distributed Map iteration is a child execution: its own history (ExecutionStarted,
            // ExecutionSucceeded), its own workflow type; an Express child is a billed request
            // that times out after 5 minutes.
            let express = mode == MapMode::DistributedExpress;
            let run = &mut self.sf.runs[r];
            (run.child, run.express, run.history_events) = (Some(r), express, 2);
            if express {
                let setup = self.sf_setup();
                self.acc(e).cost.add(&Cost { requests: setup.express_usd_per_request, ..Cost::default() });
                self.q.schedule(now + setup.express_max_duration, Ev::Timer(Timer::ExpressChildDeadline { run: r, strand: child }));
            }
        }
        self.start_machine(now, r);
    }

    /// An Express child execution still running at its 5-minute limit times out, and with it the
    /// Map Run and the execution (no failures tolerated).
    pub(crate) fn express_child_deadline(&mut self, now: SimTime, run: RunId, strand: StrandId) {
        if self.exec_done(strand.exec) || self.sf.runs[run].finished {
            return;
        }
        let limit = self.sf_setup().express_max_duration;
        self.fail_exec(now, strand.exec, PlatformError::StepExpressTimeout { limit });
    }

    /// A run ended its machine: the execution succeeds, or a branch or iteration joins.
    fn run_finished(&mut self, now: SimTime, run: RunId) {
        let r = &mut self.sf.runs[run];
        r.finished = true;
        let (e, strand, parent, since, out) = (r.exec, r.strand, r.parent, r.worker_since, r.data);
        let Some(g) = parent else {
            self.machine_succeeded(now, e);
            return;
        };
        if r.child == Some(run) && r.express {
            let (started, machine, share) = (r.since, r.machine, r.share);
            let input = self.machine(machine).input_bytes * share;
            self.bill_express_duration(e, started, now, input);
        }
        if let Some(t) = since {
            self.worker_latency(e, now.saturating_since(t).as_secs_f64());
        }
        self.sf.groups[g].output += out;
        self.start_iteration(now, g);
        let join = self.sf.groups[g].join;
        if self.arrive_join(join, strand, now).is_some() {
            let prun = self.sf.groups[g].run;
            let result = self.sf.groups[g].output;
            // The state's result is the array of its children's results: it is checked against
            // the payload limit and carried by the next transition.
            if !self.step_payload_ok(now, e, rounded(result)) {
                return;
            }
            let pr = &mut self.sf.runs[prun];
            pr.data = result;
            let (m, s) = (pr.machine, pr.state);
            let next = match &self.machine(m).states[s] {
                State::Parallel { next, .. } | State::Map { next, .. } => next.clone(),
                _ => unreachable!("groups belong to Parallel and Map states"),
            };
            self.go(now, prun, next);
        }
    }

    /// The Lambda of `run`'s Task returned.
    pub(crate) fn step_task_done(&mut self, now: SimTime, v: InvId, run: RunId) {
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return;
        }
        let r = &mut self.sf.runs[run];
        r.attempt = 0;
        let (m, s, share) = (r.machine, r.state, r.share);
        if let State::Task { task, next, .. } = &self.machine(m).states[s] {
            let out = task.output_bytes * share;
            if !self.step_payload_ok(now, e, rounded(out)) {
                return;
            }
            // The service takes the response back before recording it and moving on.
            let response = SimDuration::from_secs_f64(self.sf_setup().result_s_per_kb * out / 1024.0);
            let r = &mut self.sf.runs[run];
            r.data = out;
            r.response = response;
            self.go(now, run, next.clone());
        }
    }

    /// The Lambda of `run`'s Task failed: retried, caught, or the execution fails.
    pub(crate) fn step_task_failed(&mut self, now: SimTime, v: InvId, run: RunId, error: PlatformError) {
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return;
        }
        let r = &self.sf.runs[run];
        let (m, s, attempt) = (r.machine, r.state, r.attempt);
        let State::Task { retry, catch, .. } = &self.machine(m).states[s] else { return };
        let name = error.name();
        if let Some(r) = retry.iter().find(|r| r.matches(&name))
            && attempt < r.max_attempts
        {
            // A retry re-enters the state: a billed transition after the backoff.
            let wait = SimDuration::from_secs_f64(r.interval_s * r.backoff_rate.powi(attempt as i32));
            self.sf.runs[run].attempt += 1;
            self.q.schedule(now + wait, Ev::Timer(Timer::StepRetry { exec: e, run }));
            return;
        }
        if let Some(c) = catch.iter().find(|c| c.matches(&name)) {
            // The error output replaces the data (a few hundred bytes: counted as none).
            let r = &mut self.sf.runs[run];
            r.attempt = 0;
            r.data = 0.0;
            self.transition(now, run, c.next);
            return;
        }
        self.fail_exec(now, e, error);
    }

    /// A Wait state of `run` ended.
    pub(crate) fn step_waited(&mut self, now: SimTime, e: ExecId, run: RunId) {
        if self.exec_done(e) {
            return;
        }
        let r = &self.sf.runs[run];
        let (m, s, strand) = (r.machine, r.state, r.strand);
        self.charge(strand, now, Component::Scheduling);
        if let State::Wait { next, .. } = &self.machine(m).states[s] {
            self.go(now, run, next.clone());
        }
    }

    /// A retry's backoff ended: re-enter the Task state (a billed transition).
    pub(crate) fn step_retry(&mut self, now: SimTime, e: ExecId, run: RunId) {
        if self.exec_done(e) {
            return;
        }
        let s = self.sf.runs[run].state;
        self.transition(now, run, s);
    }

    /// The per-worker scheduling delay of a Map iteration: until its first Lambda started.
    pub(crate) fn step_worker_started(&mut self, now: SimTime, e: ExecId, run: RunId) {
        if self.exec_done(e) {
            return;
        }
        if let Some(r) = self.sf.runs.get_mut(run.0)
            && let Some(t) = r.worker_since
            && !r.worker_started
        {
            r.worker_started = true;
            self.worker_delay(e, now.saturating_since(t).as_secs_f64());
        }
    }

    /// The step a Task of `run` runs (for the timeline).
    pub(crate) fn step_task_app(&self, run: RunId) -> AppId {
        let r = &self.sf.runs[run];
        match &self.machine(r.machine).states[r.state] {
            State::Task { task, .. } => task.app,
            _ => AppId(0),
        }
    }
}

/// The first step of the first branch that has one.
fn first_step(branches: &[Vec<Node>]) -> Option<StepId> {
    branches.iter().flatten().find_map(|n| match n {
        Node::Step(s) => Some(*s),
        Node::Parallel(bs) => first_step(bs),
        Node::Lock(_, body) => first_step(std::slice::from_ref(body)),
        Node::FanOut(_) | Node::CallEntity(_) | Node::SignalEntity(_) => None,
    })
}

/// The input of a flow's first step at share 1, bytes (a fan-out: all its items').
fn first_input(wf: &Workflow, nodes: &[Node]) -> f64 {
    match nodes.first() {
        Some(Node::Step(s)) => wf.steps[s.0 as usize].input_bytes as f64,
        Some(Node::Parallel(bs)) => bs.iter().map(|b| first_input(wf, b)).fold(0.0, f64::max),
        Some(Node::FanOut(f)) => {
            let f = &wf.fan_outs[f.0 as usize];
            first_input(wf, &f.body) * f.share() * f64::from(f.items)
        }
        Some(Node::Lock(_, body)) => first_input(wf, body),
        Some(Node::CallEntity(_) | Node::SignalEntity(_)) | None => 0.0,
    }
}

/// The output of a flow's last step at share 1, bytes (parallel branches': their sum).
fn last_output(wf: &Workflow, nodes: &[Node]) -> f64 {
    match nodes.last() {
        Some(Node::Step(s)) => wf.steps[s.0 as usize].output_bytes as f64,
        Some(Node::Parallel(bs)) => bs.iter().map(|b| last_output(wf, b)).sum(),
        Some(Node::FanOut(f)) => {
            let f = &wf.fan_outs[f.0 as usize];
            last_output(wf, &f.body) * f.share() * f64::from(f.items)
        }
        Some(Node::Lock(_, body)) => last_output(wf, body),
        Some(Node::CallEntity(_) | Node::SignalEntity(_)) | None => 0.0,
    }
}
