#include "xtgrad/regularizers/regularizer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/norms.hpp"
#include "xtgrad/regularizers/prox.hpp"

namespace xtgrad {
namespace {

// Finite and ≥ 0, or std::invalid_argument naming `who` and the coefficient `what`.
double checked_coefficient(const char* who, const char* what, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw std::invalid_argument(std::string(who) + ": coefficient '" + what +
                                "' must be finite and >= 0, got " + format_coefficient(value));
  }
  return value == 0 ? 0.0 : value;  // -0 → +0, so describe() prints "0"
}

template <class Scalar>
void check_defined(const char* who, const NamedParametersOf<Scalar>& params) {
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument(std::string(who) + ": parameter '" + name +
                                  "' is an empty Variable");
    }
  }
}

// Whether params[i] is selected and is the first selected entry for its tensor (a tensor
// listed under two names, a shared weight, counts once). Quadratic in the number of
// parameters, which stays small, and free of allocation: the penalty is built every step.
template <class Scalar>
bool first_selected(const NamedParametersOf<Scalar>& params, std::size_t i,
                    const BasicSelection<Scalar>& selection) {
  if (!selection.selects(params[i].first, params[i].second)) return false;
  const BasicNode<Scalar>* node = params[i].second.node().get();
  for (std::size_t j = 0; j < i; ++j) {
    if (params[j].second.node().get() == node && selection.selects(params[j].first, params[j].second)) return false;
  }
  return true;
}

// Σₜ f(wₜ) over the selected tensors as a chain of add nodes; none selected → undefined.
template <class Scalar, class F>
BasicVariable<Scalar> sum_over(const NamedParametersOf<Scalar>& params,
                               const BasicSelection<Scalar>& selection, F f) {
  BasicVariable<Scalar> total;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!first_selected(params, i, selection)) continue;
    BasicVariable<Scalar> term = f(params[i].second);
    total = total.defined() ? total + term : term;
  }
  return total;
}

// l1·Σ|w| + ½·l2·Σw² over the selected tensors; a constant 0 if no term remains. In mode
// prox the l1 term is a constant: its value counts, its gradient is the proximal step's.
template <class Scalar>
BasicVariable<Scalar> elastic_penalty(const char* who, const NamedParametersOf<Scalar>& params,
                                      const BasicSelection<Scalar>& selection, double l1_coef,
                                      double l2_coef, L1Mode mode) {
  using Variable = BasicVariable<Scalar>;
  check_defined(who, params);
  Variable total;
  if (l1_coef != 0) {
    auto l1_term = [&]() -> Variable {
      Variable sum = sum_over(params, selection, [](const Variable& w) { return l1(w); });
      return sum.defined() ? sum * l1_coef : sum;
    };
    if (mode == L1Mode::prox) {
      NoGrad no_grad;
      total = l1_term();
    } else {
      total = l1_term();
    }
  }
  if (l2_coef != 0) {
    Variable sum = sum_over(params, selection, [](const Variable& w) { return squared_l2(w); });
    if (sum.defined()) {
      Variable term = sum * (0.5 * l2_coef);
      total = total.defined() ? total + term : term;
    }
  }
  return total.defined() ? total : Variable::scalar(Scalar(0));
}

template <class Scalar>
std::vector<Coverage> elastic_coverage(const char* who, const NamedParametersOf<Scalar>& params,
                                       const BasicSelection<Scalar>* selection, double l1_coef,
                                       double l2_coef, L1Mode mode, std::size_t start) {
  check_defined(who, params);
  std::vector<Coverage> rows;
  rows.reserve(params.size());
  for (const auto& [name, param] : params) {
    Coverage row;
    row.name = name;
    row.shape = param.shape();
    row.penalized = selection != nullptr && (l1_coef != 0 || l2_coef != 0) &&
                    selection->selects(name, param);
    if (row.penalized) {
      row.l1 = l1_coef;
      row.l2 = l2_coef;
      row.l1_mode = mode;
      row.start = start;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ", mode=prox" in mode prox; the default mode is left out of describe().
std::string describe_mode(L1Mode mode) {
  return mode == L1Mode::prox ? ", mode=prox" : "";
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string format_coefficient(double value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  std::string text(buf, result.ptr);
  // to_chars pads the exponent to two digits: "1e-04" → "1e-4".
  const auto e = text.find('e');
  if (e != std::string::npos && e + 2 < text.size() && text[e + 2] == '0') text.erase(e + 2, 1);
  return text;
}

const char* to_string(L1Mode mode) {
  return mode == L1Mode::prox ? "prox" : "subgradient";
}

// ---- Regularizer ----------------------------------------------------------------------------

template <class Scalar>
BasicRegularizer<Scalar>::BasicRegularizer(std::size_t start) : start_(start) {
  if (start == 0) {
    throw std::invalid_argument("Regularizer: start is the first epoch with the penalty on, "
                                "counted from 1; got 0");
  }
}

template <class Scalar>
std::string BasicRegularizer<Scalar>::describe_start() const {
  return start_ > 1 ? ", start=" + std::to_string(start_) : std::string();
}

template <class Scalar>
BasicVariable<Scalar> BasicRegularizer<Scalar>::penalty_at(const NamedParametersOf<Scalar>& params,
                                                           std::size_t epoch) const {
  if (!active(epoch)) {
    check_defined("Regularizer::penalty_at", params);
    return BasicVariable<Scalar>::scalar(Scalar(0));
  }
  return penalty(params);
}

template <class Scalar>
std::vector<double> BasicRegularizer<Scalar>::penalty_terms(const NamedParametersOf<Scalar>& params) const {
  const std::vector<Coverage> rows = coverage(params);
  std::vector<double> terms(params.size(), 0.0);
  std::unordered_set<const BasicNode<Scalar>*> seen;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!rows[i].penalized || !seen.insert(params[i].second.node().get()).second) continue;
    terms[i] = tensor_penalty(rows[i], params[i].second.value(), params[i].first);
  }
  return terms;
}

template <class Scalar>
double BasicRegularizer<Scalar>::tensor_penalty(const Coverage& row, const TensorOf<Scalar>& w,
                                                const std::string&) const {
  // (Σ|w|, Σw²) in double, chunk partials added in order (the same for a given thread count)
  using Sums = std::pair<double, double>;
  const Scalar* x = w.data();
  const Sums sums = parallel_reduce(
      0, w.size(), kElementwiseGrain, Sums(0.0, 0.0),
      [x](std::size_t b, std::size_t e) {
        double abs_sum = 0, square_sum = 0;
        for (std::size_t k = b; k < e; ++k) {
          const double v = x[k];
          abs_sum += std::abs(v);
          square_sum += v * v;
        }
        return Sums(abs_sum, square_sum);
      },
      [](const Sums& a, const Sums& b) { return Sums(a.first + b.first, a.second + b.second); });
  return row.l1 * sums.first + 0.5 * row.l2 * sums.second;
}

template <class Scalar>
bool BasicRegularizer<Scalar>::prox_step(const NamedParametersOf<Scalar>& params, double lr) const {
  const double l1 = prox_l1();
  if (l1 == 0) return false;
  soft_threshold(params, prox_selection(), lr * l1);
  return true;
}

// ---- L1 -----------------------------------------------------------------------------------

template <class Scalar>
BasicL1<Scalar>::BasicL1(double lambd, BasicSelection<Scalar> selection, L1Mode mode, std::size_t start)
    : BasicRegularizer<Scalar>(start),
      lambd_(checked_coefficient("L1", "lambd", lambd)),
      selection_(std::move(selection)),
      mode_(mode) {}

template <class Scalar>
BasicVariable<Scalar> BasicL1<Scalar>::penalty(const NamedParametersOf<Scalar>& params) const {
  return elastic_penalty("L1", params, selection_, lambd_, 0, mode_);
}

template <class Scalar>
std::string BasicL1<Scalar>::describe() const {
  return "l1(lambd=" + format_coefficient(lambd_) + describe_mode(mode_) + this->describe_start() + ")";
}

template <class Scalar>
std::vector<Coverage> BasicL1<Scalar>::coverage(const NamedParametersOf<Scalar>& params) const {
  return elastic_coverage("L1", params, &selection_, lambd_, 0, mode_, this->start());
}

// ---- L2 -----------------------------------------------------------------------------------

template <class Scalar>
BasicL2<Scalar>::BasicL2(double lambd, BasicSelection<Scalar> selection, std::size_t start)
    : BasicRegularizer<Scalar>(start),
      lambd_(checked_coefficient("L2", "lambd", lambd)),
      selection_(std::move(selection)) {}

template <class Scalar>
BasicVariable<Scalar> BasicL2<Scalar>::penalty(const NamedParametersOf<Scalar>& params) const {
  return elastic_penalty("L2", params, selection_, 0, lambd_, L1Mode::subgradient);
}

template <class Scalar>
std::string BasicL2<Scalar>::describe() const {
  return "l2(lambd=" + format_coefficient(lambd_) + this->describe_start() + ")";
}

template <class Scalar>
std::vector<Coverage> BasicL2<Scalar>::coverage(const NamedParametersOf<Scalar>& params) const {
  return elastic_coverage("L2", params, &selection_, 0, lambd_, L1Mode::subgradient, this->start());
}

// ---- ElasticNet ---------------------------------------------------------------------------

template <class Scalar>
BasicElasticNet<Scalar>::BasicElasticNet(double l1, double l2, BasicSelection<Scalar> selection,
                                         L1Mode mode, std::size_t start)
    : BasicRegularizer<Scalar>(start),
      l1_(checked_coefficient("ElasticNet", "l1", l1)),
      l2_(checked_coefficient("ElasticNet", "l2", l2)),
      selection_(std::move(selection)),
      mode_(mode) {}

template <class Scalar>
BasicVariable<Scalar> BasicElasticNet<Scalar>::penalty(const NamedParametersOf<Scalar>& params) const {
  return elastic_penalty("ElasticNet", params, selection_, l1_, l2_, mode_);
}

template <class Scalar>
std::string BasicElasticNet<Scalar>::describe() const {
  return "l1_l2(l1=" + format_coefficient(l1_) + ", l2=" + format_coefficient(l2_) +
         describe_mode(mode_) + this->describe_start() + ")";
}

template <class Scalar>
std::vector<Coverage> BasicElasticNet<Scalar>::coverage(const NamedParametersOf<Scalar>& params) const {
  return elastic_coverage("ElasticNet", params, &selection_, l1_, l2_, mode_, this->start());
}

// ---- NoPenalty ----------------------------------------------------------------------------

template <class Scalar>
BasicVariable<Scalar> BasicNoPenalty<Scalar>::penalty(const NamedParametersOf<Scalar>& params) const {
  check_defined("NoPenalty", params);
  return BasicVariable<Scalar>::scalar(Scalar(0));
}

template <class Scalar>
std::string BasicNoPenalty<Scalar>::describe() const {
  return "none";
}

template <class Scalar>
std::vector<Coverage> BasicNoPenalty<Scalar>::coverage(const NamedParametersOf<Scalar>& params) const {
  return elastic_coverage<Scalar>("NoPenalty", params, nullptr, 0, 0, L1Mode::subgradient, this->start());
}

// ---- coverage table -----------------------------------------------------------------------

std::string format_coverage(const std::vector<Coverage>& rows) {
  // A column for the group lasso's coefficient and groups only when a row has one.
  const bool grouped = std::any_of(rows.begin(), rows.end(), [](const Coverage& r) { return r.group != 0; });
  std::vector<std::string> header = {"parameter", "shape", "penalized", "l1", "l2"};
  if (grouped) header.push_back("group lasso");
  std::vector<std::vector<std::string>> cells;
  std::size_t tensors = 0, elements = 0, all_elements = 0;
  for (const auto& row : rows) {
    const std::size_t n = element_count(row.shape);
    all_elements += n;
    if (row.penalized) {
      ++tensors;
      elements += n;
    }
    cells.push_back({row.name, shape_str(row.shape), row.penalized ? "yes" : "no",
                     row.penalized ? format_coefficient(row.l1) : "-",
                     row.penalized ? format_coefficient(row.l2) : "-"});
    if (grouped) {
      cells.back().push_back(row.penalized ? format_coefficient(row.group) + " (" + row.groups + ")" : "-");
    }
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  auto emit = [&](std::ostringstream& out, const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t c = 0; c < line.size(); ++c) {
      text += c + 1 < line.size() ? pad(line[c], width[c] + 2) : line[c];
    }
    out << text << '\n';
  };
  std::ostringstream out;
  emit(out, header);
  for (const auto& line : cells) emit(out, line);
  out << tensors << " of " << rows.size() << " tensors penalized (" << with_commas(elements)
      << " of " << with_commas(all_elements) << " elements); penalty = l1·Σ|w| + ½·l2·Σw²"
      << (grouped ? " + group·Σ_g √|g|·‖w_g‖₂" : "") << "\n";
  return out.str();
}

template <class Scalar>
std::string format_equivalents(const BasicRegularizer<Scalar>& reg, std::size_t batch_size) {
  // The coefficients of the built-in kinds; another Regularizer gets the generic lines.
  double l1_coef = 0, l2_coef = 0;
  if (const auto* r = dynamic_cast<const BasicL1<Scalar>*>(&reg)) l1_coef = r->lambd();
  if (const auto* r = dynamic_cast<const BasicL2<Scalar>*>(&reg)) l2_coef = r->lambd();
  if (const auto* r = dynamic_cast<const BasicElasticNet<Scalar>*>(&reg)) {
    l1_coef = r->l1();
    l2_coef = r->l2();
  }
  const auto f = [](double v) { return format_coefficient(v); };
  std::ostringstream out;
  out << "convention: L1 = l1·Σ|w|, L2 = ½·l2·Σw², added to the batch-mean data loss, not "
         "divided by batch or dataset size\n";
  const std::string own = reg.equivalents();
  out << own;
  if (l1_coef == 0 && l2_coef == 0 && own.empty()) {
    out << "equivalents: no penalty (PyTorch weight_decay=0, Keras no regularizer, scikit-learn "
           "alpha=0)\n";
  }
  if (l2_coef != 0) {
    out << "equivalents of l2=" << f(l2_coef) << ": PyTorch SGD(weight_decay=" << f(l2_coef)
        << ") in a param group of the penalized tensors (PyTorch decays biases too by default); "
           "Keras kernel_regularizer=L2("
        << f(l2_coef / 2) << ")";
    if (batch_size > 0) {
      out << "; scikit-learn MLPClassifier(alpha=" << f(l2_coef * double(batch_size))
          << ") at batch " << batch_size << " (its ½·alpha·Σw²/n_batch)";
    }
    out << "; SGDClassifier(penalty='l2', alpha=" << f(l2_coef) << ") for a linear model\n";
  }
  if (l1_coef != 0) {
    out << "equivalents of l1=" << f(l1_coef) << ": PyTorch has no built-in L1 (add "
        << f(l1_coef) << "·Σ|w| to the loss); Keras kernel_regularizer=L1(" << f(l1_coef)
        << "); scikit-learn SGDClassifier(penalty='l1', alpha=" << f(l1_coef)
        << ") for a linear model (MLPClassifier has no L1)\n";
  }
  if (l1_coef != 0 && l2_coef != 0) {
    out << "as one elastic net: Keras L1L2(l1=" << f(l1_coef) << ", l2=" << f(l2_coef / 2)
        << "); SGDClassifier(penalty='elasticnet', alpha=" << f(l1_coef + l2_coef)
        << ", l1_ratio=" << f(l1_coef / (l1_coef + l2_coef)) << ")\n";
  }
  if (reg.prox_l1() != 0) {
    out << "L1 mode prox: the l1 term is reported, not differentiated; after each optimizer step "
           "w ← sign(w)·max(|w| − lr·"
        << f(reg.prox_l1())
        << ", 0) (scikit-learn's SGDClassifier truncates similarly; no NN library does)\n";
  } else if (l1_coef != 0) {
    out << "L1 mode subgradient: gradient l1·sign(w), 0 at w = 0 (weights oscillate near 0, "
           "rarely exactly 0; mode=prox gives exact zeros)\n";
  }
  if (reg.start() > 1) {
    out << "schedule: the penalty is 0 (and no proximal step runs) in epoch"
        << (reg.start() > 2 ? "s 1-" : " ") << reg.start() - 1 << ", on from epoch " << reg.start()
        << " (PyTorch and Keras have no schedule for it; optax takes a weight_decay schedule)\n";
  }
  return out.str();
}

template <class Scalar>
std::string format_coverage(const BasicRegularizer<Scalar>& reg, const NamedParametersOf<Scalar>& params,
                            std::size_t batch_size) {
  return "regularizer " + reg.describe() + "\n" + format_coverage(reg.coverage(params)) +
         format_equivalents(reg, batch_size);
}

template class BasicRegularizer<float>;
template class BasicRegularizer<double>;
template class BasicL1<float>;
template class BasicL1<double>;
template class BasicL2<float>;
template class BasicL2<double>;
template class BasicElasticNet<float>;
template class BasicElasticNet<double>;
template class BasicNoPenalty<float>;
template class BasicNoPenalty<double>;
template std::string format_equivalents(const BasicRegularizer<float>&, std::size_t);
template std::string format_equivalents(const BasicRegularizer<double>&, std::size_t);
template std::string format_coverage(const BasicRegularizer<float>&, const NamedParametersOf<float>&, std::size_t);
template std::string format_coverage(const BasicRegularizer<double>&, const NamedParametersOf<double>&, std::size_t);

}  // namespace xtgrad
