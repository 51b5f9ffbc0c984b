// Attention modules with PyTorch's names, parameter layouts and default initialisation:
// MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer and TransformerEncoder,
// each a class template BasicX<T> over the scalar type with X = BasicX<float>.
//
// Sequences are (L, N, E) (length, batch, features) or, with batch_first, (N, L, E); an
// unbatched (L, E) works too. Masks follow PyTorch's nn.MultiheadAttention convention: an
// additive float mask is added to the scores (−inf: not attended); a boolean mask is nonzero
// where the key is NOT attended (the opposite of scaled_dot_product_attention's
// AttentionMask::boolean); a key padding mask (N, S) is nonzero at the padded keys.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/dropout.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/normalization.hpp"

namespace xtgrad {
namespace nn {

// How a mask given to an attention module is read.
enum class MaskType {
  additive,  // added to the scores (−inf: not attended)
  boolean,   // nonzero: not attended (PyTorch's nn.MultiheadAttention convention)
};

// The (n, n) additive causal mask: 0 on and below the diagonal, −inf above (PyTorch's
// nn.Transformer.generate_square_subsequent_mask).
template <class T = float>
TensorOf<T> square_subsequent_mask(std::size_t n);

// Construction options of MultiheadAttention (C++17 chainable setters, getters of the same name).
class MultiheadAttentionOptions {
 public:
  // Dropout on the attention probabilities in training mode, p ∈ [0, 1).
  MultiheadAttentionOptions& dropout(double p) { dropout_ = p; return *this; }
  double dropout() const { return dropout_; }
  // Inputs and output (N, L, E) instead of (L, N, E).
  MultiheadAttentionOptions& batch_first(bool on) { batch_first_ = on; return *this; }
  bool batch_first() const { return batch_first_; }
  // Whether the projections add biases (in_proj_bias, out_proj.bias); default true.
  MultiheadAttentionOptions& bias(bool on) { bias_ = on; return *this; }
  bool bias() const { return bias_; }

 private:
  double dropout_ = 0.0;
  bool batch_first_ = false;
  bool bias_ = true;
};

// Call options of mha(query, key, value, options).
template <class T>
class BasicMultiheadAttentionForwardOptions {
 public:
  using Tensor = TensorOf<T>;
  // (L, S) or (N·num_heads, L, S) (unbatched: (L, S) or (num_heads, L, S)), additive or boolean.
  BasicMultiheadAttentionForwardOptions& attn_mask(Tensor mask, MaskType type = MaskType::additive) {
    attn_mask_ = std::move(mask);
    attn_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& attn_mask() const { return attn_mask_; }
  MaskType attn_mask_type() const { return attn_mask_type_; }
  // (N, S) (unbatched: (S)), boolean by default (nonzero: a padded key) or additive.
  BasicMultiheadAttentionForwardOptions& key_padding_mask(Tensor mask, MaskType type = MaskType::boolean) {
    key_padding_mask_ = std::move(mask);
    key_padding_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& key_padding_mask() const { return key_padding_mask_; }
  MaskType key_padding_mask_type() const { return key_padding_mask_type_; }
  // Query i attends keys j <= i only, on top of attn_mask (PyTorch 2's is_causal is a hint
  // that attn_mask is this mask; here no attn_mask is needed).
  BasicMultiheadAttentionForwardOptions& is_causal(bool on) { is_causal_ = on; return *this; }
  bool is_causal() const { return is_causal_; }
  // Also return the attention probabilities (computed by an explicit, unfused path). Default
  // false, unlike PyTorch's True: the fused path is faster and saves less for backward.
  BasicMultiheadAttentionForwardOptions& need_weights(bool on) { need_weights_ = on; return *this; }
  bool need_weights() const { return need_weights_; }
  // With need_weights: the weights averaged over heads (N, L, S) (default) or per head (N, H, L, S).
  BasicMultiheadAttentionForwardOptions& average_attn_weights(bool on) { average_attn_weights_ = on; return *this; }
  bool average_attn_weights() const { return average_attn_weights_; }

 private:
  std::optional<Tensor> attn_mask_, key_padding_mask_;
  MaskType attn_mask_type_ = MaskType::additive, key_padding_mask_type_ = MaskType::boolean;
  bool is_causal_ = false, need_weights_ = false, average_attn_weights_ = true;
};
using MultiheadAttentionForwardOptions = BasicMultiheadAttentionForwardOptions<float>;

// What mha(query, key, value, options) returns: the output (L, N, E) (or (N, L, E), (L, E)) and,
// with need_weights, the attention probabilities (N, L, S) (per head: (N, H, L, S); unbatched
// without N); `weights` is an undefined Variable otherwise.
template <class T>
struct BasicAttentionOutput {
  BasicVariable<T> output;
  BasicVariable<T> weights;
};

// Multi-head attention (PyTorch's nn.MultiheadAttention with kdim = vdim = embed_dim):
// Q = q·W_qᵀ + b_q, K = k·W_kᵀ + b_k, V = v·W_vᵀ + b_v (W_q, W_k, W_v the row blocks of
// in_proj_weight), per head h softmax(Q_h·K_hᵀ/√d + mask)·V_h with d = E / num_heads, the heads
// concatenated and projected by out_proj. Parameters: in_proj_weight (3E, E) xavier-uniform,
// in_proj_bias (3E) zero, out_proj.weight (E, E) uniform ±1/√E (nn.Linear's default),
// out_proj.bias (E) zero; with bias(false) neither bias exists. Not supported: kdim/vdim ≠
// embed_dim, add_bias_kv, add_zero_attn.
template <class T>
class BasicMultiheadAttention : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  using Tensor = TensorOf<T>;
  using ForwardOptions = BasicMultiheadAttentionForwardOptions<T>;
  using BasicModule<T>::operator();

  // std::invalid_argument naming the module if num_heads is 0 or does not divide embed_dim,
  // or the dropout is outside [0, 1). Weights and the dropout seed are drawn from `rng`.
  BasicMultiheadAttention(std::size_t embed_dim, std::size_t num_heads, Rng& rng,
                          const MultiheadAttentionOptions& options = {});
  // Self-attention: mha(x, x, x).output.
  Variable forward(const Variable& x) override;
  // Attention of `query` (L, N, E) over `key` and `value` (S, N, E) (batch_first: (N, ·, E);
  // unbatched: (·, E)); std::invalid_argument naming the module and the shapes if they do not fit.
  BasicAttentionOutput<T> operator()(const Variable& query, const Variable& key, const Variable& value,
                                     const ForwardOptions& options = {});

  std::size_t embed_dim() const { return embed_dim_; }
  std::size_t num_heads() const { return num_heads_; }
  const MultiheadAttentionOptions& options() const { return options_; }

  Variable in_proj_weight, in_proj_bias;  // (3E, E), (3E) (undefined without bias)
  BasicLinear<T> out_proj;                // weight (E, E), bias (E) (none without bias)

 private:
  // operator() without the report to summaries (forward's caller reports).
  BasicAttentionOutput<T> attend(const Variable& query, const Variable& key, const Variable& value,
                                 const ForwardOptions& options);
  std::size_t embed_dim_, num_heads_;
  MultiheadAttentionOptions options_;
  std::shared_ptr<Rng> dropout_rng_;  // the probabilities' dropout masks (shared by copies)
};

// The feed-forward activation of the transformer layers.
enum class TransformerActivation { relu, gelu };

// Construction options of TransformerEncoderLayer and TransformerDecoderLayer.
class TransformerLayerOptions {
 public:
  TransformerLayerOptions& dim_feedforward(std::size_t n) { dim_feedforward_ = n; return *this; }
  std::size_t dim_feedforward() const { return dim_feedforward_; }
  // Dropout after attention, inside and after the feed-forward block, and on the probabilities.
  TransformerLayerOptions& dropout(double p) { dropout_ = p; return *this; }
  double dropout() const { return dropout_; }
  TransformerLayerOptions& activation(TransformerActivation a) { activation_ = a; return *this; }
  TransformerActivation activation() const { return activation_; }
  TransformerLayerOptions& layer_norm_eps(double eps) { layer_norm_eps_ = eps; return *this; }
  double layer_norm_eps() const { return layer_norm_eps_; }
  TransformerLayerOptions& batch_first(bool on) { batch_first_ = on; return *this; }
  bool batch_first() const { return batch_first_; }
  // Pre-norm (x + block(norm(x))) instead of post-norm (norm(x + block(x))).
  TransformerLayerOptions& norm_first(bool on) { norm_first_ = on; return *this; }
  bool norm_first() const { return norm_first_; }

 private:
  std::size_t dim_feedforward_ = 2048;
  double dropout_ = 0.1;
  TransformerActivation activation_ = TransformerActivation::relu;
  double layer_norm_eps_ = 1e-5;
  bool batch_first_ = false, norm_first_ = false;
};
using TransformerEncoderLayerOptions = TransformerLayerOptions;
using TransformerDecoderLayerOptions = TransformerLayerOptions;

// Call options of an encoder layer and of TransformerEncoder.
template <class T>
class BasicTransformerEncoderForwardOptions {
 public:
  using Tensor = TensorOf<T>;
  // The self-attention mask (attn_mask of MultiheadAttention).
  BasicTransformerEncoderForwardOptions& mask(Tensor m, MaskType type = MaskType::additive) {
    mask_ = std::move(m);
    mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& mask() const { return mask_; }
  MaskType mask_type() const { return mask_type_; }
  BasicTransformerEncoderForwardOptions& src_key_padding_mask(Tensor m, MaskType type = MaskType::boolean) {
    src_key_padding_mask_ = std::move(m);
    src_key_padding_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& src_key_padding_mask() const { return src_key_padding_mask_; }
  MaskType src_key_padding_mask_type() const { return src_key_padding_mask_type_; }
  // The causal mask, on top of mask() (see BasicMultiheadAttentionForwardOptions::is_causal).
  BasicTransformerEncoderForwardOptions& is_causal(bool on) { is_causal_ = on; return *this; }
  bool is_causal() const { return is_causal_; }

 private:
  std::optional<Tensor> mask_, src_key_padding_mask_;
  MaskType mask_type_ = MaskType::additive, src_key_padding_mask_type_ = MaskType::boolean;
  bool is_causal_ = false;
};
using TransformerEncoderForwardOptions = BasicTransformerEncoderForwardOptions<float>;

// Call options of a decoder layer: masks of its self-attention (tgt_*) and cross-attention (memory_*).
template <class T>
class BasicTransformerDecoderForwardOptions {
 public:
  using Tensor = TensorOf<T>;
  BasicTransformerDecoderForwardOptions& tgt_mask(Tensor m, MaskType type = MaskType::additive) {
    tgt_mask_ = std::move(m);
    tgt_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& tgt_mask() const { return tgt_mask_; }
  MaskType tgt_mask_type() const { return tgt_mask_type_; }
  BasicTransformerDecoderForwardOptions& memory_mask(Tensor m, MaskType type = MaskType::additive) {
    memory_mask_ = std::move(m);
    memory_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& memory_mask() const { return memory_mask_; }
  MaskType memory_mask_type() const { return memory_mask_type_; }
  BasicTransformerDecoderForwardOptions& tgt_key_padding_mask(Tensor m, MaskType type = MaskType::boolean) {
    tgt_key_padding_mask_ = std::move(m);
    tgt_key_padding_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& tgt_key_padding_mask() const { return tgt_key_padding_mask_; }
  MaskType tgt_key_padding_mask_type() const { return tgt_key_padding_mask_type_; }
  BasicTransformerDecoderForwardOptions& memory_key_padding_mask(Tensor m, MaskType type = MaskType::boolean) {
    memory_key_padding_mask_ = std::move(m);
    memory_key_padding_mask_type_ = type;
    return *this;
  }
  const std::optional<Tensor>& memory_key_padding_mask() const { return memory_key_padding_mask_; }
  MaskType memory_key_padding_mask_type() const { return memory_key_padding_mask_type_; }
  BasicTransformerDecoderForwardOptions& tgt_is_causal(bool on) { tgt_is_causal_ = on; return *this; }
  bool tgt_is_causal() const { return tgt_is_causal_; }

 private:
  std::optional<Tensor> tgt_mask_, memory_mask_, tgt_key_padding_mask_, memory_key_padding_mask_;
  MaskType tgt_mask_type_ = MaskType::additive, memory_mask_type_ = MaskType::additive;
  MaskType tgt_key_padding_mask_type_ = MaskType::boolean, memory_key_padding_mask_type_ = MaskType::boolean;
  bool tgt_is_causal_ = false;
};
using TransformerDecoderForwardOptions = BasicTransformerDecoderForwardOptions<float>;

// PyTorch's nn.TransformerEncoderLayer: self-attention then a feed-forward block
// linear2(dropout(activation(linear1(x)))), each added to its input with dropout1/dropout2 and
// normalised by norm1/norm2 after (post-norm) or before (norm_first). Children: self_attn,
// linear1, dropout, linear2, norm1, norm2, dropout1, dropout2; linear1/linear2 initialised as
// nn.Linear (LinearInit::pytorch: weight and bias uniform ±1/√in).
template <class T>
class BasicTransformerEncoderLayer : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  using ForwardOptions = BasicTransformerEncoderForwardOptions<T>;
  using BasicModule<T>::operator();

  BasicTransformerEncoderLayer(std::size_t d_model, std::size_t nhead, Rng& rng,
                               const TransformerLayerOptions& options = {});
  // The layer without masks.
  Variable forward(const Variable& src) override;
  // The layer with masks.
  Variable operator()(const Variable& src, const ForwardOptions& options);
  // A new layer with its own parameters, equal to this one's, and its own dropout seeds
  // (PyTorch's copy.deepcopy, as nn.TransformerEncoder clones its layer).
  BasicTransformerEncoderLayer clone() const;

  const TransformerLayerOptions& options() const { return options_; }

  BasicMultiheadAttention<T> self_attn;
  BasicLinear<T> linear1;
  BasicDropout<T> dropout;
  BasicLinear<T> linear2;
  BasicLayerNorm<T> norm1, norm2;
  BasicDropout<T> dropout1, dropout2;

 private:
  Variable encode(const Variable& src, const ForwardOptions& options);  // operator() without the report
  Variable feed_forward(const Variable& x);
  std::size_t d_model_, nhead_;
  TransformerLayerOptions options_;
  std::shared_ptr<Rng> clone_rng_;  // seeds the clones' weights' placeholders and dropouts
};

// PyTorch's nn.TransformerDecoderLayer: self-attention over tgt, cross-attention over memory,
// then the feed-forward block, each with its residual, dropout (dropout1..3) and norm
// (norm1..3). Children: self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2,
// norm3, dropout1, dropout2, dropout3. Call it as layer(tgt, memory[, options]).
template <class T>
class BasicTransformerDecoderLayer : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  using ForwardOptions = BasicTransformerDecoderForwardOptions<T>;
  using BasicModule<T>::operator();

  BasicTransformerDecoderLayer(std::size_t d_model, std::size_t nhead, Rng& rng,
                               const TransformerLayerOptions& options = {});
  // Throws std::invalid_argument: a decoder layer needs memory, call layer(tgt, memory).
  Variable forward(const Variable& tgt) override;
  // tgt (T, N, E) attending itself and memory (S, N, E) (batch_first: (N, ·, E)).
  Variable operator()(const Variable& tgt, const Variable& memory, const ForwardOptions& options = {});

  const TransformerLayerOptions& options() const { return options_; }

  BasicMultiheadAttention<T> self_attn, multihead_attn;
  BasicLinear<T> linear1;
  BasicDropout<T> dropout;
  BasicLinear<T> linear2;
  BasicLayerNorm<T> norm1, norm2, norm3;
  BasicDropout<T> dropout1, dropout2, dropout3;

 private:
  TransformerLayerOptions options_;
};

// PyTorch's nn.TransformerEncoder: num_layers clones of `layer` (children layers.0, layers.1,
// …, each with its own parameters, equal at construction) applied in turn, then `norm` if
// given (child "norm").
template <class T>
class BasicTransformerEncoder : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  using ForwardOptions = BasicTransformerEncoderForwardOptions<T>;
  using BasicModule<T>::operator();

  BasicTransformerEncoder(const BasicTransformerEncoderLayer<T>& layer, std::size_t num_layers,
                          std::optional<BasicLayerNorm<T>> norm = std::nullopt);
  Variable forward(const Variable& src) override;
  // Every layer called with the same masks.
  Variable operator()(const Variable& src, const ForwardOptions& options);

  std::size_t num_layers() const { return layers.size(); }
  // The layers (a Sequential, so its children are named 0, 1, …) and the final norm.
  BasicSequential<T> layers;
  std::optional<BasicLayerNorm<T>> norm;

 private:
  Variable encode(const Variable& src, const ForwardOptions& options);  // operator() without the report
};

extern template TensorOf<float> square_subsequent_mask<float>(std::size_t);
extern template TensorOf<double> square_subsequent_mask<double>(std::size_t);
extern template class BasicMultiheadAttention<float>;
extern template class BasicMultiheadAttention<double>;
extern template class BasicTransformerEncoderLayer<float>;
extern template class BasicTransformerEncoderLayer<double>;
extern template class BasicTransformerDecoderLayer<float>;
extern template class BasicTransformerDecoderLayer<double>;
extern template class BasicTransformerEncoder<float>;
extern template class BasicTransformerEncoder<double>;

using MultiheadAttention = BasicMultiheadAttention<float>;
using TransformerEncoderLayer = BasicTransformerEncoderLayer<float>;
using TransformerDecoderLayer = BasicTransformerDecoderLayer<float>;
using TransformerEncoder = BasicTransformerEncoder<float>;
using AttentionOutput = BasicAttentionOutput<float>;

}  // namespace nn
}  // namespace xtgrad
