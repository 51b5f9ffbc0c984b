// The array type every xtgrad value and gradient is stored in, and the scalar it holds.
//
// The scalar is fixed when the library is configured: float for `xtgrad::xtgrad` (training
// speed), double for `xtgrad::xtgrad_f64` (gradient checks). Each variant lives in its own
// inline namespace (f32 / f64), so both can be linked into one program without clashing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#if defined(XTGRAD_DOUBLE) && defined(XTGRAD_FLOAT)
#error "xtgrad: this target links both xtgrad::xtgrad (float) and xtgrad::xtgrad_f64 (double); a target can use one: put the double-precision gradient checks in their own target linked to xtgrad::xtgrad_f64"
#endif
#ifdef XTGRAD_DOUBLE
#define XTGRAD_ABI f64
#else
#define XTGRAD_ABI f32
#endif

namespace xtgrad {
inline namespace XTGRAD_ABI {

#ifdef XTGRAD_DOUBLE
using Scalar = double;
#else
using Scalar = float;
#endif

// Row-major, contiguous, dynamic rank.
using Tensor = xt::xarray<Scalar>;
using Shape = std::vector<std::size_t>;

// "(64, 784)"; "()" for a 0-d tensor.
std::string shape_str(const Shape& shape);
// Same, for the shape of `t`.
std::string shape_str(const Tensor& t);

// Shape of a tensor as an owning vector.
Shape shape_of(const Tensor& t);

// Number of elements of a shape (1 for rank 0).
std::size_t element_count(const Shape& shape);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
