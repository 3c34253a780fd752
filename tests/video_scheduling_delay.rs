//! Fig. 14's per-worker scheduling delay (about half of the workers wait 40 s, 5 % about 270 s
//! or more) as the mechanisms give it: the tail is the 5-minute lock of work a removed host held,
//! and hosts are removed while busy because the platform carries a scale-in decision out later
//! (`task_hub.scale_in_lag_s`, fitted: calibration/fit-durable-scale-in.toml), when the next
//! execution's fan-out has reached them. Without the lag, or with a short lock, the tail goes.

use crate::common;

use common::conflicts::{models_with, targets};

const IDS: [&str; 2] = ["video-azure-scheduling-delay-p50", "video-azure-scheduling-delay-p95"];

fn p95(t: &[(std::collections::BTreeMap<String, f64>, bool)]) -> f64 {
    t[1].0.values().copied().next().expect("a p95")
}

#[test]
fn the_delay_tail_is_the_lock_of_work_a_host_held_when_its_removal_came() {
    let none: [(&str, &str, f64); 0] = [];
    let base = targets(&models_with("delay-base", &none), &IDS);
    assert!(base[0].1, "the median met with the built-in models: {:?}", base[0].0);
    // Pinned (default seed; the band is 200-340 s, met on 6 of 10 seeds: calibration/
    // deviations.toml lists it as seed-dependent; 339.4 s at the default seed since session 29).
    assert!((p95(&base) - 339.4).abs() < 10.0, "p95 {} s, recorded 339.4 s", p95(&base));
    let at_once = targets(&models_with("delay-no-lag", &[("az-durable.toml", "scale_in_lag_s", 0.0)]), &IDS);
    assert!(p95(&at_once) < 150.0, "removals carried out at once hit few busy hosts: p95 {} s", p95(&at_once));
    let short_lock = targets(&models_with("delay-lock", &[("az-durable.toml", "work_item_visibility_timeout_s", 30.0)]), &IDS);
    assert!(p95(&short_lock) < 150.0, "a 30 s lock brings the held work back sooner: p95 {} s", p95(&short_lock));
}
