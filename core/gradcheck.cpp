#include "xtgrad/core/gradcheck.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
#ifdef XTGRAD_DOUBLE
namespace {

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

}  // namespace
#endif

GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
#ifndef XTGRAD_DOUBLE
  (void)f, (void)inputs, (void)options;
  throw std::logic_error("gradcheck: needs the double-precision library; link xtgrad::xtgrad_f64");
#else
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.push_back(Variable::parameter(t));
  Variable y = f(vars);
  Rng rng(options.seed);
  const Tensor r = randn(y.shape(), rng);
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
#endif
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
