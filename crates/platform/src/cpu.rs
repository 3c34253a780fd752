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
//! **Parameters.** Capacity: Lambda `memory_mb / memory_mb_per_vcpu` (1,769 MB per vCPU, AWS
//! configuration-memory doc); Azure `host_vcpus` (1, AZD event-driven-scaling). Per-task cap:
//! `worker_threads` (assumed 1). Single-thread speed: `cpu_speed` per platform (the reference
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
//! 1.08x on DNN inference (411.image-recognition); Lambda's hosts then exposed AVX without AVX2
//! or FMA (Lambda added AVX2 in November 2020). Only the steps' own work is classed: the
//! platforms' overheads (replay, dispatch, serialization) are scalar.
//!
//! **Scope and limitations.** No context-switch overhead, no memory-bandwidth contention, no
//! CPU credit bursting; I/O phases do not consume CPU. Remaining work is tracked in `f64`
//! vCPU-seconds; completion instants are rounded up to the next nanosecond.
//!
//! **Validation.** Unit tests below check single-task stretch, equal sharing, the re-timing of
//! a running task when another joins, against hand-computed instants, and the class factor;
//! tests/deviation_conflicts_aws.rs runs the study's ML and video workflows with the classed
//! speeds (AWS-Step ahead of every Azure implementation in ML while Az-Func and AWS-Lambda
//! take the same time on the video) and sweeps them.

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
}

/// Processor sharing on one instance.
#[derive(Clone, Debug)]
pub struct CpuShare {
    capacity_vcpu: f64,
    per_task_max_vcpu: f64,
    tasks: Vec<CpuTask>,
    last_update: SimTime,
}

impl CpuShare {
    /// An idle CPU of `capacity_vcpu` whose tasks can each use at most `per_task_max_vcpu`.
    pub fn new(capacity_vcpu: f64, per_task_max_vcpu: f64) -> Self {
        assert!(capacity_vcpu > 0.0 && per_task_max_vcpu > 0.0, "CPU capacity must be positive");
        CpuShare { capacity_vcpu, per_task_max_vcpu, tasks: Vec::new(), last_update: SimTime::ZERO }
    }

    /// An idle CPU of `capacity_vcpu` cores that each run `speed` reference-core seconds of work
    /// per second (a step's `cpu_s` is written for the reference core): processor sharing over
    /// `capacity_vcpu x speed` reference vCPUs, each task using at most `per_task_max_vcpu x speed`.
    pub fn with_speed(capacity_vcpu: f64, per_task_max_vcpu: f64, speed: f64) -> Self {
        assert!(speed > 0.0, "CPU speed must be positive");
        Self::new(capacity_vcpu * speed, per_task_max_vcpu * speed)
    }

    /// vCPUs each running task gets now.
    pub fn rate_vcpu(&self) -> f64 {
        if self.tasks.is_empty() { 0.0 } else { (self.capacity_vcpu / self.tasks.len() as f64).min(self.per_task_max_vcpu) }
    }

    /// Number of tasks computing.
    pub fn active(&self) -> usize {
        self.tasks.len()
    }

    fn advance(&mut self, now: SimTime) {
        let elapsed_s = now.saturating_since(self.last_update).as_secs_f64();
        if elapsed_s > 0.0 {
            let done = elapsed_s * self.rate_vcpu();
            for t in &mut self.tasks {
                t.remaining_vcpu_s = (t.remaining_vcpu_s - done).max(0.0);
            }
        }
        self.last_update = now;
    }

    /// Starts `work_vcpu_s` of computation for `owner` at `now`.
    pub fn add(&mut self, now: SimTime, owner: u32, work_vcpu_s: f64) {
        self.advance(now);
        self.tasks.push(CpuTask { owner, remaining_vcpu_s: work_vcpu_s.max(0.0) });
    }

    /// Removes `owner`'s task (finished or aborted). Returns whether it was there.
    pub fn remove(&mut self, now: SimTime, owner: u32) -> bool {
        self.advance(now);
        match self.tasks.iter().position(|t| t.owner == owner) {
            Some(i) => {
                self.tasks.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The next task to finish and when, if nothing changes before then. Ties go to the task
    /// that started first among equals (lowest owner id), for determinism.
    pub fn next_completion(&self) -> Option<(SimTime, u32)> {
        let rate = self.rate_vcpu();
        let t = self.tasks.iter().min_by(|a, b| a.remaining_vcpu_s.total_cmp(&b.remaining_vcpu_s).then(a.owner.cmp(&b.owner)))?;
        let secs = t.remaining_vcpu_s / rate;
        let ns = (secs * 1e9).ceil();
        let d = if ns >= u64::MAX as f64 { SimDuration(u64::MAX) } else { SimDuration(ns as u64) };
        Some((self.last_update + d, t.owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
