#include "xtgrad/core/hessian.hpp"

#include <stdexcept>
#include <string>

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

// hessian_vector_product for either precision.
template <class Scalar>
std::vector<TensorOf<Scalar>> hvp(const ScalarFunctionOf<Scalar>& f, const std::vector<BasicVariable<Scalar>>& params,
                                  const std::vector<TensorOf<Scalar>>& v) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  if (v.size() != params.size()) {
    throw std::invalid_argument("hessian_vector_product: " + std::to_string(v.size()) + " vectors for " +
                                std::to_string(params.size()) + " parameters");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined() || !params[i].requires_grad()) {
      throw std::invalid_argument("hessian_vector_product: parameter " + std::to_string(i) + " does not require grad");
    }
    if (!(v[i].shape() == params[i].value().shape())) {
      throw std::invalid_argument("hessian_vector_product: vector " + std::to_string(i) + " has shape " +
                                  shape_str(v[i]) + " but its parameter has shape " + shape_str(params[i].value()));
    }
  }
  const std::vector<Variable> g = first_gradients("hessian_vector_product", f(params), params);
  // H·v = ∇⟨g, v⟩: seed each g_i with v_i (a g_i without history contributes nothing)
  std::vector<Variable> outs;
  BasicGradOptions<Scalar> second = BasicGradOptions<Scalar>().set_materialize_grads(true);
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

#define XTGRAD_INSTANTIATE(T) \
  template TensorOf<T> hessian(const std::function<BasicVariable<T>(const BasicVariable<T>&)>&, const TensorOf<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
