// The grammar of the CLI's spec strings, without their meaning: one strict hand-written
// parser (never eval) of
//   spec := term ('+' term)*        (parse_spec_terms; parse_spec_term reads exactly one)
//   term := name [ '(' [ key '=' value (',' key '=' value)* ] ')' ]
// with whitespace allowed around every token, a name or key [A-Za-z_][A-Za-z0-9_]* and a value
// any run of characters other than whitespace , ( ) =. A grammar lists the names and their keys;
// the caller gives the values their types and ranges (regularizers/spec.cpp for the norm
// penalties, the app for its other methods). Every error is std::invalid_argument
// "invalid regularizer spec \"<the whole spec>\": <what is wrong>".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xtgrad {

// A name a spec may use: its keys and how it is written, for messages ("expected <usage>").
// A name with required keys needs its parentheses; one without may stand alone.
struct SpecForm {
  std::string name;
  std::vector<std::string> required;  // keys every use must give, checked in this order
  std::vector<std::string> optional;  // keys it may give
  std::string usage;                  // e.g. "l2(lambd=X), optionally with start=N"
};

// One `name(key=value, ...)` term as written; its name and keys are the grammar's.
struct SpecTerm {
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;  // (key, value) in the order given
  std::string text;  // the term itself, without the whitespace around it
  std::string spec;  // the whole spec it belongs to, quoted in messages

  // The value given for `key`, or nullptr.
  const std::string* find(std::string_view key) const;
  // Throws std::invalid_argument("invalid regularizer spec \"<spec>\": <what>").
  [[noreturn]] void fail(const std::string& what) const;
};

// The names a spec may use, and the words its messages offer.
struct SpecGrammar {
  std::vector<SpecForm> forms;
  std::string names;  // after "expected " for an unknown or missing name: "none, l1, l2 or l1_l2"
  std::string usage;  // after "expected " for an empty spec or term: every form
  // Optional: called on each value as soon as it is read (`term` has its name and spec, and the
  // keys before this one); throwing there (SpecTerm::fail) reports a bad value before any error
  // further right, so a spec's errors are reported from left to right.
  std::function<void(const SpecTerm& term, const std::string& key, const std::string& value)> check;
};

// Parses `text` as exactly one term ('+' is trailing text). Throws std::invalid_argument
// quoting `text` and saying what is wrong: an empty spec, a missing or unknown name, an
// unknown, repeated or missing key, a missing '=', value or parenthesis, trailing text.
SpecTerm parse_spec_term(std::string_view text, const SpecGrammar& grammar);
// Parses `text` as terms joined by '+'; the errors of parse_spec_term, and an empty term
// around a '+'.
std::vector<SpecTerm> parse_spec_terms(std::string_view text, const SpecGrammar& grammar);

}  // namespace xtgrad
