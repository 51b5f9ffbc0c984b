// nn::fit in both precisions in one program: a BasicSequential<double> with BasicSGD<double>
// and a float Sequential with SGD train side by side on the same tiny data set, with no
// conversion between them, and the schedulers drive either through OptimizerBase.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::TensorOf;
namespace nn = xtgrad::nn;

// n points in 2-d at ±(2, 2) plus N(0, 0.5²) noise, one-hot over 2 classes, in precision T.
template <class T>
nn::BasicDataset<T> two_blobs(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::normal_distribution<double> noise(0.0, 0.5);
  nn::BasicDataset<T> d{TensorOf<T>::from_shape({n, 2}), TensorOf<T>::from_shape({n, 2})};
  d.targets.fill(T(0));
  for (std::size_t i = 0; i < n; ++i) {
    const double s = (i % 2) ? 2.0 : -2.0;
    d.inputs(i, 0) = static_cast<T>(s + noise(rng));
    d.inputs(i, 1) = static_cast<T>(s + noise(rng));
    d.targets(i, i % 2) = T(1);
  }
  return d;
}

// A 2-8-2 tanh network in precision T.
template <class T>
nn::BasicSequential<T> small_mlp(Rng& rng) {
  nn::BasicSequential<T> net;
  net.add(nn::BasicLinear<T>(2, 8, rng)).add(nn::BasicTanh<T>()).add(nn::BasicLinear<T>(8, 2, rng));
  return net;
}

template <class T>
nn::BasicFitOptions<T> quiet(std::size_t epochs) {
  nn::BasicFitOptions<T> o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.progress_bar = false;
  return o;
}

TEST(FitPrecisions, DoubleAndFloatModelsBothLearnTheSameTask) {
  const nn::BasicDataset<double> data64 = two_blobs<double>(128, 1);
  const nn::Dataset data32 = two_blobs<float>(128, 1);
  Rng init64(2), init32(2), order64(3), order32(3);
  nn::BasicSequential<double> net64 = small_mlp<double>(init64);
  nn::Sequential net32 = small_mlp<float>(init32);
  nn::BasicSGD<double> sgd64(net64.named_parameters(), 0.1);
  nn::SGD sgd32(net32.named_parameters(), 0.1);

  const nn::History h64 = nn::fit(net64, sgd64, data64, &data64, order64, quiet<double>(6));
  const nn::History h32 = nn::fit(net32, sgd32, data32, &data32, order32, quiet<float>(6));

  ASSERT_EQ(h64.size(), 6u);
  ASSERT_EQ(h32.size(), 6u);
  EXPECT_LT(h64.back().data_loss, 0.5 * h64.front().data_loss);
  EXPECT_LT(h32.back().data_loss, 0.5 * h32.front().data_loss);
  EXPECT_GT(h64.back().test_accuracy, 0.95);
  EXPECT_GT(h32.back().test_accuracy, 0.95);
  // Same data, draws and maths: the two runs differ only by rounding.
  for (std::size_t e = 0; e < h64.size(); ++e) EXPECT_NEAR(h64[e].data_loss, h32[e].data_loss, 1e-3) << e;
}

TEST(FitPrecisions, ASchedulerDrivesEitherPrecisionThroughOptimizerBase) {
  Rng rng(4);
  nn::BasicSequential<double> net64 = small_mlp<double>(rng);
  nn::Sequential net32 = small_mlp<float>(rng);
  nn::BasicAdam<double> adam64(net64.named_parameters(), 0.01);
  nn::Adam adam32(net32.named_parameters(), 0.01);
  nn::StepLR step64(adam64, 1, 0.5), step32(adam32, 1, 0.5);
  step64.step();
  step32.step();
  EXPECT_DOUBLE_EQ(adam64.learning_rate(), 0.005);
  EXPECT_DOUBLE_EQ(adam32.learning_rate(), 0.005);
}

}  // namespace
