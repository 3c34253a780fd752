//! Platform parameter files (`models/*.toml`).
//!
//! Every parameter is written `name = { value = <number>, source = "<where it comes from>" }`.
//! A missing or empty `source`, an unknown key, a missing parameter or a value outside its
//! plausible range is a load error naming file, line:column and key. The built-in files are
//! compiled into the binary (so `sfsim` runs from any directory); `--models DIR` loads a
//! directory instead.

use serde::Deserialize;
use sfsim_workflow::{KeyError, LoadError, ModelValue, SourceFile, parse_toml};

/// One sourced parameter.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The value, in the unit its key names.
    pub value: f64,
    /// Where it comes from: a document, `assumed: <reason>` or `fitted: <target ids>`.
    pub source: String,
}

/// `[model]` header.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelHeader {
    /// Deployment-model name.
    pub name: String,
    /// What it models.
    pub description: String,
}

/// Cold-start parameters shared by both function platforms.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColdStartParams {
    /// Median runtime start, s.
    pub runtime_s_median: Param,
    /// Log-normal sigma of runtime start.
    pub runtime_sigma: Param,
    /// Code package load, s per MiB.
    pub package_load_s_per_mb: Param,
}

/// Keep-alive parameters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeepAliveParams {
    /// Idle time after which an instance is reclaimed, s.
    pub idle_s: Param,
}

/// Remote object storage (S3, Blob).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageParams {
    /// Median GET first-byte latency, s.
    pub get_latency_s_median: Param,
    /// Median PUT latency, s.
    pub put_latency_s_median: Param,
    /// Log-normal sigma of both latencies.
    pub latency_sigma: Param,
    /// Single-stream bandwidth, MiB/s.
    pub bandwidth_mb_per_s: Param,
    /// CPU the function's storage client spends per MiB moved (TLS, HTTP, copies into
    /// memory), reference-core seconds ([`crate::storage`]).
    pub client_cpu_s_per_mb: Param,
    /// Wait of an instance's first request to the store (connection and TLS handshake round
    /// trips), s ([`crate::storage`]).
    pub connect_s: Param,
    /// Client CPU of an instance's first request to the store (the TLS handshake's key exchange,
    /// the connection pool), reference-core seconds.
    pub connect_cpu_s: Param,
    /// Price per GET (S3; Azure Blob prices come from the storage account's kind,
    /// `models/az-storage.toml`, so `az-func.toml` gives none).
    pub price_usd_per_get: Option<Param>,
    /// Price per PUT (as `price_usd_per_get`).
    pub price_usd_per_put: Option<Param>,
}

/// `models/aws-lambda.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaModel {
    /// Header.
    pub model: ModelHeader,
    /// Function limits and CPU.
    pub function: LambdaFunctionParams,
    /// Cold start.
    pub cold_start: ColdStartParams,
    /// Keep-alive.
    pub keep_alive: KeepAliveParams,
    /// Burst scaling.
    pub scaling: LambdaScalingParams,
    /// Prices and rounding.
    pub billing: LambdaBillingParams,
    /// S3.
    pub storage: StorageParams,
    /// SQS and the Lambda event source mapping that polls it (aws-sqs).
    pub sqs: SqsParams,
}

/// `[function]` of Lambda.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunctionParams {
    /// Memory when the scenario does not set one, MiB.
    pub memory_mb_default: Param,
    /// Smallest configurable memory, MiB.
    pub memory_mb_min: Param,
    /// Largest configurable memory, MiB.
    pub memory_mb_max: Param,
    /// MiB per vCPU of CPU share.
    pub memory_mb_per_vcpu: Param,
    /// Threads the workload can use.
    pub worker_threads: Param,
    /// Single-thread speed of the platform's cores on scalar code relative to the reference core
    /// a step's `cpu_s` is written for (1 = that core).
    pub cpu_speed: Param,
    /// Single-thread speed on vectorized (SIMD) code, the share `vector_share` of a step's
    /// `cpu_s`, relative to the reference core ([`crate::cpu`]); absent: `cpu_speed`.
    #[serde(default)]
    pub vector_speed: Option<Param>,
    /// Spread of a function body's CPU time between invocations beyond the work's own, log-sd
    /// (as models/az-func.toml's; 0: Lambda's measured spread is the work's).
    pub cpu_noise_sigma: Param,
    /// CFS bandwidth period by which the CPU share is enforced, ms: the share is a quota of CPU
    /// time per period, so a body shorter than one quota runs at full speed; absent or 0: the
    /// share is a steady rate ([`crate::cpu`]).
    #[serde(default)]
    pub cpu_period_ms: Option<Param>,
    /// Concurrent executions per instance.
    pub concurrent_executions_per_instance: Param,
    /// Timeout, s.
    pub timeout_s: Param,
    /// Request payload limit, KiB.
    pub request_max_kb: Param,
    /// Response payload limit, KiB.
    pub response_max_kb: Param,
}

/// `[scaling]` of Lambda.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaScalingParams {
    /// Initial burst, instances.
    pub burst_instances: Param,
    /// Additional instances per minute after the burst.
    pub increase_per_min: Param,
    /// Account concurrency limit.
    pub account_concurrency: Param,
}

/// `[billing]` of Lambda.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaBillingParams {
    /// $/GB-s.
    pub price_usd_per_gb_s: Param,
    /// $/request.
    pub price_usd_per_request: Param,
    /// Duration rounding, ms.
    pub granularity_ms: Param,
}

/// `models/az-func.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureFunctionsModel {
    /// Header.
    pub model: ModelHeader,
    /// Host size and limits.
    pub function: AzureFunctionParams,
    /// Cold start.
    pub cold_start: ColdStartParams,
    /// Keep-alive.
    pub keep_alive: KeepAliveParams,
    /// Host scale-out.
    pub scaling: AzureScalingParams,
    /// Prices and metering.
    pub billing: AzureBillingParams,
    /// Blob storage.
    pub storage: StorageParams,
    /// The Flex Consumption plan.
    pub flex: FlexParams,
    /// The Elastic Premium plan.
    pub premium: PremiumParams,
}

/// `[function]` of Azure Functions.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureFunctionParams {
    /// vCPUs per host.
    pub host_vcpus: Param,
    /// Memory per host, MiB.
    pub host_memory_mb: Param,
    /// Threads the workload can use.
    pub worker_threads: Param,
    /// Single-thread speed of the host's cores on scalar code relative to the reference core a
    /// step's `cpu_s` is written for (1 = that core).
    pub cpu_speed: Param,
    /// Single-thread speed on vectorized (SIMD) code, the share `vector_share` of a step's
    /// `cpu_s`, relative to the reference core ([`crate::cpu`]); absent: `cpu_speed`.
    #[serde(default)]
    pub vector_speed: Option<Param>,
    /// Spread of a function body's CPU time from one invocation to the next beyond the work's
    /// own (the host's, not the code's), log-sd: each body's CPU work takes
    /// `exp(sigma z - sigma^2 / 2)` times as long (z standard normal per invocation; mean 1).
    pub cpu_noise_sigma: Param,
    /// Concurrent executions per host.
    pub concurrent_executions_per_host: Param,
    /// Threads of the Python worker running invocations (all function kinds), per host.
    pub python_thread_pool: Param,
    /// 1: Python 3.9+, the pool is Python's default `min(32, cores + 4)`; 0: `python_thread_pool`.
    pub python_thread_pool_auto: Param,
    /// HTTP executions a host runs at once on Consumption and Premium when they do not wait for
    /// a worker thread (.NET functions, async Python functions such as the Durable client).
    pub http_max_concurrent_requests: Param,
    /// Worker process resident memory, MiB.
    pub runtime_memory_mb: Param,
    /// Timeout, s.
    pub timeout_s: Param,
    /// 1: an invocation's timeout runs from the host's dispatch to the language worker, its
    /// wait for the worker's thread included; 0: from the worker's start of its code.
    pub timeout_from_dispatch: Param,
    /// 1: a timeout restarts the language worker, which ends every invocation dispatched to it
    /// (running or waiting for its thread) with the same error; the host stays and takes work
    /// again once the worker is back. 0: only the invocation that timed out fails, and the host
    /// is recycled once its other work has ended.
    pub timeout_restarts_worker: Param,
    /// Request payload limit, KiB.
    pub request_max_kb: Param,
    /// Response payload limit, KiB.
    pub response_max_kb: Param,
    /// The primary host's lock lease (a blob lease every Functions host takes part in) is
    /// renewed every this many seconds, s.
    pub host_lock_renew_interval_s: Param,
    /// Every other live host tries to acquire the lock every this many seconds, s.
    pub host_lock_acquire_interval_s: Param,
}

/// `[scaling]` of Azure Functions.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureScalingParams {
    /// Minimum seconds between host additions, HTTP triggers.
    pub http_new_host_interval_s: Param,
    /// Minimum seconds between host additions, non-HTTP triggers.
    pub queue_new_host_interval_s: Param,
    /// Host cap.
    pub max_hosts: Param,
}

/// `[billing]` of Azure Functions.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureBillingParams {
    /// $/GB-s.
    pub price_usd_per_gb_s: Param,
    /// $/execution.
    pub price_usd_per_execution: Param,
    /// Memory rounding, MiB.
    pub memory_round_mb: Param,
    /// Minimum billed memory, MiB.
    pub memory_min_mb: Param,
    /// Maximum billed memory, MiB.
    pub memory_max_mb: Param,
    /// Minimum billed duration, ms.
    pub duration_min_ms: Param,
    /// Duration rounding, ms.
    pub granularity_ms: Param,
    /// 1: an execution is metered from the host's dispatch, its wait for the language worker's
    /// thread included; 0: from its code's start.
    pub meter_worker_wait: Param,
    /// 1: the process's memory is shared among the executions running at once; 0: each
    /// execution bills the whole process memory over its span.
    pub meter_concurrency_shared: Param,
    /// 1: the shared memory is bucketed at every instant, as the Functions host's meter does
    /// (each active execution billed the process memory over the active count, rounded up to
    /// the memory step, at least the minimum); 0: an execution's average share is rounded once.
    pub meter_instant_buckets: Param,
}

macro_rules! param_section {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: Param,)*
        }
    };
}

param_section!(
    /// `[sqs]` of `models/aws-lambda.toml`: SQS standard queues and the Lambda event source
    /// mapping that polls them (aws-sqs).
    SqsParams {
        /// SendMessage latency, median s.
        send_latency_s_median,
        /// ReceiveMessage return plus the mapping's synchronous invoke, median s.
        receive_latency_s_median,
        /// Log-normal sigma of both latencies.
        latency_sigma,
        /// Message size limit, KiB (above it the payload goes through S3).
        message_max_kb,
        /// Payload per billed request, KiB.
        request_chunk_kb,
        /// $ per request.
        price_usd_per_request,
        /// Long-poll wait of an empty ReceiveMessage, s.
        long_poll_wait_s,
        /// Messages per batch (one invocation).
        batch_size,
        /// Batching window, s.
        batching_window_s,
        /// Visibility timeout, s.
        visibility_timeout_s,
        /// Concurrent batches the mapping starts with.
        pollers_min,
        /// Concurrent batches added per minute while messages wait.
        pollers_increase_per_min,
        /// Most concurrent batches of one mapping.
        pollers_max,
    }
);

param_section!(
    /// `[flex]` of `models/az-func.toml`: the Flex Consumption plan.
    FlexParams {
        /// Instance memory when the scenario sets none, MiB.
        instance_memory_mb_default,
        /// MiB of instance memory per vCPU.
        mb_per_vcpu,
        /// Default HTTP executions per instance, per GB of instance memory.
        http_concurrency_per_gb,
        /// Default HTTP executions per instance of a Python app.
        python_http_concurrency,
        /// Instance cap when the scenario sets none.
        max_instances_default,
        /// Largest settable instance cap.
        max_instances_limit,
        /// Minimum seconds between host additions.
        new_host_interval_s,
        /// Timeout, s.
        timeout_s,
        /// Spread of a body's CPU time between invocations beyond the work's own, log-sd (as
        /// `function.cpu_noise_sigma` for Consumption).
        cpu_noise_sigma,
        /// Minimum billed activity period of an instance, ms.
        billing_min_ms,
        /// Rounding of an instance's activity period, ms.
        billing_granularity_ms,
        /// On-demand $ per GB-s of instance memory while executing.
        price_usd_per_gb_s,
        /// On-demand $ per execution.
        price_usd_per_execution,
        /// Always-ready $ per GB-s of instance memory, busy or idle.
        always_ready_baseline_usd_per_gb_s,
        /// Always-ready $ per GB-s while executing (on top of the baseline).
        always_ready_usd_per_gb_s,
        /// Always-ready $ per execution.
        always_ready_usd_per_execution,
    }
);
param_section!(
    /// `[premium]` of `models/az-func.toml`: the Elastic Premium plan.
    PremiumParams {
        /// EP1 vCPUs.
        ep1_vcpus,
        /// EP1 memory, MiB.
        ep1_memory_mb,
        /// EP2 vCPUs.
        ep2_vcpus,
        /// EP2 memory, MiB.
        ep2_memory_mb,
        /// EP3 vCPUs.
        ep3_vcpus,
        /// EP3 memory, MiB.
        ep3_memory_mb,
        /// Always-ready instances when the scenario sets none.
        always_ready_default,
        /// Instance cap when the scenario sets none.
        max_instances_default,
        /// Largest settable instance cap.
        max_instances_limit,
        /// Median start of a scale-out instance from the pre-warmed buffer, s.
        cold_start_s_median,
        /// Timeout, s.
        timeout_s,
        /// Spread of a body's CPU time between invocations beyond the work's own, log-sd (as
        /// `function.cpu_noise_sigma` for Consumption).
        cpu_noise_sigma,
        /// $ per vCPU-second of every instance, busy or idle.
        price_usd_per_vcpu_s,
        /// $ per GB-second of every instance's memory, busy or idle.
        price_usd_per_gb_s,
    }
);
param_section!(
    /// `[queue]` of `models/az-storage.toml`.
    StorageQueueParams {
        /// Largest queue message, KiB.
        message_max_kb,
        /// Median put latency, s.
        put_latency_s_median,
        /// Median get latency, s.
        get_latency_s_median,
        /// Log-normal sigma.
        latency_sigma,
    }
);
param_section!(
    /// `[table]` of `models/az-storage.toml`.
    TableParams {
        /// Median read latency, s.
        read_latency_s_median,
        /// Median batch-write latency, s.
        write_latency_s_median,
        /// Log-normal sigma.
        latency_sigma,
        /// Rows per batch transaction.
        rows_per_batch,
    }
);
param_section!(
    /// `[gpv1]` / `[gpv2]` of `models/az-storage.toml`: one storage-account kind's transaction
    /// prices, $ per 10,000 operations.
    AccountPrices {
        /// Queue class 1 (Put Message, Delete Message, Update Message, ...).
        queue_class1_usd_per_10k,
        /// Queue class 2 (Get Messages, Peek Messages, Get Queue Metadata, ...).
        queue_class2_usd_per_10k,
        /// Table (every operation; an entity-group batch is one).
        table_usd_per_10k,
        /// Blob read (Get Blob).
        blob_read_usd_per_10k,
        /// Blob write (Put Blob, Put Block, ...).
        blob_write_usd_per_10k,
        /// Blob "list and create container" (List Blobs).
        blob_list_usd_per_10k,
        /// Blob lease operations (acquire, renew: "Other" on GPv2, "Read" on GPv1).
        blob_lease_usd_per_10k,
    }
);

/// A storage account's kind: which price table its transactions are billed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    /// General-purpose v1 (`Storage`): one low transaction price for every service.
    Gpv1,
    /// General-purpose v2 (`StorageV2`): per-service, per-class prices (Blob hot tier).
    Gpv2,
}

impl<'de> Deserialize<'de> for AccountKind {
    /// A name, `"gpv1"` or `"gpv2"`; any other value is an error that lists them.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Kind;
        impl serde::de::Visitor<'_> for Kind {
            type Value = AccountKind;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an account kind, `gpv1` or `gpv2`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AccountKind, E> {
                [AccountKind::Gpv1, AccountKind::Gpv2]
                    .into_iter()
                    .find(|k| k.name() == v)
                    .ok_or_else(|| E::unknown_variant(v, &["gpv1", "gpv2"]))
            }
        }
        d.deserialize_any(Kind)
    }
}

impl AccountKind {
    /// Its name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            AccountKind::Gpv1 => "gpv1",
            AccountKind::Gpv2 => "gpv2",
        }
    }
}

/// `[account]` of `models/az-storage.toml`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountParams {
    /// The account kind (`"gpv1"` or `"gpv2"`), with its source.
    pub kind: KindParam,
}

/// A sourced account kind: `kind = { value = "gpv2", source = "..." }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KindParam {
    /// The kind.
    pub value: AccountKind,
    /// Where it comes from.
    pub source: String,
}
param_section!(
    /// Queue polling backoff (`[polling]`).
    PollingParams {
        /// Minimum interval, s.
        min_interval_s,
        /// Maximum interval, s.
        max_interval_s,
        /// Relative randomization.
        randomization,
        /// Interval after a poll that found work, s.
        found_interval_s,
    }
);
param_section!(
    /// `[task_hub]` of `models/az-durable.toml`.
    TaskHubParams {
        /// Control queues.
        partition_count,
        /// Messages per control-queue poll.
        control_queue_batch,
        /// Lease renewal interval, s.
        lease_renew_interval_s,
        /// Lease acquire (balancing) interval of every host's partition manager, s.
        lease_acquire_interval_s,
        /// Sets of partition leases (2: DTAS's intent and ownership leases; 1: legacy).
        lease_sets,
        /// App lease renewal interval, s (0: no app lease).
        app_lease_renew_interval_s,
        /// A partition's intent lease duration (DTAS `LeaseInterval`), s.
        lease_duration_s,
        /// The Safe partition manager's ownership-lease acquire interval, s.
        ownership_lease_acquire_interval_s,
        /// The Safe partition manager's ownership-lease duration, s (the lapse of a partition
        /// its old owner stops renewing).
        ownership_lease_duration_s,
        /// 1: partitions are leased through the Table partition manager (Durable Functions 3.x);
        /// 0: through blob leases (`lease_sets`).
        table_partition_manager,
        /// The Table partition manager's fast loop while draining or claiming a partition, s.
        table_claim_interval_s,
        /// 1: a host that the platform removes (scale-in, idle expiry) releases its partition
        /// leases as it stops; 0: it is stopped without releasing them, so they lapse.
        stop_releases_leases,
        /// 1: a partition's old owner keeps it until the orchestration sessions it runs of it
        /// end (the Safe manager renews the ownership lease while it processes the partition's
        /// messages; the Table manager drains for at most `table_drain_timeout_s`); 0: it lets
        /// go as soon as it stops dequeuing.
        drain_sessions,
        /// 1: control messages a host had dequeued into its buffer before it lost the
        /// partition still become sessions on it, and its drain lasts while any of them wait
        /// (with `drain_sessions` only; without it the old owner never drains); 0: they wait
        /// for the partition's next owner.
        drain_buffered,
        /// DTAS's control-queue buffer threshold (ControlQueueBufferThreshold): a host fetches
        /// control-queue batches while fewer orchestrations and entities it dequeued wait to
        /// start (DTAS counts their messages, those of running sessions included, and looks
        /// again every second; here a full buffer is looked at again when a slot frees); 0: it
        /// fetches only with a free orchestrator slot.
        control_queue_buffer_threshold,
        /// The Table partition manager's cap on an old owner's drain, s.
        table_drain_timeout_s,
        /// Scale-controller peek interval, s.
        scale_controller_peek_interval_s,
        /// One storage queue's throughput, messages per second.
        queue_max_messages_per_s,
        /// Seconds of that throughput a queue may take at once.
        queue_burst_s,
        /// 1: the scale controller sizes the app by DFX's target-based scaler; 0: the
        /// incremental rule (DTFx's scale recommendation at the non-HTTP pace).
        target_based_scaling,
        /// Hosts the target-based scale controller may add at one decision.
        target_scale_out_max_instances,
        /// Seconds every target must stay below the live hosts before one is retired, s.
        target_scale_in_window_s,
        /// 1: a scale-in removes a host whatever Durable work it holds (the oldest first); 0:
        /// only an idle host.
        scale_in_busy_hosts,
        /// How long a dequeued work-item message stays invisible (DTAS
        /// `WorkItemQueueVisibilityTimeout`), s.
        work_item_visibility_timeout_s,
        /// How often a running activity's work-item lock is renewed (DTFx
        /// `TaskActivityDispatcher`), s; 0: never.
        work_item_lock_renewal_s,
        /// How long a dequeued control-queue message stays invisible (DTAS
        /// `ControlQueueVisibilityTimeout`), s.
        control_queue_visibility_timeout_s,
        /// From the scale controller's scale-in decision to the host's removal, s.
        scale_in_lag_s,
        /// 1: a dequeued start message whose Instances row is not yet written is abandoned
        /// and taken again later (DTAS `DedupeExecutionStartedMessagesAsync`); 0: no check.
        execution_started_dedupe,
    }
);
param_section!(
    /// `[concurrency]` of `models/az-durable.toml`.
    DurableConcurrencyParams {
        /// Activity slots per host.
        max_concurrent_activities_per_host,
        /// Orchestrator (and entity) slots per host.
        max_concurrent_orchestrators_per_host,
        /// Entity operations per batch.
        max_entity_operation_batch,
        /// Premium and dedicated plans: activity and orchestrator slots per host per vCPU.
        dedicated_per_vcpu,
    }
);
param_section!(
    /// `[replay]` of `models/az-durable.toml`.
    ReplayParams {
        /// CPU per episode, s.
        episode_cpu_s,
        /// CPU per replayed history event, s.
        per_history_event_cpu_s,
        /// CPU per KiB of history loaded and handed to the worker, s.
        per_history_kb_cpu_s,
        /// Extended sessions (0/1).
        extended_sessions,
        /// Memory of an episode, MiB.
        orchestrator_memory_mb,
        /// CPU of the extension's first dispatch on a new host, s.
        first_dispatch_cpu_s,
        /// Host CPU per backend request, s (the Python model: included in `episode_cpu_s`).
        request_cpu_s,
        /// CPU of the Python orchestration client that starts an instance (the HTTP starter's
        /// code around `start_new`), s.
        client_cpu_s,
    }
);
param_section!(
    /// `[dotnet]` of `models/az-durable.toml`: episode costs of the .NET runtime.
    DotnetEpisodeParams {
        /// CPU per episode, s.
        episode_cpu_s,
        /// CPU per replayed history event, s.
        per_history_event_cpu_s,
        /// CPU per KiB of history handed to the orchestrator, s.
        per_history_kb_cpu_s,
        /// Host CPU per backend request (storage or Event Hubs call), s.
        request_cpu_s,
    }
);
param_section!(
    /// `[netherite]` of `models/az-durable.toml`.
    NetheriteParams {
        /// Partitions by default.
        partition_count,
        /// Median Event Hubs send-to-receive latency, s.
        message_latency_s_median,
        /// Log-normal sigma.
        latency_sigma,
        /// Commits of one partition within this window share one page-blob write, s.
        commit_interval_s,
        /// Orchestration cursors cached in the partition, no replay (0/1).
        cache_cursors,
        /// A host's CPU taken by the partition machinery whatever the load, vCPU.
        host_background_vcpu,
        /// Host CPU of an activity run on another host than its orchestration's partition, s.
        remote_activity_cpu_s,
    }
);
param_section!(
    /// `[mssql]` of `models/az-durable.toml`.
    MssqlParams {
        /// Minimum polling interval, s.
        min_interval_s,
        /// Maximum polling interval, s.
        max_interval_s,
        /// Median SQL round trip (a stored-procedure call), s.
        round_trip_s_median,
        /// Log-normal sigma.
        latency_sigma,
    }
);
param_section!(
    /// `[dts]` of `models/az-durable.toml`.
    DtsParams {
        /// Median gRPC round trip to the scheduler, s.
        round_trip_s_median,
        /// Log-normal sigma.
        latency_sigma,
        /// $ per dispatched action.
        price_usd_per_action,
    }
);
param_section!(
    /// `[entities]` of `models/az-durable.toml`.
    EntityParams {
        /// CPU per operation dispatch, s.
        operation_cpu_s,
    }
);
param_section!(
    /// `[payload]` of `models/az-durable.toml`.
    DurablePayloadParams {
        /// Compression-to-blob threshold, KiB.
        large_message_kb,
        /// Table property limit, KiB.
        table_property_max_kb,
        /// Cross-function payload limit, KiB.
        limit_kb,
        /// Fail (1) instead of compress (0) above the limit.
        large_message_fail,
    }
);
param_section!(
    /// `[transitions]` of `models/aws-step.toml`.
    TransitionParams {
        /// Median transition latency, s.
        latency_s_median,
        /// Log-normal sigma.
        latency_sigma,
        /// Extra latency per KiB of payload, s.
        latency_s_per_kb,
        /// Token bucket size.
        token_bucket,
        /// Refill per second.
        refill_per_s,
    }
);
param_section!(
    /// `[tasks]` of `models/aws-step.toml`: the Lambda service integration of a Task state.
    StepTaskParams {
        /// Median latency of the service invoking the function and taking its response, s.
        invoke_latency_s_median,
        /// Log-normal sigma of it.
        invoke_latency_sigma,
        /// Extra latency per KiB of the request sent to the function, s.
        request_s_per_kb,
        /// Extra latency per KiB of the response taken back, s.
        result_s_per_kb,
    }
);
param_section!(
    /// `[limits]` of `models/aws-step.toml`.
    StepLimitParams {
        /// State payload limit, KiB.
        payload_max_kb,
        /// History events limit.
        history_max_events,
        /// Inline Map concurrency.
        map_max_concurrency,
        /// History events per Task state.
        events_per_task,
        /// Distributed Map available (1) or not yet launched (0).
        distributed_map,
        /// Distributed Map: most child executions at once.
        distributed_map_max_concurrency,
        /// Distributed Map: events it adds to the parent's history, whatever its items.
        events_per_distributed_map,
    }
);
param_section!(
    /// `[billing]` of `models/aws-step.toml`.
    StepBillingParams {
        /// $ per state transition (Standard).
        price_usd_per_transition,
        /// Express (1) or Standard (0).
        express,
        /// Express $ per request.
        express_price_usd_per_request,
        /// Express $ per GB-s.
        express_price_usd_per_gb_s,
        /// Express base memory, MiB.
        express_memory_mb_base,
        /// Express maximum duration, s.
        express_max_duration_s,
    }
);
param_section!(
    /// `[polling]` of `models/az-queue.toml` plus its batch size.
    QueueTriggerParams {
        /// Minimum interval, s.
        min_interval_s,
        /// Maximum interval, s.
        max_interval_s,
        /// Relative randomization.
        randomization,
        /// Messages per poll.
        batch_size,
        /// A function's enqueue wakes the same host's listener of that queue (0/1).
        local_enqueue_wakeup,
    }
);

/// `models/az-storage.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureStorageModel {
    /// Header.
    pub model: ModelHeader,
    /// Queues.
    pub queue: StorageQueueParams,
    /// Tables.
    pub table: TableParams,
    /// The account's kind.
    pub account: AccountParams,
    /// General-purpose v1 prices.
    pub gpv1: AccountPrices,
    /// General-purpose v2 prices.
    pub gpv2: AccountPrices,
}

impl AzureStorageModel {
    /// The price table of the account's kind.
    pub fn prices(&self) -> &AccountPrices {
        match self.account.kind.value {
            AccountKind::Gpv1 => &self.gpv1,
            AccountKind::Gpv2 => &self.gpv2,
        }
    }
}

/// `models/az-queue.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueTriggerModel {
    /// Header.
    pub model: ModelHeader,
    /// Polling.
    pub polling: QueueTriggerParams,
    /// The blob trigger (az-blob).
    pub blob_trigger: BlobTriggerParams,
}

param_section!(
    /// `[blob_trigger]` of `models/az-queue.toml`.
    BlobTriggerParams {
        /// Each host lists each watched container this often, s.
        scan_interval_s,
    }
);

/// `models/az-durable.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DurableModel {
    /// Header.
    pub model: ModelHeader,
    /// Task hub layout.
    pub task_hub: TaskHubParams,
    /// Polling.
    pub polling: PollingParams,
    /// Concurrency limits.
    pub concurrency: DurableConcurrencyParams,
    /// Replay costs.
    pub replay: ReplayParams,
    /// The .NET runtime's episode costs.
    pub dotnet: DotnetEpisodeParams,
    /// The Netherite backend.
    pub netherite: NetheriteParams,
    /// The MSSQL backend.
    pub mssql: MssqlParams,
    /// The Durable Task Scheduler backend.
    pub dts: DtsParams,
    /// Entities.
    pub entities: EntityParams,
    /// Payload thresholds.
    pub payload: DurablePayloadParams,
}

/// `models/aws-step.toml`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepFunctionsModel {
    /// Header.
    pub model: ModelHeader,
    /// Transitions.
    pub transitions: TransitionParams,
    /// Task states' Lambda integration.
    pub tasks: StepTaskParams,
    /// Limits.
    pub limits: StepLimitParams,
    /// Billing.
    pub billing: StepBillingParams,
}

impl CheckRanges for AzureStorageModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        within("queue.message_max_kb", &self.queue.message_max_kb, 1.0, 1e6)?;
        within("queue.latency_sigma", &self.queue.latency_sigma, 0.0, 5.0)?;
        within("table.latency_sigma", &self.table.latency_sigma, 0.0, 5.0)?;
        within("table.rows_per_batch", &self.table.rows_per_batch, 1.0, 1e6)?;
        for (kind, t) in [("gpv1", &self.gpv1), ("gpv2", &self.gpv2)] {
            for (k, p) in [
                ("queue_class1_usd_per_10k", &t.queue_class1_usd_per_10k),
                ("queue_class2_usd_per_10k", &t.queue_class2_usd_per_10k),
                ("table_usd_per_10k", &t.table_usd_per_10k),
                ("blob_read_usd_per_10k", &t.blob_read_usd_per_10k),
                ("blob_write_usd_per_10k", &t.blob_write_usd_per_10k),
                ("blob_list_usd_per_10k", &t.blob_list_usd_per_10k),
                ("blob_lease_usd_per_10k", &t.blob_lease_usd_per_10k),
            ] {
                within(&format!("{kind}.{k}"), p, 0.0, 100.0)?;
            }
        }
        Ok(())
    }
}

impl CheckRanges for QueueTriggerModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        let p = &self.polling;
        within("polling.min_interval_s", &p.min_interval_s, 0.001, 3600.0)?;
        within("polling.max_interval_s", &p.max_interval_s, p.min_interval_s.value, 3600.0)?;
        within("polling.randomization", &p.randomization, 0.0, 0.99)?;
        within("polling.batch_size", &p.batch_size, 1.0, 32.0)?;
        within("polling.local_enqueue_wakeup", &p.local_enqueue_wakeup, 0.0, 1.0)?;
        within("blob_trigger.scan_interval_s", &self.blob_trigger.scan_interval_s, 0.1, 3600.0)
    }
}

impl CheckRanges for DurableModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        within("task_hub.partition_count", &self.task_hub.partition_count, 1.0, 16.0)?;
        within("task_hub.control_queue_batch", &self.task_hub.control_queue_batch, 1.0, 32.0)?;
        within("task_hub.lease_renew_interval_s", &self.task_hub.lease_renew_interval_s, 0.1, 3600.0)?;
        within("task_hub.lease_acquire_interval_s", &self.task_hub.lease_acquire_interval_s, 0.1, 3600.0)?;
        within("task_hub.lease_sets", &self.task_hub.lease_sets, 1.0, 2.0)?;
        within("task_hub.app_lease_renew_interval_s", &self.task_hub.app_lease_renew_interval_s, 0.0, 3600.0)?;
        within("task_hub.ownership_lease_acquire_interval_s", &self.task_hub.ownership_lease_acquire_interval_s, 0.0, 3600.0)?;
        within("task_hub.ownership_lease_duration_s", &self.task_hub.ownership_lease_duration_s, 0.0, 3600.0)?;
        within("task_hub.lease_duration_s", &self.task_hub.lease_duration_s, 0.0, 3600.0)?;
        within("task_hub.stop_releases_leases", &self.task_hub.stop_releases_leases, 0.0, 1.0)?;
        within("task_hub.table_partition_manager", &self.task_hub.table_partition_manager, 0.0, 1.0)?;
        within("task_hub.table_claim_interval_s", &self.task_hub.table_claim_interval_s, 0.0, 3600.0)?;
        within("task_hub.drain_sessions", &self.task_hub.drain_sessions, 0.0, 1.0)?;
        within("task_hub.drain_buffered", &self.task_hub.drain_buffered, 0.0, 1.0)?;
        within("task_hub.control_queue_buffer_threshold", &self.task_hub.control_queue_buffer_threshold, 0.0, 100000.0)?;
        within("task_hub.table_drain_timeout_s", &self.task_hub.table_drain_timeout_s, 0.0, 86400.0)?;
        within("task_hub.scale_controller_peek_interval_s", &self.task_hub.scale_controller_peek_interval_s, 0.1, 3600.0)?;
        within("task_hub.target_based_scaling", &self.task_hub.target_based_scaling, 0.0, 1.0)?;
        within("task_hub.target_scale_out_max_instances", &self.task_hub.target_scale_out_max_instances, 1.0, 1000.0)?;
        within("task_hub.target_scale_in_window_s", &self.task_hub.target_scale_in_window_s, 0.0, 86400.0)?;
        within("task_hub.scale_in_busy_hosts", &self.task_hub.scale_in_busy_hosts, 0.0, 1.0)?;
        within("task_hub.work_item_visibility_timeout_s", &self.task_hub.work_item_visibility_timeout_s, 1.0, 604800.0)?;
        within("task_hub.work_item_lock_renewal_s", &self.task_hub.work_item_lock_renewal_s, 0.0, 604800.0)?;
        within("task_hub.control_queue_visibility_timeout_s", &self.task_hub.control_queue_visibility_timeout_s, 1.0, 604800.0)?;
        within("task_hub.scale_in_lag_s", &self.task_hub.scale_in_lag_s, 0.0, 86400.0)?;
        within("task_hub.execution_started_dedupe", &self.task_hub.execution_started_dedupe, 0.0, 1.0)?;
        within("task_hub.queue_max_messages_per_s", &self.task_hub.queue_max_messages_per_s, 1.0, 1e9)?;
        within("task_hub.queue_burst_s", &self.task_hub.queue_burst_s, 0.0, 3600.0)?;
        let p = &self.polling;
        within("polling.min_interval_s", &p.min_interval_s, 0.001, 3600.0)?;
        within("polling.max_interval_s", &p.max_interval_s, p.min_interval_s.value, 3600.0)?;
        within("polling.randomization", &p.randomization, 0.0, 0.99)?;
        let c = &self.concurrency;
        within("concurrency.max_concurrent_activities_per_host", &c.max_concurrent_activities_per_host, 1.0, 32.0)?;
        within("concurrency.max_concurrent_orchestrators_per_host", &c.max_concurrent_orchestrators_per_host, 1.0, 31.0)?;
        within("concurrency.max_entity_operation_batch", &c.max_entity_operation_batch, 1.0, 1e6)?;
        within("concurrency.dedicated_per_vcpu", &c.dedicated_per_vcpu, 1.0, 1000.0)?;
        within("polling.found_interval_s", &p.found_interval_s, 0.0, p.max_interval_s.value)?;
        within("replay.extended_sessions", &self.replay.extended_sessions, 0.0, 1.0)?;
        within("replay.client_cpu_s", &self.replay.client_cpu_s, 0.0, 60.0)?;
        within("netherite.partition_count", &self.netherite.partition_count, 1.0, 32.0)?;
        within("netherite.latency_sigma", &self.netherite.latency_sigma, 0.0, 5.0)?;
        within("netherite.cache_cursors", &self.netherite.cache_cursors, 0.0, 1.0)?;
        within("netherite.host_background_vcpu", &self.netherite.host_background_vcpu, 0.0, 0.9)?;
        within("netherite.remote_activity_cpu_s", &self.netherite.remote_activity_cpu_s, 0.0, 1.0)?;
        within("mssql.min_interval_s", &self.mssql.min_interval_s, 0.001, 3600.0)?;
        within("mssql.max_interval_s", &self.mssql.max_interval_s, self.mssql.min_interval_s.value, 3600.0)?;
        within("mssql.latency_sigma", &self.mssql.latency_sigma, 0.0, 5.0)?;
        within("dts.latency_sigma", &self.dts.latency_sigma, 0.0, 5.0)?;
        within("payload.large_message_fail", &self.payload.large_message_fail, 0.0, 1.0)
    }
}

impl CheckRanges for StepFunctionsModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        within("transitions.latency_sigma", &self.transitions.latency_sigma, 0.0, 5.0)?;
        within("transitions.token_bucket", &self.transitions.token_bucket, 1.0, 1e9)?;
        within("transitions.refill_per_s", &self.transitions.refill_per_s, 0.001, 1e9)?;
        within("tasks.invoke_latency_sigma", &self.tasks.invoke_latency_sigma, 0.0, 5.0)?;
        within("limits.payload_max_kb", &self.limits.payload_max_kb, 1.0, 1e6)?;
        within("limits.history_max_events", &self.limits.history_max_events, 1.0, 1e9)?;
        within("limits.map_max_concurrency", &self.limits.map_max_concurrency, 1.0, 1e6)?;
        within("limits.distributed_map", &self.limits.distributed_map, 0.0, 1.0)?;
        within("limits.distributed_map_max_concurrency", &self.limits.distributed_map_max_concurrency, 1.0, 1e6)?;
        within("limits.events_per_distributed_map", &self.limits.events_per_distributed_map, 0.0, 1e3)?;
        within("billing.express", &self.billing.express, 0.0, 1.0)
    }
}

/// The loaded platform models.
#[derive(Clone, Debug)]
pub struct Models {
    /// AWS Lambda.
    pub lambda: LambdaModel,
    /// Azure Functions.
    pub azure: AzureFunctionsModel,
    /// Azure Storage account.
    pub storage: AzureStorageModel,
    /// Azure Functions queue trigger.
    pub queue_trigger: QueueTriggerModel,
    /// Durable Functions.
    pub durable: DurableModel,
    /// Step Functions.
    pub step: StepFunctionsModel,
    /// The model files these were parsed from, (file name, text), then the profiles' texts
    /// (`profiles/<name>.toml`).
    texts: Vec<(String, String)>,
}

/// The built-in profiles: (name, text of `models/profiles/<name>.toml`). A profile replaces
/// model parameters (`[models.<model>] key = { value, source }`) for scenarios that pick it.
/// Loaded models carry their profiles' texts (as `profiles/<name>.toml`) beside the model files',
/// so calibration can fit a profile's parameter and the report sees its `fitted:` sources.
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("2024", include_str!("../../../models/profiles/2024.toml")),
    ("2026", include_str!("../../../models/profiles/2026.toml")),
    ("iiswc21", include_str!("../../../models/profiles/iiswc21.toml")),
];

/// Why [`Models::with_overrides`] refused its changes.
#[derive(Clone, Debug, PartialEq)]
pub enum OverrideError {
    /// Change `index` is wrong (an unknown model or key, a value of the wrong type or out of
    /// range): why.
    Change {
        /// The change's index in the list given.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The models were changed in memory after loading: the overrides, made to the texts they
    /// were loaded from, would drop those changes. A misuse of the library API, no change's fault.
    ChangedInMemory,
}

impl std::fmt::Display for OverrideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OverrideError::Change { index, message } => write!(f, "change {index}: {message}"),
            OverrideError::ChangedInMemory => f.write_str(
                "the models were changed in memory after loading, and a profile or override would drop those changes; \
                 make them with Models::with_overrides instead",
            ),
        }
    }
}

impl std::error::Error for OverrideError {}

/// The default profile: the study's era, the built-in models as they are.
pub const DEFAULT_PROFILE: &str = "study-2021";

/// The file name under which a profile's text is kept among the models' texts.
pub fn profile_file(name: &str) -> String {
    format!("profiles/{name}.toml")
}

/// The parameter changes a profile's text makes: (model, key, value). Every entry under
/// `[models.<model>]` is a parameter `{ value = <number or name>, source = "..." }` with a
/// non-empty source, or a table of them; anything else (a bare number, a value without its
/// source) is an error at its key in the profile's file.
fn profile_text_changes(src: &SourceFile) -> Result<Vec<(String, String, ModelValue)>, LoadError> {
    let table: toml::Table = toml::from_str(&src.text).map_err(|e| src.error_at(e.span(), "", e.message().to_string()))?;
    const FORM: &str = "a profile entry is a parameter `{ value = ..., source = \"...\" }` or a table of them";
    fn walk(path: &str, model: &str, prefix: &str, t: &toml::Table, out: &mut Vec<(String, String, ModelValue)>) -> Result<(), KeyError> {
        for (k, v) in t {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            let at = format!("{path}.{k}");
            let Some(t) = v.as_table() else {
                return Err(KeyError::new(at, format!("{FORM}, got {} {v}", v.type_str())));
            };
            if !t.contains_key("value") && !t.contains_key("source") {
                walk(&at, model, &key, t, out)?;
                continue;
            }
            let value = t.get("value").and_then(|x| {
                x.as_float()
                    .or_else(|| x.as_integer().map(|i| i as f64))
                    .map(ModelValue::Number)
                    .or_else(|| x.as_str().map(|n| ModelValue::Name(n.to_string())))
            });
            let Some(value) = value else {
                return Err(KeyError::new(format!("{at}.value"), format!("{FORM}: `value` must be a number or a name")));
            };
            if t.get("source").and_then(|s| s.as_str()).is_none_or(|s| s.trim().is_empty()) {
                return Err(KeyError::new(format!("{at}.source"), "every parameter needs a non-empty source"));
            }
            if let Some(extra) = t.keys().find(|k| *k != "value" && *k != "source") {
                return Err(KeyError::new(format!("{at}.{extra}"), format!("{FORM}: unknown key `{extra}`")));
            }
            out.push((model.to_string(), key, value));
        }
        Ok(())
    }
    let mut out = Vec::new();
    for (model, params) in table.get("models").and_then(|m| m.as_table()).into_iter().flatten() {
        let path = format!("models.{model}");
        let t = params.as_table().ok_or_else(|| src.key_error(KeyError::new(&path, format!("{FORM}, got {}", params.type_str()))))?;
        walk(&path, model, "", t, &mut out).map_err(|e| src.key_error(e))?;
    }
    Ok(out)
}

/// The built-in model files: (file name, text).
pub const BUILTIN_MODELS: &[(&str, &str)] = &[
    ("aws-lambda.toml", include_str!("../../../models/aws-lambda.toml")),
    ("az-func.toml", include_str!("../../../models/az-func.toml")),
    ("az-storage.toml", include_str!("../../../models/az-storage.toml")),
    ("az-queue.toml", include_str!("../../../models/az-queue.toml")),
    ("az-durable.toml", include_str!("../../../models/az-durable.toml")),
    ("aws-step.toml", include_str!("../../../models/aws-step.toml")),
];

/// Checks every `Param` reachable in a TOML value tree: non-empty source, finite value.
fn check_params(src: &SourceFile) -> Result<(), LoadError> {
    let table: toml::Table = toml::from_str(&src.text).map_err(|e| src.error_at(e.span(), "", e.message().to_string()))?;
    fn walk(v: &toml::Value, path: &str, out: &mut Option<KeyError>) {
        if out.is_some() {
            return;
        }
        if let toml::Value::Table(t) = v {
            if let (Some(val), Some(s)) = (t.get("value"), t.get("source")) {
                let num = val.as_float().or_else(|| val.as_integer().map(|i| i as f64));
                match num {
                    Some(x) if x.is_finite() && x >= 0.0 => {}
                    // A named value (an account kind): its type checked it when the file was parsed.
                    None if val.is_str() => {}
                    _ => *out = Some(KeyError::new(format!("{path}.value"), "must be a finite number >= 0")),
                }
                if s.as_str().is_none_or(|s| s.trim().is_empty()) {
                    *out = Some(KeyError::new(format!("{path}.source"), "every parameter needs a non-empty source"));
                }
                return;
            }
            for (k, child) in t {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(child, &p, out);
            }
        }
    }
    let mut err = None;
    walk(&toml::Value::Table(table), "", &mut err);
    match err {
        Some(e) => Err(src.key_error(e)),
        None => Ok(()),
    }
}

/// Plausible ranges of a model's parameters, beyond "finite and >= 0" (which every parameter
/// must be): a zero CPU capacity, host cap or slot count would make the model meaningless.
pub trait CheckRanges {
    /// The first parameter out of its range, by key.
    fn check_ranges(&self) -> Result<(), KeyError>;
}

fn within(key: &str, p: &Param, min: f64, max: f64) -> Result<(), KeyError> {
    if (min..=max).contains(&p.value) {
        Ok(())
    } else {
        Err(KeyError::new(format!("{key}.value"), format!("must be within [{min}, {max}], got {}", p.value)))
    }
}

/// Slot bitmaps are 64 bits wide.
const MAX_SLOTS: f64 = 64.0;

fn check_shared(cold: &ColdStartParams, keep: &KeepAliveParams, st: &StorageParams) -> Result<(), KeyError> {
    within("cold_start.runtime_s_median", &cold.runtime_s_median, 0.0, 600.0)?;
    within("cold_start.runtime_sigma", &cold.runtime_sigma, 0.0, 5.0)?;
    within("cold_start.package_load_s_per_mb", &cold.package_load_s_per_mb, 0.0, 10.0)?;
    within("keep_alive.idle_s", &keep.idle_s, 0.0, 1e9)?;
    within("storage.get_latency_s_median", &st.get_latency_s_median, 0.0, 60.0)?;
    within("storage.put_latency_s_median", &st.put_latency_s_median, 0.0, 60.0)?;
    within("storage.latency_sigma", &st.latency_sigma, 0.0, 5.0)?;
    within("storage.bandwidth_mb_per_s", &st.bandwidth_mb_per_s, 0.001, 1e6)?;
    within("storage.client_cpu_s_per_mb", &st.client_cpu_s_per_mb, 0.0, 10.0)?;
    within("storage.connect_s", &st.connect_s, 0.0, 60.0)?;
    within("storage.connect_cpu_s", &st.connect_cpu_s, 0.0, 60.0)?;
    if let Some(p) = &st.price_usd_per_get {
        within("storage.price_usd_per_get", p, 0.0, 1.0)?;
    }
    if let Some(p) = &st.price_usd_per_put {
        within("storage.price_usd_per_put", p, 0.0, 1.0)?;
    }
    Ok(())
}

impl CheckRanges for LambdaModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        let f = &self.function;
        within("function.memory_mb_min", &f.memory_mb_min, 1.0, 1e6)?;
        within("function.memory_mb_max", &f.memory_mb_max, f.memory_mb_min.value, 1e6)?;
        within("function.memory_mb_default", &f.memory_mb_default, f.memory_mb_min.value, f.memory_mb_max.value)?;
        within("function.memory_mb_per_vcpu", &f.memory_mb_per_vcpu, 1.0, 1e6)?;
        within("function.worker_threads", &f.worker_threads, 1.0, 1024.0)?;
        within("function.cpu_speed", &f.cpu_speed, 0.05, 20.0)?;
        if let Some(v) = &f.vector_speed {
            within("function.vector_speed", v, 0.05, 20.0)?;
        }
        within("function.cpu_noise_sigma", &f.cpu_noise_sigma, 0.0, 1.0)?;
        if let Some(p) = &f.cpu_period_ms {
            within("function.cpu_period_ms", p, 0.0, 1000.0)?;
        }
        within("function.concurrent_executions_per_instance", &f.concurrent_executions_per_instance, 1.0, MAX_SLOTS)?;
        within("function.timeout_s", &f.timeout_s, 0.001, 1e9)?;
        within("scaling.burst_instances", &self.scaling.burst_instances, 1.0, 1e7)?;
        within("scaling.increase_per_min", &self.scaling.increase_per_min, 0.0, 1e7)?;
        within("scaling.account_concurrency", &self.scaling.account_concurrency, 1.0, 1e7)?;
        within("billing.granularity_ms", &self.billing.granularity_ms, 1.0, 3.6e6)?;
        let q = &self.sqs;
        within("sqs.send_latency_s_median", &q.send_latency_s_median, 0.0, 60.0)?;
        within("sqs.receive_latency_s_median", &q.receive_latency_s_median, 0.0, 60.0)?;
        within("sqs.latency_sigma", &q.latency_sigma, 0.0, 5.0)?;
        within("sqs.message_max_kb", &q.message_max_kb, 1.0, 1e6)?;
        within("sqs.request_chunk_kb", &q.request_chunk_kb, 1.0, 1e6)?;
        within("sqs.price_usd_per_request", &q.price_usd_per_request, 0.0, 1.0)?;
        within("sqs.long_poll_wait_s", &q.long_poll_wait_s, 1.0, 3600.0)?;
        within("sqs.batch_size", &q.batch_size, 1.0, 10_000.0)?;
        within("sqs.batching_window_s", &q.batching_window_s, 0.0, 300.0)?;
        within("sqs.visibility_timeout_s", &q.visibility_timeout_s, 0.0, 43_200.0)?;
        within("sqs.pollers_min", &q.pollers_min, 1.0, 1e6)?;
        within("sqs.pollers_increase_per_min", &q.pollers_increase_per_min, 0.0, 1e6)?;
        within("sqs.pollers_max", &q.pollers_max, q.pollers_min.value, 1e6)?;
        for (key, p) in
            [("storage.price_usd_per_get", &self.storage.price_usd_per_get), ("storage.price_usd_per_put", &self.storage.price_usd_per_put)]
        {
            if p.is_none() {
                return Err(KeyError::new(key, "S3's request prices are required"));
            }
        }
        check_shared(&self.cold_start, &self.keep_alive, &self.storage)
    }
}

impl CheckRanges for AzureFunctionsModel {
    fn check_ranges(&self) -> Result<(), KeyError> {
        // Blob request prices come from the storage account's kind: a price here would be ignored.
        for (key, p) in
            [("storage.price_usd_per_get", &self.storage.price_usd_per_get), ("storage.price_usd_per_put", &self.storage.price_usd_per_put)]
        {
            if p.is_some() {
                return Err(KeyError::new(
                    key,
                    "Azure Blob's request prices come from models/az-storage.toml (the price table of `account.kind`): remove it here",
                ));
            }
        }
        let f = &self.function;
        within("function.host_vcpus", &f.host_vcpus, 0.01, 1024.0)?;
        within("function.host_memory_mb", &f.host_memory_mb, 64.0, 1e6)?;
        within("function.worker_threads", &f.worker_threads, 1.0, 1024.0)?;
        within("function.cpu_speed", &f.cpu_speed, 0.05, 20.0)?;
        if let Some(v) = &f.vector_speed {
            within("function.vector_speed", v, 0.05, 20.0)?;
        }
        within("function.cpu_noise_sigma", &f.cpu_noise_sigma, 0.0, 1.0)?;
        within("function.concurrent_executions_per_host", &f.concurrent_executions_per_host, 1.0, MAX_SLOTS)?;
        within("function.python_thread_pool", &f.python_thread_pool, 1.0, 32.0)?;
        within("function.python_thread_pool_auto", &f.python_thread_pool_auto, 0.0, 1.0)?;
        within("function.http_max_concurrent_requests", &f.http_max_concurrent_requests, 1.0, 10000.0)?;
        within("function.timeout_from_dispatch", &f.timeout_from_dispatch, 0.0, 1.0)?;
        within("function.timeout_restarts_worker", &f.timeout_restarts_worker, 0.0, 1.0)?;
        within("function.host_lock_renew_interval_s", &f.host_lock_renew_interval_s, 0.0, 3600.0)?;
        within("function.host_lock_acquire_interval_s", &f.host_lock_acquire_interval_s, 0.0, 3600.0)?;
        let x = &self.flex;
        within("flex.instance_memory_mb_default", &x.instance_memory_mb_default, 64.0, 1e6)?;
        within("flex.mb_per_vcpu", &x.mb_per_vcpu, 1.0, 1e6)?;
        within("flex.http_concurrency_per_gb", &x.http_concurrency_per_gb, 0.0, MAX_SLOTS)?;
        within("flex.python_http_concurrency", &x.python_http_concurrency, 1.0, MAX_SLOTS)?;
        within("flex.max_instances_limit", &x.max_instances_limit, 1.0, 1e6)?;
        within("flex.max_instances_default", &x.max_instances_default, 1.0, x.max_instances_limit.value)?;
        within("flex.timeout_s", &x.timeout_s, 0.001, 1e9)?;
        within("flex.cpu_noise_sigma", &x.cpu_noise_sigma, 0.0, 1.0)?;
        within("flex.billing_granularity_ms", &x.billing_granularity_ms, 0.001, 3.6e6)?;
        let p = &self.premium;
        for (k, v) in [("ep1_vcpus", &p.ep1_vcpus), ("ep2_vcpus", &p.ep2_vcpus), ("ep3_vcpus", &p.ep3_vcpus)] {
            within(&format!("premium.{k}"), v, 0.01, 1024.0)?;
        }
        for (k, v) in [("ep1_memory_mb", &p.ep1_memory_mb), ("ep2_memory_mb", &p.ep2_memory_mb), ("ep3_memory_mb", &p.ep3_memory_mb)] {
            within(&format!("premium.{k}"), v, 64.0, 1e6)?;
        }
        within("premium.max_instances_limit", &p.max_instances_limit, 1.0, 1e6)?;
        within("premium.max_instances_default", &p.max_instances_default, 1.0, p.max_instances_limit.value)?;
        within("premium.always_ready_default", &p.always_ready_default, 1.0, p.max_instances_default.value)?;
        within("premium.timeout_s", &p.timeout_s, 0.001, 1e9)?;
        within("premium.cpu_noise_sigma", &p.cpu_noise_sigma, 0.0, 1.0)?;
        within("premium.cold_start_s_median", &p.cold_start_s_median, 0.0, 600.0)?;
        within("function.runtime_memory_mb", &f.runtime_memory_mb, 0.0, f.host_memory_mb.value)?;
        within("function.timeout_s", &f.timeout_s, 0.001, 1e9)?;
        within("scaling.http_new_host_interval_s", &self.scaling.http_new_host_interval_s, 0.0, 1e6)?;
        within("scaling.queue_new_host_interval_s", &self.scaling.queue_new_host_interval_s, 0.0, 1e6)?;
        within("scaling.max_hosts", &self.scaling.max_hosts, 1.0, 1e6)?;
        let b = &self.billing;
        within("billing.memory_min_mb", &b.memory_min_mb, 0.0, 1e6)?;
        within("billing.memory_max_mb", &b.memory_max_mb, b.memory_min_mb.value, 1e6)?;
        within("billing.granularity_ms", &b.granularity_ms, 0.001, 3.6e6)?;
        within("billing.meter_worker_wait", &b.meter_worker_wait, 0.0, 1.0)?;
        within("billing.meter_concurrency_shared", &b.meter_concurrency_shared, 0.0, 1.0)?;
        within("billing.meter_instant_buckets", &b.meter_instant_buckets, 0.0, 1.0)?;
        check_shared(&self.cold_start, &self.keep_alive, &self.storage)
    }
}

/// Parses one model file of known kind and checks its sources and ranges.
pub fn parse_model<T: for<'de> Deserialize<'de> + CheckRanges>(src: &SourceFile) -> Result<T, LoadError> {
    let m: T = parse_toml(src)?;
    check_params(src)?;
    m.check_ranges().map_err(|e| src.key_error(e))?;
    Ok(m)
}

impl Models {
    /// The models compiled into the binary.
    pub fn builtin() -> Result<Models, LoadError> {
        Self::from_sources(|name| {
            let text = Self::builtin_text(name).expect("built-in model file list is complete");
            Ok(SourceFile::from_text(format!("models/{name}"), text))
        })
    }

    /// These models with Lambda's cores at the reference core's speed on both kinds of code
    /// (`cpu_speed` 1, `vector_speed` as `cpu_speed`), as Azure's are: a step's `cpu_s` is then
    /// its seconds on a full vCPU of either platform (hand computations, and a what-if without
    /// the study era's rating of Lambda's cores).
    pub fn with_reference_cores(mut self) -> Models {
        self.lambda.function.cpu_speed.value = 1.0;
        self.lambda.function.vector_speed = None;
        self
    }

    /// These models with Lambda's CPU share a steady rate (`function.cpu_period_ms` absent)
    /// instead of a quota per CFS period: a body's time is its work over the share, as a hand
    /// computation takes it.
    pub fn with_steady_cpu_share(mut self) -> Models {
        self.lambda.function.cpu_period_ms = None;
        self
    }

    /// The built-in text of a model file (`az-func.toml`) or profile (`profiles/2026.toml`).
    pub fn builtin_text(file: &str) -> Option<&'static str> {
        BUILTIN_MODELS
            .iter()
            .find(|(n, _)| *n == file)
            .map(|(_, t)| *t)
            .or_else(|| BUILTIN_PROFILES.iter().find(|(n, _)| profile_file(n) == file).map(|(_, t)| *t))
    }

    /// Loads the model files from a directory (same file names as the built-ins); a profile
    /// missing from its `profiles/` folder is the built-in one.
    pub fn from_dir(dir: &std::path::Path) -> Result<Models, LoadError> {
        Self::from_sources(|name| Self::read_in(dir, name))
    }

    /// Reads model file or profile `name` from `dir`; a profile missing there is the built-in one.
    pub fn read_in(dir: &std::path::Path, name: &str) -> Result<SourceFile, LoadError> {
        let path = dir.join(name);
        match Self::builtin_text(name) {
            Some(text) if name.starts_with("profiles/") && !path.exists() => Ok(SourceFile::from_text(format!("models/{name}"), text)),
            _ => SourceFile::read(&path),
        }
    }

    /// Loads the models from sources looked up by file name (`aws-lambda.toml`, ...).
    pub fn from_sources(get: impl Fn(&str) -> Result<SourceFile, LoadError>) -> Result<Models, LoadError> {
        // Each file is read and parsed in turn, so that the first bad one is the one reported.
        fn load<T: for<'de> Deserialize<'de> + CheckRanges>(
            get: &impl Fn(&str) -> Result<SourceFile, LoadError>,
            name: &str,
            texts: &mut Vec<(String, String)>,
        ) -> Result<T, LoadError> {
            let src = get(name)?;
            let m = parse_model(&src)?;
            texts.push((name.to_string(), src.text));
            Ok(m)
        }
        let mut texts = Vec::new();
        let mut m = Models {
            lambda: load(&get, "aws-lambda.toml", &mut texts)?,
            azure: load(&get, "az-func.toml", &mut texts)?,
            storage: load(&get, "az-storage.toml", &mut texts)?,
            queue_trigger: load(&get, "az-queue.toml", &mut texts)?,
            durable: load(&get, "az-durable.toml", &mut texts)?,
            step: load(&get, "aws-step.toml", &mut texts)?,
            texts,
        };
        for (name, _) in BUILTIN_PROFILES {
            let file = profile_file(name);
            let src = get(&file)?;
            // Checked here, so that a bad profile is reported when the models load, at its key.
            profile_text_changes(&src)?;
            m.texts.push((file, src.text));
        }
        Ok(m)
    }

    /// The parameter changes of profile `name`: (model, key, value), from the profile's text
    /// these models were loaded with. `None` for an unknown name.
    pub fn profile_changes(&self, name: &str) -> Option<Result<Vec<(String, String, ModelValue)>, LoadError>> {
        if name == DEFAULT_PROFILE {
            return Some(Ok(Vec::new()));
        }
        let file = profile_file(name);
        let (_, text) = self.texts.iter().find(|(n, _)| *n == file)?;
        Some(profile_text_changes(&SourceFile::from_text(format!("models/{file}"), text.clone())))
    }

    /// The names of the profiles a scenario may pick, the default first.
    pub fn profile_names() -> Vec<&'static str> {
        std::iter::once(DEFAULT_PROFILE).chain(BUILTIN_PROFILES.iter().map(|(n, _)| *n)).collect()
    }

    /// Whether every parameter of `self` equals `other`'s (the texts aside).
    fn same_values(&self, other: &Models) -> bool {
        self.lambda == other.lambda
            && self.azure == other.azure
            && self.storage == other.storage
            && self.queue_trigger == other.queue_trigger
            && self.durable == other.durable
            && self.step == other.step
    }

    /// The model files these models were parsed from, (file name, text).
    pub fn texts(&self) -> &[(String, String)] {
        &self.texts
    }

    /// These models with some parameters replaced: (model name as in `models/<name>.toml`,
    /// parameter key, value). An unknown model or key, a value of the wrong type or outside the
    /// parameter's plausible range, is [`OverrideError::Change`] naming the change (its index)
    /// and why.
    ///
    /// The changes are made to the texts these models were loaded from, so a field changed in
    /// memory since (`models.durable.task_hub.partition_count.value = 1.0`) would be lost: that
    /// is [`OverrideError::ChangedInMemory`] (a misuse of this API, not a fault of any change)
    /// instead of a silent drop. Make such changes with this function.
    pub fn with_overrides(&self, changes: &[(String, String, ModelValue)]) -> Result<Models, OverrideError> {
        let change = |index: usize, message: String| OverrideError::Change { index, message };
        let loaded = Self::with_changes(&self.texts, &[]).expect("the texts these models were loaded from load again");
        if !loaded.same_values(self) {
            return Err(OverrideError::ChangedInMemory);
        }
        let mut files = Vec::with_capacity(changes.len());
        for (i, (model, key, value)) in changes.iter().enumerate() {
            let file = format!("{model}.toml");
            let Some((_, text)) = self.texts.iter().find(|(n, _)| *n == file) else {
                return Err(change(i, format!("no model file `{file}`")));
            };
            if !Self::has_param(text, key) {
                return Err(change(i, format!("`{model}` has no parameter `{key}` (models/{file})")));
            }
            // A name for a numeric parameter (a named one, such as `account.kind`, says which
            // names it takes when the models load).
            if let (ModelValue::Name(n), Some(_)) = (value, Self::param_in(text, key)) {
                return Err(change(i, format!("`{key}` is a number (models/{file}), got the string {n:?}")));
            }
            files.push(file);
        }
        let edits: Vec<(String, String, String)> = changes.iter().zip(files).map(|((_, k, v), f)| (f, k.clone(), v.text())).collect();
        Self::with_texts(&self.texts, &edits).map_err(|e| {
            // A range or type check failed: name the change whose file and key the error is
            // about, with the reason alone (the user wrote the value in the scenario, not in the
            // model file).
            let i = edits.iter().position(|(f, k, _)| e.file.ends_with(f.as_str()) && e.key.starts_with(k.as_str())).unwrap_or(0);
            change(i, format!("{} (`{}` in models/{})", e.message, edits[i].1, edits[i].0))
        })
    }

    /// Loads the models from (file name, text) pairs with some parameters replaced:
    /// `changes` are (file name, parameter key, value). Used by calibration.
    pub fn with_changes(texts: &[(String, String)], changes: &[(String, String, f64)]) -> Result<Models, LoadError> {
        let edits: Vec<(String, String, String)> = changes.iter().map(|(f, k, v)| (f.clone(), k.clone(), format!("{v:e}"))).collect();
        Self::with_texts(texts, &edits)
    }

    /// As [`Models::with_changes`], each value given as override text (a number, or a name
    /// such as an account kind).
    fn with_texts(texts: &[(String, String)], changes: &[(String, String, String)]) -> Result<Models, LoadError> {
        let mut edited: Vec<(String, String)> = texts.to_vec();
        for (file, key, value) in changes {
            let Some((_, text)) = edited.iter_mut().find(|(n, _)| n == file) else {
                return Err(LoadError::whole_file(file, "no such model file"));
            };
            let o = sfsim_workflow::Override { path: format!("{key}.value"), value: value.clone() };
            *text = sfsim_workflow::apply_overrides(text, &[o]).map_err(|m| LoadError::whole_file(file, m))?;
        }
        Self::from_sources(|name| {
            edited
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, t)| SourceFile::from_text(format!("models/{n}"), t.clone()))
                .or_else(|| {
                    // A profile not among the texts is the built-in one.
                    Self::builtin_text(name)
                        .filter(|_| name.starts_with("profiles/"))
                        .map(|t| SourceFile::from_text(format!("models/{name}"), t))
                })
                .ok_or_else(|| LoadError::whole_file(name, "model file missing"))
        })
    }

    /// The built-in model files as (file name, text).
    pub fn builtin_texts() -> Vec<(String, String)> {
        BUILTIN_MODELS
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .chain(BUILTIN_PROFILES.iter().map(|(n, t)| (profile_file(n), t.to_string())))
            .collect()
    }

    /// Every file of a model set: the model files, then the profiles (`profiles/<name>.toml`).
    pub fn file_names() -> Vec<String> {
        BUILTIN_MODELS.iter().map(|(n, _)| n.to_string()).chain(BUILTIN_PROFILES.iter().map(|(n, _)| profile_file(n))).collect()
    }

    /// Whether a model file's text has parameter `key` (numeric or named).
    pub fn has_param(text: &str, key: &str) -> bool {
        let Ok(table) = toml::from_str::<toml::Table>(text) else { return false };
        let mut v = toml::Value::Table(table);
        for seg in key.split('.') {
            match v.as_table().and_then(|t| t.get(seg)) {
                Some(x) => v = x.clone(),
                None => return false,
            }
        }
        v.as_table().is_some_and(|t| t.contains_key("value") && t.contains_key("source"))
    }

    /// The value and source of parameter `key` in a model file's text.
    pub fn param_in(text: &str, key: &str) -> Option<(f64, String)> {
        let table: toml::Table = toml::from_str(text).ok()?;
        let mut v = toml::Value::Table(table);
        for seg in key.split('.') {
            v = v.as_table()?.get(seg)?.clone();
        }
        let t = v.as_table()?;
        let value = t.get("value").and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))?;
        Some((value, t.get("source")?.as_str()?.to_string()))
    }

    /// Validates a single model file by its `[model] name` (used by `sfsim validate`).
    pub fn validate_file(src: &SourceFile) -> Result<String, LoadError> {
        #[derive(Deserialize)]
        struct Head {
            model: ModelHeader,
        }
        #[derive(Deserialize)]
        struct Probe {
            model: Option<toml::Value>,
        }
        let probe: Probe = toml::from_str(&src.text).map_err(|e| src.error_at(e.span(), "", e.message().to_string()))?;
        if probe.model.is_none() {
            return Err(src.error_at(None, "model", "not a model file: it has no [model] table"));
        }
        let head: Head = toml::from_str(&src.text).map_err(|e| src.error_at(e.span(), "model", e.message().to_string()))?;
        match head.model.name.as_str() {
            "aws-lambda" => parse_model::<LambdaModel>(src).map(|_| head.model.name),
            "az-func" => parse_model::<AzureFunctionsModel>(src).map(|_| head.model.name),
            "az-storage" => parse_model::<AzureStorageModel>(src).map(|_| head.model.name),
            "az-queue" => parse_model::<QueueTriggerModel>(src).map(|_| head.model.name),
            "az-durable" => parse_model::<DurableModel>(src).map(|_| head.model.name),
            "aws-step" => parse_model::<StepFunctionsModel>(src).map(|_| head.model.name),
            other => Err(src.key_error(KeyError::new(
                "model.name",
                format!("unknown model `{other}` (known: aws-lambda, az-func, az-storage, az-queue, az-durable, aws-step)"),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_models_load_and_every_parameter_has_a_source() {
        let m = Models::builtin().expect("built-in models are valid");
        assert_eq!(m.lambda.function.memory_mb_per_vcpu.value, 1769.0);
        assert_eq!(m.azure.scaling.queue_new_host_interval_s.value, 30.0);
    }

    #[test]
    fn overrides_refuse_models_changed_in_memory_instead_of_dropping_the_change() {
        let m = Models::builtin().expect("models");
        let changes = [("az-durable".to_string(), "task_hub.partition_count".to_string(), ModelValue::Number(2.0))];
        let o = m.with_overrides(&changes).expect("a valid override");
        assert_eq!(o.durable.task_hub.partition_count.value, 2.0);
        let mut edited = m.clone();
        edited.durable.task_hub.partition_count.value = 1.0;
        // Its own kind of error, not one of the changes' (B5: it was reported at change 0).
        let e = edited.with_overrides(&changes).unwrap_err();
        assert_eq!(e, OverrideError::ChangedInMemory);
        assert!(e.to_string().contains("changed in memory"), "{e}");
        // The profiles are part of the loaded models: the study's apps' polling cap.
        let p = m.profile_changes("iiswc21").expect("known").expect("valid");
        assert!(p.contains(&("az-queue".to_string(), "polling.max_interval_s".to_string(), ModelValue::Number(11.32))), "{p:?}");
    }

    #[test]
    fn an_unknown_account_kind_is_rejected_at_its_key_and_a_known_one_picks_its_prices() {
        let (_, text) = BUILTIN_MODELS.iter().find(|(n, _)| *n == "az-storage.toml").expect("az-storage");
        let bad = text.replace("kind = { value = \"gpv1\"", "kind = { value = \"gpv3\"");
        let e = parse_model::<AzureStorageModel>(&SourceFile::from_text("models/az-storage.toml", bad)).unwrap_err();
        assert!(e.key.starts_with("account.kind"), "{}", e.key);
        assert!(e.line > 0 && e.message.contains("gpv3"), "{e:?}");
        let m = Models::builtin().expect("models");
        assert_eq!(m.storage.account.kind.value, AccountKind::Gpv1);
        let v2 = m.with_overrides(&[("az-storage".into(), "account.kind".into(), ModelValue::Name("gpv2".into()))]).expect("gpv2");
        assert_eq!(v2.storage.account.kind.value, AccountKind::Gpv2);
        assert!(v2.storage.prices().queue_class2_usd_per_10k.value > 10.0 * m.storage.prices().queue_class2_usd_per_10k.value);
        let e = m.with_overrides(&[("az-storage".into(), "account.kind".into(), ModelValue::Name("premium".into()))]).unwrap_err();
        assert!(e.to_string().contains("premium"), "{e}");
    }

    #[test]
    fn a_parameter_without_source_is_rejected_at_its_key() {
        let text = BUILTIN_MODELS[0].1.replace("source = \"LDG gettingstarted-limits: 900 s (15 min); paper.md Table I\"", "source = \"\"");
        let e = parse_model::<LambdaModel>(&SourceFile::from_text("m.toml", text)).unwrap_err();
        assert_eq!(e.key, "function.timeout_s.source");
        assert!(e.line > 0);
    }
}
