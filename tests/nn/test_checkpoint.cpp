// nn::save_checkpoint / load_checkpoint: a round trip restores parameters, optimizer state,
// the Rng and the history; training interrupted after epoch 2 of 4 and resumed from the
// checkpoint ends with exactly the parameters of an uninterrupted run; mismatched or foreign
// files are refused with the file and the entry named, and nothing is changed. Also fit's
// after_step and should_stop hooks.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/defaults.hpp"  // test_models.hpp names xtgrad::Variable
#include "test_models.hpp"
#include "test_util.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/io/npz.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::Variable;
using xtgrad::nn::Checkpoint;
using xtgrad::nn::Dataset;
using xtgrad::nn::FitOptions;
using xtgrad::nn::History;
using xtgrad::nn::Linear;
using xtgrad::nn::Module;
using xtgrad::nn::Optimizer;
using xtgrad_test::expect_throws_with;

using Net = xtgrad_test::SigmoidNet;
using xtgrad_test::clusters;

FitOptions quiet_options(std::size_t epochs) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;  // 100 rows: 6 full batches and one of 4
  o.progress_bar = false;
  return o;
}

// Exact equality of every element (same shapes first).
void expect_same_values(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(xtgrad::shape_str(a), xtgrad::shape_str(b)) << what;
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.data()[i], b.data()[i]) << what << " element " << i;
}

void expect_same_parameters(const Module& a, const Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    expect_same_values(pa[i].second.value(), pb[i].second.value(), pa[i].first);
  }
}

void expect_same_state(const Optimizer& a, const Optimizer& b) {
  const auto sa = a.state(), sb = b.state();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    expect_same_values(sa[i].second, sb[i].second, sa[i].first);
  }
}

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const Module&)>;

std::unique_ptr<Optimizer> momentum_sgd(const Module& m) {
  return std::make_unique<xtgrad::nn::SGD>(m.named_parameters(), 0.1, 0.9);
}
std::unique_ptr<Optimizer> adam(const Module& m) {
  return std::make_unique<xtgrad::nn::Adam>(m.named_parameters(), 0.01);
}

// A fresh folder under the system's temporary directory, removed with the fixture.
class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "xtgrad_checkpoint_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
  const Dataset train_ = clusters(100, 1);
  const Dataset test_ = clusters(30, 2);
};

TEST_F(CheckpointTest, RoundTripRestoresParametersMomentumRngAndHistory) {
  Rng rng(3);
  Net a(3, 5, 3, rng);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1, 0.9);
  const History history = xtgrad::nn::fit(a, sgd_a, train_, &test_, rng, quiet_options(2));
  ASSERT_FALSE(sgd_a.state().empty());  // momentum buffers exist after the first step

  Checkpoint saved;
  saved.epoch = 2;
  saved.rng = rng;
  saved.history = history;
  saved.run = "lr=0.1 momentum=0.9";
  saved.data = xtgrad::nn::dataset_fingerprint(train_);
  saved.tables["per_tensor"] = {{0.5, 1.0 / 3.0, 0.0}, {0.25, 2e-300, -1.0}};
  saved.tables["empty"] = {};
  const std::string path = file("a.ckpt.npz");
  xtgrad::nn::save_checkpoint(path, a, sgd_a, saved);
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  Rng other(4);
  Net b(3, 5, 3, other);
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1, 0.9);
  const Checkpoint loaded = xtgrad::nn::load_checkpoint(path, b, sgd_b);
  expect_same_parameters(a, b);
  expect_same_state(sgd_a, sgd_b);
  EXPECT_EQ(loaded.epoch, 2u);
  EXPECT_EQ(loaded.run, saved.run);
  EXPECT_EQ(loaded.data, saved.data);
  EXPECT_EQ(loaded.tables, saved.tables);
  EXPECT_TRUE(loaded.rng == rng);
  Rng copy = loaded.rng;
  EXPECT_EQ(copy(), rng());  // and it draws the same continuation
  ASSERT_EQ(loaded.history.size(), history.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(loaded.history[i].epoch, history[i].epoch);
    EXPECT_EQ(loaded.history[i].data_loss, history[i].data_loss);
    EXPECT_EQ(loaded.history[i].penalty, history[i].penalty);
    EXPECT_EQ(loaded.history[i].loss, history[i].loss);
    EXPECT_EQ(loaded.history[i].test_accuracy, history[i].test_accuracy);
    EXPECT_EQ(loaded.history[i].seconds, history[i].seconds);
    EXPECT_EQ(loaded.history[i].eval_seconds, history[i].eval_seconds);
  }
}

// A checkpoint written before 0.2 (no meta/layout, Linear weights and their momentum (in, out))
// loads into today's (out, in) model transposed; a layout of a newer version is refused.
TEST_F(CheckpointTest, ACheckpointOfTheOldInOutLayoutIsTransposedOnLoad) {
  Rng rng(3);
  Net a(3, 5, 3, rng);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1, 0.9);
  xtgrad::nn::fit(a, sgd_a, train_, &test_, rng, quiet_options(1));
  const std::string path = file("a.ckpt.npz");
  Checkpoint saved;
  saved.epoch = 1;
  saved.history.resize(1);
  xtgrad::nn::save_checkpoint(path, a, sgd_a, saved);

  // The same file as 0.1 wrote it: every 2-d weight entry transposed, no meta/layout.
  std::map<std::string, xtgrad::nn::NpyArray> arrays = xtgrad::nn::read_npz(path);
  ASSERT_EQ(arrays.erase("meta/layout"), 1u);
  std::size_t transposed = 0;
  for (auto& [key, array] : arrays) {
    if (array.shape.size() != 2 || key.find("weight") == std::string::npos || key.rfind("meta/", 0) == 0) continue;
    array = xtgrad::nn::to_npy(Tensor(xt::transpose(xtgrad::nn::from_npy<float>(array, key))));
    ++transposed;
  }
  EXPECT_EQ(transposed, 4u);  // fc1.weight, fc2.weight and their momentum buffers
  const std::string old_path = file("old.ckpt.npz");
  xtgrad::nn::write_npz(old_path, arrays);

  Rng other(4);
  Net b(3, 5, 3, other);
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1, 0.9);
  xtgrad::nn::load_checkpoint(old_path, b, sgd_b);
  expect_same_parameters(a, b);
  expect_same_state(sgd_a, sgd_b);

  arrays = xtgrad::nn::read_npz(path);
  const std::string future = "linear_in_out_v9";
  arrays["meta/layout"] = xtgrad::nn::NpyArray{{future.size()}, "|u1", std::vector<std::uint8_t>(future.begin(), future.end())};
  const std::string future_path = file("future.ckpt.npz");
  xtgrad::nn::write_npz(future_path, arrays);
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(future_path, b, sgd_b); },
                                        {future_path.c_str(), "meta/layout", future.c_str()});
}

TEST_F(CheckpointTest, DatasetFingerprintNamesShapesAndChangesWithAnySample) {
  const std::string fingerprint = xtgrad::nn::dataset_fingerprint(train_);
  EXPECT_EQ(fingerprint, xtgrad::nn::dataset_fingerprint(clusters(100, 1)));  // the same data again
  EXPECT_NE(fingerprint.find("(100, 3)"), std::string::npos) << fingerprint;
  EXPECT_NE(fingerprint.find("crc32 "), std::string::npos) << fingerprint;
  Dataset changed = train_;  // same shapes, one input differs
  changed.inputs = Tensor(train_.inputs);
  changed.inputs.data()[57] += 1;
  EXPECT_NE(xtgrad::nn::dataset_fingerprint(changed), fingerprint);
  Dataset relabeled = train_;  // same inputs, one label moved
  relabeled.targets = Tensor(train_.targets);
  std::swap(relabeled.targets.data()[0], relabeled.targets.data()[1]);
  EXPECT_NE(xtgrad::nn::dataset_fingerprint(relabeled), fingerprint);
}

TEST_F(CheckpointTest, SavingAgainReplacesTheFileAndLeavesNoTemporary) {
  Rng rng(5);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd(a.named_parameters(), 0.1, 0.9);
  const std::string path = file("run.ckpt.npz");
  Checkpoint meta;
  xtgrad::nn::save_checkpoint(path, a, sgd, meta);  // epoch 0: no optimizer state yet
  meta.history = xtgrad::nn::fit(a, sgd, train_, nullptr, rng, quiet_options(1));
  meta.epoch = 1;
  meta.rng = rng;
  xtgrad::nn::save_checkpoint(path, a, sgd, meta);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"run.ckpt.npz"});
  Rng other(6);
  Net b(3, 4, 3, other);
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1, 0.9);
  EXPECT_EQ(xtgrad::nn::load_checkpoint(path, b, sgd_b).epoch, 1u);
  expect_same_parameters(a, b);
}

// Trains 4 epochs without a break; then 4 epochs again from the same seed, saving a checkpoint
// at each epoch end and stopped in epoch 3; then a new process-like start (another seed, fresh
// model and optimizer) loads epoch 2's checkpoint and trains epochs 3 and 4.
void expect_resume_matches_uninterrupted(const Dataset& train, const Dataset& test, const std::string& path,
                                         const MakeOptimizer& make_optimizer) {
  const std::size_t epochs = 4;
  Rng rng_full(7);
  Net full(3, 6, 3, rng_full);
  auto opt_full = make_optimizer(full);
  const History history_full = xtgrad::nn::fit(full, *opt_full, train, &test, rng_full, quiet_options(epochs));

  {
    Rng rng(7);
    Net net(3, 6, 3, rng);
    auto opt = make_optimizer(net);
    FitOptions options = quiet_options(epochs);
    History so_far;
    options.on_epoch_end = [&](const xtgrad::nn::EpochStats& e) {
      so_far.push_back(e);
      Checkpoint meta;
      meta.epoch = e.epoch;
      meta.rng = rng;
      meta.history = so_far;
      xtgrad::nn::save_checkpoint(path, net, *opt, meta);
    };
    std::size_t batches = 0;
    // Polled before each epoch and after each of its 7 batches: stop in epoch 3 after batch 3.
    options.should_stop = [&] { return ++batches == 2 * (1 + 7) + 1 + 3; };
    try {
      xtgrad::nn::fit(net, *opt, train, &test, rng, options);
      FAIL() << "should_stop did not interrupt the training";
    } catch (const xtgrad::Interrupted& e) {
      EXPECT_EQ(e.epoch, 3u) << e.what();
    }
    ASSERT_EQ(so_far.size(), 2u);
  }

  Rng rng(99);  // the checkpoint's Rng replaces it
  Net net(3, 6, 3, rng);
  auto opt = make_optimizer(net);
  const Checkpoint c = xtgrad::nn::load_checkpoint(path, net, *opt);
  ASSERT_EQ(c.epoch, 2u);
  rng = c.rng;
  FitOptions options = quiet_options(epochs - c.epoch);
  options.first_epoch = c.epoch + 1;
  History history = c.history;
  for (const auto& e : xtgrad::nn::fit(net, *opt, train, &test, rng, options)) history.push_back(e);

  expect_same_parameters(full, net);
  expect_same_state(*opt_full, *opt);
  ASSERT_EQ(history.size(), history_full.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].epoch, history_full[i].epoch);
    EXPECT_EQ(history[i].data_loss, history_full[i].data_loss) << "epoch " << i + 1;
    EXPECT_EQ(history[i].test_accuracy, history_full[i].test_accuracy) << "epoch " << i + 1;
  }
  EXPECT_TRUE(rng == rng_full);
}

TEST_F(CheckpointTest, InterruptedAndResumedMomentumSgdEndsWithExactlyTheUninterruptedParameters) {
  expect_resume_matches_uninterrupted(train_, test_, file("sgd.ckpt.npz"), momentum_sgd);
}

TEST_F(CheckpointTest, InterruptedAndResumedAdamEndsWithExactlyTheUninterruptedParameters) {
  expect_resume_matches_uninterrupted(train_, test_, file("adam.ckpt.npz"), adam);
}

// The two hooks of nn::fit that checkpointed and proximal training use (here, not in
// test_train.cpp, with the interruption they serve).
TEST(FitHooks, AfterStepRunsOncePerOptimizerStepAndMayChangeTheParameters) {
  const Dataset train = clusters(40, 24);
  Rng rng(25);
  Linear fc(3, 3, rng);
  xtgrad::nn::SGD sgd(fc.named_parameters(), 0.1);
  FitOptions options = quiet_options(3);
  options.batch_size = 10;  // 4 batches per epoch
  std::size_t steps = 0;
  Tensor seen;
  options.after_step = [&] {
    ++steps;
    seen = fc.weight.value();          // the step has been applied
    fc.weight.mutable_value() *= 0.5;  // and the hook may change the parameters (a proximal step)
  };
  xtgrad::nn::fit(fc, sgd, train, nullptr, rng, options);
  EXPECT_EQ(steps, 3u * 4u);
  xtgrad_test::expect_tensor_near(fc.weight.value(), Tensor(0.5 * seen), 1e-15);
}

// A 3-4-3 net and plain SGD on 40 points, 4 batches of 10 per epoch, 5 quiet epochs: the run
// the stop tests interrupt.
struct FourBatchRun {
  explicit FourBatchRun(std::uint64_t seed)
      : train(clusters(40, seed)), rng(seed + 1), net(3, 4, 3, rng), sgd(net.named_parameters(), 0.01) {
    options.batch_size = 10;
  }
  void fit() { xtgrad::nn::fit(net, sgd, train, nullptr, rng, options); }
  const Dataset train;
  Rng rng;
  Net net;
  xtgrad::nn::SGD sgd;
  FitOptions options = quiet_options(5);
};

// A signal while a StopSignals lives is recorded, not fatal; fit polling it stops at the next
// batch; the previous actions come back when it goes.
TEST(StopSignals, CtrlCStopsFitAtTheNextBatchAndThePreviousActionsComeBack) {
  struct sigaction before_int {}, before_term {}, after {};
  ::sigaction(SIGINT, nullptr, &before_int);
  ::sigaction(SIGTERM, nullptr, &before_term);
  {
    const xtgrad::nn::StopSignals stop;
    EXPECT_THROW(xtgrad::nn::StopSignals second, std::logic_error);
    EXPECT_FALSE(xtgrad::nn::StopSignals::requested());
    FourBatchRun run(28);
    std::size_t steps = 0;
    run.options.after_step = [&] {
      if (++steps == 6) {
        ASSERT_EQ(::raise(SIGINT), 0);  // as Ctrl-C during batch 2 of epoch 2
      }
    };
    run.options.should_stop = xtgrad::nn::StopSignals::requested;
    expect_throws_with<xtgrad::Interrupted>([&] { run.fit(); }, {"interrupted", "epoch 2", "batch 2"});
    EXPECT_EQ(steps, 6u);
    EXPECT_EQ(xtgrad::nn::StopSignals::received(), SIGINT);
    ASSERT_EQ(::raise(SIGTERM), 0);  // a later signal does not replace the first
    EXPECT_EQ(xtgrad::nn::StopSignals::received(), SIGINT);
  }
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before_int.sa_handler);
  ::sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before_term.sa_handler);
  // A new one starts with a clean record.
  const xtgrad::nn::StopSignals again;
  EXPECT_EQ(xtgrad::nn::StopSignals::received(), 0);
}

TEST(FitHooks, ShouldStopThrowsInterruptedWithTheRunningEpoch) {
  FourBatchRun run(26);
  FitOptions& options = run.options;
  options.first_epoch = 3;
  std::size_t polls = 0, steps = 0, epochs_ended = 0;
  options.after_step = [&] { ++steps; };
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++epochs_ended; };
  // Polled before each epoch and after each batch: the 7th poll is after batch 1 of the 2nd epoch (4).
  options.should_stop = [&] { return ++polls == 7; };
  expect_throws_with<xtgrad::Interrupted>([&] { run.fit(); }, {"interrupted", "epoch 4", "batch 1"});
  EXPECT_EQ(steps, 5u);
  EXPECT_EQ(epochs_ended, 1u);

  // A stop requested before training starts: no step at all, the epoch is the first one.
  options.should_stop = [] { return true; };
  steps = 0;
  try {
    run.fit();
    FAIL() << "did not stop";
  } catch (const xtgrad::Interrupted& e) {
    EXPECT_EQ(e.epoch, 3u);
  }
  EXPECT_EQ(steps, 0u);
}

TEST_F(CheckpointTest, ShapeMismatchNamesFileAndParameterAndChangesNothing) {
  Rng rng(8);
  Net a(3, 5, 3, rng);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1, 0.9);
  const std::string path = file("a.ckpt.npz");
  xtgrad::nn::save_checkpoint(path, a, sgd_a, Checkpoint{});

  Net b(3, 4, 3, rng);
  const Tensor before = b.fc1.weight.value();
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1, 0.9);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_checkpoint(path, b, sgd_b); },
                                            {path.c_str(), "'fc1.weight'", "(5, 3)", "(4, 3)"});
  expect_same_values(b.fc1.weight.value(), before, "fc1.weight");
}

TEST_F(CheckpointTest, OptimizerStateOfAnotherKindIsRefusedNamingTheEntry) {
  Rng rng(9);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd(a.named_parameters(), 0.1, 0.9);
  xtgrad::nn::fit(a, sgd, train_, nullptr, rng, quiet_options(1));
  const std::string path = file("sgd.ckpt.npz");
  Checkpoint meta;
  meta.epoch = 1;
  meta.history.resize(1);
  xtgrad::nn::save_checkpoint(path, a, sgd, meta);

  Rng other(10);
  Net b(3, 4, 3, other);
  const Tensor before = b.fc2.bias.value();
  xtgrad::nn::Adam adam_b(b.named_parameters(), 0.01);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_checkpoint(path, b, adam_b); },
                                            {path.c_str(), "momentum"});
  expect_same_values(b.fc2.bias.value(), before, "fc2.bias");  // parameters untouched too
  EXPECT_TRUE(adam_b.state().empty());
}

TEST_F(CheckpointTest, MissingOrForeignFilesThrowDataErrorNamingThem) {
  Rng rng(11);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd(a.named_parameters(), 0.1);
  const std::string missing = file("missing.ckpt.npz");
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(missing, a, sgd); }, {missing.c_str()});

  const std::string params_only = file("params.npz");  // save_parameters' file is not a checkpoint
  xtgrad::nn::save_parameters(a, params_only);
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(params_only, a, sgd); },
                                        {params_only.c_str(), "not a checkpoint", "meta/epoch"});

  const std::string garbage = file("garbage.ckpt.npz");
  std::ofstream(garbage) << "not a zip file at all";
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(garbage, a, sgd); }, {garbage.c_str()});
}

TEST_F(CheckpointTest, HistoryMustMatchTheEpochCount) {
  Rng rng(12);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd(a.named_parameters(), 0.1);
  Checkpoint meta;
  meta.epoch = 3;
  meta.history.resize(2);
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::nn::save_checkpoint(file("bad.ckpt.npz"), a, sgd, meta); }, {"epoch 3", "2 history records"});
  EXPECT_FALSE(fs::exists(file("bad.ckpt.npz")));
}

}  // namespace

namespace {

// A checkpoint carries BatchNorm's running statistics (buffers) with the parameters.
TEST_F(CheckpointTest, BuffersRoundTrip) {
  Rng rng(40);
  auto make = [](Rng& r) {
    xtgrad::nn::Sequential net;
    net.add(Linear(3, 4, r)).add("bn", xtgrad::nn::BatchNorm1d(4)).add(xtgrad::nn::Tanh()).add(Linear(4, 3, r));
    return net;
  };
  xtgrad::nn::Sequential a = make(rng);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1);
  const History history = xtgrad::nn::fit(a, sgd_a, train_, nullptr, rng, quiet_options(1));
  Checkpoint saved;
  saved.epoch = 1;
  saved.rng = rng;
  saved.history = history;
  xtgrad::nn::save_checkpoint(file("bn.ckpt.npz"), a, sgd_a, saved);
  Rng other(41);
  xtgrad::nn::Sequential b = make(other);
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1);
  xtgrad::nn::load_checkpoint(file("bn.ckpt.npz"), b, sgd_b);
  const auto& bn_a = a.get<xtgrad::nn::BatchNorm1d>("bn");
  const auto& bn_b = b.get<xtgrad::nn::BatchNorm1d>("bn");
  expect_same_values(bn_b.running_mean.value(), bn_a.running_mean.value(), "running_mean");
  expect_same_values(bn_b.running_var.value(), bn_a.running_var.value(), "running_var");
  EXPECT_NE(bn_a.running_var.value()(0), 1.0);  // training moved it
}

}  // namespace

namespace {

// EarlyStopping's state crosses a checkpoint: a fresh EarlyStopping loaded from it holds the
// best epoch, its weights and the bad-epoch count, so the same accuracies stop it at the same
// epoch with the same weights put back; the file's bytes load like the file.
TEST_F(CheckpointTest, EarlyStoppingStateRoundTripsAndStopsAtTheSameEpoch) {
  Rng rng(50);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1);
  xtgrad::nn::EarlyStopping early_a(a, 2);
  Variable w_a = a.named_parameters().front().second;
  const std::vector<double> accuracies{0.5, 0.8, 0.7, 0.6};  // best epoch 2; epochs 3, 4 worse: stop at 4
  Checkpoint saved;
  History history;
  for (std::size_t e = 1; e <= 3; ++e) {  // three epochs, then the checkpoint
    w_a.mutable_value().fill(double(e));
    xtgrad::nn::EpochStats s;
    s.epoch = e;
    s.test_accuracy = accuracies[e - 1];
    history.push_back(s);
    ASSERT_FALSE(early_a(s));
  }
  saved.epoch = 3;
  saved.history = history;
  saved.early_stopping = early_a.state();
  const std::string path = file("es.ckpt.npz");
  xtgrad::nn::save_checkpoint(path, a, sgd_a, saved);

  Rng other(51);
  Net b(3, 4, 3, other);
  xtgrad::nn::SGD sgd_b(b.named_parameters(), 0.1);
  const Checkpoint loaded = xtgrad::nn::load_checkpoint_bytes(xtgrad::nn::read_npz_bytes(path), path, b, sgd_b);
  ASSERT_TRUE(loaded.early_stopping.has_value());
  EXPECT_EQ(loaded.early_stopping->best_epoch, 2u);
  EXPECT_EQ(loaded.early_stopping->bad_epochs, 1u);
  EXPECT_EQ(loaded.early_stopping->best_accuracy, 0.8);
  EXPECT_FALSE(loaded.early_stopping->stopped);
  xtgrad::nn::EarlyStopping early_b(b, 2);
  early_b.load_state(*loaded.early_stopping);

  // Epoch 4 on both: each stops and puts epoch 2's weights back.
  xtgrad::nn::EpochStats s;
  s.epoch = 4;
  s.test_accuracy = accuracies[3];
  w_a.mutable_value().fill(4.0);
  b.named_parameters().front().second.mutable_value().fill(4.0);
  EXPECT_TRUE(early_a(s));
  EXPECT_TRUE(early_b(s));
  EXPECT_EQ(early_b.best_epoch(), 2u);
  expect_same_parameters(a, b);
  EXPECT_EQ(b.named_parameters().front().second.value().data()[0], 2.0);

  // Without early stopping in it, a checkpoint has none.
  Checkpoint plain;
  xtgrad::nn::save_checkpoint(file("plain.ckpt.npz"), a, sgd_a, plain);
  EXPECT_FALSE(xtgrad::nn::load_checkpoint(file("plain.ckpt.npz"), b, sgd_b).early_stopping.has_value());
}

// A checkpoint whose early-stopping arrays are incomplete or foreign is refused, naming them.
TEST_F(CheckpointTest, MalformedEarlyStoppingStateIsRefused) {
  Rng rng(52);
  Net a(3, 4, 3, rng);
  xtgrad::nn::SGD sgd(a.named_parameters(), 0.1);
  const std::string path = file("es.ckpt.npz");
  Checkpoint meta;
  meta.early_stopping = xtgrad::nn::EarlyStoppingState{};  // before any epoch: no best values
  xtgrad::nn::save_checkpoint(path, a, sgd, meta);
  auto arrays = xtgrad::nn::read_npz(path);
  EXPECT_EQ(arrays.count("early/best_epoch"), 1u);
  arrays.erase("early/stopped");
  xtgrad::nn::write_npz(path, arrays);
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(path, a, sgd); },
                                        {path.c_str(), "early/stopped"});
  // A best epoch beyond the epochs done.
  xtgrad::nn::EarlyStopping early(a, 2);
  xtgrad::nn::EpochStats s;
  s.epoch = 5;
  s.test_accuracy = 0.5;
  early(s);
  meta.early_stopping = early.state();
  xtgrad::nn::save_checkpoint(path, a, sgd, meta);
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_checkpoint(path, a, sgd); },
                                        {path.c_str(), "best epoch 5", "0 completed epochs"});
  // Best values that are not one per parameter are refused when saving.
  meta.early_stopping->best_values.pop_back();
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::save_checkpoint(path, a, sgd, meta); },
                                            {"early-stopping values"});
}

}  // namespace

// ---- double: a BasicLinear<double> with BasicAdam<double> keeps every bit ------------------

namespace {

TEST_F(CheckpointTest, DoubleModelAndOptimizerRoundTripInFloat64) {
  Rng rng(40);
  xtgrad::nn::BasicLinear<double> a(3, 2, rng), b(3, 2, rng);
  xtgrad::nn::BasicAdam<double> adam_a(a.named_parameters(), 0.01), adam_b(b.named_parameters(), 0.01);
  xtgrad::TensorOf<double> x = {{1.0, 2.0, 3.0}};
  xtgrad::sum(a(xtgrad::BasicVariable<double>(x))).backward();
  adam_a.step();
  a.weight.mutable_value()(0, 0) = 1.0 + 1e-12;  // below float resolution
  xtgrad::nn::BasicCheckpoint<double> saved;
  saved.rng = rng;
  const std::string path = file("double.ckpt.npz");
  xtgrad::nn::save_checkpoint(path, a, adam_a, saved);
  EXPECT_EQ(xtgrad::nn::read_npz(path).at("param/weight").dtype, "<f8");
  xtgrad::nn::load_checkpoint(path, b, adam_b);
  EXPECT_EQ(b.weight.value()(0, 0), 1.0 + 1e-12);
  const auto sa = adam_a.state(), sb = adam_b.state();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].second, sb[i].second) << sa[i].first;
}

}  // namespace
