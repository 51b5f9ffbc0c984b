// What a trained classifier is worth beyond its accuracy: calibration (reliability bins, expected
// calibration error, negative log-likelihood), the state of its weights (norms, exact zeros, dead
// units), and the statistics of repeated runs (Student t intervals, paired differences).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// ---- calibration -----------------------------------------------------------------------------

// One bin of a reliability diagram: the predictions whose confidence (largest class
// probability) falls in (lower, upper] (the first bin also takes confidence 0).
struct CalibrationBin {
  double lower = 0, upper = 0;
  std::size_t count = 0;
  double confidence = 0;  // mean confidence of its predictions (0 when empty)
  double accuracy = 0;    // fraction of them whose arg-max is the label (0 when empty)
};

// `bins` equal-width bins over [0, 1] of the rows of `probs` (n, classes) against `labels`
// (n class indices). std::invalid_argument naming the function for bins = 0, n = 0, a shape
// that is not (n, classes) with n = labels.size(), or a label ≥ classes.
template <class T>
std::vector<CalibrationBin> calibration_bins(const TensorOf<T>& probs, const std::vector<std::size_t>& labels,
                                             std::size_t bins = 15);

// ECE = Σ_b (n_b / n)·|accuracy_b − confidence_b| over calibration_bins (0: perfectly calibrated).
template <class T>
double expected_calibration_error(const TensorOf<T>& probs, const std::vector<std::size_t>& labels,
                                  std::size_t bins = 15);

// −(1/n) Σᵢ log_probs[i, labelᵢ] for log-probabilities (n, classes), as PyTorch's nll_loss with
// mean reduction (so the test NLL is this of log_softmax(logits)). Summed in double.
template <class T>
double negative_log_likelihood(const TensorOf<T>& log_probs, const std::vector<std::size_t>& labels);

// log_softmax of model(inputs) over the classes, (n, classes), batch by batch, in evaluation
// mode (each module's mode restored after) and without a graph. inputs: (n, ...).
template <class T>
TensorOf<T> log_probabilities(BasicModule<T>& model, const TensorOf<T>& inputs, std::size_t batch_size = 1000);

// ---- weights ---------------------------------------------------------------------------------

// One parameter tensor's size and sparsity. A "unit" is a slice along the first axis of a
// tensor of two axes or more: a hidden unit's incoming weights (a row of a Linear weight
// (out, in)) or a convolution's filter (out, in, kh, kw). It is dead when all its weights are
// exactly 0: its pre-activation is then its bias alone, the same for every input.
struct WeightStats {
  std::string name;
  Shape shape;
  std::size_t count = 0;        // elements
  std::size_t exact_zeros = 0;  // elements == 0
  double l1 = 0;                // Σ|w|
  double l2 = 0;                // √Σw² (the Frobenius norm)
  double max_abs = 0;           // max |w|
  std::size_t units = 0;        // shape[0] for two axes or more, else 0
  std::size_t dead_units = 0;   // units whose weights are all exactly 0
};

// WeightStats of every parameter, in order, summed in double.
template <class T>
std::vector<WeightStats> weight_statistics(const NamedParametersOf<T>& params);

// ---- repeated runs ---------------------------------------------------------------------------

// P(X ≤ t) for Student's t with `dof` > 0 degrees of freedom, by the regularized incomplete
// beta function: 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0 (accurate to ~1e-14).
double student_t_cdf(double t, double dof);
// The t with student_t_cdf(t, dof) = p, p ∈ (0, 1) (to ~1e-12 relative). For a two-sided 95%
// interval with n values: student_t_quantile(0.975, n − 1) (2.776 for n = 5).
// std::invalid_argument for p outside (0, 1) or dof ≤ 0 (or not finite).
double student_t_quantile(double p, double dof);

// mean ± t_{(1+level)/2, n−1}·s/√n, s the sample standard deviation (n − 1 in the denominator).
struct ConfidenceInterval {
  double mean = 0;
  double half_width = 0;
  double lower = 0, upper = 0;  // mean ∓ half_width
  std::size_t n = 0;
  double level = 0.95;
  // 0 lies outside [lower, upper].
  bool excludes_zero() const { return lower > 0 || upper < 0; }
};

// The Student t interval of the mean of `values`. std::invalid_argument for fewer than 2
// values, a value that is not finite, or a level outside (0, 1).
ConfidenceInterval mean_confidence_interval(const std::vector<double>& values, double level = 0.95);

// The interval of the mean of aᵢ − bᵢ (paired: aᵢ and bᵢ measured under the same seed, so what
// the seed changes in both cancels). std::invalid_argument when the sizes differ, as above.
ConfidenceInterval paired_difference_interval(const std::vector<double>& a, const std::vector<double>& b,
                                              double level = 0.95);

// One measure of one method over paired seeds: its values, their t-interval and, for a method
// other than the baseline, the interval of its paired difference from the baseline.
struct PairedSummary {
  std::vector<double> values;
  ConfidenceInterval interval;
  std::optional<ConfidenceInterval> difference;  // empty for the baseline itself, or without one
};
// Methods compared over the same seeds: values[m][s] is method m's measure under seed s, every
// method with as many seeds, seed s the same for all (so the differences are paired). One
// PairedSummary per method; `baseline` is the method the differences are taken from (npos or
// ≥ values.size(): none). std::invalid_argument naming the method (by index) whose count of
// values differs from the first's, and as mean_confidence_interval for fewer than 2 seeds.
//
//   // accuracy[m][s]: method m (0 = no penalty) trained under seed s
//   const auto table = nn::compare_paired(accuracy, 0);
//   if (table[1].difference && table[1].difference->excludes_zero()) { /* method 1 differs */ }
std::vector<PairedSummary> compare_paired(const std::vector<std::vector<double>>& values, std::size_t baseline,
                                          double level = 0.95);

extern template std::vector<CalibrationBin> calibration_bins(const TensorOf<float>&, const std::vector<std::size_t>&,
                                                             std::size_t);
extern template std::vector<CalibrationBin> calibration_bins(const TensorOf<double>&, const std::vector<std::size_t>&,
                                                             std::size_t);
extern template double expected_calibration_error(const TensorOf<float>&, const std::vector<std::size_t>&, std::size_t);
extern template double expected_calibration_error(const TensorOf<double>&, const std::vector<std::size_t>&, std::size_t);
extern template double negative_log_likelihood(const TensorOf<float>&, const std::vector<std::size_t>&);
extern template double negative_log_likelihood(const TensorOf<double>&, const std::vector<std::size_t>&);
extern template TensorOf<float> log_probabilities(BasicModule<float>&, const TensorOf<float>&, std::size_t);
extern template TensorOf<double> log_probabilities(BasicModule<double>&, const TensorOf<double>&, std::size_t);
extern template std::vector<WeightStats> weight_statistics(const NamedParametersOf<float>&);
extern template std::vector<WeightStats> weight_statistics(const NamedParametersOf<double>&);

}  // namespace nn
}  // namespace xtgrad
