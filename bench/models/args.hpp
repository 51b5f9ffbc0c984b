// Command line of the bench/models_* programs (plain C++, shared by both frameworks):
//   --model mlp|lenet|bn_cnn|transformer  --threads N  --warmup W  --steps S  --seed K
//   --data DIR (IDX images, raw or .gz)  --text FILE (the transformer's corpus)
// Steps and warm-up default per model (defaults()), data and text from the environment
// (XTGRAD_MNIST_DIR, XTGRAD_FASHION_DIR, XTGRAD_TEXT) or the paths below.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bench {

struct Args {
  std::string model;
  int threads = 1, warmup = -1, steps = -1, batch = -1;
  unsigned long long seed = 0;
  std::string data, text;
};

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Per model: batch, warm-up and timed steps, data folder (the sizes).
inline void apply_defaults(Args& a) {
  struct D { const char* model; int batch, warmup, steps; };
  static const D table[] = {{"mlp", 64, 50, 313},    // 313 steps: one epoch of 20,000 images
                            {"lenet", 64, 10, 100},
                            {"bn_cnn", 128, 5, 40},
                            {"transformer", 32, 5, 50}};
  for (const D& d : table) {
    if (a.model != d.model) continue;
    if (a.batch < 0) a.batch = d.batch;
    if (a.warmup < 0) a.warmup = d.warmup;
    if (a.steps < 0) a.steps = d.steps;
    if (a.data.empty())
      a.data = a.model == "bn_cnn" ? env_or("XTGRAD_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
                                   : env_or("XTGRAD_MNIST_DIR", "data/mnist");
    if (a.text.empty()) a.text = env_or("XTGRAD_TEXT", "/usr/share/common-licenses/GPL-3");
    return;
  }
  throw std::invalid_argument("--model must be mlp, lenet, bn_cnn or transformer (got '" + a.model + "')");
}

inline Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(key + " needs a value");
    const std::string v = argv[++i];
    if (key == "--model") a.model = v;
    else if (key == "--threads") a.threads = std::stoi(v);
    else if (key == "--warmup") a.warmup = std::stoi(v);
    else if (key == "--steps") a.steps = std::stoi(v);
    else if (key == "--batch") a.batch = std::stoi(v);
    else if (key == "--seed") a.seed = std::stoull(v);
    else if (key == "--data") a.data = v;
    else if (key == "--text") a.text = v;
    else throw std::invalid_argument("unknown argument " + key);
  }
  apply_defaults(a);
  if (a.threads < 1 || a.steps < 1 || a.warmup < 0 || a.batch < 1)
    throw std::invalid_argument("--threads, --steps, --batch must be positive and --warmup not negative");
  return a;
}

}  // namespace bench
