//! The reproduction report: every target beside its simulated value, and the experiments'
//! summaries, as Markdown and as a self-contained HTML page.

use std::fmt::Write;

use sfsim_calibration::{ExperimentResult, TargetOutcome};

fn summary_rows(r: &ExperimentResult) -> Vec<[String; 9]> {
    r.results
        .iter()
        .map(|d| {
            [
                d.deployment.clone(),
                format!("{:.2}", d.latency_s.mean),
                format!("{:.2}", d.latency_s.p99),
                format!("{:.2}", d.cold_start_s.p50),
                format!("{:.1}", d.gb_s),
                format!("{:.6}", d.cost_usd.compute),
                format!("{:.6}", d.cost_usd.transactions + d.cost_usd.transitions),
                format!("{:.6}", d.cost_usd.total),
                format!("{}/{}", d.completed, d.iterations),
            ]
        })
        .collect()
}

const SUMMARY_HEAD: [&str; 9] =
    ["deployment", "latency mean s", "latency p99 s", "cold start p50 s", "GB-s", "compute $", "stateful $", "total $", "completed"];

/// The Markdown report.
pub fn render_reproduction_md(outcomes: &[TargetOutcome], experiments: &[ExperimentResult], seed: u64) -> String {
    let passed = outcomes.iter().filter(|o| o.pass).count();
    let mut s = String::new();
    let _ = writeln!(s, "# sfsim reproduction of Shahidi et al., IISWC 2021\n");
    let _ = writeln!(s, "sfsim {}, seed {seed}: **{passed} of {} targets within their bands.**\n", crate::SFSIM_VERSION, outcomes.len());
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| id | source | study | sfsim | result |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for o in outcomes {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} |",
            o.id,
            o.source.replace('|', "/"),
            o.band,
            o.simulated,
            if o.pass { "pass" } else { "**fail**" }
        );
    }
    let _ = writeln!(s, "\n## Experiments\n");
    for r in experiments {
        let _ = writeln!(s, "### {}\n", r.id);
        let _ = writeln!(s, "| {} |", SUMMARY_HEAD.join(" | "));
        let _ = writeln!(s, "|{}", "---|".repeat(SUMMARY_HEAD.len()));
        for row in summary_rows(r) {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        s.push('\n');
    }
    s
}

fn esc(x: &str) -> String {
    x.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML report (self-contained: no external scripts, fonts or styles).
pub fn render_reproduction_html(outcomes: &[TargetOutcome], experiments: &[ExperimentResult], seed: u64) -> String {
    let passed = outcomes.iter().filter(|o| o.pass).count();
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sfsim reproduction</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;font-size:14px;text-align:left}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}code{font-size:13px}</style></head><body>\n");
    let _ = writeln!(s, "<h1>sfsim reproduction of Shahidi et al., IISWC 2021</h1>");
    let _ = writeln!(
        s,
        "<p>sfsim {}, seed {seed}: <b>{passed} of {} targets within their bands.</b></p>",
        crate::SFSIM_VERSION,
        outcomes.len()
    );
    let _ = writeln!(s, "<h2>Targets</h2><table><tr><th>id</th><th>source</th><th>study</th><th>sfsim</th><th>result</th></tr>");
    for o in outcomes {
        let (class, word) = if o.pass { ("pass", "pass") } else { ("fail", "fail") };
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
            esc(&o.id),
            esc(&o.source),
            esc(&o.band),
            esc(&o.simulated)
        );
    }
    s.push_str("</table>\n<h2>Experiments</h2>\n");
    for r in experiments {
        let _ = writeln!(
            s,
            "<h3>{}</h3><table><tr>{}</tr>",
            esc(&r.id),
            SUMMARY_HEAD.iter().map(|h| format!("<th>{h}</th>")).collect::<String>()
        );
        for row in summary_rows(r) {
            let _ = writeln!(s, "<tr>{}</tr>", row.iter().map(|c| format!("<td>{}</td>", esc(c))).collect::<String>());
        }
        s.push_str("</table>\n");
    }
    s.push_str("</body></html>\n");
    s
}
