#include "xtgrad/nn/serialize.hpp"

#include <map>
#include <stdexcept>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/io/npz.hpp"

namespace xtgrad {
namespace nn {

namespace {

// Parameters, then buffers (BatchNorm's running statistics): what a saved model holds.
template <class T>
NamedParametersOf<T> saved_state(const BasicModule<T>& model) {
  NamedParametersOf<T> out = model.named_parameters();
  for (auto& entry : model.named_buffers()) out.push_back(std::move(entry));
  return out;
}

// PyTorch's BatchNorm counts its training batches in a buffer "num_batches_tracked" (used only
// with momentum=None); xtgrad's BatchNorm does not keep it, so a torch state dict's entry is skipped.
bool is_torch_batch_counter(const std::string& key) {
  const std::string name = "num_batches_tracked";
  return key == name || (key.size() > name.size() && key.compare(key.size() - name.size() - 1, std::string::npos,
                                                                 "." + name) == 0);
}

// " (a Linear weight was (in, out) before xtgrad 0.2 ...)" when the file holds the transpose of a
// 2-d parameter's shape, else "".
std::string transpose_hint(const Shape& in_file, const Shape& in_model) {
  if (in_file.size() != 2 || in_model.size() != 2 || in_file[0] != in_model[1] || in_file[1] != in_model[0]) return "";
  return " (the transpose: nn::Linear weights are (out, in) as PyTorch's since xtgrad 0.2, (in, out) before; "
         "scripts/torch_state_dict.py transpose-linear converts an old file)";
}

}  // namespace

template <class T>
StateDictOf<T> state_dict(const BasicModule<T>& model) {
  StateDictOf<T> state;
  for (const auto& [name, p] : saved_state(model)) state.emplace(name, p.value());
  return state;
}

template <class T>
void load_state_dict(BasicModule<T>& model, const StateDictOf<T>& state, const std::string& source) {
  NamedParametersOf<T> params = saved_state(model);
  // Check everything first, so a mismatch leaves the model untouched.
  for (const auto& [name, p] : params) {
    auto it = state.find(name);
    if (it == state.end()) {
      throw std::invalid_argument(source + ": has no array for parameter '" + name + "' of shape " +
                                  shape_str(p.value()));
    }
    if (shape_of(it->second) != p.shape()) {
      throw std::invalid_argument(source + ": parameter '" + name + "' has shape " + shape_str(it->second) +
                                  " there but " + shape_str(p.value()) + " in the model" +
                                  transpose_hint(shape_of(it->second), p.shape()));
    }
  }
  if (state.size() != params.size()) {
    for (const auto& [key, _] : state) {
      bool known = false;
      for (const auto& [name, __] : params) known = known || name == key;
      if (!known) throw std::invalid_argument(source + ": array '" + key + "' matches no parameter of the model");
    }
  }
  for (auto& [name, p] : params) xt::noalias(p.mutable_value()) = state.at(name);
}

template <class T>
void save_state_dict(const StateDictOf<T>& state, const std::string& path) {
  std::map<std::string, NpyArray> arrays;
  for (const auto& [name, t] : state) arrays.emplace(name, to_npy(t));
  write_npz(path, arrays);
}

template <class T>
void save_parameters(const BasicModule<T>& model, const std::string& path) {
  save_state_dict(state_dict(model), path);
}

template <class T>
void load_parameters(BasicModule<T>& model, const std::string& path) {
  StateDictOf<T> state;
  for (const auto& [key, array] : read_npz(path)) {
    if (!is_torch_batch_counter(key)) state.emplace(key, from_npy<T>(array, path + ":" + key));
  }
  load_state_dict(model, state, path);
}

template void save_parameters(const BasicModule<float>&, const std::string&);
template void save_parameters(const BasicModule<double>&, const std::string&);
template void load_parameters(BasicModule<float>&, const std::string&);
template void load_parameters(BasicModule<double>&, const std::string&);
template StateDictOf<float> state_dict(const BasicModule<float>&);
template StateDictOf<double> state_dict(const BasicModule<double>&);
template void load_state_dict(BasicModule<float>&, const StateDictOf<float>&, const std::string&);
template void load_state_dict(BasicModule<double>&, const StateDictOf<double>&, const std::string&);
template void save_state_dict(const StateDictOf<float>&, const std::string&);
template void save_state_dict(const StateDictOf<double>&, const std::string&);

}  // namespace nn
}  // namespace xtgrad
