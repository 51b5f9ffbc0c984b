// The app's strict --reg parser for combined specs (the input-space regularizers it names are
// tested with the library, tests/regularizers/test_input_space.cpp).
#include <gtest/gtest.h>

#if __has_include("methods.hpp")  // the app's library is linked only when apps/ is built

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "methods.hpp"
#include "test_util.hpp"
#include "xtgrad/core/gradcheck.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/nn/data_loader.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using namespace xtgrad;
using xtgrad_test::uniform;

TEST(Methods, ParsesCombinationsToACanonicalSpec) {
  const mnist_app::Methods m = mnist_app::parse_methods(" l2( lambd = 1e-4 ) + dropout(p=0.50)+early_stopping(patience=3)");
  EXPECT_EQ(m.describe(), "l2(lambd=1e-4)+dropout(p=0.5)+early_stopping(patience=3)");
  EXPECT_EQ(m.dropout, 0.5);
  EXPECT_EQ(m.patience, 3u);
  EXPECT_EQ(m.penalty->describe(), "l2(lambd=1e-4)");
  EXPECT_EQ(m.effects().size(), 2u);
  EXPECT_EQ(mnist_app::parse_methods("none").describe(), "none");
  EXPECT_TRUE(mnist_app::parse_methods("none").effects().empty());
  EXPECT_EQ(mnist_app::parse_methods("input_grad(lambd=0.01)").input_grad, 0.01);
  // dropout has a second derivative: the two combine
  EXPECT_EQ(mnist_app::parse_methods("input_grad(lambd=1)+dropout(p=0.5)").describe(), "input_grad(lambd=1)+dropout(p=0.5)");
  EXPECT_EQ(mnist_app::parse_methods("adversarial(eps=0.1)+maxnorm(c=3)+noise(std=0.2)+label_smoothing(eps=0.1)")
                .describe(),
            "adversarial(eps=0.1)+maxnorm(c=3)+noise(std=0.2)+label_smoothing(eps=0.1)");
  // the library's grammar: a '+' inside parentheses belongs to a value
  EXPECT_EQ(mnist_app::parse_methods("l2(lambd=5e+1) +dropout( p = .5 )").describe(), "l2(lambd=50)+dropout(p=0.5)");
}

TEST(Methods, RejectsBadSpecsWithClearErrors) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty"},
      {"l2(lambd=1)+", "empty term"},
      {"dropout(p=1)", "out of range"},
      {"dropout(p=0)", "does nothing"},
      {"dropout(q=0.5)", "unknown key 'q'"},
      {"dropout(p=0.5", "missing ')'"},
      {"dropout", "missing '('"},
      {"dropout(p=abc)", "not a finite number"},
      {"dropout(p=0.5)+dropout(p=0.2)", "given twice"},
      {"l1(lambd=1)+l2(lambd=1)", "at most one norm penalty"},
      {"none+dropout(p=0.5)", "none cannot be combined"},
      {"early_stopping(patience=0)", "integer >= 1"},
      {"early_stopping(patience=2.5)", "integer >= 1"},
      {"label_smoothing(eps=1)", "out of range"},
      {"noise(std=-1)", "out of range"},
      {"maxnorm(c=inf)", "not a finite number"},
      {"l3(lambd=1)", "unknown regularizer 'l3'"},
      {"l2(lambd=-1)+dropout(p=0.5)", "value '-1' for key 'lambd' is negative"},
      {"dropout(p=0.5, p=0.2)", "repeated key 'p'"},
      {"dropout(p=0.5)+noise()", "missing key 'std'; expected noise(std=...) with std a finite number > 0"},
      {"+dropout(p=0.5)", "empty term"},
  };
  for (const auto& [spec, word] : bad) {
    try {
      mnist_app::parse_methods(spec);
      ADD_FAILURE() << "no error for '" << spec << "'";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("invalid regularizer spec \"" + spec + "\""), std::string::npos) << what;
      EXPECT_NE(what.find(word), std::string::npos) << spec << ": " << what;
    }
  }
}

// early_stopping on a subset too small to split (issue 19: exit 1, "internal error …
// split_dataset"): refused up front, naming both flags, for exactly the sizes
// nn::split_dataset refuses.
TEST(Methods, EarlyStoppingRefusesASubsetSplitDatasetCannotSplit) {
  const mnist_app::Methods early = mnist_app::parse_methods("dropout(p=0.5)+early_stopping(patience=1)");
  const mnist_app::Methods plain = mnist_app::parse_methods("dropout(p=0.5)");
  for (std::size_t n = 1; n <= 40; ++n) {
    Tensor x = Tensor::from_shape({n, 2}), y = Tensor::from_shape({n});
    x.fill(0);
    y.fill(0);
    Rng rng(0);
    bool splits = true;
    try {
      nn::split_dataset(nn::Dataset{x, y}, mnist_app::validation_fraction, rng);
    } catch (const std::invalid_argument&) {
      splits = false;
    }
    EXPECT_NO_THROW(mnist_app::check_train_size(plain, n));
    if (splits) {
      EXPECT_NO_THROW(mnist_app::check_train_size(early, n)) << n;
    } else {
      const std::string size = "--train-size " + std::to_string(n);
      xtgrad_test::expect_throws_with<std::invalid_argument>(
          [&] { mnist_app::check_train_size(early, n); },
          {"--reg 'dropout(p=0.5)+early_stopping(patience=1)'", size.c_str(), "--train-size 5 or more"});
    }
  }
}

// ---- weight_decay, mixup, sam (issue 23) and the optimizer they make ------------------------

TEST(Methods, ParsesWeightDecayMixupAndSam) {
  const mnist_app::Methods m = mnist_app::parse_methods("weight_decay(lambd=1e-4)+mixup(alpha=0.20)+sam(rho=0.05)");
  EXPECT_EQ(m.describe(), "weight_decay(lambd=1e-4)+mixup(alpha=0.2)+sam(rho=0.05)");
  EXPECT_EQ(m.weight_decay, 1e-4);
  EXPECT_EQ(m.mixup, 0.2);
  EXPECT_EQ(m.sam, 0.05);
  EXPECT_EQ(m.effects().size(), 3u);
  EXPECT_EQ(mnist_app::parse_methods("l2(lambd=0.01)+weight_decay(lambd=0.01)").describe(),
            "l2(lambd=0.01)+weight_decay(lambd=0.01)");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"mixup(alpha=0)", "out of range"},
      {"mixup(alpha=-0.2)", "out of range"},
      {"sam(rho=0)", "out of range"},
      {"weight_decay(lambd=nan)", "not a finite number"},
      {"weight_decay(lambd=1)+weight_decay(lambd=2)", "given twice"},
      {"mixup()", "missing key 'alpha'"},
  };
  for (const auto& [spec, word] : bad) {
    try {
      mnist_app::parse_methods(spec);
      ADD_FAILURE() << "no error for '" << spec << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << spec << ": " << e.what();
    }
  }
}

// A 3-4-2 network trained `steps` steps on fixed data with the run's optimizer and penalty, as
// run_experiment does (the penalty a node of the loss): its parameters after them.
std::vector<Tensor> train_steps(const std::string& spec, const std::string& optimizer, int steps) {
  const mnist_app::Methods methods = mnist_app::parse_methods(spec);
  Rng rng(4);
  nn::Sequential net;
  net.add("fc1", nn::Linear(3, 4, rng)).add("sigmoid", nn::Sigmoid()).add("fc2", nn::Linear(4, 2, rng));
  const NamedParameters params = net.named_parameters();
  mnist_app::RunOptimizer opt = mnist_app::make_optimizer(optimizer, optimizer == "sgd" ? 0.5 : 0.01, 0, methods, params);
  const Variable x(uniform({5, 3}, 1, -1, 1));
  Tensor y = Tensor::from_shape({5, 2});
  y.fill(0);
  for (std::size_t i = 0; i < 5; ++i) y(i, i % 2) = 1;
  for (int k = 0; k < steps; ++k) {
    const auto pass = [&] {
      Variable loss = cross_entropy(net(x), Variable(y)) + methods.penalty->penalty(params);
      loss.backward();
    };
    opt.get().zero_grad();
    pass();
    opt.get().step_with(pass);
  }
  std::vector<Tensor> out;
  for (const auto& [name, p] : params) out.push_back(p.value());
  return out;
}

double largest_difference(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double d = 0;
  for (std::size_t t = 0; t < a.size(); ++t) {
    for (std::size_t i = 0; i < a[t].size(); ++i) d = std::max(d, double(std::abs(a[t].data()[i] - b[t].data()[i])));
  }
  return d;
}

TEST(Methods, WeightDecayEqualsTheL2PenaltyUnderSgdAndNotUnderAdam) {
  // l2(lambd=λ) adds ½λ‖w‖² (gradient λw) on the weights; weight_decay(lambd=λ) decays the same
  // weights by lr·λ·w each step: under plain SGD the same steps, under Adam not.
  const std::string l2 = "l2(lambd=0.05)", wd = "weight_decay(lambd=0.05)";
  const auto none_sgd = train_steps("none", "sgd", 20);
  const auto l2_sgd = train_steps(l2, "sgd", 20), wd_sgd = train_steps(wd, "sgd", 20);
  EXPECT_LT(largest_difference(l2_sgd, wd_sgd), 2e-6);      // float rounding only
  EXPECT_GT(largest_difference(l2_sgd, none_sgd), 100 * 2e-6);  // and the decay did act
  const auto l2_adam = train_steps(l2, "adam", 20), wd_adam = train_steps(wd, "adam", 20);
  EXPECT_GT(largest_difference(l2_adam, wd_adam), 1e-3);
  // adam + weight_decay is AdamW with that decay
  EXPECT_LT(largest_difference(wd_adam, train_steps(wd, "adamw", 20)), 1e-7);
}

TEST(Methods, WeightDecayLeavesTheBiasesAloneAsTheL2PenaltyDoes) {
  // one step from the same start: the biases move only by their gradient, the same with and without decay
  const auto plain = train_steps("none", "sgd", 1), decayed = train_steps("weight_decay(lambd=0.5)", "sgd", 1);
  ASSERT_EQ(plain.size(), 4u);  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
  for (const std::size_t bias : {1u, 3u}) EXPECT_EQ(largest_difference({plain[bias]}, {decayed[bias]}), 0.0);
  EXPECT_GT(largest_difference({plain[0]}, {decayed[0]}), 1e-4);
}

TEST(Methods, MixupIsRefusedOnSeveralDataParallelRanks) {
  const mnist_app::Methods mixup = mnist_app::parse_methods("mixup(alpha=0.2)+sam(rho=0.05)");
  EXPECT_NO_THROW(mnist_app::check_data_parallel(mixup, 1));
  EXPECT_NO_THROW(mnist_app::check_data_parallel(mnist_app::parse_methods("sam(rho=0.05)"), 2));  // SAM reduces twice
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { mnist_app::check_data_parallel(mixup, 2); },
                                                         {"--reg 'mixup(alpha=0.2)+sam(rho=0.05)'", "2 data-parallel ranks"});
}

TEST(Methods, MakeOptimizerNamesWhatItBuiltAndRefusesMomentumOutsideSgd) {
  Rng rng(0);
  nn::Sequential net;
  net.add("fc", nn::Linear(2, 2, rng));
  const NamedParameters params = net.named_parameters();
  const mnist_app::Methods none = mnist_app::parse_methods("none");
  EXPECT_EQ(mnist_app::make_optimizer("sgd", 0.1, 0.9, none, params).description, "SGD (lr 0.1, momentum 0.9)");
  EXPECT_EQ(mnist_app::make_optimizer("adamw", 1e-3, 0, none, params).description,
            "AdamW (lr 0.001, betas 0.9, 0.999, eps 1e-8), decoupled weight decay 0.01 on the weights (PyTorch's "
            "default)");
  mnist_app::RunOptimizer sam =
      mnist_app::make_optimizer("adam", 1e-3, 0, mnist_app::parse_methods("weight_decay(lambd=1e-4)+sam(rho=0.1)"), params);
  EXPECT_NE(sam.description.find("in SAM (rho 0.1)"), std::string::npos) << sam.description;
  EXPECT_EQ(&sam.get(), static_cast<nn::Optimizer*>(sam.sam.get()));
  EXPECT_EQ(sam.base->group_weight_decay(0), 1e-4);  // fc.weight
  EXPECT_EQ(sam.base->group_weight_decay(1), 0.0);   // fc.bias
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { mnist_app::make_optimizer("adam", 1e-3, 0.9, none, params); }, {"--momentum 0.9", "sgd only"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { mnist_app::make_optimizer("lbfgs", 1e-3, 0, none, params); }, {"--optimizer", "'lbfgs'"});
}

}  // namespace

#endif
