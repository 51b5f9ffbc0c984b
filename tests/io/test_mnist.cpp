#include "xtgrad/io/mnist.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "fixture_files.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/io/npz.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::DataError;
using xtgrad::Rng;
using xtgrad::Scalar;
using xtgrad::Tensor;
using xtgrad::nn::ImageSet;
using xtgrad::nn::load_mnist;
using xtgrad::nn::Mnist;
using xtgrad::nn::normalize_images;
using xtgrad::nn::NpyArray;
using xtgrad::nn::one_hot;
using xtgrad::nn::random_subset;
using xtgrad::nn::select_labels;
using namespace xtgrad_test;
using Indices = std::vector<std::size_t>;

Bytes pixels(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 13 + salt);
  return b;
}

Bytes labels(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i + salt) % 10);
  return b;
}

// A folder of 4 IDX files: 5 train and 3 test images of 4x3 pixels.
void write_folder(const TempDir& dir) {
  write_idx(dir.file("train-images-idx3-ubyte"), {5, 4, 3}, pixels(60, 1));
  write_idx(dir.file("train-labels-idx1-ubyte"), {5}, labels(5, 2));
  write_idx(dir.file("t10k-images-idx3-ubyte"), {3, 4, 3}, pixels(36, 3));
  write_idx(dir.file("t10k-labels-idx1-ubyte"), {3}, labels(3, 4));
}

// Keras mnist.npz layout: 4 train and 2 test images of 2x2.
std::map<std::string, NpyArray> keras_arrays() {
  return {{"x_train", make_array<std::uint8_t>({4, 2, 2}, "|u1", pixels(16, 5))},
          {"y_train", make_array<std::uint8_t>({4}, "|u1", {3, 1, 4, 1})},
          {"x_test", make_array<std::uint8_t>({2, 2, 2}, "|u1", pixels(8, 6))},
          {"y_test", make_array<std::int64_t>({2}, "<i8", {5, 9})}};
}

std::string load_error(const std::string& path) {
  return message_of<DataError>([&] { load_mnist(path); }, "load_mnist(" + path + ")");
}

ImageSet small_set() {
  ImageSet s;
  s.count = 3;
  s.rows = 1;
  s.cols = 2;
  s.pixels = {0, 255, 128, 64, 1, 254};
  s.labels = {7, 0, 9};
  return s;
}

TEST(LoadMnist, LoadsSyntheticIdxFolder) {
  TempDir dir;
  write_folder(dir);
  const Mnist m = load_mnist(dir.path());
  EXPECT_EQ(m.train.count, 5u);
  EXPECT_EQ(m.train.rows, 4u);
  EXPECT_EQ(m.train.cols, 3u);
  EXPECT_EQ(m.train.pixels, pixels(60, 1));
  EXPECT_EQ(m.train.labels, labels(5, 2));
  EXPECT_EQ(m.test.count, 3u);
  EXPECT_EQ(m.test.pixels, pixels(36, 3));
  EXPECT_EQ(m.test.labels, labels(3, 4));
}

TEST(LoadMnist, ReadsGzipFilesAndPrefersTheRawFileWhenBothExist) {
  TempDir dir;
  write_folder(dir);
  fs::remove(dir.file("train-images-idx3-ubyte"));
  write_idx(dir.file("train-images-idx3-ubyte.gz"), {5, 4, 3}, pixels(60, 9), true);
  write_idx(dir.file("t10k-labels-idx1-ubyte.gz"), {3}, Bytes{9, 9, 9}, true);  // shadowed by the raw file
  const Mnist m = load_mnist(dir.path());
  EXPECT_EQ(m.train.pixels, pixels(60, 9));
  EXPECT_EQ(m.test.labels, labels(3, 4));
}

TEST(LoadMnist, MissingPathIsNamed) {
  TempDir dir;
  expect_has(load_error(dir.file("nowhere")), {dir.file("nowhere"), "no such file or folder"});
}

TEST(LoadMnist, MissingFileNamesTheFileLookedFor) {
  TempDir dir;
  write_folder(dir);
  fs::remove(dir.file("t10k-labels-idx1-ubyte"));
  expect_has(load_error(dir.path()),
             {"missing MNIST file t10k-labels-idx1-ubyte", dir.file("t10k-labels-idx1-ubyte.gz")});
}

TEST(LoadMnist, RejectsImageAndLabelCountsThatDiffer) {
  TempDir dir;
  write_folder(dir);
  write_idx(dir.file("train-labels-idx1-ubyte"), {4}, labels(4, 0));
  expect_has(load_error(dir.path()), {dir.file("train-images-idx3-ubyte"), "holds 5 images",
                                      dir.file("train-labels-idx1-ubyte"), "holds 4 labels"});
}

TEST(LoadMnist, RejectsLabelOutsideZeroToNine) {
  TempDir dir;
  write_folder(dir);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), {3}, Bytes{1, 11, 2});
  expect_has(load_error(dir.path()), {dir.file("t10k-labels-idx1-ubyte"), "label 11 at index 1", "outside 0-9"});
}

TEST(LoadMnist, RejectsImagesThatAreNotRank3) {
  TempDir dir;
  write_folder(dir);
  write_idx(dir.file("train-images-idx3-ubyte"), {5, 12}, pixels(60, 1));
  expect_has(load_error(dir.path()), {dir.file("train-images-idx3-ubyte"), "rank 3", "(5, 12)"});
}

TEST(LoadMnist, RejectsTrainAndTestImagesOfDifferentSizes) {
  TempDir dir;
  write_folder(dir);
  write_idx(dir.file("t10k-images-idx3-ubyte"), {3, 3, 4}, pixels(36, 3));
  expect_has(load_error(dir.path()), {dir.path(), "train images are 4x3 but test images are 3x4"});
}

TEST(LoadMnist, CorruptIdxFileErrorNamesIt) {
  TempDir dir;
  write_folder(dir);
  write_idx(dir.file("t10k-images-idx3-ubyte"), {3, 4, 3}, pixels(30, 3));
  expect_has(load_error(dir.path()), {dir.file("t10k-images-idx3-ubyte"), "but holds 30 bytes"});
}

TEST(LoadMnist, LoadsKerasStyleNpz) {
  TempDir dir;
  xtgrad::nn::write_npz(dir.file("mnist.npz"), keras_arrays());
  const Mnist m = load_mnist(dir.file("mnist.npz"));
  EXPECT_EQ(m.train.count, 4u);
  EXPECT_EQ(m.train.rows, 2u);
  EXPECT_EQ(m.train.cols, 2u);
  EXPECT_EQ(m.train.pixels, pixels(16, 5));
  EXPECT_EQ(m.train.labels, (Bytes{3, 1, 4, 1}));
  EXPECT_EQ(m.test.count, 2u);
  EXPECT_EQ(m.test.labels, (Bytes{5, 9}));
}

TEST(LoadMnist, NpzLackingAKeyNamesTheKey) {
  TempDir dir;
  auto arrays = keras_arrays();
  arrays.erase("y_test");
  xtgrad::nn::write_npz(dir.file("mnist.npz"), arrays);
  expect_has(load_error(dir.file("mnist.npz")), {dir.file("mnist.npz"), "missing array 'y_test'"});
}

TEST(LoadMnist, NpzWithWrongDtypesIsRejected) {
  TempDir dir;
  auto arrays = keras_arrays();
  arrays["x_train"] = make_array<float>({4, 2, 2}, "<f4", std::vector<float>(16, 0.5f));
  xtgrad::nn::write_npz(dir.file("float.npz"), arrays);
  expect_has(load_error(dir.file("float.npz")), {dir.file("float.npz"), "x_train", "uint8", "<f4"});

  arrays = keras_arrays();
  arrays["y_train"] = make_array<double>({4}, "<f8", {1, 2, 3, 4});
  xtgrad::nn::write_npz(dir.file("flabels.npz"), arrays);
  expect_has(load_error(dir.file("flabels.npz")), {dir.file("flabels.npz"), "y_train", "integer dtype"});
}

TEST(LoadMnist, NpzRejectsNegativeLabelsAndCountMismatch) {
  TempDir dir;
  auto arrays = keras_arrays();
  arrays["y_test"] = make_array<std::int64_t>({2}, "<i8", {5, -1});
  xtgrad::nn::write_npz(dir.file("neg.npz"), arrays);
  expect_has(load_error(dir.file("neg.npz")), {dir.file("neg.npz"), "y_test", "label -1 at index 1"});

  arrays = keras_arrays();
  arrays["y_test"] = make_array<std::int32_t>({3}, "<i4", {1, 2, 3});
  xtgrad::nn::write_npz(dir.file("count.npz"), arrays);
  expect_has(load_error(dir.file("count.npz")), {"x_test", "holds 2 images", "y_test", "holds 3 labels"});
}

TEST(LoadMnist, RealDataFromXtgradMnistDir) {
  const char* env = std::getenv("XTGRAD_MNIST_DIR");
  if (!env || !fs::exists(fs::path(env) / "train-labels-idx1-ubyte")) {
    GTEST_SKIP() << "set XTGRAD_MNIST_DIR to a folder with the MNIST IDX files to run this test";
  }
  const Mnist m = load_mnist(env);
  EXPECT_EQ(m.train.count, 60000u);
  EXPECT_EQ(m.test.count, 10000u);
  EXPECT_EQ(m.train.rows, 28u);
  EXPECT_EQ(m.train.cols, 28u);
  EXPECT_EQ(m.train.pixels.size(), 60000u * 784u);
  std::vector<std::size_t> train_hist(10), test_hist(10);
  for (auto l : m.train.labels) ++train_hist[l];
  for (auto l : m.test.labels) ++test_hist[l];
  EXPECT_EQ(train_hist, (std::vector<std::size_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(test_hist, (std::vector<std::size_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
}

TEST(NormalizeImages, MapsPixel0ToMinusOne255ToOneAnd128ToOneOver255) {
  const Tensor x = normalize_images(small_set(), Indices{0, 1});
  ASSERT_EQ(x.shape(0), 2u);
  ASSERT_EQ(x.shape(1), 2u);
  EXPECT_EQ(x(0, 0), Scalar(-1));  // pixel 0
  EXPECT_EQ(x(0, 1), Scalar(1));   // pixel 255
  EXPECT_NEAR(x(1, 0), 1.0 / 255.0, 1e-6);  // pixel 128: (128/255 - 0.5) * 2
  EXPECT_EQ(x(1, 0), (Scalar(128) / 255 - Scalar(0.5)) * 2);
}

TEST(NormalizeImages, SelectsRowsInIndexOrderWithinMinusOneToOne) {
  const ImageSet s = small_set();
  const Tensor x = normalize_images(s, Indices{2, 0, 2});
  ASSERT_EQ(x.shape(0), 3u);
  EXPECT_EQ(x(0, 0), (Scalar(1) / 255 - Scalar(0.5)) * 2);
  EXPECT_EQ(x(1, 0), Scalar(-1));
  EXPECT_EQ(x(2, 1), x(0, 1));
  const Tensor all = normalize_images(s);
  ASSERT_EQ(all.shape(0), 3u);
  ASSERT_EQ(all.shape(1), 2u);
  for (Scalar v : all) {
    EXPECT_GE(v, Scalar(-1));
    EXPECT_LE(v, Scalar(1));
  }
}

TEST(NormalizeImages, RejectsIndexOutOfRange) {
  try {
    normalize_images(small_set(), Indices{0, 3});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    expect_has(e.what(), {"normalize_images", "index 3", "3 items"});
  }
}

TEST(RandomSubset, IndicesAreDistinctInRangeAndSeedReproducible) {
  Rng a(42), b(42), c(43);
  const Indices s1 = random_subset(1000, 100, a);
  const Indices s2 = random_subset(1000, 100, b);
  const Indices s3 = random_subset(1000, 100, c);
  ASSERT_EQ(s1.size(), 100u);
  EXPECT_EQ(std::set<std::size_t>(s1.begin(), s1.end()).size(), 100u);
  EXPECT_LT(*std::max_element(s1.begin(), s1.end()), 1000u);
  EXPECT_EQ(s1, s2);
  EXPECT_NE(s1, s3);
}

TEST(RandomSubset, FullSubsetIsAPermutationAndEmptyIsEmpty) {
  Rng rng(1);
  Indices all = random_subset(50, 50, rng);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(all[i], i);
  EXPECT_TRUE(random_subset(50, 0, rng).empty());
}

TEST(RandomSubset, RejectsMoreThanTotalNamingBoth) {
  Rng rng(1);
  try {
    random_subset(10, 11, rng);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    expect_has(e.what(), {"random_subset", "n = 11", "total = 10"});
  }
}

TEST(OneHot, PutsAOneInEachRowsLabelColumn) {
  const Bytes l = {3, 0, 9, 1};
  const Tensor y = one_hot(l, Indices{2, 0, 3});
  ASSERT_EQ(y.shape(0), 3u);
  ASSERT_EQ(y.shape(1), 10u);
  const std::size_t want[3] = {9, 3, 1};
  for (std::size_t r = 0; r < 3; ++r) {
    for (std::size_t k = 0; k < 10; ++k) EXPECT_EQ(y(r, k), k == want[r] ? Scalar(1) : Scalar(0)) << r << "," << k;
  }
  EXPECT_EQ(one_hot(l, Indices{1}, 4).shape(1), 4u);
}

TEST(OneHot, RejectsLabelNotBelowClassesAndBadIndex) {
  try {
    one_hot(Bytes{1, 5}, Indices{0, 1}, 5);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    expect_has(e.what(), {"one_hot", "label 5", "classes = 5"});
  }
  EXPECT_THROW(one_hot(Bytes{1}, Indices{1}), std::invalid_argument);
  EXPECT_THROW(one_hot(Bytes{1}, Indices{0}, 0), std::invalid_argument);
}

TEST(SelectLabels, ReturnsClassIndicesOfTheSubset) {
  EXPECT_EQ(select_labels(Bytes{3, 0, 9, 1}, Indices{2, 2, 0}), (Indices{9, 9, 3}));
  EXPECT_THROW(select_labels(Bytes{3}, Indices{1}), std::invalid_argument);
}

}  // namespace

TEST(ScaleImages, UnitSymmetricAndStandardizedScalings) {
  const ImageSet s = small_set();
  xtgrad::nn::ImageOptions o;
  o.scaling = xtgrad::nn::PixelScaling::unit;
  Tensor x = xtgrad::nn::scale_images(s, Indices{0, 1}, o);
  EXPECT_EQ(x(0, 0), 0.0);
  EXPECT_EQ(x(0, 1), 1.0);
  EXPECT_NEAR(x(1, 1), 64 / 255.0, 1e-7);  // float
  o.scaling = xtgrad::nn::PixelScaling::symmetric;
  EXPECT_EQ(xtgrad::nn::scale_images(s, Indices{0, 1}, o), normalize_images(s, Indices{0, 1}));
  o.scaling = xtgrad::nn::PixelScaling::standardize;
  o.mean = 0.5;
  o.std = 0.25;
  x = xtgrad::nn::scale_images(s, Indices{0}, o);
  EXPECT_NEAR(x(0, 0), -2.0, 1e-12);  // (0 − 0.5)/0.25
  EXPECT_NEAR(x(0, 1), 2.0, 1e-12);   // (1 − 0.5)/0.25
  o.std = 0;
  try {
    xtgrad::nn::scale_images(s, Indices{0}, o);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    expect_has(e.what(), {"scale_images", "std"});
  }
}

TEST(ScaleImages, PlanesShapeForConvolutions) {
  xtgrad::nn::ImageOptions o;
  o.planes = true;
  const Tensor x = xtgrad::nn::scale_images(small_set(), Indices{2, 0}, o);
  EXPECT_EQ(xtgrad::shape_str(x), "(2, 1, 1, 2)");
  EXPECT_EQ(x(1, 0, 0, 1), Scalar(1));
}

TEST(LabelTensor, HoldsClassIndices) {
  const Tensor y = xtgrad::nn::label_tensor(small_set().labels, Indices{2, 0});
  EXPECT_EQ(xtgrad::shape_str(y), "(2)");
  EXPECT_EQ(y(0), 9.0);
  EXPECT_EQ(y(1), 7.0);
}
