// Shape ops: squeeze/unsqueeze/flatten, permute/swap_axes, concat/stack, slice/narrow/split.
// Each returns a new array (no views); gradients flow back to the elements they came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/ops/reductions_extra.hpp"  // Axes

namespace xtgrad {
inline namespace XTGRAD_ABI {

// x without its axes of extent 1 (a 0-d result if all are).
Variable squeeze(const Variable& x);
// x without `axis` if its extent is 1; x unchanged otherwise (as PyTorch).
Variable squeeze(const Variable& x, int axis);
// x with a new axis of extent 1 at `axis` ∈ [−rank−1, rank].
Variable unsqueeze(const Variable& x, int axis);
// Axes start_axis … end_axis merged into one (PyTorch's flatten); a 0-d x gives shape (1).
Variable flatten(const Variable& x, int start_axis = 0, int end_axis = -1);
// Axes reordered: result axis d is x's axis perm[d]; dx = g permuted back.
Variable permute(const Variable& x, const Axes& perm);
// Axes a and b exchanged (PyTorch's transpose(a, b) / swapaxes).
Variable swap_axes(const Variable& x, int a, int b);

// The inputs joined along an existing `axis`; all other extents must agree.
Variable concat(const std::vector<Variable>& xs, int axis = 0);
// The inputs (all the same shape) joined along a new `axis` ∈ [−rank−1, rank].
Variable stack(const std::vector<Variable>& xs, int axis = 0);

// Elements start, start + step, … (< stop) along `axis`, Python rules: negative start/stop count
// from the end and both are clamped into [0, extent]; step ≥ 1.
Variable slice(const Variable& x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
// `length` elements from `start` (negative counts from the end) along `axis`; must fit.
Variable narrow(const Variable& x, int axis, std::int64_t start, std::size_t length);
// Pieces of `size` elements along `axis` (the last may be shorter), as PyTorch's split(int).
std::vector<Variable> split(const Variable& x, std::size_t size, int axis = 0);
// Pieces of the given sizes along `axis`; they must add up to its extent.
std::vector<Variable> split_sizes(const Variable& x, const std::vector<std::size_t>& sizes, int axis = 0);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
