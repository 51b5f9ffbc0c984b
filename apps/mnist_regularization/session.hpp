// One invocation's work once its flags are parsed and agreed: plan the runs, load the data,
// train every run (on one process, data-parallel over the ranks, or whole runs per rank with
// --sweep or --seeds), write the results, and turn what went wrong into an exit code and one line.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "checkpointing.hpp"
#include "cluster.hpp"
#include "command_line.hpp"
#include "experiment.hpp"
#include "limits.hpp"
#include "memory_check.hpp"
#include "methods.hpp"
#include "sweep.hpp"

namespace mnist_app {

struct Session {
  Session(Communicator& ranks, Invocation& invocation);
  Communicator& ranks;
  Config& config;
  bool parallel;  // several ranks
  bool spread;    // --sweep over several ranks: whole runs per rank
  std::vector<Methods> regs;
  std::vector<SweepPoint> sweep;
  // The seeds (--seeds, else --seed alone) and the MNIST files each seed's subset is drawn from.
  // Run k trains regs[k % regs.size()] under seeds[k / regs.size()]: seed-major, so the runs of
  // one seed are paired.
  std::vector<std::uint64_t> seeds;
  std::shared_ptr<const xtgrad::nn::Mnist> mnist;
  Checkpointing checkpoints;
  std::string phase;                 // what is being done, for the messages
  std::vector<std::string> written;  // the files of this invocation's results written so far
};

// The name of a run of `spec` under one of --seeds, for its checkpoint and messages:
// "l2(lambd=0.01) seed=3".
std::string run_label(const std::string& spec, std::uint64_t seed);

// Parses the runs' specs (or the sweep's) and checks them and --eval-fgsm, estimates the
// memory, and prepares the folders (rank 0's; with --sweep over ranks each rank's --checkpoint
// folder). Throws std::invalid_argument on every rank alike for a usage error.
MemoryNeed plan_runs(Session& s);
// Loads and prepares the data (each rank reads its own files and they must agree), prints the
// header line and draws --dump-graph. Returns 0, or the exit code once the message is said.
int load_data(Session& s, PreparedData& data);
// Trains every run, writing summary.json and history.csv as runs finish (rank 0). Returns 0,
// or the exit code once the message is said.
int train_runs(Session& s, const PreparedData& data, std::vector<RunResult>& runs);
// Rank 0: the table, sweep.csv and the plots, and the "wrote" line. A signal between two files
// ends it with StoppedWriting (the file in progress was finished).
struct StoppedWriting {};
void write_results(Session& s, const std::vector<RunResult>& runs);
// The exit code for `error`, thrown while running `s`, after saying its one line (and ending
// every rank where the others would wait).
int exit_code_of(Session& s, const MemoryPlan& memory, const std::exception_ptr& error);

}  // namespace mnist_app
