// Shared by the file-reading fuzzers: the input goes to a per-process file in /dev/shm (or
// $TMPDIR), since read_idx and read_npz take paths.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace xtgrad_fuzz {

inline std::string scratch_path(const char* tag) {
  std::string dir = "/dev/shm";
  if (::access(dir.c_str(), W_OK) != 0) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  return dir + "/xtgrad-fuzz-" + tag + "-" + std::to_string(::getpid());
}

// Writes the bytes to `path` (replacing it); aborts on I/O failure, which is not a finding
// in the code under test but would make every later iteration meaningless.
inline void write_input(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::abort();
  }
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
}

// Removes the scratch files at exit.
struct ScratchCleanup {
  std::string path;
  ~ScratchCleanup() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path + ".tmp", ec);
  }
};

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what);
  std::abort();
}

}  // namespace xtgrad_fuzz
