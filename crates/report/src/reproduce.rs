//! The reproduction report: every target beside its simulated value, and the experiments'
//! summaries, as Markdown and as a self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write;

use sfsim_calibration::{Deviations, ExperimentResult, TargetDrift, TargetOutcome, Verdict};

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
fn headline(set: &TargetSet) -> String {
    let (outcomes, deviations) = (&set.outcomes, &set.deviations);
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
    let fitted = outcomes.iter().filter(|o| Verdict::of(o, deviations).met() && set.fitted_by(&o.id).is_some()).count();
    if fitted > 0 {
        h += &format!("; {fitted} of the met ones by a fitted value");
    }
    let drifted = (0..outcomes.len()).filter(|&i| set.beyond(i)).count();
    if drifted > 0 {
        h += &format!("; {drifted} drifted beyond their tolerance");
    }
    h
}

/// The targets outside their bands, with the reason each is a known deviation.
fn unmet(set: &TargetSet) -> Vec<(&TargetOutcome, String)> {
    set.outcomes
        .iter()
        .filter(|o| !o.pass)
        .map(|o| {
            let why = match set.deviations.get(&o.id) {
                Some(r) => match set.deviations.conflict(&o.id) {
                    Some(c) => format!("{r}{}", conflict_note(c)),
                    None => r.clone(),
                },
                None => format!("not listed in {}: a regression", set.deviations_name.as_deref().unwrap_or("the deviations")),
            };
            (o, why)
        })
        .collect()
}

/// " Conflicts with `a`, `b`; shown by tests/x.rs::f." for a deviation that says so.
fn conflict_note(c: &sfsim_calibration::Conflict) -> String {
    let mut s = String::new();
    if !c.conflicts_with.is_empty() {
        let ids: Vec<String> = c.conflicts_with.iter().map(|id| format!("`{id}`")).collect();
        s += &format!(" Conflicts with {}", ids.join(", "));
    }
    if !c.shown_by.is_empty() {
        s += if s.is_empty() { " Shown by " } else { "; shown by " };
        s += &c.shown_by.join(", ");
    }
    if !s.is_empty() {
        s.push('.');
    }
    if c.met_in_no_setting {
        s += " Met at no setting the tests sweep.";
    }
    s
}

/// One set of targets, evaluated.
#[derive(Clone, Debug)]
pub struct TargetSet {
    /// The targets file as named (`calibration/targets/paper.toml (built in)`).
    pub name: String,
    /// The experiments file its targets ran from.
    pub experiments_name: String,
    /// The deviations file, if any.
    pub deviations_name: Option<String>,
    /// The baseline file, if any.
    pub baseline_name: Option<String>,
    /// Every target beside its simulated value (the report's seed), in file order.
    pub outcomes: Vec<TargetOutcome>,
    /// Known deviations: target id -> reason.
    pub deviations: Deviations,
    /// Per outcome, its drift against the baseline (`None`: not recorded, or no baseline).
    pub drift: Vec<Option<TargetDrift>>,
    /// Whether the run is the baseline's (default seed and iterations), so that drift is judged;
    /// otherwise it is shown only.
    pub drift_checked: bool,
    /// Target id -> the model parameters fitted to it.
    pub fitted: BTreeMap<String, Vec<String>>,
    /// With `--seeds N`: for each target id, in how many of the N seeds it was met.
    pub seeds_met: Option<(BTreeMap<String, u64>, u64)>,
}

impl TargetSet {
    /// The verdict of outcome `i`.
    pub fn verdict(&self, i: usize) -> Verdict {
        Verdict::of(&self.outcomes[i], &self.deviations)
    }

    /// The parameters fitted to target `id`, if any.
    pub fn fitted_by(&self, id: &str) -> Option<&Vec<String>> {
        self.fitted.get(id).filter(|v| !v.is_empty())
    }

    /// Whether outcome `i` drifted beyond its tolerance (and the run is the baseline's).
    pub fn beyond(&self, i: usize) -> bool {
        self.drift_checked && self.drift[i].as_ref().is_some_and(TargetDrift::beyond)
    }

    /// The "met in seeds" cell of a target, if several seeds ran.
    fn seeds_cell(&self, id: &str) -> Option<String> {
        self.seeds_met.as_ref().map(|(met, n)| format!("{}/{n}", met.get(id).copied().unwrap_or(0)))
    }

    /// The drift cell of outcome `i`: `recorded -> now (change)`.
    fn drift_cell(&self, i: usize) -> String {
        match (&self.drift[i], &self.baseline_name) {
            (_, None) => "no baseline".into(),
            (None, Some(_)) => "not recorded".into(),
            (Some(d), Some(_)) if self.beyond(i) => format!("{} beyond {}", d.text(), d.tolerance),
            (Some(d), Some(_)) => d.text(),
        }
    }

    /// The most targets of this set that can be met together under the conflicts its
    /// deviations name.
    pub fn conflict_bound(&self) -> sfsim_calibration::ConflictBound {
        sfsim_calibration::conflict_bound(self.outcomes.len(), &self.deviations)
    }

    /// [`Self::conflict_bound`] as a sentence (empty when the deviations name no conflict).
    pub fn bound_note(&self) -> String {
        let b = self.conflict_bound();
        if b.given_up.is_empty() {
            return String::new();
        }
        format!(
            " Under the conflicts its deviations name (each shown by a test sweeping the parameters involved), at most {} of {} \
             targets can be met together; one smallest set to give up (found preferring targets already unmet): {}.",
            b.max_met,
            b.targets,
            b.given_up.join(", ")
        )
    }

    /// What `--check` refuses beyond the verdicts: a known deviation whose value left its
    /// tolerance, or that the baseline does not record. Each names the target, its recorded
    /// value, its new value and the tolerance.
    pub fn drift_failures(&self) -> Vec<String> {
        if !self.drift_checked || self.baseline_name.is_none() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, o) in self.outcomes.iter().enumerate() {
            if self.verdict(i) != Verdict::Known {
                continue;
            }
            match &self.drift[i] {
                None => out.push(format!(
                    "{} (known deviation) has no recorded value in {}: run `sfsim reproduce --update-baseline`",
                    o.id,
                    self.baseline_name.as_deref().unwrap_or_default()
                )),
                Some(d) if d.beyond() => {
                    let bad: Vec<String> = d.values.iter().filter(|v| !v.within()).map(|v| v.text()).collect();
                    out.push(format!("{} (known deviation): recorded -> now {}, tolerance {}", o.id, bad.join("; "), d.tolerance));
                }
                Some(_) => {}
            }
        }
        out
    }

    /// Met targets whose value left its tolerance: warnings, since their band still holds.
    pub fn drift_warnings(&self) -> Vec<String> {
        (0..self.outcomes.len())
            .filter(|&i| self.beyond(i) && self.verdict(i) != Verdict::Known)
            .filter_map(|i| self.drift[i].as_ref().map(|d| (i, d)))
            .map(|(i, d)| {
                format!("{} ({}): recorded -> now {}, tolerance {}", self.outcomes[i].id, self.verdict(i).word(), d.text(), d.tolerance)
            })
            .collect()
    }

    fn seeds_note(&self, seed: u64) -> String {
        match &self.seeds_met {
            Some((_, n)) => {
                format!(" The \"met in seeds\" column counts the seeds, of {n} (seed {seed} onwards), for which a target was met.")
            }
            None => String::new(),
        }
    }

    fn drift_note(&self) -> String {
        match (&self.baseline_name, self.drift_checked) {
            (None, _) => " No baseline: drift is not shown.".into(),
            (Some(b), true) => format!(
                " \"recorded -> now\" compares each value with {b}; a known deviation beyond its tolerance fails `--check`, a met target beyond it is a warning."
            ),
            (Some(b), false) => {
                format!(
                    " \"recorded -> now\" compares with {b}, recorded at the default seed and iterations, which this run does not use: drift is shown, not judged."
                )
            }
        }
    }
}

/// Everything a reproduction report shows.
pub struct Reproduction<'a> {
    /// The title.
    pub title: &'a str,
    /// The target sets, each in its own section.
    pub sets: &'a [TargetSet],
    /// The experiments' results (of every set, each once).
    pub experiments: &'a [ExperimentResult],
    /// The report's seed.
    pub seed: u64,
    /// `--iterations` (`None`: each experiment's own).
    pub iterations: Option<u64>,
    /// Figures: (file stem, caption, SVG).
    pub figures: &'a [(String, String, String)],
}

/// The console table: one line per target (verdict, id, `fitted` when a fitted value meets
/// it, the drift of its value that moved most, `!` when beyond its tolerance, the seeds it is
/// met in with `--seeds`, the simulated values); with several sets, a heading line per set.
pub fn render_reproduction_table(r: &Reproduction) -> String {
    let mut s = String::new();
    for set in r.sets {
        if r.sets.len() > 1 {
            let _ = writeln!(s, "== {} ==", set.name);
        }
        // The header names every column; the study's band follows sfsim's value.
        let seeds_head = if set.seeds_met.is_some() { format!("{:>5}  ", "seeds") } else { String::new() };
        let _ = writeln!(s, "{:<26} {:<48} {:<6} {:>9}  {seeds_head}sfsim  [study]", "result", "target", "fitted", "drift");
        for (i, o) in set.outcomes.iter().enumerate() {
            let v = set.verdict(i);
            let fitted = if v.met() && set.fitted_by(&o.id).is_some() { "fitted" } else { "" };
            let drift = set.drift[i].as_ref().map_or_else(|| "-".to_string(), TargetDrift::short);
            let mark = if set.beyond(i) { "!" } else { " " };
            let seeds = set.seeds_cell(&o.id).map_or(String::new(), |c| format!("{c:>5}  "));
            let _ = writeln!(s, "{:<26} {:<48} {fitted:<6} {drift:>9}{mark} {seeds}{}  [{}]", v.word(), o.id, o.simulated, o.band);
        }
        let _ = writeln!(
            s,
            "[study]: the study's value or band; drift: change since the recorded baseline (! beyond its tolerance); \
             fitted: met by a calibrated value"
        );
        let bound = set.bound_note();
        if !bound.is_empty() {
            let _ = writeln!(s, "{}", bound.trim_start());
        }
    }
    s
}

/// The Markdown report.
pub fn render_reproduction_md(r: &Reproduction) -> String {
    let (experiments, seed, figures) = (r.experiments, r.seed, r.figures);
    let many = r.sets.len() > 1;
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.title);
    if many {
        let _ = writeln!(s, "sfsim {}, seed {seed}; {} target sets.\n", crate::SFSIM_VERSION, r.sets.len());
    }
    for set in r.sets {
        let h = if many { "###" } else { "##" };
        if many {
            let _ = writeln!(s, "## Targets: {}\n", set.name);
            let _ = writeln!(s, "**{}.**{}{}{}\n", headline(set), set.seeds_note(seed), set.drift_note(), set.bound_note());
        } else {
            let _ = writeln!(
                s,
                "sfsim {}, seed {seed}: **{}.**{}{}{}\n",
                crate::SFSIM_VERSION,
                headline(set),
                set.seeds_note(seed),
                set.drift_note(),
                set.bound_note()
            );
            let _ = writeln!(s, "## Targets\n");
        }
        let seeds_head = if set.seeds_met.is_some() { (" met in seeds |", "---|") } else { ("", "") };
        let _ = writeln!(s, "| id | source | study | sfsim | result | recorded -> now | fitted |{}", seeds_head.0);
        let _ = writeln!(s, "|---|---|---|---|---|---|---|{}", seeds_head.1);
        for (i, o) in set.outcomes.iter().enumerate() {
            let v = set.verdict(i);
            let verdict = if v == Verdict::Pass { "pass".to_string() } else { format!("**{}**", v.word()) };
            let drift = if set.beyond(i) { format!("**{}**", set.drift_cell(i)) } else { set.drift_cell(i) };
            let fitted = match set.fitted_by(&o.id) {
                Some(ps) if v.met() => format!("fitted: {}", ps.join(", ")),
                _ => String::new(),
            };
            let extra = set.seeds_cell(&o.id).map_or(String::new(), |c| format!(" {c} |"));
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {verdict} | {} | {} |{extra}",
                o.id,
                o.source.replace('|', "/"),
                o.band,
                o.simulated,
                drift.replace('|', "/"),
                fitted
            );
        }
        let (fails, warns) = (set.drift_failures(), set.drift_warnings());
        if !fails.is_empty() || !warns.is_empty() {
            let _ = writeln!(s, "\n{h} Values that left their tolerance\n");
            for f in fails {
                let _ = writeln!(s, "- **fails `--check`**: {f}");
            }
            for w in warns {
                let _ = writeln!(s, "- warning: {w}");
            }
        }
        let missed = unmet(set);
        if !missed.is_empty() {
            let _ = writeln!(s, "\n{h} Targets not met, and why\n");
            for (o, why) in missed {
                let _ = writeln!(s, "- `{}` ({}): {why}", o.id, o.simulated);
            }
        }
        s.push('\n');
    }
    if !figures.is_empty() {
        let _ = writeln!(s, "## Figures\n");
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
    let (experiments, seed, figures) = (r.experiments, r.seed, r.figures);
    let many = r.sets.len() > 1;
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sfsim reproduction</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;font-size:14px;text-align:left}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}.warn{color:#9a6700;font-weight:bold}.fitted{color:#8250df}code{font-size:13px}</style></head><body>\n");
    let _ = writeln!(s, "<h1>{}</h1>", esc(r.title));
    if many {
        let _ = writeln!(s, "<p>sfsim {}, seed {seed}; {} target sets.</p>", crate::SFSIM_VERSION, r.sets.len());
    }
    for set in r.sets {
        let h = if many { "h3" } else { "h2" };
        if many {
            let _ = writeln!(s, "<h2>Targets: {}</h2>", esc(&set.name));
            let _ = writeln!(
                s,
                "<p><b>{}.</b>{}{}{}</p>",
                esc(&headline(set)),
                esc(&set.seeds_note(seed)),
                esc(&set.drift_note()),
                esc(&set.bound_note())
            );
        } else {
            let _ = writeln!(
                s,
                "<p>sfsim {}, seed {seed}: <b>{}.</b>{}{}{}</p>",
                crate::SFSIM_VERSION,
                esc(&headline(set)),
                esc(&set.seeds_note(seed)),
                esc(&set.drift_note()),
                esc(&set.bound_note())
            );
        }
        let seeds_head = if set.seeds_met.is_some() { "<th>met in seeds</th>" } else { "" };
        let _ = writeln!(
            s,
            "{}<table><tr><th>id</th><th>source</th><th>study</th><th>sfsim</th><th>result</th><th>recorded -&gt; now</th><th>fitted</th>{seeds_head}</tr>",
            if many { "" } else { "<h2>Targets</h2>" }
        );
        for (i, o) in set.outcomes.iter().enumerate() {
            let v = set.verdict(i);
            let (class, word) = (if v == Verdict::Pass { "pass" } else { "fail" }, v.word());
            let drift_class = match (set.beyond(i), v) {
                (false, _) => "",
                (true, Verdict::Known) => " class=\"fail\"",
                (true, _) => " class=\"warn\"",
            };
            let fitted = match set.fitted_by(&o.id) {
                Some(ps) if v.met() => format!("<td class=\"fitted\">fitted: {}</td>", esc(&ps.join(", "))),
                _ => "<td></td>".to_string(),
            };
            let extra = set.seeds_cell(&o.id).map_or(String::new(), |c| format!("<td>{c}</td>"));
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td><td{drift_class}>{}</td>{fitted}{extra}</tr>",
                esc(&o.id),
                esc(&o.source),
                esc(&o.band),
                esc(&o.simulated),
                esc(&set.drift_cell(i))
            );
        }
        s.push_str("</table>\n");
        let (fails, warns) = (set.drift_failures(), set.drift_warnings());
        if !fails.is_empty() || !warns.is_empty() {
            let _ = writeln!(s, "<{h}>Values that left their tolerance</{h}>\n<ul>");
            for f in fails {
                let _ = writeln!(s, "<li class=\"fail\">fails --check: {}</li>", esc(&f));
            }
            for w in warns {
                let _ = writeln!(s, "<li class=\"warn\">warning: {}</li>", esc(&w));
            }
            s.push_str("</ul>\n");
        }
        let missed = unmet(set);
        if !missed.is_empty() {
            let _ = writeln!(s, "<{h}>Targets not met, and why</{h}>\n<ul>");
            for (o, why) in missed {
                let _ = writeln!(s, "<li><code>{}</code> ({}): {}</li>", esc(&o.id), esc(&o.simulated), esc(&why));
            }
            s.push_str("</ul>\n");
        }
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

/// The whole result as one JSON document (pretty-printed, newline-terminated): per set its
/// files, every target (id, source, band, verdict, pass, simulated text and values, recorded
/// values, tolerance, drift, fitted_by, seeds_met with `--seeds` > 1) and totals; overall
/// totals, seed and iterations.
pub fn render_reproduction_json(r: &Reproduction) -> String {
    use serde_json::{Map, Value, json};
    let num = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    let mut all = Totals::default();
    let sets: Vec<Value> = r
        .sets
        .iter()
        .map(|set| {
            let mut totals = Totals::default();
            let targets: Vec<Value> = set
                .outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let v = set.verdict(i);
                    let values: Map<String, Value> = o.values.iter().map(|(l, x)| (l.clone(), num(*x))).collect();
                    let d = set.drift[i].as_ref();
                    let recorded = d.map(|d| {
                        Value::Object(d.values.iter().filter(|x| x.recorded.is_finite()).map(|x| (x.label.clone(), num(x.recorded))).collect())
                    });
                    let drift = d.map(|d| {
                        d.values
                            .iter()
                            .map(|x| {
                                json!({
                                    "label": x.label,
                                    "recorded": num(x.recorded),
                                    "now": num(x.now),
                                    "change": num(x.now - x.recorded),
                                    "relative_change": if x.recorded != 0.0 { num((x.now - x.recorded) / x.recorded.abs()) } else { Value::Null },
                                    "allowed": num(x.allowed),
                                    "within": x.within(),
                                })
                            })
                            .collect::<Vec<_>>()
                    });
                    let fitted_by = if v.met() { set.fitted_by(&o.id).cloned().unwrap_or_default() } else { Vec::new() };
                    totals.add(v, !fitted_by.is_empty(), set.beyond(i));
                    let mut t = json!({
                        "id": o.id,
                        "source": o.source,
                        "band": o.band,
                        "verdict": v.word(),
                        "pass": o.pass,
                        "expected": v.expected(),
                        "simulated": o.simulated,
                        "values": values,
                        "recorded": recorded,
                        "tolerance": d.map(|d| json!({ "relative": d.relative, "absolute": d.absolute })),
                        "drift": drift,
                        "drift_beyond_tolerance": set.beyond(i),
                        "fitted_by": fitted_by,
                    });
                    if let Some((met, _)) = &set.seeds_met {
                        t["seeds_met"] = json!(met.get(&o.id).copied().unwrap_or(0));
                    }
                    if let Some(reason) = set.deviations.get(&o.id) {
                        let c = set.deviations.conflict(&o.id).cloned().unwrap_or_default();
                        t["deviation"] = json!({
                            "reason": reason,
                            "seed_dependent": set.deviations.is_seed_dependent(&o.id),
                            "conflicts_with": c.conflicts_with,
                            "shown_by": c.shown_by,
                            "met_in_no_setting": c.met_in_no_setting,
                        });
                    }
                    t
                })
                .collect();
            all.merge(&totals);
            let bound = set.conflict_bound();
            let bound = json!({ "max_met": bound.max_met, "targets": bound.targets, "given_up": bound.given_up });
            json!({
                "targets_file": set.name,
                "experiments_file": set.experiments_name,
                "deviations_file": set.deviations_name,
                "conflict_bound": bound,
                "baseline_file": set.baseline_name,
                "drift_checked": set.drift_checked,
                "targets": targets,
                "totals": totals.json(),
                "check_failures": set.drift_failures(),
                "drift_warnings": set.drift_warnings(),
            })
        })
        .collect();
    let doc = json!({
        "sfsim_version": crate::SFSIM_VERSION,
        "seed": r.seed,
        "iterations": r.iterations,
        "seeds": r.sets.iter().find_map(|s| s.seeds_met.as_ref().map(|(_, n)| *n)).unwrap_or(1),
        "sets": sets,
        "totals": all.json(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("the report serializes");
    s.push('\n');
    s
}

/// Counts of verdicts, for the JSON totals.
#[derive(Default)]
struct Totals {
    targets: u64,
    met: u64,
    known: u64,
    failing: u64,
    stale: u64,
    seed_dependent: u64,
    fitted: u64,
    drift: u64,
}

impl Totals {
    fn add(&mut self, v: Verdict, fitted: bool, drift: bool) {
        self.targets += 1;
        self.met += u64::from(v.met());
        self.known += u64::from(v == Verdict::Known);
        self.failing += u64::from(v == Verdict::Fail);
        self.stale += u64::from(v == Verdict::Stale);
        self.seed_dependent += u64::from(v == Verdict::PassSeedDependent);
        self.fitted += u64::from(fitted);
        self.drift += u64::from(drift);
    }

    fn merge(&mut self, o: &Totals) {
        self.targets += o.targets;
        self.met += o.met;
        self.known += o.known;
        self.failing += o.failing;
        self.stale += o.stale;
        self.seed_dependent += o.seed_dependent;
        self.fitted += o.fitted;
        self.drift += o.drift;
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "targets": self.targets,
            "met": self.met,
            "known_deviations": self.known,
            "failing": self.failing,
            "stale_deviations": self.stale,
            "met_seed_dependent": self.seed_dependent,
            "met_by_fitted_value": self.fitted,
            "drift_beyond_tolerance": self.drift,
        })
    }
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
