#include "xtgrad/nn/attention.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/activations_extra.hpp"
#include "xtgrad/ops/attention.hpp"
#include "xtgrad/ops/dropout.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/matmul_nd.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_ops.hpp"

namespace xtgrad {
namespace nn {
namespace {

constexpr const char* kMha = "MultiheadAttention";

std::string dims(std::initializer_list<std::size_t> d) { return shape_str(Shape(d)); }

void check_dropout(const char* module, double p) {
  if (!(p >= 0.0 && p < 1.0))
    throw std::invalid_argument(std::string(module) + ": dropout must be in [0, 1), got " + std::to_string(p));
}

// A Linear(in, out) initialised as nn.Linear: weight and bias U(±1/√in).
template <class T>
BasicLinear<T> torch_linear(std::size_t in, std::size_t out, Rng& rng, bool bias = true) {
  return BasicLinear<T>(in, out, rng, LinearOptions().bias(bias).init(LinearInit::pytorch));
}

// `mask` as an additive mask (−inf where a boolean mask is nonzero).
template <class T>
TensorOf<T> additive(const TensorOf<T>& mask, MaskType type) {
  if (type == MaskType::additive) return mask;
  const T ninf = -std::numeric_limits<T>::infinity();
  return xt::eval(xt::where(xt::not_equal(mask, T(0)), ninf, T(0)));
}

template <class T>
TensorOf<T> reshaped(TensorOf<T> t, const Shape& shape) {
  t.reshape(shape);
  return t;
}

// attn_mask and key_padding_mask merged into one additive mask broadcastable to (N, H, L, S)
// (unbatched: N = 1), plus the causal mask when `with_causal`; nullopt when there is none.
template <class T>
std::optional<TensorOf<T>> merged_mask(const BasicMultiheadAttentionForwardOptions<T>& o, bool batched, std::size_t n,
                                       std::size_t h, std::size_t l, std::size_t s, bool with_causal) {
  std::optional<TensorOf<T>> merged;
  if (o.attn_mask()) {
    const TensorOf<T>& m = *o.attn_mask();
    const Shape ms(m.shape().begin(), m.shape().end());
    const std::size_t first = batched ? n * h : h;
    if (ms == Shape{l, s}) {
      merged = reshaped(additive(m, o.attn_mask_type()), {1, 1, l, s});
    } else if (ms == Shape{first, l, s}) {
      merged = reshaped(additive(m, o.attn_mask_type()), {n, h, l, s});
    } else {
      throw std::invalid_argument(std::string(kMha) + ": attn_mask must be (L, S) = " + dims({l, s}) + " or " +
                                  (batched ? "(N·num_heads, L, S) = " : "(num_heads, L, S) = ") +
                                  dims({first, l, s}) + ", got " + shape_str(m));
    }
  }
  if (o.key_padding_mask()) {
    const TensorOf<T>& m = *o.key_padding_mask();
    const Shape ms(m.shape().begin(), m.shape().end());
    const Shape want = batched ? Shape{n, s} : Shape{s};
    if (ms != want) {
      throw std::invalid_argument(std::string(kMha) + ": key_padding_mask must be " +
                                  (batched ? "(N, S) = " : "(S) = ") + shape_str(want) + ", got " + shape_str(m));
    }
    TensorOf<T> kpm = reshaped(additive(m, o.key_padding_mask_type()), {n, 1, 1, s});
    merged = merged ? TensorOf<T>(*merged + kpm) : kpm;
  }
  if (with_causal) {
    TensorOf<T> causal = xt::zeros<T>({std::size_t(1), std::size_t(1), l, s});
    const T ninf = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < l; ++i)
      for (std::size_t j = i + 1; j < s; ++j) causal(0, 0, i, j) = ninf;
    merged = merged ? TensorOf<T>(*merged + causal) : causal;
  }
  return merged;
}

// embed_dim, after checking the construction arguments of MultiheadAttention.
std::size_t checked_embed_dim(std::size_t embed_dim, std::size_t num_heads, const MultiheadAttentionOptions& options) {
  if (num_heads == 0 || embed_dim == 0 || embed_dim % num_heads != 0) {
    throw std::invalid_argument(std::string(kMha) + ": num_heads must divide embed_dim (both > 0), got embed_dim " +
                                std::to_string(embed_dim) + " and num_heads " + std::to_string(num_heads));
  }
  check_dropout(kMha, options.dropout());
  return embed_dim;
}

template <class T>
BasicVariable<T> activate(const BasicVariable<T>& x, TransformerActivation a) {
  return a == TransformerActivation::relu ? relu(x) : gelu(x);
}

}  // namespace

template <class T>
TensorOf<T> square_subsequent_mask(std::size_t n) {
  TensorOf<T> m = xt::zeros<T>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) m(i, j) = -std::numeric_limits<T>::infinity();
  return m;
}

// ---- MultiheadAttention ------------------------------------------------------------------------

template <class T>
BasicMultiheadAttention<T>::BasicMultiheadAttention(std::size_t embed_dim, std::size_t num_heads, Rng& rng,
                                                    const MultiheadAttentionOptions& options)
    : out_proj(torch_linear<T>(checked_embed_dim(embed_dim, num_heads, options), embed_dim, rng, options.bias())),
      embed_dim_(embed_dim),
      num_heads_(num_heads),
      options_(options) {
  // PyTorch's _reset_parameters: xavier_uniform_(in_proj_weight), biases 0, out_proj.weight
  // left at nn.Linear's default (drawn above), out_proj.bias 0.
  in_proj_weight = this->register_parameter("in_proj_weight", glorot_uniform<T>({3 * embed_dim, embed_dim}, rng));
  if (options.bias()) {
    in_proj_bias = this->register_parameter("in_proj_bias", TensorOf<T>(xt::zeros<T>({3 * embed_dim})));
    out_proj.bias.mutable_value().fill(T(0));
  }
  out_proj = this->register_module("out_proj", out_proj);
  dropout_rng_ = std::make_shared<Rng>(static_cast<std::uint64_t>(rng()));
}

template <class T>
BasicVariable<T> BasicMultiheadAttention<T>::forward(const Variable& x) {
  return attend(x, x, x, ForwardOptions{}).output;
}

template <class T>
BasicAttentionOutput<T> BasicMultiheadAttention<T>::operator()(const Variable& query, const Variable& key,
                                                               const Variable& value, const ForwardOptions& o) {
  BasicAttentionOutput<T> result = attend(query, key, value, o);
  this->report_call(result.output);
  return result;
}

template <class T>
BasicAttentionOutput<T> BasicMultiheadAttention<T>::attend(const Variable& query, const Variable& key,
                                                           const Variable& value, const ForwardOptions& o) {
  const std::size_t e = embed_dim_, h = num_heads_, r = query.dim();
  const bool bf = options_.batch_first(), bias = options_.bias();
  auto shapes = [&] {
    return "query " + shape_str(query.value()) + ", key " + shape_str(key.value()) + ", value " +
           shape_str(value.value());
  };
  if ((r != 2 && r != 3) || key.dim() != r || value.dim() != r) {
    throw std::invalid_argument(std::string(kMha) + ": query, key and value must all be (L, N, E)" +
                                (bf ? " (batch_first: (N, L, E))" : "") + " or all (L, E), got " + shapes());
  }
  const bool batched = r == 3;
  const Shape qs = query.shape(), ks = key.shape(), vs = value.shape();
  if (qs[r - 1] != e || ks[r - 1] != e || vs[r - 1] != e) {
    throw std::invalid_argument(std::string(kMha) + ": the last axis of query, key and value must be embed_dim " +
                                std::to_string(e) + ", got " + shapes());
  }
  const std::size_t seq = batched && bf ? 1 : 0;  // the sequence axis
  const std::size_t n = batched ? qs[1 - seq] : 1, l = qs[seq], s = ks[seq];
  if (vs[seq] != s || (batched && (ks[1 - seq] != n || vs[1 - seq] != n))) {
    throw std::invalid_argument(std::string(kMha) +
                                ": key and value must have the same length, and all three the same batch, got " +
                                shapes());
  }
  // To (N, L, E).
  auto to_nle = [&](const Variable& x) { return !batched ? unsqueeze(x, 0) : bf ? x : swap_axes(x, 0, 1); };
  const Variable qb = to_nle(query);
  Variable q, k, v;
  if (query.node() == key.node() && key.node() == value.node()) {
    // (N, L, 3E)
    const Variable qkv = bias ? linear(qb, in_proj_weight, in_proj_bias) : linear(qb, in_proj_weight);
    q = narrow(qkv, 2, 0, e);
    k = narrow(qkv, 2, static_cast<std::int64_t>(e), e);
    v = narrow(qkv, 2, static_cast<std::int64_t>(2 * e), e);
  } else {
    auto project = [&](const Variable& x, std::size_t block) {
      const auto start = static_cast<std::int64_t>(block * e);
      const Variable w = narrow(in_proj_weight, 0, start, e);  // rows [start, start + E): (E, E)
      return bias ? linear(x, w, narrow(in_proj_bias, 0, start, e)) : linear(x, w);
    };
    q = project(qb, 0);
    k = project(to_nle(key), 1);
    v = project(to_nle(value), 2);
  }
  const double p = this->is_training() ? options_.dropout() : 0.0;
  BasicAttentionOutput<T> result;
  Variable attended;  // (N, L, E), the heads side by side
  if (!o.need_weights()) {
    BasicAttentionOptions<T> so;
    so.mask = merged_mask(o, batched, n, h, l, s, false);
    so.causal = o.is_causal();
    so.dropout_p = p;
    so.rng = dropout_rng_.get();
    so.heads = h;
    attended = scaled_dot_product_attention(q, k, v, so);
  } else {
    // The explicit path: P = softmax(Q_h·K_hᵀ/√d + mask) per head (N, H, L, S), kept as the weights.
    const std::size_t d = e / h;
    auto heads = [&](const Variable& x, std::size_t len) { return permute(reshape(x, {n, len, h, d}), {0, 2, 1, 3}); };
    Variable scores = matmul_nd(heads(q, l) * (1.0 / std::sqrt(static_cast<double>(d))), swap_axes(heads(k, s), 2, 3));
    if (auto mask = merged_mask(o, batched, n, h, l, s, o.is_causal())) scores = scores + Variable(std::move(*mask));
    Variable probs = softmax(scores, -1);
    if (p > 0) probs = xtgrad::dropout(probs, p, *dropout_rng_);
    attended = reshape(permute(matmul_nd(probs, heads(v, s)), {0, 2, 1, 3}), {n, l, e});
    result.weights = o.average_attn_weights() ? mean(probs, 1) : probs;
    if (!batched) result.weights = squeeze(result.weights, 0);
  }
  Variable out = out_proj(attended);
  result.output = !batched ? squeeze(out, 0) : bf ? out : swap_axes(out, 0, 1);
  return result;
}

// ---- TransformerEncoderLayer -------------------------------------------------------------------

template <class T>
BasicTransformerEncoderLayer<T>::BasicTransformerEncoderLayer(std::size_t d_model, std::size_t nhead, Rng& rng,
                                                              const TransformerLayerOptions& options)
    : self_attn(this->register_module(
          "self_attn", BasicMultiheadAttention<T>(
                           d_model, nhead, rng,
                           MultiheadAttentionOptions().dropout(options.dropout()).batch_first(options.batch_first())))),
      linear1(this->register_module("linear1", torch_linear<T>(d_model, options.dim_feedforward(), rng))),
      dropout(this->register_module("dropout", BasicDropout<T>(options.dropout(), rng))),
      linear2(this->register_module("linear2", torch_linear<T>(options.dim_feedforward(), d_model, rng))),
      norm1(this->register_module("norm1", BasicLayerNorm<T>({d_model}, options.layer_norm_eps()))),
      norm2(this->register_module("norm2", BasicLayerNorm<T>({d_model}, options.layer_norm_eps()))),
      dropout1(this->register_module("dropout1", BasicDropout<T>(options.dropout(), rng))),
      dropout2(this->register_module("dropout2", BasicDropout<T>(options.dropout(), rng))),
      d_model_(d_model),
      nhead_(nhead),
      options_(options),
      clone_rng_(std::make_shared<Rng>(static_cast<std::uint64_t>(rng()))) {}

template <class T>
BasicVariable<T> BasicTransformerEncoderLayer<T>::feed_forward(const Variable& x) {
  return dropout2(linear2(dropout(activate(linear1(x), options_.activation()))));
}

template <class T>
BasicVariable<T> BasicTransformerEncoderLayer<T>::forward(const Variable& src) {
  return encode(src, ForwardOptions{});
}

template <class T>
BasicVariable<T> BasicTransformerEncoderLayer<T>::operator()(const Variable& src, const ForwardOptions& o) {
  Variable y = encode(src, o);
  this->report_call(y);
  return y;
}

template <class T>
BasicVariable<T> BasicTransformerEncoderLayer<T>::encode(const Variable& src, const ForwardOptions& o) {
  typename BasicMultiheadAttention<T>::ForwardOptions ao;
  if (o.mask()) ao.attn_mask(*o.mask(), o.mask_type());
  if (o.src_key_padding_mask()) ao.key_padding_mask(*o.src_key_padding_mask(), o.src_key_padding_mask_type());
  ao.is_causal(o.is_causal());
  auto self_attention = [&](const Variable& x) { return dropout1(self_attn(x, x, x, ao).output); };
  Variable x = src;
  if (options_.norm_first()) {
    x = x + self_attention(norm1(x));
    x = x + feed_forward(norm2(x));
  } else {
    x = norm1(x + self_attention(x));
    x = norm2(x + feed_forward(x));
  }
  return x;
}

template <class T>
BasicTransformerEncoderLayer<T> BasicTransformerEncoderLayer<T>::clone() const {
  Rng rng(static_cast<std::uint64_t>((*clone_rng_)()));
  BasicTransformerEncoderLayer copy(d_model_, nhead_, rng, options_);
  const auto from = this->named_parameters();
  auto to = copy.named_parameters();
  for (std::size_t i = 0; i < from.size(); ++i) to[i].second.mutable_value() = from[i].second.value();
  if (!this->is_training()) copy.eval();
  return copy;
}

// ---- TransformerDecoderLayer -------------------------------------------------------------------

template <class T>
BasicTransformerDecoderLayer<T>::BasicTransformerDecoderLayer(std::size_t d_model, std::size_t nhead, Rng& rng,
                                                              const TransformerLayerOptions& options)
    : self_attn(this->register_module(
          "self_attn", BasicMultiheadAttention<T>(
                           d_model, nhead, rng,
                           MultiheadAttentionOptions().dropout(options.dropout()).batch_first(options.batch_first())))),
      multihead_attn(this->register_module(
          "multihead_attn",
          BasicMultiheadAttention<T>(
              d_model, nhead, rng,
              MultiheadAttentionOptions().dropout(options.dropout()).batch_first(options.batch_first())))),
      linear1(this->register_module("linear1", torch_linear<T>(d_model, options.dim_feedforward(), rng))),
      dropout(this->register_module("dropout", BasicDropout<T>(options.dropout(), rng))),
      linear2(this->register_module("linear2", torch_linear<T>(options.dim_feedforward(), d_model, rng))),
      norm1(this->register_module("norm1", BasicLayerNorm<T>({d_model}, options.layer_norm_eps()))),
      norm2(this->register_module("norm2", BasicLayerNorm<T>({d_model}, options.layer_norm_eps()))),
      norm3(this->register_module("norm3", BasicLayerNorm<T>({d_model}, options.layer_norm_eps()))),
      dropout1(this->register_module("dropout1", BasicDropout<T>(options.dropout(), rng))),
      dropout2(this->register_module("dropout2", BasicDropout<T>(options.dropout(), rng))),
      dropout3(this->register_module("dropout3", BasicDropout<T>(options.dropout(), rng))),
      options_(options) {}

template <class T>
BasicVariable<T> BasicTransformerDecoderLayer<T>::forward(const Variable& tgt) {
  throw std::invalid_argument("TransformerDecoderLayer: needs the encoder's memory: call layer(tgt, memory), not "
                              "layer(tgt) (got tgt " + shape_str(tgt.value()) + ")");
}

template <class T>
BasicVariable<T> BasicTransformerDecoderLayer<T>::operator()(const Variable& tgt, const Variable& memory,
                                                             const ForwardOptions& o) {
  typename BasicMultiheadAttention<T>::ForwardOptions self_o, cross_o;
  if (o.tgt_mask()) self_o.attn_mask(*o.tgt_mask(), o.tgt_mask_type());
  if (o.tgt_key_padding_mask()) self_o.key_padding_mask(*o.tgt_key_padding_mask(), o.tgt_key_padding_mask_type());
  self_o.is_causal(o.tgt_is_causal());
  if (o.memory_mask()) cross_o.attn_mask(*o.memory_mask(), o.memory_mask_type());
  if (o.memory_key_padding_mask())
    cross_o.key_padding_mask(*o.memory_key_padding_mask(), o.memory_key_padding_mask_type());
  auto self_block = [&](const Variable& x) { return dropout1(self_attn(x, x, x, self_o).output); };
  auto cross_block = [&](const Variable& x) { return dropout2(multihead_attn(x, memory, memory, cross_o).output); };
  auto ff_block = [&](const Variable& x) {
    return dropout3(linear2(dropout(activate(linear1(x), options_.activation()))));
  };
  Variable x = tgt;
  if (options_.norm_first()) {
    x = x + self_block(norm1(x));
    x = x + cross_block(norm2(x));
    x = x + ff_block(norm3(x));
  } else {
    x = norm1(x + self_block(x));
    x = norm2(x + cross_block(x));
    x = norm3(x + ff_block(x));
  }
  this->report_call(x);
  return x;
}

// ---- TransformerEncoder ------------------------------------------------------------------------

template <class T>
BasicTransformerEncoder<T>::BasicTransformerEncoder(const BasicTransformerEncoderLayer<T>& layer,
                                                    std::size_t num_layers,
                                                    std::optional<BasicLayerNorm<T>> final_norm) {
  if (num_layers == 0) throw std::invalid_argument("TransformerEncoder: num_layers must be at least 1, got 0");
  for (std::size_t i = 0; i < num_layers; ++i) layers.add(layer.clone());
  layers = this->register_module("layers", layers);
  if (final_norm) norm = this->register_module("norm", *final_norm);
}

template <class T>
BasicVariable<T> BasicTransformerEncoder<T>::forward(const Variable& src) {
  return encode(src, ForwardOptions{});
}

template <class T>
BasicVariable<T> BasicTransformerEncoder<T>::operator()(const Variable& src, const ForwardOptions& o) {
  Variable y = encode(src, o);
  this->report_call(y);
  return y;
}

template <class T>
BasicVariable<T> BasicTransformerEncoder<T>::encode(const Variable& src, const ForwardOptions& o) {
  Variable x = src;
  for (std::size_t i = 0; i < layers.size(); ++i) x = layers.template at<BasicTransformerEncoderLayer<T>>(i)(x, o);
  if (norm) x = (*norm)(x);
  return x;
}

template TensorOf<float> square_subsequent_mask<float>(std::size_t);
template TensorOf<double> square_subsequent_mask<double>(std::size_t);
template class BasicMultiheadAttention<float>;
template class BasicMultiheadAttention<double>;
template class BasicTransformerEncoderLayer<float>;
template class BasicTransformerEncoderLayer<double>;
template class BasicTransformerDecoderLayer<float>;
template class BasicTransformerDecoderLayer<double>;
template class BasicTransformerEncoder<float>;
template class BasicTransformerEncoder<double>;

}  // namespace nn
}  // namespace xtgrad
