// DataLoader and split_dataset: every row once per epoch, shuffling from the Rng, drop_last,
// prefetch giving the same batches, class-index targets, the split's sizes and contents.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::nn::Batch;
using xtgrad::nn::DataLoader;
using xtgrad::nn::DataLoaderOptions;
using xtgrad::nn::Dataset;

// Row i of the inputs (n, 1, 2, 2) holds i everywhere; targets are class indices i % 3.
Dataset numbered(std::size_t n) {
  Dataset d{Tensor::from_shape({n, 1, 2, 2}), Tensor::from_shape({n})};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < 4; ++k) d.inputs.data()[i * 4 + k] = double(i);
    d.targets(i) = double(i % 3);
  }
  return d;
}

// The row ids of each batch of one epoch, checking each row's target on the way.
std::vector<std::vector<std::size_t>> one_epoch(DataLoader& loader) {
  std::vector<std::vector<std::size_t>> out;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.x.value().dimension(), 4u);
    std::vector<std::size_t> ids;
    for (std::size_t r = 0; r < b.x.value().shape()[0]; ++r) {
      const auto id = static_cast<std::size_t>(b.x.value()(r, 0, 1, 1));
      EXPECT_EQ(b.y.value()(r), double(id % 3));
      ids.push_back(id);
    }
    out.push_back(ids);
  }
  return out;
}

// issue 22 §3.3: label_tensor-style targets (class indices (n)) reach cross_entropy directly,
// as b.y and as the batch's IndexTensor labels.
TEST(DataLoader, ClassIndexTargetsWorkWithCrossEntropy) {
  const Dataset d = numbered(10);
  Rng rng(2);
  const DataLoaderOptions o = DataLoaderOptions().set_batch_size(4).set_shuffle(true);
  DataLoader loader(d, o, rng);
  xtgrad::nn::Linear fc(4, 3, rng);
  std::size_t batches = 0;
  for (const Batch& b : loader) {
    const std::size_t n = b.x.value().shape()[0];
    const xtgrad::Variable logits = fc(xtgrad::reshape(b.x, {n, 4}));  // (n, 3) against targets (n)
    ASSERT_EQ(b.labels.size(), n);
    for (std::size_t r = 0; r < n; ++r) EXPECT_EQ(double(b.labels(r)), b.y.value()(r));
    const float via_labels = xtgrad::cross_entropy(logits, b.labels).item();
    const float via_y = xtgrad::cross_entropy(logits, b.y).item();
    EXPECT_FLOAT_EQ(via_labels, via_y);
    EXPECT_TRUE(std::isfinite(via_labels));
    ++batches;
  }
  EXPECT_EQ(batches, 3u);
  // one-hot targets: no labels, and cross_entropy takes b.y as rows
  Dataset hot{d.inputs, xtgrad::one_hot<float>(std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, 3)};
  DataLoader hot_loader(hot, o, rng);
  for (const Batch& b : hot_loader) EXPECT_EQ(b.labels.size(), 0u);
}

TEST(DataLoader, EachEpochYieldsEveryRowOnceInANewOrder) {
  const Dataset d = numbered(10);
  Rng rng(1);
  DataLoaderOptions o;
  o.batch_size = 4;
  DataLoader loader(d, o, rng);
  EXPECT_EQ(loader.size(), 3u);
  const auto e1 = one_epoch(loader), e2 = one_epoch(loader);
  ASSERT_EQ(e1.size(), 3u);
  EXPECT_EQ(e1[2].size(), 2u);  // the partial last batch
  std::multiset<std::size_t> all;
  for (const auto& b : e1) all.insert(b.begin(), b.end());
  EXPECT_EQ(all, (std::multiset<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_NE(e1, e2);
}

TEST(DataLoader, DropLastSkipsThePartialBatchAndNoShuffleKeepsTheOrder) {
  const Dataset d = numbered(10);
  Rng rng(2);
  DataLoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.drop_last = true;
  DataLoader loader(d, o, rng);
  EXPECT_EQ(loader.size(), 2u);
  EXPECT_EQ(one_epoch(loader), (std::vector<std::vector<std::size_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}}));
}

TEST(DataLoader, PrefetchGivesTheSameBatches) {
  const Dataset d = numbered(23);
  Rng a(3), b(3);
  DataLoaderOptions o;
  o.batch_size = 5;
  DataLoader plain(d, o, a);
  o.prefetch = true;
  DataLoader prefetched(d, o, b);
  for (int epoch = 0; epoch < 3; ++epoch) EXPECT_EQ(one_epoch(plain), one_epoch(prefetched)) << "epoch " << epoch;
  o.drop_last = true;
  Rng c(3), e(3);
  DataLoader p2(d, o, c);
  o.prefetch = false;
  DataLoader q2(d, o, e);
  EXPECT_EQ(one_epoch(p2), one_epoch(q2));
}

TEST(SplitDataset, PartsAreDisjointCompleteAndSized) {
  const Dataset d = numbered(20);
  Rng rng(4);
  const auto [train, val] = xtgrad::nn::split_dataset(d, 0.25, rng);
  EXPECT_EQ(xtgrad::shape_str(train.inputs), "(15, 1, 2, 2)");
  EXPECT_EQ(xtgrad::shape_str(val.targets), "(5)");
  std::set<std::size_t> ids;
  for (const Dataset* part : {&train, &val}) {
    for (std::size_t r = 0; r < part->inputs.shape()[0]; ++r) {
      const auto id = static_cast<std::size_t>(part->inputs(r, 0, 0, 0));
      EXPECT_EQ(part->targets(r), double(id % 3));
      ids.insert(id);
    }
  }
  EXPECT_EQ(ids.size(), 20u);
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::split_dataset(d, 0.01, rng); },
                                                         {"split_dataset", "non-empty"});
}

}  // namespace

// ---- double: BasicDataLoader<double> and split_dataset over BasicDataset<double> -----------

namespace {

TEST(BasicDataLoader, DoubleDatasetsLoadAndSplitWithoutConversion) {
  const std::size_t n = 10;
  xtgrad::nn::BasicDataset<double> d{xtgrad::TensorOf<double>::from_shape({n, 2}),
                                     xtgrad::TensorOf<double>::from_shape({n})};
  for (std::size_t i = 0; i < n; ++i) {
    d.inputs(i, 0) = double(i) + 1e-12;  // below float resolution
    d.inputs(i, 1) = double(i);
    d.targets(i) = double(i % 3);
  }
  Rng rng(5);
  const auto [train, validation] = xtgrad::nn::split_dataset(d, 0.3, rng);
  ASSERT_EQ(validation.inputs.shape()[0], 3u);
  xtgrad::nn::BasicDataLoader<double> loader(train, {.batch_size = 3}, rng);
  std::set<std::size_t> seen;
  for (const xtgrad::nn::BasicBatch<double>& b : loader) {
    for (std::size_t r = 0; r < b.x.value().shape()[0]; ++r) {
      const auto id = static_cast<std::size_t>(b.x.value()(r, 1));
      EXPECT_EQ(b.x.value()(r, 0), double(id) + 1e-12);
      EXPECT_EQ(b.y.value()(r), double(id % 3));
      seen.insert(id);
    }
  }
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
