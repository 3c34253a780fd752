#!/usr/bin/env python3
"""Azure's CPU-time spread between invocations (models/az-func.toml function.cpu_noise_sigma).

Reads SeBS-Flow 2024 per-function timestamp files (spcl/sebs-flow-artifact; the files the
SeBS-Flow scenarios cite) reduced to the columns func,start,end,is_cold,container_id[,...]:

  excamera azure  perf-cost/680.excamera/azure/batch-size-30-reps-6/burst_256.csv @5b26160
  excamera aws    perf-cost/680.excamera/aws/2024/burst_256.csv @e95c4d0
  vid azure       perf-cost/650.vid/azure/batch-size-30-reps-6/rep{1..6}/burst_2048.csv @2a6c2b0
                  (concatenated; video bodies: a = analysis, d = decode/merge)
  vid aws         perf-cost/650.vid/aws/batch-size-30-reps-6/burst_2048.csv @1cacaad

For each CPU-bound body it prints the log-sd of the body durations (end - start) on Azure over
all hosts and pooled within each host (hosts with 3 or more warm rows; a host's Python worker
runs one body at a time, so a host's rows do not overlap), on Lambda over all rows (each row its
own environment, so Lambda's spread is the work's), and sqrt(max(0, within^2 - lambda^2)): what
an Azure host adds from one invocation to the next. The parameter is the median of that column.
Other estimators over the same five rows give 0.038 (pooled variance, unclipped) to 0.091
(pooled RMS of the clipped values); calibration/README.md, session 13, gives the study target's
sensitivity to them.

Usage: cpu_noise.py EXCAMERA_AZURE EXCAMERA_AWS VID_AZURE VID_AWS
"""
import math
import statistics as st
import sys


def rows(path):
    out = []
    for line in open(path):
        if line.startswith('#') or line.startswith('func,'):
            continue
        p = line.strip().split(',')
        if len(p) < 5:
            continue
        cold = p[3] in ('1', 'True', 'true')
        out.append((p[0], float(p[1]), float(p[2]), cold, p[4]))
    return out


def spread(path, func, azure):
    logs_by_host = {}
    for f, s, e, cold, host in rows(path):
        if f != func or host == '-' or (azure and cold) or e <= s:
            continue
        logs_by_host.setdefault(host, []).append(math.log(e - s))
    all_logs = [x for v in logs_by_host.values() for x in v]
    multi = [v for v in logs_by_host.values() if len(v) >= 3]
    dof = sum(len(v) - 1 for v in multi)
    within = math.sqrt(sum((x - st.mean(v)) ** 2 for v in multi for x in v) / dof) if dof else float('nan')
    return st.pstdev(all_logs), within, len(multi)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    ex_az, ex_aws, vid_az, vid_aws = sys.argv[1:]
    bodies = [('680.excamera encode', ex_az, ex_aws, 'encode'), ('680.excamera reencode', ex_az, ex_aws, 'reencode'),
              ('680.excamera rebase', ex_az, ex_aws, 'rebase'), ('650.vid analysis', vid_az, vid_aws, 'a'),
              ('650.vid merge', vid_az, vid_aws, 'd')]
    extra = []
    print('body                   azure all  azure within (hosts)  lambda  beyond lambda')
    for name, az, aws, f in bodies:
        a_all, a_within, hosts = spread(az, f, True)
        l_all, _, _ = spread(aws, f, False)
        x = math.sqrt(max(0.0, a_within ** 2 - l_all ** 2))
        extra.append(x)
        print(f'{name:22s} {a_all:9.3f}  {a_within:12.3f} ({hosts:3d})  {l_all:6.3f}  {x:13.3f}')
    print(f'median beyond lambda: {st.median(extra):.3f}')


if __name__ == '__main__':
    main()
