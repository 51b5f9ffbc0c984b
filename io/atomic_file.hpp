// Files written whole or not at all: a temporary beside the target, every write and the close
// checked, synced, then renamed over the target, and the folder synced. A crash, a full device
// or an exception leaves the old file in place and no temporary behind.
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

#include "xtgrad/core/errors.hpp"

namespace xtgrad {
namespace io {

// A file could not be written (a full device, a missing folder, no permission, a refused
// rename). The message names the file and the OS reason: "out/summary.json: cannot write (no
// space left on device)". A DataError, as the library's writers have always thrown; catch
// WriteError first to tell a failed output from bad input.
struct WriteError : DataError {
  using DataError::DataError;
};

// strerror(err) in lower case: "no space left on device".
std::string os_reason(int err);

// A file written piece by piece to `path + ".tmp"` and put in place by commit(). Destroyed
// uncommitted (an exception on the way), it removes the temporary and `path` is untouched.
//
//   io::AtomicFile out("model.npz");
//   out.write(header.data(), header.size());
//   out.write(body.data(), body.size());
//   out.commit();
class AtomicFile {
 public:
  // Creates (or truncates) the temporary; WriteError if it cannot.
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Appends n bytes, retrying short writes; WriteError on failure.
  void write(const void* data, std::size_t n);
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  // fsync, close, rename over path(), fsync of the folder; WriteError on failure (the
  // temporary is then removed). At most once.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temporary() const { return tmp_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Calls `write` on a memory stream and puts its bytes in `path` through an AtomicFile.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Writes `bytes` to `path` (created or truncated), checking every write and the close: a
// scratch file, neither synced nor renamed. Returns 0, or the errno of the failure (the file
// then removed).
int write_whole_file(const std::string& path, const std::string& bytes);

// Moves a complete file `tmp` (made by another program) over `path`: fsync, rename, fsync of
// the folder. On failure `tmp` is removed, `path` is unchanged, and WriteError says why.
void commit_file(const std::string& tmp, const std::string& path);

}  // namespace io
}  // namespace xtgrad
