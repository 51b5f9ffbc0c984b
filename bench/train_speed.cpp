// train_speed: seconds per epoch of the seed experiment, end to end, as the app runs it.
//
// Loads real MNIST (all 60,000 + 10,000 images, as the app does), prepares the seed data
// (train-size random training images in [−1, 1], one-hot labels), and trains the seed model
// through mnist_app::run_experiment, the app's own training function: TwoLayerNet, SGD, the
// penalty added as a loss term, nn::fit. Per-epoch lines go to stdout as the app prints them;
// the last stdout line is one JSON object with the same keys as bench/reference_pytorch.py's:
//   seconds_per_epoch      median of the epochs after the first (warm-up) epoch,
//   seconds_per_epoch_min  their minimum,
//   peak_rss_mb            getrusage(RUSAGE_SELF).ru_maxrss at the end.
// An epoch's seconds are the training pass alone (nn::fit times it; evaluation is separate).
//
//   build-bench/bench/train_speed --data data/mnist --reg l2 --epochs 4
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "experiment.hpp"
#include "methods.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/gemm.hpp"

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  // As the app does: fresh pages cost ~12 µs each on this VM, so keep freed memory.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);

  mnist_app::Config config;
  config.epochs = 4;
  config.no_plots = true;
  std::string reg = "none";
  double lambd = -1;
  CLI::App cli{"Seconds per epoch of xtgrad on the seed experiment; last line is JSON (like reference_pytorch.py)."};
  cli.add_option("--data", config.data, "folder of MNIST IDX files (raw or .gz) or a .npz file")
      ->capture_default_str();
  cli.add_option("--reg", reg, "weight penalty")->check(CLI::IsMember({"none", "l1", "l2"}))->capture_default_str();
  cli.add_option("--lambd", lambd, "penalty coefficient (default: l2 0.01, l1 1e-4)")->check(CLI::NonNegativeNumber);
  cli.add_option("--epochs", config.epochs, "epochs; the first is the warm-up")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--batch-size", config.batch_size, "minibatch size")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--hidden", config.hidden, "hidden units")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--train-size", config.train_size, "training images drawn at random")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--lr", config.lr, "SGD learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--threads", config.threads, "threads: from 2, one copies the next batch in the background; OpenBLAS uses up to N for large products")->check(CLI::Range(1, 256))->capture_default_str();
  cli.add_option("--seed", config.seed, "seed for the subset, the initial weights and the shuffles")
      ->capture_default_str();
  cli.add_flag("--blog-gradient", config.blog_gradient, "the blog's gradient instead of the true one");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (lambd < 0) lambd = reg == "l2" ? 0.01 : reg == "l1" ? 1e-4 : 0.0;
  if (reg == "none") lambd = 0;
  const std::string spec = reg == "none" ? "none" : fmt::format("{}(lambd={})", reg, lambd);

  try {
    const mnist_app::Methods methods = mnist_app::parse_methods(spec);
    xtgrad::set_blas_threads(config.threads);
    const xtgrad::nn::Mnist mnist = xtgrad::nn::load_mnist(config.data);
    if (config.train_size > mnist.train.count) {
      std::cerr << "train_speed: --train-size " << config.train_size << " exceeds the " << mnist.train.count
                << " training images\n";
      return 2;
    }
    const mnist_app::PreparedData data = mnist_app::prepare_data(mnist, config.train_size, config.seed);
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    const char* l2size = std::getenv("OPENBLAS_L2_SIZE");
    std::cout << fmt::format("# xtgrad, threads {}, reg {}, seed {}, train {} / test {}, hidden {}, lr {}, batch {}, "
                             "gradient {}, OPENBLAS_CORETYPE={} OPENBLAS_L2_SIZE={}\n",
                             config.threads, methods.describe(), config.seed, config.train_size,
                             mnist.test.count, config.hidden, config.lr, config.batch_size,
                             config.blog_gradient ? "blog" : "true", coretype ? coretype : "(unset)",
                             l2size ? l2size : "(unset)")
              << std::flush;

    const mnist_app::RunResult run = mnist_app::run_experiment(data, config, methods, std::cout);

    std::vector<double> timed;
    nlohmann::json history = nlohmann::json::array();
    for (const auto& e : run.history) {
      if (e.epoch > 1 || run.history.size() == 1) timed.push_back(e.seconds);
      history.push_back({{"epoch", e.epoch},
                         {"data_loss", e.data_loss},
                         {"penalty", e.penalty},
                         {"seconds", e.seconds},
                         {"eval_seconds", e.eval_seconds},
                         {"test_accuracy", e.test_accuracy}});
    }
    std::string epochs_line = "# seconds per epoch:";
    for (const auto& e : run.history) epochs_line += fmt::format(" {:.4f}", e.seconds);
    std::cout << epochs_line << "  (epoch 1 is the warm-up)\n";

    const nlohmann::json result = {
        {"implementation", "xtgrad"},
        {"threads", config.threads},
        {"blas_core", xtgrad::blas_core_name()},
        {"reg", reg},
        {"lambd", lambd},
        {"spec", run.reg},
        {"seed", config.seed},
        {"gradient", run.gradient},
        {"train_size", config.train_size},
        {"hidden", config.hidden},
        {"lr", config.lr},
        {"batch_size", config.batch_size},
        {"epochs", config.epochs},
        {"test_accuracy", run.test_accuracy},
        {"history", history},
        {"seconds_per_epoch", median(timed)},
        {"seconds_per_epoch_min", timed.empty() ? 0.0 : *std::min_element(timed.begin(), timed.end())},
        {"peak_rss_mb", peak_rss_mb()},
    };
    std::cout << result.dump() << std::endl;
  } catch (const xtgrad::DataError& e) {
    std::cerr << "train_speed: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "train_speed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
