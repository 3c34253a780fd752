//! A real invocation pattern through the full platform model: every invocation of a generated
//! 2019-format day (about 30 million invocations: 2,600 apps of 4 functions) arrives as an
//! execution of a one-step function on az-func (hosts, the front-end queue, the scale
//! controller, the Python worker) and on aws-lambda (instances, burst scaling, throttling),
//! trace read as a stream. Throughput is in invocations per second (target: at least 2
//! million). `SFSIM_BENCH_TRACE_APPS=260` runs a tenth of the day. Peak memory is measured
//! outside criterion (README: `/usr/bin/time -v sfsim run ...`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sfsim_engine::RngStreams;
use sfsim_platform::{Deployment, DeploymentPlan, Models};
use sfsim_workflow::{Scenario, SourceFile};

fn bench_trace_arrivals(c: &mut Criterion) {
    let apps: usize = std::env::var("SFSIM_BENCH_TRACE_APPS").ok().and_then(|s| s.parse().ok()).unwrap_or(2600);
    let dir = std::env::temp_dir().join(format!("sfsim-bench-trace-arrivals-{}", std::process::id()));
    let written = sfsim_replay::generate_2019(&dir, 1, 42, apps, 4).expect("generate the bench trace");
    eprintln!("trace_arrivals: {written} invocations of {apps} apps");
    let text = format!(
        "[scenario]\nname = \"bench\"\n[arrivals]\nkind = \"azure-2019\"\ndir = \"{}\"\n\
         [deployment.aws-lambda]\nmemory_mb = 512\n[workflow]\nflow = [{{ step = \"handle\" }}]\n\
         [workflow.steps.handle]\ncpu_s = {{ dist = \"fixed\", value_s = 0.05 }}\nmemory_mb = 128\n",
        dir.display()
    );
    let s = Scenario::from_source(SourceFile::from_text("bench.toml", text), &[]).expect("scenario");
    let models = Models::builtin().expect("models");
    let mut g = c.benchmark_group("trace_arrivals");
    g.throughput(Throughput::Elements(written));
    g.sample_size(10);
    for d in [Deployment::AzFunc, Deployment::AwsLambda] {
        let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
        let plan = DeploymentPlan::build(d, &models, &cfg, &s.workflow).expect("plan");
        g.bench_function(d.name(), |b| {
            b.iter(|| black_box(plan.run_folded(&s.workflow, &s.arrivals, u64::MAX, RngStreams::new(1, 0), false).fold.arrived))
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_trace_arrivals);
criterion_main!(benches);
