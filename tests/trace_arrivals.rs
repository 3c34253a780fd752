//! A real invocation pattern through the full platform model: the invocations of an Azure
//! Functions trace are a scenario's arrivals (`[arrivals] kind = "azure-2019"` /
//! `"azure-2021"`), on any deployment.

use sfsim_engine::{RngStreams, SimTime};
use sfsim_platform::{Deployment, DeploymentPlan, Models, Outcome};
use sfsim_replay::{Azure2019, Azure2021, Invocation, Placement};
use sfsim_workflow::{Arrivals, Scenario, SourceFile, TraceFile, TracePlacement};

use crate::common;

const WORKFLOW: &str = r#"
[workflow]
flow = [{ step = "handle" }]
[workflow.steps.handle]
cpu_s = { dist = "fixed", value_s = 0.05 }
memory_mb = 128
"#;

fn scenario(arrivals: &str) -> Scenario {
    let text = format!("[scenario]\nname = \"t\"\n[arrivals]\n{arrivals}\n{WORKFLOW}");
    // The scenario sits in the repository root: trace paths are relative to it.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/t.toml");
    Scenario::from_source(SourceFile::from_text(path, text), &[]).expect("valid")
}

fn run(s: &Scenario, d: Deployment) -> sfsim_platform::RunOutput {
    let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
    let plan = DeploymentPlan::build(d, &Models::builtin().expect("models"), &cfg, &s.workflow).expect("plan");
    plan.run(&s.workflow, &s.arrivals, u64::MAX, RngStreams::new(3, 0), false)
}

fn starts(invs: impl Iterator<Item = Result<Invocation, sfsim_replay::TraceError>>, app: Option<u32>) -> Vec<SimTime> {
    invs.map(|r| r.expect("row")).filter(|i| app.is_none_or(|a| i.app == a)).map(|i| i.start).collect()
}

#[test]
fn every_invocation_of_a_2019_day_arrives_at_its_start() {
    let s = scenario("kind = \"azure-2019\"\ndir = \"scenarios/traces/azure-2019\"\nplacement = \"even\"");
    let Arrivals::Trace { file: TraceFile::Azure2019 { dir, day, placement }, app: None } = &s.arrivals else {
        panic!("trace arrivals: {:?}", s.arrivals)
    };
    assert_eq!((*day, *placement), (1, TracePlacement::Even));
    let want = starts(Azure2019::open_with(dir, 1, 0, Placement::Even).expect("trace"), None);
    assert!(want.len() > 10_000, "{}", want.len());
    for d in [Deployment::AzFunc, Deployment::AwsLambda, Deployment::AzDorch] {
        let o = run(&s, d);
        let got: Vec<SimTime> = o.executions.iter().map(|r| r.arrival).collect();
        assert_eq!(got, want, "{}: one execution per invocation, at its start", d.name());
        assert_eq!(o.fold.arrived as usize, want.len());
        assert!(o.executions.iter().all(|r| r.outcome == Outcome::Completed), "{}", d.name());
        assert!(o.arrival_error.is_none());
    }
}

#[test]
fn one_app_of_the_2021_trace() {
    let all = scenario("kind = \"azure-2021\"\nfile = \"scenarios/traces/azure-2021-sample.txt\"");
    let Arrivals::Trace { file: TraceFile::Azure2021 { file }, .. } = &all.arrivals else { panic!("2021 trace") };
    let want_all = starts(Azure2021::open(file).expect("trace"), None);
    let want_one = starts(Azure2021::open(file).expect("trace"), Some(1));
    assert!(!want_one.is_empty() && want_one.len() < want_all.len());
    let one = scenario("kind = \"azure-2021\"\nfile = \"scenarios/traces/azure-2021-sample.txt\"\napp = 1");
    let got: Vec<SimTime> = run(&one, Deployment::AzFunc).executions.iter().map(|r| r.arrival).collect();
    assert_eq!(got, want_one);
    assert_eq!(run(&all, Deployment::AwsLambda).executions.len(), want_all.len());
}

#[test]
fn random_placement_is_seeded_and_keeps_each_minute_s_count() {
    let s = scenario("kind = \"azure-2019\"\ndir = \"scenarios/traces/azure-2019\"");
    let a = run(&s, Deployment::AzFunc);
    let b = run(&s, Deployment::AzFunc);
    let arrivals = |o: &sfsim_platform::RunOutput| o.executions.iter().map(|r| r.arrival).collect::<Vec<_>>();
    assert_eq!(arrivals(&a), arrivals(&b), "same seed, same placements");
    let per_minute = |v: &[SimTime]| {
        let mut m = vec![0u32; 1440];
        for t in v {
            m[(t.0 / 60_000_000_000) as usize] += 1;
        }
        m
    };
    let even = scenario("kind = \"azure-2019\"\ndir = \"scenarios/traces/azure-2019\"\nplacement = \"even\"");
    let e = run(&even, Deployment::AzFunc);
    assert_eq!(per_minute(&arrivals(&a)), per_minute(&arrivals(&e)));
    assert_ne!(arrivals(&a), arrivals(&e));
}

#[test]
fn a_missing_trace_is_an_input_error_naming_the_file() {
    let dir = common::TempDir::new("trace-arrivals");
    let scen = dir.join("s.toml");
    std::fs::write(&scen, format!("[scenario]\nname = \"t\"\n[arrivals]\nkind = \"azure-2019\"\ndir = \"nowhere\"\n{WORKFLOW}"))
        .expect("write");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sfsim"))
        .args(["run", &scen.to_string_lossy(), "-d", "az-func"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("key `arrivals.dir`") && err.contains("invocations_per_function_md.anon.d01.csv"), "{err}");
}

#[test]
fn a_bad_placement_names_its_key_and_line() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/t.toml");
    let text = format!("[scenario]\nname = \"t\"\n[arrivals]\nkind = \"azure-2019\"\ndir = \"x\"\nplacement = \"sideways\"\n{WORKFLOW}");
    let e = Scenario::from_source(SourceFile::from_text(path, text), &[]).expect_err("refused");
    let msg = e.to_string();
    assert!(msg.contains(":6:13: key `arrivals.placement`") && msg.contains("sideways"), "{msg}");
}
