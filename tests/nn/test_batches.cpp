#include "xtgrad/nn/batches.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/core/parallel.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Scalar;
using xtgrad::Tensor;
using xtgrad::nn::BatchIterator;

// X (n, 3) whose row i holds i, i + 0.25, i + 0.5; Y (n, 2) whose row i holds -i, 10 i.
Tensor make_x(std::size_t n) {
  Tensor x = Tensor::from_shape({n, 3});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < 3; ++k) x(i, k) = Scalar(i) + Scalar(0.25) * Scalar(k);
  }
  return x;
}
Tensor make_y(std::size_t n) {
  Tensor y = Tensor::from_shape({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    y(i, 0) = -Scalar(i);
    y(i, 1) = Scalar(10 * i);
  }
  return y;
}

// One epoch's row ids in visiting order, checking that each x row matches its y row.
std::vector<std::size_t> epoch_rows(BatchIterator& it, std::vector<std::size_t>* sizes = nullptr) {
  std::vector<std::size_t> rows;
  Tensor xb, yb;
  it.start_epoch();
  while (it.next(xb, yb)) {
    EXPECT_EQ(xb.dimension(), 2u);
    EXPECT_EQ(xb.shape(1), 3u);
    EXPECT_EQ(yb.shape(0), xb.shape(0));
    if (sizes) sizes->push_back(xb.shape(0));
    for (std::size_t r = 0; r < xb.shape(0); ++r) {
      const auto id = static_cast<std::size_t>(xb(r, 0));
      EXPECT_EQ(xb(r, 2), Scalar(id) + Scalar(0.5));
      EXPECT_EQ(yb(r, 0), -Scalar(id));
      EXPECT_EQ(yb(r, 1), Scalar(10 * id));
      rows.push_back(id);
    }
  }
  return rows;
}

std::vector<std::size_t> sorted(std::vector<std::size_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST(BatchIterator, EveryRowExactlyOncePerEpochWithMatchingTargets) {
  const Tensor x = make_x(23), y = make_y(23);
  Rng rng(7);
  BatchIterator it(x, y, 5, true, rng);
  for (int epoch = 0; epoch < 3; ++epoch) EXPECT_EQ(sorted(epoch_rows(it)), iota(23));
}

TEST(BatchIterator, LastPartialBatchHoldsTheRemainder) {
  const Tensor x = make_x(23), y = make_y(23);
  Rng rng(7);
  BatchIterator it(x, y, 5, true, rng);
  EXPECT_EQ(it.batches_per_epoch(), 5u);
  std::vector<std::size_t> sizes;
  epoch_rows(it, &sizes);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 5, 5, 5, 3}));
  BatchIterator exact(x, y, 23, false, rng);
  EXPECT_EQ(exact.batches_per_epoch(), 1u);
  BatchIterator large(x, y, 100, false, rng);
  sizes.clear();
  epoch_rows(large, &sizes);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{23}));
}

TEST(BatchIterator, SameSeedGivesSameOrder) {
  const Tensor x = make_x(40), y = make_y(40);
  Rng a(123), b(123);
  BatchIterator ia(x, y, 8, true, a), ib(x, y, 8, true, b);
  for (int epoch = 0; epoch < 2; ++epoch) EXPECT_EQ(epoch_rows(ia), epoch_rows(ib));
}

TEST(BatchIterator, EachEpochDrawsANewOrder) {
  const Tensor x = make_x(40), y = make_y(40);
  Rng rng(5);
  BatchIterator it(x, y, 8, true, rng);
  const auto first = epoch_rows(it);
  const auto second = epoch_rows(it);
  EXPECT_NE(first, iota(40));
  EXPECT_NE(first, second);
}

TEST(BatchIterator, WithoutShuffleRowsComeInOrder) {
  const Tensor x = make_x(11), y = make_y(11);
  Rng rng(5);
  BatchIterator it(x, y, 4, false, rng);
  EXPECT_EQ(epoch_rows(it), iota(11));
  EXPECT_EQ(epoch_rows(it), iota(11));
}

TEST(BatchIterator, NextStartsTheFirstEpochAndStopsAtItsEnd) {
  const Tensor x = make_x(3), y = make_y(3);
  Rng rng(5);
  BatchIterator it(x, y, 2, false, rng);
  Tensor xb, yb;
  EXPECT_TRUE(it.next(xb, yb));
  EXPECT_TRUE(it.next(xb, yb));
  EXPECT_FALSE(it.next(xb, yb));
  EXPECT_FALSE(it.next(xb, yb));
  EXPECT_EQ(xb.shape(0), 1u);  // untouched after the end
  it.start_epoch();
  EXPECT_TRUE(it.next(xb, yb));
}

TEST(BatchIterator, FullBatchesReuseTheCallersBuffers) {
  const Tensor x = make_x(30), y = make_y(30);
  Rng rng(5);
  BatchIterator it(x, y, 10, true, rng);
  Tensor xb, yb;
  ASSERT_TRUE(it.next(xb, yb));
  const Scalar* xp = xb.data();
  const Scalar* yp = yb.data();
  while (it.next(xb, yb)) {
    EXPECT_EQ(xb.data(), xp);
    EXPECT_EQ(yb.data(), yp);
  }
}

// Every batch of `epochs` epochs, x and y flattened, in order.
std::vector<std::vector<Scalar>> all_batches(BatchIterator& it, std::size_t epochs) {
  std::vector<std::vector<Scalar>> out;
  Tensor xb, yb;
  for (std::size_t e = 0; e < epochs; ++e) {
    it.start_epoch();
    while (it.next(xb, yb)) {
      out.emplace_back(xb.begin(), xb.end());
      out.back().insert(out.back().end(), yb.begin(), yb.end());
      out.back().push_back(Scalar(xb.shape(0)));
    }
  }
  return out;
}

TEST(BatchIterator, PrefetchGivesTheSameBatchesInTheSameOrder) {
  const Tensor x = make_x(23), y = make_y(23);  // 7-row batches: 7, 7, 7, 2
  Rng rng_a(11), rng_b(11);
  BatchIterator plain(x, y, 7, true, rng_a);
  BatchIterator prefetched(x, y, 7, true, rng_b);
  prefetched.set_prefetch(true);
  EXPECT_TRUE(prefetched.prefetch());
  const auto a = all_batches(plain, 4);
  const auto b = all_batches(prefetched, 4);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a, b);
}

TEST(BatchIterator, PrefetchCanBeSwitchedMidEpochAndDroppedUnfinished) {
  const Tensor x = make_x(20), y = make_y(20);
  Rng rng_a(3), rng_b(3);
  BatchIterator plain(x, y, 4, true, rng_a);
  const auto expected = all_batches(plain, 1);
  BatchIterator it(x, y, 4, true, rng_b);
  Tensor xb, yb;
  std::vector<std::vector<Scalar>> got;
  it.start_epoch();
  for (int k = 0; it.next(xb, yb); ++k) {
    got.emplace_back(xb.begin(), xb.end());
    got.back().insert(got.back().end(), yb.begin(), yb.end());
    got.back().push_back(Scalar(xb.shape(0)));
    it.set_prefetch(k % 2 == 0);  // on, off, on, ...
  }
  EXPECT_EQ(got, expected);
  {
    Rng rng_c(3);
    BatchIterator unfinished(x, y, 4, true, rng_c);
    unfinished.set_prefetch(true);
    unfinished.next(xb, yb);  // a batch is in flight when it is destroyed
  }
}

TEST(BatchIterator, HandlesHigherRankInputs) {
  Tensor x = Tensor::from_shape({4, 2, 2});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = Scalar(i);
  const Tensor y = make_y(4);
  Rng rng(1);
  BatchIterator it(x, y, 3, false, rng);
  Tensor xb, yb;
  ASSERT_TRUE(it.next(xb, yb));
  ASSERT_EQ(xb.dimension(), 3u);
  EXPECT_EQ(xb(2, 1, 1), Scalar(11));
  ASSERT_TRUE(it.next(xb, yb));
  EXPECT_EQ(xb.shape(0), 1u);
  EXPECT_EQ(xb(0, 0, 0), Scalar(12));
}

TEST(BatchIterator, RejectsRowCountMismatchNamingBothShapes) {
  const Tensor x = make_x(10), y = make_y(9);
  Rng rng(1);
  try {
    BatchIterator it(x, y, 4, true, rng);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(10, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(9, 2)"), std::string::npos) << msg;
  }
}

TEST(BatchIterator, RejectsZeroBatchSizeAndEmptyData) {
  const Tensor x = make_x(10), y = make_y(10);
  Rng rng(1);
  EXPECT_THROW(BatchIterator(x, y, 0, true, rng), std::invalid_argument);
  const Tensor ex = make_x(0), ey = make_y(0);
  EXPECT_THROW(BatchIterator(ex, ey, 4, true, rng), std::invalid_argument);
}

TEST(BatchIterator, ShardsSplitEveryBatchIntoDisjointSlicesOfTheSameOrder) {
  // 23 rows in batches of 7 (7, 7, 7, 2) over 3 shards: each batch's rows split 3/2/2, the
  // last batch's 1/1/0; together the shards are the unsharded batches, in the same order.
  const Tensor x = make_x(23), y = make_y(23);
  for (bool prefetch : {false, true}) {
    Rng rng_all(5);
    BatchIterator whole(x, y, 7, true, rng_all);
    std::vector<std::size_t> whole_sizes;
    const auto order = epoch_rows(whole, &whole_sizes);
    std::vector<std::vector<std::size_t>> rows(3), sizes(3);
    std::vector<std::vector<std::size_t>> batch_rows(3);
    for (std::size_t s = 0; s < 3; ++s) {
      Rng rng(5);
      BatchIterator shard(x, y, 7, true, rng);
      shard.set_prefetch(prefetch);
      shard.set_shard(s, 3);
      rows[s] = epoch_rows(shard, &sizes[s]);
      shard.start_epoch();
      Tensor xb, yb;
      while (shard.next(xb, yb)) batch_rows[s].push_back(shard.batch_rows());
    }
    EXPECT_EQ(sizes[0], (std::vector<std::size_t>{3, 3, 3, 1}));
    EXPECT_EQ(sizes[1], (std::vector<std::size_t>{2, 2, 2, 1}));
    EXPECT_EQ(sizes[2], (std::vector<std::size_t>{2, 2, 2, 0}));
    EXPECT_EQ(batch_rows[2], whole_sizes);
    // Reassemble: batch k is shard 0's slice, then shard 1's, then shard 2's.
    std::vector<std::size_t> joined;
    std::vector<std::size_t> at(3, 0);
    for (std::size_t k = 0; k < whole_sizes.size(); ++k) {
      for (std::size_t s = 0; s < 3; ++s) {
        joined.insert(joined.end(), rows[s].begin() + at[s], rows[s].begin() + at[s] + sizes[s][k]);
        at[s] += sizes[s][k];
      }
    }
    EXPECT_EQ(joined, order) << (prefetch ? "with prefetch" : "without prefetch");
  }
}

TEST(BatchIterator, RejectsAShardOutsideTheCount) {
  const Tensor x = make_x(4), y = make_y(4);
  Rng rng(1);
  BatchIterator it(x, y, 2, true, rng);
  EXPECT_THROW(it.set_shard(2, 2), std::invalid_argument);
  EXPECT_THROW(it.set_shard(0, 0), std::invalid_argument);
}

}  // namespace

namespace {

TEST(BatchIterator, DropLastSkipsTheShortBatchWithAndWithoutPrefetch) {
  const Tensor x = make_x(23), y = make_y(23);
  for (bool prefetch : {false, true}) {
    Rng rng(9);
    BatchIterator it(x, y, 5, true, rng);
    it.set_drop_last(true);
    it.set_prefetch(prefetch);
    EXPECT_EQ(it.batches_per_epoch(), 4u);
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::vector<std::size_t> sizes;
      const auto rows = epoch_rows(it, &sizes);
      EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 5, 5, 5})) << "prefetch " << prefetch;
      EXPECT_EQ(std::set<std::size_t>(rows.begin(), rows.end()).size(), 20u);
    }
  }
  // A batch larger than the data set: nothing at all.
  Rng rng(10);
  BatchIterator big(x, y, 30, false, rng);
  big.set_drop_last(true);
  EXPECT_EQ(big.batches_per_epoch(), 0u);
  Tensor xb, yb;
  EXPECT_FALSE(big.next(xb, yb));
}

}  // namespace

// ---- double: the same iterator over TensorOf<double>, no conversion ------------------------

namespace {

TEST(BasicBatchIterator, DoubleDataGivesTheSameOrderAsFloatData) {
  const std::size_t n = 11;
  xtgrad::TensorOf<double> x64 = xtgrad::TensorOf<double>::from_shape({n, 2});
  xtgrad::TensorOf<double> y64 = xtgrad::TensorOf<double>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    x64(i, 0) = double(i) + 1e-12;  // below float resolution: kept only in double
    x64(i, 1) = -double(i);
    y64(i) = double(i);
  }
  const Tensor x32 = make_x(n), y32 = make_y(n);
  Rng rng64(7), rng32(7);
  xtgrad::nn::BasicBatchIterator<double> it64(x64, y64, 4, true, rng64);
  BatchIterator it32(x32, y32, 4, true, rng32);
  it64.set_prefetch(true);
  xtgrad::TensorOf<double> xb64, yb64;
  Tensor xb32, yb32;
  for (int epoch = 0; epoch < 2; ++epoch) {
    it64.start_epoch();
    it32.start_epoch();
    while (it32.next(xb32, yb32)) {
      ASSERT_TRUE(it64.next(xb64, yb64));
      ASSERT_EQ(xb64.shape(0), xb32.shape(0));
      for (std::size_t r = 0; r < xb64.shape(0); ++r) {
        const auto id = static_cast<std::size_t>(xb32(r, 0));
        EXPECT_EQ(xb64(r, 0), double(id) + 1e-12);
        EXPECT_EQ(yb64(r), double(id));
      }
    }
    EXPECT_FALSE(it64.next(xb64, yb64));
  }
}

}  // namespace

namespace {

// Batches large enough to be copied in row blocks by the pool's threads hold the same rows as
// one thread's copy.
TEST(BatchIterator, PoolCopiedBatchesEqualOneThreadsCopy) {
  const std::size_t n = 300, width = 1000;  // 100 rows x 1001 values per batch: 3 blocks at 3 threads
  Tensor x = Tensor::from_shape({n, width});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = Scalar(i % 9973) * Scalar(0.5);
  const Tensor y = make_y(n);
  auto epoch = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    Rng rng(7);
    BatchIterator it(x, y, 100, true, rng);
    std::vector<Tensor> batches;
    Tensor xb, yb;
    while (it.next(xb, yb)) {
      batches.push_back(xb);
      batches.push_back(yb);
    }
    return batches;
  };
  const std::vector<Tensor> one = epoch(1), three = epoch(3);
  ASSERT_EQ(one.size(), 6u);
  for (std::size_t b = 0; b < one.size(); ++b) EXPECT_EQ(one[b], three[b]) << "tensor " << b;
}

}  // namespace
