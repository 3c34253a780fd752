//! Evaluating targets against experiment results.

use std::collections::BTreeMap;

use crate::experiments::ExperimentResult;
use crate::metrics::metric;
use crate::targets::{Target, TargetKind};

/// A target beside its simulated value.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    /// Target id.
    pub id: String,
    /// Where in the study.
    pub source: String,
    /// The band or relation the study gives, in words.
    pub band: String,
    /// What sfsim gives, per experiment.
    pub simulated: String,
    /// The same values as numbers, each with its label (experiment, deployment and quantile
    /// where the target has several; `value` when it has one): what `calibration/baseline.toml`
    /// records and drift is measured on. A value that could not be computed is left out.
    pub values: Vec<(String, f64)>,
    /// Whether every experiment and deployment is within the band.
    pub pass: bool,
    /// How far outside: 0 when passing; for bands the distance to the band in band widths,
    /// for orders the number of violated pairs; 10 for a missing value. The loss `sfsim
    /// calibrate` minimizes.
    pub distance: f64,
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// Distance of `x` from [l, h] in band widths (a zero-width band counts as 1 % of its value).
fn outside(x: f64, (l, h): (f64, f64)) -> f64 {
    if !x.is_finite() {
        return 10.0;
    }
    let w = (h - l).max(0.01 * h.abs()).max(1e-12);
    if x < l {
        (l - x) / w
    } else if x > h {
        (x - h) / w
    } else {
        0.0
    }
}

/// Evaluates one target. A missing experiment, deployment or metric fails it, with the reason.
pub fn evaluate(t: &Target, results: &BTreeMap<String, ExperimentResult>) -> TargetOutcome {
    let mut pass = true;
    let mut distance = 0.0;
    let mut parts = Vec::new();
    let mut values: Vec<(String, f64)> = Vec::new();
    let band = match &t.kind {
        TargetKind::Ratio { metric, a, b, band } => format!("{metric}({a}) / {metric}({b}) in [{}, {}]", band.0, band.1),
        TargetKind::Range { metric, deployments, band } => format!("{metric} of {} in [{}, {}]", deployments.join(", "), band.0, band.1),
        TargetKind::Order { metric, order } => format!("{metric}: {}", order.join(" < ")),
        TargetKind::LessThanAll { metric, a, others } => format!("{metric}({a}) < {metric} of {}", others.join(", ")),
        TargetKind::Share { part, total, deployments, band } => {
            format!("{part} / {total} of {} in [{}, {}]", deployments.join(", "), band.0, band.1)
        }
        TargetKind::Quantiles { metric, deployment, bands } => {
            format!(
                "{metric} of {deployment}: {}",
                bands.iter().map(|(q, b)| format!("{q} in [{}, {}]", b.0, b.1)).collect::<Vec<_>>().join(", ")
            )
        }
    };
    for x in &t.experiments {
        let Some(r) = results.get(x) else {
            pass = false;
            parts.push(format!("{x}: not run"));
            continue;
        };
        let value = |d: &str, m: &str| -> Result<f64, String> {
            let s = r.get(d).ok_or_else(|| format!("{d} not in {x}"))?;
            metric(s, m).ok_or_else(|| format!("unknown metric {m}"))
        };
        let res: Result<(String, f64, Vec<(String, f64)>), String> = (|| match &t.kind {
            TargetKind::Ratio { metric, a, b, band } => {
                let v = value(a, metric)? / value(b, metric)?;
                Ok((fmt(v), outside(v, *band), vec![(String::new(), v)]))
            }
            TargetKind::Range { metric, deployments, band } => {
                let vs = deployments.iter().map(|d| value(d, metric).map(|v| (d, v))).collect::<Result<Vec<_>, _>>()?;
                let d: f64 = vs.iter().map(|(_, v)| outside(*v, *band)).sum();
                let labelled = vs.iter().map(|(d, v)| (if deployments.len() > 1 { d.to_string() } else { String::new() }, *v)).collect();
                Ok((vs.iter().map(|(d, v)| format!("{d} {}", fmt(*v))).collect::<Vec<_>>().join(", "), d, labelled))
            }
            TargetKind::Order { metric, order } => {
                let vs = order.iter().map(|d| value(d, metric)).collect::<Result<Vec<_>, _>>()?;
                let d = vs.windows(2).filter(|w| w[0] >= w[1]).count() as f64;
                let labelled = order.iter().zip(&vs).map(|(d, v)| (d.clone(), *v)).collect();
                Ok((order.iter().zip(&vs).map(|(d, v)| format!("{d} {}", fmt(*v))).collect::<Vec<_>>().join(" / "), d, labelled))
            }
            TargetKind::LessThanAll { metric, a, others } => {
                let va = value(a, metric)?;
                let vs = others.iter().map(|d| value(d, metric)).collect::<Result<Vec<_>, _>>()?;
                let d = vs.iter().filter(|v| va >= **v).count() as f64;
                let labelled = std::iter::once((a.clone(), va)).chain(others.iter().cloned().zip(vs.iter().copied())).collect();
                Ok((
                    format!(
                        "{a} {} vs {}",
                        fmt(va),
                        others.iter().zip(&vs).map(|(d, v)| format!("{d} {}", fmt(*v))).collect::<Vec<_>>().join(", ")
                    ),
                    d,
                    labelled,
                ))
            }
            TargetKind::Share { part, total, deployments, band } => {
                let vs = deployments.iter().map(|d| Ok((d, value(d, part)? / value(d, total)?))).collect::<Result<Vec<_>, String>>()?;
                let d: f64 = vs.iter().map(|(_, v)| outside(*v, *band)).sum();
                let labelled = vs.iter().map(|(d, v)| (if deployments.len() > 1 { d.to_string() } else { String::new() }, *v)).collect();
                Ok((vs.iter().map(|(d, v)| format!("{d} {}", fmt(*v))).collect::<Vec<_>>().join(", "), d, labelled))
            }
            TargetKind::Quantiles { metric, deployment, bands } => {
                let mut out = Vec::new();
                let mut labelled = Vec::new();
                let mut d = 0.0;
                for (q, b) in bands {
                    let name = crate::metrics::quantile_metric(metric, q);
                    let v = value(deployment, &name)?;
                    d += outside(v, *b);
                    out.push(format!("{q} {}", fmt(v)));
                    labelled.push((q.clone(), v));
                }
                Ok((out.join(", "), d, labelled))
            }
        })();
        match res {
            Ok((text, d, labelled)) => {
                pass &= d == 0.0;
                distance += d;
                for (label, v) in labelled {
                    let label = match (t.experiments.len() > 1, label.is_empty()) {
                        (true, true) => x.clone(),
                        (true, false) => format!("{x}/{label}"),
                        (false, true) => "value".to_string(),
                        (false, false) => label,
                    };
                    values.push((label, v));
                }
                parts.push(if t.experiments.len() > 1 { format!("{x}: {text}") } else { text });
            }
            Err(why) => {
                pass = false;
                distance += 10.0;
                parts.push(format!("{x}: {why}"));
            }
        }
    }
    TargetOutcome { id: t.id.clone(), source: t.source.clone(), band, simulated: parts.join("; "), values, pass, distance }
}

/// Evaluates every target, in file order.
pub fn evaluate_all(targets: &[Target], results: &BTreeMap<String, ExperimentResult>) -> Vec<TargetOutcome> {
    targets.iter().map(|t| evaluate(t, results)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::load_targets;
    use sfsim_experiment::{DeploymentSummary, Stats};
    use sfsim_workflow::SourceFile;

    fn summary(name: &str, latency: f64, gb_s: f64) -> DeploymentSummary {
        let mut s: DeploymentSummary = empty_summary(name);
        s.latency_s =
            Stats { n: 1, mean: latency, p50: latency, p95: latency, p99: latency * 1.5, min: latency, max: latency, mean_ci95: 0.0 };
        s.gb_s = gb_s;
        s
    }

    fn empty_summary(name: &str) -> DeploymentSummary {
        sfsim_experiment::summarize(name, &[])
    }

    fn targets(text: &str) -> Vec<Target> {
        load_targets(&SourceFile::from_text("t.toml", text)).expect("targets")
    }

    fn results(x: &str, ds: Vec<DeploymentSummary>) -> BTreeMap<String, ExperimentResult> {
        [(x.to_string(), ExperimentResult { id: x.into(), results: ds, sweep: Vec::new() })].into_iter().collect()
    }

    #[test]
    fn ratios_orders_and_ranges_are_judged_against_hand_computed_values() {
        let t = targets(
            r#"
[[target]]
id = "r"
source = "s"
experiment = "x"
kind = "ratio"
metric = "latency_mean"
a = "az-queue"
b = "az-func"
low = 1.25
high = 1.35
[[target]]
id = "o"
source = "s"
experiment = "x"
kind = "order"
metric = "gb_s"
order = ["az-func", "az-queue"]
[[target]]
id = "q"
source = "s"
experiment = ["x", "missing"]
kind = "range"
metric = "latency_p99_over_p50"
deployment = "az-func"
low = 1.4
high = 1.6
"#,
        );
        let r = results("x", vec![summary("az-func", 100.0, 10.0), summary("az-queue", 130.0, 12.0)]);
        let out = evaluate_all(&t, &r);
        assert!(out[0].pass, "130 / 100 = 1.3 is in [1.25, 1.35]: {:?}", out[0]);
        assert_eq!(out[0].simulated, "1.300");
        assert_eq!(out[0].values.len(), 1);
        assert_eq!(out[0].values[0].0, "value");
        assert!((out[0].values[0].1 - 1.3).abs() < 1e-12);
        assert_eq!(out[1].values.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["az-func", "az-queue"]);
        assert_eq!(
            out[2].values.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
            ["x"],
            "labelled by experiment, the missing one left out"
        );
        assert!(out[1].pass);
        assert!(!out[2].pass, "an experiment that was not run fails the target");
        assert!(out[2].simulated.contains("missing: not run"));
        let r = results("x", vec![summary("az-func", 100.0, 10.0), summary("az-queue", 140.0, 9.0)]);
        let out = evaluate_all(&t, &r);
        assert!(!out[0].pass && !out[1].pass);
    }
}
