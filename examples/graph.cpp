// graph: the computation graph of one training step (a 4-3-2 network, cross-entropy and an L2
// penalty) exported with to_dot, written to graph.dot, and rendered to graph.png when
// Graphviz's `dot` is installed. Usage: graph [OUTPUT_DIR] (default: a new temporary folder).
//
// Export before backward(): backward frees the graph's closures and parent links (unless
// retain_graph), and to_dot would then show the freed nodes without their inputs.
#include <xtgrad/xtgrad.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace xtgrad;

struct TinyNet : nn::Module {
  nn::Linear fc1, fc2;
  explicit TinyNet(Rng& rng)
      : fc1(register_module("fc1", nn::Linear(4, 3, rng))),
        fc2(register_module("fc2", nn::Linear(3, 2, rng))) {}
  Variable forward(const Variable& x) override { return fc2(tanh(fc1(x))); }
};

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path dir = argc > 1 ? fs::path(argv[1])
                                : fs::temp_directory_path() / ("xtgrad_graph_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);

  Rng rng(0);
  TinyNet model(rng);
  nn::SGD optimizer(model.named_parameters(), /*lr=*/0.1);
  L2 l2(/*lambd=*/1e-3);
  // A parameter's node is labelled with its name within its own layer ("weight"); label it
  // with the full dotted name instead, so the two layers' weights are told apart.
  for (auto& [name, param] : model.named_parameters()) param.set_name(name);
  const Variable x(randn({5, 4}, rng));              // a batch of 5: a constant (grey)
  const std::vector<std::size_t> labels{0, 1, 1, 0, 1};

  // The step's graph: parameters (named ellipses) → linear → tanh → linear → cross_entropy,
  // plus the penalty's squared_l2 nodes on the two weights, joined by add.
  Variable loss = cross_entropy(model(x), labels) + l2(model.named_parameters());
  const std::string dot = to_dot(loss);
  const fs::path dot_path = dir / "graph.dot";
  std::ofstream(dot_path) << dot;
  std::printf("wrote %s (%zu bytes)\n", dot_path.c_str(), dot.size());

  optimizer.zero_grad();
  loss.backward();
  optimizer.step();

  int status = 0;
  if (dot.find("fc1.weight") == std::string::npos || dot.find("cross_entropy") == std::string::npos) {
    std::fprintf(stderr, "graph: the export lacks the parameter names or the loss op\n");
    status = 1;
  }
  if (std::system("command -v dot > /dev/null 2>&1") == 0) {
    const fs::path png = dir / "graph.png";
    const std::string command = "dot -Tpng '" + dot_path.string() + "' -o '" + png.string() + "'";
    if (std::system(command.c_str()) != 0 || !fs::exists(png) || fs::file_size(png) == 0) {
      std::fprintf(stderr, "graph: `%s` failed\n", command.c_str());
      status = 1;
    } else {
      std::printf("rendered %s\n", png.c_str());
    }
  } else {
    std::printf("Graphviz not found: render it with  dot -Tpng %s -o graph.png\n", dot_path.c_str());
  }
  return status;
}
