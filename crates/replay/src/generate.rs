//! Synthetic traces in exactly the public formats, for tests, benches and `sfsim replay
//! --generate-test-trace`.
//!
//! **Models.** Not a fit of the real traces: enough variety to exercise the readers and the
//! policies. In a 2019 day, a quarter of the functions are timers (one invocation every 1..30
//! minutes, random phase) and the rest draw Poisson counts per minute at a rate log-uniform in
//! [0.01, 20] per minute; durations have a median log-uniform in [10 ms, 10 s] and fixed ratios
//! for the other percentiles; app memory is log-uniform in [50, 500] MB. The 2021 file has
//! Poisson arrivals per app (rates log-uniform in [0.001, 1] per second), log-normal durations
//! (median 0.5 s, sigma 1.5), rows sorted by end as in the real file.
//!
//! Everything is drawn from named streams of [`sfsim_engine::RngStreams`]: same seed, same files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Poisson};
use sfsim_engine::{RngStreams, SimRng};

use crate::TraceError;
use crate::trace::{MINUTES, files_2019};

fn io_err(path: &Path, e: std::io::Error) -> TraceError {
    TraceError::whole_file(&path.display().to_string(), format!("cannot write: {e}"))
}

fn log_uniform(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

fn hash(rng: &mut SimRng) -> String {
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// Writes day `day` of a 2019-format trace (`apps` apps of `functions` functions each) into
/// `dir`; returns the number of invocations written.
pub fn generate_2019(dir: &Path, day: u32, seed: u64, apps: usize, functions: usize) -> Result<u64, TraceError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let streams = RngStreams::new(seed, 0);
    let mut rng = streams.stream("generate/2019");
    let [inv_path, dur_path, mem_path] = files_2019(dir, day);
    let create = |p: &Path| File::create(p).map(|f| BufWriter::with_capacity(1 << 16, f)).map_err(|e| io_err(p, e));
    let (mut inv, mut dur, mut mem) = (create(&inv_path)?, create(&dur_path)?, create(&mem_path)?);
    let mut total = 0u64;
    let write_all = |w: &mut BufWriter<File>, p: &Path, s: &str| w.write_all(s.as_bytes()).map_err(|e| io_err(p, e));
    let mut header = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=MINUTES {
        header += &format!(",{m}");
    }
    write_all(&mut inv, &inv_path, &(header + "\n"))?;
    write_all(
        &mut dur,
        &dur_path,
        "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n",
    )?;
    write_all(
        &mut mem,
        &mem_path,
        "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,\
         AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100\n",
    )?;
    for _ in 0..apps {
        let (owner, app) = (hash(&mut rng), hash(&mut rng));
        let mb = log_uniform(&mut rng, 50.0, 500.0);
        let pct: Vec<String> = [0.6, 0.7, 0.85, 1.0, 1.1, 1.3, 1.5, 1.8].iter().map(|f| format!("{:.3}", mb * f)).collect();
        write_all(&mut mem, &mem_path, &format!("{owner},{app},{},{mb:.3},{}\n", rng.random_range(10..1000u32), pct.join(",")))?;
        for _ in 0..functions {
            let func = hash(&mut rng);
            let timer = rng.random::<f64>() < 0.25;
            let mut row = format!("{owner},{app},{func},{}", if timer { "timer" } else { "http" });
            let mut count = 0u64;
            if timer {
                let period = rng.random_range(1..=30usize);
                let phase = rng.random_range(0..period);
                for m in 0..MINUTES {
                    let c = u64::from(m % period == phase);
                    count += c;
                    row += if c == 1 { ",1" } else { ",0" };
                }
            } else {
                let rate = log_uniform(&mut rng, 0.01, 20.0);
                let poisson = Poisson::new(rate).expect("a positive finite rate");
                for _ in 0..MINUTES {
                    let c = poisson.sample(&mut rng) as u64;
                    count += c;
                    row += &format!(",{c}");
                }
            }
            total += count;
            write_all(&mut inv, &inv_path, &(row + "\n"))?;
            let median_ms = log_uniform(&mut rng, 10.0, 10_000.0);
            let p: Vec<f64> = [0.3, 0.5, 0.8, 1.0, 1.3, 3.0, 5.0].iter().map(|f| (median_ms * f).round()).collect();
            write_all(
                &mut dur,
                &dur_path,
                &format!(
                    "{owner},{app},{func},{:.0},{count},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0}\n",
                    median_ms * 1.2,
                    p[0],
                    p[6],
                    p[0],
                    p[1],
                    p[2],
                    p[3],
                    p[4],
                    p[5],
                    p[6]
                ),
            )?;
        }
    }
    for (w, p) in [(&mut inv, &inv_path), (&mut dur, &dur_path), (&mut mem, &mem_path)] {
        w.flush().map_err(|e| io_err(p, e))?;
    }
    Ok(total)
}

/// Writes a 2021-format trace to `path`: `apps` apps with one function each over `span_s`
/// seconds; returns the number of invocations written.
pub fn generate_2021(path: &Path, seed: u64, apps: usize, span_s: f64) -> Result<u64, TraceError> {
    let mut rng = RngStreams::new(seed, 0).stream("generate/2021");
    let lognormal = LogNormal::new(0.5f64.ln(), 1.5).expect("valid log-normal");
    let mut rows: Vec<(f64, u32, f64)> = Vec::new();
    let names: Vec<(String, String)> = (0..apps).map(|_| (hash(&mut rng), hash(&mut rng))).collect();
    for a in 0..apps {
        let rate = log_uniform(&mut rng, 0.001, 1.0);
        let mut t = 0.0;
        loop {
            t += -(1.0 - rng.random::<f64>()).ln() / rate;
            if t >= span_s {
                break;
            }
            let d = lognormal.sample(&mut rng).min(600.0);
            rows.push((t + d, a as u32, d));
        }
    }
    rows.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    write_2021(path, rows.iter().map(|&(end, a, d)| (names[a as usize].0.as_str(), names[a as usize].1.as_str(), end, d)))
}

/// Writes 2021-format rows `(app, func, end_timestamp, duration)` as given; returns the count.
pub fn write_2021<'a>(path: &Path, rows: impl IntoIterator<Item = (&'a str, &'a str, f64, f64)>) -> Result<u64, TraceError> {
    let f = File::create(path).map_err(|e| io_err(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 16, f);
    let mut n = 0u64;
    writeln!(w, "app,func,end_timestamp,duration").map_err(|e| io_err(path, e))?;
    for (app, func, end, d) in rows {
        writeln!(w, "{app},{func},{end:.6},{d:.6}").map_err(|e| io_err(path, e))?;
        n += 1;
    }
    w.flush().map_err(|e| io_err(path, e))?;
    Ok(n)
}
