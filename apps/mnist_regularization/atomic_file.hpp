// The app's names for the library's files written whole or not at all
// (<xtgrad/io/atomic_file.hpp>): an OutputError (exit 5) is an io::WriteError.
#pragma once

#include "xtgrad/io/atomic_file.hpp"

namespace mnist_app {

// An output (a result file, a plot, a checkpoint, standard output) could not be written.
// The message names the file and the OS reason, e.g. "no space left on device".
using OutputError = xtgrad::io::WriteError;

using xtgrad::io::commit_file;
using xtgrad::io::os_reason;
using xtgrad::io::write_file_atomically;
using xtgrad::io::write_whole_file;

}  // namespace mnist_app
