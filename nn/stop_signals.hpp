// Ctrl-C (SIGINT) and SIGTERM as a request to stop training, not an end of the process: while a
// StopSignals lives, either signal is recorded instead of killing the program, so nn::fit
// (FitOptions::should_stop = nn::StopSignals::requested) stops at the next batch, keeps its last
// checkpoint and throws Interrupted, and the program writes what it has before it exits.
#pragma once

namespace xtgrad {
namespace nn {

class StopSignals {
 public:
  // Installs the handlers (SA_RESTART: reads and writes in progress carry on) and clears the
  // record. At most one may live at a time: a second throws std::logic_error.
  StopSignals();
  // Restores the actions SIGINT and SIGTERM had before.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received while one lived (SIGINT or SIGTERM; the first if both came), or 0.
  // Safe to call from any thread, and after the StopSignals has gone.
  static int received();
  static bool requested() { return received() != 0; }
};

}  // namespace nn
}  // namespace xtgrad
