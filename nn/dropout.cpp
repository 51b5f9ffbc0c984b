#include "xtgrad/nn/dropout.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#include "xtgrad/nn/batch_shard.hpp"

namespace xtgrad {
namespace nn {

namespace {
std::atomic<std::uint64_t> g_default_seeds{0};
}  // namespace

// The k-th default seed: k times the 64-bit golden ratio, well spread for mt19937_64.
template <class T>
BasicDropout<T>::BasicDropout(double p) : BasicDropout(p, (g_default_seeds.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ull) {}

template <class T>
BasicDropout<T>::BasicDropout(double p, std::uint64_t seed) : p_(p), rng_(std::make_shared<Rng>(seed)) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

template <class T>
BasicVariable<T> BasicDropout<T>::forward(const Variable& x) {
  return sharded_dropout(x, p_, *rng_, this->is_training());
}

#define XTGRAD_NN_DROPOUT_INSTANTIATE(T) \
  template class BasicDropout<T>;
XTGRAD_NN_DROPOUT_INSTANTIATE(float)
XTGRAD_NN_DROPOUT_INSTANTIATE(double)
#undef XTGRAD_NN_DROPOUT_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
