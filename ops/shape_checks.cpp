#include "xtgrad/ops/shape_checks.hpp"

#include <stdexcept>
#include <string>

namespace xtgrad {
inline namespace XTGRAD_ABI {

Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b) {
  const std::size_t ra = a.dimension(), rb = b.dimension(), r = std::max(ra, rb);
  Shape out(r);
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t da = k + ra >= r ? a.shape()[k + ra - r] : 1;
    const std::size_t db = k + rb >= r ? b.shape()[k + rb - r] : 1;
    if (da != db && da != 1 && db != 1) {
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " do not broadcast");
    }
    out[k] = da == 1 ? db : da;
  }
  return out;
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name) {
  if (shape_of(a) != shape_of(b)) {
    throw std::invalid_argument(std::string(op) + ": shapes differ: " + a_name + " " + shape_str(a) + ", " +
                                b_name + " " + shape_str(b));
  }
}

void check_rank(const char* op, const Tensor& x, std::size_t rank, const char* name) {
  if (x.dimension() != rank) {
    throw std::invalid_argument(std::string(op) + ": expects a " + std::to_string(rank) + "-d " + name +
                                ", got shape " + shape_str(x));
  }
}

std::size_t normalize_axis(const char* op, const Tensor& x, int axis) {
  const int rank = static_cast<int>(x.dimension());
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for shape " +
                                shape_str(x));
  }
  return static_cast<std::size_t>(a);
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
