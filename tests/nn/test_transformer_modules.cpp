// nn/attention: MultiheadAttention and the transformer layers. Parameter names, shapes and
// initial ranges as PyTorch's; gradients checked numerically in double (dropout 0); mask
// semantics (causal = its explicit mask, padded keys get weight 0); input layouts; errors;
// dropout on in training mode only. Values against PyTorch: tests/diff/module_cases/attention.*.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Shape;
using xtgrad_test::expect_gradcheck;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;
using xtgrad_test::Tensor;
using xtgrad_test::uniform;
using xtgrad_test::Variable;
namespace nn = xtgrad::nn;
using MHA = nn::BasicMultiheadAttention<double>;
using MhaCall = nn::BasicMultiheadAttentionForwardOptions<double>;
using EncoderLayer = nn::BasicTransformerEncoderLayer<double>;
using DecoderLayer = nn::BasicTransformerDecoderLayer<double>;
using Encoder = nn::BasicTransformerEncoder<double>;
using EncoderCall = nn::BasicTransformerEncoderForwardOptions<double>;

std::vector<std::string> parameter_names(const xtgrad::nn::BasicModule<double>& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name + " " + xtgrad::shape_str(p.value()));
  return names;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double x : t) m = std::max(m, std::abs(x));
  return m;
}

// ---- MultiheadAttention: parameters ------------------------------------------------------------

TEST(MultiheadAttention, ParametersAreNamedAndShapedAsPyTorchs) {
  Rng rng(1);
  MHA mha(8, 2, rng);
  EXPECT_EQ(parameter_names(mha), (std::vector<std::string>{"in_proj_weight (24, 8)", "in_proj_bias (24)",
                                                            "out_proj.weight (8, 8)", "out_proj.bias (8)"}));
  // xavier-uniform in_proj_weight within ±√(6/(8+24)), out_proj.weight within ±1/√8, biases 0
  EXPECT_LE(max_abs(mha.in_proj_weight.value()), std::sqrt(6.0 / 32.0));
  EXPECT_GT(max_abs(mha.in_proj_weight.value()), 0.5 * std::sqrt(6.0 / 32.0));
  EXPECT_LE(max_abs(mha.out_proj.weight.value()), 1.0 / std::sqrt(8.0));
  EXPECT_GT(max_abs(mha.out_proj.weight.value()), 0.5 / std::sqrt(8.0));
  EXPECT_EQ(max_abs(mha.in_proj_bias.value()), 0.0);
  EXPECT_EQ(max_abs(mha.out_proj.bias.value()), 0.0);
  EXPECT_EQ(nn::MultiheadAttention(8, 2, rng).type_name(), "MultiheadAttention");
}

TEST(MultiheadAttention, WithoutBiasHasNoBiasParametersAndEqualsZeroBiases) {
  Rng rng(3);
  MHA without(4, 2, rng, nn::MultiheadAttentionOptions().bias(false));
  EXPECT_EQ(parameter_names(without), (std::vector<std::string>{"in_proj_weight (12, 4)", "out_proj.weight (4, 4)"}));
  MHA with(4, 2, rng);  // biases 0
  with.in_proj_weight.mutable_value() = without.in_proj_weight.value();
  with.out_proj.weight.mutable_value() = without.out_proj.weight.value();
  const Variable q(uniform({3, 2, 4}, 4, -1, 1)), kv(uniform({5, 2, 4}, 5, -1, 1));
  expect_tensor_near(without(q, kv, kv).output.value(), with(q, kv, kv).output.value(), 1e-12);
  expect_tensor_near(without(q).value(), with(q).value(), 1e-12);
}

TEST(MultiheadAttention, OptionsChainAndBraceInitialise) {
  const auto o = nn::MultiheadAttentionOptions().dropout(0.25).batch_first(true).bias(false);
  EXPECT_EQ(o.dropout(), 0.25);
  EXPECT_TRUE(o.batch_first());
  EXPECT_FALSE(o.bias());
  const nn::MultiheadAttentionOptions d{};
  EXPECT_EQ(d.dropout(), 0.0);
  EXPECT_FALSE(d.batch_first());
  EXPECT_TRUE(d.bias());
}

// ---- MultiheadAttention: values and layouts -----------------------------------------------------

// softmax(Q_h K_hᵀ/√d)·V_h per head by explicit ops, the reference of the fused path.
Tensor reference_mha(MHA& mha, const Tensor& q, const Tensor& k, const Tensor& v) {
  // q (L, E), k, v (S, E), unbatched
  const std::size_t e = mha.embed_dim(), h = mha.num_heads(), d = e / h;
  const Variable w = mha.in_proj_weight, b = mha.in_proj_bias;
  auto proj = [&](const Tensor& x, std::size_t block) {
    const auto start = static_cast<std::int64_t>(block * e);
    return xtgrad::linear(Variable(x), xtgrad::narrow(w, 0, start, e), xtgrad::narrow(b, 0, start, e));
  };
  const Variable qp = proj(q, 0), kp = proj(k, 1), vp = proj(v, 2);
  std::vector<Variable> outs;
  for (std::size_t i = 0; i < h; ++i) {
    const auto c = static_cast<std::int64_t>(i * d);
    const Variable qh = xtgrad::narrow(qp, 1, c, d), kh = xtgrad::narrow(kp, 1, c, d), vh = xtgrad::narrow(vp, 1, c, d);
    const Variable p = xtgrad::softmax(xtgrad::matmul_nd(qh, xtgrad::transpose(kh)) * (1.0 / std::sqrt(double(d))), -1);
    outs.push_back(xtgrad::matmul_nd(p, vh));
  }
  return xtgrad::linear(xtgrad::concat(outs, 1), mha.out_proj.weight, mha.out_proj.bias).value();
}

TEST(MultiheadAttention, UnbatchedOutputEqualsThePerHeadComposition) {
  Rng rng(2);
  MHA mha(6, 3, rng);
  const Tensor q = uniform({4, 6}, 3, -1, 1), k = uniform({5, 6}, 4, -1, 1), v = uniform({5, 6}, 5, -1, 1);
  const auto out = mha(Variable(q), Variable(k), Variable(v));
  EXPECT_EQ(xtgrad::shape_str(out.output.value()), "(4, 6)");
  EXPECT_FALSE(out.weights.defined());
  expect_tensor_near(out.output.value(), reference_mha(mha, q, k, v), 1e-12);
  // the explicit path (need_weights) gives the same output
  const auto with_weights = mha(Variable(q), Variable(k), Variable(v), MhaCall().need_weights(true));
  expect_tensor_near(with_weights.output.value(), out.output.value(), 1e-12);
  EXPECT_EQ(xtgrad::shape_str(with_weights.weights.value()), "(4, 5)");
}

TEST(MultiheadAttention, BatchedLayoutsAgreeWithUnbatchedItems) {
  Rng rng(6);
  MHA seq_first(4, 2, rng);
  MHA batch_first(4, 2, rng, nn::MultiheadAttentionOptions().batch_first(true));
  for (std::size_t i = 0; i < 4; ++i)
    batch_first.named_parameters()[i].second.mutable_value() = seq_first.named_parameters()[i].second.value();
  const Tensor x = uniform({3, 2, 4}, 7, -1, 1);  // (L, N, E)
  const Variable y = seq_first(Variable(x));
  EXPECT_EQ(xtgrad::shape_str(y.value()), "(3, 2, 4)");
  const Tensor xt_bf = xtgrad::swap_axes(Variable(x), 0, 1).value();  // (N, L, E)
  const Variable y_bf = batch_first(Variable(xt_bf));
  expect_tensor_near(xtgrad::swap_axes(y_bf, 0, 1).value(), y.value(), 1e-12);
  for (std::size_t n = 0; n < 2; ++n) {
    const Variable item = xtgrad::squeeze(xtgrad::narrow(Variable(x), 1, static_cast<std::int64_t>(n), 1), 1);
    const Variable expected = xtgrad::squeeze(xtgrad::narrow(y, 1, static_cast<std::int64_t>(n), 1), 1);
    expect_tensor_near(seq_first(item).value(), expected.value(), 1e-12);
  }
}

// ---- MultiheadAttention: gradients ---------------------------------------------------------------

TEST(MultiheadAttention, CrossAttentionGradientsPassGradcheck) {
  Rng rng(8);
  MHA mha(4, 2, rng);
  const Tensor pad = xtgrad_test::make_tensor({2, 5}, {0, 0, 0, 1, 0, 0, 1, 0, 0, 0});
  const auto call = MhaCall().key_padding_mask(pad).attn_mask(uniform({3, 5}, 9, -1, 1));
  expect_gradcheck(
      [&](const std::vector<Variable>& v) {
        mha.in_proj_weight = v[3];
        mha.in_proj_bias = v[4];
        mha.out_proj.weight = v[5];
        mha.out_proj.bias = v[6];
        return mha(v[0], v[1], v[2], call).output;
      },
      {uniform({3, 2, 4}, 10, -1, 1), uniform({5, 2, 4}, 11, -1, 1), uniform({5, 2, 4}, 12, -1, 1),
       mha.in_proj_weight.value(), uniform({12}, 13, -0.5, 0.5), mha.out_proj.weight.value(),
       uniform({4}, 14, -0.5, 0.5)});
}

TEST(MultiheadAttention, SelfAttentionAndWeightsGradientsPassGradcheck) {
  Rng rng(15);
  MHA mha(6, 3, rng, nn::MultiheadAttentionOptions().batch_first(true));
  expect_gradcheck(
      [&](const std::vector<Variable>& v) {
        mha.in_proj_weight = v[1];
        return mha(v[0], v[0], v[0], MhaCall().is_causal(true)).output;
      },
      {uniform({2, 4, 6}, 16, -1, 1), mha.in_proj_weight.value()});
  // the explicit path: output and averaged weights both carry gradient
  expect_gradcheck(
      [&](const std::vector<Variable>& v) {
        const auto r = mha(v[0], v[1], v[1], MhaCall().need_weights(true).is_causal(true));
        return xtgrad::concat({xtgrad::flatten(r.output), xtgrad::flatten(r.weights)}, 0);
      },
      {uniform({2, 4, 6}, 17, -1, 1), uniform({2, 4, 6}, 18, -1, 1)});
}

// ---- MultiheadAttention: masks -------------------------------------------------------------------

TEST(MultiheadAttention, CausalEqualsTheExplicitAdditiveAndBooleanMasks) {
  Rng rng(19);
  MHA mha(4, 2, rng);
  const Variable x(uniform({5, 3, 4}, 20, -1, 1));
  const Tensor additive = nn::square_subsequent_mask<double>(5);
  Tensor boolean = xtgrad_test::filled({5, 5}, 0.0);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = i + 1; j < 5; ++j) boolean(i, j) = 1.0;  // nonzero: not attended
  const Tensor causal = mha(x, x, x, MhaCall().is_causal(true)).output.value();
  expect_tensor_near(mha(x, x, x, MhaCall().attn_mask(additive)).output.value(), causal, 1e-12);
  expect_tensor_near(mha(x, x, x, MhaCall().attn_mask(boolean, nn::MaskType::boolean)).output.value(), causal, 1e-12);
  // both together are the same mask again; and the explicit path agrees
  expect_tensor_near(mha(x, x, x, MhaCall().attn_mask(additive).is_causal(true)).output.value(), causal, 1e-12);
  expect_tensor_near(mha(x, x, x, MhaCall().is_causal(true).need_weights(true)).output.value(), causal, 1e-12);
  // the first query sees only the first key: its output is out_proj(v-projection of x₀)
  const auto w = mha(x, x, x, MhaCall().is_causal(true).need_weights(true)).weights.value();
  for (std::size_t n = 0; n < 3; ++n) {
    EXPECT_NEAR(w(n, 0, 0), 1.0, 1e-12);
    for (std::size_t j = 1; j < 5; ++j) EXPECT_EQ(w(n, 0, j), 0.0);
  }
}

TEST(MultiheadAttention, PaddedKeysGetZeroWeightAndDoNotChangeTheOutput) {
  Rng rng(21);
  MHA mha(4, 2, rng, nn::MultiheadAttentionOptions().batch_first(true));
  const Tensor q = uniform({2, 3, 4}, 22, -1, 1);
  Tensor kv = uniform({2, 5, 4}, 23, -1, 1);
  const Tensor pad = xtgrad_test::make_tensor({2, 5}, {0, 0, 0, 1, 1, 0, 1, 0, 0, 0});
  const auto call = MhaCall().key_padding_mask(pad).need_weights(true).average_attn_weights(false);
  const auto r = mha(Variable(q), Variable(kv), Variable(kv), call);
  const Tensor& w = r.weights.value();  // (N, H, L, S)
  EXPECT_EQ(xtgrad::shape_str(w), "(2, 2, 3, 5)");
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t h = 0; h < 2; ++h)
      for (std::size_t i = 0; i < 3; ++i) {
        double row = 0;
        for (std::size_t j = 0; j < 5; ++j) {
          row += w(n, h, i, j);
          if (pad(n, j) != 0) {
            EXPECT_EQ(w(n, h, i, j), 0.0);
          }
        }
        EXPECT_NEAR(row, 1.0, 1e-12);
      }
  // changing the padded keys' values changes nothing (fused and explicit paths)
  kv(0, 3, 1) += 5.0;
  kv(1, 1, 2) -= 3.0;
  const auto r2 = mha(Variable(q), Variable(kv), Variable(kv), call);
  expect_tensor_near(r2.output.value(), r.output.value(), 1e-12);
  const auto fused = mha(Variable(q), Variable(kv), Variable(kv), MhaCall().key_padding_mask(pad));
  expect_tensor_near(fused.output.value(), r.output.value(), 1e-12);
  // an additive key padding mask of 0 / −inf is the same
  Tensor pad_add = xtgrad_test::filled({2, 5}, 0.0);
  for (std::size_t i = 0; i < pad.size(); ++i)
    if (pad.data()[i] != 0) pad_add.data()[i] = -std::numeric_limits<double>::infinity();
  const auto add =
      mha(Variable(q), Variable(kv), Variable(kv), MhaCall().key_padding_mask(pad_add, nn::MaskType::additive));
  expect_tensor_near(add.output.value(), r.output.value(), 1e-12);
}

TEST(MultiheadAttention, AveragedWeightsAreTheMeanOverHeads) {
  Rng rng(24);
  MHA mha(6, 3, rng);
  const Variable x(uniform({4, 2, 6}, 25, -1, 1));
  const Tensor per_head = mha(x, x, x, MhaCall().need_weights(true).average_attn_weights(false)).weights.value();
  const Tensor avg = mha(x, x, x, MhaCall().need_weights(true)).weights.value();
  EXPECT_EQ(xtgrad::shape_str(avg), "(2, 4, 4)");
  expect_tensor_near(avg, xtgrad::mean(Variable(per_head), 1).value(), 1e-12);
}

TEST(MultiheadAttention, PerHeadAttnMaskOfNTimesHeadsRows) {
  Rng rng(26);
  MHA mha(4, 2, rng);
  const Variable x(uniform({3, 2, 4}, 27, -1, 1));
  const Tensor m2 = uniform({3, 3}, 28, -1, 1);
  Tensor m3 = xtgrad_test::filled({4, 3, 3}, 0.0);  // (N·H, L, S), every item the same mask
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j) m3(t, i, j) = m2(i, j);
  expect_tensor_near(mha(x, x, x, MhaCall().attn_mask(m3)).output.value(),
                     mha(x, x, x, MhaCall().attn_mask(m2)).output.value(), 1e-12);
}

// ---- MultiheadAttention: errors ------------------------------------------------------------------

TEST(MultiheadAttention, BadConstructionArgumentsThrowNamingTheModule) {
  Rng rng(29);
  expect_throws_with<std::invalid_argument>([&] { MHA(6, 4, rng); },
                                            {"MultiheadAttention", "embed_dim 6", "num_heads 4"});
  expect_throws_with<std::invalid_argument>([&] { MHA(6, 0, rng); }, {"MultiheadAttention", "num_heads 0"});
  expect_throws_with<std::invalid_argument>(
      [&] { MHA(6, 2, rng, nn::MultiheadAttentionOptions().dropout(1.0)); }, {"MultiheadAttention", "dropout"});
}

TEST(MultiheadAttention, BadShapesThrowNamingTheModuleAndTheShapes) {
  Rng rng(30);
  MHA mha(4, 2, rng);
  const Variable x(uniform({3, 2, 4}, 31, -1, 1));
  const Variable wrong_e(uniform({3, 2, 5}, 32, -1, 1));
  expect_throws_with<std::invalid_argument>([&] { mha(wrong_e); }, {"MultiheadAttention", "embed_dim 4", "(3, 2, 5)"});
  expect_throws_with<std::invalid_argument>([&] { mha(x, Variable(uniform({3, 4}, 33, -1, 1)), x); },
                                            {"MultiheadAttention", "query (3, 2, 4)", "key (3, 4)"});
  expect_throws_with<std::invalid_argument>([&] { mha(x, x, Variable(uniform({4, 2, 4}, 34, -1, 1))); },
                                            {"MultiheadAttention", "key (3, 2, 4)", "value (4, 2, 4)"});
  expect_throws_with<std::invalid_argument>([&] { mha(x, x, x, MhaCall().attn_mask(uniform({3, 4}, 35, -1, 1))); },
                                            {"MultiheadAttention", "attn_mask", "(3, 3)", "(4, 3, 3)", "got (3, 4)"});
  expect_throws_with<std::invalid_argument>(
      [&] { mha(x, x, x, MhaCall().key_padding_mask(xtgrad_test::filled({3, 2}, 0.0))); },
      {"MultiheadAttention", "key_padding_mask", "(2, 3)", "got (3, 2)"});
}

// ---- MultiheadAttention: dropout -----------------------------------------------------------------

TEST(MultiheadAttention, DropoutActsInTrainingModeOnly) {
  Rng rng(36);
  MHA with_dropout(4, 2, rng, nn::MultiheadAttentionOptions().dropout(0.5));
  MHA without(4, 2, rng);
  for (std::size_t i = 0; i < 4; ++i)
    without.named_parameters()[i].second.mutable_value() = with_dropout.named_parameters()[i].second.value();
  const Variable x(uniform({5, 2, 4}, 37, -1, 1));
  const Tensor reference = without(x).value();
  const Tensor train1 = with_dropout(x).value(), train2 = with_dropout(x).value();
  EXPECT_GT(max_abs(train1 - reference), 1e-3);
  EXPECT_GT(max_abs(train1 - train2), 1e-3);  // a new mask per call
  with_dropout.eval();
  expect_tensor_near(with_dropout(x).value(), reference, 1e-12);
  expect_tensor_near(with_dropout(x, x, x, MhaCall().need_weights(true)).output.value(), reference, 1e-12);
}

// ---- TransformerEncoderLayer ---------------------------------------------------------------------

nn::TransformerLayerOptions small(nn::TransformerActivation a, bool norm_first) {
  return nn::TransformerLayerOptions().dim_feedforward(6).dropout(0.0).activation(a).norm_first(norm_first);
}

TEST(TransformerEncoderLayer, ChildrenAndParametersAreNamedAsPyTorchs) {
  Rng rng(40);
  EncoderLayer layer(4, 2, rng, nn::TransformerLayerOptions().dim_feedforward(8));
  std::vector<std::string> modules;
  for (const auto& [name, m] : layer.named_modules()) modules.push_back(name);
  EXPECT_EQ(modules, (std::vector<std::string>{"", "self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2",
                                               "norm1", "norm2", "dropout1", "dropout2"}));
  EXPECT_EQ(parameter_names(layer),
            (std::vector<std::string>{"self_attn.in_proj_weight (12, 4)", "self_attn.in_proj_bias (12)",
                                      "self_attn.out_proj.weight (4, 4)", "self_attn.out_proj.bias (4)",
                                      "linear1.weight (8, 4)", "linear1.bias (8)", "linear2.weight (4, 8)",
                                      "linear2.bias (4)", "norm1.weight (4)", "norm1.bias (4)", "norm2.weight (4)",
                                      "norm2.bias (4)"}));
  // nn.Linear's init for the feed-forward block: weight and bias within ±1/√in, bias not zero
  EXPECT_LE(max_abs(layer.linear2.weight.value()), 1.0 / std::sqrt(8.0));
  EXPECT_LE(max_abs(layer.linear2.bias.value()), 1.0 / std::sqrt(8.0));
  EXPECT_GT(max_abs(layer.linear1.bias.value()), 0.0);
  const auto defaults = nn::TransformerEncoderLayerOptions{};
  EXPECT_EQ(defaults.dim_feedforward(), 2048u);
  EXPECT_EQ(defaults.dropout(), 0.1);
  EXPECT_EQ(defaults.layer_norm_eps(), 1e-5);
  EXPECT_FALSE(defaults.norm_first());
  EXPECT_FALSE(defaults.batch_first());
}

TEST(TransformerEncoderLayer, PostNormValueIsTheComposition) {
  Rng rng(41);
  EncoderLayer layer(4, 2, rng, small(nn::TransformerActivation::relu, false));
  const Variable x(uniform({3, 2, 4}, 42, -1, 1));
  const Variable h = layer.norm1(x + layer.self_attn(x));
  const Variable expected = layer.norm2(h + layer.linear2(xtgrad::relu(layer.linear1(h))));
  expect_tensor_near(layer(x).value(), expected.value(), 1e-12);
}

TEST(TransformerEncoderLayer, GradientsPassGradcheckForEachActivationAndNormOrder) {
  for (const bool norm_first : {false, true}) {
    for (const auto act : {nn::TransformerActivation::relu, nn::TransformerActivation::gelu}) {
      Rng rng(43);
      EncoderLayer layer(4, 2, rng, small(act, norm_first));
      const Tensor pad = xtgrad_test::make_tensor({2, 3}, {0, 0, 1, 0, 0, 0});
      const auto call = EncoderCall().is_causal(true).src_key_padding_mask(pad);
      SCOPED_TRACE(std::string(norm_first ? "norm_first " : "post-norm ") +
                   (act == nn::TransformerActivation::relu ? "relu" : "gelu"));
      expect_gradcheck(
          [&](const std::vector<Variable>& v) {
            layer.linear1.weight = v[1];
            layer.norm2.weight = v[2];
            layer.self_attn.in_proj_weight = v[3];
            return layer(v[0], call);
          },
          {uniform({3, 2, 4}, 44, -1, 1), layer.linear1.weight.value(), uniform({4}, 45, 0.5, 1.5),
           layer.self_attn.in_proj_weight.value()});
    }
  }
}

TEST(TransformerEncoderLayer, DropoutActsInTrainingModeOnly) {
  Rng rng(46);
  EncoderLayer layer(4, 2, rng, nn::TransformerLayerOptions().dim_feedforward(8).dropout(0.3));
  const Variable x(uniform({3, 2, 4}, 47, -1, 1));
  EXPECT_GT(max_abs(layer(x).value() - layer(x).value()), 1e-3);
  layer.eval();
  expect_tensor_near(layer(x).value(), layer(x).value(), 0.0);
}

TEST(TransformerEncoderLayer, SummaryListsItsLayersInCallOrder) {
  Rng rng(48);
  EncoderLayer layer(4, 2, rng, nn::TransformerLayerOptions().dim_feedforward(8));
  std::vector<std::string> calls;
  for (const auto& row : nn::summarize(layer, {3, 2, 4}))
    calls.push_back(row.name + " " + xtgrad::shape_str(row.output_shape));
  EXPECT_EQ(calls, (std::vector<std::string>{"self_attn.out_proj (2, 3, 4)", "dropout1 (3, 2, 4)", "norm1 (3, 2, 4)",
                                             "linear1 (3, 2, 8)", "dropout (3, 2, 8)", "linear2 (3, 2, 4)",
                                             "dropout2 (3, 2, 4)", "norm2 (3, 2, 4)"}));
}

// ---- TransformerDecoderLayer ---------------------------------------------------------------------

TEST(TransformerDecoderLayer, ChildrenAreNamedAsPyTorchsAndOneInputThrows) {
  Rng rng(50);
  DecoderLayer layer(4, 2, rng, nn::TransformerLayerOptions().dim_feedforward(8));
  std::vector<std::string> modules;
  for (const auto& [name, m] : layer.named_modules()) modules.push_back(name);
  EXPECT_EQ(modules, (std::vector<std::string>{"", "self_attn", "self_attn.out_proj", "multihead_attn",
                                               "multihead_attn.out_proj", "linear1", "dropout", "linear2", "norm1",
                                               "norm2", "norm3", "dropout1", "dropout2", "dropout3"}));
  EXPECT_EQ(layer.parameter_count(), 2 * (48 + 12 + 16 + 4) + (32 + 8) + (32 + 4) + 3 * 8u);
  expect_throws_with<std::invalid_argument>([&] { layer(Variable(uniform({3, 2, 4}, 51, -1, 1))); },
                                            {"TransformerDecoderLayer", "layer(tgt, memory)"});
}

TEST(TransformerDecoderLayer, GradientsPassGradcheck) {
  for (const bool norm_first : {false, true}) {
    Rng rng(52);
    DecoderLayer layer(4, 2, rng, small(nn::TransformerActivation::gelu, norm_first).batch_first(true));
    const auto call = nn::BasicTransformerDecoderForwardOptions<double>()
                          .tgt_mask(nn::square_subsequent_mask<double>(3))
                          .memory_key_padding_mask(xtgrad_test::make_tensor({2, 4}, {0, 0, 0, 1, 0, 1, 0, 0}));
    SCOPED_TRACE(norm_first ? "norm_first" : "post-norm");
    expect_gradcheck(
        [&](const std::vector<Variable>& v) {
          layer.multihead_attn.in_proj_weight = v[2];
          return layer(v[0], v[1], call);
        },
        {uniform({2, 3, 4}, 53, -1, 1), uniform({2, 4, 4}, 54, -1, 1), layer.multihead_attn.in_proj_weight.value()});
  }
}

// ---- TransformerEncoder ----------------------------------------------------------------------------

TEST(TransformerEncoder, LayersAreClonesWithTheirOwnParameters) {
  Rng rng(60);
  EncoderLayer layer(4, 2, rng, nn::TransformerLayerOptions().dim_feedforward(8));
  Encoder encoder(layer, 2, nn::BasicLayerNorm<double>({4}));
  const auto names = parameter_names(encoder);
  ASSERT_EQ(names.size(), 2 * 12 + 2u);
  EXPECT_EQ(names[0], "layers.0.self_attn.in_proj_weight (12, 4)");
  EXPECT_EQ(names[12], "layers.1.self_attn.in_proj_weight (12, 4)");
  EXPECT_EQ(names[25], "norm.bias (4)");
  const auto params = encoder.named_parameters();
  const auto original = layer.named_parameters();
  for (std::size_t i = 0; i < 12; ++i) {
    expect_tensor_near(params[i].second.value(), original[i].second.value(), 0.0);
    expect_tensor_near(params[12 + i].second.value(), original[i].second.value(), 0.0);
    EXPECT_NE(params[i].second.node(), original[i].second.node());
    EXPECT_NE(params[i].second.node(), params[12 + i].second.node());
  }
  EXPECT_THROW(Encoder(layer, 0), std::invalid_argument);
}

TEST(TransformerEncoder, IsTheLayersInTurnThenTheNormAndPassesGradcheck) {
  Rng rng(61);
  EncoderLayer layer(4, 2, rng, small(nn::TransformerActivation::gelu, true));
  Encoder encoder(layer, 2, nn::BasicLayerNorm<double>({4}));
  const Variable x(uniform({3, 2, 4}, 62, -1, 1));
  const auto call = EncoderCall().mask(nn::square_subsequent_mask<double>(3));
  auto& l0 = encoder.layers.at<EncoderLayer>(0);
  auto& l1 = encoder.layers.at<EncoderLayer>(1);
  expect_tensor_near(encoder(x, call).value(), (*encoder.norm)(l1(l0(x, call), call)).value(), 1e-12);
  expect_tensor_near(encoder(x, EncoderCall().is_causal(true)).value(), encoder(x, call).value(), 1e-12);
  expect_gradcheck([&](const std::vector<Variable>& v) { return encoder(v[0], call); },
                   {uniform({3, 2, 4}, 63, -1, 1)});
}

}  // namespace
