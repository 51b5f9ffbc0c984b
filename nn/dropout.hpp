// Dropout as a module: on in training mode, the identity in evaluation mode.
// BasicDropout<T> over the scalar type; Dropout = BasicDropout<float>.
#pragma once

#include <cstdint>
#include <memory>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// Inverted dropout (ops/dropout.hpp) with probability p of zeroing each element, drawing its
// masks from its own engine (shared by copies, so the member a model calls and the child it
// registered draw one sequence). Two layers given the same seed draw the same masks: give
// each its own seed, or draw the seeds from the model's Rng. In data-parallel training
// (nn::fit with a reducer) each process draws the mask of the whole batch and applies its own
// rows of it (batch_shard.hpp), so N processes draw the masks one process would.
template <class T>
class BasicDropout : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // p ∈ [0, 1); std::invalid_argument otherwise. Seeded from a process-wide sequence (the
  // k-th Dropout built this way gets the k-th seed): distinct layers, reproducible runs.
  explicit BasicDropout(double p = 0.5);
  // Seeded with `seed`.
  BasicDropout(double p, std::uint64_t seed);
  // Seeded with one draw from `rng` (as Linear draws its weights from it).
  BasicDropout(double p, Rng& rng) : BasicDropout(p, static_cast<std::uint64_t>(rng())) {}
  Variable forward(const Variable& x) override;
  double p() const { return p_; }
  // Restarts the mask sequence from `seed`.
  void seed(std::uint64_t seed) { *rng_ = Rng(seed); }

 private:
  double p_;
  std::shared_ptr<Rng> rng_;
};

extern template class BasicDropout<float>;
extern template class BasicDropout<double>;

using Dropout = BasicDropout<float>;

}  // namespace nn
}  // namespace xtgrad
