// --prune: the trained model without its dead hidden units (nn::prune_dead_units), checked
// against the unpruned model on the whole test set and timed beside it in the same process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment.hpp"
#include "xtgrad/nn/prune.hpp"
#include "xtgrad/nn/serialize.hpp"

namespace mnist_app {

// Inference time at one batch size: microseconds per image, the median over alternating rounds
// (unpruned, pruned, pruned, unpruned, ...), forward only, eval mode, no graph.
struct InferenceTime {
  std::size_t batch = 0;
  double unpruned_us = 0, pruned_us = 0;
};

struct PruneSummary {
  xtgrad::nn::PruneReport report;
  double unpruned_test_accuracy = 0, test_accuracy = 0;
  std::size_t changed_predictions = 0;  // test images whose predicted class differs
  double max_logit_difference = 0;      // max |logit(pruned) − logit(unpruned)| over the test set
  std::vector<InferenceTime> timing;    // batch 1 and batch 256
  // The pruned model's state dict (what pruned.npz holds): names and values only, so a run
  // trained on another rank carries it over (run_transfer.hpp).
  xtgrad::nn::StateDict state;
};

// Prunes `model` (trained, any mode), evaluates both models on data.test and times both at
// batch 1 and 256 on test images, at the current thread count (a batch size larger than the
// test set is left out of `timing`).
PruneSummary prune_and_time(AppNet& model, const PreparedData& data);

// The report table, the accuracy check and the timing, a few lines.
std::string format_prune_summary(const PruneSummary& s);

// summary.json's "pruned" object: hidden_units, parameters, test_accuracy (each unpruned and
// pruned), changed_predictions, max_logit_difference, inference_us_per_image by batch, layers.
nlohmann::json prune_json(const PruneSummary& s);
// The inverse of prune_json (state aside: run_transfer carries it); nlohmann::json::exception
// when `j` is not what prune_json wrote.
PruneSummary prune_from_json(const nlohmann::json& j);

// The pruned model of every run that has one: DIR/pruned.npz for a single run, else
// DIR/pruned-<k>.npz (k the run's 1-based number, as history.csv's `run`); the names are
// appended to `written`.
void write_pruned_models(const std::string& dir, const std::vector<RunResult>& runs,
                         std::vector<std::string>& written);

}  // namespace mnist_app
