// The C++ side of the module differential test (module_diff.py, module_runner.cpp): each file
// tests/diff/module_cases/<family>.cpp registers the modules it can build, keyed by the
// "module" field of a case's config.json, e.g. {"module": "LSTM", "input_size": 3, ...}.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/module.hpp"

namespace module_diff {

using json = nlohmann::json;
using Variable = xtgrad::BasicVariable<double>;
using Module = xtgrad::nn::BasicModule<double>;
using Named = std::map<std::string, Variable>;  // inputs or outputs by the names the .py case gives

// How one kind of module is tested. `build` makes it from the config (its parameters are then
// overwritten with torch's state dict by nn::load_parameters, so the Rng only has to exist);
// `run` calls it on the inputs (those named in the config's "grad_inputs" require grad, the
// others are constants) and returns its outputs, named as the .py case names them.
struct ModuleCase {
  std::function<std::shared_ptr<Module>(const json& config, xtgrad::Rng& rng)> build;
  std::function<Named(Module& module, const json& config, const Named& inputs)> run;
};

// Registers `module_case` under `module` (the config's "module"); a name taken twice throws
// std::logic_error at start-up. Returns true, for `static const bool registered = ...;`.
bool register_module_case(const std::string& module, ModuleCase module_case);

// The registry (name → case).
const std::map<std::string, ModuleCase>& module_cases();

// The input called `name`; std::invalid_argument listing the names given otherwise.
const Variable& input(const Named& inputs, const std::string& name);

}  // namespace module_diff
