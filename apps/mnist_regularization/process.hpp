// The process's side of the app: its exit codes, its one-line messages, its standard streams.
#pragma once

#include <string>

#include "cluster.hpp"

namespace mnist_app {

// Exit codes, one table for every path (main.cpp and docs/troubleshooting.md list them).
constexpr int exit_internal = 1, exit_usage = 2, exit_data = 3, exit_diverged = 4, exit_output = 5,
              exit_memory = 6;

// "mnist_regularization: MESSAGE" on stderr, written by one write: under mpirun the ranks'
// stderr meet in one stream, and a line written piece by piece can be cut by another rank's.
void say(const std::string& message);
// say(message), then `code`.
int fail(int code, const std::string& message);

// Opens /dev/null on each of fds 0, 1, 2 that is closed, so that no file the app opens later
// takes its number (and gets the table written into it). Returns whether stdout was closed.
bool reserve_standard_fds();
// Fresh pages cost ~12 µs each on this VM: keep freed memory instead of returning it.
void keep_freed_memory();
// One voice, rank 0's: on the other ranks std::cout discards what it is given and stays good
// (a failed stream would make check_stdout end that rank alone, leaving rank 0 waiting).
void quiet_unless_root(const Communicator& ranks);
// A failed write to stdout (a full device, a closed pipe) is an OutputError, not a lost table.
void check_stdout();
// Creates DIR and proves it is writable before hours of training, not after
// (std::invalid_argument naming `flag` and DIR if not).
void check_output_dir(const std::string& flag, const std::string& dir);
// "SIGINT", "SIGTERM" or "a signal".
std::string signal_name(int signal);

// Under mpirun, a step that failed on some ranks ends every rank with the code of the lowest
// failed rank, whose message that rank alone prints. Returns that code, or 0 to carry on.
int settle(Communicator& ranks, const Outcome& mine);

}  // namespace mnist_app
