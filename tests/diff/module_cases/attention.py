"""Module diff cases for nn::MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer
and TransformerEncoder (kdim = vdim = embed_dim only: xtgrad has no separate q/k/v projections).

Masks travel as float64 inputs (not in grad_inputs): an additive mask as its values, a boolean
one as 0/1 (turned into a torch bool tensor here; config "*_type": "boolean" tells the C++ side).
"is_causal" in a config means: torch gets the explicit causal mask (torch 1.13 has no is_causal),
xtgrad gets is_causal(true) and no mask, so the two spellings are checked to agree.
"""
import torch


def _causal(n):
    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def _bool_mask(shape, g, density=0.35):
    """0/1 float mask (1: not attended) with at least one attended key per row (column 0)."""
    m = (torch.rand(shape, generator=g) < density).double()
    m[..., 0] = 0.0
    return m


def _padding(n, s, g):
    """(N, S) 0/1: 1 at padded keys; every item keeps its first keys."""
    m = torch.zeros(n, s)
    for i in range(n):
        k = int(torch.randint(0, s - 1, (1,), generator=g))  # keys ≥ s − k padded, at least 1 kept
        if k:
            m[i, s - k:] = 1.0
    return m


# ---- MultiheadAttention ------------------------------------------------------------------------

def _mha(name, e=6, h=2, l=4, s=5, n=3, self_attn=False, batch_first=False, unbatched=False,
         attn_mask=None, key_padding=False, is_causal=False, need_weights=False, average=True, bias=True):
    """attn_mask: None, "additive" (L, S), "boolean" (L, S), "additive3" (N·H, L, S)."""
    if self_attn:
        s = l

    def shape(length):
        if unbatched:
            return (length, e)
        return (n, length, e) if batch_first else (length, n, e)

    def inputs(g):
        ins = {"query": torch.randn(shape(l), generator=g)}
        if not self_attn:
            ins["key"] = torch.randn(shape(s), generator=g)
            ins["value"] = torch.randn(shape(s), generator=g)
        if attn_mask == "additive":
            ins["attn_mask"] = torch.randn(l, s, generator=g)
        elif attn_mask == "additive3":
            ins["attn_mask"] = torch.randn((n if not unbatched else 1) * h, l, s, generator=g)
        elif attn_mask == "boolean":
            ins["attn_mask"] = _bool_mask((l, s), g)
        if key_padding:
            ins["key_padding_mask"] = _padding(1, s, g)[0] if unbatched else _padding(n, s, g)
        return ins

    def forward(m, ins):
        q = ins["query"]
        k = q if self_attn else ins["key"]
        v = q if self_attn else ins["value"]
        mask = ins.get("attn_mask")
        if attn_mask == "boolean":
            mask = mask.bool()
        if is_causal:
            mask = _causal(l)
        kpm = ins["key_padding_mask"].bool() if key_padding else None
        y, w = m(q, k, v, key_padding_mask=kpm, need_weights=need_weights, attn_mask=mask,
                 average_attn_weights=average)
        out = {"y": y}
        if need_weights:
            out["w"] = w
        return out

    def build():
        mha = torch.nn.MultiheadAttention(e, h, batch_first=batch_first, bias=bias)
        if bias:
            with torch.no_grad():  # biases away from 0, so their gradients matter
                mha.in_proj_bias.uniform_(-0.5, 0.5)
                mha.out_proj.bias.uniform_(-0.5, 0.5)
        return mha

    grad_inputs = ["query"] if self_attn else ["query", "key", "value"]
    config = dict(module="MultiheadAttention", embed_dim=e, num_heads=h, batch_first=batch_first, bias=bias,
                  self_attention=self_attn, attn_mask_type="boolean" if attn_mask == "boolean" else "additive",
                  is_causal=is_causal, need_weights=need_weights, average_attn_weights=average)
    return dict(name=name, config=config, build=build, inputs=inputs, forward=forward, grad_inputs=grad_inputs)


# ---- transformer layers --------------------------------------------------------------------------

def _layer_options(activation, norm_first, batch_first):
    return dict(dim_feedforward=10, dropout=0.0, activation=activation, norm_first=norm_first,
                batch_first=batch_first)


def _perturb_norms(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if ".norm" in "." + name or name.startswith("norm"):
                p.uniform_(0.5, 1.5) if name.endswith("weight") else p.uniform_(-0.5, 0.5)
            elif name.endswith("in_proj_bias") or name.endswith("out_proj.bias"):
                p.uniform_(-0.5, 0.5)


def _encoder_layer(name, activation="relu", norm_first=False, batch_first=False, mask=None, key_padding=False,
                   l=4, n=2, d=6, h=2):
    """mask: None, "causal" (torch: explicit mask; xtgrad: is_causal), "additive", "boolean"."""
    opts = _layer_options(activation, norm_first, batch_first)

    def build():
        layer = torch.nn.TransformerEncoderLayer(d, h, **opts)
        _perturb_norms(layer)
        return layer

    def inputs(g):
        ins = {"src": torch.randn((n, l, d) if batch_first else (l, n, d), generator=g)}
        if mask == "additive":
            ins["mask"] = torch.randn(l, l, generator=g)
        elif mask == "boolean":
            ins["mask"] = _bool_mask((l, l), g)
        if key_padding:
            ins["src_key_padding_mask"] = _padding(n, l, g)
        return ins

    def forward(m, ins):
        src_mask = _causal(l) if mask == "causal" else ins.get("mask")
        if mask == "boolean":
            src_mask = src_mask.bool()
        kpm = ins["src_key_padding_mask"].bool() if key_padding else None
        return {"y": m(ins["src"], src_mask=src_mask, src_key_padding_mask=kpm)}

    config = dict(module="TransformerEncoderLayer", d_model=d, nhead=h, is_causal=mask == "causal",
                  mask_type="boolean" if mask == "boolean" else "additive", **opts)
    return dict(name=name, config=config, build=build, inputs=inputs, forward=forward, grad_inputs=["src"])


def _decoder_layer(name, activation="relu", norm_first=False, batch_first=False, t=4, s=5, n=2, d=6, h=2):
    """tgt_mask causal (xtgrad: tgt_is_causal), memory_mask additive, both key padding masks."""
    opts = _layer_options(activation, norm_first, batch_first)

    def build():
        layer = torch.nn.TransformerDecoderLayer(d, h, **opts)
        _perturb_norms(layer)
        return layer

    def inputs(g):
        return {"tgt": torch.randn((n, t, d) if batch_first else (t, n, d), generator=g),
                "memory": torch.randn((n, s, d) if batch_first else (s, n, d), generator=g),
                "memory_mask": torch.randn(t, s, generator=g),
                "tgt_key_padding_mask": _padding(n, t, g),
                "memory_key_padding_mask": _padding(n, s, g)}

    def forward(m, ins):
        return {"y": m(ins["tgt"], ins["memory"], tgt_mask=_causal(t), memory_mask=ins["memory_mask"],
                       tgt_key_padding_mask=ins["tgt_key_padding_mask"].bool(),
                       memory_key_padding_mask=ins["memory_key_padding_mask"].bool())}

    config = dict(module="TransformerDecoderLayer", d_model=d, nhead=h, **opts)
    return dict(name=name, config=config, build=build, inputs=inputs, forward=forward,
                grad_inputs=["tgt", "memory"])


def _encoder(name, num_layers=2, final_norm=True, l=5, n=2, d=6, h=3):
    """A stack with a causal mask (xtgrad: is_causal) and a key padding mask."""
    opts = _layer_options("gelu", False, False)

    def build():
        layer = torch.nn.TransformerEncoderLayer(d, h, **opts)
        encoder = torch.nn.TransformerEncoder(layer, num_layers, norm=torch.nn.LayerNorm(d) if final_norm else None)
        _perturb_norms(encoder)
        return encoder

    def inputs(g):
        return {"src": torch.randn(l, n, d, generator=g), "src_key_padding_mask": _padding(n, l, g)}

    def forward(m, ins):
        return {"y": m(ins["src"], mask=_causal(l), src_key_padding_mask=ins["src_key_padding_mask"].bool())}

    config = dict(module="TransformerEncoder", d_model=d, nhead=h, num_layers=num_layers, final_norm=final_norm,
                  **opts)
    return dict(name=name, config=config, build=build, inputs=inputs, forward=forward, grad_inputs=["src"])


CASES = [
    _mha("mha_self", self_attn=True),
    _mha("mha_cross_weights", need_weights=True),
    _mha("mha_self_causal", self_attn=True, is_causal=True),
    _mha("mha_additive_mask", attn_mask="additive", need_weights=True),
    _mha("mha_boolean_mask_per_head_weights", attn_mask="boolean", need_weights=True, average=False),
    _mha("mha_key_padding_batch_first", batch_first=True, key_padding=True, need_weights=True),
    _mha("mha_3d_mask_and_key_padding", e=8, h=4, attn_mask="additive3", key_padding=True),
    _mha("mha_unbatched_boolean_mask", unbatched=True, attn_mask="boolean", key_padding=True),
    _mha("mha_no_bias_self", self_attn=True, bias=False),
    _mha("mha_no_bias_cross_weights", bias=False, need_weights=True, key_padding=True),
    _encoder_layer("encoder_layer_relu_post_causal", "relu", False, mask="causal"),
    _encoder_layer("encoder_layer_relu_pre_boolean", "relu", True, mask="boolean", key_padding=True),
    _encoder_layer("encoder_layer_gelu_post_padding", "gelu", False, batch_first=True, key_padding=True),
    _encoder_layer("encoder_layer_gelu_pre_additive", "gelu", True, mask="additive"),
    _decoder_layer("decoder_layer_post", "relu", False),
    _decoder_layer("decoder_layer_pre_batch_first", "gelu", True, batch_first=True),
    _encoder("encoder_2_layers_final_norm"),
]
