// λ paths: one run per λ for each swept kind, plus the unregularized reference, then a table,
// DIR/sweep.csv and DIR/path.png (test accuracy and exact-zero fraction against λ). With
// --seeds every point runs once per seed: the table and sweep.csv keep one row per run (with
// its seed), the plots draw each point's mean over the seeds with its 95% t-interval.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "experiment.hpp"

namespace mnist_app {

// One run of a sweep: the kind as given ("l1", "l1(mode=prox)", "l2"; "none" for the
// reference), its λ (0 for the reference) and the spec it runs.
struct SweepPoint {
  std::string kind;
  double lambda = 0;
  std::string spec;
};

// The reference run "none", then for each kind each λ in order. A kind is l1, l2 or group_lasso, optionally
// with keys other than lambd: "l1(mode=prox, start=5)" runs "l1(lambd=λ, mode=prox, start=5)".
// Throws std::invalid_argument naming --sweep or --lambdas for another kind or key, a bad value
// (read by the library's spec grammar), an empty list or a λ that is not a finite number > 0
// (the path has a log axis).
std::vector<SweepPoint> sweep_points(const std::vector<std::string>& kinds, const std::vector<double>& lambdas);

// Summary numbers of one run for the table: exact and near (|w| < 1e-3) zeros of all penalized
// weights, and the first layer's inputs whose every weight is exactly 0 (switched-off pixels).
struct SweepRow {
  std::string kind;
  double lambda = 0;
  std::uint64_t seed = 0;  // the run's seed (--seed, or one of --seeds)
  double test_accuracy = 0;
  double data_loss = 0;
  std::size_t weights = 0, exact_zeros = 0, near_zeros = 0;
  std::size_t inputs = 0, dead_inputs = 0;
  // The run's model without its dead units (--prune): hidden units and parameters before and
  // left, its test accuracy, µs per image at batch 256 (0s without --prune: sweep.csv is then
  // the same on every run and on any number of ranks).
  std::size_t hidden_units = 0, remaining_units = 0, parameters = 0, remaining_parameters = 0;
  double pruned_accuracy = 0, us_unpruned = 0, us_pruned = 0;
};
// Rows for runs[k] ↔ points[k mod P] (P points; the runs seed-major, as the app orders them).
std::vector<SweepRow> sweep_rows(const std::vector<SweepPoint>& points, const std::vector<RunResult>& runs);

// One point of the path over its seeds: means, and the 95% t-interval's half-width of the test
// accuracy (0 with one seed). What the plots draw.
struct SweepPointMean {
  std::string kind;
  double lambda = 0;
  std::size_t seeds = 0;
  double test_accuracy = 0, test_accuracy_half_width = 0;
  double exact_zero_percent = 0, near_zero_percent = 0;  // of the penalized weights
  std::size_t hidden_units = 0;                          // --prune: before (the same for every seed)
  double remaining_units = 0, pruned_accuracy = 0;
  double time_fraction = 1;  // pruned / unpruned µs per image at batch 256
};
// The rows grouped by (kind, λ) in the order first met.
std::vector<SweepPointMean> sweep_means(const std::vector<SweepRow>& rows);

// The sweep table, one line per run, with the accuracy change against the reference run of
// the same seed (and a seed column when there are several).
void print_sweep_table(std::ostream& out, const std::vector<SweepRow>& rows);
// DIR/sweep.csv with the same columns, written atomically.
void write_sweep_csv(const std::string& dir, const std::vector<SweepRow>& rows);
// DIR/path.png drawn by gnuplot and verified; a one-line note when gnuplot is missing, OutputError on failure.
std::string write_path_png(const std::string& dir, const std::vector<SweepRow>& rows);
// DIR/size_path.png: the pruned models' test accuracy against the hidden units left and against
// their inference time at batch 256 as a fraction of the unpruned model's, one line per kind; the same note or OutputError as write_path_png.
std::string write_size_path_png(const std::string& dir, const std::vector<SweepRow>& rows);

}  // namespace mnist_app
