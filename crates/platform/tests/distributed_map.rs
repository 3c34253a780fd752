//! Step Functions Distributed Map (issue #11): child executions with their own histories, up to
//! 10,000 at once, Standard or Express children, refused in the study-era models.

use sfsim_engine::{RngStreams, SimDuration};
use sfsim_platform::{Deployment, DeploymentPlan, Models, Outcome, PlatformError, RunOutput};
use sfsim_workflow::{Arrivals, Scenario, SourceFile};

/// One Task, then a Map over `items` iterations of one 10 s Task, under `map_mode`.
fn scenario(items: u32, map_mode: &str) -> Scenario {
    let text = format!(
        "[scenario]\nname = \"t\"\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\
         [deployment.aws-step]\nmap_mode = \"{map_mode}\"\n\
         [workflow]\ninput_kb = 0\nflow = [{{ step = \"a\" }}, {{ fan_out = \"w\" }}]\n\
         [workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 0.1 }}\nmemory_mb = 100\n\
         [workflow.fan_out.w]\nitems = {items}\nbody = [{{ step = \"b\" }}]\n\
         [workflow.steps.b]\ncpu_s = {{ dist = \"fixed\", value_s = 10 }}\nmemory_mb = 100\n"
    );
    Scenario::from_source(SourceFile::from_text("t.toml", text), &[]).expect("test scenario is valid")
}

/// Today's models (Distributed Map available), deterministic latencies, and room for 20,000
/// Lambdas at once so that the Map's own limits show.
fn models_2026() -> Models {
    // Lambda's cores at the reference core's speed: the waves below are 10 s Lambdas.
    let mut m = Models::builtin().expect("models").with_reference_cores();
    m.step.limits.distributed_map.value = 1.0;
    m.step.transitions.latency_sigma.value = 0.0;
    m.step.tasks.invoke_latency_sigma.value = 0.0;
    m.lambda.cold_start.runtime_sigma.value = 0.0;
    m.lambda.scaling.account_concurrency.value = 20_000.0;
    m.lambda.scaling.burst_instances.value = 20_000.0;
    m
}

fn run(m: &Models, s: &Scenario) -> RunOutput {
    let cfg = s.deployment.get("aws-step").cloned().unwrap_or_default();
    let plan = DeploymentPlan::build(Deployment::AwsStep, m, &cfg, &s.workflow).expect("plan builds");
    plan.run(&s.workflow, &Arrivals::Interval { interval_s: 3600.0 }, 1, RngStreams::new(5, 0), false)
}

#[test]
fn a_distributed_map_runs_far_more_than_40_iterations_at_once() {
    let m = models_2026();
    let inline = run(&m, &scenario(400, "inline"));
    let dist = run(&m, &scenario(400, "distributed"));
    let (a, b) = (&inline.executions[0], &dist.executions[0]);
    assert_eq!((a.outcome.clone(), b.outcome.clone()), (Outcome::Completed, Outcome::Completed));
    // Inline: 40 at a time, so 10 waves of 10 s Lambdas; distributed: one wave.
    let (la, lb) = (a.latency().as_secs_f64(), b.latency().as_secs_f64());
    // (Each wave: the Lambdas' 10 s at the default memory's CPU share, the invoke and the
    // transitions; the first wave's cold starts.)
    assert!(la > 100.0 && la < 130.0, "inline Map over 400 items: {la} s");
    assert!(lb > 10.0 && lb < 25.0, "distributed Map over 400 items: {lb} s");
    assert!(la / lb > 5.0, "inline {la} s against distributed {lb} s");
    // The same states run either way: Task a, the Map, 400 x Task b.
    assert_eq!(a.stateful.transitions, 402);
    assert_eq!(b.stateful.transitions, 402);
    // Standard children bill their transitions like inline iterations.
    assert!((a.cost.transitions - b.cost.transitions).abs() < 1e-12);
}

#[test]
fn each_child_execution_has_its_own_history() {
    // Inline, 5,000 iterations write 2 + 2 x 5,000 Map events and 5 per Task into the
    // execution's history: past 25,000 it fails. Distributed, the parent holds 4 Map events
    // and every child 7.
    let m = models_2026();
    let inline = run(&m, &scenario(5000, "inline"));
    assert_eq!(inline.executions[0].outcome, Outcome::Failed { error: PlatformError::StepHistoryLimit { max_events: 25_000 } });
    let dist = run(&m, &scenario(5000, "distributed"));
    assert_eq!(dist.executions[0].outcome, Outcome::Completed);
}

#[test]
fn express_children_bill_requests_and_duration_instead_of_transitions() {
    let m = models_2026();
    let o = run(&m, &scenario(100, "distributed-express"));
    let r = &o.executions[0];
    assert_eq!(r.outcome, Outcome::Completed);
    // Only the parent's two states (Task a, the Map) are billed transitions.
    let per_transition = m.step.billing.price_usd_per_transition.value;
    assert!((r.cost.transitions - 2.0 * per_transition).abs() < 1e-12, "{}", r.cost.transitions);
    // 100 child requests, and each child's duration (one 10 s Task plus its overheads, rounded
    // up to 100 ms) at 64 MB.
    // Requests: 100 Express children and 101 Lambda invocations.
    let request = m.step.billing.express_price_usd_per_request.value;
    let lambda_request = m.lambda.billing.price_usd_per_request.value;
    assert!((r.cost.requests - 100.0 * request - 101.0 * lambda_request).abs() < 1e-12, "{}", r.cost.requests);
    let per_child_min = 10.0 * 64.0 / 1024.0 * m.step.billing.express_price_usd_per_gb_s.value;
    let lambda_compute = r.gb_s * m.lambda.billing.price_usd_per_gb_s.value;
    let express_compute = r.cost.compute - lambda_compute;
    assert!(express_compute > 100.0 * per_child_min && express_compute < 100.0 * per_child_min * 1.2, "{express_compute}");
}

#[test]
fn express_children_time_out_after_five_minutes() {
    let m = models_2026();
    let text = "[scenario]\nname = \"t\"\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n\
                [deployment.aws-step]\nmap_mode = \"distributed-express\"\n\
                [workflow]\nflow = [{ fan_out = \"w\" }]\n\
                [workflow.fan_out.w]\nitems = 3\nbody = [{ step = \"b\" }, { step = \"c\" }]\n\
                [workflow.steps.b]\ncpu_s = { dist = \"fixed\", value_s = 200 }\nmemory_mb = 100\n\
                [workflow.steps.c]\ncpu_s = { dist = \"fixed\", value_s = 200 }\nmemory_mb = 100\n";
    let s = Scenario::from_source(SourceFile::from_text("t.toml", text.to_string()), &[]).expect("valid");
    let o = run(&m, &s);
    let r = &o.executions[0];
    assert_eq!(r.outcome, Outcome::Failed { error: PlatformError::StepExpressTimeout { limit: SimDuration::from_secs(300) } });
    let t = r.latency().as_secs_f64();
    assert!(t > 300.0 && t < 302.0, "fails at the child's 5-minute limit: {t} s");
}

#[test]
fn the_study_era_models_refuse_a_distributed_map() {
    let m = Models::builtin().expect("models");
    let s = scenario(10, "distributed");
    let cfg = s.deployment.get("aws-step").cloned().unwrap_or_default();
    let err = DeploymentPlan::build(Deployment::AwsStep, &m, &cfg, &s.workflow).expect_err("not in 2020-21");
    assert_eq!(err.key, "deployment.aws-step.map_mode");
    assert!(err.message.contains("2022-12-01"), "{}", err.message);
}
