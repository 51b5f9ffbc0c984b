#include "xtgrad/regularizers/spec.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace xtgrad {
namespace {

constexpr const char* kExpected = "expected none, l1, l2 or l1_l2";
constexpr const char* kForms =
    "none, l1(lambd=X), l2(lambd=X) or l1_l2(l1=X, l2=Y), optionally with mode=subgradient|prox "
    "(l1, l1_l2) and start=N (l1, l2, l1_l2)";

// What a key's value is: a coefficient (a finite number ≥ 0, required), the L1 mode
// (subgradient or prox) or the start epoch (an integer ≥ 1); the last two are optional.
enum class ValueKind { coefficient, mode, start };
struct Key {
  std::string_view name;
  ValueKind value;
  double RegSpec::*field = nullptr;  // where a coefficient goes
};
struct Kind {
  std::string_view name;
  std::vector<Key> keys;
  std::string_view form;
};
// A parsed value: the member its key's ValueKind names.
struct Value {
  double number = 0;
  L1Mode mode = L1Mode::subgradient;
  std::size_t start = 1;
};

const std::vector<Kind>& kinds() {
  static const Key mode{"mode", ValueKind::mode};
  static const Key start{"start", ValueKind::start};
  static const std::vector<Kind> table = {
      {"none", {}, "none"},
      {"l1",
       {{"lambd", ValueKind::coefficient, &RegSpec::l1}, mode, start},
       "l1(lambd=X), optionally with mode=subgradient|prox and start=N"},
      {"l2",
       {{"lambd", ValueKind::coefficient, &RegSpec::l2}, start},
       "l2(lambd=X), optionally with start=N"},
      {"l1_l2",
       {{"l1", ValueKind::coefficient, &RegSpec::l1},
        {"l2", ValueKind::coefficient, &RegSpec::l2},
        mode,
        start},
       "l1_l2(l1=X, l2=Y), optionally with mode=subgradient|prox and start=N"},
  };
  return table;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool ends_value(char c) { return is_space(c) || c == ',' || c == '(' || c == ')' || c == '='; }

// Recursive descent over: ws name ws [ '(' ws [ key ws '=' ws value ws (',' ws key ...)* ] ')' ] ws
class SpecParser {
 public:
  explicit SpecParser(std::string_view text) : text_(text) {}

  RegSpec parse() {
    skip_ws();
    if (at_end()) fail("the spec is empty; expected " + std::string(kForms));
    const std::string_view name = identifier();
    if (name.empty()) fail("expected a regularizer name at '" + rest() + "'; " + kExpected);
    const Kind* kind = find_kind(name);
    if (kind == nullptr) fail("unknown regularizer '" + std::string(name) + "'; " + kExpected);

    std::vector<std::pair<std::string_view, Value>> values;
    skip_ws();
    if (at_end()) {
      if (!kind->keys.empty()) missing_open(*kind);
    } else if (peek() != '(') {
      if (kind->keys.empty()) trailing(name);
      missing_open(*kind);
    } else {
      ++pos_;
      values = arguments(*kind);
      skip_ws();
      if (!at_end()) trailing(")");
    }

    RegSpec spec;
    spec.kind = std::string(kind->name);
    spec.text = std::string(text_);
    for (const auto& key : kind->keys) {
      const Value* value = lookup(values, key.name);
      switch (key.value) {
        case ValueKind::coefficient:
          if (value == nullptr) {
            fail("missing key '" + std::string(key.name) + "'; expected " +
                 std::string(kind->form));
          }
          spec.*key.field = value->number;
          break;
        case ValueKind::mode:
          if (value != nullptr) spec.mode = value->mode;
          break;
        case ValueKind::start:
          if (value != nullptr) spec.start = value->start;
          break;
      }
    }
    return spec;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("invalid regularizer spec \"" + std::string(text_) + "\": " + what);
  }
  [[noreturn]] void missing_open(const Kind& kind) const {
    fail("missing '(' after '" + std::string(kind.name) + "'" +
         (at_end() ? std::string() : " at '" + rest() + "'") + "; expected " +
         std::string(kind.form));
  }
  [[noreturn]] void trailing(std::string_view after) const {
    fail("unexpected trailing text '" + rest() + "' after '" + std::string(after) + "'");
  }

  // key=value pairs up to and including ')'; the '(' is consumed.
  std::vector<std::pair<std::string_view, Value>> arguments(const Kind& kind) {
    std::vector<std::pair<std::string_view, Value>> values;
    skip_ws();
    if (!at_end() && peek() == ')') {
      ++pos_;
      return values;
    }
    for (;;) {
      skip_ws();
      if (at_end()) fail("missing ')'");
      const std::string_view key = identifier();
      if (key.empty()) {
        fail("expected a key at '" + rest() + "'; expected " + std::string(kind.form));
      }
      const Key* known = find_key(kind, key);
      if (known == nullptr) {
        fail("unknown key '" + std::string(key) + "' for " + std::string(kind.name) + "; " +
             (kind.keys.empty() ? std::string("none takes no keys")
                                : "expected " + std::string(kind.form)));
      }
      if (lookup(values, key) != nullptr) fail("repeated key '" + std::string(key) + "'");
      skip_ws();
      if (at_end() || peek() != '=') {
        fail("missing '=' and value after key '" + std::string(key) + "'");
      }
      ++pos_;
      skip_ws();
      values.emplace_back(key, value_of(*known, value_token()));
      skip_ws();
      if (at_end()) fail("missing ')'");
      if (peek() == ')') {
        ++pos_;
        return values;
      }
      if (peek() != ',') {
        fail("expected ',' or ')' after the value of '" + std::string(key) + "' at '" + rest() +
             "'");
      }
      ++pos_;
    }
  }

  Value value_of(const Key& key, std::string_view token) const {
    Value v;
    switch (key.value) {
      case ValueKind::coefficient: v.number = number(key.name, token); break;
      case ValueKind::mode: v.mode = mode(key.name, token); break;
      case ValueKind::start: v.start = epoch(key.name, token); break;
    }
    return v;
  }

  L1Mode mode(std::string_view key, std::string_view token) const {
    if (token.empty()) fail("missing value for key '" + std::string(key) + "'");
    if (token == "subgradient") return L1Mode::subgradient;
    if (token == "prox") return L1Mode::prox;
    fail("value '" + std::string(token) + "' for key '" + std::string(key) +
         "' is not subgradient or prox");
  }

  // An epoch number ≥ 1 in decimal digits only.
  std::size_t epoch(std::string_view key, std::string_view token) const {
    const std::string k(key), t(token);
    if (token.empty()) fail("missing value for key '" + k + "'");
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec == std::errc::result_out_of_range) {
      fail("value '" + t + "' for key '" + k + "' is out of range");
    }
    if (ec != std::errc() || end != token.data() + token.size() || value == 0) {
      fail("value '" + t + "' for key '" + k + "' is not an epoch number (an integer >= 1)");
    }
    return value;
  }

  // A finite number ≥ 0 spelled exactly by `token` (std::from_chars: no locale, no '+').
  double number(std::string_view key, std::string_view token) const {
    const std::string k(key), t(token);
    if (token.empty()) fail("missing value for key '" + k + "'");
    double value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec == std::errc::result_out_of_range) {
      fail("value '" + t + "' for key '" + k + "' is out of range (not a finite double)");
    }
    if (ec != std::errc() || end != token.data() + token.size()) {
      fail("value '" + t + "' for key '" + k + "' is not a number");
    }
    if (std::isnan(value)) fail("value '" + t + "' for key '" + k + "' is NaN");
    if (std::isinf(value)) fail("value '" + t + "' for key '" + k + "' is infinite");
    if (value < 0) fail("value '" + t + "' for key '" + k + "' is negative");
    return value == 0 ? 0.0 : value;  // -0 → +0
  }

  static const Kind* find_kind(std::string_view name) {
    for (const auto& kind : kinds()) {
      if (kind.name == name) return &kind;
    }
    return nullptr;
  }
  static const Key* find_key(const Kind& kind, std::string_view key) {
    for (const auto& k : kind.keys) {
      if (k.name == key) return &k;
    }
    return nullptr;
  }
  static const Value* lookup(const std::vector<std::pair<std::string_view, Value>>& values,
                              std::string_view key) {
    for (const auto& [k, v] : values) {
      if (k == key) return &v;
    }
    return nullptr;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  std::string rest() const { return std::string(text_.substr(pos_)); }
  void skip_ws() {
    while (!at_end() && is_space(peek())) ++pos_;
  }
  std::string_view identifier() {
    const std::size_t start = pos_;
    if (at_end() || !is_ident_start(peek())) return {};
    while (!at_end() && is_ident_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // Everything up to whitespace, ',', '(', ')', '=' or the end.
  std::string_view value_token() {
    const std::size_t start = pos_;
    while (!at_end() && !ends_value(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

RegSpec parse_regularizer_spec(std::string_view text) { return SpecParser(text).parse(); }

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
