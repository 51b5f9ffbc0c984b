#include "xtgrad/regularizers/selection.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace xtgrad {

bool is_weight_name(const std::string& name) {
  const auto dot = name.rfind('.');
  const auto last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last == "weight";
}

template <class Scalar>
BasicSelection<Scalar>::BasicSelection()
    : BasicSelection([](const std::string& name, const BasicVariable<Scalar>&) { return is_weight_name(name); },
                     "weights") {}

template <class Scalar>
BasicSelection<Scalar>::BasicSelection(Predicate predicate, std::string description)
    : predicate_(std::move(predicate)), description_(std::move(description)) {}

template <class Scalar>
BasicSelection<Scalar> BasicSelection<Scalar>::weights_only() {
  return BasicSelection();
}

template <class Scalar>
BasicSelection<Scalar> BasicSelection<Scalar>::all() {
  return BasicSelection([](const std::string&, const BasicVariable<Scalar>&) { return true; }, "all");
}

template <class Scalar>
BasicSelection<Scalar> BasicSelection<Scalar>::pattern(const std::string& regex) {
  std::regex compiled;
  try {
    compiled = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("Selection::pattern: invalid regex '" + regex + "': " + e.what());
  }
  return BasicSelection(
      [compiled](const std::string& name, const BasicVariable<Scalar>&) {
        return std::regex_search(name, compiled);
      },
      "pattern(" + regex + ")");
}

template <class Scalar>
BasicSelection<Scalar> BasicSelection<Scalar>::among(const NamedParametersOf<Scalar>& group,
                                                     const BasicSelection& within) {
  using Variable = BasicVariable<Scalar>;
  std::vector<Variable> members;  // the group's handles: compared by node, and kept alive
  std::string names;
  for (const auto& [name, param] : group) {
    members.push_back(param);
    names += (names.empty() ? "" : ", ") + name;
  }
  return BasicSelection(
      [members = std::move(members), within](const std::string& name, const Variable& param) {
        const auto same = [&](const Variable& m) { return m.node() == param.node(); };
        return std::any_of(members.begin(), members.end(), same) && within.selects(name, param);
      },
      within.describe() + " of [" + names + "]");
}

template <class Scalar>
BasicSelection<Scalar> BasicSelection<Scalar>::predicate(Predicate predicate, std::string description) {
  if (!predicate) throw std::invalid_argument("Selection::predicate: empty predicate");
  return BasicSelection(std::move(predicate), std::move(description));
}

template <class Scalar>
bool BasicSelection<Scalar>::selects(const std::string& name, const BasicVariable<Scalar>& param) const {
  return predicate_(name, param);
}

template <class Scalar>
BasicSelection<Scalar> weights_only() {
  return BasicSelection<Scalar>::weights_only();
}

template class BasicSelection<float>;
template class BasicSelection<double>;
template BasicSelection<float> weights_only<float>();
template BasicSelection<double> weights_only<double>();

}  // namespace xtgrad
