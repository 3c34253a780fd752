//! `measure_after_s`: executions arriving before it warm the platform up (they run, with their
//! cold starts) and are left out of every statistic. `arrivals.warmup`: a harness's warm-up as a
//! first, smaller batch (SeBS-Flow's perf_cost.py runs one invocation before its batches).

use crate::common;

fn run(set: &[&str]) -> serde_json::Value {
    common::run_json(&["run", "scenarios/validation/sebs-chain-32b.toml", "--iterations", "90", "--format", "json", "-q"], set)
}

#[test]
fn the_warm_up_batch_runs_but_is_not_counted() {
    let all = run(&["arrivals.warmup=0", "scenario.measure_after_s=0"]);
    let warm = run(&["arrivals.warmup=0", "scenario.measure_after_s=1"]);
    for d in 0..2 {
        let (a, w) = (&all["results"][d], &warm["results"][d]);
        let name = a["deployment"].as_str().unwrap();
        // Three batches of 30 arrive; the first (at 0 s) is the warm-up.
        assert_eq!(a["iterations"], 90, "{name}");
        assert_eq!(w["iterations"], 60, "{name}");
        // The warm-up batch took the cold starts: the measured batches find warm instances.
        let (ca, cw) = (a["cold_starts"].as_u64().unwrap(), w["cold_starts"].as_u64().unwrap());
        // (aws-step: 30 concurrent Lambdas per function; az-dorch: a few hosts.)
        assert!(cw < ca && (name != "aws-step" || (ca >= 30 && cw < ca / 2)), "{name}: {ca} cold starts in all, {cw} after the warm-up");
        // Per-hop gaps of the measured executions.
        assert!(w["chain_gap_s"]["p50"].is_number());
        assert!(w["chain_gap_s"]["p50"].as_f64().unwrap() <= a["chain_gap_s"]["p95"].as_f64().unwrap());
    }
}

/// Arrival and end times, s, of every execution of the chain with `sets`, per deployment in
/// execution order.
fn timeline(tag: &str, sets: &[&str]) -> Vec<(String, Vec<(f64, f64)>)> {
    let dir = common::TempDir::new(&format!("warm-up-{tag}"));
    let lines = dir.join("executions.jsonl");
    let mut args = vec!["run", "scenarios/validation/sebs-chain-32b.toml", "-q", "--executions", lines.to_str().expect("utf-8 path")];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = common::sfsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let execs: Vec<serde_json::Value> =
        std::fs::read_to_string(&lines).expect("executions file").lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    common::by_deployment(&execs, |v| (v["arrival_s"].as_f64().expect("arrival_s"), v["end_s"].as_f64().expect("end_s")))
}

#[test]
fn a_warm_up_of_one_execution_precedes_the_batches_and_the_pause_follows_it() {
    // One warm-up execution, then two batches of 30, each 15 s after the previous one's last end.
    for (d, xs) in timeline("one", &["scenario.iterations=61", "arrivals.warmup=1", "arrivals.pause_s=15", "scenario.measure_after_s=0"]) {
        assert_eq!(xs.len(), 61, "{d}");
        assert_eq!(xs[0].0, 0.0, "{d}: the warm-up arrives first, alone");
        let batch = |r: std::ops::Range<usize>| {
            let arrivals: Vec<f64> = xs[r.clone()].iter().map(|x| x.0).collect();
            let last_end = xs[r].iter().map(|x| x.1).fold(f64::MIN, f64::max);
            (arrivals, last_end)
        };
        let (first, first_end) = batch(1..31);
        let (second, _) = batch(31..61);
        assert!(first.iter().all(|&a| a == first[0]), "{d}: the first batch of 30 arrives at once");
        assert!(second.iter().all(|&a| a == second[0]), "{d}: so does the second");
        assert!(
            (first[0] - (xs[0].1 + 15.0)).abs() < 1e-6,
            "{d}: the first batch comes 15 s after the warm-up ended ({} vs {})",
            first[0],
            xs[0].1
        );
        assert!((second[0] - (first_end + 15.0)).abs() < 1e-6, "{d}: the second 15 s after the first's last end");
    }
    // Without it, the first batch is 30 executions at 0 s.
    for (d, xs) in timeline("none", &["scenario.iterations=60", "arrivals.warmup=0", "scenario.measure_after_s=0"]) {
        assert!(xs[..30].iter().all(|x| x.0 == 0.0) && xs[30].0 > 0.0, "{d}");
    }
}
