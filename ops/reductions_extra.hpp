// Reductions over one axis, several axes or all: sum/mean over several axes, max/min (and
// amax/amin), argmax/argmin, prod, var/std_dev, logsumexp.
//
// Ties of max/min, as PyTorch: max(x, axis) and min(x, axis) give the whole gradient to the
// first extremal element along the axis (PyTorch's max(dim) returns that index); amax/amin and
// the all-element max(x)/min(x) split it evenly among the tied elements. A NaN in a lane makes
// its max/min NaN (and argmax/argmin its index).
#pragma once

#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// Axes to reduce over; negative axes count from the end; an empty list means every axis.
using Axes = std::vector<int>;

// Σ x over `axes`; dx = g broadcast back.
template <class T>
BasicVariable<T> sum(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);
// Σ x / (elements per output) over `axes`.
template <class T>
BasicVariable<T> mean(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);

// Largest element: shape (); ties split the gradient evenly.
template <class T>
BasicVariable<T> max(const BasicVariable<T>& x);
// Smallest element: shape (); ties split the gradient evenly.
template <class T>
BasicVariable<T> min(const BasicVariable<T>& x);
// Largest along `axis`; the gradient goes to the first largest element.
template <class T>
BasicVariable<T> max(const BasicVariable<T>& x, int axis, bool keepdims = false);
// Smallest along `axis`; the gradient goes to the first smallest element.
template <class T>
BasicVariable<T> min(const BasicVariable<T>& x, int axis, bool keepdims = false);
// Largest over `axes`; ties split the gradient evenly.
template <class T>
BasicVariable<T> amax(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);
// Smallest over `axes`; ties split the gradient evenly.
template <class T>
BasicVariable<T> amin(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);

// Flat index of the first largest element: a 0-d tensor of integer values (no gradient).
template <class T>
TensorOf<T> argmax(const BasicVariable<T>& x);
// Flat index of the first smallest element (no gradient).
template <class T>
TensorOf<T> argmin(const BasicVariable<T>& x);
// Index along `axis` of the first largest element of each lane (no gradient).
template <class T>
TensorOf<T> argmax(const BasicVariable<T>& x, int axis, bool keepdims = false);
// Index along `axis` of the first smallest element of each lane (no gradient).
template <class T>
TensorOf<T> argmin(const BasicVariable<T>& x, int axis, bool keepdims = false);

// Π x; dxᵢ = g·Π_{j≠i} xⱼ (exact with zeros in the lane).
template <class T>
BasicVariable<T> prod(const BasicVariable<T>& x);
template <class T>
BasicVariable<T> prod(const BasicVariable<T>& x, int axis, bool keepdims = false);
template <class T>
BasicVariable<T> prod(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);

// Σ(x − mean)² / (N − 1) (unbiased) or / N; dx = 2g(x − mean)/(N − 1 or N). NaN when N − 1 = 0
// and unbiased (as PyTorch).
template <class T>
BasicVariable<T> var(const BasicVariable<T>& x, bool unbiased = true);
template <class T>
BasicVariable<T> var(const BasicVariable<T>& x, int axis, bool unbiased = true, bool keepdims = false);
template <class T>
BasicVariable<T> var(const BasicVariable<T>& x, const Axes& axes, bool unbiased = true, bool keepdims = false);
// √var (PyTorch's std); dx = g(x − mean)/((N − 1 or N)·std).
template <class T>
BasicVariable<T> std_dev(const BasicVariable<T>& x, bool unbiased = true);
template <class T>
BasicVariable<T> std_dev(const BasicVariable<T>& x, int axis, bool unbiased = true, bool keepdims = false);
template <class T>
BasicVariable<T> std_dev(const BasicVariable<T>& x, const Axes& axes, bool unbiased = true, bool keepdims = false);

// m + ln Σ e^(x − m), m the lane maximum: finite for any finite x; dx = g·e^(x − y) (softmax).
template <class T>
BasicVariable<T> logsumexp(const BasicVariable<T>& x);
template <class T>
BasicVariable<T> logsumexp(const BasicVariable<T>& x, int axis, bool keepdims = false);
template <class T>
BasicVariable<T> logsumexp(const BasicVariable<T>& x, const Axes& axes, bool keepdims = false);

}  // namespace xtgrad
