#include "pruning.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"

namespace mnist_app {

using namespace xtgrad;

namespace {

// Rows [begin, begin + n) of the test inputs as the model's input: (n, 784), or (n, 1, 28, 28)
// for a model with a sample shape.
Tensor batch_of(const Tensor& inputs, std::size_t begin, std::size_t n, const Shape& sample_shape) {
  const std::size_t width = inputs.shape()[1];
  Shape shape{n};
  if (sample_shape.empty()) {
    shape.push_back(width);
  } else {
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  }
  Tensor out = Tensor::from_shape(shape);
  std::copy_n(inputs.data() + begin * width, n * width, out.data());
  return out;
}

std::size_t argmax(const Scalar* row, std::size_t k) { return std::size_t(std::max_element(row, row + k) - row); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

PruneSummary prune_and_time(AppNet& model, const PreparedData& data) {
  PruneSummary s;
  nn::Pruned pruned = nn::prune_dead_units<Scalar>(model);
  s.report = pruned.report;
  nn::Sequential& small = pruned.model;
  s.state = nn::state_dict(small);
  nn::Sequential& big = model;  // the unpruned layers, without AppNet's training-only extras
  const nn::EvalModeGuard eval_big(model), eval_small(small);
  NoGrad no_grad;
  // Both models on the same pre-shaped batches (AppNet::forward would reshape them itself).
  const auto run = [](nn::Sequential& m, const Tensor& x) { return m.nn::Sequential::forward(Variable(x)).value(); };

  // The whole test set: accuracy of each, predictions that differ, the largest logit change.
  const Tensor& inputs = data.test.inputs;
  const Tensor& targets = data.test.targets;
  const std::size_t count = inputs.shape()[0], classes = targets.shape()[1];
  std::size_t right_big = 0, right_small = 0;
  for (std::size_t begin = 0; begin < count; begin += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, count - begin);
    const Tensor x = batch_of(inputs, begin, n, model.sample_shape());
    const Tensor yb = run(big, x), ys = run(small, x);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t label = argmax(targets.data() + (begin + i) * classes, classes);
      const std::size_t pb = argmax(yb.data() + i * classes, classes), ps = argmax(ys.data() + i * classes, classes);
      right_big += pb == label;
      right_small += ps == label;
      s.changed_predictions += pb != ps;
    }
    for (std::size_t i = 0; i < yb.size(); ++i) {
      s.max_logit_difference = std::max(s.max_logit_difference, double(std::abs(yb.data()[i] - ys.data()[i])));
    }
  }
  s.unpruned_test_accuracy = double(right_big) / double(count);
  s.test_accuracy = double(right_small) / double(count);

  // Timing: the first 1,024 test images in batches of b (repeated so that a round takes about
  // 50 ms), 11 rounds per model, the two models alternating (and swapping which goes first) so
  // that changes in the machine's load hit both alike; the median round per model.
  for (const std::size_t b : {std::size_t(1), std::size_t(256)}) {
    const std::size_t per_round = std::min<std::size_t>(1024, count - count % b);
    if (per_round == 0) continue;  // fewer test images than one batch
    std::vector<Tensor> batches;
    for (std::size_t begin = 0; begin + b <= per_round; begin += b) {
      batches.push_back(batch_of(inputs, begin, b, model.sample_shape()));
    }
    std::size_t repeats = 1;
    const auto time_round = [&](nn::Sequential& m) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t r = 0; r < repeats; ++r) {
        for (const Tensor& x : batches) run(m, x);
      }
      const std::chrono::duration<double, std::micro> dt = std::chrono::steady_clock::now() - t0;
      return dt.count() / double(repeats * batches.size() * b);
    };
    time_round(small);  // warm-up: buffers, caches
    const double warm = time_round(big) * double(batches.size() * b);  // µs for one pass
    repeats = std::max<std::size_t>(1, std::size_t(std::ceil(50e3 / std::max(warm, 1.0))));
    std::vector<double> tb, ts;
    for (int round = 0; round < 11; ++round) {
      if (round % 2 == 0) {
        tb.push_back(time_round(big));
        ts.push_back(time_round(small));
      } else {
        ts.push_back(time_round(small));
        tb.push_back(time_round(big));
      }
    }
    s.timing.push_back({b, median(tb), median(ts)});
  }
  return s;
}

std::string format_prune_summary(const PruneSummary& s) {
  std::string out = "pruned model (dead units removed, nn::prune_dead_units)\n" + nn::format_prune_report(s.report);
  out += fmt::format("test accuracy {:.4f} pruned, {:.4f} unpruned; {} of the test predictions differ; max |logit "
                     "difference| {:.3g}\n",
                     s.test_accuracy, s.unpruned_test_accuracy, s.changed_predictions, s.max_logit_difference);
  for (const auto& t : s.timing) {
    out += fmt::format("inference at batch {:>3}: {:.2f} us/image pruned, {:.2f} us/image unpruned ({:.2f}x)\n", t.batch,
                       t.pruned_us, t.unpruned_us, t.pruned_us > 0 ? t.unpruned_us / t.pruned_us : 0.0);
  }
  return out;
}

nlohmann::json prune_json(const PruneSummary& s) {
  using nlohmann::json;
  json timing = json::object();
  for (const auto& t : s.timing) {
    timing["batch_" + std::to_string(t.batch)] = {
        {"unpruned", t.unpruned_us}, {"pruned", t.pruned_us}, {"speedup", t.pruned_us > 0 ? t.unpruned_us / t.pruned_us : 0.0}};
  }
  json layers = json::array();
  for (const auto& l : s.report.layers) {
    layers.push_back({{"layer", l.name}, {"units", l.units}, {"kept", l.kept}, {"dead_in", l.dead_in},
                      {"dead_out", l.dead_out}, {"kept_dead", l.stuck}});
  }
  return {{"hidden_units", {{"unpruned", s.report.hidden_units_before}, {"pruned", s.report.hidden_units_after}}},
          {"parameters", {{"unpruned", s.report.parameters_before}, {"pruned", s.report.parameters_after}}},
          {"test_accuracy", {{"unpruned", s.unpruned_test_accuracy}, {"pruned", s.test_accuracy}}},
          {"changed_predictions", s.changed_predictions},
          {"max_logit_difference", s.max_logit_difference},
          {"inference_us_per_image", timing},
          {"layers", layers}};
}

PruneSummary prune_from_json(const nlohmann::json& j) {
  PruneSummary s;
  s.report.hidden_units_before = j.at("hidden_units").at("unpruned").get<std::size_t>();
  s.report.hidden_units_after = j.at("hidden_units").at("pruned").get<std::size_t>();
  s.report.parameters_before = j.at("parameters").at("unpruned").get<std::size_t>();
  s.report.parameters_after = j.at("parameters").at("pruned").get<std::size_t>();
  s.unpruned_test_accuracy = j.at("test_accuracy").at("unpruned").get<double>();
  s.test_accuracy = j.at("test_accuracy").at("pruned").get<double>();
  s.changed_predictions = j.at("changed_predictions").get<std::size_t>();
  s.max_logit_difference = j.at("max_logit_difference").get<double>();
  for (const auto& [key, t] : j.at("inference_us_per_image").items()) {
    s.timing.push_back({std::stoul(key.substr(key.find('_') + 1)), t.at("unpruned").get<double>(),
                        t.at("pruned").get<double>()});
  }
  std::sort(s.timing.begin(), s.timing.end(), [](const auto& a, const auto& b) { return a.batch < b.batch; });
  for (const auto& l : j.at("layers")) {
    s.report.layers.push_back({l.at("layer").get<std::string>(), l.at("units").get<std::size_t>(),
                               l.at("kept").get<std::size_t>(), l.at("dead_in").get<std::size_t>(),
                               l.at("dead_out").get<std::size_t>(), l.at("kept_dead").get<std::size_t>()});
  }
  return s;
}

void write_pruned_models(const std::string& dir, const std::vector<RunResult>& runs, std::vector<std::string>& written) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].pruned) continue;
    const std::string name = runs.size() == 1 ? "pruned.npz" : fmt::format("pruned-{}.npz", i + 1);
    nn::save_state_dict(runs[i].pruned->state, (std::filesystem::path(dir) / name).string());
    written.push_back(name);
  }
}

}  // namespace mnist_app
