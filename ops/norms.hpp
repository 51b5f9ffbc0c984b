// Parameter norms, the building blocks of the regularizers.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> l1(const BasicVariable<T>& w);          // Σ|w|: shape (); gradient sign(w), 0 at 0
template <class T>
BasicVariable<T> squared_l2(const BasicVariable<T>& w);  // Σw²: shape (); gradient 2w

}  // namespace xtgrad
