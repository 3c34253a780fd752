//! Projected bills: what a workload costs over a period (a month at 10 requests per second, a
//! year at one per hour) without simulating every execution.
//!
//! **Method.** A *representative window* of executions is simulated at the requested rate
//! (Poisson arrivals): its executions give the cost per execution by kind; its idle
//! transactions (empty polls, scale-controller peeks, lease renewals) give an idle cost per
//! second of simulated time. The bill is `executions in the period x cost per execution + idle
//! cost per second x period`. When the period holds fewer executions than the window, the whole
//! period is simulated and the bill is exact. The idle part is a rate measured over the window's
//! wall time, so it includes the idle gaps between requests at low rates.
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

use crate::{CostSummary, RunOptions, run_scenario};

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
    let r = run_scenario(&sc, deployments, models, &opts)?;
    let mut bills = Vec::new();
    for (d, s) in deployments.iter().zip(&r.results) {
        // Per-execution costs exclude the idle share, which is projected as a rate.
        let idle_rate = if s.idle.simulated_s > 0.0 { s.idle.cost_usd / s.idle.simulated_s } else { 0.0 };
        let per = &s.cost_usd;
        let idle_per_exec = s.idle.cost_usd / s.iterations.max(1) as f64;
        let idle_usd = if exact { s.idle.cost_usd } else { idle_rate * period_s };
        let scale = if exact { s.iterations as f64 } else { executions };
        let mut cost = CostSummary {
            compute: per.compute * scale,
            requests: per.requests * scale,
            transactions: (per.transactions - idle_per_exec) * scale + idle_usd,
            transitions: per.transitions * scale,
            storage: per.storage * scale,
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
        cost.total = cost.compute + cost.requests + cost.transactions + cost.transitions + cost.storage;
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
        bills.push(Bill {
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
    if r.is_finite() && r > 0.0 { Ok(r) } else { Err(format!("rate `{s}` must be positive")) }
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
            b.cost_usd.total =
                b.cost_usd.compute + b.cost_usd.requests + b.cost_usd.transactions + b.cost_usd.transitions + b.cost_usd.storage;
        }
    }
    Ok(bills)
}

fn scale_bill(b: &Bill, f: f64) -> Bill {
    let c = &b.cost_usd;
    Bill {
        executions: b.executions * f,
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
        cost_usd: CostSummary {
            compute: x.compute + y.compute,
            requests: x.requests + y.requests,
            transactions: x.transactions + y.transactions,
            transitions: x.transitions + y.transitions,
            storage: x.storage + y.storage,
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
