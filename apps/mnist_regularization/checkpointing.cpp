#include "checkpointing.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
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
#include "process.hpp"
#include "xtgrad/io/npz.hpp"

namespace mnist_app {

using namespace xtgrad;

namespace {

const char kTensorPenalties[] = "tensor_penalties";

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

void control_run(const RunControl& control, nn::FitOptions& options, std::vector<std::vector<double>>& tensor_penalties,
                 nn::EarlyStopping* early, std::ostream* log, std::function<void(std::size_t)> resumed) {
  options.should_stop = control.should_stop;
  options.checkpoint = control.checkpoint;
  if (control.checkpoint.path.empty()) return;
  options.checkpoint.save_extra = [&tensor_penalties, early](nn::Checkpoint& c) {
    c.tables[kTensorPenalties] = tensor_penalties;
    if (early) c.early_stopping = early->state();  // (early stopping ran in the epoch's callback)
  };
  const std::string path = control.checkpoint.path;
  const std::size_t total = options.epochs;
  options.checkpoint.load_extra = [=, &tensor_penalties](const nn::Checkpoint& c) {
    if (early) {
      if (!c.early_stopping) {
        throw CheckpointMismatch(path + " has no early-stopping state; it was made with other settings: remove it "
                                        "or resume with the same flags");
      }
      early->load_state(*c.early_stopping);
    }
    const auto rows = c.tables.find(kTensorPenalties);
    tensor_penalties = rows == c.tables.end() ? std::vector<std::vector<double>>{} : rows->second;
    if (resumed) resumed(c.epoch);
    if (log) {
      *log << fmt::format("\nresumed from {}: {} of {} epochs done{}\n", path, c.epoch, total,
                          early && early->stopped() ? " (early stopping had stopped it)" : "");
    }
    return early && early->stopped();  // early stopping had ended the run: nothing is left to train
  };
}

nn::History fit_run(nn::Module& model, nn::Optimizer& optimizer, const nn::Dataset& train, const nn::Dataset* test,
                    Rng& rng, const nn::FitOptions& options) {
  try {
    return nn::fit(model, optimizer, train, test, rng, options);
  } catch (const CheckpointMismatch& e) {
    throw ResumeError(std::string("--resume: ") + e.what());
  } catch (const OutputError& e) {  // (fit writes nothing but its checkpoints)
    throw OutputError("--checkpoint: " + std::string(e.what()));
  }
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
  check_output_dir("--checkpoint", dir_);
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
  c.checkpoint.path = path_;
  c.checkpoint.resume = resume_;
  // Everything that changes the numbers except --epochs (a run may be extended) and --threads.
  c.checkpoint.identity = fmt::format("reg={} gradient={} train_size={} batch_size={} hidden={} lr={} seed={}", reg,
                           config_.blog_gradient ? "blog" : "true", config_.train_size, config_.batch_size,
                           config_.hidden, config_.lr, config_.seed);
  if (config_.model != "mlp") c.checkpoint.identity += " model=" + config_.model;  // (mlp: as before, old checkpoints resume)
  if (config_.momentum != 0) c.checkpoint.identity += fmt::format(" momentum={}", config_.momentum);  // (likewise)
  if (config_.optimizer != "sgd") c.checkpoint.identity += " optimizer=" + config_.optimizer;  // (likewise)
  c.checkpoint.data = data;
  c.checkpoint.on_checkpoint = [this](std::size_t epoch) { saved_epoch_ = epoch; };
  c.should_stop = [] { return stop_signal() != 0; };
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

}  // namespace mnist_app
