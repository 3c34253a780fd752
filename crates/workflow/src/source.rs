//! Loading TOML files with errors that point at the file, line:column and key path.
//!
//! Loading happens in two stages (see ARCHITECTURE.md): serde deserializes the text into `Raw*`
//! types that reject unknown keys and wrong types, then `validate` turns them into checked types.
//! Both stages report a [`LoadError`] carrying a dotted key path; [`SourceFile::locate`] maps a key
//! path back to a span with `toml_edit`'s span-preserving document, so a semantic error such as a
//! negative duration is reported at the exact value, with the line and a caret.

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;

/// A TOML file's name and text, kept for error reporting.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown in errors (the path as the user gave it).
    pub name: String,
    /// The text that was parsed (after any `--set` overrides).
    pub text: String,
    /// The file as written, when `--set` overrides rewrote `text`: positions in errors refer to
    /// this text, so they point at the user's own lines.
    pub original: Option<String>,
    /// The `--set` overrides applied, as `path=value`.
    pub overrides: Vec<(String, String)>,
}

/// An error in an input file: where, which key, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, 0 when the error is about the whole file (e.g. unreadable).
    pub line: usize,
    /// 1-based column (in characters), 0 when unknown.
    pub col: usize,
    /// The dotted key path (`workflow.steps.prepare.cpu_s.median_s`), empty for the whole file.
    pub key: String,
    /// What is wrong, in words.
    pub message: String,
    /// The offending line, for the caret display.
    pub line_text: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(text) = &self.line_text {
            let gutter = self.line.to_string().len();
            write!(f, "\n{:gutter$} |\n{} | {}\n{:gutter$} | {:>width$}", "", self.line, text, "", "^", width = self.col.max(1))?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// An error about the whole file (unreadable, not UTF-8).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        LoadError { file: file.to_string(), line: 0, col: 0, key: String::new(), message: message.into(), line_text: None }
    }
}

/// A semantic error found by validation, before it is given a position.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyError {
    /// Dotted key path; array elements are numeric segments (`workflow.flow.2`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl KeyError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        KeyError { key: key.into(), message: message.into() }
    }
}

impl SourceFile {
    /// Reads a file; an unreadable or non-UTF-8 file is a [`LoadError`] naming it.
    pub fn read(path: &std::path::Path) -> Result<SourceFile, LoadError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| LoadError::whole_file(&name, format!("cannot read file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            // Point at the first byte that is not UTF-8.
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let line = good.matches('\n').count() + 1;
            let start = good.rfind('\n').map_or(0, |i| i + 1);
            let col = good[start..].chars().count() + 1;
            let end = bytes[at..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| at + i);
            LoadError {
                file: name.clone(),
                line,
                col,
                key: String::new(),
                message: format!("file is not valid UTF-8: byte 0x{:02x} at offset {at} (save it as UTF-8)", bytes[at]),
                line_text: Some(String::from_utf8_lossy(&bytes[start..end]).into_owned()),
            }
        })?;
        Ok(SourceFile { name, text, original: None, overrides: Vec::new() })
    }

    /// A source from memory (built-in models, tests).
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile { name: name.into(), text: text.into(), original: None, overrides: Vec::new() }
    }

    /// 1-based line and column (in characters) of a byte offset of the parsed text, and the
    /// line's text.
    pub fn line_col(&self, offset: usize) -> (usize, usize, String) {
        line_col_in(&self.text, offset)
    }

    /// The `--set` override that wrote `key` (or a table above or below it), if any.
    fn override_for(&self, key: &str) -> Option<&(String, String)> {
        if key.is_empty() {
            return None;
        }
        self.overrides
            .iter()
            .rev()
            .find(|(path, _)| path == key || key.starts_with(&format!("{path}.")) || path.starts_with(&format!("{key}.")))
    }

    /// An error at a byte span of the parsed text, for `key`. When `--set` rewrote the text, the
    /// position is looked up by key in the file as written; an error in a key that `--set` wrote
    /// is reported against that `--set` argument instead of a line.
    pub fn error_at(&self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) -> LoadError {
        let mut message = message.into();
        let (span, text) = match &self.original {
            None => (span, self.text.as_str()),
            Some(original) => {
                if let Some((path, value)) = self.override_for(key) {
                    message = format!("{message} (set by --set {path}={value})");
                    (None, original.as_str())
                } else {
                    (locate_in(original, key), original.as_str())
                }
            }
        };
        let (line, col, line_text) = match span {
            Some(s) => {
                let (l, c, t) = line_col_in(text, s.start);
                (l, c, Some(t))
            }
            None => (0, 0, None),
        };
        LoadError { file: self.name.clone(), line, col, key: key.to_string(), message, line_text }
    }

    /// Turns a validation error into a positioned [`LoadError`].
    pub fn key_error(&self, e: KeyError) -> LoadError {
        let span = self.locate(&e.key);
        self.error_at(span, &e.key, e.message)
    }

    /// The byte span of the value at a dotted key path, or of the deepest existing parent if the
    /// key itself is missing (a missing key is reported at the table that should hold it).
    pub fn locate(&self, key_path: &str) -> Option<Range<usize>> {
        locate_in(&self.text, key_path)
    }
}

fn line_col_in(text: &str, offset: usize) -> (usize, usize, String) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    (line, col, text[line_start..line_end].trim_end_matches('\r').to_string())
}

/// The byte span of the value at a dotted key path in `text` (see [`SourceFile::locate`]).
fn locate_in(text: &str, key_path: &str) -> Option<Range<usize>> {
    {
        let doc = toml_edit::Document::parse(text.to_string()).ok()?;
        let mut best = None;
        let mut node = Node::Table(doc.as_table());
        for seg in key_path.split('.').filter(|s| !s.is_empty()) {
            let next = match node {
                Node::Table(t) => t.get_key_value(seg).map(|(k, v)| (k.span(), Node::from_item(v))),
                Node::Value(toml_edit::Value::InlineTable(t)) => t.get_key_value(seg).map(|(k, v)| (k.span(), Node::from_item(v))),
                Node::Value(toml_edit::Value::Array(a)) => seg.parse::<usize>().ok().and_then(|i| a.get(i)).map(|v| (None, Node::Value(v))),
                Node::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)).map(|t| (None, Node::Table(t))),
                _ => None,
            };
            let Some((key_span, n)) = next else { break };
            best = n.span().or(key_span).or(best);
            node = n;
        }
        best
    }
}

/// For a type error that serde blames on a whole table (`invalid type: string "long", expected
/// f64`), the one field of that table whose value is the one quoted, with its value's span.
fn field_with_bad_value(text: &str, key_path: &str, message: &str) -> Option<(String, Range<usize>)> {
    let quoted = message.strip_prefix("invalid type: ")?.split(", expected").next()?;
    let matches = |v: &toml_edit::Value| match v {
        toml_edit::Value::String(x) => quoted == format!("string {:?}", x.value()),
        toml_edit::Value::Integer(x) => quoted == format!("integer `{}`", x.value()),
        toml_edit::Value::Float(x) => quoted == format!("floating point `{}`", x.value()),
        toml_edit::Value::Boolean(x) => quoted == format!("boolean `{}`", x.value()),
        _ => false,
    };
    let doc = toml_edit::Document::parse(text.to_string()).ok()?;
    let mut node = Node::Table(doc.as_table());
    for seg in key_path.split('.').filter(|s| !s.is_empty()) {
        node = match node {
            Node::Table(t) => Node::from_item(t.get(seg)?),
            Node::Value(toml_edit::Value::InlineTable(t)) => Node::Value(t.get(seg)?),
            _ => return None,
        };
    }
    let fields: Vec<(String, &toml_edit::Value)> = match node {
        Node::Table(t) => t.iter().filter_map(|(k, i)| i.as_value().map(|v| (k.to_string(), v))).collect(),
        Node::Value(toml_edit::Value::InlineTable(t)) => t.iter().map(|(k, v)| (k.to_string(), v)).collect(),
        _ => return None,
    };
    let mut hits = fields.into_iter().filter(|(_, v)| matches(v));
    let (field, value) = hits.next()?;
    if hits.next().is_some() {
        return None; // two fields hold that value: do not guess
    }
    Some((field, value.span()?))
}

/// One step of the walk in [`SourceFile::locate`]: `toml_edit` hands out tables, arrays of
/// tables and inline values as different types.
enum Node<'a> {
    Table(&'a toml_edit::Table),
    Array(&'a toml_edit::ArrayOfTables),
    Value(&'a toml_edit::Value),
    Other,
}

impl<'a> Node<'a> {
    fn from_item(i: &'a toml_edit::Item) -> Node<'a> {
        match i {
            toml_edit::Item::Table(t) => Node::Table(t),
            toml_edit::Item::ArrayOfTables(a) => Node::Array(a),
            toml_edit::Item::Value(v) => Node::Value(v),
            toml_edit::Item::None => Node::Other,
        }
    }
    fn span(&self) -> Option<Range<usize>> {
        match self {
            Node::Table(t) => t.span(),
            Node::Array(a) => a.span(),
            Node::Value(v) => v.span(),
            Node::Other => None,
        }
    }
}

/// Deserializes a TOML source into `T`, reporting syntax errors, unknown keys and wrong types
/// with file, line:column and key path.
pub fn parse_toml<T: DeserializeOwned>(src: &SourceFile) -> Result<T, LoadError> {
    let de = toml::Deserializer::parse(&src.text).map_err(|e| src.error_at(e.span(), "", clean_message(e.message())))?;
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
    match T::deserialize(tracked) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = track.path().to_string();
            let key = if path == "." { String::new() } else { path };
            // serde's path writes array indexes as `flow[0]`; the locator walks `flow.0`. An error
            // about an array element (a flow element that fails its own checks) points at the
            // element rather than at the array the parser blames.
            let element = if key.ends_with(']') { src.locate(&key.replace('[', ".").replace(']', "")) } else { None };
            let message = clean_message(e.message());
            // A table that names its kind (`[arrivals] kind = ...`, `cpu_s = { dist = ... }`) is
            // read whole before its fields, so serde blames the table: find the field it means.
            if element.is_none()
                && let Some((field, span)) = field_with_bad_value(&src.text, &key, &message)
            {
                let key = if key.is_empty() { field } else { format!("{key}.{field}") };
                return Err(src.error_at(Some(span), &key, message));
            }
            let span = element.or_else(|| e.span()).or_else(|| src.locate(&key));
            Err(src.error_at(span, &key, explain(&key, &message)))
        }
    }
}

/// serde's words for a table that should name one variant, in the file's terms.
fn explain(key: &str, m: &str) -> String {
    let flow = ["flow", "body", "parallel"].iter().any(|k| key.contains(k));
    let kinds = if flow { "`step`, `parallel` or `fan_out`" } else { "the allowed keys" };
    if m.contains("wanted exactly 1 element, more than 1 element") {
        format!(
            "this element has more than one kind: it must hold exactly one of {kinds}; put each in an element of its own \
             (e.g. `[{{ step = \"a\" }}, {{ parallel = [...] }}]`)"
        )
    } else if m.contains("wanted exactly 1 element, found 0 elements") {
        format!("this element is empty: it must hold exactly one of {kinds}")
    } else {
        m.to_string()
    }
}

fn clean_message(m: &str) -> String {
    m.trim().trim_end_matches('\n').replace('\n', "; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_nested_inline_values() {
        let src = SourceFile::from_text("t.toml", "[a]\nb = { c = [1, { d = 5 }] }\n");
        let span = src.locate("a.b.c.1.d").expect("span");
        assert_eq!(&src.text[span], "5");
        let (line, col, text) = src.line_col(src.locate("a.b").expect("span").start);
        assert_eq!((line, col), (2, 5));
        assert_eq!(text, "b = { c = [1, { d = 5 }] }");
    }

    #[test]
    fn display_has_file_line_col_key_and_caret() {
        let src = SourceFile::from_text("x.toml", "[a]\nb = -1\n");
        let e = src.key_error(KeyError::new("a.b", "must be >= 0"));
        let shown = e.to_string();
        assert!(shown.starts_with("x.toml:2:5: key `a.b`: must be >= 0"), "{shown}");
        assert!(shown.contains("2 | b = -1"), "{shown}");
    }
}
