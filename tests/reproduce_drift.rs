//! Regression strength of `sfsim reproduce` (issue #10): recorded values with tolerances
//! (`calibration/baseline.toml`), the drift of every target, `--check` failing when a known
//! deviation leaves its tolerance, the fitted marking, `--format json`, and several target sets.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common;
use common::sfsim;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("drift-{name}"))
}

/// A copy of models/ with one line edited.
fn edited_models(dir: &Path, file: &str, from: &str, to: &str) -> PathBuf {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).expect("models dir");
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).expect("models/") {
        let p = e.expect("entry").path();
        if !p.is_file() {
            continue; // models/profiles/
        }
        let mut text = std::fs::read_to_string(&p).expect("model file");
        if p.file_name().is_some_and(|n| n == file) {
            assert!(text.contains(from), "{file} has `{from}`");
            text = text.replace(from, to);
        }
        std::fs::write(models.join(p.file_name().expect("name")), text).expect("write model");
    }
    models
}

const QUEUE_TX: &str = "ml-train-queue-transactions-azdorch-vs-azqueue";

#[test]
fn check_fails_when_a_known_deviation_leaves_its_recorded_tolerance() {
    // The example: Durable's maximum polling interval at 1 s instead of 30 s moves this
    // known deviation from about 4.1 to about 11.6 (2.7 to 9 before the scale controller's
    // samples counted a Get Queue Metadata beside each peek). Its verdict stays "known deviation", so the
    // pass/fail check alone passes; the recorded value makes it fail and name the target.
    let dir = tmpdir("edited");
    let out = dir.join("report").to_string_lossy().into_owned();
    let same = edited_models(&dir.join("same"), "az-durable.toml", "max_interval_s = { value = 30,", "max_interval_s = { value = 30,");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "--check", "-q", "--models", &same.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "the unedited copy passes: {}", stderr(&o));
    let edited = edited_models(&dir.join("edited"), "az-durable.toml", "max_interval_s = { value = 30,", "max_interval_s = { value = 1,");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "--check", "-q", "--models", &edited.to_string_lossy()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(stdout(&o).lines().nth(1).is_some_and(|l| l.starts_with("known deviation")), "the verdict alone is unchanged: {}", stdout(&o));
    assert!(err.contains(QUEUE_TX) && err.contains("tolerance 5 %"), "{err}");
    // Recorded and new value: "4.07585 -> 11.6407 (+185.6 %)".
    let line = err.lines().find(|l| l.contains(QUEUE_TX)).expect("a line names the target");
    let nums: Vec<f64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(nums.len() >= 2 && (3.5..4.5).contains(&nums[0]) && nums[1] > 8.0, "{line}");
    // Without --check the run succeeds, and the report marks the drift.
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "-q", "--models", &edited.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("%!"), "{}", stdout(&o));
    let md = std::fs::read_to_string(dir.join("report/report.md")).expect("report.md");
    assert!(md.contains("## Values that left their tolerance") && md.contains("**fails `--check`**"), "{md}");
    // Another seed or iteration count is not the baseline's run: drift is shown, not judged.
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "--check", "-q", "--seed", "2", "--models", &edited.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_met_target_that_drifts_warns_and_a_deviation_without_a_record_fails() {
    let dir = tmpdir("baseline");
    let out = dir.join("report").to_string_lossy().into_owned();
    let base = dir.join("b.toml");
    let met = "video-azfunc-eq-awslambda";
    std::fs::write(
        &base,
        format!("[[recorded]]\nid = \"{met}\"\ntolerance = 0.05\nvalue = 2.0\n[[recorded]]\nid = \"{QUEUE_TX}\"\ntolerance = 0.05\nvalue = 4.08\n"),
    )
    .expect("write");
    let b = base.to_string_lossy().into_owned();
    let o = sfsim(&["reproduce", "--out", &out, "--only", met, "--only", QUEUE_TX, "--check", "-q", "--baseline", &b]);
    assert_eq!(o.status.code(), Some(0), "a met target's drift is a warning: {}", stderr(&o));
    assert!(stderr(&o).contains("warning") && stderr(&o).contains(met), "{}", stderr(&o));
    // A known deviation the baseline does not record fails --check: each deviation records its value.
    std::fs::write(&base, format!("[[recorded]]\nid = \"{met}\"\ntolerance = 0.05\nvalue = 1.0\n")).expect("write");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "--check", "-q", "--baseline", &b]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no recorded value"), "{}", stderr(&o));
    // --update-baseline records it, keeps the other record's tolerance, and --check passes again.
    std::fs::write(&base, format!("[[recorded]]\nid = \"{met}\"\ntolerance = 0.3\nnote = \"wide on purpose\"\nvalue = 1.0\n"))
        .expect("write");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "-q", "--baseline", &b, "--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&base).expect("rewritten");
    assert!(text.contains(QUEUE_TX) && text.contains("tolerance = 0.3\nnote = \"wide on purpose\""), "{text}");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "--check", "-q", "--baseline", &b]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A bad record is an input error at its key.
    std::fs::write(&base, "[[recorded]]\nid = \"nope\"\ntolerance = 0.1\nvalue = 1.0\n").expect("write");
    let o = sfsim(&["reproduce", "--out", &out, "--only", QUEUE_TX, "-q", "--baseline", &b]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("b.toml:2:") && stderr(&o).contains("recorded.0.id"), "{}", stderr(&o));
}

#[test]
fn the_shipped_baseline_holds_and_json_carries_the_whole_result() {
    let dir = tmpdir("json");
    let out = dir.to_string_lossy().into_owned();
    let o = sfsim(&["reproduce", "--out", &out, "--check", "--format", "json", "-q", "--seeds", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is one JSON document");
    assert_eq!(v["seed"], 1);
    assert!(v["iterations"].is_null());
    assert_eq!(v["seeds"], 2);
    let set = &v["sets"][0];
    let targets = set["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 37);
    assert_eq!(v["totals"]["targets"], 37);
    assert_eq!(v["totals"]["drift_beyond_tolerance"], 0, "the shipped baseline is this run's");
    for t in targets {
        for k in ["id", "source", "verdict", "pass", "values", "band", "recorded", "tolerance", "drift", "fitted_by", "seeds_met"] {
            assert!(t.get(k).is_some(), "{k} in {t}");
        }
        assert!(t["tolerance"]["relative"].as_f64().is_some_and(|x| x > 0.0), "{t}");
    }
    let by_id = |id: &str| targets.iter().find(|t| t["id"] == id).expect("target");
    let cold = by_id("ml-coldstart-azqueue");
    assert!(cold["fitted_by"][0].as_str().is_some_and(|s| s.contains("package_load_s_per_mb")), "{cold}");
    assert!(by_id("video-azfunc-eq-awslambda")["fitted_by"].as_array().is_some_and(Vec::is_empty));
    let q = by_id(QUEUE_TX);
    assert_eq!(q["verdict"], "known deviation");
    assert!(q["values"]["value"].as_f64().is_some_and(|x| x > 2.0));
    assert_eq!(q["drift"][0]["within"], true);
    // A listed deviation carries its reason, the targets it conflicts with and the tests that
    // show it; a met target carries none; the set carries its conflict bound.
    assert!(q["deviation"]["reason"].as_str().is_some_and(|r| r.len() > 40), "{q}");
    assert_eq!(q["deviation"]["conflicts_with"][0], "video-monthly-azdorch-transition-overhead");
    assert!(q["deviation"]["shown_by"][0].as_str().is_some_and(|t| t.starts_with("tests/deviation_conflicts")), "{q}");
    assert_eq!(q["deviation"]["met_in_no_setting"], true);
    assert!(by_id("video-azfunc-eq-awslambda").get("deviation").is_none());
    assert_eq!(set["conflict_bound"]["max_met"], 26);
    assert_eq!(set["conflict_bound"]["targets"], 37);
    assert_eq!(set["conflict_bound"]["given_up"].as_array().map(Vec::len), Some(11));
    // The report marks the fitted targets too.
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    assert!(md.contains("fitted: az-func.toml cold_start.package_load_s_per_mb"), "{md}");
    assert!(html.contains("class=\"fitted\""));
    assert!(md.contains("| recorded -> now | fitted |"));
}

#[test]
fn several_target_sets_each_with_its_own_files() {
    let dir = tmpdir("sets");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/paper/video.toml");
    std::fs::write(
        dir.join("exps.toml"),
        format!(
            "[[experiment]]\nid = \"v\"\nscenario = {:?}\niterations = 5\ndeployments = [\"aws-lambda\", \"az-func\"]\n",
            scenario.to_string_lossy()
        ),
    )
    .expect("write");
    let mine = dir.join("mine.toml");
    let target = "[[target]]\nid = \"mine-ratio\"\nsource = \"test\"\nexperiment = \"v\"\nkind = \"ratio\"\nmetric = \"latency_mean\"\na = \"az-func\"\nb = \"aws-lambda\"\nlow = 0.5\nhigh = 2.0\n";
    std::fs::write(&mine, format!("experiments = \"exps.toml\"\nbaseline = \"mine-baseline.toml\"\n{target}")).expect("write");
    let (m, out) = (mine.to_string_lossy().into_owned(), dir.join("report").to_string_lossy().into_owned());
    // Its baseline does not exist yet: --update-baseline writes it, beside the targets file.
    let o = sfsim(&["reproduce", "--out", &out, "--targets", &m, "-q"]);
    assert_eq!(o.status.code(), Some(3), "a named file that is missing: {}", stderr(&o));
    assert!(stderr(&o).contains("mine.toml:2:") && stderr(&o).contains("baseline"), "{}", stderr(&o));
    let o = sfsim(&["reproduce", "--out", &out, "--targets", &m, "-q", "--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let b = std::fs::read_to_string(dir.join("mine-baseline.toml")).expect("baseline written");
    assert!(b.contains("id = \"mine-ratio\"\ntolerance = 0.05\n"), "{b}");
    // Two sets: the study's file (which names its own experiments, deviations and baseline) and this one.
    let o = sfsim(&[
        "reproduce",
        "--out",
        &out,
        "--targets",
        "calibration/targets/paper.toml",
        "--targets",
        &m,
        "--only",
        "mine-ratio",
        "--only",
        QUEUE_TX,
        "--check",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("== calibration/targets/paper.toml ==") && text.contains(&format!("== {m} ==")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("known deviation") && l.contains(QUEUE_TX)), "paper's deviations apply: {text}");
    assert!(text.lines().any(|l| l.starts_with("pass") && l.contains("mine-ratio")), "{text}");
    let md = std::fs::read_to_string(dir.join("report/report.md")).expect("md");
    assert_eq!(md.matches("## Targets: ").count(), 2, "{md}");
    // A named file that is missing is an input error at its key, with file and line.
    std::fs::write(&mine, format!("experiments = \"exps.toml\"\ndeviations = \"nowhere.toml\"\n{target}")).expect("write");
    let o = sfsim(&["reproduce", "--out", &out, "--targets", &m, "-q"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("mine.toml:2:") && stderr(&o).contains("key `deviations`"), "{}", stderr(&o));
}
