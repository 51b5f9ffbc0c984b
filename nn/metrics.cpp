#include "xtgrad/nn/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/activations.hpp"

namespace xtgrad {
namespace nn {
namespace {

// (n, classes) against n labels, each < classes; else the error naming `who`.
template <class T>
void check_predictions(const char* who, const TensorOf<T>& p, const std::vector<std::size_t>& labels) {
  if (p.dimension() != 2 || p.shape()[0] != labels.size() || p.shape()[0] == 0) {
    throw std::invalid_argument(std::string(who) + ": expected (n, classes) with n = " + std::to_string(labels.size()) +
                                " labels (n > 0), got " + shape_str(p));
  }
  const std::size_t classes = p.shape()[1];
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes) {
      throw std::invalid_argument(std::string(who) + ": label " + std::to_string(labels[i]) + " of row " +
                                  std::to_string(i) + " is not below the " + std::to_string(classes) + " classes");
    }
  }
}

// I_x(a, b), the regularized incomplete beta function, by its continued fraction (DLMF 8.17.22)
// evaluated with the modified Lentz method; the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) keeps x
// on the side where the fraction converges fast.
double incomplete_beta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(1 - x, b, a);
  const double log_front = a * std::log(x) + b * std::log1p(-x) - (std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b));
  const double tiny = 1e-300;
  // 1/(1 + d₁/(1 + d₂/(1 + …))): d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)),
  // d_{2m} = m(b−m)x / ((a+2m−1)(a+2m))
  double f = tiny, c = tiny, d = 0;
  for (int j = 1; j < 10000; ++j) {
    double numerator = 1;  // the first term's
    if (j > 1) {
      const int k = j - 1;  // d_k
      const double m = k / 2;
      numerator = (k % 2 == 1) ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                               : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    }
    d = 1 + numerator * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + numerator / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double step = c * d;
    f *= step;
    if (std::abs(step - 1) < 1e-15) break;
  }
  return std::exp(log_front) / a * f;
}

void check_dof(const char* who, double dof) {
  if (!(dof > 0) || !std::isfinite(dof)) {
    throw std::invalid_argument(std::string(who) + ": degrees of freedom must be finite and > 0, got " +
                                std::to_string(dof));
  }
}

void check_level(double level) {
  if (!(level > 0 && level < 1)) {
    throw std::invalid_argument("confidence interval: level must be in (0, 1), got " + std::to_string(level));
  }
}

}  // namespace

template <class T>
std::vector<CalibrationBin> calibration_bins(const TensorOf<T>& probs, const std::vector<std::size_t>& labels,
                                             std::size_t bins) {
  if (bins == 0) throw std::invalid_argument("calibration_bins: bins must be positive");
  check_predictions("calibration_bins", probs, labels);
  const std::size_t n = labels.size(), classes = probs.shape()[1];
  std::vector<CalibrationBin> out(bins);
  std::vector<double> confidence_sum(bins, 0), correct(bins, 0);
  for (std::size_t b = 0; b < bins; ++b) {
    out[b].lower = double(b) / double(bins);
    out[b].upper = double(b + 1) / double(bins);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = probs.data() + i * classes;
    const std::size_t predicted = std::size_t(std::max_element(row, row + classes) - row);  // ties: the first
    const double confidence = double(row[predicted]);
    // bin b holds (b/B, (b+1)/B]: ⌈confidence·B⌉ − 1, clamped
    const double scaled = std::ceil(confidence * double(bins)) - 1;
    const std::size_t b = scaled <= 0 ? 0 : std::min(bins - 1, std::size_t(scaled));
    ++out[b].count;
    confidence_sum[b] += confidence;
    correct[b] += predicted == labels[i];
  }
  for (std::size_t b = 0; b < bins; ++b) {
    if (out[b].count == 0) continue;
    out[b].confidence = confidence_sum[b] / double(out[b].count);
    out[b].accuracy = correct[b] / double(out[b].count);
  }
  return out;
}

template <class T>
double expected_calibration_error(const TensorOf<T>& probs, const std::vector<std::size_t>& labels, std::size_t bins) {
  double ece = 0;
  for (const CalibrationBin& b : calibration_bins(probs, labels, bins)) {
    ece += double(b.count) / double(labels.size()) * std::abs(b.accuracy - b.confidence);
  }
  return ece;
}

template <class T>
double negative_log_likelihood(const TensorOf<T>& log_probs, const std::vector<std::size_t>& labels) {
  check_predictions("negative_log_likelihood", log_probs, labels);
  const std::size_t classes = log_probs.shape()[1];
  double sum = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) sum -= double(log_probs.data()[i * classes + labels[i]]);
  return sum / double(labels.size());
}

template <class T>
TensorOf<T> log_probabilities(BasicModule<T>& model, const TensorOf<T>& inputs, std::size_t batch_size) {
  using Tensor = TensorOf<T>;
  using Variable = BasicVariable<T>;
  if (batch_size == 0) throw std::invalid_argument("log_probabilities: batch_size must be positive");
  if (inputs.dimension() < 2 || inputs.shape()[0] == 0) {
    throw std::invalid_argument("log_probabilities: inputs must be (n, ...) with n > 0, got " + shape_str(inputs));
  }
  NoGrad no_grad;
  EvalModeGuard eval_mode(model);
  const std::size_t n = inputs.shape()[0], d = inputs.size() / n;
  Shape shape = shape_of(inputs);
  Tensor out;
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t rows = std::min(batch_size, n - start);
    shape[0] = rows;
    Tensor batch = Tensor::from_shape(shape);
    std::copy(inputs.data() + start * d, inputs.data() + (start + rows) * d, batch.data());
    const Tensor lp = log_softmax(model(Variable(std::move(batch))), -1).value();
    if (lp.dimension() != 2 || lp.shape()[0] != rows) {
      throw std::invalid_argument("log_probabilities: the model's output must be (n, classes), got " + shape_str(lp));
    }
    if (start == 0) out = Tensor::from_shape({n, lp.shape()[1]});
    std::copy(lp.data(), lp.data() + lp.size(), out.data() + start * lp.shape()[1]);
  }
  return out;
}

template <class T>
std::vector<WeightStats> weight_statistics(const NamedParametersOf<T>& params) {
  std::vector<WeightStats> out;
  for (const auto& p : params) {
    const TensorOf<T>& w = p.second.value();
    WeightStats s;
    s.name = p.first;
    s.shape = shape_of(w);
    s.count = w.size();
    double squares = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double v = double(w.data()[i]);
      s.exact_zeros += v == 0;
      s.l1 += std::abs(v);
      squares += v * v;
      s.max_abs = std::max(s.max_abs, std::abs(v));
    }
    s.l2 = std::sqrt(squares);
    if (w.dimension() >= 2 && w.shape()[0] > 0) {
      s.units = w.shape()[0];
      const std::size_t per_unit = w.size() / s.units;
      for (std::size_t u = 0; u < s.units; ++u) {
        const T* first = w.data() + u * per_unit;
        s.dead_units += std::all_of(first, first + per_unit, [](T v) { return v == T(0); });
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

double student_t_cdf(double t, double dof) {
  check_dof("student_t_cdf", dof);
  if (std::isnan(t)) return t;
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  const double tail = 0.5 * incomplete_beta(dof / (dof + t * t), dof / 2, 0.5);  // P(X > |t|)
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  check_dof("student_t_quantile", dof);
  if (!(p > 0 && p < 1)) throw std::invalid_argument("student_t_quantile: p must be in (0, 1), got " + std::to_string(p));
  if (p == 0.5) return 0;
  if (p < 0.5) return -student_t_quantile(1 - p, dof);
  // Bracket, then bisect the CDF (increasing) to the last representable step.
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, dof) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return std::numeric_limits<double>::infinity();
  }
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, dof) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

ConfidenceInterval mean_confidence_interval(const std::vector<double>& values, double level) {
  check_level(level);
  const std::size_t n = values.size();
  if (n < 2) {
    throw std::invalid_argument("mean_confidence_interval: needs at least 2 values, got " + std::to_string(n));
  }
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      throw std::invalid_argument("mean_confidence_interval: value " + std::to_string(i) + " is not finite");
    }
    sum += values[i];
  }
  ConfidenceInterval ci;
  ci.n = n;
  ci.level = level;
  ci.mean = sum / double(n);
  double squares = 0;
  for (const double v : values) squares += (v - ci.mean) * (v - ci.mean);
  const double standard_error = std::sqrt(squares / double(n - 1) / double(n));
  ci.half_width = student_t_quantile(0.5 + level / 2, double(n - 1)) * standard_error;
  ci.lower = ci.mean - ci.half_width;
  ci.upper = ci.mean + ci.half_width;
  return ci;
}

ConfidenceInterval paired_difference_interval(const std::vector<double>& a, const std::vector<double>& b, double level) {
  if (a.size() != b.size()) {
    throw std::invalid_argument("paired_difference_interval: " + std::to_string(a.size()) + " values against " +
                                std::to_string(b.size()) + "; pairs need as many of each");
  }
  std::vector<double> differences(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) differences[i] = a[i] - b[i];
  return mean_confidence_interval(differences, level);
}

std::vector<PairedSummary> compare_paired(const std::vector<std::vector<double>>& values, std::size_t baseline,
                                          double level) {
  for (std::size_t m = 1; m < values.size(); ++m) {
    if (values[m].size() != values[0].size()) {
      throw std::invalid_argument("compare_paired: method " + std::to_string(m) + " has " +
                                  std::to_string(values[m].size()) + " values, method 0 has " +
                                  std::to_string(values[0].size()) + "; paired seeds need as many for every method");
    }
  }
  std::vector<PairedSummary> out(values.size());
  for (std::size_t m = 0; m < values.size(); ++m) {
    out[m].values = values[m];
    out[m].interval = mean_confidence_interval(values[m], level);
    if (baseline < values.size() && m != baseline) {
      out[m].difference = paired_difference_interval(values[m], values[baseline], level);
    }
  }
  return out;
}

#define XTGRAD_INSTANTIATE(T)                                                                                       \
  template std::vector<CalibrationBin> calibration_bins(const TensorOf<T>&, const std::vector<std::size_t>&,        \
                                                        std::size_t);                                              \
  template double expected_calibration_error(const TensorOf<T>&, const std::vector<std::size_t>&, std::size_t);     \
  template double negative_log_likelihood(const TensorOf<T>&, const std::vector<std::size_t>&);                     \
  template TensorOf<T> log_probabilities(BasicModule<T>&, const TensorOf<T>&, std::size_t);                         \
  template std::vector<WeightStats> weight_statistics(const NamedParametersOf<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
