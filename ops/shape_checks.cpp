#include "xtgrad/ops/shape_checks.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace xtgrad {

namespace {

// Extent k (counted from the left of the r-d broadcast shape) of x, 1 where x has no such axis.
template <class Scalar>
std::size_t extent(const TensorOf<Scalar>& x, std::size_t k, std::size_t r) {
  const std::size_t rx = x.dimension();
  return k + rx >= r ? x.shape()[k + rx - r] : 1;
}

}  // namespace

template <class Scalar>
void check_broadcastable(const char* op, const TensorOf<Scalar>& a, const TensorOf<Scalar>& b) {
  const std::size_t r = std::max(a.dimension(), b.dimension());
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t da = extent(a, k, r), db = extent(b, k, r);
    if (da != db && da != 1 && db != 1) {
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " do not broadcast");
    }
  }
}

template <class Scalar>
Shape broadcast_shape(const char* op, const TensorOf<Scalar>& a, const TensorOf<Scalar>& b) {
  check_broadcastable(op, a, b);
  const std::size_t r = std::max(a.dimension(), b.dimension());
  Shape out(r);
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t da = extent(a, k, r), db = extent(b, k, r);
    out[k] = da == 1 ? db : da;
  }
  return out;
}

template <class Scalar>
void check_same_shape(const char* op, const TensorOf<Scalar>& a, const TensorOf<Scalar>& b, const char* a_name,
                      const char* b_name) {
  if (!(a.shape() == b.shape())) {
    throw std::invalid_argument(std::string(op) + ": shapes differ: " + a_name + " " + shape_str(a) + ", " +
                                b_name + " " + shape_str(b));
  }
}

template <class Scalar>
void check_rank(const char* op, const TensorOf<Scalar>& x, std::size_t rank, const char* name) {
  if (x.dimension() != rank) {
    throw std::invalid_argument(std::string(op) + ": expects a " + std::to_string(rank) + "-d " + name +
                                ", got shape " + shape_str(x));
  }
}

template <class Scalar>
std::size_t normalize_axis(const char* op, const TensorOf<Scalar>& x, int axis) {
  const int rank = static_cast<int>(x.dimension());
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for rank " +
                                std::to_string(rank) + " (shape " + shape_str(x) + ")");
  }
  return static_cast<std::size_t>(a);
}

// float and double, the precisions the library is built for
template Shape broadcast_shape(const char*, const TensorOf<float>&, const TensorOf<float>&);
template void check_broadcastable(const char*, const TensorOf<float>&, const TensorOf<float>&);
template void check_same_shape(const char*, const TensorOf<float>&, const TensorOf<float>&, const char*,
                               const char*);
template void check_rank(const char*, const TensorOf<float>&, std::size_t, const char*);
template std::size_t normalize_axis(const char*, const TensorOf<float>&, int);
template Shape broadcast_shape(const char*, const TensorOf<double>&, const TensorOf<double>&);
template void check_broadcastable(const char*, const TensorOf<double>&, const TensorOf<double>&);
template void check_same_shape(const char*, const TensorOf<double>&, const TensorOf<double>&, const char*,
                               const char*);
template void check_rank(const char*, const TensorOf<double>&, std::size_t, const char*);
template std::size_t normalize_axis(const char*, const TensorOf<double>&, int);

}  // namespace xtgrad
