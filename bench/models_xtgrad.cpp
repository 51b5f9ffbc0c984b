// One model of bench/models.sh trained in xtgrad for a fixed number of steps: prints one JSON
// line (bench/models/run_stats.hpp) with seconds per step, CPU seconds, peak RSS, first and
// last loss and the heap allocations per timed step. models_libtorch.cpp is its twin.
//
//   OPENBLAS_NUM_THREADS=1 build-bench/bench/models_xtgrad --model mlp|lenet|bn_cnn|transformer --threads N
//
// Models (bench/models/xtgrad_*.hpp), data and optimiser:
//   mlp          seed MLP, 20,000 MNIST images in [−1, 1], batch 64, SGD lr 0.1
//   lenet        LeNet-5, MNIST standardised, batch 64, SGD lr 0.05 momentum 0.9
//   bn_cnn       BN CNN, Fashion-MNIST in [0, 1], batch 128, AdamW lr 1e-3 wd 1e-2
//   transformer  char transformer (context 64, D 64, 4 heads, FFN 256, 2 blocks), batch 32,
//                AdamW lr 3e-4 wd 1e-2, on the characters of --text
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <xtgrad/core/core.hpp>
#include <xtgrad/core/gemm.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/core/parallel.hpp>

#include "../tests/support/malloc_counter.hpp"  // counts the malloc family (one TU per program)
#include "models/args.hpp"
#include "models/data.hpp"
#include "models/run_stats.hpp"
#include "models/xtgrad_bn_cnn.hpp"
#include "models/xtgrad_init.hpp"
#include "models/xtgrad_lenet.hpp"
#include "models/xtgrad_mlp.hpp"
#include "models/xtgrad_transformer.hpp"

namespace nn = xtgrad::nn;
using xtgrad::Shape;
using xtgrad::Tensor;
using xtgrad::Variable;

namespace {

using Step = std::function<double(int)>;

// A step of an image classifier: batch i of the plan → forward, cross-entropy, backward, update.
Step image_step(std::shared_ptr<nn::Module> model, std::shared_ptr<nn::Optimizer> opt,
                std::shared_ptr<bench::Images> data, std::vector<std::vector<std::size_t>> plan, Shape shape) {
  // One input leaf and one label vector, refilled in place each step as nn::fit does: the
  // allocation count is then xtgrad's own, not this loop's.
  auto x = std::make_shared<Variable>(Tensor::from_shape(shape));
  auto labels = std::make_shared<std::vector<std::size_t>>(shape[0]);
  return [=](int i) {
    const auto& rows = plan[std::size_t(i)];
    bench::gather_rows(data->x.data(), data->pixels, rows, x->mutable_value().data());
    for (std::size_t r = 0; r < rows.size(); ++r) (*labels)[r] = std::size_t(data->y[rows[r]]);
    Variable loss = xtgrad::cross_entropy((*model)(*x), *labels);
    opt->zero_grad();
    loss.backward();
    opt->step();
    return double(loss.item());
  };
}

template <class M>
std::shared_ptr<nn::Module> shared(M m) { return std::make_shared<M>(std::move(m)); }

Step make_step(const bench::Args& a) {
  xtgrad::Rng rng(a.seed);
  const std::size_t b = std::size_t(a.batch), n = std::size_t(a.warmup + a.steps);
  if (a.model == "transformer") {
    const std::size_t context = 64;
    const auto text = bench::load_text(a.text);
    const std::size_t vocab = text.vocab;
    auto model = std::make_shared<bench::CharTransformer>(vocab, context, 64, 4, 256, 2, rng);
    bench::load_init(model->named_parameters(), a.seed);
    auto opt = std::make_shared<nn::AdamW>(model->named_parameters(), 3e-4, 0.9, 0.999, 1e-8, 1e-2);
    auto plan = std::make_shared<std::vector<bench::TextBatch>>(bench::text_plan(text, b, context, n, a.seed));
    auto ids = std::make_shared<Variable>(Tensor::from_shape({b, context}));  // refilled in place
    auto targets = std::make_shared<std::vector<std::size_t>>(b * context);
    return [b, context, vocab, model, opt, plan, ids, targets](int i) {
      const auto& tb = (*plan)[std::size_t(i)];
      for (std::size_t k = 0; k < tb.x.size(); ++k) ids->mutable_value().data()[k] = float(tb.x[k]);
      std::copy(tb.y.begin(), tb.y.end(), targets->begin());
      const Variable logits = (*model)(*ids);
      Variable loss = xtgrad::cross_entropy(xtgrad::reshape(logits, {b * context, vocab}), *targets);
      opt->zero_grad();
      loss.backward();
      opt->step();
      return double(loss.item());
    };
  }
  std::shared_ptr<nn::Module> model;
  std::shared_ptr<nn::Optimizer> opt;
  std::shared_ptr<bench::Images> data;
  Shape shape{b, 1, 28, 28};
  if (a.model == "mlp") {
    data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 20000, bench::Pixels::minus_one_one));
    model = std::make_shared<bench::SeedMlp>(rng);
    bench::load_init(model->named_parameters(), a.seed, /*seed_mlp=*/true);
    opt = std::make_shared<nn::SGD>(model->named_parameters(), 0.1);
    shape = {b, 784};
  } else if (a.model == "lenet") {
    data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 0, bench::Pixels::standardize));
    model = shared(bench::lenet(rng));
    bench::load_init(model->named_parameters(), a.seed);
    opt = std::make_shared<nn::SGD>(model->named_parameters(), 0.05, 0.9);
  } else {  // bn_cnn
    data = std::make_shared<bench::Images>(bench::load_train_images(a.data, 0, bench::Pixels::unit));
    model = shared(bench::bn_cnn(rng));
    bench::load_init(model->named_parameters(), a.seed);
    opt = std::make_shared<nn::AdamW>(model->named_parameters(), 1e-3, 0.9, 0.999, 1e-8, 1e-2);
  }
  return image_step(model, opt, data, bench::batch_plan(data->count, b, n, a.seed), shape);
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);  // as the app: keep freed memory (fresh pages are slow here)
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  try {
    const bench::Args a = bench::parse_args(argc, argv);
    xtgrad::set_num_threads(a.threads);
    const Step step = make_step(a);
    const bench::StepTimes t = bench::time_steps(a.warmup, a.steps, step, [](bool on) {
      malloc_counter::g_counting = on;
    });
    const double allocs = double(malloc_counter::g_allocs.load()) / double(a.steps);
    // allocations the BLAS library or oneDNN made inside xtgrad's calls to them (counted apart)
    const double lib_allocs = double(malloc_counter::g_blas_allocs.load()) / double(a.steps);
    char extra[320];
    std::snprintf(extra, sizeof extra,
                  "\"allocs_per_step\": %.1f, \"lib_allocs_per_step\": %.1f, \"blas_core\": \"%s\", "
                  "\"conv\": \"%s\", \"malloc_counter\": %d",
                  allocs, lib_allocs, xtgrad::blas_core_name().c_str(), xtgrad::conv_backend_name(),
                  MALLOC_COUNTER_AVAILABLE);
    bench::print_json("xtgrad", a.model, a.threads, a.batch, a.warmup, t, extra);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "models_xtgrad: %s\n", e.what());
    return 1;
  }
  return 0;
}
