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
