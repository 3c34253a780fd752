//! Trace replay throughput (issue #5): a generated 2019-format day of at least 2 million
//! invocations, opened and replayed with the fixed 10-minute keep-alive (AWS Lambda's). Reading
//! the per-minute counts, expanding them minute by minute, sampling every duration and running
//! the pools are all timed. Throughput is in invocations per second; target at least 3 million per
//! second on one core. Memory does not grow with the number of invocations (one minute of
//! arrivals is materialized at a time).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sfsim_engine::SimDuration;
use sfsim_replay::{Azure2019, Policy, replay};

fn bench_replay(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("sfsim-bench-trace-replay-{}", std::process::id()));
    let written = sfsim_replay::generate_2019(&dir, 1, 42, 250, 3).expect("generate the bench trace");
    assert!(written >= 2_000_000, "the bench trace has only {written} invocations");
    let policy = [Policy::Fixed(Some(SimDuration::from_secs(600)))];
    let mut g = c.benchmark_group("trace_replay");
    g.throughput(Throughput::Elements(written));
    g.sample_size(10);
    g.bench_function("azure2019_fixed_10m", |b| {
        b.iter(|| {
            let mut t = Azure2019::open(&dir, 1, 42).expect("open the bench trace");
            black_box(replay(&mut t, &policy, SimDuration::ZERO).expect("replay"))
        })
    });
    // The replay loop alone, on invocations already expanded (the bound set by parsing).
    let invs: Vec<_> = Azure2019::open(&dir, 1, 42).expect("open").collect::<Result<Vec<_>, _>>().expect("parse");
    g.bench_function("replay_loop_fixed_10m", |b| {
        b.iter(|| {
            let mut r = sfsim_replay::Replayer::new(policy[0], SimDuration::ZERO);
            for inv in &invs {
                r.invoke(*inv);
            }
            black_box(r.finish(sfsim_engine::SimTime::ZERO, |_| 128.0))
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_replay);
criterion_main!(benches);
