#include "checkpointing.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "experiment.hpp"

namespace mnist_app {

using namespace xtgrad;

namespace {

volatile std::sig_atomic_t received_signal = 0;

void record_signal(int signal) { received_signal = signal; }

const char kTensorPenalties[] = "tensor_penalties";

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace

nn::History prepare_run(const RunControl& control, nn::Module& model, nn::Optimizer& optimizer, Rng& rng,
                        nn::FitOptions& options, std::ostream* log,
                        std::vector<std::vector<double>>& tensor_penalties) {
  options.should_stop = control.should_stop;
  if (control.checkpoint.empty()) return {};

  // The history of every epoch done, shared with the callback that saves it.
  auto done = std::make_shared<nn::History>();
  const std::size_t total = options.epochs;
  if (control.resume && std::filesystem::exists(control.checkpoint)) {
    nn::Checkpoint c;
    try {
      c = nn::load_checkpoint(control.checkpoint, model, optimizer);
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
    if (c.epoch > total) {
      throw ResumeError(fmt::format("--resume: {} holds {} epochs, more than --epochs {}", control.checkpoint,
                                    c.epoch, total));
    }
    rng = c.rng;
    *done = std::move(c.history);
    tensor_penalties = std::move(c.tables[kTensorPenalties]);
    options.first_epoch = c.epoch + 1;
    options.epochs = total - c.epoch;
    if (control.on_checkpoint) control.on_checkpoint(c.epoch);
    if (log) *log << fmt::format("\nresumed from {}: {} of {} epochs done\n", control.checkpoint, c.epoch, total);
  }

  options.on_epoch_end = [control, done, &model, &optimizer, &rng, &tensor_penalties,
                          report = std::move(options.on_epoch_end)](const nn::EpochStats& e) {
    if (report) report(e);
    done->push_back(e);
    nn::Checkpoint c;
    c.epoch = e.epoch;
    c.rng = rng;
    c.history = *done;
    c.run = control.identity;
    c.data = control.data;
    c.tables[kTensorPenalties] = tensor_penalties;
    try {
      nn::save_checkpoint(control.checkpoint, model, optimizer, c);
    } catch (const DataError& e) {  // a write, sync or rename failed: an output error, not bad data
      throw OutputError(std::string("--checkpoint: ") + e.what());
    }
    if (control.on_checkpoint) control.on_checkpoint(e.epoch);
  };
  return *done;
}

std::string checkpoint_file_name(std::size_t index, const std::string& reg) {
  std::string name = std::to_string(index + 1) + "-";
  bool gap = false;
  for (char c : reg) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    if (keep) {
      if (gap && name.back() != '-') name += '_';
      name += c;
    }
    gap = !keep;
  }
  return name + ".ckpt.npz";
}

Checkpointing::Checkpointing(std::string dir, bool resume, bool overwrite, const Config& config)
    : dir_(std::move(dir)), resume_(resume), overwrite_(overwrite), config_(config) {}

void Checkpointing::prepare(const std::vector<std::string>& regs) const {
  if (dir_.empty()) return;
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
  if (resume_ || overwrite_) return;
  for (std::size_t i = 0; i < regs.size(); ++i) {
    const fs::path existing = fs::path(dir_) / checkpoint_file_name(i, regs[i]);
    if (fs::exists(existing, ec)) {
      throw std::invalid_argument("--checkpoint " + dir_ + ": " + existing.string() +
                                  " already exists and this run would replace it: add --resume to continue "
                                  "from it or --overwrite to start afresh");
    }
  }
}

RunControl Checkpointing::control(std::size_t index, const std::string& reg, const std::string& data) {
  run_ = index;
  reg_ = reg;
  path_ = dir_.empty() ? std::string() : (std::filesystem::path(dir_) / checkpoint_file_name(index, reg)).string();
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
