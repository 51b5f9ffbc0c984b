// The app's λ paths (apps/mnist_regularization/sweep.cpp): the runs a --sweep makes, its kinds
// read by the library's spec grammar.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sweep.hpp"
#include "test_util.hpp"

namespace {

TEST(SweepPoints, TheReferenceThenEachKindAtEachLambda) {
  const auto points = mnist_app::sweep_points({"l2", " l1( mode=prox,start=5 ) "}, {1e-4, 0.01});
  ASSERT_EQ(points.size(), 5u);
  EXPECT_EQ(points[0].kind, "none");
  EXPECT_EQ(points[0].spec, "none");
  EXPECT_EQ(points[1].spec, "l2(lambd=1e-4)");
  EXPECT_EQ(points[2].spec, "l2(lambd=0.01)");
  EXPECT_EQ(points[3].kind, "l1( mode=prox,start=5 )");
  EXPECT_EQ(points[3].lambda, 1e-4);
  EXPECT_EQ(points[3].spec, "l1(lambd=1e-4, mode=prox,start=5)");  // the keys as written
  EXPECT_EQ(mnist_app::sweep_points({"l1()"}, {1})[1].spec, "l1(lambd=1)");
  // every spec is one the app's parser takes
  for (const auto& p : points) EXPECT_NO_THROW(mnist_app::parse_methods(p.spec)) << p.spec;
}

TEST(SweepPoints, GroupLassoWithItsKeys) {
  const auto points = mnist_app::sweep_points({"group_lasso(mode=prox)", "group_lasso(groups=inputs, layers=all)"}, {1e-3});
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[1].spec, "group_lasso(lambd=0.001, mode=prox)");
  EXPECT_EQ(points[2].spec, "group_lasso(lambd=0.001, groups=inputs, layers=all)");
  for (const auto& p : points) EXPECT_NO_THROW(mnist_app::parse_methods(p.spec)) << p.spec;
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [] { mnist_app::sweep_points({"group_lasso(groups=rows)"}, {1e-3}); },
      {"--sweep", "value 'rows' for key 'groups' is not units or inputs"});
  xtgrad_test::expect_throws_with<std::invalid_argument>([] { mnist_app::sweep_points({"group_lasso(lambd=1)"}, {1e-3}); },
                                                         {"--sweep", "unknown key 'lambd' for group_lasso"});
}

TEST(SweepPoints, RefusesKindsAndLambdasItCannotRun) {
  using xtgrad_test::expect_throws_with;
  const auto refuses = [](const std::string& kind, std::initializer_list<const char*> words) {
    expect_throws_with<std::invalid_argument>([&] { mnist_app::sweep_points({kind}, {1e-3}); }, words);
  };
  refuses("l3", {"--sweep", "\"l3\"", "unknown regularizer 'l3'; expected l1, l2 or group_lasso"});
  refuses("l1_l2(l2=1)", {"--sweep", "unknown regularizer 'l1_l2'"});
  refuses("", {"--sweep", "empty"});
  refuses("l1(lambd=1)", {"--sweep", "unknown key 'lambd' for l1"});
  refuses("l2(mode=prox)", {"--sweep", "unknown key 'mode' for l2"});
  refuses("l1(mode=fast)", {"--sweep", "value 'fast' for key 'mode' is not subgradient or prox"});
  refuses("l1(start=0)", {"--sweep", "not an epoch number"});
  refuses("l1(mode=prox", {"--sweep", "missing ')'"});
  expect_throws_with<std::invalid_argument>([] { mnist_app::sweep_points({"l1"}, {}); }, {"--lambdas", "empty"});
  expect_throws_with<std::invalid_argument>([] { mnist_app::sweep_points({"l1"}, {1e-3, 0}); },
                                            {"--lambdas", "finite number > 0"});
}

// --sweep with --seeds: the runs come seed-major; each row keeps its seed, and the plots' means
// group the rows by point with the accuracy's t-interval.
TEST(SweepRows, SeedsRepeatThePointsAndTheMeansGroupThem) {
  const auto points = mnist_app::sweep_points({"l1"}, {1e-3});
  std::vector<mnist_app::RunResult> runs(6);
  const double accuracy[6] = {0.90, 0.80, 0.91, 0.82, 0.92, 0.84};  // seeds 7, 8, 9 × (none, l1)
  for (std::size_t k = 0; k < 6; ++k) {
    runs[k].seed = 7 + k / 2;
    runs[k].test_accuracy = accuracy[k];
    xtgrad::SparsityRow w;
    w.count = 100;
    w.zeros = k % 2 ? 10 * (k / 2 + 1) : 0;
    w.is_matrix = true;
    w.rows = 20;
    w.cols = 5;
    w.zero_cols = k % 2;
    runs[k].sparsity = {w};
  }
  const auto rows = mnist_app::sweep_rows(points, runs);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[3].kind, "l1");
  EXPECT_EQ(rows[3].seed, 8u);
  EXPECT_EQ(rows[3].inputs, 5u);  // the columns of a Linear weight (out, in)
  EXPECT_EQ(rows[3].dead_inputs, 1u);
  const auto means = mnist_app::sweep_means(rows);
  ASSERT_EQ(means.size(), 2u);
  EXPECT_EQ(means[1].kind, "l1");
  EXPECT_EQ(means[1].seeds, 3u);
  EXPECT_NEAR(means[1].test_accuracy, 0.82, 1e-12);
  // t(0.975, 2) = 4.3027; the sample standard deviation of (0.80, 0.82, 0.84) is 0.02
  EXPECT_NEAR(means[1].test_accuracy_half_width, 4.302653 * 0.02 / std::sqrt(3.0), 1e-5);
  EXPECT_NEAR(means[1].exact_zero_percent, 20.0, 1e-12);
  EXPECT_EQ(means[0].kind, "none");
  EXPECT_NEAR(means[0].test_accuracy, 0.91, 1e-12);
  // one seed: the run itself, no interval
  const auto one = mnist_app::sweep_means(mnist_app::sweep_rows(points, {runs[0], runs[1]}));
  EXPECT_EQ(one[1].seeds, 1u);
  EXPECT_EQ(one[1].test_accuracy, 0.80);
  EXPECT_EQ(one[1].test_accuracy_half_width, 0.0);
  // the table compares each run with the none run of its own seed
  std::ostringstream table;
  mnist_app::print_sweep_table(table, rows);
  EXPECT_NE(table.str().find("seed"), std::string::npos);
  EXPECT_NE(table.str().find("-0.0900"), std::string::npos) << table.str();  // seed 8: 0.82 − 0.91
  EXPECT_EQ(table.str().find("-0.0600"), std::string::npos) << table.str();  // not 0.84 − seed 7's 0.90
  EXPECT_EQ(table.str().find("+0.0100"), std::string::npos) << table.str();  // each none against itself
}

}  // namespace
