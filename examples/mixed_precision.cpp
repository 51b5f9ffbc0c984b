// mixed_precision: one program, one library (xtgrad::xtgrad), two precisions. A small sigmoid
// MLP is written once, as a function template over the scalar type; it trains in float
// (BasicVariable<float>, i.e. Variable) and its gradient is checked in double
// (BasicVariable<double>) by gradcheck, at the parameters the float training reached. Then the
// float gradient is compared with the double one: they agree to float's precision.
#include <xtgrad/xtgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace xtgrad;

// The model and its loss, for any precision T: p = (W1 (4, 8), b1 (8), W2 (8, 3), b2 (3)).
template <class T>
BasicVariable<T> loss_of(const std::vector<BasicVariable<T>>& p, const TensorOf<T>& x,
                         const std::vector<std::size_t>& labels) {
  const BasicVariable<T> hidden = sigmoid(linear(BasicVariable<T>(x), p[0], p[1]));
  return cross_entropy(linear(hidden, p[2], p[3]), labels);
}

int main() {
  Rng rng(7);
  // 64 samples of 4 features; the label is the index of the largest of the first 3 features.
  const Tensor x = rand_uniform({64, 4}, rng, -1, 1);
  std::vector<std::size_t> labels;
  for (std::size_t i = 0; i < 64; ++i) {
    const float* row = &x(i, 0);
    labels.push_back(static_cast<std::size_t>(std::max_element(row, row + 3) - row));
  }

  // Training in float: plain SGD.
  std::vector<Variable> params{Variable::parameter(randn({8, 4}, rng, 0, 0.5)), Variable::parameter(randn({8}, rng, 0, 0.1)),
                               Variable::parameter(randn({3, 8}, rng, 0, 0.5)), Variable::parameter(randn({3}, rng, 0, 0.1))};
  const float first_loss = loss_of(params, x, labels).item();
  float last_loss = first_loss;
  for (int step = 0; step < 300; ++step) {
    for (Variable& p : params) p.zero_grad();
    const Variable loss = loss_of(params, x, labels);
    loss.backward();
    for (Variable& p : params) p.mutable_value() -= 0.5f * p.grad();
    last_loss = loss.item();
  }
  std::printf("float training: loss %.4f -> %.4f\n", first_loss, last_loss);

  // Checking in double, from the same source: a generic lambda, called with double leaves.
  const TensorOf<double> x64 = xt::cast<double>(x);
  std::vector<Tensor> trained;
  for (const Variable& p : params) trained.push_back(p.value());
  const GradcheckReport report = gradcheck([&](const auto& p) { return loss_of(p, x64, labels); }, trained);
  std::printf("gradcheck in double at the trained parameters: %s\n", report.message.c_str());

  // The float gradient against the double one at the same point.
  std::vector<BasicVariable<double>> params64;
  for (const Variable& p : params) params64.push_back(BasicVariable<double>::parameter(xt::cast<double>(p.value())));
  for (Variable& p : params) p.zero_grad();
  loss_of(params, x, labels).backward();
  loss_of(params64, x64, labels).backward();
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    for (std::size_t k = 0; k < params[i].size(); ++k) {
      const double g64 = params64[i].grad().data()[k];
      worst = std::max(worst, std::abs(double(params[i].grad().data()[k]) - g64));
      largest = std::max(largest, std::abs(g64));
    }
  }
  std::printf("float gradient vs double: largest difference %.2e (largest element %.2e)\n", worst, largest);

  if (!report.ok || !(last_loss < 0.5f * first_loss) || !(worst <= 1e-5 * std::max(largest, 1.0))) {
    std::fprintf(stderr, "mixed_precision: check failed\n");
    return 1;
  }
  return 0;
}
