// bench/models/init.hpp's shared initialisation written into an xtgrad model: a Linear
// weight is (in, out) here and (out, in) in PyTorch, so its drawn values are transposed.
#pragma once

#include <string>
#include <vector>

#include <xtgrad/core/core.hpp>

#include "init.hpp"

namespace bench {

// Whether an xtgrad parameter is a Linear weight (2-d, not an embedding table).
inline bool is_linear_weight(const std::string& name, const xtgrad::Shape& shape) {
  return shape.size() == 2 && name.find("emb") == std::string::npos && split_name(name).second == "weight";
}

inline void load_init(const xtgrad::NamedParametersOf<float>& params, unsigned long long seed, bool seed_mlp = false) {
  std::vector<ParamSpec> specs;
  for (const auto& [name, p] : params) {
    xtgrad::Shape s = p.shape();
    if (is_linear_weight(name, s)) std::swap(s[0], s[1]);
    specs.push_back({name, s});
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<float> v = init_values(specs[i], specs, seed, seed_mlp);
    xtgrad::Variable p = params[i].second;
    float* dst = p.mutable_value().data();
    const xtgrad::Shape s = p.shape();
    if (is_linear_weight(params[i].first, s)) {  // v is (out, in) = (s[1], s[0]); dst is (in, out)
      for (std::size_t r = 0; r < s[0]; ++r)
        for (std::size_t c = 0; c < s[1]; ++c) dst[r * s[1] + c] = v[c * s[0] + r];
    } else {
      std::copy(v.begin(), v.end(), dst);
    }
  }
}

}  // namespace bench
