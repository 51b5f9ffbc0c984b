// One initialisation for both frameworks: every parameter's values are drawn from its own
// name and the seed, in the layout both libraries share (a Linear weight is (out, in)), so the
// two implementations of a model start from the
// same weights and their first losses agree (dropout aside).
//
// Rules (PyTorch's defaults unless `seed_mlp`):
//   "*emb*.weight"               N(0, 1)                         (nn.Embedding)
//   "ln*" / "bn*" module         weight 1, bias 0                (LayerNorm, BatchNorm)
//   other weight (out, in, ...)  U(±1/√fan_in), fan_in = in·…    (Linear, Conv2d)
//   other bias                   U(±1/√fan_in) of its weight
//   seed_mlp                     weight 0.01·N(0, 1), bias 0     (the seed experiment)
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct ParamSpec {
  std::string name;                 // "blocks.0.ln1.weight"
  std::vector<std::size_t> shape;   // PyTorch's layout
};

inline std::uint64_t name_hash(const std::string& s) {  // FNV-1a
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The module part of a parameter name ("ln1" of "blocks.0.ln1.weight") and its last part.
inline std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.rfind('.');
  const std::string leaf = name.substr(dot + 1), path = dot == std::string::npos ? "" : name.substr(0, dot);
  const auto d2 = path.rfind('.');
  return {d2 == std::string::npos ? path : path.substr(d2 + 1), leaf};
}

inline std::vector<float> init_values(const ParamSpec& p, const std::vector<ParamSpec>& all, unsigned long long seed,
                                      bool seed_mlp) {
  std::size_t n = 1;
  for (auto e : p.shape) n *= e;
  std::mt19937_64 rng(seed ^ name_hash(p.name));
  auto uniform = [&] { return double(rng() >> 11) * 0x1p-53; };  // [0, 1), the same in both programs
  auto normal = [&] {                                             // Box–Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  const auto [module, leaf] = split_name(p.name);
  std::vector<float> v(n);
  const bool norm = module.rfind("ln", 0) == 0 || module.rfind("bn", 0) == 0;
  if (p.name.find("emb") != std::string::npos) {
    for (auto& x : v) x = float(normal());
  } else if (norm) {
    for (auto& x : v) x = leaf == "weight" ? 1.0f : 0.0f;
  } else if (seed_mlp) {
    for (auto& x : v) x = leaf == "weight" ? float(0.01 * normal()) : 0.0f;
  } else {
    std::vector<std::size_t> wshape = p.shape;
    if (leaf == "bias") {
      const std::string wname = p.name.substr(0, p.name.size() - 4) + "weight";
      wshape.clear();
      for (const auto& q : all)
        if (q.name == wname) wshape = q.shape;
      if (wshape.size() < 2) throw std::runtime_error("init: no weight for " + p.name);
    }
    std::size_t fan_in = 1;
    for (std::size_t d = 1; d < wshape.size(); ++d) fan_in *= wshape[d];
    const double bound = 1.0 / std::sqrt(double(fan_in));
    for (auto& x : v) x = float((2 * uniform() - 1) * bound);
  }
  return v;
}

}  // namespace bench
