//! Queue polling with randomized exponential backoff (Durable Task Framework, Azure Storage
//! provider; Azure Functions queue trigger).
//!
//! **Models.** A consumer polls a storage queue. A poll that finds a message resets the backoff:
//! the next poll follows after the minimum interval. After `k >= 1` consecutive empty polls the
//! next poll waits `min + U(1 - r, 1 + r) * 2^(k-1) * min`, capped at the maximum interval
//! (DTAS `BackoffPollingHelper.cs`, `TaskHubQueue.cs:50-57`: min 50 ms, max =
//! `maxQueuePollingInterval` 30 s, randomization r = 0.2). With the defaults this gives about
//! 50, 100, 150, 250, 450, 850 ms, 1.65, 3.25, 6.45, 12.85, 25.65 s, then 30 s: a queue idle for
//! about 52 s is polled every 30 s, and a message arriving then waits up to 30 s.
//! Every poll is one billed queue transaction, found message or not, which is why idle
//! stateful apps cost money.
//!
//! **Parameters.** `min`, `max`, `randomization` from the model files (DTAS defaults; the
//! Functions queue trigger uses 100 ms and `maxPollingInterval`, default 1 min).
//!
//! **Scope and limitations.** A local enqueue in the same process wakes the poller at once in
//! DTFx; callers model that by resetting the poller ([`Poller::wake`]). Batch size (32) limits
//! how many messages one poll takes.
//!
//! **Validation.** Unit tests: the deterministic sequence with r = 0 matches the documented
//! 50, 100, 150, 250, ... ms, the cap, and the reset on a found message.

use rand::{Rng, RngExt};
use sfsim_engine::SimDuration;

/// Backoff parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The backoff unit (and the first interval after an empty poll's).
    pub min: SimDuration,
    /// Interval after a poll that found work (DTFx: `min`; a dispatcher that fetches again
    /// at once: the fetch's round trip).
    pub found: SimDuration,
    /// Cap on the interval.
    pub max: SimDuration,
    /// Relative randomization of the growing part (0.2 in DTFx).
    pub randomization: f64,
}

/// One consumer's polling state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Poller {
    /// Consecutive empty polls.
    pub empty_polls: u32,
}

impl Backoff {
    /// The wait before the next poll after `empty_polls` consecutive empty polls.
    pub fn delay<R: Rng + ?Sized>(&self, empty_polls: u32, rng: &mut R) -> SimDuration {
        if empty_polls == 0 {
            return self.found;
        }
        let factor = if self.randomization > 0.0 { rng.random_range(1.0 - self.randomization..=1.0 + self.randomization) } else { 1.0 };
        let exp = 2f64.powi((empty_polls - 1).min(62) as i32);
        let secs = self.min.as_secs_f64() * (1.0 + factor * exp);
        SimDuration::from_secs_f64(secs).min(self.max)
    }
}

impl Poller {
    /// Records a poll's result and returns the wait before the next poll.
    pub fn after_poll<R: Rng + ?Sized>(&mut self, found: bool, b: &Backoff, rng: &mut R) -> SimDuration {
        if found {
            self.empty_polls = 0;
        } else {
            self.empty_polls = self.empty_polls.saturating_add(1);
        }
        b.delay(self.empty_polls, rng)
    }

    /// A message was put by the same process: poll again at the minimum interval.
    pub fn wake(&mut self) {
        self.empty_polls = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn documented_backoff_sequence_cap_and_reset() {
        let b = Backoff {
            min: SimDuration::from_millis(50),
            found: SimDuration::from_millis(50),
            max: SimDuration::from_secs(30),
            randomization: 0.0,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut p = Poller::default();
        let waits_ms: Vec<u64> = (0..13).map(|_| p.after_poll(false, &b, &mut rng).as_nanos() / 1_000_000).collect();
        assert_eq!(waits_ms, vec![100, 150, 250, 450, 850, 1650, 3250, 6450, 12850, 25650, 30000, 30000, 30000]);
        assert_eq!(p.after_poll(true, &b, &mut rng), SimDuration::from_millis(50));
        // About 52 s of idleness reaches the cap (platform-facts.md: "about 12 empty polls, 52 s").
        let total: u64 = waits_ms[..10].iter().sum();
        assert_eq!(total, 51_650);
    }

    #[test]
    fn randomization_stays_within_twenty_percent() {
        let b = Backoff {
            min: SimDuration::from_millis(50),
            found: SimDuration::from_millis(50),
            max: SimDuration::from_secs(30),
            randomization: 0.2,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for _ in 0..1000 {
            let d = b.delay(4, &mut rng).as_secs_f64();
            // 50 ms + [0.8, 1.2] x 8 x 50 ms
            assert!((0.05 + 0.32 - 1e-9..=0.05 + 0.48 + 1e-9).contains(&d), "{d}");
        }
    }
}
