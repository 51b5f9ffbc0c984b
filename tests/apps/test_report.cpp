// The pieces of --report's page (apps/mnist_regularization/report.cpp) that are not rendering:
// the base64 of the inline plots and the escaping of text from summary.json. The page itself
// is rendered in Chromium by tests/apps/report_test.sh.
#include <gtest/gtest.h>

#include <string>

#include "report.hpp"

namespace {

TEST(ReportBase64, MatchesTheRfc4648Vectors) {
  EXPECT_EQ(mnist_app::base64(""), "");
  EXPECT_EQ(mnist_app::base64("f"), "Zg==");
  EXPECT_EQ(mnist_app::base64("fo"), "Zm8=");
  EXPECT_EQ(mnist_app::base64("foo"), "Zm9v");
  EXPECT_EQ(mnist_app::base64("foob"), "Zm9vYg==");
  EXPECT_EQ(mnist_app::base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(mnist_app::base64("foobar"), "Zm9vYmFy");
}

TEST(ReportBase64, UsesEveryBitOfHighBytes) {
  // 0xFF 0xFE 0x00 0x80: the high bit and a zero byte must not be lost to sign extension.
  EXPECT_EQ(mnist_app::base64(std::string("\xff\xfe\x00\x80", 4)), "//4AgA==");
}

TEST(ReportHtmlEscape, EscapesMarkupAndQuotes) {
  EXPECT_EQ(mnist_app::html_escape("l1(lambd=1e-4)"), "l1(lambd=1e-4)");
  EXPECT_EQ(mnist_app::html_escape("<b a=\"x\" b='y'>&</b>"),
            "&lt;b a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/b&gt;");
}

}  // namespace
