// LeNet-5 on MNIST, end to end: seconds per epoch (one thread by default) and test accuracy,
// printed as one JSON line like bench/lenet_pytorch.py, which trains the same model the same
// way; bench/lenet_compare.sh runs the two side by side.
//
// Model: nn::lenet5 (nn/models.hpp), conv 1→6 5×5 (padding 2), ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2,
// flatten, linear 400→120, ReLU, linear 120→84, ReLU, linear 84→10; PyTorch's default
// initialisation (U(±1/√fan_in)); cross-entropy on class-index labels; SGD lr 0.05 with
// momentum 0.9; batch 64, reshuffled every epoch; pixels standardised with MNIST's mean and
// std, as (n, 1, 28, 28).
//
//   build/bench/lenet_speed --data /path/to/mnist --epochs 3 [--train-size 60000] [--threads 1]

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numeric>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <xtgrad/core/core.hpp>
#include <xtgrad/core/gemm.hpp>
#include <xtgrad/nn/nn.hpp>

namespace nn = xtgrad::nn;

namespace {

// U(±1/√fan_in) for a Linear weight (out, in), as PyTorch's default for both layers.
xtgrad::Tensor torch_linear_init(const xtgrad::Shape& shape, xtgrad::Rng& rng) {
  const double bound = 1.0 / std::sqrt(double(shape[1]));
  return xtgrad::rand_uniform(shape, rng, -bound, bound);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"LeNet-5 on MNIST: seconds per epoch and test accuracy (one JSON line)"};
  std::string data;
  std::size_t epochs = 3, train_size = 60000, batch = 64;
  int threads = 1;
  std::uint64_t seed = 0;
  bool print_summary = false;
  app.add_option("--data", data, "MNIST folder (IDX files, raw or .gz)")->required();
  app.add_option("--epochs", epochs, "epochs (the first is reported apart as warm-up)")->check(CLI::PositiveNumber);
  app.add_option("--train-size", train_size, "training samples, drawn at random")->check(CLI::Range(1, 60000));
  app.add_option("--batch", batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "OpenBLAS threads")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of the initialisation, subset and shuffling");
  app.add_flag("--summary", print_summary, "print the model summary to stderr");
  CLI11_PARSE(app, argc, argv);

  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  xtgrad::set_blas_threads(threads);
  try {
    const nn::Mnist mnist = nn::load_mnist(data);
    xtgrad::Rng rng(seed);
    const auto subset = nn::random_subset(mnist.train.count, train_size, rng);
    std::vector<std::size_t> all_test(mnist.test.count);
    std::iota(all_test.begin(), all_test.end(), std::size_t{0});
    nn::ImageOptions scaling;
    scaling.scaling = nn::PixelScaling::standardize;
    scaling.planes = true;
    const nn::Dataset train{nn::scale_images(mnist.train, subset, scaling), nn::label_tensor(mnist.train.labels, subset)};
    const nn::Dataset test{nn::scale_images(mnist.test, all_test, scaling), nn::label_tensor(mnist.test.labels, all_test)};

    nn::Sequential net = nn::lenet5(rng, {10, torch_linear_init});
    if (print_summary) std::fprintf(stderr, "%s", nn::summary(net, {1, 1, 28, 28}).c_str());
    nn::SGD sgd(net.named_parameters(), 0.05, 0.9);
    nn::FitOptions options;
    options.epochs = epochs;
    options.batch_size = batch;
    options.progress_bar = false;
    // Process CPU seconds of each epoch (training and evaluation): less disturbed than wall
    // time when other processes share the cores.
    std::vector<double> cpu;
    std::clock_t last = std::clock();
    options.on_epoch_end = [&](const nn::EpochStats&) {
      const std::clock_t now = std::clock();
      cpu.push_back(double(now - last) / CLOCKS_PER_SEC);
      last = now;
    };
    const nn::History history = nn::fit(net, sgd, train, &test, rng, options);

    std::vector<double> timed;
    for (std::size_t e = 1; e < history.size(); ++e) timed.push_back(history[e].seconds);
    std::sort(timed.begin(), timed.end());
    auto median_of = [](std::vector<double> v) {  // as Python's statistics.median
      std::sort(v.begin(), v.end());
      const std::size_t m = v.size();
      return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
    };
    const double median = timed.empty() ? history[0].seconds : median_of(timed);
    const double cpu_median = cpu.size() > 1 ? median_of(std::vector<double>(cpu.begin() + 1, cpu.end())) : cpu[0];
    std::string per_epoch;
    for (const auto& e : history) per_epoch += (per_epoch.empty() ? "" : ", ") + std::to_string(e.seconds);
    std::printf(
        "{\"framework\": \"xtgrad\", \"model\": \"lenet5\", \"threads\": %d, \"train_size\": %zu, \"batch\": %zu, "
        "\"epochs\": %zu, \"seconds_per_epoch\": %.4f, \"epoch_seconds\": [%s], "
        "\"cpu_seconds_per_epoch_with_eval\": %.4f, \"final_loss\": %.5f, \"test_accuracy\": %.4f, "
        "\"blas_core\": \"%s\"}\n",
        threads, train_size, batch, epochs, median, per_epoch.c_str(), cpu_median, history.back().loss,
        history.back().test_accuracy, xtgrad::blas_core_name().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lenet_speed: %s\n", e.what());
    return 1;
  }
  return 0;
}
