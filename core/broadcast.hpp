// Broadcasting as differentiable ops: sum_to undoes a broadcast, broadcast_to makes one; each
// is the other's backward. The engine reduces gradients of broadcast inputs with sum_to.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// x summed down to `shape` (numpy broadcasting in reverse); gradient: g broadcast back to x's shape.
template <class T>
BasicVariable<T> sum_to(const BasicVariable<T>& x, const Shape& shape);
// x repeated to `shape` (numpy broadcasting); gradient: sum_to(g, x's shape).
template <class T>
BasicVariable<T> broadcast_to(const BasicVariable<T>& x, const Shape& shape);

}  // namespace xtgrad
