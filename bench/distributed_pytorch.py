#!/usr/bin/python3
"""PyTorch DDP on the seed model: the side-by-side reference of bench/distributed.sh.

The same work as bench/distributed_speed.cpp: the seed model (Linear 784->200, sigmoid,
Linear 200->10, weights 0.01*N(0,1), biases 0, SGD lr 0.1, float32), `--train-size` MNIST
training images, global batch `--batch-size` split over `--ranks` processes (each its
contiguous shard of every batch from the same shuffled order; the shard's mean loss weighted
by its rows so that DDP's average is the whole batch's mean). With --ranks > 1 the model is
wrapped in torch.nn.parallel.DistributedDataParallel over the gloo backend (127.0.0.1). Each
process: one torch thread, one OpenBLAS thread, pinned to core rank % cores.

The last stdout line (of rank 0) is one JSON object: seconds_per_epoch is the median of the
epochs after the first (warm-up), each epoch's time the slowest rank's training pass.

Debian's torch (python3-torch) is only importable from /usr/bin/python3, hence the shebang.

Usage:
  /usr/bin/python3 bench/distributed_pytorch.py --data data/mnist --ranks 2 --batch-size 256
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_pytorch import load_mnist, normalize, set_openblas_threads  # noqa: E402


class SeedNet(torch.nn.Module):
    def __init__(self, rng, hidden):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, hidden)
        self.fc2 = torch.nn.Linear(hidden, 10)
        with torch.no_grad():
            for layer in (self.fc1, self.fc2):
                w = (0.01 * rng.standard_normal(layer.weight.shape)).astype(np.float32)
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.zero_()

    def forward(self, x):
        return self.fc2(torch.sigmoid(self.fc1(x)))


def worker(rank, args, port):
    os.sched_setaffinity(0, {rank % os.cpu_count()})
    torch.set_num_threads(1)
    set_openblas_threads(1)
    if args.ranks > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=args.ranks)
    rng = np.random.default_rng(args.seed)
    x_train_u8, y_train_all, x_test_u8, y_test_all = load_mnist(args.data)
    subset = rng.permutation(x_train_u8.shape[0])[: args.train_size]
    x_train = torch.from_numpy(normalize(x_train_u8[subset]))
    y_train = torch.from_numpy(y_train_all[subset].astype(np.int64))
    n = x_train.shape[0]

    net = SeedNet(rng, args.hidden)
    model = net
    if args.ranks > 1:
        # DDP broadcasts rank 0's parameters; its default bucket_cap_mb (25) holds all 636 KB.
        model = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)

    seconds = []
    for epoch in range(args.epochs):
        perm = torch.from_numpy(rng.permutation(n))  # the same order on every rank
        if args.ranks > 1:
            dist.barrier()
        t0 = time.perf_counter()
        for start in range(0, n, args.batch_size):
            b = min(args.batch_size, n - start)
            base, extra = divmod(b, args.ranks)
            rows = base + (1 if rank < extra else 0)
            first = start + rank * base + min(rank, extra)
            idx = perm[first: first + rows]
            xb = x_train.index_select(0, idx)
            yb = y_train.index_select(0, idx)
            # DDP averages over ranks: weight the shard's mean by its share of the batch.
            loss = F.cross_entropy(model(xb), yb) * (rows * args.ranks / b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        elapsed = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        if args.ranks > 1:
            dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        seconds.append(float(elapsed[0]))

    if rank == 0:
        with torch.no_grad():
            x_test = torch.from_numpy(normalize(x_test_u8))
            pred = net(x_test).argmax(dim=1)
            accuracy = (pred == torch.from_numpy(y_test_all.astype(np.int64))).sum().item() / len(y_test_all)
        timed = seconds[1:] if len(seconds) > 1 else seconds
        print(json.dumps({"implementation": "pytorch", "torch": torch.__version__, "ranks": args.ranks,
                          "batch_size": args.batch_size, "train_size": n, "epochs": args.epochs,
                          "epoch_seconds": seconds, "seconds_per_epoch": statistics.median(timed),
                          "test_accuracy": accuracy}), flush=True)
    if args.ranks > 1:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64, help="global batch, split over the ranks")
    ap.add_argument("--train-size", type=int, default=20000)
    ap.add_argument("--epochs", type=int, default=4, help="epochs; the first is the warm-up")
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--port", type=int, default=29517)
    args = ap.parse_args()
    if args.ranks < 1 or args.batch_size < args.ranks:
        ap.error("need --ranks >= 1 and --batch-size >= --ranks")
    if args.ranks == 1:
        worker(0, args, args.port)
    else:
        mp.spawn(worker, args=(args, args.port), nprocs=args.ranks, join=True)


if __name__ == "__main__":
    main()
