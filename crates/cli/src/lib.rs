//! # sfsim-cli
//!
//! Argument parsing and output only; everything else lives in the library crates.
//! Data goes to stdout (or `--out`), diagnostics to stderr. Exit codes: 0 ok, 1 runtime
//! failure, 2 usage error, 3 invalid input file.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sfsim_experiment::{RunOptions, resolve_deployments, run_scenario};
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::{LoadError, Override, Scenario, SourceFile};

mod progress;
mod shard;

/// Success.
pub const EXIT_OK: u8 = 0;
/// A runtime failure (e.g. an output file could not be written).
pub const EXIT_RUNTIME: u8 = 1;
/// A usage error (bad flags).
pub const EXIT_USAGE: u8 = 2;
/// An invalid input file (scenario or model).
pub const EXIT_INPUT: u8 = 3;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  runtime failure (e.g. an output file could not be written; an internal error, a bug
     in sfsim, says so)
  2  usage error (unknown flag, bad value)
  3  invalid input file (syntax, unknown key, wrong type, invalid value); the message names
     file:line:column and the key path

Examples:
  sfsim reproduce --check          # the study's targets, report in target/reproduce/
  sfsim reproduce --format json    # the same as one JSON document on stdout
  sfsim reproduce --update-baseline   # record today's values in calibration/baseline.toml
  sfsim run scenarios/paper/ml-training-large.toml
  sfsim run scenarios/paper/video.toml --deployment aws-lambda --format json
  sfsim run scenarios/paper/video.toml --set workflow.fan_out.workers.items=160 --trace video.json
  sfsim validate scenarios/paper/*.toml models/*.toml
  sfsim list";

const RUN_HELP: &str = "\
Exit codes:
  0  success
  1  runtime failure (an output or trace file cannot be written)
  2  usage error (unknown flag or deployment, bad value)
  3  invalid scenario or model file (file:line:column and key), or a run over the limits
     (the message gives the estimated work and memory)

Examples:
  sfsim run scenarios/paper/ml-training-large.toml
  sfsim run scenarios/paper/video.toml -d aws-lambda -d az-func --format json
  sfsim run scenarios/paper/video.toml --set workflow.fan_out.workers.items=160 --trace video.json
  sfsim run scenarios/paper/ml-training-small.toml --iterations 1000 --replications 8 --format csv";

const VALIDATE_HELP: &str = "\
Exit codes:
  0  every file is valid
  2  usage error
  3  at least one file is invalid (each error names file:line:column and key)

Examples:
  sfsim validate scenarios/paper/*.toml models/*.toml
  sfsim validate scenarios/sweeps/video-width.toml calibration/targets/paper.toml";

const LIST_HELP: &str = "\
Exit codes:
  0  success

Examples:
  sfsim list";

const REPRODUCE_HELP: &str = "\
Exit codes:
  0  success (with --check: every target met or a known deviation within its tolerance)
  1  --check failed (the message names the target), or the report cannot be written
  2  usage error (unknown --only target, bad value)
  3  invalid targets, experiments, deviations, baseline, scenario or model file

Examples:
  sfsim reproduce --check          # the study's targets, report in target/reproduce/
  sfsim reproduce --format json    # the same as one JSON document on stdout
  sfsim reproduce --only ml-train-durable-beats-queue --seeds 5
  sfsim reproduce --update-baseline   # record today's values in calibration/baseline.toml";

const CALIBRATE_HELP: &str = "\
Exit codes:
  0  success
  1  the model files cannot be written
  2  usage error
  3  invalid plan, experiments, scenario or model file

Examples:
  sfsim calibrate                                   # calibration/fit.toml, report only
  sfsim calibrate --plan calibration/fit.toml --write models --iterations 50";

const SWEEP_HELP: &str = "\
Exit codes:
  0  success
  1  the output cannot be written
  2  usage error (bad --shard, scheduler variables)
  3  invalid sweep or scenario file (errors in a value point at it in the sweep file), or a
     sweep over the limits (the message gives the estimated trials, work and memory)

Examples:
  sfsim sweep scenarios/sweeps/video-width.toml --count
  sfsim sweep scenarios/sweeps/video-width.toml --out video-width.jsonl
  sfsim sweep scenarios/sweeps/video-width.toml --shard 2/7 --out part2.jsonl";

const MERGE_HELP: &str = "\
Exit codes:
  0  success
  1  the output cannot be written
  3  missing, duplicate or mismatched shards

Examples:
  sfsim merge part*.jsonl --out video-width.jsonl";

const PLOT_HELP: &str = "\
Exit codes:
  0  success
  1  the figure cannot be written
  3  not a sweep result, or the key or metric is missing (the message names the line)

Examples:
  sfsim plot video-width.jsonl --x workflow.fan_out.workers.items --y latency_s.mean --out width.svg
  sfsim plot video-width.jsonl --x workflow.fan_out.workers.items --y cost_usd.total";

const COST_HELP: &str = "\
Exit codes:
  0  success (an unstable regime is a warning on stderr)
  1  --strict and a deployment is not stable (failures, throttles or a growing queue), or the
     output cannot be written
  2  usage error (a rate outside 1e-8/s..1e6/s, a period over 31 years, bad flags)
  3  invalid scenario or model file

Examples:
  sfsim cost scenarios/paper/video.toml --rate 1/min --period 30d
  sfsim cost scenarios/paper/video.toml --rate 10/s --period 1d --strict --format json
  sfsim cost scenarios/paper/ml-training-small.toml --rate 2/h --free-tier -d az-dorch";

const REPLAY_HELP: &str = "\
Exit codes:
  0  success (assumptions for rows the trace lacks are notes on stderr)
  1  runtime failure
  2  usage error (bad policy or duration)
  3  invalid trace (file:line, column), or a trace over the limits (10^7 invocations a minute,
     2x10^9 a day)

Examples:
  sfsim replay --generate-test-trace target/trace
  sfsim replay --azure-2019 target/trace --day 1 --policy fixed:10m --policy hybrid
  sfsim replay --azure-2021 scenarios/traces/azure-2021-sample.txt --format json";

/// sfsim: a discrete-event simulator of stateful serverless platforms (AWS Lambda + Step
/// Functions, Azure Functions + Durable Functions).
#[derive(Parser, Debug)]
#[command(name = "sfsim", version, about, after_help = AFTER_HELP, disable_help_subcommand = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a scenario on one or more deployments and print latency, breakdown, GB-s and cost.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Check input files without running them: scenarios, models, targets, baselines, deviations, sweeps, experiments and fit plans.
    #[command(after_help = VALIDATE_HELP)]
    Validate {
        /// Scenario (.toml with [scenario]) or model (.toml with [model]) files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List deployments, built-in models, and the scenarios and sweeps under ./scenarios (or
    /// the repository's, from another directory).
    #[command(after_help = LIST_HELP)]
    List,
    /// Run the study's experiments and put every target beside its simulated value
    /// (writes DIR/report.md and DIR/report.html).
    #[command(after_help = REPRODUCE_HELP)]
    Reproduce(ReproduceArgs),
    /// Fit the assumed model parameters named in a plan to the study's targets
    /// (coordinate search with golden-section steps over the simulator).
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Run a sweep (a scenario over --set values, deployments and replications), whole or one
    /// shard of it, as JSON Lines. See docs/cluster.md for Slurm and Kubernetes.
    #[command(after_help = SWEEP_HELP)]
    Sweep(SweepArgs),
    /// Join sweep shards into the file an unsharded run writes (refuses missing, duplicate or
    /// mismatched shards).
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// Shard files.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output file (default: stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Draw a sweep result as SVG lines per deployment.
    #[command(after_help = PLOT_HELP)]
    Plot(PlotArgs),
    /// Project the bill of a workload over a period at a rate, per deployment, including what
    /// accrues while idle (Durable polling, scale-controller peeks, lease renewals).
    #[command(after_help = COST_HELP)]
    Cost(CostArgs),
    /// Replay the Azure Functions public traces through a stateless instance pool under
    /// keep-alive policies; report cold starts and idle (kept-alive) instance and memory time.
    #[command(after_help = REPLAY_HELP)]
    Replay(ReplayArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(false).args(["azure_2019", "azure_2021", "generate_test_trace"])))]
struct ReplayArgs {
    /// Directory of the 2019 release (invocations_per_function_md.anon.dNN.csv,
    /// function_durations_percentiles.anon.dNN.csv, app_memory_percentiles.anon.dNN.csv).
    #[arg(long = "azure-2019", value_name = "DIR")]
    azure_2019: Option<PathBuf>,
    /// Day of the 2019 release (the NN of dNN; default 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=99), requires = "azure_2019")]
    day: Option<u32>,
    /// Where a 2019 minute's invocations start within it: random (uniform, seeded; default) or
    /// even (evenly spaced, which understates concurrency and cold starts).
    #[arg(long, value_name = "random|even", default_value = "random", value_parser = parse_placement, requires = "azure_2019")]
    placement: sfsim_replay::Placement,
    /// The 2021 release (AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt).
    #[arg(long = "azure-2021", value_name = "FILE")]
    azure_2021: Option<PathBuf>,
    /// Keep-alive policy (repeatable): fixed:T (fixed:10m AWS, fixed:20m Azure, fixed:0,
    /// fixed:inf) or hybrid[:T] (Shahrad et al. ATC'20; T = fallback keep-alive, default 10m).
    #[arg(long = "policy", value_name = "POLICY", value_parser = sfsim_replay::Policy::parse)]
    policies: Vec<sfsim_replay::Policy>,
    /// Seconds a cold start adds to the instance's busy time.
    #[arg(long, default_value_t = 0.0, value_parser = parse_non_negative)]
    cold_start_s: f64,
    /// Root seed (durations of the 2019 trace; generated traces).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReplayFormat::Table)]
    format: ReplayFormat,
    /// No progress or timing on stderr (notes about assumptions are still printed).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Write a small generated trace in both formats into DIR (day 1 of 2019 and the 2021 file)
    /// and exit.
    #[arg(long, value_name = "DIR")]
    generate_test_trace: Option<PathBuf>,
    /// With --generate-test-trace: apps in the 2019-format day (each of --functions functions).
    /// 2,600 apps of 4 functions make the 30-million-invocation day of the README's speed table.
    /// Default 20.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    apps: Option<u32>,
    /// With --generate-test-trace: functions per app in the 2019-format day (default 3).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    functions: Option<u32>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReplayFormat {
    Table,
    Json,
}

fn parse_quantile(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(q) if (0.0..=1.0).contains(&q) => Ok(q),
        Ok(q) => Err(format!("{q} is not a quantile: it must be within [0, 1]")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

fn parse_placement(s: &str) -> Result<sfsim_replay::Placement, String> {
    sfsim_replay::Placement::parse(s).ok_or_else(|| format!("`{s}`: expected random or even"))
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=sfsim_workflow::MAX_SECONDS).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds in [0, {:e}]", sfsim_workflow::MAX_SECONDS)),
    }
}

#[derive(clap::Args, Debug)]
struct CostArgs {
    /// The scenario file (its arrivals are replaced by Poisson arrivals at --rate).
    scenario: PathBuf,
    /// Deployment (repeatable); default: the scenario's.
    #[arg(long = "deployment", short = 'd', value_name = "NAME")]
    deployments: Vec<String>,
    /// Requests per unit time: 10/s, 30/min, 1/h, 2/d.
    #[arg(long, value_parser = sfsim_experiment::cost::parse_rate)]
    rate: f64,
    /// Period: 30d, 12h, 1w, 3600s.
    #[arg(long, value_parser = sfsim_experiment::cost::parse_period, default_value = "30d")]
    period: f64,
    /// Executions simulated to estimate per-execution costs (the whole period if fewer).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    window: u64,
    /// Subtract the platforms' monthly free grants (the study priced without them).
    #[arg(long)]
    free_tier: bool,
    /// A daily load profile: 24 comma-separated multipliers of --rate, one per hour from
    /// midnight (e.g. quiet nights, busy afternoons).
    #[arg(long, value_name = "M0,M1,...,M23", value_parser = sfsim_experiment::cost::parse_profile)]
    daily_profile: Option<[f64; 24]>,
    /// Override a scenario key (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    set: Vec<Override>,
    /// Root seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Load platform models from DIR instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Exit with status 1 when a deployment's regime is not stable (over 1 % of executions
    /// failed or throttled, or a queue that grows without bound in the simulated window).
    #[arg(long)]
    strict: bool,
    /// Write the output to FILE instead of stdout (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// No warnings on stderr (`--strict` still fails).
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// The sweep file.
    sweep: PathBuf,
    /// Run shard I of N (0-based), e.g. 2/7.
    #[arg(long, value_name = "I/N", conflicts_with = "shard_from_env")]
    shard: Option<String>,
    /// Take the shard from the scheduler: a Slurm job array (SLURM_ARRAY_TASK_ID, and without
    /// --shards SLURM_ARRAY_TASK_COUNT/MIN/MAX/STEP) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX, with --shards or SFSIM_SHARD_COUNT). See docs/cluster.md.
    #[arg(long)]
    shard_from_env: bool,
    /// With --shard-from-env: the shard count N; the scheduler's index (SLURM_ARRAY_TASK_ID or
    /// JOB_COMPLETION_INDEX) is then the shard index, so one task can be rerun alone
    /// (`sbatch --array=2`).
    #[arg(long, value_name = "N", requires = "shard_from_env", value_parser = clap::value_parser!(u64).range(1..))]
    shards: Option<u64>,
    /// Output file (default: stdout), written atomically.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the number of trials and exit.
    #[arg(long)]
    count: bool,
    /// Load platform models from DIR instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct PlotArgs {
    /// A sweep result (JSON Lines).
    result: PathBuf,
    /// The swept key on the x axis (e.g. workflow.fan_out.workers.items).
    #[arg(long)]
    x: String,
    /// The metric on the y axis: a JSON path into the summary (latency_s.mean, gb_s,
    /// cost_usd.total, worker_latency_s.p99, ...).
    #[arg(long)]
    y: String,
    /// Output SVG file (default: stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CalibrateArgs {
    /// The fit plan: parameters, ranges, the targets they serve and optional cross-validation
    /// groups (repeatable: the plans are fitted together) [default: calibration/fit.toml, found
    /// as README's "Running from any directory" says].
    #[arg(long = "plan", value_name = "FILE")]
    plans: Vec<PathBuf>,
    /// A targets file (repeatable: one fit serves the targets of every set, and a plan may name
    /// ids of any; default: the study's, built in). A file may name its `experiments` at its
    /// top level, relative to itself.
    #[arg(long = "targets", value_name = "FILE")]
    targets: Vec<PathBuf>,
    /// The experiments file, for target sets whose file names none; with one set, it overrides
    /// the file's key [default: scenarios/paper/experiments.toml, found likewise].
    #[arg(long, value_name = "FILE")]
    experiments: Option<PathBuf>,
    /// Executions per configuration in each evaluation (default: each experiment's, as
    /// `reproduce` runs them; fewer is faster, noisier).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    iterations: Option<u64>,
    /// Coordinate-search passes.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=20))]
    passes: u64,
    /// Golden-section steps per parameter and pass (each one simulator evaluation, plus two).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    steps: u64,
    /// Searches per fit (and per cross-validation fold): from the usual start, then from N - 1
    /// more points spread over the parameters' ranges (a Halton sequence), keeping the best; for
    /// objectives with several minima, where one search from the centres can stop in a poor one
    /// (N times slower).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    starts: u64,
    /// Root seed (default: each scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Seeds each evaluation runs, those of `sfsim reproduce --seeds N` (the root seed, then
    /// the default seed + 1 .. N - 1); the objective combines them (--over-seeds), so the fit
    /// holds across seeds (N times slower). The report shows the root seed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    seeds: u64,
    /// How each target's objective is combined over the seeds: `mean`, or `worst` (the target
    /// counts as far outside its band as on its worst seed, so the fit prefers values that meet
    /// it on every seed, as `reproduce --seeds N` asks; a mean can trade one seed's verdict for
    /// a lower mean).
    #[arg(long, value_enum, default_value_t = OverSeedsArg::Mean)]
    over_seeds: OverSeedsArg,
    /// Also refit with each target group left out in turn (groups: the plan's `[[group]]`s,
    /// else each target's experiment) and report the left-out targets' distance from their
    /// bands. Full fit and refits start from the centres of the ranges.
    #[arg(long)]
    cross_validate: bool,
    /// Output on stdout: the table, or the whole result as JSON.
    #[arg(long, value_enum, default_value_t = ReproduceFormat::Table)]
    format: ReproduceFormat,
    /// Write the fitted values into the model files under DIR (rebuild to use them).
    #[arg(long, value_name = "DIR", conflicts_with = "cross_validate")]
    write: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct ReproduceArgs {
    /// Directory for report.md and report.html.
    #[arg(long, value_name = "DIR", default_value = "target/reproduce")]
    out: PathBuf,
    /// Exit with status 1 when a target fails that its deviations file does not list, a listed
    /// one passes, or a known deviation's value leaves the tolerance its baseline records
    /// (the message names the target, its recorded and new values and the tolerance). A met
    /// target whose value left its tolerance is a warning.
    #[arg(long)]
    check: bool,
    /// Rewrite each set's baseline (built-in targets: calibration/baseline.toml) from this run,
    /// atomically, keeping the tolerances already there; run at the default seed and iterations.
    #[arg(long, conflicts_with_all = ["seed", "iterations"])]
    update_baseline: bool,
    /// Evaluate only this target (repeatable); only the experiments it needs run.
    #[arg(long = "only", value_name = "ID")]
    only: Vec<String>,
    /// Executions per configuration (default: each experiment's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    iterations: Option<u64>,
    /// Root seed (default: each scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Also run the next N-1 seeds and report, per target, in how many of the N it is met
    /// (the verdicts and --check use the first seed).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    seeds: u64,
    /// Output on stdout: the table, or the whole result as JSON (per target: id, source,
    /// verdict, pass, values, band, recorded values, tolerance, drift, fitted_by, seeds_met, and
    /// a listed deviation's reason, conflicts and tests; per set its conflict bound; totals;
    /// seed; iterations). Progress stays on stderr.
    #[arg(long, value_enum, default_value_t = ReproduceFormat::Table)]
    format: ReproduceFormat,
    /// The experiments file, for target sets whose file names none (`experiments = "..."`);
    /// with one set, it overrides the file's key [default: scenarios/paper/experiments.toml].
    #[arg(long, value_name = "FILE")]
    experiments: Option<PathBuf>,
    /// A targets file (repeatable: each set is evaluated and reported in its own section;
    /// default: the study's, built in). A file may name its `experiments`, `deviations` and
    /// `baseline` files at its top level, relative to itself.
    #[arg(long = "targets", value_name = "FILE")]
    targets: Vec<PathBuf>,
    /// Known deviations: targets not met, with the reason (default: the targets file's
    /// `deviations`; calibration/deviations.toml, built in, for the built-in targets). With one
    /// set, it overrides the file's key; with several, it serves the sets that name none.
    #[arg(long, value_name = "FILE")]
    deviations: Option<PathBuf>,
    /// Recorded values and tolerances (default: the targets file's `baseline`;
    /// calibration/baseline.toml, built in, for the built-in targets; none: no drift check).
    /// With one set, it overrides the file's key; with several, it serves the sets that name none.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Load platform models from DIR instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OverSeedsArg {
    Mean,
    Worst,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReproduceFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Deployment to run (repeatable); default: the scenario's `deployments`.
    #[arg(long = "deployment", short = 'd', value_name = "NAME")]
    deployments: Vec<String>,
    /// Executions per replication (overrides the scenario).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    iterations: Option<u64>,
    /// Independent replications, run in parallel (overrides the scenario).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    replications: Option<u64>,
    /// Root seed (overrides the scenario; default 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario key, e.g. --set workflow.fan_out.workers.items=80 (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    set: Vec<Override>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output to FILE instead of stdout (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// With the table format: every column (about 200 characters wide) instead of the
    /// 120-column table.
    #[arg(long)]
    wide: bool,
    /// Write a Chrome Trace Event JSON timeline (open in ui.perfetto.dev) of every replication
    /// of every deployment: each (deployment, replication) is a process of its own, named
    /// `<deployment> replication <r>` when there are several; streamed, same bytes on any
    /// thread count.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write one JSON line per execution (every replication): arrival, end, outcome, error,
    /// cold start, start delay (null if no function started), cost, breakdown, and each
    /// invocation's start, end, cold flag and the instance that ran it.
    #[arg(long, value_name = "FILE.jsonl")]
    executions: Option<PathBuf>,
    /// Latency quantiles to report beside p50, p95 and p99, comma-separated, each in [0, 1]
    /// (e.g. `0.9,0.999`).
    #[arg(long, value_name = "Q,...", value_delimiter = ',', value_parser = parse_quantile)]
    quantiles: Vec<f64>,
    /// Load platform models from DIR instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// No diagnostics on stderr except errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

enum Failure {
    Input(LoadError),
    /// Input errors already printed; the message summarizes them.
    Invalid(String),
    Usage(String),
    /// A usage error in the scheduler's variables (`--shard-from-env`): exit 2 like any usage
    /// error, without the `--help` hint (the message names the variables and the fix).
    Environment(String),
    Runtime(String),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Input(e)
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => EXIT_OK,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    install_panic_report();
    let result = guarded(|| dispatch(cli.command));
    exit_code(result)
}

/// A panic is a bug in sfsim, not in the input: its report says so (Rust's default names a
/// thread and a source line and nothing else), and the command ends with the runtime failure's
/// exit code instead of 101. Outputs are written through temporaries that their guards remove
/// as the panic unwinds, so nothing half-written is left.
fn install_panic_report() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!(
            "error: internal error, a bug in sfsim and not in the input: {what}{at}\n\
             Please report it with the command line and input files that gave it."
        );
    }));
}

/// Runs `f`, turning a panic (reported by the hook) into a runtime failure.
fn guarded(f: impl FnOnce() -> Result<(), Failure>) -> Result<(), Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Failure::Runtime("the command stopped at the internal error above".to_string())))
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run(args) => cmd_run(&args),
        Command::Validate { files } => cmd_validate(&files),
        Command::List => cmd_list(),
        Command::Reproduce(args) => cmd_reproduce(&args),
        Command::Calibrate(args) => cmd_calibrate(&args),
        Command::Sweep(args) => cmd_sweep(&args),
        Command::Merge { shards, out } => cmd_merge(&shards, out.as_deref()),
        Command::Plot(args) => cmd_plot(&args),
        Command::Cost(args) => cmd_cost(&args),
        Command::Replay(args) => cmd_replay(&args),
    }
}

fn exit_code(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(Failure::Input(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
        Err(Failure::Invalid(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_INPUT)
        }
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}\n\nFor more information, try '--help'.");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Environment(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn load_models(dir: Option<&Path>) -> Result<Models, LoadError> {
    match dir {
        Some(d) => Models::from_dir(d),
        None => Models::builtin(),
    }
}

fn cmd_run(a: &RunArgs) -> Result<(), Failure> {
    for name in &a.deployments {
        if Deployment::from_name(name).is_none() {
            let known: Vec<&str> = Deployment::ALL.iter().map(|d| d.name()).collect();
            return Err(Failure::Usage(format!("unknown deployment `{name}` for --deployment{}", sfsim_workflow::suggest(name, &known))));
        }
    }
    let scenario = Scenario::load(&a.scenario, &a.set)?;
    let models = load_models(a.models.as_deref())?;
    let deployments = resolve_deployments(&scenario, &a.deployments)?;
    // A streamed output whose directory does not exist is refused before any work, once, with
    // the path as typed (not once per fragment, with the fragments' hidden names).
    for path in [&a.trace, &a.executions].into_iter().flatten() {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(Failure::Runtime(format!("cannot write {}: directory {} does not exist", path.display(), dir.display())));
        }
    }
    // A timeline and the executions stream to one fragment file per (deployment, replication)
    // beside their target; the fragments are joined, in that order, into a temporary renamed
    // into place with the output, or removed.
    let fragment = |path: &Path, tag: &str| {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        dir.join(format!(".{name}.part-{tag}-{}", std::process::id()))
    };
    let replications = a.replications.unwrap_or(scenario.replications);
    // Each replication of each deployment is a process of its own in the timeline (pid
    // d x replications + r + 1), named after the deployment, and its replication when there
    // are several.
    let trace = a.trace.clone().map(|path| {
        let f = move |d: usize, r: u64, name: &str| -> Box<dyn sfsim_platform::TraceSink> {
            let pid = d * replications as usize + r as usize + 1;
            let process = if replications > 1 { format!("{name} replication {r}") } else { name.to_string() };
            Box::new(sfsim_report::TraceFragment::create(&fragment(&path, &format!("t{d}r{r}")), pid, &process))
        };
        sfsim_experiment::TraceFactory(std::sync::Arc::new(f))
    });
    let executions = a.executions.clone().map(|path| {
        let f = move |d: usize, r: u64, name: &str| -> Box<dyn sfsim_platform::ExecSink> {
            Box::new(sfsim_report::ExecutionsFragment::create(&fragment(&path, &format!("e{d}r{r}")), name, r))
        };
        sfsim_experiment::ExecFactory(std::sync::Arc::new(f))
    });
    let opts = RunOptions {
        iterations: a.iterations,
        replications: a.replications,
        seed: a.seed,
        trace,
        executions,
        quantiles: a.quantiles.clone(),
    };
    let started = std::time::Instant::now();
    let result = progress::with_progress("sfsim run", a.quiet, progress::Count::Simulations, || {
        run_scenario(&scenario, &deployments, &models, &opts)
    });
    let parts = |path: &Option<PathBuf>, kind: char| -> Vec<PathBuf> {
        match path {
            Some(path) => (0..deployments.len())
                .flat_map(|d| (0..replications).map(move |r| (d, r)))
                .map(|(d, r)| fragment(path, &format!("{kind}{d}r{r}")))
                .collect(),
            None => Vec::new(),
        }
    };
    let trace_fragments = parts(&a.trace, 't');
    let exec_fragments = parts(&a.executions, 'e');
    let fragments: Vec<PathBuf> = trace_fragments.iter().chain(&exec_fragments).cloned().collect();
    let remove = |paths: &[PathBuf]| {
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
    };
    let result = match result {
        Ok(r) if r.trace_errors.is_empty() => r,
        Ok(r) => {
            remove(&fragments);
            return Err(Failure::Runtime(format!("cannot write the trace or executions: {}", r.trace_errors.join("; "))));
        }
        Err(e) => {
            remove(&fragments);
            return Err(e.into());
        }
    };
    // A fan-out cut into payload-sized chunks starts no worker without a chunk: said on stderr
    // (even with -q: it changes what the numbers mean), and in the JSON (`fan_out_chunks`).
    for note in result.results.iter().flat_map(|r| r.fan_out_notes()) {
        eprintln!("sfsim run: note: {note}");
    }
    if !a.quiet {
        let events: u64 = result.results.iter().map(|r| r.events).sum();
        eprintln!(
            "sfsim: {} on {} deployment(s), {} x {} executions, seed {}: {} events in {:.3} s",
            result.scenario,
            deployments.len(),
            result.replications,
            result.iterations,
            result.seed,
            events,
            started.elapsed().as_secs_f64()
        );
    }
    let text = match a.format {
        Format::Table if a.wide => sfsim_report::render_table_wide(&result),
        Format::Table => sfsim_report::render_table(&result),
        Format::Json => sfsim_report::render_json(&result),
        Format::Csv => sfsim_report::render_csv(&result),
    };
    // Write every file or none: the trace and the output are staged together.
    let mut ready: Vec<(PathBuf, &Path)> = Vec::new();
    if let Some(path) = &a.executions {
        let tmp = fragment(path, "tmp-e");
        let joined = sfsim_report::assemble_lines(&exec_fragments, &tmp);
        remove(&exec_fragments);
        if let Err(e) = joined {
            remove(&fragments);
            remove(&[tmp]);
            return Err(Failure::Runtime(format!("cannot write {}: {e}", path.display())));
        }
        ready.push((tmp, path.as_path()));
    }
    if let Some(path) = &a.trace {
        let tmp = fragment(path, "tmp-t");
        let joined = sfsim_report::assemble_trace(&trace_fragments, &tmp);
        remove(&trace_fragments);
        if let Err(e) = joined {
            remove(&[tmp]);
            return Err(Failure::Runtime(format!("cannot write {}: {e}", path.display())));
        }
        ready.push((tmp, path.as_path()));
    }
    let mut files: Vec<(&Path, &[u8])> = Vec::new();
    if let Some(path) = &a.out {
        files.push((path.as_path(), text.as_bytes()));
    }
    sfsim_report::write_all_atomic_with(ready, &files)
        .map_err(|(path, e)| Failure::Runtime(format!("cannot write {}: {e}", path.display())))?;
    if a.out.is_none() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| Failure::Runtime(format!("cannot write to stdout: {e}")))?;
    }
    Ok(())
}

/// The targets a deviations or baseline file speaks of, when it is one: those of a targets file
/// beside it or in `targets/` next to it that names it (`key` of that file's top level), else,
/// when it has its kind's key (`keyed`), the study's. Without the key, the folders are searched
/// only when `unkeyed_may_be` (an empty file; one with other keys is something else).
fn targets_of(
    file: &Path,
    keyed: bool,
    unkeyed_may_be: bool,
    key: impl Fn(&sfsim_calibration::TargetFile) -> Option<&str>,
) -> Result<Option<Vec<sfsim_calibration::Target>>, LoadError> {
    if !keyed && !unkeyed_may_be {
        return Ok(None);
    }
    match target_file_naming(file, key) {
        Some(targets) => Ok(Some(targets)),
        None if keyed => sfsim_calibration::load_targets(&SourceFile::from_text(
            "calibration/targets/paper.toml (built in)",
            sfsim_calibration::PAPER_TARGETS,
        ))
        .map(Some),
        None => Ok(None),
    }
}

/// The targets of the targets file beside `file` or in `targets/` next to it that names it
/// (`key` of that file's top level), if one does.
fn target_file_naming(file: &Path, key: impl Fn(&sfsim_calibration::TargetFile) -> Option<&str>) -> Option<Vec<sfsim_calibration::Target>> {
    let me = std::fs::canonicalize(file).ok();
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    for d in [dir.to_path_buf(), dir.join("targets")] {
        for p in toml_files(&d) {
            let Ok(src) = SourceFile::read(&p) else { continue };
            let Ok(tf) = sfsim_calibration::load_target_file(&src) else { continue };
            if let Some(rel) = key(&tf)
                && me.is_some()
                && std::fs::canonicalize(sfsim_calibration::TargetFile::resolve(&p, rel)).ok() == me
            {
                return Some(tf.targets);
            }
        }
    }
    None
}

fn cmd_validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut invalid = 0usize;
    for f in files {
        let outcome = SourceFile::read(f).and_then(|src| {
            let table = toml::from_str::<toml::Table>(&src.text).ok();
            let has = |k: &str| table.as_ref().is_some_and(|t| t.contains_key(k));
            // No key at all (comments only): a deviations or baseline file with nothing listed,
            // when a targets file names it so.
            let empty = table.as_ref().is_some_and(toml::Table::is_empty);
            if has("model") {
                Models::validate_file(&src).map(|name| format!("model {name}"))
            } else if has("target") {
                sfsim_calibration::load_targets(&src).map(|t| format!("{} targets", t.len()))
            } else if let Some(targets) = targets_of(f, has("deviation"), empty, |t| t.deviations.as_deref())? {
                // Deviations name targets: checked against the targets file that names this file
                // (`deviations = "..."`), else the study's built-in targets.
                sfsim_calibration::load_deviations(&src, &targets).map(|d| format!("{} known deviations", d.len()))
            } else if let Some(targets) = targets_of(f, has("recorded"), empty, |t| t.baseline.as_deref())? {
                // Recorded values name targets: likewise (`baseline = "..."`).
                sfsim_calibration::load_baseline(&src, &targets).map(|b| format!("{} recorded targets", b.len()))
            } else if has("parameter") || has("group") {
                // A fit plan: its parameters must be fittable (in the built-in models, not a
                // documented fact) and its target ids known to a target set beside it (the
                // files of `targets/` next to the plan, else the study's built-in targets).
                let sets = plan_target_sets(f)?;
                let plan = sfsim_calibration::load_fit_plan(f, &model_texts(None)?, &sets)?;
                Ok(format!("fit plan with {} parameter(s), {} group(s)", plan.parameters.len(), plan.groups.len()))
            } else if has("sweep") {
                let sw = sfsim_experiment::sweep::Sweep::load(f)?;
                Ok(format!("sweep {} with {} trials", sw.name, sw.count()?))
            } else if has("experiment") {
                let xs = sfsim_calibration::load_experiments(f)?;
                for x in &xs {
                    let sc = Scenario::load(&x.scenario, &x.set)?;
                    resolve_deployments(&sc, &x.deployments)?;
                }
                Ok(format!("{} experiments", xs.len()))
            } else if empty {
                // Nothing to go by: saying "missing field `scenario`" would guess wrong as often
                // as right.
                Err(LoadError::whole_file(
                    &f.display().to_string(),
                    "the file has no key, so its kind cannot be told: a scenario has [scenario], a model [model], \
                     targets [[target]], an experiments file [[experiment]], a sweep [sweep], a fit plan \
                     [[parameter]]; a deviations or baseline file with nothing listed is recognized when a \
                     targets file beside it (or in targets/ next to it) names it with `deviations = \"...\"` \
                     or `baseline = \"...\"`",
                ))
            } else {
                let s = Scenario::from_source(src, &[])?;
                resolve_deployments(&s, &[])?;
                let builtin = Models::builtin()?;
                // The models the scenario runs with (its profile and overrides), so that what
                // they allow or refuse is what `run` allows or refuses.
                let models = sfsim_experiment::scenario_models(&s, &builtin)?;
                // Build every deployment the file configures or lists, so that a configuration
                // a platform rejects (Azure memory, an az-queue fan-out, a Durable-only key on
                // another deployment) is reported here: the check every run makes.
                sfsim_experiment::build_deployments(&s, &models, &[])?;
                Ok(format!("scenario {}", s.name))
            }
        });
        match outcome {
            Ok(what) => println!("ok: {} ({what})", f.display()),
            Err(e) => {
                eprintln!("error: {e}");
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        return Err(Failure::Invalid(format!("{invalid} of {} files invalid", files.len())));
    }
    Ok(())
}

/// The `*.toml` files directly in `dir`, sorted (none when it cannot be read).
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

/// The target sets a fit plan's ids are checked against by `validate`: every targets file in
/// the `targets/` folder beside the plan (as `calibration/fit.toml` has `calibration/targets/`),
/// else the study's built-in targets.
fn plan_target_sets(plan: &Path) -> Result<Vec<sfsim_calibration::FitSet>, LoadError> {
    let dir = plan.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("targets");
    match load_fit_sets(&toml_files(&dir), None) {
        Ok(sets) => Ok(sets),
        Err(Failure::Input(e)) => Err(e),
        Err(_) => Err(LoadError::whole_file(&plan.display().to_string(), format!("the target sets in {} cannot be loaded", dir.display()))),
    }
}

/// Where a target set's files come from.
struct SetFiles {
    /// The targets file as shown.
    name: String,
    targets: Vec<sfsim_calibration::Target>,
    /// Every target of the file, whatever `--only` keeps (the baseline is rewritten whole).
    all_targets: Vec<sfsim_calibration::Target>,
    experiments: PathBuf,
    deviations: sfsim_calibration::Deviations,
    deviations_name: Option<String>,
    baseline: Option<sfsim_calibration::Baseline>,
    baseline_name: Option<String>,
    /// Where `--update-baseline` writes (None for a set without a baseline file).
    baseline_path: Option<PathBuf>,
}

const DEFAULT_EXPERIMENTS: &str = "scenarios/paper/experiments.toml";
const PAPER_BASELINE_PATH: &str = "calibration/baseline.toml";

/// The repository's data files (the study's experiments and scenarios, the fit plans, the
/// baseline) when a command uses them by default, from any directory. The rule (README,
/// "Running from any directory"): the path relative to the current directory if it exists
/// there, else under `$SFSIM_HOME`, else under the source tree the binary was built from. Paths
/// the user types are taken as typed.
fn data_path(rel: &str) -> PathBuf {
    data_roots().into_iter().map(|r| r.join(rel)).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from(rel))
}

/// Where [`data_path`] looks, in order.
fn data_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from(".")];
    if let Some(h) = std::env::var_os("SFSIM_HOME") {
        roots.push(PathBuf::from(h));
    }
    // crates/cli -> the workspace root.
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    roots.push(built.canonicalize().unwrap_or(built));
    roots
}

/// `p` without a leading `./` (as the user would write it).
fn shown(p: &Path) -> PathBuf {
    p.strip_prefix(".").map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf())
}

/// Loads a target set: its targets, and its experiments, deviations and baseline files from
/// the command line (one set) or its own top-level keys, in that order of precedence when one
/// set is given; with several sets, a file's keys come first.
fn load_set(path: Option<&Path>, a: &ReproduceArgs, single: bool) -> Result<SetFiles, Failure> {
    use sfsim_calibration::{load_deviations, load_target_file};
    let Some(path) = path else {
        // The study's targets, deviations and baseline, built in.
        let src = SourceFile::from_text("calibration/targets/paper.toml (built in)", sfsim_calibration::PAPER_TARGETS);
        let file = load_target_file(&src)?;
        let deviations = match &a.deviations {
            Some(p) => (load_deviations(&SourceFile::read(p)?, &file.targets)?, p.display().to_string()),
            None => {
                let name = "calibration/deviations.toml (built in)";
                (load_deviations(&SourceFile::from_text(name, sfsim_calibration::PAPER_DEVIATIONS), &file.targets)?, name.to_string())
            }
        };
        let (baseline, baseline_name, baseline_path) = match &a.baseline {
            Some(p) => (read_baseline(p, &file.targets, a.update_baseline)?, p.display().to_string(), p.clone()),
            // Rewriting: start from the file that will be rewritten (its tolerances may have
            // been edited since the build), as `calibrate --write` does.
            None if a.update_baseline && data_path(PAPER_BASELINE_PATH).is_file() => {
                let p = shown(&data_path(PAPER_BASELINE_PATH));
                (read_baseline(&p, &file.targets, true)?, p.display().to_string(), p)
            }
            None => {
                let name = "calibration/baseline.toml (built in)";
                let b = sfsim_calibration::load_baseline(&SourceFile::from_text(name, sfsim_calibration::PAPER_BASELINE), &file.targets)?;
                (b, name.to_string(), shown(&data_path(PAPER_BASELINE_PATH)))
            }
        };
        return Ok(SetFiles {
            name: src.name.clone(),
            all_targets: file.targets.clone(),
            targets: file.targets,
            experiments: a.experiments.clone().unwrap_or_else(|| shown(&data_path(DEFAULT_EXPERIMENTS))),
            deviations: deviations.0,
            deviations_name: Some(deviations.1),
            baseline: Some(baseline),
            baseline_name: Some(baseline_name),
            baseline_path: Some(baseline_path),
        });
    };
    let src = SourceFile::read(path)?;
    let file = load_target_file(&src)?;
    // A file the targets file names must exist; the error points at its key.
    let named = |key: &str, rel: &Option<String>, may_be_missing: bool| -> Result<Option<PathBuf>, Failure> {
        let Some(rel) = rel else { return Ok(None) };
        let p = sfsim_calibration::TargetFile::resolve(path, rel);
        if !may_be_missing && !p.is_file() {
            return Err(Failure::Input(
                src.key_error(sfsim_workflow::KeyError::new(key, format!("no file {} (paths are relative to this file)", p.display()))),
            ));
        }
        Ok(Some(p))
    };
    let pick = |cli: &Option<PathBuf>, own: Option<PathBuf>| if single { cli.clone().or(own) } else { own.or_else(|| cli.clone()) };
    let experiments =
        pick(&a.experiments, named("experiments", &file.experiments, false)?).unwrap_or_else(|| shown(&data_path(DEFAULT_EXPERIMENTS)));
    let deviations_path = pick(&a.deviations, named("deviations", &file.deviations, false)?);
    let baseline_path = pick(&a.baseline, named("baseline", &file.baseline, a.update_baseline)?);
    let deviations = match &deviations_path {
        Some(p) => load_deviations(&SourceFile::read(p)?, &file.targets)?,
        None => sfsim_calibration::Deviations::default(),
    };
    let baseline = match &baseline_path {
        Some(p) => Some(read_baseline(p, &file.targets, a.update_baseline)?),
        None => None,
    };
    Ok(SetFiles {
        name: src.name.clone(),
        all_targets: file.targets.clone(),
        targets: file.targets,
        experiments,
        deviations,
        deviations_name: deviations_path.map(|p| p.display().to_string()),
        baseline,
        baseline_name: baseline_path.as_ref().map(|p| p.display().to_string()),
        baseline_path,
    })
}

/// A baseline file; one that does not exist yet is empty when it is about to be written.
fn read_baseline(p: &Path, targets: &[sfsim_calibration::Target], updating: bool) -> Result<sfsim_calibration::Baseline, Failure> {
    if updating && !p.exists() {
        return Ok(sfsim_calibration::Baseline::default());
    }
    Ok(sfsim_calibration::load_baseline(&SourceFile::read(p)?, targets)?)
}

/// The model files' texts, as the models were loaded from them.
fn model_texts(dir: Option<&Path>) -> Result<Vec<(String, String)>, LoadError> {
    match dir {
        None => Ok(Models::builtin_texts()),
        Some(d) => Models::file_names().into_iter().map(|n| Models::read_in(d, &n).map(|s| (n, s.text))).collect(),
    }
}

fn cmd_reproduce(a: &ReproduceArgs) -> Result<(), Failure> {
    use std::collections::{BTreeMap, BTreeSet};
    let started = std::time::Instant::now();
    let paths: Vec<Option<&Path>> = if a.targets.is_empty() { vec![None] } else { a.targets.iter().map(|p| Some(p.as_path())).collect() };
    let single = paths.len() == 1;
    let mut sets = paths.iter().map(|p| load_set(*p, a, single)).collect::<Result<Vec<_>, _>>()?;
    if !a.only.is_empty() {
        for id in &a.only {
            if !sets.iter().any(|s| s.targets.iter().any(|t| &t.id == id)) {
                let known: Vec<&str> = sets.iter().flat_map(|s| s.targets.iter().map(|t| t.id.as_str())).collect();
                return Err(Failure::Usage(format!("unknown target `{id}` for --only{}", sfsim_workflow::suggest(id, &known))));
            }
        }
        for s in &mut sets {
            s.targets.retain(|t| a.only.contains(&t.id));
        }
        sets.retain(|s| !s.targets.is_empty());
    }
    let models = load_models(a.models.as_deref())?;
    let fitted = sfsim_calibration::fitted_targets(&model_texts(a.models.as_deref())?);
    let seed = a.seed.unwrap_or(sfsim_workflow::DEFAULT_SEED);
    // Experiments files are loaded, and their experiments run, once however many sets name them.
    let mut files: BTreeMap<PathBuf, Vec<sfsim_calibration::Experiment>> = BTreeMap::new();
    let mut runs: BTreeMap<(PathBuf, u64), BTreeMap<String, sfsim_calibration::ExperimentResult>> = BTreeMap::new();
    let mut report_sets = Vec::new();
    let mut shown: Vec<sfsim_calibration::ExperimentResult> = Vec::new();
    let mut shown_keys: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    let mut updates: Vec<(PathBuf, String)> = Vec::new();
    // Fan-outs that start fewer workers than they ask for (chunks), with the experiments.
    let mut notes = sfsim_experiment::FanOutNotes::default();
    for set in &sets {
        if !files.contains_key(&set.experiments) {
            files.insert(set.experiments.clone(), sfsim_calibration::load_experiments(&set.experiments)?);
        }
        let experiments = &files[&set.experiments];
        let needed: BTreeSet<&str> = set.targets.iter().flat_map(|t| t.experiments.iter().map(String::as_str)).collect();
        let chosen: Vec<&sfsim_calibration::Experiment> = experiments.iter().filter(|x| needed.contains(x.id.as_str())).collect();
        let mut results_of = |k: u64| -> Result<BTreeMap<String, sfsim_calibration::ExperimentResult>, Failure> {
            let cache = runs.entry((set.experiments.clone(), k)).or_default();
            let todo: Vec<&sfsim_calibration::Experiment> = chosen.iter().copied().filter(|x| !cache.contains_key(&x.id)).collect();
            let t0 = std::time::Instant::now();
            let seed_k = if k == 0 { a.seed } else { Some(seed + k) };
            let more = progress::with_progress("sfsim reproduce", a.quiet, progress::Count::Simulations, || {
                sfsim_calibration::run_experiments(todo.iter().copied(), &models, a.iterations, seed_k, |r, took| {
                    for s in r.results.iter().chain(r.sweep.iter().flat_map(|(_, s)| s)) {
                        notes.add(s, &r.id);
                    }
                    if !a.quiet && k == 0 {
                        eprintln!("sfsim reproduce: {} ({} deployment(s)) in {:.2} s", r.id, r.results.len(), took.as_secs_f64());
                    }
                })
            })?;
            if !a.quiet && k > 0 && !todo.is_empty() {
                eprintln!("sfsim reproduce: seed {} in {:.2} s", seed + k, t0.elapsed().as_secs_f64());
            }
            cache.extend(more);
            Ok(chosen.iter().filter_map(|x| cache.get(&x.id).map(|r| (x.id.clone(), r.clone()))).collect())
        };
        let results = results_of(0)?;
        let outcomes = sfsim_calibration::evaluate_all(&set.targets, &results);
        // Robustness: the same reproduction under further seeds.
        let mut met: BTreeMap<String, u64> = outcomes.iter().map(|o| (o.id.clone(), u64::from(o.pass))).collect();
        for k in 1..a.seeds {
            for o in sfsim_calibration::evaluate_all(&set.targets, &results_of(k)?) {
                *met.entry(o.id).or_default() += u64::from(o.pass);
            }
        }
        // The report shows the experiments in file order, each once.
        for x in &chosen {
            if shown_keys.insert((set.experiments.clone(), x.id.clone()))
                && let Some(r) = results.get(&x.id)
            {
                shown.push(r.clone());
            }
        }
        let drift: Vec<Option<sfsim_calibration::TargetDrift>> =
            outcomes.iter().map(|o| set.baseline.as_ref().and_then(|b| sfsim_calibration::drift(o, b))).collect();
        if a.update_baseline {
            match &set.baseline_path {
                Some(p) => {
                    let old = set.baseline.clone().unwrap_or_default();
                    updates.push((p.clone(), sfsim_calibration::render_baseline(&set.all_targets, &outcomes, &old, &set.deviations)));
                }
                None => {
                    return Err(Failure::Usage(format!(
                        "--update-baseline: {} names no baseline; add `baseline = \"FILE\"` to it or give --baseline FILE",
                        set.name
                    )));
                }
            }
        }
        report_sets.push(sfsim_report::TargetSet {
            name: set.name.clone(),
            experiments_name: set.experiments.display().to_string(),
            deviations_name: set.deviations_name.clone(),
            baseline_name: set.baseline_name.clone(),
            outcomes,
            deviations: set.deviations.clone(),
            drift,
            // The baseline is recorded at each scenario's seed and each experiment's iterations.
            drift_checked: a.seed.is_none() && a.iterations.is_none(),
            fitted: fitted.clone(),
            seeds_met: (a.seeds > 1).then_some((met, a.seeds)),
        });
    }
    // Said once (even with -q: it changes what the numbers mean).
    for (n, ids) in notes.sentences() {
        eprintln!("sfsim reproduce: note: {n} (experiment(s) {})", ids.join(", "));
    }
    let figures = sfsim_report::reproduction_figures(&shown);
    let paper_only = a.targets.is_empty();
    let report = sfsim_report::Reproduction {
        title: if paper_only { "sfsim reproduction of Shahidi et al., IISWC 2021" } else { "sfsim reproduction" },
        sets: &report_sets,
        experiments: &shown,
        seed,
        iterations: a.iterations,
        figures: &figures,
    };
    let md = sfsim_report::render_reproduction_md(&report);
    let html = sfsim_report::render_reproduction_html(&report);
    let fig_dir = a.out.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", fig_dir.display())))?;
    let md_path = a.out.join("report.md");
    let html_path = a.out.join("report.html");
    let fig_paths: Vec<PathBuf> = figures.iter().map(|(stem, _, _)| fig_dir.join(format!("{stem}.svg"))).collect();
    let mut out_files: Vec<(&Path, &[u8])> = vec![(md_path.as_path(), md.as_bytes()), (html_path.as_path(), html.as_bytes())];
    for (p, (_, _, svg)) in fig_paths.iter().zip(&figures) {
        out_files.push((p.as_path(), svg.as_bytes()));
    }
    sfsim_report::write_all_atomic(&out_files).map_err(|(p, e)| Failure::Runtime(format!("cannot write {}: {e}", p.display())))?;
    let text = match a.format {
        ReproduceFormat::Table => sfsim_report::render_reproduction_table(&report),
        ReproduceFormat::Json => sfsim_report::render_reproduction_json(&report),
    };
    write_output(None, &text)?;
    let warnings: Vec<String> = report_sets.iter().flat_map(sfsim_report::TargetSet::drift_warnings).collect();
    if !a.quiet {
        for s in &report_sets {
            let passed = s.outcomes.iter().filter(|o| o.pass).count();
            let known = (0..s.outcomes.len()).filter(|&i| s.verdict(i) == sfsim_calibration::Verdict::Known).count();
            eprintln!("sfsim reproduce: {}: {passed} of {} targets within their bands, {known} known deviations", s.name, s.outcomes.len());
        }
        if !report_sets.iter().all(|s| s.drift_checked) {
            eprintln!("sfsim reproduce: drift against the baseline is shown, not judged: --seed or --iterations differ from its run");
        }
        eprintln!("sfsim reproduce: {} and {} written in {:.2} s", md_path.display(), html_path.display(), started.elapsed().as_secs_f64());
    }
    for w in &warnings {
        eprintln!("warning: drift beyond tolerance (a met target, so not a --check failure): {w}");
    }
    if a.update_baseline {
        let files: Vec<(&Path, &[u8])> = updates.iter().map(|(p, t)| (p.as_path(), t.as_bytes())).collect();
        sfsim_report::write_all_atomic(&files).map_err(|(p, e)| Failure::Runtime(format!("cannot write {}: {e}", p.display())))?;
        for (p, _) in &updates {
            eprintln!(
                "sfsim reproduce: wrote {}{}",
                p.display(),
                if p.ends_with(PAPER_BASELINE_PATH) { "; rebuild to use it built in" } else { "" }
            );
        }
    }
    if a.check {
        let mut problems: Vec<String> = Vec::new();
        for s in &report_sets {
            let unexpected: Vec<String> = (0..s.outcomes.len())
                .filter(|&i| !s.verdict(i).expected())
                .map(|i| format!("{} ({})", s.outcomes[i].id, s.verdict(i).word()))
                .collect();
            if !unexpected.is_empty() {
                problems.push(format!(
                    "{} target(s) changed against {}: {}",
                    unexpected.len(),
                    s.deviations_name.as_deref().unwrap_or("an empty deviations list"),
                    unexpected.join(", ")
                ));
            }
            // When rewriting the baseline, drift is being accepted.
            if !a.update_baseline {
                let drifted = s.drift_failures();
                if !drifted.is_empty() {
                    problems.push(format!(
                        "{} known deviation(s) left their recorded value's tolerance ({}):\n  {}",
                        drifted.len(),
                        s.baseline_name.as_deref().unwrap_or_default(),
                        drifted.join("\n  ")
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Runtime(format!("--check: {}", problems.join("\n"))));
        }
    }
    Ok(())
}

/// The target sets `calibrate` fits against: each file's targets and its experiments (the
/// file's `experiments` key, or --experiments; with one set --experiments comes first).
fn load_fit_sets(paths: &[PathBuf], experiments: Option<&PathBuf>) -> Result<Vec<sfsim_calibration::FitSet>, Failure> {
    use std::collections::BTreeMap;
    let single = paths.len() <= 1;
    let mut files: BTreeMap<PathBuf, Vec<sfsim_calibration::Experiment>> = BTreeMap::new();
    let mut sets: Vec<sfsim_calibration::FitSet> = Vec::new();
    let entries: Vec<Option<&Path>> = if paths.is_empty() { vec![None] } else { paths.iter().map(|p| Some(p.as_path())).collect() };
    for path in entries {
        let src = match path {
            None => SourceFile::from_text("calibration/targets/paper.toml (built in)", sfsim_calibration::PAPER_TARGETS),
            Some(p) => SourceFile::read(p)?,
        };
        let file = sfsim_calibration::load_target_file(&src)?;
        let own = match (path, &file.experiments) {
            (Some(path), Some(rel)) => {
                let p = sfsim_calibration::TargetFile::resolve(path, rel);
                if !p.is_file() {
                    return Err(Failure::Input(src.key_error(sfsim_workflow::KeyError::new(
                        "experiments",
                        format!("no file {} (paths are relative to this file)", p.display()),
                    ))));
                }
                Some(p)
            }
            _ => None,
        };
        let cli = experiments.cloned();
        let chosen = if single { cli.or(own) } else { own.or(cli) }.unwrap_or_else(|| shown(&data_path(DEFAULT_EXPERIMENTS)));
        if !files.contains_key(&chosen) {
            files.insert(chosen.clone(), sfsim_calibration::load_experiments(&chosen)?);
        }
        for t in &file.targets {
            if let Some(other) = sets.iter().find(|s| s.targets.iter().any(|u| u.id == t.id)) {
                return Err(Failure::Usage(format!(
                    "target `{}` is in both {} and {}: ids must be unique across sets",
                    t.id, other.name, src.name
                )));
            }
        }
        sets.push(sfsim_calibration::FitSet { name: src.name.clone(), targets: file.targets, experiments: files[&chosen].clone() });
    }
    Ok(sets)
}

/// A target outcome's values as `label value` pairs (the value alone when it has one).
fn outcome_values(o: &sfsim_calibration::TargetOutcome) -> String {
    if o.values.is_empty() {
        return o.simulated.clone();
    }
    o.values.iter().map(|(l, v)| if l == "value" { fmt4(*v) } else { format!("{l} {}", fmt4(*v)) }).collect::<Vec<_>>().join(", ")
}

/// Four significant digits.
fn fmt4(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let d = (3 - x.abs().max(1e-300).log10().floor() as i64).clamp(0, 12) as usize;
    format!("{x:.d$}")
}

fn outcome_json(o: &sfsim_calibration::TargetOutcome, distance: Option<f64>) -> serde_json::Value {
    let values: serde_json::Map<String, serde_json::Value> = o.values.iter().map(|(l, v)| (l.clone(), serde_json::json!(v))).collect();
    let mut j = serde_json::json!({ "pass": o.pass, "values": values, "simulated": o.simulated });
    if let Some(d) = distance {
        j["band_distance"] = serde_json::json!(if d.is_finite() { Some(d) } else { None });
    }
    j
}

fn fmt_distance(d: f64) -> String {
    if d.is_nan() {
        "n/a".to_string()
    } else if d == 0.0 {
        "0 (inside)".to_string()
    } else {
        format!("{:.1} %", 100.0 * d)
    }
}

fn cmd_calibrate(a: &CalibrateArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    // Start from the files that will be rewritten, so repeated runs continue the fit.
    let texts = model_texts(a.write.as_deref())?;
    let sets = load_fit_sets(&a.targets, a.experiments.as_ref())?;
    let mut plan = sfsim_calibration::FitPlan::default();
    let default_plan = [shown(&data_path("calibration/fit.toml"))];
    let plans: &[PathBuf] = if a.plans.is_empty() { &default_plan } else { &a.plans };
    for p in plans {
        plan.merge(sfsim_calibration::load_fit_plan(p, &texts, &sets)?).map_err(|m| Failure::Usage(format!("--plan: {m}")))?;
    }
    let opts = sfsim_calibration::FitOptions {
        iterations: a.iterations,
        seed: a.seed,
        seeds: a.seeds,
        passes: a.passes as usize,
        steps: a.steps as usize,
        from_centres: false,
        starts: a.starts as usize,
        over_seeds: match a.over_seeds {
            OverSeedsArg::Mean => sfsim_calibration::OverSeeds::Mean,
            OverSeedsArg::Worst => sfsim_calibration::OverSeeds::Worst,
        },
    };
    let quiet = a.quiet;
    let search = format!(
        "coordinate search, {} pass(es) x {} evaluations per parameter{}, {}{}",
        a.passes,
        a.steps + 2,
        if a.starts > 1 { format!(", from {} starting points each", a.starts) } else { String::new() },
        match a.iterations {
            Some(n) => format!("{n} executions per configuration"),
            None => "each experiment's executions".to_string(),
        },
        if a.seeds > 1 {
            let how = match a.over_seeds {
                OverSeedsArg::Mean => "the mean",
                OverSeedsArg::Worst => "each target's worst",
            };
            format!(", objective {how} over {} seeds", a.seeds)
        } else {
            String::new()
        }
    );
    let set_names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    if a.cross_validate {
        let progress = |m: &str| {
            if !quiet {
                eprintln!("sfsim calibrate: {m}");
            }
        };
        let cv = sfsim_calibration::cross_validate(&plan, &texts, &sets, &opts, &progress)?;
        let text = match a.format {
            ReproduceFormat::Table => render_cross_validation_table(&cv, &search, &set_names),
            ReproduceFormat::Json => render_cross_validation_json(&cv, &search, &set_names, a),
        };
        write_output(None, &text)?;
        if !a.quiet {
            eprintln!("sfsim calibrate: cross-validation of {} fold(s) done in {:.1} s", cv.folds.len(), started.elapsed().as_secs_f64());
        }
        return Ok(());
    }
    let fit = sfsim_calibration::calibrate(&plan.parameters, &texts, &sets, &opts, |m| {
        if !quiet {
            eprintln!("sfsim calibrate: {m}");
        }
    })?;
    match a.format {
        ReproduceFormat::Table => {
            println!("parameters:");
            for (p, before, after) in &fit.values {
                println!("  {}:{} {before:.6} -> {after:.6}   (serves {})", p.model, p.key, p.targets.join(", "));
            }
            println!("targets (before -> after):");
            for (b, x) in fit.before.iter().zip(&fit.after) {
                let w = |o: &sfsim_calibration::TargetOutcome| if o.pass { "pass" } else { "FAIL" };
                println!("  {:<46} {} {} -> {} {}", b.id, w(b), b.simulated, w(x), x.simulated);
            }
            println!(
                "loss {:.4} -> {:.4} (distance outside the bands; objective with centring {:.4} -> {:.4}) in {} simulator evaluations",
                fit.loss.0, fit.loss.1, fit.objective.0, fit.objective.1, fit.evaluations
            );
        }
        ReproduceFormat::Json => {
            let j = serde_json::json!({
                "target_sets": set_names,
                "plans": a.plans.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "search": search,
                "fit": fit_json(&fit, true),
            });
            write_output(None, &format!("{}\n", serde_json::to_string_pretty(&j).unwrap_or_default()))?;
        }
    }
    if let Some(dir) = &a.write {
        let mut edited: Vec<(PathBuf, String)> = Vec::new();
        for (p, _, after) in &fit.values {
            let path = dir.join(&p.model);
            let text = match edited.iter().find(|(q, _)| *q == path) {
                Some((_, t)) => t.clone(),
                None => texts.iter().find(|(n, _)| *n == p.model).map(|(_, t)| t.clone()).unwrap_or_default(),
            };
            let old_source = Models::param_in(&text, &p.key).map(|(_, s)| s).unwrap_or_default();
            let source = format!("\"{}\"", fitted_source(&p.targets, &old_source, &fit_flags(a.seeds, a.over_seeds)).replace('"', "'"));
            let overrides = [
                Override { path: format!("{}.value", p.key), value: format!("{after:.6e}") },
                Override { path: format!("{}.source", p.key), value: source },
            ];
            let new_text = sfsim_workflow::apply_overrides(&text, &overrides)
                .map_err(|m| Failure::Runtime(format!("cannot edit {}: {m}", path.display())))?;
            edited.retain(|(q, _)| *q != path);
            edited.push((path, new_text));
        }
        // A profile read from the built-in set (the directory has no `profiles/` of its own) is
        // written under the directory: its folder is made first.
        for (p, _) in &edited {
            if let Some(parent) = p.parent().filter(|q| !q.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", parent.display())))?;
            }
        }
        let files: Vec<(&Path, &[u8])> = edited.iter().map(|(p, t)| (p.as_path(), t.as_bytes())).collect();
        sfsim_report::write_all_atomic(&files).map_err(|(p, e)| Failure::Runtime(format!("cannot write {}: {e}", p.display())))?;
        eprintln!("sfsim calibrate: wrote {} model file(s) under {}; rebuild to use the built-in models", edited.len(), dir.display());
    }
    if !a.quiet {
        eprintln!("sfsim calibrate: done in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The source `calibrate --write` gives a fitted parameter: the targets it was fitted to, then
/// the reason its value was assumed before any fit. An earlier fit's statement is dropped, so
/// that repeated fits do not nest their sources: `assumed: R`, `fitted: ... ; assumed before: R`
/// and a hand-written `fitted: ... ; R` all keep `R`.
fn fitted_source(targets: &[String], old: &str, flags: &str) -> String {
    let old = old.trim();
    let reason = if let Some((_, r)) = old.split_once("assumed before:") {
        r
    } else if let Some(rest) = old.strip_prefix("fitted:") {
        after_fit_statement(rest)
    } else if let Some((_, r)) = old.split_once("assumed:") {
        r
    } else {
        old
    };
    format!("fitted: {} (sfsim calibrate{flags}); assumed before: {}", targets.join(", "), reason.trim())
}

/// The options of a fit that change its result, as a fitted source records them
/// (` --seeds 10 --over-seeds worst`; empty for one seed).
fn fit_flags(seeds: u64, over: OverSeedsArg) -> String {
    match (seeds, over) {
        (1, _) => String::new(),
        (n, OverSeedsArg::Mean) => format!(" --seeds {n}"),
        (n, OverSeedsArg::Worst) => format!(" --seeds {n} --over-seeds worst"),
    }
}

/// What follows a hand-written `fitted: ids (how it was fitted, which may hold ; and .)`
/// statement: the text after the ids and their parenthesized note, without the `;` or `.` that
/// ends the statement.
fn after_fit_statement(rest: &str) -> &str {
    let Some(open) = rest.find(['(', ';']) else {
        return "";
    };
    let mut tail = &rest[open..];
    if tail.starts_with('(') {
        let mut depth = 0usize;
        let close = tail.char_indices().find(|&(_, c)| {
            depth = match c {
                '(' => depth + 1,
                ')' => depth - 1,
                _ => depth,
            };
            depth == 0
        });
        tail = close.map_or("", |(i, _)| &tail[i + 1..]);
    }
    tail.trim_start().trim_start_matches([';', '.'])
}

fn fit_json(fit: &sfsim_calibration::FitResult, with_before: bool) -> serde_json::Value {
    let params: Vec<serde_json::Value> = fit
        .values
        .iter()
        .map(|(p, before, after)| {
            let mut j = serde_json::json!({
                "model": p.model, "key": p.key, "low": p.low, "high": p.high, "targets": p.targets, "value": after,
            });
            if with_before {
                j["start"] = serde_json::json!(before);
            }
            j
        })
        .collect();
    let targets: Vec<serde_json::Value> = fit
        .targets
        .iter()
        .zip(&fit.before)
        .zip(&fit.after)
        .map(|((t, b), x)| {
            let mut j = serde_json::json!({
                "id": t.id, "band": x.band, "after": outcome_json(x, Some(sfsim_calibration::band_distance(t, x))),
            });
            if with_before {
                j["before"] = outcome_json(b, Some(sfsim_calibration::band_distance(t, b)));
            }
            j
        })
        .collect();
    serde_json::json!({
        "parameters": params,
        "targets": targets,
        "loss": { "before": fit.loss.0, "after": fit.loss.1 },
        "objective": { "before": fit.objective.0, "after": fit.objective.1 },
        "evaluations": fit.evaluations,
    })
}

fn render_cross_validation_table(cv: &sfsim_calibration::CrossValidation, search: &str, sets: &[&str]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let full = &cv.full;
    let _ = writeln!(s, "cross-validation against {}", sets.join(" + "));
    let _ = writeln!(s, "search (full fit and every refit): {search}, from the centres of the ranges");
    let _ = writeln!(s, "\nfull fit ({} evaluations; loss {:.4}):", full.evaluations, full.loss.1);
    for (p, _, v) in &full.values {
        let _ = writeln!(
            s,
            "  {}:{} = {}   (range {} - {}; serves {})",
            p.model,
            p.key,
            sfsim_calibration::fmt_sig(*v),
            p.low,
            p.high,
            p.targets.join(", ")
        );
    }
    for (t, o) in full.targets.iter().zip(&full.after) {
        let d = sfsim_calibration::band_distance(t, o);
        let _ =
            writeln!(s, "  {:<34} {} {:<32} distance {}", t.id, if o.pass { "pass" } else { "FAIL" }, outcome_values(o), fmt_distance(d));
    }
    let _ = writeln!(s, "\nrefitted values, one fold per left-out group:");
    let names: Vec<String> = full.values.iter().map(|(p, _, _)| p.key.rsplit('.').next().unwrap_or(&p.key).to_string()).collect();
    let gw = cv.folds.iter().map(|f| f.group.len()).max().unwrap_or(5).max(10);
    let _ = write!(s, "  {:<gw$}", "left out");
    for n in &names {
        let _ = write!(s, " {:>24}", n);
    }
    let _ = writeln!(s);
    let _ = write!(s, "  {:<gw$}", "(none)");
    for (_, _, v) in &full.values {
        let _ = write!(s, " {:>24}", sfsim_calibration::fmt_sig(*v));
    }
    let _ = writeln!(s);
    for f in &cv.folds {
        let _ = write!(s, "  {:<gw$}", f.group);
        for v in &f.values {
            let _ = write!(s, " {:>24}", sfsim_calibration::fmt_sig(*v));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "\nleft-out targets (distance from the band: 0 inside, else relative to the nearest edge):");
    let tw = cv.folds.iter().flat_map(|f| f.targets.iter().map(|t| t.id.len())).max().unwrap_or(6).max(6);
    let vw = cv
        .folds
        .iter()
        .flat_map(|f| f.targets.iter())
        .map(|t| outcome_values(&t.full).len().max(outcome_values(&t.held).len()))
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        s,
        "  {:<gw$} {:<tw$} {:<vw$} {:<vw$} {:<14} {:<14} band",
        "group", "target", "full fit", "held out", "dist. full", "dist. held out"
    );
    let (mut n, mut met_full, mut met_held) = (0, 0, 0);
    for f in &cv.folds {
        for t in &f.targets {
            n += 1;
            met_full += usize::from(t.full.pass);
            met_held += usize::from(t.held.pass);
            let _ = writeln!(
                s,
                "  {:<gw$} {:<tw$} {:<vw$} {:<vw$} {:<14} {:<14} {}",
                f.group,
                t.id,
                outcome_values(&t.full),
                outcome_values(&t.held),
                fmt_distance(t.full_distance),
                fmt_distance(t.held_distance),
                t.band
            );
        }
    }
    let worst = cv.folds.iter().flat_map(|f| f.targets.iter().map(|t| t.held_distance)).filter(|d| d.is_finite()).fold(0.0, f64::max);
    let _ = writeln!(
        s,
        "\n{met_held} of {n} left-out targets within their bands when held out ({met_full} with the full fit); largest held-out distance {}",
        fmt_distance(worst)
    );
    s
}

fn render_cross_validation_json(cv: &sfsim_calibration::CrossValidation, search: &str, sets: &[&str], a: &CalibrateArgs) -> String {
    let folds: Vec<serde_json::Value> = cv
        .folds
        .iter()
        .map(|f| {
            let params: Vec<serde_json::Value> = cv
                .full
                .values
                .iter()
                .zip(&f.values)
                .map(|((p, _, _), v)| serde_json::json!({ "model": p.model, "key": p.key, "value": v }))
                .collect();
            let left: Vec<serde_json::Value> = f
                .targets
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "id": t.id,
                        "band": t.band,
                        "full_fit": outcome_json(&t.full, Some(t.full_distance)),
                        "held_out": outcome_json(&t.held, Some(t.held_distance)),
                    })
                })
                .collect();
            serde_json::json!({ "group": f.group, "parameters": params, "evaluations": f.evaluations, "left_out": left })
        })
        .collect();
    let j = serde_json::json!({
        "target_sets": sets,
        "plans": a.plans.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "search": format!("{search}, from the centres of the ranges"),
        "iterations": a.iterations,
        "seed": a.seed,
        "full_fit": fit_json(&cv.full, false),
        "folds": folds,
    });
    format!("{}\n", serde_json::to_string_pretty(&j).unwrap_or_default())
}

fn cmd_sweep(a: &SweepArgs) -> Result<(), Failure> {
    use rayon::prelude::*;
    let (shard, source) = match (&a.shard, a.shard_from_env) {
        (Some(s), _) => (shard::parse_shard(s).map_err(Failure::Usage)?, None),
        (None, true) => {
            let s = shard::shard_from_env(&|k| std::env::var(k).ok(), a.shards).map_err(Failure::Environment)?;
            ((s.index, s.count), Some(s.source))
        }
        (None, false) => ((0, 1), None),
    };
    let sweep = sfsim_experiment::sweep::Sweep::load(&a.sweep)?;
    if a.count {
        println!("{}", sweep.count()?);
        return Ok(());
    }
    // Refuse a shard too big for one command before any work, with the estimate.
    let estimate = sweep.estimate(shard)?;
    estimate.check(&format!("shard {}/{} of this sweep", shard.0, shard.1)).map_err(|m| {
        Failure::Input(LoadError { file: a.sweep.display().to_string(), line: 0, col: 0, key: String::new(), message: m, line_text: None })
    })?;
    let trials = sweep.trials()?;
    let models = load_models(a.models.as_deref())?;
    let mine: Vec<&sfsim_experiment::sweep::Trial> = trials.iter().filter(|t| t.index % shard.1 == shard.0).collect();
    let started = std::time::Instant::now();
    let lines: Vec<(String, sfsim_experiment::FanOutNotes)> =
        progress::with_progress("sfsim sweep", a.quiet, progress::Count::Of(mine.len() as u64), || {
            mine.par_iter()
                .map(|t| {
                    sweep.run_trial(t, &models).map(|s| {
                        let mut notes = sfsim_experiment::FanOutNotes::default();
                        notes.add(&s, &t.index.to_string());
                        (sfsim_report::trial_line(t, &s), notes)
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
    // Each fan-out that starts fewer workers than it asks for, once per deployment and fan-out
    // (even with -q: it changes what the numbers mean).
    let mut notes = sfsim_experiment::FanOutNotes::default();
    for n in lines.iter().map(|(_, n)| n) {
        notes.merge(n);
    }
    for (n, trials) in notes.sentences() {
        eprintln!("sfsim sweep: note: {n} (in {} trial(s); each trial's `summary.fan_out_chunks` says which)", trials.len());
    }
    let lines: Vec<String> = lines.into_iter().map(|(l, _)| l).collect();
    let mut text = sfsim_report::sweep_header(&sweep, trials.len() as u64, shard);
    text.push('\n');
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    // The output first: a shard that cannot write it prints only the error.
    write_output(a.out.as_deref(), &text)?;
    if !a.quiet {
        eprintln!(
            "sfsim sweep: {} trials of shard {}/{} ({} in all{}) in {:.2} s",
            mine.len(),
            shard.0,
            shard.1,
            trials.len(),
            source.map(|s| format!("; from {s}")).unwrap_or_default(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn write_output(out: Option<&Path>, text: &str) -> Result<(), Failure> {
    match out {
        Some(p) => {
            sfsim_report::write_atomic(p, text.as_bytes()).map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", p.display())))
        }
        None => {
            use std::io::Write;
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|()| o.flush()).map_err(|e| Failure::Runtime(format!("cannot write to stdout: {e}")))
        }
    }
}

fn cmd_merge(shards: &[PathBuf], out: Option<&Path>) -> Result<(), Failure> {
    let files = shards.iter().map(|p| SourceFile::read(p).map(|s| (s.name, s.text))).collect::<Result<Vec<_>, _>>()?;
    let merged = sfsim_report::merge_shards(&files).map_err(|e| Failure::Input(LoadError::whole_file("merge", e.0)))?;
    write_output(out, &merged)
}

fn cmd_plot(a: &PlotArgs) -> Result<(), Failure> {
    let src = SourceFile::read(&a.result)?;
    let mut series: std::collections::BTreeMap<String, std::collections::BTreeMap<String, (f64, f64, u32)>> = Default::default();
    for (i, line) in src.text.lines().enumerate().skip(1) {
        let bad = |m: String| {
            Failure::Input(LoadError { file: src.name.clone(), line: i + 1, col: 1, key: String::new(), message: m, line_text: None })
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let x_text = v["params"][&a.x].as_str().ok_or_else(|| bad(format!("no swept key `{}` in this trial", a.x)))?;
        let x: f64 = x_text.trim_matches('"').parse().map_err(|_| bad(format!("`{}` = {x_text} is not a number", a.x)))?;
        let mut y = &v["summary"];
        for seg in a.y.split('.') {
            y = &y[seg];
        }
        let y = y.as_f64().ok_or_else(|| bad(format!("no numeric metric `{}` in the summary", a.y)))?;
        let dep = v["deployment"].as_str().unwrap_or("?").to_string();
        let e = series.entry(dep).or_default().entry(format!("{x:020.6}")).or_insert((x, 0.0, 0));
        e.1 += y;
        e.2 += 1;
    }
    if series.is_empty() {
        return Err(Failure::Input(LoadError::whole_file(&src.name, "no trial lines to plot")));
    }
    let lines: Vec<(String, Vec<(f64, f64)>)> =
        series.into_iter().map(|(d, pts)| (d, pts.into_values().map(|(x, y, n)| (x, y / f64::from(n))).collect())).collect();
    let svg = sfsim_report::figures::lines(&format!("{} vs {}", a.y, a.x), &a.x, &format!("{} (mean over replications)", a.y), &lines);
    write_output(a.out.as_deref(), &svg)
}

fn cmd_cost(a: &CostArgs) -> Result<(), Failure> {
    for name in &a.deployments {
        if Deployment::from_name(name).is_none() {
            let known: Vec<&str> = Deployment::ALL.iter().map(|d| d.name()).collect();
            return Err(Failure::Usage(format!("unknown deployment `{name}` for --deployment{}", sfsim_workflow::suggest(name, &known))));
        }
    }
    let scenario = Scenario::load(&a.scenario, &a.set)?;
    let models = load_models(a.models.as_deref())?;
    let deployments = resolve_deployments(&scenario, &a.deployments)?;
    let bills = progress::with_progress("sfsim cost", a.quiet, progress::Count::Simulations, || match &a.daily_profile {
        None => sfsim_experiment::cost::project_bills(&scenario, &deployments, &models, a.rate, a.period, a.window, a.seed, a.free_tier),
        Some(p) => sfsim_experiment::cost::project_bills_daily(
            &scenario,
            &deployments,
            &models,
            a.rate,
            p,
            a.period,
            a.window,
            a.seed,
            a.free_tier,
        ),
    })?;
    let unstable: Vec<&sfsim_experiment::cost::Bill> = bills.iter().filter(|b| !b.stable).collect();
    let text = match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "scenario": scenario.name,
                "rate_per_s": a.rate,
                "period_s": a.period,
                "free_tier": a.free_tier,
                "stable": unstable.is_empty(),
                "sfsim_version": sfsim_report::SFSIM_VERSION,
                "bills": bills,
            });
            let mut s = serde_json::to_string_pretty(&v).map_err(|e| Failure::Runtime(e.to_string()))?;
            s.push('\n');
            s
        }
        Format::Table | Format::Csv => cost_table(&scenario.name, a, &bills),
    };
    write_output(a.out.as_deref(), &text)?;
    if !a.quiet {
        for b in &unstable {
            eprintln!(
                "warning: {}: not a steady state at {}/s, the bill assumes one: {}",
                b.deployment,
                rate_text(a.rate),
                b.instability.join("; ")
            );
        }
    }
    if a.strict && !unstable.is_empty() {
        let names: Vec<&str> = unstable.iter().map(|b| b.deployment.as_str()).collect();
        return Err(Failure::Runtime(format!(
            "--strict: {} not stable at this rate ({})",
            if names.len() == 1 { "this deployment is" } else { "these deployments are" },
            names.join(", ")
        )));
    }
    Ok(())
}

/// A rate for people: 10, 0.5, 2.778e-4.
fn rate_text(r: f64) -> String {
    if (1e-3..1e6).contains(&r) {
        let t = format!("{r:.4}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{r:.3e}")
    }
}

fn cost_table(scenario: &str, a: &CostArgs, bills: &[sfsim_experiment::cost::Bill]) -> String {
    let mut s = format!(
        "scenario {scenario} at {}/s over {}{}\n{:<11} {:>13} {:>13} {:>11} {:>11} {:>12} {:>11} {:>14} {:>11} {:>10} {:>11} {:>13}  {}\n",
        rate_text(a.rate),
        sfsim_experiment::cost::period_text(a.period),
        if a.free_tier { " (free tier subtracted)" } else { "" },
        "deployment",
        "executions",
        "completed",
        "failed",
        "throttled",
        "compute $",
        "requests $",
        "transactions $",
        "(idle $)",
        "transit. $",
        "storage $",
        "total $",
        "regime"
    );
    for b in bills {
        let c = &b.cost_usd;
        s += &format!(
            "{:<11} {:>13.0} {:>13} {:>11} {:>11} {:>12.2} {:>11.2} {:>14.2} {:>11.2} {:>10.2} {:>11.2} {:>13.2}  {}{}\n",
            b.deployment,
            b.executions,
            b.completed,
            b.failed,
            b.throttled,
            c.compute,
            c.requests,
            c.transactions,
            b.idle_usd,
            c.transitions,
            c.storage,
            c.total,
            if b.stable { "stable" } else { "UNSTABLE" },
            if b.exact { "" } else { " (projected)" }
        );
        if c.instances > 0.0 {
            s += &format!(
                "{:<11} of which instance time ${:.2}: Premium instances or Flex always-ready baselines, billed busy or idle\n",
                "", c.instances
            );
        }
        let t = &b.transactions;
        if t.queue + t.table + t.blob > 0.0 {
            s += &format!("{:<11} queue {:.0}, table {:.0}, blob {:.0} transactions\n", "", t.queue, t.table, t.blob);
        }
        let l = &b.window.latency_s;
        if l.n > 0 {
            s += &format!(
                "{:<11} window of {}: latency mean {:.3} s, p50 {:.3} s, p99 {:.3} s, max {:.3} s\n",
                "", b.window.arrived, l.mean, l.p50, l.p99, l.max
            );
        } else {
            s += &format!("{:<11} window of {}: no execution completed\n", "", b.window.arrived);
        }
        for why in &b.instability {
            s += &format!("{:<11} UNSTABLE: {why}\n", "");
        }
    }
    if bills.iter().any(|b| !b.stable) {
        s += "An unstable deployment's bill holds only for the simulated window: failed work is billed \
as the platform bills it, throttled work is not billed, and a growing queue is not a steady state.\n";
    }
    s
}

fn trace_failure(e: sfsim_replay::TraceError) -> Failure {
    let line = usize::try_from(e.line).unwrap_or(usize::MAX);
    Failure::Input(LoadError { file: e.file, line, col: usize::from(line > 0), key: String::new(), message: e.message, line_text: None })
}

fn cmd_replay(a: &ReplayArgs) -> Result<(), Failure> {
    use sfsim_replay::{Azure2019, Azure2021, Policy, Trace};
    if a.day.is_some() && a.azure_2019.is_none() {
        return Err(Failure::Usage("--day selects a day of --azure-2019 DIR".into()));
    }
    if a.generate_test_trace.is_none() && (a.apps.is_some() || a.functions.is_some()) {
        return Err(Failure::Usage("--apps and --functions size the trace of --generate-test-trace DIR".into()));
    }
    if let Some(dir) = &a.generate_test_trace {
        let (apps, functions) = (a.apps.unwrap_or(20) as usize, a.functions.unwrap_or(3) as usize);
        let n19 = sfsim_replay::generate_2019(dir, 1, a.seed, apps, functions).map_err(trace_failure)?;
        let f21 = dir.join("AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt");
        let n21 = sfsim_replay::generate_2021(&f21, a.seed, 50, 86_400.0).map_err(trace_failure)?;
        println!("wrote day 1 of a 2019-format trace ({n19} invocations) under {}", dir.display());
        println!("wrote a 2021-format trace ({n21} invocations) to {}", f21.display());
        return Ok(());
    }
    let policies = if a.policies.is_empty() {
        vec![
            Policy::Fixed(Some(sfsim_engine::SimDuration::from_secs(600))),
            Policy::Hybrid { fallback: sfsim_replay::pool::HYBRID_DEFAULT_FALLBACK },
        ]
    } else {
        a.policies.clone()
    };
    let cold = sfsim_engine::SimDuration::from_secs_f64(a.cold_start_s);
    let started = std::time::Instant::now();
    let (source, reports) = match (&a.azure_2019, &a.azure_2021) {
        (Some(dir), _) => {
            let day = a.day.unwrap_or(1);
            let mut t = Azure2019::open_with(dir, day, a.seed, a.placement).map_err(trace_failure)?;
            // What the trace lacks is assumed: say so, the results depend on it.
            if t.apps_without_memory > 0 {
                let mem = sfsim_replay::trace::files_2019(dir, day)[2].clone();
                eprintln!(
                    "note: {} of {} apps have no memory row{}; they are assumed to use {} MB (idle GB-s depend on it)",
                    t.apps_without_memory,
                    t.app_count(),
                    if mem.is_file() { String::new() } else { format!(" ({} is missing)", mem.display()) },
                    sfsim_replay::DEFAULT_APP_MEMORY_MB
                );
            }
            if t.functions_without_durations > 0 {
                eprintln!(
                    "note: {} functions have no durations row; they are assumed to run {} s",
                    t.functions_without_durations,
                    sfsim_replay::trace::DEFAULT_DURATION_S
                );
            }
            let r = progress::with_progress("sfsim replay", a.quiet, progress::Count::Spinner, || {
                sfsim_replay::replay(&mut t, &policies, cold)
            })
            .map_err(trace_failure)?;
            (format!("{} day {day}", dir.display()), r)
        }
        (None, Some(file)) => {
            let mut t = Azure2021::open(file).map_err(trace_failure)?;
            let r = progress::with_progress("sfsim replay", a.quiet, progress::Count::Spinner, || {
                sfsim_replay::replay(&mut t, &policies, cold)
            })
            .map_err(trace_failure)?;
            (file.display().to_string(), r)
        }
        (None, None) => return Err(Failure::Usage("give --azure-2019 DIR or --azure-2021 FILE".into())),
    };
    if !a.quiet {
        eprintln!("sfsim replay: {source}: {} policies in {:.3} s", reports.len(), started.elapsed().as_secs_f64());
    }
    let text = match a.format {
        ReplayFormat::Json => {
            let v = serde_json::json!({ "trace": source, "seed": a.seed, "cold_start_s": a.cold_start_s, "sfsim_version": sfsim_report::SFSIM_VERSION, "policies": reports });
            let mut s = serde_json::to_string_pretty(&v).map_err(|e| Failure::Runtime(e.to_string()))?;
            s.push('\n');
            s
        }
        ReplayFormat::Table => {
            let mut s = format!(
                "{:<16} {:>12} {:>12} {:>8} {:>7} {:>16} {:>16} {:>10}\n",
                "policy", "invocations", "cold starts", "cold %", "apps", "idle inst-s", "idle GB-s", "p75 app %"
            );
            for r in &reports {
                s += &format!(
                    "{:<16} {:>12} {:>12} {:>8.3} {:>7} {:>16.1} {:>16.1} {:>10.3}\n",
                    r.policy,
                    r.invocations,
                    r.cold_starts,
                    r.cold_start_pct,
                    r.apps,
                    r.idle_instance_s,
                    r.idle_memory_gb_s,
                    r.p75_app_cold_start_pct
                );
            }
            s
        }
    };
    write_output(None, &text)
}

fn cmd_list() -> Result<(), Failure> {
    println!("deployments:");
    for d in Deployment::ALL {
        println!("  {:<11} {}", d.name(), d.description());
    }
    println!("models (built in; --models DIR to replace):");
    for (name, _) in sfsim_platform::params::BUILTIN_MODELS {
        println!("  models/{name}");
    }
    let root = shown(&data_path("scenarios"));
    let mut files = Vec::new();
    collect_toml(&root, &mut files);
    files.sort();
    // Sorted by what the file holds: a sweep is not a scenario to `run`.
    let (mut scenarios, mut sweeps) = (Vec::new(), Vec::new());
    for f in files {
        let table = std::fs::read_to_string(&f).ok().and_then(|t| toml::from_str::<toml::Table>(&t).ok());
        match table {
            Some(t) if t.contains_key("sweep") => sweeps.push(f),
            Some(t) if t.contains_key("scenario") => scenarios.push(f),
            _ => {}
        }
    }
    let here = root == Path::new("scenarios");
    println!("scenarios (sfsim run FILE; under {}):", root.display());
    if scenarios.is_empty() {
        println!("  (none found: see README, \"Running from any directory\")");
    }
    for s in &scenarios {
        println!("  {}", s.display());
    }
    println!("sweeps (sfsim sweep FILE):");
    for s in &sweeps {
        println!("  {}", s.display());
    }
    if !here {
        println!("(found under {}: neither ./scenarios nor $SFSIM_HOME/scenarios exists)", root.display());
    }
    Ok(())
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_toml(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") && p.file_name().is_some_and(|n| n != "experiments.toml") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Failure, OverSeedsArg, fit_flags, fitted_source, guarded};

    #[test]
    fn a_panic_is_a_runtime_failure_not_an_abort() {
        // No hook installed here: the test harness reports the panic; `guarded` must still
        // turn it into the runtime failure (exit 1) and let a normal result through.
        let r = guarded(|| {
            let v: Vec<u32> = Vec::new();
            let _ = v[std::hint::black_box(3)];
            Ok(())
        });
        assert!(matches!(r, Err(Failure::Runtime(ref m)) if m.contains("internal error")));
        assert!(guarded(|| Ok(())).is_ok());
        assert!(matches!(guarded(|| Err(Failure::Usage("u".into()))), Err(Failure::Usage(_))));
    }

    #[test]
    fn refitting_keeps_the_first_reason_and_does_not_nest_sources() {
        let t = ["a".to_string(), "b".to_string()];
        let want = "fitted: a, b (sfsim calibrate); assumed before: R";
        assert_eq!(fitted_source(&t, "assumed: R", ""), want);
        assert_eq!(fitted_source(&t, "fitted: x (sfsim calibrate); assumed before: R", ""), want);
        // A hand-written fit (the study profile's): its own statement goes, its reason stays.
        assert_eq!(fitted_source(&t, "fitted: x, y (sfsim calibrate --plan p.toml); R", ""), want);
        assert_eq!(fitted_source(&t, "R", ""), want);
        // A note in parentheses may hold its own `;` (the joint fit's sources did): the reason
        // is what follows the note, not what follows the first `;`.
        assert_eq!(fitted_source(&t, "fitted: x (sfsim calibrate, one fit; cross-validated, c.md). R", ""), want);
        assert_eq!(fitted_source(&t, "fitted: x; R", ""), want);
        // A fit over several seeds says so; refitting it keeps the reason.
        let ten = fitted_source(&t, "fitted: x (sfsim calibrate); assumed before: R", &fit_flags(10, OverSeedsArg::Mean));
        assert_eq!(ten, "fitted: a, b (sfsim calibrate --seeds 10); assumed before: R");
        assert_eq!(fitted_source(&t, &ten, ""), want);
        // Fitting twice gives the same source as fitting once.
        assert_eq!(fitted_source(&t, &fitted_source(&t, "assumed: R", ""), ""), want);
        // The worst-seed objective is part of how a value was fitted.
        let worst = fitted_source(&t, "assumed: R", &fit_flags(10, OverSeedsArg::Worst));
        assert_eq!(worst, "fitted: a, b (sfsim calibrate --seeds 10 --over-seeds worst); assumed before: R");
        assert_eq!(fitted_source(&t, &worst, ""), want);
    }
}
