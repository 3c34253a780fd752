//! The Azure Functions public traces (Azure/AzurePublicDataset), read as a stream of invocations
//! in start order.
//!
//! **2019** (`--azure-2019 DIR --day N`, one day): `invocations_per_function_md.anon.dNN.csv`
//! (`HashOwner,HashApp,HashFunction,Trigger,1..1440`: invocations per minute of the day),
//! `function_durations_percentiles.anon.dNN.csv` (execution time percentiles 0, 1, 25, 50, 75,
//! 99, 100 in ms) and, optional, `app_memory_percentiles.anon.dNN.csv` (allocated memory per app).
//! * A minute's count `c` becomes `c` starts within the minute (the trace gives no finer
//!   timing). By default ([`Placement::Random`]) each start is uniform in the minute, drawn from
//!   the stream `replay/placement`: invocations then cluster and overlap as independent arrivals
//!   do. [`Placement::Even`] spreads them at `60 s × (minute + (k + 0.5) / c)` for `k = 0..c`,
//!   which understates concurrency and cold starts (a count of 2 in a minute never overlaps an
//!   execution shorter than 30 s).
//! * Each execution's duration is drawn from its function's percentile table by piecewise-linear
//!   interpolation of the quantile function through (0, p0), (0.01, p1), (0.25, p25), (0.5, p50),
//!   (0.75, p75), (0.99, p99), (1, p100), with uniforms from the stream `replay/durations` in
//!   start order. A function without a durations row runs for [`DEFAULT_DURATION_S`].
//! * An app's memory is `AverageAllocatedMb` (the mean over the app's samples); an app without a
//!   memory row (or without the file) gets [`crate::DEFAULT_APP_MEMORY_MB`].
//! * Apps are `(HashOwner, HashApp)`, functions `(HashOwner, HashApp, HashFunction)`.
//! * Memory: a row spans the whole day, so the reader keeps the non-zero (function, minute)
//!   cells (not the invocations) and expands one minute at a time, sorted by start; memory grows
//!   with the number of functions and busy minutes, not with the number of invocations.
//!
//! **2021** (`--azure-2021 FILE`): `app,func,end_timestamp,duration` in seconds; start =
//! end - duration (clamped at 0). The real file is sorted by end; starts are re-sorted within a
//! lookahead window ([`LOOKAHEAD_S`] by default): a row is held until rows ending `W` seconds
//! later have been read. A row starting before an invocation already replayed (its duration
//! exceeds the window's slack) is an error naming the line. Memory is bounded by the rows of one
//! window. Every app gets [`crate::DEFAULT_APP_MEMORY_MB`] (the 2021 release has no memory).
//!
//! **Errors** name the file and line: wrong header, non-numeric or negative fields, decreasing
//! percentiles, missing files.
//!
//! **Validation** (`tests/replay.rs`): generated traces parse to exactly the invocations written;
//! malformed rows fail with file and line.

use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rand::RngExt;
use sfsim_engine::{RngStreams, SimDuration, SimRng, SimTime};

use crate::{DEFAULT_APP_MEMORY_MB, TraceError};

/// Duration of a 2019 function missing from the durations file, s (assumed).
pub const DEFAULT_DURATION_S: f64 = 1.0;
/// Default lookahead window of the 2021 reader, s (Azure Functions' Consumption plan limits an
/// execution to 10 min by default; the window leaves room for longer ones).
pub const LOOKAHEAD_S: f64 = 3600.0;
/// Minutes in a 2019 day file.
pub const MINUTES: usize = 1440;
/// Most invocations one minute of a 2019 day may hold, over all functions: a minute is
/// expanded into memory at 16 bytes an invocation (160 MB at this limit).
pub const MAX_MINUTE_INVOCATIONS: u64 = 10_000_000;
/// Most invocations a 2019 day may hold (about two minutes of replay per policy at this limit).
pub const MAX_DAY_INVOCATIONS: u64 = 2_000_000_000;
/// Invocations replayed per second per policy, measured (for the estimate in the error).
const REPLAY_PER_S: f64 = 15e6;
/// Quantile levels of the 2019 percentile columns.
const LEVELS: [f64; 7] = [0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0];

/// One invocation: which app, when it starts and how long it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Dense app index (order of first appearance in the trace files).
    pub app: u32,
    /// Start, from the beginning of the trace.
    pub start: SimTime,
    /// Execution time (without any cold start).
    pub duration: SimDuration,
}

/// A trace: invocations in non-decreasing start order, plus what the report needs.
pub trait Trace: Iterator<Item = Result<Invocation, TraceError>> {
    /// The app's memory, MB.
    fn app_memory_mb(&self, app: u32) -> f64;
    /// The end of the trace (idle time is counted up to it, or to the last end if later).
    fn horizon(&self) -> SimTime;
    /// Apps known so far.
    fn app_count(&self) -> usize;
}

fn open(path: &Path) -> Result<csv::Reader<Box<dyn BufRead>>, TraceError> {
    let name = path.display().to_string();
    let f = File::open(path).map_err(|e| TraceError::whole_file(&name, format!("cannot open: {e}")))?;
    Ok(reader(Box::new(BufReader::with_capacity(1 << 16, f))))
}

fn reader(r: Box<dyn BufRead>) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new().has_headers(true).from_reader(r)
}

fn check_header(rdr: &mut csv::Reader<Box<dyn BufRead>>, file: &str, expected: &[&str]) -> Result<(), TraceError> {
    let h = rdr.byte_headers().map_err(|e| TraceError::csv(file, &e))?;
    let ok = h.len() >= expected.len() && expected.iter().zip(h.iter()).all(|(e, g)| e.as_bytes() == g);
    if !ok {
        return Err(TraceError::at(file, 1, format!("header must start with `{}`", expected.join(","))));
    }
    Ok(())
}

fn line_of(rec: &csv::ByteRecord) -> u64 {
    rec.position().map_or(0, csv::Position::line)
}

fn field<'a>(rec: &'a csv::ByteRecord, i: usize, file: &str, name: &str) -> Result<&'a [u8], TraceError> {
    rec.get(i).ok_or_else(|| TraceError::at(file, line_of(rec), format!("missing column `{name}`")))
}

fn number<T: std::str::FromStr>(rec: &csv::ByteRecord, i: usize, file: &str, name: &str) -> Result<T, TraceError> {
    let raw = field(rec, i, file, name)?;
    std::str::from_utf8(raw).ok().and_then(|s| s.trim().parse::<T>().ok()).ok_or_else(|| {
        TraceError::at(file, line_of(rec), format!("column `{name}`: `{}` is not a valid number", String::from_utf8_lossy(raw)))
    })
}

fn finite_nonneg(rec: &csv::ByteRecord, i: usize, file: &str, name: &str) -> Result<f64, TraceError> {
    let v: f64 = number(rec, i, file, name)?;
    if !v.is_finite() || v < 0.0 {
        return Err(TraceError::at(file, line_of(rec), format!("column `{name}`: {v} must be finite and non-negative")));
    }
    Ok(v)
}

/// Interns byte-string keys into dense `u32` ids.
#[derive(Default, Debug)]
struct Interner {
    ids: HashMap<Box<[u8]>, u32>,
}

impl Interner {
    fn get(&self, key: &[u8]) -> Option<u32> {
        self.ids.get(key).copied()
    }
    fn intern(&mut self, key: &[u8]) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(key.into(), id);
        id
    }
}

fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        k.extend_from_slice(p);
        k.push(0x1f);
    }
    k
}

/// The file names of day `day` of the 2019 release.
pub fn files_2019(dir: &Path, day: u32) -> [PathBuf; 3] {
    [
        dir.join(format!("invocations_per_function_md.anon.d{day:02}.csv")),
        dir.join(format!("function_durations_percentiles.anon.d{day:02}.csv")),
        dir.join(format!("app_memory_percentiles.anon.d{day:02}.csv")),
    ]
}

/// How the invocations a 2019 trace counts in a minute are placed within that minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Placement {
    /// Each uniformly at random in the minute (seeded): the default.
    #[default]
    Random,
    /// Evenly spaced: `60 s × (k + 0.5) / c`.
    Even,
}

impl Placement {
    /// Parses `random` or `even`.
    pub fn parse(s: &str) -> Option<Placement> {
        match s {
            "random" => Some(Placement::Random),
            "even" => Some(Placement::Even),
            _ => None,
        }
    }
}

/// One day of the 2019 trace, expanded minute by minute.
#[derive(Debug)]
pub struct Azure2019 {
    /// Per minute: (function, count) for non-zero cells.
    minutes: Vec<Vec<(u32, u32)>>,
    /// Per function: its app.
    func_app: Vec<u32>,
    /// Per function: percentile table in seconds (None: default duration).
    func_pct: Vec<Option<[f64; 7]>>,
    app_mem: Vec<f64>,
    rng: SimRng,
    placement: Placement,
    placement_rng: SimRng,
    minute: usize,
    buf: Vec<(u64, u32)>,
    pos: usize,
    /// Functions without a durations row.
    pub functions_without_durations: usize,
    /// Apps without a memory row.
    pub apps_without_memory: usize,
}

impl Azure2019 {
    /// Reads day `day` from `dir`, placing a minute's invocations at random in it; durations
    /// and placements draw from `RngStreams::new(seed, 0)`.
    pub fn open(dir: &Path, day: u32, seed: u64) -> Result<Self, TraceError> {
        Self::open_with(dir, day, seed, Placement::Random)
    }

    /// Reads day `day` from `dir` with the given placement within each minute.
    pub fn open_with(dir: &Path, day: u32, seed: u64, placement: Placement) -> Result<Self, TraceError> {
        let [inv_path, dur_path, mem_path] = files_2019(dir, day);
        let mut apps = Interner::default();
        let mut funcs = Interner::default();
        let mut func_app = Vec::new();
        let mut minutes: Vec<Vec<(u32, u32)>> = vec![Vec::new(); MINUTES];

        let file = inv_path.display().to_string();
        let mut rdr = open(&inv_path)?;
        check_header(&mut rdr, &file, &["HashOwner", "HashApp", "HashFunction", "Trigger"])?;
        let hdr_len = rdr.byte_headers().map_err(|e| TraceError::csv(&file, &e))?.len();
        if hdr_len != 4 + MINUTES {
            return Err(TraceError::at(&file, 1, format!("header has {hdr_len} columns; expected 4 + {MINUTES} minutes")));
        }
        let mut rec = csv::ByteRecord::new();
        let mut minute_total = vec![0u64; MINUTES];
        let mut day_total = 0u64;
        while rdr.read_byte_record(&mut rec).map_err(|e| TraceError::csv(&file, &e))? {
            let (owner, app, func) =
                (field(&rec, 0, &file, "HashOwner")?, field(&rec, 1, &file, "HashApp")?, field(&rec, 2, &file, "HashFunction")?);
            let fkey = key(&[owner, app, func]);
            if funcs.get(&fkey).is_some() {
                return Err(TraceError::at(&file, line_of(&rec), "duplicate function row"));
            }
            let f = funcs.intern(&fkey);
            func_app.push(apps.intern(&key(&[owner, app])));
            for (m, cells) in minutes.iter_mut().enumerate() {
                // The column's name (its minute) is formatted only for an error message.
                let c: u32 = match rec.get(4 + m).and_then(|raw| std::str::from_utf8(raw).ok()).and_then(|s| s.trim().parse().ok()) {
                    Some(c) => c,
                    None => number(&rec, 4 + m, &file, &format!("{}", m + 1))?,
                };
                if c > 0 {
                    minute_total[m] += u64::from(c);
                    day_total += u64::from(c);
                    if minute_total[m] > MAX_MINUTE_INVOCATIONS {
                        return Err(TraceError::at(
                            &file,
                            line_of(&rec),
                            format!(
                                "column `{}` (minute {} of the day): {c} invocations bring the minute to {}, over the limit of \
                                 {MAX_MINUTE_INVOCATIONS} a minute (a minute is expanded in memory: {:.1} GB needed, at most {:.2} GB allowed)",
                                m + 1,
                                m + 1,
                                minute_total[m],
                                minute_total[m] as f64 * 16.0 / 1e9,
                                MAX_MINUTE_INVOCATIONS as f64 * 16.0 / 1e9
                            ),
                        ));
                    }
                    cells.push((f, c));
                }
            }
            if day_total > MAX_DAY_INVOCATIONS {
                return Err(TraceError::at(
                    &file,
                    line_of(&rec),
                    format!(
                        "the day reaches {day_total} invocations at this row, over the limit of {MAX_DAY_INVOCATIONS} \
                         (replaying them would take about {:.0} min per policy)",
                        day_total as f64 / REPLAY_PER_S / 60.0
                    ),
                ));
            }
        }

        let file = dur_path.display().to_string();
        let mut rdr = open(&dur_path)?;
        let cols = ["HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum", "Maximum"];
        let pct_cols = [
            "percentile_Average_0",
            "percentile_Average_1",
            "percentile_Average_25",
            "percentile_Average_50",
            "percentile_Average_75",
            "percentile_Average_99",
            "percentile_Average_100",
        ];
        let all: Vec<&str> = cols.iter().chain(pct_cols.iter()).copied().collect();
        check_header(&mut rdr, &file, &all)?;
        let mut func_pct: Vec<Option<[f64; 7]>> = vec![None; func_app.len()];
        while rdr.read_byte_record(&mut rec).map_err(|e| TraceError::csv(&file, &e))? {
            let fkey =
                key(&[field(&rec, 0, &file, "HashOwner")?, field(&rec, 1, &file, "HashApp")?, field(&rec, 2, &file, "HashFunction")?]);
            let Some(f) = funcs.get(&fkey) else { continue };
            let mut p = [0.0; 7];
            for (k, name) in pct_cols.iter().enumerate() {
                p[k] = finite_nonneg(&rec, 7 + k, &file, name)? / 1000.0;
                if k > 0 && p[k] < p[k - 1] {
                    return Err(TraceError::at(&file, line_of(&rec), format!("column `{name}` is below the previous percentile")));
                }
            }
            func_pct[f as usize] = Some(p);
        }

        let mut app_mem = vec![f64::NAN; apps.ids.len()];
        if mem_path.exists() {
            let file = mem_path.display().to_string();
            let mut rdr = open(&mem_path)?;
            check_header(&mut rdr, &file, &["HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb"])?;
            while rdr.read_byte_record(&mut rec).map_err(|e| TraceError::csv(&file, &e))? {
                let akey = key(&[field(&rec, 0, &file, "HashOwner")?, field(&rec, 1, &file, "HashApp")?]);
                if let Some(a) = apps.get(&akey) {
                    app_mem[a as usize] = finite_nonneg(&rec, 3, &file, "AverageAllocatedMb")?;
                }
            }
        }
        let apps_without_memory = app_mem.iter().filter(|m| m.is_nan()).count();
        for m in &mut app_mem {
            if m.is_nan() {
                *m = DEFAULT_APP_MEMORY_MB;
            }
        }
        Ok(Azure2019 {
            minutes,
            functions_without_durations: func_pct.iter().filter(|p| p.is_none()).count(),
            func_app,
            func_pct,
            app_mem,
            apps_without_memory,
            rng: RngStreams::new(seed, 0).stream("replay/durations"),
            placement,
            placement_rng: RngStreams::new(seed, 0).stream("replay/placement"),
            minute: 0,
            buf: Vec::new(),
            pos: 0,
        })
    }

    /// Total invocations of the day (the sum of the per-minute counts).
    pub fn total_invocations(&self) -> u64 {
        self.minutes.iter().flatten().map(|&(_, c)| u64::from(c)).sum()
    }

    fn fill(&mut self, minute: usize) {
        self.buf.clear();
        self.pos = 0;
        let base = minute as u64 * 60_000_000_000;
        const MINUTE_NS: u64 = 60_000_000_000;
        for &(f, c) in &self.minutes[minute] {
            for k in 0..u64::from(c) {
                let off = match self.placement {
                    Placement::Random => self.placement_rng.random_range(0..MINUTE_NS),
                    // 60 s x (k + 0.5) / c, exact in integer ns.
                    Placement::Even => (MINUTE_NS * (2 * k + 1)) / (2 * u64::from(c)),
                };
                self.buf.push((base + off, f));
            }
        }
        self.buf.sort_unstable();
        // The minute's cells are no longer needed.
        self.minutes[minute] = Vec::new();
    }
}

/// Inverse-CDF sample by piecewise-linear interpolation of the percentile table, at `u` in [0, 1).
pub fn interpolate(p: &[f64; 7], u: f64) -> f64 {
    for k in 1..LEVELS.len() {
        if u <= LEVELS[k] {
            let w = (u - LEVELS[k - 1]) / (LEVELS[k] - LEVELS[k - 1]);
            return p[k - 1] + w * (p[k] - p[k - 1]);
        }
    }
    p[6]
}

impl Iterator for Azure2019 {
    type Item = Result<Invocation, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        while self.pos >= self.buf.len() {
            if self.minute >= MINUTES {
                return None;
            }
            let m = self.minute;
            self.minute += 1;
            self.fill(m);
        }
        let (start, f) = self.buf[self.pos];
        self.pos += 1;
        let secs = match &self.func_pct[f as usize] {
            Some(p) => interpolate(p, self.rng.random::<f64>()),
            None => DEFAULT_DURATION_S,
        };
        Some(Ok(Invocation { app: self.func_app[f as usize], start: SimTime(start), duration: SimDuration::from_secs_f64(secs) }))
    }
}

impl Trace for Azure2019 {
    fn app_memory_mb(&self, app: u32) -> f64 {
        self.app_mem.get(app as usize).copied().unwrap_or(DEFAULT_APP_MEMORY_MB)
    }
    fn horizon(&self) -> SimTime {
        SimTime(MINUTES as u64 * 60_000_000_000)
    }
    fn app_count(&self) -> usize {
        self.app_mem.len()
    }
}

/// A pending 2021 row: (start, file order, app, duration ns).
type Pending = std::cmp::Reverse<(u64, u64, u32, u64)>;

/// The 2021 two-week trace, streamed.
pub struct Azure2021 {
    rdr: csv::Reader<Box<dyn BufRead>>,
    file: String,
    rec: csv::ByteRecord,
    apps: Interner,
    heap: BinaryHeap<Pending>,
    window: u64,
    max_end: u64,
    last_emitted: Option<(u64, u64)>,
    seq: u64,
    eof: bool,
}

impl Azure2021 {
    /// Opens `path` with the default lookahead window.
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        Self::with_window(path, SimDuration::from_secs_f64(LOOKAHEAD_S))
    }

    /// Opens `path`, re-sorting starts within `window`.
    pub fn with_window(path: &Path, window: SimDuration) -> Result<Self, TraceError> {
        let file = path.display().to_string();
        let mut rdr = open(path)?;
        check_header(&mut rdr, &file, &["app", "func", "end_timestamp", "duration"])?;
        Ok(Azure2021 {
            rdr,
            file,
            rec: csv::ByteRecord::new(),
            apps: Interner::default(),
            heap: BinaryHeap::new(),
            window: window.as_nanos(),
            max_end: 0,
            last_emitted: None,
            seq: 0,
            eof: false,
        })
    }

    /// Reads one row into the lookahead heap; `Ok(false)` at the end of the file.
    fn read_row(&mut self) -> Result<bool, TraceError> {
        let file = &self.file;
        if !self.rdr.read_byte_record(&mut self.rec).map_err(|e| TraceError::csv(file, &e))? {
            return Ok(false);
        }
        let rec = &self.rec;
        let end = finite_nonneg(rec, 2, file, "end_timestamp")?;
        let dur = finite_nonneg(rec, 3, file, "duration")?;
        let app = self.apps.intern(field(rec, 0, file, "app")?);
        let end_ns = SimTime::from_secs_f64(end).0;
        let dur_ns = SimDuration::from_secs_f64(dur).0;
        let start = end_ns.saturating_sub(dur_ns);
        if let Some((last, last_line)) = self.last_emitted
            && start < last
        {
            return Err(TraceError::at(
                file,
                line_of(rec),
                format!(
                    "invocation starts at {:.6} s, before one already replayed (start {:.6} s, line {last_line}): \
                         rows out of start order by more than the {:.0} s lookahead window",
                    SimTime(start).as_secs_f64(),
                    SimTime(last).as_secs_f64(),
                    SimDuration(self.window).as_secs_f64()
                ),
            ));
        }
        self.max_end = self.max_end.max(end_ns);
        // `seq` is the line number, so ties pop in file order and errors can name lines.
        self.seq = line_of(rec);
        self.heap.push(std::cmp::Reverse((start, self.seq, app, dur_ns)));
        Ok(true)
    }
}

impl Iterator for Azure2021 {
    type Item = Result<Invocation, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(&std::cmp::Reverse((start, line, app, dur))) = self.heap.peek() {
                if self.eof || start.saturating_add(self.window) <= self.max_end {
                    self.heap.pop();
                    self.last_emitted = Some((start, line));
                    return Some(Ok(Invocation { app, start: SimTime(start), duration: SimDuration(dur) }));
                }
            } else if self.eof {
                return None;
            }
            match self.read_row() {
                Ok(true) => {}
                Ok(false) => self.eof = true,
                Err(e) => {
                    // Stop after an error.
                    self.eof = true;
                    self.heap.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Trace for Azure2021 {
    fn app_memory_mb(&self, _app: u32) -> f64 {
        DEFAULT_APP_MEMORY_MB
    }
    fn horizon(&self) -> SimTime {
        SimTime(self.max_end)
    }
    fn app_count(&self) -> usize {
        self.apps.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_hits_the_percentiles() {
        let p = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 9.0];
        assert_eq!(interpolate(&p, 0.0), 0.1);
        assert_eq!(interpolate(&p, 0.5), 1.0);
        assert!((interpolate(&p, 0.625) - 1.5).abs() < 1e-12);
        assert_eq!(interpolate(&p, 1.0), 9.0);
    }
}
