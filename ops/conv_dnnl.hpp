// conv2d's float path through oneDNN (built only with -DXTGRAD_WITH_DNNL=ON; ops/conv.cpp calls
// it where a plan exists and the conv backend is onednn). One job: run a 2-d convolution
// forward, backward-data and backward-weights(+bias) over plain NCHW / OIHW buffers.
//
// oneDNN picks its own formats (format_tag::any: blocked nChw16c / OIhw16i16o on AVX-512) and
// each call reorders from and to the plain buffers; forward's reordered input can be kept for
// backward-weights. Primitives, reorders and a user-managed scratchpad are made once per
// shape (a cache behind one mutex, which also serialises the calls). oneDNN's OpenMP runtime
// runs each call on exactly xtgrad::num_threads() threads (1 inside a parallel_for chunk).
// The allocations oneDNN makes inside a call (its argument maps, a few per primitive) are
// made under an xtgrad::BlasScope, so the malloc counter of tests/ and bench/ tallies them
// with the BLAS library's, apart from xtgrad's own.
#pragma once

#include <array>
#include <cstddef>

namespace xtgrad::onednn {

struct ConvShape {
  std::size_t n, c, h, w;      // input
  std::size_t o, kh, kw;       // weight (o, c / groups, kh, kw)
  std::size_t oh, ow;          // output plane
  std::size_t groups;
  std::array<std::size_t, 2> stride, padding, dilation;  // dilation as conv2d's (1: none)
  bool bias;
};

struct ConvPlan;

// The plan for `s`, made on first use, or nullptr where oneDNN has no implementation for it.
const ConvPlan* conv_plan(const ConvShape& s);

// Floats forward keeps of its input in oneDNN's layout for backward-weights (0: none; the
// backward then reorders the plain input again).
std::size_t kept_input_size(const ConvPlan& p);

// y (n, o, oh, ow) = conv(x, w) + b (b may be null when the plan has no bias). kept_x: null, or
// kept_input_size(p) floats that receive x in backward-weights' layout.
void forward(const ConvPlan& p, const float* x, const float* w, const float* b, float* y, float* kept_x);

// Gradients; each target (null: not needed) is overwritten when its beta is 0, added to when 1.
// x: the plain input, or kept_x from forward when it is non-null.
void backward(const ConvPlan& p, const float* x, const float* kept_x, const float* w, const float* gy,
              float* dx, float beta_x, float* dw, float beta_w, float* db, float beta_b);

// "jit:avx512_core / ..." of forward, backward-data, backward-weights (tests, benchmarks).
const char* implementation(const ConvPlan& p);

}  // namespace xtgrad::onednn
