//! Regression tests against the study (issue #4): the reproduction runs with the experiments'
//! own iteration counts (100 executions per configuration, as the study) and every target of
//! calibration/targets/paper.toml must come out as calibration/deviations.toml says: within its
//! band, or a listed deviation with its reason. A model change that breaks a reproduced result,
//! or that newly meets a listed one, fails here until the files say so.
//!
//! The whole reproduction takes well under a second in release mode, so the test also runs it
//! under two more seeds: a target that passes only for one seed is not reproduced, it is luck.

use std::path::Path;

use sfsim_calibration::{
    Deviations, TargetOutcome, Verdict, evaluate_all, load_deviations, load_experiments, load_targets, run_experiments,
};
use sfsim_platform::Models;
use sfsim_workflow::SourceFile;

fn reproduce(seed: Option<u64>) -> (Vec<TargetOutcome>, Deviations) {
    let targets = load_targets(&SourceFile::from_text("paper.toml", sfsim_calibration::PAPER_TARGETS)).expect("targets");
    let deviations =
        load_deviations(&SourceFile::from_text("deviations.toml", sfsim_calibration::PAPER_DEVIATIONS), &targets).expect("deviations");
    let experiments = load_experiments(Path::new("scenarios/paper/experiments.toml")).expect("experiments");
    let models = Models::builtin().expect("models");
    let results = run_experiments(&experiments, &models, None, seed, |_, _| {}).expect("experiments run");
    (evaluate_all(&targets, &results), deviations)
}

fn unexpected(outcomes: &[TargetOutcome], deviations: &Deviations) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| !Verdict::of(o, deviations).expected())
        .map(|o| format!("{} is {} ({}; study: {})", o.id, Verdict::of(o, deviations).word(), o.simulated, o.band))
        .collect()
}

#[test]
fn every_target_is_met_or_a_documented_deviation() {
    let (outcomes, deviations) = reproduce(None);
    assert_eq!(outcomes.len(), 37, "every target of the study is evaluated");
    let bad = unexpected(&outcomes, &deviations);
    assert!(bad.is_empty(), "the reproduction changed:\n{}", bad.join("\n"));
    let met = outcomes.iter().filter(|o| o.pass).count();
    eprintln!("{met} of {} targets met, {} documented deviations", outcomes.len(), deviations.len());
}

#[test]
fn the_verdicts_do_not_depend_on_the_seed() {
    // The same check as `sfsim reproduce --check` under two more seeds: every met target is met
    // and every listed deviation fails (a deviation marked seed_dependent may go either way).
    for seed in [2, 3] {
        let (outcomes, deviations) = reproduce(Some(seed));
        let bad = unexpected(&outcomes, &deviations);
        assert!(bad.is_empty(), "seed {seed}: the reproduction depends on the seed:\n{}", bad.join("\n"));
    }
}
