#!/usr/bin/python3
"""Independent PyTorch implementation of xtgrad's seed experiment (L1/L2 on MNIST).

Used (a) to check that xtgrad's accuracies land where an independent implementation
lands and (b) as the speed reference (float32, one thread by default).

The experiment (README.md, "The seed experiment"):
  * real MNIST IDX files (raw or .gz), `--train-size` training samples picked at random,
    pixels x/255 then (x - 0.5) * 2;
  * Linear 784->H, sigmoid, Linear H->10, with W of shape (in, out) initialised as
    0.01 * N(0, 1) and zero biases; forward is x @ W + b on our own parameters;
  * softmax cross-entropy from logits, mean over the batch;
  * penalty on the two weight matrices only (never biases), added to the loss:
    l2: 0.5 * lambd * sum(W^2), l1: lambd * sum(|W|);
  * plain SGD, reshuffled every epoch, last partial batch kept.

`--blog-gradient` reproduces the seed blog's gradient bug: its cross-entropy gradient
(p - y) / n, which is already the gradient w.r.t. the logits, is passed once more through
the softmax Jacobian (per row: g -> p * (g - <p, g>)).

Debian's torch (python3-torch) is only importable from /usr/bin/python3, hence the shebang.

Usage:
  /usr/bin/python3 bench/reference_pytorch.py --data data/mnist --reg none --epochs 20 \
      --seed 0 --json /tmp/ref_none.json
"""

import argparse
import ctypes
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

IDX_MAGIC_IMAGES = 0x00000803  # unsigned byte, 3 dims
IDX_MAGIC_LABELS = 0x00000801  # unsigned byte, 1 dim

DEFAULT_LAMBD = {"none": 0.0, "l2": 0.01, "l1": 1e-4}


# ----------------------------------------------------------------------------- data

def _find_idx_file(folder, name):
    """Return the path of `name` in `folder`, accepting a .gz variant."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"MNIST file '{name}' (or '{name}.gz') not found in '{folder}'; "
        f"fetch it with scripts/fetch_mnist.sh")


def read_idx(path, expected_magic):
    """Parse an IDX file of unsigned bytes (raw or gzip, detected by content)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: IDX magic 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(dims))
    if len(raw) - header_len != count:
        raise ValueError(f"{path}: header says {dims} ({count} bytes) but payload has "
                         f"{len(raw) - header_len} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def load_mnist(folder):
    def images(name):
        a = read_idx(_find_idx_file(folder, name), IDX_MAGIC_IMAGES)
        return a.reshape(a.shape[0], -1)

    def labels(name):
        return read_idx(_find_idx_file(folder, name), IDX_MAGIC_LABELS)

    x_train, y_train = images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")
    x_test, y_test = images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0]:
        raise ValueError("MNIST image and label counts differ")
    return x_train, y_train, x_test, y_test


def normalize(x_uint8):
    x = x_uint8.astype(np.float32) / np.float32(255.0)
    return (x - np.float32(0.5)) * np.float32(2.0)


# ----------------------------------------------------------------------------- loss

class BlogCrossEntropy(torch.autograd.Function):
    """Mean softmax cross-entropy whose backward reproduces the seed blog's gradient.

    Forward: the true mean cross-entropy of softmax(logits) against integer labels.
    Backward: g = (p - y) / n (already d loss / d logits) is pushed through the softmax
    Jacobian a second time, per row dlogits = p * (g - sum(p * g)).
    """

    @staticmethod
    def forward(ctx, logits, labels):
        logp = torch.log_softmax(logits, dim=1)
        loss = -logp.gather(1, labels.unsqueeze(1)).mean()
        ctx.save_for_backward(logp, labels)
        return loss

    @staticmethod
    def backward(ctx, grad_out):
        logp, labels = ctx.saved_tensors
        p = logp.exp()
        n = p.shape[0]
        g = p.clone()
        g[torch.arange(n), labels] -= 1.0
        g /= n
        dlogits = p * (g - (p * g).sum(dim=1, keepdim=True))
        return dlogits * grad_out, None


# ----------------------------------------------------------------------------- main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="PyTorch reference for xtgrad's MNIST L1/L2 seed experiment.")
    ap.add_argument("--data", default="data/mnist",
                    help="folder with the four MNIST IDX files, raw or .gz (default: %(default)s)")
    ap.add_argument("--reg", choices=["none", "l2", "l1"], default="none",
                    help="weight penalty (default: %(default)s)")
    ap.add_argument("--lambd", type=float, default=None,
                    help="penalty coefficient (default: l2 0.01, l1 1e-4)")
    ap.add_argument("--seed", type=int, default=0, help="seed for subset, init, shuffling")
    ap.add_argument("--train-size", type=int, default=20000)
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="threads of OpenBLAS's own pool, which torch's float32 matmuls use here and "
                         "which torch.set_num_threads does not limit (default: --threads)")
    ap.add_argument("--blog-gradient", action="store_true",
                    help="use the seed blog's (doubled softmax Jacobian) gradient")
    ap.add_argument("--json", metavar="FILE", help="also write the result JSON to FILE")
    args = ap.parse_args(argv)
    if args.lambd is None:
        args.lambd = DEFAULT_LAMBD[args.reg]
    if args.reg == "none":
        args.lambd = 0.0
    if args.epochs < 1 or args.batch_size < 1 or args.hidden < 1 or args.train_size < 1:
        ap.error("--epochs, --batch-size, --hidden and --train-size must be positive")
    if args.threads < 1:
        ap.error("--threads must be positive")
    if args.blas_threads is None:
        args.blas_threads = args.threads
    if args.blas_threads < 1:
        ap.error("--blas-threads must be positive")
    return args


def set_openblas_threads(n):
    """Limit OpenBLAS's thread pool; return its size afterwards (None without OpenBLAS).

    Debian's torch runs float32 matmuls through libblas.so.3 = OpenBLAS, whose pthread pool
    starts with one thread per core whatever torch.set_num_threads says (measured: 2 threads,
    CPU/wall 1.98 for torch.mm at 64x784x200 after set_num_threads(1)).
    """
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_set_num_threads(int(n))
        return int(lib.openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def openblas_core():
    """The kernel family OpenBLAS runs ("Haswell", "Cooperlake", ...), or None."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    blas_threads = set_openblas_threads(args.blas_threads)
    torch.manual_seed(args.seed)  # unused by the maths below; set for completeness
    rng = np.random.default_rng(args.seed)

    try:
        x_train_u8, y_train_all, x_test_u8, y_test_all = load_mnist(args.data)
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")
    n_all = x_train_u8.shape[0]
    if args.train_size > n_all:
        sys.exit(f"--train-size {args.train_size} exceeds the {n_all} training images")

    # Random subset (seeded), then normalisation.
    subset = rng.permutation(n_all)[: args.train_size]
    x_train = torch.from_numpy(normalize(x_train_u8[subset]))
    y_train = torch.from_numpy(y_train_all[subset].astype(np.int64))
    x_test = torch.from_numpy(normalize(x_test_u8))
    y_test = torch.from_numpy(y_test_all.astype(np.int64))
    n_in, n_out, n = x_train.shape[1], 10, x_train.shape[0]

    # Parameters: W (in, out) = 0.01 * N(0, 1), b = 0.
    def weight(shape):
        w = (0.01 * rng.standard_normal(shape)).astype(np.float32)
        return torch.from_numpy(w).requires_grad_(True)

    W1 = weight((n_in, args.hidden))
    b1 = torch.zeros(args.hidden, dtype=torch.float32, requires_grad=True)
    W2 = weight((args.hidden, n_out))
    b2 = torch.zeros(n_out, dtype=torch.float32, requires_grad=True)
    params = [W1, b1, W2, b2]
    weights = [W1, W2]  # penalised; biases never are
    opt = torch.optim.SGD(params, lr=args.lr)

    def forward(x):
        h = torch.sigmoid(torch.addmm(b1, x, W1))
        return torch.addmm(b2, h, W2)

    def penalty():
        if args.reg == "l2":
            return 0.5 * args.lambd * sum((w * w).sum() for w in weights)
        if args.reg == "l1":
            return args.lambd * sum(w.abs().sum() for w in weights)
        return None

    def data_loss(logits, labels):
        if args.blog_gradient:
            return BlogCrossEntropy.apply(logits, labels)
        return F.cross_entropy(logits, labels)

    def evaluate():
        with torch.no_grad():
            pred = forward(x_test).argmax(dim=1)
            return (pred == y_test).sum().item() / y_test.shape[0]

    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, blas threads {blas_threads}, "
          f"reg {args.reg} lambd {args.lambd:g}, seed {args.seed}, "
          f"train {n} / test {x_test.shape[0]}, hidden {args.hidden}, lr {args.lr:g}, "
          f"batch {args.batch_size}, gradient {'blog' if args.blog_gradient else 'true'}",
          flush=True)

    history = []
    for epoch in range(1, args.epochs + 1):
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, sum_pen, n_batches = 0.0, 0.0, 0
        t0 = time.perf_counter()
        for start in range(0, n, args.batch_size):
            idx = perm[start: start + args.batch_size]
            xb = x_train.index_select(0, idx)
            yb = y_train.index_select(0, idx)
            loss = data_loss(forward(xb), yb)
            pen = penalty()
            total = loss if pen is None else loss + pen
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            sum_loss += loss.item()
            if pen is not None:
                sum_pen += pen.item()
            n_batches += 1
        train_seconds = time.perf_counter() - t0

        t1 = time.perf_counter()
        acc = evaluate()
        eval_seconds = time.perf_counter() - t1

        rec = {"epoch": epoch,
               "data_loss": sum_loss / n_batches,
               "penalty": sum_pen / n_batches,
               "seconds": train_seconds,
               "eval_seconds": eval_seconds,
               "test_accuracy": acc}
        history.append(rec)
        print(f"epoch {epoch:3d}/{args.epochs}  data_loss {rec['data_loss']:.4f}  "
              f"penalty {rec['penalty']:.4f}  train {train_seconds:.3f} s  "
              f"test_acc {acc:.4f}  (eval {eval_seconds:.3f} s)", flush=True)

    timed = [r["seconds"] for r in history[1:]] or [history[0]["seconds"]]
    result = {
        "implementation": "pytorch",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas_threads": blas_threads,
        "blas_core": openblas_core(),
        "reg": args.reg,
        "lambd": args.lambd,
        "seed": args.seed,
        "gradient": "blog" if args.blog_gradient else "true",
        "train_size": n,
        "hidden": args.hidden,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "test_accuracy": history[-1]["test_accuracy"],
        "history": history,
        "seconds_per_epoch": statistics.median(timed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    line = json.dumps(result)
    print(line, flush=True)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
