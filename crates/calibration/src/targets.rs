//! Loading and validating targets.

use serde::Deserialize;
use sfsim_workflow::{KeyError, LoadError, SourceFile, parse_toml};

/// One or several names (`"a"` or `["a", "b"]`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// The experiments file the targets name, relative to the targets file.
    experiments: Option<String>,
    /// The known deviations of these targets, relative to the targets file.
    deviations: Option<String>,
    /// The recorded values and tolerances of these targets, relative to the targets file.
    baseline: Option<String>,
    target: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: String,
    source: String,
    experiment: OneOrMany,
    kind: String,
    metric: Option<String>,
    a: Option<String>,
    b: Option<String>,
    others: Option<Vec<String>>,
    order: Option<Vec<String>>,
    deployment: Option<OneOrMany>,
    part: Option<String>,
    total: Option<String>,
    low: Option<f64>,
    high: Option<f64>,
    p50: Option<[f64; 2]>,
    p95: Option<[f64; 2]>,
    p99: Option<[f64; 2]>,
}

/// What a target compares.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetKind {
    /// metric(a) / metric(b) in [low, high].
    Ratio {
        /// Metric.
        metric: String,
        /// Numerator deployment.
        a: String,
        /// Denominator deployment.
        b: String,
        /// Band.
        band: (f64, f64),
    },
    /// metric of each deployment in [low, high].
    Range {
        /// Metric.
        metric: String,
        /// Deployments.
        deployments: Vec<String>,
        /// Band.
        band: (f64, f64),
    },
    /// metric increasing over the deployments.
    Order {
        /// Metric.
        metric: String,
        /// Deployments, smallest first.
        order: Vec<String>,
    },
    /// metric(a) below each of the others.
    LessThanAll {
        /// Metric.
        metric: String,
        /// The one expected lowest.
        a: String,
        /// The others.
        others: Vec<String>,
    },
    /// part / total of each deployment in [low, high].
    Share {
        /// Numerator metric.
        part: String,
        /// Denominator metric.
        total: String,
        /// Deployments.
        deployments: Vec<String>,
        /// Band.
        band: (f64, f64),
    },
    /// Quantiles of a per-worker metric, each in its band.
    Quantiles {
        /// `worker_latency_s` or `worker_scheduling_delay_s`.
        metric: String,
        /// Deployment.
        deployment: String,
        /// (quantile name, band).
        bands: Vec<(String, (f64, f64))>,
    },
}

/// A validated target.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Identifier (as in the study's target list).
    pub id: String,
    /// Where in the study it comes from.
    pub source: String,
    /// Experiments it applies to.
    pub experiments: Vec<String>,
    /// What it checks.
    pub kind: TargetKind,
}

/// Parses a targets file.
pub fn load_targets(src: &SourceFile) -> Result<Vec<Target>, LoadError> {
    load_target_file(src).map(|f| f.targets)
}

/// A targets file: its targets and the files it names at its top level (`experiments`,
/// `deviations`, `baseline`), each as written (relative to the targets file's directory;
/// [`TargetFile::resolve`] joins them).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetFile {
    /// The targets, in file order.
    pub targets: Vec<Target>,
    /// `experiments = "..."`: the experiments file the targets name.
    pub experiments: Option<String>,
    /// `deviations = "..."`: the known deviations of these targets.
    pub deviations: Option<String>,
    /// `baseline = "..."`: the recorded values and tolerances of these targets.
    pub baseline: Option<String>,
}

impl TargetFile {
    /// A named file's path: `relative` joined to the directory of the targets file at `path`.
    pub fn resolve(path: &std::path::Path, relative: &str) -> std::path::PathBuf {
        path.parent().unwrap_or(std::path::Path::new("")).join(relative)
    }
}

/// Parses a targets file with its top-level keys. A named file must be a non-empty path.
pub fn load_target_file(src: &SourceFile) -> Result<TargetFile, LoadError> {
    let raw: RawFile = parse_toml(src)?;
    for (key, v) in [("experiments", &raw.experiments), ("deviations", &raw.deviations), ("baseline", &raw.baseline)] {
        if v.as_ref().is_some_and(|p| p.trim().is_empty()) {
            return Err(src.key_error(KeyError::new(key, "needs a path (relative to this file)")));
        }
    }
    let targets =
        raw.target.into_iter().enumerate().map(|(i, t)| validate(t, i).map_err(|e| src.key_error(e))).collect::<Result<_, _>>()?;
    Ok(TargetFile { targets, experiments: raw.experiments, deviations: raw.deviations, baseline: raw.baseline })
}

fn validate(t: RawTarget, i: usize) -> Result<Target, KeyError> {
    let key = |k: &str| format!("target.{i}.{k}");
    let need = |v: Option<String>, k: &str| v.ok_or_else(|| KeyError::new(key(k), format!("a `{}` target needs `{k}`", t.kind)));
    let band = |low: Option<f64>, high: Option<f64>| -> Result<(f64, f64), KeyError> {
        match (low, high) {
            (Some(l), Some(h)) if l.is_finite() && h.is_finite() && l <= h => Ok((l, h)),
            _ => Err(KeyError::new(key("low"), "needs finite `low` <= `high`")),
        }
    };
    let kind = match t.kind.as_str() {
        "ratio" => TargetKind::Ratio {
            metric: need(t.metric.clone(), "metric")?,
            a: need(t.a.clone(), "a")?,
            b: need(t.b.clone(), "b")?,
            band: band(t.low, t.high)?,
        },
        "range" => TargetKind::Range {
            metric: need(t.metric.clone(), "metric")?,
            deployments: t
                .deployment
                .clone()
                .ok_or_else(|| KeyError::new(key("deployment"), "a `range` target needs `deployment`"))?
                .into_vec(),
            band: band(t.low, t.high)?,
        },
        "order" => TargetKind::Order {
            metric: need(t.metric.clone(), "metric")?,
            order: t.order.clone().filter(|o| o.len() >= 2).ok_or_else(|| KeyError::new(key("order"), "needs at least two deployments"))?,
        },
        "less_than_all" => TargetKind::LessThanAll {
            metric: need(t.metric.clone(), "metric")?,
            a: need(t.a.clone(), "a")?,
            others: t
                .others
                .clone()
                .filter(|o| !o.is_empty())
                .ok_or_else(|| KeyError::new(key("others"), "needs at least one deployment"))?,
        },
        "share" => TargetKind::Share {
            part: need(t.part.clone(), "part")?,
            total: need(t.total.clone(), "total")?,
            deployments: t
                .deployment
                .clone()
                .ok_or_else(|| KeyError::new(key("deployment"), "a `share` target needs `deployment`"))?
                .into_vec(),
            band: band(t.low, t.high)?,
        },
        "quantiles" => {
            let mut bands = Vec::new();
            for (q, v) in [("p50", t.p50), ("p95", t.p95), ("p99", t.p99)] {
                if let Some([l, h]) = v {
                    bands.push((q.to_string(), band(Some(l), Some(h))?));
                }
            }
            if bands.is_empty() {
                return Err(KeyError::new(key("p50"), "a `quantiles` target needs p50, p95 or p99 bands"));
            }
            let deployment = t.deployment.clone().ok_or_else(|| KeyError::new(key("deployment"), "needs `deployment`"))?.into_vec();
            TargetKind::Quantiles { metric: need(t.metric.clone(), "metric")?, deployment: deployment[0].clone(), bands }
        }
        other => return Err(KeyError::new(key("kind"), format!("unknown target kind `{other}`"))),
    };
    // Every metric the target reads must exist (a misspelt name is an input error, not a miss).
    let named: Vec<(&str, String)> = match &kind {
        TargetKind::Ratio { metric, .. }
        | TargetKind::Range { metric, .. }
        | TargetKind::Order { metric, .. }
        | TargetKind::LessThanAll { metric, .. } => vec![("metric", metric.clone())],
        TargetKind::Share { part, total, .. } => vec![("part", part.clone()), ("total", total.clone())],
        TargetKind::Quantiles { metric, bands, .. } => {
            bands.iter().map(|(q, _)| ("metric", crate::metrics::quantile_metric(metric, q))).collect()
        }
    };
    if let Some((k, m)) = named.iter().find(|(_, m)| !crate::metrics::is_metric(m)) {
        return Err(KeyError::new(key(k), format!("unknown metric `{m}`")));
    }
    Ok(Target { id: t.id, source: t.source, experiments: t.experiment.into_vec(), kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_metric_is_refused_where_it_is_written() {
        let text = "[[target]]\nid = \"r\"\nsource = \"s\"\nexperiment = \"x\"\nkind = \"range\"\nmetric = \"function_span_p96_s\"\ndeployment = \"az-dorch\"\nlow = 1.0\nhigh = 2.0\n";
        let e = load_target_file(&SourceFile::from_text("t.toml", text)).expect_err("refused");
        let shown = e.to_string();
        assert!(
            shown.contains("t.toml:6:") && shown.contains("target.0.metric") && shown.contains("unknown metric `function_span_p96_s`"),
            "{shown}"
        );
        // A quantiles target's names are built from its metric and its bands.
        let q = "[[target]]\nid = \"q\"\nsource = \"s\"\nexperiment = \"x\"\nkind = \"quantiles\"\nmetric = \"worker_latency_s\"\ndeployment = \"az-dorch\"\np50 = [1.0, 2.0]\np99 = [3.0, 4.0]\n";
        assert!(load_target_file(&SourceFile::from_text("q.toml", q)).is_ok());
    }

    #[test]
    fn the_study_targets_load_with_their_ids() {
        let t = load_targets(&SourceFile::from_text("paper.toml", crate::PAPER_TARGETS)).expect("targets load");
        assert_eq!(t.len(), 37);
        assert!(t.iter().any(|t| t.id == "video-azure-80-worker-latency" && matches!(t.kind, TargetKind::Quantiles { .. })));
        let ids: std::collections::BTreeSet<&str> = t.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids.len(), t.len(), "ids are unique");
    }

    #[test]
    fn a_targets_file_names_its_experiments_deviations_and_baseline() {
        let one = "[[target]]\nid = \"r\"\nsource = \"s\"\nexperiment = \"x\"\nkind = \"range\"\nmetric = \"gb_s\"\ndeployment = \"az-func\"\nlow = 1.0\nhigh = 2.0\n";
        let text = format!("experiments = \"../x/experiments.toml\"\nbaseline = \"b.toml\"\n{one}");
        let f = load_target_file(&SourceFile::from_text("t.toml", text)).expect("loads");
        assert_eq!(f.experiments.as_deref(), Some("../x/experiments.toml"));
        assert_eq!(f.baseline.as_deref(), Some("b.toml"));
        assert_eq!(f.deviations, None);
        assert_eq!(
            TargetFile::resolve(std::path::Path::new("calibration/targets/t.toml"), "b.toml"),
            std::path::Path::new("calibration/targets/b.toml")
        );
        let e = load_target_file(&SourceFile::from_text("t.toml", format!("deviations = \"\"\n{one}"))).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "deviations"), "{e}");
        let e = load_target_file(&SourceFile::from_text("t.toml", format!("experiments = 3\n{one}"))).unwrap_err();
        assert!(e.to_string().starts_with("t.toml:1:"), "{e}");
        let e = load_target_file(&SourceFile::from_text("t.toml", format!("experiment = \"x.toml\"\n{one}"))).unwrap_err();
        assert!(e.to_string().contains("experiment"), "{e}");
    }
}
