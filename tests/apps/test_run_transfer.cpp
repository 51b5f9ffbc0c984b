// encode_runs/decode_runs: what a rank sends rank 0 for --sweep and --seeds over MPI. Every field
// of a RunResult arrives with the same value (bit-exact numbers); bad text is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "experiment.hpp"
#include "run_transfer.hpp"

namespace {

// A run whose every field differs from its default, numbers chosen to need all 17 digits.
mnist_app::RunResult full_run() {
  mnist_app::RunResult r;
  r.reg = "group_lasso(lambd=0.0001, groups=inputs)+dropout(p=0.5)";
  r.effects = {"dropout after the hidden layer", "something else"};
  r.gradient = "blog";
  r.history = {{1, 2.302585092994046, 0.1 / 3, 2.4, 0.8123, 1.25, 0.5}, {2, 0.7, 0.01, 0.71, -1, 1.5, 0.25}};
  r.test_accuracy = 0.9188;
  r.seconds_per_epoch = 1.0 / 7;
  r.train_accuracy = 0.99;
  r.fgsm_accuracy = {0.5, 0.25};
  r.best_epoch = 2;
  xtgrad::Coverage c;
  c.name = "fc1.weight";
  c.shape = {200, 784};
  c.penalized = true;
  c.l1 = 1e-4;
  c.l2 = 0.01;
  c.l1_mode = xtgrad::L1Mode::prox;
  c.start = 3;
  c.group = 2.5e-4;
  c.groups = "inputs";
  r.coverage = {c};
  r.tensor_penalties = {{0.1, 0.2}, {std::nextafter(0.3, 1.0), 0}};
  xtgrad::SparsityRow s;
  s.name = "fc1.weight";
  s.shape = {200, 784};
  s.count = 156800;
  s.zeros = 7;
  s.near_zeros = 9;
  s.zero_fraction = 7.0 / 156800;
  s.near_zero_fraction = 9.0 / 156800;
  s.eps = 1e-3;
  s.is_matrix = true;
  s.rows = 200;
  s.cols = 784;
  s.zero_rows = 1;
  s.zero_cols = 2;
  s.near_zero_rows = 3;
  s.near_zero_cols = 4;
  r.sparsity = {s};
  r.first_layer_weights = xtgrad::Tensor::from_shape({2, 3});
  for (std::size_t i = 0; i < 6; ++i) r.first_layer_weights.data()[i] = float(i) / 3.0f - 0.7f;
  r.seed = 18446744073709551557ull;  // needs all 64 bits
  r.ece = 0.0123;
  r.test_nll = 0.31;
  r.calibration = {{0, 1.0 / 15, 3, 0.05, 0.1}};
  r.hessian_top_eigenvalue = 7.9;
  r.hessian_iterations = 20;
  r.hessian_residual = 1e-7;
  xtgrad::nn::WeightStats w;
  w.name = "fc1.weight";
  w.shape = {200, 784};
  w.count = 156800;
  w.exact_zeros = 7;
  w.l1 = 123.5;
  w.l2 = 4.25;
  w.max_abs = 0.75;
  w.units = 200;
  w.dead_units = 1;
  r.weights = {w};
  return r;
}

TEST(RunTransfer, EveryFieldArrivesAsItWasSent) {
  const mnist_app::RunResult a = full_run();
  const auto decoded = mnist_app::decode_runs(mnist_app::encode_runs({{3, a}, {5, a}}));
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].first, 3u);
  EXPECT_EQ(decoded[1].first, 5u);
  const mnist_app::RunResult& b = decoded[1].second;
  EXPECT_EQ(b.reg, a.reg);
  EXPECT_EQ(b.effects, a.effects);
  EXPECT_EQ(b.gradient, a.gradient);
  ASSERT_EQ(b.history.size(), a.history.size());
  for (std::size_t e = 0; e < a.history.size(); ++e) {
    EXPECT_EQ(b.history[e].epoch, a.history[e].epoch);
    EXPECT_EQ(b.history[e].data_loss, a.history[e].data_loss);
    EXPECT_EQ(b.history[e].penalty, a.history[e].penalty);
    EXPECT_EQ(b.history[e].loss, a.history[e].loss);
    EXPECT_EQ(b.history[e].test_accuracy, a.history[e].test_accuracy);
    EXPECT_EQ(b.history[e].seconds, a.history[e].seconds);
    EXPECT_EQ(b.history[e].eval_seconds, a.history[e].eval_seconds);
  }
  EXPECT_EQ(b.test_accuracy, a.test_accuracy);
  EXPECT_EQ(b.seconds_per_epoch, a.seconds_per_epoch);
  EXPECT_EQ(b.train_accuracy, a.train_accuracy);
  EXPECT_EQ(b.fgsm_accuracy, a.fgsm_accuracy);
  EXPECT_EQ(b.best_epoch, a.best_epoch);
  ASSERT_EQ(b.coverage.size(), 1u);
  const xtgrad::Coverage &c = a.coverage[0], &d = b.coverage[0];
  EXPECT_EQ(d.name, c.name);
  EXPECT_EQ(d.shape, c.shape);
  EXPECT_EQ(d.penalized, c.penalized);
  EXPECT_EQ(d.l1, c.l1);
  EXPECT_EQ(d.l2, c.l2);
  EXPECT_EQ(d.l1_mode, c.l1_mode);
  EXPECT_EQ(d.start, c.start);
  EXPECT_EQ(d.group, c.group);  // the terms the hand-written list had lost
  EXPECT_EQ(d.groups, c.groups);
  EXPECT_EQ(b.tensor_penalties, a.tensor_penalties);
  ASSERT_EQ(b.sparsity.size(), 1u);
  const xtgrad::SparsityRow &s = a.sparsity[0], &t = b.sparsity[0];
  EXPECT_EQ(t.name, s.name);
  EXPECT_EQ(t.shape, s.shape);
  EXPECT_EQ(t.count, s.count);
  EXPECT_EQ(t.zeros, s.zeros);
  EXPECT_EQ(t.near_zeros, s.near_zeros);
  EXPECT_EQ(t.zero_fraction, s.zero_fraction);
  EXPECT_EQ(t.near_zero_fraction, s.near_zero_fraction);
  EXPECT_EQ(t.eps, s.eps);
  EXPECT_EQ(t.is_matrix, s.is_matrix);
  EXPECT_EQ(t.rows, s.rows);
  EXPECT_EQ(t.cols, s.cols);
  EXPECT_EQ(t.zero_rows, s.zero_rows);
  EXPECT_EQ(t.zero_cols, s.zero_cols);
  EXPECT_EQ(t.near_zero_rows, s.near_zero_rows);
  EXPECT_EQ(t.near_zero_cols, s.near_zero_cols);
  EXPECT_EQ(xtgrad::shape_of(b.first_layer_weights), xtgrad::shape_of(a.first_layer_weights));
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(b.first_layer_weights.data()[i], a.first_layer_weights.data()[i]);
  EXPECT_EQ(b.seed, a.seed);
  EXPECT_EQ(b.ece, a.ece);
  EXPECT_EQ(b.test_nll, a.test_nll);
  ASSERT_EQ(b.calibration.size(), 1u);
  EXPECT_EQ(b.calibration[0].lower, a.calibration[0].lower);
  EXPECT_EQ(b.calibration[0].upper, a.calibration[0].upper);
  EXPECT_EQ(b.calibration[0].count, a.calibration[0].count);
  EXPECT_EQ(b.calibration[0].confidence, a.calibration[0].confidence);
  EXPECT_EQ(b.calibration[0].accuracy, a.calibration[0].accuracy);
  EXPECT_EQ(b.hessian_top_eigenvalue, a.hessian_top_eigenvalue);
  EXPECT_EQ(b.hessian_iterations, a.hessian_iterations);
  EXPECT_EQ(b.hessian_residual, a.hessian_residual);
  ASSERT_EQ(b.weights.size(), 1u);
  const xtgrad::nn::WeightStats &w = a.weights[0], &v = b.weights[0];
  EXPECT_EQ(v.name, w.name);
  EXPECT_EQ(v.shape, w.shape);
  EXPECT_EQ(v.count, w.count);
  EXPECT_EQ(v.exact_zeros, w.exact_zeros);
  EXPECT_EQ(v.l1, w.l1);
  EXPECT_EQ(v.l2, w.l2);
  EXPECT_EQ(v.max_abs, w.max_abs);
  EXPECT_EQ(v.units, w.units);
  EXPECT_EQ(v.dead_units, w.dead_units);
  EXPECT_FALSE(b.pruned);
}

TEST(RunTransfer, TextThatIsNotEncodedRunsIsRefused) {
  EXPECT_THROW(mnist_app::decode_runs("not json"), std::invalid_argument);
  EXPECT_THROW(mnist_app::decode_runs(R"([{"index": 0}])"), std::invalid_argument);
  std::string text = mnist_app::encode_runs({{0, full_run()}});
  const std::string data = R"("data":[)";
  const auto at = text.find(data);
  ASSERT_NE(at, std::string::npos);
  text.insert(at + data.size(), "1.5,");  // 7 values for a (2, 3) tensor
  try {
    mnist_app::decode_runs(text);
    FAIL() << "accepted a tensor whose data does not fit its shape";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit its shape"), std::string::npos) << e.what();
  }
}

}  // namespace
