#include "xtgrad/io/gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "xtgrad/io/atomic_file.hpp"

extern char** environ;

namespace xtgrad {
namespace io {

namespace fs = std::filesystem;

namespace {

// The executable `program` in $PATH, or "".
std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const std::string candidate = (folder.empty() ? std::string(".") : folder) + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

}  // namespace

std::string gnuplot_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool installed(const std::string& program) { return !find_program(program).empty(); }

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

bool ProgramRun::succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProgramRun::first_line() const {
  const auto start = output.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  return output.substr(start, output.find('\n', start) - start);
}

ProgramRun run_program(const std::vector<std::string>& argv, const std::string& cwd) {
  const std::string exe = find_program(argv.at(0));
  if (exe.empty()) throw WriteError(argv[0] + ": not found in PATH");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw WriteError(argv[0] + ": cannot make a pipe (" + os_reason(errno) + ")");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_error = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    throw WriteError(exe + ": cannot start it (" + os_reason(spawn_error) + ")");
  }
  ProgramRun run;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (run.output.size() < (1u << 16)) run.output.append(buffer, std::size_t(n));
  }
  ::close(pipe_fds[0]);
  while (::waitpid(pid, &run.status, 0) < 0) {
    if (errno != EINTR) throw WriteError(exe + ": cannot wait for it (" + os_reason(errno) + ")");
  }
  return run;
}

PlotJob::PlotJob(const std::string& dir, const std::string& png)
    : dir_(dir), png_((fs::path(dir) / png).string()) {
  std::string pattern = (fs::path(dir) / ".plot.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw WriteError(png_ + ": cannot create a scratch folder for gnuplot in " + dir + " (" + os_reason(errno) + ")");
  }
  scratch_ = pattern;
}

PlotJob::~PlotJob() {
  std::error_code ec;
  fs::remove_all(scratch_, ec);
}

void PlotJob::add_file(const std::string& name, const std::string& content) {
  if (const int err = write_whole_file((fs::path(scratch_) / name).string(), content)) {
    throw WriteError(png_ + ": cannot write gnuplot's input " + name + " (" + os_reason(err) + ")");
  }
}

void PlotJob::run(const std::string& script, const std::vector<std::string>& pngs) {
  std::vector<std::pair<std::string, std::string>> outputs;
  for (const auto& png : pngs) outputs.emplace_back(png, png);
  run_outputs(script, outputs);
}

void PlotJob::run_renamed(const std::string& script, const std::string& drawn, const std::string& name) {
  run_outputs(script, {{drawn, name}});
}

void PlotJob::run_outputs(const std::string& script, const std::vector<std::pair<std::string, std::string>>& outputs) {
  add_file("plot.gp", script);
  const ProgramRun gnuplot = run_program({"gnuplot", "plot.gp"}, scratch_);
  if (!gnuplot.succeeded()) {
    const std::string said = gnuplot.first_line();
    throw WriteError(png_ + ": gnuplot failed (" + describe_status(gnuplot.status) + ")" +
                      (said.empty() ? "" : ": " + said));
  }
  for (const auto& [drawn, name] : outputs) {
    check_png((fs::path(scratch_) / drawn).string(), (fs::path(dir_) / name).string());
  }
  for (const auto& [drawn, name] : outputs) {
    commit_file((fs::path(scratch_) / drawn).string(), (fs::path(dir_) / name).string());
  }
}

void check_png(const std::string& path, const std::string& what) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  // The last chunk: length 0, type IEND, CRC ae 42 60 82.
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw WriteError(what + ": gnuplot did not write it (" + os_reason(err) + ")");
  }
  struct stat st {};
  unsigned char head[8] = {}, tail[12] = {};
  const bool read_ok = ::fstat(fd, &st) == 0 && st.st_size >= 8 + 12 && ::pread(fd, head, 8, 0) == 8 &&
                       ::pread(fd, tail, 12, st.st_size - 12) == 12;
  ::close(fd);
  if (!read_ok || std::memcmp(head, signature, 8) != 0 || std::memcmp(tail, iend, 12) != 0) {
    // gnuplot exits 0 even when its PNG write fails; a full device is the usual cause.
    struct statvfs fs {};
    const bool full = ::statvfs(path.c_str(), &fs) == 0 && fs.f_bavail * fs.f_frsize < (1u << 20);
    throw WriteError(what + ": gnuplot wrote an incomplete PNG (" + std::to_string(st.st_size) +
                      " bytes, no IEND chunk at its end" + (full ? "; no space left on device" : "") +
                      "); the previous file is kept");
  }
}

bool write_line_plot(const std::string& path, const LinePlot& plot) {
  for (const Series& s : plot.series) {
    const std::string name = "write_line_plot: " + path + ": series '" + s.title + "'";
    if (s.x.empty() || s.x.size() != s.y.size()) {
      throw std::invalid_argument(name + " has " + std::to_string(s.x.size()) + " x and " + std::to_string(s.y.size()) +
                                  " y values (the same number, at least one, is needed)");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (plot.log_y && s.y[i] <= 0)) {
        throw std::invalid_argument(name + ": point " + std::to_string(i) + " (" + std::to_string(s.x[i]) + ", " +
                                    std::to_string(s.y[i]) + ") is not finite" + (plot.log_y ? " or not > 0 under log_y" : ""));
      }
    }
  }
  if (plot.width <= 0 || plot.height <= 0) {
    throw std::invalid_argument("write_line_plot: " + path + ": the size " + std::to_string(plot.width) + "x" +
                                std::to_string(plot.height) + " is not positive");
  }
  if (!installed("gnuplot")) return false;
  const fs::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  PlotJob job(dir, target.filename().string());
  // Every series is one block of the data file (two blank lines between: gnuplot's `index`).
  std::ostringstream data, script;
  data.precision(17);
  for (const Series& s : plot.series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) data << s.x[i] << " " << s.y[i] << "\n";
    data << "\n\n";
  }
  job.add_file("series.dat", data.str());
  script << "set terminal pngcairo size " << plot.width << "," << plot.height << " noenhanced\n"
         << "set output 'plot.png'\nset grid\nset key top right\n"
         << "set title " << gnuplot_string(plot.title) << "\nset xlabel " << gnuplot_string(plot.xlabel)
         << "\nset ylabel " << gnuplot_string(plot.ylabel) << "\n" << (plot.log_y ? "set logscale y\n" : "");
  if (plot.series.empty()) {
    script << "unset key\nset xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n";  // the axes alone
  } else {
    script << "plot ";
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      script << (k ? ", " : "") << "'series.dat' index " << k << " using 1:2 with linespoints title "
             << gnuplot_string(plot.series[k].title);
    }
    script << "\n";
  }
  script << "unset output\n";
  job.run_renamed(script.str(), "plot.png", target.filename().string());
  return true;
}

}  // namespace io
}  // namespace xtgrad
