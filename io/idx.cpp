#include "xtgrad/io/idx.hpp"

#include <sys/stat.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "xtgrad/core/errors.hpp"

namespace xtgrad {
namespace nn {

namespace {

// Gzip bodies grow in steps of this size, so a stream that ends early never costs the
// declared size in memory.
constexpr std::size_t kGzChunk = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct GzCloser {
  void operator()(gzFile_s* g) const { gzclose(g); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

std::string dims_str(const std::vector<std::size_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

// Reads up to n bytes; fewer only at the end of the (decompressed) stream. Throws on I/O or
// zlib errors.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t read(std::uint8_t* out, std::size_t n) = 0;
};

class RawSource : public Source {
 public:
  RawSource(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  std::size_t read(std::uint8_t* out, std::size_t n) override {
    const std::size_t got = std::fread(out, 1, n, f_);
    if (got < n && std::ferror(f_)) fail(path_, std::string("read error: ") + std::strerror(errno));
    return got;
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

class GzSource : public Source {
 public:
  GzSource(gzFile g, const std::string& path) : g_(g), path_(path) {}
  std::size_t read(std::uint8_t* out, std::size_t n) override {
    std::size_t total = 0;
    while (total < n) {
      const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
      const int got = gzread(g_, out + total, want);
      if (got < 0) fail(path_, "corrupt gzip stream (zlib: " + error_text() + ")");
      total += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < want) {
        int err = Z_OK;
        gzerror(g_, &err);
        if (err == Z_BUF_ERROR) {
          fail(path_, "truncated gzip stream: it ends after " + std::to_string(gztell(g_)) +
                          " decompressed bytes, without its end marker");
        }
        if (err != Z_OK) fail(path_, "corrupt gzip stream (zlib: " + error_text() + ")");
        break;
      }
    }
    return total;
  }

 private:
  std::string error_text() const {
    int err = Z_OK;
    const char* msg = gzerror(g_, &err);
    return msg && *msg ? msg : "error " + std::to_string(err);
  }
  gzFile g_;
  const std::string& path_;
};

struct Header {
  std::vector<std::size_t> dims;
  std::size_t header_bytes = 0;
  std::uint64_t body_bytes = 0;
};

Header read_header(Source& src, const std::string& path) {
  std::uint8_t magic[4];
  const std::size_t got = src.read(magic, 4);
  if (got < 4) {
    fail(path, "truncated header: the file ends after " + std::to_string(got) +
                   " bytes, an IDX header needs at least 4");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02x %02x %02x %02x", magic[0], magic[1], magic[2], magic[3]);
    fail(path, std::string("not an IDX file: magic bytes ") + buf + ", expected 00 00 08 NN");
  }
  if (magic[2] != 0x08) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", magic[2]);
    fail(path, std::string("IDX type code ") + buf + " is not supported (only 0x08, unsigned byte)");
  }
  const std::size_t rank = magic[3];
  if (rank < 1 || rank > 4) fail(path, "IDX rank " + std::to_string(rank) + " is not in 1..4");

  Header h;
  h.header_bytes = 4 + 4 * rank;
  std::uint8_t raw[16];
  const std::size_t got_dims = src.read(raw, 4 * rank);
  if (got_dims < 4 * rank) {
    fail(path, "truncated header: rank " + std::to_string(rank) + " needs " +
                   std::to_string(h.header_bytes) + " header bytes but the file ends after " +
                   std::to_string(4 + got_dims));
  }
  h.body_bytes = 1;
  bool too_big = false;
  for (std::size_t k = 0; k < rank; ++k) {
    const std::uint32_t d = (std::uint32_t{raw[4 * k]} << 24) | (std::uint32_t{raw[4 * k + 1]} << 16) |
                            (std::uint32_t{raw[4 * k + 2]} << 8) | std::uint32_t{raw[4 * k + 3]};
    h.dims.push_back(d);
    if (d == 0) fail(path, "dimension " + std::to_string(k) + " is 0 (dims " + dims_str(h.dims) + ")");
    // body_bytes <= 2^31 and d < 2^32 before this product, so it cannot overflow.
    if (!too_big) h.body_bytes *= d;
    if (h.body_bytes > kMaxIdxBytes) too_big = true;
  }
  if (too_big) {
    fail(path, "declares dims " + dims_str(h.dims) + ", more than the " + std::to_string(kMaxIdxBytes) +
                   "-byte limit");
  }
  return h;
}

std::string declared(const Header& h) {
  return dims_str(h.dims) + " (" + std::to_string(h.body_bytes) + " bytes)";
}

IdxArray read_raw(std::FILE* f, const std::string& path) {
  RawSource src(f, path);
  Header h = read_header(src, path);
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot get the file size: " + ec.message());
  const std::uintmax_t body = size - h.header_bytes;
  if (body < h.body_bytes) {
    fail(path, "declares " + declared(h) + " but holds " + std::to_string(body) + " bytes after its " +
                   std::to_string(h.header_bytes) + "-byte header");
  }
  if (body > h.body_bytes) {
    fail(path, "has " + std::to_string(body - h.body_bytes) + " trailing bytes after the declared " +
                   declared(h));
  }
  IdxArray out;
  out.dims = std::move(h.dims);
  out.data.resize(static_cast<std::size_t>(h.body_bytes));
  const std::size_t got = src.read(out.data.data(), out.data.size());
  if (got != out.data.size()) {
    fail(path, "read " + std::to_string(got) + " of " + std::to_string(out.data.size()) +
                   " body bytes (was the file changed while reading?)");
  }
  return out;
}

IdxArray read_gz(const std::string& path) {
  GzPtr g(gzopen(path.c_str(), "rb"));
  if (!g) fail(path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(g.get(), 1u << 17);
  GzSource src(g.get(), path);
  Header h = read_header(src, path);
  IdxArray out;
  const auto total = static_cast<std::size_t>(h.body_bytes);
  // Grow by chunks with exact reserves: never more than what arrived plus one chunk, and
  // never more than the declared size.
  while (out.data.size() < total) {
    const std::size_t have = out.data.size();
    const std::size_t next = std::min(total, have + std::max(kGzChunk, have));
    out.data.reserve(next);
    out.data.resize(next);
    const std::size_t got = src.read(out.data.data() + have, next - have);
    if (got < next - have) {
      fail(path, "declares " + declared(h) + " but its gzip stream holds " + std::to_string(have + got) +
                     " bytes after the " + std::to_string(h.header_bytes) + "-byte header");
    }
  }
  std::uint8_t extra = 0;
  if (src.read(&extra, 1) != 0) {
    fail(path, "has trailing bytes after the declared " + declared(h) + " (gzip stream is longer)");
  }
  out.dims = std::move(h.dims);
  return out;
}

}  // namespace

void check_regular_file(const std::string& path, const std::string& expected) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ELOOP) fail(path, "cannot open: a symlink loop (too many levels of symbolic links)");
    if (err == ENOENT) fail(path, "cannot open: no such file");
    fail(path, std::string("cannot open: ") + std::strerror(err));
  }
  if (S_ISREG(st.st_mode)) return;
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                  : "not a regular file";
  fail(path, std::string("is ") + kind + ", expected " + expected + " (a regular file)");
}

IdxArray read_idx(const std::string& path) {
  check_regular_file(path, "an IDX file");

  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::uint8_t magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, f.get());
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    f.reset();
    return read_gz(path);
  }
  std::rewind(f.get());
  return read_raw(f.get(), path);
}

}  // namespace nn
}  // namespace xtgrad
