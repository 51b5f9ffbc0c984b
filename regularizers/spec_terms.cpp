#include "xtgrad/regularizers/spec_terms.hpp"

#include <stdexcept>

namespace xtgrad {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool ends_value(char c) { return is_space(c) || c == ',' || c == '(' || c == ')' || c == '='; }

bool contains(const std::vector<std::string>& keys, std::string_view key) {
  for (const auto& k : keys) {
    if (k == key) return true;
  }
  return false;
}

// Recursive descent over: ws term ws ('+' ws term ws)*, each term
//   name ws [ '(' ws [ key ws '=' ws value ws (',' ws key ...)* ] ')' ]
// In a single-term parse '+' is not special.
class TermParser {
 public:
  TermParser(std::string_view text, const SpecGrammar& grammar, bool list)
      : text_(text), grammar_(grammar), list_(list) {}

  std::vector<SpecTerm> parse() {
    std::vector<SpecTerm> terms;
    skip_ws();
    if (at_end()) fail("the spec is empty; expected " + grammar_.usage);
    for (;;) {
      terms.push_back(term());
      skip_ws();
      if (at_end()) return terms;
      ++pos_;  // a '+': term() stops at nothing else
      skip_ws();
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("invalid regularizer spec \"" + std::string(text_) + "\": " + what);
  }
  [[noreturn]] void missing_open(const SpecForm& form) const {
    fail("missing '(' after '" + form.name + "'" + (at_end() ? std::string() : " at '" + rest() + "'") +
         "; expected " + form.usage);
  }
  [[noreturn]] void trailing(std::string_view after) const {
    fail("unexpected trailing text '" + rest() + "' after '" + std::string(after) + "'");
  }

  // Whether the current term ends here: at the end, or at a '+' of a list.
  bool term_ends() const { return at_end() || (list_ && peek() == '+'); }

  SpecTerm term() {
    if (term_ends()) fail("an empty term around '+'; expected " + grammar_.usage);
    const std::size_t begin = pos_;
    const std::string_view name = identifier();
    if (name.empty()) fail("expected a regularizer name at '" + rest() + "'; expected " + grammar_.names);
    const SpecForm* form = find_form(name);
    if (form == nullptr) fail("unknown regularizer '" + std::string(name) + "'; expected " + grammar_.names);
    const bool needs_parens = !form->required.empty();

    SpecTerm term;
    term.name = form->name;
    term.spec = std::string(text_);
    std::size_t end = pos_;
    skip_ws();
    if (term_ends()) {
      if (needs_parens) missing_open(*form);
    } else if (peek() != '(') {
      if (!needs_parens) trailing(name);
      missing_open(*form);
    } else {
      ++pos_;
      arguments(*form, term);
      end = pos_;
      skip_ws();
      if (!term_ends()) trailing(")");
    }
    term.text = std::string(text_.substr(begin, end - begin));
    for (const auto& key : form->required) {
      if (term.find(key) == nullptr) fail("missing key '" + key + "'; expected " + form->usage);
    }
    return term;
  }

  // key=value pairs up to and including ')' into term.args; the '(' is consumed.
  void arguments(const SpecForm& form, SpecTerm& term) {
    auto& args = term.args;
    skip_ws();
    if (!at_end() && peek() == ')') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      if (at_end()) fail("missing ')'");
      const std::string key(identifier());
      if (key.empty()) fail("expected a key at '" + rest() + "'; expected " + form.usage);
      if (!contains(form.required, key) && !contains(form.optional, key)) {
        fail("unknown key '" + key + "' for " + form.name + "; " +
             (form.required.empty() && form.optional.empty() ? form.name + " takes no keys"
                                                             : "expected " + form.usage));
      }
      for (const auto& [k, v] : args) {
        if (k == key) fail("repeated key '" + key + "'");
      }
      skip_ws();
      if (at_end() || peek() != '=') fail("missing '=' and value after key '" + key + "'");
      ++pos_;
      skip_ws();
      const std::string_view value = value_token();
      if (value.empty()) fail("missing value for key '" + key + "'");
      if (grammar_.check) grammar_.check(term, key, std::string(value));
      args.emplace_back(key, std::string(value));
      skip_ws();
      if (at_end()) fail("missing ')'");
      if (peek() == ')') {
        ++pos_;
        return;
      }
      if (peek() != ',') fail("expected ',' or ')' after the value of '" + key + "' at '" + rest() + "'");
      ++pos_;
    }
  }

  const SpecForm* find_form(std::string_view name) const {
    for (const auto& form : grammar_.forms) {
      if (form.name == name) return &form;
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
  const SpecGrammar& grammar_;
  bool list_;
  std::size_t pos_ = 0;
};

}  // namespace

const std::string* SpecTerm::find(std::string_view key) const {
  for (const auto& [k, v] : args) {
    if (k == key) return &v;
  }
  return nullptr;
}

void SpecTerm::fail(const std::string& what) const {
  throw std::invalid_argument("invalid regularizer spec \"" + spec + "\": " + what);
}

SpecTerm parse_spec_term(std::string_view text, const SpecGrammar& grammar) {
  return TermParser(text, grammar, false).parse().front();
}

std::vector<SpecTerm> parse_spec_terms(std::string_view text, const SpecGrammar& grammar) {
  return TermParser(text, grammar, true).parse();
}

}  // namespace xtgrad
