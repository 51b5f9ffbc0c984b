#include "xtgrad/nn/dropout.hpp"

#include <stdexcept>
#include <string>

#include "xtgrad/ops/dropout.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), rng_(std::make_shared<Rng>(seed)) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

Variable Dropout::forward(const Variable& x) { return dropout(x, p_, *rng_, is_training()); }

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
