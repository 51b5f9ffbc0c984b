#!/usr/bin/env python3
"""Two builds of bench_train_step and bench_conv side by side: each benchmark of the OLD and the
NEW build tree run alternately, ROUNDS rounds, in one session; prints the median real time (ns)
of each, the ratio new/old, the allocation counters, and the geometric mean of the ratios.

Usage: bench/compare_builds.py OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS]   (e.g. build-main build 3)
Run it on a quiet machine (say the load): OPENBLAS_NUM_THREADS=1 is set for both.
"""
import json, math, os, statistics, subprocess, sys

old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
res = {}
for r in range(rounds):
    for tag, root in (("old", old), ("new", new)):
        for b in ("bench_train_step", "bench_conv"):
            out = subprocess.run([f"{root}/bench/{b}", "--benchmark_format=json", "--benchmark_min_time=0.3"],
                                 capture_output=True, text=True, env=env).stdout
            for bm in json.loads(out)["benchmarks"]:
                key = bm["name"].replace("/min_warmup_time:0.300", "").replace("/min_warmup_time:0.200", "").replace("/real_time", "")
                d = res.setdefault(key, {"old": [], "new": [], "counters": {}})
                d[tag].append(bm["real_time"])
                for c in ("allocs", "allocs_per_step", "mallocs", "allocations"):
                    if c in bm: d["counters"].setdefault(tag, bm[c])
ratios = []
print(f"{'benchmark':60s} {'old ns':>9s} {'new ns':>9s} {'new/old':>8s}  allocs(old,new)")
for k, d in res.items():
    o, n = statistics.median(d["old"]), statistics.median(d["new"])
    ratios.append(n / o)
    print(f"{k[:60]:60s} {o:9.1f} {n:9.1f} {n/o:8.3f}  {d['counters']}")
print("geomean new/old:", round(math.exp(sum(math.log(x) for x in ratios) / len(ratios)), 3))
