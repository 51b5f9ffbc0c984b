// Reader for IDX files of unsigned bytes (the MNIST format), raw or gzip-compressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
namespace nn {

// Largest body read_idx accepts, in bytes (2 GiB); a larger declared size is rejected
// before anything is allocated.
inline constexpr std::uint64_t kMaxIdxBytes = std::uint64_t{1} << 31;

// An IDX array: its dimensions (outermost first) and its bytes, row-major.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads an IDX file of type 0x08 (unsigned byte), rank 1..4; gzip is detected by its magic
// bytes, not the name. The file must hold exactly the declared bytes; anything else throws
// DataError naming the file.
IdxArray read_idx(const std::string& path);

// Throws DataError naming `path` unless it is (or links to) a regular file, checked before it is
// opened: a missing file, a symlink loop, a folder, a FIFO (which would block a reader forever),
// a socket or a device each get their own words. `expected`: what it should be, "an IDX file".
void check_regular_file(const std::string& path, const std::string& expected);

}  // namespace nn
}  // namespace xtgrad
