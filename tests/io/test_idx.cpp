#include "xtgrad/io/idx.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixture_files.hpp"
#include "xtgrad/core/errors.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::DataError;
using xtgrad::nn::IdxArray;
using xtgrad::nn::read_idx;
using namespace xtgrad_test;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 37 + 11) % 251);
  return b;
}

// The DataError message read_idx throws for path; a test failure if it throws none.
std::string idx_error(const std::string& path) {
  return message_of<DataError>([&] { read_idx(path); }, "read_idx(" + path + ")");
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(ReadIdx, ReadsRawRank3FileWithDimsAndBytes) {
  TempDir dir;
  const Bytes body = pattern(3 * 4 * 5);
  write_raw(dir.file("images"), concat(idx_header({3, 4, 5}), body));
  const IdxArray a = read_idx(dir.file("images"));
  EXPECT_EQ(a.dims, (std::vector<std::size_t>{3, 4, 5}));
  EXPECT_EQ(a.data, body);
}

TEST(ReadIdx, ReadsRank1AndRank4Files) {
  TempDir dir;
  write_raw(dir.file("labels"), concat(idx_header({7}), pattern(7)));
  EXPECT_EQ(read_idx(dir.file("labels")).dims, (std::vector<std::size_t>{7}));
  write_raw(dir.file("r4"), concat(idx_header({2, 1, 3, 2}), pattern(12)));
  EXPECT_EQ(read_idx(dir.file("r4")).data, pattern(12));
}

TEST(ReadIdx, GzipRoundTripIsDetectedByMagicNotByName) {
  TempDir dir;
  const Bytes body = pattern(2 * 300 * 300);  // several zlib buffers' worth
  const Bytes file = concat(idx_header({2, 300, 300}), body);
  write_gz(dir.file("no-suffix"), file);
  write_gz(dir.file("images.gz"), file);
  write_raw(dir.file("raw-named.gz"), file);
  for (const char* name : {"no-suffix", "images.gz", "raw-named.gz"}) {
    const IdxArray a = read_idx(dir.file(name));
    EXPECT_EQ(a.dims, (std::vector<std::size_t>{2, 300, 300})) << name;
    EXPECT_EQ(a.data, body) << name;
  }
}

TEST(ReadIdx, MissingFileErrorNamesThePath) {
  TempDir dir;
  expect_has(idx_error(dir.file("absent")), {dir.file("absent"), "no such file"});
}

TEST(ReadIdx, RejectsWrongMagic) {
  TempDir dir;
  write_raw(dir.file("f"), concat(Bytes{0x50, 0x4b, 0x03, 0x04}, pattern(20)));
  expect_has(idx_error(dir.file("f")), {dir.file("f"), "not an IDX file", "magic"});
}

TEST(ReadIdx, RejectsTypeCodeOtherThanUnsignedByte) {
  TempDir dir;
  write_raw(dir.file("floats"), concat(idx_header({2}, 0x0d), pattern(8)));
  expect_has(idx_error(dir.file("floats")), {dir.file("floats"), "type code 0x0d"});
}

TEST(ReadIdx, RejectsRankZeroAndRankFive) {
  TempDir dir;
  write_raw(dir.file("r0"), Bytes{0, 0, 8, 0});
  expect_has(idx_error(dir.file("r0")), {dir.file("r0"), "rank 0"});
  write_raw(dir.file("r5"), concat(idx_header({1, 1, 1, 1, 1}), pattern(1)));
  expect_has(idx_error(dir.file("r5")), {dir.file("r5"), "rank 5"});
}

TEST(ReadIdx, RejectsZeroDimension) {
  TempDir dir;
  write_raw(dir.file("f"), idx_header({3, 0, 5}));
  expect_has(idx_error(dir.file("f")), {dir.file("f"), "dimension 1 is 0"});
}

TEST(ReadIdx, RejectsTruncatedHeader) {
  TempDir dir;
  write_raw(dir.file("short-magic"), Bytes{0, 0});
  expect_has(idx_error(dir.file("short-magic")), {dir.file("short-magic"), "truncated header"});
  Bytes header = idx_header({60000, 28, 28});
  header.resize(9);  // magic + 1.25 dims
  write_raw(dir.file("short-dims"), header);
  expect_has(idx_error(dir.file("short-dims")), {dir.file("short-dims"), "truncated header", "needs 16"});
}

TEST(ReadIdx, RejectsTruncatedBodyNamingDeclaredAndActualSizes) {
  TempDir dir;
  write_raw(dir.file("images"), concat(idx_header({60000, 28, 28}), pattern(1000)));
  expect_has(idx_error(dir.file("images")),
             {dir.file("images"), "declares 60000x28x28 (47040000 bytes) but holds 1000 bytes"});
}

TEST(ReadIdx, RejectsTruncatedGzipBody) {
  TempDir dir;
  write_gz(dir.file("images.gz"), concat(idx_header({10, 28, 28}), pattern(100)));
  expect_has(idx_error(dir.file("images.gz")), {dir.file("images.gz"), "declares 10x28x28 (7840 bytes)", "holds 100"});
}

TEST(ReadIdx, RejectsDeclaredSizeAboveLimitWithoutAllocating) {
  TempDir dir;
  // 2^20 x 2^20 = 2^40 bytes declared by a 12-byte file.
  write_raw(dir.file("huge"), idx_header({1u << 20, 1u << 20}));
  expect_has(idx_error(dir.file("huge")), {dir.file("huge"), "1048576x1048576", "2147483648-byte limit"});
  // Every dimension at its maximum: the size product must not overflow.
  write_raw(dir.file("max"), idx_header({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}));
  expect_has(idx_error(dir.file("max")), {dir.file("max"), "limit"});
}

TEST(ReadIdx, ShortFileDeclaringTwoGibibytesFailsWithoutAllocatingThem) {
  TempDir dir;
  const Bytes file = concat(idx_header({2048, 1024, 1024}), pattern(10));  // exactly at the limit
  write_raw(dir.file("raw"), file);
  write_gz(dir.file("gz"), file);
  const long before = max_rss_kib();
  expect_has(idx_error(dir.file("raw")), {dir.file("raw"), "(2147483648 bytes) but holds 10 bytes"});
  expect_has(idx_error(dir.file("gz")), {dir.file("gz"), "(2147483648 bytes) but its gzip stream holds 10 bytes"});
  EXPECT_LT(max_rss_kib() - before, 64 * 1024) << "peak memory grew by more than 64 MiB";
}

TEST(ReadIdx, RejectsTrailingBytesRawAndGzip) {
  TempDir dir;
  const Bytes file = concat(idx_header({2, 3}), pattern(7));
  write_raw(dir.file("raw"), file);
  write_gz(dir.file("gz"), file);
  expect_has(idx_error(dir.file("raw")), {dir.file("raw"), "1 trailing bytes", "2x3 (6 bytes)"});
  expect_has(idx_error(dir.file("gz")), {dir.file("gz"), "trailing bytes", "2x3 (6 bytes)"});
}

TEST(ReadIdx, RejectsCorruptGzip) {
  TempDir dir;
  write_gz(dir.file("good.gz"), concat(idx_header({50, 50}), pattern(2500)));
  Bytes gz = read_all(dir.file("good.gz"));
  ASSERT_GT(gz.size(), 40u);
  for (std::size_t i = 12; i < 28; ++i) gz[i] ^= 0x5a;  // inside the deflate data
  write_raw(dir.file("bad.gz"), gz);
  expect_has(idx_error(dir.file("bad.gz")), {dir.file("bad.gz"), "gzip"});
}

TEST(ReadIdx, RejectsGzipWithWrongChecksum) {
  TempDir dir;
  write_gz(dir.file("good.gz"), concat(idx_header({50, 50}), pattern(2500)));
  Bytes gz = read_all(dir.file("good.gz"));
  gz[gz.size() - 8] ^= 0xff;  // CRC-32 in the gzip trailer
  write_raw(dir.file("crc.gz"), gz);
  expect_has(idx_error(dir.file("crc.gz")), {dir.file("crc.gz"), "corrupt gzip stream", "incorrect data check"});
}

TEST(ReadIdx, RejectsTruncatedGzipStream) {
  TempDir dir;
  write_gz(dir.file("good.gz"), concat(idx_header({50, 50}), pattern(2500)));
  Bytes gz = read_all(dir.file("good.gz"));
  for (std::size_t keep : {std::size_t{2}, std::size_t{11}, gz.size() / 2, gz.size() - 4, gz.size() - 1}) {
    Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(keep));
    write_raw(dir.file("cut.gz"), cut);
    expect_has(idx_error(dir.file("cut.gz")), {dir.file("cut.gz")});
  }
}

TEST(ReadIdx, DirectoryIsRejected) {
  TempDir dir;
  fs::create_directory(dir.file("sub"));
  expect_has(idx_error(dir.file("sub")), {dir.file("sub"), "is a directory"});
}

}  // namespace
