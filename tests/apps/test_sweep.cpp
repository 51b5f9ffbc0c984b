// The app's λ paths (apps/mnist_regularization/sweep.cpp): the runs a --sweep makes, its kinds
// read by the library's spec grammar.
#include <gtest/gtest.h>

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

}  // namespace
