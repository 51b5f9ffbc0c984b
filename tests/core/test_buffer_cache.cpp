// The buffer cache, the small-block free lists and BackwardFn: storage is reused, shapes
// come out right, limits hold, and closures are destroyed exactly once.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;

// Each test starts from an empty cache with the default limit.
class BufferCache : public ::testing::Test {
 protected:
  void SetUp() override {
    set_buffer_cache_limit(kDefaultLimit);
    release_cached_buffers();
  }
  void TearDown() override {
    set_buffer_cache_automatic();  // the default mode
    release_cached_buffers();
  }
  static constexpr std::size_t kDefaultLimit = std::size_t(64) << 20;
};

TEST_F(BufferCache, RecycledStorageComesBackReshaped) {
  Tensor a = empty_tensor<Scalar>({6, 4});
  const Scalar* storage = a.data();
  recycle(a);
  EXPECT_EQ(a.size(), 0u);  // left empty, not dangling
  EXPECT_EQ(buffer_cache_stats().buffers, 1u);
  EXPECT_EQ(buffer_cache_stats().bytes, 24 * sizeof(Scalar));
  const std::size_t hits = buffer_cache_stats().hits;
  Tensor b = empty_tensor<Scalar>({2, 3, 4});  // same element count, other shape
  EXPECT_EQ(b.data(), storage);
  ASSERT_EQ(b.dimension(), 3u);
  EXPECT_EQ(b.shape()[0], 2u);
  EXPECT_EQ(b.shape()[1], 3u);
  EXPECT_EQ(b.shape()[2], 4u);
  EXPECT_EQ(buffer_cache_stats().hits, hits + 1);
  EXPECT_EQ(buffer_cache_stats().buffers, 0u);
}

TEST_F(BufferCache, OtherElementCountsAllocateAfresh) {
  Tensor a = empty_tensor<Scalar>({5});
  recycle(a);
  const std::size_t misses = buffer_cache_stats().misses;
  Tensor b = empty_tensor<Scalar>({6});
  EXPECT_EQ(buffer_cache_stats().misses, misses + 1);
  EXPECT_EQ(buffer_cache_stats().buffers, 1u);  // the 5-element buffer waits
  EXPECT_EQ(b.size(), 6u);
}

TEST_F(BufferCache, ScalarTensorIsZeroDimensional) {
  const Tensor s = scalar_tensor(Scalar(2.5));
  EXPECT_EQ(s.dimension(), 0u);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s(), 2.5);
}

TEST_F(BufferCache, LimitDropsTheOldestAndZeroTurnsItOff) {
  set_buffer_cache_limit(10 * sizeof(Scalar));
  Tensor a = empty_tensor<Scalar>({4}), b = empty_tensor<Scalar>({4}), c = empty_tensor<Scalar>({4});
  recycle(a);
  recycle(b);
  EXPECT_EQ(buffer_cache_stats().buffers, 2u);
  recycle(c);  // 12 elements would exceed 10: the oldest goes
  EXPECT_EQ(buffer_cache_stats().buffers, 2u);
  EXPECT_EQ(buffer_cache_stats().bytes, 8 * sizeof(Scalar));
  Tensor big = empty_tensor<Scalar>({11});
  recycle(big);  // larger than the limit on its own: freed
  EXPECT_EQ(buffer_cache_stats().buffers, 2u);
  set_buffer_cache_limit(0);
  EXPECT_EQ(buffer_cache_stats().buffers, 0u);
  Tensor d = empty_tensor<Scalar>({4});
  recycle(d);
  EXPECT_EQ(buffer_cache_stats().buffers, 0u);
}

TEST_F(BufferCache, AutomaticModeGrowsTheLimitInsteadOfDroppingBuffers) {
  set_buffer_cache_automatic(10 * sizeof(Scalar));
  EXPECT_TRUE(buffer_cache_is_automatic());
  EXPECT_EQ(buffer_cache_limit(), 10 * sizeof(Scalar));
  std::vector<Tensor> tensors;
  for (int i = 0; i < 600; ++i) tensors.push_back(empty_tensor<Scalar>({4}));  // more than the 256 held at first
  for (Tensor& t : tensors) recycle(t);
  EXPECT_EQ(buffer_cache_stats().buffers, 600u);  // none dropped
  EXPECT_EQ(buffer_cache_stats().bytes, 2400 * sizeof(Scalar));
  EXPECT_GE(buffer_cache_limit(), 2400 * sizeof(Scalar));
  EXPECT_LE(buffer_cache_limit(), 2 * 2400 * sizeof(Scalar));  // doubled as needed, not beyond
  EXPECT_LE(buffer_cache_limit(), buffer_cache_cap());
  set_buffer_cache_limit(kDefaultLimit);
  EXPECT_FALSE(buffer_cache_is_automatic());
}

TEST_F(BufferCache, AutomaticModeReachesAStepsWorkingSetAndThenAllocatesNothing) {
  // A working set far above the starting bound (a few KiB here; a CNN's hundreds of MiB
  // above 64 MiB in a real run): after warm-up, a step is served from the cache alone.
  set_buffer_cache_automatic(1024);
  auto filled = [](Shape shape, Scalar v) {
    Tensor t = Tensor::from_shape(shape);
    t.fill(v);
    return t;
  };
  const Variable w1 = Variable::parameter(filled({64, 128}, 0.01));
  const Variable w2 = Variable::parameter(filled({128, 10}, 0.01));
  const Variable x(filled({32, 64}, 0.5));
  auto step = [&] { sum(sigmoid(matmul(relu(matmul(x, w1)), w2))).backward(); };
  for (int warm_up = 0; warm_up < 3; ++warm_up) step();
  const BufferCacheStats before = buffer_cache_stats();
  for (int i = 0; i < 5; ++i) step();
  EXPECT_EQ(buffer_cache_stats().misses, before.misses);
  EXPECT_GT(buffer_cache_limit(), 32u * 128 * sizeof(Scalar));
  // With the same small bound fixed, the same steps keep missing.
  set_buffer_cache_limit(1024);
  release_cached_buffers();
  step();
  const std::size_t fixed_misses = buffer_cache_stats().misses;
  step();
  EXPECT_GT(buffer_cache_stats().misses, fixed_misses);
}

TEST_F(BufferCache, SavedTensorRecyclesWhenDestroyed) {
  {
    SavedTensor saved(empty_tensor<Scalar>({3, 3}));
    EXPECT_EQ(saved.get().size(), 9u);
    EXPECT_EQ(buffer_cache_stats().buffers, 0u);
  }
  EXPECT_EQ(buffer_cache_stats().buffers, 1u);
}

TEST_F(BufferCache, FreedGraphFeedsTheNextStep) {
  const Variable w = Variable::parameter(make_tensor({3, 2}, {1, 2, 3, 4, 5, 6}));
  const Variable x(make_tensor({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}));
  auto step = [&] { sum(sigmoid(matmul(x, w))).backward(); };
  step();  // first step: allocates
  const BufferCacheStats before = buffer_cache_stats();
  step();
  const BufferCacheStats after = buffer_cache_stats();
  EXPECT_GT(after.hits, before.hits);
  EXPECT_EQ(after.misses, before.misses);  // every tensor of the second step was recycled
}

TEST_F(BufferCache, UserGivenValuesAreFreedNotCached) {
  { const Variable data(Tensor::from_shape({50, 4})); }  // a leaf: the user's tensor
  EXPECT_EQ(buffer_cache_stats().buffers, 0u);
  {
    const Variable a = Variable::parameter(make_tensor({2}, {1, 2}));
    const Variable b = a * 2.0;  // an op's output
    release_cached_buffers();
  }
  EXPECT_EQ(buffer_cache_stats().buffers, 1u);  // b's value; a's value was freed
}

TEST_F(BufferCache, RecycledBuffersDoNotLeakOldValuesIntoResults) {
  // A buffer comes back with stale contents; every op must overwrite all of it.
  Tensor junk = empty_tensor<Scalar>({2, 2});
  junk.fill(1e30);
  recycle(junk);
  const Variable a = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}));
  Variable y = a + a;
  expect_values(y.value(), {2, 2}, {2, 4, 6, 8});
}

// ---- small blocks and BackwardFn ------------------------------------------------------------

TEST(SmallBlocks, AFreedBlockIsHandedOutAgain) {
  void* a = allocate_small_block(100);
  free_small_block(a, 100);
  void* b = allocate_small_block(120);  // same 64-byte class (65..128)
  EXPECT_EQ(a, b);
  free_small_block(b, 120);
  void* big = allocate_small_block(5000);  // beyond the classes: operator new
  ASSERT_NE(big, nullptr);
  free_small_block(big, 5000);
}

// Counts live instances so a closure's captures can be checked for exactly-once destruction.
struct Tracked {
  static int live;
  Tracked() { ++live; }
  Tracked(const Tracked&) { ++live; }
  Tracked(Tracked&&) noexcept { ++live; }
  ~Tracked() { --live; }
};
int Tracked::live = 0;

TEST(BackwardFnTest, CallsMovesAndDestroysItsClosureOnce) {
  int calls = 0;
  {
    BackwardFn f = [t = Tracked(), &calls](Node&) { ++calls; };
    EXPECT_TRUE(static_cast<bool>(f));
    EXPECT_EQ(Tracked::live, 1);
    Node n;
    f(n);
    BackwardFn g = std::move(f);
    EXPECT_FALSE(static_cast<bool>(f));
    g(n);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(Tracked::live, 1);
    g = nullptr;
    EXPECT_FALSE(static_cast<bool>(g));
    EXPECT_EQ(Tracked::live, 0);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(BackwardFnTest, HoldsMoveOnlyCaptures) {
  auto owned = std::make_unique<int>(7);
  int seen = 0;
  BackwardFn f = [p = std::move(owned), &seen](Node&) { seen = *p; };
  Node n;
  f(n);
  EXPECT_EQ(seen, 7);
}

TEST(BackwardFnTest, BackwardInsideAClosureUsesItsOwnScratch) {
  // A custom op whose backward runs a whole second backward (of an unrelated graph).
  const Variable inner = Variable::parameter(make_tensor({2}, {3, 4}));
  const Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable y = make_result("nested", Tensor(x.value()), {x}, [inner](Node& self) {
    sum(inner * inner).backward();
    self.add_to_parent(0, Tensor(self.grad));
  });
  sum(y * 2.0).backward();
  expect_values(x.grad(), {2}, {2, 2});
  expect_values(inner.grad(), {2}, {6, 8});
}

}  // namespace
}  // namespace xtgrad_test
