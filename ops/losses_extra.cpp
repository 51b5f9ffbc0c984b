#include "xtgrad/ops/losses_extra.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/activations_extra.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/pointwise.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

// The per-row losses `l` as the op's value: themselves (reduction none), their sum `total`, or
// total / denom (mean; denom is the summed weight of the rows kept).
template <class Scalar>
TensorOf<Scalar> reduce_rows(TensorOf<Scalar>&& l, double total, double denom, Reduction r) {
  if (r == Reduction::none) return std::move(l);
  recycle(l);
  return scalar_tensor(static_cast<Scalar>(r == Reduction::mean ? total / denom : total));
}

void check_reduction(const char* op, Reduction r, bool batch_mean_ok) {
  if (r == Reduction::batch_mean && !batch_mean_ok) {
    throw std::invalid_argument(std::string(op) + ": reduction batch_mean is only for kl_div");
  }
}

// Per-element losses `l` combined by `r`: the result, and the factor each element's loss
// carries into it (1 for sum, 1/N for mean, 1/first extent for batch_mean; unused for none).
template <class Scalar>
struct Reduced {
  TensorOf<Scalar> value;
  Scalar scale = 1;
};
template <class Scalar>
Reduced<Scalar> reduce_losses(TensorOf<Scalar> l, Reduction r) {
  if (r == Reduction::none) return {std::move(l), Scalar(1)};
  double total = 0;
  for (std::size_t k = 0; k < l.size(); ++k) total += l.data()[k];
  double scale = 1;
  if (r == Reduction::mean) scale = 1.0 / double(l.size());
  if (r == Reduction::batch_mean) scale = 1.0 / double(l.dimension() == 0 ? 1 : l.shape()[0]);
  recycle(l);
  return {scalar_tensor(static_cast<Scalar>(total * scale)), static_cast<Scalar>(scale)};
}

// The upstream gradient reaching element k's loss.
template <class Scalar>
inline Scalar upstream(const BasicNode<Scalar>& self, std::size_t k, Reduction r, Scalar scale) {
  return r == Reduction::none ? self.grad.data()[k] : self.grad.data()[0] * scale;
}

// create_graph: the upstream gradient of each element's loss as a Variable: g itself for
// reduction none, else g·scale (one element, broadcast by the formulas).
template <class Scalar>
BasicVariable<Scalar> upstream_variable(const BasicNode<Scalar>& self, Reduction r, Scalar scale) {
  const BasicVariable<Scalar> g(self.grad_node);
  return r == Reduction::none ? g : g * double(scale);
}
// The same per row of an (n, classes) input: g reshaped to (n, 1), or g·scale.
template <class Scalar>
BasicVariable<Scalar> upstream_rows(const BasicNode<Scalar>& self, Reduction r, Scalar scale, std::size_t n) {
  const BasicVariable<Scalar> g = upstream_variable(self, r, scale);
  return r == Reduction::none ? reshape(g, Shape{n, 1}) : g;
}

// A loss of d = x − y (broadcast): f(d) per element (Scalars), df(d) its derivative written once
// over Tensors or Variables (core/accumulate.hpp).
template <class Scalar, class F, class DF>
BasicVariable<Scalar> pair_loss(const char* op, const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& y,
                                Reduction r, F f, DF df) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  check_reduction(op, r, false);
  check_broadcastable(op, x.value(), y.value());
  Tensor d = evaluate(x.value() - y.value());
  Tensor l = empty_like(d);
  for (std::size_t k = 0; k < d.size(); ++k) l.data()[k] = f(d.data()[k]);
  Reduced<Scalar> red = reduce_losses(std::move(l), r);
  return make_result(op, std::move(red.value), {x, y},
                     [d = SavedTensor(std::move(d)), df, r, scale = red.scale](Node& self) {
                       // dx = g·f'(d), dy = −dx at the broadcast shape; accumulate_grad reduces broadcast axes
                       if (self.grad_node) {
                         const Variable share = upstream_variable(self, r, scale) *
                                                df(input_variable(self, 0) - input_variable(self, 1));
                         add_variable_to_parent(self, 0, share);
                         add_variable_to_parent(self, 1, -share);
                         return;
                       }
                       const Tensor& dv = d.get();
                       Tensor gd = r == Reduction::none ? evaluate(self.grad * df(dv))
                                                        : evaluate((self.grad.data()[0] * scale) * df(dv));
                       if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, gd);
                       if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, -gd);
                       recycle(gd);
                     });
}

// sign(v) ∈ {−1, 0, 1}, 0 at NaN (as the scalar loops had it), as an expression.
template <class Scalar>
auto sign_expr(const TensorOf<Scalar>& v) {
  return xt::where(v > Scalar(0), Scalar(1), xt::where(v < Scalar(0), Scalar(-1), Scalar(0)));
}

// softplus(v) = ln(1 + eᵛ) without overflow, and σ(v).
template <class Scalar>
Scalar softplus_of(Scalar v) { return std::max(v, Scalar(0)) + std::log1p(std::exp(-std::abs(v))); }
template <class Scalar>
Scalar sigmoid_of(Scalar v) {
  const Scalar e = std::exp(-std::abs(v));
  return v >= 0 ? Scalar(1) / (Scalar(1) + e) : e / (Scalar(1) + e);
}

// Marks an ignored row in the checked labels below.
constexpr std::size_t kIgnoredRow = std::numeric_limits<std::size_t>::max();

// Shared checks of nll_loss and cross_entropy: x (n, classes), labels, weight, reduction.
// Returns the class weights (all 1 if none were given) and sets `rows` to the labels as
// positions, kIgnoredRow where a label equals `ignore` (which may be negative, PyTorch's −100).
template <class Scalar>
std::vector<Scalar> check_class_loss(const char* op, const TensorOf<Scalar>& x, const std::vector<Index>& labels,
                                     const std::optional<TensorOf<Scalar>>& weight, std::optional<Index> ignore,
                                     Reduction r, std::vector<std::size_t>& rows) {
  check_reduction(op, r, false);
  if (x.dimension() != 2 || x.shape()[1] == 0) {
    throw std::invalid_argument(std::string(op) + ": expects input of shape (n, classes) with classes > 0, got " +
                                shape_str(x));
  }
  const std::size_t n = x.shape()[0], c = x.shape()[1];
  if (labels.size() != n) {
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(labels.size()) + " labels for input of shape " +
                                shape_str(x));
  }
  rows.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] == ignore) {
      rows[i] = kIgnoredRow;
      continue;
    }
    if (labels[i] < 0 || static_cast<std::uint64_t>(labels[i]) >= c) {
      throw std::invalid_argument(std::string(op) + ": label " + std::to_string(labels[i]) + " at row " +
                                  std::to_string(i) + " is out of range for " + std::to_string(c) +
                                  " classes, input of shape " + shape_str(x) +
                                  (ignore ? " (ignore_index " + std::to_string(*ignore) + ")" : std::string()));
    }
    rows[i] = static_cast<std::size_t>(labels[i]);
  }
  std::vector<Scalar> w(c, Scalar(1));
  if (weight) {
    if (weight->dimension() != 1 || weight->shape()[0] != c) {
      throw std::invalid_argument(std::string(op) + ": weight must have shape (" + std::to_string(c) + ") for input " +
                                  shape_str(x) + ", got " + shape_str(*weight));
    }
    std::copy(weight->data(), weight->data() + c, w.begin());
  }
  return w;
}

// Labels of either public form as int64 values; an IndexTensor must be 1-d.
std::vector<Index> label_values(const char* op, const std::vector<std::size_t>& labels) {
  std::vector<Index> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] > std::size_t(std::numeric_limits<Index>::max())) {
      throw std::invalid_argument(std::string(op) + ": label " + std::to_string(labels[i]) + " at row " +
                                  std::to_string(i) + " does not fit in int64");
    }
    out[i] = static_cast<Index>(labels[i]);
  }
  return out;
}
std::vector<Index> label_values(const char* op, const IndexTensor& labels) {
  if (labels.dimension() != 1) {
    throw std::invalid_argument(std::string(op) + ": labels must be 1-d (n), got " + shape_str(labels));
  }
  return std::vector<Index>(labels.begin(), labels.end());
}

template <class Scalar>
BasicVariable<Scalar> nll_loss_of(const BasicVariable<Scalar>& log_probs, const std::vector<Index>& label_list,
                                  const BasicNllLossOptions<Scalar>& options);
template <class Scalar>
BasicVariable<Scalar> cross_entropy_of(const BasicVariable<Scalar>& logits, const std::vector<Index>& label_list,
                                       const BasicCrossEntropyOptions<Scalar>& options);

}  // namespace

namespace {

template <class Scalar>
BasicVariable<Scalar> nll_loss_of(const BasicVariable<Scalar>& log_probs, const std::vector<Index>& label_list,
                                  const BasicNllLossOptions<Scalar>& options) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& x = log_probs.value();
  std::vector<std::size_t> labels;
  std::vector<Scalar> w =
      check_class_loss("nll_loss", x, label_list, options.weight, options.ignore_index, options.reduction, labels);
  const std::size_t n = x.shape()[0], c = x.shape()[1];
  const Reduction r = options.reduction;
  const std::optional<std::size_t> ignore = kIgnoredRow;
  // lossᵢ = −w[yᵢ]·x[i, yᵢ]; mean divides by Σ w[yᵢ] over kept rows
  Tensor l = empty_tensor<Scalar>({n});
  double total = 0, denom = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool kept = labels[i] != ignore;
    const Scalar li = kept ? -w[labels[i]] * x.data()[i * c + labels[i]] : Scalar(0);
    l.data()[i] = li;
    total += li;
    if (kept) denom += w[labels[i]];
  }
  Tensor value = reduce_rows(std::move(l), total, denom, r);
  const Scalar scale = r == Reduction::mean ? static_cast<Scalar>(1.0 / denom) : Scalar(1);
  return make_result("nll_loss", std::move(value), {log_probs},
                     [labels, w = std::move(w), ignore, r, scale, n, c](Node& self) {
                       // dx[i, yᵢ] = −gᵢ·w[yᵢ] (gᵢ = g·scale unless reduction none); 0 elsewhere and on
                       // ignored rows
                       if (self.grad_node) {  // create_graph: gᵢ times that constant (n, classes) matrix
                         Tensor m = empty_tensor<Scalar>({n, c});
                         std::fill(m.data(), m.data() + m.size(), Scalar(0));
                         for (std::size_t i = 0; i < n; ++i) {
                           if (labels[i] != ignore) m.data()[i * c + labels[i]] = -w[labels[i]];
                         }
                         add_variable_to_parent(self, 0, upstream_rows(self, r, scale, n) * Variable(std::move(m), false));
                         return;
                       }
                       Scalar beta = 0;
                       Scalar* dx = grad_target(self, 0, beta);
                       if (beta == 0) std::fill(dx, dx + n * c, Scalar(0));
                       for (std::size_t i = 0; i < n; ++i) {
                         if (labels[i] == ignore) continue;
                         dx[i * c + labels[i]] -= upstream(self, i, r, scale) * w[labels[i]];
                       }
                     });
}

template <class Scalar>
BasicVariable<Scalar> cross_entropy_of(const BasicVariable<Scalar>& logits, const std::vector<Index>& label_list,
                                       const BasicCrossEntropyOptions<Scalar>& options) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& z = logits.value();
  std::vector<std::size_t> labels;
  std::vector<Scalar> w =
      check_class_loss("cross_entropy", z, label_list, options.weight, options.ignore_index, options.reduction, labels);
  const double eps = options.label_smoothing;
  if (!(eps >= 0 && eps <= 1)) {
    throw std::invalid_argument("cross_entropy: label_smoothing must be in [0, 1], got " + std::to_string(eps) +
                                " (logits " + shape_str(z) + ")");
  }
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  const Reduction r = options.reduction;
  const std::optional<std::size_t> ignore = kIgnoredRow;
  // log p = z − m − log Σ e^(z − m), row by row (m the row maximum)
  Tensor logp = empty_like(z);
  for (std::size_t i = 0; i < n; ++i) {
    const Scalar* zi = z.data() + i * c;
    Scalar* li = logp.data() + i * c;
    const Scalar m = *std::max_element(zi, zi + c);
    double s = 0;
    for (std::size_t j = 0; j < c; ++j) s += std::exp(zi[j] - m);
    const Scalar log_s = static_cast<Scalar>(std::log(s));
    for (std::size_t j = 0; j < c; ++j) li[j] = zi[j] - m - log_s;
  }
  // lossᵢ = (1 − ε)·(−w[yᵢ] log p_iyᵢ) + (ε/C)·(−Σ_c w_c log p_ic); mean divides by Σ w[yᵢ]
  const Scalar keep = static_cast<Scalar>(1 - eps), spread = static_cast<Scalar>(eps / double(c));
  Tensor l = empty_tensor<Scalar>({n});
  double total = 0, denom = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Scalar li = 0;
    if (labels[i] != ignore) {
      const Scalar* lp = logp.data() + i * c;
      double smooth = 0;
      for (std::size_t j = 0; j < c; ++j) smooth -= double(w[j]) * double(lp[j]);
      li = keep * (-w[labels[i]] * lp[labels[i]]) + spread * static_cast<Scalar>(smooth);
      denom += w[labels[i]];
    }
    l.data()[i] = li;
    total += li;
  }
  Tensor value = reduce_rows(std::move(l), total, denom, r);
  const Scalar scale = r == Reduction::mean ? static_cast<Scalar>(1.0 / denom) : Scalar(1);
  return make_result("cross_entropy", std::move(value), {logits},
                     [logp = SavedTensor(std::move(logp)), labels, w = std::move(w), ignore, keep, spread, r, scale, n,
                      c](Node& self) {
                       // per kept row, with gᵢ its upstream gradient:
                       // a_c = ∂loss/∂log p_c = −gᵢ((1 − ε)w_y[c = y] + (ε/C)w_c),
                       // dz_c = a_c − p_c·Σ a (log_softmax's backward); ignored rows get 0
                       if (self.grad_node) {  // create_graph: a = gᵢ·(constant coefficients), p = softmax(z)
                         Tensor coef = empty_tensor<Scalar>({n, c});
                         for (std::size_t i = 0; i < n; ++i) {
                           for (std::size_t j = 0; j < c; ++j) {
                             coef.data()[i * c + j] = labels[i] == ignore ? Scalar(0)
                                                      : -(spread * w[j] + (j == labels[i] ? keep * w[j] : Scalar(0)));
                           }
                         }
                         const Variable a = upstream_rows(self, r, scale, n) * Variable(std::move(coef), false);
                         add_variable_to_parent(self, 0, a - softmax(input_variable(self, 0), 1) * sum(a, 1, true));
                         return;
                       }
                       bool accumulate = false;
                       Scalar* dz = grad_target(self, 0, accumulate);
                       for (std::size_t i = 0; i < n; ++i) {
                         Scalar* di = dz + i * c;
                         if (labels[i] == ignore) {
                           if (!accumulate) std::fill(di, di + c, Scalar(0));
                           continue;
                         }
                         const Scalar gi = upstream(self, i, r, scale);
                         const Scalar* lp = logp.get().data() + i * c;
                         const auto a = [&](std::size_t j) {
                           return -gi * (spread * w[j] + (j == labels[i] ? keep * w[j] : Scalar(0)));
                         };
                         Scalar total_a = 0;
                         for (std::size_t j = 0; j < c; ++j) total_a += a(j);
                         for (std::size_t j = 0; j < c; ++j) {
                           const Scalar d = a(j) - std::exp(lp[j]) * total_a;
                           di[j] = accumulate ? di[j] + d : d;
                         }
                       }
                     });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> nll_loss(const BasicVariable<Scalar>& log_probs, const std::vector<std::size_t>& labels,
                               const BasicNllLossOptions<NonDeduced<Scalar>>& options) {
  return nll_loss_of(log_probs, label_values("nll_loss", labels), options);
}

template <class Scalar>
BasicVariable<Scalar> nll_loss(const BasicVariable<Scalar>& log_probs, const IndexTensor& labels,
                               const BasicNllLossOptions<NonDeduced<Scalar>>& options) {
  return nll_loss_of(log_probs, label_values("nll_loss", labels), options);
}

template <class Scalar>
BasicVariable<Scalar> cross_entropy(const BasicVariable<Scalar>& logits, const std::vector<std::size_t>& labels,
                                    const BasicCrossEntropyOptions<NonDeduced<Scalar>>& options) {
  return cross_entropy_of(logits, label_values("cross_entropy", labels), options);
}

template <class Scalar>
BasicVariable<Scalar> cross_entropy(const BasicVariable<Scalar>& logits, const IndexTensor& labels,
                                    const BasicCrossEntropyOptions<NonDeduced<Scalar>>& options) {
  return cross_entropy_of(logits, label_values("cross_entropy", labels), options);
}

template <class Scalar>
BasicVariable<Scalar> cross_entropy(const BasicVariable<Scalar>& logits, const IndexTensor& labels) {
  return cross_entropy_of(logits, label_values("cross_entropy", labels), BasicCrossEntropyOptions<Scalar>{});
}

template <class Scalar>
BasicVariable<Scalar> binary_cross_entropy_with_logits(const BasicVariable<Scalar>& logits,
                                                       const BasicVariable<Scalar>& targets,
                                                       const BasicBceWithLogitsOptions<NonDeduced<Scalar>>& options) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const char* op = "binary_cross_entropy_with_logits";
  const Tensor& x = logits.value();
  check_reduction(op, options.reduction, false);
  check_same_shape(op, x, targets.value(), "logits", "targets");
  // w and p broadcast to the logits' shape (all 1 if absent)
  const auto spread_to_logits = [&](const std::optional<Tensor>& t, const char* name) {
    if (!t) return evaluate(xt::ones_like(x));
    // t broadcasts to x's shape: no more axes, and each trailing extent 1 or x's
    bool fits = t->dimension() <= x.dimension();
    for (std::size_t d = 0; fits && d < t->dimension(); ++d) {
      const std::size_t e = t->shape()[t->dimension() - 1 - d];
      fits = e == 1 || e == x.shape()[x.dimension() - 1 - d];
    }
    if (!fits) {
      throw std::invalid_argument(std::string(op) + ": " + name + " " + shape_str(*t) +
                                  " does not broadcast to the logits' shape " + shape_str(x));
    }
    return evaluate(xt::broadcast(*t, x.shape()));
  };
  Tensor w = spread_to_logits(options.weight, "weight");
  Tensor p = spread_to_logits(options.pos_weight, "pos_weight");
  const Tensor& y = targets.value();
  // lossₖ = w·[p·y·softplus(−x) + (1 − y)·softplus(x)]
  Tensor l = empty_like(x);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const Scalar xv = x.data()[k], yv = y.data()[k];
    l.data()[k] = w.data()[k] * (p.data()[k] * yv * softplus_of(-xv) + (Scalar(1) - yv) * softplus_of(xv));
  }
  const Reduction r = options.reduction;
  Reduced<Scalar> red = reduce_losses(std::move(l), r);
  return make_result(op, std::move(red.value), {logits, targets},
                     [w = SavedTensor(std::move(w)), p = SavedTensor(std::move(p)), r, scale = red.scale](Node& self) {
    if (self.grad_node) {  // create_graph: the formulas below with ops (softplus without its threshold)
      const Variable x = input_variable(self, 0), y = input_variable(self, 1), g = upstream_variable(self, r, scale);
      const Variable wv(Tensor(w.get()), false), pv(Tensor(p.get()), false);
      if (self.parent_requires_grad(0)) {
        add_variable_to_parent(self, 0, g * wv * ((1.0 - y) * sigmoid(x) - pv * y * sigmoid(-x)));
      }
      if (self.parent_requires_grad(1)) {
        const double no_threshold = std::numeric_limits<double>::infinity();
        add_variable_to_parent(self, 1, g * wv * (pv * softplus(-x, 1.0, no_threshold) - softplus(x, 1.0, no_threshold)));
      }
      return;
    }
    const Tensor& x = self.parent_value(0);
    const Tensor& y = self.parent_value(1);
    const Scalar* ws = w.get().data();
    const Scalar* ps = p.get().data();
    bool accumulate = false;
    if (self.parent_requires_grad(0)) {
      // dx = g·w·[(1 − y)σ(x) − p·y·σ(−x)]
      Scalar* dx = grad_target(self, 0, accumulate);
      for (std::size_t k = 0; k < x.size(); ++k) {
        const Scalar xv = x.data()[k], yv = y.data()[k];
        const Scalar d =
            upstream(self, k, r, scale) * ws[k] * ((Scalar(1) - yv) * sigmoid_of(xv) - ps[k] * yv * sigmoid_of(-xv));
        dx[k] = accumulate ? dx[k] + d : d;
      }
    }
    if (self.parent_requires_grad(1)) {
      // dy = g·w·[p·softplus(−x) − softplus(x)]
      Scalar* dy = grad_target(self, 1, accumulate);
      for (std::size_t k = 0; k < x.size(); ++k) {
        const Scalar xv = x.data()[k];
        const Scalar d = upstream(self, k, r, scale) * ws[k] * (ps[k] * softplus_of(-xv) - softplus_of(xv));
        dy[k] = accumulate ? dy[k] + d : d;
      }
    }
  });
}

template <class Scalar>
BasicVariable<Scalar> mse_loss(const BasicVariable<Scalar>& prediction, const BasicVariable<Scalar>& target,
                               Reduction reduction) {
  return pair_loss(
      "mse_loss", prediction, target, reduction, [](Scalar d) { return d * d; },
      [](const auto& d) { return Scalar(2) * d; });
}

template <class Scalar>
BasicVariable<Scalar> l1_loss(const BasicVariable<Scalar>& prediction, const BasicVariable<Scalar>& target,
                              Reduction reduction) {
  return pair_loss(
      "l1_loss", prediction, target, reduction, [](Scalar d) { return std::abs(d); },
      [](const auto& d) { return constant_like(d, sign_expr(value_of(d))); });
}

template <class Scalar>
BasicVariable<Scalar> huber_loss(const BasicVariable<Scalar>& prediction, const BasicVariable<Scalar>& target,
                                 double delta, Reduction reduction) {
  if (!(delta > 0)) {
    throw std::invalid_argument("huber_loss: delta must be positive, got " + std::to_string(delta) + " (prediction " +
                                shape_str(prediction.value()) + ")");
  }
  const Scalar dl = static_cast<Scalar>(delta);
  return pair_loss(
      "huber_loss", prediction, target, reduction,
      [dl](Scalar d) { return std::abs(d) <= dl ? Scalar(0.5) * d * d : dl * (std::abs(d) - Scalar(0.5) * dl); },
      // clamp(d, −δ, δ): δ·sign(d) (a constant) outside, d inside (and at NaN, which stays NaN)
      [dl](const auto& d) {
        return select_where(xt::abs(value_of(d)) > dl, constant_like(d, dl * sign_expr(value_of(d))), d);
      });
}

template <class Scalar>
BasicVariable<Scalar> smooth_l1_loss(const BasicVariable<Scalar>& prediction, const BasicVariable<Scalar>& target,
                                     double beta, Reduction reduction) {
  if (!(beta >= 0)) {
    throw std::invalid_argument("smooth_l1_loss: beta must be non-negative, got " + std::to_string(beta) +
                                " (prediction " + shape_str(prediction.value()) + ")");
  }
  const Scalar b = static_cast<Scalar>(beta);
  return pair_loss(
      "smooth_l1_loss", prediction, target, reduction,
      [b](Scalar d) { return std::abs(d) < b ? Scalar(0.5) * d * d / b : std::abs(d) - Scalar(0.5) * b; },
      // d/β inside, sign(d) (a constant) outside
      [b](const auto& d) {
        return select_where(xt::abs(value_of(d)) < b, d / b, constant_like(d, sign_expr(value_of(d))));
      });
}

template <class Scalar>
BasicVariable<Scalar> kl_div(const BasicVariable<Scalar>& input, const BasicVariable<Scalar>& target,
                             Reduction reduction, bool log_target) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  check_reduction("kl_div", reduction, true);
  check_same_shape("kl_div", input.value(), target.value(), "input", "target");
  const Tensor& x = input.value();
  const Tensor& t = target.value();
  // t·(log t − x) with 0 at t = 0, or eᵗ·(t − x) with log_target
  Tensor l = empty_like(x);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const Scalar xv = x.data()[k], tv = t.data()[k];
    l.data()[k] = log_target ? std::exp(tv) * (tv - xv) : (tv == 0 ? Scalar(0) : tv * (std::log(tv) - xv));
  }
  Reduced<Scalar> red = reduce_losses(std::move(l), reduction);
  return make_result("kl_div", std::move(red.value), {input, target},
                     [reduction, scale = red.scale, log_target](Node& self) {
                       if (self.grad_node) {  // create_graph: the formulas below with ops
                         const Variable x = input_variable(self, 0), t = input_variable(self, 1),
                                        g = upstream_variable(self, reduction, scale);
                         if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, -g * (log_target ? exp(t) : t));
                         if (self.parent_requires_grad(1)) {
                           if (log_target) {
                             add_variable_to_parent(self, 1, g * exp(t) * (t - x + 1.0));
                           } else {
                             // 0 where t = 0: log t is replaced by 0 there, and the factor masks it
                             const Tensor& tv = t.value();
                             const Variable safe_t =
                                 t + Variable(evaluate(xt::where(xt::equal(tv, Scalar(0)), Scalar(1), Scalar(0))), false);
                             const Variable nonzero(evaluate(xt::where(xt::equal(tv, Scalar(0)), Scalar(0), Scalar(1))), false);
                             add_variable_to_parent(self, 1, g * nonzero * (log(safe_t) + 1.0 - x));
                           }
                         }
                         return;
                       }
                       const Tensor& x = self.parent_value(0);
                       const Tensor& t = self.parent_value(1);
                       bool accumulate = false;
                       if (self.parent_requires_grad(0)) {
                         // dx = −g·t (or −g·eᵗ)
                         Scalar* dx = grad_target(self, 0, accumulate);
                         for (std::size_t k = 0; k < x.size(); ++k) {
                           const Scalar tv = t.data()[k];
                           const Scalar d = -upstream(self, k, reduction, scale) * (log_target ? std::exp(tv) : tv);
                           dx[k] = accumulate ? dx[k] + d : d;
                         }
                       }
                       if (self.parent_requires_grad(1)) {
                         // dt = g·(log t + 1 − x), 0 where t = 0 (as PyTorch); or g·eᵗ(t − x + 1)
                         Scalar* dt = grad_target(self, 1, accumulate);
                         for (std::size_t k = 0; k < x.size(); ++k) {
                           const Scalar xv = x.data()[k], tv = t.data()[k];
                           const Scalar local = log_target ? std::exp(tv) * (tv - xv + Scalar(1))
                                                           : (tv == 0 ? Scalar(0) : std::log(tv) + Scalar(1) - xv);
                           const Scalar d = upstream(self, k, reduction, scale) * local;
                           dt[k] = accumulate ? dt[k] + d : d;
                         }
                       }
                     });
}

#define XTGRAD_INSTANTIATE_LOSSES_EXTRA(T)                                                                      \
  template BasicVariable<T> nll_loss(const BasicVariable<T>&, const std::vector<std::size_t>&,                  \
                                     const BasicNllLossOptions<T>&);                                            \
  template BasicVariable<T> cross_entropy(const BasicVariable<T>&, const std::vector<std::size_t>&,             \
                                          const BasicCrossEntropyOptions<T>&);                                  \
  template BasicVariable<T> nll_loss(const BasicVariable<T>&, const IndexTensor&, const BasicNllLossOptions<T>&); \
  template BasicVariable<T> cross_entropy(const BasicVariable<T>&, const IndexTensor&,                          \
                                          const BasicCrossEntropyOptions<T>&);                                  \
  template BasicVariable<T> cross_entropy(const BasicVariable<T>&, const IndexTensor&);                         \
  template BasicVariable<T> binary_cross_entropy_with_logits(const BasicVariable<T>&, const BasicVariable<T>&,  \
                                                             const BasicBceWithLogitsOptions<T>&);              \
  template BasicVariable<T> mse_loss(const BasicVariable<T>&, const BasicVariable<T>&, Reduction);              \
  template BasicVariable<T> l1_loss(const BasicVariable<T>&, const BasicVariable<T>&, Reduction);               \
  template BasicVariable<T> huber_loss(const BasicVariable<T>&, const BasicVariable<T>&, double, Reduction);    \
  template BasicVariable<T> smooth_l1_loss(const BasicVariable<T>&, const BasicVariable<T>&, double, Reduction); \
  template BasicVariable<T> kl_div(const BasicVariable<T>&, const BasicVariable<T>&, Reduction, bool);
XTGRAD_INSTANTIATE_LOSSES_EXTRA(float)
XTGRAD_INSTANTIATE_LOSSES_EXTRA(double)
#undef XTGRAD_INSTANTIATE_LOSSES_EXTRA

}  // namespace xtgrad
