// The app's memory estimate (apps/mnist_regularization/limits.cpp) for --model lenet: its
// hand-counted per-sample sizes match nn::lenet5 as nn::summarize sees it, and the need grows
// with the batch, names the flag, and catches overflow.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "limits.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

namespace nn = xtgrad::nn;
using mnist_app::Config;

TEST(LeNetSampleSizes, MatchTheModelAsSummarizeSeesIt) {
  for (const std::size_t classes : {10, 3}) {
    xtgrad::Rng rng(0);
    nn::Sequential net = nn::lenet5(rng, {classes, {}});
    const mnist_app::LeNetSampleSizes z = mnist_app::lenet_sample_sizes(classes);
    EXPECT_EQ(z.parameters, net.parameter_count());
    std::uint64_t values = 28 * 28, largest = 0;
    std::vector<std::uint64_t> cols;
    for (const nn::LayerSummary& layer : nn::summarize(net, {1, 1, 28, 28})) {
      std::uint64_t n = 1;
      for (const std::size_t d : layer.output_shape) n *= d;
      values += layer.type == "MaxPool2d" ? 2 * n : n;  // a pool also keeps each window's argmax
      largest = std::max(largest, n);
      if (layer.type == "Conv2d") {
        const xtgrad::Tensor& w = net.get<nn::Conv2d>(layer.name).weight.value();  // (out, in, kh, kw)
        cols.push_back(w.size() / w.shape()[0] * (n / w.shape()[0]));         // K·L
      }
    }
    EXPECT_EQ(z.values, values);
    EXPECT_EQ(z.largest, largest);
    ASSERT_EQ(cols.size(), 2u);
    EXPECT_EQ(z.cols[0], cols[0]);
    EXPECT_EQ(z.cols[1], cols[1]);
  }
}

TEST(MemoryNeed, LeNetActivationsGrowWithTheBatchAndNameIt) {
  Config c;
  c.model = "lenet";
  c.train_size = 60000;
  c.batch_size = 64;
  const mnist_app::MemoryNeed small = mnist_app::memory_need(c, 784, 10, 10000);
  c.batch_size = 60000;
  const mnist_app::MemoryNeed big = mnist_app::memory_need(c, 784, 10, 10000);
  EXPECT_EQ(small.data, big.data);
  EXPECT_EQ(small.model, big.model);
  // 60000 samples keep 2·17 362 values each (float): over 8 GB; the hidden-layer formula of
  // --model mlp would have said 60000·200·4·4 bytes = 192 MB.
  EXPECT_GT(big.activations, std::uint64_t(60000) * 2 * 17000 * sizeof(xtgrad::Scalar));
  // At batch 64 the sharpness measurement's 1000-row double backward (4 values per sample
  // value) is the larger part, so the ratio is about 60000·2 / (1000·4) = 30.
  EXPECT_GT(big.activations, 20 * small.activations);
  EXPECT_EQ(mnist_app::largest_part(c, big), "--batch-size 60000 with --model lenet");
  // --hidden does not matter to LeNet.
  c.hidden = 1000000000;
  EXPECT_EQ(mnist_app::memory_need(c, 784, 10, 10000).total(), big.total());
}

TEST(MemoryNeed, AdamsMomentsAndSamsSavedWeightsAreCounted) {
  Config c;
  c.hidden = 1000;
  const std::uint64_t params = 785 * 1000 + 1001 * 10;
  const std::uint64_t bytes = params * sizeof(xtgrad::Scalar);
  const mnist_app::MemoryNeed sgd = mnist_app::memory_need(c, 784, 10, 10000);
  EXPECT_EQ(sgd.model, 3 * bytes);  // value, gradient, a spare
  c.optimizer = "adamw";
  const mnist_app::MemoryNeed adamw = mnist_app::memory_need(c, 784, 10, 10000);
  EXPECT_EQ(adamw.model, 5 * bytes);  // + the two moments
  EXPECT_EQ(adamw.activations, sgd.activations);
  EXPECT_EQ(mnist_app::memory_need(c, 784, 10, 10000, true).model, 6 * bytes);  // + SAM's saved weights
  c.optimizer = "sgd";
  EXPECT_EQ(mnist_app::memory_need(c, 784, 10, 10000, true).model, 4 * bytes);
  c.model = "lenet";
  const std::uint64_t lenet = mnist_app::lenet_sample_sizes(10).parameters * sizeof(xtgrad::Scalar);
  c.optimizer = "adam";
  EXPECT_EQ(mnist_app::memory_need(c, 784, 10, 10000).model, 5 * lenet);
}

// The message of memory_need's std::invalid_argument for `c` ("" if it returns).
std::string overflow_message(const Config& c) {
  try {
    mnist_app::memory_need(c, 784, 10, 10000);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(MemoryNeed, LeNetOverflowNamesTheFlag) {
  Config c;
  c.model = "lenet";
  c.train_size = c.batch_size = std::uint64_t(1) << 62;  // the subset itself overflows
  EXPECT_NE(overflow_message(c).find("--train-size"), std::string::npos) << overflow_message(c);
  c.train_size = c.batch_size = 1000000000000000;  // the data fits in 64 bits, one batch's values do not
  EXPECT_NE(overflow_message(c).find("--batch-size 1000000000000000 with --model lenet"), std::string::npos)
      << overflow_message(c);
  c.train_size = 60000;
  c.batch_size = 1000000;  // capped by the subset
  EXPECT_EQ(overflow_message(c), "");
}

}  // namespace
