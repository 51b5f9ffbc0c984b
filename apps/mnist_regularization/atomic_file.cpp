#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace mnist_app {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw OutputError(path + ": " + what + " (" + os_reason(err) + ")");
}

// Writes all of `bytes` to `fd`, retrying short writes and EINTR; false with errno set on failure.
bool write_all(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    if (w == 0) {  // no progress and no error: treat as a full device
      errno = ENOSPC;
      return false;
    }
    p += w;
    left -= std::size_t(w);
  }
  return true;
}

// Writes `bytes` to a new file `tmp`, fsynced when `sync`. Returns 0, or the errno of the failed
// step, named in `what`, with `tmp` removed.
int write_new_file(const std::string& tmp, const std::string& bytes, bool sync, std::string& what) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    what = "cannot create " + tmp;
    return errno;
  }
  int err = 0;
  if (!write_all(fd, bytes)) err = errno, what = "cannot write";
  else if (sync && ::fsync(fd) != 0) err = errno, what = "cannot sync";
  if (::close(fd) != 0 && err == 0) err = errno, what = "cannot close";
  if (err != 0) ::unlink(tmp.c_str());
  return err;
}

void sync_folder_of(const std::string& path) {
  // Makes the rename durable; the file is already complete, so a failure here is ignored.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string os_reason(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

int write_whole_file(const std::string& path, const std::string& bytes) {
  std::string what;
  return write_new_file(path, bytes, false, what);
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::ostringstream text;
  write(text);
  const std::string tmp = path + ".tmp";
  std::string what;
  if (const int err = write_new_file(tmp, text.str(), true, what)) fail(path, what, err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace it with " + tmp, err);
  }
  sync_folder_of(path);
}

void check_png(const std::string& path, const std::string& what) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  // The last chunk: length 0, type IEND, CRC ae 42 60 82.
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(what, "gnuplot did not write it", errno);
  struct stat st {};
  unsigned char head[8] = {}, tail[12] = {};
  const bool read_ok = ::fstat(fd, &st) == 0 && st.st_size >= 8 + 12 && ::pread(fd, head, 8, 0) == 8 &&
                       ::pread(fd, tail, 12, st.st_size - 12) == 12;
  ::close(fd);
  if (!read_ok || std::memcmp(head, signature, 8) != 0 || std::memcmp(tail, iend, 12) != 0) {
    // gnuplot exits 0 even when its PNG write fails; a full device is the usual cause.
    struct statvfs fs {};
    const bool full = ::statvfs(path.c_str(), &fs) == 0 && fs.f_bavail * fs.f_frsize < (1u << 20);
    throw OutputError(what + ": gnuplot wrote an incomplete PNG (" + std::to_string(st.st_size) +
                      " bytes, no IEND chunk at its end" + (full ? "; no space left on device" : "") +
                      "); the previous file is kept");
  }
}

void commit_file(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0 && ::fsync(fd) != 0) err = errno;
  if (fd >= 0) ::close(fd);
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(path, "cannot replace it with " + tmp, err);
  }
  sync_folder_of(path);
}

}  // namespace mnist_app
