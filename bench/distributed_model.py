#!/usr/bin/python3
"""Cost model of a data-parallel step of the seed model, checked against the measurements of
bench/distributed.sh and projected past this machine (docs/distributed.md explains it).

A step on N ranks with global batch B:
    t_step(N, B) = t_compute(B/N) + t_allreduce(N, S) - t_overlap
    t_compute(b) = t0 + ts * b            (fitted to the 1-rank runs at b = B and B/2)
    t_allreduce  = 2(N-1)/N * S / bw + 2(N-1) * lat      (ring allreduce of S bytes)
with S = 159,010 float32 = 636,040 bytes. t_overlap is ~0 for this model: fc1.weight (98.6 %
of S) is the last gradient backward finishes, so nothing is left to hide its reduction behind.

Usage: bench/distributed_model.py bench/results/distributed
"""

import json
import os
import sys

S = 159010 * 4
NETWORKS = [("10 Gbit/s Ethernet (TCP)", 10e9 / 8, 10e-6), ("100 Gbit/s InfiniBand/RoCE", 100e9 / 8, 2e-6)]


def rows(folder, name):
    path = os.path.join(folder, name)
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "bench/results/distributed"
    xt, half, ar = rows(folder, "xtgrad.jsonl"), rows(folder, "half.jsonl"), rows(folder, "allreduce.jsonl")
    one_rank = [r for r in xt + half if r["ranks"] == 1]
    if not one_rank or not ar:
        sys.exit("distributed_model.py: no measurements in " + folder + " (run bench/distributed.sh)")
    # Per-step compute: s/epoch over the steps of an epoch, least squares t = t0 + ts * b.
    pts = {}
    for r in one_rank:
        steps = -(-r["train_size"] // r["batch_size"])
        pts[r["batch_size"]] = r["seconds_per_epoch"] / steps
    bs = sorted(pts)
    n = len(bs)
    mb, mt = sum(bs) / n, sum(pts[b] for b in bs) / n
    ts = sum((b - mb) * (pts[b] - mt) for b in bs) / sum((b - mb) ** 2 for b in bs)
    t0 = mt - ts * mb
    t_ar = min(ar, key=lambda r: abs(r["allreduce_bytes"] - S))["microseconds"] * 1e-6

    print(f"Fitted compute per step (1 rank): t0 = {t0 * 1e6:.0f} µs + {ts * 1e6:.2f} µs per sample "
          f"(points: " + ", ".join(f"b={b}: {pts[b] * 1e6:.0f} µs" for b in bs) + ")")
    print(f"Measured allreduce of the {S:,}-byte gradient on 2 ranks: {t_ar * 1e6:.0f} µs\n")
    print("Check against 2 ranks here: predicted step = t_compute(B/2) + t_allreduce (no overlap)\n")
    print("| global batch | t_compute(B/2) µs | + allreduce µs | predicted step µs | measured step µs (overlapped / not) | predicted speedup | measured speedup (overlapped / not) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for b in sorted({r["batch_size"] for r in xt if r["ranks"] == 2}):
        steps = -(-xt[0]["train_size"] // b)
        one = next(r for r in xt if r["ranks"] == 1 and r["batch_size"] == b)
        ov = next(r for r in xt if r["ranks"] == 2 and r["batch_size"] == b and r["overlap"])
        no = next(r for r in xt if r["ranks"] == 2 and r["batch_size"] == b and not r["overlap"])
        comp = pts.get(b // 2, t0 + ts * b / 2)
        pred = comp + t_ar
        t1 = one["seconds_per_epoch"] / steps
        mo, mn = ov["seconds_per_epoch"] / steps, no["seconds_per_epoch"] / steps
        print(f"| {b} | {comp * 1e6:.0f} | {t_ar * 1e6:.0f} | {pred * 1e6:.0f} | {mo * 1e6:.0f} / {mn * 1e6:.0f} | "
              f"{t1 / pred:.2f}× | {t1 / mo:.2f}× / {t1 / mn:.2f}× |")

    print("\nProjection: the per-rank batch b each N needs for 90 % efficiency, i.e. "
          "t_compute(b) ≥ 9 · t_allreduce(N) (no overlap), with this machine's per-core compute\n")
    header = "| ranks N | " + " | ".join(f"{name}: allreduce µs | b for 90 % | global batch" for name, _, _ in NETWORKS) + " |"
    print(header)
    print("|---:|" + "---:|---:|---:|" * len(NETWORKS))
    for N in [2, 4, 8, 16, 32, 64, 128, 256]:
        cells = []
        for _, bw, lat in NETWORKS:
            t = 2 * (N - 1) / N * S / bw + 2 * (N - 1) * lat
            b = max(1, -(-(9 * t - t0) // ts))
            cells.append(f"{t * 1e6:.0f} | {int(b):,} | {int(b) * N:,}")
        print(f"| {N} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
