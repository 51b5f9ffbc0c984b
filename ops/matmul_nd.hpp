// Matrix products of any rank with PyTorch's torch.matmul rules (matmul() in linalg.hpp is the
// 2-d fast path the models use).
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// a·b by torch.matmul's rules: 1-d·1-d is the dot product (shape ()); a 1-d a is a row (1, k)
// and a 1-d b a column (k, 1), that axis removed from the result; otherwise the last two axes
// multiply ((…, m, k)·(…, k, n) → (…, m, n)) and the leading (batch) axes broadcast.
// da = g·bᵀ and db = aᵀ·g per batch, summed over broadcast batch axes by accumulate_grad.
template <class T>
BasicVariable<T> matmul_nd(const BasicVariable<T>& a, const BasicVariable<T>& b);

}  // namespace xtgrad
