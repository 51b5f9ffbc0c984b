#include "xtgrad/ops/reduce_plan.hpp"

#include <stdexcept>
#include <string>

#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {

template <class Scalar>
ReducePlan plan_reduction(const char* op, const TensorOf<Scalar>& x, const Axes& axes, bool keepdims) {
  const std::size_t rank = x.dimension();
  std::vector<bool> reduced(rank, axes.empty());
  for (int a : axes) {
    const std::size_t d = normalize_axis(op, x, a);
    if (reduced[d]) {
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(a) + " is given twice for shape " +
                                  shape_str(x));
    }
    reduced[d] = true;
  }
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

template ReducePlan plan_reduction(const char*, const TensorOf<float>&, const Axes&, bool);
template ReducePlan plan_reduction(const char*, const TensorOf<double>&, const Axes&, bool);

}  // namespace xtgrad
