//! The study's six deployments and how a function platform is assembled for one of them.
//!
//! A [`FunctionPlatform`] is the composition of mechanisms that runs functions: instances with a
//! CPU share and execution slots ([`crate::cpu`]), cold starts ([`crate::coldstart`]), keep-alive,
//! a scale-out rule ([`crate::scaling`]), payload limits and a timeout, object storage
//! ([`crate::storage`]) and a billing policy ([`crate::billing`]). It is built from a platform
//! model file (`models/*.toml`) and the scenario's per-deployment settings (memory, package).

use sfsim_engine::SimDuration;
use sfsim_workflow::{BYTES_PER_KB, DeploymentConfig, Dist};

use crate::billing::BillingPolicy;
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
}

impl Deployment {
    /// All of them: the study's six in its order, then the other chains.
    pub const ALL: [Deployment; 7] = [
        Deployment::AwsLambda,
        Deployment::AwsStep,
        Deployment::AzFunc,
        Deployment::AzQueue,
        Deployment::AzDorch,
        Deployment::AzDent,
        Deployment::AzBlob,
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
        }
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
    /// The platform's error for a refused invocation (no concurrency left).
    pub throttle_error: &'static str,
    /// Execution timeout.
    pub timeout: SimDuration,
    /// The platform's timeout error.
    pub timeout_error: &'static str,
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
        for (k, set) in [
            ("payload_limit_mode", cfg.payload_limit_mode.is_some()),
            ("extended_sessions", cfg.extended_sessions.is_some()),
            ("backend", cfg.backend.is_some()),
            ("partitions", cfg.partitions.is_some()),
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
                    // A Step Functions Task reports the Lambda service's exception prefixed.
                    throttle_error: if owner == "aws-step" { "Lambda.TooManyRequestsException" } else { "TooManyRequestsException" },
                    timeout: SimDuration::from_secs_f64(f.timeout_s.value),
                    timeout_error: "Lambda.Timeout: Task timed out",
                    request: PayloadLimit::failing(kb(f.request_max_kb.value), PayloadError::Request("RequestEntityTooLargeException")),
                    response: PayloadLimit::failing(kb(f.response_max_kb.value), PayloadError::Response("Function.ResponseSizeTooLarge")),
                    storage: ObjectStore::from_params(&m.storage),
                    memory_limit_mb: memory_mb,
                    oom_error: "Runtime.ExitError: signal: killed (out of memory)",
                })
            }
            Deployment::AzFunc => {
                let m = &models.azure;
                let f = &m.function;
                if cfg.memory_mb.is_some() {
                    return Err(ConfigError {
                        key: key("memory_mb"),
                        message: "memory is not configurable on the Azure Functions Consumption plan (hosts have 1.5 GB; billing uses observed memory)".into(),
                    });
                }
                if cfg.billing_granularity_ms.is_some() {
                    return Err(ConfigError {
                        key: key("billing_granularity_ms"),
                        message: "Azure Consumption billing granularity is fixed (1 ms, 100 ms minimum); set it in models/az-func.toml"
                            .into(),
                    });
                }
                let b = &m.billing;
                Ok(FunctionPlatform {
                    name: deployment.name(),
                    cpu_capacity_vcpu: f.host_vcpus.value,
                    task_max_vcpu: f.worker_threads.value.max(1.0),
                    slots_per_instance: f.concurrent_executions_per_host.value.max(1.0) as u32,
                    code_threads: f.python_thread_pool.value as u32,
                    cold_start: ColdStart::new(
                        m.cold_start.runtime_s_median.value,
                        m.cold_start.runtime_sigma.value,
                        cfg.package_mb.unwrap_or(0.0),
                        m.cold_start.package_load_s_per_mb.value,
                        init,
                    ),
                    keep_alive: SimDuration::from_secs_f64(m.keep_alive.idle_s.value),
                    scaling: ScalePolicy::HostRate {
                        interval: SimDuration::from_secs_f64(m.scaling.http_new_host_interval_s.value),
                        max_hosts: m.scaling.max_hosts.value as u32,
                    },
                    billing: BillingPolicy::ObservedMemory {
                        round_mb: b.memory_round_mb.value,
                        min_mb: b.memory_min_mb.value,
                        max_mb: b.memory_max_mb.value,
                        min_duration: SimDuration::from_secs_f64(b.duration_min_ms.value / 1000.0),
                        granularity: SimDuration::from_secs_f64(b.granularity_ms.value / 1000.0),
                        price_usd_per_gb_s: b.price_usd_per_gb_s.value,
                        price_usd_per_execution: b.price_usd_per_execution.value,
                    },
                    runtime_memory_mb: f.runtime_memory_mb.value,
                    // Azure queues HTTP requests at the front end instead of refusing them.
                    throttle_error: "HTTP 429 Too Many Requests",
                    timeout: SimDuration::from_secs_f64(f.timeout_s.value),
                    timeout_error: "Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
                    request: PayloadLimit::failing(kb(f.request_max_kb.value), PayloadError::Request("HTTP 413 Request Entity Too Large")),
                    response: PayloadLimit::failing(kb(f.response_max_kb.value), PayloadError::Response("HTTP 500 response too large")),
                    storage: ObjectStore::from_params(&m.storage),
                    memory_limit_mb: f.host_memory_mb.value,
                    oom_error: "Python worker exited with code 137 (out of memory)",
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
