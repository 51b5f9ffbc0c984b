#include <xtgrad/xtgrad.hpp>

#include <vector>
using namespace xtgrad;

struct TwoLayerNet : nn::Module {
  nn::Linear fc1, fc2;
  explicit TwoLayerNet(Rng& rng)
      : fc1(register_module("fc1", nn::Linear(784, 200, rng))),
        fc2(register_module("fc2", nn::Linear(200, 10, rng))) {}
  Variable forward(const Variable& x) override { return fc2(sigmoid(fc1(x))); }
};

int main() {
  Rng rng(0);
  TwoLayerNet model(rng);
  nn::SGD optimizer(model.named_parameters(), /*lr=*/0.1);
  L2 l2(/*lambd=*/0.01);                         // ½·λ·Σw² over fc1.weight and fc2.weight only

  Variable x(randn({64, 784}, rng));             // a batch: a constant, never gets a gradient
  std::vector<std::size_t> labels(64, 3);        // class indices (or one-hot rows as a Variable)
  // one training step: the penalty is a node of the same graph as the data loss
  Variable loss = cross_entropy(model(x), labels) + l2(model.named_parameters());
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
}
