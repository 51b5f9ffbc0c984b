// char_transformer: a small character-level language model. Token and position embeddings, a
// 2-layer causal nn::TransformerEncoder (pre-norm, final LayerNorm) and a Linear head over the
// characters, trained with Adam for a few seconds on the GPL-3 text every Debian system ships
// (/usr/share/common-licenses/GPL-3, or the file given as the first argument). Prints the loss
// as it falls, fails (exit 1) unless the mean loss of the last steps is below 2.0 nats per
// character (a uniform guess over the ~80 characters is ~4.4), then continues a prompt greedily.
#include <xtgrad/xtgrad.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace xtgrad;

// The characters of `text`, each once, in sorted order, and each one's index.
struct Vocabulary {
  std::vector<char> chars;
  std::map<char, std::size_t> index;
  explicit Vocabulary(const std::string& text) {
    for (char c : text) index[c] = 0;
    for (auto& [c, i] : index) {
      i = chars.size();
      chars.push_back(c);
    }
  }
};

// tokens (N, T) as whole numbers → logits (N, T, vocabulary): token + position embeddings,
// a causal encoder, the head.
struct CharTransformer : nn::Module {
  nn::Embedding tokens, positions;
  nn::TransformerEncoder encoder;
  nn::Linear head;
  std::size_t context;
  CharTransformer(std::size_t vocabulary, std::size_t context, std::size_t d_model, Rng& rng)
      : tokens(register_module("tokens", nn::Embedding(vocabulary, d_model, rng))),
        positions(register_module("positions", nn::Embedding(context, d_model, rng))),
        encoder(register_module(
            "encoder", nn::TransformerEncoder(nn::TransformerEncoderLayer(d_model, 4, rng,
                                                                          nn::TransformerEncoderLayerOptions()
                                                                              .dim_feedforward(4 * d_model)
                                                                              .dropout(0.0)
                                                                              .batch_first(true)
                                                                              .norm_first(true)),
                                              2, nn::LayerNorm({d_model})))),
        head(register_module("head", nn::Linear(d_model, vocabulary, rng))),
        context(context) {}
  Variable forward(const Variable& x) override {
    const std::size_t t = x.shape()[1];
    Tensor pos = nn::zeros({t});
    for (std::size_t i = 0; i < t; ++i) pos(i) = static_cast<Scalar>(i);
    const Variable h = tokens(x) + positions(Variable(pos));  // (N, T, d) + (T, d)
    return head(encoder(h, nn::TransformerEncoderForwardOptions().is_causal(true)));
  }
};

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "/usr/share/common-licenses/GPL-3";
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "char_transformer: cannot read %s\n", path.c_str());
    return 1;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const Vocabulary vocab(text);
  std::printf("%s: %zu characters, %zu distinct\n", path.c_str(), text.size(), vocab.chars.size());

  const std::size_t context = 32, batch = 16, d_model = 48, steps = 600;
  Rng rng(7);
  CharTransformer model(vocab.chars.size(), context, d_model, rng);
  nn::Adam optimizer(model.named_parameters(), /*lr=*/3e-3);
  std::printf("model: %zu parameters\n", model.parameter_count());

  // One batch: `batch` random windows of context + 1 characters; inputs the first context,
  // labels the next character at each position.
  std::uniform_int_distribution<std::size_t> start(0, text.size() - context - 2);
  Tensor inputs = nn::zeros({batch, context});
  std::vector<std::size_t> labels(batch * context);
  double recent = 0;  // mean loss of the last 20 steps
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t step = 1; step <= steps; ++step) {
    for (std::size_t b = 0; b < batch; ++b) {
      const std::size_t s = start(rng);
      for (std::size_t i = 0; i < context; ++i) {
        inputs(b, i) = static_cast<Scalar>(vocab.index.at(text[s + i]));
        labels[b * context + i] = vocab.index.at(text[s + i + 1]);
      }
    }
    const Variable logits = model(Variable(inputs));  // (N, T, V)
    const Variable loss = cross_entropy(reshape(logits, {batch * context, vocab.chars.size()}), labels);
    optimizer.zero_grad();
    loss.backward();
    nn::clip_grad_norm(model.named_parameters(), 1.0);
    optimizer.step();
    if (step > steps - 20) recent += loss.item() / 20.0;
    if (step == 1 || step % 50 == 0) std::printf("step %3zu  loss %.3f\n", step, static_cast<double>(loss.item()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mean loss of the last 20 steps: %.3f (%zu steps in %.1f s)\n", recent, steps, seconds);

  // Greedy continuation of a prompt, one character at a time over the last `context` characters.
  model.eval();
  std::string line = "This program is ";
  for (std::size_t n = 0; n < 60; ++n) {
    const std::size_t t = std::min(line.size(), context);
    Tensor x = nn::zeros({1, t});
    for (std::size_t i = 0; i < t; ++i)
      x(0, i) = static_cast<Scalar>(vocab.index.at(line[line.size() - t + i]));
    const Tensor logits = model(Variable(x)).value();  // (1, t, V)
    std::size_t best = 0;
    for (std::size_t c = 1; c < vocab.chars.size(); ++c)
      if (logits(0, t - 1, c) > logits(0, t - 1, best)) best = c;
    line += vocab.chars[best];
  }
  for (char& c : line)
    if (c == '\n') c = ' ';
  std::printf("greedy: %s\n", line.c_str());

  if (!(recent < 2.0)) {
    std::fprintf(stderr, "char_transformer: mean loss %.3f of the last 20 steps is not below 2.0\n", recent);
    return 1;
  }
  return 0;
}
