//! The study's video workload as the study describes it (paper.md "Workflow 2"): chunks sized by
//! each deployment's payload limit and dealt to the N workers, the function timeout as a
//! deployment setting (the study's 30 minutes on Azure, Table I, from its profile iiswc21), and
//! Azure's memory meter with the host's per-instant buckets. Through the binary, on
//! scenarios/paper/video.toml.

use crate::common;
use common::{run_json, sfsim};

const VIDEO: &str = "scenarios/paper/video.toml";

fn results(deployments: &[&str], sets: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["run", VIDEO, "--format", "json", "-q", "--iterations", "3"];
    for d in deployments {
        args.extend(["-d", d]);
    }
    let v = run_json(&args, sets);
    v["results"].as_array().expect("results").clone()
}

/// 160 workers over AWS's 400 chunks: 80 workers take 3 chunks and 80 take 2, so the slowest
/// Map iteration does 3/400 of the detection (2.7 s of 360 CPU-s) instead of 1/160 (2.25 s).
#[test]
fn workers_take_their_chunks_of_the_payload_limit() {
    // Lambda's cores at the reference core's speed on the detector's vectorized code (the study
    // era's rating, 1.05, is tests/cpu_classes.rs's): a chunk's detection takes 360 / 400 s.
    let sets = [
        "workflow.fan_out.workers.items=160",
        "workflow.steps.detect.cpu_s={ dist = \"fixed\", value_s = 360 }",
        "models.aws-lambda.function.vector_speed=1",
    ];
    let r = results(&["aws-step"], &sets);
    let wl = &r[0]["worker_latency_s"];
    assert_eq!(wl["n"].as_u64(), Some(3 * 160));
    // The fastest iteration runs 2 chunks (1.8 s of detection), the slowest 3 (2.7 s).
    let (min, max) = (wl["min"].as_f64().unwrap(), wl["max"].as_f64().unwrap());
    assert!((1.8..2.7).contains(&min), "fastest worker {min} s");
    assert!(max >= 2.7, "slowest worker {max} s");
    // A 2 KB input is one chunk: one worker runs, with all the detection.
    let mut one_chunk = sets.to_vec();
    one_chunk.push("workflow.fan_out.workers.chunks_of_kb=2");
    let r = results(&["aws-step"], &one_chunk);
    assert_eq!(r[0]["worker_latency_s"]["n"].as_u64(), Some(3));
    assert!(r[0]["worker_latency_s"]["min"].as_f64().unwrap() >= 360.0);
}

/// A chunk size is at least one byte and at most the largest size a scenario takes: a size
/// that rounds to 0 bytes was one chunk, silently; each is refused at its key (exit 3).
#[test]
fn a_chunk_size_below_a_byte_or_above_the_maximum_is_refused_at_its_key() {
    for (kb, says) in [("0.0001", "at least 1 byte"), ("0", "(0, "), ("1e300", "(0, "), ("-5", "(0, ")] {
        let o = sfsim(&["run", VIDEO, "-d", "aws-step", "-q", "--set", &format!("workflow.fan_out.workers.chunks_of_kb={kb}")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{kb}: {err}");
        assert!(err.contains("key `workflow.fan_out.workers.chunks_of_kb`") && err.contains(says), "{kb}: {err}");
    }
}

/// `timeout_s` is the function timeout: Azure's host.json `functionTimeout` (the models keep
/// Consumption's documented 10 minutes; the study's profile iiswc21, which video.toml picks,
/// gives its 30, paper.md Table I), Lambda's configured timeout up to its 15 minutes.
#[test]
fn the_function_timeout_is_a_deployment_setting() {
    // 700 CPU-s of detection in one Azure function: beyond 10 minutes, within the profile's 30.
    let work = "workflow.steps.detect.cpu_s={ dist = \"fixed\", value_s = 700 }";
    let r = results(&["az-func"], &[work]);
    assert_eq!(r[0]["completed"].as_u64(), Some(3), "{}", r[0]);
    let r = results(&["az-func"], &[work, "deployment.az-func.timeout_s=600"]);
    assert_eq!(r[0]["failed"].as_u64(), Some(3), "{}", r[0]);
    assert!(r[0]["errors"].to_string().contains("FunctionTimeoutException"), "{}", r[0]["errors"]);
    // The profile's 30 minutes are Consumption's maximum here: a longer timeout is refused at
    // its key, so the 700 s above completed within the profile's limit, not a scenario's.
    let o = sfsim(&["run", VIDEO, "-d", "az-func", "--set", "deployment.az-func.timeout_s=1801", "-q"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("deployment.az-func.timeout_s") && err.contains("at most 1800 s"), "{err}");
    // Lambda refuses a timeout over its 900 s at the key.
    let o = sfsim(&["run", VIDEO, "-d", "aws-lambda", "--set", "deployment.aws-lambda.timeout_s=1000", "-q"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("deployment.aws-lambda.timeout_s") && err.contains("900"), "{err}");
}

/// The host meters each active execution (memory / active count) rounded up to 128 MB at every
/// instant: one execution alone bills each phase's memory rounded (split 64 + 600 MB -> 768,
/// detector 64 + 500 MB -> 640); the average reading rounds the execution's average once
/// (about 614 MB -> 640 over the whole execution).
#[test]
fn the_meter_buckets_each_instant() {
    let one = [
        "workflow.fan_out.workers.items=1",
        "workflow.steps.split.cpu_s={ dist = \"fixed\", value_s = 50 }",
        "workflow.steps.merge.cpu_s={ dist = \"fixed\", value_s = 0.001 }",
        "workflow.steps.detect.cpu_s={ dist = \"fixed\", value_s = 50 }",
        "models.az-func.function.cpu_noise_sigma=0",
        "models.az-func.storage.bandwidth_mb_per_s=60",
    ];
    let gb_s = |extra: &[&str]| {
        let sets: Vec<&str> = one.iter().chain(extra).copied().collect();
        results(&["az-func"], &sets)[0]["gb_s"].as_f64().unwrap()
    };
    let (buckets, average) = (gb_s(&[]), gb_s(&["models.az-func.billing.meter_instant_buckets=0"]));
    // 50 s x 768 MB + 50 s x 640 MB = 68.75 GB-s against 100 s x 640 MB = 62.5 GB-s (plus the
    // 100 MB read and written at 60 MB/s, set here, about 3.4 s at 768 MB).
    assert!((68.75..72.0).contains(&buckets), "{buckets}");
    assert!((62.5..65.5).contains(&average), "{average}");
}

/// A fan-out wider than its chunk count starts only as many workers as there are chunks; `run`
/// says so on stderr (even with -q), per deployment, and says nothing when every worker runs.
#[test]
fn run_notes_a_fan_out_wider_than_its_chunks() {
    let o = sfsim(&[
        "run",
        "scenarios/paper/video.toml",
        "--set",
        "workflow.fan_out.workers.items=1000",
        "--iterations",
        "1",
        "-d",
        "aws-step",
        "-d",
        "az-dorch",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("aws-step: fan-out `workers` cuts its input into 400 chunks of 256 KiB") && e.contains("400 of its 1000 workers run"),
        "{e}"
    );
    assert!(!e.contains("az-dorch"), "1,600 chunks of 64 KiB: every Azure worker runs: {e}");
    let o = sfsim(&["run", "scenarios/paper/video.toml", "--iterations", "1", "-d", "aws-step", "-q"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("note:"), "20 workers, 400 chunks: no note");
}

/// The JSON results carry, per deployment, each chunked fan-out's chunks and the workers it
/// asks for and starts (`fan_out_chunks`), `null` for a workflow without chunks; the workers
/// started are those the simulation ran.
#[test]
fn the_results_record_the_workers_a_chunked_fan_out_starts() {
    let r = results(&["aws-step", "az-dorch"], &["workflow.fan_out.workers.items=1000"]);
    let chunks = |d: usize| r[d]["fan_out_chunks"].as_array().unwrap_or_else(|| panic!("{}", r[d]))[0].clone();
    let aws = chunks(0);
    assert_eq!(aws["fan_out"], "workers");
    assert_eq!(aws["chunk_bytes"].as_u64(), Some(256 * 1024));
    assert_eq!(aws["chunks"].as_u64(), Some(400));
    assert_eq!(aws["workers_requested"].as_u64(), Some(1000));
    assert_eq!(aws["workers_started"].as_u64(), Some(400));
    assert_eq!(r[0]["worker_latency_s"]["n"].as_u64(), Some(3 * 400), "3 executions x the workers started");
    let az = chunks(1);
    assert_eq!((az["chunk_bytes"].as_u64(), az["chunks"].as_u64()), (Some(64 * 1024), Some(1600)));
    assert_eq!((az["workers_requested"].as_u64(), az["workers_started"].as_u64()), (Some(1000), Some(1000)));
    // No fan-out with chunks: null, present.
    let v =
        run_json(&["run", "scenarios/paper/ml-training-small.toml", "-d", "aws-step", "--format", "json", "-q", "--iterations", "2"], &[]);
    assert!(v["results"][0].get("fan_out_chunks").is_some_and(serde_json::Value::is_null), "{}", v["results"][0]);
}

fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("video-chunks-{name}"))
}

/// `sweep` and `reproduce` say once per deployment and fan-out (even with -q) that a fan-out
/// starts fewer workers than it asks for, with the widths asked for; a sweep's trial lines
/// carry `fan_out_chunks` in their summary.
#[test]
fn sweep_and_reproduce_note_a_fan_out_wider_than_its_chunks_once() {
    let dir = tmpdir("notes");
    let video = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VIDEO);
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        format!(
            "[sweep]\nname = \"w\"\nscenario = {:?}\nreplications = 2\niterations = 1\ndeployments = [\"aws-step\", \"az-dorch\"]\n\
             [[sweep.axis]]\nkey = \"workflow.fan_out.workers.items\"\nvalues = [20, 1000, 2000]\n",
            video.to_string_lossy()
        ),
    )
    .expect("write");
    let o = sfsim(&["sweep", &sweep.to_string_lossy(), "-q"]);
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{e}");
    let notes: Vec<&str> = e.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 2, "one note per deployment and fan-out: {e}");
    assert!(notes[0].contains("aws-step: fan-out `workers`") && notes[0].contains("400 workers run where 1000, 2000 are asked for"), "{e}");
    assert!(notes[0].contains("in 4 trial(s)"), "{e}");
    assert!(notes[1].contains("az-dorch") && notes[1].contains("1600 workers run where 2000 are asked for"), "{e}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line: serde_json::Value = out
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|l| l["params"]["workflow.fan_out.workers.items"] == "1000" && l["deployment"] == "aws-step")
        .expect("a trial of 1000 workers on aws-step");
    assert_eq!(line["summary"]["fan_out_chunks"][0]["workers_started"].as_u64(), Some(400), "{line}");
    // reproduce: an experiment sweeping the width, a target on it.
    std::fs::write(
        dir.join("exps.toml"),
        format!(
            "[[experiment]]\nid = \"wide\"\nscenario = {:?}\niterations = 2\ndeployments = [\"aws-step\"]\n\
             sweep = {{ key = \"workflow.fan_out.workers.items\", values = [\"20\", \"1000\"] }}\n",
            video.to_string_lossy()
        ),
    )
    .expect("write");
    let targets = dir.join("t.toml");
    std::fs::write(
        &targets,
        "experiments = \"exps.toml\"\n[[target]]\nid = \"t\"\nsource = \"test\"\nexperiment = \"wide\"\nkind = \"range\"\n\
         metric = \"latency_mean\"\ndeployment = \"aws-step\"\nlow = 0.0\nhigh = 1e9\n",
    )
    .expect("write");
    let out = dir.join("report");
    let o = sfsim(&["reproduce", "--targets", &targets.to_string_lossy(), "--out", &out.to_string_lossy(), "-q"]);
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{e}");
    let notes: Vec<&str> = e.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 1, "{e}");
    assert!(notes[0].contains("aws-step: fan-out `workers`") && notes[0].contains("400 workers run where 1000 are asked for"), "{e}");
    assert!(notes[0].contains("experiment(s) wide"), "{e}");
    // The study's reproduction has no such fan-out: nothing said.
    let o = sfsim(&["reproduce", "--out", &out.to_string_lossy(), "-q"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("note:"), "{}", String::from_utf8_lossy(&o.stderr));
}
