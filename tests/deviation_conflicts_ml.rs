//! Known deviations of the ML workflow shown to be conflicts: each test sweeps the model
//! parameters a deviation depends on and shows that no setting meets the deviating target
//! together with another target of the study (calibration/deviations.toml gives the reasons in
//! words). The helpers are those of tests/deviation_conflicts.rs.

use crate::common;

use common::conflicts::{models_with, targets};

/// Az-Dorch's and Az-Dent's GB-s over Az-Func's (study +44 % and +88 %). Swept: the readings
/// of Azure's memory meter (an execution metered from the host's dispatch, its wait for the
/// Python worker's single thread billed, or from its code's start; the process memory shared by
/// the executions running at once, bucketed at every instant as the host does or rounded once
/// per execution, or billed whole to each) and the memory an orchestrator episode or entity
/// batch keeps. A reading that bills enough for Az-Dorch takes Az-Dorch's video
/// compute away from Az-Func's (Fig. 15 parity, met today), and no setting bills entities
/// 1.3x activities (the study's 1.88 / 1.44), since both run the same work on the same hosts.
#[test]
fn no_meter_reading_meets_the_durable_gb_s_overheads_and_the_video_compute_parity() {
    let mut seen = Vec::new();
    for (wait, shared, buckets) in [(0.0, 1.0, 1.0), (1.0, 1.0, 1.0), (0.0, 1.0, 0.0), (1.0, 1.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0)] {
        for mem in [96.0, 500.0, 1000.0] {
            let tag = format!("meter{wait}-{shared}-{buckets}-{mem}");
            let dir = models_with(
                &tag,
                &[
                    ("az-func.toml", "meter_worker_wait", wait),
                    ("az-func.toml", "meter_concurrency_shared", shared),
                    ("az-func.toml", "meter_instant_buckets", buckets),
                    ("az-durable.toml", "orchestrator_memory_mb", mem),
                ],
            );
            let t = targets(&dir, &["ml-train-large-gbs-azdorch", "ml-train-large-gbs-azdent", "video-monthly-compute-azdorch-eq-azfunc"]);
            let v: Vec<f64> = t.iter().map(|x| x.0.values().copied().next().expect("value")).collect();
            let (dorch, dent, video) = (v[0], v[1], v[2]);
            seen.push(format!("{tag}: dorch {dorch:.3} dent {dent:.3} video {video:.3}"));
            assert!(!(t[0].1 && t[2].1), "{tag} meets the Durable GB-s and the video parity: {seen:?}");
            assert!(!(t[0].1 && t[1].1), "{tag} meets both Durable GB-s overheads: {seen:?}");
            assert!(dent / dorch < 1.15, "{tag}: entities bill {:.3}x activities: {seen:?}", dent / dorch);
        }
    }
    eprintln!("{seen:#?}");
}

/// Az-Dent against Az-Dorch: inference 1.24x and the large training's p99 execution 1.08x in
/// the study, while Az-Dent's training latency is Az-Func's (0.97-1.03). Az-Dent runs the
/// study's program (`[deployment.az-dent] flow` of the paper scenarios: training on entities
/// and a sub-orchestrator, inference transforms on the entities holding the trained objects).
/// Swept: the cost of an entity operation's dispatch (the state's load, (de)serialization in
/// the worker and persistence come with every batch). The execution gap grows far slower than
/// the training latency, and inference stays near Az-Dorch's (0.94-0.98x), since Az-Dent runs
/// as many entity operations there as Az-Dorch's gets.
#[test]
fn no_entity_operation_cost_meets_the_entity_gaps_and_the_training_parity() {
    let mut seen = Vec::new();
    for op in [0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0] {
        let dir = models_with(&format!("entity{op}"), &[("az-durable.toml", "operation_cpu_s", op)]);
        let ids = ["ml-inference-azdent-vs-azdorch", "ml-train-large-azdent-exec-vs-azdorch", "ml-train-large-azdent-vs-azfunc"];
        let t = targets(&dir, &ids);
        let v: Vec<f64> = t.iter().map(|x| x.0.values().copied().next().expect("value")).collect();
        seen.push(format!("operation_cpu_s {op}: inference {:.3} exec {:.3} training {:.3}", v[0], v[1], v[2]));
        assert!(!(t[0].1 && t[2].1), "operation_cpu_s = {op} meets the inference gap and the training parity: {seen:?}");
        assert!(!(t[1].1 && t[2].1), "operation_cpu_s = {op} meets the execution gap and the training parity: {seen:?}");
        // Neither gap is met at any operation cost, with or without the parity
        // (calibration/deviations.toml: met_in_no_setting).
        assert!(!t[0].1 && !t[1].1, "operation_cpu_s = {op} meets an entity gap: {seen:?}");
    }
    eprintln!("{seen:#?}");
}
