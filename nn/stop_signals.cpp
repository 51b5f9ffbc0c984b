#include "xtgrad/nn/stop_signals.hpp"

#include <signal.h>

#include <atomic>
#include <csignal>
#include <stdexcept>

namespace xtgrad {
namespace nn {
namespace {

// Lock-free atomics are async-signal-safe; the handler keeps the first signal.
std::atomic<int> received_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<bool> installed{false};
struct sigaction previous_int {}, previous_term {};

void record(int signal) {
  int none = 0;
  received_signal.compare_exchange_strong(none, signal);
}

}  // namespace

StopSignals::StopSignals() {
  if (installed.exchange(true)) throw std::logic_error("nn::StopSignals: one is already installed");
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = record;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
  installed = false;
}

int StopSignals::received() { return received_signal.load(); }

}  // namespace nn
}  // namespace xtgrad
