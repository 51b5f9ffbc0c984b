// Layers: Linear, activation modules and Sequential, each a class template over the scalar
// type T (BasicLinear<T>, ...) with the float alias under the plain name (Linear, ...).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// Draws a weight tensor of the given shape ((out, in) for a Linear weight).
template <class T>
using WeightInitOf = std::function<TensorOf<T>(const Shape&, Rng&)>;
using WeightInit = WeightInitOf<float>;

// How nn::Linear draws its parameters.
enum class LinearInit {
  glorot,   // W ~ U(±√(6/(in+out))), b = 0: the default (the seed's network; Keras's Dense)
  pytorch,  // W and b ~ U(±1/√in): torch.nn.Linear's (kaiming_uniform with a = √5)
};

// nn::Linear's options, chainable: LinearOptions().bias(false).init(LinearInit::pytorch).
class LinearOptions {
 public:
  // Whether the layer adds a learned bias b (default true).
  LinearOptions& bias(bool on) { bias_ = on; return *this; }
  bool bias() const { return bias_; }
  // How W (and b) are drawn (default LinearInit::glorot).
  LinearOptions& init(LinearInit how) { init_ = how; return *this; }
  LinearInit init() const { return init_; }

 private:
  bool bias_ = true;
  LinearInit init_ = LinearInit::glorot;
};

// y = x·Wᵀ + b for x (..., in) → (..., out) (the leading axes fold into the gemm's rows: no
// reshape), with PyTorch's names and layout: "weight" W (out, in), "bias" b (out), so a
// torch.nn.Linear's state dict loads as it is (before 0.2, W was (in, out)).
template <class T>
class BasicLinear : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // W drawn by `init` (default: glorot_uniform) from `rng`, b = 0.
  BasicLinear(std::size_t in_features, std::size_t out_features, Rng& rng, const WeightInitOf<T>& init = {});
  // W and b as `options` say; with bias(false) there is no "bias" parameter.
  BasicLinear(std::size_t in_features, std::size_t out_features, Rng& rng, const LinearOptions& options);
  Variable forward(const Variable& x) override;
  Variable weight, bias;  // W (out, in) and b (out); bias is undefined when the layer has none
};

// y = σ(x) = 1 / (1 + e⁻ˣ), elementwise: sigmoid() as a module.
template <class T>
class BasicSigmoid : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};
// y = tanh x, elementwise: tanh() as a module.
template <class T>
class BasicTanh : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};
// y = max(x, 0), elementwise: relu() as a module.
template <class T>
class BasicReLU : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};
// y = slope·x + intercept (the seed's output "activation" is Affine(1, 0)).
template <class T>
class BasicAffine : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // y = slope·x + intercept.
  BasicAffine(double slope = 1.0, double intercept = 0.0) : slope_(slope), intercept_(intercept) {}
  Variable forward(const Variable& x) override;
  double slope() const { return slope_; }
  double intercept() const { return intercept_; }

 private:
  double slope_, intercept_;
};
// Softmax along `axis` (default last). For training, prefer cross_entropy on logits.
template <class T>
class BasicSoftmax : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // Along `axis` (negative counts from the end).
  explicit BasicSoftmax(int axis = -1) : axis_(axis) {}
  Variable forward(const Variable& x) override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

// log_softmax along `axis` (default last), as a module.
template <class T>
class BasicLogSoftmax : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // Along `axis` (negative counts from the end).
  explicit BasicLogSoftmax(int axis = -1) : axis_(axis) {}
  Variable forward(const Variable& x) override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

// (n, d₁, d₂, ...) → (n, d₁·d₂·...): the bridge from convolutional to dense layers.
template <class T>
class BasicFlatten : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;

 private:
  Shape shape_;  // reused, so a training step allocates no shape
};

// Children applied in order. add(m) names a child by its position ("0", "1", ...),
// add(name, m) by `name`; named_parameters() uses those names ("0.weight", "fc.bias").
// The stored child is reachable by index or name (at, get), and a copy taken before add()
// shares its parameters and mode with it. Every child is a module of the same T.
template <class T>
class BasicSequential : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  BasicSequential() = default;
  // Appends `module` as the next layer, named by its position; chainable.
  template <class M>
  BasicSequential& add(M module) {
    return add(std::to_string(layers_.size()), std::move(module));
  }
  // Appends `module` as the next layer under `name` (no '.', not taken); chainable.
  template <class M>
  BasicSequential& add(const std::string& name, M module) {
    static_assert(std::is_base_of_v<BasicModule<T>, M>,
                  "Sequential::add: the layer must be a module of the Sequential's scalar type");
    auto shared = std::make_shared<M>(std::move(module));
    this->register_shared_module(name, shared);
    layers_.push_back(std::move(shared));
    names_.push_back(name);
    return *this;
  }
  Variable forward(const Variable& x) override;
  // Number of layers.
  std::size_t size() const { return layers_.size(); }
  // The stored layer at `index`; std::out_of_range naming the index and size otherwise.
  BasicModule<T>& operator[](std::size_t index) const;
  // The stored layer named `name`; std::invalid_argument listing the names otherwise.
  BasicModule<T>& operator[](const std::string& name) const;
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
  static M& cast(BasicModule<T>& m, const std::string& which) {
    if (auto* p = dynamic_cast<M*>(&m)) return *p;
    throw_wrong_type(which, m);
  }
  [[noreturn]] static void throw_wrong_type(const std::string& which, const ModuleBase& m);
  std::vector<std::shared_ptr<BasicModule<T>>> layers_;
  std::vector<std::string> names_;
};

extern template class BasicLinear<float>;
extern template class BasicLinear<double>;
extern template class BasicSigmoid<float>;
extern template class BasicSigmoid<double>;
extern template class BasicTanh<float>;
extern template class BasicTanh<double>;
extern template class BasicReLU<float>;
extern template class BasicReLU<double>;
extern template class BasicAffine<float>;
extern template class BasicAffine<double>;
extern template class BasicSoftmax<float>;
extern template class BasicSoftmax<double>;
extern template class BasicLogSoftmax<float>;
extern template class BasicLogSoftmax<double>;
extern template class BasicFlatten<float>;
extern template class BasicFlatten<double>;
extern template class BasicSequential<float>;
extern template class BasicSequential<double>;

using Linear = BasicLinear<float>;
using Sigmoid = BasicSigmoid<float>;
using Tanh = BasicTanh<float>;
using ReLU = BasicReLU<float>;
using Affine = BasicAffine<float>;
using Softmax = BasicSoftmax<float>;
using LogSoftmax = BasicLogSoftmax<float>;
using Flatten = BasicFlatten<float>;
using Sequential = BasicSequential<float>;

}  // namespace nn
}  // namespace xtgrad
