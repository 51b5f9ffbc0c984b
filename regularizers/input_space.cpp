#include "xtgrad/regularizers/input_space.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> input_gradient_penalty(const BasicVariable<T>& data_loss, const BasicVariable<T>& x, double lambd) {
  if (!(lambd >= 0) || !std::isfinite(lambd)) {
    throw std::invalid_argument("input_gradient_penalty: lambd must be a finite number >= 0, got " +
                                std::to_string(lambd));
  }
  if (!x.defined() || x.value().dimension() < 1 || x.value().shape()[0] == 0 || !x.requires_grad()) {
    throw std::invalid_argument("input_gradient_penalty: x must be a non-empty batch (n, ...) that requires grad");
  }
  const double n = double(x.value().shape()[0]);
  // g = ∂(mean ℓ)/∂x with history; the loss's graph stays for its own backward.
  const BasicVariable<T> g = grad({data_loss}, {x}, {.create_graph = true, .retain_graph = true})[0];
  return sum(square(g)) * (lambd * n);
}

template <class T>
TensorOf<T> fgsm_step(const TensorOf<T>& x, const TensorOf<T>& g, double eps, double lo, double hi) {
  if (x.shape() != g.shape()) {
    throw std::invalid_argument("fgsm_step: x " + shape_str(x) + " and its gradient " + shape_str(g) +
                                " differ in shape");
  }
  TensorOf<T> out = x;
  T* o = out.data();
  const T* gd = g.data();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double s = gd[i] > 0 ? 1.0 : gd[i] < 0 ? -1.0 : 0.0;
    o[i] = T(std::clamp(double(o[i]) + eps * s, lo, hi));
  }
  return out;
}

namespace {

// Rows [start, start + rows) of t, as a tensor of its own.
template <class T>
TensorOf<T> row_block(const TensorOf<T>& t, std::size_t start, std::size_t rows) {
  Shape shape(t.shape().begin(), t.shape().end());
  const std::size_t width = t.size() / shape[0];
  shape[0] = rows;
  TensorOf<T> out = TensorOf<T>::from_shape(shape);
  std::copy(t.data() + start * width, t.data() + (start + rows) * width, out.data());
  return out;
}

}  // namespace

template <class T>
double fgsm_accuracy(const NonDeduced<std::function<BasicVariable<T>(const BasicVariable<T>&)>>& model,
                     const TensorOf<T>& inputs, const TensorOf<T>& targets, double eps, std::size_t batch_size) {
  const char* op = "fgsm_accuracy";
  if (inputs.dimension() < 1 || batch_size == 0) {
    throw std::invalid_argument(std::string(op) + ": inputs must be (n, ...) and batch_size positive");
  }
  const std::size_t n = inputs.shape()[0];
  const bool one_hot = targets.dimension() == 2;
  if (targets.dimension() < 1 || targets.dimension() > 2 || targets.shape()[0] != n) {
    throw std::invalid_argument(std::string(op) + ": targets " + shape_str(targets) +
                                " must be one-hot (n, classes) or class indices (n) for inputs " + shape_str(inputs));
  }
  if (n == 0) return 0.0;
  std::size_t correct = 0;
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t rows = std::min(batch_size, n - start);
    const TensorOf<T> xb = row_block(inputs, start, rows), yb = row_block(targets, start, rows);
    // truth: the class of each row (arg-max of a one-hot row)
    const TensorOf<T> truth = one_hot ? TensorOf<T>(argmax(BasicVariable<T>(yb), 1)) : yb;
    const BasicVariable<T> x(xb, true);
    const BasicVariable<T> out = model(x);
    BasicVariable<T> loss;
    if (one_hot) {
      loss = cross_entropy(out, BasicVariable<T>(yb));
    } else {
      std::vector<std::size_t> labels(rows);
      for (std::size_t i = 0; i < rows; ++i) labels[i] = std::size_t(truth.data()[i]);
      loss = cross_entropy(out, labels);
    }
    const TensorOf<T> g = grad({loss}, {x})[0].value();
    const TensorOf<T> xa = fgsm_step(xb, g, eps);
    NoGrad no_grad;
    const IndexTensor predicted = argmax(model(BasicVariable<T>(xa)), 1);
    for (std::size_t i = 0; i < rows; ++i) correct += T(predicted.data()[i]) == truth.data()[i];
  }
  return double(correct) / double(n);
}

namespace {

// Whether a parameter's dotted name ends in "weight" (fc1.weight, features.0.weight).
bool is_weight(const std::string& name) {
  const std::string suffix = "weight";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

template <class T>
std::size_t project_max_norm(const NamedParametersOf<T>& params, double c) {
  if (!(c > 0) || !std::isfinite(c)) {
    throw std::invalid_argument("project_max_norm: c must be a finite number > 0, got " + std::to_string(c));
  }
  std::size_t scaled = 0;
  for (const auto& [name, param] : params) {
    if (!is_weight(name)) continue;
    const std::size_t dims = param.value().dimension();
    if (dims != 2 && dims != 4) continue;
    // A Linear weight (out, in) or a convolution's (out, in, kh, kw): each output unit's
    // incoming weights (a filter for a convolution) are one row.
    BasicVariable<T> handle = param;  // aliases the parameter's node
    const std::size_t rows = param.value().shape()[0], len = rows ? param.value().size() / rows : 0;
    T* m = nullptr;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* w = param.value().data() + r * len;
      double norm = 0;
      for (std::size_t i = 0; i < len; ++i) norm += double(w[i]) * double(w[i]);
      norm = std::sqrt(norm);
      if (norm <= c) continue;
      if (m == nullptr) m = handle.mutable_value().data();
      ++scaled;
      for (std::size_t i = 0; i < len; ++i) m[r * len + i] *= T(c / norm);
    }
  }
  return scaled;
}

#define XTGRAD_INSTANTIATE(T)                                                                                  \
  template BasicVariable<T> input_gradient_penalty(const BasicVariable<T>&, const BasicVariable<T>&, double);  \
  template TensorOf<T> fgsm_step(const TensorOf<T>&, const TensorOf<T>&, double, double, double);             \
  template double fgsm_accuracy<T>(const std::function<BasicVariable<T>(const BasicVariable<T>&)>&,             \
                                   const TensorOf<T>&, const TensorOf<T>&, double, std::size_t);              \
  template std::size_t project_max_norm(const NamedParametersOf<T>&, double);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
