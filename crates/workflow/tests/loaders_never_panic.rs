//! Bad input never panics (quality.md check 10): arbitrary text and mutated valid scenarios go
//! through the loader, which must return either a scenario or an error with a message and, for
//! anything but a whole-file problem, a position.

use proptest::prelude::*;
use sfsim_workflow::{Override, Scenario, SourceFile};

const VALID: &str = r#"[scenario]
name = "p"
deployments = ["aws-lambda"]
[arrivals]
kind = "burst"
size = 3
interval_s = 10
[deployment.aws-lambda]
memory_mb = 1024
init_s = { dist = "normal", mean_s = 1.0, std_s = 0.1 }
[workflow]
input_kb = 2
flow = [{ step = "a" }, { parallel = [[{ step = "b" }], [{ fan_out = "f" }]] }]
[workflow.steps.a]
cpu_s = { dist = "empirical", quantiles_s = [[0.0, 1.0], [0.5, 2.0], [1.0, 3.0]] }
memory_mb = 100
reads = [{ object = "o", size_mb = 1 }]
state_reads = ["s"]
[workflow.steps.b]
cpu_s = { dist = "uniform", low_s = 1.0, high_s = 2.0 }
io_s = { dist = "fixed", value_s = 0.5 }
memory_mb = 100
[workflow.fan_out.f]
items = 2
body = [{ step = "b" }]
[workflow.state.s]
size_kb = 3
"#;

const WEIRD: &[&str] =
    &["-1", "nan", "inf", "-inf", "0", "1e400", "\"x\"", "[]", "{}", "true", "[[1, 2]]", "{ dist = \"fixed\" }", "18446744073709551615"];

fn check(text: &str, overrides: &[Override]) {
    match Scenario::from_source(SourceFile::from_text("p.toml", text.to_string()), overrides) {
        Ok(_) => {}
        Err(e) => {
            assert!(!e.message.is_empty(), "an error needs a message");
            assert_eq!(e.file, "p.toml");
            let shown = e.to_string();
            assert!(shown.starts_with("p.toml"), "{shown}");
        }
    }
}

#[test]
fn the_probe_scenario_is_valid() {
    Scenario::from_source(SourceFile::from_text("p.toml", VALID), &[]).expect("valid");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text, &[]);
    }

    #[test]
    fn replacing_any_value_never_panics(line in 0usize..40, weird in 0usize..13) {
        let lines: Vec<&str> = VALID.lines().collect();
        let idx = line % lines.len();
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if let Some((k, _)) = lines[idx].split_once(" = ") {
            out[idx] = format!("{k} = {}", WEIRD[weird]);
        }
        check(&out.join("\n"), &[]);
    }

    #[test]
    fn deleting_any_line_never_panics(line in 0usize..40) {
        let lines: Vec<&str> = VALID.lines().collect();
        let idx = line % lines.len();
        let text: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != idx).map(|(_, l)| *l).collect();
        check(&text.join("\n"), &[]);
    }

    #[test]
    fn arbitrary_overrides_never_panic(path in "[a-z_.0-9]{1,30}", weird in 0usize..13) {
        if let Ok(o) = format!("{path}={}", WEIRD[weird]).parse::<Override>() {
            check(VALID, &[o]);
        }
    }
}
