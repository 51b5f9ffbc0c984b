#include "xtgrad/regularizers/spec.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

constexpr const char* kExpected = "expected none, l1, l2 or l1_l2";
constexpr const char* kForms = "none, l1(lambd=X), l2(lambd=X) or l1_l2(l1=X, l2=Y)";

// A kind and the keys it takes, all required, all numbers. Later keys (mode=prox, start=N)
// go here with their own value types; until then they are unknown keys.
struct Key {
  std::string_view name;
  double RegSpec::*field;  // where its value goes
};
struct Kind {
  std::string_view name;
  std::vector<Key> keys;
  std::string_view form;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> table = {
      {"none", {}, "none"},
      {"l1", {{"lambd", &RegSpec::l1}}, "l1(lambd=X)"},
      {"l2", {{"lambd", &RegSpec::l2}}, "l2(lambd=X)"},
      {"l1_l2", {{"l1", &RegSpec::l1}, {"l2", &RegSpec::l2}}, "l1_l2(l1=X, l2=Y)"},
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

    std::vector<std::pair<std::string_view, double>> values;
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
      const double* value = lookup(values, key.name);
      if (value == nullptr) {
        fail("missing key '" + std::string(key.name) + "'; expected " + std::string(kind->form));
      }
      spec.*key.field = *value;
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
  std::vector<std::pair<std::string_view, double>> arguments(const Kind& kind) {
    std::vector<std::pair<std::string_view, double>> values;
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
      if (!takes_key(kind, key)) {
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
      values.emplace_back(key, number(key, value_token()));
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
  static bool takes_key(const Kind& kind, std::string_view key) {
    for (const auto& k : kind.keys) {
      if (k.name == key) return true;
    }
    return false;
  }
  static const double* lookup(const std::vector<std::pair<std::string_view, double>>& values,
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

std::unique_ptr<Regularizer> make_regularizer(const RegSpec& spec, Selection selection) {
  auto unused = [&](const char* coefficient, double value) {
    if (value != 0) {
      throw std::invalid_argument("make_regularizer: spec kind '" + spec.kind + "' takes no " +
                                  coefficient + " coefficient, got " + format_coefficient(value));
    }
  };
  if (spec.kind == "none") {
    unused("l1", spec.l1);
    unused("l2", spec.l2);
    return std::make_unique<NoPenalty>();
  }
  if (spec.kind == "l1") {
    unused("l2", spec.l2);
    return std::make_unique<L1>(spec.l1, std::move(selection));
  }
  if (spec.kind == "l2") {
    unused("l1", spec.l1);
    return std::make_unique<L2>(spec.l2, std::move(selection));
  }
  if (spec.kind == "l1_l2") return std::make_unique<ElasticNet>(spec.l1, spec.l2, std::move(selection));
  throw std::invalid_argument("make_regularizer: unknown regularizer '" + spec.kind + "'; " +
                              kExpected);
}

std::unique_ptr<Regularizer> make_regularizer(std::string_view text, Selection selection) {
  return make_regularizer(parse_regularizer_spec(text), std::move(selection));
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
