// conv2d's oneDNN backend (built with -DXTGRAD_WITH_DNNL=ON only) against xtgrad's own kernels
// in float: the value and the gradients of x, W and b on many shapes (strides, paddings,
// dilation, groups, depthwise, no bias, N = 1, odd sizes, 1 and 3 input channels and the
// benchmarks' layers), within a tolerance that grows with the reduction length K:
// |a − b| ≤ 1e-5·√K·max(1, max |own|). One test checks that the comparison does report a
// wrong result (a perturbed weight), and one that a thread count gives the same bits twice.
// At 2 and 3 threads (the batch in chunks of samples, one oneDNN call per chunk on xtgrad's
// pool): batches that do not divide evenly, groups, stride, no bias and gradients accumulated
// into (an input used twice), against the own kernels and against oneDNN at 1 thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/ops/conv_dnnl.hpp"

namespace {

using xtgrad::ConvBackend;
using xtgrad::Conv2dOptions;
using xtgrad::Shape;
using T = float;
using TensorF = xtgrad::TensorOf<T>;
using VariableF = xtgrad::BasicVariable<T>;

TensorF random(const Shape& shape, std::uint64_t seed) {
  xtgrad::Rng rng(seed);
  return xtgrad::rand_uniform<T>(shape, rng, -1, 1);
}

class BackendGuard {
 public:
  explicit BackendGuard(ConvBackend b) : previous_(xtgrad::conv_backend()) { xtgrad::set_conv_backend(b); }
  ~BackendGuard() { xtgrad::set_conv_backend(previous_); }

 private:
  ConvBackend previous_;
};

struct Case {
  std::string name;
  Shape x, w;
  Conv2dOptions opt;
  bool bias = true;
  bool x_grad = true;
};

struct Results {
  TensorF y, dx, dw, db;
};

Results run(const Case& c, ConvBackend backend, const TensorF& x, const TensorF& w, const TensorF& b, const TensorF* up) {
  const BackendGuard guard(backend);
  // oneDNN must really run
  if (backend == ConvBackend::onednn) {
    EXPECT_STREQ(xtgrad::conv_backend_name(), "onednn");
  }
  VariableF xv(x, c.x_grad), wv(w, true), bv(b, true);
  VariableF y = c.bias ? xtgrad::conv2d(xv, wv, bv, c.opt) : xtgrad::conv2d(xv, wv, c.opt);
  y.backward(up ? *up : random(Shape(y.value().shape().begin(), y.value().shape().end()), 99));
  Results r{y.value(), TensorF::from_shape({0}), wv.grad(), TensorF::from_shape({0})};
  if (c.x_grad) r.dx = xv.grad();
  if (c.bias) r.db = bv.grad();
  return r;
}

// Elements of `a` farther than 1e-5·√k·max(1, max |ref|) from `ref`'s (0 when they all agree).
std::size_t mismatches(const TensorF& a, const TensorF& ref, double k) {
  if (a.shape() != ref.shape()) return std::max<std::size_t>(1, a.size());
  double scale = 1;
  for (std::size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, double(std::abs(ref.data()[i])));
  const double tol = 1e-5 * std::sqrt(k) * scale;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += !(std::abs(double(a.data()[i]) - double(ref.data()[i])) <= tol);
  return bad;
}

// oneDNN's plan for case c (null: conv2d would fall back to the own kernels).
const xtgrad::onednn::ConvPlan* plan_of(const Case& c) {
  const auto& o = c.opt;
  const std::size_t ekh = o.dilation[0] * (c.w[2] - 1) + 1, ekw = o.dilation[1] * (c.w[3] - 1) + 1;
  const std::size_t oh = (c.x[2] + 2 * o.padding[0] - ekh) / o.stride[0] + 1;
  const std::size_t ow = (c.x[3] + 2 * o.padding[1] - ekw) / o.stride[1] + 1;
  return xtgrad::onednn::conv_plan({c.x[0], c.x[1], c.x[2], c.x[3], c.w[0], c.w[2], c.w[3], oh, ow, o.groups,
                                    o.stride, o.padding, o.dilation, c.bias});
}

// oneDNN's results against the own kernels'; `w_used` replaces the weight of the oneDNN run
// (the deliberate-mismatch test). Returns the mismatching elements of y, dx, dw, db.
std::vector<std::size_t> compare(const Case& c, const TensorF* w_onednn = nullptr) {
  const TensorF x = random(c.x, 1), w = random(c.w, 2), b = random({c.w[0]}, 3);
  const Results own = run(c, ConvBackend::own, x, w, b, nullptr);
  const TensorF up = random(Shape(own.y.shape().begin(), own.y.shape().end()), 99);
  const Results dnn = run(c, ConvBackend::onednn, x, w_onednn ? *w_onednn : w, b, &up);
  const double groups = double(c.opt.groups), kh = double(c.w[2]), kw = double(c.w[3]);
  const double k_y = double(c.w[1]) * kh * kw;                           // C/groups·kh·kw
  const double k_dx = double(c.w[0]) / groups * kh * kw;                 // O/groups·kh·kw
  const double k_dw = double(own.y.shape()[0] * own.y.shape()[2] * own.y.shape()[3]);  // N·OH·OW
  return {mismatches(dnn.y, own.y, k_y), c.x_grad ? mismatches(dnn.dx, own.dx, k_dx) : 0,
          mismatches(dnn.dw, own.dw, k_dw), c.bias ? mismatches(dnn.db, own.db, k_dw) : 0};
}

Conv2dOptions opts(std::size_t stride, std::size_t pad, std::size_t dil = 1, std::size_t groups = 1) {
  return Conv2dOptions().set_stride(stride).set_padding(pad).set_dilation(dil).set_groups(groups);
}

std::vector<Case> cases() {
  std::vector<Case> v;
  v.push_back({"bn_cnn_conv1", {128, 1, 28, 28}, {32, 1, 3, 3}, opts(1, 1), true, false});
  v.push_back({"bn_cnn_conv2", {128, 32, 14, 14}, {64, 32, 3, 3}, opts(1, 1)});
  v.push_back({"lenet_conv1", {64, 1, 28, 28}, {6, 1, 5, 5}, opts(1, 2), true, false});
  v.push_back({"lenet_conv2", {64, 6, 14, 14}, {16, 6, 5, 5}, opts(1, 0)});
  v.push_back({"lenet_conv1_x_grad", {64, 1, 28, 28}, {6, 1, 5, 5}, opts(1, 2)});
  v.push_back({"stride2_pad1", {4, 3, 11, 9}, {5, 3, 3, 3}, opts(2, 1)});
  v.push_back({"stride2_pad0_leftover", {3, 4, 10, 12}, {6, 4, 3, 3}, opts(2, 0)});
  v.push_back({"pad2", {2, 3, 7, 8}, {4, 3, 5, 5}, opts(1, 2)});
  v.push_back({"pad0_odd", {5, 3, 13, 7}, {7, 3, 3, 2}, opts(1, 0)});
  v.push_back({"dilation2", {3, 4, 15, 13}, {8, 4, 3, 3}, opts(1, 2, 2)});
  v.push_back({"dilation2_stride2", {3, 4, 15, 13}, {8, 4, 3, 3}, opts(2, 1, 2)});
  v.push_back({"groups2", {4, 6, 9, 9}, {8, 3, 3, 3}, opts(1, 1, 1, 2)});
  v.push_back({"depthwise", {4, 16, 10, 10}, {16, 1, 3, 3}, opts(1, 1, 1, 16)});
  v.push_back({"depthwise_x2", {3, 8, 9, 11}, {16, 1, 3, 3}, opts(2, 1, 1, 8)});
  v.push_back({"no_bias", {4, 8, 12, 12}, {16, 8, 3, 3}, opts(1, 1)});
  v.push_back({"n1", {1, 3, 17, 19}, {5, 3, 3, 3}, opts(1, 1)});
  v.push_back({"n1_one_channel", {1, 1, 9, 9}, {3, 1, 3, 3}, opts(1, 0)});
  v.push_back({"one_by_one", {6, 20, 7, 7}, {10, 20, 1, 1}, opts(1, 0)});
  v.push_back({"three_channels_stride2", {8, 3, 32, 32}, {16, 3, 5, 5}, opts(2, 2)});
  v[14].bias = false;
  return v;
}

class ConvOnednn : public ::testing::TestWithParam<Case> {};

TEST_P(ConvOnednn, AgreesWithTheOwnKernels) {
  ASSERT_TRUE(xtgrad::conv_onednn_available());
  const xtgrad::onednn::ConvPlan* plan = plan_of(GetParam());
  ASSERT_NE(plan, nullptr) << "oneDNN has no implementation: the comparison would be own against own";
  std::printf("  oneDNN: %s\n", xtgrad::onednn::implementation(*plan));
  const std::vector<std::size_t> bad = compare(GetParam());
  EXPECT_EQ(bad[0], 0u) << "y";
  EXPECT_EQ(bad[1], 0u) << "dx";
  EXPECT_EQ(bad[2], 0u) << "dw";
  EXPECT_EQ(bad[3], 0u) << "db";
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvOnednn, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The comparison does fail on a wrong result: oneDNN run with a weight perturbed by 1e-2 in
// one element (of 1152).
TEST(ConvOnednnCheck, ReportsAPerturbedWeight) {
  const Case c{"perturbed", {4, 8, 12, 12}, {16, 8, 3, 3}, opts(1, 1)};
  TensorF w = random(c.w, 2);
  w.data()[5] += 1e-2f;
  const std::vector<std::size_t> bad = compare(c, &w);
  EXPECT_GT(bad[0], 0u);  // y of output channel 0
  EXPECT_GT(bad[1], 0u);  // dx
  EXPECT_EQ(bad[3], 0u);  // db does not depend on W
}

// The same thread count gives the same bits twice (the batch in num_threads() chunks, dW and
// db summed in chunk order), at 1, 2 and 3 threads.
TEST(ConvOnednnCheck, SameThreadCountGivesTheSameBits) {
  const Case c{"conv2", {32, 32, 14, 14}, {64, 32, 3, 3}, opts(1, 1)};
  const TensorF x = random(c.x, 1), w = random(c.w, 2), b = random({c.w[0]}, 3);
  for (int threads : {1, 2, 3}) {
    const xtgrad::NumThreadsGuard guard(threads);
    const Results a = run(c, ConvBackend::onednn, x, w, b, nullptr);
    const Results r = run(c, ConvBackend::onednn, x, w, b, nullptr);
    EXPECT_TRUE(a.y == r.y && a.dx == r.dx && a.dw == r.dw && a.db == r.db) << threads << " threads";
  }
}

// Gradients accumulate (a second backward adds to the first): 2× one backward.
TEST(ConvOnednnCheck, GradientsAccumulate) {
  const BackendGuard guard(ConvBackend::onednn);
  const TensorF x = random({4, 8, 12, 12}, 1), w = random({16, 8, 3, 3}, 2), b = random({16}, 3);
  VariableF xv(x, true), wv(w, true), bv(b, true);
  const TensorF up = random({4, 16, 12, 12}, 4);
  xtgrad::conv2d(xv, wv, bv, opts(1, 1)).backward(up);
  const TensorF dx = xv.grad(), dw = wv.grad(), db = bv.grad();
  xtgrad::conv2d(xv, wv, bv, opts(1, 1)).backward(up);
  EXPECT_EQ(mismatches(xv.grad(), TensorF(2.f * dx), 1), 0u);
  EXPECT_EQ(mismatches(wv.grad(), TensorF(2.f * dw), 1), 0u);
  EXPECT_EQ(mismatches(bv.grad(), TensorF(2.f * db), 1), 0u);
}

// Cases for 2 and 3 threads, each with enough work per sample that the batch is split into
// one chunk per thread: batches of 7 and 11 (a multiple of neither 2 nor 3), groups, stride,
// no bias, and LeNet's second layer.
std::vector<Case> threaded_cases() {
  std::vector<Case> v;
  v.push_back({"batch7", {7, 8, 12, 12}, {16, 8, 3, 3}, opts(1, 1)});
  v.push_back({"groups2_stride2_batch11", {11, 16, 16, 16}, {32, 8, 3, 3}, opts(2, 1, 1, 2)});
  v.push_back({"stride2_no_bias_batch7", {7, 8, 24, 24}, {16, 8, 3, 3}, opts(2, 1), false});
  v.push_back({"lenet_conv2", {64, 6, 14, 14}, {16, 6, 5, 5}, opts(1, 0)});
  return v;
}

// Whether a and b hold the same bits (and shapes).
bool same_bits(const TensorF& a, const TensorF& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data(), [](float p, float q) {
           return std::memcmp(&p, &q, sizeof(float)) == 0;
         });
}

class ConvOnednnThreads : public ::testing::TestWithParam<Case> {};

// At T = 2 and 3 threads:
// - the plan splits the batch into T chunks (else the test would not test the split);
// - against the own kernels at T threads, within the tolerance of AgreesWithTheOwnKernels:
//   dW and db there are sums over all N samples, so this fails if a chunk's partial were
//   dropped or not added (dW of chunk 0 alone is far from the whole batch's);
// - dW and db bit-identical over two runs (partials summed in a fixed chunk order);
// - y, dx, dW, db within 1e-5·√K·max(1, max |1-thread value|) of oneDNN at 1 thread: not
//   bit for bit, because oneDNN may choose other kernels (blocking, loop order) for a chunk of
//   N/T samples than for the whole batch, which rounds y and dx differently, and dW and db
//   are then summed per chunk and the partials added, another order of the same float sum.
TEST_P(ConvOnednnThreads, SplitsTheBatchAndAgrees) {
  const Case& c = GetParam();
  const TensorF x = random(c.x, 1), w = random(c.w, 2), b = random({c.w[0]}, 3);
  const Results one = [&] {
    const xtgrad::NumThreadsGuard guard(1);
    return run(c, ConvBackend::onednn, x, w, b, nullptr);
  }();
  const double groups = double(c.opt.groups), kh = double(c.w[2]), kw = double(c.w[3]);
  const double k_y = double(c.w[1]) * kh * kw, k_dx = double(c.w[0]) / groups * kh * kw;
  const double k_dw = double(one.y.shape()[0] * one.y.shape()[2] * one.y.shape()[3]);
  for (int threads : {2, 3}) {
    const xtgrad::NumThreadsGuard guard(threads);
    const xtgrad::onednn::ConvPlan* plan = plan_of(c);
    ASSERT_NE(plan, nullptr);
    EXPECT_EQ(xtgrad::onednn::chunks(*plan), std::size_t(threads)) << xtgrad::onednn::implementation(*plan);
    const std::vector<std::size_t> bad = compare(c);
    EXPECT_EQ(bad[0], 0u) << "y against the own kernels, " << threads << " threads";
    EXPECT_EQ(bad[1], 0u) << "dx against the own kernels, " << threads << " threads";
    EXPECT_EQ(bad[2], 0u) << "dw against the own kernels, " << threads << " threads";
    EXPECT_EQ(bad[3], 0u) << "db against the own kernels, " << threads << " threads";
    const Results a = run(c, ConvBackend::onednn, x, w, b, nullptr);
    const Results r = run(c, ConvBackend::onednn, x, w, b, nullptr);
    EXPECT_TRUE(same_bits(a.y, r.y) && same_bits(a.dx, r.dx)) << threads << " threads";
    EXPECT_TRUE(same_bits(a.dw, r.dw) && same_bits(a.db, r.db)) << threads << " threads";
    EXPECT_EQ(mismatches(a.y, one.y, k_y), 0u) << "y against 1 thread, " << threads << " threads";
    EXPECT_EQ(mismatches(a.dx, one.dx, k_dx), 0u) << "dx against 1 thread, " << threads << " threads";
    EXPECT_EQ(mismatches(a.dw, one.dw, k_dw), 0u) << "dw against 1 thread, " << threads << " threads";
    EXPECT_EQ(mismatches(a.db, one.db, k_dw), 0u) << "db against 1 thread, " << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvOnednnThreads, ::testing::ValuesIn(threaded_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Gradients accumulated into (beta = 1) at 2 and 3 threads: x used by two convolutions (W and
// W2), W by two (x and x2), b by three, so each gradient's second (and third) backward adds to
// the first. Against the own kernels running the same graph, and the same bits twice.
TEST(ConvOnednnThreadsCheck, AccumulatesIntoGradients) {
  const Conv2dOptions o = opts(1, 1, 1, 2);
  const TensorF x = random({7, 16, 12, 12}, 1), x2 = random({7, 16, 12, 12}, 5), w = random({32, 8, 3, 3}, 2),
                w2 = random({32, 8, 3, 3}, 6), b = random({32}, 3), up = random({7, 32, 12, 12}, 4);
  const auto graph = [&](ConvBackend backend) {
    const BackendGuard guard(backend);
    VariableF xv(x, true), x2v(x2, true), wv(w, true), w2v(w2, true), bv(b, true);
    VariableF y = xtgrad::conv2d(xv, wv, bv, o) + xtgrad::conv2d(xv, w2v, bv, o) + xtgrad::conv2d(x2v, wv, bv, o);
    y.backward(up);
    return std::vector<TensorF>{xv.grad(), x2v.grad(), wv.grad(), w2v.grad(), bv.grad()};
  };
  const char* names[] = {"dx", "dx2", "dw", "dw2", "db"};
  const double k[] = {2 * 16 * 9, 16 * 9, 2 * 7 * 144, 7 * 144, 3 * 7 * 144};  // terms summed per element
  for (int threads : {2, 3}) {
    const xtgrad::NumThreadsGuard guard(threads);
    const std::vector<TensorF> own = graph(ConvBackend::own);
    const std::vector<TensorF> a = graph(ConvBackend::onednn), r = graph(ConvBackend::onednn);
    for (std::size_t i = 0; i < own.size(); ++i) {
      EXPECT_EQ(mismatches(a[i], own[i], k[i]), 0u) << names[i] << ", " << threads << " threads";
      EXPECT_TRUE(same_bits(a[i], r[i])) << names[i] << ", " << threads << " threads";
    }
  }
}

}  // namespace
