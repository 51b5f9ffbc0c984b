#include "xtgrad/ops/take.hpp"

#include <algorithm>

#include "xtgrad/core/accumulate.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable take_along_axis(const char* op, const Variable& x, std::size_t axis, std::vector<std::size_t> idx) {
  const Tensor& v = x.value();
  // x viewed as (outer, n, inner) around the axis; y as (outer, m, inner)
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= v.shape()[d];
  for (std::size_t d = axis + 1; d < v.dimension(); ++d) inner *= v.shape()[d];
  const std::size_t n = v.shape()[axis], m = idx.size();
  Shape out = shape_of(v);
  out[axis] = m;
  Tensor y = empty_tensor(out);
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t j = 0; j < m; ++j) {
      const Scalar* src = v.data() + (o * n + idx[j]) * inner;
      std::copy(src, src + inner, y.data() + (o * m + j) * inner);
    }
  }
  return make_result(op, std::move(y), {x}, [idx = std::move(idx), outer, n, inner](Node& self) {
    // dx = 0 except dx[o, idx[j], :] += g[o, j, :]
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dx, dx + outer * n * inner, Scalar(0));
    const std::size_t m = idx.size();
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t j = 0; j < m; ++j) {
        const Scalar* g = self.grad.data() + (o * m + j) * inner;
        Scalar* d = dx + (o * n + idx[j]) * inner;
        for (std::size_t t = 0; t < inner; ++t) d[t] += g[t];
      }
    }
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
