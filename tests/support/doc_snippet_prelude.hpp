// Included at the top of every C++ block extracted from README.md and docs/*.md
// (scripts/extract_cpp_snippets.sh), so that the blocks compile as the documentation shows
// them: the public header, the ops' internal helpers (for "how to add an op") and the test
// helpers (for its tests).
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include <xtgrad/xtgrad.hpp>

#include "test_util.hpp"
#include "xtgrad/core/accumulate.hpp"

using namespace xtgrad;
using namespace xtgrad_test;
using Vars = std::vector<BasicVariable<double>>;  // gradcheck runs its function on double leaves
