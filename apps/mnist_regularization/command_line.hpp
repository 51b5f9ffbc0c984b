// The app's flags: their definitions, help texts and checks, parsed into a Config.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cluster.hpp"
#include "experiment.hpp"

namespace mnist_app {

// What the command line asks for.
struct Invocation {
  Config config;
  std::string checkpoint_dir;      // --checkpoint DIR (empty: none)
  bool resume = false;             // --resume
  bool overwrite = false;          // --overwrite
  bool help = false;               // --help: printed (by cli.exit) once the ranks agree on the flags
  bool threads_given = false;      // --threads on the command line (else the default, which a memory limit may lower)
};

// Defines every flag on `cli` and parses argv into `inv`. Returns a usage error (exit 2, "...
// (see --help)") or success; with `stdout_closed`, exit 5 (nothing could print the table).
// --dataset fashion-mnist without --data sets config.data to fashion_mnist_dir.
Outcome parse_command_line(CLI::App& cli, int argc, char** argv, bool stdout_closed, Invocation& inv);

}  // namespace mnist_app
