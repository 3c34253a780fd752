//! docs/cluster.md's Slurm recipe without Slurm: the job script the page writes runs each task
//! with the variables Slurm sets, the merge job's command joins the shards, and the result is
//! the unsharded sweep byte for byte. The real scheduler runs the same blocks in
//! .ci/slurm-e2e.sh; this keeps the page honest on any machine with bash.

use std::path::Path;
use std::process::Command;

use crate::common;

const PAGE: &str = include_str!("../docs/cluster.md");

/// The fenced block after `<!-- slurm-e2e: NAME -->` (what .ci/slurm-e2e.sh runs).
fn block(name: &str) -> String {
    let marker = format!("<!-- slurm-e2e: {name} -->");
    let rest = &PAGE[PAGE.find(&marker).unwrap_or_else(|| panic!("no block {marker} in docs/cluster.md"))..];
    let open = rest.find("```sh\n").expect("a sh block after the marker") + "```sh\n".len();
    let body = &rest[open..];
    body[..body.find("\n```").expect("a closed block")].to_string()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("`{start}` not found")) + start.len();
    &text[from..from + text[from..].find(end).unwrap_or_else(|| panic!("`{end}` not found after `{start}`"))]
}

fn tmpdir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("cluster-doc-{name}"))
}

fn path_with_sfsim() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_sfsim")).parent().expect("bin dir").to_path_buf();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

#[test]
fn the_pasted_slurm_recipe_creates_logs_before_sbatch_and_merges_to_the_unsharded_bytes() {
    let submit = block("submit");
    // logs/ exists before the first sbatch; job ids come from --parsable; the merge is a --wrap job.
    let logs = submit.find("mkdir -p logs").expect("mkdir -p logs");
    assert!(logs < submit.find("sbatch").expect("sbatch"), "logs/ must be created before sbatch");
    assert!(submit.contains("JOB=$(sbatch --parsable sweep.sbatch)"));
    assert!(submit.contains("--dependency=afterany:$JOB") && submit.contains("--wrap="));
    let rerun = block("rerun");
    assert!(rerun.contains("--array=2 sweep.sbatch out/$JOB") && rerun.contains("--kill-on-invalid-dep=yes"));
    assert!(block("check").contains("sfsim --version"));

    // The job script: --array=0-(N-1) and --shards N agree.
    let script = between(&submit, "cat > sweep.sbatch <<'EOF'\n", "\nEOF\n");
    let last: u64 = between(script, "#SBATCH --array=0-", "\n").trim().parse().expect("array end");
    let shards: u64 = between(script, "--shard-from-env --shards ", " ").trim().parse().expect("--shards N");
    assert_eq!(last + 1, shards, "--array=0-{last} must match --shards {shards}");
    let sweep = between(script, "sfsim sweep ", " ").to_string();
    let wrap = between(&submit, "--wrap=\"", "\")").to_string();

    // Run every task as Slurm would, from a repository root, then the merge job's command.
    let root = tmpdir("slurm");
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"), root.join("scenarios")).expect("link");
    std::fs::write(root.join("sweep.sbatch"), script).expect("script");
    let job = "4242";
    for k in 0..shards {
        let o = Command::new("bash")
            .arg("sweep.sbatch")
            .current_dir(&root)
            .env("PATH", path_with_sfsim())
            .env("SLURM_ARRAY_JOB_ID", job)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", shards.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "0")
            .env("SLURM_ARRAY_TASK_MAX", last.to_string())
            .env("SLURM_ARRAY_TASK_STEP", "1")
            .output()
            .expect("bash runs");
        assert_eq!(o.status.code(), Some(0), "task {k}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // A rerun of task 2 alone (`sbatch --array=2 sweep.sbatch out/$JOB`) writes shard 2 again.
    let shard2 = root.join(format!("out/{job}/shard-2.jsonl"));
    let before = std::fs::read(&shard2).expect("shard 2");
    std::fs::remove_file(&shard2).expect("remove");
    // Without it, the merge job fails with exit 3 and the message the page quotes.
    let o = Command::new("sh")
        .args(["-c", &format!("JOB={job}; {wrap}")])
        .current_dir(&root)
        .env("PATH", path_with_sfsim())
        .output()
        .expect("sh runs");
    assert_eq!(o.status.code(), Some(3));
    let quoted = PAGE.lines().find(|l| l.starts_with("error: merge: shard 2/7 is missing")).expect("the page quotes merge's error");
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim_end(), quoted);
    let o = Command::new("bash")
        .args(["sweep.sbatch", &format!("out/{job}")])
        .current_dir(&root)
        .env("PATH", path_with_sfsim())
        .env("SLURM_ARRAY_JOB_ID", "4243")
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "1")
        .env("SLURM_ARRAY_TASK_MIN", "2")
        .env("SLURM_ARRAY_TASK_MAX", "2")
        .env("SLURM_ARRAY_TASK_STEP", "1")
        .output()
        .expect("bash runs");
    assert_eq!(o.status.code(), Some(0), "rerun: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&shard2).expect("shard 2 rerun"), before);

    // The same script submitted as --array=0-12:2 refuses, with the error the page quotes.
    let o = Command::new("bash")
        .args(["sweep.sbatch", "out/stepped"])
        .current_dir(&root)
        .env("PATH", path_with_sfsim())
        .env("SLURM_ARRAY_JOB_ID", "4244")
        .env("SLURM_ARRAY_TASK_ID", "8")
        .env("SLURM_ARRAY_TASK_COUNT", "7")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_MAX", "12")
        .env("SLURM_ARRAY_TASK_STEP", "2")
        .output()
        .expect("bash runs");
    assert_eq!(o.status.code(), Some(2));
    let quoted = PAGE.lines().find(|l| l.starts_with("error: --shard-from-env --shards 7: read")).expect("the page quotes the error");
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim_end(), quoted);

    let o = Command::new("sh")
        .args(["-c", &format!("JOB={job}; {wrap}")])
        .current_dir(&root)
        .env("PATH", path_with_sfsim())
        .output()
        .expect("sh runs");
    assert_eq!(o.status.code(), Some(0), "merge: {}", String::from_utf8_lossy(&o.stderr));
    let unsharded = root.join("unsharded.jsonl");
    let o = Command::new(env!("CARGO_BIN_EXE_sfsim"))
        .args(["sweep", &sweep, "--out", &unsharded.to_string_lossy(), "-q"])
        .current_dir(&root)
        .output()
        .expect("sfsim runs");
    assert_eq!(o.status.code(), Some(0));
    let merged_name = wrap[wrap.rfind("--out ").expect("merge --out") + "--out ".len()..].trim().replace("$JOB", job);
    assert_eq!(std::fs::read(root.join(merged_name)).expect("merged"), std::fs::read(&unsharded).expect("unsharded"));
}
