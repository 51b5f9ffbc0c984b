// libFuzzer target: nn::read_idx on arbitrary bytes (raw, or gzip when they start 1f 8b).
// Expected outcomes: an IdxArray whose bytes match its dims, or xtgrad::DataError. Anything
// else (another exception type, a crash, a leak, UB, an allocation over -malloc_limit_mb) is
// a finding.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const xtgrad_fuzz::ScratchCleanup scratch{xtgrad_fuzz::scratch_path("idx")};
  xtgrad_fuzz::write_input(scratch.path, data, size);
  try {
    const xtgrad::nn::IdxArray a = xtgrad::nn::read_idx(scratch.path);
    if (a.dims.empty() || a.dims.size() > 4) xtgrad_fuzz::finding("read_idx returned a rank outside 1..4");
    std::uint64_t n = 1;
    for (std::size_t d : a.dims) {
      if (d == 0) xtgrad_fuzz::finding("read_idx returned a zero dimension");
      n *= d;
    }
    if (n != a.data.size()) xtgrad_fuzz::finding("read_idx returned bytes that do not match its dims");
    if (n > xtgrad::nn::kMaxIdxBytes) xtgrad_fuzz::finding("read_idx returned more than kMaxIdxBytes");
  } catch (const xtgrad::DataError&) {
    // rejected with a message: expected
  }
  return 0;
}
