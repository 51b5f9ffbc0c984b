// Picking positions along one axis (slice, narrow, split, index_select share it). Internal to
// the ops' sources.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// y[…, j, …] = x[…, idx[j], …] along `axis` (already normalized; every idx[j] < its extent);
// dx[…, idx[j], …] += g[…, j, …] (repeated indices add up). `op` names the node.
Variable take_along_axis(const char* op, const Variable& x, std::size_t axis, std::vector<std::size_t> idx);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
