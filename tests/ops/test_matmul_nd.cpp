// matmul_nd's batched paths (issue 21): a plain-matrix rhs folded into one gemm, batches run in
// parallel, gradients written straight into an operand's storage when it has the full batch
// shape: values against per-batch products, gradient checks (first and second order), an
// operand used twice, and 1 vs 3 threads. The torch.matmul rules themselves: test_indexing.cpp.
#include <stdexcept>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

// a_t·b_t for every batch t of equal-batch operands (…, m, k)·(…, k, n), by 2-d matmul.
Tensor per_batch(const Tensor& a, const Tensor& b) {
  const std::size_t r = a.dimension(), m = a.shape()[r - 2], k = a.shape()[r - 1], n = b.shape()[r - 1];
  const std::size_t batches = a.size() / (m * k);
  Shape out(a.shape().begin(), a.shape().end());
  out.back() = n;
  Tensor y = Tensor::from_shape(out);
  for (std::size_t t = 0; t < batches; ++t) {
    Tensor at = Tensor::from_shape({m, k}), bt = Tensor::from_shape({k, n});
    std::copy(a.data() + t * m * k, a.data() + (t + 1) * m * k, at.data());
    std::copy(b.data() + t * k * n, b.data() + (t + 1) * k * n, bt.data());
    const Tensor yt = xtgrad::matmul(Variable(at), Variable(bt)).value();
    std::copy(yt.data(), yt.data() + m * n, y.data() + t * m * n);
  }
  return y;
}

TEST(MatmulNdBatched, EqualBatchesMatchPerBatchProducts) {
  const Tensor a = uniform({3, 2, 4, 5}, 1, -1, 1), b = uniform({3, 2, 5, 6}, 2, -1, 1);
  expect_tensor_near(xtgrad::matmul_nd(Variable(a), Variable(b)).value(), per_batch(a, b), 0.0);
}

TEST(MatmulNdBatched, PlainMatrixRhsFoldsIntoOneProduct) {
  const Tensor a = uniform({3, 2, 4, 5}, 3, -1, 1), b = uniform({5, 6}, 4, -1, 1);
  const Tensor y = xtgrad::matmul_nd(Variable(a), Variable(b)).value();
  expect_tensor_near(y, xtgrad::matmul(Variable(a), Variable(b)).value(), 0.0);
  // db sums over every batch: Σ_t a_tᵀ·g_t
  const Variable av = Variable::parameter(a), bv = Variable::parameter(b);
  xtgrad::sum(xtgrad::matmul_nd(av, bv)).backward();
  const Variable bv2 = Variable::parameter(b);
  xtgrad::sum(xtgrad::matmul(xtgrad::reshape(Variable(a), {24, 5}), bv2)).backward();
  expect_tensor_near(bv.grad(), bv2.grad(), 1e-12);
}

TEST(MatmulNdBatched, PassesGradcheckOnEveryPath) {
  const auto check = [](const Shape& a, const Shape& b, std::uint64_t seed) {
    SCOPED_TRACE(testing::Message() << xtgrad::shape_str(a) << " @ " << xtgrad::shape_str(b));
    expect_gradcheck([](const Vars& v) { return xtgrad::matmul_nd(v[0], v[1]); },
                     {uniform(a, seed, -1, 1), uniform(b, seed + 1, -1, 1)});
    expect_gradgradcheck([](const Vars& v) { return xtgrad::square(xtgrad::matmul_nd(v[0], v[1])); },
                         {uniform(a, seed + 2, -1, 1), uniform(b, seed + 3, -1, 1)});
  };
  check({2, 3, 2, 3}, {3, 2}, 10);     // folded
  check({2, 3, 2, 3}, {2, 3, 3, 2}, 20);  // equal batches: both gradients in place
  check({2, 3}, {4, 3, 2}, 30);        // a broadcast: its share summed over the batch
  check({2, 1, 2, 3}, {3, 3, 2}, 40);  // both broadcast
}

TEST(MatmulNdBatched, OneOperandOnBothSides) {
  // x·x for square batches: both shares go to one gradient
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul_nd(v[0], v[0]); }, {uniform({3, 2, 2}, 50, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul_nd(v[0], xtgrad::swap_axes(v[0], -1, -2)); },
                   {uniform({3, 2, 4}, 51, -1, 1)});
}

TEST(MatmulNdBatched, OneAndThreeThreadsGiveTheSameBits) {
  // 24 batches of 16×16·16×16: several chunks at 3 threads, each batch's gemm single-threaded
  const Tensor a = uniform({4, 6, 16, 16}, 60, -1, 1), b = uniform({4, 6, 16, 16}, 61, -1, 1),
               b2 = uniform({6, 16, 16}, 62, -1, 1), r = uniform({4, 6, 16, 16}, 63, -1, 1);
  for (const Tensor* rhs : {&b, &b2}) {
    const auto run = [&](int threads) {
      const xtgrad::NumThreadsGuard guard(threads);
      const Vars v{Variable::parameter(a), Variable::parameter(*rhs)};
      const Variable y = xtgrad::matmul_nd(v[0], v[1]);
      xtgrad::sum(y * Variable(r)).backward();
      return std::vector<Tensor>{y.value(), v[0].grad(), v[1].grad()};
    };
    const std::vector<Tensor> one = run(1), three = run(3);
    for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(three[i], one[i], 0.0);
  }
}

TEST(MatmulNdBatched, EmptyInnerAxisGivesZeros) {
  const Variable a = Variable::parameter(Tensor::from_shape({2, 3, 0})), b = Variable::parameter(Tensor::from_shape({2, 0, 4}));
  const Variable y = xtgrad::matmul_nd(a, b);
  expect_tensor_near(y.value(), xtgrad_test::filled({2, 3, 4}, 0.0), 0.0);
  const Variable y2 = xtgrad::matmul_nd(a, Variable(Tensor::from_shape({0, 4})));
  expect_tensor_near(y2.value(), xtgrad_test::filled({2, 3, 4}, 0.0), 0.0);
}

}  // namespace
}  // namespace xtgrad_test
