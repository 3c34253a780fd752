//! Projected bills: what a workload costs over a period (a month at 10 requests per second, a
//! year at one per hour) without simulating every execution.
//!
//! **Method.** A *representative window* of executions is simulated at the requested rate
//! (Poisson arrivals): its executions give the cost per execution by kind; its idle
//! transactions (empty polls, scale-controller peeks, lease renewals) give an idle cost per
//! second of simulated time. The bill is `executions in the period x cost per execution + idle
//! cost per second x period`. When the period holds fewer executions than the window, the whole
//! period is simulated and the bill is exact. The idle part is a rate measured over the window's
//! wall time, so it includes the idle gaps between requests at low rates. Instance time billed
//! whatever the load (Elastic Premium instances, Flex Consumption always-ready baselines) is a
//! rate too: the window's instance cost per second of simulated time times the period, exact
//! window or not, because always-ready instances exist for the whole period, not only while
//! the window's executions run.
//!
//! **Scope and limitations.** The projection assumes the window is representative: a workload
//! whose regime changes late in the period is misjudged. The known case is a Durable app at a
//! low rate: a burst of arrivals adds a second host, after which completions often wait for the
//! other host's poll (up to 30 s each), so latency and cost step up and stay up. Raise
//! `--window` (the whole period is simulated when it holds fewer executions) when in doubt; at
//! 1 request per minute for 2 days, a 1,000-execution window misses the Durable total by 1.5 %.
//! A daily profile ([`project_bills_daily`]) projects each hourly rate on its own one-hour
//! window; the carry-over between hours (instances kept warm across an hour boundary) is not
//! modelled, and idle costs accrue only at the busy hours' rates.
//!
//! **Validation.** `tests/cost.rs` compares the projection with a full simulation of the same
//! period (agreement within 1 % at 6 requests per minute over 2 days).

use serde::Serialize;
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Arrivals, LoadError, Scenario};

use crate::{CostSummary, RunOptions, Stats, run_scenario_keeping};

/// The highest rate `cost` accepts, requests per second (a million per second is beyond any
/// account's concurrency on either platform; above it the projection only overflows).
pub const MAX_RATE_PER_S: f64 = 1e6;

/// The lowest rate `cost` accepts, requests per second (arrivals further apart leave the
/// simulated horizon).
pub const MIN_RATE_PER_S: f64 = 1e-8;

/// A period in words: `1 h`, `36 h`, `30 days`, `2.5 days` (whole hours below two days).
pub fn period_text(period_s: f64) -> String {
    let trim = |v: f64| {
        let t = format!("{v:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if period_s < 3600.0 {
        format!("{} s", trim(period_s))
    } else if period_s < 2.0 * 86_400.0 {
        format!("{} h", trim(period_s / 3600.0))
    } else {
        format!("{} days", trim(period_s / 86_400.0))
    }
}

/// Windows up to this many executions keep their records to measure queue growth; a larger
/// window is judged by its failures alone (records take about 200 bytes each).
pub const MAX_TREND_EXECUTIONS: u64 = 1_000_000;

/// A share of failed or throttled executions above this makes a regime unstable.
pub const MAX_FAILING_SHARE: f64 = 0.01;

/// Latency growth, seconds per second of arrivals, above which the backlog is growing.
pub const MAX_QUEUE_GROWTH: f64 = 0.05;

/// What the simulated window says about the regime the bill assumes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Window {
    /// Executions that arrived in the window.
    pub arrived: u64,
    /// Of them, completed.
    pub completed: u64,
    /// Failed with a platform error other than a throttle.
    pub failed: u64,
    /// Refused for lack of concurrency.
    pub throttled: u64,
    /// Failures and throttles by the platform's error name.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// End-to-end latency of the completed executions (quantiles null when none completed).
    pub latency_s: Stats,
    /// Offered load: requests per second x mean executed seconds per request that ran (not
    /// throttled), the number of executions that must run at once on average.
    pub offered_concurrency: f64,
    /// Most executions the platform can run at once: Lambda's account concurrency, or an
    /// Azure app's most hosts times the Python worker's threads per host.
    pub capacity_concurrency: f64,
    /// What sets that capacity.
    pub capacity: String,
    /// Most instances (hosts on Azure) alive at once.
    pub instances_peak: u64,
    /// How fast latency grows with arrival time, s per s (the mean latency of the last quarter
    /// of arrivals minus that of the second quarter, over the arrival time between them);
    /// about 0 when the platform keeps up, `offered / served - 1` when a queue grows without
    /// bound; null for windows of under 8 completed executions or over
    /// [`MAX_TREND_EXECUTIONS`].
    pub queue_growth_s_per_s: Option<f64>,
    /// Executions still in flight when the last one arrived (null like the growth).
    pub backlog_at_last_arrival: Option<u64>,
    /// Seconds from the last arrival to the last end: how long the backlog took to clear.
    pub drain_s: Option<f64>,
    /// Seconds from the first arrival to the last.
    pub arrival_span_s: f64,
    /// The offered rate, requests per second.
    pub rate_per_s: f64,
}

/// Whether the window's regime can be billed as a steady state, and why not.
fn judge(w: &Window) -> (bool, Vec<String>) {
    let mut why = Vec::new();
    let n = w.arrived.max(1) as f64;
    if w.offered_concurrency > w.capacity_concurrency {
        why.push(format!(
            "offered load needs {:.0} executions running at once on average, above the platform's capacity of {:.0} ({})",
            w.offered_concurrency, w.capacity_concurrency, w.capacity
        ));
    }
    if w.failed as f64 / n > MAX_FAILING_SHARE {
        why.push(format!("{} of {} executions failed ({:.1} %)", w.failed, w.arrived, 100.0 * w.failed as f64 / n));
    }
    if w.throttled as f64 / n > MAX_FAILING_SHARE {
        why.push(format!("{} of {} executions throttled ({:.1} %)", w.throttled, w.arrived, 100.0 * w.throttled as f64 / n));
    }
    if let Some(g) = w.queue_growth_s_per_s
        && g > MAX_QUEUE_GROWTH
    {
        why.push(format!(
            "queue grows without bound: latency rises by {g:.2} s per second of arrivals (mean {:.1} s, max {:.1} s)",
            w.latency_s.mean, w.latency_s.max
        ));
    } else if let (Some(b), Some(d)) = (w.backlog_at_last_arrival, w.drain_s)
        && b >= 8
        && d > 2.0 * w.arrival_span_s
        && (b as f64 / d) < w.rate_per_s / 4.0
    {
        why.push(format!(
            "the platform falls behind: {b} of {} executions were in flight at the last arrival and took {d:.0} s to clear \
             ({:.3}/s served against {:.3}/s offered)",
            w.arrived,
            b as f64 / d,
            w.rate_per_s
        ));
    }
    (why.is_empty(), why)
}

/// Seconds from the first arrival to the last.
fn span(records: &[sfsim_platform::ExecRecord]) -> f64 {
    match (records.iter().map(|r| r.arrival).min(), records.iter().map(|r| r.arrival).max()) {
        (Some(a), Some(b)) => b.saturating_since(a).as_secs_f64(),
        _ => 0.0,
    }
}

/// Backlog at the last arrival and the time it took to clear.
fn backlog(records: &[sfsim_platform::ExecRecord]) -> (Option<u64>, Option<f64>) {
    let Some(last) = records.iter().map(|r| r.arrival).max() else { return (None, None) };
    let end = records.iter().map(|r| r.end).max().unwrap_or(last);
    let b = records.iter().filter(|r| r.end > last).count() as u64;
    (Some(b), Some(end.saturating_since(last).as_secs_f64()))
}

/// Latency growth per second of arrival time (see [`Window::queue_growth_s_per_s`]).
fn queue_growth(records: &[sfsim_platform::ExecRecord]) -> Option<f64> {
    let done: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| !r.outcome.is_failed() && !r.outcome.is_throttled())
        .map(|r| (r.arrival.as_secs_f64(), r.latency().as_secs_f64()))
        .collect();
    let n = done.len();
    if n < 8 {
        return None;
    }
    let mean = |s: &[(f64, f64)]| {
        let k = s.len() as f64;
        (s.iter().map(|p| p.0).sum::<f64>() / k, s.iter().map(|p| p.1).sum::<f64>() / k)
    };
    // The first quarter is skipped: it holds the cold starts of a scaling platform.
    let (t2, l2) = mean(&done[n / 4..n / 2]);
    let (t4, l4) = mean(&done[3 * n / 4..]);
    if t4 <= t2 {
        return None;
    }
    Some((l4 - l2) / (t4 - t2))
}

/// The free grants of each platform per 30-day month (off unless asked for: the study priced
/// without them).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct FreeTier {
    /// GB-s per month.
    pub gb_s: f64,
    /// Requests or executions per month.
    pub requests: f64,
    /// Step Functions state transitions per month.
    pub transitions: f64,
}

impl FreeTier {
    /// The grant of `d` (AWS Lambda and Azure Functions: 400,000 GB-s and 1M requests; Step
    /// Functions: 4,000 transitions; platform-facts.md §1-3).
    pub fn of(d: Deployment) -> FreeTier {
        match d {
            Deployment::AwsLambda => FreeTier { gb_s: 400_000.0, requests: 1_000_000.0, transitions: 0.0 },
            Deployment::AwsStep => FreeTier { gb_s: 400_000.0, requests: 1_000_000.0, transitions: 4_000.0 },
            _ => FreeTier { gb_s: 400_000.0, requests: 1_000_000.0, transitions: 0.0 },
        }
    }
}

/// A projected bill.
#[derive(Clone, Debug, Serialize)]
pub struct Bill {
    /// Deployment.
    pub deployment: String,
    /// Executions in the period.
    pub executions: f64,
    /// Period, seconds.
    pub period_s: f64,
    /// Executions simulated to estimate it.
    pub window_executions: u64,
    /// Whether the whole period was simulated.
    pub exact: bool,
    /// Dollars over the period by kind (transactions include `idle_usd`).
    pub cost_usd: CostSummary,
    /// Of the transactions, what accrues whatever the load (idle polling, peeks, leases).
    pub idle_usd: f64,
    /// GB-s over the period.
    pub gb_s: f64,
    /// Storage-account transactions over the period by kind (idle ones included).
    pub transactions: crate::TransactionSummary,
    /// The free tier that was subtracted, if any.
    pub free_tier: Option<FreeTier>,
    /// Executions in the period that complete (projected from the window's share).
    pub completed: u64,
    /// Executions in the period that fail with a platform error (billed as the platform bills
    /// them: the time they ran).
    pub failed: u64,
    /// Executions in the period refused for lack of concurrency (not billed).
    pub throttled: u64,
    /// Whether the window ran in a steady state the bill can be projected from: under 1 %
    /// failed, under 1 % throttled, no growing queue.
    pub stable: bool,
    /// Why it is not stable (empty when it is).
    pub instability: Vec<String>,
    /// The simulated window the projection rests on.
    pub window: Window,
}

/// Projects the bill of `scenario` on each deployment at `rate_per_s` over `period_s`.
#[allow(clippy::too_many_arguments)]
pub fn project_bills(
    scenario: &Scenario,
    deployments: &[Deployment],
    models: &Models,
    rate_per_s: f64,
    period_s: f64,
    window: u64,
    seed: Option<u64>,
    free_tier: bool,
) -> Result<Vec<Bill>, LoadError> {
    let executions = rate_per_s * period_s;
    let n = (executions.round() as u64).clamp(1, window.max(1));
    let exact = (executions.round() as u64) <= window;
    let mut sc = scenario.clone();
    sc.arrivals = Arrivals::Poisson { rate_per_s };
    let opts = RunOptions { iterations: Some(n), replications: Some(1), seed, ..RunOptions::default() };
    let (r, records) = run_scenario_keeping(&sc, deployments, models, &opts, n <= MAX_TREND_EXECUTIONS)?;
    // The capacity of each deployment as the run planned it (profile, overrides, its settings).
    let models = crate::scenario_models(&sc, models)?;
    let mut bills = Vec::new();
    for ((d, s), recs) in deployments.iter().zip(&r.results).zip(&records) {
        let cfg = sc.deployment.get(d.name()).cloned().unwrap_or_default();
        let capacity =
            sfsim_platform::DeploymentPlan::build(*d, &models, &cfg, &sc.workflow).map_err(|e| sc.error_at(&e.key, e.message))?.capacity();
        let window = Window {
            arrived: s.iterations,
            completed: s.completed,
            failed: s.failed,
            throttled: s.throttled,
            errors: s.errors.clone(),
            latency_s: s.latency_s.clone(),
            // Executed seconds per execution that ran (throttled ones ran for none).
            offered_concurrency: rate_per_s * s.executed_s * s.iterations as f64 / (s.iterations - s.throttled).max(1) as f64,
            capacity_concurrency: capacity.0,
            capacity: capacity.1,
            instances_peak: s.instances_peak,
            queue_growth_s_per_s: queue_growth(recs),
            backlog_at_last_arrival: backlog(recs).0,
            drain_s: backlog(recs).1,
            arrival_span_s: span(recs),
            rate_per_s,
        };
        let (stable, instability) = judge(&window);
        // Per-execution costs exclude the idle share, which is projected as a rate.
        let idle_rate = if s.idle.simulated_s > 0.0 { s.idle.cost_usd / s.idle.simulated_s } else { 0.0 };
        let per = &s.cost_usd;
        let idle_per_exec = s.idle.cost_usd / s.iterations.max(1) as f64;
        let idle_usd = if exact { s.idle.cost_usd } else { idle_rate * period_s };
        let scale = if exact { s.iterations as f64 } else { executions };
        let instance_rate = if s.idle.simulated_s > 0.0 { s.idle.instances_usd / s.idle.simulated_s } else { 0.0 };
        let mut cost = CostSummary {
            compute: per.compute * scale,
            requests: per.requests * scale,
            transactions: (per.transactions - idle_per_exec) * scale + idle_usd,
            transitions: per.transitions * scale,
            storage: per.storage * scale,
            instances: instance_rate * period_s,
            total: 0.0,
        };
        let gb_s = s.gb_s * scale;
        let tier = free_tier.then(|| FreeTier::of(*d));
        if let Some(t) = tier {
            let months = period_s / (30.0 * 86_400.0);
            let gb_s_price = if cost.compute > 0.0 && gb_s > 0.0 { cost.compute / gb_s } else { 0.0 };
            cost.compute = (cost.compute - t.gb_s * months * gb_s_price).max(0.0);
            // The grant counts requests (invocations, episodes), not workflow executions.
            let req_price = per.requests / s.invocations.max(1.0);
            cost.requests = (cost.requests - t.requests * months * req_price).max(0.0);
            let trans_price = if s.transitions > 0.0 { per.transitions / s.transitions } else { 0.0 };
            cost.transitions = (cost.transitions - t.transitions * months * trans_price).max(0.0);
        }
        cost.total = cost.compute + cost.requests + cost.transactions + cost.transitions + cost.storage + cost.instances;
        let idle_queue = if exact {
            s.idle.queue_transactions as f64
        } else {
            s.idle.queue_transactions as f64 / s.idle.simulated_s.max(1e-9) * period_s
        };
        let idle_blob =
            if exact { s.idle.blob_transactions as f64 } else { s.idle.blob_transactions as f64 / s.idle.simulated_s.max(1e-9) * period_s };
        let na = s.iterations.max(1) as f64;
        let transactions = crate::TransactionSummary {
            queue: (s.transactions.queue - s.idle.queue_transactions as f64 / na) * scale + idle_queue,
            table: s.transactions.table * scale,
            blob: (s.transactions.blob - s.idle.blob_transactions as f64 / na) * scale + idle_blob,
        };
        let share = |k: u64| ((k as f64 / s.iterations.max(1) as f64) * scale).round() as u64;
        bills.push(Bill {
            completed: share(s.completed),
            failed: share(s.failed),
            throttled: share(s.throttled),
            stable,
            instability,
            window,
            transactions,
            deployment: d.name().to_string(),
            executions: scale,
            period_s,
            window_executions: n,
            exact,
            cost_usd: cost,
            idle_usd,
            gb_s,
            free_tier: tier,
        });
    }
    Ok(bills)
}

/// Parses a rate like `1/h`, `10/s`, `30/min`, `2/d`, `0.5/s` into requests per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (n, unit) = s.split_once('/').ok_or_else(|| format!("rate `{s}` must look like 10/s, 30/min, 1/h or 2/d"))?;
    let n: f64 = n.trim().parse().map_err(|_| format!("rate `{s}`: `{n}` is not a number"))?;
    let per = unit_seconds(unit.trim()).ok_or_else(|| format!("rate `{s}`: unknown unit `{unit}` (s, min, h, d)"))?;
    let r = n / per;
    if !(r.is_finite() && r > 0.0) {
        return Err(format!("rate `{s}` must be a positive number"));
    }
    if r < MIN_RATE_PER_S {
        return Err(format!("rate `{s}` is {r:.3e} requests/s, below the limit of {MIN_RATE_PER_S:.0e}/s (one request per 3.2 years)"));
    }
    if r > MAX_RATE_PER_S {
        return Err(format!("rate `{s}` is {r:.3e} requests/s, above the limit of {MAX_RATE_PER_S:.0e}/s"));
    }
    Ok(r)
}

/// Parses a period like `30d`, `12h`, `90min`, `1w`, `3600s` into seconds.
pub fn parse_period(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| format!("period `{s}` needs a unit (s, min, h, d, w)"))?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.trim().parse().map_err(|_| format!("period `{s}`: `{n}` is not a number"))?;
    let per = unit_seconds(unit).ok_or_else(|| format!("period `{s}`: unknown unit `{unit}` (s, min, h, d, w)"))?;
    let p = n * per;
    if p.is_finite() && p > 0.0 && p <= sfsim_workflow::MAX_SECONDS {
        Ok(p)
    } else {
        Err(format!("period `{s}` must be positive and at most 31 years"))
    }
}

fn unit_seconds(u: &str) -> Option<f64> {
    Some(match u {
        "s" | "sec" => 1.0,
        "min" | "m" => 60.0,
        "h" | "hr" => 3600.0,
        "d" | "day" => 86_400.0,
        "w" | "week" => 604_800.0,
        _ => return None,
    })
}

/// Projects the bill under a daily load profile: `multipliers[h]` scales `rate_per_s` during
/// hour `h` of every day (24 values). Each distinct hourly rate is projected on its own window
/// and the hours are added up, idle costs included; a period that is not a whole number of days
/// counts its partial day hour by hour from midnight.
#[allow(clippy::too_many_arguments)]
pub fn project_bills_daily(
    scenario: &Scenario,
    deployments: &[Deployment],
    models: &Models,
    rate_per_s: f64,
    multipliers: &[f64; 24],
    period_s: f64,
    window: u64,
    seed: Option<u64>,
    free_tier: bool,
) -> Result<Vec<Bill>, LoadError> {
    // Seconds spent in each hour of the day over the period.
    let days = (period_s / 86_400.0).floor();
    let rest = period_s - days * 86_400.0;
    let hour_s: Vec<f64> = (0..24).map(|h| days * 3600.0 + (rest - h as f64 * 3600.0).clamp(0.0, 3600.0)).collect();
    let mut total: Option<Vec<Bill>> = None;
    let mut cache: Vec<(f64, Vec<Bill>)> = Vec::new();
    for (h, &m) in multipliers.iter().enumerate() {
        if hour_s[h] <= 0.0 {
            continue;
        }
        let rate = rate_per_s * m;
        if rate <= 0.0 {
            continue; // no requests in this hour: idle costs are counted by the busy hours' rate
        }
        let per_second: Vec<Bill> = match cache.iter().find(|(r, _)| *r == rate) {
            Some((_, b)) => b.clone(),
            None => {
                // Project one hour at this rate, then scale to the hour's share of the period.
                let b = project_bills(scenario, deployments, models, rate, 3600.0, window, seed, false)?;
                cache.push((rate, b.clone()));
                b
            }
        };
        let f = hour_s[h] / 3600.0;
        let scaled: Vec<Bill> = per_second.iter().map(|b| scale_bill(b, f)).collect();
        total = Some(match total {
            None => scaled,
            Some(t) => t.iter().zip(&scaled).map(|(a, b)| add_bills(a, b)).collect(),
        });
    }
    let mut bills = total.unwrap_or_default();
    for b in &mut bills {
        b.period_s = period_s;
        b.exact = false;
        if free_tier {
            let d = Deployment::from_name(&b.deployment).expect("bills carry deployment names");
            let t = FreeTier::of(d);
            let months = period_s / (30.0 * 86_400.0);
            let price = if b.gb_s > 0.0 { b.cost_usd.compute / b.gb_s } else { 0.0 };
            b.cost_usd.compute = (b.cost_usd.compute - t.gb_s * months * price).max(0.0);
            b.free_tier = Some(t);
            b.cost_usd.total = b.cost_usd.compute
                + b.cost_usd.requests
                + b.cost_usd.transactions
                + b.cost_usd.transitions
                + b.cost_usd.storage
                + b.cost_usd.instances;
        }
    }
    Ok(bills)
}

fn scale_bill(b: &Bill, f: f64) -> Bill {
    let c = &b.cost_usd;
    Bill {
        executions: b.executions * f,
        completed: (b.completed as f64 * f).round() as u64,
        failed: (b.failed as f64 * f).round() as u64,
        throttled: (b.throttled as f64 * f).round() as u64,
        idle_usd: b.idle_usd * f,
        gb_s: b.gb_s * f,
        transactions: crate::TransactionSummary {
            queue: b.transactions.queue * f,
            table: b.transactions.table * f,
            blob: b.transactions.blob * f,
        },
        cost_usd: CostSummary {
            compute: c.compute * f,
            requests: c.requests * f,
            transactions: c.transactions * f,
            transitions: c.transitions * f,
            storage: c.storage * f,
            instances: c.instances * f,
            total: c.total * f,
        },
        ..b.clone()
    }
}

fn add_bills(a: &Bill, b: &Bill) -> Bill {
    let (x, y) = (&a.cost_usd, &b.cost_usd);
    Bill {
        executions: a.executions + b.executions,
        idle_usd: a.idle_usd + b.idle_usd,
        gb_s: a.gb_s + b.gb_s,
        transactions: crate::TransactionSummary {
            queue: a.transactions.queue + b.transactions.queue,
            table: a.transactions.table + b.transactions.table,
            blob: a.transactions.blob + b.transactions.blob,
        },
        window_executions: a.window_executions + b.window_executions,
        completed: a.completed + b.completed,
        failed: a.failed + b.failed,
        throttled: a.throttled + b.throttled,
        stable: a.stable && b.stable,
        instability: {
            let mut v = a.instability.clone();
            v.extend(b.instability.iter().filter(|m| !a.instability.contains(m)).cloned());
            v
        },
        // The busier hour's window: the one that decides whether the bill holds.
        window: if b.window.offered_concurrency > a.window.offered_concurrency { b.window.clone() } else { a.window.clone() },
        cost_usd: CostSummary {
            compute: x.compute + y.compute,
            requests: x.requests + y.requests,
            transactions: x.transactions + y.transactions,
            transitions: x.transitions + y.transitions,
            storage: x.storage + y.storage,
            instances: x.instances + y.instances,
            total: x.total + y.total,
        },
        ..a.clone()
    }
}

/// Parses 24 comma-separated non-negative multipliers (one per hour of the day).
pub fn parse_profile(s: &str) -> Result<[f64; 24], String> {
    let v: Vec<f64> =
        s.split(',').map(|x| x.trim().parse::<f64>().map_err(|_| format!("`{x}` is not a number"))).collect::<Result<_, _>>()?;
    if v.len() != 24 {
        return Err(format!("a daily profile needs 24 hourly multipliers, got {}", v.len()));
    }
    if v.iter().any(|x| !x.is_finite() || *x < 0.0) || v.iter().all(|x| *x == 0.0) {
        return Err("hourly multipliers must be finite, >= 0 and not all zero".into());
    }
    let mut a = [0.0; 24];
    a.copy_from_slice(&v);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_periods_parse_with_units() {
        assert_eq!(parse_rate("10/s"), Ok(10.0));
        assert_eq!(parse_rate("1/h"), Ok(1.0 / 3600.0));
        assert_eq!(parse_rate("30/min"), Ok(0.5));
        assert!(parse_rate("10").is_err() && parse_rate("-1/s").is_err() && parse_rate("1/yr").is_err());
        assert_eq!(parse_period("30d"), Ok(2_592_000.0));
        assert_eq!(parse_period("1w"), Ok(604_800.0));
        assert!(parse_period("30").is_err() && parse_period("0d").is_err());
    }

    #[test]
    fn absurd_rates_are_refused() {
        for r in ["1e308/s", "inf/s", "NaN/s", "2e6/s", "0/s", "1e-320/s"] {
            assert!(parse_rate(r).is_err(), "{r} accepted");
        }
        assert_eq!(parse_rate("1e6/s"), Ok(1e6));
    }

    #[test]
    fn periods_read_in_words() {
        assert_eq!(period_text(3600.0), "1 h");
        assert_eq!(period_text(90.0), "90 s");
        assert_eq!(period_text(30.0 * 86_400.0), "30 days");
        assert_eq!(period_text(1.5 * 86_400.0), "36 h");
    }
}
