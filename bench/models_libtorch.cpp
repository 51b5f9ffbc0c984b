// The libtorch twin of models_xtgrad.cpp: the same four models (bench/models/torch_*.hpp),
// data, batches, initial weights, optimisers and step counts, one JSON line. Its build
// configuration (torch::show_config) and thread setup (at::get_parallel_info) go to stderr.
//
//   build-bench/bench/models_libtorch --model mlp|lenet|bn_cnn|transformer --threads N
//
// Threads: at::set_num_threads(N) (intra-op) and at::set_num_interop_threads(1); the BLAS
// library's own pool follows its environment (OPENBLAS_NUM_THREADS), which models.sh sets.
#include <malloc.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "models/args.hpp"
#include "models/data.hpp"
#include "models/run_stats.hpp"
#include "models/torch_bn_cnn.hpp"
#include "models/torch_init.hpp"
#include "models/torch_lenet.hpp"
#include "models/torch_mlp.hpp"
#include "models/torch_transformer.hpp"

namespace {

using Step = std::function<double(int)>;

// A step of an image classifier: batch i of the plan → forward, cross-entropy, backward, update.
template <class Model>
Step image_step(Model model, std::shared_ptr<torch::optim::Optimizer> opt, std::shared_ptr<bench::Images> data,
                std::vector<std::vector<std::size_t>> plan, std::vector<int64_t> shape) {
  return [=](int i) mutable {
    const auto& rows = plan[std::size_t(i)];
    torch::Tensor x = torch::empty(shape, torch::kFloat32);
    bench::gather_rows(data->x.data(), data->pixels, rows, x.data_ptr<float>());
    torch::Tensor y = torch::empty({int64_t(rows.size())}, torch::kInt64);
    for (std::size_t r = 0; r < rows.size(); ++r) y.data_ptr<int64_t>()[r] = data->y[rows[r]];
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    opt->zero_grad();
    loss.backward();
    opt->step();
    return loss.item<double>();
  };
}

torch::optim::AdamWOptions adamw(double lr) { return torch::optim::AdamWOptions(lr).weight_decay(1e-2); }

Step make_step(const bench::Args& a) {
  const std::size_t b = std::size_t(a.batch), n = std::size_t(a.warmup + a.steps);
  const int64_t bb = a.batch;
  if (a.model == "transformer") {
    const int64_t context = 64;
    const auto text = bench::load_text(a.text);
    const int64_t vocab = int64_t(text.vocab);
    bench::TorchCharTransformer model(vocab, context, 64, 4, 256, 2);
    bench::load_init(*model, a.seed);
    auto opt = std::make_shared<torch::optim::AdamW>(model->parameters(), adamw(3e-4));
    auto plan = std::make_shared<std::vector<bench::TextBatch>>(bench::text_plan(text, b, std::size_t(context), n, a.seed));
    return [=](int i) mutable {
      auto& tb = (*plan)[std::size_t(i)];
      const torch::Tensor x = torch::from_blob(tb.x.data(), {bb, context}, torch::kInt64);
      const torch::Tensor y = torch::from_blob(tb.y.data(), {bb * context}, torch::kInt64);
      torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x).reshape({bb * context, vocab}), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
      return loss.item<double>();
    };
  }
  std::shared_ptr<bench::Images> data;
  if (a.model == "mlp") {
    data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 20000, bench::Pixels::minus_one_one));
    bench::TorchMlp model;
    bench::load_init(*model, a.seed, /*seed_mlp=*/true);
    auto opt = std::make_shared<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.1));
    return image_step(model, opt, data, bench::batch_plan(data->count, b, n, a.seed), {bb, 784});
  }
  if (a.model == "lenet") {
    data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 0, bench::Pixels::standardize));
    bench::TorchLeNet model;
    bench::load_init(*model, a.seed);
    auto opt = std::make_shared<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    return image_step(model, opt, data, bench::batch_plan(data->count, b, n, a.seed), {bb, 1, 28, 28});
  }
  data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 0, bench::Pixels::unit));
  bench::TorchBnCnn model;
  bench::load_init(*model, a.seed);
  auto opt = std::make_shared<torch::optim::AdamW>(model->parameters(), adamw(1e-3));
  return image_step(model, opt, data, bench::batch_plan(data->count, b, n, a.seed), {bb, 1, 28, 28});
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);  // the same malloc settings as models_xtgrad
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  try {
    const bench::Args a = bench::parse_args(argc, argv);
    at::set_num_interop_threads(1);
    at::set_num_threads(a.threads);
    torch::manual_seed(a.seed);  // dropout masks
    std::fprintf(stderr, "%s\n%s\n", torch::show_config().c_str(), at::get_parallel_info().c_str());
    const Step step = make_step(a);
    const bench::StepTimes t = bench::time_steps(a.warmup, a.steps, step);
    char extra[160];
    std::snprintf(extra, sizeof extra, "\"version\": \"%d.%d.%d\", \"intra_op_threads\": %d, \"interop_threads\": %d",
                  TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, at::get_num_threads(),
                  at::get_num_interop_threads());
    bench::print_json("libtorch", a.model, a.threads, a.batch, a.warmup, t, extra);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "models_libtorch: %s\n", e.what());
    return 1;
  }
  return 0;
}
