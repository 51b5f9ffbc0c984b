// exit_code_of (session.hpp): how a run that threw ends, one exception type per exit code.
#include <csignal>
#include <new>
#include <system_error>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "process.hpp"
#include "session.hpp"
#include "xtgrad/core/errors.hpp"

namespace mnist_app {

int exit_code_of(Session& s, const MemoryPlan& memory, const std::exception_ptr& error) {
  const int signal = stop_signal();
  try {
    std::rethrow_exception(error);
  } catch (const StoppedWriting&) {
    std::string list;
    for (const auto& f : s.written) list += (list.empty() ? "" : ", ") + f;
    return fail(128 + signal, fmt::format("stopped by {} after training; the files in progress were finished: "
                                          "{} in {} (the rest not written)",
                                          signal_name(signal), list, s.config.out));
  } catch (const OutputError& e) {
    if (signal != 0) {  // e.g. gnuplot stopped by the same Ctrl-C
      return fail(128 + signal,
                  fmt::format("stopped by {} while writing the results: {}", signal_name(signal), e.what()));
    }
    return fail(exit_output, e.what());
  } catch (const xtgrad::DataError& e) {
    // Maybe on this rank alone (a missing file): end every rank instead of leaving them waiting.
    return end_every_rank(s.ranks, fail(exit_data, e.what()));
  } catch (const xtgrad::DivergenceError& e) {
    // With --sweep over ranks only this rank diverged: the others would wait for its results.
    const int code = fail(exit_diverged, s.checkpoints.diverged(e.what()));
    return s.spread ? end_every_rank(s.ranks, code) : code;
  } catch (const xtgrad::Interrupted& e) {
    std::string message = s.checkpoints.interrupted(e, signal, s.config.out);
    // Open MPI's mpirun answers a SIGINT (Ctrl-C) and a SIGTERM alike: SIGTERM to every rank,
    // SIGKILL 1 s later, and exit status 1 for itself, whatever the ranks return.
    if (s.parallel && signal == SIGTERM) message += " (mpirun sends SIGTERM to every rank for a Ctrl-C too)";
    const int code = fail(128 + signal, message);
    return s.spread ? end_every_rank(s.ranks, code) : code;
  } catch (const ResumeError& e) {
    return fail(exit_usage, e.what());
  } catch (const std::bad_alloc&) {
    return fail(exit_memory, memory.out_of_memory(s.phase));
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::not_enough_memory || e.code() == std::errc::resource_unavailable_try_again) {
      return fail(exit_memory, fmt::format("out of memory while {}: {}", s.phase, e.what()));
    }
    return fail(exit_internal, fmt::format("internal error while {}: {}", s.phase, e.what()));
  } catch (const std::exception& e) {
    return end_every_rank(s.ranks, fail(exit_internal, fmt::format("internal error while {}: {}", s.phase, e.what())));
  }
}

}  // namespace mnist_app
