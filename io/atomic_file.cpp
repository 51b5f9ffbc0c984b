#include "xtgrad/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace xtgrad {
namespace io {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw WriteError(path + ": " + what + " (" + os_reason(err) + ")");
}

// Writes all n bytes at p to fd, retrying short writes and EINTR; false with errno set on failure.
bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    if (w == 0) {  // no progress and no error: treat as a full device
      errno = ENOSPC;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

int open_new(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// Makes a rename durable; the file is already complete, so a failure here is ignored.
void sync_folder_of(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Renames tmp over path and syncs the folder; on failure removes tmp and throws.
void rename_over(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace it with " + tmp, err);
  }
  sync_folder_of(path);
}

}  // namespace

std::string os_reason(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  fd_ = open_new(tmp_);
  if (fd_ < 0) fail(path_, "cannot create " + tmp_, errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t n) {
  if (fd_ < 0) throw std::logic_error("AtomicFile::write after commit: " + path_);
  if (!write_all(fd_, static_cast<const char*>(data), n)) fail(path_, "cannot write", errno);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit twice: " + path_);
  if (::fsync(fd_) != 0) fail(path_, "cannot sync", errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail(path_, "cannot close", errno);
  committed_ = true;  // rename_over removes the temporary itself if the rename fails
  rename_over(tmp_, path_);
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::ostringstream text;
  write(text);
  AtomicFile out(path);
  out.write(text.str());
  out.commit();
}

int write_whole_file(const std::string& path, const std::string& bytes) {
  const int fd = open_new(path);
  if (fd < 0) return errno;
  int err = 0;
  if (!write_all(fd, bytes.data(), bytes.size())) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) ::unlink(path.c_str());
  return err;
}

void commit_file(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0 && ::fsync(fd) != 0) err = errno;
  if (fd >= 0) ::close(fd);
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(path, "cannot replace it with " + tmp, err);
  }
  rename_over(tmp, path);
}

}  // namespace io
}  // namespace xtgrad
