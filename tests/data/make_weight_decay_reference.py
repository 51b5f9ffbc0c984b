"""PyTorch's weight-decay semantics in float64, for test_optimizers.cpp's WeightDecayMatchesPyTorch.

Four steps from w0 = [1, -2] with gradients g1, g2, g1, g2 (given, not computed), lr 0.1,
weight_decay 0.1: SGD (coupled, momentum 0.9), SGD with the decay decoupled by hand
(w *= 1 - lr*wd before a decay-free SGD step), Adam (coupled) and AdamW. Prints w after the
last step of each. Run: /usr/bin/python3 tests/data/make_weight_decay_reference.py
"""
import torch

G = [torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.25, 2.0], dtype=torch.float64)]


def run(make, decouple_by_hand=0.0):
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = make([w])
    for k in range(4):
        w.grad = G[k % 2].clone()
        if decouple_by_hand:
            with torch.no_grad():
                w.mul_(1 - 0.1 * decouple_by_hand)
        opt.step()
    return w.detach().tolist()


print("torch", torch.__version__)
print("sgd_coupled", run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1)))
print("sgd_decoupled", run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), decouple_by_hand=0.1))
print("adam_coupled", run(lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.1)))
print("adamw", run(lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.1)))
