//! Question: on Azure Durable Functions in Python, what does one activity that runs past the
//! function timeout do to the other activities on its host?
//!
//! A Consumption host takes up to 10 activities (`maxConcurrentActivityFunctions`) but its
//! Python worker runs them one at a time (PYTHON_THREADPOOL_THREAD_COUNT = 1 before Python 3.9),
//! so the others wait inside the worker. When an invocation times out, the Functions host
//! restarts the out-of-process worker (azure-functions-host PR #5794, #8720), and every
//! invocation dispatched to it fails with the same `FunctionTimeoutException`, the waiting ones
//! included: one slow activity fails its neighbours' orchestrations too. If the timer also
//! counted the wait for the worker's thread, as #8720 describes (sfsim's
//! `function.timeout_from_dispatch`, off by default: calibration/README.md, session 24), long
//! queues alone would time out. A second Python thread does not help CPU-bound activities: the
//! host's one vCPU is shared, so each runs half as fast and more reach the timeout. Taking one
//! activity per host at a time (`maxConcurrentActivityFunctions = 1`, which SeBS-Flow's
//! host.json has commented out) leaves no queue for a restart to empty.
//!
//! This example runs 40 orchestrations, each fanning out 10 activities of about 40 s
//! (lognormal, a long tail past the 5-minute timeout now and then), under each reading, and
//! asserts that the restart and the timer from the dispatch add failures, that a second thread
//! does not remove them, and that one activity per host does.
//!
//! Run: cargo run --release --example python_timeout_restart

use sfsim_experiment::{RunOptions, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{Scenario, SourceFile};

const SCENARIO: &str = r#"
[scenario]
name = "python-timeout-restart"
[arrivals]
kind = "poisson"
rate_per_s = 0.02
[deployment.az-dorch]
timeout_s = 300           # host.json functionTimeout; also the Consumption default
[workflow]
flow = [{ fan_out = "work" }]
[workflow.steps.task]
cpu_s = { dist = "lognormal", median_s = 40, sigma = 0.9 }
memory_mb = 200
[workflow.fan_out.work]
items = 10
body = [{ step = "task" }]
"#;

fn failed(models: &Models) -> (u64, u64) {
    let s = Scenario::from_source(SourceFile::from_text("python-timeout-restart.toml", SCENARIO.to_string()), &[])
        .expect("the example's scenario is valid");
    let r = run_scenario(&s, &[Deployment::AzDorch], models, &RunOptions { iterations: Some(40), ..Default::default() }).expect("runs");
    (r.results[0].failed, r.results[0].completed)
}

fn main() {
    let base = Models::builtin().expect("built-in models");
    // (model, parameter, value): `models/<model>.toml`'s parameter changed.
    let with = |changes: &[(&str, &str, f64)]| {
        let changes: Vec<_> =
            changes.iter().map(|(m, k, v)| (m.to_string(), k.to_string(), sfsim_workflow::ModelValue::Number(*v))).collect();
        base.with_overrides(&changes).expect("a valid override")
    };
    let cases = [
        ("the timeout fails its own invocation only", with(&[("az-func", "function.timeout_restarts_worker", 0.0)])),
        ("it restarts the worker (sfsim's default)", with(&[])),
        ("... and the timer counts the thread wait", with(&[("az-func", "function.timeout_from_dispatch", 1.0)])),
        ("restart, two Python threads per worker", with(&[("az-func", "function.python_thread_pool", 2.0)])),
        ("restart, one activity per host at a time", with(&[("az-durable", "concurrency.max_concurrent_activities_per_host", 1.0)])),
    ];
    println!("{:<45} {:>9} {:>6}", "when a Python activity times out", "completed", "failed");
    let mut f = Vec::new();
    for (what, models) in &cases {
        let (failed, completed) = failed(models);
        println!("{what:<45} {completed:>9} {failed:>6}");
        f.push(failed);
    }
    assert!(f[0] > 0, "some activities run past the timeout on their own: {f:?}");
    assert!(f[1] > f[0], "the worker's restart fails the activities queued behind a slow one: {f:?}");
    assert!(f[2] > f[1], "a timer that counts the wait for the thread fails more: {f:?}");
    assert!(f[3] as f64 >= 0.9 * f[1] as f64, "a second thread on one vCPU slows every activity: it removes no failures: {f:?}");
    assert!(f[4] < f[1], "one activity per host leaves no queue for a restart to empty: {f:?}");
}
