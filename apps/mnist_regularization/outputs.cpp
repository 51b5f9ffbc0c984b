#include "outputs.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "xtgrad/io/gnuplot.hpp"
#include "pictures.hpp"
#include "pruning.hpp"

namespace mnist_app {

using xtgrad::io::PlotJob;
using xtgrad::io::gnuplot_string;
using xtgrad::io::installed;

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

json calibration_json(const std::vector<xtgrad::nn::CalibrationBin>& bins);
json weights_json(const std::vector<xtgrad::nn::WeightStats>& weights);

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
          // Calibration, sharpness and the weights' state at the end (evaluate_final_model).
          {"seed", run.seed},
          {"ece", run.ece},
          {"test_nll", run.test_nll},
          {"calibration_bins", calibration_json(run.calibration)},
          {"hessian_top_eigenvalue", run.hessian_top_eigenvalue},
          {"hessian", {{"iterations", run.hessian_iterations},
                       {"residual", run.hessian_residual},
                       {"batch", sharpness_batch},
                       {"loss", "cross-entropy (no penalty), evaluation mode"}}},
          {"weight_norm", weight_norm(run.weights)},
          {"dead_hidden_units", hidden_dead_units(run.weights)},
          {"weights", weights_json(run.weights)},
          {"epochs", epochs}};
  if (run.pruned) out["pruned"] = prune_json(*run.pruned);  // --prune (pruning.hpp)
  return out;
}

json calibration_json(const std::vector<xtgrad::nn::CalibrationBin>& bins) {
  json out = json::array();
  for (const auto& b : bins) {
    out.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}, {"confidence", b.confidence},
                   {"accuracy", b.accuracy}});
  }
  return out;
}

json weights_json(const std::vector<xtgrad::nn::WeightStats>& weights) {
  json out = json::array();
  for (const auto& w : weights) {
    out.push_back({{"tensor", w.name}, {"count", w.count}, {"exact_zeros", w.exact_zeros}, {"l1", w.l1},
                   {"l2", w.l2}, {"max_abs", w.max_abs}, {"units", w.units}, {"dead_units", w.dead_units}});
  }
  return out;
}

// --seeds: the per-seed values of one measure for every spec (values[m][seed]), the runs
// seed-major with `specs` per seed.
using PerSeed = std::vector<std::vector<double>>;
template <class Get>
PerSeed per_seed(const std::vector<RunResult>& runs, std::size_t specs, Get get) {
  PerSeed values(specs);
  for (std::size_t k = 0; k < runs.size(); ++k) values[k % specs].push_back(get(runs[k]));
  return values;
}

json interval_json(const xtgrad::nn::ConfidenceInterval& ci) { return json::array({ci.lower, ci.upper}); }

// A paired difference in summary.json: {"vs": "none", "mean", "ci95", "excludes_zero"}, or null.
json difference_json(const xtgrad::nn::PairedSummary& s) {
  if (!s.difference) return nullptr;
  const auto& d = *s.difference;
  return {{"vs", "none"}, {"mean", d.mean}, {"ci95", interval_json(d)}, {"excludes_zero", d.excludes_zero()}};
}

// The spec index of the first "none" run among the first `specs` runs, or `specs`.
std::size_t baseline_of(const std::vector<RunResult>& runs, std::size_t specs) {
  for (std::size_t m = 0; m < specs && m < runs.size(); ++m) {
    if (runs[m].reg == "none") return m;
  }
  return specs;
}

// The runs of the seeds done in full (a stopped invocation leaves a trailing partial seed out).
std::vector<RunResult> whole_seeds(const std::vector<RunResult>& runs, std::size_t specs) {
  const std::size_t complete = specs == 0 ? 0 : runs.size() / specs;
  return {runs.begin(), runs.begin() + std::ptrdiff_t(complete * specs)};
}

// The measures by_method and the seeds table report, each compared over the seeds
// (nn::compare_paired, from "none").
const std::vector<std::pair<const char*, double RunResult::*>>& seed_measures() {
  static const std::vector<std::pair<const char*, double RunResult::*>> measures{
      {"test_accuracy", &RunResult::test_accuracy},
      {"ece", &RunResult::ece},
      {"test_nll", &RunResult::test_nll},
      {"hessian_top_eigenvalue", &RunResult::hessian_top_eigenvalue}};
  return measures;
}
std::vector<std::vector<xtgrad::nn::PairedSummary>> compare_measures(const std::vector<RunResult>& whole,
                                                                     std::size_t specs) {
  std::vector<std::vector<xtgrad::nn::PairedSummary>> out;
  for (const auto& [name, field] : seed_measures()) {
    out.push_back(xtgrad::nn::compare_paired(per_seed(whole, specs, [f = field](const RunResult& r) { return r.*f; }),
                                             baseline_of(whole, specs)));
  }
  return out;
}

// "by_method" of summary.json: per spec, each measure's per-seed values, mean, 95% t-interval,
// and the paired difference from "none" (same seed) with its interval. Only whole seeds count.
json seeds_json(const Config& config, const std::vector<RunResult>& runs) {
  const std::size_t specs = config.regs.size();
  const std::vector<RunResult> whole = whole_seeds(runs, specs);
  json by_method = json::array();
  if (whole.size() < 2 * specs || specs == 0) return by_method;
  const std::size_t complete = whole.size() / specs, none = baseline_of(whole, specs);
  const auto measures = compare_measures(whole, specs);
  // --eval-fgsm: the FGSM test accuracy at each eps, compared as the measures are.
  std::vector<std::vector<xtgrad::nn::PairedSummary>> fgsm;
  for (std::size_t e = 0; e < config.eval_fgsm.size(); ++e) {
    fgsm.push_back(xtgrad::nn::compare_paired(per_seed(whole, specs, [e](const RunResult& r) {
                                                return e < r.fgsm_accuracy.size() ? r.fgsm_accuracy[e] : std::nan("");
                                              }),  // (a missing value is refused by compare_paired)
                                              none));
  }
  for (std::size_t m = 0; m < specs; ++m) {
    json entry = {{"reg", whole[m].reg}, {"seeds", std::vector<std::uint64_t>(config.seeds.begin(),
                                                                               config.seeds.begin() + std::ptrdiff_t(complete))}};
    for (std::size_t k = 0; k < seed_measures().size(); ++k) {
      const std::string key(seed_measures()[k].first);
      const xtgrad::nn::PairedSummary& s = measures[k][m];
      entry[key] = s.values;
      entry[key + "_mean"] = s.interval.mean;
      entry[key + "_ci95"] = interval_json(s.interval);
      // test accuracy's is "paired_difference_ci95", as issue 23 names it; the others are prefixed
      entry[key == "test_accuracy" ? "paired_difference_ci95" : key + "_paired_difference_ci95"] = difference_json(s);
    }
    json fgsm_entries = json::array();
    for (std::size_t e = 0; e < fgsm.size(); ++e) {
      const xtgrad::nn::PairedSummary& s = fgsm[e][m];
      fgsm_entries.push_back({{"eps", config.eval_fgsm[e]}, {"test_accuracy", s.values}, {"mean", s.interval.mean},
                              {"ci95", interval_json(s.interval)}, {"paired_difference_ci95", difference_json(s)}});
    }
    entry["fgsm_test_accuracy"] = fgsm_entries;
    std::vector<double> dead;
    for (std::size_t k = m; k < whole.size(); k += specs) dead.push_back(double(hidden_dead_units(whole[k].weights)));
    entry["dead_hidden_units"] = dead;
    by_method.push_back(entry);
  }
  return by_method;
}

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
              {"optimizer", config.optimizer},
              {"seed", config.seed},         {"threads", config.threads},       {"out", config.out},
              {"no_plots", config.no_plots}, {"report", config.report}, {"quiet", config.quiet},           {"reg", config.regs},
              {"blog_gradient", config.blog_gradient}, {"sweep", config.sweep},
              {"lambdas", config.lambdas},   {"dump_graph", config.dump_graph}, {"eval_fgsm", config.eval_fgsm},
              // Data-parallel runs: the ranks and the largest shard of a batch each trained on.
              {"ranks", config.ranks},
              {"batch_per_rank", (config.batch_size + std::size_t(config.ranks) - 1) / std::size_t(config.ranks)}};
  json all = json::array();
  for (const auto& r : runs) all.push_back(run_json(r, config.eval_fgsm));
  json summary = {{"config", cfg}, {"runs", all}};
  // --seeds: the runs are seed-major (every spec under seeds[0], then seeds[1], ...).
  if (!config.seeds.empty()) {
    summary["config"]["seeds"] = config.seeds;
    summary["by_method"] = seeds_json(config, runs);
  }
  write_file_atomically((fs::path(dir) / "summary.json").string(),
                        [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
}

void write_history(const std::string& dir, const std::vector<RunResult>& runs) {
  write_file_atomically((fs::path(dir) / "history.csv").string(), [&](std::ostream& out) {
    // Then one penalty column per parameter, penalty[fc1.weight], ... (every run has the same model).
    const std::vector<xtgrad::Coverage> tensors = runs.empty() ? std::vector<xtgrad::Coverage>{} : runs[0].coverage;
    out << "run,reg,gradient,seed,epoch,data_loss,penalty,loss,test_accuracy,seconds,eval_seconds";
    for (const auto& t : tensors) out << ",penalty[" << t.name << "]";
    out << "\n";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      for (std::size_t k = 0; k < runs[i].history.size(); ++k) {
        const auto& e = runs[i].history[k];
        out << fmt::format("{},\"{}\",{},{},{},{:.6f},{:.6f},{:.6f},{:.4f},{:.4f},{:.4f}", i + 1, runs[i].reg,
                           runs[i].gradient, runs[i].seed, e.epoch, e.data_loss, e.penalty, e.loss, e.test_accuracy,
                           e.seconds, e.eval_seconds);
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

std::string write_reliability_png(const std::string& dir, const std::vector<RunResult>& runs) {
  if (runs.empty() || runs.front().calibration.empty()) return "";
  if (!installed("gnuplot")) return "plots skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  PlotJob job(dir, "reliability.png");
  std::ostringstream data;
  std::string lines = "x with lines dashtype 2 lc rgb 'gray' title 'perfect calibration'";
  std::size_t index = 0;
  for (const auto& run : runs) {
    if (run.seed != runs.front().seed) continue;  // with --seeds, the first seed's runs
    for (const auto& bin : run.calibration) {
      if (bin.count > 0) data << bin.confidence << " " << bin.accuracy << "\n";
    }
    data << "\n\n";
    lines += fmt::format(", 'bins.dat' index {} using 1:2 with linespoints title {}", index++,
                         gnuplot_string(fmt::format("{} (ECE {:.4f})", run.reg, run.ece)));
  }
  job.add_file("bins.dat", data.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size 700,640 noenhanced\n";
  gp << "set output 'reliability.png'\n";
  gp << "set title 'Reliability on the test set: accuracy against mean confidence, per confidence bin'\n";
  gp << "set xlabel 'mean confidence of the bin'\nset ylabel 'accuracy of the bin'\nset grid\n";
  gp << "set key bottom right\nset xrange [0:1]\nset yrange [0:1]\nset size square\n";
  gp << "plot " << lines << "\n";
  gp << "unset output\n";
  job.run(gp.str(), {"reliability.png"});
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

void print_table(std::ostream& out, const std::vector<RunResult>& runs, const std::vector<double>& eps, bool seeds) {
  std::size_t width = 22;
  for (const auto& r : runs) width = std::max(width, r.reg.size());
  out << fmt::format("\n{:<{}}", "regularizer", width);
  if (seeds) out << fmt::format(" {:>6}", "seed");
  out << fmt::format(" {:>8} {:>10} {:>9} {:>9} {:>8} {:>12} {:>7} {:>8} {:>9} {:>5}", "gradient", "test acc",
                     "data loss", "penalty", "s/epoch", "W exact zeros", "ECE", "test NLL", "top eig H", "dead");
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
    out << fmt::format("{:<{}}", r.reg, width);
    if (seeds) out << fmt::format(" {:>6}", r.seed);
    out << fmt::format(" {:>8} {:>10} {:>9} {:>9} {:>8} {:>12} {:>7} {:>8} {:>9} {:>5}", r.gradient,
                       cell(r.test_accuracy, "{:.4f}"), cell(trained ? r.history.back().data_loss : 0, "{:.3f}"),
                       cell(trained ? r.history.back().penalty : 0, "{:.3f}"), cell(r.seconds_per_epoch, "{:.3f}"),
                       fmt::format("{}/{}", zeros, count), cell(r.ece, "{:.4f}"), cell(r.test_nll, "{:.4f}"),
                       cell(r.hessian_top_eigenvalue, "{:.4g}"), trained ? std::to_string(hidden_dead_units(r.weights)) : "-");
    if (!eps.empty()) out << fmt::format(" {:>9}", cell(r.train_accuracy - r.test_accuracy, "{:+.4f}"));
    for (std::size_t k = 0; k < eps.size(); ++k) {
      out << fmt::format(" {:>10}", k < r.fgsm_accuracy.size() ? cell(r.fgsm_accuracy[k], "{:.4f}") : "-");
    }
    out << "\n";
  }
}

void print_seeds_table(std::ostream& out, const Config& config, const std::vector<RunResult>& runs) {
  const std::size_t specs = config.regs.size();
  const std::vector<RunResult> whole = whole_seeds(runs, specs);
  if (specs == 0 || whole.size() < 2 * specs) return;
  const std::size_t complete = whole.size() / specs, none = baseline_of(whole, specs);
  const auto measures = compare_measures(whole, specs);  // accuracy, ECE, NLL, top eigenvalue
  std::size_t width = 22;
  for (std::size_t m = 0; m < specs; ++m) width = std::max(width, whole[m].reg.size());
  out << fmt::format("\nover {} seeds ({}): mean ± half-width of the 95% t-interval; {}\n", complete,
                     fmt::join(config.seeds.begin(), config.seeds.begin() + std::ptrdiff_t(complete), ","),
                     none < specs ? "difference: paired by seed, from none; * its 95% interval excludes 0"
                                  : "no 'none' run: no paired differences");
  out << fmt::format("{:<{}} {:>17} {:>29} {:>19} {:>19} {:>19} {:>9}\n", "regularizer", width, "test acc",
                     "test acc - none [95% CI]", "ECE", "test NLL", "top eig H", "dead");
  // "mean ± half-width", and " *" when the paired difference from none excludes 0
  const auto cell = [](const xtgrad::nn::PairedSummary& s, const char* spec) {
    return fmt::format(fmt::runtime(spec), s.interval.mean, s.interval.half_width) +
           (s.difference && s.difference->excludes_zero() ? " *" : "  ");
  };
  for (std::size_t m = 0; m < specs; ++m) {
    const xtgrad::nn::PairedSummary& acc = measures[0][m];
    std::string difference;
    if (acc.difference) {
      const auto& d = *acc.difference;
      difference = fmt::format("{:+.4f} [{:+.4f}, {:+.4f}]{}", d.mean, d.lower, d.upper, d.excludes_zero() ? " *" : "  ");
    }
    double dead = 0;
    for (std::size_t k = m; k < whole.size(); k += specs) dead += double(hidden_dead_units(whole[k].weights));
    out << fmt::format("{:<{}} {:>17} {:>29} {:>19} {:>19} {:>19} {:>9.1f}\n", whole[m].reg, width,
                       fmt::format("{:.4f} ± {:.4f}", acc.interval.mean, acc.interval.half_width), difference,
                       cell(measures[1][m], "{:.4f} ± {:.4f}"), cell(measures[2][m], "{:.4f} ± {:.4f}"),
                       cell(measures[3][m], "{:.3f} ± {:.3f}"), dead / double(complete));
  }
}

}  // namespace mnist_app
