// Which named parameters a regularizer penalizes: weights only by default, never biases.
#pragma once

#include <functional>
#include <string>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// True iff the last dotted component of `name` is "weight": `fc1.weight`, `0.weight`,
// `weight`; not `fc1.bias`, not `fc1.weight_scale`.
bool is_weight_name(const std::string& name);

// A rule choosing parameters by name (and, for a predicate, by value). Cheap to copy.
class Selection {
 public:
  using Predicate = std::function<bool(const std::string& name, const Variable& param)>;

  // The default: weights only (is_weight_name), never biases.
  Selection();
  // Same as the default: weights only.
  static Selection weights_only();
  // Every parameter, biases included.
  static Selection all();
  // Parameters whose full dotted name contains a match of the ECMAScript regex `regex`
  // (std::regex_search: anchor with ^ and $ as needed). The pattern replaces the default:
  // "^fc1\\." selects fc1.weight and fc1.bias. Throws std::invalid_argument on a bad regex.
  static Selection pattern(const std::string& regex);
  // The tensors of `group` (e.g. an optimizer parameter group's `params`, nn::ParamGroup) that
  // `within` picks (default: weights only), matched by identity, not by name: a penalty made
  // with it covers that group and nothing else. Describes itself as "weights of [fc2.weight,
  // fc2.bias]".
  static Selection among(const NamedParameters& group, const Selection& within = Selection());
  // Parameters for which `predicate(name, param)` is true; `description` names the rule in
  // coverage tables (default "predicate").
  static Selection predicate(Predicate predicate, std::string description = "predicate");

  // Whether this rule picks the parameter `name` holding `param`.
  bool selects(const std::string& name, const Variable& param) const;
  // "weights", "all", "pattern(^fc1\.)", or the predicate's description.
  const std::string& describe() const { return description_; }

 private:
  Selection(Predicate predicate, std::string description);
  Predicate predicate_;
  std::string description_;
};

// Same as Selection::weights_only().
Selection weights_only();

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
