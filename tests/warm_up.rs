//! `measure_after_s`: executions arriving before it warm the platform up (they run, with their
//! cold starts) and are left out of every statistic.

use crate::common;

fn run(set: &[&str]) -> serde_json::Value {
    common::run_json(&["run", "scenarios/validation/sebs-chain-32b.toml", "--iterations", "90", "--format", "json", "-q"], set)
}

#[test]
fn the_warm_up_batch_runs_but_is_not_counted() {
    let all = run(&["scenario.measure_after_s=0"]);
    let warm = run(&["scenario.measure_after_s=1"]);
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
