//! Scale-out limits: how fast a platform may add instances.
//!
//! **Models.**
//! * *Lambda burst-then-linear* (LDG invocation-scaling, 2020): concurrency may jump to the
//!   initial burst (3,000 in us-west-2), and above it grows by 500 instances per minute, never
//!   past the account concurrency (1,000 by default). Invocations beyond the allowed concurrency
//!   are throttled (`TooManyRequestsException`, HTTP 429) rather than queued: a synchronous caller
//!   gets the error. The ramp clock starts when concurrency first reaches the burst level and
//!   resets when it falls below it again.
//! * *Azure host rate* (AZD event-driven-scaling, 2020): the scale controller adds at most one
//!   host per interval (1 s for HTTP triggers, 30 s for queue and Durable triggers) up to 200
//!   hosts. Work that finds no free host waits in the front-end (HTTP) or in the queue.
//!
//! **Scope and limitations.** Lambda's 2023 per-function rule (+1,000 per 10 s) is not the
//! default era; the scale controller's decision is demand-driven (a host is added whenever work
//! waits and the interval has passed), with no heuristics on queue age or CPU.
//!
//! **Validation.** Unit tests below: the Lambda allowance over time and the Azure host-count
//! bound `hosts(t) <= 1 + floor(t / interval)` hand-computed.

use sfsim_engine::{SimDuration, SimTime};

/// Lambda's concurrency allowance.
#[derive(Clone, Debug)]
pub struct LambdaScaler {
    /// Initial burst, instances.
    pub burst: u32,
    /// Growth after the burst, instances per minute.
    pub increase_per_min: u32,
    /// Account concurrency limit.
    pub limit: u32,
    over_burst_since: Option<SimTime>,
}

impl LambdaScaler {
    /// A scaler with the given burst, ramp and limit.
    pub fn new(burst: u32, increase_per_min: u32, limit: u32) -> Self {
        LambdaScaler { burst, increase_per_min, limit, over_burst_since: None }
    }

    /// The concurrency allowed at `now`, given the current concurrency.
    pub fn allowed(&mut self, now: SimTime, concurrency: u32) -> u32 {
        if concurrency < self.burst {
            self.over_burst_since = None;
        } else if self.over_burst_since.is_none() {
            self.over_burst_since = Some(now);
        }
        let ramp = match self.over_burst_since {
            Some(since) => {
                let minutes = now.saturating_since(since).as_nanos() / SimDuration::from_secs(60).as_nanos();
                u64::from(self.increase_per_min) * minutes
            }
            None => 0,
        };
        (u64::from(self.burst) + ramp).min(u64::from(self.limit)) as u32
    }
}

/// The Azure scale controller's pace.
#[derive(Clone, Debug)]
pub struct HostScaler {
    /// Minimum time between two host additions.
    pub interval: SimDuration,
    /// Host cap.
    pub max_hosts: u32,
    last_add: Option<SimTime>,
}

/// The scale controller's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostDecision {
    /// Add a host now.
    Add,
    /// Ask again at this time.
    RetryAt(SimTime),
    /// At the cap: wait for a host to free up.
    AtCap,
}

impl HostScaler {
    /// A controller adding at most one host per `interval`, up to `max_hosts`.
    pub fn new(interval: SimDuration, max_hosts: u32) -> Self {
        HostScaler { interval, max_hosts, last_add: None }
    }

    /// Whether a host may be added at `now` when `hosts` are live. `Add` records the addition.
    pub fn request(&mut self, now: SimTime, hosts: u32) -> HostDecision {
        let interval = self.interval;
        self.request_with(now, hosts, interval)
    }

    /// As [`HostScaler::request`], with the interval of the trigger that asks (an app with HTTP
    /// and queue triggers shares one pace: 1 s for HTTP demand, 30 s for queue demand).
    pub fn request_with(&mut self, now: SimTime, hosts: u32, interval: SimDuration) -> HostDecision {
        if hosts >= self.max_hosts {
            return HostDecision::AtCap;
        }
        // The first host of an app with no hosts is not rate-limited: the platform always
        // allocates an instance to an app that has none.
        if hosts > 0
            && let Some(last) = self.last_add
        {
            let next = last + interval;
            if now < next {
                return HostDecision::RetryAt(next);
            }
        }
        self.last_add = Some(now);
        HostDecision::Add
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_burst_then_linear_ramp_capped_by_account_limit() {
        let mut s = LambdaScaler::new(3000, 500, 10_000);
        let t = |m: f64| SimTime::from_secs_f64(m * 60.0);
        assert_eq!(s.allowed(t(0.0), 10), 3000);
        assert_eq!(s.allowed(t(1.0), 3000), 3000); // ramp starts now
        assert_eq!(s.allowed(t(1.99), 3400), 3000);
        assert_eq!(s.allowed(t(2.0), 3400), 3500);
        assert_eq!(s.allowed(t(5.0), 4900), 5000);
        assert_eq!(s.allowed(t(100.0), 9000), 10_000);
        assert_eq!(s.allowed(t(101.0), 10), 3000); // fell below the burst: reset
        let mut s = LambdaScaler::new(3000, 500, 1000);
        assert_eq!(s.allowed(t(0.0), 999), 1000);
    }

    #[test]
    fn azure_adds_at_most_one_host_per_interval() {
        let mut s = HostScaler::new(SimDuration::from_secs(30), 200);
        let mut hosts = 0;
        // Demand asks every 100 ms for 10 minutes.
        for i in 0..6000u64 {
            let now = SimTime(i * 100_000_000);
            if s.request(now, hosts) == HostDecision::Add {
                hosts += 1;
            }
            let bound = 1 + now.as_secs_f64() as u32 / 30;
            assert!(hosts <= bound, "{hosts} hosts at {now}, bound {bound}");
        }
        assert_eq!(hosts, 20);
        assert_eq!(s.request(SimTime::from_secs_f64(600.05), 200), HostDecision::AtCap);
    }
}
