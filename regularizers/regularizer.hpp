// Regularizers: named parameters → a scalar penalty Variable, a node of the same graph as the
// data loss, so backward() derives its gradient. Add it to the loss: loss = data + reg(params).
//
// Convention (stated once, used everywhere): penalty = l1·Σ|w| + ½·l2·Σw² over the selected
// tensors, not divided by batch or dataset size. Its gradient is l1·sign(w) + l2·w, with
// sign(0) = 0. PyTorch SGD weight_decay=l2 gives the same step; Keras L2(k) and mlpack use
// k·Σw², i.e. k = l2/2; Keras L1(k) is ours with l1 = k; sklearn's MLP alpha = l2·n, n the
// samples its loss is averaged over (the batch).
//
// An L1 term reaches the weights in one of two ways (L1Mode): as the subgradient of its graph
// node (the default), or, with mode prox, through a proximal step after each optimizer step
// (prox.hpp), which sets weights to exactly 0; then the term is reported but not
// differentiated. Every regularizer has a start epoch (1-based): before it the penalty is 0
// and no proximal step runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/regularizers/selection.hpp"

namespace xtgrad {

// How the L1 term is applied: `subgradient` adds the node λ·Σ|w| to the graph (gradient
// λ·sign(w)); `prox` reports its value but applies it after each optimizer step with
// learning rate lr as w ← sign(w)·max(|w| − lr·λ, 0).
enum class L1Mode { subgradient, prox };
// "subgradient" or "prox".
const char* to_string(L1Mode mode);

// One parameter as a regularizer sees it: penalized or not, with its coefficients (0 if not).
struct Coverage {
  std::string name;
  Shape shape;
  bool penalized = false;
  double l1 = 0;  // coefficient of Σ|w|
  double l2 = 0;  // coefficient of ½Σw²
  L1Mode l1_mode = L1Mode::subgradient;
  std::size_t start = 1;  // first epoch (1-based) with the penalty on
  double group = 0;        // coefficient λ of Σ_g √|g|·‖w_g‖₂ (group lasso), 0 otherwise
  std::string groups;      // the group lasso's groups, "units" or "inputs"; "" otherwise
};

// A penalty over parameters of scalar type T (float or double); coefficients are doubles
// whatever T is. `Regularizer`, `L1`, `L2`, `ElasticNet`, `NoPenalty` are the float ones.
template <class T>
class BasicRegularizer {
 public:
  virtual ~BasicRegularizer() = default;
  // Scalar (shape ()) penalty over the selected parameters, built from ops only. A constant
  // 0 (requires_grad false) when nothing is selected or every coefficient is 0.
  virtual BasicVariable<T> penalty(const NamedParametersOf<T>& params) const = 0;
  // Canonical spec, re-parsable by parse_regularizer_spec: "l2(lambd=0.01)".
  virtual std::string describe() const = 0;
  // Every parameter in `params`, in order, penalized or not, with its coefficients.
  virtual std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const = 0;

  // Same as penalty(params): `loss = data + reg(model.named_parameters())`.
  BasicVariable<T> operator()(const NamedParametersOf<T>& params) const { return penalty(params); }

  // First epoch (1-based) with the penalty on.
  std::size_t start() const { return start_; }
  // epoch ≥ start(): the penalty and its proximal step apply in this epoch.
  bool active(std::size_t epoch) const { return epoch >= start_; }
  // penalty(params) in an active epoch, a constant 0 before start().
  BasicVariable<T> penalty_at(const NamedParametersOf<T>& params, std::size_t epoch) const;
  // The penalty's value per parameter, aligned with `params` (0 for one not penalized, or a
  // second name of a tensor already counted): tensor_penalty of each, as plain numbers, no graph.
  std::vector<double> penalty_terms(const NamedParametersOf<T>& params) const;
  // The penalty on one penalized tensor `w` (named `name`, covered as `row`): l1·Σ|w| + ½·l2·Σw²
  // (a kind with another penalty overrides it: BasicGroupLasso).
  virtual double tensor_penalty(const Coverage& row, const TensorOf<T>& w, const std::string& name) const;
  // The L1 coefficient left to the proximal step (l1 in mode prox, else 0).
  virtual double prox_l1() const { return 0; }
  // The tensors the proximal step applies to (the regularizer's selection).
  virtual BasicSelection<T> prox_selection() const { return BasicSelection<T>(); }
  // The proximal step of the part of the penalty left out of the graph (mode prox), in place,
  // for a step size `lr` (the optimizer's learning rate): soft_threshold by lr·prox_l1() over
  // prox_selection() unless prox_l1() is 0; a kind with another non-smooth term overrides it
  // (BasicGroupLasso: block soft-thresholding). Returns whether it ran. Ignores start():
  // apply_prox (prox.hpp) checks the epoch and lr.
  virtual bool prox_step(const NamedParametersOf<T>& params, double lr) const;
  // Lines format_equivalents prints for a kind it does not know (each ending in '\n'); "" for
  // the built-in norm penalties, whose lines it writes itself.
  virtual std::string equivalents() const { return {}; }

 protected:
  // Throws std::invalid_argument unless start ≥ 1.
  explicit BasicRegularizer(std::size_t start = 1);
  // ", start=N" when start() > 1, else "": the tail of describe().
  std::string describe_start() const;

 private:
  std::size_t start_;
};

// λ·Σ|w| over the selection; gradient λ·sign(w), 0 at w = 0 (mode subgradient), or a
// proximal step (mode prox), on from epoch `start`.
template <class T>
class BasicL1 : public BasicRegularizer<T> {
 public:
  // Throws std::invalid_argument unless λ is finite and ≥ 0 and start ≥ 1.
  explicit BasicL1(double lambd, BasicSelection<T> selection = {}, L1Mode mode = L1Mode::subgradient,
                   std::size_t start = 1);
  BasicVariable<T> penalty(const NamedParametersOf<T>& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const override;
  double prox_l1() const override { return mode_ == L1Mode::prox ? lambd_ : 0.0; }
  BasicSelection<T> prox_selection() const override { return selection_; }
  double lambd() const { return lambd_; }                            // λ
  L1Mode mode() const { return mode_; }                                // subgradient or prox
  const BasicSelection<T>& selection() const { return selection_; }    // the penalized tensors

 private:
  double lambd_;
  BasicSelection<T> selection_;
  L1Mode mode_;
};

// ½·λ·Σw² over the selection (the seed's convention); gradient λ·w; on from epoch `start`.
template <class T>
class BasicL2 : public BasicRegularizer<T> {
 public:
  // Throws std::invalid_argument unless λ is finite and ≥ 0 and start ≥ 1.
  explicit BasicL2(double lambd, BasicSelection<T> selection = {}, std::size_t start = 1);
  BasicVariable<T> penalty(const NamedParametersOf<T>& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const override;
  double lambd() const { return lambd_; }                            // λ
  const BasicSelection<T>& selection() const { return selection_; }    // the penalized tensors

 private:
  double lambd_;
  BasicSelection<T> selection_;
};

// l1·Σ|w| + ½·l2·Σw² over the selection; gradient l1·sign(w) + l2·w, or with mode prox
// gradient l2·w and a proximal step for the l1 part; on from epoch `start`.
template <class T>
class BasicElasticNet : public BasicRegularizer<T> {
 public:
  // Throws std::invalid_argument unless both coefficients are finite and ≥ 0 and start ≥ 1.
  BasicElasticNet(double l1, double l2, BasicSelection<T> selection = {},
                  L1Mode mode = L1Mode::subgradient, std::size_t start = 1);
  BasicVariable<T> penalty(const NamedParametersOf<T>& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const override;
  double prox_l1() const override { return mode_ == L1Mode::prox ? l1_ : 0.0; }
  BasicSelection<T> prox_selection() const override { return selection_; }
  double l1() const { return l1_; }                                   // coefficient of Σ|w|
  double l2() const { return l2_; }                                   // coefficient of ½Σw²
  L1Mode mode() const { return mode_; }                                // subgradient or prox
  const BasicSelection<T>& selection() const { return selection_; }    // the penalized tensors

 private:
  double l1_, l2_;
  BasicSelection<T> selection_;
  L1Mode mode_;
};

// 0: penalizes nothing; penalty is a constant 0.
template <class T>
class BasicNoPenalty : public BasicRegularizer<T> {
 public:
  BasicNoPenalty() = default;
  BasicVariable<T> penalty(const NamedParametersOf<T>& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParametersOf<T>& params) const override;
};

extern template class BasicRegularizer<float>;
extern template class BasicRegularizer<double>;
extern template class BasicL1<float>;
extern template class BasicL1<double>;
extern template class BasicL2<float>;
extern template class BasicL2<double>;
extern template class BasicElasticNet<float>;
extern template class BasicElasticNet<double>;
extern template class BasicNoPenalty<float>;
extern template class BasicNoPenalty<double>;

using Regularizer = BasicRegularizer<float>;
using L1 = BasicL1<float>;
using L2 = BasicL2<float>;
using ElasticNet = BasicElasticNet<float>;
using NoPenalty = BasicNoPenalty<float>;

// Shortest decimal text that reads back to exactly `value` ("0.01", "1e-4", "5e+20").
std::string format_coefficient(double value);

// A printable table: one line per parameter with shape, penalized yes/no and coefficients,
// then the convention.
std::string format_coverage(const std::vector<Coverage>& rows);
// The same coefficients in other libraries' terms: PyTorch weight_decay, Keras L1/L2/L1L2,
// scikit-learn's MLP alpha (for minibatches of `batch_size`; left out when 0) and
// SGDClassifier alpha; then the L1 mode and the schedule. One line each.
template <class T>
std::string format_equivalents(const BasicRegularizer<T>& reg, std::size_t batch_size = 0);
// reg.describe(), the table, and format_equivalents(reg, batch_size).
template <class T>
std::string format_coverage(const BasicRegularizer<T>& reg, const NamedParametersOf<T>& params,
                            std::size_t batch_size = 0);

}  // namespace xtgrad
