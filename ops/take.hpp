// Picking positions along one axis (slice, narrow, split, index_select share it). Internal to
// the ops' sources.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// y[…, j, …] = x[…, idx[j], …] along `axis` (already normalized; every idx[j] < its extent);
// dx[…, idx[j], …] += g[…, j, …] (repeated indices add up). `op` names the node.
template <class T>
BasicVariable<T> take_along_axis(const char* op, const BasicVariable<T>& x, std::size_t axis,
                                 std::vector<std::size_t> idx);

// y = x[…, start : start + length, …] along `axis` (normalized; the range fits): one block copy
// of `length`·inner elements per outer index, no index list; dx's block += g.
template <class T>
BasicVariable<T> take_range(const char* op, const BasicVariable<T>& x, std::size_t axis, std::size_t start,
                            std::size_t length);

// Flat index maps for the differentiable backward of the picking ops: each of the two ops below
// is the other's adjoint, so their gradients exist to any order.
using FlatMap = std::shared_ptr<const std::vector<std::size_t>>;
// y[k] = g[map[k]], y of `shape` (map->size() elements); dg[map[k]] += dy[k].
template <class T>
BasicVariable<T> gather_flat(const char* op, const BasicVariable<T>& g, FlatMap map, const Shape& shape);
// y of `shape`, 0 except y[map[k]] += g[k] (g has map->size() elements); dg[k] = dy[map[k]].
template <class T>
BasicVariable<T> scatter_flat(const char* op, const BasicVariable<T>& g, FlatMap map, const Shape& shape);

}  // namespace xtgrad
