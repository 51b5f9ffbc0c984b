// libFuzzer target: nn::read_npz on arbitrary bytes, then every array through from_npy, and
// the archive written back with write_npz and read again (it must round-trip exactly).
// Expected outcomes: arrays, or xtgrad::DataError from read_npz. Anything else (another
// exception type, a crash, a leak, UB, a failed round trip) is a finding.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_common.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/io/npz.hpp"

using xtgrad::nn::NpyArray;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const xtgrad_fuzz::ScratchCleanup scratch{xtgrad_fuzz::scratch_path("npz")};
  static const xtgrad_fuzz::ScratchCleanup copy{xtgrad_fuzz::scratch_path("npz-copy")};
  xtgrad_fuzz::write_input(scratch.path, data, size);
  std::map<std::string, NpyArray> arrays;
  try {
    arrays = xtgrad::nn::read_npz(scratch.path);
  } catch (const xtgrad::DataError&) {
    return 0;  // rejected with a message: expected
  }

  bool writable = true;
  for (const auto& [key, a] : arrays) {
    const std::size_t itemsize = xtgrad::nn::npy_itemsize(a.dtype);
    if (itemsize == 0) xtgrad_fuzz::finding("read_npz returned an unsupported dtype");
    std::uint64_t n = itemsize;
    for (std::size_t d : a.shape) n *= d;  // read_npz checked this product for overflow
    if (n != a.bytes.size()) xtgrad_fuzz::finding("read_npz returned bytes that do not match shape and dtype");
    // A valid array always converts (DataError here would be a finding too: not caught).
    const xtgrad::TensorOf<float> t = xtgrad::nn::from_npy<float>(a, key);
    if (t.size() * itemsize != a.bytes.size()) xtgrad_fuzz::finding("from_npy changed the element count");
    // write_npz refuses names it cannot store (documented std::invalid_argument); skip those.
    if (key.empty() || key.find('\0') != std::string::npos) writable = false;
  }
  if (!writable) return 0;

  xtgrad::nn::write_npz(copy.path, arrays);
  const std::map<std::string, NpyArray> again = xtgrad::nn::read_npz(copy.path);
  if (again.size() != arrays.size()) xtgrad_fuzz::finding("write_npz/read_npz lost or added arrays");
  for (const auto& [key, a] : arrays) {
    const auto it = again.find(key);
    if (it == again.end() || it->second.shape != a.shape || it->second.dtype != a.dtype ||
        it->second.bytes != a.bytes) {
      xtgrad_fuzz::finding("write_npz/read_npz did not round-trip an array");
    }
  }
  return 0;
}
