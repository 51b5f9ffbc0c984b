// save_load: train a small classifier, save its parameters to an .npz file (numpy's format:
// np.load reads it), load them into a freshly constructed model, and check that both give the
// same predictions. Also shows the error a mismatched model gets. Exit 1 on any difference.
#include <xtgrad/xtgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

using namespace xtgrad;

// Two Gaussian blobs at ±(1.5, 1.5): inputs (n, 2), one-hot targets (n, 2).
nn::Dataset blobs(std::size_t n, Rng& rng) {
  const Tensor noise = randn({n, 2}, rng);
  nn::Dataset d{nn::zeros({n, 2}), nn::zeros({n, 2})};
  for (std::size_t i = 0; i < n; ++i) {
    const double s = i % 2 ? 1.5 : -1.5;
    d.inputs(i, 0) = static_cast<Scalar>(s + noise(i, 0));
    d.inputs(i, 1) = static_cast<Scalar>(s + noise(i, 1));
    d.targets(i, i % 2) = 1;
  }
  return d;
}

struct Classifier : nn::Module {
  nn::Linear fc1, fc2;
  Classifier(std::size_t hidden, Rng& rng)
      : fc1(register_module("fc1", nn::Linear(2, hidden, rng))),
        fc2(register_module("fc2", nn::Linear(hidden, 2, rng))) {}
  Variable forward(const Variable& x) override { return fc2(relu(fc1(x))); }
};

// Logits for the inputs, without recording a graph.
Tensor predict(Classifier& model, const Tensor& inputs) {
  NoGrad no_grad;
  return model(Variable(inputs)).value();
}

// Largest |a − b| over all elements (same shapes).
double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return m;
}

int main() {
  Rng rng(3);
  const nn::Dataset data = blobs(400, rng);

  Classifier trained(8, rng);
  nn::SGD optimizer(trained.named_parameters(), /*lr=*/0.1, /*momentum=*/0.9);
  nn::FitOptions options;
  options.epochs = 5;
  options.progress_bar = false;
  nn::fit(trained, optimizer, data, nullptr, rng, options);
  std::printf("trained: accuracy %.3f\n", nn::accuracy(trained, data));

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("xtgrad_save_load_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "classifier.npz").string();
  nn::save_parameters(trained, path);  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
  std::printf("saved %zu parameters to %s\n", trained.parameter_count(), path.c_str());

  // A fresh model: same architecture, different random initial weights.
  Rng other_rng(12345);
  Classifier restored(8, other_rng);
  const double before = max_abs_diff(predict(trained, data.inputs), predict(restored, data.inputs));
  nn::load_parameters(restored, path);
  const double after = max_abs_diff(predict(trained, data.inputs), predict(restored, data.inputs));
  std::printf("max |logit difference|: %.3g before loading, %.3g after\n", before, after);

  // Loading into a different architecture is refused, naming the file and the parameter.
  bool refused = false;
  try {
    Classifier wider(16, other_rng);
    nn::load_parameters(wider, path);
  } catch (const std::invalid_argument& e) {
    refused = true;
    std::printf("a 16-unit model is refused: %s\n", e.what());
  }
  std::filesystem::remove_all(dir);

  if (before == 0 || after != 0 || !refused) {
    std::fprintf(stderr, "save_load: the restored model does not predict exactly as the trained one\n");
    return 1;
  }
  return 0;
}
