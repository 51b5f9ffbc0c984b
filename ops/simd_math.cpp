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

// c[0]·xᵈ + c[1]·xᵈ⁻¹ + … + c[d] by Horner's rule.
template <std::size_t N>
xsimd::batch<float> horner(const xsimd::batch<float>& x, const float (&c)[N]) {
  xsimd::batch<float> r(c[0]);
  for (std::size_t k = 1; k < N; ++k) r = xsimd::fma(r, x, xsimd::batch<float>(c[k]));
  return r;
}

// erf(b) in float, lane by lane, with a = |x| and the sign of x put back at the end:
//   a < 1:         erf = a + a·p(a²),  p(t) = (2/√π − 1) + t·q(t)
//   1 ≤ a < 3.95:  erf = 1 − e^(−a²)·R(1/a),  R(u) ≈ erfc(1/u)·e^(1/u²)
//   a ≥ 3.95:      erf = 1 (it rounds to 1 in float from a ≈ 3.92)
// q (degree 7 in t) and R (degree 9 in u) were fitted to erf in 40-digit arithmetic by
// scripts/fit_erf.py. Written as a + a·p, the polynomial's roundings touch only the small part
// a·p, so no fused multiply-add is needed (xsimd 8 fuses only on AVX2): SSE, AVX2 and AVX-512
// builds alike are within 1 ulp of the correctly rounded erf at every float of [0, 6.5].
// A batch whose lanes all fall in one branch skips the other; the value of a lane never
// depends on its neighbours. NaN stays NaN.
inline xsimd::batch<float> erf_batch(const xsimd::batch<float>& x) {
  using Batch = xsimd::batch<float>;
  static constexpr float q[] = {-6.493169167e-07f, -6.794439741e-06f, 1.074447500e-04f, -8.434199844e-04f,
                                5.218352657e-03f,  -2.686463855e-02f, 1.128377095e-01f, -3.761263788e-01f};
  static constexpr float r[] = {3.126585856e-02f, -1.826707274e-01f, 4.450843036e-01f, -5.458962321e-01f,
                                2.455948442e-01f, 2.266155183e-01f,  -3.746060431e-01f, 2.027944475e-02f,
                                5.617969036e-01f, 1.197114761e-04f};
  const Batch one(1.0f), split(1.0f), top(3.95f);
  const Batch a = xsimd::abs(x);
  const auto small = a < split;
  Batch inner(0.0f), outer(1.0f);
  if (xsimd::any(small)) {
    const Batch p = xsimd::fma(a * a, horner(a * a, q), Batch(float(1.1283791670955126 - 1.0)));  // 2/√π − 1
    inner = a + a * p;
  }
  if (!xsimd::all(small)) {
    const Batch ac = xsimd::min(xsimd::max(a, split), top);
    const Batch tail = xsimd::exp(-(ac * ac)) * horner(one / ac, r);  // erfc(ac)
    outer = xsimd::select(a < top, one - tail, one);
  }
  const Batch e = xsimd::copysign(xsimd::select(small, inner, outer), x);
  return xsimd::select(xsimd::isnan(x), x, e);
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

template <class Scalar>
void relu_into(const TensorOf<Scalar>& x, TensorOf<Scalar>& out) {
  using Batch = xsimd::batch<Scalar>;
  // x ≤ 0 → 0, else x: NaN stays NaN, −0 becomes 0 (a select, not max, for both)
  constexpr std::size_t kBlock = 64;
  const std::size_t n = x.size(), blocks = (n + kBlock - 1) / kBlock;
  const Scalar* xs = x.data();
  Scalar* ys = out.data();
  const Batch zero(Scalar(0));
  parallel_for(0, blocks, kElementwiseGrain / kBlock, [&](std::size_t b0, std::size_t b1) {
    const std::size_t e = std::min(n, b1 * kBlock);
    std::size_t k = b0 * kBlock;
    for (; k + Batch::size <= e; k += Batch::size) {
      const Batch v = Batch::load_unaligned(xs + k);
      xsimd::select(v <= zero, zero, v).store_unaligned(ys + k);
    }
    for (; k < e; ++k) ys[k] = xs[k] <= Scalar(0) ? Scalar(0) : xs[k];
  });
}

template <class Scalar>
void relu_grad_into(const TensorOf<Scalar>& x, const TensorOf<Scalar>& g, Scalar* d, bool accumulate) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kBlock = 64;
  const std::size_t n = x.size(), blocks = (n + kBlock - 1) / kBlock;
  const Scalar* xs = x.data();
  const Scalar* gs = g.data();
  const Batch zero(Scalar(0));
  parallel_for(0, blocks, kElementwiseGrain / kBlock, [&](std::size_t b0, std::size_t b1) {
    const std::size_t e = std::min(n, b1 * kBlock);
    std::size_t k = b0 * kBlock;
    for (; k + Batch::size <= e; k += Batch::size) {
      const Batch share = xsimd::select(Batch::load_unaligned(xs + k) > zero, Batch::load_unaligned(gs + k), zero);
      (accumulate ? Batch::load_unaligned(d + k) + share : share).store_unaligned(d + k);
    }
    for (; k < e; ++k) {
      const Scalar share = xs[k] > Scalar(0) ? gs[k] : Scalar(0);
      d[k] = accumulate ? d[k] + share : share;
    }
  });
}

// float and double, the precisions the library is built for
template void exp_into(const TensorOf<float>&, TensorOf<float>&);
template void exp_range(const float*, float*, std::size_t);
template void exp_range(const double*, double*, std::size_t);
template void log_into(const TensorOf<float>&, TensorOf<float>&);
template void sigmoid_into(const TensorOf<float>&, TensorOf<float>&);
template void relu_into(const TensorOf<float>&, TensorOf<float>&);
template void relu_into(const TensorOf<double>&, TensorOf<double>&);
template void relu_grad_into(const TensorOf<float>&, const TensorOf<float>&, float*, bool);
template void relu_grad_into(const TensorOf<double>&, const TensorOf<double>&, double*, bool);
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
