// FitOptions::checkpoint under a DistributedDataParallel reducer (nn/fit_checkpoint.hpp), on
// the ranks mpirun started: only rank 0 writes the file; a run stopped after epoch 2 resumes on
// every rank from rank 0's bytes (the other ranks' paths hold nothing) and ends bit-identical to
// an uninterrupted run on as many ranks; a save rank 0 cannot make fails on every rank.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "data_parallel_cases.hpp"

namespace {

namespace fs = std::filesystem;
using namespace xtgrad_test;

// A fresh folder of this rank's own, removed at the end of the test.
struct RankFolder {
  RankFolder() {
    std::string tmpl = (fs::temp_directory_path() / "xtgrad_ranks_ckpt_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~RankFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// 4 epochs of 10 global batches of 64 (DropoutNet 20-16-3, SGD 0.1), each rank's initial
// weights different (the reducer copies rank 0's), under `options`' checkpoint and should_stop.
xtgrad::nn::History train_on_ranks(DropoutNet& net, xtgrad::nn::BasicFitOptions<Scalar> options) {
  const Dataset data = teacher_task(64 * 10, 20, 3, 11);
  xtgrad::nn::BasicSGD<Scalar> sgd(net.named_parameters(), 0.1);
  DistributedDataParallel ddp(net.named_parameters(), world());
  options.epochs = 4;
  options.batch_size = 64;
  options.progress_bar = false;
  options.reducer = &ddp;
  Rng shuffle(3);
  return xtgrad::nn::fit(net, sgd, data, nullptr, shuffle, options);
}

DropoutNet fresh_net() {
  Rng init(7 + 1000 * std::uint64_t(world().rank()));
  return DropoutNet(20, 16, 3, 0.0, init);
}

TEST(FitCheckpointOnRanks, OnlyRankZeroWritesAndEveryRankResumesBitIdentically) {
  const bool root = world().rank() == 0;
  RankFolder folder;
  const std::string path = (folder.path / "run.ckpt.npz").string();
  DropoutNet full = fresh_net();
  train_on_ranks(full, {});

  xtgrad::nn::BasicFitOptions<Scalar> stopping;
  stopping.checkpoint.path = path;
  stopping.checkpoint.identity = "ranks test";
  std::size_t polls = 0;
  stopping.should_stop = [&] { return ++polls == 1 + 10 + 1 + 10 + 1 + 1; };  // after batch 1 of epoch 3
  DropoutNet part = fresh_net();
  try {
    train_on_ranks(part, stopping);
    ADD_FAILURE() << "should_stop did not stop rank " << world().rank();
  } catch (const xtgrad::Interrupted& e) {
    EXPECT_EQ(e.epoch, 3u);
  }
  EXPECT_EQ(fs::exists(path), root) << "rank " << world().rank();

  xtgrad::nn::BasicFitOptions<Scalar> resuming;
  resuming.checkpoint = stopping.checkpoint;
  resuming.checkpoint.resume = true;
  std::size_t trained = 0;
  resuming.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++trained; };
  DropoutNet resumed = fresh_net();
  EXPECT_EQ(train_on_ranks(resumed, resuming).size(), 4u);
  EXPECT_EQ(trained, 2u) << "rank " << world().rank();
  EXPECT_EQ(max_relative_difference(resumed, full), 0.0) << "rank " << world().rank();
  EXPECT_EQ(fs::exists(path), root) << "rank " << world().rank();
}

TEST(FitCheckpointOnRanks, ASaveRankZeroCannotMakeFailsOnEveryRank) {
  RankFolder folder;
  const std::string path = world().rank() == 0 ? (folder.path / "missing" / "run.ckpt.npz").string()
                                               : (folder.path / "run.ckpt.npz").string();
  xtgrad::nn::BasicFitOptions<Scalar> options;
  options.checkpoint.path = path;
  DropoutNet net = fresh_net();
  expect_throws_with<xtgrad::io::WriteError>([&] { train_on_ranks(net, options); }, {"run.ckpt.npz"});
}

}  // namespace
