#!/usr/bin/env python3
"""Module differential test of xtgrad against PyTorch (float64).

Each file tests/diff/module_cases/<family>.py exposes CASES, a list of dicts:
  name         unique case name
  config       JSON-able dict for the C++ side: "module" picks the registered case of
               tests/diff/module_cases/<family>.cpp, the rest are the module's options
  build()      -> the torch module (called after torch.manual_seed(seed); made float64 here)
  inputs(gen)  -> dict name -> tensor (gen: a torch.Generator seeded per case)
  forward(m, inputs) -> dict name -> output tensor
  grad_inputs  optional list of input names whose gradients are compared (default: every
               floating input)
  training     optional bool (default False: eval mode on both sides)
For each case this script saves the torch state_dict with numpy (np.savez with its own names: the
C++ side loads it with nn::load_parameters, so this is also the state-dict loading test), the
inputs and an upstream gradient R per output, runs module_runner on all cases, and compares the
outputs and the gradients of L = Σ Σ out ⊙ R with respect to the inputs and every parameter:
|xtgrad - torch| <= rtol*(|torch| + 1e-3*max|torch|) + atol per element (rtol 1e-9, atol 1e-12).
Prints the worst error per case, err = max |x - t| / (|t| + 1e-3*max|t| + atol/rtol).

Usage: module_diff.py --runner build/tests/diff/module_runner [--cases DIR] [-k SUBSTRING] [--keep DIR]
Exit status: 0 all agree, 1 a mismatch or a case the runner failed, 2 bad usage, 77 torch missing.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zlib

try:
    import numpy as np
    import torch
except ImportError:
    print("module_diff: SKIPPED: torch (or numpy) is not importable by " + sys.executable +
          " (install python3-torch: scripts/install_deps.sh --test)")
    sys.exit(77)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

RTOL = 1e-9
ATOL = 1e-12
HERE = os.path.dirname(os.path.abspath(__file__))


def load_cases(folder):
    """Every case of every module_cases/*.py, in file then list order."""
    cases = []
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".py") or file.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location("module_cases_" + file[:-3], os.path.join(folder, file))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for case in mod.CASES:
            cases.append(dict(case, family=file[:-3]))
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("module_diff: duplicate case names: " + ", ".join(sorted(dup)))
    return cases


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def prepare(case, folder):
    """Writes the case's files into `folder`; returns torch's outputs and gradients by result key."""
    seed = seed_of(case["name"])
    torch.manual_seed(seed)
    module = case["build"]().double()
    module.train(case.get("training", False))
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = case["inputs"](gen)
    grad_inputs = case.get("grad_inputs")
    if grad_inputs is None:
        grad_inputs = [k for k, v in inputs.items() if v.is_floating_point()]
    inputs = {k: v.detach().clone().requires_grad_(k in grad_inputs) for k, v in inputs.items()}
    outputs = case["forward"](module, inputs)
    upstream = {k: torch.randn(v.shape, generator=gen, dtype=torch.float64) for k, v in outputs.items()}
    loss = sum((outputs[k] * upstream[k]).sum() for k in outputs)
    params = dict(module.named_parameters())
    wrt = [inputs[k] for k in grad_inputs] + list(params.values())
    grads = torch.autograd.grad(loss, wrt, allow_unused=True) if wrt else []
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(wrt, grads)]

    np.savez(os.path.join(folder, "state.npz"), **{k: v.detach().numpy() for k, v in module.state_dict().items()})
    np.savez(os.path.join(folder, "inputs.npz"), **{k: v.detach().numpy() for k, v in inputs.items()})
    np.savez(os.path.join(folder, "upstream.npz"), **{k: v.numpy() for k, v in upstream.items()})
    config = dict(case["config"], name=case["name"], grad_inputs=list(grad_inputs),
                  training=bool(case.get("training", False)))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)

    expected = {"out." + k: v.detach().numpy() for k, v in outputs.items()}
    keys = ["grad.input." + k for k in grad_inputs] + ["grad.param." + k for k in params]
    for key, g in zip(keys, grads):
        expected[key] = g.numpy()
    return expected


def worst_error(got, want):
    """(err, passes) for one array: see the module docstring."""
    if got.shape != want.shape:
        return float("inf"), False
    if want.size == 0:
        return 0.0, True
    scale = np.abs(want).max()
    diff = np.abs(got - want)
    tol = RTOL * (np.abs(want) + 1e-3 * scale) + ATOL
    if not np.all(np.isfinite(got)) or not np.all(np.isfinite(want)):
        same = np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(got[~np.isfinite(want)],
                                                                              want[~np.isfinite(want)])
        if not same:
            return float("inf"), False
        finite = np.isfinite(want)
        diff, tol, want = diff[finite], tol[finite], want[finite]
    err = diff / (np.abs(want) + 1e-3 * scale + ATOL / RTOL)
    return float(err.max(initial=0.0)), bool(np.all(diff <= tol))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runner", required=True, help="path to the module_runner executable")
    parser.add_argument("--cases", default=os.path.join(HERE, "module_cases"), help="folder of the *.py case files")
    parser.add_argument("-k", dest="filter", default="", help="only the cases whose name contains this")
    parser.add_argument("--keep", help="write the case folders here (kept) instead of a temporary folder")
    args = parser.parse_args()
    if not os.access(args.runner, os.X_OK):
        print("module_diff: runner not found: " + args.runner)
        return 2
    cases = [c for c in load_cases(args.cases) if args.filter in c["name"]]
    if not cases:
        print("module_diff: no cases" + (" match '" + args.filter + "'" if args.filter else ""))
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or tmp
        expected, dirs = {}, []
        for i, case in enumerate(cases):
            folder = os.path.join(root, "%03d_%s" % (i, case["name"]))
            os.makedirs(folder, exist_ok=True)
            expected[case["name"]] = prepare(case, folder)
            dirs.append(folder)
        run = subprocess.run([args.runner] + dirs, capture_output=True, text=True, timeout=600)
        if run.stderr:
            sys.stderr.write(run.stderr)
        status = {}
        for line in run.stdout.splitlines():
            word, _, rest = line.partition(" ")
            name = rest.split(":", 1)[0]
            status[name] = (word, rest)

        failures = 0
        overall = 0.0
        for case, folder in zip(cases, dirs):
            name = case["name"]
            word, rest = status.get(name, ("missing", name + ": the runner printed nothing for it"))
            if word != "ok":
                print("FAIL %-40s runner: %s" % (name, rest))
                failures += 1
                continue
            got = dict(np.load(os.path.join(folder, "result.npz")))
            want = expected[name]
            worst, worst_key, bad = 0.0, "", []
            for key in sorted(set(got) | set(want)):
                if key not in got or key not in want:
                    bad.append(key + (" missing from xtgrad's result" if key not in got else " not computed by torch"))
                    continue
                err, ok = worst_error(got[key], want[key])
                if not ok:
                    shape_note = "" if got[key].shape == want[key].shape else \
                        " (shape %s, torch %s)" % (got[key].shape, want[key].shape)
                    bad.append("%s err %.3g%s" % (key, err, shape_note))
                if err >= worst:
                    worst, worst_key = err, key
            overall = max(overall, worst)
            if bad:
                failures += 1
                print("FAIL %-40s %s" % (name, "; ".join(bad)))
            else:
                print("ok   %-40s worst %.3g (%s)" % (name, worst, worst_key))
        print("module_diff: %d cases, %d failed, worst error %.3g (tolerance %g)" %
              (len(cases), failures, overall, RTOL))
        return 1 if failures or run.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())
