// The spec grammar without meaning (regularizers/spec_terms.hpp): terms, keys and values as
// written, and each error's whole message, on a small grammar of its own.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/regularizers/spec_terms.hpp"

namespace xg = xtgrad;

namespace {

const xg::SpecGrammar& grammar() {
  static const xg::SpecGrammar g{{{"plain", {}, {}, "plain"},
                                  {"pair", {"a", "b"}, {"c"}, "pair(a=X, b=Y), optionally with c=Z"},
                                  {"one", {"k"}, {}, "one(k=...)"},
                                  {"opt", {}, {"x"}, "opt, optionally with x=..."}},
                                 "plain, pair or one",
                                 "plain, pair(...) or one(...)",
                                 {}};
  return g;
}

// grammar() with a value check that refuses "bad".
const xg::SpecGrammar& checked_grammar() {
  static const xg::SpecGrammar g = [] {
    xg::SpecGrammar out = grammar();
    out.check = [](const xg::SpecTerm& term, const std::string& key, const std::string& value) {
      EXPECT_EQ(term.spec.empty(), false);
      if (value == "bad") term.fail("value 'bad' for key '" + key + "' of " + term.name + " is bad");
    };
    return out;
  }();
  return g;
}

using Args = std::vector<std::pair<std::string, std::string>>;

// The message of the std::invalid_argument that parsing `text` throws.
std::string error_of(const std::string& text, bool list = true) {
  try {
    if (list) {
      xg::parse_spec_terms(text, grammar());
    } else {
      xg::parse_spec_term(text, grammar());
    }
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument thrown)";
}

}  // namespace

TEST(SpecTerms, ReadsTermsWithTheirKeysInTheOrderGiven) {
  const std::string text = " pair( b = 2 ,a=x1, c=-3 ) +one(k=1e+5)+ plain +plain()";
  const auto terms = xg::parse_spec_terms(text, grammar());
  ASSERT_EQ(terms.size(), 4u);
  EXPECT_EQ(terms[0].name, "pair");
  EXPECT_EQ(terms[0].args, (Args{{"b", "2"}, {"a", "x1"}, {"c", "-3"}}));
  EXPECT_EQ(terms[0].text, "pair( b = 2 ,a=x1, c=-3 )");
  EXPECT_EQ(terms[1].args, (Args{{"k", "1e+5"}}));  // a '+' inside parentheses belongs to the value
  EXPECT_EQ(terms[1].text, "one(k=1e+5)");
  EXPECT_EQ(terms[2].name, "plain");
  EXPECT_TRUE(terms[2].args.empty());
  EXPECT_EQ(terms[2].text, "plain");
  EXPECT_EQ(terms[3].text, "plain()");
  for (const auto& term : terms) EXPECT_EQ(term.spec, text);
  ASSERT_NE(terms[0].find("a"), nullptr);
  EXPECT_EQ(*terms[0].find("a"), "x1");
  EXPECT_EQ(terms[0].find("k"), nullptr);
}

TEST(SpecTerms, ANameWithoutRequiredKeysMayStandAlone) {
  const auto terms = xg::parse_spec_terms("opt + opt(x=1)+opt()", grammar());
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_TRUE(terms[0].args.empty());
  EXPECT_EQ(terms[1].args, (Args{{"x", "1"}}));
  EXPECT_TRUE(terms[2].args.empty());
  EXPECT_EQ(error_of("opt y"), "invalid regularizer spec \"opt y\": unexpected trailing text 'y' after 'opt'");
  EXPECT_EQ(error_of("opt(y=1)"),
            "invalid regularizer spec \"opt(y=1)\": unknown key 'y' for opt; expected opt, optionally with x=...");
}

TEST(SpecTerms, OneTermAlone) {
  const xg::SpecTerm term = xg::parse_spec_term("\tone ( k = v )\n", grammar());
  EXPECT_EQ(term.name, "one");
  EXPECT_EQ(term.args, (Args{{"k", "v"}}));
  EXPECT_EQ(term.text, "one ( k = v )");
  EXPECT_EQ(term.spec, "\tone ( k = v )\n");
  // '+' joins terms only in a list
  EXPECT_EQ(error_of("one(k=1)+plain", false),
            "invalid regularizer spec \"one(k=1)+plain\": unexpected trailing text '+plain' after ')'");
  EXPECT_EQ(error_of("plain+plain", false),
            "invalid regularizer spec \"plain+plain\": unexpected trailing text '+plain' after 'plain'");
}

TEST(SpecTerms, TermFailQuotesTheWholeSpec) {
  const auto terms = xg::parse_spec_terms("plain + one(k=x)", grammar());
  try {
    terms[1].fail("value 'x' is wrong");
    ADD_FAILURE() << "fail returned";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "invalid regularizer spec \"plain + one(k=x)\": value 'x' is wrong");
  }
}

TEST(SpecTerms, EachErrorSaysWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "the spec is empty; expected plain, pair(...) or one(...)"},
      {" \t", "the spec is empty; expected plain, pair(...) or one(...)"},
      {"plain+", "an empty term around '+'; expected plain, pair(...) or one(...)"},
      {"+plain", "an empty term around '+'; expected plain, pair(...) or one(...)"},
      {"plain+ +plain", "an empty term around '+'; expected plain, pair(...) or one(...)"},
      {"(k=1)", "expected a regularizer name at '(k=1)'; expected plain, pair or one"},
      {"plain+2x", "expected a regularizer name at '2x'; expected plain, pair or one"},
      {"two(k=1)", "unknown regularizer 'two'; expected plain, pair or one"},
      {"one", "missing '(' after 'one'; expected one(k=...)"},
      {"one+plain", "missing '(' after 'one' at '+plain'; expected one(k=...)"},
      {"one[k=1]", "missing '(' after 'one' at '[k=1]'; expected one(k=...)"},
      {"one(j=1)", "unknown key 'j' for one; expected one(k=...)"},
      {"plain(j=1)", "unknown key 'j' for plain; plain takes no keys"},
      {"one(k=1, k=2)", "repeated key 'k'"},
      {"one(k)", "missing '=' and value after key 'k'"},
      {"one(k=)", "missing value for key 'k'"},
      {"one(k=(1))", "missing value for key 'k'"},
      {"one(k=1", "missing ')'"},
      {"one(", "missing ')'"},
      {"one(k=1,", "missing ')'"},
      {"one(,k=1)", "expected a key at ',k=1)'; expected one(k=...)"},
      {"one(k=1 2)", "expected ',' or ')' after the value of 'k' at '2)'"},
      {"one(k=1)) ", "unexpected trailing text ') ' after ')'"},
      {"plain x", "unexpected trailing text 'x' after 'plain'"},
      {"pair(b=1)", "missing key 'a'; expected pair(a=X, b=Y), optionally with c=Z"},
      {"pair(c=1, a=1)", "missing key 'b'; expected pair(a=X, b=Y), optionally with c=Z"},
      {"one()", "missing key 'k'; expected one(k=...)"},
  };
  for (const auto& [text, what] : cases) {
    EXPECT_EQ(error_of(text), "invalid regularizer spec \"" + text + "\": " + what) << text;
  }
}

TEST(SpecTerms, ACheckSeesEachValueBeforeTheRestIsRead) {
  std::vector<std::string> seen;
  xg::SpecGrammar g = grammar();
  g.check = [&](const xg::SpecTerm& term, const std::string& key, const std::string& value) {
    seen.push_back(term.name + "." + key + "=" + value + " after " + std::to_string(term.args.size()));
  };
  xg::parse_spec_terms("pair(b=2, a=1)+one(k=3)", g);
  EXPECT_EQ(seen, (std::vector<std::string>{"pair.b=2 after 0", "pair.a=1 after 1", "one.k=3 after 0"}));
  // a bad value is reported before a syntax error to its right; without the check, the latter
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"one(k=bad", "missing ')'"},
      {"one(k=bad 1)", "expected ',' or ')' after the value of 'k' at '1)'"},
      {"one(k=bad)+two", "unknown regularizer 'two'; expected plain, pair or one"},
      {"pair(b=bad)", "missing key 'a'; expected pair(a=X, b=Y), optionally with c=Z"},
  };
  for (const auto& [text, unchecked] : cases) {
    EXPECT_EQ(error_of(text), "invalid regularizer spec \"" + text + "\": " + unchecked);
    try {
      xg::parse_spec_terms(text, checked_grammar());
      ADD_FAILURE() << "no error for " << text;
    } catch (const std::invalid_argument& e) {
      const std::string name = text.rfind("pair", 0) == 0 ? "pair" : "one";
      const std::string key = name == "pair" ? "b" : "k";
      EXPECT_EQ(std::string(e.what()), "invalid regularizer spec \"" + text + "\": value 'bad' for key '" + key +
                                           "' of " + name + " is bad");
    }
  }
}

TEST(SpecTerms, TheFirstErrorFromTheLeftIsReported) {
  // a bad term after a good one, and a syntax error before a missing key
  EXPECT_EQ(error_of("one(k=1)+two()"), "invalid regularizer spec \"one(k=1)+two()\": unknown regularizer 'two'; "
                                        "expected plain, pair or one");
  EXPECT_EQ(error_of("pair(b=1) x"), "invalid regularizer spec \"pair(b=1) x\": unexpected trailing text 'x' after ')'");
}
