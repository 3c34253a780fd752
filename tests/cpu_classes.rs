//! CPU speed by code class (crates/platform/src/cpu.rs, models/aws-lambda.toml `cpu_speed` and
//! `vector_speed`): the SeBS artifact's August-2020 runs of the same Python code rate a Lambda
//! core of the study's era 1.49x an Azure Consumption core on scalar code (503.graph-bfs) and
//! 1.041-1.103x on vectorized DNN inference (411.image-recognition, per vCPU of credit at five
//! memory sizes from 512 to 3,008 MB; the models take their median, 1.05).
//!
//! Fig. 6 has AWS-Step ahead of every Azure implementation in ML training (scikit-learn's
//! scalar fits), Fig. 12 Az-Func equal to AWS-Lambda on the video (OpenCV's DNN face detector).
//! Until session 16 one speed rated every kind of code, and no ratio of Lambda's to Azure's
//! met both (ML needs Lambda about 15 % ahead, the video at most 10 %): that is asserted again
//! here, with the classed speeds meeting both, and what the video parity rests on: the
//! detector's single thread (`function.worker_threads`). On both of the two vCPUs Lambda shows
//! (1.16 vCPU of credit at 2 GB) Az-Func is about 1.2x AWS-Lambda.

use crate::common;

use common::conflicts::{models_with, outcomes};

const IDS: [&str; 2] = ["ml-train-awsstep-beats-azure", "video-azfunc-eq-awslambda"];

fn run(tag: &str, scalar: f64, vector: f64, threads: u32) -> (bool, bool, f64) {
    let edits = [
        ("aws-lambda.toml", "cpu_speed", scalar),
        ("aws-lambda.toml", "vector_speed", vector),
        ("aws-lambda.toml", "worker_threads", f64::from(threads)),
    ];
    let r = outcomes(models_with(tag, &edits), &IDS, 1);
    let (order, parity) = (&r[IDS[0]], &r[IDS[1]]);
    (order.pass, parity.pass, parity.values["value"])
}

#[test]
fn classed_cpu_speeds_meet_the_ml_order_and_the_video_parity_where_one_speed_cannot() {
    let mut rows = Vec::new();
    // One speed for every kind of code, Lambda's against the Azure core's.
    let (mut order_met, mut parity_met) = (0, 0);
    for k in 0..=12 {
        let r = 0.80 + 0.05 * f64::from(k);
        let (order, parity, value) = run(&format!("one-{k}"), r, r, 1);
        rows.push(format!("one speed {r:.2}: AWS-Step beats Azure {order} | Az-Func / AWS-Lambda video {value:.3} ({parity})"));
        order_met += usize::from(order);
        parity_met += usize::from(parity);
        assert!(!(order && parity), "one speed meets both:\n{}", rows.join("\n"));
    }
    assert!(order_met > 0 && parity_met > 0, "the one-speed sweep does not reach both targets:\n{}", rows.join("\n"));
    // The SeBS ratings: scalar 1.49; vectorized 1.041 (the lowest of the five memory sizes),
    // 1.05 (their median, the models'), 1.103 (the highest, at 2,048 MB).
    for (k, vector) in [1.041, 1.05, 1.103].into_iter().enumerate() {
        let (order, parity, value) = run(&format!("sebs-{k}"), 1.49, vector, 1);
        rows.push(format!("scalar 1.49, vectorized {vector}: AWS-Step beats Azure {order} | video {value:.3} ({parity})"));
        assert!(order, "the scalar rating puts AWS-Step ahead in ML:\n{}", rows.join("\n"));
        assert!((0.98..1.14).contains(&value), "the video ratio follows the vectorized rating:\n{}", rows.join("\n"));
        if vector <= 1.05 {
            assert!(parity, "Az-Func equals AWS-Lambda on the video at the models' rating or below:\n{}", rows.join("\n"));
        }
        // The detector on both of Lambda's vCPUs: 1.16 vCPU of credit at 2 GB.
        let (_, parity2, value2) = run(&format!("threads-{k}"), 1.49, vector, 2);
        rows.push(format!("  with two threads: video {value2:.3} ({parity2})"));
        assert!(!parity2 && value2 > 1.15, "two threads take Lambda ahead on the video:\n{}", rows.join("\n"));
    }
    eprintln!("{}", rows.join("\n"));
}

/// Every target of the set `calibration/targets/<set>.toml` as `sfsim reproduce --format json`
/// reports it (the command must succeed).
fn evaluated_targets(set: &str) -> Vec<serde_json::Value> {
    let out = common::TempDir::new(set);
    let file = format!("calibration/targets/{set}.toml");
    let o = common::sfsim(&[
        "reproduce",
        "--targets",
        &file,
        "--format",
        "json",
        "-q",
        "--out",
        out.to_str().expect("the temporary directory's path is UTF-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["sets"][0]["targets"].as_array().expect("targets").clone()
}

/// The rating's own source as a target set (calibration/targets/sebs2020-cpu.toml): SeBS's
/// graph-bfs and ResNet on Lambda at every memory size of the artifact, their bodies Azure's
/// medians on the reference core. Every row within 10 % of the measured median (7 of the 12
/// are the rows the rating was derived from), and the graph-bfs rows below 2,048 MB, held out of
/// the rating, within 6.5 %: Lambda's CPU credit (memory / 1,769 MB per 20 ms CFS period) for one
/// thread.
#[test]
fn the_sebs_2020_rows_follow_the_rating_and_lambdas_cpu_credit() {
    let targets = evaluated_targets("sebs2020-cpu");
    assert_eq!(targets.len(), 12);
    let measured_ms = [("128", 865.655), ("256", 424.887), ("512", 203.183), ("1024", 98.459), ("1536", 68.621)];
    for t in &targets {
        assert_eq!(t["pass"], true, "{t}");
    }
    for (mb, ms) in measured_ms {
        let t = targets.iter().find(|t| t["id"] == format!("sebs2020-bfs-lambda-{mb}")).expect("row");
        let got_ms = t["values"]["value"].as_f64().expect("value") * 1000.0;
        // The bodies are fixed, so these values do not move with the seed: the largest error
        // is 5.9 % (256 MB: 400 ms, 20 CFS periods of 2.9 ms of CPU, against 424.9 measured);
        // a change of the credit model or the rating that moves any row by more than about a
        // point fails here before it reaches the band.
        assert!((got_ms / ms - 1.0).abs() < 0.065, "{mb} MB: {got_ms} ms against {ms} ms");
    }
}

/// Profile 2024's rating of Lambda's cores (models/profiles/2024.toml `cpu_speed` and
/// `vector_speed`, one speed for all code) against its own source as a target set
/// (calibration/targets/sebs2024-cpu.toml): SeBS-Flow's 2024 bodies of 680.excamera (encode,
/// reencode, rebase at 256 MB) and 650.vid (analyse at 2,048 MB), Azure's medians on the
/// reference core run on Lambda. The rating is the median of the four rows' per-vCPU ratios, so
/// the rows pin it: each value is the body over the rating and Lambda's credit (one thread), and
/// the errors against the measured medians are what one speed for four bodies leaves (-4.7,
/// -15.4, +23.9 and +4.3 %).
#[test]
fn the_sebs_flow_2024_rows_follow_profile_2024s_rating() {
    // (id, Azure body s, Lambda memory MB, Lambda measured median s)
    let rows = [
        ("sebs2024-encode-lambda-256", 7.052, 256.0, 30.080),
        ("sebs2024-reencode-lambda-256", 2.286, 256.0, 10.987),
        ("sebs2024-rebase-lambda-256", 1.947, 256.0, 6.389),
        ("sebs2024-analyse-lambda-2048", 36.6, 2048.0, 20.65),
    ];
    let credit = |mb: f64| f64::min(mb / 1769.0, 1.0);
    // The rating: the median of the per-vCPU ratios, rounded to two decimals, is the profile's
    // speed on both classes of code.
    let mut ratios: Vec<f64> = rows.iter().map(|&(_, az, mb, aws)| az / (aws * credit(mb))).collect();
    ratios.sort_by(f64::total_cmp);
    let median = (ratios[1] + ratios[2]) / 2.0;
    let builtin = sfsim_platform::params::Models::builtin().expect("built-in models");
    let changes = builtin.profile_changes("2024").expect("profile 2024").expect("parses");
    let lambda = builtin.with_overrides(&changes).expect("applies").lambda;
    let rating = lambda.function.cpu_speed.value;
    assert_eq!(lambda.function.vector_speed.map(|p| p.value), Some(rating), "one speed for all code");
    assert!((median - rating).abs() < 0.005, "median ratio {median} against the profile's {rating}: {ratios:?}");
    let targets = evaluated_targets("sebs2024-cpu");
    assert_eq!(targets.len(), rows.len());
    let expected_error = [-0.047, -0.154, 0.239, 0.043];
    for ((id, az, mb, aws), err) in rows.into_iter().zip(expected_error) {
        let t = targets.iter().find(|t| t["id"] == id).expect("row");
        assert_eq!(t["pass"], true, "{t}");
        let got = t["values"]["value"].as_f64().expect("value");
        let predicted = az / (rating * credit(mb));
        assert!((got / predicted - 1.0).abs() < 0.01, "{id}: {got} s against the rating's {predicted} s");
        assert!((got / aws - 1.0 - err).abs() < 0.015, "{id}: {got} s against the measured {aws} s");
    }
}
