// mnist_regularization: the blog's L1/L2 experiment on real MNIST, one run per --reg spec.
// Exit codes: 0 success, 2 bad flags or spec, 3 missing or corrupt data, 4 training diverged,
// 130 / 143 stopped by SIGINT / SIGTERM (the last checkpoint and the finished runs' results kept).
// Under `mpirun -np N` (a build with MPI) the ranks train each run data-parallel, or with
// --sweep each rank trains whole runs (every N-th); only rank 0 prints and writes files.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "checkpointing.hpp"
#include "cluster.hpp"
#include "experiment.hpp"
#include "outputs.hpp"
#include "pictures.hpp"
#include "run_transfer.hpp"
#include "sweep.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/gemm.hpp"

namespace {

constexpr int exit_usage = 2, exit_data = 3, exit_diverged = 4;

int fail(int code, const std::string& message) {
  std::cerr << "mnist_regularization: " << message << "\n";
  return code;
}

// Creates DIR and proves it is writable before hours of training, not after.
void check_output_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument("--out " + dir + ": cannot create the folder (" + ec.message() + ")");
  const fs::path probe = fs::path(dir) / ".write_test";
  std::ofstream(probe) << "ok";
  if (!fs::exists(probe)) throw std::invalid_argument("--out " + dir + ": the folder is not writable");
  fs::remove(probe, ec);
}

// CLI::PositiveNumber's message reads "Value 0 not in range 0.000000 to 1797…(309 digits)",
// also for a non-number: this one says what is wrong in a few words.
const CLI::Validator positive_number(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') return "'" + text + "' is not a number";
      if (!(value > 0) || !std::isfinite(value)) return "must be a finite positive number, got " + text;
      return "";
    },
    "POSITIVE");

// A fingerprint of the prepared data, compared across ranks.
std::string data_checksum(const mnist_app::PreparedData& d) {
  std::size_t h = 0;
  for (const xtgrad::Tensor* t : {&d.train.inputs, &d.train.targets, &d.test.inputs, &d.test.targets}) {
    const std::string_view bytes(reinterpret_cast<const char*>(t->data()), t->size() * sizeof(xtgrad::Scalar));
    h = h * 31 + std::hash<std::string_view>{}(bytes);
  }
  return std::to_string(h);
}

}  // namespace

int main(int argc, char** argv) {
  // Fresh pages cost ~12 µs each on this VM: keep freed memory instead of returning it.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);

  const std::unique_ptr<mnist_app::Cluster> cluster = mnist_app::Cluster::join();
  const bool parallel = cluster->size() > 1;
  if (!cluster->is_root()) std::cout.setstate(std::ios::failbit);  // one voice: rank 0's
  mnist_app::Config config;
  CLI::App cli{"Trains the blog's 784-200-10 sigmoid network on MNIST once per regularizer spec."};
  cli.add_option("--data", config.data, "folder of MNIST IDX files (raw or .gz) or a .npz file")
      ->capture_default_str();
  cli.add_option("--train-size", config.train_size, "training images drawn at random")
      ->check(positive_number)->capture_default_str();
  cli.add_option("--epochs", config.epochs, "passes over the training subset")
      ->check(positive_number)->capture_default_str();
  cli.add_option("--batch-size", config.batch_size, "minibatch size")->check(positive_number)->capture_default_str();
  cli.add_option("--hidden", config.hidden, "hidden units")->check(positive_number)->capture_default_str();
  cli.add_option("--lr", config.lr, "SGD learning rate")->check(positive_number)->capture_default_str();
  cli.add_option("--seed", config.seed, "seed for the subset, the initial weights and the shuffles")
      ->capture_default_str();
  cli.add_option("--threads", config.threads, "threads: from 2, one copies the next batch in the background; OpenBLAS uses up to N for large products")->check(CLI::Range(1, 256))->capture_default_str();
  cli.add_option("--out", config.out, "output folder")->capture_default_str();
  cli.add_flag("--no-plots", config.no_plots, "skip loss.png and weights.png");
  cli.add_flag("--quiet", config.quiet, "print only the final table");
  cli.add_option("--reg", config.regs,
                 "regularizer spec, repeatable: none, l1(lambd=X), l2(lambd=X), l1_l2(l1=X, l2=Y); optional keys "
                 "mode=subgradient|prox (l1, l1_l2) and start=N (first epoch with the penalty on)")
      ->capture_default_str();
  auto* sweep_option =
      cli.add_option("--sweep", config.sweep,
                     "sweep lambda for a kind, repeatable: l1, l2, or with keys, e.g. 'l1(mode=prox)'; runs none plus "
                     "one run per --lambdas value, writes sweep.csv and path.png")
          ->excludes(cli.get_option("--reg"));
  cli.add_option("--lambdas", config.lambdas, "the lambdas of --sweep, comma-separated")
      ->delimiter(',')->check(positive_number)->needs(sweep_option)->capture_default_str();
  cli.add_option("--dump-graph", config.dump_graph,
                 "write one training step's graph to FILE.dot (and FILE.png when Graphviz is installed)");
  cli.add_flag("--blog-gradient", config.blog_gradient,
               "reproduce the blog's gradient (softmax Jacobian applied twice) instead of the true one");
  std::string checkpoint_dir;
  bool resume = false;
  auto* checkpoint_option = cli.add_option(
      "--checkpoint", checkpoint_dir, "folder for each run's checkpoint (model, optimizer, shuffles), saved every epoch");
  cli.add_flag("--resume", resume, "continue each run from its checkpoint; finished runs are not retrained")
      ->needs(checkpoint_option);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(exit_usage, std::string(e.what()) + " (see --help)");
  }
  if (!std::isfinite(config.lr)) return fail(exit_usage, "--lr: must be a finite positive number");
  config.ranks = cluster->size();
  // --sweep with several ranks: whole runs per rank (set once the flags are parsed).
  bool spread = false;
  spread = parallel && !config.sweep.empty();
  if (parallel) {
    try {
      std::string flags;
      for (int i = 1; i < argc; ++i) flags += std::string(i > 1 ? " " : "") + argv[i];
      cluster->check_agreement("the flags", flags);
      if (!checkpoint_dir.empty()) {
        throw std::invalid_argument("--checkpoint is not supported with more than one rank yet");
      }
    } catch (const std::invalid_argument& e) {
      return fail(exit_usage, e.what());
    }
  }

  std::vector<std::unique_ptr<xtgrad::Regularizer>> regs;
  std::vector<mnist_app::SweepPoint> sweep;
  mnist_app::Checkpointing checkpoints(checkpoint_dir, resume, config);
  try {
    if (!config.sweep.empty()) {
      sweep = mnist_app::sweep_points(config.sweep, config.lambdas);
      config.regs.clear();
      for (const auto& point : sweep) config.regs.push_back(point.spec);
    }
    for (const auto& spec : config.regs) regs.push_back(xtgrad::make_regularizer(spec));
    if (cluster->is_root()) check_output_dir(config.out);
    checkpoints.prepare();
  } catch (const std::invalid_argument& e) {
    return fail(exit_usage, e.what());
  }
  mnist_app::install_stop_handlers();  // they set a flag; training stops at the next batch

  xtgrad::set_blas_threads(config.threads);
  try {
    const xtgrad::nn::Mnist mnist = xtgrad::nn::load_mnist(config.data);
    if (config.train_size > mnist.train.count) {
      return fail(exit_usage, fmt::format("--train-size {} is larger than the {} training images in {}",
                                          config.train_size, mnist.train.count, config.data));
    }
    const mnist_app::PreparedData data = mnist_app::prepare_data(mnist, config.train_size, config.seed);
    if (parallel) cluster->check_agreement("the data's checksum", data_checksum(data));
    if (!config.quiet) {
      std::cout << fmt::format("MNIST: {} training images drawn from {}, {} test images; {} gradient\n",
                               config.train_size, mnist.train.count, mnist.test.count,
                               config.blog_gradient ? "the blog's" : "the true");
    }
    if (!config.dump_graph.empty() && cluster->is_root()) {
      // The graph of the first run with a penalty, else of the first run.
      const xtgrad::Regularizer* shown = regs.front().get();
      for (const auto& reg : regs) {
        if (reg->describe() != "none") {
          shown = reg.get();
          break;
        }
      }
      std::cout << mnist_app::dump_graph(data, config, *shown, config.dump_graph) << "\n";
    }
    std::vector<mnist_app::RunResult> runs;
    if (spread) {
      // --sweep over N ranks: run i on rank i mod N, no per-step communication; rank 0
      // gathers the results in run order.
      std::vector<std::pair<std::size_t, mnist_app::RunResult>> mine;
      for (std::size_t i = std::size_t(cluster->rank()); i < regs.size(); i += std::size_t(cluster->size())) {
        mine.emplace_back(i, mnist_app::run_experiment(data, config, *regs[i], std::cout,
                                                       checkpoints.control(i, regs[i]->describe())));
      }
      std::vector<std::pair<std::size_t, mnist_app::RunResult>> all;
      for (const std::string& part : cluster->all_gather(mnist_app::encode_runs(mine))) {
        for (auto& run : mnist_app::decode_runs(part)) all.push_back(std::move(run));
      }
      std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& run : all) runs.push_back(std::move(run.second));
      if (cluster->is_root()) {
        mnist_app::write_summary(config.out, config, runs);
        mnist_app::write_history(config.out, runs);
      }
    }
    for (const auto& reg : regs) {
      if (spread) break;
      mnist_app::RunControl control = checkpoints.control(runs.size(), reg->describe());
      if (parallel) {
        control.make_reducer = [&](const xtgrad::NamedParameters& p) { return cluster->make_reducer(p); };
        // A signal stops every rank at the same batch.
        control.should_stop = [&] { return cluster->any(mnist_app::stop_signal() != 0); };
      }
      runs.push_back(mnist_app::run_experiment(data, config, *reg, std::cout, control));
      // Keep what is done so far: results on disk grow run by run.
      if (!cluster->is_root()) continue;
      mnist_app::write_summary(config.out, config, runs);
      mnist_app::write_history(config.out, runs);
    }
    if (!cluster->is_root()) return 0;
    mnist_app::print_table(std::cout, runs);
    const auto sweep_rows = mnist_app::sweep_rows(sweep, runs);
    if (!sweep.empty()) {
      mnist_app::print_sweep_table(std::cout, sweep_rows);
      mnist_app::write_sweep_csv(config.out, sweep_rows);
    }
    if (!config.no_plots) {
      for (const std::string& note : {mnist_app::write_plots(config.out, runs),
                                      mnist_app::write_pixels_png(config.out, runs),
                                      sweep.empty() ? std::string() : mnist_app::write_path_png(config.out, sweep_rows)}) {
        if (!note.empty()) std::cerr << "mnist_regularization: " << note << "\n";
      }
    }
    std::cout << "\nwrote " << config.out << "/summary.json, history.csv" << (sweep.empty() ? "" : ", sweep.csv")
              << (config.no_plots ? "" : ", loss.png, weights.png, pixels.png")
              << (config.no_plots || sweep.empty() ? "" : ", path.png") << "\n";
  } catch (const xtgrad::DataError& e) {
    // Maybe on this rank alone (a missing file): end every rank instead of leaving them waiting.
    if (parallel) return cluster->abort(fail(exit_data, e.what()));
    return fail(exit_data, e.what());
  } catch (const xtgrad::DivergenceError& e) {
    // With --sweep over ranks only this rank diverged: the others would wait for its results.
    if (spread) return cluster->abort(fail(exit_diverged, checkpoints.diverged(e.what())));
    return fail(exit_diverged, checkpoints.diverged(e.what()));
  } catch (const xtgrad::Interrupted& e) {
    if (spread) return cluster->abort(fail(128 + mnist_app::stop_signal(), checkpoints.interrupted(e, mnist_app::stop_signal(), config.out)));
    return fail(128 + mnist_app::stop_signal(), checkpoints.interrupted(e, mnist_app::stop_signal(), config.out));
  } catch (const mnist_app::ResumeError& e) {
    return fail(exit_usage, e.what());
  } catch (const std::exception& e) {
    if (parallel) return cluster->abort(fail(1, e.what()));
    return fail(1, e.what());
  }
  return 0;
}
