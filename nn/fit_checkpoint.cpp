// fit's checkpoint protocol (nn/fit_checkpoint.hpp): resume_run and save_run, for one process
// or for the processes of a GradientReducer, of which only shard 0 touches the file.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/io/atomic_file.hpp"
#include "xtgrad/io/npz.hpp"
#include "xtgrad/nn/checkpoint.hpp"
#include "xtgrad/nn/training_errors.hpp"

namespace xtgrad {
namespace nn {
namespace {

// table/world_size: (1, 1), the number of processes that trained the run. (The name the
// mnist_regularization app gave it, so that its checkpoints resume.)
const char kWorldSize[] = "world_size";

// What shard 0 found at `path`, as bytes to send to every process: "-" no file, "F" followed by
// the file's bytes, or "E" followed by the message of the DataError reading it threw.
std::vector<std::uint8_t> read_for_resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return {'-'};
  try {
    std::vector<std::uint8_t> found = read_npz_bytes(path);
    found.insert(found.begin(), 'F');
    return found;
  } catch (const DataError& e) {
    const std::string message = std::string("E") + e.what();
    return std::vector<std::uint8_t>(message.begin(), message.end());
  }
}

std::size_t process_count(GradientReducer* group) { return group ? group->shard_count() : 1; }

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

// The checks of a loaded checkpoint `c` against this run (CheckpointMismatch on the first
// difference, naming the file).
template <class T>
void check_same_run(const BasicCheckpoint<T>& c, const BasicFitCheckpoint<T>& settings, const std::string& data,
                    std::size_t epochs, std::size_t processes) {
  const std::string& path = settings.path;
  if (c.run != settings.identity) {
    throw CheckpointMismatch(path + " was made with other settings (" + c.run + ") than this run (" +
                             settings.identity + "); remove it or resume with the same settings");
  }
  if (c.data != data) {
    throw CheckpointMismatch(path + " was trained on other data (" + (c.data.empty() ? "not recorded" : c.data) +
                             ") than this run's (" + data + "); resume with the same data or remove it");
  }
  // (Checkpoints without the table come from one process.)
  double ranks = 1;
  if (const auto it = c.tables.find(kWorldSize); it != c.tables.end()) {
    if (it->second.size() != 1 || it->second[0].size() != 1) {
      throw DataError(path + ": 'table/" + kWorldSize + "' must hold one number");
    }
    ranks = it->second[0][0];
  }
  if (ranks != double(processes)) {
    // The global batches and their order do not depend on the process count, but the sums over
    // the processes round differently: another count would not continue this run bit for bit.
    throw CheckpointMismatch(path + " was written by a run on " + number(ranks) + " rank" + (ranks == 1 ? "" : "s") +
                             ", this run has " + std::to_string(processes) +
                             "; resume with the same number of ranks (mpirun -np " + number(ranks) +
                             ") to continue it exactly");
  }
  if (c.epoch > epochs) {
    throw CheckpointMismatch(path + " holds " + std::to_string(c.epoch) + " epochs, more than the " +
                             std::to_string(epochs) + " of this run");
  }
}

}  // namespace

template <class T>
std::optional<BasicCheckpoint<T>> resume_run(const NonDeduced<BasicFitCheckpoint<T>>& settings,
                                             const std::string& data, std::size_t epochs, BasicModule<T>& model,
                                             BasicOptimizer<T>& optimizer, GradientReducer* group) {
  if (!settings.resume || settings.path.empty()) return std::nullopt;
  // Shard 0 reads the file (no shared file system is assumed) and every process loads its bytes.
  std::vector<std::uint8_t> found;
  if (!group || group->shard_index() == 0) found = read_for_resume(settings.path);
  if (group) group->broadcast_bytes(found);
  if (found.empty() || found[0] == '-') return std::nullopt;
  if (found[0] == 'E') throw DataError(std::string(found.begin() + 1, found.end()));
  found.erase(found.begin());
  BasicCheckpoint<T> c;
  try {
    c = load_checkpoint_bytes(found, settings.path, model, optimizer);
  } catch (const std::invalid_argument& e) {  // parameters of other names or shapes
    throw CheckpointMismatch(settings.path + " does not fit this run's model (" + e.what() +
                             "); it was made with other settings: remove it or resume with the same settings");
  }
  check_same_run(c, settings, data, epochs, process_count(group));
  return c;
}

template <class T>
void save_run(const NonDeduced<BasicFitCheckpoint<T>>& settings, BasicCheckpoint<T> meta, const std::string& data,
              const BasicModule<T>& model, const BasicOptimizer<T>& optimizer, GradientReducer* group) {
  std::string error;
  if (!group || group->shard_index() == 0) {
    meta.run = settings.identity;
    meta.data = data;
    meta.tables[kWorldSize] = {{double(process_count(group))}};
    try {
      save_checkpoint(settings.path, model, optimizer, meta);
    } catch (const DataError& e) {  // a write, sync or rename failed
      error = e.what();
    }
  }
  // Every process stops when shard 0 could not save, instead of waiting for it in the next epoch.
  const bool failed = group ? group->sum(error.empty() ? 0.0 : 1.0) > 0 : !error.empty();
  if (failed) throw io::WriteError(error.empty() ? settings.path + ": rank 0 could not write the checkpoint" : error);
}

template std::optional<BasicCheckpoint<float>> resume_run(const BasicFitCheckpoint<float>&, const std::string&,
                                                          std::size_t, BasicModule<float>&, BasicOptimizer<float>&,
                                                          GradientReducer*);
template std::optional<BasicCheckpoint<double>> resume_run(const BasicFitCheckpoint<double>&, const std::string&,
                                                           std::size_t, BasicModule<double>&, BasicOptimizer<double>&,
                                                           GradientReducer*);
template void save_run(const BasicFitCheckpoint<float>&, BasicCheckpoint<float>, const std::string&,
                       const BasicModule<float>&, const BasicOptimizer<float>&, GradientReducer*);
template void save_run(const BasicFitCheckpoint<double>&, BasicCheckpoint<double>, const std::string&,
                       const BasicModule<double>&, const BasicOptimizer<double>&, GradientReducer*);

}  // namespace nn
}  // namespace xtgrad
