//! Lifecycle tests: step small worlds of the stateless deployments and check what a user relies
//! on against hand-computed values.

use sfsim_engine::{RngStreams, SimDuration, SimTime};
use sfsim_platform::{Deployment, DeploymentPlan, Models, Outcome, PlatformError, RunOutput};
use sfsim_workflow::{Arrivals, Scenario, SourceFile};

/// The built-in models with Lambda's cores at the reference core's speed (1 on scalar and on
/// vectorized code): these tests' hand computations take a step's `cpu_s` as seconds on a full
/// Lambda vCPU. The study era's rating of Lambda's cores (models/aws-lambda.toml) is checked by
/// crates/platform/src/cpu.rs's unit tests and tests/cpu_classes.rs.
fn reference_models() -> Models {
    Models::builtin().expect("models").with_reference_cores()
}

fn scenario(cpu_s: f64, extra_workflow: &str) -> Scenario {
    let text = format!(
        r#"
[scenario]
name = "t"
[arrivals]
kind = "interval"
interval_s = 1
[deployment.aws-lambda]
memory_mb = 1769
[workflow]
flow = [{{ step = "work" }}]
{extra_workflow}
[workflow.steps.work]
cpu_s = {{ dist = "fixed", value_s = {cpu_s} }}
memory_mb = 200
"#
    );
    Scenario::from_source(SourceFile::from_text("t.toml", text), &[]).expect("test scenario is valid")
}

fn run(d: Deployment, models: &Models, s: &Scenario, arrivals: Arrivals, n: u64) -> RunOutput {
    let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
    let p = DeploymentPlan::build(d, models, &cfg, &s.workflow).expect("platform builds");
    let out = p.run(&s.workflow, &arrivals, n, RngStreams::new(7, 0), true);
    for r in &out.executions {
        assert_eq!(r.breakdown.total(), r.latency(), "breakdown sums to latency for {r:?}");
        assert!(r.billed >= r.executed, "billed time is at least executed time");
    }
    out
}

fn cold_count(o: &RunOutput) -> usize {
    o.executions.iter().filter(|r| r.cold_start).count()
}

#[test]
fn warm_instances_are_reused_within_keep_alive_and_reclaimed_after() {
    let m = reference_models();
    let s = scenario(1.0, "");
    // Lambda keep-alive is 600 s. Work takes 1 s, so the idle gap is interval - 1 s - cold start.
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 300.0 }, 5);
    assert_eq!((cold_count(&o), o.instances_started), (1, 1));
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 3600.0 }, 5);
    assert_eq!((cold_count(&o), o.instances_started), (5, 5), "one request per hour finds every instance reclaimed");
    // Azure keeps hosts 20 min: 15 min apart is warm, 25 min is cold.
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Interval { interval_s: 900.0 }, 4);
    assert_eq!(cold_count(&o), 1);
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Interval { interval_s: 1500.0 }, 4);
    assert_eq!(cold_count(&o), 4);
}

#[test]
fn keep_alive_zero_makes_every_start_cold() {
    let mut m = reference_models();
    m.lambda.keep_alive.idle_s.value = 0.0;
    let s = scenario(0.5, "");
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Sequential { gap_s: 0.001 }, 20);
    assert_eq!(cold_count(&o), 20);
}

#[test]
fn lambda_cpu_share_follows_memory_and_cold_start_is_not_billed() {
    let mut m = reference_models();
    m.lambda.cold_start.runtime_sigma.value = 0.0;
    let s = scenario(10.0, "");
    // 1,769 MB = 1 vCPU: 10 s of CPU takes exactly 10 s and bills 10.0 s x 1769/1024 GB.
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 1.0 }, 1);
    let r = &o.executions[0];
    assert_eq!(r.breakdown.execution, SimDuration::from_secs(10));
    assert_eq!(r.breakdown.cold_start, SimDuration::from_secs_f64(0.22));
    assert_eq!(r.billed, SimDuration::from_secs(10));
    assert!((r.gb_s - 10.0 * 1769.0 / 1024.0).abs() < 1e-9);
    assert!((r.cost.compute - r.gb_s * 0.0000166667).abs() < 1e-15);
    assert_eq!(r.cost.requests, 0.0000002);
}

#[test]
fn lambda_throttles_beyond_concurrency() {
    let mut m = reference_models();
    m.lambda.scaling.account_concurrency.value = 2.0;
    let s = scenario(10.0, "");
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Burst { size: 5, interval_s: 0.0 }, 5);
    let throttled = o.executions.iter().filter(|r| r.outcome.is_throttled()).count();
    assert_eq!(throttled, 3);
    assert_eq!(o.instances_started, 2);
}

#[test]
fn payload_over_the_limit_fails_with_the_platform_error() {
    let m = reference_models();
    let s = scenario(1.0, "input_kb = 7168");
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 1.0 }, 2);
    for r in &o.executions {
        assert_eq!(r.outcome, Outcome::Failed { error: PlatformError::RequestTooLarge("RequestEntityTooLargeException") });
        assert_eq!(r.cost.total(), 0.0);
    }
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Interval { interval_s: 1.0 }, 2);
    assert!(o.executions.iter().all(|r| r.outcome == Outcome::Completed), "Azure HTTP takes up to 100 MB");
}

#[test]
fn a_run_past_the_timeout_fails_and_is_billed_for_the_timeout() {
    let m = reference_models();
    let s = scenario(2000.0, "");
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 1.0 }, 1);
    let r = &o.executions[0];
    assert_eq!(r.outcome, Outcome::Failed { error: PlatformError::Timeout("Lambda.Timeout: Task timed out") });
    assert_eq!(r.executed, SimDuration::from_secs(900));
    assert_eq!(r.billed, SimDuration::from_secs(900));
}

#[test]
fn executions_on_one_azure_host_share_its_cpu() {
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0; // times computed by hand
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    // Two worker threads (PYTHON_THREADPOOL_THREAD_COUNT = 2): both run their code at once.
    m.azure.function.python_thread_pool.value = 2.0;
    let s = scenario(1.0, "");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    assert_eq!(o.instances_started, 1);
    for r in &o.executions {
        // Two executions at half a vCPU each: 1 s of work takes 2 s.
        assert_eq!(r.breakdown.execution, SimDuration::from_secs(2));
    }
}

#[test]
fn an_azure_host_with_one_python_thread_runs_one_invocation_at_a_time() {
    // The stateless az-func runs on the same instance pool as the Durable hosts: two slots but
    // one worker thread (the study era's default) means the second request waits inside the
    // worker, holding its slot, and reports the wait as execution (as Application Insights does).
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0; // times computed by hand
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    let s = scenario(1.0, "");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    assert_eq!(o.instances_started, 1);
    let mut exec: Vec<SimDuration> = o.executions.iter().map(|r| r.breakdown.execution).collect();
    exec.sort();
    assert_eq!(exec, vec![SimDuration::from_secs(1), SimDuration::from_secs(2)]);
    // The waiting request's code started 1 s later than the first's.
    let mut starts: Vec<SimDuration> = o.executions.iter().map(|r| r.start_delay.expect("started")).collect();
    starts.sort();
    assert_eq!(starts[1].saturating_sub(starts[0]), SimDuration::from_secs(1));
}

/// The function timeout runs from the worker's start of the code, not while a dispatched invocation
/// waits for the Python worker's thread (`function.timeout_from_dispatch` = 0, assumed against
/// azure-functions-host #8720): SeBS-Flow's 1000-genome Azure run (2024) completed all its
/// executions, which a timer from the dispatch forbids in sfsim (models/az-func.toml).
#[test]
fn an_azure_invocation_waiting_for_the_python_thread_does_not_time_out() {
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0; // times computed by hand
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    assert_eq!(m.azure.function.timeout_s.value, 600.0, "the Consumption limit this test assumes");
    assert_eq!(m.azure.function.timeout_from_dispatch.value, 0.0, "the default this test pins");
    // Two requests on one host with one thread: the second waits 400 s, then runs 400 s, 800 s
    // after its dispatch but 400 s after its start.
    let s = scenario(400.0, "");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    assert_eq!(o.instances_started, 1);
    assert!(o.executions.iter().all(|r| r.outcome == Outcome::Completed), "{:?}", o.executions);
    let mut exec: Vec<SimDuration> = o.executions.iter().map(|r| r.breakdown.execution).collect();
    exec.sort();
    assert_eq!(exec, vec![SimDuration::from_secs(400), SimDuration::from_secs(800)]);
    // With the documented timer (from the dispatch), the second fails 600 s after its dispatch:
    // 400 s of wait and 200 s of its code.
    m.azure.function.timeout_from_dispatch.value = 1.0;
    m.azure.function.timeout_restarts_worker.value = 0.0;
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    let mut outcomes: Vec<(SimDuration, bool)> =
        o.executions.iter().map(|r| (r.breakdown.execution, r.outcome == Outcome::Completed)).collect();
    outcomes.sort();
    assert_eq!(outcomes, vec![(SimDuration::from_secs(400), true), (SimDuration::from_secs(600), false)]);
}

fn azure_timeout() -> Outcome {
    Outcome::Failed { error: PlatformError::Timeout("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException") }
}

/// A Python function's timeout restarts the language worker (azure-functions-host PR #5794,
/// #8720): the request waiting for the worker's thread ends with the same error when the first
/// one times out, not 600 s later; with the restart switched off, it runs its own 600 s.
#[test]
fn a_python_timeout_restarts_the_worker_and_ends_the_requests_waiting_for_it() {
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0;
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    assert_eq!(m.azure.function.timeout_restarts_worker.value, 1.0, "the default this test pins");
    let s = scenario(700.0, "");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    assert!(o.executions.iter().all(|r| r.outcome == azure_timeout()), "{:?}", o.executions);
    // Both end together: the first after 600 s of its code, the second after 600 s of waiting.
    assert_eq!(o.executions[0].end, o.executions[1].end);
    let exec: Vec<SimDuration> = o.executions.iter().map(|r| r.breakdown.execution).collect();
    assert_eq!(exec, vec![SimDuration::from_secs(600); 2]);
    // The second's code never ran: it is not billed (the study era's meter bills the code).
    let mut executed: Vec<SimDuration> = o.executions.iter().map(|r| r.executed).collect();
    executed.sort();
    assert_eq!(executed[0], SimDuration::ZERO);
    // The host stays (only the worker restarted): no new instance.
    assert_eq!(o.instances_started, 1);
    m.azure.function.timeout_restarts_worker.value = 0.0;
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 2, interval_s: 0.0 }, 2);
    assert!(o.executions.iter().all(|r| r.outcome == azure_timeout()), "{:?}", o.executions);
    let mut exec: Vec<SimDuration> = o.executions.iter().map(|r| r.breakdown.execution).collect();
    exec.sort();
    assert_eq!(exec, vec![SimDuration::from_secs(600), SimDuration::from_secs(1200)]);
}

/// A request that reaches the host while its worker restarts waits for the worker to be back
/// (one cold start of the app: here the runtime's 50 s, made exact) before its code starts.
#[test]
fn a_request_dispatched_while_the_worker_restarts_waits_for_it() {
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0;
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    m.azure.cold_start.runtime_s_median.value = 50.0;
    m.azure.cold_start.runtime_sigma.value = 0.0;
    let s = scenario(700.0, "");
    // The first request's code starts after the host's cold start (about 50 s) and times out
    // 600 s later; the second arrives at 660 s, in the worker's restart.
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Interval { interval_s: 660.0 }, 2);
    assert!(o.executions.iter().all(|r| r.outcome == azure_timeout()), "{:?}", o.executions);
    let (first, second) = (&o.executions[0], &o.executions[1]);
    let cold = first.start_delay.expect("its code started");
    assert!(cold >= SimDuration::from_secs(50), "{cold:?}");
    let restarted_at = first.end;
    assert!(restarted_at < second.arrival, "{restarted_at:?} {:?}", second.arrival);
    let back = restarted_at + cold;
    assert!(back > second.arrival);
    let waited = back.saturating_since(second.arrival);
    let tolerance = SimDuration::from_millis(1);
    let second_start = second.start_delay.expect("its code started after the restart");
    assert!(
        second_start.saturating_sub(waited) <= tolerance && waited.saturating_sub(second_start) <= tolerance,
        "{second_start:?} vs {waited:?}"
    );
    // Its own 600 s run follows the wait; the host was not replaced.
    assert_eq!(second.end, back + SimDuration::from_secs(600));
    assert_eq!(o.instances_started, 1);
}

/// On a runtime without a language worker to wait for (.NET), the timeout runs from the
/// execution's start, as on Lambda: a 700 s body fails at 600 s.
#[test]
fn a_dotnet_azure_function_times_out_from_its_start() {
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0;
    let text = "[scenario]\nname = \"t\"\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n[deployment.az-func]\nruntime = \"dotnet\"\n[workflow]\nflow = [{ step = \"work\" }]\n[workflow.steps.work]\ncpu_s = { dist = \"fixed\", value_s = 700 }\nmemory_mb = 200\n";
    let s = Scenario::from_source(SourceFile::from_text("t.toml", text.to_string()), &[]).expect("test scenario is valid");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Interval { interval_s: 1.0 }, 1);
    let r = &o.executions[0];
    assert_eq!(r.outcome, Outcome::Failed { error: PlatformError::Timeout("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException") });
    assert_eq!(r.breakdown.execution, SimDuration::from_secs(600));
}

#[test]
fn azure_adds_one_host_per_second_for_http_and_requests_queue_meanwhile() {
    let mut m = reference_models();
    m.azure.cold_start.runtime_sigma.value = 0.0;
    let s = scenario(30.0, "");
    let o = run(Deployment::AzFunc, &m, &s, Arrivals::Burst { size: 10, interval_s: 0.0 }, 10);
    assert_eq!(o.instances_started, 10);
    let mut queue: Vec<f64> = o.executions.iter().map(|r| r.breakdown.queue.as_secs_f64()).collect();
    queue.sort_by(f64::total_cmp);
    // Host k is added k seconds after the burst; its request waited k seconds in the queue.
    for (k, q) in queue.iter().enumerate() {
        assert!((q - k as f64).abs() < 1e-9, "request {k} queued {q} s");
    }
    assert!(o.executions.iter().all(|r| r.breakdown.cold_start == SimDuration::from_secs_f64(1.3)));
    let last_end = o.executions.iter().map(|r| r.end).max().expect("records");
    assert!(last_end > SimTime::from_secs_f64(39.0));
}

#[test]
fn a_waiting_azure_request_takes_a_host_that_frees_before_a_new_one_starts() {
    // Reviewer's case: host 1 is busy when request 2 arrives; the scale controller starts host 2,
    // whose cold start (package 5,000 MB) outlasts host 1's work. Request 2 must run on host 1 as
    // soon as it frees, and its wait is queueing, not cold start.
    let mut m = reference_models();
    m.azure.function.cpu_noise_sigma.value = 0.0; // times computed by hand
    m.azure.cold_start.runtime_sigma.value = 0.0;
    let s = scenario(10.0, "");
    let mut cfg = s.deployment.get("az-func").cloned().unwrap_or_default();
    cfg.package_mb = Some(5000.0);
    let p = DeploymentPlan::build(Deployment::AzFunc, &m, &cfg, &s.workflow).expect("platform");
    let arrivals = Arrivals::Interval { interval_s: 15.0 };
    let o = p.run(&s.workflow, &arrivals, 2, RngStreams::new(1, 0), false);
    let cold_s = 1.3 + 5000.0 * m.azure.cold_start.package_load_s_per_mb.value;
    let r1 = &o.executions[1];
    // Host 1 finishes request 0 at cold + 10 s; request 1 arrived at 15 s.
    assert!(!r1.cold_start, "request 1 ran on the warm host");
    assert_eq!(r1.breakdown.queue, SimDuration::from_secs_f64(cold_s + 10.0 - 15.0));
    assert_eq!(r1.breakdown.execution, SimDuration::from_secs(10));
}

#[test]
fn a_step_over_the_memory_limit_fails_out_of_memory_and_recycles_the_instance() {
    let m = reference_models();
    let s = scenario(1.0, "");
    let mut cfg = s.deployment.get("aws-lambda").cloned().unwrap_or_default();
    cfg.memory_mb = Some(128.0); // the step needs 200 MB
    let p = DeploymentPlan::build(Deployment::AwsLambda, &m, &cfg, &s.workflow).expect("platform");
    let arrivals = Arrivals::Interval { interval_s: 10.0 };
    let o = p.run(&s.workflow, &arrivals, 3, RngStreams::new(1, 0), false);
    for r in &o.executions {
        assert_eq!(r.outcome, Outcome::Failed { error: PlatformError::OutOfMemory("Runtime.ExitError: signal: killed (out of memory)") });
        assert!(r.cold_start, "a killed environment is not reused");
    }
    assert_eq!(o.instances_started, 3);
}

/// A step's own `threads`: at 3,008 MB Lambda gives 1.70 vCPUs of credit; a two-thread step
/// uses all of it, a one-thread step one vCPU; the same step with the classed speeds of the
/// built-in models runs its vectorized share at `vector_speed` on every thread.
#[test]
fn a_step_with_two_threads_uses_lambdas_credit_above_one_vcpu() {
    // The share as a steady rate: under CFS periods two threads at 1.70 vCPUs of quota finish
    // within a period of it (crates/platform/src/cpu.rs tests that).
    let mut m = reference_models().with_steady_cpu_share();
    m.lambda.cold_start.runtime_sigma.value = 0.0;
    let exec_s = |threads: &str, m: &Models| {
        let text = format!(
            "[scenario]\nname = \"t\"\n[arrivals]\nkind = \"interval\"\ninterval_s = 100\n[deployment.aws-lambda]\nmemory_mb = 3008\n[workflow]\nflow = [{{ step = \"work\" }}]\n[workflow.steps.work]\ncpu_s = {{ dist = \"fixed\", value_s = 10 }}\nmemory_mb = 200\n{threads}\n"
        );
        let s = Scenario::from_source(SourceFile::from_text("t.toml", text), &[]).expect("valid");
        let o = run(Deployment::AwsLambda, m, &s, Arrivals::Interval { interval_s: 100.0 }, 1);
        o.executions[0].breakdown.execution.as_secs_f64()
    };
    let credit = 3008.0 / 1769.0;
    let (one, two) = (exec_s("threads = 1", &m), exec_s("threads = 2", &m));
    assert!((one - 10.0).abs() < 1e-6, "one thread: {one} s");
    assert!((two - 10.0 / credit).abs() < 1e-6, "two threads: {two} s");
    // Four threads cannot use more than the credit either.
    assert!((exec_s("threads = 4", &m) - 10.0 / credit).abs() < 1e-6);
    // The built-in (2020) rating: a vectorized step at 1.05 per thread.
    let rated = Models::builtin().expect("models").with_steady_cpu_share();
    let v = exec_s("threads = 2\nvector_share = 1.0", &rated);
    let speed = rated.lambda.function.vector_speed.as_ref().expect("rated").value;
    assert!((v - 10.0 / (credit * speed)).abs() < 1e-6, "{v} s");
}

#[test]
fn an_instance_that_timed_out_is_not_reused() {
    let m = reference_models();
    let s = scenario(1000.0, "");
    let o = run(Deployment::AwsLambda, &m, &s, Arrivals::Interval { interval_s: 1000.0 }, 2);
    assert!(o.executions.iter().all(|r| r.cold_start && matches!(r.outcome, Outcome::Failed { .. })));
    assert_eq!(o.instances_started, 2);
}
