// The factories of core/tensor.hpp (zeros, ones, full, empty, arange, tensor({...})) and rows()
// of a Tensor, called as a user does: the umbrella header, `using namespace xtgrad;`, float by
// default, no xtensor include (issue 22 §3.2).
#include <gtest/gtest.h>

#include <xtgrad/xtgrad.hpp>

#include <stdexcept>
#include <type_traits>
#include <vector>

using namespace xtgrad;

namespace {

void expect_values(const Tensor& t, const Shape& shape, const std::vector<float>& values) {
  ASSERT_EQ(shape_of(t), shape);
  ASSERT_EQ(t.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(t.data()[i], values[i]) << "at " << i;
}

TEST(MakingTensors, FactoriesInXtgradTerms) {
  expect_values(zeros({2, 3}), {2, 3}, std::vector<float>(6, 0));
  expect_values(ones(2, 2), {2, 2}, {1, 1, 1, 1});
  const int n = 2;
  const std::size_t m = 3;
  EXPECT_EQ(shape_of(empty(n, m)), (Shape{2, 3}));  // mixed integer types, as torch.empty(n, m)
  expect_values(full({2}, 0.5), {2}, {0.5f, 0.5f});
  expect_values(arange(4), {4}, {0, 1, 2, 3});
  expect_values(arange(1, 2, 0.25), {4}, {1, 1.25f, 1.5f, 1.75f});
  expect_values(arange(3, 0, -1), {3}, {3, 2, 1});
  expect_values(tensor(2.5), {}, {2.5f});
  expect_values(tensor({{1, 2}, {3, 4}}), {2, 2}, {1, 2, 3, 4});
  expect_values(tensor({{{1}, {2}}, {{3}, {4}}}), {2, 2, 1}, {1, 2, 3, 4});
  expect_values(tensor({{{{1, 2}}}}), {1, 1, 1, 2}, {1, 2});
  expect_values(tensor({{1}, {2}}), {2, 1}, {1, 2});  // every level of braces is an axis
  expect_values(tensor({1}), {1}, {1});
  expect_values(tensor({{{{{{7}}}}}}), {1, 1, 1, 1, 1, 1}, {7});
  const int k = 3;
  const double half = 0.5;
  expect_values(tensor({k, half}), {2}, {3, 0.5f});  // numbers of any type, no narrowing error
  EXPECT_EQ(shape_of(tensor({})), (Shape{0}));
  EXPECT_THROW(tensor({{1, 2}, {3}}), std::invalid_argument);  // ragged
  EXPECT_THROW(tensor({{1, 2}, 3}), std::invalid_argument);
  const TensorOf<double> d = tensor<double>({0.1, 0.2});
  EXPECT_EQ(d(1), 0.2);  // exactly the double 0.2: T is double, not float converted
  static_assert(std::is_same_v<decltype(zeros({1})), Tensor>);
  static_assert(std::is_same_v<decltype(zeros<double>(1, 2)), TensorOf<double>>);
  static_assert(std::is_same_v<decltype(tensor({1.0, 2.0})), Tensor>);  // float unless asked
  EXPECT_THROW(zeros(2, -1), std::invalid_argument);
  EXPECT_THROW(arange(0, 1, 0), std::invalid_argument);
  // A Variable from a factory: torch.zeros(2, 3, requires_grad=True)
  Variable w(zeros({2, 3}), /*requires_grad=*/true);
  sum(w * 2.0).backward();
  expect_values(w.grad(), {2, 3}, std::vector<float>(6, 2));
}

TEST(MakingTensors, RowsOfATensor) {
  const Tensor t = arange(12);
  Tensor m = t;
  m.reshape({4, 3});
  expect_values(rows(m, 1, 3), {2, 3}, {3, 4, 5, 6, 7, 8});
  expect_values(rows(m, -1, 100), {1, 3}, {9, 10, 11});
  EXPECT_EQ(shape_of(rows(m, 3, 1)), (Shape{0, 3}));
  expect_values(rows(t, 10, 12), {2}, {10, 11});
  EXPECT_THROW(rows(tensor(1.0), 0, 1), std::invalid_argument);
}

}  // namespace
