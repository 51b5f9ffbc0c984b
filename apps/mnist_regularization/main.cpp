// mnist_regularization: the blog's L1/L2 experiment on real MNIST, one run per --reg spec, and
// the regularization chapter's other methods (methods.hpp) with FGSM robustness (--eval-fgsm).
// Exit codes, one table for every path (docs/troubleshooting.md has it too):
//   0 success                      4 training diverged
//   1 internal error (a bug)        5 an output could not be written (files, plots, checkpoints, stdout)
//   2 bad flag, spec or --resume    6 out of memory (or the run would not fit in the memory allowed)
//   3 missing or corrupt data       130 / 143 stopped by SIGINT / SIGTERM
// Under `mpirun -np N` (a build with MPI) the ranks train each run data-parallel, or with
// --sweep each rank trains whole runs (every N-th); only rank 0 prints and writes files.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "blas_pool.hpp"
#include "checkpointing.hpp"
#include "cluster.hpp"
#include "command_line.hpp"
#include "memory_check.hpp"
#include "process.hpp"
#include "session.hpp"

namespace {

using namespace mnist_app;

// The flags as one line, compared across ranks.
std::string flags_line(int argc, char** argv) {
  std::string flags;
  for (int i = 1; i < argc; ++i) flags += std::string(i > 1 ? " " : "") + argv[i];
  return flags;
}

// The app; main() adds only how the process ends.
int run(int argc, char** argv) {
  const bool stdout_closed = reserve_standard_fds();
  keep_freed_memory();
  const std::unique_ptr<Communicator> ranks = join_ranks();
  quiet_unless_root(*ranks);
  // A rank that rejects its flags still takes part in the agreement below (a rank that returned
  // early would sit in MPI_Finalize while the others wait for it in a collective forever).
  CLI::App cli;
  Invocation invocation;
  if (const int code = settle(*ranks, parse_command_line(cli, argc, argv, stdout_closed, invocation))) return code;
  if (ranks->world_size() > 1) {
    try {
      check_agreement(*ranks, "the flags", flags_line(argc, argv));
    } catch (const std::invalid_argument& e) {
      return ranks->rank() == 0 ? fail(exit_usage, e.what()) : exit_usage;  // one voice
    }
  }
  if (invocation.help) return cli.exit(CLI::CallForHelp());

  Session session(*ranks, invocation);
  MemoryNeed need;
  try {
    need = plan_runs(session);
  } catch (const std::invalid_argument& e) {
    return fail(exit_usage, e.what());
  }
  // Refuse a run that cannot fit before loading anything (the default --threads gives way
  // first); then let OpenBLAS take its buffers.
  if (!invocation.threads_given) fit_default_threads_to_memory(session.config, need);
  const MemoryPlan memory(session.config, need);
  if (const int code = settle(*ranks, memory.refusal())) return code;  // the limits may differ by rank
  take_blas_buffers(session.config.threads);
  const xtgrad::nn::StopSignals stop_signals;  // Ctrl-C sets a flag; training stops at the next batch

  try {
    PreparedData data;
    if (const int code = load_data(session, data)) return code;
    std::vector<RunResult> runs;
    if (const int code = train_runs(session, data, runs)) return code;
    if (ranks->rank() == 0) write_results(session, runs);
  } catch (...) {
    return exit_code_of(session, memory, std::current_exception());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mnist_app::one_blas_thread_unless_chosen(argv);
  const int code = run(argc, argv);  // (MPI is finalised by then)
  if (code == mnist_app::exit_memory) {
    // OpenBLAS threads may still be retrying their buffers, and OpenBLAS joins its threads at
    // exit: leave without the exit-time teardown, so that the exit is prompt.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(code);
  }
  return code;
}
