#!/usr/bin/env python3
"""Mid-flight stalls of a batched Durable burst in SeBS-Flow's measured rows, with the hosts.

A diagnostic, not a calibration: no parameter comes from it. For each batch of a `burst`
experiment (batches cut where executions' first bodies are 100 s or more apart), it prints every
instance's first and last body (seconds after the batch's first body), then every hop longer
than the threshold: the end of an execution's function, the start of its next one, and the
instance that ran it with that instance's first body in the batch. calibration/README.md,
session 26, reads 690.ml's and 660.map-reduce's Azure bursts with it: the stalls last 32-46 s
and one partition's orchestrations resume together.

Input: SeBS-Flow 2024 per-function rows (func,start,end,is_cold,container_id,...,request_id;
e.g. perf-cost/660.map-reduce/azure/2024/burst_256.csv @e95c4d0 of spcl/sebs-flow-artifact);
`run_workflow` rows (no container) are left out. The functions of an execution are taken in
the order they ran: consecutive rows of one function are one stage (a map's items).

Usage: burst_stalls.py CSV [THRESHOLD_S]   (default 15 s)
"""
import csv
import sys

BATCH_GAP_S = 100.0


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1].startswith('-'):
        sys.exit(__doc__)
    path = sys.argv[1]
    threshold_s = float(sys.argv[2]) if len(sys.argv) == 3 else 15.0
    execs = {}
    with open(path, newline='') as f:
        for r in csv.DictReader(f):
            if r['func'] == 'run_workflow' or not r['container_id']:
                continue
            execs.setdefault(r['request_id'], []).append((float(r['start']), float(r['end']), r['container_id'], r['func']))
    batches, last = [], None
    for first, k in sorted((min(b[0] for b in v), k) for k, v in execs.items()):
        if last is None or first - last >= BATCH_GAP_S:
            batches.append([])
        batches[-1].append(k)
        last = first
    for n, batch in enumerate(batches, 1):
        t0 = min(b[0] for k in batch for b in execs[k])
        first, final = {}, {}
        for s, e, h, _ in sorted(b for k in batch for b in execs[k]):
            first.setdefault(h, s - t0)
            final[h] = max(final.get(h, 0.0), e - t0)
        hosts = ', '.join(f'{h} {first[h]:.1f}-{final[h]:.1f}' for h in sorted(first, key=first.get))
        print(f'batch {n}: {len(batch)} executions; bodies per host, first-last: {hosts}')
        stalls = 0
        for k in batch:
            stages = []
            for b in sorted(execs[k]):
                if stages and stages[-1][0] == b[3]:
                    stages[-1][1].append(b)
                else:
                    stages.append((b[3], [b]))
            for (fa, a), (fb, nxt) in zip(stages, stages[1:]):
                end = max(a, key=lambda b: b[1])
                start = min(nxt)
                if start[0] - end[1] > threshold_s:
                    stalls += 1
                    print(f'  {k} {fa} -> {fb}: ended {end[1] - t0:.1f} ({end[2]}), next {start[0] - t0:.1f} '
                          f'({start[2]}, its first body {first[start[2]]:.1f}), waited {start[0] - end[1]:.1f} s')
        print(f'  {stalls} hops over {threshold_s:g} s')


if __name__ == '__main__':
    main()
