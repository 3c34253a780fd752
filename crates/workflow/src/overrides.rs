//! `--set key.path=value` overrides, applied to the TOML text before it is parsed.
//!
//! Overrides edit a `toml_edit` document, so the rest of the file keeps its layout and the
//! errors that follow still point at sensible lines. A value is parsed as a TOML value
//! (`80`, `1.5`, `true`, `"text"`, `[1, 2]`, `{ dist = "fixed", value_s = 2 }`); anything that
//! does not parse as one is taken as a bare string, so `--set scenario.name=my-run` works.
//! Numeric path segments index arrays (`workflow.flow.2`).

use toml_edit::{DocumentMut, Item, Value};

/// One `key.path=value` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// Dotted key path.
    pub path: String,
    /// The value as typed.
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (path, value) = s.split_once('=').ok_or_else(|| format!("expected key.path=value, got `{s}`"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(|seg| seg.trim().is_empty()) {
            return Err(format!("invalid key path `{path}` in `{s}`"));
        }
        Ok(Override { path: path.to_string(), value: value.trim().to_string() })
    }
}

fn parse_value(text: &str) -> Value {
    text.parse::<Value>().unwrap_or_else(|_| Value::from(text))
}

/// Applies overrides in order to TOML `text`. Intermediate tables are created as needed; an
/// array index must exist. The error names the override that could not be applied.
pub fn apply_overrides(text: &str, overrides: &[Override]) -> Result<String, String> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("cannot apply --set to a file that does not parse: {e}"))?;
    for o in overrides {
        let segs: Vec<&str> = o.path.split('.').map(str::trim).collect();
        apply_into_item(doc.as_item_mut(), &segs, &o.value, &o.path)?;
    }
    Ok(doc.to_string())
}

fn apply_into_item(item: &mut Item, segs: &[&str], value: &str, path: &str) -> Result<(), String> {
    let Some((seg, rest)) = segs.split_first() else {
        *item = Item::Value(parse_value(value));
        return Ok(());
    };
    match item {
        Item::Table(t) => {
            if rest.is_empty() {
                t.insert(seg, Item::Value(parse_value(value)));
                return Ok(());
            }
            let next = t.entry(seg).or_insert_with(|| Item::Table(toml_edit::Table::new()));
            apply_into_item(next, rest, value, path)
        }
        Item::ArrayOfTables(a) => {
            let idx = parse_index(seg, a.len(), path)?;
            let t = a.get_mut(idx).ok_or_else(|| format!("--set {path}: no element {seg}"))?;
            if rest.is_empty() {
                return Err(format!("--set {path}: cannot replace a whole table"));
            }
            let (first, more) = rest.split_first().expect("rest is not empty");
            if more.is_empty() {
                t.insert(first, Item::Value(parse_value(value)));
                return Ok(());
            }
            let next = t.entry(first).or_insert_with(|| Item::Table(toml_edit::Table::new()));
            apply_into_item(next, more, value, path)
        }
        Item::Value(v) => apply_into_value(v, segs, value, path),
        Item::None => Err(format!("--set {path}: `{seg}` has no parent table")),
    }
}

fn parse_index(seg: &str, len: usize, path: &str) -> Result<usize, String> {
    let idx: usize = seg.parse().map_err(|_| format!("--set {path}: `{seg}` indexes an array and must be a number"))?;
    if idx >= len {
        return Err(format!("--set {path}: index {idx} is out of range (the array has {len} elements)"));
    }
    Ok(idx)
}

fn apply_into_value(v: &mut Value, segs: &[&str], value: &str, path: &str) -> Result<(), String> {
    let Some((seg, rest)) = segs.split_first() else {
        *v = parse_value(value);
        return Ok(());
    };
    match v {
        Value::InlineTable(t) => {
            if rest.is_empty() {
                t.insert(*seg, parse_value(value));
                return Ok(());
            }
            let next = t.entry(*seg).or_insert_with(|| Value::InlineTable(toml_edit::InlineTable::new()));
            apply_into_value(next, rest, value, path)
        }
        Value::Array(a) => {
            let idx = parse_index(seg, a.len(), path)?;
            let next = a.get_mut(idx).ok_or_else(|| format!("--set {path}: no element {seg}"))?;
            apply_into_value(next, rest, value, path)
        }
        _ => Err(format!("--set {path}: `{seg}` is inside a value that is not a table or array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, s: &[&str]) -> Result<String, String> {
        let o: Vec<Override> = s.iter().map(|x| x.parse().expect("override")).collect();
        apply_overrides(text, &o)
    }

    #[test]
    fn sets_tables_inline_tables_and_arrays() {
        let text = "[a]\nb = 1\nc = { d = 2, e = [1, { f = 3 }] }\n";
        let out = set(text, &["a.b=5", "a.c.d=7", "a.c.e.1.f=9", "a.g=\"x\"", "h.i=true"]).expect("applies");
        let v: toml::Table = toml::from_str(&out).expect("parses");
        assert_eq!(v["a"]["b"].as_integer(), Some(5));
        assert_eq!(v["a"]["c"]["d"].as_integer(), Some(7));
        assert_eq!(v["a"]["c"]["e"][1]["f"].as_integer(), Some(9));
        assert_eq!(v["a"]["g"].as_str(), Some("x"));
        assert_eq!(v["h"]["i"].as_bool(), Some(true));
    }

    #[test]
    fn bare_words_become_strings_and_bad_paths_are_errors() {
        let out = set("[s]\nname = \"a\"\n", &["s.name=my-run"]).expect("applies");
        assert!(out.contains("name = \"my-run\""));
        assert!(set("a = [1]\n", &["a.5=1"]).unwrap_err().contains("out of range"));
        assert!(set("a = 1\n", &["a.b=1"]).unwrap_err().contains("not a table"));
        assert!("novalue".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }
}
