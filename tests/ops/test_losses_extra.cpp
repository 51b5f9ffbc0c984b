// nll_loss, cross_entropy with options, binary_cross_entropy_with_logits, mse_loss, l1_loss,
// huber_loss, smooth_l1_loss, kl_div: values (reference values from PyTorch 1.13 in float64),
// extreme inputs, gradient checks for every option, errors.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using Labels = std::vector<std::size_t>;
using CrossEntropyOptions = xtgrad::BasicCrossEntropyOptions<Scalar>;
using xtgrad::Reduction;

const Tensor kZ{{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, {0.5, -1.0, 2.0}};
const Labels kY{2, 0, 1};
const Tensor kW{0.5, 2.0, 1.5};

CrossEntropyOptions ce(std::optional<Tensor> w, std::optional<std::size_t> ignore, double eps, Reduction r) {
  CrossEntropyOptions o;
  o.weight = std::move(w);
  o.ignore_index = ignore;
  o.label_smoothing = eps;
  o.reduction = r;
  return o;
}

TEST(CrossEntropyOptions, MatchPyTorchValues) {
  const Variable z(kZ);
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY, CrossEntropyOptions{}).item(), 1.582509849923216, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY, ce(kW, {}, 0.0, Reduction::mean)).item(), 1.910834421078735, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY, ce(kW, {}, 0.2, Reduction::mean)).item(), 1.8076695068476312, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY, ce({}, 1, 0.1, Reduction::mean)).item(), 0.8031091265562451, 1e-14);
  expect_tensor_near(xtgrad::cross_entropy(z, kY, ce(kW, {}, 0.3, Reduction::none)).value(),
                     Tensor{0.8910286484443515, 0.8239592165010823, 5.309360333982882}, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY, ce(kW, 0, 0.0, Reduction::sum)).item(), 7.094031539980885, 1e-13);
  // the plain overload agrees with the options one
  EXPECT_NEAR(xtgrad::cross_entropy(z, kY).item(), 1.582509849923216, 1e-14);
}

TEST(CrossEntropyOptions, IgnoredRowsGetNoGradientAndLabelsThereNeedNotBeClasses) {
  Variable z = Variable::parameter(kZ);
  xtgrad::cross_entropy(z, Labels{2, 99, 1}, ce({}, 99, 0.1, Reduction::mean)).backward();
  expect_tensor_near(xtgrad::narrow(Variable(z.grad()), 0, 1, 1).value(), Tensor{{0.0, 0.0, 0.0}}, 0.0);
}

TEST(CrossEntropyOptions, HugeLogitsStayFinite) {
  Variable z = Variable::parameter(Tensor{{1e300, -1e300, 0.0}, {146.94, 856.98, 0.0}});
  const Variable loss = xtgrad::cross_entropy(z, Labels{1, 0}, ce(Tensor{1.0, 2.0, 0.5}, {}, 0.1, Reduction::sum));
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  expect_all_finite(z.grad());
}

TEST(NllLoss, MatchesPyTorchAndCrossEntropy) {
  const Variable lp = xtgrad::log_softmax(Variable(kZ));
  xtgrad::BasicNllLossOptions<Scalar> o;
  o.weight = kW;
  EXPECT_NEAR(xtgrad::nll_loss(lp, kY, o).item(), 1.910834421078735, 1e-14);
  o.ignore_index = 0;
  o.reduction = Reduction::sum;
  EXPECT_NEAR(xtgrad::nll_loss(lp, kY, o).item(), 7.094031539980885, 1e-13);
}

// issue 22 §3.5: ignore_index may be negative and defaults to PyTorch's −100 (IndexTensor labels).
TEST(CrossEntropyOptions, IgnoreIndexDefaultsToMinus100AndMayBeNegative) {
  using xtgrad::IndexTensor;
  const Variable z(kZ);
  EXPECT_EQ(CrossEntropyOptions{}.ignore_index, std::optional<xtgrad::Index>(-100));
  EXPECT_EQ(xtgrad::BasicNllLossOptions<Scalar>{}.ignore_index, std::optional<xtgrad::Index>(-100));
  // the −100 row adds nothing: the mean over the two other rows (torch: F.cross_entropy(z, [2, -100, 1]))
  const double kept = xtgrad::cross_entropy(xtgrad::narrow(z, 0, 0, 1), IndexTensor{2}).item() +
                      xtgrad::cross_entropy(xtgrad::narrow(z, 0, 2, 1), IndexTensor{1}).item();
  EXPECT_NEAR(xtgrad::cross_entropy(z, IndexTensor{2, -100, 1}).item(), kept / 2, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, IndexTensor{2, -100, 1}, CrossEntropyOptions{}).item(), kept / 2, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, {2, -100, 1}).item(), kept / 2, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, IndexTensor{2, -1, 1}, CrossEntropyOptions().set_ignore_index(-1)).item(),
              kept / 2, 1e-14);
  EXPECT_NEAR(xtgrad::nll_loss(xtgrad::log_softmax(z), IndexTensor{2, -1, 1},
                               xtgrad::BasicNllLossOptions<Scalar>().set_ignore_index(-1)).item(),
              kept / 2, 1e-14);
  // −100 is only a label to skip: other negative labels are refused naming the op, the label and the classes
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, IndexTensor{2, -1, 1}); },
                                            {"cross_entropy", "label -1", "row 1", "3 classes", "-100"});
  const Variable lp = xtgrad::log_softmax(z);
  EXPECT_NEAR(xtgrad::nll_loss(lp, IndexTensor{2, -100, 1}).item(), kept / 2, 1e-14);
  EXPECT_NEAR(xtgrad::nll_loss(lp, IndexTensor{2, 0, 1}).item(), xtgrad::nll_loss(lp, kY).item(), 1e-15);
  // with gradients: the ignored row gets none
  Variable zp = Variable::parameter(kZ);
  xtgrad::cross_entropy(zp, IndexTensor{2, -100, 1}).backward();
  expect_tensor_near(xtgrad::narrow(Variable(zp.grad()), 0, 1, 1).value(), Tensor{{0.0, 0.0, 0.0}}, 0.0);
  expect_gradcheck([](const std::vector<Variable>& v) { return xtgrad::cross_entropy(v[0], IndexTensor{2, -100, 1}); },
                   {kZ});
}

TEST(BceWithLogits, MatchesPyTorchValues) {
  const Variable x(Tensor{{-1.0, 0.5}, {2.0, -3.0}}), t(Tensor{{0.0, 1.0}, {1.0, 0.3}});
  EXPECT_NEAR(xtgrad::binary_cross_entropy_with_logits(x, t).item(), 0.4657135085787611, 1e-14);
  xtgrad::BasicBceWithLogitsOptions<Scalar> o;
  o.pos_weight = Tensor{2.0, 0.5};
  EXPECT_NEAR(xtgrad::binary_cross_entropy_with_logits(x, t, o).item(), 0.32386386263297556, 1e-14);
  o.weight = reshaped(Tensor{1.0, 3.0}, {2, 1});
  o.reduction = Reduction::sum;
  EXPECT_NEAR(xtgrad::binary_cross_entropy_with_logits(x, t, o).item(), 2.7857659923791545, 1e-13);
}

TEST(BceWithLogits, HugeLogitsAreFiniteAndExact) {
  Variable x = Variable::parameter(Tensor{1000.0, -1000.0, 1000.0});
  const Variable loss = xtgrad::binary_cross_entropy_with_logits(x, Variable(Tensor{1.0, 0.0, 0.0}),
                                                                 {std::nullopt, std::nullopt, Reduction::none});
  expect_tensor_near(loss.value(), Tensor{0.0, 0.0, 1000.0}, 1e-12);
  xtgrad::sum(loss).backward();
  expect_tensor_near(x.grad(), Tensor{0.0, 0.0, 1.0}, 0.0);
}

TEST(PairLosses, MatchPyTorchValues) {
  const Variable a(Tensor{0.0, 1.5, -2.0, 0.3}), b(Tensor{0.5, 0.0, 1.0, 0.3});
  EXPECT_NEAR(xtgrad::huber_loss(a, b).item(), 0.90625, 1e-15);
  EXPECT_NEAR(xtgrad::huber_loss(a, b, 0.4, Reduction::sum).item(), 1.76, 1e-14);
  EXPECT_NEAR(xtgrad::smooth_l1_loss(a, b).item(), 0.90625, 1e-15);
  expect_tensor_near(xtgrad::smooth_l1_loss(a, b, 0.4, Reduction::none).value(), Tensor{0.3, 1.3, 2.8, 0.0}, 1e-15);
  EXPECT_NEAR(xtgrad::l1_loss(a, b).item(), 1.25, 1e-15);
  EXPECT_NEAR(xtgrad::mse_loss(a, b).item(), (0.25 + 2.25 + 9.0) / 4, 1e-15);
}

TEST(PairLosses, BroadcastLikePyTorchAndReduceTheGradient) {
  // (3, 2) against (2): the target row is compared with every prediction row
  Variable p = Variable::parameter(Tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}});
  Variable t = Variable::parameter(Tensor{1.0, 1.0});
  const Variable loss = xtgrad::mse_loss(p, t, Reduction::sum);
  EXPECT_NEAR(loss.item(), 0 + 1 + 4 + 9 + 16 + 25, 1e-12);
  loss.backward();
  expect_tensor_near(p.grad(), Tensor{{0.0, 2.0}, {4.0, 6.0}, {8.0, 10.0}}, 0.0);
  expect_tensor_near(t.grad(), Tensor{-12.0, -18.0}, 0.0);
}

TEST(KlDiv, MatchesPyTorchValues) {
  const Variable input = xtgrad::log(Variable(Tensor{{0.2, 0.3, 0.5}, {0.1, 0.1, 0.8}}));
  const Tensor t{{0.0, 0.5, 0.5}, {0.3, 0.3, 0.4}};
  EXPECT_NEAR(xtgrad::kl_div(input, Variable(t), Reduction::batch_mean).item(), 0.31866065642994146, 1e-15);
  EXPECT_NEAR(xtgrad::kl_div(input, Variable(t), Reduction::sum).item(), 0.6373213128598829, 1e-15);
  const Variable log_t = xtgrad::log(Variable(t) + 0.1);
  EXPECT_NEAR(xtgrad::kl_div(input, log_t, Reduction::mean, true).item(), 0.22166669977156503, 1e-15);
}

TEST(LossesExtra, PassGradcheck) {
  const Tensor z = uniform({4, 3}, 1, -2, 2);
  const Labels y{2, 0, 1, 0};
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    for (double eps : {0.0, 0.25}) {
      SCOPED_TRACE(testing::Message() << "reduction " << int(r) << " eps " << eps);
      expect_gradcheck([&](const Vars& v) { return xtgrad::cross_entropy(v[0], y, ce({}, {}, eps, r)); }, {z});
      expect_gradcheck([&](const Vars& v) { return xtgrad::cross_entropy(v[0], y, ce(kW, {}, eps, r)); }, {z});
      expect_gradcheck([&](const Vars& v) { return xtgrad::cross_entropy(v[0], y, ce(kW, 0, eps, r)); }, {z});
    }
    xtgrad::BasicNllLossOptions<Scalar> o;
    o.weight = kW;
    o.ignore_index = 1;
    o.reduction = r;
    expect_gradcheck([&](const Vars& v) { return xtgrad::nll_loss(v[0], y, o); }, {z});
    const Tensor t = uniform({4, 3}, 2, 0.0, 1.0);
    xtgrad::BasicBceWithLogitsOptions<Scalar> b{Tensor{1.0, 2.0, 0.5}, reshaped(Tensor{1.5, 0.5, 1.0, 2.0}, {4, 1}), r};
    expect_gradcheck([&](const Vars& v) { return xtgrad::binary_cross_entropy_with_logits(v[0], v[1], b); }, {z, t});
    const Tensor q = uniform({3}, 3, -1, 1);
    expect_gradcheck([&](const Vars& v) { return xtgrad::mse_loss(v[0], v[1], r); }, {z, q});
    // away from the kinks: |z − q| stays off 0 and off δ, β
    const Tensor far = z + 3.0;
    expect_gradcheck([&](const Vars& v) { return xtgrad::l1_loss(v[0], v[1], r); }, {far, q});
    expect_gradcheck([&](const Vars& v) { return xtgrad::huber_loss(v[0], v[1], 10.0, r); }, {z, q});
    expect_gradcheck([&](const Vars& v) { return xtgrad::huber_loss(v[0], v[1], 0.01, r); }, {far, q});
    expect_gradcheck([&](const Vars& v) { return xtgrad::smooth_l1_loss(v[0], v[1], 10.0, r); }, {z, q});
    expect_gradcheck([&](const Vars& v) { return xtgrad::smooth_l1_loss(v[0], v[1], 0.01, r); }, {far, q});
    const Tensor logq = uniform({4, 3}, 4, -3, -0.1), p = uniform({4, 3}, 5, 0.1, 1.0);
    expect_gradcheck([&](const Vars& v) { return xtgrad::kl_div(v[0], v[1], r); }, {logq, p});
    expect_gradcheck([&](const Vars& v) { return xtgrad::kl_div(v[0], v[1], r, true); }, {logq, logq * 0.5});
  }
  expect_gradcheck([](const Vars& v) { return xtgrad::kl_div(v[0], v[1], Reduction::batch_mean); },
                   {uniform({4, 3}, 6, -3, -0.1), uniform({4, 3}, 7, 0.1, 1.0)});
}

TEST(LossesExtraErrors, NameTheLossShapesAndOptions) {
  const Variable z(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Labels{0, 3}, CrossEntropyOptions{}); },
                                            {"cross_entropy", "label 3", "row 1", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Labels{0}, CrossEntropyOptions{}); },
                                            {"cross_entropy", "1 labels", "(2, 3)"});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::cross_entropy(z, Labels{0, 1}, ce(Tensor{1.0, 2.0}, {}, 0.0, Reduction::mean)); },
      {"cross_entropy", "weight", "(3)", "(2)"});
  expect_throws_with<std::invalid_argument>(
      [&] {
        xtgrad::cross_entropy(z, Labels{0, 1}, ce({}, {}, 1.5, Reduction::mean));
      },
      {"cross_entropy", "label_smoothing"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nll_loss(Variable(Tensor{1.0, 2.0}), Labels{0, 1}); },
                                            {"nll_loss", "(n, classes)", "(2)"});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::binary_cross_entropy_with_logits(z, Variable(Tensor::from_shape({3, 2}))); },
      {"binary_cross_entropy_with_logits", "(2, 3)", "(3, 2)"});
  xtgrad::BasicBceWithLogitsOptions<Scalar> b;
  b.pos_weight = Tensor{1.0, 2.0};
  expect_throws_with<std::invalid_argument>([&] { xtgrad::binary_cross_entropy_with_logits(z, z, b); },
                                            {"binary_cross_entropy_with_logits", "pos_weight", "(2)", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mse_loss(z, Variable(Tensor::from_shape({2}))); },
                                            {"mse_loss", "(2, 3)", "(2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::l1_loss(z, z, Reduction::batch_mean); },
                                            {"l1_loss", "batch_mean"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::huber_loss(z, z, 0.0); }, {"huber_loss", "delta", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::kl_div(z, Variable(Tensor::from_shape({3}))); },
                                            {"kl_div", "input", "target", "(2, 3)", "(3)"});
}

}  // namespace
}  // namespace xtgrad_test
