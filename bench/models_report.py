#!/usr/bin/python3
"""bench/models.sh's report: every run (models.jsonl, one {"load1", "fw", "m", "t", "run"}
object a line) → a markdown table (models.md) and the gnuplot data (models.dat: model,
xtgrad/libtorch at 1 thread, at N threads). Each cell is the median over the rounds."""

import argparse
import datetime
import json
import math
import platform
import statistics

MODELS = ["mlp", "lenet", "bn_cnn", "transformer"]
LABEL = {"mlp": "seed MLP (MNIST, b64, SGD)", "lenet": "LeNet-5 (MNIST, b64, SGD+m)",
         "bn_cnn": "BN CNN (Fashion-MNIST, b128, AdamW)", "transformer": "char transformer (b32×64, AdamW)"}


def seconds_per_step(r):
    """Seconds per step of one run: the programs' median step; PyTorch's median epoch / steps."""
    run = r["run"]
    if r["fw"] != "pytorch":
        return run["seconds_per_step"]
    batch = run.get("batch") or run.get("batch_size")
    return run["seconds_per_epoch"] / math.ceil(run["train_size"] / batch)


def sgemm_table(path):
    """Rows of the one-thread sgemm table from models-sgemm.jsonl (empty without the file)."""
    try:
        runs = [json.loads(line) for line in open(path) if line.strip()] if path else []
    except FileNotFoundError:
        return []
    rows = []
    for m in MODELS:
        xt = next((r["run"] for r in runs if r["fw"] == "xtgrad" and r["m"] == m), None)
        lt = next((r["run"] for r in runs if r["fw"] == "libtorch" and r["m"] == m), None)
        if not xt or not lt or "sgemm_seconds_per_step" not in xt or "sgemm_seconds_per_step" not in lt:
            continue
        xs, ls = xt["seconds_per_step_mean"], lt["seconds_per_step_mean"]
        xg, lg = xt["sgemm_seconds_per_step"], lt["sgemm_seconds_per_step"]
        rows.append(f"| {LABEL[m]} | {xs * 1e3:.3f} ms | {xg * 1e3:.3f} ms ({xg / xs:.0%}) | {ls * 1e3:.3f} ms "
                    f"| {lg * 1e3:.3f} ms ({lg / ls:.0%}) | {(xs - xg) * 1e3:.3f} / {(ls - lg) * 1e3:.3f} ms "
                    f"| {xs / ls:.2f} | {xg / ls:.2f} |")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs"), ap.add_argument("md"), ap.add_argument("dat")
    for opt in ("--cpus", "--sgemm", "--rounds", "--quick", "--load-before", "--load-after", "--torch-config", "--text", "--nproc"):
        ap.add_argument(opt, default="")
    a = ap.parse_args()
    runs = [json.loads(line) for line in open(a.runs) if line.strip()]

    def pick(fw, m, t):
        return [r for r in runs if r["fw"] == fw and r["m"] == m and r["t"] == t]

    def med(fw, m, t, f):
        vals = [f(r) for r in pick(fw, m, t)]
        return statistics.median(vals) if vals else None

    def fmt(x, spec=".4g"):
        return "—" if x is None else format(x, spec)

    threads = sorted({r["t"] for r in runs})
    rows, dat = [], []
    for m in MODELS:
        ratios = []
        for t in threads:
            xt, lt, py = (med(fw, m, t, seconds_per_step) for fw in ("xtgrad", "libtorch", "pytorch"))
            ratio = xt / lt if xt and lt else None
            ratios.append(ratio)
            cpu = lambda fw: med(fw, m, t, lambda r: r["run"]["cpu_seconds_per_step"])
            rss = lambda fw: med(fw, m, t, lambda r: r["run"]["peak_rss_mb"])
            loss = lambda fw: (f'{fmt(med(fw, m, t, lambda r: r["run"]["first_loss"]), ".3f")}→'
                               f'{fmt(med(fw, m, t, lambda r: r["run"]["last_loss"]), ".3f")}')
            speed = []
            for fw in ("xtgrad", "libtorch"):
                one, mine = med(fw, m, 1, seconds_per_step), med(fw, m, t, seconds_per_step)
                speed.append(fmt(one / mine, ".2f") if t != 1 and one and mine else "—")
            loads = [r["load1"] for r in runs if r["m"] == m and r["t"] == t]
            rows.append(f"| {LABEL[m]} | {t} | {fmt(xt)} | {fmt(lt)} | {fmt(py)} | **{fmt(ratio, '.2f')}** | "
                        f"{fmt(cpu('xtgrad'))} / {fmt(cpu('libtorch'))} | "
                        f"{fmt(rss('xtgrad'), '.0f')} / {fmt(rss('libtorch'), '.0f')} | {speed[0]} / {speed[1]} | "
                        f"{loss('xtgrad')} / {loss('libtorch')} | "
                        f"{fmt(med('xtgrad', m, t, lambda r: r['run'].get('allocs_per_step', 0)), '.0f')} | "
                        f"{min(loads):.2f}–{max(loads):.2f} |")
        dat.append(f'"{m}" ' + " ".join("NaN" if r is None else f"{r:.4f}" for r in ratios))

    probes = [json.loads(line) for line in open(a.cpus) if line.strip()] if a.cpus else []
    capacity = [
        f'{p["when"]}: ceiling **{p["probe"]["speedup_ceiling"]:.2f}** (GFLOP/s alone '
        f'{" / ".join(f"{v:.0f}" for v in p["probe"]["alone_gflops"])}, together '
        f'{" / ".join(f"{v:.0f}" for v in p["probe"]["together_gflops"])}; GB/s alone '
        f'{" / ".join(f"{v:.0f}" for v in p["probe"]["alone_gbytes"])}, together '
        f'{" / ".join(f"{v:.0f}" for v in p["probe"]["together_gbytes"])}; load {p["load1"]:.2f})'
        for p in probes]

    sgemm_rows = sgemm_table(a.sgemm)

    xt_any = next((r["run"] for r in runs if r["fw"] == "xtgrad"), {})
    lt_any = next((r["run"] for r in runs if r["fw"] == "libtorch"), {})
    steps = {m: next((f'{r["run"]["warmup"]}+{r["run"]["steps"]}' for r in runs if r["m"] == m and r["fw"] == "xtgrad"), "?")
             for m in MODELS}
    out = [
        "# xtgrad vs libtorch: four models (bench/models.sh)",
        "",
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {a.nproc} cores; rounds {a.rounds}"
        f"{' (--quick: few steps, not a measurement)' if a.quick == '1' else ''}; "
        f"load average before {a.load_before}, after {a.load_after}.",
        "",
        "| model | threads | xtgrad s/step | libtorch s/step | PyTorch s/step | xtgrad / libtorch | CPU s/step xt / lt "
        "| peak RSS MB xt / lt | speedup N/1 xt / lt | loss first→last xt / lt | xtgrad allocs/step | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "- s/step: median of the timed steps' wall times (warm-up + timed steps: "
        + ", ".join(f"{m} {s}" for m, s in steps.items()) + "); each cell the median over the rounds. "
        "PyTorch (python3-torch, MLP and LeNet only): median timed epoch / steps per epoch "
        "(bench/reference_pytorch.py on 20,000 images, bench/lenet_pytorch.py on 6,400).",
        "- CPU s/step: getrusage user + sys of the timed steps / steps (above the wall time: more than one core busy).",
        "- speedup N/1: s/step at 1 thread / s/step at N threads, per framework. What the CPUs could give at most "
        "(bench/cpu_capacity: Σ over the CPUs running at once / the fastest alone, by multiply-adds and by L1 "
        "loads and stores, the lower): " + ("; ".join(capacity) if capacity else "not measured") + ".",
        "- loss: first step's, and the mean of the last 10 steps'. Both programs start from the same weights "
        "(bench/models/init.hpp) and see the same batches; dropout masks differ.",
        f"- xtgrad threads: its own pool (xtgrad::set_num_threads), OPENBLAS_NUM_THREADS=1, OpenBLAS core {xt_any.get('blas_core', '?')}. "
        f"libtorch {lt_any.get('version', '?')}: at::set_num_threads(N), interop 1, OPENBLAS_NUM_THREADS=N; {a.torch_config}.",
        f"- transformer text: {a.text} (characters as tokens).",
        "- The machine is shared: with a load above the core count other processes took CPU time, and wall-time "
        "rows measured so are not comparable (CPU s/step suffers less, except where a framework's threads spin).",
    ]
    if sgemm_rows:
        out += [
            "",
            "## One thread: inside and outside OpenBLAS's sgemm",
            "",
            "| model | xtgrad s/step | of it sgemm | libtorch s/step | of it sgemm | outside sgemm xt / lt "
            "| xtgrad / libtorch | if xtgrad had nothing outside sgemm |",
            "|---|---|---|---|---|---|---|---|",
            *sgemm_rows,
            "",
            "- One more run of each program at 1 thread with bench/libsgemm_clock.so preloaded: it clocks every "
            "cblas_sgemm (xtgrad) and sgemm_ (libtorch) call. Mean seconds per timed step, so the columns add up. "
            "Both call the same OpenBLAS (the MLP's and the transformer's products have the same shapes in "
            "both); libtorch's convolutions run in oneDNN, outside this clock.",
            "- Last column: xtgrad's sgemm time / libtorch's whole step, the ratio xtgrad would reach if all "
            "its work outside sgemm took no time at all.",
        ]
    open(a.md, "w").write("\n".join(out) + "\n")
    open(a.dat, "w").write("# model xtgrad/libtorch at " + " and ".join(f"{t} thread(s)" for t in threads) + "\n"
                           + "\n".join(dat) + "\n")


if __name__ == "__main__":
    main()
