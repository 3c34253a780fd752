//! Azure hosting plans, instance sizes and runtimes per deployment (`[deployment.<name>] plan`,
//! `instance_memory_mb`, `sku`, `always_ready`, `max_instances`, `http_concurrency`, `runtime`,
//! `python_threads`), and Lambda's 10,240 MB under the 2026 profile: what a user relies on,
//! through the binary, with hand-computed values.

use crate::common;
use common::sfsim;

const PLANS: &str = "scenarios/examples/hosting-plans.toml";

/// Flex 2,048 MB (1 vCPU) with one always-ready instance taking 4 executions at once.
const FLEX: [&str; 2] = ["deployment.az-func.always_ready=1", "deployment.az-func.http_concurrency=4"];

fn with(base: &[&'static str], sets: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(sets).copied().collect()
}

/// Hand-computed times: Azure's CPU-time spread between invocations off.
const NO_NOISE: &str = "models.az-func.function.cpu_noise_sigma=0";

fn run(sets: &[&str]) -> serde_json::Value {
    let sets: Vec<&str> = sets.iter().copied().chain([NO_NOISE]).collect();
    let v = common::run_json(&["run", PLANS, "--format", "json", "-q"], &sets);
    v["results"][0].clone()
}

fn latencies(sets: &[&str]) -> Vec<f64> {
    let dir = common::TempDir::new("plans");
    let file = dir.join(format!("{}.jsonl", sets.join(",").replace(['/', '='], "_")));
    let f = file.to_str().unwrap();
    let mut args = vec!["run", PLANS, "-q", "--executions", f, "--set", NO_NOISE];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = sfsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut l: Vec<f64> = text
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["end_s"].as_f64().unwrap() - v["arrival_s"].as_f64().unwrap()
        })
        .collect();
    l.sort_by(f64::total_cmp);
    l
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn one_python_thread_runs_the_burst_one_after_another_and_dotnet_runs_it_at_once() {
    // Flex 2,048 MB = 1 vCPU, 4 executions per instance, one always-ready instance: 4 requests
    // of 1 CPU-second each. Python with one thread: they end at 1, 2, 3, 4 s.
    let py = latencies(&with(&FLEX, &["deployment.az-func.python_threads=1"]));
    for (k, l) in py.iter().enumerate() {
        assert!(close(*l, (k + 1) as f64, 1e-6), "{py:?}");
    }
    // .NET: no worker-thread limit, the 4 share the one vCPU and all end at 4 s.
    let net = latencies(&with(&FLEX, &["deployment.az-func.runtime=\"dotnet\""]));
    assert!(net.iter().all(|l| close(*l, 4.0, 1e-6)), "{net:?}");
}

#[test]
fn four_python_threads_run_four_executions_on_one_host_sharing_its_cpu() {
    // 4 threads on 1 vCPU: processor sharing, every execution ends at 4 s, on one instance.
    let four = with(&FLEX, &["deployment.az-func.python_threads=4"]);
    let l = latencies(&four);
    assert!(l.iter().all(|x| close(*x, 4.0, 1e-6)), "{l:?}");
    assert_eq!(run(&four)["instances_peak"], 1);
    // The instance's CPU follows its size: 4,096 MB = 2 vCPUs, so 2 s each.
    let l = latencies(&with(&four, &["deployment.az-func.instance_memory_mb=4096"]));
    assert!(l.iter().all(|x| close(*x, 2.0, 1e-6)), "{l:?}");
    // Premium EP3 has 4 vCPUs: each execution's one thread runs at full speed, 1 s.
    let ep3 = [
        "deployment.az-func.plan=\"premium\"",
        "deployment.az-func.sku=\"EP3\"",
        "deployment.az-func.http_concurrency=4",
        "deployment.az-func.python_threads=4",
    ];
    let l = latencies(&ep3);
    assert!(l.iter().all(|x| close(*x, 1.0, 1e-6)), "{l:?}");
    // EP2 (2 vCPUs): 2 s.
    let l = latencies(&with(&ep3, &["deployment.az-func.sku=\"EP2\""]));
    assert!(l.iter().all(|x| close(*x, 2.0, 1e-6)), "{l:?}");
}

#[test]
fn flex_per_instance_concurrency_caps_executions_per_instance() {
    // 4 requests at once, 2 per instance: two instances (one always ready, one on demand).
    let r = run(&["deployment.az-func.always_ready=1", "deployment.az-func.http_concurrency=2", "deployment.az-func.python_threads=2"]);
    assert_eq!(r["instances_peak"], 2);
    assert_eq!(r["cold_starts"], 2, "the two requests on the on-demand instance start cold");
    // One per instance (the Python default on Flex): four instances.
    assert_eq!(run(&[])["instances_peak"], 4);
    // The instance cap holds: at most 2 instances, the rest waits.
    assert_eq!(run(&["deployment.az-func.max_instances=2"])["instances_peak"], 2);
}

#[test]
fn always_ready_instances_give_no_cold_start_on_the_first_request() {
    let one = "scenario.iterations=1";
    assert_eq!(run(&[one])["cold_starts"], 1);
    assert_eq!(run(&[one, "deployment.az-func.always_ready=1"])["cold_starts"], 0);
    // Premium's always-ready instance (one by default) is warm too; a second request at once
    // gets a new instance from the pre-warmed buffer: 0.17 s median, not the package load.
    assert_eq!(run(&[one, "deployment.az-func.plan=\"premium\""])["cold_starts"], 0);
    let r = run(&["scenario.iterations=2", "deployment.az-func.plan=\"premium\"", "deployment.az-func.package_mb=300"]);
    assert_eq!(r["cold_starts"], 1);
    assert!(r["cold_start_s"]["mean"].as_f64().unwrap() < 1.0, "{r}");
}

#[test]
fn flex_bills_instance_memory_while_executing_plus_an_always_ready_baseline() {
    // One thread: the always-ready instance executes for 4 s without a gap: 4 s x 2 GB = 8 GB-s
    // at the always-ready rate ($0.000016), $0.40 per million executions, and a baseline of
    // 4 s x 2 GB x $0.000004 over the run; per execution (4 of them).
    let r = run(&with(&FLEX, &["deployment.az-func.python_threads=1"]));
    let c = &r["cost_usd"];
    assert!(close(r["gb_s"].as_f64().unwrap(), 2.0, 1e-9), "{r}");
    assert!(close(c["compute"].as_f64().unwrap(), 2.0 * 0.000016, 1e-15), "{c}");
    assert!(close(c["requests"].as_f64().unwrap(), 0.0000004, 1e-15), "{c}");
    assert!(close(c["instances"].as_f64().unwrap(), 4.0 * 2.0 * 0.000004 / 4.0, 1e-15), "{c}");
    // On demand, one execution per instance: each of 4 instances executes 1 s x 2 GB at the
    // on-demand rate; no baseline.
    let r = run(&[]);
    let c = &r["cost_usd"];
    assert!(close(c["compute"].as_f64().unwrap(), 2.0 * 0.000026, 1e-15), "{c}");
    assert!(c.get("instances").is_none(), "{c}");
    // A 0.3 s execution is billed the 1,000 ms minimum period.
    let r = run(&["workflow.steps.work.cpu_s={ dist = \"fixed\", value_s = 0.3 }"]);
    assert!(close(r["gb_s"].as_f64().unwrap(), 2.0, 1e-9), "{r}");
    // Flex bills the instance's memory; Consumption the observed memory (the step's 100 MB and
    // the worker's 64 MB, rounded up to 256 MB) over the same second.
    let cons = run(&["deployment.az-func.plan=\"consumption\""]);
    assert!(close(cons["gb_s"].as_f64().unwrap(), 0.25, 1e-9), "{cons}");
}

#[test]
fn a_premium_app_bills_its_idle_instance_for_the_whole_period() {
    // One request a day for 30 days on EP1 (1 vCPU, 3.5 GB): the always-ready instance bills
    // 720 h x ($0.173 + 3.5 x $0.0123) whether it runs anything or not; no execution charge.
    let o = sfsim(&[
        "cost",
        PLANS,
        "--rate",
        "1/d",
        "--period",
        "30d",
        "--format",
        "json",
        "-q",
        "--set",
        "deployment.az-func.plan=\"premium\"",
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{e}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let b = &v["bills"][0];
    let c = &b["cost_usd"];
    let expected = 720.0 * (0.173 + 3.5 * 0.0123);
    let got = c["instances"].as_f64().unwrap();
    assert!((got / expected - 1.0).abs() < 1e-5, "{got} vs {expected}");
    assert_eq!(c["compute"].as_f64().unwrap(), 0.0);
    assert_eq!(c["requests"].as_f64().unwrap(), 0.0);
}

#[test]
fn lambda_takes_10240_mb_and_its_cpu_share_under_the_2026_profile() {
    let lambda = |sets: &[&str]| {
        let mut args =
            vec!["run", "scenarios/paper/ml-training-small.toml", "-d", "aws-lambda", "--iterations", "1", "-q", "--format", "json"];
        for s in sets {
            args.extend(["--set", s]);
        }
        sfsim(&args)
    };
    // The study's era: at most 3,008 MB.
    let o = lambda(&["deployment.aws-lambda.memory_mb=10240"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("deployment.aws-lambda.memory_mb"));
    // 2026: up to 10,240 MB, and not above.
    assert!(lambda(&["scenario.profile=2026", "deployment.aws-lambda.memory_mb=10240"]).status.success());
    assert_eq!(lambda(&["scenario.profile=2026", "deployment.aws-lambda.memory_mb=10241"]).status.code(), Some(3));
    // Its CPU share: 10,240 / 1,769 = 5.79 vCPUs, used by a workload of 6 threads.
    let o = sfsim(&[
        "run",
        PLANS,
        "-d",
        "aws-lambda",
        "-q",
        "--format",
        "json",
        "--set",
        "scenario.profile=2026",
        "--set",
        "scenario.iterations=1",
        "--set",
        "deployment.aws-lambda.memory_mb=10240",
        "--set",
        "workflow.steps.work.cpu_s={ dist = \"fixed\", value_s = 6.0 }",
        "--set",
        "models.aws-lambda.function.worker_threads=6",
        "--set",
        "models.aws-lambda.cold_start.runtime_s_median=0",
        // The share as a steady rate (six threads against 5.79 vCPUs of quota would finish
        // within one CFS period of it).
        "--set",
        "models.aws-lambda.function.cpu_period_ms=0",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let exec = v["results"][0]["executed_s"].as_f64().unwrap();
    assert!(close(exec, 6.0 * 1769.0 / 10240.0, 1e-6), "{exec}");
}

#[test]
fn bad_plan_settings_are_input_errors_at_their_key() {
    let bad = |set: &str, key: &str, why: &str| {
        let o = sfsim(&["run", PLANS, "-q", "--set", set]);
        assert_eq!(o.status.code(), Some(3), "{set}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("hosting-plans.toml:") && e.contains(key) && e.contains(why), "{set}: {e}");
    };
    bad("deployment.az-func.instance_memory_mb=1000", "deployment.az-func.instance_memory_mb", "512, 2048 or 4096");
    bad("deployment.az-func.sku=\"EP2\"", "deployment.az-func.sku", "premium");
    bad("deployment.az-func.plan=\"turbo\"", "deployment.az-func.plan", "consumption");
    bad("deployment.az-func.max_instances=5000", "deployment.az-func.max_instances", "1-1000");
    bad("deployment.az-func.http_concurrency=0", "deployment.az-func.http_concurrency", "1-64");
    bad("deployment.az-func.always_ready=500", "deployment.az-func.always_ready", "exceed");
    let o = sfsim(&["run", PLANS, "-q", "-d", "aws-lambda", "--set", "deployment.aws-lambda.plan=\"flex\""]);
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("deployment.aws-lambda.plan") && e.contains("Azure deployments only"), "{e}");
}

/// Consumption's function timeout is at most the model's `function.timeout_s` (600 s, the
/// documented maximum; functions-timeout-duration): a scenario's `timeout_s` above it is an input
/// error at its key and position. Flex and Premium have no maximum.
#[test]
fn only_consumption_bounds_the_function_timeout() {
    let dir = common::TempDir::new("timeout");
    let file = |plan: &str, timeout_s: u32| {
        let text = std::fs::read_to_string(PLANS).unwrap().replace(
            "plan = \"flex\"              # \"consumption\" (default), \"flex\" or \"premium\"",
            &format!("plan = \"{plan}\"\ntimeout_s = {timeout_s}"),
        );
        let line = text.lines().position(|l| l.starts_with("timeout_s")).expect("timeout line") + 1;
        let path = dir.join(format!("{plan}-{timeout_s}.toml"));
        std::fs::write(&path, text).unwrap();
        (path.to_string_lossy().into_owned(), line)
    };
    let (path, line) = file("consumption", 601);
    let o = sfsim(&["validate", &path]);
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(&format!("{path}:{line}:13: key `deployment.az-func.timeout_s`")) && e.contains("at most 600 s"), "{e}");
    for (plan, timeout_s) in [("consumption", 600), ("flex", 86_400), ("premium", 86_400)] {
        let (path, _) = file(plan, timeout_s);
        let o = sfsim(&["validate", &path]);
        assert!(o.status.success(), "{plan} {timeout_s}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn a_dotnet_premium_host_serves_http_requests_concurrently() {
    // A .NET host runs HTTP functions on its own thread pool (host.json maxConcurrentRequests,
    // 100 by default on Consumption and Premium): the same 4 requests on one always-ready EP1
    // (1 vCPU) share it and all end at 4 s, on the one instance. Python with one execution per
    // instance runs them on more instances instead.
    let premium = ["deployment.az-func.plan=\"premium\"", "deployment.az-func.always_ready=1", "deployment.az-func.max_instances=1"];
    let net = with(&premium, &["deployment.az-func.runtime=\"dotnet\""]);
    let l = latencies(&net);
    assert!(l.iter().all(|x| close(*x, 4.0, 1e-6)), "{l:?}");
    assert_eq!(run(&net)["instances_peak"], 1);
}
