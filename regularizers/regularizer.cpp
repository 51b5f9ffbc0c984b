#include "xtgrad/regularizers/regularizer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/norms.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// Finite and ≥ 0, or std::invalid_argument naming `who` and the coefficient `what`.
double checked_coefficient(const char* who, const char* what, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw std::invalid_argument(std::string(who) + ": coefficient '" + what +
                                "' must be finite and >= 0, got " + format_coefficient(value));
  }
  return value == 0 ? 0.0 : value;  // -0 → +0, so describe() prints "0"
}

void check_defined(const char* who, const NamedParameters& params) {
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument(std::string(who) + ": parameter '" + name +
                                  "' is an empty Variable");
    }
  }
}

// The selected tensors, each once even if listed under two names (shared weights).
std::vector<Variable> selected(const char* who, const NamedParameters& params,
                               const Selection& selection) {
  check_defined(who, params);
  std::vector<Variable> chosen;
  std::unordered_set<const Node*> seen;
  for (const auto& [name, param] : params) {
    if (selection.selects(name, param) && seen.insert(param.node().get()).second) {
      chosen.push_back(param);
    }
  }
  return chosen;
}

// Σₜ f(wₜ) as a chain of add nodes; empty → undefined.
template <class F>
Variable sum_over(const std::vector<Variable>& tensors, F f) {
  Variable total;
  for (const auto& w : tensors) total = total.defined() ? total + f(w) : f(w);
  return total;
}

// l1·Σ|w| + ½·l2·Σw² over the selected tensors; a constant 0 if no term remains.
Variable elastic_penalty(const char* who, const NamedParameters& params,
                         const Selection& selection, double l1_coef, double l2_coef) {
  const auto tensors = selected(who, params, selection);
  Variable total;
  if (!tensors.empty() && l1_coef != 0) {
    total = sum_over(tensors, [](const Variable& w) { return l1(w); }) * l1_coef;
  }
  if (!tensors.empty() && l2_coef != 0) {
    Variable term = sum_over(tensors, [](const Variable& w) { return squared_l2(w); }) *
                    (0.5 * l2_coef);
    total = total.defined() ? total + term : term;
  }
  return total.defined() ? total : Variable::scalar(0);
}

std::vector<Coverage> elastic_coverage(const char* who, const NamedParameters& params,
                                       const Selection* selection, double l1_coef,
                                       double l2_coef) {
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
    }
    rows.push_back(std::move(row));
  }
  return rows;
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

// ---- L1 -----------------------------------------------------------------------------------

L1::L1(double lambd, Selection selection)
    : lambd_(checked_coefficient("L1", "lambd", lambd)), selection_(std::move(selection)) {}

Variable L1::penalty(const NamedParameters& params) const {
  return elastic_penalty("L1", params, selection_, lambd_, 0);
}

std::string L1::describe() const { return "l1(lambd=" + format_coefficient(lambd_) + ")"; }

std::vector<Coverage> L1::coverage(const NamedParameters& params) const {
  return elastic_coverage("L1", params, &selection_, lambd_, 0);
}

// ---- L2 -----------------------------------------------------------------------------------

L2::L2(double lambd, Selection selection)
    : lambd_(checked_coefficient("L2", "lambd", lambd)), selection_(std::move(selection)) {}

Variable L2::penalty(const NamedParameters& params) const {
  return elastic_penalty("L2", params, selection_, 0, lambd_);
}

std::string L2::describe() const { return "l2(lambd=" + format_coefficient(lambd_) + ")"; }

std::vector<Coverage> L2::coverage(const NamedParameters& params) const {
  return elastic_coverage("L2", params, &selection_, 0, lambd_);
}

// ---- ElasticNet ---------------------------------------------------------------------------

ElasticNet::ElasticNet(double l1, double l2, Selection selection)
    : l1_(checked_coefficient("ElasticNet", "l1", l1)),
      l2_(checked_coefficient("ElasticNet", "l2", l2)),
      selection_(std::move(selection)) {}

Variable ElasticNet::penalty(const NamedParameters& params) const {
  return elastic_penalty("ElasticNet", params, selection_, l1_, l2_);
}

std::string ElasticNet::describe() const {
  return "l1_l2(l1=" + format_coefficient(l1_) + ", l2=" + format_coefficient(l2_) + ")";
}

std::vector<Coverage> ElasticNet::coverage(const NamedParameters& params) const {
  return elastic_coverage("ElasticNet", params, &selection_, l1_, l2_);
}

// ---- NoPenalty ----------------------------------------------------------------------------

Variable NoPenalty::penalty(const NamedParameters& params) const {
  check_defined("NoPenalty", params);
  return Variable::scalar(0);
}

std::string NoPenalty::describe() const { return "none"; }

std::vector<Coverage> NoPenalty::coverage(const NamedParameters& params) const {
  return elastic_coverage("NoPenalty", params, nullptr, 0, 0);
}

// ---- coverage table -----------------------------------------------------------------------

std::string format_coverage(const std::vector<Coverage>& rows) {
  const std::vector<std::string> header = {"parameter", "shape", "penalized", "l1", "l2"};
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
      << " of " << with_commas(all_elements) << " elements); penalty = l1·Σ|w| + ½·l2·Σw²\n";
  return out.str();
}

std::string format_coverage(const Regularizer& reg, const NamedParameters& params) {
  return "regularizer " + reg.describe() + "\n" + format_coverage(reg.coverage(params));
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
