//! Cost linear in the work: a burst of 30,000 and of 120,000 executions of a two-step workflow
//! arriving at once, on az-dorch (task hub, control queues, hosts added by the scale
//! controller) and aws-step (transitions, the token bucket, Lambda's burst scaling and
//! throttling). Criterion reports the time per execution (`Throughput::Elements`): the two
//! sizes should stay within 1.3x of each other on each deployment (no per-event scan over all
//! executions or instances).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models};
use sfsim_workflow::{Arrivals, Scenario, SourceFile};

const SCENARIO: &str = r#"
[scenario]
name = "burst"
[arrivals]
kind = "burst"
size = 1000000
interval_s = 3600
[workflow]
flow = [{ step = "a" }, { step = "b" }]
[workflow.steps.a]
cpu_s = { dist = "fixed", value_s = 0.05 }
memory_mb = 128
[workflow.steps.b]
cpu_s = { dist = "fixed", value_s = 0.05 }
memory_mb = 128
"#;

fn bench_burst(c: &mut Criterion) {
    let models = Models::builtin().expect("models");
    let s = Scenario::from_source(SourceFile::from_text("burst.toml", SCENARIO), &[]).expect("scenario");
    let arrivals = Arrivals::Burst { size: 1_000_000, interval_s: 3600.0 };
    let mut g = c.benchmark_group("burst");
    g.sample_size(10);
    for d in [Deployment::AzDorch, Deployment::AwsStep] {
        let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
        let plan = DeploymentPlan::build(d, &models, &cfg, &s.workflow).expect("plan");
        for n in [30_000u64, 120_000] {
            let o = plan.run(&s.workflow, &arrivals, n, RngStreams::new(1, 0), false);
            let done = o.executions.iter().filter(|r| r.outcome == sfsim_platform::Outcome::Completed).count();
            eprintln!("{} burst of {n}: {} events, {done} completed, {} hosts/instances", d.name(), o.events, o.instances_started);
            g.throughput(Throughput::Elements(n));
            g.bench_function(format!("{}/{n}", d.name()), |b| {
                b.iter(|| black_box(plan.run(&s.workflow, &arrivals, n, RngStreams::new(1, 0), false).events))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_burst);
criterion_main!(benches);
