// Sums and means over everything or along one axis.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable sum(const Variable& x);   // Σ x over all elements: shape ()
Variable mean(const Variable& x);  // Σ x / size: shape ()
// Along `axis` (negative counts from the end); `keepdims` keeps it with size 1.
Variable sum(const Variable& x, int axis, bool keepdims = false);
// sum(x, axis, keepdims) / (size of that axis).
Variable mean(const Variable& x, int axis, bool keepdims = false);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
