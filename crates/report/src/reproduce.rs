//! The reproduction report: every target beside its simulated value, and the experiments'
//! summaries, as Markdown and as a self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write;

use sfsim_calibration::{Deviations, ExperimentResult, TargetOutcome, Verdict};

fn summary_rows(r: &ExperimentResult) -> Vec<[String; 9]> {
    r.results
        .iter()
        .map(|d| {
            [
                d.deployment.clone(),
                format!("{:.2}", d.latency_s.mean),
                format!("{:.2}", d.latency_s.p99),
                format!("{:.2}", d.cold_start_delay_s.p50),
                format!("{:.1}", d.gb_s),
                format!("{:.6}", d.cost_usd.compute),
                format!("{:.6}", d.cost_usd.transactions + d.cost_usd.transitions),
                format!("{:.6}", d.cost_usd.total),
                format!("{}/{}", d.completed, d.iterations),
            ]
        })
        .collect()
}

const SUMMARY_HEAD: [&str; 9] = [
    "deployment",
    "latency mean s",
    "latency p99 s",
    "cold start p50 s (study's measure)",
    "GB-s",
    "compute $",
    "stateful $",
    "total $",
    "completed",
];

const SWEEP_HEAD: [&str; 7] =
    ["value", "deployment", "latency mean s", "latency p99 s", "worker delay p50 s", "worker delay p95 s", "worker latency p50 s"];

/// A sweep's runs, one row per (value, deployment).
fn sweep_rows(r: &ExperimentResult) -> Vec<[String; 7]> {
    r.sweep
        .iter()
        .flat_map(|(v, ds)| {
            ds.iter().map(move |d| {
                // Single functions have no separate workers.
                let w = |x: f64, n: u64| if n == 0 { "-".to_string() } else { format!("{x:.2}") };
                let (delay, lat) = (&d.worker_scheduling_delay_s, &d.worker_latency_s);
                [
                    v.clone(),
                    d.deployment.clone(),
                    format!("{:.2}", d.latency_s.mean),
                    format!("{:.2}", d.latency_s.p99),
                    w(delay.p50, delay.n),
                    w(delay.p95, delay.n),
                    w(lat.p50, lat.n),
                ]
            })
        })
        .collect()
}

/// The header and rows of an experiment's table, or the id of an earlier experiment whose runs
/// it repeats (the same configuration evaluated for other targets).
fn experiment_table<'a>(r: &ExperimentResult, earlier: &'a [ExperimentResult]) -> Result<(Vec<&'static str>, Vec<Vec<String>>), &'a str> {
    let (head, rows): (Vec<&'static str>, Vec<Vec<String>>) = if r.sweep.is_empty() {
        (SUMMARY_HEAD.to_vec(), summary_rows(r).into_iter().map(|x| x.to_vec()).collect())
    } else {
        (SWEEP_HEAD.to_vec(), sweep_rows(r).into_iter().map(|x| x.to_vec()).collect())
    };
    for e in earlier {
        let same = if e.sweep.is_empty() { summary_rows(e).into_iter().map(|x| x.to_vec()).collect::<Vec<_>>() } else { Vec::new() };
        if r.sweep.is_empty() && !rows.is_empty() && same == rows {
            return Err(&e.id);
        }
    }
    Ok((head, rows))
}

/// One sentence: how many targets pass, are known deviations, or changed unexpectedly.
fn headline(outcomes: &[TargetOutcome], deviations: &Deviations) -> String {
    let count = |v: Verdict| outcomes.iter().filter(|o| Verdict::of(o, deviations) == v).count();
    let (known, fail, stale) = (count(Verdict::Known), count(Verdict::Fail), count(Verdict::Stale));
    let met = outcomes.iter().filter(|o| Verdict::of(o, deviations).met()).count();
    let mut h = format!("{met} of {} targets within their bands; {known} known deviations (reasons below)", outcomes.len());
    let flips = count(Verdict::PassSeedDependent);
    if flips > 0 {
        h += &format!("; {flips} met here but listed as seed-dependent");
    }
    if fail > 0 {
        h += &format!("; {fail} failing that are not listed as deviations");
    }
    if stale > 0 {
        h += &format!("; {stale} listed as deviations now pass");
    }
    h
}

/// The targets outside their bands, with the reason each is a known deviation.
fn unmet<'a>(outcomes: &'a [TargetOutcome], deviations: &'a Deviations) -> Vec<(&'a TargetOutcome, &'a str)> {
    outcomes
        .iter()
        .filter(|o| !o.pass)
        .map(|o| (o, deviations.get(&o.id).map_or("not listed in calibration/deviations.toml: a regression", String::as_str)))
        .collect()
}

/// Everything a reproduction report shows.
pub struct Reproduction<'a> {
    /// Every target beside its simulated value (the report's seed).
    pub outcomes: &'a [TargetOutcome],
    /// Known deviations: target id -> reason.
    pub deviations: &'a Deviations,
    /// The experiments' results.
    pub experiments: &'a [ExperimentResult],
    /// The report's seed.
    pub seed: u64,
    /// Figures: (file stem, caption, SVG).
    pub figures: &'a [(String, String, String)],
    /// With `--seeds N`: for each target id, in how many of the N seeds it was met.
    pub seeds_met: Option<(&'a BTreeMap<String, u64>, u64)>,
}

impl Reproduction<'_> {
    /// The "met in seeds" cell of a target, if several seeds ran.
    fn seeds_cell(&self, id: &str) -> Option<String> {
        self.seeds_met.map(|(met, n)| format!("{}/{n}", met.get(id).copied().unwrap_or(0)))
    }

    fn seeds_note(&self) -> String {
        match self.seeds_met {
            Some((_, n)) => format!(" The last column counts the seeds, of {n} (seed {} onwards), for which a target was met.", self.seed),
            None => String::new(),
        }
    }
}

/// The Markdown report.
pub fn render_reproduction_md(r: &Reproduction) -> String {
    let (outcomes, deviations, experiments, seed, figures) = (r.outcomes, r.deviations, r.experiments, r.seed, r.figures);
    let mut s = String::new();
    let _ = writeln!(s, "# sfsim reproduction of Shahidi et al., IISWC 2021\n");
    let _ = writeln!(s, "sfsim {}, seed {seed}: **{}.**{}\n", crate::SFSIM_VERSION, headline(outcomes, deviations), r.seeds_note());
    let _ = writeln!(s, "## Targets\n");
    if r.seeds_met.is_some() {
        let _ = writeln!(s, "| id | source | study | sfsim | result | met in seeds |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(s, "| id | source | study | sfsim | result |");
        let _ = writeln!(s, "|---|---|---|---|---|");
    }
    for o in outcomes {
        let verdict = match Verdict::of(o, deviations) {
            Verdict::Pass => "pass".to_string(),
            v => format!("**{}**", v.word()),
        };
        let extra = r.seeds_cell(&o.id).map_or(String::new(), |c| format!(" {c} |"));
        let _ = writeln!(s, "| `{}` | {} | {} | {} | {verdict} |{extra}", o.id, o.source.replace('|', "/"), o.band, o.simulated);
    }
    let missed = unmet(outcomes, deviations);
    if !missed.is_empty() {
        let _ = writeln!(s, "\n## Targets not met, and why\n");
        for (o, why) in missed {
            let _ = writeln!(s, "- `{}` ({}): {why}", o.id, o.simulated);
        }
    }
    if !figures.is_empty() {
        let _ = writeln!(s, "\n## Figures\n");
        for (stem, caption, _) in figures {
            let _ = writeln!(s, "![{caption}](figures/{stem}.svg)\n\n*{caption}*\n");
        }
    }
    let _ = writeln!(s, "\n## Experiments\n");
    for (k, x) in experiments.iter().enumerate() {
        let _ = writeln!(s, "### {}\n", x.id);
        match experiment_table(x, &experiments[..k]) {
            Err(same) => {
                let _ = writeln!(s, "The same configuration and runs as `{same}`.");
            }
            Ok((head, rows)) => {
                let _ = writeln!(s, "| {} |", head.join(" | "));
                let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let _ = writeln!(s, "| {} |", row.join(" | "));
                }
            }
        }
        s.push('\n');
    }
    s
}

fn esc(x: &str) -> String {
    x.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML report (self-contained: no external scripts, fonts or styles).
pub fn render_reproduction_html(r: &Reproduction) -> String {
    let (outcomes, deviations, experiments, seed, figures) = (r.outcomes, r.deviations, r.experiments, r.seed, r.figures);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sfsim reproduction</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;font-size:14px;text-align:left}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}code{font-size:13px}</style></head><body>\n");
    let _ = writeln!(s, "<h1>sfsim reproduction of Shahidi et al., IISWC 2021</h1>");
    let _ = writeln!(
        s,
        "<p>sfsim {}, seed {seed}: <b>{}.</b>{}</p>",
        crate::SFSIM_VERSION,
        esc(&headline(outcomes, deviations)),
        esc(&r.seeds_note())
    );
    let seeds_head = if r.seeds_met.is_some() { "<th>met in seeds</th>" } else { "" };
    let _ =
        writeln!(s, "<h2>Targets</h2><table><tr><th>id</th><th>source</th><th>study</th><th>sfsim</th><th>result</th>{seeds_head}</tr>");
    for o in outcomes {
        let v = Verdict::of(o, deviations);
        let (class, word) = (if v == Verdict::Pass { "pass" } else { "fail" }, v.word());
        let extra = r.seeds_cell(&o.id).map_or(String::new(), |c| format!("<td>{c}</td>"));
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td>{extra}</tr>",
            esc(&o.id),
            esc(&o.source),
            esc(&o.band),
            esc(&o.simulated)
        );
    }
    s.push_str("</table>\n");
    let missed = unmet(outcomes, deviations);
    if !missed.is_empty() {
        s.push_str("<h2>Targets not met, and why</h2>\n<ul>\n");
        for (o, why) in missed {
            let _ = writeln!(s, "<li><code>{}</code> ({}): {}</li>", esc(&o.id), esc(&o.simulated), esc(why));
        }
        s.push_str("</ul>\n");
    }
    if !figures.is_empty() {
        s.push_str("<h2>Figures</h2>\n");
        for (_, caption, svg) in figures {
            // Inline SVG keeps the page self-contained; drop the XML prolog if any.
            let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
            let _ = writeln!(s, "<figure>{body}<figcaption>{}</figcaption></figure>", esc(caption));
        }
    }
    s.push_str("<h2>Experiments</h2>\n");
    for (k, x) in experiments.iter().enumerate() {
        let _ = writeln!(s, "<h3>{}</h3>", esc(&x.id));
        match experiment_table(x, &experiments[..k]) {
            Err(same) => {
                let _ = writeln!(s, "<p>The same configuration and runs as <code>{}</code>.</p>", esc(same));
            }
            Ok((head, rows)) => {
                let _ = writeln!(s, "<table><tr>{}</tr>", head.iter().map(|h| format!("<th>{h}</th>")).collect::<String>());
                for row in rows {
                    let _ = writeln!(s, "<tr>{}</tr>", row.iter().map(|c| format!("<td>{}</td>", esc(c))).collect::<String>());
                }
                s.push_str("</table>\n");
            }
        }
    }
    s.push_str("</body></html>\n");
    s
}

/// The report's figures: (file stem, caption, SVG).
pub fn reproduction_figures(experiments: &[ExperimentResult]) -> Vec<(String, String, String)> {
    use crate::figures::{bars, cdfs, lines, stacked};
    let find = |id: &str| experiments.iter().find(|r| r.id == id);
    let names = |r: &ExperimentResult| r.results.iter().map(|d| d.deployment.clone()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for id in ["ml-training-small", "ml-training-large", "ml-inference-large"] {
        if let Some(r) = find(id) {
            let series = vec![
                ("mean".to_string(), r.results.iter().map(|d| d.latency_s.mean).collect()),
                ("p99".to_string(), r.results.iter().map(|d| d.latency_s.p99).collect()),
            ];
            out.push((
                format!("{id}-latency"),
                format!("End-to-end latency, {id} (Fig. 6, 9)"),
                bars(&format!("{id}: latency"), "seconds", &names(r), &series),
            ));
        }
    }
    if let Some(r) = find("ml-training-large") {
        let series: Vec<(String, Vec<f64>)> = r.results.iter().map(|d| (d.deployment.clone(), d.latency_samples_s.clone())).collect();
        out.push((
            "ml-training-large-cdf".into(),
            "Latency CDF, ML training large (Fig. 7)".into(),
            cdfs("ml-training-large: latency CDF", "seconds", &series),
        ));
        let comps: Vec<(String, Vec<f64>)> = ["cold_start", "queue", "scheduling", "execution", "replay", "transfer", "entity"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let v = r
                    .results
                    .iter()
                    .map(|d| {
                        let b = &d.breakdown_p99_s;
                        [b.cold_start, b.queue, b.scheduling, b.execution, b.replay, b.transfer, b.entity][k]
                    })
                    .collect();
                (name.to_string(), v)
            })
            .collect();
        out.push((
            "ml-training-large-breakdown".into(),
            "p99 latency breakdown, ML training large (Fig. 8)".into(),
            stacked("ml-training-large: p99 breakdown", "seconds", &names(r), &comps),
        ));
        let gbs = vec![("GB-s".to_string(), r.results.iter().map(|d| d.gb_s).collect())];
        out.push((
            "ml-training-large-gbs".into(),
            "GB-s per execution, ML training large (Fig. 11a/b)".into(),
            bars("ml-training-large: GB-s per execution", "GB-s", &names(r), &gbs),
        ));
        let cost = vec![
            ("compute".to_string(), r.results.iter().map(|d| d.cost_usd.compute * 1e3).collect()),
            ("requests".to_string(), r.results.iter().map(|d| d.cost_usd.requests * 1e3).collect()),
            ("transactions".to_string(), r.results.iter().map(|d| d.cost_usd.transactions * 1e3).collect()),
            ("transitions".to_string(), r.results.iter().map(|d| d.cost_usd.transitions * 1e3).collect()),
            ("storage".to_string(), r.results.iter().map(|d| d.cost_usd.storage * 1e3).collect()),
        ];
        out.push((
            "ml-training-large-cost".into(),
            "Cost per execution by kind, ML training large (Fig. 11c/d)".into(),
            stacked("ml-training-large: cost per execution", "milli-dollars", &names(r), &cost),
        ));
    }
    for id in ["ml-training-coldstart", "video-coldstart"] {
        if let Some(r) = find(id) {
            // Ranked by the study's measure (Durable: Pending -> Running; otherwise the request
            // to the first function's start); the request-to-first-function delay beside it.
            let mut ranked: Vec<(String, f64, f64)> =
                r.results.iter().map(|d| (d.deployment.clone(), d.cold_start_delay_s.p50, d.request_cold_start_delay_s.p50)).collect();
            ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
            let cats: Vec<String> = ranked.iter().map(|(n, _, _)| n.clone()).collect();
            let series = vec![
                ("study's measure (median)".to_string(), ranked.iter().map(|(_, v, _)| *v).collect()),
                ("request to first function (median)".to_string(), ranked.iter().map(|(_, _, v)| *v).collect()),
            ];
            out.push((
                format!("{id}-ranked"),
                format!("Cold-start delays ranked, {id} (Fig. 10, 13)"),
                bars(&format!("{id}: cold start"), "seconds", &cats, &series),
            ));
        }
    }
    if let Some(r) = find("video-azure-workers")
        && !r.sweep.is_empty()
    {
        let deployments: Vec<String> = r.sweep[0].1.iter().map(|d| d.deployment.clone()).collect();
        let series: Vec<(String, Vec<(f64, f64)>)> = deployments
            .iter()
            .map(|dep| {
                let pts = r
                    .sweep
                    .iter()
                    .filter_map(|(v, ds)| Some((v.parse::<f64>().ok()?, ds.iter().find(|d| &d.deployment == dep)?.latency_s.mean)))
                    .collect();
                (dep.clone(), pts)
            })
            .collect();
        out.push((
            "video-workers".into(),
            "Video latency versus number of workers (Fig. 12)".into(),
            lines("video: latency vs workers", "workers", "mean latency, s", &series),
        ));
        let delays: Vec<(String, Vec<f64>)> = r
            .results
            .iter()
            .filter(|d| !d.worker_samples_s.0.is_empty())
            .map(|d| (d.deployment.clone(), d.worker_samples_s.0.clone()))
            .collect();
        out.push((
            "video-worker-delay-cdf".into(),
            "Per-worker scheduling delay CDF over the worker sweep (Fig. 14)".into(),
            cdfs("video: per-worker scheduling delay", "seconds", &delays),
        ));
    }
    if let Some(r) = find("video-monthly-20-workers") {
        // One request per hour for 30 days; idle transactions are included per execution.
        let per_month = 720.0;
        let cost = vec![
            ("compute".to_string(), r.results.iter().map(|d| d.cost_usd.compute * per_month).collect()),
            ("transactions".to_string(), r.results.iter().map(|d| d.cost_usd.transactions * per_month).collect()),
            ("transitions".to_string(), r.results.iter().map(|d| d.cost_usd.transitions * per_month).collect()),
            ("requests + storage".to_string(), r.results.iter().map(|d| (d.cost_usd.requests + d.cost_usd.storage) * per_month).collect()),
        ];
        out.push((
            "video-monthly-cost".into(),
            "Monthly cost at one request per hour, video with 20 workers (Fig. 15)".into(),
            stacked("video, 20 workers: monthly cost", "dollars per month", &names(r), &cost),
        ));
    }
    out
}
