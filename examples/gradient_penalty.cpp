// gradient_penalty: the WGAN-GP gradient penalty (Gulrajani et al. 2017), a loss built from a
// gradient. On points x̂ between real and generated samples, the critic's input gradient
// ∇ₓ̂D(x̂) comes from grad(..., create_graph), and the penalty λ·mean((‖∇ₓ̂D(x̂)‖₂ − 1)²)
// is differentiated again, to the critic's parameters (a second-order path).
//
// 1. In double: the penalty's parameter gradients from backward() against central differences
//    of the penalty itself, for one element of every parameter.
// 2. In float: a tiny WGAN-GP. Real samples ~ N((2, 2), I); the generator is x = z + μ with
//    z ~ N(0, I) and μ learned, starting at (−2, −2). Five critic steps per generator step,
//    300 generator steps (its lr halved every 75). The generator must end with μ within 0.75
//    of (2, 2) and the critic's gradient norm within (0.5, 1.5).
// Exit 1 if either check fails.
//
// Measured (this program as it is): largest relative error of the penalty's gradient 1.2e-8
// (fc3.bias gets none: ∇ₓD does not depend on it, and its central difference is 0); over seeds
// 1..8 (`gradient_penalty SEED`) μ ends 0.10-0.25 from (2, 2), mean ‖∇D‖ 0.97-1.01; 0.5 s a run.
#include <xtgrad/xtgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

using namespace xtgrad;

namespace {

// D: R² → R, a 2-32-32-1 tanh network (smooth, so central differences of its penalty are
// accurate). A template over the scalar type: the same code checks in double and trains in float.
template <class T>
struct Critic : nn::BasicModule<T> {
  using Variable = BasicVariable<T>;
  nn::BasicLinear<T> fc1, fc2, fc3;
  explicit Critic(Rng& rng)
      : fc1(this->register_module("fc1", nn::BasicLinear<T>(2, 32, rng))),
        fc2(this->register_module("fc2", nn::BasicLinear<T>(32, 32, rng))),
        fc3(this->register_module("fc3", nn::BasicLinear<T>(32, 1, rng))) {}
  // (n, 2) → (n, 1) scores.
  Variable forward(const Variable& x) override { return fc3(tanh(fc2(tanh(fc1(x))))); }
};

// λ·mean_i (‖∇D(x̂_i)‖₂ − 1)² with x̂ = α·real + (1 − α)·fake, α (n, 1) ∈ [0, 1] per row.
// Returns the penalty and, through `grad_norm`, the mean ‖∇D(x̂_i)‖₂.
template <class T>
BasicVariable<T> gradient_penalty(Critic<T>& critic, const BasicVariable<T>& real, const BasicVariable<T>& fake,
                                  const BasicVariable<T>& alpha, double lambda, double* grad_norm = nullptr) {
  // x̂ is a leaf that requires grad: grad() differentiates with respect to it.
  const BasicVariable<T> x_hat((alpha * real + (1.0 - alpha) * fake).value(), /*requires_grad=*/true);
  // Σ_i D(x̂_i): row i of its gradient is ∇D(x̂_i), since D(x̂_i) depends on row i only.
  const BasicVariable<T> score = sum(critic(x_hat));
  BasicGradOptions<T> options;
  options.create_graph = true;  // the gradient is itself a graph, differentiable again
  const BasicVariable<T> g = grad({score}, {x_hat}, options)[0];  // (n, 2)
  const BasicVariable<T> norms = sqrt(sum(square(g), 1) + 1e-12);  // (n); + 1e-12 keeps √ differentiable at 0
  if (grad_norm) *grad_norm = mean(norms).item();
  return lambda * mean(square(norms - 1.0));
}

// Part 1: backward() of the penalty against (P(θ + h) − P(θ − h)) / 2h, in double.
bool check_penalty_gradient() {
  using Variable = BasicVariable<double>;
  Rng rng(7);
  Critic<double> critic(rng);
  const Variable real(randn<double>({16, 2}, rng, 2.0)), fake(randn<double>({16, 2}, rng, -2.0));
  const Variable alpha(rand_uniform<double>({16, 1}, rng));
  const double lambda = 10;
  const auto penalty = [&] { return gradient_penalty(critic, real, fake, alpha, lambda); };

  critic.zero_grad();
  penalty().backward();  // through grad(create_graph): the second-order path to every parameter

  const double h = 1e-6;
  double worst = 0;
  for (const auto& [name, p] : critic.named_parameters()) {
    const std::size_t k = 0;  // one element of each parameter (its first, whatever the layout)
    const double saved = p.value().data()[k];
    Variable param = p;
    param.mutable_value().data()[k] = saved + h;
    const double up = penalty().item();
    param.mutable_value().data()[k] = saved - h;
    const double down = penalty().item();
    param.mutable_value().data()[k] = saved;
    const double numeric = (up - down) / (2 * h);
    if (!p.has_grad()) {  // fc3.bias: ∇ₓD does not depend on it, so backward gives it no gradient
      std::printf("  d penalty / d %s[0]: none from backward, central difference %+.1e\n", name.c_str(), numeric);
      if (std::abs(numeric) > 1e-8) return false;
      continue;
    }
    const double analytic = p.grad().data()[k];
    const double rel = std::abs(analytic - numeric) / std::max(1e-8, std::abs(analytic) + std::abs(numeric));
    std::printf("  d penalty / d %s[0]: backward %+.10f, central difference %+.10f (rel. error %.1e)\n",
                name.c_str(), analytic, numeric, rel);
    worst = std::max(worst, rel);
  }
  std::printf("penalty %.6f; largest relative error of its gradient %.1e\n", penalty().item(), worst);
  return worst < 1e-6;
}

// Part 2: a few hundred WGAN-GP steps in float.
bool train_wgan_gp(unsigned seed) {
  Rng rng(seed);
  Critic<float> critic(rng);
  Tensor start = nn::zeros({2});
  start(0) = start(1) = -2;
  Variable mu = Variable::parameter(start, "mu");  // the generator: x = z + μ, μ (2)
  nn::Adam critic_opt(critic.named_parameters(), /*lr=*/2e-3, /*beta1=*/0.5, /*beta2=*/0.9);
  nn::Adam gen_opt({{"mu", mu}}, /*lr=*/5e-2, /*beta1=*/0.5, /*beta2=*/0.9);
  nn::StepLR gen_schedule(gen_opt, /*step_size=*/75, /*gamma=*/0.5);  // stepped per generator step here
  const std::size_t batch = 64, gen_steps = 300, critic_steps = 5;
  const double lambda = 10;

  const auto distance_to_target = [&] {
    return std::hypot(mu.value()(0) - 2.0, mu.value()(1) - 2.0);
  };
  std::printf("WGAN-GP: |mu - (2, 2)| = %.3f at the start\n", distance_to_target());
  double grad_norm = 0, w_estimate = 0;
  for (std::size_t step = 1; step <= gen_steps; ++step) {
    for (std::size_t k = 0; k < critic_steps; ++k) {
      const Variable real(randn({batch, 2}, rng, 2.0));
      const Variable fake = (Variable(randn({batch, 2}, rng)) + mu).detach();  // no gradient to μ here
      const Variable alpha(rand_uniform({batch, 1}, rng));
      // The critic maximises D(real) − D(fake) (an estimate of the Wasserstein distance)
      // while its gradient norm is held near 1 by the penalty.
      const Variable w = mean(critic(real)) - mean(critic(fake));
      const Variable loss = -w + gradient_penalty(critic, real, fake, alpha, lambda, &grad_norm);
      critic_opt.zero_grad();
      loss.backward();
      critic_opt.step();
      w_estimate = w.item();
    }
    // The generator moves its samples up the critic's slope.
    const Variable fake = Variable(randn({batch, 2}, rng)) + mu;
    const Variable gen_loss = -mean(critic(fake));
    gen_opt.zero_grad();
    gen_loss.backward();
    gen_opt.step();
    gen_schedule.step();
    if (step % 75 == 0) {
      std::printf("  step %3zu: W estimate %.3f, mean |grad D| %.3f, mu (%.3f, %.3f)\n", step, w_estimate, grad_norm,
                  double(mu.value()(0)), double(mu.value()(1)));
    }
  }
  const double distance = distance_to_target();
  std::printf("WGAN-GP: |mu - (2, 2)| = %.3f after %zu generator steps\n", distance, gen_steps);
  bool ok = true;
  if (!(distance < 0.75)) {
    std::fprintf(stderr, "gradient_penalty: the generator did not reach the data (|mu - (2, 2)| = %.3f)\n", distance);
    ok = false;
  }
  if (!(grad_norm > 0.5 && grad_norm < 1.5)) {
    std::fprintf(stderr, "gradient_penalty: the critic's gradient norm %.3f is not near 1\n", grad_norm);
    ok = false;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool ok = check_penalty_gradient();
    if (!ok) std::fprintf(stderr, "gradient_penalty: backward disagrees with central differences\n");
    ok = train_wgan_gp(argc > 1 ? unsigned(std::stoul(argv[1])) : 1u) && ok;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gradient_penalty: %s\n", e.what());
    return 1;
  }
}
