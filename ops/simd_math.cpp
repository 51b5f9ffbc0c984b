#include "xtgrad/ops/simd_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <xsimd/xsimd.hpp>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

using Batch = xsimd::batch<Scalar>;
constexpr std::size_t kLanes = Batch::size;

// f_simd(b) lane by lane, except lanes below `low`, which get f_std (rare: checked per batch).
template <class SimdF, class StdF>
Batch map_batch(const Batch& b, Scalar low, SimdF f_simd, StdF f_std) {
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

// out = f(x) over whole batches; the tail is padded with ones into one more batch.
template <class SimdF, class StdF>
void map_into(const Tensor& x, Tensor& out, Scalar low, SimdF f_simd, StdF f_std) {
  const std::size_t n = x.size();
  const Scalar* xs = x.data();
  Scalar* ys = out.data();
  std::size_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    map_batch(Batch::load_unaligned(xs + k), low, f_simd, f_std).store_unaligned(ys + k);
  }
  if (k < n) {
    alignas(64) Scalar buf[kLanes];
    std::fill(buf, buf + kLanes, Scalar(1));
    std::copy(xs + k, xs + n, buf);
    map_batch(Batch::load_aligned(buf), low, f_simd, f_std).store_aligned(buf);
    std::copy(buf, buf + (n - k), ys + k);
  }
}

}  // namespace

void exp_into(const Tensor& x, Tensor& out) {
  // below ln(smallest normal) the SIMD exp flushes to 0
  static const Scalar low = std::log(std::numeric_limits<Scalar>::min());
  map_into(x, out, low, [](const Batch& b) { return xsimd::exp(b); }, [](Scalar v) { return std::exp(v); });
}

void log_into(const Tensor& x, Tensor& out) {
  // below the smallest normal (subnormals, and 0 and negatives, which agree anyway)
  map_into(x, out, std::numeric_limits<Scalar>::min(), [](const Batch& b) { return xsimd::log(b); },
           [](Scalar v) { return std::log(v); });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
