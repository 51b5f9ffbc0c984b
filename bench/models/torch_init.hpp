// bench/models/init.hpp's shared initialisation written into a libtorch module (PyTorch's
// layout is the one init.hpp draws in).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "init.hpp"

namespace bench {

inline void load_init(torch::nn::Module& m, unsigned long long seed, bool seed_mlp = false) {
  torch::NoGradGuard no_grad;
  const auto params = m.named_parameters(/*recurse=*/true);
  std::vector<ParamSpec> specs;
  for (const auto& p : params) specs.push_back({p.key(), {p.value().sizes().begin(), p.value().sizes().end()}});
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::vector<float> v = init_values(specs[i], specs, seed, seed_mlp);
    torch::Tensor p = params[i].value();
    p.copy_(torch::from_blob(v.data(), p.sizes(), torch::kFloat32));
  }
}

}  // namespace bench
