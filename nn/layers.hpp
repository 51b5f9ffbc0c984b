// Layers: Linear, activation modules and Sequential.
#pragma once

#include <functional>
#include <memory>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// Draws a weight tensor of the given (in, out) shape.
using WeightInit = std::function<Tensor(const Shape&, Rng&)>;

// y = x·W + b for x (n, in), W (in, out) as in the seed, b (out) initialised to zero.
class Linear : public Module {
 public:
  // W drawn by `init` (default: glorot_uniform) from `rng`.
  Linear(std::size_t in_features, std::size_t out_features, Rng& rng, const WeightInit& init = {});
  Variable forward(const Variable& x) override;
  Variable weight, bias;  // W (in, out) and b (out), registered as "weight" and "bias"
};

// y = σ(x) = 1 / (1 + e⁻ˣ), elementwise: sigmoid() as a module.
class Sigmoid : public Module {
 public:
  Variable forward(const Variable& x) override;
};
// y = tanh x, elementwise: tanh() as a module.
class Tanh : public Module {
 public:
  Variable forward(const Variable& x) override;
};
// y = max(x, 0), elementwise: relu() as a module.
class ReLU : public Module {
 public:
  Variable forward(const Variable& x) override;
};
// y = slope·x + intercept (the seed's output "activation" is Affine(1, 0)).
class Affine : public Module {
 public:
  // y = slope·x + intercept.
  Affine(double slope = 1.0, double intercept = 0.0) : slope_(slope), intercept_(intercept) {}
  Variable forward(const Variable& x) override;

 private:
  double slope_, intercept_;
};
// Softmax along `axis` (default last). For training, prefer cross_entropy on logits.
class Softmax : public Module {
 public:
  // Along `axis` (negative counts from the end).
  explicit Softmax(int axis = -1) : axis_(axis) {}
  Variable forward(const Variable& x) override;

 private:
  int axis_;
};

// Children applied in order; named "0", "1", ... in named_parameters().
class Sequential : public Module {
 public:
  Sequential() = default;
  template <class M>
  // Appends `module` as the next layer (its parameters are shared, not copied); chainable.
  Sequential& add(M module) {
    auto shared = std::make_shared<M>(std::move(module));
    register_shared_module(std::to_string(layers_.size()), shared);
    layers_.push_back(std::move(shared));
    return *this;
  }
  Variable forward(const Variable& x) override;
  // Number of layers.
  std::size_t size() const { return layers_.size(); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
