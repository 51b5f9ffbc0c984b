// scaled_dot_product_attention: values against the composed ops (matmul_nd, softmax),
// masks (additive, boolean, causal, broadcast), fully masked rows, dropout, double-precision
// gradient checks (first and second order), a deliberately wrong backward the checker
// catches, 1 vs 3 threads, float against double, and errors.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using Options = xtgrad::BasicAttentionOptions<Scalar>;
using xtgrad::AttentionMask;

constexpr double kInf = std::numeric_limits<double>::infinity();

// softmax(scale·Q·Kᵀ + M)·V with the general ops; M an additive mask tensor (or none).
Variable composed(const Variable& q, const Variable& k, const Variable& v, double scale, const Tensor* m = nullptr) {
  Variable s = xtgrad::matmul_nd(q, xtgrad::swap_axes(k, -1, -2)) * scale;
  if (m) s = s + Variable(*m);
  return xtgrad::matmul_nd(xtgrad::softmax(s, -1), v);
}

// The additive form (0 / −inf) of causal masking for Lq × Lk scores.
Tensor causal_additive(std::size_t lq, std::size_t lk) {
  Tensor m = Tensor::from_shape({lq, lk});
  for (std::size_t i = 0; i < lq; ++i)
    for (std::size_t j = 0; j < lk; ++j) m(i, j) = j > i ? -kInf : 0.0;
  return m;
}

Variable sdpa(const Variable& q, const Variable& k, const Variable& v, const Options& o = {}) {
  return xtgrad::scaled_dot_product_attention(q, k, v, o);
}

TEST(Attention, MatchesTheComposedOps) {
  const Tensor q = uniform({2, 3, 4, 5}, 1, -1, 1), k = uniform({2, 3, 6, 5}, 2, -1, 1),
               v = uniform({2, 3, 6, 7}, 3, -1, 1);
  const Tensor y = sdpa(Variable(q), Variable(k), Variable(v)).value();
  EXPECT_EQ(xtgrad::shape_str(y), "(2, 3, 4, 7)");
  expect_tensor_near(y, composed(Variable(q), Variable(k), Variable(v), 1 / std::sqrt(5.0)).value(), 1e-14);
  Options o;
  o.scale = 0.3;
  expect_tensor_near(sdpa(Variable(q), Variable(k), Variable(v), o).value(),
                     composed(Variable(q), Variable(k), Variable(v), 0.3).value(), 1e-14);
  // rank 2: one item
  const Tensor q2 = uniform({3, 4}, 4, -1, 1), k2 = uniform({5, 4}, 5, -1, 1), v2 = uniform({5, 2}, 6, -1, 1);
  expect_tensor_near(sdpa(Variable(q2), Variable(k2), Variable(v2)).value(),
                     composed(Variable(q2), Variable(k2), Variable(v2), 0.5).value(), 1e-14);
}

TEST(Attention, MasksMatchTheirAdditiveForms) {
  const Tensor q = uniform({2, 2, 4, 3}, 7, -1, 1), k = uniform({2, 2, 5, 3}, 8, -1, 1),
               v = uniform({2, 2, 5, 2}, 9, -1, 1);
  const double scale = 1 / std::sqrt(3.0);
  {
    SCOPED_TRACE("causal");
    Options o;
    o.causal = true;
    const Tensor m = causal_additive(4, 5);
    expect_tensor_near(sdpa(Variable(q), Variable(k), Variable(v), o).value(),
                       composed(Variable(q), Variable(k), Variable(v), scale, &m).value(), 1e-14);
  }
  {
    SCOPED_TRACE("additive (2, 1, 4, 5), broadcast over heads");
    Options o;
    o.mask = uniform({2, 1, 4, 5}, 10, -2, 2);
    expect_tensor_near(sdpa(Variable(q), Variable(k), Variable(v), o).value(),
                       composed(Variable(q), Variable(k), Variable(v), scale, &*o.mask).value(), 1e-14);
  }
  {
    SCOPED_TRACE("boolean (5), broadcast over queries, with causal");
    Options o;
    o.mask = Tensor{1.0, 0.0, 1.0, 1.0, 0.0};
    o.mask_kind = AttentionMask::boolean;
    o.causal = true;
    Tensor m = causal_additive(4, 5);
    for (std::size_t i = 0; i < 4; ++i) m(i, 1) = m(i, 4) = -kInf;
    expect_tensor_near(sdpa(Variable(q), Variable(k), Variable(v), o).value(),
                       composed(Variable(q), Variable(k), Variable(v), scale, &m).value(), 1e-14);
  }
}

TEST(Attention, FullyMaskedRowsGiveZeroOutputAndZeroGradient) {
  // query 0 attends nothing (boolean mask row of zeros); queries 1 and 2 attend some keys
  Options o;
  o.mask = make_tensor({3, 3}, {0, 0, 0, 1, 0, 1, 1, 1, 1});
  o.mask_kind = AttentionMask::boolean;
  const Variable q = Variable::parameter(uniform({1, 3, 2}, 11, -1, 1));
  const Variable k = Variable::parameter(uniform({1, 3, 2}, 12, -1, 1));
  const Variable v = Variable::parameter(uniform({1, 3, 2}, 13, -1, 1));
  const Variable y = sdpa(q, k, v, o);
  expect_all_finite(y.value());
  EXPECT_EQ(y.value()(0, 0, 0), 0.0);
  EXPECT_EQ(y.value()(0, 0, 1), 0.0);
  xtgrad::sum(xtgrad::square(y)).backward();
  expect_all_finite(q.grad());
  expect_all_finite(k.grad());
  expect_all_finite(v.grad());
  EXPECT_EQ(q.grad()(0, 0, 0), 0.0);
  EXPECT_EQ(q.grad()(0, 0, 1), 0.0);
  // the live rows match the composed ops (the dead row dropped)
  const Tensor m = make_tensor({3, 3}, {0, -kInf, 0, 0, -kInf, 0, 0, 0, 0});
  const Tensor ref = composed(Variable(q.value()), Variable(k.value()), Variable(v.value()), 1 / std::sqrt(2.0), &m).value();
  for (std::size_t i = 1; i < 3; ++i)
    for (std::size_t c = 0; c < 2; ++c) EXPECT_NEAR(y.value()(0, i, c), ref(0, i, c), 1e-14);
  // causal with an additive −inf on key 0: query 0 attends nothing either
  Options c;
  c.causal = true;
  c.mask = make_tensor({3}, {-kInf, 0, 0});
  const Tensor y2 = sdpa(Variable(q.value()), Variable(k.value()), Variable(v.value()), c).value();
  EXPECT_EQ(y2(0, 0, 0), 0.0);
  expect_all_finite(y2);
  expect_gradcheck([c](const Vars& x) { return sdpa(x[0], x[1], x[2], c); },
                   {q.value(), k.value(), v.value()});
}

TEST(Attention, PassesGradcheck) {
  const std::vector<Tensor> in{uniform({2, 2, 3, 4}, 20, -1, 1), uniform({2, 2, 5, 4}, 21, -1, 1),
                               uniform({2, 2, 5, 3}, 22, -1, 1)};
  {
    SCOPED_TRACE("no mask");
    expect_gradcheck([](const Vars& x) { return sdpa(x[0], x[1], x[2]); }, in);
  }
  {
    SCOPED_TRACE("causal");
    Options o;
    o.causal = true;
    expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
  }
  {
    SCOPED_TRACE("additive mask (2, 1, 3, 5), scale 0.7");
    Options o;
    o.mask = uniform({2, 1, 3, 5}, 23, -1, 1);
    o.mask.value()(1, 0, 2, 4) = -kInf;
    o.scale = 0.7;
    expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
  }
  {
    SCOPED_TRACE("boolean mask (3, 5) and causal");
    Options o;
    o.mask = make_tensor({3, 5}, {1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0});
    o.mask_kind = AttentionMask::boolean;
    o.causal = true;
    expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
  }
  {
    SCOPED_TRACE("self-attention: one input as q, k and v");
    Options o;
    o.causal = true;
    expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[0], x[0], o); }, {uniform({2, 4, 3}, 24, -1, 1)});
  }
}

TEST(Attention, PassesGradgradcheck) {
  const std::vector<Tensor> in{uniform({2, 3, 2}, 30, -1, 1), uniform({2, 4, 2}, 31, -1, 1),
                               uniform({2, 4, 2}, 32, -1, 1)};
  expect_gradgradcheck([](const Vars& x) { return sdpa(x[0], x[1], x[2]); }, in);
  Options o;
  o.causal = true;
  o.mask = make_tensor({3, 4}, {0.5, -1, 0, -kInf, -kInf, -kInf, -kInf, -kInf, 0, 1, 0.25, 0});  // row 1: no key
  expect_gradgradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
}

TEST(Attention, DropoutMatchesTheComposedOpsWithTheSameDraws) {
  const Tensor q = uniform({2, 3, 4}, 40, -1, 1), k = uniform({2, 5, 4}, 41, -1, 1), v = uniform({2, 5, 3}, 42, -1, 1);
  const auto with_dropout = [&](const Vars& x) {
    xtgrad::Rng rng(7);  // the same draws on every call: gradcheck evaluates f many times
    Options o;
    o.dropout_p = 0.3;
    o.rng = &rng;
    return sdpa(x[0], x[1], x[2], o);
  };
  const auto reference = [&](const Vars& x) {
    xtgrad::Rng rng(7);
    const Variable s = xtgrad::matmul_nd(x[0], xtgrad::swap_axes(x[1], -1, -2)) * 0.5;
    const Variable p = xtgrad::softmax(s, -1);
    const Variable ones(xtgrad_test::filled({2, 3, 5}, 1.0));
    return xtgrad::matmul_nd(p * xtgrad::dropout(ones, 0.3, rng), x[2]);
  };
  const Vars x{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
  const Vars r{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
  const Variable y = with_dropout(x), yr = reference(r);
  expect_tensor_near(y.value(), yr.value(), 1e-14);
  const Tensor w = uniform({2, 3, 3}, 43, -1, 1);
  xtgrad::sum(y * Variable(w)).backward();
  xtgrad::sum(yr * Variable(w)).backward();
  for (std::size_t i = 0; i < 3; ++i) expect_tensor_near(x[i].grad(), r[i].grad(), 1e-14);
  expect_gradcheck(with_dropout, {q, k, v});
}

// The op's value with a backward written out with the general ops (constants: no graph), and
// optionally a deliberate bug: dK's scale left out, or one element of dQ off by 1e-3 relative.
enum class Bug { none, dk_unscaled, dq_element };
Variable buggy_sdpa(const Variable& q, const Variable& k, const Variable& v, Bug bug) {
  const double scale = 1 / std::sqrt(double(q.value().shape()[q.value().dimension() - 1]));
  return xtgrad::make_result("buggy_sdpa", Tensor(sdpa(q, k, v).value()), {q, k, v}, [bug, scale](Node& self) {
    using xtgrad::matmul_nd;
    using xtgrad::swap_axes;
    const Variable qc(self.parent_value(0)), kc(self.parent_value(1)), vc(self.parent_value(2)), g(self.grad);
    const Variable p = xtgrad::softmax(matmul_nd(qc, swap_axes(kc, -1, -2)) * scale, -1);
    const Variable dp = matmul_nd(g, swap_axes(vc, -1, -2));
    const Variable ds = p * (dp - xtgrad::sum(dp * p, -1, true));
    Tensor dq = (matmul_nd(ds, kc) * scale).value(), dk = (matmul_nd(swap_axes(ds, -1, -2), qc) * scale).value();
    if (bug == Bug::dk_unscaled) dk /= scale;
    if (bug == Bug::dq_element) dq.data()[1] *= 1.001;
    self.add_to_parent(0, std::move(dq));
    self.add_to_parent(1, std::move(dk));
    self.add_to_parent(2, Tensor(matmul_nd(swap_axes(p, -1, -2), g).value()));
  });
}

TEST(Attention, GradcheckCatchesAWrongBackward) {
  const std::vector<Tensor> in{uniform({2, 3, 4}, 50, -1, 1), uniform({2, 3, 4}, 51, -1, 1),
                               uniform({2, 3, 2}, 52, -1, 1)};
  // the wrapper with no bug passes, so a failure below is the bug's
  EXPECT_TRUE(run_gradcheck([](const Vars& x) { return buggy_sdpa(x[0], x[1], x[2], Bug::none); }, in).ok);
  for (Bug bug : {Bug::dk_unscaled, Bug::dq_element}) {
    const xtgrad::GradcheckReport r =
        run_gradcheck([bug](const Vars& x) { return buggy_sdpa(x[0], x[1], x[2], bug); }, in);
    EXPECT_FALSE(r.ok) << r.message;
    EXPECT_NE(r.message.find(bug == Bug::dk_unscaled ? "input 1" : "input 0"), std::string::npos) << r.message;
  }
}

TEST(Attention, OneAndThreeThreadsGiveTheSameBits) {
  // 2·6 items of 24×24 scores: several chunks at 3 threads
  const Tensor q = uniform({2, 6, 24, 8}, 60, -1, 1), k = uniform({2, 6, 24, 8}, 61, -1, 1),
               v = uniform({2, 6, 24, 8}, 62, -1, 1), w = uniform({2, 6, 24, 8}, 63, -1, 1);
  Options o;
  o.causal = true;
  o.mask = uniform({6, 1, 24}, 64, -1, 0);
  const auto run = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    const Vars x{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
    const Variable y = sdpa(x[0], x[1], x[2], o);
    xtgrad::sum(y * Variable(w)).backward();
    return std::vector<Tensor>{y.value(), x[0].grad(), x[1].grad(), x[2].grad()};
  };
  const std::vector<Tensor> one = run(1), three = run(3);
  for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(three[i], one[i], 0.0);
}

TEST(Attention, FloatAgreesWithDouble) {
  using T32 = xtgrad::TensorOf<float>;
  using V32 = xtgrad::BasicVariable<float>;
  const Tensor q = uniform({3, 17, 8}, 70, -1, 1), k = uniform({3, 19, 8}, 71, -1, 1), v = uniform({3, 19, 5}, 72, -1, 1);
  xtgrad::AttentionOptions o32;
  o32.causal = true;
  Options o64;
  o64.causal = true;
  const T32 y32 = xtgrad::scaled_dot_product_attention(V32(T32(q)), V32(T32(k)), V32(T32(v)), o32).value();
  const Tensor y64 = sdpa(Variable(q), Variable(k), Variable(v), o64).value();
  for (std::size_t i = 0; i < y64.size(); ++i) EXPECT_NEAR(double(y32.data()[i]), y64.data()[i], 1e-5);
}

// ---- heads side by side: q (..., L, H·d), as a Linear gives it ----------------------------------

// (..., L, H·c) → (..., H, L, c) and back, with the general ops (copies)
Variable split_heads(const Variable& x, std::size_t heads) {
  Shape s = xtgrad::shape_of(x.value());
  const std::size_t c = s.back() / heads;
  s.back() = heads;
  s.push_back(c);
  return xtgrad::swap_axes(xtgrad::reshape(x, s), -2, -3);
}
Variable merge_heads(const Variable& x) {
  Shape s = xtgrad::shape_of(x.value());  // (..., H, L, c)
  const std::size_t c = s.back(), l = s[s.size() - 2], h = s[s.size() - 3];
  s.resize(s.size() - 3);
  s.push_back(l);
  s.push_back(h * c);
  return xtgrad::reshape(xtgrad::swap_axes(x, -2, -3), s);
}

TEST(AttentionHeads, EqualsTheSplitHeadsComputation) {
  const Tensor q = uniform({2, 5, 3 * 4}, 80, -1, 1), k = uniform({2, 6, 3 * 4}, 81, -1, 1),
               v = uniform({2, 6, 3 * 2}, 82, -1, 1), w = uniform({2, 5, 3 * 2}, 83, -1, 1);
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    Options o, split;
    xtgrad::Rng r1(9), r2(9);
    if (variant == 1) o.causal = split.causal = true;
    if (variant >= 2) o.mask = split.mask = uniform({3, 1, 6}, 84, -1, 1);  // per head, broadcast over queries
    if (variant == 3) {
      o.dropout_p = split.dropout_p = 0.25;
      o.rng = &r1;
      split.rng = &r2;
    }
    o.heads = 3;
    const Vars a{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
    const Vars b{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
    const Variable y = sdpa(a[0], a[1], a[2], o);
    const Variable yr = merge_heads(sdpa(split_heads(b[0], 3), split_heads(b[1], 3), split_heads(b[2], 3), split));
    EXPECT_EQ(xtgrad::shape_str(y.value()), "(2, 5, 6)");
    expect_tensor_near(y.value(), yr.value(), 0.0);
    xtgrad::sum(y * Variable(w)).backward();
    xtgrad::sum(yr * Variable(w)).backward();
    for (std::size_t i = 0; i < 3; ++i) expect_tensor_near(a[i].grad(), b[i].grad(), 0.0);
  }
}

TEST(AttentionHeads, PassesGradcheckAndGradgradcheck) {
  Options o;
  o.heads = 2;
  o.causal = true;
  o.mask = make_tensor({2, 1, 1}, {0.5, -0.25});  // per head
  const std::vector<Tensor> in{uniform({2, 3, 2 * 2}, 85, -1, 1), uniform({2, 3, 2 * 2}, 86, -1, 1),
                               uniform({2, 3, 2 * 3}, 87, -1, 1)};
  expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
  expect_gradgradcheck([o](const Vars& x) { return sdpa(x[0], x[1], x[2], o); }, in);
  // self-attention on one (B, L, H·d) input
  expect_gradcheck([o](const Vars& x) { return sdpa(x[0], x[0], x[0], o); }, {uniform({2, 4, 4}, 88, -1, 1)});
}

TEST(AttentionHeads, OneAndThreeThreadsGiveTheSameBits) {
  const Tensor q = uniform({4, 24, 4 * 8}, 89, -1, 1), k = uniform({4, 24, 4 * 8}, 90, -1, 1),
               v = uniform({4, 24, 4 * 8}, 91, -1, 1), w = uniform({4, 24, 4 * 8}, 92, -1, 1);
  Options o;
  o.heads = 4;
  o.causal = true;
  const auto run = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    const Vars x{Variable::parameter(q), Variable::parameter(k), Variable::parameter(v)};
    const Variable y = sdpa(x[0], x[1], x[2], o);
    xtgrad::sum(y * Variable(w)).backward();
    return std::vector<Tensor>{y.value(), x[0].grad(), x[1].grad(), x[2].grad()};
  };
  const std::vector<Tensor> one = run(1), three = run(3);
  for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(three[i], one[i], 0.0);
}

// ---- a transformer block with no reshape, permute or where ----------------------------------------

// Pre-norm causal self-attention block on x (B, L, C) with H heads, then a ReLU MLP, each with a
// residual: every op works on (B, L, ·) as it comes (Linear folds (B, L) into its rows).
// v: x, then γ1, β1, Wq, bq, Wk, bk, Wv, bv, Wo, bo, γ2, β2, W1, b1, W2, b2.
Variable transformer_block(const Vars& v, std::size_t heads) {
  using xtgrad::layer_norm;
  using xtgrad::linear;
  Options o;
  o.causal = true;
  o.heads = heads;
  const Variable h = layer_norm(v[0], v[1], v[2]);
  const Variable a = sdpa(linear(h, v[3], v[4]), linear(h, v[5], v[6]), linear(h, v[7], v[8]), o);
  const Variable x1 = v[0] + linear(a, v[9], v[10]);
  return x1 + linear(xtgrad::relu(linear(layer_norm(x1, v[11], v[12]), v[13], v[14])), v[15], v[16]);
}

std::vector<Tensor> block_inputs(std::size_t b, std::size_t l, std::size_t c, std::uint64_t seed) {
  std::vector<Tensor> in{uniform({b, l, c}, seed, -1, 1), uniform({c}, seed + 1, 0.5, 1.5), uniform({c}, seed + 2, -0.5, 0.5)};
  for (int i = 0; i < 4; ++i) {
    in.push_back(uniform({c, c}, seed + 3 + 2 * i, -0.6, 0.6));
    in.push_back(uniform({c}, seed + 4 + 2 * i, -0.2, 0.2));
  }
  in.push_back(uniform({c}, seed + 11, 0.5, 1.5));
  in.push_back(uniform({c}, seed + 12, -0.5, 0.5));
  in.push_back(uniform({2 * c, c}, seed + 13, -0.6, 0.6));  // Linear weights (out, in)
  in.push_back(uniform({2 * c}, seed + 14, 0.05, 0.2));  // keeps most ReLU inputs off the kink
  in.push_back(uniform({c, 2 * c}, seed + 15, -0.6, 0.6));
  in.push_back(uniform({c}, seed + 16, -0.2, 0.2));
  return in;
}

TEST(TransformerBlock, HasNoReshapePermuteOrWhereAndPassesGradcheck) {
  const std::vector<Tensor> in = block_inputs(2, 3, 4, 100);
  Vars v;
  for (const Tensor& t : in) v.push_back(Variable::parameter(t));
  const Variable y = transformer_block(v, 2);
  EXPECT_EQ(xtgrad::shape_str(y.value()), "(2, 3, 4)");
  // every op of the graph, by a walk from the output
  std::vector<const Node*> stack{y.node().get()}, seen;
  std::vector<std::string> ops;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
    seen.push_back(n);
    ops.emplace_back(n->op);
    for (const auto& p : n->parents) stack.push_back(p.get());
  }
  for (const char* copy : {"reshape", "permute", "swap_axes", "transpose", "where", "matmul_nd", "softmax"}) {
    EXPECT_EQ(std::count(ops.begin(), ops.end(), std::string(copy)), 0) << copy;
  }
  EXPECT_EQ(std::count(ops.begin(), ops.end(), std::string("scaled_dot_product_attention")), 1);
  expect_gradcheck([](const Vars& x) { return transformer_block(x, 2); }, in);
}

TEST(TransformerBlock, OneAndTwoThreadsAgree) {
  const std::vector<Tensor> in = block_inputs(8, 16, 32, 200);
  const Tensor w = uniform({8, 16, 32}, 300, -1, 1);
  const auto run = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    Vars v;
    for (const Tensor& t : in) v.push_back(Variable::parameter(t));
    const Variable y = transformer_block(v, 4);
    xtgrad::sum(y * Variable(w)).backward();
    std::vector<Tensor> out{y.value()};
    for (const Variable& p : v) out.push_back(p.grad());
    return out;
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  // gemm may split the Linear products across threads (BLAS tile edges): float noise at most
  for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(two[i], one[i], 1e-12);
}

TEST(Attention, ErrorsNameTheOpAndTheShapes) {
  const Variable q(Tensor::from_shape({2, 3, 4})), k(Tensor::from_shape({2, 5, 4})), v(Tensor::from_shape({2, 5, 6}));
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, Variable(Tensor::from_shape({2, 5, 3})), v); },
                                            {"scaled_dot_product_attention", "(2, 3, 4)", "(2, 5, 3)", "(2, 5, 6)"});
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, Variable(Tensor::from_shape({2, 4, 6}))); },
                                            {"scaled_dot_product_attention", "keys", "(2, 5, 4)", "(2, 4, 6)"});
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, Variable(Tensor::from_shape({3, 5, 4})), v); },
                                            {"scaled_dot_product_attention", "leading", "(2, 3, 4)", "(3, 5, 4)"});
  expect_throws_with<std::invalid_argument>([&] { sdpa(Variable(Tensor::from_shape({4})), k, v); },
                                            {"scaled_dot_product_attention", "(4)"});
  Options o;
  o.mask = Tensor::from_shape({3, 4});
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, v, o); },
                                            {"scaled_dot_product_attention", "mask (3, 4)", "(2, 3, 5)"});
  o.mask = Tensor::from_shape({1, 1, 3, 5});
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, v, o); },
                                            {"scaled_dot_product_attention", "mask (1, 1, 3, 5)"});
  Options h;
  h.heads = 3;
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, v, h); },
                                            {"scaled_dot_product_attention", "3 heads", "multiples", "(2, 3, 4)"});
  h.heads = 2;
  h.mask = Tensor::from_shape({3, 1, 1});
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, v, h); },
                                            {"scaled_dot_product_attention", "mask (3, 1, 1)", "(2, 2, 3, 5)"});
  Options d;
  d.dropout_p = 0.5;
  expect_throws_with<std::invalid_argument>([&] { sdpa(q, k, v, d); }, {"scaled_dot_product_attention", "dropout_p", "rng"});
}

}  // namespace
}  // namespace xtgrad_test
