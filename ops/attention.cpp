#include "xtgrad/ops/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/ops/dropout.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/matmul_nd.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/shape_ops.hpp"

namespace xtgrad {
namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// ---- shapes and the mask ----------------------------------------------------------------------

// q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv), or with `heads` = H > 0 q (..., Lq, H·d),
// k (..., Lk, H·d), v (..., Lk, H·dv); `items` is the product of the leading axes (times H).
struct Dims {
  std::size_t items = 1, lq = 0, lk = 0, d = 0, dv = 0, heads = 0;
  // Where item t's (rows, cols) matrix starts in a tensor of such items, and its row stride:
  // item after item, or with heads the columns [h·cols, (h + 1)·cols) of the rows of batch t / H.
  std::size_t offset(std::size_t t, std::size_t rows, std::size_t cols) const {
    return heads == 0 ? t * rows * cols : (t / heads) * rows * heads * cols + (t % heads) * cols;
  }
  std::size_t ld(std::size_t cols) const { return heads == 0 ? cols : heads * cols; }
};

template <class Scalar>
std::string shapes_of(const TensorOf<Scalar>& q, const TensorOf<Scalar>& k, const TensorOf<Scalar>& v) {
  return "q " + shape_str(q) + ", k " + shape_str(k) + ", v " + shape_str(v);
}

template <class Scalar>
Dims check_qkv(const TensorOf<Scalar>& q, const TensorOf<Scalar>& k, const TensorOf<Scalar>& v, std::size_t heads) {
  const std::size_t r = q.dimension();
  bool ok = r >= 2 && k.dimension() == r && v.dimension() == r;
  for (std::size_t a = 0; ok && a + 2 < r; ++a) ok = q.shape()[a] == k.shape()[a] && q.shape()[a] == v.shape()[a];
  if (!ok) {
    throw std::invalid_argument(std::string(kOp) +
                                ": q, k, v must have the same rank (>= 2) and the same leading axes, got " +
                                shapes_of(q, k, v));
  }
  Dims s;
  s.heads = heads;
  const std::size_t h = std::max<std::size_t>(heads, 1);
  for (std::size_t a = 0; a + 2 < r; ++a) s.items *= q.shape()[a];
  s.items *= h;
  s.lq = q.shape()[r - 2];
  s.lk = k.shape()[r - 2];
  if (q.shape()[r - 1] % h != 0 || v.shape()[r - 1] % h != 0) {
    throw std::invalid_argument(std::string(kOp) + ": with " + std::to_string(heads) +
                                " heads the last axes of q, k, v must be multiples of it, got " + shapes_of(q, k, v));
  }
  s.d = q.shape()[r - 1] / h;
  s.dv = v.shape()[r - 1] / h;
  if (k.shape()[r - 1] != q.shape()[r - 1]) {
    throw std::invalid_argument(std::string(kOp) + ": q and k must have the same last axis (d), got " +
                                shapes_of(q, k, v));
  }
  if (v.shape()[r - 2] != s.lk) {
    throw std::invalid_argument(std::string(kOp) + ": k and v must have the same number of keys (axis -2), got " +
                                shapes_of(q, k, v));
  }
  return s;
}

// The scores' shape: (..., Lq, Lk), or (..., H, Lq, Lk) with heads (held inline up to rank 4:
// no allocation).
template <class Scalar>
typename TensorOf<Scalar>::shape_type scores_shape(const TensorOf<Scalar>& q, const Dims& s) {
  typename TensorOf<Scalar>::shape_type scores(q.shape().begin(), q.shape().end() - 2);
  if (s.heads > 0) scores.push_back(s.heads);
  scores.push_back(s.lq);
  scores.push_back(s.lk);
  return scores;
}

// Where score (item t, row i, column j) reads the mask: offset(t) + i·row + j·col, strides 0
// along the axes the mask broadcasts.
struct MaskLayout {
  std::vector<std::size_t> extent, stride;  // the scores' leading axes and the mask's strides along them
  std::size_t row = 0, col = 0;
  std::size_t offset(std::size_t t) const {
    std::size_t o = 0;
    for (std::size_t a = extent.size(); a-- > 0;) {
      o += (t % extent[a]) * stride[a];
      t /= extent[a];
    }
    return o;
  }
};

// The mask's layout over the scores (..., [H,] Lq, Lk).
template <class Scalar, class ScoresShape>
MaskLayout mask_layout(const TensorOf<Scalar>& mask, const ScoresShape& scores, const TensorOf<Scalar>& q) {
  const std::size_t r = scores.size(), mr = mask.dimension();
  bool ok = mr <= r;
  std::vector<std::size_t> stride(r, 0);
  std::size_t natural = 1;
  for (std::size_t a = 0; ok && a < mr; ++a) {
    const std::size_t ma = mr - 1 - a, sa = r - 1 - a;  // aligned from the right
    const std::size_t e = mask.shape()[ma];
    ok = e == scores[sa] || e == 1;
    stride[sa] = e == 1 ? 0 : natural;
    natural *= e;
  }
  if (!ok) {
    const Shape shape(scores.begin(), scores.end());
    throw std::invalid_argument(std::string(kOp) + ": mask " + shape_str(mask) +
                                " does not broadcast to the scores' shape " + shape_str(shape) + " (q " + shape_str(q) +
                                ")");
  }
  MaskLayout m;
  m.extent.assign(scores.begin(), scores.end() - 2);
  m.stride.assign(stride.begin(), stride.end() - 2);
  m.row = stride[r - 2];
  m.col = stride[r - 1];
  return m;
}

// What the forward applies to each row of scores before the softmax.
template <class Scalar>
struct Masking {
  const Scalar* mask = nullptr;  // nullptr: none
  bool boolean = false;
  bool causal = false;
  const MaskLayout* layout = nullptr;

  // Row i of item t's scores s (Lk of them): the additive mask added, or −inf where the boolean
  // mask is 0 or the key is in the future (j > i).
  void apply(Scalar* s, std::size_t lk, std::size_t t, std::size_t i) const {
    constexpr Scalar ninf = -std::numeric_limits<Scalar>::infinity();
    if (mask) {
      const Scalar* m = mask + layout->offset(t) + i * layout->row;
      const std::size_t c = layout->col;
      if (boolean) {
        for (std::size_t j = 0; j < lk; ++j)
          if (m[j * c] == Scalar(0)) s[j] = ninf;
      } else {
        for (std::size_t j = 0; j < lk; ++j) s[j] += m[j * c];
      }
    }
    if (causal)
      for (std::size_t j = i + 1; j < lk; ++j) s[j] = ninf;
  }
};

// ---- row kernels --------------------------------------------------------------------------------

// s ← e^(s − shift) over n elements, SIMD. xsimd's exp flushes x < ln(smallest normal) to 0
// where std::exp gives a subnormal: lanes in that range go through std::exp (rare), −inf
// (a masked score) gives 0 on the SIMD path; the tail is padded into one more batch, as
// ops/simd_math.cpp does.
template <class Scalar>
Scalar exp_shifted(Scalar* s, std::size_t n, Scalar shift) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  static const Scalar low = std::log(std::numeric_limits<Scalar>::min());
  const Batch sh(shift), lo(low), ninf(-std::numeric_limits<Scalar>::infinity()), zero(Scalar(0));
  const auto one = [&](const Batch& x) {
    const auto masked = x == ninf;
    const Batch r = xsimd::select(masked, zero, xsimd::exp(x));
    if (!xsimd::any((x < lo) & !masked)) return r;
    alignas(64) Scalar in[kLanes];
    alignas(64) Scalar out[kLanes];
    x.store_aligned(in);
    r.store_aligned(out);
    for (std::size_t j = 0; j < kLanes; ++j)
      if (in[j] < low) out[j] = std::exp(in[j]);
    return Batch::load_aligned(out);
  };
  Batch acc(Scalar(0));  // the sum, lane by lane: a fixed order for a given n
  std::size_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    const Batch e = one(Batch::load_unaligned(s + k) - sh);
    e.store_unaligned(s + k);
    acc += e;
  }
  Scalar sum = xsimd::hadd(acc);
  if (k < n) {
    alignas(64) Scalar buf[kLanes];
    std::fill(buf, buf + kLanes, shift);
    std::copy(s + k, s + n, buf);
    one(Batch::load_aligned(buf) - sh).store_aligned(buf);
    std::copy(buf, buf + (n - k), s + k);
    for (std::size_t j = 0; j < n - k; ++j) sum += buf[j];
  }
  return sum;
}

// max of s[0 .. n), n >= 1, SIMD lanes then the tail.
template <class Scalar>
Scalar row_max(const Scalar* s, std::size_t n) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  Scalar mx = s[0];
  std::size_t k = 0;
  if (n >= kLanes) {
    Batch m = Batch::load_unaligned(s);
    for (k = kLanes; k + kLanes <= n; k += kLanes) m = xsimd::max(m, Batch::load_unaligned(s + k));
    alignas(64) Scalar lanes[kLanes];
    m.store_aligned(lanes);
    for (std::size_t j = 0; j < kLanes; ++j) mx = std::max(mx, lanes[j]);
  }
  for (; k < n; ++k) mx = std::max(mx, s[k]);
  return mx;
}

// Σ a ⊙ b over n elements, SIMD lanes then the tail (a fixed order for a given n).
template <class Scalar>
Scalar row_dot(const Scalar* a, const Scalar* b, std::size_t n) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t kLanes = Batch::size;
  Batch acc(Scalar(0));
  std::size_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    acc = xsimd::fma(Batch::load_unaligned(a + k), Batch::load_unaligned(b + k), acc);
  }
  Scalar sum = xsimd::hadd(acc);
  for (; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

// s ← softmax(s) over n elements in place; a row with no finite maximum (every key masked:
// all −inf) becomes 0.
template <class Scalar>
void softmax_row(Scalar* s, std::size_t n) {
  if (n == 0) return;
  const Scalar mx = row_max(s, n);
  if (mx == -std::numeric_limits<Scalar>::infinity()) {
    std::fill(s, s + n, Scalar(0));
    return;
  }
  const Scalar inv = Scalar(1) / exp_shifted(s, n, mx);
  for (std::size_t j = 0; j < n; ++j) s[j] *= inv;
}

// C = alpha·op(A)·op(B) + beta·C with row strides lda, ldb, ldc (one head's columns are read
// and written in place), an empty k-sum giving beta·C (BLAS may leave C alone at k = 0).
template <class Scalar>
void gemm_k0(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, Scalar alpha, const Scalar* a,
             std::size_t lda, const Scalar* b, std::size_t ldb, Scalar beta, Scalar* c, std::size_t ldc) {
  if (k == 0) {
    if (beta == 0)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, Scalar(0));
    return;
  }
  gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// f(chunk, item_begin, item_end) over `chunks` contiguous chunks of [0, items) on the pool
// (chunks from chunk_count: at most num_threads()); inside a chunk gemm runs single-threaded.
template <class F>
void for_each_chunk(std::size_t items, std::size_t chunks, const F& f) {
  if (chunks <= 1) {
    f(std::size_t(0), std::size_t(0), items);
    return;
  }
  parallel_for(0, chunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      f(c, parallel_detail::chunk_start(0, items, chunks, c), parallel_detail::chunk_start(0, items, chunks, c + 1));
    }
  });
}

// Items per chunk: enough work (Lq·Lk·(d + dv) multiply-adds and Lq·Lk exponentials) that
// waking a worker pays.
std::size_t item_grain(const Dims& s) {
  const std::size_t work = std::max<std::size_t>(1, s.lq * s.lk * (s.d + s.dv + 16));
  return std::max<std::size_t>(1, (32 * 1024 + work - 1) / work);
}

// ---- backward -----------------------------------------------------------------------------------

// What the backward closure keeps.
template <class Scalar>
struct Saved {
  Dims s;
  Scalar scale;
  bool causal, boolean, has_mask, has_dropout;
  SavedTensor<Scalar> probs;    // P (..., Lq, Lk)
  SavedTensor<Scalar> drop;     // dropout multipliers (P's shape) or empty
  SavedTensor<Scalar> mask;     // a copy of the mask (for create_graph) or empty
  MaskLayout layout;
};

// The fast path: per item, dP = dO·Vᵀ (⊙ m), dS = P ⊙ (dP − rowsum(dP ⊙ P)) in one pass per row,
// dQ (+)= scale·dS·K, dK (+)= scale·dSᵀ·Q, dV (+)= (P ⊙ m)ᵀ·dO, straight into the gradients'
// storage (each item owns its blocks; with heads, its columns, read and written in place through
// the gemm's row strides), parallel over items.
template <class Scalar>
void attention_backward(BasicNode<Scalar>& self, const Saved<Scalar>& sv) {
  const Dims& s = sv.s;
  const Scalar* q = self.parent_value(0).data();
  const Scalar* k = self.parent_value(1).data();
  const Scalar* v = self.parent_value(2).data();
  const Scalar* g = self.grad.data();
  const Scalar* P = sv.probs.get().data();
  const Scalar* m = sv.has_dropout ? sv.drop.get().data() : nullptr;
  const bool want[3] = {self.parent_requires_grad(0), self.parent_requires_grad(1), self.parent_requires_grad(2)};
  // in parent order, so an input passed twice (q = k) is overwritten first, then added to
  Scalar beta[3] = {0, 0, 0};
  Scalar* grad[3] = {nullptr, nullptr, nullptr};
  for (std::size_t i = 0; i < 3; ++i)
    if (want[i]) grad[i] = grad_target(self, i, beta[i]);
  const std::size_t block = s.lq * s.lk;
  const std::size_t ldq = s.ld(s.d), ldv = s.ld(s.dv);  // row strides of q, k, dq, dk and of v, dO, dv
  const std::size_t chunks = std::max<std::size_t>(1, parallel_detail::chunk_count(s.items, item_grain(s)));
  // per chunk: dS (Lq, Lk), and P ⊙ m (Lq, Lk) with dropout
  const std::size_t per_chunk = block * (m ? 2 : 1);
  TensorOf<Scalar> scratch = empty_tensor<Scalar>({chunks * per_chunk});
  Scalar* scr = scratch.data();
  for_each_chunk(s.items, chunks, [&](std::size_t c, std::size_t t0, std::size_t t1) {
    Scalar* dS = scr + c * per_chunk;
    Scalar* pm = dS + block;
    for (std::size_t t = t0; t < t1; ++t) {
      const Scalar* qt = q + s.offset(t, s.lq, s.d);
      const Scalar* kt = k + s.offset(t, s.lk, s.d);
      const Scalar* vt = v + s.offset(t, s.lk, s.dv);
      const Scalar* gt = g + s.offset(t, s.lq, s.dv);
      const Scalar* pt = P + t * block;
      const Scalar* mt = m ? m + t * block : nullptr;
      if (want[0] || want[1]) {
        // dP = dO·Vᵀ : (Lq, Lk), then dS = P ⊙ (dP − Σ_j dP ⊙ P) row by row (dP ⊙ m with dropout)
        gemm_k0(false, true, s.lq, s.lk, s.dv, Scalar(1), gt, ldv, vt, ldv, Scalar(0), dS, s.lk);
        for (std::size_t i = 0; i < s.lq; ++i) {
          Scalar* r = dS + i * s.lk;
          const Scalar* p = pt + i * s.lk;
          const std::size_t live = sv.causal ? std::min(s.lk, i + 1) : s.lk;  // P is 0 past it
          if (mt) {
            const Scalar* mr = mt + i * s.lk;
            for (std::size_t j = 0; j < live; ++j) r[j] *= mr[j];
          }
          const Scalar rs = row_dot(r, p, live);
          for (std::size_t j = 0; j < live; ++j) r[j] = p[j] * (r[j] - rs);
          std::fill(r + live, r + s.lk, Scalar(0));
        }
        // dQ = scale·dS·K : (Lq, d);  dK = scale·dSᵀ·Q : (Lk, d)
        if (want[0]) {
          gemm_k0(false, false, s.lq, s.d, s.lk, sv.scale, dS, s.lk, kt, ldq, beta[0],
                  grad[0] + s.offset(t, s.lq, s.d), ldq);
        }
        if (want[1]) {
          gemm_k0(true, false, s.lk, s.d, s.lq, sv.scale, dS, s.lk, qt, ldq, beta[1],
                  grad[1] + s.offset(t, s.lk, s.d), ldq);
        }
      }
      if (want[2]) {
        // dV = (P ⊙ m)ᵀ·dO : (Lk, dv)
        const Scalar* a = pt;
        if (mt) {
          for (std::size_t j = 0; j < block; ++j) pm[j] = pt[j] * mt[j];
          a = pm;
        }
        gemm_k0(true, false, s.lk, s.dv, s.lq, Scalar(1), a, s.lk, gt, ldv, beta[2],
                grad[2] + s.offset(t, s.lk, s.dv), ldv);
      }
    }
  });
  recycle(scratch);
}

// create_graph: the same formulas with ops, P recomputed from q and k as softmax(scale·Q·Kᵀ + M)
// with M the constant mask (additive values, −inf where not attended; 0 on rows with no key
// left, which are then multiplied by 0), so second derivatives exist. With heads, q, k, v and
// g are viewed as (..., H, L, ·) by reshape and swap_axes (copies: this path records a graph
// anyway) and the shares mapped back the same way.
template <class Scalar>
void attention_backward_graph(BasicNode<Scalar>& self, const Saved<Scalar>& sv) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  const Dims& s = sv.s;
  const Shape shape = shape_of(sv.probs.get());  // the scores' (..., [H,] Lq, Lk)
  // (..., L, H·c) → (..., H, L, c) and back
  const auto split = [&](const Variable& x, std::size_t cols) {
    if (s.heads == 0) return x;
    Shape split_shape(shape.begin(), shape.end() - 3);
    split_shape.insert(split_shape.end(), {x.value().shape()[x.value().dimension() - 2], s.heads, cols});
    return swap_axes(reshape(x, split_shape), -2, -3);
  };
  const auto merge = [&](std::size_t input, const Variable& x) {
    if (s.heads == 0) return x;
    return reshape(swap_axes(x, -2, -3), shape_of(self.parents[input]->value));
  };
  const Variable g = split(Variable(self.grad_node), s.dv), q = split(input_variable(self, 0), s.d),
                 k = split(input_variable(self, 1), s.d), v = split(input_variable(self, 2), s.dv);
  Variable scores = matmul_nd(q, swap_axes(k, -1, -2)) * double(sv.scale);
  Tensor alive;  // (..., Lq, 1): 0 on rows with no key left, 1 elsewhere (when there are such rows)
  bool any_dead = false;
  if (sv.has_mask || sv.causal) {
    Shape row_shape = shape;
    row_shape.back() = 1;
    Tensor M = Tensor::from_shape(shape), live = Tensor::from_shape(row_shape);
    const Masking<Scalar> masking{sv.has_mask ? sv.mask.get().data() : nullptr, sv.boolean, sv.causal, &sv.layout};
    constexpr Scalar ninf = -std::numeric_limits<Scalar>::infinity();
    for (std::size_t t = 0; t < s.items; ++t) {
      for (std::size_t i = 0; i < s.lq; ++i) {
        Scalar* r = M.data() + (t * s.lq + i) * s.lk;
        std::fill(r, r + s.lk, Scalar(0));
        masking.apply(r, s.lk, t, i);
        const bool dead = s.lk > 0 && std::all_of(r, r + s.lk, [](Scalar x) { return x == ninf; });
        if (dead) std::fill(r, r + s.lk, Scalar(0));
        live.data()[t * s.lq + i] = dead ? Scalar(0) : Scalar(1);
        any_dead = any_dead || dead;
      }
    }
    scores = scores + Variable(std::move(M));
    if (any_dead) alive = std::move(live);
  }
  Variable p = softmax(scores, -1);
  if (any_dead) p = p * Variable(std::move(alive));
  const Variable drop = sv.has_dropout ? Variable(Tensor(sv.drop.get())) : Variable(Tensor());
  const Variable pm = sv.has_dropout ? p * drop : p;
  // dV = (P ⊙ m)ᵀ·dO;  dP = (dO·Vᵀ) ⊙ m;  dS = P ⊙ (dP − Σ_j dP ⊙ P);
  // dQ = scale·dS·K;  dK = scale·dSᵀ·Q
  if (self.parent_requires_grad(2)) add_variable_to_parent(self, 2, merge(2, matmul_nd(swap_axes(pm, -1, -2), g)));
  if (!self.parent_requires_grad(0) && !self.parent_requires_grad(1)) return;
  Variable dp = matmul_nd(g, swap_axes(v, -1, -2));
  if (sv.has_dropout) dp = dp * drop;
  const Variable ds = p * (dp - sum(dp * p, -1, true));
  if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, merge(0, matmul_nd(ds, k) * double(sv.scale)));
  if (self.parent_requires_grad(1)) {
    add_variable_to_parent(self, 1, merge(1, matmul_nd(swap_axes(ds, -1, -2), q) * double(sv.scale)));
  }
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> scaled_dot_product_attention(const BasicVariable<Scalar>& q, const BasicVariable<Scalar>& k,
                                                   const BasicVariable<Scalar>& v,
                                                   const BasicAttentionOptions<NonDeduced<Scalar>>& options) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& qv = q.value();
  const Tensor& kv = k.value();
  const Tensor& vv = v.value();
  const Dims s = check_qkv(qv, kv, vv, options.heads);
  const double p = options.dropout_p;
  if (!(p >= 0 && p < 1) || (p > 0 && options.rng == nullptr)) {
    throw std::invalid_argument(std::string(kOp) + ": dropout_p must be in [0, 1) (and > 0 needs an rng), got " +
                                std::to_string(p) + " for " + shapes_of(qv, kv, vv));
  }
  const double scale_d = options.scale ? *options.scale : 1.0 / std::sqrt(double(std::max<std::size_t>(s.d, 1)));
  if (!std::isfinite(scale_d)) {
    throw std::invalid_argument(std::string(kOp) + ": scale must be finite, got " + std::to_string(scale_d) +
                                " for " + shapes_of(qv, kv, vv));
  }
  const Scalar scale = Scalar(scale_d);
  const typename Tensor::shape_type scores = scores_shape(qv, s);
  MaskLayout layout;
  if (options.mask) layout = mask_layout(*options.mask, scores, qv);
  const Masking<Scalar> masking{options.mask ? options.mask->data() : nullptr,
                                options.mask_kind == AttentionMask::boolean, options.causal, &layout};
  // P (..., [H,] Lq, Lk) and O (..., Lq, [H·] dv), allocated here (chunks must not allocate)
  typename Tensor::shape_type oshape = qv.shape();
  oshape.back() = vv.shape()[vv.dimension() - 1];
  Tensor probs = empty_tensor<Scalar>(scores);
  Tensor out = empty_tensor<Scalar>(oshape);
  // (shape (0) when unused: a default Tensor is 0-d, one element, and would call malloc each step)
  Tensor drop = p > 0 ? dropout_mask<Scalar>(scores, p, *options.rng) : Tensor::from_shape({0});
  const std::size_t block = s.lq * s.lk;
  const std::size_t ldq = s.ld(s.d), ldv = s.ld(s.dv);  // row strides of q, k and of v, O
  const std::size_t chunks = std::max<std::size_t>(1, parallel_detail::chunk_count(s.items, item_grain(s)));
  // per chunk: P ⊙ m with dropout
  const std::size_t per_chunk = p > 0 ? block : 0;
  Tensor scratch = per_chunk > 0 ? empty_tensor<Scalar>({chunks * per_chunk}) : Tensor::from_shape({0});
  const Scalar* qd = qv.data();
  const Scalar* kd = kv.data();
  const Scalar* vd = vv.data();
  for_each_chunk(s.items, chunks, [&](std::size_t c, std::size_t t0, std::size_t t1) {
    Scalar* pm = scratch.data() + c * per_chunk;
    for (std::size_t t = t0; t < t1; ++t) {
      const Scalar* qt = qd + s.offset(t, s.lq, s.d);
      const Scalar* kt = kd + s.offset(t, s.lk, s.d);
      const Scalar* vt = vd + s.offset(t, s.lk, s.dv);
      Scalar* ot = out.data() + s.offset(t, s.lq, s.dv);
      // S = scale·Q·Kᵀ : (Lq, Lk), masked and softmaxed row by row in place: P
      Scalar* pt = probs.data() + t * block;
      gemm_k0(false, true, s.lq, s.lk, s.d, scale, qt, ldq, kt, ldq, Scalar(0), pt, s.lk);
      for (std::size_t i = 0; i < s.lq; ++i) {
        Scalar* row = pt + i * s.lk;
        masking.apply(row, s.lk, t, i);
        // causal: keys past i are 0 already; the softmax runs over the first i + 1
        const std::size_t live = options.causal ? std::min(s.lk, i + 1) : s.lk;
        softmax_row(row, live);
        std::fill(row + live, row + s.lk, Scalar(0));
      }
      // O = (P ⊙ m)·V : (Lq, dv)
      const Scalar* a = pt;
      if (p > 0) {
        const Scalar* mt = drop.data() + t * block;
        for (std::size_t j = 0; j < block; ++j) pm[j] = pt[j] * mt[j];
        a = pm;
      }
      gemm_k0(false, false, s.lq, s.dv, s.lk, Scalar(1), a, s.lk, vt, ldv, Scalar(0), ot, ldv);
    }
  });
  if (per_chunk > 0) recycle(scratch);
  Tensor mask_copy = Tensor::from_shape({0});
  if (options.mask) {
    mask_copy = empty_like(*options.mask);
    std::copy(options.mask->begin(), options.mask->end(), mask_copy.begin());
  }
  Saved<Scalar> saved{s,
                      scale,
                      options.causal,
                      options.mask_kind == AttentionMask::boolean,
                      bool(options.mask),
                      p > 0,
                      SavedTensor<Scalar>(std::move(probs)),
                      SavedTensor<Scalar>(std::move(drop)),
                      SavedTensor<Scalar>(std::move(mask_copy)),
                      std::move(layout)};
  return make_result(kOp, std::move(out), {q, k, v}, [sv = std::move(saved)](Node& self) {
    if (self.grad_node) {
      attention_backward_graph(self, sv);
      return;
    }
    attention_backward(self, sv);
  });
}

#define XTGRAD_INSTANTIATE_ATTENTION(T)                                                                              \
  template BasicVariable<T> scaled_dot_product_attention(const BasicVariable<T>&, const BasicVariable<T>&,           \
                                                         const BasicVariable<T>&,                                    \
                                                         const BasicAttentionOptions<NonDeduced<T>>&);
XTGRAD_INSTANTIATE_ATTENTION(float)
XTGRAD_INSTANTIATE_ATTENTION(double)
#undef XTGRAD_INSTANTIATE_ATTENTION

}  // namespace xtgrad
