// Files written whole or not at all: a temporary beside the target, synced, then renamed.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace mnist_app {

// Calls `write` on a stream to `path + ".tmp"`, flushes and fsyncs it, then renames it over
// `path`. On any failure the temporary is removed, `path` keeps its old content, and a
// std::runtime_error names the file.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Renames an already written temporary `tmp` over `path` (for files made by other programs).
void commit_file(const std::string& tmp, const std::string& path);

}  // namespace mnist_app
