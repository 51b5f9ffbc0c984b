// bench/models/init.hpp's shared initialisation written into an xtgrad model: both libraries
// store a Linear weight (out, in), so the drawn values are copied as they are.
#pragma once

#include <string>
#include <vector>

#include <xtgrad/core/core.hpp>

#include "init.hpp"

namespace bench {

inline void load_init(const xtgrad::NamedParametersOf<float>& params, unsigned long long seed, bool seed_mlp = false) {
  std::vector<ParamSpec> specs;
  for (const auto& [name, p] : params) specs.push_back({name, p.shape()});
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<float> v = init_values(specs[i], specs, seed, seed_mlp);
    xtgrad::Variable p = params[i].second;
    std::copy(v.begin(), v.end(), p.mutable_value().data());
  }
}

}  // namespace bench
