// One training run of the seed experiment: the model, the loss, the penalty, the numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "checkpointing.hpp"
#include "methods.hpp"
#include "xtgrad/nn/conv.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/metrics.hpp"
#include "xtgrad/io/mnist.hpp"
#include "xtgrad/nn/train.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace mnist_app {

// Where Debian's dataset-fashion-mnist puts the IDX files.
inline const char* const fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

struct Config {
  std::string data = "data/mnist";
  std::string dataset = "mnist";
  std::string model = "mlp";       // or "lenet"   // or "fashion-mnist": the same format; sets the default --data
  std::size_t train_size = 20000;
  std::size_t epochs = 20;
  std::size_t batch_size = 64;
  std::size_t hidden = 200;
  double lr = 0.1;
  double momentum = 0;             // SGD momentum μ ∈ [0, 1); 0: plain SGD, as the blog
  std::string optimizer = "sgd";   // --optimizer: sgd (the blog's), adam or adamw (make_optimizer)
  std::uint64_t seed = 0;
  int threads = 1;
  std::string out = "results";
  bool no_plots = false;
  bool report = false;             // --report: DIR/report.html (report.hpp)
  bool quiet = false;
  bool blog_gradient = false;
  std::vector<std::string> regs{"none", "l2(lambd=0.01)", "l1(lambd=0.0001)"};
  std::vector<std::string> sweep;  // kinds swept over lambdas (sweep.hpp); replaces regs
  std::vector<double> lambdas{1e-6, 1e-5, 1e-4, 1e-3, 1e-2};
  std::string dump_graph;          // --dump-graph FILE.dot
  std::vector<double> eval_fgsm;   // --eval-fgsm: the epsilons of the FGSM test accuracy (none: off)
  int ranks = 1;                   // MPI ranks training data-parallel (set by main, not a flag)
  // --seeds: every run once per seed, each seed with its own subset, initial weights and order
  // (shared by all the runs of that seed: paired); empty: once, with --seed.
  std::vector<std::uint64_t> seeds;
  bool prune = false;              // --prune: each run's dead units removed, pruned.npz, timed (pruning.hpp)
};

// A model of the app (--model): a Sequential applied to the input rows reshaped to
// `sample_shape` per sample (empty: kept as rows), with dropout of probability `dropout` on
// the input of the last layer. In training mode only: Gaussian input noise of std `noise` and
// the dropout (both drawn from the model's own engine, reseed(); on N ranks each rank draws for
// the whole batch and keeps its rows, nn::sharded_dropout / sharded_randn, so the draws are one
// process's), and with `input_leaf` the
// input is copied into a leaf that requires grad, last_input(), so a loss can differentiate
// with respect to it (adversarial, input_grad). Inputs are rows (n, 784) in [−1, 1].
class AppNet : public xtgrad::nn::Sequential {
 public:
  xtgrad::Variable forward(const xtgrad::Variable& x) override;
  // The leaf the last training-mode forward ran on (input_leaf), else undefined.
  const xtgrad::Variable& last_input() const { return last_input_; }
  // Restarts the dropout and noise draws (at each epoch start: a resumed run draws the same).
  void reseed(std::uint64_t seed) { draws_ = xtgrad::Rng(seed); }
  // The first layer's weight tensor (for the weight plots).
  virtual xtgrad::Tensor first_layer_weights() const = 0;
  // The shape each input row is reshaped to ((1, 28, 28) for LeNet; empty: kept as rows).
  const xtgrad::Shape& sample_shape() const { return sample_shape_; }

 protected:
  AppNet(xtgrad::nn::Sequential layers, xtgrad::Shape sample_shape, double dropout, double noise, bool input_leaf)
      : xtgrad::nn::Sequential(std::move(layers)),
        sample_shape_(std::move(sample_shape)),
        dropout_(dropout),
        noise_(noise),
        input_leaf_(input_leaf) {}

 private:
  xtgrad::Shape sample_shape_, batch_shape_;
  double dropout_, noise_;
  bool input_leaf_;
  xtgrad::Rng draws_{0};
  xtgrad::Variable last_input_;
};

// --model mlp, the seed's model: fc1 Linear(784, hidden) → sigmoid → fc2 Linear(hidden, 10),
// weights 0.01·N(0,1), biases 0. (The seed's affine(1, 0) output activation is the identity
// and is left out.)
struct TwoLayerNet : AppNet {
  TwoLayerNet(std::size_t inputs, std::size_t hidden, std::size_t classes, xtgrad::Rng& rng, double dropout = 0,
              double noise = 0, bool input_leaf = false);
  xtgrad::Tensor first_layer_weights() const override;
};

// --model lenet: nn::lenet5 (conv1 6@5×5 pad 2 → pool → conv2 16@5×5 → pool → fc 400→120→84→
// classes, ReLU between) on the rows as (n, 1, 28, 28); PyTorch's default initialisation for
// the convolutions, glorot_uniform for the Linear layers. Dropout acts on the 84 features.
struct LeNet : AppNet {
  LeNet(std::size_t classes, xtgrad::Rng& rng, double dropout = 0, double noise = 0, bool input_leaf = false);
  xtgrad::Tensor first_layer_weights() const override;
};

// The training subset (train_size random images) and the whole test set, normalized to
// [−1, 1], with one-hot labels.
struct PreparedData {
  xtgrad::nn::Dataset train, test;
};
PreparedData prepare_data(const xtgrad::nn::Mnist& mnist, std::size_t train_size, std::uint64_t seed);

struct PruneSummary;  // pruning.hpp

struct RunResult {
  std::string reg;                 // the canonical spec, e.g. "l2(lambd=0.01)" or "l2(lambd=0.0001)+dropout(p=0.5)"
  std::vector<std::string> effects;  // what its model, data or training changes did (Methods::effects)
  std::string gradient;            // "true" or "blog"
  xtgrad::nn::History history;
  double test_accuracy = 0;
  double seconds_per_epoch = 0;    // median of the epochs' training passes
  double train_accuracy = 0;       // on the training subset (all of it), with the final weights
  std::vector<double> fgsm_accuracy;  // test accuracy under FGSM, one per Config::eval_fgsm epsilon
  std::size_t best_epoch = 0;      // early stopping: the epoch whose weights were kept (0: not used)
  std::vector<xtgrad::Coverage> coverage;
  // tensor_penalties[e][i]: the penalty on parameter i (coverage order) at the end of epoch e,
  // i.e. with the weights the epoch ended with; 0 when not penalized or before the penalty's
  // start epoch. (history[e].penalty is the mean over the epoch's batches instead.)
  std::vector<std::vector<double>> tensor_penalties;
  std::vector<xtgrad::SparsityRow> sparsity;
  xtgrad::Tensor first_layer_weights;
  // What the final weights are worth beyond accuracy (evaluate_final_model):
  std::uint64_t seed = 0;          // the seed of the subset, weights and order (--seed, or one of --seeds)
  double ece = 0;                  // expected calibration error on the test set, 15 bins
  double test_nll = 0;             // mean −log p(label) on the test set
  std::vector<xtgrad::nn::CalibrationBin> calibration;  // the reliability diagram's 15 bins
  double hessian_top_eigenvalue = 0;  // of the data loss on the fixed sharpness batch (power iteration)
  std::size_t hessian_iterations = 0;
  double hessian_residual = 0;     // ‖Hv − λv‖ of the last iterate (its distance from an eigenpair)
  std::vector<xtgrad::nn::WeightStats> weights;  // norms, exact zeros and dead units per tensor
  // --prune: the model without its dead units, its accuracy and timing.
  std::shared_ptr<const PruneSummary> pruned;
};

// The sharpness measurement: 20 power iterations on the cross-entropy's Hessian at the final
// weights (penalty excluded: L2's ½λΣw² would add λ·I on the penalized weights), over the first
// 1,000 images of the training subset (a random draw, fixed by the seed), in evaluation mode.
inline constexpr std::size_t sharpness_batch = 1000;
inline constexpr std::size_t sharpness_iterations = 20;
inline constexpr std::size_t calibration_bin_count = 15;
// Fills the RunResult's fields above from the trained `model` (its mode is restored after).
void evaluate_final_model(xtgrad::nn::Module& model, const PreparedData& data, std::uint64_t seed,
                          RunResult& result);
// Σ dead units over the hidden layers: every tensor with units except the last (the classes).
std::size_t hidden_dead_units(const std::vector<xtgrad::nn::WeightStats>& weights);
// √Σ‖W‖² over the tensors with units (the weights, not the biases).
double weight_norm(const std::vector<xtgrad::nn::WeightStats>& weights);

// Trains one model with `methods` and reports every epoch on `log` (nothing when quiet).
// Every run of one invocation starts from the same initial weights and batch order.
// `control`: its checkpoints, --resume and the stop flag (checkpointing.hpp).
// The model `config.model` names, drawing its weights from `rng`.
std::unique_ptr<AppNet> make_model(const Config& config, std::size_t inputs, std::size_t classes, xtgrad::Rng& rng,
                                   double dropout = 0, double noise = 0, bool input_leaf = false);

RunResult run_experiment(const PreparedData& data, const Config& config, const Methods& methods,
                         std::ostream& log, const RunControl& control = {});

}  // namespace mnist_app
