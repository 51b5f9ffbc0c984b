// Sizes from the command line, checked before they are used: overflow is a usage error naming
// the flag; a run larger than the memory the process may have is refused before it starts.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "experiment.hpp"

namespace mnist_app {

// The largest values the flags accept: beyond them a run could never finish.
constexpr std::uint64_t max_epochs = 1000000;       // --epochs
constexpr std::uint64_t max_count = 1000000000;     // --train-size, --batch-size, --hidden

// The bytes a run of `config` needs at most at once, as a sum of named parts, for `inputs`
// features and `classes` classes (784 and 10 for MNIST): the training subset and the test set
// (`test_rows`), the model with its gradients, and one batch's activations (--model lenet:
// every layer's output, the pools' argmax and the convolutions' im2col columns, and their
// gradients: lenet_sample_sizes). Throws
// std::invalid_argument naming the flag whose value makes the sum overflow 64 bits.
struct MemoryNeed {
  std::uint64_t data = 0, model = 0, activations = 0;
  std::uint64_t total() const { return data + model + activations; }
};
// One sample of nn::lenet5 on (1, 28, 28) with `classes` outputs (nn/models.hpp), counted in
// Scalars: its parameters, the values its training forward keeps (input, every layer's output,
// the max-pools' argmax), the largest single layer output, and its two convolutions' im2col
// columns K·L. Read from nn::summarize on one sample, so they follow the model; that forward
// makes OpenBLAS take its work buffer, under a BlasWatchdog (exit 6 if it cannot).
struct LeNetSampleSizes {
  std::uint64_t parameters = 0, values = 0, largest = 0;
  std::array<std::uint64_t, 2> cols{};
};
LeNetSampleSizes lenet_sample_sizes(std::uint64_t classes);

// The model part counts parameter_copies(config, sam) copies of the parameters; `sam`: some
// run of the invocation has sam(rho=R).
MemoryNeed memory_need(const Config& config, std::uint64_t inputs, std::uint64_t classes, std::uint64_t test_rows,
                       bool sam = false);
// Parameter-sized arrays a run keeps: value, gradient and a spare (SGD's momentum, the
// checkpoint's copy) for every run; Adam and AdamW's two moments (--optimizer adam|adamw) on top;
// and with sam, the weights SAM saves before its ascent step.
std::uint64_t parameter_copies(const Config& config, bool sam);

// The bytes this process may still allocate: the address-space limit (ulimit -v) less what is
// mapped now, or RAM + swap when there is no limit; 0 when unknown.
std::uint64_t memory_available();
// Whether an address-space limit (ulimit -v) is set.
bool memory_limited();

// While alive, a SIGALRM after `seconds` prints that OpenBLAS could not get its work buffer
// and ends the process with exit 6 (its allocation retries never return).
class BlasWatchdog {
 public:
  explicit BlasWatchdog(unsigned seconds);
  ~BlasWatchdog();
  BlasWatchdog(const BlasWatchdog&) = delete;
  BlasWatchdog& operator=(const BlasWatchdog&) = delete;
};

// "1.50 GB", "12.0 MB", "900 bytes".
std::string format_bytes(std::uint64_t bytes);

// The flag that dominates a memory need: "--hidden 4000", "--train-size 60000" or
// "--batch-size 60000 with --model lenet".
std::string largest_part(const Config& config, const MemoryNeed& need);

}  // namespace mnist_app
