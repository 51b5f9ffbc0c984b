// Pictures of what a penalty did to the weights: the log-|w| panel of weights.png, the
// per-pixel map pixels.png, and one training step's graph (--dump-graph).
#pragma once

#include <string>
#include <vector>

#include "experiment.hpp"

namespace mnist_app {

// A run's name in plot legends: its spec, and " (blog gradient)" for the blog's gradient.
std::string run_title(const RunResult& run);

// A histogram of log10|w| over the nonzero first-layer weights of each run (`data`, for a file
// named `data_file`) and gnuplot commands for a panel plotting it, with each run's count of
// exact zeros as text: with the linear histogram above it, exact zeros and tiny weights part.
struct LogWeightsPanel {
  std::string data, commands;
};
LogWeightsPanel log_weights_panel(const std::string& data_file, const std::vector<RunResult>& runs);

// Each input's first-layer weight norm ‖W₁[:, i]‖₂ (W₁ is (hidden, inputs), a Linear weight).
std::vector<double> input_norms(const xtgrad::Tensor& first_layer_weights);

// DIR/pixels.png: per run, the 28×28 map of input_norms on a log colour scale, inputs whose
// weights are all exactly 0 left white, their count in the title. Returns a one-line note
// when skipped (no gnuplot, or inputs that are not 28×28 images); OutputError on failure.
std::string write_pixels_png(const std::string& dir, const std::vector<RunResult>& runs);

// Builds the model as run_experiment does and records one training step's loss (data loss
// on the first batch plus reg's penalty) without running it; writes xtgrad::to_dot of it to
// `path` and, when Graphviz's dot is installed, renders it to `path` with extension .png.
// Returns a one-line note saying what was written; OutputError naming --dump-graph on failure.
std::string dump_graph(const PreparedData& data, const Config& config, const xtgrad::Regularizer& reg,
                       const std::string& path);

}  // namespace mnist_app
