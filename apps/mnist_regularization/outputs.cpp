#include "outputs.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "gnuplot.hpp"
#include "pictures.hpp"
#include "pruning.hpp"

namespace mnist_app {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json sparsity_json(const std::vector<xtgrad::SparsityRow>& rows) {
  json out = json::array();
  for (const auto& r : rows) {
    out.push_back({{"tensor", r.name},
                   {"count", r.count},
                   {"exact_zeros", r.zeros},
                   {"exact_zero_fraction", r.zero_fraction},
                   {"small_fraction", r.near_zero_fraction},
                   {"small_threshold", r.eps},
                   {"zero_rows", r.zero_rows},
                   {"zero_cols", r.zero_cols}});
  }
  return out;
}

json run_json(const RunResult& run, const std::vector<double>& eps) {
  json epochs = json::array();
  for (const auto& e : run.history) {
    // The penalty of each penalized tensor, when the run recorded them.
    const std::size_t k = std::size_t(&e - run.history.data());
    json by_tensor = json::object();
    for (std::size_t i = 0; k < run.tensor_penalties.size() && i < run.coverage.size(); ++i) {
      if (run.coverage[i].penalized) by_tensor[run.coverage[i].name] = run.tensor_penalties[k][i];
    }
    epochs.push_back({{"epoch", e.epoch},
                      {"penalty_by_tensor", by_tensor},
                      {"data_loss", e.data_loss},
                      {"penalty", e.penalty},
                      {"loss", e.loss},
                      {"test_accuracy", e.test_accuracy},
                      {"seconds", e.seconds},
                      {"eval_seconds", e.eval_seconds}});
  }
  json coverage = json::array();
  for (const auto& c : run.coverage) {
    coverage.push_back({{"tensor", c.name}, {"penalized", c.penalized}, {"l1", c.l1}, {"l2", c.l2},
                        {"l1_mode", xtgrad::to_string(c.l1_mode)}, {"start", c.start}});
    if (c.group != 0) coverage.back().update({{"group_lasso", c.group}, {"groups", c.groups}});  // issue 23 §1
  }
  json fgsm = json::array();
  for (std::size_t i = 0; i < run.fgsm_accuracy.size() && i < eps.size(); ++i) {
    fgsm.push_back({{"eps", eps[i]}, {"test_accuracy", run.fgsm_accuracy[i]}});
  }
  json out = {{"reg", run.reg},
          {"gradient", run.gradient},
          {"effects", run.effects},
          {"test_accuracy", run.test_accuracy},
          {"train_accuracy", run.train_accuracy},
          {"train_test_gap", run.train_accuracy - run.test_accuracy},
          {"fgsm_test_accuracy", fgsm},
          {"early_stopping_best_epoch", run.best_epoch},
          {"seconds_per_epoch", run.seconds_per_epoch},
          {"coverage", coverage},
          {"sparsity", sparsity_json(run.sparsity)},
          {"epochs", epochs}};
  if (run.pruned) out["pruned"] = prune_json(*run.pruned);  // --prune (pruning.hpp)
  return out;
}

// Histogram of |w| > 0 values of the first layer on a shared symmetric range.
std::vector<std::pair<double, std::size_t>> histogram(const xtgrad::Tensor& w, double limit, int bins) {
  std::vector<std::pair<double, std::size_t>> h(bins);
  const double width = 2 * limit / bins;
  for (int b = 0; b < bins; ++b) h[b] = {-limit + (b + 0.5) * width, 0};
  for (std::size_t i = 0; i < w.size(); ++i) {
    int b = static_cast<int>((double(w.data()[i]) + limit) / width);
    b = std::clamp(b, 0, bins - 1);
    ++h[b].second;
  }
  return h;
}

}  // namespace

void write_summary(const std::string& dir, const Config& config, const std::vector<RunResult>& runs) {
  json cfg = {{"data", config.data},         {"dataset", config.dataset}, {"model", config.model},         {"train_size", config.train_size}, {"epochs", config.epochs},
              {"batch_size", config.batch_size}, {"hidden", config.hidden},     {"lr", config.lr}, {"momentum", config.momentum},
              {"seed", config.seed},         {"threads", config.threads},       {"out", config.out},
              {"no_plots", config.no_plots}, {"quiet", config.quiet},           {"reg", config.regs},
              {"blog_gradient", config.blog_gradient}, {"sweep", config.sweep},
              {"lambdas", config.lambdas},   {"dump_graph", config.dump_graph}, {"eval_fgsm", config.eval_fgsm},
              // Data-parallel runs: the ranks and the largest shard of a batch each trained on.
              {"ranks", config.ranks},
              {"batch_per_rank", (config.batch_size + std::size_t(config.ranks) - 1) / std::size_t(config.ranks)}};
  json all = json::array();
  for (const auto& r : runs) all.push_back(run_json(r, config.eval_fgsm));
  const json summary = {{"config", cfg}, {"runs", all}};
  write_file_atomically((fs::path(dir) / "summary.json").string(),
                        [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
}

void write_history(const std::string& dir, const std::vector<RunResult>& runs) {
  write_file_atomically((fs::path(dir) / "history.csv").string(), [&](std::ostream& out) {
    // Then one penalty column per parameter, penalty[fc1.weight], ... (every run has the same model).
    const std::vector<xtgrad::Coverage> tensors = runs.empty() ? std::vector<xtgrad::Coverage>{} : runs[0].coverage;
    out << "run,reg,gradient,epoch,data_loss,penalty,loss,test_accuracy,seconds,eval_seconds";
    for (const auto& t : tensors) out << ",penalty[" << t.name << "]";
    out << "\n";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      for (std::size_t k = 0; k < runs[i].history.size(); ++k) {
        const auto& e = runs[i].history[k];
        out << fmt::format("{},\"{}\",{},{},{:.6f},{:.6f},{:.6f},{:.4f},{:.4f},{:.4f}", i + 1, runs[i].reg,
                           runs[i].gradient, e.epoch, e.data_loss, e.penalty, e.loss, e.test_accuracy, e.seconds,
                           e.eval_seconds);
        for (std::size_t t = 0; t < tensors.size(); ++t) {
          const auto& terms = runs[i].tensor_penalties;
          out << fmt::format(",{:.6g}", k < terms.size() && t < terms[k].size() ? terms[k][t] : 0.0);
        }
        out << "\n";
      }
    }
  });
}

std::string write_plots(const std::string& dir, const std::vector<RunResult>& runs) {
  if (!installed("gnuplot")) return "plots skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  // Data files for gnuplot: one block per run, separated by two blank lines (gnuplot's index).
  // Every file has a fixed name in the job's scratch folder: no user path in the script.
  double limit = 0;
  for (const auto& r : runs)
    for (std::size_t i = 0; i < r.first_layer_weights.size(); ++i)
      limit = std::max(limit, std::abs(double(r.first_layer_weights.data()[i])));
  if (limit == 0) limit = 1;
  PlotJob job(dir, "loss.png");
  {
    std::ostringstream ld, wd;
    for (const auto& r : runs) {
      for (const auto& e : r.history) ld << e.epoch << " " << e.data_loss << " " << e.loss << "\n";
      ld << "\n\n";
      for (const auto& [x, c] : histogram(r.first_layer_weights, limit, 120)) wd << x << " " << c << "\n";
      wd << "\n\n";
    }
    job.add_file("loss.dat", ld.str());
    job.add_file("weights.dat", wd.str());
  }
  std::string loss_plot, weight_plot;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string title = gnuplot_string(run_title(runs[i]));
    loss_plot += fmt::format("{}'loss.dat' index {} using 1:2 with linespoints title {}", i ? ", " : "", i, title);
    weight_plot += fmt::format("{}'weights.dat' index {} using 1:2 with steps title {}", i ? ", " : "", i, title);
  }
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,560 noenhanced\n";
  gp << "set output 'loss.png'\n";
  gp << "set title 'Training data loss (cross-entropy, mean over batches) per epoch'\n";
  gp << "set xlabel 'epoch'\nset ylabel 'data loss'\nset grid\nset key top right\n";
  gp << "plot " << loss_plot << "\n";
  // Two panels: the weights on a linear axis, then |w| on a log axis with exact zeros counted.
  gp << "set terminal pngcairo size 900,1000 noenhanced\n";
  gp << "set output 'weights.png'\n";
  gp << "set multiplot layout 2,1\n";
  gp << "set title 'First-layer weights after training (histogram, log scale)'\n";
  gp << "set xlabel 'weight'\nset ylabel 'count'\nset logscale y\n";
  gp << "plot " << weight_plot << "\n";
  const LogWeightsPanel panel = log_weights_panel("weights_log.dat", runs);
  job.add_file("weights_log.dat", panel.data);
  gp << panel.commands;
  gp << "unset multiplot\n";
  gp << "unset output\n";
  job.run(gp.str(), {"loss.png", "weights.png"});
  return "";
}

std::string write_fgsm_png(const std::string& dir, const std::vector<double>& eps, const std::vector<RunResult>& runs) {
  if (eps.empty()) return "";
  if (!installed("gnuplot")) return "plots skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  PlotJob job(dir, "fgsm.png");
  std::ostringstream data;
  std::string lines;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    data << 0 << " " << runs[i].test_accuracy << "\n";
    for (std::size_t k = 0; k < eps.size() && k < runs[i].fgsm_accuracy.size(); ++k) {
      data << eps[k] << " " << runs[i].fgsm_accuracy[k] << "\n";
    }
    data << "\n\n";
    lines += fmt::format("{}'fgsm.dat' index {} using 1:2 with linespoints title {}", i ? ", " : "", i,
                         gnuplot_string(runs[i].reg));
  }
  job.add_file("fgsm.dat", data.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,560 noenhanced\n";
  gp << "set output 'fgsm.png'\n";
  gp << "set title 'Test accuracy under a one-step FGSM perturbation of size eps (inputs in [-1, 1])'\n";
  gp << "set xlabel 'eps'\nset ylabel 'test accuracy'\nset grid\nset key bottom left\nset yrange [0:1]\n";
  gp << "plot " << lines << "\n";
  gp << "unset output\n";
  job.run(gp.str(), {"fgsm.png"});
  return "";
}

void print_table(std::ostream& out, const std::vector<RunResult>& runs, const std::vector<double>& eps) {
  std::size_t width = 22;
  for (const auto& r : runs) width = std::max(width, r.reg.size());
  out << fmt::format("\n{:<{}} {:>8} {:>10} {:>9} {:>9} {:>8} {:>12}", "regularizer", width, "gradient", "test acc",
                     "data loss", "penalty", "s/epoch", "W exact zeros");
  if (!eps.empty()) out << fmt::format(" {:>9}", "train-test");
  for (const double e : eps) out << fmt::format(" {:>10}", fmt::format("fgsm@{:g}", e));
  out << "\n";
  for (const auto& r : runs) {
    const bool trained = !r.history.empty();
    std::size_t zeros = 0, count = 0;
    for (const auto& s : r.sparsity) {
      zeros += s.zeros;
      count += s.count;
    }
    const auto cell = [&](double v, const char* spec) {
      return trained ? fmt::format(fmt::runtime(spec), v) : std::string("-");
    };
    out << fmt::format("{:<{}} {:>8} {:>10} {:>9} {:>9} {:>8} {:>12}", r.reg, width, r.gradient,
                       cell(r.test_accuracy, "{:.4f}"), cell(trained ? r.history.back().data_loss : 0, "{:.3f}"),
                       cell(trained ? r.history.back().penalty : 0, "{:.3f}"), cell(r.seconds_per_epoch, "{:.3f}"),
                       fmt::format("{}/{}", zeros, count));
    if (!eps.empty()) out << fmt::format(" {:>9}", cell(r.train_accuracy - r.test_accuracy, "{:+.4f}"));
    for (std::size_t k = 0; k < eps.size(); ++k) {
      out << fmt::format(" {:>10}", k < r.fgsm_accuracy.size() ? cell(r.fgsm_accuracy[k], "{:.4f}") : "-");
    }
    out << "\n";
  }
}

}  // namespace mnist_app
