//! Seed sweeps with invariant checks (style.md tier 4): over many seeds and loads, on both
//! stateless deployments, with tight caps so throttling, queueing, keep-alive expiry and
//! timeouts all happen:
//! every execution ends exactly once, after it arrived; arrivals = completed + failed +
//! throttled; the breakdown sums to the latency; billed time >= executed time; instances never
//! exceed the cap; and with common random numbers the two deployments see the same work. The
//! stateful Azure deployments are swept with function timeouts that restart the Python worker.

use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models, Outcome, RunOutput};
use sfsim_workflow::{Arrivals, Scenario, SourceFile};

const SCENARIO: &str = r#"
[scenario]
name = "invariants"
[arrivals]
kind = "poisson"
rate_per_s = 1
[deployment.aws-lambda]
package_mb = 50
[deployment.az-func]
package_mb = 200
[workflow]
flow = [{ step = "a" }, { parallel = [[{ step = "b" }], [{ step = "a" }]] }, { fan_out = "w" }]
[workflow.steps.a]
cpu_s = { dist = "lognormal", median_s = 0.5, sigma = 0.8 }
io_s = { dist = "uniform", low_s = 0.0, high_s = 0.2 }
memory_mb = 300
reads = [{ object = "x", size_mb = 2 }]
[workflow.steps.b]
cpu_s = { dist = "exponential", mean_s = 1.0 }
memory_mb = 700
writes = [{ object = "y", size_mb = 1 }]
state_updates = ["s"]
[workflow.fan_out.w]
items = 3
split = true
body = [{ step = "b" }]
[workflow.state.s]
size_kb = 100
"#;

/// What every run keeps, whatever its deployment: one record per arrival, in id order, each
/// ending after it arrived, its breakdown summing to its latency, billed at least what it ran.
fn assert_records_hold(ctx: &str, o: &RunOutput, n: u64) {
    assert_eq!(o.executions.len() as u64, n, "{ctx}: one record per arrival");
    for (i, r) in o.executions.iter().enumerate() {
        assert_eq!(r.id as usize, i, "{ctx}: records in id order, each id once");
        assert!(r.end >= r.arrival, "{ctx}: exec {i} ends after it arrives");
        assert_eq!(r.breakdown.total(), r.latency(), "{ctx}: exec {i} breakdown sums to latency");
        assert!(r.billed >= r.executed, "{ctx}: exec {i} billed >= executed");
    }
}

/// Counts `o`'s executions by how they ended: completed, failed, throttled.
fn count_outcomes(o: &RunOutput, counts: &mut [usize; 3]) {
    for r in &o.executions {
        match r.outcome {
            Outcome::Completed => counts[0] += 1,
            Outcome::Failed { ref error } if error.is_throttle() => counts[2] += 1,
            Outcome::Failed { .. } => counts[1] += 1,
        }
    }
}

/// The invariant scenario, and the same without its fan-out (for az-queue, a chain).
fn scenario_and_chain() -> (Scenario, Scenario) {
    let s = Scenario::from_source(SourceFile::from_text("inv.toml", SCENARIO), &[]).expect("valid");
    let no_fan_out = SCENARIO.replace(", { fan_out = \"w\" }]", "]");
    let chain = Scenario::from_source(SourceFile::from_text("inv-chain.toml", no_fan_out), &[]).expect("valid");
    (s, chain)
}

#[test]
fn invariants_hold_over_many_seeds() {
    let s = Scenario::from_source(SourceFile::from_text("inv.toml", SCENARIO), &[]).expect("valid");
    let mut m = Models::builtin().expect("models");
    m.lambda.scaling.account_concurrency.value = 3.0;
    m.lambda.keep_alive.idle_s.value = 5.0;
    m.azure.scaling.max_hosts.value = 3.0;
    m.azure.keep_alive.idle_s.value = 5.0;
    m.azure.function.concurrent_executions_per_host.value = 2.0;
    m.azure.function.timeout_s.value = 12.0;
    let mut outcomes = [0usize; 3];
    for seed in 0..40u64 {
        let rate = [0.05, 0.3, 1.0, 3.0][(seed % 4) as usize];
        let arrivals = Arrivals::Poisson { rate_per_s: rate };
        let mut work = Vec::new();
        for d in [Deployment::AwsLambda, Deployment::AzFunc] {
            let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
            let p = DeploymentPlan::build(d, &m, &cfg, &s.workflow).expect("platform");
            let n = 200;
            let o = p.run(&s.workflow, &arrivals, n, RngStreams::new(seed, 0), false);
            let ctx = format!("{} seed {seed} rate {rate}", d.name());
            assert_records_hold(&ctx, &o, n);
            count_outcomes(&o, &mut outcomes);
            assert!(o.instances_peak <= 3, "{ctx}: {} instances above the cap of 3", o.instances_peak);
            work.push(o.executions.iter().map(|r| (r.outcome == Outcome::Completed, r.storage_gets + r.storage_puts)).collect::<Vec<_>>());
        }
        // Common random numbers: an execution completed on both deployments did the same
        // storage operations on both (its work was drawn from the same stream).
        for (i, (a, b)) in work[0].iter().zip(&work[1]).enumerate() {
            if a.0 && b.0 {
                assert_eq!(a.1, b.1, "seed {seed}: exec {i} did different work on the two deployments");
            }
        }
    }
    // The sweep exercised every way an execution can end.
    assert!(outcomes.iter().all(|&n| n > 0), "completed/failed/throttled: {outcomes:?}");
}

#[test]
fn a_longer_keep_alive_never_adds_cold_starts_with_common_random_numbers() {
    let s = Scenario::from_source(SourceFile::from_text("inv.toml", SCENARIO), &[]).expect("valid");
    let arrivals = Arrivals::Interval { interval_s: 30.0 };
    let mut last = u64::MAX;
    for keep_alive_s in [0.0, 10.0, 25.0, 40.0, 600.0] {
        let mut m = Models::builtin().expect("models");
        m.lambda.keep_alive.idle_s.value = keep_alive_s;
        let cfg = s.deployment.get("aws-lambda").cloned().unwrap_or_default();
        let p = DeploymentPlan::build(Deployment::AwsLambda, &m, &cfg, &s.workflow).expect("platform");
        let o = p.run(&s.workflow, &arrivals, 300, RngStreams::new(5, 0), false);
        let cold = o.executions.iter().filter(|r| r.cold_start).count() as u64;
        assert!(cold <= last, "keep-alive {keep_alive_s} s: {cold} cold starts, more than {last} with a shorter keep-alive");
        last = cold;
    }
    assert_eq!(last, 1, "with a 10-minute keep-alive only the first request is cold");
}

#[test]
fn stateful_invariants_hold_over_many_seeds() {
    use sfsim_platform::DeploymentPlan;
    let (s, chain) = scenario_and_chain();
    let mut m = Models::builtin().expect("models");
    m.azure.scaling.max_hosts.value = 3.0;
    m.azure.keep_alive.idle_s.value = 60.0;
    m.lambda.scaling.account_concurrency.value = 20.0;
    let mut ended = [0usize; 3];
    for seed in 0..12u64 {
        let rate = [0.02, 0.2, 1.0][(seed % 3) as usize];
        let arrivals = Arrivals::Poisson { rate_per_s: rate };
        for d in [Deployment::AwsStep, Deployment::AzQueue, Deployment::AzDorch, Deployment::AzDent] {
            let sc = if d == Deployment::AzQueue { &chain } else { &s };
            let cfg = sc.deployment.get(d.name()).cloned().unwrap_or_default();
            let plan = DeploymentPlan::build(d, &m, &cfg, &sc.workflow).expect("plan");
            let n = 60;
            let o = plan.run(&sc.workflow, &arrivals, n, RngStreams::new(seed, 0), false);
            let ctx = format!("{} seed {seed} rate {rate}", d.name());
            // Folding as executions end gives what the records give, and a run that keeps no
            // records folds the same (ids of freed driver objects are reused in both).
            let folded = plan.run_folded(&sc.workflow, &arrivals, n, RngStreams::new(seed, 0), false);
            assert_eq!(folded.fold, o.fold, "{ctx}: folded and recorded runs agree");
            let mut g = sfsim_platform::record::RunFold::default();
            for r in &o.executions {
                g.add(r);
            }
            assert_eq!(
                (g.arrived, g.completed, g.failed, g.throttled, &g.errors),
                (o.fold.arrived, o.fold.completed, o.fold.failed, o.fold.throttled, &o.fold.errors),
                "{ctx}"
            );
            assert_eq!(g.latency_s.sorted_exact(), o.fold.latency_s.sorted_exact(), "{ctx}: the fold holds every completed latency");
            // Charges after an execution's end go to the run: the fold's bill is at least the records'.
            assert!(o.fold.totals.cost.total() >= g.totals.cost.total() - 1e-12, "{ctx}");
            assert_records_hold(&ctx, &o, n);
            count_outcomes(&o, &mut ended);
            if d != Deployment::AwsStep {
                assert!(o.instances_peak <= 3, "{ctx}: {} hosts above the cap of 3", o.instances_peak);
            }
        }
    }
    assert!(ended[0] > 0, "{ended:?}");
}

/// Function timeouts on the stateful Azure deployments, with the Python worker's restart (every
/// invocation dispatched to it ends) and both readings of the timer (from the code's start, from
/// the host's dispatch): every execution still ends exactly once with a breakdown that sums to
/// its latency, the ended executions leave no driver object behind, and the run ends (a restart
/// that left a thread taken or an invocation stranded would hang it or leak). Session 24.
#[test]
fn stateful_invariants_hold_when_python_workers_restart_on_timeouts() {
    let (s, chain) = scenario_and_chain();
    let timeout = sfsim_platform::PlatformError::Timeout("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException");
    let mut timeouts = [0usize; 2];
    for seed in 0..8u64 {
        let mut m = Models::builtin().expect("models");
        m.azure.scaling.max_hosts.value = 2.0;
        m.azure.keep_alive.idle_s.value = 60.0;
        m.azure.function.timeout_s.value = 3.0;
        let from_dispatch = seed % 2;
        m.azure.function.timeout_from_dispatch.value = from_dispatch as f64;
        assert_eq!(m.azure.function.timeout_restarts_worker.value, 1.0);
        let rate = [0.2, 1.0][(seed / 2 % 2) as usize];
        let arrivals = Arrivals::Poisson { rate_per_s: rate };
        for d in [Deployment::AzQueue, Deployment::AzDorch, Deployment::AzDent] {
            let sc = if d == Deployment::AzQueue { &chain } else { &s };
            let cfg = sc.deployment.get(d.name()).cloned().unwrap_or_default();
            let plan = DeploymentPlan::build(d, &m, &cfg, &sc.workflow).expect("plan");
            let n = 60;
            let o = plan.run(&sc.workflow, &arrivals, n, RngStreams::new(seed, 0), false);
            let ctx = format!("{} seed {seed} rate {rate} timer from dispatch {from_dispatch}", d.name());
            assert_records_hold(&ctx, &o, n);
            assert_eq!(o.driver_objects_left, 0, "{ctx}: objects no execution owns");
            timeouts[from_dispatch as usize] +=
                o.executions.iter().filter(|r| r.outcome == (Outcome::Failed { error: timeout.clone() })).count();
        }
    }
    // Both timers timed executions out (the timer from the dispatch more often: it counts waits).
    assert!(timeouts[0] > 0 && timeouts[1] > timeouts[0], "timeouts (from the code, from the dispatch): {timeouts:?}");
}
