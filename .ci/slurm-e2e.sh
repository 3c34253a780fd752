#!/usr/bin/env bash
# End-to-end test of the Slurm recipe in docs/cluster.md on a throwaway single-node cluster.
#
# Installs Slurm and munge from Debian's packages (when missing), starts munged, slurmctld and
# slurmd on loopback with a minimal configuration under a temporary directory (no systemd, no
# cgroups, no accounting), then, in a scratch "repository root" holding a copy of scenarios/ and
# with the release binary on PATH, runs the page's blocks marked `<!-- slurm-e2e: NAME -->`
# verbatim:
#   1. `check` and `submit`: the array and the merge; the merged file must equal the unsharded
#      sweep byte for byte;
#   2. `submit` again with task 2 hung and cancelled (scancel): the second run writes to its own
#      folder, and the merge must fail naming shard 2/7;
#   3. `rerun`: task 2 alone into that folder, merged again, byte-identical again;
#   4. the same script submitted as a stepped array (--array=0-12:2): every task must refuse,
#      naming the Slurm variables.
# Daemons are stopped by PID on exit. Skips (exit 0, saying why) when it cannot install or run
# Slurm here: not Linux with apt-get, not root, or the install fails. Any other failure exits 1.
#
# Usage: .ci/slurm-e2e.sh     (from anywhere; builds the release binary if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PAGE=$ROOT/docs/cluster.md
started=$SECONDS

say() { echo "slurm-e2e: $*"; }
skip() {
    say "SKIPPED: $*"
    exit 0
}
fail() {
    say "FAILED: $*" >&2
    exit 1
}

# --- Slurm and munge from Debian's packages ----------------------------------------------------
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "not root (installing packages and running slurmd need root)"
need=(sbatch srun squeue scontrol scancel sinfo slurmctld slurmd munged mungekey)
missing() {
    for c in "${need[@]}"; do command -v "$c" >/dev/null || return 0; done
    return 1
}
if missing; then
    command -v apt-get >/dev/null || skip "apt-get not available (Slurm and munge are installed from Debian's packages)"
    say "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/tmp/sfsim-slurm-e2e-apt.log 2>&1 || skip "apt-get update failed (see /tmp/sfsim-slurm-e2e-apt.log)"
    apt-get install -y -q --no-install-recommends slurm-wlm munge >>/tmp/sfsim-slurm-e2e-apt.log 2>&1 ||
        skip "apt-get install slurm-wlm munge failed (see /tmp/sfsim-slurm-e2e-apt.log)"
    missing && skip "slurm-wlm and munge installed but one of ${need[*]} is not on PATH"
fi

# --- the binary ---------------------------------------------------------------------------------
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/sfsim
if [ ! -x "$BIN" ]; then
    say "building the release binary"
    cargo build --release -q
fi

# --- a single-node cluster on loopback ----------------------------------------------------------
T=$(mktemp -d /tmp/sfsim-slurm-e2e.XXXXXX)
C=$T/cluster
mkdir -p "$C/state" "$C/spool" "$C/munge"
chmod 700 "$T" "$C" "$C/munge"
pids=()
cleanup() {
    local rc=$?
    if [ -n "${SLURM_CONF:-}" ] && [ "${#pids[@]}" -gt 1 ]; then
        scancel --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[$i]}" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$rc" = 0 ]; then
        rm -rf "$T"
    else
        say "kept $T (logs: $C/*.log, $T/repo/logs/)"
    fi
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=46817
while ! { port_free $base && port_free $((base + 1)); }; do base=$((base + 2)); done
node=$(hostname -s)

mungekey --create --keyfile="$C/munge/munge.key"
munged --foreground --force --socket="$C/munge/munge.sock" --key-file="$C/munge/munge.key" \
    --pid-file="$C/munge/munged.pid" --log-file="$C/munge/munged.log" --seed-file="$C/munge/munged.seed" \
    2>>"$C/munged.log" &
pids+=($!)
cat >"$C/slurm.conf" <<EOF
ClusterName=sfsim-e2e
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$C/munge/munge.sock
CryptoType=crypto/munge
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/slurmctld.log
SlurmdLogFile=$C/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1,bf_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=e2e Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$C/slurm.conf
for _ in $(seq 50); do [ -S "$C/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$C/munge/munge.sock" ] || fail "munged did not start: $(cat "$C/munged.log" "$C/munge/munged.log" 2>/dev/null)"
slurmctld -D -i -f "$SLURM_CONF" 2>>"$C/slurmctld.err" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" 2>>"$C/slurmd.err" &
pids+=($!)
for _ in $(seq 100); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 0.2
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || fail "the node did not come up: $(sinfo 2>&1; tail -5 "$C/slurmctld.log" "$C/slurmd.log")"
say "$(sinfo --version), $(munged --version 2>&1 | head -1)"
say "cluster up: node $node, $(nproc) CPUs, ports $base/$((base + 1)), munged/slurmctld/slurmd pids ${pids[*]}"

# --- the page's blocks --------------------------------------------------------------------------
block() { # the fenced block after `<!-- slurm-e2e: $1 -->`
    local text
    text=$(awk -v name="$1" '
        $0 == "<!-- slurm-e2e: " name " -->" { armed = 1; next }
        armed && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$PAGE")
    [ -n "$text" ] || fail "docs/cluster.md has no block marked slurm-e2e: $1"
    printf '%s\n' "$text"
}
wait_jobs() { # until none of the jobs is pending, running or completing (at most 120 s)
    for _ in $(seq 600); do
        [ -z "$(squeue -h -j "$(
            IFS=,
            echo "$*"
        )" -t PD,R,CG,CF -o %i 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    squeue
    fail "jobs $* still queued after 120 s"
}
job_field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
tasks() { # one line per task of an array job: state, reason, exit code
    scontrol -o show job "$1" | sed -E 's/.*ArrayTaskId=([^ ]+).*JobState=([^ ]+) Reason=([^ ]+).*ExitCode=([^ ]+).*/task \1: \2 (\3), exit \4/'
}

# A scratch repository root: the recipe writes logs/, out/ and sweep.sbatch where it runs.
REPO=$T/repo
mkdir -p "$REPO" "$T/bin"
cp -r "$ROOT/scenarios" "$REPO/"
cp "$BIN" "$T/bin/sfsim" # the page's "cp target/release/sfsim ~/bin/", with $T/bin as ~/bin
export PATH=$T/bin:$PATH
cd "$REPO"
sfsim sweep scenarios/sweeps/video-width.toml --out "$T/unsharded.jsonl" -q

# 1. The recipe as written.
eval "$(block check)"
eval "$(block submit)"
wait_jobs "$JOB" "$MERGE"
[ "$(job_field "$MERGE" JobState)" = COMPLETED ] ||
    fail "merge job $MERGE: $(job_field "$MERGE" JobState): $(cat logs/"$MERGE"-merge.log 2>&1)
array job $JOB:
$(tasks "$JOB")"
[ "$(ls out/"$JOB"/shard-*.jsonl | wc -l)" = 7 ] || fail "expected 7 shard files in out/$JOB"
for k in 0 1 2 3 4 5 6; do
    grep -q "shard $k/7 (42 in all; from SLURM_ARRAY_TASK_ID=$k, --shards 7)" logs/"${JOB}_$k".log ||
        fail "logs/${JOB}_$k.log: $(cat logs/"${JOB}_$k".log)"
done
cmp out/"$JOB"/video-width.jsonl "$T/unsharded.jsonl" || fail "merged out/$JOB/video-width.jsonl differs from the unsharded sweep"
say "ok: array job $JOB (7 tasks) + merge job $MERGE: out/$JOB/video-width.jsonl is byte-identical to the unsharded sweep"
FIRST=$JOB

# 2. The same submission with task 2 hung, then cancelled while it runs.
mkdir -p "$T/hang"
cat >"$T/hang/sfsim" <<EOF
#!/bin/sh
if [ "\$1" = sweep ] && [ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ]; then exec sleep 300; fi
exec "$T/bin/sfsim" "\$@"
EOF
chmod +x "$T/hang/sfsim"
saved_path=$PATH
PATH=$T/hang:$PATH # sbatch passes the submitting PATH to the tasks
eval "$(block submit)"
PATH=$saved_path
for _ in $(seq 300); do
    [ "$(squeue -h -j "${JOB}_2" -t R -o %i 2>/dev/null)" ] && break
    sleep 0.2
done
[ "$(squeue -h -j "${JOB}_2" -t R -o %i)" ] || fail "task ${JOB}_2 never ran"
scancel "${JOB}_2"
wait_jobs "$JOB" "$MERGE"
[ "$JOB" != "$FIRST" ] && cmp -s out/"$FIRST"/video-width.jsonl "$T/unsharded.jsonl" || fail "the second run touched the first one's folder"
[ "$(job_field "${JOB}_2" JobState)" = CANCELLED ] || fail "task ${JOB}_2: $(job_field "${JOB}_2" JobState)"
[ ! -e out/"$JOB"/shard-2.jsonl ] && [ "$(ls out/"$JOB"/shard-*.jsonl | wc -l)" = 6 ] || fail "expected 6 shard files in out/$JOB: $(ls out/"$JOB")"
[ "$(job_field "$MERGE" JobState)" = FAILED ] && [ "$(job_field "$MERGE" ExitCode)" = 3:0 ] ||
    fail "merge job $MERGE: $(job_field "$MERGE" JobState) $(job_field "$MERGE" ExitCode), expected FAILED 3:0"
grep -q "error: merge: shard 2/7 is missing (6 of 7 shard files given)" logs/"$MERGE"-merge.log || fail "merge log: $(cat logs/"$MERGE"-merge.log)"
[ ! -e out/"$JOB"/video-width.jsonl ] || fail "a merged file was written despite a missing shard"
say "ok: array job $JOB with task 2 cancelled: merge job $MERGE failed (exit 3) with:"
sed 's/^/    /' logs/"$MERGE"-merge.log

# 3. Rerun task 2 alone, as the page says, and merge again.
eval "$(block rerun)"
wait_jobs "$RERUN" "$MERGE"
grep -q "shard 2/7 (42 in all; from SLURM_ARRAY_TASK_ID=2, --shards 7)" logs/"${RERUN}_2".log || fail "logs/${RERUN}_2.log: $(cat logs/"${RERUN}_2".log)"
[ "$(job_field "$MERGE" JobState)" = COMPLETED ] || fail "merge job $MERGE: $(job_field "$MERGE" JobState): $(cat logs/"$MERGE"-merge.log)"
cmp out/"$JOB"/video-width.jsonl "$T/unsharded.jsonl" || fail "merged out/$JOB/video-width.jsonl differs after the rerun"
say "ok: rerun job $RERUN (--array=2) + merge job $MERGE: out/$JOB/video-width.jsonl is byte-identical to the unsharded sweep"

# 4. A stepped array with the page's script: every task refuses, naming the Slurm variables.
STEP=$(sbatch --parsable --array=0-12:2 sweep.sbatch out/stepped)
wait_jobs "$STEP"
for k in 0 2 4 6 8 10 12; do
    grep -q "read SLURM_ARRAY_TASK_ID=$k, SLURM_ARRAY_TASK_COUNT=7, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_MAX=12, SLURM_ARRAY_TASK_STEP=2" logs/"${STEP}_$k".log ||
        fail "logs/${STEP}_$k.log: $(cat logs/"${STEP}_$k".log)"
    [ "$(job_field "${STEP}_$k" ExitCode)" = 2:0 ] || fail "task ${STEP}_$k: exit $(job_field "${STEP}_$k" ExitCode), expected 2:0"
done
[ -z "$(ls out/stepped)" ] || fail "a refused task wrote output: $(ls out/stepped)"
say "ok: --array=0-12:2 with --shards 7: all 7 tasks refused (exit 2), e.g."
sed 's/^/    /' logs/"${STEP}_8".log

say "PASSED in $((SECONDS - started)) s"
