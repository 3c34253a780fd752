//! The study's six deployments and how a function platform is assembled for one of them.
//!
//! A [`FunctionPlatform`] is the composition of mechanisms that runs functions: instances with a
//! CPU share and execution slots ([`crate::cpu`]), cold starts ([`crate::coldstart`]), keep-alive,
//! a scale-out rule ([`crate::scaling`]), payload limits and a timeout, object storage
//! ([`crate::storage`]) and a billing policy ([`crate::billing`]). It is built from a platform
//! model file (`models/*.toml`) and the scenario's per-deployment settings (memory, package,
//! and on Azure the hosting plan, instance size, runtime, always-ready and maximum instances).
//!
//! **Azure hosting plans** (`plan`): *Consumption* (the study's: 1 vCPU, 1.5 GB hosts,
//! observed-memory billing, one host per 1 s for HTTP and per 30 s for queues, up to 200);
//! *Flex Consumption* (instance memory 512 / 2,048 / 4,096 MB with 0.25 / 1 / 2 vCPUs, HTTP
//! concurrency per instance by size (1 for Python), always-ready instances, up to 1,000 instances
//! added as demand asks, instance-memory billing); *Elastic Premium* (EP1-EP3: 1 / 2 / 4 vCPUs,
//! 3.5 / 7 / 14 GB, at least one always-ready instance, scale-out instances from the pre-warmed
//! buffer with the Premium cold start, up to 100 instances, billed per instance-second). The
//! instance's vCPUs are the CPU capacity its executions share ([`crate::cpu`]).
//!
//! **Runtime** (`runtime`): Python runs invocations' code on the worker's thread pool
//! (`python_thread_pool`, 1 before Python 3.9; with `python_thread_pool_auto` Python's default
//! `min(32, cores + 4)`; `python_threads` sets it); .NET has no worker-thread limit (the slots
//! alone bound concurrency).
//!
//! **Validation.** Unit tests below (sizes and their CPUs, defaults, refused combinations);
//! `tests/hosting_plans.rs` through the binary.

use sfsim_engine::SimDuration;
use sfsim_workflow::{BYTES_PER_KB, DeploymentConfig, Dist, HostingPlan, PremiumSku, Runtime};

use crate::billing::{BillingPolicy, ExecRates};
use crate::coldstart::ColdStart;
use crate::params::Models;
use crate::payload::{PayloadError, PayloadLimit};
use crate::storage::ObjectStore;

/// The six implementations of the study (paper.md Table II), and chains users compare against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Deployment {
    /// The whole workflow in one stateless Lambda function.
    AwsLambda,
    /// A Step Functions state machine calling one Lambda per state.
    AwsStep,
    /// The whole workflow in one stateless Azure function.
    AzFunc,
    /// Azure functions chained through Storage queues.
    AzQueue,
    /// A Durable orchestrator calling activities.
    AzDorch,
    /// A Durable orchestrator calling entities.
    AzDent,
    /// Azure functions chained through Blob storage (blob triggers).
    AzBlob,
    /// Lambda functions chained through SQS queues (event source mappings).
    AwsSqs,
}

impl Deployment {
    /// All of them: the study's six in its order, then the other chains.
    pub const ALL: [Deployment; 8] = [
        Deployment::AwsLambda,
        Deployment::AwsStep,
        Deployment::AzFunc,
        Deployment::AzQueue,
        Deployment::AzDorch,
        Deployment::AzDent,
        Deployment::AzBlob,
        Deployment::AwsSqs,
    ];

    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            Deployment::AwsLambda => "aws-lambda",
            Deployment::AwsStep => "aws-step",
            Deployment::AzFunc => "az-func",
            Deployment::AzQueue => "az-queue",
            Deployment::AzDorch => "az-dorch",
            Deployment::AzDent => "az-dent",
            Deployment::AzBlob => "az-blob",
            Deployment::AwsSqs => "aws-sqs",
        }
    }

    /// The cross-function payload limit a workflow sizes its chunks by on this deployment, in
    /// bytes: each deployment's own message or payload limit (paper.md Table I: 256 KB on AWS,
    /// the Step Functions state limit, `models/aws-step.toml` `limits.payload_max_kb`; 64 KB on
    /// Azure, the Durable payload limit, `models/az-durable.toml` `payload.limit_kb`); the
    /// chains' messages: an SQS message (`models/aws-lambda.toml` `sqs.message_max_kb`), an
    /// Azure Storage queue message (`models/az-storage.toml` `queue.message_max_kb`, also the
    /// limit the az-blob chain's functions are written to). The single functions run the same
    /// code as their platform's orchestrated workflows (aws-step, az-dorch), so they cut the
    /// same chunks.
    pub fn chunk_payload_bytes(self, models: &Models) -> u64 {
        let kb = match self {
            Deployment::AwsLambda | Deployment::AwsStep => models.step.limits.payload_max_kb.value,
            Deployment::AwsSqs => models.lambda.sqs.message_max_kb.value,
            Deployment::AzFunc | Deployment::AzDorch | Deployment::AzDent => models.durable.payload.limit_kb.value,
            Deployment::AzQueue | Deployment::AzBlob => models.storage.queue.message_max_kb.value,
        };
        (kb * BYTES_PER_KB).round() as u64
    }

    /// Parses a deployment name.
    pub fn from_name(s: &str) -> Option<Deployment> {
        Deployment::ALL.into_iter().find(|d| d.name() == s)
    }

    /// One line on what it is.
    pub fn description(self) -> &'static str {
        match self {
            Deployment::AwsLambda => "whole workflow in one stateless AWS Lambda function",
            Deployment::AwsStep => "AWS Step Functions state machine, one Lambda per state",
            Deployment::AzFunc => "whole workflow in one stateless Azure function (Consumption plan)",
            Deployment::AzQueue => "Azure functions chained through Azure Storage queues",
            Deployment::AzDorch => "Durable Functions orchestrator calling activities",
            Deployment::AzDent => "Durable Functions orchestrator calling entities",
            Deployment::AzBlob => "Azure functions chained through Blob storage (blob triggers)",
            Deployment::AwsSqs => "AWS Lambda functions chained through SQS queues (event source mappings)",
        }
    }
}

/// How a platform adds instances.
#[derive(Clone, Debug)]
pub enum ScalePolicy {
    /// Lambda: a new instance per request while concurrency allows, else throttle.
    LambdaBurst {
        /// Initial burst.
        burst: u32,
        /// Instances per minute after it.
        increase_per_min: u32,
        /// Account concurrency.
        limit: u32,
    },
    /// Azure: one host per interval while work waits, up to a cap; work queues meanwhile.
    HostRate {
        /// Minimum time between host additions.
        interval: SimDuration,
        /// Host cap.
        max_hosts: u32,
    },
}

/// A function platform assembled for one deployment of one workflow.
#[derive(Clone, Debug)]
pub struct FunctionPlatform {
    /// Deployment name.
    pub name: &'static str,
    /// vCPUs per instance.
    pub cpu_capacity_vcpu: f64,
    /// vCPUs one execution's thread(s) can use.
    pub task_max_vcpu: f64,
    /// Single-thread speed of the instance's cores relative to the reference core of the
    /// steps' `cpu_s` (`function.cpu_speed`).
    pub cpu_speed: f64,
    /// Single-thread speed on vectorized code (`function.vector_speed`, else `cpu_speed`).
    pub vector_speed: f64,
    /// Log-sd of a function body's CPU time from one invocation to the next beyond the work's
    /// own (`cpu_noise_sigma` of the platform's model and plan: Azure Consumption's measured value;
    /// 0 on Lambda, whose measured spread is the work's, and on Azure Flex and Premium, not
    /// measured).
    pub cpu_noise_sigma: f64,
    /// CFS bandwidth period enforcing the instance's CPU share, s (Lambda's
    /// `function.cpu_period_ms`): the share is a quota per period, so a body shorter than one
    /// quota runs at full speed ([`crate::cpu::CpuShare::with_bandwidth`]); 0: a steady rate.
    pub cpu_period_s: f64,
    /// Cores an instance shows its code (the most a burst under `cpu_period_s` can use).
    pub visible_vcpus: f64,
    /// Concurrent executions per instance.
    pub slots_per_instance: u32,
    /// Invocations whose code runs at once per instance, over every kind of function (the
    /// Python worker's thread pool on Azure); 0 = no limit beyond the slots.
    pub code_threads: u32,
    /// Cold start model.
    pub cold_start: ColdStart,
    /// Idle time before an instance is reclaimed.
    pub keep_alive: SimDuration,
    /// Scale-out rule.
    pub scaling: ScalePolicy,
    /// Billing.
    pub billing: BillingPolicy,
    /// Memory of the language runtime, added to step memory for observed-memory billing, MiB.
    pub runtime_memory_mb: f64,
    /// Azure's meter bills an execution from the host's dispatch, its wait for the language
    /// worker's thread included (else from its code's start, the wait left out).
    pub meter_worker_wait: bool,
    /// Azure's meter shares the process's memory among the executions it runs at once (else
    /// each execution bills the whole process memory over its span).
    pub meter_shared: bool,
    /// Azure's meter rounds each active execution's share of the memory up to the billing
    /// step at every instant (the host's `CalculateFunctionExecutionUnits`), instead of rounding
    /// the execution's average once.
    pub meter_instant_buckets: bool,
    /// The platform's error for a refused invocation (no concurrency left).
    pub throttle_error: &'static str,
    /// Execution timeout.
    pub timeout: SimDuration,
    /// The platform's timeout error.
    pub timeout_error: &'static str,
    /// The timeout runs from the host's dispatch to the language worker (its wait for a worker
    /// thread included), not from the worker's start of the code (Azure `function.
    /// timeout_from_dispatch`; Lambda has no worker queue: false).
    pub timeout_from_dispatch: bool,
    /// A timeout restarts the host's language worker: every invocation dispatched to it ends
    /// with the timeout's error, and the host takes work again once the worker is back (Azure
    /// `function.timeout_restarts_worker`); false: the host is recycled after a failure.
    pub timeout_restarts_worker: bool,
    /// The request payload's limit.
    pub request: PayloadLimit,
    /// The response payload's limit.
    pub response: PayloadLimit,
    /// Remote object storage.
    pub storage: ObjectStore,
    /// Memory an execution may use, MiB (Lambda: configured; Azure: the host's).
    pub memory_limit_mb: f64,
    /// The platform's out-of-memory error.
    pub oom_error: &'static str,
    /// Azure: minimum time between host additions for queue (non-HTTP) demand.
    pub queue_interval: SimDuration,
    /// Azure Flex and Premium: instances that exist from the start, never reclaimed, with no
    /// cold start.
    pub always_ready: u32,
    /// Azure: the hosting plan (`None` on AWS).
    pub plan: Option<HostingPlan>,
}

impl FunctionPlatform {
    /// Azure: minimum time between host additions for HTTP demand (zero for Lambda).
    pub fn http_interval(&self) -> SimDuration {
        match self.scaling {
            ScalePolicy::HostRate { interval, .. } => interval,
            ScalePolicy::LambdaBurst { .. } => SimDuration::ZERO,
        }
    }

    /// Azure: the host cap (unbounded for Lambda, whose limit is the account's concurrency).
    pub fn max_hosts(&self) -> u32 {
        match self.scaling {
            ScalePolicy::HostRate { max_hosts, .. } => max_hosts,
            ScalePolicy::LambdaBurst { .. } => u32::MAX,
        }
    }
}

/// The Azure-only keys of `[deployment.<name>]`, with whether each is set.
fn azure_keys(cfg: &DeploymentConfig) -> [(&'static str, bool); 8] {
    [
        ("plan", cfg.plan.is_some()),
        ("instance_memory_mb", cfg.instance_memory_mb.is_some()),
        ("sku", cfg.sku.is_some()),
        ("always_ready", cfg.always_ready.is_some()),
        ("max_instances", cfg.max_instances.is_some()),
        ("http_concurrency", cfg.http_concurrency.is_some()),
        ("python_threads", cfg.python_threads.is_some()),
        ("runtime", cfg.runtime.is_some()),
    ]
}

/// A configuration error: which `deployment.<name>.<key>` and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// Dotted key in the scenario.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn kb(v: f64) -> u64 {
    (v * BYTES_PER_KB).round() as u64
}

impl FunctionPlatform {
    /// Assembles `deployment` from the models and the scenario's settings for it.
    pub fn build(deployment: Deployment, models: &Models, cfg: &DeploymentConfig) -> Result<FunctionPlatform, ConfigError> {
        Self::build_for(deployment, deployment.name(), models, cfg)
    }

    /// Assembles the function platform `deployment` (`AwsLambda` or `AzFunc`) that runs the
    /// functions of deployment `owner` (e.g. the Lambda tasks of `aws-step`); configuration
    /// errors name `deployment.<owner>.<key>`.
    pub fn build_for(
        deployment: Deployment,
        owner: &str,
        models: &Models,
        cfg: &DeploymentConfig,
    ) -> Result<FunctionPlatform, ConfigError> {
        let key = |k: &str| format!("deployment.{owner}.{k}");
        let durable = matches!(owner, "az-dorch" | "az-dent");
        if deployment == Deployment::AwsLambda
            && let Some(t) = cfg.timeout_s
            && t > models.lambda.function.timeout_s.value
        {
            let max = models.lambda.function.timeout_s.value;
            return Err(ConfigError { key: key("timeout_s"), message: format!("Lambda's timeout is at most {max} s, got {t}") });
        }
        for (k, set) in [
            ("payload_limit_mode", cfg.payload_limit_mode.is_some()),
            ("extended_sessions", cfg.extended_sessions.is_some()),
            ("backend", cfg.backend.is_some()),
            ("partitions", cfg.partitions.is_some()),
            ("flow", cfg.flow.is_some()),
        ] {
            if set && !durable {
                return Err(ConfigError { key: key(k), message: format!("{k} applies to az-dorch and az-dent only") });
            }
        }
        for (k, set) in
            [("workflow_type", cfg.workflow_type.is_some()), ("functions", cfg.functions.is_some()), ("map_mode", cfg.map_mode.is_some())]
        {
            if set && owner != "aws-step" {
                return Err(ConfigError { key: key(k), message: format!("{k} applies to aws-step only") });
            }
        }
        let init = cfg.init.clone().unwrap_or(Dist::fixed(0.0));
        match deployment {
            Deployment::AwsLambda => {
                if let Some((k, _)) = azure_keys(cfg).into_iter().find(|(_, set)| *set) {
                    return Err(ConfigError {
                        key: key(k),
                        message: format!("{k} applies to the Azure deployments only (az-func, az-queue, az-dorch, az-dent)"),
                    });
                }
                let m = &models.lambda;
                let f = &m.function;
                let memory_mb = cfg.memory_mb.unwrap_or(f.memory_mb_default.value);
                if memory_mb < f.memory_mb_min.value || memory_mb > f.memory_mb_max.value {
                    return Err(ConfigError {
                        key: key("memory_mb"),
                        message: format!(
                            "Lambda memory must be within {}-{} MB (models/aws-lambda.toml), got {memory_mb}",
                            f.memory_mb_min.value, f.memory_mb_max.value
                        ),
                    });
                }
                let granularity_ms = cfg.billing_granularity_ms.unwrap_or(m.billing.granularity_ms.value as u64);
                if granularity_ms == 0 {
                    return Err(ConfigError { key: key("billing_granularity_ms"), message: "must be at least 1 ms".into() });
                }
                let package_mb = cfg.package_mb.unwrap_or(0.0);
                Ok(FunctionPlatform {
                    name: deployment.name(),
                    cpu_capacity_vcpu: memory_mb / f.memory_mb_per_vcpu.value,
                    task_max_vcpu: f.worker_threads.value.max(1.0),
                    cpu_speed: f.cpu_speed.value,
                    vector_speed: f.vector_speed.as_ref().map_or(f.cpu_speed.value, |v| v.value),
                    cpu_noise_sigma: f.cpu_noise_sigma.value,
                    cpu_period_s: f.cpu_period_ms.as_ref().map_or(0.0, |p| p.value / 1000.0),
                    // Lambda shows two vCPUs whatever the memory (/proc/cpuinfo; SeBS's PyTorch
                    // runs two threads at 512 MB), and its credit rounded up above that: 6 at
                    // 10,240 MB ("up to 6 vCPUs", AWS Lambda configuration-memory doc).
                    visible_vcpus: (memory_mb / f.memory_mb_per_vcpu.value).ceil().max(2.0),
                    slots_per_instance: f.concurrent_executions_per_instance.value.max(1.0) as u32,
                    code_threads: 0,
                    cold_start: ColdStart::new(
                        m.cold_start.runtime_s_median.value,
                        m.cold_start.runtime_sigma.value,
                        package_mb,
                        m.cold_start.package_load_s_per_mb.value,
                        init,
                    ),
                    keep_alive: SimDuration::from_secs_f64(m.keep_alive.idle_s.value),
                    scaling: ScalePolicy::LambdaBurst {
                        burst: m.scaling.burst_instances.value as u32,
                        increase_per_min: m.scaling.increase_per_min.value as u32,
                        limit: m.scaling.account_concurrency.value as u32,
                    },
                    billing: BillingPolicy::ConfiguredMemory {
                        memory_mb,
                        granularity: SimDuration::from_millis(granularity_ms),
                        price_usd_per_gb_s: m.billing.price_usd_per_gb_s.value,
                        price_usd_per_request: m.billing.price_usd_per_request.value,
                    },
                    runtime_memory_mb: 0.0,
                    meter_worker_wait: false,
                    meter_shared: true,
                    meter_instant_buckets: false,
                    // A Step Functions Task reports the Lambda service's exception prefixed.
                    throttle_error: if owner == "aws-step" { "Lambda.TooManyRequestsException" } else { "TooManyRequestsException" },
                    timeout: SimDuration::from_secs_f64(cfg.timeout_s.unwrap_or(f.timeout_s.value)),
                    timeout_error: "Lambda.Timeout: Task timed out",
                    timeout_from_dispatch: false,
                    timeout_restarts_worker: false,
                    request: PayloadLimit::failing(kb(f.request_max_kb.value), PayloadError::Request("RequestEntityTooLargeException")),
                    response: PayloadLimit::failing(kb(f.response_max_kb.value), PayloadError::Response("Function.ResponseSizeTooLarge")),
                    storage: ObjectStore::from_params(&m.storage),
                    memory_limit_mb: memory_mb,
                    oom_error: "Runtime.ExitError: signal: killed (out of memory)",
                    queue_interval: SimDuration::ZERO,
                    always_ready: 0,
                    plan: None,
                })
            }
            Deployment::AzFunc => {
                let m = &models.azure;
                let f = &m.function;
                let plan = cfg.plan.unwrap_or(HostingPlan::Consumption);
                let err = |k: &str, message: String| Err(ConfigError { key: key(k), message });
                if cfg.memory_mb.is_some() {
                    return err(
                        "memory_mb",
                        "memory_mb is not configurable on Azure: the instance's memory is 1.5 GB on Consumption (billing uses observed memory), `instance_memory_mb` on Flex, the `sku` on Premium".into(),
                    );
                }
                if cfg.billing_granularity_ms.is_some() {
                    return err(
                        "billing_granularity_ms",
                        "Azure billing granularity is fixed by the plan (Consumption 1 ms with a 100 ms minimum); set it in models/az-func.toml".into(),
                    );
                }
                if cfg.instance_memory_mb.is_some() && plan != HostingPlan::Flex {
                    return err("instance_memory_mb", "instance_memory_mb applies to plan = \"flex\" only".into());
                }
                if cfg.sku.is_some() && plan != HostingPlan::Premium {
                    return err("sku", "sku applies to plan = \"premium\" only".into());
                }
                // Consumption's timeout is bounded (functions-timeout-duration: at most 10 min,
                // the model's `function.timeout_s`); Flex's and Premium's maximum is unbounded.
                if let Some(t) = cfg.timeout_s
                    && plan == HostingPlan::Consumption
                    && t > f.timeout_s.value
                {
                    let max = f.timeout_s.value;
                    return err(
                        "timeout_s",
                        format!(
                            "the Consumption plan's timeout is at most {max} s (az-func function.timeout_s; Flex and Premium have no maximum), got {t}"
                        ),
                    );
                }
                if cfg.always_ready.is_some() && plan == HostingPlan::Consumption {
                    return err(
                        "always_ready",
                        "the Consumption plan has no always-ready instances: use plan = \"flex\" or \"premium\"".into(),
                    );
                }
                if cfg.python_threads.is_some() && cfg.runtime == Some(Runtime::Dotnet) {
                    return err("python_threads", "python_threads applies to runtime = \"python\" only".into());
                }
                if let Some(t) = cfg.python_threads
                    && !(1..=32).contains(&t)
                {
                    return err("python_threads", format!("must be within 1-32 (PYTHON_THREADPOOL_THREAD_COUNT), got {t}"));
                }
                if let Some(c) = cfg.http_concurrency
                    && !(1..=64).contains(&c)
                {
                    return err("http_concurrency", format!("must be within 1-64 executions per instance, got {c}"));
                }
                let b = &m.billing;
                let (fx, pr) = (&m.flex, &m.premium);
                // Instance size: vCPUs and memory, MiB.
                let (vcpus, memory_mb) = match plan {
                    HostingPlan::Consumption => (f.host_vcpus.value, f.host_memory_mb.value),
                    HostingPlan::Flex => {
                        let mb = cfg.instance_memory_mb.map_or(fx.instance_memory_mb_default.value, f64::from);
                        if ![512.0, 2048.0, 4096.0].contains(&mb) {
                            return err("instance_memory_mb", format!("Flex Consumption instances have 512, 2048 or 4096 MB, got {mb}"));
                        }
                        (mb / fx.mb_per_vcpu.value, mb)
                    }
                    HostingPlan::Premium => match cfg.sku.unwrap_or(PremiumSku::EP1) {
                        PremiumSku::EP1 => (pr.ep1_vcpus.value, pr.ep1_memory_mb.value),
                        PremiumSku::EP2 => (pr.ep2_vcpus.value, pr.ep2_memory_mb.value),
                        PremiumSku::EP3 => (pr.ep3_vcpus.value, pr.ep3_memory_mb.value),
                    },
                };
                let runtime = cfg.runtime.unwrap_or(Runtime::Python);
                let code_threads = match runtime {
                    Runtime::Dotnet => 0,
                    Runtime::Python => cfg.python_threads.unwrap_or(if f.python_thread_pool_auto.value >= 0.5 {
                        // Python's ThreadPoolExecutor default, over the cores the worker sees.
                        (vcpus.ceil() as u32 + 4).min(32)
                    } else {
                        f.python_thread_pool.value as u32
                    }),
                };
                let slots = cfg.http_concurrency.unwrap_or(match (plan, runtime) {
                    (HostingPlan::Flex, Runtime::Python) => fx.python_http_concurrency.value as u32,
                    (HostingPlan::Flex, Runtime::Dotnet) => {
                        ((memory_mb / 1024.0 * fx.http_concurrency_per_gb.value).round() as u32).clamp(1, 64)
                    }
                    (_, Runtime::Dotnet) => f.http_max_concurrent_requests.value as u32,
                    (_, Runtime::Python) => f.concurrent_executions_per_host.value.max(1.0) as u32,
                });
                let (limit, default_max) = match plan {
                    HostingPlan::Consumption => (m.scaling.max_hosts.value, m.scaling.max_hosts.value),
                    HostingPlan::Flex => (fx.max_instances_limit.value, fx.max_instances_default.value),
                    HostingPlan::Premium => (pr.max_instances_limit.value, pr.max_instances_default.value),
                };
                let max_hosts = cfg.max_instances.map_or(default_max, f64::from);
                if !(1.0..=limit).contains(&max_hosts) {
                    return err("max_instances", format!("must be within 1-{limit} on this plan (models/az-func.toml), got {max_hosts}"));
                }
                let always_ready =
                    cfg.always_ready.unwrap_or(if plan == HostingPlan::Premium { pr.always_ready_default.value as u32 } else { 0 });
                if plan == HostingPlan::Premium && always_ready == 0 {
                    return err("always_ready", "a Premium plan has at least one always-ready (billed) instance".into());
                }
                if f64::from(always_ready) > max_hosts {
                    return err("always_ready", format!("{always_ready} always-ready instances exceed max_instances = {max_hosts}"));
                }
                let sc = &m.scaling;
                let (http_interval_s, queue_interval_s) = match plan {
                    HostingPlan::Flex => (fx.new_host_interval_s.value, fx.new_host_interval_s.value),
                    _ => (sc.http_new_host_interval_s.value, sc.queue_new_host_interval_s.value),
                };
                let cold_start = match plan {
                    // A scale-out instance comes from the pre-warmed buffer, the app loaded.
                    HostingPlan::Premium => {
                        ColdStart::new(pr.cold_start_s_median.value, m.cold_start.runtime_sigma.value, 0.0, 0.0, Dist::fixed(0.0))
                    }
                    _ => ColdStart::new(
                        m.cold_start.runtime_s_median.value,
                        m.cold_start.runtime_sigma.value,
                        cfg.package_mb.unwrap_or(0.0),
                        m.cold_start.package_load_s_per_mb.value,
                        init,
                    ),
                };
                let billing = match plan {
                    HostingPlan::Consumption => BillingPolicy::ObservedMemory {
                        round_mb: b.memory_round_mb.value,
                        min_mb: b.memory_min_mb.value,
                        max_mb: b.memory_max_mb.value,
                        min_duration: SimDuration::from_secs_f64(b.duration_min_ms.value / 1000.0),
                        granularity: SimDuration::from_secs_f64(b.granularity_ms.value / 1000.0),
                        price_usd_per_gb_s: b.price_usd_per_gb_s.value,
                        price_usd_per_execution: b.price_usd_per_execution.value,
                    },
                    HostingPlan::Flex => BillingPolicy::InstanceMemory {
                        memory_mb,
                        min_period: SimDuration::from_secs_f64(fx.billing_min_ms.value / 1000.0),
                        granularity: SimDuration::from_secs_f64(fx.billing_granularity_ms.value / 1000.0),
                        on_demand: ExecRates {
                            price_usd_per_gb_s: fx.price_usd_per_gb_s.value,
                            price_usd_per_execution: fx.price_usd_per_execution.value,
                        },
                        always_ready: ExecRates {
                            price_usd_per_gb_s: fx.always_ready_usd_per_gb_s.value,
                            price_usd_per_execution: fx.always_ready_usd_per_execution.value,
                        },
                        baseline_usd_per_gb_s: fx.always_ready_baseline_usd_per_gb_s.value,
                    },
                    HostingPlan::Premium => BillingPolicy::InstanceTime {
                        vcpus,
                        memory_mb,
                        price_usd_per_vcpu_s: pr.price_usd_per_vcpu_s.value,
                        price_usd_per_gb_s: pr.price_usd_per_gb_s.value,
                    },
                };
                let (timeout_s, cpu_noise_sigma) = match plan {
                    HostingPlan::Consumption => (f.timeout_s.value, f.cpu_noise_sigma.value),
                    HostingPlan::Flex => (fx.timeout_s.value, fx.cpu_noise_sigma.value),
                    HostingPlan::Premium => (pr.timeout_s.value, pr.cpu_noise_sigma.value),
                };
                Ok(FunctionPlatform {
                    name: deployment.name(),
                    // A Netherite host's partition machinery takes a fixed share of its CPU
                    // (world/durable/backend.rs).
                    cpu_capacity_vcpu: if cfg.backend == Some(sfsim_workflow::DurableBackend::Netherite) {
                        vcpus - models.durable.netherite.host_background_vcpu.value.min(vcpus * 0.9)
                    } else {
                        vcpus
                    },
                    task_max_vcpu: f.worker_threads.value.max(1.0),
                    cpu_speed: f.cpu_speed.value,
                    vector_speed: f.vector_speed.as_ref().map_or(f.cpu_speed.value, |v| v.value),
                    cpu_noise_sigma,
                    cpu_period_s: 0.0,
                    visible_vcpus: vcpus,
                    slots_per_instance: slots,
                    code_threads,
                    cold_start,
                    keep_alive: SimDuration::from_secs_f64(m.keep_alive.idle_s.value),
                    scaling: ScalePolicy::HostRate { interval: SimDuration::from_secs_f64(http_interval_s), max_hosts: max_hosts as u32 },
                    billing,
                    runtime_memory_mb: f.runtime_memory_mb.value,
                    meter_worker_wait: m.billing.meter_worker_wait.value >= 0.5,
                    meter_shared: m.billing.meter_concurrency_shared.value >= 0.5,
                    meter_instant_buckets: m.billing.meter_instant_buckets.value >= 0.5,
                    // Azure queues HTTP requests at the front end instead of refusing them.
                    throttle_error: "HTTP 429 Too Many Requests",
                    timeout: SimDuration::from_secs_f64(cfg.timeout_s.unwrap_or(timeout_s)),
                    timeout_error: "Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
                    // Only a language worker has a queue to wait in and a process to restart.
                    timeout_from_dispatch: code_threads > 0 && f.timeout_from_dispatch.value >= 0.5,
                    timeout_restarts_worker: code_threads > 0 && f.timeout_restarts_worker.value >= 0.5,
                    request: PayloadLimit::failing(kb(f.request_max_kb.value), PayloadError::Request("HTTP 413 Request Entity Too Large")),
                    response: PayloadLimit::failing(kb(f.response_max_kb.value), PayloadError::Response("HTTP 500 response too large")),
                    storage: ObjectStore::azure_blob(&m.storage, &models.storage),
                    memory_limit_mb: memory_mb,
                    oom_error: match runtime {
                        Runtime::Python => "Python worker exited with code 137 (out of memory)",
                        Runtime::Dotnet => "dotnet worker exited with code 137 (out of memory)",
                    },
                    queue_interval: SimDuration::from_secs_f64(queue_interval_s),
                    always_ready,
                    plan: Some(plan),
                })
            }
            other => Err(ConfigError {
                key: "scenario.deployments".into(),
                message: format!(
                    "deployment `{}` ({}) is not a function platform: it is assembled by `DeploymentPlan::build`",
                    other.name(),
                    other.description()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfsim_workflow::ModelValue;

    /// Each deployment cuts chunks by its own message or payload limit: the chains by their
    /// queue's message limit (SQS's 1 MiB in the 2026 profile; an Azure Storage queue message),
    /// not by the Step Functions state limit or the Durable payload limit.
    #[test]
    fn chunks_follow_each_deployments_own_message_limit() {
        let m = Models::builtin().expect("models");
        let set = |model: &str, key: &str, v: f64| {
            m.with_overrides(&[(model.to_string(), key.to_string(), ModelValue::Number(v))]).expect("a valid override")
        };
        let kb = |d: Deployment, m: &Models| d.chunk_payload_bytes(m) / 1024;
        // The study era: 256 KB on AWS, 64 KB on Azure, whichever limit.
        for d in Deployment::ALL {
            let aws = d.name().starts_with("aws-");
            assert_eq!(kb(d, &m), if aws { 256 } else { 64 }, "{}", d.name());
        }
        let sqs = set("aws-lambda", "sqs.message_max_kb", 1024.0);
        assert_eq!([kb(Deployment::AwsSqs, &sqs), kb(Deployment::AwsStep, &sqs), kb(Deployment::AwsLambda, &sqs)], [1024, 256, 256]);
        let step = set("aws-step", "limits.payload_max_kb", 128.0);
        assert_eq!([kb(Deployment::AwsSqs, &step), kb(Deployment::AwsStep, &step), kb(Deployment::AwsLambda, &step)], [256, 128, 128]);
        let queue = set("az-storage", "queue.message_max_kb", 32.0);
        let az = [Deployment::AzQueue, Deployment::AzBlob, Deployment::AzDorch, Deployment::AzDent, Deployment::AzFunc];
        assert_eq!(az.map(|d| kb(d, &queue)), [32, 32, 64, 64, 64]);
        let durable = set("az-durable", "payload.limit_kb", 128.0);
        assert_eq!(az.map(|d| kb(d, &durable)), [64, 64, 128, 128, 128]);
    }
}
