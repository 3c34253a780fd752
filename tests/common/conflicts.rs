//! What the conflict tests (`tests/deviation_conflicts*.rs`) share: copies of the built-in
//! models or scenarios with some values changed, and `sfsim reproduce` run on chosen targets.
#![allow(dead_code)] // each test file uses part of it

use std::collections::BTreeMap;
use std::path::Path;

use super::TempDir;

/// One model parameter to set: (file, table, key, value). An empty table means every table of
/// the file that has the key.
#[derive(Clone, Copy, Debug)]
pub struct Edit<'a>(pub &'a str, pub &'a str, pub &'a str, pub f64);

impl<'a> From<(&'a str, &'a str, f64)> for Edit<'a> {
    fn from((file, key, value): (&'a str, &'a str, f64)) -> Self {
        Edit(file, "", key, value)
    }
}

impl<'a> From<(&'a str, &'a str, &'a str, f64)> for Edit<'a> {
    fn from((file, table, key, value): (&'a str, &'a str, &'a str, f64)) -> Self {
        Edit(file, table, key, value)
    }
}

/// Copies every `*.toml` of the repository's `dir`, and of its subfolders one level down (a
/// model set's `profiles/`), into a fresh temporary directory, passing each file's text through
/// `edit(file name, text)`; a subfolder's file is named `profiles/2026.toml`.
pub fn copy_with(dir: &str, tag: &str, edit: impl Fn(&str, String) -> String) -> TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = TempDir::new(&format!("conflicts-{tag}"));
    let mut folders = vec![String::new()];
    while let Some(sub) = folders.pop() {
        for entry in std::fs::read_dir(root.join(dir).join(&sub)).expect("source dir") {
            let p = entry.expect("entry").path();
            let name = format!("{sub}{}", p.file_name().expect("name").to_string_lossy());
            if p.is_dir() && sub.is_empty() {
                std::fs::create_dir_all(out.join(&name)).expect("temp subdir");
                folders.push(format!("{name}/"));
            } else if p.extension().is_some_and(|e| e == "toml") {
                let text = edit(&name, std::fs::read_to_string(&p).expect("file"));
                std::fs::write(out.join(&name), text).expect("write");
            }
        }
    }
    out
}

/// The models in `dir` (a copy made by [`models_with`]) with the storage account's kind set to
/// `kind` (`"gpv1"`, `"gpv2"`); returns `dir`.
pub fn with_account_kind(dir: TempDir, kind: &str) -> TempDir {
    let file = dir.join("az-storage.toml");
    let text = std::fs::read_to_string(&file).expect("az-storage.toml");
    let (head, tail) = text.split_once("\nkind = { value = \"").expect("account.kind in az-storage.toml");
    let (_, rest) = tail.split_once('"').expect("kind value");
    std::fs::write(&file, format!("{head}\nkind = {{ value = \"{kind}\"{rest}")).expect("write");
    dir
}

/// `text` (a model file) with `key = { value = X, ... }` set to `value` in `table` (or in every
/// table with the key when `table` is empty); the key must be there.
pub fn set_param(text: &str, file: &str, table: &str, key: &str, value: f64) -> String {
    let prefix = format!("{key} = {{ value = ");
    let mut current = String::new();
    let mut seen = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with('[') {
                current = l.trim_matches(|c| c == '[' || c == ']').to_string();
            }
            if (table.is_empty() || table == current)
                && let Some((_, tail)) = l.strip_prefix(&prefix).and_then(|rest| rest.split_once(','))
            {
                seen = true;
                return format!("{prefix}{value:e},{tail}");
            }
            l.to_string()
        })
        .collect();
    assert!(seen, "{file}: no `{key}` in {}", if table.is_empty() { "any table" } else { table });
    out.join("\n")
}

/// A copy of the built-in models with `edits` applied.
pub fn models_with<'a, E: Copy + Into<Edit<'a>>>(tag: &str, edits: &[E]) -> TempDir {
    let edits: Vec<Edit> = edits.iter().map(|&e| e.into()).collect();
    copy_with("models", tag, |name, mut text| {
        for Edit(file, table, key, value) in edits.iter().filter(|e| e.0 == name) {
            text = set_param(&text, file, table, key, *value);
        }
        text
    })
}

/// One target's result.
pub struct Outcome {
    /// Its values by label.
    pub values: BTreeMap<String, f64>,
    /// Met at the first seed.
    pub pass: bool,
    /// Seeds on which it is met.
    pub seeds_met: u64,
}

/// Runs `sfsim reproduce` on targets `ids` with the given models and experiments (else the
/// built-in ones) over `seeds` seeds.
pub fn reproduce(models: Option<&Path>, experiments: Option<&Path>, ids: &[&str], seeds: u32) -> BTreeMap<String, Outcome> {
    let out_dir = TempDir::new("conflicts-report");
    let mut args = vec!["reproduce".to_string(), "--format".into(), "json".into(), "-q".into()];
    if let Some(m) = models {
        args.extend(["--models".to_string(), m.to_string_lossy().into_owned()]);
    }
    if let Some(x) = experiments {
        args.extend(["--experiments".to_string(), x.to_string_lossy().into_owned()]);
    }
    args.extend(["--out".to_string(), out_dir.to_string_lossy().into_owned()]);
    args.extend(["--seeds".to_string(), seeds.to_string()]);
    for id in ids {
        args.extend(["--only".to_string(), id.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = super::sfsim(&args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let all = v["sets"][0]["targets"].as_array().expect("targets");
    ids.iter()
        .map(|id| {
            let t = all.iter().find(|t| t["id"] == *id).expect("target");
            let values = match t["values"].as_object() {
                Some(m) => m.iter().filter_map(|(k, x)| Some((k.clone(), x.as_f64()?))).collect(),
                None => BTreeMap::new(),
            };
            let outcome = Outcome { values, pass: t["pass"].as_bool().unwrap_or(false), seeds_met: t["seeds_met"].as_u64().unwrap_or(0) };
            (id.to_string(), outcome)
        })
        .collect()
}

/// [`reproduce`] with the models in `models`, which are removed afterwards.
pub fn outcomes(models: TempDir, ids: &[&str], seeds: u32) -> BTreeMap<String, Outcome> {
    reproduce(Some(&models), None, ids, seeds)
}

/// Each target's (values by label, met) at the first seed with the models in `models`.
pub fn targets(models: &Path, ids: &[&str]) -> Vec<(BTreeMap<String, f64>, bool)> {
    let mut r = reproduce(Some(models), None, ids, 1);
    ids.iter().map(|id| r.remove(*id).expect("target")).map(|o| (o.values, o.pass)).collect()
}
