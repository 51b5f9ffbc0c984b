// MNIST loading (IDX folder or Keras-style .npz) and the conversions a training loop needs:
// random subsets, pixels scaled to [-1, 1], one-hot targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
namespace nn {

// `count` images of rows x cols bytes, row-major, one after the other, and their labels 0..9.
struct ImageSet {
  std::vector<std::uint8_t> pixels;
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> labels;
};

struct Mnist {
  ImageSet train, test;
};

// Loads MNIST from a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may instead carry a .gz suffix; the
// raw file wins when both exist), or from an .npz with x_train (N, rows, cols) uint8,
// y_train (N,) integer, x_test and y_test. Throws DataError naming the file on any problem.
Mnist load_mnist(const std::string& path);

// n distinct indices from [0, total): the first n of a random permutation.
std::vector<std::size_t> random_subset(std::size_t total, std::size_t n, Rng& rng);

// The tensors below hold T: float unless asked (`normalize_images<double>(...)`).

// Images at `indices` as (n, rows*cols), each pixel x mapped to (x/255 - 0.5)*2 in [-1, 1].
template <class T = float>
TensorOf<T> normalize_images(const ImageSet& images, const std::vector<std::size_t>& indices);
// Every image, as (count, rows*cols).
template <class T = float>
TensorOf<T> normalize_images(const ImageSet& images);

// How pixel bytes x ∈ [0, 255] become inputs.
enum class PixelScaling {
  unit,         // x/255 ∈ [0, 1]
  symmetric,    // (x/255 − 0.5)·2 ∈ [−1, 1]: the seed's, as normalize_images
  standardize,  // (x/255 − mean)/std
};

struct ImageOptions {
  PixelScaling scaling = PixelScaling::symmetric;
  double mean = 0.1307, std = 0.3081;  // for standardize (MNIST's training-set values)
  bool planes = false;  // (n, 1, rows, cols) for convolutions, instead of (n, rows·cols)
};

// Images at `indices`, scaled and shaped as `options` say. std must be > 0.
template <class T = float>
TensorOf<T> scale_images(const ImageSet& images, const std::vector<std::size_t>& indices, const ImageOptions& options);

// Labels at `indices` as class indices in a tensor (n): the targets nn::fit, accuracy and
// cross-entropy take without one-hot rows.
template <class T = float>
TensorOf<T> label_tensor(const std::vector<std::uint8_t>& labels, const std::vector<std::size_t>& indices);

// Labels at `indices` as one-hot rows: (n, classes).
template <class T = float>
TensorOf<T> one_hot(const std::vector<std::uint8_t>& labels, const std::vector<std::size_t>& indices,
                    std::size_t classes = 10);

// Labels at `indices` as class indices: (n).
std::vector<std::size_t> select_labels(const std::vector<std::uint8_t>& labels,
                                       const std::vector<std::size_t>& indices);

}  // namespace nn
}  // namespace xtgrad
