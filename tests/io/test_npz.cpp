#include "xtgrad/io/npz.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "fixture_files.hpp"
#include "xtgrad/core/errors.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::DataError;
using xtgrad::Scalar;
using xtgrad::Tensor;
using xtgrad::nn::from_npy;
using xtgrad::nn::NpyArray;
using xtgrad::nn::read_npz;
using xtgrad::nn::to_npy;
using xtgrad::nn::write_npz;
using namespace xtgrad_test;

// A .npy file from a header dict text and data bytes, padded as numpy pads it.
Bytes npy(const std::string& dict, const Bytes& data, int version = 1) {
  const std::size_t prefix = version == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(version), 0};
  const std::size_t len_bytes = version == 1 ? 2 : 4;
  for (std::size_t k = 0; k < len_bytes; ++k) b.push_back(static_cast<std::uint8_t>(header.size() >> (8 * k)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct ZipEntry {
  std::string name;
  Bytes payload;
  std::uint16_t method = 0;  // 0 stored, 8 deflated (compressed here); others written as stored bytes
};

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

Bytes raw_deflate(const Bytes& in) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, in.size()));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A zip archive built independently of write_npz, so read_npz is tested against both.
Bytes make_zip(const std::vector<ZipEntry>& entries) {
  Bytes zip, dir;
  for (const ZipEntry& e : entries) {
    const Bytes data = e.method == 8 ? raw_deflate(e.payload) : e.payload;
    const auto crc = static_cast<std::uint32_t>(crc32(0, e.payload.data(), static_cast<uInt>(e.payload.size())));
    const auto offset = static_cast<std::uint32_t>(zip.size());
    Bytes common;
    put16(common, 20);
    put16(common, 0);
    put16(common, e.method);
    put16(common, 0);
    put16(common, 0x21);
    put32(common, crc);
    put32(common, static_cast<std::uint32_t>(data.size()));
    put32(common, static_cast<std::uint32_t>(e.payload.size()));
    put16(common, static_cast<std::uint32_t>(e.name.size()));
    put16(common, 0);
    put32(zip, 0x04034b50);
    zip.insert(zip.end(), common.begin(), common.end());
    zip.insert(zip.end(), e.name.begin(), e.name.end());
    zip.insert(zip.end(), data.begin(), data.end());
    put32(dir, 0x02014b50);
    put16(dir, 20);
    dir.insert(dir.end(), common.begin(), common.end());
    put16(dir, 0);
    put16(dir, 0);
    put16(dir, 0);
    put32(dir, 0);
    put32(dir, offset);
    dir.insert(dir.end(), e.name.begin(), e.name.end());
  }
  const auto dir_offset = static_cast<std::uint32_t>(zip.size());
  zip.insert(zip.end(), dir.begin(), dir.end());
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, static_cast<std::uint32_t>(entries.size()));
  put16(zip, static_cast<std::uint32_t>(entries.size()));
  put32(zip, static_cast<std::uint32_t>(dir.size()));
  put32(zip, dir_offset);
  put16(zip, 0);
  return zip;
}

const std::string kF8x2 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
Bytes two_doubles() {
  const double v[2] = {1.5, -2.0};
  Bytes b(16);
  std::memcpy(b.data(), v, 16);
  return b;
}

std::string npz_error(const std::string& path) {
  return message_of<DataError>([&] { read_npz(path); }, "read_npz(" + path + ")");
}

// The DataError message for an archive with one entry "w.npy" holding `payload`.
std::string entry_error(const TempDir& dir, const Bytes& payload, std::uint16_t method = 0) {
  write_raw(dir.file("one.npz"), make_zip({{"w.npy", payload, method}}));
  return npz_error(dir.file("one.npz"));
}

std::map<std::string, NpyArray> sample_arrays() {
  return {
      {"weights", make_array<double>({2, 3}, "<f8", {1, 2, 3, 4.5, -5, 6e-300})},
      {"floats", make_array<float>({4}, "<f4", {0.25f, -1, 3e30f, 0})},
      {"pixels", make_array<std::uint8_t>({2, 2, 2}, "|u1", {0, 1, 2, 127, 128, 200, 254, 255})},
      {"ints", make_array<std::int32_t>({3}, "<i4", {-7, 0, 2147483647})},
      {"step", make_array<std::int64_t>({}, "<i8", {-9000000000LL})},
      {"empty", make_array<double>({0, 3}, "<f8", {})},
  };
}

void expect_same(const std::map<std::string, NpyArray>& got, const std::map<std::string, NpyArray>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, a] : want) {
    ASSERT_TRUE(got.count(key)) << key;
    EXPECT_EQ(got.at(key).shape, a.shape) << key;
    EXPECT_EQ(got.at(key).dtype, a.dtype) << key;
    EXPECT_EQ(got.at(key).bytes, a.bytes) << key;
  }
}

TEST(Npz, WriteThenReadRoundTripsEveryDtypeAndShape) {
  TempDir dir;
  const auto arrays = sample_arrays();
  write_npz(dir.file("params.npz"), arrays);
  expect_same(read_npz(dir.file("params.npz")), arrays);
}

TEST(Npz, WriteReplacesAnOldFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("params.npz");
  write_npz(path, sample_arrays());
  const std::map<std::string, NpyArray> newer = {{"w", make_array<double>({1}, "<f8", {42})}};
  write_npz(path, newer);
  expect_same(read_npz(path), newer);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Npz, WriteIsDeterministic) {
  TempDir dir;
  write_npz(dir.file("a.npz"), sample_arrays());
  write_npz(dir.file("b.npz"), sample_arrays());
  EXPECT_EQ(read_all(dir.file("a.npz")), read_all(dir.file("b.npz")));
}

TEST(Npz, WriteRejectsInconsistentArraysWithoutTouchingTheFile) {
  TempDir dir;
  const std::string path = dir.file("p.npz");
  NpyArray short_data = make_array<double>({2, 3}, "<f8", {1, 2, 3});
  try {
    write_npz(path, {{"w", short_data}});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    expect_has(e.what(), {"write_npz", "'w'", "(2, 3)", "24 bytes, expected 48"});
  }
  EXPECT_THROW(write_npz(path, {{"w", make_array<double>({1}, ">f8", {1})}}), std::invalid_argument);
  EXPECT_THROW(write_npz(path, {{"", make_array<double>({1}, "<f8", {1})}}), std::invalid_argument);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Npz, WriteIntoMissingFolderIsADataErrorNamingThePath) {
  TempDir dir;
  const std::string path = dir.file("no/such/folder/p.npz");
  try {
    write_npz(path, sample_arrays());
    ADD_FAILURE() << "no exception";
  } catch (const DataError& e) {
    expect_has(e.what(), {path, "cannot create"});
  }
}

// Fixtures written by numpy 1.24 (np.savez / np.savez_compressed; numpy marks its entries
// zip64): a = arange(6).reshape(2,3)/4 <f8, b = [0,7,200,255] u1, c = -3 <i8 (0-d),
// d = [[1,-2]] <i4, e = [0.5,-1.25] <f4.
class NumpyFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(NumpyFixture, ReadsArchiveWrittenByNumpy) {
  const auto arrays = read_npz(std::string(XTGRAD_TEST_DATA_DIR) + "/" + GetParam());
  ASSERT_EQ(arrays.size(), 5u);
  const Tensor a = from_npy(arrays.at("a"), "a");
  EXPECT_EQ(arrays.at("a").dtype, "<f8");
  EXPECT_EQ(a, (Tensor{{0, 0.25, 0.5}, {0.75, 1.0, 1.25}}));
  EXPECT_EQ(arrays.at("b").dtype, "|u1");
  EXPECT_EQ(arrays.at("b").bytes, (Bytes{0, 7, 200, 255}));
  EXPECT_TRUE(arrays.at("c").shape.empty());
  EXPECT_EQ(from_npy(arrays.at("c"), "c")(), -3);
  EXPECT_EQ(from_npy(arrays.at("d"), "d"), (Tensor{{1, -2}}));
  EXPECT_EQ(from_npy(arrays.at("e"), "e"), (Tensor{0.5, -1.25}));
}

INSTANTIATE_TEST_SUITE_P(Npz, NumpyFixture, ::testing::Values("numpy_savez.npz", "numpy_savez_compressed.npz"));

TEST(Npz, ReadsDeflatedAndStoredEntriesOfAnotherWriter) {
  TempDir dir;
  write_raw(dir.file("mixed.npz"), make_zip({{"x.npy", npy(kF8x2, two_doubles()), 8},
                                             {"y.npy", npy(kF8x2, two_doubles()), 0}}));
  const auto arrays = read_npz(dir.file("mixed.npz"));
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(from_npy(arrays.at("x"), "x"), (Tensor{1.5, -2.0}));
  EXPECT_EQ(arrays.at("y").bytes, two_doubles());
}

TEST(Npz, ReadsNpyFormatVersions2And3) {
  TempDir dir;
  write_raw(dir.file("v.npz"), make_zip({{"v2.npy", npy(kF8x2, two_doubles(), 2)},
                                         {"v3.npy", npy(kF8x2, two_doubles(), 3)}}));
  const auto arrays = read_npz(dir.file("v.npz"));
  EXPECT_EQ(arrays.at("v2").bytes, two_doubles());
  EXPECT_EQ(arrays.at("v3").bytes, two_doubles());
}

TEST(Npz, ToNpyAndFromNpyRoundTripATensor) {
  const Tensor t = {{1.5, -2.25, 3.0}, {4.0, 5.5, -6.0}};
  const NpyArray a = to_npy(t);
  EXPECT_EQ(a.dtype, sizeof(Scalar) == 8 ? "<f8" : "<f4");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(from_npy(a, "t"), t);
}

TEST(Npz, FromNpyConvertsEverySupportedDtypeToScalar) {
  EXPECT_EQ(from_npy(make_array<std::uint8_t>({3}, "|u1", {0, 128, 255}), "c"), (Tensor{0, 128, 255}));
  EXPECT_EQ(from_npy(make_array<std::int32_t>({2}, "<i4", {-5, 7}), "c"), (Tensor{-5, 7}));
  EXPECT_EQ(from_npy(make_array<std::int64_t>({2}, "<i8", {-5, 1LL << 40}), "c"), (Tensor{-5, 1099511627776.0}));
  EXPECT_EQ(from_npy(make_array<float>({1, 2}, "<f4", {0.5f, -8}), "c"), (Tensor{{0.5, -8}}));
  EXPECT_EQ(from_npy(make_array<double>({2}, "<f8", {0.25, 3}), "c"), (Tensor{0.25, 3}));
}

TEST(Npz, FromNpyRejectsBadDtypeAndSizeNamingTheContext) {
  try {
    from_npy(make_array<double>({1}, "<c8", {1}), "model.npz: fc1.weight");
    ADD_FAILURE() << "no exception";
  } catch (const DataError& e) {
    expect_has(e.what(), {"model.npz: fc1.weight", "'<c8'"});
  }
  try {
    from_npy(make_array<double>({2, 2}, "<f8", {1, 2, 3}), "model.npz: fc1.bias");
    ADD_FAILURE() << "no exception";
  } catch (const DataError& e) {
    expect_has(e.what(), {"model.npz: fc1.bias", "(2, 2)", "24 bytes"});
  }
}

TEST(Npz, MissingFileNamesThePath) {
  TempDir dir;
  expect_has(npz_error(dir.file("absent.npz")), {dir.file("absent.npz"), "no such file"});
}

TEST(Npz, RejectsFileThatIsNotAZip) {
  TempDir dir;
  const std::string text = "this is plain text, long enough to hold an end record but not a zip archive\n";
  write_raw(dir.file("text.npz"), Bytes(text.begin(), text.end()));
  expect_has(npz_error(dir.file("text.npz")), {dir.file("text.npz"), "not a zip archive"});
  write_raw(dir.file("tiny.npz"), Bytes{'P', 'K'});
  expect_has(npz_error(dir.file("tiny.npz")), {dir.file("tiny.npz"), "not a zip archive"});
  write_raw(dir.file("array.npz"), npy(kF8x2, two_doubles()));
  expect_has(npz_error(dir.file("array.npz")), {dir.file("array.npz"), "is a .npy file"});
}

TEST(Npz, RejectsEveryTruncationOfAnArchive) {
  TempDir dir;
  write_npz(dir.file("full.npz"), {{"w", make_array<double>({2}, "<f8", {1, 2})}});
  const Bytes full = read_all(dir.file("full.npz"));
  for (std::size_t keep = 0; keep < full.size(); ++keep) {
    write_raw(dir.file("cut.npz"), Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(keep)));
    expect_has(npz_error(dir.file("cut.npz")), {dir.file("cut.npz")});
  }
}

TEST(Npz, SurvivesEveryByteFlipWithADataErrorOrAValidRead) {
  TempDir dir;
  write_raw(dir.file("full.npz"), make_zip({{"x.npy", npy(kF8x2, two_doubles()), 8},
                                            {"y.npy", npy(kF8x2, two_doubles()), 0}}));
  const Bytes full = read_all(dir.file("full.npz"));
  for (std::size_t i = 0; i < full.size(); ++i) {
    Bytes flipped = full;
    flipped[i] ^= 0xff;
    write_raw(dir.file("flip.npz"), flipped);
    try {
      read_npz(dir.file("flip.npz"));
    } catch (const DataError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "byte " << i << ": unexpected exception " << e.what();
    }
  }
}

TEST(Npz, RejectsCrcMismatchNamingTheEntry) {
  TempDir dir;
  write_npz(dir.file("p.npz"), {{"fc1.weight", make_array<double>({2}, "<f8", {1.5, -2})}});
  Bytes bytes = read_all(dir.file("p.npz"));
  const double needle = 1.5;
  const auto at = std::search(bytes.begin(), bytes.end(), reinterpret_cast<const std::uint8_t*>(&needle),
                              reinterpret_cast<const std::uint8_t*>(&needle) + 8);
  ASSERT_NE(at, bytes.end());
  *at ^= 1;
  write_raw(dir.file("p.npz"), bytes);
  expect_has(npz_error(dir.file("p.npz")), {dir.file("p.npz"), "entry 'fc1.weight.npy'", "CRC-32 mismatch"});
}

TEST(Npz, RejectsUnknownCompressionMethod) {
  TempDir dir;
  expect_has(entry_error(dir, npy(kF8x2, two_doubles()), 12),
             {dir.file("one.npz"), "entry 'w.npy'", "compression method 12"});
}

TEST(Npz, RejectsFortranOrder) {
  TempDir dir;
  expect_has(entry_error(dir, npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", two_doubles())),
             {dir.file("one.npz"), "entry 'w.npy'", "Fortran order"});
}

TEST(Npz, RejectsUnsupportedDtypes) {
  TempDir dir;
  for (const char* dtype : {">f8", "<c16", "|O", "<f2", "|b1"}) {
    const std::string dict = std::string("{'descr': '") + dtype + "', 'fortran_order': False, 'shape': (2,), }";
    expect_has(entry_error(dir, npy(dict, two_doubles())),
               {dir.file("one.npz"), "entry 'w.npy'", std::string("dtype '") + dtype + "' is not supported"});
  }
  expect_has(entry_error(dir, npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }",
                                  two_doubles())),
             {"entry 'w.npy'", "structured dtypes"});
}

TEST(Npz, RejectsShapeThatDoesNotMatchTheData) {
  TempDir dir;
  expect_has(entry_error(dir, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }", two_doubles())),
             {dir.file("one.npz"), "entry 'w.npy'", "shape (3, 1) of dtype <f8 needs 24 bytes but the entry holds 16"});
  expect_has(entry_error(dir, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, "
                                  "99999999999, 99999999999), }",
                                  two_doubles())),
             {"entry 'w.npy'", "needs too many bytes"});
}

TEST(Npz, RejectsMalformedNpyHeaders) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f8', 'shape': (2,), }", "lacks 'fortran_order'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "unexpected key 'extra'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,) ", "expected ',' or '}'"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", "neither True nor False"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", "non-negative integers"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } junk", "unexpected text"},
      {"{'descr: '<f8', 'fortran_order': False, 'shape': (2,), }", "bad .npy header"},
  };
  for (const auto& [dict, words] : cases) {
    expect_has(entry_error(dir, npy(dict, two_doubles())), {dir.file("one.npz"), "entry 'w.npy'", words});
  }
  Bytes bad_magic = npy(kF8x2, two_doubles());
  bad_magic[1] = 'X';
  expect_has(entry_error(dir, bad_magic), {"entry 'w.npy'", "not a .npy array"});
  Bytes v9 = npy(kF8x2, two_doubles());
  v9[6] = 9;
  expect_has(entry_error(dir, v9), {"entry 'w.npy'", "version 9.0"});
}

TEST(Npz, RejectsEntriesThatAreNotNpyFiles) {
  TempDir dir;
  write_raw(dir.file("one.npz"), make_zip({{"readme.txt", Bytes{'h', 'i'}, 0}}));
  expect_has(npz_error(dir.file("one.npz")), {dir.file("one.npz"), "entry 'readme.txt'", "not a .npy array"});
}

TEST(Npz, RejectsCorruptDeflateData) {
  TempDir dir;
  Bytes zip = make_zip({{"w.npy", npy(kF8x2, two_doubles()), 8}});
  zip[30 + 5] = 0xff;  // first bytes of the deflate stream: an invalid block type
  zip[30 + 6] = 0xff;
  write_raw(dir.file("one.npz"), zip);
  expect_has(npz_error(dir.file("one.npz")), {dir.file("one.npz"), "entry 'w.npy'"});
}

}  // namespace
