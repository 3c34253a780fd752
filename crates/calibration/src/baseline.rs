//! Recorded values: what each target's simulated value was when it was last accepted, and how
//! far it may move.
//!
//! `--check` against the deviations list compares pass/fail only, so a known deviation could
//! drift without limit while its written reason ("about 2.6x") became false. The baseline
//! (`calibration/baseline.toml`) records every target's value(s) at the default seed and
//! iterations with a tolerance; `sfsim reproduce` shows each target's drift, `--check` fails when
//! a known deviation leaves its tolerance (and warns for a met target, whose band already guards
//! it), and `--update-baseline` rewrites the file from the current run, keeping the tolerances.
//!
//! A value may move by `max(tolerance * |recorded|, absolute)`.

use std::collections::BTreeMap;

use serde::Deserialize;
use sfsim_workflow::{KeyError, LoadError, SourceFile, parse_toml};

use crate::deviations::Deviations;
use crate::evaluate::TargetOutcome;
use crate::targets::{Target, TargetKind};

/// The study's baseline, compiled in.
pub const PAPER_BASELINE: &str = include_str!("../../../calibration/baseline.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    recorded: Vec<RawRecorded>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecorded {
    id: String,
    tolerance: f64,
    #[serde(default)]
    absolute: f64,
    value: Option<f64>,
    values: Option<BTreeMap<String, f64>>,
    note: Option<String>,
}

/// One target's recorded values and tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// (label, value), labels as in [`TargetOutcome::values`].
    pub values: Vec<(String, f64)>,
    /// Relative tolerance (0.05 = 5 %).
    pub tolerance: f64,
    /// Absolute tolerance, for values near 0 (0: none).
    pub absolute: f64,
    /// Why the tolerance is what it is, kept across `--update-baseline`.
    pub note: Option<String>,
}

impl Recorded {
    /// How far a value recorded as `recorded` may move.
    pub fn allowed(&self, recorded: f64) -> f64 {
        (self.tolerance * recorded.abs()).max(self.absolute)
    }

    /// The tolerance in words: `5 %`, `10 % or 0.05`.
    pub fn tolerance_text(&self) -> String {
        let rel = format!("{} %", fmt_sig(self.tolerance * 100.0).trim_end_matches(".0"));
        if self.absolute > 0.0 { format!("{rel} or {}", fmt_sig(self.absolute)) } else { rel }
    }
}

/// The recorded values of a target set: target id -> [`Recorded`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baseline {
    entries: BTreeMap<String, Recorded>,
}

impl Baseline {
    /// The record of target `id`.
    pub fn get(&self, id: &str) -> Option<&Recorded> {
        self.entries.get(id)
    }

    /// How many targets are recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Parses a baseline file. Every id must name a target, once; `value` (one value) or `values`
/// (label = value), not both; tolerances finite and >= 0.
pub fn load_baseline(src: &SourceFile, targets: &[Target]) -> Result<Baseline, LoadError> {
    let raw: RawFile = parse_toml(src)?;
    let mut out = Baseline::default();
    for (i, r) in raw.recorded.into_iter().enumerate() {
        let key = |k: &str| format!("recorded.{i}.{k}");
        let err = |k: &str, m: String| src.key_error(KeyError::new(key(k), m));
        if !targets.iter().any(|t| t.id == r.id) {
            return Err(err("id", format!("no target has id `{}`", r.id)));
        }
        if !(r.tolerance.is_finite() && r.tolerance >= 0.0) {
            return Err(err("tolerance", "needs a finite relative tolerance >= 0 (0.05 = 5 %)".into()));
        }
        if !(r.absolute.is_finite() && r.absolute >= 0.0) {
            return Err(err("absolute", "needs a finite absolute tolerance >= 0".into()));
        }
        let values: Vec<(String, f64)> = match (r.value, r.values) {
            (Some(v), None) => vec![("value".to_string(), v)],
            (None, Some(vs)) if !vs.is_empty() => vs.into_iter().collect(),
            (Some(_), Some(_)) => return Err(err("values", "give `value` or `values`, not both".into())),
            _ => return Err(err("value", "needs the recorded `value` (or `values = { label = value, ... }`)".into())),
        };
        if let Some((label, _)) = values.iter().find(|(_, v)| !v.is_finite()) {
            return Err(err("values", format!("`{label}` is not a finite number")));
        }
        let rec = Recorded { values, tolerance: r.tolerance, absolute: r.absolute, note: r.note };
        if out.entries.insert(r.id.clone(), rec).is_some() {
            return Err(err("id", format!("`{}` is recorded twice", r.id)));
        }
    }
    Ok(out)
}

/// One value's move since it was recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueDrift {
    /// Label, as in [`TargetOutcome::values`].
    pub label: String,
    /// The recorded value.
    pub recorded: f64,
    /// The value now (NaN when it could not be computed).
    pub now: f64,
    /// How far it may move.
    pub allowed: f64,
}

impl ValueDrift {
    /// Whether it stayed within its tolerance.
    pub fn within(&self) -> bool {
        (self.now - self.recorded).abs() <= self.allowed * (1.0 + 1e-9)
    }

    /// The change in words: `+3.1 %` of the recorded value, or `+0.012` when it was 0.
    pub fn change_text(&self) -> String {
        if !self.now.is_finite() {
            return "n/a".into();
        }
        let d = self.now - self.recorded;
        if self.recorded != 0.0 {
            let pct = 100.0 * d / self.recorded.abs();
            if pct.abs() < 0.05 { "0.0 %".into() } else { format!("{pct:+.1} %") }
        } else {
            format!("{}{}", if d >= 0.0 { "+" } else { "" }, fmt_sig(d))
        }
    }

    /// `recorded -> now (change)`.
    pub fn text(&self) -> String {
        let label = if self.label == "value" { String::new() } else { format!("{}: ", self.label) };
        format!("{label}{} -> {} ({})", fmt_sig(self.recorded), fmt_sig(self.now), self.change_text())
    }

    /// The move in units of its allowance (1 = at the edge of its tolerance).
    fn severity(&self) -> f64 {
        let d = (self.now - self.recorded).abs();
        if !d.is_finite() {
            f64::INFINITY
        } else if self.allowed > 0.0 {
            d / self.allowed
        } else if d == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    }
}

/// A target's drift against its record.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetDrift {
    /// Every recorded value beside its value now, in the outcome's order.
    pub values: Vec<ValueDrift>,
    /// The tolerance in words.
    pub tolerance: String,
    /// The relative tolerance.
    pub relative: f64,
    /// The absolute tolerance (0: none).
    pub absolute: f64,
}

impl TargetDrift {
    /// Whether any value left its tolerance.
    pub fn beyond(&self) -> bool {
        self.values.iter().any(|v| !v.within())
    }

    /// The value that moved most for its allowance.
    pub fn worst(&self) -> Option<&ValueDrift> {
        self.values.iter().max_by(|a, b| a.severity().total_cmp(&b.severity()))
    }

    /// Every value's `recorded -> now (change)`, joined.
    pub fn text(&self) -> String {
        self.values.iter().map(ValueDrift::text).collect::<Vec<_>>().join("; ")
    }

    /// The worst value's change, for narrow columns.
    pub fn short(&self) -> String {
        self.worst().map_or_else(|| "-".into(), ValueDrift::change_text)
    }
}

/// The drift of an outcome against the baseline: `None` when the target is not recorded. A
/// value recorded but missing now counts as NaN (beyond any tolerance); a value now that was not
/// recorded (a new label) counts as recorded NaN.
pub fn drift(o: &TargetOutcome, baseline: &Baseline) -> Option<TargetDrift> {
    let rec = baseline.get(&o.id)?;
    let mut values: Vec<ValueDrift> = Vec::new();
    for (label, now) in &o.values {
        let recorded = rec.values.iter().find(|(l, _)| l == label).map_or(f64::NAN, |(_, v)| *v);
        values.push(ValueDrift { label: label.clone(), recorded, now: *now, allowed: rec.allowed(recorded) });
    }
    for (label, recorded) in &rec.values {
        if !o.values.iter().any(|(l, _)| l == label) {
            values.push(ValueDrift { label: label.clone(), recorded: *recorded, now: f64::NAN, allowed: rec.allowed(*recorded) });
        }
    }
    Some(TargetDrift { values, tolerance: rec.tolerance_text(), relative: rec.tolerance, absolute: rec.absolute })
}

/// The tolerance a target gets when it is first recorded, by kind: ratios of two like
/// quantities 5 %; shares, ranges, quantiles and the metrics of orders 10 %; targets listed as
/// seed-dependent 20 %. When the band reaches down to about 0 (`[0, 1]`: its low edge within a
/// tenth of its high one) and a value is below a tenth of the high edge, the target also gets an
/// absolute tolerance of 5 % of the high edge, so that noise around 0 is not drift.
pub fn default_tolerance(t: &Target, seed_dependent: bool, values: &[(String, f64)]) -> (f64, f64) {
    // A band that reaches down to about 0 (`[0, 1]`): its scale is its upper edge.
    let from_zero = |b: &(f64, f64)| (b.0.abs() <= 0.1 * b.1.abs()).then_some(b.1.abs());
    let (relative, scale) = match &t.kind {
        TargetKind::Ratio { band, .. } => (0.05, from_zero(band)),
        TargetKind::Share { band, .. } | TargetKind::Range { band, .. } => (0.10, from_zero(band)),
        TargetKind::Quantiles { bands, .. } => (0.10, bands.iter().filter_map(|(_, b)| from_zero(b)).reduce(f64::min)),
        TargetKind::Order { .. } | TargetKind::LessThanAll { .. } => (0.10, None),
    };
    let relative = if seed_dependent { 0.20 } else { relative };
    let absolute = match scale {
        Some(s) if s > 0.0 && values.iter().any(|(_, v)| v.abs() < 0.1 * s) => 0.05 * s,
        _ => 0.0,
    };
    (relative, absolute)
}

/// A number with 6 significant digits, as TOML accepts it (always with a decimal point).
pub fn fmt_sig(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x == 0.0 {
        return "0.0".into();
    }
    let d = 5 - x.abs().log10().floor() as i64;
    let mut s = if d < 0 {
        let p = 10f64.powi(-d as i32);
        format!("{:.0}", (x / p).round() * p)
    } else {
        let decimals = d.min(17) as usize;
        format!("{x:.decimals$}")
    };
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.push('0');
        }
    } else {
        s.push_str(".0");
    }
    s
}

fn toml_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if c.is_control() => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

const HEADER: &str = "\
# Recorded values of the targets beside them (see calibration/README.md, \"Recorded values\"):
# each target's simulated value(s) at the default seed and iterations, and how far each may move:
# max(tolerance x |recorded|, absolute). `sfsim reproduce` shows every target's drift;
# `--check` fails when a known deviation leaves its tolerance and warns when a met target does.
# Written by `sfsim reproduce --update-baseline` (tolerances, `absolute` and `note` are kept;
# edit them here). Defaults for a newly recorded target: ratio 5 %; share, range, quantiles and
# order/less_than_all metrics 10 %; seed-dependent deviations 20 %; plus, when the band reaches
# down to about 0 and a value is below a tenth of its high edge, an absolute tolerance of 5 % of
# that edge.
";

/// The baseline file for `outcomes` (in target order): every outcome with values is recorded;
/// tolerances and notes come from `old` where it has the target, else [`default_tolerance`].
/// Targets of `old` that did not run (`--only`) keep their record.
pub fn render_baseline(targets: &[Target], outcomes: &[TargetOutcome], old: &Baseline, deviations: &Deviations) -> String {
    let mut s = String::from(HEADER);
    for t in targets {
        let (values, rec) = match outcomes.iter().find(|o| o.id == t.id) {
            Some(o) if !o.values.is_empty() => (o.values.clone(), old.get(&t.id).cloned()),
            _ => match old.get(&t.id) {
                Some(r) => (r.values.clone(), Some(r.clone())),
                None => continue,
            },
        };
        let (tolerance, absolute, note) = match rec {
            Some(r) => (r.tolerance, r.absolute, r.note),
            None => {
                let (r, a) = default_tolerance(t, deviations.is_seed_dependent(&t.id), &values);
                (r, a, None)
            }
        };
        s.push_str(&format!("\n[[recorded]]\nid = {}\ntolerance = {}\n", toml_str(&t.id), fmt_sig(tolerance)));
        if absolute > 0.0 {
            s.push_str(&format!("absolute = {}\n", fmt_sig(absolute)));
        }
        if let Some(n) = note {
            s.push_str(&format!("note = {}\n", toml_str(&n)));
        }
        if values.len() == 1 && values[0].0 == "value" {
            s.push_str(&format!("value = {}\n", fmt_sig(values[0].1)));
        } else {
            let parts: Vec<String> = values.iter().map(|(l, v)| format!("{} = {}", toml_str(l), fmt_sig(*v))).collect();
            s.push_str(&format!("values = {{ {} }}\n", parts.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::load_targets;

    fn paper() -> Vec<Target> {
        load_targets(&SourceFile::from_text("paper.toml", crate::PAPER_TARGETS)).expect("targets")
    }

    fn outcome(id: &str, values: &[(&str, f64)]) -> TargetOutcome {
        TargetOutcome {
            id: id.into(),
            source: String::new(),
            band: String::new(),
            simulated: String::new(),
            values: values.iter().map(|(l, v)| (l.to_string(), *v)).collect(),
            pass: false,
            distance: 0.0,
        }
    }

    #[test]
    fn the_shipped_baseline_records_every_study_target() {
        let t = paper();
        let b = load_baseline(&SourceFile::from_text("baseline.toml", PAPER_BASELINE), &t).expect("baseline loads");
        for x in &t {
            assert!(b.get(&x.id).is_some(), "{} is recorded", x.id);
        }
    }

    #[test]
    fn a_value_that_moves_beyond_its_tolerance_is_drift_and_within_it_is_not() {
        let t = paper();
        let text = "[[recorded]]\nid = \"ml-train-queue-transactions-azdorch-vs-azqueue\"\ntolerance = 0.05\nvalue = 2.6\n\
                    [[recorded]]\nid = \"ml-coldstart-durable\"\ntolerance = 0.1\nabsolute = 0.05\nvalues = { \"az-dorch\" = 1.0, \"az-dent\" = 0.0 }\n";
        let b = load_baseline(&SourceFile::from_text("b.toml", text), &t).expect("loads");
        let id = "ml-train-queue-transactions-azdorch-vs-azqueue";
        let d = drift(&outcome(id, &[("value", 2.7)]), &b).expect("recorded");
        assert!(!d.beyond(), "2.6 -> 2.7 is 3.8 %: {d:?}");
        let d = drift(&outcome(id, &[("value", 9.0)]), &b).expect("recorded");
        assert!(d.beyond());
        assert_eq!(d.text(), "2.6 -> 9.0 (+246.2 %)");
        assert_eq!(d.tolerance, "5 %");
        // The absolute tolerance covers a value recorded as 0; a missing value is drift.
        let d = drift(&outcome("ml-coldstart-durable", &[("az-dorch", 1.09), ("az-dent", 0.04)]), &b).expect("recorded");
        assert!(!d.beyond(), "{d:?}");
        assert_eq!(d.tolerance, "10 % or 0.05");
        let d = drift(&outcome("ml-coldstart-durable", &[("az-dorch", 1.0)]), &b).expect("recorded");
        assert!(d.beyond(), "az-dent is missing now");
        assert!(drift(&outcome("video-coldstart-aws", &[("value", 1.0)]), &b).is_none());
    }

    #[test]
    fn rendering_keeps_tolerances_and_loads_back() {
        let t = paper();
        let old_text = "[[recorded]]\nid = \"video-coldstart-aws\"\ntolerance = 0.3\nabsolute = 0.5\nnote = \"cold starts vary\"\nvalues = { \"aws-lambda\" = 1.0, \"aws-step\" = 2.0 }\n\
                        [[recorded]]\nid = \"video-awsstep-speedup\"\ntolerance = 0.05\nvalue = 0.1\n";
        let old = load_baseline(&SourceFile::from_text("b.toml", old_text), &t).expect("loads");
        let outcomes = vec![
            outcome("video-coldstart-aws", &[("aws-lambda", 1.2345678), ("aws-step", 1.5)]),
            outcome("ml-train-large-durable-queue-time", &[("az-dorch", 0.02), ("az-dent", 0.03)]),
            outcome("ml-train-small-azqueue-vs-azfunc", &[("value", 1234567.0)]),
        ];
        let text = render_baseline(&t, &outcomes, &old, &Deviations::default());
        let new = load_baseline(&SourceFile::from_text("new.toml", text.clone()), &t).expect("rendered file loads");
        let r = new.get("video-coldstart-aws").expect("kept");
        assert_eq!((r.tolerance, r.absolute, r.note.as_deref()), (0.3, 0.5, Some("cold starts vary")));
        assert_eq!(r.values, vec![("aws-lambda".to_string(), 1.23457), ("aws-step".to_string(), 1.5)]);
        assert_eq!(new.get("video-awsstep-speedup").expect("not run, kept").values[0].1, 0.1);
        let q = new.get("ml-train-large-durable-queue-time").expect("new");
        assert_eq!((q.tolerance, q.absolute), (0.1, 0.05), "a range from 0 gets an absolute tolerance");
        assert_eq!(new.get("ml-train-small-azqueue-vs-azfunc").expect("new").tolerance, 0.05);
        // A value far below a band that does not reach 0 gets no absolute tolerance.
        let t_share = t.iter().find(|x| x.id == "video-monthly-azdorch-transition-overhead").expect("target");
        assert_eq!(default_tolerance(t_share, false, &[("value".into(), 0.08)]), (0.1, 0.0));
        assert!(text.contains("value = 1234570.0"), "{text}");
    }

    #[test]
    fn bad_records_are_refused_at_their_key() {
        let t = paper();
        for (text, key) in [
            ("[[recorded]]\nid = \"nope\"\ntolerance = 0.1\nvalue = 1.0\n", "recorded.0.id"),
            ("[[recorded]]\nid = \"video-coldstart-aws\"\ntolerance = -1.0\nvalue = 1.0\n", "recorded.0.tolerance"),
            ("[[recorded]]\nid = \"video-coldstart-aws\"\ntolerance = 0.1\n", "recorded.0.value"),
            ("[[recorded]]\nid = \"video-coldstart-aws\"\ntolerance = 0.1\nvalue = 1.0\nvalues = { a = 1.0 }\n", "recorded.0.values"),
        ] {
            let e = load_baseline(&SourceFile::from_text("b.toml", text), &t).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e.line > 0, "{e}");
        }
    }
}
