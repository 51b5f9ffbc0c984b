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

struct Conv2dOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};   // zeros added on each side
  Size2 dilation{1, 1};  // spacing between kernel taps
  std::size_t groups = 1;  // channels split into `groups` independent convolutions
};

// Cross-correlation, PyTorch's conv2d: x (N, C, H, W), weight (O, C/groups, kh, kw),
// bias (O) → (N, O, OH, OW), OH = (H + 2·pad − dil·(kh − 1) − 1)/stride + 1 (same for W).
//   y[n, o, p, q] = b[o] + Σ_{c ∈ group(o), i, j} w[o, c, i, j]·x[n, c, p·s − pad + i·dil, q·s − pad + j·dil]
// Threads: a batch of at least num_threads() samples is split into one run of samples per
// thread; dW and db are then sums of per-thread partials, so another thread count may round
// them differently (the same thread count gives the same bits).
template <class T>
BasicVariable<T> conv2d(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias, const Conv2dOptions& options = {});
// Same without a bias.
template <class T>
BasicVariable<T> conv2d(const BasicVariable<T>& x, const BasicVariable<T>& weight, const Conv2dOptions& options = {});

struct Pool2dOptions {
  Size2 kernel{2, 2};
  Size2 stride{0, 0};   // 0: the kernel size (non-overlapping windows)
  Size2 padding{0, 0};  // at most half the kernel on each side
};

// Maximum over each window of x (N, C, H, W) → (N, C, OH, OW), OH = (H + 2·pad − k)/stride + 1;
// padding never wins. The gradient goes to the first maximum of each window.
template <class T>
BasicVariable<T> max_pool2d(const BasicVariable<T>& x, const Pool2dOptions& options);
// Mean over each window (padded zeros count, as PyTorch's default count_include_pad).
template <class T>
BasicVariable<T> avg_pool2d(const BasicVariable<T>& x, const Pool2dOptions& options);
// Mean over bins that tile x (N, C, H, W) into (N, C, out_h, out_w): bin i of H spans rows
// ⌊i·H/out_h⌋ .. ⌈(i+1)·H/out_h⌉ − 1.
template <class T>
BasicVariable<T> adaptive_avg_pool2d(const BasicVariable<T>& x, Size2 output_size);

}  // namespace xtgrad
