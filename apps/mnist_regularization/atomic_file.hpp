// Files written whole or not at all: a temporary beside the target, every write and the close
// checked, synced, verified, then renamed over the target.
#pragma once

#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace mnist_app {

// An output (a result file, a plot, a checkpoint, standard output) could not be written.
// The message names the file and the OS reason, e.g. "no space left on device".
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// strerror(err) in lower case: "no space left on device".
std::string os_reason(int err);

// Writes `bytes` to `path` (created or truncated), checking every write and the close: a
// scratch file, not synced. Returns 0, or the errno of the failure (the file then removed).
int write_whole_file(const std::string& path, const std::string& bytes);

// Calls `write` on a memory stream, writes the bytes to `path + ".tmp"` (every write and the
// close checked), fsyncs it, renames it over `path` and fsyncs the folder. On any failure the
// temporary is removed, `path` keeps its old content, and an OutputError names the file and
// the OS reason.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Throws OutputError unless `path` is a complete PNG: the signature first and the IEND chunk
// last (a full disk leaves a truncated file that lacks it). `what` names it in the message.
void check_png(const std::string& path, const std::string& what);

// Moves a complete file `tmp` (made by another program) over `path`: fsync, rename, fsync of
// the folder. On failure `tmp` is removed, `path` is unchanged, and OutputError says why.
void commit_file(const std::string& tmp, const std::string& path);

}  // namespace mnist_app
