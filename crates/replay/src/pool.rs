//! The replay loop: a stateless instance pool per app under a keep-alive policy.
//!
//! **Models.** Each app (the unit the platform scales and keeps alive, as in Shahrad et al.) has
//! a pool of instances. An instance runs one execution at a time (like Lambda; an Azure host can
//! run several, which this replay does not model). An arrival at time `t` first releases the
//! executions that ended at or before `t` (an execution ending exactly at `t` frees its instance
//! for the arrival), then reuses the *most recently freed* idle, loaded instance (LIFO, so the
//! instances freed longest ago are the ones the keep-alive reclaims); when there is none, it is a
//! cold start and a new instance joins the pool. A cold start adds `cold_start` to the instance's
//! busy time (default 0: the Fig. 15 metric counts cold starts, not their latency).
//!
//! An instance freed at `f` is *loaded* during `[warm_from, expire_at)` and reclaimed at
//! `expire_at`; an arrival at `t` can reuse it iff `warm_from <= t < expire_at`. Idle time is
//! the loaded time not spent running: `min(t or expire_at or horizon) - warm_from`; idle memory
//! is idle seconds × the app's memory (GB = 1024 MB, as the platforms bill GB-s).
//!
//! **Policies.**
//! * `fixed:T`: `warm_from = f`, `expire_at = f + T`. `T = 0` makes every start cold;
//!   `T = inf` never reclaims (cold starts = peak concurrency). Platform baselines: AWS Lambda
//!   10 min, Azure Functions 20 min (`models/aws-lambda.toml`, `models/az-func.toml`, `keep_alive`).
//! * `hybrid` (Shahrad et al., *Serverless in the Wild*, USENIX ATC'20, §4.2): per app, a
//!   histogram of idle times (IT) in 1-minute bins up to 4 hours; an IT is recorded when an
//!   arrival finds the app with no running execution, as the time since its last execution
//!   ended. Exact rule used here, at each release:
//!   - the histogram is *representative* when it holds at least [`HYBRID_MIN_SAMPLES`] ITs, at
//!     most half of all ITs are out of bounds (>= 4 h; the paper forecasts those with ARIMA,
//!     not modelled) and the coefficient of variation of the 240 bin counts is at least
//!     [`HYBRID_MIN_CV`] (a flat histogram predicts nothing);
//!   - if representative: `head` = lower edge of the bin holding the 5th percentile, `tail` =
//!     upper edge of the bin holding the 99th percentile (nearest rank over in-bound ITs);
//!     pre-warm window `pw = 0.9 × head`, keep-alive end `ka = 1.1 × tail`; the instance is
//!     unloaded after use and loaded again at `f + pw` (if `pw > 0`), reclaimed at `f + ka`;
//!   - otherwise: the fixed policy with the fallback keep-alive (default 10 min).
//!
//!   An arrival before an unloaded instance's pre-warm point is a cold start and cancels that
//!   instance's pending pre-warm (no idle time accrues for it). The window of an instance freed
//!   while other instances of the app still run is the app's window (an approximation: the paper
//!   manages whole apps, which mostly run one execution at a time).
//!
//! **Report.** Per policy: invocations, cold starts and their percentage, apps, instance-seconds
//! idle, idle memory GB-s, and the 75th percentile over apps of the per-app cold-start
//! percentage (nearest rank; the metric of the paper's Fig. 15). Idle time is counted up to the
//! trace horizon (the end of the day for 2019, the last end for 2021), not beyond.
//!
//! **Scope and limitations.** No concurrency limit, no throttling, no per-host packing, no
//! pre-warming of apps never seen; the hybrid policy's ARIMA branch for out-of-bound idle times is
//! replaced by the fixed fallback.
//!
//! **Validation** (`tests/replay.rs`): `fixed:0` gives cold starts = invocations; `fixed:inf`
//! gives cold starts = the sum over apps of the peak concurrency (an independent sweep); a longer
//! fixed keep-alive never gives more cold starts on the same trace; hybrid on a strictly periodic
//! app has no cold starts after warm-up and fewer idle seconds than `fixed:4h`; same seed, same
//! numbers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use serde::Serialize;
use sfsim_engine::{SimDuration, SimTime};

use crate::TraceError;
use crate::trace::{Invocation, Trace};

/// Histogram bins of the hybrid policy: 1-minute bins up to 4 hours (Shahrad et al.).
pub const HYBRID_BINS: usize = 240;
/// Width of a histogram bin, ns (1 minute).
const BIN_NS: u64 = 60_000_000_000;
/// Idle times needed before the hybrid histogram is trusted (assumed).
pub const HYBRID_MIN_SAMPLES: u32 = 10;
/// Minimum coefficient of variation of the bin counts for a representative histogram (assumed;
/// the paper uses the CV to decide but does not give its threshold).
pub const HYBRID_MIN_CV: f64 = 2.0;
/// Margin applied to the histogram's head (pre-warm) and tail (keep-alive), fraction (paper: 10 %).
pub const HYBRID_MARGIN: f64 = 0.10;
/// The hybrid policy's fallback keep-alive when not representative (default).
pub const HYBRID_DEFAULT_FALLBACK: SimDuration = SimDuration::from_secs(600);

/// A keep-alive policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Keep an idle instance for this long (`None`: forever).
    Fixed(Option<SimDuration>),
    /// The histogram policy of Shahrad et al. with this fixed fallback keep-alive.
    Hybrid {
        /// Keep-alive used while the app's histogram is not representative.
        fallback: SimDuration,
    },
}

/// Parses `5m`, `600s`, `600`, `4h`, `1.5m` or `inf` into a keep-alive (`None` = forever).
fn parse_span(s: &str) -> Result<Option<SimDuration>, String> {
    let s = s.trim();
    if s == "inf" || s == "infinite" {
        return Ok(None);
    }
    let (num, mult) = match s.as_bytes().last() {
        Some(b's') => (&s[..s.len() - 1], 1.0),
        Some(b'm') => (&s[..s.len() - 1], 60.0),
        Some(b'h') => (&s[..s.len() - 1], 3600.0),
        Some(b'd') => (&s[..s.len() - 1], 86_400.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a duration (use e.g. 10m, 600s, 4h or inf)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}`: a keep-alive must be a finite non-negative duration or inf"));
    }
    if v * mult > MAX_SPAN_S {
        return Err(format!(
            "`{s}` is {:.3e} s, beyond the simulated horizon of {MAX_SPAN_S:.0e} s (use inf to keep instances forever)",
            v * mult
        ));
    }
    Ok(Some(SimDuration::from_secs_f64(v * mult)))
}

/// The longest finite keep-alive, seconds (the simulator's horizon, about 31 years): a longer
/// one would be clamped to the clock's range, so it is refused.
pub const MAX_SPAN_S: f64 = 1e9;

impl Policy {
    /// `fixed:10m`, `fixed:0`, `fixed:inf`, `hybrid` or `hybrid:20m` (fallback keep-alive).
    pub fn parse(s: &str) -> Result<Policy, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a)),
            None => (s.trim(), None),
        };
        match (name, arg) {
            ("fixed", Some(a)) => Ok(Policy::Fixed(parse_span(a)?)),
            ("fixed", None) => Err("`fixed` needs a keep-alive: fixed:10m (AWS Lambda), fixed:20m (Azure), fixed:0, fixed:inf".into()),
            ("hybrid", None) => Ok(Policy::Hybrid { fallback: HYBRID_DEFAULT_FALLBACK }),
            ("hybrid", Some(a)) => match parse_span(a)? {
                Some(fallback) => Ok(Policy::Hybrid { fallback }),
                None => Err("the hybrid fallback keep-alive must be finite".into()),
            },
            _ => Err(format!("unknown policy `{s}` (fixed:T or hybrid[:T])")),
        }
    }

    /// The policy as `parse` reads it (`fixed:600s`, `hybrid:600s`).
    pub fn name(&self) -> String {
        let span = |d: SimDuration| {
            let s = d.as_secs_f64();
            if s.fract() == 0.0 { format!("{s:.0}s") } else { format!("{s}s") }
        };
        match self {
            Policy::Fixed(None) => "fixed:inf".into(),
            Policy::Fixed(Some(d)) => format!("fixed:{}", span(*d)),
            Policy::Hybrid { fallback } => format!("hybrid:{}", span(*fallback)),
        }
    }
}

/// One idle (or pending pre-warm) instance: loaded during `[warm_from, expire_at)`.
#[derive(Clone, Copy, Debug)]
struct Idle {
    warm_from: u64,
    expire_at: u64,
}

/// The hybrid policy's per-app idle-time histogram.
#[derive(Clone, Debug)]
struct Histogram {
    bins: Box<[u32; HYBRID_BINS]>,
    in_bounds: u32,
    out_of_bounds: u32,
    /// Cached window `(pre-warm, keep-alive end)` in ns from the release; `None` = fallback.
    window: Option<(u64, u64)>,
    dirty: bool,
}

impl Histogram {
    fn new() -> Self {
        Histogram { bins: Box::new([0; HYBRID_BINS]), in_bounds: 0, out_of_bounds: 0, window: None, dirty: false }
    }

    fn record(&mut self, idle_ns: u64) {
        let bin = idle_ns / BIN_NS;
        if bin < HYBRID_BINS as u64 {
            self.bins[bin as usize] += 1;
            self.in_bounds += 1;
        } else {
            self.out_of_bounds += 1;
        }
        self.dirty = true;
    }

    fn window(&mut self) -> Option<(u64, u64)> {
        if self.dirty {
            self.window = self.compute();
            self.dirty = false;
        }
        self.window
    }

    fn compute(&self) -> Option<(u64, u64)> {
        let n = self.in_bounds;
        if n < HYBRID_MIN_SAMPLES || self.out_of_bounds > n {
            return None;
        }
        let mean = f64::from(n) / HYBRID_BINS as f64;
        let var = self.bins.iter().map(|&c| (f64::from(c) - mean).powi(2)).sum::<f64>() / HYBRID_BINS as f64;
        if var.sqrt() / mean < HYBRID_MIN_CV {
            return None;
        }
        // Nearest rank: the smallest bin whose cumulative count reaches ceil(q * n).
        let rank = |q: f64| ((q * f64::from(n)).ceil() as u32).max(1);
        let bin_of = |r: u32| {
            let mut cum = 0u32;
            for (i, &c) in self.bins.iter().enumerate() {
                cum += c;
                if cum >= r {
                    return i as u64;
                }
            }
            HYBRID_BINS as u64 - 1
        };
        let head = bin_of(rank(0.05)) * BIN_NS;
        let tail = (bin_of(rank(0.99)) + 1) * BIN_NS;
        let pw = SimDuration(head).mul_f64(1.0 - HYBRID_MARGIN).0;
        let ka = SimDuration(tail).mul_f64(1.0 + HYBRID_MARGIN).0;
        Some((pw, ka))
    }
}

/// One app's pool.
#[derive(Clone, Debug, Default)]
struct App {
    /// End times of running executions (one instance each).
    busy: BinaryHeap<Reverse<u64>>,
    /// Idle or pending instances, in release order (most recent at the back).
    idle: VecDeque<Idle>,
    /// When the app last had no running execution.
    idle_since: u64,
    invocations: u64,
    cold: u64,
    idle_ns: u64,
    hist: Option<Histogram>,
}

/// Replays invocations, in start order, through per-app pools under one policy.
#[derive(Clone, Debug)]
pub struct Replayer {
    policy: Policy,
    cold_start: u64,
    apps: Vec<App>,
    last_start: u64,
    horizon: u64,
}

/// The outcome of one policy over a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyReport {
    /// The policy (`fixed:600s`, `hybrid:600s`).
    pub policy: String,
    /// Invocations replayed.
    pub invocations: u64,
    /// Invocations that found no loaded idle instance.
    pub cold_starts: u64,
    /// `100 × cold_starts / invocations`.
    pub cold_start_pct: f64,
    /// Apps with at least one invocation.
    pub apps: u64,
    /// Instance-seconds loaded but not running, up to the trace horizon.
    pub idle_instance_s: f64,
    /// Idle instance-seconds × app memory, GB-s (GB = 1024 MB).
    pub idle_memory_gb_s: f64,
    /// 75th percentile over apps of the app's cold-start percentage (Shahrad et al. Fig. 15).
    pub p75_app_cold_start_pct: f64,
}

impl Replayer {
    /// A replayer under `policy`, a cold start adding `cold_start` to the instance's busy time.
    pub fn new(policy: Policy, cold_start: SimDuration) -> Self {
        Replayer { policy, cold_start: cold_start.as_nanos(), apps: Vec::new(), last_start: 0, horizon: 0 }
    }

    /// Invocations so far.
    pub fn invocations(&self) -> u64 {
        self.apps.iter().map(|a| a.invocations).sum()
    }

    fn release(policy: Policy, app: &mut App, end: u64) {
        let (pw, ka) = match policy {
            Policy::Fixed(None) => (0, u64::MAX),
            Policy::Fixed(Some(t)) => (0, t.as_nanos()),
            Policy::Hybrid { fallback } => match app.hist.as_mut().and_then(Histogram::window) {
                Some(w) => w,
                None => (0, fallback.as_nanos()),
            },
        };
        app.idle.push_back(Idle { warm_from: end.saturating_add(pw), expire_at: end.saturating_add(ka) });
    }

    /// Replays one invocation. Starts must not decrease (the trace readers guarantee it).
    pub fn invoke(&mut self, inv: Invocation) {
        let t = inv.start.0;
        assert!(t >= self.last_start, "replay: invocation at {t} ns after one at {} ns (trace not in start order)", self.last_start);
        self.last_start = t;
        let idx = inv.app as usize;
        if idx >= self.apps.len() {
            self.apps.resize_with(idx + 1, App::default);
        }
        let policy = self.policy;
        let app = &mut self.apps[idx];
        // 1. Executions that ended by t free their instances, in end order.
        while let Some(&Reverse(end)) = app.busy.peek() {
            if end > t {
                break;
            }
            app.busy.pop();
            Self::release(policy, app, end);
            if app.busy.is_empty() {
                app.idle_since = end;
            }
        }
        let hybrid = matches!(policy, Policy::Hybrid { .. });
        // 2. The hybrid histogram learns the app's idle time.
        if hybrid && app.busy.is_empty() && app.invocations > 0 {
            app.hist.get_or_insert_with(Histogram::new).record(t - app.idle_since);
        }
        // 3. Reclaim expired instances; 4. reuse the most recently freed loaded one.
        let warm = if hybrid {
            let mut idle_ns = 0u64;
            app.idle.retain(|i| {
                let keep = i.expire_at > t;
                if !keep {
                    idle_ns += i.expire_at.saturating_sub(i.warm_from);
                }
                keep
            });
            app.idle_ns += idle_ns;
            match app.idle.iter().rposition(|i| i.warm_from <= t) {
                Some(k) => {
                    let i = app.idle.remove(k).expect("rposition returned a valid index");
                    app.idle_ns += t - i.warm_from;
                    true
                }
                None => {
                    // A cold start replaces the most recent instance still waiting to pre-warm.
                    if let Some(k) = app.idle.iter().rposition(|i| i.warm_from > t) {
                        app.idle.remove(k);
                    }
                    false
                }
            }
        } else {
            while let Some(front) = app.idle.front() {
                if front.expire_at > t {
                    break;
                }
                app.idle_ns += front.expire_at - front.warm_from;
                app.idle.pop_front();
            }
            match app.idle.pop_back() {
                Some(i) => {
                    app.idle_ns += t - i.warm_from;
                    true
                }
                None => false,
            }
        };
        app.invocations += 1;
        let mut end = t.saturating_add(inv.duration.as_nanos());
        if !warm {
            app.cold += 1;
            end = end.saturating_add(self.cold_start);
        }
        app.busy.push(Reverse(end));
        self.horizon = self.horizon.max(end);
    }

    /// Ends the replay at `horizon` (or at the last execution's end if later) and reports;
    /// `memory_mb(app)` gives each app's memory.
    pub fn finish(mut self, horizon: SimTime, memory_mb: impl Fn(u32) -> f64) -> PolicyReport {
        let horizon = self.horizon.max(horizon.0);
        let policy = self.policy;
        let mut report = PolicyReport {
            policy: policy.name(),
            invocations: 0,
            cold_starts: 0,
            cold_start_pct: 0.0,
            apps: 0,
            idle_instance_s: 0.0,
            idle_memory_gb_s: 0.0,
            p75_app_cold_start_pct: 0.0,
        };
        let mut app_pct = Vec::new();
        for (id, app) in self.apps.iter_mut().enumerate() {
            if app.invocations == 0 {
                continue;
            }
            while let Some(Reverse(end)) = app.busy.pop() {
                Self::release(policy, app, end);
            }
            for i in app.idle.drain(..) {
                app.idle_ns += horizon.min(i.expire_at).saturating_sub(i.warm_from);
            }
            let idle_s = SimDuration(app.idle_ns).as_secs_f64();
            report.invocations += app.invocations;
            report.cold_starts += app.cold;
            report.apps += 1;
            report.idle_instance_s += idle_s;
            report.idle_memory_gb_s += idle_s * memory_mb(id as u32) / 1024.0;
            app_pct.push(100.0 * app.cold as f64 / app.invocations as f64);
        }
        if report.invocations > 0 {
            report.cold_start_pct = 100.0 * report.cold_starts as f64 / report.invocations as f64;
        }
        if !app_pct.is_empty() {
            app_pct.sort_by(f64::total_cmp);
            let rank = ((0.75 * app_pct.len() as f64).ceil() as usize).max(1);
            report.p75_app_cold_start_pct = app_pct[rank - 1];
        }
        report
    }
}

/// Replays `trace` once, under every policy at the same time (each invocation, with its sampled
/// duration, is seen by every policy: common random numbers), and reports per policy.
pub fn replay<T: Trace>(trace: &mut T, policies: &[Policy], cold_start: SimDuration) -> Result<Vec<PolicyReport>, TraceError> {
    let mut replayers: Vec<Replayer> = policies.iter().map(|p| Replayer::new(*p, cold_start)).collect();
    match replayers.as_mut_slice() {
        [one] => {
            for inv in trace.by_ref() {
                one.invoke(inv?);
            }
        }
        many => {
            for inv in trace.by_ref() {
                let inv = inv?;
                for r in many.iter_mut() {
                    r.invoke(inv);
                }
            }
        }
    }
    let horizon = trace.horizon();
    Ok(replayers.into_iter().map(|r| r.finish(horizon, |a| trace.app_memory_mb(a))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies() {
        assert_eq!(Policy::parse("fixed:10m"), Ok(Policy::Fixed(Some(SimDuration::from_secs(600)))));
        assert_eq!(Policy::parse("fixed:0"), Ok(Policy::Fixed(Some(SimDuration::ZERO))));
        assert_eq!(Policy::parse("fixed:inf"), Ok(Policy::Fixed(None)));
        assert_eq!(Policy::parse("hybrid"), Ok(Policy::Hybrid { fallback: HYBRID_DEFAULT_FALLBACK }));
        assert_eq!(Policy::parse("hybrid:20m"), Ok(Policy::Hybrid { fallback: SimDuration::from_secs(1200) }));
        assert!(Policy::parse("fixed").is_err());
        assert!(Policy::parse("fixed:-1m").is_err());
        assert!(Policy::parse("lru").is_err());
        assert_eq!(Policy::parse("fixed:4h").map(|p| p.name()), Ok("fixed:14400s".to_string()));
    }

    #[test]
    fn histogram_window_of_a_periodic_app() {
        let mut h = Histogram::new();
        for _ in 0..20 {
            h.record(6 * BIN_NS + 59_000_000_000);
        }
        let (pw, ka) = h.window().expect("one bin: representative");
        assert_eq!(pw, 324_000_000_000); // 0.9 x 6 min
        assert_eq!(ka, 462_000_000_000); // 1.1 x 7 min
        let mut flat = Histogram::new();
        for b in 0..HYBRID_BINS as u64 {
            flat.record(b * BIN_NS);
        }
        assert_eq!(flat.window(), None);
    }
}
