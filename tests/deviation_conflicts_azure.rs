//! The Azure queue and transaction deviations shown to be conflicts: each test sweeps the model
//! parameters the deviating target depends on (the queue trigger's polling and the output
//! binding's wake-up; the Durable per-episode and per-event costs and polling; the task hub's
//! partitions, the scale controller's peeks and every storage price) and shows that no setting
//! meets it together with another target of the study. calibration/deviations.toml gives the
//! reasons in words.

use crate::common;

use common::conflicts::{copy_with, models_with, reproduce, targets, with_account_kind};

/// Az-Queue over Az-Func (+25-35 % small, +19-29 % large) and its p99 queue time (24-36 s,
/// large). The hops wait for polls of queues that were idle for a whole execution, so the wait
/// grows with the polling cap (and the trigger's minimum), not with the work: the small
/// dataset's overhead needs a cap of about 2 s, while the large one's and the p99 queue time
/// need about 11-12 s (the fitted value, 11.32 s). An output binding's enqueue (SharedQueueWatcher wakes the
/// host's listener) leaves no queue time at all. The scale controller's sampling interval moves
/// when hosts are added, not the conflict.
#[test]
fn no_queue_trigger_setting_meets_the_small_az_queue_overhead_and_the_large_dataset_targets() {
    let ids = ["ml-train-small-azqueue-vs-azfunc", "ml-train-large-azqueue-vs-azfunc", "ml-train-large-azqueue-queue-time"];
    let mut settings = Vec::new();
    for peek in [10.0, 30.0] {
        for min in [0.1, 1.0] {
            for max in [1.5, 2.0, 3.0, 5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0] {
                settings.push((peek, min, max, 0.0));
            }
        }
        for max in [2.0, 60.0] {
            settings.push((peek, 0.1, max, 1.0));
        }
    }
    let mut large_band = 0;
    for (peek, min, max, wake) in settings {
        if min > max {
            continue;
        }
        let dir = models_with(
            &format!("q{peek}-{min}-{max}-{wake}"),
            &[
                ("az-queue.toml", "polling", "min_interval_s", min),
                ("profiles/iiswc21.toml", "models.az-queue", "polling.max_interval_s", max),
                ("profiles/iiswc21.toml", "models.az-queue", "polling.local_enqueue_wakeup", wake),
                ("az-durable.toml", "task_hub", "scale_controller_peek_interval_s", peek),
            ],
        );
        let t = targets(&dir, &ids);
        let (small, large, qt) = (&t[0], &t[1], &t[2]);
        let at = format!(
            "peek {peek} s, min {min} s, max {max} s, wake-up {wake}: small {:?}, large {:?}, queue time {:?}",
            small.0, large.0, qt.0
        );
        assert!(!(small.1 && large.1), "meets both overheads: {at}");
        assert!(!(small.1 && qt.1), "meets the small overhead and the queue time: {at}");
        large_band += usize::from(large.1);
    }
    // The sweep does reach the large overhead's band, so the conflict is not a miss everywhere.
    assert!(large_band > 0, "the sweep never meets ml-train-large-azqueue-vs-azfunc");
}

/// Az-Queue's small overhead under the other reading the study leaves open: how its 100+
/// executions were launched (`scenarios/paper/ml-training-*.toml` assume back-to-back runs 10 s
/// apart). The hops' waits follow how long each queue was idle, which the launch pattern sets,
/// so it is swept on both datasets alike (a pattern per dataset would be a special case): back to
/// back with 0-300 s between runs, and open-loop every 5-120 s. Back to back, the small overhead
/// stays about 2.1-2.2x. Open-loop launches about as often as a small execution lasts keep the
/// queues busy enough for it to reach its band (every 10-10.5 s), and at 10.5 s the large
/// overhead is in its band too. So the conflict with `ml-train-large-azqueue-vs-azfunc` rests on the
/// assumed launch pattern. The one with the large p99 queue time does not: at those rates the
/// large executions overlap (about 18 at once) and their p99 queue time is 180-300 s against 24-36 s.
#[test]
fn no_launch_pattern_meets_the_small_az_queue_overhead_and_the_large_queue_time() {
    let ids = ["ml-train-small-azqueue-vs-azfunc", "ml-train-large-azqueue-vs-azfunc", "ml-train-large-azqueue-queue-time"];
    // Back to back with these gaps, then open-loop at these intervals (s).
    let back_to_back = [0.0, 10.0, 60.0, 300.0].map(|v| ("sequential", "gap_s", v));
    let open_loop = [5.0, 8.0, 10.0, 10.5, 12.0, 15.0, 30.0, 120.0].map(|v| ("interval", "interval_s", v));
    let (mut small_met, mut both_overheads) = (0, 0);
    for (kind, key, value) in back_to_back.into_iter().chain(open_loop) {
        let dir = copy_with("scenarios/paper", &format!("launch-{kind}-{value}"), |name, text| {
            if !name.starts_with("ml-training-") {
                return text;
            }
            let from = "kind = \"sequential\"\ngap_s = 10\n";
            assert!(text.contains(from), "{name}: the launch pattern this test replaces");
            text.replace(from, &format!("kind = \"{kind}\"\n{key} = {value}\n"))
        });
        let r = reproduce(None, Some(&dir.join("experiments.toml")), &ids, 1);
        let (small, large, qt) = (&r[ids[0]], &r[ids[1]], &r[ids[2]]);
        let at = format!("{kind} {key} = {value}: small {:?}, large {:?}, queue time {:?}", small.values, large.values, qt.values);
        assert!(!(small.pass && qt.pass), "meets the small overhead and the queue time: {at}");
        small_met += usize::from(small.pass);
        both_overheads += usize::from(small.pass && large.pass);
    }
    // The sweep reaches the small overhead's band, so the conflict is not a miss everywhere; and
    // it does meet both overheads at one rate (the pair is a conflict only under the assumed
    // launch: calibration/deviations.toml says so).
    assert!(small_met > 0, "no launch pattern meets ml-train-small-azqueue-vs-azfunc");
    assert!(both_overheads > 0, "no launch pattern meets both overheads any more: update the deviation's reason");
}

/// Az-Dorch over Az-Func (1.04-1.08 on both datasets) against Az-Dent over Az-Func on the large
/// dataset (0.97-1.03). Both run the same Durable machinery (starter, episodes with history
/// reads and replay, activity or entity dispatch through the same queues), so any per-episode,
/// per-event or polling cost that lifts Az-Dorch's large ratio into its band lifts Az-Dent's out
/// of its own: wherever Az-Dorch's large ratio is in its band, Az-Dent is within 0.015 of it (its
/// own program runs select_best inside the collector entity without awaiting it, one activity
/// round trip fewer, so at high replay costs it is slightly below: 0.0103 at most in the sweep),
/// and never inside its own band.
#[test]
fn no_durable_overhead_meets_az_dorch_and_az_dent_over_az_func() {
    let ids = ["ml-train-azdorch-vs-azfunc", "ml-train-large-azdent-vs-azfunc"];
    let mut dorch_large_band = 0;
    for episode in [0.05, 0.2, 0.5, 1.0, 2.0] {
        for event in [0.002, 0.02, 0.05] {
            for max in [30.0, 120.0] {
                let dir = models_with(
                    &format!("d{episode}-{event}-{max}"),
                    &[
                        ("az-durable.toml", "", "episode_cpu_s", episode),
                        ("az-durable.toml", "", "per_history_event_cpu_s", event),
                        ("az-durable.toml", "polling", "max_interval_s", max),
                    ],
                );
                let t = targets(&dir, &ids);
                let (dorch, dent) = (&t[0], &t[1]);
                let large = dorch.0["ml-training-large"];
                let at =
                    format!("episode {episode} s, event {event} s, max {max} s: az-dorch {:?}, az-dent {large} vs {:?}", dorch.0, dent.0);
                let large_met = (1.04..=1.08).contains(&large);
                assert!(!(large_met && dent.1), "meets both on the large dataset: {at}");
                assert!(!(dorch.1 && dent.1), "meets both: {at}");
                if large_met {
                    assert!(dent.0["value"] > large - 0.015, "az-dent 0.015 below az-dorch in its band: {at}");
                }
                dorch_large_band += usize::from(large_met);
            }
        }
    }
    assert!(dorch_large_band > 0, "the sweep never puts Az-Dorch's large ratio in its band");
}

/// Az-Dorch's queue transactions per execution against Az-Queue's (0.8-1.25) and the monthly
/// video transaction overhead (Fig. 15, 55-85 % of compute). Az-Dorch's count is its queues'
/// polls and the scale controller's peeks of them: 4 control queues and the work-item queue
/// against Az-Queue's 3 chain queues. Fewer partitions, longer Durable polling, more frequent
/// Az-Queue polling or a slower scale controller bring the ratio down only to about 1.8 (one
/// partition), and the same polling is what the video overhead is made of: with fewer than 4
/// partitions it falls out of its band.
#[test]
fn no_polling_setting_meets_the_queue_transaction_ratio_and_the_video_overhead() {
    let ids = ["ml-train-queue-transactions-azdorch-vs-azqueue", "video-monthly-azdorch-transition-overhead"];
    let mut lowest = f64::MAX;
    for partitions in [1.0, 2.0, 4.0, 8.0] {
        for dmax in [30.0, 120.0] {
            for qmax in [1.0, 5.0, 60.0] {
                for peek in [10.0, 30.0] {
                    // Under GPv2 prices, where the video overhead can be in its band (under
                    // GPv1 it is about 6 % of compute whatever the polling).
                    let dir = models_with(
                        &format!("t{partitions}-{dmax}-{qmax}-{peek}"),
                        &[
                            ("az-durable.toml", "task_hub", "partition_count", partitions),
                            ("az-durable.toml", "polling", "max_interval_s", dmax),
                            ("profiles/iiswc21.toml", "models.az-queue", "polling.max_interval_s", qmax),
                            ("az-durable.toml", "task_hub", "scale_controller_peek_interval_s", peek),
                        ],
                    );
                    let dir = with_account_kind(dir, "gpv2");
                    let t = targets(&dir, &ids);
                    let at = format!(
                        "partitions {partitions}, durable max {dmax} s, queue max {qmax} s, peek {peek} s: {:?} {:?}",
                        t[0].0, t[1].0
                    );
                    assert!(!(t[0].1 && t[1].1), "meets both: {at}");
                    lowest = lowest.min(t[0].0["value"]);
                }
            }
        }
    }
    assert!(lowest > 1.25, "the queue transaction ratio reaches its band ({lowest}): check the video overhead there");
}

/// Az-Queue's transaction cost against Az-Dorch's (1.6-2.5) and the queue transaction ratio
/// (0.8-1.25). With one storage account, each kind of transaction has one price for both
/// deployments; Az-Queue's are queue transactions and a few blob transfers of payloads over the
/// message limit, Az-Dorch's are queue, table and blob (large messages, partition leases)
/// transactions, and Az-Dorch also counts more queue transactions. Whatever the price of each
/// class (queue 0.1-11x GPv1's, 11x being GPv2's; table 0 or its one price; blob 0 to GPv2's hot
/// prices, list and lease classes included) and however
/// the task hub's partitions and the queue trigger's polling are set, Az-Queue's cost stays
/// below Az-Dorch's: the cost ratio is never met, with or without the transaction ratio.
#[test]
fn no_price_or_polling_setting_makes_az_queue_transactions_cost_double() {
    let ids = ["ml-train-transaction-cost-azqueue-vs-azdorch", "ml-train-queue-transactions-azdorch-vs-azqueue"];
    let mut highest: f64 = 0.0;
    // $ per 10,000: a tenth of GPv1's queue price, GPv1's, GPv2's (11x); no table charge or
    // the table price of both kinds; no blob charge, a tenth of GPv2's hot prices, GPv2's.
    for queue_price in [0.000036, 0.00036, 0.004] {
        for table_price in [0.0, 0.00036] {
            for blob_scale in [0.0, 0.1, 1.0] {
                for partitions in [1.0, 4.0] {
                    for qmax in [5.0, 60.0] {
                        // The account in use (GPv1, the study era's default) with each price
                        // class set: queue classes 1 and 2, table, and every blob class.
                        let dir = models_with(
                            &format!("c{queue_price}-{table_price}-{blob_scale}-{partitions}-{qmax}"),
                            &[
                                ("az-storage.toml", "gpv1", "queue_class1_usd_per_10k", queue_price),
                                ("az-storage.toml", "gpv1", "queue_class2_usd_per_10k", queue_price),
                                ("az-storage.toml", "gpv1", "table_usd_per_10k", table_price),
                                ("az-storage.toml", "gpv1", "blob_read_usd_per_10k", 0.004 * blob_scale),
                                ("az-storage.toml", "gpv1", "blob_write_usd_per_10k", 0.05 * blob_scale),
                                ("az-storage.toml", "gpv1", "blob_list_usd_per_10k", 0.05 * blob_scale),
                                ("az-storage.toml", "gpv1", "blob_lease_usd_per_10k", 0.004 * blob_scale),
                                ("az-durable.toml", "task_hub", "partition_count", partitions),
                                ("profiles/iiswc21.toml", "models.az-queue", "polling.max_interval_s", qmax),
                            ],
                        );
                        let t = targets(&dir, &ids);
                        let at = format!(
                            "queue ${queue_price}, table ${table_price}, blob x{blob_scale}, partitions {partitions}, queue max {qmax} s: {:?} {:?}",
                            t[0].0, t[1].0
                        );
                        assert!(!(t[0].1 && t[1].1), "meets both: {at}");
                        assert!(t[0].0["value"] < 1.0, "Az-Queue's transactions cost more than Az-Dorch's: {at}");
                        highest = highest.max(t[0].0["value"]);
                    }
                }
            }
        }
    }
    assert!(highest < 1.6, "{highest}");
}
