#include "xtgrad/regularizers/spec.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace xtgrad {
namespace {

constexpr const char* kExpected = "expected none, l1, l2, l1_l2 or group_lasso";

// A finite number ≥ 0 spelled exactly by `token` (std::from_chars: no locale, no '+').
double coefficient_of(const SpecTerm& term, const std::string& key, const std::string& token) {
  const auto fail = [&](const char* what) { term.fail("value '" + token + "' for key '" + key + "' " + what); };
  double value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec == std::errc::result_out_of_range) fail("is out of range (not a finite double)");
  if (ec != std::errc() || end != token.data() + token.size()) fail("is not a number");
  if (std::isnan(value)) fail("is NaN");
  if (std::isinf(value)) fail("is infinite");
  if (value < 0) fail("is negative");
  return value == 0 ? 0.0 : value;  // -0 → +0
}

L1Mode mode(const SpecTerm& term, const std::string& key, const std::string& token) {
  if (token == "subgradient") return L1Mode::subgradient;
  if (token == "prox") return L1Mode::prox;
  term.fail("value '" + token + "' for key '" + key + "' is not subgradient or prox");
}

GroupBy groups_of(const SpecTerm& term, const std::string& key, const std::string& token) {
  if (token == "units") return GroupBy::units;
  if (token == "inputs") return GroupBy::inputs;
  term.fail("value '" + token + "' for key '" + key + "' is not units or inputs");
}

GroupLayers layers_of(const SpecTerm& term, const std::string& key, const std::string& token) {
  if (token == "hidden") return GroupLayers::hidden;
  if (token == "all") return GroupLayers::all;
  term.fail("value '" + token + "' for key '" + key + "' is not hidden or all");
}

// An epoch number ≥ 1 in decimal digits only.
std::size_t epoch(const SpecTerm& term, const std::string& key, const std::string& token) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec == std::errc::result_out_of_range) term.fail("value '" + token + "' for key '" + key + "' is out of range");
  if (ec != std::errc() || end != token.data() + token.size() || value == 0) {
    term.fail("value '" + token + "' for key '" + key + "' is not an epoch number (an integer >= 1)");
  }
  return value;
}

// Reads one key's value into `spec`.
void read_value(RegSpec& spec, const SpecTerm& term, const std::string& key, const std::string& value) {
  if (key == "mode") {
    spec.mode = mode(term, key, value);
  } else if (key == "groups") {
    spec.groups = groups_of(term, key, value);
  } else if (key == "layers") {
    spec.layers = layers_of(term, key, value);
  } else if (key == "lambd" && term.name == "group_lasso") {
    spec.group = coefficient_of(term, key, value);
  } else if (key == "start") {
    spec.start = epoch(term, key, value);
  } else if (key == "l1" || (key == "lambd" && term.name == "l1")) {
    spec.l1 = coefficient_of(term, key, value);
  } else if (key == "l2" || (key == "lambd" && term.name == "l2")) {
    spec.l2 = coefficient_of(term, key, value);
  } else {
    term.fail("unknown key '" + key + "' for " + term.name);
  }
}

}  // namespace

const SpecGrammar& regularizer_grammar() {
  static const SpecGrammar grammar{
      {{"none", {}, {}, "none"},
       {"l1", {"lambd"}, {"mode", "start"}, "l1(lambd=X), optionally with mode=subgradient|prox and start=N"},
       {"l2", {"lambd"}, {"start"}, "l2(lambd=X), optionally with start=N"},
       {"l1_l2",
        {"l1", "l2"},
        {"mode", "start"},
        "l1_l2(l1=X, l2=Y), optionally with mode=subgradient|prox and start=N"},
       {"group_lasso",
        {"lambd"},
        {"groups", "layers", "mode", "start"},
        "group_lasso(lambd=X), optionally with groups=units|inputs, layers=hidden|all, mode=subgradient|prox and "
        "start=N"}},
      "none, l1, l2, l1_l2 or group_lasso",
      "none, l1(lambd=X), l2(lambd=X), l1_l2(l1=X, l2=Y) or group_lasso(lambd=X), optionally with "
      "mode=subgradient|prox (l1, l1_l2, group_lasso), groups=units|inputs and layers=hidden|all (group_lasso) and "
      "start=N (all but none)",
      [](const SpecTerm& term, const std::string& key, const std::string& value) {
        RegSpec scratch;
        read_value(scratch, term, key, value);
      }};
  return grammar;
}

RegSpec regularizer_spec(const SpecTerm& term) {
  if (term.name != "none" && term.name != "l1" && term.name != "l2" && term.name != "l1_l2" &&
      term.name != "group_lasso") {
    term.fail("unknown regularizer '" + term.name + "'; " + kExpected);
  }
  RegSpec spec;
  spec.kind = term.name;
  spec.text = term.spec;
  for (const auto& [key, value] : term.args) read_value(spec, term, key, value);
  return spec;
}

RegSpec parse_regularizer_spec(std::string_view text) {
  return regularizer_spec(parse_spec_term(text, regularizer_grammar()));
}

template <class Scalar>
std::unique_ptr<BasicRegularizer<Scalar>> make_regularizer(const RegSpec& spec, BasicSelection<Scalar> selection) {
  auto unused = [&](const char* coefficient, double value) {
    if (value != 0) {
      throw std::invalid_argument("make_regularizer: spec kind '" + spec.kind + "' takes no " +
                                  coefficient + " coefficient, got " + format_coefficient(value));
    }
  };
  auto no_mode = [&] {
    if (spec.mode != L1Mode::subgradient) {
      throw std::invalid_argument("make_regularizer: spec kind '" + spec.kind +
                                  "' has no L1 term for mode=" + to_string(spec.mode));
    }
  };
  // The group lasso's coefficient and groups belong to it alone.
  if (spec.kind != "group_lasso") {
    unused("group lasso", spec.group);
    if (spec.groups != GroupBy::units || spec.layers != GroupLayers::hidden) {
      throw std::invalid_argument("make_regularizer: spec kind '" + spec.kind + "' has no groups, got groups=" +
                                  to_string(spec.groups) + ", layers=" + to_string(spec.layers));
    }
  }
  if (spec.kind == "none") {
    unused("l1", spec.l1);
    unused("l2", spec.l2);
    no_mode();
    if (spec.start != 1) {
      throw std::invalid_argument("make_regularizer: spec kind 'none' takes no start, got " +
                                  std::to_string(spec.start));
    }
    return std::make_unique<BasicNoPenalty<Scalar>>();
  }
  if (spec.kind == "l1") {
    unused("l2", spec.l2);
    return std::make_unique<BasicL1<Scalar>>(spec.l1, std::move(selection), spec.mode, spec.start);
  }
  if (spec.kind == "l2") {
    unused("l1", spec.l1);
    no_mode();
    return std::make_unique<BasicL2<Scalar>>(spec.l2, std::move(selection), spec.start);
  }
  if (spec.kind == "l1_l2") {
    return std::make_unique<BasicElasticNet<Scalar>>(spec.l1, spec.l2, std::move(selection), spec.mode,
                                                     spec.start);
  }
  if (spec.kind == "group_lasso") {
    unused("l1", spec.l1);
    unused("l2", spec.l2);
    return std::make_unique<BasicGroupLasso<Scalar>>(spec.group, spec.groups, std::move(selection), spec.mode,
                                                     spec.start, spec.layers);
  }
  throw std::invalid_argument("make_regularizer: unknown regularizer '" + spec.kind + "'; " +
                              kExpected);
}

template <class Scalar>
std::unique_ptr<BasicRegularizer<Scalar>> make_regularizer(std::string_view text, BasicSelection<Scalar> selection) {
  return make_regularizer(parse_regularizer_spec(text), std::move(selection));
}

template std::unique_ptr<BasicRegularizer<float>> make_regularizer(const RegSpec&, BasicSelection<float>);
template std::unique_ptr<BasicRegularizer<double>> make_regularizer(const RegSpec&, BasicSelection<double>);
template std::unique_ptr<BasicRegularizer<float>> make_regularizer(std::string_view, BasicSelection<float>);
template std::unique_ptr<BasicRegularizer<double>> make_regularizer(std::string_view, BasicSelection<double>);

}  // namespace xtgrad
