// two_moons: a tiny classifier written from scratch. Two interleaved half circles in the
// plane, a 2-16-16-2 tanh network (a Module with three Linear layers), Adam, and nn::fit.
// Prints the accuracy on held-out points and fails (exit 1) below 95 %.
#include <xtgrad/xtgrad.hpp>

#include <cmath>
#include <cstdio>
#include <string>

using namespace xtgrad;

// n points: class 0 on the upper half circle around (0, 0), class 1 on the lower half circle
// around (1, 0.5), both of radius 1, plus N(0, noise²) jitter. Inputs (n, 2), one-hot
// targets (n, 2), as nn::fit expects.
nn::Dataset two_moons(std::size_t n, double noise, Rng& rng) {
  const double pi = std::acos(-1.0);
  const Tensor t = rand_uniform({n}, rng, 0.0, pi);  // angle along the arc
  const Tensor jitter = randn({n, 2}, rng, 0.0, noise);
  nn::Dataset d{nn::zeros({n, 2}), nn::zeros({n, 2})};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t label = i % 2;
    const double x = label == 0 ? std::cos(t(i)) : 1.0 - std::cos(t(i));
    const double y = label == 0 ? std::sin(t(i)) : 0.5 - std::sin(t(i));
    d.inputs(i, 0) = static_cast<Scalar>(x + jitter(i, 0));
    d.inputs(i, 1) = static_cast<Scalar>(y + jitter(i, 1));
    d.targets(i, label) = 1;
  }
  return d;
}

// A model is a struct deriving from Module: members registered by name in the constructor
// (so named_parameters() yields fc1.weight, fc1.bias, ...), and a forward.
struct MoonNet : nn::Module {
  nn::Linear fc1, fc2, fc3;
  nn::Tanh act;
  explicit MoonNet(Rng& rng)
      : fc1(register_module("fc1", nn::Linear(2, 16, rng))),
        fc2(register_module("fc2", nn::Linear(16, 16, rng))),
        fc3(register_module("fc3", nn::Linear(16, 2, rng))) {}
  // (n, 2) → (n, 2) logits; the loss applies the softmax.
  Variable forward(const Variable& x) override { return fc3(act(fc2(act(fc1(x))))); }
};

int main() {
  // The library's version, and the one its headers were installed with: they must agree.
  std::printf("xtgrad %s (headers %s)\n", version(), XTGRAD_VERSION_STRING);
  if (std::string(version()) != XTGRAD_VERSION_STRING) return 1;

  Rng rng(42);  // one explicit engine: data, initial weights and batch order are reproducible
  const nn::Dataset train = two_moons(512, 0.1, rng);
  const nn::Dataset test = two_moons(512, 0.1, rng);

  MoonNet model(rng);
  nn::Adam optimizer(model.named_parameters(), /*lr=*/0.01);

  nn::FitOptions options;  // loss: cross_entropy on logits (the default)
  options.epochs = 60;
  options.batch_size = 32;
  options.progress_bar = false;
  options.on_epoch_end = [](const nn::EpochStats& s) {
    if (s.epoch % 20 == 0) std::printf("epoch %3zu  loss %.4f  test accuracy %.3f\n", s.epoch, s.loss, s.test_accuracy);
  };
  const nn::History history = nn::fit(model, optimizer, train, &test, rng, options);

  const double train_acc = nn::accuracy(model, train);
  const double test_acc = history.back().test_accuracy;
  std::printf("final accuracy: train %.3f, test %.3f (%zu parameters)\n", train_acc, test_acc,
              model.parameter_count());
  if (!(test_acc > 0.95)) {
    std::fprintf(stderr, "two_moons: test accuracy %.3f is not above 0.95\n", test_acc);
    return 1;
  }
  return 0;
}
