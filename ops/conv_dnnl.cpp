#include "xtgrad/ops/conv_dnnl.hpp"

#include <omp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "xtgrad/core/blas_scope.hpp"
#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad::onednn {

using dnnl::memory;
using Tag = memory::format_tag;

namespace {

// Floats that hold `md` (its bytes rounded up), then rounded up to whole 64-byte lines so that
// the next region of a work buffer starts on a line of its own.
std::size_t floats(const memory::desc& md) { return ((md.get_size() + sizeof(float) - 1) / sizeof(float) + 15) / 16 * 16; }
std::size_t padded(std::size_t size) { return (size + 15) / 16 * 16; }

// A reorder from one layout to another, made once with the primitives (null when the layouts
// are the same). User-managed scratchpad: oneDNN's library-managed one may not be used by a
// primitive on another thread than the one that made it, and chunks run on any thread.
struct Reorder {
  dnnl::reorder prim;
  memory::desc from, to, scratch;
  explicit operator bool() const { return bool(prim); }
};

// Whether reorders with `dst += src` are wanted as well as `dst = src`.
Reorder make_reorder(const dnnl::engine& eng, const memory::desc& from, const memory::desc& to, bool add = false) {
  Reorder r;
  if (from == to && !add) return r;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (add) {
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    attr.set_post_ops(ops);
  }
  const dnnl::reorder::primitive_desc pd(eng, from, eng, to, attr);
  r.prim = dnnl::reorder(pd);
  r.from = from, r.to = to, r.scratch = pd.scratchpad_desc();
  return r;
}

}  // namespace

// One oneDNN call's primitives: a convolution of `n` samples (a chunk of the batch), its
// layouts and the reorders between them and the plain buffers. Immutable once made, so
// concurrent chunks share it (each with its own scratchpad and stream).
struct Primitives {
  std::size_t n = 0;
  memory::desc x, w, y, b;  // plain user layouts
  dnnl::convolution_forward::primitive_desc fpd;
  dnnl::convolution_backward_data::primitive_desc dpd;
  dnnl::convolution_backward_weights::primitive_desc wpd;
  dnnl::primitive fwd, bwd_data, bwd_weights;
  // the primitives' layouts, queried once (a query allocates)
  memory::desc f_x, f_w, f_y, f_sp, d_dy, d_w, d_dx, d_sp, w_x, w_dy, w_dw, w_sp;
  // plain ↔ the primitives' layouts (null where they agree)
  Reorder x_to_f, w_to_f, f_to_y, y_to_d, w_to_d, d_to_x, d_add_x, y_to_w, x_to_w, w_to_plain, w_add_plain;
  std::size_t scratch_floats = 0;  // the largest scratchpad of the primitives and reorders
  bool keep_x = false;             // forward's reordered x is backward-weights' src layout
  std::string impl;
};

// The batch's plan: n samples split into `chunks` runs [chunk_start(i), chunk_start(i + 1)) as
// xtgrad's parallel_for splits them (core/parallel.hpp), each run one oneDNN call on one
// thread. Runs have n / chunks samples (`small`) or one more (`large`; the same object when
// chunks divides n).
struct ConvPlan {
  std::size_t n = 0, chunks = 1;
  std::size_t x_sample = 0, y_sample = 0;  // floats of one sample of x and of y
  const Primitives* small = nullptr;
  const Primitives* large = nullptr;
  std::size_t o = 0, w_size = 0;           // output channels, floats of W (plain)
  bool bias = false;
  std::vector<std::size_t> kept_at;        // chunk i's kept x at kept_at[i] (chunks + 1 entries), or empty
  // per chunk work buffers, in floats (the larger run's sizes):
  //   forward:  x in forward's layout | y in forward's layout | scratchpad
  //   backward: dy for backward-data | dx | dy for backward-weights | x for it | dW in its layout
  //             | dW plain (the chunk's partial) | db (partial) | scratchpad
  std::size_t fwd_stride = 0, bwd_stride = 0;
  std::string impl;

  const Primitives& of_chunk(std::size_t i, std::size_t& begin, std::size_t& end) const {
    begin = parallel_detail::chunk_start(0, n, chunks, i);
    end = parallel_detail::chunk_start(0, n, chunks, i + 1);
    return end - begin == small->n ? *small : *large;
  }
};

namespace {

struct Runtime {
  std::mutex mutex;  // guards the maps (plan lookup and creation only; the calls run unlocked)
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  using Key = std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                         std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                         bool>;
  std::map<Key, std::unique_ptr<Primitives>> primitives;          // per shape (n: a chunk's); null: none
  std::map<std::pair<Key, std::size_t>, std::unique_ptr<ConvPlan>> plans;  // per (batch shape, chunks)
};

// Never destroyed: pool threads may still hold streams of its engine when statics are torn down.
Runtime& runtime() {
  static Runtime* r = new Runtime;
  return *r;
}

// The calling thread's oneDNN stream (made once per thread, under a BlasScope: the malloc
// counter tallies its allocations as the library's).
dnnl::stream& thread_stream() {
  thread_local std::optional<dnnl::stream> stream;
  if (!stream) {
    const BlasScope library;
    stream.emplace(runtime().engine);
  }
  return *stream;
}

// RAII: the calling thread's OpenMP thread count is 1 while oneDNN makes or runs primitives
// (oneDNN fixes a kernel's thread count when it makes it, and its reorders read it when they
// run), then what it was. So every call runs on its calling thread alone: no OpenMP team ever
// starts, and no idle OpenMP worker spins beside xtgrad's pool. libgomp allocates a thread's
// settings the first time they are set: under a BlasScope too.
class OneOmpThread {
 public:
  OneOmpThread() : previous_(omp_get_max_threads()) {
    if (previous_ != 1) {
      const BlasScope library;
      omp_set_num_threads(1);
    }
  }
  ~OneOmpThread() {
    if (previous_ != 1) omp_set_num_threads(previous_);
  }
  OneOmpThread(const OneOmpThread&) = delete;
  OneOmpThread& operator=(const OneOmpThread&) = delete;

 private:
  int previous_;
};

memory::dims dims(std::initializer_list<std::size_t> v) {
  memory::dims d;
  for (std::size_t x : v) d.push_back(memory::dim(x));
  return d;
}

std::unique_ptr<Primitives> make_primitives(const ConvShape& s, const dnnl::engine& eng) {
  using namespace dnnl;
  auto p = std::make_unique<Primitives>();
  const auto f32 = memory::data_type::f32;
  const memory::dims xd = dims({s.n, s.c, s.h, s.w}), yd = dims({s.n, s.o, s.oh, s.ow});
  const memory::dims wd = s.groups == 1 ? dims({s.o, s.c, s.kh, s.kw})
                                        : dims({s.groups, s.o / s.groups, s.c / s.groups, s.kh, s.kw});
  p->n = s.n;
  p->x = memory::desc(xd, f32, Tag::nchw);
  p->y = memory::desc(yd, f32, Tag::nchw);
  p->w = memory::desc(wd, f32, s.groups == 1 ? Tag::oihw : Tag::goihw);
  p->b = memory::desc(dims({s.o}), f32, Tag::x);
  const memory::desc xa(xd, f32, Tag::any), ya(yd, f32, Tag::any), wa(wd, f32, Tag::any);
  const memory::dims stride = dims({s.stride[0], s.stride[1]});
  const memory::dims dil = {memory::dim(s.dilation[0]) - 1, memory::dim(s.dilation[1]) - 1};
  const memory::dims pad_l = dims({s.padding[0], s.padding[1]});
  // right padding: whatever makes the output size conv2d's (may be negative: rows left over)
  const memory::dims pad_r = {
      memory::dim((s.oh - 1) * s.stride[0] + s.dilation[0] * (s.kh - 1) + 1) - memory::dim(s.h + s.padding[0]),
      memory::dim((s.ow - 1) * s.stride[1] + s.dilation[1] * (s.kw - 1) + 1) - memory::dim(s.w + s.padding[1])};
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  const auto algo = algorithm::convolution_direct;
  try {
    const auto fd = s.bias ? convolution_forward::desc(prop_kind::forward_training, algo, xa, wa, p->b, ya, stride,
                                                       dil, pad_l, pad_r)
                           : convolution_forward::desc(prop_kind::forward_training, algo, xa, wa, ya, stride, dil,
                                                       pad_l, pad_r);
    p->fpd = convolution_forward::primitive_desc(fd, attr, eng);
    const convolution_backward_data::desc dd(algo, xa, wa, ya, stride, dil, pad_l, pad_r);
    p->dpd = convolution_backward_data::primitive_desc(dd, attr, eng, p->fpd);
    const auto wdd = s.bias ? convolution_backward_weights::desc(algo, xa, wa, p->b, ya, stride, dil, pad_l, pad_r)
                            : convolution_backward_weights::desc(algo, xa, wa, ya, stride, dil, pad_l, pad_r);
    p->wpd = convolution_backward_weights::primitive_desc(wdd, attr, eng, p->fpd);
  } catch (const dnnl::error&) {
    return nullptr;
  }
  p->fwd = convolution_forward(p->fpd);
  p->bwd_data = convolution_backward_data(p->dpd);
  p->bwd_weights = convolution_backward_weights(p->wpd);
  p->f_x = p->fpd.src_desc(), p->f_w = p->fpd.weights_desc(), p->f_y = p->fpd.dst_desc();
  p->f_sp = p->fpd.scratchpad_desc();
  p->d_dy = p->dpd.diff_dst_desc(), p->d_w = p->dpd.weights_desc(), p->d_dx = p->dpd.diff_src_desc();
  p->d_sp = p->dpd.scratchpad_desc();
  p->w_x = p->wpd.src_desc(), p->w_dy = p->wpd.diff_dst_desc(), p->w_dw = p->wpd.diff_weights_desc();
  p->w_sp = p->wpd.scratchpad_desc();
  p->x_to_f = make_reorder(eng, p->x, p->f_x);
  p->w_to_f = make_reorder(eng, p->w, p->f_w);
  p->f_to_y = make_reorder(eng, p->f_y, p->y);
  p->y_to_d = make_reorder(eng, p->y, p->d_dy);
  p->w_to_d = make_reorder(eng, p->w, p->d_w);
  p->d_to_x = make_reorder(eng, p->d_dx, p->x);
  p->d_add_x = make_reorder(eng, p->d_dx, p->x, true);
  p->y_to_w = make_reorder(eng, p->y, p->w_dy);
  p->x_to_w = make_reorder(eng, p->x, p->w_x);
  p->w_to_plain = make_reorder(eng, p->w_dw, p->w);
  p->w_add_plain = make_reorder(eng, p->w_dw, p->w, true);
  std::size_t scratch = std::max({floats(p->f_sp), floats(p->d_sp), floats(p->w_sp), std::size_t(16)});
  for (const Reorder* r : {&p->x_to_f, &p->w_to_f, &p->f_to_y, &p->y_to_d, &p->w_to_d, &p->d_to_x, &p->d_add_x,
                           &p->y_to_w, &p->x_to_w, &p->w_to_plain, &p->w_add_plain}) {
    if (*r) scratch = std::max(scratch, floats(r->scratch));
  }
  p->scratch_floats = scratch;
  p->keep_x = p->f_x != p->x && p->f_x == p->w_x;
  p->impl = std::string(p->fpd.impl_info_str()) + " / " + p->dpd.impl_info_str() + " / " + p->wpd.impl_info_str();
  return p;
}

// The primitives for `s` (made on first use; null: oneDNN has none). Under the runtime's mutex.
const Primitives* primitives_of(Runtime& r, const ConvShape& s) {
  const Runtime::Key key = std::make_tuple(s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.groups, s.stride[0], s.stride[1],
                                           s.padding[0], s.padding[1], s.dilation[0], s.dilation[1], s.bias);
  auto it = r.primitives.find(key);
  if (it == r.primitives.end()) {
    const OneOmpThread one_thread;  // before oneDNN fixes the kernels' thread count
    const BlasScope library;
    it = r.primitives.emplace(key, make_primitives(s, r.engine)).first;
  }
  return it->second.get();
}

// Multiply-adds a chunk needs before it is worth a thread (as the own kernels' kMinTaskWork,
// ops/conv.cpp).
constexpr double kMinChunkWork = 256.0 * 1024;

// Chunks for s's batch at num_threads(): parallel_for's split of n samples at a grain of
// enough samples for kMinChunkWork multiply-adds (O·OH·OW·(C/groups)·KH·KW per sample);
// 1 inside a parallel region.
std::size_t chunks_for(const ConvShape& s) {
  if (in_parallel_region() || s.n == 0) return 1;
  const double sample_work = double(s.o) * double(s.oh * s.ow) * double(s.c / s.groups) * double(s.kh * s.kw);
  const std::size_t grain = std::max<std::size_t>(1, std::size_t(kMinChunkWork / std::max(sample_work, 1.0)));
  return std::max<std::size_t>(1, parallel_detail::chunk_count(s.n, grain));
}

std::unique_ptr<ConvPlan> make_plan(Runtime& r, const ConvShape& s, std::size_t chunks) {
  ConvShape cs = s;
  cs.n = s.n / chunks;
  const Primitives* small = primitives_of(r, cs);
  const Primitives* large = small;
  if (s.n % chunks != 0) {
    cs.n = s.n / chunks + 1;
    large = primitives_of(r, cs);
  }
  if (!small || !large) return nullptr;
  auto p = std::make_unique<ConvPlan>();
  p->n = s.n, p->chunks = chunks, p->small = small, p->large = large;
  p->x_sample = s.c * s.h * s.w, p->y_sample = s.o * s.oh * s.ow;
  p->o = s.o, p->w_size = s.o * (s.c / s.groups) * s.kh * s.kw, p->bias = s.bias;
  if (small->keep_x && large->keep_x) {
    p->kept_at.resize(chunks + 1, 0);
    for (std::size_t i = 0; i < chunks; ++i) {
      std::size_t b, e;
      p->kept_at[i + 1] = p->kept_at[i] + floats(p->of_chunk(i, b, e).w_x);
    }
  }
  // work buffers: each region sized for the larger of the two (its size does not shrink with n
  // in every layout, so both are asked)
  const auto most = [&](const memory::desc Primitives::*md) { return std::max(floats(small->*md), floats(large->*md)); };
  const std::size_t scratch = std::max(small->scratch_floats, large->scratch_floats);
  p->fwd_stride = most(&Primitives::f_x) + most(&Primitives::f_y) + scratch;
  p->bwd_stride = most(&Primitives::d_dy) + most(&Primitives::d_dx) + most(&Primitives::w_dy) +
                  most(&Primitives::w_x) + most(&Primitives::w_dw) + padded(p->w_size) + padded(s.o) + scratch;
  p->impl = small->impl;
  if (chunks > 1) {
    p->impl += " (" + std::to_string(chunks) + " chunks of " + std::to_string(small->n) +
               (large != small ? "-" + std::to_string(large->n) : std::string()) + " samples)";
  }
  return p;
}

// Runs a reorder src → dst on this thread.
void run(const Reorder& r, const float* src, float* dst, float* scratch) {
  const BlasScope library;
  const dnnl::engine& eng = runtime().engine;
  std::unordered_map<int, memory> args{{DNNL_ARG_FROM, memory(r.from, eng, const_cast<float*>(src))},
                                       {DNNL_ARG_TO, memory(r.to, eng, dst)}};
  if (r.scratch.get_size() != 0) args.emplace(DNNL_ARG_SCRATCHPAD, memory(r.scratch, eng, scratch));
  r.prim.execute(thread_stream(), args);
}

// A read-only operand in a primitive's layout: the plain buffer itself when `r` is null (the
// layouts agree), else reordered into `buffer`.
const float* operand(const Reorder& r, const float* plain, float* buffer, float* scratch) {
  if (!r) return plain;
  run(r, plain, buffer, scratch);
  return buffer;
}

// W in the layouts of the two runs' primitives (`to` one of their reorders from plain W),
// reordered once on the calling thread: `large`'s copy is `small`'s when the layouts agree.
struct Weights {
  TensorOf<float> small_t = TensorOf<float>::from_shape({0}), large_t = TensorOf<float>::from_shape({0});
  const float* small = nullptr;
  const float* large = nullptr;
  Weights(const ConvPlan& p, Reorder Primitives::*to, const float* w, float* scratch) {
    const Reorder &rs = p.small->*to, &rl = p.large->*to;
    if (rs) small_t = empty_tensor<float>({floats(rs.to)});
    small = operand(rs, w, small_t.data(), scratch);
    if (p.large == p.small || (!rs && !rl) || (rs && rl && rs.to == rl.to)) {
      large = small;
    } else {
      if (rl) large_t = empty_tensor<float>({floats(rl.to)});
      large = operand(rl, w, large_t.data(), scratch);
    }
  }
  const float* of(const ConvPlan& p, const Primitives& q) const { return &q == p.small ? small : large; }
  ~Weights() {
    recycle(small_t);
    recycle(large_t);
  }
};

// fn(i, begin, end, primitives) for each chunk i of p: on xtgrad's pool when there are several.
template <class F>
void for_each_chunk(const ConvPlan& p, const F& fn) {
  const auto one = [&](std::size_t i) {
    const OneOmpThread one_thread;
    std::size_t b, e;
    const Primitives& q = p.of_chunk(i, b, e);
    fn(i, b, e, q);
  };
  if (p.chunks == 1) {
    one(0);
    return;
  }
  parallel_detail::run_chunks(
      0, p.n, p.chunks, [](const void* c, std::size_t i, std::size_t, std::size_t) { (*static_cast<const decltype(one)*>(c))(i); },
      &one);
}

}  // namespace

const ConvPlan* conv_plan(const ConvShape& s) {
  Runtime& r = runtime();
  const std::size_t chunks = chunks_for(s);
  const std::lock_guard<std::mutex> lock(r.mutex);
  const auto key = std::make_pair(std::make_tuple(s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.groups, s.stride[0],
                                                  s.stride[1], s.padding[0], s.padding[1], s.dilation[0],
                                                  s.dilation[1], s.bias),
                                  chunks);
  auto it = r.plans.find(key);
  if (it == r.plans.end()) {
    const BlasScope library;
    it = r.plans.emplace(key, make_plan(r, s, chunks)).first;
  }
  return it->second.get();
}

std::size_t kept_input_size(const ConvPlan& p) { return p.kept_at.empty() ? 0 : p.kept_at.back(); }

const char* implementation(const ConvPlan& p) { return p.impl.c_str(); }

std::size_t chunks(const ConvPlan& p) { return p.chunks; }

// Per chunk of samples [a, e): y[a, e) = conv(x[a, e), W) + b, x and y reordered to and from
// forward's layouts in the chunk's work buffer (x into kept_x's part instead when it is kept).
void forward(const ConvPlan& p, const float* x, const float* w, const float* b, float* y, float* kept_x) {
  const OneOmpThread one_thread;  // the weights' reorders below
  TensorOf<float> work = empty_tensor<float>({p.chunks * p.fwd_stride});
  const std::size_t x_floats = std::max(floats(p.small->f_x), floats(p.large->f_x));
  const std::size_t y_floats = std::max(floats(p.small->f_y), floats(p.large->f_y));
  const Weights ws(p, &Primitives::w_to_f, w, work.data() + x_floats + y_floats);  // chunk 0's scratchpad
  float* base = work.data();
  for_each_chunk(p, [&](std::size_t i, std::size_t a, std::size_t, const Primitives& q) {
    float* buf = base + i * p.fwd_stride;
    float* scratch = buf + x_floats + y_floats;
    float* y_chunk = y + a * p.y_sample;
    const float* xs = operand(q.x_to_f, x + a * p.x_sample, kept_x && q.keep_x ? kept_x + p.kept_at[i] : buf, scratch);
    float* yt = q.f_to_y ? buf + x_floats : y_chunk;
    {
      const BlasScope library;  // oneDNN's allocations (argument map, memory objects)
      const dnnl::engine& eng = runtime().engine;
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(q.f_x, eng, const_cast<float*>(xs))},
                                           {DNNL_ARG_WEIGHTS, memory(q.f_w, eng, const_cast<float*>(ws.of(p, q)))},
                                           {DNNL_ARG_DST, memory(q.f_y, eng, yt)},
                                           {DNNL_ARG_SCRATCHPAD, memory(q.f_sp, eng, scratch)}};
      if (b) args.emplace(DNNL_ARG_BIAS, memory(q.b, eng, const_cast<float*>(b)));
      q.fwd.execute(thread_stream(), args);
    }
    if (q.f_to_y) run(q.f_to_y, yt, y_chunk, scratch);
  });
  recycle(work);
}

// Per chunk of samples [a, e):
//   dx[a, e) (+)= backward-data(dy[a, e), W)            (samples independent)
//   dW_i = Σ_{s∈[a,e)} dy_s ⋆ x_s,  db_i = Σ_{s∈[a,e)} Σ_{oh,ow} dy_s   (backward-weights)
// then dW (+)= dW_0 + dW_1 + ... and db alike, in chunk order: chunk 0 writes (or adds to) the
// gradients themselves, chunks 1, 2, ... their partials (plain OIHW, (O)) in their work
// buffers, added by the calling thread after the last chunk; the same bits for a given split.
void backward(const ConvPlan& p, const float* x, const float* kept_x, const float* w, const float* gy,
              float* dx, float beta_x, float* dw, float beta_w, float* db, float beta_b) {
  const bool weights = dw || db;
  if (!dx && !weights) return;
  const OneOmpThread one_thread;  // the weights' reorders below
  TensorOf<float> work = empty_tensor<float>({p.chunks * p.bwd_stride});
  const auto most = [&](const memory::desc Primitives::*md) { return std::max(floats(p.small->*md), floats(p.large->*md)); };
  // regions of a chunk's buffer, in floats from its start
  const std::size_t at_dx = most(&Primitives::d_dy), at_gw = at_dx + most(&Primitives::d_dx);
  const std::size_t at_xw = at_gw + most(&Primitives::w_dy), at_dw = at_xw + most(&Primitives::w_x);
  const std::size_t at_pw = at_dw + most(&Primitives::w_dw), at_pb = at_pw + padded(p.w_size);
  const std::size_t at_scratch = at_pb + padded(p.o);
  float* base = work.data();
  std::optional<Weights> wd;
  if (dx) wd.emplace(p, &Primitives::w_to_d, w, base + at_scratch);
  for_each_chunk(p, [&](std::size_t i, std::size_t a, std::size_t, const Primitives& q) {
    float* buf = base + i * p.bwd_stride;
    float* scratch = buf + at_scratch;
    const float* gy_chunk = gy + a * p.y_sample;
    const dnnl::engine& eng = runtime().engine;
    const float* g_d = nullptr;  // dy in backward-data's layout, when reordered
    if (dx) {
      float* dx_chunk = dx + a * p.x_sample;
      g_d = operand(q.y_to_d, gy_chunk, buf, scratch);
      float* out = !q.d_to_x && beta_x == 0 ? dx_chunk : buf + at_dx;
      {
        const BlasScope library;
        q.bwd_data.execute(thread_stream(), {{DNNL_ARG_DIFF_DST, memory(q.d_dy, eng, const_cast<float*>(g_d))},
                                             {DNNL_ARG_WEIGHTS, memory(q.d_w, eng, const_cast<float*>(wd->of(p, q)))},
                                             {DNNL_ARG_DIFF_SRC, memory(q.d_dx, eng, out)},
                                             {DNNL_ARG_SCRATCHPAD, memory(q.d_sp, eng, scratch)}});
      }
      if (out != dx_chunk) run(beta_x != 0 ? q.d_add_x : q.d_to_x, out, dx_chunk, scratch);
    }
    if (!weights) return;
    // dy in backward-weights' layout: backward-data's copy when the layouts agree
    const float* g = !q.y_to_w                                       ? gy_chunk
                     : dx && q.y_to_d && q.w_dy == q.d_dy ? g_d
                                                          : operand(q.y_to_w, gy_chunk, buf + at_gw, scratch);
    const float* xs = kept_x ? kept_x + p.kept_at[i] : operand(q.x_to_w, x + a * p.x_sample, buf + at_xw, scratch);
    // destinations: chunk 0 the gradients where it can write them, else its work buffer;
    // dW and db are always computed (oneDNN's primitive writes both)
    float* wout;
    float* bout = nullptr;
    if (i == 0) {
      wout = dw && !q.w_to_plain && beta_w == 0 ? dw : buf + at_dw;
      if (p.bias) bout = db && beta_b == 0 ? db : buf + at_pb;
    } else {
      wout = q.w_to_plain ? buf + at_dw : buf + at_pw;
      if (p.bias) bout = buf + at_pb;
    }
    {
      const BlasScope library;
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(q.w_x, eng, const_cast<float*>(xs))},
                                           {DNNL_ARG_DIFF_DST, memory(q.w_dy, eng, const_cast<float*>(g))},
                                           {DNNL_ARG_DIFF_WEIGHTS, memory(q.w_dw, eng, wout)},
                                           {DNNL_ARG_SCRATCHPAD, memory(q.w_sp, eng, scratch)}};
      if (bout) args.emplace(DNNL_ARG_DIFF_BIAS, memory(q.b, eng, bout));
      q.bwd_weights.execute(thread_stream(), args);
    }
    if (i == 0) {
      if (dw && wout != dw) {
        if (q.w_to_plain) {
          run(beta_w != 0 ? q.w_add_plain : q.w_to_plain, wout, dw, scratch);
        } else {  // plain dW into the work buffer because beta_w is 1
          for (std::size_t k = 0; k < p.w_size; ++k) dw[k] += wout[k];
        }
      }
      if (db && bout != db) {
        for (std::size_t k = 0; k < p.o; ++k) db[k] += bout[k];
      }
    } else if (q.w_to_plain) {
      run(q.w_to_plain, wout, buf + at_pw, scratch);
    }
  });
  // dW += the partials of chunks 1, 2, ... in chunk order; db likewise
  for (std::size_t i = 1; i < p.chunks; ++i) {
    const float* buf = base + i * p.bwd_stride;
    if (dw) {
      for (std::size_t k = 0; k < p.w_size; ++k) dw[k] += buf[at_pw + k];
    }
    if (db) {
      for (std::size_t k = 0; k < p.o; ++k) db[k] += buf[at_pb + k];
    }
  }
  wd.reset();
  recycle(work);
}

}  // namespace xtgrad::onednn
