#!/usr/bin/python3
"""torch.nn.utils.prune masks weights; it does not make a model smaller or faster.

Builds the app's MLP (784-200-10, sigmoid) in PyTorch, prunes the same fraction of fc1's hidden
units with torch.nn.utils.prune.ln_structured (whole rows, L2 norm, as group lasso's units), and
measures, side by side in one process at one thread:
  - parameters and state-dict bytes: unpruned, masked (weight_orig + weight_mask), after
    prune.remove (zeros written into the weight), and a model of the physically smaller shape
    (what nn::prune_dead_units returns: fc1 Linear(784, k), fc2 Linear(k, 10));
  - inference microseconds per image at batch 1 and 256 for each (median of alternating rounds).
With --npz PRUNED.npz --mnist DIR it also loads the app's pruned.npz into the smaller PyTorch model
and reports its MNIST test accuracy (a check that the pruned file is an ordinary state dict).

Usage: /usr/bin/python3 scripts/torch_prune_compare.py [--kept 40] [--npz results/pruned.npz --mnist data/mnist]
"""
import argparse
import gzip
import io
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune


def mlp(hidden):
    return nn.Sequential(nn.Linear(784, hidden), nn.Sigmoid(), nn.Linear(hidden, 10)).eval()


def parameter_count(model):
    return sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())


def state_bytes(model):
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def time_models(models, batch, images=1024, rounds=11, target_s=0.05):
    """µs per image for each model: alternating rounds of about target_s, median per model."""
    x = torch.randn(images - images % batch, 784)
    batches = list(torch.split(x, batch))
    with torch.no_grad():
        for m in models.values():  # warm-up
            for b in batches:
                m(b)
        t0 = time.perf_counter()
        for b in batches:
            next(iter(models.values()))(b)
        repeats = max(1, int(np.ceil(target_s / (time.perf_counter() - t0))))
        times = {k: [] for k in models}
        order = list(models)
        for r in range(rounds):
            for k in (order if r % 2 == 0 else order[::-1]):
                t0 = time.perf_counter()
                for _ in range(repeats):
                    for b in batches:
                        models[k](b)
                times[k].append((time.perf_counter() - t0) / (repeats * len(x)) * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{stem}[.gz] in {folder}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--kept", type=int, default=40, help="hidden units left after pruning")
    ap.add_argument("--npz", help="the app's pruned.npz (MLP) to load into the smaller PyTorch model")
    ap.add_argument("--mnist", help="MNIST IDX folder, for --npz's test accuracy")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    base = mlp(args.hidden)
    masked = mlp(args.hidden)
    masked.load_state_dict(base.state_dict())
    prune.ln_structured(masked[0], "weight", amount=args.hidden - args.kept, n=2, dim=0)
    removed = mlp(args.hidden)
    removed.load_state_dict(base.state_dict())
    prune.ln_structured(removed[0], "weight", amount=args.hidden - args.kept, n=2, dim=0)
    prune.remove(removed[0], "weight")  # the zeros written into weight; the shape stays
    small = mlp(args.kept)

    models = {"unpruned": base, "torch masked": masked, "torch after prune.remove": removed,
              f"smaller shape (784-{args.kept}-10)": small}
    zero_rows = int((removed[0].weight.abs().sum(1) == 0).sum())
    print(f"torch {torch.__version__}, 1 thread; fc1 rows pruned by ln_structured: {zero_rows} of {args.hidden}")
    print(f"{'model':<28} {'parameters+buffers':>19} {'state_dict bytes':>17} {'us/img b=1':>11} {'us/img b=256':>13}")
    t1 = time_models(models, 1)
    t256 = time_models(models, 256)
    for k, m in models.items():
        print(f"{k:<28} {parameter_count(m):>19} {state_bytes(m):>17} {t1[k]:>11.2f} {t256[k]:>13.2f}")

    if args.npz:
        arrays = np.load(args.npz)
        kept = arrays["fc1.weight"].shape[0]
        net = mlp(kept)
        state = {"0.weight": arrays["fc1.weight"], "0.bias": arrays["fc1.bias"],
                 "2.weight": arrays["fc2.weight"], "2.bias": arrays["fc2.bias"]}
        net.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()})
        msg = f"{args.npz}: fc1 {tuple(arrays['fc1.weight'].shape)}, fc2 {tuple(arrays['fc2.weight'].shape)}"
        if args.mnist:
            images = read_idx(find(args.mnist, "t10k-images-idx3-ubyte")).reshape(-1, 784)
            labels = read_idx(find(args.mnist, "t10k-labels-idx1-ubyte"))
            x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)  # the app's [-1, 1]
            with torch.no_grad():
                acc = float((net(x).argmax(1).numpy() == labels).mean())
            msg += f"; MNIST test accuracy in PyTorch {acc:.4f}"
        print(msg)


if __name__ == "__main__":
    main()
