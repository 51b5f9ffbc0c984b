// What a run leaves behind: summary.json, history.csv, loss.png, weights.png, and the table.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "experiment.hpp"

namespace mnist_app {

// DIR/summary.json: {"config": {...every flag...}, "runs": [...]}, written atomically; with
// --seeds also "by_method": per spec, the mean, 95% t-interval and paired difference from
// "none" of test_accuracy, ece, test_nll and hessian_top_eigenvalue (print_seeds_table's numbers),
// and of the FGSM test accuracy at each --eval-fgsm eps (fgsm_test_accuracy).
void write_summary(const std::string& dir, const Config& config, const std::vector<RunResult>& runs);
// DIR/history.csv: one row per run and epoch, written atomically.
void write_history(const std::string& dir, const std::vector<RunResult>& runs);
// DIR/loss.png and DIR/weights.png drawn by gnuplot, each verified complete before it replaces
// the old one; returns a one-line note when gnuplot is not installed, OutputError on failure.
std::string write_plots(const std::string& dir, const std::vector<RunResult>& runs);
// DIR/fgsm.png: test accuracy against the FGSM epsilon (0 = clean), one line per run; the same
// note or OutputError as write_plots.
std::string write_fgsm_png(const std::string& dir, const std::vector<double>& eps, const std::vector<RunResult>& runs);
// DIR/reliability.png: each run's calibration bins (accuracy against mean confidence) beside
// the diagonal; with --seeds, the first seed's runs. The same note or OutputError as write_plots.
std::string write_reliability_png(const std::string& dir, const std::vector<RunResult>& runs);
// The final table of runs, one line each (runs without an epoch show dashes); with --eval-fgsm
// (`eps` not empty) also the train−test accuracy gap and the FGSM test accuracy at each eps.
// Also each run's ECE, test NLL, top Hessian eigenvalue and dead hidden units; `seeds`: a seed column.
void print_table(std::ostream& out, const std::vector<RunResult>& runs, const std::vector<double>& eps = {},
                 bool seeds = false);
// --seeds: one line per spec over the seeds done (runs seed-major, config.regs.size() per seed):
// mean ± the 95% t-interval's half-width of the test accuracy, ECE, test NLL and top Hessian
// eigenvalue, the test accuracy's paired difference from "none" with its interval, a * where a
// paired interval excludes 0, and the mean dead hidden units. Nothing with fewer than 2 seeds.
void print_seeds_table(std::ostream& out, const Config& config, const std::vector<RunResult>& runs);

}  // namespace mnist_app
