// Fixture files for the data-format tests (IDX, npz, MNIST, saved parameters): a temporary
// folder, raw and gzip writers, IDX headers and files, npy arrays from typed values.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/io/npz.hpp"

namespace xtgrad_test {

using Bytes = std::vector<std::uint8_t>;

// A fresh folder `<prefix>_XXXXXX` under the system's temporary directory, removed (with
// everything in it) when this goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "xtgrad_test") {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
    path_ = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// IDX header: 00 00 type rank, then big-endian dims.
inline Bytes idx_header(const std::vector<std::uint32_t>& dims, std::uint8_t type = 0x08) {
  Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  return b;
}

inline Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile g = gzopen(path.c_str(), "wb9");
  ASSERT_NE(g, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(g), Z_OK);
}

inline Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// An IDX file of unsigned bytes: the header for `dims`, then `data`; gzip-compressed if `gz`.
inline void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims, const Bytes& data,
                      bool gz = false) {
  const Bytes b = concat(idx_header(dims), data);
  if (gz) {
    write_gz(path, b);
  } else {
    write_raw(path, b);
  }
}

// An npy array of `shape` and `dtype` holding `values` as their native bytes.
template <typename T>
xtgrad::nn::NpyArray make_array(std::vector<std::size_t> shape, const std::string& dtype,
                                const std::vector<T>& values) {
  xtgrad::nn::NpyArray a{std::move(shape), dtype, Bytes(values.size() * sizeof(T))};
  if (!values.empty()) std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

// `text` contains every one of `words`.
inline void expect_has(const std::string& text, const std::vector<std::string>& words) {
  for (const std::string& w : words) EXPECT_NE(text.find(w), std::string::npos) << "'" << w << "' not in: " << text;
}

}  // namespace xtgrad_test
