//! Targets the model does not meet, each with the reason written down.
//!
//! The study's figures are not all reachable with the mechanisms sfsim models today (see
//! `calibration/README.md`). Rather than fitting around them, every target that fails is listed
//! in `calibration/deviations.toml` with why. `sfsim reproduce --check` and the regression tests
//! then fail on any *change*: a target that was met and no longer is, or a listed target that
//! now passes (the file must be updated, so it stays true).

use std::collections::BTreeMap;

use serde::Deserialize;
use sfsim_workflow::{KeyError, LoadError, SourceFile, parse_toml};

use crate::evaluate::TargetOutcome;
use crate::targets::Target;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    deviation: Vec<RawDeviation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeviation {
    id: String,
    reason: String,
    /// Met for some seeds and not others (e.g. two deployments whose values tie): `--check`
    /// accepts either outcome. Say why in the reason.
    #[serde(default)]
    seed_dependent: bool,
    /// The targets this one cannot be met together with (ids of the same set), as shown by the
    /// tests in `shown_by`.
    #[serde(default)]
    conflicts_with: Vec<String>,
    /// The tests that sweep the parameters involved and show the conflict, as
    /// `path/to/test.rs::function`.
    #[serde(default)]
    shown_by: Vec<String>,
}

/// What a deviation is shown to conflict with, and by which tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conflict {
    /// Target ids that no swept setting meets together with this one.
    pub conflicts_with: Vec<String>,
    /// The tests that show it (`tests/file.rs::function`).
    pub shown_by: Vec<String>,
}

/// The known deviations: target id -> reason, and which of them depend on the seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deviations {
    reasons: BTreeMap<String, String>,
    seed_dependent: std::collections::BTreeSet<String>,
    conflicts: BTreeMap<String, Conflict>,
}

impl Deviations {
    /// The reason target `id` is not met, if it is listed.
    pub fn get(&self, id: &str) -> Option<&String> {
        self.reasons.get(id)
    }

    /// Whether target `id` is listed.
    pub fn contains_key(&self, id: &str) -> bool {
        self.reasons.contains_key(id)
    }

    /// Whether target `id` is listed as met for some seeds only.
    pub fn is_seed_dependent(&self, id: &str) -> bool {
        self.seed_dependent.contains(id)
    }

    /// What target `id` is shown to conflict with, and by which tests (empty when not said).
    pub fn conflict(&self, id: &str) -> Option<&Conflict> {
        self.conflicts.get(id)
    }

    /// How many are listed.
    pub fn len(&self) -> usize {
        self.reasons.len()
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The reasons.
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.reasons.values()
    }
}

/// The study's known deviations, compiled in.
pub const PAPER_DEVIATIONS: &str = include_str!("../../../calibration/deviations.toml");

/// Parses a deviations file. Every id must name a target, once.
pub fn load_deviations(src: &SourceFile, targets: &[Target]) -> Result<Deviations, LoadError> {
    let raw: RawFile = parse_toml(src)?;
    let mut out = Deviations::default();
    for (i, d) in raw.deviation.into_iter().enumerate() {
        let key = format!("deviation.{i}.id");
        if !targets.iter().any(|t| t.id == d.id) {
            return Err(src.key_error(KeyError::new(key, format!("no target has id `{}`", d.id))));
        }
        if d.reason.trim().is_empty() {
            return Err(src.key_error(KeyError::new(format!("deviation.{i}.reason"), "a deviation needs its reason")));
        }
        for (j, other) in d.conflicts_with.iter().enumerate() {
            let key = format!("deviation.{i}.conflicts_with.{j}");
            if *other == d.id {
                return Err(src.key_error(KeyError::new(key, "a target does not conflict with itself")));
            }
            if !targets.iter().any(|t| t.id == *other) {
                return Err(src.key_error(KeyError::new(key, format!("no target has id `{other}`"))));
            }
        }
        for (j, test) in d.shown_by.iter().enumerate() {
            let ok = test.split_once("::").is_some_and(|(file, name)| {
                file.ends_with(".rs") && !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if !ok {
                return Err(src.key_error(KeyError::new(
                    format!("deviation.{i}.shown_by.{j}"),
                    format!("`{test}` is not a test: write `path/to/file.rs::function_name`"),
                )));
            }
        }
        if d.seed_dependent {
            out.seed_dependent.insert(d.id.clone());
        }
        if !d.conflicts_with.is_empty() || !d.shown_by.is_empty() {
            out.conflicts.insert(d.id.clone(), Conflict { conflicts_with: d.conflicts_with, shown_by: d.shown_by });
        }
        if out.reasons.insert(d.id.clone(), d.reason).is_some() {
            return Err(src.key_error(KeyError::new(key, format!("`{}` is listed twice", d.id))));
        }
    }
    Ok(out)
}

/// How a target came out against the deviations list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within its band.
    Pass,
    /// Outside its band, and listed as a known deviation.
    Known,
    /// Outside its band and not listed: a regression.
    Fail,
    /// Listed as a deviation but now within its band: the list is stale.
    Stale,
    /// Within its band, and listed as met for some seeds only.
    PassSeedDependent,
}

impl Verdict {
    /// Of one outcome.
    pub fn of(o: &TargetOutcome, deviations: &Deviations) -> Verdict {
        match (o.pass, deviations.contains_key(&o.id)) {
            (true, false) => Verdict::Pass,
            (false, true) => Verdict::Known,
            (false, false) => Verdict::Fail,
            (true, true) if deviations.is_seed_dependent(&o.id) => Verdict::PassSeedDependent,
            (true, true) => Verdict::Stale,
        }
    }

    /// Whether `--check` accepts it.
    pub fn expected(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Known | Verdict::PassSeedDependent)
    }

    /// Whether the target is within its band.
    pub fn met(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Stale | Verdict::PassSeedDependent)
    }

    /// A word for tables.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Known => "known deviation",
            Verdict::Fail => "FAIL",
            Verdict::Stale => "pass (listed as deviation)",
            Verdict::PassSeedDependent => "pass (seed-dependent)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::load_targets;

    #[test]
    fn the_shipped_deviations_name_real_targets() {
        let t = load_targets(&SourceFile::from_text("paper.toml", crate::PAPER_TARGETS)).expect("targets");
        let d = load_deviations(&SourceFile::from_text("deviations.toml", PAPER_DEVIATIONS), &t).expect("deviations load");
        assert!(d.values().all(|r| r.len() > 40), "every reason says why");
    }

    #[test]
    fn a_seed_dependent_deviation_may_pass_or_fail_a_plain_one_must_fail() {
        let t = load_targets(&SourceFile::from_text("paper.toml", crate::PAPER_TARGETS)).expect("targets");
        let text = "[[deviation]]\nid = \"video-coldstart-aws\"\nreason = \"x\"\n[[deviation]]\nid = \"video-awsstep-speedup\"\nreason = \"y\"\nseed_dependent = true\n";
        let d = load_deviations(&SourceFile::from_text("d.toml", text), &t).expect("loads");
        let outcome = |id: &str, pass: bool| TargetOutcome {
            id: id.into(),
            source: String::new(),
            band: String::new(),
            simulated: String::new(),
            values: Vec::new(),
            pass,
            distance: 0.0,
        };
        assert_eq!(Verdict::of(&outcome("video-coldstart-aws", true), &d), Verdict::Stale);
        assert_eq!(Verdict::of(&outcome("video-coldstart-aws", false), &d), Verdict::Known);
        assert_eq!(Verdict::of(&outcome("video-awsstep-speedup", true), &d), Verdict::PassSeedDependent);
        assert_eq!(Verdict::of(&outcome("video-awsstep-speedup", false), &d), Verdict::Known);
        assert_eq!(Verdict::of(&outcome("video-azfunc-eq-awslambda", false), &d), Verdict::Fail);
        let expected: Vec<bool> = [Verdict::Pass, Verdict::Known, Verdict::Fail, Verdict::Stale, Verdict::PassSeedDependent]
            .iter()
            .map(|v| v.expected())
            .collect();
        assert_eq!(expected, [true, true, false, false, true]);
    }

    #[test]
    fn unknown_and_duplicate_ids_are_refused_with_their_key() {
        let t = load_targets(&SourceFile::from_text("paper.toml", crate::PAPER_TARGETS)).expect("targets");
        let e = load_deviations(&SourceFile::from_text("d.toml", "[[deviation]]\nid = \"nope\"\nreason = \"x\"\n"), &t).unwrap_err();
        assert!(e.to_string().contains("deviation.0.id"), "{e}");
        let twice =
            "[[deviation]]\nid = \"video-coldstart-aws\"\nreason = \"a\"\n[[deviation]]\nid = \"video-coldstart-aws\"\nreason = \"b\"\n";
        let e = load_deviations(&SourceFile::from_text("d.toml", twice), &t).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
    }
}
