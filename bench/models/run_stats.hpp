// The measurement every bench/models_* program shares (plain C++: the xtgrad and the libtorch
// programs include the same code): run `warmup` untimed steps, then `steps` timed ones, each
// timed alone (wall clock), and the process's CPU time (user + sys) and peak RSS over the
// timed part; print the result as one JSON line. When bench/sgemm_clock.cpp's library is
// preloaded (LD_PRELOAD), also the seconds spent inside BLAS's sgemm over the timed part.
#pragma once

#include <dlfcn.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// User + system CPU seconds of this process so far (all its threads).
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Peak resident set of this process so far, MB (ru_maxrss is KiB on Linux).
inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

struct StepTimes {
  std::vector<double> seconds;  // wall seconds of each timed step
  std::vector<double> losses;   // loss of every step, warm-up included
  double wall = 0, cpu = 0;     // the whole timed part
  double sgemm = -1;            // of it, seconds inside sgemm (summed over threads); -1: not measured
  double first_loss() const { return losses.empty() ? 0 : losses.front(); }
  // Mean of the last min(10, n) losses: one batch's loss is noisy.
  double last_loss() const {
    const std::size_t k = std::min<std::size_t>(10, losses.size());
    return k ? std::accumulate(losses.end() - k, losses.end(), 0.0) / double(k) : 0;
  }
};

// Seconds spent inside sgemm so far, when libsgemm_clock.so is preloaded; -1 otherwise.
inline double sgemm_seconds() {
  using Fn = double (*)();
  static const auto seconds_so_far = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "xtgrad_bench_sgemm_seconds"));
  return seconds_so_far ? seconds_so_far() : -1;
}

// step(i) runs training step i (0-based over warm-up and timed steps) and returns its loss.
// on_timed(true / false) is called just before the first and just after the last timed step.
inline StepTimes time_steps(int warmup, int steps, const std::function<double(int)>& step,
                            const std::function<void(bool)>& on_timed = {}) {
  using clock = std::chrono::steady_clock;
  StepTimes t;
  t.losses.reserve(std::size_t(warmup + steps));
  t.seconds.reserve(std::size_t(steps));
  for (int i = 0; i < warmup; ++i) t.losses.push_back(step(i));
  if (on_timed) on_timed(true);
  const double cpu0 = cpu_seconds(), sgemm0 = sgemm_seconds();
  const auto wall0 = clock::now();
  for (int i = warmup; i < warmup + steps; ++i) {
    const auto s0 = clock::now();
    t.losses.push_back(step(i));
    t.seconds.push_back(std::chrono::duration<double>(clock::now() - s0).count());
  }
  t.wall = std::chrono::duration<double>(clock::now() - wall0).count();
  t.cpu = cpu_seconds() - cpu0;
  if (sgemm0 >= 0) t.sgemm = sgemm_seconds() - sgemm0;
  if (on_timed) on_timed(false);
  return t;
}

// One JSON line: the shared keys, then `extra` (already JSON: `"key": value, ...`, or empty).
inline void print_json(const std::string& framework, const std::string& model, int threads, int batch, int warmup,
                       const StepTimes& t, const std::string& extra) {
  const double steps = double(std::max<std::size_t>(1, t.seconds.size()));
  char sgemm[64] = "";
  if (t.sgemm >= 0) std::snprintf(sgemm, sizeof sgemm, ", \"sgemm_seconds_per_step\": %.6g", t.sgemm / steps);
  std::printf(
      "{\"framework\": \"%s\", \"model\": \"%s\", \"threads\": %d, \"batch\": %d, \"warmup\": %d, \"steps\": %zu, "
      "\"seconds_per_step\": %.6g, \"seconds_per_step_mean\": %.6g, \"cpu_seconds\": %.4f, "
      "\"cpu_seconds_per_step\": %.6g, \"peak_rss_mb\": %.1f, \"first_loss\": %.5f, \"last_loss\": %.5f%s%s%s}\n",
      framework.c_str(), model.c_str(), threads, batch, warmup, t.seconds.size(), median(t.seconds), t.wall / steps,
      t.cpu, t.cpu / steps, peak_rss_mb(), t.first_loss(), t.last_loss(), sgemm, extra.empty() ? "" : ", ",
      extra.c_str());
  std::fflush(stdout);
}

}  // namespace bench
