// Plots through gnuplot (Debian's gnuplot-nox), run without a shell, each PNG verified complete
// before it replaces the old one: write_line_plot for a training script's curves, PlotJob for
// any gnuplot script; and running a helper program (gnuplot, Graphviz's dot) with its output
// captured. Needs gnuplot at run time only: `installed("gnuplot")` says whether it is there.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace xtgrad {
namespace io {

// Throws WriteError unless `path` is a complete PNG: the signature first and the IEND chunk
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
// WriteError when it cannot be started.
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

  // Writes `content` to the scratch file `name`, every write checked; WriteError naming the PNG.
  void add_file(const std::string& name, const std::string& content);
  // Runs gnuplot on `script`, which writes each of `pngs` (fixed names) in the scratch folder;
  // then each is checked (check_png) and renamed over DIR/<png>. WriteError naming the PNG,
  // with gnuplot's exit status and first message, on any failure (no PNG is replaced then);
  // gnuplot's output never reaches our stdout or stderr.
  void run(const std::string& script, const std::vector<std::string>& pngs);
  // The same for one PNG the script draws under the fixed name `drawn` and that becomes
  // DIR/<name> (a name chosen by the user never enters the script).
  void run_renamed(const std::string& script, const std::string& drawn, const std::string& name);

 private:
  void run_outputs(const std::string& script, const std::vector<std::pair<std::string, std::string>>& outputs);
  std::string dir_, png_, scratch_;
};

// One curve of a LinePlot: y against x (the same length, at least one point).
struct Series {
  std::string title;
  std::vector<double> x, y;
};

// A line plot with points, one line per series: a training script's loss or accuracy curves.
struct LinePlot {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  bool log_y = false;  // a log-scale y axis (every y must then be > 0)
  int width = 900, height = 560;  // pixels
};

// Draws `plot` into the PNG `path` (its folder must exist), written whole or not at all: on any
// failure the old file is kept. Returns false, writing nothing, when gnuplot is not installed.
// std::invalid_argument naming the series for an empty series, x and y of different lengths,
// a value that is not finite, or a y ≤ 0 under log_y; WriteError naming `path` when gnuplot
// fails or the PNG cannot be written. Titles and labels are shown as given (no gnuplot markup).
bool write_line_plot(const std::string& path, const LinePlot& plot);

}  // namespace io
}  // namespace xtgrad
