// What each CPU this process may run on delivers right now: a multiply-add loop's GFLOP/s and
// an L1 add loop's GB/s on each CPU alone, then on all of them at once, one pinned thread per
// CPU. On a dedicated
// machine every number is the same; on a shared VM a virtual CPU whose physical core another
// tenant also uses delivers less, and by an amount that changes from minute to minute. A
// speedup of N threads over one cannot exceed (Σ together) / (fastest alone), by either
// measure: the lower of the two ceilings is what bench/models.sh reports beside its speedups.
//
//   cpu_capacity [--seconds S=0.3]   → one JSON line:
//   {"cpus": [0, 1], "alone_gflops": [...], "together_gflops": [...], "alone_gbytes": [...],
//    "together_gbytes": [...], "speedup_ceiling": x}
//
// The multiply-adds are 10 independent chains of the build's widest float batch (xsimd), bound
// by the FMA units; the adds, by the loads and stores. Half the time each. Linux only
// (sched_setaffinity).
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <xsimd/xsimd.hpp>

namespace {

using Batch = xsimd::batch<float>;
constexpr int kChains = 10;

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

// GFLOP/s of the multiply-add chains on the calling thread, run for about `seconds`.
double fma_gflops(double seconds) {
  Batch acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = Batch(1.0f + float(i) * 1e-7f);
  const Batch m(0.9999999f), c(1e-7f);
  constexpr long kInner = 1 << 16;
  const auto start = std::chrono::steady_clock::now();
  long rounds = 0;
  double elapsed = 0;
  do {
    for (long it = 0; it < kInner; ++it) {
      for (int i = 0; i < kChains; ++i) acc[i] = xsimd::fma(acc[i], m, c);
    }
    ++rounds;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  float sink = 0;
  for (int i = 0; i < kChains; ++i) sink += xsimd::hadd(acc[i]);
  volatile float keep = sink;  // the chains must not be optimised away
  (void)keep;
  return double(rounds) * kInner * kChains * Batch::size * 2 / elapsed * 1e-9;
}

// GB/s of y += x over two 16 KiB arrays (in L1), repeated for about `seconds`: bound by the
// loads and stores, which another thread on the same physical core shares too.
double add_gbytes(double seconds) {
  constexpr std::size_t kSize = 4096;
  alignas(64) static thread_local float x[kSize], y[kSize];
  for (std::size_t i = 0; i < kSize; ++i) x[i] = 1e-7f * float(i), y[i] = 0;
  const auto start = std::chrono::steady_clock::now();
  long rounds = 0;
  double elapsed = 0;
  do {
    for (int r = 0; r < 64; ++r) {
      for (std::size_t i = 0; i < kSize; i += Batch::size) {
        (Batch::load_aligned(y + i) + Batch::load_aligned(x + i)).store_aligned(y + i);
      }
      asm volatile("" : : "r"(y) : "memory");  // each pass reads what the last one stored
    }
    ++rounds;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return double(rounds) * 64 * kSize * sizeof(float) * 3 / elapsed * 1e-9;  // 2 loads + 1 store
}

// Both measures on the calling thread pinned to `cpu` (zeros if it cannot be pinned: main says so).
struct Capacity {
  double gflops = 0, gbytes = 0;
};
Capacity measure_on(int cpu, double seconds) {
  if (!pin_to(cpu)) return {};
  Capacity c;
  c.gflops = fma_gflops(seconds / 2);
  c.gbytes = add_gbytes(seconds / 2);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"What each CPU delivers alone and all at once, and the ceiling of an N/1 speedup (one JSON line)"};
  double seconds = 0.3;
  app.add_option("--seconds", seconds, "time per CPU and measure set, split between the two loops")
      ->check(CLI::Range(0.001, 60.0));
  CLI11_PARSE(app, argc, argv);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    std::perror("cpu_capacity: sched_getaffinity");
    return 1;
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);

  std::vector<Capacity> alone(cpus.size()), together(cpus.size());
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    std::thread t([&, i] { alone[i] = measure_on(cpus[i], seconds); });
    t.join();
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    threads.emplace_back([&, i] { together[i] = measure_on(cpus[i], seconds); });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    if (alone[i].gflops == 0 || together[i].gflops == 0) {
      std::cerr << "cpu_capacity: could not pin a thread to CPU " << cpus[i] << " of this process's affinity mask\n";
      return 1;
    }
  }

  // the ceiling of an N-thread speedup by each measure: Σ together / fastest alone; the lower wins
  const auto field = [](const std::vector<Capacity>& v, double Capacity::*f) {
    std::vector<double> out;
    for (const Capacity& c : v) out.push_back(c.*f);
    return out;
  };
  const auto ceiling = [&](double Capacity::*f) {
    const auto a = field(alone, f), t = field(together, f);
    const double fastest = *std::max_element(a.begin(), a.end());
    return fastest > 0 ? std::accumulate(t.begin(), t.end(), 0.0) / fastest : 0.0;
  };
  const double ceiling_value = std::min(ceiling(&Capacity::gflops), ceiling(&Capacity::gbytes));
  const auto rounded = [](std::vector<double> v) {
    for (double& x : v) x = std::round(x * 10) / 10;
    return v;
  };
  std::cout << nlohmann::json{{"cpus", cpus},
                              {"alone_gflops", rounded(field(alone, &Capacity::gflops))},
                              {"together_gflops", rounded(field(together, &Capacity::gflops))},
                              {"alone_gbytes", rounded(field(alone, &Capacity::gbytes))},
                              {"together_gbytes", rounded(field(together, &Capacity::gbytes))},
                              {"speedup_ceiling", std::round(ceiling_value * 100) / 100}}
                   .dump()
            << "\n";
  return 0;
}
