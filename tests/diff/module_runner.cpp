// Runs modules for the module differential test against PyTorch (module_diff.py). Usage:
//   module_runner CASE_DIR...      each CASE_DIR holds what module_diff.py wrote:
//     config.json   {"name": ..., "module": "LSTM", <module options>, "grad_inputs": ["x", ...]}
//     state.npz     torch's state_dict (np.savez with its names), loaded with nn::load_parameters
//     inputs.npz    the inputs by name
//     upstream.npz  R, one array per output name
// and receives result.npz: "out.<name>" for each output, "grad.input.<name>" for each input in
// grad_inputs, "grad.param.<name>" for each parameter (named as in the state dict): the
// gradients of L = Σ_outputs Σ out ⊙ R. Prints one line per case ("ok NAME" or "error NAME:
// message"); exit status 0 when every case ran, 1 otherwise, 2 on bad usage.
//   module_runner --list           prints the registered module names.
#include <algorithm>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "module_case.hpp"
#include "xtgrad/io/npz.hpp"
#include "xtgrad/nn/serialize.hpp"
#include "xtgrad/ops/ops.hpp"

namespace module_diff {

namespace {
std::map<std::string, ModuleCase>& registry() {
  static std::map<std::string, ModuleCase> cases;
  return cases;
}
}  // namespace

bool register_module_case(const std::string& module, ModuleCase module_case) {
  if (!registry().emplace(module, std::move(module_case)).second)
    throw std::logic_error("module_runner: module case '" + module + "' is registered twice");
  return true;
}

const std::map<std::string, ModuleCase>& module_cases() { return registry(); }

const Variable& input(const Named& inputs, const std::string& name) {
  const auto it = inputs.find(name);
  if (it != inputs.end()) return it->second;
  std::string known;
  for (const auto& [k, v] : inputs) known += (known.empty() ? "" : ", ") + k;
  throw std::invalid_argument("module_runner: no input named '" + name + "' (inputs: " + known + ")");
}

}  // namespace module_diff

namespace {

using module_diff::json;
using module_diff::Named;
using module_diff::Variable;
using Tensor = xtgrad::TensorOf<double>;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot open " + path);
  return json::parse(in);
}

void run_case(const std::string& dir) {
  const json config = read_json(dir + "/config.json");
  const std::string module_name = config.at("module").get<std::string>();
  const auto& cases = module_diff::module_cases();
  const auto found = cases.find(module_name);
  if (found == cases.end()) throw std::invalid_argument("no module case registered for '" + module_name + "'");
  const module_diff::ModuleCase& module_case = found->second;

  xtgrad::Rng rng(1);
  std::shared_ptr<module_diff::Module> module = module_case.build(config, rng);
  xtgrad::nn::load_parameters(*module, dir + "/state.npz");
  if (config.value("training", false)) module->train(); else module->eval();

  std::vector<std::string> grad_inputs = config.value("grad_inputs", std::vector<std::string>{});
  Named inputs;
  for (const auto& [name, array] : xtgrad::nn::read_npz(dir + "/inputs.npz")) {
    const bool grad = std::find(grad_inputs.begin(), grad_inputs.end(), name) != grad_inputs.end();
    inputs.emplace(name, Variable(xtgrad::nn::from_npy<double>(array, "inputs.npz: " + name), grad));
  }
  for (const auto& name : grad_inputs)
    if (!inputs.count(name)) throw std::invalid_argument("grad_inputs names '" + name + "', not in inputs.npz");

  const Named outputs = module_case.run(*module, config, inputs);
  const auto upstream = xtgrad::nn::read_npz(dir + "/upstream.npz");
  if (upstream.size() != outputs.size())
    throw std::invalid_argument("the case returns " + std::to_string(outputs.size()) + " outputs, upstream.npz holds " +
                                std::to_string(upstream.size()));
  Variable loss;
  std::map<std::string, xtgrad::nn::NpyArray> result;
  for (const auto& [name, out] : outputs) {
    const auto r = upstream.find(name);
    if (r == upstream.end()) throw std::invalid_argument("no upstream gradient for output '" + name + "'");
    const Variable weight(xtgrad::nn::from_npy<double>(r->second, "upstream.npz: " + name));
    const Variable term = xtgrad::sum(out * weight);
    loss = loss.defined() ? loss + term : term;
    result.emplace("out." + name, xtgrad::nn::to_npy(out.value()));
  }
  if (loss.defined() && loss.requires_grad()) loss.backward();
  const auto grad_or_zeros = [](const Variable& v) {
    if (v.has_grad()) return v.grad();
    Tensor zeros = Tensor::from_shape(v.shape());
    std::fill(zeros.data(), zeros.data() + zeros.size(), 0.0);
    return zeros;
  };
  for (const auto& name : grad_inputs)
    result.emplace("grad.input." + name, xtgrad::nn::to_npy(grad_or_zeros(inputs.at(name))));
  for (const auto& [name, p] : module->named_parameters())
    result.emplace("grad.param." + name, xtgrad::nn::to_npy(grad_or_zeros(p)));
  xtgrad::nn::write_npz(dir + "/result.npz", result);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: module_runner CASE_DIR... | --list\n";
    return 2;
  }
  if (std::string(argv[1]) == "--list") {
    for (const auto& [name, c] : module_diff::module_cases()) std::cout << name << "\n";
    return 0;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string dir = argv[i];
    std::string name = dir;
    try {
      name = read_json(dir + "/config.json").value("name", dir);
      run_case(dir);
      std::cout << "ok " << name << std::endl;
    } catch (const std::exception& e) {
      std::cout << "error " << name << ": " << e.what() << std::endl;
      status = 1;
    }
  }
  return status;
}
