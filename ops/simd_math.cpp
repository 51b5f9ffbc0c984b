#include "xtgrad/ops/simd_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "xtgrad/core/parallel.hpp"

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

// out[b, e) = f(x[b, e)) batch by batch; the tail is padded with ones into one more batch.
template <class Scalar, class F>
void map_range(const Scalar* xs, Scalar* ys, std::size_t b, std::size_t e, const F& f) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  std::size_t k = b;
  for (; k + kLanes <= e; k += kLanes) f(Batch::load_unaligned(xs + k)).store_unaligned(ys + k);
  if (k < e) {
    alignas(64) Scalar buf[kLanes];
    std::fill(buf, buf + kLanes, Scalar(1));
    std::copy(xs + k, xs + e, buf);
    f(Batch::load_aligned(buf)).store_aligned(buf);
    std::copy(buf, buf + (e - k), ys + k);
  }
}

// out = f(x) on every core above kExpGrain elements, in chunks that start at
// multiples of 64 elements (a multiple of the batch size: each element's value is the same for
// any thread count, since the lanes of a batch do not interact).
template <class Scalar, class F>
void map_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out, F f) {
  constexpr std::size_t kBlock = 64;
  static_assert(kBlock % xsimd::batch<Scalar>::size == 0, "chunks must start on a batch boundary");
  const std::size_t n = x.size(), blocks = (n + kBlock - 1) / kBlock;
  const Scalar* xs = x.data();
  Scalar* ys = out.data();
  parallel_for(0, blocks, kExpGrain / kBlock, [&](std::size_t b, std::size_t e) {
    map_range(xs, ys, b * kBlock, std::min(n, e * kBlock), f);
  });
}

// e^b; below ln(smallest normal) the SIMD exp flushes to 0, so those lanes use std::exp.
template <class Scalar>
xsimd::batch<Scalar> exp_batch(const xsimd::batch<Scalar>& b) {
  using Batch = xsimd::batch<Scalar>;
  static const Scalar low = std::log(std::numeric_limits<Scalar>::min());
  return map_batch(b, low, [](const Batch& v) { return xsimd::exp(v); }, [](Scalar v) { return std::exp(v); });
}

// erf(b): float lanes through double (see erf_into in the header), double lanes through std::erf.
inline xsimd::batch<float> erf_batch(const xsimd::batch<float>& b) {
  using Wide = xsimd::batch<double>;
  constexpr std::size_t kLanes = xsimd::batch<float>::size, kWide = Wide::size;
  static_assert(kLanes % kWide == 0, "a float batch must split into double batches");
  alignas(64) float f[kLanes];
  alignas(64) double d[kLanes];
  b.store_aligned(f);
  for (std::size_t j = 0; j < kLanes; ++j) d[j] = double(f[j]);
  for (std::size_t j = 0; j < kLanes; j += kWide) xsimd::erf(Wide::load_aligned(d + j)).store_aligned(d + j);
  for (std::size_t j = 0; j < kLanes; ++j) f[j] = float(d[j]);
  return xsimd::batch<float>::load_aligned(f);
}
inline xsimd::batch<double> erf_batch(const xsimd::batch<double>& b) {
  constexpr std::size_t kLanes = xsimd::batch<double>::size;
  alignas(64) double d[kLanes];
  b.store_aligned(d);
  for (std::size_t j = 0; j < kLanes; ++j) d[j] = std::erf(d[j]);
  return xsimd::batch<double>::load_aligned(d);
}

}  // namespace

template <class Scalar>
void erf_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  map_into(x, out, [](const xsimd::batch<Scalar>& b) { return erf_batch(b); });
}

template <class Scalar>
void gelu_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  using Batch = xsimd::batch<Scalar>;
  const Batch half(Scalar(0.5)), one(Scalar(1)), inv_sqrt2(Scalar(0.70710678118654752440));
  map_into(x, out, [&](const Batch& b) { return half * b * (one + erf_batch(b * inv_sqrt2)); });
}

template <class Scalar>
void gelu_cdf_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out, TensorOf<Scalar>& cdf) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size, kBlock = 64;
  static_assert(kBlock % kLanes == 0, "chunks must start on a batch boundary");
  const Batch half(Scalar(0.5)), one(Scalar(1)), inv_sqrt2(Scalar(0.70710678118654752440));
  // y = ½x(1 + e) exactly as gelu_into, Φ = ½(1 + e), e = erf(x/√2) of the batch b
  const auto both = [&](const Batch& b, Scalar* y, Scalar* c) {
    const Batch e = erf_batch(b * inv_sqrt2);
    (half * b * (one + e)).store_unaligned(y);
    (half * (one + e)).store_unaligned(c);
  };
  const std::size_t n = x.size(), blocks = (n + kBlock - 1) / kBlock;
  const Scalar* xs = x.data();
  Scalar* ys = out.data();
  Scalar* cs = cdf.data();
  parallel_for(0, blocks, kExpGrain / kBlock, [&](std::size_t b0, std::size_t b1) {
    const std::size_t e = std::min(n, b1 * kBlock);
    std::size_t k = b0 * kBlock;
    for (; k + kLanes <= e; k += kLanes) both(Batch::load_unaligned(xs + k), ys + k, cs + k);
    if (k < e) {  // the tail padded with ones into one more batch, as map_range
      alignas(64) Scalar in[kLanes], y[kLanes], c[kLanes];
      std::fill(in, in + kLanes, Scalar(1));
      std::copy(xs + k, xs + e, in);
      both(Batch::load_aligned(in), y, c);
      std::copy(y, y + (e - k), ys + k);
      std::copy(c, c + (e - k), cs + k);
    }
  });
}

template <class Scalar>
void exp_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  map_into(x, out, exp_batch<Scalar>);
}

template <class Scalar>
void exp_range(const Scalar* x, Scalar* y, std::size_t n) {
  map_range(x, y, 0, n, exp_batch<Scalar>);
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
template void exp_range(const float*, float*, std::size_t);
template void exp_range(const double*, double*, std::size_t);
template void log_into(const TensorOf<float>&, TensorOf<float>&);
template void sigmoid_into(const TensorOf<float>&, TensorOf<float>&);
template void erf_into(const TensorOf<float>&, TensorOf<float>&);
template void gelu_into(const TensorOf<float>&, TensorOf<float>&);
template void gelu_cdf_into(const TensorOf<float>&, TensorOf<float>&, TensorOf<float>&);
template void erf_into(const TensorOf<double>&, TensorOf<double>&);
template void gelu_into(const TensorOf<double>&, TensorOf<double>&);
template void gelu_cdf_into(const TensorOf<double>&, TensorOf<double>&, TensorOf<double>&);
template void exp_into(const TensorOf<double>&, TensorOf<double>&);
template void log_into(const TensorOf<double>&, TensorOf<double>&);
template void sigmoid_into(const TensorOf<double>&, TensorOf<double>&);

}  // namespace xtgrad
