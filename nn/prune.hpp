// Removing dead hidden units from a Sequential: a smaller model with the same predictions.
//
// A hidden unit is the output u of a Linear (a row of its weight (out, in)) or a Conv2d (an
// output filter of its weight (out, in, kh, kw)) that feeds the next Linear or Conv2d through
// layers acting on each unit alone (activations, Dropout, MaxPool2d, AvgPool2d without padding,
// AdaptiveAvgPool2d, Flatten). It is removed, with its row (filter) and bias and the next
// layer's matching columns (input channel; after a Flatten the columns of its H·W features),
// when
//   - its incoming weights are all exactly 0 (what group_lasso(groups=units, mode=prox)
//     leaves): its output is then the constant v = f(b_u) whatever the input, b_u its bias and
//     f the layers in between; v·(the next layer's weights for u) is added to the next layer's
//     bias, so a unit with a non-zero bias keeps its constant contribution. (Into a Conv2d this
//     is exact only without padding: with padding, or without a bias to add to, a unit with
//     v ≠ 0 is kept, and counted as kept.) Or
//   - the next layer's weights reading it are all exactly 0 (its output is never used).
// The model's output units (the last Linear or Conv2d) are never removed, nor its inputs. A layer
// keeps at least one unit (if every unit is dead, the first stays, counted as kept dead).
// Predictions agree up to float rounding: the next layer sums fewer terms and adds the folded
// constants to its bias, so logits differ by a few ulps (not bitwise), the argmax almost never.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xtgrad/nn/layers.hpp"

namespace xtgrad {
namespace nn {

// What prune_dead_units did to one Linear or Conv2d with a next layer.
struct PrunedLayer {
  std::string name;          // the layer's name in the Sequential ("fc1", "conv1")
  std::size_t units = 0;     // units (rows, filters) before
  std::size_t kept = 0;      // units after
  std::size_t dead_in = 0;   // removed: incoming weights all 0 (constant output, folded)
  std::size_t dead_out = 0;  // removed: the next layer's weights for it all 0 (and incoming not)
  std::size_t stuck = 0;     // dead but kept: its constant could not be folded, or it is the last unit
};

struct PruneReport {
  std::vector<PrunedLayer> layers;     // one per Linear/Conv2d that has a next layer, in order
  std::size_t hidden_units_before = 0, hidden_units_after = 0;  // Σ units, Σ kept
  std::size_t parameters_before = 0, parameters_after = 0;
};

// A pruned copy of a model and what was removed.
template <class T>
struct BasicPruned {
  BasicSequential<T> model;
  PruneReport report;
};
using Pruned = BasicPruned<float>;

// A new Sequential, the layers of `model` under the same names with their own copies of the
// parameters (the original is not changed and shares nothing with the result), without the
// dead units described above. Layers are read at the top level of `model`. Throws
// std::invalid_argument naming the layer for a layer type it cannot copy (supported: Linear,
// Conv2d, the activation modules, Softmax, LogSoftmax, Dropout, Flatten, MaxPool2d,
// AvgPool2d, AdaptiveAvgPool2d; not a nested Sequential, BatchNorm or attention).
template <class T>
BasicPruned<T> prune_dead_units(const BasicSequential<T>& model);

// The hidden units prune_dead_units would count (units of every Linear/Conv2d with a next
// Linear/Conv2d), without copying anything.
template <class T>
std::size_t hidden_units(const BasicSequential<T>& model);

// A printable table of the report: layer, units before → after, dead in, dead out, kept dead.
std::string format_prune_report(const PruneReport& report);

extern template struct BasicPruned<float>;
extern template struct BasicPruned<double>;

}  // namespace nn
}  // namespace xtgrad
