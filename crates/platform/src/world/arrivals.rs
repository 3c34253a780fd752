//! When executions arrive.
//!
//! **Models.** Synthetic patterns from the scenario (`interval`, `poisson`, `burst`, the
//! closed loop `sequential`, whose next execution arrives `gap_s` after the previous one ended,
//! and the closed loop `batches`, whose next batch of `size` arrives `pause_s` after every
//! execution of the previous batch ended, as a benchmark harness that waits for each batch)
//! and real invocation patterns: every invocation of an Azure Functions public trace (one day of
//! the 2019 release or the 2021 release, of one app or all; [`sfsim_replay`]'s streaming readers)
//! becomes an execution of the scenario's workflow at the invocation's start, through the whole
//! platform model (hosts, per-host concurrency, scale-out rules, cold starts), not only through
//! `sfsim replay`'s keep-alive pool. The trace's own durations are not used: the work is the
//! workflow's. A 2019 minute's invocations start at random within the minute (seeded) unless
//! the scenario asks for `placement = "even"`.
//!
//! **Parameters.** The scenario's `[arrivals]`; a trace's placement and duration draws come from
//! the replication's stream `arrivals/trace`.
//!
//! **Scope and limits.** Arrivals of a trace are read one at a time (memory does not grow with
//! the trace); a malformed row met during the run stops the arrivals and is reported with its
//! file and line ([`crate::RunOutput::arrival_error`]). At most 2^30 executions per replication
//! (the (execution, step, item) stream keys).
//!
//! **Validation.** `tests/trace_arrivals.rs`: a generated trace's invocations arrive in order at
//! their starts, an app filter keeps one app, and the counts match the replay reader's.

use rand::RngExt;
use sfsim_engine::{SimDuration, SimRng, SimTime};
use sfsim_replay::{Azure2019, Azure2021, Invocation, Placement, TraceError};
use sfsim_workflow::{Arrivals, TraceFile, TracePlacement};

use super::{Ev, ExecId, World};

/// A trace's invocations, in start order.
pub type TraceIter = Box<dyn Iterator<Item = Result<Invocation, TraceError>>>;

/// Most executions one replication can hold ([`crate::workload::stream_key`]).
pub const MAX_EXECUTIONS: u64 = (1 << 30) - 1;

/// Opens a trace for reading its invocations (of app `app` only, when given), with `seed` for
/// the 2019 placements and durations. Errors name the file and line.
pub fn open_trace(file: &TraceFile, app: Option<u32>, seed: u64) -> Result<TraceIter, TraceError> {
    let it: TraceIter = match file {
        TraceFile::Azure2019 { dir, day, placement } => {
            let p = match placement {
                TracePlacement::Random => Placement::Random,
                TracePlacement::Even => Placement::Even,
            };
            Box::new(Azure2019::open_with(dir, *day, seed, p)?)
        }
        TraceFile::Azure2021 { file } => Box::new(Azure2021::open(file)?),
    };
    Ok(match app {
        None => it,
        Some(a) => Box::new(it.filter(move |r| r.as_ref().map_or(true, |i| i.app == a))),
    })
}

/// The arrival process of a replication.
pub(crate) struct ArrivalGen {
    rng: SimRng,
    last: SimTime,
    trace: Option<TraceIter>,
    /// No execution will arrive after the ones that have.
    pub done: bool,
    /// A trace row that could not be read (file:line: message).
    pub error: Option<String>,
    /// Batches: executions of the current batch that have ended.
    batch_ended: u64,
    /// Phases: the current phase, its start and the last candidate time, seconds.
    phase: usize,
    phase_start_s: f64,
    candidate_s: f64,
}

impl ArrivalGen {
    pub fn new(rng: SimRng, trace: Option<TraceIter>) -> ArrivalGen {
        ArrivalGen {
            rng,
            last: SimTime::ZERO,
            trace,
            done: false,
            error: None,
            batch_ended: 0,
            phase: 0,
            phase_start_s: 0.0,
            candidate_s: 0.0,
        }
    }

    /// When the last execution arrived.
    pub fn last(&self) -> SimTime {
        self.last
    }
}

impl World<'_> {
    /// Schedules the first arrival, if any.
    pub(crate) fn first_arrival(&mut self) {
        if self.spec.iterations == 0 {
            self.arrivals_gen.done = true;
            return;
        }
        match self.next_trace_start() {
            Some(Some(t)) => {
                self.q.schedule(t, Ev::Arrival(ExecId(0)));
            }
            Some(None) => self.arrivals_gen.done = true,
            None if matches!(self.spec.arrivals, Arrivals::Phases(_)) => match self.next_phase_arrival() {
                Some(t) => {
                    self.q.schedule(t, Ev::Arrival(ExecId(0)));
                }
                None => self.arrivals_gen.done = true,
            },
            None => {
                self.q.schedule(SimTime::ZERO, Ev::Arrival(ExecId(0)));
            }
        }
    }

    /// Execution `e` arrived at `now`: schedules the next one (closed loops: at `e`'s end).
    pub(crate) fn arrived_schedule_next(&mut self, now: SimTime, e: ExecId) {
        self.arrivals_gen.last = now;
        let next = ExecId(e.0 + 1);
        if u64::from(next.0) >= self.spec.iterations || u64::from(next.0) > MAX_EXECUTIONS {
            self.arrivals_gen.done = true;
            return;
        }
        match self.next_trace_start() {
            Some(Some(t)) => {
                self.q.schedule(t.max(now), Ev::Arrival(next));
            }
            Some(None) => self.arrivals_gen.done = true,
            None => match *self.spec.arrivals {
                Arrivals::Sequential { .. } => {}
                // The rest of a batch arrives with its first; the next batch, at its end.
                ref b @ Arrivals::Batches { .. } => {
                    if b.batch_of(u64::from(next.0)).is_some_and(|(first, _)| first != u64::from(next.0)) {
                        self.q.schedule(now, Ev::Arrival(next));
                    }
                }
                Arrivals::Phases(_) => match self.next_phase_arrival() {
                    Some(t) => {
                        self.q.schedule(t.max(now), Ev::Arrival(next));
                    }
                    None => self.arrivals_gen.done = true,
                },
                _ => {
                    let t = self.next_arrival_time(next.0);
                    self.q.schedule(t, Ev::Arrival(next));
                }
            },
        }
    }

    /// Closed loops: execution `e` ended at `now`; the next arrives after the think time (a
    /// batch's next batch, when `e` was the last of its batch to end).
    pub(crate) fn ended_schedule_next(&mut self, now: SimTime, e: ExecId) {
        let (next, gap_s) = match *self.spec.arrivals {
            Arrivals::Sequential { gap_s } => (u64::from(e.0) + 1, gap_s),
            ref b @ Arrivals::Batches { pause_s, .. } => {
                self.arrivals_gen.batch_ended += 1;
                let (first, end) = b.batch_of(u64::from(e.0)).expect("batches have batch bounds");
                if self.arrivals_gen.batch_ended < end.min(self.spec.iterations) - first {
                    return;
                }
                self.arrivals_gen.batch_ended = 0;
                (end, pause_s)
            }
            _ => return,
        };
        if next < self.spec.iterations {
            self.q.schedule(now + SimDuration::from_secs_f64(gap_s), Ev::Arrival(ExecId(next as u32)));
        }
    }

    /// A trace's next start: `None` without a trace, `Some(None)` at its end (or at a bad row,
    /// kept in `gen.error`).
    fn next_trace_start(&mut self) -> Option<Option<SimTime>> {
        let it = self.arrivals_gen.trace.as_mut()?;
        Some(match it.next() {
            Some(Ok(inv)) => Some(inv.start),
            Some(Err(e)) => {
                self.arrivals_gen.error = Some(e.to_string());
                None
            }
            None => None,
        })
    }

    /// The next arrival of phased load (a Poisson process whose rate is piecewise linear in
    /// time), by thinning: candidates at the phase's highest rate, each kept with probability
    /// rate(t) / highest; a phase's end restarts the candidates there (memoryless). `None` after
    /// the last phase.
    fn next_phase_arrival(&mut self) -> Option<SimTime> {
        let Arrivals::Phases(phases) = self.spec.arrivals else { return None };
        let g = &mut self.arrivals_gen;
        loop {
            let p = phases.get(g.phase)?;
            let end_s = g.phase_start_s + p.duration_s;
            let top = p.from_per_s.max(p.to_per_s);
            let next_s = if top > 0.0 {
                let u: f64 = g.rng.random();
                g.candidate_s - (1.0 - u).ln() / top
            } else {
                f64::INFINITY
            };
            if next_s >= end_s {
                g.phase += 1;
                g.phase_start_s = end_s;
                g.candidate_s = end_s;
                continue;
            }
            g.candidate_s = next_s;
            let rate = p.from_per_s + (p.to_per_s - p.from_per_s) * (next_s - g.phase_start_s) / p.duration_s;
            let u: f64 = g.rng.random();
            if u * top <= rate {
                return Some(SimTime::from_secs_f64(next_s));
            }
        }
    }

    fn next_arrival_time(&mut self, i: u32) -> SimTime {
        let t = match *self.spec.arrivals {
            Arrivals::Interval { interval_s } => SimTime::from_secs_f64(interval_s * f64::from(i)),
            Arrivals::Poisson { rate_per_s } => {
                let u: f64 = self.arrivals_gen.rng.random();
                // Inverse-CDF exponential gap; 1 - u is in (0, 1].
                self.arrivals_gen.last + SimDuration::from_secs_f64(-(1.0 - u).ln() / rate_per_s)
            }
            Arrivals::Burst { size, interval_s } => SimTime::from_secs_f64(interval_s * (u64::from(i) / size) as f64),
            Arrivals::Sequential { .. } | Arrivals::Batches { .. } | Arrivals::Phases(_) | Arrivals::Trace { .. } => {
                unreachable!("closed-loop and trace arrivals are scheduled elsewhere")
            }
        };
        t.max(self.q.now())
    }
}
