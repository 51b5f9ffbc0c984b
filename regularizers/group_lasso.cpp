#include "xtgrad/regularizers/group_lasso.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "xtgrad/ops/elementwise.hpp"

namespace xtgrad {
namespace {

constexpr const char* kWho = "GroupLasso";

void check_threshold(double threshold) {
  if (!std::isfinite(threshold) || threshold < 0) {
    throw std::invalid_argument("group_soft_threshold: threshold must be finite and >= 0, got " +
                                format_coefficient(threshold));
  }
}

// A weight seen as (out, in, rest): rest = kh·kw for a Conv2d, 1 for a Linear. Units are the
// `out` slices, inputs the `in` slices; both are walked in memory order (a column of a Linear
// weight is strided, so it is never walked on its own).
struct Dims {
  std::size_t out, in, rest;
};
Dims dims_of(const Shape& shape) {
  std::size_t rest = 1;
  for (std::size_t a = 2; a < shape.size(); ++a) rest *= shape[a];
  return {shape[0], shape[1], rest};
}

// Σ w² of n consecutive values in double, in 8 interleaved partial sums (so the loop
// vectorizes; the order is fixed, so the result is the same on every call).
template <class Scalar>
double square_sum(const Scalar* p, std::size_t n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t j = 0; j < 8; ++j) part[j] += double(p[i + j]) * double(p[i + j]);
  }
  for (; i < n; ++i) part[i % 8] += double(p[i]) * double(p[i]);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// ‖w_g‖² of every group, in one pass over w in memory order.
template <class Scalar>
std::vector<double> group_square_sums(const Scalar* w, const Dims& d, GroupBy groups) {
  if (groups == GroupBy::units) {
    std::vector<double> sums(d.out);
    for (std::size_t o = 0; o < d.out; ++o) sums[o] = square_sum(w + o * d.in * d.rest, d.in * d.rest);
    return sums;
  }
  std::vector<double> sums(d.in, 0.0);
  for (std::size_t o = 0; o < d.out; ++o) {
    const Scalar* row = w + o * d.in * d.rest;
    if (d.rest == 1) {  // a Linear weight: one row adds to every column's sum (vectorizes over c)
      for (std::size_t c = 0; c < d.in; ++c) sums[c] += double(row[c]) * double(row[c]);
    } else {
      for (std::size_t c = 0; c < d.in; ++c) sums[c] += square_sum(row + c * d.rest, d.rest);
    }
  }
  return sums;
}

// out = w·scale[g] for each group g (out may be w), in memory order.
template <class Scalar>
void scale_groups(const Scalar* w, Scalar* out, const Dims& d, GroupBy groups, const std::vector<Scalar>& scale) {
  for (std::size_t o = 0; o < d.out; ++o) {
    for (std::size_t c = 0; c < d.in; ++c) {
      const Scalar f = scale[groups == GroupBy::units ? o : c];
      const std::size_t at = (o * d.in + c) * d.rest;
      for (std::size_t r = 0; r < d.rest; ++r) out[at + r] = f == Scalar(0) ? Scalar(0) : w[at + r] * f;
    }
  }
}

// Whether params[i] is selected and is the first selected entry for its tensor.
template <class Scalar>
bool first_selected(const NamedParametersOf<Scalar>& params, std::size_t i, const BasicSelection<Scalar>& selection) {
  if (!selection.selects(params[i].first, params[i].second)) return false;
  const BasicNode<Scalar>* node = params[i].second.node().get();
  for (std::size_t j = 0; j < i; ++j) {
    if (params[j].second.node().get() == node && selection.selects(params[j].first, params[j].second)) return false;
  }
  return true;
}

// Which entries of `params` the penalty covers: selected, each tensor once, and with layers
// hidden only the hidden units' groups: for units every selected tensor but the last (the output
// layer's rows are the model's outputs), for inputs the first alone (the model's inputs).
template <class Scalar>
std::vector<bool> covered(const NamedParametersOf<Scalar>& params, const BasicSelection<Scalar>& selection,
                          GroupBy groups, GroupLayers layers) {
  std::vector<bool> mask(params.size(), false);
  std::vector<std::size_t> picked;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (first_selected(params, i, selection)) picked.push_back(i);
  }
  if (layers == GroupLayers::hidden && !picked.empty()) {
    if (groups == GroupBy::units) {
      picked.pop_back();
    } else {
      picked.resize(1);
    }
  }
  for (const std::size_t i : picked) mask[i] = true;
  return mask;
}

template <class Scalar>
void check_defined(const NamedParametersOf<Scalar>& params) {
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument(std::string(kWho) + ": parameter '" + name + "' is an empty Variable");
    }
  }
}

// c·Σ_g ‖w_g‖₂ of one tensor (c = λ·√|g|) as one node, in a single pass each way (the penalty is
// built every step; composing it of norm, sum and mul made three temporaries the size of w):
//   y = c·Σ_g ‖w_g‖,  dw_g = ĝ·c·w_g/‖w_g‖ : shape of w (0 for a group that is all 0).
template <class Scalar>
BasicVariable<Scalar> group_norm_sum(const BasicVariable<Scalar>& w, GroupBy groups, double c) {
  const TensorOf<Scalar>& x = w.value();
  std::vector<double> norms = group_norms(x, groups);
  double total = 0;
  for (const double n : norms) total += n;
  TensorOf<Scalar> y = TensorOf<Scalar>::from_shape({});
  y() = Scalar(c * total);
  return make_result<Scalar>("group_lasso", std::move(y), {w}, [norms = std::move(norms), groups, c](BasicNode<Scalar>& self) {
    const TensorOf<Scalar>& x = self.parent_value(0);
    const Shape shape = shape_of(x);
    TensorOf<Scalar> dx = TensorOf<Scalar>::from_shape(shape);
    const double g = double(self.grad());
    std::vector<Scalar> scale(norms.size());
    for (std::size_t k = 0; k < norms.size(); ++k) scale[k] = norms[k] > 0 ? Scalar(g * c / norms[k]) : Scalar(0);
    scale_groups(x.data(), dx.data(), dims_of(shape), groups, scale);
    self.add_to_parent(0, std::move(dx));
  });
}

}  // namespace

const char* to_string(GroupBy groups) { return groups == GroupBy::inputs ? "inputs" : "units"; }
const char* to_string(GroupLayers layers) { return layers == GroupLayers::all ? "all" : "hidden"; }

GroupLayout group_layout(const Shape& shape, GroupBy groups, const std::string& who, const std::string& name) {
  if (shape.size() < 2) {
    throw std::invalid_argument(who + ": " + name + " has shape " + shape_str(shape) + "; groups of " +
                                to_string(groups) +
                                " need a weight with 2 or more axes (Linear (out, in), Conv2d (out, in, kh, kw)); "
                                "penalize weights only, not biases");
  }
  const std::size_t axis = groups == GroupBy::units ? 0 : 1;
  GroupLayout layout;
  layout.count = shape[axis];
  layout.size = shape[axis] == 0 ? 0 : element_count(shape) / shape[axis];
  return layout;
}

template <class Scalar>
std::vector<double> group_norms(const TensorOf<Scalar>& w, GroupBy groups) {
  const Shape shape = shape_of(w);
  group_layout(shape, groups, "group_norms");  // throws for fewer than 2 axes
  std::vector<double> norms = group_square_sums(w.data(), dims_of(shape), groups);
  for (double& n : norms) n = std::sqrt(n);
  return norms;
}

template <class Scalar>
std::size_t group_soft_threshold(TensorOf<Scalar>& w, GroupBy groups, double threshold) {
  check_threshold(threshold);
  const Shape shape = shape_of(w);
  const GroupLayout layout = group_layout(shape, groups, "group_soft_threshold");
  const double t = threshold * std::sqrt(double(layout.size));  // the group's threshold, t·√|g|
  const Dims d = dims_of(shape);
  const std::vector<double> squares = group_square_sums(w.data(), d, groups);
  // w_g ← w_g·max(0, 1 − t/‖w_g‖); a group at or under the threshold becomes exactly +0
  std::vector<Scalar> scale(layout.count);
  std::size_t zeros = 0;
  for (std::size_t g = 0; g < layout.count; ++g) {
    const double norm = std::sqrt(squares[g]);
    const bool vanish = norm <= t;
    scale[g] = vanish ? Scalar(0) : Scalar(1 - t / norm);
    zeros += vanish;
  }
  scale_groups(w.data(), w.data(), d, groups, scale);
  return zeros;
}

// ---- GroupLasso ---------------------------------------------------------------------------

template <class Scalar>
BasicGroupLasso<Scalar>::BasicGroupLasso(double lambd, GroupBy groups, BasicSelection<Scalar> selection, L1Mode mode,
                                         std::size_t start, GroupLayers layers)
    : BasicRegularizer<Scalar>(start),
      lambd_(lambd),
      groups_(groups),
      selection_(std::move(selection)),
      mode_(mode),
      layers_(layers) {
  if (!std::isfinite(lambd) || lambd < 0) {
    throw std::invalid_argument(std::string(kWho) + ": coefficient 'lambd' must be finite and >= 0, got " +
                                format_coefficient(lambd));
  }
  if (lambd_ == 0) lambd_ = 0.0;  // -0 → +0
}

template <class Scalar>
BasicVariable<Scalar> BasicGroupLasso<Scalar>::penalty(const NamedParametersOf<Scalar>& params) const {
  using Variable = BasicVariable<Scalar>;
  check_defined(params);
  const std::vector<bool> mask = covered(params, selection_, groups_, layers_);
  // Every covered tensor is checked before any node is built, in mode prox too.
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (mask[i]) group_layout(params[i].second.shape(), groups_, kWho, "parameter '" + params[i].first + "'");
  }
  if (lambd_ == 0) return Variable::scalar(Scalar(0));
  if (mode_ == L1Mode::prox) {
    // reported, not differentiated (the proximal step applies it): its value, no graph
    double total = 0;
    for (const double t : this->penalty_terms(params)) total += t;
    return Variable::scalar(Scalar(total));
  }
  Variable total;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!mask[i]) continue;
    const GroupLayout layout = group_layout(params[i].second.shape(), groups_, kWho, params[i].first);
    const Variable term = group_norm_sum(params[i].second, groups_, lambd_ * std::sqrt(double(layout.size)));
    total = total.defined() ? total + term : term;
  }
  return total.defined() ? total : Variable::scalar(Scalar(0));
}

template <class Scalar>
std::string BasicGroupLasso<Scalar>::describe() const {
  return "group_lasso(lambd=" + format_coefficient(lambd_) +
         (groups_ == GroupBy::inputs ? ", groups=inputs" : "") + (layers_ == GroupLayers::all ? ", layers=all" : "") +
         (mode_ == L1Mode::prox ? ", mode=prox" : "") +
         this->describe_start() + ")";
}

template <class Scalar>
std::vector<Coverage> BasicGroupLasso<Scalar>::coverage(const NamedParametersOf<Scalar>& params) const {
  check_defined(params);
  const std::vector<bool> mask = covered(params, selection_, groups_, layers_);
  std::vector<Coverage> rows;
  rows.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [name, param] = params[i];
    Coverage row;
    row.name = name;
    row.shape = param.shape();
    // (a second name of a covered tensor is penalized too, and counted once by penalty_terms)
    bool alias = false;
    for (std::size_t j = 0; j < i; ++j) alias = alias || (mask[j] && params[j].second.node() == param.node());
    row.penalized = lambd_ != 0 && (mask[i] || (alias && selection_.selects(name, param)));
    if (row.penalized) {
      group_layout(row.shape, groups_, kWho, "parameter '" + name + "'");
      row.group = lambd_;
      row.groups = to_string(groups_);
      row.l1_mode = mode_;
      row.start = this->start();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

template <class Scalar>
double BasicGroupLasso<Scalar>::tensor_penalty(const Coverage&, const TensorOf<Scalar>& w,
                                               const std::string& name) const {
  const GroupLayout layout = group_layout(shape_of(w), groups_, kWho, name);
  double s = 0;
  for (const double n : group_norms(w, groups_)) s += n;
  return lambd_ * std::sqrt(double(layout.size)) * s;
}

template <class Scalar>
bool BasicGroupLasso<Scalar>::prox_step(const NamedParametersOf<Scalar>& params, double lr) const {
  if (mode_ != L1Mode::prox || lambd_ == 0) return false;
  check_defined(params);
  const std::vector<bool> mask = covered(params, selection_, groups_, layers_);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (mask[i]) group_layout(params[i].second.shape(), groups_, kWho, "parameter '" + params[i].first + "'");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!mask[i]) continue;
    BasicVariable<Scalar> handle = params[i].second;  // aliases the parameter's node
    group_soft_threshold(handle.mutable_value(), groups_, lr * lambd_);
  }
  return true;
}

template <class Scalar>
std::string BasicGroupLasso<Scalar>::equivalents() const {
  const std::string l = format_coefficient(lambd_);
  std::string out = "group lasso: " + l + "·Σ_g √|g|·‖w_g‖₂ over the " + to_string(groups_) +
                    (groups_ == GroupBy::units ? " (rows of a Linear weight, output filters of a Conv2d)"
                                               : " (columns of a Linear weight, input channels of a Conv2d)") +
                    (layers_ == GroupLayers::all ? " of every selected weight"
                     : groups_ == GroupBy::units ? " of every selected weight but the last (the hidden units; the output "
                                                   "layer's rows are the model's outputs)"
                                                 : " of the first selected weight (the model's inputs)") +
                    "; PyTorch, Keras and scikit-learn have none built in (add it to the loss)\n";
  if (mode_ == L1Mode::prox) {
    out += "group lasso mode prox: reported, not differentiated; after each optimizer step w_g ← w_g·max(0, 1 − lr·" +
           l + "·√|g|/‖w_g‖₂) (whole groups reach exactly 0; nn::prune_dead_units then removes dead units)\n";
  } else {
    out += "group lasso mode subgradient: gradient " + l +
           "·√|g|·w_g/‖w_g‖₂, 0 for an all-zero group (groups shrink but rarely reach exactly 0; mode=prox gives "
           "exact zeros)\n";
  }
  return out;
}

template std::vector<double> group_norms(const TensorOf<float>&, GroupBy);
template std::vector<double> group_norms(const TensorOf<double>&, GroupBy);
template std::size_t group_soft_threshold(TensorOf<float>&, GroupBy, double);
template std::size_t group_soft_threshold(TensorOf<double>&, GroupBy, double);
template class BasicGroupLasso<float>;
template class BasicGroupLasso<double>;

}  // namespace xtgrad
