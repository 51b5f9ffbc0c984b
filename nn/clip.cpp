#include "xtgrad/nn/clip.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace xtgrad {
namespace nn {

template <class T>
double clip_grad_norm(const NamedParametersOf<T>& params, double max_norm) {
  if (!(max_norm > 0) || !std::isfinite(max_norm)) {
    throw std::invalid_argument("clip_grad_norm: max_norm must be finite and > 0, got " + std::to_string(max_norm));
  }
  double sq = 0;
  for (const auto& [_, p] : params) {
    if (!p.has_grad()) continue;
    const TensorOf<T>& g = p.grad();
    for (std::size_t i = 0; i < g.size(); ++i) sq += double(g.data()[i]) * double(g.data()[i]);
  }
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const auto scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (auto [_, p] : params) {
      if (!p.has_grad()) continue;
      TensorOf<T>& g = p.mutable_grad();
      for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] *= scale;
    }
  }
  return norm;
}

template <class T>
void clip_grad_value(const NamedParametersOf<T>& params, double clip) {
  if (!(clip > 0) || !std::isfinite(clip)) {
    throw std::invalid_argument("clip_grad_value: clip must be finite and > 0, got " + std::to_string(clip));
  }
  const auto c = static_cast<T>(clip);
  for (auto [_, p] : params) {
    if (!p.has_grad()) continue;
    TensorOf<T>& g = p.mutable_grad();
    for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = std::clamp(g.data()[i], -c, c);
  }
}

template double clip_grad_norm(const NamedParametersOf<float>&, double);
template double clip_grad_norm(const NamedParametersOf<double>&, double);
template void clip_grad_value(const NamedParametersOf<float>&, double);
template void clip_grad_value(const NamedParametersOf<double>&, double);

}  // namespace nn
}  // namespace xtgrad
