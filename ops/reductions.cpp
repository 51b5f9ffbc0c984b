#include "xtgrad/ops/reductions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/broadcast.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/reduce_plan.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {

std::string Axes::str() const {
  if (all_) return "all axes";
  if (size_ == 1) return "axis " + std::to_string(begin()[0]);
  std::string s = "axes (";
  for (std::size_t i = 0; i < size_; ++i) s += (i ? ", " : "") + std::to_string(begin()[i]);
  return s + ")";
}

namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// lane(o, base, stride, n) for every output o of a reduction of x over `axes` whose reduced axes
// form one run (AxisRun::contiguous): o's inputs are x[base + j·stride], j = 0 … n − 1, in the
// order a flat loop over x meets them, so a per-output loop repeats the one-pass serial sums
// exactly. Outputs are split across the threads (at least `grain` input elements a chunk), so the
// result is the same for any thread count. Returns false (nothing done) when the run is not
// contiguous or x is 0-d: the caller then takes its flat loop.
template <class Scalar, class F>
bool for_each_lane(const char* op, const TensorOf<Scalar>& x, const Axes& axes, std::size_t grain, const F& lane) {
  const AxisRun run = axis_run(op, x, axes);
  if (!run.contiguous || x.dimension() == 0) return false;
  const std::size_t n = run.n, inner = run.inner, outputs = run.outer * inner;
  parallel_for(0, outputs, std::max<std::size_t>(1, grain / std::max<std::size_t>(n, 1)),
               [&](std::size_t o0, std::size_t o1) {
                 for (std::size_t o = o0; o < o1; ++o) lane(o, (o / inner) * n * inner + o % inner, inner, n);
               });
  return true;
}

// dx[k] (+)= g[out(k)]·w(k): the backward of a reduction whose output out(k) depends on x[k]
// with local derivative w(k) = ∂y_out(k)/∂x[k]. On every core above `grain` elements (w must
// only read).
template <class Scalar, class W>
void spread_grad(BasicNode<Scalar>& self, const ReducePlan& plan, W w, std::size_t grain = kElementwiseGrain) {
  bool accumulate = false;
  Scalar* dx = grad_target(self, 0, accumulate);
  const Scalar* g = self.grad.data();
  parallel_blocks(plan.out_index.size(), grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) {
      const Scalar d = g[plan.out_index[k]] * w(k);
      dx[k] = accumulate ? dx[k] + d : d;
    }
  });
}

// Σ_i x[i] for i in [0, n), in double, left to right: the sum of one contiguous lane.
template <class Scalar>
double lane_sum(const Scalar* x, std::size_t n) {
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += x[i];
  return total;
}

// out[a] = Σ_i x[a·n + i] (÷ n for the mean) for a in [0, outer): lanes split across the threads
// when there are enough of them (each summed as on one thread), else each lane split into
// chunks whose double partials are added in chunk order (parallel_reduce): the same for a
// given thread count, and on one thread the left-to-right sum.
template <class Scalar>
void sum_lanes(const Scalar* x, std::size_t outer, std::size_t n, bool average, Scalar* out) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto finish = [&](double total) { return static_cast<Scalar>(!average ? total : n == 0 ? nan : total / double(n)); };
  if (outer >= std::size_t(num_threads()) || n < 2 * kElementwiseGrain) {
    parallel_for(0, outer, std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(n, 1)),
                 [&](std::size_t a0, std::size_t a1) {
                   for (std::size_t a = a0; a < a1; ++a) out[a] = finish(lane_sum(x + a * n, n));
                 });
    return;
  }
  for (std::size_t a = 0; a < outer; ++a) {
    const Scalar* xa = x + a * n;
    const double total = parallel_reduce(
        0, n, kElementwiseGrain, 0.0, [&](std::size_t b, std::size_t e) { return lane_sum(xa + b, e - b); },
        [](double s, double t) { return s + t; });
    out[a] = finish(total);
  }
}

// out[a, j] = Σ_i x[a, i, j] for x (outer, n, inner), inner > 1, in Scalar, row after row
// (vectorised along j). Each output's sum runs in the same order whatever the split: across
// a when there are enough, else across column blocks of j.
template <class Scalar>
void sum_rows(const Scalar* x, std::size_t outer, std::size_t n, std::size_t inner, Scalar* out) {
  auto block = [&](std::size_t a0, std::size_t a1, std::size_t j0, std::size_t j1) {
    for (std::size_t a = a0; a < a1; ++a) {
      Scalar* oa = out + a * inner;
      std::fill(oa + j0, oa + j1, Scalar(0));
      for (std::size_t i = 0; i < n; ++i) {
        const Scalar* xi = x + (a * n + i) * inner;
        for (std::size_t j = j0; j < j1; ++j) oa[j] += xi[j];
      }
    }
  };
  const std::size_t per_lane = std::max<std::size_t>(1, n * inner);
  if (outer >= std::size_t(num_threads())) {
    parallel_for(0, outer, std::max<std::size_t>(1, kElementwiseGrain / per_lane),
                 [&](std::size_t a0, std::size_t a1) { block(a0, a1, 0, inner); });
    return;
  }
  // column blocks of at least 16 (a cache line of floats), each running down every row
  const std::size_t per_column = std::max<std::size_t>(1, outer * n);
  parallel_for(0, inner, std::max<std::size_t>(16, kElementwiseGrain / per_column),
               [&](std::size_t j0, std::size_t j1) { block(0, outer, j0, j1); });
}

// create_graph: v (the output's shape) back at input 0's shape, differentiably: reshaped to the
// kept shape, then broadcast over the reduced axes.
template <class Scalar>
BasicVariable<Scalar> spread(const BasicNode<Scalar>& self, const BasicVariable<Scalar>& v, const Shape& kept) {
  return broadcast_to(reshape(v, kept), shape_of(self.parents[0]->value));
}

// create_graph: a constant tensor of x's shape with w(k) at flat index k (a mask or tie share).
template <class Scalar, class W>
BasicVariable<Scalar> constant_weights(const BasicNode<Scalar>& self, W w) {
  TensorOf<Scalar> t = empty_like(self.parents[0]->value);
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = w(k);
  return BasicVariable<Scalar>(std::move(t), false);
}

template <class Scalar>
void check_nonempty(const char* op, const TensorOf<Scalar>& x, const ReducePlan& plan) {
  if (plan.group == 0) {
    throw std::invalid_argument(std::string(op) + ": reduction over an empty axis of shape " + shape_str(x));
  }
}

// sum or mean (average) over `axes`. An empty lane (N = 0) sums to 0 and averages to NaN (0/0,
// as PyTorch and numpy); dx is then empty.
//
// Reduced axes that form one run (every axis, one axis, adjacent axes) take the fast path: x
// viewed as (outer, n, inner), y (outer, inner) = Σ over n, no index table and no allocation
// besides y. A lane of contiguous elements (inner = 1, e.g. every axis) accumulates in double (a
// float sum of 2e7 ones is 1.67e7); across inner, in T, row after row (vectorised). Axes with a
// gap go through a ReducePlan and accumulate in double.
template <class Scalar>
BasicVariable<Scalar> reduce_sum(const char* op, const BasicVariable<Scalar>& x, const Axes& axes, bool keepdims,
                                 bool average) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  const AxisRun run = axis_run(op, v, axes);
  const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
  if (run.contiguous) {
    const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(run.n) : Scalar(1);  // inf for N = 0: unused
    const std::size_t outer = run.outer, n = run.n, inner = run.inner;
    typename Tensor::shape_type out_shape;  // x's shape with the run dropped, or as 1s (keepdims)
    for (std::size_t d = 0; d < v.dimension(); ++d) {
      const bool reduced = d >= run.first && d <= run.last;
      if (!reduced || keepdims) out_shape.push_back(reduced ? 1 : v.shape()[d]);
    }
    Tensor out = empty_tensor<Scalar>(out_shape);
    Scalar* o = out.data();
    const Scalar* xs = v.data();
    if (inner == 1) {
      sum_lanes(xs, outer, n, average, o);
    } else {
      sum_rows(xs, outer, n, inner, o);
      if (average) {
        for (std::size_t k = 0; k < out.size(); ++k) o[k] = n == 0 ? nan : o[k] * scale;
      }
    }
    const std::size_t first = run.first, last = run.last;
    return make_result(op, std::move(out), {x}, [outer, n, inner, scale, first, last](Node& self) {
      // dx[a, i, j] = g[a, j] (÷ n for mean): g broadcast over the run
      if (self.grad_node) {  // the same with ops: g with the run kept as 1s, broadcast, scaled
        const Shape x_shape = shape_of(self.parents[0]->value);
        Shape kept = x_shape;
        for (std::size_t d = first; d <= last && d < kept.size(); ++d) kept[d] = 1;
        add_variable_to_parent(self, 0, broadcast_to(reshape(Variable(self.grad_node), kept), x_shape) * scale);
        return;
      }
      Scalar beta = 0;
      Scalar* dx = grad_target(self, 0, beta);
      const Scalar* g = self.grad.data();
      if (inner == 1) {  // each g[a] fills a run of n elements (every axis: one run)
        parallel_blocks(outer * n, kElementwiseGrain, [&](std::size_t b, std::size_t e) {
          for (std::size_t k = b; k < e;) {  // the part of run a = k / n in [b, e)
            const std::size_t a = k / n, end = std::min(e, (a + 1) * n);
            const Scalar ga = g[a] * scale;
            if (beta == 0) {
              std::fill(dx + k, dx + end, ga);
            } else {
              for (std::size_t i = k; i < end; ++i) dx[i] += ga;
            }
            k = end;
          }
        });
        return;
      }
      // rows r = a·n + i of x viewed as (outer·n, inner)
      parallel_for(0, outer * n, std::max<std::size_t>(1, kElementwiseGrain / inner), [&](std::size_t r0, std::size_t r1) {
        for (std::size_t r = r0; r < r1; ++r) {
          const Scalar* ga = g + (r / n) * inner;
          Scalar* di = dx + r * inner;
          if (beta == 0) {
            for (std::size_t j = 0; j < inner; ++j) di[j] = ga[j] * scale;
          } else {
            for (std::size_t j = 0; j < inner; ++j) di[j] += ga[j] * scale;
          }
        }
      });
    });
  }
  ReducePlan plan = plan_reduction(op, v, axes, keepdims);
  const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(plan.group) : Scalar(1);
  std::vector<double> acc(plan.out_size, 0.0);
  for (std::size_t k = 0; k < plan.out_index.size(); ++k) acc[plan.out_index[k]] += v.data()[k];
  Tensor y = empty_tensor<Scalar>(plan.out_shape);
  for (std::size_t o = 0; o < plan.out_size; ++o) {
    y.data()[o] = static_cast<Scalar>(!average ? acc[o] : plan.group == 0 ? double(nan) : acc[o] / double(plan.group));
  }
  Shape kept = kept_shape(op, v, axes);
  return make_result(op, std::move(y), {x}, [plan = std::move(plan), scale, kept = std::move(kept)](Node& self) {
    // dx = g (÷ N for mean), broadcast back over the reduced axes
    if (self.grad_node) {
      add_variable_to_parent(self, 0, spread(self, Variable(self.grad_node), kept) * scale);
      return;
    }
    spread_grad(self, plan, [scale](std::size_t) { return scale; });
  });
}

// The extremum of each lane: sign +1 for max, −1 for min. NaN wins (and stays). `first[o]` is
// the flat index of the first extremal element of output o.
template <class Scalar>
struct Extremum {
  std::vector<Scalar> value;
  std::vector<std::size_t> first;
};
template <class Scalar>
Extremum<Scalar> find_extremum(const char* op, const TensorOf<Scalar>& x, const Axes& axes, const ReducePlan& plan,
                               Scalar sign) {
  Extremum<Scalar> e{std::vector<Scalar>(plan.out_size, 0), std::vector<std::size_t>(plan.out_size, kNone)};
  const Scalar* xs = x.data();
  // the first NaN, else the first strictly larger (sign · v) element wins
  const auto take = [&](std::size_t o, std::size_t k) {
    const Scalar v = xs[k];
    if (e.first[o] != kNone && (std::isnan(e.value[o]) || !(std::isnan(v) || sign * v > sign * e.value[o]))) return;
    e.value[o] = v;
    e.first[o] = k;
  };
  if (for_each_lane(op, x, axes, kElementwiseGrain, [&](std::size_t o, std::size_t base, std::size_t stride, std::size_t n) {
        for (std::size_t j = 0; j < n; ++j) take(o, base + j * stride);
      })) {
    return e;
  }
  for (std::size_t k = 0; k < plan.out_index.size(); ++k) take(plan.out_index[k], k);
  return e;
}

// max/min over `axes`; `split`: ties share the gradient evenly, else it goes to the first.
template <class Scalar>
BasicVariable<Scalar> reduce_extremum(const char* op, const BasicVariable<Scalar>& x, const Axes& axes, bool keepdims,
                                      Scalar sign, bool split) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  ReducePlan plan = plan_reduction(op, x.value(), axes, keepdims);
  check_nonempty(op, x.value(), plan);
  Extremum<Scalar> e = find_extremum(op, x.value(), axes, plan, sign);
  Tensor y = empty_tensor<Scalar>(plan.out_shape);
  std::copy(e.value.begin(), e.value.end(), y.data());
  if (!split) {
    return make_result(op, std::move(y), {x}, [first = std::move(e.first), kept = kept_shape(op, x.value(), axes)](Node& self) {
      // dx[first(o)] += g[o]; 0 elsewhere. create_graph: g spread back times that constant mask
      if (self.grad_node) {
        Tensor m = empty_like(self.parents[0]->value);
        std::fill(m.data(), m.data() + m.size(), Scalar(0));
        for (std::size_t f : first) m.data()[f] = 1;
        add_variable_to_parent(self, 0, spread(self, Variable(self.grad_node), kept) * Variable(std::move(m), false));
        return;
      }
      Scalar beta = 0;
      Scalar* dx = grad_target(self, 0, beta);
      if (beta == 0) std::fill(dx, dx + self.parent_value(0).size(), Scalar(0));
      for (std::size_t o = 0; o < first.size(); ++o) dx[first[o]] += self.grad.data()[o];
    });
  }
  // share[o] = 1 / (number of elements equal to the extremum); 0 for a NaN lane
  std::vector<Scalar> share(plan.out_size, 0);
  const Scalar* xs = x.value().data();
  for (std::size_t k = 0; k < plan.out_index.size(); ++k) {
    if (xs[k] == e.value[plan.out_index[k]]) share[plan.out_index[k]] += 1;
  }
  for (Scalar& s : share) s = s > 0 ? Scalar(1) / s : Scalar(0);
  return make_result(op, std::move(y), {x}, [plan = std::move(plan), share = std::move(share), kept = kept_shape(op, x.value(), axes)](Node& self) {
    // dx = g·[x = y]/(number of ties), that factor a constant
    const Scalar* xs = self.parent_value(0).data();
    const Scalar* ys = self.output_value().data();
    auto w = [&](std::size_t k) {
      const std::size_t o = plan.out_index[k];
      return xs[k] == ys[o] ? share[o] : Scalar(0);
    };
    if (self.grad_node) {
      add_variable_to_parent(self, 0, spread(self, Variable(self.grad_node), kept) * constant_weights(self, w));
      return;
    }
    spread_grad(self, plan, w);
  });
}

// Index of the first extremal element: flat over every axis, or along one axis.
template <class Scalar>
IndexTensor arg_extremum(const char* op, const BasicVariable<Scalar>& x, const Axes& axes, bool keepdims,
                         Scalar sign) {
  if (!axes.is_all() && axes.size() != 1) {
    throw std::invalid_argument(std::string(op) + ": one axis or every axis, not " + axes.str() + ", for rank " +
                                std::to_string(x.value().dimension()) + " (shape " + shape_str(x.value()) + ")");
  }
  const ReducePlan plan = plan_reduction(op, x.value(), axes, keepdims);
  check_nonempty(op, x.value(), plan);
  const Extremum<Scalar> e = find_extremum(op, x.value(), axes, plan, sign);
  std::size_t inner = 1, extent = x.size();  // flat index: k itself
  if (!axes.is_all()) {
    const std::size_t d = normalize_axis(op, x.value(), axes[0]);
    extent = x.value().shape()[d];
    for (std::size_t j = d + 1; j < x.value().dimension(); ++j) inner *= x.value().shape()[j];
  }
  IndexTensor idx = IndexTensor::from_shape(plan.out_shape);
  for (std::size_t o = 0; o < plan.out_size; ++o) idx.data()[o] = static_cast<Index>((e.first[o] / inner) % extent);
  return idx;
}

template <class Scalar>
BasicVariable<Scalar> reduce_prod(const BasicVariable<Scalar>& x, const Axes& axes, bool keepdims) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  ReducePlan plan = plan_reduction("prod", x.value(), axes, keepdims);
  // per output: product of the nonzero elements and the number of zeros
  std::vector<Scalar> nonzero(plan.out_size, 1);
  std::vector<std::size_t> zeros(plan.out_size, 0);
  const Scalar* xs = x.value().data();
  for (std::size_t k = 0; k < plan.out_index.size(); ++k) {
    const std::size_t o = plan.out_index[k];
    if (xs[k] == 0) {
      ++zeros[o];
    } else {
      nonzero[o] *= xs[k];
    }
  }
  Tensor y = empty_tensor<Scalar>(plan.out_shape);
  for (std::size_t o = 0; o < plan.out_size; ++o) y.data()[o] = zeros[o] > 0 ? Scalar(0) : nonzero[o];
  return make_result("prod", std::move(y), {x},
                     [plan = std::move(plan), nonzero = std::move(nonzero), zeros = std::move(zeros),
                      kept = kept_shape("prod", x.value(), axes)](Node& self) {
    // dxₖ = g·Π_{j≠k} xⱼ: y/xₖ without zeros; with one zero, the product of the others at the
    // zero and 0 elsewhere; with two or more, 0
    if (self.grad_node) {  // create_graph: g·y/x, differentiable where no element is 0
      for (std::size_t z : zeros) {
        if (z > 0) {
          throw std::logic_error("prod: create_graph (second derivatives) through a product with a zero element "
                                 "is not supported (input " + shape_str(self.parents[0]->value) + ")");
        }
      }
      add_variable_to_parent(self, 0, spread(self, Variable(self.grad_node) * output_variable(self), kept) /
                                          input_variable(self, 0));
      return;
    }
    const Scalar* xs = self.parent_value(0).data();
    spread_grad(self, plan, [&](std::size_t k) {
      const std::size_t o = plan.out_index[k];
      if (zeros[o] == 0) return nonzero[o] / xs[k];
      return zeros[o] == 1 && xs[k] == 0 ? nonzero[o] : Scalar(0);
    });
  });
}

// var (root = false) or std (root = true) over `axes`. Shapes: x any; y the kept axes
// (plan.out_shape); N = plan.group elements per lane, dof = N − correction (at least 0).
//
// Each lane is shifted by its first element c before summing (the shifted-data algorithm):
// s = x − c, m = Σ s / N, d = s − m, var = Σ d² / dof. The shift keeps the sums small when the
// mean is large, and a lane of equal values gives d = 0 exactly (x − c = 0), so var = std = 0
// exactly, as torch.std(x, dim) (a Welford pass); Σ x / N would round ((0.1, 0.1, 0.1): 1.7e-17,
// which torch.std(x) over all elements gives).
//
// Gradients: var: dx = 2g·d/dof. std: dx = g·d/(dof·y), and 0 in a lane whose y is 0, as
// PyTorch: there √ has no derivative and the formula is 0/0 (every d of such a lane is 0, or
// so small that d² underflows); 0 is also what central differences give, std being even about
// a constant lane.
//
// N = 0 (an empty lane): y = NaN, as mean (0/0), PyTorch and numpy; dx is empty.
template <class Scalar>
BasicVariable<Scalar> reduce_var(const char* op, const BasicVariable<Scalar>& x, const Axes& axes, double correction,
                                 bool keepdims, bool root) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  ReducePlan plan = plan_reduction(op, x.value(), axes, keepdims);
  const Scalar* xs = x.value().data();
  const std::size_t n = plan.out_index.size();
  // c = the lane's first element; m = Σ (x − c) / N (in double)
  std::vector<Scalar> shift(plan.out_size, 0);
  std::vector<double> m(plan.out_size, 0.0), ss(plan.out_size, 0.0);
  const bool by_lane = for_each_lane(op, x.value(), axes, kElementwiseGrain,
                                     [&](std::size_t o, std::size_t base, std::size_t stride, std::size_t count) {
    if (count == 0) return;
    shift[o] = xs[base];
    double sum = 0;
    for (std::size_t j = 0; j < count; ++j) sum += double(xs[base + j * stride]) - double(shift[o]);
    m[o] = sum / double(plan.group);
    double sq = 0;
    for (std::size_t j = 0; j < count; ++j) {
      const double d = (double(xs[base + j * stride]) - double(shift[o])) - m[o];
      sq += d * d;
    }
    ss[o] = sq;
  });
  if (!by_lane) {
    std::vector<bool> seen(plan.out_size, false);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t o = plan.out_index[k];
      if (!seen[o]) {
        shift[o] = xs[k];
        seen[o] = true;
      }
    }
    for (std::size_t k = 0; k < n; ++k) m[plan.out_index[k]] += double(xs[k]) - double(shift[plan.out_index[k]]);
    for (double& v : m) v /= double(plan.group);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t o = plan.out_index[k];
      const double d = (double(xs[k]) - double(shift[o])) - m[o];
      ss[o] += d * d;
    }
  }
  // N − correction, at least 0; 0 (a single element, unbiased) gives 0/0 = NaN, as PyTorch
  const double dof = std::max(0.0, double(plan.group) - correction);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor y = empty_tensor<Scalar>(plan.out_shape);
  for (std::size_t o = 0; o < plan.out_size; ++o) {
    const double v = plan.group == 0 ? nan : ss[o] / dof;
    y.data()[o] = static_cast<Scalar>(root ? std::sqrt(v) : v);
  }
  return make_result(op, std::move(y), {x}, [plan = std::move(plan), shift = std::move(shift), m = std::move(m), dof,
                                             root, kept = kept_shape(op, x.value(), axes)](Node& self) {
    if (self.grad_node) {
      // create_graph: the same formulas with ops, d = s − sum_to(s, kept)/N with s = x − c (c a
      // constant); std's 1/y as (1 − Z)/(y + Z), Z the constant mask [y = 0], which is 0 with
      // a zero derivative in those lanes and 1/y elsewhere
      const Variable x = input_variable(self, 0), g(self.grad_node);
      const Variable s = x - constant_weights(self, [&](std::size_t k) { return shift[plan.out_index[k]]; });
      const Variable d = s - broadcast_to(sum_to(s, kept) * (1.0 / double(plan.group)), shape_of(x.value()));
      if (!root) {
        add_variable_to_parent(self, 0, spread(self, g, kept) * (d * (2.0 / dof)));
        return;
      }
      const Tensor& yv = self.output_value();
      Variable inv_y;
      if (std::find(yv.data(), yv.data() + yv.size(), Scalar(0)) == yv.data() + yv.size()) {
        inv_y = Scalar(1) / output_variable(self);
      } else {
        Tensor zero = empty_like(yv), one_minus = empty_like(yv);
        for (std::size_t o = 0; o < yv.size(); ++o) {
          zero.data()[o] = yv.data()[o] == 0 ? Scalar(1) : Scalar(0);
          one_minus.data()[o] = Scalar(1) - zero.data()[o];
        }
        inv_y = Variable(std::move(one_minus), false) / (output_variable(self) + Variable(std::move(zero), false));
      }
      add_variable_to_parent(self, 0, spread(self, g * inv_y, kept) * (d * (1.0 / dof)));
      return;
    }
    const Scalar* xs = self.parent_value(0).data();
    const Scalar* ys = self.value.data();
    spread_grad(self, plan, [&](std::size_t k) {
      const std::size_t o = plan.out_index[k];
      const double d = (double(xs[k]) - double(shift[o])) - m[o];
      if (!root) return static_cast<Scalar>(2.0 * d / dof);
      return ys[o] == 0 ? Scalar(0) : static_cast<Scalar>(d / (dof * double(ys[o])));
    });
  });
}

template <class Scalar>
BasicVariable<Scalar> reduce_logsumexp(const BasicVariable<Scalar>& x, const Axes& axes, bool keepdims) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  ReducePlan plan = plan_reduction("logsumexp", x.value(), axes, keepdims);
  const Scalar* xs = x.value().data();
  // m = lane maximum, replaced by 0 when infinite (then the sum gives ±inf itself, as PyTorch)
  Tensor y = empty_tensor<Scalar>(plan.out_shape);
  Scalar* ys = y.data();
  const bool by_lane = for_each_lane("logsumexp", x.value(), axes, kExpGrain,
                                     [&](std::size_t o, std::size_t base, std::size_t stride, std::size_t count) {
    Scalar mo = -std::numeric_limits<Scalar>::infinity();
    for (std::size_t j = 0; j < count; ++j) mo = std::max(mo, xs[base + j * stride]);
    mo = std::isinf(mo) ? Scalar(0) : mo;
    double so = 0.0;
    for (std::size_t j = 0; j < count; ++j) so += std::exp(xs[base + j * stride] - mo);
    ys[o] = mo + static_cast<Scalar>(std::log(so));
  });
  if (!by_lane) {
    std::vector<Scalar> m(plan.out_size, -std::numeric_limits<Scalar>::infinity());
    for (std::size_t k = 0; k < plan.out_index.size(); ++k) m[plan.out_index[k]] = std::max(m[plan.out_index[k]], xs[k]);
    for (Scalar& v : m) v = std::isinf(v) ? Scalar(0) : v;
    std::vector<double> s(plan.out_size, 0.0);
    for (std::size_t k = 0; k < plan.out_index.size(); ++k) {
      s[plan.out_index[k]] += std::exp(xs[k] - m[plan.out_index[k]]);
    }
    for (std::size_t o = 0; o < plan.out_size; ++o) ys[o] = m[o] + static_cast<Scalar>(std::log(s[o]));
  }
  return make_result("logsumexp", std::move(y), {x}, [plan = std::move(plan), kept = kept_shape("logsumexp", x.value(), axes)](Node& self) {
    // dx = g·e^(x − y): the softmax over the reduced axes
    if (self.grad_node) {
      const Variable g(self.grad_node);
      add_variable_to_parent(self, 0, spread(self, g, kept) * exp(input_variable(self, 0) - spread(self, output_variable(self), kept)));
      return;
    }
    const Scalar* xs = self.parent_value(0).data();
    const Scalar* ys = self.value.data();
    spread_grad(self, plan, [&](std::size_t k) { return std::exp(xs[k] - ys[plan.out_index[k]]); },
                kExpGrain);
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> sum(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_sum("sum", x, axes, keepdims, false);
}
template <class Scalar>
BasicVariable<Scalar> mean(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_sum("mean", x, axes, keepdims, true);
}

// max/min over one named axis: the gradient to the first extremal element (PyTorch's max(dim));
// over every axis or several, ties split it (PyTorch's max() and amax).
template <class Scalar>
BasicVariable<Scalar> max(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_extremum("max", x, axes, keepdims, Scalar(1), axes.size() != 1);
}
template <class Scalar>
BasicVariable<Scalar> min(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_extremum("min", x, axes, keepdims, Scalar(-1), axes.size() != 1);
}
template <class Scalar>
BasicVariable<Scalar> amax(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_extremum("amax", x, axes, keepdims, Scalar(1), true);
}
template <class Scalar>
BasicVariable<Scalar> amin(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_extremum("amin", x, axes, keepdims, Scalar(-1), true);
}

template <class Scalar>
IndexTensor argmax(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return arg_extremum("argmax", x, axes, keepdims, Scalar(1));
}
template <class Scalar>
IndexTensor argmin(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return arg_extremum("argmin", x, axes, keepdims, Scalar(-1));
}

template <class Scalar>
BasicVariable<Scalar> prod(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_prod(x, axes, keepdims);
}

template <class Scalar>
BasicVariable<Scalar> var(const BasicVariable<Scalar>& x, Axes axes, Correction correction, bool keepdims) {
  return reduce_var("var", x, axes, correction.value, keepdims, false);
}
template <class Scalar>
BasicVariable<Scalar> std_dev(const BasicVariable<Scalar>& x, Axes axes, Correction correction, bool keepdims) {
  return reduce_var("std_dev", x, axes, correction.value, keepdims, true);
}

template <class Scalar>
BasicVariable<Scalar> logsumexp(const BasicVariable<Scalar>& x, Axes axes, bool keepdims) {
  return reduce_logsumexp(x, axes, keepdims);
}

#define XTGRAD_INSTANTIATE_REDUCTIONS(T)                                             \
  template BasicVariable<T> sum(const BasicVariable<T>&, Axes, bool);                \
  template BasicVariable<T> mean(const BasicVariable<T>&, Axes, bool);               \
  template BasicVariable<T> max(const BasicVariable<T>&, Axes, bool);                \
  template BasicVariable<T> min(const BasicVariable<T>&, Axes, bool);                \
  template BasicVariable<T> amax(const BasicVariable<T>&, Axes, bool);               \
  template BasicVariable<T> amin(const BasicVariable<T>&, Axes, bool);               \
  template IndexTensor argmax(const BasicVariable<T>&, Axes, bool);                     \
  template IndexTensor argmin(const BasicVariable<T>&, Axes, bool);                     \
  template BasicVariable<T> prod(const BasicVariable<T>&, Axes, bool);               \
  template BasicVariable<T> var(const BasicVariable<T>&, Axes, Correction, bool);    \
  template BasicVariable<T> std_dev(const BasicVariable<T>&, Axes, Correction, bool); \
  template BasicVariable<T> logsumexp(const BasicVariable<T>&, Axes, bool);
XTGRAD_INSTANTIATE_REDUCTIONS(float)
XTGRAD_INSTANTIATE_REDUCTIONS(double)
#undef XTGRAD_INSTANTIATE_REDUCTIONS

}  // namespace xtgrad
