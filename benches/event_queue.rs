//! The raw event queue: the classic "hold" benchmark. A queue holding `pending` events pops the
//! earliest and schedules a replacement a random increment later, so its size stays constant.
//! Throughput is reported in events (one pop + one push) per second. Target (issue #2): at least
//! 10 million events per second on one core of the 2-core CI machine.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use sfsim_engine::{EventQueue, SimDuration, SimTime};

const EVENTS: u64 = 1_000_000;

fn hold(pending: usize, increments: &[u64]) -> u64 {
    let mut q: EventQueue<u32> = EventQueue::with_capacity(pending);
    for (i, inc) in increments.iter().take(pending).enumerate() {
        q.schedule(SimTime(*inc), i as u32);
    }
    let mut checksum = 0u64;
    for i in 0..EVENTS as usize {
        let (t, e) = q.pop().expect("the hold model never empties");
        checksum = checksum.wrapping_add(u64::from(e));
        q.schedule(t + SimDuration(increments[i % increments.len()]), e);
    }
    checksum
}

fn bench_queue(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    // Exponential-like increments in nanoseconds (mean 1 ms), pre-drawn so the RNG is not timed.
    let increments: Vec<u64> = (0..(1 << 16)).map(|_| (-(1.0 - rng.random::<f64>()).ln() * 1e6) as u64).collect();
    let mut g = c.benchmark_group("event_queue_hold");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(20);
    for pending in [16usize, 1_024, 65_536] {
        g.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, &p| b.iter(|| black_box(hold(p, &increments))));
    }
    g.finish();
}

criterion_group!(benches, bench_queue);
criterion_main!(benches);
