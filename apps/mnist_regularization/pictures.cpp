#include "pictures.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <limits>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "blog_loss.hpp"
#include "xtgrad/io/gnuplot.hpp"
#include "xtgrad/core/dot_export.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/losses.hpp"

namespace mnist_app {

using xtgrad::io::PlotJob;
using xtgrad::io::ProgramRun;
using xtgrad::io::check_png;
using xtgrad::io::describe_status;
using xtgrad::io::gnuplot_string;
using xtgrad::io::installed;
using xtgrad::io::run_program;

using namespace xtgrad;
namespace fs = std::filesystem;

std::string run_title(const RunResult& r) { return r.reg + (r.gradient == "blog" ? " (blog gradient)" : ""); }

LogWeightsPanel log_weights_panel(const std::string& data_file, const std::vector<RunResult>& runs) {
  // Shared bins over log10|w| of every run's nonzero weights.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : runs) {
    const Tensor& w = r.first_layer_weights;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w.data()[i] == 0) continue;
      const double e = std::log10(std::abs(double(w.data()[i])));
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
  }
  if (!(lo <= hi)) lo = -1, hi = 0;
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  const int bins = 120;
  const double width = (hi - lo) / bins;
  std::string plot, labels;
  std::size_t most = 1;  // the tallest bin, to leave room above it for the labels
  std::ostringstream out;
  {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const Tensor& w = runs[k].first_layer_weights;
      std::vector<std::size_t> count(bins, 0);
      std::size_t zeros = 0;
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (w.data()[i] == 0) {
          ++zeros;
          continue;
        }
        const double e = std::log10(std::abs(double(w.data()[i])));
        ++count[std::clamp(int((e - lo) / width), 0, bins - 1)];
      }
      for (int b = 0; b < bins; ++b) {
        out << std::pow(10.0, lo + (b + 0.5) * width) << " " << count[b] << "\n";
        most = std::max(most, count[b]);
      }
      out << "\n\n";
      plot += fmt::format("{}{} index {} using 1:($2 > 0 ? $2 : NaN) with steps lc {} title {}", k ? ", " : "",
                          gnuplot_string(data_file), k, k + 1, gnuplot_string(run_title(runs[k])));
      labels += fmt::format("set label {} {} at graph 0.02, graph {} left tc lt {}\n", k + 1,
                            gnuplot_string(fmt::format("{}: {} of {} weights exactly 0 ({:.2f}%)", run_title(runs[k]), zeros,
                                              w.size(), w.size() ? 100.0 * zeros / w.size() : 0.0)),
                            0.94 - 0.06 * double(k), k + 1);
    }
  }
  return {out.str(), "set title 'The same weights by size: |w| on a log axis (exact zeros cannot be drawn there: counted)'\n"
         "set xlabel '|w| (log scale)'\nset ylabel 'count'\nset logscale xy\nset format x '%.0e'\n"
         "unset key\n" +
         fmt::format("set yrange [0.8:{:.6g}]\n", double(most) * std::pow(10.0, 0.3 * double(runs.size() + 1))) +
         labels + "plot " + (plot.empty() ? std::string("NaN notitle") : plot) + "\nunset label\nset yrange [*:*]\n"};
}

std::vector<double> input_norms(const Tensor& w) {
  // w (hidden, inputs), a Linear weight: input i's outgoing weights are column i
  const std::size_t hidden = w.dimension() == 2 ? w.shape()[0] : 0, inputs = hidden ? w.shape()[1] : 0;
  std::vector<double> norms(inputs, 0.0);
  for (std::size_t j = 0; j < hidden; ++j) {
    const Tensor::value_type* row = w.data() + j * inputs;
    for (std::size_t i = 0; i < inputs; ++i) norms[i] += double(row[i]) * double(row[i]);
  }
  for (double& v : norms) v = std::sqrt(v);
  return norms;
}

std::string write_pixels_png(const std::string& dir, const std::vector<RunResult>& runs) {
  if (runs.empty()) return "";
  if (!installed("gnuplot")) return "pixels.png skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  constexpr std::size_t side = 28;
  for (const auto& r : runs) {
    if (r.first_layer_weights.dimension() != 2 || r.first_layer_weights.shape()[1] != side * side) {
      return "pixels.png skipped: the first layer does not take 28x28 images";
    }
  }
  double top = 0;
  std::vector<std::vector<double>> norms;
  for (const auto& r : runs) {
    norms.push_back(input_norms(r.first_layer_weights));
    for (double v : norms.back()) top = std::max(top, v);
  }
  if (top == 0) top = 1;
  // Colours over log10 of the norm: five decades up to the largest, smaller norms clamped to the
  // darkest colour; an exactly-0 pixel gets `blank`, a decade below them all, drawn white.
  const double bottom = top * 1e-4, high = std::log10(top), low = std::log10(bottom), blank = low - 1;
  const std::size_t cols = std::size_t(std::ceil(std::sqrt(double(runs.size()))));
  const std::size_t rows = (runs.size() + cols - 1) / cols;
  std::string panels;
  PlotJob job(dir, "pixels.png");
  {
    std::ostringstream out;
    for (std::size_t k = 0; k < runs.size(); ++k) {
      std::size_t dead = 0;
      // gnuplot's matrix format: one text row per image row, y grows upwards, so rows reversed.
      for (std::size_t y = side; y-- > 0;) {
        for (std::size_t x = 0; x < side; ++x) {
          const double v = norms[k][y * side + x];
          dead += v == 0;
          out << (x ? " " : "") << fmt::format("{:.9g}", v == 0 ? blank : std::max(std::log10(v), low));
        }
        out << "\n";
      }
      out << "\n\n";
      panels += fmt::format("set title \"{}\\n{} of 784 pixels exactly 0\"\nplot {} index {} matrix with image notitle\n",
                            run_title(runs[k]), dead, "'pixels.dat'", k);
    }
    job.add_file("pixels.dat", out.str());
  }
  std::ostringstream gp;
  {
    gp << fmt::format("set terminal pngcairo size {},{} noenhanced font ',9'\n", std::max<std::size_t>(260 * cols, 680),
                      270 * rows + 70);
    gp << "set output 'pixels.png'\n";
    gp << fmt::format(
        "set multiplot layout {},{} title \"First-layer weight norm of each input pixel, ||W1[:, pixel]||2\\nlog "
        "colour from {:.1e} (dark) to {:.1e} (bright); white: every weight of the pixel exactly 0\"\n",
        rows, cols, bottom, top);
    gp << "unset xtics\nunset ytics\nunset colorbox\nset size ratio -1\n";
    gp << fmt::format("set cbrange [{:.9g}:{:.9g}]\nset xrange [-0.5:27.5]\nset yrange [-0.5:27.5]\n", blank, high);
    // Palette positions are rescaled to the cbrange: white on [blank, low), magma on [low, high].
    const double d = (high - low) / 5;
    gp << fmt::format("set palette defined (0 'white', 0.999 'white', 1 '#000004', {} '#3b0f70', {} '#8c2981', "
                      "{} '#de4968', {} '#fe9f6d', {} '#fcfdbf')\n",
                      1 + d, 1 + 2 * d, 1 + 3 * d, 1 + 4 * d, 1 + 5 * d);
    gp << panels;
    gp << "unset multiplot\nunset output\n";
  }
  job.run(gp.str(), {"pixels.png"});
  return "";
}

std::string dump_graph(const PreparedData& data, const Config& config, const Regularizer& reg,
                       const std::string& path) {
  Rng rng(config.seed * 0x9E3779B97F4A7C15ULL + 1);  // as run_experiment
  const std::size_t inputs = data.train.inputs.shape()[1], classes = data.train.targets.shape()[1];
  const std::unique_ptr<AppNet> net = make_model(config, inputs, classes, rng);
  AppNet& model = *net;
  const std::size_t rows = std::min(config.batch_size, data.train.inputs.shape()[0]);
  Tensor x = Tensor::from_shape({rows, inputs}), y = Tensor::from_shape({rows, classes});
  std::copy(data.train.inputs.data(), data.train.inputs.data() + rows * inputs, x.data());
  std::copy(data.train.targets.data(), data.train.targets.data() + rows * classes, y.data());
  const Variable out = model(Variable(x));
  Variable loss = config.blog_gradient ? blog_cross_entropy(out, Variable(y)) : cross_entropy(out, Variable(y));
  const Variable penalty = reg.penalty(model.named_parameters());  // as from its start epoch on
  if (penalty.requires_grad()) loss = loss + penalty;  // as nn::fit: a constant adds nothing
  try {
    write_file_atomically(path, [&](std::ostream& o) { o << to_dot(loss); });
  } catch (const OutputError& e) {
    throw OutputError(std::string("--dump-graph ") + e.what());
  }
  std::string note = "wrote " + path + " (one training step with " + reg.describe() + ")";
  if (!installed("dot")) return note + "; no PNG: Graphviz is not installed (apt-get install graphviz)";
  // dot renders into a temporary that replaces the PNG only when it is complete.
  const std::string png = fs::path(path).replace_extension(".png").string(), tmp = png + ".tmp";
  // (A path starting with '-' would read as an option: "./" keeps it a path.)
  const auto arg = [](const std::string& p) { return p.rfind('-', 0) == 0 ? "./" + p : p; };
  const ProgramRun dot = run_program({"dot", "-Tpng", "-o", arg(tmp), arg(path)}, ".");
  try {
    if (!dot.succeeded()) {
      const std::string said = dot.first_line();
      throw OutputError(png + ": dot failed (" + describe_status(dot.status) + ")" + (said.empty() ? "" : ": " + said));
    }
    check_png(tmp, png);
    commit_file(tmp, png);
  } catch (const OutputError& e) {
    fs::remove(tmp);
    throw OutputError(std::string("--dump-graph ") + e.what());
  }
  return note + " and " + png;
}

}  // namespace mnist_app
