#include "process.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <streambuf>
#include <system_error>

#include "atomic_file.hpp"

namespace mnist_app {
namespace {

// A stream buffer that accepts everything and keeps nothing.
struct DiscardingBuffer : std::streambuf {
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

void say(const std::string& message) { std::cerr << ("mnist_regularization: " + message + "\n") << std::flush; }

int fail(int code, const std::string& message) {
  say(message);
  return code;
}

bool reserve_standard_fds() {
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    if (::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) std::abort();  // open takes the lowest free fd
    stdout_closed = stdout_closed || fd == 1;
  }
  return stdout_closed;
}

void keep_freed_memory() {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
}

void quiet_unless_root(const Communicator& ranks) {
  // (Never freed: std::cout is flushed after main returns.)
  if (ranks.rank() != 0) std::cout.rdbuf(new DiscardingBuffer);
}

void check_stdout() {
  std::cout.flush();
  if (!std::cout || std::ferror(stdout)) {
    const int err = errno;
    throw OutputError("standard output: write failed (" + os_reason(err) + ")");
  }
}

void check_output_dir(const std::string& flag, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument(flag + " " + dir + ": cannot create the folder (" + ec.message() + ")");
  const std::string probe = (fs::path(dir) / ".write_test").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::invalid_argument(flag + " " + dir + ": the folder is not writable (" + os_reason(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
}

std::string signal_name(int signal) { return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal"; }

int settle(Communicator& ranks, const Outcome& mine) {
  const Outcome first = first_failure(ranks, mine);
  if (first.code != 0 && first.rank == ranks.rank()) fail(first.code, first.message);
  return first.code;
}

}  // namespace mnist_app
