//! Which targets a fitted value meets: a model parameter whose `source` starts with
//! `fitted:` names the targets it was fitted to (`fitted: id1, id2 (sfsim calibrate); assumed
//! before: ...`). The report marks those targets, since meeting them is no evidence for the
//! model: the value was chosen to meet them.

use std::collections::BTreeMap;

/// Target id -> the parameters fitted to it (`az-func.toml cold_start.package_load_s_per_mb`),
/// from model files given as (file name, text). Files that do not parse are skipped (the models
/// were loaded, and checked, from the same texts).
pub fn fitted_targets(texts: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, text) in texts {
        let Ok(table) = text.parse::<toml::Table>() else { continue };
        let mut found = Vec::new();
        walk(&toml::Value::Table(table), "", &mut found);
        for (key, ids) in found {
            for id in ids {
                out.entry(id).or_default().push(format!("{file} {key}"));
            }
        }
    }
    out
}

fn walk(v: &toml::Value, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    let toml::Value::Table(t) = v else { return };
    if let (Some(_), Some(source)) = (t.get("value"), t.get("source").and_then(|s| s.as_str())) {
        if let Some(ids) = fitted_ids(source) {
            out.push((path.to_string(), ids));
        }
        return;
    }
    for (k, child) in t {
        let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
        walk(child, &p, out);
    }
}

/// The target ids a `fitted: id1, id2 (sfsim calibrate); ...` source names: the text after
/// `fitted:` up to the first `(` or `;`, split at commas. `None` unless the source is fitted.
pub fn fitted_ids(source: &str) -> Option<Vec<String>> {
    let rest = source.trim_start().strip_prefix("fitted:")?;
    let end = rest.find(['(', ';']).unwrap_or(rest.len());
    let ids: Vec<String> =
        rest[..end].split(',').map(str::trim).filter(|s| !s.is_empty() && !s.contains(char::is_whitespace)).map(String::from).collect();
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_sources_name_their_targets() {
        assert_eq!(
            fitted_ids("fitted: ml-coldstart-azqueue, video-coldstart-azdorch (sfsim calibrate); assumed before: x, y"),
            Some(vec!["ml-coldstart-azqueue".to_string(), "video-coldstart-azdorch".to_string()])
        );
        assert_eq!(fitted_ids("fitted: a; assumed before: b (c)"), Some(vec!["a".to_string()]));
        assert_eq!(fitted_ids("assumed: fitted: a"), None);
        let texts = vec![(
            "m.toml".to_string(),
            "[a]\nx = { value = 1.0, source = \"fitted: t1, t2 (sfsim calibrate)\" }\n[a.b]\ny = { value = 2, source = \"fitted: t2\" }\nz = { value = 3, source = \"LDG\" }\n".to_string(),
        )];
        let f = fitted_targets(&texts);
        assert_eq!(f.get("t1"), Some(&vec!["m.toml a.x".to_string()]));
        assert_eq!(f.get("t2"), Some(&vec!["m.toml a.b.y".to_string(), "m.toml a.x".to_string()]), "in key order");
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn the_built_in_models_name_the_fitted_cold_start_targets() {
        let f = fitted_targets(&sfsim_platform::Models::builtin_texts());
        for id in ["ml-coldstart-azqueue", "video-coldstart-azdorch", "ml-coldstart-durable"] {
            assert!(f.contains_key(id), "{id}: {f:?}");
        }
    }
}
