#include "xtgrad/core/version.hpp"

// Set for this file only by CMakeLists.txt, from project(VERSION).
#if !defined(XTGRAD_LIB_VERSION) || !defined(XTGRAD_LIB_VERSION_MAJOR) || \
    !defined(XTGRAD_LIB_VERSION_MINOR) || !defined(XTGRAD_LIB_VERSION_PATCH)
#error "core/version.cpp needs XTGRAD_LIB_VERSION{,_MAJOR,_MINOR,_PATCH} from CMakeLists.txt"
#endif

namespace xtgrad {

const char* version() { return XTGRAD_LIB_VERSION; }
int version_major() { return XTGRAD_LIB_VERSION_MAJOR; }
int version_minor() { return XTGRAD_LIB_VERSION_MINOR; }
int version_patch() { return XTGRAD_LIB_VERSION_PATCH; }

}  // namespace xtgrad
