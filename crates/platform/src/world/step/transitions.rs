//! Step Functions state transitions: what entering a state costs and what limits it.
//!
//! **Models.** Entering a state is a *state transition*: it waits for a token of the account's
//! transition bucket (Standard: 5,000 tokens, refilled at 1,500 per s), then takes the
//! scheduling latency (log-normal, plus a per-KB term for the payload the history records), and
//! is counted and priced (Standard: per transition; Express: none, billed by requests and
//! duration instead). Every state adds events to the execution's history; past 25,000 events the
//! execution fails with `States.Runtime` (Express keeps no history). A state's input or output
//! over 256 KB fails the execution with `States.DataLimitExceeded`.
//!
//! **Parameters.** `models/aws-step.toml` `[transitions]` (latency median and sigma assumed,
//! per-KB term assumed; bucket and refill from the quotas page) and `[limits]`, `[billing]`.
//!
//! **Scope and limits.** The StartExecution throttle is not modelled; the per-KB latency is a
//! single linear term.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: transitions of a Map over n items, the 300 KB
//! payload failure, a loop reaching the history limit.

use sfsim_engine::{SimDuration, SimTime};

use super::super::{Ev, ExecId, StrandId, Timer, World};
use super::RunId;
use crate::billing::Cost;
use crate::error::PlatformError;

impl World<'_> {
    /// Takes a transition token; returns when one is available (Express workflows have no
    /// transition throttle).
    pub(super) fn take_token(&mut self, now: SimTime, express: bool) -> SimTime {
        if express {
            return now;
        }
        let (bucket, rate) = (self.sf_setup().bucket, self.sf_setup().refill_per_s);
        let elapsed = now.saturating_since(self.sf.tokens_at).as_secs_f64();
        self.sf.tokens = (self.sf.tokens + elapsed * rate).min(bucket);
        self.sf.tokens_at = now;
        self.sf.tokens -= 1.0;
        if self.sf.tokens >= 0.0 { now } else { now + SimDuration::from_secs_f64(-self.sf.tokens / rate) }
    }

    /// Checks the payload and takes a transition of execution `e` at `now`: waits for a token,
    /// adds the scheduling latency, counts and prices it (inside an Express workflow: no token,
    /// no price). Returns when the token is granted and the latency after it, or `None` when the
    /// payload failed the execution.
    pub(super) fn step_transition_time(&mut self, now: SimTime, e: ExecId, payload: u64, express: bool) -> Option<(SimTime, SimDuration)> {
        if !self.step_payload_ok(now, e, payload) {
            return None;
        }
        let setup = self.sf_setup();
        let at = self.take_token(now, express);
        let lat =
            self.lognormal(setup.latency.0, setup.latency.1) + SimDuration::from_secs_f64(setup.latency_s_per_kb * payload as f64 / 1024.0);
        self.acc(e).counts.transitions += 1;
        if !express {
            self.acc(e).cost.add(&Cost { transitions: setup.price_usd_per_transition, ..Cost::default() });
        }
        Some((at, lat))
    }

    /// Enters state `strand` of `run` `rest` after its transition token, granted at `token`.
    /// Transitions waiting for a token wait in one FIFO (tokens are granted in the order they
    /// are taken) with one pending event for its head, instead of one heap entry each: a burst
    /// that outruns the bucket leaves 10^5 transitions waiting, and a heap of them makes every
    /// other event dearer (`cargo bench --bench burst`).
    pub(super) fn enter_after_token(&mut self, now: SimTime, token: SimTime, rest: SimDuration, run: RunId, strand: StrandId) {
        if token <= now {
            self.q.schedule(now + rest, Ev::Timer(Timer::StepEnter { run, strand }));
            return;
        }
        let line = &mut self.sf.token_line;
        debug_assert!(line.back().is_none_or(|b| b.0 <= token), "transition tokens are granted in order");
        line.push_back((token, rest, run, strand));
        if !std::mem::replace(&mut self.sf.token_line_armed, true) {
            self.q.schedule(token, Ev::Timer(Timer::StepTokens));
        }
    }

    /// Tokens fell due: the transitions granted by now take their latency.
    pub(crate) fn step_tokens(&mut self, now: SimTime) {
        while let Some(&(token, rest, run, strand)) = self.sf.token_line.front() {
            if token > now {
                break;
            }
            self.sf.token_line.pop_front();
            self.q.schedule(now + rest, Ev::Timer(Timer::StepEnter { run, strand }));
        }
        match self.sf.token_line.front() {
            Some(&(token, ..)) => {
                self.q.schedule(token, Ev::Timer(Timer::StepTokens));
            }
            None => self.sf.token_line_armed = false,
        }
    }

    /// Fails the execution with `States.DataLimitExceeded` when `payload` is over the limit.
    pub(super) fn step_payload_ok(&mut self, now: SimTime, e: ExecId, payload: u64) -> bool {
        match self.sf_setup().payload.failure(payload) {
            Some(err) => {
                self.fail_exec(now, e, err);
                false
            }
            None => true,
        }
    }

    /// Adds `events` to the history of the execution `run` belongs to: the top-level
    /// execution's, or a Distributed Map child execution's own.
    pub(super) fn add_history(&mut self, now: SimTime, run: RunId, events: u32) -> bool {
        let r = &self.sf.runs[run];
        if r.express {
            return true; // Express keeps no execution history (CloudWatch Logs only)
        }
        let (e, child) = (r.exec, r.child);
        let max = self.sf_setup().history_max;
        let count = match child {
            Some(c) => &mut self.sf.runs[c].history_events,
            None => match self.execs.get_mut(e) {
                Some(x) => &mut x.history_events,
                None => return false,
            },
        };
        *count += events;
        if *count > max {
            self.fail_exec(now, e, PlatformError::StepHistoryLimit { max_events: max });
            return false;
        }
        true
    }
}
