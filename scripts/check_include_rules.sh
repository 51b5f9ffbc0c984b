#!/usr/bin/env bash
# The layering rule, enforced (ctest include_rules; tests/scripts/include_rules_fixture.sh shows
# that it fails on a planted violation). A library folder may include its own files and those
# of the folders listed for it, nothing else of xtgrad's:
#
#   core          nothing else
#   ops           core
#   io            core
#   nn            core, ops, io
#   regularizers  core, ops
#   distributed   core, ops, nn
#
# apps/ (and tests/, bench/, examples/) may include anything and are not checked; a rule whose
# folder does not exist is simply not used. Checked: every C/C++ source and header under the
# folders above (subfolders included), and in them each
#   #include <xtgrad/FOLDER/...>  or  #include "xtgrad/FOLDER/..."   (the installed spelling)
#   #include "../FOLDER/..."       (relative to the including file, any depth)
# The umbrella <xtgrad/xtgrad.hpp> includes every folder, so no library folder may include it.
# core/ and ops/ are precision-generic (templates over the scalar): no file there but
# core/core.hpp may include the float defaults (core/defaults.hpp, or core/core.hpp which
# includes them), so that a forgotten `Tensor` fails to compile instead of computing in float.
#
# Usage: scripts/check_include_rules.sh [ROOT]   (ROOT: the source tree, default: this repo)
# Exit: 0 no violation; 1 violations (one line each: file:line, the rule, the include); 2 usage.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [[ ! -d $root ]]; then
  echo "check_include_rules: $root: no such folder" >&2
  exit 2
fi
cd "$root"

# folder → the other folders it may include (its own is always allowed)
rules="core:
ops:core
io:core
nn:core ops io
regularizers:core ops
distributed:core ops nn"

folders=()
while IFS=: read -r folder _; do
  [[ -d $folder ]] && folders+=("$folder")
done <<<"$rules"
if ((${#folders[@]} == 0)); then
  echo "check_include_rules: $root has none of core/, ops/, io/, nn/, regularizers/, distributed/" >&2
  exit 2
fi

mapfile -d '' files < <(find "${folders[@]}" -type f \
  \( -name '*.hpp' -o -name '*.h' -o -name '*.hh' -o -name '*.ipp' -o -name '*.inl' \
     -o -name '*.cpp' -o -name '*.cc' -o -name '*.cxx' \) -print0 | sort -z)
if ((${#files[@]} == 0)); then
  echo "check_include_rules: no source files under ${folders[*]}" >&2
  exit 2
fi

# One awk pass over every file: RULES arrive as "folder:allowed ..." lines.
awk -v rules="$rules" -v nfiles="${#files[@]}" '
  BEGIN {
    n = split(rules, lines, "\n")
    for (i = 1; i <= n; i++) {
      split(lines[i], kv, ":")
      library[kv[1]] = 1
      allowed_text[kv[1]] = kv[2]
      m = split(kv[2], allow, " ")
      for (j = 1; j <= m; j++) allowed[kv[1], allow[j]] = 1
    }
  }
  # "a/b/../c/./d" -> "a/c/d"; a path that leaves the root keeps a leading ".."
  function normalize(path,    parts, out, k, i, n) {
    n = split(path, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
      if (parts[i] == "" || parts[i] == ".") continue
      if (parts[i] == ".." && k > 0 && out[k] != "..") { k--; continue }
      out[++k] = parts[i]
    }
    path = ""
    for (i = 1; i <= k; i++) path = path (i > 1 ? "/" : "") out[i]
    return path
  }
  FNR == 1 {
    split(FILENAME, p, "/")
    from = p[1]
    dir = FILENAME
    sub(/\/[^\/]*$/, "", dir)
  }
  /^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    line = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
    quote = substr(line, 1, 1)
    close_char = quote == "<" ? ">" : "\""
    target = substr(line, 2)
    end = index(target, close_char)
    if (end == 0) next
    target = substr(target, 1, end - 1)
    to = ""
    if (target ~ /^xtgrad\//) {
      rest = substr(target, 8)
      if (index(rest, "/") == 0) to = "(umbrella)"   # <xtgrad/xtgrad.hpp>: every folder
      else to = substr(rest, 1, index(rest, "/") - 1)
    } else if (quote == "\"") {
      resolved = normalize(dir "/" target)
      if (resolved ~ /^\.\./) next                    # outside the tree: not xtgrad
      if (index(resolved, "/") == 0) next             # a file at the root: not a folder
      to = substr(resolved, 1, index(resolved, "/") - 1)
    } else {
      next                                            # <vector>, <xtensor/...>, <mpi.h>, ...
    }
    checked++
    file = target ~ /^xtgrad\// ? substr(target, 8) : normalize(dir "/" target)
    if ((from == "core" || from == "ops") && FILENAME != "core/core.hpp" &&
        (file == "core/defaults.hpp" || file == "core/core.hpp")) {
      bad++
      printf "%s:%d: %s/ is precision-generic; this includes the defaults (float Variable, Tensor, ...): %s\n", FILENAME, FNR, from, $0
      next
    }
    if (to == from || allowed[from, to]) next
    bad++
    what = allowed_text[from]
    gsub(/ /, ", ", what)
    if (what == "") what = "nothing of xtgrad'"'"'s other folders"
    if (to == "(umbrella)")
      printf "%s:%d: %s/ may include %s; this includes the umbrella header, which includes every folder: %s\n", FILENAME, FNR, from, what, $0
    else
      printf "%s:%d: %s/ may include %s; this includes %s/: %s\n", FILENAME, FNR, from, what, to, $0
  }
  END {
    if (bad) {
      printf "include_rules: %d include(s) cross the layering rule (scripts/check_include_rules.sh lists the rule)\n", bad
      exit 1
    }
    printf "include_rules: %d files, %d includes of xtgrad folders, no rule crossed\n", nfiles, checked
  }
' "${files[@]}"
