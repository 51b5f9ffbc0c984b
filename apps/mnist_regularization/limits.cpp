#include "limits.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "xtgrad/nn/conv.hpp"
#include "xtgrad/nn/models.hpp"
#include "xtgrad/nn/summary.hpp"

namespace mnist_app {

namespace {

// a·b + c, or std::invalid_argument naming `flag` on overflow.
std::uint64_t mul_add(std::uint64_t a, std::uint64_t b, std::uint64_t c, const std::string& flag) {
  std::uint64_t product = 0, sum = 0;
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) {
    throw std::invalid_argument(flag + ": too large: the memory it needs overflows 64 bits");
  }
  return sum;
}

// The process's mapped address space now (VmSize of /proc/self/status), 0 when unknown.
std::uint64_t mapped_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmSize:") {
      std::uint64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

// conv2d's im2col works on at most this many elements of columns at a time, unless one sample
// needs more (kColsBudget in ops/conv.cpp); a batch within it keeps its columns for backward.
constexpr std::uint64_t conv_cols_budget = std::uint64_t(1) << 22;

}  // namespace

LeNetSampleSizes lenet_sample_sizes(std::uint64_t classes) {
  namespace nn = xtgrad::nn;
  xtgrad::Rng rng(0);
  nn::Sequential net = nn::lenet5(rng, {classes, {}});
  std::vector<nn::LayerSummary> rows;
  {
    const BlasWatchdog watchdog(30);  // the first matrix product takes OpenBLAS's work buffer
    rows = nn::summarize(net, {1, 1, 28, 28});
  }
  LeNetSampleSizes z;
  z.parameters = net.parameter_count();
  z.values = 28 * 28 + nn::total_output_size(rows);  // the input and every layer's output
  std::size_t conv = 0;
  for (const nn::LayerSummary& layer : rows) {
    const std::uint64_t n = layer.output_size();
    if (layer.type == "MaxPool2d") z.values += n;  // a pool also keeps each window's argmax
    z.largest = std::max(z.largest, n);
    if (layer.type == "Conv2d") {
      if (conv == z.cols.size()) throw std::logic_error("lenet_sample_sizes: nn::lenet5 has more than two Conv2d");
      const xtgrad::Tensor& w = net.get<nn::Conv2d>(layer.name).weight.value();  // (out, in, kh, kw)
      z.cols[conv++] = w.size() / w.shape()[0] * (n / w.shape()[0]);            // K·L
    }
  }
  return z;
}

std::uint64_t parameter_copies(const Config& c, bool sam) {
  return 3 + (c.optimizer == "adam" || c.optimizer == "adamw" ? 2 : 0) + (sam ? 1 : 0);
}

MemoryNeed memory_need(const Config& c, std::uint64_t inputs, std::uint64_t classes, std::uint64_t test_rows,
                       bool sam) {
  const std::uint64_t s = sizeof(xtgrad::Scalar);
  const std::uint64_t copies = parameter_copies(c, sam);
  const std::string train = fmt::format("--train-size {}", c.train_size);
  const std::string hidden = fmt::format("--hidden {}", c.hidden);
  const std::string batch = fmt::format("--batch-size {}", c.batch_size);
  MemoryNeed need;
  // Normalized inputs and one-hot targets of the subset and of the test set.
  const std::uint64_t row = mul_add(inputs + classes, s, 0, train);
  need.data = mul_add(mul_add(c.train_size, row, 0, train), 1, mul_add(test_rows, row, 0, train), train);
  if (c.model == "lenet") {
    const LeNetSampleSizes lenet = lenet_sample_sizes(classes);
    const std::string flag = batch + " with --model lenet";
    need.model = mul_add(lenet.parameters, copies * s, 0, flag);
    // Training batch: every value the forward keeps and its gradient, and per convolution the
    // columns forward keeps and backward's dcols, each (K, rows·L) or a chunk of at most
    // conv_cols_budget elements. The evaluation batch (1000 rows, no graph) holds about two
    // layer outputs and one chunk of columns at a time.
    const std::uint64_t train_rows = std::min<std::uint64_t>(c.batch_size, c.train_size);
    const std::uint64_t eval_rows = 1000;
    std::uint64_t in_training = mul_add(train_rows, 2 * lenet.values, 0, flag);
    std::uint64_t in_evaluation = mul_add(eval_rows, 2 * lenet.largest, 0, flag);
    for (const std::uint64_t kl : lenet.cols) {
      const std::uint64_t chunk = std::max(kl, conv_cols_budget);
      in_training = mul_add(std::min(mul_add(train_rows, kl, 0, flag), chunk), 2, in_training, flag);
      in_evaluation = std::max(in_evaluation, mul_add(eval_rows, 2 * lenet.largest, std::min(eval_rows * kl, chunk), flag));
    }
    // The sharpness measurement (sharpness_batch rows): its copy of the rows, and a double
    // backward that keeps every forward value, its gradient and the gradient's graph.
    const std::uint64_t in_sharpness = mul_add(sharpness_batch, mul_add(inputs + classes, 1, 4 * lenet.values, flag), 0, flag);
    need.activations = mul_add(std::max({in_training, in_evaluation, in_sharpness}), s, 0, flag);
    mul_add(need.data + need.model, 1, need.activations, flag);  // the sum itself
    return need;
  }
  // --model mlp: parameters (inputs+1)·hidden + (hidden+1)·classes, `copies` times; one batch
  // (and the 1000-row evaluation batch):
  const std::uint64_t params =
      mul_add(inputs + 1, c.hidden, mul_add(c.hidden + 1, classes, 0, hidden), hidden);
  need.model = mul_add(params, copies * s, 0, hidden);
  // hidden pre-activations, activations and their gradients, 4 arrays of (rows, hidden).
  const std::uint64_t rows = std::max<std::uint64_t>(std::min<std::uint64_t>(c.batch_size, c.train_size), 1000);
  const std::string both = hidden + " with " + batch;
  const std::uint64_t in_training = mul_add(mul_add(rows, c.hidden, 0, both), 4, 0, both);
  // The sharpness measurement (sharpness_batch rows): its copy of the rows and, for the double
  // backward, forward values, their gradients and the gradient's graph, plus 6 parameter-sized
  // vectors of the power iteration. Counting 12 arrays of (rows, hidden) left a run that passed
  // this check out of memory under ulimit -v 360000 (--train-size 20000, one thread); 24 do not.
  const std::uint64_t in_sharpness =
      mul_add(sharpness_batch, mul_add(24, c.hidden, inputs + classes, both), mul_add(params, 6, 0, both), both);
  need.activations = mul_add(std::max(in_training, in_sharpness), s, 0, both);
  mul_add(need.data + need.model, 1, need.activations, hidden);  // the sum itself
  return need;
}

std::uint64_t memory_available() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t used = mapped_bytes();
    return limit.rlim_cur > used ? limit.rlim_cur - used : 0;
  }
  struct sysinfo info {};
  if (::sysinfo(&info) != 0) return 0;
  return (std::uint64_t(info.totalram) + info.totalswap) * info.mem_unit;
}

namespace {

void blas_stuck(int) {
  static const char message[] =
      "mnist_regularization: OpenBLAS could not allocate its 128 MiB work buffer within 30 s (it retries "
      "forever): raise the memory limit (ulimit -v) or lower --threads\n";
  (void)!::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(6);
}

}  // namespace

BlasWatchdog::BlasWatchdog(unsigned seconds) {
  struct sigaction action {};
  action.sa_handler = blas_stuck;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGALRM, &action, nullptr);
  ::alarm(seconds);
}

BlasWatchdog::~BlasWatchdog() {
  ::alarm(0);
  ::signal(SIGALRM, SIG_DFL);
}

bool memory_limited() {
  struct rlimit limit {};
  return ::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GB", double(bytes) / double(1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MB", double(bytes) / double(1ull << 20));
  return fmt::format("{} bytes", bytes);
}

std::string largest_part(const Config& c, const MemoryNeed& need) {
  if (need.data >= need.model && need.data >= need.activations) return fmt::format("--train-size {}", c.train_size);
  if (c.model == "lenet") return fmt::format("--batch-size {} with --model lenet", c.batch_size);  // its model is 61 706 parameters
  if (need.model >= need.activations) return fmt::format("--hidden {}", c.hidden);
  return fmt::format("--hidden {} with --batch-size {}", c.hidden, c.batch_size);
}

}  // namespace mnist_app
