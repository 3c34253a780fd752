//! A step that appears more than once in a flow: each occurrence draws its own work (keyed as a
//! step of its own), the same on every deployment (common random numbers), and on aws-step the
//! occurrences run in one Lambda function (one cold start, one instance), as a loop calling the
//! same function does.

use crate::common;

const SCENARIO: &str = "[scenario]\nname = \"repeated\"\ndeployments = [\"aws-step\", \"az-dorch\"]\niterations = 20\nseed = 4\n\n[arrivals]\nkind = \"sequential\"\ngap_s = 1\n\n[models.aws-lambda]\nfunction.cpu_speed = 1.0\nfunction.vector_speed = 1.0\n\n[deployment.aws-step]\nmemory_mb = 1769\n\n[workflow]\nflow = [{ step = \"a\" }, { step = \"a\" }, { step = \"a\" }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"lognormal\", median_s = 1.0, sigma = 0.3 }\nmemory_mb = 128\n";

#[test]
fn each_occurrence_of_a_repeated_step_draws_its_own_work_and_shares_its_function() {
    let dir = common::TempDir::new("repeated");
    let (f, lines) = (dir.join("repeated.toml"), dir.join("executions.jsonl"));
    std::fs::write(&f, SCENARIO).unwrap();
    // Azure's CPU-time spread off: the spans are the work (Lambda at 1,769 MB: one vCPU, its core
    // at the reference core's speed in this scenario, as Azure's).
    let sets = ["run", f.to_str().unwrap(), "-q", "--format", "json", "--executions", lines.to_str().unwrap()];
    let v = common::run_json(&sets, &["models.az-func.function.cpu_noise_sigma=0"]);
    let text = std::fs::read_to_string(&lines).unwrap();
    // aws-step: the three occurrences run in one function: one cold start, one instance.
    let step = v["results"].as_array().unwrap().iter().find(|r| r["deployment"] == "aws-step").unwrap();
    assert_eq!(step["cold_starts"], 1, "{step}");
    assert_eq!(step["instances_peak"], 1, "{step}");
    let spans = |dep: &str, name: &str| -> Vec<(u64, Vec<f64>)> {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["deployment"] == dep)
            .map(|e| (e["id"].as_u64().unwrap(), common::spans_s(&e, name)))
            .collect()
    };
    let (mut lambda, mut durable) = (spans("aws-step", "task a"), spans("az-dorch", "activity a"));
    lambda.sort_by_key(|x| x.0);
    durable.sort_by_key(|x| x.0);
    assert_eq!(durable.len(), 20);
    for ((k, l), (_, d)) in lambda.iter().zip(&durable) {
        assert_eq!(d.len(), 3, "execution {k}: {d:?}");
        // Three draws, not one drawn three times (before: every occurrence drew the same work).
        assert!(d[0] != d[1] && d[1] != d[2], "execution {k}: {d:?}");
        // The same work on both deployments, occurrence by occurrence.
        for (a, b) in l.iter().zip(d) {
            assert!((a - b).abs() < 1e-6, "execution {k}: aws-step {l:?}, az-dorch {d:?}");
        }
    }
}

/// A workflow given as an ASL machine keeps a repeated Task step as one step (its Task states
/// name the steps aws-step runs): its occurrences draw the same work, on aws-step and on the
/// deployments running the flow derived from the machine alike.
#[test]
fn an_asl_machines_repeated_task_draws_the_same_work_on_every_deployment() {
    let dir = common::TempDir::new("repeated-asl");
    let asl = r#"{"StartAt": "A1", "States": {
        "A1": {"Type": "Task", "Resource": "fn-a", "Next": "A2"},
        "A2": {"Type": "Task", "Resource": "fn-a", "End": true}}}"#;
    std::fs::write(dir.join("m.asl.json"), asl).unwrap();
    let scenario = SCENARIO
        .replace("flow = [{ step = \"a\" }, { step = \"a\" }, { step = \"a\" }]\n", "")
        .replace("[workflow.steps.a]", "[workflow.asl]\nfile = \"m.asl.json\"\ntasks = { \"fn-a\" = \"a\" }\n\n[workflow.steps.a]");
    let (f, lines) = (dir.join("asl.toml"), dir.join("executions.jsonl"));
    std::fs::write(&f, scenario).unwrap();
    let o = common::sfsim(&[
        "run",
        f.to_str().unwrap(),
        "-q",
        "--executions",
        lines.to_str().unwrap(),
        "--set",
        "models.az-func.function.cpu_noise_sigma=0",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&lines).unwrap();
    for l in text.lines() {
        let e: serde_json::Value = serde_json::from_str(l).unwrap();
        let name = if e["deployment"] == "aws-step" { "task a" } else { "activity a" };
        let d = common::spans_s(&e, name);
        assert_eq!(d.len(), 2, "{e}");
        assert!((d[0] - d[1]).abs() < 1e-9, "{}: {d:?}", e["deployment"]);
    }
}
