// A character-level GPT-style transformer in xtgrad, ids (B, T) → logits (B, T, V):
//   h = tok_emb(ids) + pos_emb(0..T−1)                                  (B, T, D)
//   2 × pre-LN block:  h += proj(attention(heads of qkv(ln1(h))))        4 heads of D/4
//                      h += ff2(gelu(ff1(ln2(h))))                       D → 4D → D
//   logits = head(ln_f(h))                                              (B, T, V)
// Every linear layer goes through dense() and the attention core is attention(q, k, v), so
// N-d nn::Linear and a fused attention op each replace one function body.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <xtgrad/core/core.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/ops/ops.hpp>

namespace bench {

using xtgrad::Shape;
using xtgrad::Variable;

// x (..., in) → (..., out) through a Linear that takes (n, in): leading axes merged, then split.
inline Variable dense(xtgrad::nn::Linear& layer, const Variable& x) {
  Shape s = x.shape();
  const std::size_t in = s.back();
  Variable y = layer(xtgrad::reshape(x, Shape{x.size() / in, in}));
  s.back() = y.shape()[1];
  return xtgrad::reshape(y, s);
}

// (T, T): 0 on and below the diagonal, −1e9 above (a position sees itself and the past).
inline const Variable& causal_mask(std::size_t t) {
  static std::map<std::size_t, Variable> cache;
  auto it = cache.find(t);
  if (it == cache.end()) {
    xtgrad::Tensor m = xtgrad::Tensor::from_shape({t, t});
    for (std::size_t i = 0; i < t; ++i)
      for (std::size_t j = 0; j < t; ++j) m(i, j) = j > i ? -1e9f : 0.0f;
    it = cache.emplace(t, Variable(m)).first;
  }
  return it->second;
}

// Causal attention, q, k, v (B, H, T, d) → softmax(q·kᵀ/√d + mask)·v (B, H, T, d).
inline Variable attention(const Variable& q, const Variable& k, const Variable& v) {
  const Shape s = q.shape();
  const Variable scores = xtgrad::matmul_nd(q, xtgrad::swap_axes(k, 2, 3)) * (1.0 / std::sqrt(double(s[3])));
  return xtgrad::matmul_nd(xtgrad::softmax(scores + causal_mask(s[2]), -1), v);
}

struct Block : xtgrad::nn::Module {
  xtgrad::nn::LayerNorm ln1, ln2;
  xtgrad::nn::Linear qkv, proj, ff1, ff2;
  std::size_t heads;
  Block(std::size_t d, std::size_t heads_, std::size_t ffn, xtgrad::Rng& rng)
      : ln1(register_module("ln1", xtgrad::nn::LayerNorm(Shape{d}))),
        ln2(register_module("ln2", xtgrad::nn::LayerNorm(Shape{d}))),
        qkv(register_module("qkv", xtgrad::nn::Linear(d, 3 * d, rng))),
        proj(register_module("proj", xtgrad::nn::Linear(d, d, rng))),
        ff1(register_module("ff1", xtgrad::nn::Linear(d, ffn, rng))),
        ff2(register_module("ff2", xtgrad::nn::Linear(ffn, d, rng))),
        heads(heads_) {}

  Variable forward(const Variable& x) override {
    const Shape s = x.shape();  // (B, T, D)
    const std::size_t b = s[0], t = s[1], d = s[2], hd = d / heads;
    auto split_heads = [&](const Variable& y) {  // (B, T, D) → (B, H, T, hd)
      return xtgrad::permute(xtgrad::reshape(y, Shape{b, t, heads, hd}), {0, 2, 1, 3});
    };
    const auto parts = xtgrad::split(dense(qkv, ln1(x)), d, -1);
    const Variable a = attention(split_heads(parts[0]), split_heads(parts[1]), split_heads(parts[2]));
    const Variable h = x + dense(proj, xtgrad::reshape(xtgrad::permute(a, {0, 2, 1, 3}), s));
    return h + dense(ff2, xtgrad::gelu(dense(ff1, ln2(h))));
  }
};

struct CharTransformer : xtgrad::nn::Module {
  xtgrad::nn::Embedding tok_emb, pos_emb;
  std::vector<Block> blocks;
  xtgrad::nn::LayerNorm ln_f;
  xtgrad::nn::Linear head;
  CharTransformer(std::size_t vocab, std::size_t context, std::size_t d, std::size_t heads, std::size_t ffn,
                  std::size_t layers, xtgrad::Rng& rng)
      : tok_emb(register_module("tok_emb", xtgrad::nn::Embedding(vocab, d, rng))),
        pos_emb(register_module("pos_emb", xtgrad::nn::Embedding(context, d, rng))),
        ln_f(xtgrad::nn::LayerNorm(Shape{d})),
        head(xtgrad::nn::Linear(d, vocab, rng)) {
    for (std::size_t i = 0; i < layers; ++i)
      blocks.push_back(register_module("block" + std::to_string(i), Block(d, heads, ffn, rng)));
    ln_f = register_module("ln_f", ln_f);
    head = register_module("head", head);
  }

  // ids (B, T) holding whole numbers (float) → logits (B, T, V).
  Variable forward(const Variable& ids) override {
    const std::size_t t = ids.shape()[1];
    xtgrad::Tensor pos = xtgrad::Tensor::from_shape({t});
    for (std::size_t i = 0; i < t; ++i) pos(i) = float(i);
    Variable h = tok_emb(ids) + pos_emb(Variable(pos));
    for (auto& blk : blocks) h = blk(h);
    return dense(head, ln_f(h));
  }
};

}  // namespace bench
