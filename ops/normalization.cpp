#include "xtgrad/ops/normalization.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace xtgrad {
namespace {

// Adds `contribution(k)` for k < count to parent i's gradient, which is written directly.
template <class Scalar, class F>
void add_to_grad(BasicNode<Scalar>& self, std::size_t i, std::size_t count, F&& contribution) {
  bool accumulate = false;
  Scalar* d = grad_target(self, i, accumulate);
  for (std::size_t k = 0; k < count; ++k) d[k] = (accumulate ? d[k] : Scalar(0)) + contribution(k);
}

// ---- batch_norm's per-channel sums ------------------------------------------------------------
//
// x (N, C, S) is cut into parts: channel ch of the samples of one block of `block` samples
// (at least kBnPartElements values each, whatever the threads). Each part's two sums are
// computed by one thread, in one pass, in double, and the parts of a channel are added in
// block order afterwards, so the sums do not depend on how many threads there are.

// Values a part holds at least (fewer only when the batch is smaller).
constexpr std::size_t kBnPartElements = 4096;

struct BnParts {
  std::size_t n, c, s;  // x (N, C, S)
  std::size_t block;   // samples per part
  std::size_t blocks() const { return (n + block - 1) / block; }
  std::size_t count() const { return blocks() * c; }  // part p = b·C + ch
};

BnParts bn_parts(std::size_t n, std::size_t c, std::size_t s) {
  const std::size_t block = std::clamp<std::size_t>((kBnPartElements + s - 1) / std::max<std::size_t>(s, 1), 1,
                                                    std::max<std::size_t>(n, 1));
  return {n, c, s, block};
}

// Two sums over the values of a part, in eight double lanes each: a fixed order of additions
// that the compiler vectorises.
struct LaneSums {
  double a[8] = {}, b[8] = {};
  // a += (x − shift), b += (x − shift)² over x[0 .. count)
  template <class Scalar>
  void add_shifted(const Scalar* x, std::size_t count, double shift) {
    std::size_t k = 0;
    for (; k + 8 <= count; k += 8) {
      for (std::size_t j = 0; j < 8; ++j) {
        const double d = double(x[k + j]) - shift;
        a[j] += d;
        b[j] += d * d;
      }
    }
    for (std::size_t j = 0; k < count; ++k, ++j) {
      const double d = double(x[k]) - shift;
      a[j] += d;
      b[j] += d * d;
    }
  }
  // a += g, b += g·(x − mu) over [0 .. count)
  template <class Scalar>
  void add_products(const Scalar* g, const Scalar* x, std::size_t count, double mu) {
    std::size_t k = 0;
    for (; k + 8 <= count; k += 8) {
      for (std::size_t j = 0; j < 8; ++j) {
        a[j] += double(g[k + j]);
        b[j] += double(g[k + j]) * (double(x[k + j]) - mu);
      }
    }
    for (std::size_t j = 0; k < count; ++k, ++j) {
      a[j] += double(g[k]);
      b[j] += double(g[k]) * (double(x[k]) - mu);
    }
  }
  static double total(const double* v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
};

// sums (C, 2) ← per channel, the two sums over its M = N·S values that add_plane(lanes, i, ch)
// adds to `lanes` for the plane (sample i, channel ch): the parts in parallel into `partials`
// (2 per part), then each channel's added in block order.
template <class AddPlane>
void bn_channel_sums(const BnParts& parts, double* partials, double* sums, const AddPlane& add_plane) {
  const std::size_t grain = std::max<std::size_t>(1, kElementwiseGrain / (parts.block * parts.s + 1));
  parallel_for(0, parts.count(), grain, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t b = p / parts.c, ch = p % parts.c;
      LaneSums lanes;
      for (std::size_t i = b * parts.block; i < std::min(parts.n, (b + 1) * parts.block); ++i) add_plane(lanes, i, ch);
      partials[2 * p] = LaneSums::total(lanes.a);
      partials[2 * p + 1] = LaneSums::total(lanes.b);
    }
  });
  for (std::size_t ch = 0; ch < parts.c; ++ch) {
    double a = 0, b = 0;
    for (std::size_t blk = 0; blk < parts.blocks(); ++blk) {
      a += partials[2 * (blk * parts.c + ch)];
      b += partials[2 * (blk * parts.c + ch) + 1];
    }
    sums[2 * ch] = a;
    sums[2 * ch + 1] = b;
  }
}

// The two sums of channel ch as bn_channel_sums adds them (each block's lanes, then the blocks
// in order): the same bits, on one thread.
template <class AddPlane>
void bn_one_channel_sums(const BnParts& parts, std::size_t ch, double* sums, const AddPlane& add_plane) {
  double a = 0, b = 0;
  for (std::size_t blk = 0; blk < parts.blocks(); ++blk) {
    LaneSums lanes;
    for (std::size_t i = blk * parts.block; i < std::min(parts.n, (blk + 1) * parts.block); ++i) add_plane(lanes, i, ch);
    a += LaneSums::total(lanes.a);
    b += LaneSums::total(lanes.b);
  }
  sums[0] = a;
  sums[1] = b;
}

// Whether a training batch_norm runs channel by channel (sums, then the pass over the same
// channel's values while they are still in cache) rather than sums over every channel, then
// the pass: when the channels alone keep every thread busy. Both give the same bits.
inline bool bn_by_channel(std::size_t c) { return c >= std::size_t(num_threads()); }

// f(ch) for every channel, channels split among the threads.
template <class F>
void bn_for_each_channel(std::size_t c, const F& f) {
  parallel_for(0, c, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t ch = c0; ch < c1; ++ch) f(ch);
  });
}

// f(plane index i·C + ch, ch) for every plane of x (N, C, S), planes split among the threads.
template <class F>
void bn_for_each_plane(std::size_t n, std::size_t c, std::size_t s, const F& f) {
  const std::size_t grain = std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(s, 1));
  parallel_for(0, n * c, grain, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) f(p, p % c);
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> batch_norm(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                                 const BasicVariable<Scalar>& bias, TensorOf<Scalar>& running_mean,
                                 TensorOf<Scalar>& running_var, bool training, double momentum, double eps) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument("batch_norm: " + what + " (input " + shape_str(xv) + ", weight " +
                                shape_str(weight.value()) + ", bias " + shape_str(bias.value()) + ", running_mean " +
                                shape_str(running_mean) + ", running_var " + shape_str(running_var) + ")");
  };
  if (xv.dimension() < 2) fail("input must be (N, C) or (N, C, ...)");
  const std::size_t n = xv.shape()[0], c = xv.shape()[1], s = n && c ? xv.size() / (n * c) : 0, m = n * s;
  for (const Tensor* t : {&weight.value(), &bias.value(), static_cast<const Tensor*>(&running_mean),
                          static_cast<const Tensor*>(&running_var)}) {
    if (t->dimension() != 1 || t->shape()[0] != c) fail("weight, bias and running statistics must have shape (C)");
  }
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1)) fail("eps must be > 0 and momentum in [0, 1]");
  if (training && m < 2) fail("training needs more than one value per channel");
  // stats (2, C): μ and 1/√(σ² + eps) of each channel
  Tensor stats = empty_tensor<Scalar>({2, c});
  Scalar* mu = stats.data();
  Scalar* inv = stats.data() + c;
  const BnParts parts = bn_parts(n, c, s);
  const Scalar* gamma = weight.value().data();
  const Scalar* beta = bias.value().data();
  Tensor y = empty_like(xv);
  if (training && bn_by_channel(c)) {
    // The formulas below, channel by channel: its sums, statistics, then y over its values.
    const Scalar* xp = xv.data();
    Scalar* yp = y.data();
    bn_for_each_channel(c, [&](std::size_t ch) {
      double sums[2];
      const double shift = double(xp[ch * s]);
      bn_one_channel_sums(parts, ch, sums, [&](LaneSums& lanes, std::size_t i, std::size_t k) {
        lanes.add_shifted(xp + (i * c + k) * s, s, shift);
      });
      const double mean = shift + sums[0] / double(m), var = std::max(0.0, (sums[1] - sums[0] * sums[0] / double(m)) / double(m));
      running_mean(ch) = Scalar((1 - momentum) * running_mean(ch) + momentum * mean);
      running_var(ch) = Scalar((1 - momentum) * running_var(ch) + momentum * var * double(m) / double(m - 1));
      mu[ch] = Scalar(mean);
      inv[ch] = Scalar(1.0 / std::sqrt(var + eps));
      const Scalar a = gamma[ch] * inv[ch], b = beta[ch] - a * mu[ch];  // y = a·x + b
      for (std::size_t i = 0; i < n; ++i) {
        const Scalar* __restrict in = xp + (i * c + ch) * s;
        Scalar* __restrict out = yp + (i * c + ch) * s;
        for (std::size_t k = 0; k < s; ++k) out[k] = a * in[k] + b;
      }
    });
  } else if (training) {
    // One pass: per channel, with K its first value, A = Σ(x − K) and B = Σ(x − K)² in double;
    //   μ = K + A/M,  σ² = (B − A²/M)/M.
    // Shifting by a value of the channel keeps B − A²/M from cancelling (its relative error is
    // about (1 + (μ − K)²/σ²)·2⁻⁵³, and K is a value near μ in σ's terms unless it is an outlier),
    // where plain Σx, Σx² lose (μ/σ)²·2⁻⁵³, visible for double inputs far from 0; Welford's
    // update is as accurate but divides per value and does not vectorise. The parts' sums
    // add in a fixed order: the same bits at any thread count.
    TensorOf<double> work = empty_tensor<double>({parts.count() * 2 + c * 2});
    double* sums = work.data() + parts.count() * 2;
    const Scalar* xp = xv.data();
    bn_channel_sums(parts, work.data(), sums, [&](LaneSums& lanes, std::size_t i, std::size_t ch) {
      lanes.add_shifted(xp + (i * c + ch) * s, s, double(xp[ch * s]));
    });
    for (std::size_t ch = 0; ch < c; ++ch) {
      const double shift = double(xp[ch * s]), a = sums[2 * ch], b = sums[2 * ch + 1];
      const double mean = shift + a / double(m), var = std::max(0.0, (b - a * a / double(m)) / double(m));
      running_mean(ch) = Scalar((1 - momentum) * running_mean(ch) + momentum * mean);
      running_var(ch) = Scalar((1 - momentum) * running_var(ch) + momentum * var * double(m) / double(m - 1));
      mu[ch] = Scalar(mean);
      inv[ch] = Scalar(1.0 / std::sqrt(var + eps));
    }
    recycle(work);
  } else {
    for (std::size_t ch = 0; ch < c; ++ch) {
      mu[ch] = running_mean(ch);
      inv[ch] = Scalar(1.0 / std::sqrt(double(running_var(ch)) + eps));
    }
  }
  if (!(training && bn_by_channel(c))) {
    const Scalar* xp = xv.data();
    Scalar* yp = y.data();
    bn_for_each_plane(n, c, s, [&](std::size_t p, std::size_t ch) {
      const Scalar a = gamma[ch] * inv[ch], b = beta[ch] - a * mu[ch];  // y = a·x + b
      const Scalar* __restrict in = xp + p * s;
      Scalar* __restrict out = yp + p * s;
      for (std::size_t k = 0; k < s; ++k) out[k] = a * in[k] + b;
    });
  }
  return make_result(
      "batch_norm", std::move(y), {x, weight, bias},
      [stats = SavedTensor(std::move(stats)), n, c, s, m, training, eps](Node& self) {
        if (self.grad_node) {
          // create_graph: the same formulas below with ops over x, g as (N, C, S), statistics
          // over axes {0, 2}: x̂ = (x − μ)·inv, inv = (σ² + eps)^(−1/2) (training: μ and σ² of x,
          // differentiated too; eval: the running statistics, constants).
          const Variable g3 = reshape(Variable(self.grad_node), {n, c, s});
          const Variable x3 = reshape(input_variable(self, 0), {n, c, s});
          const Axes over{0, 2};
          Variable inv, xhat;
          if (training) {
            const Variable xc = x3 - mean(x3, over, true);
            inv = pow(mean(square(xc), over, true) + eps, -0.5);
            xhat = xc * inv;
          } else {
            Tensor mu_t = Tensor::from_shape({1, c, 1}), inv_t = Tensor::from_shape({1, c, 1});
            std::copy(stats.get().data(), stats.get().data() + c, mu_t.data());
            std::copy(stats.get().data() + c, stats.get().data() + 2 * c, inv_t.data());
            inv = Variable(std::move(inv_t));
            xhat = (x3 - Variable(std::move(mu_t))) * inv;
          }
          // dγ = Σ g·x̂ : (C);  dβ = Σ g : (C)
          if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, sum(g3 * xhat, over));
          if (self.parent_requires_grad(2)) add_variable_to_parent(self, 2, sum(g3, over));
          if (self.parent_requires_grad(0)) {
            const Variable k1 = reshape(input_variable(self, 1), {1, c, 1}) * inv;
            const Variable dx = training ? k1 * (g3 - mean(g3, over, true) - xhat * mean(g3 * xhat, over, true)) : k1 * g3;
            add_variable_to_parent(self, 0, reshape(dx, shape_of(self.parents[0]->value)));
          }
          return;
        }
        const Tensor& xv = self.parent_value(0);
        const Scalar* gamma = self.parent_value(1).data();
        const Scalar* mu = stats.get().data();
        const Scalar* inv = mu + c;
        const Scalar* g = self.grad.data();
        // Per channel, one pass: Σg and Σg·x̂ = inv·Σg·(x − μ) over the M values, x̂ = (x − μ)·inv,
        // in double (bn_channel_sums: the same bits at any thread count).
        const BnParts parts = bn_parts(n, c, s);
        const Scalar inv_m = Scalar(1) / Scalar(m);
        // dx of one plane (x, g, dx at its first value) of channel ch, from its Σg and Σg·x̂:
        // training: dx = γ/√(σ² + eps) · (g − Σg/M − x̂·Σ(g·x̂)/M);  otherwise dx = γ/√(σ² + eps) · g
        const auto plane_dx = [&](const Scalar* __restrict xr, const Scalar* __restrict gr, Scalar* __restrict d,
                                  bool overwrite, std::size_t ch, Scalar sg_c, Scalar sgx_c) {
          // dx = k1·(g − mean_g − (x − μ)·inv·mean_gx), the constants of the channel in registers
          const Scalar k1 = gamma[ch] * inv[ch], m_c = mu[ch], inv_c = inv[ch];
          const Scalar mean_g = training ? sg_c * inv_m : Scalar(0);
          const Scalar mean_gx = training ? sgx_c * inv_m : Scalar(0);
          if (overwrite) {
            for (std::size_t k = 0; k < s; ++k) d[k] = k1 * (gr[k] - mean_g - (xr[k] - m_c) * inv_c * mean_gx);
          } else {
            for (std::size_t k = 0; k < s; ++k) d[k] += k1 * (gr[k] - mean_g - (xr[k] - m_c) * inv_c * mean_gx);
          }
        };
        if (bn_by_channel(c)) {
          // The same, channel by channel: its sums, dγ and dβ, then dx over its values while
          // they are still in cache.
          Scalar beta_w = 0, beta_b = 0, beta_x = 0;
          Scalar* dgamma = self.parent_requires_grad(1) ? grad_target(self, 1, beta_w) : nullptr;
          Scalar* dbeta = self.parent_requires_grad(2) ? grad_target(self, 2, beta_b) : nullptr;
          Scalar* dx = self.parent_requires_grad(0) ? grad_target(self, 0, beta_x) : nullptr;
          const Scalar* xp = xv.data();
          bn_for_each_channel(c, [&](std::size_t ch) {
            double sums[2];
            bn_one_channel_sums(parts, ch, sums, [&](LaneSums& lanes, std::size_t i, std::size_t k) {
              lanes.add_products(g + (i * c + k) * s, xp + (i * c + k) * s, s, double(mu[k]));
            });
            const Scalar sg_c = Scalar(sums[0]), sgx_c = Scalar(sums[1] * double(inv[ch]));
            if (dgamma) dgamma[ch] = (beta_w == 0 ? Scalar(0) : dgamma[ch]) + sgx_c;
            if (dbeta) dbeta[ch] = (beta_b == 0 ? Scalar(0) : dbeta[ch]) + sg_c;
            if (!dx) return;
            for (std::size_t i = 0; i < n; ++i) {
              const std::size_t off = (i * c + ch) * s;
              plane_dx(xp + off, g + off, dx + off, beta_x == 0, ch, sg_c, sgx_c);
            }
          });
          return;
        }
        TensorOf<double> work = empty_tensor<double>({parts.count() * 2 + c * 2});
        double* channel_sums = work.data() + parts.count() * 2;
        const Scalar* xp = xv.data();
        bn_channel_sums(parts, work.data(), channel_sums, [&](LaneSums& lanes, std::size_t i, std::size_t ch) {
          lanes.add_products(g + (i * c + ch) * s, xp + (i * c + ch) * s, s, double(mu[ch]));
        });
        Tensor sums = empty_tensor<Scalar>({2, c});
        Scalar* sg = sums.data();
        Scalar* sgx = sums.data() + c;
        for (std::size_t ch = 0; ch < c; ++ch) {
          sg[ch] = Scalar(channel_sums[2 * ch]);
          sgx[ch] = Scalar(channel_sums[2 * ch + 1] * double(inv[ch]));
        }
        recycle(work);
        // dγ = Σ g·x̂ : (C);  dβ = Σ g : (C)
        if (self.parent_requires_grad(1)) add_to_grad(self, 1, c, [&](std::size_t ch) { return sgx[ch]; });
        if (self.parent_requires_grad(2)) add_to_grad(self, 2, c, [&](std::size_t ch) { return sg[ch]; });
        if (self.parent_requires_grad(0)) {
          Scalar beta = 0;
          Scalar* dx = grad_target(self, 0, beta);
          bn_for_each_plane(n, c, s, [&](std::size_t p, std::size_t ch) {
            plane_dx(xp + p * s, g + p * s, dx + p * s, beta == 0, ch, sg[ch], sgx[ch]);
          });
        }
        recycle(sums);
      });
}

namespace {

// ---- layer_norm's row kernels ----------------------------------------------------------------

// Rows per parallel_for chunk for rows of d elements (a few flops per element).
std::size_t layer_norm_grain(std::size_t d) {
  return std::max<std::size_t>(1, kElementwiseGrain / (4 * std::max<std::size_t>(d, 1)));
}
// dγ and dβ are summed over fixed blocks of this many rows (partials combined in block order),
// so they do not depend on the thread count.
constexpr std::size_t kLayerNormRowBlock = 32;

// Two row sums Σ_k a(k) and Σ_k b(k), k < d, in double, each in kLanes interleaved partial sums
// (lane j takes k ≡ j mod kLanes) added pairwise at the end. The order is fixed (the same bits
// on every run and thread count), and the lanes' adds do not wait on each other, so they
// vectorize and pipeline where one running sum would wait ~4 cycles on every add.
struct RowSums {
  double a, b;
};
template <class A, class B>
RowSums lane_sums(std::size_t d, const A& a, const B& b) {
  constexpr std::size_t kLanes = 8;
  double sa[kLanes] = {}, sb[kLanes] = {};
  std::size_t k = 0;
  for (; k + kLanes <= d; k += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      sa[j] += a(k + j);
      sb[j] += b(k + j);
    }
  }
  for (std::size_t j = 0; k < d; ++k, ++j) {
    sa[j] += a(k);
    sb[j] += b(k);
  }
  const auto total = [](const double* s) { return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])); };
  return {total(sa), total(sb)};
}

struct RowMoments {
  double mean, var;  // mean and biased variance
};
// Mean and biased variance of p[0 .. d) in one pass: double sums of x − K and (x − K)² with
// the shift K = p[0], a sample of the row, so the subtraction does not cancel catastrophically.
template <class Scalar>
RowMoments row_moments(const Scalar* p, std::size_t d) {
  const double shift = p[0];
  const RowSums s = lane_sums(
      d, [&](std::size_t k) { return double(p[k]) - shift; },
      [&](std::size_t k) {
        const double v = double(p[k]) - shift;
        return v * v;
      });
  const double m = s.a / double(d);
  return {shift + m, std::max(0.0, s.b / double(d) - m * m)};
}

// layer_norm's backward for x read as (rows, d), x̂ = (x − μ)·inv from the saved statistics:
// per row, with ĝ = g ⊙ γ, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))·inv, parallel over rows; dγ =
// Σ_rows g ⊙ x̂ and dβ = Σ_rows g from per-block partials (fixed blocks of rows, in double)
// added in block order: the same bits whatever the thread count.
template <class Scalar>
void layer_norm_backward(BasicNode<Scalar>& self, const TensorOf<Scalar>& stats, std::size_t rows, std::size_t d) {
  const Scalar* xs = self.parent_value(0).data();
  const Scalar* gamma = self.parent_value(1).data();
  const Scalar* g = self.grad.data();
  const Scalar* st = stats.data();
  const bool want_x = self.parent_requires_grad(0);
  const bool want_wb = self.parent_requires_grad(1) || self.parent_requires_grad(2);
  const std::size_t blocks = (rows + kLayerNormRowBlock - 1) / kLayerNormRowBlock;
  // partials (blocks, 2, d): Σ g ⊙ x̂ and Σ g over each block's rows
  TensorOf<double> partials = want_wb ? empty_tensor<double>({blocks, std::size_t(2), d}) : TensorOf<double>();
  double* part = partials.data();
  bool accumulate_x = false;
  Scalar* dx = want_x ? grad_target(self, 0, accumulate_x) : nullptr;
  const std::size_t grain = std::max<std::size_t>(1, layer_norm_grain(d) / kLayerNormRowBlock);
  parallel_for(0, blocks, grain, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t blk = b0; blk < b1; ++blk) {
      double* pgx = want_wb ? part + blk * 2 * d : nullptr;
      double* pg = want_wb ? pgx + d : nullptr;
      if (want_wb) std::fill(pgx, pgx + 2 * d, 0.0);
      const std::size_t i1 = std::min(rows, (blk + 1) * kLayerNormRowBlock);
      for (std::size_t i = blk * kLayerNormRowBlock; i < i1; ++i) {
        const Scalar* xr = xs + i * d;
        const Scalar* gr = g + i * d;
        const Scalar mu = st[2 * i], inv = st[2 * i + 1];
        if (want_wb) {
          for (std::size_t k = 0; k < d; ++k) {
            pgx[k] += double(gr[k]) * ((xr[k] - mu) * inv);
            pg[k] += gr[k];
          }
        }
        if (!want_x) continue;
        // Σ ĝ and Σ ĝ ⊙ x̂ over the row
        const RowSums sums = lane_sums(
            d, [&](std::size_t k) { return double(gr[k]) * gamma[k]; },
            [&](std::size_t k) { return double(gr[k]) * gamma[k] * ((xr[k] - mu) * inv); });
        const Scalar mean_g = Scalar(sums.a / double(d)), mean_gx = Scalar(sums.b / double(d));
        Scalar* dr = dx + i * d;
        if (accumulate_x) {
          for (std::size_t k = 0; k < d; ++k)
            dr[k] += (gr[k] * gamma[k] - mean_g - ((xr[k] - mu) * inv) * mean_gx) * inv;
        } else {
          for (std::size_t k = 0; k < d; ++k)
            dr[k] = (gr[k] * gamma[k] - mean_g - ((xr[k] - mu) * inv) * mean_gx) * inv;
        }
      }
    }
  });
  if (!want_wb) return;
  // dγ (which 1) and dβ (which 2): the block partials summed in block order
  for (std::size_t which : {std::size_t(1), std::size_t(2)}) {
    if (!self.parent_requires_grad(which)) continue;
    bool accumulate = false;
    Scalar* dp = grad_target(self, which, accumulate);
    const std::size_t off = which == 1 ? 0 : d;
    for (std::size_t k = 0; k < d; ++k) {
      double acc = 0;
      for (std::size_t blk = 0; blk < blocks; ++blk) acc += part[blk * 2 * d + off + k];
      dp[k] = accumulate ? dp[k] + Scalar(acc) : Scalar(acc);
    }
  }
  recycle(partials);
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> layer_norm(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                                 const BasicVariable<Scalar>& bias, double eps) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  const std::size_t r = wv.dimension();
  bool ok = xv.dimension() >= r && r > 0 && shapes_equal(wv.shape(), bias.value().shape()) && eps > 0;
  for (std::size_t k = 0; ok && k < r; ++k) ok = xv.shape()[xv.dimension() - r + k] == wv.shape()[k];
  if (!ok || wv.size() == 0) {
    throw std::invalid_argument("layer_norm: the trailing axes of input " + shape_str(xv) +
                                " must equal the normalized shape of weight " + shape_str(wv) + " and bias " +
                                shape_str(bias.value()) + " (non-empty; eps > 0)");
  }
  const std::size_t d = wv.size(), rows = xv.size() / d;
  // stats (rows, 2): μ and 1/√(σ² + eps) of each sample (row of d normalized elements)
  Tensor stats = empty_tensor<Scalar>({rows, std::size_t(2)});
  Tensor y = empty_like(xv);
  const Scalar* gamma = wv.data();
  const Scalar* beta = bias.value().data();
  const Scalar* xs = xv.data();
  Scalar* st = stats.data();
  Scalar* ys = y.data();
  // rows are independent: parallel over rows, the same arithmetic whatever the thread count
  parallel_for(0, rows, layer_norm_grain(d), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t i = r0; i < r1; ++i) {
      const Scalar* p = xs + i * d;
      const RowMoments mv = row_moments(p, d);
      const Scalar mu = Scalar(mv.mean), inv = Scalar(1.0 / std::sqrt(mv.var + eps));
      st[2 * i] = mu;
      st[2 * i + 1] = inv;
      Scalar* q = ys + i * d;
      for (std::size_t k = 0; k < d; ++k) q[k] = gamma[k] * ((p[k] - mu) * inv) + beta[k];
    }
  });
  return make_result(
      "layer_norm", std::move(y), {x, weight, bias}, [stats = SavedTensor(std::move(stats)), rows, d, eps](Node& self) {
        if (self.grad_node) {
          // create_graph: the same formulas below with ops over x, g as (rows, d) and γ as (1, d):
          // x̂ = (x − μ)·inv, μ and inv = (σ² + eps)^(−1/2) of each row, differentiated too.
          const Variable g2 = reshape(Variable(self.grad_node), {rows, d});
          const Variable x2 = reshape(input_variable(self, 0), {rows, d});
          const Variable xc = x2 - mean(x2, 1, true);
          const Variable inv = pow(mean(square(xc), 1, true) + eps, -0.5);
          const Variable xhat = xc * inv;
          const Shape norm_shape = shape_of(self.parents[1]->value);
          if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, reshape(sum(g2 * xhat, 0), norm_shape));
          if (self.parent_requires_grad(2)) add_variable_to_parent(self, 2, reshape(sum(g2, 0), norm_shape));
          if (self.parent_requires_grad(0)) {
            const Variable gh = g2 * reshape(input_variable(self, 1), {1, d});
            const Variable dx = inv * (gh - mean(gh, 1, true) - xhat * mean(gh * xhat, 1, true));
            add_variable_to_parent(self, 0, reshape(dx, shape_of(self.parents[0]->value)));
          }
          return;
        }
        layer_norm_backward(self, stats.get(), rows, d);
      });
}

#define XTGRAD_INSTANTIATE_NORMALIZATION(T)                                                                   \
  template BasicVariable<T> batch_norm(const BasicVariable<T>&, const BasicVariable<T>&, const BasicVariable<T>&, \
                                       TensorOf<T>&, TensorOf<T>&, bool, double, double);                     \
  template BasicVariable<T> layer_norm(const BasicVariable<T>&, const BasicVariable<T>&, const BasicVariable<T>&, \
                                       double);
XTGRAD_INSTANTIATE_NORMALIZATION(float)
XTGRAD_INSTANTIATE_NORMALIZATION(double)
#undef XTGRAD_INSTANTIATE_NORMALIZATION

}  // namespace xtgrad
