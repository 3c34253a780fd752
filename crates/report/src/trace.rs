//! Chrome Trace Event JSON in simulated time, for ui.perfetto.dev or chrome://tracing.
//!
//! One process per deployment and replication (`pid` 1, 2, ... in (deployment, replication)
//! order, as `sfsim run --trace` numbers them; each replication starts at time 0), one thread (`tid`) per
//! instance execution slot plus `tid` 0 for arrivals; `X` slices for cold starts, executions
//! and their phases (which nest inside the execution), keep-alive idleness; `i` instants for
//! arrivals, throttles and reclaims; `C` counters for live instances and waiting requests.
//! Timestamps are microseconds of simulated time.

use serde_json::{Value, json};
use sfsim_platform::TraceEvent;

/// One trace event as Chrome Trace Event JSON, in process `pid`.
fn event_json(pid: usize, e: &TraceEvent) -> Value {
    match e {
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
    }
}

fn process_json(pid: usize, name: &str) -> Value {
    json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}})
}

const TRACE_HEAD: &str = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
const TRACE_TAIL: &str = "]}\n";

/// Renders the timelines of several deployments as one trace document (in memory).
pub fn render_trace(traces: &[(String, Vec<TraceEvent>)]) -> String {
    let mut events: Vec<String> = Vec::new();
    for (p, (name, evs)) in traces.iter().enumerate() {
        let pid = p + 1;
        events.push(process_json(pid, name).to_string());
        events.extend(evs.iter().map(|e| event_json(pid, e).to_string()));
    }
    format!("{TRACE_HEAD}{}{TRACE_TAIL}", events.join(","))
}

/// One replication of a deployment's timeline streamed to a file as it is recorded: the comma-separated events
/// of process `pid` (a fragment of the trace document; [`assemble_trace`] joins them). Memory
/// stays bounded whatever the timeline's length; the first write error is kept and reported
/// by `finish`.
pub struct TraceFragment {
    pid: usize,
    out: Option<std::io::BufWriter<std::fs::File>>,
    error: Option<String>,
}

impl TraceFragment {
    /// Starts the fragment of process `pid` (`name`: the deployment) at `path`.
    pub fn create(path: &std::path::Path, pid: usize, name: &str) -> TraceFragment {
        let mut f = TraceFragment { pid, out: None, error: None };
        match std::fs::File::create(path) {
            Ok(file) => {
                f.out = Some(std::io::BufWriter::new(file));
                f.write(&process_json(pid, name), false);
            }
            Err(e) => f.error = Some(format!("cannot write {}: {e}", path.display())),
        }
        f
    }

    fn write(&mut self, v: &Value, comma: bool) {
        use std::io::Write;
        if let Some(out) = &mut self.out {
            let r = (|| {
                if comma {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, v).map_err(std::io::Error::other)
            })();
            if let Err(e) = r {
                self.error.get_or_insert(e.to_string());
                self.out = None;
            }
        }
    }
}

impl sfsim_platform::TraceSink for TraceFragment {
    fn record(&mut self, e: TraceEvent) {
        let v = event_json(self.pid, &e);
        self.write(&v, true);
    }

    fn finish(&mut self) -> Result<(), String> {
        use std::io::Write;
        if let Some(out) = &mut self.out
            && let Err(e) = out.flush()
        {
            self.error.get_or_insert(e.to_string());
        }
        self.out = None;
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// Joins fragments (in process order) into one trace document at `dest`, streaming: the same
/// bytes as [`render_trace`] of the same timelines.
pub fn assemble_trace(fragments: &[std::path::PathBuf], dest: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dest)?);
    out.write_all(TRACE_HEAD.as_bytes())?;
    for (i, f) in fragments.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        std::io::copy(&mut std::fs::File::open(f)?, &mut out)?;
    }
    out.write_all(TRACE_TAIL.as_bytes())?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
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

#[cfg(test)]
mod tests {
    use super::*;
    use sfsim_engine::SimTime;
    use sfsim_platform::TraceSink;

    #[test]
    fn a_streamed_trace_is_the_rendered_one() {
        let evs = |k: u32| {
            vec![
                TraceEvent::TrackName { track: 1, name: format!("instance {k}") },
                TraceEvent::Slice {
                    track: 1,
                    name: "cold start".into(),
                    cat: "cold_start",
                    start: SimTime::ZERO,
                    end: SimTime::from_secs_f64(1.5),
                    exec: Some(k),
                },
                TraceEvent::Instant { track: 0, name: "arrival 0".into(), at: SimTime::from_secs_f64(0.25) },
                TraceEvent::Counter { name: "instances", at: SimTime::from_secs_f64(2.0), value: 3.0 },
            ]
        };
        let dir = std::env::temp_dir().join(format!("sfsim-trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut parts = Vec::new();
        for (d, name) in ["aws-lambda", "az-dorch"].iter().enumerate() {
            let path = dir.join(format!("part{d}"));
            let mut f = TraceFragment::create(&path, d + 1, name);
            for e in evs(d as u32) {
                f.record(e);
            }
            f.finish().expect("written");
            parts.push(path);
        }
        let dest = dir.join("trace.json");
        assemble_trace(&parts, &dest).expect("assembled");
        let streamed = std::fs::read_to_string(&dest).expect("read");
        let rendered = render_trace(&[("aws-lambda".into(), evs(0)), ("az-dorch".into(), evs(1))]);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(streamed, rendered);
        assert!(serde_json::from_str::<Value>(&streamed).is_ok());
    }

    #[test]
    fn a_fragment_that_cannot_be_created_reports_it() {
        let mut f = TraceFragment::create(std::path::Path::new("/nonexistent-dir/part0"), 1, "x");
        f.record(TraceEvent::Instant { track: 0, name: "a".into(), at: SimTime::ZERO });
        assert!(f.finish().is_err_and(|e| e.contains("/nonexistent-dir/part0")));
    }
}
