// The app's strict --reg parser for combined specs (the input-space regularizers it names are
// tested with the library, tests/regularizers/test_input_space.cpp).
#include <gtest/gtest.h>

#if __has_include("methods.hpp")  // the app's library is linked only when apps/ is built

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

}  // namespace

#endif
