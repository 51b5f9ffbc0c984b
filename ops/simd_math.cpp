#include "xtgrad/ops/simd_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <xsimd/xsimd.hpp>

namespace xtgrad {
namespace {

// f_simd(b) lane by lane, except lanes below `low`, which get f_std (rare: checked per batch).
template <class Scalar, class SimdF, class StdF>
xsimd::batch<Scalar> map_batch(const xsimd::batch<Scalar>& b, Scalar low, SimdF f_simd, StdF f_std) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  const Batch r = f_simd(b);
  if (!xsimd::any(b < Batch(low))) return r;
  alignas(64) Scalar in[kLanes];
  alignas(64) Scalar res[kLanes];
  b.store_aligned(in);
  r.store_aligned(res);
  for (std::size_t j = 0; j < kLanes; ++j) {
    if (in[j] < low) res[j] = f_std(in[j]);
  }
  return Batch::load_aligned(res);
}

// out = f(x) batch by batch; the tail is padded with ones into one more batch.
template <class Scalar, class F>
void map_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out, F f) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  const std::size_t n = x.size();
  const Scalar* xs = x.data();
  Scalar* ys = out.data();
  std::size_t k = 0;
  for (; k + kLanes <= n; k += kLanes) f(Batch::load_unaligned(xs + k)).store_unaligned(ys + k);
  if (k < n) {
    alignas(64) Scalar buf[kLanes];
    std::fill(buf, buf + kLanes, Scalar(1));
    std::copy(xs + k, xs + n, buf);
    f(Batch::load_aligned(buf)).store_aligned(buf);
    std::copy(buf, buf + (n - k), ys + k);
  }
}

// e^b; below ln(smallest normal) the SIMD exp flushes to 0, so those lanes use std::exp.
template <class Scalar>
xsimd::batch<Scalar> exp_batch(const xsimd::batch<Scalar>& b) {
  using Batch = xsimd::batch<Scalar>;
  static const Scalar low = std::log(std::numeric_limits<Scalar>::min());
  return map_batch(b, low, [](const Batch& v) { return xsimd::exp(v); }, [](Scalar v) { return std::exp(v); });
}

}  // namespace

template <class Scalar>
void exp_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  map_into(x, out, exp_batch<Scalar>);
}

template <class Scalar>
void log_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  using Batch = xsimd::batch<Scalar>;
  // below the smallest normal (subnormals, and 0 and negatives, which agree anyway)
  map_into(x, out, [](const Batch& b) {
    return map_batch(b, std::numeric_limits<Scalar>::min(), [](const Batch& v) { return xsimd::log(v); },
                     [](Scalar v) { return std::log(v); });
  });
}

template <class Scalar>
void sigmoid_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  using Batch = xsimd::batch<Scalar>;
  // e = e^−|x| ∈ [0, 1] never overflows; σ = 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise (NaN stays NaN)
  const Batch one(Scalar(1)), zero(Scalar(0));
  map_into(x, out, [&](const Batch& b) {
    const Batch e = exp_batch(-xsimd::abs(b));
    return xsimd::select(b >= zero, one, e) / (one + e);
  });
}

// float and double, the precisions the library is built for
template void exp_into(const TensorOf<float>&, TensorOf<float>&);
template void log_into(const TensorOf<float>&, TensorOf<float>&);
template void sigmoid_into(const TensorOf<float>&, TensorOf<float>&);
template void exp_into(const TensorOf<double>&, TensorOf<double>&);
template void log_into(const TensorOf<double>&, TensorOf<double>&);
template void sigmoid_into(const TensorOf<double>&, TensorOf<double>&);

}  // namespace xtgrad
