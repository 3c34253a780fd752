//! CPU share of an instance: memory-proportional capacity and processor sharing.
//!
//! **Models.** An instance (a Lambda execution environment or an Azure host) has a CPU capacity
//! in vCPUs; the executions computing on it share that capacity equally (egalitarian processor
//! sharing), and each execution's thread can use at most `per_task_max_vcpu` (1 for the study's
//! single-threaded Python). A step's CPU demand is written as seconds at one full vCPU, so on
//! Lambda at 1,536 MB (0.868 vCPU) a 10 s step takes 11.52 s, while at 2,048 MB it takes 10 s (the
//! thread cannot use the extra 0.16 vCPU). On an Azure host (1 vCPU) two concurrent executions
//! each run at half speed.
//!
//! **Threads.** A task uses at most as many vCPUs as its code has threads: the platform's
//! `worker_threads` by default, a step's own `threads` when it declares them (a DNN on OpenCV or
//! PyTorch runs several, scikit-learn's fits with `n_jobs = 1` one). With different caps on one
//! instance the capacity is shared max-min fairly (water-filling: every task gets
//! `min(cap, level)`, the level filling the capacity); while every task has the default cap this
//! is the equal share above, computed without sorting.
//!
//! **Bandwidth periods (Lambda).** Lambda enforces its share as Linux CFS bandwidth control
//! does (a quota of CPU time per period, kernel sched-bwc): [`CpuShare::with_bandwidth`] gives an
//! instance a grid of periods from its creation (Lambda's `function.cpu_period_ms`, 20 ms,
//! measured on Lambda: pwrdrvr/lambda-dispatch #246) and a quota of `capacity x period` per
//! period; a lone task runs at its threads' full speed until the quota is used, then waits for
//! the next period. A body shorter than one quota (2.9 ms of CPU at 256 MB) so runs at full
//! speed, a long one at the share within one period. A task bursts on at most the cores the
//! instance shows (Lambda: 2, up to 6 at 10,240 MB). With several tasks on an instance (Lambda
//! runs one invocation per instance unless configured otherwise) the steady share applies, and
//! the quota it uses is counted against the period.
//!
//! **Parameters.** Capacity: Lambda `memory_mb / memory_mb_per_vcpu` (1,769 MB per vCPU, AWS
//! configuration-memory doc); Azure `host_vcpus` (1, AZD event-driven-scaling). Per-task cap:
//! `worker_threads` (assumed 1) or the step's `threads`. Single-thread speed: `cpu_speed` per platform (the reference
//! core of the steps' `cpu_s` = 1; a core of speed s does s reference-seconds of work per
//! second, so capacity and per-task cap are both scaled by s).
//!
//! **Code classes.** A core's speed depends on the code: vectorized kernels (a DNN's
//! convolutions, BLAS, video codecs) run at the speed its SIMD units give them, scalar and
//! branchy code (scikit-learn's trees, Lasso's coordinate descent, pandas, the interpreter) at its
//! clock and pipeline's. A step declares the share of its `cpu_s` spent in vectorized kernels
//! (`vector_share`, 0 by default) and a platform its speed on each class (`cpu_speed` on scalar
//! code, `vector_speed` on vectorized code, equal unless set). The step's reference-core
//! seconds become `cpu_s ((1 - v) + v cpu_speed / vector_speed)` of work at the platform's
//! `cpu_speed` ([`class_work_factor`]), i.e. `cpu_s ((1 - v) / cpu_speed + v / vector_speed)`
//! seconds on one core. Source of the study era's values: the SeBS artifact's August-2020 runs
//! of the same Python code on Lambda and on Azure Functions Consumption (models/aws-lambda.toml):
//! Azure's host took 1.49x a full Lambda core's time on scalar C code (503.graph-bfs) but about
//! 1.05x on DNN inference (411.image-recognition, per vCPU of credit: the median of five memory
//! sizes); Lambda's hosts then exposed AVX without AVX2
//! or FMA (Lambda added AVX2 in November 2020). Profile 2024 (models/profiles/2024.toml) rates
//! Lambda 1.70x on all code from SeBS-Flow's 2024 runs of the same bodies on both clouds (two
//! video codecs and a cv2.dnn detector; the median of four per-vCPU ratios, 1.44-2.11, which do
//! not separate by class). Only the steps' own work is classed: the platforms' overheads (replay,
//! dispatch, serialization) are scalar.
//!
//! **Scope and limitations.** No context-switch overhead, no memory-bandwidth contention, no
//! CFS burst (`cpu.cfs_burst_us`) beyond the quota; I/O phases do not consume CPU (the period
//! grid runs on through them). Remaining work is tracked in `f64`
//! vCPU-seconds; completion instants are rounded up to the next nanosecond.
//!
//! **Validation.** Unit tests below check single-task stretch, equal sharing, the re-timing of
//! a running task when another joins, against hand-computed instants, the class factor and the
//! max-min sharing of different thread caps, the bandwidth quota's arithmetic and a proptest of
//! its consistency; examples/lambda_short_bodies.rs; tests/cpu_classes.rs runs the study's ML and video
//! workflows with the classed speeds (AWS-Step ahead of every Azure implementation in ML while
//! Az-Func and AWS-Lambda take the same time on the video), sweeps them, and checks the rating
//! against its sources (calibration/targets/sebs2020-cpu.toml, sebs2024-cpu.toml).

use sfsim_engine::{SimDuration, SimTime};

/// Work, in seconds at a core's scalar speed `cpu_speed`, of one reference-core second of a step
/// whose share `vector_share` is vectorized code, on a core whose vectorized code runs at
/// `vector_speed`: `(1 - v) + v cpu_speed / vector_speed` (1 when the two speeds are equal or
/// the step is scalar).
pub fn class_work_factor(vector_share: f64, cpu_speed: f64, vector_speed: f64) -> f64 {
    if vector_share <= 0.0 || vector_speed == cpu_speed {
        return 1.0;
    }
    (1.0 - vector_share) + vector_share * cpu_speed / vector_speed
}

/// One execution computing on an instance.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CpuTask {
    owner: u32,
    remaining_vcpu_s: f64,
    /// The most it can use, reference vCPUs (its threads times the core's speed).
    max_vcpu: f64,
}

/// Processor sharing on one instance.
#[derive(Clone, Debug)]
pub struct CpuShare {
    capacity_vcpu: f64,
    per_task_max_vcpu: f64,
    /// Reference-core seconds a core does per second (scales a task's own thread count).
    speed: f64,
    tasks: Vec<CpuTask>,
    /// Tasks whose cap is not `per_task_max_vcpu` (a step with its own `threads`): while there
    /// are none, every task gets the same rate and the shares need no water-filling.
    own_caps: usize,
    /// The water level while `own_caps > 0`: it depends on the caps alone, so it is computed
    /// when a task comes or goes, not at every event.
    level: f64,
    last_update: SimTime,
    /// CFS bandwidth control (Lambda): the instance's credit is a quota per period, not a rate.
    /// Boxed: most instances (Azure's) have none, and the instance records stay small.
    bandwidth: Option<Box<Bandwidth>>,
}

/// CFS bandwidth control of one instance (Linux `cpu.cfs_quota_us` per `cpu.cfs_period_us`,
/// kernel sched-bwc): in every period of the grid that starts at the instance's creation, its
/// tasks may do `quota` reference-seconds of work at their full thread speed; a task that has
/// used it waits for the next period.
#[derive(Clone, Debug)]
struct Bandwidth {
    period_s: f64,
    anchor: SimTime,
    /// Reference-core work allowed per period: the capacity times the period.
    quota: f64,
    /// The fastest a task runs while quota is left: the cores the instance shows, times their
    /// speed (a task's own threads may be fewer).
    max_burst: f64,
    /// The period (index from the anchor) that `used` counts.
    period: u64,
    /// Work done in that period.
    used: f64,
    /// The lone task's completion as `next_completion` last found it, with the period state
    /// then: (instant, owner, period, used). Its removal at that instant takes the state from
    /// here instead of running the periods again.
    end: std::cell::Cell<Option<(SimTime, u32, u64, f64)>>,
}

impl Bandwidth {
    /// Seconds from the period grid's origin to `t`.
    fn secs(&self, t: SimTime) -> f64 {
        t.saturating_since(self.anchor).as_secs_f64()
    }
}

/// Work below which a task counts as done under the bandwidth limit, reference-core seconds (a
/// picosecond: what float rounding leaves of a body that should end exactly).
const WORK_EPS: f64 = 1e-12;

impl CpuShare {
    /// An idle CPU of `capacity_vcpu` whose tasks can each use at most `per_task_max_vcpu`.
    pub fn new(capacity_vcpu: f64, per_task_max_vcpu: f64) -> Self {
        assert!(capacity_vcpu > 0.0 && per_task_max_vcpu > 0.0, "CPU capacity must be positive");
        CpuShare {
            capacity_vcpu,
            per_task_max_vcpu,
            speed: 1.0,
            tasks: Vec::new(),
            own_caps: 0,
            level: f64::INFINITY,
            last_update: SimTime::ZERO,
            bandwidth: None,
        }
    }

    /// This CPU with its capacity enforced as CFS bandwidth control rather than as a rate: a
    /// quota of `capacity x period_s` per period of `period_s`, the periods counted from
    /// `anchor` (the instance's creation). A lone task runs at its full thread speed until the
    /// period's quota is used, then waits for the next period; over many periods that is the
    /// capacity, but a body shorter than one quota runs at full speed. With several tasks the
    /// steady share applies, and the quota it uses counts against the period.
    ///
    /// `visible_vcpus` is how many cores the instance shows (Lambda: 2, more from 3,538 MB): a
    /// task's burst is at most that many cores at the instance's speed.
    pub fn with_bandwidth(mut self, period_s: f64, anchor: SimTime, visible_vcpus: f64) -> Self {
        if period_s > 0.0 {
            let quota = self.capacity_vcpu * period_s;
            let max_burst = visible_vcpus * self.speed;
            let end = std::cell::Cell::new(None);
            self.bandwidth = Some(Box::new(Bandwidth { period_s, anchor, quota, max_burst, period: 0, used: 0.0, end }));
        }
        self
    }

    /// The lone task's full speed when the bandwidth limit applies to it (it can go faster than
    /// the capacity), else `None`.
    fn bandwidth_burst(&self) -> Option<f64> {
        match (&self.bandwidth, self.tasks.as_slice()) {
            (Some(bw), [t]) if t.max_vcpu.min(bw.max_burst) > self.capacity_vcpu => Some(t.max_vcpu.min(bw.max_burst)),
            _ => None,
        }
    }

    /// When a lone task with `work` left at `from` (seconds from the anchor) finishes at full
    /// speed `burst` under the bandwidth limit, and the period state then: (seconds from the
    /// anchor, period, work used in it): the rest of this period's quota, whole periods, then
    /// the last part.
    #[inline(never)]
    fn bandwidth_finish(bw: &Bandwidth, burst: f64, from: f64, work: f64) -> (f64, u64, f64) {
        let p = bw.period_s;
        // `from` is never negative, so truncation is the floor (and no libm call).
        let k = (from / p) as u64;
        let used = if k == bw.period { bw.used } else { 0.0 };
        let period_end = (k + 1) as f64 * p;
        let first = (bw.quota - used).max(0.0).min(burst * (period_end - from).max(0.0));
        if work <= first + WORK_EPS {
            return (from + work / burst, k, used + work);
        }
        // The quota is more than a burst does in a period's rest only when the burst is slower
        // than the capacity, which `bandwidth_burst` excludes: every later period does `quota`.
        // Work within `WORK_EPS` of a whole number of quotas ends in the last of them, not one
        // period later.
        let left = work - first;
        let n = (((left - WORK_EPS) / bw.quota).ceil() as u64).saturating_sub(1);
        let last = left - n as f64 * bw.quota;
        (period_end + n as f64 * p + last / burst, k + 1 + n, last)
    }

    /// The work a lone task with `work` left does at full speed `burst` under the bandwidth
    /// limit from `from` to `until` (seconds from the anchor), and the period state at `until`:
    /// (period, work used in it, work done). In closed form, as [`Self::bandwidth_finish`]: the
    /// rest of the first period's quota, a quota per whole period between, the start of the last.
    #[cold]
    #[inline(never)]
    fn bandwidth_progress(bw: &Bandwidth, burst: f64, from: f64, until: f64, work: f64) -> (u64, f64, f64) {
        let p = bw.period_s;
        let (k0, k1) = ((from / p) as u64, (until / p) as u64);
        let used0 = if k0 == bw.period { bw.used } else { 0.0 };
        let left0 = (bw.quota - used0).max(0.0);
        if k1 == k0 {
            let done = left0.min(burst * (until - from)).min(work);
            return (k0, used0 + done, done);
        }
        // `bandwidth_burst` makes the burst faster than the share, so a whole period uses its quota.
        let first = left0.min(burst * ((k0 + 1) as f64 * p - from));
        let whole = (k1 - k0 - 1) as f64 * bw.quota;
        let last = bw.quota.min(burst * (until - k1 as f64 * p).max(0.0));
        let done = (first + whole + last).min(work);
        // What the task did in the last period: none if its work ran out before it began.
        (k1, (done - first - whole).max(0.0), done)
    }

    /// An idle CPU of `capacity_vcpu` cores that each run `speed` reference-core seconds of work
    /// per second (a step's `cpu_s` is written for the reference core): processor sharing over
    /// `capacity_vcpu x speed` reference vCPUs, each task using at most `per_task_max_vcpu x speed`.
    pub fn with_speed(capacity_vcpu: f64, per_task_max_vcpu: f64, speed: f64) -> Self {
        assert!(speed > 0.0, "CPU speed must be positive");
        CpuShare { speed, ..Self::new(capacity_vcpu * speed, per_task_max_vcpu * speed) }
    }

    /// vCPUs each running task gets now when every task has the default cap (else the share of
    /// a task at the default cap).
    pub fn rate_vcpu(&self) -> f64 {
        if self.tasks.is_empty() {
            0.0
        } else if self.own_caps == 0 {
            (self.capacity_vcpu / self.tasks.len() as f64).min(self.per_task_max_vcpu)
        } else {
            self.level.min(self.per_task_max_vcpu)
        }
    }

    /// The water level of max-min fair sharing over the tasks' caps: each task gets
    /// `min(cap, level)` and the shares fill the capacity unless every task is at its cap
    /// (then the level is infinite).
    fn water_level(&self) -> f64 {
        let mut caps: Vec<f64> = self.tasks.iter().map(|t| t.max_vcpu).collect();
        caps.sort_by(f64::total_cmp);
        let (mut left, mut n) = (self.capacity_vcpu, caps.len());
        for c in caps {
            if c * n as f64 <= left {
                left -= c;
                n -= 1;
            } else {
                return left / n as f64;
            }
        }
        f64::INFINITY
    }

    /// The rate of a task with cap `max_vcpu` at water level `level`.
    fn rate_at(level: f64, max_vcpu: f64) -> f64 {
        max_vcpu.min(level)
    }

    /// Number of tasks computing.
    pub fn active(&self) -> usize {
        self.tasks.len()
    }

    fn advance(&mut self, now: SimTime) {
        let elapsed_s = now.saturating_since(self.last_update).as_secs_f64();
        if elapsed_s > 0.0 {
            if let Some(burst) = self.bandwidth_burst() {
                if let Some((end, owner, period, used)) = self.bandwidth.as_ref().and_then(|bw| bw.end.get())
                    && end == now
                    && owner == self.tasks[0].owner
                {
                    // The lone task completes now, as computed when it was scheduled.
                    let bw = self.bandwidth.as_mut().expect("bandwidth");
                    (bw.period, bw.used) = (period, used);
                    self.tasks[0].remaining_vcpu_s = 0.0;
                    self.last_update = now;
                    return;
                }
                let bw = self.bandwidth.as_ref().expect("bandwidth");
                let (from, until) = (bw.secs(self.last_update), bw.secs(now));
                let (period, used, done) = Self::bandwidth_progress(bw, burst, from, until, self.tasks[0].remaining_vcpu_s);
                let bw = self.bandwidth.as_mut().expect("bandwidth");
                (bw.period, bw.used) = (period, used);
                self.tasks[0].remaining_vcpu_s = (self.tasks[0].remaining_vcpu_s - done).max(0.0);
            } else if self.own_caps == 0 {
                let rate = self.rate_vcpu();
                for t in &mut self.tasks {
                    t.remaining_vcpu_s = (t.remaining_vcpu_s - elapsed_s * rate).max(0.0);
                }
                if self.bandwidth.is_some() {
                    self.count_steady_quota(now, rate * self.tasks.len() as f64);
                }
            } else {
                let level = self.level;
                for t in &mut self.tasks {
                    t.remaining_vcpu_s = (t.remaining_vcpu_s - elapsed_s * Self::rate_at(level, t.max_vcpu)).max(0.0);
                }
                if self.bandwidth.is_some() {
                    let total = self.tasks.iter().map(|t| Self::rate_at(level, t.max_vcpu)).sum();
                    self.count_steady_quota(now, total);
                }
            }
        }
        self.last_update = now;
    }

    /// Counts against the period the quota used from the last update to `now` at the steady
    /// total rate `total` (several tasks, or one that cannot outrun the share), so that a task
    /// left alone next starts with what the period has left.
    #[cold]
    fn count_steady_quota(&mut self, now: SimTime, total: f64) {
        let Some(bw) = self.bandwidth.as_mut() else { return };
        if total <= 0.0 {
            return;
        }
        let (from, until) = (bw.secs(self.last_update), bw.secs(now));
        let k = (until / bw.period_s) as u64;
        let start = from.max(k as f64 * bw.period_s);
        let before = if k == bw.period { bw.used } else { 0.0 };
        bw.used = (before + total * (until - start)).min(bw.quota);
        bw.period = k;
    }

    /// Starts `work_vcpu_s` of computation for `owner` at `now`, its threads the instance's
    /// default (`worker_threads`).
    pub fn add(&mut self, now: SimTime, owner: u32, work_vcpu_s: f64) {
        self.add_threads(now, owner, work_vcpu_s, None);
    }

    /// Starts `work_vcpu_s` of computation for `owner` at `now` whose code runs `threads`
    /// threads (a step's own `threads`; `None`: the instance's default): it uses at most that
    /// many cores.
    pub fn add_threads(&mut self, now: SimTime, owner: u32, work_vcpu_s: f64, threads: Option<u8>) {
        self.advance(now);
        if let Some(bw) = &self.bandwidth {
            bw.end.set(None);
        }
        let max_vcpu = threads.map_or(self.per_task_max_vcpu, |n| f64::from(n.max(1)) * self.speed);
        if max_vcpu != self.per_task_max_vcpu {
            self.own_caps += 1;
        }
        self.tasks.push(CpuTask { owner, remaining_vcpu_s: work_vcpu_s.max(0.0), max_vcpu });
        self.caps_changed();
    }

    /// A task came or went: the water level follows the caps (only needed while a task has
    /// its own cap).
    fn caps_changed(&mut self) {
        self.level = if self.own_caps == 0 { f64::INFINITY } else { self.water_level() };
    }

    /// Removes `owner`'s task (finished or aborted). Returns whether it was there.
    pub fn remove(&mut self, now: SimTime, owner: u32) -> bool {
        self.advance(now);
        if let Some(bw) = &self.bandwidth {
            bw.end.set(None);
        }
        match self.tasks.iter().position(|t| t.owner == owner) {
            Some(i) => {
                if self.tasks[i].max_vcpu != self.per_task_max_vcpu {
                    self.own_caps -= 1;
                }
                self.tasks.swap_remove(i);
                self.caps_changed();
                true
            }
            None => false,
        }
    }

    /// The owner of the task [`Self::next_completion`] names, without computing when it ends
    /// when there is only one.
    pub fn completing_owner(&self) -> Option<u32> {
        match self.tasks.as_slice() {
            [t] => Some(t.owner),
            _ => self.next_completion().map(|(_, owner)| owner),
        }
    }

    /// The next task to finish and when, if nothing changes before then. Ties go to the lowest
    /// owner id (an invocation slot, which is reused: not necessarily the oldest task), for
    /// determinism.
    pub fn next_completion(&self) -> Option<(SimTime, u32)> {
        let at = |secs: f64| {
            let ns = (secs * 1e9).ceil();
            if ns >= u64::MAX as f64 { SimDuration(u64::MAX) } else { SimDuration(ns as u64) }
        };
        if let Some(burst) = self.bandwidth_burst() {
            let (bw, task) = (self.bandwidth.as_ref().expect("bandwidth"), &self.tasks[0]);
            let from = bw.secs(self.last_update);
            let (end, period, used) = Self::bandwidth_finish(bw, burst, from, task.remaining_vcpu_s);
            let at_end = self.last_update + at(end - from);
            bw.end.set(Some((at_end, task.owner, period, used)));
            return Some((at_end, task.owner));
        }
        if self.own_caps == 0 {
            let rate = self.rate_vcpu();
            let t = self.tasks.iter().min_by(|a, b| a.remaining_vcpu_s.total_cmp(&b.remaining_vcpu_s).then(a.owner.cmp(&b.owner)))?;
            return Some((self.last_update + at(t.remaining_vcpu_s / rate), t.owner));
        }
        let level = self.level;
        let (secs, owner) = self
            .tasks
            .iter()
            .map(|t| (t.remaining_vcpu_s / Self::rate_at(level, t.max_vcpu), t.owner))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))?;
        Some((self.last_update + at(secs), owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Max-min fair sharing, whatever the capacity and the tasks' caps: no task above its
        /// cap; the rates fill the capacity or every task is at its cap; and a task below its
        /// cap gets at least as much as any other task (none could gain without taking from a
        /// task that has less).
        #[test]
        fn water_filling_is_max_min_fair(capacity in 0.1f64..8.0, caps in proptest::collection::vec(1u8..5, 1..12), default in 1u8..3) {
            let mut c = CpuShare::new(capacity, f64::from(default));
            for (k, &cap) in caps.iter().enumerate() {
                c.add_threads(SimTime::ZERO, k as u32, 1.0, (cap != default).then_some(cap));
            }
            let level = if c.own_caps == 0 { f64::INFINITY } else { c.level };
            let rates: Vec<(f64, f64)> = c.tasks.iter().map(|t| {
                let r = if c.own_caps == 0 { c.rate_vcpu() } else { CpuShare::rate_at(level, t.max_vcpu) };
                (r, t.max_vcpu)
            }).collect();
            let total: f64 = rates.iter().map(|r| r.0).sum();
            let caps_total: f64 = rates.iter().map(|r| r.1).sum();
            prop_assert!(rates.iter().all(|&(r, cap)| r <= cap + 1e-12));
            prop_assert!((total - capacity.min(caps_total)).abs() < 1e-9, "total {} capacity {} caps {}", total, capacity, caps_total);
            let top = rates.iter().map(|r| r.0).fold(0.0, f64::max);
            for &(r, cap) in &rates {
                if r < cap - 1e-12 {
                    prop_assert!(r >= top - 1e-12, "a task below its cap at {} while another has {}", r, top);
                }
            }
        }
    }

    #[test]
    fn class_factor_runs_each_share_at_its_own_speed() {
        // Scalar steps and equal speeds: the work is the reference-core seconds.
        assert_eq!(class_work_factor(0.0, 1.5, 1.1), 1.0);
        assert_eq!(class_work_factor(0.7, 1.2, 1.2), 1.0);
        // 10 reference-seconds, 60 % vectorized, on a core of scalar speed 1.5 and vectorized
        // speed 1.2: 4 / 1.5 + 6 / 1.2 = 7.667 s on one core, i.e. 11.5 s of work at speed 1.5.
        let work = 10.0 * class_work_factor(0.6, 1.5, 1.2);
        assert!((work - 11.5).abs() < 1e-12, "{work}");
        let mut c = CpuShare::with_speed(1.0, 1.0, 1.5);
        c.add(SimTime::ZERO, 1, work);
        let (t, _) = c.next_completion().expect("a task");
        assert!((t.as_secs_f64() - (4.0 / 1.5 + 6.0 / 1.2)).abs() < 1e-8, "{t:?}");
        // Fully vectorized: the vectorized speed alone.
        assert!((class_work_factor(1.0, 1.5, 1.2) * 1.0 / 1.5 - 1.0 / 1.2).abs() < 1e-12);
    }

    /// The next completion must be task `who` at `at_s` seconds; returns its instant.
    fn expect_next(c: &CpuShare, who: u32, at_s: f64) -> SimTime {
        let (t, owner) = c.next_completion().expect("a task");
        assert_eq!(owner, who, "next to finish at {t:?}");
        assert!((t.as_secs_f64() - at_s).abs() < 1e-8, "task {who} ends at {t:?}, expected {at_s} s");
        t
    }

    /// A step with its own thread count: on 2 vCPUs a two-thread task alone uses both; with a
    /// one-thread task beside it, each gets one (max-min fairness); on Lambda's 1.16 vCPUs of
    /// credit at 2 GB a two-thread task uses all 1.16.
    #[test]
    fn a_task_with_its_own_threads_uses_up_to_that_many_cores() {
        let mut c = CpuShare::new(2.0, 1.0);
        c.add_threads(SimTime::ZERO, 1, 10.0, Some(2));
        assert_eq!(expect_next(&c, 1, 5.0), SimTime::from_secs_f64(5.0), "exactly 5 s");
        // A one-thread task joins at 1 s: 8 left on the first, both now at 1 vCPU.
        c.add(SimTime::from_secs_f64(1.0), 2, 3.0);
        let t = expect_next(&c, 2, 4.0);
        c.remove(t, 2);
        // Alone again from 4 s with 5 left: 2.5 s at 2 vCPUs.
        expect_next(&c, 1, 6.5);
        // Three tasks on 2 vCPUs, caps 2, 1, 1: water level 2/3 each.
        let mut c = CpuShare::new(2.0, 1.0);
        c.add_threads(SimTime::ZERO, 1, 2.0, Some(2));
        c.add(SimTime::ZERO, 2, 2.0);
        c.add(SimTime::ZERO, 3, 4.0);
        expect_next(&c, 1, 3.0);
        // Lambda at 2,048 MB: 1.158 vCPUs of credit, a single thread uses 1, two use all.
        let credit = 2048.0 / 1769.0;
        let mut one = CpuShare::new(credit, 1.0);
        one.add(SimTime::ZERO, 1, 10.0);
        let mut two = CpuShare::new(credit, 1.0);
        two.add_threads(SimTime::ZERO, 1, 10.0, Some(2));
        expect_next(&one, 1, 10.0);
        expect_next(&two, 1, 10.0 / credit);
        // A step's threads scale with the core's speed as the default cap does.
        let mut fast = CpuShare::with_speed(2.0, 1.0, 1.5);
        fast.add_threads(SimTime::ZERO, 1, 6.0, Some(2));
        expect_next(&fast, 1, 2.0);
    }

    /// What an equal split capped per task would get wrong: spare capacity goes to the tasks
    /// that can use it. On 4 vCPUs a one-thread and a four-thread task get 1 and 3 (an equal
    /// split would give 1 and 2); when every task is at its cap (capacity left over) each runs at
    /// its cap; removing the last task with its own cap returns to the equal split.
    #[test]
    fn spare_capacity_goes_to_the_tasks_that_can_use_it() {
        let mut c = CpuShare::new(4.0, 1.0);
        c.add(SimTime::ZERO, 1, 10.0);
        c.add_threads(SimTime::ZERO, 2, 6.0, Some(4));
        // Task 2 at 3 vCPUs ends at 2 s; task 1 at 1 vCPU has 8 left then.
        let t = expect_next(&c, 2, 2.0);
        assert!(c.remove(t, 2));
        assert_eq!(c.own_caps, 0);
        assert_eq!(c.rate_vcpu(), 1.0);
        expect_next(&c, 1, 10.0);
        // Every task at its cap: caps 1 and 2 on 4 vCPUs run at 1 and 2.
        let mut c = CpuShare::new(4.0, 1.0);
        c.add(SimTime::ZERO, 1, 3.0);
        c.add_threads(SimTime::ZERO, 2, 5.0, Some(2));
        expect_next(&c, 2, 2.5);
        // Removing an owner that is not there changes nothing.
        assert!(!c.remove(SimTime::from_secs_f64(1.0), 9));
        assert_eq!((c.own_caps, c.active()), (1, 2));
    }

    #[test]
    fn lambda_share_stretches_single_thread_work() {
        // 1,536 MB / 1,769 MB per vCPU = 0.8683 vCPU: 10 s of work takes 11.5169 s.
        let mut c = CpuShare::new(1536.0 / 1769.0, 1.0);
        c.add(SimTime::ZERO, 7, 10.0);
        let (t, who) = c.next_completion().expect("a task");
        assert_eq!(who, 7);
        assert_eq!(t.0, (10.0_f64 * 1769.0 / 1536.0 * 1e9).ceil() as u64);
        // Above one vCPU the single thread cannot go faster.
        let mut c = CpuShare::new(2.0, 1.0);
        c.add(SimTime::ZERO, 1, 3.0);
        assert_eq!(c.next_completion(), Some((SimTime(3_000_000_000), 1)));
    }

    #[test]
    fn a_faster_core_finishes_the_same_work_sooner() {
        // 12 reference-seconds on one core of speed 1.2 take 10 s; the share of a 0.8683-vCPU
        // Lambda at speed 1.2 is 1.042 reference vCPUs.
        let mut c = CpuShare::with_speed(1.0, 1.0, 1.2);
        c.add(SimTime::ZERO, 3, 12.0);
        assert_eq!(c.next_completion(), Some((SimTime(10_000_000_000), 3)));
        let c = CpuShare::with_speed(1536.0 / 1769.0, 1.0, 1.2);
        assert!((c.capacity_vcpu - 1.2 * 1536.0 / 1769.0).abs() < 1e-12);
    }

    #[test]
    fn concurrent_tasks_share_the_host_cpu() {
        // Task A (4 s) starts at 0; task B (1 s) joins at 1 s. From 1 s both run at 0.5 vCPU:
        // B finishes at 3 s; A has 3 - 1 = 2 s left at 3 s, finishing at 5 s.
        let mut c = CpuShare::new(1.0, 1.0);
        c.add(SimTime::ZERO, 0, 4.0);
        c.add(SimTime::from_secs_f64(1.0), 1, 1.0);
        let (t, who) = c.next_completion().expect("a task");
        assert_eq!((t, who), (SimTime::from_secs_f64(3.0), 1));
        assert!(c.remove(t, 1));
        let (t, who) = c.next_completion().expect("a task");
        assert_eq!((t, who), (SimTime::from_secs_f64(5.0), 0));
    }

    /// CFS bandwidth control (Lambda at 256 MB: 0.1447 vCPU, 2.894 ms of CPU per 20 ms): a body
    /// shorter than one quota runs at full speed; a longer one runs a quota per period and
    /// finishes within the last; a task that starts after another used the period's quota waits
    /// for the next period; above the share's reach (one thread at 2 GB) nothing changes.
    #[test]
    fn bandwidth_control_runs_short_bodies_at_full_speed() {
        let share = 256.0 / 1769.0;
        let (period, quota) = (0.020, share * 0.020);
        let c = |anchor: f64| CpuShare::new(share, 1.0).with_bandwidth(period, SimTime::from_secs_f64(anchor), 2.0);
        // 2 ms of work: under one quota, full speed (a steady share would take 13.8 ms).
        let mut a = c(0.0);
        a.add(SimTime::ZERO, 1, 0.002);
        expect_next(&a, 1, 0.002);
        // 3.5 quotas: three periods, then half a quota at full speed.
        let mut b = c(0.0);
        b.add(SimTime::ZERO, 1, 3.5 * quota);
        expect_next(&b, 1, 3.0 * period + 0.5 * quota);
        // Starting 5 ms into a period: the quota is whole there, and 2 quotas end 1 quota into
        // the next period.
        let mut d = c(0.0);
        d.add(SimTime::from_secs_f64(0.005), 1, 2.0 * quota);
        expect_next(&d, 1, period + quota);
        // A task that finished at 2.5 ms used 2.5 ms of the first period's 2.894 ms: the next,
        // starting at 5 ms, gets the 0.394 ms left, then waits for the next period.
        let mut e = c(0.0);
        e.add(SimTime::ZERO, 1, 0.0025);
        let t = expect_next(&e, 1, 0.0025);
        e.remove(t, 1);
        e.add(SimTime::from_secs_f64(0.005), 2, 0.001);
        expect_next(&e, 2, period + (0.001 - (quota - 0.0025)));
        // The grid starts at the instance's creation (anchor 7 ms): 2 quotas from 0.010 s run
        // one quota until 0.010 + q, wait for 0.027, run the second.
        let mut f = c(-0.013 + 0.020);
        f.add(SimTime::from_secs_f64(0.010), 1, 2.0 * quota);
        expect_next(&f, 1, 0.027 + quota);
        // One thread at 2,048 MB: the share is more than the thread can use; as without the limit.
        let credit = 2048.0 / 1769.0;
        let mut g = CpuShare::new(credit, 1.0).with_bandwidth(period, SimTime::ZERO, 2.0);
        g.add(SimTime::ZERO, 1, 10.0);
        assert_eq!(g.next_completion(), Some((SimTime(10_000_000_000), 1)));
        // Exactly three quotas end in the third period, not a period later (float rounding of a
        // whole number of quotas).
        let mut h = c(0.0);
        h.add(SimTime::ZERO, 1, 3.0 * quota);
        expect_next(&h, 1, 2.0 * period + quota);
        // Four threads burst on the two cores the instance shows: 2 quotas at 2 vCPUs take one
        // quota's time over two.
        let mut m = c(0.0);
        m.add_threads(SimTime::ZERO, 1, 2.0 * quota, Some(4));
        expect_next(&m, 1, period + quota / 2.0);
    }

    /// The quota used while several tasks share the instance at the steady rate still counts:
    /// two tasks from 0 at half the share each use 0.6 of the period's quota by 12 ms; the one
    /// left then has 0.4 of a quota before it waits for the next period.
    #[test]
    fn bandwidth_counts_the_quota_used_at_the_steady_rate() {
        let share = 256.0 / 1769.0;
        let (period, quota) = (0.020, share * 0.020);
        let mut c = CpuShare::new(share, 1.0).with_bandwidth(period, SimTime::ZERO, 2.0);
        c.add(SimTime::ZERO, 1, 1.0);
        c.add(SimTime::ZERO, 2, 0.5 * share * 0.012);
        let t = expect_next(&c, 2, 0.012);
        assert!(c.remove(t, 2));
        let bw = c.bandwidth.as_ref().expect("bandwidth");
        assert_eq!(bw.period, 0);
        assert!((bw.used - 0.6 * quota).abs() < 1e-12, "{}", bw.used);
        // Task 1 did 0.5 x 0.6 quota; it has 0.4 quota left in this period at full speed.
        let left = 1.0 - 0.3 * quota;
        let n = ((left - 0.4 * quota) / quota).ceil() - 1.0;
        let last = left - 0.4 * quota - n * quota;
        expect_next(&c, 1, period + n * period + last);
    }

    proptest! {
        /// Under bandwidth control a lone task's completion does not depend on when the CPU
        /// looks at it (an add or remove of another owner's nothing advances it), and lies
        /// between its time at full speed and its time at the steady share plus one period.
        #[test]
        fn bandwidth_completion_is_consistent_and_bounded(share in 0.05f64..0.95, period_ms in 1.0f64..100.0, work in 0.0005f64..2.0, anchor_ms in 0.0f64..100.0, start_s in 0.0f64..50.0, speed in 0.5f64..2.0, threads in 1u8..4, looks in proptest::collection::vec(0.0f64..1.0, 0..6)) {
            let period = period_ms / 1000.0;
            let mut c = CpuShare::with_speed(share, 1.0, speed).with_bandwidth(period, SimTime::from_secs_f64(anchor_ms / 1000.0), 2.0);
            let start = SimTime::from_secs_f64(0.1 + start_s);
            c.add_threads(start, 1, work, Some(threads));
            let (end, _) = c.next_completion().expect("a task");
            let span = end.saturating_since(start).as_secs_f64();
            let burst = f64::from(threads).min(2.0) * speed;
            prop_assert!(span >= work / burst - 1e-9 && span <= work / (share * speed) + period + 1e-6, "span {} work {} share {} period {}", span, work, share, period);
            // Removed at its completion, the task leaves the same period state whether it comes
            // from the completion (`bandwidth_finish`, cached) or from its progress to that
            // instant (`bandwidth_progress`).
            let mut fresh = c.clone();
            fresh.bandwidth.as_ref().expect("bw").end.set(None);
            prop_assert!(c.remove(end, 1) && fresh.remove(end, 1));
            let (a, b) = (c.bandwidth.as_ref().expect("bw"), fresh.bandwidth.as_ref().expect("bw"));
            prop_assert!(a.period == b.period && (a.used - b.used).abs() < 1e-9, "at its completion {:?} against its progress to that instant {:?}", (a.period, a.used), (b.period, b.used));
            let mut c = CpuShare::with_speed(share, 1.0, speed).with_bandwidth(period, SimTime::from_secs_f64(anchor_ms / 1000.0), 2.0);
            c.add_threads(start, 1, work, Some(threads));
            let mut looks = looks;
            looks.sort_by(f64::total_cmp);
            for f in looks {
                let at = start + SimDuration::from_secs_f64(span * f);
                prop_assert!(!c.remove(at, 99));
                let (again, who) = c.next_completion().expect("a task");
                prop_assert_eq!(who, 1);
                prop_assert!(again.0.abs_diff(end.0) <= 8, "looked at {:?}: {:?} against {:?}", at, again, end);
            }
        }
    }
}
