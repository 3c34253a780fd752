//! Readers, policies and oracles of the trace replay on generated traces.

use std::path::{Path, PathBuf};

use sfsim_engine::{SimDuration, SimTime};
use sfsim_replay::trace::{Trace, files_2019};
use sfsim_replay::{
    Azure2019, Azure2021, Invocation, Placement, Policy, PolicyReport, Replayer, TraceError, generate_2019, generate_2021, replay,
};

/// A fresh folder for one test's files under cargo's per-target scratch folder (target/tmp),
/// named by the test only: a run replaces the last run's files instead of leaving its own
/// beside them (one folder per process under /tmp filled CI's disk).
fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("replay-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A trace held in memory (for the oracles).
struct Mem {
    invs: std::vec::IntoIter<Invocation>,
    horizon: SimTime,
}
impl Iterator for Mem {
    type Item = Result<Invocation, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.invs.next().map(Ok)
    }
}
impl Trace for Mem {
    fn app_memory_mb(&self, _: u32) -> f64 {
        128.0
    }
    fn horizon(&self) -> SimTime {
        self.horizon
    }
    fn app_count(&self) -> usize {
        0
    }
}

// `Mem` owns its iterator (a `vec::IntoIter`), so the copy is needed.
#[allow(clippy::unnecessary_to_owned)]
fn run(invs: &[Invocation], policies: &[Policy]) -> Vec<PolicyReport> {
    let horizon = invs.iter().map(|i| i.start + i.duration).max().unwrap_or_default();
    replay(&mut Mem { invs: invs.to_vec().into_iter(), horizon }, policies, SimDuration::ZERO).expect("in-memory trace")
}

fn day_2019(name: &str, seed: u64) -> (PathBuf, Vec<Invocation>, u64) {
    let dir = tmp(name);
    let written = generate_2019(&dir, 1, seed, 12, 3).expect("generate");
    let invs: Vec<Invocation> = Azure2019::open(&dir, 1, seed).expect("open").collect::<Result<_, _>>().expect("parse");
    (dir, invs, written)
}

fn fixed(secs: u64) -> Policy {
    Policy::Fixed(Some(SimDuration::from_secs(secs)))
}

#[test]
fn parses_2019_and_expands_every_count() {
    let (_dir, invs, written) = day_2019("parse19", 7);
    assert!(written > 10_000, "{written}");
    assert_eq!(invs.len() as u64, written);
    assert!(invs.windows(2).all(|w| w[0].start <= w[1].start));
    assert!(invs.iter().all(|i| i.start < SimTime::from_secs_f64(86_400.0) && i.duration > SimDuration::ZERO));
    // Even placement: a count of c in minute m gives starts spread evenly inside the minute,
    // never on a minute boundary; the same counts per minute as the random placement.
    let even: Vec<Invocation> = Azure2019::open_with(&_dir, 1, 7, Placement::Even).expect("open").collect::<Result<_, _>>().expect("parse");
    assert_eq!(even.len(), invs.len());
    assert!(even.iter().all(|i| i.start.0 % 60_000_000_000 != 0));
    let per_minute = |v: &[Invocation]| {
        let mut m = vec![0u32; 1440];
        for i in v {
            m[(i.start.0 / 60_000_000_000) as usize] += 1;
        }
        m
    };
    assert_eq!(per_minute(&even), per_minute(&invs));
    assert_ne!(even, invs, "random placement is not the even grid");
}

#[test]
fn random_placement_shows_the_overlap_even_spacing_hides() {
    // One function, two invocations in every minute, each running 20 s. Evenly spaced (30 s
    // apart) they never overlap: one instance serves the day. Placed at random in the minute,
    // two starts fall within 20 s of each other with probability 1 - (40/60)^2 = 5/9 per minute
    // (and neighbouring minutes add more): a second instance is needed.
    let dir = tmp("placement");
    let [inv, dur, _] = files_2019(&dir, 1);
    let mut header = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=1440 {
        header += &format!(",{m}");
    }
    let row = format!("o,a,f,http{}", ",2".repeat(1440));
    std::fs::write(&inv, format!("{header}\n{row}\n")).expect("write");
    std::fs::write(
        &dur,
        "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n\
         o,a,f,20000,2880,20000,20000,20000,20000,20000,20000,20000,20000,20000\n",
    )
    .expect("write");
    let go = |p: Placement| {
        let mut t = Azure2019::open_with(&dir, 1, 5, p).expect("open");
        replay(&mut t, &[Policy::Fixed(None)], SimDuration::ZERO).expect("replay").remove(0)
    };
    let (even, random) = (go(Placement::Even), go(Placement::Random));
    assert_eq!(even.invocations, 2880);
    assert_eq!(even.cold_starts, 1, "evenly spaced, one instance is always free");
    assert!(random.cold_starts >= 2, "random placement overlaps executions: {random:?}");
}

#[test]
fn malformed_2019_rows_name_file_and_line() {
    let dir = tmp("bad19");
    generate_2019(&dir, 1, 3, 2, 2).expect("generate");
    let [inv, dur, _] = files_2019(&dir, 1);
    let text = std::fs::read_to_string(&inv).expect("read");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replacen(",0", ",x", 1).replacen(",1", ",x", 1);
    std::fs::write(&inv, lines.join("\n") + "\n").expect("write");
    let e = Azure2019::open(&dir, 1, 3).expect_err("bad count");
    assert_eq!((e.file.as_str(), e.line), (inv.display().to_string().as_str(), 3), "{e}");
    assert!(e.to_string().contains(":3: column"), "{e}");

    generate_2019(&dir, 1, 3, 2, 2).expect("generate");
    let text = std::fs::read_to_string(&dur).expect("read");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cols: Vec<&str> = lines[4].split(',').collect();
    cols[9] = "-5";
    lines[4] = cols.join(",");
    std::fs::write(&dur, lines.join("\n") + "\n").expect("write");
    let e = Azure2019::open(&dir, 1, 3).expect_err("negative percentile");
    assert_eq!((e.file.as_str(), e.line), (dur.display().to_string().as_str(), 5), "{e}");

    let e = Azure2019::open(&dir, 2, 3).expect_err("no day 2");
    assert_eq!(e.line, 0);
    assert!(e.file.ends_with("invocations_per_function_md.anon.d02.csv"), "{e}");
}

#[test]
fn parses_2021_resorting_starts_and_rejects_bad_rows() {
    let dir = tmp("parse21");
    let path = dir.join("AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt");
    let n = generate_2021(&path, 5, 20, 6.0 * 3600.0).expect("generate");
    let invs: Vec<Invocation> = Azure2021::open(&path).expect("open").collect::<Result<_, _>>().expect("parse");
    assert_eq!(invs.len() as u64, n);
    assert!(invs.windows(2).all(|w| w[0].start <= w[1].start), "starts re-sorted");

    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "app,func,end_timestamp,duration\na,f,1.0,0.5\na,f,2.0,abc\n").expect("write");
    let e = Azure2021::open(&bad).expect("header ok").collect::<Result<Vec<_>, _>>().expect_err("bad duration");
    assert_eq!((e.file.as_str(), e.line), (bad.display().to_string().as_str(), 3), "{e}");

    // A row ending late with a duration longer than the window's slack: out of start order.
    let late = dir.join("late.txt");
    let mut text = String::from("app,func,end_timestamp,duration\n");
    for k in 0..100 {
        text += &format!("a,f,{}.0,0.1\n", 10 * k);
    }
    text += "b,g,1000.0,995.0\n";
    std::fs::write(&late, text).expect("write");
    let e = Azure2021::with_window(&late, SimDuration::from_secs(60)).expect("open").collect::<Result<Vec<_>, _>>().expect_err("order");
    assert_eq!(e.line, 102, "{e}");
    assert!(e.message.contains("lookahead window"), "{e}");
    // A larger window sorts it.
    let ok: Vec<Invocation> =
        Azure2021::with_window(&late, SimDuration::from_secs(1000)).expect("open").collect::<Result<_, _>>().expect("sorted");
    assert_eq!(ok.len(), 101);

    let e = match Azure2021::open(&dir.join("nope.txt")) {
        Err(e) => e,
        Ok(_) => panic!("missing file opened"),
    };
    assert_eq!(e.line, 0);
}

#[test]
fn zero_keep_alive_makes_every_start_cold() {
    let (_d, invs, _) = day_2019("ka0", 11);
    let r = &run(&invs, &[fixed(0)])[0];
    assert_eq!(r.cold_starts, r.invocations);
    assert_eq!(r.idle_instance_s, 0.0);
    assert_eq!(r.p75_app_cold_start_pct, 100.0);
}

/// Peak number of simultaneously running executions per app (ends before starts at equal times).
fn peak_concurrency(invs: &[Invocation]) -> u64 {
    let mut per_app: std::collections::BTreeMap<u32, Vec<(u64, i64)>> = Default::default();
    for i in invs {
        let e = per_app.entry(i.app).or_default();
        e.push((i.start.0, 1));
        e.push(((i.start + i.duration).0, -1));
    }
    per_app
        .into_values()
        .map(|mut ev| {
            ev.sort();
            let (mut cur, mut peak) = (0i64, 0i64);
            for (_, d) in ev {
                cur += d;
                peak = peak.max(cur);
            }
            peak as u64
        })
        .sum()
}

#[test]
fn infinite_keep_alive_cold_starts_equal_peak_concurrency() {
    let (_d, invs, _) = day_2019("kainf", 13);
    let r = &run(&invs, &[Policy::Fixed(None)])[0];
    assert_eq!(r.cold_starts, peak_concurrency(&invs));
    // Same on a 2021 trace.
    let dir = tmp("kainf21");
    let path = dir.join("t.txt");
    generate_2021(&path, 2, 30, 3.0 * 3600.0).expect("generate");
    let invs: Vec<Invocation> = Azure2021::open(&path).expect("open").collect::<Result<_, _>>().expect("parse");
    assert_eq!(run(&invs, &[Policy::Fixed(None)])[0].cold_starts, peak_concurrency(&invs));
}

#[test]
fn longer_fixed_keep_alive_never_adds_cold_starts() {
    let (_d, invs, _) = day_2019("mono", 17);
    let ps: Vec<Policy> = [0, 1, 30, 60, 300, 600, 1200, 3600, 14_400].iter().map(|&s| fixed(s)).chain([Policy::Fixed(None)]).collect();
    let rs = run(&invs, &ps);
    for w in rs.windows(2) {
        assert!(w[1].cold_starts <= w[0].cold_starts, "{} {} > {} {}", w[1].policy, w[1].cold_starts, w[0].policy, w[0].cold_starts);
        assert!(w[1].idle_instance_s >= w[0].idle_instance_s - 1e-6, "{w:?}");
    }
    assert!(rs[0].cold_starts > rs[9].cold_starts);
}

#[test]
fn hybrid_learns_a_periodic_app() {
    // One invocation every 7 minutes for a day, 2 s each.
    let invs: Vec<Invocation> =
        (0..205u64).map(|k| Invocation { app: 0, start: SimTime(k * 420_000_000_000), duration: SimDuration::from_secs(2) }).collect();
    let rs = run(&invs, &[Policy::Hybrid { fallback: SimDuration::from_secs(600) }, fixed(14_400)]);
    let (hybrid, long) = (&rs[0], &rs[1]);
    // Cold only at the first invocation (the 10-minute fallback covers the warm-up).
    assert_eq!(hybrid.cold_starts, 1, "{hybrid:?}");
    assert_eq!(long.cold_starts, 1);
    assert!(hybrid.idle_instance_s < 0.3 * long.idle_instance_s, "{hybrid:?} vs {long:?}");
    // After warm-up the instance is loaded from 5.4 min to 7.7 min after each end: ~92 s idle per gap.
    let per_gap = hybrid.idle_instance_s / 204.0;
    assert!(per_gap < 150.0, "{per_gap}");

    // With a fallback shorter than the period, only the warm-up is cold.
    let rs = run(&invs, &[Policy::Hybrid { fallback: SimDuration::from_secs(60) }]);
    assert!(rs[0].cold_starts <= 11, "{:?}", rs[0]);
}

#[test]
fn hybrid_on_a_generated_day_is_sane() {
    let (_d, invs, _) = day_2019("hyb", 19);
    let rs = run(&invs, &[fixed(600), Policy::Hybrid { fallback: SimDuration::from_secs(600) }, fixed(0)]);
    assert!(rs[1].cold_starts <= rs[2].cold_starts);
    assert!(rs.iter().all(|r| r.invocations == invs.len() as u64 && r.apps == 12));
}

#[test]
fn same_seed_same_numbers() {
    let go = |seed: u64, name: &str| {
        let dir = tmp(name);
        generate_2019(&dir, 1, seed, 8, 2).expect("generate");
        let mut t = Azure2019::open(&dir, 1, seed).expect("open");
        replay(&mut t, &[fixed(600), Policy::parse("hybrid").expect("policy")], SimDuration::from_millis(250)).expect("replay")
    };
    let a = go(23, "det-a");
    let b = go(23, "det-b");
    let c = go(24, "det-c");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a[0].idle_memory_gb_s > 0.0);
}

#[test]
fn replayer_counts_reuse_exactly() {
    // Two overlapping executions, then a reuse and an expiry, under fixed:60s.
    let mut r = Replayer::new(fixed(60), SimDuration::ZERO);
    let at = |s: u64, d: u64| Invocation { app: 0, start: SimTime(s * 1_000_000_000), duration: SimDuration::from_secs(d) };
    for inv in [at(0, 10), at(5, 10), at(30, 1), at(200, 1)] {
        r.invoke(inv);
    }
    let rep = r.finish(SimTime(201_000_000_000), |_| 1024.0);
    // 0: cold, 5: cold, 30: warm (instance freed at 15), 200: cold (both expired).
    assert_eq!((rep.invocations, rep.cold_starts), (4, 3));
    // Idle: instance A freed 10 expires 70 -> 60 s; B freed 15 reused 30 -> 15 s, freed 31 expires 91 -> 60 s.
    assert!((rep.idle_instance_s - 135.0).abs() < 1e-9, "{rep:?}");
    assert!((rep.idle_memory_gb_s - 135.0).abs() < 1e-9);
}
