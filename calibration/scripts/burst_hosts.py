#!/usr/bin/env python3
"""How each batch of a Durable burst spreads over hosts, measured beside simulated.

A diagnostic, not a calibration: no parameter comes from it. It reads the activity bodies of a
batched burst (SeBS-Flow's `burst` experiments: batches of 30 executions), either SeBS-Flow's
measured per-function rows or sfsim's per-execution output, and prints for each batch which
hosts ran bodies, when each ran its first one (seconds after the batch's first body), how many it
ran, and which hosts served HTTP starters; then the gap of each batch: a body's start minus the end of the
latest body of another function of its execution that ended before it started (for 690.ml,
each train's start minus its generate's end: SeBS-Flow's chain gap, `chain_gap_s`). calibration/README.md, session 25, reads
690.ml's Azure burst with it.

Inputs (any number, each `measured:PATH` or `sfsim:PATH`):

  measured:PATH  SeBS-Flow 2024 per-function rows, columns
                 func,start,end,is_cold,container_id,provider.request_id,blob.upload,
                 blob.download,request_id (perf-cost/690.ml/azure/2024/burst_1024.csv @e95c4d0 of
                 spcl/sebs-flow-artifact). `run_workflow` rows (the orchestrator's last episode,
                 no container) are left out. A host "served starters" when the first row of its
                 container in the file says is_cold = False: SeBS-Flow's HTTP starter
                 (benchmarks/wrappers/azure/python/main_workflow.py) and its activities
                 (handler_workflow.py) share one cold-start marker, /tmp/cold_run, so an
                 activity that finds it on a container it has not run on before finds the
                 starter's (a lower bound: a host that served starters and ran no body is not in
                 the file).
  sfsim:PATH     `sfsim run SCENARIO -d az-dorch --executions PATH` (JSON lines); bodies are the
                 invocations named `activity ...`, hosts their `instance`, and a host served
                 starters when it ran an `HTTP starter`.

Batches are cut where consecutive executions' first bodies are 100 s or more apart
(`--gap S` sets it). sfsim marks the hosts that ran a starter of the batch's own executions;
the measured file can only say which hosts served starters at some time before their first row.

Usage: burst_hosts.py [--gap S] measured:burst_1024.csv sfsim:ml.jsonl
"""
import csv
import json
import statistics as st
import sys

BATCH_GAP_S = 100.0


def measured(path):
    """Executions as lists of (start, end, host, function) bodies; hosts that served starters."""
    execs, first_row = {}, {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            if row['func'] == 'run_workflow' or not row['container_id']:
                continue
            start, end, host = float(row['start']), float(row['end']), row['container_id']
            execs.setdefault(row['request_id'], []).append((start, end, host, row['func']))
            if host not in first_row or start < first_row[host][0]:
                first_row[host] = (start, row['is_cold'] == 'True')
    starters = {h for h, (_, cold) in first_row.items() if not cold}
    return [(bodies, starters) for bodies in execs.values()]


def simulated(path):
    """Executions as (bodies, the hosts that ran its starter)."""
    execs = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            bodies, starters = [], set()
            for fn in r['functions']:
                if fn['name'] == 'HTTP starter':
                    starters.add(fn['instance'])
                elif fn['name'].startswith('activity'):
                    bodies.append((fn['start_s'], fn['end_s'], fn['instance'], fn['name']))
            if bodies:
                execs.append((bodies, starters))
    return execs


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float('nan')
    i = q * (len(xs) - 1)
    lo = int(i)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def gaps_of(bodies):
    """Each body's start minus the end of the latest body of another function that ended
    before it started (bodies with no such predecessor have no gap)."""
    out = []
    for s, _, _, name in bodies:
        ends = [e for _, e, _, other in bodies if other != name and e <= s]
        if ends:
            out.append(s - max(ends))
    return out


def report(label, execs, batch_gap_s):
    execs = sorted(((sorted(b), st_) for b, st_ in execs), key=lambda e: e[0][0][0])
    batches, batch_starters, last = [], [], None
    for b, starters in execs:
        if last is None or b[0][0] - last >= batch_gap_s:
            batches.append([])
            batch_starters.append(set())
        batches[-1].append(b)
        batch_starters[-1] |= starters
        last = b[0][0]
    print(f'== {label}: {len(execs)} executions, {len(batches)} batches')
    pooled = []
    for k, (batch, starters) in enumerate(zip(batches, batch_starters), 1):
        t0 = min(b[0][0] for b in batch)
        hosts = {}
        for b in batch:
            for s, _, h, _ in b:
                first, n = hosts.get(h, (s, 0))
                hosts[h] = (min(first, s), n + 1)
        gaps = [g for b in batch for g in gaps_of(b)]
        pooled += gaps
        joins = ', '.join(f'+{first - t0:.1f}{"*" if h in starters else ""} ({n})'
                          for h, (first, n) in sorted(hosts.items(), key=lambda kv: kv[1][0]))
        print(f'  batch {k}: {len(batch)} executions on {len(hosts)} hosts; first body per host, '
              f'* served starters, (bodies): {joins}')
        print(f'    gap p50 {quantile(gaps, 0.5):.2f} s, p95 {quantile(gaps, 0.95):.2f} s, '
              f'max {max(gaps, default=float("nan")):.2f} s; hosts with a body within 10 s of the '
              f'first: {sum(1 for first, _ in hosts.values() if first - t0 <= 10)}')
    print(f'  pooled gap: n={len(pooled)} p50 {quantile(pooled, 0.5):.3f} s, '
          f'p5 {quantile(pooled, 0.05):.3f} s, p95 {quantile(pooled, 0.95):.3f} s; hosts per batch '
          f'median {st.median(len({h for b in batch for _, _, h, _ in b}) for batch in batches)}')


def main(args):
    gap = BATCH_GAP_S
    if args[:1] == ['--gap'] and len(args) > 1:
        gap, args = float(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    for arg in args:
        kind, _, path = arg.partition(':')
        if kind == 'measured':
            report(arg, measured(path), gap)
        elif kind == 'sfsim':
            report(arg, simulated(path), gap)
        else:
            sys.exit(f'unknown input {arg!r}: measured:PATH or sfsim:PATH')


if __name__ == '__main__':
    main(sys.argv[1:])
