#include "robustness.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace mnist_app {

using namespace xtgrad;

Variable input_gradient_penalty(const Variable& data_loss, const Variable& x, double lambd) {
  if (!(lambd >= 0) || !std::isfinite(lambd)) {
    throw std::invalid_argument("input_gradient_penalty: lambd must be a finite number >= 0");
  }
  if (!x.defined() || x.value().dimension() < 1 || x.value().shape()[0] == 0 || !x.requires_grad()) {
    throw std::invalid_argument("input_gradient_penalty: x must be a non-empty batch (n, ...) that requires grad");
  }
  const double n = double(x.value().shape()[0]);
  // g = ∂(mean ℓ)/∂x with history; the loss's graph stays for its own backward.
  const Variable g = grad({data_loss}, {x}, {.create_graph = true, .retain_graph = true})[0];
  return sum(square(g)) * (lambd * n);
}

Tensor fgsm_step(const Tensor& x, const Tensor& g, double eps, double lo, double hi) {
  if (x.shape() != g.shape()) throw std::invalid_argument("fgsm_step: x and its gradient differ in shape");
  Tensor out = x;
  Scalar* o = out.data();
  const Scalar* gd = g.data();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double s = gd[i] > 0 ? 1.0 : gd[i] < 0 ? -1.0 : 0.0;
    o[i] = Scalar(std::clamp(double(o[i]) + eps * s, lo, hi));
  }
  return out;
}

double fgsm_accuracy(nn::Module& model, const nn::Dataset& data, double eps, std::size_t batch_size) {
  const std::size_t n = data.inputs.shape()[0];
  if (n == 0) return 0.0;
  const bool was_training = model.is_training();
  model.eval();
  const std::size_t d = data.inputs.size() / n, t = data.targets.size() / n;
  const std::vector<std::size_t> truth = data.targets.dimension() == 2 ? nn::argmax_rows(data.targets) : [&] {
    std::vector<std::size_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::size_t(data.targets.data()[i]);
    return v;
  }();
  std::size_t correct = 0;
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t rows = std::min(batch_size, n - start);
    Shape xs(data.inputs.shape().begin(), data.inputs.shape().end());
    xs[0] = rows;
    Tensor xb = Tensor::from_shape(xs);
    std::copy(data.inputs.data() + start * d, data.inputs.data() + (start + rows) * d, xb.data());
    Variable x(xb, true);
    Variable out = model(x);
    Variable loss;
    if (data.targets.dimension() == 2) {
      Shape ts{rows, t};
      Tensor yb = Tensor::from_shape(ts);
      std::copy(data.targets.data() + start * t, data.targets.data() + (start + rows) * t, yb.data());
      loss = cross_entropy(out, Variable(yb));
    } else {
      loss = cross_entropy(out, std::vector<std::size_t>(truth.begin() + start, truth.begin() + start + rows));
    }
    const Tensor g = grad({loss}, {x})[0].value();
    const Tensor xa = fgsm_step(xb, g, eps);
    NoGrad no_grad;
    const std::vector<std::size_t> predicted = nn::argmax_rows(model(Variable(xa)).value());
    for (std::size_t i = 0; i < rows; ++i) correct += predicted[i] == truth[start + i];
  }
  model.train(was_training);
  return double(correct) / double(n);
}

std::size_t project_max_norm(const NamedParameters& params, double c) {
  std::size_t scaled = 0;
  for (const auto& [name, param] : params) {
    const std::string suffix = "weight";
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::size_t dims = param.value().dimension();
    if (dims != 2 && dims != 4) continue;
    if (dims == 4) {  // a convolution (out, in, kh, kw): each output channel's filter, a row
      const std::size_t rows = param.value().shape()[0], len = param.value().size() / rows;
      Variable handle = param;
      Scalar* m = nullptr;
      for (std::size_t r = 0; r < rows; ++r) {
        const Scalar* w = param.value().data() + r * len;
        double norm = 0;
        for (std::size_t i = 0; i < len; ++i) norm += double(w[i]) * double(w[i]);
        norm = std::sqrt(norm);
        if (norm <= c) continue;
        if (m == nullptr) m = handle.mutable_value().data();
        ++scaled;
        for (std::size_t i = 0; i < len; ++i) m[r * len + i] *= Scalar(c / norm);
      }
      continue;
    }
    const std::size_t in = param.value().shape()[0], out = param.value().shape()[1];
    std::vector<double> norms(out, 0.0);
    const Scalar* w = param.value().data();
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t j = 0; j < out; ++j) norms[j] += double(w[i * out + j]) * double(w[i * out + j]);
    bool any = false;
    for (double& v : norms) {
      v = std::sqrt(v);
      any = any || v > c;
    }
    if (!any) continue;
    Variable handle = param;  // aliases the parameter's node
    Scalar* m = handle.mutable_value().data();
    for (std::size_t j = 0; j < out; ++j) {
      if (norms[j] <= c) continue;
      ++scaled;
      const Scalar f = Scalar(c / norms[j]);
      for (std::size_t i = 0; i < in; ++i) m[i * out + j] *= f;
    }
  }
  return scaled;
}

}  // namespace mnist_app
