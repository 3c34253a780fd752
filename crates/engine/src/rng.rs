//! Named, portable random streams.
//!
//! Every random quantity in a replication is drawn from a stream named for the mechanism or
//! entity that uses it (`"arrivals"`, `"workload/17"`, `"cold_start"`). A stream's seed is a
//! fixed hash of `(root seed, replication, name)`: SplitMix64 over the root seed and replication
//! index, mixed with the FNV-1a hash of the name. The generator is ChaCha8, whose output is fixed
//! by its specification, so the same seed gives the same numbers on every platform, with every
//! thread count and with every release of `rand_chacha` that keeps the algorithm.
//!
//! Naming streams by what they feed gives common random numbers across compared configurations:
//! execution 17's step durations are the same draws on `aws-lambda` and on `az-func`, so the
//! difference between deployments is not drowned in sampling noise.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used for every stream.
pub type SimRng = ChaCha8Rng;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The 32-byte ChaCha seed of stream `name` in replication `replication` under `root_seed`.
pub fn stream_seed(root_seed: u64, replication: u64, name: &str) -> [u8; 32] {
    let mut state = root_seed ^ splitmix64(&mut replication.wrapping_add(0x5EED)) ^ fnv1a64(name.as_bytes());
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    seed
}

/// Derives the named streams of one replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngStreams {
    /// The user's `--seed`.
    pub root_seed: u64,
    /// The replication index (0-based).
    pub replication: u64,
}

impl RngStreams {
    /// Streams of replication `replication` under `root_seed`.
    pub fn new(root_seed: u64, replication: u64) -> Self {
        RngStreams { root_seed, replication }
    }

    /// The generator of stream `name`. Calling it twice gives two identical generators.
    pub fn stream(&self, name: &str) -> SimRng {
        SimRng::from_seed(stream_seed(self.root_seed, self.replication, name))
    }

    /// The generator of stream `name/index` (e.g. one per execution) without allocating a
    /// formatted name on the hot path.
    pub fn indexed(&self, name: &str, index: u64) -> SimRng {
        let mut seed = stream_seed(self.root_seed, self.replication, name);
        let mut state = index ^ 0xA5A5_5A5A_C3C3_3C3C;
        for chunk in seed.chunks_exact_mut(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let mixed = u64::from_le_bytes(word) ^ splitmix64(&mut state);
            chunk.copy_from_slice(&mixed.to_le_bytes());
        }
        SimRng::from_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_name_same_numbers_other_name_other_numbers() {
        let s = RngStreams::new(42, 0);
        let a: Vec<u64> = (0..4).map(|_| 0).scan(s.stream("x"), |r, _| Some(r.random())).collect();
        let b: Vec<u64> = (0..4).map(|_| 0).scan(s.stream("x"), |r, _| Some(r.random())).collect();
        let c: Vec<u64> = (0..4).map(|_| 0).scan(s.stream("y"), |r, _| Some(r.random())).collect();
        let d: Vec<u64> = (0..4).map(|_| 0).scan(RngStreams::new(42, 1).stream("x"), |r, _| Some(r.random())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(s.indexed("w", 1).random::<u64>(), s.indexed("w", 2).random::<u64>());
    }

    #[test]
    fn streams_are_portable() {
        // Pinned value: if this changes, every published seed gives different results.
        let v: u64 = RngStreams::new(1, 0).stream("arrivals").random();
        assert_eq!(v, PINNED);
    }
    const PINNED: u64 = 12_011_312_345_004_133_056;
}
