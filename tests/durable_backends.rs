//! Durable backends and runtimes as a user relies on them: push delivery without backoff
//! latency, partition ranges per backend, storage transactions per backend, and the study-era
//! defaults (Azure Storage, Python) unchanged.

mod common;

use common::{run_json, sfsim};

const HELLO: &str = "scenarios/validation/hello-cities-5.toml";

/// One orchestration a minute: an idle app between them.
const IDLE: [&str; 3] = ["scenario.iterations=6", "arrivals.size=1", "arrivals.interval_s=60"];

fn result(backend: &str, extra: &[&str]) -> serde_json::Value {
    let set = format!("deployment.az-dorch.backend={backend}");
    let mut sets: Vec<&str> = extra.to_vec();
    sets.push(&set);
    run_json(&["run", HELLO, "--format", "json"], &sets)["results"][0].clone()
}

#[test]
fn netherite_delivers_without_the_idle_polling_latency_of_azure_storage() {
    let az = result("azure-storage", &IDLE)["chain_gap_s"]["p50"].as_f64().unwrap();
    let ne = result("netherite", &IDLE)["chain_gap_s"]["p50"].as_f64().unwrap();
    // Netherite: two Event Hubs hops (about 10 ms each) and an episode; Azure Storage: the
    // pollers have backed off during the idle minute, so hops wait for the next poll.
    assert!(ne < 0.1, "netherite per-hop gap {ne} s");
    assert!(az > 3.0 * ne, "azure-storage per-hop gap {az} s against netherite {ne} s");
}

#[test]
fn storage_transactions_follow_the_backend() {
    let az = &result("azure-storage", &["scenario.iterations=200", "arrivals.size=200"])["transactions"];
    let ne = &result("netherite", &["scenario.iterations=200", "arrivals.size=200"])["transactions"];
    let ms = &result("mssql", &["scenario.iterations=200", "arrivals.size=200"])["transactions"];
    // Azure Storage: 11 messages, each a put, a get share and a delete, and two table
    // operations per episode (6 episodes) plus the client's Instances row.
    assert!(az["queue"].as_f64().unwrap() > 20.0, "{az}");
    assert!((az["table"].as_f64().unwrap() - 19.0).abs() < 0.5, "{az}");
    // Netherite: no storage queues, no history table; batched page-blob commits and leases.
    assert_eq!(ne["queue"].as_f64().unwrap(), 0.0, "{ne}");
    assert!(ne["blob"].as_f64().unwrap() > 0.0 && ne["blob"].as_f64().unwrap() < 6.0, "{ne}");
    // MSSQL: the database is billed by capacity, not per operation.
    assert_eq!(ms["queue"].as_f64().unwrap(), 0.0, "{ms}");
    assert_eq!(ms["blob"].as_f64().unwrap(), 0.0, "{ms}");
}

#[test]
fn partitions_are_checked_against_the_backend() {
    let run = |sets: &[&str]| {
        let mut args = vec!["run", HELLO];
        for s in sets {
            args.extend(["--set", s]);
        }
        sfsim(&args)
    };
    let o = run(&["deployment.az-dorch.partitions=20"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("deployment.az-dorch.partitions") && err.contains("1-16"), "{err}");
    let o =
        run(&["deployment.az-dorch.backend=netherite", "deployment.az-dorch.partitions=20", "scenario.iterations=10", "arrivals.size=10"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["deployment.az-dorch.backend=netherite", "deployment.az-dorch.partitions=33"]);
    assert_eq!(o.status.code(), Some(3));
    let o = run(&["deployment.az-dorch.backend=mssql", "deployment.az-dorch.partitions=4"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no partitions"));
    let o = sfsim(&[
        "run",
        "scenarios/paper/ml-training-large.toml",
        "--deployment",
        "az-func",
        "--set",
        "deployment.az-func.backend=netherite",
    ]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn the_defaults_are_the_study_eras_azure_storage_and_python() {
    let base = ["scenario.iterations=20", "arrivals.size=20"];
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("scenario_hash");
        v
    };
    let explicit = run_json(
        &["run", "scenarios/paper/ml-training-large.toml", "--deployment", "az-dorch", "--format", "json"],
        &["deployment.az-dorch.backend=azure-storage", "deployment.az-dorch.runtime=python"],
    );
    let default = run_json(&["run", "scenarios/paper/ml-training-large.toml", "--deployment", "az-dorch", "--format", "json"], &[]);
    assert_eq!(strip(explicit)["results"], strip(default)["results"]);
    // .NET episodes are far cheaper than Python's: more orchestrations per second on one host.
    let py = result("azure-storage", &[&base[..], &["deployment.az-dorch.runtime=python"]].concat());
    let net = result("azure-storage", &base);
    assert!(net["latency_s"]["p50"].as_f64().unwrap() < py["latency_s"]["p50"].as_f64().unwrap());
}
