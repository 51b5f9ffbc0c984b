// The shared shape checks: broadcast shapes, exact-shape and rank checks, axis normalization,
// each error naming the op and the shapes.
#include <stdexcept>

#include "xtgrad/ops/shape_checks.hpp"

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using xtgrad::broadcast_shape;
using xtgrad::check_rank;
using xtgrad::check_same_shape;
using xtgrad::normalize_axis;

// Contents are irrelevant here: only shapes are checked.
Tensor of_shape(const Shape& shape) { return Tensor::from_shape(shape); }

TEST(BroadcastShape, FollowsNumpyRules) {
  EXPECT_EQ(broadcast_shape("op", of_shape({2, 3}), of_shape({2, 3})), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shape("op", of_shape({64, 200}), of_shape({200})), (Shape{64, 200}));
  EXPECT_EQ(broadcast_shape("op", of_shape({200}), of_shape({64, 200})), (Shape{64, 200}));
  EXPECT_EQ(broadcast_shape("op", of_shape({6, 5}), of_shape({1, 5})), (Shape{6, 5}));
  EXPECT_EQ(broadcast_shape("op", of_shape({4, 1}), of_shape({1, 5})), (Shape{4, 5}));
  EXPECT_EQ(broadcast_shape("op", of_shape({2, 1, 3}), of_shape({4, 1})), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shape("op", of_shape({}), of_shape({2, 3})), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shape("op", of_shape({}), of_shape({})), (Shape{}));
}

TEST(BroadcastShape, MismatchNamesTheOpAndBothShapes) {
  expect_throws_with<std::invalid_argument>([] { broadcast_shape("add", of_shape({2, 3}), of_shape({3, 2})); },
                                            {"add", "(2, 3)", "(3, 2)", "do not broadcast"});
  expect_throws_with<std::invalid_argument>([] { broadcast_shape("mul", of_shape({2, 3}), of_shape({2})); },
                                            {"mul", "(2, 3)", "(2)"});
  expect_throws_with<std::invalid_argument>([] { broadcast_shape("div", of_shape({4, 2, 3}), of_shape({5, 1, 3})); },
                                            {"div", "(4, 2, 3)", "(5, 1, 3)"});
}

TEST(CheckSameShape, AcceptsEqualShapesAndNamesBothOperandsOtherwise) {
  EXPECT_NO_THROW(check_same_shape("mse", of_shape({2, 3}), of_shape({2, 3})));
  expect_throws_with<std::invalid_argument>(
      [] { check_same_shape("mse", of_shape({2, 3}), of_shape({3, 2}), "prediction", "target"); },
      {"mse", "prediction (2, 3)", "target (3, 2)"});
  // same element count, different rank: still a mismatch
  expect_throws_with<std::invalid_argument>([] { check_same_shape("op", of_shape({6}), of_shape({1, 6})); },
                                            {"op", "lhs (6)", "rhs (1, 6)"});
}

TEST(CheckRank, NamesTheOpTheRankAndTheShape) {
  EXPECT_NO_THROW(check_rank("linear", of_shape({2, 3}), 2));
  expect_throws_with<std::invalid_argument>([] { check_rank("linear", of_shape({2, 3, 4}), 2, "weight"); },
                                            {"linear", "2-d", "weight", "(2, 3, 4)"});
}

TEST(NormalizeAxis, MapsNegativeAxesFromTheEnd) {
  const Tensor x = of_shape({2, 3, 4});
  EXPECT_EQ(normalize_axis("sum", x, 0), 0u);
  EXPECT_EQ(normalize_axis("sum", x, 2), 2u);
  EXPECT_EQ(normalize_axis("sum", x, -1), 2u);
  EXPECT_EQ(normalize_axis("sum", x, -3), 0u);
}

TEST(NormalizeAxis, OutOfRangeNamesTheOpAxisAndShape) {
  const Tensor x = of_shape({2, 3});
  expect_throws_with<std::invalid_argument>([&] { normalize_axis("sum", x, 2); }, {"sum", "axis 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { normalize_axis("mean", x, -3); }, {"mean", "axis -3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([] { normalize_axis("softmax", of_shape({}), 0); },
                                            {"softmax", "axis 0", "()"});
}

}  // namespace
}  // namespace xtgrad_test
