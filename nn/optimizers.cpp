#include "xtgrad/nn/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

namespace {

std::string number_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return buf;
}

bool same_shape(const Tensor& a, const Tensor& b) {
  return a.dimension() == b.dimension() && std::equal(a.shape().begin(), a.shape().end(), b.shape().begin());
}

}  // namespace

// ---- Optimizer -----------------------------------------------------------------------------

Optimizer::Optimizer(const char* name, NamedParameters params, double lr, double weight_decay,
                     std::vector<std::string> buffer_names, bool counts_steps)
    : Optimizer(name, ParamGroups{ParamGroup(std::move(params))}, lr, weight_decay, std::move(buffer_names),
                counts_steps) {}

Optimizer::Optimizer(const char* name, ParamGroups groups, double lr, double weight_decay,
                     std::vector<std::string> buffer_names, bool counts_steps)
    : name_(name), buffer_names_(std::move(buffer_names)), counts_steps_(counts_steps) {
  require(std::isfinite(lr) && lr > 0, "learning rate must be finite and > 0", lr);
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay must be finite and >= 0", weight_decay);
  if (groups.empty()) throw std::invalid_argument(std::string(name_) + ": got no parameter groups");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const ParamGroup& group = groups[g];
    const std::string which = "group " + std::to_string(g) + ": ";
    const double group_lr = group.lr < 0 ? lr : group.lr;
    const double group_wd = group.weight_decay < 0 ? weight_decay : group.weight_decay;
    require(std::isfinite(group_lr) && group_lr > 0, which + "learning rate must be finite and > 0", group_lr);
    require(std::isfinite(group_wd), which + "weight_decay must be finite and >= 0", group_wd);
    if (groups.size() > 1 && group.params.empty()) {
      throw std::invalid_argument(std::string(name_) + ": parameter group " + std::to_string(g) + " is empty");
    }
    groups_.push_back({group_lr, group_wd});
    for (const auto& named : group.params) {
      params_.push_back(named);
      group_of_.push_back(g);
    }
  }
  slots_.resize(params_.size());
  if (params_.empty()) throw std::invalid_argument(std::string(name_) + ": got an empty parameter list");
  std::unordered_set<std::string> names;
  std::unordered_set<const Node*> nodes;
  for (const auto& [pname, p] : params_) {
    if (pname.empty()) throw std::invalid_argument(std::string(name_) + ": a parameter has an empty name");
    if (!p.defined()) throw std::invalid_argument(std::string(name_) + ": parameter '" + pname + "' is empty");
    if (!names.insert(pname).second) {
      throw std::invalid_argument(std::string(name_) + ": duplicate parameter name '" + pname + "'");
    }
    // The same node twice would be updated twice per step.
    if (!nodes.insert(p.node().get()).second) {
      throw std::invalid_argument(std::string(name_) + ": parameter '" + pname +
                                  "' is the same variable as an earlier one");
    }
  }
}

void Optimizer::require(bool ok, const std::string& what, double value) const {
  if (!ok) throw std::invalid_argument(std::string(name_) + ": " + what + ", got " + number_str(value));
}

void Optimizer::set_learning_rate(double lr) {
  require(std::isfinite(lr) && lr > 0, "learning rate must be finite and > 0", lr);
  for (Group& g : groups_) g.lr = lr;
}

double Optimizer::group_learning_rate(std::size_t g) const {
  if (g >= groups_.size()) {
    throw std::out_of_range(std::string(name_) + ": group " + std::to_string(g) + " of " +
                            std::to_string(groups_.size()));
  }
  return groups_[g].lr;
}

double Optimizer::group_weight_decay(std::size_t g) const {
  group_learning_rate(g);  // range check
  return groups_[g].weight_decay;
}

void Optimizer::set_group_learning_rate(std::size_t g, double lr) {
  group_learning_rate(g);  // range check
  require(std::isfinite(lr) && lr >= 0, "a group's learning rate must be finite and >= 0", lr);
  groups_[g].lr = lr;
}

void Optimizer::zero_grad() {
  for (auto& named : params_) named.second.zero_grad();
}

Tensor& Optimizer::checked_value(std::size_t i) {
  Variable& p = params_[i].second;
  Tensor& w = p.mutable_value();
  if (!same_shape(w, p.grad())) {
    throw std::logic_error(std::string(name_) + ": parameter '" + params_[i].first + "' has shape " + shape_str(w) +
                           " but its gradient " + shape_str(p.grad()));
  }
  return w;
}

Optimizer::Slot& Optimizer::slot(std::size_t i) {
  Slot& s = slots_[i];
  const Tensor& w = params_[i].second.value();
  if (s.buffers.empty()) {
    s.buffers.reserve(buffer_names_.size());
    for (std::size_t k = 0; k < buffer_names_.size(); ++k) s.buffers.emplace_back(xt::zeros<Scalar>(w.shape()));
  } else if (!same_shape(s.buffers.front(), w)) {
    throw std::logic_error(std::string(name_) + ": parameter '" + params_[i].first + "' changed shape from " +
                           shape_str(s.buffers.front()) + " to " + shape_str(w) + " since its state was created");
  }
  return s;
}

OptimizerState Optimizer::state() const {
  OptimizerState out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.buffers.empty()) continue;
    for (std::size_t k = 0; k < buffer_names_.size(); ++k) {
      out.emplace_back(params_[i].first + "." + buffer_names_[k], s.buffers[k]);
    }
    if (counts_steps_) out.emplace_back(params_[i].first + ".step", Tensor(static_cast<Scalar>(s.steps)));
  }
  return out;
}

void Optimizer::load_state(const OptimizerState& state) {
  const std::string where = std::string(name_) + ": load_state: ";
  const std::size_t n_buffers = buffer_names_.size();
  const std::size_t n_entries = n_buffers + (counts_steps_ ? 1 : 0);  // entry n_buffers is the step counter

  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> index;  // name → (parameter, entry)
  for (std::size_t i = 0; i < params_.size(); ++i) {
    for (std::size_t k = 0; k < n_buffers; ++k)
      index.emplace(params_[i].first + "." + buffer_names_[k], std::pair{i, k});
    if (counts_steps_) index.emplace(params_[i].first + ".step", std::pair{i, n_buffers});
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
      const Tensor& w = params_[i].second.value();
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
        throw std::invalid_argument(where + "parameter '" + params_[i].first + "' lacks '" + params_[i].first + "." +
                                    (k < n_buffers ? buffer_names_[k] : std::string("step")) +
                                    "' while other entries for it are present");
      }
    }
  }
  slots_ = std::move(fresh);
}

// ---- SGD -----------------------------------------------------------------------------------

SGD::SGD(NamedParameters params, double lr, double momentum, bool nesterov, double weight_decay)
    : SGD(ParamGroups{ParamGroup(std::move(params))}, lr, momentum, nesterov, weight_decay) {}

SGD::SGD(ParamGroups groups, double lr, double momentum, bool nesterov, double weight_decay)
    : Optimizer("SGD", std::move(groups), lr, weight_decay,
                momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{}, false),
      momentum_(momentum),
      nesterov_(nesterov) {
  require(std::isfinite(momentum) && momentum >= 0, "momentum must be finite and >= 0", momentum);
  require(!nesterov || momentum > 0, "nesterov needs momentum > 0", momentum);
}

void SGD::step() {
  const auto mu = static_cast<Scalar>(momentum_);
  for (std::size_t i = 0; i < parameters().size(); ++i) {
    if (!parameters()[i].second.has_grad()) continue;
    const auto lr = static_cast<Scalar>(lr_of(i));
    const auto wd = static_cast<Scalar>(weight_decay_of(i));
    Tensor& w = checked_value(i);
    const Tensor& grad = parameters()[i].second.grad();
    // `g` is ∇w or the lazy ∇w + wd·w; each statement reads w before writing it, elementwise.
    auto update = [&](const auto& g) {
      if (momentum_ == 0) {
        xt::noalias(w) -= lr * g;  // w ← w − lr·g
        return;
      }
      const bool first = !has_state(i);
      Tensor& v = slot(i).buffers[0];
      if (first) {
        xt::noalias(v) = g;  // v ← g on the first step
      } else {
        xt::noalias(v) = mu * v + g;  // v ← μv + g
      }
      if (nesterov_) {
        xt::noalias(w) -= lr * (g + mu * v);  // w ← w − lr·(g + μv)
      } else {
        xt::noalias(w) -= lr * v;  // w ← w − lr·v
      }
    };
    if (wd == 0) {
      update(grad);
    } else {
      update(grad + wd * w);
    }
  }
}

// ---- Adam, AdamW ---------------------------------------------------------------------------

Adam::Adam(NamedParameters params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Adam("Adam", ParamGroups{ParamGroup(std::move(params))}, lr, beta1, beta2, eps, weight_decay, false) {}

Adam::Adam(ParamGroups groups, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Adam("Adam", std::move(groups), lr, beta1, beta2, eps, weight_decay, false) {}

Adam::Adam(const char* name, ParamGroups groups, double lr, double beta1, double beta2, double eps,
           double weight_decay, bool decoupled)
    : Optimizer(name, std::move(groups), lr, weight_decay, {"exp_avg", "exp_avg_sq"}, true),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      decoupled_(decoupled) {
  require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)", beta1);
  require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)", beta2);
  require(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0", eps);
}

void Adam::step() {
  const auto b1 = static_cast<Scalar>(beta1_);
  const auto b2 = static_cast<Scalar>(beta2_);
  const auto eps = static_cast<Scalar>(eps_);
  for (std::size_t i = 0; i < parameters().size(); ++i) {
    if (!parameters()[i].second.has_grad()) continue;
    const double lr = lr_of(i), weight_decay = weight_decay_of(i);
    const auto wd = static_cast<Scalar>(weight_decay);
    const auto decay = static_cast<Scalar>(1.0 - lr * weight_decay);
    Tensor& w = checked_value(i);
    const Tensor& grad = parameters()[i].second.grad();
    Slot& s = slot(i);
    Tensor& m = s.buffers[0];
    Tensor& v = s.buffers[1];
    const auto t = static_cast<double>(++s.steps);
    const double bias1 = 1.0 - std::pow(beta1_, t);  // 1 − β₁ᵗ
    const double bias2 = 1.0 - std::pow(beta2_, t);  // 1 − β₂ᵗ
    const auto step_size = static_cast<Scalar>(lr / bias1);
    const auto sqrt_bias2 = static_cast<Scalar>(std::sqrt(bias2));
    auto update = [&](const auto& g) {
      xt::noalias(m) = b1 * m + (1 - b1) * g;      // m ← β₁m + (1−β₁)g
      xt::noalias(v) = b2 * v + (1 - b2) * g * g;  // v ← β₂v + (1−β₂)g²
      // w ← w − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε) = w − lr·m̂/(√v̂ + ε)
      xt::noalias(w) -= step_size * m / (xt::sqrt(v) / sqrt_bias2 + eps);
    };
    if (decoupled_ && weight_decay != 0) xt::noalias(w) *= decay;  // w ← (1 − lr·wd)·w
    if (decoupled_ || weight_decay == 0) {
      update(grad);
    } else {
      update(grad + wd * w);
    }
  }
}

AdamW::AdamW(NamedParameters params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Adam("AdamW", ParamGroups{ParamGroup(std::move(params))}, lr, beta1, beta2, eps, weight_decay, true) {}

AdamW::AdamW(ParamGroups groups, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Adam("AdamW", std::move(groups), lr, beta1, beta2, eps, weight_decay, true) {}

// ---- RMSProp -------------------------------------------------------------------------------

RMSProp::RMSProp(NamedParameters params, double lr, double alpha, double eps, double momentum, double weight_decay)
    : RMSProp(ParamGroups{ParamGroup(std::move(params))}, lr, alpha, eps, momentum, weight_decay) {}

RMSProp::RMSProp(ParamGroups groups, double lr, double alpha, double eps, double momentum, double weight_decay)
    : Optimizer(
          "RMSProp", std::move(groups), lr, weight_decay,
          momentum > 0 ? std::vector<std::string>{"square_avg", "momentum"} : std::vector<std::string>{"square_avg"},
          false),
      alpha_(alpha),
      eps_(eps),
      momentum_(momentum) {
  require(alpha >= 0 && alpha < 1, "alpha must be in [0, 1)", alpha);
  require(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0", eps);
  require(std::isfinite(momentum) && momentum >= 0, "momentum must be finite and >= 0", momentum);
}

void RMSProp::step() {
  const auto a = static_cast<Scalar>(alpha_);
  const auto eps = static_cast<Scalar>(eps_);
  const auto mu = static_cast<Scalar>(momentum_);
  for (std::size_t i = 0; i < parameters().size(); ++i) {
    if (!parameters()[i].second.has_grad()) continue;
    const auto lr = static_cast<Scalar>(lr_of(i));
    const auto wd = static_cast<Scalar>(weight_decay_of(i));
    Tensor& w = checked_value(i);
    const Tensor& grad = parameters()[i].second.grad();
    Slot& s = slot(i);
    Tensor& sq = s.buffers[0];
    auto update = [&](const auto& g) {
      xt::noalias(sq) = a * sq + (1 - a) * g * g;  // s ← αs + (1−α)g²
      if (momentum_ > 0) {
        Tensor& b = s.buffers[1];
        xt::noalias(b) = mu * b + g / (xt::sqrt(sq) + eps);  // b ← μb + g/(√s + ε)
        xt::noalias(w) -= lr * b;                            // w ← w − lr·b
      } else {
        xt::noalias(w) -= lr * g / (xt::sqrt(sq) + eps);  // w ← w − lr·g/(√s + ε)
      }
    };
    if (wd == 0) {
      update(grad);
    } else {
      update(grad + wd * w);
    }
  }
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
