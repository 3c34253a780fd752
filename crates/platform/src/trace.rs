//! Plain-data timeline events recorded while simulating, for the Perfetto trace.
//!
//! The platform crate records; `sfsim-report` writes Chrome Trace Event JSON. Tracks are
//! numbered: track 0 holds arrivals, track `1 + instance × slots + slot` one execution slot of
//! an instance, so slices on a track never overlap.

use sfsim_engine::SimTime;

/// A timeline event in simulated time.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceEvent {
    /// A span on a track.
    Slice {
        /// Track number.
        track: u32,
        /// What it is (`cold start`, `exec 17`, `cpu`, `storage read`).
        name: String,
        /// Category (`cold_start`, `execution`, `phase`).
        cat: &'static str,
        /// Start.
        start: SimTime,
        /// End.
        end: SimTime,
        /// Execution id, if it belongs to one.
        exec: Option<u32>,
    },
    /// A point event.
    Instant {
        /// Track number.
        track: u32,
        /// What happened.
        name: String,
        /// When.
        at: SimTime,
    },
    /// A counter sample.
    Counter {
        /// Counter name (`instances`, `waiting`).
        name: &'static str,
        /// When.
        at: SimTime,
        /// Value from then on.
        value: f64,
    },
    /// A track's display name.
    TrackName {
        /// Track number.
        track: u32,
        /// Its name.
        name: String,
    },
}

impl TraceEvent {
    /// The span an instance spent idle, kept alive, on its first track.
    pub fn keep_alive(track: u32, since: SimTime, until: SimTime) -> TraceEvent {
        TraceEvent::Slice { track, name: "idle (keep-alive)".into(), cat: "keep_alive", start: since, end: until, exec: None }
    }
}

/// Where a run's timeline goes as it is recorded: kept in memory ([`Vec`]) or streamed (a
/// file writer of the report crate), so a long timeline need not fit in memory.
pub trait TraceSink: Send {
    /// Takes one event, in the order the simulation records them.
    fn record(&mut self, e: TraceEvent);

    /// Ends the timeline; a sink that writes reports its first error here.
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

impl TraceSink for Vec<TraceEvent> {
    fn record(&mut self, e: TraceEvent) {
        self.push(e);
    }
}
