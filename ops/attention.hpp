// Fused scaled dot-product attention: one node for softmax(scale·Q·Kᵀ + mask)·V, with no
// score, mask or permuted tensor materialized beyond the probabilities it saves for backward.
#pragma once

#include <cstddef>
#include <optional>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// How BasicAttentionOptions::mask is read.
enum class AttentionMask {
  additive,  // added to the scores (−inf: that key is not attended)
  boolean,   // nonzero: the query attends that key; 0: it does not (PyTorch 2's SDPA convention)
};

template <class T>
struct BasicAttentionOptions {
  // Broadcastable (numpy rules) to the scores' shape (..., Lq, Lk); a constant (no gradient).
  std::optional<TensorOf<T>> mask;
  AttentionMask mask_kind = AttentionMask::additive;
  // Query i attends keys j <= i only (top-left aligned, as PyTorch's is_causal), with the mask.
  bool causal = false;
  // Inverted dropout on the probabilities, p ∈ [0, 1); p > 0 needs rng (one draw per score,
  // the same scheme as dropout()). Set it to 0 outside training.
  double dropout_p = 0.0;
  Rng* rng = nullptr;
  // Multiplies Q·Kᵀ; default 1/√d.
  std::optional<double> scale;
  // 0: q, k, v are (..., L, d), one (batch·head) item per leading index. H > 0: q (..., Lq, H·d),
  // k (..., Lk, H·d), v (..., Lk, H·dv) hold H heads side by side in the last axis (a Linear's
  // output as it is: no reshape, no permute), the output is (..., Lq, H·dv) likewise, and the
  // mask broadcasts to (..., H, Lq, Lk).
  std::size_t heads = 0;
};
using AttentionOptions = BasicAttentionOptions<float>;

// softmax(scale·Q·Kᵀ + mask)·V for q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv) with the same
// leading (batch, head) axes → (..., Lq, dv) (or the heads side by side: options.heads), in one
// node, parallel over the (batch·head) items.
// Per item: S = scale·Q·Kᵀ (gemm), the mask and causal −inf applied in place, P = row softmax
// of S in place (saved), O = P·V. Backward: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
// dQ = scale·dS·K, dK = scale·dSᵀ·Q (dropout: P replaced by P ⊙ m in O and dV, dP by dP ⊙ m).
// A query whose keys are all masked gets output 0 and gradient 0 (PyTorch 1.13's explicit
// softmax gives NaN there; PyTorch 2.5's SDPA gives 0). std::invalid_argument naming the op
// and the shapes if q, k, v or the mask do not fit, or the options are out of range.
template <class T>
BasicVariable<T> scaled_dot_product_attention(const BasicVariable<T>& q, const BasicVariable<T>& k,
                                              const BasicVariable<T>& v,
                                              const BasicAttentionOptions<NonDeduced<T>>& options = {});

}  // namespace xtgrad
