# The instruction set xtgrad is compiled for, and a guard against GCC 12's miscompiled constants.
#
# XTGRAD_ARCH is the -march value (default x86-64-v3: AVX2 + FMA + BMI2, every x86-64 server
# CPU since Intel Haswell and AMD Zen). The library and every consumer must share it: xsimd's
# target sets the alignment inside xtensor's container types. The exported target and the .pc
# file carry it, so a consumer needs no flag of its own. `native` (or XTGRAD_NATIVE=ON) builds
# for this CPU only; an empty value leaves the compiler's default. OpenBLAS picks its kernels
# at run time whatever is chosen here.
#
# The guard: GCC 12.1-12.2 (PR target/108599) builds some 256-bit constants as broadcasts when
# AVX-512 or a tuning with cheap inter-unit moves is on (-march=native on an AVX-512 CPU,
# x86-64-v4, -mtune=sapphirerapids, ...): std::vector<std::size_t>{2, 2, 2, 0} reads {2, 2, 2, 2}.
# cmake/gcc_pr108599_check.cpp is compiled and run with the chosen flags; if it fails, the
# tuning knob that avoids the bug is added to the library's and the consumers' flags, and if
# that fails too, configuring stops.
#
# Output: XTGRAD_ARCH_FLAGS (-march) and XTGRAD_ARCH_WORKAROUND_FLAGS (the tuning knob, empty
# unless the guard needed it; GCC only), the compile options every xtgrad target and consumer gets.
include_guard(GLOBAL)
include(CheckCXXSourceRuns)

option(XTGRAD_NATIVE "Compile for this machine's CPU only (-march=native; same as XTGRAD_ARCH=native)" OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(xtgrad_default_arch x86-64-v3)
else()
  set(xtgrad_default_arch "")
endif()
set(XTGRAD_ARCH "${xtgrad_default_arch}" CACHE STRING
    "-march value for the library and its consumers (x86-64-v3 default, x86-64-v2 for older nodes, native, or empty for the compiler's default)")
if(XTGRAD_NATIVE)
  set(XTGRAD_ARCH native)
endif()

set(XTGRAD_ARCH_FLAGS)
set(XTGRAD_ARCH_WORKAROUND_FLAGS)
if(NOT XTGRAD_ARCH STREQUAL "")
  set(XTGRAD_ARCH_FLAGS "-march=${XTGRAD_ARCH}")
endif()

# xtgrad_constants_survive(FLAGS OUT): OUT is TRUE when the reproducer, built with FLAGS (and the
# user's CMAKE_CXX_FLAGS) at -O2 and at -O3, reads its constants back as written.
function(xtgrad_constants_survive flags out)
  file(READ "${CMAKE_CURRENT_LIST_DIR}/gcc_pr108599_check.cpp" source)
  string(MD5 key "${CMAKE_CXX_COMPILER};${CMAKE_CXX_FLAGS};${flags}")
  set(CMAKE_REQUIRED_QUIET ON)
  foreach(level IN ITEMS -O2 -O3)
    list(JOIN flags " " joined)
    set(CMAKE_REQUIRED_FLAGS "${level} ${joined}")
    check_cxx_source_runs("${source}" XTGRAD_CONSTANTS_OK_${level}_${key})
    if(NOT XTGRAD_CONSTANTS_OK_${level}_${key})
      set(${out} FALSE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} TRUE PARENT_SCOPE)
endfunction()

if(CMAKE_CROSSCOMPILING)
  message(STATUS "xtgrad: cross-compiling, the GCC PR108599 constant check is not run")
else()
  xtgrad_constants_survive("${XTGRAD_ARCH_FLAGS}" xtgrad_constants_ok)
  if(xtgrad_constants_ok)
    message(STATUS "xtgrad: compiling for '${XTGRAD_ARCH_FLAGS}'; constant check passed")
  else()
    set(xtgrad_workaround -mtune-ctrl=^inter_unit_moves_to_vec)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      xtgrad_constants_survive("${XTGRAD_ARCH_FLAGS};${xtgrad_workaround}" xtgrad_fixed)
    endif()
    if(xtgrad_fixed)
      set(XTGRAD_ARCH_WORKAROUND_FLAGS ${xtgrad_workaround})
      message(STATUS "xtgrad: ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} with '${XTGRAD_ARCH}' "
                     "miscompiles vector constants (GCC PR target/108599); adding ${xtgrad_workaround} "
                     "to the library's and its consumers' flags")
    else()
      message(FATAL_ERROR "xtgrad: ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} with "
                          "'${XTGRAD_ARCH_FLAGS} ${CMAKE_CXX_FLAGS}' builds wrong constants "
                          "(cmake/gcc_pr108599_check.cpp fails: GCC PR target/108599) and "
                          "${xtgrad_workaround} does not avoid it. Configure with the portable default "
                          "-DXTGRAD_ARCH=x86-64-v3 (and without -march/-mtune in CMAKE_CXX_FLAGS), or use GCC >= 12.3.")
    endif()
  endif()
endif()
