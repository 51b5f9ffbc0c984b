// FitOptions::checkpoint (nn/fit_checkpoint.hpp, nn/fit_checkpoint.cpp): a run stopped by
// should_stop and resumed from its checkpoint ends bit-identical to an uninterrupted one; a
// checkpoint of other settings, other data, another model, another process count or more epochs
// is refused naming the file and what differs; the caller's extra state travels with it; a
// failed save names the file.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "xtgrad/core/defaults.hpp"  // test_models.hpp names xtgrad::Variable
#include "fixture_files.hpp"
#include "test_models.hpp"
#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::nn::Checkpoint;
using xtgrad::nn::Dataset;
using xtgrad::nn::FitOptions;
using xtgrad::nn::History;
using xtgrad::nn::SGD;
using xtgrad_test::expect_throws_with;
using Net = xtgrad_test::SigmoidNet;
using xtgrad_test::clusters;

// `epochs` in all, batches of 16 (100 rows: 7 batches per epoch), checkpointed to `path`.
FitOptions checkpointed(std::size_t epochs, const std::string& path, bool resume) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.progress_bar = false;
  o.checkpoint.path = path;
  o.checkpoint.resume = resume;
  o.checkpoint.identity = "lr=0.1 momentum=0.9 hidden=5";
  return o;
}

void expect_same_parameters(const Net& a, const Net& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const Tensor &x = pa[i].second.value(), &y = pb[i].second.value();
    ASSERT_EQ(x.size(), y.size()) << pa[i].first;
    for (std::size_t k = 0; k < x.size(); ++k) EXPECT_EQ(x.data()[k], y.data()[k]) << pa[i].first << " element " << k;
  }
}

class FitCheckpointTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }

  // Trains a fresh Net(3, 5, 3) (seeded 11) with momentum SGD for `epochs` under `options`.
  History train(Net& net, const FitOptions& options) {
    SGD sgd(net.named_parameters(), 0.1, 0.9);
    Rng rng(12);
    return xtgrad::nn::fit(net, sgd, train_, &test_, rng, options);
  }
  static Net fresh() {
    Rng init(11);
    return Net(3, 5, 3, init);
  }

  xtgrad_test::TempDir dir_{"xtgrad_fit_checkpoint"};  // removed with the fixture
  const Dataset train_ = clusters(100, 1);
  const Dataset test_ = clusters(30, 2);
};

TEST_F(FitCheckpointTest, StoppedAndResumedEndsBitIdenticalToAnUninterruptedRun) {
  Net full = fresh();
  const History uninterrupted = train(full, checkpointed(4, file("full.ckpt.npz"), false));
  ASSERT_EQ(uninterrupted.size(), 4u);

  // should_stop after the 3rd batch of epoch 3: Interrupted, with epoch 2's checkpoint on disk.
  const std::string path = file("part.ckpt.npz");
  Net part = fresh();
  FitOptions stopping = checkpointed(4, path, false);
  std::size_t polls = 0, saved = 0;
  stopping.should_stop = [&] { return ++polls == 1 + 7 + 1 + 7 + 1 + 3; };  // before each epoch, after each batch
  stopping.checkpoint.on_checkpoint = [&](std::size_t epoch) { saved = epoch; };
  try {
    train(part, stopping);
    FAIL() << "should_stop did not stop the run";
  } catch (const xtgrad::Interrupted& e) {
    EXPECT_EQ(e.epoch, 3u);
  }
  EXPECT_EQ(saved, 2u);
  {
    Net probe = fresh();
    SGD sgd(probe.named_parameters(), 0.1, 0.9);
    EXPECT_EQ(xtgrad::nn::load_checkpoint(path, probe, sgd).epoch, 2u);
  }

  // A new process: fresh model, optimizer and rng; resume trains epochs 3 and 4 only.
  Net resumed = fresh();
  std::size_t epochs_trained = 0;
  FitOptions resuming = checkpointed(4, path, true);
  resuming.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++epochs_trained; };
  resuming.checkpoint.on_checkpoint = [&](std::size_t epoch) { saved = epoch; };
  const History h = train(resumed, resuming);
  EXPECT_EQ(epochs_trained, 2u);
  EXPECT_EQ(saved, 4u);
  expect_same_parameters(resumed, full);
  ASSERT_EQ(h.size(), 4u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(h[e].epoch, e + 1);
    EXPECT_EQ(h[e].data_loss, uninterrupted[e].data_loss) << "epoch " << e + 1;
    EXPECT_EQ(h[e].test_accuracy, uninterrupted[e].test_accuracy) << "epoch " << e + 1;
  }

  // Resuming a finished run trains nothing and returns its history.
  Net again = fresh();
  epochs_trained = 0;
  EXPECT_EQ(train(again, resuming).size(), 4u);
  EXPECT_EQ(epochs_trained, 0u);
  expect_same_parameters(again, full);
}

TEST_F(FitCheckpointTest, ResumeWithoutAFileStartsAfreshAndSavesEveryEpoch) {
  const std::string path = file("new.ckpt.npz");
  Net net = fresh();
  std::vector<std::size_t> saved;
  FitOptions o = checkpointed(2, path, true);
  o.checkpoint.on_checkpoint = [&](std::size_t epoch) { saved.push_back(epoch); };
  EXPECT_EQ(train(net, o).size(), 2u);
  EXPECT_EQ(saved, (std::vector<std::size_t>{1, 2}));
  Net probe = fresh();
  SGD sgd(probe.named_parameters(), 0.1, 0.9);
  const Checkpoint c = xtgrad::nn::load_checkpoint(path, probe, sgd);
  EXPECT_EQ(c.epoch, 2u);
  EXPECT_EQ(c.run, "lr=0.1 momentum=0.9 hidden=5");
  EXPECT_EQ(c.data, xtgrad::nn::dataset_fingerprint(train_));
  expect_same_parameters(probe, net);
}

TEST_F(FitCheckpointTest, ACheckpointOfAnotherRunIsRefusedNamingTheFileAndWhatDiffers) {
  const std::string path = file("run.ckpt.npz");
  Net first = fresh();
  train(first, checkpointed(2, path, false));

  Net other = fresh();
  FitOptions settings = checkpointed(3, path, true);
  settings.checkpoint.identity = "lr=0.05 momentum=0.9 hidden=5";
  expect_throws_with<xtgrad::CheckpointMismatch>(
      [&] { train(other, settings); },
      {path.c_str(), "other settings", "lr=0.1 momentum=0.9 hidden=5", "lr=0.05 momentum=0.9 hidden=5"});

  FitOptions data = checkpointed(3, path, true);
  data.checkpoint.data = "another data set";
  expect_throws_with<xtgrad::CheckpointMismatch>([&] { train(other, data); },
                                                 {path.c_str(), "other data", "another data set"});

  expect_throws_with<xtgrad::CheckpointMismatch>([&] { train(other, checkpointed(1, path, true)); },
                                                 {path.c_str(), "holds 2 epochs", "more than the 1"});

  Rng init(11);
  Net wider(3, 6, 3, init);
  SGD sgd(wider.named_parameters(), 0.1, 0.9);
  Rng rng(12);
  expect_throws_with<xtgrad::CheckpointMismatch>(
      [&] { xtgrad::nn::fit(wider, sgd, train_, &test_, rng, checkpointed(3, path, true)); },
      {path.c_str(), "does not fit", "fc1.weight", "(5, 3)", "(6, 3)"});
}

TEST_F(FitCheckpointTest, ACheckpointOfAnotherProcessCountIsRefused) {
  const std::string path = file("ranks.ckpt.npz");
  Net net = fresh();
  train(net, checkpointed(1, path, false));
  {  // rewritten as if 2 processes had trained it
    SGD sgd(net.named_parameters(), 0.1, 0.9);
    Checkpoint c = xtgrad::nn::load_checkpoint(path, net, sgd);
    EXPECT_EQ(c.tables.at("world_size"), (std::vector<std::vector<double>>{{1.0}}));
    c.tables["world_size"] = {{2.0}};
    xtgrad::nn::save_checkpoint(path, net, sgd, c);
  }
  Net other = fresh();
  expect_throws_with<xtgrad::CheckpointMismatch>([&] { train(other, checkpointed(2, path, true)); },
                                                 {path.c_str(), "on 2 ranks, this run has 1"});
}

TEST_F(FitCheckpointTest, ExtraStateIsSavedAndGivenBackAndMayEndTheRun) {
  const std::string path = file("extra.ckpt.npz");
  Net net = fresh();
  FitOptions o = checkpointed(2, path, false);
  std::vector<std::vector<double>> rows;
  o.on_epoch_end = [&](const xtgrad::nn::EpochStats& e) { rows.push_back({double(e.epoch), 0.5}); };
  o.checkpoint.save_extra = [&](Checkpoint& c) { c.tables["mine"] = rows; };
  train(net, o);

  // Resumed for 3 epochs: the rows come back; returning true ends the run with no epoch trained.
  Net resumed = fresh();
  FitOptions r = checkpointed(3, path, true);
  std::vector<std::vector<double>> loaded;
  std::size_t trained = 0;
  r.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++trained; };
  r.checkpoint.load_extra = [&](const Checkpoint& c) {
    loaded = c.tables.at("mine");
    return true;
  };
  EXPECT_EQ(train(resumed, r).size(), 2u);
  EXPECT_EQ(trained, 0u);
  EXPECT_EQ(loaded, (std::vector<std::vector<double>>{{1.0, 0.5}, {2.0, 0.5}}));
  expect_same_parameters(resumed, net);
}

TEST_F(FitCheckpointTest, AFailedSaveNamesTheFileAndAFirstEpochOtherThanOneIsRefused) {
  const std::string path = file("missing/folder/run.ckpt.npz");
  Net net = fresh();
  expect_throws_with<xtgrad::io::WriteError>([&] { train(net, checkpointed(1, path, false)); }, {path.c_str()});

  FitOptions o = checkpointed(2, file("x.ckpt.npz"), false);
  o.first_epoch = 3;
  expect_throws_with<std::invalid_argument>([&] { train(net, o); }, {"first_epoch 3", "x.ckpt.npz"});
}

}  // namespace
