//! The work an execution does, drawn the same on every deployment (common random numbers).
//!
//! **Models.** A step's CPU and I/O time of execution `e` (fan-out item `item`) come from their
//! own random stream, keyed by (execution, step, item), apart from everything a platform draws
//! (storage latencies, cold starts, polling). So the single function of `aws-lambda` and
//! `az-func`, the chain of `az-queue`, the activities of `az-dorch` and the Lambda tasks of
//! `aws-step` run exactly the same work for execution `e`, whatever the order in which each
//! platform meets the steps and whatever else it draws; a difference between deployments then
//! comes from their mechanisms, not from sampling noise. The items of a split fan-out share one
//! draw (the work is a total divided among them), as item 0.
//!
//! **Parameters.** None: the distributions are the scenario's (`cpu_s`, `io_s` of each step).
//! The generator is SplitMix64 ([`sfsim_engine::WorkRng`]), portable and cheap to start.
//!
//! **Scope and limits.** Storage latencies, cold starts and polling are the platform's draws
//! and differ between deployments by design. Keys hold up to 2^24 executions, 2^17 steps and
//! 2^17 items per fan-out, above the scenario limits.
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: a one-function chain bills exactly the
//! stateless function's GB-s with a random CPU time; `sfsim reproduce --seeds 10` shows every
//! met comparison holding on every seed.

use sfsim_engine::{RngStreams, WorkRng, WorkStreams};

/// The work streams of a replication (the stream name hashed once).
pub fn work_streams(streams: &RngStreams) -> WorkStreams {
    streams.work_streams("work")
}

/// The stream of step `step`'s work in execution `e`, fan-out item `item`.
pub fn work_rng(work: &WorkStreams, e: u32, step: u32, item: u32) -> WorkRng {
    // Executions < 2^24 (MAX_ITERATIONS is 1e7), steps < 2^17, items < 2^17 (1e5 at most).
    work.get((u64::from(e) << 34) | (u64::from(step & 0x1_FFFF) << 17) | u64::from(item & 0x1_FFFF))
}
