#include "xtgrad/nn/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <unordered_map>
#include <tuple>
#include <unordered_set>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace nn {

namespace {

// One statement out = e of an update (e of out's shape, reading any tensor at the same index).
template <class T, class E>
struct Assign {
  TensorOf<T>& out;
  const E& e;
  bool simd = false;
};
template <class T, class E>
Assign<T, E> set(TensorOf<T>& out, const E& e) {
  return {out, e};
}

// Runs the statements in order, element by element: on every core above kElementwiseGrain
// elements, each chunk running them all over its range (a statement reads only the element it
// writes and the same element of earlier statements' outputs). Each element is computed as
// xtensor computes it (assign_into), so the result is the same for any thread count.
template <class... S>
void update(S... s) {
  if (!(assign_detail::linear(s.out, s.e, s.simd) && ...)) {
    ((xt::noalias(s.out) = s.e), ...);
    return;
  }
  const std::size_t n = std::get<0>(std::tie(s...)).out.size();
  parallel_blocks(n, kElementwiseGrain,
                  [&](std::size_t b, std::size_t e) { (assign_detail::linear_range(s.out, s.e, b, e, s.simd), ...); });
}

// f(i, b, e) over every [b, e) of blocks of kBlock elements (b a multiple of kBlock) of the
// tensors i < count of sizes size(i): all their blocks numbered one after another and split
// among the threads by one parallel_for, so that many small parameters make one job instead of
// one serial loop each. A block is computed by the same code on whatever thread runs it: the
// same bits for any thread count. f must not allocate (parallel_for's rule).
template <class Size, class F>
void for_each_block_of(std::size_t count, const Size& size, const F& f) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += (size(i) + kBlock - 1) / kBlock;
  parallel_for(0, total, std::max<std::size_t>(1, kElementwiseGrain / kBlock), [&](std::size_t b0, std::size_t b1) {
    std::size_t first = 0;  // the number of tensor i's first block
    for (std::size_t i = 0; i < count && first < b1; ++i) {
      const std::size_t n = size(i), blocks = (n + kBlock - 1) / kBlock;
      const std::size_t lo = std::max(b0, first), hi = std::min(b1, first + blocks);
      if (lo < hi) f(i, (lo - first) * kBlock, std::min(n, (hi - first) * kBlock));
      first += blocks;
    }
  });
}

// The statements of one update run over [b, e) only (each linear: see update_linear).
template <class... S>
void update_range(std::size_t b, std::size_t e, S... s) {
  (assign_detail::linear(s.out, s.e, s.simd), ...);  // sets each statement's simd flag
  (assign_detail::linear_range(s.out, s.e, b, e, s.simd), ...);
}

// Whether every statement reads its operands linearly (update_range applies).
template <class... S>
bool update_linear(S... s) {
  return (assign_detail::linear(s.out, s.e, s.simd) && ...);
}

std::string number_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return buf;
}

template <class T>
bool same_shape(const TensorOf<T>& a, const TensorOf<T>& b) {
  return a.dimension() == b.dimension() && std::equal(a.shape().begin(), a.shape().end(), b.shape().begin());
}

}  // namespace

// ---- OptimizerBase -------------------------------------------------------------------------

void OptimizerBase::require(bool ok, const std::string& what, double value) const {
  if (!ok) throw std::invalid_argument(std::string(name_) + ": " + what + ", got " + number_str(value));
}

void OptimizerBase::check_defaults(double lr, double weight_decay) const {
  require(std::isfinite(lr) && lr > 0, "learning rate must be finite and > 0", lr);
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay must be finite and >= 0", weight_decay);
}

void OptimizerBase::add_group(double group_lr, double group_wd, double lr, double weight_decay) {
  const std::string which = "group " + std::to_string(groups_->size()) + ": ";
  if (group_lr < 0) group_lr = lr;
  if (group_wd < 0) group_wd = weight_decay;
  require(std::isfinite(group_lr) && group_lr > 0, which + "learning rate must be finite and > 0", group_lr);
  require(std::isfinite(group_wd), which + "weight_decay must be finite and >= 0", group_wd);
  groups_->push_back({group_lr, group_wd});
}

void OptimizerBase::set_learning_rate(double lr) {
  require(std::isfinite(lr) && lr > 0, "learning rate must be finite and > 0", lr);
  for (Group& g : *groups_) g.lr = lr;
}

double OptimizerBase::group_learning_rate(std::size_t g) const {
  if (g >= groups_->size()) {
    throw std::out_of_range(std::string(name_) + ": group " + std::to_string(g) + " of " +
                            std::to_string(groups_->size()));
  }
  return (*groups_)[g].lr;
}

double OptimizerBase::group_weight_decay(std::size_t g) const {
  group_learning_rate(g);  // range check
  return (*groups_)[g].weight_decay;
}

void OptimizerBase::set_group_learning_rate(std::size_t g, double lr) {
  group_learning_rate(g);  // range check
  require(std::isfinite(lr) && lr >= 0, "a group's learning rate must be finite and >= 0", lr);
  (*groups_)[g].lr = lr;
}

// ---- BasicOptimizer ------------------------------------------------------------------------

template <class T>
BasicOptimizer<T>::BasicOptimizer(const char* name, NamedParametersOf<T> params, double lr, double weight_decay,
                                  std::vector<std::string> buffer_names, bool counts_steps)
    : BasicOptimizer(name, BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, lr, weight_decay,
                     std::move(buffer_names), counts_steps) {}

template <class T>
BasicOptimizer<T>::BasicOptimizer(const char* name, BasicParamGroups<T> groups, double lr, double weight_decay,
                                  std::vector<std::string> buffer_names, bool counts_steps)
    : OptimizerBase(name), buffer_names_(std::move(buffer_names)), counts_steps_(counts_steps) {
  check_defaults(lr, weight_decay);
  if (groups.empty()) throw std::invalid_argument(std::string(name) + ": got no parameter groups");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const BasicParamGroup<T>& group = groups[g];
    add_group(group.lr, group.weight_decay, lr, weight_decay);
    if (groups.size() > 1 && group.params.empty()) {
      throw std::invalid_argument(std::string(name) + ": parameter group " + std::to_string(g) + " is empty");
    }
    for (const auto& named : group.params) {
      params_.push_back(named);
      group_of_.push_back(g);
    }
  }
  slots_.resize(params_.size());
  if (params_.empty()) throw std::invalid_argument(std::string(name) + ": got an empty parameter list");
  // Identity decides, not names: two modules' parameters may both be called "weight". Their
  // state keys stay distinct: a repeated name gets "#2", "#3", ... in order ("weight#2").
  std::unordered_map<std::string, std::size_t> name_count;
  std::unordered_map<const BasicNode<T>*, std::string> nodes;
  for (const auto& [pname, p] : params_) {
    if (pname.empty()) throw std::invalid_argument(std::string(name) + ": a parameter has an empty name");
    if (!p.defined()) throw std::invalid_argument(std::string(name) + ": parameter '" + pname + "' is empty");
    // The same node twice would be updated twice per step: an error, as across PyTorch's groups.
    const auto [it, added] = nodes.emplace(p.node().get(), pname);
    if (!added) {
      throw std::invalid_argument(std::string(name) + ": parameter '" + pname +
                                  "' is the same variable as the earlier parameter '" + it->second +
                                  "' (pass each tensor once)");
    }
    const std::size_t k = ++name_count[pname];
    keys_.push_back(k == 1 ? pname : pname + "#" + std::to_string(k));
  }
  // A generated key could equal another parameter's own name ("w#2" given twice as "w" and once
  // as "w#2"); refuse that rather than mix their state.
  std::unordered_set<std::string> keys(keys_.begin(), keys_.end());
  if (keys.size() != keys_.size()) {
    throw std::invalid_argument(std::string(name) + ": parameter names collide after numbering repeated names ('" +
                                keys_.back() + "', ...); rename a parameter");
  }
}

template <class T>
void BasicOptimizer<T>::zero_grad() {
  for (auto& named : params_) named.second.zero_grad();
}

template <class T>
TensorOf<T>& BasicOptimizer<T>::checked_value(std::size_t i) {
  BasicVariable<T>& p = params_[i].second;
  TensorOf<T>& w = p.mutable_value();
  if (!same_shape(w, p.grad())) {
    throw std::logic_error(std::string(name()) + ": parameter '" + params_[i].first + "' has shape " + shape_str(w) +
                           " but its gradient " + shape_str(p.grad()));
  }
  return w;
}

template <class T>
typename BasicOptimizer<T>::Slot& BasicOptimizer<T>::slot(std::size_t i) {
  Slot& s = slots_[i];
  const TensorOf<T>& w = params_[i].second.value();
  if (s.buffers.empty()) {
    s.buffers.reserve(buffer_names_.size());
    for (std::size_t k = 0; k < buffer_names_.size(); ++k) s.buffers.emplace_back(xt::zeros<T>(w.shape()));
  } else if (!same_shape(s.buffers.front(), w)) {
    throw std::logic_error(std::string(name()) + ": parameter '" + params_[i].first + "' changed shape from " +
                           shape_str(s.buffers.front()) + " to " + shape_str(w) + " since its state was created");
  }
  return s;
}

template <class T>
OptimizerStateOf<T> BasicOptimizer<T>::state() const {
  OptimizerStateOf<T> out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.buffers.empty()) continue;
    for (std::size_t k = 0; k < buffer_names_.size(); ++k) {
      out.emplace_back(keys_[i] + "." + buffer_names_[k], s.buffers[k]);
    }
    if (counts_steps_) out.emplace_back(keys_[i] + ".step", TensorOf<T>(static_cast<T>(s.steps)));
  }
  return out;
}

template <class T>
void BasicOptimizer<T>::load_state(const OptimizerStateOf<T>& state) {
  const std::string where = std::string(name()) + ": load_state: ";
  const std::size_t n_buffers = buffer_names_.size();
  const std::size_t n_entries = n_buffers + (counts_steps_ ? 1 : 0);  // entry n_buffers is the step counter

  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> index;  // name → (parameter, entry)
  for (std::size_t i = 0; i < params_.size(); ++i) {
    for (std::size_t k = 0; k < n_buffers; ++k)
      index.emplace(keys_[i] + "." + buffer_names_[k], std::pair{i, k});
    if (counts_steps_) index.emplace(keys_[i] + ".step", std::pair{i, n_buffers});
  }

  std::vector<Slot> fresh(params_.size());
  std::vector<std::vector<bool>> seen(params_.size(), std::vector<bool>(n_entries, false));
  for (const auto& [entry, t] : state) {
    const auto it = index.find(entry);
    if (it == index.end()) {
      std::string expected;
      for (std::size_t k = 0; k < n_buffers; ++k)
        expected += (k ? ", '<parameter>." : "'<parameter>.") + buffer_names_[k] + "'";
      if (counts_steps_) expected += ", '<parameter>.step'";
      throw std::invalid_argument(where + "unknown entry '" + entry + "' (expected " +
                                  (expected.empty() ? std::string("no entries: this optimizer keeps no state")
                                                    : expected + " for one of its parameters") +
                                  ")");
    }
    const auto [i, k] = it->second;
    if (seen[i][k]) throw std::invalid_argument(where + "duplicate entry '" + entry + "'");
    seen[i][k] = true;
    if (k < n_buffers) {
      const TensorOf<T>& w = params_[i].second.value();
      if (!same_shape(t, w)) {
        throw std::invalid_argument(where + "'" + entry + "' has shape " + shape_str(t) + ", the parameter '" +
                                    params_[i].first + "' has " + shape_str(w));
      }
      if (fresh[i].buffers.empty()) fresh[i].buffers.resize(n_buffers);
      fresh[i].buffers[k] = t;
    } else {
      if (t.size() != 1 || t.dimension() > 1) {
        throw std::invalid_argument(where + "'" + entry + "' must be a 0-d or (1,) counter, got shape " +
                                    shape_str(t));
      }
      const auto steps = static_cast<double>(t.data()[0]);
      if (!(steps >= 0 && std::floor(steps) == steps && steps <= 9007199254740992.0)) {
        throw std::invalid_argument(where + "'" + entry + "' must be a non-negative integer, got " +
                                    number_str(steps));
      }
      fresh[i].steps = static_cast<std::int64_t>(steps);
    }
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    std::size_t count = 0;
    for (bool b : seen[i]) count += b;
    if (count == 0 || count == n_entries) continue;
    for (std::size_t k = 0; k < n_entries; ++k) {
      if (!seen[i][k]) {
        throw std::invalid_argument(where + "parameter '" + keys_[i] + "' lacks '" + keys_[i] + "." +
                                    (k < n_buffers ? buffer_names_[k] : std::string("step")) +
                                    "' while other entries for it are present");
      }
    }
  }
  slots_ = std::move(fresh);
}

// ---- SGD -----------------------------------------------------------------------------------

template <class T>
BasicSGD<T>::BasicSGD(NamedParametersOf<T> params, double lr, double momentum, bool nesterov, double weight_decay)
    : BasicSGD(BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, lr, momentum, nesterov, weight_decay) {}

template <class T>
BasicSGD<T>::BasicSGD(BasicParamGroups<T> groups, double lr, double momentum, bool nesterov, double weight_decay)
    : BasicOptimizer<T>("SGD", std::move(groups), lr, weight_decay,
                momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{}, false),
      momentum_(momentum),
      nesterov_(nesterov) {
  this->require(std::isfinite(momentum) && momentum >= 0, "momentum must be finite and >= 0", momentum);
  this->require(!nesterov || momentum > 0, "nesterov needs momentum > 0", momentum);
}

template <class T>
BasicSGD<T>::BasicSGD(BasicParamGroups<T> groups, const SGDOptions& o)
    : BasicSGD(std::move(groups), o.lr(), o.momentum(), o.nesterov(), o.weight_decay()) {
  decoupled_ = o.decoupled_weight_decay();
}

template <class T>
void BasicSGD<T>::step() {
  using Tensor = TensorOf<T>;
  const auto mu = static_cast<T>(momentum_);
  for (std::size_t i = 0; i < this->parameters().size(); ++i) {
    if (!this->parameters()[i].second.has_grad()) continue;
    const auto lr = static_cast<T>(this->lr_of(i));
    const auto wd = static_cast<T>(this->weight_decay_of(i));
    Tensor& w = this->checked_value(i);
    const Tensor& grad = this->parameters()[i].second.grad();
    // `g` is ∇w or the lazy ∇w + wd·w; each statement reads w before writing it, elementwise.
    // on every core above the grain (update())
    auto step = [&](const auto& g) {
      if (momentum_ == 0) {
        update(set(w, w - lr * g));  // w ← w − lr·g
        return;
      }
      const bool first = !this->has_state(i);
      Tensor& v = this->slot(i).buffers[0];
      // v ← g on the first step, else v ← μv + g
      auto run = [&](const auto& v_next) {
        if (nesterov_) {
          update(set(v, v_next), set(w, w - lr * (g + mu * v)));  // w ← w − lr·(g + μv)
        } else {
          update(set(v, v_next), set(w, w - lr * v));  // w ← w − lr·v
        }
      };
      if (first) {
        run(g);
      } else {
        run(mu * v + g);
      }
    };
    if (decoupled_ && wd != 0) {
      update(set(w, w * static_cast<T>(1.0 - this->lr_of(i) * this->weight_decay_of(i))));  // w ← (1 − lr·wd)·w
      step(grad);
    } else if (wd == 0) {
      step(grad);
    } else {
      step(grad + wd * w);
    }
  }
}

// ---- Adam, AdamW ---------------------------------------------------------------------------

template <class T>
BasicAdam<T>::BasicAdam(NamedParametersOf<T> params, double lr, double beta1, double beta2, double eps,
                        double weight_decay)
    : BasicAdam("Adam", BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, lr, beta1, beta2, eps,
                weight_decay, false) {}

template <class T>
BasicAdam<T>::BasicAdam(BasicParamGroups<T> groups, double lr, double beta1, double beta2, double eps,
                        double weight_decay)
    : BasicAdam("Adam", std::move(groups), lr, beta1, beta2, eps, weight_decay, false) {}

template <class T>
BasicAdam<T>::BasicAdam(const char* name, BasicParamGroups<T> groups, double lr, double beta1, double beta2,
                        double eps, double weight_decay, bool decoupled)
    : BasicOptimizer<T>(name, std::move(groups), lr, weight_decay, {"exp_avg", "exp_avg_sq"}, true),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      decoupled_(decoupled) {
  this->require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)", beta1);
  this->require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)", beta2);
  this->require(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0", eps);
}

template <class T>
void BasicAdam<T>::step() {
  using Tensor = TensorOf<T>;
  const auto b1 = static_cast<T>(beta1_);
  const auto b2 = static_cast<T>(beta2_);
  const auto eps = static_cast<T>(eps_);
  const std::size_t count = this->parameters().size();
  const auto steps = [&](std::size_t i) { return this->parameters()[i].second.has_grad(); };
  // run(i, w, apply): parameter i's updates (w its value), each passed to apply as its
  // statements, in order
  const auto run = [&](std::size_t i, Tensor& w, const auto& apply) {
    const double lr = this->lr_of(i), weight_decay = this->weight_decay_of(i);
    const auto wd = static_cast<T>(weight_decay);
    const auto decay = static_cast<T>(1.0 - lr * weight_decay);
    const Tensor& grad = this->parameters()[i].second.grad();
    auto& s = this->slot(i);
    Tensor& m = s.buffers[0];
    Tensor& v = s.buffers[1];
    const auto t = static_cast<double>(s.steps);      // this step's number (counted before)
    const double bias1 = 1.0 - std::pow(beta1_, t);  // 1 − β₁ᵗ
    const double bias2 = 1.0 - std::pow(beta2_, t);  // 1 − β₂ᵗ
    const auto step_size = static_cast<T>(lr / bias1);
    const auto sqrt_bias2 = static_cast<T>(std::sqrt(bias2));
    auto step = [&](const auto& g) {
      apply(set(m, b1 * m + (1 - b1) * g),      // m ← β₁m + (1−β₁)g
            set(v, b2 * v + (1 - b2) * g * g),  // v ← β₂v + (1−β₂)g²
            // w ← w − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε) = w − lr·m̂/(√v̂ + ε)
            set(w, w - step_size * m / (xt::sqrt(v) / sqrt_bias2 + eps)));
    };
    if (decoupled_ && weight_decay != 0) apply(set(w, w * decay));  // w ← (1 − lr·wd)·w
    if (decoupled_ || weight_decay == 0) {
      step(grad);
    } else {
      step(grad + wd * w);
    }
  };
  // On this thread: every stepping parameter's shape check and in-place version bump
  // (checked_value) and its state (made on its first step); then, nothing having thrown, the
  // step counts.
  bool linear = true;
  for (std::size_t i = 0; i < count; ++i) {
    if (steps(i)) run(i, this->checked_value(i), [&](auto... s) { linear = linear && update_linear(s...); });
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (steps(i)) ++this->slot(i).steps;
  }
  if (!linear) {  // a statement xtensor must assign whole: each parameter on its own (update())
    for (std::size_t i = 0; i < count; ++i) {
      if (steps(i)) run(i, const_cast<Tensor&>(this->parameters()[i].second.value()), [](auto... s) { update(s...); });
    }
    return;
  }
  // Every parameter's elements in one job: element k of parameter i goes through the same
  // statements in the same order whichever range holds it. (The value is written through
  // value(): mutable_value() would count a version per range, from several threads.)
  for_each_block_of(
      count, [&](std::size_t i) { return steps(i) ? this->parameters()[i].second.value().size() : 0; },
      [&](std::size_t i, std::size_t b, std::size_t e) {
        run(i, const_cast<Tensor&>(this->parameters()[i].second.value()),
            [&](auto... s) { update_range(b, e, s...); });
      });
}

template <class T>
BasicAdamW<T>::BasicAdamW(NamedParametersOf<T> params, double lr, double beta1, double beta2, double eps,
                          double weight_decay)
    : BasicAdam<T>("AdamW", BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, lr, beta1, beta2, eps,
                   weight_decay, true) {}

template <class T>
BasicAdamW<T>::BasicAdamW(BasicParamGroups<T> groups, double lr, double beta1, double beta2, double eps,
                          double weight_decay)
    : BasicAdam<T>("AdamW", std::move(groups), lr, beta1, beta2, eps, weight_decay, true) {}

// ---- RMSProp -------------------------------------------------------------------------------

template <class T>
BasicRMSProp<T>::BasicRMSProp(NamedParametersOf<T> params, double lr, double alpha, double eps, double momentum,
                              double weight_decay)
    : BasicRMSProp(BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, lr, alpha, eps, momentum,
                   weight_decay) {}

template <class T>
BasicRMSProp<T>::BasicRMSProp(BasicParamGroups<T> groups, double lr, double alpha, double eps, double momentum,
                              double weight_decay)
    : BasicOptimizer<T>(
          "RMSProp", std::move(groups), lr, weight_decay,
          momentum > 0 ? std::vector<std::string>{"square_avg", "momentum"} : std::vector<std::string>{"square_avg"},
          false),
      alpha_(alpha),
      eps_(eps),
      momentum_(momentum) {
  this->require(alpha >= 0 && alpha < 1, "alpha must be in [0, 1)", alpha);
  this->require(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0", eps);
  this->require(std::isfinite(momentum) && momentum >= 0, "momentum must be finite and >= 0", momentum);
}

template <class T>
void BasicRMSProp<T>::step() {
  using Tensor = TensorOf<T>;
  const auto a = static_cast<T>(alpha_);
  const auto eps = static_cast<T>(eps_);
  const auto mu = static_cast<T>(momentum_);
  for (std::size_t i = 0; i < this->parameters().size(); ++i) {
    if (!this->parameters()[i].second.has_grad()) continue;
    const auto lr = static_cast<T>(this->lr_of(i));
    const auto wd = static_cast<T>(this->weight_decay_of(i));
    Tensor& w = this->checked_value(i);
    const Tensor& grad = this->parameters()[i].second.grad();
    auto& s = this->slot(i);
    Tensor& sq = s.buffers[0];
    // on every core above the grain (update())
    auto step = [&](const auto& g) {
      const auto sq_next = a * sq + (1 - a) * g * g;  // s ← αs + (1−α)g²
      if (momentum_ > 0) {
        Tensor& b = s.buffers[1];
        update(set(sq, sq_next),
               set(b, mu * b + g / (xt::sqrt(sq) + eps)),  // b ← μb + g/(√s + ε)
               set(w, w - lr * b));                        // w ← w − lr·b
      } else {
        update(set(sq, sq_next), set(w, w - lr * g / (xt::sqrt(sq) + eps)));  // w ← w − lr·g/(√s + ε)
      }
    };
    if (wd == 0) {
      step(grad);
    } else {
      step(grad + wd * w);
    }
  }
}

template class BasicOptimizer<float>;
template class BasicOptimizer<double>;
template class BasicSGD<float>;
template class BasicSGD<double>;
template class BasicAdam<float>;
template class BasicAdam<double>;
template class BasicAdamW<float>;
template class BasicAdamW<double>;
template class BasicRMSProp<float>;
template class BasicRMSProp<double>;

}  // namespace nn
}  // namespace xtgrad
