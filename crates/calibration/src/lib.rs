//! # sfsim-calibration
//!
//! The study's measurements as machine-checkable *targets*, the *experiments* they name, and
//! the evaluation of simulated results against them.
//!
//! ```text
//!  calibration/targets/paper.toml ──► Target ─┐
//!  scenarios/paper/experiments.toml ─► Experiment ─► run_scenario ─► ExperimentResult ─► evaluate
//!                                                                                        │
//!                                                  TargetOutcome { simulated, band, pass } ◄┘
//! ```
//!
//! Target kinds (see the file's header): `ratio` (metric(a) / metric(b) in a band), `range`
//! (metric of each deployment in a band), `order` (metric increasing over the listed
//! deployments), `less_than_all` (metric(a) below every other), `share` (part / total in a band)
//! and `quantiles` (p50/p95/p99 each in a band). A target naming several experiments or
//! deployments passes only if every combination passes.
#![warn(missing_docs)]

mod baseline;
mod deviations;
mod evaluate;
mod experiments;
mod fit;
mod fitted;
mod metrics;
mod targets;

pub use baseline::{
    Baseline, PAPER_BASELINE, Recorded, TargetDrift, ValueDrift, default_tolerance, drift, fmt_sig, load_baseline, render_baseline,
};
pub use deviations::{Conflict, ConflictBound, Deviations, PAPER_DEVIATIONS, Verdict, conflict_bound, load_deviations};
pub use evaluate::{TargetOutcome, evaluate, evaluate_all};
pub use experiments::{Experiment, ExperimentResult, load_experiments, run_experiment, run_experiments};
pub use fit::{
    CENTRING_WEIGHT, CrossValidation, FitGroup, FitOptions, FitParam, FitPlan, FitResult, FitSet, Fold, HeldOut, OverSeeds, band_distance,
    calibrate, centring, cross_validate, fit_groups, load_fit_plan, objective,
};
pub use fitted::{fitted_ids, fitted_targets};
pub use metrics::{is_metric, metric};
pub use targets::{Target, TargetFile, TargetKind, load_target_file, load_targets};

/// The study's targets, compiled in.
pub const PAPER_TARGETS: &str = include_str!("../../../calibration/targets/paper.toml");
