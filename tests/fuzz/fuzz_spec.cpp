// libFuzzer target: parse_regularizer_spec on arbitrary text. Expected outcomes: a RegSpec
// of a known kind with finite coefficients ≥ 0, or
// std::invalid_argument quoting the spec. Anything else is a finding, and so is a result
// whose canonical spelling does not parse back to the same values or that make_regularizer
// refuses.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "xtgrad/regularizers/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  xtgrad::RegSpec spec;
  try {
    spec = xtgrad::parse_regularizer_spec(text);
  } catch (const std::invalid_argument& e) {
    if (std::string_view(e.what()).rfind("invalid regularizer spec \"", 0) != 0) {
      xtgrad_fuzz::finding("parse_regularizer_spec threw a message that does not quote the spec");
    }
    return 0;
  }
  if (spec.kind != "none" && spec.kind != "l1" && spec.kind != "l2" && spec.kind != "l1_l2" &&
      spec.kind != "group_lasso") {
    xtgrad_fuzz::finding("parse_regularizer_spec returned an unknown kind");
  }
  for (double v : {spec.l1, spec.l2, spec.group}) {
    if (!std::isfinite(v) || v < 0 || std::signbit(v)) xtgrad_fuzz::finding("coefficient not finite and >= +0");
  }
  if ((spec.kind == "none" && (spec.l1 != 0 || spec.l2 != 0)) || (spec.kind == "l1" && spec.l2 != 0) ||
      (spec.kind == "l2" && spec.l1 != 0) || (spec.kind != "group_lasso" && spec.group != 0) ||
      (spec.kind == "group_lasso" && (spec.l1 != 0 || spec.l2 != 0))) {
    xtgrad_fuzz::finding("parse_regularizer_spec set a coefficient its kind does not take");
  }
  if (spec.text != text) xtgrad_fuzz::finding("RegSpec::text differs from the input");
  // The canonical spelling of the result (17 significant digits, every key) parses to the
  // same values.
  std::string canonical;
  char num[64];
  const auto coefficient = [&](const char* key, double v) {
    std::snprintf(num, sizeof num, "%s=%.17g", key, v);
    return std::string(num);
  };
  const std::string tail = ", start=" + std::to_string(spec.start) + ")";
  if (spec.kind == "none") {
    canonical = "none";
  } else if (spec.kind == "l1") {
    canonical = "l1(" + coefficient("lambd", spec.l1) + ", mode=" + xtgrad::to_string(spec.mode) + tail;
  } else if (spec.kind == "l2") {
    canonical = "l2(" + coefficient("lambd", spec.l2) + tail;
  } else if (spec.kind == "group_lasso") {
    canonical = "group_lasso(" + coefficient("lambd", spec.group) + ", groups=" + xtgrad::to_string(spec.groups) +
                ", layers=" + xtgrad::to_string(spec.layers) + ", mode=" + xtgrad::to_string(spec.mode) + tail;
  } else {
    canonical = "l1_l2(" + coefficient("l1", spec.l1) + ", " + coefficient("l2", spec.l2) +
                ", mode=" + xtgrad::to_string(spec.mode) + tail;
  }
  const xtgrad::RegSpec again = xtgrad::parse_regularizer_spec(canonical);
  if (again.kind != spec.kind || again.l1 != spec.l1 || again.l2 != spec.l2 || again.mode != spec.mode ||
      again.start != spec.start || again.group != spec.group || again.groups != spec.groups ||
      again.layers != spec.layers) {
    xtgrad_fuzz::finding("the canonical spelling of a parsed spec parses differently");
  }
  // Every spec the parser accepts builds its regularizer (an exception here is a finding).
  if (xtgrad::make_regularizer(spec) == nullptr) xtgrad_fuzz::finding("make_regularizer returned null");
  return 0;
}
