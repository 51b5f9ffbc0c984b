#include "run_transfer.hpp"

#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pruning.hpp"

// Each struct's fields listed once, in nlohmann's macros: a field missing from a list is a
// field lost on its way to rank 0 (a hand-written list had dropped Coverage's group lasso terms).
// Numbers are exact: a double prints as the shortest decimal that reads back the same.

// A tensor as {"shape", "data"}; its floats widen to doubles exactly. Only this file converts
// tensors to JSON.
template <>
struct nlohmann::adl_serializer<xtgrad::Tensor> {
  static void to_json(json& j, const xtgrad::Tensor& t) {
    j = {{"shape", xtgrad::shape_of(t)}, {"data", std::vector<double>(t.data(), t.data() + t.size())}};
  }
  static void from_json(const json& j, xtgrad::Tensor& t) {
    t = xtgrad::Tensor::from_shape(j.at("shape").get<xtgrad::Shape>());
    const auto data = j.at("data").get<std::vector<double>>();
    if (data.size() != t.size()) throw std::invalid_argument("decode_runs: a tensor's data does not fit its shape");
    for (std::size_t i = 0; i < data.size(); ++i) t.data()[i] = xtgrad::Scalar(data[i]);
  }
};

// --prune's summary (as summary.json has it) and the pruned model's state dict; null without.
template <>
struct nlohmann::adl_serializer<std::shared_ptr<const mnist_app::PruneSummary>> {
  static void to_json(json& j, const std::shared_ptr<const mnist_app::PruneSummary>& p) {
    j = p ? json{{"summary", mnist_app::prune_json(*p)}, {"state", p->state}} : json(nullptr);
  }
  static void from_json(const json& j, std::shared_ptr<const mnist_app::PruneSummary>& p) {
    if (j.is_null()) {
      p.reset();
      return;
    }
    auto s = std::make_shared<mnist_app::PruneSummary>(mnist_app::prune_from_json(j.at("summary")));
    s->state = j.at("state").get<xtgrad::nn::StateDict>();
    p = std::move(s);
  }
};

namespace xtgrad {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Coverage, name, shape, penalized, l1, l2, l1_mode, start, group, groups)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SparsityRow, name, shape, count, zeros, near_zeros, zero_fraction,
                                   near_zero_fraction, eps, is_matrix, rows, cols, zero_rows, zero_cols,
                                   near_zero_rows, near_zero_cols)
namespace nn {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EpochStats, epoch, data_loss, penalty, loss, test_accuracy, seconds, eval_seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CalibrationBin, lower, upper, count, confidence, accuracy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WeightStats, name, shape, count, exact_zeros, l1, l2, max_abs, units, dead_units)
}  // namespace nn
}  // namespace xtgrad

namespace mnist_app {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunResult, reg, effects, gradient, history, test_accuracy, seconds_per_epoch,
                                   train_accuracy, fgsm_accuracy, best_epoch, coverage, tensor_penalties, sparsity,
                                   first_layer_weights, seed, ece, test_nll, calibration, hessian_top_eigenvalue,
                                   hessian_iterations, hessian_residual, weights, pruned)

std::string encode_runs(const std::vector<std::pair<std::size_t, RunResult>>& runs) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [index, run] : runs) all.push_back({{"index", index}, {"run", run}});
  return all.dump();
}

std::vector<std::pair<std::size_t, RunResult>> decode_runs(const std::string& text) {
  std::vector<std::pair<std::size_t, RunResult>> out;
  try {
    for (const auto& item : nlohmann::json::parse(text)) {
      out.emplace_back(item.at("index").get<std::size_t>(), item.at("run").get<RunResult>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("decode_runs: ") + e.what());
  }
  return out;
}

}  // namespace mnist_app
