#include "xtgrad/ops/norms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/elementwise_math.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace xtgrad {
namespace {

// Σ f(x) of non-negative terms: blocks of 512 elements summed in Scalar by 16 independent
// lanes (which the compiler vectorises), block sums accumulated in double. Exact enough for a
// loss (in float a block sum carries a relative error below 46·2⁻²⁴ ≈ 3e-6: 31 additions per
// lane, 15 to join the lanes), and not bound by the latency of one serial add chain: the
// penalty runs every training step.
//
// On every core above kElementwiseGrain elements: chunks of whole blocks (the tail in the last),
// their double partials added in chunk order: the same for a given thread count, and on one
// thread the serial sum.
template <class Scalar, class F>
double sum_of(const TensorOf<Scalar>& v, F f) {
  constexpr std::size_t kLanes = 16, kBlock = 512;
  const Scalar* x = v.data();
  const std::size_t n = v.size(), blocks = n / kBlock;
  auto chunk = [&](std::size_t b0, std::size_t b1) {
    double total = 0;
    for (std::size_t i = b0 * kBlock; i < b1 * kBlock; i += kBlock) {
      Scalar acc[kLanes] = {};
      for (std::size_t j = 0; j < kBlock; j += kLanes)
        for (std::size_t k = 0; k < kLanes; ++k) acc[k] += f(x[i + j + k]);
      Scalar block = 0;
      for (Scalar a : acc) block += a;
      total += double(block);
    }
    if (b1 == blocks) {
      for (std::size_t i = blocks * kBlock; i < n; ++i) total += double(f(x[i]));
    }
    return total;
  };
  if (blocks == 0) return chunk(0, 0);
  return parallel_reduce(0, blocks, kElementwiseGrain / kBlock, 0.0, chunk, [](double a, double b) { return a + b; });
}
}  // namespace

template <class Scalar>
BasicVariable<Scalar> l1(const BasicVariable<Scalar>& w) {
  using Node = BasicNode<Scalar>;
  const double total = sum_of(w.value(), [](Scalar x) { return std::abs(x); });
  return make_result("l1", scalar_tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = g·sign(w) : shape of w
    backward_of_scalar(self, [](const auto& g, const auto& w) { return g * sign_of(w); });
  });
}

template <class Scalar>
BasicVariable<Scalar> squared_l2(const BasicVariable<Scalar>& w) {
  using Node = BasicNode<Scalar>;
  const double total = sum_of(w.value(), [](Scalar x) { return x * x; });
  return make_result("squared_l2", scalar_tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = 2g·w : shape of w
    backward_of_scalar(self, [](const auto& g, const auto& w) { return (Scalar(2) * g) * w; });
  });
}

template <class Scalar>
BasicVariable<Scalar> norm(const BasicVariable<Scalar>& x, double p, Axes axes, bool keepdims) {
  const double inf = std::numeric_limits<double>::infinity();
  if (!(p > 0) && p != -inf) {
    throw std::invalid_argument("norm: p must be > 0 or -inf, got " + std::to_string(p) + " (input " +
                                shape_str(x.value()) + ")");
  }
  if (p == inf) return amax(abs(x), axes, keepdims);
  if (p == -inf) return amin(abs(x), axes, keepdims);
  if (p == 1) return sum(abs(x), axes, keepdims);
  // y = s^(1/p), s = Σ|x|ᵖ (Σx² for p = 2). In a lane of zeros s = 0, where the root has no
  // derivative (∞·0 = NaN): there y = 0 with gradient 0, as PyTorch (which masks norm = 0), by
  // taking the root of 1 instead and selecting 0 (both selections are constants).
  const BasicVariable<Scalar> s = p == 2 ? sum(square(x), axes, keepdims) : sum(pow(abs(x), p), axes, keepdims);
  const auto root = [p](const BasicVariable<Scalar>& v) { return p == 2 ? sqrt(v) : pow(v, 1.0 / p); };
  const TensorOf<Scalar>& sv = s.value();
  if (std::find(sv.data(), sv.data() + sv.size(), Scalar(0)) == sv.data() + sv.size()) return root(s);
  TensorOf<Scalar> zero = TensorOf<Scalar>::from_shape(sv.shape());
  for (std::size_t k = 0; k < sv.size(); ++k) zero.data()[k] = sv.data()[k] == 0 ? Scalar(1) : Scalar(0);
  return xtgrad::where(zero, 0.0, root(xtgrad::where(zero, 1.0, s)));
}

template BasicVariable<float> norm(const BasicVariable<float>&, double, Axes, bool);
template BasicVariable<double> norm(const BasicVariable<double>&, double, Axes, bool);
template BasicVariable<float> l1(const BasicVariable<float>&);
template BasicVariable<double> l1(const BasicVariable<double>&);
template BasicVariable<float> squared_l2(const BasicVariable<float>&);
template BasicVariable<double> squared_l2(const BasicVariable<double>&);

}  // namespace xtgrad
