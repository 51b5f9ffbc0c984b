#!/usr/bin/python3
"""LeNet-5 on MNIST in PyTorch: the reference for bench/lenet_speed (same model, data,
initialisation rule, optimiser and batch order rule), printing one JSON line.

Model: conv 1->6 5x5 (padding 2), ReLU, max-pool 2, conv 6->16 5x5, ReLU, max-pool 2,
flatten, linear 400->120, ReLU, linear 120->84, ReLU, linear 84->10 (PyTorch's default
initialisation); cross-entropy on class indices; SGD lr 0.05, momentum 0.9; batch 64,
reshuffled every epoch, last partial batch kept; pixels standardised with MNIST's mean
0.1307 and std 0.3081, shape (n, 1, 28, 28); float32; `--threads` intra-op threads.

Debian's torch (python3-torch) is importable from /usr/bin/python3 only, hence the shebang.

  /usr/bin/python3 bench/lenet_pytorch.py --data /path/to/mnist --epochs 3
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(folder, name):
    """Unsigned-byte IDX file `name` (or `name`.gz) from `folder` as a numpy array."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                raw = f.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            ndim = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise FileNotFoundError(f"'{name}' (or '{name}.gz') not found in '{folder}'")


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 1 or not 1 <= args.train_size <= 60000 or args.batch < 1 or args.threads < 1:
        sys.exit("lenet_pytorch: --epochs, --batch, --threads must be positive, --train-size in [1, 60000]")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    def scale(images):
        x = (images.astype(np.float32) / 255.0 - 0.1307) / 0.3081
        return torch.from_numpy(x.reshape(-1, 1, 28, 28).copy())

    x_train = read_idx(args.data, "train-images-idx3-ubyte")
    y_train = read_idx(args.data, "train-labels-idx1-ubyte")
    subset = rng.permutation(len(x_train))[: args.train_size]
    x_train, y_train = scale(x_train[subset]), torch.from_numpy(y_train[subset].astype(np.int64))
    x_test = scale(read_idx(args.data, "t10k-images-idx3-ubyte"))
    y_test = torch.from_numpy(read_idx(args.data, "t10k-labels-idx1-ubyte").astype(np.int64))

    model = LeNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    n = len(x_train)
    seconds, cpu, losses, accuracy = [], [], [], 0.0
    for _ in range(args.epochs):
        model.train()
        cpu_start = time.process_time()
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(n))
        total, batches = 0.0, 0
        for first in range(0, n, args.batch):
            idx = order[first: first + args.batch]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        seconds.append(time.perf_counter() - start)
        losses.append(total / batches)
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x_test[i: i + 1000]).argmax(1) == y_test[i: i + 1000]).sum())
                          for i in range(0, len(x_test), 1000))
        accuracy = correct / len(x_test)
        cpu.append(time.process_time() - cpu_start)
    timed = seconds[1:] or seconds
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "model": "lenet5", "threads": args.threads,
        "train_size": args.train_size, "batch": args.batch, "epochs": args.epochs,
        "seconds_per_epoch": round(statistics.median(timed), 4),
        "epoch_seconds": [round(s, 4) for s in seconds],
        "cpu_seconds_per_epoch_with_eval": round(statistics.median(cpu[1:] or cpu), 4),
        "final_loss": round(losses[-1], 5),
        "test_accuracy": round(accuracy, 4)}))


if __name__ == "__main__":
    main()
