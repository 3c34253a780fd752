//! Amazon States Language (ASL) import.
//!
//! A scenario can give its Step Functions state machine as real ASL JSON:
//!
//! ```toml
//! [workflow.asl]
//! file = "video.asl.json"                 # relative to the scenario file
//! tasks = { "arn:aws:lambda:us-west-2:123:function:detect" = "detect" }   # Resource -> step
//! items = { "DetectFaces" = 80 }          # Map state -> number of items (data is not simulated)
//! choices = { "BigInput" = "Split" }      # Choice state -> the branch taken (default: Default)
//! ```
//!
//! Supported states: Task (Resource mapped to a step; `Retry` with ErrorEquals, IntervalSeconds,
//! MaxAttempts, BackoffRate; `Catch` with ErrorEquals and Next), Pass, Wait (`Seconds`), Choice
//! (the branch is chosen in the scenario, as sfsim does not simulate data), Parallel (`Branches`),
//! Map (`Iterator` or `ItemProcessor`, whose `ProcessorConfig` may make it DISTRIBUTED with
//! STANDARD or EXPRESS child executions; `MaxConcurrency`, `ItemsPath`), Succeed and Fail. Anything
//! else (other fields that change control flow such as `TimeoutSeconds`, `HeartbeatSeconds`,
//! Retry/Catch on Parallel, JSONata, `.sync` integrations, a Distributed Map's `ItemReader`,
//! `ItemBatcher` or `ResultWriter`) is an error naming the JSON path, so a machine is never run with silently different semantics.
//!
//! The same machine also defines the platform-neutral flow for the other deployments when the
//! scenario gives no `flow`: Task states become steps, Parallel a parallel node, Map a fan-out.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::source::KeyError;

/// `[workflow.asl]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAsl {
    /// The ASL JSON file, relative to the scenario.
    pub file: String,
    /// Task `Resource` -> step name.
    #[serde(default)]
    pub tasks: BTreeMap<String, String>,
    /// Map state name -> number of items.
    #[serde(default)]
    pub items: BTreeMap<String, i64>,
    /// Choice state name -> the state it goes to.
    #[serde(default)]
    pub choices: BTreeMap<String, String>,
}

/// Where a state goes next.
#[derive(Clone, Debug, PartialEq)]
pub enum AslNext {
    /// Another state of the same machine (index).
    State(usize),
    /// The end of this machine (branch, iteration or execution).
    End,
}

/// A `Retry` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct AslRetry {
    /// Errors it applies to (`States.ALL` matches all).
    pub errors: Vec<String>,
    /// First interval, s.
    pub interval_s: f64,
    /// Retries at most.
    pub max_attempts: u32,
    /// Interval multiplier.
    pub backoff_rate: f64,
}

/// A `Catch` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct AslCatch {
    /// Errors it applies to.
    pub errors: Vec<String>,
    /// State to go to.
    pub next: usize,
}

/// A validated state.
#[derive(Clone, Debug, PartialEq)]
pub enum AslState {
    /// Invoke the step's Lambda function.
    Task {
        /// Index of the step in the workflow.
        step: u32,
        /// Next.
        next: AslNext,
        /// Retry rules.
        retry: Vec<AslRetry>,
        /// Catch rules.
        catch: Vec<AslCatch>,
    },
    /// No work.
    Pass {
        /// Next.
        next: AslNext,
    },
    /// Sleep.
    Wait {
        /// Seconds.
        seconds: f64,
        /// Next.
        next: AslNext,
    },
    /// A decision (resolved in the scenario).
    Choice {
        /// The state taken.
        next: usize,
    },
    /// Branches in parallel.
    Parallel {
        /// Branch machines.
        branches: Vec<AslMachine>,
        /// Next.
        next: AslNext,
    },
    /// An iterator over items.
    Map {
        /// The iteration machine.
        iterator: Box<AslMachine>,
        /// Items.
        items: u32,
        /// Concurrency (0: as many as the platform allows).
        max_concurrency: u32,
        /// Inline, or distributed with Standard or Express child executions
        /// (`ItemProcessor.ProcessorConfig`).
        mode: crate::scenario::MapMode,
        /// Next.
        next: AslNext,
    },
    /// Successful end.
    Succeed,
    /// Failed end.
    Fail {
        /// The `Error` name.
        error: String,
    },
}

/// A state list with its start (the top level, a Parallel branch or a Map iterator).
#[derive(Clone, Debug, PartialEq)]
pub struct AslMachine {
    /// State names, index-aligned with `states`.
    pub names: Vec<String>,
    /// States.
    pub states: Vec<AslState>,
    /// Index of `StartAt`.
    pub start: usize,
}

const TOP_FIELDS: &[&str] = &["Comment", "StartAt", "States", "Version"];
const COMMON: &[&str] = &["Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector"];

/// Parses and validates ASL JSON text. `key` is the scenario key of the file (for errors);
/// `steps` are the workflow's step names.
pub fn parse_asl(text: &str, raw: &RawAsl, steps: &[&str], key: &str) -> Result<AslMachine, KeyError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| KeyError::new(key, format!("{}: not valid JSON at line {} column {}: {e}", raw.file, e.line(), e.column())))?;
    let ctx = Ctx { raw, steps, file: &raw.file, key };
    let m = ctx.machine(&v, "", TOP_FIELDS)?;
    for name in raw.items.keys().chain(raw.choices.keys()) {
        if !contains_state(&m, name) {
            return Err(KeyError::new(key, format!("{}: the scenario names state `{name}`, which the machine does not have", raw.file)));
        }
    }
    Ok(m)
}

fn contains_state(m: &AslMachine, name: &str) -> bool {
    m.names.iter().any(|n| n == name)
        || m.states.iter().any(|s| match s {
            AslState::Parallel { branches, .. } => branches.iter().any(|b| contains_state(b, name)),
            AslState::Map { iterator, .. } => contains_state(iterator, name),
            _ => false,
        })
}

struct Ctx<'a> {
    raw: &'a RawAsl,
    steps: &'a [&'a str],
    file: &'a str,
    key: &'a str,
}

impl Ctx<'_> {
    fn err(&self, path: &str, msg: impl std::fmt::Display) -> KeyError {
        KeyError::new(self.key, format!("{}: at `{path}`: {msg}", self.file))
    }

    fn machine(&self, v: &Value, path: &str, allowed: &[&str]) -> Result<AslMachine, KeyError> {
        let obj = v.as_object().ok_or_else(|| self.err(path_or_root(path), "expected an object with StartAt and States"))?;
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(self.err(&join(path, k), format!("unsupported field `{k}`")));
            }
        }
        let start =
            obj.get("StartAt").and_then(Value::as_str).ok_or_else(|| self.err(&join(path, "StartAt"), "missing or not a string"))?;
        let states =
            obj.get("States").and_then(Value::as_object).ok_or_else(|| self.err(&join(path, "States"), "missing or not an object"))?;
        if states.is_empty() {
            return Err(self.err(&join(path, "States"), "a machine needs at least one state"));
        }
        let names: Vec<String> = states.keys().cloned().collect();
        let index =
            |name: &str, at: &str| names.iter().position(|n| n == name).ok_or_else(|| self.err(at, format!("no state named `{name}`")));
        let start_i = index(start, &join(path, "StartAt"))?;
        let mut out = Vec::new();
        for (name, s) in states {
            let sp = join(&join(path, "States"), name);
            out.push(self.state(name, s, &sp, &index)?);
        }
        Ok(AslMachine { names, states: out, start: start_i })
    }

    fn state(&self, name: &str, s: &Value, sp: &str, index: &dyn Fn(&str, &str) -> Result<usize, KeyError>) -> Result<AslState, KeyError> {
        let o = s.as_object().ok_or_else(|| self.err(sp, "a state must be an object"))?;
        let ty = o.get("Type").and_then(Value::as_str).ok_or_else(|| self.err(&join(sp, "Type"), "missing or not a string"))?;
        let extra: &[&str] = match ty {
            "Task" => &["Resource", "Retry", "Catch"],
            "Pass" => &["Result"],
            "Wait" => &["Seconds"],
            "Choice" => &["Choices", "Default"],
            "Parallel" => &["Branches"],
            "Map" => &["Iterator", "ItemProcessor", "MaxConcurrency", "ItemsPath", "ItemSelector"],
            "Succeed" => &[],
            "Fail" => &["Error", "Cause"],
            other => return Err(self.err(&join(sp, "Type"), format!("unsupported state type `{other}`"))),
        };
        for k in o.keys() {
            if !COMMON.contains(&k.as_str()) && !extra.contains(&k.as_str()) {
                return Err(self.err(&join(sp, k), format!("unsupported field `{k}` in a {ty} state")));
            }
        }
        let next = || -> Result<AslNext, KeyError> {
            match (o.get("Next"), o.get("End")) {
                (Some(Value::String(n)), None) => Ok(AslNext::State(index(n, &join(sp, "Next"))?)),
                (None, Some(Value::Bool(true))) => Ok(AslNext::End),
                _ => Err(self.err(sp, "needs exactly one of `Next` (a state name) or `End: true`")),
            }
        };
        Ok(match ty {
            "Task" => {
                let res =
                    o.get("Resource").and_then(Value::as_str).ok_or_else(|| self.err(&join(sp, "Resource"), "missing or not a string"))?;
                if res.ends_with(".sync") || res.ends_with(".waitForTaskToken") {
                    return Err(self.err(&join(sp, "Resource"), format!("service integration pattern of `{res}` is not supported")));
                }
                let step_name = self.raw.tasks.get(res).ok_or_else(|| {
                    self.err(&join(sp, "Resource"), format!("resource `{res}` has no function profile: map it in [workflow.asl] tasks"))
                })?;
                let step = self
                    .steps
                    .iter()
                    .position(|s| s == step_name)
                    .ok_or_else(|| self.err(&join(sp, "Resource"), format!("resource `{res}` maps to unknown step `{step_name}`")))?;
                AslState::Task { step: step as u32, next: next()?, retry: self.retries(o, sp)?, catch: self.catches(o, sp, index)? }
            }
            "Pass" => AslState::Pass { next: next()? },
            "Wait" => {
                let seconds = o
                    .get("Seconds")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| self.err(&join(sp, "Seconds"), "only a number of `Seconds` is supported"))?;
                if !(0.0..=crate::dist::MAX_SECONDS).contains(&seconds) {
                    return Err(self.err(&join(sp, "Seconds"), format!("must be in [0, 1e9], got {seconds}")));
                }
                AslState::Wait { seconds, next: next()? }
            }
            "Choice" => {
                let target = match self.raw.choices.get(name) {
                    Some(t) => t.clone(),
                    None => o
                        .get("Default")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| self.err(sp, "a Choice without Default needs its branch chosen in [workflow.asl] choices"))?,
                };
                AslState::Choice { next: index(&target, &join(sp, "Default"))? }
            }
            "Parallel" => {
                let bs = o
                    .get("Branches")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.err(&join(sp, "Branches"), "missing or not an array"))?;
                if bs.is_empty() {
                    return Err(self.err(&join(sp, "Branches"), "needs at least one branch"));
                }
                let branches = bs
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.machine(b, &format!("{}.{i}", join(sp, "Branches")), TOP_FIELDS))
                    .collect::<Result<Vec<_>, _>>()?;
                AslState::Parallel { branches, next: next()? }
            }
            "Map" => {
                let (it, field) = match (o.get("Iterator"), o.get("ItemProcessor")) {
                    (Some(v), None) => (v, "Iterator"),
                    (None, Some(v)) => (v, "ItemProcessor"),
                    _ => return Err(self.err(sp, "a Map needs exactly one of `Iterator` or `ItemProcessor`")),
                };
                let mode = self.map_mode(it.get("ProcessorConfig"), &join(&join(sp, field), "ProcessorConfig"))?;
                let mut allowed: Vec<&str> = TOP_FIELDS.to_vec();
                allowed.push("ProcessorConfig");
                let iterator = self.machine(it, &join(sp, field), &allowed)?;
                let items = *self
                    .raw
                    .items
                    .get(name)
                    .ok_or_else(|| self.err(sp, format!("give the number of items of Map `{name}` in [workflow.asl] items")))?;
                if !(1..=crate::scenario::MAX_FAN_OUT_ITEMS).contains(&items) {
                    return Err(self.err(sp, format!("Map `{name}` needs 1 to {} items, got {items}", crate::scenario::MAX_FAN_OUT_ITEMS)));
                }
                let max_concurrency = match o.get("MaxConcurrency") {
                    None => 0,
                    Some(v) => v
                        .as_u64()
                        .filter(|&c| c <= u64::from(u32::MAX))
                        .ok_or_else(|| self.err(&join(sp, "MaxConcurrency"), "must be a non-negative integer"))?
                        as u32,
                };
                AslState::Map { iterator: Box::new(iterator), items: items as u32, max_concurrency, mode, next: next()? }
            }
            "Succeed" => AslState::Succeed,
            "Fail" => AslState::Fail { error: o.get("Error").and_then(Value::as_str).unwrap_or("States.Fail").to_string() },
            _ => unreachable!("state types checked above"),
        })
    }

    /// A Map's `ProcessorConfig`: `Mode` INLINE (default) or DISTRIBUTED, and for DISTRIBUTED
    /// the child executions' `ExecutionType` (STANDARD or EXPRESS, required by AWS).
    fn map_mode(&self, config: Option<&Value>, at: &str) -> Result<crate::scenario::MapMode, KeyError> {
        use crate::scenario::MapMode;
        let Some(c) = config else { return Ok(MapMode::Inline) };
        let field = |k: &str| c.get(k).and_then(Value::as_str);
        match (field("Mode"), field("ExecutionType")) {
            (None | Some("INLINE"), None) => Ok(MapMode::Inline),
            (Some("DISTRIBUTED"), Some("STANDARD")) => Ok(MapMode::Distributed),
            (Some("DISTRIBUTED"), Some("EXPRESS")) => Ok(MapMode::DistributedExpress),
            (Some("DISTRIBUTED"), _) => {
                Err(self.err(&join(at, "ExecutionType"), "a DISTRIBUTED Map needs `ExecutionType` \"STANDARD\" or \"EXPRESS\""))
            }
            (None | Some("INLINE"), Some(_)) => {
                Err(self.err(&join(at, "ExecutionType"), "`ExecutionType` applies to a DISTRIBUTED Map only"))
            }
            (Some(m), _) => Err(self.err(&join(at, "Mode"), format!("`Mode` must be \"INLINE\" or \"DISTRIBUTED\", got \"{m}\""))),
        }
    }

    fn errors_of(&self, v: &Value, at: &str) -> Result<Vec<String>, KeyError> {
        v.get("ErrorEquals")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|e| e.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.err(&join(at, "ErrorEquals"), "must be a non-empty array of error names"))
    }

    fn retries(&self, o: &serde_json::Map<String, Value>, sp: &str) -> Result<Vec<AslRetry>, KeyError> {
        let Some(rs) = o.get("Retry") else { return Ok(Vec::new()) };
        let rs = rs.as_array().ok_or_else(|| self.err(&join(sp, "Retry"), "must be an array"))?;
        rs.iter()
            .enumerate()
            .map(|(i, r)| {
                let at = format!("{}.{i}", join(sp, "Retry"));
                Ok(AslRetry {
                    errors: self.errors_of(r, &at)?,
                    interval_s: r.get("IntervalSeconds").and_then(Value::as_f64).unwrap_or(1.0).clamp(0.0, 1e6),
                    max_attempts: r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3).min(1000) as u32,
                    backoff_rate: r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0).clamp(1.0, 100.0),
                })
            })
            .collect()
    }

    fn catches(
        &self,
        o: &serde_json::Map<String, Value>,
        sp: &str,
        index: &dyn Fn(&str, &str) -> Result<usize, KeyError>,
    ) -> Result<Vec<AslCatch>, KeyError> {
        let Some(cs) = o.get("Catch") else { return Ok(Vec::new()) };
        let cs = cs.as_array().ok_or_else(|| self.err(&join(sp, "Catch"), "must be an array"))?;
        cs.iter()
            .enumerate()
            .map(|(i, c)| {
                let at = format!("{}.{i}", join(sp, "Catch"));
                let next = c.get("Next").and_then(Value::as_str).ok_or_else(|| self.err(&join(&at, "Next"), "missing or not a string"))?;
                Ok(AslCatch { errors: self.errors_of(c, &at)?, next: index(next, &join(&at, "Next"))? })
            })
            .collect()
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() { k.to_string() } else { format!("{path}.{k}") }
}

fn path_or_root(p: &str) -> &str {
    if p.is_empty() { "(root)" } else { p }
}

/// Whether an `ErrorEquals` list matches `error`: `States.ALL` matches everything,
/// `States.TaskFailed` every error that is not a `States.*` error, and a name matches itself or
/// an error message starting with `name:`.
fn error_matches(errors: &[String], error: &str) -> bool {
    errors.iter().any(|e| {
        e == "States.ALL"
            || e == error
            || error.starts_with(&format!("{e}:"))
            || (e == "States.TaskFailed" && !error.starts_with("States."))
    })
}

impl AslRetry {
    /// Whether this rule retries `error`.
    pub fn matches(&self, error: &str) -> bool {
        error_matches(&self.errors, error)
    }
}

impl AslCatch {
    /// Whether this rule catches `error`.
    pub fn matches(&self, error: &str) -> bool {
        error_matches(&self.errors, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawAsl {
        RawAsl {
            file: "m.asl.json".into(),
            tasks: [("arn:fn:a".to_string(), "a".to_string()), ("arn:fn:b".to_string(), "b".to_string())].into_iter().collect(),
            items: [("M".to_string(), 3)].into_iter().collect(),
            choices: BTreeMap::new(),
        }
    }

    const MACHINE: &str = r#"{
      "Comment": "test", "StartAt": "A",
      "States": {
        "A": { "Type": "Task", "Resource": "arn:fn:a", "Next": "P",
               "Retry": [{ "ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2 }],
               "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Oops" }] },
        "P": { "Type": "Parallel", "Next": "M", "Branches": [
                 { "StartAt": "B1", "States": { "B1": { "Type": "Task", "Resource": "arn:fn:b", "End": true } } },
                 { "StartAt": "W", "States": { "W": { "Type": "Wait", "Seconds": 5, "End": true } } } ] },
        "M": { "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "C",
               "Iterator": { "StartAt": "B", "States": { "B": { "Type": "Task", "Resource": "arn:fn:b", "End": true } } } },
        "C": { "Type": "Choice", "Choices": [{ "Variable": "$.x", "NumericEquals": 1, "Next": "Oops" }], "Default": "Done" },
        "Done": { "Type": "Succeed" },
        "Oops": { "Type": "Fail", "Error": "Boom" }
      }
    }"#;

    #[test]
    fn a_real_machine_parses_with_every_supported_state() {
        let m = parse_asl(MACHINE, &raw(), &["a", "b"], "workflow.asl").expect("valid");
        assert_eq!(m.names[m.start], "A");
        let a = &m.states[m.start];
        assert!(matches!(a, AslState::Task { step: 0, retry, catch, .. } if retry.len() == 1 && catch.len() == 1));
        let mi = m.names.iter().position(|n| n == "M").expect("M");
        assert!(matches!(&m.states[mi], AslState::Map { items: 3, max_concurrency: 2, .. }));
        let ci = m.names.iter().position(|n| n == "C").expect("C");
        let done = m.names.iter().position(|n| n == "Done").expect("Done");
        assert_eq!(m.states[ci], AslState::Choice { next: done });
    }

    #[test]
    fn a_map_s_processor_config_chooses_inline_or_distributed_children() {
        use crate::scenario::MapMode;
        let with = |config: &str| {
            MACHINE.replace("\"Iterator\": { \"StartAt\": \"B\",", &format!("\"ItemProcessor\": {{ {config} \"StartAt\": \"B\","))
        };
        let mode = |text: &str| -> Result<MapMode, KeyError> {
            let m = parse_asl(text, &raw(), &["a", "b"], "workflow.asl")?;
            let mi = m.names.iter().position(|n| n == "M").expect("M");
            match &m.states[mi] {
                AslState::Map { mode, .. } => Ok(*mode),
                _ => unreachable!("M is a Map"),
            }
        };
        assert_eq!(mode(MACHINE).expect("valid"), MapMode::Inline);
        assert_eq!(mode(&with("\"ProcessorConfig\": { \"Mode\": \"INLINE\" },")).expect("valid"), MapMode::Inline);
        let d = with("\"ProcessorConfig\": { \"Mode\": \"DISTRIBUTED\", \"ExecutionType\": \"STANDARD\" },");
        assert_eq!(mode(&d).expect("valid"), MapMode::Distributed);
        let d = with("\"ProcessorConfig\": { \"Mode\": \"DISTRIBUTED\", \"ExecutionType\": \"EXPRESS\" },");
        assert_eq!(mode(&d).expect("valid"), MapMode::DistributedExpress);
        for (config, words) in [
            ("\"ProcessorConfig\": { \"Mode\": \"DISTRIBUTED\" },", "M.ItemProcessor.ProcessorConfig.ExecutionType"),
            ("\"ProcessorConfig\": { \"Mode\": \"FAST\" },", "M.ItemProcessor.ProcessorConfig.Mode"),
            ("\"ProcessorConfig\": { \"ExecutionType\": \"EXPRESS\" },", "applies to a DISTRIBUTED Map only"),
        ] {
            let e = mode(&with(config)).expect_err(config);
            assert!(e.message.contains(words), "{config}: {}", e.message);
        }
    }

    #[test]
    fn unsupported_asl_is_a_precise_error() {
        let cases = [
            (
                MACHINE.replace("\"Type\": \"Wait\", \"Seconds\": 5", "\"Type\": \"Wait\", \"Timestamp\": \"2020-01-01T00:00:00Z\""),
                "P.Branches.1.States.W.Timestamp",
            ),
            (MACHINE.replace("\"Resource\": \"arn:fn:a\"", "\"Resource\": \"arn:fn:zzz\""), "no function profile"),
            (MACHINE.replace("\"Type\": \"Succeed\"", "\"Type\": \"Sleep\""), "unsupported state type `Sleep`"),
            (MACHINE.replace("\"Next\": \"P\"", "\"Next\": \"Nowhere\""), "no state named `Nowhere`"),
            (MACHINE.replace("\"Default\": \"Done\"", "\"Default\": \"Nowhere\""), "no state named `Nowhere`"),
            (MACHINE.replace("{\n      \"Comment\"", "{ \"Comment\""), ""),
            ("{ \"StartAt\": ".to_string(), "not valid JSON at line 1"),
            (
                MACHINE.replace("\"Resource\": \"arn:fn:a\",", "\"Resource\": \"arn:fn:a\", \"TimeoutSeconds\": 5,"),
                "unsupported field `TimeoutSeconds`",
            ),
        ];
        for (text, words) in cases {
            match parse_asl(&text, &raw(), &["a", "b"], "workflow.asl") {
                Ok(_) if words.is_empty() => {}
                Ok(_) => panic!("expected an error containing `{words}`"),
                Err(e) => {
                    assert!(e.message.contains(words), "{}", e.message);
                    assert!(e.message.starts_with("m.asl.json"), "{}", e.message);
                }
            }
        }
    }
}
