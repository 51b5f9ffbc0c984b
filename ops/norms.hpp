// Parameter norms, the building blocks of the regularizers.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable l1(const Variable& w);          // Σ|w|: shape (); gradient sign(w), 0 at 0
Variable squared_l2(const Variable& w);  // Σw²: shape (); gradient 2w

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
