// --checkpoint DIR / --resume and SIGINT/SIGTERM: each run saves DIR/<its spec>.ckpt.npz at
// every epoch end (atomically), a resumed run continues from it exactly, and a signal stops
// training at the next batch with the last checkpoint and the finished results kept. A run's
// checkpoint is named by what the run is (its canonical spec), not by its place in the --reg
// list, so reordering or editing the list still finds it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/nn/checkpoint.hpp"
#include "xtgrad/nn/stop_signals.hpp"
#include "xtgrad/nn/early_stopping.hpp"
#include "xtgrad/nn/train.hpp"
#include "xtgrad/nn/training_errors.hpp"

namespace mnist_app {

struct Config;

// --resume found a checkpoint made with other settings, or with more epochs than --epochs.
struct ResumeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How one run is checkpointed, resumed and stopped; by default none of it. The checkpoints
// themselves are nn::fit's (FitOptions::checkpoint): this adds what the app keeps with them.
struct RunControl {
  // The run's checkpoint file (empty: none), --resume, its settings and its data's identity.
  xtgrad::nn::FitCheckpoint checkpoint;
  std::function<bool()> should_stop;  // polled by fit; true ends training with xtgrad::Interrupted
  // Data-parallel training (cluster.hpp): the reducer fit uses for the model's parameters; empty:
  // none. With one, only rank 0 reads and writes the checkpoint (nn/fit_checkpoint.hpp).
  std::function<std::unique_ptr<xtgrad::nn::GradientReducer>(const xtgrad::NamedParameters&)> make_reducer;
};

// Sets `options` up under `control` (should_stop, checkpoint) with the app's own state saved in
// every checkpoint and restored by --resume: `tensor_penalties` (RunResult's, one row per epoch)
// and `early` (may be null: a run early stopping had stopped resumes with no epoch left; a
// checkpoint without its state is a ResumeError). `resumed(epoch)` is called when a run resumes
// after `epoch`, and `log` (may be null) gets one line then.
void control_run(const RunControl& control, xtgrad::nn::FitOptions& options,
                 std::vector<std::vector<double>>& tensor_penalties, xtgrad::nn::EarlyStopping* early,
                 std::ostream* log, std::function<void(std::size_t epoch)> resumed);

// nn::fit under control_run: a checkpoint of another run is a ResumeError ("--resume: ..."),
// a failed save an OutputError ("--checkpoint: ...").
xtgrad::nn::History fit_run(xtgrad::nn::Module& model, xtgrad::nn::Optimizer& optimizer,
                            const xtgrad::nn::Dataset& train, const xtgrad::nn::Dataset* test, xtgrad::Rng& rng,
                            const xtgrad::nn::FitOptions& options);

// "<reg with every run of characters other than [A-Za-z0-9.-] as one '_'>.ckpt.npz", the file of
// the run with the canonical spec `reg`: "l2(lambd=0.01)" → "l2_lambd_0.01.ckpt.npz". A spec
// given more than once gets one file per `occurrence` (from 1): the second "none" is
// "none#2.ckpt.npz".
std::string checkpoint_file_name(const std::string& reg, std::size_t occurrence = 1);
// (Older versions named it by its place in the --reg list: "<index + 1>-" and the above,
// e.g. "3-dropout_p_0.5.ckpt.npz"; Checkpointing::prepare recognises those.)

// The invocation's side, for main: the folder, each run's control and the one-line messages.
class Checkpointing {
 public:
  // `dir` empty: no checkpoints (--resume then needs none either). `overwrite`: start afresh
  // even where checkpoints exist.
  Checkpointing(std::string dir, bool resume, bool overwrite, const Config& config);
  // The runs of this invocation: their canonical specs, in order (every rank, before control()).
  void set_runs(const std::vector<std::string>& regs);
  // Creates the folder and proves it writable; refuses, unless --resume or --overwrite, when
  // a checkpoint of one of the runs is already there (under its name, or the positional name of
  // an older version), since the first epoch would replace it. With --resume, renames such
  // older checkpoints to their run's name. std::invalid_argument naming --checkpoint if not.
  // Returns one line for the user (empty: nothing to say) naming what was renamed and the
  // checkpoints in the folder that no run of this invocation claims (they are left alone).
  std::string prepare() const;
  // The control of run `index` (0-based) with the canonical spec `reg`, trained on data whose
  // nn::dataset_fingerprint is `data`. (train_runs adds the ranks' part, RunControl::make_reducer.)
  RunControl control(std::size_t index, const std::string& reg, const std::string& data);
  // "interrupted by SIGINT in epoch 3 of run 2 (...); ...": where the results and the last checkpoint are.
  std::string interrupted(const xtgrad::Interrupted& e, int signal, const std::string& out) const;
  // The divergence message followed by where the last good checkpoint is.
  std::string diverged(const std::string& what) const;

 private:
  std::string where_checkpoint() const;

  // Throws std::invalid_argument naming the first checkpoint of these runs already in the folder.
  void refuse_existing() const;
  // Renames the positional checkpoints of this invocation's runs to their names (--resume);
  // returns "OLD -> NEW" for each.
  std::vector<std::string> adopt_positional_checkpoints() const;

  std::string dir_;
  bool resume_, overwrite_;
  std::vector<std::string> regs_;   // the runs' canonical specs, in order
  std::vector<std::string> names_;  // their checkpoint file names
  const Config& config_;
  std::size_t run_ = 0;       // the run in progress (0-based)
  std::string reg_;           // its spec
  std::string path_;          // its checkpoint file
  std::size_t saved_epoch_ = 0;  // the epoch of its checkpoint on disk from this invocation (0: none)
};

// The signal received while main()'s nn::StopSignals lives (SIGINT or SIGTERM), or 0.
inline int stop_signal() { return xtgrad::nn::StopSignals::received(); }

}  // namespace mnist_app
