// Which named parameters a regularizer penalizes: weights only by default, never biases.
#pragma once

#include <functional>
#include <string>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// True iff the last dotted component of `name` is "weight": `fc1.weight`, `0.weight`,
// `weight`; not `fc1.bias`, not `fc1.weight_scale`.
bool is_weight_name(const std::string& name);

// A rule choosing parameters by name (and, for a predicate, by value) among parameters of
// scalar type T. Cheap to copy. `Selection` is the float one.
template <class T>
class BasicSelection {
 public:
  using Predicate = std::function<bool(const std::string& name, const BasicVariable<T>& param)>;

  // The default: weights only (is_weight_name), never biases.
  BasicSelection();
  // Same as the default: weights only.
  static BasicSelection weights_only();
  // Every parameter, biases included.
  static BasicSelection all();
  // Parameters whose full dotted name contains a match of the ECMAScript regex `regex`
  // (std::regex_search: anchor with ^ and $ as needed). The pattern replaces the default:
  // "^fc1\\." selects fc1.weight and fc1.bias. Throws std::invalid_argument on a bad regex.
  static BasicSelection pattern(const std::string& regex);
  // The tensors of `group` (e.g. an optimizer parameter group's `params`, nn::ParamGroup) that
  // `within` picks (default: weights only), matched by identity, not by name: a penalty made
  // with it covers that group and nothing else. Describes itself as "weights of [fc2.weight,
  // fc2.bias]".
  static BasicSelection among(const NamedParametersOf<T>& group,
                              const BasicSelection& within = BasicSelection());
  // Parameters for which `predicate(name, param)` is true; `description` names the rule in
  // coverage tables (default "predicate").
  static BasicSelection predicate(Predicate predicate, std::string description = "predicate");

  // Whether this rule picks the parameter `name` holding `param`.
  bool selects(const std::string& name, const BasicVariable<T>& param) const;
  // "weights", "all", "pattern(^fc1\.)", or the predicate's description.
  const std::string& describe() const { return description_; }

 private:
  BasicSelection(Predicate predicate, std::string description);
  Predicate predicate_;
  std::string description_;
};

extern template class BasicSelection<float>;
extern template class BasicSelection<double>;

using Selection = BasicSelection<float>;

// Same as BasicSelection<T>::weights_only().
template <class T = float>
BasicSelection<T> weights_only();

}  // namespace xtgrad
