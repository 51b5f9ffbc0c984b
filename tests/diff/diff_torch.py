#!/usr/bin/env python3
"""Differential test of xtgrad against PyTorch (float64).

Generates random graphs over xtgrad's ops with a fixed seed, evaluates each with diff_runner
(xtgrad, double) and with torch (float64, autograd), and compares the output and the gradient of
sum(output * R) (R a random tensor) with respect to every leaf:
|xtgrad - torch| <= rtol*|torch| + 1e-3*rtol*max|torch| + atol per element (rtol 1e-9, atol 1e-12:
the last two terms are floors for elements that cancel to near 0, such as the exact zeros one
library gets where the other's fused multiply-adds leave 1e-17).

Usage: diff_torch.py --runner build/tests/diff/diff_runner [--cases 3000] [--seed 1] [--dump cases.json]
Exit status: 0 all agree, 1 a mismatch (printed), 2 bad usage or runner failure, 77 torch missing.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("diff_torch: SKIPPED: torch is not importable by " + sys.executable +
          " (install python3-torch: scripts/install_deps.sh --test)")
    sys.exit(77)

warnings.filterwarnings("ignore")  # mse_loss broadcasting, kl_div 'mean'
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

RTOL = 1e-9
ATOL = 1e-12
MAX_ABS = 1e6  # values beyond this (or non-finite) make the generator try another op


class Reject(Exception):
    """The op does not fit here (shape, domain or a near-kink input): try another."""


class Graph:
    """Leaves and nodes as the runner reads them, evaluated with torch as they are added."""

    def __init__(self, rng):
        self.rng = rng
        self.leaves = []  # runner JSON
        self.nodes = []
        self.values = []  # torch tensor of every id (leaves and nodes interleaved)
        self.where = []   # id → ("leaf", k) or ("node", k)
        self.torch_leaves = []
        self.finite_only = True  # add() rejects non-finite values (the fixed edge cases allow them)

    # ---- building -------------------------------------------------------------------------
    def leaf(self, shape, lo=-2.0, hi=2.0, grad=True, data=None):
        """A new leaf of uniform values in [lo, hi), or of the given `data` (row-major)."""
        if data is None:
            data = [self.rng.uniform(lo, hi) for _ in range(math.prod(shape))]
        data = [float(v) for v in data]
        t = torch.tensor(data, dtype=torch.float64).reshape(shape)
        t.requires_grad_(grad)
        self.leaves.append({"shape": list(shape), "data": data, "grad": grad})
        self.torch_leaves.append(t)
        self.values.append(t)
        self.where.append(("leaf", len(self.leaves) - 1))
        return len(self.values) - 1

    def add(self, op, ins, fn, **params):
        """Appends node `op` over ids `ins`; fn maps the torch inputs to the torch output."""
        out = fn(*[self.values[i] for i in ins])
        if not torch.is_tensor(out):
            out = torch.tensor(out)
        v = out.detach()
        if self.finite_only and v.numel() and (not torch.isfinite(v).all() or v.abs().max() > MAX_ABS):
            raise Reject()
        self.nodes.append(dict(op=op, **{"in": list(ins)}, **params))
        self.values.append(out)
        self.where.append(("node", len(self.nodes) - 1))
        return len(self.values) - 1

    def shape(self, i):
        return tuple(self.values[i].shape)

    def value(self, i):
        return self.values[i].detach()

    def random_shape(self, min_rank=0, max_rank=3):
        r = self.rng.randint(min_rank, max_rank)
        return tuple(self.rng.randint(1, 4) for _ in range(r))

    def pick(self, min_rank=0, max_rank=3, pred=None, lo=-2.0, hi=2.0):
        """An existing id of suitable rank (recent ones preferred), else a new leaf."""
        ids = [i for i in range(len(self.values))
               if min_rank <= len(self.shape(i)) <= max_rank and self.value(i).numel() > 0
               and (pred is None or pred(self.value(i)))]
        if ids and self.rng.random() < 0.8:
            recent = ids[-3:]
            return self.rng.choice(recent if self.rng.random() < 0.7 else ids)
        shape = self.random_shape(min_rank, max_rank)
        return self.leaf(shape, lo, hi)

    def positive(self, i):
        """i itself if all its values are ≥ 0.2, else sigmoid(i) + 0.5 ∈ (0.5, 1.5)."""
        if self.value(i).numel() and self.value(i).min() >= 0.2:
            return i
        s = self.add("sigmoid", [i], torch.sigmoid)
        return self.add("add_scalar", [s], lambda x: x + 0.5, s=0.5)

    def case(self, weights):
        """The runner's case: leaves first, then nodes, inputs renumbered to match."""
        def runner_id(i):
            kind, k = self.where[i]
            return k if kind == "leaf" else len(self.leaves) + k
        nodes = [dict(n, **{"in": [runner_id(i) for i in n["in"]]}) for n in self.nodes]
        return {"leaves": self.leaves, "nodes": nodes, "weights": weights}


def away(v, points, gap=1e-4):
    """Rejects unless every element of v is at least `gap` from each kink in `points`."""
    for p in points:
        if v.numel() and (v - p).abs().min() < gap:
            raise Reject()


def clear_winner(v, dim, gap=1e-6):
    """Rejects ties and near-ties along dim: values equal in torch may differ by an ulp in xtgrad
    (a softmax's sums, say), and the two would pick different elements. Exact ties are tested
    by build_ties, on leaf values both libraries hold exactly."""
    if v.shape[dim] < 2:
        return
    top = v.topk(2, dim=dim).values
    d = (top.select(dim, 0) - top.select(dim, 1)).abs()
    if (d < gap).any():
        raise Reject()


def rand_axes(rng, rank):
    k = rng.randint(1, rank)
    return sorted(rng.sample(range(rank), k))


def signed_axis(rng, a, rank):
    return a - rank if rng.random() < 0.5 else a


# ---- op builders: each adds one or a few nodes and returns the last id ---------------------

def unary(op, fn, domain=None, kinks=(), params=None):
    def build(g):
        i = g.pick()
        if domain == "positive":
            i = g.positive(i)
        elif domain == "log1p":
            i = g.add("add_scalar", [g.positive(i)], lambda x: x - 0.7, s=-0.7)  # (−0.2, 0.8)
        away(g.value(i), kinks)
        p = params(g.rng) if params else {}
        return g.add(op, [i], lambda x: fn(x, **p), **p)
    return build


def binary(op, fn, positive_rhs=False, positive_lhs=False, tie_ok=True):
    def build(g):
        a = g.pick()
        sa = g.shape(a)
        # b: the same shape, a trailing part of it, a broadcast (size-1) version, or a scalar
        choice = g.rng.random()
        if choice < 0.4:
            sb = sa
        elif choice < 0.6:
            sb = sa[g.rng.randint(0, len(sa)):]
        elif choice < 0.8:
            sb = tuple(1 if g.rng.random() < 0.5 else e for e in sa)
        else:
            sb = ()
        same = [i for i in range(len(g.values)) if g.shape(i) == sb]
        b = g.rng.choice(same) if same and g.rng.random() < 0.5 else g.leaf(sb)
        if g.rng.random() < 0.5:
            a, b = b, a
        if positive_lhs:
            a = g.positive(a)
        if positive_rhs:
            b = g.positive(b)
        if not tie_ok:
            d = g.value(a) - g.value(b)
            away(d, [0.0], 1e-6) if (d != 0).all() else None
        return g.add(op, [a, b], fn)
    return build


def reduction_axes(op, fn, all_fn=None, check_ties=False, positive=False):
    def build(g):
        i = g.pick(min_rank=1)
        if positive:
            i = g.positive(i)
        rank = len(g.shape(i))
        axes = rand_axes(g.rng, rank)
        keep = g.rng.random() < 0.5
        if check_ties:
            v = g.value(i)
            perm = [d for d in range(rank) if d not in axes] + axes
            flat = v.permute(perm).reshape(*[v.shape[d] for d in range(rank) if d not in axes], -1)
            clear_winner(flat, flat.dim() - 1)
        signed = [signed_axis(g.rng, a, rank) for a in axes]
        return g.add(op, [i], lambda x: fn(x, axes, keep), axes=signed, keepdims=keep)
    return build


def build_all(op, fn, check_ties=False, positive=False):
    def build(g):
        i = g.pick()
        if positive:
            i = g.positive(i)
        if check_ties:
            clear_winner(g.value(i).reshape(-1), 0)
        return g.add(op, [i], fn)
    return build


def build_axis(op, fn, check_ties=False, keep_param=True):
    def build(g):
        i = g.pick(min_rank=1)
        rank = len(g.shape(i))
        a = g.rng.randrange(rank)
        keep = g.rng.random() < 0.5
        if check_ties:
            clear_winner(g.value(i), a)
        params = {"axis": signed_axis(g.rng, a, rank)}
        if keep_param:
            params["keepdims"] = keep
        return g.add(op, [i], lambda x: fn(x, a, keep), **params)
    return build


def torch_prod(x, axes, keep):
    for a in sorted(axes, reverse=True):
        x = x.prod(dim=a, keepdim=True)
    if not keep:
        for a in sorted(axes, reverse=True):
            x = x.squeeze(a)
    return x


def build_arg(g):
    i = g.pick(min_rank=1)
    rank = len(g.shape(i))
    a = g.rng.randrange(rank)
    clear_winner(g.value(i), a)
    op, fn = g.rng.choice([("argmax_axis", torch.argmax), ("argmin_axis", torch.argmin)])
    idx = g.add(op, [i], lambda x: fn(x.detach(), dim=a, keepdim=True).to(torch.float64), axis=a, keepdims=True)
    # use the constant: x * (index + 1), broadcast along the axis
    one = g.add("add_scalar", [idx], lambda x: x + 1.0, s=1.0)
    return g.add("mul", [i, one], lambda x, y: x * y)


def build_argmax_all(g):
    i = g.pick(min_rank=1)
    clear_winner(g.value(i).reshape(-1), 0)
    idx = g.add("argmax_all", [i], lambda x: torch.argmax(x.detach()).to(torch.float64))
    return g.add("mul", [i, idx], lambda x, y: x * y)


def build_ties(g):
    """max/min/amax/amin/maximum/argmax over values with exact ties: the documented tie rules."""
    s = g.random_shape(1, 3)
    i = g.leaf(s)
    tied = [g.rng.choice([-1.0, 0.5, 2.0]) for _ in range(math.prod(s))]
    g.leaves[-1]["data"] = tied
    t = torch.tensor(tied).reshape(s).requires_grad_(True)
    g.torch_leaves[-1] = t
    g.values[i] = t
    rank = len(s)
    a = g.rng.randrange(rank)
    keep = g.rng.random() < 0.5
    kind = g.rng.randrange(7)
    if kind == 0:
        return g.add("max_axis", [i], lambda x: torch.max(x, a, keepdim=keep).values, axis=a, keepdims=keep)
    if kind == 1:
        return g.add("min_axis", [i], lambda x: torch.min(x, a, keepdim=keep).values, axis=a, keepdims=keep)
    if kind == 2:
        return g.add("amax", [i], lambda x: torch.amax(x, [a], keepdim=keep), axes=[a], keepdims=keep)
    if kind == 3:
        return g.add("amin", [i], lambda x: torch.amin(x, [a], keepdim=keep), axes=[a], keepdims=keep)
    if kind == 4:
        op, fn = g.rng.choice([("max_all", torch.max), ("min_all", torch.min)])
        return g.add(op, [i], fn)
    if kind == 5:
        j = g.leaf(s)
        g.leaves[-1]["data"] = [g.rng.choice([-1.0, 0.5, 2.0]) for _ in range(math.prod(s))]
        u = torch.tensor(g.leaves[-1]["data"]).reshape(s).requires_grad_(True)
        g.torch_leaves[-1] = u
        g.values[j] = u
        return g.add("maximum", [i, j], torch.maximum)
    idx = g.add("argmax_axis", [i], lambda x: torch.argmax(x.detach(), dim=a, keepdim=True).to(torch.float64),
                axis=a, keepdims=True)
    return g.add("mul", [i, idx], lambda x, y: x * y)


def build_softmax(op, fn):
    def build(g):
        i = g.pick(min_rank=1)
        rank = len(g.shape(i))
        a = g.rng.randrange(rank)
        return g.add(op, [i], lambda x: fn(x, dim=a), axis=signed_axis(g.rng, a, rank))
    return build


def build_clamp(g):
    i = g.pick()
    lo, hi = sorted([g.rng.uniform(-1.5, 1.5), g.rng.uniform(-1.5, 1.5)])
    kind = g.rng.randrange(3)
    lo = None if kind == 1 else lo
    hi = None if kind == 2 else hi
    away(g.value(i), [p for p in (lo, hi) if p is not None])
    return g.add("clamp", [i], lambda x: torch.clamp(x, min=lo, max=hi), lo=lo, hi=hi)


def build_hardtanh(g):
    i = g.pick()
    lo, hi = sorted([g.rng.uniform(-1.5, 1.5), g.rng.uniform(-1.5, 1.5)])
    away(g.value(i), [lo, hi])
    return g.add("hardtanh", [i], lambda x: F.hardtanh(x, lo, hi), lo=lo, hi=hi)


def build_softplus(g):
    i = g.pick()
    beta = g.rng.choice([1.0, 0.5, 2.0])
    threshold = g.rng.choice([20.0, 1.0, 3.0])
    away(g.value(i) * beta, [threshold], 1e-4)
    return g.add("softplus", [i], lambda x: F.softplus(x, beta, threshold), beta=beta, threshold=threshold)


def build_where(g):
    a = g.pick()
    sa = g.shape(a)
    sc = tuple(1 if g.rng.random() < 0.4 else e for e in sa)
    cond = [float(g.rng.random() < 0.5) for _ in range(math.prod(sc))]
    ct = torch.tensor(cond).reshape(sc)
    b = g.leaf(sa[g.rng.randint(0, len(sa)):])
    return g.add("where", [a, b], lambda x, y: torch.where(ct != 0, x, y), cond={"shape": list(sc), "data": cond})


def build_pow_tensor(g):
    a = g.positive(g.pick())
    b = g.leaf(g.shape(a)[g.rng.randint(0, len(g.shape(a))):], -1.5, 1.5)
    return g.add("pow", [a, b], torch.pow)


def build_pow_scalar(g):
    i = g.pick()
    p = g.rng.choice([2.0, 3.0, -1.0, 0.5, 1.5, -0.5])
    if p != int(p) or p < 0:
        i = g.positive(i)
    return g.add("pow_scalar", [i], lambda x: torch.pow(x, p), p=p)


def build_matmul(g):
    a = g.pick(min_rank=2, max_rank=2)
    m, k = g.shape(a)
    n = g.rng.randint(1, 4)
    if g.rng.random() < 0.5:
        return g.add("matmul", [a, g.leaf((k, n))], torch.mm)
    w = g.leaf((n, k))  # (out, in), as F.linear's
    bias = g.leaf((n,) if g.rng.random() < 0.5 else (1, n))
    return g.add("linear", [a, w, bias], lambda x, m, c: F.linear(x, m, c.reshape(-1)))


def build_matmul_nd(g):
    a = g.pick(min_rank=1, max_rank=3)
    sa = g.shape(a)
    k = sa[-1]
    n = g.rng.randint(1, 3)
    kind = g.rng.randrange(4)
    if kind == 0:
        sb = (k,)
    elif kind == 1:
        sb = (k, n)
    elif kind == 2:
        batch = sa[:-2] if len(sa) > 2 else (g.rng.randint(1, 3),)
        sb = tuple(1 if g.rng.random() < 0.3 else e for e in batch) + (k, n)
    else:
        sb = (g.rng.randint(1, 3), 1, k, n)
    b = g.leaf(sb)
    if g.rng.random() < 0.3 and len(sb) >= 2:  # the 1-d operand on the left instead
        a, b = g.leaf((sb[-2],)), g.leaf(sb)
    return g.add("matmul_nd", [a, b], torch.matmul)


def build_reshape(g):
    i = g.pick()
    n = g.value(i).numel()
    shape = []
    rest = n
    while rest > 1 and len(shape) < 3:
        divs = [d for d in range(2, rest + 1) if rest % d == 0]
        d = g.rng.choice(divs)
        shape.append(d)
        rest //= d
    if rest > 1:
        shape.append(rest)
    if g.rng.random() < 0.3:
        shape.insert(g.rng.randint(0, len(shape)), 1)
    return g.add("reshape", [i], lambda x: x.reshape(shape), shape=shape)


def build_squeeze(g):
    i = g.pick()
    rank = len(g.shape(i))
    if rank == 0 or g.rng.random() < 0.4:
        return g.add("squeeze", [i], torch.squeeze)
    a = g.rng.randrange(rank)
    return g.add("squeeze_axis", [i], lambda x: torch.squeeze(x, a), axis=signed_axis(g.rng, a, rank))


def build_unsqueeze(g):
    i = g.pick(max_rank=2)
    rank = len(g.shape(i))
    a = g.rng.randint(0, rank)
    signed = a - rank - 1 if g.rng.random() < 0.5 else a
    return g.add("unsqueeze", [i], lambda x: torch.unsqueeze(x, a), axis=signed)


def build_flatten(g):
    i = g.pick()
    rank = len(g.shape(i))
    if rank == 0:
        return g.add("flatten", [i], torch.flatten, start=0, end=-1)
    s = g.rng.randrange(rank)
    e = g.rng.randint(s, rank - 1)
    return g.add("flatten", [i], lambda x: torch.flatten(x, s, e), start=s, end=signed_axis(g.rng, e, rank))


def build_permute(g):
    i = g.pick(min_rank=1)
    rank = len(g.shape(i))
    perm = list(range(rank))
    g.rng.shuffle(perm)
    if g.rng.random() < 0.5:
        return g.add("permute", [i], lambda x: x.permute(perm), axes=perm)
    a, b = g.rng.randrange(rank), g.rng.randrange(rank)
    return g.add("swap_axes", [i], lambda x: torch.swapaxes(x, a, b), a=a, b=signed_axis(g.rng, b, rank))


def build_transpose(g):
    i = g.pick()
    rank = len(g.shape(i))
    return g.add("transpose", [i], lambda x: x.permute(list(reversed(range(rank)))))


def build_concat(g):
    i = g.pick(min_rank=1)
    s = g.shape(i)
    a = g.rng.randrange(len(s))
    other = list(s)
    other[a] = g.rng.randint(1, 3)
    j = g.leaf(tuple(other))
    ins = [i, j, i] if g.rng.random() < 0.5 else [j, i]
    return g.add("concat", ins, lambda *xs: torch.cat(xs, a), axis=signed_axis(g.rng, a, len(s)))


def build_stack(g):
    i = g.pick(max_rank=2)
    s = g.shape(i)
    j = g.leaf(s)
    a = g.rng.randint(0, len(s))
    signed = a - len(s) - 1 if g.rng.random() < 0.5 else a
    return g.add("stack", [i, j, i], lambda *xs: torch.stack(xs, a), axis=signed)


def build_slice(g):
    i = g.pick(min_rank=1)
    s = g.shape(i)
    a = g.rng.randrange(len(s))
    n = s[a]
    kind = g.rng.randrange(4)
    if kind == 0:
        start = g.rng.randint(-n, n - 1)
        stop = g.rng.randint(-n - 2, n + 2)
        step = g.rng.randint(1, 3)
        b = start + n if start < 0 else start
        e = min(max(stop + n if stop < 0 else stop, 0), n)
        if b >= e:
            raise Reject()
        idx = (slice(None),) * a + (slice(start, stop, step),)
        return g.add("slice", [i], lambda x: x[idx], axis=a, start=start, stop=stop, step=step)
    if kind == 1:
        length = g.rng.randint(1, n)
        start = g.rng.randint(0, n - length)
        return g.add("narrow", [i], lambda x: torch.narrow(x, a, start, length), axis=a, start=start, length=length)
    if kind == 2:
        size = g.rng.randint(1, n)
        parts = (n + size - 1) // size
        part = g.rng.randrange(parts)
        return g.add("split", [i], lambda x: torch.split(x, size, a)[part], size=size, axis=a, part=part)
    cut = g.rng.randint(0, n)
    sizes = [cut, n - cut]
    part = g.rng.randrange(2)
    if sizes[part] == 0:
        raise Reject()
    return g.add("split_sizes", [i], lambda x: torch.split(x, sizes, a)[part], sizes=sizes, axis=a, part=part)


def build_index_select(g):
    i = g.pick(min_rank=1)
    s = g.shape(i)
    a = g.rng.randrange(len(s))
    idx = [g.rng.randrange(s[a]) for _ in range(g.rng.randint(1, 4))]
    it = torch.tensor(idx, dtype=torch.long)
    return g.add("index_select", [i], lambda x: torch.index_select(x, a, it), axis=a, indices=idx)


def build_gather(g):
    i = g.pick(min_rank=1)
    s = g.shape(i)
    a = g.rng.randrange(len(s))
    ishape = tuple(g.rng.randint(1, 3) if d == a else g.rng.randint(1, e) for d, e in enumerate(s))
    data = [float(g.rng.randrange(s[a])) for _ in range(math.prod(ishape))]
    it = torch.tensor(data).reshape(ishape).long()
    index = {"shape": list(ishape), "data": data}
    if g.rng.random() < 0.5:
        return g.add("gather", [i], lambda x: torch.gather(x, a, it), axis=signed_axis(g.rng, a, len(s)), index=index)
    src = g.leaf(ishape)  # torch 1.13 cannot differentiate a src larger than the index
    return g.add("scatter_add", [i, src], lambda x, y: torch.scatter_add(x, a, it, y), axis=a, index=index)


def build_one_hot(g):
    i = g.pick(min_rank=2, max_rank=2)
    n, c = g.shape(i)
    labels = [g.rng.randrange(c) for _ in range(n)]
    oh = g.add("one_hot", [], lambda: F.one_hot(torch.tensor(labels), c).to(torch.float64), labels=labels, classes=c)
    return g.add("mul", [i, oh], lambda x, y: x * y)


def build_cross_entropy(g):
    z = g.pick(min_rank=2, max_rank=2)
    n, c = g.shape(z)
    labels = [g.rng.randrange(c) for _ in range(n)]
    kind = g.rng.randrange(3)
    if kind == 0:
        return g.add("cross_entropy_labels", [z], lambda x: F.cross_entropy(x, torch.tensor(labels)), labels=labels)
    if kind == 1:
        t = g.leaf((n, c), 0.0, 1.0)
        return g.add("cross_entropy_targets", [z, t], lambda x, y: -(y * F.log_softmax(x, 1)).sum() / n)
    weight = [g.rng.uniform(0.2, 2.0) for _ in range(c)] if g.rng.random() < 0.5 else None
    ignore = g.rng.randrange(c) if g.rng.random() < 0.4 else None
    if ignore is not None and all(l == ignore for l in labels):
        raise Reject()
    eps = g.rng.choice([0.0, 0.1, 0.35])
    red = g.rng.choice(["mean", "sum", "none"])
    wt = torch.tensor(weight) if weight else None
    params = dict(labels=labels, label_smoothing=eps, reduction=red,
                  weight={"shape": [c], "data": weight} if weight else None, ignore_index=ignore)
    return g.add("cross_entropy_opts", [z], lambda x: F.cross_entropy(
        x, torch.tensor(labels), weight=wt, ignore_index=-100 if ignore is None else ignore,
        label_smoothing=eps, reduction=red), **params)


def build_nll(g):
    z = g.pick(min_rank=2, max_rank=2)
    n, c = g.shape(z)
    labels = [g.rng.randrange(c) for _ in range(n)]
    weight = [g.rng.uniform(0.2, 2.0) for _ in range(c)] if g.rng.random() < 0.5 else None
    ignore = g.rng.randrange(c) if g.rng.random() < 0.4 else None
    if ignore is not None and all(l == ignore for l in labels):
        raise Reject()
    red = g.rng.choice(["mean", "sum", "none"])
    wt = torch.tensor(weight) if weight else None
    return g.add("nll_loss", [z], lambda x: F.nll_loss(x, torch.tensor(labels), weight=wt,
                                                       ignore_index=-100 if ignore is None else ignore, reduction=red),
                 labels=labels, reduction=red, weight={"shape": [c], "data": weight} if weight else None,
                 ignore_index=ignore)


def build_pair_loss(g):
    a = g.pick(min_rank=1)
    sa = g.shape(a)
    sb = sa if g.rng.random() < 0.6 else sa[g.rng.randint(1, len(sa)):]
    b = g.leaf(sb)
    red = g.rng.choice(["mean", "sum", "none"])
    kind = g.rng.randrange(5)
    d = (g.value(a) - g.value(b))
    if kind == 0:
        return g.add("mse_loss", [a, b], lambda x, y: F.mse_loss(*torch.broadcast_tensors(x, y), reduction=red), reduction=red)
    if kind == 1:
        away(d, [0.0])
        return g.add("l1_loss", [a, b], lambda x, y: F.l1_loss(*torch.broadcast_tensors(x, y), reduction=red), reduction=red)
    if kind == 2:
        delta = g.rng.choice([1.0, 0.3, 2.0])
        return g.add("huber_loss", [a, b], lambda x, y: F.huber_loss(*torch.broadcast_tensors(x, y), reduction=red, delta=delta),
                     delta=delta, reduction=red)
    if kind == 3:
        beta = g.rng.choice([1.0, 0.3, 2.0])
        return g.add("smooth_l1_loss", [a, b],
                     lambda x, y: F.smooth_l1_loss(*torch.broadcast_tensors(x, y), reduction=red, beta=beta),
                     beta=beta, reduction=red)
    b = g.leaf(sa)
    return g.add("mse", [a, b], F.mse_loss)


def build_bce(g):
    x = g.pick(min_rank=1)
    s = g.shape(x)
    t = g.leaf(s, 0.0, 1.0, grad=g.rng.random() < 0.5)
    red = g.rng.choice(["mean", "sum", "none"])
    def maybe(lo, hi):
        if g.rng.random() < 0.5:
            return None
        shape = s[g.rng.randint(0, len(s)):]
        shape = tuple(1 if g.rng.random() < 0.3 else e for e in shape)
        return {"shape": list(shape), "data": [g.rng.uniform(lo, hi) for _ in range(math.prod(shape))]}
    w, pw = maybe(0.2, 2.0), maybe(0.2, 3.0)
    tw = torch.tensor(w["data"]).reshape(w["shape"]) if w else None
    tp = torch.tensor(pw["data"]).reshape(pw["shape"]) if pw else None
    return g.add("bce_logits", [x, t], lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=tw, pos_weight=tp, reduction=red), weight=w, pos_weight=pw, reduction=red)


def build_kl(g):
    x = g.pick(min_rank=1)
    s = g.shape(x)
    log_target = g.rng.random() < 0.5
    t = g.leaf(s, -2.0, 0.5) if log_target else g.positive(g.pick(pred=lambda v: tuple(v.shape) == s))
    if g.shape(t) != s:
        raise Reject()
    red = g.rng.choice(["mean", "sum", "none", "batchmean"])
    return g.add("kl_div", [x, t], lambda a, b: F.kl_div(a, b, reduction=red, log_target=log_target),
                 reduction=red, log_target=log_target)


def build_scalar_ops(g):
    i = g.pick()
    s = g.rng.choice([-1.5, 0.5, 2.0])
    kind = g.rng.randrange(5)
    if kind == 0:
        return g.add("add_scalar", [i], lambda x: x + s, s=s)
    if kind == 1:
        return g.add("mul_scalar", [i], lambda x: x * s, s=s)
    if kind == 2:
        return g.add("rsub_scalar", [i], lambda x: s - x, s=s)
    if kind == 3:
        j = g.positive(i)
        return g.add("rdiv_scalar", [j], lambda x: s / x, s=s)
    return g.add("affine", [i], lambda x: s * x + 0.25, slope=s, intercept=0.25)


def build_linear_nd(g):
    """matmul with x (..., k) of any rank (the leading axes fold into rows) and w (k, n), or linear
    with w (n, k) (F.linear's layout) and a bias, or without one."""
    a = g.pick(min_rank=1, max_rank=4)
    sa = g.shape(a)
    k, n = sa[-1], g.rng.randint(1, 4)
    if len(sa) >= 2 and g.rng.random() < 0.3:
        return g.add("matmul", [a, g.leaf((k, n))], torch.matmul)
    w = g.leaf((n, k))
    if g.rng.random() < 0.2:
        return g.add("linear", [a, w], F.linear)
    bias = g.leaf((1, n) if len(sa) >= 2 and g.rng.random() < 0.3 else (n,))
    return g.add("linear", [a, w, bias], lambda x, m, c: F.linear(x, m, c.reshape(-1)))


def build_layer_norm(g):
    """layer_norm over the last axis (or the last two) of x, weight and bias of that shape."""
    x = g.pick(min_rank=1, max_rank=4)
    sx = g.shape(x)
    r = 2 if len(sx) >= 2 and g.rng.random() < 0.25 else 1
    norm = sx[-r:]
    if math.prod(norm) < 2:
        raise Reject()  # one element per sample: σ² = 0, y = β
    w = g.leaf(norm, 0.5, 1.5)
    b = g.leaf(norm)
    return g.add("layer_norm", [x, w, b], lambda v, a, c: F.layer_norm(v, norm, a, c, 1e-5), eps=1e-5)


def torch_sdpa(q, k, v, scale, mask=None, kind="additive", causal=False):
    """softmax(scale·Q·Kᵀ + mask)·V in float64 (torch 1.13 has no F.scaled_dot_product_attention),
    rows with every key masked giving 0 (xtgrad's convention; torch's explicit softmax gives NaN)."""
    s = q @ k.transpose(-1, -2) * scale
    add = torch.zeros(s.shape, dtype=torch.float64)
    if mask is not None:
        add = add + mask if kind == "additive" else add.masked_fill(mask == 0, -math.inf)
    if causal:
        lq, lk = s.shape[-2], s.shape[-1]
        add = add.masked_fill(torch.ones(lq, lk).triu(1).bool(), -math.inf)
    dead = torch.isneginf(add).all(-1, keepdim=True)
    p = torch.softmax(s + torch.where(dead, torch.zeros(()), add), -1)
    return torch.where(dead, torch.zeros(()), p) @ v


def split_heads(x, h):
    """(..., L, h·c) → (..., h, L, c)."""
    return x.reshape(x.shape[:-1] + (h, x.shape[-1] // h)).transpose(-2, -3)


def merge_heads(x):
    """(..., h, L, c) → (..., L, h·c)."""
    x = x.transpose(-2, -3)
    return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],))


def sdpa_node(g, q, k, v, causal, scale, kind, mask_shape, mask_data, heads=0):
    params = {"causal": causal}
    if scale is not None:
        params["scale"] = scale
    if heads:
        params["heads"] = heads
    mask = None
    if mask_shape is not None:
        mask = torch.tensor(mask_data, dtype=torch.float64).reshape(mask_shape)
        params.update(mask={"shape": list(mask_shape), "data": mask_data}, mask_kind=kind)
    d = g.shape(q)[-1] // max(heads, 1)
    sc = scale if scale is not None else 1 / math.sqrt(d)
    if heads:
        fn = lambda a, b, c: merge_heads(torch_sdpa(split_heads(a, heads), split_heads(b, heads),
                                                    split_heads(c, heads), sc, mask, kind, causal))
    else:
        fn = lambda a, b, c: torch_sdpa(a, b, c, sc, mask, kind, causal)
    return g.add("sdpa", [q, k, v], fn, **params)


def build_sdpa(g):
    """scaled_dot_product_attention: q (..., Lq, d) picked or new, k and v new, optionally causal,
    an additive or boolean mask broadcast from a suffix of the scores' shape, a scale."""
    q = g.pick(min_rank=2, max_rank=4)
    sq = g.shape(q)
    batch, lq, d = sq[:-2], sq[-2], sq[-1]
    # heads side by side in the last axis (q (..., Lq, H·d)) when it splits
    heads = g.rng.choice([h for h in (2, 3) if d % h == 0] or [0]) if g.rng.random() < 0.35 else 0
    lk, dv = g.rng.randint(1, 4), g.rng.randint(1, 3)
    k = g.leaf(batch + (lk, d))
    v = g.leaf(batch + (lk, dv * max(heads, 1)))
    causal = g.rng.random() < 0.4
    scale = g.rng.choice([None, None, 0.7, 1.3])
    kind, mask_shape, mask_data = "additive", None, None
    if g.rng.random() < 0.6:
        scores = batch + ((heads,) if heads else ()) + (lq, lk)
        keep = g.rng.randint(1, len(scores))
        mask_shape = tuple(e if g.rng.random() < 0.7 else 1 for e in scores[-keep:])
        if g.rng.random() < 0.5:
            kind = "boolean"
            mask_data = [1.0 if g.rng.random() < 0.7 else 0.0 for _ in range(math.prod(mask_shape))]
        else:
            mask_data = [g.rng.uniform(-2.0, 2.0) for _ in range(math.prod(mask_shape))]
    return sdpa_node(g, q, k, v, causal, scale, kind, mask_shape, mask_data, heads)


OPS = {
    # elementwise
    "add": binary("add", torch.add), "sub": binary("sub", torch.sub), "mul": binary("mul", torch.mul),
    "div": binary("div", torch.div, positive_rhs=True), "neg": unary("neg", lambda x: -x),
    "scalar_ops": build_scalar_ops,
    "exp": unary("exp", torch.exp), "log": unary("log", torch.log, domain="positive"),
    "sqrt": unary("sqrt", torch.sqrt, domain="positive"), "square": unary("square", torch.square),
    "pow_scalar": build_pow_scalar, "abs": unary("abs", torch.abs, kinks=(0.0,)),
    "clamp": build_clamp, "where": build_where,
    "maximum": binary("maximum", torch.maximum, tie_ok=False), "minimum": binary("minimum", torch.minimum, tie_ok=False),
    "log1p": unary("log1p", torch.log1p, domain="log1p"), "expm1": unary("expm1", torch.expm1),
    "sin": unary("sin", torch.sin), "cos": unary("cos", torch.cos), "pow": build_pow_tensor,
    "reciprocal": unary("reciprocal", torch.reciprocal, domain="positive"),
    "sign": unary("sign", torch.sign, kinks=(0.0,)),
    # activations
    "sigmoid": unary("sigmoid", torch.sigmoid), "tanh": unary("tanh", torch.tanh),
    "relu": unary("relu", torch.relu, kinks=(0.0,)),
    "softmax": build_softmax("softmax", torch.softmax), "log_softmax": build_softmax("log_softmax", torch.log_softmax),
    "softplus": build_softplus,
    "leaky_relu": unary("leaky_relu", lambda x, slope: F.leaky_relu(x, slope), kinks=(0.0,),
                        params=lambda r: {"slope": r.choice([0.01, 0.2])}),
    "elu": unary("elu", lambda x, alpha: F.elu(x, alpha), kinks=(0.0,), params=lambda r: {"alpha": r.choice([1.0, 0.5])}),
    "gelu": unary("gelu", F.gelu), "gelu_tanh": unary("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    "silu": unary("silu", F.silu), "hardtanh": build_hardtanh, "log_sigmoid": unary("log_sigmoid", F.logsigmoid),
    # reductions
    "sum_all": build_all("sum_all", torch.sum), "mean_all": build_all("mean_all", torch.mean),
    "sum_axis": build_axis("sum_axis", lambda x, a, k: x.sum(a, keepdim=k)),
    "mean_axis": build_axis("mean_axis", lambda x, a, k: x.mean(a, keepdim=k)),
    "sum_axes": reduction_axes("sum_axes", lambda x, ax, k: x.sum(ax, keepdim=k)),
    "mean_axes": reduction_axes("mean_axes", lambda x, ax, k: x.mean(ax, keepdim=k)),
    "max_all": build_all("max_all", torch.max, check_ties=True),
    "min_all": build_all("min_all", torch.min, check_ties=True),
    "max_axis": build_axis("max_axis", lambda x, a, k: torch.max(x, a, keepdim=k).values, check_ties=True),
    "min_axis": build_axis("min_axis", lambda x, a, k: torch.min(x, a, keepdim=k).values, check_ties=True),
    "amax": reduction_axes("amax", lambda x, ax, k: torch.amax(x, ax, keepdim=k), check_ties=True),
    "amin": reduction_axes("amin", lambda x, ax, k: torch.amin(x, ax, keepdim=k), check_ties=True),
    "argmax_axis": build_arg, "argmax_all": build_argmax_all, "ties": build_ties,
    "prod_axes": reduction_axes("prod_axes", torch_prod), "prod_all": build_all("prod_all", torch.prod),
    "var": lambda g: _var(g, "var", torch.var), "std": lambda g: _var(g, "std", torch.std),
    "logsumexp": reduction_axes("logsumexp", lambda x, ax, k: torch.logsumexp(x, ax, keepdim=k)),
    "l1": build_all("l1", lambda x: x.abs().sum()), "squared_l2": build_all("squared_l2", lambda x: (x * x).sum()),
    # linear algebra and shapes
    "matmul": build_matmul, "matmul_nd": build_matmul_nd, "transpose": build_transpose, "reshape": build_reshape,
    "squeeze": build_squeeze, "unsqueeze": build_unsqueeze, "flatten": build_flatten, "permute": build_permute,
    "concat": build_concat, "stack": build_stack, "slice": build_slice, "index_select": build_index_select,
    "gather": build_gather, "one_hot": build_one_hot,
    # losses
    "cross_entropy": build_cross_entropy, "nll_loss": build_nll, "pair_loss": build_pair_loss, "bce_logits": build_bce,
    "kl_div": build_kl,
    # N-d linear, normalization, attention (issue 21)
    "linear_nd": build_linear_nd, "layer_norm": build_layer_norm, "sdpa": build_sdpa,
}


# ---- issue 22 §3.8: norm, masked_fill, tril/triu, mish, relu6, rows ------------------------

def build_norm(g):
    i = g.pick(min_rank=1)
    rank = len(g.shape(i))
    p = g.rng.choice([1.0, 2.0, 3.0, 1.5, 0.5, math.inf, -math.inf])
    keep = g.rng.random() < 0.5
    v = g.value(i)
    away(v, [0.0], 0.05)  # |x|^(p-1) and sign(x): no derivative at 0
    if math.isinf(p):
        axes = [g.rng.randrange(rank)]
        clear_winner(v.abs(), axes[0])
    else:
        axes = rand_axes(g.rng, rank)
    return g.add("norm", [i], lambda x: torch.linalg.vector_norm(x, p, dim=axes, keepdim=keep),
                 p=p if math.isfinite(p) else ("inf" if p > 0 else "-inf"),  # JSON has no infinity
                 axes=[signed_axis(g.rng, a, rank) for a in axes], keepdims=keep)


def build_masked_fill(g):
    i = g.pick()
    s = g.shape(i)
    sm = tuple(1 if g.rng.random() < 0.4 else e for e in s)[g.rng.randint(0, len(s)):]  # broadcasts to s
    mask = [float(g.rng.random() < 0.5) for _ in range(math.prod(sm))]
    mt = torch.tensor(mask).reshape(sm) != 0
    value = g.rng.uniform(-2.0, 2.0)
    return g.add("masked_fill", [i], lambda x: x.masked_fill(mt, value), mask={"shape": list(sm), "data": mask},
                 value=value)


def build_triangle(op, fn):
    def build(g):
        i = g.pick(min_rank=2)
        k = g.rng.randint(-2, 2)
        return g.add(op, [i], lambda x: fn(x, k), k=k)
    return build


def build_rows(g):
    i = g.pick(min_rank=1)
    n = g.shape(i)[0]
    start, stop = g.rng.randint(-n - 1, n), g.rng.randint(-n, n + 1)
    if g.value(i)[start:stop].numel() == 0:
        raise Reject()
    return g.add("rows", [i], lambda x: x[start:stop], start=start, stop=stop)


OPS.update({
    "norm": build_norm, "masked_fill": build_masked_fill,
    "tril": build_triangle("tril", torch.tril), "triu": build_triangle("triu", torch.triu),
    "mish": unary("mish", F.mish), "relu6": unary("relu6", F.relu6, kinks=(0.0, 6.0)), "rows": build_rows,
})


def _var(g, op, fn):
    i = g.pick(min_rank=1)
    rank = len(g.shape(i))
    axes = rand_axes(g.rng, rank)
    group = math.prod(g.shape(i)[a] for a in axes)
    correction = g.rng.choice([0, 1, 1, 2])  # PyTorch's correction (1 = unbiased, 0 = biased)
    if group - correction < 1:
        raise Reject()
    keep = g.rng.random() < 0.5
    v = g.value(i)
    if op == "std" and fn(v, axes, correction=correction, keepdim=True).min() < 1e-6:
        raise Reject()  # √ at 0: no derivative
    return g.add(op, [i], lambda x: fn(x, axes, correction=correction, keepdim=keep),
                 axes=[signed_axis(g.rng, a, rank) for a in axes], correction=correction, keepdims=keep)


def make_case(rng, focus, second=False):
    """A graph of 1-6 ops, the first of kind `focus`; returns (case, torch output, torch grads, op list,
    torch second derivatives or None). With `second`, the case also carries a direction u per leaf
    and the second derivatives are those of s = Σ_leaves ⟨∂(Σ w·out)/∂leaf, u⟩ (create_graph)."""
    for _ in range(50):
        g = Graph(rng)
        try:
            OPS[focus](g)
            for _ in range(rng.randint(0, 5)):
                for _ in range(10):
                    try:
                        OPS[rng.choice(list(OPS))](g)
                        break
                    except Reject:
                        continue
        except Reject:
            continue
        if not g.nodes:
            continue
        return reference(g, rng, second)
    raise RuntimeError("diff_torch: could not build a graph around " + focus)


def reference(g, rng, second):
    """The runner's case for graph g and torch's results: (case, output, gradients, op list,
    second derivatives or None), as make_case returns them."""
    out = g.values[max(i for i, w in enumerate(g.where) if w[0] == "node")]  # the runner's output
    weights = [rng.uniform(-1, 1) for _ in range(out.numel())]
    case = g.case(weights)
    # xtgrad refuses create_graph through a product with a zero element (docs/ops.md): such
    # graphs compare first derivatives only
    if second and any(n["op"].startswith("prod") and any(bool((g.values[i] == 0).any()) for i in n["in"])
                      for n in g.nodes):
        second = False
    if getattr(g, "first_only", False):  # an edge case with no second derivative to compare
        second = False
    if not second:
        if out.requires_grad:
            (out * torch.tensor(weights).reshape(out.shape)).sum().backward()
        grads = [t.grad if t.requires_grad else None for t in g.torch_leaves]
        return case, out.detach(), grads, [n["op"] for n in g.nodes], None
    dirs = [[rng.uniform(-1, 1) for _ in range(t.numel())] if t.requires_grad else None for t in g.torch_leaves]
    case["directions"] = dirs
    req = [t for t in g.torch_leaves if t.requires_grad]
    grads = [None] * len(g.torch_leaves)
    seconds = [None] * len(g.torch_leaves)
    if out.requires_grad and req:
        loss = (out * torch.tensor(weights).reshape(out.shape)).sum()
        firsts = torch.autograd.grad(loss, req, create_graph=True, allow_unused=True)
        where = [i for i, t in enumerate(g.torch_leaves) if t.requires_grad]
        s = None
        for i, f in zip(where, firsts):
            if f is None:
                continue
            grads[i] = f.detach()
            if f.requires_grad:
                term = (f * torch.tensor(dirs[i], dtype=torch.float64).reshape(f.shape)).sum()
                s = term if s is None else s + term
        if s is not None:
            for i, h in zip(where, torch.autograd.grad(s, req, allow_unused=True)):
                seconds[i] = None if h is None else h.detach()
    return case, out.detach(), grads, [n["op"] for n in g.nodes], seconds


# ---- fixed edge cases, compared once each beside the random graphs ----------------------------
# Inputs random graphs never draw (issue 19 §5): a lane of equal values under std, reductions
# over zero elements, cross-entropy with probability targets at logits near 1e7. Each builds
# its graph on a Graph and returns nothing; all compare second derivatives too.

def edge_std_constant_lane(unbiased, axes, shape, data):
    def build(g):
        x = g.leaf(shape, data=data)
        s = g.add("mul_scalar", [x], lambda v: v * 1.5, s=1.5)  # an op upstream: NaN would reach x
        g.add("std", [s], lambda v: torch.std(v, axes, unbiased=unbiased), axes=axes, unbiased=unbiased,
              keepdims=False)
    return build


def edge_empty(op, shape, node, fn):
    def build(g):
        g.finite_only = False  # NaN (mean, var, std) and −inf (logsumexp) are the expected values
        x = g.leaf(shape, data=[])
        g.add(op, [x], fn, **node)
    return build


def edge_empty_loss(op, shape, fn):
    def build(g):
        g.finite_only = False
        a, b = g.leaf(shape, data=[]), g.leaf(shape, data=[])
        g.add(op, [a, b], fn)
    return build


def edge_cross_entropy_large_logits(g):
    n, c = 3, 4
    z = g.leaf((n, c), data=[1e7 + g.rng.uniform(-2.0, 2.0) for _ in range(n * c)])
    t = g.leaf((n, c), 0.0, 1.0)
    g.add("cross_entropy_targets", [z, t], lambda x, y: -(y * F.log_softmax(x, 1)).sum() / n)


def edge_sdpa_dead_row(g):
    """A query whose keys are all masked (boolean row of zeros) next to live ones, causal."""
    q, k, v = g.leaf((2, 3, 2)), g.leaf((2, 3, 2)), g.leaf((2, 3, 3))
    sdpa_node(g, q, k, v, True, None, "boolean", (3, 3), [0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0])


def edge_sdpa_causal_more_queries(g):
    """Causal with Lq > Lk (queries past the last key attend every key) and an additive mask."""
    q, k, v = g.leaf((1, 2, 5, 3)), g.leaf((1, 2, 3, 3)), g.leaf((1, 2, 3, 2))
    sdpa_node(g, q, k, v, True, 0.5, "additive", (2, 1, 3), [0.5, -1.0, 0.0, 2.0, 0.25, -0.5])



def edge_sdpa_heads(g):
    """q, k, v (2, 4, 3·2) with 3 heads side by side, a boolean per-head mask, causal."""
    q, k, v = g.leaf((2, 4, 6)), g.leaf((2, 4, 6)), g.leaf((2, 4, 3))
    sdpa_node(g, q, k, v, True, None, "boolean", (3, 1, 4), [1.0, 0.0, 1.0, 1.0] * 2 + [0.0, 1.0, 1.0, 1.0], heads=3)


def edge_norm_zero_lane(p):
    """A lane of zeros under norm: value 0 and gradient 0 (PyTorch masks norm = 0). For p = 2 the
    gradient x/|x| jumps at 0, so there is no second derivative to compare (torch 1.13 gives NaN,
    xtgrad 0): first derivatives only."""
    def build(g):
        g.first_only = p == 2.0
        x = g.leaf((2, 3), data=[0.0, 0.0, 0.0, 0.5, -1.0, 2.0])
        s = g.add("mul_scalar", [x], lambda v: v * 1.5, s=1.5)  # an op upstream: NaN would reach x
        g.add("norm", [s], lambda v: torch.linalg.vector_norm(v, p, dim=[1]), p=p, axes=[1], keepdims=False)
    return build


EDGE_CASES = {
    "norm (p = 2) of a lane of zeros": edge_norm_zero_lane(2.0),
    "norm (p = 3) of a lane of zeros": edge_norm_zero_lane(3.0),
    "std of a constant lane (unbiased)": edge_std_constant_lane(True, [1], (2, 4), [2, 2, 2, 2, 1, 2, 3, 4]),
    "std of a constant lane (biased)": edge_std_constant_lane(False, [1], (3, 3), [0.5] * 3 + [1, -1, 2] + [-3] * 3),
    "std of a constant tensor": edge_std_constant_lane(True, [0, 1], (2, 2), [0.25] * 4),
    "sum of (0,)": edge_empty("sum_all", (0,), {}, torch.sum),
    "mean of (0,)": edge_empty("mean_all", (0,), {}, torch.mean),
    "mean of (3, 0) along 1": edge_empty("mean_axis", (3, 0), {"axis": 1, "keepdims": False},
                                         lambda x: x.mean(1)),
    "mean of (0, 3) over 0": edge_empty("mean_axes", (0, 3), {"axes": [0], "keepdims": True},
                                        lambda x: x.mean([0], keepdim=True)),
    "var of (0,)": edge_empty("var", (0,), {"axes": [0], "unbiased": True, "keepdims": False},
                              lambda x: torch.var(x, [0], unbiased=True)),
    "biased var of (0, 3)": edge_empty("var", (0, 3), {"axes": [0, 1], "unbiased": False, "keepdims": False},
                                       lambda x: torch.var(x, [0, 1], unbiased=False)),
    "std of (3, 0) along 1": edge_empty("std", (3, 0), {"axes": [1], "unbiased": True, "keepdims": True},
                                        lambda x: torch.std(x, [1], unbiased=True, keepdim=True)),
    "biased std of (0, 3) over 0": edge_empty("std", (0, 3), {"axes": [0], "unbiased": False, "keepdims": False},
                                              lambda x: torch.std(x, [0], unbiased=False)),
    "prod of (3, 0) over 1": edge_empty("prod_axes", (3, 0), {"axes": [1], "keepdims": False},
                                        lambda x: x.prod(1)),
    "logsumexp of (0, 3) over 0": edge_empty("logsumexp", (0, 3), {"axes": [0], "keepdims": False},
                                             lambda x: torch.logsumexp(x, [0])),
    "cross_entropy (probability targets) of an empty batch": edge_empty_loss(
        "cross_entropy_targets", (0, 3), lambda x, y: F.cross_entropy(x, y)),
    "mse of an empty batch": edge_empty_loss("mse", (0, 2), F.mse_loss),
    "cross_entropy (probability targets) at logits near 1e7": edge_cross_entropy_large_logits,
    "sdpa with a fully masked query row": edge_sdpa_dead_row,
    "sdpa causal with more queries than keys": edge_sdpa_causal_more_queries,
    "sdpa with heads side by side (B, L, H·d), per-head mask": edge_sdpa_heads,
}


def make_edge_case(rng, build):
    g = Graph(rng)
    build(g)
    return reference(g, rng, True)


def close(ours, theirs):
    """Elementwise |a − b| ≤ rtol·|b| + 1e-3·rtol·max|b| + atol; NaN matches NaN, ±inf itself."""
    if ours.shape != theirs.shape:
        return False, float("inf")
    if theirs.numel() == 0:
        return True, 0.0
    same_special = (ours.isnan() & theirs.isnan()) | (ours == theirs)
    scale = theirs[torch.isfinite(theirs)].abs().max().item() if torch.isfinite(theirs).any() else 0.0
    err = (ours - theirs).abs()
    tol = RTOL * theirs.abs() + 1e-3 * RTOL * scale + ATOL
    bad = ~same_special & ~(err <= tol)
    ratio = (err / tol.clamp(min=1e-300))[~same_special]
    return (not bad.any()), (ratio.max().item() if ratio.numel() else 0.0)


def to_tensor(values, shape):
    """The runner's numbers: JSON has no NaN or infinity, so it writes null and "inf"/"-inf"."""
    return torch.tensor([math.nan if v is None else float(v) for v in values], dtype=torch.float64).reshape(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runner", required=True, help="path of the diff_runner executable")
    ap.add_argument("--cases", type=int, default=3000, help="number of random graphs (default 3000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--dump", help="also write the cases to this JSON file")
    ap.add_argument("--second-every", type=int, default=4,
                    help="every N-th graph also compares second derivatives (create_graph); 0: none (default 4)")
    args = ap.parse_args()
    if args.cases < len(OPS):
        print(f"diff_torch: --cases must be at least {len(OPS)} (one per op kind)", file=sys.stderr)
        return 2
    if not os.access(args.runner, os.X_OK):
        print(f"diff_torch: runner {args.runner} is not an executable file", file=sys.stderr)
        return 2
    start = time.time()
    rng = random.Random(args.seed)
    kinds = list(OPS)
    cases, expected = [], []
    for c in range(args.cases):
        second = args.second_every > 0 and c % args.second_every == args.second_every - 1
        case, out, grads, ops, seconds = make_case(rng, kinds[c % len(kinds)], second)
        cases.append(case)
        expected.append((out, grads, ops, seconds))
    names = [None] * len(cases)
    for name, build in EDGE_CASES.items():
        case, out, grads, ops, seconds = make_edge_case(rng, build)
        cases.append(case)
        expected.append((out, grads, ops, seconds))
        names.append(name)
    generated = time.time()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cases, f)
        path = f.name
    if args.dump:
        with open(args.dump, "w") as f:
            json.dump(cases, f)
    try:
        run = subprocess.run([args.runner, path], capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(path)
    if run.returncode != 0:
        print(f"diff_torch: runner failed with exit code {run.returncode}: {run.stderr.strip()}", file=sys.stderr)
        return 2
    lines = run.stdout.splitlines()
    if len(lines) != len(cases):
        print(f"diff_torch: runner printed {len(lines)} results for {len(cases)} cases", file=sys.stderr)
        return 2
    failures = 0
    compared = 0
    worst = 0.0
    seen = {}
    second_cases = 0
    edge_lines = []
    for n, (line, (out, grads, ops, seconds)) in enumerate(zip(lines, expected)):
        for op in ops:
            seen[op] = seen.get(op, 0) + 1
        r = json.loads(line)
        problems = []
        worst_before, worst = worst, 0.0  # this case's worst, for the edge-case lines
        if "error" in r:
            problems.append("xtgrad threw: " + r["error"])
        else:
            ok, ratio = close(to_tensor(r["out"], r["shape"]), out)
            worst = max(worst, ratio)
            compared += 1
            if not ok:
                problems.append(f"value differs (worst {ratio:.3g} x tolerance): xtgrad {r['out'][:6]} torch {out.reshape(-1)[:6].tolist()}")
            for i, (ours, theirs) in enumerate(zip(r["grads"], grads)):
                shape = cases[n]["leaves"][i]["shape"]
                a = to_tensor(ours, shape) if ours is not None else torch.zeros(shape)
                b = theirs if theirs is not None else torch.zeros(shape)
                ok, ratio = close(a, b)
                worst = max(worst, ratio)
                compared += 1
                if not ok:
                    problems.append(f"gradient of leaf {i} {shape} differs (worst {ratio:.3g} x tolerance): "
                                    f"xtgrad {a.reshape(-1)[:6].tolist()} torch {b.reshape(-1)[:6].tolist()}")
            if seconds is not None:
                second_cases += 1
                if "seconds" not in r:
                    problems.append("the runner gave no second derivatives")
                for i, (ours, theirs) in enumerate(zip(r.get("seconds", []), seconds)):
                    shape = cases[n]["leaves"][i]["shape"]
                    a = to_tensor(ours, shape) if ours is not None else torch.zeros(shape)
                    b = theirs if theirs is not None else torch.zeros(shape)
                    ok, ratio = close(a, b)
                    worst = max(worst, ratio)
                    compared += 1
                    if not ok:
                        problems.append(f"second derivative of leaf {i} {shape} differs (worst {ratio:.3g} x "
                                        f"tolerance): xtgrad {a.reshape(-1)[:6].tolist()} torch {b.reshape(-1)[:6].tolist()}")
        if names[n]:
            edge_lines.append(f"  {names[n]}: worst {worst:.3g} x tolerance{'' if not problems else ', DISAGREES'}")
        worst = max(worst, worst_before)
        if problems:
            failures += 1
            if failures <= 10 or names[n]:
                print(f"case {n} ({' -> '.join(ops)}){': edge case ' + names[n] if names[n] else ''}:")
                for p in problems:
                    print("  " + p)
                print("  graph: " + json.dumps(cases[n]["nodes"])[:2000])
    # every op the runner knows must have been drawn at least once
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "diff_runner.cpp")) as f:
        runner_ops = set(re.findall(r'op == "(\w+)"', f.read()))
    missing = sorted(runner_ops - set(seen))
    elapsed = time.time() - start
    print(f"diff_torch: {len(cases) - len(EDGE_CASES)} random graphs (seed {args.seed}) and {len(EDGE_CASES)} fixed edge cases, {sum(seen.values())} op nodes of {len(seen)} kinds, "
          f"{second_cases} with second derivatives, {compared} tensors compared, worst {worst:.3g} x tolerance (rtol {RTOL}, atol {ATOL}); "
          f"{failures} graphs disagree; generation {generated - start:.1f} s, total {elapsed:.1f} s")
    print("diff_torch: op counts: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))
    print("diff_torch: fixed edge cases (values, gradients, second derivatives):\n" + "\n".join(edge_lines))
    if missing:
        print("diff_torch: ops never drawn (raise --cases): " + ", ".join(missing))
    if failures or missing:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
