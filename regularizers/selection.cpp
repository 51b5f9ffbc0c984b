#include "xtgrad/regularizers/selection.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace xtgrad {
inline namespace XTGRAD_ABI {

bool is_weight_name(const std::string& name) {
  const auto dot = name.rfind('.');
  const auto last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last == "weight";
}

Selection::Selection()
    : Selection([](const std::string& name, const Variable&) { return is_weight_name(name); },
                "weights") {}

Selection::Selection(Predicate predicate, std::string description)
    : predicate_(std::move(predicate)), description_(std::move(description)) {}

Selection Selection::weights_only() { return Selection(); }

Selection Selection::all() {
  return Selection([](const std::string&, const Variable&) { return true; }, "all");
}

Selection Selection::pattern(const std::string& regex) {
  std::regex compiled;
  try {
    compiled = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("Selection::pattern: invalid regex '" + regex + "': " + e.what());
  }
  return Selection(
      [compiled](const std::string& name, const Variable&) {
        return std::regex_search(name, compiled);
      },
      "pattern(" + regex + ")");
}

Selection Selection::among(const NamedParameters& group, const Selection& within) {
  std::vector<Variable> members;  // the group's handles: compared by node, and kept alive
  std::string names;
  for (const auto& [name, param] : group) {
    members.push_back(param);
    names += (names.empty() ? "" : ", ") + name;
  }
  return Selection(
      [members = std::move(members), within](const std::string& name, const Variable& param) {
        const auto same = [&](const Variable& m) { return m.node() == param.node(); };
        return std::any_of(members.begin(), members.end(), same) && within.selects(name, param);
      },
      within.describe() + " of [" + names + "]");
}

Selection Selection::predicate(Predicate predicate, std::string description) {
  if (!predicate) throw std::invalid_argument("Selection::predicate: empty predicate");
  return Selection(std::move(predicate), std::move(description));
}

bool Selection::selects(const std::string& name, const Variable& param) const {
  return predicate_(name, param);
}

Selection weights_only() { return Selection::weights_only(); }

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
