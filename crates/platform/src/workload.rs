//! The work an execution does, drawn the same on every deployment (common random numbers).
//!
//! **Models.** A step's CPU and I/O time of execution `e` (fan-out item `item`) come from their
//! own random stream, keyed by (execution, step, item), apart from everything a platform draws
//! (storage latencies, cold starts, polling). So the single function of `aws-lambda` and
//! `az-func`, the chain of `az-queue`, the activities of `az-dorch` and the Lambda tasks of
//! `aws-step` draw exactly the same work for execution `e`, whatever the order in which each
//! platform meets the steps and whatever else it draws; a difference between deployments then
//! comes from their mechanisms (an Azure host's CPU-time spread among them, below), not from
//! sampling noise. The items of a split fan-out share one draw (the work is a total divided
//! among them), as item 0 ([`Item`]: `draw` keys the work, `inv` the invocation).
//!
//! **Parameters.** The distributions are the scenario's (`cpu_s`, `io_s` of each step). The
//! generator is SplitMix64 ([`sfsim_engine::WorkRng`]), portable and cheap to start. One platform
//! parameter scales the CPU: `function.cpu_noise_sigma` (models/az-func.toml: 0.047 log-sd on
//! Consumption, measured in the SeBS-Flow 2024 artifact by calibration/scripts/cpu_noise.py;
//! 0 on Lambda, models/aws-lambda.toml, and on Flex and Premium) is how much more a body's CPU
//! time spreads between invocations on an Azure host than the work's own spread, which Lambda
//! shows alone. Each body's CPU work (and an entity operation's own `op_cpu_s`, keyed by the
//! operation as its storage stream is) is multiplied by `exp(sigma z - sigma^2 / 2)` (mean 1),
//! z from the stream `cpu-noise` of its (execution, step, the invocation's own item): the same
//! factor for that invocation on every Azure deployment, so comparisons between them stay free
//! of it, and the work streams and storage draws are untouched by it. Validation:
//! `tests/cpu_noise.rs` (the spread, the mean and the common draws of one body; an entity
//! operation's spread on both entity paths; a split fan-out's items each with their own factor;
//! the study's AWS-sharper tail on every seed with it, not without) and this module's tests (the
//! factor's mean, its keying).
//!
//! **Scope and limits.** Storage latencies, cold starts and polling are the platform's draws
//! and differ between deployments by design; they come from the platform's own (execution, step,
//! item) stream, keyed the same collision-free way ([`stream_key`]). Keys hold up to 2^30
//! executions, 2^17 steps and 2^17 items per fan-out, above the scenario limits. A step that
//! appears more than once in the flows (680.excamera's five `rebase` calls) is one step per
//! occurrence (the loader appends copies, `Step::function` naming the first), so each
//! occurrence draws its own work, storage latencies and CPU factor, the same on every
//! deployment (`tests/repeated_steps.rs`). Two limits remain: a fan-out named twice runs the
//! same body steps at both uses, and a workflow given as an ASL machine keeps its repeated
//! Task steps as one step: their occurrences draw the same work (on every deployment alike).
//! The items of a split fan-out share item 0's work (`draw`) and draw their own storage
//! latencies (`inv`), as every invocation's requests are its own.
//!
//! **Entity keys.** The keys an execution addresses of a keyed state object
//! (`[workflow.state.<name>] keys = N`) come from the replication's stream `entity-keys`, one per
//! (execution, object) ([`entity_keys`]), drawn in reference order, so every deployment meets
//! the same accounts in the same execution. With `distinct = true` a key already drawn is drawn
//! again, up to [`DISTINCT_TRIES`] times, then the next unused key after it (mod `keys`) is taken:
//! exact for uniform choices, and a bounded cost for a skewed Zipf whose tail keys are rare. An
//! entity operation's own CPU (`op_cpu_s`) comes from the stream `entity-op` of (execution,
//! operation, item).
//!
//! **Validation.** `tests/stateful_mechanisms.rs`: a one-function chain bills exactly the
//! stateless function's GB-s with a random CPU time; `sfsim reproduce --seeds 10` shows every
//! met comparison holding on every seed.

use rand_distr::Distribution;
use sfsim_engine::{RngStreams, SimDuration, SimRng, WorkRng, WorkStreams};
use sfsim_workflow::{EntityOpId, EntityRef, StateId, Step, Workflow};

use crate::deployment::FunctionPlatform;
use crate::storage::{FunctionTransfer, StorageOp};

/// One piece of a step's work, in the order it happens; each simulator turns it into phases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Work {
    /// CPU-seconds at one vCPU that the function's code spends on its first call on an
    /// instance (the step's `first_call_cpu_s`); the simulator keeps it for that call only.
    FirstCall(f64),
    /// Reading an object or a state object from remote storage (its wait and client CPU).
    Get(FunctionTransfer),
    /// CPU-seconds at one vCPU.
    Cpu(f64),
    /// Waiting on non-storage I/O.
    Io(SimDuration),
    /// Writing an object or a state object to remote storage.
    Put(FunctionTransfer),
}

/// The work of one step, scaled by `share` (a split fan-out item's part): object reads (when
/// `fetch_objects`; state objects too when `state_via_storage`), CPU and I/O from the step's work
/// stream `work`, then writes (and state updates when `state_via_storage`). Storage transfer
/// times come from the platform's own stream `rng`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_work(
    s: &Step,
    w: &Workflow,
    p: &FunctionPlatform,
    share: f64,
    fetch_objects: bool,
    state_via_storage: bool,
    work: &mut WorkRng,
    rng: &mut StorageRng<'_>,
    mut emit: impl FnMut(Work),
) {
    let state_size = |id: &EntityRef| w.state[id.state.0 as usize].size_bytes;
    if s.first_call_cpu_s > 0.0 {
        emit(Work::FirstCall(s.first_call_cpu_s));
    }
    if fetch_objects {
        let state_reads = s.state_reads.iter().filter(|_| state_via_storage).map(state_size);
        for b in s.reads_bytes.iter().copied().chain(state_reads) {
            emit(Work::Get(p.storage.function_transfer(StorageOp::Get, b, rng.get())));
        }
    }
    let class = crate::cpu::class_work_factor(s.vector_share, p.cpu_speed, p.vector_speed);
    let cpu = s.cpu.sample(work) * share * class * rng.cpu_noise_factor(p.cpu_noise_sigma);
    if cpu > 0.0 {
        emit(Work::Cpu(cpu));
    }
    let io = SimDuration::from_secs_f64(s.io.sample(work) * share);
    if io > SimDuration::ZERO {
        emit(Work::Io(io));
    }
    let state_updates = s.state_updates.iter().filter(|_| state_via_storage).map(state_size);
    for b in s.writes_bytes.iter().copied().chain(state_updates) {
        emit(Work::Put(p.storage.function_transfer(StorageOp::Put, b, rng.get())));
    }
}

/// Which fan-out item an invocation is. `draw` keys the work: a split fan-out's items share item
/// 0's draw of the total work (each does its share of it), other items draw their own. `inv` is
/// the invocation itself, which keys what the platform draws for it (its storage latencies, the
/// host's CPU-time spread): two invocations are two draws even when they share the work's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Item {
    /// The item whose draw of the work this invocation does its share of.
    pub draw: u32,
    /// The invocation's own item.
    pub inv: u32,
}

impl Item {
    /// Outside any fan-out.
    pub const ZERO: Item = Item { draw: 0, inv: 0 };

    /// Item `k` of a fan-out, split (`split`: one draw of the total work, item 0's) or not.
    pub fn of(k: u32, split: bool) -> Item {
        Item { draw: if split { 0 } else { k }, inv: k }
    }
}

/// The platform's stream of one step's storage transfers (execution, step, item), started on
/// first use: most steps touch no storage, and starting a stream costs a ChaCha key setup.
pub(crate) struct StorageRng<'a> {
    streams: &'a RngStreams,
    /// The stream family `cpu-noise` of the replication ([`noise_streams`]).
    noise: WorkStreams,
    /// The stream key of the invocation (its own item): its storage draws and the host's
    /// CPU-time factor.
    key: u64,
    rng: Option<SimRng>,
}

impl<'a> StorageRng<'a> {
    /// The stream of step `step` of execution `e`, fan-out item `item`.
    pub fn new(streams: &'a RngStreams, noise: WorkStreams, e: u32, step: u32, item: Item) -> Self {
        StorageRng { streams, noise, key: stream_key(e, step, item.inv), rng: None }
    }

    pub fn get(&mut self) -> &mut SimRng {
        let (streams, key) = (self.streams, self.key);
        self.rng.get_or_insert_with(|| streams.indexed("storage", key))
    }

    /// The host's factor on this invocation's CPU time, `exp(sigma z - sigma^2 / 2)` (mean 1),
    /// from the stream `cpu-noise` of the same (execution, step) and the invocation's own item:
    /// apart from the storage draws, so that it leaves them unchanged, and the same for that
    /// invocation on every deployment that has the spread (common random numbers, as for the
    /// work itself).
    pub fn cpu_noise_factor(&self, sigma: f64) -> f64 {
        cpu_noise_factor(&self.noise, self.key, sigma)
    }
}

/// Draws of a distinct key before the next unused key is taken instead.
pub const DISTINCT_TRIES: u32 = 64;

/// The keys execution `e` drew of state object `state`, in reference order (`name[0]`,
/// `name[1]`, ...). An object of one key is key 0 without a draw.
pub fn entity_keys(streams: &RngStreams, w: &Workflow, e: u32, state: StateId) -> Vec<u64> {
    let k = &w.state[state.0 as usize].keying;
    if k.keys == 1 {
        return vec![0; k.refs as usize];
    }
    let mut rng = streams.indexed("entity-keys", stream_key(e, state.0, 0));
    let mut keys: Vec<u64> = Vec::with_capacity(k.refs as usize);
    for _ in 0..k.refs {
        let mut key = k.choice.sample(k.keys, &mut rng);
        if k.distinct {
            let mut tries = 1;
            while keys.contains(&key) && tries < DISTINCT_TRIES {
                key = k.choice.sample(k.keys, &mut rng);
                tries += 1;
            }
            while keys.contains(&key) {
                key = (key + 1) % k.keys;
            }
        }
        keys.push(key);
    }
    keys
}

/// The key execution `e` addresses as `r` (`account[1]`).
pub fn entity_key(streams: &RngStreams, w: &Workflow, e: u32, r: EntityRef) -> u64 {
    entity_keys(streams, w, e, r.state)[r.slot as usize]
}

/// The stream family `cpu-noise` of a replication (the name hashed once per run).
pub fn noise_streams(streams: &RngStreams) -> WorkStreams {
    streams.work_streams("cpu-noise")
}

/// The host's factor on one invocation's CPU time, `exp(sigma z - sigma^2 / 2)` (mean 1; 1 when
/// `sigma` is 0), z from the `cpu-noise` stream of the invocation's key ([`stream_key`]).
pub fn cpu_noise_factor(noise: &WorkStreams, key: u64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return 1.0;
    }
    let z: f64 = rand_distr::StandardNormal.sample(&mut noise.get(key));
    (sigma * z - sigma * sigma / 2.0).exp()
}

/// The CPU-seconds of entity operation `op` in execution `e`, fan-out item `item`, on a host
/// whose CPU time spreads by `cpu_noise_sigma` between invocations (user code, as a step's body:
/// the factor of the operation's key, the step index above the steps', as its storage stream).
pub(crate) fn entity_op_cpu_s(
    streams: &RngStreams,
    noise: &WorkStreams,
    w: &Workflow,
    e: u32,
    op: EntityOpId,
    item: Item,
    cpu_noise_sigma: f64,
) -> f64 {
    let d = &w.entity_ops[op.0 as usize].cpu;
    if d.is_zero() {
        return 0.0;
    }
    let cpu = d.sample(&mut streams.indexed("entity-op", stream_key(e, op.0, item.draw)));
    cpu * cpu_noise_factor(noise, stream_key(e, w.steps.len() as u32 + op.0, item.inv), cpu_noise_sigma)
}

/// The work streams of a replication (the stream name hashed once).
pub fn work_streams(streams: &RngStreams) -> WorkStreams {
    streams.work_streams("work")
}

/// Bits of a [`stream_key`] given to the step and to the fan-out item.
const STEP_BITS: u32 = 17;
const ITEM_BITS: u32 = 17;

/// The key of the (execution, step, item) streams: the three packed into disjoint bit ranges,
/// so two different triples never share a stream. Executions < 2^30, steps and items < 2^17;
/// the scenario loader's limits (10^7 executions per replication, far fewer steps, at most
/// 10^5 items per fan-out) keep every triple in range, and a triple out of range is a bug that
/// stops the run rather than silently sharing a stream.
pub fn stream_key(e: u32, step: u32, item: u32) -> u64 {
    assert!(
        e < 1 << (64 - STEP_BITS - ITEM_BITS) && step < 1 << STEP_BITS && item < 1 << ITEM_BITS,
        "stream key out of range: execution {e}, step {step}, item {item}"
    );
    (u64::from(e) << (STEP_BITS + ITEM_BITS)) | (u64::from(step) << ITEM_BITS) | u64::from(item)
}

/// The stream of step `step`'s work in execution `e`, fan-out item `item`.
pub fn work_rng(work: &WorkStreams, e: u32, step: u32, item: u32) -> WorkRng {
    work.get(stream_key(e, step, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_cpu_factor_has_mean_one_is_one_without_spread_and_is_fixed_by_its_key() {
        let streams = RngStreams::new(7, 0);
        // sigma 0.5 over 100,000 invocations: the mean is 1 (without the -sigma^2/2 term it would
        // be exp(0.125) = 1.133) and the log-sd 0.5.
        let noise = noise_streams(&streams);
        let f: Vec<f64> = (0..100_000u32).map(|e| cpu_noise_factor(&noise, stream_key(e, 3, 0), 0.5)).collect();
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        let logs: Vec<f64> = f.iter().map(|x| x.ln()).collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|l| (l - m) * (l - m)).sum::<f64>() / logs.len() as f64).sqrt();
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!((sd - 0.5).abs() < 0.01, "log-sd {sd}");
        // No spread: exactly 1, whatever the key.
        assert_eq!(cpu_noise_factor(&noise, stream_key(1, 2, 3), 0.0), 1.0);
        // The same key gives the same factor; another item or step another one.
        let k = |e, s, i| cpu_noise_factor(&noise, stream_key(e, s, i), 0.047);
        assert_eq!(k(5, 2, 1), k(5, 2, 1));
        assert_ne!(k(5, 2, 1), k(5, 2, 2));
        assert_ne!(k(5, 2, 1), k(5, 3, 1));
    }

    #[test]
    fn a_split_items_invocation_has_its_own_platform_draws() {
        // Item 3 of a split fan-out does its share of item 0's work (`draw`, keyed by the
        // caller), and draws its own storage latencies and factor.
        let streams = RngStreams::new(11, 0);
        let noise = noise_streams(&streams);
        let at = |item| StorageRng::new(&streams, noise, 4, 2, item);
        let (split, own, zero) = (at(Item::of(3, true)), at(Item::of(3, false)), at(Item::ZERO));
        assert_eq!(Item::of(3, true).draw, 0, "the work: item 0's draw");
        assert_eq!(split.key, own.key, "the platform's draws: the invocation's own");
        assert_ne!(split.key, zero.key);
        assert_ne!(split.cpu_noise_factor(0.047), zero.cpu_noise_factor(0.047));
    }

    #[test]
    fn stream_keys_of_different_triples_differ() {
        // The collision of the old storage-stream key `(e << 20) ^ (step << 32 | item)`:
        // execution 4096 step 0 drew the stream of execution 0 step 1.
        assert_ne!(stream_key(4096, 0, 0), stream_key(0, 1, 0));
        let mut seen = std::collections::HashSet::new();
        for e in [0, 1, 4095, 4096, 1 << 20, (1 << 30) - 1] {
            for step in [0, 1, 2, (1 << 17) - 1] {
                for item in [0, 1, 99_999, (1 << 17) - 1] {
                    assert!(seen.insert(stream_key(e, step, item)), "({e}, {step}, {item}) collides");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "stream key out of range")]
    fn an_item_out_of_range_stops_the_run() {
        stream_key(0, 0, 1 << 17);
    }
}
