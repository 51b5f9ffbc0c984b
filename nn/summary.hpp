// A model summary, like Keras summary() or torchinfo: each layer's name, type, output shape
// and parameter count, from one forward pass.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

struct LayerSummary {
  std::string name;    // dotted path in the model ("features.0"); "?" if not registered
  std::string type;    // ModuleBase::type_name()
  Shape output_shape;  // of this call's output
  std::size_t parameters = 0;  // scalars in this layer (and its children)

  // Elements of the output: the product of output_shape.
  std::size_t output_size() const;
};

// Σ output_size() over `rows`: the values a forward pass makes, layer by layer (the input
// and what an op keeps besides its output, such as a max-pool's argmax, not counted).
std::size_t total_output_size(const std::vector<LayerSummary>& rows);

// Runs model on zeros of `input_shape` (batch axis included) without recording a graph and
// in evaluation mode (each module's mode restored after), and lists every call of a layer
// without children, in call order. Calls are seen through BasicModule::operator() (m(x), as
// Sequential makes them), not through a direct m.forward(x).
template <class T>
std::vector<LayerSummary> summarize(BasicModule<T>& model, const Shape& input_shape);

// summarize() as a table, with the model's total parameter and buffer counts:
//   Layer (type)        Output shape      Params
//   conv1 (Conv2d)      (1, 6, 28, 28)       156
//   ...
//   Total parameters: 51902
template <class T>
std::string summary(BasicModule<T>& model, const Shape& input_shape);

}  // namespace nn
}  // namespace xtgrad
