#include "xtgrad/ops/conv.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/matmul_nd.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_ops.hpp"
#ifdef XTGRAD_WITH_DNNL
#include "xtgrad/ops/conv_dnnl.hpp"
#endif

namespace xtgrad {
namespace {

using Index = std::ptrdiff_t;

std::string size2_str(Size2 s) { return "(" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ")"; }

// Sizes of one conv2d call. Per group, for a chunk of nb samples at a time, the product is
//   y_g (og, nb·L) = W_g (og, K) · cols (K, nb·L),  K = cg·kh·kw, L = oh·ow,
// cols holding the receptive field of each output position (im2col), sample after sample
// along its rows. Several samples per gemm make the products wide enough for BLAS to run
// near its peak, and a batch whose tasks are one chunk each lets backward reuse forward's
// cols; the chunks bound the buffers (tasks·K·nb·L ≤ kColsBudget elements, at least one
// sample each; K·nb·L ≤ kCacheCols when the tasks are not one chunk each).
//
// Threads: the batch is split into `tasks` contiguous runs of samples, one per thread, each
// with its own buffers; a task's gemm calls run on its thread alone. One task (a batch
// smaller than the threads, little work, or a call from inside another parallel region)
// runs the chunks one after another and lets gemm split each product instead. The tasks are
// fixed when forward runs and backward reuses them, so the results depend on the thread
// count of the forward call only (dW and db are sums of per-task partials, added in task order).
struct ConvGeometry {
  std::size_t n, c, h, w;     // input
  std::size_t o, kh, kw;      // weight (o, cg, kh, kw)
  std::size_t oh, ow;         // output plane
  std::size_t groups, cg, og;  // channels per group, in and out
  std::size_t k, l;           // gemm sizes
  Size2 stride, padding, dilation;
  std::size_t tasks;  // runs of samples done in parallel
  std::size_t chunk;  // samples per gemm

  // Samples [task_begin(t), task_begin(t + 1)) of task t.
  std::size_t task_begin(std::size_t t) const { return n * t / tasks; }
  // Whether every task's samples are one chunk (forward's cols of the whole batch fit the budget).
  bool one_chunk_per_task() const { return chunk * tasks >= n; }
};

constexpr std::size_t kColsBudget = std::size_t(1) << 22;  // 16 MiB of float: LeNet at batch 64 is one chunk
// A batch over the budget keeps nothing; its chunks are then sized for the cache instead
// (cols of a chunk ≤ this many elements, 1 MiB of float, at least one sample): im2col writes,
// gemm reads and col2im adds columns that stay in L2, where chunks of the whole budget went to
// memory and back (the BN CNN's conv2, K·L = 288·196 per sample: 4 samples a chunk, not 74).
constexpr std::size_t kCacheCols = std::size_t(1) << 18;
// Multiply-adds a task needs before it is worth a thread (as gemm's kMinWorkPerThread).
constexpr double kMinTaskWork = 256.0 * 1024;

// Tasks for g's batch: one per thread when there is a sample for every thread and each task
// gets at least kMinTaskWork multiply-adds; otherwise 1.
std::size_t conv_tasks(const ConvGeometry& g) {
  const std::size_t threads = std::size_t(num_threads());
  if (threads <= 1 || g.n < threads || in_parallel_region()) return 1;
  const double work = double(g.n) * double(g.o) * double(g.l) * double(g.k);
  return std::clamp<std::size_t>(std::size_t(work / kMinTaskWork), 1, threads);
}

template <class Scalar>
ConvGeometry conv_geometry(const TensorOf<Scalar>& x, const TensorOf<Scalar>& w, const Conv2dOptions& opt) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument("conv2d: " + what + " (input " + shape_str(x) + ", weight " + shape_str(w) +
                                ", stride " + size2_str(opt.stride) + ", padding " + size2_str(opt.padding) +
                                ", dilation " + size2_str(opt.dilation) + ", groups " + std::to_string(opt.groups) +
                                ")");
  };
  if (x.dimension() != 4) fail("input must be (N, C, H, W)");
  if (w.dimension() != 4) fail("weight must be (out_channels, in_channels/groups, kh, kw)");
  if (opt.groups == 0) fail("groups must be positive");
  if (opt.stride[0] == 0 || opt.stride[1] == 0) fail("stride must be positive");
  if (opt.dilation[0] == 0 || opt.dilation[1] == 0) fail("dilation must be positive");
  ConvGeometry g{};
  g.n = x.shape()[0], g.c = x.shape()[1], g.h = x.shape()[2], g.w = x.shape()[3];
  g.o = w.shape()[0], g.kh = w.shape()[2], g.kw = w.shape()[3];
  g.groups = opt.groups;
  if (g.c % g.groups != 0) fail("in_channels " + std::to_string(g.c) + " is not divisible by groups");
  if (g.o % g.groups != 0 || g.o == 0) fail("out_channels " + std::to_string(g.o) + " is not a positive multiple of groups");
  g.cg = g.c / g.groups, g.og = g.o / g.groups;
  if (w.shape()[1] != g.cg) fail("weight has " + std::to_string(w.shape()[1]) + " input channels, expected in_channels/groups = " + std::to_string(g.cg));
  if (g.kh == 0 || g.kw == 0 || g.cg == 0) fail("empty kernel or no input channels");
  g.stride = opt.stride, g.padding = opt.padding, g.dilation = opt.dilation;
  const std::size_t ekh = g.dilation[0] * (g.kh - 1) + 1, ekw = g.dilation[1] * (g.kw - 1) + 1;
  if (g.h + 2 * g.padding[0] < ekh || g.w + 2 * g.padding[1] < ekw) fail("the (dilated) kernel is larger than the padded input");
  g.oh = (g.h + 2 * g.padding[0] - ekh) / g.stride[0] + 1;
  g.ow = (g.w + 2 * g.padding[1] - ekw) / g.stride[1] + 1;
  g.k = g.cg * g.kh * g.kw;
  g.l = g.oh * g.ow;
  g.tasks = conv_tasks(g);
  const std::size_t per_task = (g.n + g.tasks - 1) / g.tasks;
  g.chunk = std::max<std::size_t>(1, std::min(per_task, kColsBudget / (g.tasks * g.k * g.l)));
  if (g.chunk < per_task) g.chunk = std::max<std::size_t>(1, std::min(g.chunk, kCacheCols / (g.k * g.l)));
  return g;
}

// For kernel column j: output columns [lo, hi) read input column ox·s + off inside [0, w).
struct ColumnRange {
  Index off;
  std::size_t lo, hi;
};
ColumnRange column_range(const ConvGeometry& g, std::size_t j) {
  const Index s = Index(g.stride[1]);
  const Index off = Index(j * g.dilation[1]) - Index(g.padding[1]);
  const Index lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const Index hi = Index(g.w) > off ? std::min(Index(g.ow), (Index(g.w) - off + s - 1) / s) : 0;
  return {off, std::size_t(std::min(lo, hi)), std::size_t(hi)};
}

// f(t) for every task t of g: on the pool when there are several (each its own thread), else
// on the calling thread outside any parallel region (so gemm may split its products).
template <class F>
void for_each_task(const ConvGeometry& g, const F& f) {
  if (g.tasks == 1) {
    f(std::size_t(0));
    return;
  }
  parallel_for(0, g.tasks, 1, [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) f(t);
  });
}

// `size` elements rounded up to a multiple of 16 (whole 64-byte lines of float), so that every
// task's share of a scratch buffer starts on a line of its own.
inline std::size_t padded(std::size_t size) { return (size + 15) / 16 * 16; }

// ---- short runs -------------------------------------------------------------------------------
//
// im2col and col2im move an output row at a time: 10-30 elements at LeNet's and the BN CNN's
// sizes, where a loop's scalar tail and set-up cost more than its vector body. A run of n ≥ one
// batch is whole batches, the last one overlapping the one before it; a shorter run goes element
// by element (kept as loops: GCC would make the tails calls to memmove and memset, which cost
// more than a few stores). The batch is 32 bytes where the build has AVX (8 float, 4 double:
// the rows above fill it even on AVX-512 builds), else the widest the build has.
template <class Scalar>
using RunBatch = std::conditional_t<std::is_void_v<xsimd::make_sized_batch_t<Scalar, 32 / sizeof(Scalar)>>,
                                    xsimd::batch<Scalar>, xsimd::make_sized_batch_t<Scalar, 32 / sizeof(Scalar)>>;

// dst[0, n) = src[0, n) (Add false) or dst[0, n) + src[0, n) (Add true). The last batch's
// values are taken before anything is stored, so the elements it shares with the batch before
// it get the same value twice.
template <bool Add, class Scalar>
__attribute__((optimize("no-tree-loop-distribute-patterns")))
inline void move_run(const Scalar* __restrict src, Scalar* __restrict dst, std::size_t n) {
  using Batch = RunBatch<Scalar>;
  constexpr std::size_t lanes = Batch::size;
  if (n < lanes) {
    for (std::size_t k = 0; k < n; ++k) dst[k] = Add ? dst[k] + src[k] : src[k];
    return;
  }
  const auto value = [&](std::size_t k) {
    const Batch v = Batch::load_unaligned(src + k);
    if constexpr (Add) {
      return Batch::load_unaligned(dst + k) + v;
    } else {
      return v;
    }
  };
  const Batch last = value(n - lanes);
  for (std::size_t k = 0; k + lanes < n; k += lanes) value(k).store_unaligned(dst + k);
  last.store_unaligned(dst + n - lanes);
}

// dst[0, n) = 0
template <class Scalar>
__attribute__((optimize("no-tree-loop-distribute-patterns")))
inline void zero_run(Scalar* dst, std::size_t n) {
  using Batch = RunBatch<Scalar>;
  constexpr std::size_t lanes = Batch::size;
  if (n < lanes) {
    for (std::size_t k = 0; k < n; ++k) dst[k] = Scalar(0);
    return;
  }
  const Batch zero(Scalar(0));
  for (std::size_t k = 0; k + lanes < n; k += lanes) zero.store_unaligned(dst + k);
  zero.store_unaligned(dst + n - lanes);
}

// cols (cg·kh·kw, oh·ow), rows `ld` apart ← the windows of one sample's group of channels
// x (cg, h, w); zeros where a window reaches into the padding.
template <class Scalar>
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void im2col(const ConvGeometry& g, const Scalar* x, Scalar* cols, std::size_t ld) {
  for (std::size_t c = 0; c < g.cg; ++c) {
    const Scalar* xc = x + c * g.h * g.w;
    for (std::size_t i = 0; i < g.kh; ++i) {
      for (std::size_t j = 0; j < g.kw; ++j) {
        Scalar* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        const ColumnRange r = column_range(g, j);
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
          Scalar* out = row + oy * g.ow;
          const Index iy = Index(oy * g.stride[0] + i * g.dilation[0]) - Index(g.padding[0]);
          if (iy < 0 || iy >= Index(g.h)) {
            zero_run(out, g.ow);
            continue;
          }
          const Scalar* xr = xc + std::size_t(iy) * g.w;
          for (std::size_t ox = 0; ox < r.lo; ++ox) out[ox] = 0;
          if (g.stride[1] == 1) {
            move_run<false>(xr + (Index(r.lo) + r.off), out + r.lo, r.hi - r.lo);  // input column of output column r.lo on
          } else {
            for (std::size_t ox = r.lo; ox < r.hi; ++ox) out[ox] = xr[Index(ox * g.stride[1]) + r.off];
          }
          for (std::size_t ox = r.hi; ox < g.ow; ++ox) out[ox] = 0;
        }
      }
    }
  }
}

// dx (cg, h, w) += the windows in dcols (cg·kh·kw, oh·ow), rows `ld` apart, added back where
// they were read.
template <class Scalar>
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void col2im_add(const ConvGeometry& g, const Scalar* cols, std::size_t ld, Scalar* dx) {
  for (std::size_t c = 0; c < g.cg; ++c) {
    Scalar* dxc = dx + c * g.h * g.w;
    for (std::size_t i = 0; i < g.kh; ++i) {
      for (std::size_t j = 0; j < g.kw; ++j) {
        const Scalar* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        const ColumnRange r = column_range(g, j);
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
          const Index iy = Index(oy * g.stride[0] + i * g.dilation[0]) - Index(g.padding[0]);
          if (iy < 0 || iy >= Index(g.h)) continue;
          Scalar* dr = dxc + std::size_t(iy) * g.w;
          const Scalar* in = row + oy * g.ow;
          if (g.stride[1] == 1) {
            move_run<true>(in + r.lo, dr + (Index(r.lo) + r.off), r.hi - r.lo);
          } else {
            for (std::size_t ox = r.lo; ox < r.hi; ++ox) dr[Index(ox * g.stride[1]) + r.off] += in[ox];
          }
        }
      }
    }
  }
}

// ---- im2col and col2im over the whole batch, as ops --------------------------------------
//
// conv2d's backward (conv2d_backward_formula below) is products around im2col and col2im. A
// create_graph sweep runs it with matmul_nd and the two ops below, whose values are the fast
// path's kernels (im2col, col2im_add) and whose backwards are each other (col2im is im2col's
// adjoint), so the gradient has derivatives of any order with respect to x, W, b and g.

// cols (groups, K, N·L) ← every group's windows, sample after sample along the rows (the
// layout of forward's kept cols): cols[gi, k, j·L + q].
template <class Scalar>
void im2col_batch(const ConvGeometry& g, const Scalar* x, Scalar* cols) {
  const std::size_t ld = g.n * g.l;
  for (std::size_t gi = 0; gi < g.groups; ++gi) {
    for (std::size_t j = 0; j < g.n; ++j) {
      im2col(g, x + (j * g.c + gi * g.cg) * g.h * g.w, cols + gi * g.k * ld + j * g.l, ld);
    }
  }
}

// dx (N, C, H, W) += the windows of cols (groups, K, N·L), added back where im2col_batch read them.
template <class Scalar>
void col2im_batch_add(const ConvGeometry& g, const Scalar* cols, Scalar* dx) {
  const std::size_t ld = g.n * g.l;
  for (std::size_t gi = 0; gi < g.groups; ++gi) {
    for (std::size_t j = 0; j < g.n; ++j) {
      col2im_add(g, cols + gi * g.k * ld + j * g.l, ld, dx + (j * g.c + gi * g.cg) * g.h * g.w);
    }
  }
}

template <class Scalar>
BasicVariable<Scalar> conv_col2im(const BasicVariable<Scalar>& cols, const ConvGeometry& g);

// im2col_batch as an op: x (N, C, H, W) → cols (groups, K, N·L); dx = col2im(dcols).
template <class Scalar>
BasicVariable<Scalar> conv_im2col(const BasicVariable<Scalar>& x, const ConvGeometry& g) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor cols = empty_tensor<Scalar>({g.groups, g.k, g.n * g.l});
  im2col_batch(g, x.value().data(), cols.data());
  return make_result("conv2d_im2col", std::move(cols), {x}, [g](Node& self) {
    if (self.grad_node) {
      add_variable_to_parent(self, 0, conv_col2im(Variable(self.grad_node), g));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dx, dx + g.n * g.c * g.h * g.w, Scalar(0));
    col2im_batch_add(g, self.grad.data(), dx);
  });
}

// col2im_batch_add onto zeros as an op: cols (groups, K, N·L) → (N, C, H, W); dcols = im2col(dy).
template <class Scalar>
BasicVariable<Scalar> conv_col2im(const BasicVariable<Scalar>& cols, const ConvGeometry& g) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor x = empty_tensor<Scalar>({g.n, g.c, g.h, g.w});
  std::fill(x.data(), x.data() + x.size(), Scalar(0));
  col2im_batch_add(g, cols.value().data(), x.data());
  return make_result("conv2d_col2im", std::move(x), {cols}, [g](Node& self) {
    if (self.grad_node) {
      add_variable_to_parent(self, 0, conv_im2col(Variable(self.grad_node), g));
      return;
    }
    Tensor dcols = empty_tensor<Scalar>({g.groups, g.k, g.n * g.l});
    im2col_batch(g, self.grad.data(), dcols.data());
    self.add_to_parent(0, std::move(dcols));
  });
}

// ---- conv2d's backward: one formula, two backends -----------------------------------------

// For a group's output gradient G (og, n·L) (g regrouped), its input columns cols = im2col(x)
// (K, n·L) and its weight W_g (og, K):
//   dW_g = G · colsᵀ : (og, K),   dx = col2im(W_gᵀ · G) : x's shape,   db_g = Σ_columns G : (og).
// `ops` is ConvBackwardBuffers (the fast path: one chunk of samples and one group at a time,
// gemm with transpose flags into the gradient buffers) or ConvBackwardOps (a create_graph
// sweep: every sample and group at once, differentiable ops), so the two cannot drift apart.
template <class Ops>
void conv2d_backward_formula(Ops& ops) {
  const auto G = ops.output_grad();
  if (ops.need_w) ops.add_to_weight(ops.matmul_nt(G, ops.input_columns()));
  if (ops.need_x) ops.add_to_input(ops.col2im(ops.matmul_tn(ops.weight(), G)));
  if (ops.need_b) ops.add_to_bias(ops.row_sums(G));
}

// Σ v[0 .. count) in double, in eight lanes (a fixed order the compiler vectorises; a float
// sum of a bias's N·L terms, one after another, would lose digits and wait on every add).
template <class Scalar>
double row_sum(const Scalar* v, std::size_t count) {
  double lanes[8] = {};
  std::size_t q = 0;
  for (; q + 8 <= count; q += 8) {
    for (std::size_t j = 0; j < 8; ++j) lanes[j] += double(v[q + j]);
  }
  for (std::size_t j = 0; q < count; ++q, ++j) lanes[j] += double(v[q]);
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

// A row-major matrix in a buffer, and a product of two that waits for its destination.
template <class Scalar>
struct BlockOf {
  const Scalar* data;
  std::size_t rows, cols;
};
template <class Scalar>
struct ProductOf {
  BlockOf<Scalar> a, b;
  bool trans_a, trans_b;
};

// The fast backend: buffers of one chunk of samples [n0, n0 + nc) and one group gi, within
// one task whose dW and db go to `dw`, `db` (the gradient buffers for task 0, its partials
// for the others).
template <class Scalar>
struct ConvBackwardBuffers {
  using Block = BlockOf<Scalar>;
  using Product = ProductOf<Scalar>;
  const ConvGeometry& g;
  const Scalar *x, *w, *gy;            // input, weight, output gradient
  bool need_x = false, need_w = false, need_b = false;
  Scalar *dx = nullptr, *dw = nullptr, *db = nullptr;  // gradient buffers (dx zeroed already)
  Scalar beta_w = 0, beta_b = 0;                       // 0: dw, db hold nothing before the task's first chunk
  Scalar *cols = nullptr, *gyp = nullptr;              // work buffers (K, chunk·L), (og, chunk·L)
  const Scalar* kept = nullptr;                        // forward's cols of this group, if kept
  std::size_t n0 = 0, nc = 0, gi = 0;
  bool first = true;                                   // the task's first chunk

  std::size_t ld() const { return nc * g.l; }
  // G (og, nc·L) ← dy[n0 + j, gi·og + oc, :], the layout of prod in forward
  Block output_grad() {
    for (std::size_t oc = 0; oc < g.og; ++oc) {
      for (std::size_t j = 0; j < nc; ++j) {
        const Scalar* src = gy + ((n0 + j) * g.o + gi * g.og + oc) * g.l;
        std::copy(src, src + g.l, gyp + oc * ld() + j * g.l);
      }
    }
    return {gyp, g.og, ld()};
  }
  // forward's cols if it kept them, else im2col of the chunk's samples into the work buffer
  Block input_columns() {
    if (kept) return {kept, g.k, ld()};
    for (std::size_t j = 0; j < nc; ++j) im2col(g, x + ((n0 + j) * g.c + gi * g.cg) * g.h * g.w, cols + j * g.l, ld());
    return {cols, g.k, ld()};
  }
  Block weight() const { return {w + gi * g.og * g.k, g.og, g.k}; }
  static Product matmul_nt(Block a, Block b) { return {a, b, false, true}; }
  static Product matmul_tn(Block a, Block b) { return {a, b, true, false}; }
  // c (+)= product, c (m, n) row-major
  static void run(const Product& p, Scalar beta, Scalar* c) {
    const std::size_t m = p.trans_a ? p.a.cols : p.a.rows, k = p.trans_a ? p.a.rows : p.a.cols;
    const std::size_t n = p.trans_b ? p.b.rows : p.b.cols;
    gemm(p.trans_a, p.trans_b, m, n, k, 1, p.a.data, p.b.data, beta, c);
  }
  void add_to_weight(const Product& p) { run(p, first ? beta_w : Scalar(1), dw + gi * g.og * g.k); }
  // dcols (K, nc·L) into the work buffer
  Block col2im(const Product& p) {
    run(p, 0, cols);
    return {cols, g.k, ld()};
  }
  // dx of the chunk's samples += the windows of dcols
  void add_to_input(Block dcols) {
    for (std::size_t j = 0; j < nc; ++j) {
      col2im_add(g, dcols.data + j * g.l, ld(), dx + ((n0 + j) * g.c + gi * g.cg) * g.h * g.w);
    }
  }
  static Block row_sums(Block b) { return b; }
  void add_to_bias(Block rows) {
    Scalar* d = db + gi * g.og;
    const bool overwrite = first && beta_b == 0;
    for (std::size_t r = 0; r < rows.rows; ++r) {
      const Scalar s = Scalar(row_sum(rows.data + r * rows.cols, rows.cols));
      d[r] = overwrite ? s : d[r] + s;
    }
  }
};

// The differentiable backend (create_graph): every sample and group at once, matmul_nd over
// the groups as a batch axis; G (groups, og, N·L), cols (groups, K, N·L), W (groups, og, K).
template <class Scalar>
struct ConvBackwardOps {
  using Variable = BasicVariable<Scalar>;
  BasicNode<Scalar>& self;
  const ConvGeometry& g;
  bool need_x, need_w, need_b;

  Variable output_grad() const {
    const Variable gv(self.grad_node);
    return reshape(permute(reshape(gv, {g.n, g.groups, g.og, g.l}), {1, 2, 0, 3}), {g.groups, g.og, g.n * g.l});
  }
  Variable input_columns() const { return conv_im2col(input_variable(self, 0), g); }
  Variable weight() const { return reshape(input_variable(self, 1), {g.groups, g.og, g.k}); }
  static Variable matmul_nt(const Variable& a, const Variable& b) { return matmul_nd(a, swap_axes(b, 1, 2)); }
  static Variable matmul_tn(const Variable& a, const Variable& b) { return matmul_nd(swap_axes(a, 1, 2), b); }
  void add_to_weight(const Variable& dw) { add_variable_to_parent(self, 1, reshape(dw, {g.o, g.cg, g.kh, g.kw})); }
  Variable col2im(const Variable& dcols) const { return conv_col2im(dcols, g); }
  void add_to_input(const Variable& dx) { add_variable_to_parent(self, 0, dx); }
  static Variable row_sums(const Variable& G) { return sum(G, 2); }
  void add_to_bias(const Variable& db) { add_variable_to_parent(self, 2, reshape(db, {g.o})); }
};

// Which of conv2d's inputs its backward must give a gradient: x, W, and b when there is one.
struct ConvWanted {
  bool x, w, b;
  bool any() const { return x || w || b; }
};
template <class Scalar>
ConvWanted conv_wanted(const BasicNode<Scalar>& self, bool has_bias) {
  return {self.parent_requires_grad(0), self.parent_requires_grad(1), has_bias && self.parent_requires_grad(2)};
}

// The start of every conv2d backward (direct, im2col, oneDNN): in a create_graph sweep the
// formula over ops, once, the groups as a batch axis (second derivatives exist). True when
// nothing is left for the kernel: the formula ran, or no input wants a gradient.
template <class Scalar>
bool conv_backward_over_ops(BasicNode<Scalar>& self, const ConvGeometry& g, const ConvWanted& want) {
  if (self.grad_node) {
    ConvBackwardOps<Scalar> ops{self, g, want.x, want.w, want.b};
    conv2d_backward_formula(ops);
    return true;
  }
  return !want.any();
}

// Where the kernels write dx, dW, db (null where not wanted), each overwritten (β = 0) or
// added to (β = 1); taken in parent order, so an input passed twice is overwritten, then added to.
template <class Scalar>
struct ConvGradTargets {
  Scalar beta_x = 0, beta_w = 0, beta_b = 0;
  Scalar *dx = nullptr, *dw = nullptr, *db = nullptr;
  ConvGradTargets(BasicNode<Scalar>& self, const ConvWanted& want) {
    if (want.x) dx = grad_target(self, 0, beta_x);
    if (want.w) dw = grad_target(self, 1, beta_w);
    if (want.b) db = grad_target(self, 2, beta_b);
  }
};

// ---- the direct kernel, for few input channels -----------------------------------------------
//
// A first layer (1 → 6 or 1 → 32 channels, 3×3 or 5×5) has K = C·kh·kw of 9-25: im2col copies
// every input pixel K times for a gemm too thin to run near peak. The direct kernel pads each
// sample once (zeros around, rows wide enough for whole SIMD batches) and computes two batches
// of output columns for up to six output channels in registers: two loads of the input and one
// broadcast per channel per tap, two fused multiply-adds per channel. Stride 1, no dilation, one
// group.
//
// Same bits for any thread count: every output element is bias + Σ over the taps in (c, i, j)
// order; dW, db are sums over fixed blocks of kDirectBlock samples, added in block order; dx
// (only when forced: the automatic choice takes this kernel where x needs no gradient, a first
// layer) is a per-sample loop.
constexpr std::size_t kDirectBlock = 8;
// Largest K (= C·kh·kw) the automatic choice sends to the direct kernel: measured with bench_conv
// BM_conv2d_kernels (docs/performance.md).
constexpr std::size_t kDirectMaxTaps = 25;

bool direct_applies(const ConvGeometry& g) {
  return g.groups == 1 && g.stride[0] == 1 && g.stride[1] == 1 && g.dilation[0] == 1 && g.dilation[1] == 1;
}

// Whether conv2d runs the direct kernel: forced by the options, or few taps, and no dx to compute.
bool use_direct(const ConvGeometry& g, const Conv2dOptions& opt, bool need_x) {
  switch (opt.kernel) {
    case Conv2dKernel::im2col:
      return false;
    case Conv2dKernel::direct:
      return true;  // direct_applies checked by the caller
    case Conv2dKernel::automatic:
      break;
  }
  return direct_applies(g) && g.k <= kDirectMaxTaps && !need_x;
}

// The padded copy of the input: per sample (C, hp, wp), x[c, y, x] at [c, y + ph, x + pw], zeros
// elsewhere; wp covers whole batches of output columns plus the kernel's width.
struct DirectLayout {
  std::size_t hp, wp, plane, sample;
};
template <class Scalar>
DirectLayout direct_layout(const ConvGeometry& g) {
  constexpr std::size_t lanes = xsimd::batch<Scalar>::size;
  DirectLayout d{};
  d.hp = g.h + 2 * g.padding[0];
  d.wp = (g.ow + lanes - 1) / lanes * lanes + g.kw - 1;
  d.plane = d.hp * d.wp;
  d.sample = g.c * d.plane;
  return d;
}
template <class Scalar>
void direct_pad(const ConvGeometry& g, const DirectLayout& d, const Scalar* x, Scalar* p) {
  std::fill(p, p + d.sample, Scalar(0));
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t y = 0; y < g.h; ++y) {
      const Scalar* src = x + (c * g.h + y) * g.w;
      std::copy(src, src + g.w, p + c * d.plane + (y + g.padding[0]) * d.wp + g.padding[1]);
    }
  }
}

// y[ob, oy, ox .. ox + XB·lanes) for OB output channels of one sample: bias + Σ_{c,i,j}
// w[ob, c, i, j]·p[c, oy + i, ox + j], p the sample's padded input, w the first channel's taps
// (rows K apart), y its plane (rows L apart). Each input batch feeds OB multiply-adds and each
// broadcast tap XB: OB·XB accumulators in registers. `whole` is false for a row shorter than a
// batch (XB = 1): only its ow values are stored.
template <std::size_t OB, std::size_t XB, class Scalar>
void direct_batches(const ConvGeometry& g, const DirectLayout& d, const Scalar* p, const Scalar* w, const Scalar* b,
                    Scalar* y, std::size_t oy, std::size_t ox, bool whole) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t lanes = Batch::size;
  Batch acc[OB][XB];
  for (std::size_t ob = 0; ob < OB; ++ob) {
    for (std::size_t xb = 0; xb < XB; ++xb) acc[ob][xb] = Batch(b ? b[ob] : Scalar(0));
  }
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t i = 0; i < g.kh; ++i) {
      const Scalar* row = p + c * d.plane + (oy + i) * d.wp + ox;
      const Scalar* taps = w + (c * g.kh + i) * g.kw;
      for (std::size_t j = 0; j < g.kw; ++j) {
        Batch xv[XB];
        for (std::size_t xb = 0; xb < XB; ++xb) xv[xb] = Batch::load_unaligned(row + j + xb * lanes);
        for (std::size_t ob = 0; ob < OB; ++ob) {
          const Batch t(taps[ob * g.k + j]);
          for (std::size_t xb = 0; xb < XB; ++xb) acc[ob][xb] = xsimd::fma(t, xv[xb], acc[ob][xb]);
        }
      }
    }
  }
  Scalar* out = y + oy * g.ow + ox;
  for (std::size_t ob = 0; ob < OB; ++ob) {
    for (std::size_t xb = 0; xb < XB; ++xb) {
      if (whole) {
        acc[ob][xb].store_unaligned(out + ob * g.l + xb * lanes);
      } else {
        alignas(64) Scalar t[lanes];
        acc[ob][xb].store_aligned(t);
        for (std::size_t k = 0; k < g.ow; ++k) out[ob * g.l + k] = t[k];
      }
    }
  }
}

// Every output of OB channels of one sample (direct_batches). A row is blocks of two batches,
// then the r columns left as one block ending at the row's end: two batches when r > one batch
// (two single ones in a row shorter than two), else one. A block that starts early repeats
// outputs of the block before with the same bits (every output is its own sum in (c, i, j)
// order). A row shorter than a batch is one partial batch.
template <std::size_t OB, class Scalar>
void direct_channels(const ConvGeometry& g, const DirectLayout& d, const Scalar* p, const Scalar* w, const Scalar* b,
                     Scalar* y) {
  constexpr std::size_t lanes = xsimd::batch<Scalar>::size;
  for (std::size_t oy = 0; oy < g.oh; ++oy) {
    if (g.ow < lanes) {
      direct_batches<OB, 1>(g, d, p, w, b, y, oy, 0, false);
      continue;
    }
    std::size_t ox = 0;
    for (; ox + 2 * lanes <= g.ow; ox += 2 * lanes) direct_batches<OB, 2>(g, d, p, w, b, y, oy, ox, true);
    const std::size_t left = g.ow - ox;
    if (left > lanes && g.ow >= 2 * lanes) {
      direct_batches<OB, 2>(g, d, p, w, b, y, oy, g.ow - 2 * lanes, true);
    } else if (left > lanes) {  // a row of one to two batches: two single ones
      direct_batches<OB, 1>(g, d, p, w, b, y, oy, 0, true);
      direct_batches<OB, 1>(g, d, p, w, b, y, oy, g.ow - lanes, true);
    } else if (left > 0) {
      direct_batches<OB, 1>(g, d, p, w, b, y, oy, g.ow - lanes, true);
    }
  }
}
template <class Scalar>
void direct_channels_any(std::size_t count, const ConvGeometry& g, const DirectLayout& d, const Scalar* p,
                         const Scalar* w, const Scalar* b, Scalar* y) {
  switch (count) {
    case 6: return direct_channels<6>(g, d, p, w, b, y);
    case 5: return direct_channels<5>(g, d, p, w, b, y);
    case 4: return direct_channels<4>(g, d, p, w, b, y);
    case 3: return direct_channels<3>(g, d, p, w, b, y);
    case 2: return direct_channels<2>(g, d, p, w, b, y);
    default: return direct_channels<1>(g, d, p, w, b, y);
  }
}

// dx (C, H, W) of one sample += Σ_o Σ_{i, j} w[o, c, i, j]·gy[o, iy − i + ph, ix − j + pw], the
// adjoint of the forward over all output channels of that sample (a plain loop: only a forced
// direct kernel computes dx).
template <class Scalar>
void direct_input_grad(const ConvGeometry& g, const Scalar* gy, const Scalar* w, Scalar* dx) {
  for (std::size_t o = 0; o < g.o; ++o) {
    const Scalar* go = gy + o * g.l;
    for (std::size_t c = 0; c < g.c; ++c) {
      Scalar* dxc = dx + c * g.h * g.w;
      for (std::size_t i = 0; i < g.kh; ++i) {
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
          const Index iy = Index(oy + i) - Index(g.padding[0]);
          if (iy < 0 || iy >= Index(g.h)) continue;
          Scalar* dr = dxc + std::size_t(iy) * g.w;
          const Scalar* gr = go + oy * g.ow;
          for (std::size_t j = 0; j < g.kw; ++j) {
            const Scalar t = w[((o * g.c + c) * g.kh + i) * g.kw + j];
            const ColumnRange r = column_range(g, j);
            Scalar* dst = dr + r.off;
            for (std::size_t ox = r.lo; ox < r.hi; ++ox) dst[ox] += t * gr[ox];
          }
        }
      }
    }
  }
}

// The lanes of b summed pairwise in a fixed order.
template <class Scalar>
Scalar reduce_lanes(const xsimd::batch<Scalar>& b) {
  constexpr std::size_t lanes = xsimd::batch<Scalar>::size;
  alignas(64) Scalar t[lanes];
  b.store_aligned(t);
  for (std::size_t width = lanes / 2; width >= 1; width /= 2) {
    for (std::size_t q = 0; q < width; ++q) t[q] += t[q + width];
  }
  return t[0];
}

// Σ_n Σ_{oy, ox} gy[n, o, oy, ox]·p[n, oy·wp + ox + off[t]] for TN taps t at once (accumulators in
// registers), written to dw[t]; the samples [n0, n1) of one block, p their padded inputs.
template <std::size_t TN, class Scalar>
void direct_tap_sums(const ConvGeometry& g, const DirectLayout& d, const Scalar* p, const Scalar* gy, std::size_t o,
                     std::size_t n0, std::size_t n1, const std::size_t* off, Scalar* dw) {
  using Batch = xsimd::batch<Scalar>;
  constexpr std::size_t lanes = Batch::size;
  Batch acc[TN];
  for (std::size_t t = 0; t < TN; ++t) acc[t] = Batch(Scalar(0));
  // A row's last rem < lanes columns: as the batch ending at the row's end (in bounds when the
  // row has a batch at all), its lanes over columns already summed set to zero; a row shorter
  // than a batch is copied into a zeroed one.
  const std::size_t whole = g.ow / lanes * lanes, rem = g.ow - whole;
  alignas(64) Scalar lane[lanes];
  for (std::size_t k = 0; k < lanes; ++k) lane[k] = Scalar(k);
  const auto fresh = Batch::load_aligned(lane) >= Batch(Scalar(lanes - rem));
  const Batch zero(Scalar(0));
  for (std::size_t n = n0; n < n1; ++n) {
    const Scalar* pn = p + n * d.sample;
    for (std::size_t oy = 0; oy < g.oh; ++oy) {
      const Scalar* grow = gy + ((n * g.o + o) * g.oh + oy) * g.ow;
      const Scalar* prow = pn + oy * d.wp;
      for (std::size_t ox = 0; ox < whole; ox += lanes) {
        const Batch gv = Batch::load_unaligned(grow + ox);
        for (std::size_t t = 0; t < TN; ++t) acc[t] = xsimd::fma(gv, Batch::load_unaligned(prow + ox + off[t]), acc[t]);
      }
      if (rem == 0) continue;
      Batch gv;
      std::size_t ox;
      if (whole > 0) {
        ox = g.ow - lanes;
        gv = xsimd::select(fresh, Batch::load_unaligned(grow + ox), zero);
      } else {
        ox = 0;
        alignas(64) Scalar t[lanes] = {};
        for (std::size_t k = 0; k < rem; ++k) t[k] = grow[k];
        gv = Batch::load_aligned(t);
      }
      for (std::size_t t = 0; t < TN; ++t) acc[t] = xsimd::fma(gv, Batch::load_unaligned(prow + ox + off[t]), acc[t]);
    }
  }
  for (std::size_t t = 0; t < TN; ++t) dw[t] = reduce_lanes(acc[t]);
}

// dw (O, K) = Σ_n Σ_{oy, ox} gy[n, o, oy, ox]·p[n, c, oy + i, ox + j] and db (O) = Σ_n Σ gy[n, o] over
// the samples [n0, n1) of one block, overwritten (either may be null).
template <class Scalar>
void direct_weight_grad(const ConvGeometry& g, const DirectLayout& d, const Scalar* p, const Scalar* gy,
                        std::size_t n0, std::size_t n1, Scalar* dw, Scalar* db) {
  // taps in groups of at most kGroup (accumulators in registers), of nearly equal sizes (K = 9:
  // one group of 9, K = 25: 9 + 8 + 8), each a pass over the block's gy
  constexpr std::size_t kGroup = 12;
  const std::size_t groups = (g.k + kGroup - 1) / kGroup;
  for (std::size_t o = 0; o < g.o; ++o) {
    if (db) {
      double s = 0;
      for (std::size_t n = n0; n < n1; ++n) s += row_sum(gy + (n * g.o + o) * g.l, g.l);
      db[o] = Scalar(s);
    }
    if (!dw) continue;
    for (std::size_t gi = 0; gi < groups; ++gi) {
      const std::size_t t0 = g.k * gi / groups, tn = g.k * (gi + 1) / groups - t0;
      std::size_t off[kGroup];  // tap t0 + t reads p at oy·wp + ox + off[t]
      for (std::size_t t = 0; t < tn; ++t) {
        const std::size_t tap = t0 + t, c = tap / (g.kh * g.kw), i = tap / g.kw % g.kh, j = tap % g.kw;
        off[t] = c * d.plane + i * d.wp + j;
      }
      Scalar* out = dw + o * g.k + t0;
      switch (tn) {
        case 12: direct_tap_sums<12>(g, d, p, gy, o, n0, n1, off, out); break;
        case 11: direct_tap_sums<11>(g, d, p, gy, o, n0, n1, off, out); break;
        case 10: direct_tap_sums<10>(g, d, p, gy, o, n0, n1, off, out); break;
        case 9: direct_tap_sums<9>(g, d, p, gy, o, n0, n1, off, out); break;
        case 8: direct_tap_sums<8>(g, d, p, gy, o, n0, n1, off, out); break;
        case 7: direct_tap_sums<7>(g, d, p, gy, o, n0, n1, off, out); break;
        case 6: direct_tap_sums<6>(g, d, p, gy, o, n0, n1, off, out); break;
        case 5: direct_tap_sums<5>(g, d, p, gy, o, n0, n1, off, out); break;
        case 4: direct_tap_sums<4>(g, d, p, gy, o, n0, n1, off, out); break;
        case 3: direct_tap_sums<3>(g, d, p, gy, o, n0, n1, off, out); break;
        case 2: direct_tap_sums<2>(g, d, p, gy, o, n0, n1, off, out); break;
        default: direct_tap_sums<1>(g, d, p, gy, o, n0, n1, off, out); break;
      }
    }
  }
}

template <class Scalar>
BasicVariable<Scalar> conv2d_direct(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                                    const BasicVariable<Scalar>* bias, const ConvGeometry& g) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  constexpr std::size_t kOB = 6;  // output channels in registers at once (6 × 2 batches of accumulators)
  const DirectLayout d = direct_layout<Scalar>(g);
  Tensor y = empty_tensor<Scalar>({g.n, g.o, g.oh, g.ow});
  Tensor padded_x = empty_tensor<Scalar>({g.n * d.sample});
  const Scalar* xp = x.value().data();
  const Scalar* wp = weight.value().data();
  const Scalar* bp = bias ? bias->value().data() : nullptr;
  Scalar* yp = y.data();
  Scalar* pp = padded_x.data();
  const std::size_t oblocks = (g.o + kOB - 1) / kOB;
  // items (n, block of output channels), enough multiply-adds per chunk to be worth a thread
  const std::size_t item_work = std::max<std::size_t>(1, kOB * g.l * g.k);
  parallel_for(0, g.n, std::max<std::size_t>(1, std::size_t(kMinTaskWork) / (item_work * oblocks)),
               [&](std::size_t n0, std::size_t n1) {
                 for (std::size_t n = n0; n < n1; ++n) direct_pad(g, d, xp + n * g.c * g.h * g.w, pp + n * d.sample);
               });
  parallel_for(0, g.n * oblocks, std::max<std::size_t>(1, std::size_t(kMinTaskWork) / item_work),
               [&](std::size_t i0, std::size_t i1) {
                 for (std::size_t item = i0; item < i1; ++item) {
                   const std::size_t n = item / oblocks, o0 = item % oblocks * kOB;
                   direct_channels_any(std::min(kOB, g.o - o0), g, d, pp + n * d.sample, wp + o0 * g.k,
                                       bp ? bp + o0 : nullptr, yp + (n * g.o + o0) * g.l);
                 }
               });
  // backward's dW reads the padded input again
  const bool keep = weight.requires_grad() && is_grad_enabled();
  if (!keep) recycle(padded_x);
  SavedTensor saved(keep ? std::move(padded_x) : Tensor::from_shape({0}));
  auto backward = [g, d, has_bias = bias != nullptr, saved = std::move(saved)](Node& self) {
    const ConvWanted want = conv_wanted(self, has_bias);
    if (conv_backward_over_ops(self, g, want)) return;
    const bool need_x = want.x, need_w = want.w, need_b = want.b;
    const Scalar* wv = self.parent_value(1).data();
    const Scalar* gy = self.grad.data();
    if (need_x) {
      Scalar beta = 0;
      Scalar* dx = grad_target(self, 0, beta);
      const std::size_t sample_work = std::max<std::size_t>(1, g.o * g.l * g.k);
      parallel_for(0, g.n, std::max<std::size_t>(1, std::size_t(kMinTaskWork) / sample_work),
                   [&](std::size_t n0, std::size_t n1) {
                     for (std::size_t n = n0; n < n1; ++n) {
                       Scalar* dn = dx + n * g.c * g.h * g.w;
                       if (beta == 0) std::fill(dn, dn + g.c * g.h * g.w, Scalar(0));
                       direct_input_grad(g, gy + n * g.o * g.l, wv, dn);
                     }
                   });
    }
    if (!need_w && !need_b) return;
    // the padded input: forward's, or made again (the weight needed no gradient at forward time)
    const Scalar* p = saved.get().data();
    Tensor repadded = Tensor::from_shape({0});
    if (saved.get().size() == 0) {
      repadded = empty_tensor<Scalar>({g.n * d.sample});
      const Scalar* xv = self.parent_value(0).data();
      for (std::size_t n = 0; n < g.n; ++n) direct_pad(g, d, xv + n * g.c * g.h * g.w, repadded.data() + n * d.sample);
      p = repadded.data();
    }
    // partials of blocks of kDirectBlock samples, then summed in block order
    const std::size_t blocks = (g.n + kDirectBlock - 1) / kDirectBlock;
    const std::size_t wsize = need_w ? g.o * g.k : 0, bsize = need_b ? g.o : 0, stride = padded(wsize + bsize);
    Tensor scratch = empty_tensor<Scalar>({std::max<std::size_t>(1, blocks) * stride});
    Scalar* part = scratch.data();
    parallel_for(0, blocks, 1, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t b = b0; b < b1; ++b) {
        Scalar* pw = part + b * stride;
        direct_weight_grad(g, d, p, gy, b * kDirectBlock, std::min(g.n, (b + 1) * kDirectBlock),
                           need_w ? pw : nullptr, need_b ? pw + wsize : nullptr);
      }
    });
    const auto add_up = [&](std::size_t at, std::size_t size, Scalar* target, Scalar beta) {
      for (std::size_t k = 0; k < size; ++k) {
        Scalar s = blocks > 0 ? part[at + k] : Scalar(0);
        for (std::size_t b = 1; b < blocks; ++b) s += part[b * stride + at + k];
        target[k] = beta == 0 ? s : target[k] + s;
      }
    };
    if (need_w) {
      Scalar beta = 0;
      Scalar* dw = grad_target(self, 1, beta);
      add_up(0, wsize, dw, beta);
    }
    if (need_b) {
      Scalar beta = 0;
      Scalar* db = grad_target(self, 2, beta);
      add_up(wsize, bsize, db, beta);
    }
    recycle(scratch);
    recycle(repadded);
  };
  if (bias) return make_result("conv2d", std::move(y), {x, weight, *bias}, std::move(backward));
  return make_result("conv2d", std::move(y), {x, weight}, std::move(backward));
}

#ifdef XTGRAD_WITH_DNNL
// conv2d through oneDNN (ops/conv_dnnl.hpp), float: forward and backward in oneDNN's
// primitives; a create_graph backward runs the same formula over ops as the own kernels. The
// backward runs forward's plan, so the batch's split into chunks (and the order dW's and db's
// partials are added in) is forward's whatever num_threads() is by then.
BasicVariable<float> conv2d_onednn(const BasicVariable<float>& x, const BasicVariable<float>& weight,
                                   const BasicVariable<float>* bias, const ConvGeometry& g,
                                   const onednn::ConvPlan* plan) {
  using Tensor = TensorOf<float>;
  using Node = BasicNode<float>;
  Tensor y = empty_tensor<float>({g.n, g.o, g.oh, g.ow});
  // forward's input in backward-weights' layout, when it is not the plain one
  const std::size_t kept_size = onednn::kept_input_size(*plan);
  const bool keep = kept_size != 0 && weight.requires_grad() && is_grad_enabled();
  Tensor kept = keep ? empty_tensor<float>({kept_size}) : Tensor::from_shape({0});
  onednn::forward(*plan, x.value().data(), weight.value().data(), bias ? bias->value().data() : nullptr, y.data(),
                  keep ? kept.data() : nullptr);
  SavedTensor saved(std::move(kept));
  auto backward = [g, plan, has_bias = bias != nullptr, saved = std::move(saved)](Node& self) {
    const ConvWanted want = conv_wanted(self, has_bias);
    if (conv_backward_over_ops(self, g, want)) return;
    const ConvGradTargets<float> t(self, want);
    onednn::backward(*plan, self.parent_value(0).data(), saved.get().size() != 0 ? saved.get().data() : nullptr,
                     self.parent_value(1).data(), self.grad.data(), t.dx, t.beta_x, t.dw, t.beta_w, t.db, t.beta_b);
  };
  if (bias) return make_result("conv2d", std::move(y), {x, weight, *bias}, std::move(backward));
  return make_result("conv2d", std::move(y), {x, weight}, std::move(backward));
}
#endif

template <class Scalar>
BasicVariable<Scalar> conv2d_impl(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                                  const BasicVariable<Scalar>* bias, const Conv2dOptions& opt) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  const ConvGeometry g = conv_geometry(xv, wv, opt);
  if (bias && (bias->value().dimension() != 1 || bias->value().shape()[0] != g.o)) {
    throw std::invalid_argument("conv2d: bias must have shape (" + std::to_string(g.o) + ") for weight " +
                                shape_str(wv) + ", got " + shape_str(bias->value()));
  }
  if (opt.kernel == Conv2dKernel::direct && !direct_applies(g)) {
    throw std::invalid_argument("conv2d: the direct kernel needs groups 1, stride 1 and dilation 1 (input " +
                                shape_str(xv) + ", weight " + shape_str(wv) + ", stride " + size2_str(opt.stride) +
                                ", dilation " + size2_str(opt.dilation) + ", groups " + std::to_string(opt.groups) +
                                ")");
  }
#ifdef XTGRAD_WITH_DNNL
  if constexpr (std::is_same_v<Scalar, float>) {
    if (opt.kernel == Conv2dKernel::automatic && conv_backend() == ConvBackend::onednn) {
      const onednn::ConvShape shape{g.n,      g.c,      g.h,       g.w,        g.o,          g.kh, g.kw,
                                    g.oh,     g.ow,     g.groups,  g.stride,   g.padding,    g.dilation,
                                    bias != nullptr};
      if (const onednn::ConvPlan* plan = onednn::conv_plan(shape)) return conv2d_onednn(x, weight, bias, g, plan);
    }
  }
#endif
  if (use_direct(g, opt, x.requires_grad() && is_grad_enabled())) return conv2d_direct(x, weight, bias, g);
  Tensor y = empty_tensor<Scalar>({g.n, g.o, g.oh, g.ow});
  // When every task is one chunk and dW will be needed, the closure keeps every group's cols
  // instead of running im2col again in backward: task t's samples [a, b) at a·groups·K·L,
  // as (groups, K, (b − a)·L).
  const bool keep_cols = g.one_chunk_per_task() && weight.requires_grad() && is_grad_enabled();
  Tensor kept = keep_cols ? empty_tensor<Scalar>({g.n * g.groups * g.k * g.l}) : Tensor::from_shape({0});
  // per task: cols (K, chunk·L) unless kept, prod (og, chunk·L)
  const std::size_t cols_size = keep_cols ? 0 : padded(g.k * g.chunk * g.l);
  const std::size_t stride = cols_size + padded(g.og * g.chunk * g.l);
  Tensor scratch = empty_tensor<Scalar>({g.tasks * stride});
  const Scalar* xp = xv.data();
  const Scalar* wp = wv.data();
  const Scalar* bp = bias ? bias->value().data() : nullptr;
  Scalar* yp = y.data();
  for_each_task(g, [&](std::size_t t) {
    const std::size_t a = g.task_begin(t), e = g.task_begin(t + 1);
    Scalar* cols = scratch.data() + t * stride;
    Scalar* prod = cols + cols_size;
    for (std::size_t n0 = a; n0 < e; n0 += g.chunk) {
      const std::size_t nc = std::min(g.chunk, e - n0), ld = nc * g.l;
      for (std::size_t gi = 0; gi < g.groups; ++gi) {
        Scalar* cg = keep_cols ? kept.data() + a * g.groups * g.k * g.l + gi * g.k * ld : cols;
        for (std::size_t j = 0; j < nc; ++j) {
          im2col(g, xp + ((n0 + j) * g.c + gi * g.cg) * g.h * g.w, cg + j * g.l, ld);
        }
        // prod (og, nc·L) = W_g (og, K) · cols (K, nc·L)
        gemm(false, false, g.og, ld, g.k, 1, wp + gi * g.og * g.k, cg, 0, prod);
        // y[n0 + j, g·og + oc, :] = prod[oc, j·L .. (j+1)·L) + b[g·og + oc]
        for (std::size_t oc = 0; oc < g.og; ++oc) {
          const Scalar b = bp ? bp[gi * g.og + oc] : Scalar(0);
          for (std::size_t j = 0; j < nc; ++j) {
            const Scalar* src = prod + oc * ld + j * g.l;
            Scalar* dst = yp + ((n0 + j) * g.o + gi * g.og + oc) * g.l;
            for (std::size_t q = 0; q < g.l; ++q) dst[q] = src[q] + b;
          }
        }
      }
    }
  });
  recycle(scratch);
  SavedTensor saved(std::move(kept));
  auto backward = [g, has_bias = bias != nullptr, saved = std::move(saved)](Node& self) {
    const ConvWanted want = conv_wanted(self, has_bias);
    if (conv_backward_over_ops(self, g, want)) return;
    const bool need_x = want.x, need_w = want.w, need_b = want.b;
    // The formula per task, chunk of samples and group, over raw buffers and gemm.
    const ConvGradTargets<Scalar> targets(self, want);
    Scalar *dx = targets.dx, *dw = targets.dw, *db = targets.db;
    const Scalar beta_x = targets.beta_x, beta_w = targets.beta_w, beta_b = targets.beta_b;
    const Scalar* kept = saved.get().size() != 0 ? saved.get().data() : nullptr;
    // per task: cols for dW when forward kept none, and dcols for dx; G of one group; the
    // partial dW (O·K) and db (O) of tasks 1, 2, ... (task 0 writes the gradients themselves)
    const std::size_t cols_size = need_x || (need_w && !kept) ? padded(g.k * g.chunk * g.l) : 0;
    const std::size_t gyp_size = padded(g.og * g.chunk * g.l);
    const std::size_t dw_size = need_w && g.tasks > 1 ? padded(g.o * g.k) : 0;
    const std::size_t db_size = need_b && g.tasks > 1 ? padded(g.o) : 0;
    const std::size_t stride = cols_size + gyp_size + dw_size + db_size;
    Tensor scratch = empty_tensor<Scalar>({g.tasks * stride});
    const Scalar* xp = self.parent_value(0).data();
    const Scalar* wp = self.parent_value(1).data();
    const Scalar* gy = self.grad.data();
    for_each_task(g, [&](std::size_t t) {
      const std::size_t a = g.task_begin(t), e = g.task_begin(t + 1);
      Scalar* buffers = scratch.data() + t * stride;
      ConvBackwardBuffers<Scalar> ops{g, xp, wp, gy};
      ops.need_x = need_x, ops.need_w = need_w, ops.need_b = need_b;
      ops.cols = buffers, ops.gyp = buffers + cols_size;
      ops.dx = dx;
      ops.dw = t == 0 ? dw : buffers + cols_size + gyp_size;
      ops.db = t == 0 ? db : buffers + cols_size + gyp_size + dw_size;
      ops.beta_w = t == 0 ? beta_w : Scalar(0), ops.beta_b = t == 0 ? beta_b : Scalar(0);
      if (need_x && beta_x == 0) std::fill(dx + a * g.c * g.h * g.w, dx + e * g.c * g.h * g.w, Scalar(0));
      for (std::size_t n0 = a; n0 < e; n0 += g.chunk) {
        for (std::size_t gi = 0; gi < g.groups; ++gi) {
          ops.n0 = n0, ops.nc = std::min(g.chunk, e - n0), ops.gi = gi, ops.first = n0 == a;
          ops.kept = kept ? kept + a * g.groups * g.k * g.l + gi * g.k * ops.nc * g.l : nullptr;
          conv2d_backward_formula(ops);
        }
      }
    });
    // dW += the partials of tasks 1, 2, ... in task order; db likewise
    for (std::size_t t = 1; t < g.tasks; ++t) {
      const Scalar* partial = scratch.data() + t * stride + cols_size + gyp_size;
      if (need_w) {
        for (std::size_t i = 0; i < g.o * g.k; ++i) dw[i] += partial[i];
      }
      if (need_b) {
        for (std::size_t i = 0; i < g.o; ++i) db[i] += partial[dw_size + i];
      }
    }
    recycle(scratch);
  };
  if (bias) return make_result("conv2d", std::move(y), {x, weight, *bias}, std::move(backward));
  return make_result("conv2d", std::move(y), {x, weight}, std::move(backward));
}

// The backend: XTGRAD_CONV's value at first use, then set_conv_backend's.
std::atomic<int>& backend_state() {
  static std::atomic<int> state = [] {
    const char* env = std::getenv("XTGRAD_CONV");
    const std::string v = env ? env : "";
    if (v == "own") return int(ConvBackend::own);
    if (v == "onednn") {
      if (!conv_onednn_available()) throw std::invalid_argument("XTGRAD_CONV=onednn: this xtgrad was built without oneDNN (-DXTGRAD_WITH_DNNL=ON)");
      return int(ConvBackend::onednn);
    }
    if (!v.empty()) throw std::invalid_argument("XTGRAD_CONV must be own or onednn, not '" + v + "'");
    return int(conv_onednn_available() ? ConvBackend::onednn : ConvBackend::own);
  }();
  return state;
}

}  // namespace

bool conv_onednn_available() {
#ifdef XTGRAD_WITH_DNNL
  return true;
#else
  return false;
#endif
}

ConvBackend conv_backend() { return ConvBackend(backend_state().load(std::memory_order_relaxed)); }

void set_conv_backend(ConvBackend backend) {
  if (backend == ConvBackend::onednn && !conv_onednn_available()) {
    throw std::invalid_argument("set_conv_backend(onednn): this xtgrad was built without oneDNN (-DXTGRAD_WITH_DNNL=ON)");
  }
  backend_state().store(int(backend), std::memory_order_relaxed);
}

const char* conv_backend_name() {
  if (conv_backend() == ConvBackend::own) return "own";
  return "onednn";
}

template <class Scalar>
BasicVariable<Scalar> conv2d(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                             const BasicVariable<Scalar>& bias, const Conv2dOptions& options) {
  return conv2d_impl(x, weight, &bias, options);
}

template <class Scalar>
BasicVariable<Scalar> conv2d(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                             const Conv2dOptions& options) {
  return conv2d_impl<Scalar>(x, weight, nullptr, options);
}

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template BasicVariable<T> conv2d(const BasicVariable<T>&, const BasicVariable<T>&, const BasicVariable<T>&, \
                                   const Conv2dOptions&);                                                     \
  template BasicVariable<T> conv2d(const BasicVariable<T>&, const BasicVariable<T>&, const Conv2dOptions&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
