// Group lasso: λ·Σ_g √|g|·‖w_g‖₂ over groups of a weight tensor, so that whole groups reach 0
// together: a hidden unit's incoming weights (groups=units: a row of a Linear weight (out, in),
// an output filter w[o, :, :, :] of a Conv2d weight (out, in, kh, kw)) or an input's outgoing
// weights (groups=inputs: a column w[:, i] of a Linear weight, an input channel w[:, c, :, :] of
// a Conv2d weight). |g| is the group's size, so wide and narrow groups are penalized alike
// (Yuan & Lin 2006). A unit whose incoming group is 0 is dead: nn::prune_dead_units removes it.
//
// Like L1 (regularizer.hpp), the term reaches the weights in one of two ways: mode subgradient
// differentiates the graph node (gradient λ·√|g|·w_g/‖w_g‖, 0 for a group that is all 0, the
// minimum-norm subgradient), mode prox reports the value and applies block soft-thresholding
// after each optimizer step with learning rate lr:
//   w_g ← w_g·max(0, 1 − lr·λ·√|g| / ‖w_g‖)
// (the proximal operator of lr·λ·√|g|·‖·‖₂), which sets whole groups to exactly 0.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/regularizers/regularizer.hpp"
#include "xtgrad/regularizers/selection.hpp"

namespace xtgrad {

// Which slices of a weight form the groups: `units` along axis 0 (a Linear row, a Conv2d output
// filter), `inputs` along axis 1 (a Linear column, a Conv2d input channel).
enum class GroupBy { units, inputs };
// "units" or "inputs".
const char* to_string(GroupBy groups);

// Which weights the groups are taken from: `hidden` (the default), as the definition says, the
// hidden units' groups only: with groups=units every selected weight but the last one in
// parameter order (the output layer, whose rows are the model's outputs, not hidden units), with
// groups=inputs the first one alone (its columns are the model's inputs); `all`: every selected
// weight. Parameter order is registration order, i.e. layer order for a Sequential.
enum class GroupLayers { hidden, all };
// "hidden" or "all".
const char* to_string(GroupLayers layers);

// Groups of `shape` (the extent of axis 0 or 1) and the size |g| of each; throws
// std::invalid_argument naming `who`, `name` and the shape unless the tensor has 2 or more axes.
struct GroupLayout {
  std::size_t count = 0;  // number of groups
  std::size_t size = 0;   // elements per group, |g|
};
GroupLayout group_layout(const Shape& shape, GroupBy groups, const std::string& who = "group_lasso",
                         const std::string& name = "the weight");

// ‖w_g‖₂ of every group of `w`, accumulated in double; (count) values.
template <class T>
std::vector<double> group_norms(const TensorOf<T>& w, GroupBy groups);

// Block soft-thresholding in place: w_g ← w_g·max(0, 1 − threshold·√|g|/‖w_g‖₂) for every
// group; a group that reaches 0 is exactly +0. Returns the number of groups that are exactly 0
// afterwards. Throws std::invalid_argument unless threshold is finite and ≥ 0 and w has 2 or
// more axes.
template <class T>
std::size_t group_soft_threshold(TensorOf<T>& w, GroupBy groups, double threshold);

// λ·Σ_g √|g|·‖w_g‖₂ over the covered tensors (the selected ones, narrowed by `layers`; each a
// weight of 2 or more axes), mode subgradient or prox, on from epoch `start`. `GroupLasso` is
// the float one.
template <class T>
class BasicGroupLasso : public BasicRegularizer<T> {
 public:
  // Throws std::invalid_argument unless λ is finite and ≥ 0 and start ≥ 1.
  explicit BasicGroupLasso(double lambd, GroupBy groups = GroupBy::units, BasicSelection<T> selection = {},
                           L1Mode mode = L1Mode::subgradient, std::size_t start = 1,
                           GroupLayers layers = GroupLayers::hidden);
  // The scalar penalty; in mode prox a constant (requires_grad false) with the same value.
  // Throws std::invalid_argument naming a selected tensor with fewer than 2 axes.
  BasicVariable<T> penalty(const NamedParametersOf<T>& params) const override;
  // "group_lasso(lambd=0.01)", with ", groups=inputs", ", layers=all", ", mode=prox", ", start=N"
  // when not default.
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const override;
  // λ·√|g|·Σ_g ‖w_g‖₂ over the tensor's groups.
  double tensor_penalty(const Coverage& row, const TensorOf<T>& w, const std::string& name) const override;
  // In mode prox: group_soft_threshold(lr·λ) on every selected tensor (each once).
  bool prox_step(const NamedParametersOf<T>& params, double lr) const override;
  std::string equivalents() const override;
  double lambd() const { return lambd_; }                            // λ
  GroupBy groups() const { return groups_; }                         // units or inputs
  GroupLayers layers() const { return layers_; }                     // hidden or all
  L1Mode mode() const { return mode_; }                              // subgradient or prox
  const BasicSelection<T>& selection() const { return selection_; }  // the penalized tensors

 private:
  double lambd_;
  GroupBy groups_;
  BasicSelection<T> selection_;
  L1Mode mode_;
  GroupLayers layers_;
};

extern template class BasicGroupLasso<float>;
extern template class BasicGroupLasso<double>;

using GroupLasso = BasicGroupLasso<float>;

}  // namespace xtgrad
