// Sums and means over everything or along one axis.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> sum(const BasicVariable<T>& x);   // Σ x over all elements: shape ()
template <class T>
BasicVariable<T> mean(const BasicVariable<T>& x);  // Σ x / size: shape ()
// Along `axis` (negative counts from the end); `keepdims` keeps it with size 1.
template <class T>
BasicVariable<T> sum(const BasicVariable<T>& x, int axis, bool keepdims = false);
// sum(x, axis, keepdims) / (size of that axis).
template <class T>
BasicVariable<T> mean(const BasicVariable<T>& x, int axis, bool keepdims = false);

}  // namespace xtgrad
