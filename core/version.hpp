// The library's version, as set by project(VERSION) in CMakeLists.txt: the same numbers as
// the XTGRAD_VERSION_* macros of <xtgrad/xtgrad.hpp>, but read from the compiled library, so
// a program can tell which build it is actually linked against.
#pragma once

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// "MAJOR.MINOR.PATCH", e.g. "0.1.0".
const char* version();
// The MAJOR of version(): installed packages of the same major version are compatible.
int version_major();
// The MINOR of version().
int version_minor();
// The PATCH of version().
int version_patch();

}  // namespace xtgrad
