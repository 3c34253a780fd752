//! Object-store reads in a fan-out (SeBS-Flow's 631.parallel-download,
//! scenarios/validation/sebs-parallel-download.toml): each of 20 map branches reads one object,
//! and the time a read adds is the store's latency plus the size over the platform's bandwidth
//! (crates/platform/src/storage.rs). These pin that contract; the measured spans it misses are
//! in calibration/sebs-flow-download-deviations.toml.

use crate::common;
use sfsim_platform::params::Models;

/// The stores' bandwidths, MB/s, under the scenario's profile (2024): S3 from Lambda, Blob from
/// an Azure host (`[storage] bandwidth_mb_per_s` of models/aws-lambda.toml and az-func.toml).
fn bandwidths_mb_per_s() -> (f64, f64) {
    let builtin = Models::builtin().expect("built-in models");
    let changes = builtin.profile_changes("2024").expect("profile 2024").expect("parses");
    let m = builtin.with_overrides(&changes).expect("applies");
    (m.lambda.storage.bandwidth_mb_per_s.value, m.azure.storage.bandwidth_mb_per_s.value)
}

/// Span median (first function's start to last end) of `deployment` reading `size_mb`.
fn span_p50_s(deployment: &str, size_mb: f64) -> f64 {
    let set = format!("workflow.steps.process.reads=[{{ object = \"data\", size_mb = {size_mb} }}]");
    let v =
        common::run_json(&["run", "scenarios/validation/sebs-parallel-download.toml", "-d", deployment, "--format", "json", "-q"], &[&set]);
    let r = &v["results"][0];
    assert_eq!(r["failed"], 0, "{deployment} at {size_mb} MB: no execution fails");
    r["function_span_s"]["p50"].as_f64().expect("a span median")
}

#[test]
fn a_lambda_map_of_downloads_takes_the_object_over_s3_bandwidth_longer() {
    // Each branch is its own Lambda: the span grows by one read of 128 MiB at S3's bandwidth
    // (1.68 s at 80 MB/s); the rest is the same work.
    let read_s = 128.0 / bandwidths_mb_per_s().0;
    let small = span_p50_s("aws-step", 1.0 / 1024.0);
    let large = span_p50_s("aws-step", 128.0);
    let growth_s = large - small;
    assert!((growth_s - read_s).abs() < 0.1 * read_s, "span {small:.3} s -> {large:.3} s: grew {growth_s:.3} s, one read {read_s:.3} s");
}

#[test]
fn durable_downloads_queue_on_the_hosts_python_thread() {
    // 600 activities per batch on a handful of hosts, one at a time per host: a read 64 times
    // longer lengthens the span by far more than one read, and by less than all 600 in a row.
    let mid = span_p50_s("az-dorch", 32.0);
    let large = span_p50_s("az-dorch", 128.0);
    let blob_mb_per_s = bandwidths_mb_per_s().1;
    let read_s = |mb: f64| mb / blob_mb_per_s;
    let growth_s = large - mid;
    assert!(growth_s > 5.0 * (read_s(128.0) - read_s(32.0)), "span {mid:.2} s -> {large:.2} s");
    assert!(growth_s < 600.0 * (read_s(128.0) - read_s(32.0)), "span {mid:.2} s -> {large:.2} s");
}
