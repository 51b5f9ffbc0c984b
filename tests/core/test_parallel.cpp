// The thread pool (core/parallel.hpp): every index runs exactly once, chunks are fixed by the
// thread count alone (so reductions repeat bit for bit), nesting and concurrent callers run
// inline, errors come back to the caller, and split GEMMs equal one-thread GEMMs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/random.hpp"

namespace xtgrad_test {
namespace {

using xtgrad::NumThreadsGuard;
using xtgrad::parallel_for;
using xtgrad::parallel_reduce;

TEST(ParallelFor, RunsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 7}) {
    const NumThreadsGuard guard(threads);
    for (std::size_t n : {0u, 1u, 5u, 1000u, 100003u}) {
      for (std::size_t grain : {1u, 64u, 4096u}) {
        std::vector<std::atomic<int>> hits(n);
        parallel_for(0, n, grain, [&](std::size_t b, std::size_t e) {
          for (std::size_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n << ", grain " << grain << ", " << threads
                                       << " threads";
        }
      }
    }
  }
}

TEST(ParallelFor, ChunksAreAtLeastTheGrainAndAtMostOnePerThread) {
  const NumThreadsGuard guard(3);
  std::atomic<int> chunks{0};
  std::atomic<std::size_t> smallest{~std::size_t(0)};
  parallel_for(10, 10 + 9000, 2000, [&](std::size_t b, std::size_t e) {
    chunks.fetch_add(1);
    std::size_t s = smallest.load();
    while (e - b < s && !smallest.compare_exchange_weak(s, e - b)) {
    }
  });
  EXPECT_EQ(chunks.load(), 3);
  EXPECT_GE(smallest.load(), 2000u);
  chunks = 0;
  parallel_for(0, 1999, 2000, [&](std::size_t, std::size_t) { chunks.fetch_add(1); });
  EXPECT_EQ(chunks.load(), 1);  // below one grain: the caller alone
}

// A float sum whose rounding depends on where the chunks split.
float chunked_sum(const std::vector<float>& v) {
  return parallel_reduce(
      0, v.size(), 1000, 0.0f,
      [&](std::size_t b, std::size_t e) { return std::accumulate(v.begin() + long(b), v.begin() + long(e), 0.0f); },
      [](float a, float b) { return a + b; });
}

TEST(ParallelReduce, RepeatsBitForBitAndEqualsTheChunkOrderedSum) {
  std::vector<float> v(100000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1.0f / float(i + 1) + float(i % 7) * 1e-3f;
  for (int threads : {1, 2, 4}) {
    const NumThreadsGuard guard(threads);
    const float first = chunked_sum(v);
    for (int repeat = 0; repeat < 20; ++repeat) ASSERT_EQ(chunked_sum(v), first) << threads << " threads";
    // The same chunks summed on this thread, in order.
    const std::size_t chunks = xtgrad::parallel_detail::chunk_count(v.size(), 1000);
    EXPECT_EQ(chunks, std::size_t(threads));
    float serial = 0.0f;
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t b = xtgrad::parallel_detail::chunk_start(0, v.size(), chunks, c);
      const std::size_t e = xtgrad::parallel_detail::chunk_start(0, v.size(), chunks, c + 1);
      serial += std::accumulate(v.begin() + long(b), v.begin() + long(e), 0.0f);
    }
    EXPECT_EQ(first, serial) << threads << " threads";
  }
}

TEST(ParallelFor, NestedCallsRunInlineWithTheSameResult) {
  const NumThreadsGuard guard(2);
  std::vector<std::atomic<int>> hits(64 * 64);
  parallel_for(0, 64, 1, [&](std::size_t b, std::size_t e) {
    EXPECT_TRUE(xtgrad::in_parallel_region());
    for (std::size_t i = b; i < e; ++i) {
      parallel_for(0, 64, 1, [&](std::size_t b2, std::size_t e2) {
        for (std::size_t j = b2; j < e2; ++j) hits[i * 64 + j].fetch_add(1);
      });
    }
  });
  EXPECT_FALSE(xtgrad::in_parallel_region());
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ParallelFor, TwoCallingThreadsAtOnceBothComplete) {
  const NumThreadsGuard guard(2);
  auto work = [](std::vector<int>& out) {
    for (int round = 0; round < 200; ++round) {
      parallel_for(0, out.size(), 16, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] += 1;
      });
    }
  };
  std::vector<int> a(1000, 0), b(1000, 0);
  std::thread other([&] { work(b); });
  work(a);
  other.join();
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], 200);
    ASSERT_EQ(b[i], 200);
  }
}

TEST(ParallelFor, AnExceptionInAChunkReachesTheCallerAfterAllChunksEnd) {
  const NumThreadsGuard guard(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(parallel_for(0, 4, 1,
                            [&](std::size_t b, std::size_t) {
                              if (b == 0) throw std::runtime_error("chunk 0 failed");
                              finished.fetch_add(1);
                            }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 1);  // the other chunk (2 chunks: 2 threads) still ran
  // The pool still works afterwards.
  std::atomic<int> count{0};
  parallel_for(0, 100, 1, [&](std::size_t b, std::size_t e) { count.fetch_add(int(e - b)); });
  EXPECT_EQ(count.load(), 100);
}

TEST(NumThreads, RejectsOutOfRangeCountsAndCallsFromInsideAChunk) {
  EXPECT_THROW(xtgrad::set_num_threads(0), std::invalid_argument);
  EXPECT_THROW(xtgrad::set_num_threads(xtgrad::kMaxThreads + 1), std::invalid_argument);
  const NumThreadsGuard guard(2);
  std::atomic<int> logic_errors{0};
  parallel_for(0, 2, 1, [&](std::size_t, std::size_t) {
    try {
      xtgrad::set_num_threads(1);
    } catch (const std::logic_error&) {
      logic_errors.fetch_add(1);
    }
  });
  EXPECT_EQ(logic_errors.load(), 2);
  EXPECT_EQ(xtgrad::num_threads(), 2);
}

TEST(NumThreads, DefaultFollowsTheEnvironmentOrTheCpusThisProcessMayUse) {
  const char* saved = std::getenv("XTGRAD_NUM_THREADS");
  const std::string keep = saved ? saved : "";
  ::setenv("XTGRAD_NUM_THREADS", "3", 1);
  EXPECT_EQ(xtgrad::default_num_threads(), 3);
  for (const char* bad : {"0", "-2", "two", "3x", "", "100000"}) {
    ::setenv("XTGRAD_NUM_THREADS", bad, 1);
    if (*bad == '\0') {
      EXPECT_EQ(xtgrad::default_num_threads(), xtgrad::available_cpus());  // empty: unset
      continue;
    }
    expect_throws_with<std::invalid_argument>([] { xtgrad::default_num_threads(); }, {"XTGRAD_NUM_THREADS", bad});
  }
  ::unsetenv("XTGRAD_NUM_THREADS");
  EXPECT_GE(xtgrad::available_cpus(), 1);
  EXPECT_LE(xtgrad::available_cpus(), int(std::thread::hardware_concurrency()));
  if (saved) ::setenv("XTGRAD_NUM_THREADS", keep.c_str(), 1);
}

// op(A)·op(B) split across threads equals the one-thread product (same k-sums per element;
// BLAS tile edges may round the last bit differently).
template <class T>
void expect_split_gemm_matches_one_thread(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k) {
  std::vector<T> a(m * k), b(k * n), c1(m * n, T(0.5)), c2(m * n, T(0.5));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = T(std::sin(0.37 * double(i)));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = T(std::cos(0.11 * double(i)));
  {
    const NumThreadsGuard one(1);
    xtgrad::gemm(ta, tb, m, n, k, T(1.5), a.data(), b.data(), T(0.25), c1.data());
  }
  const NumThreadsGuard three(3);
  ASSERT_TRUE(xtgrad::gemm_uses_threads(ta, m, n, k));
  xtgrad::gemm(ta, tb, m, n, k, T(1.5), a.data(), b.data(), T(0.25), c2.data());
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  for (std::size_t i = 0; i < c1.size(); ++i) {
    ASSERT_NEAR(double(c1[i]), double(c2[i]), tol * (1 + std::abs(double(c1[i]))))
        << "element " << i << " of (" << m << ", " << n << "), k " << k << ", ta " << ta << ", tb " << tb;
  }
}

TEST(Gemm, SplitProductsEqualOneThreadProductsForEveryTransposeAndOddShapes) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      expect_split_gemm_matches_one_thread<float>(ta, tb, 203, 77, 301);   // split by rows
      expect_split_gemm_matches_one_thread<float>(ta, tb, 37, 517, 129);   // split by columns
      expect_split_gemm_matches_one_thread<double>(ta, tb, 129, 131, 257);
      // k <= 64: by rows although m < n (a batch-64 weight gradient), unless the rows are too few
      expect_split_gemm_matches_one_thread<float>(ta, tb, 203, 517, 61);
      expect_split_gemm_matches_one_thread<double>(ta, tb, 203, 517, 64);
      expect_split_gemm_matches_one_thread<float>(ta, tb, 15, 2000, 60);  // 15 rows: by columns
    }
  }
}

// The container cpuset that ranks on a node share is read as a Linux CPU list.
TEST(CountCpuList, CountsRangesAndSingleCpus) {
  using xtgrad::parallel_detail::count_cpu_list;
  EXPECT_EQ(count_cpu_list("0"), 1);
  EXPECT_EQ(count_cpu_list("0-3"), 4);
  EXPECT_EQ(count_cpu_list("0-3,8,10-11"), 7);
  EXPECT_EQ(count_cpu_list("5-5"), 1);
}

TEST(CountCpuList, AnythingElseIsNotAList) {
  using xtgrad::parallel_detail::count_cpu_list;
  for (const char* bad : {"", "3-1", "0-", "-2", "a", "0,,1", "0-3,", " 1", "1.5"}) {
    EXPECT_EQ(count_cpu_list(bad), 0) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace xtgrad_test
