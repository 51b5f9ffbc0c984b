// conv2d and the pooling ops: hand-computed values, agreement with a direct loop for every
// option (stride, padding, dilation, groups, no bias), double-precision gradient checks for
// each class of arguments, shape errors; the Conv2d / pooling modules and a small conv net
// that learns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Conv2dOptions;
using xtgrad::Pool2dOptions;
using xtgrad::Rng;
using xtgrad::Shape;
using xtgrad::Size2;
using xtgrad_test::Scalar;
using xtgrad_test::Tensor;
using xtgrad_test::Variable;
using xtgrad_test::expect_gradcheck;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;
using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;
using xtgrad_test::uniform;
using Vars = std::vector<Variable>;

// x (1, 1, 3, 3) = 1..9 and w (1, 1, 2, 2) = [[1, 2], [3, 4]].
Tensor x33() { return make_tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }
Tensor w22() { return make_tensor({1, 1, 2, 2}, {1, 2, 3, 4}); }

TEST(Conv2d, ValidCorrelationWithBias) {
  // y[p, q] = x[p, q] + 2x[p, q+1] + 3x[p+1, q] + 4x[p+1, q+1] + 0.5
  const Tensor y = xtgrad::conv2d(Variable(x33()), Variable(w22()), Variable(Tensor({0.5}))).value();
  expect_values(y, {1, 1, 2, 2}, {37.5, 47.5, 67.5, 77.5});
}

TEST(Conv2d, StrideTwoWithPaddingOne) {
  // Windows start at rows/cols −1 and 1; the padding contributes zeros.
  Conv2dOptions o;
  o.stride = {2, 2};
  o.padding = {1, 1};
  const Tensor y = xtgrad::conv2d(Variable(x33()), Variable(w22()), o).value();
  expect_values(y, {1, 1, 2, 2}, {4, 3 * 2 + 4 * 3, 2 * 4 + 4 * 7, 5 + 12 + 24 + 36});
}

TEST(Conv2d, DilationTwoReadsTheCorners) {
  Conv2dOptions o;
  o.dilation = {2, 2};
  const Tensor y = xtgrad::conv2d(Variable(x33()), Variable(w22()), o).value();
  expect_values(y, {1, 1, 1, 1}, {1 * 1 + 2 * 3 + 3 * 7 + 4 * 9});
}

TEST(Conv2d, GroupsConvolveTheirOwnChannels) {
  // Two groups of one channel, 1×1 kernels 2 and −1.
  const Tensor x = make_tensor({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Conv2dOptions o;
  o.groups = 2;
  const Tensor y = xtgrad::conv2d(Variable(x), Variable(make_tensor({2, 1, 1, 1}, {2, -1})), o).value();
  expect_values(y, {1, 2, 2, 2}, {2, 4, 6, 8, -5, -6, -7, -8});
}

TEST(Conv2d, OneByOneKernelMixesChannels) {
  const Tensor x = make_tensor({1, 2, 1, 2}, {1, 2, 3, 4});
  const Tensor y = xtgrad::conv2d(Variable(x), Variable(make_tensor({1, 2, 1, 1}, {1, 10}))).value();
  expect_values(y, {1, 1, 1, 2}, {31, 42});
}

// The definition, looped directly: y[n,o,p,q] = b[o] + Σ w[o,c,i,j]·x[n, g·cg + c, p·s − pad + i·d, q·s − pad + j·d].
Tensor direct_conv(const Tensor& x, const Tensor& w, const Tensor* b, const Conv2dOptions& o) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const std::size_t oc = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::size_t og = oc / o.groups;
  const std::size_t oh = (h + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0] + 1;
  const std::size_t ow = (wd + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1] + 1;
  Tensor y = Tensor::from_shape({n, oc, oh, ow});
  (void)c;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t f = 0; f < oc; ++f)
      for (std::size_t p = 0; p < oh; ++p)
        for (std::size_t q = 0; q < ow; ++q) {
          double acc = b ? (*b)(f) : 0.0;
          for (std::size_t ch = 0; ch < cg; ++ch)
            for (std::size_t i = 0; i < kh; ++i)
              for (std::size_t j = 0; j < kw; ++j) {
                const long iy = long(p * o.stride[0] + i * o.dilation[0]) - long(o.padding[0]);
                const long ix = long(q * o.stride[1] + j * o.dilation[1]) - long(o.padding[1]);
                if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(wd)) continue;
                acc += w(f, ch, i, j) * x(s, (f / og) * cg + ch, std::size_t(iy), std::size_t(ix));
              }
          y(s, f, p, q) = acc;
        }
  return y;
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dOptions options;
  bool bias;
};

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases;
  cases.push_back({"plain 3x3 with bias", {2, 3, 5, 6}, {4, 3, 3, 3}, {}, true});
  Conv2dOptions strided;
  strided.stride = {2, 3};
  cases.push_back({"stride (2, 3)", {2, 2, 7, 8}, {3, 2, 3, 2}, strided, true});
  Conv2dOptions padded;
  padded.padding = {1, 2};
  cases.push_back({"padding (1, 2), no bias", {1, 2, 4, 4}, {2, 2, 3, 3}, padded, false});
  Conv2dOptions dilated;
  dilated.dilation = {2, 1};
  dilated.padding = {1, 1};
  cases.push_back({"dilation (2, 1) with padding", {2, 2, 6, 5}, {2, 2, 2, 3}, dilated, true});
  Conv2dOptions grouped;
  grouped.groups = 2;
  grouped.stride = {2, 2};
  grouped.padding = {1, 1};
  cases.push_back({"groups 2, stride 2, padding 1", {2, 4, 5, 5}, {6, 2, 3, 3}, grouped, true});
  Conv2dOptions depthwise;
  depthwise.groups = 3;
  cases.push_back({"depthwise (groups = channels)", {1, 3, 4, 4}, {3, 1, 2, 2}, depthwise, false});
  cases.push_back({"1x1 kernel", {2, 3, 3, 4}, {5, 3, 1, 1}, {}, true});
  return cases;
}

TEST(Conv2d, AgreesWithTheDirectLoopForEveryOptionClass) {
  std::uint64_t seed = 100;
  for (const ConvCase& c : conv_cases()) {
    const Tensor x = uniform(c.x, seed++, -1.0, 1.0), w = uniform(c.w, seed++, -1.0, 1.0);
    const Tensor b = uniform({c.w[0]}, seed++, -1.0, 1.0);
    const Tensor y = c.bias ? xtgrad::conv2d(Variable(x), Variable(w), Variable(b), c.options).value()
                            : xtgrad::conv2d(Variable(x), Variable(w), c.options).value();
    SCOPED_TRACE(c.name);
    expect_tensor_near(y, direct_conv(x, w, c.bias ? &b : nullptr, c.options), 1e-12);
  }
}

TEST(Conv2d, PassesGradcheckForEveryOptionClass) {
  std::uint64_t seed = 200;
  for (const ConvCase& c : conv_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs{uniform(c.x, seed++, -1.0, 1.0), uniform(c.w, seed++, -1.0, 1.0)};
    if (c.bias) inputs.push_back(uniform({c.w[0]}, seed++, -1.0, 1.0));
    const Conv2dOptions o = c.options;
    expect_gradcheck(
        [o](const Vars& v) { return v.size() == 3 ? xtgrad::conv2d(v[0], v[1], v[2], o) : xtgrad::conv2d(v[0], v[1], o); },
        inputs);
  }
}

// ---- the direct kernel (few input channels, stride 1) -----------------------------------------

struct DirectCase {
  Shape x, w;
  std::size_t pad;
  bool bias;
};
// first-layer shapes, output widths on and off the SIMD width, output channels in and beyond one
// register block (8), batches over one dW block (8 samples)
std::vector<DirectCase> direct_cases() {
  return {{{2, 1, 28, 28}, {6, 1, 5, 5}, 2, true}, {{9, 1, 7, 11}, {10, 1, 3, 3}, 1, true},
          {{3, 2, 6, 9}, {3, 2, 3, 3}, 0, false},  {{2, 1, 5, 5}, {1, 1, 5, 5}, 2, true},
          {{1, 3, 4, 17}, {17, 3, 2, 4}, 1, true}};
}

// y, dx, dw[, db] of conv2d with `kernel`, backward from a fixed upstream.
std::vector<Tensor> conv_with_kernel(const DirectCase& c, xtgrad::Conv2dKernel kernel, std::uint64_t seed) {
  Variable x(uniform(c.x, seed, -1, 1), true), w(uniform(c.w, seed + 1, -1, 1), true);
  Variable b(uniform({c.w[0]}, seed + 2, -1, 1), true);
  Conv2dOptions o;
  o.padding = {c.pad, c.pad};
  o.kernel = kernel;
  Variable y = c.bias ? xtgrad::conv2d(x, w, b, o) : xtgrad::conv2d(x, w, o);
  y.backward(uniform(xtgrad::shape_of(y.value()), seed + 3, -1, 1));
  std::vector<Tensor> out{y.value(), x.grad(), w.grad()};
  if (c.bias) out.push_back(b.grad());
  return out;
}

TEST(Conv2dDirect, ValuesAndGradientsAgreeWithIm2col) {
  std::uint64_t seed = 500;
  for (const DirectCase& c : direct_cases()) {
    SCOPED_TRACE(xtgrad::shape_str(c.x) + " * " + xtgrad::shape_str(c.w));
    const auto direct = conv_with_kernel(c, xtgrad::Conv2dKernel::direct, seed);
    const auto im2col = conv_with_kernel(c, xtgrad::Conv2dKernel::im2col, seed);
    seed += 4;
    ASSERT_EQ(direct.size(), im2col.size());
    for (std::size_t i = 0; i < direct.size(); ++i) expect_tensor_near(direct[i], im2col[i], 1e-12);
  }
}

// im2col and col2im move each output row as SIMD batches, the last one overlapping the one
// before it: every output width from 1 to 20 (below, at and across the 8-float and 4-double
// batches), padded or not, in float and double, against the direct kernel (its y, dx and dW are
// separate loops).
template <class T>
void expect_im2col_rows_match_direct() {
  using TensorT = xtgrad::TensorOf<T>;
  using VariableT = xtgrad::BasicVariable<T>;
  const T tol = std::is_same_v<T, float> ? T(2e-5) : T(1e-12);
  std::uint64_t seed = 540;
  for (std::size_t ow = 1; ow <= 20; ++ow) {
    for (std::size_t pad = 0; pad <= 2; ++pad) {
      if (ow + 2 < 1 + 2 * pad) continue;  // input width ow + 2 − 2·pad ≥ 1
      const Shape xs{2, 2, 5, ow + 2 - 2 * pad}, ws{5, 2, 3, 3};  // 5 output channels: a four and a one
      SCOPED_TRACE("output width " + std::to_string(ow) + ", padding " + std::to_string(pad));
      Rng rng(seed++);
      const TensorT xv = xtgrad::rand_uniform<T>(xs, rng, -1, 1), wv = xtgrad::rand_uniform<T>(ws, rng, -1, 1);
      std::vector<TensorT> got[2];
      for (int k = 0; k < 2; ++k) {
        Conv2dOptions o;
        o.padding = {pad, pad};
        o.kernel = k == 0 ? xtgrad::Conv2dKernel::direct : xtgrad::Conv2dKernel::im2col;
        VariableT x(xv, true), w(wv, true);
        VariableT y = xtgrad::conv2d(x, w, o);
        Rng up(7);
        y.backward(xtgrad::rand_uniform<T>(xtgrad::shape_of(y.value()), up, -1, 1));
        got[k] = {y.value(), x.grad(), w.grad()};
      }
      for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_EQ(got[0][i].shape(), got[1][i].shape());
        EXPECT_LE(double(xt::amax(xt::abs(got[0][i] - got[1][i]))()), double(tol)) << "output " << i;
      }
    }
  }
}

TEST(Conv2d, Im2colRowsOfEveryWidthMatchTheDirectKernel) {
  expect_im2col_rows_match_direct<float>();
  expect_im2col_rows_match_direct<double>();
}

TEST(Conv2dDirect, PassesGradcheck) {
  Conv2dOptions o;
  o.padding = {1, 1};
  o.kernel = xtgrad::Conv2dKernel::direct;
  expect_gradcheck([o](const Vars& v) { return xtgrad::conv2d(v[0], v[1], v[2], o); },
                   {uniform({3, 1, 5, 11}, 520, -1, 1), uniform({9, 1, 3, 3}, 521, -1, 1), uniform({9}, 522, -1, 1)});
  Conv2dOptions p;
  p.padding = {2, 0};
  p.kernel = xtgrad::Conv2dKernel::direct;
  expect_gradcheck([p](const Vars& v) { return xtgrad::conv2d(v[0], v[1], p); },
                   {uniform({2, 2, 4, 6}, 523, -1, 1), uniform({3, 2, 2, 3}, 524, -1, 1)});
}

TEST(Conv2dDirect, AutomaticChoiceTakesItForAFirstLayerOnly) {
  // a first layer (x needs no gradient, K = C·kh·kw ≤ 25, stride 1): the direct kernel's bits;
  // the same layer with x needing a gradient: im2col's
  const Tensor xv = uniform({4, 1, 12, 12}, 530, -1, 1), wv = uniform({6, 1, 5, 5}, 531, -1, 1);
  Conv2dOptions automatic, direct, im2col;
  automatic.padding = direct.padding = im2col.padding = {2, 2};
  direct.kernel = xtgrad::Conv2dKernel::direct;
  im2col.kernel = xtgrad::Conv2dKernel::im2col;
  const Variable w(wv, true);
  const Tensor first = xtgrad::conv2d(Variable(xv), w, automatic).value();
  EXPECT_TRUE(first == xtgrad::conv2d(Variable(xv), w, direct).value());
  const Tensor inner = xtgrad::conv2d(Variable(xv, true), w, automatic).value();
  EXPECT_TRUE(inner == xtgrad::conv2d(Variable(xv, true), w, im2col).value());
}

TEST(Conv2dDirect, ForcedWhereItDoesNotApplyNamesTheKernelAndTheOption) {
  const Variable x(Tensor::from_shape({1, 1, 6, 6})), w(Tensor::from_shape({2, 1, 3, 3}));
  Conv2dOptions o;
  o.stride = {2, 2};
  o.kernel = xtgrad::Conv2dKernel::direct;
  expect_throws_with<std::invalid_argument>([&] { xtgrad::conv2d(x, w, o); },
                                            {"conv2d", "direct kernel", "stride (2, 2)", "(1, 1, 6, 6)"});
}

TEST(Conv2d, ChunksOfSamplesGiveWhatOneSampleAtATimeGives) {
  // K·L = (16·5·5)·(64·64) = 1,638,400: the 2²²-element im2col budget takes 2 of the 3
  // samples per gemm, then the last one alone. Value, dx and dW must match per-sample runs.
  const Tensor x = uniform({3, 16, 64, 64}, 400, -1, 1), w = uniform({2, 16, 5, 5}, 401, -1, 1);
  const Tensor b = uniform({2}, 402, -1, 1), up = uniform({3, 2, 64, 64}, 403, -1, 1);
  Conv2dOptions o;
  o.padding = {2, 2};
  const Variable xb = Variable::parameter(x), wb = Variable::parameter(w), bb = Variable::parameter(b);
  const Variable y = xtgrad::conv2d(xb, wb, bb, o);
  y.backward(up);
  Tensor dw_sum = xtgrad::nn::zeros({2, 16, 5, 5});
  for (std::size_t i = 0; i < 3; ++i) {
    auto sample = [i](const Tensor& t) {  // t[i : i+1]
      Tensor s = Tensor::from_shape({1, t.shape()[1], t.shape()[2], t.shape()[3]});
      std::copy(t.data() + i * s.size(), t.data() + (i + 1) * s.size(), s.data());
      return s;
    };
    const Variable xi = Variable::parameter(sample(x)), wi = Variable::parameter(w);
    const Variable yi = xtgrad::conv2d(xi, wi, Variable(b), o);
    yi.backward(sample(up));
    expect_tensor_near(sample(y.value()), yi.value(), 1e-11);
    expect_tensor_near(sample(xb.grad()), xi.grad(), 1e-11);
    dw_sum += wi.grad();
  }
  expect_tensor_near(wb.grad(), dw_sum, 1e-10);
  expect_tensor_near(direct_conv(x, w, &b, o), y.value(), 1e-10);
}

TEST(Conv2d, GradientAccumulatesWhenAnInputIsUsedTwice) {
  // y = conv(x, w) + conv(x, w): every gradient is twice that of one conv.
  const Tensor x = uniform({1, 2, 4, 4}, 300, -1, 1), w = uniform({2, 2, 3, 3}, 301, -1, 1);
  Conv2dOptions o;
  o.padding = {1, 1};
  expect_gradcheck([o](const Vars& v) { return xtgrad::conv2d(v[0], v[1], o) + xtgrad::conv2d(v[0], v[1], o); },
                   {x, w});
}

TEST(Conv2d, ShapeErrorsNameTheOpAndTheShapes) {
  const Variable x(uniform({1, 3, 5, 5}, 1, -1, 1));
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::conv2d(x, Variable(uniform({2, 2, 3, 3}, 2, -1, 1))); },
      {"conv2d", "(1, 3, 5, 5)", "(2, 2, 3, 3)", "input channels"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::conv2d(Variable(uniform({3, 5, 5}, 3, -1, 1)), x); },
                                            {"conv2d", "(N, C, H, W)", "(3, 5, 5)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::conv2d(x, Variable(uniform({2, 3, 7, 7}, 4, -1, 1))); },
                                            {"conv2d", "larger than the padded input"});
  Conv2dOptions g;
  g.groups = 2;
  expect_throws_with<std::invalid_argument>([&] { xtgrad::conv2d(x, Variable(uniform({2, 1, 3, 3}, 5, -1, 1)), g); },
                                            {"conv2d", "divisible by groups", "groups 2"});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::conv2d(x, Variable(uniform({2, 3, 3, 3}, 6, -1, 1)), Variable(Tensor({1.0, 2.0, 3.0}))); },
      {"conv2d", "bias", "(2)", "(3)"});
  Conv2dOptions s;
  s.stride = {0, 1};
  expect_throws_with<std::invalid_argument>([&] { xtgrad::conv2d(x, Variable(uniform({2, 3, 3, 3}, 7, -1, 1)), s); },
                                            {"conv2d", "stride"});
}

// ---- pooling -------------------------------------------------------------------------------

Tensor x44() { return make_tensor({1, 1, 4, 4}, {1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 3, 3, 9, 1, 4, 6}); }

TEST(MaxPool2d, TwoByTwoWindows) {
  Pool2dOptions o;
  expect_values(xtgrad::max_pool2d(Variable(x44()), o).value(), {1, 1, 2, 2}, {5, 8, 9, 6});
}

TEST(MaxPool2d, PaddingNeverWinsAndStrideOverlaps) {
  // kernel 3, stride 2, padding 1: windows rows/cols {−1..1} and {1..3}; all inputs negative.
  Tensor x = x44();
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = -1 - x.data()[i];
  Pool2dOptions o{{3, 3}, {2, 2}, {1, 1}};
  expect_values(xtgrad::max_pool2d(Variable(x), o).value(), {1, 1, 2, 2}, {-2, -1, -1, -2});
  const Tensor y = xtgrad::max_pool2d(Variable(x44()), o).value();
  expect_values(y, {1, 1, 2, 2}, {5, 8, 9, 8});
}

TEST(MaxPool2d, GradientGoesToTheFirstMaximumOfEachWindow) {
  const Variable x = Variable::parameter(make_tensor({1, 1, 2, 4}, {3, 3, 1, 2, 0, 1, 2, 1}));
  Pool2dOptions o;
  xtgrad::sum(xtgrad::max_pool2d(x, o)).backward();
  // Window 1 holds 1, 2 / 2, 1: the first 2 in row-major order is (0, 3).
  expect_values(x.grad(), {1, 1, 2, 4}, {1, 0, 0, 1, 0, 0, 0, 0});
}

// dx of a 2×2, stride-2 max pool by definition: each window's dy goes to its first maximum in
// row-major order; the odd last row and column get nothing.
Tensor max_pool_2x2_grad_reference(const Tensor& x, const Tensor& gy) {
  const std::size_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const std::size_t oh = h / 2, ow = w / 2;
  Tensor dx = Tensor::from_shape(x.shape());
  std::fill(dx.begin(), dx.end(), Scalar(0));
  for (std::size_t p = 0; p < planes; ++p) {
    for (std::size_t oy = 0; oy < oh; ++oy) {
      for (std::size_t ox = 0; ox < ow; ++ox) {
        std::size_t best = p * h * w + 2 * oy * w + 2 * ox;
        for (std::size_t k = 0; k < 4; ++k) {
          const std::size_t i = p * h * w + (2 * oy + k / 2) * w + 2 * ox + k % 2;
          if (x.data()[i] > x.data()[best]) best = i;
        }
        dx.data()[best] += gy.data()[(p * oh + oy) * ow + ox];
      }
    }
  }
  return dx;
}

TEST(MaxPool2d, TwoByTwoGradientOfOddAndEvenPlanesWithTies) {
  // Values from {0, 1, 2} tie often; planes of odd and even sizes leave a last row and column
  // out of every window, or none. The first backward overwrites dx in one pass, the second adds
  // to it (the input used twice).
  for (const auto& [h, w] : std::vector<std::pair<std::size_t, std::size_t>>{{4, 6}, {5, 7}, {7, 4}, {2, 9}, {28, 28}}) {
    Tensor xv = uniform({3, 2, h, w}, 600 + h * w, 0, 3);
    for (Scalar& v : xv) v = std::floor(v);
    const Tensor g1 = uniform({3, 2, h / 2, w / 2}, 700 + h, -1, 1), g2 = uniform({3, 2, h / 2, w / 2}, 800 + w, -1, 1);
    const Variable x = Variable::parameter(xv);
    const Variable y = xtgrad::sum(xtgrad::max_pool2d(x, 2) * Variable(g1)) + xtgrad::sum(xtgrad::max_pool2d(x, 2) * Variable(g2));
    y.backward();
    Tensor expected = max_pool_2x2_grad_reference(xv, g1);
    expected += max_pool_2x2_grad_reference(xv, g2);
    SCOPED_TRACE("plane " + std::to_string(h) + "x" + std::to_string(w));
    expect_tensor_near(x.grad(), expected, 1e-6);
  }
}

TEST(MaxPool2d, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::max_pool2d(v[0], Pool2dOptions{{2, 2}, {0, 0}, {0, 0}}); },
                   {uniform({2, 3, 4, 6}, 10, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::max_pool2d(v[0], Pool2dOptions{{3, 2}, {2, 1}, {1, 1}}); },
                   {uniform({1, 2, 5, 5}, 11, -1, 1)});
}

TEST(AvgPool2d, MeansWithPaddedZerosCounted) {
  Pool2dOptions o;
  expect_values(xtgrad::avg_pool2d(Variable(x44()), o).value(), {1, 1, 2, 2}, {13 / 4.0, 11 / 4.0, 12 / 4.0, 16 / 4.0});
  // kernel 2, stride 2, padding 1 on 1..9 (3×3): corner windows hold one input, count 4.
  Pool2dOptions p{{2, 2}, {2, 2}, {1, 1}};
  expect_values(xtgrad::avg_pool2d(Variable(x33()), p).value(), {1, 1, 2, 2},
                {1 / 4.0, (2 + 3) / 4.0, (4 + 7) / 4.0, (5 + 6 + 8 + 9) / 4.0});
}

TEST(AvgPool2d, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::avg_pool2d(v[0], Pool2dOptions{{2, 3}, {1, 2}, {1, 1}}); },
                   {uniform({2, 2, 5, 6}, 12, -1, 1)});
}

TEST(AdaptiveAvgPool2d, BinsOverlapWhenTheSizeDoesNotDivide) {
  // 5 columns into 3 bins: [0, 2), [1, 4), [3, 5); 1 row into 1.
  const Tensor x = make_tensor({1, 1, 1, 5}, {1, 2, 3, 4, 5});
  expect_values(xtgrad::adaptive_avg_pool2d(Variable(x), {1, 3}).value(), {1, 1, 1, 3}, {1.5, 3, 4.5});
  // Global average pooling.
  expect_values(xtgrad::adaptive_avg_pool2d(Variable(x44()), {1, 1}).value(), {1, 1, 1, 1}, {52 / 16.0});
}

TEST(AdaptiveAvgPool2d, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::adaptive_avg_pool2d(v[0], {2, 3}); },
                   {uniform({2, 2, 5, 7}, 13, -1, 1)});
}

TEST(Pooling, ShapeErrorsNameTheOpAndTheShapes) {
  const Variable x(uniform({1, 1, 4, 4}, 14, -1, 1));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::max_pool2d(Variable(uniform({4, 4}, 15, -1, 1)), {}); },
                                            {"max_pool2d", "(4, 4)", "(N, C, H, W)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::avg_pool2d(x, Pool2dOptions{{5, 5}, {1, 1}, {0, 0}}); },
                                            {"avg_pool2d", "(1, 1, 4, 4)", "larger"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::max_pool2d(x, Pool2dOptions{{2, 2}, {1, 1}, {2, 2}}); },
                                            {"max_pool2d", "half the kernel"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::adaptive_avg_pool2d(x, {0, 2}); },
                                            {"adaptive_avg_pool2d", "(1, 1, 4, 4)"});
}

// ---- modules -------------------------------------------------------------------------------

// issue 22 §3.4: the short forms compile and equal the options forms; one conv options struct.
TEST(Pooling, ShortFormsEqualTheOptionsForms) {
  Rng rng(7);
  const Variable x(xtgrad::randn<Scalar>({2, 3, 7, 7}, rng));
  const auto same = [](const Variable& a, const Variable& b) { expect_tensor_near(a.value(), b.value(), 0.0); };
  same(xtgrad::max_pool2d(x, 2), xtgrad::max_pool2d(x, Pool2dOptions{{2, 2}}));
  same(xtgrad::avg_pool2d(x, 2), xtgrad::avg_pool2d(x, Pool2dOptions{{2, 2}}));
  same(xtgrad::max_pool2d(x, 3, 2, 1), xtgrad::max_pool2d(x, Pool2dOptions{{3, 3}, {2, 2}, {1, 1}}));
  same(xtgrad::avg_pool2d(x, 3, 1), xtgrad::avg_pool2d(x, Pool2dOptions{{3, 3}, {1, 1}}));
  same(xtgrad::max_pool2d(x, Pool2dOptions(2)), xtgrad::max_pool2d(x, Pool2dOptions{}));
  EXPECT_EQ(xtgrad::max_pool2d(x, 2).shape(), (Shape{2, 3, 3, 3}));
}

TEST(Conv2dOptions, OneStructWithChainableSetters) {
  const Conv2dOptions o = Conv2dOptions().set_stride(2).set_padding(Size2{1, 0}).set_dilation(1).set_groups(3).set_bias(false);
  EXPECT_EQ(o.stride, (Size2{2, 2}));
  EXPECT_EQ(o.padding, (Size2{1, 0}));
  EXPECT_EQ(o.groups, 3u);
  EXPECT_FALSE(o.bias);
  static_assert(std::is_same_v<xtgrad::nn::Conv2dOptions, Conv2dOptions>);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  static_assert(std::is_same_v<xtgrad::nn::Conv2dConfig, Conv2dOptions>);  // the old name, deprecated
#pragma GCC diagnostic pop
  Rng rng(8);
  xtgrad::nn::BasicConv2d<Scalar> conv(3, 6, 3, rng, Conv2dOptions().set_padding(1).set_groups(3).set_bias(false));
  EXPECT_FALSE(conv.bias.defined());
  const Variable x(xtgrad::randn<Scalar>({1, 3, 5, 5}, rng));
  expect_tensor_near(conv(x).value(), xtgrad::conv2d(x, conv.weight, Conv2dOptions().set_padding(1).set_groups(3)).value(), 0.0);
}

TEST(Conv2dModule, ShapesInitAndForwardEqualTheOp) {
  Rng rng(20);
  xtgrad::nn::Conv2dOptions config;
  config.padding = {1, 1};
  config.groups = 2;
  xtgrad::nn::BasicConv2d<Scalar> conv(4, 6, 3, rng, config);
  EXPECT_EQ(xtgrad::shape_str(conv.weight.value()), "(6, 2, 3, 3)");
  EXPECT_EQ(xtgrad::shape_str(conv.bias.value()), "(6)");
  EXPECT_EQ(conv.parameter_count(), std::size_t(6 * 2 * 9 + 6));
  const double bound = 1.0 / std::sqrt(18.0);
  for (std::size_t i = 0; i < conv.weight.size(); ++i) EXPECT_LE(std::abs(conv.weight.value().data()[i]), bound);
  const Variable x(uniform({2, 4, 5, 5}, 21, -1, 1));
  Conv2dOptions o;
  o.padding = {1, 1};
  o.groups = 2;
  expect_tensor_near(conv(x).value(), xtgrad::conv2d(x, conv.weight, conv.bias, o).value(), 0.0);
  config.bias = false;
  xtgrad::nn::BasicConv2d<Scalar> plain(4, 6, Size2{3, 1}, rng, config);
  EXPECT_FALSE(plain.bias.defined());
  EXPECT_EQ(plain.named_parameters().size(), 1u);
  EXPECT_EQ(xtgrad::shape_str(plain(x).value()), "(2, 6, 5, 7)");
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::BasicConv2d<Scalar>(3, 4, 3, rng, config); }, {"Conv2d", "groups 2"});
}

TEST(PoolModules, EqualTheirOps) {
  const Variable x(uniform({2, 3, 6, 6}, 22, -1, 1));
  expect_tensor_near(xtgrad::nn::BasicMaxPool2d<Scalar>(2)(x).value(), xtgrad::max_pool2d(x, Pool2dOptions{}).value(), 0.0);
  expect_tensor_near(xtgrad::nn::BasicMaxPool2d<Scalar>(3, 2, 1)(x).value(),
                     xtgrad::max_pool2d(x, Pool2dOptions{{3, 3}, {2, 2}, {1, 1}}).value(), 0.0);
  expect_tensor_near(xtgrad::nn::BasicAvgPool2d<Scalar>(Size2{2, 3})(x).value(),
                     xtgrad::avg_pool2d(x, Pool2dOptions{{2, 3}, {0, 0}, {0, 0}}).value(), 0.0);
  expect_tensor_near(xtgrad::nn::BasicAdaptiveAvgPool2d<Scalar>(1)(x).value(), xtgrad::adaptive_avg_pool2d(x, {1, 1}).value(), 0.0);
}

// Images 6×6 with one bright bar: class 0 a vertical bar, class 1 a horizontal one, at a
// random place, plus noise. Labels as class indices (n), inputs (n, 1, 6, 6).
xtgrad::nn::BasicDataset<Scalar> bars(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  xtgrad::nn::BasicDataset<Scalar> d{xtgrad::randn({n, 1, 6, 6}, rng, 0.0, 0.2), Tensor::from_shape({n})};
  std::uniform_int_distribution<int> where(0, 5);
  for (std::size_t i = 0; i < n; ++i) {
    const int at = where(rng);
    const bool horizontal = i % 2 == 1;
    for (int k = 0; k < 6; ++k) {
      if (horizontal) d.inputs(i, 0, at, k) += 1.0;
      else d.inputs(i, 0, k, at) += 1.0;
    }
    d.targets(i) = horizontal ? 1.0 : 0.0;
  }
  return d;
}

TEST(ConvNet, LearnsBarOrientationWithIndexLabels) {
  Rng rng(23);
  xtgrad::nn::BasicSequential<Scalar> net;
  xtgrad::nn::Conv2dOptions same;
  same.padding = {1, 1};
  net.add("conv", xtgrad::nn::BasicConv2d<Scalar>(1, 4, 3, rng, same))
      .add(xtgrad::nn::BasicReLU<Scalar>())
      .add(xtgrad::nn::BasicMaxPool2d<Scalar>(2))
      .add(xtgrad::nn::BasicFlatten<Scalar>())
      .add("fc", xtgrad::nn::BasicLinear<Scalar>(4 * 3 * 3, 2, rng));
  const auto train = bars(200, 24), test = bars(100, 25);
  xtgrad::nn::BasicAdam<Scalar> adam(net.named_parameters(), 0.02);
  xtgrad::nn::BasicFitOptions<Scalar> options;
  options.epochs = 8;
  options.batch_size = 20;
  options.progress_bar = false;
  const auto history = xtgrad::nn::fit(net, adam, train, &test, rng, options);
  EXPECT_GT(history.back().test_accuracy, 0.95);
  EXPECT_LT(history.back().data_loss, history.front().data_loss);
}

}  // namespace

namespace {

// The stride-2 row kernel (max_pool_row_2x2) against the stride-1 2×2 windows
// (window_argmax_inside), which include every stride-2 window: the same values and argmax bits
// in float and double, on values with ties, ±0 and NaN, widths on and off the SIMD width.
template <class T>
void expect_stride_two_rows_match_stride_one(const Shape& shape) {
  using TensorT = xtgrad::TensorOf<T>;
  using VariableT = xtgrad::BasicVariable<T>;
  TensorT x = TensorT::from_shape(shape);
  Rng rng(7);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::uint64_t r = rng() % 23;
    x.data()[i] = r == 0 ? std::numeric_limits<T>::quiet_NaN() : r == 1 ? T(-0.0) : r == 2 ? T(0) : T(int(r % 5) - 2);
  }
  const VariableT a = VariableT::parameter(x), b = VariableT::parameter(x);
  const VariableT y2 = xtgrad::max_pool2d(a, Pool2dOptions{{2, 2}, {2, 2}, {0, 0}});
  const VariableT y1 = xtgrad::max_pool2d(b, Pool2dOptions{{2, 2}, {1, 1}, {0, 0}});
  const std::size_t planes = shape[0] * shape[1], oh = y2.value().shape()[2], ow = y2.value().shape()[3];
  const std::size_t w1 = y1.value().shape()[3], h1 = y1.value().shape()[2];
  // g1: y2's upstream gradient at y1's even positions, 0 elsewhere
  TensorT g2 = TensorT::from_shape(y2.value().shape()), g1 = TensorT::from_shape(y1.value().shape());
  std::fill(g1.data(), g1.data() + g1.size(), T(0));
  std::size_t bad = 0;
  for (std::size_t p = 0; p < planes; ++p) {
    for (std::size_t oy = 0; oy < oh; ++oy) {
      for (std::size_t ox = 0; ox < ow; ++ox) {
        const T v2 = y2.value().data()[(p * oh + oy) * ow + ox];
        const T v1 = y1.value().data()[(p * h1 + 2 * oy) * w1 + 2 * ox];
        bad += std::memcmp(&v1, &v2, sizeof(T)) != 0;
        const T g = T(1 + (p * oh + oy) * ow + ox);
        g2.data()[(p * oh + oy) * ow + ox] = g;
        g1.data()[(p * h1 + 2 * oy) * w1 + 2 * ox] = g;
      }
    }
  }
  EXPECT_EQ(bad, 0u) << "values differ at shape " << xtgrad::shape_str(x);
  y2.backward(g2);
  y1.backward(g1);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(a.grad().data()[i], b.grad().data()[i]) << "dx at " << i << ", shape " << xtgrad::shape_str(x);
  }
}

TEST(MaxPool2d, StrideTwoRowKernelMatchesTheStrideOneWindows) {
  for (const Shape& s : {Shape{2, 3, 8, 8}, Shape{1, 2, 9, 37}, Shape{3, 1, 28, 28}, Shape{1, 1, 6, 2}}) {
    expect_stride_two_rows_match_stride_one<float>(s);
    expect_stride_two_rows_match_stride_one<double>(s);
  }
}

TEST(MaxPool2d, NanWinsItsWindowInBothPaths) {
  const double nan = std::nan("");
  // 2×2 windows (the unrolled path) and 3×3 with stride 1 (the general one).
  const Variable x = Variable::parameter(make_tensor({1, 1, 2, 4}, {1, nan, 5, 6, 3, 2, 7, 8}));
  const Variable y = xtgrad::max_pool2d(x, Pool2dOptions{});
  EXPECT_TRUE(std::isnan(y.value()(0, 0, 0, 0)));
  EXPECT_EQ(y.value()(0, 0, 0, 1), 8.0);
  y.backward(xtgrad_test::filled({1, 1, 1, 2}, 1.0));
  expect_values(x.grad(), {1, 1, 2, 4}, {0, 1, 0, 0, 0, 0, 0, 1});
  const Tensor z = xtgrad::max_pool2d(Variable(make_tensor({1, 1, 3, 3}, {1, 2, 3, 4, nan, 6, 7, 8, 9})),
                                      Pool2dOptions{{3, 3}, {1, 1}, {1, 1}})
                       .value();
  EXPECT_TRUE(std::isnan(z(0, 0, 1, 1)));
  EXPECT_TRUE(std::isnan(z(0, 0, 0, 0)));
}

}  // namespace

namespace {

// backward(create_graph) leaves x a gradient with history whose value is the plain backward's
// (second derivatives: tests/ops/test_gradgradcheck_conv.cpp).
TEST(ConvAndPooling, CreateGraphGradientHasHistoryAndTheSameValue) {
  const Tensor xt = uniform({1, 2, 4, 4}, 500, -1, 1);
  Variable w = Variable::parameter(uniform({3, 2, 2, 2}, 501, -1, 1));
  const std::vector<std::pair<const char*, std::function<Variable(const Variable&)>>> ops{
      {"conv2d", [&](const Variable& x) { return xtgrad::conv2d(x, w); }},
      {"max_pool2d", [](const Variable& x) { return xtgrad::max_pool2d(x, Pool2dOptions{}); }},
      {"avg_pool2d", [](const Variable& x) { return xtgrad::avg_pool2d(x, Pool2dOptions{}); }},
      {"adaptive_avg_pool2d", [](const Variable& x) { return xtgrad::adaptive_avg_pool2d(x, {3, 2}); }}};
  for (const auto& [op, f] : ops) {
    SCOPED_TRACE(op);
    Variable a = Variable::parameter(xt), b = Variable::parameter(xt);
    xtgrad::sum(xtgrad::square(f(a))).backward();
    xtgrad::sum(xtgrad::square(f(b))).backward({.create_graph = true});
    EXPECT_TRUE(b.grad_variable().requires_grad());
    expect_tensor_near(b.grad(), a.grad(), 1e-12);
    b.zero_grad();  // breaks the leaf → gradient graph → leaf cycles
    w.zero_grad();
  }
}

}  // namespace
