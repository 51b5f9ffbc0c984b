#include "sweep.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "xtgrad/io/gnuplot.hpp"
#include "pruning.hpp"
#include "xtgrad/nn/metrics.hpp"

namespace mnist_app {

using xtgrad::io::PlotJob;
using xtgrad::io::gnuplot_string;
using xtgrad::io::installed;

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// A swept kind: l1 or l2 of the library's spec grammar, with its keys other than lambd (the
// sweep gives each λ), their values checked as the library checks them.
const xtgrad::SpecGrammar& kind_grammar() {
  static const xtgrad::SpecGrammar grammar = [] {
    xtgrad::SpecGrammar out = xtgrad::regularizer_grammar();
    out.forms = {{"l1", {}, {"mode", "start"}, "l1, optionally with mode=subgradient|prox and start=N"},
                 {"l2", {}, {"start"}, "l2, optionally with start=N"},
                 {"group_lasso",
                  {},
                  {"groups", "layers", "mode", "start"},
                  "group_lasso, optionally with groups=units|inputs, layers=hidden|all, mode=subgradient|prox and "
                  "start=N"}};
    out.names = "l1, l2 or group_lasso";
    out.usage = "l1, l2 or group_lasso, optionally with keys, e.g. l1(mode=prox), group_lasso(mode=prox)";
    return out;
  }();
  return grammar;
}

// "l1(mode=prox)" → name "l1", keys "mode=prox" as written; "l2" → "l2", "".
std::pair<std::string, std::string> split_kind(const std::string& kind) {
  xtgrad::SpecTerm term;
  try {
    term = xtgrad::parse_spec_term(kind, kind_grammar());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--sweep: ") + e.what());
  }
  const auto open = term.text.find('(');
  if (open == std::string::npos) return {term.name, ""};
  return {term.name, trim(term.text.substr(open + 1, term.text.size() - open - 2))};  // inside "(...)"
}

// The "none" run of `seed`, or null.
const SweepRow* reference(const std::vector<SweepRow>& rows, std::uint64_t seed) {
  for (const auto& r : rows)
    if (r.kind == "none" && r.seed == seed) return &r;
  return nullptr;
}
const SweepPointMean* reference(const std::vector<SweepPointMean>& points) {
  for (const auto& p : points)
    if (p.kind == "none") return &p;
  return nullptr;
}

double fraction(std::size_t part, std::size_t whole) { return whole ? double(part) / double(whole) : 0.0; }

}  // namespace

std::vector<SweepPoint> sweep_points(const std::vector<std::string>& kinds, const std::vector<double>& lambdas) {
  if (lambdas.empty()) throw std::invalid_argument("--lambdas: the list is empty");
  for (double l : lambdas) {
    if (!std::isfinite(l) || !(l > 0)) {
      throw std::invalid_argument("--lambdas: every λ must be a finite number > 0 (the path has a log axis), got " +
                                  xtgrad::format_coefficient(l));
    }
  }
  std::vector<SweepPoint> points = {{"none", 0, "none"}};
  for (const auto& kind : kinds) {
    const auto [name, keys] = split_kind(kind);
    for (double l : lambdas) {
      points.push_back({trim(kind), l,
                        name + "(lambd=" + xtgrad::format_coefficient(l) + (keys.empty() ? "" : ", " + keys) + ")"});
    }
  }
  return points;
}

std::vector<SweepRow> sweep_rows(const std::vector<SweepPoint>& points, const std::vector<RunResult>& runs) {
  std::vector<SweepRow> rows;
  for (std::size_t i = 0; !points.empty() && i < runs.size(); ++i) {
    const RunResult& run = runs[i];
    const SweepPoint& point = points[i % points.size()];
    SweepRow row;
    row.kind = point.kind;
    row.lambda = point.lambda;
    row.seed = run.seed;
    row.test_accuracy = run.test_accuracy;
    row.data_loss = run.history.empty() ? 0 : run.history.back().data_loss;
    for (const auto& s : run.sparsity) {
      row.weights += s.count;
      row.exact_zeros += s.zeros;
      row.near_zeros += s.near_zeros;
    }
    if (!run.sparsity.empty() && run.sparsity.front().is_matrix) {
      row.inputs = run.sparsity.front().cols;
      row.dead_inputs = run.sparsity.front().zero_cols;  // fc1.weight (hidden, inputs)
    }
    if (run.pruned) {  // the model without its dead units (pruning.hpp)
      row.hidden_units = run.pruned->report.hidden_units_before;
      row.remaining_units = run.pruned->report.hidden_units_after;
      row.parameters = run.pruned->report.parameters_before;
      row.remaining_parameters = run.pruned->report.parameters_after;
      row.pruned_accuracy = run.pruned->test_accuracy;
      for (const auto& t : run.pruned->timing) {
        if (t.batch == 256) {
          row.us_unpruned = t.unpruned_us;
          row.us_pruned = t.pruned_us;
        }
      }
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<SweepPointMean> sweep_means(const std::vector<SweepRow>& rows) {
  // The rows of each point (kind, λ), points in the order first met.
  std::vector<std::vector<const SweepRow*>> groups;
  for (const auto& r : rows) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const std::vector<const SweepRow*>& g) {
      return g.front()->kind == r.kind && g.front()->lambda == r.lambda;
    });
    if (it == groups.end()) {
      groups.push_back({&r});
    } else {
      it->push_back(&r);
    }
  }
  std::vector<SweepPointMean> points;
  for (const auto& g : groups) {
    const auto mean = [&g](const auto& value) {
      double sum = 0;
      for (const SweepRow* r : g) sum += value(*r);
      return sum / double(g.size());
    };
    SweepPointMean p;
    p.kind = g.front()->kind;
    p.lambda = g.front()->lambda;
    p.seeds = g.size();
    p.hidden_units = g.front()->hidden_units;
    p.exact_zero_percent = mean([](const SweepRow& r) { return 100 * fraction(r.exact_zeros, r.weights); });
    p.near_zero_percent = mean([](const SweepRow& r) { return 100 * fraction(r.near_zeros, r.weights); });
    p.remaining_units = mean([](const SweepRow& r) { return double(r.remaining_units); });
    p.pruned_accuracy = mean([](const SweepRow& r) { return r.pruned_accuracy; });
    p.time_fraction = mean([](const SweepRow& r) { return r.us_unpruned > 0 ? r.us_pruned / r.us_unpruned : 1.0; });
    p.test_accuracy = mean([](const SweepRow& r) { return r.test_accuracy; });
    if (g.size() >= 2) {  // the t-interval's half-width over the seeds
      std::vector<double> accuracy;
      for (const SweepRow* r : g) accuracy.push_back(r->test_accuracy);
      p.test_accuracy_half_width = xtgrad::nn::mean_confidence_interval(accuracy).half_width;
    }
    points.push_back(p);
  }
  return points;
}

void print_sweep_table(std::ostream& out, const std::vector<SweepRow>& rows) {
  bool seeds = false;  // a seed column when the rows have several
  for (const auto& r : rows) seeds = seeds || r.seed != rows.front().seed;
  out << fmt::format("\n{:<22} {:>8}{} {:>9} {:>9} {:>9} {:>15} {:>13} {:>12} {:>11} {:>14}\n", "kind", "lambda",
                     seeds ? fmt::format(" {:>5}", "seed") : "", "test acc", "vs none", "data loss", "W exact zeros",
                     "W |w|<1e-3", "dead pixels", "units left", "us/img@256");
  for (const auto& r : rows) {
    const SweepRow* ref = reference(rows, r.seed);
    out << fmt::format("{:<22} {:>8}{} {:>9.4f} {:>+9.4f} {:>9.3f} {:>15} {:>13} {:>12} {:>11} {:>14}\n", r.kind,
                       r.kind == "none" ? "-" : xtgrad::format_coefficient(r.lambda),
                       seeds ? fmt::format(" {:>5}", r.seed) : "", r.test_accuracy,
                       ref ? r.test_accuracy - ref->test_accuracy : 0.0, r.data_loss,
                       fmt::format("{:.2f}%", 100 * fraction(r.exact_zeros, r.weights)),
                       fmt::format("{:.2f}%", 100 * fraction(r.near_zeros, r.weights)),
                       fmt::format("{}/{}", r.dead_inputs, r.inputs),
                       r.hidden_units ? fmt::format("{}/{}", r.remaining_units, r.hidden_units) : "-",
                       r.hidden_units ? fmt::format("{:.1f} ({:.1f})", r.us_pruned, r.us_unpruned) : "-");
  }
}

void write_sweep_csv(const std::string& dir, const std::vector<SweepRow>& rows) {
  write_file_atomically((fs::path(dir) / "sweep.csv").string(), [&](std::ostream& out) {
    out << "kind,lambda,seed,test_accuracy,data_loss,weights,exact_zeros,near_zeros,inputs,dead_inputs,hidden_units,"
           "remaining_units,parameters,remaining_parameters,pruned_test_accuracy,us_per_image_256_unpruned,"
           "us_per_image_256_pruned\n";
    for (const auto& r : rows) {
      out << fmt::format("\"{}\",{},{},{:.4f},{:.6f},{},{},{},{},{},{},{},{},{},{:.4f},{:.3f},{:.3f}\n", r.kind,
                         xtgrad::format_coefficient(r.lambda), r.seed, r.test_accuracy, r.data_loss, r.weights, r.exact_zeros,
                         r.near_zeros, r.inputs, r.dead_inputs, r.hidden_units, r.remaining_units, r.parameters,
                         r.remaining_parameters, r.pruned_accuracy, r.us_unpruned, r.us_pruned);
    }
  });
}

std::string write_path_png(const std::string& dir, const std::vector<SweepRow>& rows) {
  if (!installed("gnuplot")) return "path.png skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  PlotJob job(dir, "path.png");  // fixed names in a scratch folder: no user path in the script
  // One block per kind, in the order of first appearance: λ, accuracy (mean over the seeds),
  // exact and near zeros, the accuracy's half-width.
  const std::vector<SweepPointMean> points = sweep_means(rows);
  std::vector<std::string> kinds;
  bool several_seeds = false;
  for (const auto& p : points) {
    if (p.kind != "none" && std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end()) kinds.push_back(p.kind);
    several_seeds = several_seeds || p.seeds > 1;
  }
  {
    std::ostringstream out;
    for (const auto& kind : kinds) {
      for (const auto& p : points) {
        if (p.kind != kind) continue;
        out << p.lambda << " " << p.test_accuracy << " " << p.exact_zero_percent << " " << p.near_zero_percent << " "
            << p.test_accuracy_half_width << "\n";
      }
      out << "\n\n";
    }
    job.add_file("path.dat", out.str());
  }
  const std::string data = "'path.dat'";
  const SweepPointMean* ref = reference(points);
  std::string acc_plot, zero_plot;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const std::string sep = k ? ", " : "";
    acc_plot += fmt::format("{}{} index {} using 1:2{} with {} lw 2 lc {} title {}", sep, data, k,
                            several_seeds ? ":5" : "", several_seeds ? "yerrorlines" : "linespoints", k + 1,
                            gnuplot_string(kinds[k]));
    zero_plot += fmt::format(
        "{}{} index {} using 1:3 with linespoints lw 2 lc {} title {}, {} index {} using 1:4 with lines dt 2 lc {} "
        "title {}",
        sep, data, k, k + 1, gnuplot_string(kinds[k] + ": w = 0 exactly"), data, k, k + 1,
        gnuplot_string(kinds[k] + ": |w| < 1e-3"));
  }
  if (ref) {
    acc_plot += fmt::format(", {} with lines dt 3 lw 2 lc rgb 'black' title 'none (reference)'", ref->test_accuracy);
  }
  std::ostringstream gp;
  {
    gp << "set terminal pngcairo size 900,900 noenhanced\n";
    gp << "set output 'path.png'\n";
    double lo = 0, hi = 0;
    for (const auto& r : rows) {
      if (r.kind == "none") continue;
      lo = lo == 0 ? r.lambda : std::min(lo, r.lambda);
      hi = std::max(hi, r.lambda);
    }
    gp << "set multiplot layout 2,1\nset logscale x\nset format x '%.0e'\nset grid\n";
    if (hi > 0) gp << fmt::format("set xrange [{:.6g}:{:.6g}]\n", lo / 1.5, hi * 1.5);
    gp << "set key bottom left\n";
    gp << (several_seeds ? "set title 'Test accuracy after training against the penalty coefficient (mean over the "
                           "seeds, 95% t-interval)'\n"
                         : "set title 'Test accuracy after training against the penalty coefficient'\n");
    gp << "set xlabel 'lambda'\nset ylabel 'test accuracy'\n";
    gp << "plot " << (acc_plot.empty() ? "NaN notitle" : acc_plot) << "\n";
    gp << "set title 'Weights (fc1, fc2) exactly 0 (solid) and below 1e-3 in size (dashed)'\n";
    gp << "set ylabel 'percent of the weights'\nset yrange [0:100]\nset key top left\n";
    gp << "plot " << (zero_plot.empty() ? "NaN notitle" : zero_plot) << "\n";
    gp << "unset multiplot\nunset output\n";
  }
  job.run(gp.str(), {"path.png"});
  return "";
}

std::string write_size_path_png(const std::string& dir, const std::vector<SweepRow>& rows) {
  if (!installed("gnuplot")) return "size_path.png skipped: gnuplot is not installed (apt-get install gnuplot-nox)";
  const std::vector<SweepPointMean> points = sweep_means(rows);  // means over the seeds
  std::vector<std::string> kinds;
  for (const auto& p : points)
    if (p.kind != "none" && p.hidden_units > 0 && std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end())
      kinds.push_back(p.kind);
  PlotJob job(dir, "size_path.png");
  {
    // One block per kind: remaining hidden units, pruned test accuracy, and the pruned model's
    // inference time at batch 256 as a fraction of the unpruned one's, timed side by side (the
    // absolute times drift with the machine's load from run to run; the ratio much less).
    std::ostringstream out;
    for (const auto& kind : kinds) {
      for (const auto& p : points) {
        if (p.kind == kind) out << p.remaining_units << " " << p.pruned_accuracy << " " << p.time_fraction << "\n";
      }
      out << "\n\n";
    }
    job.add_file("size.dat", out.str());
  }
  std::string units_plot, time_plot;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const std::string sep = k ? ", " : "";
    units_plot += fmt::format("{}'size.dat' index {} using 1:2 with linespoints lw 2 lc {} title {}", sep, k, k + 1,
                              gnuplot_string(kinds[k]));
    time_plot += fmt::format("{}'size.dat' index {} using 3:2 with linespoints lw 2 lc {} title {}", sep, k, k + 1,
                             gnuplot_string(kinds[k]));
  }
  if (const SweepPointMean* ref = reference(points)) {
    const std::string line = fmt::format(", {} with lines dt 3 lw 2 lc rgb 'black' title 'none (reference)'", ref->test_accuracy);
    units_plot += line;
    time_plot += line;
  }
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,900 noenhanced\nset output 'size_path.png'\n";
  gp << "set multiplot layout 2,1\nset grid\nset key bottom right\n";
  gp << "set title 'Test accuracy of the pruned model against its hidden units (dead units removed)'\n";
  gp << "set xlabel 'hidden units left'\nset ylabel 'test accuracy'\n";
  gp << "plot " << (units_plot.empty() ? "NaN notitle" : units_plot) << "\n";
  gp << "set title 'Pruned test accuracy against inference time (batch 256, timed beside the unpruned model)'\n";
  gp << "set xlabel 'inference time, fraction of the unpruned model'\nset xrange [0:*]\n";
  gp << "plot " << (time_plot.empty() ? "NaN notitle" : time_plot) << "\n";
  gp << "unset multiplot\nunset output\n";
  job.run(gp.str(), {"size_path.png"});
  return "";
}

}  // namespace mnist_app
