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
void save_parameters(const BasicModule<T>& model, const std::string& path) {
  std::map<std::string, NpyArray> arrays;
  for (const auto& [name, p] : saved_state(model)) arrays.emplace(name, to_npy(p.value()));
  write_npz(path, arrays);
}

template <class T>
void load_parameters(BasicModule<T>& model, const std::string& path) {
  const std::map<std::string, NpyArray> arrays = read_npz(path);
  NamedParametersOf<T> params = saved_state(model);
  std::vector<TensorOf<T>> loaded;
  loaded.reserve(params.size());
  // Check everything first, so a mismatch leaves the model untouched.
  for (const auto& [name, p] : params) {
    auto it = arrays.find(name);
    if (it == arrays.end()) {
      throw std::invalid_argument(path + ": has no array for parameter '" + name + "' of shape " +
                                  shape_str(p.value()));
    }
    TensorOf<T> t = from_npy<T>(it->second, path + ":" + name);
    if (shape_of(t) != p.shape()) {
      throw std::invalid_argument(path + ": parameter '" + name + "' has shape " + shape_str(t) +
                                  " in the file but " + shape_str(p.value()) + " in the model" +
                                  transpose_hint(shape_of(t), p.shape()));
    }
    loaded.push_back(std::move(t));
  }
  if (arrays.size() != params.size()) {
    for (const auto& [key, _] : arrays) {
      bool known = is_torch_batch_counter(key);
      for (const auto& [name, __] : params) known = known || name == key;
      if (!known) throw std::invalid_argument(path + ": array '" + key + "' matches no parameter of the model");
    }
  }
  for (std::size_t i = 0; i < params.size(); ++i) xt::noalias(params[i].second.mutable_value()) = loaded[i];
}

template void save_parameters(const BasicModule<float>&, const std::string&);
template void save_parameters(const BasicModule<double>&, const std::string&);
template void load_parameters(BasicModule<float>&, const std::string&);
template void load_parameters(BasicModule<double>&, const std::string&);

}  // namespace nn
}  // namespace xtgrad
