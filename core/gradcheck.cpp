#include "xtgrad/core/gradcheck.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace {

// The checker works in double, whatever precision the checked code trains in.
using Scalar = double;
using Tensor = TensorOf<double>;
using Variable = BasicVariable<double>;

// ⟨f(x), R⟩ in double, recording nothing.
double projected(const GradcheckFunction& f, const std::vector<Tensor>& inputs, const Tensor& r) {
  NoGrad no_grad;
  std::vector<Variable> vars;
  vars.reserve(inputs.size());
  for (const Tensor& t : inputs) vars.emplace_back(t, false);
  const Variable out = f(vars);  // keeps the node alive: y must not refer into a freed one
  const Tensor& y = out.value();
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += double(y.data()[i]) * double(r.data()[i]);
  return s;
}

// ⟨∇ₓ⟨f(x), R⟩, S⟩ in double, by one plain backward pass at `inputs`.
double projected_gradient(const GradcheckFunction& f, const std::vector<Tensor>& inputs, const Tensor& r,
                          const std::vector<Tensor>& s) {
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.push_back(Variable::parameter(t));
  const Variable y = f(vars);
  if (!y.requires_grad()) return 0;
  const std::vector<Variable> g = grad({y}, vars, BasicGradOptions<double>().set_materialize_grads(true).set_grad_outputs({r}));
  double total = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    for (std::size_t j = 0; j < s[i].size(); ++j) total += double(g[i].value().data()[j]) * double(s[i].data()[j]);
  }
  return total;
}

// Fills the report's worst element from one comparison; returns the updated `first` flag.
void consider(GradcheckReport& report, bool& first, std::size_t i, std::size_t j, double analytic, double numeric,
              const GradcheckOptions& options) {
  double ratio = std::abs(analytic - numeric) / (options.atol + options.rtol * std::abs(numeric));
  if (std::isnan(ratio)) ratio = INFINITY;
  if (first || ratio > report.worst_ratio) {
    first = false;
    report.worst_ratio = ratio;
    report.worst_input = i;
    report.worst_index = j;
    report.analytic = analytic;
    report.numeric = numeric;
  }
}

}  // namespace

GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.push_back(Variable::parameter(t));
  Variable y = f(vars);
  Rng rng(options.seed);
  const Tensor r = randn<double>(y.shape(), rng);
  if (y.requires_grad()) y.backward(r);

  GradcheckReport report;
  std::vector<Tensor> perturbed = inputs;
  bool first = true;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool has = vars[i].has_grad();
    for (std::size_t j = 0; j < inputs[i].size(); ++j) {
      const double x = inputs[i].data()[j];
      perturbed[i].data()[j] = x + options.eps;
      const double up = projected(f, perturbed, r);
      perturbed[i].data()[j] = x - options.eps;
      const double down = projected(f, perturbed, r);
      perturbed[i].data()[j] = x;
      const double numeric = (up - down) / (2 * options.eps);
      const double analytic = has ? double(vars[i].grad().data()[j]) : 0.0;
      consider(report, first, i, j, analytic, numeric, options);
    }
  }
  report.ok = report.worst_ratio <= 1.0;
  std::ostringstream msg;
  msg.precision(10);
  msg << "gradcheck " << (report.ok ? "passed" : "FAILED") << ": worst element is input "
      << report.worst_input << " (shape " << (inputs.empty() ? "()" : shape_str(inputs[report.worst_input]))
      << ") flat index " << report.worst_index << ": backward " << report.analytic << ", numeric "
      << report.numeric << " (error " << report.worst_ratio << " x tolerance)";
  report.message = msg.str();
  return report;
}

GradcheckReport gradgradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options) {
  Rng rng(options.seed);
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.push_back(Variable::parameter(t));
  const Variable y = f(vars);
  const Tensor r = randn<double>(y.shape(), rng);
  std::vector<Tensor> s;
  for (const Tensor& t : inputs) s.push_back(randn<double>(shape_of(t), rng));

  // analytic: the first derivatives with history, then d⟨first, S⟩/dx
  std::vector<Tensor> analytic;
  for (const Tensor& t : inputs) analytic.push_back(xt::zeros<Scalar>(t.shape()));
  if (y.requires_grad()) {
    const std::vector<Variable> first =
        grad({y}, vars, BasicGradOptions<double>().set_create_graph(true).set_materialize_grads(true).set_grad_outputs({r}));
    std::vector<Variable> outs;
    BasicGradOptions<double> second = BasicGradOptions<double>().set_materialize_grads(true);
    for (std::size_t i = 0; i < first.size(); ++i) {
      if (!first[i].requires_grad()) continue;  // constant: it contributes no second derivative
      outs.push_back(first[i]);
      second.grad_outputs.push_back(s[i]);
    }
    if (!outs.empty()) {
      const std::vector<Variable> h = grad(outs, vars, second);
      for (std::size_t i = 0; i < h.size(); ++i) analytic[i] = h[i].value();
    }
  }

  GradcheckReport report;
  std::vector<Tensor> perturbed = inputs;
  bool first = true;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t j = 0; j < inputs[i].size(); ++j) {
      const double x = inputs[i].data()[j];
      perturbed[i].data()[j] = x + options.eps;
      const double up = projected_gradient(f, perturbed, r, s);
      perturbed[i].data()[j] = x - options.eps;
      const double down = projected_gradient(f, perturbed, r, s);
      perturbed[i].data()[j] = x;
      consider(report, first, i, j, double(analytic[i].data()[j]), (up - down) / (2 * options.eps), options);
    }
  }
  report.ok = report.worst_ratio <= 1.0;
  std::ostringstream msg;
  msg.precision(10);
  msg << "gradgradcheck " << (report.ok ? "passed" : "FAILED") << ": worst element is input " << report.worst_input
      << " (shape " << (inputs.empty() ? "()" : shape_str(inputs[report.worst_input])) << ") flat index "
      << report.worst_index << ": double backward " << report.analytic << ", numeric " << report.numeric
      << " (error " << report.worst_ratio << " x tolerance)";
  report.message = msg.str();
  return report;
}

std::vector<TensorOf<double>> widen_to_double(const std::vector<TensorOf<float>>& tensors) {
  std::vector<TensorOf<double>> out;
  out.reserve(tensors.size());
  for (const TensorOf<float>& t : tensors) out.emplace_back(xt::cast<double>(t));
  return out;
}

}  // namespace xtgrad
