// Shape ops: squeeze/unsqueeze/flatten, permute/swap_axes, concat/stack (cat), slice/narrow/rows/split.
// Each returns a new array (no views); gradients flow back to the elements they came from.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// x without its axes of extent 1 (a 0-d result if all are).
template <class T>
BasicVariable<T> squeeze(const BasicVariable<T>& x);
// x without `axis` if its extent is 1; x unchanged otherwise (as PyTorch).
template <class T>
BasicVariable<T> squeeze(const BasicVariable<T>& x, int axis);
// x with a new axis of extent 1 at `axis` ∈ [−rank−1, rank].
template <class T>
BasicVariable<T> unsqueeze(const BasicVariable<T>& x, int axis);
// Axes start_axis … end_axis merged into one (PyTorch's flatten); a 0-d x gives shape (1).
template <class T>
BasicVariable<T> flatten(const BasicVariable<T>& x, int start_axis = 0, int end_axis = -1);
// Axes reordered: result axis d is x's axis perm[d]; dx = g permuted back.
template <class T>
BasicVariable<T> permute(const BasicVariable<T>& x, const std::vector<int>& perm);
// Axes a and b exchanged (PyTorch's transpose(a, b) / swapaxes).
template <class T>
BasicVariable<T> swap_axes(const BasicVariable<T>& x, int a, int b);

// The inputs joined along an existing `axis`; all other extents must agree.
BasicVariable<float> concat(const std::vector<BasicVariable<float>>& xs, int axis = 0);
BasicVariable<double> concat(const std::vector<BasicVariable<double>>& xs, int axis = 0);
// concat under PyTorch's name (torch.cat).
inline BasicVariable<float> cat(const std::vector<BasicVariable<float>>& xs, int axis = 0) { return concat(xs, axis); }
inline BasicVariable<double> cat(const std::vector<BasicVariable<double>>& xs, int axis = 0) { return concat(xs, axis); }
// The inputs (all the same shape) joined along a new `axis` ∈ [−rank−1, rank].
BasicVariable<float> stack(const std::vector<BasicVariable<float>>& xs, int axis = 0);
BasicVariable<double> stack(const std::vector<BasicVariable<double>>& xs, int axis = 0);

// Elements start, start + step, … (< stop) along `axis`, Python rules: negative start/stop count
// from the end and both are clamped into [0, extent]; step ≥ 1.
template <class T>
BasicVariable<T> slice(const BasicVariable<T>& x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
// `length` elements from `start` (negative counts from the end) along `axis`; must fit.
template <class T>
BasicVariable<T> narrow(const BasicVariable<T>& x, int axis, std::int64_t start, std::size_t length);
// Rows start … stop − 1 of x along axis 0 (x[start:stop]), Python rules: negative start/stop
// count from the end, both clamped into [0, extent]; one block copy; dx's rows += g. Also
// x.rows(start, stop).
template <class T>
BasicVariable<T> rows(const BasicVariable<T>& x, std::int64_t start, std::int64_t stop);
// Pieces of `size` elements along `axis` (the last may be shorter), as PyTorch's split(int). The
// returned vector is one heap allocation per call (chunk<N> below makes none).
template <class T>
std::vector<BasicVariable<T>> split(const BasicVariable<T>& x, std::size_t size, int axis = 0);
// Pieces of the given sizes along `axis`; they must add up to its extent.
template <class T>
std::vector<BasicVariable<T>> split_sizes(const BasicVariable<T>& x, const std::vector<std::size_t>& sizes,
                                          int axis = 0);

// out[0 .. pieces) = the pieces of chunk<pieces> (below), written into caller storage.
template <class T>
void chunk_into(const BasicVariable<T>& x, std::size_t pieces, int axis, BasicVariable<T>* out);
// N pieces along `axis`, as torch.chunk(x, N, axis) where that gives N pieces: ⌈extent/N⌉
// elements each, the last one the rest; throws std::invalid_argument when the extent cannot
// make N non-empty pieces. A fixed count in a std::array, so no vector is allocated (split's is):
// `const auto [q, k, v] = chunk<3>(qkv(x), -1);`.
template <std::size_t N, class T>
std::array<BasicVariable<T>, N> chunk(const BasicVariable<T>& x, int axis = 0) {
  static_assert(N > 0, "chunk: at least one piece");
  std::array<BasicVariable<T>, N> parts;
  chunk_into(x, N, axis, parts.data());
  return parts;
}

}  // namespace xtgrad
