// End to end in float on real MNIST: the seed's 784-200-10 sigmoid network, trained with plain
// SGD (lr 0.1) on a 2,000-image random subset, beats 80% on the 10,000 test images.
// Needs XTGRAD_MNIST_DIR.
//
// Batch 16, not the seed's 64: with 0.01·N(0,1) weights the sigmoid net sits on a plateau
// (loss ≈ 2.3) for ~2 epochs, and 10 epochs of 32 steps end at 78–80% (an independent numpy
// run of the same recipe gives 79.9–80.4% over three seeds) — no margin over 80%. 10 epochs
// of 125 steps end at ~84–90%.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/ops/activations.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Variable;
using xtgrad::nn::Linear;

// The seed's model (apps' TwoLayerNet, rebuilt here on the float library): weights 0.01·N(0,1),
// biases 0, Linear → sigmoid → Linear, logits out.
struct SeedNet : xtgrad::nn::Module {
  Linear fc1, fc2;
  SeedNet(std::size_t hidden, Rng& rng)
      : fc1(register_module("fc1", Linear(784, hidden, rng, init))),
        fc2(register_module("fc2", Linear(hidden, 10, rng, init))) {}
  Variable forward(const Variable& x) override { return fc2(xtgrad::sigmoid(fc1(x))); }
  static xtgrad::Tensor init(const xtgrad::Shape& s, Rng& r) { return xtgrad::nn::std_normal(s, r, 0.01); }
};

TEST(MnistSubsetF32, SeedNetOn2000ImagesBeats80PercentOnTheTestSet) {
  static_assert(sizeof(xtgrad::Scalar) == 4, "this test is meant for the float library");
  const char* dir = std::getenv("XTGRAD_MNIST_DIR");
  if (!dir || !*dir || !std::filesystem::exists(dir)) GTEST_SKIP() << "XTGRAD_MNIST_DIR is unset or missing";
  const auto start = std::chrono::steady_clock::now();

  const xtgrad::nn::Mnist mnist = xtgrad::nn::load_mnist(dir);
  ASSERT_EQ(mnist.train.count, 60000u);
  ASSERT_EQ(mnist.test.count, 10000u);
  Rng rng(42);
  const auto subset = xtgrad::nn::random_subset(mnist.train.count, 2000, rng);
  const xtgrad::nn::Dataset train{xtgrad::nn::normalize_images(mnist.train, subset),
                                  xtgrad::nn::one_hot(mnist.train.labels, subset)};
  std::vector<std::size_t> all(mnist.test.count);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const xtgrad::nn::Dataset test{xtgrad::nn::normalize_images(mnist.test), xtgrad::nn::one_hot(mnist.test.labels, all)};

  SeedNet model(200, rng);
  xtgrad::nn::SGD sgd(model.named_parameters(), 0.1);
  xtgrad::nn::FitOptions options;
  options.epochs = 10;
  options.batch_size = 16;
  options.progress_bar = false;
  const auto history = xtgrad::nn::fit(model, sgd, train, nullptr, rng, options);
  ASSERT_EQ(history.size(), 10u);
  EXPECT_LT(history.back().data_loss, history.front().data_loss);

  const double acc = xtgrad::nn::accuracy(model, test);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "test accuracy " << acc << " after " << history.size() << " epochs, final data loss "
            << history.back().data_loss << ", " << seconds << " s in all\n";
  EXPECT_GT(acc, 0.80);  // wall time is printed, not asserted: the machine is shared
}

}  // namespace
