#include "xtgrad/ops/reduce_plan.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {

template <class Scalar>
AxisRun axis_run(const char* op, const TensorOf<Scalar>& x, const Axes& axes) {
  const std::size_t rank = x.dimension();
  AxisRun run;
  if (axes.is_all()) {
    run.contiguous = true;
    run.first = 0;
    run.last = rank == 0 ? 0 : rank - 1;
    run.n = x.size();
    if (rank == 0) run.first = 1;  // an empty run: first > last
    return run;
  }
  if (axes.size() == 0) {
    throw std::invalid_argument(std::string(op) + ": an empty axis list for rank " + std::to_string(rank) +
                                " (shape " + shape_str(x) + "); Axes::all() names every axis");
  }
  std::size_t lo = rank, hi = 0;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::size_t d = normalize_axis(op, x, axes[i]);
    for (std::size_t j = 0; j < i; ++j) {
      if (normalize_axis(op, x, axes[j]) == d) {
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axes[i]) + " is given twice in " +
                                    axes.str() + " for rank " + std::to_string(rank) + " (shape " + shape_str(x) +
                                    ")");
      }
    }
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  run.first = lo;
  run.last = hi;
  run.contiguous = hi - lo + 1 == axes.size();  // distinct axes filling [lo, hi]
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t e = x.shape()[d];
    (d < lo ? run.outer : d > hi ? run.inner : run.n) *= e;
  }
  return run;
}

template <class Scalar>
Shape kept_shape(const char* op, const TensorOf<Scalar>& x, const Axes& axes) {
  axis_run(op, x, axes);
  Shape s = shape_of(x);
  if (axes.is_all()) {
    std::fill(s.begin(), s.end(), std::size_t(1));
  } else {
    for (int a : axes) s[normalize_axis(op, x, a)] = 1;
  }
  return s;
}

template <class Scalar>
ReducePlan plan_reduction(const char* op, const TensorOf<Scalar>& x, const Axes& axes, bool keepdims) {
  axis_run(op, x, axes);
  const std::size_t rank = x.dimension();
  std::vector<bool> reduced(rank, axes.is_all());
  for (int a : axes) reduced[normalize_axis(op, x, a)] = true;
  ReducePlan plan;
  std::vector<std::size_t> out_stride(rank, 0);
  for (std::size_t d = rank; d-- > 0;) {  // row-major strides of the kept axes in the output
    if (reduced[d]) {
      plan.group *= x.shape()[d];
    } else {
      out_stride[d] = plan.out_size;
      plan.out_size *= x.shape()[d];
    }
  }
  for (std::size_t d = 0; d < rank; ++d) {
    if (!reduced[d]) {
      plan.out_shape.push_back(x.shape()[d]);
    } else if (keepdims) {
      plan.out_shape.push_back(1);
    }
  }
  // walk x's multi-index in row-major order like an odometer
  const std::size_t n = x.size();
  plan.out_index.resize(n);
  std::vector<std::size_t> idx(rank, 0);
  std::size_t o = 0;
  for (std::size_t k = 0; k < n; ++k) {
    plan.out_index[k] = o;
    for (std::size_t d = rank; d-- > 0;) {
      o += out_stride[d];
      if (++idx[d] < x.shape()[d]) break;
      o -= out_stride[d] * idx[d];
      idx[d] = 0;
    }
  }
  return plan;
}

#define XTGRAD_INSTANTIATE_REDUCE_PLAN(T)                                            \
  template AxisRun axis_run(const char*, const TensorOf<T>&, const Axes&);           \
  template Shape kept_shape(const char*, const TensorOf<T>&, const Axes&);           \
  template ReducePlan plan_reduction(const char*, const TensorOf<T>&, const Axes&, bool);
XTGRAD_INSTANTIATE_REDUCE_PLAN(float)
XTGRAD_INSTANTIATE_REDUCE_PLAN(double)
#undef XTGRAD_INSTANTIATE_REDUCE_PLAN

}  // namespace xtgrad
