// nn::save_parameters / load_parameters (and the state dict they go through): a round trip restores values and predictions;
// mismatches are refused without touching the model; the file is a plain .npz of the model's
// precision, and a file loads into a model of either precision.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fixture_files.hpp"
#include "test_models.hpp"
#include "test_util.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/io/npz.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::Rng;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
using xtgrad::nn::Linear;
using xtgrad::nn::Module;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;

using Net = xtgrad_test::SigmoidNet;

// A fresh folder under the system's temporary directory, removed with the fixture.
class Serialize : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  xtgrad_test::TempDir dir_{"xtgrad_serialize"};
};

// Every parameter's value, in order.
std::vector<Tensor> values_of(const Module& m) {
  std::vector<Tensor> out;
  for (const auto& [_, p] : m.named_parameters()) out.push_back(p.value());
  return out;
}

// load_parameters(m, path) throws invalid_argument naming every one of `parts`, and leaves every
// parameter of m as it was.
void expect_load_refused_unchanged(Module& m, const std::string& path, std::initializer_list<const char*> parts) {
  const auto before = values_of(m);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_parameters(m, path); }, parts);
  const auto after = values_of(m);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) expect_tensor_near(after[i], before[i], 0.0);
}

// Gives every bias a non-zero value, so that the round trip is seen on biases too.
void perturb_biases(Module& m, double offset) {
  for (auto& [name, p] : m.named_parameters()) {
    if (name.find("bias") == std::string::npos) continue;
    for (std::size_t i = 0; i < p.size(); ++i) p.mutable_value().data()[i] = offset + 0.1 * double(i);
  }
}

TEST_F(Serialize, RoundTripRestoresValuesAndPredictions) {
  Rng rng_a(1), rng_b(2);
  Net a(4, 6, 3, rng_a), b(4, 6, 3, rng_b);
  perturb_biases(a, 0.5);
  const std::string path = file("params.npz");
  xtgrad::nn::save_parameters(a, path);

  const Variable x(xtgrad_test::uniform({5, 4}, 3, -1.0, 1.0));
  const Tensor before = b(x).value();
  const Tensor from_a = a(x).value();
  double max_diff = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(double(before.data()[i] - from_a.data()[i])));
  }
  EXPECT_GT(max_diff, 1e-6);  // different seeds give different predictions

  xtgrad::nn::load_parameters(b, path);
  const auto va = values_of(a), vb = values_of(b);
  ASSERT_EQ(va.size(), vb.size());
  for (std::size_t i = 0; i < va.size(); ++i) expect_tensor_near(vb[i], va[i], 0.0);
  expect_tensor_near(b(x).value(), a(x).value(), 0.0);
  // Loading keeps b's own nodes: its members still alias what named_parameters gives.
  EXPECT_EQ(b.fc1.weight.node(), b.named_parameters()[0].second.node());
  expect_tensor_near(b.fc1.weight.value(), a.fc1.weight.value(), 0.0);
}

TEST_F(Serialize, FileIsAnNpzKeyedByDottedNames) {
  Rng rng(4);
  Net a(3, 2, 2, rng);
  const std::string path = file("params.npz");
  xtgrad::nn::save_parameters(a, path);
  const auto arrays = xtgrad::nn::read_npz(path);
  std::vector<std::string> keys;
  for (const auto& [key, _] : arrays) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"}));  // map order
  const auto& w = arrays.at("fc1.weight");
  EXPECT_EQ(w.shape, (std::vector<std::size_t>{2, 3}));  // (out, in), as torch.nn.Linear's
  EXPECT_EQ(w.dtype, "<f4");  // the model's float
  expect_tensor_near(xtgrad::nn::from_npy(w, "fc1.weight"), a.fc1.weight.value(), 0.0);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(Serialize, ShapeMismatchNamesParameterAndBothShapesAndChangesNothing) {
  Rng rng_a(5), rng_b(6);
  Net a(4, 6, 3, rng_a), b(4, 5, 3, rng_b);
  const std::string path = file("params.npz");
  xtgrad::nn::save_parameters(a, path);
  expect_load_refused_unchanged(b, path, {"fc1.weight", "(6, 4)", "(5, 4)", "params.npz"});
}

TEST_F(Serialize, LaterMismatchAlsoLeavesEarlierParametersUnchanged) {
  // fc1 matches and comes first; only fc2 differs (3 vs 2 outputs).
  Rng rng_a(7), rng_b(8);
  Net a(4, 6, 3, rng_a), b(4, 6, 2, rng_b);
  const std::string path = file("params.npz");
  xtgrad::nn::save_parameters(a, path);
  expect_load_refused_unchanged(b, path, {"fc2.weight", "(3, 6)", "(2, 6)"});
}

TEST_F(Serialize, AWeightOfTheOldInOutLayoutIsRefusedNamingTheTransposeAndTheConverter) {
  Rng rng(10);
  Net a(4, 6, 3, rng);
  const std::string path = file("params.npz"), old_path = file("old.npz");
  xtgrad::nn::save_parameters(a, path);
  auto arrays = xtgrad::nn::read_npz(path);
  arrays["fc1.weight"] = xtgrad::nn::to_npy(Tensor(xt::transpose(xtgrad::nn::from_npy<float>(arrays["fc1.weight"], "w"))));
  xtgrad::nn::write_npz(old_path, arrays);
  expect_load_refused_unchanged(a, old_path, {"fc1.weight", "(4, 6)", "(6, 4)", "transpose", "transpose-linear"});
}

TEST_F(Serialize, PyTorchsBatchNormCountersAreSkipped) {
  Rng rng(11);
  Net a(2, 3, 2, rng), b(2, 3, 2, rng);
  perturb_biases(a, 0.5);
  const std::string path = file("torch_like.npz");
  xtgrad::nn::save_parameters(a, path);
  auto arrays = xtgrad::nn::read_npz(path);
  arrays["bn.num_batches_tracked"] = xtgrad::nn::NpyArray{{}, "<i8", std::vector<std::uint8_t>(8, 0)};
  xtgrad::nn::write_npz(path, arrays);
  xtgrad::nn::load_parameters(b, path);
  const auto va = values_of(a), vb = values_of(b);
  for (std::size_t i = 0; i < va.size(); ++i) expect_tensor_near(vb[i], va[i], 0.0);
  arrays["bn.running_count"] = arrays["bn.num_batches_tracked"];  // any other stray name is refused
  xtgrad::nn::write_npz(path, arrays);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_parameters(b, path); }, {"'bn.running_count'"});
}

TEST_F(Serialize, MissingOrExtraParametersAreRefused) {
  Rng rng(9);
  Net net(2, 3, 2, rng);
  Linear lone(2, 3, rng);
  const std::string lone_path = file("lone.npz"), net_path = file("net.npz");
  xtgrad::nn::save_parameters(lone, lone_path);  // weight, bias: none of net's names
  xtgrad::nn::save_parameters(net, net_path);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_parameters(net, lone_path); }, {"fc1.weight"});
  // net's file has fc1.* and fc2.*, which the lone Linear lacks; its own names are missing.
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_parameters(lone, net_path); }, {"weight"});
}

// Only fc1 of Net: a file saved from a whole Net has two arrays too many.
struct FirstHalf : Module {
  Linear fc1;
  explicit FirstHalf(Rng& rng) : fc1(register_module("fc1", Linear(2, 3, rng))) {}
  Variable forward(const Variable& x) override { return fc1(x); }
};

TEST_F(Serialize, ExtraArraysInTheFileAreRefusedByName) {
  Rng rng(15);
  Net net(2, 3, 2, rng);
  FirstHalf half(rng);
  const std::string path = file("net.npz");
  xtgrad::nn::save_parameters(net, path);
  expect_load_refused_unchanged(half, path, {"'fc2."});
}

TEST_F(Serialize, MissingFileGivesAClearError) {
  Rng rng(10);
  Net net(2, 3, 2, rng);
  const std::string path = file("no_such_file.npz");
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_parameters(net, path); }, {"no_such_file.npz"});
}

TEST_F(Serialize, CorruptFileGivesAClearError) {
  Rng rng(11);
  Net net(2, 3, 2, rng);
  const std::string path = file("garbage.npz");
  std::ofstream(path) << "this is not a zip archive";
  expect_throws_with<xtgrad::DataError>([&] { xtgrad::nn::load_parameters(net, path); }, {"garbage.npz"});
}

TEST_F(Serialize, SavingOverAnExistingFileReplacesIt) {
  Rng rng_a(12), rng_b(13);
  Net a(2, 3, 2, rng_a), b(2, 3, 2, rng_b), c(2, 3, 2, rng_b);
  const std::string path = file("params.npz");
  xtgrad::nn::save_parameters(a, path);
  xtgrad::nn::save_parameters(b, path);
  xtgrad::nn::load_parameters(c, path);
  expect_tensor_near(c.fc2.weight.value(), b.fc2.weight.value(), 0.0);
}

TEST_F(Serialize, UnwritablePathThrows) {
  Rng rng(14);
  Net net(2, 3, 2, rng);
  const std::string blocker = file("a_file");
  std::ofstream(blocker) << "x";
  EXPECT_ANY_THROW(xtgrad::nn::save_parameters(net, blocker + "/params.npz"));
}

TEST_F(Serialize, StateDictIsACopyThatLoadsIntoAnotherModelAndSavesAsTheModelWould) {
  Rng rng_a(40), rng_b(41);
  Net a(4, 6, 3, rng_a), b(4, 6, 3, rng_b);
  perturb_biases(a, 0.5);
  xtgrad::nn::StateDict state = xtgrad::nn::state_dict(a);
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(xtgrad::shape_of(state.at("fc1.weight")), (xtgrad::Shape{6, 4}));
  // A copy: a later change to the model does not reach the dict.
  const float first = state.at("fc1.weight")(0, 0);
  a.named_parameters()[0].second.mutable_value()(0, 0) += 1.0f;
  EXPECT_EQ(state.at("fc1.weight")(0, 0), first);
  xtgrad::nn::load_state_dict(b, state);
  for (const auto& [name, p] : b.named_parameters()) expect_tensor_near(p.value(), state.at(name), 0.0);
  // Saving the dict writes the bytes save_parameters writes for a model holding it.
  xtgrad::nn::save_state_dict(state, file("dict.npz"));
  xtgrad::nn::save_parameters(b, file("model.npz"));
  std::ifstream f1(file("dict.npz"), std::ios::binary), f2(file("model.npz"), std::ios::binary);
  const std::string bytes1((std::istreambuf_iterator<char>(f1)), {}), bytes2((std::istreambuf_iterator<char>(f2)), {});
  EXPECT_FALSE(bytes1.empty());
  EXPECT_EQ(bytes1, bytes2);
}

TEST_F(Serialize, AStateDictThatDoesNotFitIsRefusedNamingItAndChangesNothing) {
  Rng rng_a(42), rng_b(43);
  Net a(4, 6, 3, rng_a), b(4, 6, 3, rng_b);
  const auto before = values_of(b);
  auto expect_unchanged = [&] {
    const auto after = values_of(b);
    for (std::size_t i = 0; i < before.size(); ++i) expect_tensor_near(after[i], before[i], 0.0);
  };
  auto wrong_shape = xtgrad::nn::state_dict(a);
  wrong_shape["fc2.weight"] = Tensor::from_shape({2, 6});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_state_dict(b, wrong_shape); },
                                            {"state dict", "fc2.weight", "(2, 6)", "(3, 6)"});
  expect_unchanged();
  auto missing = xtgrad::nn::state_dict(a);
  missing.erase("fc1.bias");
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_state_dict(b, missing, "my checkpoint"); },
                                            {"my checkpoint", "fc1.bias"});
  expect_unchanged();
  auto extra = xtgrad::nn::state_dict(a);
  extra["fc3.weight"] = Tensor::from_shape({1, 1});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_state_dict(b, extra); }, {"fc3.weight"});
  expect_unchanged();
}

}  // namespace

namespace {

// BatchNorm's running statistics are buffers: saved and loaded with the parameters.
TEST_F(Serialize, BuffersRoundTripWithTheParameters) {
  Rng rng(30);
  xtgrad::nn::Sequential a, b;
  a.add(Linear(3, 2, rng)).add("bn", xtgrad::nn::BatchNorm1d(2));
  b.add(Linear(3, 2, rng)).add("bn", xtgrad::nn::BatchNorm1d(2));
  a(Variable(xtgrad_test::uniform({8, 3}, 31, -1, 1)));  // training mode: moves the statistics
  xtgrad::nn::save_parameters(a, file("bn.npz"));
  xtgrad::nn::load_parameters(b, file("bn.npz"));
  const auto& bn_a = a.get<xtgrad::nn::BatchNorm1d>("bn");
  const auto& bn_b = b.get<xtgrad::nn::BatchNorm1d>("bn");
  expect_tensor_near(bn_b.running_mean.value(), bn_a.running_mean.value(), 0.0);
  expect_tensor_near(bn_b.running_var.value(), bn_a.running_var.value(), 0.0);
  EXPECT_NE(bn_a.running_mean.value()(0), 0.0);
  // A file without them is refused, naming what is missing.
  Rng rng2(32);
  xtgrad::nn::Sequential no_bn;
  no_bn.add(Linear(3, 2, rng2));
  xtgrad::nn::save_parameters(no_bn, file("no_bn.npz"));
  xtgrad::nn::Sequential with_bn;
  with_bn.add(Linear(3, 2, rng2)).add("bn", xtgrad::nn::BatchNorm1d(2));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::load_parameters(with_bn, file("no_bn.npz")); },
                                            {"bn.weight"});
}

}  // namespace

namespace {

TEST_F(Serialize, DoubleModelsSaveFloat64AndFilesLoadAcrossPrecisions) {
  Rng rng(40);
  xtgrad::nn::BasicLinear<double> d(3, 2, rng);
  xtgrad::nn::save_parameters(d, file("d.npz"));
  EXPECT_EQ(xtgrad::nn::read_npz(file("d.npz")).at("weight").dtype, "<f8");
  // float64 into a float model: each value rounded to float.
  Linear f(3, 2, rng);
  xtgrad::nn::load_parameters(f, file("d.npz"));
  for (std::size_t i = 0; i < f.weight.size(); ++i)
    EXPECT_EQ(f.weight.value().data()[i], static_cast<float>(d.weight.value().data()[i])) << i;
  // float32 into a double model: exact.
  xtgrad::nn::save_parameters(f, file("f.npz"));
  xtgrad::nn::BasicLinear<double> d2(3, 2, rng);
  xtgrad::nn::load_parameters(d2, file("f.npz"));
  for (std::size_t i = 0; i < f.weight.size(); ++i)
    EXPECT_EQ(d2.weight.value().data()[i], static_cast<double>(f.weight.value().data()[i])) << i;
}

}  // namespace
