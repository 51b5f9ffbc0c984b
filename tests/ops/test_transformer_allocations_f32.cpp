// Steady state of a transformer: a training step of a small causal language model (token and
// position embeddings, a pre-LN block with the fused attention over q, k, v from chunk<3>, GELU
// feed-forward, a head whose (B, T, V) logits are reshaped with a braced shape for cross_entropy,
// AdamW) makes no heap allocation once the first steps have run, on one thread and on three.
// The embedding's rows travel in recycled buffers (IndexTensor form) or are read back from the
// index Variable (float form), chunk<3> fills a std::array, reshape(x, {n, v}) builds no Shape.
// Counts calls, not time. Skipped under AddressSanitizer.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "malloc_counter.hpp"  // defines malloc & co. for this test program
#include "xtgrad/core/core.hpp"
#include "xtgrad/core/defaults.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad {
namespace {

struct TinyTransformer : nn::Module {
  nn::Embedding tok_emb, pos_emb;
  nn::LayerNorm ln1, ln2, ln_f;
  nn::Linear qkv, proj, ff1, ff2, head;
  std::size_t heads;
  IndexTensor positions;  // 0 … T−1, made once

  TinyTransformer(std::size_t vocab, std::size_t context, std::size_t d, std::size_t heads_, Rng& rng)
      : tok_emb(register_module("tok_emb", nn::Embedding(vocab, d, rng))),
        pos_emb(register_module("pos_emb", nn::Embedding(context, d, rng))),
        ln1(register_module("ln1", nn::LayerNorm(Shape{d}))),
        ln2(register_module("ln2", nn::LayerNorm(Shape{d}))),
        ln_f(register_module("ln_f", nn::LayerNorm(Shape{d}))),
        qkv(register_module("qkv", nn::Linear(d, 3 * d, rng))),
        proj(register_module("proj", nn::Linear(d, d, rng))),
        ff1(register_module("ff1", nn::Linear(d, 4 * d, rng))),
        ff2(register_module("ff2", nn::Linear(4 * d, d, rng))),
        head(register_module("head", nn::Linear(d, vocab, rng))),
        heads(heads_),
        positions(IndexTensor::from_shape({context})) {
    for (std::size_t i = 0; i < context; ++i) positions(i) = Index(i);
  }

  // ids (B, T) of whole numbers → logits (B, T, V)
  Variable forward(const Variable& ids) override {
    // the float-index form (the module) and the IndexTensor form (the op)
    Variable h = tok_emb(ids) + pos_emb(positions);
    const auto [q, k, v] = chunk<3>(qkv(ln1(h)), -1);
    AttentionOptions options;
    options.causal = true;
    options.heads = heads;
    h = h + proj(scaled_dot_product_attention(q, k, v, options));
    h = h + ff2(gelu(ff1(ln2(h))));
    return head(ln_f(h));
  }
};

// Heap allocations (outside BLAS) of steps warmup+1 .. warmup+measured.
std::uint64_t transformer_step_allocations(int threads, int warmup, int measured) {
  const NumThreadsGuard guard(threads);
  const std::size_t vocab = 23, context = 32, batch = 6, d = 32;
  Rng rng(11);
  TinyTransformer model(vocab, context, d, 4, rng);
  nn::AdamW opt(model.named_parameters(), 1e-3, 0.9, 0.999, 1e-8, 1e-2);
  Variable ids(Tensor::from_shape({batch, context}));  // refilled in place
  std::vector<std::size_t> targets(batch * context);
  double sink = 0;
  std::uint64_t before = 0;
  for (int step = 0; step < warmup + measured; ++step) {
    if (step == warmup) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    for (std::size_t i = 0; i < batch * context; ++i) {
      ids.mutable_value().data()[i] = float((i * 7 + std::size_t(step) * 3) % vocab);
      targets[i] = (i * 5 + std::size_t(step)) % vocab;
    }
    const Variable logits = model(ids);
    Variable loss = cross_entropy(reshape(logits, {batch * context, vocab}), targets);
    sink += loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  malloc_counter::g_counting = false;
  if (!(sink == sink)) return ~std::uint64_t(0);  // a NaN loss: fail loudly
  return malloc_counter::g_allocs.load() - before;
}

TEST(TransformerSteadyState, StepsMakeNoHeapAllocationOnOneThread) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  EXPECT_EQ(transformer_step_allocations(1, 6, 10), 0u);
}

TEST(TransformerSteadyState, StepsMakeNoHeapAllocationOnThreeThreads) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  EXPECT_EQ(transformer_step_allocations(3, 6, 10), 0u);
}

}  // namespace
}  // namespace xtgrad
