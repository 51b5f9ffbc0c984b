// Module diff cases for nn::LayerNorm (see layer_norm.py).
#include <memory>

#include "module_case.hpp"
#include "xtgrad/nn/normalization.hpp"

namespace {

const bool registered = module_diff::register_module_case(
    "LayerNorm",
    {[](const module_diff::json& config, xtgrad::Rng&) -> std::shared_ptr<module_diff::Module> {
       return std::make_shared<xtgrad::nn::BasicLayerNorm<double>>(config.at("normalized_shape").get<xtgrad::Shape>());
     },
     [](module_diff::Module& module, const module_diff::json&, const module_diff::Named& inputs) {
       return module_diff::Named{{"y", module(module_diff::input(inputs, "x"))}};
     }});

}  // namespace
