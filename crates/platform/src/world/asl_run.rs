//! `aws-step` running a state machine given in Amazon States Language.
//!
//! **Models.** The interpreter walks the ASL graph of [`sfsim_workflow::asl`]: every state
//! entered is a state transition (token bucket, scheduling latency, count, price) as for
//! generated machines ([`super::step`]); Task states invoke their step's Lambda function; Pass
//! does nothing; Wait sleeps (charged to `scheduling`); Choice goes where the scenario chose;
//! Parallel forks its branches and joins them; Map runs its iterator over the items, at most
//! `MaxConcurrency` (and never more than 40, the inline limit) at a time; Succeed ends the
//! machine; Fail fails the execution with its `Error`. A failed task is retried by the first
//! matching `Retry` rule (`IntervalSeconds x BackoffRate^attempt`, up to `MaxAttempts`; every
//! retry is a billed transition) and otherwise caught by the first matching `Catch` rule.
//!
//! **Scope and limitations.** Data is not simulated: Choice branches and Map item counts come
//! from the scenario; `Catch` on Parallel and Map states is not supported (rejected when loading).
//!
//! **Validation.** `tests/stateful_mechanisms.rs` runs a real ASL file end to end and checks
//! its transition count and retries.

use sfsim_engine::{SimDuration, SimTime};
use sfsim_workflow::asl::{AslMachine, AslNext, AslState};

use super::{Class, Cont, Ev, ExecId, InvId, JoinId, Owned, Slab, StrandId, Timer, World, scaled};
use crate::record::Component;

/// One running state list: the machine, a Parallel branch, or a Map iteration.
pub(crate) struct ARun {
    exec: ExecId,
    machine: usize,
    state: usize,
    share: f64,
    item: u32,
    strand: StrandId,
    parent: Option<u32>,
    attempt: u32,
    worker_since: Option<SimTime>,
    worker_started: bool,
    /// Output of the last task of this run (what a branch or iteration returns), bytes.
    last_out: u64,
}

/// A Parallel or Map state waiting for its children.
struct AGroup {
    run: u32,
    join: JoinId,
    /// Map: iterations not yet started (strand, item).
    waiting: Vec<(StrandId, u32)>,
    iterator: usize,
    /// Sum of the children's outputs: the Parallel or Map state's result, bytes.
    output: u64,
}

/// The machines of a run, flattened: index 0 is the top level; `children[m][s]` lists the
/// machines of state `s` of machine `m` (Parallel branches or the Map iterator).
#[derive(Default)]
pub(crate) struct AslState2 {
    machines: Vec<AslMachine>,
    children: Vec<Vec<Vec<usize>>>,
    runs: Slab<ARun>,
    groups: Slab<AGroup>,
}

fn flatten(m: &AslMachine, out: &mut AslState2) -> usize {
    let id = out.machines.len();
    out.machines.push(m.clone());
    out.children.push(vec![Vec::new(); m.states.len()]);
    for (s, st) in m.states.iter().enumerate() {
        let kids: Vec<usize> = match st {
            AslState::Parallel { branches, .. } => branches.iter().map(|b| flatten(b, out)).collect(),
            AslState::Map { iterator, .. } => vec![flatten(iterator, out)],
            _ => Vec::new(),
        };
        out.children[id][s] = kids;
    }
    id
}

impl AslState2 {
    /// Frees a run of an ended execution.
    pub(crate) fn free_run(&mut self, id: u32) {
        self.runs.remove(id, |_| {});
    }

    /// Frees a Parallel or Map group of an ended execution.
    pub(crate) fn free_group(&mut self, id: u32) {
        self.groups.remove(id, |g| g.waiting = Vec::new());
    }
}

impl World<'_> {
    pub(crate) fn asl_start(&mut self, now: SimTime, e: ExecId) {
        if self.sf.asl.machines.is_empty() {
            let m = self.wf.asl.as_ref().expect("asl_start needs a machine").clone();
            flatten(&m, &mut self.sf.asl);
        }
        let strand = self.main_strand(e);
        let start = self.sf.asl.machines[0].start;
        let run = self.new_arun(e, 0, start, 1.0, 0, strand, None, None);
        let input = self.wf.input_bytes;
        self.asl_transition(now, run, start, input);
    }

    #[allow(clippy::too_many_arguments)]
    fn new_arun(
        &mut self,
        exec: ExecId,
        machine: usize,
        state: usize,
        share: f64,
        item: u32,
        strand: StrandId,
        parent: Option<u32>,
        worker_since: Option<SimTime>,
    ) -> u32 {
        let id = self.sf.asl.runs.insert(ARun {
            exec,
            machine,
            state,
            share,
            item,
            strand,
            parent,
            attempt: 0,
            worker_since,
            worker_started: false,
            last_out: 0,
        });
        self.own(exec, Owned::Run(id));
        id
    }

    /// A transition of `run` into `state` (token, latency, count, price).
    fn asl_transition(&mut self, now: SimTime, run: u32, state: usize, payload: u64) {
        let e = self.sf.asl.runs[run as usize].exec;
        if self.exec_done(e) {
            return;
        }
        self.sf.asl.runs[run as usize].state = state;
        let strand = self.sf.asl.runs[run as usize].strand;
        let at = self.step_transition_time(now, e, payload);
        if let Some(at) = at {
            self.q.schedule(at, Ev::Timer(Timer::AslEnter { run, strand }));
        }
    }

    fn asl_next(&mut self, now: SimTime, run: u32, next: AslNext, payload: u64) {
        match next {
            AslNext::State(j) => self.asl_transition(now, run, j, payload),
            AslNext::End => self.asl_finished(now, run),
        }
    }

    pub(crate) fn asl_enter(&mut self, now: SimTime, run: u32, strand: StrandId) {
        if self.exec_done(strand.exec) {
            return; // the run went with its execution
        }
        let (e, m, s, share, item) = {
            let r = &self.sf.asl.runs[run as usize];
            (r.exec, r.machine, r.state, r.share, r.item)
        };
        if self.exec_done(e) {
            return;
        }
        self.charge(strand, now, Component::Scheduling);
        let name = self.sf.asl.machines[m].names[s].clone();
        self.trace_transition(now, e, || name);
        let state = self.sf.asl.machines[m].states[s].clone();
        // Every state entered records StateEntered and StateExited in the history, so even a
        // loop of Pass or Choice states reaches the 25,000-event limit and fails as on AWS.
        if !matches!(state, AslState::Task { .. } | AslState::Parallel { .. } | AslState::Map { .. }) && !self.step_add_history(now, e, 2) {
            return;
        }
        match state {
            AslState::Task { step, .. } => {
                let per_task = self.sf_setup_events_per_task();
                if !self.step_add_history(now, e, per_task) {
                    return;
                }
                self.asl_invoke(now, run, step, share, item, strand);
            }
            AslState::Pass { next } => self.asl_next(now, run, next, 0),
            AslState::Wait { seconds, .. } => {
                self.q.schedule(now + SimDuration::from_secs_f64(seconds), Ev::Timer(Timer::AslWaited { exec: e, run }));
            }
            AslState::Choice { next } => self.asl_transition(now, run, next, 0),
            AslState::Succeed => self.asl_finished(now, run),
            AslState::Fail { error } => self.fail_exec(now, e, crate::error::PlatformError::StepFail { error }),
            AslState::Parallel { branches, .. } => {
                if !self.step_add_history(now, e, 2 + 2 * branches.len() as u32) {
                    return;
                }
                let kids = self.sf.asl.children[m][s].clone();
                let (join, strands) = self.fork(strand, kids.len() as u32, now);
                let g = self.new_agroup(run, join, Vec::new(), usize::MAX);
                for (k, child) in kids.into_iter().zip(strands) {
                    let start = self.sf.asl.machines[k].start;
                    let r = self.new_arun(e, k, start, share, item, child, Some(g), None);
                    self.asl_transition(now, r, start, 0);
                }
            }
            AslState::Map { items, max_concurrency, .. } => {
                if !self.step_add_history(now, e, 2 + 2 * items) {
                    return;
                }
                let it = self.sf.asl.children[m][s][0];
                let (join, strands) = self.fork(strand, items, now);
                let waiting: Vec<(StrandId, u32)> = strands.into_iter().enumerate().map(|(k, c)| (c, k as u32)).rev().collect();
                let g = self.new_agroup(run, join, waiting, it);
                let inline_cap = self.step_map_cap();
                let cap = if max_concurrency == 0 { inline_cap } else { max_concurrency.min(inline_cap) };
                for _ in 0..cap.min(items) {
                    self.asl_start_iteration(now, g);
                }
            }
        }
    }

    fn new_agroup(&mut self, run: u32, join: JoinId, waiting: Vec<(StrandId, u32)>, iterator: usize) -> u32 {
        let exec = self.sf.asl.runs[run as usize].exec;
        let id = self.sf.asl.groups.insert(AGroup { run, join, waiting, iterator, output: 0 });
        self.own(exec, Owned::AslGroup(id));
        id
    }

    fn asl_start_iteration(&mut self, now: SimTime, g: u32) {
        let Some((child, item)) = self.sf.asl.groups[g as usize].waiting.pop() else { return };
        let parent_run = self.sf.asl.groups[g as usize].run;
        let (e, share) = (self.sf.asl.runs[parent_run as usize].exec, self.sf.asl.runs[parent_run as usize].share);
        self.charge(child, now, Component::Scheduling);
        let it = self.sf.asl.groups[g as usize].iterator;
        let start = self.sf.asl.machines[it].start;
        let since = self.strand_mark(child);
        let r = self.new_arun(e, it, start, share, item, child, Some(g), since);
        self.asl_transition(now, r, start, 0);
    }

    fn asl_invoke(&mut self, now: SimTime, run: u32, step: u32, share: f64, item: u32, strand: StrandId) {
        let e = self.sf.asl.runs[run as usize].exec;
        let input = scaled(self.wf.steps[step as usize].input_bytes, share);
        if !self.step_payload_ok(now, e, input) {
            return;
        }
        let phases = self.phases_of(e, sfsim_workflow::StepId(step), item, share, step as u16, true);
        let v = self.new_inv(step as u16, Class::Function, e, vec![strand], phases, Cont::AslTask { run }, now);
        self.invoke(now, v);
    }

    pub(crate) fn asl_waited(&mut self, now: SimTime, e: ExecId, run: u32) {
        if self.exec_done(e) {
            return;
        }
        let (e, m, s, strand) = {
            let r = &self.sf.asl.runs[run as usize];
            (r.exec, r.machine, r.state, r.strand)
        };
        if self.exec_done(e) {
            return;
        }
        self.charge(strand, now, Component::Scheduling);
        if let AslState::Wait { next, .. } = self.sf.asl.machines[m].states[s].clone() {
            self.asl_next(now, run, next, 0);
        }
    }

    pub(crate) fn asl_task_done(&mut self, now: SimTime, v: InvId, run: u32) {
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return;
        }
        let (m, s, share) = {
            let r = &mut self.sf.asl.runs[run as usize];
            r.attempt = 0;
            (r.machine, r.state, r.share)
        };
        if let AslState::Task { step, next, .. } = self.sf.asl.machines[m].states[s].clone() {
            let out = scaled(self.wf.steps[step as usize].output_bytes, share);
            if !self.step_payload_ok(now, e, out) {
                return;
            }
            self.sf.asl.runs[run as usize].last_out = out;
            self.asl_next(now, run, next, out);
        }
    }

    pub(crate) fn asl_task_failed(&mut self, now: SimTime, v: InvId, run: u32, error: crate::error::PlatformError) {
        let e = self.invs[v].exec;
        if self.exec_done(e) {
            return;
        }
        let (m, s, attempt) = {
            let r = &self.sf.asl.runs[run as usize];
            (r.machine, r.state, r.attempt)
        };
        let AslState::Task { retry, catch, .. } = self.sf.asl.machines[m].states[s].clone() else { return };
        let name = error.name();
        if let Some(r) = retry.iter().find(|r| r.matches(&name))
            && attempt < r.max_attempts
        {
            // A retry re-enters the state: a billed transition after the backoff.
            let wait = SimDuration::from_secs_f64(r.interval_s * r.backoff_rate.powi(attempt as i32));
            self.sf.asl.runs[run as usize].attempt += 1;
            self.q.schedule(now + wait, Ev::Timer(Timer::AslRetry { exec: e, run }));
            return;
        }
        if let Some(c) = catch.iter().find(|c| c.matches(&name)) {
            self.sf.asl.runs[run as usize].attempt = 0;
            self.asl_transition(now, run, c.next, 0);
            return;
        }
        self.fail_exec(now, e, error);
    }

    fn asl_finished(&mut self, now: SimTime, run: u32) {
        let (e, strand, parent, since, out) = {
            let r = &self.sf.asl.runs[run as usize];
            (r.exec, r.strand, r.parent, r.worker_since, r.last_out)
        };
        match parent {
            None => self.step_machine_succeeded(now, e),
            Some(g) => {
                if let Some(t) = since {
                    self.worker_latency_s.push(now.saturating_since(t).as_secs_f64());
                }
                let join = self.sf.asl.groups[g as usize].join;
                self.sf.asl.groups[g as usize].output += out;
                if self.sf.asl.groups[g as usize].iterator != usize::MAX {
                    self.asl_start_iteration(now, g);
                }
                if self.arrive_join(join, strand, now).is_some() {
                    let prun = self.sf.asl.groups[g as usize].run;
                    let (m, s) = (self.sf.asl.runs[prun as usize].machine, self.sf.asl.runs[prun as usize].state);
                    let next = match &self.sf.asl.machines[m].states[s] {
                        AslState::Parallel { next, .. } | AslState::Map { next, .. } => next.clone(),
                        _ => unreachable!("groups belong to Parallel and Map states"),
                    };
                    // The state's result is the array of its children's results: it is checked
                    // against the payload limit and carried by the next transition.
                    let result = self.sf.asl.groups[g as usize].output;
                    if !self.step_payload_ok(now, e, result) {
                        return;
                    }
                    self.sf.asl.runs[prun as usize].last_out = result;
                    self.asl_next(now, prun, next, result);
                }
            }
        }
    }

    /// The per-worker scheduling delay of a Map iteration: until its first Lambda started.
    pub(crate) fn asl_worker_started(&mut self, now: SimTime, e: ExecId, run: u32) {
        if self.exec_done(e) {
            return;
        }
        let r = &mut self.sf.asl.runs[run as usize];
        if let Some(t) = r.worker_since
            && !r.worker_started
        {
            r.worker_started = true;
            self.worker_delay_s.push(now.saturating_since(t).as_secs_f64());
        }
    }

    /// A retry's backoff ended: re-enter the task state (a billed transition).
    pub(crate) fn asl_retry(&mut self, now: SimTime, e: ExecId, run: u32) {
        if self.exec_done(e) {
            return;
        }
        let s = self.sf.asl.runs[run as usize].state;
        self.asl_transition(now, run, s, 0);
    }
}
