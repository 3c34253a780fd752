//! Remote object storage (Amazon S3, Azure Blob) as seen from a function.
//!
//! **Models.** One GET or PUT of an object of `b` bytes from a function's code takes
//! `latency + max(b / bandwidth, b c / r)`: the first byte's latency (log-normal, median per
//! operation, common sigma), then the body streams through the network at a single stream's
//! `bandwidth` while the function's storage client (the SDK's HTTP and TLS code, the copies
//! into memory) spends `c` reference-core seconds per MiB on it, on one thread computing at `r`
//! reference cores (the instance's share for one thread times the core's speed). The two
//! overlap (the client processes what has arrived while more arrives), so the slower one sets
//! the pace: a Lambda function of 1 GB or more is bound by the network, one of 128-512 MB by
//! its CPU share. In the simulator ([`FunctionTransfer`], `Phase::push_function_transfer`) an
//! operation is three phases: the latency (a wait, counted and billed as the operation), the
//! client's CPU (a CPU phase: it contends with the instance's other work, Lambda's 20 ms quota
//! included, and is billed as compute), then the rest of the network's time, measured from the
//! CPU phase's actual start (a wait of `max(0, b / bandwidth - CPU phase's duration)`).
//! Each operation is one billed request.
//!
//! **Parameters.** `[storage]` of each model file. Latencies and bandwidth are assumptions
//! (documented there); `client_cpu_s_per_mb` is fitted to SeBS's in-function download times of
//! 210.thumbnailer on Lambda at 128-512 MB (calibration/targets/sebs2020-storage.toml), where the
//! download time grows as the CPU share shrinks; S3's request prices come from the S3 pricing
//! page (`models/aws-lambda.toml`), Azure Blob's from the storage account's kind
//! (`models/az-storage.toml` `account.kind`, its `[gpv1]` / `[gpv2]` read and write prices;
//! platform-facts.md §4).
//!
//! An instance's first request to the store also opens the client's connection: a wait
//! (`connect_s`, the TCP and TLS round trips) and client CPU (`connect_cpu_s`, the handshake's
//! key exchange) at the share, once per instance (the SDK keeps the connection in its pool while
//! the instance lives; `crate::world::pool` keeps the phases for the instance's first request
//! only). Both are fitted to SeBS 2020's cold first downloads, 410 ms slower than warm at 128 MB
//! and 47 ms at 3,008 MB (calibration/targets/sebs2020-storage.toml).
//!
//! **Scope and limitations.** No multipart or parallel range transfers (boto3's 8 MiB parts on
//! ten threads share the same GIL and CPU share, so the CPU bound is the same), no per-request
//! client CPU (request signing: SeBS's 3.5 KB uploads take 117 ms at 128 MB against 40 ms at
//! 1 GB or more, which such a term would give; not modelled), no reconnection after an idle
//! connection is closed (a warm instance keeps its connection however long it idles), no
//! throttling (S3 allows 5,500 GET/s per prefix, far above
//! the study's load), no storage-side queueing, no GB-month storage charge for transient
//! objects. When the instance's CPU is contended the CPU phase stretches and, once it is longer
//! than the network's time, the transfer with it. The Functions host's own
//! storage traffic (Durable's history, large messages) is .NET code outside this client and
//! is not charged CPU here.
//!
//! **Validation.** Unit test: the operation's latency, client CPU and network time; the
//! simulator's overlap in `tests/object_downloads.rs` (network-paced at 1 GB and above,
//! CPU-paced below). Targets:
//! calibration/targets/sebs2020-storage.toml (Lambda 128-3,008 MB, Azure), and the SeBS-Flow
//! 631.parallel-download rows (calibration/targets/sebs-flow-download.toml).

use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use sfsim_engine::SimDuration;

use crate::params::StorageParams;
use sfsim_workflow::BYTES_PER_MB;

/// Object-store operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageOp {
    /// Read an object.
    Get,
    /// Write an object.
    Put,
}

/// One storage operation of a function's code: the store's connection (which only an
/// instance's first request opens), the first byte's latency, then the client's CPU overlapped
/// with the body's time on the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FunctionTransfer {
    /// The connection's wait, if this is the instance's first request.
    pub connect: SimDuration,
    /// The connection's client CPU, reference-core seconds, if this is the instance's first request.
    pub connect_cpu_s: f64,
    /// The first byte's latency.
    pub latency: SimDuration,
    /// The client's CPU, reference-core seconds.
    pub cpu_s: f64,
    /// The body's time on the network (size / bandwidth).
    pub network: SimDuration,
}

/// An object store's latency, bandwidth and prices.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    get_latency: LogNormal<f64>,
    put_latency: LogNormal<f64>,
    /// Bytes per second of one stream.
    pub bandwidth_bytes_per_s: f64,
    /// The function's storage client's CPU per byte moved, reference-core seconds.
    pub client_cpu_s_per_byte: f64,
    /// An instance's first request: its wait (connection and TLS round trips).
    pub connect: SimDuration,
    /// An instance's first request: its client CPU, reference-core seconds.
    pub connect_cpu_s: f64,
    /// $ per GET.
    pub price_usd_per_get: f64,
    /// $ per PUT.
    pub price_usd_per_put: f64,
}

impl ObjectStore {
    /// Builds the store from its model parameters.
    pub fn from_params(p: &StorageParams) -> Self {
        let ln = |median: f64| LogNormal::new(median.max(1e-9).ln(), p.latency_sigma.value).expect("validated storage parameters");
        ObjectStore {
            get_latency: ln(p.get_latency_s_median.value),
            put_latency: ln(p.put_latency_s_median.value),
            bandwidth_bytes_per_s: (p.bandwidth_mb_per_s.value * BYTES_PER_MB).max(1.0),
            client_cpu_s_per_byte: p.client_cpu_s_per_mb.value / BYTES_PER_MB,
            connect: SimDuration::from_secs_f64(p.connect_s.value),
            connect_cpu_s: p.connect_cpu_s.value,
            price_usd_per_get: p.price_usd_per_get.as_ref().map_or(0.0, |x| x.value),
            price_usd_per_put: p.price_usd_per_put.as_ref().map_or(0.0, |x| x.value),
        }
    }

    /// Azure Blob: the latencies and bandwidth of `p`, the request prices of the storage
    /// account's kind (`models/az-storage.toml`: Get Blob a read, Put Blob a write).
    pub fn azure_blob(p: &StorageParams, account: &crate::params::AzureStorageModel) -> Self {
        let prices = account.prices();
        ObjectStore {
            price_usd_per_get: prices.blob_read_usd_per_10k.value / 1e4,
            price_usd_per_put: prices.blob_write_usd_per_10k.value / 1e4,
            ..Self::from_params(p)
        }
    }

    /// Time of one operation on an object of `bytes`.
    pub fn transfer_time<R: Rng + ?Sized>(&self, op: StorageOp, bytes: u64, rng: &mut R) -> SimDuration {
        let latency = match op {
            StorageOp::Get => self.get_latency.sample(rng),
            StorageOp::Put => self.put_latency.sample(rng),
        };
        SimDuration::from_secs_f64(latency + bytes as f64 / self.bandwidth_bytes_per_s)
    }

    /// One operation from a function's code: the connection an instance's first request opens,
    /// its latency, the client's CPU and the body's time on the network, which the simulator
    /// overlaps ([`crate::world`]: the CPU phase, then the
    /// network's rest, measured from the CPU phase's actual start).
    pub fn function_transfer<R: Rng + ?Sized>(&self, op: StorageOp, bytes: u64, rng: &mut R) -> FunctionTransfer {
        FunctionTransfer {
            connect: self.connect,
            connect_cpu_s: self.connect_cpu_s,
            latency: self.transfer_time(op, 0, rng),
            cpu_s: bytes as f64 * self.client_cpu_s_per_byte,
            network: SimDuration::from_secs_f64(bytes as f64 / self.bandwidth_bytes_per_s),
        }
    }

    /// Request charge of one operation.
    pub fn price_usd(&self, op: StorageOp) -> f64 {
        match op {
            StorageOp::Get => self.price_usd_per_get,
            StorageOp::Put => self.price_usd_per_put,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Models;
    use rand::SeedableRng;

    #[test]
    fn transfer_is_latency_plus_size_over_bandwidth() {
        let mut p = Models::builtin().expect("models").lambda.storage;
        p.latency_sigma.value = 0.0;
        let s = ObjectStore::from_params(&p);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let t = s.transfer_time(StorageOp::Get, 80 * 1024 * 1024, &mut rng);
        // 30 ms + 80 MiB / 80 MiB/s
        assert_eq!(t, SimDuration::from_secs_f64(0.030 + 1.0));
        assert_eq!(s.price_usd(StorageOp::Put), 0.000005);
    }

    #[test]
    fn function_transfer_splits_latency_client_cpu_and_network() {
        let mut p = Models::builtin().expect("models").lambda.storage;
        p.latency_sigma.value = 0.0;
        p.get_latency_s_median.value = 0.03;
        p.bandwidth_mb_per_s.value = 80.0;
        p.client_cpu_s_per_mb.value = 0.01;
        let s = ObjectStore::from_params(&p);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let t = s.function_transfer(StorageOp::Get, 80 * 1024 * 1024, &mut rng);
        assert!((t.latency.as_secs_f64() - 0.03).abs() < 1e-6, "{t:?}");
        assert!((t.cpu_s - 0.8).abs() < 1e-9, "{t:?}");
        assert!((t.network.as_secs_f64() - 1.0).abs() < 1e-6, "{t:?}");
        // The latency is the plain transfer time of an empty object, drawn the same way.
        let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        assert_eq!(s.function_transfer(StorageOp::Put, 5, &mut a).latency, s.transfer_time(StorageOp::Put, 0, &mut b));
    }
}
