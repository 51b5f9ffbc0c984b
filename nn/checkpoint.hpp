// Training checkpoints: model parameters, optimizer state, the shuffle Rng and the history in
// one .npz, so a run resumed from epoch k's checkpoint continues exactly as if never stopped.
//
//   Arrays (numpy reads them; np.load(f)["param/fc1.weight"]):
//     param/<parameter>    the parameter's value (dtype of T: <f4 or <f8)
//     optim/<entry>        Optimizer::state(): "optim/fc1.weight.momentum", ...
//     meta/epoch           int64 0-d: epochs completed
//     meta/rng             uint8: the Rng's text state (operator<<)
//     meta/history         float64 (epochs, 7): one row per EpochStats, columns as meta/history_columns
//     meta/history_columns uint8: "epoch,data_loss,penalty,loss,test_accuracy,seconds,eval_seconds"
//     meta/run             uint8: the caller's description of the run's settings (may be empty)
//     meta/data            uint8: dataset_fingerprint() of the training data (may be empty)
//     meta/layout          uint8: "linear_out_in" (nn::Linear weights (out, in)); a file without it
//                          comes from xtgrad 0.1 (weights (in, out)) and is transposed on load
//     table/<name>         float64 (rows, columns): the caller's extra tables
//   With Checkpoint::early_stopping set (EarlyStopping::state()), also:
//     early/best_epoch, early/bad_epochs, early/stopped  int64 0-d
//     early/best_accuracy  float64 0-d
//     early/best/<parameter>  the best epoch's value of each parameter and buffer (none before any epoch)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/early_stopping.hpp"
#include "xtgrad/nn/fit_checkpoint.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/train.hpp"

namespace xtgrad {
namespace nn {

// What a checkpoint holds besides the model and the optimizer (of scalar type T).
template <class T>
struct BasicCheckpoint {
  std::size_t epoch = 0;  // epochs completed; resume with FitOptions::first_epoch = epoch + 1
  Rng rng;                // the shuffle stream as it was after that epoch
  History history;        // the completed epochs' records
  std::string run;        // free text identifying the run's settings, for the caller to compare
  std::string data;       // dataset_fingerprint of the training data, for the caller to compare
  // Extra per-epoch numbers of the caller, by name; the rows of a table have equal lengths.
  std::map<std::string, std::vector<std::vector<double>>> tables;
  // The run's EarlyStopping::state(), if it uses one (load it with EarlyStopping::load_state).
  std::optional<BasicEarlyStoppingState<T>> early_stopping;
};
using Checkpoint = BasicCheckpoint<float>;

// The identity of a training set: its shapes and a CRC-32 of its inputs' and targets' bytes,
// e.g. "inputs (20000, 784), targets (20000, 10), crc32 1a2b3c4d". Equal data, equal text; data
// that differs in any sample (or in their order) differs here with near certainty.
template <class T>
std::string dataset_fingerprint(const BasicDataset<T>& data);

// Writes model, optimizer and `meta` to `path` as one .npz: a temporary file, fsynced, renamed
// over `path`, and the folder fsynced; a failure leaves the previous file intact (io::WriteError, a DataError).
template <class T>
void save_checkpoint(const std::string& path, const BasicModule<T>& model, const BasicOptimizer<T>& optimizer,
                     const NonDeduced<BasicCheckpoint<T>>& meta);

// Restores the parameters and the optimizer state from `path` and returns the rest. The file
// must hold exactly the model's parameters with their shapes and a state the optimizer accepts;
// otherwise std::invalid_argument names the file and the entry, and nothing is changed.
// An unreadable or malformed file throws DataError naming it.
template <class T>
BasicCheckpoint<T> load_checkpoint(const std::string& path, BasicModule<T>& model, BasicOptimizer<T>& optimizer);

// The same from the bytes of a checkpoint file (read_npz_bytes), `path` naming it in the
// messages: one process reads the file and sends the bytes, every process loads them.
template <class T>
BasicCheckpoint<T> load_checkpoint_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path,
                                         BasicModule<T>& model, BasicOptimizer<T>& optimizer);

// The two steps of FitOptions::checkpoint (nn/fit_checkpoint.hpp), which fit takes itself; a
// hand-written loop may call them too. `group`: the processes training the run together
// (fit's reducer), or null for one process; `data` is the training data's identity.
//
// Resume: with settings.resume and a file at settings.path (read by shard 0, its bytes sent to
// every process), loads the model and the optimizer state from it and returns the rest, after
// checking it against this run (CheckpointMismatch naming the file and what differs: identity,
// data, process count, more than `epochs` epochs, or a model it does not fit; the model and the
// optimizer may then hold some of its values); nothing when there is no file or no resume.
template <class T>
std::optional<BasicCheckpoint<T>> resume_run(const NonDeduced<BasicFitCheckpoint<T>>& settings,
                                             const std::string& data, std::size_t epochs, BasicModule<T>& model,
                                             BasicOptimizer<T>& optimizer, GradientReducer* group);

// Save: shard 0 writes `meta` (its identity, data and process count set here) with the model
// and the optimizer state to settings.path, atomically; then every process learns whether that
// failed, and each throws io::WriteError naming the file if it did. Collective with a group.
template <class T>
void save_run(const NonDeduced<BasicFitCheckpoint<T>>& settings, BasicCheckpoint<T> meta, const std::string& data,
              const BasicModule<T>& model, const BasicOptimizer<T>& optimizer, GradientReducer* group);

}  // namespace nn
}  // namespace xtgrad
