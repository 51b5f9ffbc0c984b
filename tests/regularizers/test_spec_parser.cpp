// The CLI spec parser: every good form (with odd spacing) and every kind of bad one.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtgrad/regularizers/regularizers.hpp"

namespace xg = xtgrad;

namespace {

std::string error_of(const std::string& spec) {
  try {
    xg::parse_regularizer_spec(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument thrown)";
}

}  // namespace

// ---- good forms -----------------------------------------------------------------------------

TEST(SpecParser, NoneInItsForms) {
  for (const char* text : {"none", "  none\t", "none()", " none ( ) "}) {
    const auto spec = xg::parse_regularizer_spec(text);
    EXPECT_EQ(spec.kind, "none") << text;
    EXPECT_EQ(spec.l1, 0.0);
    EXPECT_EQ(spec.l2, 0.0);
    EXPECT_EQ(spec.text, text);
  }
}

TEST(SpecParser, L1) {
  const auto spec = xg::parse_regularizer_spec("l1(lambd=1e-4)");
  EXPECT_EQ(spec.kind, "l1");
  EXPECT_EQ(spec.l1, 1e-4);
  EXPECT_EQ(spec.l2, 0.0);
  EXPECT_EQ(spec.text, "l1(lambd=1e-4)");
}

TEST(SpecParser, L2WithOddSpacing) {
  for (const char* text : {"l2(lambd=0.01)", " l2 ( lambd = 0.01 ) ", "l2(\tlambd=\n0.01\r)",
                           "l2(lambd=1e-2)", "l2(lambd=1E-2)", "l2(lambd=0.01e0)"}) {
    const auto spec = xg::parse_regularizer_spec(text);
    EXPECT_EQ(spec.kind, "l2") << text;
    EXPECT_EQ(spec.l2, 0.01) << text;
    EXPECT_EQ(spec.l1, 0.0) << text;
  }
}

TEST(SpecParser, NumberSpellings) {
  const std::vector<std::pair<const char*, double>> cases = {
      {"l2(lambd=1)", 1.0},  {"l2(lambd=.5)", 0.5}, {"l2(lambd=1.)", 1.0},
      {"l2(lambd=0)", 0.0},  {"l2(lambd=-0)", 0.0}, {"l2(lambd=5e+1)", 50.0},
      {"l2(lambd=0.000)", 0.0}};
  for (const auto& [text, value] : cases) {
    EXPECT_EQ(xg::parse_regularizer_spec(text).l2, value) << text;
  }
}

TEST(SpecParser, L1L2KeysInEitherOrder) {
  for (const char* text : {"l1_l2(l1=1e-4, l2=0.01)", "l1_l2( l2 = 0.01 ,l1=1e-4 )",
                           "l1_l2(l1=1e-4,l2=0.01)"}) {
    const auto spec = xg::parse_regularizer_spec(text);
    EXPECT_EQ(spec.kind, "l1_l2") << text;
    EXPECT_EQ(spec.l1, 1e-4) << text;
    EXPECT_EQ(spec.l2, 0.01) << text;
  }
}

TEST(SpecParser, MakeRegularizerBuildsTheNamedKind) {
  auto none = xg::make_regularizer("none");
  EXPECT_NE(dynamic_cast<xg::NoPenalty*>(none.get()), nullptr);
  auto l1 = xg::make_regularizer(" l1 ( lambd = 1e-4 )");
  ASSERT_NE(dynamic_cast<xg::L1*>(l1.get()), nullptr);
  EXPECT_EQ(dynamic_cast<xg::L1&>(*l1).lambd(), 1e-4);
  auto l2 = xg::make_regularizer(xg::parse_regularizer_spec("l2(lambd=0.01)"));
  ASSERT_NE(dynamic_cast<xg::L2*>(l2.get()), nullptr);
  EXPECT_EQ(dynamic_cast<xg::L2&>(*l2).lambd(), 0.01);
  EXPECT_EQ(dynamic_cast<xg::L2&>(*l2).selection().describe(), "weights");
  auto en = xg::make_regularizer("l1_l2(l2=0.01, l1=1e-4)", xg::Selection::all());
  ASSERT_NE(dynamic_cast<xg::ElasticNet*>(en.get()), nullptr);
  EXPECT_EQ(en->describe(), "l1_l2(l1=1e-4, l2=0.01)");
  EXPECT_EQ(dynamic_cast<xg::ElasticNet&>(*en).selection().describe(), "all");
}

TEST(SpecParser, MakeRegularizerBuildsEitherPrecision) {
  // float unless asked: xg::L2 is BasicL2<float>.
  EXPECT_NE(dynamic_cast<xg::L2*>(xg::make_regularizer("l2(lambd=0.01)").get()), nullptr);
  auto l2 = xg::make_regularizer<double>("l2(lambd=0.01)");
  ASSERT_NE(dynamic_cast<xg::BasicL2<double>*>(l2.get()), nullptr);
  // The scalar type follows a selection's.
  auto l1 = xg::make_regularizer("l1(lambd=1e-4)", xg::BasicSelection<double>::all());
  ASSERT_NE(dynamic_cast<xg::BasicL1<double>*>(l1.get()), nullptr);
  EXPECT_EQ(l1->describe(), "l1(lambd=1e-4)");
  const xg::NamedParametersOf<double> params = {
      {"fc.weight", xg::BasicVariable<double>::parameter(xg::TensorOf<double>{1.0, -3.0})}};
  EXPECT_DOUBLE_EQ(l2->penalty(params).item(), 0.5 * 0.01 * 10.0);
}

TEST(SpecParser, DescribeReadsBackToTheSameCoefficients) {
  for (const double v : {0.01, 1e-4, 0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308}) {
    for (const auto& reg : {xg::make_regularizer(xg::RegSpec{"l1", v, 0, ""}),
                            xg::make_regularizer(xg::RegSpec{"l2", 0, v, ""}),
                            xg::make_regularizer(xg::RegSpec{"l1_l2", v, v / 2, ""})}) {
      const auto spec = xg::parse_regularizer_spec(reg->describe());
      const auto again = xg::make_regularizer(spec);
      EXPECT_EQ(again->describe(), reg->describe());
    }
  }
}

TEST(SpecParser, ModeAndStartAreOptionalKeysInAnyOrder) {
  const auto plain = xg::parse_regularizer_spec("l1(lambd=1e-4)");
  EXPECT_EQ(plain.mode, xg::L1Mode::subgradient);
  EXPECT_EQ(plain.start, 1u);
  for (const char* text : {"l1(lambd=1e-4, mode=prox, start=10)", "l1( start = 10 ,mode=prox, lambd=1e-4)",
                           "l1(mode=prox,start=10,lambd=1e-4)"}) {
    const auto spec = xg::parse_regularizer_spec(text);
    EXPECT_EQ(spec.kind, "l1") << text;
    EXPECT_EQ(spec.l1, 1e-4) << text;
    EXPECT_EQ(spec.mode, xg::L1Mode::prox) << text;
    EXPECT_EQ(spec.start, 10u) << text;
  }
  EXPECT_EQ(xg::parse_regularizer_spec("l1(lambd=1, mode=subgradient)").mode, xg::L1Mode::subgradient);
  EXPECT_EQ(xg::parse_regularizer_spec("l2(lambd=1, start=007)").start, 7u);
  const auto en = xg::parse_regularizer_spec("l1_l2(l1=1e-4, l2=0.01, mode=prox, start=2)");
  EXPECT_EQ(en.mode, xg::L1Mode::prox);
  EXPECT_EQ(en.start, 2u);
}

TEST(SpecParser, MakeRegularizerAppliesModeAndStart) {
  auto l1 = xg::make_regularizer("l1(lambd=1e-4, mode=prox, start=10)");
  ASSERT_NE(dynamic_cast<xg::L1*>(l1.get()), nullptr);
  EXPECT_EQ(dynamic_cast<xg::L1&>(*l1).mode(), xg::L1Mode::prox);
  EXPECT_EQ(l1->start(), 10u);
  EXPECT_EQ(l1->prox_l1(), 1e-4);
  auto en = xg::make_regularizer("l1_l2(l1=1e-4, l2=0.01, mode=prox)");
  EXPECT_EQ(dynamic_cast<xg::ElasticNet&>(*en).mode(), xg::L1Mode::prox);
  EXPECT_EQ(en->prox_l1(), 1e-4);
  EXPECT_EQ(xg::make_regularizer("l2(lambd=0.01, start=4)")->start(), 4u);
}

TEST(SpecParser, MakeRegularizerRejectsModeOrStartWhereTheyMeanNothing) {
  xg::RegSpec l2{"l2", 0, 0.01, ""};
  l2.mode = xg::L1Mode::prox;
  EXPECT_THROW(xg::make_regularizer(l2), std::invalid_argument);
  xg::RegSpec none{"none", 0, 0, ""};
  none.start = 3;
  EXPECT_THROW(xg::make_regularizer(none), std::invalid_argument);
  xg::RegSpec l1{"l1", 1e-4, 0, ""};
  l1.start = 0;
  EXPECT_THROW(xg::make_regularizer(l1), std::invalid_argument);
}

TEST(SpecParser, MakeRegularizerRejectsInconsistentHandMadeSpecs) {
  EXPECT_THROW(xg::make_regularizer(xg::RegSpec{"l4", 0, 0, ""}), std::invalid_argument);
  EXPECT_THROW(xg::make_regularizer(xg::RegSpec{"l1", 1e-4, 0.01, ""}), std::invalid_argument);
  EXPECT_THROW(xg::make_regularizer(xg::RegSpec{"l2", 1e-4, 0.01, ""}), std::invalid_argument);
  EXPECT_THROW(xg::make_regularizer(xg::RegSpec{"none", 0, 0.01, ""}), std::invalid_argument);
  EXPECT_THROW(xg::make_regularizer(xg::RegSpec{"l2", 0, -1, ""}), std::invalid_argument);
}

// ---- bad forms ------------------------------------------------------------------------------

struct BadSpec {
  std::string text;
  std::vector<std::string> words;  // each must appear in the message
};

// The test's name in ctest shows the spec, not the struct's bytes (which held pointers, so the
// names changed from build to build).
void PrintTo(const BadSpec& bad, std::ostream* os) { *os << '"' << bad.text << '"'; }

class SpecParserRejects : public ::testing::TestWithParam<BadSpec> {};

TEST_P(SpecParserRejects, WithTheSpecQuotedAndWhatIsWrong) {
  const BadSpec& bad = GetParam();
  const std::string message = error_of(bad.text);
  EXPECT_NE(message.find("invalid regularizer spec \"" + bad.text + "\""), std::string::npos)
      << message;
  for (const auto& word : bad.words) {
    EXPECT_NE(message.find(word), std::string::npos) << "'" << word << "' not in: " << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllErrorKinds, SpecParserRejects,
    ::testing::Values(
        // empty
        BadSpec{"", {"empty", "expected none, l1(lambd=X)"}},
        BadSpec{"  \t ", {"empty"}},
        // unknown name
        BadSpec{"l3(lambd=1)", {"unknown regularizer 'l3'; expected none, l1, l2, l1_l2 or group_lasso"}},
        BadSpec{"L2(lambd=0.01)", {"unknown regularizer 'L2'"}},
        BadSpec{"l2_l1(l1=1, l2=1)", {"unknown regularizer 'l2_l1'"}},
        BadSpec{"(lambd=0.01)", {"expected a regularizer name", "'(lambd=0.01)'"}},
        BadSpec{"0.01", {"expected a regularizer name"}},
        // unknown key, including the reserved-for-later ones
        BadSpec{"l2(lambda=0.01)", {"unknown key 'lambda' for l2", "expected l2(lambd=X)"}},
        BadSpec{"l2(lambd=0.01, mode=prox)", {"unknown key 'mode'"}},
        BadSpec{"none(start=5)", {"unknown key 'start' for none"}},
        BadSpec{"l2(lambd=0.01, mode=subgradient)", {"unknown key 'mode' for l2", "start=N"}},
        BadSpec{"l1_l2(lambd=1e-4)", {"unknown key 'lambd' for l1_l2", "l1_l2(l1=X, l2=Y)"}},
        BadSpec{"none(lambd=1)", {"unknown key 'lambd' for none", "takes no keys"}},
        // repeated key
        BadSpec{"l2(lambd=0.01, lambd=0.02)", {"repeated key 'lambd'"}},
        BadSpec{"l1_l2(l1=1, l2=1, l1=2)", {"repeated key 'l1'"}},
        // missing key
        BadSpec{"l2()", {"missing key 'lambd'"}},
        BadSpec{"l1_l2(l1=1e-4)", {"missing key 'l2'"}},
        BadSpec{"l1_l2(l2=0.01)", {"missing key 'l1'"}},
        // missing value or '='
        BadSpec{"l2(lambd=)", {"missing value for key 'lambd'"}},
        BadSpec{"l1_l2(l1= , l2=1)", {"missing value for key 'l1'"}},
        BadSpec{"l2(lambd)", {"missing '='", "'lambd'"}},
        BadSpec{"l2(lambd 0.01)", {"missing '='"}},
        // not a number
        BadSpec{"l2(lambd=abc)", {"value 'abc' for key 'lambd' is not a number"}},
        BadSpec{"l2(lambd=0.01x)", {"'0.01x'", "not a number"}},
        BadSpec{"l2(lambd=1e)", {"'1e'", "not a number"}},
        BadSpec{"l2(lambd=0x1p-3)", {"not a number"}},
        BadSpec{"l2(lambd=+0.01)", {"not a number"}},
        BadSpec{"l2(lambd=1..2)", {"not a number"}},
        BadSpec{"l2(lambd=0.01%)", {"not a number"}},
        // negative, NaN, infinite
        BadSpec{"l2(lambd=-0.01)", {"value '-0.01' for key 'lambd' is negative"}},
        BadSpec{"l1_l2(l1=1e-4, l2=-1)", {"'l2' is negative"}},
        BadSpec{"l2(lambd=nan)", {"is NaN"}},
        BadSpec{"l2(lambd=NaN)", {"is NaN"}},
        BadSpec{"l1(lambd=inf)", {"is infinite"}},
        BadSpec{"l1(lambd=-infinity)", {"is infinite"}},
        BadSpec{"l2(lambd=1e999)", {"out of range"}},
        // missing parentheses
        BadSpec{"l2", {"missing '(' after 'l2'", "expected l2(lambd=X)"}},
        BadSpec{"l1_l2 ", {"missing '(' after 'l1_l2'"}},
        BadSpec{"l2 lambd=0.01)", {"missing '(' after 'l2'"}},
        BadSpec{"l2[lambd=0.01]", {"missing '(' after 'l2'"}},
        BadSpec{"l2(lambd=0.01", {"missing ')'"}},
        BadSpec{"l2(lambd=0.01  ", {"missing ')'"}},
        BadSpec{"l2(", {"missing ')'"}},
        BadSpec{"l1_l2(l1=1e-4,", {"missing ')'"}},
        // malformed lists
        BadSpec{"l2(lambd=0.01,)", {"expected a key at ')'"}},
        BadSpec{"l2(,lambd=0.01)", {"expected a key"}},
        BadSpec{"l2(lambd=0.01 0.02)", {"expected ',' or ')' after the value of 'lambd'"}},
        BadSpec{"l2(lambd=0.01=0.02)", {"expected ',' or ')'"}},
        BadSpec{"l2(lambd=(0.01))", {"missing value"}},
        // trailing garbage
        BadSpec{"l2(lambd=0.01))", {"unexpected trailing text ')' after ')'"}},
        BadSpec{"l2(lambd=0.01) x", {"unexpected trailing text 'x' after ')'"}},
        BadSpec{"l2(lambd=0.01);rm -rf /", {"trailing text ';rm -rf /'"}},
        BadSpec{"none x", {"unexpected trailing text 'x' after 'none'"}},
        BadSpec{"none,", {"trailing text"}},
        BadSpec{"l2(lambd=0.01) l1(lambd=1)", {"trailing text"}},
        // mode and start
        BadSpec{"l1(lambd=1e-4, mode=proximal)", {"value 'proximal' for key 'mode' is not subgradient or prox"}},
        BadSpec{"l1(lambd=1e-4, mode=PROX)", {"not subgradient or prox"}},
        BadSpec{"l1(lambd=1e-4, mode=)", {"missing value for key 'mode'"}},
        BadSpec{"l1(lambd=1e-4, mode=prox, mode=prox)", {"repeated key 'mode'"}},
        BadSpec{"l1(mode=prox)", {"missing key 'lambd'"}},
        BadSpec{"l1(lambd=1e-4, start=0)", {"value '0' for key 'start' is not an epoch number"}},
        BadSpec{"l1(lambd=1e-4, start=-1)", {"'-1'", "not an epoch number"}},
        BadSpec{"l1(lambd=1e-4, start=2.5)", {"'2.5'", "not an epoch number"}},
        BadSpec{"l1(lambd=1e-4, start=1e1)", {"not an epoch number"}},
        BadSpec{"l1(lambd=1e-4, start=+3)", {"not an epoch number"}},
        BadSpec{"l1(lambd=1e-4, start=)", {"missing value for key 'start'"}},
        BadSpec{"l2(lambd=1e-4, start=99999999999999999999999)", {"out of range"}},
        BadSpec{"l1_l2(l1=1, l2=1, start=3, start=4)", {"repeated key 'start'"}},
        BadSpec{"l1(lambd=1e-4, start=3", {"missing ')'"}}));
