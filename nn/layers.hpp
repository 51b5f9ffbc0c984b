// Layers: Linear, activation modules and Sequential.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

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

// log_softmax along `axis` (default last), as a module.
class LogSoftmax : public Module {
 public:
  // Along `axis` (negative counts from the end).
  explicit LogSoftmax(int axis = -1) : axis_(axis) {}
  Variable forward(const Variable& x) override;

 private:
  int axis_;
};

// (n, d₁, d₂, ...) → (n, d₁·d₂·...): the bridge from convolutional to dense layers.
class Flatten : public Module {
 public:
  Variable forward(const Variable& x) override;

 private:
  Shape shape_;  // reused, so a training step allocates no shape
};

// Children applied in order. add(m) names a child by its position ("0", "1", ...),
// add(name, m) by `name`; named_parameters() uses those names ("0.weight", "fc.bias").
// The stored child is reachable by index or name (at, get), and a copy taken before add()
// shares its parameters and mode with it.
class Sequential : public Module {
 public:
  Sequential() = default;
  // Appends `module` as the next layer, named by its position; chainable.
  template <class M>
  Sequential& add(M module) {
    return add(std::to_string(layers_.size()), std::move(module));
  }
  // Appends `module` as the next layer under `name` (no '.', not taken); chainable.
  template <class M>
  Sequential& add(const std::string& name, M module) {
    auto shared = std::make_shared<M>(std::move(module));
    register_shared_module(name, shared);
    layers_.push_back(std::move(shared));
    names_.push_back(name);
    return *this;
  }
  Variable forward(const Variable& x) override;
  // Number of layers.
  std::size_t size() const { return layers_.size(); }
  // The stored layer at `index`; std::out_of_range naming the index and size otherwise.
  Module& operator[](std::size_t index) const;
  // The stored layer named `name`; std::invalid_argument listing the names otherwise.
  Module& operator[](const std::string& name) const;
  // The stored layer at `index` as an M; std::invalid_argument if it is another type.
  template <class M>
  M& at(std::size_t index) const {
    return cast<M>((*this)[index], std::to_string(index));
  }
  // The stored layer named `name` as an M; std::invalid_argument if it is another type.
  template <class M>
  M& get(const std::string& name) const {
    return cast<M>((*this)[name], "'" + name + "'");
  }
  // Layer names in order.
  const std::vector<std::string>& names() const { return names_; }

 private:
  template <class M>
  static M& cast(Module& m, const std::string& which) {
    if (auto* p = dynamic_cast<M*>(&m)) return *p;
    throw_wrong_type(which, m);
  }
  [[noreturn]] static void throw_wrong_type(const std::string& which, const Module& m);
  std::vector<std::shared_ptr<Module>> layers_;
  std::vector<std::string> names_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
