// Memory stays flat over 10,000 training steps of a small MLP: every step's graph is freed.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"
#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

// Resident set size of this process in KiB, from the VmRSS line of /proc/self/status.
long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      long kib = -1;
      fields >> kib;
      return kib;
    }
  }
  return -1;
}

TEST(Memory, FlatOverTenThousandTrainingSteps) {
  Rng rng(31);
  const Variable x(randn<Scalar>({32, 20}, rng));  // constant batch
  std::vector<std::size_t> labels(32);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = i % 4;
  std::vector<Variable> params{
      Variable::parameter(randn<Scalar>({16, 20}, rng, 0.0, 0.3), "fc1.weight"),
      Variable::parameter(randn<Scalar>({16}, rng, 0.0, 0.01), "fc1.bias"),
      Variable::parameter(randn<Scalar>({4, 16}, rng, 0.0, 0.3), "fc2.weight"),
      Variable::parameter(randn<Scalar>({4}, rng, 0.0, 0.01), "fc2.bias"),
  };
  const double lr = 0.1;
  const int steps = 10000, warmup = 1000;

  const auto start = std::chrono::steady_clock::now();
  long rss_warm = -1, rss_end = -1;
  double first_loss = 0, last_loss = 0;
  std::weak_ptr<Node> last_graph;
  for (int step = 1; step <= steps; ++step) {
    Variable logits = linear(sigmoid(linear(x, params[0], params[1])), params[2], params[3]);
    Variable loss = cross_entropy(logits, labels);
    loss.backward();
    {
      NoGrad no_grad;  // p ← p − lr·∇p, recording nothing
      for (Variable& p : params) p.mutable_value() = (p - Variable(p.grad()) * lr).value();
    }
    for (Variable& p : params) p.zero_grad();
    if (step == 1) first_loss = loss.item();
    if (step == steps) {
      last_loss = loss.item();
      last_graph = logits.node();
    }
    if (step == warmup) rss_warm = resident_kib();
    if (step == steps) rss_end = resident_kib();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "[memory] VmRSS after step " << warmup << ": " << rss_warm << " KiB; after step " << steps
            << ": " << rss_end << " KiB; growth " << (rss_end - rss_warm) << " KiB; " << seconds << " s; loss "
            << first_loss << " -> " << last_loss << std::endl;

  ASSERT_GT(rss_warm, 0) << "no VmRSS in /proc/self/status";
#ifdef __SANITIZE_ADDRESS__
  // ASan's quarantine keeps freed blocks resident (≈ 256 MB): RSS says nothing here, and
  // LeakSanitizer checks for leaks at exit instead.
  std::cout << "[memory] AddressSanitizer build: RSS bound not checked" << std::endl;
#else
  EXPECT_LT(rss_end - rss_warm, 5 * 1024) << "RSS grew by more than 5 MB";
#endif
  EXPECT_TRUE(last_graph.expired());  // the last step's graph is gone too
  for (const Variable& p : params) {
    EXPECT_EQ(p.node().use_count(), 1) << p.name();  // no graph still holds a parameter
    EXPECT_TRUE(p.node()->is_leaf()) << p.name();
  }
  EXPECT_LT(last_loss, first_loss);  // it did train
}

}  // namespace
}  // namespace xtgrad_test
