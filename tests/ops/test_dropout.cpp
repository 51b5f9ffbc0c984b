// dropout (op) and nn::Dropout: inverted scaling, the keep rate, reproducible masks, the
// gradient through the mask, identity in evaluation mode, argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad_test::Scalar;
using xtgrad_test::Tensor;
using xtgrad_test::Variable;
using xtgrad_test::expect_throws_with;
using xtgrad_test::filled;
using xtgrad_test::uniform;

TEST(Dropout, KeptElementsAreScaledByOneOverOneMinusPAndTheRestAreZero) {
  Rng rng(1);
  const Tensor x = uniform({50, 40}, 2, 0.5, 1.5);
  const Tensor y = xtgrad::dropout(Variable(x), 0.25, rng).value();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (y.data()[i] == 0) continue;
    ++kept;
    EXPECT_NEAR(y.data()[i], x.data()[i] / 0.75, 1e-12) << "at " << i;
  }
  // 2000 Bernoulli(0.75) draws: mean 1500, sd ≈ 19.4; ±5 sd.
  EXPECT_NEAR(double(kept), 1500.0, 97.0);
}

TEST(Dropout, MeanIsPreserved) {
  Rng rng(3);
  const Tensor x = filled({200, 100}, 1.0);
  const Tensor y = xtgrad::dropout(Variable(x), 0.5, rng).value();
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i];
  EXPECT_NEAR(s / double(y.size()), 1.0, 0.03);  // sd of the mean is 0.01
}

TEST(Dropout, SameSeedSameMaskAndDifferentDrawsAfterwards) {
  const Tensor x = filled({7, 9}, 1.0);  // odd size: the last element has its own draw
  Rng a(4), b(4);
  const Tensor ya = xtgrad::dropout(Variable(x), 0.5, a).value();
  const Tensor yb = xtgrad::dropout(Variable(x), 0.5, b).value();
  EXPECT_EQ(ya, yb);
  const Tensor ya2 = xtgrad::dropout(Variable(x), 0.5, a).value();
  EXPECT_NE(ya, ya2);
}

TEST(Dropout, GradientIsTheMask) {
  Rng rng(5);
  const Variable x = Variable::parameter(uniform({6, 5}, 6, -1.0, 1.0));
  const Variable y = xtgrad::dropout(x, 0.4, rng);
  xtgrad::sum(y).backward();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double m = y.value().data()[i] / x.value().data()[i];  // 0 or 1/0.6
    EXPECT_NEAR(x.grad().data()[i], m, 1e-12);
  }
}

TEST(Dropout, PassesGradcheckWithAFixedMask) {
  xtgrad_test::expect_gradcheck(
      [](const std::vector<Variable>& v) {
        Rng rng(7);  // the same mask on every evaluation
        return xtgrad::dropout(v[0], 0.3, rng);
      },
      {uniform({4, 6}, 8, -1.0, 1.0)});
}

TEST(Dropout, EvaluationModeAndZeroPAreTheIdentity) {
  Rng rng(9);
  const Variable x(uniform({3, 3}, 10, -1.0, 1.0));
  EXPECT_EQ(xtgrad::dropout(x, 0.5, rng, /*training=*/false).node(), x.node());
  EXPECT_EQ(xtgrad::dropout(x, 0.0, rng).node(), x.node());
}

TEST(Dropout, RejectsPOutsideZeroOne) {
  Rng rng(11);
  const Variable x(filled({2, 2}, 1.0));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::dropout(x, 1.0, rng); }, {"dropout", "[0, 1)", "(2, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::dropout(x, -0.1, rng); }, {"dropout"});
  expect_throws_with<std::invalid_argument>([] { xtgrad::nn::BasicDropout<Scalar>(1.5); }, {"Dropout", "[0, 1)"});
}

TEST(DropoutModule, DropsInTrainingAndIsTheIdentityInEvaluation) {
  xtgrad::nn::BasicDropout<Scalar> drop(0.5, 12);
  const Variable x(filled({10, 10}, 1.0));
  const Tensor y = drop(x).value();
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < y.size(); ++i) zeros += y.data()[i] == 0;
  EXPECT_GT(zeros, 20u);
  EXPECT_LT(zeros, 80u);
  drop.eval();
  EXPECT_EQ(drop(x).node(), x.node());
  drop.train();
  EXPECT_NE(drop(x).node(), x.node());
}

TEST(DropoutModule, SeedMakesRunsReproducibleAndCopiesShareTheSequence) {
  xtgrad::nn::BasicDropout<Scalar> a(0.5, 13), b(0.5, 13);
  const Variable x(filled({4, 8}, 1.0));
  EXPECT_EQ(a(x).value(), b(x).value());
  xtgrad::nn::BasicDropout<Scalar> copy = a;
  const Tensor from_copy = copy(x).value();  // the second mask of seed 13, drawn from a's engine
  const Tensor second_b = b(x).value();
  EXPECT_EQ(from_copy, second_b);
  a.seed(13);
  b.seed(13);
  EXPECT_EQ(a(x).value(), b(x).value());
}

}  // namespace

namespace {

TEST(DropoutModule, DefaultSeededLayersDrawDifferentMasksAndRngSeedingIsReproducible) {
  const Variable x(filled({8, 8}, 1.0));
  xtgrad::nn::BasicDropout<Scalar> a(0.5), b(0.5);
  EXPECT_NE(a(x).value(), b(x).value());
  Rng r1(21), r2(21);
  xtgrad::nn::BasicDropout<Scalar> c(0.5, r1), d(0.5, r2);
  EXPECT_EQ(c(x).value(), d(x).value());
  xtgrad::nn::BasicDropout<Scalar> e(0.5, r1);  // the next draw: another seed
  EXPECT_NE(e(x).value(), c(x).value());
}

}  // namespace

namespace {

TEST(Dropout, PassesGradgradcheck) {
  // Under create_graph the gradient g ⊙ m is built with ops, so a second derivative exists.
  xtgrad_test::expect_gradgradcheck(
      [](const std::vector<Variable>& v) {
        Rng rng(7);
        return xtgrad::dropout(v[0] * v[0], 0.3, rng);
      },
      {uniform({3, 4}, 8, -1.0, 1.0)});
}

}  // namespace

namespace {

using xtgrad::nn::BatchShard;
using xtgrad::nn::BatchShardScope;

// Rows [first, first + rows) of t (n, k).
Tensor rows_of(const Tensor& t, std::size_t first, std::size_t rows) {
  const std::size_t k = t.shape()[1];
  Tensor out = xtgrad::nn::zeros({rows, k});
  for (std::size_t i = 0; i < rows * k; ++i) out.data()[i] = t.data()[first * k + i];
  return out;
}

TEST(ShardedDraws, EachShardGetsItsRowsOfTheWholeBatchsDraws) {
  // A batch of 7 rows of 5 (an odd row: a mask word straddles rows) split 3 + 2 + 2: every
  // shard, drawing from the same seed, gets its rows of the one-process mask and noise, and
  // its engine ends where the one process's does.
  const std::size_t batch = 7, k = 5;
  const Tensor x = uniform({batch, k}, 14, 0.5, 1.5);
  Rng whole(15);
  const Tensor y_whole = xtgrad::nn::sharded_dropout(Variable(x), 0.5, whole).value();
  const Tensor noise_whole = xtgrad::nn::sharded_randn<Scalar>({batch, k}, whole, 0.0, 0.3);
  const std::uint64_t next_whole = whole();
  Rng plain(15);  // no shard: exactly the plain draws
  EXPECT_EQ(y_whole, xtgrad::dropout(Variable(x), 0.5, plain).value());
  EXPECT_EQ(noise_whole, xtgrad::randn<Scalar>({batch, k}, plain, 0.0, 0.3));
  for (const auto& [first, rows] : std::vector<std::pair<std::size_t, std::size_t>>{{0, 3}, {3, 2}, {5, 2}}) {
    Rng rng(15);
    const BatchShardScope scope(BatchShard{first, rows, batch});
    const Variable xs = Variable::parameter(rows_of(x, first, rows));
    const Variable y = xtgrad::nn::sharded_dropout(xs, 0.5, rng);
    EXPECT_EQ(y.value(), rows_of(y_whole, first, rows)) << "rows from " << first;
    EXPECT_EQ(xtgrad::nn::sharded_randn<Scalar>({rows, k}, rng, 0.0, 0.3), rows_of(noise_whole, first, rows));
    EXPECT_EQ(rng(), next_whole);
    xtgrad::sum(y).backward();  // the gradient is the shard's mask
    for (std::size_t i = 0; i < xs.size(); ++i) {
      EXPECT_NEAR(xs.grad().data()[i], y.value().data()[i] / xs.value().data()[i], 1e-12);
    }
  }
}

TEST(ShardedDraws, TheModuleDrawsTheWholeBatchsMaskInAShardAndTheScopeEnds) {
  const Tensor x = filled({6, 4}, 1.0);
  xtgrad::nn::BasicDropout<Scalar> whole(0.5, 16), shard(0.5, 16);
  const Tensor y_whole = whole(Variable(x)).value();
  {
    const BatchShardScope scope(BatchShard{3, 3, 6});
    ASSERT_NE(xtgrad::nn::current_batch_shard(), nullptr);
    EXPECT_EQ(shard(Variable(rows_of(x, 3, 3))).value(), rows_of(y_whole, 3, 3));
    shard.eval();  // evaluation: no draw, the identity
    const Variable part(rows_of(x, 3, 3));
    EXPECT_EQ(shard(part).node(), part.node());
    shard.train();
  }
  EXPECT_EQ(xtgrad::nn::current_batch_shard(), nullptr);
  EXPECT_EQ(shard(Variable(x)).value(), whole(Variable(x)).value());  // both at their second mask
}

TEST(ShardedDraws, AnInputWithoutTheShardsRowsIsAnError) {
  Rng rng(17);
  const BatchShardScope scope(BatchShard{0, 3, 6});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::nn::sharded_dropout(Variable(filled({4, 2}, 1.0)), 0.5, rng); },
      {"sharded_dropout", "3 rows of the batch of 6", "(4, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::sharded_randn<Scalar>({2, 2}, rng); },
                                            {"sharded_randn", "(2, 2)"});
}

}  // namespace
