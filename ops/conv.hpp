// Convolution and pooling over NCHW batches: conv2d through im2col and gemm (transpose
// flags, recycled buffers, the batch split among the threads; ops/conv.cpp), max / average /
// adaptive average pooling (ops/pool.cpp, the planes split among the threads).
#pragma once

#include <array>
#include <cstddef>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// (height, width) of a kernel, stride, padding or dilation.
using Size2 = std::array<std::size_t, 2>;

// Which kernel conv2d runs: `automatic` picks the direct one where it was measured faster (see
// conv2d below), `im2col` and `direct` force one (tests and benchmarks compare them; `direct`
// throws std::invalid_argument where it does not apply).
enum class Conv2dKernel { automatic, im2col, direct };

// Options of conv2d and of nn::Conv2d (the one conv options struct; nn::Conv2dConfig is its
// old, deprecated name). Public fields, so `Conv2dOptions o; o.padding = {1, 1};` and the
// positional `Conv2dOptions{{1, 1}, {1, 1}}` work, and chainable setters for one expression:
// `Conv2dOptions().set_padding(1).set_groups(2)` (a single number means both dimensions).
struct Conv2dOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};   // zeros added on each side
  Size2 dilation{1, 1};  // spacing between kernel taps
  std::size_t groups = 1;  // channels split into `groups` independent convolutions
  bool bias = true;        // nn::Conv2d only: whether it has a bias (the op takes one as an argument)
  Conv2dKernel kernel = Conv2dKernel::automatic;

  Conv2dOptions& set_stride(Size2 v) { stride = v; return *this; }
  Conv2dOptions& set_stride(std::size_t v) { stride = {v, v}; return *this; }
  Conv2dOptions& set_padding(Size2 v) { padding = v; return *this; }
  Conv2dOptions& set_padding(std::size_t v) { padding = {v, v}; return *this; }
  Conv2dOptions& set_dilation(Size2 v) { dilation = v; return *this; }
  Conv2dOptions& set_dilation(std::size_t v) { dilation = {v, v}; return *this; }
  Conv2dOptions& set_groups(std::size_t v) { groups = v; return *this; }
  Conv2dOptions& set_bias(bool v) { bias = v; return *this; }
  Conv2dOptions& set_kernel(Conv2dKernel v) { kernel = v; return *this; }
};

// Cross-correlation, PyTorch's conv2d: x (N, C, H, W), weight (O, C/groups, kh, kw),
// bias (O) → (N, O, OH, OW), OH = (H + 2·pad − dil·(kh − 1) − 1)/stride + 1 (same for W).
//   y[n, o, p, q] = b[o] + Σ_{c ∈ group(o), i, j} w[o, c, i, j]·x[n, c, p·s − pad + i·dil, q·s − pad + j·dil]
// Threads: a batch of at least num_threads() samples is split into one run of samples per
// thread; dW and db are then sums of per-thread partials, so another thread count may round
// them differently (the same thread count gives the same bits).
// Kernel (options.kernel): im2col + gemm, or a direct kernel (SIMD over output columns, eight
// output channels in registers; stride 1, no dilation, one group) whose results are the same
// bits for any thread count. `automatic` takes the direct one for a first layer: x needs no
// gradient and C·kh·kw ≤ 25 (1 → 6 5×5, 1 → 32 3×3: measured faster, bench_conv BM_conv2d_kernels).
template <class T>
BasicVariable<T> conv2d(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias, const Conv2dOptions& options = {});
// Same without a bias.
template <class T>
BasicVariable<T> conv2d(const BasicVariable<T>& x, const BasicVariable<T>& weight, const Conv2dOptions& options = {});

// Which library runs conv2d's float path when Conv2dOptions::kernel is `automatic`: xtgrad's
// own kernels (im2col + gemm, the direct kernel) or oneDNN's (ops/conv_dnnl.hpp; only in a build
// configured with -DXTGRAD_WITH_DNNL=ON, where it is the default). Double, create_graph
// backwards, a forced kernel and shapes oneDNN has no implementation for always run the own
// kernels. Above one thread oneDNN runs as the own kernels do: the batch in chunks of samples on
// xtgrad's pool, each chunk one oneDNN call at one OpenMP thread (no OMP_WAIT_POLICY needed).
// The environment variable XTGRAD_CONV=own (or onednn) sets the starting value;
// set_conv_backend changes it for every thread (std::invalid_argument: onednn without oneDNN).
enum class ConvBackend { own, onednn };
ConvBackend conv_backend();
void set_conv_backend(ConvBackend backend);
// Whether this build has the oneDNN backend (-DXTGRAD_WITH_DNNL=ON).
bool conv_onednn_available();
// Which backend conv2d's float path runs now, as words (benchmarks print it): "own" or "onednn".
const char* conv_backend_name();

// Options of max_pool2d / avg_pool2d: Pool2dOptions{} (2×2), Pool2dOptions(3, 2, 1) (square),
// Pool2dOptions({2, 3}, {1, 2}). The common case needs none: max_pool2d(x, 2).
struct Pool2dOptions {
  Size2 kernel{2, 2};
  Size2 stride{0, 0};   // 0: the kernel size (non-overlapping windows)
  Size2 padding{0, 0};  // at most half the kernel on each side

  Pool2dOptions(Size2 kernel = {2, 2}, Size2 stride = {0, 0}, Size2 padding = {0, 0})
      : kernel(kernel), stride(stride), padding(padding) {}
  // A square kernel × kernel window, stride and padding the same in both dimensions.
  Pool2dOptions(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : kernel{kernel, kernel}, stride{stride, stride}, padding{padding, padding} {}
};

// Maximum over each window of x (N, C, H, W) → (N, C, OH, OW), OH = (H + 2·pad − k)/stride + 1;
// padding never wins. The gradient goes to the first maximum of each window.
template <class T>
BasicVariable<T> max_pool2d(const BasicVariable<T>& x, const Pool2dOptions& options);
// max_pool2d(x, 2): PyTorch's F.max_pool2d(x, kernel_size, stride = kernel_size, padding = 0).
template <class T>
BasicVariable<T> max_pool2d(const BasicVariable<T>& x, std::size_t kernel, std::size_t stride = 0,
                            std::size_t padding = 0) {
  return max_pool2d(x, Pool2dOptions(kernel, stride, padding));
}
// Mean over each window (padded zeros count, as PyTorch's default count_include_pad).
template <class T>
BasicVariable<T> avg_pool2d(const BasicVariable<T>& x, const Pool2dOptions& options);
// avg_pool2d(x, 2), as max_pool2d's short form.
template <class T>
BasicVariable<T> avg_pool2d(const BasicVariable<T>& x, std::size_t kernel, std::size_t stride = 0,
                            std::size_t padding = 0) {
  return avg_pool2d(x, Pool2dOptions(kernel, stride, padding));
}
// Mean over bins that tile x (N, C, H, W) into (N, C, out_h, out_w): bin i of H spans rows
// ⌊i·H/out_h⌋ .. ⌈(i+1)·H/out_h⌉ − 1.
template <class T>
BasicVariable<T> adaptive_avg_pool2d(const BasicVariable<T>& x, Size2 output_size);

}  // namespace xtgrad
