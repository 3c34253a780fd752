//! Whole scenarios through the library (no process start, no output formatting), single
//! threaded per job. Reported as executions per second and, via the printed event counts,
//! events per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models};
use sfsim_workflow::{Arrivals, Scenario};

fn load(path: &str) -> Scenario {
    Scenario::load(std::path::Path::new(path), &[]).expect("scenario loads")
}

fn bench_scenarios(c: &mut Criterion) {
    let models = Models::builtin().expect("models");
    let mut g = c.benchmark_group("scenario");
    g.sample_size(20);
    for (name, path) in [("ml-training-large", "scenarios/paper/ml-training-large.toml"), ("video-80", "scenarios/paper/video.toml")] {
        let mut s = load(path);
        if name == "video-80" {
            s = Scenario::load(std::path::Path::new(path), &["workflow.fan_out.workers.items=80".parse().expect("override")])
                .expect("loads");
        }
        for d in [Deployment::AwsLambda, Deployment::AzFunc] {
            let p = DeploymentPlan::build(d, &models, s.deployment.get(d.name()).expect("configured"), &s.workflow).expect("platform");
            g.throughput(Throughput::Elements(s.iterations));
            g.bench_function(format!("{name}/{}", d.name()), |b| {
                b.iter(|| black_box(p.run(&s.workflow, &s.arrivals, s.iterations, RngStreams::new(1, 0), false).events))
            });
        }
    }
    // A loaded system: 100,000 Poisson arrivals on Azure hosts (queueing, scale-out, keep-alive).
    let s = load("scenarios/paper/ml-inference-large.toml");
    let p = DeploymentPlan::build(Deployment::AzFunc, &models, s.deployment.get("az-func").expect("configured"), &s.workflow)
        .expect("platform");
    let arrivals = Arrivals::Poisson { rate_per_s: 20.0 };
    let run = || p.run(&s.workflow, &arrivals, 100_000, RngStreams::new(1, 0), false);
    let events = run().events;
    eprintln!("poisson-100k/az-func: {events} events per run");
    g.throughput(Throughput::Elements(events));
    g.sample_size(10);
    g.bench_function("poisson-100k-events/az-func", |b| b.iter(|| black_box(run().events)));
    g.finish();
}

criterion_group!(benches, bench_scenarios);
criterion_main!(benches);
