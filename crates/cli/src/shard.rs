//! Which shard of a sweep this process runs: `--shard I/N`, or `--shard-from-env` with the
//! scheduler's variables (a Slurm job array or a Kubernetes Indexed Job), optionally with the
//! shard count fixed by `--shards N`.
//!
//! With `--shards N` the scheduler's index *is* the shard index (`SLURM_ARRAY_TASK_ID` or
//! `JOB_COMPLETION_INDEX`), so one task of an array can be rerun alone (`sbatch --array=2`).
//! Without it the count comes from the environment: a Slurm array `MIN-MAX:STEP` of `COUNT`
//! tasks runs shard `(ID - MIN) / STEP` of `COUNT` (so `--array=0-12:2` is shards 0..6 of 7),
//! and a Kubernetes Job needs `SFSIM_SHARD_COUNT`. Every error names the variables it read.

/// Where the shard came from, for the success line and errors.
#[derive(Debug, PartialEq)]
pub struct Shard {
    /// Index, 0-based.
    pub index: u64,
    /// Count.
    pub count: u64,
    /// How it was found, e.g. `SLURM_ARRAY_TASK_ID=2, --shards 7`.
    pub source: String,
}

/// Parses `I/N`.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("shard `{s}` must be I/N"))?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| format!("shard index `{i}` is not a number"))?,
        n.trim().parse().map_err(|_| format!("shard count `{n}` is not a number"))?,
    );
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 <= I < N"));
    }
    Ok((i, n))
}

const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
const SLURM_MAX: &str = "SLURM_ARRAY_TASK_MAX";
const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
const K8S_COUNT: &str = "SFSIM_SHARD_COUNT";

/// The shard from the environment (`get` reads one variable), with `shards` from `--shards N`.
pub fn shard_from_env(get: &dyn Fn(&str) -> Option<String>, shards: Option<u64>) -> Result<Shard, String> {
    let num = |k: &str| -> Result<Option<u64>, String> {
        match get(k) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| format!("--shard-from-env: {k}=`{v}` is not a whole number")),
        }
    };
    if let Some(id) = num(SLURM_ID)? {
        return slurm(id, &num, shards);
    }
    if let Some(i) = num(K8S_INDEX)? {
        return kubernetes(i, num(K8S_COUNT)?, shards);
    }
    let mut m = format!(
        "--shard-from-env: neither {SLURM_ID} (a Slurm job array) nor {K8S_INDEX} (a Kubernetes Indexed Job) is set; \
         run it as a task of `sbatch --array=0-<N-1>` or of an Indexed Job, or give --shard I/N"
    );
    if let Some(job) = get("SLURM_JOB_ID") {
        m.push_str(&format!(" (SLURM_JOB_ID={job} is set: this Slurm job is not an array; submit it with --array=0-<N-1>)"));
    }
    Err(m)
}

type Num<'a> = dyn Fn(&str) -> Result<Option<u64>, String> + 'a;

fn slurm(id: u64, num: &Num<'_>, shards: Option<u64>) -> Result<Shard, String> {
    let (count, min, max, step) = (num(SLURM_COUNT)?, num(SLURM_MIN)?, num(SLURM_MAX)?, num(SLURM_STEP)?);
    let show = |k: &str, v: Option<u64>| match v {
        Some(v) => format!("{k}={v}"),
        None => format!("{k} unset"),
    };
    let read = [format!("{SLURM_ID}={id}"), show(SLURM_COUNT, count), show(SLURM_MIN, min), show(SLURM_MAX, max), show(SLURM_STEP, step)]
        .join(", ");
    if let Some(n) = shards {
        // The task id is the shard index: `--array=0-6` with `--shards 7`, and a rerun of
        // shard 2 is `--array=2`. Refuse the whole array (every task) if any of its ids is
        // not a shard, so a wrong array leaves no partial output.
        let top = max.unwrap_or(id).max(id);
        if top >= n {
            return Err(format!(
                "--shard-from-env --shards {n}: read {read}; with --shards the Slurm task id is the shard index, \
                 so the array's ids must be in 0-{last} but it runs to {top}{stepped}; submit --array=0-{last} \
                 (or --array=K to rerun shard K), or change --shards",
                last = n - 1,
                stepped = if step.unwrap_or(1) > 1 { " (a stepped array: its ids are not shard indices)" } else { "" },
            ));
        }
        return Ok(Shard { index: id, count: n, source: format!("{SLURM_ID}={id}, --shards {n}") });
    }
    let Some(count) = count else {
        return Err(format!("--shard-from-env: read {read}; without {SLURM_COUNT} the shard count is unknown: give it with --shards N"));
    };
    let (min, step) = (min.unwrap_or(0), step.unwrap_or(1).max(1));
    let max = max.unwrap_or(min + (count.max(1) - 1) * step);
    let fix = "put the shard count on the command line (`--shard-from-env --shards N`, then the task ids are the shard indices) \
         and submit --array=0-<N-1>"
        .to_string();
    if count == 1 && id != 0 {
        return Err(format!(
            "--shard-from-env: read {read}; a one-task array with task id {id} looks like a rerun of shard {id}, \
             and the shard count cannot be read from such an array; {fix}"
        ));
    }
    let regular = count >= 1 && max >= min && (max - min) % step == 0 && (max - min) / step + 1 == count;
    if !regular || id < min || id > max || !(id - min).is_multiple_of(step) {
        return Err(format!(
            "--shard-from-env: read {read}; this array is not a range MIN-MAX:STEP of COUNT tasks \
             (a list such as --array=1,3,10?), so its task ids do not map to shards; {fix}"
        ));
    }
    let index = (id - min) / step;
    let mut source = format!("{SLURM_ID}={id}, {SLURM_COUNT}={count}");
    if min != 0 {
        source.push_str(&format!(", {SLURM_MIN}={min}"));
    }
    if step != 1 {
        source.push_str(&format!(", {SLURM_STEP}={step}"));
    }
    Ok(Shard { index, count, source })
}

fn kubernetes(i: u64, env_count: Option<u64>, shards: Option<u64>) -> Result<Shard, String> {
    let (n, source) = match (shards, env_count) {
        (Some(n), Some(e)) if n != e => {
            return Err(format!("--shard-from-env: --shards {n} but {K8S_COUNT}={e}; give one of them, or the same count"));
        }
        (Some(n), _) => (n, format!("{K8S_INDEX}={i}, --shards {n}")),
        (None, Some(n)) => (n, format!("{K8S_INDEX}={i}, {K8S_COUNT}={n}")),
        (None, None) => {
            return Err(format!(
                "--shard-from-env: read {K8S_INDEX}={i} but not the shard count: give --shards N or set {K8S_COUNT} \
                 (the Job's completions)"
            ));
        }
    };
    if n == 0 || i >= n {
        return Err(format!(
            "--shard-from-env: read {source}: the index must be below the shard count; the Job's completions must \
             equal the shard count"
        ));
    }
    Ok(Shard { index: i, count: n, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], shards: Option<u64>) -> Result<Shard, String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        shard_from_env(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), shards)
    }

    /// The variables Slurm 22.05 sets for `sbatch --array=SPEC` (recorded from a real run).
    fn array(spec: &str, id: u64) -> Vec<(&'static str, String)> {
        let (count, min, max, step) = match spec {
            "0-6" => (7, 0, 6, 1),
            "0-12:2" => (7, 0, 12, 2),
            "3-9" => (7, 3, 9, 1),
            "1,3,10" => (3, 1, 10, 1),
            "2" => (1, 2, 2, 1),
            "0" => (1, 0, 0, 1),
            "1,3,5" => (3, 1, 5, 1),
            _ => unreachable!(),
        };
        vec![
            (SLURM_ID, id.to_string()),
            (SLURM_COUNT, count.to_string()),
            (SLURM_MIN, min.to_string()),
            (SLURM_MAX, max.to_string()),
            (SLURM_STEP, step.to_string()),
        ]
    }

    fn slurm_env(spec: &str, id: u64, shards: Option<u64>) -> Result<Shard, String> {
        let vars = array(spec, id);
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env(&refs, shards)
    }

    fn at(r: Result<Shard, String>) -> (u64, u64) {
        let s = r.expect("a shard");
        (s.index, s.count)
    }

    #[test]
    fn slurm_arrays_map_to_shards_by_position_without_a_fixed_count() {
        assert_eq!(at(slurm_env("0-6", 4, None)), (4, 7));
        assert_eq!(at(slurm_env("3-9", 3, None)), (0, 7));
        assert_eq!(at(slurm_env("3-9", 9, None)), (6, 7));
        // A stepped array: 0, 2, ..., 12 are shards 0..6 of 7.
        for (k, id) in (0..=12).step_by(2).enumerate() {
            assert_eq!(at(slurm_env("0-12:2", id, None)), (k as u64, 7));
        }
        assert_eq!(at(slurm_env("0", 0, None)), (0, 1));
        // Without MIN/MAX/STEP (older Slurm): a 0-based range.
        assert_eq!(at(env(&[(SLURM_ID, "2"), (SLURM_COUNT, "3")], None)), (2, 3));
    }

    #[test]
    fn with_a_fixed_count_the_slurm_task_id_is_the_shard_so_one_task_can_be_rerun() {
        assert_eq!(at(slurm_env("0-6", 4, Some(7))), (4, 7));
        assert_eq!(at(slurm_env("2", 2, Some(7))), (2, 7));
        assert_eq!(at(slurm_env("1,3,5", 5, Some(7))), (5, 7));
        assert_eq!(slurm_env("2", 2, Some(7)).unwrap().source, "SLURM_ARRAY_TASK_ID=2, --shards 7");
        // Only the task id is needed.
        assert_eq!(at(env(&[(SLURM_ID, "6")], Some(7))), (6, 7));
    }

    #[test]
    fn arrays_that_do_not_map_are_refused_naming_the_variables_and_the_fix() {
        // A rerun of one task without --shards would silently run the whole sweep as 0/1.
        let e = slurm_env("2", 2, None).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID=2") && e.contains("SLURM_ARRAY_TASK_COUNT=1") && e.contains("--shards N"), "{e}");
        // A list is not a range.
        let e = slurm_env("1,3,10", 3, None).unwrap_err();
        for v in [
            "SLURM_ARRAY_TASK_ID=3",
            "SLURM_ARRAY_TASK_COUNT=3",
            "SLURM_ARRAY_TASK_MIN=1",
            "SLURM_ARRAY_TASK_MAX=10",
            "SLURM_ARRAY_TASK_STEP=1",
        ] {
            assert!(e.contains(v), "{v} missing from: {e}");
        }
        assert!(e.contains("--shards N"), "{e}");
        // A stepped array with --shards: every task refuses, even those whose id is a shard.
        for id in [0, 8] {
            let e = slurm_env("0-12:2", id, Some(7)).unwrap_err();
            assert!(e.contains("SLURM_ARRAY_TASK_STEP=2") && e.contains("SLURM_ARRAY_TASK_MAX=12"), "{e}");
            assert!(e.contains("--array=0-6"), "{e}");
        }
        // Not a number.
        let e = env(&[(SLURM_ID, "x"), (SLURM_COUNT, "3")], None).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID=`x`"), "{e}");
        let e = env(&[(SLURM_ID, "1")], None).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_COUNT unset") && e.contains("--shards N"), "{e}");
    }

    #[test]
    fn kubernetes_indexed_jobs_take_the_count_from_shards_or_sfsim_shard_count() {
        assert_eq!(at(env(&[(K8S_INDEX, "3")], Some(7))), (3, 7));
        assert_eq!(at(env(&[(K8S_INDEX, "3"), (K8S_COUNT, "7")], None)), (3, 7));
        assert_eq!(at(env(&[(K8S_INDEX, "3"), (K8S_COUNT, "7")], Some(7))), (3, 7));
        let e = env(&[(K8S_INDEX, "3"), (K8S_COUNT, "5")], Some(7)).unwrap_err();
        assert!(e.contains("SFSIM_SHARD_COUNT=5") && e.contains("--shards 7"), "{e}");
        let e = env(&[(K8S_INDEX, "3")], None).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX=3") && e.contains("SFSIM_SHARD_COUNT"), "{e}");
        let e = env(&[(K8S_INDEX, "7")], Some(7)).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX=7") && e.contains("--shards 7"), "{e}");
    }

    #[test]
    fn no_scheduler_variables_says_which_were_read() {
        let e = env(&[], None).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID") && e.contains("JOB_COMPLETION_INDEX"), "{e}");
        let e = env(&[("SLURM_JOB_ID", "42")], Some(7)).unwrap_err();
        assert!(e.contains("SLURM_JOB_ID=42") && e.contains("not an array"), "{e}");
    }
}
