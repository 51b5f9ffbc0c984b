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
                                  " in the file but " + shape_str(p.value()) + " in the model");
    }
    loaded.push_back(std::move(t));
  }
  if (arrays.size() != params.size()) {
    for (const auto& [key, _] : arrays) {
      bool known = false;
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
