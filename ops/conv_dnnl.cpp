#include "xtgrad/ops/conv_dnnl.hpp"

#include <omp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
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

struct ConvPlan {
  memory::desc x, w, y, b;  // plain user layouts
  dnnl::convolution_forward::primitive_desc fpd;
  dnnl::convolution_backward_data::primitive_desc dpd;
  dnnl::convolution_backward_weights::primitive_desc wpd;
  dnnl::primitive fwd, bwd_data, bwd_weights;
  // the primitives' layouts, queried once (a query allocates)
  memory::desc f_x, f_w, f_y, f_sp, d_dy, d_w, d_dx, d_sp, w_x, w_dy, w_dw, w_sp;
  std::vector<char> scratchpad;  // user-managed, the largest of the three
  bool bias = false;
  std::size_t o = 0;
  bool keep_x = false;           // forward's reordered x is backward-weights' src layout
  std::string impl;
  // reorders made so far: (from, to, dst += src) → primitive (a handful per plan)
  struct Reorder {
    memory::desc from, to;
    bool add;
    dnnl::reorder prim;
  };
  std::vector<Reorder> reorders;
};

namespace {

struct Runtime {
  std::mutex mutex;  // guards the plans and every call (the plans' scratchpads are shared state)
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                      std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                      bool>,
           std::unique_ptr<ConvPlan>>
      plans;  // null: no implementation
};

Runtime& runtime() {
  static Runtime r;
  return r;
}

memory::dims dims(std::initializer_list<std::size_t> v) {
  memory::dims d;
  for (std::size_t x : v) d.push_back(memory::dim(x));
  return d;
}

std::unique_ptr<ConvPlan> make_plan(const ConvShape& s, const dnnl::engine& eng) {
  using namespace dnnl;
  auto p = std::make_unique<ConvPlan>();
  const auto f32 = memory::data_type::f32;
  const memory::dims xd = dims({s.n, s.c, s.h, s.w}), yd = dims({s.n, s.o, s.oh, s.ow});
  const memory::dims wd = s.groups == 1 ? dims({s.o, s.c, s.kh, s.kw})
                                        : dims({s.groups, s.o / s.groups, s.c / s.groups, s.kh, s.kw});
  p->x = memory::desc(xd, f32, Tag::nchw);
  p->y = memory::desc(yd, f32, Tag::nchw);
  p->w = memory::desc(wd, f32, s.groups == 1 ? Tag::oihw : Tag::goihw);
  p->b = memory::desc(dims({s.o}), f32, Tag::x);
  p->bias = s.bias, p->o = s.o;
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
  p->scratchpad.resize(std::max({p->f_sp.get_size(), p->d_sp.get_size(), p->w_sp.get_size(), std::size_t(1)}));
  p->keep_x = p->f_x != p->x && p->f_x == p->w_x;
  p->impl = std::string(p->fpd.impl_info_str()) + " / " + p->dpd.impl_info_str() + " / " + p->wpd.impl_info_str();
  return p;
}

// oneDNN's OpenMP threads for this call: xtgrad's, or 1 inside one of xtgrad's parallel chunks.
// OpenMP's worker threads run only oneDNN's work: each is marked once as inside a library call
// (xtgrad::BlasScope's depth), so that the malloc counter tallies oneDNN's allocations there
// with the library's too (the calling thread is marked around each call). Needs -fopenmp on
// this file only (CMakeLists.txt).
void set_threads() {
  const int threads = in_parallel_region() ? 1 : num_threads();
  omp_set_num_threads(threads);
  static int marked = 1;  // under the runtime's mutex
  if (threads > marked) {
#pragma omp parallel num_threads(threads)
    {
      thread_local bool done = false;
      if (omp_get_thread_num() != 0 && !done) {
        ++blas_scope_detail::depth;
        done = true;
      }
    }
    marked = threads;
  }
}

// A buffer for `md` from xtgrad's buffer cache (recycled after the call).
struct Temp {
  TensorOf<float> t = TensorOf<float>::from_shape({0});
  float* get(const memory::desc& md) {
    t = empty_tensor<float>({(md.get_size() + sizeof(float) - 1) / sizeof(float)});
    return t.data();
  }
  ~Temp() { recycle(t); }
};

// src (layout `from`) → dst (layout `to`), dst = src or dst += src; the reorder primitive is
// made once per plan.
void reorder(Runtime& r, const ConvPlan& p, const memory::desc& from, const float* src, const memory::desc& to,
             float* dst, bool add) {
  const BlasScope library;
  memory a(from, r.engine, const_cast<float*>(src)), b(to, r.engine, dst);
  auto& cache = const_cast<ConvPlan&>(p).reorders;  // under the runtime's mutex
  auto it = std::find_if(cache.begin(), cache.end(),
                         [&](const ConvPlan::Reorder& e) { return e.add == add && e.from == from && e.to == to; });
  if (it == cache.end()) {
    dnnl::primitive_attr attr;
    if (add) {
      dnnl::post_ops ops;
      ops.append_sum(1.f);
      attr.set_post_ops(ops);
    }
    cache.push_back({from, to, add, dnnl::reorder(dnnl::reorder::primitive_desc(a, b, attr))});
    it = cache.end() - 1;
  }
  it->prim.execute(r.stream, a, b);
}

// A read-only operand in layout `want`: the plain buffer itself, or a reordered copy in `temp`.
const float* input_as(Runtime& r, const ConvPlan& p, const memory::desc& plain, const float* data, const memory::desc& want, Temp& temp) {
  if (want == plain) return data;
  float* t = temp.get(want);
  reorder(r, p, plain, data, want, t, false);
  return t;
}

}  // namespace

const ConvPlan* conv_plan(const ConvShape& s) {
  Runtime& r = runtime();
  const std::lock_guard<std::mutex> lock(r.mutex);
  const auto key = std::make_tuple(s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.groups, s.stride[0], s.stride[1],
                                   s.padding[0], s.padding[1], s.dilation[0], s.dilation[1], s.bias);
  auto it = r.plans.find(key);
  if (it == r.plans.end()) {
    const BlasScope library;
    it = r.plans.emplace(key, make_plan(s, r.engine)).first;
  }
  return it->second.get();
}

std::size_t kept_input_size(const ConvPlan& p) {
  return p.keep_x ? (p.w_x.get_size() + sizeof(float) - 1) / sizeof(float) : 0;
}

const char* implementation(const ConvPlan& p) { return p.impl.c_str(); }

void forward(const ConvPlan& p, const float* x, const float* w, const float* b, float* y, float* kept_x) {
  Runtime& r = runtime();
  const std::lock_guard<std::mutex> lock(r.mutex);
  Temp tx, tw, ty;
  set_threads();
  const memory::desc &xd = p.f_x, &wd = p.f_w, &yd = p.f_y;
  const float* xs = x;
  if (xd != p.x) {
    float* t = kept_x && p.keep_x ? kept_x : tx.get(xd);
    reorder(r, p, p.x, x, xd, t, false);
    xs = t;
  }
  const float* ws = input_as(r, p, p.w, w, wd, tw);
  float* yt = yd == p.y ? y : ty.get(yd);
  const BlasScope library;  // oneDNN's allocations from here on (xtgrad's buffers are taken)
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(xd, r.engine, const_cast<float*>(xs))},
                                       {DNNL_ARG_WEIGHTS, memory(wd, r.engine, const_cast<float*>(ws))},
                                       {DNNL_ARG_DST, memory(yd, r.engine, yt)},
                                       {DNNL_ARG_SCRATCHPAD, memory(p.f_sp, r.engine,
                                                                    const_cast<char*>(p.scratchpad.data()))}};
  if (b) args.emplace(DNNL_ARG_BIAS, memory(p.b, r.engine, const_cast<float*>(b)));
  p.fwd.execute(r.stream, args);
  if (yt != y) reorder(r, p, yd, yt, p.y, y, false);
}

void backward(const ConvPlan& p, const float* x, const float* kept_x, const float* w, const float* gy,
              float* dx, float beta_x, float* dw, float beta_w, float* db, float beta_b) {
  Runtime& r = runtime();
  const std::lock_guard<std::mutex> lock(r.mutex);
  Temp tgy_d, tgy_w, tw, tdx, tx, tdw, tdb;
  set_threads();
  char* scratch = const_cast<char*>(p.scratchpad.data());
  const memory::desc &gd = p.d_dy, &gw = p.w_dy;
  if (dx) {
    const memory::desc &wd = p.d_w, &xd = p.d_dx;
    const float* g = input_as(r, p, p.y, gy, gd, tgy_d);
    const float* ws = input_as(r, p, p.w, w, wd, tw);
    float* out = xd == p.x && beta_x == 0 ? dx : tdx.get(xd);
    const BlasScope library;
    p.bwd_data.execute(r.stream, {{DNNL_ARG_DIFF_DST, memory(gd, r.engine, const_cast<float*>(g))},
                                  {DNNL_ARG_WEIGHTS, memory(wd, r.engine, const_cast<float*>(ws))},
                                  {DNNL_ARG_DIFF_SRC, memory(xd, r.engine, out)},
                                  {DNNL_ARG_SCRATCHPAD, memory(p.d_sp, r.engine, scratch)}});
    if (out != dx) reorder(r, p, xd, out, p.x, dx, beta_x != 0);
  }
  if (!dw && !db) return;
  const memory::desc &xd = p.w_x, &wd = p.w_dw;
  // dy in backward-weights' layout: backward-data's copy when the layouts agree
  const float* g = dx && gw == gd && tgy_d.t.size() != 0 ? tgy_d.t.data() : input_as(r, p, p.y, gy, gw, tgy_w);
  const float* xs = kept_x ? kept_x : input_as(r, p, p.x, x, xd, tx);
  // dW's and db's destinations: always computed (oneDNN's primitive writes both)
  float* wout = dw && wd == p.w && beta_w == 0 ? dw : tdw.get(wd);
  float* bout = nullptr;
  if (p.bias) bout = db && beta_b == 0 ? db : tdb.get(p.b);
  const BlasScope library;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(xd, r.engine, const_cast<float*>(xs))},
                                       {DNNL_ARG_DIFF_DST, memory(gw, r.engine, const_cast<float*>(g))},
                                       {DNNL_ARG_DIFF_WEIGHTS, memory(wd, r.engine, wout)},
                                       {DNNL_ARG_SCRATCHPAD, memory(p.w_sp, r.engine, scratch)}};
  if (bout) args.emplace(DNNL_ARG_DIFF_BIAS, memory(p.b, r.engine, bout));
  p.bwd_weights.execute(r.stream, args);
  if (dw && wout != dw) reorder(r, p, wd, wout, p.w, dw, beta_w != 0);
  if (db && bout != db) {
    for (std::size_t i = 0; i < p.o; ++i) db[i] += bout[i];
  }
}

}  // namespace xtgrad::onednn
