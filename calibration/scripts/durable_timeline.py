#!/usr/bin/env python3
"""How a burst of Durable executions uses its hosts over time, measured beside simulated.

A diagnostic, not a calibration: no parameter comes from it. It reads the function bodies of
one burst, either SeBS-Flow's measured per-function rows or sfsim's per-execution output, and
prints the same figures for both, so that what a span or gap target misses can be read off the
timeline (calibration/README.md, session 22, reads 1000-genome with it).

Inputs (any number, each `measured:PATH` or `sfsim:PATH`):

  measured:PATH  SeBS-Flow's per-function rows, with their header line (read by column
                 names: func, start, end, container_id, request_id), or reduced without one to
                 func,start,end,is_cold,container_id,...,request_id (request id the last
                 column); start and end in seconds. The 1000-genome Azure burst is
                 perf-cost/6100.1000-genome/azure/2024/burst_2048.csv @e95c4d0 of
                 spcl/sebs-flow-artifact; rows whose func is the orchestrator (run_workflow,
                 or `R` in a letter-coded reduction) are left out: they are instants written by
                 its last episode, not bodies.
  sfsim:PATH     `sfsim run SCENARIO -d az-dorch --executions PATH` (JSON lines); the bodies
                 are the invocations named `activity ...`.

Printed per input: the executions and bodies; the makespan (first body start to last body
end); the most bodies running at once; the time in which no body runs, and each such gap over
30 s; the executions in progress on average (each from its first body's start to its last
body's end, averaged over the makespan); the per-execution span's median (function_span_p50_s
of the targets); how many executions started (ran a first body) before any had ended, and the
waves in which they started; and the distinct hosts that ran a body (measured: container ids;
sfsim: the invocations' `instance`).

Usage: durable_timeline.py measured:azure.csv sfsim:genome.jsonl
"""
import csv
import json
import statistics as st
import sys

ORCHESTRATOR = ('R', 'run_workflow')
# Starts this far apart open a new wave (a reading aid, not a model value: twice the 5-minute
# lock of a control or work-item message, so that a wave is not split by one such wait).
WAVE_GAP_S = 600


def measured(path):
    """Bodies as (execution, start, end), and the number of containers. A file with a header
    line (`func,...`) is read by its column names, whatever their order (the 6101 files put
    request_id fourth); a reduction without one by position (request id last, container fifth)."""
    bodies, containers = [], set()
    lines = [l for l in open(path) if not l.startswith('#')]
    if lines and lines[0].startswith('func,'):
        rows = [(r['func'], r['start'], r['end'], r['container_id'], r['request_id']) for r in csv.DictReader(lines)]
    else:
        rows = [(p[0], p[1], p[2], p[4], p[-1]) for p in (l.strip().split(',') for l in lines) if len(p) >= 6]
    for func, start, end, container, request in rows:
        if func in ORCHESTRATOR:
            continue
        bodies.append((request, float(start), float(end)))
        containers.add(container)
    return bodies, len(containers)


def simulated(path):
    bodies, instances = [], set()
    for n, line in enumerate(open(path)):
        ex = json.loads(line)
        for f in ex['functions']:
            if f['name'].startswith('activity'):
                bodies.append((n, f['start_s'], f['end_s']))
                # sfsim names the instance of each invocation (since session 25).
                if 'instance' in f:
                    instances.add(f['instance'])
    return bodies, (len(instances) if instances else None)


def report(label, bodies, containers):
    t0 = min(s for _, s, _ in bodies)
    end = max(e for _, _, e in bodies)
    events = sorted([(s, 1) for _, s, _ in bodies] + [(e, -1) for _, _, e in bodies])
    running, most, idle, last, gaps = 0, 0, 0.0, t0, []
    for t, d in events:
        if running == 0 and t > last:
            idle += t - last
            if t - last > 30:
                gaps.append((last - t0, t - last))
        running += d
        most = max(most, running)
        last = t
    spans = {}
    for ex, s, e in bodies:
        a, b = spans.get(ex, (s, e))
        spans[ex] = (min(a, s), max(b, e))
    in_progress = sum(b - a for a, b in spans.values()) / (end - t0)
    print(f'{label}')
    print(f'  executions {len(spans)}, bodies {len(bodies)}, makespan {end - t0:.0f} s')
    print(f'  most bodies at once {most}; no body running for {idle:.0f} s '
          f'({100 * idle / (end - t0):.1f} % of the makespan)')
    print('  gaps over 30 s (start s: length s): '
          + (', '.join(f'{a:.0f}: {g:.0f}' for a, g in gaps) or 'none'))
    print(f'  executions in progress on average {in_progress:.1f}; '
          f'span median {st.median(b - a for a, b in spans.values()):.0f} s')
    starts = sorted(a - t0 for a, _ in spans.values())
    first_end = min(b for _, b in spans.values()) - t0
    print(f'  executions started before the first one ended ({first_end:.0f} s): '
          f'{sum(a < first_end for a in starts)} of {len(starts)}')
    waves, wave = [], [starts[0]]
    for a in starts[1:]:
        if a - wave[-1] > WAVE_GAP_S:
            waves.append(wave)
            wave = []
        wave.append(a)
    waves.append(wave)
    print(f'  start waves (first-body starts more than {WAVE_GAP_S} s apart), start s x count: '
          + ', '.join(f'{w[0]:.0f} x {len(w)}' for w in waves))
    if containers is not None:
        print(f'  hosts (containers, instances) that ran a body {containers}')


def main(args):
    if not args:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for arg in args:
        kind, _, path = arg.partition(':')
        if kind == 'measured':
            bodies, containers = measured(path)
        elif kind == 'sfsim':
            bodies, containers = simulated(path)
        else:
            print(f'error: {arg}: expected measured:PATH or sfsim:PATH', file=sys.stderr)
            return 2
        report(arg, bodies, containers)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
