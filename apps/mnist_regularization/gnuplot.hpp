// Running gnuplot and dot without a shell, and turning their PNGs into verified outputs.
#pragma once

#include <string>
#include <vector>

namespace mnist_app {

// Throws OutputError unless `path` is a complete PNG: the signature first and the IEND chunk
// last (a full disk leaves a truncated file that lacks it). `what` names it in the message.
void check_png(const std::string& path, const std::string& what);

// `s` as a gnuplot string literal: in single quotes, each ' doubled (no escapes are read there).
std::string gnuplot_string(const std::string& s);

// Whether `program` is an executable file in a folder of $PATH (no shell involved).
bool installed(const std::string& program);

// "exit status 1", "killed by signal 9 (Killed)": a waitpid status in words.
std::string describe_status(int wait_status);

// What a finished program did: its waitpid status and its stdout and stderr together.
struct ProgramRun {
  int status = 0;
  std::string output;
  bool succeeded() const;
  // The first line of the output, or "" when there was none.
  std::string first_line() const;
};

// Runs `argv` (argv[0] looked up in $PATH) in folder `cwd`, stdin from /dev/null, stdout and
// stderr captured: the arguments reach the program as they are, quotes and all.
// OutputError when it cannot be started.
ProgramRun run_program(const std::vector<std::string>& argv, const std::string& cwd);

// A private scratch folder DIR/.plot.XXXXXX for gnuplot: the data files and the script use
// fixed names inside it, so no path from the user ever appears in a gnuplot string. run()
// draws, checks each PNG is complete and moves it to DIR/<name>. The folder is removed on
// destruction.
class PlotJob {
 public:
  // `png`: the first PNG the job draws, the name its errors give.
  PlotJob(const std::string& dir, const std::string& png);
  ~PlotJob();
  PlotJob(const PlotJob&) = delete;
  PlotJob& operator=(const PlotJob&) = delete;

  // Writes `content` to the scratch file `name`, every write checked; OutputError naming the PNG.
  void add_file(const std::string& name, const std::string& content);
  // Runs gnuplot on `script`, which writes each of `pngs` (fixed names) in the scratch folder;
  // then each is checked (check_png) and renamed over DIR/<png>. OutputError naming the PNG,
  // with gnuplot's exit status and first message, on any failure; gnuplot's output never
  // reaches our stdout or stderr.
  void run(const std::string& script, const std::vector<std::string>& pngs);

 private:
  std::string dir_, png_, scratch_;
};

}  // namespace mnist_app
