#include "run_transfer.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pruning.hpp"

namespace mnist_app {
namespace {

using json = nlohmann::json;

json tensor_json(const xtgrad::Tensor& t) {
  return {{"shape", xtgrad::shape_of(t)}, {"data", std::vector<double>(t.data(), t.data() + t.size())}};
}

xtgrad::Tensor tensor_from(const json& j) {
  xtgrad::Tensor t = xtgrad::Tensor::from_shape(j.at("shape").get<xtgrad::Shape>());
  const auto data = j.at("data").get<std::vector<double>>();
  if (data.size() != t.size()) throw std::invalid_argument("decode_runs: a tensor's data does not fit its shape");
  for (std::size_t i = 0; i < data.size(); ++i) t.data()[i] = xtgrad::Scalar(data[i]);
  return t;
}

json run_json(const RunResult& r) {
  json history = json::array(), coverage = json::array(), sparsity = json::array();
  for (const auto& e : r.history) {
    history.push_back({e.epoch, e.data_loss, e.penalty, e.loss, e.test_accuracy, e.seconds, e.eval_seconds});
  }
  for (const auto& c : r.coverage) {
    coverage.push_back({c.name, c.shape, c.penalized, c.l1, c.l2, int(c.l1_mode), c.start});
  }
  for (const auto& s : r.sparsity) {
    sparsity.push_back({s.name, s.shape, s.count, s.zeros, s.near_zeros, s.zero_fraction, s.near_zero_fraction, s.eps,
                        s.is_matrix, s.rows, s.cols, s.zero_rows, s.zero_cols, s.near_zero_rows, s.near_zero_cols});
  }
  // The final model's evaluation (evaluate_final_model).
  json calibration = json::array(), weights = json::array();
  for (const auto& b : r.calibration) calibration.push_back({b.lower, b.upper, b.count, b.confidence, b.accuracy});
  for (const auto& w : r.weights) {
    weights.push_back({w.name, w.shape, w.count, w.exact_zeros, w.l1, w.l2, w.max_abs, w.units, w.dead_units});
  }
  const json final_model = {{"seed", r.seed}, {"ece", r.ece}, {"test_nll", r.test_nll}, {"calibration", calibration},
                            {"hessian_top_eigenvalue", r.hessian_top_eigenvalue},
                            {"hessian_iterations", r.hessian_iterations}, {"hessian_residual", r.hessian_residual},
                            {"weights", weights}};
  json out = {{"reg", r.reg},
          {"final_model", final_model},
          {"gradient", r.gradient},
          {"history", history},
          {"test_accuracy", r.test_accuracy},
          {"seconds_per_epoch", r.seconds_per_epoch},
          {"effects", r.effects},
          {"train_accuracy", r.train_accuracy},
          {"fgsm_accuracy", r.fgsm_accuracy},
          {"best_epoch", r.best_epoch},
          {"coverage", coverage},
          {"tensor_penalties", r.tensor_penalties},
          {"sparsity", sparsity},
          {"first_layer_weights", tensor_json(r.first_layer_weights)}};
  if (r.pruned) {  // --prune: the summary and the pruned model's state (pruned.npz)
    json state = json::object();
    for (const auto& [name, t] : r.pruned->state) state[name] = tensor_json(t);
    out["pruned"] = {{"summary", prune_json(*r.pruned)}, {"state", state}};
  }
  return out;
}

RunResult run_from(const json& j) {
  RunResult r;
  r.reg = j.at("reg").get<std::string>();
  r.gradient = j.at("gradient").get<std::string>();
  for (const auto& e : j.at("history")) {
    xtgrad::nn::EpochStats s;
    s.epoch = e.at(0).get<std::size_t>();
    s.data_loss = e.at(1).get<double>();
    s.penalty = e.at(2).get<double>();
    s.loss = e.at(3).get<double>();
    s.test_accuracy = e.at(4).get<double>();
    s.seconds = e.at(5).get<double>();
    s.eval_seconds = e.at(6).get<double>();
    r.history.push_back(s);
  }
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.seconds_per_epoch = j.at("seconds_per_epoch").get<double>();
  r.effects = j.at("effects").get<std::vector<std::string>>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.fgsm_accuracy = j.at("fgsm_accuracy").get<std::vector<double>>();
  r.best_epoch = j.at("best_epoch").get<std::size_t>();
  for (const auto& c : j.at("coverage")) {
    xtgrad::Coverage v;
    v.name = c.at(0).get<std::string>();
    v.shape = c.at(1).get<xtgrad::Shape>();
    v.penalized = c.at(2).get<bool>();
    v.l1 = c.at(3).get<double>();
    v.l2 = c.at(4).get<double>();
    v.l1_mode = xtgrad::L1Mode(c.at(5).get<int>());
    v.start = c.at(6).get<std::size_t>();
    r.coverage.push_back(v);
  }
  r.tensor_penalties = j.at("tensor_penalties").get<std::vector<std::vector<double>>>();
  for (const auto& s : j.at("sparsity")) {
    xtgrad::SparsityRow v;
    v.name = s.at(0).get<std::string>();
    v.shape = s.at(1).get<xtgrad::Shape>();
    v.count = s.at(2).get<std::size_t>();
    v.zeros = s.at(3).get<std::size_t>();
    v.near_zeros = s.at(4).get<std::size_t>();
    v.zero_fraction = s.at(5).get<double>();
    v.near_zero_fraction = s.at(6).get<double>();
    v.eps = s.at(7).get<double>();
    v.is_matrix = s.at(8).get<bool>();
    v.rows = s.at(9).get<std::size_t>();
    v.cols = s.at(10).get<std::size_t>();
    v.zero_rows = s.at(11).get<std::size_t>();
    v.zero_cols = s.at(12).get<std::size_t>();
    v.near_zero_rows = s.at(13).get<std::size_t>();
    v.near_zero_cols = s.at(14).get<std::size_t>();
    r.sparsity.push_back(v);
  }
  r.first_layer_weights = tensor_from(j.at("first_layer_weights"));
  const json& f = j.at("final_model");
  r.seed = f.at("seed").get<std::uint64_t>();
  r.ece = f.at("ece").get<double>();
  r.test_nll = f.at("test_nll").get<double>();
  for (const auto& b : f.at("calibration")) {
    r.calibration.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<std::size_t>(),
                             b.at(3).get<double>(), b.at(4).get<double>()});
  }
  r.hessian_top_eigenvalue = f.at("hessian_top_eigenvalue").get<double>();
  r.hessian_iterations = f.at("hessian_iterations").get<std::size_t>();
  r.hessian_residual = f.at("hessian_residual").get<double>();
  for (const auto& w : f.at("weights")) {
    xtgrad::nn::WeightStats v;
    v.name = w.at(0).get<std::string>();
    v.shape = w.at(1).get<xtgrad::Shape>();
    v.count = w.at(2).get<std::size_t>();
    v.exact_zeros = w.at(3).get<std::size_t>();
    v.l1 = w.at(4).get<double>();
    v.l2 = w.at(5).get<double>();
    v.max_abs = w.at(6).get<double>();
    v.units = w.at(7).get<std::size_t>();
    v.dead_units = w.at(8).get<std::size_t>();
    r.weights.push_back(v);
  }
  if (j.contains("pruned")) {
    auto pruned = std::make_shared<PruneSummary>(prune_from_json(j.at("pruned").at("summary")));
    for (const auto& [name, t] : j.at("pruned").at("state").items()) pruned->state.emplace(name, tensor_from(t));
    r.pruned = std::move(pruned);
  }
  return r;
}

}  // namespace

std::string encode_runs(const std::vector<std::pair<std::size_t, RunResult>>& runs) {
  json all = json::array();
  for (const auto& [index, run] : runs) all.push_back({{"index", index}, {"run", run_json(run)}});
  return all.dump();
}

std::vector<std::pair<std::size_t, RunResult>> decode_runs(const std::string& text) {
  std::vector<std::pair<std::size_t, RunResult>> out;
  try {
    for (const auto& item : json::parse(text)) out.emplace_back(item.at("index").get<std::size_t>(), run_from(item.at("run")));
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("decode_runs: ") + e.what());
  }
  return out;
}

}  // namespace mnist_app
