// Precision is a property of the types: this target links only the float library
// (xtgrad::xtgrad, Variable = BasicVariable<float>) and still builds, differentiates and
// gradchecks double-precision graphs.
#include <xtgrad/xtgrad.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <type_traits>
#include <vector>

namespace {

using namespace xtgrad;

static_assert(std::is_same_v<Variable, BasicVariable<float>>, "the float library's default is float");
static_assert(std::is_same_v<decltype(sigmoid(std::declval<BasicVariable<double>>())), BasicVariable<double>>);
static_assert(std::is_same_v<decltype(std::declval<BasicVariable<double>>() * 2.0), BasicVariable<double>>);
static_assert(std::is_same_v<decltype(sum(std::declval<Variable>())), Variable>);

// A formula written once for both precisions.
template <class T>
BasicVariable<T> model(const BasicVariable<T>& w, const TensorOf<T>& x) {
  return mean(square(tanh(matmul(BasicVariable<T>(x), w))));
}

TEST(MixedPrecision, TheSameFormulaRunsInFloatAndDouble) {
  const TensorOf<double> x64{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}};
  const TensorOf<double> w64{{0.3, -0.2}, {0.1, 0.4}, {-0.5, 0.2}};
  BasicVariable<double> w_d = BasicVariable<double>::parameter(w64);
  Variable w_f = Variable::parameter(xt::cast<float>(w64));
  const BasicVariable<double> y_d = model(w_d, x64);
  const Variable y_f = model(w_f, Tensor(xt::cast<float>(x64)));
  y_d.backward();
  y_f.backward();
  EXPECT_NEAR(y_f.item(), y_d.item(), 1e-6);
  for (std::size_t i = 0; i < w64.size(); ++i) EXPECT_NEAR(w_f.grad().data()[i], w_d.grad().data()[i], 1e-6);
  // and grad() / create_graph in double from a float target
  const BasicVariable<double> g = grad({model(w_d, x64)}, {w_d}, {.create_graph = true})[0];
  const BasicVariable<double> h = grad({sum(g)}, {w_d})[0];
  EXPECT_EQ(h.shape(), (Shape{3, 2}));
}

TEST(MixedPrecision, GradcheckRunsInDoubleFromTheFloatLibrary) {
  const TensorOf<double> x64{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}};
  const std::vector<Tensor> w_f{Tensor{{0.3f, -0.2f}, {0.1f, 0.4f}, {-0.5f, 0.2f}}};  // float inputs, widened
  const GradcheckReport r = gradcheck([&](const auto& v) { return model(v[0], x64); }, w_f);
  EXPECT_TRUE(r.ok) << r.message;
  const GradcheckReport rr = gradgradcheck([&](const auto& v) { return model(v[0], x64); }, w_f);
  EXPECT_TRUE(rr.ok) << rr.message;
}

// A gradient that is wrong on purpose fails the check: w ⊙ detach(w) has the value of w² but
// backward gives w instead of 2w. The double check is real, not the float one in disguise.
TEST(MixedPrecision, GradcheckFailsOnAWrongGradientInDouble) {
  const std::vector<Tensor> w_f{Tensor{0.5f, -1.5f, 2.0f}};
  const GradcheckReport r = gradcheck([](const auto& v) { return sum(v[0] * v[0].detach()); }, w_f);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("input 0"), std::string::npos) << r.message;
}

}  // namespace
