#include "xtgrad/io/npz.hpp"
#include "xtgrad/io/atomic_file.hpp"
#include "xtgrad/io/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/xt.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npz: .npy data is read as little-endian");

namespace xtgrad {
namespace nn {

namespace {

// Largest uncompressed entry read_npz accepts (2 GiB), checked before allocating it.
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{1} << 31;
// Deflate cannot expand input by more than about 1032:1.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;

const char kNpyMagic[] = "\x93NUMPY";

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw DataError(where + ": " + what);
}

std::uint16_t rd16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t rd32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
std::uint64_t rd64(const std::uint8_t* p) { return rd32(p) | (std::uint64_t{rd32(p + 4)} << 32); }

void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, static_cast<std::uint16_t>(v & 0xffff));
  put16(s, static_cast<std::uint16_t>(v >> 16));
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

// Product of the shape times itemsize; false when it overflows 64 bits.
bool checked_bytes(const std::vector<std::size_t>& shape, std::size_t itemsize, std::uint64_t& out) {
  std::uint64_t n = itemsize;
  for (std::size_t d : shape) {
    if (d != 0 && n > UINT64_MAX / d) return false;
    n *= d;
  }
  out = n;
  return true;
}

// ---- .npy header: a Python dict literal -------------------------------------------------

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  void parse(NpyArray& out, bool& fortran) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string("a key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) bad("duplicate key 'descr'");
        if (peek() != '\'' && peek() != '"') bad("'descr' is not a string (structured dtypes are not supported)");
        out.dtype = parse_string("'descr'");
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) bad("duplicate key 'fortran_order'");
        fortran = parse_bool();
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) bad("duplicate key 'shape'");
        out.shape = parse_shape();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') bad("expected ',' or '}' at offset " + std::to_string(i_));
    }
    ++i_;
    skip_ws();
    if (i_ != s_.size()) bad("unexpected text after the dict at offset " + std::to_string(i_));
    if (!have_descr || !have_fortran || !have_shape) {
      bad("the header lacks " + std::string(!have_descr ? "'descr'" : !have_fortran ? "'fortran_order'" : "'shape'"));
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail(where_, "bad .npy header: " + what); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string parse_string(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') bad(std::string("expected a quoted string for ") + what);
    const std::size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') bad("escapes in strings are not supported");
      ++i_;
    }
    if (i_ >= s_.size()) bad("unterminated string");
    return s_.substr(start, i_++ - start);
  }
  bool parse_bool() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    bad("'fortran_order' is neither True nor False");
  }
  std::vector<std::size_t> parse_shape() {
    std::vector<std::size_t> shape;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') bad("'shape' holds something other than non-negative integers");
      std::uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        const auto digit = static_cast<std::uint64_t>(peek() - '0');
        if (v > (UINT64_MAX - digit) / 10) bad("a 'shape' entry overflows");
        v = v * 10 + digit;
        ++i_;
      }
      if (peek() == 'L') ++i_;  // Python 2 longs
      shape.push_back(static_cast<std::size_t>(v));
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != ')') bad("expected ',' or ')' in 'shape'");
    }
    ++i_;
    return shape;
  }

  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

NpyArray parse_npy(const std::uint8_t* p, std::size_t n, const std::string& where) {
  if (n < 10 || std::memcmp(p, kNpyMagic, 6) != 0) fail(where, "not a .npy array (bad magic)");
  const unsigned major = p[6], minor = p[7];
  std::size_t start = 0, header_len = 0;
  if (major == 1) {
    header_len = rd16(p + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) fail(where, "truncated .npy header");
    header_len = rd32(p + 8);
    start = 12;
  } else {
    fail(where, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > n - start) {
    fail(where, ".npy header of " + std::to_string(header_len) + " bytes runs past the entry's " +
                    std::to_string(n) + " bytes");
  }
  const std::string text(reinterpret_cast<const char*>(p + start), header_len);
  NpyArray out;
  bool fortran = false;
  HeaderParser(text, where).parse(out, fortran);
  const std::size_t itemsize = npy_itemsize(out.dtype);
  if (itemsize == 0) {
    fail(where, "dtype '" + out.dtype + "' is not supported (supported: |u1 <i4 <i8 <f4 <f8)");
  }
  if (fortran) fail(where, "array is in Fortran order, which is not supported (save it C-contiguous)");
  const std::size_t data_off = start + header_len;
  std::uint64_t need = 0;
  if (!checked_bytes(out.shape, itemsize, need) || need != n - data_off) {
    fail(where, "shape " + shape_text(out.shape) + " of dtype " + out.dtype + " needs " +
                    (need ? std::to_string(need) : std::string("too many")) + " bytes but the entry holds " +
                    std::to_string(n - data_off));
  }
  out.bytes.assign(p + data_off, p + n);
  return out;
}

// ---- zip reading ------------------------------------------------------------------------

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

void inflate_raw(const std::uint8_t* in, std::size_t in_n, std::vector<std::uint8_t>& out,
                 const std::string& where) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) fail(where, "zlib inflateInit2 failed");
  InflateGuard guard{&zs};
  std::uint8_t dummy = 0;
  zs.next_in = const_cast<Bytef*>(in);
  zs.avail_in = static_cast<uInt>(in_n);
  zs.next_out = out.empty() ? &dummy : out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int ret = inflate(&zs, Z_FINISH);
  if (ret == Z_STREAM_END) {
    if (zs.total_out != out.size()) {
      fail(where, "inflates to " + std::to_string(zs.total_out) + " bytes, but the directory declares " +
                      std::to_string(out.size()));
    }
    return;
  }
  if (ret == Z_DATA_ERROR) fail(where, std::string("corrupt deflate data (zlib: ") + (zs.msg ? zs.msg : "?") + ")");
  if (ret == Z_MEM_ERROR) throw std::bad_alloc();
  if (zs.avail_out == 0) {
    fail(where, "inflates to more than the " + std::to_string(out.size()) + " bytes the directory declares");
  }
  fail(where, "deflate data is truncated");
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  check_regular_file(path, "an .npz file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot get the file size: " + ec.message());
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) fail(path, "read error (was the file changed while reading?)");
  return bytes;
}

struct Directory {
  std::uint64_t entries = 0, offset = 0, size = 0, end = 0;  // end: where the directory must stop
};

Directory find_directory(const std::vector<std::uint8_t>& f, const std::string& path) {
  const std::size_t n = f.size();
  if (n >= 6 && std::memcmp(f.data(), kNpyMagic, 6) == 0) fail(path, "is a .npy file, not an .npz (zip) archive");
  const std::string not_zip = "not a zip archive, or truncated: no end-of-central-directory record";
  if (n < 22) fail(path, not_zip + " (the file has " + std::to_string(n) + " bytes)");
  std::size_t eocd = n - 22;
  const std::size_t lowest = n - 22 > 0xffff ? n - 22 - 0xffff : 0;
  while (rd32(&f[eocd]) != kEndSig || eocd + 22 + rd16(&f[eocd + 20]) != n) {
    if (eocd == lowest) fail(path, not_zip);
    --eocd;
  }
  const std::uint8_t* e = &f[eocd];
  if (rd16(e + 4) != 0 || rd16(e + 6) != 0) fail(path, "multi-disk zip archives are not supported");
  Directory d{rd16(e + 10), rd32(e + 16), rd32(e + 12), eocd};
  if (d.entries == 0xffff || d.offset == 0xffffffff || d.size == 0xffffffff) {
    if (eocd < 20 || rd32(&f[eocd - 20]) != kZip64LocatorSig) fail(path, "zip64 locator missing");
    const std::uint64_t z = rd64(&f[eocd - 20 + 8]);
    if (z > eocd - 20 || eocd - 20 - z < 56 || rd32(&f[z]) != kZip64EndSig) {
      fail(path, "corrupt zip64 end-of-central-directory record");
    }
    d = Directory{rd64(&f[z + 32]), rd64(&f[z + 48]), rd64(&f[z + 40]), z};
  }
  if (d.offset > d.end || d.size > d.end - d.offset) {
    fail(path, "corrupt or truncated: the central directory (offset " + std::to_string(d.offset) + ", " +
                   std::to_string(d.size) + " bytes) does not fit before its end record at " +
                   std::to_string(d.end));
  }
  return d;
}

}  // namespace

std::size_t npy_itemsize(const std::string& dtype) {
  if (dtype == "|u1") return 1;
  if (dtype == "<i4" || dtype == "<f4") return 4;
  if (dtype == "<i8" || dtype == "<f8") return 8;
  return 0;
}

std::vector<std::uint8_t> read_npz_bytes(const std::string& path) { return read_file(path); }

std::map<std::string, NpyArray> read_npz(const std::string& path) { return parse_npz(read_file(path), path); }

std::map<std::string, NpyArray> parse_npz(const std::vector<std::uint8_t>& f, const std::string& path) {
  const Directory dir = find_directory(f, path);
  std::map<std::string, NpyArray> arrays;
  std::uint64_t pos = dir.offset;
  const std::uint64_t cd_end = dir.offset + dir.size;
  for (std::uint64_t i = 0; i < dir.entries; ++i) {
    const std::string entry_no = "central directory entry " + std::to_string(i);
    if (cd_end - pos < 46 || rd32(&f[pos]) != kCentralSig) fail(path, "corrupt " + entry_no);
    const std::uint8_t* c = &f[pos];
    const std::uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    const std::uint32_t crc = rd32(c + 16);
    std::uint64_t comp = rd32(c + 20), uncomp = rd32(c + 24), local = rd32(c + 42);
    const std::size_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
    if (cd_end - pos - 46 < name_len + extra_len + comment_len) fail(path, "corrupt " + entry_no);
    const std::string name(reinterpret_cast<const char*>(c + 46), name_len);
    const std::string where = path + ": entry '" + name + "'";
    // zip64 extra field: the 64-bit values of the fields that hold 0xffffffff, in this order.
    for (const std::uint8_t* x = c + 46 + name_len; x + 4 <= c + 46 + name_len + extra_len;) {
      const std::uint16_t id = rd16(x), len = rd16(x + 2);
      const std::uint8_t* v = x + 4;
      const std::uint8_t* v_end = std::min(v + len, c + 46 + name_len + extra_len);
      if (id == 0x0001) {
        for (std::uint64_t* field : {&uncomp, &comp, &local}) {
          if (*field != 0xffffffff) continue;
          if (v_end - v < 8) fail(where, "corrupt zip64 extra field");
          *field = rd64(v);
          v += 8;
        }
      }
      x += 4 + len;
    }
    pos += 46 + name_len + extra_len + comment_len;

    if (flags & 1) fail(where, "is encrypted");
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) fail(where, "is not a .npy array");
    const std::string key = name.substr(0, name.size() - 4);
    if (arrays.count(key)) fail(where, "appears twice");
    if (method != 0 && method != 8) {
      fail(where, "uses compression method " + std::to_string(method) + " (only 0 stored and 8 deflate are supported)");
    }
    if (uncomp > kMaxEntryBytes) {
      fail(where, "declares " + std::to_string(uncomp) + " uncompressed bytes, above the " +
                      std::to_string(kMaxEntryBytes) + "-byte limit");
    }
    if (method == 0 && comp != uncomp) {
      fail(where, "is stored but declares " + std::to_string(comp) + " compressed and " +
                      std::to_string(uncomp) + " uncompressed bytes");
    }
    if (method == 8 && uncomp > comp * kMaxDeflateRatio + 64) {
      fail(where, "declares " + std::to_string(uncomp) + " bytes from " + std::to_string(comp) +
                      " deflated bytes, more than deflate can produce");
    }
    if (local > dir.offset || dir.offset - local < 30 || rd32(&f[local]) != kLocalSig) {
      fail(where, "corrupt or truncated: no local header at offset " + std::to_string(local));
    }
    const std::uint64_t data = local + 30 + rd16(&f[local + 26]) + rd16(&f[local + 28]);
    if (data > dir.offset || comp > dir.offset - data) {
      fail(where, "corrupt or truncated: its " + std::to_string(comp) + " bytes at offset " +
                      std::to_string(data) + " run past the central directory at " + std::to_string(dir.offset));
    }

    std::vector<std::uint8_t> inflated;
    const std::uint8_t* body = &f[data];
    if (method == 8) {
      inflated.resize(static_cast<std::size_t>(uncomp));
      inflate_raw(body, static_cast<std::size_t>(comp), inflated, where);
      body = inflated.data();
    }
    const auto actual = static_cast<std::uint32_t>(crc32(0L, body, static_cast<uInt>(uncomp)));
    if (actual != crc) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "CRC-32 mismatch: computed %08x, the directory says %08x", actual, crc);
      fail(where, buf);
    }
    arrays.emplace(key, parse_npy(body, static_cast<std::size_t>(uncomp), where));
  }
  return arrays;
}

// ---- writing ----------------------------------------------------------------------------

namespace {

std::string npy_header(const NpyArray& a) {
  std::string dict = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) dict += std::to_string(a.shape[i]) + ", ";
  if (a.shape.size() > 1) dict.resize(dict.size() - 2);
  if (a.shape.size() == 1) dict.pop_back();  // "(3,)"
  dict += "), }";
  // numpy pads with spaces and a newline so the data starts at a multiple of 64.
  const auto padded = [&](std::size_t prefix) { return (prefix + dict.size() + 1 + 63) / 64 * 64; };
  const bool v2 = padded(10) - 10 > 0xffff;  // version 1 stores the header length in 16 bits
  const std::size_t prefix = v2 ? 12 : 10;
  const std::size_t total = padded(prefix);
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string h(kNpyMagic, 6);
  h.push_back(static_cast<char>(v2 ? 2 : 1));
  h.push_back(0);
  if (v2) {
    put32(h, static_cast<std::uint32_t>(dict.size()));
  } else {
    put16(h, static_cast<std::uint16_t>(dict.size()));
  }
  return h + dict;
}
}  // namespace

void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays) {
  if (path.empty()) throw std::invalid_argument("write_npz: empty path");
  if (arrays.size() >= 0xffff) {
    throw std::invalid_argument("write_npz: " + std::to_string(arrays.size()) + " arrays (at most 65534)");
  }
  struct Entry {
    std::string name, header;
    const NpyArray* array;
    std::uint32_t crc, size, offset;
  };
  std::vector<Entry> entries;
  std::uint64_t offset = 0;
  for (const auto& [key, a] : arrays) {
    if (key.empty() || key.find('\0') != std::string::npos) {
      throw std::invalid_argument("write_npz: " + path + ": invalid array name '" + key + "'");
    }
    const std::size_t itemsize = npy_itemsize(a.dtype);
    if (itemsize == 0) {
      throw std::invalid_argument("write_npz: " + path + ": array '" + key + "' has unsupported dtype '" +
                                  a.dtype + "'");
    }
    std::uint64_t need = 0;
    if (!checked_bytes(a.shape, itemsize, need) || need != a.bytes.size()) {
      throw std::invalid_argument("write_npz: " + path + ": array '" + key + "' of shape " +
                                  shape_text(a.shape) + " and dtype " + a.dtype + " holds " +
                                  std::to_string(a.bytes.size()) + " bytes, expected " + std::to_string(need));
    }
    Entry e{key + ".npy", npy_header(a), &a, 0, 0, static_cast<std::uint32_t>(offset)};
    const std::uint64_t size = e.header.size() + a.bytes.size();
    if (e.name.size() > 0xffff) throw std::invalid_argument("write_npz: array name too long: '" + key + "'");
    offset += 30 + e.name.size() + size;
    if (offset > 0xfffffff0u) {
      throw std::invalid_argument("write_npz: " + path + ": the arrays exceed 4 GiB (zip64 is not supported)");
    }
    uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(e.header.data()), static_cast<uInt>(e.header.size()));
    // (zlib's crc32 restarts at 0 when given a null buffer, as an empty vector may have.)
    if (!a.bytes.empty()) crc = crc32(crc, a.bytes.data(), static_cast<uInt>(a.bytes.size()));
    e.crc = static_cast<std::uint32_t>(crc);
    e.size = static_cast<std::uint32_t>(size);
    entries.push_back(std::move(e));
  }

  io::AtomicFile out(path);
  std::string directory;
  for (const Entry& e : entries) {
    // Fields shared by the local header and the directory record: version 2.0, no flags,
    // stored, DOS date 1980-01-01 (fixed, so equal arrays give equal files), CRC, sizes.
    std::string common;
    put16(common, 20);
    put16(common, 0);
    put16(common, 0);
    put16(common, 0);
    put16(common, 0x21);
    put32(common, e.crc);
    put32(common, e.size);
    put32(common, e.size);
    put16(common, static_cast<std::uint16_t>(e.name.size()));
    put16(common, 0);

    std::string local;
    put32(local, kLocalSig);
    local += common + e.name + e.header;
    out.write(local.data(), local.size());
    out.write(e.array->bytes.data(), e.array->bytes.size());

    put32(directory, kCentralSig);
    put16(directory, 20);  // made by: version 2.0
    directory += common;
    put16(directory, 0);  // comment length
    put16(directory, 0);  // disk
    put16(directory, 0);  // internal attributes
    put32(directory, 0);  // external attributes
    put32(directory, e.offset);
    directory += e.name;
  }
  std::string end;
  put32(end, kEndSig);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<std::uint16_t>(entries.size()));
  put16(end, static_cast<std::uint16_t>(entries.size()));
  put32(end, static_cast<std::uint32_t>(directory.size()));
  put32(end, static_cast<std::uint32_t>(offset));
  put16(end, 0);
  directory += end;
  out.write(directory.data(), directory.size());
  out.commit();
}

template <class Scalar>
NpyArray to_npy(const TensorOf<Scalar>& t) {
  NpyArray a;
  a.shape.assign(t.shape().begin(), t.shape().end());
  a.dtype = sizeof(Scalar) == 8 ? "<f8" : "<f4";
  const auto* p = reinterpret_cast<const std::uint8_t*>(t.data());
  a.bytes.assign(p, p + t.size() * sizeof(Scalar));
  return a;
}

namespace {
template <typename T, class Scalar>
void convert(const NpyArray& a, TensorOf<Scalar>& t) {
  const std::uint8_t* p = a.bytes.data();
  for (Scalar& x : t) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    x = static_cast<Scalar>(v);
    p += sizeof(T);
  }
}
}  // namespace

template <class Scalar>
TensorOf<Scalar> from_npy(const NpyArray& a, const std::string& context) {
  const std::size_t itemsize = npy_itemsize(a.dtype);
  if (itemsize == 0) {
    fail(context, "dtype '" + a.dtype + "' is not supported (supported: |u1 <i4 <i8 <f4 <f8)");
  }
  std::uint64_t need = 0;
  if (!checked_bytes(a.shape, itemsize, need) || need != a.bytes.size()) {
    fail(context, "shape " + shape_text(a.shape) + " of dtype " + a.dtype + " does not match its " +
                      std::to_string(a.bytes.size()) + " bytes");
  }
  TensorOf<Scalar> t = TensorOf<Scalar>::from_shape(a.shape);
  if (a.dtype == "|u1") convert<std::uint8_t>(a, t);
  else if (a.dtype == "<i4") convert<std::int32_t>(a, t);
  else if (a.dtype == "<i8") convert<std::int64_t>(a, t);
  else if (a.dtype == "<f4") convert<float>(a, t);
  else convert<double>(a, t);
  return t;
}

template NpyArray to_npy(const TensorOf<float>&);
template NpyArray to_npy(const TensorOf<double>&);
template TensorOf<float> from_npy<float>(const NpyArray&, const std::string&);
template TensorOf<double> from_npy<double>(const NpyArray&, const std::string&);

}  // namespace nn
}  // namespace xtgrad
