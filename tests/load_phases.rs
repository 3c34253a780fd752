//! `kind = "phases"` arrivals: steady Poisson load, a pause, a linear ramp, one after another.

use crate::common;
use common::sfsim;

const SCENARIO: &str = r#"[scenario]
name = "phases"
deployments = ["aws-lambda"]
iterations = 100000
seed = 7

[arrivals]
kind = "phases"
phases = [
  { kind = "poisson", rate_per_s = 20, duration_s = 100 },
  { kind = "pause", duration_s = 100 },
  { kind = "ramp", from_per_s = 0, to_per_s = 40, duration_s = 100 },
]

[workflow]
flow = [{ step = "a" }]

[workflow.steps.a]
cpu_s = { dist = "fixed", value_s = 0.05 }
memory_mb = 128
"#;

#[test]
fn arrivals_follow_the_phases() {
    let dir = common::TempDir::new("phases");
    let f = dir.join("phases.toml");
    std::fs::write(&f, SCENARIO).expect("write");
    let lines = dir.join("e.jsonl");
    let o = sfsim(&["run", &f.to_string_lossy(), "-q", "--executions", &lines.to_string_lossy()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let arrivals: Vec<f64> = std::fs::read_to_string(&lines)
        .expect("lines")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["arrival_s"].as_f64().expect("arrival"))
        .collect();
    let count = |a: f64, b: f64| arrivals.iter().filter(|&&t| t >= a && t < b).count() as f64;
    // 20/s for 100 s: 2,000 (Poisson: sd about 45); none in the pause; the ramp averages 20/s
    // (2,000), a quarter of them in its first half (rate 0 -> 20) and three quarters in its
    // second (20 -> 40).
    assert!((count(0.0, 100.0) - 2000.0).abs() < 200.0, "steady phase: {}", count(0.0, 100.0));
    assert_eq!(count(100.0, 200.0), 0.0, "pause");
    let (first, second) = (count(200.0, 250.0), count(250.0, 300.0));
    assert!((first - 500.0).abs() < 100.0 && (second - 1500.0).abs() < 150.0, "ramp halves: {first}, {second}");
    assert!(arrivals.iter().all(|&t| t < 300.0), "nothing after the last phase");

    // A phase without its rate is an input error at its key.
    std::fs::write(&f, SCENARIO.replace("rate_per_s = 20, ", "")).expect("write");
    let o = sfsim(&["run", &f.to_string_lossy(), "-q"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("arrivals.phases.0.rate_per_s"), "{}", String::from_utf8_lossy(&o.stderr));
}
