#include "xtgrad/io/mnist.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <system_error>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/io/idx.hpp"
#include "xtgrad/io/npz.hpp"

namespace xtgrad {
namespace nn {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kClasses = 10;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw DataError(where + ": " + what);
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

void check_labels(const std::vector<std::uint8_t>& labels, const std::string& where) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= kClasses) {
      fail(where, "label " + std::to_string(labels[i]) + " at index " + std::to_string(i) + " is outside 0-9");
    }
  }
}

// The image and label files of one split, checked against each other.
ImageSet make_set(std::vector<std::size_t> image_shape, std::vector<std::uint8_t> pixels,
                  std::size_t label_count, std::vector<std::uint8_t> labels, const std::string& images_where,
                  const std::string& labels_where) {
  if (image_shape.size() != 3) {
    fail(images_where, "images must have rank 3 (count, rows, cols), got shape " + shape_text(image_shape));
  }
  if (image_shape[0] != label_count) {
    fail(images_where, "holds " + std::to_string(image_shape[0]) + " images but " + labels_where + " holds " +
                           std::to_string(label_count) + " labels");
  }
  check_labels(labels, labels_where);
  ImageSet set;
  set.count = image_shape[0];
  set.rows = image_shape[1];
  set.cols = image_shape[2];
  set.pixels = std::move(pixels);
  set.labels = std::move(labels);
  return set;
}

std::string find_idx(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  const fs::path raw = dir / name, gz = dir / (name + ".gz");
  // An entry that exists as a name (even a dangling or looping symlink) is taken, so that
  // read_idx says what is wrong with it rather than "missing".
  if (fs::exists(fs::symlink_status(raw, ec))) return raw.string();
  if (fs::exists(fs::symlink_status(gz, ec))) return gz.string();
  fail(dir.string(), "missing MNIST file " + name + " (looked for " + raw.string() + " and " + gz.string() + ")");
}

ImageSet load_idx_split(const fs::path& dir, const std::string& prefix) {
  const std::string images_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1) {
    fail(labels_path, "labels must have rank 1, got dims " + shape_text(labels.dims));
  }
  return make_set(std::move(images.dims), std::move(images.data), labels.dims[0], std::move(labels.data),
                  images_path, labels_path);
}

std::vector<std::uint8_t> labels_from_npy(const NpyArray& a, const std::string& where) {
  if (a.shape.size() != 1) fail(where, "labels must have rank 1, got shape " + shape_text(a.shape));
  if (a.dtype != "|u1" && a.dtype != "<i4" && a.dtype != "<i8") {
    fail(where, "labels must be an integer dtype (|u1, <i4 or <i8), got " + a.dtype);
  }
  const std::size_t itemsize = npy_itemsize(a.dtype);
  std::vector<std::uint8_t> labels(a.shape[0]);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::int64_t v = 0;
    if (itemsize == 1) {
      v = a.bytes[i];
    } else if (itemsize == 4) {
      std::int32_t w;
      std::memcpy(&w, &a.bytes[4 * i], 4);
      v = w;
    } else {
      std::memcpy(&v, &a.bytes[8 * i], 8);
    }
    if (v < 0 || v >= static_cast<std::int64_t>(kClasses)) {
      fail(where, "label " + std::to_string(v) + " at index " + std::to_string(i) + " is outside 0-9");
    }
    labels[i] = static_cast<std::uint8_t>(v);
  }
  return labels;
}

Mnist load_npz(const std::string& path) {
  std::map<std::string, NpyArray> arrays = read_npz(path);
  for (const char* key : {"x_train", "y_train", "x_test", "y_test"}) {
    if (!arrays.count(key)) {
      fail(path, std::string("missing array '") + key + "' (an MNIST .npz needs x_train, y_train, x_test, y_test)");
    }
  }
  const auto split = [&](const std::string& x_key, const std::string& y_key) {
    NpyArray& x = arrays[x_key];
    const std::string x_where = path + ": " + x_key, y_where = path + ": " + y_key;
    if (x.dtype != "|u1") fail(x_where, "images must be uint8 (|u1), got " + x.dtype);
    std::vector<std::uint8_t> labels = labels_from_npy(arrays[y_key], y_where);
    const std::size_t label_count = labels.size();
    return make_set(x.shape, std::move(x.bytes), label_count, std::move(labels), x_where, y_where);
  };
  Mnist m;
  m.train = split("x_train", "y_train");
  m.test = split("x_test", "y_test");
  return m;
}

void check_indices(const char* fn, const std::vector<std::size_t>& indices, std::size_t count) {
  for (std::size_t i : indices) {
    if (i >= count) {
      throw std::invalid_argument(std::string(fn) + ": index " + std::to_string(i) + " is out of range for " +
                                  std::to_string(count) + " items");
    }
  }
}

}  // namespace

Mnist load_mnist(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec && ec.value() == ELOOP) fail(path, "cannot open: a symlink loop (too many levels of symbolic links)");
  if (!fs::exists(status)) {
    fail(path, "no such file or folder (expected a folder with the four MNIST IDX files, or an .npz)");
  }
  Mnist m;
  if (fs::is_directory(status)) {
    m.train = load_idx_split(path, "train");
    m.test = load_idx_split(path, "t10k");
  } else {
    m = load_npz(path);
  }
  if (m.train.rows != m.test.rows || m.train.cols != m.test.cols) {
    fail(path, "train images are " + std::to_string(m.train.rows) + "x" + std::to_string(m.train.cols) +
                   " but test images are " + std::to_string(m.test.rows) + "x" + std::to_string(m.test.cols));
  }
  return m;
}

std::vector<std::size_t> random_subset(std::size_t total, std::size_t n, Rng& rng) {
  if (n > total) {
    throw std::invalid_argument("random_subset: n = " + std::to_string(n) + " is more than total = " +
                                std::to_string(total));
  }
  std::vector<std::size_t> order(total);
  for (std::size_t i = 0; i < total; ++i) order[i] = i;
  // Partial Fisher-Yates: the first n slots end up a uniformly random n-permutation.
  for (std::size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, total - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  order.resize(n);
  return order;
}

namespace {

// scale_images, with errors naming `op`.
template <class Scalar>
TensorOf<Scalar> scale_images_for(const char* op, const ImageSet& images, const std::vector<std::size_t>& indices,
                                  const ImageOptions& options) {
  using Tensor = TensorOf<Scalar>;
  check_indices(op, indices, images.count);
  const std::size_t pixels = images.rows * images.cols;
  if (images.pixels.size() != images.count * pixels) {
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(images.pixels.size()) + " pixel bytes for " +
                                std::to_string(images.count) + " images of " + std::to_string(images.rows) + "x" +
                                std::to_string(images.cols));
  }
  if (options.scaling == PixelScaling::standardize && !(options.std > 0 && std::isfinite(options.mean))) {
    throw std::invalid_argument(std::string(op) + ": standardize needs std > 0 and a finite mean, got mean " +
                                std::to_string(options.mean) + ", std " + std::to_string(options.std));
  }
  std::array<Scalar, 256> table;
  for (std::size_t v = 0; v < 256; ++v) {
    const double x = double(v) / 255.0;
    switch (options.scaling) {
      case PixelScaling::unit: table[v] = static_cast<Scalar>(x); break;
      case PixelScaling::symmetric:  // computed in Scalar, as the seed did
        table[v] = (static_cast<Scalar>(v) / Scalar(255) - Scalar(0.5)) * Scalar(2);
        break;
      case PixelScaling::standardize: table[v] = static_cast<Scalar>((x - options.mean) / options.std); break;
    }
  }
  Tensor out = options.planes ? Tensor::from_shape({indices.size(), std::size_t(1), images.rows, images.cols})
                              : Tensor::from_shape({indices.size(), pixels});
  Scalar* dst = out.data();
  for (std::size_t i : indices) {
    const std::uint8_t* src = images.pixels.data() + i * pixels;
    for (std::size_t k = 0; k < pixels; ++k) *dst++ = table[src[k]];
  }
  return out;
}

}  // namespace

template <class T>
TensorOf<T> scale_images(const ImageSet& images, const std::vector<std::size_t>& indices, const ImageOptions& options) {
  return scale_images_for<T>("scale_images", images, indices, options);
}

template <class T>
TensorOf<T> normalize_images(const ImageSet& images, const std::vector<std::size_t>& indices) {
  return scale_images_for<T>("normalize_images", images, indices, ImageOptions{});
}

template <class T>
TensorOf<T> normalize_images(const ImageSet& images) {
  std::vector<std::size_t> all(images.count);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return normalize_images<T>(images, all);
}

template <class Scalar>
TensorOf<Scalar> one_hot(const std::vector<std::uint8_t>& labels, const std::vector<std::size_t>& indices,
                         std::size_t classes) {
  using Tensor = TensorOf<Scalar>;
  if (classes == 0) throw std::invalid_argument("one_hot: classes must be positive");
  check_indices("one_hot", indices, labels.size());
  Tensor out = xt::zeros<Scalar>({indices.size(), classes});
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const std::size_t label = labels[indices[r]];
    if (label >= classes) {
      throw std::invalid_argument("one_hot: label " + std::to_string(label) + " at index " +
                                  std::to_string(indices[r]) + " is not below classes = " + std::to_string(classes));
    }
    out(r, label) = Scalar(1);
  }
  return out;
}

template <class Scalar>
TensorOf<Scalar> label_tensor(const std::vector<std::uint8_t>& labels, const std::vector<std::size_t>& indices) {
  check_indices("label_tensor", indices, labels.size());
  TensorOf<Scalar> out = TensorOf<Scalar>::from_shape({indices.size()});
  for (std::size_t r = 0; r < indices.size(); ++r) out(r) = static_cast<Scalar>(labels[indices[r]]);
  return out;
}

std::vector<std::size_t> select_labels(const std::vector<std::uint8_t>& labels,
                                       const std::vector<std::size_t>& indices) {
  check_indices("select_labels", indices, labels.size());
  std::vector<std::size_t> out(indices.size());
  for (std::size_t r = 0; r < indices.size(); ++r) out[r] = labels[indices[r]];
  return out;
}

#define XTGRAD_INSTANTIATE(T)                                                                                   \
  template TensorOf<T> normalize_images<T>(const ImageSet&, const std::vector<std::size_t>&);                   \
  template TensorOf<T> normalize_images<T>(const ImageSet&);                                                    \
  template TensorOf<T> scale_images<T>(const ImageSet&, const std::vector<std::size_t>&, const ImageOptions&);   \
  template TensorOf<T> label_tensor<T>(const std::vector<std::uint8_t>&, const std::vector<std::size_t>&);       \
  template TensorOf<T> one_hot<T>(const std::vector<std::uint8_t>&, const std::vector<std::size_t>&, std::size_t);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
