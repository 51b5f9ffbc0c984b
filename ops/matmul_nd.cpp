#include "xtgrad/ops/matmul_nd.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/shape_ops.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

// The batch layout of a product: broadcast batch shape, and for each batch the offset of its
// (m, k) block in a and (k, n) block in b.
struct BatchPlan {
  Shape batch;
  std::vector<std::size_t> a_off, b_off;
};

// a_batch and b_batch are the leading axes of a and b (as matrices); broadcast them.
template <class Scalar>
BatchPlan plan_batches(const Shape& a_batch, const Shape& b_batch, std::size_t a_block, std::size_t b_block,
                       const TensorOf<Scalar>& a, const TensorOf<Scalar>& b) {
  const std::size_t r = std::max(a_batch.size(), b_batch.size());
  BatchPlan p;
  p.batch.resize(r);
  std::vector<std::size_t> a_ext(r, 1), b_ext(r, 1);
  std::copy(a_batch.begin(), a_batch.end(), a_ext.begin() + static_cast<std::ptrdiff_t>(r - a_batch.size()));
  std::copy(b_batch.begin(), b_batch.end(), b_ext.begin() + static_cast<std::ptrdiff_t>(r - b_batch.size()));
  for (std::size_t d = 0; d < r; ++d) {
    if (a_ext[d] != b_ext[d] && a_ext[d] != 1 && b_ext[d] != 1) {
      throw std::invalid_argument("matmul_nd: batch axes do not broadcast: lhs " + shape_str(a) + ", rhs " +
                                  shape_str(b));
    }
    p.batch[d] = std::max(a_ext[d], b_ext[d]);
    if (a_ext[d] == 0 || b_ext[d] == 0) p.batch[d] = 0;
  }
  // strides in blocks; 0 along a broadcast axis
  std::vector<std::size_t> a_stride(r, 0), b_stride(r, 0);
  std::size_t sa = a_block, sb = b_block;
  for (std::size_t d = r; d-- > 0;) {
    a_stride[d] = a_ext[d] == 1 ? 0 : sa;
    b_stride[d] = b_ext[d] == 1 ? 0 : sb;
    sa *= a_ext[d];
    sb *= b_ext[d];
  }
  const std::size_t count = element_count(p.batch);
  std::vector<std::size_t> idx(r, 0);
  for (std::size_t t = 0; t < count; ++t) {
    std::size_t oa = 0, ob = 0;
    for (std::size_t d = 0; d < r; ++d) {
      oa += idx[d] * a_stride[d];
      ob += idx[d] * b_stride[d];
    }
    p.a_off.push_back(oa);
    p.b_off.push_back(ob);
    for (std::size_t d = r; d-- > 0;) {
      if (++idx[d] < p.batch[d]) break;
      idx[d] = 0;
    }
  }
  return p;
}

// Batches per parallel_for chunk: enough (m·n·k) multiply-adds that waking a worker pays
// (~64 Ki per chunk). Inside a chunk each batch's gemm runs single-threaded; with one chunk
// (one thread, or few small batches) gemm may still split a large product itself.
std::size_t batch_grain(std::size_t m, std::size_t n, std::size_t k) {
  const std::size_t work = std::max<std::size_t>(1, m * n * std::max<std::size_t>(k, 1));
  return std::max<std::size_t>(1, (64 * 1024 + work - 1) / work);
}

// gemm, with an empty k-sum giving beta·C (BLAS may leave C alone when k = 0).
template <class Scalar>
void gemm_k0(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const Scalar* a, const Scalar* b,
             Scalar beta, Scalar* c) {
  if (k == 0) {
    if (beta == 0) std::fill(c, c + m * n, Scalar(0));
    return;
  }
  gemm(ta, tb, m, n, k, Scalar(1), a, b, beta, c);
}

// out_t = op(A_t)·op(B_t) (+ beta·out_t) for every batch t, parallel over batches.
template <class Scalar, class AOff, class BOff>
void batched_gemm(bool ta, bool tb, std::size_t batches, std::size_t m, std::size_t n, std::size_t k,
                  const Scalar* a, AOff a_off, const Scalar* b, BOff b_off, Scalar beta, Scalar* out) {
  parallel_for(0, batches, batch_grain(m, n, k), [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) gemm_k0(ta, tb, m, n, k, a + a_off(t), b + b_off(t), beta, out + t * m * n);
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> matmul_nd(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  if (av.dimension() == 0 || bv.dimension() == 0) {
    throw std::invalid_argument("matmul_nd: operands must have at least one axis, got lhs " + shape_str(av) + ", rhs " +
                                shape_str(bv));
  }
  // a as (batch…, m, k), b as (batch…, k, n)
  const Shape as = shape_of(av), bs = shape_of(bv);
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  const std::size_t m = a_vec ? 1 : as[as.size() - 2], k = as.back();
  const std::size_t kb = b_vec ? bs[0] : bs[bs.size() - 2], n = b_vec ? 1 : bs.back();
  if (k != kb) {
    throw std::invalid_argument("matmul_nd: inner dimensions differ: lhs " + shape_str(av) + ", rhs " + shape_str(bv));
  }
  const Shape a_batch(as.begin(), as.end() - (a_vec ? 1 : 2)), b_batch(bs.begin(), bs.end() - (b_vec ? 1 : 2));
  BatchPlan plan = plan_batches(a_batch, b_batch, m * k, k * n, av, bv);
  Shape out = plan.batch;
  if (!a_vec) out.push_back(m);
  if (!b_vec) out.push_back(n);
  Tensor y = empty_tensor<Scalar>(out);
  const std::size_t batches = plan.a_off.size();
  // b a plain matrix (k, n): every batch of a shares it, so a's batch axes and m fold into the
  // rows of one gemm (a is contiguous: no copy), and db = a2dᵀ·g2d sums over the batches
  const bool fold = !a_vec && !b_vec && b_batch.empty();
  if (fold) {
    gemm_k0<Scalar>(false, false, batches * m, n, k, av.data(), bv.data(), 0, y.data());
  } else {
    batched_gemm<Scalar>(false, false, batches, m, n, k, av.data(), [&](std::size_t t) { return plan.a_off[t]; },
                         bv.data(), [&](std::size_t t) { return plan.b_off[t]; }, 0, y.data());
  }
  return make_result("matmul_nd", std::move(y), {a, b}, [plan = std::move(plan), m, n, k, a_vec, b_vec, fold](Node& self) {
    if (self.grad_node) {
      // create_graph: with 1-d operands as (1, k) and (k, 1) matrices and g as (batch…, m, n),
      // da = g·bᵀ and db = aᵀ·g by matmul_nd itself, each reshaped to (batch…, operand axes);
      // accumulate_variable sums the broadcast batch axes
      const Variable av = input_variable(self, 0), bv = input_variable(self, 1);
      const Variable A = a_vec ? reshape(av, Shape{1, k}) : av, B = b_vec ? reshape(bv, Shape{k, 1}) : bv;
      Shape gs = plan.batch;
      gs.push_back(m);
      gs.push_back(n);
      const Variable G = reshape(Variable(self.grad_node), gs);
      if (self.parent_requires_grad(0)) {
        Shape s = plan.batch;
        if (!a_vec) s.push_back(m);
        s.push_back(k);
        add_variable_to_parent(self, 0, reshape(matmul_nd(G, swap_axes(B, -1, -2)), s));
      }
      if (self.parent_requires_grad(1)) {
        Shape s = plan.batch;
        s.push_back(k);
        if (!b_vec) s.push_back(n);
        add_variable_to_parent(self, 1, reshape(matmul_nd(swap_axes(A, -1, -2), G), s));
      }
      return;
    }
    const Tensor& av = self.parent_value(0);
    const Tensor& bv = self.parent_value(1);
    const Scalar* g = self.grad.data();
    const std::size_t batches = plan.a_off.size();
    if (fold) {
      // a (batch…, m, k) as (B·m, k), g as (B·m, n): da = g·bᵀ, db = a2dᵀ·g2d, straight into
      // the gradients' storage
      Scalar beta = 0;
      if (self.parent_requires_grad(0)) {
        Scalar* da = grad_target(self, 0, beta);
        gemm_k0(false, true, batches * m, k, n, g, bv.data(), beta, da);
      }
      if (self.parent_requires_grad(1)) {
        Scalar* db = grad_target(self, 1, beta);
        gemm_k0(true, false, k, n, batches * m, av.data(), g, beta, db);
      }
      return;
    }
    // per batch t: da_t = g_t·b_tᵀ : (m, k), db_t = a_tᵀ·g_t : (k, n), parallel over batches.
    // An operand with the full batch shape gets its share straight into its gradient storage;
    // a broadcast one gets it laid out over the full batch shape, and accumulate_grad sums the
    // broadcast batch axes down to its shape.
    const auto a_off = [&](std::size_t t) { return plan.a_off[t]; };
    const auto b_off = [&](std::size_t t) { return plan.b_off[t]; };
    const auto g_off = [&](std::size_t t) { return t * m * n; };
    if (self.parent_requires_grad(0)) {
      Shape s = plan.batch;
      if (!a_vec) s.push_back(m);
      s.push_back(k);
      if (shapes_equal(av.shape(), s)) {
        Scalar beta = 0;
        Scalar* da = grad_target(self, 0, beta);
        batched_gemm<Scalar>(false, true, batches, m, k, n, g, g_off, bv.data(), b_off, beta, da);
      } else {
        Tensor da = empty_tensor<Scalar>(s);
        batched_gemm<Scalar>(false, true, batches, m, k, n, g, g_off, bv.data(), b_off, 0, da.data());
        self.add_to_parent(0, std::move(da));
      }
    }
    if (self.parent_requires_grad(1)) {
      Shape s = plan.batch;
      s.push_back(k);
      if (!b_vec) s.push_back(n);
      if (shapes_equal(bv.shape(), s)) {
        Scalar beta = 0;
        Scalar* db = grad_target(self, 1, beta);
        batched_gemm<Scalar>(true, false, batches, k, n, m, av.data(), a_off, g, g_off, beta, db);
      } else {
        Tensor db = empty_tensor<Scalar>(s);
        batched_gemm<Scalar>(true, false, batches, k, n, m, av.data(), a_off, g, g_off, 0, db.data());
        self.add_to_parent(1, std::move(db));
      }
    }
  });
}

template BasicVariable<float> matmul_nd(const BasicVariable<float>&, const BasicVariable<float>&);
template BasicVariable<double> matmul_nd(const BasicVariable<double>&, const BasicVariable<double>&);

}  // namespace xtgrad
