// write_results (session.hpp): what rank 0 writes once every run is trained.
#include <filesystem>
#include <iostream>

#include "outputs.hpp"
#include "pictures.hpp"
#include "pruning.hpp"
#include "process.hpp"
#include "report.hpp"
#include "session.hpp"

namespace mnist_app {

void write_results(Session& s, const std::vector<RunResult>& runs) {
  const Config& config = s.config;
  const auto stop_check = [] {
    if (stop_signal() != 0) throw StoppedWriting{};
  };
  s.written = {"summary.json", "history.csv"};
  stop_check();
  print_table(std::cout, runs, config.eval_fgsm, !config.seeds.empty());
  check_stdout();
  if (!config.seeds.empty()) {
    print_seeds_table(std::cout, config, runs);
    check_stdout();
  }
  if (config.prune) {  // the pruned models (pruning.hpp)
    write_pruned_models(config.out, runs, s.written);
    stop_check();
  }
  const auto sweep_rows = mnist_app::sweep_rows(s.sweep, runs);
  if (!s.sweep.empty()) {
    print_sweep_table(std::cout, sweep_rows);
    check_stdout();
    write_sweep_csv(config.out, sweep_rows);
    s.written.push_back("sweep.csv");
    stop_check();
  }
  if (!config.no_plots) {
    // Each plot is drawn, verified and renamed in place, or an OutputError ends the run.
    const auto plot = [&](const std::string& note, std::vector<std::string> files) {
      if (!note.empty()) say(note);
      else s.written.insert(s.written.end(), files.begin(), files.end());
      stop_check();
    };
    plot(write_plots(config.out, runs), {"loss.png", "weights.png"});
    plot(write_pixels_png(config.out, runs), {"pixels.png"});
    plot(write_reliability_png(config.out, runs), {"reliability.png"});
    if (!s.sweep.empty()) plot(write_path_png(config.out, sweep_rows), {"path.png"});
    if (!s.sweep.empty() && config.prune) plot(write_size_path_png(config.out, sweep_rows), {"size_path.png"});
    if (!config.eval_fgsm.empty()) plot(write_fgsm_png(config.out, config.eval_fgsm, runs), {"fgsm.png"});
  }
  if (config.report) {
    std::vector<std::string> pictures;
    for (const auto& f : s.written) {
      if (std::filesystem::path(f).extension() == ".png") pictures.push_back(f);
    }
    write_report(config.out, pictures);
    s.written.push_back("report.html");
    stop_check();
  }
  std::string list;
  for (const auto& f : s.written) list += (list.empty() ? "" : ", ") + f;
  std::cout << "\nwrote " << (std::filesystem::path(config.out) / "").string() << list << "\n";
  check_stdout();
}

}  // namespace mnist_app
