//! Remote object storage (Amazon S3, Azure Blob) as seen from a function.
//!
//! **Models.** One GET or PUT of an object of `b` bytes takes
//! `latency + b / bandwidth`, latency log-normal (median per operation, common sigma),
//! bandwidth a single stream's. Each operation is one billed request.
//!
//! **Parameters.** `[storage]` of each model file: latencies and bandwidth are assumptions
//! (documented there); S3's request prices come from the S3 pricing page
//! (`models/aws-lambda.toml`), Azure Blob's from the storage account's kind
//! (`models/az-storage.toml` `account.kind`, its `[gpv1]` / `[gpv2]` read and write prices;
//! platform-facts.md §4).
//!
//! **Scope and limitations.** No multipart or parallel range transfers, no throttling
//! (S3 allows 5,500 GET/s per prefix, far above the study's load), no storage-side queueing,
//! no GB-month storage charge for transient objects.
//!
//! **Validation.** Unit test: the deterministic transfer part equals size / bandwidth.

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

/// An object store's latency, bandwidth and prices.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    get_latency: LogNormal<f64>,
    put_latency: LogNormal<f64>,
    /// Bytes per second of one stream.
    pub bandwidth_bytes_per_s: f64,
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
}
