//! Object-store reads in a fan-out (SeBS-Flow's 631.parallel-download,
//! scenarios/validation/sebs-parallel-download.toml): each of 20 map branches reads one object,
//! and the time a read adds is the store's latency plus the slower of the network (the size over
//! the platform's bandwidth) and the storage client's CPU at the function's share
//! (crates/platform/src/storage.rs). These pin that contract; the measured spans it misses are
//! in calibration/sebs-flow-download-deviations.toml.

use crate::common;
use sfsim_platform::params::Models;

/// The built-in models under the scenario's profile (2024).
fn models_2024() -> Models {
    let builtin = Models::builtin().expect("built-in models");
    let changes = builtin.profile_changes("2024").expect("profile 2024").expect("parses");
    builtin.with_overrides(&changes).expect("applies")
}

/// The stores' effective read rates, MB/s: S3 from the scenario's 512 MB Lambda, the slower of
/// the network and the client's CPU at the Lambda's share (`[storage] bandwidth_mb_per_s` and
/// `client_cpu_s_per_mb` of models/aws-lambda.toml, its CPU credit and speed), and Blob from an
/// Azure host (one vCPU, which the network paces: models/az-func.toml).
fn read_rates_mb_per_s() -> (f64, f64) {
    let m = models_2024();
    let thread_rate = (512.0 / m.lambda.function.memory_mb_per_vcpu.value).min(1.0) * m.lambda.function.cpu_speed.value;
    let lambda_client = thread_rate / m.lambda.storage.client_cpu_s_per_mb.value;
    let azure_client = 1.0 / m.azure.storage.client_cpu_s_per_mb.value;
    (m.lambda.storage.bandwidth_mb_per_s.value.min(lambda_client), m.azure.storage.bandwidth_mb_per_s.value.min(azure_client))
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
fn a_lambda_map_of_downloads_takes_one_read_at_the_slower_of_network_and_client_cpu_longer() {
    // Each branch is its own Lambda: the span grows by one read of 128 MiB at the slower of
    // S3's bandwidth and boto3's CPU at 512 MB's share (about 3 s, the client's pace; 1.68 s at
    // the network's 80 MB/s); the rest is the same work.
    let read_s = 128.0 / read_rates_mb_per_s().0;
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
    let blob_mb_per_s = read_rates_mb_per_s().1;
    let read_s = |mb: f64| mb / blob_mb_per_s;
    let growth_s = large - mid;
    assert!(growth_s > 5.0 * (read_s(128.0) - read_s(32.0)), "span {mid:.2} s -> {large:.2} s");
    assert!(growth_s < 600.0 * (read_s(128.0) - read_s(32.0)), "span {mid:.2} s -> {large:.2} s");
}

/// Function span median of SeBS 210.thumbnailer's 2.09 MiB download (scenarios/validation/
/// sebs2020-storage.toml) on Lambda at `memory_mb`.
fn lambda_download_p50_s(memory_mb: u32) -> f64 {
    let set = format!("deployment.aws-lambda.memory_mb={memory_mb}");
    let v = common::run_json(&["run", "scenarios/validation/sebs2020-storage.toml", "-d", "aws-lambda", "--format", "json", "-q"], &[&set]);
    v["results"][0]["function_span_s"]["p50"].as_f64().expect("a span median")
}

#[test]
fn a_small_lambdas_download_is_paced_by_its_cpu_share_a_large_ones_by_the_network() {
    // SeBS measured 247, 127, 74 ms at 128, 256, 512 MB and about 58 ms from 1,024 MB up: the
    // client's CPU at the share below 1 GB, the network above. Before session 29 every size read
    // in the same 56 ms.
    let [m128, m256, m1024, m3008] = [128, 256, 1024, 3008].map(lambda_download_p50_s);
    assert!(m128 > 1.6 * m256 && m256 > 1.6 * m1024, "128 MB {m128:.3} s, 256 MB {m256:.3} s, 1,024 MB {m1024:.3} s");
    // The network paces both, so they take the same time (before the overlap was measured from
    // the CPU phase's actual start, Lambda's 20 ms quota let 1,024 MB finish 15 % sooner).
    assert!((m3008 - m1024).abs() < 0.05 * m1024, "the network paces both: 1,024 MB {m1024:.3} s, 3,008 MB {m3008:.3} s");
    assert!((0.17..0.32).contains(&m128), "128 MB: {m128:.3} s against the measured 0.247 s");
}
