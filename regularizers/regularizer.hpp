// Regularizers: named parameters → a scalar penalty Variable, a node of the same graph as the
// data loss, so backward() derives its gradient. Add it to the loss: loss = data + reg(params).
//
// Convention (stated once, used everywhere): penalty = l1·Σ|w| + ½·l2·Σw² over the selected
// tensors, not divided by batch or dataset size. Its gradient is l1·sign(w) + l2·w, with
// sign(0) = 0. PyTorch SGD weight_decay=l2 gives the same step; Keras L2(k) and mlpack use
// k·Σw², i.e. k = l2/2; Keras L1(k) is ours with l1 = k; sklearn's MLP alpha = l2·n, n the
// samples its loss is averaged over (the batch).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/regularizers/selection.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// One parameter as a regularizer sees it: penalized or not, with its coefficients (0 if not).
struct Coverage {
  std::string name;
  Shape shape;
  bool penalized = false;
  double l1 = 0;  // coefficient of Σ|w|
  double l2 = 0;  // coefficient of ½Σw²
};

class Regularizer {
 public:
  virtual ~Regularizer() = default;
  // Scalar (shape ()) penalty over the selected parameters, built from ops only. A constant
  // 0 (requires_grad false) when nothing is selected or every coefficient is 0.
  virtual Variable penalty(const NamedParameters& params) const = 0;
  // Canonical spec, re-parsable by parse_regularizer_spec: "l2(lambd=0.01)".
  virtual std::string describe() const = 0;
  // Every parameter in `params`, in order, penalized or not, with its coefficients.
  virtual std::vector<Coverage> coverage(const NamedParameters& params) const = 0;

  Variable operator()(const NamedParameters& params) const { return penalty(params); }
};

// λ·Σ|w| over the selection; gradient λ·sign(w), 0 at w = 0.
class L1 : public Regularizer {
 public:
  explicit L1(double lambd, Selection selection = {});
  Variable penalty(const NamedParameters& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParameters& params) const override;
  double lambd() const { return lambd_; }
  const Selection& selection() const { return selection_; }

 private:
  double lambd_;
  Selection selection_;
};

// ½·λ·Σw² over the selection (the seed's convention); gradient λ·w.
class L2 : public Regularizer {
 public:
  explicit L2(double lambd, Selection selection = {});
  Variable penalty(const NamedParameters& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParameters& params) const override;
  double lambd() const { return lambd_; }
  const Selection& selection() const { return selection_; }

 private:
  double lambd_;
  Selection selection_;
};

// l1·Σ|w| + ½·l2·Σw² over the selection; gradient l1·sign(w) + l2·w.
class ElasticNet : public Regularizer {
 public:
  ElasticNet(double l1, double l2, Selection selection = {});
  Variable penalty(const NamedParameters& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParameters& params) const override;
  double l1() const { return l1_; }
  double l2() const { return l2_; }
  const Selection& selection() const { return selection_; }

 private:
  double l1_, l2_;
  Selection selection_;
};

// 0: penalizes nothing; penalty is a constant 0.
class NoPenalty : public Regularizer {
 public:
  Variable penalty(const NamedParameters& params) const override;
  std::string describe() const override;
  std::vector<Coverage> coverage(const NamedParameters& params) const override;
};

// Shortest decimal text that reads back to exactly `value` ("0.01", "1e-4", "5e+20").
std::string format_coefficient(double value);

// A printable table: one line per parameter with shape, penalized yes/no and coefficients,
// then the convention.
std::string format_coverage(const std::vector<Coverage>& rows);
// Same, headed by reg.describe().
std::string format_coverage(const Regularizer& reg, const NamedParameters& params);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
