#!/usr/bin/env python3
"""Moves model parameters between PyTorch and xtgrad.

xtgrad's modules use PyTorch's parameter names and layouts (a Linear weight is (out, in), an
LSTM's weight_ih_l0 is (4·hidden, input), ...), and nn::save_parameters / nn::load_parameters
read and write numpy's .npz. So a state dict crosses over as it is; this script only changes
the container:

  torch_state_dict.py to-npz  MODEL.pt  OUT.npz [--dtype float32|float64]
      A torch.save'd state dict (or a dict holding one under 'state_dict' or 'model', or a
      whole nn.Module) → .npz for nn::load_parameters. Non-tensor entries are skipped;
      floating tensors are written in --dtype (default: as stored), integer ones as they are.
  torch_state_dict.py to-pt   IN.npz  OUT.pt
      An .npz written by nn::save_parameters → a state dict for model.load_state_dict(...).
      BatchNorm's num_batches_tracked, which xtgrad does not keep, is left out: PyTorch
      fills it in when it loads a state dict without it.
  torch_state_dict.py transpose-linear  IN.npz  OUT.npz  [--names fc1.weight,fc2.weight]
      A parameter file of xtgrad before 0.2, whose Linear weights were (in, out) → today's
      (out, in). By default every 2-d array named *weight is transposed (embedding tables are
      2-d too: list the Linear weights with --names when the model has one).

Each output is written to a temporary file beside it and renamed over it, so a failure leaves
an existing file as it was. Exit status: 0 done, 1 bad input (the message names the file and
entry), 2 bad usage.
"""
import argparse
import os
import sys
import tempfile
import zipfile

import numpy as np


class InputError(Exception):
    """A file that cannot be converted: the message names it."""


def atomic_write(path, write):
    """Calls write(temporary path), then renames the temporary over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise InputError(f"{path}: not a readable .npz file ({e})")


def write_npz(path, arrays):
    # np.savez appends .npz to a name without it: write through an open file instead
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    atomic_write(path, write)


def torch_state(path):
    import torch
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds for a file that is not its own
        raise InputError(f"{path}: torch.load failed ({type(e).__name__}: {e})")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not any(torch.is_tensor(v) for v in obj.values()):
        raise InputError(f"{path}: holds no state dict (a dict of tensors, a module, or a dict with one "
                         "under 'state_dict' or 'model')")
    return obj


def to_npz(args):
    import torch
    state = torch_state(args.input)
    arrays = {}
    for name, value in state.items():
        if not torch.is_tensor(value):
            continue
        a = value.detach().cpu().numpy()
        if args.dtype and np.issubdtype(a.dtype, np.floating):
            a = a.astype(args.dtype)
        arrays[name] = a
    write_npz(args.output, arrays)
    print(f"{args.output}: {len(arrays)} arrays")


def to_pt(args):
    import torch
    arrays = read_npz(args.input)
    state = {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()
             if not name.endswith("num_batches_tracked")}
    atomic_write(args.output, lambda tmp: torch.save(state, tmp))
    print(f"{args.output}: {len(state)} tensors")


def transpose_linear(args):
    arrays = read_npz(args.input)
    names = [n for n in args.names.split(",") if n] if args.names else None
    if names:
        for n in names:
            if n not in arrays:
                raise InputError(f"{args.input}: has no array '{n}' (it has {', '.join(sorted(arrays))})")
            if arrays[n].ndim != 2:
                raise InputError(f"{args.input}: '{n}' has shape {arrays[n].shape}, not a 2-d Linear weight")
    chosen = names if names else [n for n, a in arrays.items() if a.ndim == 2 and n.endswith("weight")]
    for n in chosen:
        arrays[n] = np.ascontiguousarray(arrays[n].T)
        print(f"{n}: now {arrays[n].shape}")
    write_npz(args.output, arrays)
    print(f"{args.output}: {len(chosen)} of {len(arrays)} arrays transposed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("to-npz", help="torch state dict (.pt) → .npz for nn::load_parameters")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--dtype", choices=["float32", "float64"], help="dtype of the floating arrays")
    p.set_defaults(run=to_npz)
    p = sub.add_parser("to-pt", help=".npz of nn::save_parameters → torch state dict (.pt)")
    p.add_argument("input")
    p.add_argument("output")
    p.set_defaults(run=to_pt)
    p = sub.add_parser("transpose-linear", help="xtgrad < 0.2 parameter file → today's Linear layout")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--names", help="comma-separated Linear weights to transpose (default: every 2-d *weight)")
    p.set_defaults(run=transpose_linear)
    args = parser.parse_args()
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        parser.error(f"input and output are the same file ({args.input}): write elsewhere, then rename")
    try:
        args.run(args)
    except InputError as e:
        print(f"torch_state_dict.py {args.command}: {e}", file=sys.stderr)
        return 1
    except ImportError:
        print(f"torch_state_dict.py {args.command}: needs torch (Debian: apt-get install python3-torch)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
