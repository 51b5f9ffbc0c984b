// conv2d's float path through oneDNN (built only with -DXTGRAD_WITH_DNNL=ON; ops/conv.cpp calls
// it where a plan exists and the conv backend is onednn). One job: run a 2-d convolution
// forward, backward-data and backward-weights(+bias) over plain NCHW / OIHW buffers.
//
// oneDNN picks its own formats (format_tag::any: blocked nChw16c / OIhw16i16o on AVX-512) and
// each call reorders from and to the plain buffers; forward's reordered input can be kept for
// backward-weights.
//
// Threads: the batch is split into chunks of samples as xtgrad's own kernels split it
// (parallel_for's chunks of n samples, a grain of enough samples for 256 Ki multiply-adds, at
// most num_threads(); 1 inside a parallel region), and each chunk is one oneDNN call on one
// thread of xtgrad's pool, with oneDNN's OpenMP runtime at one thread: no OpenMP team ever
// starts, so no OMP_WAIT_POLICY is needed. y and dx are per sample; dW and db are per-chunk
// partials summed in chunk order, so a thread count gives the same bits run to run (another
// count may round dW and db differently, and oneDNN may pick other kernels for other chunk
// sizes). The plan of a batch shape and chunk count holds the primitives of its chunks' shapes
// (n / chunks samples and one more), made once each with their reorders; a cache behind one
// mutex, taken only to look plans up or make them. Each chunk has its own scratchpad and work
// buffers (from xtgrad's buffer cache, taken by the calling thread) and each thread its own
// oneDNN stream.
// The allocations oneDNN makes inside a call (its argument maps, memory objects, a few per
// primitive) are made under an xtgrad::BlasScope, so the malloc counter of tests/ and bench/
// tallies them with the BLAS library's, apart from xtgrad's own.
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

// The plan for `s` split for num_threads() now (backward reuses forward's plan, so its split),
// made on first use, or nullptr where oneDNN has no implementation for it.
const ConvPlan* conv_plan(const ConvShape& s);

// Chunks of samples the plan runs in parallel (tests).
std::size_t chunks(const ConvPlan& p);

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

// "jit:avx512_core / ..." of forward, backward-data, backward-weights of a chunk, and the
// split: "... (2 chunks of 32 samples)" (tests, benchmarks).
const char* implementation(const ConvPlan& p);

}  // namespace xtgrad::onednn
