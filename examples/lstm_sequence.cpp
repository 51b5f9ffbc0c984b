// lstm_sequence: an LSTM learns to echo its input three steps late (y_t = x_{t−3}), which it
// can only do by keeping the last three inputs in its state. Trains in float for a few seconds,
// then checks on fresh sequences that the error is a small fraction of predicting 0 (the
// variance of the inputs), and that feeding a sequence in two halves, carrying (h, c) from the
// first call into the second, gives the same outputs as one call over the whole sequence.
#include <xtgrad/xtgrad.hpp>
#include <xtgrad/nn/recurrent.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace xtgrad;

constexpr std::size_t kDelay = 3, kSteps = 12, kBatch = 32, kHidden = 24;

// The model: LSTM (batch_first: x is (N, T, 1)) and a linear read-out of every step's h.
struct Echo : nn::Module {
  nn::LSTM lstm;
  nn::Linear head;
  explicit Echo(Rng& rng)
      : lstm(register_module("lstm", nn::LSTM(1, kHidden, rng, nn::LSTMOptions().batch_first(true)))),
        head(register_module("head", nn::Linear(kHidden, 1, rng))) {}
  Variable forward(const Variable& x) override { return head(lstm(x)); }  // (N, T, 1)
};

// A batch of inputs U(−1, 1) of shape (N, T, 1) and the targets x delayed by kDelay steps
// (the first kDelay targets, which have no input to echo, are 0 and left out of the loss).
struct Batch {
  Variable x, y;
};
Batch make_batch(Rng& rng) {
  Variable x(rand_uniform<float>({kBatch, kSteps, 1}, rng, -1.0, 1.0));
  Variable y = slice(x, 1, 0, static_cast<std::int64_t>(kSteps - kDelay));  // x_0 … x_{T−1−delay}
  return {x, y};
}

// Mean squared error over the steps that have a target.
Variable echo_loss(Echo& model, const Batch& b) {
  const Variable out = model(b.x);
  return mse(slice(out, 1, static_cast<std::int64_t>(kDelay), static_cast<std::int64_t>(kSteps)), b.y);
}

int main() {
  Rng rng(7);
  Echo model(rng);
  nn::Adam opt(model.named_parameters(), 0.01);
  for (int step = 1; step <= 400; ++step) {
    const Batch b = make_batch(rng);
    const Variable loss = echo_loss(model, b);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % 100 == 0) std::printf("step %3d  loss %.5f\n", step, static_cast<double>(loss.item()));
  }

  // Held-out sequences: predicting 0 would score Var(x) = 1/3.
  model.eval();
  Rng test_rng(12345);
  double test = 0;
  for (int i = 0; i < 8; ++i) test += echo_loss(model, make_batch(test_rng)).item() / 8.0;
  std::printf("held-out mse %.5f (predicting 0: %.5f)\n", test, 1.0 / 3.0);

  // The stateful call: the first half's final (h, c) starts the second half.
  const Batch b = make_batch(test_rng);
  const std::int64_t half = kSteps / 2;
  auto [y1, state] = model.lstm(slice(b.x, 1, 0, half), {});
  auto [y2, final_state] = model.lstm(slice(b.x, 1, half, static_cast<std::int64_t>(kSteps)), state);
  const Variable whole = model.lstm(b.x);
  const Variable halves = concat({y1, y2}, 1);
  double diff = 0;
  for (std::size_t i = 0; i < whole.size(); ++i)
    diff = std::max(diff, static_cast<double>(std::abs(whole.value().data()[i] - halves.value().data()[i])));
  std::printf("two halves vs one call: max difference %.3g; final h %s\n", diff,
              shape_str(final_state.h.shape()).c_str());

  const bool ok = test < 0.02 && diff < 1e-5;
  std::printf("%s\n", ok ? "lstm_sequence: OK" : "lstm_sequence: FAILED");
  return ok ? 0 : 1;
}
