"""Module diff cases for nn::LayerNorm (the harness's own check: a module whose parameter names
and layout are PyTorch's since before issue 22)."""
import torch


def _layer_norm(shape, normalized, name):
    def build():
        m = torch.nn.LayerNorm(normalized)
        with torch.no_grad():  # weights away from 1 and 0, so their gradients matter
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
        return m
    return dict(name=name, config=dict(module="LayerNorm", normalized_shape=list(normalized)),
                build=build,
                inputs=lambda g: {"x": torch.randn(shape, generator=g)},
                forward=lambda m, ins: {"y": m(ins["x"])})


CASES = [
    _layer_norm((4, 5), (5,), "layer_norm_last_axis"),
    _layer_norm((2, 3, 4), (3, 4), "layer_norm_two_axes"),
]
