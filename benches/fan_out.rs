//! A 10,000-way fan-out on the stateful deployments (issue #3 target: each simulates in under
//! 1 s on this machine, memory proportional to live work). The video workflow with 10,000
//! workers: az-dorch (orchestrator fan-out through the work-item queue, hosts added at the
//! non-HTTP pace) and aws-step (an inline Map of 10,000 iterations, 40 at a time). The Standard
//! history limit (25,000 events) would end the Step Functions run early, so the bench lifts it
//! to time the whole Map. The video is 2.5 GB here, so that the split cuts at least 10,000
//! payload-sized chunks (256 KB on AWS, 64 KB on Azure) and all 10,000 workers start.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models};
use sfsim_workflow::{Arrivals, Scenario};

fn bench_fan_out(c: &mut Criterion) {
    let mut models = Models::builtin().expect("models");
    models.step.limits.history_max_events.value = 1e9;
    let sets =
        ["workflow.fan_out.workers.items=10000", "workflow.fan_out.workers.chunks_of_kb=2560000"].map(|o| o.parse().expect("override"));
    let s = Scenario::load(std::path::Path::new("scenarios/paper/video.toml"), &sets).expect("scenario");
    let arrivals = Arrivals::Interval { interval_s: 3600.0 };
    let mut g = c.benchmark_group("fan_out_10000");
    g.sample_size(10);
    for d in [Deployment::AzDorch, Deployment::AwsStep] {
        let plan = DeploymentPlan::build(d, &models, s.deployment.get(d.name()).expect("configured"), &s.workflow).expect("plan");
        let o = plan.run(&s.workflow, &arrivals, 1, RngStreams::new(1, 0), false);
        assert_eq!(o.executions[0].outcome, sfsim_platform::Outcome::Completed, "{} completes", d.name());
        eprintln!(
            "{}: {} events, {} instances, latency {:.1} s",
            d.name(),
            o.events,
            o.instances_started,
            o.executions[0].latency().as_secs_f64()
        );
        g.bench_function(d.name(), |b| b.iter(|| black_box(plan.run(&s.workflow, &arrivals, 1, RngStreams::new(1, 0), false).events)));
    }
    g.finish();
}

criterion_group!(benches, bench_fan_out);
criterion_main!(benches);
