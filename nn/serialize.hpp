// Saving and loading a module's parameters as .npz (numpy's format: np.load reads it).
#pragma once

#include <map>
#include <string>

#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// A model's state by name, as PyTorch's state_dict: every parameter, then every buffer
// (BatchNorm's running statistics), keyed by its dotted name (fc1.weight, bn.running_mean).
// The tensors are copies: the dict outlives the model and later steps do not change it.
template <class T>
using StateDictOf = std::map<std::string, TensorOf<T>>;
using StateDict = StateDictOf<float>;

template <class T>
StateDictOf<T> state_dict(const BasicModule<T>& model);

// Copies `state` into the model's parameters and buffers of the same names. `state` must hold
// exactly the model's names with the same shapes; otherwise std::invalid_argument names
// `source` (a file, or "state dict"), the parameter and both shapes, and the model is left
// unchanged.
template <class T>
void load_state_dict(BasicModule<T>& model, const StateDictOf<T>& state, const std::string& source = "state dict");

// `state` as .npz, one array per entry, dtype float32 or float64 as T; written to a temporary
// file, synced, then renamed over `path`.
template <class T>
void save_state_dict(const StateDictOf<T>& state, const std::string& path);

// save_state_dict(state_dict(model), path).
template <class T>
void save_parameters(const BasicModule<T>& model, const std::string& path);

// load_state_dict(model, <the arrays of `path`>, path). Arrays of any supported dtype are
// converted to T (a float64 file loads into a float model).
// Names, layouts and dtypes are PyTorch's, so a torch model's state dict saved with numpy
// (np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})) loads into the same
// architecture written with xtgrad; BatchNorm's "num_batches_tracked" counters in such a file
// are skipped (xtgrad's BatchNorm keeps none). scripts/torch_state_dict.py converts .pt files.
template <class T>
void load_parameters(BasicModule<T>& model, const std::string& path);

}  // namespace nn
}  // namespace xtgrad
