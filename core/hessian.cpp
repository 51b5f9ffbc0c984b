#include "xtgrad/core/hessian.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace {

// ∇f with history, or the error naming what is wrong with f's output.
template <class Scalar>
std::vector<BasicVariable<Scalar>> first_gradients(const char* who, const BasicVariable<Scalar>& y,
                                                   const std::vector<BasicVariable<Scalar>>& params) {
  using Variable = BasicVariable<Scalar>;
  if (!y.defined() || y.size() != 1) {
    throw std::invalid_argument(std::string(who) + ": f must return a one-element Variable, got shape " +
                                (y.defined() ? shape_str(y.value()) : std::string("(empty)")));
  }
  if (!y.requires_grad()) {  // f does not depend on the parameters: H = 0
    std::vector<Variable> zeros;
    for (const Variable& p : params) zeros.emplace_back(xt::zeros<Scalar>(p.value().shape()), false);
    return zeros;
  }
  return grad({y}, params, BasicGradOptions<Scalar>().set_create_graph(true).set_materialize_grads(true));
}

// The checks of hessian_vector_product (`who` names the caller).
template <class Scalar>
void check_vectors(const char* who, const std::vector<BasicVariable<Scalar>>& params,
                   const std::vector<TensorOf<Scalar>>& v) {
  if (v.size() != params.size()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(v.size()) + " vectors for " +
                                std::to_string(params.size()) + " parameters");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined() || !params[i].requires_grad()) {
      throw std::invalid_argument(std::string(who) + ": parameter " + std::to_string(i) + " does not require grad");
    }
    if (!(v[i].shape() == params[i].value().shape())) {
      throw std::invalid_argument(std::string(who) + ": vector " + std::to_string(i) + " has shape " +
                                  shape_str(v[i]) + " but its parameter has shape " + shape_str(params[i].value()));
    }
  }
}

// H·v = ∇⟨g, v⟩ for g = ∇f with history (first_gradients): seed each g_i with v_i (a g_i
// without history contributes nothing). `retain`: keep g's graph for another product.
template <class Scalar>
std::vector<TensorOf<Scalar>> product_with(const std::vector<BasicVariable<Scalar>>& g,
                                           const std::vector<BasicVariable<Scalar>>& params,
                                           const std::vector<TensorOf<Scalar>>& v, bool retain) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  std::vector<Variable> outs;
  BasicGradOptions<Scalar> second = BasicGradOptions<Scalar>().set_materialize_grads(true).set_retain_graph(retain);
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!g[i].requires_grad()) continue;
    outs.push_back(g[i]);
    second.grad_outputs.push_back(v[i]);
  }
  std::vector<Tensor> hv;
  if (outs.empty()) {
    for (const Variable& p : params) hv.push_back(xt::zeros<Scalar>(p.value().shape()));
    return hv;
  }
  for (const Variable& h : grad(outs, params, second)) hv.push_back(h.value());
  return hv;
}

// hessian_vector_product for either precision.
template <class Scalar>
std::vector<TensorOf<Scalar>> hvp(const ScalarFunctionOf<Scalar>& f, const std::vector<BasicVariable<Scalar>>& params,
                                  const std::vector<TensorOf<Scalar>>& v) {
  check_vectors("hessian_vector_product", params, v);
  return product_with(first_gradients("hessian_vector_product", f(params), params), params, v, false);
}

// Σᵢ ⟨aᵢ, bᵢ⟩ in double.
template <class Scalar>
double dot_all(const std::vector<TensorOf<Scalar>>& a, const std::vector<TensorOf<Scalar>>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t k = 0; k < a[i].size(); ++k) sum += double(a[i].data()[k]) * double(b[i].data()[k]);
  }
  return sum;
}

// a ← a·s
template <class Scalar>
void scale_all(std::vector<TensorOf<Scalar>>& a, double s) {
  for (auto& t : a) {
    for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = Scalar(double(t.data()[k]) * s);
  }
}

template <class Scalar>
TopEigen<Scalar> top_eigen(const ScalarFunctionOf<Scalar>& f, const std::vector<BasicVariable<Scalar>>& params,
                           const PowerIterationOptions& options) {
  using Tensor = TensorOf<Scalar>;
  if (params.empty()) throw std::invalid_argument("hessian_top_eigenvalue: no parameters");
  if (options.iterations == 0) throw std::invalid_argument("hessian_top_eigenvalue: iterations must be positive");
  if (!(options.tolerance >= 0)) {
    throw std::invalid_argument("hessian_top_eigenvalue: tolerance must be >= 0, got " + std::to_string(options.tolerance));
  }
  Rng rng(options.seed);
  std::vector<Tensor> v;
  for (const auto& p : params) {
    if (!p.defined()) throw std::invalid_argument("hessian_top_eigenvalue: a parameter is undefined");
    v.push_back(randn<Scalar>(shape_of(p.value()), rng));
  }
  scale_all(v, 1 / std::sqrt(dot_all(v, v)));
  check_vectors("hessian_top_eigenvalue", params, v);
  // ∇f once, with its graph kept: each iteration is then one more backward through it.
  const std::vector<BasicVariable<Scalar>> g = first_gradients("hessian_top_eigenvalue", f(params), params);
  TopEigen<Scalar> out;
  double previous = 0;
  for (std::size_t k = 0; k < options.iterations; ++k) {
    std::vector<Tensor> hv = product_with(g, params, v, true);
    ++out.iterations;
    out.eigenvalue = dot_all(v, hv);  // λₖ = vₖᵀHvₖ, ‖vₖ‖ = 1
    const double hv_norm = std::sqrt(dot_all(hv, hv));
    // ‖Hv − λv‖, summed directly (‖Hv‖² − λ² would cancel to rounding noise near convergence)
    double squares = 0;
    for (std::size_t i = 0; i < hv.size(); ++i) {
      for (std::size_t j = 0; j < hv[i].size(); ++j) {
        const double r = double(hv[i].data()[j]) - out.eigenvalue * double(v[i].data()[j]);
        squares += r * r;
      }
    }
    out.residual = std::sqrt(squares);
    out.relative_change = k == 0 || out.eigenvalue == 0 ? 0 : std::abs(out.eigenvalue - previous) / std::abs(out.eigenvalue);
    const bool last = k + 1 == options.iterations || hv_norm == 0 ||
                      (k > 0 && out.relative_change <= options.tolerance && options.tolerance > 0);
    if (last) break;
    previous = out.eigenvalue;
    scale_all(hv, 1 / hv_norm);
    v = std::move(hv);
  }
  out.eigenvector = std::move(v);
  return out;
}

}  // namespace

template <class Scalar>
TensorOf<Scalar> hessian(const NonDeduced<std::function<BasicVariable<Scalar>(const BasicVariable<Scalar>&)>>& f,
                         const TensorOf<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  const Variable xv = Variable::parameter(x);
  const Variable g = first_gradients("hessian", f(xv), {xv})[0];
  const std::size_t n = x.size();
  typename Tensor::shape_type shape(x.shape().begin(), x.shape().end());
  shape.insert(shape.end(), x.shape().begin(), x.shape().end());
  Tensor h = xt::zeros<Scalar>(shape);
  if (!g.requires_grad()) return h;
  Tensor e = xt::zeros<Scalar>(x.shape());
  for (std::size_t j = 0; j < n; ++j) {
    // row j: ∇ₓ g_j
    e.data()[j] = 1;
    const Variable row = grad({g}, {xv}, BasicGradOptions<Scalar>().set_retain_graph(true).set_materialize_grads(true).set_grad_outputs({e}))[0];
    e.data()[j] = 0;
    std::copy(row.value().data(), row.value().data() + n, h.data() + j * n);
  }
  return h;
}

std::vector<TensorOf<float>> hessian_vector_product(const ScalarFunctionOf<float>& f,
                                                    const std::vector<BasicVariable<float>>& params,
                                                    const std::vector<TensorOf<float>>& v) {
  return hvp(f, params, v);
}

std::vector<TensorOf<double>> hessian_vector_product(const ScalarFunctionOf<double>& f,
                                                     const std::vector<BasicVariable<double>>& params,
                                                     const std::vector<TensorOf<double>>& v) {
  return hvp(f, params, v);
}

TopEigen<float> hessian_top_eigenvalue(const ScalarFunctionOf<float>& f, const std::vector<BasicVariable<float>>& params,
                                       const PowerIterationOptions& options) {
  return top_eigen(f, params, options);
}

TopEigen<double> hessian_top_eigenvalue(const ScalarFunctionOf<double>& f,
                                        const std::vector<BasicVariable<double>>& params,
                                        const PowerIterationOptions& options) {
  return top_eigen(f, params, options);
}

#define XTGRAD_INSTANTIATE(T) \
  template TensorOf<T> hessian(const std::function<BasicVariable<T>(const BasicVariable<T>&)>&, const TensorOf<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
