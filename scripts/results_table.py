#!/usr/bin/python3
"""Prints the README's results table from the files scripts/reproduce_results.sh wrote."""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "results/reproduce")
BLOG = {"none": 0.9188, "l2": 0.8514, "l1": 0.8947}
SPEC = {"none": "none", "l2": "l2(lambd=0.01)", "l1": "l1(lambd=1e-4)"}
seeds = [0, 1, 2]


def xtgrad_acc(kind, reg):
    accs = []
    for s in seeds:
        runs = json.loads((out / f"{kind}_s{s}" / "summary.json").read_text())["runs"]
        accs += [r["test_accuracy"] for r in runs if r["reg"].split("(")[0] == reg]
    return accs


def torch_acc(prefix, reg):
    return [json.loads((out / f"{prefix}_{reg}_s{s}.json").read_text())["test_accuracy"] for s in seeds]


def cell(accs):
    return f"{statistics.mean(accs):.4f} ({', '.join(f'{a:.4f}' for a in accs)})"


print("| penalty | blog's reported | xtgrad, blog gradient | PyTorch, blog gradient "
      "| xtgrad, true gradient | PyTorch, true gradient |")
print("|---|---|---|---|---|---|")
for reg in ["none", "l2", "l1"]:
    print(f"| {SPEC[reg]} | {BLOG[reg]:.4f} | {cell(xtgrad_acc('blog', reg))} | {cell(torch_acc('torchblog', reg))} "
          f"| {cell(xtgrad_acc('true', reg))} | {cell(torch_acc('torch', reg))} |")
print("\nmean of seeds 0, 1, 2 (each seed in brackets); test accuracy on the 10,000 test images after 20 epochs")

blog_none = [json.loads((out / f"blog_s{s}" / "summary.json").read_text())["runs"][0]["epochs"] for s in seeds]
print("\nblog-gradient none run, data loss by epoch (mean of seeds):")
for ep in [1, 2, 3, 5, 10, 20]:
    vals = [runs[ep - 1]["data_loss"] for runs in blog_none if len(runs) >= ep]
    if vals:
        print(f"  epoch {ep:>2}: {statistics.mean(vals):.3f}")
