// custom_op: a differentiable op defined outside the library, with its own backward, written
// once as a template over the scalar: it is checked against central differences in double by
// xtgrad::gradcheck, then trains a float parameter, in the same program.
//
// An op is a free function: check the input, compute the forward value, and hand make_result
// a backward closure that reads the output's gradient (self.grad, complete when called) and
// adds each input's share with self.add_to_parent(i, ...). The closure captures evaluated
// tensors or plain values by value, never the Variables (that would keep the graph alive).
// Buffers from empty_tensor and tensors kept as SavedTensor are recycled from one training
// step to the next instead of allocated again (core/buffer_cache.hpp).
#include <xtgrad/xtgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace xtgrad;

// my_softplus(x) = log(1 + eˣ) (the library has its own, xtgrad::softplus), elementwise, any
// shape; computed as max(x, 0) + log1p(e^(−|x|)) so that it never overflows. Its derivative is
// the logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
template <class Scalar>
BasicVariable<Scalar> my_softplus(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  const Tensor& v = x.value();
  Tensor y = empty_like(v);
  Tensor slope = empty_like(v);  // σ(x), kept for the backward pass
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Scalar xi = v.data()[i];
    const Scalar e = std::exp(-std::abs(xi));  // in (0, 1]
    y.data()[i] = std::max(xi, Scalar(0)) + std::log1p(e);
    slope.data()[i] = xi >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return make_result("softplus", std::move(y), {x}, [slope = SavedTensor(std::move(slope))](BasicNode<Scalar>& self) {
    // dx = g ⊙ σ(x) : same shape as x
    Tensor dx = empty_like(self.grad);
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data()[i] = self.grad.data()[i] * slope.get().data()[i];
    self.add_to_parent(0, std::move(dx));
  });
}

// The same op with a deliberate bug in its backward (it forgets the σ(x) factor): gradcheck
// must reject it, which shows the check has teeth.
template <class Scalar>
BasicVariable<Scalar> softplus_wrong_backward(const BasicVariable<Scalar>& x) {
  const BasicVariable<Scalar> right = my_softplus(x);
  return make_result("softplus_wrong", right.value(), {x}, [](BasicNode<Scalar>& self) {
    self.add_to_parent(0, TensorOf<Scalar>(self.grad));
  });
}

int main() {
  int failures = 0;
  auto expect = [&failures](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
  };

  // Values: my_softplus(0) = log 2; large inputs neither overflow nor lose the linear part.
  const BasicVariable<double> probe(TensorOf<double>{0.0, -800.0, 800.0});
  const TensorOf<double> sp = my_softplus(probe).value();
  expect(std::abs(sp(0) - std::log(2.0)) < 1e-12, "my_softplus(0) = log 2");
  expect(sp(1) >= 0 && sp(1) < 1e-300 && std::abs(sp(2) - 800.0) < 1e-12,
         "my_softplus(−800) ≈ 0 and my_softplus(800) = 800 without overflow");

  // Gradient check, in double: every element of a (3, 4) input, inside a small expression
  // (softplus of a broadcast sum, then a product), so the op is tested as part of a graph.
  using Inputs = std::vector<BasicVariable<double>>;
  Rng rng(0);
  const std::vector<TensorOf<double>> inputs = {randn<double>({3, 4}, rng, 0.0, 2.0), randn<double>({4}, rng)};
  const GradcheckReport good =
      gradcheck([](const Inputs& in) { return my_softplus(in[0] + in[1]) * in[0]; }, inputs);
  expect(good.ok, "gradcheck passes for softplus");
  if (!good.ok) std::printf("      %s\n", good.message.c_str());

  const GradcheckReport bad =
      gradcheck([](const Inputs& in) { return softplus_wrong_backward(in[0] + in[1]) * in[0]; }, inputs);
  expect(!bad.ok, "gradcheck rejects a wrong backward");
  std::printf("      it says: %s\n", bad.message.c_str());

  // The same op, in float, trains like any built-in one: fit w so that my_softplus(w) matches
  // a target (Variable, Tensor and nn::SGD are the float defaults).
  Variable w = Variable::parameter(Tensor{-1.0, 0.0, 1.0}, "w");
  const Variable target(Tensor{0.5, 1.5, 3.0});
  nn::SGD optimizer({{"w", w}}, /*lr=*/0.5);
  for (int step = 0; step < 200; ++step) {
    Variable loss = mse(my_softplus(w), target);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  const double final_loss = mse(my_softplus(w), target).item();
  std::printf("      fitted my_softplus(w) = (%.4f, %.4f, %.4f), loss %.2e\n", my_softplus(w).value()(0),
              my_softplus(w).value()(1), my_softplus(w).value()(2), final_loss);
  expect(final_loss < 1e-8, "gradient descent through softplus reaches its target (float)");

  return failures == 0 ? 0 : 1;
}
