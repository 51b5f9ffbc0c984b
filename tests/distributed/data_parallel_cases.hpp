// Shared by test_data_parallel.cpp (double) and test_data_parallel_f32.cpp (float): a
// synthetic classification task, and one training run either in one process over whole
// batches or data-parallel over the ranks, to compare parameter by parameter. Everything is
// in the test program's precision, Scalar (test_util.hpp, from XTGRAD_TEST_SCALAR).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "mpi_test_main.hpp"
#include "test_util.hpp"
#include "xtgrad/distributed/data_parallel.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using xtgrad::Rng;
using xtgrad::distributed::DataParallelOptions;
using DistributedDataParallel = xtgrad::distributed::BasicDistributedDataParallel<Scalar>;
using NamedParameters = xtgrad::NamedParametersOf<Scalar>;
using Module = xtgrad::nn::BasicModule<Scalar>;
using Dataset = xtgrad::nn::BasicDataset<Scalar>;

// n rows of `features` inputs in [−1, 1] and one-hot labels of a fixed random linear
// teacher over `classes` (so training makes progress). The same on every rank.
inline Dataset teacher_task(std::size_t n, std::size_t features, std::size_t classes, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d{xtgrad::rand_uniform<Scalar>({n, features}, rng, -1.0, 1.0), xtgrad::nn::zeros<Scalar>({n, classes})};
  const Variable teacher(xtgrad::randn<Scalar>({features, classes}, rng));
  const Tensor scores = xtgrad::matmul(Variable(d.inputs), teacher).value();
  const std::vector<std::size_t> labels = xtgrad::nn::argmax_rows(scores);
  for (std::size_t i = 0; i < n; ++i) d.targets(i, labels[i]) = 1;
  return d;
}

// Linear(in, hidden) → sigmoid → Dropout(p, seed 5) → Linear(hidden, out), registered as
// fc1, drop and fc2 (p = 0: test_models.hpp's SigmoidNet, with the same weights from `rng`).
struct DropoutNet : Module {
  xtgrad::nn::BasicLinear<Scalar> fc1, fc2;
  xtgrad::nn::BasicDropout<Scalar> drop;
  DropoutNet(std::size_t in, std::size_t hidden, std::size_t out, double p, xtgrad::Rng& rng)
      : fc1(register_module("fc1", xtgrad::nn::BasicLinear<Scalar>(in, hidden, rng))),
        fc2(register_module("fc2", xtgrad::nn::BasicLinear<Scalar>(hidden, out, rng))),
        drop(register_module("drop", xtgrad::nn::BasicDropout<Scalar>(p, 5))) {}
  Variable forward(const Variable& x) override { return fc2(drop(xtgrad::sigmoid(fc1(x)))); }
};

struct RunSpec {
  std::size_t features = 20, hidden = 16, classes = 3;
  std::size_t rows = 64 * 50;  // 50 steps of the global batch
  std::size_t batch = 64;      // global batch
  std::size_t epochs = 1;
  double lr = 0.1;
  double l2 = 0;               // 0.5·l2·Σ W² over both weight matrices, as a penalty
  double dropout = 0;          // p of the hidden layer's nn::Dropout
  DataParallelOptions ddp;
};

// Trains DropoutNet(features, hidden, classes, dropout) with SGD(lr) from Rng(7) weights on
// teacher_task(rows): with `comm` data-parallel over the ranks (each rank's model first drawn
// from a different seed, so the broadcast matters), else in this process alone.
inline DropoutNet train(const RunSpec& spec, xtgrad::distributed::Communicator* comm) {
  const Dataset data = teacher_task(spec.rows, spec.features, spec.classes, 11);
  Rng init(comm ? 7 + 1000 * std::uint64_t(comm->rank()) : 7);
  DropoutNet net(spec.features, spec.hidden, spec.classes, spec.dropout, init);
  xtgrad::nn::BasicSGD<Scalar> sgd(net.named_parameters(), spec.lr);
  xtgrad::nn::BasicFitOptions<Scalar> options;
  options.epochs = spec.epochs;
  options.batch_size = spec.batch;
  options.progress_bar = false;
  if (spec.l2 > 0) {
    const double l2 = spec.l2;
    options.penalty = [l2](const NamedParameters& ps) {
      Variable total;
      for (const auto& [name, p] : ps) {
        if (name.find("weight") == std::string::npos) continue;
        total = total.defined() ? total + xtgrad::sum(p * p) : xtgrad::sum(p * p);
      }
      return total * (0.5 * l2);
    };
  }
  std::unique_ptr<DistributedDataParallel> ddp;
  if (comm) {
    ddp = std::make_unique<DistributedDataParallel>(net.named_parameters(), *comm, spec.ddp);
    options.reducer = ddp.get();
  }
  Rng shuffle(3);  // the same batch order on every rank and in the single process
  xtgrad::nn::fit(net, sgd, data, nullptr, shuffle, options);
  return net;
}

// max |a − b| / max |b| per parameter, the largest over parameters.
inline double max_relative_difference(Module& a, Module& b) {
  double worst = 0;
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (std::size_t k = 0; k < pa.size(); ++k) {
    const Tensor& x = pa[k].second.value();
    const Tensor& y = pb[k].second.value();
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      diff = std::max(diff, std::abs(double(x.data()[i]) - double(y.data()[i])));
      scale = std::max(scale, std::abs(double(y.data()[i])));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-30));
  }
  return worst;
}

}  // namespace xtgrad_test
