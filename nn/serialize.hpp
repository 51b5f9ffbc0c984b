// Saving and loading a module's parameters as .npz (numpy's format: np.load reads it).
#pragma once

#include <string>

#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// One array per parameter and per buffer (BatchNorm's running statistics), keyed by its
// dotted name (fc1.weight, bn.running_mean), dtype float32 or float64 as the model's T;
// written to a temporary file, synced, then renamed over `path`.
template <class T>
void save_parameters(const BasicModule<T>& model, const std::string& path);

// Copies every array of `path` into the parameter (or buffer) of the same name. The file must
// hold exactly the model's parameter and buffer names with the same shapes; otherwise std::invalid_argument
// names the file, the parameter and both shapes, and the model is left unchanged. Arrays of
// any supported dtype are converted to T (a float64 file loads into a float model).
// Names, layouts and dtypes are PyTorch's, so a torch model's state dict saved with numpy
// (np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})) loads into the same
// architecture written with xtgrad; BatchNorm's "num_batches_tracked" counters in such a file
// are skipped (xtgrad's BatchNorm keeps none). scripts/torch_state_dict.py converts .pt files.
template <class T>
void load_parameters(BasicModule<T>& model, const std::string& path);

}  // namespace nn
}  // namespace xtgrad
