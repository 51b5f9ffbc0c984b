// A character-level GPT-style transformer in xtgrad, ids (B, T) → logits (B, T, V):
//   h = tok_emb(ids) + pos_emb(0..T−1)                                  (B, T, D)
//   2 × pre-LN block:  h += proj(attention(heads of qkv(ln1(h))))        4 heads of D/4
//                      h += ff2(gelu(ff1(ln2(h))))                       D → 4D → D
//   logits = head(ln_f(h))                                              (B, T, V)
// Linear layers take (B, T, ·) as they are and attention is the fused
// scaled_dot_product_attention with the heads side by side: no reshape, permute or mask tensor.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <xtgrad/core/core.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/ops/ops.hpp>

namespace bench {

using xtgrad::Shape;
using xtgrad::Variable;

// x (..., in) → (..., out): nn::Linear takes N-d inputs (leading axes folded into the GEMM's rows).
inline Variable dense(xtgrad::nn::Linear& layer, const Variable& x) { return layer(x); }

// Causal attention over `heads` heads side by side: q, k, v (B, T, H·d) → (B, T, H·d), the
// fused op (one pass per row for the softmax and its backward; no mask tensor, no permutes).
inline Variable attention(const Variable& q, const Variable& k, const Variable& v, std::size_t heads) {
  xtgrad::AttentionOptions options;
  options.causal = true;
  options.heads = heads;
  return xtgrad::scaled_dot_product_attention(q, k, v, options);
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

  Variable forward(const Variable& x) override {  // x (B, T, D)
    // q, k, v (B, T, D) each; torch: qkv(ln1(x)).split(d, -1). chunk<3> fills a std::array: no
    // vector allocated per step, as split's would be.
    const auto [q, k, v] = xtgrad::chunk<3>(dense(qkv, ln1(x)), -1);
    const Variable h = x + dense(proj, attention(q, k, v, heads));
    return h + dense(ff2, xtgrad::gelu(dense(ff1, ln2(h))));
  }
};

struct CharTransformer : xtgrad::nn::Module {
  xtgrad::nn::Embedding tok_emb, pos_emb;
  std::vector<Block> blocks;
  xtgrad::nn::LayerNorm ln_f;
  xtgrad::nn::Linear head;
  Variable positions{xtgrad::Tensor::from_shape({0})};
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
    const std::size_t t = ids.value().shape()[1];
    if (positions.size() != t) {  // 0, 1, ..., T−1, made once
      xtgrad::Tensor pos = xtgrad::Tensor::from_shape({t});
      for (std::size_t i = 0; i < t; ++i) pos(i) = float(i);
      positions = Variable(pos);
    }
    Variable h = tok_emb(ids) + pos_emb(positions);
    for (auto& blk : blocks) h = blk(h);
    return dense(head, ln_f(h));
  }
};

}  // namespace bench
