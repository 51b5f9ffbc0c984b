// The character transformer of xtgrad_transformer.hpp in libtorch, the same layers, names and
// formulas (attention written out: libtorch 1.13 has no public fused attention), ids (B, T) →
// logits (B, T, V).
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>

namespace bench {

// Causal attention, q, k, v (B, H, T, d) → softmax(q·kᵀ/√d + mask)·v, mask −1e9 above the diagonal.
inline torch::Tensor torch_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  static std::map<int64_t, torch::Tensor> masks;  // built once per T, as the xtgrad side
  const int64_t t = q.size(2);
  auto it = masks.find(t);
  if (it == masks.end()) it = masks.emplace(t, torch::full({t, t}, -1e9f).triu(1)).first;
  const torch::Tensor& mask = it->second;
  const torch::Tensor scores = torch::matmul(q, k.transpose(2, 3)) * (1.0 / std::sqrt(double(q.size(3))));
  return torch::matmul(torch::softmax(scores + mask, -1), v);
}

struct TorchBlockImpl : torch::nn::Module {
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, ff1{nullptr}, ff2{nullptr};
  int64_t heads;
  TorchBlockImpl(int64_t d, int64_t heads_, int64_t ffn)
      : ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})))),
        ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})))),
        qkv(register_module("qkv", torch::nn::Linear(d, 3 * d))),
        proj(register_module("proj", torch::nn::Linear(d, d))),
        ff1(register_module("ff1", torch::nn::Linear(d, ffn))),
        ff2(register_module("ff2", torch::nn::Linear(ffn, d))),
        heads(heads_) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2);
    auto split_heads = [&](const torch::Tensor& y) { return y.reshape({b, t, heads, d / heads}).permute({0, 2, 1, 3}); };
    const auto parts = qkv(ln1(x)).split(d, -1);
    const torch::Tensor a = torch_attention(split_heads(parts[0]), split_heads(parts[1]), split_heads(parts[2]));
    const torch::Tensor h = x + proj(a.permute({0, 2, 1, 3}).reshape({b, t, d}));
    return h + ff2(torch::gelu(ff1(ln2(h))));
  }
};
TORCH_MODULE(TorchBlock);

struct TorchCharTransformerImpl : torch::nn::Module {
  torch::nn::Embedding tok_emb{nullptr}, pos_emb{nullptr};
  std::vector<TorchBlock> blocks;
  torch::nn::LayerNorm ln_f{nullptr};
  torch::nn::Linear head{nullptr};
  TorchCharTransformerImpl(int64_t vocab, int64_t context, int64_t d, int64_t heads, int64_t ffn, int64_t layers) {
    tok_emb = register_module("tok_emb", torch::nn::Embedding(vocab, d));
    pos_emb = register_module("pos_emb", torch::nn::Embedding(context, d));
    for (int64_t i = 0; i < layers; ++i)
      blocks.push_back(register_module("block" + std::to_string(i), TorchBlock(d, heads, ffn)));
    ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    head = register_module("head", torch::nn::Linear(d, vocab));
  }
  torch::Tensor forward(const torch::Tensor& ids) {  // ids (B, T) int64
    torch::Tensor h = tok_emb(ids) + pos_emb(torch::arange(ids.size(1), torch::kInt64));
    for (auto& blk : blocks) h = blk(h);
    return head(ln_f(h));
  }
};
TORCH_MODULE(TorchCharTransformer);

}  // namespace bench
