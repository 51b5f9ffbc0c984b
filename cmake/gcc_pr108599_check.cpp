// Reproducer of GCC PR target/108599 (GCC 12.1-12.2): with AVX-512 enabled, or with a tuning
// whose inter-unit moves are cheap (-mtune=rocketlake, sapphirerapids, ...), a 256-bit constant
// whose top words are zero is materialised as a broadcast of its first word, so
// std::vector<std::size_t>{2, 2, 2, 0} reads {2, 2, 2, 2}. Exit 0 when the three constants
// below come out as written. Used at configure time (cmake/XtgradArch.cmake) with the flags
// the library is about to be built with, and as the ctest `gcc_constant_guard` with the flags
// the installed package hands to consumers.
#include <cstddef>
#include <cstdio>
#include <vector>

// noinline: the checks must read the materialised vectors, not values the compiler folded.
__attribute__((noinline)) static bool sizes_ok(const std::vector<std::size_t>& v) {
  return v.size() == 4 && v[0] == 2 && v[1] == 2 && v[2] == 2 && v[3] == 0;
}
__attribute__((noinline)) static bool doubles_ok(const std::vector<double>& v) {
  return v.size() == 4 && v[0] == 0.5 && v[1] == 0.5 && v[2] == 0.0 && v[3] == 0.0;
}
__attribute__((noinline)) static bool ints_ok(const std::vector<int>& v) {
  const int expected[8] = {1, 2, 1, 2, 1, 2, 0, 0};
  if (v.size() != 8) return false;
  for (std::size_t i = 0; i < 8; ++i)
    if (v[i] != expected[i]) return false;
  return true;
}

int main() {
  const bool ok = sizes_ok({2, 2, 2, 0}) && doubles_ok({0.5, 0.5, 0, 0}) && ints_ok({1, 2, 1, 2, 1, 2, 0, 0});
  if (!ok) std::puts("constants miscompiled: std::vector{2, 2, 2, 0} does not read back as written (GCC PR target/108599)");
  return ok ? 0 : 1;
}
