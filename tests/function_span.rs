//! `function_span_s`: per completed execution, the first workflow function's start to the last
//! one's end (SeBS-Flow's end-to-end), which leaves out the client's start and a Durable
//! orchestrator's first and last episodes; for a single function, its code's span.

use crate::common;

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
    // A single function spans its own code: the latency without its cold start and queueing
    // (session 16; it had no span before), and no chain gap (there is no hop).
    let v = run_json(
        &[
            "run",
            "scenarios/paper/ml-training-small.toml",
            "-d",
            "aws-lambda",
            "-d",
            "az-func",
            "--format",
            "json",
            "-q",
            "--iterations",
            "5",
        ],
        &[],
    );
    for r in v["results"].as_array().expect("results") {
        let (span, lat) = (&r["function_span_s"], &r["latency_s"]);
        assert_eq!(span["n"], lat["n"], "{r}");
        assert!(span["p50"].as_f64().unwrap() <= lat["p50"].as_f64().unwrap(), "{r}");
        assert!(
            span["max"].as_f64().unwrap() < lat["max"].as_f64().unwrap(),
            "the cold first execution's span leaves out its cold start: {r}"
        );
        assert!(r["chain_gap_s"]["p50"].is_null(), "{}", r["chain_gap_s"]);
    }
}
