//! Azure's spread of a function body's CPU time between invocations (`models/az-func.toml`
//! `function.cpu_noise_sigma`), beyond the work's own spread, which Lambda shows alone: what it
//! does to one body's latencies, that it keeps the mean and the comparisons between deployments,
//! and the study's Fig. 6 finding it gives (AWS with the sharper CDF on the large dataset).

use crate::common;

use common::by_deployment;
use common::conflicts::{models_with, outcomes};

/// One step of exactly 2 CPU-seconds, 400 executions one after another on a warm host (Lambda's
/// core at the reference core's speed, as Azure's: the rating of Lambda's 2020 cores is
/// tests/cpu_classes.rs's).
const BODY: &str = "[scenario]\nname = \"noise\"\ndeployments = [\"aws-lambda\", \"az-func\", \"az-dorch\"]\niterations = 400\nseed = 5\n\n[arrivals]\nkind = \"sequential\"\ngap_s = 1\n\n[models.aws-lambda]\nfunction.cpu_speed = 1.0\nfunction.vector_speed = 1.0\n\n[deployment.aws-lambda]\nmemory_mb = 1769\n\n[workflow]\nflow = [{ step = \"a\" }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 2.0 }\nmemory_mb = 128\n";

/// The executions (`--executions` lines, in the order written) of `scenario` run with `sets`.
fn executions(tag: &str, scenario: &str, sets: &[&str]) -> Vec<serde_json::Value> {
    let dir = common::TempDir::new(&format!("cpu-noise-{tag}"));
    let (f, lines) = (dir.join("scenario.toml"), dir.join("executions.jsonl"));
    std::fs::write(&f, scenario).unwrap();
    let mut args = vec!["run", f.to_str().unwrap(), "-q", "--executions", lines.to_str().unwrap()];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = common::sfsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&lines).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Per-execution durations of the step's body (the single function, or the activity running
/// it), by deployment, in execution order.
fn body_times_s(sets: &[&str]) -> Vec<(String, Vec<f64>)> {
    by_deployment(&executions("body", BODY, sets), |v| {
        let b = [common::spans_s(v, "function"), common::spans_s(v, "activity a")].concat();
        *b.first().unwrap_or_else(|| panic!("no body in {v}"))
    })
}

fn log_sd_and_mean(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let m = logs.iter().sum::<f64>() / n;
    let sd = (logs.iter().map(|l| (l - m) * (l - m)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd, xs.iter().sum::<f64>() / n)
}

#[test]
fn an_azure_body_spreads_by_the_hosts_noise_and_keeps_its_mean_and_lambda_does_not() {
    let runs = body_times_s(&[]);
    let get = |d: &str| &runs.iter().find(|(n, _)| n == d).unwrap_or_else(|| panic!("{d} in {runs:?}")).1;
    let (lambda, func, dorch) = (get("aws-lambda"), get("az-func"), get("az-dorch"));
    assert_eq!(lambda.len(), 400);
    // Lambda at 1,769 MB (one vCPU): exactly the work, 2 s, every time.
    let (l_sd, l_mean) = log_sd_and_mean(lambda);
    assert!(l_sd < 1e-9 && (l_mean - 2.0).abs() < 1e-6, "lambda: sd {l_sd}, mean {l_mean}");
    // Azure: log-sd 0.047 (the model's value; 400 draws: standard error about 0.0017) and a mean
    // of 2 s (the factor's mean is 1; standard error about 0.005 s; the factor's own mean is
    // checked in platform::workload's tests).
    let (f_sd, f_mean) = log_sd_and_mean(func);
    assert!((f_sd - 0.047).abs() < 0.006, "az-func log-sd {f_sd}");
    assert!((f_mean - 2.0).abs() < 0.02, "az-func mean {f_mean}");
    // The same invocation draws the same factor on every Azure deployment (common random
    // numbers, as the work itself): az-dorch's activity body equals az-func's body.
    for (k, (a, b)) in func.iter().zip(dorch).enumerate() {
        assert!((a - b).abs() < 1e-6, "execution {k}: az-func {a} s, az-dorch {b} s");
    }
    // Off: Azure runs the work as written.
    let off = body_times_s(&["models.az-func.function.cpu_noise_sigma=0"]);
    let func_off = &off.iter().find(|(n, _)| n == "az-func").unwrap().1;
    assert!(func_off.iter().all(|x| (x - 2.0).abs() < 1e-6), "{:?}", &func_off[..5]);
}

/// Fig. 6c/d: AWS has the sharper CDF (p99/p50 of AWS-Step below Az-Dorch's and Az-Dent's on
/// the large dataset) while Durable's p99 queue time stays under 1 s (Fig. 8). Every deployment
/// does the same work (common random numbers), so without the hosts' spread the three tails are
/// the work's and which is sharper is a coin flip (3 of 10 seeds); with the measured spread the
/// finding holds on 9 of the 10 seeds (every seed until session 16: with Lambda's 2020 cores
/// rated 1.49x Azure's on this scalar code, AWS-Step's first execution, which cold-starts its
/// four functions, stands further above its median, and on seed 4 it moves a long warm
/// execution into the p99: 1.128 against Durable's 1.120), and the queue time does not move out
/// of its band.
#[test]
fn the_hosts_spread_gives_aws_the_sharper_cdf_on_nine_seeds_of_ten() {
    let ids = ["ml-train-large-tail-aws-sharper", "ml-train-large-durable-queue-time"];
    let off = outcomes(models_with("noise-off", &[("az-func.toml", "cpu_noise_sigma", 0.0)]), &ids, 10);
    let on = outcomes(models_with("noise-on", &[("az-func.toml", "cpu_noise_sigma", 0.047)]), &ids, 10);
    let (tail_off, tail_on) = (off[ids[0]].seeds_met, on[ids[0]].seeds_met);
    assert!(tail_off <= 5, "without the spread the tail finding is met on {tail_off}/10 seeds");
    assert!(tail_on >= 9, "with it: {tail_on}/10");
    assert_eq!(on[ids[1]].seeds_met, 10, "Durable p99 queue time under 1 s");
    // The margin at the first seed: each Durable p99/p50 at least 1 % above AWS-Step's (1.097
    // against 1.111 today; seeds 7 and 9 are met by less than 1 %).
    let v = &on[ids[0]].values;
    for d in ["az-dorch", "az-dent"] {
        assert!(v[d] > 1.01 * v["aws-step"], "{v:?}");
    }
}

/// An entity operation's own CPU (`op_cpu_s`) is user code too: on az-func (the function reads
/// the object from storage, runs the operation, writes it back) it spreads by the host's noise;
/// on Lambda it does not; on az-dorch the Durable entity's operation spreads as az-func's does.
/// The standard deviations are in seconds.
#[test]
fn an_entity_operations_own_cpu_spreads_on_azure_too() {
    let scenario = "[scenario]\nname = \"op-noise\"\ndeployments = [\"aws-lambda\", \"az-func\", \"az-dorch\"]\niterations = 400\nseed = 9\n\n[arrivals]\nkind = \"sequential\"\ngap_s = 1\n\n[deployment.aws-lambda]\nmemory_mb = 1769\n\n[workflow]\nflow = [{ step = \"a\" }, { call_entity = \"counter\", op = \"add\", op_cpu_s = { dist = \"fixed\", value_s = 2.0 } }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 0.001 }\nmemory_mb = 128\n\n[workflow.state.counter]\nsize_kb = 1\n";
    // The standard deviation of each deployment's latencies, in seconds.
    let sd = |sets: &[&str]| -> Vec<(String, f64)> {
        by_deployment(&executions("op", scenario, sets), |v| v["latency_s"].as_f64().unwrap())
            .into_iter()
            .map(|(d, xs)| {
                let m = xs.iter().sum::<f64>() / xs.len() as f64;
                (d, (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt())
            })
            .collect()
    };
    let on = sd(&[]);
    let off = sd(&["models.az-func.function.cpu_noise_sigma=0"]);
    let get = |v: &[(String, f64)], d: &str| v.iter().find(|(n, _)| n == d).unwrap().1;
    // Lambda draws no factor: the same latencies with the noise on or off.
    assert_eq!(get(&on, "aws-lambda"), get(&off, "aws-lambda"));
    // az-func (the function with the object in storage) and az-dorch (a Durable entity): the
    // storage round trips are the same draws on and off, so the noise adds the operation's 2 s
    // times its 0.047 in quadrature: about 0.094 s (0.09 at this seed).
    for d in ["az-func", "az-dorch"] {
        let added = (get(&on, d).powi(2) - get(&off, d).powi(2)).max(0.0).sqrt();
        assert!((0.07..0.115).contains(&added), "{d}: on {on:?}, off {off:?}: {added}");
    }
}

/// Each item of a split fan-out is an invocation of its own: the items share one draw of the
/// total work (each does its share) and each draws its own factor.
#[test]
fn each_item_of_a_split_fan_out_draws_its_own_factor() {
    let scenario = "[scenario]\nname = \"split-noise\"\ndeployments = [\"az-dorch\"]\niterations = 20\nseed = 3\n\n[arrivals]\nkind = \"sequential\"\ngap_s = 1\n\n[workflow]\nflow = [{ fan_out = \"w\" }]\n\n[workflow.fan_out.w]\nitems = 4\nsplit = true\nbody = [{ step = \"a\" }]\n\n[workflow.steps.a]\ncpu_s = { dist = \"fixed\", value_s = 8.0 }\nmemory_mb = 128\n";
    let bodies =
        |sets: &[&str]| -> Vec<Vec<f64>> { executions("split", scenario, sets).iter().map(|v| common::spans_s(v, "activity a")).collect() };
    let (on, off) = (bodies(&[]), bodies(&["models.az-func.function.cpu_noise_sigma=0"]));
    assert_eq!(on.len(), 20);
    for (k, (a, b)) in on.iter().zip(&off).enumerate() {
        assert_eq!(a.len(), 4, "execution {k}: {a:?}");
        // Off: every item does a quarter of the 8 s, exactly.
        assert!(b.iter().all(|x| (x - 2.0).abs() < 1e-6), "execution {k}: {b:?}");
        // On: four different factors (one shared factor would give four equal bodies).
        let (lo, hi) = a.iter().fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        assert!(hi - lo > 1e-4, "execution {k}: {a:?}");
    }
}
