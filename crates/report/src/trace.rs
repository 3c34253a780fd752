//! Chrome Trace Event JSON in simulated time, for ui.perfetto.dev or chrome://tracing.
//!
//! One process per deployment (`pid` 1, 2, ... in the order run), one thread (`tid`) per
//! instance execution slot plus `tid` 0 for arrivals; `X` slices for cold starts, executions
//! and their phases (which nest inside the execution), keep-alive idleness; `i` instants for
//! arrivals, throttles and reclaims; `C` counters for live instances and waiting requests.
//! Timestamps are microseconds of simulated time.

use serde_json::{Value, json};
use sfsim_platform::TraceEvent;

/// Renders the timelines of several deployments as one trace document.
pub fn render_trace(traces: &[(String, Vec<TraceEvent>)]) -> String {
    let mut events: Vec<Value> = Vec::new();
    for (p, (name, evs)) in traces.iter().enumerate() {
        let pid = p + 1;
        events.push(json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}}));
        for e in evs {
            events.push(match e {
                TraceEvent::TrackName { track, name } => {
                    json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": track, "args": {"name": name}})
                }
                TraceEvent::Slice { track, name, cat, start, end, exec } => {
                    let mut v = json!({
                        "ph": "X", "name": name, "cat": cat, "pid": pid, "tid": track,
                        "ts": start.as_micros_f64(), "dur": end.saturating_since(*start).as_secs_f64() * 1e6,
                    });
                    if let Some(x) = exec {
                        v["args"] = json!({"exec": x});
                    }
                    v
                }
                TraceEvent::Instant { track, name, at } => {
                    json!({"ph": "i", "s": "t", "name": name, "pid": pid, "tid": track, "ts": at.as_micros_f64()})
                }
                TraceEvent::Counter { name, at, value } => {
                    json!({"ph": "C", "name": name, "pid": pid, "tid": 0, "ts": at.as_micros_f64(), "args": {"value": value}})
                }
            });
        }
    }
    let mut s = serde_json::to_string(&json!({"displayTimeUnit": "ms", "traceEvents": events})).expect("trace serializes");
    s.push('\n');
    s
}

/// A coarse, line-per-event text timeline of one run, for golden tests and reviews: function
/// (invocation) starts and ends, cold starts, thread waits, executions, polls, transitions and
/// other instants, in time order (ties in recording order), times rounded to 10 ms. Phases
/// inside an invocation, counters and keep-alive spans are left out: they are detail a diff of
/// behaviour does not need.
///
/// ```text
///     1.25 s  start  az-dorch app instance 0 slot 0 | orchestrator episode (exec 0)
/// ```
pub fn render_coarse_timeline(events: &[TraceEvent]) -> String {
    let mut names: std::collections::HashMap<u32, &str> = std::collections::HashMap::new();
    for e in events {
        if let TraceEvent::TrackName { track, name } = e {
            names.insert(*track, name);
        }
    }
    let track_name = |t: u32| match names.get(&t) {
        Some(n) => (*n).to_string(),
        None if t == 0 => "arrivals".to_string(),
        None => format!("track {t}"),
    };
    // (time in 10 ms units, sequence, line)
    let mut lines: Vec<(u64, usize, String)> = Vec::new();
    let ticks = |t: sfsim_engine::SimTime| (t.0 + 5_000_000) / 10_000_000;
    for e in events {
        let seq = lines.len();
        match e {
            TraceEvent::Slice { track, name, cat, start, end, .. } => {
                let kind = match *cat {
                    "invocation" | "execution" => "",
                    "cold_start" => "cold start ",
                    "thread wait" => "thread wait ",
                    _ => continue,
                };
                let where_ = track_name(*track);
                lines.push((ticks(*start), seq, format!("start  {kind}{where_} | {name}")));
                lines.push((ticks(*end), seq + 1, format!("end    {kind}{where_} | {name}")));
            }
            TraceEvent::Instant { track, name, at } => {
                lines.push((ticks(*at), seq, format!("at     {} | {name}", track_name(*track))));
            }
            TraceEvent::Counter { .. } | TraceEvent::TrackName { .. } => {}
        }
    }
    lines.sort_by_key(|(t, seq, _)| (*t, *seq));
    let mut out = String::new();
    for (t, _, line) in lines {
        out.push_str(&format!("{:>9.2} s  {line}\n", t as f64 / 100.0));
    }
    out
}
