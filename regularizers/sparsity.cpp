#include "xtgrad/regularizers/sparsity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "xtgrad/regularizers/regularizer.hpp"

namespace xtgrad {
namespace {

double fraction(std::size_t part, std::size_t whole) {
  return whole == 0 ? 0.0 : double(part) / double(whole);
}

std::string percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * f);
  return buf;
}

template <class Scalar>
SparsityRow measure(const std::string& name, const TensorOf<Scalar>& w, double eps) {
  SparsityRow row;
  row.name = name;
  row.shape = Shape(w.shape().begin(), w.shape().end());
  row.count = w.size();
  row.eps = eps;
  const Scalar* data = w.data();
  for (std::size_t i = 0; i < row.count; ++i) {
    if (data[i] == 0) ++row.zeros;
    if (std::abs(double(data[i])) < eps) ++row.near_zeros;
  }
  row.zero_fraction = fraction(row.zeros, row.count);
  row.near_zero_fraction = fraction(row.near_zeros, row.count);
  if (row.shape.size() == 2) {
    // Row-major (rows, cols): element (r, c) at r·cols + c.
    row.is_matrix = true;
    row.rows = row.shape[0];
    row.cols = row.shape[1];
    std::vector<char> col_zero(row.cols, 1), col_near(row.cols, 1);
    for (std::size_t r = 0; r < row.rows; ++r) {
      bool row_zero = true, row_near = true;
      for (std::size_t c = 0; c < row.cols; ++c) {
        const Scalar v = data[r * row.cols + c];
        const bool zero = v == 0, near = std::abs(double(v)) < eps;
        row_zero = row_zero && zero;
        row_near = row_near && near;
        col_zero[c] = col_zero[c] && zero;
        col_near[c] = col_near[c] && near;
      }
      row.zero_rows += row_zero;
      row.near_zero_rows += row_near;
    }
    row.zero_cols = std::size_t(std::count(col_zero.begin(), col_zero.end(), 1));
    row.near_zero_cols = std::size_t(std::count(col_near.begin(), col_near.end(), 1));
  }
  return row;
}

}  // namespace

template <class Scalar>
std::vector<SparsityRow> sparsity_report(const NamedParametersOf<Scalar>& params,
                                         const BasicSelection<Scalar>& selection, double eps) {
  if (!std::isfinite(eps) || !(eps > 0)) {
    throw std::invalid_argument("sparsity_report: eps must be finite and > 0, got " +
                                format_coefficient(eps));
  }
  std::vector<SparsityRow> rows;
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument("sparsity_report: parameter '" + name +
                                  "' is an empty Variable");
    }
    if (selection.selects(name, param)) rows.push_back(measure(name, param.value(), eps));
  }
  return rows;
}

std::string format_sparsity(const std::vector<SparsityRow>& rows) {
  const double eps = rows.empty() ? 0.0 : rows.front().eps;
  const std::vector<std::string> header = {
      "parameter", "shape", "elements", "zeros", "|w|<" + format_coefficient(eps),
      "zero rows", "zero cols"};
  std::vector<std::vector<std::string>> cells;
  std::size_t count = 0, zeros = 0, near = 0;
  for (const auto& r : rows) {
    count += r.count;
    zeros += r.zeros;
    near += r.near_zeros;
    cells.push_back({r.name, shape_str(r.shape), std::to_string(r.count),
                     std::to_string(r.zeros) + " (" + percent(r.zero_fraction) + ")",
                     std::to_string(r.near_zeros) + " (" + percent(r.near_zero_fraction) + ")",
                     r.is_matrix ? std::to_string(r.zero_rows) + "/" + std::to_string(r.rows) : "-",
                     r.is_matrix ? std::to_string(r.zero_cols) + "/" + std::to_string(r.cols) : "-"});
  }
  cells.push_back({"total", "", std::to_string(count),
                   std::to_string(zeros) + " (" + percent(fraction(zeros, count)) + ")",
                   std::to_string(near) + " (" + percent(fraction(near, count)) + ")", "", ""});
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  std::ostringstream out;
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t c = 0; c < line.size(); ++c) {
      const std::string& s = line[c];
      text += c + 1 < line.size() ? s + std::string(width[c] + 2 - s.size(), ' ') : s;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  emit(header);
  for (const auto& line : cells) emit(line);
  return out.str();
}

template std::vector<SparsityRow> sparsity_report(const NamedParametersOf<float>&,
                                                  const BasicSelection<float>&, double);
template std::vector<SparsityRow> sparsity_report(const NamedParametersOf<double>&,
                                                  const BasicSelection<double>&, double);

}  // namespace xtgrad
