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
inline namespace XTGRAD_ABI {

// Axes to reduce over; negative axes count from the end; an empty list means every axis.
using Axes = std::vector<int>;

// Σ x over `axes`; dx = g broadcast back.
Variable sum(const Variable& x, const Axes& axes, bool keepdims = false);
// Σ x / (elements per output) over `axes`.
Variable mean(const Variable& x, const Axes& axes, bool keepdims = false);

// Largest element: shape (); ties split the gradient evenly.
Variable max(const Variable& x);
// Smallest element: shape (); ties split the gradient evenly.
Variable min(const Variable& x);
// Largest along `axis`; the gradient goes to the first largest element.
Variable max(const Variable& x, int axis, bool keepdims = false);
// Smallest along `axis`; the gradient goes to the first smallest element.
Variable min(const Variable& x, int axis, bool keepdims = false);
// Largest over `axes`; ties split the gradient evenly.
Variable amax(const Variable& x, const Axes& axes, bool keepdims = false);
// Smallest over `axes`; ties split the gradient evenly.
Variable amin(const Variable& x, const Axes& axes, bool keepdims = false);

// Flat index of the first largest element: a 0-d tensor of integer values (no gradient).
Tensor argmax(const Variable& x);
// Flat index of the first smallest element (no gradient).
Tensor argmin(const Variable& x);
// Index along `axis` of the first largest element of each lane (no gradient).
Tensor argmax(const Variable& x, int axis, bool keepdims = false);
// Index along `axis` of the first smallest element of each lane (no gradient).
Tensor argmin(const Variable& x, int axis, bool keepdims = false);

// Π x; dxᵢ = g·Π_{j≠i} xⱼ (exact with zeros in the lane).
Variable prod(const Variable& x);
Variable prod(const Variable& x, int axis, bool keepdims = false);
Variable prod(const Variable& x, const Axes& axes, bool keepdims = false);

// Σ(x − mean)² / (N − 1) (unbiased) or / N; dx = 2g(x − mean)/(N − 1 or N). NaN when N − 1 = 0
// and unbiased (as PyTorch).
Variable var(const Variable& x, bool unbiased = true);
Variable var(const Variable& x, int axis, bool unbiased = true, bool keepdims = false);
Variable var(const Variable& x, const Axes& axes, bool unbiased = true, bool keepdims = false);
// √var (PyTorch's std); dx = g(x − mean)/((N − 1 or N)·std).
Variable std_dev(const Variable& x, bool unbiased = true);
Variable std_dev(const Variable& x, int axis, bool unbiased = true, bool keepdims = false);
Variable std_dev(const Variable& x, const Axes& axes, bool unbiased = true, bool keepdims = false);

// m + ln Σ e^(x − m), m the lane maximum: finite for any finite x; dx = g·e^(x − y) (softmax).
Variable logsumexp(const Variable& x);
Variable logsumexp(const Variable& x, int axis, bool keepdims = false);
Variable logsumexp(const Variable& x, const Axes& axes, bool keepdims = false);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
