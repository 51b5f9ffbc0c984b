#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

std::string shape_str(const Tensor& t) { return shape_str(shape_of(t)); }

Shape shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end()); }

std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
