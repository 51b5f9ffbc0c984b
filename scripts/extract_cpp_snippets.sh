#!/usr/bin/env bash
# Writes every ```cpp block of the given Markdown files into OUT_DIR as one translation unit
# each (NAME_N.cpp), so that the build compiles the documentation's code (tests/CMakeLists.txt
# runs this at configure time). Each unit starts with `#include "doc_snippet_prelude.hpp"`.
#   ```cpp            a unit of its own
#   ```cpp continued  appended to the previous unit (a declaration, then its definition, ...)
#   ```cpp fragment   not compiled (statements out of context)
# Usage: scripts/extract_cpp_snippets.sh OUT_DIR FILE.md...
set -euo pipefail
out=$1
shift
mkdir -p "$out"
rm -f "$out"/*.cpp
for md in "$@"; do
  name=$(basename "$md" .md | tr -c 'A-Za-z0-9\n' '_')
  awk -v out="$out" -v name="$name" -v src="$md" '
    /^```cpp( continued| fragment)?[[:space:]]*$/ {
      mode = $2
      if (mode == "fragment") { skip = 1; next }
      if (mode != "continued" || file == "") {
        n++
        file = out "/" name "_" n ".cpp"
        printf "// extracted from %s by scripts/extract_cpp_snippets.sh\n#include \"doc_snippet_prelude.hpp\"\n", src > file
      }
      printf "#line %d \"%s\"\n", NR + 1, src >> file
      inside = 1
      next
    }
    /^```/ { if (inside) close(file); inside = 0; skip = 0; next }
    inside { print >> file }
  ' "$md"
done
