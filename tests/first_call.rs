//! A step's `first_call_cpu_s`: the CPU its function's code spends on its first call on an
//! instance, inside the call (the imports and SDK clients a handler makes when it is first
//! called, as SeBS's wrappers do: calibration/README.md, session 29). These pin what a user relies
//! on: it is paid once per (instance, function), at the instance's CPU share, inside the
//! function's span, and later calls do not pay it.

use crate::common;

/// Function spans (sum and median, s) of 40 calls in a row of SeBS 210.thumbnailer's download
/// (scenarios/validation/sebs2020-storage.toml) on `deployment`, with `extra` settings.
fn spans(deployment: &str, extra: &[&str]) -> (f64, f64) {
    let v = common::run_json(&["run", "scenarios/validation/sebs2020-storage.toml", "-d", deployment, "--format", "json", "-q"], extra);
    let s = &v["results"][0]["function_span_s"];
    let n = s["n"].as_f64().expect("a count");
    (s["mean"].as_f64().expect("a mean") * n, s["p50"].as_f64().expect("a median"))
}

#[test]
fn a_lambdas_first_call_pays_its_imports_once_at_its_cpu_share() {
    for memory_mb in [512.0_f64, 1024.0] {
        let mem = format!("deployment.aws-lambda.memory_mb={memory_mb}");
        let (base_sum, base_p50) = spans("aws-lambda", &[&mem]);
        let (sum, p50) = spans("aws-lambda", &[&mem, "workflow.steps.download.first_call_cpu_s=0.47"]);
        // One call of 40 (the first, on the one sandbox the sequential calls reuse) runs 0.47
        // reference-core s at the share (memory / 1,769 MB) of a 2020 Lambda core (1.49).
        let expected_s = 0.47 / (memory_mb / 1769.0 * 1.49);
        let extra_s = sum - base_sum;
        assert!(
            (extra_s - expected_s).abs() < 0.05 * expected_s,
            "{memory_mb} MB: {extra_s:.3} s more in all, one first call {expected_s:.3} s"
        );
        // (The later calls start later, so the 20 ms CPU quota periods fall differently on them.)
        assert!((p50 - base_p50).abs() < 0.05 * base_p50, "{memory_mb} MB: the warm calls do not pay it ({base_p50} -> {p50})");
    }
}

#[test]
fn an_azure_host_pays_each_functions_first_call_once() {
    // Two functions on one host (the same download twice in the flow, the second a step of its
    // own): each pays its imports on its first call, at the host's one core.
    let two = [
        "workflow.flow=[{ step = \"download\" }, { step = \"again\" }]",
        "workflow.steps.again={ cpu_s = { dist = \"fixed\", value_s = 0.0 }, memory_mb = 90, first_call_cpu_s = 0.3 }",
    ];
    let (base_sum, _) = spans("az-func", &two);
    let with: Vec<&str> = two.iter().copied().chain(["workflow.steps.download.first_call_cpu_s=0.47"]).collect();
    let (sum, _) = spans("az-func", &with);
    // The base already pays `again`'s 0.3 s once; the download's 0.47 s is paid once more.
    let extra_s = sum - base_sum;
    assert!((extra_s - 0.47).abs() < 0.03, "{extra_s:.3} s more in all against one first call of 0.47 s");
    let (none_sum, _) = spans("az-func", &[two[0], "workflow.steps.again={ cpu_s = { dist = \"fixed\", value_s = 0.0 }, memory_mb = 90 }"]);
    assert!((base_sum - none_sum - 0.3).abs() < 0.03, "the second function's first call: {:.3} s", base_sum - none_sum);
}
