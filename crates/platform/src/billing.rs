//! Billing: what one execution costs.
//!
//! **Models.**
//! * *Lambda* (configured memory): billed duration = execution time rounded **up** to the
//!   granularity (100 ms in 2020-21, 1 ms since Dec 2020), times configured memory in GB
//!   (1 GB = 1,024 MB), times the GB-s price; plus a per-request price. Init time of a cold start
//!   is not billed (managed runtimes, 2020-21).
//! * *Azure Functions Consumption* (observed memory): the execution's average observed memory,
//!   rounded up to 128 MB and clamped to [128, 1,536] MB, times its duration rounded up to 1 ms
//!   with a 100 ms minimum, times the GB-s price; plus a per-execution price. With the host's
//!   per-instant buckets (`billing.meter_instant_buckets`, the default: Azure/azure-functions-host
//!   `CalculateFunctionExecutionUnits`), the world meters each active execution the process
//!   memory over the active count, rounded up to 128 MB (at least 128 MB) at every instant, and
//!   the execution bills the MB-s metered ([`BillingPolicy::bill_metered`]).
//!
//! * *Azure Flex Consumption* (instance memory): an instance bills its configured memory (512,
//!   2,048 or 4,096 MB, not observed memory) over the periods in which it executes functions, each
//!   period rounded up to 100 ms with a 1,000 ms minimum; executions running at once on one
//!   instance share its period (each is charged an equal share, the rounding goes to the one that
//!   closes the period); plus a per-execution price. An *always-ready* instance executes at a
//!   lower GB-s rate and bills a *baseline* GB-s price for every second it exists, busy or idle.
//! * *Azure Elastic Premium* (instance time): every instance bills vCPU-seconds and GB-seconds of
//!   its size (EP1-EP3) for every second it exists, busy or idle; no per-execution charge.
//!
//! Instance-time charges (Premium instances, Flex always-ready baselines) are a bill part of their
//! own, [`Cost::instances`], accrued over the simulated time by the world and projected to a
//! period as a rate (`crates/experiment/src/cost.rs`).
//!
//! **Parameters.** `[billing]` of `models/aws-lambda.toml` and `models/az-func.toml` (AWS 1 ms
//! billing blog, Azure pricing page and AZD functions-consumption-costs); `[flex]` and
//! `[premium]` of `models/az-func.toml` (AZD flex-consumption-plan, Azure Retail Prices meters,
//! 2026).
//!
//! **Scope and limitations.** No free tier (the study priced without it), no Savings Plans, no
//! provisioned concurrency, no data-transfer charges. Azure's memory meter samples the whole
//! process; here it is the time-weighted average of the runtime's and the steps' memory. Premium's
//! pre-warmed buffer is not billed beyond the instances that exist; Flex's free grants are not
//! modelled.
//!
//! **Validation.** Hand-computed bills in the unit tests below, to the last digit;
//! `tests/hosting_plans.rs` (idle Premium instance-seconds, Flex instance-memory GB-s).

use sfsim_engine::SimDuration;

/// A bill split by kind, in US dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// GB-s charges.
    pub compute: f64,
    /// Per-request / per-execution charges.
    pub requests: f64,
    /// Storage-account transactions (queues, tables) of stateful platforms.
    pub transactions: f64,
    /// Step Functions state transitions.
    pub transitions: f64,
    /// Object-storage (S3, Blob) request charges.
    pub storage: f64,
    /// Instance time billed whatever the load: Premium instance-seconds, Flex always-ready
    /// baselines.
    pub instances: f64,
}

impl Cost {
    /// The sum of all parts.
    pub fn total(&self) -> f64 {
        self.compute + self.requests + self.transactions + self.transitions + self.storage + self.instances
    }
    /// Adds another bill.
    pub fn add(&mut self, o: &Cost) {
        self.compute += o.compute;
        self.requests += o.requests;
        self.transactions += o.transactions;
        self.transitions += o.transitions;
        self.storage += o.storage;
        self.instances += o.instances;
    }
    /// Scales every part.
    pub fn scaled(&self, f: f64) -> Cost {
        Cost {
            compute: self.compute * f,
            requests: self.requests * f,
            transactions: self.transactions * f,
            transitions: self.transitions * f,
            storage: self.storage * f,
            instances: self.instances * f,
        }
    }
}

/// The compute part of one execution's bill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComputeBill {
    /// Billed duration.
    pub billed: SimDuration,
    /// Billed memory, MiB.
    pub memory_mb: f64,
    /// GB-s.
    pub gb_s: f64,
    /// $ for GB-s.
    pub compute_usd: f64,
    /// $ for the request/execution.
    pub request_usd: f64,
}

/// How a platform turns an execution into a bill.
#[derive(Clone, Debug)]
pub enum BillingPolicy {
    /// Lambda: configured memory, duration rounded up.
    ConfiguredMemory {
        /// Configured memory, MiB.
        memory_mb: f64,
        /// Rounding quantum.
        granularity: SimDuration,
        /// $/GB-s.
        price_usd_per_gb_s: f64,
        /// $/request.
        price_usd_per_request: f64,
    },
    /// Azure Consumption: observed memory rounded, minimums.
    ObservedMemory {
        /// Memory rounding, MiB.
        round_mb: f64,
        /// Minimum memory, MiB.
        min_mb: f64,
        /// Maximum memory, MiB.
        max_mb: f64,
        /// Minimum duration.
        min_duration: SimDuration,
        /// Rounding quantum.
        granularity: SimDuration,
        /// $/GB-s.
        price_usd_per_gb_s: f64,
        /// $/execution.
        price_usd_per_execution: f64,
    },
    /// Azure Flex Consumption: instance memory over each instance's executing periods.
    InstanceMemory {
        /// Instance memory, MiB.
        memory_mb: f64,
        /// Minimum billed period.
        min_period: SimDuration,
        /// Rounding quantum of a period.
        granularity: SimDuration,
        /// Rates of on-demand instances.
        on_demand: ExecRates,
        /// Rates of always-ready instances.
        always_ready: ExecRates,
        /// $/GB-s of an always-ready instance's memory for every second it exists.
        baseline_usd_per_gb_s: f64,
    },
    /// Azure Elastic Premium: every instance-second, busy or idle.
    InstanceTime {
        /// vCPUs per instance.
        vcpus: f64,
        /// Memory per instance, MiB.
        memory_mb: f64,
        /// $ per vCPU-second.
        price_usd_per_vcpu_s: f64,
        /// $ per GB-second.
        price_usd_per_gb_s: f64,
    },
}

/// Execution prices of one kind of Flex instance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExecRates {
    /// $ per GB-s of instance memory while executing.
    pub price_usd_per_gb_s: f64,
    /// $ per execution.
    pub price_usd_per_execution: f64,
}

fn gb_s(billed: SimDuration, memory_mb: f64) -> f64 {
    // One division of two exactly representable products keeps hand-computed bills exact.
    billed.as_nanos() as f64 * memory_mb / (1e9 * 1024.0)
}

impl BillingPolicy {
    /// The memory Azure Consumption bills for `mb` of observed memory: rounded up to the step
    /// and clamped to the minimum and maximum (`ObservedMemory`); other policies bill `mb`.
    pub fn bucket_mb(&self, mb: f64) -> f64 {
        match *self {
            BillingPolicy::ObservedMemory { round_mb, min_mb, max_mb, .. } => {
                let rounded = if round_mb > 0.0 { (mb / round_mb).ceil() * round_mb } else { mb };
                rounded.clamp(min_mb, max_mb)
            }
            _ => mb,
        }
    }

    /// Bills one execution of `duration` whose time-averaged observed memory was
    /// `avg_observed_mb` (ignored by configured-memory billing).
    pub fn bill(&self, duration: SimDuration, avg_observed_mb: f64) -> ComputeBill {
        match *self {
            BillingPolicy::ConfiguredMemory { memory_mb, granularity, price_usd_per_gb_s, price_usd_per_request } => {
                let billed = duration.round_up_to(granularity);
                let g = gb_s(billed, memory_mb);
                ComputeBill { billed, memory_mb, gb_s: g, compute_usd: g * price_usd_per_gb_s, request_usd: price_usd_per_request }
            }
            BillingPolicy::ObservedMemory { min_duration, granularity, price_usd_per_gb_s, price_usd_per_execution, .. } => {
                let billed = duration.round_up_to(granularity).max(min_duration);
                let memory_mb = self.bucket_mb(avg_observed_mb);
                let g = gb_s(billed, memory_mb);
                ComputeBill { billed, memory_mb, gb_s: g, compute_usd: g * price_usd_per_gb_s, request_usd: price_usd_per_execution }
            }
            // An execution alone on an on-demand instance: its period is its duration.
            BillingPolicy::InstanceMemory { memory_mb, .. } => {
                let billed = self.billed_period(duration);
                self.bill_share(duration, gb_s(billed, memory_mb) * 1024.0, false)
            }
            BillingPolicy::InstanceTime { memory_mb, .. } => {
                ComputeBill { billed: duration, memory_mb, gb_s: 0.0, compute_usd: 0.0, request_usd: 0.0 }
            }
        }
    }

    /// Azure Consumption with the host's per-instant buckets: an execution that ran `duration`
    /// and was metered `metered_mb_s` MB-s (each instant's share already rounded up to the
    /// memory step) bills those MB-s; a duration under the minimum is extended at the
    /// execution's average bucket (at least the minimum memory). Other policies: [`Self::bill`].
    pub fn bill_metered(&self, duration: SimDuration, metered_mb_s: f64) -> ComputeBill {
        match *self {
            BillingPolicy::ObservedMemory {
                min_mb,
                max_mb,
                min_duration,
                granularity,
                price_usd_per_gb_s,
                price_usd_per_execution,
                ..
            } => {
                let billed = duration.round_up_to(granularity).max(min_duration);
                let secs = duration.as_secs_f64();
                let avg = if secs > 0.0 { (metered_mb_s / secs).clamp(min_mb, max_mb) } else { min_mb };
                let g = if billed > duration || secs == 0.0 { gb_s(billed, avg) } else { metered_mb_s.max(min_mb * secs) / 1024.0 };
                ComputeBill { billed, memory_mb: avg, gb_s: g, compute_usd: g * price_usd_per_gb_s, request_usd: price_usd_per_execution }
            }
            _ => self.bill(duration, metered_mb_s / duration.as_secs_f64().max(1e-9)),
        }
    }

    /// Flex: bills an execution that ran `duration` and was charged `share_mb_s` MB-s of its
    /// instance's executing periods (its share, plus the rounding of a period it closed), on an
    /// always-ready or on-demand instance.
    pub fn bill_share(&self, duration: SimDuration, share_mb_s: f64, always_ready: bool) -> ComputeBill {
        match *self {
            BillingPolicy::InstanceMemory { memory_mb, on_demand, always_ready: ar, .. } => {
                let rates = if always_ready { ar } else { on_demand };
                let g = share_mb_s / 1024.0;
                ComputeBill {
                    billed: duration,
                    memory_mb,
                    gb_s: g,
                    compute_usd: g * rates.price_usd_per_gb_s,
                    request_usd: rates.price_usd_per_execution,
                }
            }
            _ => self.bill(duration, share_mb_s / duration.as_secs_f64().max(1e-9)),
        }
    }

    /// Flex: an instance's executing period as billed (rounded up, with the minimum); other
    /// policies: unchanged.
    pub fn billed_period(&self, period: SimDuration) -> SimDuration {
        match *self {
            BillingPolicy::InstanceMemory { min_period, granularity, .. } => period.round_up_to(granularity).max(min_period),
            _ => period,
        }
    }

    /// What one instance costs for existing `alive`, whatever it executed: Premium's
    /// vCPU-seconds and GB-seconds; an always-ready Flex instance's baseline; else nothing.
    pub fn instance_usd(&self, alive: SimDuration, always_ready: bool) -> f64 {
        let s = alive.as_secs_f64();
        match *self {
            BillingPolicy::InstanceTime { vcpus, memory_mb, price_usd_per_vcpu_s, price_usd_per_gb_s } => {
                s * (vcpus * price_usd_per_vcpu_s + memory_mb / 1024.0 * price_usd_per_gb_s)
            }
            BillingPolicy::InstanceMemory { memory_mb, baseline_usd_per_gb_s, .. } if always_ready => {
                s * memory_mb / 1024.0 * baseline_usd_per_gb_s
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda(granularity_ms: u64) -> BillingPolicy {
        BillingPolicy::ConfiguredMemory {
            memory_mb: 1536.0,
            granularity: SimDuration::from_millis(granularity_ms),
            price_usd_per_gb_s: 0.0000166667,
            price_usd_per_request: 0.0000002,
        }
    }

    fn azure() -> BillingPolicy {
        BillingPolicy::ObservedMemory {
            round_mb: 128.0,
            min_mb: 128.0,
            max_mb: 1536.0,
            min_duration: SimDuration::from_millis(100),
            granularity: SimDuration::from_millis(1),
            price_usd_per_gb_s: 0.000016,
            price_usd_per_execution: 0.0000002,
        }
    }

    /// One memory bucket for the per-execution bill and the host's per-instant meter: rounded
    /// up to 128 MB, clamped to [128, 1536] MB; other policies bill the memory as it is.
    #[test]
    fn the_memory_bucket_rounds_up_and_clamps() {
        let a = azure();
        assert_eq!([a.bucket_mb(1.0), a.bucket_mb(128.0), a.bucket_mb(129.0), a.bucket_mb(5000.0)], [128.0, 128.0, 256.0, 1536.0]);
        assert_eq!(a.bill(SimDuration::from_secs(1), 129.0).memory_mb, 256.0);
        assert_eq!(lambda(1).bucket_mb(129.0), 129.0);
    }

    /// The host's per-instant buckets: what was metered is billed as it is; a duration under
    /// the 100 ms minimum is extended at the execution's average bucket.
    #[test]
    fn metered_buckets_bill_as_metered() {
        // 2 s metered at 256 MB then 2 s at 128 MB: 768 MB-s = 0.75 GB-s.
        let b = azure().bill_metered(SimDuration::from_secs(4), 768.0);
        assert_eq!((b.gb_s, b.memory_mb, b.billed), (0.75, 192.0, SimDuration::from_secs(4)));
        assert_eq!(b.compute_usd, 0.75 * 0.000016);
        // 50 ms at 256 MB: billed 100 ms at 256 MB.
        let b = azure().bill_metered(SimDuration::from_millis(50), 12.8);
        assert_eq!((b.billed, b.memory_mb), (SimDuration::from_millis(100), 256.0));
        assert_eq!(b.gb_s, 0.025);
    }

    #[test]
    fn lambda_rounds_up_to_100_ms_in_the_study_era() {
        // 1,234.5 ms at 1,536 MB: billed 1,300 ms = 1.3 s x 1.5 GB = 1.95 GB-s.
        let b = lambda(100).bill(SimDuration::from_secs_f64(1.2345), 0.0);
        assert_eq!(b.billed, SimDuration::from_millis(1300));
        assert_eq!(b.gb_s, 1.95);
        assert_eq!(b.compute_usd, 1.95 * 0.0000166667);
        assert_eq!(b.request_usd, 0.0000002);
        // With 1 ms granularity: 1,235 ms.
        let b = lambda(1).bill(SimDuration::from_secs_f64(1.2345), 0.0);
        assert_eq!(b.billed, SimDuration::from_millis(1235));
        // Exactly on a boundary: no extra quantum.
        assert_eq!(lambda(100).bill(SimDuration::from_millis(200), 0.0).billed, SimDuration::from_millis(200));
    }

    #[test]
    fn azure_rounds_memory_to_128_mb_with_minimums() {
        // 40 ms at 90 MB: 100 ms minimum, 128 MB minimum: 0.1 s x 0.125 GB = 0.0125 GB-s.
        let b = azure().bill(SimDuration::from_millis(40), 90.0);
        assert_eq!((b.billed, b.memory_mb, b.gb_s), (SimDuration::from_millis(100), 128.0, 0.0125));
        // 2.0004 s at 300 MB: 2,001 ms, 384 MB: 2.001 x 0.375 = 0.750375 GB-s.
        let b = azure().bill(SimDuration::from_secs_f64(2.0004), 300.0);
        assert_eq!(b.billed, SimDuration::from_millis(2001));
        assert_eq!(b.memory_mb, 384.0);
        assert!((b.gb_s - 0.750375).abs() < 1e-12);
        // Above the cap: 1,536 MB.
        assert_eq!(azure().bill(SimDuration::from_secs(1), 5000.0).memory_mb, 1536.0);
    }

    fn flex() -> BillingPolicy {
        BillingPolicy::InstanceMemory {
            memory_mb: 2048.0,
            min_period: SimDuration::from_millis(1000),
            granularity: SimDuration::from_millis(100),
            on_demand: ExecRates { price_usd_per_gb_s: 0.000026, price_usd_per_execution: 0.0000004 },
            always_ready: ExecRates { price_usd_per_gb_s: 0.000016, price_usd_per_execution: 0.0000004 },
            baseline_usd_per_gb_s: 0.000004,
        }
    }

    #[test]
    fn flex_bills_instance_memory_with_a_one_second_minimum() {
        // 0.4 s alone at 2,048 MB: a 1,000 ms period x 2 GB = 2 GB-s, whatever memory it used.
        let b = flex().bill(SimDuration::from_millis(400), 90.0);
        assert_eq!((b.gb_s, b.compute_usd, b.request_usd), (2.0, 2.0 * 0.000026, 0.0000004));
        // 2.01 s: rounded up to 2.1 s = 4.2 GB-s.
        assert_eq!(flex().billed_period(SimDuration::from_millis(2010)), SimDuration::from_millis(2100));
        // An always-ready instance: the lower execution rate, plus its baseline per second alive.
        let b = flex().bill_share(SimDuration::from_secs(1), 2048.0, true);
        assert_eq!(b.compute_usd, 2.0 * 0.000016);
        assert_eq!(flex().instance_usd(SimDuration::from_secs(3600), true), 3600.0 * 2.0 * 0.000004);
        assert_eq!(flex().instance_usd(SimDuration::from_secs(3600), false), 0.0);
    }

    #[test]
    fn premium_bills_every_instance_second_and_no_execution() {
        // EP2 (2 vCPU, 7 GB) for an hour: 2 x $0.173 + 7 x $0.0123.
        let p = BillingPolicy::InstanceTime {
            vcpus: 2.0,
            memory_mb: 7168.0,
            price_usd_per_vcpu_s: 0.173 / 3600.0,
            price_usd_per_gb_s: 0.0123 / 3600.0,
        };
        assert!((p.instance_usd(SimDuration::from_secs(3600), false) - (2.0 * 0.173 + 7.0 * 0.0123)).abs() < 1e-12);
        let b = p.bill(SimDuration::from_secs(5), 500.0);
        assert_eq!((b.compute_usd, b.request_usd), (0.0, 0.0));
    }

    #[test]
    fn every_part_of_a_bill_counts_once_in_its_total_and_its_sums() {
        // Each part a distinct power of two: a part missing from `total`, counted twice, or
        // added into another part by `add` or `scaled` changes the sum's bits.
        let parts = |c: &Cost| [c.compute, c.requests, c.transactions, c.transitions, c.storage, c.instances];
        let a = Cost { compute: 1.0, requests: 2.0, transactions: 4.0, transitions: 8.0, storage: 16.0, instances: 1024.0 };
        let b = Cost { compute: 32.0, requests: 64.0, transactions: 128.0, transitions: 256.0, storage: 512.0, instances: 2048.0 };
        assert_eq!(a.total(), 1055.0);
        let mut c = a;
        c.add(&b);
        assert_eq!(parts(&c), [33.0, 66.0, 132.0, 264.0, 528.0, 3072.0]);
        assert_eq!(c.total(), a.total() + b.total());
        assert_eq!(parts(&b.scaled(0.5)), [16.0, 32.0, 64.0, 128.0, 256.0, 1024.0]);
    }
}
