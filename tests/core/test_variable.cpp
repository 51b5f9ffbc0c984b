// Variable: a handle whose copies alias one node; item(), grad(), set_requires_grad contracts.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::make_tensor;
using xtgrad_test::message_of;

TEST(Variable, CopiesAliasOneNodeSoAWriteThroughOneIsSeenThroughTheOther) {
  Variable a = Variable::parameter(make_tensor({3}, {1, 2, 3}), "w");
  Variable b = a;  // a copy of the handle, not of the value
  EXPECT_EQ(a.node().get(), b.node().get());

  b.mutable_value().data()[0] = 10;
  EXPECT_EQ(a.value().data()[0], 10);

  a.set_name("renamed");
  EXPECT_EQ(b.name(), "renamed");

  b.set_requires_grad(false);
  EXPECT_FALSE(a.requires_grad());
  a.set_requires_grad(true);

  // A gradient computed through one handle is visible through the other.
  sum(b * 2.0).backward();
  ASSERT_TRUE(a.has_grad());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(a.grad().data()[i], 2);

  a.zero_grad();
  EXPECT_FALSE(b.has_grad());
}

TEST(Variable, CopyAssignmentAliasesToo) {
  Variable a(make_tensor({2}, {1, 2}));
  Variable b(make_tensor({2}, {5, 6}));
  b = a;
  b.mutable_value().data()[1] = -7;
  EXPECT_EQ(a.value().data()[1], -7);
}

TEST(Variable, ShapeSizeAndDimDescribeTheValue) {
  Variable v(Tensor::from_shape({2, 3, 4}));
  EXPECT_EQ(v.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(v.size(), 24u);
  EXPECT_EQ(v.dim(), 3u);
  Variable s = Variable::scalar(1.5);
  EXPECT_EQ(s.dim(), 0u);
  EXPECT_EQ(s.size(), 1u);
}

TEST(Variable, ItemReturnsTheSingleElementOfOneElementValues) {
  EXPECT_EQ(Variable::scalar(3.5).item(), 3.5);
  EXPECT_EQ(Variable(make_tensor({1, 1}, {-2.25})).item(), -2.25);
  EXPECT_EQ(Variable(make_tensor({1}, {4})).item(), 4);
}

TEST(Variable, ItemOnSeveralElementsThrowsInvalidArgumentNamingTheShape) {
  Variable v(Tensor::from_shape({2, 3}));
  const std::string msg = message_of<std::invalid_argument>([&] { (void)v.item(); });
  EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("item"), std::string::npos) << msg;
}

TEST(Variable, GradBeforeBackwardThrowsLogicError) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}), "fc1.weight");
  EXPECT_FALSE(w.has_grad());
  const std::string msg = message_of<std::logic_error>([&] { (void)w.grad(); });
  EXPECT_NE(msg.find("fc1.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 2)"), std::string::npos) << msg;
  EXPECT_THROW((void)w.mutable_grad(), std::logic_error);
}

TEST(Variable, ZeroGradForgetsTheGradient) {
  Variable w = Variable::parameter(make_tensor({2}, {1, 2}));
  sum(w).backward();
  ASSERT_TRUE(w.has_grad());
  w.zero_grad();
  EXPECT_FALSE(w.has_grad());
  EXPECT_THROW((void)w.grad(), std::logic_error);
}

TEST(Variable, SetRequiresGradWorksOnLeaves) {
  Variable c(make_tensor({2}, {1, 2}));
  EXPECT_FALSE(c.requires_grad());
  c.set_requires_grad(true);
  EXPECT_TRUE(c.requires_grad());
  EXPECT_TRUE((c * 3.0).requires_grad());
  c.set_requires_grad(false);
  EXPECT_FALSE((c * 3.0).requires_grad());
}

TEST(Variable, SetRequiresGradOnAnOpResultThrowsLogicErrorNamingTheOp) {
  Variable w = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable y = exp(w);
  const std::string msg = message_of<std::logic_error>([&] { y.set_requires_grad(false); });
  EXPECT_NE(msg.find("exp"), std::string::npos) << msg;
  EXPECT_TRUE(y.requires_grad());

  // Still refused after backward released the graph: y was made by an op.
  sum(y).backward();
  Variable z = exp(w);
  Variable loss = sum(z);
  loss.backward();
  EXPECT_THROW(z.set_requires_grad(true), std::logic_error);

  // A detached copy is a leaf again.
  Variable d = y.detach();
  EXPECT_NO_THROW(d.set_requires_grad(true));
  EXPECT_TRUE(d.requires_grad());
}

TEST(Variable, ParameterIsALeafThatRequiresGradAndCarriesItsName) {
  Variable p = Variable::parameter(make_tensor({1}, {0}), "fc2.bias");
  EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(p.name(), "fc2.bias");
  EXPECT_STREQ(p.op(), "leaf");
  EXPECT_TRUE(p.node()->is_leaf());
}

TEST(Variable, ConstantsDoNotRequireGrad) {
  Variable c(make_tensor({2}, {1, 2}));
  EXPECT_FALSE(c.requires_grad());
  EXPECT_FALSE(Variable::scalar(2).requires_grad());
  EXPECT_FALSE((c * c).requires_grad());
}

TEST(Variable, DetachCopiesTheValueAndSharesNoHistory) {
  Variable w = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable y = w * 2.0;
  Variable d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.node()->parents.empty());
  EXPECT_NE(d.node().get(), y.node().get());
  EXPECT_EQ(d.value().data()[1], 4);
  d.mutable_value().data()[1] = 100;  // a copy: y is untouched
  EXPECT_EQ(y.value().data()[1], 4);
}

TEST(Variable, EmptyHandleThrowsLogicError) {
  Variable v;
  EXPECT_FALSE(v.defined());
  EXPECT_THROW((void)v.value(), std::logic_error);
  EXPECT_THROW((void)v.item(), std::logic_error);
  EXPECT_THROW((void)v.grad(), std::logic_error);
  EXPECT_THROW(v.backward(), std::logic_error);
  EXPECT_THROW((void)v.shape(), std::logic_error);
}

TEST(Variable, OpOnAnEmptyHandleThrowsInvalidArgumentNamingTheOp) {
  Variable empty;
  Variable w = Variable::parameter(make_tensor({1}, {1}));
  const std::string msg = message_of<std::invalid_argument>([&] {
    (void)make_result("custom_op", Tensor(make_tensor({1}, {0})), {w, empty}, [](Node&) {});
  });
  EXPECT_NE(msg.find("custom_op"), std::string::npos) << msg;
}

}  // namespace
}  // namespace xtgrad_test
