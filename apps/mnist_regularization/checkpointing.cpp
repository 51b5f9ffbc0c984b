#include "checkpointing.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "experiment.hpp"
#include "xtgrad/nn/npz.hpp"

namespace mnist_app {

using namespace xtgrad;

namespace {

volatile std::sig_atomic_t received_signal = 0;

void record_signal(int signal) { received_signal = signal; }

const char kTensorPenalties[] = "tensor_penalties";

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

const char kWorldSize[] = "world_size";  // table/world_size: (1, 1), the ranks that trained the run

// What the writer found for --resume, as one text to send to the other ranks: "-" no
// checkpoint (a fresh start), "F" followed by the file's bytes, or "E" followed by the DataError
// message of a file it could not read.
std::string read_for_resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return "-";
  try {
    const std::vector<std::uint8_t> bytes = nn::read_npz_bytes(path);
    // (One message to the other ranks carries it: MPI counts are 32-bit.)
    if (bytes.size() >= (std::size_t{1} << 31) - 1) {
      return fmt::format("E{}: {} bytes, too large to send to the other ranks (at most 2 GiB)", path, bytes.size());
    }
    return "F" + std::string(bytes.begin(), bytes.end());
  } catch (const DataError& e) {
    return std::string("E") + e.what();
  }
}

// Loads the checkpoint `found` holds (read_for_resume's text, the same on every rank) and checks
// it against this run: ResumeError (every rank alike) if it was made for another run.
nn::Checkpoint load_for_resume(const RunControl& control, const std::string& found, nn::Module& model,
                               nn::Optimizer& optimizer, std::size_t total) {
  if (found.front() == 'E') throw DataError(found.substr(1));
  const std::vector<std::uint8_t> bytes(found.begin() + 1, found.end());
  nn::Checkpoint c;
  try {
    c = nn::load_checkpoint_bytes(bytes, control.checkpoint, model, optimizer);
  } catch (const std::invalid_argument& e) {  // parameters of other shapes: another --hidden
    throw ResumeError(fmt::format("--resume: {} does not fit this run's model ({}); it was made with other "
                                  "settings: remove it or resume with the same flags",
                                  control.checkpoint, e.what()));
  }
  if (c.run != control.identity) {
    throw ResumeError(fmt::format("--resume: {} was made with other settings ({}) than this run ({}); remove it "
                                  "or resume with the same flags",
                                  control.checkpoint, c.run, control.identity));
  }
  if (c.data != control.data) {
    throw ResumeError(fmt::format("--resume: {} was trained on other data ({}) than this run's --data, "
                                  "--train-size and --seed select ({}); resume with the same data or remove it",
                                  control.checkpoint, c.data.empty() ? "not recorded" : c.data, control.data));
  }
  // (Checkpoints from before ranks were recorded come from one process.)
  double ranks = 1;
  if (const auto it = c.tables.find(kWorldSize); it != c.tables.end()) {
    if (it->second.size() != 1 || it->second[0].size() != 1) {
      throw DataError(control.checkpoint + ": 'table/world_size' must hold one number");
    }
    ranks = it->second[0][0];
  }
  if (ranks != control.ranks) {
    // The global batches and their order do not depend on the rank count, but the sums over
    // the ranks round differently: another count would not continue this run bit for bit.
    throw ResumeError(fmt::format("--resume: {} was written by a run on {} rank{}, this run has {}; resume with "
                                  "the same number of ranks (mpirun -np {}) to continue it exactly",
                                  control.checkpoint, ranks, ranks == 1 ? "" : "s", control.ranks, ranks));
  }
  if (c.epoch > total) {
    throw ResumeError(fmt::format("--resume: {} holds {} epochs, more than --epochs {}", control.checkpoint,
                                  c.epoch, total));
  }
  return c;
}

constexpr const char kSuffix[] = ".ckpt.npz";

// `reg` with every run of characters other than [A-Za-z0-9.-] as one '_' (none leading).
std::string file_stem(const std::string& reg) {
  std::string stem;
  bool gap = false;
  for (char c : reg) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    if (keep) {
      if (gap && !stem.empty() && stem.back() != '-') stem += '_';
      stem += c;
    }
    gap = !keep;
  }
  return stem;
}

// "12-l2_lambd_0.01.ckpt.npz" → {11, "l2_lambd_0.01"} (a 0-based index); nothing for another
// name. (A name from checkpoint_file_name never starts with a digit: specs start with a letter.)
std::optional<std::pair<std::size_t, std::string>> positional_parts(const std::string& name) {
  const std::size_t dash = name.find('-'), suffix = std::strlen(kSuffix);
  if (dash == 0 || dash == std::string::npos || name.size() < dash + 1 + suffix ||
      name.compare(name.size() - suffix, suffix, kSuffix) != 0 ||
      name.find_first_not_of("0123456789") != dash || dash > 9) {
    return std::nullopt;
  }
  const std::size_t position = std::stoul(name.substr(0, dash));
  if (position == 0) return std::nullopt;
  return std::make_pair(position - 1, name.substr(dash + 1, name.size() - dash - 1 - suffix));
}

// The names of the checkpoint files (*.ckpt.npz) in `dir`, sorted.
std::vector<std::string> checkpoint_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::size_t suffix = std::strlen(kSuffix);
    std::error_code type_ec;
    if (name.size() > suffix && name.compare(name.size() - suffix, suffix, kSuffix) == 0 &&
        it->is_regular_file(type_ec)) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

nn::History prepare_run(const RunControl& control, nn::Module& model, nn::Optimizer& optimizer, Rng& rng,
                        nn::FitOptions& options, std::ostream* log,
                        std::vector<std::vector<double>>& tensor_penalties, nn::EarlyStopping* early) {
  options.should_stop = control.should_stop;
  if (control.checkpoint.empty()) return {};

  // The history of every epoch done, shared with the callback that saves it.
  auto done = std::make_shared<nn::History>();
  const std::size_t total = options.epochs;
  if (control.resume) {
    // Rank 0 reads the file (no shared file system is assumed) and every rank loads its bytes.
    std::string found = control.writer ? read_for_resume(control.checkpoint) : std::string();
    if (control.from_root) found = control.from_root(found);
    if (found != "-") {
      nn::Checkpoint c = load_for_resume(control, found, model, optimizer, total);
      if (early) {
        if (!c.early_stopping) {
          throw ResumeError(fmt::format("--resume: {} has no early-stopping state; it was made with other "
                                        "settings: remove it or resume with the same flags",
                                        control.checkpoint));
        }
        early->load_state(*c.early_stopping);
      }
      rng = c.rng;
      *done = std::move(c.history);
      tensor_penalties = std::move(c.tables[kTensorPenalties]);
      options.first_epoch = c.epoch + 1;
      // Early stopping had ended the run: nothing is left to train.
      options.epochs = early && early->stopped() ? 0 : total - c.epoch;
      if (control.on_checkpoint) control.on_checkpoint(c.epoch);
      if (log) {
        *log << fmt::format("\nresumed from {}: {} of {} epochs done{}\n", control.checkpoint, c.epoch, total,
                            early && early->stopped() ? " (early stopping had stopped it)" : "");
      }
    }
  }

  options.on_epoch_end = [control, done, &model, &optimizer, &rng, &tensor_penalties, early,
                          report = std::move(options.on_epoch_end)](const nn::EpochStats& e) {
    if (report) report(e);  // (which runs early stopping, so its state below includes this epoch)
    done->push_back(e);
    std::string error;
    if (control.writer) {
      nn::Checkpoint c;
      c.epoch = e.epoch;
      c.rng = rng;
      c.history = *done;
      c.run = control.identity;
      c.data = control.data;
      c.tables[kTensorPenalties] = tensor_penalties;
      c.tables[kWorldSize] = {{double(control.ranks)}};
      if (early) c.early_stopping = early->state();
      try {
        nn::save_checkpoint(control.checkpoint, model, optimizer, c);
      } catch (const DataError& e) {  // a write, sync or rename failed: an output error, not bad data
        error = e.what();
      }
    }
    // Every rank stops when rank 0 could not save, instead of waiting for it in the next epoch.
    const bool failed = control.any ? control.any(!error.empty()) : !error.empty();
    if (failed) {
      throw OutputError("--checkpoint: " + (error.empty() ? "rank 0 could not write the checkpoint" : error));
    }
    if (control.on_checkpoint) control.on_checkpoint(e.epoch);
  };
  return *done;
}

std::string checkpoint_file_name(const std::string& reg, std::size_t occurrence) {
  return file_stem(reg) + (occurrence > 1 ? "#" + std::to_string(occurrence) : "") + kSuffix;
}

Checkpointing::Checkpointing(std::string dir, bool resume, bool overwrite, const Config& config)
    : dir_(std::move(dir)), resume_(resume), overwrite_(overwrite), config_(config) {}

void Checkpointing::set_runs(const std::vector<std::string>& regs) {
  regs_ = regs;
  names_.clear();
  std::map<std::string, std::size_t> seen;
  for (const auto& reg : regs) names_.push_back(checkpoint_file_name(reg, ++seen[reg]));
}

std::string Checkpointing::prepare() const {
  if (dir_.empty()) return "";
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::invalid_argument("--checkpoint " + dir_ + ": cannot create the folder (" + ec.message() + ")");
  const std::string probe = (fs::path(dir_) / ".write_test").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::invalid_argument("--checkpoint " + dir_ + ": the folder is not writable (" + os_reason(errno) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  if (!resume_ && !overwrite_) refuse_existing();
  std::vector<std::string> parts;
  if (resume_) {
    const std::vector<std::string> renamed = adopt_positional_checkpoints();
    if (!renamed.empty()) {
      parts.push_back(fmt::format("renamed the checkpoints older versions named by the run's place in the list to "
                                  "its spec: {}",
                                  join(renamed)));
    }
  }
  const std::set<std::string> claimed(names_.begin(), names_.end());
  std::vector<std::string> unclaimed;
  for (const auto& name : checkpoint_files(dir_)) {
    if (claimed.count(name) == 0) unclaimed.push_back(name);
  }
  if (!unclaimed.empty()) {
    parts.push_back(fmt::format("no run of this invocation claims {} (left as {})", join(unclaimed),
                                unclaimed.size() == 1 ? "it is" : "they are"));
  }
  return parts.empty() ? "" : "--checkpoint " + dir_ + ": " + join(parts, "; ");
}

void Checkpointing::refuse_existing() const {
  namespace fs = std::filesystem;
  const std::string advice = ": add --resume to continue from it or --overwrite to start afresh";
  std::error_code ec;
  for (const auto& name : names_) {
    const fs::path existing = fs::path(dir_) / name;
    if (fs::exists(existing, ec)) {
      throw std::invalid_argument("--checkpoint " + dir_ + ": " + existing.string() +
                                  " already exists and this run would replace it" + advice);
    }
  }
  std::set<std::string> stems;
  for (const auto& reg : regs_) stems.insert(file_stem(reg));
  for (const auto& name : checkpoint_files(dir_)) {
    const auto old = positional_parts(name);
    if (old && stems.count(old->second) != 0) {
      throw std::invalid_argument("--checkpoint " + dir_ + ": " + (fs::path(dir_) / name).string() +
                                  ", a checkpoint of one of these runs named by its place in the list (as older "
                                  "versions named them), is already there" + advice + " (--resume renames it)");
    }
  }
}

std::vector<std::string> Checkpointing::adopt_positional_checkpoints() const {
  namespace fs = std::filesystem;
  // The positional checkpoints of each spec, by position: the k-th is the k-th run of that spec.
  std::map<std::string, std::vector<std::pair<std::size_t, std::string>>> by_stem;
  for (const auto& name : checkpoint_files(dir_)) {
    if (const auto old = positional_parts(name)) by_stem[old->second].emplace_back(old->first, name);
  }
  for (auto& entry : by_stem) std::sort(entry.second.begin(), entry.second.end());
  std::vector<std::string> renamed;
  std::map<std::string, std::size_t> taken;
  for (std::size_t i = 0; i < regs_.size(); ++i) {
    const auto found = by_stem.find(file_stem(regs_[i]));
    if (found == by_stem.end()) continue;
    const std::size_t k = taken[found->first]++;
    const fs::path target = fs::path(dir_) / names_[i];
    std::error_code ec;
    if (k >= found->second.size() || fs::exists(target, ec)) continue;  // (then reported as unclaimed)
    const fs::path source = fs::path(dir_) / found->second[k].second;
    fs::rename(source, target, ec);
    // (With --sweep over ranks sharing the folder, another rank may have renamed it already.)
    if (ec && !fs::exists(target)) {
      throw std::invalid_argument(fmt::format("--checkpoint {}: cannot rename {} to {} ({})", dir_, source.string(),
                                              names_[i], ec.message()));
    }
    renamed.push_back(found->second[k].second + " -> " + names_[i]);
  }
  return renamed;
}

RunControl Checkpointing::control(std::size_t index, const std::string& reg, const std::string& data) {
  run_ = index;
  reg_ = reg;
  path_ = dir_.empty() ? std::string() : (std::filesystem::path(dir_) / names_.at(index)).string();
  saved_epoch_ = 0;
  RunControl c;
  c.checkpoint = path_;
  c.resume = resume_;
  // Everything that changes the numbers except --epochs (a run may be extended) and --threads.
  c.identity = fmt::format("reg={} gradient={} train_size={} batch_size={} hidden={} lr={} seed={}", reg,
                           config_.blog_gradient ? "blog" : "true", config_.train_size, config_.batch_size,
                           config_.hidden, config_.lr, config_.seed);
  if (config_.model != "mlp") c.identity += " model=" + config_.model;  // (mlp: as before, old checkpoints resume)
  if (config_.momentum != 0) c.identity += fmt::format(" momentum={}", config_.momentum);  // (likewise)
  c.data = data;
  c.should_stop = [] { return stop_signal() != 0; };
  c.on_checkpoint = [this](std::size_t epoch) { saved_epoch_ = epoch; };
  return c;
}

std::string Checkpointing::where_checkpoint() const {
  if (dir_.empty()) return "no checkpoint (--checkpoint DIR keeps one)";
  if (saved_epoch_ == 0) return "no checkpoint of this run yet";
  return fmt::format("last checkpoint {} (epoch {}); --resume continues from it", path_, saved_epoch_);
}

std::string Checkpointing::interrupted(const Interrupted& e, int signal, const std::string& out) const {
  const std::string results = run_ == 0 ? fmt::format("no run finished, {} is unchanged", out)
                                        : fmt::format("results of the {} finished run{} in {}", run_,
                                                      run_ == 1 ? "" : "s", out);
  return fmt::format("interrupted by {} in epoch {} of run {} ({}); {}; {}", signal_name(signal), e.epoch,
                     run_ + 1, reg_, results, where_checkpoint());
}

std::string Checkpointing::diverged(const std::string& what) const {
  return dir_.empty() ? what : what + "; " + where_checkpoint();
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress carry on; fit polls the flag
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return received_signal; }

}  // namespace mnist_app
