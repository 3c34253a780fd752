//! # sfsim-engine
//!
//! The discrete-event core of sfsim. It knows nothing about serverless platforms.
//!
//! ```text
//!   schedule(at, event) ──► EventQueue ──► pop() ─► (SimTime, event) ─► model handles it
//!        ▲   (time, seq) order, FIFO on ties,                              │
//!        └──── cancel(EventKey) ◄──── keys returned by schedule ◄──────────┘
//! ```
//!
//! * [`SimTime`] and [`SimDuration`] are integer nanoseconds. Durations are sampled in floating
//!   point once and converted once ([`SimDuration::from_secs_f64`]); times are never compared
//!   with an epsilon, so billing rounding (100 ms, 1 ms) is exact.
//! * [`EventQueue`] pops events ordered by `(time, insertion sequence)`: two events scheduled for
//!   the same instant pop in the order they were scheduled. Events can be cancelled in O(1).
//! * [`RngStreams`] derives independent, portable random streams from
//!   `(root seed, replication, stream name)`, so two deployments simulated with the same seed see
//!   the same workload (common random numbers) and results never depend on the thread count.
//!
//! ```
//! use sfsim_engine::{EventQueue, SimTime, SimDuration};
//! let mut q = EventQueue::new();
//! q.schedule(SimTime::ZERO + SimDuration::from_millis(5), "b");
//! let k = q.schedule(SimTime::ZERO + SimDuration::from_millis(5), "c");
//! q.schedule(SimTime::ZERO + SimDuration::from_millis(1), "a");
//! q.cancel(k);
//! assert_eq!(q.pop().map(|(_, e)| e), Some("a"));
//! assert_eq!(q.pop().map(|(_, e)| e), Some("b"));
//! assert_eq!(q.pop(), None);
//! ```
#![warn(missing_docs)]

mod queue;
mod rng;
pub mod sample;
mod time;

pub use queue::{EventKey, EventQueue};
pub use rng::{RngStreams, SimRng, WorkRng, WorkStreams, stream_seed};
pub use sample::{Sample, quantile_sorted};
pub use time::{SimDuration, SimTime};
