//! `function_span_s`: per completed execution, the first workflow function's start to the last
//! one's end (SeBS-Flow's end-to-end), which leaves out the client's start and a Durable
//! orchestrator's first and last episodes.

mod common;

use common::run_json;

#[test]
fn the_function_span_covers_the_functions_and_not_the_start() {
    let sleep = "scenarios/validation/sebs-parallel-sleep.toml";
    let v = run_json(&["run", sleep, "--format", "json", "-q", "--iterations", "60"], &["workflow.fan_out.sleepers.items=2"]);
    for r in v["results"].as_array().expect("results") {
        let name = r["deployment"].as_str().unwrap();
        let span = &r["function_span_s"];
        // Every measured execution completed and has a span (the warm-up burst is left out).
        assert_eq!(span["n"], r["latency_s"]["n"], "{name}");
        // It holds `generate` and a 1 s sleep at least, and is shorter than the whole latency,
        // which adds the start (Durable: the HTTP starter and the first and last episodes).
        let (p50, lat) = (span["p50"].as_f64().unwrap(), r["latency_s"]["p50"].as_f64().unwrap());
        assert!(p50 >= 1.0 && p50 < lat, "{name}: span {p50} s, latency {lat} s");
    }
    // A single function has no workflow functions to span.
    let v = run_json(
        &["run", "scenarios/paper/ml-training-small.toml", "-d", "aws-lambda", "--format", "json", "-q", "--iterations", "5"],
        &[],
    );
    assert!(v["results"][0]["function_span_s"]["p50"].is_null(), "{}", v["results"][0]["function_span_s"]);
}
