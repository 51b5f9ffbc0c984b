#!/usr/bin/env python3
"""A model's parameters through PyTorch and back, with scripts/torch_state_dict.py.

For each model (a BatchNorm CNN, an LSTM tagger, a small causal transformer): a torch model in float64, trained a few Adam steps in
torch, is saved with torch.save, converted to .npz by `torch_state_dict.py to-npz`, and
loaded by state_dict_runner (xtgrad, double) into the same architecture written with xtgrad's
modules. The runner's training-mode output must equal torch's; it then takes one SGD step
(lr 0.1) on Σ y·r and saves its parameters and buffers (BatchNorm's running statistics
included), which `torch_state_dict.py to-pt` turns back into a state dict that torch loads
strictly. Torch, having taken the same step, must hold the same parameters and buffers and give
the same evaluation-mode output. Tolerance 1e-9 relative (+1e-12 absolute).

Usage: state_dict_roundtrip.py --runner build/tests/diff/state_dict_runner [--models cnn,...]
Exit status: 0 all agree, 1 a mismatch (printed), 2 runner or script failure, 77 torch missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
except ImportError:
    print("state_dict_roundtrip: SKIPPED: torch is not importable by " + sys.executable)
    sys.exit(77)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "torch_state_dict.py")
RTOL, ATOL = 1e-9, 1e-12


def cnn():
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, torch.randn(5, 1, 8, 8)


class LstmTagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(5, 2)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


def lstm():
    return LstmTagger(), torch.randn(4, 6, 3)


class TinyLanguageModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(11, 8)
        layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
        self.head = torch.nn.Linear(8, 11)

    def forward(self, x):
        mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.head(self.encoder(self.embed(x.long()), mask=mask))


def transformer():
    return TinyLanguageModel(), torch.randint(0, 11, (3, 7)).double()


MODELS = {"cnn": cnn, "lstm": lstm, "transformer": transformer}


def worst(a, b):
    """max |a − b| / (rtol·|b| + atol) over the elements: ≤ 1 passes."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / (RTOL * np.abs(b) + ATOL)))


def run(name, runner, folder):
    torch.manual_seed(sum(map(ord, name)))
    model, x = MODELS[name]()
    # Trained in torch first: a few Adam steps on a random regression target move every
    # parameter (and BatchNorm's running statistics) away from its initialisation.
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    target = torch.randn_like(model(x))
    for _ in range(5):
        adam.zero_grad()
        ((model(x) - target) ** 2).mean().backward()
        adam.step()
    adam.zero_grad()
    torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
    subprocess.run([sys.executable, SCRIPT, "to-npz", os.path.join(folder, "model.pt"),
                    os.path.join(folder, "state.npz")], check=True, stdout=subprocess.DEVNULL)
    model.train()
    y = model(x)
    r = torch.randn_like(y)
    np.savez(os.path.join(folder, "input.npz"), x=x.numpy(), r=r.detach().numpy())
    done = subprocess.run([runner, name, folder], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{name}: state_dict_runner failed: {done.stderr.strip()}")
        return None
    (y * r).sum().backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    model.eval()
    y_after = model(x)
    subprocess.run([sys.executable, SCRIPT, "to-pt", os.path.join(folder, "stepped.npz"),
                    os.path.join(folder, "stepped.pt")], check=True, stdout=subprocess.DEVNULL)
    back = MODELS[name]()[0]
    back.load_state_dict(torch.load(os.path.join(folder, "stepped.pt")), strict=True)
    out = np.load(os.path.join(folder, "out.npz"))
    errors = {"y": worst(out["y"], y.detach().numpy()), "y_after": worst(out["y_after"], y_after.detach().numpy())}
    theirs = back.state_dict()
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        errors[key] = worst(theirs[key].numpy(), value.detach().numpy())
    back.eval()
    errors["y_after (reloaded in torch)"] = worst(back(x).detach().numpy(), y_after.detach().numpy())
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runner", required=True)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            parser.error(f"--models: unknown model '{n}' (known: {', '.join(MODELS)})")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            errors = run(name, args.runner, folder)
            if errors is None:
                return 2
            key, value = max(errors.items(), key=lambda kv: kv[1])
            ok = value <= 1.0
            failed |= not ok
            print(f"{name}: {'ok' if ok else 'MISMATCH'}: {len(errors)} comparisons, worst {key} at "
                  f"{value:.3g} of the tolerance")
            if not ok:
                for k, v in errors.items():
                    if v > 1.0:
                        print(f"  {k}: {v:.3g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
