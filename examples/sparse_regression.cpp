// sparse_regression: linear regression whose true weight vector has only 3 non-zero entries
// out of 20. Minimizing mse + λ·Σ|w| (xtgrad::L1) drives the 17 irrelevant weights to ~0
// and keeps the 3 relevant ones, so the support is recovered; plain least squares leaves
// every weight non-zero. Prints recovered vs true and fails (exit 1) on a wrong support.
#include <xtgrad/xtgrad.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace xtgrad;

constexpr std::size_t kSamples = 200, kFeatures = 20;

// Full-batch gradient descent on mse(x·W + b, y) + penalty; returns W as a vector.
std::vector<double> fit_linear(const Tensor& x, const Tensor& y, const Regularizer& reg, Rng& rng) {
  nn::Linear model(kFeatures, 1, rng);  // W (1, 20) named "weight" (out, in), b (1) named "bias"
  nn::SGD optimizer(model.named_parameters(), /*lr=*/0.05);
  const Variable inputs(x), targets(y);  // constants: no gradient is computed for them
  for (int step = 0; step < 1500; ++step) {
    // The penalty is a node of the same graph as the data loss; by default L1 penalizes
    // weights only, never the bias.
    Variable loss = mse(model(inputs), targets) + reg(model.named_parameters());
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  std::vector<double> w(kFeatures);
  for (std::size_t j = 0; j < kFeatures; ++j) w[j] = model.weight.value()(0, j);
  return w;
}

int main() {
  Rng rng(7);
  // y = x·w_true + 0.1·noise, with w_true non-zero at features 2, 7 and 13 only.
  std::vector<double> w_true(kFeatures, 0.0);
  w_true[2] = 3.0;
  w_true[7] = -2.0;
  w_true[13] = 1.5;
  const Tensor x = randn({kSamples, kFeatures}, rng);
  const Tensor noise = randn({kSamples, 1}, rng, 0.0, 0.1);
  Tensor y = noise;
  for (std::size_t i = 0; i < kSamples; ++i) {
    for (std::size_t j = 0; j < kFeatures; ++j) y(i, 0) += static_cast<Scalar>(x(i, j) * w_true[j]);
  }

  const double lambd = 0.05;
  const std::vector<double> w_l1 = fit_linear(x, y, L1(lambd), rng);
  const std::vector<double> w_ls = fit_linear(x, y, NoPenalty(), rng);

  // A weight counts as "in the support" when |w| > threshold; the L1 solution's irrelevant
  // weights sit within ~lr·λ of 0 (subgradient steps oscillate around it).
  const double threshold = 0.05;
  std::printf("feature   true    L1 (λ=%.2g)   least squares\n", lambd);
  std::size_t wrong = 0, ls_nonzero = 0;
  for (std::size_t j = 0; j < kFeatures; ++j) {
    const bool truly_in = w_true[j] != 0.0;
    const bool found_in = std::abs(w_l1[j]) > threshold;
    wrong += truly_in != found_in;
    ls_nonzero += std::abs(w_ls[j]) > 1e-3;
    std::printf("%7zu %6.2f %12.4f %15.4f%s\n", j, w_true[j], w_l1[j], w_ls[j],
                truly_in != found_in ? "   <- wrong" : "");
  }
  std::printf("L1: %zu of %zu features classified wrongly (|w| > %.2g means in the support)\n", wrong,
              kFeatures, threshold);
  std::printf("least squares: %zu of %zu weights have |w| > 1e-3\n", ls_nonzero, kFeatures);
  if (wrong != 0) {
    std::fprintf(stderr, "sparse_regression: L1 did not recover the support\n");
    return 1;
  }
  return 0;
}
