// Max, average and adaptive average pooling over NCHW batches (declared in conv.hpp), the
// planes (sample, channel) split among the threads.
#include "xtgrad/ops/conv.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/take.hpp"

namespace xtgrad {
namespace {

using Index = std::ptrdiff_t;

std::string size2_str(Size2 s) { return "(" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ")"; }

struct PoolGeometry {
  std::size_t planes, h, w, oh, ow;  // planes = N·C
  Size2 kernel, stride, padding;
};

template <class Scalar>
PoolGeometry pool_geometry(const char* op, const TensorOf<Scalar>& x, const Pool2dOptions& opt) {
  Size2 stride = opt.stride;
  if (stride[0] == 0) stride[0] = opt.kernel[0];
  if (stride[1] == 0) stride[1] = opt.kernel[1];
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string(op) + ": " + what + " (input " + shape_str(x) + ", kernel " +
                                size2_str(opt.kernel) + ", stride " + size2_str(stride) + ", padding " +
                                size2_str(opt.padding) + ")");
  };
  if (x.dimension() != 4) fail("input must be (N, C, H, W)");
  if (opt.kernel[0] == 0 || opt.kernel[1] == 0) fail("kernel must be positive");
  if (2 * opt.padding[0] > opt.kernel[0] || 2 * opt.padding[1] > opt.kernel[1]) fail("padding must be at most half the kernel");
  PoolGeometry g{};
  g.planes = x.shape()[0] * x.shape()[1], g.h = x.shape()[2], g.w = x.shape()[3];
  g.kernel = opt.kernel, g.stride = stride, g.padding = opt.padding;
  if (g.h + 2 * g.padding[0] < g.kernel[0] || g.w + 2 * g.padding[1] < g.kernel[1]) fail("the kernel is larger than the padded input");
  g.oh = (g.h + 2 * g.padding[0] - g.kernel[0]) / g.stride[0] + 1;
  g.ow = (g.w + 2 * g.padding[1] - g.kernel[1]) / g.stride[1] + 1;
  return g;
}

// f(p) for every plane p < planes of h·w input values, the planes split among the threads
// (each plane's outputs and input gradients are its own: no sums cross planes).
template <class F>
void for_each_plane(std::size_t planes, std::size_t h, std::size_t w, const F& f) {
  const std::size_t grain = std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(h * w, 1));
  parallel_for(0, planes, grain, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) f(p);
  });
}

// Calls f(window_rows [y0, y1), window_cols [x0, x1), output index) for every output of one
// plane: the window clipped to the input.
template <class F>
void for_each_window(const PoolGeometry& g, F&& f) {
  for (std::size_t oy = 0; oy < g.oh; ++oy) {
    const Index y0 = Index(oy * g.stride[0]) - Index(g.padding[0]);
    const std::size_t ya = std::size_t(std::max<Index>(y0, 0));
    const std::size_t yb = std::size_t(std::min<Index>(y0 + Index(g.kernel[0]), Index(g.h)));
    for (std::size_t ox = 0; ox < g.ow; ++ox) {
      const Index x0 = Index(ox * g.stride[1]) - Index(g.padding[1]);
      const std::size_t xa = std::size_t(std::max<Index>(x0, 0));
      const std::size_t xb = std::size_t(std::min<Index>(x0 + Index(g.kernel[1]), Index(g.w)));
      f(ya, yb, xa, xb, oy * g.ow + ox);
    }
  }
}

// Flat index in the plane of the first maximum of the window, a NaN counting as the largest.
// The maximum first, without branches (the comparisons go either way at random on real
// data), then the first element equal to it.
template <class Scalar>
std::size_t window_argmax(const Scalar* plane, std::size_t w, std::size_t ya, std::size_t yb, std::size_t xa,
                          std::size_t xb) {
  Scalar top = plane[ya * w + xa];
  bool nan = false;
  for (std::size_t iy = ya; iy < yb; ++iy) {
    for (std::size_t ix = xa; ix < xb; ++ix) {
      const Scalar v = plane[iy * w + ix];
      top = v > top ? v : top;
      nan |= v != v;
    }
  }
  for (std::size_t iy = ya; iy < yb; ++iy) {
    for (std::size_t ix = xa; ix < xb; ++ix) {
      const Scalar v = plane[iy * w + ix];
      if (nan ? v != v : v == top) return iy * w + ix;
    }
  }
  return ya * w + xa;  // not reached
}

// window_argmax for a KH×KW window at (ya, xa) that lies inside the plane (no padding), with
// constant bounds: unrolled, and the index chosen from the last element back so that the
// first match wins without a branch.
template <std::size_t KH, std::size_t KW, class Scalar>
std::size_t window_argmax_inside(const Scalar* plane, std::size_t w, std::size_t ya, std::size_t xa) {
  const Scalar* base = plane + ya * w + xa;
  Scalar top = base[0];
  bool nan = false;
  for (std::size_t i = 0; i < KH; ++i) {
    for (std::size_t j = 0; j < KW; ++j) {
      const Scalar v = base[i * w + j];
      top = v > top ? v : top;
      nan |= v != v;
    }
  }
  if (nan) return window_argmax(plane, w, ya, ya + KH, xa, xa + KW);  // rare: the general rule
  std::size_t best = 0;
  for (std::size_t k = KH * KW; k-- > 0;) {
    const std::size_t offset = (k / KW) * w + k % KW;
    const std::size_t mask = std::size_t(0) - std::size_t(base[offset] == top);  // all ones on a match
    best = (offset & mask) | (best & ~mask);
  }
  return ya * w + xa + best;
}

// Outputs [ox0, ox0 + count) of row oy of a 2×2 max pool with stride 2 and no padding:
// out[ox] = the maximum of the window at (2·oy, 2·ox), at[ox] its flat index in the plane (the
// first maximum, as window_argmax_inside<2, 2>). One branch-free pass that the compiler
// vectorises; returns whether a window held a NaN.
template <class Scalar>
bool max_pool_span_2x2(const Scalar* plane, std::size_t w, std::size_t oy, std::size_t ox0, std::size_t count,
                       Scalar* out, Scalar* at) {
  // window indices as Scalar (exact: h·w ≤ 2^digits, checked), counted in an integer type
  // the compiler converts lane-wise
  using Int = std::conditional_t<sizeof(Scalar) == 4, std::int32_t, std::int64_t>;
  const Scalar* r0 = plane + 2 * oy * w;
  const Scalar* r1 = r0 + w;
  const Int row = Int(2 * oy * w), first = Int(ox0), end = Int(ox0 + count);
  const Scalar wf = Scalar(w), w1 = Scalar(w + 1);
  Int nan = 0;
  for (Int ox = first; ox < end; ++ox) {
    const Scalar a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
    Scalar t = a;  // the first strictly larger wins, as in window_argmax_inside
    t = b > t ? b : t;
    t = c > t ? c : t;
    t = d > t ? d : t;
    nan |= Int(a != a) | Int(b != b) | Int(c != c) | Int(d != d);
    Scalar off = w1;  // the first element equal to t
    off = c == t ? wf : off;
    off = b == t ? Scalar(1) : off;
    off = a == t ? Scalar(0) : off;
    out[ox] = t;
    at[ox] = Scalar(row + 2 * ox) + off;
  }
  return nan != 0;
}

// Output row oy of a 2×2 max pool with stride 2 and no padding (max_pool_span_2x2 over the
// row). A row longer than one 32-byte batch but not a multiple of it (14 outputs) is done as
// the whole batches, then one batch ending at the row's end: the outputs it does twice get
// the same values, and no output falls to the loop's scalar tail. A row holding a NaN is done
// again window by window (the general rule).
template <class Scalar>
void max_pool_row_2x2(const Scalar* plane, std::size_t w, std::size_t oy, std::size_t ow, Scalar* out, Scalar* at) {
  constexpr std::size_t batch = 32 / sizeof(Scalar);
  bool nan;
  if (ow > batch && ow % batch != 0) {
    const std::size_t whole = ow - ow % batch;
    nan = max_pool_span_2x2(plane, w, oy, 0, whole, out, at);
    nan |= max_pool_span_2x2(plane, w, oy, ow - batch, batch, out, at);
  } else {
    nan = max_pool_span_2x2(plane, w, oy, 0, ow, out, at);
  }
  if (!nan) return;
  for (std::size_t ox = 0; ox < ow; ++ox) {
    const std::size_t i = window_argmax_inside<2, 2>(plane, w, 2 * oy, 2 * ox);
    out[ox] = plane[i];
    at[ox] = static_cast<Scalar>(i);
  }
}

// The create_graph path of a linear pooling: dx[to[e]] += weight[e]·g[from[e]] over the
// entries e (one per input element of each window), as a gather, a scale and a scatter: linear
// ops whose derivatives exist to any order.
template <class Scalar>
struct WindowEntries {
  std::vector<std::size_t> from, to;  // flat output index, flat input index
  std::vector<Scalar> weight;
  void add(std::size_t out, std::size_t in, Scalar w) {
    from.push_back(out);
    to.push_back(in);
    weight.push_back(w);
  }
};
template <class Scalar>
BasicVariable<Scalar> spread_windows(const char* op, const BasicVariable<Scalar>& g, WindowEntries<Scalar>&& e,
                                     const Shape& x_shape) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  const std::size_t count = e.from.size();
  Tensor w = empty_tensor<Scalar>({count});
  std::copy(e.weight.begin(), e.weight.end(), w.data());
  const Variable picked = gather_flat(op, g, std::make_shared<const std::vector<std::size_t>>(std::move(e.from)), {count});
  return scatter_flat(op, picked * Variable(std::move(w)), std::make_shared<const std::vector<std::size_t>>(std::move(e.to)),
                      x_shape);
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> max_pool2d(const BasicVariable<Scalar>& x, const Pool2dOptions& options) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const PoolGeometry g = pool_geometry("max_pool2d", xv, options);
  if (double(g.h * g.w) > double(std::size_t(1) << std::numeric_limits<Scalar>::digits)) {
    throw std::invalid_argument("max_pool2d: planes of input " + shape_str(xv) +
                                " are too large to index in the scalar type");
  }
  Tensor y = empty_tensor<Scalar>({xv.shape()[0], xv.shape()[1], g.oh, g.ow});
  // where (N, C, OH, OW): the argmax of each window as a flat index into its plane, exact in Scalar
  Tensor where = empty_like(y);
  const bool two_by_two = g.kernel == Size2{2, 2} && g.padding == Size2{0, 0};  // the common case, unrolled
  for_each_plane(g.planes, g.h, g.w, [&](std::size_t p) {
    const Scalar* plane = xv.data() + p * g.h * g.w;
    Scalar* out = y.data() + p * g.oh * g.ow;
    Scalar* at = where.data() + p * g.oh * g.ow;
    if (two_by_two && g.stride == Size2{2, 2}) {
      for (std::size_t oy = 0; oy < g.oh; ++oy) {
        max_pool_row_2x2(plane, g.w, oy, g.ow, out + oy * g.ow, at + oy * g.ow);
      }
      return;
    }
    if (two_by_two) {
      for (std::size_t oy = 0; oy < g.oh; ++oy) {
        for (std::size_t ox = 0; ox < g.ow; ++ox) {
          const std::size_t i = window_argmax_inside<2, 2>(plane, g.w, oy * g.stride[0], ox * g.stride[1]);
          out[oy * g.ow + ox] = plane[i];
          at[oy * g.ow + ox] = static_cast<Scalar>(i);
        }
      }
      return;
    }
    for_each_window(g, [&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
      const std::size_t i = window_argmax(plane, g.w, ya, yb, xa, xb);
      out[o] = plane[i];
      at[o] = static_cast<Scalar>(i);
    });
  });
  return make_result("max_pool2d", std::move(y), {x}, [g, where = SavedTensor(std::move(where))](Node& self) {
    // dx[argmax of each window] += dy: linear in dy, the argmax a constant
    if (self.grad_node) {  // create_graph: the same routing as a scatter by the saved argmax
      const std::size_t per_plane = g.oh * g.ow;
      auto map = std::make_shared<std::vector<std::size_t>>(g.planes * per_plane);
      const Scalar* at = where.get().data();
      for (std::size_t p = 0; p < g.planes; ++p) {
        for (std::size_t o = 0; o < per_plane; ++o) {
          (*map)[p * per_plane + o] = p * g.h * g.w + static_cast<std::size_t>(at[p * per_plane + o]);
        }
      }
      add_variable_to_parent(self, 0, scatter_flat("max_pool2d", Variable(self.grad_node), std::move(map),
                                                   shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const std::size_t per_plane = g.oh * g.ow;
    for_each_plane(g.planes, g.h, g.w, [&](std::size_t p) {
      const Scalar* gy = self.grad.data() + p * per_plane;
      const Scalar* at = where.get().data() + p * per_plane;
      Scalar* dplane = dx + p * g.h * g.w;
      if (beta == 0) std::fill(dplane, dplane + g.h * g.w, Scalar(0));
      for (std::size_t o = 0; o < per_plane; ++o) dplane[static_cast<std::size_t>(at[o])] += gy[o];
    });
  });
}

template <class Scalar>
BasicVariable<Scalar> avg_pool2d(const BasicVariable<Scalar>& x, const Pool2dOptions& options) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const PoolGeometry g = pool_geometry("avg_pool2d", xv, options);
  const Scalar inv = Scalar(1) / Scalar(g.kernel[0] * g.kernel[1]);
  Tensor y = empty_tensor<Scalar>({xv.shape()[0], xv.shape()[1], g.oh, g.ow});
  for_each_plane(g.planes, g.h, g.w, [&](std::size_t p) {
    const Scalar* plane = xv.data() + p * g.h * g.w;
    Scalar* out = y.data() + p * g.oh * g.ow;
    for_each_window(g, [&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
      Scalar s = 0;
      for (std::size_t iy = ya; iy < yb; ++iy)
        for (std::size_t ix = xa; ix < xb; ++ix) s += plane[iy * g.w + ix];
      out[o] = s * inv;
    });
  });
  return make_result("avg_pool2d", std::move(y), {x}, [g, inv](Node& self) {
    // dx[window] += dy / (kh·kw) for every window
    if (self.grad_node) {  // create_graph: the same sums as a gather, scale and scatter
      WindowEntries<Scalar> e;
      for (std::size_t p = 0; p < g.planes; ++p) {
        for_each_window(g, [&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
          for (std::size_t iy = ya; iy < yb; ++iy)
            for (std::size_t ix = xa; ix < xb; ++ix) e.add(p * g.oh * g.ow + o, p * g.h * g.w + iy * g.w + ix, inv);
        });
      }
      add_variable_to_parent(self, 0, spread_windows("avg_pool2d", Variable(self.grad_node), std::move(e),
                                                     shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    for_each_plane(g.planes, g.h, g.w, [&](std::size_t p) {
      const Scalar* gy = self.grad.data() + p * g.oh * g.ow;
      Scalar* dplane = dx + p * g.h * g.w;
      if (beta == 0) std::fill(dplane, dplane + g.h * g.w, Scalar(0));
      for_each_window(g, [&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
        const Scalar share = gy[o] * inv;
        for (std::size_t iy = ya; iy < yb; ++iy)
          for (std::size_t ix = xa; ix < xb; ++ix) dplane[iy * g.w + ix] += share;
      });
    });
  });
}

template <class Scalar>
BasicVariable<Scalar> adaptive_avg_pool2d(const BasicVariable<Scalar>& x, Size2 output_size) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  if (xv.dimension() != 4 || output_size[0] == 0 || output_size[1] == 0) {
    throw std::invalid_argument("adaptive_avg_pool2d: expects input (N, C, H, W) and a positive output size, got input " +
                                shape_str(xv) + ", output size " + size2_str(output_size));
  }
  const std::size_t planes = xv.shape()[0] * xv.shape()[1], h = xv.shape()[2], w = xv.shape()[3];
  const std::size_t oh = output_size[0], ow = output_size[1];
  if (h == 0 || w == 0) {
    throw std::invalid_argument("adaptive_avg_pool2d: input " + shape_str(xv) + " has an empty plane");
  }
  // Bin i of n over an axis of size s: [⌊i·s/n⌋, ⌈(i+1)·s/n⌉).
  auto bins = [&](auto&& f) {
    for (std::size_t oy = 0; oy < oh; ++oy) {
      const std::size_t ya = oy * h / oh, yb = ((oy + 1) * h + oh - 1) / oh;
      for (std::size_t ox = 0; ox < ow; ++ox) {
        const std::size_t xa = ox * w / ow, xb = ((ox + 1) * w + ow - 1) / ow;
        f(ya, yb, xa, xb, oy * ow + ox);
      }
    }
  };
  Tensor y = empty_tensor<Scalar>({xv.shape()[0], xv.shape()[1], oh, ow});
  for_each_plane(planes, h, w, [&](std::size_t p) {
    const Scalar* plane = xv.data() + p * h * w;
    Scalar* out = y.data() + p * oh * ow;
    bins([&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
      Scalar s = 0;
      for (std::size_t iy = ya; iy < yb; ++iy)
        for (std::size_t ix = xa; ix < xb; ++ix) s += plane[iy * w + ix];
      out[o] = s / Scalar((yb - ya) * (xb - xa));
    });
  });
  return make_result("adaptive_avg_pool2d", std::move(y), {x}, [planes, h, w, oh, ow](Node& self) {
    // dx[bin] += dy / |bin| for every bin
    const auto for_each_bin = [&](auto&& f) {
      for (std::size_t oy = 0; oy < oh; ++oy) {
        const std::size_t ya = oy * h / oh, yb = ((oy + 1) * h + oh - 1) / oh;
        for (std::size_t ox = 0; ox < ow; ++ox) {
          const std::size_t xa = ox * w / ow, xb = ((ox + 1) * w + ow - 1) / ow;
          f(ya, yb, xa, xb, oy * ow + ox);
        }
      }
    };
    if (self.grad_node) {  // create_graph: the same sums as a gather, scale and scatter
      WindowEntries<Scalar> e;
      for (std::size_t p = 0; p < planes; ++p) {
        for_each_bin([&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
          const Scalar share = Scalar(1) / Scalar((yb - ya) * (xb - xa));
          for (std::size_t iy = ya; iy < yb; ++iy)
            for (std::size_t ix = xa; ix < xb; ++ix) e.add(p * oh * ow + o, p * h * w + iy * w + ix, share);
        });
      }
      add_variable_to_parent(self, 0, spread_windows("adaptive_avg_pool2d", Variable(self.grad_node), std::move(e),
                                                     shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    for_each_plane(planes, h, w, [&](std::size_t p) {
      const Scalar* gy = self.grad.data() + p * oh * ow;
      Scalar* dplane = dx + p * h * w;
      if (beta == 0) std::fill(dplane, dplane + h * w, Scalar(0));
      for_each_bin([&](std::size_t ya, std::size_t yb, std::size_t xa, std::size_t xb, std::size_t o) {
        const Scalar share = gy[o] / Scalar((yb - ya) * (xb - xa));
        for (std::size_t iy = ya; iy < yb; ++iy)
          for (std::size_t ix = xa; ix < xb; ++ix) dplane[iy * w + ix] += share;
      });
    });
  });
}

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template BasicVariable<T> max_pool2d(const BasicVariable<T>&, const Pool2dOptions&);                        \
  template BasicVariable<T> avg_pool2d(const BasicVariable<T>&, const Pool2dOptions&);                        \
  template BasicVariable<T> adaptive_avg_pool2d(const BasicVariable<T>&, Size2);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
