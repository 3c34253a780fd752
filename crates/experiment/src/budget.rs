//! Guard rails: the work and memory a run or a sweep will take, estimated before it starts,
//! and refused above documented limits (a small file must not run for days or exhaust memory).
//!
//! **Estimates.** Work is counted in simulated executions; time uses a measured rate of about
//! [`EXECUTIONS_PER_CORE_S`] executions per second per core (the paper workflows at 1.0-1.6 us
//! per event, 100-1,000 events per execution). Memory is what the summaries keep until every
//! replication has run: each (deployment, replication) holds twelve samples of up to 262,144
//! exact values (8 bytes each) plus a few KB.
//!
//! **Limits.** [`MAX_EXECUTIONS`] simulated executions and [`MAX_MEMORY_BYTES`] of summaries
//! per command; [`MAX_TRIALS`] trials per sweep. Split bigger studies into sweep shards.

/// Most executions one command simulates (about 9 core-hours).
pub const MAX_EXECUTIONS: u64 = sfsim_workflow::MAX_TOTAL_EXECUTIONS;
/// Most memory the kept summaries may take, bytes (4 GiB).
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;
/// Most trials a sweep may hold.
pub const MAX_TRIALS: u64 = 1_000_000;
/// Measured simulation speed, executions per second per core (paper workflows).
pub const EXECUTIONS_PER_CORE_S: f64 = 30_000.0;
/// Values a sample keeps exactly before folding into a histogram.
const EXACT_VALUES: u64 = 262_144;
/// Samples a summary keeps per (deployment, replication).
const SAMPLES: u64 = 12;

/// What a command will cost before it starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Executions simulated.
    pub executions: u64,
    /// Memory held by the summaries, bytes.
    pub memory_bytes: u64,
}

impl Estimate {
    /// `runs` independent simulations (deployments x replications) of `iterations` executions.
    pub fn of(runs: u64, iterations: u64) -> Estimate {
        let executions = runs.saturating_mul(iterations);
        let per_run = SAMPLES * 8 * iterations.min(EXACT_VALUES) + 4096;
        Estimate { executions, memory_bytes: runs.saturating_mul(per_run) }
    }

    /// Hours of one core it takes.
    pub fn core_hours(&self) -> f64 {
        self.executions as f64 / EXECUTIONS_PER_CORE_S / 3600.0
    }

    /// The estimate in words, for messages.
    pub fn describe(&self) -> String {
        format!(
            "about {} executions (~{} of one core) and {} of memory",
            grouped(self.executions),
            duration_text(self.core_hours() * 3600.0),
            bytes_text(self.memory_bytes)
        )
    }

    /// Refuses work over the limits, with the estimate and the limits in the message.
    pub fn check(&self, what: &str) -> Result<(), String> {
        if self.executions > MAX_EXECUTIONS || self.memory_bytes > MAX_MEMORY_BYTES {
            return Err(format!(
                "{what} would take {}; the limits are {} executions and {} per command (split it into sweep shards, or use fewer \
                 iterations or replications)",
                self.describe(),
                grouped(MAX_EXECUTIONS),
                bytes_text(MAX_MEMORY_BYTES)
            ));
        }
        Ok(())
    }
}

/// 1234567 -> "1,234,567".
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes_text(b: u64) -> String {
    let b = b as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", (b / 1e6).max(1.0))
    }
}

fn duration_text(s: f64) -> String {
    if s >= 2.0 * 86_400.0 {
        format!("{:.0} days", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_run_is_refused_with_an_estimate() {
        // iterations = 10,000,000 x replications = 10,000 on one deployment.
        let e = Estimate::of(10_000, 10_000_000);
        let m = e.check("this run").expect_err("refused");
        assert!(m.contains("100,000,000,000 executions") && m.contains("days") && m.contains("GB"), "{m}");
        assert!(Estimate::of(6 * 10, 100_000).check("x").is_ok());
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(999), "999");
    }
}
